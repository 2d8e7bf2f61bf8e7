/* Search refine: exact distances to the candidates' original vectors (see refine.h). */
#include "index/refine.h"
#include "io/io_internal.h"
#include "ivfpq/ivfpq_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define PA_REFINE_X86 1
#endif

/* The rows' memory: the first ROW_FIRST_BYTES of every candidate's record are asked for at
 * once (rows_in_place) before any is waited for, then the kernel asks for each row's values
 * ROW_AHEAD floats ahead of those it loads, one line per row every 16 dimensions. Asking for
 * every line of every row up front (3 KiB a row at 784 dimensions) stalled on the cache's
 * outstanding misses before any sum began; streamed, the fetches overlap the sums (Fashion-MNIST
 * refine R=2 at nprobes 1: about 1.25x the QPS). */
#define ROW_FIRST_BYTES 256
#define ROW_AHEAD 64

/* Bytes per candidate of each buffer, in the order of the one allocation: the 8-byte ones
 * first, then the floats (vecs last, dim of them). */
static uint64_t per_candidate_bytes(uint32_t dim)
{
    return sizeof(pa_topk_cand) + sizeof(const float *) + sizeof(uint64_t) + sizeof(double) +
           sizeof(float) + sizeof(float) * (uint64_t)dim;
}

uint64_t pa_refine_scratch_bytes(uint32_t cap, uint32_t dim)
{
    return (uint64_t)PA_MAX(cap, 1) * per_candidate_bytes(dim);
}

pa_status pa_refine_scratch_init(pa_refine_scratch *s, uint32_t cap, uint32_t dim)
{
    memset(s, 0, sizeof *s);
    s->cap = cap, s->dim = dim;
    const uint64_t bytes = pa_refine_scratch_bytes(cap, dim);
    uint8_t *b = bytes <= SIZE_MAX ? malloc((size_t)bytes) : NULL;
    if (!b)
        return pa_fail(PA_ERR_NOMEM,
                       "out of memory for the refine's vectors (%u of dimension %u, %" PRIu64
                       " bytes)",
                       cap, dim, bytes);
    const size_t c = PA_MAX(cap, 1);
    s->best = (pa_topk_cand *)(void *)b; /* each array aligned for its type: 16, 8, 8, 8, 4 */
    s->rows = (const float **)(void *)(b += sizeof(pa_topk_cand) * c);
    s->ids = (uint64_t *)(void *)(b += sizeof(const float *) * c);
    s->sq = (double *)(void *)(b += sizeof(uint64_t) * c);
    s->dist = (float *)(void *)(b += sizeof(double) * c);
    s->vecs = (float *)(void *)(b + sizeof(float) * c);
    return PA_OK;
}

void pa_refine_scratch_free(pa_refine_scratch *s)
{
    free(s->best); /* the one allocation */
    memset(s, 0, sizeof *s);
}

/* The portable kernel: each row's sums in order, as refine.h states them. */
static void kernel_scalar(pa_metric metric, const float *q, uint32_t dim, const float *const *rows,
                          uint32_t n, float *dist, double *sq)
{
    for (uint32_t j = 0; j < n; j++) {
        const float *v = rows[j];
        sq[j] = pa_sq_norm(v, dim);
        if (metric == PA_METRIC_DOT) {
            dist[j] = -pa_dotf(q, v, dim);
        } else if (metric == PA_METRIC_COSINE) { /* pa_normalize's scaling, then pa_l2sq */
            const float inv = (float)(sq[j] > 0 ? 1.0 / sqrt(sq[j]) : 1.0);
            float s = 0;
            for (uint32_t i = 0; i < dim; i++) {
                const float d = q[i] - v[i] * inv;
                s += d * d;
            }
            dist[j] = s;
        } else {
            dist[j] = pa_l2sq(q, v, dim);
        }
    }
}

#ifdef PA_REFINE_X86
/* What a pass over 16 rows sums per lane: the squared norm (double) with the l2 or dot sum, or
 * (cosine) the norm alone, then the l2 sum of the rows scaled by their inverse norms; or
 * (pa_self_dots) the float sum of the row's squares alone. */
