/* 4-bit PQ end to end: codes packed two per byte exactly as Lance packs them (known codes, by
 * the library and by the cpu backend); training makes 16 codewords per sub-space and the
 * reconstruction error is a straightforward reference's; the model round-trips with its bits;
 * the index stores M/2-byte codes transposed, both finalize paths write the same files, search
 * over every partition is exactly the brute-force ADC ranking, recall@10 on clustered data is
 * above a floor (and refine lifts it); and the refusals (odd M, bits not 4 or 8). The fast
 * scan over that index: kernels agree exactly, full re-rank is the plain scan, recall, budget. */
#include "common/pq_code.h"
#include "index/fastscan.h"
#include "index/index_internal.h"
#include "ivfpq/ivfpq_internal.h"
#include "test.h"
#include "test_rank.h"

#include <math.h>

static uint64_t rng = 0x243F6A8885A308D3ull;
static float frand(void) { return pa_t_frand(&rng); }

#define N 20000
#define DIM 32
#define P 16
#define MSUB 16 /* 4-bit: 8 code bytes a row */
#define W (MSUB / 2)
#define NQ 100
#define K 10

static float *data, *queries;

/* The index tests' clustered rows and queries (test.h). */
static void gen_data(void)
{
    data = malloc(sizeof(float) * N * DIM);
    queries = malloc(sizeof(float) * NQ * DIM);
    pa_t_clustered(&rng, data, N, DIM, queries, NQ);
}

static double d2(const float *a, const float *b, uint32_t n)
{
    double s = 0;
    for (uint32_t i = 0; i < n; i++)
        s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return s;
}

/* Known codes, known bytes: dimension 4, 4 sub-vectors of one dimension, one centroid at 0,
 * codeword k of every sub-space the value k. Row (3, 12, 7, 1) has codes 3, 12, 7, 1, packed
 * as Lance packs them, (code[1] << 4) | code[0], then (code[3] << 4) | code[2]: 0xC3, 0x17. */
static void test_known_codes(void)
{
    CHECK(pa_pq_code_bytes(16, 4) == 8 && pa_pq_code_bytes(16, 8) == 16);
    CHECK(pa_pq_codewords(4) == 16 && pa_pq_codewords(8) == 256);
    uint8_t row[2] = {0xFF, 0xFF};
    pa_pq_code_set(row, 0, 4, 3), pa_pq_code_set(row, 1, 4, 12), pa_pq_code_set(row, 2, 4, 7);
    pa_pq_code_set(row, 3, 4, 1);
    CHECK(row[0] == 0xC3 && row[1] == 0x17);
    CHECK(pa_pq_code_get(row, 0, 4) == 3 && pa_pq_code_get(row, 1, 4) == 12 &&
          pa_pq_code_get(row, 2, 4) == 7 && pa_pq_code_get(row, 3, 4) == 1);

    float centroid[4] = {0, 0, 0, 0}, codebook[4 * 16];
    for (int m = 0; m < 4; m++)
        for (int k = 0; k < 16; k++)
            codebook[m * 16 + k] = (float)k;
    const pa_backend_model a = {.dim = 4,
                                .num_partitions = 1,
                                .num_sub_vectors = 4,
                                .num_bits = 4,
                                .metric = PA_METRIC_L2,
                                .centroids = centroid,
                                .codebook = codebook};
    pa_ivfpq_model *m = NULL;
    CHECK_OK(pa_ivfpq_model_from_arrays(&m, &a));
    const float x[3 * 4] = {3, 12, 7, 1, 0, 15, 15, 0, 14.9f, 0.2f, 8.4f, 5.6f};
    const uint8_t want[3 * 2] = {0xC3, 0x17, 0xF0, 0x0F, 0x0F, 0x68};
    uint8_t codes[3 * 2] = {0};
    uint32_t parts[3] = {9, 9, 9};
    CHECK_OK(pa_ivfpq_assign_encode(m, x, 3, parts, codes));
    CHECK(memcmp(codes, want, sizeof want) == 0 && parts[0] == 0 && parts[2] == 0);
    /* through the backend ABI: the cpu backend writes the same bytes */
    pa_backend *b = NULL;
    CHECK_OK(pa_backend_open(&b, "cpu", NULL, NULL));
    if (b) {
        uint8_t bc[3 * 2] = {0};
        CHECK_OK(pa_backend_bind(b, &a));
        CHECK_OK(pa_backend_assign_encode(b, x, 3, parts, bc));
        CHECK(memcmp(bc, want, sizeof want) == 0);
        pa_backend_free(b);
    }
    /* reconstruction: row 2 decodes to (15, 0, 8, 6), error 0.01 + 0.04 + 0.16 + 0.16 */
    double mse = 0;
    CHECK_OK(pa_ivfpq_pq_mse(m, x + 8, 1, &mse));
    CHECK(fabs(mse - 0.37) < 1e-5);
    pa_ivfpq_model_free(m);
}

