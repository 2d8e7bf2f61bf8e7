/* partifact gen-vectors / train: generated data with neighbourhood structure, and IVF_PQ
 * training (optionally timing assign + encode over the whole input). */
#include "partifact_backend.h" /* pa_backend_model: the model as arrays */
#include "tools/cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A standard normal draw (Box-Muller). */
static double gauss(uint64_t *s)
{
    double u = ((double)(splitmix(s) >> 11) + 0.5) / 9007199254740992.0;
    double v = ((double)(splitmix(s) >> 11) + 0.5) / 9007199254740992.0;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* partifact gen-vectors: clustered vectors in a random low-rank subspace plus noise, written as
 * .fvecs. Row i's values depend only on (seed, i), so base and query sets can be made apart. */
int pa_cmd_gen_vectors(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},      {"rows", required_argument, 0, 'n'},
        {"dim", required_argument, 0, 'd'},      {"clusters", required_argument, 0, 'c'},
        {"rank", required_argument, 0, 'r'},     {"seed", required_argument, 0, 's'},
        {"first-row", required_argument, 0, 'f'}, {"noise", required_argument, 0, 'z'},
        {"help", no_argument, 0, 'h'},           {"force", no_argument, 0, 'F'},
        {0, 0, 0, 0}};
    const char *out = NULL;
    uint64_t rows = 1000000, dim = 128, clusters = 1000, rank = 32, seed = 1, first = 0;
    double noise = 0.3;
    bool force = false;
    int c;
    while ((c = getopt_long(argc, argv, "o:n:d:c:r:s:f:z:hF", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'o': out = optarg; break;
        case 'n': ok = pa_cli_parse_count(optarg, &rows); break;
        case 'd': ok = pa_cli_parse_count(optarg, &dim) && dim > 0 && dim <= 65536; break;
        case 'c': ok = pa_cli_parse_count(optarg, &clusters) && clusters > 0; break;
        case 'r': ok = pa_cli_parse_count(optarg, &rank) && rank > 0; break;
        case 's': ok = pa_cli_parse_count(optarg, &seed); break;
        case 'f': ok = pa_cli_parse_count(optarg, &first); break;
        case 'z': noise = atof(optarg); ok = noise >= 0; break;
        case 'F': force = true; break;
        case 'h':
            printf("usage: partifact gen-vectors --out FILE.fvecs [--rows 1M] [--dim 128]\n"
                   "         [--clusters 1000] [--rank 32] [--noise 0.3] [--seed 1] [--first-row 0]\n"
                   "         [--force]\n"
                   "Writes clustered vectors: cluster centres in a random rank-R subspace, each\n"
                   "row a centre plus Gaussian spread in the subspace and isotropic noise. Rows\n"
                   "depend only on (seed, row number): --first-row 1000000 --rows 10000 gives\n"
                   "query rows drawn from the same distribution as, but distinct from, the base.\n"
                   "The file is written under a temporary name and renamed into place.\n"
                   PA_CLI_FORCE_HELP);
            return 0;
        default: return PA_CLI_EXIT_FAIL;
        }
        if (!ok)
            return pa_cli_error("gen-vectors", "\"%s\" is not a valid value for --%s", optarg,
                                pa_cli_opt_name(opts, c));
    }
    if (!out)
        return pa_cli_error("gen-vectors", "--out is required (see --help)");
    rank = PA_CLI_MIN(rank, dim);
    /* basis (rank x dim) and centres (clusters x rank) from the seed */
    uint64_t s = seed;
    float *basis = malloc(sizeof(float) * rank * dim);
    float *centre = malloc(sizeof(float) * clusters * rank);
    float *row = malloc(sizeof(float) * dim);
    pa_output *f = NULL;
    pa_status st = basis && centre && row ? pa_output_create(&f, out, force) : PA_ERR_NOMEM;
    if (st != PA_OK) {
        free(basis), free(centre), free(row);
        return pa_cli_fail("gen-vectors", st);
    }
    for (uint64_t k = 0; k < rank * dim; k++)
        basis[k] = (float)(gauss(&s) / sqrt((double)rank));
    for (uint64_t k = 0; k < clusters * rank; k++)
        centre[k] = (float)(gauss(&s) * 3.0);
    int32_t d32 = (int32_t)dim;
    for (uint64_t i = 0; i < rows; i++) {
        uint64_t rs = (seed * 0x9E3779B97F4A7C15ull) ^ (first + i) * 0xD1B54A32D192ED03ull;
        uint64_t cl = splitmix(&rs) % clusters;
        float z[4096];
        for (uint64_t t = 0; t < rank; t++)
            z[t] = centre[cl * rank + t] + (float)gauss(&rs);
        for (uint64_t j = 0; j < dim; j++) {
            float v = 0;
            for (uint64_t t = 0; t < rank; t++)
                v += z[t] * basis[t * dim + j];
            row[j] = v + (float)(gauss(&rs) * noise);
        }
        if ((st = pa_output_write(f, &d32, 4)) != PA_OK ||
            (st = pa_output_write(f, row, 4 * dim)) != PA_OK) {
            pa_output_free(f); /* the old file, if any, is left as it was */
            free(basis), free(centre), free(row);
            return pa_cli_fail("gen-vectors", st);
        }
        if (i % 4096 == 0)
            pa_cli_progress("gen-vectors: rows", i, rows);
    }
    pa_cli_progress_end();
    free(basis), free(centre), free(row);
    st = pa_output_commit(f);
    pa_output_free(f);
    if (st != PA_OK)
        return pa_cli_fail("gen-vectors", st);
    printf("wrote %s: %" PRIu64 " rows of dimension %" PRIu64 " (%" PRIu64 " clusters, rank %"
           PRIu64 ")\n", out, rows, dim, clusters, rank);
    return 0;
}

