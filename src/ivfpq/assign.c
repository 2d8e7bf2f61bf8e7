/* Nearest centroid for many rows at once, the argmin fused into the dot products: the coarse
 * assignment of k-means and of encoding (pa_assign_sgemm's fp32 path on CPUs with AVX2 + FMA).
 *
 * A matrix product X C^T followed by an argmin pass writes n x k dot products and reads them
 * back (for 1M rows and 256 centroids 1 GB), and sgemm packs both operands on every call. Here
 * the centroids are packed once per call into tiles of PA_ASSIGN_TILE centroids, dimension-major,
 * with their norms (0 for dot) as biases, padded with +inf centroids to a whole tile. Each
 * thread takes blocks of rows (dynamic schedule); for each tile, each group of MR rows runs a
 * register-blocked kernel: MR x 64 accumulators take one fused multiply-add per dimension (a
 * broadcast row value times a register of 16 centroids), become bias - 2 x.c (dot: -x.c, so
 * that the argmax is a minimum) and fold into each row's lane-wise running minimum and its
 * index. The tile stays in L1 for the block's rows, the block's rows in L2 for all the tiles;
 * nothing of size n x k is written.
 *
 * Every kernel computes x.c as one fused multiply-add per dimension in order from 0 (what
 * OpenBLAS's sgemm kernels compute for each element, at least up to its K block), then
 * ||c||^2 - 2 x.c with one rounding (2 x.c is exact), and breaks ties to the lowest centroid
 * index, so the AVX-512 and AVX2 kernels and the scalar one give the same indices and values,
 * whatever the block, tile or thread count. */
#include "ivfpq/ivfpq_internal.h"

#include <immintrin.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>

#define TILE PA_ASSIGN_TILE
#define MR512 6 /* rows per AVX-512 kernel: 6 x 4 accumulators of 16 centroids */
#define MR256 6 /* rows per AVX2 kernel: 6 x 2 accumulators of 8 (a tile in 4 column passes) */
#define LANES 16
/* Rows of one block: as many as fit in BLOCK_X_BYTES, between BLOCK_MIN_ROWS and
 * BLOCK_MAX_ROWS (its running minima sit on the thread's stack: BLOCK_MAX_ROWS x 128 bytes). */
#define BLOCK_X_BYTES (192u << 10)
#define BLOCK_MIN_ROWS 24u
#define BLOCK_MAX_ROWS 240u

/* A row's running minimum: per lane the smallest value so far and its centroid. */
typedef struct lane_min {
    float v[LANES];
    int32_t i[LANES];
} lane_min;

static uint32_t padded(uint32_t k) { return (k + TILE - 1) / TILE * TILE; }

uint64_t pa_assign_fused_bytes(uint32_t dim, uint32_t k)
{
    return sizeof(float) * (uint64_t)padded(k) * ((uint64_t)dim + 1);
}

static uint32_t block_rows(uint32_t dim)
{
    uint64_t r = BLOCK_X_BYTES / ((uint64_t)dim * sizeof(float));
    r = PA_MAX((uint64_t)BLOCK_MIN_ROWS, PA_MIN((uint64_t)BLOCK_MAX_ROWS, r));
    return (uint32_t)(r / MR512 * MR512);
}

/* The tiles: tile t holds centroids [t*TILE, (t+1)*TILE) as dim rows of TILE values. */
static void pack(const float *c, uint32_t k, uint32_t dim, const float *cnorm, bool ip, float *ct,
                 float *bias)
{
    const uint32_t kp = padded(k);
    for (uint32_t j = 0; j < kp; j++) {
        float *t = ct + (size_t)(j / TILE) * TILE * dim + j % TILE;
        for (uint32_t d = 0; d < dim; d++)
            t[(size_t)d * TILE] = j < k ? c[(size_t)j * dim + d] : 0.0f;
        bias[j] = j >= k ? INFINITY : ip ? 0.0f : cnorm[j];
    }
}

/* Every lane starts at +inf with centroid 0: a finite value replaces it, so on finite rows the
 * answer is the kernels' whatever the start index, and a row whose values never compare below
 * +inf (NaN, +inf, overflow: rows outside pa_check_vectors' rules) gets centroid 0, an index in
 * [0, k), never one past the centroids (a padding centroid's +inf bias never wins either). */
