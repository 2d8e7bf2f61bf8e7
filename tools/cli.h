/* Shared pieces of the partifact CLI: the option tables and their parser, exit codes, errors,
 * progress and JSON. */
#ifndef PA_CLI_H
#define PA_CLI_H

#include "partifact.h"

#include "common/json.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A command: its name, its line in partifact --help, what runs it, and its --help text (the
 * options' lines come from its option table). */
struct pa_cli_command {
    const char *name;
    const char *help;
    int (*run)(int argc, char **argv); /* NULL: handled by main (--version)  */
    const char *pos;      /* the positional argument in the usage line ("ARTIFACT"), or NULL */
    const char *pos_what; /* ... as the refusals name it ("artifact directory")              */
    const char *about;    /* what it does: a paragraph, lines ending in \n                    */
};
/* tools/main.c: every command, ended by an entry with a NULL name. */
extern const struct pa_cli_command pa_cli_commands[];

/* Exit codes (README "Exit status"): 2 for a usage error or input the library refused as bad
 * (invalid, malformed, unsupported, out of range, incomplete, over the budget, an existing
 * output, a path that names nothing), 1 for a failure of the environment (I/O, out of memory,
 * an internal error). */
#define PA_CLI_EXIT_RUNTIME 1
#define PA_CLI_EXIT_USAGE 2
/* The exit code for a library failure with status st. */
int pa_cli_exit_code(pa_status st);
/* The "exit status" paragraph every --help ends with. */
#define PA_CLI_EXIT_HELP                                                                      \
    "Exit status: 0 on success; 2 for a usage error or an input refused as bad (malformed,\n" \
    "missing, over the memory budget, an existing output); 1 when the environment failed\n"   \
    "(a read or write the system refused, out of memory). A failure prints one line on\n"     \
    "stderr: partifact <command>: <what, where>.\n"

#define PA_CLI_MIN(a, b) ((a) < (b) ? (a) : (b))

/* The kinds of option value. */
typedef enum pa_cli_kind {
    PA_CLI_STRING, /* dest: const char *                                                */
    PA_CLI_COUNT,  /* dest: uint64_t; decimal, k/M/G/T suffixes (powers of 10), in [min, max] */
    PA_CLI_SIZE,   /* dest: uint64_t; bytes, K/M/G/T suffixes (powers of 2, KiB...), [min, max] */
    PA_CLI_BOOL,   /* dest: bool; takes no value, sets true                               */
    PA_CLI_METRIC, /* dest: pa_metric; l2, cosine or dot                                  */
    PA_CLI_REAL,   /* dest: double; a finite number >= 0                                  */
    PA_CLI_LIST,   /* dest: pa_cli_list; repeatable, each value appended                  */
} pa_cli_kind;

/* The values of a repeatable option, in the order given. */
#define PA_CLI_LIST_MAX 256 /* e.g. the shards or segments of one build */
typedef struct pa_cli_list {
    const char *items[PA_CLI_LIST_MAX];
    size_t n;
} pa_cli_list;

/* One row of a command's option table. */
typedef struct pa_cli_opt {
    const char *name; /* the long name, without "--"                                    */
    pa_cli_kind kind;
    void *dest;         /* where the value goes (the type the kind names)                   */
    const char *arg;    /* the value's name in the help ("N", "SIZE"); NULL for a bool        */
    const char *help;   /* one line of help                                                  */
    uint64_t min, max;  /* count and size: the accepted range (max 0: up to UINT64_MAX)       */
    const char *field;  /* the library option field(s) it sets, for flag hints (or NULL)     */
    bool required;      /* refused when absent ("--X is required")                           */
    char short_name;    /* a one-letter alias ("-k"), or 0                                   */
    const char *expect; /* the refusal of a bad value: "--NAME: \"V\" is not EXPECT"; NULL:
                         * "\"V\" is not a valid value for --NAME"                           */
    bool given;         /* set by the parser                                                 */
} pa_cli_opt;

#define PA_CLI_NOPTS(a) (sizeof(a) / sizeof((a)[0]))
/* Within the parser: the command goes on. */
#define PA_CLI_CONTINUE (-1)

/* Parses argv (argv[0] the command's name) by the option table opts: "--name VALUE",
 * "--name=VALUE", "-x VALUE" for a short alias, "--" ending the options. An unknown option, a
 * bad value, a single-valued option given twice, a missing required option and a stray or
 * missing positional argument are refused with one line and exit PA_CLI_EXIT_USAGE; --help
 * prints the help (usage from the table, the command's about text from pa_cli_commands) and
 * exits 0. (Commands call it first, before they hold anything.) On return, *pos is the
 * positional argument (pos NULL: the command takes none). The table is remembered for
 * pa_cli_fail's hints. */