enum { PASS_L2, PASS_DOT, PASS_NORM, PASS_SCALED, PASS_SELF };

/* Dimension i of 16 rows (v0: rows 0-7, v1: 8-15; two false: rows 0-7 alone) into the pass's
 * sums: the float sums *x0, *x1 (mode's), the squared norms *n0, *n1 (PASS_SCALED: none). Each
 * operation is the scalar loop's, on 8 lanes: a float subtraction, multiplication and addition
 * each rounded as there; the norm's product of two floats is exact in double, so the fused
 * multiply-add rounds once, as the scalar product-then-sum does. */
__attribute__((target("avx512f"), always_inline)) static inline void
step_avx512(int mode, bool two, float qf, __m256 v0, __m256 v1, __m256 inv0, __m256 inv1,
            __m256 *x0, __m256 *x1, __m512d *n0, __m512d *n1)
{
    const __m256 qi = _mm256_set1_ps(qf);
    for (int h = 0; h < (two ? 2 : 1); h++) {
        const __m256 v = h ? v1 : v0, inv = h ? inv1 : inv0;
        __m256 *x = h ? x1 : x0;
        __m512d *n = h ? n1 : n0;
        if (mode == PASS_SELF) {
            *x = _mm256_add_ps(*x, _mm256_mul_ps(v, v));
            continue;
        }
        if (mode != PASS_SCALED) {
            const __m512d w = _mm512_cvtps_pd(v);
            *n = _mm512_fmadd_pd(w, w, *n);
        }
        if (mode == PASS_L2) {
            const __m256 d = _mm256_sub_ps(qi, v);
            *x = _mm256_add_ps(*x, _mm256_mul_ps(d, d));
        } else if (mode == PASS_DOT) {
            *x = _mm256_add_ps(*x, _mm256_mul_ps(qi, v));
        } else if (mode == PASS_SCALED) {
            const __m256 d = _mm256_sub_ps(qi, _mm256_mul_ps(v, inv));
            *x = _mm256_add_ps(*x, _mm256_mul_ps(d, d));
        }
    }
}

/* Dimensions i..i+7 of 8 rows (r[l] + i) turned so that t[j] holds dimension i + j of row l
 * in lane l: eight loads and 24 shuffles, where gathering the same lanes takes eight gathers
 * (AVX alone: both kernels inline it). */
__attribute__((target("avx2"), always_inline)) static inline void load_8x8(const float *const *r,
                                                                           uint32_t i, __m256 t[8])
{
    __m256 a[8], b[8];
#pragma GCC unroll 4
    for (int l = 0; l < 8; l += 2) {
        const __m256 x = _mm256_loadu_ps(r[l] + i), y = _mm256_loadu_ps(r[l + 1] + i);
        a[l] = _mm256_unpacklo_ps(x, y), a[l + 1] = _mm256_unpackhi_ps(x, y);
    }
#pragma GCC unroll 2
    for (int h = 0; h < 8; h += 4) { /* rows h..h+3: dims (0|4), (1|5), (2|6), (3|7) */
        b[h] = _mm256_shuffle_ps(a[h], a[h + 2], 0x44);
        b[h + 1] = _mm256_shuffle_ps(a[h], a[h + 2], 0xEE);
        b[h + 2] = _mm256_shuffle_ps(a[h + 1], a[h + 3], 0x44);
        b[h + 3] = _mm256_shuffle_ps(a[h + 1], a[h + 3], 0xEE);
    }
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        t[j] = _mm256_permute2f128_ps(b[j], b[j + 4], 0x20);
        t[j + 4] = _mm256_permute2f128_ps(b[j], b[j + 4], 0x31);
    }
}

/* One pass over dimension 0..dim of the 16 rows r (two false: the first 8): the float sums
 * into *f0, *f1 (mode's), the squared norms into *s0, *s1 (PASS_SCALED: none), each
 * dimension's step in order. Eight dimensions at a time are loaded along the rows and turned
 * (load_8x8); the last dim % 8 are gathered. */
