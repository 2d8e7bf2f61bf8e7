/* The 4-bit fast scan (see fastscan.h): blocked layout, quantised tables, the shuffle kernels
 * and the candidate selection with exact distances. */
#include "index/fastscan.h"
#include "ivfpq/ivfpq_internal.h"

#include <immintrin.h>
#include <math.h>
#include <stdatomic.h>

#define HALF (PA_FS_BLOCK / 2) /* bytes per sub-space in a block */

void pa_fs_pack(const uint8_t *codes, uint64_t n, uint32_t M, uint8_t *blocks)
{
    const uint32_t Mp = pa_fs_padded_m(M);
    memset(blocks, 0, (size_t)pa_fs_layout_bytes(n, M));
    for (uint32_t m = 0; m < M; m++) {
        const uint8_t *row = codes + (uint64_t)(m / 2) * n; /* byte row m/2 of the partition */
        const unsigned shift = (m % 2) * 4;
        for (uint64_t i = 0; i < n; i++) {
            const uint8_t c = (uint8_t)((row[i] >> shift) & 15u);
            uint8_t *b = blocks + (i / PA_FS_BLOCK) * Mp * HALF + m * HALF + (i % HALF);
            *b |= (uint8_t)((i % PA_FS_BLOCK) < HALF ? c : c << 4);
        }
    }
}

void pa_fs_quantize(const float *table, uint32_t M, uint8_t *lut, float *bias, float *delta)
{
    const uint32_t Mp = pa_fs_padded_m(M), qmax = PA_MIN(255u, 65535u / PA_MAX(M, 1));
    float range = 0, b = 0;
    for (uint32_t m = 0; m < M; m++) {
        const float *t = table + m * PA_FS_KSUB;
        float lo = t[0], hi = t[0];
        for (uint32_t j = 1; j < PA_FS_KSUB; j++)
            lo = PA_MIN(lo, t[j]), hi = PA_MAX(hi, t[j]);
        range = PA_MAX(range, hi - lo);
        b += lo;
    }
    const float d = range > 0 ? range / (float)qmax : 1.0f, inv = 1.0f / d;
    for (uint32_t m = 0; m < M; m++) {
        const float *t = table + m * PA_FS_KSUB;
        float lo = t[0];
        for (uint32_t j = 1; j < PA_FS_KSUB; j++)
            lo = PA_MIN(lo, t[j]);
        for (uint32_t j = 0; j < PA_FS_KSUB; j++) {
            const float q = floorf((t[j] - lo) * inv + 0.5f);
            lut[m * PA_FS_KSUB + j] = (uint8_t)(q > (float)qmax ? qmax : q < 0 ? 0 : q);
        }
    }
    memset(lut + M * PA_FS_KSUB, 0, (size_t)(Mp - M) * PA_FS_KSUB);
    *bias = b, *delta = d;
}

/* ---- the kernels: every row's quantised sum, 32 rows a block ---- */

static void accumulate_scalar(const uint8_t *blocks, uint64_t nb, uint32_t Mp, const uint8_t *lut,
                              uint16_t *sums)
{
    for (uint64_t b = 0; b < nb; b++) {
        const uint8_t *blk = blocks + b * Mp * HALF;
        uint32_t s[PA_FS_BLOCK] = {0};
        for (uint32_t m = 0; m < Mp; m++) {
            const uint8_t *c = blk + m * HALF, *l = lut + m * PA_FS_KSUB;
            for (uint32_t i = 0; i < HALF; i++) {
                s[i] += l[c[i] & 15u];
                s[HALF + i] += l[c[i] >> 4];
            }
        }
        for (uint32_t i = 0; i < PA_FS_BLOCK; i++)
            sums[b * PA_FS_BLOCK + i] = (uint16_t)s[i];
    }
}

/* Rows 0..15 of a block from the even-row and odd-row sums (8 words each). */
static inline void store_rows(__m128i even, __m128i odd, uint16_t *out)
{
    _mm_storeu_si128((__m128i *)out, _mm_unpacklo_epi16(even, odd));
    _mm_storeu_si128((__m128i *)(out + 8), _mm_unpackhi_epi16(even, odd));
}

/* Two sub-spaces per register: lane 0 sub-space m, lane 1 m+1. The shuffled bytes are added as
 * 16-bit words twice, once masked (even rows) and once shifted (odd rows). */
