/* Grouped bounds for k-means assignment: Yinyang k-means (Ding et al., ICML 2015), kept exact.
 *
 * The centroids are cut once, after the seeding, into at most PA_GROUPS_MAX groups of centroids
 * that lie close together (pa_groups_make). Each row keeps, for each group, a lower bound on
 * its distance to every centroid of the group but its own. When the centroids move, each bound
 * falls by the largest move in its group (the triangle inequality). A pass first computes the
 * row's own group (which gives the row's value to its own centroid), then every group whose
 * bound's square is not above that value plus the row's norm and a rounding margin: a group
 * left out holds no centroid whose kernel value could be below the row's own, so the row's
 * nearest centroid is among the groups computed. Those get exact bounds again from their
 * values; the others keep theirs.
 *
 * Every value computed is the kernel's for that pair, bit for bit: the small-dimension
 * kernel's chain from ||c||^2 over -2 c, or the fused kernel's x.c from 0 then ||c||^2 - 2 x.c
 * in one rounding, one fused multiply-add per dimension in order. The winner is the lowest
 * centroid index among equal values, as the kernels break ties. So a k-means that assigns with
 * these passes makes the same assignments, values and centroids as one that runs the kernel
 * over every centroid (test_ivfpq compares them). AVX-512 (kernel level 2), and AVX2 (level
 * 1) (16 centroids of a group at a time in two registers; the 16 bounds of a row in two
 * halves, each lane's arithmetic the AVX-512 lane's); elsewhere k-means runs the kernels. */
#include "common/simd.h"
#include "ivfpq/bounds.h"
#include "ivfpq/ivfpq_internal.h"

#include <immintrin.h>
#include <math.h>
#include <stdlib.h>

/* Rows of a sub-batch: their pairs (row, group) are listed, sorted by group and computed
 * group by group; each pair's result in the thread's sub_out (SUB_ROWS x PA_GROUPS_MAX). */
#define SUB_ROWS 256
#define PAIRS_MAX (SUB_ROWS * PA_GROUPS_MAX)
/* Rows computed side by side against one group: independent fused multiply-add chains that
 * share the group's codebook register (each row's value broadcast from memory). */
#define PAIR_LANES 8
/* Rounds each grouping of the centroids takes (pa_groups_make): balanced assignment, then the
 * groups' centres moved to their members' means. */
#define GROUPING_ROUNDS 4
#define LANES 16
/* The AVX2 pass: a group GROUP2 centroids at a time (two 8-lane registers), PAIR_ROWS2 rows
 * side by side (12 accumulators). */
#define GROUP2 16
#define PAIR_ROWS2 6

bool pa_groups_disabled = false;

uint32_t pa_groups_count(uint32_t k, uint32_t dim, bool fused)
{
    const int level = pa_kernel_level();
    if (pa_groups_disabled || level < 1 || k % LANES != 0)
        return 0;
    uint32_t G = PA_GROUPS_MAX; /* the most groups of whole registers */
    while (G > 0 && (k / LANES) % G != 0)
        G--;
    if (G < PA_GROUPS_MIN)
        return 0;
    const uint64_t work = (uint64_t)dim * (k / G); /* a pair's multiply-adds */
    const uint64_t least = level >= 2 ? PA_GROUPS_MIN_FUSED_WORK : PA_GROUPS_MIN_FUSED_WORK_AVX2;
    return (fused ? work >= least : dim >= PA_GROUPS_MIN_SMALL_DIM) ? G : 0;
}

/* A candidate of the balanced grouping: centroid j to group g at squared distance d. */
typedef struct pair_d {
    double d;
    uint32_t j, g;
} pair_d;

static int pair_cmp(const void *a, const void *b)
{
    const pair_d *x = a, *y = b;
    if (x->d != y->d)
        return x->d < y->d ? -1 : 1;
    if (x->j != y->j)
        return x->j < y->j ? -1 : 1;
    return x->g < y->g ? -1 : x->g > y->g;
}

uint64_t pa_groups_make_bytes(uint32_t k, uint32_t dim, uint32_t G)
{
    return sizeof(double) * (uint64_t)G * dim + sizeof(pair_d) * (uint64_t)k * G +
           sizeof(uint32_t) * (uint64_t)k;
}

