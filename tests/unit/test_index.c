/* The index: both finalize paths write the same index (same partition contents, byte-identical
 * files, also when a tiny memory budget forces spills); search with every partition probed is
 * exactly the brute-force ADC ranking; recall@10 on clustered data is above a floor a broken
 * index (shuffled centroids) misses; refine lifts it above 0.95; and every bad input gets its
 * clear error. */
#include "index/index_internal.h"
#include "test.h"
#include "test_rank.h"

#include <inttypes.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t rng = 0x9E3779B97F4A7C15ull;

#define N 20000
#define DIM 32
#define P 16
#define MSUB 8
#define NQ 100
#define K 10

static float *data;    /* N x DIM, clustered */
static float *queries; /* NQ x DIM: data rows plus noise */
static uint32_t parts[N];
static uint8_t codes[N * MSUB];

/* The clustered rows and queries (test.h), from a fixed seed. */
static void gen_data(void)
{
    data = malloc(sizeof(float) * N * DIM);
    queries = malloc(sizeof(float) * NQ * DIM);
    pa_t_clustered(&rng, data, N, DIM, queries, NQ);
}

/* Trains a model, saves it, encodes every row into an artifact with a small budget (so that
 * partitions get several ranges). */
static pa_ivfpq_model *build_artifact(const char *model_path, const char *artifact, pa_metric met,
                                      uint32_t nparts, uint32_t msub)
{
    pa_ivfpq_params prm = {.struct_size = sizeof prm,
                           .num_partitions = nparts,
                           .num_sub_vectors = msub,
                           .num_bits = 8,
                           .metric = met,
                           .max_iters = 20,
                           .seed = 7};
    pa_ivfpq_model *m = NULL;
    CHECK_OK(pa_ivfpq_train(&m, data, N, DIM, &prm, NULL));
    CHECK_OK(pa_ivfpq_model_save(m, model_path));
    uint32_t *pp = malloc(4 * N);
    uint8_t *cc = malloc((size_t)N * msub);
    CHECK_OK(pa_ivfpq_assign_encode(m, data, N, pp, cc));
    if (met == PA_METRIC_L2 && msub == MSUB) {
        memcpy(parts, pp, sizeof parts);
        memcpy(codes, cc, sizeof codes);
    }
    pa_artifact_params ap = {.struct_size = sizeof ap,
                             .num_partitions = nparts,
                             .num_buckets = 4,
                             .code_bytes = msub,
                             .num_bits = 8,
                             .dimension = DIM,
                             .metric = met,
                             .model = model_path,
                             .memory_bytes = 64 << 10};
    pa_artifact_writer *w = NULL;
    CHECK_OK(pa_artifact_writer_create(&w, artifact, &ap));
    uint64_t ids[1000];
    for (int b = 0; b < N; b += 1000) {
        for (int i = 0; i < 1000; i++)
            ids[i] = (uint64_t)(b + i);
        CHECK_OK(pa_artifact_writer_append(w, ids, 1000, pp + b, 1000, cc + (size_t)b * msub,
                                           (size_t)1000 * msub));
    }
    CHECK_OK(pa_artifact_writer_finish(w));
    pa_artifact_writer_free(w);
    free(pp), free(cc);
    return m;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Artifact path, rows path (fits in memory) and rows path with spills: identical files, and
 * partitions holding exactly the rows assign_encode gave them, sorted by row id. */
static void test_finalize_paths_agree(void)
{
    double t0 = pa_now_seconds();
    pa_index_finalize_stats sa = PA_INDEX_FINALIZE_STATS_INIT, sb = PA_INDEX_FINALIZE_STATS_INIT,
                            sc = PA_INDEX_FINALIZE_STATS_INIT;
    CHECK_OK(pa_index_finalize_artifact(tpath("art"), NULL, tpath("idx_a"), NULL, &sa));
    CHECK(sa.rows == N && sa.partitions == P && sa.bytes_read > 0 && sa.index_bytes > 0);
    uint64_t nrows = 0;
    CHECK_OK(pa_artifact_export_rows(tpath("art"), tpath("rows.lance"), 12345, &nrows));
    CHECK(nrows == N);
    CHECK_OK(pa_artifact_export_rows(tpath("art"), tpath("rows_fileorder.lance"), 0, &nrows));
    CHECK(nrows == N);
    CHECK_OK(pa_index_finalize_rows(tpath("rows.lance"), tpath("model.lance"), tpath("idx_b"), NULL,
                                    &sb));
    CHECK(sb.rows == N && sb.spill_runs == 0 && sb.spill_bytes == 0);
    pa_index_finalize_options tiny = {.struct_size = sizeof tiny,
                                      .memory_bytes = 160 << 10,
                                      .tmp_dir = tmpdir};
    CHECK_OK(pa_index_finalize_rows(tpath("rows.lance"), tpath("model.lance"), tpath("idx_c"),
                                    &tiny, &sc));
    CHECK(sc.rows == N && sc.spill_runs > 1 && sc.spill_bytes >= (uint64_t)N * (8 + MSUB));
    CHECK(sc.bytes_written == sc.index_bytes + sc.spill_bytes);
    CHECK(sc.bytes_read > sb.bytes_read);
    pa_index_finalize_stats sd = PA_INDEX_FINALIZE_STATS_INIT;
    CHECK_OK(pa_index_finalize_rows(tpath("rows_fileorder.lance"), tpath("model.lance"),
                                    tpath("idx_d"), &tiny, &sd));
    const char *names[2] = {"index.idx", "auxiliary.idx"};
    for (int i = 0; i < 2; i++) {
        char a[600], b[600];
        snprintf(a, sizeof a, "%s/idx_a/%s", tmpdir, names[i]);
        const char *others[3] = {"idx_b", "idx_c", "idx_d"};
        for (int j = 0; j < 3; j++) {
            snprintf(b, sizeof b, "%s/%s/%s", tmpdir, others[j], names[i]);
            CHECK(pa_t_files_equal(a, b));
        }
    }
    /* no spill files or partial directories left */
    char partial[600];
    snprintf(partial, sizeof partial, "%s/idx_c.partial-%ld", tmpdir, (long)getpid());
    struct stat st;
    CHECK(stat(partial, &st) != 0);
    /* partition contents */
    pa_index *x = NULL;
    CHECK_OK(pa_index_open(&x, tpath("idx_a")));
    if (x) {
        pa_index_info info = PA_INDEX_INFO_INIT;
        pa_index_get_info(x, &info);
        CHECK(info.num_rows == N && info.num_partitions == P && info.dimension == DIM &&
              info.num_sub_vectors == MSUB && info.metric == PA_METRIC_L2);
        uint64_t total = 0;
        int ok = 1;
        for (uint32_t p = 0; p < P; p++) {
            const uint64_t *ids;
            const uint8_t *c;
            uint64_t n;
            CHECK_OK(pa_index_partition(x, p, &ids, &c, &n));
            uint64_t *want = malloc(8 * (N + 1));
            uint64_t nw = 0;
            for (uint64_t i = 0; i < N; i++)
                if (parts[i] == p)
                    want[nw++] = i;
            qsort(want, nw, 8, cmp_u64);
            if (nw != n)
                ok = 0;
            for (uint64_t i = 0; ok && i < n; i++) {
                if (ids[i] != want[i])
                    ok = 0;
                for (int m = 0; ok && m < MSUB; m++)
                    if (c[(size_t)m * n + i] != codes[want[i] * MSUB + m])
                        ok = 0;
            }
            total += n;
            free(want);
        }
        CHECK(ok);
        CHECK(total == N);
        pa_index_free(x);
    }
    fprintf(stderr,
            "finalize paths: %.2f s (artifact %.3f s, rows %.3f s, rows+spill %.3f s, "
            "%u runs)\n",
            pa_now_seconds() - t0, sa.seconds, sb.seconds, sc.seconds, sc.spill_runs);
}

/* With every partition probed, search returns the ADC ranking over all codes, recomputed
 * here from the model and the codes assign_encode produced with the plain formula
 * sum_m ||r_m - y||^2. Search evaluates the same sum split into coarse, partition and query
 * terms, so distances agree to float rounding (relative 1e-4): each returned distance must be
 * the brute-force distance at that rank, and each returned id either the brute-force id at
 * that rank or one whose brute-force distance ties with it within that rounding. */
static void test_exact_adc(const char *index, pa_ivfpq_model *m, const uint32_t *pp,
                           const uint8_t *cc, uint32_t msub, pa_metric met)
{
    pa_index *x = NULL;
    CHECK_OK(pa_index_open(&x, index));
    if (!x)
        return;
    pa_backend_model a;
    pa_ivfpq_model_arrays(m, &a);
    const uint32_t ds = DIM / msub;
    uint64_t ids[NQ * K];
    float dists[NQ * K];
    pa_index_search_options o = {.struct_size = sizeof o, .k = K, .nprobes = P};
    pa_index_search_stats ss = PA_INDEX_SEARCH_STATS_INIT;
    CHECK_OK(pa_index_search(x, queries, NQ, DIM, &o, ids, dists, &ss));
    CHECK(ss.nprobes_used == P && ss.codes_scanned == (uint64_t)NQ * N);
    pa_topk_cand *all = malloc(sizeof(pa_topk_cand) * N);
    float *by_id = malloc(sizeof(float) * N);
    float *table = malloc(sizeof(float) * msub * 256);
    int mismatches = 0;
    for (int q = 0; q < NQ; q++) {
        float qv[DIM], r[DIM];
        memcpy(qv, queries + q * DIM, sizeof qv);
        if (met == PA_METRIC_COSINE) /* search normalises its copy of the queries */
            pa_normalize(qv, DIM);
        if (met == PA_METRIC_DOT)
            for (uint32_t s = 0; s < msub; s++)
                for (int j = 0; j < 256; j++)
                    table[s * 256 + j] = -pa_dotf(qv + s * ds,
                                                  a.codebook + ((size_t)s * 256 + j) * ds, ds);
        for (uint32_t p = 0; p < P; p++) {
            if (met != PA_METRIC_DOT) {
                for (int d = 0; d < DIM; d++)
                    r[d] = qv[d] - a.centroids[p * DIM + d];
                for (uint32_t s = 0; s < msub; s++)
                    for (int j = 0; j < 256; j++)
                        table[s * 256 + j] = pa_l2sq(r + s * ds,
                                                     a.codebook + ((size_t)s * 256 + j) * ds, ds);
            }
            for (int i = 0; i < N; i++) {
                if (pp[i] != p)
                    continue;
                float d = 0;
                for (uint32_t s = 0; s < msub; s++)
                    d += table[s * 256 + cc[(size_t)i * msub + s]];
                all[i] = (pa_topk_cand){.d = d, .id = (uint64_t)i};
                by_id[i] = d;
            }
        }
        qsort(all, N, sizeof(pa_topk_cand), pa_topk_cmp);
        mismatches += pa_t_rank_mismatches(all, by_id, N, ids + q * K, dists + q * K, K);
    }
    CHECK(mismatches == 0);
    if (mismatches)
        fprintf(stderr, "exact ADC (%s): %d mismatches\n", pa_metric_name(met), mismatches);
    /* without precomputed partition terms (each probe computes its own): the same results */
    uint64_t saved = pa_index_precomp_max_bytes;
    pa_index_precomp_max_bytes = 0;
    pa_index *x2 = NULL;
    CHECK_OK(pa_index_open(&x2, index));
    pa_index_precomp_max_bytes = saved;
    if (x2) {
        uint64_t ids2[NQ * K];
        float dists2[NQ * K];
        CHECK_OK(pa_index_search(x2, queries, NQ, DIM, &o, ids2, dists2, NULL));
        CHECK(memcmp(ids, ids2, sizeof ids) == 0 && memcmp(dists, dists2, sizeof dists) == 0);
        pa_index_free(x2);
    }
    free(all), free(by_id), free(table);
    pa_index_free(x);
}

/* recall@10 against exact ground truth: above a floor with a few probes; a broken index
 * (centroids shuffled) falls below it; refine x10 reaches 0.95. */
static void test_recall(void)
{
    double t0 = pa_now_seconds();
    pa_vec_input *in = NULL;
    CHECK_OK(pa_vec_input_open(&in, tpath("base.fvecs"), NULL));
    uint64_t *gt = malloc(8 * NQ * 100);
    CHECK_OK(pa_groundtruth(in, queries, NQ, DIM, 100, PA_METRIC_L2, gt, NULL));
    /* ground truth is exact: query q's first neighbour is at the brute-force minimum */
    int gt_ok = 1;
    for (int q = 0; q < 5; q++) {
        float best = INFINITY;
        uint64_t bi = 0;
        for (int i = 0; i < N; i++) {
            float d = pa_l2sq(queries + q * DIM, data + i * DIM, DIM);
            if (d < best)
                best = d, bi = (uint64_t)i;
        }
        if (gt[q * 100] != bi)
            gt_ok = 0;
    }
    CHECK(gt_ok);
    CHECK_OK(pa_ivecs_write(tpath("gt.ivecs"), gt, NQ, 100));
    uint64_t *gt2 = NULL, n2 = 0;
    uint32_t k2 = 0;
    CHECK_OK(pa_ivecs_read(tpath("gt.ivecs"), &gt2, &n2, &k2));
    CHECK(n2 == NQ && k2 == 100 && gt2 && !memcmp(gt, gt2, 8 * NQ * 100));
    free(gt2);

    pa_index *x = NULL;
    CHECK_OK(pa_index_open(&x, tpath("idx_a")));
    uint64_t ids[NQ * K];
    float dists[NQ * K];
    double recall = 0, recall_ref = 0, recall_bad = 0;
    pa_index_search_options o = {.struct_size = sizeof o, .k = K, .nprobes = 4};
    CHECK_OK(pa_index_search(x, queries, NQ, DIM, &o, ids, dists, NULL));
    CHECK_OK(pa_recall_at_k(ids, K, gt, 100, NQ, K, &recall));
    o.refine_factor = 10, o.refine_input = in;
    pa_index_search_stats ss = PA_INDEX_SEARCH_STATS_INIT;
    CHECK_OK(pa_index_search(x, queries, NQ, DIM, &o, ids, dists, &ss));
    CHECK(ss.rows_refined == (uint64_t)NQ * K * 10);
    CHECK_OK(pa_recall_at_k(ids, K, gt, 100, NQ, K, &recall_ref));
    /* refined distances are exact */
    CHECK(fabsf(dists[0] - pa_l2sq(queries, data + ids[0] * DIM, DIM)) < 1e-3f);
    pa_index_free(x);

    /* a broken index: the same codes under shuffled centroids */
    pa_ivfpq_model *m = NULL;
    CHECK_OK(pa_ivfpq_model_load(&m, tpath("model.lance")));
    pa_backend_model a;
    pa_ivfpq_model_arrays(m, &a);
    float *cent = malloc(sizeof(float) * P * DIM);
    for (int p = 0; p < P; p++)
        memcpy(cent + p * DIM, a.centroids + ((p + 5) % P) * DIM, sizeof(float) * DIM);
    a.centroids = cent;
    pa_index_writer *w = NULL;
    CHECK_OK(pa_index_writer_create(&w, tpath("idx_bad"), &a, 0, false));
    pa_index *good = NULL;
    CHECK_OK(pa_index_open(&good, tpath("idx_a")));
    for (uint32_t p = 0; p < P && w && good; p++) {
        const uint64_t *pid;
        const uint8_t *pc;
        uint64_t n;
        pa_index_partition(good, p, &pid, &pc, &n);
        uint8_t *rowmajor = malloc(n * MSUB + 1);
        for (uint64_t i = 0; i < n; i++)
            for (int s = 0; s < MSUB; s++)
                rowmajor[i * MSUB + s] = pc[(size_t)s * n + i];
        CHECK_OK(pa_index_writer_add_partition(w, p, pid, rowmajor, n));
        free(rowmajor);
    }
    CHECK_OK(pa_index_writer_finish(w));
    pa_index_writer_free(w);
    pa_index_free(good);
    free(cent);
    pa_ivfpq_model_free(m);
    CHECK_OK(pa_index_open(&x, tpath("idx_bad")));
    o.refine_factor = 0, o.refine_input = NULL;
    CHECK_OK(pa_index_search(x, queries, NQ, DIM, &o, ids, dists, NULL));
    CHECK_OK(pa_recall_at_k(ids, K, gt, 100, NQ, K, &recall_bad));
    pa_index_free(x);
    fprintf(stderr,
            "recall@10 nprobes 4: %.3f, refine x10: %.3f, shuffled centroids: %.3f "
            "(%.2f s)\n",
            recall, recall_ref, recall_bad, pa_now_seconds() - t0);
    CHECK(recall >= 0.6);
    CHECK(recall_ref >= 0.95);
    CHECK(recall_bad < 0.6);
    pa_vec_input_free(in);
    free(gt);
}

/* Opened with a memory budget, search gives the same ids and distances, byte for byte, as
 * the index in memory: a budget that holds everything, one of a quarter of the rows, and one
 * that holds only the largest partition (every probe evicts; with 4 threads, scans wait for
 * each other), on one thread and on four. Budgets below the fixed part, or below it plus the
 * largest partition, are refused with the numbers. */
static void test_memory_budget(void)
{
    pa_index *x = NULL;
    CHECK_OK(pa_index_open(&x, tpath("idx_a")));
    if (!x)
        return;
    pa_index_info in = PA_INDEX_INFO_INIT;
    pa_index_get_info(x, &in);
    const uint64_t rows_bytes = in.num_rows * (8 + MSUB), big = in.max_partition_rows * (8 + MSUB);
    static uint64_t ids[NQ * K], ids2[NQ * K];
    static float dists[NQ * K], dists2[NQ * K];
    pa_index_search_options o = {.struct_size = sizeof o, .k = K, .nprobes = 4, .num_threads = 1};
    CHECK_OK(pa_index_search(x, queries, NQ, DIM, &o, ids, dists, NULL));
    pa_index_free(x);

    /* the fixed part, as the refusal of a budget below it says */
    pa_index_open_options xo = {.struct_size = sizeof xo, .memory_bytes = 1000};
    pa_index *y = NULL;
    CHECK_ERR(pa_index_open_ex(&y, tpath("idx_a"), &xo), PA_ERR_INVALID,
              "16 partitions of dimension 32 with 8 sub-vectors need ");
    unsigned long long fixed = 0;
    const char *need = strstr(pa_last_error(), " need ");
    CHECK(need && sscanf(need, " need %llu bytes held whatever the budget", &fixed) == 1);
    CHECK(strstr(pa_last_error(), "more than the memory budget of 1000 bytes") != NULL);
    CHECK(fixed > 0 && fixed < 100000 && y == NULL);
    /* the estimate gives the refusal's numbers: the fixed part, and the least budget */
    uint64_t est_fixed = 0, est_min = 0;
    CHECK_OK(pa_index_memory_estimate(tpath("idx_a"), &est_fixed, &est_min));
    CHECK(est_fixed == fixed && est_min == fixed + big);
    xo.memory_bytes = fixed + big - 1;
    char want[256];
    snprintf(want, sizeof want,
             "rows of 8 + 8 bytes (%" PRIu64 " bytes, %" PRIu64 " in the cache), more than the "
             "%" PRIu64 " bytes the memory budget of %" PRIu64 " bytes leaves beside the %llu held",
             big, big, big - 1, (uint64_t)(fixed + big - 1), fixed);
    CHECK_ERR(pa_index_open_ex(&y, tpath("idx_a"), &xo), PA_ERR_INVALID, want);
    xo.struct_size = 4;
    CHECK_ERR(pa_index_open_ex(&y, tpath("idx_a"), &xo), PA_ERR_INVALID, "set struct_size");
    xo.struct_size = sizeof xo;

    const uint64_t budgets[] = {1ull << 30, fixed + rows_bytes / 4, fixed + big};
    for (size_t b = 0; b < 3; b++)
        for (int threads = 1; threads <= 4; threads += 3) {
            xo.memory_bytes = budgets[b];
            CHECK_OK(pa_index_open_ex(&y, tpath("idx_a"), &xo));
            if (!y)
                continue;
            pa_index_info yi = PA_INDEX_INFO_INIT;
            pa_index_get_info(y, &yi);
            CHECK(yi.memory_bytes == budgets[b] && yi.num_rows == in.num_rows);
            o.num_threads = threads;
            memset(ids2, 0, sizeof ids2), memset(dists2, 0, sizeof dists2);
            CHECK_OK(pa_index_search(y, queries, NQ, DIM, &o, ids2, dists2, NULL));
            CHECK(!memcmp(ids, ids2, sizeof ids) && !memcmp(dists, dists2, sizeof dists));
            const uint64_t reads = pa_index_cache_reads(y);
            if (b == 0) /* everything fits: each partition read once */
                CHECK(reads <= P);
            /* one partition held: the queries (one group) read each partition at most once
             * for their nearest probes and once for the others, and evict */
            if (b == 2 && threads == 1)
                CHECK(reads > P && reads <= 2 * P);
            /* the cache's share: the budget less the fixed part (and, where they fit beside the
             * largest partition, the precomputed terms, P x M x 256 floats); what it held at
             * most, exactly counted, never more */
            pa_index_get_info(y, &yi);
            const uint64_t pre = b == 0 ? (uint64_t)P * MSUB * 256 * sizeof(float) : 0;
            CHECK(yi.cache_bytes == budgets[b] - fixed - pre);
            CHECK(yi.cache_peak_bytes > 0 && yi.cache_peak_bytes <= yi.cache_bytes);
            CHECK(yi.cache_reads == reads);
            if (b == 0) /* everything fits: every partition probed is held at once */
                CHECK(yi.cache_peak_bytes <= rows_bytes);
            fprintf(stderr,
                    "budget %" PRIu64 ", %d threads: cache %" PRIu64 ", peak %" PRIu64
                    ", reads %" PRIu64 "\n",
                    budgets[b], threads, yi.cache_bytes, yi.cache_peak_bytes, yi.cache_reads);
            const uint64_t *pid = ids2;
            const uint8_t *pc = NULL;
            uint64_t n = 0;
            CHECK_OK(pa_index_partition(y, 0, &pid, &pc, &n));
            CHECK(pid == NULL && pc == NULL && n > 0);
            pa_index_free(y);
            y = NULL;
        }
}

/* pa_index_search_memory states what a search call allocates, by its documented sizes: the
 * block's arrays (query-codeword products, candidates, counts and norms, each
 * from a 64-byte boundary, in whole pages; a copy of the queries only for cosine, not this l2
 * index), at most 8192 queries and here 4096 (32 MiB of products at M x 256 floats a query),
 * and per thread the table, probes, a query's distance to each centroid, a few queries' centroid
 * products, the group's probe list twice with each probe's base distance, and with refine the
 * vectors and ids. */
#define A64(v) (((v) + 63) / 64 * 64) /* an array of the block, from a 64-byte boundary */
static void test_search_memory(void)
{
    pa_index *x = NULL;
    CHECK_OK(pa_index_open(&x, tpath("idx_a")));
    if (!x)
        return;
    const uint64_t T = MSUB * 256, page = (uint64_t)sysconf(_SC_PAGESIZE);
    pa_index_search_options o = {.struct_size = sizeof o, .k = K, .nprobes = 4, .num_threads = 1};
    uint64_t b1 = 0, b2 = 0, big = 0, bigger = 0;
    CHECK_OK(pa_index_search_memory(x, NQ, &o, &b1));
    /* NQ queries: 819,200 + 6,400 + 16,000 + 448 (400 to the next array) + 400 bytes, in pages */
    const uint64_t block = (4 * NQ * T + 16 * NQ * K + A64(4 * NQ) + 4 * NQ + page - 1) / page *
                           page;
    const uint64_t grp = 256; /* QUERY_GROUP: the least group */
    /* per thread: the centroid products of up to 256 queries at once, held to 1 MiB (search.c,
     * COARSE_SUB), and each probe's base distance beside the group's probe list */
    const uint64_t csub = 256 < (1u << 20) / (4 * P) ? 256 : (1u << 20) / (4 * P);
    const uint64_t thread = 4 * T + 16 * 4 + 4 * P * (1 + csub) + (2 * 8 + 4) * grp * 4;
    CHECK(b1 == block + thread);
    o.num_threads = 2;
    CHECK_OK(pa_index_search_memory(x, NQ, &o, &b2));
    CHECK(b2 == block + 2 * thread);
    /* the block stops at 4096 queries; the groups grow with it (two a thread) */
    CHECK_OK(pa_index_search_memory(x, 4096, &o, &big));
    CHECK_OK(pa_index_search_memory(x, 1000000, &o, &bigger));
    CHECK(big == bigger && big > b2);
    /* a block of 8 MiB or more is mapped in whole 2 MiB huge pages (search.c, BLOCK_HUGE_BYTES):
     * 4096 queries, groups of 1024 on each of 2 threads */
    const uint64_t huge = 2u << 20, nb = 4096, gb = 1024;
    const uint64_t block_b = 4 * nb * T + 16 * nb * K + 4 * nb + 4 * nb;
    CHECK(block_b >= (8u << 20));
    const uint64_t thread_b = 4 * T + 16 * 4 + 4 * P * (1 + csub) + (2 * 8 + 4) * gb * 4;
    CHECK(big == (block_b + huge - 1) / huge * huge + 2 * thread_b);
    /* refine: k * R candidates a query, and each thread's k * R vectors and ids */
    o.refine_factor = 5;
    CHECK_OK(pa_index_search_memory(x, NQ, &o, &b1));
    const uint64_t block_r = (4 * NQ * T + 16 * NQ * K * 5 + A64(4 * NQ) + 4 * NQ + page - 1) /
                             page * page;
    /* each thread's refine scratch (refine.h): per candidate its vector, row pointer, id,
     * squared norm, distance and heap entry */
    CHECK(b1 == block_r + 2 * (thread + (uint64_t)K * 5 * (4 * DIM + 8 + 8 + 8 + 4 + 16)));
    /* several segments: the largest segment's search (here the same index twice), plus each
     * segment's k row ids and distances a query held for the merge and the segments' k; one
     * segment is a single search */
    pa_index *segs[2] = {x, x};
    uint64_t s1 = 0, s2 = 0;
    CHECK_OK(pa_index_search_segments_memory(segs, 1, NQ, &o, &s1));
    CHECK(s1 == b1);
    CHECK_OK(pa_index_search_segments_memory(segs, 2, NQ, &o, &s2));
    CHECK(s2 == b1 + 2 * (uint64_t)NQ * K * (8 + 4) + 2 * 4);
    o.k = 0;
    CHECK_ERR(pa_index_search_memory(x, NQ, &o, &b1), PA_ERR_INVALID, "k = 0");
    CHECK_ERR(pa_index_search_segments_memory(segs, 2, NQ, &o, &s2), PA_ERR_INVALID, "k = 0");
    pa_index_free(x);
}

/* The finalize estimate is the smallest budget the artifact path accepts: one byte less is
 * refused with the estimate's numbers (the partition's part and the manifest's tables sum to
 * it), the estimate itself writes the same index as an unbounded finalize. */
static void test_finalize_estimate(void)
{
    uint64_t need = 0;
    CHECK_OK(pa_index_finalize_estimate(tpath("art"), &need));
    CHECK(need > 0);
    pa_index_finalize_options o = PA_INDEX_FINALIZE_OPTIONS_INIT;
    o.memory_bytes = need - 1;
    char want[128];
    snprintf(want, sizeof want, "more than the memory budget of %" PRIu64 " bytes", need - 1);
    CHECK_ERR(pa_index_finalize_artifact(tpath("art"), NULL, tpath("idx_est"), &o, NULL),
              PA_ERR_BUDGET, want);
    unsigned long long part = 0, tables = 0;
    const char *at = strstr(pa_last_error(), "which need ");
    CHECK(at && sscanf(at, "which need %llu bytes", &part) == 1);
    at = strstr(pa_last_error(), "manifest's tables ");
    CHECK(at && sscanf(at, "manifest's tables %llu bytes", &tables) == 1);
    CHECK(part + tables == need);
    o.memory_bytes = need;
    CHECK_OK(pa_index_finalize_artifact(tpath("art"), NULL, tpath("idx_est"), &o, NULL));
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/idx_a/auxiliary.idx", tmpdir);
    snprintf(b, sizeof b, "%s/idx_est/auxiliary.idx", tmpdir);
    CHECK(pa_t_files_equal(a, b));
    CHECK_ERR(pa_index_finalize_estimate(tpath("no_such_artifact"), &need), PA_ERR_INCOMPLETE,
              "no_such_artifact");
}

/* Each bad input: its status and a message naming what is wrong. */
/* An index built from a Lance dataset in several fragments holds row addresses (fragment id <<
 * 32 | offset), not ordinals: ground truth over the dataset gives the same ids, and refine
 * reads each candidate's vector by its address (reading by ordinal fails past fragment 0). */
static void test_dataset_refine(void)
{
    pa_field f[] = {{"emb", PA_TYPE_FSL_FLOAT32, DIM}};
    pa_dataset_write_options wo = {.struct_size = sizeof wo, .max_rows_per_fragment = N / 3 + 1};
    pa_dataset_writer *dw = NULL;
    CHECK_OK(pa_dataset_writer_create(&dw, tpath("base.lance"), f, 1, &wo));
    const void *cols[] = {data};
    CHECK_OK(pa_dataset_writer_append(dw, cols, N));
    CHECK_OK(pa_dataset_writer_commit(dw));
    pa_dataset_writer_free(dw);
    pa_vec_input *in = NULL;
    CHECK_OK(pa_vec_input_open(&in, tpath("base.lance"), NULL));
    if (!in)
        return;
    pa_ivfpq_params bp = {.struct_size = sizeof bp,
                          .num_partitions = P,
                          .num_sub_vectors = MSUB,
                          .seed = 3};
    pa_build_options bo = {.struct_size = sizeof bo, .params = &bp};
    CHECK_OK(pa_build(in, tpath("idx_ds"), &bo, NULL));
    uint64_t *gt = malloc(8 * NQ * K), ids[NQ * K];
    float dists[NQ * K];
    CHECK_OK(pa_groundtruth(in, queries, NQ, DIM, K, PA_METRIC_L2, gt, NULL));
    pa_index *x = NULL;
    CHECK_OK(pa_index_open(&x, tpath("idx_ds")));
    pa_index_search_options o = {
        .struct_size = sizeof o, .k = K, .nprobes = 4, .refine_factor = 10, .refine_input = in};
    double recall = 0;
    if (x) {
        CHECK_OK(pa_index_search(x, queries, NQ, DIM, &o, ids, dists, NULL));
        CHECK_OK(pa_recall_at_k(ids, K, gt, K, NQ, K, &recall));
        pa_index_free(x);
    }
    /* the ids are addresses in all three fragments, and each refined distance is exact */
    int frags = 0, exact = 1;
    const uint64_t per = N / 3 + 1;
    for (int i = 0; i < NQ * K; i++) {
        frags |= 1 << (ids[i] >> 32);
        uint64_t ordinal = (ids[i] >> 32) * per + (ids[i] & 0xFFFFFFFFu);
        if (ordinal >= N ||
            fabsf(dists[i] - pa_l2sq(queries + (i / K) * DIM, data + ordinal * DIM, DIM)) > 1e-3f)
            exact = 0;
    }
    fprintf(stderr, "dataset input in 3 fragments: refine x10 recall@10 %.3f\n", recall);
    CHECK(frags == 7 && exact);
    CHECK(recall >= 0.95);
    /* row addresses do not fit .ivecs; .npy keeps them */
    CHECK_ERR(pa_ids_write(tpath("ds_gt.ivecs"), gt, NQ, K), PA_ERR_RANGE,
              "does not fit in an int32 .ivecs entry; write .npy for 64-bit ids");
    struct stat sb;
    CHECK(stat(tpath("ds_gt.ivecs"), &sb) != 0); /* nothing half-written is left */
    uint64_t *back = NULL, nb = 0;
    uint32_t kb = 0;
    CHECK_OK(pa_ids_write(tpath("ds_gt.npy"), gt, NQ, K));
    CHECK_OK(pa_ids_read(tpath("ds_gt.npy"), &back, &nb, &kb));
    CHECK(nb == NQ && kb == K && back && !memcmp(back, gt, 8 * NQ * K));
    free(back);
    pa_vec_input_free(in);
    free(gt);
}

static void write_file(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(b, 1, n, f);
        fclose(f);
    }
}

