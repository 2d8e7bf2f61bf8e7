/* The LanceDB IVF_PQ index layout: the writer of both files' buffers and metadata, and their
 * reader, with every key name from index_format.h. */
#include "index/index_format.h"
#include "common/json.h"
#include "common/pq_code.h"

#include <inttypes.h>
#include <stdlib.h>
#include <xxhash.h>

/* The rows' identity (see index_format.h). */
uint64_t pa_index_rows_xxh64(uint64_t ids_xxh64, uint64_t codes_xxh64)
{
    uint8_t b[16];
    pa_st64(b, ids_xxh64);
    pa_st64(b + 8, codes_xxh64);
    return XXH64(b, sizeof b, 0);
}

/* ---- writer ---- */

/* The one JSON writer's compact text of a new reference (consumed); NULL: no memory. */
static char *dump_compact(json_t *j)
{
    char *s = NULL;
    return pa_json_dump(j, PA_JSON_COMPACT, &s) == PA_OK ? s : NULL;
}

char *pa_index_identity_json(const pa_index_identity *id)
{
    char model[17], rows[17];
    snprintf(model, sizeof model, "%016" PRIx64, id->model_xxh64);
    snprintf(rows, sizeof rows, "%016" PRIx64, id->rows_xxh64);
    return dump_compact(
        json_pack("{s:s, s:i, s:s, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:s}", PA_INDEX_ID_FORMAT,
                  PA_INDEX_FORMAT, PA_INDEX_ID_VERSION, PA_INDEX_FORMAT_VERSION, PA_INDEX_ID_METRIC,
                  pa_metric_name(id->metric), PA_INDEX_ID_DIM, (json_int_t)id->dim, PA_INDEX_ID_P,
                  (json_int_t)id->num_partitions, PA_INDEX_ID_M, (json_int_t)id->num_sub_vectors,
                  PA_INDEX_ID_BITS, (json_int_t)id->num_bits, PA_INDEX_ID_ROWS,
                  (json_int_t)id->num_rows, PA_INDEX_ID_ORDER, PA_INDEX_ID_ORDER_ROW_ID,
                  PA_INDEX_ID_MODEL, model, PA_INDEX_ID_ROWS_HASH, rows));
}

/* Sets a NUL-terminated string as schema metadata. */
static pa_status set_meta(pa_lance_writer *lw, const char *key, const char *value)
{
    return pa_lance_writer_set_metadata(lw, key, value, strlen(value));
}

/* Sets a JSON value (a new reference, consumed) as schema metadata. */
static pa_status set_meta_json(pa_lance_writer *lw, const char *key, json_t *j)
{
    char *s = dump_compact(j);
    if (!s)
        return pa_fail(PA_ERR_NOMEM, "out of memory writing index metadata \"%s\"", key);
    pa_status st = set_meta(lw, key, s);
    free(s);
    return st;
}

/* Sets a global buffer's number as schema metadata. */
static pa_status set_meta_u32(pa_lance_writer *lw, const char *key, uint32_t v)
{
    char num[16];
    snprintf(num, sizeof num, "%u", v);
    return set_meta(lw, key, num);
}

/* Ends both index files' metadata the same way: the IVF global buffer's number, the file's JSON
 * value (a new reference, consumed also on failure) and the identity. */
static pa_status set_meta_tail(pa_lance_writer *lw, uint32_t ivf_gb, const char *key, json_t *j,
                               const char *identity)
{
    pa_status st = set_meta_u32(lw, PA_INDEX_META_IVF, ivf_gb);
    if (st != PA_OK) {
        json_decref(j);
        return st;
    }
    if ((st = set_meta_json(lw, key, j)) != PA_OK)
        return st;
    return set_meta(lw, PA_INDEX_META_KEY, identity);
}