static void lane_init(lane_min *s, uint32_t rows)
{
    for (uint32_t r = 0; r < rows; r++)
        for (int l = 0; l < LANES; l++)
            s[r].v[l] = INFINITY, s[r].i[l] = 0; /* (see below) */
}

/* The row's minimum over its lanes, ties to the lowest centroid. */
static void lane_finish(const lane_min *s, bool ip, uint32_t *out, float *best)
{
    float m = s->v[0];
    int32_t mi = s->i[0];
    for (int l = 1; l < LANES; l++)
        if (s->v[l] < m || (s->v[l] == m && s->i[l] < mi))
            m = s->v[l], mi = s->i[l];
    *out = (uint32_t)mi;
    if (best)
        *best = ip ? 0.0f - m : m; /* x.c (0 - m: +0 stays +0) */
}

/* Scalar: one centroid at a time, the same chain (see the top of the file). */
static void block_scalar(const float *x, uint32_t rows, uint32_t dim, const float *ct,
                         const float *bias, float sc, uint32_t kp, lane_min *s)
{
    for (uint32_t r = 0; r < rows; r++)
        for (uint32_t j = 0; j < kp; j++) {
            const float *t = ct + (size_t)(j / TILE) * TILE * dim + j % TILE;
            float dot = 0;
            for (uint32_t d = 0; d < dim; d++)
                dot = fmaf(x[(size_t)r * dim + d], t[(size_t)d * TILE], dot);
            const float a = fmaf(-sc, dot, bias[j]); /* sc x dot is exact: one rounding */
            const int l = (int)(j % LANES);
            if (a < s[r].v[l])
                s[r].v[l] = a, s[r].i[l] = (int32_t)j;
        }
}

/* R (<= MR512) rows against one tile (centroids j0..j0+63). */
__attribute__((target("avx512f"), always_inline)) static inline void
kern512(const float *x, uint32_t dim, const float *t, const float *b, float sc, int32_t j0,
        lane_min *s, const int R, const float *pf)
{
    __m512 a[MR512][4];
#pragma GCC unroll 6
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++)
            a[r][q] = _mm512_setzero_ps();
    for (uint32_t d = 0; d < dim; d++) {
        const float *td = t + (size_t)d * TILE;
        if (pf && d % 16 == 0) /* the next group's rows, a line of each per 16 steps */
            for (int r = 0; r < MR512; r++)
                __builtin_prefetch(pf + (size_t)r * dim + d);
        const __m512 c0 = _mm512_loadu_ps(td), c1 = _mm512_loadu_ps(td + 16);
        const __m512 c2 = _mm512_loadu_ps(td + 32), c3 = _mm512_loadu_ps(td + 48);
#pragma GCC unroll 6
        for (int r = 0; r < R; r++) {
            const __m512 v = _mm512_set1_ps(x[(size_t)r * dim + d]);
            a[r][0] = _mm512_fmadd_ps(v, c0, a[r][0]);
            a[r][1] = _mm512_fmadd_ps(v, c1, a[r][1]);
            a[r][2] = _mm512_fmadd_ps(v, c2, a[r][2]);
            a[r][3] = _mm512_fmadd_ps(v, c3, a[r][3]);
        }
    }
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512 scv = _mm512_set1_ps(sc), b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
    const __m512 b2 = _mm512_loadu_ps(b + 32), b3 = _mm512_loadu_ps(b + 48);
#pragma GCC unroll 6
    for (int r = 0; r < R; r++) {
        __m512 bv = _mm512_loadu_ps(s[r].v);
        __m512i bi = _mm512_loadu_si512(s[r].i);
        a[r][0] = _mm512_fnmadd_ps(scv, a[r][0], b0), a[r][1] = _mm512_fnmadd_ps(scv, a[r][1], b1);
        a[r][2] = _mm512_fnmadd_ps(scv, a[r][2], b2), a[r][3] = _mm512_fnmadd_ps(scv, a[r][3], b3);
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++) { /* ascending centroids: strict < keeps the lowest */
            const __mmask16 lt = _mm512_cmp_ps_mask(a[r][q], bv, _CMP_LT_OQ);
            bv = _mm512_mask_mov_ps(bv, lt, a[r][q]);
            bi = _mm512_mask_mov_epi32(bi, lt,
                                       _mm512_add_epi32(iota, _mm512_set1_epi32(j0 + 16 * q)));
        }
        _mm512_storeu_ps(s[r].v, bv);
        _mm512_storeu_si512(s[r].i, bi);
    }
}