void pa_cli_parse(const char *cmd, pa_cli_opt *opts, size_t num_opts, const char **pos, int argc,
                  char **argv);
/* Whether the option named name was given (after pa_cli_parse). */
bool pa_cli_given(const pa_cli_opt *opts, size_t num_opts, const char *name);

/* Table rows, one per option: PA_CLI_STR(name, &dest, "ARG", "help", .field = ..., ...). */
#define PA_CLI_ROW(k, n, d, a, h, ...)                                              \
    {                                                                               \
        .name = (n), .kind = (k), .dest = (d), .arg = (a), .help = (h), __VA_ARGS__ \
    }
#define PA_CLI_STR(n, d, a, ...) PA_CLI_ROW(PA_CLI_STRING, n, d, a, __VA_ARGS__)
#define PA_CLI_NUM(n, d, a, ...) PA_CLI_ROW(PA_CLI_COUNT, n, d, a, __VA_ARGS__)
#define PA_CLI_BYTES(n, d, a, ...) PA_CLI_ROW(PA_CLI_SIZE, n, d, a, __VA_ARGS__)
#define PA_CLI_FLAG(n, d, ...) PA_CLI_ROW(PA_CLI_BOOL, n, d, NULL, __VA_ARGS__)
#define PA_CLI_METRIC_OPT(n, d, a, ...) \
    PA_CLI_ROW(PA_CLI_METRIC, n, d, a, __VA_ARGS__, .expect = "l2, cosine or dot")
#define PA_CLI_REAL_OPT(n, d, a, ...) PA_CLI_ROW(PA_CLI_REAL, n, d, a, __VA_ARGS__)

/* Options several commands share. */
#define PA_CLI_OPT_JSON(d) PA_CLI_FLAG("json", d, "print the result as one JSON object")
#define PA_CLI_OPT_FORCE(d) \
    PA_CLI_FLAG("force", d, "replace an existing output atomically", .field = "replace")
#define PA_CLI_OPT_COLUMN(d)                                                                 \
    PA_CLI_STR("column", d, "NAME", "a Lance table's vector column (default: its only one)", \
               .field = "column")
#define PA_CLI_OPT_VERSION(d)                                                              \
    PA_CLI_NUM("version", d, "N", "read version N of a Lance table (default: the latest)", \
               .min = 1, .field = "version")
/* --input X and the options of reading it: --column, --version, --skip-invalid. */
#define PA_CLI_OPTS_VECTORS(input, column, version, skip)                                   \
    PA_CLI_STR("input", input, "X", "the vectors: .fvecs, .bvecs, .npy or a Lance dataset", \
               .required = true),                                                           \
        PA_CLI_OPT_COLUMN(column), PA_CLI_OPT_VERSION(version), PA_CLI_OPT_SKIP_INVALID(skip)
/* --accelerator NAME, --backend-path DIR and --backend-option KEY=VALUE (repeatable). */
#define PA_CLI_OPTS_BACKEND(accel, path, options)                                             \
    PA_CLI_STR("accelerator", accel, "NAME", "the backend", .field = "accelerator"),          \
        PA_CLI_STR("backend-path", path, "DIR", "where backend plugins are looked for first", \
                   .field = "backend_path"),                                                  \
        PA_CLI_ROW(PA_CLI_LIST, "backend-option", options, "KEY=VALUE",                       \
                   "an option for the backend (repeatable)", .field = "backend_options")
/* The --backend-option values joined into the backend's options string ("K=V,K2=V2"). */
#define PA_CLI_BACKEND_OPTIONS_MAX 4096
/* 0, or the usage error printed ("\"V\" is not a valid value for --backend-option": not
 * KEY=VALUE with a non-empty key and no ',', or past PA_CLI_BACKEND_OPTIONS_MAX in all). */
int pa_cli_backend_options(const char *cmd, const pa_cli_list *l, char *opts, size_t len);
#define PA_CLI_OPT_SKIP_INVALID(d)                                    \
    PA_CLI_FLAG("skip-invalid", d,                                    \
                "leave out (and count) rows with NaN, infinities or " \
                "overflowing values",                                 \
                .field = "skip_invalid")

/* Prints "partifact <cmd>: <pa_last_error()>", with the flag of the option field the failure
 * names (from the parsed spec's table) or the status's hint, and returns its exit code. */
