/* partifact — command-line tool. Each subcommand parses its options by its table
 * (pa_cli_parse), calls the library, and on failure prints one line
 * "partifact <cmd>: <what and where>" to stderr and exits 2 (usage, bad input) or 1 (the
 * environment failed: I/O, memory); see PA_CLI_EXIT_HELP. */
#include "partifact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/cli.h"

/* The backend options' paragraph of build, train and encode. */
#define BACKEND_HELP                                                                          \
    "--backend-option KEY=VALUE (repeatable) is passed to the backend, which refuses a key\n" \
    "it does not know (the cpu backend takes none).\n"

/* The --help text of each command (its options' lines come from its table). */
static const char about_build[] =
    "Builds an IVF_PQ index from the vectors in X: trains the model on a seeded\n"
    "sample, assigns and encodes every row into a partition artifact (within\n"
    "--memory), and finalizes the index from it. Defaults: about sqrt(rows)\n"
    "partitions; sub-vectors of 8 dimensions (16 above 256 dimensions). The\n"
    "model and artifact go to --work-dir (a new directory; default\n"
    "INDEX.build-XXXXXX) and are removed at the end unless --keep-work; the\n"
    "work directories a killed build left (partifact's marker, unlocked) are\n"
    "removed too, and no other directory is written into or removed.\n" PA_CLI_FORCE_HELP
    "X: .fvecs, .bvecs, .npy (float32, float16, uint8) or a Lance dataset.\n" PA_CLI_TABLE_HELP
    "--commit: the index goes into the Lance table T as its next version (see\n"
    "partifact commit --help); --out then keeps a copy of it there.\n"
    "The backend (--accelerator, default cpu) trains the model and encodes.\n" BACKEND_HELP
    "--mpi (a partifact built with MPI; run under mpirun -n N): every rank trains\n"
    "with the others on its share of the sample, encodes its share of X (a run of\n"
    "the table's fragments, or of the file's rows) and finalizes its own segment\n"
    "(--one-segment: rank 0 finalizes every shard into one); after every rank\n"
    "succeeded rank 0 commits (--commit: the segments as one index) or writes --out\n"
    "(a directory of segment-RRRR indexes, or the index with --one-segment). Any\n"
    "rank's failure ends the job with nothing committed. See docs/scale-out.md.\n";

static const char about_train[] =
    "Trains an IVF_PQ model (coarse k-means, then PQ codebooks on residuals) on a\n"
    "seeded random sample of sample-rate x partitions rows (the PQ codebooks on a\n"
    "larger one when the input has the rows) and saves it as a Lance file. The same\n"
    "seed and input give a byte-identical model. --encode also assigns and encodes\n"
    "every row (timed) and reports the PQ mean squared reconstruction error.\n"
    "X: .fvecs, .bvecs, .npy (float32, float16, uint8) or a Lance dataset.\n"
    "The model is written under a temporary name and renamed into place.\n" PA_CLI_FORCE_HELP
        PA_CLI_TABLE_HELP
    "The backend (--accelerator: the built-in cpu, or libpartifact-backend-NAME.so from\n"
    "--backend-path, $PARTIFACT_BACKEND_PATH or <prefix>/lib/partifact) trains the model\n"
    "(and encodes, with --encode).\n" BACKEND_HELP;

static const char about_encode[] =
    "Assigns every row of X to its partition and encodes its PQ code with a\n"
    "backend (the built-in cpu, or libpartifact-backend-NAME.so from\n"
    "--backend-path, $PARTIFACT_BACKEND_PATH or <prefix>/lib/partifact), and\n"
    "streams (row_id, part_id, code) into a partition artifact (Lance's layout:\n"
    "bucket files of _rowid and __pq_code, the model as metadata.lance; see\n"
    "docs/artifact-format.md). --memory bounds\n"
    "the model, the input batch and the input's read buffer for it (a Lance\n"
    "table's scan batch is sized from it), the cpu backend's working blocks and\n"
    "the artifact writer's buffers; what does not fit is refused before any work.\n"
    "--batch (default below) is lowered so that a batch and the backend's working\n"
    "memory for it take at most a quarter of --memory.\n"
    "The artifact is written in a new directory beside ARTIFACT and renamed\n"
    "into place when complete.\n"
    "One shard of a distributed build: --fragments LIST encodes only those fragments\n"
    "of a Lance table (row ids stay its row addresses), --rows FROM:TO only rows\n"
    "[FROM, TO) of a file (row ids stay FROM..TO-1). The artifact records what it\n"
    "covers (the table, version and fragments, or the file and rows), so that\n"
    "finalize over several shards refuses overlaps.\n" PA_CLI_FORCE_HELP PA_CLI_TABLE_HELP
        BACKEND_HELP;

