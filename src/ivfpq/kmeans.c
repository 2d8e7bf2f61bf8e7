/* k-means for the coarse quantizer (sgemm assignment) and for PQ sub-spaces (SIMD kernel).
 *
 * Lloyd's algorithm: assign every row to its nearest centroid, move each centroid to the mean
 * of its rows, repeat. The assignment is the expensive part and is expressed as a matrix
 * product X C^T (OpenBLAS sgemm) with precomputed norms: argmin ||c||^2 - 2 x.c. The update
 * sums rows into centroids in a fixed number of row chunks, each summed in double precision and
 * then added up in chunk order, so the result is the same whatever the number of threads: the
 * same seed gives a byte-identical model. Empty clusters are not left empty: each takes half of
 * the largest cluster (its centroid split into two slightly perturbed copies). */
#include "ivfpq/ivfpq_internal.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>

#define UPDATE_CHUNKS 16
/* Stop when an iteration improves the objective by less than this fraction (as Lance does). */
#define KMEANS_TOLERANCE 1e-4
#define BLOCK_BYTES (16u << 20) /* budget of one block's dot-product matrix */

/* Checks that rows hold only finite values. */
pa_status pa_check_finite(const float *x, uint64_t n, uint32_t dim, const char *what)
{
    for (uint64_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < dim; j++)
            if (!isfinite(x[i * dim + j]))
                return pa_fail(PA_ERR_INVALID, "%s: row %llu has %s at dimension %u; vectors "
                               "must be finite", what, (unsigned long long)i,
                               isnan(x[i * dim + j]) ? "NaN" : "an infinity", j);
    return PA_OK;
}