pa_status pa_groups_make(const float *c, uint32_t k, uint32_t dim, uint32_t G, uint32_t *perm)
{
    const uint32_t gs = k / G;
    double *ctr = pa_malloc(sizeof(double) * G * dim, "centroid groups");
    pair_d *pd = pa_malloc(sizeof(pair_d) * k * G, "centroid groups");
    uint32_t *of = pa_malloc(sizeof(uint32_t) * k, "centroid groups");
    pa_status st = ctr && pd && of ? PA_OK : PA_ERR_NOMEM;
    if (st != PA_OK)
        goto done;
    /* the centres start at the first G centroids: k-means++ picks them far apart */
    for (uint32_t g = 0; g < G; g++)
        for (uint32_t d = 0; d < dim; d++)
            ctr[(size_t)g * dim + d] = c[(size_t)g * dim + d];
    for (int round = 0; round < GROUPING_ROUNDS; round++) {
        for (uint32_t j = 0; j < k; j++)
            for (uint32_t g = 0; g < G; g++) {
                double s = 0;
                for (uint32_t d = 0; d < dim; d++) {
                    const double t = c[(size_t)j * dim + d] - ctr[(size_t)g * dim + d];
                    s += t * t;
                }
                pd[(size_t)j * G + g] = (pair_d){s, j, g};
            }
        qsort(pd, (size_t)k * G, sizeof *pd, pair_cmp);
        uint32_t cnt[PA_GROUPS_MAX] = {0};
        for (uint32_t j = 0; j < k; j++)
            of[j] = UINT32_MAX;
        for (size_t t = 0; t < (size_t)k * G; t++) /* nearest first, each group filled to gs */
            if (of[pd[t].j] == UINT32_MAX && cnt[pd[t].g] < gs)
                of[pd[t].j] = pd[t].g, cnt[pd[t].g]++;
        for (size_t i = 0; i < (size_t)G * dim; i++)
            ctr[i] = 0;
        for (uint32_t j = 0; j < k; j++)
            for (uint32_t d = 0; d < dim; d++)
                ctr[(size_t)of[j] * dim + d] += c[(size_t)j * dim + d] / gs;
    }
    uint32_t fill[PA_GROUPS_MAX] = {0};
    for (uint32_t j = 0; j < k; j++) /* members in ascending order */
        perm[of[j] * gs + fill[of[j]]++] = j;
done:
    free(ctr), free(pd), free(of);
    return st;
}

/* A sub-batch's results, PA_GROUPS_MAX lanes a row (one lane a group): each computed group's
 * smallest value (+inf where not computed), the centroid holding it (the lowest of equal
 * ones) and the group's smallest value of its other centroids (only where the group could
 * hold the row's winner: see group_values). */
typedef struct sub_out {
    float m[SUB_ROWS * PA_GROUPS_MAX], s[SUB_ROWS * PA_GROUPS_MAX];
    uint32_t w[SUB_ROWS * PA_GROUPS_MAX];
} sub_out;

/* One register of group g (centroids at group positions g * gs + 16 q ...) against PAIR_LANES
 * rows xs: the kernel's values (see the top of the file). */
__attribute__((target("avx512f"), always_inline)) static inline void
register_values(const pa_groups_pass *ps, uint32_t g, uint32_t q, const float *const *xs,
                __m512 *acc)
{
    const uint32_t dim = ps->dim, gs = ps->k / ps->groups;
    const size_t p0 = (size_t)g * gs + (size_t)q * LANES;
    const float *cg = ps->cbt + (size_t)g * gs * dim + (size_t)q * LANES;
    const __m512 init = ps->fused ? _mm512_setzero_ps() : _mm512_loadu_ps(ps->cbn + p0);
#pragma GCC unroll 8
    for (int r = 0; r < PAIR_LANES; r++)
        acc[r] = init;
    for (uint32_t d = 0; d < dim; d++) {
        const __m512 cd = _mm512_loadu_ps(cg + (size_t)d * gs);
#pragma GCC unroll 8
        for (int r = 0; r < PAIR_LANES; r++)
            acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(xs[r][d]), cd, acc[r]);
    }
    if (ps->fused) { /* ||c||^2 - 2 x.c, one rounding (2 x.c is exact) */
        const __m512 two = _mm512_set1_ps(2.0f), cn = _mm512_loadu_ps(ps->cbn + p0);
#pragma GCC unroll 8
        for (int r = 0; r < PAIR_LANES; r++)
            acc[r] = _mm512_fnmadd_ps(two, acc[r], cn);
    }
}

/* Group g against the sub-batch rows rs[0..c) (row r's values at xr[r]): results into row
 * rs[t]'s lane g of out, and for round 1 (own non-NULL) each row's value to its own centroid
 * (group position own_at[t]) into own[rs[t]]. The group's other smallest value only where cut
 * is NULL or the group's smallest is at most cut[row] (round 2: the own group's smallest; a
 * group above it cannot hold the winner, whose group alone needs it). PAIR_LANES rows side by
 * side, the last ones repeating a row where fewer are left (their results dropped). A group of
 * several registers folds them per lane: the running minimum (strict <: ascending positions
 * keep the lowest), its position, and the smaller of the values the fold did not keep. REGS:
 * the registers a group (a constant where 1, so that the one-register case keeps its state in
 * registers; 0 for any). */
