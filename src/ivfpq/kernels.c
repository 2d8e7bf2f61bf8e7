/* Nearest-codeword kernels for PQ sub-spaces.
 *
 * A sub-vector has few dimensions (dim / M, typically 4-16) and a codebook 256 codewords, so
 * sgemm would spend its time writing a 256-wide distance row per sub-vector. Instead each
 * kernel keeps one SIMD register of codewords (16 with AVX-512, 8 with AVX2) and accumulates
 * ||c||^2 - 2 x.c over the sub-vector's dimensions with fused multiply-adds, tracking the
 * running minimum and its index per lane (AVX2's blocks of four rows fold a chunk of sums kept
 * in L1 instead); the codebook is stored transposed (dimension-major)
 * and multiplied by -2, so each load brings one dimension of 16 (or 8) codewords and each step
 * is one FMA with a value of x broadcast straight from memory. (Scaling by -2 is exact, so
 * x * (-2c) is the same float as (-2x) * c.) The kernel is chosen once, at run time, from the
 * CPU's features: the binary stays portable (no -march=native). Ties go to the lowest codeword
 * index in every kernel, so all three agree exactly on the argmin. On any input, rows with NaN,
 * infinities or values that overflow included (outside pa_check_vectors' rules: wrong codes are
 * then allowed), every kernel's index is in [0, K): the running minima start at codeword 0 and
 * an empty equality mask gives 0. */
#include "common/simd.h"
#include "ivfpq/ivfpq_internal.h"

#include <float.h>
#include <math.h>
#include <immintrin.h>
#include <stdatomic.h>

/* Portable version: one codeword at a time. */
static void nearest_scalar(const float *x, size_t stride, uint64_t n, const float *cbt,
                           const float *cbnorm, uint32_t ds, uint32_t K, uint32_t *out, float *val)
{
    for (uint64_t i = 0; i < n; i++) {
        const float *v = x + i * stride;
        float best = FLT_MAX;
        uint32_t bi = 0;
        for (uint32_t k = 0; k < K; k++) {
            float acc = cbnorm[k];
            for (uint32_t j = 0; j < ds; j++) /* the same fused steps as the SIMD kernels */
                acc = fmaf(v[j], cbt[(size_t)j * K + k], acc);
            if (acc < best) {
                best = acc;
                bi = k;
            }
        }
        out[i] = bi;
        if (val)
            val[i] = best;
    }
}

/* Folds a chunk of len sums (codewords base..base+len-1, len % 8 == 0) whose lane-wise minimum
 * is mins into a row's running best, as the scalar loop would: a strictly smaller minimum
 * replaces it, with the lowest index holding that minimum and that index's own value (so -0
 * and +0 keep the scalar's pick). The minima take no NaN (min_ps(a, m) keeps m unless a < m)
 * and start at FLT_MAX, so a chunk of NaN or values of at least FLT_MAX changes nothing. */
__attribute__((target("avx2"))) static inline void
fold_chunk(const float *d, uint32_t len, __m256 mins, uint32_t base, float *best, uint32_t *bi)
{
    const float m = pa_hmin256(mins);
    if (!(m < *best))
        return;
    const __m256 mv = _mm256_set1_ps(m);
    for (uint32_t k = 0; k < len; k += 8) {
        const int eq = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_load_ps(d + k), mv, _CMP_EQ_OQ));
        if (eq) {
            const uint32_t at = k + (uint32_t)__builtin_ctz((unsigned)eq);
            *bi = base + at, *best = d[at];
            return;
        }
    }
}

/* The codewords of a chunk that the 4-row AVX2 kernel computes before folding them. */
#define PA_AVX2_CHUNK 256

/* The AVX2 kernel's blocks of four sub-vectors, when K % 16 == 0 (it returns the rows done: none
 * otherwise, else all but the n % 4 of the tail). Four sub-vectors go through 16 codewords at a
 * time: 8 independent FMA chains (the FMA latency on two pipes), each codebook load feeding four
 * of them and each broadcast value two; the sums go to a chunk of up to 256 codewords a row in
 * L1 and are folded once per chunk (16 registers leave room for each row's lane-wise minimum
 * beside the chains, not for indexes too: the fold finds the lowest index holding the minimum
 * in the chunk). Each sum is the same chain of fused steps as the scalar kernel's, and the fold
 * keeps its lowest index on ties. With second (K at most one chunk), each row's least value
 * of the other codewords from the chunk's sums too. */
