/* Lance file reader (container 2.x, encodings 2.1).
 *
 * open reads the footer and the metadata region at the end of the file (column metadata,
 * offset tables) and the schema in global buffer 0, and checks that every offset and size lies
 * inside the file. Pages are described but not read. read(col, offset, n) then reads only the
 * bytes those rows need:
 *   - full-zip pages of fixed-width values: exactly the rows' bytes (one positioned read);
 *   - mini-block pages: the page's chunk table (2 bytes per chunk, read once and cached), then
 *     the run of chunks that covers the rows, decoded chunk by chunk (Flat, FixedSizeList of
 *     Flat, or FastLanes InlineBitpacking).
 * Anything else (nullable data with def levels, dictionaries, fsst, general compression, ...)
 * is refused with the page, column and encoding named. The reader may be used from several
 * threads at once: reads are positioned and the chunk-table cache is filled under a lock. */
#include "lance/lance_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define MINIBLOCK_ALIGN 8
#define MINIBLOCK_MAX_CHUNK_VALUES 32768 /* 4 bits of log2 in the chunk table */

typedef enum value_enc {
    ENC_FLAT = 1,    /* raw values (scalars or fixed-size-list items) */
    ENC_BITPACK = 2  /* FastLanes inline bitpacking, 1024 values per chunk */
} value_enc;

typedef struct chunk_table {
    uint64_t *first_value; /* n+1 entries: first value index of chunk i; last = num_rows */
    uint64_t *byte_off;    /* n+1 entries: offset of chunk i within the data buffer */
    size_t n;
} chunk_table;

typedef struct page_info {
    uint64_t first_row, num_rows;
    bool fullzip;
    value_enc enc;
    uint64_t data_off, data_size; /* full-zip: the rows; mini-block: the chunks */
    uint64_t meta_off, meta_size; /* mini-block chunk table */
    _Atomic(chunk_table *) chunks; /* mini-block: loaded on first use */
} page_info;

typedef struct col_info {
    pa_field field;
    size_t row_bytes;
    unsigned item_bits;
    page_info *pages;
    size_t num_pages;
} col_info;

typedef struct meta_entry {
    char *key;
    uint8_t *value;
    size_t len;
} meta_entry;

struct pa_lance_reader {
    int fd;
    char *path;
    const char *name; /* base name for messages */
    uint64_t file_size;
    uint64_t num_rows;
    col_info *cols;
    size_t num_cols;
    meta_entry *meta;
    size_t num_meta;
    uint64_t *gbuf_off, *gbuf_size;
    uint32_t num_gbufs;
    _Atomic uint64_t bytes_read;
    pthread_mutex_t lock;
};

/* Positioned read that counts bytes. */
static pa_status rd(pa_lance_reader *r, void *buf, size_t len, uint64_t off)
{
    pa_status st = pa_pread_full(r->fd, buf, len, off, r->name);
    if (st == PA_OK)
        atomic_fetch_add(&r->bytes_read, len);
    return st;
}

/* Checks that [off, off+len) lies inside [lo, hi) of the file; names what it is otherwise. */
static pa_status check_range(const pa_lance_reader *r, uint64_t off, uint64_t len, uint64_t lo,
                             uint64_t hi, const char *what)
{
    if (off < lo || off > hi || len > hi - off)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: %s at byte offset %llu with %llu bytes lies outside bytes "
                       "[%llu, %llu) of the %llu-byte file",
                       r->name, what, (unsigned long long)off, (unsigned long long)len,
                       (unsigned long long)lo, (unsigned long long)hi,
                       (unsigned long long)r->file_size);
    return PA_OK;
}

/* Name of a compressive encoding case, for "uses encoding X" messages. */
static const char *encoding_name(const Pa__Lancepb__CompressiveEncoding *e)
{
    if (!e)
        return "none";
    switch (e->compression_case) {
    case PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_FLAT: return "flat";
    case PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_VARIABLE: return "variable";
    case PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_CONSTANT: return "constant";
    case PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_OUT_OF_LINE_BITPACKING:
        return "out_of_line_bitpacking";
    case PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_INLINE_BITPACKING:
        return "inline_bitpacking";
    case PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_FSST: return "fsst";
    case PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_DICTIONARY: return "dictionary";
    case PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_RLE: return "rle";
    case PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_BYTE_STREAM_SPLIT:
        return "byte_stream_split";
    case PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_GENERAL: return "general";
    case PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_FIXED_SIZE_LIST: return "fixed_size_list";
    case PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_PACKED_STRUCT: return "packed_struct";
    case PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_VARIABLE_PACKED_STRUCT:
        return "variable_packed_struct";
    default: return "unknown";
    }
}

/* Decides how a page's values are encoded, accepting only what read() can decode for the
 * column's type: Flat (scalar) / FixedSizeList{dim, Flat} (lists) / InlineBitpacking (u32,
 * u64, mini-block only). */