__attribute__((target("avx512f"), always_inline)) static inline void
group_values_r(const pa_groups_pass *ps, const float *const *xr, uint32_t g, const uint16_t *rs,
               uint32_t c, sub_out *out, const uint32_t *own_at, float *own, const float *cut,
               const uint32_t REGS)
{
    const uint32_t gs = ps->k / ps->groups, regs = REGS ? REGS : gs / LANES;
    const __m512 inf = _mm512_set1_ps(INFINITY);
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (uint32_t t0 = 0; t0 < c; t0 += PAIR_LANES) {
        const float *xs[PAIR_LANES];
        __m512 acc[PAIR_LANES], bv[PAIR_LANES], nv[PAIR_LANES];
        __m512i bi[PAIR_LANES];
#pragma GCC unroll 8
        for (int r = 0; r < PAIR_LANES; r++)
            xs[r] = xr[rs[t0 + r < c ? t0 + r : t0]], bv[r] = nv[r] = inf,
            bi[r] = _mm512_setzero_si512();
        const uint32_t m = PA_MIN((uint32_t)PAIR_LANES, c - t0);
        for (uint32_t q = 0; q < regs; q++) {
            register_values(ps, g, q, xs, acc);
            if (own)
                for (uint32_t r = 0; r < m; r++)
                    if (own_at[t0 + r] / LANES == q) {
                        float tmp[LANES];
                        _mm512_storeu_ps(tmp, acc[r]);
                        own[rs[t0 + r]] = tmp[own_at[t0 + r] % LANES];
                    }
            if (regs == 1) { /* the register is the group */
#pragma GCC unroll 8
                for (int r = 0; r < PAIR_LANES; r++)
                    bv[r] = acc[r];
                continue;
            }
            const __m512i idx = _mm512_add_epi32(iota, _mm512_set1_epi32((int32_t)(q * LANES)));
#pragma GCC unroll 8
            for (int r = 0; r < PAIR_LANES; r++) {
                nv[r] = _mm512_min_ps(nv[r], _mm512_max_ps(acc[r], bv[r]));
                const __mmask16 lt = _mm512_cmp_ps_mask(acc[r], bv[r], _CMP_LT_OQ);
                bv[r] = _mm512_mask_mov_ps(bv[r], lt, acc[r]);
                bi[r] = _mm512_mask_mov_epi32(bi[r], lt, idx);
            }
        }
        for (uint32_t r = 0; r < m; r++) {
            const float mn = _mm512_reduce_min_ps(bv[r]);
            const __mmask16 eq = _mm512_cmp_ps_mask(bv[r], _mm512_set1_ps(mn), _CMP_EQ_OQ);
            /* the lowest position holding mn: one register's is its lowest lane (no lane equal:
             * a NaN row, outside pa_check_vectors' rules; position 0) */
            const uint32_t at = !eq         ? 0
                                : regs == 1 ? (uint32_t)__builtin_ctz(eq)
                                            : (uint32_t)_mm512_mask_reduce_min_epi32(eq, bi[r]);
            const size_t o = (size_t)rs[t0 + r] * PA_GROUPS_MAX + g;
            out->m[o] = mn;
            out->w[o] = ps->perm[(size_t)g * gs + at];
            if (!cut || mn <= cut[rs[t0 + r]]) /* the winner's lane keeps its runner-up */
                out->s[o] = _mm512_reduce_min_ps(
                    _mm512_mask_mov_ps(bv[r], (__mmask16)(1u << (at % LANES)), nv[r]));
        }
    }
}

__attribute__((target("avx512f"))) static void
group_values(const pa_groups_pass *ps, const float *const *xr, uint32_t g, const uint16_t *rs,
             uint32_t c, sub_out *out, const uint32_t *own_at, float *own, const float *cut)
{
    if (ps->k / ps->groups == LANES)
        group_values_r(ps, xr, g, rs, c, out, own_at, own, cut, 1);
    else
        group_values_r(ps, xr, g, rs, c, out, own_at, own, cut, 0);
}

/* A level's computation of one group's rows (group_values, group_values_avx2). */
typedef void (*group_fn)(const pa_groups_pass *ps, const float *const *xr, uint32_t g,
                         const uint16_t *rs, uint32_t c, sub_out *out, const uint32_t *own_at,
                         float *own, const float *cut);

