/* partifact encode: stream an input through a backend (assign + encode) into a partition
 * artifact, within a memory budget. */
#include "tools/cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* partifact encode --input X --model M --out ARTIFACT [...] */
int pa_cmd_encode(int argc, char **argv)
{
    static const struct option opts[] = {
        {"input", required_argument, 0, 'i'},       {"model", required_argument, 0, 'm'},
        {"out", required_argument, 0, 'o'},         {"buckets", required_argument, 0, 'b'},
        {"memory", required_argument, 0, 'M'},      {"accelerator", required_argument, 0, 'a'},
        {"backend-path", required_argument, 0, 'P'}, {"batch", required_argument, 0, 'B'},
        {"column", required_argument, 0, 'c'},      {"version", required_argument, 0, 'V'},      {"skip-invalid", no_argument, 0, 'k'},
        {"json", no_argument, 0, 'j'},              {"help", no_argument, 0, 'h'},
        {"force", no_argument, 0, 'F'},             {"backend-option", required_argument, 0, 'O'},
        {0, 0, 0, 0}};
    char backend_opts[4096] = "";
    const char *input = NULL, *model_path = NULL, *out = NULL, *accel = "cpu", *bpath = NULL,
               *column = NULL;
    uint64_t buckets = 0, memory = PA_DEFAULT_MEMORY_BYTES, batch = 0;
    bool json = false, skip = false, force = false;
    uint64_t version = 0;
    int c;
    while ((c = getopt_long(argc, argv, "i:m:o:b:M:a:P:B:c:V:kjhFO:", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'i': input = optarg; break;
        case 'm': model_path = optarg; break;
        case 'o': out = optarg; break;
        case 'a': accel = optarg; break;
        case 'P': bpath = optarg; break;
        case 'O': ok = pa_cli_backend_option(backend_opts, sizeof backend_opts, optarg); break;
        case 'c': column = optarg; break;
        case 'V': ok = pa_cli_parse_count(optarg, &version) && version > 0; break;
        case 'b': ok = pa_cli_parse_count(optarg, &buckets) && buckets <= PA_MAX_BUCKETS; break;
        case 'M': ok = pa_cli_parse_size(optarg, &memory); break;
        case 'B': ok = pa_cli_parse_count(optarg, &batch) && batch > 0 && batch <= (1u << 24); break;
        case 'k': skip = true; break;
        case 'F': force = true; break;
        case 'j': json = true; break;
        case 'h':
            printf("usage: partifact encode --input X --model MODEL.lance --out ARTIFACT\n"
                   "         [--buckets B] [--memory 256MiB] [--accelerator NAME]\n"
                   "         [--backend-path DIR] [--batch N] [--column NAME] [--version N]\n"
                   "         [--backend-option KEY=VALUE]... [--skip-invalid] [--force] [--json]\n"
                   "Assigns every row of X to its partition and encodes its PQ code with a\n"
                   "backend (the built-in cpu, or libpartifact-backend-NAME.so from\n"
                   "--backend-path, $PARTIFACT_BACKEND_PATH or <prefix>/lib/partifact), and\n"
                   "streams (row_id, part_id, code) into a partition artifact. --memory bounds\n"
                   "the model, the input batch and the input's read buffer for it (a Lance\n"
                   "table's scan batch is sized from it), the cpu backend's working blocks and\n"
                   "the artifact writer's buffers; what does not fit is refused before any work.\n"
                   "--batch defaults to 65536 rows, or fewer so that a batch and its working\n"
                   "blocks take at most a quarter of --memory.\n"
                   "The artifact is written in a new directory beside ARTIFACT and renamed\n"
                   "into place when complete.\n" PA_CLI_BACKEND_HELP PA_CLI_FORCE_HELP
                   PA_CLI_TABLE_HELP);
            return 0;
        default: return PA_CLI_EXIT_FAIL;
        }
        if (!ok)
            return pa_cli_error("encode", "\"%s\" is not a valid value for --%s", optarg,
                                pa_cli_opt_name(opts, c));
    }
    if (!input || !model_path || !out)
        return pa_cli_error("encode", "--input, --model and --out are required (see --help)");
    const char *inputs[] = {input, model_path, bpath};
    if (pa_cli_check_output("encode", out, force, PA_ARTIFACT_MANIFEST_FILE, inputs, 3))
        return PA_CLI_EXIT_FAIL;
    pa_ivfpq_model *model = NULL;
    pa_vec_input *in = NULL;
    pa_backend *be = NULL;
    int rc = 0;
    pa_status st = pa_ivfpq_model_load(&model, model_path);
    if (st == PA_OK) {
        pa_vec_input_options io = {.struct_size = sizeof io, .column = column,
                                   .skip_invalid = skip, .version = version};
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
