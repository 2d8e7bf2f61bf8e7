/* Internal interface of the table commit (table_commit.c): what the index build records about
 * its source table, and the dataset-reading pieces the commit shares with dataset.c. */
#ifndef PA_TABLE_COMMIT_H
#define PA_TABLE_COMMIT_H

#include "common/common.h"

/* Schema metadata key of index.idx holding the source record (JSON): the table's real path,
 * the version read, the vector column and the fragments (id, rows, data file). LanceDB's own
 * keys are left as they are. */
#define PA_SOURCE_META_KEY "partifact:source"

/* The source record of an index built from column of dataset ds, a malloc'd JSON string;
 * *out is NULL (and PA_OK) when ds is NULL (the input is not a Lance dataset). */
/* What a table commit needs to know of an index: its index.idx, opened once by the caller, and
 * the shape of its partifact:index JSON, read by the index room (src/index/index_format.c,
 * which holds that layout). */
typedef struct pa_table_index_shape {
    pa_metric metric;
    uint32_t dim, num_sub_vectors, num_bits;
    uint64_t rows;
    uint32_t num_partitions;
    char model_xxh64[17]; /* the model's identity, as the JSON spells it ("": none) */
} pa_table_index_shape;

typedef struct pa_table_index {
    const char *dir;         /* the index directory, as given */
    const char *path;        /* its index.idx, for messages */
    pa_lance_reader *reader; /* index.idx, open */
    pa_table_index_shape shape;
} pa_table_index;

/* pa_table_commit_index, pa_table_commit_segments and pa_index_check_source
 * (src/pipeline/commit.c) once each index's index.idx is open and its shape read: n segments
 * committed as one index. */
pa_status pa_table_commit_shaped(const char *table, const pa_table_index *ix, size_t n,
                                 const pa_table_commit_options *opts, pa_table_commit_result *out);
pa_status pa_table_check_source_shaped(const pa_table_index *ix, const char *table);

pa_status pa_table_source_json(const pa_dataset *ds, const char *column, char **out);

/* The source records of n shards of one table (records[i] from artifact names[i]) merged into
 * one, malloc'd into *out: the same table, version and column, each fragment in one shard only
 * (PA_ERR_INVALID naming both artifacts otherwise); fragments in id order. */
pa_status pa_table_source_merge(const char *const *records, const char *const *names, size_t n,
                                char **out);

/* Whether a coverage record (an artifact's) is a table's source record. */
bool pa_table_source_is(const char *record);

/* dataset.c: the path and version of a dataset's newest manifest, and a whole small file. */
pa_status pa_lance_latest_manifest(const char *dir, char *path, size_t path_len, uint64_t *version);
pa_status pa_lance_read_small_file(const char *path, uint8_t **out, size_t *len);
/* dataset.c: the read version and id naming fragment i's deletion file (both 0: none). */
void pa_dataset_fragment_deletion(const pa_dataset *ds, size_t i, uint64_t *read_version,
                                  uint64_t *id);
/* dataset.c: the real path a dataset was opened from is not kept; this is the path as given. */
const char *pa_dataset_path(const pa_dataset *ds);

#endif
