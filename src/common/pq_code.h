/* PQ codes as Lance stores them: the one place that says how a row's sub-vector codes sit in
 * its code bytes (the model's encoder writes them, the index writer and search read them).
 *
 * - 8-bit codes (num_bits 8, 256 codewords per sub-space): one byte per sub-vector, byte m
 *   the code of sub-vector m; a row is M bytes.
 * - 4-bit codes (num_bits 4, 16 codewords per sub-space): two sub-vectors per byte, as Lance
 *   packs them (lance-index src/vector/pq.rs, ProductQuantizer::transform_impl:
 *   `(v[1] << 4) | v[0]` over pairs of sub-vector codes): byte j holds sub-vector 2j in its low
 *   nibble and sub-vector 2j + 1 in its high nibble; a row is M / 2 bytes, and M must be even.
 *
 * Lance's `__pq_code` column is fixed_size_list<uint8, code bytes>, and in an index
 * (auxiliary.idx) the code bytes are transposed within each partition: byte j of row i of a
 * partition of n rows at [j * n + i], whatever the bits (pq/storage.rs, transpose). */
#ifndef PA_PQ_CODE_H
#define PA_PQ_CODE_H

#include "common/common.h"

#define PA_PQ_BITS_4 4u /* the two code widths Lance knows */
#define PA_PQ_BITS_8 8u

/* Codewords per sub-space: 2^bits. */
static inline uint32_t pa_pq_codewords(uint32_t bits) { return 1u << bits; }

/* Bytes of one row's code: M for 8 bits, M / 2 for 4 (M even, see pa_pq_check_bits). */
static inline uint32_t pa_pq_code_bytes(uint32_t M, uint32_t bits)
{
    return bits == PA_PQ_BITS_4 ? M / 2 : M;
}

/* The code of sub-vector m in a row's code bytes. */
static inline uint32_t pa_pq_code_get(const uint8_t *row, uint32_t m, uint32_t bits)
{
    if (bits == PA_PQ_BITS_4)
        return (uint32_t)(row[m >> 1] >> ((m & 1) * 4)) & 0xFu;
    return row[m];
}

/* Sets the code of sub-vector m (less than 2^bits) in a row's code bytes; for 4 bits the other
 * nibble of the byte is kept. */
static inline void pa_pq_code_set(uint8_t *row, uint32_t m, uint32_t bits, uint32_t code)
{
    if (bits == PA_PQ_BITS_4) {
        const unsigned shift = (m & 1) * 4;
        row[m >> 1] = (uint8_t)((row[m >> 1] & ~(0xFu << shift)) | (code << shift));
    } else {
        row[m] = (uint8_t)code;
    }
}

/* Checks a code width for M sub-vectors: bits 8 or 4, and M even for 4 bits. PA_ERR_INVALID
 * naming num_bits / num_sub_vectors and what was expected; the caller prefixes its input. */
pa_status pa_pq_check_bits(uint32_t M, uint32_t bits);

#endif