static const char about_finalize[] =
    "Writes an IVF_PQ index directory (index.idx + auxiliary.idx, LanceDB's layout).\n"
    "--artifact reads each partition's recorded ranges once, in order, with\n"
    "read-ahead (--memory bounds the read-ahead); the model defaults to the one the\n"
    "manifest records (or the artifact's metadata.lance) and must match it; an\n"
    "artifact in Lance's layout from another program takes its metadata.lance or\n"
    "--model, and partifact 0.1's artifacts are read too. --rows takes a Lance file of (row_id,\n"
    "part_id, pq_code) in any order and re-groups it by partition within --memory,\n"
    "spilling sorted runs to --tmp (default: next to INDEX). Both write the same\n"
    "index. INDEX is written in a new directory INDEX.partial-XXXXXX and renamed\n"
    "into place when complete; those a killed finalize left (partifact's marker,\n"
    "unlocked) are removed.\n"
    "--artifact given several times finalizes the shards of one build (encode\n"
    "--fragments or --rows, one model) into one index segment: each partition is\n"
    "read from every shard's ranges in turn, nothing is rewritten, and the result\n"
    "equals the index of one artifact of all the rows. Shards of different models\n"
    "or shapes, of different inputs, or that overlap are refused.\n" PA_CLI_FORCE_HELP;

static const char about_search[] =
    "Searches every query of Q (.fvecs, .bvecs, .npy, or a Lance dataset) with\n"
    "ADC over the --nprobes nearest partitions (more than the index has is\n"
    "clamped, with a warning). --refine-factor R re-ranks the k*R best by exact\n"
    "distance to the original vectors of X, the input the index was built from\n"
    "(row ids: ordinals in a file, row addresses in a Lance dataset). Prints\n"
    "QPS, and recall@k against --groundtruth. Distances: l2 and cosine squared\n"
    "Euclidean, dot the negated inner product (smaller is nearer). --repeat N\n"
    "searches the whole batch N times and reports the median time (benchmarks).\n"
    "--out is written under a temporary name and renamed into place.\n"
    "A 4-bit index is searched by the fast scan: tables quantised to bytes and\n"
    "looked up 32 rows at a time (AVX-512, AVX2 or portable code, the same\n"
    "results from each), then the k*R*F best (F: --rerank, default 2) re-ranked\n"
    "by their exact ADC distance; --no-fast-scan scans with the float tables.\n"
    "--memory SIZE bounds what the index holds (default: all of it in memory):\n"
    "the probed partitions are read on demand into a cache within SIZE; the\n"
    "results are the same.\n"
    "--index given several times searches the segments of one index (commit\n"
    "--segment) as LanceDB does: each segment, then the k best of all (--memory\n"
    "then bounds each segment).\n" PA_CLI_FORCE_HELP
    "--column applies to Q and X where they are tables, --version to X.\n" PA_CLI_TABLE_HELP;

static const char about_groundtruth[] =
    "Exact k nearest neighbours of every query among all rows of X (blocked\n"
    "sgemm, bounded memory), as row ids of X: .ivecs (int32) or .npy (uint64,\n"
    "for a Lance dataset's row addresses, fragment id << 32 | offset). --out is\n"
    "written under a temporary name and renamed into place.\n"
    "--skip-invalid leaves out (and counts) rows of X with NaN, infinities or\n"
    "values whose distances would overflow float.\n" PA_CLI_FORCE_HELP
    "--column applies to X and Q where they are tables, --version to X.\n" PA_CLI_TABLE_HELP;

static const char about_index_info[] =
    "Prints an IVF_PQ index's parameters, rows and partition sizes. --memory\n"
    "opens it as search --memory does (the rows are checked in a streaming pass).\n"
    "It also prints what a budget must hold: the bytes held whatever the budget\n"
    "(memory_fixed_bytes) and the least budget search --memory accepts\n"
    "(memory_min_bytes: those and the largest partition).\n";

