/* The ADC scan of one partition's codes with a float table: the one entry point search calls
 * per probed partition (src/index/search.c), whatever the code width and kernel. A faster
 * kernel (fast-scan over 4-bit codes, SIMD) goes behind this signature and must give the
 * results the scalar reference below gives (or say where it does not: quantised tables).
 *
 * Layout of the codes handed over (as auxiliary.idx stores them, see src/common/pq_code.h):
 * a partition of n rows, its code bytes transposed, byte j of row i at codes[j * n + i] for
 * j < W, W = pa_pq_code_bytes(M, bits): M for 8-bit codes (byte m = sub-vector m's code), M / 2
 * for 4-bit ones (byte j = sub-vector 2j's code in the low nibble, 2j+1's in the high one).
 * table: M x K floats, K = 2^bits, entry [m * K + c] the sub-distance of code c in sub-space m.
 * ids: the partition's n row ids, in the same row order. */
#ifndef PA_INDEX_SCAN_H
#define PA_INDEX_SCAN_H

#include "common/common.h"
#include "common/vecmath.h"

/* For every row i of the partition, d_i = base + sum over m (in sub-space order) of
 * table[m * K + code(i, m)], offered to the top-k heap (heap, *hn of cap) with ids[i]. */
void pa_scan_codes(const uint8_t *codes, const uint64_t *ids, uint64_t n, uint32_t M, uint32_t bits,
                   const float *table, float base, pa_topk_cand *heap, uint32_t *hn, uint32_t cap);

#endif