/* The pairs (rows pr[t] of the sub-batch, groups pg[t]) for t < np, sorted by group (a
 * counting sort, rows ascending in each), computed by fn group by group into out. at, own: see
 * group_values. */
static void pairs_run(group_fn fn, const pa_groups_pass *ps, const float *const *xr,
                      const uint16_t *pr, const uint8_t *pg, uint32_t np, sub_out *out,
                      const uint32_t *at, float *own, const float *cut)
{
    const uint32_t G = ps->groups;
    uint32_t start[PA_GROUPS_MAX + 1] = {0}, fill[PA_GROUPS_MAX];
    uint16_t rs[PAIRS_MAX];
    uint32_t oa[PAIRS_MAX];
    for (uint32_t t = 0; t < np; t++)
        start[pg[t] + 1]++;
    for (uint32_t g = 0; g < G; g++)
        start[g + 1] += start[g], fill[g] = start[g];
    for (uint32_t t = 0; t < np; t++) {
        const uint32_t u = fill[pg[t]]++;
        rs[u] = pr[t], oa[u] = at ? at[t] : 0;
    }
    for (uint32_t g = 0; g < G; g++)
        if (start[g + 1] > start[g])
            fn(ps, xr, g, rs + start[g], start[g + 1] - start[g], out, oa + start[g], own, cut);
}

/* Round 1 of a sub-batch of rows from b0: each row's own group (every group on the first pass),
 * its pairs into pr, pg (with the own position in at), the groups computed into done, the rows'
 * addresses into xr; returns the pairs. */
static uint32_t round1_pairs(const pa_groups_pass *ps, uint64_t b0, uint32_t rows, const float **xr,
                             uint16_t *pr, uint8_t *pg, uint32_t *at, uint16_t *done)
{
    const uint32_t G = ps->groups, gs = ps->k / G;
    uint32_t np = 0;
    for (uint32_t r = 0; r < rows; r++) {
        xr[r] = ps->x + (b0 + r) * ps->stride;
        if (!ps->gmove) {
            for (uint32_t g = 0; g < G; g++)
                pr[np] = (uint16_t)r, pg[np++] = (uint8_t)g;
            done[r] = (uint16_t)((1u << G) - 1);
        } else {
            const uint32_t p = ps->pos[ps->assign[b0 + r]];
            at[np] = p % gs;
            pr[np] = (uint16_t)r, pg[np++] = (uint8_t)(p / gs);
            done[r] = (uint16_t)(1u << (p / gs));
        }
    }
    return np;
}

/* Round 2's pairs of sub-batch row r: the groups set in open, into pr, pg from *np. */
static inline void push_open(uint32_t r, uint32_t open, uint32_t G, uint16_t *pr, uint8_t *pg,
                             uint32_t *np)
{
    for (uint32_t g = 0; g < G; g++) /* (no branch on the bits) */
        pr[*np] = (uint16_t)r, pg[*np] = (uint8_t)g, *np += (open >> g) & 1;
}

/* Prefetches n rows of `stride` floats at x, and their bounds, towards L2. */
static void prefetch_rows(const pa_groups_pass *ps, uint64_t i, uint64_t n)
{
    const char *xa = (const char *)(ps->x + i * ps->stride);
    for (size_t off = 0; off < n * ps->stride * sizeof(float); off += 64)
        _mm_prefetch(xa + off, _MM_HINT_T1);
    const char *la = (const char *)(ps->lb + i * PA_GROUPS_MAX);
    for (size_t off = 0; off < n * PA_GROUPS_MAX * sizeof(float); off += 64)
        _mm_prefetch(la + off, _MM_HINT_T1);
}

