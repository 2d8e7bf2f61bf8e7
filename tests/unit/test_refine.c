/* Search refine (src/index/refine.h) against plain references computed here: every kernel
 * (portable, AVX2, AVX-512) gives each row's distance and squared norm bit for bit as the scalar
 * loops do, and refuses the rows check_row refuses (NaN, infinity, squared norm over the
 * limit); a refined search returns exactly the reference's ids and distances (the candidates'
 * exact distances sorted), for every metric, 8-bit and 4-bit codes, one or two threads, rows
 * read in place (.fvecs, .npy) or read and copied (a Lance dataset); and a refine input that
 * does not hold the index's rows (a NaN, an infinity, a huge row, a record of another
 * dimension, too few rows) is refused with the message that names the row. */
#include "index/refine.h"
#include "ivfpq/ivfpq_internal.h"
#include "test.h"

#include <math.h>

#define N 4000
#define DIM 24
#define NQ 40
#define K 10
#define RF 6
#define P 16

static float *data, *queries;
static uint64_t rng = 0x7ef1e;

/* The references: what search reported before the kernels (exact_dist on a copy). */
static float ref_dist(pa_metric metric, const float *q, const float *v, uint32_t dim)
{
    float *c = malloc(sizeof(float) * dim);
    memcpy(c, v, sizeof(float) * dim);
    float d;
    if (metric == PA_METRIC_DOT)
        d = -pa_dotf(q, c, dim);
    else {
        if (metric == PA_METRIC_COSINE)
            pa_normalize(c, dim);
        d = pa_l2sq(q, c, dim);
    }
    free(c);
    return d;
}

/* qsort order of (distance, id) pairs, as pa_topk_cmp */
static int cmp_cand(const void *a, const void *b) { return pa_topk_cmp(a, b); }

static bool same_bits_f(float a, float b) { return !memcmp(&a, &b, sizeof a); }
static bool same_bits_d(double a, double b) { return !memcmp(&a, &b, sizeof a); }

/* Rows of random values at mixed scales (and, with bad, some NaN, infinite and huge rows),
 * handed to each kernel in a shuffled order through pointers, for every metric. */
