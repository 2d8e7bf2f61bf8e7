/* Shared pieces of the partifact CLI: the command table, error exits, progress and JSON. */
#ifndef PA_CLI_H
#define PA_CLI_H

#include "partifact.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct pa_cli_command {
    const char *name;
    const char *help;
    int (*run)(int argc, char **argv);
};

/* Exit code for bad input, bad usage or any library failure. */
#define PA_CLI_EXIT_FAIL 2

#define PA_CLI_MIN(a, b) ((a) < (b) ? (a) : (b))

/* Prints "partifact <cmd>: <pa_last_error()>" and returns PA_CLI_EXIT_FAIL. */
int pa_cli_fail(const char *cmd, pa_status st);
/* --help text of the Lance table options (--column, --version) the vector readers share. */
#define PA_CLI_TABLE_HELP                                                                    \
    "A Lance table's vector column (fixed_size_list of float, halffloat, double or\n"         \
    "uint8) is the only one, or --column NAME; --version N reads version N of the\n"          \
    "table; deleted rows are never read.\n"
/* Checks an output before the command's work (pa_output_check): 0, or the failure printed
 * and PA_CLI_EXIT_FAIL. inputs: the command's input paths (NULLs skipped). */
int pa_cli_check_output(const char *cmd, const char *out, bool force, const char *dir_kind,
                        const char *const *inputs, size_t n);
/* The --force option's help line, the same in every command that writes. */
#define PA_CLI_FORCE_HELP                                                                      \
    "--force replaces an existing output atomically (without it an existing output is\n"      \
    "refused); an output that is also an input, or a symbolic link, is always refused.\n"
/* Prints "partifact <cmd>: <formatted message>" and returns PA_CLI_EXIT_FAIL. */
int pa_cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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

/* The long name of the option whose getopt value is c (for "not a valid value for --NAME"). */
const char *pa_cli_opt_name(const struct option *opts, int c);

/* Appends one --backend-option KEY=VALUE to the options string opts (len bytes, pairs joined
 * with ','): false, with opts unchanged, if arg is not KEY=VALUE with a non-empty key and no
 * ',', or does not fit. */
bool pa_cli_backend_option(char *opts, size_t len, const char *arg);
/* --help text of the backend options. */
#define PA_CLI_BACKEND_HELP                                                                   \
    "--backend-option KEY=VALUE (repeatable) is passed to the backend, which refuses a key\n" \
    "it does not know (the cpu backend takes none).\n"

/* Seconds on the monotonic clock, for the timings commands print. */
double pa_cli_now(void);

/* Writes s as a JSON string literal (quotes and escapes). */
void pa_cli_json_string(FILE *out, const char *s);

int pa_cmd_lance_info(int argc, char **argv);
int pa_cmd_lance_gen(int argc, char **argv);
int pa_cmd_inspect(int argc, char **argv);
int pa_cmd_verify(int argc, char **argv);
int pa_cmd_artifact_gen(int argc, char **argv);
int pa_cmd_gen_vectors(int argc, char **argv);
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