__attribute__((target("avx512f"), always_inline)) static inline void
pass_avx512(int mode, bool two, const float *q, uint32_t dim, const float *const *r, __m256 inv0,
            __m256 inv1, __m256 *f0, __m256 *f1, __m512d *s0, __m512d *s1)
{
    __m256 x0 = _mm256_setzero_ps(), x1 = _mm256_setzero_ps();
    __m512d n0 = _mm512_setzero_pd(), n1 = _mm512_setzero_pd();
    uint32_t i = 0;
    for (; i + 8 <= dim; i += 8) {
        __m256 t0[8], t1[8];
        if (i % 16 == 0 && i + ROW_AHEAD < dim)
            for (int l = 0; l < (two ? 16 : 8); l++)
                __builtin_prefetch(r[l] + i + ROW_AHEAD);
        load_8x8(r, i, t0);
        if (two)
            load_8x8(r + 8, i, t1);
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++)
            step_avx512(mode, two, q ? q[i + (uint32_t)j] : 0, t0[j], two ? t1[j] : t0[j], inv0,
                        inv1, &x0, &x1, &n0, &n1);
    }
    if (i < dim) {
        uint64_t ad[PA_REFINE_LANES];
        for (uint32_t t = 0; t < PA_REFINE_LANES; t++)
            ad[t] = (uint64_t)(uintptr_t)(r[t] + i);
        const __m512i step = _mm512_set1_epi64(sizeof(float));
        __m512i a0 = _mm512_loadu_si512(ad), a1 = _mm512_loadu_si512(ad + 8);
        for (; i < dim; i++) {
            const __m256 v0 = _mm512_i64gather_ps(a0, NULL, 1);
            const __m256 v1 = _mm512_i64gather_ps(a1, NULL, 1);
            a0 = _mm512_add_epi64(a0, step), a1 = _mm512_add_epi64(a1, step);
            step_avx512(mode, two, q ? q[i] : 0, v0, v1, inv0, inv1, &x0, &x1, &n0, &n1);
        }
    }
    *f0 = x0, *f1 = x1, *s0 = n0, *s1 = n1;
}

/* One group of up to 16 rows (two false: up to 8) through the metric's passes. */
__attribute__((target("avx512f"), always_inline)) static inline void
group_avx512(pa_metric metric, bool two, const float *q, uint32_t dim, const float *const *r,
             __m256 *f0, __m256 *f1, __m512d *s0, __m512d *s1)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    __m512d unused0, unused1;
    if (metric == PA_METRIC_DOT)
        pass_avx512(PASS_DOT, two, q, dim, r, one, one, f0, f1, s0, s1);
    else if (metric == PA_METRIC_L2)
        pass_avx512(PASS_L2, two, q, dim, r, one, one, f0, f1, s0, s1);
    else {
        pass_avx512(PASS_NORM, two, q, dim, r, one, one, f0, f1, s0, s1);
        /* pa_normalize's factor: (float)(1 / sqrt(s)), or 1 where s is not above 0 */
        const __m512d z = _mm512_setzero_pd(), o = _mm512_set1_pd(1.0);
        const __m512d i0 = _mm512_mask_div_pd(o, _mm512_cmp_pd_mask(*s0, z, _CMP_GT_OQ), o,
                                              _mm512_sqrt_pd(*s0));
        const __m512d i1 = _mm512_mask_div_pd(o, _mm512_cmp_pd_mask(*s1, z, _CMP_GT_OQ), o,
                                              _mm512_sqrt_pd(*s1));
        pass_avx512(PASS_SCALED, two, q, dim, r, _mm512_cvtpd_ps(i0), _mm512_cvtpd_ps(i1), f0, f1,
                    &unused0, &unused1);
    }
}

/* Up to 16 rows r (m of them; the lanes past m repeat the first row), a group of at most 8 as
 * 8: their distances into fd, their squared norms into sd (16 each). */
__attribute__((target("avx512f"))) static void rows16_avx512(pa_metric metric, const float *q,
                                                             uint32_t dim, const float *const *r,
                                                             uint32_t m, float *fd, double *sd)
{
    __m256 f0, f1 = _mm256_setzero_ps();
    __m512d s0, s1 = _mm512_setzero_pd();
    if (m > 8)
        group_avx512(metric, true, q, dim, r, &f0, &f1, &s0, &s1);
    else
        group_avx512(metric, false, q, dim, r, &f0, &f1, &s0, &s1);
    _mm256_storeu_ps(fd, f0), _mm256_storeu_ps(fd + 8, f1);
    _mm512_storeu_pd(sd, s0), _mm512_storeu_pd(sd + 8, s1);
}
#endif

