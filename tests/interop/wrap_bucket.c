/* Wraps one bucket file of an artifact as a Lance dataset (for LanceDB to open), and dumps what
 * partifact's range reader returns for each partition of that bucket: u32 part, u64 rows, then
 * rows x u64 row ids and rows x M code bytes.
 * A bucket file's first column is named _rowid (the upstream layout), which a Lance dataset
 * reserves for its own row ids (LanceDB refuses a table with such a column): the dataset wraps a
 * copy of the file whose schema names it "rowid_" (the same length, so every byte offset stays
 * as it was; the pages are the bucket file's own bytes).
 * Usage: wrap_bucket ARTIFACT BUCKET OUT_DATASET OUT_EXPECTED */
#include "partifact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    char src[4096], file[4200];
    snprintf(src, sizeof src, "%s/%s", argv[1], rel);
    snprintf(file, sizeof file, "%s.renamed.lance", argv[4]);
    FILE *in = fopen(src, "rb");
    fseek(in, 0, SEEK_END);
    long len = ftell(in);
    fseek(in, 0, SEEK_SET);
    char *buf = malloc((size_t)len);
    if (fread(buf, 1, (size_t)len, in) != (size_t)len)
        return 1;
    fclose(in);
    long at = -1; /* the schema is in the file's metadata, at its end: the last occurrence */
    for (long i = len - 6; i >= 0 && at < 0; i--)
        if (memcmp(buf + i, "_rowid", 6) == 0)
            at = i;
    if (at < 0) {
        fprintf(stderr, "%s: no _rowid column name\n", src);
        return 1;
    }
    memcpy(buf + at, "rowid_", 6);
    FILE *o = fopen(file, "wb");
    fwrite(buf, 1, (size_t)len, o);
    fclose(o);
    free(buf);
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