static pa_status classify_values(const pa_lance_reader *r, const col_info *c, size_t ci,
                                 size_t pi, const Pa__Lancepb__CompressiveEncoding *e,
                                 bool miniblock, value_enc *out)
{
    bool is_list = pa_type_is_list(c->field.type);
    const Pa__Lancepb__CompressiveEncoding *items = e;
    if (is_list) {
        if (!e || e->compression_case !=
                      PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_FIXED_SIZE_LIST)
            return pa_fail(PA_ERR_UNSUPPORTED,
                           "%s: page %zu of column %zu (\"%s\") uses encoding \"%s\" for a "
                           "fixed-size list, which partifact does not read",
                           r->name, pi, ci, c->field.name, encoding_name(e));
        const Pa__Lancepb__FixedSizeList *fsl = e->fixed_size_list;
        if (fsl->items_per_value != c->field.dim)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: page %zu of column %zu (\"%s\") has %llu items per value, the "
                           "schema says %u",
                           r->name, pi, ci, c->field.name,
                           (unsigned long long)fsl->items_per_value, c->field.dim);
        if (fsl->has_validity)
            return pa_fail(PA_ERR_UNSUPPORTED,
                           "%s: page %zu of column %zu (\"%s\") has null list items, which "
                           "partifact does not read",
                           r->name, pi, ci, c->field.name);
        items = fsl->values;
    }
    if (items && items->compression_case == PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_FLAT) {
        if (items->flat->bits_per_value != c->item_bits)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: page %zu of column %zu (\"%s\") stores %llu-bit values, the "
                           "schema's type has %u bits",
                           r->name, pi, ci, c->field.name,
                           (unsigned long long)items->flat->bits_per_value, c->item_bits);
        if (items->flat->data && items->flat->data->scheme != 0)
            return pa_fail(PA_ERR_UNSUPPORTED,
                           "%s: page %zu of column %zu (\"%s\") uses encoding \"general\" "
                           "(compressed flat buffer), which partifact does not read",
                           r->name, pi, ci, c->field.name);
        *out = ENC_FLAT;
        return PA_OK;
    }
    if (!is_list && miniblock && items &&
        items->compression_case ==
            PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_INLINE_BITPACKING) {
        if (items->inline_bitpacking->uncompressed_bits_per_value != c->item_bits)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: page %zu of column %zu (\"%s\") bit-packs %llu-bit values, the "
                           "schema's type has %u bits",
                           r->name, pi, ci, c->field.name,
                           (unsigned long long)items->inline_bitpacking->uncompressed_bits_per_value,
                           c->item_bits);
        if (items->inline_bitpacking->values && items->inline_bitpacking->values->scheme != 0)
            return pa_fail(PA_ERR_UNSUPPORTED,
                           "%s: page %zu of column %zu (\"%s\") compresses bit-packed values, "
                           "which partifact does not read",
                           r->name, pi, ci, c->field.name);
        *out = ENC_BITPACK;
        return PA_OK;
    }
    return pa_fail(PA_ERR_UNSUPPORTED,
                   "%s: page %zu of column %zu (\"%s\") uses encoding \"%s\", which partifact "
                   "does not read",
                   r->name, pi, ci, c->field.name, encoding_name(items));
}

/* True if the rep/def layers say "every item valid, no lists" (the only structure we read). */
static bool layers_all_valid(size_t n, const Pa__Lancepb__RepDefLayer *layers)
{
    for (size_t i = 0; i < n; i++)
        if (layers[i] != PA__LANCEPB__REP_DEF_LAYER__REPDEF_ALL_VALID_ITEM)
            return false;
    return true;
}