static const char about_commit[] =
    "Commits an index built from the Lance table T (build --input T, or encode\n"
    "and finalize of T) into T as its next version, so that LanceDB lists and\n"
    "searches it. The index must come from T's fragments as they are now.\n"
    "--name: default\n"
    "<column>_idx; an index of that name is refused unless --replace, which\n"
    "removes it in the same commit.\n"
    "--segment IDX, given once per segment instead of --index, commits segments\n"
    "(each finalized from its own shards, one model, disjoint fragments) as ONE\n"
    "index in one version: an entry per segment under one name, as Lance commits\n"
    "a distributed build; LanceDB lists one index of that many segments.\n";

static const char about_table_info[] =
    "Prints a Lance table's versions, the latest version's fragments (rows,\n"
    "deleted rows), columns, and indexes (name, uuid, type, the fragments and\n"
    "live rows they cover).\n";

static const char about_export_rows[] =
    "Writes every (row_id, part_id, pq_code) row of an artifact into one Lance\n"
    "file: the input of 'finalize --rows'. Rows come in bucket-file order, or\n"
    "shuffled (in memory) with --shuffle SEED (SEED > 0). The file is written\n"
    "under a temporary name and renamed into place.\n" PA_CLI_FORCE_HELP;

static const char about_gen_vectors[] =
    "Writes clustered vectors: cluster centres in a random rank-R subspace, each\n"
    "row a centre plus Gaussian spread in the subspace and isotropic noise. Rows\n"
    "depend only on (seed, row number): --first-row 1000000 --rows 10000 gives\n"
    "query rows drawn from the same distribution as, but distinct from, the base.\n"
    "The file is written under a temporary name and renamed into place.\n" PA_CLI_FORCE_HELP;

static const char about_lance_info[] =
    "Prints a Lance file's schema, its pages per column and metadata keys, or a\n"
    "Lance dataset's version, schema and fragments. Columns partifact does not\n"
    "decode are listed as such; --check decodes every row of every column of a\n"
    "file and fails on the first column that cannot be read.\n";

static const char about_lance_gen[] =
    "Writes generated rows: id u64, part u32, score float, code "
    "fixed_size_list<uint8,16>, vector fixed_size_list<float,D>.\n"
    "The file is written under a temporary name and renamed into place.\n" PA_CLI_FORCE_HELP;

static const char about_inspect[] =
    "Prints an artifact's parameters, rows, partition size skew, ranges per\n"
    "partition and files; --ranges lists every partition's (offset, rows) ranges;\n"
    "--read reads every partition back (as a finalizer does, with read-ahead) and\n"
    "reports the bytes read against the artifact's size.\n";

static const char about_verify[] =
    "Checks every bucket file's XXH64 (and metadata.lance's), that every row lies\n"
    "in exactly one range, that ranges lie inside their files without overlapping,\n"
    "every range's checksum (which binds it to its partition; a 0.1 artifact: every\n"
    "row's part_id), and the totals. An artifact in Lance's layout written by\n"
    "another program (no partifact extras) gets the structural checks only, and\n"
    "the report says so. Exit 0 if all hold, 2 if not (or if the artifact is\n"
    "incomplete), 1 if a file cannot be read.\n";

static const char about_artifact_gen[] =
    "Streams synthetic rows (row_id = ordinal, random part_id, random M-byte code)\n"
    "into an artifact: a producer for tests and benchmarks of the writer. The\n"
    "artifact is written in a new directory beside ARTIFACT and renamed into\n"
    "place when complete.\n"
    "--model records MODEL (its XXH64) as the model the codes were made with, so\n"
    "that finalize accepts the artifact with it. --buffer-rows caps the writer's\n"
    "bucket buffers (at least 256 rows), for artifacts of many small ranges.\n" PA_CLI_FORCE_HELP;

static const char about_version[] =
    "Prints partifact's version; --verbose names the machine and kernels every\n"
    "figure is measured with.\n";

/* Every command, in the order partifact --help lists them: name, line in --help, what runs it,
 * positional argument (in the usage line, in messages), --help text. */
