/* partifact encode: stream an input through a backend (assign + encode) into a partition
 * artifact, within a memory budget. */
#include "tools/cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* partifact encode --input X --model M --out ARTIFACT [...] */
int pa_cmd_encode(int argc, char **argv)
{
    const char *input = NULL, *model_path = NULL, *out = NULL, *accel = "cpu", *bpath = NULL,
               *column = NULL;
    uint64_t buckets = 0, memory = 256u << 20, batch = 0, version = 0;
    bool json = false, skip = false, force = false;
    pa_cli_opt opts[] = {
        {.name = "input", .kind = PA_CLI_STRING, .dest = &input, .arg = "X", .required = true,
         .help = "the vectors: .fvecs, .bvecs, .npy or a Lance dataset"},
        {.name = "model", .kind = PA_CLI_STRING, .dest = &model_path, .arg = "MODEL.lance",
         .required = true, .field = "model_path", .help = "the trained model"},
        {.name = "out", .kind = PA_CLI_STRING, .dest = &out, .arg = "ARTIFACT", .required = true,
         .help = "the partition artifact to write"},
        {.name = "buckets", .kind = PA_CLI_COUNT, .dest = &buckets, .arg = "B", .max = 1u << 20,
         .field = "num_buckets", .help = "bucket files (default: from the partitions)"},
        {.name = "memory", .kind = PA_CLI_SIZE, .dest = &memory, .arg = "SIZE",
         .field = "memory_bytes", .help = "the memory budget"},
        {.name = "accelerator", .kind = PA_CLI_STRING, .dest = &accel, .arg = "NAME",
         .help = "the backend"},
        {.name = "backend-path", .kind = PA_CLI_STRING, .dest = &bpath, .arg = "DIR",
         .help = "where backend plugins are looked for first"},
        {.name = "batch", .kind = PA_CLI_COUNT, .dest = &batch, .arg = "N", .min = 1,
         .max = 1u << 24, .field = "batch_rows", .help = "rows per backend call"},
        PA_CLI_OPT_COLUMN(&column),
        PA_CLI_OPT_VERSION(&version),
        PA_CLI_OPT_SKIP_INVALID(&skip),
        PA_CLI_OPT_FORCE(&force),
        PA_CLI_OPT_JSON(&json),
    };
    pa_cli_spec spec = {
        .name = "encode", .opts = opts, .num_opts = PA_CLI_NOPTS(opts),
        .synopsis = "encode --input X --model MODEL.lance --out ARTIFACT [options]\n",
        .about = "Assigns every row of X to its partition and encodes its PQ code with a\n"
                 "backend (the built-in cpu, or libpartifact-backend-NAME.so from\n"
                 "--backend-path, $PARTIFACT_BACKEND_PATH or <prefix>/lib/partifact), and\n"
                 "streams (row_id, part_id, code) into a partition artifact. --memory bounds\n"
                 "the model, the input batch and the input's read buffer for it (a Lance\n"
                 "table's scan batch is sized from it), the cpu backend's working blocks and\n"
                 "the artifact writer's buffers; what does not fit is refused before any work.\n"
                 "--batch defaults to 65536 rows, or fewer so that a batch and its working\n"
                 "blocks take at most a quarter of --memory.\n"
                 "The artifact is written in a new directory beside ARTIFACT and renamed\n"
                 "into place when complete.\n" PA_CLI_FORCE_HELP PA_CLI_TABLE_HELP};
    int rc = pa_cli_parse(&spec, argc, argv);
    if (rc != PA_CLI_CONTINUE)
        return rc;
    const char *inputs[] = {input, model_path, bpath};
    if ((rc = pa_cli_check_output("encode", out, force, PA_ARTIFACT_MANIFEST_FILE, inputs, 3)))
        return rc;
    pa_ivfpq_model *model = NULL;
    pa_vec_input *in = NULL;
    pa_backend *be = NULL;
    pa_status st = pa_ivfpq_model_load(&model, model_path);
    if (st == PA_OK) {
        pa_vec_input_options io = {.column = column, .skip_invalid = skip, .version = version};
        st = pa_vec_input_open(&in, input, &io);
    }
    if (st == PA_OK)
        st = pa_backend_open(&be, accel, bpath, NULL);
    pa_encode_stats es = {0};
    if (st == PA_OK) {
        pa_encode_options eo = {.num_buckets = (uint32_t)buckets,
                                .memory_bytes = memory,
                                .batch_rows = batch,
                                .model_path = model_path,
                                .progress = pa_cli_progress_cb,
                                .replace = force};
        st = pa_encode_input(in, model, be, out, &eo, &es);
        pa_cli_progress_end();
    }
    if (st != PA_OK) {
        rc = pa_cli_fail("encode", st);
    } else if (json) {
        printf("{\"artifact\":");
        pa_cli_json_string(stdout, out);
        printf(",\"backend\":\"%s\",\"rows\":%" PRIu64 ",\"skipped_invalid\":%" PRIu64
               ",\"bytes\":%" PRIu64 ",\"ranges\":%" PRIu64 ",\"seconds\":%.3f,"
               "\"read_seconds\":%.3f,\"encode_seconds\":%.3f,\"write_seconds\":%.3f,"
               "\"null_vectors\":%" PRIu64 "}\n",
               pa_backend_name(be), es.rows, es.skipped_invalid, es.bytes, es.ranges,
               es.seconds, es.read_seconds, es.encode_seconds, es.write_seconds,
               pa_vec_input_nulls(in));
    } else {
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
