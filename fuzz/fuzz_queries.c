/* Fuzz target: the whole-input reader that search and groundtruth read their queries with
 * (pa_vec_input_read_all). The first input byte picks what the rest is (modulo 5): 0 .fvecs,
 * 1 .bvecs, 2 .ivecs, 3 .npy, 4 a Lance dataset's manifest (_versions/1.manifest) next to the
 * real data files of fuzz/data/dataset/data (one partifact wrote, two LanceDB wrote). Every
 * input is read whole, with and without skip_invalid, and both ends of the rows read are
 * touched. */
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return fz_dataset_init();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char *const ext[] = {"fvecs", "bvecs", "ivecs", "npy"};
    char path[700];
    unsigned pick = data[0] % 5;
    if (pick == 4) {
        snprintf(path, sizeof path, "%s", fz_ds_dir);
        fz_write(fz_ds_manifest, data + 1, size - 1);
    } else {
        snprintf(path, sizeof path, "%s/queries.%s", fz_scratch(), ext[pick]);
        fz_write(path, data + 1, size - 1);
    }
    for (int skip = 0; skip < 2; skip++) {
        pa_vec_input_options o = {.struct_size = sizeof o, .skip_invalid = skip};
        float *q = NULL;
        uint64_t n = 0;
        uint32_t dim = 0;
        if (pa_vec_input_read_all(path, &o, &q, &n, &dim) == PA_OK && n && dim) {
            float ends = q[0] + q[n * dim - 1]; /* both ends must be readable */
            __asm__ volatile("" : : "r"(ends));
        }
        free(q);
    }
    return 0;
}
