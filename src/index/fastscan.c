/* The 4-bit fast scan (see fastscan.h): blocked layout, quantised tables, the shuffle kernels
 * and the candidate selection with exact distances. */
#include "index/fastscan.h"
#include "common/simd.h"
#include "ivfpq/ivfpq_internal.h"

#include <immintrin.h>
#include <math.h>
#include <stdatomic.h>

#define HALF (PA_FS_BLOCK / 2)  /* bytes per sub-space in a block */
#define SUPER PA_FS_SUPER_BYTES /* bytes per sub-space in a super-block */
#define PA_FS_HIST_BINS 1024u   /* a first partition's histogram of sums (pa_fs_scan_partition) */
#define PA_FS_MARK_ROWS (1u << 22) /* rows a NaN's payload holds (row_mark) */

void pa_fs_pack(const uint8_t *codes, uint64_t n, uint32_t M, uint8_t *blocks)
{
    const uint32_t Mp = pa_fs_padded_m(M);
    memset(blocks, 0, (size_t)pa_fs_layout_bytes(n, M));
    for (uint32_t m = 0; m < M; m++) {
        const uint8_t *row = codes + (uint64_t)(m / 2) * n; /* byte row m/2 of the partition */
        const unsigned shift = (m % 2) * 4;
        for (uint64_t i = 0; i < n; i++) {
            const uint8_t c = (uint8_t)((row[i] >> shift) & 15u);
            uint8_t *b = blocks + pa_fs_byte_of(Mp, i, m);
            *b |= (uint8_t)((i % PA_FS_BLOCK) < HALF ? c : c << 4);
        }
    }
}

/* Quantisation: per sub-space its minimum lo and maximum hi; delta = the largest hi - lo over
 * qmax, bias = the minima summed in sub-space order; then each entry (t - lo) / delta rounded
 * to nearest, at most qmax. Every kernel computes exactly these values: minima and maxima do
 * not depend on the order, the sums and the scale are scalar, and (t - lo) * (1 / delta) is
 * rounded by the same conversion (to nearest, as the SSE/AVX conversions round). */
static inline uint8_t quant_entry(float v, uint32_t qmax)
{
    const int q = _mm_cvtss_si32(_mm_set_ss(v)); /* v >= 0 */
    return (uint8_t)((uint32_t)q > qmax ? qmax : (uint32_t)q);
}

/* The scale from the largest range: delta and its inverse. */
static inline void quant_scale(float range, uint32_t qmax, float *delta, float *inv)
{
    *delta = range > 0 ? range / (float)qmax : 1.0f;
    *inv = 1.0f / *delta;
}

static void quantize_scalar(const float *table, uint32_t M, uint32_t qmax, uint8_t *lut,
                            float *bias, float *delta)
{
    float range = 0, b = 0, inv;
    for (uint32_t m = 0; m < M; m++) {
        const float *t = table + m * PA_FS_KSUB;
        float lo = t[0], hi = t[0];
        for (uint32_t j = 1; j < PA_FS_KSUB; j++)
            lo = PA_MIN(lo, t[j]), hi = PA_MAX(hi, t[j]);
        range = PA_MAX(range, hi - lo), b += lo;
    }
    quant_scale(range, qmax, delta, &inv);
    for (uint32_t m = 0; m < M; m++) {
        const float *t = table + m * PA_FS_KSUB;
        float lo = t[0];
        for (uint32_t j = 1; j < PA_FS_KSUB; j++)
            lo = PA_MIN(lo, t[j]);
        for (uint32_t j = 0; j < PA_FS_KSUB; j++)
            lut[m * PA_FS_KSUB + j] = quant_entry((t[j] - lo) * inv, qmax);
    }
    *bias = b;
}

__attribute__((target("avx2"))) static void quantize_avx2(const float *table, uint32_t M,
                                                          uint32_t qmax, uint8_t *lut, float *bias,
                                                          float *delta)
{
    float range = 0, b = 0, inv;
    for (uint32_t m = 0; m < M; m++) {
        const __m256 v0 = _mm256_loadu_ps(table + m * PA_FS_KSUB);
        const __m256 v1 = _mm256_loadu_ps(table + m * PA_FS_KSUB + 8);
        const float lo = pa_hmin256(_mm256_min_ps(v0, v1)), hi = pa_hmax256(_mm256_max_ps(v0, v1));
        range = PA_MAX(range, hi - lo), b += lo;
    }
    quant_scale(range, qmax, delta, &inv);
    const __m256i qm = _mm256_set1_epi32((int)qmax);
    const __m256 iv = _mm256_set1_ps(inv);
    for (uint32_t m = 0; m < M; m++) {
        const __m256 v0 = _mm256_loadu_ps(table + m * PA_FS_KSUB);
        const __m256 v1 = _mm256_loadu_ps(table + m * PA_FS_KSUB + 8);
        const __m256 lo = _mm256_set1_ps(pa_hmin256(_mm256_min_ps(v0, v1)));
        const __m256i q0 =
            _mm256_min_epu32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_sub_ps(v0, lo), iv)), qm);
        const __m256i q1 =
            _mm256_min_epu32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_sub_ps(v1, lo), iv)), qm);
        /* 32-bit to bytes: packs interleave the 128-bit lanes, the permute restores the order */
        const __m256i w = _mm256_permute4x64_epi64(_mm256_packus_epi32(q0, q1), 0xd8);
        const __m128i by = _mm_packus_epi16(_mm256_castsi256_si128(w),
                                            _mm256_extracti128_si256(w, 1));
        _mm_storeu_si128((__m128i *)(lut + m * PA_FS_KSUB), by);
    }
    *bias = b;
}

__attribute__((target("avx512f"))) static void quantize_avx512(const float *table, uint32_t M,
                                                               uint32_t qmax, uint8_t *lut,
                                                               float *bias, float *delta)
{
    float range = 0, b = 0, inv;
    for (uint32_t m = 0; m < M; m++) {
        const __m512 v = _mm512_loadu_ps(table + m * PA_FS_KSUB);
        const float lo = _mm512_reduce_min_ps(v), hi = _mm512_reduce_max_ps(v);
        range = PA_MAX(range, hi - lo), b += lo;
    }
    quant_scale(range, qmax, delta, &inv);
    const __m512i qm = _mm512_set1_epi32((int)qmax);
    const __m512 iv = _mm512_set1_ps(inv);
    for (uint32_t m = 0; m < M; m++) {
        const __m512 v = _mm512_loadu_ps(table + m * PA_FS_KSUB);
        const __m512 lo = _mm512_set1_ps(_mm512_reduce_min_ps(v));
        const __m512i q =
            _mm512_min_epu32(_mm512_cvtps_epi32(_mm512_mul_ps(_mm512_sub_ps(v, lo), iv)), qm);
        _mm_storeu_si128((__m128i *)(lut + m * PA_FS_KSUB), _mm512_cvtepi32_epi8(q));
    }
    *bias = b;
}

