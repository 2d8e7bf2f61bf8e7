/* partifact train: IVF_PQ training (optionally timing assign + encode over the whole input). */
#include "partifact_backend.h" /* pa_backend_model: the model as arrays */
#include "tools/cli.h"
#include "common/vecmath.h" /* pa_inv_norm: cosine's scaling, as the library does it */
#include "common/pq_code.h" /* pa_pq_code_get: a row's codes */

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Streams the whole input through assign + encode on the backend, summing the PQ
 * reconstruction error. */
static pa_status encode_all(const pa_ivfpq_model *m, pa_backend *be, pa_vec_input *in,
                            uint64_t *rows, double *secs, double *mse)
{
    pa_backend_model a;
    pa_ivfpq_model_arrays(m, &a);
    const size_t batch = PA_DEFAULT_BATCH_ROWS;
    const uint32_t dim = a.dim, M = a.num_sub_vectors, ds = dim / M, K = 1u << a.num_bits;
    const uint32_t W = pa_pq_code_bytes(M, a.num_bits);
    float *x = malloc(sizeof(float) * batch * dim);
    uint32_t *parts = malloc(sizeof(uint32_t) * batch);
    uint8_t *codes = malloc(batch * W);
    pa_status st = x && parts && codes
                       ? pa_vec_input_rewind(in)
                       : pa_fail(PA_ERR_NOMEM, "out of memory for --encode's batches of %zu rows",
                                 batch);
    bool bound = st == PA_OK && (st = pa_backend_bind(be, &a)) == PA_OK;
    double t_enc = 0, err = 0;
    uint64_t total = pa_vec_input_num_rows(in), done = 0;
    while (st == PA_OK) {
        size_t n;
        if ((st = pa_vec_input_next(in, x, NULL, batch, &n)) != PA_OK) {
            if (st == PA_END)
                st = PA_OK;
            break;
        }
        double t0 = pa_cli_now();
        st = pa_backend_assign_encode(be, x, n, parts, codes);
        t_enc += pa_cli_now() - t0;
        for (size_t i = 0; st == PA_OK && i < n; i++) { /* reconstruction error */
            const double norm = a.metric == PA_METRIC_COSINE ? pa_inv_norm(x + (size_t)i * dim, dim)
                                                             : 1.0;
            for (uint32_t d = 0; d < dim; d++) {
                double v = x[i * dim + d] * norm;
                if (a.metric != PA_METRIC_DOT)
                    v -= a.centroids[(size_t)parts[i] * dim + d];
                const uint32_t c = pa_pq_code_get(codes + i * W, d / ds, a.num_bits);
                v -= a.codebook[((size_t)(d / ds) * K + c) * ds + d % ds];
                err += v * v;
            }
        }
        done += n;
        pa_cli_progress("train: encoding rows", done, total);
    }
    pa_cli_progress_end();
    if (bound)
        pa_backend_unbind(be);
    free(x), free(parts), free(codes);
    *rows = done;
    *secs = t_enc;
    *mse = done ? err / (double)done : 0;
    return st;
}