static pa_ivfpq_params params4(uint32_t nparts, uint32_t msub)
{
    pa_ivfpq_params prm = PA_IVFPQ_PARAMS_INIT;
    prm.num_partitions = nparts, prm.num_sub_vectors = msub, prm.num_bits = 4;
    prm.max_iters = 20, prm.seed = 7;
    return prm;
}

/* Training: 16 codewords per sub-space; every code is the nearest codeword of its residual
 * (brute force, in double); the MSE is the reference's from those codes; the model saves and
 * loads with its bits; a 4-bit model reconstructs worse than an 8-bit one and much better
 * than a random codebook. */
static void test_train_and_mse(void)
{
    pa_ivfpq_params prm = params4(P, MSUB);
    pa_ivfpq_model *m = NULL;
    pa_ivfpq_train_stats ts = PA_IVFPQ_TRAIN_STATS_INIT;
    CHECK_OK(pa_ivfpq_train(&m, data, N, DIM, &prm, &ts));
    if (!m)
        return;
    pa_backend_model a;
    pa_ivfpq_model_arrays(m, &a);
    CHECK(a.num_bits == 4 && a.num_sub_vectors == MSUB && ts.pq_iters > 0);
    const uint32_t ds = DIM / MSUB, n = 4000;
    uint32_t *parts = malloc(sizeof(uint32_t) * n);
    uint8_t *codes = malloc((size_t)n * W);
    CHECK_OK(pa_ivfpq_assign_encode(m, data, n, parts, codes));
    double ref = 0;
    int worse = 0;
    for (uint32_t i = 0; i < n; i++) {
        const float *v = data + (size_t)i * DIM;
        double best = INFINITY;
        for (uint32_t c = 0; c < P; c++)
            best = fmin(best, d2(v, a.centroids + (size_t)c * DIM, DIM));
        worse += d2(v, a.centroids + (size_t)parts[i] * DIM, DIM) > best * (1 + 1e-5) + 1e-6;
        float r[DIM];
        for (uint32_t d = 0; d < DIM; d++)
            r[d] = v[d] - a.centroids[(size_t)parts[i] * DIM + d];
        for (uint32_t s = 0; s < MSUB; s++) {
            double bc = INFINITY;
            for (uint32_t k = 0; k < 16; k++)
                bc = fmin(bc, d2(r + s * ds, a.codebook + ((size_t)s * 16 + k) * ds, ds));
            const uint32_t c = pa_pq_code_get(codes + (size_t)i * W, s, 4);
            const double got = d2(r + s * ds, a.codebook + ((size_t)s * 16 + c) * ds, ds);
            worse += c >= 16 || got > bc * (1 + 1e-4) + 1e-6;
            ref += got;
        }
    }
    CHECK(worse == 0);
    ref /= n;
    double mse = 0;
    CHECK_OK(pa_ivfpq_pq_mse(m, data, n, &mse));
    CHECK(fabs(mse - ref) <= 1e-4 * ref);
    /* save and load: the same arrays and bits */
    CHECK_OK(pa_ivfpq_model_save(m, tpath("model4.lance")));
    pa_ivfpq_model *l = NULL;
    CHECK_OK(pa_ivfpq_model_load(&l, tpath("model4.lance")));
    if (l) {
        pa_backend_model b;
        pa_ivfpq_model_arrays(l, &b);
        CHECK(b.num_bits == 4 && b.num_sub_vectors == MSUB &&
              !memcmp(b.codebook, a.codebook, sizeof(float) * 16 * DIM) &&
              !memcmp(b.centroids, a.centroids, sizeof(float) * P * DIM));
        pa_ivfpq_model_free(l);
    }
    /* 8-bit codes reconstruct better; a random codebook of the residuals' scale far worse */
    pa_ivfpq_params p8 = prm;
    p8.num_bits = 8;
    pa_ivfpq_model *m8 = NULL;
    double mse8 = 0, mse_rand = 0;
    CHECK_OK(pa_ivfpq_train(&m8, data, N, DIM, &p8, NULL));
    if (m8)
        CHECK_OK(pa_ivfpq_pq_mse(m8, data, n, &mse8));
    float *rcb = malloc(sizeof(float) * 16 * DIM);
    for (int i = 0; i < 16 * DIM; i++)
        rcb[i] = frand() * 0.6f;
    pa_backend_model ra = a;
    ra.codebook = rcb;
    pa_ivfpq_model *rm = NULL;
    CHECK_OK(pa_ivfpq_model_from_arrays(&rm, &ra));
    if (rm)
        CHECK_OK(pa_ivfpq_pq_mse(rm, data, n, &mse_rand));
    fprintf(stderr, "4-bit PQ mse %.5f (reference %.5f), 8-bit %.5f, random codebook %.5f\n", mse,
            ref, mse8, mse_rand);
    CHECK(mse8 < mse && mse < 0.5 * mse_rand);
    pa_ivfpq_model_free(rm), pa_ivfpq_model_free(m8), pa_ivfpq_model_free(m);
    free(rcb), free(parts), free(codes);
}