/* A float32 tensor of shape[0] x shape[1] values at data (not copied). */
static void float_tensor(Pa__Lancepb__Tensor *t, uint32_t *shape, const float *data)
{
    *t = (Pa__Lancepb__Tensor)PA__LANCEPB__TENSOR__INIT;
    t->data_type = PA__LANCEPB__TENSOR__DATA_TYPE__FLOAT32;
    t->n_shape = 2, t->shape = shape;
    t->data.len = sizeof(float) * (size_t)shape[0] * shape[1];
    t->data.data = (uint8_t *)data;
}

/* Packs a protobuf message and adds it as a global buffer of lw; its number in *gb. */
static pa_status add_message(pa_lance_writer *lw, const ProtobufCMessage *msg, const char *what,
                             uint32_t *gb)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = pa_malloc(len ? len : 1, what);
    if (!buf)
        return PA_ERR_NOMEM;
    protobuf_c_message_pack(msg, buf);
    pa_status st = pa_lance_writer_add_global_buffer(lw, buf, len, gb);
    free(buf);
    return st;
}

pa_status pa_index_write_ivf(pa_lance_writer *lw, uint32_t P, const uint64_t *offsets,
                             const uint32_t *lengths, const float *centroids, uint32_t dim,
                             uint32_t *gb)
{
    uint32_t shape[2] = {P, dim};
    Pa__Lancepb__Tensor t;
    Pa__Lancepb__Ivf ivf = PA__LANCEPB__IVF__INIT;
    ivf.n_offsets = P, ivf.offsets = (uint64_t *)offsets;
    ivf.n_lengths = P, ivf.lengths = (uint32_t *)lengths;
    if (centroids) {
        float_tensor(&t, shape, centroids);
        ivf.centroids_tensor = &t;
    }
    return add_message(lw, &ivf.base, "IVF protobuf", gb);
}

pa_status pa_index_write_aux_meta(pa_lance_writer *lw, const pa_index_identity *id,
                                  const uint64_t *offsets, const uint32_t *lengths,
                                  const float *codebook, const char *identity)
{
    const uint32_t D = id->dim;
    uint32_t gb_ivf = 0, gb_cb = 0;
    json_t *storage = NULL;
    pa_status st = pa_index_write_ivf(lw, id->num_partitions, offsets, lengths, NULL, 0, &gb_ivf);
    if (st != PA_OK)
        goto done;
    /* the codebook: LanceDB's tensor says [2^bits, dim] but holds the sub-space codebooks one
     * after the other ([M][2^bits][dim/M]), which is exactly our layout */
    uint32_t shape[2] = {pa_pq_codewords(id->num_bits), D};
    Pa__Lancepb__Tensor t;
    float_tensor(&t, shape, codebook);
    if ((st = add_message(lw, &t.base, "codebook tensor", &gb_cb)) != PA_OK)
        goto done;
    /* storage_metadata: a JSON list holding the PQ description as a JSON string */
    char *pq = dump_compact(
        json_pack("{s:I, s:I, s:I, s:I, s:[], s:b}", PA_INDEX_PQ_KEY_CODEBOOK, (json_int_t)gb_cb,
                  PA_INDEX_PQ_KEY_NBITS, (json_int_t)id->num_bits, PA_INDEX_PQ_KEY_M,
                  (json_int_t)id->num_sub_vectors, PA_INDEX_PQ_KEY_DIM, (json_int_t)D,
                  PA_INDEX_PQ_KEY_TENSOR, PA_INDEX_PQ_KEY_TRANSPOSED, 1));
    storage = pq ? json_pack("[s]", pq) : NULL;
    free(pq);
    if ((st = set_meta(lw, PA_INDEX_META_DISTANCE, pa_metric_name(id->metric))) != PA_OK)
        goto done;
    st = set_meta_tail(lw, gb_ivf, PA_INDEX_META_STORAGE, storage, identity);
    storage = NULL; /* consumed */
done:
    json_decref(storage);
    return st;
}

