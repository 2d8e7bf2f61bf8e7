/* The artifact writer: bounded-memory streaming from (row_id, part_id, code) batches into bucket
 * Lance files plus a manifest of per-partition ranges.
 *
 * Memory: one buffer per bucket plus a scratch buffer for sorting for each of up to
 * WRITER_THREADS threads, all of the same capacity, fitted to the budget together. The bucket
 * buffers are one allocation cut into chunks of CHUNK_ROWS rows (and a tail chunk a bucket for
 * the capacity's remainder), which a bucket takes as it fills and gives back when it is
 * flushed: the memory in use is the rows buffered, packed from the start of the allocation
 * (huge pages where large), and a chunk given back is reused warm. A full
 * bucket buffer is counting-sorted by part_id into a scratch buffer (the partitions of bucket b
 * are b, b+B, b+2B, ..., so the key is part_id / B and the key range is small), written as one
 * new page per column at the end of the bucket's file (full-zip pages, so that any row range is
 * an exact byte range), and the range each partition got is recorded. Nothing written is read
 * again: finish flushes the remaining buffers, writes the files' footers and commits the
 * manifest.
 *
 * Threads: a large batch is routed, and finish flushes and closes, on up to WRITER_THREADS
 * threads, each owning the buckets b with b % threads == its number (its own buffers, files,
 * partitions and scratch), so no two threads touch the same memory. A bucket's rows, flushes
 * and pages are those of one thread routing in batch order, and the artifact id hashes the
 * ranges in partition order at finish: the same rows give the same bytes whatever the threads. */
#include "artifact/artifact_internal.h"
#include "ivfpq/ivfpq_internal.h"

#include <jansson.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <omp.h>
#include <xxhash.h>

#define MIN_BUFFER_ROWS 256
/* The most threads that route and flush (see the top), each with its own sort scratch: the
 * budget always holds this many scratch buffers (or one a bucket, where there are fewer
 * buckets), so that the buffers' size, and so the artifact's bytes, do not depend on the
 * machine's thread count. Routing is memory-bound: a few threads take what there is. */
#define WRITER_THREADS 4
/* A batch is routed on the threads from this many rows (below, a team costs more). */
#define PARALLEL_ROWS 8192
#define BUCKET_PATH_MAX 4096  /* bytes of a bucket file's path, its NUL included */
#define BUCKET_PATH_FLOOR 256 /* the least path length the budget counts (fixed_bytes) */

/* Rows a chunk of a bucket buffer holds (its last chunk the capacity's remainder). A chunk of
 * R rows: R row ids, then R part ids, then R codes, unaligned (written and read by memcpy). */
#define CHUNK_ROWS 512

typedef struct bucket {
    pa_lance_writer *lw;
    uint8_t **chunks;   /* the buffer's chunks, as many as it has rows for, NULL past them */
    uint64_t n;         /* rows buffered */
    uint64_t file_rows; /* rows already written to the file */
} bucket;

/* A thread's sort scratch: a bucket's rows ordered by part_id. */
typedef struct rows_buf {
    uint64_t *ids;
    uint32_t *parts;
    uint8_t *codes;
} rows_buf;

/* The bucket buffers' chunks: cut from one allocation in order (next counts those cut), the
 * full ones first, then the tails; a chunk given back goes on its kind's free list (a chunk's
 * first bytes link it). */
typedef struct chunk_pool {
    uint8_t *base; /* the full chunks, then the tail chunks */
    uint64_t next[2], count[2];
    size_t bytes[2]; /* a chunk of each kind: full (CHUNK_ROWS rows), tail */
    uint8_t *free[2];
} chunk_pool;

struct pa_artifact_writer {
    char *dir;      /* the artifact, as named (messages) */
    pa_out_dir out; /* the new artifact is written in out.dir, beside dir, and renamed
                          * into place by finish */
    pa_manifest m;
    uint64_t cap; /* rows per bucket buffer */
    size_t row_bytes;
    bucket *buckets;
    chunk_pool pool;                  /* the bucket buffers' memory */
    rows_buf scratch[WRITER_THREADS]; /* a bucket's rows sorted by part_id, a thread */
    uint64_t *counts;   /* per thread, max_local + 1: one a local partition (part_id / B) */
    uint32_t max_local; /* partitions per bucket, rounded up */
    pa_artifact_write_stats stats;
    XXH3_state_t *id_hash; /* the artifact id: the parameters and every range's checksum (at
                            * finish, in partition order) */
    bool finished, failed, locked;
    bool no_sync; /* a scratch artifact: bucket files and their directory not fsynced */
};

/* Copies one M-byte code. Common widths get a constant-size memcpy the compiler inlines; a
 * call into libc per 16-byte code costs more than the rest of the routing. */
static inline void copy_code(uint8_t *dst, const uint8_t *src, size_t m)
{
    switch (m) {
    case 8: memcpy(dst, src, 8); break;
    case 16: memcpy(dst, src, 16); break;
    case 32: memcpy(dst, src, 32); break;
    case 64: memcpy(dst, src, 64); break;
    default: memcpy(dst, src, m); break;
    }
}

/* The bucket file's absolute path. */
static void bucket_abs_path(const pa_artifact_writer *w, uint32_t b, char *buf, size_t len)
{
    char rel[64];
    pa_artifact_bucket_path(b, rel, sizeof rel);
    snprintf(buf, len, "%s/%s", w->out.dir, rel);
}

