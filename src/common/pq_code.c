/* PQ code widths (see pq_code.h). */
#include "common/pq_code.h"

pa_status pa_pq_check_bits(uint32_t M, uint32_t bits)
{
    if (bits != PA_PQ_BITS_8 && bits != PA_PQ_BITS_4)
        return pa_fail_field(PA_ERR_INVALID, "num_bits", "num_bits must be 8 or 4, got %u", bits);
    if (bits == PA_PQ_BITS_4 && M % 2)
        return pa_fail_field(PA_ERR_INVALID, "num_sub_vectors",
                             "num_sub_vectors must be even for 4-bit codes (two codes per "
                             "byte), got %u",
                             M);
    return PA_OK;
}