/* The largest quantised entry for M sub-spaces: a row's sum of M entries fits 16 bits. */
static inline uint32_t fs_qmax(uint32_t M) { return PA_MIN(255u, 65535u / PA_MAX(M, 1)); }

static int fs_choose(void);
void pa_fs_quantize(const float *table, uint32_t M, uint8_t *lut, float *bias, float *delta)
{
    static void (*const fns[])(const float *, uint32_t, uint32_t, uint8_t *, float *,
                               float *) = {quantize_scalar, quantize_avx2, quantize_avx512};
    const uint32_t qmax = fs_qmax(M);
    fns[fs_choose()](table, M, qmax, lut, bias, delta);
    memset(lut + M * PA_FS_KSUB, 0, (size_t)(pa_fs_padded_m(M) - M) * PA_FS_KSUB);
}

/* ---- the kernels: every row's quantised sum, 32 rows a block ---- */

static void accumulate_scalar(const uint8_t *blocks, uint64_t nb, uint32_t Mp, const uint8_t *lut,
                              uint16_t *sums)
{
    for (uint64_t b = 0; b < nb; b++) {
        const uint8_t *blk = blocks + (b / PA_FS_SUPER) * Mp * SUPER + (b % PA_FS_SUPER) * HALF;
        uint32_t s[PA_FS_BLOCK] = {0};
        for (uint32_t m = 0; m < Mp; m++) {
            const uint8_t *c = blk + m * SUPER, *l = lut + m * PA_FS_KSUB;
            for (uint32_t i = 0; i < HALF; i++) {
                s[i] += l[c[i] & 15u];
                s[HALF + i] += l[c[i] >> 4];
            }
        }
        for (uint32_t i = 0; i < PA_FS_BLOCK; i++)
            sums[b * PA_FS_BLOCK + i] = (uint16_t)s[i];
    }
}

/* The SIMD kernels hold one sub-space of a super-block's blocks in a register, a block a
 * 128-bit lane, and the sub-space's table in every lane. The shuffled bytes are added as
 * 16-bit words twice, whole (a block's even row + 256 x its odd row, modulo 2^16) and shifted
 * (the odd rows); a row's sum is below 2^16, so even = whole - 256 x odd exactly, and
 * unpacking the two puts a lane's rows in order: rows 0..7 of its block (lo), 8..15 (hi), and
 * the same from the high nibbles, rows 16..31. The bodies are inlined once for each common Mp
 * (a constant: the loop over sub-spaces unrolled) and once for any Mp. */

/* The sums of the blocks of a super-block (blocks 2h and 2h+1 of it in a0..a3: a0 the words of
 * the low nibbles, a1 their odd rows' bytes, a2 and a3 the same for the high ones) into out
 * (rows of block 2h, then of 2h+1; only block 2h's where the partition has no block 2h+1). */
__attribute__((target("avx2"))) static inline void
store_pair_avx2(__m256i a0, __m256i a1, __m256i a2, __m256i a3, bool both, uint16_t *out)
{
    const __m256i e0 = _mm256_sub_epi16(a0, _mm256_slli_epi16(a1, 8));
    const __m256i e2 = _mm256_sub_epi16(a2, _mm256_slli_epi16(a3, 8));
    const __m256i lo = _mm256_unpacklo_epi16(e0, a1), hi = _mm256_unpackhi_epi16(e0, a1);
    const __m256i lo2 = _mm256_unpacklo_epi16(e2, a3), hi2 = _mm256_unpackhi_epi16(e2, a3);
    _mm256_storeu_si256((__m256i *)out, _mm256_permute2x128_si256(lo, hi, 0x20));
    _mm256_storeu_si256((__m256i *)(out + 16), _mm256_permute2x128_si256(lo2, hi2, 0x20));
    if (both) {
        _mm256_storeu_si256((__m256i *)(out + 32), _mm256_permute2x128_si256(lo, hi, 0x31));
        _mm256_storeu_si256((__m256i *)(out + 48), _mm256_permute2x128_si256(lo2, hi2, 0x31));
    }
}

/* One super-block a pass: blocks 0-1 in one register of a sub-space's codes, 2-3 in another,
 * the table broadcast to both lanes once. */
__attribute__((target("avx2"), always_inline)) static inline void
accumulate_avx2_body(const uint8_t *blocks, uint64_t nb, uint32_t Mp, const uint8_t *lut,
                     uint16_t *sums)
{
    const __m256i low4 = _mm256_set1_epi8(15);
    for (uint64_t b = 0; b < nb; b += PA_FS_SUPER) {
        const uint8_t *blk = blocks + (b / PA_FS_SUPER) * Mp * SUPER;
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        __m256i b0 = a0, b1 = a0, b2 = a0, b3 = a0;
#pragma GCC unroll 16
        for (uint32_t m = 0; m < Mp; m++) {
            const __m256i l = _mm256_broadcastsi128_si256(
                _mm_loadu_si128((const __m128i *)(lut + m * PA_FS_KSUB)));
            const __m256i c = _mm256_loadu_si256((const __m256i *)(blk + m * SUPER));
            const __m256i d = _mm256_loadu_si256((const __m256i *)(blk + m * SUPER + 2 * HALF));
            const __m256i lo = _mm256_shuffle_epi8(l, _mm256_and_si256(c, low4));
            const __m256i hi = _mm256_shuffle_epi8(l,
                                                   _mm256_and_si256(_mm256_srli_epi16(c, 4), low4));
            const __m256i dlo = _mm256_shuffle_epi8(l, _mm256_and_si256(d, low4));
            const __m256i dhi = _mm256_shuffle_epi8(l, _mm256_and_si256(_mm256_srli_epi16(d, 4),
                                                                        low4));
            a0 = _mm256_add_epi16(a0, lo), a1 = _mm256_add_epi16(a1, _mm256_srli_epi16(lo, 8));
            a2 = _mm256_add_epi16(a2, hi), a3 = _mm256_add_epi16(a3, _mm256_srli_epi16(hi, 8));
            b0 = _mm256_add_epi16(b0, dlo), b1 = _mm256_add_epi16(b1, _mm256_srli_epi16(dlo, 8));
            b2 = _mm256_add_epi16(b2, dhi), b3 = _mm256_add_epi16(b3, _mm256_srli_epi16(dhi, 8));
        }
        const uint64_t left = nb - b; /* blocks of this super-block in the partition: 1 to 4 */
        store_pair_avx2(a0, a1, a2, a3, left > 1, sums + b * PA_FS_BLOCK);
        if (left > 2)
            store_pair_avx2(b0, b1, b2, b3, left > 3, sums + (b + 2) * PA_FS_BLOCK);
    }
}

