/* Nearest-codeword kernels for PQ sub-spaces.
 *
 * A sub-vector has few dimensions (dim / M, typically 4-16) and a codebook 256 codewords, so
 * sgemm would spend its time writing a 256-wide distance row per sub-vector. Instead each
 * kernel keeps one SIMD register of codewords (16 with AVX-512, 8 with AVX2) and accumulates
 * ||c||^2 - 2 x.c over the sub-vector's dimensions with fused multiply-adds, tracking the
 * running minimum and its index per lane; the codebook is stored transposed (dimension-major)
 * and multiplied by -2, so each load brings one dimension of 16 (or 8) codewords and each step
 * is one FMA with a value of x broadcast straight from memory. (Scaling by -2 is exact, so
 * x * (-2c) is the same float as (-2x) * c.) The kernel is chosen once, at run time, from the
 * CPU's features: the binary stays portable (no -march=native). Ties go to the lowest codeword
 * index in every kernel, so all three agree exactly on the argmin. */
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

/* AVX2 + FMA: 8 codewords per register. Requires K % 8 == 0. */
__attribute__((target("avx2,fma"))) static void nearest_avx2(const float *x, size_t stride,
                                                             uint64_t n, const float *cbt,
                                                             const float *cbnorm, uint32_t ds,
                                                             uint32_t K, uint32_t *out, float *val)
{
    const __m256i step = _mm256_set1_epi32(8);
    for (uint64_t i = 0; i < n; i++) {
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

/* Lowest index among the lanes holding the minimum of best; the minimum into *val if asked. */
__attribute__((target("avx512f"))) static inline uint32_t argmin512(__m512 best, __m512i bidx,
                                                                    float *val)
{
    float m = _mm512_reduce_min_ps(best);
    if (val)
        *val = m;
    __mmask16 eq = _mm512_cmp_ps_mask(best, _mm512_set1_ps(m), _CMP_EQ_OQ);
    __m512i cand = _mm512_mask_mov_epi32(_mm512_set1_epi32(INT32_MAX), eq, bidx);
    return (uint32_t)_mm512_reduce_min_epi32(cand);
}

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
        out[i] = (uint32_t)__builtin_ctz(_mm512_cmp_ps_mask(a0, _mm512_set1_ps(m0), _CMP_EQ_OQ));
        out[i + 1] = (uint32_t)__builtin_ctz(
            _mm512_cmp_ps_mask(a1, _mm512_set1_ps(m1), _CMP_EQ_OQ));
        if (val)
            val[i] = m0, val[i + 1] = m1;
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

/* Each row's value for its codeword idx[i] (pa_value_small). AVX-512: 16 rows at a time, the
 * codeword's values gathered; the same fused steps as the kernels. */
__attribute__((target("avx512f,fma"))) static void
value_avx512(const float *x, size_t stride, uint64_t n, const float *cbt, const float *cbnorm,
             uint32_t ds, uint32_t K, const uint32_t *idx, float *val)
{
    uint64_t i = 0;
    if ((uint64_t)16 * stride <= INT32_MAX) {
        const __m512i rows = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
                                                                  11, 12, 13, 14, 15),
                                                _mm512_set1_epi32((int)stride));
        for (; i + 16 <= n; i += 16) {
            const __m512i a = _mm512_loadu_si512(idx + i);
            const float *v = x + i * stride;
            __m512 acc = _mm512_i32gather_ps(a, cbnorm, 4);
            for (uint32_t j = 0; j < ds; j++)
                acc = _mm512_fmadd_ps(_mm512_i32gather_ps(rows, v + j, 4),
                                      _mm512_i32gather_ps(a, cbt + (size_t)j * K, 4), acc);
            _mm512_storeu_ps(val + i, acc);
        }
    }
    for (; i < n; i++) {
        const float *v = x + i * stride;
        __m128 acc = _mm_set_ss(cbnorm[idx[i]]);
        for (uint32_t j = 0; j < ds; j++)
            acc = _mm_fmadd_ss(_mm_set_ss(v[j]), _mm_set_ss(cbt[(size_t)j * K + idx[i]]), acc);
        val[i] = _mm_cvtss_f32(acc);
    }
}

void pa_value_small(const float *x, size_t stride, uint64_t n, const float *cbt,
                    const float *cbnorm, uint32_t ds, uint32_t K, const uint32_t *idx, float *val)
{
    if (choose() == 2) {
        value_avx512(x, stride, n, cbt, cbnorm, ds, K, idx, val);
        return;
    }
    for (uint64_t i = 0; i < n; i++) {
        float acc = cbnorm[idx[i]];
        for (uint32_t j = 0; j < ds; j++)
            acc = fmaf(x[i * stride + j], cbt[(size_t)j * K + idx[i]], acc);
        val[i] = acc;
    }
}