static void test_kernels(void)
{
    static const uint32_t dims[] = {1, 3, 16, 17, 24, 128, 131};
    static const uint32_t counts[] = {1, 7, 15, 16, 17, 33, 80};
    const int levels[] = {0, 1, 2};
    const pa_metric metrics[] = {PA_METRIC_L2, PA_METRIC_COSINE, PA_METRIC_DOT};
    int mismatches = 0, refusals = 0, bad_rows = 0, runs = 0;
    for (size_t di = 0; di < sizeof dims / sizeof *dims; di++) {
        const uint32_t dim = dims[di];
        const uint32_t pool = 100;
        float *rows = malloc(sizeof(float) * pool * dim), *q = malloc(sizeof(float) * dim);
        bool *bad = calloc(pool, sizeof *bad);
        for (uint32_t i = 0; i < pool * dim; i++)
            rows[i] = pa_t_frand(&rng) * (i % 7 == 0 ? 1000.0f : i % 5 == 0 ? 1e-3f : 1.0f);
        for (uint32_t i = 0; i < dim; i++)
            q[i] = pa_t_frand(&rng) * 3;
        memset(rows + 3 * dim, 0, sizeof(float) * dim); /* a zero row (cosine keeps it) */
        rows[11 * dim + dim / 2] = NAN, bad[11] = true;
        rows[23 * dim] = INFINITY, bad[23] = true;
        rows[37 * dim + dim - 1] = -INFINITY, bad[37] = true;
        for (uint32_t i = 0; i < dim; i++) /* finite, squared norm over PA_MAX_SQ_NORM */
            rows[51 * dim + i] = 3e18f;
        bad[51] = true;
        rows[64 * dim] = 2.3e18f; /* below the limit: a good row, however large */
        for (size_t ci = 0; ci < sizeof counts / sizeof *counts; ci++) {
            const uint32_t n = counts[ci];
            const float **ptr = malloc(sizeof *ptr * n);
            uint32_t *which = malloc(sizeof *which * n);
            for (uint32_t j = 0; j < n; j++) {
                which[j] = (uint32_t)(pa_t_xorshift(&rng) % pool);
                ptr[j] = rows + (size_t)which[j] * dim;
            }
            float *dist = malloc(sizeof(float) * n);
            double *sq = malloc(sizeof(double) * n);
            for (int li = 0; li < 3; li++) {
                if ((levels[li] == 2 && !__builtin_cpu_supports("avx512f")) ||
                    (levels[li] == 1 && !__builtin_cpu_supports("avx2")))
                    continue;
                for (int mi = 0; mi < 3; mi++) {
                    float *qq = malloc(sizeof(float) * dim);
                    memcpy(qq, q, sizeof(float) * dim);
                    if (metrics[mi] == PA_METRIC_COSINE)
                        pa_normalize(qq, dim);
                    pa_refine_kernel(levels[li], metrics[mi], qq, dim, ptr, n, dist, sq);
                    runs++;
                    for (uint32_t j = 0; j < n; j++) {
                        const double rsq = pa_sq_norm(ptr[j], dim);
                        const bool refused = !(sq[j] <= PA_MAX_SQ_NORM);
                        bad_rows += bad[which[j]];
                        refusals += refused && bad[which[j]];
                        if (refused != bad[which[j]] ||
                            (!bad[which[j]] &&
                             (!same_bits_d(sq[j], rsq) ||
                              !same_bits_f(dist[j], ref_dist(metrics[mi], qq, ptr[j], dim))))) {
                            if (mismatches++ < 5)
                                fprintf(stderr,
                                        "kernel %d metric %d dim %u n %u row %u: %.9g %.17g, "
                                        "reference %.9g %.17g\n",
                                        levels[li], metrics[mi], dim, n, which[j], dist[j], sq[j],
                                        ref_dist(metrics[mi], qq, ptr[j], dim), rsq);
                        }
                    }
                    free(qq);
                }
            }
            free(ptr), free(which), free(dist), free(sq);
        }
        free(rows), free(q), free(bad);
    }
    fprintf(stderr, "kernels: %d runs, %d bad rows refused of %d, %d mismatches\n", runs, refusals,
            bad_rows, mismatches);
    CHECK(mismatches == 0);
    CHECK(bad_rows > 0 && refusals == bad_rows);
}

/* pa_refine_select keeps the set that sorting keeps, whatever the order and ties in distance;
 * pa_refine_top, that set's best in order. */
/* pa_self_dots gives pa_dotf(v, v)'s floats for every row, whichever kernel runs, for
 * dimensions with and without a tail past a multiple of 8 and counts past a multiple of 16. */
static void test_self_dots(void)
{
    static const uint32_t dims[] = {1, 5, 8, 24, 131, 784};
    static const uint32_t counts[] = {1, 15, 16, 33};
    for (size_t di = 0; di < sizeof dims / sizeof *dims; di++) {
        const uint32_t dim = dims[di];
        float *x = malloc(sizeof(float) * 33 * dim), *out = malloc(sizeof(float) * 33);
        if (!x || !out) {
            free(x), free(out);
            CHECK(0);
            return;
        }
        for (uint32_t i = 0; i < 33 * dim; i++)
            x[i] = pa_t_frand(&rng) * (i % 7 == 0 ? 1000.0f : i % 5 == 0 ? 1e-3f : 1.0f);
        for (size_t ci = 0; ci < sizeof counts / sizeof *counts; ci++)
            for (int level = 0; level <= 2; level++) {
                const uint32_t n = counts[ci];
                pa_self_dots(level, x, n, dim, out);
                int bad = 0;
                for (uint32_t i = 0; i < n; i++) {
                    const float want = pa_dotf(x + (size_t)i * dim, x + (size_t)i * dim, dim);
                    bad += memcmp(&want, &out[i], sizeof want) != 0;
                }
                CHECK(bad == 0);
            }
        free(x), free(out);
    }
}