__attribute__((target("avx2"))) static void
accumulate_avx2(const uint8_t *blocks, uint64_t nb, uint32_t Mp, const uint8_t *lut, uint16_t *sums)
{
    switch (Mp) {
    case 8: accumulate_avx2_body(blocks, nb, 8, lut, sums); break;
    case 16: accumulate_avx2_body(blocks, nb, 16, lut, sums); break;
    case 32: accumulate_avx2_body(blocks, nb, 32, lut, sums); break;
    default: accumulate_avx2_body(blocks, nb, Mp, lut, sums); break;
    }
}

/* The four blocks of a super-block from the AVX-512 kernel's accumulators (a0..a3 as
 * store_pair_avx2's, a block a lane): the lanes' rows in order (lo, hi, lo2, hi2: rows 0..7,
 * 8..15, 16..23, 24..31 of each lane's block), then transposed as 128-bit lanes, so that block
 * j's rows are lane j of each; `left` of the blocks stored (1 to 4). */
__attribute__((target("avx512f,avx512bw"))) static inline void
store_super_avx512(__m512i a0, __m512i a1, __m512i a2, __m512i a3, uint64_t left, uint16_t *out)
{
    const __m512i e0 = _mm512_sub_epi16(a0, _mm512_slli_epi16(a1, 8));
    const __m512i e2 = _mm512_sub_epi16(a2, _mm512_slli_epi16(a3, 8));
    const __m512i lo = _mm512_unpacklo_epi16(e0, a1), hi = _mm512_unpackhi_epi16(e0, a1);
    const __m512i lo2 = _mm512_unpacklo_epi16(e2, a3), hi2 = _mm512_unpackhi_epi16(e2, a3);
    /* t0: lo0 lo1 hi0 hi1, t1: lo2 lo3 hi2 hi3, and t2, t3 the same of lo2 and hi2 */
    const __m512i t0 = _mm512_shuffle_i64x2(lo, hi, _MM_SHUFFLE(1, 0, 1, 0));
    const __m512i t1 = _mm512_shuffle_i64x2(lo, hi, _MM_SHUFFLE(3, 2, 3, 2));
    const __m512i t2 = _mm512_shuffle_i64x2(lo2, hi2, _MM_SHUFFLE(1, 0, 1, 0));
    const __m512i t3 = _mm512_shuffle_i64x2(lo2, hi2, _MM_SHUFFLE(3, 2, 3, 2));
    _mm512_storeu_si512((void *)out, _mm512_shuffle_i64x2(t0, t2, _MM_SHUFFLE(2, 0, 2, 0)));
    if (left > 1)
        _mm512_storeu_si512((void *)(out + PA_FS_BLOCK),
                            _mm512_shuffle_i64x2(t0, t2, _MM_SHUFFLE(3, 1, 3, 1)));
    if (left > 2)
        _mm512_storeu_si512((void *)(out + 2 * PA_FS_BLOCK),
                            _mm512_shuffle_i64x2(t1, t3, _MM_SHUFFLE(2, 0, 2, 0)));
    if (left > 3)
        _mm512_storeu_si512((void *)(out + 3 * PA_FS_BLOCK),
                            _mm512_shuffle_i64x2(t1, t3, _MM_SHUFFLE(3, 1, 3, 1)));
}

/* Q queries' sums over the same blocks (Q at most PA_FS_QUERIES; one query: pa_fs_accumulate's
 * kernel), one super-block a pass, one sub-space a register: a sub-space's codes loaded and
 * split into nibbles once for them all, each query's table then looked up with them. */
__attribute__((target("avx512f,avx512bw"), always_inline)) static inline void
accumulate_multi_avx512_body(const uint8_t *blocks, uint64_t nb, uint32_t Mp,
                             const uint8_t *const *luts, uint16_t *const *sums, const uint32_t Q)
{
    const __m512i low4 = _mm512_set1_epi8(15);
    for (uint64_t b = 0; b < nb; b += PA_FS_SUPER) {
        const uint8_t *blk = blocks + (b / PA_FS_SUPER) * Mp * SUPER;
        __m512i a[PA_FS_QUERIES][4];
        for (uint32_t q = 0; q < Q; q++)
            a[q][0] = a[q][1] = a[q][2] = a[q][3] = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (uint32_t m = 0; m < Mp; m++) {
            const __m512i c = _mm512_loadu_si512((const void *)(blk + m * SUPER));
            const __m512i cl = _mm512_and_si512(c, low4);
            const __m512i ch = _mm512_and_si512(_mm512_srli_epi16(c, 4), low4);
#pragma GCC unroll 4
            for (uint32_t q = 0; q < Q; q++) {
                const __m512i l = _mm512_broadcast_i32x4(
                    _mm_loadu_si128((const __m128i *)(luts[q] + m * PA_FS_KSUB)));
                const __m512i lo = _mm512_shuffle_epi8(l, cl), hi = _mm512_shuffle_epi8(l, ch);
                a[q][0] = _mm512_add_epi16(a[q][0], lo);
                a[q][1] = _mm512_add_epi16(a[q][1], _mm512_srli_epi16(lo, 8));
                a[q][2] = _mm512_add_epi16(a[q][2], hi);
                a[q][3] = _mm512_add_epi16(a[q][3], _mm512_srli_epi16(hi, 8));
            }
        }
        for (uint32_t q = 0; q < Q; q++)
            store_super_avx512(a[q][0], a[q][1], a[q][2], a[q][3], nb - b,
                               sums[q] + b * PA_FS_BLOCK);
    }
}

__attribute__((target("avx512f,avx512bw"))) static void accumulate_avx512(const uint8_t *blocks,
                                                                          uint64_t nb, uint32_t Mp,
                                                                          const uint8_t *lut,
                                                                          uint16_t *sums)
{
    switch (Mp) {
    case 8: accumulate_multi_avx512_body(blocks, nb, 8, &lut, &sums, 1); break;
    case 16: accumulate_multi_avx512_body(blocks, nb, 16, &lut, &sums, 1); break;
    case 32: accumulate_multi_avx512_body(blocks, nb, 32, &lut, &sums, 1); break;
    case 64: accumulate_multi_avx512_body(blocks, nb, 64, &lut, &sums, 1); break;
    default: accumulate_multi_avx512_body(blocks, nb, Mp, &lut, &sums, 1); break;
    }
}