pa_status pa_index_write_idx_meta(pa_lance_writer *lw, const pa_index_identity *id,
                                  const float *centroids, const char *identity,
                                  const char *source_key, const char *source)
{
    const uint32_t P = id->num_partitions;
    uint64_t *zo = pa_calloc(P, sizeof(uint64_t), "IVF offsets");
    uint32_t *zl = pa_calloc(P, sizeof(uint32_t), "IVF lengths");
    json_t *flat = json_array(); /* lance:flat: one (empty) string per partition */
    uint32_t gb = 0;
    pa_status st = PA_OK;
    if (!zo || !zl || !flat) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    for (uint32_t p = 0; p < P; p++)
        if (json_array_append_new(flat, json_string("")) != 0) {
            st = pa_fail(PA_ERR_NOMEM, "out of memory writing \"" PA_INDEX_META_FLAT "\"");
            goto done;
        }
    if ((st = pa_index_write_ivf(lw, P, zo, zl, centroids, id->dim, &gb)) != PA_OK ||
        (st = set_meta_json(lw, PA_INDEX_META_LANCE_INDEX,
                            json_pack("{s:s, s:s}", PA_INDEX_LANCE_KEY_TYPE, PA_INDEX_LANCE_TYPE,
                                      PA_INDEX_META_DISTANCE, pa_metric_name(id->metric)))) !=
            PA_OK)
        goto done;
    st = set_meta_tail(lw, gb, PA_INDEX_META_FLAT, flat, identity);
    flat = NULL; /* consumed */
    if (st == PA_OK && source)
        st = set_meta(lw, source_key, source);
done:
    json_decref(flat);
    free(zo), free(zl);
    return st;
}

/* ---- reader ---- */

pa_status pa_index_read_ivf(pa_lance_reader *r, const char *path, Pa__Lancepb__Ivf **out)
{
    const void *v;
    size_t len;
    char num[16];
    void *buf = NULL;
    *out = NULL;
    if (pa_lance_reader_metadata(r, PA_INDEX_META_IVF, &v, &len) != PA_OK || !len ||
        len >= sizeof num)
        return pa_fail(PA_ERR_FORMAT,
                       "index file %s: no \"" PA_INDEX_META_IVF "\" metadata "
                       "(not an IVF index file)",
                       path);
    memcpy(num, v, len);
    num[len] = '\0';
    char *end;
    unsigned long gb = strtoul(num, &end, 10);
    if (*end || gb == 0 || gb >= pa_lance_reader_num_global_buffers(r))
        return pa_fail(PA_ERR_FORMAT,
                       "index file %s: \"" PA_INDEX_META_IVF "\" = \"%s\" is not "
                       "one of its %u global buffers",
                       path, num, pa_lance_reader_num_global_buffers(r));
    pa_status st = pa_lance_reader_global_buffer(r, (uint32_t)gb, &buf, &len);
    if (st != PA_OK)
        goto done;
    if (!(*out = pa__lancepb__ivf__unpack(NULL, len, buf)))
        st = pa_fail(PA_ERR_FORMAT, "index file %s: global buffer %lu is not an IVF protobuf", path,
                     gb);
done:
    free(buf);
    return st;
}

/* Integer member of storage_metadata's JSON, or an error naming the key. */
static pa_status json_u32(json_t *o, const char *key, const char *path, uint32_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX)
        return pa_fail(PA_ERR_FORMAT,
                       "index file %s: " PA_INDEX_META_STORAGE " has no valid "
                       "\"%s\"",
                       path, key);
    *out = (uint32_t)json_integer_value(v);
    return PA_OK;
}

/* The metric from a distance_type value. */
static pa_status parse_metric(const void *v, size_t len, const char *path, pa_metric *out)
{
    char name[32];
    if (len >= sizeof name)
        len = sizeof name - 1;
    memcpy(name, v, len);
    name[len] = '\0';
    if (pa_metric_parse(name, out) != PA_OK)
        return pa_fail(PA_ERR_UNSUPPORTED,
                       "index file %s: distance type \"%s\" (expected l2, "
                       "cosine or dot)",
                       path, name);
    return PA_OK;
}