/* Checks that the model the writer was given made codes of the artifact's shape. */
static pa_status check_model(const pa_artifact_writer *w, const pa_ivfpq_meta *a)
{
    const uint32_t code_bytes = a->num_bits == 4 ? (a->num_sub_vectors + 1) / 2
                                                 : a->num_sub_vectors;
    if (a->num_partitions != w->m.num_partitions || code_bytes != w->m.code_bytes ||
        a->dimension != w->m.dimension || a->num_bits != w->m.num_bits ||
        strcmp(pa_metric_name(a->metric), w->m.metric) != 0)
        return pa_fail(PA_ERR_INVALID,
                       "%s: model %s (%u partitions, %u-byte codes of %u bits, dimension %u, %s) "
                       "did not make codes of this artifact's shape (%u partitions, %u-byte codes "
                       "of %u bits, dimension %u, %s)",
                       w->dir, w->m.model, a->num_partitions, code_bytes, a->num_bits, a->dimension,
                       pa_metric_name(a->metric), w->m.num_partitions, w->m.code_bytes,
                       w->m.num_bits, w->m.dimension, w->m.metric);
    return PA_OK;
}

/* Loads the model the writer was given (for metadata.lance), checked as at create. */
static pa_status load_model(const pa_artifact_writer *w, pa_ivfpq_model **out)
{
    pa_status st = pa_ivfpq_model_load(out, w->m.model);
    if (st != PA_OK)
        return pa_fail_prefix(st, "%s: model", w->dir);
    pa_backend_model a;
    pa_ivfpq_model_arrays(*out, &a);
    const pa_ivfpq_meta pm = {a.dim, a.num_partitions, a.num_sub_vectors, a.num_bits,
                              (pa_metric)a.metric};
    return check_model(w, &pm);
}

/* Checks the parameters and fills the manifest header from them. */
static pa_status init_params(pa_artifact_writer *w, const pa_artifact_params *p)
{
    if (p->num_partitions == 0 || p->num_partitions > PA_MAX_ARTIFACT_PARTITIONS)
        return pa_fail(PA_ERR_INVALID, "%s: num_partitions must be in 1..2^30, got %u", w->dir,
                       p->num_partitions);
    uint32_t buckets = p->num_buckets ? p->num_buckets
                                      : PA_MIN(p->num_partitions, PA_DEFAULT_MAX_BUCKETS);
    if (buckets > p->num_partitions || buckets > PA_MAX_BUCKETS)
        return pa_fail(PA_ERR_INVALID,
                       "%s: %u buckets for %u partitions (at most one bucket per "
                       "partition, and at most 2^20)",
                       w->dir, buckets, p->num_partitions);
    if (p->code_bytes == 0 || p->code_bytes > PA_MAX_CODE_BYTES)
        return pa_fail(PA_ERR_INVALID, "%s: code_bytes must be in 1..%u, got %u", w->dir,
                       PA_MAX_CODE_BYTES, p->code_bytes);
    uint32_t bits = p->num_bits ? p->num_bits : PA_DEFAULT_NUM_BITS;
    if (bits != 8 && bits != 4)
        return pa_fail(PA_ERR_INVALID, "%s: num_bits must be 8 or 4, got %u", w->dir, bits);
    if (p->dimension == 0)
        return pa_fail(PA_ERR_INVALID, "%s: dimension must be positive", w->dir);
    const char *metric = pa_metric_name(p->metric);
    if (p->metric != PA_METRIC_L2 && p->metric != PA_METRIC_COSINE && p->metric != PA_METRIC_DOT)
        return pa_fail(PA_ERR_INVALID, "%s: metric %d is not l2, cosine or dot (PA_METRIC_*)",
                       w->dir, (int)p->metric);
    w->m.num_partitions = p->num_partitions;
    w->m.num_buckets = buckets;
    w->no_sync = p->no_sync != 0;
    w->m.code_bytes = p->code_bytes;
    w->m.num_bits = bits;
    w->m.dimension = p->dimension;
    if (!(w->m.metric = pa_strdup(metric, "metric")))
        return PA_ERR_NOMEM;
    if (p->model) {
        if (!(w->m.model = pa_strdup(p->model, "model path")))
            return PA_ERR_NOMEM;
        pa_status st = pa_file_xxh64(p->model, &w->m.model_xxh64, NULL);
        if (st != PA_OK)
            return pa_fail_prefix(st, "%s: model", w->dir);
        pa_ivfpq_meta
            pm; /* checked now (its parameters only), written as metadata.lance by finish */
        if ((st = pa_ivfpq_model_read_params(p->model, &pm)) != PA_OK)
            return pa_fail_prefix(st, "%s: model", w->dir);
        if ((st = check_model(w, &pm)) != PA_OK)
            return st;
    }
    if (p->coverage) {
        json_error_t je;
        json_t *cov = json_loads(p->coverage, 0, &je);
        bool obj = json_is_object(cov);
        json_decref(cov);
        if (!obj || strlen(p->coverage) > PA_MANIFEST_MAX_COVERAGE)
            return pa_fail_field(PA_ERR_INVALID, "coverage",
                                 "%s: coverage must be a JSON object of at most %" PRIu64 " bytes",
                                 w->dir, PA_MANIFEST_MAX_COVERAGE);
        if (!(w->m.coverage = pa_strdup(p->coverage, "coverage")))
            return PA_ERR_NOMEM;
    }
    return PA_OK;
}