/* Parses one page's description into *p, validating buffers against the data region. */
static pa_status parse_page(pa_lance_reader *r, col_info *c, size_t ci, size_t pi,
                            const Pa__Lancepb__ColumnMetadata__Page *pg, uint64_t data_end,
                            page_info *p)
{
    if (pg->n_buffer_offsets != pg->n_buffer_sizes)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: page %zu of column %zu lists %zu buffer offsets but %zu sizes",
                       r->name, pi, ci, pg->n_buffer_offsets, pg->n_buffer_sizes);
    for (size_t b = 0; b < pg->n_buffer_offsets; b++) {
        char what[96];
        snprintf(what, sizeof what, "buffer %zu of page %zu of column %zu", b, pi, ci);
        pa_status st = check_range(r, pg->buffer_offsets[b], pg->buffer_sizes[b], 0, data_end,
                                   what);
        if (st != PA_OK)
            return st;
    }
    const Pa__Lancepb__Encoding *enc = pg->encoding;
    if (!enc || enc->location_case != PA__LANCEPB__ENCODING__LOCATION_DIRECT)
        return pa_fail(PA_ERR_UNSUPPORTED,
                       "%s: page %zu of column %zu has %s encoding description; partifact "
                       "reads only inline (direct) descriptions",
                       r->name, pi, ci, enc ? "an out-of-line" : "no");
    Pa__Lancepb__Any *any = pa__lancepb__any__unpack(NULL, enc->direct->encoding.len,
                                                     enc->direct->encoding.data);
    if (!any)
        return pa_fail(PA_ERR_FORMAT, "%s: page %zu of column %zu: encoding is not a valid "
                       "protobuf Any", r->name, pi, ci);
    pa_status st = PA_OK;
    Pa__Lancepb__PageLayout *layout = NULL;
    if (!any->type_url || strcmp(any->type_url, "/lance.encodings21.PageLayout") != 0) {
        st = pa_fail(PA_ERR_UNSUPPORTED,
                     "%s: page %zu of column %zu is encoded as \"%s\"; partifact reads the "
                     "Lance 2.1 layouts (/lance.encodings21.PageLayout)",
                     r->name, pi, ci, any->type_url ? any->type_url : "");
        goto done;
    }
    layout = pa__lancepb__page_layout__unpack(NULL, any->value.len, any->value.data);
    if (!layout) {
        st = pa_fail(PA_ERR_FORMAT, "%s: page %zu of column %zu: page layout does not parse",
                     r->name, pi, ci);
        goto done;
    }
    if (layout->layout_case == PA__LANCEPB__PAGE_LAYOUT__LAYOUT_MINI_BLOCK_LAYOUT) {
        const Pa__Lancepb__MiniBlockLayout *mb = layout->mini_block_layout;
        if (mb->rep_compression || mb->def_compression ||
            !layers_all_valid(mb->n_layers, mb->layers)) {
            st = pa_fail(PA_ERR_UNSUPPORTED,
                         "%s: page %zu of column %zu (\"%s\") has nulls or nesting (rep/def "
                         "levels), which partifact does not read",
                         r->name, pi, ci, c->field.name);
            goto done;
        }
        if (mb->dictionary) {
            st = pa_fail(PA_ERR_UNSUPPORTED,
                         "%s: page %zu of column %zu (\"%s\") uses encoding \"dictionary\", "
                         "which partifact does not read",
                         r->name, pi, ci, c->field.name);
            goto done;
        }
        /* the value encoding first: an encoding we do not read (rle, ...) is named as such,
         * rather than by the buffer layout it brings */
        if ((st = classify_values(r, c, ci, pi, mb->value_compression, true, &p->enc)) != PA_OK)
            goto done;
        if (mb->num_buffers != 1 || mb->repetition_index_depth != 0 ||
            pg->n_buffer_offsets < 2) {
            st = pa_fail(PA_ERR_UNSUPPORTED,
                         "%s: page %zu of column %zu (\"%s\") is a mini-block page with %llu "
                         "value buffers and %zu page buffers; partifact reads 1 and 2",
                         r->name, pi, ci, c->field.name, (unsigned long long)mb->num_buffers,
                         pg->n_buffer_offsets);
            goto done;
        }
        if (mb->num_items != pg->length) {
            st = pa_fail(PA_ERR_FORMAT,
                         "%s: page %zu of column %zu has %llu items but %llu rows", r->name, pi,
                         ci, (unsigned long long)mb->num_items, (unsigned long long)pg->length);
            goto done;
        }
        p->fullzip = false;
        p->meta_off = pg->buffer_offsets[0];
        p->meta_size = pg->buffer_sizes[0];
        p->data_off = pg->buffer_offsets[1];
        p->data_size = pg->buffer_sizes[1];
    } else if (layout->layout_case == PA__LANCEPB__PAGE_LAYOUT__LAYOUT_FULL_ZIP_LAYOUT) {
        const Pa__Lancepb__FullZipLayout *fz = layout->full_zip_layout;
        if (fz->bits_rep || fz->bits_def || !layers_all_valid(fz->n_layers, fz->layers)) {
            st = pa_fail(PA_ERR_UNSUPPORTED,
                         "%s: page %zu of column %zu (\"%s\") has nulls or nesting (control "
                         "words), which partifact does not read",
                         r->name, pi, ci, c->field.name);
            goto done;
        }
        if (fz->details_case != PA__LANCEPB__FULL_ZIP_LAYOUT__DETAILS_BITS_PER_VALUE ||
            fz->bits_per_value != c->row_bytes * 8) {
            st = pa_fail(PA_ERR_FORMAT,
                         "%s: page %zu of column %zu (\"%s\") is a full-zip page of %u-bit "
                         "values; the column's rows have %zu bits",
                         r->name, pi, ci, c->field.name, fz->bits_per_value, c->row_bytes * 8);
            goto done;
        }
        if ((st = classify_values(r, c, ci, pi, fz->value_compression, false, &p->enc)) != PA_OK)
            goto done;
        uint64_t want_bytes;
        if (pg->n_buffer_offsets < 1 ||
            __builtin_mul_overflow(pg->length, (uint64_t)c->row_bytes, &want_bytes) ||
            pg->buffer_sizes[0] != want_bytes) {
            st = pa_fail(PA_ERR_FORMAT,
                         "%s: page %zu of column %zu (\"%s\") holds %llu bytes for %llu rows "
                         "of %zu bytes",
                         r->name, pi, ci, c->field.name,
                         (unsigned long long)(pg->n_buffer_offsets ? pg->buffer_sizes[0] : 0),
                         (unsigned long long)pg->length, c->row_bytes);
            goto done;
        }
        p->fullzip = true;
        p->data_off = pg->buffer_offsets[0];
        p->data_size = pg->buffer_sizes[0];
    } else {
        const char *kind = layout->layout_case == PA__LANCEPB__PAGE_LAYOUT__LAYOUT_ALL_NULL_LAYOUT
                               ? "all-null"
                           : layout->layout_case == PA__LANCEPB__PAGE_LAYOUT__LAYOUT_BLOB_LAYOUT
                               ? "blob"
                               : "unknown";
        st = pa_fail(PA_ERR_UNSUPPORTED,
                     "%s: page %zu of column %zu (\"%s\") uses the %s layout, which partifact "
                     "does not read",
                     r->name, pi, ci, c->field.name, kind);
    }
done:
    if (layout)
        pa__lancepb__page_layout__free_unpacked(layout, NULL);
    pa__lancepb__any__free_unpacked(any, NULL);
    return st;
}

