/* Fuzz target: a .npy file (magic, version, header dict, data). Opens it as a vector input and
 * streams every row, rewinds, and reads a few rows by ordinal; with and without
 * skip_invalid. Then reads it as a file of neighbour ids (ground truth). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[600];
    snprintf(path, sizeof path, "%s/input.npy", fz_scratch());
    fz_write(path, data, size);
    fz_consume_vectors(path, 0);
    fz_consume_vectors(path, 1);
    uint64_t *ids = NULL, n = 0;
    uint32_t k = 0;
    if (pa_ids_read(path, &ids, &n, &k) == PA_OK && n * k > 0) {
        uint64_t ends = ids[0] ^ ids[n * k - 1]; /* both ends must be readable */
        __asm__ volatile("" : : "r"(ends));
    }
    free(ids);
    return 0;
}
