/* partifact encode: stream an input through a backend (assign + encode) into a partition
 * artifact, within a memory budget. */
#include "tools/cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* partifact encode --input X --model M --out ARTIFACT [...] */
int pa_cmd_encode(int argc, char **argv)
{
    pa_cli_list bopts = {0}; /* --backend-option, joined into backend_opts */
    char backend_opts[PA_CLI_BACKEND_OPTIONS_MAX];
    const char *input = NULL, *model_path = NULL, *out = NULL, *accel = PA_DEFAULT_BACKEND,
               *bpath = NULL, *column = NULL;
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
    };
    pa_cli_parse("encode", opts, PA_CLI_NOPTS(opts), NULL, argc, argv);
    int rc = 0;
    if ((rc = pa_cli_backend_options("encode", &bopts, backend_opts, sizeof backend_opts)))
        return rc;
    const char *inputs[] = {input, model_path, bpath};
    if ((rc = pa_cli_check_output("encode", out, force, PA_ARTIFACT_MANIFEST_FILE, inputs, 3)))
        return rc;
    pa_ivfpq_model *model = NULL;
    pa_vec_input *in = NULL;
    pa_backend *be = NULL;
    pa_status st = pa_ivfpq_model_load(&model, model_path);
    if (st == PA_OK) {
        pa_vec_input_options io = {.struct_size = sizeof io,
                                   .column = column,
                                   .skip_invalid = skip,
                                   .version = version};
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
    return rc;
}
