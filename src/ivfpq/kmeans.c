/* k-means for the coarse quantizer (pa_assign_sgemm) and for PQ sub-spaces (SIMD kernel).
 *
 * Lloyd's algorithm: assign every row to its nearest centroid, move each centroid to the mean
 * of its rows, repeat. The assignment is the expensive part: argmin ||c||^2 - 2 x.c with
 * precomputed norms, the argmin fused into the dot products (src/ivfpq/assign.c), or without
 * AVX2 + FMA a matrix product X C^T (OpenBLAS sgemm) and an argmin pass. With AVX2 or AVX-512,
 * an l2 k-means of a shape where it pays (pa_groups_count) assigns with grouped bounds instead
 * (groups.c): only the groups of centroids that could hold a row's nearest are computed; the
 * small-dimension k-means of PQ sub-spaces too narrow for groups keeps one bound a row on AVX2
 * (km_assign_bounded: only the rows it does not settle go through the kernel). Either way the
 * assignments and values are the kernel's over all the centroids. The update
 * sums each centroid's rows in row order, in double precision, so the result is the same
 * whatever the number of threads: the same seed gives a byte-identical model. Empty clusters
 * are not left empty: each takes half of the largest cluster (its centroid split into two
 * slightly perturbed copies). */
#include "common/simd.h"
#include "ivfpq/bounds.h"
#include "ivfpq/ivfpq_internal.h"

#include <cblas.h>
#include <float.h>
#include <immintrin.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>

/* Stop when an iteration improves the objective by less than this fraction (as Lance does). */
#define KMEANS_TOLERANCE 1e-4
/* The grouped assignment is given up for the rest of a run when a pass from the fourth on
 * computes more than this share of the pairs (row, group): on rows without clusters the bounds
 * rule little out, and a pair costs more than the kernel's share of the same work. */
#define GROUPS_GIVE_UP_ITER 3
#define GROUPS_GIVE_UP_SHARE 0.75
/* Seeding uses k-means++ up to this many clusters, random rows beyond (see init_kmeanspp). */
#define KMEANSPP_MAX_K 1024
#define KMEANSPP_ROWS_PER_CLUSTER 16
/* A k-means++ step (one pass over its rows for each centre) runs on the threads from this many
 * values: below, the pass takes microseconds and the fork and join would cost as much. */
#define KMEANSPP_PARALLEL_VALUES (1u << 21)
#define BLOCK_BYTES (16u << 20) /* budget of one block's dot-product matrix */
/* Rows per task of the small-dimension assignment. */
#define SMALL_BLOCK 4096
/* The bounded small-dimension pass (km_assign_bounded) gathers the rows its bounds do not
 * settle into a buffer of this many values (on the stack), at most BOUNDED_ROWS rows: the
 * sub-vectors of up to BOUNDED_VALUES / 4 values take the bounds (4: the kernel's rows a step). */
#define BOUNDED_VALUES 2048
#define BOUNDED_ROWS 256
/* ... and from this many codewords: below, a row's full pass costs little more than its check
 * (4-bit's 16 codewords: two registers a dimension, the movers' one; on Zen 1, 2026-12-03,
 * Fashion-MNIST's 4-bit PQ training of 28 values a sub-vector took 3.1 s bounded against
 * 1.6-1.9 s without). */
#define BOUNDED_MIN_K 128
/* The centroids that moved most, whose values the bounded pass computes for every row (one
 * AVX2 register of them) so that their moves do not lower every row's bound: a centroid split
 * to refill an empty one jumps far. */
#define MOVERS 8
/* The single bound is given up for the rest of a run when a pass from the fourth on recomputes
 * more than this share of the rows: the own values and runners-up then cost more than they
 * save. */
#define BOUNDED_GIVE_UP_SHARE 0.9

/* pa_check_vectors checks on all cores from this many values (below, a team costs more) */
#define CHECK_PARALLEL_VALUES ((uint64_t)1 << 16)

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

/* Checks that rows are finite and their squared norms at most PA_MAX_SQ_NORM: every row through
 * pa_row_surely_ok on all cores, and only when one fails the exact checks below, which find
 * and name the first bad row (so the outcome and message are those of the exact checks). */