__attribute__((target("avx2,fma"), always_inline)) static inline uint64_t
rows4_avx2(const float *x, size_t stride, uint64_t n, const float *cbt, const float *cbnorm,
           uint32_t ds, uint32_t K, uint32_t *out, float *val, float *second)
{
    uint64_t i = 0;
    for (; K % 16 == 0 && i + 4 <= n; i += 4) {
        const float *v0 = x + i * stride, *v1 = v0 + stride, *v2 = v1 + stride, *v3 = v2 + stride;
        _Alignas(32) float d[4][PA_AVX2_CHUNK];
        float best[4] = {FLT_MAX, FLT_MAX, FLT_MAX, FLT_MAX};
        uint32_t bi[4] = {0, 0, 0, 0};
        for (uint32_t k0 = 0; k0 < K; k0 += PA_AVX2_CHUNK) {
            const uint32_t len = PA_MIN(PA_AVX2_CHUNK, K - k0);
            __m256 m0 = _mm256_set1_ps(FLT_MAX), m1 = m0, m2 = m0, m3 = m0; /* lane minima */
            for (uint32_t c = 0; c < len; c += 16) {
                const uint32_t k = k0 + c;
                const __m256 n0 = _mm256_loadu_ps(cbnorm + k), n1 = _mm256_loadu_ps(cbnorm + k + 8);
                __m256 a00 = n0, a01 = n1, a10 = n0, a11 = n1;
                __m256 a20 = n0, a21 = n1, a30 = n0, a31 = n1;
                for (uint32_t j = 0; j < ds; j++) {
                    const float *cj = cbt + (size_t)j * K + k;
                    const __m256 c0 = _mm256_loadu_ps(cj), c1 = _mm256_loadu_ps(cj + 8);
                    __m256 x_ = _mm256_broadcast_ss(v0 + j);
                    a00 = _mm256_fmadd_ps(x_, c0, a00), a01 = _mm256_fmadd_ps(x_, c1, a01);
                    x_ = _mm256_broadcast_ss(v1 + j);
                    a10 = _mm256_fmadd_ps(x_, c0, a10), a11 = _mm256_fmadd_ps(x_, c1, a11);
                    x_ = _mm256_broadcast_ss(v2 + j);
                    a20 = _mm256_fmadd_ps(x_, c0, a20), a21 = _mm256_fmadd_ps(x_, c1, a21);
                    x_ = _mm256_broadcast_ss(v3 + j);
                    a30 = _mm256_fmadd_ps(x_, c0, a30), a31 = _mm256_fmadd_ps(x_, c1, a31);
                }
                _mm256_store_ps(d[0] + c, a00), _mm256_store_ps(d[0] + c + 8, a01);
                _mm256_store_ps(d[1] + c, a10), _mm256_store_ps(d[1] + c + 8, a11);
                _mm256_store_ps(d[2] + c, a20), _mm256_store_ps(d[2] + c + 8, a21);
                _mm256_store_ps(d[3] + c, a30), _mm256_store_ps(d[3] + c + 8, a31);
                m0 = _mm256_min_ps(a01, _mm256_min_ps(a00, m0));
                m1 = _mm256_min_ps(a11, _mm256_min_ps(a10, m1));
                m2 = _mm256_min_ps(a21, _mm256_min_ps(a20, m2));
                m3 = _mm256_min_ps(a31, _mm256_min_ps(a30, m3));
            }
            fold_chunk(d[0], len, m0, k0, &best[0], &bi[0]);
            fold_chunk(d[1], len, m1, k0, &best[1], &bi[1]);
            fold_chunk(d[2], len, m2, k0, &best[2], &bi[2]);
            fold_chunk(d[3], len, m3, k0, &best[3], &bi[3]);
        }
        for (int r = 0; r < 4; r++) {
            out[i + r] = bi[r];
            if (val)
                val[i + r] = best[r];
        }
        /* the least value of the other codewords (K <= PA_AVX2_CHUNK: d holds them all) */
        for (int r = 0; second && r < 4; r++) {
            d[r][bi[r]] = INFINITY;
            __m256 m = _mm256_set1_ps(INFINITY);
            for (uint32_t k = 0; k < K; k += 8)
                m = _mm256_min_ps(_mm256_load_ps(d[r] + k), m);
            second[i + r] = pa_hmin256(m);
        }
    }
    return i;
}