/* partifact train: sample, train, save; optionally encode everything and report the error. */
int pa_cmd_train(int argc, char **argv)
{
    struct {
        const char *input, *out, *column;
        uint64_t partitions, sub_vectors, bits, max_iters, pq_iters, sample_rate, seed, version;
        pa_metric metric;
        bool json, encode, skip_invalid, force;
    } o = {.metric = PA_METRIC_L2, .bits = PA_DEFAULT_NUM_BITS, .seed = PA_DEFAULT_SEED};
    o.partitions = 256, o.sub_vectors = 16; /* the CLI's defaults: the library has none */
    o.max_iters = PA_DEFAULT_MAX_ITERS, o.pq_iters = PA_DEFAULT_PQ_MAX_ITERS;
    o.sample_rate = PA_DEFAULT_SAMPLE_RATE;
    const char *accel = PA_DEFAULT_BACKEND, *bpath = NULL;
    pa_cli_list bopts = {0};
    char backend_opts[PA_CLI_BACKEND_OPTIONS_MAX];
    pa_cli_opt opts[] = {
        PA_CLI_OPT_FORCE(&o.force),
        PA_CLI_OPT_JSON(&o.json),
        PA_CLI_OPTS_VECTORS(&o.input, &o.column, &o.version, &o.skip_invalid),
        PA_CLI_STR("out", &o.out, "MODEL.lance", "the model to write", .required = true),
        PA_CLI_NUM("partitions", &o.partitions, "P", "IVF partitions", .min = 1, .max = 1u << 24,
                   .field = "num_partitions"),
        PA_CLI_NUM("sub-vectors", &o.sub_vectors, "M", "PQ sub-vectors", .min = 1, .max = 4096,
                   .field = "num_sub_vectors"),
        PA_CLI_METRIC_OPT("metric", &o.metric, "l2|cosine|dot", "the distance", .field = "metric"),
        PA_CLI_NUM("bits", &o.bits, "B", "bits per PQ code", .max = 16, .field = "num_bits"),
        PA_CLI_NUM("max-iters", &o.max_iters, "N", "k-means iterations", .min = 1, .max = 99999,
                   .field = "max_iters"),
        PA_CLI_NUM("pq-iters", &o.pq_iters, "N", "PQ k-means iterations", .min = 1, .max = 99999,
                   .field = "pq_max_iters"),
        PA_CLI_NUM("sample-rate", &o.sample_rate, "N", "training rows per partition", .min = 1,
                   .max = (1u << 20) - 1, .field = "sample_rate"),
        PA_CLI_NUM("seed", &o.seed, "S", "the sampling and k-means seed", .field = "seed"),
        PA_CLI_FLAG("encode", &o.encode, "also assign + encode every row and report the PQ error"),
        PA_CLI_OPTS_BACKEND(&accel, &bpath, &bopts),
    };
    pa_cli_parse("train", opts, PA_CLI_NOPTS(opts), NULL, argc, argv);
    int rc = 0;
    if ((rc = pa_cli_backend_options("train", &bopts, backend_opts, sizeof backend_opts)))
        return rc;
    const char *inputs[] = {o.input, bpath};
    if ((rc = pa_cli_check_output("train", o.out, o.force, NULL, inputs, 2)))
        return rc;
    double t0 = pa_cli_now();
    pa_vec_input_options io = {.struct_size = sizeof io,
                               .column = o.column,
                               .skip_invalid = o.skip_invalid,
                               .version = o.version};
    pa_vec_input *in = NULL;
    pa_ivfpq_model *m = NULL;
    pa_backend *be = NULL;
    pa_status st = pa_vec_input_open(&in, o.input, &io);
    if (st != PA_OK)
        goto done;
    pa_ivfpq_params prm = {.struct_size = sizeof prm,
                           .num_partitions = (uint32_t)o.partitions,
                           .num_sub_vectors = (uint32_t)o.sub_vectors,
                           .num_bits = (uint32_t)o.bits,
                           .metric = o.metric,
                           .max_iters = (uint32_t)o.max_iters,
                           .pq_max_iters = (uint32_t)o.pq_iters,
                           .sample_rate = (uint32_t)o.sample_rate,
                           .seed = o.seed};
    pa_ivfpq_train_stats ts = PA_IVFPQ_TRAIN_STATS_INIT;
    if ((st = pa_backend_open(&be, accel, bpath, backend_opts)) != PA_OK)
        goto done;
    if (pa_cli_progress_enabled())
        fprintf(stderr, "train: sampling and training on %s...\n", o.input);
    st = pa_train_input(&m, in, &prm, be, &ts);
    double train_secs = pa_cli_now() - t0;
    if (st == PA_OK)
        st = pa_ivfpq_model_save_ex(m, o.out, o.force);
    uint64_t enc_rows = 0;
    double enc_secs = 0, mse = 0;
    if (st == PA_OK && o.encode)
        st = encode_all(m, be, in, &enc_rows, &enc_secs, &mse);
    if (st != PA_OK)
        goto done;
    if (o.json) {
        json_t *j = NULL;
        st = pa_json_pack(&j, "train --json",
                          "{s:o, s:o, s:I, s:i, s:i, s:i, s:s, s:I, s:i, s:i, s:i, s:o, s:o, s:o, "
                          "s:o, s:o}",
                          "input", pa_json_display_string(o.input), "model",
                          pa_json_display_string(o.out), "rows",
                          (json_int_t)pa_vec_input_num_rows(in), "dim", (int)pa_vec_input_dim(in),
                          "partitions", (int)prm.num_partitions, "sub_vectors",
                          (int)prm.num_sub_vectors, "metric", pa_metric_name(o.metric),
                          "sample_rows", (json_int_t)ts.sample_rows, "ivf_iters", (int)ts.ivf_iters,
                          "pq_iters", (int)ts.pq_iters, "empty_repaired", (int)ts.empty_repaired,
                          "train_seconds", PA_CLI_REAL3(train_secs), "ivf_seconds",
                          PA_CLI_REAL3(ts.ivf_seconds), "pq_seconds", PA_CLI_REAL3(ts.pq_seconds),
                          "ivf_work_share", PA_CLI_REAL3(ts.ivf_work_share), "pq_work_share",
                          PA_CLI_REAL3(ts.pq_work_share));
        json_t *e = NULL; /* --encode's figures, then the skipped rows */
        if (st == PA_OK && o.encode)
            st = pa_json_pack(&e, "train --json", "{s:I, s:o, s:f}", "encoded_rows",
                              (json_int_t)enc_rows, "assign_encode_seconds", PA_CLI_REAL3(enc_secs),
                              "pq_mse", mse);
        if (st == PA_OK && e && json_object_update(j, e) != 0)
            st = PA_ERR_NOMEM;
        json_decref(e);
        e = NULL;
        if (st == PA_OK)
            st = pa_json_pack(&e, "train --json", "{s:I, s:I}", "sample_skipped_invalid",
                              (json_int_t)ts.sample_skipped_invalid, "skipped_invalid",
                              (json_int_t)pa_vec_input_skipped(in));
        if (st == PA_OK && json_object_update(j, e) != 0)
            st = PA_ERR_NOMEM;
        json_decref(e);
        st = pa_cli_json_print(st, &j);
        if (st != PA_OK)
            goto done;
    } else {
        printf("trained %s: %u partitions, %u sub-vectors on %" PRIu64 " sampled rows of %" PRIu64
               " in %.2f s (IVF %u iterations %.2f s, PQ %.2f s)\n",
               o.out, prm.num_partitions, prm.num_sub_vectors, ts.sample_rows,
               pa_vec_input_num_rows(in), train_secs, ts.ivf_iters, ts.ivf_seconds, ts.pq_seconds);
        if (o.encode)
            printf("encoded %" PRIu64 " rows in %.2f s; PQ mean squared error %.6g\n", enc_rows,
                   enc_secs, mse);
    }
done:
    if (st != PA_OK)
        rc = pa_cli_fail("train", st);
    pa_backend_free(be);
    pa_ivfpq_model_free(m);
    pa_vec_input_free(in);
    return rc;
}