__attribute__((target("avx512f"))) static uint64_t groups_assign_avx512(const pa_groups_pass *ps,
                                                                        uint64_t i0, uint64_t i1)
{
    const uint32_t G = ps->groups;
    const __mmask16 all = (__mmask16)((1u << G) - 1);
    const __m512 shrink = _mm512_set1_ps(PA_BOUND_SHRINK), zero = _mm512_setzero_ps();
    const __m512 inf = _mm512_set1_ps(INFINITY);
    const __m512 gm = ps->gmove ? _mm512_maskz_loadu_ps(all, ps->gmove) : zero;
    const pa_margin mg = pa_bound_margin(ps->dim, ps->cmax);
    uint64_t pairs_done = 0;
    uint16_t pr[PAIRS_MAX];
    uint8_t pg[PAIRS_MAX];
    uint32_t at[SUB_ROWS];
    static _Thread_local sub_out out; /* (48 KiB: off the stack) */
    float own[SUB_ROWS], cut[SUB_ROWS];
    const float *xr[SUB_ROWS];
    uint16_t done[SUB_ROWS]; /* each row's computed groups */
    for (uint64_t b0 = i0; b0 < i1; b0 += SUB_ROWS) {
        const uint32_t rows = (uint32_t)PA_MIN((uint64_t)SUB_ROWS, i1 - b0);
        uint32_t np;
        if (b0 + SUB_ROWS < i1) /* the next sub-batch, while this one runs */
            prefetch_rows(ps, b0 + SUB_ROWS, PA_MIN((uint64_t)SUB_ROWS, i1 - b0 - SUB_ROWS));
        for (uint32_t r = 0; r < rows; r++)
            _mm512_storeu_ps(out.m + (size_t)r * PA_GROUPS_MAX, inf);
        np = round1_pairs(ps, b0, rows, xr, pr, pg, at, done); /* round 1 */
        pairs_run(group_values, ps, xr, pr, pg, np, &out, ps->gmove ? at : NULL,
                  ps->gmove ? own : NULL, NULL);
        pairs_done += np;
        /* round 2: the groups each row's bounds do not rule out */
        if (ps->gmove) {
            np = 0;
            for (uint32_t r = 0; r < rows; r++) {
                const uint64_t i = b0 + r;
                const float xn = ps->xnorm[i];
                const float thr = pa_open_threshold(own[r], xn, pa_row_margin(mg, xn));
                float *lbr = ps->lb + i * PA_GROUPS_MAX;
                /* (lanes past G unused; full stores: masked ones are slow on some CPUs) */
                __m512 lb = _mm512_loadu_ps(lbr);
                lb = _mm512_max_ps(zero, _mm512_mul_ps(_mm512_sub_ps(lb, gm), shrink));
                _mm512_storeu_ps(lbr, lb);
                const __mmask16 safe = _mm512_cmp_ps_mask(_mm512_mul_ps(_mm512_mul_ps(lb, lb),
                                                                        shrink),
                                                          _mm512_set1_ps(thr), _CMP_GT_OQ);
                const uint32_t open = (uint32_t)(all & ~safe) & ~(uint32_t)done[r];
                /* the own group's smallest (done[r] holds only the own group yet) */
                cut[r] = out.m[(size_t)r * PA_GROUPS_MAX + (uint32_t)__builtin_ctz(done[r])];
                done[r] |= (uint16_t)open;
                push_open(r, open, G, pr, pg, &np);
            }
            pairs_run(group_values, ps, xr, pr, pg, np, &out, NULL, NULL, cut);
            pairs_done += np;
        }
        /* each row's winner among its computed groups (the lowest centroid on equal values),
         * and those groups' bounds from their other centroids */
        for (uint32_t r = 0; r < rows; r++) {
            const uint64_t i = b0 + r;
            const __m512 M = _mm512_loadu_ps(out.m + (size_t)r * PA_GROUPS_MAX);
            const __m512i W = _mm512_loadu_si512(out.w + (size_t)r * PA_GROUPS_MAX);
            const float m = _mm512_reduce_min_ps(M);
            const __mmask16 eq = _mm512_cmp_ps_mask(M, _mm512_set1_ps(m), _CMP_EQ_OQ) & done[r];
            /* (no lane equal: a NaN row, outside pa_check_vectors' rules; centroid 0) */
            const uint32_t w = eq ? (uint32_t)_mm512_mask_reduce_min_epi32(eq, W) : 0;
            ps->assign[i] = w;
            ps->val[i] = m;
            const float xn = ps->xnorm[i];
            const __mmask16 mine = _mm512_cmpeq_epi32_mask(W, _mm512_set1_epi32((int32_t)w));
            const __m512 other =
                _mm512_mask_mov_ps(M, mine, _mm512_loadu_ps(out.s + (size_t)r * PA_GROUPS_MAX));
            const __m512 l2 = _mm512_sub_ps(_mm512_add_ps(other, _mm512_set1_ps(xn)),
                                            _mm512_set1_ps(pa_row_margin(mg, xn)));
            const __m512 l = _mm512_mul_ps(_mm512_sqrt_ps(_mm512_max_ps(zero, l2)),
                                           _mm512_mul_ps(shrink, shrink));
            float *lbr = ps->lb + i * PA_GROUPS_MAX;
            _mm512_storeu_ps(lbr, _mm512_mask_mov_ps(_mm512_loadu_ps(lbr), done[r], l));
        }
    }
    return pairs_done;
}

