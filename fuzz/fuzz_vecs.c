/* Fuzz target: .fvecs, .bvecs and .ivecs files: the first input byte picks the extension
 * (0 fvecs, 1 bvecs, 2 ivecs, modulo 3), the rest is the file. Opens it as a vector input and
 * streams every row, rewinds, and reads a few rows by ordinal; with and without
 * skip_invalid. */
#include "fuzz_common.h"

static void consume(const char *path, int skip)
{
    pa_vec_input_options o = {.skip_invalid = skip};
    pa_vec_input *in;
    if (pa_vec_input_open(&in, path, &o) != PA_OK)
        return;
    uint32_t dim = pa_vec_input_dim(in);
    uint64_t rows = pa_vec_input_num_rows(in);
    if (dim == 0 || dim > (1u << 18)) {
        pa_vec_input_free(in);
        return;
    }
    size_t max_rows = (1u << 20) / dim ? (1u << 20) / dim : 1;
    if (max_rows > 512)
        max_rows = 512;
    float *x = malloc(sizeof(float) * max_rows * dim);
    uint64_t *ids = malloc(sizeof(uint64_t) * max_rows);
    if (x && ids) {
        for (int pass = 0; pass < 2; pass++) {
            size_t n;
            for (int b = 0; b < 256; b++)
                if (pa_vec_input_next(in, x, ids, max_rows, &n) != PA_OK || n == 0)
                    break;
            if (pa_vec_input_rewind(in) != PA_OK)
                break;
        }
        uint64_t want[3] = {0, rows / 2, rows ? rows - 1 : 0};
        if (rows && max_rows >= 3)
            (void)pa_vec_input_read_rows(in, want, 3, x);
        uint64_t past = rows;
        (void)pa_vec_input_read_rows(in, &past, 1, x); /* must be refused */
        (void)pa_vec_input_skipped(in);
    }
    free(x), free(ids);
    pa_vec_input_free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char *const ext[] = {"fvecs", "bvecs", "ivecs"};
    char path[600];
    snprintf(path, sizeof path, "%s/input.%s", fz_scratch(), ext[data[0] % 3]);
    fz_write(path, data + 1, size - 1);
    consume(path, 0);
    consume(path, 1);
    return 0;
}