__attribute__((target("avx512f,avx512bw"))) static void
accumulate_multi_avx512(const uint8_t *blocks, uint64_t nb, uint32_t Mp, const uint8_t *const *luts,
                        uint16_t *const *sums, uint32_t Q)
{
    switch (Q) {
    case 2: accumulate_multi_avx512_body(blocks, nb, Mp, luts, sums, 2); break;
    case 3: accumulate_multi_avx512_body(blocks, nb, Mp, luts, sums, 3); break;
    case 4: accumulate_multi_avx512_body(blocks, nb, Mp, luts, sums, 4); break;
    default: accumulate_avx512(blocks, nb, Mp, luts[0], sums[0]); break;
    }
}

/* The nearest-codeword kernels' level (pa_kernel_level: PA_KERNEL and pa_kernel_set narrow
 * it), lowered to AVX2 where the CPU lacks AVX-512 BW (the byte shuffles need it). */
static int fs_choose(void)
{
    static _Atomic int bw = -1;
    int b = atomic_load(&bw);
    if (b < 0) {
        __builtin_cpu_init();
        b = __builtin_cpu_supports("avx512bw") ? 1 : 0;
        atomic_store(&bw, b);
    }
    const int c = pa_kernel_level();
    return c == 2 && !b ? 1 : c;
}

void pa_fs_accumulate(const uint8_t *blocks, uint64_t nb, uint32_t Mp, const uint8_t *lut,
                      uint16_t *sums)
{
    static void (*const fns[])(const uint8_t *, uint64_t, uint32_t, const uint8_t *,
                               uint16_t *) = {accumulate_scalar, accumulate_avx2,
                                              accumulate_avx512};
    fns[fs_choose()](blocks, nb, Mp, lut, sums);
}

void pa_fs_accumulate_multi(const uint8_t *blocks, uint64_t nb, uint32_t Mp,
                            const uint8_t *const *luts, uint16_t *const *sums, uint32_t Q)
{
    if (fs_choose() == 2) {
        accumulate_multi_avx512(blocks, nb, Mp, luts, sums, Q);
        return;
    }
    for (uint32_t q = 0; q < Q; q++) /* the same sums, a query at a time */
        pa_fs_accumulate(blocks, nb, Mp, luts[q], sums[q]);
}

/* ---- selection ---- */

pa_status pa_fs_scratch_init(pa_fs_scratch *s, uint32_t M, uint64_t max_rows)
{
    const uint64_t nb = pa_fs_blocks(PA_MAX(max_rows, 1));
    s->lut = malloc((size_t)PA_FS_QUERIES * pa_fs_padded_m(M) * PA_FS_KSUB);
    s->sums = malloc(sizeof(uint16_t) * PA_FS_QUERIES * PA_FS_BLOCK * nb);
    s->sums_len = PA_FS_BLOCK * nb;
    s->mins = malloc(sizeof(uint16_t) * pa_fs_mins_len(nb));
    if (s->lut && s->sums && s->mins)
        return PA_OK;
    pa_fs_scratch_free(s);
    return pa_fail(PA_ERR_NOMEM, "out of memory for the fast scan's tables");
}

void pa_fs_scratch_free(pa_fs_scratch *s)
{
    free(s->lut), free(s->sums), free(s->mins);
    s->lut = NULL, s->sums = NULL, s->mins = NULL;
}

/* A row's approximate distance from its quantised sum q (a: base + bias). */
static inline float approx_dist(float a, float delta, uint32_t q) { return a + delta * (float)q; }

/* The largest quantised sum whose approximate distance is at most worst (-1: none; 65535: all).
 * The distance grows with the sum, so rows above it cannot enter the heap. From the estimate
 * (worst - a) / delta rounded, then a binary search in what rounding leaves open. */
static int32_t sum_limit(float a, float delta, float worst)
{
    if (!(approx_dist(a, delta, 0) <= worst))
        return -1;
    const double g = ((double)worst - a) / delta + 0.5; /* worst is mostly some row's distance */
    const uint32_t q = g >= 65535 ? 65535 : (uint32_t)g;
    uint32_t lo = 0, hi = 65536; /* approx(lo) <= worst, approx(hi) > worst (65536: none) */
    if (approx_dist(a, delta, q) <= worst) {
        lo = q;
        if (q == 65535 || approx_dist(a, delta, q + 1) > worst)
            return (int32_t)q;
    } else {
        hi = q;
        if (q > 0 && approx_dist(a, delta, q - 1) <= worst)
            return (int32_t)q - 1;
    }
    while (hi - lo > 1) {
        const uint32_t mid = lo + (hi - lo) / 2;
        if (approx_dist(a, delta, mid) <= worst)
            lo = mid;
        else
            hi = mid;
    }
    return (int32_t)lo;
}

/* The rows of a block (32 sums) whose sum is at most limit, as a bit mask (bit r: row r). */
static uint32_t block_mask_scalar(const uint16_t *sums, uint16_t limit)
{
    uint32_t mask = 0;
    for (uint32_t r = 0; r < PA_FS_BLOCK; r++)
        mask |= (uint32_t)(sums[r] <= limit) << r;
    return mask;
}

/* x <= limit as max(x, limit) == limit (AVX2 has no unsigned 16-bit compare); the two halves'
 * 16-bit results packed to bytes in row order for one byte mask. */
__attribute__((target("avx2"))) static uint32_t block_mask_avx2(const uint16_t *sums,
                                                                uint16_t limit)
{
    const __m256i l = _mm256_set1_epi16((short)limit);
    const __m256i s0 = _mm256_loadu_si256((const __m256i *)sums);
    const __m256i s1 = _mm256_loadu_si256((const __m256i *)(sums + 16));
    const __m256i e0 = _mm256_cmpeq_epi16(_mm256_max_epu16(s0, l), l);
    const __m256i e1 = _mm256_cmpeq_epi16(_mm256_max_epu16(s1, l), l);
    return (uint32_t)_mm256_movemask_epi8(
        _mm256_permute4x64_epi64(_mm256_packs_epi16(e0, e1), 0xd8));
}

__attribute__((target("avx512f,avx512bw"))) static uint32_t block_mask_avx512(const uint16_t *sums,
                                                                              uint16_t limit)
{
    return (uint32_t)_mm512_cmple_epu16_mask(_mm512_loadu_si512((const void *)sums),
                                             _mm512_set1_epi16((short)limit));
}

/* Each block's smallest sum (nb blocks of sums) into mins. */
static void block_mins_scalar(const uint16_t *sums, uint64_t nb, uint16_t *mins)
{
    for (uint64_t b = 0; b < nb; b++) {
        uint16_t m = sums[b * PA_FS_BLOCK];
        for (uint32_t r = 1; r < PA_FS_BLOCK; r++)
            m = PA_MIN(m, sums[b * PA_FS_BLOCK + r]);
        mins[b] = m;
    }
}