/* ---- AVX2: a group GROUP2 centroids at a time, in two 8-lane registers ----
 * The same values as the AVX-512 pass (the kernel's chains, see the top of the file) and the
 * same bounds, each bound's arithmetic the AVX-512 lane's. */

/* Chunk q of group g (its positions 16q .. 16q + 15) against PAIR_ROWS2 rows xs: v[r][0] the
 * values of the chunk's positions 0..7, v[r][1] of 8..15. */
__attribute__((target("avx2,fma"), always_inline)) static inline void
group_registers_avx2(const pa_groups_pass *ps, uint32_t g, uint32_t q, const float *const *xs,
                     __m256 v[PAIR_ROWS2][2])
{
    const uint32_t dim = ps->dim, gs = ps->k / ps->groups;
    const size_t p0 = (size_t)g * gs + (size_t)q * GROUP2;
    const float *cg = ps->cbt + (size_t)g * gs * dim + (size_t)q * GROUP2;
    const __m256 zero = _mm256_setzero_ps();
    const __m256 i0 = ps->fused ? zero : _mm256_loadu_ps(ps->cbn + p0);
    const __m256 i1 = ps->fused ? zero : _mm256_loadu_ps(ps->cbn + p0 + 8);
    __m256 a[PAIR_ROWS2][2]; /* (local: kept in registers; the caller's v only at the end) */
#pragma GCC unroll 6
    for (int r = 0; r < PAIR_ROWS2; r++)
        a[r][0] = i0, a[r][1] = i1;
    for (uint32_t d = 0; d < dim; d++) {
        const __m256 c0 = _mm256_loadu_ps(cg + (size_t)d * gs);
        const __m256 c1 = _mm256_loadu_ps(cg + (size_t)d * gs + 8);
#pragma GCC unroll 6
        for (int r = 0; r < PAIR_ROWS2; r++) {
            const __m256 x = _mm256_broadcast_ss(xs[r] + d);
            a[r][0] = _mm256_fmadd_ps(x, c0, a[r][0]), a[r][1] = _mm256_fmadd_ps(x, c1, a[r][1]);
        }
    }
    if (ps->fused) { /* ||c||^2 - 2 x.c, one rounding (2 x.c is exact) */
        const __m256 two = _mm256_set1_ps(2.0f);
        const __m256 n0 = _mm256_loadu_ps(ps->cbn + p0), n1 = _mm256_loadu_ps(ps->cbn + p0 + 8);
#pragma GCC unroll 6
        for (int r = 0; r < PAIR_ROWS2; r++)
            a[r][0] = _mm256_fnmadd_ps(two, a[r][0], n0),
            a[r][1] = _mm256_fnmadd_ps(two, a[r][1], n1);
    }
#pragma GCC unroll 6
    for (int r = 0; r < PAIR_ROWS2; r++)
        v[r][0] = a[r][0], v[r][1] = a[r][1];
}

/* group_values_r on AVX2: the group GROUP2 centroids (a chunk) at a time, each row's smallest
 * value, the lowest position holding it, and the smallest of the group's other values, folded
 * over the chunks in ascending order (a strictly smaller chunk minimum replaces the row's, the
 * old one then a candidate for the runner-up). */