bool pa_bounded_available(uint32_t K)
{
    /* one or two groups (4-bit codes) leave nothing to skip but the whole row */
    return choose() == 2 && K % 16 == 0 && K / 16 >= 4 && K / 16 <= PA_BOUND_GROUPS;
}

/* lb from a squared-distance lower bound d2: sqrt(d2) rounded down (0 when d2 <= 0). */
static inline float bound_down(double d2)
{
    return d2 > 0 ? (float)(sqrt(d2) * (1 - PA_BOUND_SLACK)) : 0.0f;
}

/* The bounded assignment (see pa_nearest_bounded in ivfpq_internal.h and km_assign_pruned in
 * kmeans.c for why a skipped group cannot hold the winner), a chunk of rows at a time. First,
 * 16 rows at a time: u, the threshold and Hamerly's 2 half_a - u; then per row the groups'
 * lower bounds lowered by their largest move and raised to that, a row none of whose groups can
 * beat u keeping its codeword, the others' open groups becoming work items. Then the items four
 * at a time (independent FMA chains, each the kernels' fused steps for 16 codewords). Then per
 * row its items folded in ascending group order with strict < (lowest index on ties), the old
 * codeword a joining as a candidate with its value f_a; each scanned group's bound then comes
 * from the smallest value in it other than the winner's, 16 items at a time. The bounds'
 * float arithmetic is covered by part of e (kmeans.c) and by BOUND_F, outward. */
