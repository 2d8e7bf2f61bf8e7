/* partifact encode: stream an input through a backend (assign + encode) into a partition
 * artifact, within a memory budget. */
#include "tools/cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* --fragments LIST: ids and ranges "0,2,5-7" into a malloc'd array; 0 or the usage error. */
static int parse_fragments(const char *list, uint64_t **ids, size_t *n)
{
    *ids = NULL, *n = 0;
    size_t cap = 0;
    const char *p = list;
    for (;;) {
        char *end = NULL;
        if (*p < '0' || *p > '9')
            break;
        unsigned long long a = strtoull(p, &end, 10), b = a;
        if (*end == '-') {
            if (end[1] < '0' || end[1] > '9')
                break;
            b = strtoull(end + 1, &end, 10);
        }
        if (b < a || b > UINT32_MAX || b - a >= (1u << 24) || (*end && *end != ','))
            break;
        for (unsigned long long v = a; v <= b; v++) {
            if (*n == cap) {
                cap = cap ? 2 * cap : 16;
                uint64_t *g = realloc(*ids, cap * sizeof *g);
                if (!g)
                    return pa_cli_errorf(PA_CLI_EXIT_RUNTIME, "encode", "out of memory");
                *ids = g;
            }
            (*ids)[(*n)++] = v;
        }
        if (!*end)
            return 0;
        p = end + 1;
    }
    free(*ids);
    *ids = NULL;
    return pa_cli_error("encode",
                        "\"%s\" is not a valid value for --fragments (fragment ids and ranges "
                        "separated by commas, e.g. 0,3,5-7)",
                        list);
}

/* --rows FROM:TO into [*from, *to); 0 or the usage error. */
static int parse_rows(const char *s, uint64_t *from, uint64_t *to)
{
    char a[64];
    const char *colon = strchr(s, ':');
    size_t la = colon ? (size_t)(colon - s) : 0;
    if (colon && la < sizeof a) {
        memcpy(a, s, la);
        a[la] = 0;
        if (pa_cli_parse_count(a, from) && pa_cli_parse_count(colon + 1, to) && *from < *to)
            return 0;
    }
    return pa_cli_error("encode",
                        "\"%s\" is not a valid value for --rows (FROM:TO with FROM below TO, "
                        "e.g. 0:1M)",
                        s);
}

