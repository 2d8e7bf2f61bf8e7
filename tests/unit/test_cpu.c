/* The CPU / BLAS diagnostics: the "weaker than the CPU allows" rule as a table over core name x
 * feature set, the core recommended for a feature set, and the live calls (fields filled, sane
 * values, the struct-size contract, bad arguments). */
#include "partifact.h"
#include "test.h"

#include <stdint.h>
#include <unistd.h>

#define AVX2_CPU (PA_CPU_AVX2 | PA_CPU_FMA)
#define AVX512_CPU                                                                     \
    (AVX2_CPU | PA_CPU_AVX512F | PA_CPU_AVX512BW | PA_CPU_AVX512VL | PA_CPU_AVX512DQ | \
     PA_CPU_AVX512CD)

static void test_core_for(void)
{
    static const struct {
        uint32_t features;
        const char *core; /* NULL: none */
    } rows[] = {
        {0, NULL},
        {PA_CPU_AVX2, NULL}, /* AVX2 without FMA: Haswell kernels would fault */
        {PA_CPU_FMA, NULL},
        {AVX2_CPU, "Haswell"},
        {AVX2_CPU | PA_CPU_AVX512F, "Haswell"}, /* AVX-512F alone (Knights Landing) */
        {AVX2_CPU | PA_CPU_AVX512F | PA_CPU_AVX512BW | PA_CPU_AVX512VL | PA_CPU_AVX512DQ,
         "Haswell"},
        {AVX512_CPU, "SkylakeX"},
        {AVX512_CPU | PA_CPU_AVX512VNNI, "SkylakeX"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *got = pa_blas_core_for(rows[i].features);
        bool ok = rows[i].core ? got && !strcmp(got, rows[i].core) : got == NULL;
        if (!ok)
            fprintf(stderr, "core_for row %zu: features 0x%x gave %s\n", i, rows[i].features,
                    got ? got : "NULL");
        CHECK(ok);
    }
}

static void test_core_is_weak(void)
{
    static const struct {
        const char *core;
        uint32_t features;
        int weak;
    } rows[] = {
        /* generic and pre-AVX2 kernels on AVX-512 and AVX2 CPUs: weak */
        {"Prescott", AVX512_CPU, 1},
        {"Prescott", AVX2_CPU, 1},
        {"prescott", AVX512_CPU, 1}, /* any case */
        {"Nehalem", AVX512_CPU, 1},
        {"Sandybridge", AVX512_CPU, 1},
        {"Sandybridge", AVX2_CPU, 1},
        {"Core2", AVX2_CPU, 1},
        {"Atom", AVX2_CPU, 1},
        {"Unknown", AVX512_CPU, 1},
        {"Barcelona", AVX2_CPU, 1},
        {"Bulldozer", AVX2_CPU, 1},
        /* the same cores on CPUs that allow nothing better: not weak */
        {"Prescott", 0, 0},
        {"Sandybridge", PA_CPU_AVX2, 0},
        {"Nehalem", PA_CPU_FMA, 0},
        /* AVX2 / AVX-512 kernels: never weak */
        {"Haswell", AVX2_CPU, 0},
        {"Haswell", AVX512_CPU, 0}, /* OpenBLAS's choice on AMD Zen 4 / 5: left alone */
        {"Zen", AVX512_CPU, 0},
        {"SkylakeX", AVX512_CPU, 0},
        {"Cooperlake", AVX512_CPU, 0},
        {"SapphireRapids", AVX512_CPU, 0},
        /* a name we do not know is not corrected */
        {"FutureLake", AVX512_CPU, 0},
        {"", AVX512_CPU, 0},
        {NULL, AVX512_CPU, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int got = pa_blas_core_is_weak(rows[i].core, rows[i].features);
        if (got != rows[i].weak)
            fprintf(stderr, "is_weak row %zu: %s on 0x%x gave %d\n", i,
                    rows[i].core ? rows[i].core : "NULL", rows[i].features, got);
        CHECK(got == rows[i].weak);
    }
}

static void test_live(void)
{
    pa_cpu_info cpu = {.struct_size = sizeof cpu};
    CHECK_OK(pa_cpu_info_get(&cpu));
    CHECK(cpu.struct_size == sizeof cpu);
    CHECK(cpu.cpus >= 1 && cpu.cpus == (uint32_t)sysconf(_SC_NPROCESSORS_ONLN));
#if defined(__x86_64__)
    CHECK(strlen(cpu.vendor) == 12);
    CHECK(cpu.model[0] != '\0' && cpu.model[0] != ' ');
#endif
    /* the names list exactly the bits set */
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {{PA_CPU_AVX2, "avx2"},
                 {PA_CPU_AVX512F, "avx512f"},
                 {PA_CPU_AVX512VNNI, "avx512vnni"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        CHECK(!(cpu.features & names[i].bit) == !strstr(cpu.feature_names, names[i].name));
    /* AVX-512 implies AVX2 on every CPU made */
    CHECK(!(cpu.features & PA_CPU_AVX512F) || (cpu.features & PA_CPU_AVX2));

    pa_blas_info blas = {.struct_size = sizeof blas};
    CHECK_OK(pa_blas_info_get(&blas));
    CHECK(strstr(blas.config, "OpenBLAS") == blas.config);
    CHECK(blas.core[0] != '\0');
    CHECK(strstr(blas.config, blas.core) != NULL); /* the config names the core in use */
    CHECK(blas.threads >= 1);
    const char *env = getenv(PA_BLAS_CORETYPE_ENV);
    CHECK(!strcmp(blas.coretype_env, env ? env : ""));
    CHECK(blas.weak == pa_blas_core_is_weak(blas.core, cpu.features));
    const char *rec = pa_blas_core_for(cpu.features);
    CHECK(!strcmp(blas.recommended_core, rec ? rec : ""));
    if (blas.weak) { /* the advice names the variable and the value to set */
        char want[96];
        snprintf(want, sizeof want, "set %s=%s", PA_BLAS_CORETYPE_ENV, blas.recommended_core);
        CHECK(strstr(blas.advice, want) != NULL);
    } else {
        CHECK(blas.advice[0] == '\0');
    }

    /* a caller with an older, shorter struct: only what fits is written */
    unsigned char buf[sizeof(pa_blas_info) + 8];
    memset(buf, 0xAB, sizeof buf);
    size_t old_size = offsetof(pa_blas_info, threads);
    memcpy(buf, &old_size, sizeof old_size);
    CHECK_OK(pa_blas_info_get((pa_blas_info *)(void *)buf));
    CHECK(!strcmp((const char *)buf + offsetof(pa_blas_info, core), blas.core));
    bool untouched = true;
    for (size_t i = old_size; i < sizeof buf; i++)
        untouched = untouched && buf[i] == 0xAB;
    CHECK(untouched);

    double gflops = 0;
    CHECK_OK(pa_blas_sgemm_gflops(64, &gflops));
    CHECK(gflops > 0.01 && gflops < 1e5); /* sane, not timed */

    /* bad arguments */
    pa_cpu_info tiny = {.struct_size = 1};
    CHECK_ERR(pa_cpu_info_get(&tiny), PA_ERR_INVALID, "pa_cpu_info_get: size 1 is too small");
    CHECK_ERR(pa_cpu_info_get(NULL), PA_ERR_INVALID, "pa_cpu_info_get: out is NULL");
    CHECK_ERR(pa_blas_info_get(NULL), PA_ERR_INVALID, "pa_blas_info_get: out is NULL");
    CHECK_ERR(pa_blas_sgemm_gflops(8, &gflops), PA_ERR_INVALID,
              "pa_blas_sgemm_gflops: n 8 is outside [16, 4096]");
    CHECK_ERR(pa_blas_sgemm_gflops(5000, &gflops), PA_ERR_INVALID, "n 5000 is outside");
}

int main(int argc, char **argv)
{
    TEST_ARGS(argc, argv);
    RUN(test_core_for());
    RUN(test_core_is_weak());
    RUN(test_live());
    TEST_DONE();
}
