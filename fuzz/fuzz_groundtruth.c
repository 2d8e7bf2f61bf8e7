/* Fuzz target: the ground-truth reader (search --groundtruth, pa_ids_read): the first input
 * byte picks the format (even: .ivecs of int32 ids, odd: .npy of uint64/int64/int32 ids), the
 * rest is the file. When it reads, every id is touched and recall@k of the ids against
 * themselves is computed, as search does against its results. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char path[600];
    snprintf(path, sizeof path, "%s/gt.%s", fz_scratch(), data[0] & 1 ? "npy" : "ivecs");
    fz_write(path, data + 1, size - 1);
    uint64_t *ids = NULL, n = 0;
    uint32_t k = 0;
    if (pa_ids_read(path, &ids, &n, &k) == PA_OK && n && k) {
        uint64_t sum = 0;
        for (uint64_t i = 0; i < n * k; i++)
            sum += ids[i];
        __asm__ volatile("" : : "r"(sum));
        double recall;
        (void)pa_recall_at_k(ids, k, ids, k, n, k, &recall);
    }
    free(ids);
    return 0;
}