/* Refused: an odd number of sub-vectors with 4 bits, and bits other than 4 and 8 (train, a
 * model from arrays, a backend bind, the index writer). */
static void test_refusals(void)
{
    pa_ivfpq_model *m = NULL;
    pa_ivfpq_params prm = params4(8, 7);
    float *x = malloc(sizeof(float) * 1000 * 28);
    for (int i = 0; i < 1000 * 28; i++)
        x[i] = frand();
    CHECK_ERR(pa_ivfpq_train(&m, x, 1000, 28, &prm, NULL), PA_ERR_INVALID,
              "num_sub_vectors must be even for 4-bit codes (two codes per byte), got 7");
    CHECK(pa_last_error_field() && !strcmp(pa_last_error_field(), "num_sub_vectors"));
    prm.num_sub_vectors = 14; /* 14 divides 28 and is even */
    CHECK_OK(pa_ivfpq_train(&m, x, 1000, 28, &prm, NULL));
    pa_ivfpq_model_free(m);
    m = NULL;
    prm.num_bits = 2;
    CHECK_ERR(pa_ivfpq_train(&m, x, 1000, 28, &prm, NULL), PA_ERR_INVALID,
              "num_bits must be 8 or 4, got 2");
    CHECK(pa_last_error_field() && !strcmp(pa_last_error_field(), "num_bits"));
    float cent[28] = {0}, cb[16 * 28] = {0};
    pa_backend_model a = {.dim = 28,
                          .num_partitions = 1,
                          .num_sub_vectors = 7,
                          .num_bits = 4,
                          .centroids = cent,
                          .codebook = cb};
    CHECK_ERR(pa_ivfpq_model_from_arrays(&m, &a), PA_ERR_INVALID,
              "num_sub_vectors must be even for 4-bit codes");
    pa_backend *b = NULL;
    CHECK_OK(pa_backend_open(&b, "cpu", NULL, NULL));
    if (b) {
        CHECK_ERR(pa_backend_bind(b, &a), PA_ERR_INVALID,
                  "cpu: num_sub_vectors must be even for 4-bit codes");
        pa_backend_free(b);
    }
    pa_index_writer *w = NULL;
    CHECK_ERR(pa_index_writer_create(&w, tpath("idx_odd"), &a, 0, false), PA_ERR_INVALID,
              "the model: num_sub_vectors must be even for 4-bit codes");
    free(x);
}

