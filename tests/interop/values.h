/* Value formulas shared by the C and JavaScript sides of the interop tests (values.mjs). All
 * floats are exactly representable, so both sides compare with ==. */
#ifndef PA_INTEROP_VALUES_H
#define PA_INTEROP_VALUES_H
#include <stdint.h>

static inline uint32_t iv_hash(uint32_t i, uint32_t j)
{
    uint32_t h = (i * 0x9E3779B1u) ^ (j * 0x85EBCA77u);
    h ^= h >> 15;
    h *= 0x2C1B3C6Du;
    h ^= h >> 12;
    return h;
}
static inline uint64_t iv_id(uint64_t i) { return i * 2654435761ull + 12345ull; }
static inline uint32_t iv_part(uint64_t i) { return (uint32_t)((i * 7) % 1000003); }
static inline float iv_score(uint64_t i) { return (float)(i % 4096) * 0.25f - 7.0f; }
static inline uint8_t iv_code(uint64_t i, uint32_t j)
{
    return (uint8_t)(iv_hash((uint32_t)i, j + 1000) & 255);
}
static inline float iv_vec(uint64_t i, uint32_t j)
{
    return (float)(iv_hash((uint32_t)i, j) % 65536) / 256.0f - 128.0f;
}
#endif