__attribute__((target("avx2"))) static void block_mins_avx2(const uint16_t *sums, uint64_t nb,
                                                            uint16_t *mins)
{
    for (uint64_t b = 0; b < nb; b++) {
        const __m256i m =
            _mm256_min_epu16(_mm256_loadu_si256((const __m256i *)(sums + b * PA_FS_BLOCK)),
                             _mm256_loadu_si256((const __m256i *)(sums + b * PA_FS_BLOCK + 16)));
        mins[b] = (uint16_t)_mm_cvtsi128_si32(_mm_minpos_epu16(
            _mm_min_epu16(_mm256_castsi256_si128(m), _mm256_extracti128_si256(m, 1))));
    }
}

/* How many of a[0..n-1] are at most v (a padded with 65535 to a multiple of 32). */
static uint64_t count_le_scalar(const uint16_t *a, uint64_t n, uint16_t v)
{
    uint64_t c = 0;
    for (uint64_t i = 0; i < n; i++)
        c += a[i] <= v;
    return c;
}

__attribute__((target("avx2"))) static uint64_t count_le_avx2(const uint16_t *a, uint64_t n,
                                                              uint16_t v)
{
    const __m256i l = _mm256_set1_epi16((short)v);
    uint64_t c = 0;
    for (uint64_t i = 0; i < n; i += 16) { /* max(x, v) == v: x <= v; two mask bits a lane */
        const __m256i x = _mm256_loadu_si256((const __m256i *)(a + i));
        c += (uint64_t)__builtin_popcount(
            (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi16(_mm256_max_epu16(x, l), l)));
    }
    return c / 2;
}

__attribute__((target("avx512f,avx512bw"))) static uint64_t count_le_avx512(const uint16_t *a,
                                                                            uint64_t n, uint16_t v)
{
    const __m512i l = _mm512_set1_epi16((short)v);
    uint64_t c = 0;
    for (uint64_t i = 0; i < n; i += 32)
        c += (uint64_t)__builtin_popcount(
            _mm512_cmple_epu16_mask(_mm512_loadu_si512((const void *)(a + i)), l));
    return c;
}

/* The k-th smallest (k from 0) of a[0..n-1], k < n, a padded with 65535 to a multiple of 32
 * (pa_fs_mins_len): the smallest v with more than k values at most v, by a binary search over
 * the 16-bit values (the padding counts only at 65535, where more than k real values do). */
static uint16_t kth_smallest(const uint16_t *a, uint64_t n, uint64_t k)
{
    static uint64_t (*const counts[])(const uint16_t *, uint64_t,
                                      uint16_t) = {count_le_scalar, count_le_avx2, count_le_avx512};
    uint64_t (*const count)(const uint16_t *, uint64_t, uint16_t) = counts[fs_choose()];
    const uint64_t len = pa_fs_mins_len(n);
    int32_t lo = -1, hi = 65535; /* count(lo) <= k < count(hi) */
    while (hi - lo > 1) {
        const int32_t mid = lo + (hi - lo) / 2;
        if (count(a, len, (uint16_t)mid) > k)
            hi = mid;
        else
            lo = mid;
    }
    return (uint16_t)hi;
}

/* A sum t such that at least cap of the partition's n rows (n > cap) have a sum at most t:
 * with at least cap blocks, the cap-th smallest of the blocks' smallest sums (cap blocks hold
 * a row at most t each; the rows of a query's best few mostly lie in distinct blocks, so t is
 * about the cap-th smallest sum, from one pass over the blocks); with fewer, from a histogram
 * of the sums (t: the last sum of the bin where cap rows are reached). */
static uint32_t first_bound(const uint16_t *sums, uint64_t n, uint32_t M, uint32_t cap,
                            uint16_t *mins)
{
    const uint64_t nb = pa_fs_blocks(n), tail = n % PA_FS_BLOCK;
    if (nb >= cap) {
        (fs_choose() ? block_mins_avx2 : block_mins_scalar)(sums, nb, mins);
        if (tail) { /* the last block's padding rows are not rows */
            uint16_t m = sums[(nb - 1) * PA_FS_BLOCK];
            for (uint64_t r = 1; r < tail; r++)
                m = PA_MIN(m, sums[(nb - 1) * PA_FS_BLOCK + r]);
            mins[nb - 1] = m;
        }
        for (uint64_t b = nb; b < pa_fs_mins_len(nb); b++)
            mins[b] = 65535;
        return kth_smallest(mins, nb, cap - 1);
    }
    uint32_t hist[PA_FS_HIST_BINS] = {0}, shift = 0, seen = 0, bin = 0;
    while ((fs_qmax(M) * M) >> shift >= PA_FS_HIST_BINS)
        shift++;
    for (uint64_t i = 0; i < n; i++)
        hist[sums[i] >> shift]++;
    while ((seen += hist[bin]) < cap)
        bin++;
    return PA_MIN(((bin + 1) << shift) - 1, 65535u);
}

/* A row of a partition (below PA_FS_MARK_ROWS) as a float the exact distances never are: a
 * quiet NaN whose payload is the row. */
static inline float row_mark(uint64_t i)
{
    const uint32_t bits = 0x7fc00000u | (uint32_t)i;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static inline bool marked_row(float f, uint64_t *i)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    *i = bits & (PA_FS_MARK_ROWS - 1);
    return (bits & 0xffc00000u) == 0x7fc00000u;
}

/* The exact distances of q rows (q <= 4) of a blocked partition: base + their table entries
 * summed in sub-space order, as the plain 4-bit scan sums them; the rows' sums interleaved so
 * that their additions overlap. */
static void exact_dists(const uint8_t *blocks, uint32_t Mp, uint32_t M, const uint64_t *rows,
                        uint32_t q, const float *table, float base, float *out)
{
    const uint8_t *c[4];
    unsigned sh[4];
    for (uint32_t e = 0; e < 4; e++) {
        const uint64_t i = rows[e < q ? e : 0];
        c[e] = blocks + pa_fs_byte_of(Mp, i, 0);
        sh[e] = (i % PA_FS_BLOCK) < HALF ? 0 : 4;
    }
    float d0 = base, d1 = base, d2 = base, d3 = base;
    for (uint32_t m = 0; m < M; m++) {
        const float *t = table + m * PA_FS_KSUB;
        d0 += t[(c[0][m * SUPER] >> sh[0]) & 15u];
        d1 += t[(c[1][m * SUPER] >> sh[1]) & 15u];
        d2 += t[(c[2][m * SUPER] >> sh[2]) & 15u];
        d3 += t[(c[3][m * SUPER] >> sh[3]) & 15u];
    }
    const float d[4] = {d0, d1, d2, d3};
    for (uint32_t e = 0; e < q; e++)
        out[e] = d[e];
}

/* The rows of one partition offered to one query's heap from their quantised sums (see
 * pa_fs_scan_partition): bias and delta the quantised table's (pa_fs_quantize); mins is
 * scratch. */