#ifdef PA_REFINE_X86
/* The AVX2 kernel: as the AVX-512 one, 16 rows a pass in two 8-lane registers of floats, the
 * squared norms of each 8 in two registers of 4 doubles (AVX2 converts 4 floats at a time),
 * the last dim % 8 dimensions set lane by lane instead of gathered. Every step is the scalar
 * loop's operation, rounded as there (see step_avx512). */
__attribute__((target("avx2,fma"), always_inline)) static inline void
norm_step_avx2(__m256 v, __m256d *lo, __m256d *hi)
{
    const __m256d a = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
    const __m256d b = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
    *lo = _mm256_fmadd_pd(a, a, *lo), *hi = _mm256_fmadd_pd(b, b, *hi);
}

__attribute__((target("avx2,fma"), always_inline)) static inline void
step_avx2(int mode, bool two, float qf, __m256 v0, __m256 v1, __m256 inv0, __m256 inv1, __m256 *x0,
          __m256 *x1, __m256d n0[2], __m256d n1[2])
{
    const __m256 qi = _mm256_set1_ps(qf);
    for (int h = 0; h < (two ? 2 : 1); h++) {
        const __m256 v = h ? v1 : v0, inv = h ? inv1 : inv0;
        __m256 *x = h ? x1 : x0;
        __m256d *n = h ? n1 : n0;
        if (mode == PASS_SELF) {
            *x = _mm256_add_ps(*x, _mm256_mul_ps(v, v));
            continue;
        }
        if (mode != PASS_SCALED)
            norm_step_avx2(v, &n[0], &n[1]);
        if (mode == PASS_L2) {
            const __m256 d = _mm256_sub_ps(qi, v);
            *x = _mm256_add_ps(*x, _mm256_mul_ps(d, d));
        } else if (mode == PASS_DOT) {
            *x = _mm256_add_ps(*x, _mm256_mul_ps(qi, v));
        } else if (mode == PASS_SCALED) {
            const __m256 d = _mm256_sub_ps(qi, _mm256_mul_ps(v, inv));
            *x = _mm256_add_ps(*x, _mm256_mul_ps(d, d));
        }
    }
}

/* Dimension i of 8 rows r[0..8) in lane order (the tail past the last multiple of 8). */
__attribute__((target("avx2"), always_inline)) static inline __m256
column_avx2(const float *const *r, uint32_t i)
{
    return _mm256_setr_ps(r[0][i], r[1][i], r[2][i], r[3][i], r[4][i], r[5][i], r[6][i], r[7][i]);
}

/* pass_avx512's pass over the 16 rows r (two false: the first 8). */
__attribute__((target("avx2,fma"), always_inline)) static inline void
pass_avx2(int mode, bool two, const float *q, uint32_t dim, const float *const *r, __m256 inv0,
          __m256 inv1, __m256 *f0, __m256 *f1, __m256d s0[2], __m256d s1[2])
{
    __m256 x0 = _mm256_setzero_ps(), x1 = _mm256_setzero_ps();
    __m256d n0[2] = {_mm256_setzero_pd(), _mm256_setzero_pd()}, n1[2] = {n0[0], n0[0]};
    uint32_t i = 0;
    for (; i + 8 <= dim; i += 8) {
        __m256 t0[8], t1[8];
        if (i % 16 == 0 && i + ROW_AHEAD < dim)
            for (int l = 0; l < (two ? 16 : 8); l++)
                __builtin_prefetch(r[l] + i + ROW_AHEAD);
        load_8x8(r, i, t0);
        if (two)
            load_8x8(r + 8, i, t1);
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++)
            step_avx2(mode, two, q ? q[i + (uint32_t)j] : 0, t0[j], two ? t1[j] : t0[j], inv0, inv1,
                      &x0, &x1, n0, n1);
    }
    for (; i < dim; i++) {
        const __m256 v0 = column_avx2(r, i), v1 = two ? column_avx2(r + 8, i) : v0;
        step_avx2(mode, two, q ? q[i] : 0, v0, v1, inv0, inv1, &x0, &x1, n0, n1);
    }
    *f0 = x0, *f1 = x1;
    s0[0] = n0[0], s0[1] = n0[1], s1[0] = n1[0], s1[1] = n1[1];
}