/* Options shared by train and encode. */
typedef struct train_opts {
    const char *input, *out, *column;
    uint64_t partitions, sub_vectors, bits, max_iters, pq_iters, sample_rate, seed, version;
    pa_metric metric;
    bool json, encode, skip_invalid, force;
} train_opts;

/* Streams the whole input through assign + encode on the backend, summing the PQ
 * reconstruction error. */
static pa_status encode_all(const pa_ivfpq_model *m, pa_backend *be, pa_vec_input *in,
                            uint64_t *rows, double *secs, double *mse)
{
    pa_backend_model a;
    pa_ivfpq_model_arrays(m, &a);
    const size_t batch = 65536;
    const uint32_t dim = a.dim, M = a.num_sub_vectors, ds = dim / M, K = 1u << a.num_bits;
    float *x = malloc(sizeof(float) * batch * dim);
    uint32_t *parts = malloc(sizeof(uint32_t) * batch);
    uint8_t *codes = malloc(batch * M);
    if (!x || !parts || !codes) {
        free(x), free(parts), free(codes);
        return PA_ERR_NOMEM;
    }
    pa_status st = pa_vec_input_rewind(in);
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
            double norm = 1;
            if (a.metric == PA_METRIC_COSINE) {
                double s = 0;
                for (uint32_t d = 0; d < dim; d++)
                    s += (double)x[i * dim + d] * x[i * dim + d];
                norm = s > 0 ? 1 / sqrt(s) : 1;
            }
            for (uint32_t d = 0; d < dim; d++) {
                double v = x[i * dim + d] * norm;
                if (a.metric != PA_METRIC_DOT)
                    v -= a.centroids[(size_t)parts[i] * dim + d];
                v -= a.codebook[((size_t)(d / ds) * K + codes[i * M + d / ds]) * ds + d % ds];
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
    static const struct option opts[] = {
        {"input", required_argument, 0, 'i'},       {"out", required_argument, 0, 'o'},
        {"partitions", required_argument, 0, 'p'},  {"sub-vectors", required_argument, 0, 'm'},
        {"metric", required_argument, 0, 'M'},      {"bits", required_argument, 0, 'b'},
        {"max-iters", required_argument, 0, 'I'},   {"sample-rate", required_argument, 0, 'S'},
        {"pq-iters", required_argument, 0, 'Q'},
        {"seed", required_argument, 0, 's'},        {"column", required_argument, 0, 'c'},
        {"version", required_argument, 0, 'V'},
        {"skip-invalid", no_argument, 0, 'k'},      {"encode", no_argument, 0, 'e'},
        {"json", no_argument, 0, 'j'},              {"help", no_argument, 0, 'h'},
        {"force", no_argument, 0, 'F'},             {"accelerator", required_argument, 0, 'a'},
        {"backend-path", required_argument, 0, 'P'}, {"backend-option", required_argument, 0, 'O'},
        {0, 0, 0, 0}};
    const char *accel = PA_DEFAULT_BACKEND, *bpath = NULL;
    char backend_opts[4096] = "";
    train_opts o = {.partitions = 256, .sub_vectors = 16, .bits = PA_DEFAULT_NUM_BITS,
                    .max_iters = PA_DEFAULT_MAX_ITERS, .pq_iters = PA_DEFAULT_PQ_MAX_ITERS,
                    .sample_rate = PA_DEFAULT_SAMPLE_RATE, .seed = PA_DEFAULT_SEED,
                    .metric = PA_METRIC_L2};
    int c;
    while ((c = getopt_long(argc, argv, "i:o:p:m:M:b:I:S:s:c:V:kejhFa:P:O:", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'i': o.input = optarg; break;
        case 'o': o.out = optarg; break;
        case 'c': o.column = optarg; break;
        case 'a': accel = optarg; break;
        case 'P': bpath = optarg; break;
        case 'O': ok = pa_cli_backend_option(backend_opts, sizeof backend_opts, optarg); break;
        case 'V': ok = pa_cli_parse_count(optarg, &o.version) && o.version > 0; break;
        case 'p': ok = pa_cli_parse_count(optarg, &o.partitions) && o.partitions > 0 && o.partitions <= (1u << 24); break;
        case 'm': ok = pa_cli_parse_count(optarg, &o.sub_vectors) && o.sub_vectors > 0 && o.sub_vectors <= 4096; break;
        case 'b': ok = pa_cli_parse_count(optarg, &o.bits) && o.bits <= 16; break;
        case 'I': ok = pa_cli_parse_count(optarg, &o.max_iters) && o.max_iters > 0 && o.max_iters < 100000; break;
        case 'Q': ok = pa_cli_parse_count(optarg, &o.pq_iters) && o.pq_iters > 0 && o.pq_iters < 100000; break;
        case 'S': ok = pa_cli_parse_count(optarg, &o.sample_rate) && o.sample_rate > 0 && o.sample_rate < (1u << 20); break;
        case 's': ok = pa_cli_parse_count(optarg, &o.seed); break;
        case 'M':
            if (pa_metric_parse(optarg, &o.metric) != PA_OK)
                return pa_cli_error("train", "--metric: \"%s\" is not l2, cosine or dot", optarg);
            break;
        case 'k': o.skip_invalid = true; break;
        case 'e': o.encode = true; break;
        case 'F': o.force = true; break;
        case 'j': o.json = true; break;
        case 'h':
            printf("usage: partifact train --input X --partitions P --sub-vectors M --out MODEL.lance\n"
                   "         [--metric l2|cosine|dot] [--bits 8] [--max-iters 10] [--pq-iters 25]\n"
                   "         [--sample-rate 256] [--seed 42] [--column NAME] [--version N]\n"
                   "         [--accelerator NAME] [--backend-path DIR] [--backend-option KEY=VALUE]...\n"
                   "         [--skip-invalid] [--encode] [--force] [--json]\n"
                   "Trains an IVF_PQ model (coarse k-means, then PQ codebooks on residuals) on a\n"
                   "seeded random sample of sample-rate x partitions rows (at least 65,536 when\n"
                   "the input has them) and saves it as a Lance file. The same seed and input\n"
                   "give a byte-identical model. --encode also assigns and encodes every row\n"
                   "(timed, on the backend) and reports the PQ mean squared reconstruction error.\n"
                   "The backend (--accelerator: the built-in cpu, or libpartifact-backend-NAME.so\n"
                   "from --backend-path, $PARTIFACT_BACKEND_PATH or <prefix>/lib/partifact)\n"
                   "trains the model (and encodes, with --encode).\n" PA_CLI_BACKEND_HELP
                   "X: .fvecs, .bvecs, .npy (float32, float16, uint8) or a Lance dataset.\n"
                   "The model is written under a temporary name and renamed into place.\n"
                   PA_CLI_FORCE_HELP PA_CLI_TABLE_HELP);
            return 0;
        default: return PA_CLI_EXIT_FAIL;
        }
        if (!ok)
            return pa_cli_error("train", "\"%s\" is not a valid value for --%s", optarg,
                                pa_cli_opt_name(opts, c));
    }
    if (!o.input || !o.out)
        return pa_cli_error("train", "--input and --out are required (see --help)");
    const char *inputs[] = {o.input, bpath};
    if (pa_cli_check_output("train", o.out, o.force, NULL, inputs, 2))
        return PA_CLI_EXIT_FAIL;
    double t0 = pa_cli_now();
    pa_vec_input_options io = {.struct_size = sizeof io, .column = o.column, .skip_invalid = o.skip_invalid,
                               .version = o.version};
    pa_vec_input *in;
    pa_status st = pa_vec_input_open(&in, o.input, &io);
    if (st != PA_OK)
        return pa_cli_fail("train", st);
    pa_ivfpq_params prm = {.struct_size = sizeof prm,
                           .num_partitions = (uint32_t)o.partitions,
                           .num_sub_vectors = (uint32_t)o.sub_vectors,
                           .num_bits = (uint32_t)o.bits, .metric = o.metric,
                           .max_iters = (uint32_t)o.max_iters,
                           .pq_max_iters = (uint32_t)o.pq_iters,
                           .sample_rate = (uint32_t)o.sample_rate, .seed = o.seed};
    pa_ivfpq_model *m = NULL;
    pa_backend *be = NULL;
    pa_ivfpq_train_stats ts = PA_IVFPQ_TRAIN_STATS_INIT;
    if ((st = pa_backend_open(&be, accel, bpath, backend_opts)) != PA_OK) {
        pa_vec_input_free(in);
        return pa_cli_fail("train", st);
    }
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
    pa_backend_free(be);
    if (st != PA_OK) {
        int rc = pa_cli_fail("train", st);
        pa_ivfpq_model_free(m);
        pa_vec_input_free(in);
        return rc;
    }
    if (o.json) {
        printf("{\"input\":");
        pa_cli_json_string(stdout, o.input);
        printf(",\"model\":");
        pa_cli_json_string(stdout, o.out);
        printf(",\"rows\":%" PRIu64 ",\"dim\":%u,\"partitions\":%u,\"sub_vectors\":%u,"
               "\"metric\":\"%s\",\"sample_rows\":%" PRIu64 ",\"ivf_iters\":%u,\"pq_iters\":%u,"
               "\"empty_repaired\":%u,\"train_seconds\":%.3f,\"ivf_seconds\":%.3f,"
               "\"pq_seconds\":%.3f",
               pa_vec_input_num_rows(in), pa_vec_input_dim(in), prm.num_partitions,
               prm.num_sub_vectors, pa_metric_name(o.metric), ts.sample_rows, ts.ivf_iters,
               ts.pq_iters, ts.empty_repaired, train_secs, ts.ivf_seconds, ts.pq_seconds);
        if (o.encode)
            printf(",\"encoded_rows\":%" PRIu64 ",\"assign_encode_seconds\":%.3f,\"pq_mse\":%.6g",
                   enc_rows, enc_secs, mse);
        printf(",\"sample_skipped_invalid\":%" PRIu64, ts.sample_skipped_invalid);
        printf(",\"skipped_invalid\":%" PRIu64 "}\n", pa_vec_input_skipped(in));
    } else {
        printf("trained %s: %u partitions, %u sub-vectors on %" PRIu64 " sampled rows of %" PRIu64
               " in %.2f s (IVF %u iterations %.2f s, PQ %.2f s)\n", o.out, prm.num_partitions,
               prm.num_sub_vectors, ts.sample_rows, pa_vec_input_num_rows(in), train_secs,
               ts.ivf_iters, ts.ivf_seconds, ts.pq_seconds);
        if (o.encode)
            printf("encoded %" PRIu64 " rows in %.2f s; PQ mean squared error %.6g\n", enc_rows,
                   enc_secs, mse);
    }
    pa_ivfpq_model_free(m);
    pa_vec_input_free(in);
    return 0;
}
