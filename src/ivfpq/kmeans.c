/* k-means for the coarse quantizer (sgemm assignment) and for PQ sub-spaces (SIMD kernel).
 *
 * Lloyd's algorithm: assign every row to its nearest centroid, move each centroid to the mean
 * of its rows, repeat. The assignment is the expensive part and is expressed as a matrix
 * product X C^T (OpenBLAS sgemm) with precomputed norms: argmin ||c||^2 - 2 x.c. The update
 * sums each centroid's rows in row order, in double precision, so the result is the same
 * whatever the number of threads: the same seed gives a byte-identical model. Empty clusters
 * are not left empty: each takes half of the largest cluster (its centroid split into two
 * slightly perturbed copies). */
#include "ivfpq/ivfpq_internal.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>

/* Stop when an iteration improves the objective by less than this fraction (as Lance does). */
#define KMEANS_TOLERANCE 1e-4
/* Seeding uses k-means++ up to this many clusters, random rows beyond (see init_kmeanspp). */
#define KMEANSPP_MAX_K 1024
#define KMEANSPP_ROWS_PER_CLUSTER 16
#define BLOCK_BYTES (16u << 20) /* budget of one block's dot-product matrix */

/* Checks that rows hold only finite values. */
pa_status pa_check_finite(const float *x, uint64_t n, uint32_t dim, const char *what)
{
    for (uint64_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < dim; j++)
            if (!isfinite(x[i * dim + j]))
                return pa_fail(PA_ERR_INVALID,
                               "%s: row %llu has %s at dimension %u; vectors "
                               "must be finite",
                               what, (unsigned long long)i,
                               isnan(x[i * dim + j]) ? "NaN" : "an infinity", j);
    return PA_OK;
}

/* Checks that rows are finite and their squared norms at most PA_MAX_SQ_NORM. */
pa_status pa_check_vectors(const float *x, uint64_t n, uint32_t dim, const char *what)
{
    pa_status st = pa_check_finite(x, n, dim, what);
    for (uint64_t i = 0; i < n && st == PA_OK; i++) {
        double sq = pa_sq_norm(x + i * dim, dim);
        if (sq > PA_MAX_SQ_NORM)
            st = pa_fail(PA_ERR_INVALID,
                         "%s: row %llu has squared norm %.3g, more than %.3g: "
                         "its distances would overflow float",
                         what, (unsigned long long)i, sq, PA_MAX_SQ_NORM);
    }
    return st;
}

/* Rows of one dot-product block for n rows and k centroids. */
static uint64_t sgemm_block_rows(uint64_t n, uint32_t k)
{
    uint64_t block = PA_MAX((uint64_t)64, BLOCK_BYTES / ((uint64_t)k * sizeof(float)));
    return PA_MIN(block, n ? n : 1);
}

uint64_t pa_assign_sgemm_bytes(uint64_t n, uint32_t k)
{
    return sgemm_block_rows(n, k) * k * sizeof(float);
}

/* Assigns rows to centroids with sgemm in blocks (see the header). */
pa_status pa_assign_sgemm(const float *x, uint64_t n, uint32_t dim, const float *c, uint32_t k,
                          const float *cnorm, bool inner_product, uint32_t *out, float *best_out)
{
    const uint64_t block = sgemm_block_rows(n, k);
    float *dots = pa_malloc((size_t)(block * k) * sizeof(float), "dot-product block");
    if (!dots)
        return PA_ERR_NOMEM;
    for (uint64_t b0 = 0; b0 < n; b0 += block) {
        uint64_t bn = PA_MIN(block, n - b0);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)bn, (int)k, (int)dim, 1.0f,
                    x + b0 * dim, (int)dim, c, (int)dim, 0.0f, dots, (int)k);
#pragma omp parallel for schedule(static)
        for (uint64_t i = 0; i < bn; i++) {
            const float *d = dots + i * k;
            uint32_t bi = 0;
            float best;
            if (inner_product) {
                best = -FLT_MAX;
                for (uint32_t j = 0; j < k; j++)
                    if (d[j] > best)
                        best = d[j], bi = j;
            } else {
                best = FLT_MAX;
                for (uint32_t j = 0; j < k; j++) {
                    float v = cnorm[j] - 2.0f * d[j];
                    if (v < best)
                        best = v, bi = j;
                }
            }
            out[b0 + i] = bi;
            if (best_out)
                best_out[b0 + i] = best;
        }
    }
    free(dots);
    return PA_OK;
}