/* Encodes every row into an artifact of M/2-byte codes (small buffers: several ranges per
 * partition); parts and codes of every row into pp, cc. */
static pa_ivfpq_model *build_artifact(uint32_t *pp, uint8_t *cc)
{
    pa_ivfpq_params prm = params4(P, MSUB);
    pa_ivfpq_model *m = NULL;
    CHECK_OK(pa_ivfpq_train(&m, data, N, DIM, &prm, NULL));
    CHECK_OK(pa_ivfpq_model_save(m, tpath("model.lance")));
    CHECK_OK(pa_ivfpq_assign_encode(m, data, N, pp, cc));
    pa_artifact_params ap = PA_ARTIFACT_PARAMS_INIT;
    ap.num_partitions = P, ap.num_buckets = 4, ap.code_bytes = W, ap.num_bits = 4;
    ap.dimension = DIM, ap.model = tpath("model.lance"), ap.memory_bytes = 64 << 10;
    pa_artifact_writer *w = NULL;
    CHECK_OK(pa_artifact_writer_create(&w, tpath("art"), &ap));
    uint64_t ids[1000];
    for (int b = 0; b < N && w; b += 1000) {
        for (int i = 0; i < 1000; i++)
            ids[i] = (uint64_t)(b + i);
        CHECK_OK(pa_artifact_writer_append(w, ids, 1000, pp + b, 1000, cc + (size_t)b * W,
                                           (size_t)1000 * W));
    }
    CHECK_OK(pa_artifact_writer_finish(w));
    pa_artifact_writer_free(w);
    return m;
}

/* The index: codes column M/2 wide, the stored bytes the encoder's packed codes transposed,
 * both finalize paths byte-identical; search exactly the brute-force ADC over 16-entry tables
 * with every partition probed; recall floor with 4 probes; refine above 0.95. */
/* The fast scan over the index test_index built (x; gt its exact neighbours, in its rows,
 * recall_plain the plain scan's recall@10 with 4 probes): every kernel returns the same ids and
 * distances; with every row re-ranked it is the plain scan exactly; its recall stays within
 * 0.02 of the plain scan's; an index opened with a budget (partitions re-laid as they enter
 * the cache) answers the same; refine works over it; and the refusals. */
