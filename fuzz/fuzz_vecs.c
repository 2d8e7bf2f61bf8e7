/* Fuzz target: .fvecs, .bvecs and .ivecs files: the first input byte picks the extension
 * (0 fvecs, 1 bvecs, 2 ivecs, modulo 3), the rest is the file. Opens it as a vector input and
 * streams every row, rewinds, and reads a few rows by ordinal; with and without
 * skip_invalid. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char *const ext[] = {"fvecs", "bvecs", "ivecs"};
    char path[600];
    snprintf(path, sizeof path, "%s/input.%s", fz_scratch(), ext[data[0] % 3]);
    fz_write(path, data + 1, size - 1);
    fz_consume_vectors(path, 0);
    fz_consume_vectors(path, 1);
    return 0;
}
