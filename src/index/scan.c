/* The plain ADC scans (see scan.h): one table entry per sub-vector code, summed in sub-space
 * order, so a row's distance does not depend on the blocking. 8-bit codes go to the SIMD
 * kernels of fastscan.h; 4-bit ones are summed here four rows at a time, each row's sum in a
 * register (a code byte of the four rows is adjacent in the transposed layout). */
#include "index/scan.h"
#include "common/pq_code.h"
#include "index/fastscan.h"

/* Offers four consecutive rows' distances to the heap, in row order. */
static inline void push4(pa_topk_cand *heap, uint32_t *hn, uint32_t cap, float d0, float d1,
                         float d2, float d3, const uint64_t *ids)
{
    pa_topk_push(heap, hn, cap, d0, ids[0]);
    pa_topk_push(heap, hn, cap, d1, ids[1]);
    pa_topk_push(heap, hn, cap, d2, ids[2]);
    pa_topk_push(heap, hn, cap, d3, ids[3]);
}


/* 4-bit codes: byte j of a row holds sub-vector 2j (low nibble) and 2j+1 (high nibble), table
 * rows of 16; the two entries of a byte are added in that order. */
static void scan4(const uint8_t *codes, const uint64_t *ids, uint64_t n, uint32_t M,
                  const float *table, float base, pa_topk_cand *heap, uint32_t *hn, uint32_t cap)
{
    const uint32_t W = pa_pq_code_bytes(M, PA_PQ_BITS_4);
    uint64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float d0 = base, d1 = base, d2 = base, d3 = base;
        const uint8_t *cj = codes + i;
        for (uint32_t j = 0; j < W; j++, cj += n) {
            const float *lo = table + (size_t)j * 32, *hi = lo + 16;
            d0 += lo[cj[0] & 15], d1 += lo[cj[1] & 15], d2 += lo[cj[2] & 15], d3 += lo[cj[3] & 15];
            d0 += hi[cj[0] >> 4], d1 += hi[cj[1] >> 4], d2 += hi[cj[2] >> 4], d3 += hi[cj[3] >> 4];
        }
        push4(heap, hn, cap, d0, d1, d2, d3, ids + i);
    }
    for (; i < n; i++) {
        float d = base;
        const uint8_t *cj = codes + i;
        for (uint32_t j = 0; j < W; j++, cj += n) {
            d += table[(size_t)j * 32 + (cj[0] & 15)];
            d += table[(size_t)j * 32 + 16 + (cj[0] >> 4)];
        }
        pa_topk_push(heap, hn, cap, d, ids[i]);
    }
}

void pa_scan_codes(const uint8_t *codes, const uint64_t *ids, uint64_t n, uint32_t M, uint32_t bits,
                   const float *table, float base, pa_topk_cand *heap, uint32_t *hn, uint32_t cap)
{
    if (bits == PA_PQ_BITS_4)
        scan4(codes, ids, n, M, table, base, heap, hn, cap);
    else
        pa_adc8_scan(codes, ids, n, M, table, base, heap, hn, cap); /* fastscan.h */
}