__attribute__((target("avx2,fma"))) static void
group_values_avx2(const pa_groups_pass *ps, const float *const *xr, uint32_t g, const uint16_t *rs,
                  uint32_t c, sub_out *out, const uint32_t *own_at, float *own, const float *cut)
{
    const uint32_t gs = ps->k / ps->groups, chunks = gs / GROUP2;
    const __m256 inf = _mm256_set1_ps(INFINITY);
    const __m256i lo = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i hi = _mm256_add_epi32(lo, _mm256_set1_epi32(8));
    for (uint32_t t0 = 0; t0 < c; t0 += PAIR_ROWS2) {
        const float *xs[PAIR_ROWS2];
        float mn[PAIR_ROWS2], sn[PAIR_ROWS2];
        uint32_t at[PAIR_ROWS2];
        for (int r = 0; r < PAIR_ROWS2; r++)
            xs[r] = xr[rs[t0 + r < c ? t0 + r : t0]], mn[r] = sn[r] = INFINITY, at[r] = 0;
        const uint32_t m = PA_MIN((uint32_t)PAIR_ROWS2, c - t0);
        for (uint32_t q = 0; q < chunks; q++) {
            __m256 v[PAIR_ROWS2][2];
            group_registers_avx2(ps, g, q, xs, v);
            for (uint32_t r = 0; r < m; r++) {
                if (own && own_at[t0 + r] / GROUP2 == q) {
                    float tmp[GROUP2];
                    _mm256_storeu_ps(tmp, v[r][0]), _mm256_storeu_ps(tmp + 8, v[r][1]);
                    own[rs[t0 + r]] = tmp[own_at[t0 + r] % GROUP2];
                }
                const float cm = pa_hmin256(_mm256_min_ps(v[r][0], v[r][1]));
                const __m256 mv = _mm256_set1_ps(cm);
                const uint32_t eq =
                    (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(v[r][0], mv, _CMP_EQ_OQ)) |
                    (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(v[r][1], mv, _CMP_EQ_OQ)) << 8;
                /* (no lane equal: a NaN row, outside pa_check_vectors' rules; position 0) */
                const uint32_t ca = eq ? (uint32_t)__builtin_ctz(eq) : 0;
                const __m256i a = _mm256_set1_epi32((int32_t)ca);
                const __m256 r0 = _mm256_blendv_ps(v[r][0], inf,
                                                   _mm256_castsi256_ps(_mm256_cmpeq_epi32(lo, a)));
                const __m256 r1 = _mm256_blendv_ps(v[r][1], inf,
                                                   _mm256_castsi256_ps(_mm256_cmpeq_epi32(hi, a)));
                const float cs = pa_hmin256(_mm256_min_ps(r0, r1)); /* the chunk's other values */
                if (q == 0 || cm < mn[r]) {
                    sn[r] = q == 0 ? cs : PA_MIN(mn[r], cs);
                    mn[r] = cm, at[r] = q * GROUP2 + ca;
                } else {
                    sn[r] = PA_MIN(sn[r], cm);
                }
            }
        }
        for (uint32_t r = 0; r < m; r++) {
            const uint16_t row = rs[t0 + r];
            const size_t o = (size_t)row * PA_GROUPS_MAX + g;
            out->m[o] = mn[r];
            out->w[o] = ps->perm[(size_t)g * gs + at[r]];
            if (!cut || mn[r] <= cut[row]) /* the winner's lane keeps its runner-up */
                out->s[o] = sn[r];
        }
    }
}

/* groups_assign_avx512's pass, its 16 bounds a row in two 8-lane halves (each lane's steps
 * those of the AVX-512 lane). */
