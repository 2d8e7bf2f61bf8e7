/* The LanceDB IVF_PQ index layout as partifact writes and reads it (index.idx + auxiliary.idx,
 * see partifact.h and docs/lancedb-ivfpq-layout.md): every file, column, schema metadata key
 * and JSON key name once, with the writer (index_writer.c calls it) and the reader (search.c
 * calls it) beside each other in index_format.c. */
#ifndef PA_INDEX_FORMAT_H
#define PA_INDEX_FORMAT_H

#include "common/common.h"
#include "lance/lance_internal.h"
#include "lance/table_commit.h"

#include <jansson.h>

/* Files of an index directory. */
#define PA_INDEX_FILE PA_INDEX_FILE_NAME /* index.idx (partifact.h) */
#define PA_INDEX_AUX_FILE "auxiliary.idx"

/* Columns: auxiliary.idx's rows, index.idx's (empty) marker column. */
#define PA_INDEX_COL_ROWID "_rowid"
#define PA_INDEX_COL_CODE "__pq_code"
#define PA_INDEX_COL_FLAT "__flat_marker"

/* Schema metadata keys. */
#define PA_INDEX_META_KEY "partifact:index"      /* both files: the identity JSON below     */
#define PA_INDEX_META_LANCE_INDEX "lance:index"  /* index.idx: {"type", "distance_type"}   */
#define PA_INDEX_META_IVF "lance:ivf"            /* both: the IVF protobuf's global buffer */
#define PA_INDEX_META_FLAT "lance:flat"          /* index.idx: one "" per partition        */
#define PA_INDEX_META_DISTANCE "distance_type"   /* auxiliary.idx: the metric's name       */
#define PA_INDEX_META_STORAGE "storage_metadata" /* auxiliary.idx: ["<PQ JSON>"]           */

/* lance:index's JSON (the type, and PA_INDEX_META_DISTANCE for the metric). */
#define PA_INDEX_LANCE_KEY_TYPE "type"
#define PA_INDEX_LANCE_TYPE "IVF_PQ"

/* storage_metadata's PQ JSON. */
#define PA_INDEX_PQ_KEY_CODEBOOK "codebook_position"
#define PA_INDEX_PQ_KEY_NBITS "nbits"
#define PA_INDEX_PQ_KEY_M "num_sub_vectors"
#define PA_INDEX_PQ_KEY_DIM "dimension"
#define PA_INDEX_PQ_KEY_TENSOR "codebook_tensor"
#define PA_INDEX_PQ_KEY_TRANSPOSED "transposed"

/* The partifact:index JSON (PA_INDEX_FORMAT, PA_INDEX_FORMAT_VERSION in partifact.h). */
#define PA_INDEX_ID_FORMAT "format"
#define PA_INDEX_ID_VERSION "format_version"
#define PA_INDEX_ID_METRIC "metric"
#define PA_INDEX_ID_DIM "dimension"
#define PA_INDEX_ID_P "num_partitions"
#define PA_INDEX_ID_M "num_sub_vectors"
#define PA_INDEX_ID_BITS "num_bits"
#define PA_INDEX_ID_ROWS "num_rows"
#define PA_INDEX_ID_ORDER "row_order"
#define PA_INDEX_ID_ORDER_ROW_ID "row_id"
#define PA_INDEX_ID_MODEL "model_xxh64"
/* A hash of auxiliary.idx's rows as stored, the XXH64 of the 16 bytes (XXH64 of every row id,
 * u64 in file order; XXH64 of every code byte, in file order). pa_index_open refuses two files
 * whose JSON differs, and rows that do not hash to it. */
#define PA_INDEX_ID_ROWS_HASH "rows_xxh64"
#define PA_INDEX_META_ROWS_HASH PA_INDEX_ID_ROWS_HASH
uint64_t pa_index_rows_xxh64(uint64_t ids_xxh64, uint64_t codes_xxh64);

