/* The coarse assignment (pa_assign_sgemm, its fused kernels in src/ivfpq/assign.c) against a
 * plain argmin written here: on shapes that cross the kernels' edges (rows not a whole block or
 * a whole group of rows, centroids not a whole tile, several tiles, dimensions 1 to 300), for l2
 * and dot, with duplicated centroids (ties to the lowest index), the same indices and the same
 * winning values bit for bit, with every kernel this CPU runs and with 1 or 2 threads. Without
 * AVX2 + FMA pa_assign_sgemm takes sgemm: then the indices are checked against exact
 * distances, near-ties aside. */
#include "ivfpq/ivfpq_internal.h"
#include "test.h"

#include <math.h>
#include <omp.h>

static uint64_t rng = 0x5eed;

static float uniform(void) { return (float)((double)(pa_splitmix(&rng) >> 40) / 16777216.0 - 0.5); }

/* The plain argmin: centroid by centroid, x.c as one fused multiply-add per dimension in order
 * from 0 (what OpenBLAS's sgemm kernels compute for each element), then ||c||^2 - 2 x.c (l2,
 * minimised) or x.c (dot, maximised), strict comparisons from the lowest index. */
static void plain(const float *x, uint64_t n, uint32_t dim, const float *c, uint32_t k,
                  const float *cnorm, bool ip, uint32_t *out, float *best)
{
    for (uint64_t i = 0; i < n; i++) {
        float m = ip ? -INFINITY : INFINITY;
        uint32_t mi = 0;
        for (uint32_t j = 0; j < k; j++) {
            float dot = 0;
            for (uint32_t d = 0; d < dim; d++)
                dot = fmaf(x[i * dim + d], c[(size_t)j * dim + d], dot);
            const float v = ip ? dot : cnorm[j] - 2.0f * dot;
            if (ip ? v > m : v < m)
                m = v, mi = j;
        }
        out[i] = mi;
        best[i] = m;
    }
}

/* The exact distance (l2) or score (dot) of row v to centroid w. */
static double exact(const float *v, const float *w, uint32_t dim, bool ip)
{
    double s = 0;
    for (uint32_t d = 0; d < dim; d++)
        s += ip ? -(double)v[d] * w[d] : ((double)v[d] - w[d]) * ((double)v[d] - w[d]);
    return s;
}

static void check_shape(uint64_t n, uint32_t dim, uint32_t k, bool ip)
{
    float *x = malloc(sizeof(float) * n * dim), *c = malloc(sizeof(float) * k * dim);
    float *cn = malloc(sizeof(float) * k), *want_v = malloc(sizeof(float) * n);
    float *got_v = malloc(sizeof(float) * n);
    uint32_t *want = malloc(sizeof(uint32_t) * n), *got = malloc(sizeof(uint32_t) * n);
    for (uint64_t i = 0; i < n * dim; i++)
        x[i] = uniform() * 4;
    for (uint64_t i = 0; i < (uint64_t)k * dim; i++)
        c[i] = uniform() * 4;
    if (k > 70) /* centroid 70 repeats centroid 3, and row 0 is centroid 3: a tie */
        memcpy(c + 70 * dim, c + 3 * dim, sizeof(float) * dim);
    memcpy(x, c + (k > 3 ? 3 : 0) * dim, sizeof(float) * dim);
    if (n > 1) /* a zero row: every dot product ties at +0 */
        memset(x + dim, 0, sizeof(float) * dim);
    for (uint32_t j = 0; j < k; j++) {
        cn[j] = 0;
        for (uint32_t d = 0; d < dim; d++)
            cn[j] += c[(size_t)j * dim + d] * c[(size_t)j * dim + d];
    }
    plain(x, n, dim, c, k, cn, ip, want, want_v);
    const char *names[] = {"scalar", "avx2", "avx512"};
    for (int v = 0; v < 3; v++) {
        if (!pa_kernel_set(names[v]))
            continue;
        for (int threads = 1; threads <= 2; threads++) {
            omp_set_num_threads(threads);
            memset(got, 0xff, sizeof(uint32_t) * n);
            CHECK_OK(pa_assign_fused(x, n, dim, c, k, cn, ip, got, got_v));
            if (memcmp(want, got, sizeof(uint32_t) * n) || memcmp(want_v, got_v, sizeof(float) * n))
                fprintf(stderr, "n %llu dim %u k %u %s kernel %s, %d threads: differs\n",
                        (unsigned long long)n, dim, k, ip ? "dot" : "l2", names[v], threads);
            CHECK(!memcmp(want, got, sizeof(uint32_t) * n));
            CHECK(!memcmp(want_v, got_v, sizeof(float) * n));
            if (v > 0) { /* what k-means and encoding call */
                memset(got_v, 0, sizeof(float) * n);
                CHECK_OK(pa_assign_sgemm(x, n, dim, c, k, cn, ip, got, got_v));
                CHECK(!memcmp(want, got, sizeof(uint32_t) * n));
                CHECK(!memcmp(want_v, got_v, sizeof(float) * n));
            }
        }
    }
    if (k > 70 && !ip)
        CHECK(want[0] == 3);
    if (n > 1 && ip)
        CHECK(want[1] == 0 && want_v[1] == 0 && !signbit(want_v[1]));
    /* and exact distances agree, near-ties aside (also for sgemm's path on a scalar CPU) */
    if (!pa_kernel_set("scalar")) /* always true: the portable kernel runs everywhere */
        CHECK(0);
    CHECK_OK(pa_assign_sgemm(x, n, dim, c, k, cn, ip, got, NULL));
    int bad = 0;
    for (uint64_t i = 0; i < n; i++) {
        double best = INFINITY;
        for (uint32_t j = 0; j < k; j++)
            best = fmin(best, exact(x + i * dim, c + (size_t)j * dim, dim, ip));
        double chosen = exact(x + i * dim, c + (size_t)got[i] * dim, dim, ip);
        bad += chosen > best + 1e-4 * (1 + fabs(best));
    }
    CHECK(bad == 0);
    if (!pa_kernel_set("avx512"))
        pa_kernel_set("avx2");
    omp_set_num_threads(2);
    free(x), free(c), free(cn), free(want_v), free(got_v), free(want), free(got);
}