__attribute__((target("avx2"))) static void
accumulate_avx2(const uint8_t *blocks, uint64_t nb, uint32_t Mp, const uint8_t *lut, uint16_t *sums)
{
    const __m256i low4 = _mm256_set1_epi8(15), low8 = _mm256_set1_epi16(0xff);
    for (uint64_t b = 0; b < nb; b++) {
        const uint8_t *blk = blocks + b * Mp * HALF;
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        for (uint32_t m = 0; m < Mp; m += 2) {
            const __m256i c = _mm256_loadu_si256((const __m256i *)(blk + m * HALF));
            const __m256i l = _mm256_loadu_si256((const __m256i *)(lut + m * PA_FS_KSUB));
            const __m256i lo = _mm256_shuffle_epi8(l, _mm256_and_si256(c, low4));
            const __m256i hi = _mm256_shuffle_epi8(l,
                                                   _mm256_and_si256(_mm256_srli_epi16(c, 4), low4));
            a0 = _mm256_add_epi16(a0, _mm256_and_si256(lo, low8));
            a1 = _mm256_add_epi16(a1, _mm256_srli_epi16(lo, 8));
            a2 = _mm256_add_epi16(a2, _mm256_and_si256(hi, low8));
            a3 = _mm256_add_epi16(a3, _mm256_srli_epi16(hi, 8));
        }
#define PA_LANES2(a) _mm_add_epi16(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1))
        store_rows(PA_LANES2(a0), PA_LANES2(a1), sums + b * PA_FS_BLOCK);
        store_rows(PA_LANES2(a2), PA_LANES2(a3), sums + b * PA_FS_BLOCK + HALF);
#undef PA_LANES2
    }
}

/* Four sub-spaces per register (lane k: sub-space m+k); otherwise as the AVX2 kernel. */
__attribute__((target("avx512f,avx512bw"))) static void accumulate_avx512(const uint8_t *blocks,
                                                                          uint64_t nb, uint32_t Mp,
                                                                          const uint8_t *lut,
                                                                          uint16_t *sums)
{
    const __m512i low4 = _mm512_set1_epi8(15), low8 = _mm512_set1_epi16(0xff);
    for (uint64_t b = 0; b < nb; b++) {
        const uint8_t *blk = blocks + b * Mp * HALF;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
        for (uint32_t m = 0; m < Mp; m += 4) {
            const __m512i c = _mm512_loadu_si512((const void *)(blk + m * HALF));
            const __m512i l = _mm512_loadu_si512((const void *)(lut + m * PA_FS_KSUB));
            const __m512i lo = _mm512_shuffle_epi8(l, _mm512_and_si512(c, low4));
            const __m512i hi = _mm512_shuffle_epi8(l,
                                                   _mm512_and_si512(_mm512_srli_epi16(c, 4), low4));
            a0 = _mm512_add_epi16(a0, _mm512_and_si512(lo, low8));
            a1 = _mm512_add_epi16(a1, _mm512_srli_epi16(lo, 8));
            a2 = _mm512_add_epi16(a2, _mm512_and_si512(hi, low8));
            a3 = _mm512_add_epi16(a3, _mm512_srli_epi16(hi, 8));
        }
#define PA_LANES4(a)                                                                         \
    _mm_add_epi16(_mm_add_epi16(_mm512_castsi512_si128(a), _mm512_extracti32x4_epi32(a, 1)), \
                  _mm_add_epi16(_mm512_extracti32x4_epi32(a, 2), _mm512_extracti32x4_epi32(a, 3)))
        store_rows(PA_LANES4(a0), PA_LANES4(a1), sums + b * PA_FS_BLOCK);
        store_rows(PA_LANES4(a2), PA_LANES4(a3), sums + b * PA_FS_BLOCK + HALF);
#undef PA_LANES4
    }
}

static _Atomic int fs_chosen = -1; /* 0 scalar, 1 avx2, 2 avx512 */

/* The nearest-codeword kernels' choice (PA_KERNEL included), narrowed to what this CPU runs:
 * the AVX-512 kernel needs BW for its byte shuffles. */
