/* partifact encode: stream an input through a backend (assign + encode) into a partition
 * artifact, within a memory budget. */
#include "tools/cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* partifact encode --input X --model M --out ARTIFACT [...] */
int pa_cmd_encode(int argc, char **argv)
{
    static const struct option opts[] = {
        {"input", required_argument, 0, 'i'},       {"model", required_argument, 0, 'm'},
        {"out", required_argument, 0, 'o'},         {"buckets", required_argument, 0, 'b'},
        {"memory", required_argument, 0, 'M'},      {"accelerator", required_argument, 0, 'a'},
        {"backend-path", required_argument, 0, 'P'}, {"batch", required_argument, 0, 'B'},
        {"column", required_argument, 0, 'c'},      {"skip-invalid", no_argument, 0, 'k'},
        {"json", no_argument, 0, 'j'},              {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *input = NULL, *model_path = NULL, *out = NULL, *accel = "cpu", *bpath = NULL,
               *column = NULL;
    uint64_t buckets = 0, memory = 256u << 20, batch = 65536;
    bool json = false, skip = false, batch_given = false;
    int c;
    while ((c = getopt_long(argc, argv, "i:m:o:b:M:a:P:B:c:kjh", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'i': input = optarg; break;
        case 'm': model_path = optarg; break;
        case 'o': out = optarg; break;
        case 'a': accel = optarg; break;
        case 'P': bpath = optarg; break;
        case 'c': column = optarg; break;
        case 'b': ok = pa_cli_parse_count(optarg, &buckets) && buckets <= (1u << 20); break;
        case 'M': ok = pa_cli_parse_size(optarg, &memory); break;
        case 'B':
            ok = pa_cli_parse_count(optarg, &batch) && batch > 0 && batch <= (1u << 24);
            batch_given = true;
            break;
        case 'k': skip = true; break;
        case 'j': json = true; break;
        case 'h':
            printf("usage: partifact encode --input X --model MODEL.lance --out ARTIFACT\n"
                   "         [--buckets B] [--memory 256MiB] [--accelerator NAME]\n"
                   "         [--backend-path DIR] [--batch 65536] [--column NAME]\n"
                   "         [--skip-invalid] [--json]\n"
                   "Assigns every row of X to its partition and encodes its PQ code with a\n"
                   "backend (the built-in cpu, or libpartifact-backend-NAME.so from\n"
                   "--backend-path, $PARTIFACT_BACKEND_PATH or <prefix>/lib/partifact), and\n"
                   "streams (row_id, part_id, code) into a partition artifact. --memory bounds\n"
                   "the model, the input batch, the cpu backend's working blocks and the\n"
                   "artifact writer's buffers; what does not fit is refused before any work.\n"
                   "--batch defaults to 65536 rows, or fewer so that a batch and its working\n"
                   "blocks take at most a quarter of --memory.\n");
            return 0;
        default: return PA_CLI_EXIT_FAIL;
        }
        if (!ok)
            return pa_cli_error("encode", "\"%s\" is not a valid value for %s", optarg,
                                argv[optind - 1]);
    }
    if (!input || !model_path || !out)
        return pa_cli_error("encode", "--input, --model and --out are required (see --help)");
    double t0 = now_s();
    pa_ivfpq_model *model = NULL;
    pa_vec_input *in = NULL;
    pa_backend *be = NULL;
    pa_artifact_writer *w = NULL;
    float *x = NULL;
    uint64_t *ids = NULL;
    uint32_t *parts = NULL;
    uint8_t *codes = NULL;
    pa_status st = pa_ivfpq_model_load(&model, model_path);
    pa_backend_model a = {0};
    if (st == PA_OK) {
        pa_ivfpq_model_arrays(model, &a);
        pa_vec_input_options io = {.column = column, .skip_invalid = skip};
        st = pa_vec_input_open(&in, input, &io);
    }
    int rc = 0;
    if (st == PA_OK && pa_vec_input_dim(in) != a.dim) {
        rc = pa_cli_error("encode", "%s has dimension %u, the model %s has %u", input,
                          pa_vec_input_dim(in), model_path, a.dim);
        goto cleanup;
    }
    /* The memory budget, checked before any work: the model (centroids, codebook and the
     * prepared norms/transposed codebook, once in the model and once per backend call), the
     * cpu backend's working blocks (an encode block of rows and the sgemm dot-product block;
     * a plugin backend's own memory is not ours to count), the input batch (vectors, row ids,
     * part ids, codes); what remains goes to the artifact writer, which refuses up front a
     * remainder too small for its buffers. */
    const uint64_t K = (uint64_t)1 << a.num_bits, P = a.num_partitions, D = a.dim;
    const uint64_t row_batch = D * 4 + 8 + 4 + a.num_sub_vectors;
    /* per row of a batch: the batch itself and at most its share of the working blocks */
    const uint64_t row_all = row_batch + D * 4 + P * 4;
    if (!batch_given && batch * row_all > memory / 4)
        batch = memory / 4 / row_all ? memory / 4 / row_all : 1;
    const uint64_t batch_bytes = batch * row_batch;
    const uint64_t model_bytes =
        P * D * 4 + K * D * 4 + 2 * (P * 4 + K * D * 4 + a.num_sub_vectors * K * 4);
    const uint64_t block = batch < 4096 ? batch : 4096;
    uint64_t dot_rows = P ? (16u << 20) / (4 * P) : 64;
    dot_rows = dot_rows < 64 ? 64 : dot_rows > block ? block : dot_rows;
    const uint64_t work_bytes = block * D * 4 + dot_rows * P * 4;
    const uint64_t fixed = model_bytes + work_bytes + batch_bytes;
    if (st == PA_OK && fixed >= memory) {
        rc = pa_cli_error("encode", "the --memory budget of %" PRIu64 " bytes is too small: the "
                          "model (%" PRIu64 " partitions, dimension %" PRIu64 ") needs %" PRIu64
                          " bytes, the backend's working blocks %" PRIu64 ", a batch of %" PRIu64
                          " rows %" PRIu64 ", and the artifact writer the rest; lower --batch or "
                          "raise --memory",
                          memory, P, D, model_bytes, work_bytes, batch, batch_bytes);
        goto cleanup;
    }
    if (st == PA_OK)
        st = pa_backend_open(&be, accel, bpath, NULL);
    if (st == PA_OK) {
        pa_artifact_params prm = {.num_partitions = a.num_partitions,
                                  .num_buckets = (uint32_t)buckets,
                                  .code_bytes = a.num_sub_vectors,
                                  .num_bits = a.num_bits,
                                  .dimension = a.dim,
                                  .metric = pa_metric_name((pa_metric)a.metric),
                                  .model = model_path,
                                  .memory_bytes = memory - fixed,
                                  .expected_rows = pa_vec_input_num_rows(in)};
        st = pa_artifact_writer_create(&w, out, &prm);
        if (st == PA_ERR_BUDGET) {
            rc = pa_cli_error("encode", "the --memory budget of %" PRIu64 " bytes leaves %" PRIu64
                              " bytes for the artifact writer after the model (%" PRIu64
                              "), the backend's working blocks (%" PRIu64 ") and a batch of %"
                              PRIu64 " rows (%" PRIu64 "): %s", memory, memory - fixed,
                              model_bytes, work_bytes, batch, batch_bytes, pa_last_error());
            goto cleanup;
        }
    }
    if (st == PA_OK) {
        x = malloc(sizeof(float) * batch * a.dim);
        ids = malloc(8 * batch);
        parts = malloc(4 * batch);
        codes = malloc(batch * a.num_sub_vectors);
        if (!x || !ids || !parts || !codes) {
            rc = pa_cli_error("encode", "out of memory allocating a batch of %" PRIu64 " rows",
                              batch);
            goto cleanup;
        }
    }
    double t_read = 0, t_encode = 0, t_write = 0;
    uint64_t total = st == PA_OK ? pa_vec_input_num_rows(in) : 0, done = 0;
    while (st == PA_OK) {
        size_t n;
        double t1 = now_s();
        if ((st = pa_vec_input_next(in, x, ids, (size_t)batch, &n)) != PA_OK || n == 0)
            break;
        double t2 = now_s();
        if ((st = pa_backend_assign_encode(be, &a, x, n, parts, codes)) != PA_OK)
            break;
        double t3 = now_s();
        st = pa_artifact_writer_append(w, ids, n, parts, n, codes, n * a.num_sub_vectors);
        t_read += t2 - t1, t_encode += t3 - t2, t_write += now_s() - t3;
        done += n;
        pa_cli_progress("encode: rows", done, total);
    }
    pa_cli_progress_end();
    if (st == PA_OK) {
        double t1 = now_s();
        st = pa_artifact_writer_finish(w);
        t_write += now_s() - t1;
    }
    if (st != PA_OK) {
        rc = pa_cli_fail("encode", st);
    } else {
        pa_artifact_write_stats ws;
        pa_artifact_writer_stats(w, &ws);
        double secs = now_s() - t0;
        if (json) {
            printf("{\"artifact\":");
            pa_cli_json_string(stdout, out);
            printf(",\"backend\":\"%s\",\"rows\":%" PRIu64 ",\"skipped_invalid\":%" PRIu64
                   ",\"partitions\":%u,\"bytes\":%" PRIu64 ",\"ranges\":%" PRIu64
                   ",\"seconds\":%.3f,\"read_seconds\":%.3f,\"encode_seconds\":%.3f,"
                   "\"write_seconds\":%.3f}\n",
                   pa_backend_name(be), ws.rows, pa_vec_input_skipped(in), a.num_partitions,
                   ws.bytes_written, ws.ranges, secs, t_read, t_encode, t_write);
        } else {
            printf("encoded %" PRIu64 " rows into %s with the %s backend: %u partitions, %" PRIu64
                   " bytes in %.2f s (read %.2f s, assign+encode %.2f s, write %.2f s)\n",
                   ws.rows, out, pa_backend_name(be), a.num_partitions, ws.bytes_written, secs,
                   t_read, t_encode, t_write);
        }
    }
cleanup:
    free(x), free(ids), free(parts), free(codes);
    pa_artifact_writer_free(w); /* aborts an unfinished artifact */
    pa_backend_free(be);
    pa_vec_input_free(in);
    pa_ivfpq_model_free(model);
    return rc;
}
