/* Internal interface of the artifact room (src/artifact): the in-memory manifest shared by the
 * writer (which builds and commits it) and the reader (which parses and checks it). */
#ifndef PA_ARTIFACT_INTERNAL_H
#define PA_ARTIFACT_INTERNAL_H

#include "common/common.h"
#include "lance/lance_internal.h"

#define PA_ARTIFACT_MANIFEST PA_ARTIFACT_MANIFEST_FILE /* partifact.h */
#define PA_ARTIFACT_PARTS_DIR "partitions"

/* The bucket files of the upstream layout (docs/artifact-format.md): exactly these two columns,
 * as Lance's partition-artifact builder declares them (_rowid uint64 not null, __pq_code
 * fixed_size_list<uint8, code_bytes>). */
#define PA_BUCKET_COL_ROW_ID "_rowid"
#define PA_BUCKET_COL_CODE "__pq_code"
/* The model file of the upstream layout, named by the manifest's metadata_file. */
#define PA_ARTIFACT_METADATA_FILE "metadata.lance"

/* Column names and order of a rows file (export-rows, finalize --rows) and of the bucket files
 * of the partifact 0.1 layout (read, never written). */
#define PA_ARTIFACT_COL_ROW_ID "row_id"
#define PA_ARTIFACT_COL_PART_ID "part_id"
#define PA_ARTIFACT_COL_CODE "pq_code"

/* The per-range checksum, named in the manifest: XXH3-64 (seed 0); see pa_range_checksum. */
#define PA_ARTIFACT_RANGE_CHECKSUM "xxh3_64"
/* Schema metadata of every bucket file partifact writes: the artifact's id and the bucket's
 * number (ignored by Lance's reader). */
#define PA_ARTIFACT_META_ID "partifact:artifact_id"
#define PA_ARTIFACT_META_BUCKET "partifact:bucket"
/* Schema metadata of a rows file export-rows writes: the XXH64 of the model its codes were made
 * with (16 hex digits), checked by finalize --rows when present. */
#define PA_ROWS_META_MODEL "partifact:model_xxh64"

typedef struct pa_range {
    uint64_t offset, num_rows;
    uint64_t xxh3; /* PA_ARTIFACT_RANGE_CHECKSUM of the range's rows (0: none recorded) */
} pa_range;

#define PA_NO_FILE UINT32_MAX

typedef struct pa_part_ranges {
    uint64_t num_rows;
    pa_range *ranges; /* the writer's own array; a loaded manifest's point into its table */
    uint32_t num_ranges, cap_ranges;
} pa_part_ranges;

typedef struct pa_artifact_file_rec {
    char *path;      /* relative to the artifact directory: partitions/bucket-NNNNN.lance */
    uint32_t bucket; /* its NNNNN */
    uint64_t rows, bytes, xxh64; /* bytes and xxh64: 0 where not recorded (a foreign artifact) */
} pa_artifact_file_rec;

/* Which manifest an artifact has (pa_manifest.layout). */
typedef enum pa_artifact_layout {
    PA_ART_PARTIFACT = 0, /* the upstream layout with partifact's extras ("partifact" key) */
    PA_ART_FOREIGN = 1,   /* the upstream layout without them: another program wrote it */
    PA_ART_V01 = 2        /* the partifact 0.1 layout (format_version 2, part_id column) */
} pa_artifact_layout;

/* Everything manifest.json says. */
typedef struct pa_manifest {
    pa_artifact_layout layout;
    uint32_t num_partitions, num_buckets, code_bytes, num_bits, dimension;
    char *metric; /* NULL when not recorded (a foreign artifact) */
    char *model;  /* may be NULL */
    uint64_t model_xxh64;
    char *metadata_file; /* the upstream manifest's metadata_file (relative), or NULL */
    uint64_t metadata_bytes, metadata_xxh64; /* recorded by partifact (0: not recorded) */
    bool has_total_loss;
    double total_loss;
    uint64_t total_rows;
    uint64_t artifact_id; /* written into every bucket file's schema metadata */
    uint64_t num_ranges;
    pa_range *range_table;       /* a loaded manifest: all ranges, partition by partition */
    pa_artifact_file_rec *files; /* the bucket files that exist, by bucket number */
    uint32_t num_files;
    pa_part_ranges *parts; /* num_partitions entries */
    uint32_t *part_file;   /* a loaded manifest: partition p's file (index into files), or */
                           /* PA_NO_FILE for an empty partition */
    char *coverage;        /* the rows it holds, a JSON object as encode recorded it (NULL: none) */
} pa_manifest;

/* The manifest's "coverage" value is at most this many bytes (a table's record: about 100
 * bytes per fragment). */
#define PA_MANIFEST_MAX_COVERAGE ((uint64_t)16 << 20)

/* Appends a range to a partition's list (amortised growth). */
pa_status pa_part_add_range(pa_part_ranges *p, uint64_t offset, uint64_t num_rows, uint64_t xxh3);

/* Serialises m to JSON and commits it as dir/manifest.json (temp file, fsync, rename, fsync dir). */
pa_status pa_manifest_commit(const pa_manifest *m, const char *dir);