/* partifact encode --input X --model M --out ARTIFACT [...] */
int pa_cmd_encode(int argc, char **argv)
{
    pa_cli_list bopts = {0}; /* --backend-option, joined into backend_opts */
    char backend_opts[PA_CLI_BACKEND_OPTIONS_MAX];
    const char *input = NULL, *model_path = NULL, *out = NULL, *accel = PA_DEFAULT_BACKEND,
               *bpath = NULL, *column = NULL, *frag_list = NULL, *rows = NULL;
    uint64_t buckets = 0, memory = PA_DEFAULT_MEMORY_BYTES, batch = 0, version = 0;
    bool json = false, skip = false, force = false;
    pa_cli_opt opts[] = {
        PA_CLI_OPT_FORCE(&force),
        PA_CLI_OPT_JSON(&json),
        PA_CLI_OPTS_VECTORS(&input, &column, &version, &skip),
        PA_CLI_STR("model", &model_path, "MODEL.lance", "the trained model", .required = true,
                   .field = "model_path"),
        PA_CLI_STR("out", &out, "ARTIFACT", "the partition artifact to write", .required = true),
        PA_CLI_NUM("buckets", &buckets, "B", "bucket files (default: from the partitions)",
                   .max = PA_MAX_BUCKETS, .field = "num_buckets"),
        PA_CLI_BYTES("memory", &memory, "SIZE", "the memory budget", .field = "memory_bytes"),
        PA_CLI_OPTS_BACKEND(&accel, &bpath, &bopts),
        PA_CLI_NUM("batch", &batch, "N", "rows per backend call", .min = 1,
                   .max = PA_MAX_BATCH_ROWS, .field = "batch_rows"),
        PA_CLI_STR("fragments", &frag_list, "LIST",
                   "a Lance table: only these fragments (e.g. 0,3,5-7): one shard",
                   .field = "fragments"),
        PA_CLI_STR("rows", &rows, "FROM:TO", "a file: only rows [FROM, TO), ids kept: one shard",
                   .field = "row_begin,row_end"),
    };
    pa_cli_parse("encode", opts, PA_CLI_NOPTS(opts), NULL, argc, argv);
    int rc = 0;
    uint64_t *frags = NULL, row_begin = 0, row_end = 0;
    size_t num_frags = 0;
    if (frag_list && rows)
        return pa_cli_error("encode", "--fragments and --rows select shards of different "
                                      "inputs (a table, a file); give one");
    if (rows && (rc = parse_rows(rows, &row_begin, &row_end)))
        return rc;
    if (frag_list && (rc = parse_fragments(frag_list, &frags, &num_frags)))
        return rc;
    if ((rc = pa_cli_backend_options("encode", &bopts, backend_opts, sizeof backend_opts)) ||
        (rc = pa_cli_check_output("encode", out, force, PA_ARTIFACT_MANIFEST_FILE,
                                  (const char *const[]){input, model_path, bpath}, 3))) {
        free(frags);
        return rc;
    }
    pa_ivfpq_model *model = NULL;
    pa_vec_input *in = NULL;
    pa_backend *be = NULL;
    pa_status st = pa_ivfpq_model_load(&model, model_path);
    if (st == PA_OK) {
        pa_vec_input_options io = {.struct_size = sizeof io,
                                   .column = column,
                                   .skip_invalid = skip,
                                   .version = version,
                                   .fragments = frags,
                                   .num_fragments = num_frags,
                                   .row_begin = row_begin,
                                   .row_end = row_end};
        st = pa_vec_input_open(&in, input, &io);
    }
    if (st == PA_OK)
        st = pa_backend_open(&be, accel, bpath, backend_opts);
    pa_encode_stats es = PA_ENCODE_STATS_INIT;
    if (st == PA_OK) {
        pa_encode_options eo = {.struct_size = sizeof eo,
                                .num_buckets = (uint32_t)buckets,
                                .memory_bytes = memory,
                                .batch_rows = batch,
                                .model_path = model_path,
                                .progress = pa_cli_progress_cb,
                                .replace = force};
        st = pa_encode_input(in, model, be, out, &eo, &es);
        pa_cli_progress_end();
    }
    if (st == PA_OK && json) {
        json_t *j = NULL;
        st = pa_cli_json_print(
            pa_json_pack(&j, "encode --json",
                         "{s:o, s:s, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:I}", "artifact",
                         pa_json_display_string(out), "backend", pa_backend_name(be), "rows",
                         (json_int_t)es.rows, "skipped_invalid", (json_int_t)es.skipped_invalid,
                         "bytes", (json_int_t)es.bytes, "ranges", (json_int_t)es.ranges, "seconds",
                         PA_CLI_REAL3(es.seconds), "read_seconds", PA_CLI_REAL3(es.read_seconds),
                         "encode_seconds", PA_CLI_REAL3(es.encode_seconds), "write_seconds",
                         PA_CLI_REAL3(es.write_seconds), "null_vectors",
                         (json_int_t)pa_vec_input_nulls(in)),
            &j);
    }
    if (st != PA_OK) {
        rc = pa_cli_fail("encode", st);
    } else if (!json) {
        printf("encoded %" PRIu64 " rows into %s with the %s backend: %" PRIu64
               " bytes in %.2f s (read %.2f s, assign+encode %.2f s, write %.2f s)\n",
               es.rows, out, pa_backend_name(be), es.bytes, es.seconds, es.read_seconds,
               es.encode_seconds, es.write_seconds);
    }
    pa_backend_free(be);
    pa_vec_input_free(in);
    pa_ivfpq_model_free(model);
    free(frags);
    return rc;
}
