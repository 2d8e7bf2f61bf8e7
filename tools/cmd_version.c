/* partifact --version [--verbose] [--json]: the version; verbose, also the CPU, its SIMD
 * features, the BLAS and its kernels (and whether the CLI corrected them) and a measured sgemm
 * rate, so that every figure can name the machine and kernels it was measured with. */
#include "tools/cli.h"

#include <string.h>

/* the sgemm measured: n x n x n, a fraction of a second even on generic kernels */
#define PA_CLI_SGEMM_N 1024

/* How the core in use came to be chosen. */
static const char *core_source(const pa_blas_info *blas, const char *corrected_from)
{
    if (corrected_from)
        return "corrected";
    return blas->coretype_env[0] ? "environment" : "openblas";
}

static void print_json(const pa_cpu_info *cpu, const pa_blas_info *blas,
                       const char *corrected_from, double gflops)
{
    printf("{\"version\":");
    pa_cli_json_string(stdout, pa_version());
    printf(",\"cpu\":{\"vendor\":");
    pa_cli_json_string(stdout, cpu->vendor);
    printf(",\"model\":");
    pa_cli_json_string(stdout, cpu->model);
    printf(",\"cpus\":%u,\"features\":", cpu->cpus);
    pa_cli_json_string(stdout, cpu->feature_names);
    printf("},\"blas\":{\"config\":");
    pa_cli_json_string(stdout, blas->config);
    printf(",\"core\":");
    pa_cli_json_string(stdout, blas->core);
    printf(",\"source\":\"%s\",\"corrected_from\":", core_source(blas, corrected_from));
    if (corrected_from)
        pa_cli_json_string(stdout, corrected_from);
    else
        printf("null");
    printf(",\"recommended_core\":");
    pa_cli_json_string(stdout, blas->recommended_core);
    printf(",\"weak\":%s,\"threads\":%u},\"sgemm\":{\"n\":%d,\"gflops\":%.1f}}\n",
           blas->weak ? "true" : "false", blas->threads, PA_CLI_SGEMM_N, gflops);
}

int pa_cli_version(int argc, char **argv, const char *corrected_from)
{
    bool verbose = false, json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v"))
            verbose = true;
        else if (!strcmp(argv[i], "--json"))
            json = verbose = true;
        else
            return pa_cli_error("--version", "unknown option \"%s\" (--verbose, --json)", argv[i]);
    }
    if (!verbose) {
        printf("partifact %s\n", pa_version());
        return 0;
    }
    pa_cpu_info cpu = {.struct_size = sizeof cpu};
    pa_blas_info blas = {.struct_size = sizeof blas};
    double gflops = 0;
    pa_status st = pa_cpu_info_get(&cpu);
    if (st == PA_OK)
        st = pa_blas_info_get(&blas);
    if (st == PA_OK)
        st = pa_blas_sgemm_gflops(PA_CLI_SGEMM_N, &gflops);
    if (st != PA_OK)
        return pa_cli_fail("--version", st);
    if (json) {
        print_json(&cpu, &blas, corrected_from, gflops);
        return 0;
    }
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
    printf("sgemm: %d^3, best of 3 after a warm-up: %.1f GFLOP/s\n", PA_CLI_SGEMM_N, gflops);
    return 0;
}