/* pa_normalize's factors of 8 rows from their squared norms s (two halves of 4):
 * (float)(1 / sqrt(s)), or 1 where s is not above 0. */
__attribute__((target("avx2"), always_inline)) static inline __m256
inv_norms_avx2(const __m256d s[2])
{
    const __m256d z = _mm256_setzero_pd(), o = _mm256_set1_pd(1.0);
    __m128 h[2];
    for (int t = 0; t < 2; t++)
        h[t] = _mm256_cvtpd_ps(_mm256_blendv_pd(o, _mm256_div_pd(o, _mm256_sqrt_pd(s[t])),
                                                _mm256_cmp_pd(s[t], z, _CMP_GT_OQ)));
    return _mm256_set_m128(h[1], h[0]);
}

/* group_avx512's passes for up to 16 rows (two false: up to 8). */
__attribute__((target("avx2,fma"), always_inline)) static inline void
group_avx2(pa_metric metric, bool two, const float *q, uint32_t dim, const float *const *r,
           __m256 *f0, __m256 *f1, __m256d s0[2], __m256d s1[2])
{
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256d unused0[2], unused1[2];
    if (metric == PA_METRIC_DOT)
        pass_avx2(PASS_DOT, two, q, dim, r, one, one, f0, f1, s0, s1);
    else if (metric == PA_METRIC_L2)
        pass_avx2(PASS_L2, two, q, dim, r, one, one, f0, f1, s0, s1);
    else {
        pass_avx2(PASS_NORM, two, q, dim, r, one, one, f0, f1, s0, s1);
        pass_avx2(PASS_SCALED, two, q, dim, r, inv_norms_avx2(s0), inv_norms_avx2(s1), f0, f1,
                  unused0, unused1);
    }
}

/* rows16_avx512 on the AVX2 passes. */
__attribute__((target("avx2,fma"))) static void rows16_avx2(pa_metric metric, const float *q,
                                                            uint32_t dim, const float *const *r,
                                                            uint32_t m, float *fd, double *sd)
{
    __m256 f0, f1 = _mm256_setzero_ps();
    __m256d s0[2], s1[2] = {_mm256_setzero_pd(), _mm256_setzero_pd()};
    if (m > 8)
        group_avx2(metric, true, q, dim, r, &f0, &f1, s0, s1);
    else
        group_avx2(metric, false, q, dim, r, &f0, &f1, s0, s1);
    _mm256_storeu_ps(fd, f0), _mm256_storeu_ps(fd + 8, f1);
    _mm256_storeu_pd(sd, s0[0]), _mm256_storeu_pd(sd + 4, s0[1]);
    _mm256_storeu_pd(sd + 8, s1[0]), _mm256_storeu_pd(sd + 12, s1[1]);
}

/* The 16 rows r's sums of squares (pa_self_dots) into fd, on the AVX2 passes. */
__attribute__((target("avx2,fma"))) static void squares16_avx2(const float *const *r, uint32_t dim,
                                                               float *fd)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 f0, f1;
    __m256d unused0[2], unused1[2];
    pass_avx2(PASS_SELF, true, NULL, dim, r, one, one, &f0, &f1, unused0, unused1);
    _mm256_storeu_ps(fd, f0), _mm256_storeu_ps(fd + 8, f1);
}
#endif

#ifdef PA_REFINE_X86
/* squares16_avx2 on the AVX-512 passes. */
__attribute__((target("avx512f"))) static void squares16_avx512(const float *const *r, uint32_t dim,
                                                                float *fd)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 f0, f1;
    __m512d unused0, unused1;
    pass_avx512(PASS_SELF, true, NULL, dim, r, one, one, &f0, &f1, &unused0, &unused1);
    _mm256_storeu_ps(fd, f0), _mm256_storeu_ps(fd + 8, f1);
}