int pa_cli_fail(const char *cmd, pa_status st);
/* --help text of the Lance table options (--column, --version) the vector readers share. */
#define PA_CLI_TABLE_HELP                                                             \
    "A Lance table's vector column (fixed_size_list of float, halffloat, double or\n" \
    "uint8) is the only one, or --column NAME; --version N reads version N of the\n"  \
    "table; deleted rows are never read.\n"
/* Checks an output before the command's work (pa_output_check): 0, or the failure printed
 * and its exit code. inputs: the command's input paths (NULLs skipped). */
int pa_cli_check_output(const char *cmd, const char *out, bool force, const char *dir_kind,
                        const char *const *inputs, size_t n);
/* The --force option's help line, the same in every command that writes. */
#define PA_CLI_FORCE_HELP                                                                \
    "--force replaces an existing output atomically (without it an existing output is\n" \
    "refused); an output that is also an input, or a symbolic link, is always refused.\n"
/* Prints "partifact <cmd>: <formatted message>" (a usage error) and returns PA_CLI_EXIT_USAGE. */
int pa_cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with the exit code to return (PA_CLI_EXIT_RUNTIME for "out of memory"). */
int pa_cli_errorf(int code, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Parses a size such as "256MiB", "1G", "4096" into bytes; false if malformed. */
bool pa_cli_parse_size(const char *s, uint64_t *out);
/* Parses an unsigned integer with optional k/M/G suffix (powers of 10); false if malformed. */
bool pa_cli_parse_count(const char *s, uint64_t *out);

/* A progress line on stderr, redrawn in place, only when stderr is a terminal. */
void pa_cli_progress(const char *what, uint64_t done, uint64_t total);
void pa_cli_progress_end(void);
/* The same as a pa_progress_fn, to pass to library calls. */
void pa_cli_progress_cb(void *ctx, const char *stage, uint64_t done, uint64_t total);
/* True when progress is shown (stderr is a terminal). */
bool pa_cli_progress_enabled(void);

/* Seconds on the monotonic clock, for the timings commands print. */
double pa_cli_now(void);

/* --json: the one JSON writer (src/common/json.h). A command packs its summary with
 * pa_json_pack (paths and names the user gave as pa_json_display_string, measured reals as
 * PA_CLI_REAL3) and prints it: pa_cli_json_print(pa_json_pack(&j, ...), &j) gives the pack's
 * failure, or prints j (consumed) as one compact line on stdout. */
pa_status pa_cli_json_print(pa_status packed, json_t **v);
/* A measured real (seconds, rates) as the summaries give it: rounded to 3 decimals. */
#define PA_CLI_REAL3(x) pa_json_real_rounded((x), 3)

/* The commands (pa_cli_commands in tools/main.c runs them), by file: cmd_lance.c, cmd_artifact.c,
 * cmd_gen.c (the data generators), cmd_train.c, cmd_encode.c, cmd_build.c, cmd_index.c,
 * cmd_commit.c. */
typedef int pa_cli_run_fn(int argc, char **argv);
pa_cli_run_fn pa_cmd_lance_info, pa_cmd_inspect, pa_cmd_verify;
pa_cli_run_fn pa_cmd_lance_gen, pa_cmd_artifact_gen, pa_cmd_gen_vectors;
pa_cli_run_fn pa_cmd_train, pa_cmd_encode, pa_cmd_build;
pa_cli_run_fn pa_cmd_finalize, pa_cmd_search, pa_cmd_groundtruth, pa_cmd_index_info,
    pa_cmd_export_rows;
pa_cli_run_fn pa_cmd_commit, pa_cmd_table_info;
/* build --commit: checks the table, builds into out (NULL: a directory inside the table,
 * removed after) and commits the index into table. */
int pa_cli_build_commit(pa_vec_input *in, const char *table, const char *column, const char *out,
                        const pa_build_options *bo, const char *name, bool replace, bool json);
/* build --mpi (tools/cmd_build_mpi.c): this rank's part of the distributed build (the MPI
 * room, src/mpi, in a partifact built with MPI; else refused); rank 0 prints the summary. */
typedef struct pa_cli_mpi_build {
    const char *input;
    const pa_vec_input_options *io;
    const char *out;
    bool force, commit;
    const char *name;
    bool replace, one_segment;
    const pa_ivfpq_params *params;
    const pa_build_options *build;
    bool json;
} pa_cli_mpi_build;
int pa_cli_build_mpi(const pa_cli_mpi_build *b);
/* tools/cmd_version.c: --version [--verbose] [--json]; corrected_from is the BLAS core the CLI
 * replaced at start (NULL if none), omp_set whether it set OpenMP's spin count */
int pa_cli_version(int argc, char **argv, const char *corrected_from, bool omp_set);

#endif
