/* The index writer: both finalize paths end here. It takes partitions in id order, puts each
 * in the defined order (row id, then code bytes), transposes its codes as LanceDB stores them
 * and appends them to auxiliary.idx; finish writes the IVF and codebook buffers, the metadata
 * LanceDB and partifact read, index.idx, and renames the temporary directory into place. */
#include "common/json.h"
#include "index/index_internal.h"
#include "lance/table_commit.h"

#include <math.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

struct pa_index_writer {
    char *out_dir, *aux_path, *idx_path;
    pa_out_dir out;              /* the new index is written in out.dir, beside out_dir */
    pa_backend_model m;          /* arrays owned (copies) */
    uint64_t model_xxh64;
    pa_lance_writer *aux;
    uint64_t *offsets;           /* P: first row of each partition */
    uint32_t *lengths;           /* P */
    uint32_t next_part;
    uint64_t rows, max_part, bytes;
    /* one partition's worth of scratch, grown as needed */
    uint64_t cap;
    uint64_t *perm;              /* sort keys: row id and original index */
    uint64_t *ids_out;
    uint8_t *codes_out;
    XXH64_state_t *ids_hash, *codes_hash; /* of the row ids and the codes as written */
    bool finished;
    char *source;           /* partifact:source of index.idx (NULL: none) */
};

/* The rows' identity (see index_internal.h). */
uint64_t pa_index_rows_xxh64(uint64_t ids_xxh64, uint64_t codes_xxh64)
{
    uint8_t b[16];
    pa_st64(b, ids_xxh64);
    pa_st64(b + 8, codes_xxh64);
    return XXH64(b, sizeof b, 0);
}

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
                                 const pa_backend_model *model, uint64_t model_xxh64,
                                 bool replace)
{
    *out = NULL;
    if (!out_dir || !out_dir[0])
        return pa_fail(PA_ERR_INVALID, "index: no output directory given");
    if (model->num_bits != 8)
        return pa_fail(PA_ERR_UNSUPPORTED, "index %s: the model has %u-bit codes; only 8-bit "
                       "PQ codes are written", out_dir, model->num_bits);
    if (!model->dim || !model->num_sub_vectors || model->dim % model->num_sub_vectors ||
        !model->num_partitions)
        return pa_fail(PA_ERR_INVALID, "index %s: the model has dimension %u, %u sub-vectors "
                       "and %u partitions; expected sub-vectors dividing the dimension",
                       out_dir, model->dim, model->num_sub_vectors, model->num_partitions);
    pa_status st = pa_output_refuse(out_dir, replace, PA_INDEX_FILE);
    if (st != PA_OK)
        return st;
    pa_index_writer *w = pa_calloc(1, sizeof *w, "index writer");
    if (!w)
        return PA_ERR_NOMEM;
    w->m = *model;
    w->model_xxh64 = model_xxh64;
    const size_t P = model->num_partitions, D = model->dim;
    const size_t cb = (size_t)model->num_sub_vectors * 256 * (D / model->num_sub_vectors);
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
        pa_index_writer_free(w);
        return PA_ERR_NOMEM;
    }
    memcpy(cent, model->centroids, sizeof(float) * P * D);
    memcpy(code, model->codebook, sizeof(float) * cb);
    if ((st = pa_out_dir_open(&w->out, w->out_dir, replace, PA_INDEX_FILE)) != PA_OK) {
        pa_index_writer_free(w);
        return st;
    }
    w->aux_path = pa_path_join(w->out.dir, "/", PA_INDEX_AUX_FILE);
    w->idx_path = pa_path_join(w->out.dir, "/", PA_INDEX_FILE);
    if (!w->aux_path || !w->idx_path) {
        pa_index_writer_free(w);
        return PA_ERR_NOMEM;
    }
    pa_field f[2] = {{PA_INDEX_COL_ROWID, PA_TYPE_UINT64, 1},
                     {PA_INDEX_COL_CODE, PA_TYPE_FSL_UINT8, model->num_sub_vectors}};
    /* pages of 1 MiB: the writer buffers one per column, outside the finalizers' budgets, and
     * the page size must not depend on the budget (every budget writes the same bytes) */
    pa_lance_write_options lo = PA_LANCE_WRITE_OPTIONS_INIT;
    lo.page_bytes = PA_INDEX_PAGE_BYTES;
    lo.in_new_dir = 1;
    lo.bitpack = 1;
    st = pa_lance_writer_create(&w->aux, w->aux_path, f, 2, &lo);
    if (st != PA_OK) {
        pa_index_writer_free(w);
        return st;
    }
    *out = w;
    return PA_OK;
}

/* qsort_r comparison of two rows of a partition: row id, then code bytes (a total order, so
 * both finalize paths agree even on duplicate row ids). */