/* Picks k distinct rows (seeded partial Fisher-Yates over an index array) as initial centroids. */
static pa_status init_random(const float *x, uint64_t n, uint32_t dim, uint32_t k, uint64_t seed,
                             float *c)
{
    uint64_t *idx = pa_malloc((size_t)n * sizeof *idx, "k-means init");
    if (!idx)
        return PA_ERR_NOMEM;
    for (uint64_t i = 0; i < n; i++)
        idx[i] = i;
    uint64_t s = seed;
    for (uint32_t j = 0; j < k; j++) {
        uint64_t r = j + pa_splitmix(&s) % (n - j);
        uint64_t t = idx[j];
        idx[j] = idx[r];
        idx[r] = t;
        memcpy(c + (size_t)j * dim, x + idx[j] * dim, dim * sizeof(float));
    }
    free(idx);
    return PA_OK;
}

/* k-means++ seeding on a seeded subsample of at most 16 rows per cluster: each next centre is
 * drawn with probability proportional to its squared distance from the centres chosen so far,
 * so well-separated clusters each get a seed (random picks often put two in one cluster). The
 * work is O(sample x k x dim), so it is used for k <= 1024; larger k start from random rows. */
static pa_status init_kmeanspp(const float *x, uint64_t n, uint32_t dim, uint32_t k, uint64_t seed,
                               float *c)
{
    pa_status st = PA_OK;
    uint64_t m = PA_MIN(n, (uint64_t)k * KMEANSPP_ROWS_PER_CLUSTER);
    uint64_t *idx = pa_malloc((size_t)n * sizeof *idx, "k-means init");
    double *dist = pa_malloc((size_t)m * sizeof *dist, "k-means init");
    if (!idx || !dist) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    uint64_t s = seed;
    for (uint64_t i = 0; i < n; i++)
        idx[i] = i;
    for (uint64_t i = 0; i < m; i++) { /* the subsample: a partial shuffle */
        uint64_t r = i + pa_splitmix(&s) % (n - i), t = idx[i];
        idx[i] = idx[r];
        idx[r] = t;
    }
    memcpy(c, x + idx[pa_splitmix(&s) % m] * dim, dim * sizeof(float));
    for (uint64_t i = 0; i < m; i++)
        dist[i] = INFINITY;
    for (uint32_t j = 1; j <= k; j++) {
        const float *cj = c + (size_t)(j - 1) * dim;
#pragma omp parallel for schedule(static)
        for (uint64_t i = 0; i < m; i++) {
            const float *v = x + idx[i] * dim;
            float d2 = 0;
#pragma omp simd reduction(+ : d2)
            for (uint32_t d = 0; d < dim; d++)
                d2 += (v[d] - cj[d]) * (v[d] - cj[d]);
            if (d2 < dist[i])
                dist[i] = d2;
        }
        if (j == k)
            break;
        double total = 0;
        for (uint64_t i = 0; i < m; i++)
            total += dist[i];
        double target = total * ((double)(pa_splitmix(&s) >> 11) / 9007199254740992.0);
        uint64_t pick = 0;
        for (double acc = 0; pick < m - 1; pick++) {
            acc += dist[pick];
            if (acc > target)
                break;
        }
        memcpy(c + (size_t)j * dim, x + idx[pick] * dim, dim * sizeof(float));
    }
done:
    free(idx);
    free(dist);
    return st;
}

/* Squared norms of k rows. */
static void row_norms(const float *c, uint64_t k, uint32_t dim, float *out)
{
#pragma omp parallel for schedule(static) if (k > 4096)
    for (uint64_t j = 0; j < k; j++) {
        float s = 0;
        for (uint32_t d = 0; d < dim; d++)
            s += c[(size_t)j * dim + d] * c[(size_t)j * dim + d];
        out[j] = s;
    }
}

/* The transposed codebook times -2 ([dim][k]) the small-dimension kernel reads. */
static void transpose(const float *c, uint32_t k, uint32_t dim, float *ct)
{
    for (uint32_t j = 0; j < k; j++)
        for (uint32_t d = 0; d < dim; d++)
            ct[(size_t)d * k + j] = -2.0f * c[(size_t)j * dim + d];
}

/* Moves centroids to the means of their rows; counts into cnt. Returns the k-means objective
 * of the assignment before the move: the sum of squared distances of the rows to their
 * centroids, taken from row_dist when the assignment already computed them, else computed here.
 * Deterministic whatever the number of threads: the rows are bucketed by centroid in row order
 * (a counting sort into order, with end offsets in end), and each centroid's sum and objective
 * share are taken by one thread over its bucket in that order, in double precision (in that
 * thread's row of sums: nthreads x dim); the shares are then added in centroid order. Work is
 * O(n x dim), memory O(n + k): no per-chunk copies of all the sums to clear and merge. */
