/* Nearest-codeword kernels for PQ sub-spaces.
 *
 * A sub-vector has few dimensions (dim / M, typically 4-16) and a codebook 256 codewords, so
 * sgemm would spend its time writing a 256-wide distance row per sub-vector. Instead each
 * kernel keeps one SIMD register of codewords (16 with AVX-512, 8 with AVX2) and accumulates
 * ||c||^2 - 2 x.c over the sub-vector's dimensions with fused multiply-adds, tracking the
 * running minimum and its index per lane; the codebook is stored transposed (dimension-major)
 * so each load brings one dimension of 16 (or 8) codewords. The kernel is chosen once, at run
 * time, from the CPU's features: the binary stays portable (no -march=native). Ties go to the
 * lowest codeword index in every kernel, so all three agree exactly on the argmin. */
#include "ivfpq/ivfpq_internal.h"

#include <float.h>
#include <math.h>
#include <immintrin.h>
#include <stdatomic.h>

/* Portable version: one codeword at a time. */
static void nearest_scalar(const float *x, size_t stride, uint64_t n, const float *cbt,
                           const float *cbnorm, uint32_t ds, uint32_t K, uint32_t *out)
{
    for (uint64_t i = 0; i < n; i++) {
        const float *v = x + i * stride;
        float best = FLT_MAX;
        uint32_t bi = 0;
        for (uint32_t k = 0; k < K; k++) {
            float acc = cbnorm[k];
            for (uint32_t j = 0; j < ds; j++) /* the same fused steps as the SIMD kernels */
                acc = fmaf(-2.0f * v[j], cbt[(size_t)j * K + k], acc);
            if (acc < best) {
                best = acc;
                bi = k;
            }
        }
        out[i] = bi;
    }
}

/* AVX2 + FMA: 8 codewords per register. Requires K % 8 == 0. */
__attribute__((target("avx2,fma"))) static void
nearest_avx2(const float *x, size_t stride, uint64_t n, const float *cbt, const float *cbnorm,
             uint32_t ds, uint32_t K, uint32_t *out)
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
                acc = _mm256_fmadd_ps(_mm256_set1_ps(-2.0f * v[j]),
                                      _mm256_loadu_ps(cbt + (size_t)j * K + k), acc);
            __m256 lt = _mm256_cmp_ps(acc, best, _CMP_LT_OQ);
            best = _mm256_blendv_ps(best, acc, lt);
            bidx = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(bidx),
                                                        _mm256_castsi256_ps(idx), lt));
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
    }
}

/* Lowest index among the lanes holding the minimum of best. */
__attribute__((target("avx512f"))) static inline uint32_t argmin512(__m512 best, __m512i bidx)
{
    float m = _mm512_reduce_min_ps(best);
    __mmask16 eq = _mm512_cmp_ps_mask(best, _mm512_set1_ps(m), _CMP_EQ_OQ);
    __m512i cand = _mm512_mask_mov_epi32(_mm512_set1_epi32(INT32_MAX), eq, bidx);
    return (uint32_t)_mm512_reduce_min_epi32(cand);
}

/* AVX-512: 16 codewords per register. Requires K % 16 == 0. Four sub-vectors go through the
 * codebook together: each codebook load feeds four independent FMA chains. */