const struct pa_cli_command pa_cli_commands[] = {
    {"build", "the whole IVF_PQ build: train, encode into an artifact, finalize the index",
     pa_cmd_build, NULL, NULL, about_build},
    {"train", "train an IVF_PQ model (k-means + PQ) on vectors; --encode times assign + encode",
     pa_cmd_train, NULL, NULL, about_train},
    {"encode", "assign + encode vectors with a backend into a partition artifact", pa_cmd_encode,
     NULL, NULL, about_encode},
    {"finalize", "write an IVF_PQ index from an artifact (or a rows file, re-grouped)",
     pa_cmd_finalize, NULL, NULL, about_finalize},
    {"search", "search an index (ADC, optional refine); QPS and recall@k", pa_cmd_search, NULL,
     NULL, about_search},
    {"groundtruth", "exact k nearest neighbours of queries, as .ivecs or .npy", pa_cmd_groundtruth,
     NULL, NULL, about_groundtruth},
    {"index-info", "print an index's parameters, rows and partition sizes", pa_cmd_index_info,
     "INDEX", "index directory", about_index_info},
    {"commit", "commit an index built from a Lance table into the table (a new version)",
     pa_cmd_commit, NULL, NULL, about_commit},
    {"table-info", "print a Lance table's versions, fragments, columns and indexes",
     pa_cmd_table_info, "T.lance", "table", about_table_info},
    {"export-rows", "write an artifact's rows into one Lance file (input of finalize --rows)",
     pa_cmd_export_rows, NULL, NULL, about_export_rows},
    {"gen-vectors", "write clustered vectors (.fvecs) with a fixed seed, for demos and benchmarks",
     pa_cmd_gen_vectors, NULL, NULL, about_gen_vectors},
    {"lance-info", "print a Lance file's or dataset's schema, rows and layout", pa_cmd_lance_info,
     "FILE.lance|DATASET", "path", about_lance_info},
    {"lance-gen", "write a Lance file of generated rows (used by the demo and tests)",
     pa_cmd_lance_gen, NULL, NULL, about_lance_gen},
    {"inspect", "print a partition artifact's rows, partition skew and ranges", pa_cmd_inspect,
     "ARTIFACT", "artifact directory", about_inspect},
    {"verify", "check a partition artifact completely (checksums, ranges, files)", pa_cmd_verify,
     "ARTIFACT", "artifact directory", about_verify},
    {"artifact-gen", "stream synthetic rows into a partition artifact (tests, benchmarks)",
     pa_cmd_artifact_gen, NULL, NULL, about_artifact_gen},
    {"--version", "the version; --verbose: the machine and kernels figures are measured with", NULL,
     NULL, NULL, about_version},
    {NULL, NULL, NULL, NULL, NULL, NULL}};

static void usage(FILE *out)
{
    fprintf(out, "usage: partifact <command> [options]\n"
                 "       partifact --version [--verbose] [--json] | --help\n\n"
                 "Build IVF_PQ vector indexes through a partition artifact.\n\ncommands:\n");
    for (const struct pa_cli_command *c = pa_cli_commands; c->name; c++)
        if (c->run)
            fprintf(out, "  %-12s %s\n", c->name, c->help);
    fprintf(out, "\nRun 'partifact <command> --help' for a command's options.\n%s",
            PA_CLI_EXIT_HELP);
}

/* Set by the parent of a re-executed partifact: the core OpenBLAS had chosen by itself. */
#define PA_BLAS_GUARD_ENV "PARTIFACT_BLAS_CORRECTED_FROM"
/* "0" turns the correction below off. */
#define PA_BLAS_AUTO_ENV "PARTIFACT_BLAS_AUTO"
/* Tests only: the core to treat as the one OpenBLAS chose (to exercise the re-exec on a CPU
 * where OpenBLAS already picks good kernels). */
#define PA_BLAS_TEST_CORE_ENV "PARTIFACT_BLAS_TEST_CORE"

/* OpenMP's wait: libgomp lets a thread that waits at a barrier or for the next parallel region
 * spin GOMP_SPINCOUNT times (300,000 by default: with the long pause instruction of recent Intel
 * cores some milliseconds) before it sleeps. Where other processes share the cores that spin
 * takes the time slices of the thread it waits for (bench/scale_bench.sh CONTENTION=1). Where the
 * user set neither variable, the CLI sets GOMP_SPINCOUNT to PA_CLI_GOMP_SPINCOUNT (well under a
 * millisecond of spinning, then sleep). libgomp reads it when it is loaded, before main (and
 * before any preinit function could set it: libc sets the environment after those), hence the
 * re-exec below, joined with the BLAS correction's. */