static void test_select(void)
{
    static const uint32_t sizes[] = {1, 2, 3, 10, 20, 80, 160, 161, 1000, 5000};
    int wrong = 0, cases = 0;
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
        for (int shape = 0; shape < 4; shape++) {
            const uint32_t n = sizes[si];
            pa_topk_cand *a = malloc(sizeof *a * n), *b = malloc(sizeof *b * n);
            for (uint32_t j = 0; j < n; j++) { /* random, few distances, sorted, reversed */
                const float d = shape == 0   ? pa_t_frand(&rng)
                                : shape == 1 ? (float)(pa_t_xorshift(&rng) % 4)
                                : shape == 2 ? (float)j
                                             : (float)(n - j);
                a[j] = (pa_topk_cand){d, 0, pa_t_xorshift(&rng) % 100000};
            }
            for (uint32_t c = 0; c <= n + 1; c += PA_MAX(1u, n / 7)) {
                memcpy(b, a, sizeof *a * n);
                pa_refine_select(b, n, c);
                const uint32_t kept = PA_MIN(c, n);
                qsort(b, kept, sizeof *b, cmp_cand);
                pa_topk_cand *s = malloc(sizeof *s * n);
                memcpy(s, a, sizeof *a * n);
                qsort(s, n, sizeof *s, cmp_cand);
                wrong += memcmp(b, s, sizeof *b * kept) != 0;
                pa_refine_scratch rs;
                CHECK_OK(pa_refine_scratch_init(&rs, n, 1));
                memcpy(b, a, sizeof *a * n);
                pa_refine_top(b, n, c, &rs);
                for (uint32_t j = 0; j < kept; j++)
                    wrong += b[j].id != s[j].id || b[j].d != s[j].d;
                pa_refine_scratch_free(&rs);
                free(s);
                cases++;
            }
            free(a), free(b);
        }
    fprintf(stderr, "select: %d cases, %d wrong\n", cases, wrong);
    CHECK(cases > 100 && wrong == 0);
}

/* A float32 .npy of n x dim (NumPy 1.0 header, padded to 128 bytes). */
static void write_npy(const char *path, const float *x, int n, int dim)
{
    char h[128];
    int len = snprintf(h + 10, sizeof h - 10,
                       "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", n, dim);
    memcpy(h, "\x93NUMPY\x01\x00", 8);
    for (int i = 10 + len; i < 127; i++)
        h[i] = ' ';
    h[127] = '\n';
    const uint16_t hl = 128 - 10;
    memcpy(h + 8, &hl, 2);
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    fwrite(h, 1, 128, f);
    fwrite(x, sizeof(float), (size_t)n * dim, f);
    fclose(f);
}

/* Searches with refine and compares each query's results with the reference: the candidates
 * (the same search's k * RF best without refine) re-ranked here by their exact distances. */
static void check_refined(pa_index *x, pa_vec_input *in, pa_metric metric, uint32_t threads,
                          const char *what)
{
    uint64_t *cand = malloc(sizeof(uint64_t) * NQ * K * RF), ids[NQ * K];
    float *cd = malloc(sizeof(float) * NQ * K * RF), dists[NQ * K];
    pa_index_search_options o = {.struct_size = sizeof o,
                                 .k = K * RF,
                                 .nprobes = 3,
                                 .num_threads = threads};
    CHECK_OK(pa_index_search(x, queries, NQ, DIM, &o, cand, cd, NULL));
    o.k = K, o.refine_factor = RF, o.refine_input = in;
    pa_index_search_stats ss = PA_INDEX_SEARCH_STATS_INIT;
    CHECK_OK(pa_index_search(x, queries, NQ, DIM, &o, ids, dists, &ss));
    int wrong = 0;
    uint64_t refined = 0;
    for (int q = 0; q < NQ; q++) {
        float qq[DIM];
        memcpy(qq, queries + q * DIM, sizeof qq);
        if (metric == PA_METRIC_COSINE)
            pa_normalize(qq, DIM);
        pa_topk_cand c[K * RF];
        int nc = 0;
        for (int j = 0; j < K * RF; j++) {
            const uint64_t id = cand[q * K * RF + j];
            if (id == UINT64_MAX)
                continue;
            c[nc].d = ref_dist(metric, qq, data + (id & 0xFFFFFFFFu) * DIM, DIM);
            c[nc].aux = 0, c[nc].id = id;
            nc++;
        }
        refined += (uint64_t)nc;
        qsort(c, (size_t)nc, sizeof *c, cmp_cand);
        for (int j = 0; j < K; j++) {
            const uint64_t want = j < nc ? c[j].id : UINT64_MAX;
            const float wd = j < nc ? c[j].d : INFINITY;
            if (ids[q * K + j] != want || !same_bits_f(dists[q * K + j], wd))
                if (wrong++ < 3)
                    fprintf(stderr,
                            "%s: query %d rank %d: id %llu distance %.9g, reference %llu %.9g\n",
                            what, q, j, (unsigned long long)ids[q * K + j], dists[q * K + j],
                            (unsigned long long)want, wd);
        }
    }
    fprintf(stderr, "%s: %d of %d results differ from the reference\n", what, wrong, NQ * K);
    CHECK(wrong == 0);
    CHECK(ss.rows_refined == refined);
    free(cand), free(cd);
}