pa_status pa_index_read_aux_meta(pa_lance_reader *r, const char *path, uint32_t *codebook_gb,
                                 uint32_t *nbits, uint32_t *M, uint32_t *dim, pa_metric *metric)
{
    const void *v;
    size_t len;
    json_t *list = NULL, *inner = NULL;
    pa_status st = PA_OK;
    if (pa_lance_reader_metadata(r, PA_INDEX_META_STORAGE, &v, &len) != PA_OK)
        return pa_fail(PA_ERR_FORMAT,
                       "index file %s: no \"" PA_INDEX_META_STORAGE "\" (not a PQ "
                       "storage file)",
                       path);
    json_error_t err;
    list = json_loadb(v, len, 0, &err);
    if (!json_is_array(list) || json_array_size(list) < 1 ||
        !json_is_string(json_array_get(list, 0)) ||
        !(inner = json_loads(json_string_value(json_array_get(list, 0)), 0, &err))) {
        st = pa_fail(PA_ERR_FORMAT,
                     "index file %s: " PA_INDEX_META_STORAGE " is not a JSON list "
                     "holding a JSON string",
                     path);
        goto done;
    }
    if ((st = json_u32(inner, PA_INDEX_PQ_KEY_CODEBOOK, path, codebook_gb)) != PA_OK ||
        (st = json_u32(inner, PA_INDEX_PQ_KEY_NBITS, path, nbits)) != PA_OK ||
        (st = json_u32(inner, PA_INDEX_PQ_KEY_M, path, M)) != PA_OK ||
        (st = json_u32(inner, PA_INDEX_PQ_KEY_DIM, path, dim)) != PA_OK)
        goto done;
    if (!json_is_true(json_object_get(inner, PA_INDEX_PQ_KEY_TRANSPOSED))) {
        st = pa_fail(PA_ERR_UNSUPPORTED, "index file %s: codes not stored transposed", path);
        goto done;
    }
    if ((*nbits != PA_PQ_BITS_8 && *nbits != PA_PQ_BITS_4) || !*M || !*dim || *dim % *M ||
        (*nbits == PA_PQ_BITS_4 && *M % 2)) {
        st = pa_fail(PA_ERR_UNSUPPORTED,
                     "index file %s: %u-bit codes, %u sub-vectors, "
                     "dimension %u (expected 8-bit or 4-bit codes, sub-vectors dividing the "
                     "dimension, an even number of them for 4-bit codes)",
                     path, *nbits, *M, *dim);
        goto done;
    }
    if (pa_lance_reader_metadata(r, PA_INDEX_META_DISTANCE, &v, &len) != PA_OK)
        st = pa_fail(PA_ERR_FORMAT, "index file %s: no \"" PA_INDEX_META_DISTANCE "\"", path);
    else
        st = parse_metric(v, len, path, metric);
done:
    json_decref(inner);
    json_decref(list);
    return st;
}

/* Schema metadata key parsed as a JSON object into *out (a new reference). Absent: NULL when
 * not required, else an error; present but not a JSON object: an error. */
static pa_status meta_object(pa_lance_reader *r, const char *path, const char *key, bool required,
                             json_t **out)
{
    const void *v;
    size_t len;
    json_error_t err;
    *out = NULL;
    const bool present = pa_lance_reader_metadata(r, key, &v, &len) == PA_OK;
    if (!present && !required)
        return PA_OK;
    json_t *j = present ? json_loadb(v, len, 0, &err) : NULL;
    if (json_is_object(j)) {
        *out = j;
        return PA_OK;
    }
    json_decref(j);
    return required
               ? pa_fail(PA_ERR_FORMAT, "index file %s: no \"%s\" JSON metadata", path, key)
               : pa_fail(PA_ERR_FORMAT, "index file %s: \"%s\" is not a JSON object", path, key);
}