static void fast_scan(pa_index *x, const uint64_t *gt, pa_vec_input *in, double recall_plain)
{
    static uint64_t ids[NQ * K], ids2[NQ * K];
    static float dists[NQ * K], dists2[NQ * K];
    const char *kernels[] = {"scalar", "avx2", "avx512"};
    pa_index_search_options o;
    pa_index_search_options_init(&o, sizeof o); /* fast_scan AUTO, rerank the default */
    o.k = K, o.nprobes = 4;
    pa_index_search_stats st = PA_INDEX_SEARCH_STATS_INIT;
    int kernels_run = 0;
    for (int kn = 0; kn < 3; kn++) {
        if (!pa_kernel_set(kernels[kn]))
            continue;
        CHECK_OK(
            pa_index_search(x, queries, NQ, DIM, &o, kn ? ids2 : ids, kn ? dists2 : dists, &st));
        CHECK(st.fast_scan_used == 1 && st.rows_reranked > 0 &&
              st.rows_reranked < st.codes_scanned);
        if (kn)
            CHECK(memcmp(ids, ids2, sizeof ids) == 0 && memcmp(dists, dists2, sizeof dists) == 0);
        kernels_run++;
    }
    fprintf(stderr, "fast scan: %d kernels agree\n", kernels_run);
    double recall = 0, recall_ref = 0;
    CHECK_OK(pa_recall_at_k(ids, K, gt, K, NQ, K, &recall));
    fprintf(stderr, "fast scan recall@10, nprobes 4: %.3f (plain %.3f)\n", recall, recall_plain);
    CHECK(recall >= recall_plain - 0.02);
    /* a budget: the same answers from partitions read and re-laid on demand */
    uint64_t fixed = 0, min_bytes = 0;
    CHECK_OK(pa_index_memory_estimate(tpath("idx"), &fixed, &min_bytes));
    pa_index_info info = PA_INDEX_INFO_INIT;
    CHECK_OK(pa_index_get_info(x, &info));
    /* the largest partition's ids, codes and blocks: the blocks are counted */
    const uint64_t big = info.max_partition_rows;
    CHECK(min_bytes - fixed == big * (8 + W) + pa_fs_layout_bytes(big, MSUB));
    pa_index *xb = NULL;
    pa_index_open_options oo = PA_INDEX_OPEN_OPTIONS_INIT;
    oo.memory_bytes = min_bytes - 1;
    CHECK_ERR(pa_index_open_ex(&xb, tpath("idx"), &oo), PA_ERR_INVALID,
              "and their fast-scan blocks");
    oo.memory_bytes = min_bytes + (min_bytes - fixed); /* two partitions' room: evictions */
    CHECK_OK(pa_index_open_ex(&xb, tpath("idx"), &oo));
    if (xb) {
        CHECK_OK(pa_index_search(xb, queries, NQ, DIM, &o, ids2, dists2, &st));
        CHECK(memcmp(ids, ids2, sizeof ids) == 0 && memcmp(dists, dists2, sizeof dists) == 0);
        CHECK(pa_index_cache_reads(xb) > P);
        pa_index_free(xb);
    }
    /* every row re-ranked (k * F covers the index): the plain scan's ids and distances */
    o.nprobes = P, o.rerank_factor = N / K;
    CHECK_OK(pa_index_search(x, queries, NQ, DIM, &o, ids, dists, NULL));
    o.fast_scan = PA_FAST_SCAN_OFF;
    CHECK_OK(pa_index_search(x, queries, NQ, DIM, &o, ids2, dists2, &st));
    CHECK(st.fast_scan_used == 0 && st.rows_reranked == 0);
    CHECK(memcmp(ids, ids2, sizeof ids) == 0 && memcmp(dists, dists2, sizeof dists) == 0);
    /* refine over the fast scan's candidates */
    o.fast_scan = PA_FAST_SCAN_AUTO, o.nprobes = 4, o.rerank_factor = PA_DEFAULT_RERANK_FACTOR;
    o.refine_factor = 10, o.refine_input = in;
    CHECK_OK(pa_index_search(x, queries, NQ, DIM, &o, ids, dists, NULL));
    CHECK_OK(pa_recall_at_k(ids, K, gt, K, NQ, K, &recall_ref));
    CHECK(recall_ref >= 0.95);
    /* refusals */
    o.refine_factor = 0, o.fast_scan = 7;
    CHECK_ERR(pa_index_search(x, queries, NQ, DIM, &o, ids, dists, NULL), PA_ERR_INVALID,
              "fast_scan 7 is neither PA_FAST_SCAN_AUTO (0) nor PA_FAST_SCAN_OFF (1)");
    CHECK(!strcmp(pa_last_error_field(), "fast_scan"));
    o.fast_scan = PA_FAST_SCAN_AUTO, o.rerank_factor = PA_MAX_SEARCH_CANDIDATES;
    CHECK_ERR(pa_index_search(x, queries, NQ, DIM, &o, ids, dists, NULL), PA_ERR_INVALID,
              "k * refine factor * rerank factor = 167772160 is more than 16777216");
    CHECK(!strcmp(pa_last_error_field(), "rerank_factor"));
    if (!pa_kernel_set("avx512") && !pa_kernel_set("avx2"))
        pa_kernel_set("scalar");
}