static uint64_t fs_select(const uint8_t *blocks, const uint64_t *ids, uint64_t n, uint32_t M,
                          const float *table, float base, float bias, float delta,
                          const uint16_t *sums, uint16_t *mins, pa_topk_cand *heap, uint32_t *hn,
                          uint32_t cap)
{
    static uint32_t (*const masks[])(const uint16_t *, uint16_t) = {block_mask_scalar,
                                                                    block_mask_avx2,
                                                                    block_mask_avx512};
    uint32_t (*const block_mask)(const uint16_t *, uint16_t) = masks[fs_choose()];
    const uint32_t Mp = pa_fs_padded_m(M);
    const uint64_t nb = pa_fs_blocks(n);
    const float a = base + bias;
    int32_t limit = *hn < cap ? 65535 : sum_limit(a, delta, heap[0].d);
    if (*hn < cap && n > cap) {
        /* A heap not yet full (a query's first partition) would take every row until the
         * partition's own cap best remain. A bound t with at least cap rows at most t bounds
         * them first: a row whose approximate distance exceeds t's is beaten by at least cap
         * rows, so it cannot stay in the heap (the limit keeps rows whose distance rounds to
         * t's, as ties go by id). The same heap, from far fewer offers. */
        const uint32_t t = first_bound(sums, n, M, cap, mins);
        limit = PA_MIN(limit, sum_limit(a, delta, approx_dist(a, delta, t)));
    }
    const uint32_t last = n % PA_FS_BLOCK ? (1u << (n % PA_FS_BLOCK)) - 1 : ~0u;
    if (limit >= 0 && limit < 65535) {
        /* The row ids the offers below read lie at scattered places of the partition, each
         * a wait on memory: the rows within the limit now (a superset of those offered, as the
         * limit only falls) have theirs fetched first, all at once. */
        for (uint64_t b = 0; b < nb; b++) {
            uint32_t mask = block_mask(sums + b * PA_FS_BLOCK, (uint16_t)limit);
            if (b + 1 == nb)
                mask &= last;
            for (; mask; mask &= mask - 1)
                __builtin_prefetch(ids + b * PA_FS_BLOCK + (uint32_t)__builtin_ctz(mask));
        }
    }
    /* A row taken carries a mark (its row, in a NaN's payload) until the scan ends: its exact
     * distance is computed then for the rows still held (it does not order the heap). */
    const bool later = n <= PA_FS_MARK_ROWS;
    uint64_t exact = 0;
    for (uint64_t b = 0; b < nb && limit >= 0; b++) {
        const uint16_t *sb = sums + b * PA_FS_BLOCK;
        uint32_t mask = block_mask(sb, (uint16_t)limit);
        if (b + 1 == nb) /* the padding rows of the last block */
            mask &= last;
        while (mask && limit >= 0) {
            const uint32_t r = (uint32_t)__builtin_ctz(mask);
            mask &= mask - 1;
            if ((int32_t)sb[r] > limit) /* the limit fell since the mask */
                continue;
            const uint64_t i = b * PA_FS_BLOCK + r;
            const pa_topk_cand c = {approx_dist(a, delta, sb[r]), 0, ids[i]};
            if (*hn == cap && !pa_topk_worse(&heap[0], &c))
                continue;
            if (later) {
                pa_topk_push_aux(heap, hn, cap, c.d, ids[i], row_mark(i));
            } else {
                float d;
                exact_dists(blocks, Mp, M, &i, 1, table, base, &d);
                pa_topk_push_aux(heap, hn, cap, c.d, ids[i], d);
                exact++;
            }
            if (*hn == cap)
                limit = PA_MIN(limit, sum_limit(a, delta, heap[0].d));
        }
    }
    if (later) { /* the rows of this partition the heap holds: their exact distances */
        uint64_t rows[4];
        uint32_t slot[4], q = 0;
        float d[4];
        for (uint32_t j = 0; j <= *hn; j++) {
            uint64_t i;
            if (j < *hn && marked_row(heap[j].aux, &i))
                rows[q] = i, slot[q++] = j;
            if (q == 4 || (j == *hn && q)) {
                exact_dists(blocks, Mp, M, rows, q, table, base, d);
                for (uint32_t e = 0; e < q; e++)
                    heap[slot[e]].aux = d[e];
                exact += q, q = 0;
            }
        }
    }
    return exact;
}

uint64_t pa_fs_scan_partition_multi(const uint8_t *blocks, const uint64_t *ids, uint64_t n,
                                    uint32_t M, uint32_t Q, const float *const *tables,
                                    const float *bases, pa_fs_scratch *s,
                                    pa_topk_cand *const *heaps, uint32_t *const *hns, uint32_t cap)
{
    const uint32_t Mp = pa_fs_padded_m(M);
    const uint8_t *luts[PA_FS_QUERIES] = {NULL};
    uint16_t *sums[PA_FS_QUERIES] = {NULL};
    float bias[PA_FS_QUERIES], delta[PA_FS_QUERIES];
    for (uint32_t q = 0; q < Q; q++) {
        uint8_t *lut = s->lut + (size_t)q * Mp * PA_FS_KSUB;
        pa_fs_quantize(tables[q], M, lut, &bias[q], &delta[q]);
        luts[q] = lut, sums[q] = s->sums + (size_t)q * s->sums_len;
    }
    pa_fs_accumulate_multi(blocks, pa_fs_blocks(n), Mp, luts, sums, Q);
    uint64_t exact = 0;
    for (uint32_t q = 0; q < Q; q++)
        exact += fs_select(blocks, ids, n, M, tables[q], bases[q], bias[q], delta[q], sums[q],
                           s->mins, heaps[q], hns[q], cap);
    return exact;
}

uint64_t pa_fs_scan_partition(const uint8_t *blocks, const uint64_t *ids, uint64_t n, uint32_t M,
                              const float *table, float base, pa_fs_scratch *s, pa_topk_cand *heap,
                              uint32_t *hn, uint32_t cap)
{
    return pa_fs_scan_partition_multi(blocks, ids, n, M, 1, &table, &base, s, &heap, &hn, cap);
}

/* ---- a query's codeword products ---- */

void pa_fs_transpose_codebook(const float *codebook, uint32_t M, uint32_t ds, float *cbt)
{
    for (uint32_t m = 0; m < M; m++)
        for (uint32_t j = 0; j < PA_FS_KSUB; j++)
            for (uint32_t t = 0; t < ds; t++)
                cbt[((size_t)m * ds + t) * PA_FS_KSUB + j] =
                    codebook[((size_t)m * PA_FS_KSUB + j) * ds + t];
}