/* Columns of every bucket file (the upstream layout's: no part_id column, the manifest's ranges
 * say which rows are whose), and how their Lance writers are opened (flush_bucket). */
#define BUCKET_COLS 2
static void bucket_schema(const pa_artifact_writer *w, pa_field fields[BUCKET_COLS])
{
    fields[0] = (pa_field){PA_BUCKET_COL_ROW_ID, PA_TYPE_UINT64, 1};
    fields[1] = (pa_field){PA_BUCKET_COL_CODE, PA_TYPE_FSL_UINT8, w->m.code_bytes};
}
/* full-zip pages: a partition's range is then read at its exact byte ranges; Lance file format
 * 2.2 and __pq_code declared nullable, as Lance's builder writes its bucket files */
static const uint8_t BUCKET_NULLABLE[BUCKET_COLS] = {0, 1};
static const pa_lance_write_options BUCKET_WRITE = {.struct_size = sizeof(pa_lance_write_options),
                                                    .page_bytes = PA_DEFAULT_PAGE_BYTES,
                                                    .layout = PA_LAYOUT_FULLZIP,
                                                    .in_new_dir = 1,
                                                    .minor_version = PA_LANCE_FORMAT_2_2,
                                                    .nullable = BUCKET_NULLABLE};

/* The threads that route and flush: no more than there are buckets to own. */
static int max_threads(const pa_artifact_writer *w)
{
    return (int)PA_MIN(w->m.num_buckets, (uint32_t)WRITER_THREADS);
}

/* The writer's memory besides its row buffers, with `flushes` buffers written in all: the sort
 * counts, the bucket table with each bucket file's Lance writer (pa_lance_writer_estimate, its
 * page records growing by one page per column a flush, the flushes spread over the buckets)
 * and the partition table (whose ranges are counted apart). */
static uint64_t fixed_bytes(const pa_artifact_writer *w, uint64_t flushes)
{
    const uint32_t B = w->m.num_buckets;
    pa_field fields[BUCKET_COLS];
    bucket_schema(w, fields);
    /* a bucket file's path: dir, the work directory's tag and suffix, the file's name; counted
     * as at least BUCKET_PATH_FLOOR bytes, so that the buffers, and so the artifact's bytes, do
     * not depend on the artifact's name unless that name is unusually long */
    const size_t path_len = PA_MAX(strlen(w->dir) + strlen(PA_PARTIAL_TAG) + 16 +
                                       strlen("/" PA_OUT_DIR_NAME "/" PA_ARTIFACT_PARTS_DIR
                                              "/bucket-0000000.lance"),
                                   (size_t)BUCKET_PATH_FLOOR);
    const uint64_t lance = pa_lance_writer_estimate(path_len, fields, BUCKET_COLS, &BUCKET_WRITE,
                                                    (flushes + B - 1) / B, false);
    return ((uint64_t)w->max_local + 1) * 8 * (uint64_t)max_threads(w) +
           (uint64_t)B * (sizeof(bucket) + lance) +
           (uint64_t)w->m.num_partitions * sizeof(pa_part_ranges);
}

/* The buffers of the same capacity the writer holds: one a bucket, and the threads' sort
 * scratch. */
static uint64_t buffer_count(const pa_artifact_writer *w)
{
    return (uint64_t)w->m.num_buckets + (uint64_t)max_threads(w);
}

/* The row buffers of cap rows a buffer: buffer_count of them, and each bucket's list of its
 * chunks (open_buckets). */
static uint64_t buffers_bytes(const pa_artifact_writer *w, uint64_t cap)
{
    return buffer_count(w) * cap * w->row_bytes +
           (uint64_t)w->m.num_buckets * (cap / CHUNK_ROWS + 1) * sizeof(uint8_t *);
}

/* The most rows a buffer of buffers_bytes at most avail. */
static uint64_t cap_within(const pa_artifact_writer *w, uint64_t avail)
{
    const uint64_t per_row = buffer_count(w) * w->row_bytes;
    uint64_t cap = avail / per_row;
    while (cap > 0 && buffers_bytes(w, cap) > avail) /* (the chunk lists: a step or two) */
        cap -= PA_MAX((uint64_t)1, (buffers_bytes(w, cap) - avail) / per_row);
    return cap;
}

/* The smallest budget for the writer's parameters: the fixed part with every bucket flushed
 * once (finish flushes each), and buffers of MIN_BUFFER_ROWS rows. */
static uint64_t min_budget(const pa_artifact_writer *w)
{
    return fixed_bytes(w, w->m.num_buckets) + buffers_bytes(w, MIN_BUFFER_ROWS);
}

/* The range table `rows` rows make through buffers of cap rows (every flush of a bucket adds a
 * range for each of its partitions in the buffer), its arrays grown by doubling; the flushes
 * into *flushes. */
static uint64_t range_table_bytes(const pa_artifact_writer *w, uint64_t rows, uint64_t cap,
                                  uint64_t *flushes, uint64_t *ranges)
{
    *flushes = rows / cap + w->m.num_buckets;
    *ranges = PA_MIN(*flushes * PA_MIN(cap, (uint64_t)w->max_local), rows + w->m.num_partitions);
    return *ranges * 2 * sizeof(pa_range);
}

/* Sets the row sizes the budget is computed from. */
static void init_sizes(pa_artifact_writer *w)
{
    w->row_bytes = 8 + 4 + w->m.code_bytes;
    w->max_local = (w->m.num_partitions + w->m.num_buckets - 1) / w->m.num_buckets;
}