/* Parses the schema (global buffer 0: a FileDescriptor) into fields, metadata and row count. */
static pa_status parse_schema(pa_lance_reader *r, const uint8_t *buf, size_t len,
                              pa_field **fields, size_t *num_fields)
{
    Pa__Lancepb__FileDescriptor *fd = pa__lancepb__file_descriptor__unpack(NULL, len, buf);
    if (!fd || !fd->schema) {
        if (fd)
            pa__lancepb__file_descriptor__free_unpacked(fd, NULL);
        return pa_fail(PA_ERR_FORMAT, "%s: global buffer 0 (the schema, %zu bytes) does not "
                       "parse as a Lance file descriptor", r->name, len);
    }
    pa_status st = pa_fields_from_pb(fd->schema->fields, fd->schema->n_fields, r->name, fields,
                                     num_fields);
    r->num_rows = fd->length;
    if (st == PA_OK && fd->schema->n_metadata) {
        r->meta = pa_calloc(fd->schema->n_metadata, sizeof *r->meta, "schema metadata");
        if (!r->meta)
            st = PA_ERR_NOMEM;
        for (size_t i = 0; st == PA_OK && i < fd->schema->n_metadata; i++) {
            const Pa__Lancepb__BytesEntry *e = fd->schema->metadata[i];
            meta_entry *m = &r->meta[r->num_meta];
            m->key = pa_strdup(e->key ? e->key : "", "metadata key");
            m->value = pa_malloc(e->value.len, "metadata value");
            if (!m->key || !m->value) {
                free(m->key);
                free(m->value);
                st = PA_ERR_NOMEM;
                break;
            }
            if (e->value.len)
                memcpy(m->value, e->value.data, e->value.len);
            m->len = e->value.len;
            r->num_meta++;
        }
    }
    pa__lancepb__file_descriptor__free_unpacked(fd, NULL);
    return st;
}

/* Parses the column metadata of all columns and matches them to the schema's fields. */
static pa_status parse_columns(pa_lance_reader *r, const uint8_t *region, uint64_t region_off,
                               const uint64_t *cmo, uint64_t cms)
{
    for (size_t ci = 0; ci < r->num_cols; ci++) {
        col_info *c = &r->cols[ci];
        if (c->field.type == PA_TYPE_OTHER)
            continue; /* a type partifact does not read: its pages are never parsed */
        uint64_t off = cmo[2 * ci], len = cmo[2 * ci + 1];
        char what[64];
        snprintf(what, sizeof what, "metadata of column %zu", ci);
        pa_status st = check_range(r, off, len, region_off, r->file_size - PA_LANCE_FOOTER_BYTES,
                                   what);
        if (st != PA_OK)
            return st;
        Pa__Lancepb__ColumnMetadata *cm = pa__lancepb__column_metadata__unpack(
            NULL, (size_t)len, region + (off - region_off));
        if (!cm)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: metadata of column %zu (%llu bytes at byte offset %llu) does not "
                           "parse as protobuf",
                           r->name, ci, (unsigned long long)len, (unsigned long long)off);
        c->pages = pa_calloc(cm->n_pages, sizeof *c->pages, "page table");
        if (!c->pages) {
            pa__lancepb__column_metadata__free_unpacked(cm, NULL);
            return PA_ERR_NOMEM;
        }
        uint64_t row = 0;
        for (size_t pi = 0; pi < cm->n_pages && st == PA_OK; pi++) {
            page_info *p = &c->pages[pi];
            p->first_row = row;
            p->num_rows = cm->pages[pi]->length;
            st = parse_page(r, c, ci, pi, cm->pages[pi], cms, p);
            c->num_pages = pi + 1;
            uint64_t flat_bytes;
            if (st == PA_OK && __builtin_add_overflow(row, p->num_rows, &row))
                st = pa_fail(PA_ERR_FORMAT, "%s: column %zu (\"%s\"): page %zu's %llu rows "
                             "overflow the row count", r->name, ci, c->field.name, pi,
                             (unsigned long long)p->num_rows);
            /* flat values take their bytes: a page cannot claim more rows than its data
             * holds, so no count read here sizes a buffer beyond the file (bitpacked pages
             * are checked against their chunk table when read) */
            else if (st == PA_OK && p->enc == ENC_FLAT &&
                     (__builtin_mul_overflow(p->num_rows, (uint64_t)c->row_bytes, &flat_bytes) ||
                      flat_bytes > p->data_size))
                st = pa_fail(PA_ERR_FORMAT, "%s: page %zu of column %zu (\"%s\") claims %llu "
                             "rows of %zu bytes in %llu bytes of data", r->name, pi, ci,
                             c->field.name, (unsigned long long)p->num_rows, c->row_bytes,
                             (unsigned long long)p->data_size);
        }
        pa__lancepb__column_metadata__free_unpacked(cm, NULL);
        if (st != PA_OK)
            return st;
        if (row != r->num_rows)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: column %zu (\"%s\") has %llu rows in its pages, the file has %llu",
                           r->name, ci, c->field.name, (unsigned long long)row,
                           (unsigned long long)r->num_rows);
    }
    return PA_OK;
}