/* The index of base.fvecs for a metric and code width: built once, opened. */
static pa_index *open_index(const char *metric_name, pa_metric metric, uint32_t bits)
{
    char idx[64];
    snprintf(idx, sizeof idx, "idx-%s-%u", metric_name, bits);
    struct stat sb;
    if (stat(tpath(idx), &sb) != 0) {
        pa_vec_input *in = NULL;
        CHECK_OK(pa_vec_input_open(&in, tpath("base.fvecs"), NULL));
        pa_ivfpq_params bp = {.struct_size = sizeof bp,
                              .num_partitions = P,
                              .num_sub_vectors = 8,
                              .num_bits = bits,
                              .metric = metric,
                              .seed = 5};
        pa_build_options bo = {.struct_size = sizeof bo, .params = &bp};
        CHECK_OK(pa_build(in, tpath(idx), &bo, NULL));
        pa_vec_input_free(in);
    }
    pa_index *x = NULL;
    CHECK_OK(pa_index_open(&x, tpath(idx)));
    return x;
}

/* Every metric, 8-bit and 4-bit codes, in place (.fvecs, .npy) and read (a Lance dataset). */
static void test_search_exact(void)
{
    const pa_metric metrics[] = {PA_METRIC_L2, PA_METRIC_COSINE, PA_METRIC_DOT};
    const char *names[] = {"l2", "cosine", "dot"};
    pa_field f[] = {{"emb", PA_TYPE_FSL_FLOAT32, DIM}};
    pa_dataset_writer *dw = NULL;
    CHECK_OK(pa_dataset_writer_create(&dw, tpath("base.lance"), f, 1, NULL));
    const void *cols[] = {data};
    CHECK_OK(pa_dataset_writer_append(dw, cols, N));
    CHECK_OK(pa_dataset_writer_commit(dw));
    pa_dataset_writer_free(dw);
    const char *inputs[] = {"base.fvecs", "base.npy", "base.lance"};
    for (int mi = 0; mi < 3; mi++)
        for (uint32_t bits = 4; bits <= 8; bits += 4) {
            char what[128];
            pa_index *x = open_index(names[mi], metrics[mi], bits);
            pa_vec_input *in = NULL;
            for (int ii = 0; x && ii < 3; ii++)
                for (uint32_t t = 1; t <= 2; t++) {
                    in = NULL;
                    CHECK_OK(pa_vec_input_open(&in, tpath(inputs[ii]), NULL));
                    snprintf(what, sizeof what, "%s %u-bit, %s, %u thread%s", names[mi], bits,
                             inputs[ii], t, t > 1 ? "s" : "");
                    if (in)
                        check_refined(x, in, metrics[mi], t, what);
                    pa_vec_input_free(in);
                }
            pa_index_free(x);
        }
}

/* Writes base.fvecs with row `row` changed by edit, as file name. */
static void write_edited(const char *name, int rows, void (*edit)(float *row))
{
    float *copy = malloc(sizeof(float) * N * DIM);
    memcpy(copy, data, sizeof(float) * N * DIM);
    if (edit)
        edit(copy);
    write_fvecs(tpath(name), copy, rows, DIM);
    free(copy);
}