static void test_index(void)
{
    uint32_t *pp = malloc(sizeof(uint32_t) * N);
    uint8_t *cc = malloc((size_t)N * W);
    pa_ivfpq_model *m = build_artifact(pp, cc);
    if (!m)
        return;
    CHECK_OK(pa_index_finalize_artifact(tpath("art"), NULL, tpath("idx"), NULL, NULL));
    uint64_t nrows = 0;
    CHECK_OK(pa_artifact_export_rows(tpath("art"), tpath("rows.lance"), 99, &nrows));
    CHECK_OK(pa_index_finalize_rows(tpath("rows.lance"), tpath("model.lance"), tpath("idx_rows"),
                                    NULL, NULL));
    char a[600], b[600];
    for (int f = 0; f < 2; f++) {
        const char *name = f ? "index.idx" : "auxiliary.idx";
        snprintf(a, sizeof a, "%s/idx/%s", tmpdir, name);
        snprintf(b, sizeof b, "%s/idx_rows/%s", tmpdir, name);
        CHECK(pa_t_files_equal(a, b));
    }
    /* auxiliary.idx as LanceDB lays a 4-bit index out: __pq_code fixed_size_list<uint8, M/2> */
    pa_lance_reader *r = NULL;
    snprintf(a, sizeof a, "%s/idx/auxiliary.idx", tmpdir);
    CHECK_OK(pa_lance_reader_open(&r, a));
    if (r) {
        size_t c = 0;
        pa_field f;
        CHECK_OK(pa_lance_reader_find_field(r, PA_INDEX_COL_CODE, &c));
        CHECK_OK(pa_lance_reader_field(r, c, &f));
        CHECK(f.type == PA_TYPE_FSL_UINT8 && f.dim == W);
        const void *v;
        size_t len;
        CHECK_OK(pa_lance_reader_metadata(r, PA_INDEX_META_STORAGE, &v, &len));
        CHECK(len && memmem(v, len, "\\\"nbits\\\":4", 11));
        pa_lance_reader_free(r);
    }
    pa_index *x = NULL;
    CHECK_OK(pa_index_open(&x, tpath("idx")));
    if (!x)
        return;
    pa_index_info info = PA_INDEX_INFO_INIT;
    CHECK_OK(pa_index_get_info(x, &info));
    CHECK(info.num_bits == 4 && info.num_sub_vectors == MSUB && info.num_rows == N);
    /* partition p: its rows in row-id order, byte j of row i at [j * n + i] */
    int layout_bad = 0;
    for (uint32_t p = 0; p < P; p++) {
        const uint64_t *ids;
        const uint8_t *codes;
        uint64_t n;
        CHECK_OK(pa_index_partition(x, p, &ids, &codes, &n));
        uint64_t i = 0;
        for (uint64_t row = 0; row < N; row++) {
            if (pp[row] != p)
                continue;
            if (i >= n || ids[i] != row) {
                layout_bad++;
                break;
            }
            for (uint32_t j = 0; j < W; j++)
                layout_bad += codes[j * n + i] != cc[row * W + j];
            i++;
        }
        layout_bad += i != n;
    }
    CHECK(layout_bad == 0);
    /* every partition probed: exactly the brute-force ADC ranking */
    pa_backend_model am;
    pa_ivfpq_model_arrays(m, &am);
    const uint32_t ds = DIM / MSUB;
    uint64_t ids[NQ * K];
    float dists[NQ * K];
    /* the plain ADC scan (the fast scan, the default for 4-bit, approximates it: fast_scan()) */
    pa_index_search_options o = {.struct_size = sizeof o,
                                 .k = K,
                                 .nprobes = P,
                                 .fast_scan = PA_FAST_SCAN_OFF};
    CHECK_OK(pa_index_search(x, queries, NQ, DIM, &o, ids, dists, NULL));
    pa_topk_cand *all = malloc(sizeof(pa_topk_cand) * N);
    float *by_id = malloc(sizeof(float) * N);
    float table[P][MSUB * 16];
    int mismatches = 0;
    for (int q = 0; q < NQ; q++) {
        const float *qv = queries + q * DIM;
        for (uint32_t c = 0; c < P; c++) {
            float rq[DIM];
            for (int d = 0; d < DIM; d++)
                rq[d] = qv[d] - am.centroids[c * DIM + d];
            for (uint32_t s = 0; s < MSUB; s++)
                for (int k = 0; k < 16; k++)
                    table[c][s * 16 + k] = (float)d2(rq + s * ds,
                                                     am.codebook + ((size_t)s * 16 + k) * ds, ds);
        }
        for (int i = 0; i < N; i++) {
            float d = 0;
            for (uint32_t s = 0; s < MSUB; s++)
                d += table[pp[i]][s * 16 + pa_pq_code_get(cc + (size_t)i * W, s, 4)];
            all[i] = (pa_topk_cand){.d = d, .id = (uint64_t)i};
            by_id[i] = d;
        }
        qsort(all, N, sizeof(pa_topk_cand), pa_topk_cmp);
        mismatches += pa_t_rank_mismatches(all, by_id, N, ids + q * K, dists + q * K, K);
    }
    CHECK(mismatches == 0);
    /* recall@10 against exact neighbours: 4 of 16 partitions, and refined x10 */
    uint64_t *gt = malloc(sizeof(uint64_t) * NQ * K);
    for (int q = 0; q < NQ; q++) {
        for (int i = 0; i < N; i++)
            all[i] = (pa_topk_cand){.d = (float)d2(queries + q * DIM, data + (size_t)i * DIM, DIM),
                                    .id = (uint64_t)i};
        qsort(all, N, sizeof(pa_topk_cand), pa_topk_cmp);
        for (int j = 0; j < K; j++)
            gt[q * K + j] = all[j].id;
    }
    write_fvecs(tpath("base.fvecs"), data, N, DIM);
    pa_vec_input *in = NULL;
    CHECK_OK(pa_vec_input_open(&in, tpath("base.fvecs"), NULL));
    double recall = 0, recall_ref = 0;
    o.nprobes = 4;
    CHECK_OK(pa_index_search(x, queries, NQ, DIM, &o, ids, dists, NULL));
    CHECK_OK(pa_recall_at_k(ids, K, gt, K, NQ, K, &recall));
    o.refine_factor = 10, o.refine_input = in;
    CHECK_OK(pa_index_search(x, queries, NQ, DIM, &o, ids, dists, NULL));
    CHECK_OK(pa_recall_at_k(ids, K, gt, K, NQ, K, &recall_ref));
    fprintf(stderr, "4-bit recall@10, nprobes 4: %.3f; refine x10: %.3f\n", recall, recall_ref);
    CHECK(recall >= 0.5);
    CHECK(recall_ref >= 0.95);
    fast_scan(x, gt, in, recall);
    pa_vec_input_free(in);
    free(gt), free(all), free(by_id), free(pp), free(cc);
    pa_index_free(x);
    pa_ivfpq_model_free(m);
}

int main(int argc, char **argv)
{
    TEST_ARGS(argc, argv);
    if (!test_tmpdir_init("pq4"))
        return 1;
    gen_data();
    RUN(test_known_codes());
    RUN(test_train_and_mse());
    RUN(test_refusals());
    RUN(test_index());
    free(data), free(queries);
    TEST_DONE();
}