static double update(const float *x, uint64_t n, uint32_t dim, uint32_t k, const uint32_t *assign,
                     const float *row_dist, uint32_t *order, uint64_t *end, double *sums,
                     int nthreads, double *share, float *c, uint64_t *cnt)
{
    memset(cnt, 0, sizeof(uint64_t) * k);
    for (uint64_t i = 0; i < n; i++)
        cnt[assign[i]]++;
    for (uint64_t j = 0, at = 0; j < k; j++) {
        end[j] = at;
        at += cnt[j];
    }
    for (uint64_t i = 0; i < n; i++) /* end[j] ends as the end of bucket j */
        order[end[assign[i]]++] = (uint32_t)i;
    const uint64_t ahead = PA_MAX(2, 8192 / ((uint64_t)dim * sizeof(float)));
#pragma omp parallel for schedule(dynamic, 4) num_threads(nthreads)
    for (uint32_t j = 0; j < k; j++) {
        double *s = sums + (size_t)omp_get_thread_num() * dim, l = 0;
        float *cj = c + (size_t)j * dim;
        memset(s, 0, sizeof(double) * dim);
        for (uint64_t p = end[j] - cnt[j]; p < end[j]; p++) {
            const float *xi = x + (uint64_t)order[p] * dim;
            if (p + ahead < end[j]) { /* the rows are scattered: fetch one a few rows ahead */
                const char *nx = (const char *)(x + (uint64_t)order[p + ahead] * dim);
                for (size_t off = 0; off < (size_t)dim * sizeof(float); off += 64)
                    __builtin_prefetch(nx + off);
            }
            pa_add_f64(s, xi, dim);
            if (row_dist) {
                l += row_dist[order[p]];
            } else {
                float e = 0;
#pragma omp simd reduction(+ : e)
                for (uint32_t d = 0; d < dim; d++)
                    e += (xi[d] - cj[d]) * (xi[d] - cj[d]);
                l += e;
            }
        }
        share[j] = l;
        if (cnt[j]) /* an empty cluster is repaired by the caller */
            for (uint32_t d = 0; d < dim; d++)
                cj[d] = (float)(s[d] / (double)cnt[j]);
    }
    double loss = 0;
    for (uint32_t j = 0; j < k; j++)
        loss += share[j];
    return loss;
}

/* Splits the largest cluster to refill each empty one (perturbing the two copies apart). */
static uint32_t repair_empty(float *c, uint64_t *cnt, uint32_t k, uint32_t dim)
{
    uint32_t fixed = 0;
    for (uint32_t j = 0; j < k; j++) {
        if (cnt[j])
            continue;
        uint32_t big = 0;
        for (uint32_t t = 1; t < k; t++)
            if (cnt[t] > cnt[big])
                big = t;
        if (cnt[big] < 2)
            break; /* nothing left to split */
        for (uint32_t d = 0; d < dim; d++) {
            float v = c[(size_t)big * dim + d];
            float eps = (d % 2 ? 1.0f : -1.0f) * (fabsf(v) * 1e-4f + 1e-6f);
            c[(size_t)j * dim + d] = v + eps;
            c[(size_t)big * dim + d] = v - eps;
        }
        cnt[j] = cnt[big] / 2;
        cnt[big] -= cnt[j];
        fixed++;
    }
    return fixed;
}

uint64_t pa_kmeans_bytes(uint64_t n, uint32_t dim, uint32_t k, bool inner_product, bool small_dim,
                         bool assign_given, uint32_t nthreads)
{
    /* per row: the assignment (unless the caller's), the previous one, the update's row order,
     * and for l2 the row norms and distances */
    const uint64_t per_row = (assign_given ? 0 : 4) + 4 + 4 + (inner_product ? 0 : 8);
    /* the update's sums (a row per thread), the per-cluster objective, buckets, counts and
     * norms, the transposed centroids of the small-dimension kernel */
    const uint64_t held = n * per_row + sizeof(double) * (uint64_t)nthreads * dim +
                          (uint64_t)k * (sizeof(double) + 2 * sizeof(uint64_t) + sizeof(float)) +
                          (small_dim ? sizeof(float) * (uint64_t)k * dim : 0);
    /* then, one after the other: the seeding's index array (and k-means++'s distances), and
     * each iteration's sgemm block */
    const uint64_t init = n * sizeof(uint64_t) +
                          (k <= KMEANSPP_MAX_K
                               ? sizeof(double) * PA_MIN(n, (uint64_t)k * KMEANSPP_ROWS_PER_CLUSTER)
                               : 0);
    const uint64_t iter = small_dim ? 0 : pa_assign_sgemm_bytes(n, k);
    return held + PA_MAX(init, iter);
}