/* The widest sub-vector lanes8_avx2 takes (its rows transposed on the stack): wider, its
 * broadcast a multiply-add costs more than the fold it saves (Zen 1, 2026-12-03, K = 16, one
 * thread, ns a sub-vector against rows4_avx2's: ds 4 11.2 / 22.0, 8 19.7 / 22.6, 12 30.0 /
 * 28.2, 28 64.8 / 41.5). */
#define PA_LANES8_MAX_DS 8

/* The AVX2 kernel for small codebooks (4-bit's 16 codewords): eight rows side by side, a row a
 * lane, so that the argmin is a lane-wise compare and blend per codeword and no row needs a
 * horizontal fold (which cost more than the 16 x ds multiply-adds). Each lane's value is the
 * same chain as every kernel's (||c||^2, then one fused step per dimension in order with the
 * transposed codebook's -2 c, broadcast), and strict < over ascending codewords keeps the
 * lowest on ties; rows of NaN or values of at least FLT_MAX keep codeword 0 and FLT_MAX, as
 * the fold does. Returns the rows done: all but the n % 8 of the tail. */
__attribute__((target("avx2,fma"), always_inline)) static inline uint64_t
lanes8_avx2(const float *x, size_t stride, uint64_t n, const float *cbt, const float *cbnorm,
            uint32_t ds, uint32_t K, uint32_t *out, float *val)
{
    uint64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _Alignas(32) float xt[PA_LANES8_MAX_DS * 8];
        for (uint32_t j = 0; j < ds; j++)
            for (uint32_t r = 0; r < 8; r++)
                xt[j * 8 + r] = x[(i + r) * stride + j];
        __m256 best = _mm256_set1_ps(FLT_MAX);
        __m256i bi = _mm256_setzero_si256();
        for (uint32_t k = 0; k < K; k += 4) {
            __m256 a0 = _mm256_broadcast_ss(cbnorm + k), a1 = _mm256_broadcast_ss(cbnorm + k + 1);
            __m256 a2 = _mm256_broadcast_ss(cbnorm + k + 2),
                   a3 = _mm256_broadcast_ss(cbnorm + k + 3);
            for (uint32_t j = 0; j < ds; j++) {
                const __m256 xj = _mm256_load_ps(xt + j * 8);
                const float *c = cbt + (size_t)j * K + k;
                a0 = _mm256_fmadd_ps(xj, _mm256_broadcast_ss(c), a0);
                a1 = _mm256_fmadd_ps(xj, _mm256_broadcast_ss(c + 1), a1);
                a2 = _mm256_fmadd_ps(xj, _mm256_broadcast_ss(c + 2), a2);
                a3 = _mm256_fmadd_ps(xj, _mm256_broadcast_ss(c + 3), a3);
            }
            const __m256 a[4] = {a0, a1, a2, a3};
            for (uint32_t t = 0; t < 4; t++) {
                const __m256 lt = _mm256_cmp_ps(a[t], best, _CMP_LT_OQ);
                best = _mm256_blendv_ps(best, a[t], lt);
                bi = _mm256_blendv_epi8(bi, _mm256_set1_epi32((int32_t)(k + t)),
                                        _mm256_castps_si256(lt));
            }
        }
        _mm256_storeu_si256((__m256i *)(out + i), bi);
        if (val)
            _mm256_storeu_ps(val + i, best);
    }
    return i;
}