/* What the partifact:index JSON says about an index. */
typedef struct pa_index_identity {
    pa_metric metric;
    uint32_t dim, num_partitions, num_sub_vectors, num_bits;
    uint64_t num_rows, model_xxh64, rows_xxh64;
} pa_index_identity;

/* ---- writer ---- */

/* The partifact:index JSON of id (malloc'd, compact, keys in the order above); NULL: no memory. */
char *pa_index_identity_json(const pa_index_identity *id);

/* Adds the IVF protobuf (offsets and lengths of P partitions, and the centroids tensor [P, dim]
 * when centroids is not NULL) as a global buffer of lw; its number in *gb. */
pa_status pa_index_write_ivf(pa_lance_writer *lw, uint32_t P, const uint64_t *offsets,
                             const uint32_t *lengths, const float *centroids, uint32_t dim,
                             uint32_t *gb);

/* auxiliary.idx's buffers after its rows: the IVF protobuf, the codebook tensor
 * ([M][2^bits][dim/M] as LanceDB's [2^bits, dim]: [256, dim] or [16, dim]); and its schema metadata (distance type, lance:ivf, storage_metadata,
 * the identity JSON). */
pa_status pa_index_write_aux_meta(pa_lance_writer *lw, const pa_index_identity *id,
                                  const uint64_t *offsets, const uint32_t *lengths,
                                  const float *codebook, const char *identity);

/* index.idx's buffer and metadata: the IVF protobuf with zero offsets/lengths and the centroids,
 * lance:index, lance:ivf, lance:flat, the identity JSON and (source not NULL) the source record
 * under source_key. */
pa_status pa_index_write_idx_meta(pa_lance_writer *lw, const pa_index_identity *id,
                                  const float *centroids, const char *identity,
                                  const char *source_key, const char *source);

/* ---- reader ---- */

/* The global buffer lance:ivf names, unpacked as an IVF message (free with
 * pa__lancepb__ivf__free_unpacked). */
pa_status pa_index_read_ivf(pa_lance_reader *r, const char *path, Pa__Lancepb__Ivf **out);

/* auxiliary.idx's storage description: the codebook's global buffer, bits, sub-vectors and
 * dimension (storage_metadata), and the metric (distance_type). */
pa_status pa_index_read_aux_meta(pa_lance_reader *r, const char *path, uint32_t *codebook_gb,
                                 uint32_t *nbits, uint32_t *M, uint32_t *dim, pa_metric *metric);

/* Checks index.idx's lance:index: an IVF_PQ index of metric (the storage's, when it says). */
pa_status pa_index_read_idx_meta(pa_lance_reader *r, const char *path, pa_metric metric);

/* The file's partifact:index JSON object into *out, or NULL when it has none (an index LanceDB
 * wrote). A format other than PA_INDEX_FORMAT, or a format_version newer than
 * PA_INDEX_FORMAT_VERSION, is refused naming both versions. */
pa_status pa_index_read_identity(pa_lance_reader *r, const char *path, json_t **out);

/* Checks that an identity JSON describes what the files hold: have's shapes, rows and metric
 * (not its hashes). */
pa_status pa_index_check_identity(json_t *id, const pa_index_identity *have);

/* A JSON value as compact text, for messages (malloc'd; "(missing)" when v is NULL). */
char *pa_index_json_text(json_t *v);

/* Checks the identity's rows hash against rows_xxh64, the stored rows' (pa_index_rows_xxh64). */
pa_status pa_index_check_rows_hash(json_t *id, uint64_t rows_xxh64);

/* index.idx's partifact:index (r open on it, path for messages) as a table commit needs it
 * (the shape the commit checks against the table's column). An index without one (LanceDB
 * wrote it), or one lacking a field, is PA_ERR_FORMAT naming the file. */
pa_status pa_index_read_shape(pa_lance_reader *r, const char *path, pa_table_index_shape *out);
#endif