/* Assigns rows to centroids with sgemm in blocks (see the header). */
pa_status pa_assign_sgemm(const float *x, uint64_t n, uint32_t dim, const float *c, uint32_t k,
                          const float *cnorm, bool inner_product, uint32_t *out, float *best_out)
{
    uint64_t block = PA_MAX((uint64_t)64, BLOCK_BYTES / ((uint64_t)k * sizeof(float)));
    block = PA_MIN(block, n ? n : 1);
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
static pa_status init_kmeanspp(const float *x, uint64_t n, uint32_t dim, uint32_t k,
                               uint64_t seed, float *c)
{
    uint64_t m = PA_MIN(n, (uint64_t)k * 16);
    uint64_t *idx = pa_malloc((size_t)n * sizeof *idx, "k-means init");
    double *dist = pa_malloc((size_t)m * sizeof *dist, "k-means init");
    if (!idx || !dist) {
        free(idx), free(dist);
        return PA_ERR_NOMEM;
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
            double d2 = 0;
            for (uint32_t d = 0; d < dim; d++)
                d2 += ((double)v[d] - cj[d]) * ((double)v[d] - cj[d]);
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
    free(idx);
    free(dist);
    return PA_OK;
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

/* The transposed codebook ([dim][k]) the small-dimension kernel reads. */
static void transpose(const float *c, uint32_t k, uint32_t dim, float *ct)
{
    for (uint32_t j = 0; j < k; j++)
        for (uint32_t d = 0; d < dim; d++)
            ct[(size_t)d * k + j] = c[(size_t)j * dim + d];
}

/* Moves centroids to the means of their rows (deterministic chunked sums); counts into cnt.
 * Returns the k-means objective of the assignment before the move: the sum of squared
 * distances of the rows to their centroids (summed in the same fixed chunks), taken from
 * row_dist when the assignment already computed them, else computed here. */
static double update(const float *x, uint64_t n, uint32_t dim, uint32_t k,
                     const uint32_t *assign, const float *row_dist, double *sums,
                     uint64_t *counts, float *c, uint64_t *cnt)
{
    const uint64_t chunk = (n + UPDATE_CHUNKS - 1) / UPDATE_CHUNKS;
    double loss[UPDATE_CHUNKS] = {0};
    memset(sums, 0, sizeof(double) * UPDATE_CHUNKS * k * dim);
    memset(counts, 0, sizeof(uint64_t) * UPDATE_CHUNKS * k);
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < UPDATE_CHUNKS; ch++) {
        double *s = sums + (size_t)ch * k * dim;
        uint64_t *ct = counts + (size_t)ch * k;
        uint64_t end = PA_MIN(n, (uint64_t)(ch + 1) * chunk);
        double l = 0;
        for (uint64_t i = (uint64_t)ch * chunk; i < end; i++) {
            uint32_t a = assign[i];
            const float *xi = x + i * dim;
            double *sa = s + (size_t)a * dim;
            ct[a]++;
#pragma omp simd
            for (uint32_t d = 0; d < dim; d++)
                sa[d] += xi[d];
            if (row_dist) {
                l += row_dist[i];
            } else {
                const float *ca = c + (size_t)a * dim;
                float e = 0;
                for (uint32_t d = 0; d < dim; d++)
                    e += (xi[d] - ca[d]) * (xi[d] - ca[d]);
                l += e;
            }
        }
        loss[ch] = l;
    }
    double total_loss = 0;
    for (int ch = 0; ch < UPDATE_CHUNKS; ch++)
        total_loss += loss[ch];
#pragma omp parallel for schedule(static)
    for (uint32_t j = 0; j < k; j++) {
        uint64_t total = 0;
        for (int ch = 0; ch < UPDATE_CHUNKS; ch++)
            total += counts[(size_t)ch * k + j];
        cnt[j] = total;
        if (!total)
            continue; /* repaired by the caller */
        for (uint32_t d = 0; d < dim; d++) {
            double acc = 0;
            for (int ch = 0; ch < UPDATE_CHUNKS; ch++)
                acc += sums[((size_t)ch * k + j) * dim + d];
            c[(size_t)j * dim + d] = (float)(acc / (double)total);
        }
    }
    return total_loss;
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

/* Lloyd k-means (see the header). */
pa_status pa_kmeans(const float *x, uint64_t n, uint32_t dim, uint32_t k, uint32_t max_iters,
                    uint64_t seed, bool inner_product, bool small_dim, float *centroids,
                    uint32_t *assign_out, pa_kmeans_result *res)
{
    if (n < k)
        return pa_fail(PA_ERR_INVALID, "k-means needs at least %u rows for %u clusters, got %llu",
                       k, k, (unsigned long long)n);
    pa_kmeans_result r = {0};
    uint32_t *assign = assign_out ? assign_out : pa_malloc((size_t)n * 4, "k-means assignment");
    uint32_t *prev = pa_malloc((size_t)n * 4, "k-means assignment");
    double *sums = pa_malloc(sizeof(double) * UPDATE_CHUNKS * k * dim, "k-means sums");
    uint64_t *counts = pa_malloc(sizeof(uint64_t) * UPDATE_CHUNKS * k, "k-means counts");
    uint64_t *cnt = pa_malloc(sizeof(uint64_t) * k, "k-means counts");
    float *norms = pa_malloc(sizeof(float) * k, "centroid norms");
    float *ct = small_dim ? pa_malloc(sizeof(float) * k * dim, "transposed centroids") : NULL;
    /* l2 by sgemm: the row norms, so the objective comes from the assignment's own values */
    bool l2_sgemm = !small_dim && !inner_product;
    float *xnorm = l2_sgemm ? pa_malloc(sizeof(float) * n, "row norms") : NULL;
    float *best = l2_sgemm ? pa_malloc(sizeof(float) * n, "row distances") : NULL;
    if (xnorm)
        row_norms(x, n, dim, xnorm);
    pa_status st = assign && prev && sums && counts && cnt && norms && (!small_dim || ct) &&
                           (!l2_sgemm || (xnorm && best))
                       ? (k <= 1024 ? init_kmeanspp(x, n, dim, k, seed, centroids)
                                    : init_random(x, n, dim, k, seed, centroids))
                       : PA_ERR_NOMEM;
    double prev_loss = INFINITY;
    for (uint32_t it = 0; st == PA_OK && it < max_iters; it++) {
        row_norms(centroids, k, dim, norms);
        if (small_dim) {
            transpose(centroids, k, dim, ct);
            const uint64_t blk = 4096;
#pragma omp parallel for schedule(dynamic, 1)
            for (uint64_t b = 0; b < (n + blk - 1) / blk; b++)
                pa_nearest_small(x + b * blk * dim, dim, PA_MIN(blk, n - b * blk), ct, norms, dim,
                                 k, assign + b * blk);
        } else {
            st = pa_assign_sgemm(x, n, dim, centroids, k, norms, inner_product, assign, best);
            if (st != PA_OK)
                break;
            if (xnorm) /* l2: ||x - c||^2 = ||x||^2 + (||c||^2 - 2 x.c) */
                for (uint64_t i = 0; i < n; i++)
                    best[i] += xnorm[i];
        }
        uint64_t changed = n;
        if (it > 0) {
            changed = 0;
            for (uint64_t i = 0; i < n; i++)
                changed += assign[i] != prev[i];
        }
        r.iters = it + 1;
        if (it > 0 && changed * 1000 < n)
            break; /* converged: the centroids of this assignment are already in place */
        double loss = update(x, n, dim, k, assign, xnorm ? best : NULL, sums, counts,
                             centroids, cnt);
        uint32_t fixed = repair_empty(centroids, cnt, k, dim);
        r.empty_repaired += fixed;
        /* converged: the objective improved by less than KMEANS_TOLERANCE of itself (the
         * centroids just moved to their rows' means, so this assignment is final) */
        if (it > 0 && !fixed && prev_loss - loss <= KMEANS_TOLERANCE * prev_loss)
            break;
        prev_loss = loss;
        memcpy(prev, assign, (size_t)n * 4);
    }
    if (st == PA_OK && assign_out) { /* the assignment to the final centroids */
        row_norms(centroids, k, dim, norms);
        if (small_dim) {
            transpose(centroids, k, dim, ct);
            pa_nearest_small(x, dim, n, ct, norms, dim, k, assign);
        } else {
            st = pa_assign_sgemm(x, n, dim, centroids, k, norms, inner_product, assign, NULL);
        }
    }
    if (!assign_out)
        free(assign);
    free(prev), free(sums), free(counts), free(cnt), free(norms), free(ct), free(xnorm),
        free(best);
    if (res)
        *res = r;
    return st;
}
