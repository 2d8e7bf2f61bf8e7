/* The CPU IVF_PQ backend: k-means recovers separated clusters; PQ beats random codebooks by a
 * wide margin; assignment and encoding match brute force; the SIMD kernels agree exactly; the
 * same seed gives a byte-identical model whatever the thread count; save/load round trips; and
 * each bad input is refused with its message. */
#include "ivfpq/ivfpq_internal.h"
#include "test.h"

#include <math.h>
#include <omp.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t rng = 0x1234567;

static double gauss(void)
{
    double u = ((double)(pa_splitmix(&rng) >> 11) + 0.5) / 9007199254740992.0;
    double v = ((double)(pa_splitmix(&rng) >> 11) + 0.5) / 9007199254740992.0;
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/* A participants' sum over one participant: nothing to add. */
static pa_status sum_identity(void *ctx, double *v, size_t count)
{
    (void)ctx, (void)v, (void)count;
    return PA_OK;
}

/* n rows around k centres (spread `far`, noise 1), labels into lab. */
static float *clustered(uint64_t n, uint32_t dim, uint32_t k, double far, uint32_t *lab)
{
    float *centres = malloc(sizeof(float) * k * dim), *x = malloc(sizeof(float) * n * dim);
    for (uint32_t j = 0; j < k * dim; j++)
        centres[j] = (float)(gauss() * far);
    for (uint64_t i = 0; i < n; i++) {
        uint32_t c = (uint32_t)(i % k);
        if (lab)
            lab[i] = c;
        for (uint32_t d = 0; d < dim; d++)
            x[i * dim + d] = centres[c * dim + d] + (float)gauss();
    }
    free(centres);
    return x;
}

static void test_kmeans_recovers_clusters(void)
{
    const uint64_t n = 4000;
    const uint32_t dim = 16, k = 8;
    uint32_t lab[4000], got[4000];
    float *x = clustered(n, dim, k, 50, lab);
    float c[8 * 16];
    pa_kmeans_result r;
    CHECK_OK(pa_kmeans(x, n, dim, k, 50, 7, false, false, c, got, &r));
    /* a bijection between true clusters and k-means clusters */
    int map[8], used[8] = {0}, bad = 0;
    for (uint32_t t = 0; t < k; t++)
        map[t] = -1;
    for (uint64_t i = 0; i < n; i++) {
        if (map[lab[i]] < 0) {
            map[lab[i]] = (int)got[i];
            bad += used[got[i]]++ > 0;
        } else {
            bad += map[lab[i]] != (int)got[i];
        }
    }
    CHECK(bad == 0);
    CHECK(r.iters >= 1 && r.iters < 50);
    /* the small-dimension (SIMD kernel) path recovers them too */
    CHECK_OK(pa_kmeans(x, n, dim, k, 50, 7, false, true, c, got, &r));
    bad = 0;
    for (uint64_t i = 0; i < n; i++)
        bad += got[i] != got[i % k]; /* row c is the first row of cluster c */
    for (uint32_t t = 0; t < k; t++)
        for (uint32_t u = t + 1; u < k; u++)
            bad += got[t] == got[u];
    CHECK(bad == 0);
    free(x);
}

/* Grouped bounds (groups.c) change nothing: k-means with them (at the AVX-512 level and at the
 * AVX2 one) gives the centroids, assignments and iterations, byte for byte, of the AVX2 kernels
 * over every centroid (pa_groups_disabled), for shapes of the fused kernel (several registers
 * a group, and one) and of the small-dimension one (16 groups, and 8), and for a participant's
 * side-by-side runs; on clustered rows with far-out ones (large moves) and on rows of small
 * integers (repeated rows and seeds: exact ties between centroids). On the clustered rows the
 * grouped runs compute well under the pairs of a full assignment. */
static void test_groups_exact(void)
{
    if (!pa_kernel_set("avx2")) {
        printf("  (no AVX2 here: the grouped assignment does not run)\n");
        return;
    }
    const struct {
        uint64_t n;
        uint32_t dim, k;
        bool small;
    } shapes[] = {{12000, 128, 512, false},
                  {6000, 256, 256, false},
                  {9000, 49, 256, true},
                  {4000, 64, 128, true}};
    static const char *const levels[] = {"avx512", "avx2"};
    int grouped_runs = 0;
    for (size_t t = 0; t < sizeof shapes / sizeof *shapes; t++)
        for (int kind = 0; kind < 2; kind++) {
            const uint64_t n = shapes[t].n;
            const uint32_t dim = shapes[t].dim, k = shapes[t].k;
            const bool small = shapes[t].small;
            float *x = clustered(n, dim, k / 2, 3, NULL);
            for (uint64_t i = 0; i < n * dim; i++)
                x[i] = kind ? (float)((i * 2654435761u >> 7) % 3) : x[i] * (i % 97 ? 1 : 6);
            /* the reference: the AVX2 kernels over every centroid */
            float *c0 = malloc(sizeof(float) * k * dim), *cm = calloc((size_t)k * dim, 4);
            uint32_t *a0 = malloc(sizeof(uint32_t) * n);
            pa_kmeans_result r0;
            CHECK(pa_kernel_set("avx2"));
            pa_groups_disabled = true;
            CHECK(pa_groups_count(k, dim, !small) == 0);
            CHECK_OK(pa_kmeans(x, n, dim, k, 12, 3 + t, false, small, c0, a0, &r0));
            pa_groups_disabled = false;
            CHECK(r0.passes == r0.iters && r0.iters > 2);
            for (int l = 0; l < 2; l++) {
                if (!pa_kernel_set(levels[l]))
                    continue;
                CHECK(pa_groups_count(k, dim, !small) > 0);
                float *c = malloc(sizeof(float) * k * dim);
                uint32_t *a = malloc(sizeof(uint32_t) * n);
                pa_kmeans_result r;
                CHECK_OK(pa_kmeans(x, n, dim, k, 12, 3 + t, false, small, c, a, &r));
                printf("  shape %zu kind %d %s: %u iterations, %.2f full assignments' work\n", t,
                       kind, levels[l], r.iters, r.passes);
                grouped_runs++;
                if (kind == 0) /* (rows without clusters: the groups are given up) */
                    CHECK(r.passes > 1 && r.passes < 0.6 * r.iters);
                CHECK(r.iters == r0.iters);
                CHECK(!memcmp(c, c0, sizeof(float) * k * dim));
                CHECK(!memcmp(a, a0, sizeof(uint32_t) * n));
                if (small) { /* a participant's side-by-side run, grouped */
                    const float *xs[1] = {x};
                    float *cs[1] = {cm};
                    const uint64_t seeds[1] = {3 + t};
                    pa_train_comm comm = PA_TRAIN_COMM_INIT;
                    comm.sum = sum_identity;
                    pa_kmeans_part part = {.comm = &comm, .first = 0, .total = n};
                    pa_kmeans_result rm;
                    CHECK_OK(pa_kmeans_dist_many(1, xs, n, dim, k, 12, seeds, cs, &rm, &part));
                    CHECK(rm.iters == r.iters && rm.passes == r.passes);
                    CHECK(!memcmp(cm, c0, sizeof(float) * k * dim));
                }
                free(c), free(a);
            }
            free(c0), free(a0), free(cm), free(x);
        }
    CHECK(grouped_runs >= 8); /* the AVX2 level's at least */
    if (!pa_kernel_set("avx512"))
        pa_kernel_set("avx2");
}

/* The single bound a row of the small-dimension k-means (kmeans.c's bounded pass, AVX2) changes
 * nothing: the centroids, assignments and iterations, byte for byte, of the kernel over every
 * codeword (pa_groups_disabled), for PQ's shape (8 values, 256 codewords: the pass compiled for
 * 8), an odd dimension, 128 codewords, and for a participant's side-by-side runs; on
 * clustered rows with far-out ones (large moves, emptied clusters split: the movers) and on
 * rows of small integers (exact ties). On the clustered rows the bounded runs recompute well
 * under every row a pass. */
static void test_bounded_exact(void)
{
    if (!pa_kernel_set("avx2")) {
        printf("  (no AVX2 here: the bounded assignment does not run)\n");
        return;
    }
    const struct {
        uint64_t n;
        uint32_t dim, k;
    } shapes[] = {{20000, 8, 256}, {12000, 5, 128}, {12000, 12, 256}};
    for (size_t t = 0; t < sizeof shapes / sizeof *shapes; t++)
        for (int kind = 0; kind < 2; kind++) {
            const uint64_t n = shapes[t].n;
            const uint32_t dim = shapes[t].dim, k = shapes[t].k;
            float *x = clustered(n, dim, k / 2, 3, NULL);
            for (uint64_t i = 0; i < n * dim; i++)
                x[i] = kind ? (float)((i * 2654435761u >> 7) % 3) : x[i] * (i % 97 ? 1 : 6);
            float *c0 = malloc(sizeof(float) * k * dim), *c = malloc(sizeof(float) * k * dim);
            float *cm = calloc((size_t)k * dim, 4);
            uint32_t *a0 = malloc(sizeof(uint32_t) * n), *a = malloc(sizeof(uint32_t) * n);
            pa_kmeans_result r0, r, rm;
            pa_groups_disabled = true; /* the reference: the kernel over every codeword */
            CHECK_OK(pa_kmeans(x, n, dim, k, 25, 5 + t, false, true, c0, a0, &r0));
            pa_groups_disabled = false;
            CHECK(r0.passes == r0.iters && r0.iters >= (kind ? 2 : 5));
            CHECK_OK(pa_kmeans(x, n, dim, k, 25, 5 + t, false, true, c, a, &r));
            printf("  shape %zu kind %d: %u iterations, %.2f full assignments' work\n", t, kind,
                   r.iters, r.passes);
            if (kind == 0)
                CHECK(r.passes < 0.8 * r.iters);
            CHECK(r.iters == r0.iters);
            CHECK(!memcmp(c, c0, sizeof(float) * k * dim));
            CHECK(!memcmp(a, a0, sizeof(uint32_t) * n));
            const float *xs[1] = {x};
            float *cs[1] = {cm};
            const uint64_t seeds[1] = {5 + t};
            pa_train_comm comm = PA_TRAIN_COMM_INIT;
            comm.sum = sum_identity;
            pa_kmeans_part part = {.comm = &comm, .first = 0, .total = n};
            CHECK_OK(pa_kmeans_dist_many(1, xs, n, dim, k, 25, seeds, cs, &rm, &part));
            CHECK(rm.iters == r.iters && rm.passes == r.passes);
            CHECK(!memcmp(cm, c0, sizeof(float) * k * dim));
            free(c0), free(c), free(cm), free(a0), free(a), free(x);
        }
    if (!pa_kernel_set("avx512"))
        pa_kernel_set("avx2");
}

/* One grouped pass by hand (pa_groups_assign, the first pass: every group computed) on groups
 * of 32 centroids (two chunks of 16 on AVX2, two registers on AVX-512): a row on centroid 3 of
 * group 0, whose copy sits at position 20 (the second chunk), is assigned 3, the lowest; each
 * row's value is the kernel's; and each group's bound is at most the row's distance to the
 * group's nearest centroid other than its winner (a row on centroid 40 of group 1, second chunk,
 * with centroid 33 of the first chunk next to it: 33 is that group's other nearest). */
static void test_groups_pass(void)
{
    enum { K = 512, D = 64, G = 16, GS = K / G, N = 40 };
    static const char *const levels[] = {"avx512", "avx2"};
    float *c = malloc(sizeof(float) * K * D), *cbt = malloc(sizeof(float) * K * D);
    float cbn[K], x[N * D], xn[N], val[N], lb[N * PA_GROUPS_MAX];
    uint32_t perm[K], pos[K], as[N];
    for (uint32_t j = 0; j < K * D; j++)
        c[j] = (float)gauss();
    for (uint32_t d = 0; d < D; d++) {
        c[20 * D + d] = c[3 * D + d];                    /* a tie across group 0's chunks */
        c[33 * D + d] = c[40 * D + d] + 0.01f * (d % 3); /* group 1's runner-up in chunk 0 */
    }
    for (uint32_t j = 0; j < K; j++) {
        perm[j] = pos[j] = j, cbn[j] = 0;
        for (uint32_t d = 0; d < D; d++)
            cbn[j] += c[j * D + d] * c[j * D + d];
        for (uint32_t d = 0; d < D; d++) /* [g][d][GS], -2 c (the small-dimension kernel's) */
            cbt[(size_t)(j / GS) * GS * D + (size_t)d * GS + j % GS] = -2.0f * c[j * D + d];
    }
    for (uint32_t i = 0; i < N; i++)
        for (uint32_t d = 0; d < D; d++)
            x[i * D + d] = i == 0 ? c[3 * D + d] : i == 1 ? c[40 * D + d] : (float)gauss();
    double cmax = 0;
    for (uint32_t j = 0; j < K; j++)
        cmax = fmax(cmax, sqrt(cbn[j]));
    for (uint32_t i = 0; i < N; i++) {
        xn[i] = 0;
        for (uint32_t d = 0; d < D; d++)
            xn[i] += x[i * D + d] * x[i * D + d];
    }
    int ran = 0;
    for (int l = 0; l < 2; l++) {
        if (!pa_kernel_set(levels[l]))
            continue;
        ran++;
        memset(lb, 0, sizeof lb);
        const pa_groups_pass ps = {.x = x,
                                   .stride = D,
                                   .dim = D,
                                   .k = K,
                                   .groups = G,
                                   .fused = false,
                                   .cbt = cbt,
                                   .cbn = cbn,
                                   .perm = perm,
                                   .pos = pos,
                                   .gmove = NULL,
                                   .xnorm = xn,
                                   .cmax = cmax * 1.001,
                                   .assign = as,
                                   .val = val,
                                   .lb = lb};
        CHECK(pa_groups_assign(&ps, 0, N) == (uint64_t)N * G);
        CHECK(as[0] == 3 && as[1] == 40);
        int bad_val = 0, bad_lb = 0;
        for (uint32_t i = 0; i < N; i++) {
            float best = INFINITY; /* the kernel's value: ||c||^2, then -2 c one fma a value */
            for (uint32_t j = 0; j < K; j++) {
                float a = cbn[j];
                for (uint32_t d = 0; d < D; d++)
                    a = fmaf(x[i * D + d], -2.0f * c[j * D + d], a);
                best = a < best ? a : best;
            }
            bad_val += memcmp(&best, &val[i], sizeof best) != 0;
            for (uint32_t g = 0; g < G; g++) { /* the group's nearest other than the winner */
                double near = INFINITY;
                for (uint32_t j = g * GS; j < (g + 1) * GS; j++) {
                    if (j == as[i])
                        continue;
                    double e = 0;
                    for (uint32_t d = 0; d < D; d++)
                        e += ((double)x[i * D + d] - c[j * D + d]) *
                             ((double)x[i * D + d] - c[j * D + d]);
                    near = fmin(near, sqrt(e));
                }
                bad_lb += !(lb[i * PA_GROUPS_MAX + g] <= near);
            }
        }
        CHECK(bad_val == 0);
        CHECK(bad_lb == 0);
        /* the winner's group bound comes from its runner-up: row 1's is about |c33 - c40| */
        CHECK(lb[1 * PA_GROUPS_MAX + 1] > 0.0f && lb[1 * PA_GROUPS_MAX + 1] < 0.2f);
    }
    CHECK(ran > 0);
    free(c), free(cbt);
    if (!pa_kernel_set("avx512"))
        pa_kernel_set("avx2");
}

/* A random codebook as the kernels take it (transposed, times -2, with its norms) in which
 * codeword hi repeats codeword lo: a tie the kernels must break the same way (lowest). */
static void tied_codebook(float *cbt, float *norms, uint32_t K, uint32_t ds, uint32_t lo,
                          uint32_t hi)
{
    for (uint32_t k = 0; k < K; k++) {
        norms[k] = 0;
        for (uint32_t j = 0; j < ds; j++) {
            float c = (float)gauss();
            cbt[j * K + k] = -2.0f * c;
            norms[k] += c * c;
        }
    }
    for (uint32_t j = 0; j < ds; j++)
        cbt[j * K + hi] = cbt[j * K + lo];
    norms[hi] = norms[lo];
}

/* 4-bit codebooks (K = 16, ds 4, codewords 3 and 11 equal): every kernel gives the scalar
 * one's codes and values, with an odd row count (the two-row loop's tail; AVX2's eight-row
 * steps, then four, then one), and the same for the rows at a stride (the encode's calls). */
static void test_kernels_agree_k16(void)
{
    enum { K = 16, ds = 4, n = 1001, stride = ds + 3 };
    float cbt[ds * K], norms[K], x[n * ds], val[3][n], xs[n * stride], vs[n];
    uint32_t out[3][n], os[n];
    tied_codebook(cbt, norms, K, ds, 3, 11);
    for (uint64_t i = 0; i < n * ds; i++)
        x[i] = (float)gauss();
    for (uint32_t j = 0; j < ds; j++) /* row 0 nearest to the tied pair */
        x[j] = -0.5f * cbt[j * K + 3];
    const char *names[] = {"scalar", "avx2", "avx512"};
    int ran = 0;
    for (uint64_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < stride; j++)
            xs[i * stride + j] = j < ds ? x[i * ds + j] : NAN; /* (the padding never read) */
    for (int v = 0; v < 3; v++)
        if (pa_kernel_set(names[v])) {
            pa_nearest_small(x, ds, n, cbt, norms, ds, K, out[v], val[v]);
            pa_nearest_small(xs, stride, n, cbt, norms, ds, K, os, vs);
            CHECK(!memcmp(os, out[v], sizeof os) && !memcmp(vs, val[v], sizeof vs));
            ran |= 1 << v;
        }
    CHECK(ran & 1);
    CHECK(out[0][0] == 3);
    for (int v = 1; v < 3; v++)
        if (ran & (1 << v)) {
            CHECK(!memcmp(out[0], out[v], sizeof out[0]));
            CHECK(!memcmp(val[0], val[v], sizeof val[0]));
        }
    if (!pa_kernel_set("avx512"))
        pa_kernel_set("avx2");
}

/* Codebooks around the SIMD kernels' edges (K a multiple of 8 but not 16: the one-row loop;
 * K = 48: a chunk not a whole number of four registers; K = 512 and 1040: several chunks of
 * 256, a tie between codewords in different chunks; odd sub-vector widths; row counts that
 * leave a tail after the blocks of four): every kernel gives the scalar one's codes and values
 * bit for bit. Row 0 sits on the tied pair; rows 1-2 are zero rows, nearest to codewords 5 and 7,
 * zero vectors with norms -0 and +0: the first of the zeros wins, with its own sign. */
static void test_kernels_agree_edges(void)
{
    const uint32_t Ks[] = {24, 48, 256, 512, 1040}, dss[] = {1, 3, 8, 13};
    const uint64_t n = 103;
    const char *names[] = {"scalar", "avx2", "avx512"};
    for (size_t t = 0; t < sizeof Ks / sizeof *Ks; t++)
        for (size_t u = 0; u < sizeof dss / sizeof *dss; u++) {
            const uint32_t K = Ks[t], ds = dss[u], lo = K / 5, hi = K - 3; /* the tied pair */
            float *cbt = malloc(sizeof(float) * K * ds), *norms = malloc(sizeof(float) * K);
            float *x = malloc(sizeof(float) * n * ds), *val[3];
            uint32_t *out[3];
            tied_codebook(cbt, norms, K, ds, lo, hi);
            for (uint32_t j = 0; j < ds; j++) /* codewords 5 and 7: zero vectors */
                cbt[j * K + 5] = cbt[j * K + 7] = 0;
            norms[5] = -0.0f, norms[7] = 0.0f;
            for (uint64_t i = 0; i < n * ds; i++)
                x[i] = (float)gauss();
            for (uint32_t j = 0; j < ds; j++)
                x[j] = -0.5f * cbt[j * K + lo], x[ds + j] = 0, x[2 * ds + j] = -0.0f;
            int ran = 0;
            for (int v = 0; v < 3; v++) {
                out[v] = calloc(n, 4), val[v] = calloc(n, sizeof(float));
                if (pa_kernel_set(names[v])) {
                    pa_nearest_small(x, ds, n, cbt, norms, ds, K, out[v], val[v]);
                    ran |= 1 << v;
                }
            }
            CHECK(ran & 1);
            CHECK(out[0][0] == lo && out[0][1] == 5 && out[0][2] == 5);
            for (int v = 1; v < 3; v++)
                if (ran & (1 << v)) {
                    CHECK(!memcmp(out[0], out[v], n * 4));
                    CHECK(!memcmp(val[0], val[v], n * sizeof(float)));
                }
            for (int v = 0; v < 3; v++)
                free(out[v]), free(val[v]);
            free(cbt), free(norms), free(x);
        }
    if (!pa_kernel_set("avx512"))
        pa_kernel_set("avx2");
}

/* The distributed driver's side-by-side runs of one participant are pa_kmeans's run: the same
 * centroids (byte for byte) and iterations, for K = 256 and K = 64. */
static void test_kmeans_dist_many_one(void)
{
    const uint64_t n = 6000;
    const uint32_t ds = 8;
    float *x = clustered(n, ds, 300, 3, NULL);
    for (uint64_t i = 0; i < n * ds; i += 7) /* some rows far out: large norms, large moves */
        x[i] *= 1 + (float)(i % 5);
    const uint32_t Ks[] = {256, 64};
    for (int t = 0; t < 2; t++) {
        const uint32_t K = Ks[t];
        float *c0 = malloc(sizeof(float) * K * ds), *c1 = calloc(K * ds, sizeof(float));
        pa_kmeans_result r0, r1;
        CHECK_OK(pa_kmeans(x, n, ds, K, 30, 5, false, true, c0, NULL, &r0));
        CHECK(r0.iters > 3);
        const float *xs[1] = {x};
        float *cs[1] = {c1};
        const uint64_t seeds[1] = {5};
        pa_train_comm comm = PA_TRAIN_COMM_INIT;
        comm.sum = sum_identity;
        pa_kmeans_part part = {.comm = &comm, .first = 0, .total = n};
        CHECK_OK(pa_kmeans_dist_many(1, xs, n, ds, K, 30, seeds, cs, &r1, &part));
        CHECK(r0.iters == r1.iters);
        CHECK(!memcmp(c0, c1, sizeof(float) * K * ds));
        free(c0), free(c1);
    }
    free(x);
}

static void test_kernels_agree(void)
{
    const uint32_t K = 256, ds = 8;
    const uint64_t n = 3000;
    float *cb = malloc(sizeof(float) * K * ds), *cbt = malloc(sizeof(float) * K * ds);
    float norms[256], *x = malloc(sizeof(float) * n * ds);
    for (uint32_t k = 0; k < K; k++) {
        norms[k] = 0;
        for (uint32_t j = 0; j < ds; j++) {
            cb[k * ds + j] = (float)gauss();
            cbt[j * K + k] = -2.0f * cb[k * ds + j];
            norms[k] += cb[k * ds + j] * cb[k * ds + j];
        }
    }
    for (uint64_t i = 0; i < n * ds; i++)
        x[i] = (float)gauss();
    /* duplicate codewords 10 and 200: a tie the kernels must break the same way (lowest) */
    for (uint32_t j = 0; j < ds; j++) {
        cbt[j * K + 200] = cbt[j * K + 10];
        x[j] = cb[10 * ds + j];
    }
    norms[200] = norms[10];
    uint32_t out[3][3000], tail[3][3000];
    float val[3][3000];
    const char *names[] = {"scalar", "avx2", "avx512"};
    int ran = 0;
    for (int v = 0; v < 3; v++)
        if (pa_kernel_set(names[v])) {
            pa_nearest_small(x, ds, n, cbt, norms, ds, K, out[v], val[v]);
            /* an odd count: the rows after the last block of four */
            pa_nearest_small(x, ds, n - 3, cbt, norms, ds, K, tail[v], NULL);
            ran |= 1 << v;
        }
    CHECK(ran & 1);
    for (int v = 0; v < 3; v++)
        if (ran & (1 << v)) {
            CHECK(!memcmp(out[0], out[v], n * 4));
            CHECK(!memcmp(out[0], tail[v], (n - 3) * 4));
            CHECK(!memcmp(val[0], val[v], n * sizeof(float))); /* the same fused steps */
        }
    /* the update's double-precision row sums agree too, with the reference's: 37 values (a
     * SIMD tail) and 8 (compiled on their own), the rows of centroids 1..3 of 5 */
    static const uint32_t sdims[] = {37, 8};
    for (int di = 0; di < 2; di++) {
        const uint32_t sd = sdims[di];
        uint32_t as[50];
        double sum[3][5 * 37], want[5 * 37];
        for (int r = 0; r < 50; r++)
            as[r] = (uint32_t)(r * 7 % 5);
        for (uint32_t e = 0; e < 5 * sd; e++)
            want[e] = e * 0.25;
        for (int r = 0; r < 50; r++)
            for (uint32_t d = 0; as[r] >= 1 && as[r] < 4 && d < sd; d++)
                want[as[r] * sd + d] += x[r * sd + d];
        for (int v = 0; v < 3; v++)
            if (ran & (1 << v)) {
                pa_kernel_set(names[v]);
                for (uint32_t e = 0; e < 5 * sd; e++)
                    sum[v][e] = e * 0.25;
                pa_add_rows_f64(sum[v], x, 50, sd, as, 1, 4);
                CHECK(!memcmp(want, sum[v], sizeof(double) * 5 * sd));
            }
    }
    /* the winning value is ||c||^2 - 2 x.c of the winner */
    for (uint64_t i = 0; i < n; i += 97) {
        double e = norms[out[0][i]];
        for (uint32_t j = 0; j < ds; j++)
            e -= 2.0 * x[i * ds + j] * cb[out[0][i] * ds + j];
        CHECK(fabs(e - val[0][i]) <= 1e-4 * (1 + fabs(e)));
    }
    CHECK(out[0][0] == 10);
    /* and brute force (exact distances) agrees except at near-ties */
    int bad = 0;
    for (uint64_t i = 0; i < n; i++) {
        double best = INFINITY, chosen = 0;
        for (uint32_t k = 0; k < K; k++) {
            double d = 0;
            for (uint32_t j = 0; j < ds; j++)
                d += (x[i * ds + j] - cb[k * ds + j]) * (double)(x[i * ds + j] - cb[k * ds + j]);
            if (k == 200)
                d = INFINITY; /* the duplicate */
            best = fmin(best, d);
            if (k == out[0][i])
                chosen = d;
        }
        bad += chosen > best * (1 + 1e-5) + 1e-5;
    }
    CHECK(bad == 0);
    if (!pa_kernel_set("avx512"))
        pa_kernel_set("avx2");
    free(cb), free(cbt), free(x);
}


static pa_ivfpq_params params(uint32_t P, uint32_t M, pa_metric metric)
{
    return (pa_ivfpq_params){.struct_size = sizeof(pa_ivfpq_params),
                             .num_partitions = P,
                             .num_sub_vectors = M,
                             .metric = metric,
                             .max_iters = 25,
                             .seed = 11};
}

/* The exact squared distance of row v to centroid c. */
static double d2(const float *v, const float *c, uint32_t dim)
{
    double s = 0;
    for (uint32_t d = 0; d < dim; d++)
        s += ((double)v[d] - c[d]) * ((double)v[d] - c[d]);
    return s;
}

static void test_assign_encode_brute_force(void)
{
    const uint64_t n = 6000;
    const uint32_t dim = 32, P = 40, M = 8;
    float *x = clustered(n, dim, 40, 10, NULL);
    pa_ivfpq_params prm = params(P, M, PA_METRIC_L2);
    pa_ivfpq_model *m;
    CHECK_OK(pa_ivfpq_train(&m, x, n, dim, &prm, NULL));
    if (!m)
        return;
    pa_backend_model a;
    pa_ivfpq_model_arrays(m, &a);
    float *q = clustered(2000, dim, 40, 10, NULL); /* a fresh batch */
    uint32_t parts[2000];
    uint8_t codes[2000 * 8];
    CHECK_OK(pa_ivfpq_assign_encode(m, q, 2000, parts, codes));
    int exact = 0, worse = 0, code_worse = 0;
    const uint32_t ds = dim / M;
    for (uint64_t i = 0; i < 2000; i++) {
        const float *v = q + i * dim;
        uint32_t bp = 0;
        double best = INFINITY;
        for (uint32_t c = 0; c < P; c++) {
            double d = d2(v, a.centroids + (size_t)c * dim, dim);
            if (d < best)
                best = d, bp = c;
        }
        exact += bp == parts[i];
        worse += d2(v, a.centroids + (size_t)parts[i] * dim, dim) > best * (1 + 1e-5) + 1e-4;
        float r[32];
        for (uint32_t d = 0; d < dim; d++)
            r[d] = v[d] - a.centroids[(size_t)parts[i] * dim + d];
        for (uint32_t s = 0; s < M; s++) {
            double bc = INFINITY;
            for (uint32_t k = 0; k < 256; k++)
                bc = fmin(bc, d2(r + s * ds, a.codebook + ((size_t)s * 256 + k) * ds, ds));
            double got = d2(r + s * ds, a.codebook + ((size_t)s * 256 + codes[i * M + s]) * ds, ds);
            code_worse += got > bc * (1 + 1e-4) + 1e-4;
        }
    }
    CHECK(worse == 0 && code_worse == 0);
    CHECK(exact >= 1998);
    pa_ivfpq_model_free(m);
    free(x), free(q);
}

static void test_pq_beats_random(void)
{
    const uint64_t n = 20000;
    const uint32_t dim = 32, P = 16, M = 8;
    float *x = clustered(n, dim, 64, 5, NULL);
    pa_ivfpq_params prm = params(P, M, PA_METRIC_L2);
    pa_ivfpq_model *m;
    CHECK_OK(pa_ivfpq_train(&m, x, n, dim, &prm, NULL));
    if (!m)
        return;
    double mse, mse_random;
    CHECK_OK(pa_ivfpq_pq_mse(m, x, n, &mse));
    /* the same centroids with a random (Gaussian, residual-scale) codebook */
    pa_backend_model a;
    pa_ivfpq_model_arrays(m, &a);
    float *rcb = malloc(sizeof(float) * M * 256 * (dim / M));
    for (size_t i = 0; i < (size_t)M * 256 * (dim / M); i++)
        rcb[i] = (float)(gauss() * 2.0);
    a.codebook = rcb;
    pa_ivfpq_model *rm;
    CHECK_OK(pa_ivfpq_model_from_arrays(&rm, &a));
    CHECK_OK(pa_ivfpq_pq_mse(rm, x, n, &mse_random));
    printf("PQ mse %.4f, random codebook %.4f\n", mse, mse_random);
    CHECK(mse < 0.2 * mse_random); /* trained codebooks: a fifth of the random codebook's error */
    pa_ivfpq_model_free(rm);
    pa_ivfpq_model_free(m);
    free(rcb), free(x);
}

/* Reads a whole file. */
static uint8_t *slurp(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*len);
    if (fread(b, 1, *len, f) != *len)
        *len = 0;
    fclose(f);
    return b;
}