/* Opens the file and reads its metadata (see the file comment). */
pa_status pa_lance_reader_open(pa_lance_reader **out, const char *path)
{
    *out = NULL;
    pa_lance_reader *r = pa_calloc(1, sizeof *r, "lance reader");
    if (!r)
        return PA_ERR_NOMEM;
    r->fd = -1;
    pthread_mutex_init(&r->lock, NULL);
    r->path = pa_strdup(path, "path");
    if (!r->path) {
        pa_lance_reader_free(r);
        return PA_ERR_NOMEM;
    }
    r->name = r->path;
    pa_status st = PA_OK;
    uint8_t *region = NULL;
    pa_field *fields = NULL;
    size_t num_fields = 0;
    if ((st = pa_open_input(path, &r->fd, &r->file_size)) != PA_OK)
        goto fail;
    if (r->file_size < PA_LANCE_FOOTER_BYTES) {
        st = pa_fail(PA_ERR_FORMAT,
                     "%s: file is %llu bytes, smaller than the 40-byte Lance footer "
                     "(truncated or not a Lance file)",
                     path, (unsigned long long)r->file_size);
        goto fail;
    }
    uint8_t footer[PA_LANCE_FOOTER_BYTES];
    uint64_t footer_off = r->file_size - PA_LANCE_FOOTER_BYTES;
    if ((st = rd(r, footer, sizeof footer, footer_off)) != PA_OK)
        goto fail;
    if (memcmp(footer + 36, PA_LANCE_MAGIC, 4) != 0) {
        st = pa_fail(PA_ERR_FORMAT,
                     "%s: no \"LANC\" magic in the last 4 bytes (byte offset %llu): not a Lance "
                     "file, or truncated",
                     path, (unsigned long long)(r->file_size - 4));
        goto fail;
    }
    uint64_t cms = pa_ld64(footer), cmo_start = pa_ld64(footer + 8),
             gbo_start = pa_ld64(footer + 16);
    uint32_t ngb = pa_ld32(footer + 24), ncols = pa_ld32(footer + 28);
    uint16_t major = pa_ld16(footer + 32), minor = pa_ld16(footer + 34);
    if (major != PA_LANCE_MAJOR || minor != PA_LANCE_MINOR) {
        st = pa_fail(PA_ERR_UNSUPPORTED,
                     "%s: Lance file format version %u.%u; partifact reads version 2.1",
                     path, major, minor);
        goto fail;
    }
    if (cms > cmo_start || cmo_start > gbo_start || gbo_start > footer_off ||
        (uint64_t)ncols * 16 > gbo_start - cmo_start ||
        (uint64_t)ngb * 16 > footer_off - gbo_start || ngb == 0) {
        st = pa_fail(PA_ERR_FORMAT,
                     "%s: footer offsets are inconsistent (column metadata at %llu, column "
                     "offset table at %llu for %u columns, global buffer table at %llu for %u "
                     "buffers, footer at %llu)",
                     path, (unsigned long long)cms, (unsigned long long)cmo_start, ncols,
                     (unsigned long long)gbo_start, ngb, (unsigned long long)footer_off);
        goto fail;
    }
    /* One read for the column metadata and both offset tables. */
    uint64_t region_len = footer_off - cms;
    region = pa_malloc((size_t)region_len, "file metadata");
    if (!region) {
        st = PA_ERR_NOMEM;
        goto fail;
    }
    if ((st = rd(r, region, (size_t)region_len, cms)) != PA_OK)
        goto fail;
    const uint8_t *cmo_bytes = region + (cmo_start - cms);
    const uint8_t *gbo_bytes = region + (gbo_start - cms);
    r->num_gbufs = ngb;
    r->gbuf_off = pa_calloc(ngb, sizeof *r->gbuf_off, "global buffer table");
    r->gbuf_size = pa_calloc(ngb, sizeof *r->gbuf_size, "global buffer table");
    uint64_t *cmo = pa_calloc((size_t)ncols * 2 + 1, sizeof *cmo, "column table");
    if (!r->gbuf_off || !r->gbuf_size || !cmo) {
        free(cmo);
        st = PA_ERR_NOMEM;
        goto fail;
    }
    for (uint32_t i = 0; i < ngb && st == PA_OK; i++) {
        r->gbuf_off[i] = pa_ld64(gbo_bytes + 16 * i);
        r->gbuf_size[i] = pa_ld64(gbo_bytes + 16 * i + 8);
        char what[48];
        snprintf(what, sizeof what, "global buffer %u", i);
        st = check_range(r, r->gbuf_off[i], r->gbuf_size[i], 0, footer_off, what);
    }
    for (uint32_t i = 0; i < 2 * ncols; i++)
        cmo[i] = pa_ld64(cmo_bytes + 8 * i);
    if (st == PA_OK) { /* the schema */
        uint8_t *schema = pa_malloc((size_t)r->gbuf_size[0], "schema");
        if (!schema)
            st = PA_ERR_NOMEM;
        else if ((st = rd(r, schema, (size_t)r->gbuf_size[0], r->gbuf_off[0])) == PA_OK)
            st = parse_schema(r, schema, (size_t)r->gbuf_size[0], &fields, &num_fields);
        free(schema);
    }
    if (st == PA_OK && num_fields != ncols)
        st = pa_fail(PA_ERR_FORMAT, "%s: the schema has %zu columns but the footer says %u",
                     path, num_fields, ncols);
    if (st == PA_OK) {
        r->cols = pa_calloc(ncols, sizeof *r->cols, "columns");
        if (!r->cols)
            st = PA_ERR_NOMEM;
        else {
            r->num_cols = ncols;
            for (size_t i = 0; i < ncols; i++) {
                col_info *c = &r->cols[i];
                c->field = fields[i];
                fields[i].name = NULL; /* ownership moves to the column */
                c->row_bytes = pa_type_row_bytes(c->field.type, c->field.dim);
                c->item_bits = pa_type_item_bits(c->field.type);
            }
            st = parse_columns(r, region, cms, cmo, cms);
        }
    }
    free(cmo);
    pa_fields_free(fields, num_fields);
    if (st != PA_OK)
        goto fail;
    free(region);
    *out = r;
    return PA_OK;
fail:
    free(region);
    pa_lance_reader_free(r);
    return st;
}