__attribute__((target("avx512f"))) static void block_avx512(const float *x, uint32_t rows,
                                                            uint32_t dim, const float *ct,
                                                            const float *bias, float sc,
                                                            uint32_t kp, lane_min *s)
{
    for (uint32_t j0 = 0; j0 < kp; j0 += TILE) {
        const float *t = ct + (size_t)j0 * dim, *b = bias + j0;
        uint32_t r = 0;
        for (; r + MR512 <= rows; r += MR512) /* the first tile fetches the next group */
            kern512(x + (size_t)r * dim, dim, t, b, sc, (int32_t)j0, s + r, MR512,
                    j0 == 0 && r + 2 * MR512 <= rows ? x + (size_t)(r + MR512) * dim : NULL);
        switch (rows - r) { /* the block's last rows */
        case 5: kern512(x + (size_t)r * dim, dim, t, b, sc, (int32_t)j0, s + r, 5, NULL); break;
        case 4: kern512(x + (size_t)r * dim, dim, t, b, sc, (int32_t)j0, s + r, 4, NULL); break;
        case 3: kern512(x + (size_t)r * dim, dim, t, b, sc, (int32_t)j0, s + r, 3, NULL); break;
        case 2: kern512(x + (size_t)r * dim, dim, t, b, sc, (int32_t)j0, s + r, 2, NULL); break;
        case 1: kern512(x + (size_t)r * dim, dim, t, b, sc, (int32_t)j0, s + r, 1, NULL); break;
        default: break;
        }
    }
}

/* R (<= MR256) rows against 16 centroids of a tile (j0..j0+15, column offset j0 % TILE); their
 * lanes: centroid j in lane j % 8 (lanes 8..15 stay unused). */
__attribute__((target("avx2,fma"), always_inline)) static inline void
kern256(const float *x, uint32_t dim, const float *t, const float *b, float sc, int32_t j0,
        lane_min *s, const int R)
{
    __m256 a[MR256][2];
#pragma GCC unroll 6
    for (int r = 0; r < R; r++)
        a[r][0] = _mm256_setzero_ps(), a[r][1] = _mm256_setzero_ps();
    for (uint32_t d = 0; d < dim; d++) {
        const float *td = t + (size_t)d * TILE;
        const __m256 c0 = _mm256_loadu_ps(td), c1 = _mm256_loadu_ps(td + 8);
#pragma GCC unroll 6
        for (int r = 0; r < R; r++) {
            const __m256 v = _mm256_broadcast_ss(x + (size_t)r * dim + d);
            a[r][0] = _mm256_fmadd_ps(v, c0, a[r][0]);
            a[r][1] = _mm256_fmadd_ps(v, c1, a[r][1]);
        }
    }
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256 scv = _mm256_set1_ps(sc), b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
    for (int r = 0; r < R; r++) {
        __m256 bv = _mm256_loadu_ps(s[r].v);
        __m256i bi = _mm256_loadu_si256((const __m256i *)s[r].i);
        a[r][0] = _mm256_fnmadd_ps(scv, a[r][0], b0), a[r][1] = _mm256_fnmadd_ps(scv, a[r][1], b1);
#pragma GCC unroll 2
        for (int q = 0; q < 2; q++) {
            const __m256 lt = _mm256_cmp_ps(a[r][q], bv, _CMP_LT_OQ);
            const __m256i idx = _mm256_add_epi32(iota, _mm256_set1_epi32(j0 + 8 * q));
            bv = _mm256_blendv_ps(bv, a[r][q], lt);
            bi = _mm256_castps_si256(
                _mm256_blendv_ps(_mm256_castsi256_ps(bi), _mm256_castsi256_ps(idx), lt));
        }
        _mm256_storeu_ps(s[r].v, bv);
        _mm256_storeu_si256((__m256i *)s[r].i, bi);
    }
}

