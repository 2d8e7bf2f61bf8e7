/* What the CPU supports and which BLAS kernels run on it: pa_cpu_info_get, pa_blas_info_get,
 * the "weaker than the CPU allows" rule and a short sgemm measurement. */
#include "common.h"

#include <cblas.h>
#include <stdlib.h>
#include <strings.h>
#include <stdatomic.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define PA_X86 1
#endif
#if defined(__x86_64__) && defined(__linux__)
#include <sys/syscall.h>
#define PA_AMX_LINUX 1
#define PA_ARCH_REQ_XCOMP_PERM 0x1023 /* arch_prctl code (asm/prctl.h) */
#define PA_XFEATURE_XTILEDATA 18      /* the tile-data state component */
#endif

/* sgemm sizes pa_blas_sgemm_gflops accepts */
#define PA_SGEMM_MIN_N 16u
#define PA_SGEMM_MAX_N 4096u
#define PA_SGEMM_TIMED_RUNS 3

static const struct {
    uint32_t bit;
    const char *name;
} cpu_features[] = {
    {PA_CPU_AVX2, "avx2"},         {PA_CPU_FMA, "fma"},
    {PA_CPU_AVX512F, "avx512f"},   {PA_CPU_AVX512BW, "avx512bw"},
    {PA_CPU_AVX512VL, "avx512vl"}, {PA_CPU_AVX512DQ, "avx512dq"},
    {PA_CPU_AVX512CD, "avx512cd"}, {PA_CPU_AVX512VNNI, "avx512vnni"},
    {PA_CPU_AMX_BF16, "amx-bf16"},
};

/* The AVX-512 subsets OpenBLAS's SkylakeX kernels use. */
#define PA_CPU_SKYLAKEX_SET \
    (PA_CPU_AVX512F | PA_CPU_AVX512BW | PA_CPU_AVX512VL | PA_CPU_AVX512DQ | PA_CPU_AVX512CD)

/* OpenBLAS cores (openblas_get_corename() names) whose sgemm kernels use no AVX2: generic or
 * SSE/AVX-only kernels. "Unknown" is what it reports when detection failed. */
static const char *const weak_cores[] = {
    "Unknown", "Generic",   "Katmai",       "Coppermine",  "Northwood",  "Prescott",
    "Banias",  "Atom",      "Core2",        "Penryn",      "Dunnington", "Nehalem",
    "Athlon",  "Opteron",   "Opteron_SSE3", "Barcelona",   "Nano",       "Sandybridge",
    "Bobcat",  "Bulldozer", "Piledriver",   "Steamroller",
};

static void copy_str(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

/* Zeroes an info struct and sets its struct_size (its first field) to size. */
static void info_zero(void *info, size_t size)
{
    memset(info, 0, size);
    memcpy(info, &size, sizeof size);
}

/* Copies the filled struct into the caller's, as much of it as the caller's struct_size holds. */
static pa_status copy_out(void *out, const void *full, size_t full_size, const char *what)
{
    if (!out)
        return pa_fail(PA_ERR_INVALID, "%s: out is NULL", what);
    size_t out_size;
    memcpy(&out_size, out, sizeof out_size);
    if (out_size < PA_STRUCT_SIZE_MIN)
        return pa_fail(PA_ERR_INVALID,
                       "%s: size %zu is too small (set struct_size to sizeof "
                       "the struct)",
                       what, out_size);
    pa_stats_store(out, full, full_size);
    return PA_OK;
}

static uint32_t detect_features(void)
{
    uint32_t f = 0;
#ifdef PA_X86
    /* __builtin_cpu_supports also checks that the OS saves the AVX / AVX-512 registers */
    __builtin_cpu_init();
    /* __builtin_cpu_supports takes only string literals, hence one test per feature */
    const uint32_t has[] = {
        __builtin_cpu_supports("avx2") ? PA_CPU_AVX2 : 0u,
        __builtin_cpu_supports("fma") ? PA_CPU_FMA : 0u,
        __builtin_cpu_supports("avx512f") ? PA_CPU_AVX512F : 0u,
        __builtin_cpu_supports("avx512bw") ? PA_CPU_AVX512BW : 0u,
        __builtin_cpu_supports("avx512vl") ? PA_CPU_AVX512VL : 0u,
        __builtin_cpu_supports("avx512dq") ? PA_CPU_AVX512DQ : 0u,
        __builtin_cpu_supports("avx512cd") ? PA_CPU_AVX512CD : 0u,
        __builtin_cpu_supports("avx512vnni") ? PA_CPU_AVX512VNNI : 0u,
    };
    for (size_t i = 0; i < sizeof has / sizeof has[0]; i++)
        f |= has[i];
#endif
    if (pa_cpu_amx_usable())
        f |= PA_CPU_AMX_BF16;
    return f;
}

/* 1 usable, 0 not (amx_reason says why), -1 not checked yet. */
static _Atomic int amx_usable = -1;
static const char *amx_reason = "";

/* Checks the CPU and the OS, then asks for the tile-data permission (once per process). */
static int amx_check(void)
{
#ifdef PA_AMX_LINUX
    unsigned a, b, c, d;
    __builtin_cpu_init();
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d & (1u << 24)) || !(d & (1u << 22))) {
        amx_reason = "off (the CPU has no AMX-BF16)";
        return 0;
    }
    unsigned a1, b1, c1, d1;
    if (!__builtin_cpu_supports("avx512f") || !__get_cpuid_count(7, 1, &a1, &b1, &c1, &d1) ||
        !(a1 & (1u << 5))) {
        amx_reason = "off (the CPU has no AVX512-BF16)";
        return 0;
    }
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0)); /* OSXSAVE: AVX-512F implies it */
    if ((lo & (3u << 17)) != (3u << 17)) {
        amx_reason = "off (the OS does not enable the tile state)";
        return 0;
    }
    if (syscall(SYS_arch_prctl, PA_ARCH_REQ_XCOMP_PERM, PA_XFEATURE_XTILEDATA) != 0) {
        amx_reason = "off (the kernel refused the tile-data permission)";
        return 0;
    }
    return 1;
