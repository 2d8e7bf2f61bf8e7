/* Shared pieces of the partifact CLI: the option tables and their parser, exit codes, errors,
 * progress and JSON. */
#ifndef PA_CLI_H
#define PA_CLI_H

#include "partifact.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct pa_cli_command {
    const char *name;
    const char *help;
    int (*run)(int argc, char **argv);
};

/* Exit codes (README "Exit status"): 2 for a usage error or input the library refused as bad
 * (invalid, malformed, unsupported, out of range, incomplete, over the budget, an existing
 * output, a path that names nothing), 1 for a failure of the environment (I/O, out of memory,
 * an internal error). */
#define PA_CLI_EXIT_RUNTIME 1
#define PA_CLI_EXIT_USAGE 2
/* The exit code for a library failure with status st. */
int pa_cli_exit_code(pa_status st);
/* The "exit status" paragraph every --help ends with. */
#define PA_CLI_EXIT_HELP                                                                       \
    "Exit status: 0 on success; 2 for a usage error or an input refused as bad (malformed,\n"   \
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
#define PA_CLI_LIST_MAX 32
typedef struct pa_cli_list {
    const char *items[PA_CLI_LIST_MAX];
    size_t n;
} pa_cli_list;

/* One row of a command's option table. */
typedef struct pa_cli_opt {
    const char *name;   /* the long name, without "--"                                    */
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

/* A command's interface: its name, help, option table and positional arguments. */
typedef struct pa_cli_spec {
    const char *name;      /* "encode"                                                      */
    const char *synopsis;  /* the usage lines, after "usage: partifact "                     */
    const char *about;     /* what it does (a paragraph, lines ending in \n)                  */
    pa_cli_opt *opts;
    size_t num_opts;
    const char *pos_what;  /* what a positional argument is ("artifact directory"); NULL: none */
    const char *pos;       /* the positional argument (set by the parser)                    */
} pa_cli_spec;

#define PA_CLI_NOPTS(a) (sizeof(a) / sizeof((a)[0]))
/* The value pa_cli_parse returns when the command should go on. */
#define PA_CLI_CONTINUE (-1)

/* Parses argv (argv[0] the command's name) by spec's table: "--name VALUE", "--name=VALUE",
 * "-x VALUE" for a short alias, "--" ending the options. Refuses an unknown option, a bad
 * value, a single-valued option given twice, a missing required option and a stray or missing
 * positional argument (one line, PA_CLI_EXIT_USAGE); --help prints the help and returns 0.
 * PA_CLI_CONTINUE when the command should run. spec is remembered for pa_cli_fail's hints. */
int pa_cli_parse(pa_cli_spec *spec, int argc, char **argv);
/* The row of the option named name (for "given" checks), or NULL. */
const pa_cli_opt *pa_cli_find(const pa_cli_spec *spec, const char *name);

/* Options several commands share. */
#define PA_CLI_OPT_JSON(d)                                                                     \
    {.name = "json", .kind = PA_CLI_BOOL, .dest = (d), .help = "print the result as one JSON object"}
#define PA_CLI_OPT_FORCE(d)                                                                    \
    {.name = "force", .kind = PA_CLI_BOOL, .dest = (d), .field = "replace",                   \
     .help = "replace an existing output atomically"}
#define PA_CLI_OPT_COLUMN(d)                                                                   \
    {.name = "column", .kind = PA_CLI_STRING, .dest = (d), .arg = "NAME", .field = "column",   \
     .help = "a Lance table's vector column (default: its only one)"}
#define PA_CLI_OPT_VERSION(d)                                                                  \
    {.name = "version", .kind = PA_CLI_COUNT, .dest = (d), .arg = "N", .min = 1,               \
     .field = "version", .help = "read version N of a Lance table (default: the latest)"}
#define PA_CLI_OPT_SKIP_INVALID(d)                                                             \
    {.name = "skip-invalid", .kind = PA_CLI_BOOL, .dest = (d), .field = "skip_invalid",        \
     .help = "leave out (and count) rows with NaN, infinities or overflowing values"}

/* Prints "partifact <cmd>: <pa_last_error()>", with the flag of the option field the failure
 * names (from the parsed spec's table) or the status's hint, and returns its exit code. */
int pa_cli_fail(const char *cmd, pa_status st);
/* --help text of the Lance table options (--column, --version) the vector readers share. */
#define PA_CLI_TABLE_HELP                                                                    \
    "A Lance table's vector column (fixed_size_list of float, halffloat, double or\n"         \
    "uint8) is the only one, or --column NAME; --version N reads version N of the\n"          \
    "table; deleted rows are never read.\n"
/* Checks an output before the command's work (pa_output_check): 0, or the failure printed
 * and its exit code. inputs: the command's input paths (NULLs skipped). */
int pa_cli_check_output(const char *cmd, const char *out, bool force, const char *dir_kind,
                        const char *const *inputs, size_t n);
/* The --force option's help line, the same in every command that writes. */
#define PA_CLI_FORCE_HELP                                                                      \
    "--force replaces an existing output atomically (without it an existing output is\n"      \
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

/* Writes s as a JSON string literal (quotes and escapes). */
void pa_cli_json_string(FILE *out, const char *s);

/* tools/cmd_lance.c */
int pa_cmd_lance_info(int argc, char **argv);
/* tools/cmd_artifact.c */
int pa_cmd_inspect(int argc, char **argv);
int pa_cmd_verify(int argc, char **argv);
/* tools/cmd_gen.c: the data generators */
int pa_cmd_lance_gen(int argc, char **argv);
int pa_cmd_artifact_gen(int argc, char **argv);
int pa_cmd_gen_vectors(int argc, char **argv);
/* tools/cmd_train.c, cmd_encode.c, cmd_build.c */
int pa_cmd_train(int argc, char **argv);
int pa_cmd_encode(int argc, char **argv);
int pa_cmd_build(int argc, char **argv);
/* tools/cmd_index.c */
int pa_cmd_finalize(int argc, char **argv);
int pa_cmd_search(int argc, char **argv);
int pa_cmd_groundtruth(int argc, char **argv);
int pa_cmd_index_info(int argc, char **argv);
int pa_cmd_export_rows(int argc, char **argv);
/* tools/cmd_commit.c */
int pa_cmd_commit(int argc, char **argv);
int pa_cmd_table_info(int argc, char **argv);
/* build --commit: checks the table, builds into out (NULL: a directory inside the table,
 * removed after) and commits the index into table. */
int pa_cli_build_commit(pa_vec_input *in, const char *table, const char *column,
                        const char *out, const pa_build_options *bo, const char *name,
                        bool replace, bool json);
/* tools/cmd_version.c: --version [--verbose] [--json]; corrected_from is the BLAS core the CLI
 * replaced at start (NULL if none) */
int pa_cli_version(int argc, char **argv, const char *corrected_from);

#endif