/* AVX2 + FMA: 8 codewords per register. Requires K % 8 == 0. */
__attribute__((target("avx2,fma"))) static void nearest_avx2(const float *x, size_t stride,
                                                             uint64_t n, const float *cbt,
                                                             const float *cbnorm, uint32_t ds,
                                                             uint32_t K, uint32_t *out, float *val)
{
    /* (the common shapes compiled on their own: the dimension loop unrolled, the codebook's
     * stride a constant) */
    uint64_t i = 0;
    if (K == 16 && ds <= PA_LANES8_MAX_DS) /* 4-bit: eight rows a step */
        i = ds == 4 ? lanes8_avx2(x, stride, n, cbt, cbnorm, 4, 16, out, val)
                    : lanes8_avx2(x, stride, n, cbt, cbnorm, ds, 16, out, val);
    /* then (the rest of) the rows four at a time */
    const float *xr = x + i * stride;
    float *vr = val ? val + i : NULL;
    i += ds == 8 && K == 256 ? rows4_avx2(xr, stride, n - i, cbt, cbnorm, 8, 256, out + i, vr, NULL)
                             : rows4_avx2(xr, stride, n - i, cbt, cbnorm, ds, K, out + i, vr, NULL);
    const __m256i step = _mm256_set1_epi32(8);
    for (; i < n; i++) {
        const float *v = x + i * stride;
        __m256 best = _mm256_set1_ps(FLT_MAX);
        __m256i bidx = _mm256_setzero_si256();
        __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        for (uint32_t k = 0; k < K; k += 8) {
            __m256 acc = _mm256_loadu_ps(cbnorm + k);
            for (uint32_t j = 0; j < ds; j++)
                acc = _mm256_fmadd_ps(_mm256_broadcast_ss(v + j),
                                      _mm256_loadu_ps(cbt + (size_t)j * K + k), acc);
            __m256 lt = _mm256_cmp_ps(acc, best, _CMP_LT_OQ);
            best = _mm256_blendv_ps(best, acc, lt);
            bidx = _mm256_castps_si256(
                _mm256_blendv_ps(_mm256_castsi256_ps(bidx), _mm256_castsi256_ps(idx), lt));
            idx = _mm256_add_epi32(idx, step);
        }
        float bv[8];
        uint32_t bi[8];
        _mm256_storeu_ps(bv, best);
        _mm256_storeu_si256((__m256i *)bi, bidx);
        float m = bv[0];
        uint32_t mi = bi[0];
        for (int l = 1; l < 8; l++)
            if (bv[l] < m || (bv[l] == m && bi[l] < mi))
                m = bv[l], mi = bi[l];
        out[i] = mi;
        if (val)
            val[i] = m;
    }
}

/* pa_nearest_small_second's AVX2 kernel: rows4_avx2 with the runners-up. */
__attribute__((target("avx2,fma"))) static void
second_avx2(const float *x, size_t stride, uint64_t n, const float *cbt, const float *cbnorm,
            uint32_t ds, uint32_t K, uint32_t *out, float *val, float *second)
{
    if (ds == 8 && K == 256)
        rows4_avx2(x, stride, n, cbt, cbnorm, 8, 256, out, val, second);
    else
        rows4_avx2(x, stride, n, cbt, cbnorm, ds, K, out, val, second);
}

bool pa_nearest_small_second_fits(uint32_t K) { return K % 16 == 0 && K <= PA_AVX2_CHUNK; }

void pa_nearest_small_second(const float *x, size_t stride, uint64_t n, const float *cbt,
                             const float *cbnorm, uint32_t ds, uint32_t K, uint32_t *out,
                             float *val, float *second)
{
    second_avx2(x, stride, n, cbt, cbnorm, ds, K, out, val, second);
}

/* Lane `lane` of v. */
__attribute__((target("avx512f"))) static inline float lane_of(__m512 v, uint32_t lane)
{
    float t[16];
    _mm512_storeu_ps(t, v);
    return t[lane & 15];
}

/* Lowest index among the lanes holding the minimum of best; that lane's value into *val if
 * asked (not the minimum's: of -0 and +0, equal, the minimum may be the other's sign). */
__attribute__((target("avx512f"))) static inline uint32_t argmin512(__m512 best, __m512i bidx,
                                                                    float *val)
{
    float m = _mm512_reduce_min_ps(best);
    if (val)
        *val = m;
    __mmask16 eq = _mm512_cmp_ps_mask(best, _mm512_set1_ps(m), _CMP_EQ_OQ);
    if (!eq) /* never (best holds no NaN: the folds' ordered < never takes one), but the index
              * stays in [0, K) whatever the input */
        return 0;
    __m512i cand = _mm512_mask_mov_epi32(_mm512_set1_epi32(INT32_MAX), eq, bidx);
    const int32_t r = _mm512_reduce_min_epi32(cand);
    if (val)
        *val = lane_of(best, (uint32_t)__builtin_ctz(
                                 _mm512_mask_cmpeq_epi32_mask(eq, bidx, _mm512_set1_epi32(r))));
    return (uint32_t)r;
}

/* The lowest set bit of an equality mask, 0 for none: the minimum of values with a NaN (rows
 * outside pa_check_vectors' rules) may be NaN, equal to no lane; codeword 0 then, never an
 * index past the codebook (__builtin_ctz of 0 is undefined). */
static inline uint32_t lowest_set(__mmask16 eq) { return eq ? (uint32_t)__builtin_ctz(eq) : 0; }