static void products_scalar(const float *q, uint64_t n, uint32_t M, uint32_t ds, const float *cbt,
                            float *qy)
{
    const uint64_t D = (uint64_t)M * ds, T = (uint64_t)M * PA_FS_KSUB;
    for (uint64_t i = 0; i < n; i++)
        for (uint32_t m = 0; m < M; m++)
            for (uint32_t j = 0; j < PA_FS_KSUB; j++) {
                float acc = 0;
                for (uint32_t t = 0; t < ds; t++)
                    acc = fmaf(q[i * D + m * ds + t], cbt[((size_t)m * ds + t) * PA_FS_KSUB + j],
                               acc);
                qy[i * T + m * PA_FS_KSUB + j] = acc;
            }
}

/* Queries i0..i0+Q-1 (Q at most PRODUCT_QUERIES) side by side: each codeword row of cbt is
 * loaded once for them all, and each query's chain of fused multiply-adds is the scalar
 * loop's, in order; the Q chains overlap (one chain alone waits on its latency ds times over,
 * and every query reloads the 16 x dim floats of cbt). */
#define PRODUCT_QUERIES 8

__attribute__((target("avx2,fma"), always_inline)) static inline void
products_avx2_group(const float *q, uint64_t D, const uint32_t Q, uint32_t M, uint32_t ds,
                    const float *cbt, float *qy, uint64_t T)
{
    for (uint32_t m = 0; m < M; m++) {
        __m256 a[PRODUCT_QUERIES][2];
#pragma GCC unroll 8
        for (uint32_t u = 0; u < Q; u++)
            a[u][0] = a[u][1] = _mm256_setzero_ps();
        for (uint32_t t = 0; t < ds; t++) {
            const float *c = cbt + ((size_t)m * ds + t) * PA_FS_KSUB;
            const __m256 c0 = _mm256_loadu_ps(c), c1 = _mm256_loadu_ps(c + 8);
#pragma GCC unroll 8
            for (uint32_t u = 0; u < Q; u++) {
                const __m256 v = _mm256_broadcast_ss(q + u * D + m * ds + t);
                a[u][0] = _mm256_fmadd_ps(v, c0, a[u][0]);
                a[u][1] = _mm256_fmadd_ps(v, c1, a[u][1]);
            }
        }
#pragma GCC unroll 8
        for (uint32_t u = 0; u < Q; u++) {
            _mm256_storeu_ps(qy + u * T + m * PA_FS_KSUB, a[u][0]);
            _mm256_storeu_ps(qy + u * T + m * PA_FS_KSUB + 8, a[u][1]);
        }
    }
}

__attribute__((target("avx2,fma"))) static void
products_avx2(const float *q, uint64_t n, uint32_t M, uint32_t ds, const float *cbt, float *qy)
{
    const uint64_t D = (uint64_t)M * ds, T = (uint64_t)M * PA_FS_KSUB;
    uint64_t i = 0;
    for (; i + PRODUCT_QUERIES / 2 <= n; i += PRODUCT_QUERIES / 2) /* 2 registers a query */
        products_avx2_group(q + i * D, D, PRODUCT_QUERIES / 2, M, ds, cbt, qy + i * T, T);
    for (; i < n; i++)
        products_avx2_group(q + i * D, D, 1, M, ds, cbt, qy + i * T, T);
}

__attribute__((target("avx512f"), always_inline)) static inline void
products_avx512_group(const float *q, uint64_t D, const uint32_t Q, uint32_t M, uint32_t ds,
                      const float *cbt, float *qy, uint64_t T)
{
    for (uint32_t m = 0; m < M; m++) {
        __m512 a[PRODUCT_QUERIES];
#pragma GCC unroll 8
        for (uint32_t u = 0; u < Q; u++)
            a[u] = _mm512_setzero_ps();
        for (uint32_t t = 0; t < ds; t++) {
            const __m512 c = _mm512_loadu_ps(cbt + ((size_t)m * ds + t) * PA_FS_KSUB);
#pragma GCC unroll 8
            for (uint32_t u = 0; u < Q; u++)
                a[u] = _mm512_fmadd_ps(_mm512_set1_ps(q[u * D + m * ds + t]), c, a[u]);
        }
#pragma GCC unroll 8
        for (uint32_t u = 0; u < Q; u++)
            _mm512_storeu_ps(qy + u * T + m * PA_FS_KSUB, a[u]);
    }
}

__attribute__((target("avx512f"))) static void
products_avx512(const float *q, uint64_t n, uint32_t M, uint32_t ds, const float *cbt, float *qy)
{
    const uint64_t D = (uint64_t)M * ds, T = (uint64_t)M * PA_FS_KSUB;
    uint64_t i = 0;
    for (; i + PRODUCT_QUERIES <= n; i += PRODUCT_QUERIES)
        products_avx512_group(q + i * D, D, PRODUCT_QUERIES, M, ds, cbt, qy + i * T, T);
    for (; i + PRODUCT_QUERIES / 2 <= n; i += PRODUCT_QUERIES / 2)
        products_avx512_group(q + i * D, D, PRODUCT_QUERIES / 2, M, ds, cbt, qy + i * T, T);
    for (; i < n; i++)
        products_avx512_group(q + i * D, D, 1, M, ds, cbt, qy + i * T, T);
}

void pa_fs_query_products(const float *q, uint64_t n, uint32_t M, uint32_t ds, const float *cbt,
                          float *qy)
{
    static void (*const fns[])(const float *, uint64_t, uint32_t, uint32_t, const float *,
                               float *) = {products_scalar, products_avx2, products_avx512};
    fns[pa_kernel_level()](q, n, M, ds, cbt, qy);
}

/* ---- 8-bit ADC ---- */

static void adc_table_scalar(float *table, const float *pre, const float *qy, uint64_t T)
{
    for (uint64_t t = 0; t < T; t++)
        table[t] = pre ? pre[t] - (qy[t] + qy[t]) : -qy[t];
}

__attribute__((target("avx2"))) static void adc_table_avx2(float *table, const float *pre,
                                                           const float *qy, uint64_t T)
{
    uint64_t t = 0;
    for (; t + 8 <= T; t += 8) {
        const __m256 q = _mm256_loadu_ps(qy + t);
        _mm256_storeu_ps(table + t,
                         pre ? _mm256_sub_ps(_mm256_loadu_ps(pre + t), _mm256_add_ps(q, q))
                             : _mm256_xor_ps(q, _mm256_set1_ps(-0.0f)));
    }
    adc_table_scalar(table + t, pre ? pre + t : NULL, qy + t, T - t);
}

