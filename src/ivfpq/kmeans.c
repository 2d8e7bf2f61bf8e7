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

/* k-means++ seeding on m rows (base + idx[i] * dim; idx NULL: the rows in order), a seeded
 * subsample of at most 16 rows per cluster drawn by init_centroids, s the generator's state after
 * the draw: each next centre is drawn with probability proportional to its squared distance from
 * the centres chosen so far, so well-separated clusters each get a seed (random picks often put
 * two in one cluster). The work is O(m x k x dim), so it is used for k <= 1024; larger k start
 * from random rows. */
static pa_status init_kmeanspp(const float *base, const uint64_t *idx, uint64_t m, uint32_t dim,
                               uint32_t k, uint64_t s, float *c)
{
    double *dist = pa_malloc((size_t)m * sizeof *dist, "k-means init");
    if (!dist)
        return PA_ERR_NOMEM;
#define INIT_ROW(i) (base + (idx ? idx[i] : (i)) * dim)
    const uint64_t first = pa_splitmix(&s) % m;
    memcpy(c, INIT_ROW(first), dim * sizeof(float));
    for (uint64_t i = 0; i < m; i++)
        dist[i] = INFINITY;
    for (uint32_t j = 1; j <= k; j++) {
        const float *cj = c + (size_t)(j - 1) * dim;
#pragma omp parallel for schedule(static)
        for (uint64_t i = 0; i < m; i++) {
            const float *v = INIT_ROW(i);
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
        memcpy(c + (size_t)j * dim, INIT_ROW(pick), dim * sizeof(float));
    }
#undef INIT_ROW
    free(dist);
    return PA_OK;
}

/* Rows idx[0..m) of all participants' rows (in rank order) into out (m x dim), through the
 * participants' sum: each fills the rows it holds (rows [first, first + n) of them all), the
 * others stay 0, and the sum leaves every row in every participant's copy (a value plus zeros
 * is the value: exact in double). */
static pa_status gather_rows(const float *x, uint64_t n, uint32_t dim, const pa_kmeans_part *part,
                             const uint64_t *idx, uint64_t m, float *out)
{
    double *v = pa_calloc((size_t)m * dim, sizeof(double), "k-means init rows");
    if (!v)
        return PA_ERR_NOMEM;
    for (uint64_t i = 0; i < m; i++)
        if (idx[i] >= part->first && idx[i] - part->first < n)
            for (uint32_t d = 0; d < dim; d++)
                v[i * dim + d] = x[(idx[i] - part->first) * dim + d];
    pa_status st = part->comm->sum(part->comm->ctx, v, (size_t)m * dim);
    for (uint64_t i = 0; i < m * dim && st == PA_OK; i++)
        out[i] = (float)v[i];
    free(v);
    return st;
}

/* The initial centroids: a seeded partial Fisher-Yates over the N row numbers picks the rows
 * (k-means++'s subsample for k <= 1024, else the k centroids themselves); a participant of a
 * distributed k-means gathers them from the others first. */
static pa_status init_centroids(const float *x, uint64_t n, uint32_t dim, uint32_t k, uint64_t seed,
                                const pa_kmeans_part *part, float *c)
{
    const uint64_t N = part ? part->total : n;
    const bool pp = k <= KMEANSPP_MAX_K;
    const uint64_t m = pp ? PA_MIN(N, (uint64_t)k * KMEANSPP_ROWS_PER_CLUSTER) : k;
    pa_status st = PA_OK;
    float *rows = NULL;
    uint64_t *idx = pa_malloc((size_t)N * sizeof *idx, "k-means init");
    if (!idx)
        return PA_ERR_NOMEM;
    for (uint64_t i = 0; i < N; i++)
        idx[i] = i;
    uint64_t s = seed;
    for (uint64_t i = 0; i < m; i++) { /* the rows: a partial shuffle */
        uint64_t r = i + pa_splitmix(&s) % (N - i), t = idx[i];
        idx[i] = idx[r];
        idx[r] = t;
    }
    const float *base = x;
    const uint64_t *at = idx;
    if (part) {
        if (!(rows = pa_malloc(sizeof(float) * (size_t)m * dim, "k-means init rows"))) {
            st = PA_ERR_NOMEM;
            goto done;
        }
        if ((st = gather_rows(x, n, dim, part, idx, m, rows)) != PA_OK)
            goto done;
        base = rows, at = NULL;
    }
    if (pp)
        st = init_kmeanspp(base, at, m, dim, k, s, c);
    else
        for (uint32_t j = 0; j < k; j++)
            memcpy(c + (size_t)j * dim, base + (at ? at[j] : j) * dim, dim * sizeof(float));
done:
    free(idx);
    free(rows);
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
 * O(n x dim), memory O(n + k): no per-chunk copies of all the sums to clear and merge. With
 * sums_out (k x dim) the centroids stay where they are: each centroid's sum goes there instead,
 * for a distributed k-means to add the participants' sums before the move. */
static double update(const float *x, uint64_t n, uint32_t dim, uint32_t k, const uint32_t *assign,
                     const float *row_dist, uint32_t *order, uint64_t *end, double *sums,
                     int nthreads, double *share, float *c, uint64_t *cnt, double *sums_out)
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
        double *s = sums_out ? sums_out + (size_t)j * dim
                             : sums + (size_t)omp_get_thread_num() * dim,
               l = 0;
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
        if (cnt[j] && !sums_out) /* an empty cluster is repaired by the caller */
            for (uint32_t d = 0; d < dim; d++)
                cj[d] = (float)(s[d] / (double)cnt[j]);
    }
    double loss = 0;
    for (uint32_t j = 0; j < k; j++)
        loss += share[j];
    return loss;
}

