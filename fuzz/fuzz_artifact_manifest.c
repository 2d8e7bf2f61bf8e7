/* Fuzz target: an artifact's manifest.json. The artifact directory holds the real bucket files
 * of a small artifact (fuzz/data/artifact/partitions) and the input as manifest.json; the
 * target opens the artifact (which checks the manifest against the files) and, when that
 * works, reads every partition, verifies the artifact and scans it with read-ahead. */
#include "fuzz_common.h"

static char art_dir[600], man_path[700];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    snprintf(art_dir, sizeof art_dir, "%s/artifact", fz_scratch());
    mkdir(art_dir, 0755);
    char p[700];
    snprintf(p, sizeof p, "%s/partitions", art_dir);
    fz_copy_dir(PA_FUZZ_DATA "/artifact/partitions", p);
    snprintf(man_path, sizeof man_path, "%s/manifest.json", art_dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_write(man_path, data, size);
    pa_artifact *a;
    if (pa_artifact_open(&a, art_dir) != PA_OK)
        return 0;
    pa_artifact_info info = PA_ARTIFACT_INFO_INIT;
    pa_artifact_get_info(a, &info);
    for (uint32_t f = 0; f < info.num_files; f++) {
        const char *path;
        uint64_t rows, bytes;
        (void)pa_artifact_file(a, f, &path, &rows, &bytes);
    }
    for (uint32_t p = 0; p < info.num_partitions && p < 4096; p++) {
        uint64_t rows, off, n;
        uint32_t file, nr;
        if (pa_artifact_partition(a, p, &rows, &file, &nr) != PA_OK)
            continue;
        for (uint32_t r = 0; r < nr; r++)
            (void)pa_artifact_range(a, p, r, &off, &n);
        if (rows > (1u << 20) || (uint64_t)info.code_bytes * rows > (64u << 20))
            continue;
        uint64_t *ids = malloc(8 * rows + 8);
        uint8_t *codes = malloc(info.code_bytes * rows + 1);
        if (ids && codes)
            (void)pa_artifact_read_partition(a, p, ids, codes);
        free(ids), free(codes);
    }
    (void)pa_artifact_bytes_read(a);
    pa_artifact_verify_report rep = PA_ARTIFACT_VERIFY_REPORT_INIT;
    (void)pa_artifact_verify(a, &rep);
    pa_artifact_scan *s;
    if (pa_artifact_scan_create(&s, a, 1u << 20, 1) == PA_OK) {
        for (uint32_t i = 0; i <= info.num_partitions && i < 4096; i++) {
            uint32_t part;
            const uint64_t *ids;
            const uint8_t *codes;
            uint64_t n;
            if (pa_artifact_scan_next(s, &part, &ids, &codes, &n) != PA_OK)
                break;
        }
        pa_artifact_scan_free(s);
    }
    pa_artifact_free(a);
    return 0;
}
