/* The index writer: both finalize paths end here. It takes partitions in id order, puts each
 * in the defined order (row id, then code bytes), transposes its codes as LanceDB stores them
 * and appends them to auxiliary.idx; finish writes the IVF and codebook buffers, the metadata
 * LanceDB and partifact read, index.idx, and renames the temporary directory into place. */
#include "index/index_internal.h"
#include "lance/table_commit.h"
#include "common/pq_code.h"

#include <math.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

struct pa_index_writer {
    char *out_dir, *aux_path, *idx_path;
    pa_out_dir out;     /* the new index is written in out.dir, beside out_dir */
    pa_backend_model m; /* arrays owned (copies) */
    uint32_t W;         /* code bytes a row (pq_code.h) */
    uint64_t model_xxh64;
    pa_lance_writer *aux;
    uint64_t *offsets; /* P: first row of each partition */
    uint32_t *lengths; /* P */
    uint32_t next_part;
    uint64_t rows, max_part, bytes;
    /* one partition's worth of scratch, grown as needed */
    uint64_t cap;
    uint64_t *perm; /* sort keys: row id and original index */
    uint64_t *ids_out;
    uint8_t *codes_out;
    XXH64_state_t *ids_hash, *codes_hash; /* of the row ids and the codes as written */
    bool finished;
    char *source; /* partifact:source of index.idx (NULL: none) */
};

/* A malloc'd copy of s with trailing slashes removed ("idx/" names the same directory). */
static char *strip_slashes(const char *s)
{
    char *c = pa_strdup(s, "path");
    if (c)
        pa_trim_slashes(c);
    return c;
}

/* Validates the model, refuses an existing out_dir, copies the model arrays and starts
 * auxiliary.idx inside the temporary directory. */