#else
    amx_reason = "off (AMX is checked on x86-64 Linux only)";
    return 0;
#endif
}

bool pa_cpu_amx_usable(void)
{
    int u = atomic_load(&amx_usable);
    if (u < 0) {
        static atomic_flag busy = ATOMIC_FLAG_INIT;
        while (atomic_flag_test_and_set(&busy))
            ;
        if ((u = atomic_load(&amx_usable)) < 0)
            atomic_store(&amx_usable, u = amx_check());
        atomic_flag_clear(&busy);
    }
    return u == 1;
}

const char *pa_cpu_amx_reason(void) { return pa_cpu_amx_usable() ? "" : amx_reason; }

bool pa_cpu_bf16_usable(void)
{
#ifdef PA_X86
    unsigned a, b, c, d;
    __builtin_cpu_init(); /* __builtin_cpu_supports also checks the OS saves the zmm state */
    return __builtin_cpu_supports("avx512f") && __get_cpuid_count(7, 1, &a, &b, &c, &d) &&
           (a & (1u << 5));
#else
    return false;
#endif
}

/* Drops leading and trailing blanks in place (brand strings are padded). */
static void trim(char *s)
{
    size_t start = 0, len = strlen(s);
    while (s[start] == ' ')
        start++;
    while (len > start && s[len - 1] == ' ')
        len--;
    memmove(s, s + start, len - start);
    s[len - start] = '\0';
}

pa_status pa_cpu_info_get(pa_cpu_info *out)
{
    pa_cpu_info info;
    info_zero(&info, sizeof info);
#ifdef PA_X86
    unsigned a, b, c, d;
    if (__get_cpuid(0, &a, &b, &c, &d)) {
        memcpy(info.vendor, &b, 4);
        memcpy(info.vendor + 4, &d, 4);
        memcpy(info.vendor + 8, &c, 4);
    }
    if (__get_cpuid(0x80000000u, &a, &b, &c, &d) && a >= 0x80000004u) {
        unsigned regs[12];
        for (unsigned i = 0; i < 3; i++)
            __get_cpuid(0x80000002u + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2],
                        &regs[4 * i + 3]);
        memcpy(info.model, regs, sizeof regs); /* 48 bytes, NUL-padded, fits model[64] */
        trim(info.model);
    }
#endif
    info.features = detect_features();
    size_t used = 0;
    for (size_t i = 0; i < sizeof cpu_features / sizeof cpu_features[0]; i++)
        if (info.features & cpu_features[i].bit) {
            int n = snprintf(info.feature_names + used, sizeof info.feature_names - used, "%s%s",
                             used ? " " : "", cpu_features[i].name);
            if (n > 0)
                used = PA_MIN(used + (size_t)n, sizeof info.feature_names - 1);
        }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    info.cpus = cpus > 0 ? (uint32_t)cpus : 1;
    return copy_out(out, &info, sizeof info, "pa_cpu_info_get");
}