/* Loads and validates a mini-block page's chunk table (2 bytes per chunk) once. */
static pa_status load_chunks(pa_lance_reader *r, size_t ci, size_t pi, chunk_table **out)
{
    page_info *p = &r->cols[ci].pages[pi];
    chunk_table *t = atomic_load(&p->chunks);
    if (t) {
        *out = t;
        return PA_OK;
    }
    pthread_mutex_lock(&r->lock);
    pa_status st = PA_OK;
    t = atomic_load(&p->chunks);
    if (t)
        goto done;
    if (p->meta_size % 2 != 0 || p->meta_size == 0) {
        st = pa_fail(PA_ERR_FORMAT,
                     "%s: page %zu of column %zu: chunk table of %llu bytes (expected 2 bytes "
                     "per chunk)",
                     r->name, pi, ci, (unsigned long long)p->meta_size);
        goto done;
    }
    size_t n = (size_t)(p->meta_size / 2);
    uint8_t *raw = pa_malloc((size_t)p->meta_size, "chunk table");
    t = pa_calloc(1, sizeof *t, "chunk table");
    if (t) {
        t->first_value = pa_calloc(n + 1, sizeof *t->first_value, "chunk table");
        t->byte_off = pa_calloc(n + 1, sizeof *t->byte_off, "chunk table");
    }
    if (!raw || !t || !t->first_value || !t->byte_off) {
        st = PA_ERR_NOMEM;
        goto fail;
    }
    if ((st = rd(r, raw, (size_t)p->meta_size, p->meta_off)) != PA_OK)
        goto fail;
    t->n = n;
    uint64_t values = 0, bytes = 0;
    for (size_t k = 0; k < n; k++) {
        uint16_t word = pa_ld16(raw + 2 * k);
        unsigned log = word & 0x0F;
        uint64_t chunk_bytes = ((uint64_t)(word >> 4) + 1) * MINIBLOCK_ALIGN;
        uint64_t nv;
        if (k + 1 < n) {
            nv = (uint64_t)1 << log;
            if (log == 0 && n > 1) {
                st = pa_fail(PA_ERR_FORMAT,
                             "%s: page %zu of column %zu: chunk %zu of %zu claims 1 value "
                             "(only the last chunk may be short)",
                             r->name, pi, ci, k, n);
                goto fail;
            }
        } else {
            nv = p->num_rows - PA_MIN(values, p->num_rows);
        }
        if (nv > MINIBLOCK_MAX_CHUNK_VALUES) {
            st = pa_fail(PA_ERR_FORMAT,
                         "%s: page %zu of column %zu: chunk %zu of %zu would hold %llu values "
                         "(a mini-block chunk holds at most %d)",
                         r->name, pi, ci, k, n, (unsigned long long)nv,
                         MINIBLOCK_MAX_CHUNK_VALUES);
            goto fail;
        }
        t->first_value[k] = values;
        t->byte_off[k] = bytes;
        values += nv;
        bytes += chunk_bytes;
    }
    t->first_value[n] = values;
    t->byte_off[n] = bytes;
    if (values != p->num_rows || bytes > p->data_size) {
        st = pa_fail(PA_ERR_FORMAT,
                     "%s: page %zu of column %zu: chunk table describes %llu values in %llu "
                     "bytes, the page has %llu rows in %llu bytes",
                     r->name, pi, ci, (unsigned long long)values, (unsigned long long)bytes,
                     (unsigned long long)p->num_rows, (unsigned long long)p->data_size);
        goto fail;
    }
    free(raw);
    atomic_store(&p->chunks, t);
    goto done;
fail:
    free(raw);
    if (t) {
        free(t->first_value);
        free(t->byte_off);
        free(t);
    }
    t = NULL;
done:
    pthread_mutex_unlock(&r->lock);
    *out = t;
    return st;
}

/* Decodes values [from, to) of one mini-block chunk (holding nv values) into out. */
static pa_status decode_chunk(pa_lance_reader *r, size_t ci, size_t pi, size_t k,
                              const uint8_t *chunk, uint64_t chunk_bytes, uint64_t nv,
                              uint64_t from, uint64_t to, uint8_t *out)
{
    const col_info *c = &r->cols[ci];
    const page_info *p = &c->pages[pi];
    if (chunk_bytes < 8 || pa_ld16(chunk) != 0)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: chunk %zu of page %zu of column %zu: header says %u rep/def levels, "
                       "expected none",
                       r->name, k, pi, ci, chunk_bytes >= 2 ? pa_ld16(chunk) : 0);
    uint64_t size = pa_ld16(chunk + 2);
    if (8 + size > chunk_bytes)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: chunk %zu of page %zu of column %zu: value buffer of %llu bytes does "
                       "not fit in the %llu-byte chunk",
                       r->name, k, pi, ci, (unsigned long long)size,
                       (unsigned long long)chunk_bytes);
    const uint8_t *vals = chunk + 8;
    if (p->enc == ENC_FLAT) {
        if (size < nv * c->row_bytes)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: chunk %zu of page %zu of column %zu: %llu bytes for %llu values "
                           "of %zu bytes",
                           r->name, k, pi, ci, (unsigned long long)size,
                           (unsigned long long)nv, c->row_bytes);
        memcpy(out, vals + from * c->row_bytes, (size_t)((to - from) * c->row_bytes));
        return PA_OK;
    }
    /* InlineBitpacking: one T-bit word with the bit width, then 1024 values packed. */
    unsigned t = c->item_bits, tb = t / 8;
    uint64_t width = size < tb ? UINT64_MAX : t == 64 ? pa_ld64(vals) : pa_ld32(vals);
    if (nv > 1024 || width > t || size < tb + 1024 * width / 8)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: chunk %zu of page %zu of column %zu: bit-packed chunk of %llu bytes "
                       "with bit width %llu for %llu %u-bit values is malformed",
                       r->name, k, pi, ci, (unsigned long long)size, (unsigned long long)width,
                       (unsigned long long)nv, t);
    uint64_t tmp[1024];
    pa_fastlanes_unpack(t, (unsigned)width, vals + tb, tmp);
    memcpy(out, (uint8_t *)tmp + from * tb, (size_t)((to - from) * tb));
    return PA_OK;
}