__attribute__((target("avx2,fma"))) static uint64_t groups_assign_avx2(const pa_groups_pass *ps,
                                                                       uint64_t i0, uint64_t i1)
{
    const uint32_t G = ps->groups, all = (1u << G) - 1;
    const __m256 zero = _mm256_setzero_ps(), shr = _mm256_set1_ps(PA_BOUND_SHRINK);
    const __m256 shr2 = _mm256_mul_ps(shr, shr);
    const __m256i bits0 = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    const __m256i bits1 = _mm256_slli_epi32(bits0, 8);
    const __m256 gm0 = ps->gmove ? _mm256_loadu_ps(ps->gmove) : zero;
    const __m256 gm1 = ps->gmove ? _mm256_loadu_ps(ps->gmove + 8) : zero;
    const pa_margin mg = pa_bound_margin(ps->dim, ps->cmax);
    uint64_t pairs_done = 0;
    uint16_t pr[PAIRS_MAX];
    uint8_t pg[PAIRS_MAX];
    uint32_t at[SUB_ROWS];
    static _Thread_local sub_out out;
    float own[SUB_ROWS], cut[SUB_ROWS];
    const float *xr[SUB_ROWS];
    uint16_t done[SUB_ROWS];
    for (uint64_t b0 = i0; b0 < i1; b0 += SUB_ROWS) {
        const uint32_t rows = (uint32_t)PA_MIN((uint64_t)SUB_ROWS, i1 - b0);
        uint32_t np;
        if (b0 + SUB_ROWS < i1)
            prefetch_rows(ps, b0 + SUB_ROWS, PA_MIN((uint64_t)SUB_ROWS, i1 - b0 - SUB_ROWS));
        for (uint32_t r = 0; r < rows; r++)
            for (uint32_t g = 0; g < PA_GROUPS_MAX; g++)
                out.m[(size_t)r * PA_GROUPS_MAX + g] = INFINITY;
        np = round1_pairs(ps, b0, rows, xr, pr, pg, at, done); /* round 1 */
        pairs_run(group_values_avx2, ps, xr, pr, pg, np, &out, ps->gmove ? at : NULL,
                  ps->gmove ? own : NULL, NULL);
        pairs_done += np;
        if (ps->gmove) { /* round 2: the groups each row's bounds do not rule out */
            np = 0;
            for (uint32_t r = 0; r < rows; r++) {
                const uint64_t i = b0 + r;
                const float xn = ps->xnorm[i];
                const float thr = pa_open_threshold(own[r], xn, pa_row_margin(mg, xn));
                float *lbr = ps->lb + i * PA_GROUPS_MAX;
                /* (lanes past G unused: gmove and the bounds are 0 there) */
                __m256 l0 = _mm256_loadu_ps(lbr), l1 = _mm256_loadu_ps(lbr + 8);
                l0 = _mm256_max_ps(zero, _mm256_mul_ps(_mm256_sub_ps(l0, gm0), shr));
                l1 = _mm256_max_ps(zero, _mm256_mul_ps(_mm256_sub_ps(l1, gm1), shr));
                _mm256_storeu_ps(lbr, l0), _mm256_storeu_ps(lbr + 8, l1);
                const __m256 tv = _mm256_set1_ps(thr);
                const uint32_t safe =
                    (uint32_t)_mm256_movemask_ps(
                        _mm256_cmp_ps(_mm256_mul_ps(_mm256_mul_ps(l0, l0), shr), tv, _CMP_GT_OQ)) |
                    (uint32_t)_mm256_movemask_ps(
                        _mm256_cmp_ps(_mm256_mul_ps(_mm256_mul_ps(l1, l1), shr), tv, _CMP_GT_OQ))
                        << 8;
                uint32_t open = all & ~safe;
                open &= ~(uint32_t)done[r];
                cut[r] = out.m[(size_t)r * PA_GROUPS_MAX + (uint32_t)__builtin_ctz(done[r])];
                done[r] |= (uint16_t)open;
                push_open(r, open, G, pr, pg, &np);
            }
            pairs_run(group_values_avx2, ps, xr, pr, pg, np, &out, NULL, NULL, cut);
            pairs_done += np;
        }
        for (uint32_t r = 0; r < rows; r++) { /* the winner, and the computed groups' bounds */
            const uint64_t i = b0 + r;
            const float *M = out.m + (size_t)r * PA_GROUPS_MAX,
                        *S = out.s + (size_t)r * PA_GROUPS_MAX;
            const uint32_t *W = out.w + (size_t)r * PA_GROUPS_MAX;
            const __m256 m0 = _mm256_loadu_ps(M), m1 = _mm256_loadu_ps(M + 8);
            const float m = pa_hmin256(_mm256_min_ps(m0, m1));
            const __m256 mv = _mm256_set1_ps(m);
            uint32_t eq = ((uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(m0, mv, _CMP_EQ_OQ)) |
                           (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(m1, mv, _CMP_EQ_OQ)) << 8) &
                          done[r];
            uint32_t w = eq ? UINT32_MAX : 0; /* (none equal: a NaN row; centroid 0) */
            for (; eq; eq &= eq - 1)
                w = PA_MIN(w, W[__builtin_ctz(eq)]);
            ps->assign[i] = w;
            ps->val[i] = m;
            const float xn = ps->xnorm[i];
            const __m256 xv = _mm256_set1_ps(xn), mv2 = _mm256_set1_ps(pa_row_margin(mg, xn));
            const __m256i wv = _mm256_set1_epi32((int32_t)w), dv = _mm256_set1_epi32(done[r]);
            float *lbr = ps->lb + i * PA_GROUPS_MAX;
            for (int h = 0; h < 2; h++) {
                const __m256 mine = _mm256_castsi256_ps(
                    _mm256_cmpeq_epi32(_mm256_loadu_si256((const __m256i *)(W + 8 * h)), wv));
                const __m256 other = _mm256_blendv_ps(h ? m1 : m0, _mm256_loadu_ps(S + 8 * h),
                                                      mine);
                const __m256 l2 = _mm256_sub_ps(_mm256_add_ps(other, xv), mv2);
                const __m256 l = _mm256_mul_ps(_mm256_sqrt_ps(_mm256_max_ps(zero, l2)), shr2);
                const __m256i bit = h ? bits1 : bits0;
                const __m256 in = _mm256_castsi256_ps(
                    _mm256_cmpeq_epi32(_mm256_and_si256(dv, bit), bit)); /* computed groups */
                _mm256_storeu_ps(lbr + 8 * h,
                                 _mm256_blendv_ps(_mm256_loadu_ps(lbr + 8 * h), l, in));
            }
        }
    }
    return pairs_done;
}

uint64_t pa_groups_assign(const pa_groups_pass *ps, uint64_t i0, uint64_t i1)
{
    return pa_kernel_level() >= 2 ? groups_assign_avx512(ps, i0, i1)
                                  : groups_assign_avx2(ps, i0, i1);
}