/* Neighbour ids as .npy: the header NumPy writes for the same array, byte for byte; int64 and
 * int32 arrays (FAISS's, with -1 for a missing neighbour) read too; bad files refused. */
static void test_npy_ids(void)
{
    uint64_t ids[30];
    for (int i = 0; i < 30; i++)
        ids[i] = (uint64_t)i << 32 | (uint64_t)(i * 7);
    ids[29] = UINT64_MAX;
    CHECK_OK(pa_ids_write(tpath("ids.npy"), ids, 3, 10));
    /* what numpy.save(f, numpy.zeros((3, 10), dtype='<u8')) writes before the data */
    static const char numpy_hdr[] = "\x93NUMPY\x01\x00v\x00{'descr': '<u8', 'fortran_order': "
                                    "False, 'shape': (3, 10), }";
    uint8_t file[128 + 240];
    FILE *f = fopen(tpath("ids.npy"), "rb");
    size_t got = f ? fread(file, 1, sizeof file, f) : 0;
    if (f)
        fclose(f);
    CHECK(got == sizeof file && !memcmp(file, numpy_hdr, sizeof numpy_hdr - 1) &&
          file[127] == '\n' && file[126] == ' ' && !memcmp(file + 128, ids, 240));
    uint64_t *back = NULL, n = 0;
    uint32_t k = 0;
    CHECK_OK(pa_ids_read(tpath("ids.npy"), &back, &n, &k));
    CHECK(n == 3 && k == 10 && back && !memcmp(back, ids, sizeof ids));
    free(back);
    /* int32 with -1, as FAISS returns them */
    uint8_t i4[128 + 8];
    memcpy(i4, file, 128);
    memcpy(i4 + 10, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 1), }", 59);
    memset(i4 + 10 + 59, ' ', 128 - 10 - 59 - 1);
    int32_t v[2] = {5, -1};
    memcpy(i4 + 128, v, 8);
    write_file(tpath("i4.npy"), i4, sizeof i4);
    CHECK_OK(pa_ids_read(tpath("i4.npy"), &back, &n, &k));
    CHECK(n == 2 && k == 1 && back && back[0] == 5 && back[1] == UINT64_MAX);
    free(back);
    /* refused: another dtype, a cut-off array, one dimension */
    memcpy(file + 10, "{'descr': '<f4'", 15);
    write_file(tpath("f4.npy"), file, sizeof file);
    CHECK_ERR(pa_ids_read(tpath("f4.npy"), &back, &n, &k), PA_ERR_UNSUPPORTED,
              ".npy dtype '<f4' is not an id type (uint64 '<u8', int64 '<i8' or int32 '<i4')");
    CHECK_OK(pa_ids_write(tpath("cut.npy"), ids, 3, 10));
    CHECK(truncate(tpath("cut.npy"), 128 + 200) == 0);
    CHECK_ERR(pa_ids_read(tpath("cut.npy"), &back, &n, &k), PA_ERR_FORMAT,
              ".npy shape (3, 10) needs 240 bytes of data after the header, the file has 200 "
              "(truncated?)");
    memcpy(i4 + 10, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }   ", 60);
    write_file(tpath("flat.npy"), i4, sizeof i4);
    CHECK_ERR(pa_ids_read(tpath("flat.npy"), &back, &n, &k), PA_ERR_UNSUPPORTED,
              "neighbour ids must be a 2-D C-order array (queries, k)");
    CHECK(back == NULL && n == 0 && k == 0);
}