/* Reads rows [s, e) of a mini-block page: the covering chunks in one read, then decodes. */
static pa_status read_miniblock(pa_lance_reader *r, size_t ci, size_t pi, uint64_t s,
                                uint64_t e, uint8_t *out)
{
    const col_info *c = &r->cols[ci];
    const page_info *p = &c->pages[pi];
    chunk_table *t;
    pa_status st = load_chunks(r, ci, pi, &t);
    if (st != PA_OK)
        return st;
    /* first chunk containing s: the last k with first_value[k] <= s */
    size_t lo = 0, hi = t->n;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (t->first_value[mid] <= s)
            lo = mid;
        else
            hi = mid;
    }
    size_t k0 = lo, k1 = lo;
    while (k1 < t->n && t->first_value[k1] < e)
        k1++;
    /* read chunks [k0, k1) in pieces of at most ~1 MiB */
    const uint64_t max_read = 1u << 20;
    uint8_t *buf = NULL;
    size_t k = k0;
    while (k < k1 && st == PA_OK) {
        size_t kend = k + 1;
        while (kend < k1 && t->byte_off[kend + 1] - t->byte_off[k] <= max_read)
            kend++;
        uint64_t nbytes = t->byte_off[kend] - t->byte_off[k];
        uint8_t *nb = pa_realloc(buf, (size_t)nbytes, "chunk read buffer");
        if (!nb) {
            st = PA_ERR_NOMEM;
            break;
        }
        buf = nb;
        if ((st = rd(r, buf, (size_t)nbytes, p->data_off + t->byte_off[k])) != PA_OK)
            break;
        for (size_t j = k; j < kend && st == PA_OK; j++) {
            uint64_t first = t->first_value[j], nv = t->first_value[j + 1] - first;
            uint64_t from = PA_MAX(s, first) - first, to = PA_MIN(e, first + nv) - first;
            st = decode_chunk(r, ci, pi, j, buf + (t->byte_off[j] - t->byte_off[k]),
                              t->byte_off[j + 1] - t->byte_off[j], nv, from, to,
                              out + (first + from - s) * c->row_bytes);
        }
        k = kend;
    }
    free(buf);
    return st;
}

/* Reads rows [offset, offset+n) of column col (see the header). */
pa_status pa_lance_reader_read(pa_lance_reader *r, size_t col, uint64_t offset,
                               uint64_t num_rows, void *out)
{
    if (col >= r->num_cols)
        return pa_fail(PA_ERR_RANGE, "%s: column %zu does not exist (the file has %zu)", r->name,
                       col, r->num_cols);
    if (offset > r->num_rows || num_rows > r->num_rows - offset)
        return pa_fail(PA_ERR_RANGE, "%s: rows [%llu, %llu) are out of range: the file has %llu "
                       "rows", r->name, (unsigned long long)offset,
                       (unsigned long long)(offset + num_rows), (unsigned long long)r->num_rows);
    const col_info *c = &r->cols[col];
    if (c->field.type == PA_TYPE_OTHER)
        return pa_fail(PA_ERR_UNSUPPORTED, "%s: column %zu (\"%s\") is of type \"%s\", which "
                       "partifact does not read", r->name, col, c->field.name,
                       pa_field_logical_type(&c->field));
    if (num_rows == 0)
        return PA_OK;
    size_t lo = 0, hi = c->num_pages;
    while (hi - lo > 1) { /* last page starting at or before offset */
        size_t mid = (lo + hi) / 2;
        if (c->pages[mid].first_row <= offset)
            lo = mid;
        else
            hi = mid;
    }
    uint8_t *dst = out;
    uint64_t row = offset, end = offset + num_rows;
    for (size_t pi = lo; pi < c->num_pages && row < end; pi++) {
        const page_info *p = &c->pages[pi];
        if (p->num_rows == 0)
            continue;
        uint64_t s = row - p->first_row, e = PA_MIN(end, p->first_row + p->num_rows) - p->first_row;
        pa_status st;
        if (p->fullzip)
            st = rd(r, dst, (size_t)((e - s) * c->row_bytes), p->data_off + s * c->row_bytes);
        else
            st = read_miniblock(r, col, pi, s, e, dst);
        if (st != PA_OK)
            return st;
        dst += (e - s) * c->row_bytes;
        row = p->first_row + e;
    }
    return PA_OK;
}