#define BOUND_CHUNK 128
#define BOUND_ITEMS (BOUND_CHUNK * PA_BOUND_GROUPS + 32)
#define BOUND_F 1e-5f
__attribute__((target("avx512f"))) static uint64_t
bounded_avx512(const float *x, size_t stride, uint64_t n, const float *cbt, const float *cbnorm,
               uint32_t ds, uint32_t K, const float *xnorm, const float *gmove, const float *half,
               double E, double cmax, bool first, uint32_t *assign, float *val, float *lb)
{
    const uint32_t G = K / 16;
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512 fmax = _mm512_set1_ps(FLT_MAX), zero = _mm512_setzero_ps();
    const __mmask16 gmask = (__mmask16)((1u << G) - 1);
    const __m512 mv = _mm512_maskz_loadu_ps(gmask, gmove);
    const __m512 down = _mm512_set1_ps(1 - BOUND_F), up = _mm512_set1_ps(1 + BOUND_F);
    const __m512 c2 = _mm512_set1_ps((float)(cmax * cmax * (1 + PA_BOUND_SLACK)));
    const __m512 twoE = _mm512_set1_ps((float)(2 * E * (1 + PA_BOUND_SLACK)));
    uint64_t skipped = 0;
    /* per chunk: each row's e, threshold u^2 + 2e, Hamerly bound and open groups; the work
     * items (row in the chunk, group), their 16 values and their bounds' smallest value */
    static _Thread_local float re[BOUND_CHUNK], rthr[BOUND_CHUNK], rhb[BOUND_CHUNK];
    static _Thread_local uint32_t irow[BOUND_ITEMS], igrp[BOUND_ITEMS];
    static _Thread_local float ival[BOUND_ITEMS * 16], imin[BOUND_ITEMS];
    uint32_t ifirst[BOUND_CHUNK + 1];
    __mmask16 ropen[BOUND_CHUNK];
    for (uint64_t c0 = 0; c0 < n; c0 += BOUND_CHUNK) {
        const uint32_t cn = (uint32_t)PA_MIN((uint64_t)BOUND_CHUNK, n - c0);
        for (uint32_t r = 0; r < cn; r += 16) {
            const __mmask16 lm = (__mmask16)(cn - r >= 16 ? 0xFFFF : (1u << (cn - r)) - 1);
            const __m512 xn = _mm512_maskz_loadu_ps(lm, xnorm + c0 + r);
            const __m512 e = _mm512_mul_ps(_mm512_add_ps(xn, c2), twoE);
            _mm512_storeu_ps(re + r, e);
            if (first)
                continue;
            const __m512 fa = _mm512_maskz_loadu_ps(lm, val + c0 + r);
            const __m512 u2 = _mm512_add_ps(_mm512_add_ps(xn, fa), e);
            const __m512 u = _mm512_mul_ps(_mm512_sqrt_ps(_mm512_max_ps(u2, zero)), up);
            const __m512i a = _mm512_maskz_loadu_epi32(lm, assign + c0 + r);
            const __m512 h = _mm512_i32gather_ps(a, half, 4);
            _mm512_storeu_ps(rhb + r, _mm512_mul_ps(_mm512_sub_ps(_mm512_add_ps(h, h), u), down));
            _mm512_storeu_ps(rthr + r,
                             _mm512_mul_ps(_mm512_fmadd_ps(e, _mm512_set1_ps(2), u2), up));
        }
        uint32_t items = 0;
        for (uint32_t r = 0; r < cn; r++) {
            float *lbi = lb + (c0 + r) * G;
            ifirst[r] = items;
            __mmask16 open = gmask;
            if (!first) {
                __m512 L = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(gmask, lbi), mv),
                                         down);
                L = _mm512_max_ps(_mm512_max_ps(L, _mm512_set1_ps(rhb[r])), zero);
                _mm512_mask_storeu_ps(lbi, gmask, L);
                /* open: the groups whose bound does not prove L^2 > u^2 + 2e */
                open = _mm512_mask_cmp_ps_mask(gmask, _mm512_mul_ps(L, L), _mm512_set1_ps(rthr[r]),
                                               _CMP_LE_OQ);
            }
            ropen[r] = open;
            _mm512_storeu_si512(irow + items, _mm512_set1_epi32((int)r));
            _mm512_mask_compressstoreu_epi32(igrp + items, open, iota);
            items += (uint32_t)__builtin_popcount(open);
        }
        ifirst[cn] = items;
        for (uint32_t t = items; t < (items + 3) / 4 * 4; t++) /* pad to four: a copy */
            irow[t] = irow[0], igrp[t] = igrp[0];
        for (uint32_t t = 0; t < items; t += 4) {
            const float *v0 = x + (c0 + irow[t]) * stride, *v1 = x + (c0 + irow[t + 1]) * stride;
            const float *v2 = x + (c0 + irow[t + 2]) * stride,
                        *v3 = x + (c0 + irow[t + 3]) * stride;
            const uint32_t g0 = igrp[t] * 16u, g1 = igrp[t + 1] * 16u, g2 = igrp[t + 2] * 16u,
                           g3 = igrp[t + 3] * 16u;
            __m512 a0 = _mm512_loadu_ps(cbnorm + g0), a1 = _mm512_loadu_ps(cbnorm + g1);
            __m512 a2 = _mm512_loadu_ps(cbnorm + g2), a3 = _mm512_loadu_ps(cbnorm + g3);
            for (uint32_t j = 0; j < ds; j++) {
                const float *cj = cbt + (size_t)j * K;
                a0 = _mm512_fmadd_ps(_mm512_set1_ps(v0[j]), _mm512_loadu_ps(cj + g0), a0);
                a1 = _mm512_fmadd_ps(_mm512_set1_ps(v1[j]), _mm512_loadu_ps(cj + g1), a1);
                a2 = _mm512_fmadd_ps(_mm512_set1_ps(v2[j]), _mm512_loadu_ps(cj + g2), a2);
                a3 = _mm512_fmadd_ps(_mm512_set1_ps(v3[j]), _mm512_loadu_ps(cj + g3), a3);
            }
            _mm512_storeu_ps(ival + (size_t)t * 16, a0);
            _mm512_storeu_ps(ival + (size_t)(t + 1) * 16, a1);
            _mm512_storeu_ps(ival + (size_t)(t + 2) * 16, a2);
            _mm512_storeu_ps(ival + (size_t)(t + 3) * 16, a3);
        }
        for (uint32_t r = 0; r < cn; r++) {
            if (ifirst[r] == ifirst[r + 1]) {
                skipped++; /* proven: keeps its codeword and value */
                continue;
            }
            const uint64_t i = c0 + r;
            const uint32_t a = first ? UINT32_MAX : assign[i];
            const float fa = first ? FLT_MAX : val[i];
            __m512 b = fmax;
            __m512i bi = _mm512_setzero_si512();
            for (uint32_t t = ifirst[r]; t < ifirst[r + 1]; t++) {
                const __m512 v = _mm512_loadu_ps(ival + (size_t)t * 16);
                const __mmask16 lt = _mm512_cmp_ps_mask(v, b, _CMP_LT_OQ);
                b = _mm512_mask_mov_ps(b, lt, v);
                bi = _mm512_mask_mov_epi32(bi, lt,
                                           _mm512_add_epi32(iota,
                                                            _mm512_set1_epi32((int)igrp[t] * 16)));
            }
            float m = _mm512_reduce_min_ps(b);
            __mmask16 eq = _mm512_cmp_ps_mask(b, _mm512_set1_ps(m), _CMP_EQ_OQ);
            uint32_t w = (uint32_t)_mm512_reduce_min_epi32(
                _mm512_mask_mov_epi32(_mm512_set1_epi32(INT32_MAX), eq, bi));
            if (fa < m || (fa == m && a < w)) /* the old codeword (its group may be unscanned) */
                m = fa, w = a;
            /* each scanned group's smallest value but the winner's */
            for (uint32_t t = ifirst[r]; t < ifirst[r + 1]; t++) {
                const __mmask16 me = w / 16 == igrp[t] ? (__mmask16)(1u << (w % 16)) : 0;
                imin[t] = _mm512_reduce_min_ps(
                    _mm512_mask_mov_ps(_mm512_loadu_ps(ival + (size_t)t * 16), me, fmax));
            }
            /* an unscanned group keeps L, and takes in the old codeword if it lost */
            if (!first && w != a && !(ropen[r] >> (a / 16) & 1)) {
                float *lba = lb + i * G + a / 16;
                *lba = PA_MIN(*lba, bound_down((double)xnorm[i] + fa - re[r]));
            }
            assign[i] = w;
            val[i] = m;
        }
        /* the scanned groups' bounds: sqrt(||x||^2 + smallest - e), rounded down */
        for (uint32_t t = 0; t < items; t += 16) {
            const __mmask16 lm = (__mmask16)(items - t >= 16 ? 0xFFFF : (1u << (items - t)) - 1);
            const __m512i rr = _mm512_maskz_loadu_epi32(lm, irow + t);
            const __m512 xn = _mm512_mask_i32gather_ps(
                zero, lm, _mm512_add_epi32(rr, _mm512_set1_epi32((int)c0)), xnorm, 4);
            const __m512 e = _mm512_mask_i32gather_ps(zero, lm, rr, re, 4);
            const __m512 d2 = _mm512_sub_ps(_mm512_add_ps(xn, _mm512_maskz_loadu_ps(lm, imin + t)),
                                            e);
            float out[16];
            _mm512_storeu_ps(out, _mm512_mul_ps(_mm512_sqrt_ps(_mm512_max_ps(d2, zero)), down));
            for (uint32_t q = 0; q < 16 && t + q < items; q++)
                lb[(c0 + irow[t + q]) * G + igrp[t + q]] = out[q];
        }
    }
    return skipped;
}

