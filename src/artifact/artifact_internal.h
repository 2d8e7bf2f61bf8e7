/* Internal interface of the artifact room (src/artifact): the in-memory manifest shared by the
 * writer (which builds and commits it) and the reader (which parses and checks it). */
#ifndef PA_ARTIFACT_INTERNAL_H
#define PA_ARTIFACT_INTERNAL_H

#include "common/common.h"
#include "lance/lance_internal.h"

#define PA_ARTIFACT_MANIFEST PA_ARTIFACT_MANIFEST_FILE /* partifact.h */
#define PA_ARTIFACT_PARTS_DIR "partitions"

/* Column names and order of every bucket file. */
#define PA_ARTIFACT_COL_ROW_ID "row_id"
#define PA_ARTIFACT_COL_PART_ID "part_id"
#define PA_ARTIFACT_COL_CODE "pq_code"

typedef struct pa_range {
    uint64_t offset, num_rows;
} pa_range;

typedef struct pa_part_ranges {
    uint64_t num_rows;
    pa_range *ranges;
    uint32_t num_ranges, cap_ranges;
} pa_part_ranges;

typedef struct pa_artifact_file_rec {
    char *path;      /* relative to the artifact directory */
    uint64_t rows, bytes, xxh64;
} pa_artifact_file_rec;

/* Everything manifest.json says. */
typedef struct pa_manifest {
    uint32_t num_partitions, num_buckets, code_bytes, num_bits, dimension;
    char *metric;
    char *model;           /* may be NULL */
    uint64_t model_xxh64;
    uint64_t total_rows;
    pa_artifact_file_rec *files;
    uint32_t num_files;
    pa_part_ranges *parts; /* num_partitions entries; partition p lives in file p % num_buckets */
} pa_manifest;

/* Appends a range to a partition's list (amortised growth). */
pa_status pa_part_add_range(pa_part_ranges *p, uint64_t offset, uint64_t num_rows);

/* Serialises m to JSON and commits it as dir/manifest.json (temp file, fsync, rename, fsync dir). */
pa_status pa_manifest_commit(const pa_manifest *m, const char *dir);

/* Parses and checks dir/manifest.json (structure, ranges against file row counts, totals). */
pa_status pa_manifest_load(pa_manifest *m, const char *dir);

void pa_manifest_clear(pa_manifest *m);

/* "partitions/bucket-00005.lance" for bucket 5. */
void pa_artifact_bucket_path(uint32_t bucket, char *buf, size_t len);

/* XXH64 of a whole file, streamed in 1 MiB reads (counted in *bytes if not NULL). */
pa_status pa_file_xxh64(const char *path, uint64_t *hash, uint64_t *bytes);

/* The model XXH64 the manifest records (0 if no model is recorded). */
uint64_t pa_artifact_model_xxh64(const pa_artifact *a);

#endif
