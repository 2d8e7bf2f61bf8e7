/* partifact --version [--verbose] [--json]: the version; verbose, also the CPU, its SIMD
 * features, the BLAS and its kernels (and whether the CLI corrected them) and a measured sgemm
 * rate, so that every figure can name the machine and kernels it was measured with. */
#include "tools/cli.h"

#include <stdlib.h>


/* the sgemm measured: n x n x n, a fraction of a second even on generic kernels */
#define PA_CLI_SGEMM_N 1024

/* How the core in use came to be chosen. */
static const char *core_source(const pa_blas_info *blas, const char *corrected_from)
{
    if (corrected_from)
        return "corrected";
    return blas->coretype_env[0] ? "environment" : "openblas";
}

/* OpenMP's wait as libgomp read it at start: the variable that sets it ("" for libgomp's
 * default), its value, and who set it. */
static void omp_wait(bool omp_set, const char **var, const char **value, const char **source)
{
    *var = getenv("GOMP_SPINCOUNT")    ? "GOMP_SPINCOUNT"
           : getenv("OMP_WAIT_POLICY") ? "OMP_WAIT_POLICY"
                                       : "";
    *value = *var[0] ? getenv(*var) : "";
    *source = omp_set ? "partifact" : *var[0] ? "environment" : "default";
}

/* the AMX kernel measured: rows against PA_AMX_MEASURE_K centroids of PA_AMX_MEASURE_DIM */
#define PA_CLI_AMX_ROWS 65536

static pa_status print_json(const pa_cpu_info *cpu, const pa_blas_info *blas,
                            const char *corrected_from, bool omp_set, double gflops,
                            double amx_gflops)
{
    json_t *j = NULL;
    const char *var, *value, *source;
    omp_wait(omp_set, &var, &value, &source);
    const bool amx = !strcmp(pa_amx_state(), "used");
    return pa_cli_json_print(
        pa_json_pack(&j, "--version --json",
                     "{s:s, s:{s:o, s:o, s:i, s:o}, s:{s:o, s:o, s:s, s:o, s:o, s:b, s:i}, "
                     "s:{s:i, s:o}, s:{s:o, s:o, s:s}, s:{s:b, s:s, s:i, s:i, s:i, s:o}, "
                     "s:{s:b, s:s}}",
                     "version", pa_version(), "cpu", "vendor", pa_json_display_string(cpu->vendor),
                     "model", pa_json_display_string(cpu->model), "cpus", (int)cpu->cpus,
                     "features", pa_json_display_string(cpu->feature_names), "blas", "config",
                     pa_json_display_string(blas->config), "core",
                     pa_json_display_string(blas->core), "source",
                     core_source(blas, corrected_from), "corrected_from",
                     pa_json_display_string(corrected_from), "recommended_core",
                     pa_json_display_string(blas->recommended_core), "weak", blas->weak ? 1 : 0,
                     "threads", (int)blas->threads, "sgemm", "n", PA_CLI_SGEMM_N, "gflops",
                     pa_json_real_rounded(gflops, 1), "openmp_wait", "variable",
                     pa_json_display_string(var[0] ? var : NULL), "value",
                     pa_json_display_string(var[0] ? value : NULL), "set_by", source, "amx", "used",
                     amx ? 1 : 0, "state", pa_amx_state(), "rows", PA_CLI_AMX_ROWS, "k",
                     PA_AMX_MEASURE_K, "dim", PA_AMX_MEASURE_DIM, "gflops",
                     amx ? pa_json_real_rounded(amx_gflops, 1) : json_null(), "bf16", "used",
                     !strcmp(pa_bf16_state(), "used") ? 1 : 0, "state", pa_bf16_state()),
        &j);
}

int pa_cli_version(int argc, char **argv, const char *corrected_from, bool omp_set)
{
    bool verbose = false, json = false;
    pa_cli_opt opts[] = {
        PA_CLI_FLAG("verbose", &verbose, "also the CPU, SIMD, the BLAS and a measured sgemm rate",
                    .short_name = 'v'),
        PA_CLI_FLAG("json", &json, "--verbose, as JSON"),
    };
    pa_cli_parse("--version", opts, PA_CLI_NOPTS(opts), NULL, argc, argv);
    verbose = verbose || json;
    if (!verbose) {
        printf("partifact %s\n", pa_version());
        return 0;
    }
    pa_cpu_info cpu = {.struct_size = sizeof cpu};
    pa_blas_info blas = {.struct_size = sizeof blas};
    double gflops = 0, amx_gflops = 0;
    pa_status st = pa_cpu_info_get(&cpu);
    if (st == PA_OK)
        st = pa_blas_info_get(&blas);
    if (st == PA_OK)
        st = pa_blas_sgemm_gflops(PA_CLI_SGEMM_N, &gflops);
    const bool amx = !strcmp(pa_amx_state(), "used");
    if (st == PA_OK && amx)
        st = pa_amx_gflops(PA_CLI_AMX_ROWS, &amx_gflops);
    if (st != PA_OK)
        return pa_cli_fail("--version", st);
    if (json)
        return (st = print_json(&cpu, &blas, corrected_from, omp_set, gflops, amx_gflops)) == PA_OK
                   ? 0
                   : pa_cli_fail("--version", st);
    printf("partifact %s\n", pa_version());
    printf("cpu: %s (%s), %u logical CPUs\n", cpu.model[0] ? cpu.model : "unknown",
           cpu.vendor[0] ? cpu.vendor : "unknown vendor", cpu.cpus);
    printf("simd: %s\n", cpu.feature_names[0] ? cpu.feature_names : "none of avx2, fma, avx512*");
    printf("blas: %s\n", blas.config);
    printf("blas core: %s, %u threads; ", blas.core, blas.threads);
    if (corrected_from)
        printf("corrected from %s by partifact (%s=%s)\n", corrected_from, PA_BLAS_CORETYPE_ENV,
               blas.coretype_env);
    else if (blas.coretype_env[0])
        printf("set by %s=%s\n", PA_BLAS_CORETYPE_ENV, blas.coretype_env);
    else
        printf("chosen by OpenBLAS\n");
    if (blas.weak)
        printf("blas warning: %s\n", blas.advice);
    const char *var, *value, *source;
    omp_wait(omp_set, &var, &value, &source);
    if (var[0])
        printf("openmp wait: %s=%s, %s\n", var, value,
               omp_set ? "set by partifact (PARTIFACT_OMP_AUTO=0 leaves libgomp's default)"
                       : "set in the environment");
    else
        printf("openmp wait: libgomp's default\n");
    printf("sgemm: %d^3, best of 3 after a warm-up: %.1f GFLOP/s\n", PA_CLI_SGEMM_N, gflops);
    if (amx)
        printf("amx: used (nearest centroid, %d rows x %d centroids x %d dims, best of 3 after a "
               "warm-up: %.1f GFLOP/s fp32-equivalent)\n",
               PA_CLI_AMX_ROWS, PA_AMX_MEASURE_K, PA_AMX_MEASURE_DIM, amx_gflops);
    else
        printf("amx: %s\n", pa_amx_state());
    printf("bf16: %s%s\n", pa_bf16_state(),
           strcmp(pa_bf16_state(), "used") ? ""
                                           : " (nearest centroid: AVX512-BF16 candidates, the fp32 "
                                             "decision; PA_BF16=1 turned it on)");
    return 0;
}