__attribute__((target("avx512f"))) static void
nearest_avx512(const float *x, size_t stride, uint64_t n, const float *cbt, const float *cbnorm,
               uint32_t ds, uint32_t K, uint32_t *out)
{
    const __m512i step = _mm512_set1_epi32(16);
    uint64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float *v0 = x + i * stride, *v1 = v0 + stride, *v2 = v1 + stride, *v3 = v2 + stride;
        __m512 b0 = _mm512_set1_ps(FLT_MAX), b1 = b0, b2 = b0, b3 = b0;
        __m512i i0 = _mm512_setzero_si512(), i1 = i0, i2 = i0, i3 = i0;
        __m512i idx = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        for (uint32_t k = 0; k < K; k += 16) {
            __m512 nrm = _mm512_loadu_ps(cbnorm + k);
            __m512 a0 = nrm, a1 = nrm, a2 = nrm, a3 = nrm;
            for (uint32_t j = 0; j < ds; j++) {
                __m512 c = _mm512_loadu_ps(cbt + (size_t)j * K + k);
                a0 = _mm512_fmadd_ps(_mm512_set1_ps(-2.0f * v0[j]), c, a0);
                a1 = _mm512_fmadd_ps(_mm512_set1_ps(-2.0f * v1[j]), c, a1);
                a2 = _mm512_fmadd_ps(_mm512_set1_ps(-2.0f * v2[j]), c, a2);
                a3 = _mm512_fmadd_ps(_mm512_set1_ps(-2.0f * v3[j]), c, a3);
            }
            __mmask16 l0 = _mm512_cmp_ps_mask(a0, b0, _CMP_LT_OQ);
            __mmask16 l1 = _mm512_cmp_ps_mask(a1, b1, _CMP_LT_OQ);
            __mmask16 l2 = _mm512_cmp_ps_mask(a2, b2, _CMP_LT_OQ);
            __mmask16 l3 = _mm512_cmp_ps_mask(a3, b3, _CMP_LT_OQ);
            b0 = _mm512_mask_mov_ps(b0, l0, a0), i0 = _mm512_mask_mov_epi32(i0, l0, idx);
            b1 = _mm512_mask_mov_ps(b1, l1, a1), i1 = _mm512_mask_mov_epi32(i1, l1, idx);
            b2 = _mm512_mask_mov_ps(b2, l2, a2), i2 = _mm512_mask_mov_epi32(i2, l2, idx);
            b3 = _mm512_mask_mov_ps(b3, l3, a3), i3 = _mm512_mask_mov_epi32(i3, l3, idx);
            idx = _mm512_add_epi32(idx, step);
        }
        out[i] = argmin512(b0, i0);
        out[i + 1] = argmin512(b1, i1);
        out[i + 2] = argmin512(b2, i2);
        out[i + 3] = argmin512(b3, i3);
    }
    for (; i < n; i++) {
        const float *v = x + i * stride;
        __m512 best = _mm512_set1_ps(FLT_MAX);
        __m512i bidx = _mm512_setzero_si512();
        __m512i idx = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        for (uint32_t k = 0; k < K; k += 16) {
            __m512 acc = _mm512_loadu_ps(cbnorm + k);
            for (uint32_t j = 0; j < ds; j++)
                acc = _mm512_fmadd_ps(_mm512_set1_ps(-2.0f * v[j]),
                                      _mm512_loadu_ps(cbt + (size_t)j * K + k), acc);
            __mmask16 lt = _mm512_cmp_ps_mask(acc, best, _CMP_LT_OQ);
            best = _mm512_mask_mov_ps(best, lt, acc);
            bidx = _mm512_mask_mov_epi32(bidx, lt, idx);
            idx = _mm512_add_epi32(idx, step);
        }
        out[i] = argmin512(best, bidx);
    }
}

typedef void (*nearest_fn)(const float *, size_t, uint64_t, const float *, const float *,
                           uint32_t, uint32_t, uint32_t *);

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

const char *pa_kernel_name(void)
{
    static const char *names[] = {"scalar", "avx2", "avx512"};
    return names[choose()];
}

void pa_nearest_small(const float *x, size_t stride, uint64_t n, const float *cbt,
                      const float *cbnorm, uint32_t ds, uint32_t K, uint32_t *out)
{
    int c = choose();
    if (c == 2 && K % 16 == 0)
        nearest_avx512(x, stride, n, cbt, cbnorm, ds, K, out);
    else if (c >= 1 && K % 8 == 0)
        nearest_avx2(x, stride, n, cbt, cbnorm, ds, K, out);
    else
        nearest_scalar(x, stride, n, cbt, cbnorm, ds, K, out);
}