/* A string member of a JSON object, or NULL. */
static const char *json_str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

pa_status pa_index_read_idx_meta(pa_lance_reader *r, const char *path, pa_metric metric)
{
    json_t *meta = NULL;
    pa_status st = meta_object(r, path, PA_INDEX_META_LANCE_INDEX, true, &meta);
    if (st != PA_OK)
        goto done;
    const char *type = json_str(meta, PA_INDEX_LANCE_KEY_TYPE);
    if (!type || strcmp(type, PA_INDEX_LANCE_TYPE)) {
        st = pa_fail(PA_ERR_UNSUPPORTED,
                     "index file %s: index type %s (expected " PA_INDEX_LANCE_TYPE ")", path,
                     type ? type : "missing");
        goto done;
    }
    /* the same metric as the storage's: the files of one index */
    const char *dt = json_str(meta, PA_INDEX_META_DISTANCE);
    pa_metric m = metric;
    if (dt && (pa_metric_parse(dt, &m) != PA_OK || m != metric))
        st = pa_fail(PA_ERR_FORMAT,
                     "index file %s: distance type \"%s\", but " PA_INDEX_AUX_FILE
                     " has \"%s\": the two files are not of one index",
                     path, dt, pa_metric_name(metric));
done:
    json_decref(meta);
    return st;
}

pa_status pa_index_read_identity(pa_lance_reader *r, const char *path, json_t **out)
{
    json_t *j = NULL;
    *out = NULL;
    pa_status st = meta_object(r, path, PA_INDEX_META_KEY, false, &j);
    if (st != PA_OK || !j)
        goto done;
    const char *fmt = json_str(j, PA_INDEX_ID_FORMAT);
    if (!fmt || strcmp(fmt, PA_INDEX_FORMAT)) {
        st = pa_fail(PA_ERR_FORMAT,
                     "index file %s: " PA_INDEX_META_KEY " has format %s, "
                     "expected \"" PA_INDEX_FORMAT "\"",
                     path, fmt ? fmt : "missing");
        goto done;
    }
    json_t *ver = json_object_get(j, PA_INDEX_ID_VERSION);
    if (!json_is_integer(ver) || json_integer_value(ver) < 1) {
        st = pa_fail(PA_ERR_FORMAT,
                     "index file %s: " PA_INDEX_META_KEY " has no valid \"" PA_INDEX_ID_VERSION
                     "\"",
                     path);
        goto done;
    }
    if (json_integer_value(ver) > PA_INDEX_FORMAT_VERSION) {
        st = pa_fail(PA_ERR_UNSUPPORTED,
                     "index file %s: index " PA_INDEX_ID_VERSION " %" JSON_INTEGER_FORMAT
                     "; partifact reads version %d (written by a newer "
                     "partifact)",
                     path, json_integer_value(ver), PA_INDEX_FORMAT_VERSION);
        goto done;
    }
    *out = j, j = NULL;
done:
    json_decref(j);
    return st;
}

char *pa_index_json_text(json_t *v)
{
    char *t = v ? dump_compact(json_incref(v)) : NULL;
    return t ? t : pa_strdup("(missing)", "JSON text");
}

pa_status pa_index_check_identity(json_t *id, const pa_index_identity *have)
{
    const struct {
        const char *key;
        uint64_t have;
    } nums[] = {{PA_INDEX_ID_DIM, have->dim},
                {PA_INDEX_ID_P, have->num_partitions},
                {PA_INDEX_ID_M, have->num_sub_vectors},
                {PA_INDEX_ID_BITS, have->num_bits},
                {PA_INDEX_ID_ROWS, have->num_rows}};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        json_t *n = json_object_get(id, nums[i].key);
        if (!json_is_integer(n) || (uint64_t)json_integer_value(n) != nums[i].have) {
            char *t = pa_index_json_text(n);
            pa_status st = pa_fail(PA_ERR_FORMAT,
                                   PA_INDEX_META_KEY " says \"%s\" is %s, the "
                                                     "index files hold %" PRIu64,
                                   nums[i].key, t ? t : "?", nums[i].have);
            free(t);
            return st;
        }
    }
    json_t *metric = json_object_get(id, PA_INDEX_ID_METRIC);
    if (!json_is_string(metric) || strcmp(json_string_value(metric), pa_metric_name(have->metric)))
        return pa_fail(PA_ERR_FORMAT,
                       PA_INDEX_META_KEY " does not say metric \"%s\", which the "
                                         "index files have",
                       pa_metric_name(have->metric));
    return PA_OK;
}