static void test_errors(void)
{
    pa_index *x = NULL;
    CHECK_ERR(pa_index_open(&x, tpath("no_such_index")), PA_ERR_IO, "auxiliary.idx");
    /* corrupt: a truncated auxiliary.idx */
    mkdir(tpath("idx_corrupt"), 0755);
    FILE *src = fopen(tpath("idx_a/auxiliary.idx"), "rb"),
         *dst = fopen(tpath("idx_corrupt/auxiliary.idx"), "wb");
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, src);
    fwrite(buf, 1, n / 2, dst);
    fclose(src), fclose(dst);
    pa_status st = pa_index_open(&x, tpath("idx_corrupt"));
    CHECK(st != PA_OK && strstr(pa_last_error(), "auxiliary.idx"));
    /* index.idx missing */
    pa_remove_tree(tpath("idx_noidx"));
    mkdir(tpath("idx_noidx"), 0755);
    CHECK(link(tpath("idx_a/auxiliary.idx"), tpath("idx_noidx/auxiliary.idx")) == 0);
    CHECK_ERR(pa_index_open(&x, tpath("idx_noidx")), PA_ERR_IO, "index.idx");

    CHECK_OK(pa_index_open(&x, tpath("idx_a")));
    if (!x)
        return;
    float q[64] = {0};
    uint64_t ids[N + 1];
    float d[N + 1];
    pa_index_search_options o = {.struct_size = sizeof o, .k = 10, .nprobes = 2};
    CHECK_ERR(pa_index_search(x, q, 1, 64, &o, ids, d, NULL), PA_ERR_INVALID,
              "dimension 64, index");
    CHECK(strstr(pa_last_error(), "dimension 32"));
    o.k = N + 1;
    CHECK_ERR(pa_index_search(x, q, 1, DIM, &o, ids, d, NULL), PA_ERR_INVALID,
              "more than the 20000 rows");
    o.k = 0;
    CHECK_ERR(pa_index_search(x, q, 1, DIM, &o, ids, d, NULL), PA_ERR_INVALID, "k must be");
    /* nprobes above the partitions is clamped */
    o.k = 5, o.nprobes = 1000;
    pa_index_search_stats ss = PA_INDEX_SEARCH_STATS_INIT;
    CHECK_OK(pa_index_search(x, q, 1, DIM, &o, ids, d, &ss));
    CHECK(ss.nprobes_used == P);
    /* k = all rows with every partition: every slot filled */
    o.k = N, o.nprobes = P;
    CHECK_OK(pa_index_search(x, queries, 1, DIM, &o, ids, d, NULL));
    CHECK(ids[N - 1] != UINT64_MAX);
    /* one probe and k above that partition's rows: the rest is UINT64_MAX / inf */
    o.nprobes = 1;
    CHECK_OK(pa_index_search(x, queries, 1, DIM, &o, ids, d, NULL));
    CHECK(ids[N - 1] == UINT64_MAX && isinf(d[N - 1]));
    o.k = 10, o.nprobes = 2, o.refine_factor = 4;
    CHECK_ERR(pa_index_search(x, q, 1, DIM, &o, ids, d, NULL), PA_ERR_INVALID, "refine");
    q[3] = NAN;
    o.refine_factor = 0;
    CHECK_ERR(pa_index_search(x, q, 1, DIM, &o, ids, d, NULL), PA_ERR_INVALID, "query 0");
    /* in a batch checked on several threads the first bad query is reported, for what is
     * wrong with it */
    float *bad = malloc(sizeof(float) * NQ * DIM);
    uint64_t *bids = malloc(sizeof(uint64_t) * NQ * 10);
    float *bd = malloc(sizeof(float) * NQ * 10);
    if (bad && bids && bd) {
        memcpy(bad, queries, sizeof(float) * NQ * DIM);
        bad[(size_t)(NQ - 10) * DIM + 5] = INFINITY;
        o.k = 10, o.num_threads = 2;
        CHECK_ERR(pa_index_search(x, bad, NQ, DIM, &o, bids, bd, NULL), PA_ERR_INVALID,
                  "query 90 has a NaN or infinite value");
        bad[(size_t)(NQ - 20) * DIM] = 3e19f; /* squared: 9e38, past float's range */
        CHECK_ERR(pa_index_search(x, bad, NQ, DIM, &o, bids, bd, NULL), PA_ERR_INVALID,
                  "query 80 has squared norm 9e+38, more than 5.32e+36");
        o.num_threads = 0;
    }
    free(bad), free(bids), free(bd);
    pa_index_free(x);

    /* model / artifact mismatches */
    CHECK_ERR(pa_index_finalize_artifact(tpath("art"), tpath("model_m4.lance"), tpath("idx_x"),
                                         NULL, NULL),
              PA_ERR_INVALID, "4 sub-vectors");
    CHECK_ERR(pa_index_finalize_artifact(tpath("art"), tpath("model_other.lance"), tpath("idx_x"),
                                         NULL, NULL),
              PA_ERR_INVALID, "is not the model");
    CHECK_ERR(pa_index_finalize_rows(tpath("rows.lance"), tpath("model_m4.lance"), tpath("idx_x"),
                                     NULL, NULL),
              PA_ERR_INVALID, "4 sub-vectors");
    CHECK_ERR(pa_index_finalize_artifact(tpath("art"), NULL, tpath("idx_a"), NULL, NULL),
              PA_ERR_EXISTS, "already exists");
    CHECK_ERR(pa_index_finalize_artifact(tpath("no_art"), NULL, tpath("idx_x"), NULL, NULL),
              PA_ERR_INCOMPLETE, "no_art");
    struct stat sb;
    CHECK(stat(tpath("idx_x"), &sb) != 0);
    /* a rows file whose part ids exceed the model's partitions */
    pa_field f[3] = {{"row_id", PA_TYPE_UINT64, 1},
                     {"part_id", PA_TYPE_UINT32, 1},
                     {"pq_code", PA_TYPE_FSL_UINT8, MSUB}};
    pa_lance_writer *lw = NULL;
    CHECK_OK(pa_lance_writer_create(&lw, tpath("badrows.lance"), f, 3, NULL));
    uint64_t rid[3] = {0, 1, 2};
    uint32_t pid[3] = {0, 99, 1};
    uint8_t cc[3 * MSUB] = {0};
    const void *cols[3] = {rid, pid, cc};
    CHECK_OK(pa_lance_writer_append(lw, cols, 3));
    CHECK_OK(pa_lance_writer_close(lw));
    pa_lance_writer_free(lw);
    CHECK_ERR(pa_index_finalize_rows(tpath("badrows.lance"), tpath("model.lance"), tpath("idx_x"),
                                     NULL, NULL),
              PA_ERR_INVALID, "row 1 has part_id 99");
    CHECK(stat(tpath("idx_x"), &sb) != 0);
    /* recall helper and ivecs checks */
    uint64_t a1[4] = {1, 2, 3, 4}, b1[4] = {2, 9, 1, 7};
    double r = 0;
    CHECK_OK(pa_recall_at_k(a1, 2, b1, 2, 2, 2, &r));
    CHECK(fabs(r - 0.25) < 1e-9);
    CHECK_ERR(pa_recall_at_k(a1, 2, b1, 2, 2, 3, &r), PA_ERR_INVALID, "recall@3");
    uint64_t big[1] = {1ull << 40};
    CHECK_ERR(pa_ivecs_write(tpath("big.ivecs"), big, 1, 1), PA_ERR_RANGE, "does not fit");
}