/* A SIMD level's 16-row steps: the refine kernel's and pa_self_dots'. */
typedef void (*rows16_fn)(pa_metric metric, const float *q, uint32_t dim, const float *const *r,
                          uint32_t m, float *fd, double *sd);
typedef void (*squares16_fn)(const float *const *r, uint32_t dim, float *fd);

/* The rows 16 at a time, one per lane (the lanes past n repeat the group's first row). */
static void kernel_simd(rows16_fn fn, pa_metric metric, const float *q, uint32_t dim,
                        const float *const *rows, uint32_t n, float *dist, double *sq)
{
    for (uint32_t j0 = 0; j0 < n; j0 += PA_REFINE_LANES) {
        const uint32_t m = PA_MIN(n - j0, PA_REFINE_LANES);
        const float *r[PA_REFINE_LANES];
        for (uint32_t t = 0; t < PA_REFINE_LANES; t++)
            r[t] = rows[j0 + (t < m ? t : 0)];
        float fd[PA_REFINE_LANES];
        double sd[PA_REFINE_LANES];
        fn(metric, q, dim, r, m, fd, sd);
        for (uint32_t t = 0; t < m; t++) {
            dist[j0 + t] = metric == PA_METRIC_DOT ? -fd[t] : fd[t];
            sq[j0 + t] = sd[t];
        }
    }
}

static void self_dots_simd(squares16_fn fn, const float *x, uint64_t n, uint32_t dim, float *out)
{
    for (uint64_t j0 = 0; j0 < n; j0 += PA_REFINE_LANES) {
        const uint32_t m = (uint32_t)PA_MIN(n - j0, PA_REFINE_LANES);
        const float *r[PA_REFINE_LANES];
        for (uint32_t t = 0; t < PA_REFINE_LANES; t++)
            r[t] = x + (j0 + (t < m ? t : 0)) * dim;
        float fd[PA_REFINE_LANES];
        fn(r, dim, fd);
        memcpy(out + j0, fd, sizeof(float) * m);
    }
}
#endif

void pa_self_dots(int level, const float *x, uint64_t n, uint32_t dim, float *out)
{
#ifdef PA_REFINE_X86
    if (level >= 2 && __builtin_cpu_supports("avx512f")) {
        self_dots_simd(squares16_avx512, x, n, dim, out);
        return;
    }
    if (level >= 1 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        self_dots_simd(squares16_avx2, x, n, dim, out);
        return;
    }
#endif
    for (uint64_t i = 0; i < n; i++)
        out[i] = pa_dotf(x + i * dim, x + i * dim, dim);
}

void pa_refine_kernel(int level, pa_metric metric, const float *q, uint32_t dim,
                      const float *const *rows, uint32_t n, float *dist, double *sq)
{
#ifdef PA_REFINE_X86
    if (level >= 2 && __builtin_cpu_supports("avx512f")) {
        kernel_simd(rows16_avx512, metric, q, dim, rows, n, dist, sq);
        return;
    }
    if (level >= 1 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        kernel_simd(rows16_avx2, metric, q, dim, rows, n, dist, sq);
        return;
    }
#endif
    kernel_scalar(metric, q, dim, rows, n, dist, sq);
}

/* Points s->rows at the candidates' records in the mapping, each fetched into the cache;
 * false where any is not there to read in place (then pa_vec_input_read_ids reads them). */
