/* Fuzz target: a Lance dataset manifest (_versions/N.manifest: protobuf + footer). The dataset
 * directory holds real data files (fuzz/data/dataset/data: one written by partifact, one by
 * LanceDB) and the input as its only manifest; the target opens the dataset and, when that
 * works, looks up every fragment's file for every field and scans every column. */
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return fz_dataset_init();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_write(fz_ds_manifest, data, size);
    pa_dataset *ds;
    if (pa_dataset_open(&ds, fz_ds_dir) != PA_OK)
        return 0;
    (void)pa_dataset_version(ds);
    (void)pa_dataset_num_rows(ds);
    size_t nf = pa_dataset_num_fields(ds), nfr = pa_dataset_num_fragments(ds);
    for (size_t i = 0; i < nfr && i < 64; i++) {
        uint64_t id, rows;
        (void)pa_dataset_fragment(ds, i, &id, &rows);
        for (size_t c = 0; c < nf; c++) {
            pa_field f;
            char path[4096];
            size_t col;
            if (pa_dataset_field(ds, c, &f) == PA_OK)
                (void)pa_dataset_fragment_file(ds, i, f.name, path, sizeof path, &col);
        }
    }
    for (size_t c = 0; c < nf; c++) {
        pa_field f;
        if (pa_dataset_field(ds, c, &f) != PA_OK)
            continue;
        pa_dataset_scan *s;
        if (pa_dataset_scan_create(&s, ds, f.name, 1000) != PA_OK)
            continue;
        for (int b = 0; b < 64; b++) {
            const void *v;
            const uint64_t *addrs;
            size_t n;
            if (pa_dataset_scan_next(s, &v, &addrs, &n) != PA_OK || n == 0)
                break;
        }
        pa_dataset_scan_free(s);
    }
    pa_dataset_free(ds);
    return 0;
}