/* Parses and checks dir/manifest.json (structure, ranges against file row counts, totals),
 * streaming it: no JSON tree is built. With budget > 0, a manifest whose tables
 * (pa_manifest_bytes) need more than budget bytes is refused before they are allocated. */
pa_status pa_manifest_load(pa_manifest *m, const char *dir, uint64_t budget);

/* Memory an open artifact holds for a manifest of these sizes: the range and partition tables,
 * the file table, the per-file sort of ranges done at open (at most every range), the scan's
 * per-partition slots and the parser's buffer. The one formula for it: the loader refuses by
 * it and finalize's budget counts it. */
uint64_t pa_manifest_bytes(uint64_t num_partitions, uint64_t num_ranges, uint64_t num_files);
/* What pa_manifest_bytes counts for a scan's slot per partition (reader.c checks at compile
 * time that its slot fits) and for a file record's relative path ("partitions/bucket-N.lance"). */
#define PA_SCAN_SLOT_BYTES 64
/* A scan's read-ahead when its caller gives none (pa_artifact_scan_create). */
#define PA_SCAN_DEFAULT_READAHEAD ((uint64_t)64 << 20)
#define PA_FILE_PATH_BYTES 64

void pa_manifest_clear(pa_manifest *m);

/* "partitions/bucket-00005.lance" for bucket 5. */
void pa_artifact_bucket_path(uint32_t bucket, char *buf, size_t len);

/* The model XXH64 the manifest records (0 if no model is recorded), and its metadata.lance's
 * (0 if none recorded). */
uint64_t pa_artifact_model_xxh64(const pa_artifact *a);
uint64_t pa_artifact_metadata_xxh64(const pa_artifact *a);

/* pa_artifact_open, refusing up front a manifest whose tables need more than budget bytes
 * (0: no limit); *manifest_bytes (may be NULL) gets what they take (pa_manifest_bytes). */
pa_status pa_artifact_open_budget(pa_artifact **out, const char *dir, uint64_t budget,
                                  uint64_t *manifest_bytes);

/* Checked reads of ranges. A range's checksum (PA_ARTIFACT_RANGE_CHECKSUM) in the upstream
 * layout is XXH3-64 of the 24 bytes XXH3-64(its row ids) | XXH3-64(its codes) | its partition
 * id (each u64 LE, the columns as little-endian arrays): each column is hashed as it is read, in
 * pieces, and a range recorded under another partition than the one it was written for fails.
 * In the 0.1 layout (and a rows file's checksum) it is XXH3-64 of XXH3-64(row ids) |
 * XXH3-64(part ids) | XXH3-64(codes). */
uint64_t pa_bucket_range_checksum(const uint64_t *ids, const uint8_t *codes, uint64_t n,
                                  uint32_t code_bytes, uint32_t part);
uint64_t pa_range_checksum(const uint64_t *ids, const uint32_t *parts, const uint8_t *codes,
                           uint64_t n, uint32_t code_bytes);

/* The same checksum computed as rows stream by, in pieces of any size. */
typedef struct pa_rows_hash pa_rows_hash;
pa_status pa_rows_hash_new(pa_rows_hash **out, uint32_t code_bytes);
void pa_rows_hash_reset(pa_rows_hash *h);
void pa_rows_hash_update(pa_rows_hash *h, const uint64_t *ids, const uint32_t *parts,
                         const uint8_t *codes, uint64_t n);
uint64_t pa_rows_hash_digest(const pa_rows_hash *h);
/* The upstream layout's range checksum of the rows hashed so far (their part ids not given:
 * parts NULL to pa_rows_hash_update), for partition part. */
uint64_t pa_rows_hash_digest_part(const pa_rows_hash *h, uint32_t part);
void pa_rows_hash_free(pa_rows_hash *h);

/* Schema metadata of a rows file export-rows writes: the checksum of all its rows (as above,
 * 16 hex digits), checked by finalize --rows as it reads them when present. */
#define PA_ROWS_META_CHECKSUM "partifact:rows_xxh3_64"

/* Per-reader state: the three column hashes and the piece buffers for what the caller does not
 * keep (part ids always; row ids and codes when the caller passes NULL). PA_RANGE_PIECE_BYTES
 * bounds those buffers. */
#define PA_RANGE_PIECE_BYTES ((uint64_t)1 << 20)
typedef struct pa_range_check pa_range_check;
pa_status pa_range_check_new(pa_range_check **out, uint32_t code_bytes);
void pa_range_check_free(pa_range_check *c);

/* Reads rows [first, first + n) of range r of partition p into ids and codes (either may be
 * NULL), checking (0.1 layout) that every row carries part_id p, and, once the range's last row
 * is read, its checksum where one is recorded. A range must be read from its first row on, in order (first == 0 starts it
 * again). */
pa_status pa_artifact_read_range(pa_artifact *a, uint32_t p, uint32_t r, uint64_t first, uint64_t n,
                                 uint64_t *ids, uint8_t *codes, pa_range_check *c);

/* The ranges of file f, sorted by offset (partition and index within it kept): a copy, freed by
 * the caller. */
typedef struct pa_owned_range {
    uint64_t offset, num_rows;
    uint32_t part, index;
} pa_owned_range;
pa_status pa_artifact_file_ranges(const pa_artifact *a, uint32_t f, pa_owned_range **out,
                                  size_t *n);

#endif
