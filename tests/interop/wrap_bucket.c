/* Wraps one bucket file of an artifact as a Lance dataset (for LanceDB to open), and dumps what
 * partifact's range reader returns for each partition of that bucket: u32 part, u64 rows, then
 * rows x u64 row ids and rows x M code bytes.
 * Usage: wrap_bucket ARTIFACT BUCKET OUT_DATASET OUT_EXPECTED */
#include "partifact.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 5)
        return 2;
    pa_artifact *a;
    if (pa_artifact_open(&a, argv[1]) != PA_OK) {
        fprintf(stderr, "%s\n", pa_last_error());
        return 1;
    }
    pa_artifact_info info = PA_ARTIFACT_INFO_INIT;
    pa_artifact_get_info(a, &info);
    uint32_t b = (uint32_t)atoi(argv[2]);
    const char *rel;
    pa_artifact_file(a, b, &rel, NULL, NULL);
    char file[4096];
    snprintf(file, sizeof file, "%s/%s", argv[1], rel);
    const char *files[] = {file};
    if (pa_dataset_wrap_files(argv[3], files, 1) != PA_OK) {
        fprintf(stderr, "%s\n", pa_last_error());
        return 1;
    }
    FILE *out = fopen(argv[4], "wb");
    for (uint32_t p = b; p < info.num_partitions; p += info.num_buckets) {
        uint64_t n;
        pa_artifact_partition(a, p, &n, NULL, NULL);
        uint64_t *ids = malloc(n * 8 + 8);
        uint8_t *codes = malloc(n * info.code_bytes + 1);
        if (pa_artifact_read_partition(a, p, ids, codes) != PA_OK) {
            fprintf(stderr, "%s\n", pa_last_error());
            return 1;
        }
        fwrite(&p, 4, 1, out);
        fwrite(&n, 8, 1, out);
        fwrite(ids, 8, n, out);
        fwrite(codes, info.code_bytes, n, out);
        free(ids);
        free(codes);
    }
    fclose(out);
    pa_artifact_free(a);
    return 0;
}