static uint64_t bad_a, bad_b; /* candidates of query 0, bad_a < bad_b */
static void put_nan(float *x) { x[bad_b * DIM + 5] = NAN, x[bad_a * DIM + 2] = NAN; }
static void put_inf(float *x) { x[bad_a * DIM] = -INFINITY; }
static void put_huge(float *x)
{
    for (int i = 0; i < DIM; i++)
        x[bad_a * DIM + i] = 1e19f;
}

/* A refine input that does not hold the index's rows: refused, naming the (lowest) bad row. */
static void test_bad_rows(void)
{
    pa_index *x = open_index("l2", PA_METRIC_L2, 8);
    if (!x)
        return;
    uint64_t cand[K * RF], ids[K];
    float cd[K * RF], d[K];
    pa_index_search_options o = {.struct_size = sizeof o, .k = K * RF, .nprobes = 3};
    CHECK_OK(pa_index_search(x, queries, 1, DIM, &o, cand, cd, NULL));
    bad_a = cand[K * RF - 1], bad_b = cand[0];
    if (bad_a > bad_b) {
        const uint64_t t = bad_a;
        bad_a = bad_b, bad_b = t;
    }
    char want[256];
    struct {
        const char *file;
        void (*edit)(float *);
        int rows;
        pa_status st;
        const char *fmt;
    } cases[] = {
        {"nan.fvecs", put_nan, N, PA_ERR_INVALID, "nan.fvecs: row %llu has NaN at dimension 2"},
        {"inf.fvecs", put_inf, N, PA_ERR_INVALID,
         "inf.fvecs: row %llu has an infinity at dimension 0"},
        {"huge.fvecs", put_huge, N, PA_ERR_INVALID, "huge.fvecs: row %llu has squared norm"},
        {"short.fvecs", NULL, (int)bad_a, PA_ERR_RANGE,
         "short.fvecs: row %llu does not exist (the input has"},
    };
    o.k = K, o.refine_factor = RF;
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        write_edited(cases[c].file, cases[c].rows, cases[c].edit);
        pa_vec_input *in = NULL;
        CHECK_OK(pa_vec_input_open(&in, tpath(cases[c].file), NULL));
        o.refine_input = in;
        snprintf(want, sizeof want, cases[c].fmt, (unsigned long long)bad_a);
        if (in) {
            CHECK_ERR(pa_index_search(x, queries, 1, DIM, &o, ids, d, NULL), cases[c].st, want);
            CHECK(strstr(pa_last_error(), "refine reads row ids from the input") != NULL);
        }
        pa_vec_input_free(in);
    }
    /* a record whose dimension prefix is not the file's */
    write_edited("dim.fvecs", N, NULL);
    FILE *fp = fopen(tpath("dim.fvecs"), "r+b");
    const int32_t seven = 7;
    if (fp) {
        fseek(fp, (long)(bad_a * (4 + 4 * DIM)), SEEK_SET);
        fwrite(&seven, 4, 1, fp);
        fclose(fp);
    }
    pa_vec_input *in = NULL;
    CHECK_OK(pa_vec_input_open(&in, tpath("dim.fvecs"), NULL));
    o.refine_input = in;
    snprintf(want, sizeof want, "record %llu at byte offset %llu has dimension 7, expected %d",
             (unsigned long long)bad_a, (unsigned long long)(bad_a * (4 + 4 * DIM)), DIM);
    if (in)
        CHECK_ERR(pa_index_search(x, queries, 1, DIM, &o, ids, d, NULL), PA_ERR_FORMAT, want);
    pa_vec_input_free(in);
    pa_index_free(x);
}

int main(int argc, char **argv)
{
    TEST_ARGS(argc, argv);
    if (!test_tmpdir_init("refine"))
        return 1;
    data = malloc(sizeof(float) * N * DIM), queries = malloc(sizeof(float) * NQ * DIM);
    pa_t_clustered(&rng, data, N, DIM, queries, NQ);
    write_fvecs(tpath("base.fvecs"), data, N, DIM);
    write_npy(tpath("base.npy"), data, N, DIM);
    RUN(test_kernels());
    RUN(test_self_dots());
    RUN(test_select());
    RUN(test_search_exact());
    RUN(test_bad_rows());
    free(data), free(queries);
    TEST_DONE();
}