/* Folds a block of 16 candidate values (codewords idx..idx+15) into a lane-wise running minimum;
 * strict < keeps the lower index on ties, as the blocks come in ascending order. */
#define PA_FOLD512(b, bi, a, idx)                                 \
    do {                                                          \
        __mmask16 lt_ = _mm512_cmp_ps_mask((a), (b), _CMP_LT_OQ); \
        (b) = _mm512_mask_mov_ps((b), lt_, (a));                  \
        (bi) = _mm512_mask_mov_epi32((bi), lt_, (idx));           \
    } while (0)

/* AVX-512: 16 codewords per register. Requires K % 16 == 0. When K % 64 == 0, four sub-vectors
 * go through 64 codewords at a time: 16 independent FMA chains (enough to hide the FMA latency
 * on two pipes), each codebook load feeding four of them and each broadcast value four. K = 16
 * takes two rows at a time; other K one register of codewords at a time. */
__attribute__((target("avx512f"))) static void nearest_avx512(const float *x, size_t stride,
                                                              uint64_t n, const float *cbt,
                                                              const float *cbnorm, uint32_t ds,
                                                              uint32_t K, uint32_t *out, float *val)
{
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i step = _mm512_set1_epi32(16);
    uint64_t i = 0;
    for (; K % 64 == 0 && i + 4 <= n; i += 4) {
        const float *v0 = x + i * stride, *v1 = v0 + stride, *v2 = v1 + stride, *v3 = v2 + stride;
        __m512 b0 = _mm512_set1_ps(FLT_MAX), b1 = b0, b2 = b0, b3 = b0;
        __m512i i0 = _mm512_setzero_si512(), i1 = i0, i2 = i0, i3 = i0;
        for (uint32_t k = 0; k < K; k += 64) {
            __m512 n0 = _mm512_loadu_ps(cbnorm + k), n1 = _mm512_loadu_ps(cbnorm + k + 16);
            __m512 n2 = _mm512_loadu_ps(cbnorm + k + 32), n3 = _mm512_loadu_ps(cbnorm + k + 48);
            __m512 a00 = n0, a01 = n1, a02 = n2, a03 = n3, a10 = n0, a11 = n1, a12 = n2, a13 = n3;
            __m512 a20 = n0, a21 = n1, a22 = n2, a23 = n3, a30 = n0, a31 = n1, a32 = n2, a33 = n3;
            for (uint32_t j = 0; j < ds; j++) {
                const float *cj = cbt + (size_t)j * K + k;
                __m512 c0 = _mm512_loadu_ps(cj), c1 = _mm512_loadu_ps(cj + 16);
                __m512 c2 = _mm512_loadu_ps(cj + 32), c3 = _mm512_loadu_ps(cj + 48);
/* one row's four accumulators += its j-th value times the four codeword blocks */
#define PA_FMA_ROW(v, r0, r1, r2, r3)                                       \
    do {                                                                    \
        __m512 x_ = _mm512_set1_ps((v)[j]);                                 \
        r0 = _mm512_fmadd_ps(x_, c0, r0), r1 = _mm512_fmadd_ps(x_, c1, r1); \
        r2 = _mm512_fmadd_ps(x_, c2, r2), r3 = _mm512_fmadd_ps(x_, c3, r3); \
    } while (0)
                PA_FMA_ROW(v0, a00, a01, a02, a03);
                PA_FMA_ROW(v1, a10, a11, a12, a13);
                PA_FMA_ROW(v2, a20, a21, a22, a23);
                PA_FMA_ROW(v3, a30, a31, a32, a33);
#undef PA_FMA_ROW
            }
            __m512i q0 = _mm512_add_epi32(iota, _mm512_set1_epi32((int)k));
            __m512i q1 = _mm512_add_epi32(q0, step), q2 = _mm512_add_epi32(q1, step);
            __m512i q3 = _mm512_add_epi32(q2, step);
            PA_FOLD512(b0, i0, a00, q0);
            PA_FOLD512(b0, i0, a01, q1);
            PA_FOLD512(b0, i0, a02, q2);
            PA_FOLD512(b0, i0, a03, q3);
            PA_FOLD512(b1, i1, a10, q0);
            PA_FOLD512(b1, i1, a11, q1);
            PA_FOLD512(b1, i1, a12, q2);
            PA_FOLD512(b1, i1, a13, q3);
            PA_FOLD512(b2, i2, a20, q0);
            PA_FOLD512(b2, i2, a21, q1);
            PA_FOLD512(b2, i2, a22, q2);
            PA_FOLD512(b2, i2, a23, q3);
            PA_FOLD512(b3, i3, a30, q0);
            PA_FOLD512(b3, i3, a31, q1);
            PA_FOLD512(b3, i3, a32, q2);
            PA_FOLD512(b3, i3, a33, q3);
        }
        out[i] = argmin512(b0, i0, val ? val + i : NULL);
        out[i + 1] = argmin512(b1, i1, val ? val + i + 1 : NULL);
        out[i + 2] = argmin512(b2, i2, val ? val + i + 2 : NULL);
        out[i + 3] = argmin512(b3, i3, val ? val + i + 3 : NULL);
    }
    /* K = 16 (4-bit codes): one register of codewords 0..15 in lane order, so the lowest index
     * holding the minimum is the lowest set bit of the equality mask (no index vector) */
    for (; K == 16 && i + 2 <= n; i += 2) {
        const float *v0 = x + i * stride, *v1 = v0 + stride;
        __m512 a0 = _mm512_loadu_ps(cbnorm), a1 = a0;
        for (uint32_t j = 0; j < ds; j++) {
            const __m512 cj = _mm512_loadu_ps(cbt + (size_t)j * 16);
            a0 = _mm512_fmadd_ps(_mm512_set1_ps(v0[j]), cj, a0);
            a1 = _mm512_fmadd_ps(_mm512_set1_ps(v1[j]), cj, a1);
        }
        const float m0 = _mm512_reduce_min_ps(a0), m1 = _mm512_reduce_min_ps(a1);
        out[i] = lowest_set(_mm512_cmp_ps_mask(a0, _mm512_set1_ps(m0), _CMP_EQ_OQ));
        out[i + 1] = lowest_set(_mm512_cmp_ps_mask(a1, _mm512_set1_ps(m1), _CMP_EQ_OQ));
        if (val) /* the chosen lane's value (see argmin512) */
            val[i] = lane_of(a0, out[i]), val[i + 1] = lane_of(a1, out[i + 1]);
    }
    for (; i < n; i++) {
        const float *v = x + i * stride;
        __m512 best = _mm512_set1_ps(FLT_MAX);
        __m512i bidx = _mm512_setzero_si512(), idx = iota;
        for (uint32_t k = 0; k < K; k += 16) {
            __m512 acc = _mm512_loadu_ps(cbnorm + k);
            for (uint32_t j = 0; j < ds; j++)
                acc = _mm512_fmadd_ps(_mm512_set1_ps(v[j]),
                                      _mm512_loadu_ps(cbt + (size_t)j * K + k), acc);
            PA_FOLD512(best, bidx, acc, idx);
            idx = _mm512_add_epi32(idx, step);
        }
        out[i] = argmin512(best, bidx, val ? val + i : NULL);
    }
}