static void test_assign_edges(void)
{
    /* rows: 1, a part of a group of 6, a part of the last block (240 rows at dimension 128,
     * 160 at 300), several blocks; centroids: 1, part of a tile of 64, several tiles */
    check_shape(1, 128, 1, false);
    check_shape(5, 7, 3, false);
    check_shape(1003, 128, 256, false);
    check_shape(727, 128, 200, true);
    check_shape(481, 300, 130, false);
    check_shape(250, 1, 71, false);
    check_shape(613, 33, 1100, false);
}

/* Rows outside pa_check_vectors' rules (NaN, +-inf, values whose dot products overflow), as a
 * backend told PA_BACKEND_ROWS_CHECKED may get them: any index, but one in [0, k), from every
 * kernel of the coarse assignment and of the PQ encode (the encode uses the coarse index as an
 * offset into the centroids). */
static void test_assign_unchecked(void)
{
    enum { N = 40, D = 16 };
    static float x[N * D], c[1100 * D], cn[1100], cbt[D * 256], cbn[256];
    for (int i = 0; i < 1100 * D; i++)
        c[i] = uniform();
    for (int j = 0; j < 1100; j++)
        cn[j] = (float)(pa_sq_norm(c + (size_t)j * D, D));
    for (int i = 0; i < D * 256; i++)
        cbt[i] = -2.0f * uniform();
    for (int j = 0; j < 256; j++)
        cbn[j] = uniform() * uniform();
    const float bad[] = {NAN, INFINITY, -INFINITY, 3e38f, -3e38f};
    for (int i = 0; i < N; i++) /* row i: every value bad[i % 5], or one of them in a row of 1s */
        for (int d = 0; d < D; d++)
            x[i * D + d] = i % 2 || d == i % D ? bad[(i / 2) % 5] : 1.0f;
    const char *names[] = {"scalar", "avx2", "avx512"};
    const uint32_t ks[] = {1, 3, 64, 100, 1100};
    uint32_t out[N];
    float best[N];
    for (int v = 0; v < 3; v++) {
        if (!pa_kernel_set(names[v]))
            continue;
        for (size_t t = 0; t < sizeof ks / sizeof *ks; t++)
            for (int ip = 0; ip <= 1; ip++) {
                memset(out, 0xff, sizeof out);
                CHECK_OK(pa_assign_fused(x, N, D, c, ks[t], cn, ip, out, best));
                for (int i = 0; i < N; i++)
                    CHECK(out[i] < ks[t]);
                memset(out, 0xff, sizeof out); /* sgemm's argmin at level 0, AMX where used */
                CHECK_OK(pa_assign_sgemm(x, N, D, c, ks[t], cn, ip, out, NULL));
                for (int i = 0; i < N; i++)
                    CHECK(out[i] < ks[t]);
            }
        for (uint32_t K = 16; K <= 256; K *= 16) /* 4- and 8-bit codes; sub-vectors of 1-16 */
            for (uint32_t ds = 1; ds <= D; ds *= 4) {
                memset(out, 0xff, sizeof out);
                pa_nearest_small(x, D, N, cbt, cbn, ds, K, out, best);
                for (int i = 0; i < N; i++)
                    CHECK(out[i] < K);
            }
    }
    if (!pa_kernel_set("avx512"))
        pa_kernel_set("avx2");
}

int main(int argc, char **argv)
{
    TEST_ARGS(argc, argv);
    RUN(test_assign_edges());
    RUN(test_assign_unchecked());
    TEST_DONE();
}