/* Describes page i of column col (layout, encoding, rows, bytes) for inspection tools. */
pa_status pa_lance_reader_page(const pa_lance_reader *r, size_t col, size_t i,
                               pa_lance_page_info *out)
{
    if (col >= r->num_cols || i >= r->cols[col].num_pages)
        return pa_fail(PA_ERR_RANGE, "%s: page %zu of column %zu does not exist", r->name, i, col);
    const page_info *p = &r->cols[col].pages[i];
    out->first_row = p->first_row;
    out->num_rows = p->num_rows;
    out->offset = p->data_off;
    out->bytes = p->data_size + (p->fullzip ? 0 : p->meta_size);
    out->layout = p->fullzip ? "full-zip" : "mini-block";
    out->encoding = p->enc == ENC_BITPACK ? "inline_bitpacking" : "flat";
    return PA_OK;
}

size_t pa_lance_reader_num_pages(const pa_lance_reader *r, size_t col)
{
    return col < r->num_cols ? r->cols[col].num_pages : 0;
}

uint64_t pa_lance_reader_num_rows(const pa_lance_reader *r) { return r->num_rows; }
size_t pa_lance_reader_num_fields(const pa_lance_reader *r) { return r->num_cols; }
uint64_t pa_lance_reader_bytes_read(const pa_lance_reader *r) { return atomic_load(&r->bytes_read); }
const char *pa_lance_reader_path(const pa_lance_reader *r) { return r->path; }
uint32_t pa_lance_reader_num_global_buffers(const pa_lance_reader *r) { return r->num_gbufs; }
size_t pa_lance_reader_num_metadata(const pa_lance_reader *r) { return r->num_meta; }

/* The i-th field (see the header). */
pa_status pa_lance_reader_field(const pa_lance_reader *r, size_t i, pa_field *out)
{
    if (i >= r->num_cols)
        return pa_fail(PA_ERR_RANGE, "%s: field %zu does not exist (the file has %zu)", r->name, i,
                       r->num_cols);
    *out = r->cols[i].field;
    return PA_OK;
}

/* Looks a field up by name. */
pa_status pa_lance_reader_find_field(const pa_lance_reader *r, const char *name, size_t *index_out)
{
    for (size_t i = 0; i < r->num_cols; i++)
        if (!strcmp(r->cols[i].field.name, name)) {
            *index_out = i;
            return PA_OK;
        }
    return pa_fail(PA_ERR_RANGE, "%s: no column named \"%s\"", r->name, name);
}

/* Metadata entry i. */
pa_status pa_lance_reader_metadata_at(const pa_lance_reader *r, size_t i, const char **key,
                                      const void **value, size_t *value_len)
{
    if (i >= r->num_meta)
        return pa_fail(PA_ERR_RANGE, "%s: metadata entry %zu does not exist (the file has %zu)",
                       r->name, i, r->num_meta);
    *key = r->meta[i].key;
    *value = r->meta[i].value;
    *value_len = r->meta[i].len;
    return PA_OK;
}

/* Metadata value for key. */
pa_status pa_lance_reader_metadata(const pa_lance_reader *r, const char *key, const void **value,
                                   size_t *value_len)
{
    for (size_t i = 0; i < r->num_meta; i++)
        if (!strcmp(r->meta[i].key, key)) {
            *value = r->meta[i].value;
            *value_len = r->meta[i].len;
            return PA_OK;
        }
    return pa_fail(PA_ERR_RANGE, "%s: no schema metadata key \"%s\"", r->name, key);
}

/* Reads global buffer i into a fresh allocation. */
pa_status pa_lance_reader_global_buffer(pa_lance_reader *r, uint32_t i, void **data, size_t *len)
{
    if (i >= r->num_gbufs)
        return pa_fail(PA_ERR_RANGE, "%s: global buffer %u does not exist (the file has %u)",
                       r->name, i, r->num_gbufs);
    uint8_t *buf = pa_malloc((size_t)r->gbuf_size[i], "global buffer");
    if (!buf)
        return PA_ERR_NOMEM;
    pa_status st = rd(r, buf, (size_t)r->gbuf_size[i], r->gbuf_off[i]);
    if (st != PA_OK) {
        free(buf);
        return st;
    }
    *data = buf;
    *len = (size_t)r->gbuf_size[i];
    return PA_OK;
}

/* Closes the file and frees everything, including cached chunk tables. */
void pa_lance_reader_free(pa_lance_reader *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    for (size_t i = 0; r->cols && i < r->num_cols; i++) {
        col_info *c = &r->cols[i];
        for (size_t pi = 0; c->pages && pi < c->num_pages; pi++) {
            chunk_table *t = atomic_load(&c->pages[pi].chunks);
            if (t) {
                free(t->first_value);
                free(t->byte_off);
                free(t);
            }
        }
        free(c->pages);
        free((char *)c->field.name);
    }
    for (size_t i = 0; i < r->num_meta; i++) {
        free(r->meta[i].key);
        free(r->meta[i].value);
    }
    free(r->meta);
    free(r->cols);
    free(r->gbuf_off);
    free(r->gbuf_size);
    pthread_mutex_destroy(&r->lock);
    free(r->path);
    free(r);
}

/* The rows' validity (lance_internal.h). Every page this reader accepts has no nulls. */
pa_status pa_lance_reader_read_validity(pa_lance_reader *r, size_t col, uint64_t offset,
                                        uint64_t n, uint8_t *valid, bool *all_valid)
{
    (void)valid;
    *all_valid = true;
    if (col >= r->num_cols || offset > r->num_rows || n > r->num_rows - offset)
        return pa_fail(PA_ERR_RANGE, "%s: validity of rows [%llu, %llu) of column %zu is out of "
                       "range", r->name, (unsigned long long)offset,
                       (unsigned long long)(offset + n), col);
    return PA_OK;
}
