/* FastLanes bit-packing, the layout Lance 2.1 uses for InlineBitpacking mini-blocks.
 *
 * A chunk is 1024 values of a T-bit unsigned type (T = 8, 16, 32, 64) packed at W bits each.
 * The 1024 values are viewed as T rows of 1024/T lanes; lane l's T values are packed one after
 * another into the W words packed[l], packed[l + lanes], packed[l + 2*lanes], ... (low bits
 * first), and row r of lane l holds value number index(r, l) below — the "transposed" order that
 * lets SIMD units unpack 1024/T lanes at once. Here we only need a correct scalar version. */
#include "lance/lance_internal.h"

static const unsigned fl_order[8] = {0, 4, 2, 6, 1, 5, 3, 7};

/* Position in the logical 1024-value array of row `row` of lane `lane`. */
static inline unsigned fl_index(unsigned row, unsigned lane)
{
    return fl_order[row / 8] * 16 + (row % 8) * 128 + lane;
}

/* Loads word i of a T-bit array. */
static inline uint64_t load_word(const uint8_t *p, unsigned t, size_t i)
{
    switch (t) {
    case 8: return p[i];
    case 16: return pa_ld16(p + 2 * i);
    case 32: return pa_ld32(p + 4 * i);
    default: return pa_ld64(p + 8 * i);
    }
}

/* Stores word i of a T-bit array. */
static inline void store_word(uint8_t *p, unsigned t, size_t i, uint64_t v)
{
    switch (t) {
    case 8: p[i] = (uint8_t)v; break;
    case 16: pa_st16(p + 2 * i, (uint16_t)v); break;
    case 32: pa_st32(p + 4 * i, (uint32_t)v); break;
    default: pa_st64(p + 8 * i, v); break;
    }
}

/* Unpacks 1024 values of t bits packed at w bits each (w <= t); see the file comment. */
void pa_fastlanes_unpack(unsigned t, unsigned w, const void *packed, void *out)
{
    const uint8_t *in = packed;
    uint8_t *o = out;
    const unsigned lanes = 1024 / t;
    const uint64_t mask = w >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << w) - 1);
    for (unsigned lane = 0; lane < lanes; lane++) {
        for (unsigned row = 0; row < t; row++) {
            uint64_t v = 0;
            if (w) {
                unsigned bit = row * w, word = bit / t, shift = bit % t;
                v = load_word(in, t, (size_t)lanes * word + lane) >> shift;
                if (shift + w > t)
                    v |= load_word(in, t, (size_t)lanes * (word + 1) + lane) << (t - shift);
                v &= mask;
            }
            store_word(o, t, fl_index(row, lane), v);
        }
    }
}

/* Packs 1024 values of t bits at w bits each (bits above w are dropped); inverse of unpack. */
void pa_fastlanes_pack(unsigned t, unsigned w, const void *in, void *packed)
{
    const uint8_t *src = in;
    uint8_t *out = packed;
    const unsigned lanes = 1024 / t;
    const uint64_t mask = w >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << w) - 1);
    const uint64_t tmask = t >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << t) - 1);
    memset(out, 0, (size_t)1024 * w / 8);
    if (!w)
        return;
    for (unsigned lane = 0; lane < lanes; lane++) {
        for (unsigned row = 0; row < t; row++) {
            uint64_t v = load_word(src, t, fl_index(row, lane)) & mask;
            unsigned bit = row * w, word = bit / t, shift = bit % t;
            size_t i = (size_t)lanes * word + lane;
            store_word(out, t, i, load_word(out, t, i) | ((v << shift) & tmask));
            if (shift + w > t) {
                size_t j = (size_t)lanes * (word + 1) + lane;
                store_word(out, t, j, load_word(out, t, j) | (v >> (t - shift)));
            }
        }
    }
}