/* Sizes the buffers from the budget, refusing up front a budget too small to work with. With
 * the number of rows known, the range table and page records they will make are reserved from
 * the budget too: smaller buffers mean more flushes; the buffer size is lowered until all fit. */
static pa_status size_buffers(pa_artifact_writer *w, uint64_t budget, uint64_t rows,
                              uint64_t max_rows)
{
    max_rows = max_rows ? PA_MAX(max_rows, (uint64_t)MIN_BUFFER_ROWS) : UINT64_MAX;
    uint32_t B = w->m.num_buckets;
    init_sizes(w);
    uint64_t fixed = fixed_bytes(w, B);
    const uint64_t min_need = min_budget(w);
    if (budget < min_need)
        return pa_fail(PA_ERR_BUDGET,
                       "%s: a memory budget of %" PRIu64 " bytes is too small for %u buckets of "
                       "%zu-byte rows: at least %" PRIu64 " bytes are needed (%u rows per buffer), "
                       "or use fewer buckets",
                       w->dir, budget, B, w->row_bytes, min_need, MIN_BUFFER_ROWS);
    w->cap = PA_MIN(cap_within(w, budget - fixed), max_rows);
    uint64_t range_bytes = 0;
    for (int it = 0; rows && it < 32; it++) {
        uint64_t flushes, ranges;
        range_bytes = range_table_bytes(w, rows, w->cap, &flushes, &ranges);
        fixed = fixed_bytes(w, flushes);
        uint64_t cap = range_bytes + fixed < budget ? cap_within(w, budget - fixed - range_bytes)
                                                    : 0;
        cap = PA_MIN(cap, max_rows);
        if (cap < MIN_BUFFER_ROWS)
            return pa_fail(PA_ERR_BUDGET,
                           "%s: a memory budget of %" PRIu64 " bytes is too small for %" PRIu64
                           " rows in %u partitions: their range table needs about %" PRIu64
                           " bytes (%" PRIu64 " ranges), on top of at least %" PRIu64 " bytes of "
                           "buffers for %u buckets; raise the budget, or use fewer partitions or "
                           "buckets",
                           w->dir, budget, rows, w->m.num_partitions, range_bytes, ranges, min_need,
                           B);
        if (cap == w->cap)
            break;
        w->cap = cap;
    }
    w->stats.buffer_bytes = buffers_bytes(w, w->cap) + fixed + range_bytes;
    return PA_OK;
}

/* Allocates the buffers, scratch and per-partition tables, and opens the bucket files. */
static pa_status open_buckets(pa_artifact_writer *w)
{
    uint32_t B = w->m.num_buckets;
    size_t cap = (size_t)w->cap, M = w->m.code_bytes;
    w->buckets = pa_calloc(B, sizeof *w->buckets, "bucket table");
    w->m.parts = pa_calloc(w->m.num_partitions, sizeof *w->m.parts, "partition table");
    w->counts = pa_calloc((size_t)(w->max_local + 1) * (size_t)max_threads(w), sizeof *w->counts,
                          "partition counts");
    w->id_hash = XXH3_createState();
    if (!w->buckets || !w->m.parts || !w->counts || !w->id_hash)
        return pa_fail(PA_ERR_NOMEM, "%s: out of memory for the artifact writer", w->dir);
    for (int t = 0; t < max_threads(w); t++) {
        rows_buf *sc = &w->scratch[t];
        sc->ids = pa_malloc(cap * 8, "sort scratch");
        sc->parts = pa_malloc(cap * 4, "sort scratch");
        sc->codes = pa_malloc(cap * M, "sort scratch");
        if (!sc->ids || !sc->parts || !sc->codes)
            return pa_fail(PA_ERR_NOMEM, "%s: out of memory for the artifact writer", w->dir);
    }
    /* the id starts from the parameters, so that artifacts of different shapes differ */
    const uint32_t shape[] = {w->m.num_partitions, B, w->m.code_bytes, w->m.num_bits,
                              w->m.dimension};
    XXH3_64bits_reset(w->id_hash);
    XXH3_64bits_update(w->id_hash, shape, sizeof shape);
    XXH3_64bits_update(w->id_hash, w->m.metric, strlen(w->m.metric));
    XXH3_64bits_update(w->id_hash, &w->m.model_xxh64, sizeof w->m.model_xxh64);
    /* the bucket buffers: B x cap rows in chunks (the files are made by their first flush) */
    chunk_pool *pl = &w->pool;
    const uint64_t full = cap / CHUNK_ROWS, tail = cap % CHUNK_ROWS;
    pl->count[0] = (uint64_t)B * full, pl->count[1] = tail ? B : 0;
    pl->bytes[0] = CHUNK_ROWS * w->row_bytes, pl->bytes[1] = (size_t)tail * w->row_bytes;
    if (!(pl->base = pa_malloc_dense((size_t)B * cap * w->row_bytes, "bucket buffers")))
        return PA_ERR_NOMEM;
    for (uint32_t b = 0; b < B; b++)
        if (!(w->buckets[b].chunks = pa_calloc(full + 1, sizeof(uint8_t *), "bucket chunks")))
            return PA_ERR_NOMEM;
    return PA_OK;
}

/* The kind of a bucket's chunk c: 0 full, 1 the tail (past the full ones). */
static inline int chunk_kind(const pa_artifact_writer *w, uint64_t c)
{
    return c == w->cap / CHUNK_ROWS;
}