static int cmp_rows(const void *a, const void *b, void *ctx)
{
    const uint64_t *x = a, *y = b;       /* [row id, original index] */
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
    const size_t M = w->m.num_sub_vectors;
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
        return pa_fail(PA_ERR_RANGE, "index %s: partition %u has %" PRIu64 " rows, more than "
                       "the format's 2^32-1", w->out_dir, p, n);
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
    const size_t M = w->m.num_sub_vectors;
    for (uint64_t i = 0; i < n; i++)
        w->perm[2 * i] = row_ids[i], w->perm[2 * i + 1] = i;
    const uint8_t *ctx[2] = {codes, (const uint8_t *)(uintptr_t)M};
    qsort_r(w->perm, n, 2 * sizeof(uint64_t), cmp_rows, ctx);
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

/* Packs a protobuf message into a malloc'd buffer. */
static uint8_t *pack_ivf(const Pa__Lancepb__Ivf *msg, size_t *len)
{
    *len = pa__lancepb__ivf__get_packed_size(msg);
    uint8_t *buf = pa_malloc(*len ? *len : 1, "IVF protobuf");
    if (buf)
        pa__lancepb__ivf__pack(msg, buf);
    return buf;
}

/* A 16-hex-digit hash as the partifact:index JSON spells it. */
static json_t *hex64(uint64_t v)
{
    char t[17];
    snprintf(t, sizeof t, "%016" PRIx64, v);
    return json_string(t);
}

/* The partifact:index JSON both files carry: everything search needs besides the arrays. */
static pa_status index_meta_json(const pa_index_writer *w, char **out)
{
    json_t *v = NULL;
    *out = NULL;
    pa_status st = pa_json_pack(
        &v, "index metadata", "{s:s, s:i, s:s, s:i, s:i, s:i, s:i, s:I, s:s, s:o, s:o}",
        "format", PA_INDEX_FORMAT, "format_version", PA_INDEX_FORMAT_VERSION, "metric",
        pa_metric_name((pa_metric)w->m.metric), "dimension", (int)w->m.dim, "num_partitions",
        (int)w->m.num_partitions, "num_sub_vectors", (int)w->m.num_sub_vectors, "num_bits",
        (int)w->m.num_bits, "num_rows", (json_int_t)w->rows, "row_order", "row_id",
        "model_xxh64", hex64(w->model_xxh64), PA_INDEX_META_ROWS_HASH,
        hex64(pa_index_rows_xxh64(XXH64_digest(w->ids_hash), XXH64_digest(w->codes_hash))));
    return st == PA_OK ? pa_json_dump(v, PA_JSON_COMPACT, out) : st;
}

/* Sets a NUL-terminated string as schema metadata. */
static pa_status set_meta(pa_lance_writer *lw, const char *key, const char *value)
{
    return pa_lance_writer_set_metadata(lw, key, value, strlen(value));
}

/* auxiliary.idx: IVF buffer (offsets, lengths), codebook tensor, metadata; then close. */
static pa_status finish_aux(pa_index_writer *w, const char *meta)
{
    const uint32_t P = w->m.num_partitions, M = w->m.num_sub_vectors, D = w->m.dim;
    Pa__Lancepb__Ivf ivf = PA__LANCEPB__IVF__INIT;
    ivf.n_offsets = P, ivf.offsets = w->offsets;
    ivf.n_lengths = P, ivf.lengths = w->lengths;
    size_t len;
    uint8_t *buf = pack_ivf(&ivf, &len);
    if (!buf)
        return PA_ERR_NOMEM;
    uint32_t gb_ivf = 0, gb_cb = 0;
    pa_status st = pa_lance_writer_add_global_buffer(w->aux, buf, len, &gb_ivf);
    free(buf);
    if (st != PA_OK)
        return st;
    /* the codebook: LanceDB's tensor says [2^bits, dim] but holds the sub-space codebooks one
     * after the other ([M][2^bits][dim/M]), which is exactly our layout */
    uint32_t shape[2] = {256, D};
    Pa__Lancepb__Tensor t = PA__LANCEPB__TENSOR__INIT;
    t.data_type = PA__LANCEPB__TENSOR__DATA_TYPE__FLOAT32;
    t.n_shape = 2, t.shape = shape;
    t.data.len = sizeof(float) * (size_t)256 * D;
    t.data.data = (uint8_t *)w->m.codebook;
    len = pa__lancepb__tensor__get_packed_size(&t);
    if (!(buf = pa_malloc(len, "codebook tensor")))
        return PA_ERR_NOMEM;
    pa__lancepb__tensor__pack(&t, buf);
    st = pa_lance_writer_add_global_buffer(w->aux, buf, len, &gb_cb);
    free(buf);
    if (st != PA_OK)
        return st;
    /* storage_metadata: a JSON array holding the PQ parameters as one JSON string */
    char num[16], *pq = NULL, *sm = NULL;
    json_t *v = NULL;
    if ((st = pa_json_pack(&v, "PQ storage metadata", "{s:i, s:i, s:i, s:i, s:[], s:b}",
                           "codebook_position", (int)gb_cb, "nbits", (int)w->m.num_bits,
                           "num_sub_vectors", (int)M, "dimension", (int)D, "codebook_tensor",
                           "transposed", 1)) != PA_OK ||
        (st = pa_json_dump(v, PA_JSON_COMPACT, &pq)) != PA_OK ||
        (st = pa_json_pack(&v, "PQ storage metadata", "[s]", pq)) != PA_OK ||
        (st = pa_json_dump(v, PA_JSON_COMPACT, &sm)) != PA_OK)
        goto done;
    snprintf(num, sizeof num, "%u", gb_ivf);
    if ((st = set_meta(w->aux, "distance_type", pa_metric_name((pa_metric)w->m.metric))) ||
        (st = set_meta(w->aux, "lance:ivf", num)) ||
        (st = set_meta(w->aux, "storage_metadata", sm)) ||
        (st = set_meta(w->aux, PA_INDEX_META_KEY, meta)))
        goto done;
    st = pa_lance_writer_close(w->aux);
done:
    free(pq);
    free(sm);
    return st;
}

/* index.idx: no rows, the IVF buffer with the centroids, and the index metadata. */
static pa_status write_idx(pa_index_writer *w, const char *meta)
{
    const uint32_t P = w->m.num_partitions, D = w->m.dim;
    pa_field f = {PA_INDEX_COL_FLAT, PA_TYPE_UINT64, 1};
    pa_lance_writer *lw = NULL;
    pa_lance_write_options lo = PA_LANCE_WRITE_OPTIONS_INIT;
    lo.in_new_dir = 1;
    pa_status st = pa_lance_writer_create(&lw, w->idx_path, &f, 1, &lo);
    uint64_t *zo = pa_calloc(P, sizeof(uint64_t), "IVF offsets");
    uint32_t *zl = pa_calloc(P, sizeof(uint32_t), "IVF lengths");
    char *flat = NULL, *idxmeta = NULL;
    uint8_t *buf = NULL;
    if (st == PA_OK && (!zo || !zl))
        st = PA_ERR_NOMEM;
    if (st == PA_OK) { /* lance:flat: one (empty) string per partition */
        json_t *a = json_array();
        for (uint32_t p = 0; a && p < P; p++)
            if (json_array_append_new(a, json_string("")) != 0)
                json_decref(a), a = NULL;
        st = pa_json_dump(a, PA_JSON_COMPACT, &flat);
    }
    if (st == PA_OK) {
        json_t *v = NULL;
        if ((st = pa_json_pack(&v, "lance:index", "{s:s, s:s}", "type", "IVF_PQ",
                               "distance_type", pa_metric_name((pa_metric)w->m.metric))) ==
            PA_OK)
            st = pa_json_dump(v, PA_JSON_COMPACT, &idxmeta);
    }
    if (st == PA_OK) {
        uint32_t shape[2] = {P, D};
        Pa__Lancepb__Tensor t = PA__LANCEPB__TENSOR__INIT;
        t.data_type = PA__LANCEPB__TENSOR__DATA_TYPE__FLOAT32;
        t.n_shape = 2, t.shape = shape;
        t.data.len = sizeof(float) * (size_t)P * D;
        t.data.data = (uint8_t *)w->m.centroids;
        Pa__Lancepb__Ivf ivf = PA__LANCEPB__IVF__INIT;
        ivf.n_offsets = P, ivf.offsets = zo;
        ivf.n_lengths = P, ivf.lengths = zl;
        ivf.centroids_tensor = &t;
        size_t len;
        uint32_t gb = 0;
        if (!(buf = pack_ivf(&ivf, &len)))
            st = PA_ERR_NOMEM;
        else
            st = pa_lance_writer_add_global_buffer(lw, buf, len, &gb);
        char num[16];
        snprintf(num, sizeof num, "%u", gb);
        if (st == PA_OK && (st = set_meta(lw, "lance:index", idxmeta)) == PA_OK &&
            (st = set_meta(lw, "lance:ivf", num)) == PA_OK &&
            (st = set_meta(lw, "lance:flat", flat)) == PA_OK)
            st = set_meta(lw, PA_INDEX_META_KEY, meta);
        if (st == PA_OK && w->source)
            st = set_meta(lw, PA_SOURCE_META_KEY, w->source);
        if (st == PA_OK)
            st = pa_lance_writer_close(lw);
        if (st == PA_OK)
            w->bytes += pa_lance_writer_bytes_written(lw);
    }
    free(buf), free(zo), free(zl), free(flat), free(idxmeta);
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
    char *meta = NULL;
    pa_status st = index_meta_json(w, &meta);
    if (st != PA_OK)
        return st;
    st = finish_aux(w, meta);
    if (st == PA_OK) {
        w->bytes = pa_lance_writer_bytes_written(w->aux);
        st = write_idx(w, meta);
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