/* dot and cosine: exact ADC ranking too. */
static void test_other_metrics(void)
{
    pa_metric ms[2] = {PA_METRIC_DOT, PA_METRIC_COSINE};
    for (int i = 0; i < 2; i++) {
        char mp[64], ap[64], ip[64];
        snprintf(mp, sizeof mp, "model_%s.lance", pa_metric_name(ms[i]));
        snprintf(ap, sizeof ap, "art_%s", pa_metric_name(ms[i]));
        snprintf(ip, sizeof ip, "idx_%s", pa_metric_name(ms[i]));
        pa_ivfpq_model *m = build_artifact(tpath(mp), tpath(ap), ms[i], P, MSUB);
        CHECK_OK(pa_index_finalize_artifact(tpath(ap), NULL, tpath(ip), NULL, NULL));
        uint32_t *pp = malloc(4 * N);
        uint8_t *cc = malloc((size_t)N * MSUB);
        CHECK_OK(pa_ivfpq_assign_encode(m, data, N, pp, cc));
        if (ms[i] == PA_METRIC_COSINE) {
            /* the ADC reference works on normalised queries */
            for (int q = 0; q < NQ; q++)
                pa_normalize(queries + q * DIM, DIM);
        }
        test_exact_adc(tpath(ip), m, pp, cc, MSUB, ms[i]);
        free(pp), free(cc);
        pa_ivfpq_model_free(m);
    }
}

