/* Fuzz target: the two files of an IVF_PQ index (index.idx: centroids and the IVF protobuf;
 * auxiliary.idx: row ids, transposed codes, IVF offsets/lengths, the codebook tensor and the
 * JSON metadata), as search opens them. The first input byte picks the file the rest of the
 * input becomes (even: auxiliary.idx, odd: index.idx); the other file is the matching one of a
 * small real index (fuzz/data/index). When the index opens, it is searched with a few queries,
 * every partition probed. */
#include "fuzz_common.h"

static char idx_dir[600];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    snprintf(idx_dir, sizeof idx_dir, "%s/index", fz_scratch());
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char *names[2] = {"auxiliary.idx", "index.idx"};
    char path[700];
    snprintf(path, sizeof path, "%s/%s", idx_dir, names[data[0] & 1]);
    fz_copy_dir(PA_FUZZ_DATA "/index", idx_dir); /* the other file as it was */
    fz_write(path, data + 1, size - 1);
    pa_index *x;
    if (pa_index_open(&x, idx_dir) != PA_OK)
        return 0;
    pa_index_info info = PA_INDEX_INFO_INIT;
    pa_index_get_info(x, &info);
    if (info.dimension && info.dimension <= 4096 && info.num_rows) {
        enum { NQ = 2 };
        uint32_t k = info.num_rows < 3 ? (uint32_t)info.num_rows : 3;
        float *q = calloc((size_t)NQ * info.dimension, sizeof(float));
        uint64_t ids[NQ * 3];
        float dists[NQ * 3];
        if (q) {
            for (size_t i = 0; i < (size_t)NQ * info.dimension; i++)
                q[i] = (float)(i % 5) - 2.0f;
            pa_index_search_options o = {.struct_size = sizeof o,
                                         .k = k,
                                         .nprobes = info.num_partitions};
            (void)pa_index_search(x, q, NQ, info.dimension, &o, ids, dists, NULL);
        }
        free(q);
    }
    for (uint32_t p = 0; p < info.num_partitions && p < 64; p++) {
        const uint64_t *rid;
        const uint8_t *codes;
        uint64_t n;
        (void)pa_index_partition(x, p, &rid, &codes, &n);
    }
    pa_index_free(x);
    return 0;
}