static bool rows_in_place(pa_vec_input *in, const pa_topk_cand *h, uint32_t n, pa_refine_scratch *s)
{
    const uint8_t *base;
    uint64_t stride, rows;
    bool prefixed;
    if (!pa_vec_input_mapped_f32(in, &base, &stride, &rows, &prefixed))
        return false;
    /* the first lines of every row asked for at once, before any is waited for (the rows are
     * scattered: one cache and TLB miss after another otherwise); the kernel streams the rest
     * (ROW_FIRST_BYTES) */
    const size_t pre = prefixed ? 4 : 0, bytes = (size_t)s->dim * sizeof(float) + pre;
    for (uint32_t j = 0; j < n; j++) {
        if (h[j].id >= rows)
            return false;
        const uint8_t *r = base + h[j].id * stride;
        for (size_t b = 0; b < bytes && b < ROW_FIRST_BYTES; b += 64)
            __builtin_prefetch(r - pre + b);
        __builtin_prefetch(r - pre + bytes - 1);
        s->rows[j] = (const float *)(const void *)r; /* 4-byte aligned (mapped_f32) */
    }
    for (uint32_t j = 0; prefixed && j < n; j++)
        if (pa_ld32((const uint8_t *)s->rows[j] - 4) != s->dim)
            return false;
    return true;
}

pa_status pa_refine_distances(pa_vec_input *in, pa_metric metric, const float *q, pa_topk_cand *h,
                              uint32_t n, pa_refine_scratch *s)
{
    const int level = pa_kernel_level();
    bool ok = rows_in_place(in, h, n, s);
    if (ok) {
        pa_refine_kernel(level, metric, q, s->dim, s->rows, n, s->dist, s->sq);
        for (uint32_t j = 0; j < n && ok; j++)
            ok = s->sq[j] <= PA_MAX_SQ_NORM; /* false for NaN: check_row's refusal */
    }
    if (!ok) { /* read and checked by pa_vec_input_read_ids, which reports what is wrong */
        for (uint32_t j = 0; j < n; j++)
            s->ids[j] = h[j].id, s->rows[j] = s->vecs + (size_t)j * s->dim;
        pa_status st = pa_vec_input_read_ids(in, s->ids, n, s->vecs);
        if (st != PA_OK)
            return st;
        pa_refine_kernel(level, metric, q, s->dim, s->rows, n, s->dist, s->sq);
    }
    for (uint32_t j = 0; j < n; j++)
        h[j].d = s->dist[j];
    return PA_OK;
}

/* qsort order, best first, of the heap's few entries */
void pa_refine_top(pa_topk_cand *h, uint32_t n, uint32_t k, pa_refine_scratch *s)
{
    uint32_t bn = 0;
    const uint32_t keep = PA_MIN(k, n);
    for (uint32_t j = 0; j < n; j++)
        pa_topk_push(s->best, &bn, keep, h[j].d, h[j].id);
    qsort(s->best, bn, sizeof *s->best, pa_topk_cmp);
    memcpy(h, s->best, sizeof *h * bn);
}

static void swap_cand(pa_topk_cand *a, pa_topk_cand *b)
{
    const pa_topk_cand t = *a;
    *a = *b, *b = t;
}

/* Quickselect (Hoare's partition about the median of three) on [lo, hi) until the first cap
 * are the best; past a depth good pivots do not reach, that range is sorted. */
void pa_refine_select(pa_topk_cand *h, uint32_t n, uint32_t cap)
{
    int64_t lo = 0, hi = n;
    for (int depth = 0; lo < cap && cap < hi; depth++) {
        if (depth > 64) {
            qsort(h + lo, (size_t)(hi - lo), sizeof *h, pa_topk_cmp);
            return;
        }
        const int64_t mid = lo + (hi - 1 - lo) / 2; /* below hi - 1: both parts non-empty */
        if (pa_topk_worse(&h[lo], &h[mid]))
            swap_cand(&h[lo], &h[mid]);
        if (pa_topk_worse(&h[mid], &h[hi - 1]))
            swap_cand(&h[mid], &h[hi - 1]);
        if (pa_topk_worse(&h[lo], &h[mid]))
            swap_cand(&h[lo], &h[mid]);
        const pa_topk_cand pivot = h[mid];
        int64_t i = lo - 1, j = hi;
        for (;;) { /* then [lo, j] ranks no worse than the pivot, (j, hi) no better */
            do
                i++;
            while (pa_topk_worse(&pivot, &h[i]));
            do
                j--;
            while (pa_topk_worse(&h[j], &pivot));
            if (i >= j)
                break;
            swap_cand(&h[i], &h[j]);
        }
        if (cap <= j + 1)
            hi = j + 1;
        else
            lo = j + 1;
    }
}