/* Ground truth ranks by the exact distance with ties by row id: a base holding copies of rows
 * (at other positions in the sgemm's blocks, whose rounding differs by position) returns each
 * row before its later copy, id for id a reference in double (l2, dot and cosine). */
static void test_groundtruth_ties(void)
{
    enum { NB = 5000, NCOPY = 500, NT = NB + NCOPY, QT = 50, KT = 10 };
    float *base = malloc(sizeof(float) * NT * DIM), *q = malloc(sizeof(float) * QT * DIM);
    memcpy(base, data, sizeof(float) * NB * DIM);
    memcpy(base + (size_t)NB * DIM, data, sizeof(float) * NCOPY * DIM);
    for (int i = 0; i < QT; i++) /* near rows that have a copy */
        for (int t = 0; t < DIM; t++)
            q[i * DIM + t] = data[(i * 7) * DIM + t] + 0.01f * (float)((i + t) % 5);
    write_fvecs(tpath("ties.fvecs"), base, NT, DIM);
    const pa_metric ms[3] = {PA_METRIC_L2, PA_METRIC_DOT, PA_METRIC_COSINE};
    uint64_t *gt = malloc(8 * QT * KT);
    pa_topk_cand *ref = malloc(sizeof(pa_topk_cand) * NT);
    float *qn = malloc(sizeof(float) * DIM), *xn = malloc(sizeof(float) * DIM);
    for (int mi = 0; mi < 3; mi++) {
        pa_vec_input *in = NULL;
        CHECK_OK(pa_vec_input_open(&in, tpath("ties.fvecs"), NULL));
        CHECK_OK(pa_groundtruth(in, q, QT, DIM, KT, ms[mi], gt, NULL));
        pa_vec_input_free(in);
        int same = 1, copies = 0;
        for (int i = 0; i < QT; i++) {
            memcpy(qn, q + i * DIM, sizeof(float) * DIM);
            if (ms[mi] == PA_METRIC_COSINE)
                pa_normalize(qn, DIM);
            for (int r = 0; r < NT; r++) {
                memcpy(xn, base + (size_t)r * DIM, sizeof(float) * DIM);
                if (ms[mi] == PA_METRIC_COSINE)
                    pa_normalize(xn, DIM);
                double s = 0;
                for (int t = 0; t < DIM; t++)
                    s += ms[mi] == PA_METRIC_DOT
                             ? (double)qn[t] * xn[t]
                             : ((double)qn[t] - xn[t]) * ((double)qn[t] - xn[t]);
                ref[r] = (pa_topk_cand){ms[mi] == PA_METRIC_DOT ? (float)-s : (float)s, 0,
                                        (uint64_t)r};
            }
            qsort(ref, NT, sizeof *ref, pa_topk_cmp);
            for (int j = 0; j < KT; j++) {
                same &= gt[i * KT + j] == ref[j].id;
                copies += ref[j].id >= NB;
            }
        }
        fprintf(stderr, "groundtruth ties, %s: %d copies in the top %d\n", pa_metric_name(ms[mi]),
                copies, KT);
        CHECK(same);
        CHECK(ms[mi] == PA_METRIC_DOT || copies >= QT); /* each query's row and its copy tie */
    }
    free(base), free(q), free(gt), free(ref), free(qn), free(xn);
}

