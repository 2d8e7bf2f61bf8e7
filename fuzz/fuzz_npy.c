/* Fuzz target: a .npy file (magic, version, header dict, data). Opens it as a vector input and
 * streams every row, rewinds, and reads a few rows by ordinal; with and without
 * skip_invalid. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[600];
    snprintf(path, sizeof path, "%s/input.npy", fz_scratch());
    fz_write(path, data, size);
    fz_consume_vectors(path, 0);
    fz_consume_vectors(path, 1);
    return 0;
}