pa_status pa_check_vectors(const float *x, uint64_t n, uint32_t dim, const char *what)
{
    bool all_ok = true;
#pragma omp parallel for schedule(static) reduction(&& : all_ok) if (n * dim >= CHECK_PARALLEL_VALUES)
    for (uint64_t i = 0; i < n; i++)
        all_ok = all_ok && pa_row_surely_ok(x + i * dim, dim);
    if (all_ok)
        return PA_OK;
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

uint64_t pa_assign_sgemm_bytes(uint64_t n, uint32_t dim, uint32_t k)
{
    if (pa_amx_wanted(dim, k))
        return pa_amx_assign_bytes(k, dim);
    if (pa_kernel_level() >= 1)
        return pa_assign_fused_bytes(dim, k);
    return n ? sgemm_block_rows(n, k) * k * sizeof(float) : 0;
}

/* Assigns rows to centroids: AMX tiles, the fused kernel, or sgemm in blocks (see the header). */
pa_status pa_assign_sgemm(const float *x, uint64_t n, uint32_t dim, const float *c, uint32_t k,
                          const float *cnorm, bool inner_product, uint32_t *out, float *best_out)
{
    if (pa_amx_wanted(dim, k)) /* AMX tiles, the same answers (amx.c) */
        return pa_amx_assign(x, dim, n, dim, c, k, cnorm, inner_product, out, best_out);
    if (pa_kernel_level() >= 1)
        return pa_assign_fused(x, n, dim, c, k, cnorm, inner_product, out, best_out);
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
#pragma omp parallel for schedule(static) if (m * dim >= KMEANSPP_PARALLEL_VALUES)
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

/* The participants' sum (see the header). */
pa_status pa_comm_sum(const pa_train_comm *comm, double *v, size_t count)
{
    pa_status st = comm->sum(comm->ctx, v, count);
    if (st != PA_OK)
        return pa_fail(st, "comm: the participants' sum of %zu values failed (%s)", count,
                       pa_status_name(st));
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
    pa_status st = pa_comm_sum(part->comm, v, (size_t)m * dim);
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
    if (part || pp) { /* k-means++ reads its rows once per centre: in one place, in order */
        if (!(rows = pa_malloc(sizeof(float) * (size_t)m * dim, "k-means init rows"))) {
            st = PA_ERR_NOMEM;
            goto done;
        }
        if (part && (st = gather_rows(x, n, dim, part, idx, m, rows)) != PA_OK)
            goto done;
        for (uint64_t i = 0; !part && i < m; i++)
            memcpy(rows + i * dim, x + idx[i] * dim, sizeof(float) * dim);
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

/* Squared norms of k rows, each summed in dimension order (the same sums as one row at a time,
 * whatever the thread count), eight rows side by side so that their chains overlap. */
#define NORM_ROWS 8
static void row_norms(const float *c, uint64_t k, uint32_t dim, float *out)
{
#pragma omp parallel for schedule(static) if (k > 4096)
    for (uint64_t j0 = 0; j0 < k; j0 += NORM_ROWS) {
        const uint64_t m = PA_MIN((uint64_t)NORM_ROWS, k - j0);
        float s[NORM_ROWS] = {0};
        for (uint32_t d = 0; d < dim; d++)
            for (uint64_t r = 0; r < m; r++)
                s[r] += c[(j0 + r) * dim + d] * c[(j0 + r) * dim + d];
        for (uint64_t r = 0; r < m; r++)
            out[j0 + r] = s[r];
    }
}

/* The transposed codebook times -2 ([dim][k]) the small-dimension kernel reads. */
static void transpose(const float *c, uint32_t k, uint32_t dim, float *ct)
{
    for (uint32_t j = 0; j < k; j++)
        for (uint32_t d = 0; d < dim; d++)
            ct[(size_t)d * k + j] = -2.0f * c[(size_t)j * dim + d];
}

/* The update's centroid ranges per thread (taken dynamically: a thread slowed by another
 * process leaves its second range to the others; each range reads all the assignments). */
#define UPDATE_RANGES_PER_THREAD 2

/* Moves centroids to the means of their rows; counts into cnt. Returns the k-means objective
 * of the assignment before the move: the sum of squared distances of the rows to their
 * centroids, taken from row_dist when the assignment already computed them, else computed here.
 * Deterministic whatever the number of threads: each centroid's sum (in double precision, in
 * sums: k x dim) and objective share take its rows in row order, by one thread: the centroids
 * are cut into ranges, and the thread that takes a range reads the rows in order, adding those
 * of its centroids (so the rows are read front to back, not gathered centroid by centroid); the
 * shares are then added in centroid order. Work O(n x dim), memory the k x dim sums. With sums_out
 * (k x dim) the centroids stay where they are: each centroid's sum goes there instead, for a
 * distributed k-means to add the participants' sums before the move. */
static double update(const float *x, uint64_t n, uint32_t dim, uint32_t k, const uint32_t *assign,
                     const float *row_dist, double *sums, int nthreads, double *share, float *c,
                     uint64_t *cnt, double *sums_out)
{
    double *const S = sums_out ? sums_out : sums;
    /* (inside another parallel region, as a PQ sub-space's run is, the team is one thread) */
    const uint64_t R = omp_in_parallel()
                           ? 1
                           : PA_MIN((uint64_t)k, (uint64_t)UPDATE_RANGES_PER_THREAD * nthreads);
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
    for (uint64_t t = 0; t < R; t++) {
        const uint32_t j0 = (uint32_t)(k * t / R), j1 = (uint32_t)(k * (t + 1) / R);
        memset(S + (size_t)j0 * dim, 0, sizeof(double) * (size_t)(j1 - j0) * dim);
        for (uint32_t j = j0; j < j1; j++)
            cnt[j] = 0, share[j] = 0;
        pa_add_rows_f64(S, x, n, dim, assign, j0, j1);
        for (uint64_t i = 0; i < n; i++) { /* the counts and objective shares, in row order */
            const uint32_t j = assign[i];
            if (j - j0 >= j1 - j0)
                continue;
            cnt[j]++;
            if (row_dist) {
                share[j] += row_dist[i];
            } else {
                const float *xi = x + i * dim,
                            *cj = c + (size_t)j * dim; /* moved after this pass */
                float e = 0;
#pragma omp simd reduction(+ : e)
                for (uint32_t d = 0; d < dim; d++)
                    e += (xi[d] - cj[d]) * (xi[d] - cj[d]);
                share[j] += e;
            }
        }
        for (uint32_t j = j0; j < j1 && !sums_out; j++)
            if (cnt[j]) /* an empty cluster is repaired by the caller */
                for (uint32_t d = 0; d < dim; d++)
                    c[(size_t)j * dim + d] = (float)(S[(size_t)j * dim + d] / (double)cnt[j]);
    }
    double loss = 0;
    for (uint32_t j = 0; j < k; j++)
        loss += share[j];
    return loss;
}

/* A distributed k-means iteration's exchange (acc: k x dim sums, then k counts, k objective
 * shares and 1 changed rows; KM_ACC doubles): this participant's, filled here, then added over
 * the participants by the caller's sum. */
#define KM_ACC(k, dim) ((size_t)(k) * (dim) + 2 * (size_t)(k) + 1)
static void exchange_fill(double *acc, uint32_t k, uint32_t dim, const double *share,
                          const uint64_t *cnt, uint64_t changed)
{
    double *acnt = acc + (size_t)k * dim, *ashare = acnt + k;
    for (uint32_t j = 0; j < k; j++)
        acnt[j] = (double)cnt[j], ashare[j] = share[j];
    ashare[k] = (double)changed;
}

/* After the sum, the same on every participant: the centroids move to the means of all rows,
 * cnt holds the counts of all rows. Returns the objective of all rows, the shares added in
 * centroid order. */
static double apply_sums(const double *acc, uint32_t k, uint32_t dim, uint64_t *cnt, float *c)
{
    const double *acnt = acc + (size_t)k * dim, *ashare = acnt + k;
    double loss = 0;
    for (uint32_t j = 0; j < k; j++) {
        cnt[j] = (uint64_t)acnt[j];
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

/* The groups a k-means of these arguments assigns with (groups.c), 0 for none: l2, the fused
 * or small-dimension kernel (not where the work goes to AMX or sgemm: their answers are the
 * kernels', but the choice stays theirs), and pa_groups_count's shapes. */
static uint32_t groups_used(uint32_t dim, uint32_t k, bool inner_product, bool small_dim)
{
    if (inner_product || (small_dim ? pa_amx_small_wanted(dim, UINT64_MAX) : pa_amx_wanted(dim, k)))
        return 0;
    return pa_groups_count(k, dim, !small_dim);
}

/* What the grouped bounds hold for the run: the bounds (PA_GROUPS_MAX a row), the grouping
 * both ways, the centroids in group order with their norms, the centroids before a move and
 * the groups' moves. */
static uint64_t groups_held_bytes(uint64_t n, uint32_t dim, uint32_t k)
{
    return n * PA_GROUPS_MAX * sizeof(float) + 2 * sizeof(uint32_t) * (uint64_t)k +
           2 * sizeof(float) * (uint64_t)k * dim + sizeof(float) * (uint64_t)k +
           sizeof(float) * PA_GROUPS_MAX;
}

/* Whether a k-means of these arguments keeps one bound a row instead (km_assign_bounded): the
 * small-dimension l2 k-means without groups, on AVX2 (AVX-512 runs its own kernel over every
 * codeword: on Zen 4, 2026-12-04, the bounded pass with the AVX2 runner-up kernel took 0.89-0.95
 * s of PQ training on 1M x 128, 8-bit, M=16, redoing 53% of the rows, against 0.78-0.80 s for
 * the AVX-512 kernel over every row), of codebooks of at least
 * BOUNDED_MIN_K codewords that the kernel's runner-up serves, and sub-vectors the pass's buffer
 * holds 4 of. */
static bool bounded_used(uint32_t dim, uint32_t k, bool inner_product, bool small_dim)
{
    return small_dim && !inner_product && !groups_used(dim, k, inner_product, small_dim) &&
           !pa_groups_disabled && pa_kernel_level() == 1 && k >= BOUNDED_MIN_K &&
           pa_nearest_small_second_fits(k) && 4 * dim <= BOUNDED_VALUES;
}

/* What the single bounds hold for the run: a bound a row, the centroids before a move, the
 * movers' codewords. */
static uint64_t bounded_held_bytes(uint64_t n, uint32_t dim, uint32_t k)
{
    return n * sizeof(float) + sizeof(float) * (uint64_t)k * dim +
           sizeof(float) * MOVERS * (uint64_t)dim;
}

uint64_t pa_kmeans_bytes(uint64_t n, uint32_t dim, uint32_t k, bool inner_product, bool small_dim,
                         bool assign_given, uint32_t nthreads)
{
    (void)nthreads; /* the update's memory is its k x dim sums, whatever the team */
    /* per row: the assignment (unless the caller's), the previous one, and for l2 the row
     * norms and distances */
    const uint64_t per_row = (assign_given ? 0 : 4) + 4 + (inner_product ? 0 : 8);
    /* the update's sums, the per-cluster objective, counts and norms, the transposed
     * centroids of the small-dimension kernel */
    const uint64_t held = n * per_row + sizeof(double) * (uint64_t)k * dim +
                          (uint64_t)k * (sizeof(double) + sizeof(uint64_t) + sizeof(float)) +
                          (small_dim ? sizeof(float) * (uint64_t)k * dim : 0) +
                          (small_dim && pa_amx_small_wanted(dim, n) /* its codebook, packed */
                               ? sizeof(float) * (uint64_t)k * dim + pa_amx_assign_bytes(k, dim)
                               : 0);
    /* then, one after the other: the seeding's index array (and k-means++'s distances and
     * rows), and each iteration's assignment work */
    const uint64_t init = n * sizeof(uint64_t) +
                          (k <= KMEANSPP_MAX_K
                               ? (sizeof(double) + sizeof(float) * dim) *
                                     PA_MIN(n, (uint64_t)k * KMEANSPP_ROWS_PER_CLUSTER)
                               : 0);
    const uint64_t iter = small_dim ? 0 : pa_assign_sgemm_bytes(n, dim, k);
    const uint32_t G = groups_used(dim, k, inner_product, small_dim);
    const uint64_t groups = G ? groups_held_bytes(n, dim, k)
                            : bounded_used(dim, k, inner_product, small_dim)
                                ? bounded_held_bytes(n, dim, k)
                                : 0;
    const uint64_t make = G ? pa_groups_make_bytes(k, dim, G) : 0;
    return held + groups + PA_MAX(init, PA_MAX(iter, make));
}

/* One k-means run, stepped an iteration at a time: pa_kmeans_dist runs one; a participant's
 * PQ training runs its sub-spaces side by side with one exchange per iteration for all of them
 * (pa_kmeans_dist_many). */
typedef struct km {
    const float *x;
    uint64_t n, N; /* this participant's rows; all participants' */
    uint32_t dim, k, max_iters;
    bool inner_product, small_dim;
    const pa_kmeans_part *part;
    float *c;
    uint32_t *assign, *assign_out, *prev;
    int nthreads;
    double *sums, *share, *acc; /* acc: the exchange (KM_ACC doubles), the caller's */
    uint64_t *cnt, changed;
    float *norms, *ct, *xnorm, *best;
    /* the grouped bounds (NULL where not used; groups.c): the grouping, the centroids in group
     * order and their norms, the bounds, the centroids before the move and each group's move */
    uint32_t groups, *perm, *pos; /* groups 0: not (or no longer) used */
    float *cbtp, *cbnp, *lb, *cold, *gmove;
    /* the single bound a row (km_assign_bounded; bounded false: not or no longer used): each
     * row's bound on its distance to every centroid but its own (lb, n of them), cold as
     * above; the MOVERS centroids that moved most since the last pass (movers), the largest
     * move of the others (move_rest), and the movers' codewords as the kernel reads them
     * (mct: dim x MOVERS, times -2; mnorm: their norms) */
    bool bounded;
    float move_rest;
    uint32_t movers[MOVERS];
    float *mct, mnorm[MOVERS];
    uint32_t it;
    double prev_loss;
    bool done;
    pa_kmeans_result r;
} km;

static void km_free(km *s)
{
    if (!s->assign_out)
        free(s->assign);
    free(s->prev), free(s->sums), free(s->share), free(s->cnt), free(s->norms), free(s->ct),
        free(s->xnorm), free(s->best);
    free(s->perm), free(s->pos), free(s->cbtp), free(s->cbnp), free(s->lb), free(s->cold),
        free(s->gmove), free(s->mct);
    s->mct = NULL;
    s->assign = s->prev = NULL, s->sums = s->share = NULL, s->cnt = NULL;
    s->norms = s->ct = s->xnorm = s->best = NULL;
    s->perm = s->pos = NULL, s->cbtp = s->cbnp = s->lb = s->cold = s->gmove = NULL;
}

/* Checks, allocates and seeds (a participant: gathering the seeding's rows through the sum). */
static pa_status km_open(km *s, const float *x, uint64_t n, uint32_t dim, uint32_t k,
                         uint32_t max_iters, uint64_t seed, bool inner_product, bool small_dim,
                         float *centroids, uint32_t *assign_out, const pa_kmeans_part *part,
                         double *acc)
{
    const uint64_t N = part ? part->total : n; /* the rows of all participants */
    *s = (km){.x = x,
              .n = n,
              .N = N,
              .dim = dim,
              .k = k,
              .max_iters = max_iters,
              .inner_product = inner_product,
              .small_dim = small_dim,
              .part = part,
              .c = centroids,
              .assign_out = assign_out,
              .acc = acc,
              .prev_loss = INFINITY,
              .done = max_iters == 0};
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
    s->assign = assign_out ? assign_out : pa_malloc((size_t)n * 4, "k-means assignment");
    s->prev = pa_malloc((size_t)n * 4, "k-means assignment");
    s->nthreads = omp_get_max_threads(); /* the update's team */
    /* the update's sums (a participant's go to the exchange) */
    s->sums = part ? NULL : pa_malloc(sizeof(double) * (size_t)k * dim, "k-means sums");
    s->share = pa_malloc(sizeof(double) * k, "k-means objective");
    s->cnt = pa_malloc(sizeof(uint64_t) * k, "k-means counts");
    s->norms = pa_malloc(sizeof(float) * k, "centroid norms");
    s->ct = small_dim ? pa_malloc(sizeof(float) * k * dim, "transposed centroids") : NULL;
    /* l2: the row norms, so the objective comes from the assignment's own values */
    const bool l2 = !inner_product;
    s->xnorm = l2 ? pa_malloc(sizeof(float) * n, "row norms") : NULL;
    s->best = l2 ? pa_malloc(sizeof(float) * n, "row distances") : NULL;
    if (!s->assign || !s->prev || (!part && !s->sums) || !s->share || !s->cnt || !s->norms ||
        (small_dim && !s->ct) || (l2 && (!s->xnorm || !s->best)))
        return PA_ERR_NOMEM;
    if (l2)
        row_norms(x, n, dim, s->xnorm);
    pa_status st = init_centroids(x, n, dim, k, seed, part, centroids);
    if (st == PA_OK && (s->bounded = bounded_used(dim, k, inner_product, small_dim))) {
        s->lb = pa_malloc(sizeof(float) * (size_t)n, "k-means bounds");
        s->cold = pa_malloc(sizeof(float) * (size_t)k * dim, "k-means bounds");
        s->mct = pa_malloc(sizeof(float) * MOVERS * dim, "k-means bounds");
        return s->lb && s->cold && s->mct ? PA_OK : PA_ERR_NOMEM;
    }
    if (st != PA_OK || !(s->groups = groups_used(dim, k, inner_product, small_dim)))
        return st;
    s->perm = pa_malloc(sizeof(uint32_t) * k, "centroid groups");
    s->pos = pa_malloc(sizeof(uint32_t) * k, "centroid groups");
    s->cbtp = pa_malloc(sizeof(float) * (size_t)k * dim, "centroid groups");
    s->cbnp = pa_malloc(sizeof(float) * k, "centroid groups");
    s->lb = pa_calloc((size_t)n * PA_GROUPS_MAX, sizeof(float), "k-means bounds");
    s->cold = pa_malloc(sizeof(float) * (size_t)k * dim, "k-means bounds");
    s->gmove = pa_calloc(PA_GROUPS_MAX, sizeof(float), "k-means bounds");
    if (!s->perm || !s->pos || !s->cbtp || !s->cbnp || !s->lb || !s->cold || !s->gmove)
        return PA_ERR_NOMEM;
    if ((st = pa_groups_make(centroids, k, dim, s->groups, s->perm)) != PA_OK)
        return st;
    for (uint32_t p = 0; p < k; p++)
        s->pos[s->perm[p]] = p;
    return PA_OK;
}

/* At least the largest centroid norm (the bounds' rounding margin's |c|). */
static double norms_bound(const km *s)
{
    float cm = 0;
    for (uint32_t j = 0; j < s->k; j++)
        cm = PA_MAX(cm, s->norms[j]);
    return sqrt((double)cm * (1.0 + 1e-3));
}

/* Centroid j's move from s->cold to s->c, in double, a little over the exact one. */
static double centroid_move(const km *s, size_t j)
{
    const uint32_t dim = s->dim;
    double d2 = 0;
    for (uint32_t d = 0; d < dim; d++) {
        const double u = (double)s->c[j * dim + d] - s->cold[j * dim + d];
        d2 += u * u;
    }
    return sqrt(d2) * (1.0 + 1e-9);
}

/* A move rounded up to a float. */
static float move_up(double mv)
{
    const float f = (float)mv;
    return (double)f < mv ? nextafterf(f, INFINITY) : f;
}

/* The assignment with grouped bounds (groups.c): the centroids in group order (for the
 * small-dimension kernel's values times -2), then the pass on blocks of rows over the threads
 * (each row's result its own, whatever the thread). */
static void km_assign_grouped(km *s)
{
    const uint64_t n = s->n;
    const uint32_t dim = s->dim, k = s->k, gs = k / s->groups;
    const float sc = s->small_dim ? -2.0f : 1.0f;
    for (uint32_t p = 0; p < k; p++) {
        const uint32_t j = s->perm[p];
        s->cbnp[p] = s->norms[j];
        float *t = s->cbtp + (size_t)(p / gs) * gs * dim + p % gs;
        for (uint32_t d = 0; d < dim; d++)
            t[(size_t)d * gs] = sc * s->c[(size_t)j * dim + d];
    }
    const pa_groups_pass ps = {.x = s->x,
                               .stride = dim,
                               .dim = dim,
                               .k = k,
                               .groups = s->groups,
                               .fused = !s->small_dim,
                               .cbt = s->cbtp,
                               .cbn = s->cbnp,
                               .perm = s->perm,
                               .pos = s->pos,
                               .gmove = s->it > 0 ? s->gmove : NULL,
                               .xnorm = s->xnorm,
                               .cmax = norms_bound(s),
                               .assign = s->assign,
                               .val = s->best,
                               .lb = s->lb};
    const uint64_t blk = SMALL_BLOCK;
    uint64_t pairs = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : pairs)
    for (uint64_t b = 0; b < (n + blk - 1) / blk; b++)
        pairs += pa_groups_assign(&ps, b * blk, PA_MIN(n, (b + 1) * blk));
    const double share = (double)pairs / (double)(n * s->groups);
    s->r.passes += share - 1.0; /* (km_assign counts the pass as 1) */
    if (s->it >= GROUPS_GIVE_UP_ITER && share > GROUPS_GIVE_UP_SHARE)
        s->groups = 0; /* the kernels from here: the same answers */
}

/* Rows [i0, i1) of the bounded pass (see km_assign_bounded); returns the rows recomputed. Four
 * rows a step: their values for their own centroids (the kernel's chain, bit for bit: ||c||^2
 * then one fused step per dimension with -2 c, the transposed codebook's value) and for the
 * movers side by side, so that the chains overlap. No branch on a row's outcome (half the rows
 * go each way, unpredictably): every row is copied to the buffer and its own value and new
 * bound stored, and the count of rows to recompute moves on only for those the bounds do not
 * settle. DIM: dim where a constant (8), else 0. */
__attribute__((target("avx2,fma"), always_inline)) static inline uint64_t
bounded_rows_d(km *s, uint64_t i0, uint64_t i1, pa_margin mg, const uint32_t DIM)
{
    const uint32_t dim = DIM ? DIM : s->dim, k = s->k;
    const uint32_t cap = PA_MIN((uint32_t)BOUNDED_ROWS, BOUNDED_VALUES / dim) & ~3u;
    _Alignas(32) float buf[BOUNDED_VALUES];
    uint32_t at[BOUNDED_ROWS], w[BOUNDED_ROWS];
    float v[BOUNDED_ROWS], v2[BOUNDED_ROWS];
    const __m256 inf = _mm256_set1_ps(INFINITY), mn = _mm256_loadu_ps(s->mnorm);
    const __m256i ids = _mm256_loadu_si256((const __m256i *)s->movers);
    uint64_t redone = 0;
    for (uint64_t i = i0; i < i1;) {
        uint32_t m = 0;
        for (; i < i1 && m + 4 <= cap; i += 4) {
            const uint32_t q = (uint32_t)PA_MIN((uint64_t)4, i1 - i); /* rows this step */
            const float *xr[4];
            uint32_t a[4];
            float own[4];
            __m256 mv[4];
            bool settled[4] = {false, false, false, false};
            for (uint32_t r = 0; r < 4; r++) /* (past the rows: the first again, dropped) */
                xr[r] = s->x + (i + (r < q ? r : 0)) * dim, a[r] = s->assign[i + (r < q ? r : 0)];
            if (s->it > 0) {
#pragma GCC unroll 4
                for (uint32_t r = 0; r < 4; r++)
                    own[r] = s->norms[a[r]], mv[r] = mn;
                for (uint32_t d = 0; d < dim; d++) {
                    const __m256 md = _mm256_loadu_ps(s->mct + (size_t)d * MOVERS);
#pragma GCC unroll 4
                    for (uint32_t r = 0; r < 4; r++) {
                        own[r] = fmaf(xr[r][d], -2.0f * s->c[(size_t)a[r] * dim + d], own[r]);
                        mv[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(xr[r] + d), md, mv[r]);
                    }
                }
                for (uint32_t r = 0; r < q; r++) {
                    const uint64_t ir = i + r;
                    const float xn = s->xnorm[ir], marg = pa_row_margin(mg, xn);
                    /* the least mover's value but the own centroid's (no NaN: min_ps keeps
                     * inf against one) */
                    const float least = pa_hmin256(
                        _mm256_blendv_ps(mv[r], inf,
                                         _mm256_castsi256_ps(_mm256_cmpeq_epi32(
                                             ids, _mm256_set1_epi32((int32_t)a[r])))));
                    const float lb = pa_bound_lowered(s->lb[ir], s->move_rest);
                    s->best[ir] = own[r]; /* kept where the row is settled */
                    s->lb[ir] = PA_MIN(lb, pa_bound_of_value(least, xn, marg));
                    /* settled: every mover's value above the own one, the others' bound too */
                    settled[r] = least > own[r] &&
                                 pa_bound_rules_out(lb, pa_open_threshold(own[r], xn, marg));
                }
            }
            for (uint32_t r = 0; r < q; r++) {
                for (uint32_t d = 0; d < dim; d++)
                    buf[(size_t)m * dim + d] = xr[r][d];
                at[m] = (uint32_t)(i + r - i0);
                m += !settled[r];
            }
        }
        if (i > i1)
            i = i1;
        const uint32_t m4 = (m + 3) & ~3u; /* the kernel's steps of 4: the last row repeated */
        for (uint32_t t = m; m && t < m4; t++)
            for (uint32_t d = 0; d < dim; d++)
                buf[(size_t)t * dim + d] = buf[(size_t)(m - 1) * dim + d];
        if (m)
            pa_nearest_small_second(buf, dim, m4, s->ct, s->norms, dim, k, w, v, v2);
        for (uint32_t t = 0; t < m; t++) {
            const uint64_t r = i0 + at[t];
            s->assign[r] = w[t], s->best[r] = v[t];
            s->lb[r] = pa_bound_of_value(v2[t], s->xnorm[r], pa_row_margin(mg, s->xnorm[r]));
        }
        redone += m;
    }
    return redone;
}

__attribute__((target("avx2,fma"))) static uint64_t bounded_rows(km *s, uint64_t i0, uint64_t i1,
                                                                 pa_margin mg)
{
    return s->dim == 8 ? bounded_rows_d(s, i0, i1, mg, 8) : bounded_rows_d(s, i0, i1, mg, 0);
}

/* The small-dimension assignment with one bound a row (Hamerly's k-means, kept exact), and the
 * values of the MOVERS centroids that moved most: a row whose bound on its distance to every
 * other centroid, lowered by the largest move of the others since it was made, is above its
 * distance to its own (the kernel's value, with the rounding margins of bounds.h), and whose
 * movers' values are all above its own, keeps its centroid and that value, and the lesser of
 * that bound and the movers' as its bound; the others go through the kernel, which gives their
 * winners, values and runners-up, their new bounds. The winners and values are the kernel's
 * over every centroid. */
static void km_assign_bounded(km *s)
{
    const uint64_t n = s->n, blk = SMALL_BLOCK;
    const uint32_t dim = s->dim;
    const pa_margin mg = pa_bound_margin(dim, norms_bound(s));
    transpose(s->c, s->k, dim, s->ct);
    for (uint32_t t = 0; t < MOVERS; t++) {
        const uint32_t j = s->movers[t];
        s->mnorm[t] = s->norms[j];
        for (uint32_t d = 0; d < dim; d++)
            s->mct[(size_t)d * MOVERS + t] = s->ct[(size_t)d * s->k + j];
    }
    uint64_t redone = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : redone)
    for (uint64_t b = 0; b < (n + blk - 1) / blk; b++)
        redone += bounded_rows(s, b * blk, PA_MIN(n, (b + 1) * blk), mg);
    const double share = (double)redone / (double)n;
    s->r.passes += share - 1.0; /* (km_assign counts the pass as 1) */
    if (s->it >= GROUPS_GIVE_UP_ITER && share > BOUNDED_GIVE_UP_SHARE)
        s->bounded = false; /* the kernel from here: the same answers */
}

/* The MOVERS centroids that moved most (s->cold to s->c, in double; the lowest index among
 * equal moves first) and the largest move of the others, rounded up to a float. */
static void km_bounded_moves(km *s)
{
    double top[MOVERS + 1]; /* the largest moves, descending (top[MOVERS]: the next) */
    uint32_t at[MOVERS + 1];
    for (uint32_t t = 0; t <= MOVERS; t++)
        top[t] = -1, at[t] = 0;
    for (uint32_t j = 0; j < s->k; j++) {
        const double mv = centroid_move(s, j);
        uint32_t t = MOVERS + 1;
        for (; t > 0 && mv > top[t - 1]; t--)
            if (t <= MOVERS)
                top[t] = top[t - 1], at[t] = at[t - 1];
        if (t <= MOVERS)
            top[t] = mv, at[t] = j;
    }
    for (uint32_t t = 0; t < MOVERS; t++)
        s->movers[t] = at[t];
    s->move_rest = move_up(PA_MAX(top[MOVERS], 0.0));
}

/* Each group's largest move (s->cold to s->c, in double), rounded up to a float. */
static void km_group_moves(km *s)
{
    const uint32_t G = s->groups, gs = s->k / G;
    for (uint32_t g = 0; g < G; g++) {
        double mx = 0;
        for (uint32_t t = 0; t < gs; t++)
            mx = PA_MAX(mx, centroid_move(s, s->perm[g * gs + t]));
        s->gmove[g] = move_up(mx);
    }
}

/* An iteration's assignment of this participant's rows; a participant's sums then go to acc. */
static pa_status km_assign(km *s)
{
    const uint64_t n = s->n;
    const uint32_t dim = s->dim, k = s->k;
    row_norms(s->c, k, dim, s->norms);
    s->r.passes += 1.0;
    if (s->groups) {
        km_assign_grouped(s);
    } else if (s->bounded) {
        km_assign_bounded(s);
    } else if (s->small_dim) {
        transpose(s->c, k, dim, s->ct);
        const uint64_t blk = SMALL_BLOCK;
#pragma omp parallel for schedule(dynamic, 1)
        for (uint64_t b = 0; b < (n + blk - 1) / blk; b++)
            pa_nearest_small(s->x + b * blk * dim, dim, PA_MIN(blk, n - b * blk), s->ct, s->norms,
                             dim, k, s->assign + b * blk, s->best + b * blk);
    } else {
        pa_status st = pa_assign_sgemm(s->x, n, dim, s->c, k, s->norms, s->inner_product, s->assign,
                                       s->best);
        if (st != PA_OK)
            return st;
    }
    if (s->best) /* l2: ||x - c||^2 = ||x||^2 + (||c||^2 - 2 x.c) */
        for (uint64_t i = 0; i < n; i++)
            s->best[i] += s->xnorm[i];
    s->changed = s->N;
    if (s->it > 0) {
        s->changed = 0;
        for (uint64_t i = 0; i < n; i++)
            s->changed += s->assign[i] != s->prev[i];
    }
    if (s->part) { /* this participant's sums, for the exchange */
        update(s->x, n, dim, k, s->assign, s->best, s->sums, s->nthreads, s->share, s->c, s->cnt,
               s->acc);
        exchange_fill(s->acc, k, dim, s->share, s->cnt, s->changed);
    }
    return PA_OK;
}

/* The iteration's move (after the participants' sum): the convergence checks, the centroids
 * moved to their rows' means, empty clusters repaired. */
static void km_move(km *s)
{
    const uint32_t k = s->k, dim = s->dim;
    if (s->part)
        s->changed = (uint64_t)s->acc[KM_ACC(k, dim) - 1];
    s->r.iters = s->it + 1;
    if (s->it > 0 && s->changed * 1000 < s->N) {
        s->done = true; /* converged: the centroids of this assignment are already in place */
        return;
    }
    if (s->groups || s->bounded)
        memcpy(s->cold, s->c, sizeof(float) * (size_t)k * dim);
    const double loss = s->part ? apply_sums(s->acc, k, dim, s->cnt, s->c)
                                : update(s->x, s->n, dim, k, s->assign, s->best, s->sums,
                                         s->nthreads, s->share, s->c, s->cnt, NULL);
    const uint32_t fixed = repair_empty(s->c, s->cnt, k, dim);
    if (s->groups)
        km_group_moves(s);
    if (s->bounded)
        km_bounded_moves(s);
    s->r.empty_repaired += fixed;
    /* converged: the objective improved by less than KMEANS_TOLERANCE of itself (the
     * centroids just moved to their rows' means, so this assignment is final) */
    if (s->it > 0 && !fixed && s->prev_loss - loss <= KMEANS_TOLERANCE * s->prev_loss)
        s->done = true;
    s->prev_loss = loss;
    memcpy(s->prev, s->assign, (size_t)s->n * 4);
    if (++s->it == s->max_iters)
        s->done = true;
}

/* The assignment to the final centroids (when the caller wants it), and the state freed. */
static pa_status km_close(km *s, pa_status st, pa_kmeans_result *res)
{
    if (st == PA_OK && s->assign_out) {
        row_norms(s->c, s->k, s->dim, s->norms);
        if (s->small_dim) {
            transpose(s->c, s->k, s->dim, s->ct);
            pa_nearest_small(s->x, s->dim, s->n, s->ct, s->norms, s->dim, s->k, s->assign, NULL);
        } else {
            st = pa_assign_sgemm(s->x, s->n, s->dim, s->c, s->k, s->norms, s->inner_product,
                                 s->assign, NULL);
        }
    }
    km_free(s);
    if (res)
        *res = s->r;
    return st;
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
    km s;
    double *acc = part ? pa_malloc(sizeof(double) * KM_ACC(k, dim), "k-means exchange") : NULL;
    pa_status st = part && !acc ? PA_ERR_NOMEM
                                : km_open(&s, x, n, dim, k, max_iters, seed, inner_product,
                                          small_dim, centroids, assign_out, part, acc);
    while (st == PA_OK && !s.done) {
        st = km_assign(&s);
        if (st == PA_OK && part)
            st = pa_comm_sum(part->comm, acc, KM_ACC(k, dim));
        if (st == PA_OK)
            km_move(&s);
    }
    if (!part || acc)
        st = km_close(&s, st, res);
    free(acc);
    return st;
}

/* count k-means of one participant side by side (see the header). */
pa_status pa_kmeans_dist_many(uint32_t count, const float *const *x, uint64_t n, uint32_t dim,
                              uint32_t k, uint32_t max_iters, const uint64_t *seeds,
                              float *const *centroids, pa_kmeans_result *res,
                              const pa_kmeans_part *part)
{
    const size_t per = KM_ACC(k, dim);
    km *s = pa_calloc(count ? count : 1, sizeof *s, "k-means runs");
    double *acc = pa_calloc((size_t)count * per, sizeof(double), "k-means exchange");
    pa_status st = s && acc ? PA_OK : PA_ERR_NOMEM;
    uint32_t opened = 0;
    for (; opened < count && st == PA_OK; opened++) /* each seeding exchanges its rows */
        st = km_open(&s[opened], x[opened], n, dim, k, max_iters, seeds[opened], false, true,
                     centroids[opened], NULL, part, acc + (size_t)opened * per);
    char err[512] = "";
    for (bool more = true; st == PA_OK && more;) {
        /* the runs' assignments side by side, one thread each (nested regions run on one) */
#pragma omp parallel for schedule(dynamic, 1)
        for (uint32_t m = 0; m < count; m++) {
            if (s[m].done)
                continue;
            pa_status sm = km_assign(&s[m]);
            if (sm != PA_OK) {
#pragma omp critical(pa_kmeans_many_error)
                if (st == PA_OK) { /* the message is thread-local: carry it to the caller */
                    st = sm;
                    snprintf(err, sizeof err, "%s", pa_last_error());
                }
            }
        }
        if (st != PA_OK) {
            st = pa_fail(st, "%s", err);
            break;
        }
        /* one exchange for all of them (a finished run's part is left as it was: unread) */
        if ((st = pa_comm_sum(part->comm, acc, (size_t)count * per)) != PA_OK)
            break;
        more = false;
        for (uint32_t m = 0; m < count; m++)
            if (!s[m].done) {
                km_move(&s[m]);
                more = more || !s[m].done;
            }
    }
    for (uint32_t m = 0; s && m < opened; m++)
        st = km_close(&s[m], st, res ? &res[m] : NULL);
    free(s);
    free(acc);
    return st;
}