__attribute__((target("avx2,fma"))) static void block_avx2(const float *x, uint32_t rows,
                                                           uint32_t dim, const float *ct,
                                                           const float *bias, float sc, uint32_t kp,
                                                           lane_min *s)
{
    for (uint32_t j0 = 0; j0 < kp; j0 += 16) {
        const float *t = ct + (size_t)(j0 / TILE) * TILE * dim + j0 % TILE, *b = bias + j0;
        uint32_t r = 0;
        for (; r + MR256 <= rows; r += MR256)
            kern256(x + (size_t)r * dim, dim, t, b, sc, (int32_t)j0, s + r, MR256);
        switch (rows - r) {
        case 5: kern256(x + (size_t)r * dim, dim, t, b, sc, (int32_t)j0, s + r, 5); break;
        case 4: kern256(x + (size_t)r * dim, dim, t, b, sc, (int32_t)j0, s + r, 4); break;
        case 3: kern256(x + (size_t)r * dim, dim, t, b, sc, (int32_t)j0, s + r, 3); break;
        case 2: kern256(x + (size_t)r * dim, dim, t, b, sc, (int32_t)j0, s + r, 2); break;
        case 1: kern256(x + (size_t)r * dim, dim, t, b, sc, (int32_t)j0, s + r, 1); break;
        default: break;
        }
    }
}

/* lane_finish for each of rows rows, with AVX-512 reductions (the same answers). */
__attribute__((target("avx512f"))) static void finish_avx512(const lane_min *s, uint32_t rows,
                                                             bool ip, uint32_t *out, float *best)
{
    for (uint32_t r = 0; r < rows; r++) {
        const __m512 v = _mm512_loadu_ps(s[r].v);
        const float m = _mm512_reduce_min_ps(v);
        const __mmask16 eq = _mm512_cmp_ps_mask(v, _mm512_set1_ps(m), _CMP_EQ_OQ);
        out[r] = (uint32_t)_mm512_mask_reduce_min_epi32(eq, _mm512_loadu_si512(s[r].i));
        if (best)
            best[r] = ip ? 0.0f - m : m; /* x.c (0 - m: +0 stays +0) */
    }
}

typedef void (*block_fn)(const float *, uint32_t, uint32_t, const float *, const float *, float,
                         uint32_t, lane_min *);

/* The assignment with the kernel of level (0 scalar, 1 AVX2 + FMA, 2 AVX-512). */
static pa_status assign_level(int level, const float *x, uint64_t n, uint32_t dim, const float *c,
                              uint32_t k, const float *cnorm, bool ip, uint32_t *out, float *best)
{
    const uint32_t kp = padded(k), rows = block_rows(dim);
    float *ct = pa_malloc((size_t)pa_assign_fused_bytes(dim, k), "packed centroids");
    if (!ct)
        return PA_ERR_NOMEM;
    float *bias = ct + (size_t)kp * dim;
    pack(c, k, dim, cnorm, ip, ct, bias);
    const block_fn fn = level >= 2 ? block_avx512 : level == 1 ? block_avx2 : block_scalar;
    const uint64_t blocks = (n + rows - 1) / rows;
#pragma omp parallel for schedule(dynamic, 1) if (blocks > 1)
    for (uint64_t blk = 0; blk < blocks; blk++) {
        lane_min s[BLOCK_MAX_ROWS];
        const uint64_t r0 = blk * rows;
        const uint32_t rn = (uint32_t)PA_MIN((uint64_t)rows, n - r0);
        lane_init(s, rn);
        fn(x + r0 * dim, rn, dim, ct, bias, ip ? 1.0f : 2.0f, kp, s);
        if (level >= 2)
            finish_avx512(s, rn, ip, out + r0, best ? best + r0 : NULL);
        else
            for (uint32_t r = 0; r < rn; r++)
                lane_finish(&s[r], ip, out + r0 + r, best ? best + r0 + r : NULL);
    }
    free(ct);
    return PA_OK;
}

pa_status pa_assign_fused(const float *x, uint64_t n, uint32_t dim, const float *c, uint32_t k,
                          const float *cnorm, bool inner_product, uint32_t *out, float *best)
{
    return assign_level(pa_kernel_level(), x, n, dim, c, k, cnorm, inner_product, out, best);
}