const char *pa_blas_core_for(uint32_t features)
{
    if ((features & PA_CPU_SKYLAKEX_SET) == PA_CPU_SKYLAKEX_SET)
        return "SkylakeX";
    if ((features & (PA_CPU_AVX2 | PA_CPU_FMA)) == (PA_CPU_AVX2 | PA_CPU_FMA))
        return "Haswell";
    return NULL;
}

int pa_blas_core_is_weak(const char *core, uint32_t features)
{
    if (!core || !pa_blas_core_for(features))
        return 0;
    for (size_t i = 0; i < sizeof weak_cores / sizeof weak_cores[0]; i++)
        if (!strcasecmp(core, weak_cores[i]))
            return 1;
    return 0;
}

pa_status pa_blas_info_get(pa_blas_info *out)
{
    pa_blas_info info;
    info_zero(&info, sizeof info);
    copy_str(info.config, sizeof info.config, openblas_get_config());
    trim(info.config);
    copy_str(info.core, sizeof info.core, openblas_get_corename());
    int nt = openblas_get_num_threads();
    info.threads = nt > 0 ? (uint32_t)nt : 1;
    copy_str(info.coretype_env, sizeof info.coretype_env, getenv(PA_BLAS_CORETYPE_ENV));
    uint32_t features = detect_features();
    copy_str(info.recommended_core, sizeof info.recommended_core, pa_blas_core_for(features));
    info.weak = pa_blas_core_is_weak(info.core, features);
    if (info.weak)
        snprintf(info.advice, sizeof info.advice,
                 "OpenBLAS runs its %s kernels on a CPU that allows %s: set %s=%s in the "
                 "environment before the library is loaded",
                 info.core, info.recommended_core, PA_BLAS_CORETYPE_ENV, info.recommended_core);
    return copy_out(out, &info, sizeof info, "pa_blas_info_get");
}

pa_status pa_rate_args(const char *fn, uint32_t n, uint32_t lo, uint32_t hi, const double *gflops)
{
    if (!gflops)
        return pa_fail(PA_ERR_INVALID, "%s: gflops is NULL", fn);
    if (n < lo || n > hi)
        return pa_fail(PA_ERR_INVALID, "%s: n %u is outside [%u, %u]", fn, n, lo, hi);
    return PA_OK;
}

double pa_time_best(void (*run)(void *ctx), void *ctx, int runs)
{
    double best = 0;
    for (int r = 0; r <= runs; r++) { /* run 0 is the warm-up */
        double t0 = pa_now_seconds();
        run(ctx);
        double t = pa_now_seconds() - t0;
        if (r > 0 && (best == 0 || t < best))
            best = t;
    }
    return best;
}

/* One sgemm of the measurement (pa_time_best's callback). */
typedef struct sgemm_measure {
    const float *a, *b;
    float *c;
    int n;
} sgemm_measure;

static void sgemm_measure_run(void *ctx)
{
    const sgemm_measure *m = ctx;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m->n, m->n, m->n, 1.0f, m->a, m->n, m->b,
                m->n, 0.0f, m->c, m->n);
}

pa_status pa_blas_sgemm_gflops(uint32_t n, double *gflops)
{
    pa_status st = pa_rate_args("pa_blas_sgemm_gflops", n, PA_SGEMM_MIN_N, PA_SGEMM_MAX_N, gflops);
    if (st != PA_OK)
        return st;
    size_t nn = (size_t)n * n;
    float *a = NULL, *b = NULL, *c = NULL;
    a = pa_malloc(nn * sizeof *a, "sgemm measurement matrix A");
    b = pa_malloc(nn * sizeof *b, "sgemm measurement matrix B");
    c = pa_malloc(nn * sizeof *c, "sgemm measurement matrix C");
    if (!a || !b || !c) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < nn; i++) {
        a[i] = (float)(i % 17) * 0.0625f - 0.5f;
        b[i] = (float)(i % 13) * 0.125f - 0.75f;
    }
    sgemm_measure m = {.a = a, .b = b, .c = c, .n = (int)n};
    double best = pa_time_best(sgemm_measure_run, &m, PA_SGEMM_TIMED_RUNS);
    *gflops = best > 0 ? 2.0 * (double)n * n * n / best / 1e9 : 0;
done:
    free(a);
    free(b);
    free(c);
    return st;
}