pa_status pa_index_check_rows_hash(json_t *id, uint64_t rows_xxh64)
{
    json_t *h = json_object_get(id, PA_INDEX_ID_ROWS_HASH);
    char hex[17];
    snprintf(hex, sizeof hex, "%016" PRIx64, rows_xxh64);
    if (!json_is_string(h))
        return pa_fail(PA_ERR_FORMAT, PA_INDEX_META_KEY
                       " has no \"" PA_INDEX_ID_ROWS_HASH "\" "
                       "(written by an older partifact: finalize the index again)");
    if (strcmp(json_string_value(h), hex))
        return pa_fail(PA_ERR_FORMAT,
                       PA_INDEX_AUX_FILE "'s rows hash to %s, " PA_INDEX_META_KEY
                                         " says " PA_INDEX_ID_ROWS_HASH
                                         " %s: the rows were changed after they "
                                         "were written",
                       hex, json_string_value(h));
    return PA_OK;
}

pa_status pa_index_read_shape(pa_lance_reader *r, const char *path, pa_table_index_shape *out)
{
    memset(out, 0, sizeof *out);
    json_t *meta = NULL;
    pa_status st = pa_index_read_identity(r, path, &meta); /* format and version checked */
    if (st == PA_OK && !meta)
        st = pa_fail(PA_ERR_FORMAT,
                     "%s: no " PA_INDEX_META_KEY " metadata (not an index "
                     "partifact wrote)",
                     path);
    if (st != PA_OK)
        goto done;
    const char *metric = NULL;
    json_int_t dim = 0, M = 0, bits = 0, rows = 0;
    if (json_unpack(meta, "{s:s, s:I, s:I, s:I, s:I}", PA_INDEX_ID_METRIC, &metric, PA_INDEX_ID_DIM,
                    &dim, PA_INDEX_ID_M, &M, PA_INDEX_ID_BITS, &bits, PA_INDEX_ID_ROWS,
                    &rows) != 0 ||
        pa_metric_parse(metric, &out->metric) != PA_OK || dim <= 0 || dim > PA_MAX_DIM || M <= 0 ||
        M > dim || bits <= 0 || bits > 16 || rows < 0) {
        st = pa_fail(PA_ERR_FORMAT,
                     "%s: " PA_INDEX_META_KEY " metadata lacks " PA_INDEX_ID_METRIC
                     ", " PA_INDEX_ID_DIM ", " PA_INDEX_ID_M ", " PA_INDEX_ID_BITS
                     " or " PA_INDEX_ID_ROWS,
                     path);
        goto done;
    }
    out->dim = (uint32_t)dim, out->num_sub_vectors = (uint32_t)M, out->num_bits = (uint32_t)bits;
    out->rows = (uint64_t)rows;
    json_t *p = json_object_get(meta, PA_INDEX_ID_P),
           *model = json_object_get(meta, PA_INDEX_ID_MODEL);
    if (json_is_integer(p) && json_integer_value(p) > 0 && json_integer_value(p) <= UINT32_MAX)
        out->num_partitions = (uint32_t)json_integer_value(p);
    if (json_is_string(model) && strlen(json_string_value(model)) < sizeof out->model_xxh64)
        snprintf(out->model_xxh64, sizeof out->model_xxh64, "%s", json_string_value(model));
done:
    json_decref(meta);
    return st;
}