static void test_determinism_and_save_load(void)
{
    const uint64_t n = 8000;
    const uint32_t dim = 16, P = 32, M = 4;
    float *x = clustered(n, dim, 50, 4, NULL);
    char p1[600], p2[600], p3[600];
    snprintf(p1, sizeof p1, "%s/m1.lance", tmpdir);
    snprintf(p2, sizeof p2, "%s/m2.lance", tmpdir);
    snprintf(p3, sizeof p3, "%s/m3.lance", tmpdir);
    pa_ivfpq_params prm = params(P, M, PA_METRIC_COSINE);
    pa_ivfpq_model *m1, *m2, *m3;
    omp_set_num_threads(2);
    CHECK_OK(pa_ivfpq_train(&m1, x, n, dim, &prm, NULL));
    omp_set_num_threads(1);
    CHECK_OK(pa_ivfpq_train(&m2, x, n, dim, &prm, NULL));
    omp_set_num_threads(2);
    CHECK_OK(pa_ivfpq_model_save(m1, p1));
    CHECK_OK(pa_ivfpq_model_save(m2, p2));
    size_t l1 = 0, l2 = 0, l3 = 0;
    uint8_t *b1 = slurp(p1, &l1), *b2 = slurp(p2, &l2);
    CHECK(l1 > 0 && l1 == l2 && !memcmp(b1, b2, l1)); /* 1 thread or 2: the same bytes */
    CHECK_OK(pa_ivfpq_model_load(&m3, p1));
    if (m3) {
        CHECK_OK(pa_ivfpq_model_save(m3, p3));
        uint8_t *b3 = slurp(p3, &l3);
        CHECK(l3 == l1 && !memcmp(b1, b3, l1));
        pa_backend_model a, b;
        pa_ivfpq_model_arrays(m1, &a);
        pa_ivfpq_model_arrays(m3, &b);
        CHECK(a.metric == PA_METRIC_COSINE && b.metric == PA_METRIC_COSINE);
        CHECK(!memcmp(a.centroids, b.centroids, sizeof(float) * P * dim));
        free(b3);
        pa_ivfpq_model_free(m3);
    }
    /* another seed gives another model */
    prm.seed = 12;
    pa_ivfpq_model *m4;
    CHECK_OK(pa_ivfpq_train(&m4, x, n, dim, &prm, NULL));
    if (m4) {
        pa_backend_model a, b;
        pa_ivfpq_model_arrays(m1, &a);
        pa_ivfpq_model_arrays(m4, &b);
        CHECK(memcmp(a.centroids, b.centroids, sizeof(float) * P * dim) != 0);
        pa_ivfpq_model_free(m4);
    }
    /* damaged model files */
    pa_ivfpq_model *bad;
    CHECK(truncate(p2, 100) == 0);
    CHECK_ERR(pa_ivfpq_model_load(&bad, p2), PA_ERR_FORMAT, "no \"LANC\" magic");
    pa_lance_writer *w;
    pa_field f = {"x", PA_TYPE_UINT32, 1};
    const pa_lance_write_options over = {.struct_size = sizeof over, .replace = 1};
    CHECK_OK(pa_lance_writer_create(&w, p2, &f, 1, &over));
    CHECK_OK(pa_lance_writer_close(w));
    pa_lance_writer_free(w);
    CHECK_ERR(pa_ivfpq_model_load(&bad, p2), PA_ERR_FORMAT,
              "not a partifact model (no \"partifact:model\" metadata)");
    free(b1), free(b2);
    pa_ivfpq_model_free(m1);
    pa_ivfpq_model_free(m2);
    free(x);
}