typedef void (*nearest_fn)(const float *, size_t, uint64_t, const float *, const float *, uint32_t,
                           uint32_t, uint32_t *, float *);

static _Atomic int chosen = -1; /* 0 scalar, 1 avx2, 2 avx512 */

/* Picks the widest kernel this CPU runs (PA_KERNEL=scalar|avx2 narrows it, for tests). */
static int choose(void)
{
    int c = atomic_load(&chosen);
    if (c >= 0)
        return c;
    __builtin_cpu_init();
    c = 0;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        c = 1;
    if (__builtin_cpu_supports("avx512f"))
        c = 2;
    const char *force = getenv("PA_KERNEL");
    if (force && !strcmp(force, "scalar"))
        c = 0;
    else if (force && !strcmp(force, "avx2") && c >= 1)
        c = 1;
    atomic_store(&chosen, c);
    return c;
}

bool pa_kernel_set(const char *name)
{
    __builtin_cpu_init();
    int want = !strcmp(name, "avx512") ? 2 : !strcmp(name, "avx2") ? 1 : 0;
    if (want == 2 && !__builtin_cpu_supports("avx512f"))
        return false;
    if (want == 1 && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")))
        return false;
    atomic_store(&chosen, want);
    return true;
}

int pa_kernel_level(void) { return choose(); }

const char *pa_kernel_name(void)
{
    static const char *names[] = {"scalar", "avx2", "avx512"};
    return names[choose()];
}

void pa_nearest_small(const float *x, size_t stride, uint64_t n, const float *cbt,
                      const float *cbnorm, uint32_t ds, uint32_t K, uint32_t *out, float *val)
{
    /* wide sub-vectors in large calls: AMX tiles, the same answers (amx.c); its failure (out
     * of memory) leaves the work to the SIMD kernels */
    if (pa_amx_small_wanted(ds, n) &&
        pa_amx_nearest_small(x, stride, n, cbt, cbnorm, ds, K, out, val) == PA_OK)
        return;
    int c = choose();
    if (c == 2 && K % 16 == 0)
        nearest_avx512(x, stride, n, cbt, cbnorm, ds, K, out, val);
    else if (c >= 1 && K % 8 == 0)
        nearest_avx2(x, stride, n, cbt, cbnorm, ds, K, out, val);
    else
        nearest_scalar(x, stride, n, cbt, cbnorm, ds, K, out, val);
}

/* s[d] += x[d] in double precision: the k-means update's inner loop. Each element is converted
 * and added on its own, so every version gives the same sums. */
__attribute__((always_inline)) static inline void add_f64_scalar(double *s, const float *x,
                                                                 uint32_t dim)
{
    for (uint32_t d = 0; d < dim; d++)
        s[d] += x[d];
}

__attribute__((target("avx2"), always_inline)) static inline void
add_f64_avx2(double *s, const float *x, uint32_t dim)
{
    uint32_t d = 0;
    for (; d + 4 <= dim; d += 4)
        _mm256_storeu_pd(s + d, _mm256_add_pd(_mm256_loadu_pd(s + d),
                                              _mm256_cvtps_pd(_mm_loadu_ps(x + d))));
    add_f64_scalar(s + d, x + d, dim - d);
}

__attribute__((target("avx512f"), always_inline)) static inline void
add_f64_avx512(double *s, const float *x, uint32_t dim)
{
    uint32_t d = 0;
    for (; d + 8 <= dim; d += 8)
        _mm512_storeu_pd(s + d, _mm512_add_pd(_mm512_loadu_pd(s + d),
                                              _mm512_cvtps_pd(_mm256_loadu_ps(x + d))));
    add_f64_scalar(s + d, x + d, dim - d);
}

/* pa_add_rows_f64 with one of the adds above inlined: the rows in order, each of the range's
 * added to its centroid's sums (the 8 values of PQ's usual sub-vector compiled on their own:
 * a call per row of 8 values cost as much as the additions), the range's rows `ahead` rows
 * ahead fetched (they are scattered where the range is one of several). */
#define PA_ADD_ROWS(name, attr, add)                                               \
    attr static void name(double *sums, const float *x, uint64_t n, uint32_t dim,  \
                          const uint32_t *assign, uint32_t j0, uint32_t j1)        \
    {                                                                              \
        const uint64_t ahead = PA_MAX(2, 8192 / ((uint64_t)dim * sizeof(float)));  \
        for (uint64_t i = 0; i < n; i++) {                                         \
            if (i + ahead < n && assign[i + ahead] - j0 < j1 - j0) {               \
                const char *nx = (const char *)(x + (i + ahead) * dim);            \
                for (size_t off = 0; off < (size_t)dim * sizeof(float); off += 64) \
                    __builtin_prefetch(nx + off);                                  \
            }                                                                      \
            const uint32_t j = assign[i];                                          \
            if (j - j0 >= j1 - j0)                                                 \
                continue;                                                          \
            if (dim == 8)                                                          \
                add(sums + (size_t)j * 8, x + i * 8, 8);                           \
            else                                                                   \
                add(sums + (size_t)j * dim, x + i * dim, dim);                     \
        }                                                                          \
    }
PA_ADD_ROWS(add_rows_scalar, , add_f64_scalar)
PA_ADD_ROWS(add_rows_avx2, __attribute__((target("avx2"))), add_f64_avx2)
PA_ADD_ROWS(add_rows_avx512, __attribute__((target("avx512f"))), add_f64_avx512)
#undef PA_ADD_ROWS

void pa_add_rows_f64(double *sums, const float *x, uint64_t n, uint32_t dim, const uint32_t *assign,
                     uint32_t j0, uint32_t j1)
{
    static void (*const fns[])(double *, const float *, uint64_t, uint32_t, const uint32_t *,
                               uint32_t,
                               uint32_t) = {add_rows_scalar, add_rows_avx2, add_rows_avx512};
    fns[choose()](sums, x, n, dim, assign, j0, j1);
}