/* A chunk of kind k (0 full, 1 tail) for a bucket: a given-back one, else the next uncut. The
 * pool holds a chunk of each kind for every bucket at its fullest, so there is always one. */
static uint8_t *chunk_take(pa_artifact_writer *w, int k)
{
    chunk_pool *pl = &w->pool;
    uint8_t *c = NULL;
#pragma omp critical(pa_artifact_writer_chunks)
    {
        if (pl->free[k]) {
            c = pl->free[k];
            memcpy(&pl->free[k], c, sizeof(uint8_t *));
        } else if (pl->next[k] < pl->count[k]) {
            c = pl->base + (k ? pl->count[0] * pl->bytes[0] : 0) + pl->next[k]++ * pl->bytes[k];
        }
    }
    return c;
}

/* Gives a bucket's chunks back (after its flush). */
static void chunks_give(pa_artifact_writer *w, bucket *bk)
{
    chunk_pool *pl = &w->pool;
    const uint64_t used = (bk->n + CHUNK_ROWS - 1) / CHUNK_ROWS;
#pragma omp critical(pa_artifact_writer_chunks)
    for (uint64_t c = 0; c < used; c++) {
        const int k = chunk_kind(w, c);
        memcpy(bk->chunks[c], &pl->free[k], sizeof(uint8_t *));
        pl->free[k] = bk->chunks[c];
        bk->chunks[c] = NULL;
    }
}

/* Row i of a bucket's buffer: its chunk, the chunk's rows, and its place in it. */
static inline uint8_t *chunk_of(const pa_artifact_writer *w, const bucket *bk, uint64_t i,
                                uint64_t *rows, uint64_t *at)
{
    const uint64_t c = i / CHUNK_ROWS;
    *rows = chunk_kind(w, c) ? w->cap % CHUNK_ROWS : CHUNK_ROWS;
    *at = i % CHUNK_ROWS;
    return bk->chunks[c];
}