/* Lloyd k-means (see the header). */
pa_status pa_kmeans(const float *x, uint64_t n, uint32_t dim, uint32_t k, uint32_t max_iters,
                    uint64_t seed, bool inner_product, bool small_dim, float *centroids,
                    uint32_t *assign_out, pa_kmeans_result *res)
{
    if (n < k)
        return pa_fail(PA_ERR_INVALID, "k-means needs at least %u rows for %u clusters, got %llu",
                       k, k, (unsigned long long)n);
    if (small_dim && inner_product)
        return pa_fail(PA_ERR_INVALID, "the small-dimension k-means kernel measures l2 only");
    if (n > UINT32_MAX)
        return pa_fail(PA_ERR_INVALID,
                       "k-means takes at most %u rows, got %llu; train on a "
                       "sample",
                       UINT32_MAX, (unsigned long long)n);
    pa_kmeans_result r = {0};
    pa_status st = PA_OK;
    uint32_t *assign = assign_out ? assign_out : pa_malloc((size_t)n * 4, "k-means assignment");
    uint32_t *prev = pa_malloc((size_t)n * 4, "k-means assignment");
    uint32_t *order = pa_malloc((size_t)n * 4, "k-means row order");
    const int nthreads = omp_get_max_threads(); /* the update's team: a row of sums each */
    double *sums = pa_malloc(sizeof(double) * (size_t)nthreads * dim, "k-means sums");
    double *share = pa_malloc(sizeof(double) * k, "k-means objective");
    uint64_t *end = pa_malloc(sizeof(uint64_t) * k, "k-means buckets");
    uint64_t *cnt = pa_malloc(sizeof(uint64_t) * k, "k-means counts");
    float *norms = pa_malloc(sizeof(float) * k, "centroid norms");
    float *ct = small_dim ? pa_malloc(sizeof(float) * k * dim, "transposed centroids") : NULL;
    /* l2: the row norms, so the objective comes from the assignment's own values */
    const bool l2 = !inner_product;
    float *xnorm = l2 ? pa_malloc(sizeof(float) * n, "row norms") : NULL;
    float *best = l2 ? pa_malloc(sizeof(float) * n, "row distances") : NULL;
    if (!assign || !prev || !order || !sums || !share || !end || !cnt || !norms ||
        (small_dim && !ct) || (l2 && (!xnorm || !best))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    if (l2)
        row_norms(x, n, dim, xnorm);
    st = k <= KMEANSPP_MAX_K ? init_kmeanspp(x, n, dim, k, seed, centroids)
                             : init_random(x, n, dim, k, seed, centroids);
    if (st != PA_OK)
        goto done;
    double prev_loss = INFINITY;
    for (uint32_t it = 0; it < max_iters; it++) {
        row_norms(centroids, k, dim, norms);
        if (small_dim) {
            transpose(centroids, k, dim, ct);
            const uint64_t blk = 4096;
#pragma omp parallel for schedule(dynamic, 1)
            for (uint64_t b = 0; b < (n + blk - 1) / blk; b++)
                pa_nearest_small(x + b * blk * dim, dim, PA_MIN(blk, n - b * blk), ct, norms, dim,
                                 k, assign + b * blk, best + b * blk);
        } else {
            st = pa_assign_sgemm(x, n, dim, centroids, k, norms, inner_product, assign, best);
            if (st != PA_OK)
                goto done;
        }
        if (l2) /* ||x - c||^2 = ||x||^2 + (||c||^2 - 2 x.c) */
            for (uint64_t i = 0; i < n; i++)
                best[i] += xnorm[i];
        uint64_t changed = n;
        if (it > 0) {
            changed = 0;
            for (uint64_t i = 0; i < n; i++)
                changed += assign[i] != prev[i];
        }
        r.iters = it + 1;
        if (it > 0 && changed * 1000 < n)
            break; /* converged: the centroids of this assignment are already in place */
        double loss = update(x, n, dim, k, assign, l2 ? best : NULL, order, end, sums, nthreads,
                             share, centroids, cnt);
        uint32_t fixed = repair_empty(centroids, cnt, k, dim);
        r.empty_repaired += fixed;
        /* converged: the objective improved by less than KMEANS_TOLERANCE of itself (the
         * centroids just moved to their rows' means, so this assignment is final) */
        if (it > 0 && !fixed && prev_loss - loss <= KMEANS_TOLERANCE * prev_loss)
            break;
        prev_loss = loss;
        memcpy(prev, assign, (size_t)n * 4);
    }
    if (assign_out) { /* the assignment to the final centroids */
        row_norms(centroids, k, dim, norms);
        if (small_dim) {
            transpose(centroids, k, dim, ct);
            pa_nearest_small(x, dim, n, ct, norms, dim, k, assign, NULL);
        } else {
            st = pa_assign_sgemm(x, n, dim, centroids, k, norms, inner_product, assign, NULL);
        }
    }
done:
    if (!assign_out)
        free(assign);
    free(prev), free(order), free(sums), free(share), free(end), free(cnt), free(norms), free(ct),
        free(xnorm), free(best);
    if (res)
        *res = r;
    return st;
}