static void test_metrics(void)
{
    const uint64_t n = 5000;
    const uint32_t dim = 16;
    float *x = clustered(n, dim, 20, 5, NULL);
    for (int metric = PA_METRIC_L2; metric <= PA_METRIC_DOT; metric++) {
        pa_ivfpq_params prm = params(16, 4, (pa_metric)metric);
        pa_ivfpq_model *m;
        CHECK_OK(pa_ivfpq_train(&m, x, n, dim, &prm, NULL));
        if (!m)
            continue;
        double mse;
        CHECK_OK(pa_ivfpq_pq_mse(m, x, n, &mse));
        CHECK(isfinite(mse) && mse >= 0);
        if (metric == PA_METRIC_DOT) { /* coarse assignment maximises the inner product */
            pa_backend_model a;
            pa_ivfpq_model_arrays(m, &a);
            uint32_t parts[100];
            uint8_t codes[400];
            CHECK_OK(pa_ivfpq_assign_encode(m, x, 100, parts, codes));
            int bad = 0;
            for (int i = 0; i < 100; i++) {
                double best = -INFINITY, got = 0;
                for (uint32_t c = 0; c < 16; c++) {
                    double ip = 0;
                    for (uint32_t d = 0; d < dim; d++)
                        ip += (double)x[i * dim + d] * a.centroids[c * dim + d];
                    best = fmax(best, ip);
                    if (c == parts[i])
                        got = ip;
                }
                bad += got < best - 1e-3 * fabs(best) - 1e-3;
            }
            CHECK(bad == 0);
        }
        pa_ivfpq_model_free(m);
    }
    free(x);
}