/* Creates the writer (see the header). */
pa_status pa_artifact_writer_create(pa_artifact_writer **out, const char *dir,
                                    const pa_artifact_params *params_in)
{
    *out = NULL;
    if (!dir || !params_in)
        return pa_fail(PA_ERR_INVALID, "artifact writer: a directory and parameters are needed");
    PA_LOAD_OPTS(pa_artifact_params, prm, params_in, PA_ARTIFACT_PARAMS_INIT);
    const pa_artifact_params *params = &prm;
    pa_artifact_writer *w = NULL;
    pa_status st = PA_OK;
    if (!(w = pa_calloc(1, sizeof *w, "artifact writer")) ||
        !(w->dir = pa_strdup(dir, "artifact path"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    if ((st = init_params(w, params)) != PA_OK ||
        (st = size_buffers(w, params->memory_bytes ? params->memory_bytes : PA_DEFAULT_MEMORY_BYTES,
                           params->expected_rows, params->max_buffer_rows)) != PA_OK)
        goto done;
    /* A new directory beside dir, made by this writer and locked by its marker while it works
     * (a second writer of the same artifact makes its own; the first to finish wins, the other
     * is refused at its commit), renamed into place by finish. */
    if ((st = pa_out_dir_open(&w->out, dir, params->replace != 0, PA_ARTIFACT_MANIFEST)) != PA_OK ||
        (st = pa_out_dir_mkdir(&w->out, PA_ARTIFACT_PARTS_DIR)) != PA_OK)
        goto done;
    st = open_buckets(w);
done:
    if (st == PA_OK)
        *out = w;
    else
        pa_artifact_writer_free(w);
    return st;
}

pa_status pa_artifact_writer_estimate(const char *dir, const pa_artifact_params *params,
                                      uint64_t *min_bytes)
{
    *min_bytes = 0;
    if (!dir || !params)
        return pa_fail(PA_ERR_INVALID, "artifact writer estimate: a directory and parameters are "
                                       "needed");
    PA_LOAD_OPTS(pa_artifact_params, p, params, PA_ARTIFACT_PARAMS_INIT);
    pa_artifact_writer w = {.dir = (char *)dir};
    p.model = NULL; /* its hash is not needed to size the writer */
    pa_status st = init_params(&w, &p);
    if (st != PA_OK)
        goto done;
    init_sizes(&w);
    *min_bytes = min_budget(&w);
    if (p.expected_rows) { /* buffers of the least size make the most ranges and pages */
        uint64_t flushes, ranges;
        const uint64_t range_bytes = range_table_bytes(&w, p.expected_rows, MIN_BUFFER_ROWS,
                                                       &flushes, &ranges);
        *min_bytes += range_bytes + fixed_bytes(&w, flushes) - fixed_bytes(&w, w.m.num_buckets);
    }
done:
    pa_manifest_clear(&w.m);
    return st;
}

/* Counting-sorts bucket b's buffer by part_id into thread t's scratch buffer, writes it as one
 * page per column, and records each partition's new range (its checksum hashed into the id at
 * finish). */
static pa_status flush_bucket(pa_artifact_writer *w, uint32_t b, int t)
{
    bucket *bk = &w->buckets[b];
    rows_buf *sc = &w->scratch[t];
    uint64_t n = bk->n;
    if (n == 0)
        return PA_OK;
    const uint32_t B = w->m.num_buckets;
    const size_t M = w->m.code_bytes;
    uint64_t *cnt = w->counts + (size_t)t * (w->max_local + 1);
    uint32_t nloc = (w->m.num_partitions - b + B - 1) / B; /* partitions b, b+B, ... < P */
    memset(cnt, 0, (nloc + 1) * sizeof *cnt);
    for (uint64_t i0 = 0; i0 < n; i0 += CHUNK_ROWS) { /* a chunk at a time */
        uint64_t R, at;
        const uint8_t *ch = chunk_of(w, bk, i0, &R, &at);
        for (uint64_t j = 0, m = PA_MIN(n - i0, R); j < m; j++) {
            uint32_t part;
            memcpy(&part, ch + R * 8 + j * 4, 4);
            cnt[part / B + 1]++;
        }
    }
    for (uint32_t k = 0; k < nloc; k++)
        cnt[k + 1] += cnt[k]; /* cnt[k] = start of local partition k */
    for (uint64_t i0 = 0; i0 < n; i0 += CHUNK_ROWS) {
        uint64_t R, at;
        const uint8_t *ch = chunk_of(w, bk, i0, &R, &at);
        for (uint64_t j = 0, m = PA_MIN(n - i0, R); j < m; j++) {
            uint32_t part;
            memcpy(&part, ch + R * 8 + j * 4, 4);
            const uint64_t pos = cnt[part / B]++;
            memcpy(&sc->ids[pos], ch + j * 8, 8);
            sc->parts[pos] = part;
            copy_code(sc->codes + pos * M, ch + R * 12 + j * M, M);
        }
    }
    chunks_give(w, bk); /* (the rows are in the scratch now) */
    bk->n = 0;
    /* now cnt[k] = end of local partition k */
    pa_status st = PA_OK;
    if (!bk->lw) { /* a bucket that never gets a row gets no file */
        pa_field fields[BUCKET_COLS];
        char path[BUCKET_PATH_MAX];
        bucket_schema(w, fields);
        bucket_abs_path(w, b, path, sizeof path);
        pa_lance_write_options wo = BUCKET_WRITE;
        wo.no_sync = w->no_sync;
        if ((st = pa_lance_writer_create(&bk->lw, path, fields, BUCKET_COLS, &wo)) != PA_OK)
            return st;
    }
    const void *cols[BUCKET_COLS] = {sc->ids, sc->codes};
    if ((st = pa_lance_writer_write_pages(bk->lw, cols, n)) != PA_OK)
        return st;
    uint64_t start = 0;
    for (uint32_t k = 0; k < nloc; k++) {
        uint64_t end = cnt[k];
        if (end > start) {
            /* the range's checksum, over exactly what the reader will decode */
            const uint32_t part = k * B + b;
            uint64_t sum = pa_bucket_range_checksum(sc->ids + start, sc->codes + start * M,
                                                    end - start, (uint32_t)M, part);
            st = pa_part_add_range(&w->m.parts[part], bk->file_rows + start, end - start, sum);
            if (st != PA_OK)
                return st;
            __atomic_fetch_add(&w->stats.ranges, 1, __ATOMIC_RELAXED);
        }
        start = end;
    }
    bk->file_rows += n;
    __atomic_fetch_add(&w->stats.flushes, 1, __ATOMIC_RELAXED);
    return PA_OK;
}

/* The threads a call over `work` rows or buckets runs on (1 below `least`). */
static int writer_threads(const pa_artifact_writer *w, uint64_t work, uint64_t least)
{
    return work < least ? 1 : PA_MIN(omp_get_max_threads(), max_threads(w));
}

/* The first failure of a team's threads, carried to the calling thread (messages are
 * thread-local). */
typedef struct team_error {
    pa_status st;
    int err;
    const char *field;
    char msg[1024];
} team_error;

static void team_error_keep(team_error *e, pa_status st)
{
    if (st == PA_OK)
        return;
#pragma omp critical(pa_artifact_writer_error)
    if (e->st == PA_OK) {
        e->st = st, e->err = pa_last_error_errno(), e->field = pa_last_error_field();
        snprintf(e->msg, sizeof e->msg, "%s", pa_last_error());
    }
}

/* The team's status on the calling thread, its message recorded again there. */
static pa_status team_error_raise(const team_error *e, int threads)
{
    if (e->st == PA_OK || threads == 1) /* one thread: the message is already this thread's */
        return e->st;
    return pa_fail_with(e->st, e->field, e->err, "%s", e->msg);
}

/* Routes the batch's rows of the buckets thread t of T owns into their buffers, flushing the
 * full ones. */
static pa_status route_rows(pa_artifact_writer *w, const uint64_t *row_ids,
                            const uint32_t *part_ids, const uint8_t *codes, size_t n, int t, int T)
{
    const uint32_t B = w->m.num_buckets;
    const size_t M = w->m.code_bytes;
    for (size_t i = 0; i < n; i++) {
        uint32_t b = part_ids[i] % B;
        if (T > 1 && (int)(b % (uint32_t)T) != t)
            continue;
        bucket *bk = &w->buckets[b];
        if (bk->n % CHUNK_ROWS == 0) { /* a new chunk */
            const uint64_t c = bk->n / CHUNK_ROWS;
            if (!(bk->chunks[c] = chunk_take(w, chunk_kind(w, c))))
                return pa_fail(PA_ERR_STATE,
                               "%s: no free buffer chunk for bucket %u (the pool holds one for "
                               "every bucket at its fullest)",
                               w->dir, b);
        }
        uint64_t R, at;
        uint8_t *ch = chunk_of(w, bk, bk->n, &R, &at);
        memcpy(ch + at * 8, &row_ids[i], 8);
        memcpy(ch + R * 8 + at * 4, &part_ids[i], 4);
        copy_code(ch + R * 12 + at * M, codes + i * M, M);
        if (++bk->n == w->cap) {
            pa_status st = flush_bucket(w, b, t);
            if (st != PA_OK)
                return st;
        }
    }
    return PA_OK;
}

/* Validates a batch completely, then routes its rows into bucket buffers. */
pa_status pa_artifact_writer_append(pa_artifact_writer *w, const uint64_t *row_ids,
                                    size_t num_row_ids, const uint32_t *part_ids,
                                    size_t num_part_ids, const uint8_t *codes, size_t codes_bytes)
{
    pa_status st = pa_writer_state(w->dir, "append", w->finished, "finish", w->failed);
    if (st != PA_OK)
        return st;
    const size_t M = w->m.code_bytes;
    if (num_row_ids != num_part_ids)
        return pa_fail(PA_ERR_INVALID, "%s: append: %zu row ids but %zu part ids", w->dir,
                       num_row_ids, num_part_ids);
    size_t want;
    if (!pa_mul_ok(num_row_ids, M, &want) || codes_bytes != want)
        return pa_fail(PA_ERR_INVALID,
                       "%s: append: %zu bytes of codes for %zu rows; expected %zu "
                       "(%zu bytes per code)",
                       w->dir, codes_bytes, num_row_ids, num_row_ids * M, M);
    if (num_row_ids && (!row_ids || !part_ids || !codes))
        return pa_fail(PA_ERR_INVALID, "%s: append: missing array", w->dir);
    for (size_t i = 0; i < num_row_ids; i++)
        if (part_ids[i] >= w->m.num_partitions)
            return pa_fail(PA_ERR_RANGE,
                           "%s: append: row %zu of the batch (row %" PRIu64
                           " overall, row_id %" PRIu64 ") has part_id %u; expected < %u",
                           w->dir, i, w->stats.rows + i, row_ids[i], part_ids[i],
                           w->m.num_partitions);
    team_error e = {.st = PA_OK};
    const int T = writer_threads(w, num_row_ids, PARALLEL_ROWS);
    if (T == 1)
        e.st = route_rows(w, row_ids, part_ids, codes, num_row_ids, 0, 1);
    else
#pragma omp parallel num_threads(T)
        team_error_keep(&e, route_rows(w, row_ids, part_ids, codes, num_row_ids,
                                       omp_get_thread_num(), omp_get_num_threads()));
    if ((st = team_error_raise(&e, T)) != PA_OK) {
        w->failed = true;
        return st;
    }
    w->stats.rows += num_row_ids;
    return PA_OK;
}

/* metadata.lance: the model the codes were made with, in the columns and schema metadata
 * lance-cuvs writes (pa_ivfpq_model_save_metadata), recorded with its size and XXH64. */
static pa_status write_metadata(pa_artifact_writer *w)
{
    if (!w->m.model)
        return PA_OK;
    char path[BUCKET_PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", w->out.dir, PA_ARTIFACT_METADATA_FILE);
    pa_ivfpq_model *model = NULL;
    pa_status st = load_model(w, &model);
    if (st == PA_OK)
        st = pa_ivfpq_model_save_metadata(model, path, &w->m.metadata_bytes, &w->m.metadata_xxh64);
    pa_ivfpq_model_free(model);
    if (st == PA_OK && !(w->m.metadata_file = pa_strdup(PA_ARTIFACT_METADATA_FILE, "path")))
        st = PA_ERR_NOMEM;
    if (st == PA_OK)
        w->stats.bytes_written += w->m.metadata_bytes;
    return st;
}

/* Writes bucket b's file's footer with the artifact id and its number (no rows: no file). */
static pa_status close_bucket(pa_artifact_writer *w, uint32_t b)
{
    bucket *bk = &w->buckets[b];
    if (!bk->lw)
        return PA_OK;
    char id[17], num[16];
    snprintf(id, sizeof id, "%016" PRIx64, w->m.artifact_id);
    snprintf(num, sizeof num, "%u", b);
    pa_status st = pa_lance_writer_set_metadata(bk->lw, PA_ARTIFACT_META_ID, id, 16);
    if (st == PA_OK)
        st = pa_lance_writer_set_metadata(bk->lw, PA_ARTIFACT_META_BUCKET, num, strlen(num));
    return st == PA_OK ? pa_lance_writer_close(bk->lw) : st;
}

/* Flushes, closes the bucket files, records their sizes and checksums, commits the manifest. */
pa_status pa_artifact_writer_finish(pa_artifact_writer *w)
{
    pa_status st = pa_writer_state(w->dir, "finish", w->finished, "finish", w->failed);
    if (st != PA_OK)
        return st;
    const uint32_t B = w->m.num_buckets;
    w->m.files = pa_calloc(B, sizeof *w->m.files, "file table");
    if (!w->m.files)
        st = PA_ERR_NOMEM;
    const int T = writer_threads(w, B, 2);
    team_error e = {.st = PA_OK};
    if (st == PA_OK) {
#pragma omp parallel num_threads(T)
        {
            const int t = omp_get_thread_num(), nt = omp_get_num_threads();
            for (uint32_t b = (uint32_t)t; b < B; b += (uint32_t)nt) /* each its buckets */
                team_error_keep(&e, flush_bucket(w, b, t));
        }
        st = team_error_raise(&e, T);
    }
    /* Every range is known now: the artifact's id is derived from all their checksums, in
     * partition order (so the same rows give the same bytes), and every bucket file carries it,
     * so that a bucket file of another artifact is refused when opened. */
    if (st == PA_OK) {
        for (uint32_t p = 0; p < w->m.num_partitions; p++)
            for (uint32_t r = 0; r < w->m.parts[p].num_ranges; r++)
                XXH3_64bits_update(w->id_hash, &w->m.parts[p].ranges[r].xxh3, sizeof(uint64_t));
        w->m.artifact_id = XXH3_64bits_digest(w->id_hash);
    }
    /* the footers (and with sync the files' fsyncs) on the threads, each its buckets' files */
    if (st == PA_OK) {
        e = (team_error){.st = PA_OK};
#pragma omp parallel num_threads(T)
        {
            const int t = omp_get_thread_num(), nt = omp_get_num_threads();
            for (uint32_t b = (uint32_t)t; b < B; b += (uint32_t)nt)
                team_error_keep(&e, close_bucket(w, b));
        }
        st = team_error_raise(&e, T);
    }
    for (uint32_t b = 0; st == PA_OK && b < B; b++) {
        bucket *bk = &w->buckets[b];
        if (!bk->lw) /* no rows, no file */
            continue;
        char rel[64];
        pa_artifact_bucket_path(b, rel, sizeof rel);
        pa_artifact_file_rec *f = &w->m.files[w->m.num_files];
        if (!(f->path = pa_strdup(rel, "file path"))) {
            st = PA_ERR_NOMEM;
            break;
        }
        f->bucket = b;
        f->rows = bk->file_rows;
        f->bytes = pa_lance_writer_bytes_written(bk->lw);
        f->xxh64 = pa_lance_writer_xxh64(bk->lw);
        w->stats.bytes_written += f->bytes;
        w->m.num_files++;
    }
    /* the model is loaded to write metadata.lance in the memory the buffers held */
    free(w->pool.base);
    w->pool = (chunk_pool){0};
    for (int t = 0; t < WRITER_THREADS; t++) {
        rows_buf *sc = &w->scratch[t];
        free(sc->ids), free(sc->parts), free(sc->codes);
        *sc = (rows_buf){0};
    }
    if (st == PA_OK)
        st = write_metadata(w);
    w->m.total_rows = w->stats.rows;
    /* The bucket files are fsynced; their names must be too before the manifest commits them
     * (else a crash after the commit could leave a manifest naming files that are gone): the
     * partitions directory, and the artifact directory's entry in its parent if we made it.
     * The artifact directory itself is fsynced by the commit. */
    char path[4096];
    if (st == PA_OK && !w->no_sync) {
        snprintf(path, sizeof path, "%s/%s/x", w->out.dir, PA_ARTIFACT_PARTS_DIR);
        st = pa_fsync_dir_of(path);
    }
    if (st == PA_OK)
        st = pa_manifest_commit(&w->m, w->out.dir);
    if (st == PA_OK) /* the complete artifact appears under its name, or nothing changes */
        st = pa_out_dir_commit(&w->out);
    if (st != PA_OK) {
        w->failed = true;
        return st;
    }
    w->finished = true;
    return PA_OK;
}

pa_status pa_artifact_writer_stats(const pa_artifact_writer *w, pa_artifact_write_stats *out)
{
    pa_status st = pa_info_args(w, out, "pa_artifact_write_stats",
                                "artifact writer stats: a writer");
    if (st != PA_OK)
        return st;
    pa_artifact_write_stats s = w->stats;
    s.struct_size = sizeof s;
    if (!w->finished)
        for (uint32_t b = 0; w->buckets && b < w->m.num_buckets; b++)
            if (w->buckets[b].lw)
                s.bytes_written += pa_lance_writer_bytes_written(w->buckets[b].lw);
    pa_stats_store(out, &s, sizeof s);
    return PA_OK;
}

/* Removes the bucket files, the temporary manifest, and the directories the writer made. */
void pa_artifact_writer_abort(pa_artifact_writer *w)
{
    if (!w || w->finished || !w->dir)
        return;
    for (uint32_t b = 0; w->buckets && b < w->m.num_buckets; b++) {
        pa_lance_writer_free(w->buckets[b].lw); /* an unclosed file is removed */
        w->buckets[b].lw = NULL;
    }
    pa_out_dir_abort(&w->out); /* the work directory, with everything the writer made */
    w->failed = true;
}

/* Frees a bucket's file (an unclosed one is removed) and chunk list. */
static void bucket_free(bucket *bk)
{
    pa_lance_writer_free(bk->lw);
    free(bk->chunks);
}

/* Frees the writer; an unfinished one is aborted first. */
void pa_artifact_writer_free(pa_artifact_writer *w)
{
    if (!w)
        return;
    if (!w->finished)
        pa_artifact_writer_abort(w);
    for (uint32_t b = 0; w->buckets && b < w->m.num_buckets; b++)
        bucket_free(&w->buckets[b]);
    free(w->buckets);
    free(w->pool.base);
    for (int t = 0; t < WRITER_THREADS; t++)
        free(w->scratch[t].ids), free(w->scratch[t].parts), free(w->scratch[t].codes);
    free(w->counts);
    XXH3_freeState(w->id_hash);
    pa_out_dir_abort(&w->out);
    pa_manifest_clear(&w->m);
    free(w->dir);
    free(w);
}
