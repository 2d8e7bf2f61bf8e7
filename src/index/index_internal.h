/* Internal interface of the index room (src/index): the index writer shared by both finalize
 * paths (artifact and generic rows), and the names of the index files and their metadata. */
#ifndef PA_INDEX_INTERNAL_H
#define PA_INDEX_INTERNAL_H

#include "common/common.h"
#include "common/vecmath.h"
#include "index/index_format.h"
#include "lance/lance_internal.h"

#define PA_INDEX_PAGE_BYTES (1u << 20) /* auxiliary.idx column pages */

/* Search precomputes every partition's table terms at open when they take at most this many
 * bytes (default 256 MiB); otherwise each probe computes its partition's. Tests lower it to
 * check that both ways give the same results. */
extern uint64_t pa_index_precomp_max_bytes;

/* Partitions read from auxiliary.idx into the cache of an index opened with a budget, since
 * open (tests check eviction with it). */
uint64_t pa_index_cache_reads(const pa_index *x);

/* Writes one index directory: opened on a temporary name next to out_dir, fed every partition
 * in order, then finished (files closed and fsynced, directory renamed into place). */
typedef struct pa_index_writer pa_index_writer;

/* Bytes the index writer holds while it sorts and writes a partition of n rows of M-byte codes
 * (reserve() in index_writer.c): the sort keys (row id and position, 16 bytes a row), then the
 * sorted row ids and the transposed codes. */
static inline uint64_t pa_index_writer_scratch(uint64_t n, uint64_t M)
{
    return n * 2 * sizeof(uint64_t) + pa_ids_codes_bytes(n, M);
}

/* Bytes a finalizer holds for its largest partition of n rows while the writer sorts and
 * writes it: the partition as handed over (its row ids and codes) and the writer's scratch.
 * Both finalize paths refuse by it (with pa_index_finalize_estimate's numbers). */
/* Both finalize paths' start (finalize.c): options over the defaults, stats checked, budget. */
pa_status pa_finalize_begin(const pa_index_finalize_options *opts,
                            const pa_index_finalize_stats *stats, pa_index_finalize_options *o,
                            uint64_t *budget);

static inline uint64_t pa_index_partition_bytes(uint64_t n, uint64_t M)
{
    return pa_ids_codes_bytes(n, M) + pa_index_writer_scratch(n, M);
}

/* Checks the model (8-bit codes) and that out_dir does not exist, then creates
 * out_dir.partial-<pid>/ and starts auxiliary.idx in it. The model arrays are copied;
 * model_xxh64 (the model file's XXH64, 0 if unknown) is recorded in the metadata. */
/* replace: an existing out_dir is replaced (atomically, at finish); otherwise refused. */
pa_status pa_index_writer_create(pa_index_writer **out, const char *out_dir,
                                 const pa_backend_model *model, uint64_t model_xxh64, bool replace);

/* Appends partition p (partitions must come in order 0, 1, ...; skipped ones are empty):
 * sorts its rows by (row id, code), transposes the codes and writes them. The rows are
 * copied; the writer keeps one buffer the size of the largest partition so far. */
pa_status pa_index_writer_add_partition(pa_index_writer *w, uint32_t p, const uint64_t *row_ids,
                                        const uint8_t *codes, uint64_t n);

/* Writes the remaining (empty) partitions, the IVF and codebook buffers and metadata, closes
 * both files, and renames the directory into place. */
pa_status pa_index_writer_finish(pa_index_writer *w);

/* Starts a finalizer's stats from what the writer knows (after finish): rows, partitions, the
 * largest partition, and the bytes of both index files as index_bytes and bytes_written; the
 * rest is zero, for the finalizer to add its reads, spills and time. */
void pa_index_writer_stats(const pa_index_writer *w, pa_index_finalize_stats *s);

/* Records the index's source table (JSON, see lance/table_commit.h) in index.idx; NULL: none.
 * Before finish. */
pa_status pa_index_writer_set_source(pa_index_writer *w, const char *json);

/* search.c: whether two open indexes hold one model (shapes, metric, the same centroids, and
 * the same model XXH64 where both record one): segments whose results merge. */
bool pa_index_same_model(const pa_index *a, const pa_index *b);
/* search.c: the directory an index was opened from, for messages. */
const char *pa_index_dir(const pa_index *x);

/* Frees the writer; an unfinished one removes its temporary directory. */
void pa_index_writer_free(pa_index_writer *w);

/* Checks a model's parameters against what the codes were made with (0 / NULL: not known;
 * code_bytes always known: the model's code width, pq_code.h), naming the model, the input
 * (what: "artifact" or "rows file", path) and the first mismatch. */
pa_status pa_index_check_model(const pa_backend_model *a, const char *model_path, const char *what,
                               const char *path, uint32_t dim, uint32_t code_bytes, uint32_t P,
                               uint32_t bits, const char *metric);


#endif
