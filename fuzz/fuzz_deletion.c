/* Fuzz target: a Lance table's deletion file (_deletions/N-V-ID.arrow or .bin, read by every
 * scan of a table with deleted rows): the first input byte picks the kind (even: the Arrow IPC
 * array, odd: the Roaring bitmap), the next two the deleted-row count the manifest would claim
 * (little endian), the rest is the file. The fragment has 2^20 rows. When it reads, every deleted
 * offset is looked up and the live rows are located by rank. */
#include "fuzz_common.h"
#include "lance/lance_internal.h"

#define FZ_FRAGMENT_ROWS (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    char path[600];
    snprintf(path, sizeof path, "%s/0-1-2.%s", fz_scratch(), data[0] & 1 ? "bin" : "arrow");
    fz_write(path, data + 3, size - 3);
    uint64_t claimed = (uint64_t)data[1] | (uint64_t)data[2] << 8;
    void *bm = NULL;
    if (pa_deletion_read(path, data[0] & 1, claimed, FZ_FRAGMENT_ROWS, &bm) == PA_OK) {
        uint64_t live = FZ_FRAGMENT_ROWS - claimed, sum = 0;
        for (uint32_t k = 0; k < live && k < 4096; k += 7)
            sum += pa_deletion_nth_live(bm, k) + (uint64_t)pa_deletion_has(bm, k);
        __asm__ volatile("" : : "r"(sum));
    }
    pa_deletion_free(bm);
    return 0;
}