/* A distributed k-means iteration's one exchange: every participant's centroid sums, counts,
 * objective shares and changed rows (acc: k x dim sums, then k counts, k shares, 1 changed)
 * added over the participants; *changed becomes the total. Then, the same on every participant,
 * the centroids move to the means of all rows and cnt holds the counts of all rows. Returns the
 * objective of all rows, the shares added in centroid order. */
static pa_status exchange(const pa_kmeans_part *part, double *acc, uint32_t k, uint32_t dim,
                          const double *share, uint64_t *cnt, uint64_t *changed)
{
    double *acnt = acc + (size_t)k * dim, *ashare = acnt + k;
    for (uint32_t j = 0; j < k; j++)
        acnt[j] = (double)cnt[j], ashare[j] = share[j];
    ashare[k] = (double)*changed;
    pa_status st = part->comm->sum(part->comm->ctx, acc, (size_t)k * dim + 2 * (size_t)k + 1);
    if (st != PA_OK)
        return st;
    for (uint32_t j = 0; j < k; j++)
        cnt[j] = (uint64_t)acnt[j];
    *changed = (uint64_t)ashare[k];
    return PA_OK;
}

/* The move after exchange: centroids to the means of all rows; the objective of all rows. */
static double apply_sums(const double *acc, uint32_t k, uint32_t dim, const uint64_t *cnt, float *c)
{
    const double *ashare = acc + (size_t)k * dim + k;
    double loss = 0;
    for (uint32_t j = 0; j < k; j++) {
        if (cnt[j]) /* an empty cluster is repaired by the caller */
            for (uint32_t d = 0; d < dim; d++)
                c[(size_t)j * dim + d] = (float)(acc[(size_t)j * dim + d] / (double)cnt[j]);
        loss += ashare[j];
    }
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
    return pa_kmeans_dist(x, n, dim, k, max_iters, seed, inner_product, small_dim, centroids,
                          assign_out, res, NULL);
}

/* Lloyd k-means, distributed when part is given (see the header). */
pa_status pa_kmeans_dist(const float *x, uint64_t n, uint32_t dim, uint32_t k, uint32_t max_iters,
                         uint64_t seed, bool inner_product, bool small_dim, float *centroids,
                         uint32_t *assign_out, pa_kmeans_result *res, const pa_kmeans_part *part)
{
    const uint64_t N = part ? part->total : n; /* the rows of all participants */
    if (N < k)
        return pa_fail(PA_ERR_INVALID, "k-means needs at least %u rows for %u clusters, got %llu",
                       k, k, (unsigned long long)N);
    if (small_dim && inner_product)
        return pa_fail(PA_ERR_INVALID, "the small-dimension k-means kernel measures l2 only");
    if (n > UINT32_MAX)
        return pa_fail(PA_ERR_INVALID,
                       "k-means takes at most %u rows, got %llu; train on a "
                       "sample",
                       UINT32_MAX, (unsigned long long)n);
    if (part && (part->first > N || n > N - part->first))
        return pa_fail(PA_ERR_INVALID,
                       "k-means participant: rows [%llu, %llu) are not within the %llu rows of "
                       "all participants",
                       (unsigned long long)part->first, (unsigned long long)(part->first + n),
                       (unsigned long long)N);
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
    /* distributed: the sums, counts, shares and changed rows the participants exchange */
    double *acc = part ? pa_malloc(sizeof(double) * ((size_t)k * dim + 2 * (size_t)k + 1),
                                   "k-means exchange")
                       : NULL;
    /* l2: the row norms, so the objective comes from the assignment's own values */
    const bool l2 = !inner_product;
    float *xnorm = l2 ? pa_malloc(sizeof(float) * n, "row norms") : NULL;
    float *best = l2 ? pa_malloc(sizeof(float) * n, "row distances") : NULL;
    if (!assign || !prev || !order || !sums || !share || !end || !cnt || !norms ||
        (small_dim && !ct) || (part && !acc) || (l2 && (!xnorm || !best))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    if (l2)
        row_norms(x, n, dim, xnorm);
    if ((st = init_centroids(x, n, dim, k, seed, part, centroids)) != PA_OK)
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
        uint64_t changed = N;
        if (it > 0) {
            changed = 0;
            for (uint64_t i = 0; i < n; i++)
                changed += assign[i] != prev[i];
        }
        double loss = 0;
        if (part) { /* this participant's sums, then all of them: one exchange per iteration */
            update(x, n, dim, k, assign, l2 ? best : NULL, order, end, sums, nthreads, share,
                   centroids, cnt, acc);
            if ((st = exchange(part, acc, k, dim, share, cnt, &changed)) != PA_OK)
                goto done;
        }
        r.iters = it + 1;
        if (it > 0 && changed * 1000 < N)
            break; /* converged: the centroids of this assignment are already in place */
        if (part)
            loss = apply_sums(acc, k, dim, cnt, centroids);
        else
            loss = update(x, n, dim, k, assign, l2 ? best : NULL, order, end, sums, nthreads, share,
                          centroids, cnt, NULL);
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
        free(xnorm), free(best), free(acc);
    if (res)
        *res = r;
    return st;
}