pa_status pa_index_writer_create(pa_index_writer **out, const char *out_dir,
                                 const pa_backend_model *model, uint64_t model_xxh64, bool replace)
{
    *out = NULL;
    if (!out_dir || !out_dir[0])
        return pa_fail(PA_ERR_INVALID, "index: no output directory given");
    if (pa_pq_check_bits(model->num_sub_vectors, model->num_bits) != PA_OK)
        return pa_fail_prefix(PA_ERR_INVALID, "index %s: the model", out_dir);
    if (!model->dim || !model->num_sub_vectors || model->dim % model->num_sub_vectors ||
        !model->num_partitions)
        return pa_fail(PA_ERR_INVALID,
                       "index %s: the model has dimension %u, %u sub-vectors "
                       "and %u partitions; expected sub-vectors dividing the dimension",
                       out_dir, model->dim, model->num_sub_vectors, model->num_partitions);
    pa_index_writer *w = NULL;
    pa_status st = pa_output_refuse(out_dir, replace, PA_INDEX_FILE);
    if (st != PA_OK)
        goto done;
    if (!(w = pa_calloc(1, sizeof *w, "index writer"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    w->m = *model;
    w->W = pa_pq_code_bytes(model->num_sub_vectors, model->num_bits);
    w->model_xxh64 = model_xxh64;
    const size_t P = model->num_partitions, D = model->dim;
    const size_t cb = (size_t)pa_pq_codewords(model->num_bits) * D; /* M x 2^bits x D/M */
    float *cent = pa_malloc(sizeof(float) * P * D, "index centroids");
    float *code = pa_malloc(sizeof(float) * cb, "index codebook");
    w->m.centroids = cent, w->m.codebook = code;
    w->offsets = pa_calloc(P, sizeof *w->offsets, "index offsets");
    w->lengths = pa_calloc(P, sizeof *w->lengths, "index lengths");
    w->out_dir = strip_slashes(out_dir);
    w->ids_hash = XXH64_createState();
    w->codes_hash = XXH64_createState();
    if (!cent || !code || !w->offsets || !w->lengths || !w->out_dir || !w->ids_hash ||
        !w->codes_hash || XXH64_reset(w->ids_hash, 0) != XXH_OK ||
        XXH64_reset(w->codes_hash, 0) != XXH_OK) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    memcpy(cent, model->centroids, sizeof(float) * P * D);
    memcpy(code, model->codebook, sizeof(float) * cb);
    if ((st = pa_out_dir_open(&w->out, w->out_dir, replace, PA_INDEX_FILE)) != PA_OK)
        goto done;
    w->aux_path = pa_path_join(w->out.dir, "/", PA_INDEX_AUX_FILE);
    w->idx_path = pa_path_join(w->out.dir, "/", PA_INDEX_FILE);
    if (!w->aux_path || !w->idx_path) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    pa_field f[2] = {{PA_INDEX_COL_ROWID, PA_TYPE_UINT64, 1},
                     {PA_INDEX_COL_CODE, PA_TYPE_FSL_UINT8, w->W}};
    /* pages of 1 MiB: the writer buffers one per column, outside the finalizers' budgets, and
     * the page size must not depend on the budget (every budget writes the same bytes) */
    pa_lance_write_options lo = PA_LANCE_WRITE_OPTIONS_INIT;
    lo.page_bytes = PA_INDEX_PAGE_BYTES;
    lo.in_new_dir = 1;
    lo.bitpack = 1;
    if ((st = pa_lance_writer_create(&w->aux, w->aux_path, f, 2, &lo)) != PA_OK)
        goto done;
    *out = w, w = NULL;
done:
    pa_index_writer_free(w); /* an unfinished writer removes its work directory */
    return st;
}

/* qsort_r comparison of two rows of a partition: row id, then code bytes (a total order, so
 * both finalize paths agree even on duplicate row ids). */
static int cmp_rows(const void *a, const void *b, void *ctx)
{
    const uint64_t *x = a, *y = b; /* [row id, original index] */
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    const uint8_t *codes = ((const uint8_t **)ctx)[0];
    size_t M = (size_t)(uintptr_t)((const uint8_t **)ctx)[1];
    int c = memcmp(codes + x[1] * M, codes + y[1] * M, M);
    return c ? c : (x[1] < y[1] ? -1 : x[1] > y[1]);
}

/* Grows the scratch buffers to hold n rows: to exactly n, so that they never hold more than
 * pa_index_writer_scratch of the largest partition, which the finalizers budget for. */
static pa_status reserve(pa_index_writer *w, uint64_t n)
{
    if (n <= w->cap)
        return PA_OK;
    const size_t M = w->W;
    uint64_t cap = n;
    size_t bytes;
    if (!pa_mul_ok(cap, 2 * sizeof(uint64_t), &bytes) || !pa_mul_ok(cap, M, &bytes))
        return pa_fail(PA_ERR_NOMEM, "index: partition of %" PRIu64 " rows is too large", n);
    uint64_t *perm = pa_realloc(w->perm, cap * 2 * sizeof(uint64_t), "partition sort keys");
    if (!perm)
        return PA_ERR_NOMEM;
    w->perm = perm;
    uint64_t *ids = pa_realloc(w->ids_out, cap * sizeof(uint64_t), "partition row ids");
    if (!ids)
        return PA_ERR_NOMEM;
    w->ids_out = ids;
    uint8_t *codes = pa_realloc(w->codes_out, cap * M, "partition codes");
    if (!codes)
        return PA_ERR_NOMEM;
    w->codes_out = codes;
    w->cap = cap;
    return PA_OK;
}

/* Records partition p's offset and length, sorts its rows into the defined order, transposes
 * its codes and appends them to auxiliary.idx. */
pa_status pa_index_writer_add_partition(pa_index_writer *w, uint32_t p, const uint64_t *row_ids,
                                        const uint8_t *codes, uint64_t n)
{
    if (w->finished)
        return pa_fail(PA_ERR_STATE, "index %s: partition %u after finish", w->out_dir, p);
    if (p >= w->m.num_partitions || p < w->next_part)
        return pa_fail(PA_ERR_STATE, "index %s: partition %u out of order (next is %u of %u)",
                       w->out_dir, p, w->next_part, w->m.num_partitions);
    if (n > UINT32_MAX)
        return pa_fail(PA_ERR_RANGE,
                       "index %s: partition %u has %" PRIu64 " rows, more than "
                       "the format's 2^32-1",
                       w->out_dir, p, n);
    while (w->next_part < p) { /* skipped partitions are empty */
        w->offsets[w->next_part] = w->rows;
        w->lengths[w->next_part++] = 0;
    }
    w->offsets[p] = w->rows;
    w->lengths[p] = (uint32_t)n;
    w->next_part = p + 1;
    if (n == 0)
        return PA_OK;
    pa_status st = reserve(w, n);
    if (st != PA_OK)
        return st;
    const size_t M = w->W; /* code bytes: 4-bit codes are transposed as packed bytes, as Lance */
    for (uint64_t i = 0; i < n; i++)
        w->perm[2 * i] = row_ids[i], w->perm[2 * i + 1] = i;
    /* Rows usually arrive in row id order (an artifact's ranges keep the order rows were
     * written in): then the sort is one pass that finds nothing to do. */
    bool sorted = true;
    for (uint64_t i = 1; i < n && sorted; i++)
        sorted = row_ids[i - 1] < row_ids[i];
    if (!sorted) {
        const uint8_t *ctx[2] = {codes, (const uint8_t *)(uintptr_t)M};
        qsort_r(w->perm, n, 2 * sizeof(uint64_t), cmp_rows, ctx);
    }
    /* sorted row ids, and codes transposed: byte m of (sorted) row i at [m * n + i] */
    for (uint64_t i = 0; i < n; i++) {
        uint64_t src = w->perm[2 * i + 1];
        w->ids_out[i] = w->perm[2 * i];
        const uint8_t *c = codes + src * M;
        for (size_t m = 0; m < M; m++)
            w->codes_out[m * n + i] = c[m];
    }
    const void *cols[2] = {w->ids_out, w->codes_out};
    if ((st = pa_lance_writer_append(w->aux, cols, n)) != PA_OK)
        return st;
    XXH64_update(w->ids_hash, w->ids_out, sizeof(uint64_t) * n);
    XXH64_update(w->codes_hash, w->codes_out, M * n);
    w->rows += n;
    w->max_part = PA_MAX(w->max_part, n);
    return PA_OK;
}

/* What the partifact:index JSON says about the index written. */
static void identity(const pa_index_writer *w, pa_index_identity *id)
{
    *id = (pa_index_identity){.metric = (pa_metric)w->m.metric,
                              .dim = w->m.dim,
                              .num_partitions = w->m.num_partitions,
                              .num_sub_vectors = w->m.num_sub_vectors,
                              .num_bits = w->m.num_bits,
                              .num_rows = w->rows,
                              .model_xxh64 = w->model_xxh64,
                              .rows_xxh64 = pa_index_rows_xxh64(XXH64_digest(w->ids_hash),
                                                                XXH64_digest(w->codes_hash))};
}

/* index.idx: no rows, the IVF buffer with the centroids, and the index metadata. */
static pa_status write_idx(pa_index_writer *w, const pa_index_identity *id, const char *meta)
{
    pa_field f = {PA_INDEX_COL_FLAT, PA_TYPE_UINT64, 1};
    pa_lance_writer *lw = NULL;
    pa_lance_write_options lo = PA_LANCE_WRITE_OPTIONS_INIT;
    lo.in_new_dir = 1;
    pa_status st = pa_lance_writer_create(&lw, w->idx_path, &f, 1, &lo);
    if (st != PA_OK)
        goto done;
    if ((st = pa_index_write_idx_meta(lw, id, w->m.centroids, meta, PA_SOURCE_META_KEY,
                                      w->source)) != PA_OK ||
        (st = pa_lance_writer_close(lw)) != PA_OK)
        goto done;
    w->bytes += pa_lance_writer_bytes_written(lw);
done:
    pa_lance_writer_free(lw);
    return st;
}

/* Completes both files and makes the index visible: fsync, then rename, then fsync the
 * parent, so that a crash leaves either no INDEX or a complete one. */
pa_status pa_index_writer_finish(pa_index_writer *w)
{
    if (w->finished)
        return pa_fail(PA_ERR_STATE, "index %s: finished twice", w->out_dir);
    while (w->next_part < w->m.num_partitions) {
        w->offsets[w->next_part] = w->rows;
        w->lengths[w->next_part++] = 0;
    }
    pa_index_identity id;
    identity(w, &id);
    char *meta = pa_index_identity_json(&id);
    if (!meta)
        return pa_fail(PA_ERR_NOMEM, "index %s: out of memory describing the index", w->out_dir);
    pa_status st = pa_index_write_aux_meta(w->aux, &id, w->offsets, w->lengths, w->m.codebook,
                                           meta);
    if (st == PA_OK)
        st = pa_lance_writer_close(w->aux);
    if (st == PA_OK) {
        w->bytes = pa_lance_writer_bytes_written(w->aux);
        st = write_idx(w, &id, meta);
    }
    free(meta);
    if (st == PA_OK)
        st = pa_fsync_dir_of(w->idx_path);
    if (st != PA_OK)
        return st;
    /* the commit point: the complete directory appears under its name (replacing the old one
     * in one step), or nothing changes */
    if ((st = pa_out_dir_commit(&w->out)) != PA_OK)
        return st;
    w->finished = true;
    return PA_OK;
}

void pa_index_writer_stats(const pa_index_writer *w, pa_index_finalize_stats *s)
{
    memset(s, 0, sizeof *s);
    s->struct_size = sizeof *s;
    s->rows = w->rows;
    s->partitions = w->m.num_partitions;
    s->max_partition_rows = w->max_part;
    s->index_bytes = s->bytes_written = w->bytes;
}

/* Frees the writer, removing the temporary directory if it was never renamed into place. */
void pa_index_writer_free(pa_index_writer *w)
{
    if (!w)
        return;
    pa_lance_writer_free(w->aux);
    pa_out_dir_abort(&w->out); /* an unfinished index's work directory */
    free((void *)w->m.centroids), free((void *)w->m.codebook);
    free(w->offsets), free(w->lengths), free(w->perm), free(w->ids_out), free(w->codes_out);
    free(w->out_dir), free(w->aux_path), free(w->idx_path);
    XXH64_freeState(w->ids_hash), XXH64_freeState(w->codes_hash);
    free(w->source);
    free(w);
}

pa_status pa_index_writer_set_source(pa_index_writer *w, const char *json)
{
    free(w->source);
    w->source = NULL;
    if (json && !(w->source = pa_strdup(json, "index source record")))
        return PA_ERR_NOMEM;
    return PA_OK;
}