#define PA_CLI_GOMP_SPINCOUNT "10000"
#define PA_OMP_SPIN_ENV "GOMP_SPINCOUNT"
#define PA_OMP_WAIT_ENV "OMP_WAIT_POLICY"
/* "0" leaves libgomp's default. */
#define PA_OMP_AUTO_ENV "PARTIFACT_OMP_AUTO"
/* Set by the parent of a re-executed partifact that set PA_OMP_SPIN_ENV. */
#define PA_OMP_GUARD_ENV "PARTIFACT_OMP_SET"

/* How the runtime was set at start: the BLAS core corrected from (NULL: none), and whether
 * the CLI set OpenMP's spin count. */
typedef struct {
    const char *blas_corrected_from;
    bool omp_set;
} runtime_fix;

/* OpenBLAS picks its kernels and libgomp its wait when they are loaded, before main. If
 * OpenBLAS picked kernels weaker than the CPU allows (generic ones on an AVX2 / AVX-512 CPU)
 * and the user did not choose a core, or the user set neither OpenMP wait variable, run this
 * program again, once, with OPENBLAS_CORETYPE set to the right core and GOMP_SPINCOUNT to
 * PA_CLI_GOMP_SPINCOUNT (about 5 ms more per command). Returns what the process runs with. */
static runtime_fix runtime_correct(char **argv)
{
    static char from[32];
    runtime_fix fix = {NULL, false};
    const char *guard = getenv(PA_BLAS_GUARD_ENV), *omp_guard = getenv(PA_OMP_GUARD_ENV);
    if (guard || omp_guard) { /* we are the re-executed process: never again */
        fix.omp_set = omp_guard && getenv(PA_OMP_SPIN_ENV);
        unsetenv(PA_OMP_GUARD_ENV);
        if (guard) {
            snprintf(from, sizeof from, "%s", guard);
            unsetenv(PA_BLAS_GUARD_ENV);
            fix.blas_corrected_from = getenv(PA_BLAS_CORETYPE_ENV) ? from : NULL;
        }
        return fix;
    }
    bool again = false;
    const char *omp_auto = getenv(PA_OMP_AUTO_ENV), *blas_auto = getenv(PA_BLAS_AUTO_ENV);
    if (!getenv(PA_OMP_SPIN_ENV) && !getenv(PA_OMP_WAIT_ENV) &&
        !(omp_auto && !strcmp(omp_auto, "0"))) {
        setenv(PA_OMP_SPIN_ENV, PA_CLI_GOMP_SPINCOUNT, 1);
        setenv(PA_OMP_GUARD_ENV, "1", 1);
        again = true;
    }
    pa_cpu_info cpu = {.struct_size = sizeof cpu};
    pa_blas_info blas = {.struct_size = sizeof blas};
    if (!getenv(PA_BLAS_CORETYPE_ENV) && !(blas_auto && !strcmp(blas_auto, "0")) &&
        pa_cpu_info_get(&cpu) == PA_OK && pa_blas_info_get(&blas) == PA_OK) {
        const char *core = getenv(PA_BLAS_TEST_CORE_ENV) ? getenv(PA_BLAS_TEST_CORE_ENV)
                                                         : blas.core;
        if (pa_blas_core_is_weak(core, cpu.features)) {
            setenv(PA_BLAS_CORETYPE_ENV, pa_blas_core_for(cpu.features), 1);
            setenv(PA_BLAS_GUARD_ENV, core, 1);
            again = true;
        }
    }
    if (!again)
        return fix;
    execv("/proc/self/exe", argv);
    if (getenv(PA_BLAS_GUARD_ENV)) { /* exec failed: run on with what we have */
        unsetenv(PA_BLAS_CORETYPE_ENV);
        unsetenv(PA_BLAS_GUARD_ENV);
    }
    if (getenv(PA_OMP_GUARD_ENV)) {
        unsetenv(PA_OMP_SPIN_ENV);
        unsetenv(PA_OMP_GUARD_ENV);
    }
    return fix;
}

int main(int argc, char **argv)
{
    const runtime_fix fix = runtime_correct(argv);
    if (argc < 2) {
        usage(stderr);
        return PA_CLI_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
        return pa_cli_version(argc - 1, argv + 1, fix.blas_corrected_from, fix.omp_set);
    for (const struct pa_cli_command *c = pa_cli_commands; c->name; c++)
        if (c->run && !strcmp(argv[1], c->name))
            return c->run(argc - 1, argv + 1);
    fprintf(stderr, "partifact: unknown command \"%s\" (see partifact --help)\n", argv[1]);
    return PA_CLI_EXIT_USAGE;
}