static int fs_choose(void)
{
    int c = atomic_load(&fs_chosen);
    if (c >= 0)
        return c;
    const char *k = pa_kernel_name();
    __builtin_cpu_init();
    c = !strcmp(k, "avx512") ? 2 : !strcmp(k, "avx2") ? 1 : 0;
    if (c == 2 && !__builtin_cpu_supports("avx512bw"))
        c = __builtin_cpu_supports("avx2") ? 1 : 0;
    atomic_store(&fs_chosen, c);
    return c;
}

bool pa_fs_kernel_set(const char *name)
{
    __builtin_cpu_init();
    const int want = !strcmp(name, "avx512") ? 2 : !strcmp(name, "avx2") ? 1 : 0;
    if (want == 2 && !(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")))
        return false;
    if (want == 1 && !__builtin_cpu_supports("avx2"))
        return false;
    atomic_store(&fs_chosen, want);
    return true;
}

const char *pa_fs_kernel_name(void)
{
    static const char *names[] = {"scalar", "avx2", "avx512"};
    return names[fs_choose()];
}

void pa_fs_accumulate(const uint8_t *blocks, uint64_t nb, uint32_t Mp, const uint8_t *lut,
                      uint16_t *sums)
{
    static void (*const fns[])(const uint8_t *, uint64_t, uint32_t, const uint8_t *,
                               uint16_t *) = {accumulate_scalar, accumulate_avx2,
                                              accumulate_avx512};
    fns[fs_choose()](blocks, nb, Mp, lut, sums);
}

/* ---- selection ---- */

pa_status pa_fs_scratch_init(pa_fs_scratch *s, uint32_t M, uint64_t max_rows)
{
    s->lut = malloc((size_t)pa_fs_padded_m(M) * PA_FS_KSUB);
    s->sums = malloc(sizeof(uint16_t) * PA_FS_BLOCK * pa_fs_blocks(PA_MAX(max_rows, 1)));
    if (s->lut && s->sums)
        return PA_OK;
    pa_fs_scratch_free(s);
    return pa_fail(PA_ERR_NOMEM, "out of memory for the fast scan's tables");
}

void pa_fs_scratch_free(pa_fs_scratch *s)
{
    free(s->lut), free(s->sums);
    s->lut = NULL, s->sums = NULL;
}

/* The largest quantised sum whose approximate distance a + delta * q is at most worst (-1: none;
 * 65535: all). The distance grows with q, so the rows above it cannot enter the heap. */
static int32_t sum_limit(float a, float delta, float worst)
{
    if (!(a + delta * 0.0f <= worst))
        return -1;
    double g = floor(((double)worst - a) / delta);
    int32_t q = g > 65535 ? 65535 : g < 0 ? 0 : (int32_t)g;
    while (q > 0 && a + delta * (float)q > worst)
        q--;
    while (q < 65535 && a + delta * (float)(q + 1) <= worst)
        q++;
    return q;
}

uint64_t pa_fs_scan_partition(const uint8_t *blocks, const uint64_t *ids, uint64_t n, uint32_t M,
                              const float *table, float base, pa_fs_scratch *s, pa_topk_cand *heap,
                              uint32_t *hn, uint32_t cap)
{
    const uint32_t Mp = pa_fs_padded_m(M);
    float bias, delta;
    pa_fs_quantize(table, M, s->lut, &bias, &delta);
    pa_fs_accumulate(blocks, pa_fs_blocks(n), Mp, s->lut, s->sums);
    const float a = base + bias;
    int32_t limit = *hn < cap ? 65535 : sum_limit(a, delta, heap[0].d);
    uint64_t exact = 0;
    for (uint64_t i = 0; i < n && limit >= 0; i++) {
        if ((int32_t)s->sums[i] > limit)
            continue;
        const pa_topk_cand c = {a + delta * (float)s->sums[i], 0, ids[i]};
        if (*hn == cap && !pa_topk_worse(&heap[0], &c))
            continue;
        float d = base; /* the exact distance, summed as the plain scan sums it */
        for (uint32_t m = 0; m < M; m++)
            d += table[m * PA_FS_KSUB + pa_fs_code(blocks, Mp, i, m)];
        pa_topk_push_aux(heap, hn, cap, c.d, ids[i], d);
        exact++;
        if (*hn == cap)
            limit = sum_limit(a, delta, heap[0].d);
    }
    return exact;
}