__attribute__((target("avx512f"))) static void adc_table_avx512(float *table, const float *pre,
                                                                const float *qy, uint64_t T)
{
    uint64_t t = 0;
    for (; t + 16 <= T; t += 16) {
        const __m512 q = _mm512_loadu_ps(qy + t);
        _mm512_storeu_ps(table + t,
                         pre ? _mm512_sub_ps(_mm512_loadu_ps(pre + t), _mm512_add_ps(q, q))
                             : _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(q),
                                                                    _mm512_set1_epi32(INT32_MIN))));
    }
    adc_table_scalar(table + t, pre ? pre + t : NULL, qy + t, T - t);
}

void pa_adc_table(float *table, const float *pre, const float *qy, uint64_t T)
{
    static void (*const fns[])(float *, const float *, const float *,
                               uint64_t) = {adc_table_scalar, adc_table_avx2, adc_table_avx512};
    fns[fs_choose()](table, pre, qy, T);
}

/* Rows i0.. of the partition one at a time (the kernels' tails). */
static void adc8_rows(const uint8_t *codes, const uint64_t *ids, uint64_t i0, uint64_t n,
                      uint32_t M, const float *table, float base, pa_topk_cand *heap, uint32_t *hn,
                      uint32_t cap)
{
    for (uint64_t i = i0; i < n; i++) {
        float d = base;
        const uint8_t *cm = codes + i;
        for (uint32_t m = 0; m < M; m++, cm += n)
            d += table[m * 256 + cm[0]];
        pa_topk_offer(heap, hn, cap, d, ids[i]);
    }
}

/* Four rows at a time, each row's sum kept in a register (sub-space m's bytes of the four rows
 * are adjacent in the transposed layout). */
static void adc8_scalar(const uint8_t *codes, const uint64_t *ids, uint64_t n, uint32_t M,
                        const float *table, float base, pa_topk_cand *heap, uint32_t *hn,
                        uint32_t cap)
{
    uint64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float d0 = base, d1 = base, d2 = base, d3 = base;
        const uint8_t *cm = codes + i;
        for (uint32_t m = 0; m < M; m++, cm += n) {
            const float *t = table + m * 256;
            d0 += t[cm[0]], d1 += t[cm[1]], d2 += t[cm[2]], d3 += t[cm[3]];
        }
        pa_topk_offer(heap, hn, cap, d0, ids[i]);
        pa_topk_offer(heap, hn, cap, d1, ids[i + 1]);
        pa_topk_offer(heap, hn, cap, d2, ids[i + 2]);
        pa_topk_offer(heap, hn, cap, d3, ids[i + 3]);
    }
    adc8_rows(codes, ids, i, n, M, table, base, heap, hn, cap);
}

/* Offers the rows of a group whose lanes are set in mask (lane l: row i + l). */
static inline void adc_offer_lanes(const float *d, uint32_t mask, const uint64_t *ids, uint64_t i,
                                   pa_topk_cand *heap, uint32_t *hn, uint32_t cap)
{
    while (mask) {
        const int l = __builtin_ctz(mask);
        mask &= mask - 1;
        pa_topk_offer(heap, hn, cap, d[l], ids[i + (uint64_t)l]);
    }
}

__attribute__((target("avx2"))) static void adc8_avx2(const uint8_t *codes, const uint64_t *ids,
                                                      uint64_t n, uint32_t M, const float *table,
                                                      float base, pa_topk_cand *heap, uint32_t *hn,
                                                      uint32_t cap)
{
    uint64_t i = 0;
    float d[16];
    for (; i + 16 <= n; i += 16) {
        __m256 a0 = _mm256_set1_ps(base), a1 = a0;
        const uint8_t *cm = codes + i;
        for (uint32_t m = 0; m < M; m++, cm += n) {
            const __m128i c = _mm_loadu_si128((const __m128i *)cm);
            const float *t = table + m * 256;
            a0 = _mm256_add_ps(a0, _mm256_i32gather_ps(t, _mm256_cvtepu8_epi32(c), 4));
            a1 = _mm256_add_ps(a1,
                               _mm256_i32gather_ps(t, _mm256_cvtepu8_epi32(_mm_srli_si128(c, 8)),
                                                   4));
        }
        uint32_t mask = 0xffff;
        if (*hn == cap) {
            const __m256 w = _mm256_set1_ps(heap[0].d);
            mask = (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(a0, w, _CMP_LE_OQ)) |
                   (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(a1, w, _CMP_LE_OQ)) << 8;
        }
        if (mask) {
            _mm256_storeu_ps(d, a0), _mm256_storeu_ps(d + 8, a1);
            adc_offer_lanes(d, mask, ids, i, heap, hn, cap);
        }
    }
    adc8_rows(codes, ids, i, n, M, table, base, heap, hn, cap);
}

__attribute__((target("avx512f"))) static void
adc8_avx512(const uint8_t *codes, const uint64_t *ids, uint64_t n, uint32_t M, const float *table,
            float base, pa_topk_cand *heap, uint32_t *hn, uint32_t cap)
{
    uint64_t i = 0;
    float d[32];
    for (; i + 32 <= n; i += 32) {
        __m512 a0 = _mm512_set1_ps(base), a1 = a0;
        const uint8_t *cm = codes + i;
        for (uint32_t m = 0; m < M; m++, cm += n) {
            const float *t = table + m * 256;
            a0 = _mm512_add_ps(a0, _mm512_i32gather_ps(_mm512_cvtepu8_epi32(
                                                           _mm_loadu_si128((const __m128i *)cm)),
                                                       t, 4));
            a1 = _mm512_add_ps(a1, _mm512_i32gather_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(
                                                           (const __m128i *)(cm + 16))),
                                                       t, 4));
        }
        uint32_t mask = 0xffffffffu;
        if (*hn == cap) {
            const __m512 w = _mm512_set1_ps(heap[0].d);
            mask = (uint32_t)_mm512_cmp_ps_mask(a0, w, _CMP_LE_OQ) |
                   (uint32_t)_mm512_cmp_ps_mask(a1, w, _CMP_LE_OQ) << 16;
        }
        if (mask) {
            _mm512_storeu_ps(d, a0), _mm512_storeu_ps(d + 16, a1);
            adc_offer_lanes(d, mask, ids, i, heap, hn, cap);
        }
    }
    adc8_rows(codes, ids, i, n, M, table, base, heap, hn, cap);
}

void pa_adc8_scan(const uint8_t *codes, const uint64_t *ids, uint64_t n, uint32_t M,
                  const float *table, float base, pa_topk_cand *heap, uint32_t *hn, uint32_t cap)
{
    static void (*const fns[])(const uint8_t *, const uint64_t *, uint64_t, uint32_t, const float *,
                               float, pa_topk_cand *, uint32_t *,
                               uint32_t) = {adc8_scalar, adc8_avx2, adc8_avx512};
    fns[fs_choose()](codes, ids, n, M, table, base, heap, hn, cap);
}