static void test_bad_input(void)
{
    float *x = clustered(1000, 128, 10, 5, NULL);
    pa_ivfpq_model *m;
    pa_ivfpq_params prm = params(16, 7, PA_METRIC_L2);
    CHECK_ERR(pa_ivfpq_train(&m, x, 1000, 128, &prm, NULL), PA_ERR_INVALID,
              "num_sub_vectors 7 does not divide dimension 128");
    prm = params(2000, 16, PA_METRIC_L2);
    CHECK_ERR(pa_ivfpq_train(&m, x, 1000, 128, &prm, NULL), PA_ERR_INVALID,
              "at least as many rows as partitions: 1000 rows for 2000 partitions");
    prm = params(8, 16, PA_METRIC_L2);
    CHECK_ERR(pa_ivfpq_train(&m, x, 200, 128, &prm, NULL), PA_ERR_INVALID,
              "at least 256 rows for 256 codewords per sub-vector, got 200");
    prm.num_bits = 5; /* 4-bit codes are trained since 0.2 (test_pq4.c) */
    CHECK_ERR(pa_ivfpq_train(&m, x, 1000, 128, &prm, NULL), PA_ERR_INVALID,
              "num_bits must be 8 or 4, got 5");
    prm.num_bits = 8;
    x[517 * 128 + 3] = NAN;
    CHECK_ERR(pa_ivfpq_train(&m, x, 1000, 128, &prm, NULL), PA_ERR_INVALID,
              "row 517 has NaN at dimension 3");
    x[517 * 128 + 3] = 0;
    CHECK_OK(pa_ivfpq_train(&m, x, 1000, 128, &prm, NULL));
    if (m) {
        uint32_t parts[4];
        uint8_t codes[64];
        x[2 * 128 + 9] = INFINITY;
        CHECK_ERR(pa_ivfpq_assign_encode(m, x, 4, parts, codes), PA_ERR_INVALID,
                  "row 2 has an infinity at dimension 9");
        pa_ivfpq_model_free(m);
    }
    free(x);
}

int main(int argc, char **argv)
{
    TEST_ARGS(argc, argv);
    if (!test_tmpdir_init("ivfpq"))
        return 1;
    RUN(test_kmeans_recovers_clusters());
    RUN(test_kernels_agree());
    RUN(test_kmeans_dist_many_one());
    RUN(test_kernels_agree_k16());
    RUN(test_kernels_agree_edges());
    RUN(test_groups_exact());
    RUN(test_groups_pass());
    RUN(test_bounded_exact());
    RUN(test_assign_encode_brute_force());
    RUN(test_pq_beats_random());
    RUN(test_determinism_and_save_load());
    RUN(test_metrics());
    RUN(test_bad_input());
    TEST_DONE();
}
