/* Small SIMD helpers shared by the kernels that are compiled for a target at run time (each
 * function carries its own target attribute, so including this header needs no -m flag). */
#ifndef PA_COMMON_SIMD_H
#define PA_COMMON_SIMD_H

#include <immintrin.h>

/* The smallest of 8 lanes (none NaN). */
__attribute__((target("avx2"))) static inline float pa_hmin256(__m256 v)
{
    __m128 m = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_min_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_min_ss(m, _mm_shuffle_ps(m, m, 1)));
}

/* The largest of 8 lanes (none NaN). */
__attribute__((target("avx2"))) static inline float pa_hmax256(__m256 v)
{
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_max_ss(m, _mm_shuffle_ps(m, m, 1)));
}

#endif
