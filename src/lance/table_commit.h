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
pa_status pa_table_source_json(const pa_dataset *ds, const char *column, char **out);

/* dataset.c: the path and version of a dataset's newest manifest, and a whole small file. */
pa_status pa_lance_latest_manifest(const char *dir, char *path, size_t path_len,
                                   uint64_t *version);
pa_status pa_lance_read_small_file(const char *path, uint8_t **out, size_t *len);
/* dataset.c: the read version and id naming fragment i's deletion file (both 0: none). */
void pa_dataset_fragment_deletion(const pa_dataset *ds, size_t i, uint64_t *read_version,
                                  uint64_t *id);
/* dataset.c: the real path a dataset was opened from is not kept; this is the path as given. */
const char *pa_dataset_path(const pa_dataset *ds);

#endif
