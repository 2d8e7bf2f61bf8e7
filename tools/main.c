/* partifact — command-line tool. Each subcommand parses its options, calls the library, and on
 * failure prints one line "partifact <cmd>: <what and where>" to stderr and exits 2. */
#include "partifact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/cli.h"

static const struct pa_cli_command commands[] = {
    {"build", "the whole IVF_PQ build: train, encode into an artifact, finalize the index", pa_cmd_build},
    {"train", "train an IVF_PQ model (k-means + PQ) on vectors; --encode times assign + encode", pa_cmd_train},
    {"encode", "assign + encode vectors with a backend into a partition artifact", pa_cmd_encode},
    {"finalize", "write an IVF_PQ index from an artifact (or a rows file, re-grouped)", pa_cmd_finalize},
    {"search", "search an index (ADC, optional refine); QPS and recall@k", pa_cmd_search},
    {"groundtruth", "exact k nearest neighbours of queries, as .ivecs or .npy", pa_cmd_groundtruth},
    {"index-info", "print an index's parameters, rows and partition sizes", pa_cmd_index_info},
    {"commit", "commit an index built from a Lance table into the table (a new version)", pa_cmd_commit},
    {"table-info", "print a Lance table's versions, fragments, columns and indexes", pa_cmd_table_info},
    {"export-rows", "write an artifact's rows into one Lance file (input of finalize --rows)", pa_cmd_export_rows},
    {"gen-vectors", "write clustered vectors (.fvecs) with a fixed seed, for demos and benchmarks", pa_cmd_gen_vectors},
    {"lance-info", "print a Lance file's or dataset's schema, rows and layout", pa_cmd_lance_info},
    {"lance-gen", "write a Lance file of generated rows (used by the demo and tests)", pa_cmd_lance_gen},
    {"inspect", "print a partition artifact's rows, partition skew and ranges", pa_cmd_inspect},
    {"verify", "check a partition artifact completely (checksums, ranges, part ids)", pa_cmd_verify},
    {"artifact-gen", "stream synthetic rows into a partition artifact (tests, benchmarks)", pa_cmd_artifact_gen},
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: partifact <command> [options]\n"
            "       partifact --version [--verbose] [--json] | --help\n\n"
            "Build IVF_PQ vector indexes through a partition artifact.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].help);
    fprintf(out, "\nRun 'partifact <command> --help' for a command's options.\n");
}

/* Set by the parent of a re-executed partifact: the core OpenBLAS had chosen by itself. */
#define PA_BLAS_GUARD_ENV "PARTIFACT_BLAS_CORRECTED_FROM"
/* "0" turns the correction below off. */
#define PA_BLAS_AUTO_ENV "PARTIFACT_BLAS_AUTO"
/* Tests only: the core to treat as the one OpenBLAS chose (to exercise the re-exec on a CPU
 * where OpenBLAS already picks good kernels). */
#define PA_BLAS_TEST_CORE_ENV "PARTIFACT_BLAS_TEST_CORE"

/* OpenBLAS picks its kernels when it is loaded, before main. If it picked kernels weaker than
 * the CPU allows (generic ones on an AVX2 / AVX-512 CPU) and the user did not choose a core,
 * run this program again, once, with OPENBLAS_CORETYPE set to the right core. Returns the
 * core corrected from in the re-executed process (NULL if no correction took place). */
static const char *blas_correct(char **argv)
{
    static char from[32];
    const char *guard = getenv(PA_BLAS_GUARD_ENV);
    if (guard) { /* we are the re-executed process: never again */
        snprintf(from, sizeof from, "%s", guard);
        unsetenv(PA_BLAS_GUARD_ENV);
        return getenv(PA_BLAS_CORETYPE_ENV) ? from : NULL;
    }
    const char *automatic = getenv(PA_BLAS_AUTO_ENV);
    if (getenv(PA_BLAS_CORETYPE_ENV) || (automatic && !strcmp(automatic, "0")))
        return NULL;
    pa_cpu_info cpu = {.struct_size = sizeof cpu};
    pa_blas_info blas = {.struct_size = sizeof blas};
    if (pa_cpu_info_get(&cpu) != PA_OK || pa_blas_info_get(&blas) != PA_OK)
        return NULL;
    const char *core = getenv(PA_BLAS_TEST_CORE_ENV) ? getenv(PA_BLAS_TEST_CORE_ENV) : blas.core;
    if (!pa_blas_core_is_weak(core, cpu.features))
        return NULL;
    setenv(PA_BLAS_CORETYPE_ENV, pa_blas_core_for(cpu.features), 1);
    setenv(PA_BLAS_GUARD_ENV, core, 1);
    execv("/proc/self/exe", argv);
    unsetenv(PA_BLAS_CORETYPE_ENV); /* exec failed: run on with the kernels we have */
    unsetenv(PA_BLAS_GUARD_ENV);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *blas_corrected_from = blas_correct(argv);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
        return pa_cli_version(argc - 1, argv + 1, blas_corrected_from);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "partifact: unknown command \"%s\" (see partifact --help)\n", argv[1]);
    return 2;
}