int main(int argc, char **argv)
{
    TEST_ARGS(argc, argv);
    if (!test_tmpdir_init("index"))
        return 1;
    double t0 = pa_now_seconds();
    gen_data();
    write_fvecs(tpath("base.fvecs"), data, N, DIM);
    pa_ivfpq_model *m = build_artifact(tpath("model.lance"), tpath("art"), PA_METRIC_L2, P, MSUB);
    /* models that do not fit the artifact: other sub-vectors; same shape, other seed */
    pa_ivfpq_params prm = {.struct_size = sizeof prm,
                           .num_partitions = P,
                           .num_sub_vectors = 4,
                           .max_iters = 5,
                           .seed = 1};
    pa_ivfpq_model *o = NULL;
    CHECK_OK(pa_ivfpq_train(&o, data, 4000, DIM, &prm, NULL));
    CHECK_OK(pa_ivfpq_model_save(o, tpath("model_m4.lance")));
    pa_ivfpq_model_free(o);
    prm.num_sub_vectors = MSUB, prm.seed = 99;
    CHECK_OK(pa_ivfpq_train(&o, data, 4000, DIM, &prm, NULL));
    CHECK_OK(pa_ivfpq_model_save(o, tpath("model_other.lance")));
    pa_ivfpq_model_free(o);
    fprintf(stderr, "setup: %.2f s\n", pa_now_seconds() - t0);
    RUN(test_finalize_paths_agree());
    RUN(test_exact_adc(tpath("idx_a"), m, parts, codes, MSUB, PA_METRIC_L2));
    RUN(test_recall());
    RUN(test_memory_budget());
    RUN(test_search_memory());
    RUN(test_finalize_estimate());
    RUN(test_dataset_refine());
    RUN(test_npy_ids());
    RUN(test_errors());
    RUN(test_other_metrics());
    RUN(test_groundtruth_ties());
    pa_ivfpq_model_free(m);
    free(data), free(queries);
    fprintf(stderr, "total: %.2f s\n", pa_now_seconds() - t0);
    TEST_DONE();
}