uint64_t pa_nearest_bounded(const float *x, size_t stride, uint64_t n, const float *cbt,
                            const float *cbnorm, uint32_t ds, uint32_t K, const float *xnorm,
                            const float *gmove, const float *half, double E, double cmax,
                            bool first, uint32_t *assign, float *val, float *lb)
{
    return bounded_avx512(x, stride, n, cbt, cbnorm, ds, K, xnorm, gmove, half, E, cmax, first,
                          assign, val, lb);
}

/* s[d] += x[d] in double precision: the k-means update's inner loop. Each element is converted
 * and added on its own, so every version gives the same sums. */
static void add_f64_scalar(double *s, const float *x, uint32_t dim)
{
    for (uint32_t d = 0; d < dim; d++)
        s[d] += x[d];
}

__attribute__((target("avx2"))) static void add_f64_avx2(double *s, const float *x, uint32_t dim)
{
    uint32_t d = 0;
    for (; d + 4 <= dim; d += 4)
        _mm256_storeu_pd(s + d, _mm256_add_pd(_mm256_loadu_pd(s + d),
                                              _mm256_cvtps_pd(_mm_loadu_ps(x + d))));
    add_f64_scalar(s + d, x + d, dim - d);
}

__attribute__((target("avx512f"))) static void add_f64_avx512(double *s, const float *x,
                                                              uint32_t dim)
{
    uint32_t d = 0;
    for (; d + 8 <= dim; d += 8)
        _mm512_storeu_pd(s + d, _mm512_add_pd(_mm512_loadu_pd(s + d),
                                              _mm512_cvtps_pd(_mm256_loadu_ps(x + d))));
    add_f64_scalar(s + d, x + d, dim - d);
}

void pa_add_f64(double *s, const float *x, uint32_t dim)
{
    static void (*const fns[])(double *, const float *, uint32_t) = {add_f64_scalar, add_f64_avx2,
                                                                     add_f64_avx512};
    fns[choose()](s, x, dim);
}
