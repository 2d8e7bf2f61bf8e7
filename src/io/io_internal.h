/* Internal interface of the input/output room (src/io): what other rooms need to know about a
 * vector input beyond the public pa_vec_input calls. */
#ifndef PA_IO_INTERNAL_H
#define PA_IO_INTERNAL_H

#include "common/common.h"

/* The dataset behind an input (NULL for files) and its resolved vector column. */
const pa_dataset *pa_vec_input_dataset(const pa_vec_input *in, const char **column);

/* A file input's selection: rows [*begin, *end) of its *total (the options' row range). */
void pa_vec_input_selection(const pa_vec_input *in, uint64_t *begin, uint64_t *end,
                            uint64_t *total);

/* Prepares a file input for pa_vec_input_read_ids / pa_vec_input_read_rows from several
 * threads at once: maps its records read-only (once; pa_vec_input_free unmaps them), so that
 * the reads share nothing they change. Returns whether such concurrent reads are safe now:
 * false for a dataset (its fragment readers are opened per call) or a file that could not be
 * mapped (reads stay serial, by pread). Call it before the threads start. */
bool pa_vec_input_concurrent_reads(pa_vec_input *in);

/* The rows of a mapped file input (pa_vec_input_concurrent_reads) whose records are float32 in
 * this CPU's byte order (.fvecs, little-endian .npy '<f4'), for reading them in place: row r's
 * dim floats start at base + r * stride (4-byte aligned), for r < *rows (the whole file's rows,
 * the selection aside, as pa_vec_input_read_ids counts them); with *prefixed (.fvecs), the
 * record's int32 dimension is the 4 bytes before them, which the caller checks against the
 * input's dimension. The values are unchecked: the caller checks each row it uses as check_row
 * does (finite, squared norm at most PA_MAX_SQ_NORM), and reads any row that fails, or any id
 * not below *rows, with pa_vec_input_read_ids, which says what is wrong. False (nothing set):
 * not such an input (a dataset, another element type, byte-swapped, not mapped). The mapping
 * lasts until pa_vec_input_free; a file truncated while it is mapped faults on the lost pages,
 * as any mapping does. */
bool pa_vec_input_mapped_f32(const pa_vec_input *in, const uint8_t **base, uint64_t *stride,
                             uint64_t *rows, bool *prefixed);

/* coverage.c: what an artifact encoded from an input holds (pa_artifact_params.coverage), a
 * malloc'd JSON object: a table's source record of its selected fragments
 * (pa_table_source_json), or a file's real path, rows and row range. */
pa_status pa_coverage_json(const pa_vec_input *in, char **out);

/* coverage.c: checks the coverages of n artifacts (names[i]: the artifact, for messages; a
 * NULL coverage is refused) before they are finalized into one index: one input (the same
 * table, version and column, or the same file), no fragment or row in two of them. *source
 * gets the index's source record (the union of the tables' fragments, malloc'd), or NULL for
 * file inputs. */
pa_status pa_coverage_merge(const char *const *covs, const char *const *names, size_t n,
                            char **source);

#endif
