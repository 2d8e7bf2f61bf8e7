/* Lance file reader (container 2.x; file formats 2.0, 2.1 and 2.2).
 *
 * open reads the footer and the metadata region at the end of the file (column metadata,
 * offset tables) and the schema in global buffer 0, and checks that every offset and size lies
 * inside the file. Pages are described but not read. A column whose type or encoding partifact
 * does not decode does not fail open: it is recorded as "not decodable" with the reason, and
 * only reading it fails (so one column of a table can be read whatever the others hold); a
 * damaged file (contradicting offsets, sizes or counts) fails the open.
 * read(col, offset, n) then reads only the bytes those rows need:
 *   - full-zip pages (2.1/2.2) of fixed-width values: exactly the rows' bytes (one positioned
 *     read), with their control words (definition levels) when the column has nulls;
 *   - mini-block pages (2.1; 2.2 with its larger chunks): the page's chunk table (2 or 4 bytes
 *     per chunk, read once and cached), then the run of chunks that covers the rows, decoded
 *     chunk by chunk (Flat, FixedSizeList of Flat, or FastLanes InlineBitpacking values;
 *     definition levels bit-packed out of line or flat);
 *   - 2.0 pages (lance.encodings.ArrayEncoding: Nullable of Flat or FixedSizeList of Flat):
 *     the rows' bytes and, for pages with nulls, the bytes of the validity bitmap they cover;
 *   - all-null pages: nothing.
 * Anything else (lists, dictionaries, fsst, general compression, ...) is refused with the page,
 * column and encoding named. The reader may be used from several threads at once: reads are
 * positioned and the chunk-table cache is filled under a lock. */
#include "lance/lance_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <lz4.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#include <zstd.h>

#define MINIBLOCK_ALIGN 8
#define MINIBLOCK_MAX_CHUNK_VALUES 32768 /* 4 bits of log2 in the chunk table */
#define FASTLANES_BLOCK 1024             /* values per FastLanes bit-packed block */
#define READ_PIECE_BYTES (1u << 20)      /* most bytes read at once for row-wise decoding */
#define LANCE_V20_MAJOR 0                /* file format 2.0 is written as version 0.3 */
#define LANCE_V20_MINOR 3

typedef enum value_enc {
    ENC_FLAT = 1,    /* raw values (scalars or fixed-size-list items) */
    ENC_BITPACK = 2, /* FastLanes inline bitpacking, 1024 values per chunk */
    ENC_RLE = 3,     /* runs: the run values, then one u8 length per run (two chunk buffers) */
    ENC_BSS = 4      /* byte stream split: byte b of value i at b * n + i */
} value_enc;

typedef enum page_kind {
    PK_MINIBLOCK = 1, /* 2.1/2.2 mini-block chunks */
    PK_FULLZIP = 2,   /* 2.1/2.2 full-zip rows */
    PK_FLAT20 = 3,    /* 2.0 flat buffer (and validity bitmap) */
    PK_ALLNULL = 4,   /* every row null, no data */
    PK_CONST = 5      /* every row the same value, kept in the page description */
} page_kind;

typedef struct chunk_table {
    uint64_t *first_value; /* n+1 entries: first value index of chunk i; last = num_rows */
    uint64_t *byte_off;    /* n+1 entries: offset of chunk i within the data buffer */
    size_t n;
} chunk_table;

typedef struct page_info {
    uint64_t first_row, num_rows;
    page_kind kind;
    value_enc enc;
    bool large_chunk;    /* mini-block, 2.2: 4-byte chunk words and value sizes */
    unsigned def_width;  /* mini-block with nulls: bits per FastLanes-packed u16 def level */
    bool def_raw;        /* mini-block with nulls: def levels as raw u16 */
    bool def_inline;     /* mini-block with nulls: FastLanes blocks, each after its u16 width */
    bool def_rle;        /* mini-block with nulls: runs (u64 bytes of u16 values, u8 lengths) */
    int general;         /* mini-block: 1 lz4 / 2 zstd compresses each chunk's first value
                           * buffer (General around the value encoding); 0 none */
    unsigned ctrl_bytes; /* full-zip with nulls: bytes of control word before each row */
    unsigned def_bits;   /* full-zip with nulls: def bits of the control word */
    uint64_t data_off, data_size;  /* full-zip: the rows; mini-block: the chunks; 2.0: values */
    uint64_t meta_off, meta_size;  /* mini-block chunk table; 2.0: validity bitmap (0: none) */
    _Atomic(chunk_table *) chunks; /* mini-block: loaded on first use */
    uint8_t constant[32];          /* PK_CONST: the value (row_bytes bytes) */
    char enc_name[48];             /* the value encoding, for pa_lance_reader_page */
    uint64_t num_items;            /* values in the page: its rows, or a list page's items */
    int rep;                       /* list pages: 0, or how repetition levels are stored */
    uint64_t rep_off, rep_size;    /* list pages: the repetition index */
    unsigned rep_width;            /* REP_OOL: bits per level */
} page_info;

/* How a list page's repetition levels are stored (page_info.rep). */
enum {
    REP_NONE = 0,
    REP_RLE = 1, /* runs: u64 bytes of u16 values, the values, u8 lengths */
    REP_RAW = 2, /* u16 levels */
    REP_OOL = 3, /* out-of-line bit-packing: FastLanes u16 blocks at rep_width bits */
    REP_INL = 5, /* inline bit-packing: FastLanes u16 blocks, each after its u16 width */
    REP_CTRL = 4 /* full-zip control words */
};

typedef struct col_info {
    pa_field field;   /* name (dotted path for nested leaves); type 0 if not a pa_type */
    char *logical;    /* the Lance logical type */
    size_t row_bytes; /* bytes per row read() writes; 0: no fixed width */
    unsigned item_bits, dim;
    bool is_list, is_uint;
    bool list_col;  /* a list of the leaf type (one level, no nulls): read with read_list */
    bool in_list20; /* 2.0: a column under a list holds the lists' items, not the file's rows */
    bool nullable;  /* the schema declares it (a list column: the list field) nullable */
    uint64_t num_values; /* rows of the column's pages: the file's rows, or (in_list20) items */
    page_info *pages;
    size_t num_pages;
    pa_status bad; /* PA_OK, or why the column cannot be read (message in why) */
    char *why;
} col_info;

struct pa_lance_reader {
    int fd;
    char *path;
    const char *name; /* base name for messages */
    uint64_t file_size;
    uint64_t num_rows;
    uint16_t major, minor;
    col_info *cols;
    size_t num_cols;
    pa_lance_meta *meta;
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
    case PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_GENERAL:
        if (e->general && e->general->compression) {
            if (e->general->compression->scheme == 1)
                return "general (lz4)";
            if (e->general->compression->scheme == 2)
                return "general (zstd)";
        }
        return "general";
    case PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_FIXED_SIZE_LIST: return "fixed_size_list";
    case PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_PACKED_STRUCT: return "packed_struct";
    case PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_VARIABLE_PACKED_STRUCT:
        return "variable_packed_struct";
    default: return "unknown";
    }
}

/* Name of a buffer compression scheme (BufferCompression.scheme). */
static const char *scheme_name(int scheme)
{
    return scheme == 1 ? "lz4" : scheme == 2 ? "zstd" : "unknown";
}

/* Bits per value of an uncompressed Flat encoding, 0 for anything else. */
static uint64_t flat_bits(const Pa__Lancepb__CompressiveEncoding *e)
{
    if (!e || e->compression_case != PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_FLAT ||
        (e->flat->data && e->flat->data->scheme != 0))
        return 0;
    return e->flat->bits_per_value;
}

/* Decides how a page's values are encoded, accepting only what read() can decode for the
 * column's type: Flat (scalar) / FixedSizeList{dim, Flat} (lists) / InlineBitpacking
 * (unsigned integers, mini-block only) / Rle of Flat values with u8 lengths (scalars,
 * mini-block only). */
static pa_status classify_values(const pa_lance_reader *r, const col_info *c, size_t ci, size_t pi,
                                 const Pa__Lancepb__CompressiveEncoding *e, bool miniblock,
                                 value_enc *out, int *general)
{
    const Pa__Lancepb__CompressiveEncoding *items = e;
    if (!c->is_list && miniblock && general && e &&
        e->compression_case == PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_GENERAL &&
        e->general->compression &&
        (e->general->compression->scheme == 1 || e->general->compression->scheme == 2)) {
        *general = e->general->compression->scheme;
        items = e = e->general->values;
    }
    if (c->is_list) {
        if (!e ||
            e->compression_case != PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_FIXED_SIZE_LIST)
            return pa_fail(PA_ERR_UNSUPPORTED,
                           "%s: page %zu of column %zu (\"%s\") uses encoding \"%s\" for a "
                           "fixed-size list, which partifact does not read",
                           r->name, pi, ci, c->field.name, encoding_name(e));
        const Pa__Lancepb__FixedSizeList *fsl = e->fixed_size_list;
        if (fsl->items_per_value != c->dim)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: page %zu of column %zu (\"%s\") has %llu items per value, the "
                           "schema says %u",
                           r->name, pi, ci, c->field.name, (unsigned long long)fsl->items_per_value,
                           c->dim);
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
                           "%s: page %zu of column %zu (\"%s\") uses encoding \"general (%s)\" "
                           "(compressed flat buffer), which partifact does not read",
                           r->name, pi, ci, c->field.name, scheme_name(items->flat->data->scheme));
        *out = ENC_FLAT;
        return PA_OK;
    }
    if (!c->is_list && c->is_uint && miniblock && items &&
        items->compression_case ==
            PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_INLINE_BITPACKING) {
        if (items->inline_bitpacking->uncompressed_bits_per_value != c->item_bits)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: page %zu of column %zu (\"%s\") bit-packs %llu-bit values, the "
                           "schema's type has %u bits",
                           r->name, pi, ci, c->field.name,
                           (unsigned long long)
                               items->inline_bitpacking->uncompressed_bits_per_value,
                           c->item_bits);
        if (items->inline_bitpacking->values && items->inline_bitpacking->values->scheme != 0)
            return pa_fail(PA_ERR_UNSUPPORTED,
                           "%s: page %zu of column %zu (\"%s\") compresses bit-packed values "
                           "(%s), which partifact does not read",
                           r->name, pi, ci, c->field.name,
                           scheme_name(items->inline_bitpacking->values->scheme));
        *out = ENC_BITPACK;
        return PA_OK;
    }
    if (!c->is_list && miniblock && items &&
        items->compression_case ==
            PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_BYTE_STREAM_SPLIT &&
        flat_bits(items->byte_stream_split->values) == c->item_bits) {
        *out = ENC_BSS;
        return PA_OK;
    }
    if (!c->is_list && miniblock && items &&
        items->compression_case == PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_RLE &&
        flat_bits(items->rle->values) == c->item_bits && flat_bits(items->rle->run_lengths) == 8) {
        *out = ENC_RLE;
        return PA_OK;
    }
    return pa_fail(PA_ERR_UNSUPPORTED,
                   "%s: page %zu of column %zu (\"%s\") uses encoding \"%s\", which partifact "
                   "does not read",
                   r->name, pi, ci, c->field.name, encoding_name(items));
}

/* Reads the rep/def layers of a 2.1/2.2 page: the only structures read are one layer, all
 * valid (nullable false) or nullable items (nullable true). */
static bool layers_simple(size_t n, const Pa__Lancepb__RepDefLayer *layers, bool *nullable)
{
    if (n != 1)
        return false;
    *nullable = layers[0] == PA__LANCEPB__REP_DEF_LAYER__REPDEF_NULLABLE_ITEM;
    return *nullable || layers[0] == PA__LANCEPB__REP_DEF_LAYER__REPDEF_ALL_VALID_ITEM;
}

/* How the definition levels of a nullable mini-block page are compressed: FastLanes u16 at a
 * fixed width (out-of-line bit-packing), FastLanes u16 blocks each after its width (inline
 * bit-packing), runs (RLE of u16 values with u8 lengths), or raw u16. */
static pa_status classify_def(const pa_lance_reader *r, const col_info *c, size_t ci, size_t pi,
                              const Pa__Lancepb__CompressiveEncoding *e, page_info *p)
{
    if (e && e->compression_case ==
                 PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_OUT_OF_LINE_BITPACKING) {
        const Pa__Lancepb__OutOfLineBitpacking *b = e->out_of_line_bitpacking;
        if (b->uncompressed_bits_per_value == 16 && b->values &&
            b->values->compression_case == PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_FLAT &&
            b->values->flat->bits_per_value >= 1 && b->values->flat->bits_per_value <= 16 &&
            !(b->values->flat->data && b->values->flat->data->scheme != 0)) {
            p->def_width = (unsigned)b->values->flat->bits_per_value;
            return PA_OK;
        }
    } else if (e &&
               e->compression_case ==
                   PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_INLINE_BITPACKING &&
               e->inline_bitpacking->uncompressed_bits_per_value == 16 &&
               !(e->inline_bitpacking->values && e->inline_bitpacking->values->scheme != 0)) {
        p->def_inline = true;
        return PA_OK;
    } else if (e && e->compression_case == PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_RLE &&
               flat_bits(e->rle->values) == 16 && flat_bits(e->rle->run_lengths) == 8) {
        p->def_rle = true;
        return PA_OK;
    } else if (e && e->compression_case == PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_FLAT &&
               e->flat->bits_per_value == 16 && !(e->flat->data && e->flat->data->scheme != 0)) {
        p->def_raw = true;
        return PA_OK;
    }
    return pa_fail(PA_ERR_UNSUPPORTED,
                   "%s: page %zu of column %zu (\"%s\") stores its null flags (definition "
                   "levels) with encoding \"%s\", which partifact does not read",
                   r->name, pi, ci, c->field.name, encoding_name(e));
}

/* Checks a list page's layers: all-valid items in all-valid lists (no nulls, no empty lists). */
static pa_status list_layers(const pa_lance_reader *r, const col_info *c, size_t ci, size_t pi,
                             size_t n, const Pa__Lancepb__RepDefLayer *layers)
{
    if (n == 2 && layers[0] == PA__LANCEPB__REP_DEF_LAYER__REPDEF_ALL_VALID_ITEM &&
        layers[1] == PA__LANCEPB__REP_DEF_LAYER__REPDEF_ALL_VALID_LIST)
        return PA_OK;
    return pa_fail(PA_ERR_UNSUPPORTED,
                   "%s: page %zu of column %zu (\"%s\") has %zu rep/def layers, not all-valid "
                   "items in all-valid lists; partifact reads lists without nulls or empty "
                   "lists",
                   r->name, pi, ci, c->field.name, n);
}

/* A mini-block page's kind, chunk format, values and its first two buffers (the chunk table,
 * the chunks) into *p. */
static void miniblock_page(page_info *p, const Pa__Lancepb__MiniBlockLayout *mb,
                           const Pa__Lancepb__ColumnMetadata__Page *pg, uint64_t items)
{
    p->kind = PK_MINIBLOCK;
    p->large_chunk = mb->has_large_chunk;
    p->num_items = items;
    p->meta_off = pg->buffer_offsets[0];
    p->meta_size = pg->buffer_sizes[0];
    p->data_off = pg->buffer_offsets[1];
    p->data_size = pg->buffer_sizes[1];
}

/* Parses a 2.1/2.2 page layout (/lance.encodings21.PageLayout) into *p. */
static pa_status parse_layout21(pa_lance_reader *r, col_info *c, size_t ci, size_t pi,
                                const Pa__Lancepb__ColumnMetadata__Page *pg,
                                const Pa__Lancepb__Any *any, page_info *p)
{
    pa_status st = PA_OK;
    bool nullable = false;
    Pa__Lancepb__PageLayout *layout = pa__lancepb__page_layout__unpack(NULL, any->value.len,
                                                                       any->value.data);
    if (!layout)
        return pa_fail(PA_ERR_FORMAT, "%s: page %zu of column %zu: page layout does not parse",
                       r->name, pi, ci);
    if (layout->layout_case == PA__LANCEPB__PAGE_LAYOUT__LAYOUT_MINI_BLOCK_LAYOUT) {
        const Pa__Lancepb__MiniBlockLayout *mb = layout->mini_block_layout;
        if (c->list_col) {
            if ((st = list_layers(r, c, ci, pi, mb->n_layers, mb->layers)) != PA_OK)
                goto done;
            const Pa__Lancepb__CompressiveEncoding *re = mb->rep_compression;
            if (re && re->compression_case == PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_RLE &&
                flat_bits(re->rle->values) == 16 && flat_bits(re->rle->run_lengths) == 8)
                p->rep = REP_RLE;
            else if (flat_bits(re) == 16)
                p->rep = REP_RAW;
            else if (re &&
                     re->compression_case ==
                         PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_OUT_OF_LINE_BITPACKING &&
                     re->out_of_line_bitpacking->uncompressed_bits_per_value == 16 &&
                     flat_bits(re->out_of_line_bitpacking->values) >= 1 &&
                     flat_bits(re->out_of_line_bitpacking->values) <= 16) {
                p->rep = REP_OOL;
                p->rep_width = (unsigned)flat_bits(re->out_of_line_bitpacking->values);
            } else if (re &&
                       re->compression_case ==
                           PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_INLINE_BITPACKING &&
                       re->inline_bitpacking->uncompressed_bits_per_value == 16 &&
                       !(re->inline_bitpacking->values &&
                         re->inline_bitpacking->values->scheme != 0)) {
                p->rep = REP_INL;
            }
            if (!p->rep || mb->def_compression || mb->repetition_index_depth != 1) {
                st = pa_fail(PA_ERR_UNSUPPORTED,
                             "%s: page %zu of column %zu (\"%s\") stores its list structure "
                             "with repetition levels \"%s\"%s, repetition index depth %u; "
                             "partifact reads rle, flat or bit-packed levels, no nulls, depth 1",
                             r->name, pi, ci, c->field.name, encoding_name(re),
                             mb->def_compression ? " and definition levels" : "",
                             mb->repetition_index_depth);
                goto done;
            }
            if ((st = classify_values(r, c, ci, pi, mb->value_compression, true, &p->enc, NULL)) !=
                PA_OK)
                goto done;
            if (mb->num_buffers != 1 || pg->n_buffer_offsets < 3 || mb->dictionary ||
                mb->num_items < pg->length) {
                st = pa_fail(PA_ERR_FORMAT,
                             "%s: page %zu of column %zu (\"%s\") is a mini-block list page "
                             "of %llu items for %llu rows with %llu value buffers and %zu "
                             "page buffers; partifact reads 1 and 3 (chunks, chunk table, "
                             "repetition index), at least one item a row",
                             r->name, pi, ci, c->field.name, (unsigned long long)mb->num_items,
                             (unsigned long long)pg->length, (unsigned long long)mb->num_buffers,
                             pg->n_buffer_offsets);
                goto done;
            }
            miniblock_page(p, mb, pg, mb->num_items);
            p->rep_off = pg->buffer_offsets[2];
            p->rep_size = pg->buffer_sizes[2];
            goto done;
        }
        if (mb->rep_compression || mb->repetition_index_depth != 0 ||
            !layers_simple(mb->n_layers, mb->layers, &nullable)) {
            st = pa_fail(PA_ERR_UNSUPPORTED,
                         "%s: page %zu of column %zu (\"%s\") has nesting (rep/def levels of "
                         "lists or structs), which partifact does not read",
                         r->name, pi, ci, c->field.name);
            goto done;
        }
        if ((mb->def_compression != NULL) != nullable) {
            st = pa_fail(PA_ERR_FORMAT,
                         "%s: page %zu of column %zu (\"%s\") declares %s items but %s "
                         "definition levels",
                         r->name, pi, ci, c->field.name, nullable ? "nullable" : "all-valid",
                         nullable ? "no" : "has");
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
        if ((st = classify_values(r, c, ci, pi, mb->value_compression, true, &p->enc,
                                  &p->general)) != PA_OK)
            goto done;
        if (nullable && (st = classify_def(r, c, ci, pi, mb->def_compression, p)) != PA_OK)
            goto done;
        if (mb->num_buffers != (p->enc == ENC_RLE ? 2u : 1u) || pg->n_buffer_offsets < 2) {
            st = pa_fail(PA_ERR_UNSUPPORTED,
                         "%s: page %zu of column %zu (\"%s\") is a mini-block page with %llu "
                         "value buffers and %zu page buffers; partifact reads %u and 2",
                         r->name, pi, ci, c->field.name, (unsigned long long)mb->num_buffers,
                         pg->n_buffer_offsets, p->enc == ENC_RLE ? 2u : 1u);
            goto done;
        }
        if (mb->num_items != pg->length) {
            st = pa_fail(PA_ERR_FORMAT, "%s: page %zu of column %zu has %llu items but %llu rows",
                         r->name, pi, ci, (unsigned long long)mb->num_items,
                         (unsigned long long)pg->length);
            goto done;
        }
        miniblock_page(p, mb, pg, pg->length);
    } else if (layout->layout_case == PA__LANCEPB__PAGE_LAYOUT__LAYOUT_FULL_ZIP_LAYOUT) {
        const Pa__Lancepb__FullZipLayout *fz = layout->full_zip_layout;
        if (c->list_col) {
            if ((st = list_layers(r, c, ci, pi, fz->n_layers, fz->layers)) != PA_OK)
                goto done;
            uint64_t want_bytes;
            if (fz->bits_rep < 1 || fz->bits_rep > 8 || fz->bits_def ||
                fz->details_case != PA__LANCEPB__FULL_ZIP_LAYOUT__DETAILS_BITS_PER_VALUE ||
                fz->bits_per_value != c->row_bytes * 8 || fz->num_items != fz->num_visible_items ||
                fz->num_items < pg->length || pg->n_buffer_offsets < 2 ||
                __builtin_mul_overflow((uint64_t)fz->num_items, (uint64_t)c->row_bytes + 1,
                                       &want_bytes) ||
                pg->buffer_sizes[0] != want_bytes) {
                st = pa_fail(PA_ERR_UNSUPPORTED,
                             "%s: page %zu of column %zu (\"%s\") is a full-zip list page "
                             "partifact does not read (%u repetition bits, %u definition bits, "
                             "%u-bit values, %u items of which %u visible, for %llu rows of "
                             "%zu-byte items; %zu page buffers)",
                             r->name, pi, ci, c->field.name, fz->bits_rep, fz->bits_def,
                             fz->bits_per_value, fz->num_items, fz->num_visible_items,
                             (unsigned long long)pg->length, c->row_bytes, pg->n_buffer_offsets);
                goto done;
            }
            if ((st = classify_values(r, c, ci, pi, fz->value_compression, false, &p->enc, NULL)) !=
                PA_OK)
                goto done;
            p->kind = PK_FULLZIP;
            p->rep = REP_CTRL;
            p->ctrl_bytes = 1;
            p->num_items = fz->num_items;
            p->data_off = pg->buffer_offsets[0];
            p->data_size = pg->buffer_sizes[0];
            p->rep_off = pg->buffer_offsets[1];
            p->rep_size = pg->buffer_sizes[1];
            goto done;
        }
        if (fz->bits_rep || !layers_simple(fz->n_layers, fz->layers, &nullable) ||
            (fz->bits_def != 0) != nullable || fz->bits_def > 16) {
            st = pa_fail(PA_ERR_UNSUPPORTED,
                         "%s: page %zu of column %zu (\"%s\") has nesting (control words of "
                         "lists or structs), which partifact does not read",
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
        if ((st = classify_values(r, c, ci, pi, fz->value_compression, false, &p->enc, NULL)) !=
            PA_OK)
            goto done;
        p->def_bits = fz->bits_def;
        p->ctrl_bytes = (fz->bits_def + 7) / 8;
        uint64_t want_bytes;
        if (pg->n_buffer_offsets < 1 ||
            __builtin_mul_overflow(pg->length, (uint64_t)c->row_bytes + p->ctrl_bytes,
                                   &want_bytes) ||
            pg->buffer_sizes[0] != want_bytes) {
            st = pa_fail(PA_ERR_FORMAT,
                         "%s: page %zu of column %zu (\"%s\") holds %llu bytes for %llu rows "
                         "of %zu bytes%s",
                         r->name, pi, ci, c->field.name,
                         (unsigned long long)(pg->n_buffer_offsets ? pg->buffer_sizes[0] : 0),
                         (unsigned long long)pg->length, c->row_bytes,
                         p->ctrl_bytes ? " after a control word" : "");
            goto done;
        }
        p->kind = PK_FULLZIP;
        p->num_items = pg->length;
        p->data_off = pg->buffer_offsets[0];
        p->data_size = pg->buffer_sizes[0];
    } else if (c->list_col) {
        st = pa_fail(PA_ERR_UNSUPPORTED,
                     "%s: page %zu of column %zu (\"%s\") is a list page of a layout partifact "
                     "does not read (mini-block and full-zip are read)",
                     r->name, pi, ci, c->field.name);
    } else if (layout->layout_case == PA__LANCEPB__PAGE_LAYOUT__LAYOUT_ALL_NULL_LAYOUT &&
               layout->all_null_layout->inline_value.len != 0 &&
               layout->all_null_layout->inline_value.len == c->row_bytes &&
               c->row_bytes <= sizeof p->constant &&
               layers_simple(layout->all_null_layout->n_layers, layout->all_null_layout->layers,
                             &nullable) &&
               !nullable) {
        p->kind = PK_CONST; /* 2.2's constant layout: every row this one value */
        memcpy(p->constant, layout->all_null_layout->inline_value.data, c->row_bytes);
    } else if (layout->layout_case == PA__LANCEPB__PAGE_LAYOUT__LAYOUT_ALL_NULL_LAYOUT &&
               layout->all_null_layout->inline_value.len == 0 &&
               layers_simple(layout->all_null_layout->n_layers, layout->all_null_layout->layers,
                             &nullable) &&
               nullable) {
        p->kind = PK_ALLNULL;
    } else {
        const char *kind = layout->layout_case == PA__LANCEPB__PAGE_LAYOUT__LAYOUT_ALL_NULL_LAYOUT
                               ? (layout->all_null_layout->inline_value.len ? "constant"
                                                                            : "all-null (nested)")
                           : layout->layout_case == PA__LANCEPB__PAGE_LAYOUT__LAYOUT_BLOB_LAYOUT
                               ? "blob"
                               : "unknown";
        st = pa_fail(PA_ERR_UNSUPPORTED,
                     "%s: page %zu of column %zu (\"%s\") uses the %s layout, which partifact "
                     "does not read",
                     r->name, pi, ci, c->field.name, kind);
    }
done:
    pa__lancepb__page_layout__free_unpacked(layout, NULL);
    return st;
}

/* Name of a 2.0 array encoding case, for messages. */
static const char *v20_name(const Pa__Lancepb__V20ArrayEncoding *e)
{
    static const char *const names[] = {"none",
                                        "flat",
                                        "nullable",
                                        "fixed_size_list",
                                        "list",
                                        "struct",
                                        "binary",
                                        "dictionary",
                                        "fsst",
                                        "packed_struct",
                                        "bitpacked",
                                        "fixed_size_binary",
                                        "bitpacked_for_non_neg",
                                        "constant",
                                        "inline_bitpacking",
                                        "out_of_line_bitpacking",
                                        "variable",
                                        "packed_struct_fixed_width_mini_block",
                                        "block",
                                        "rle",
                                        "general_mini_block",
                                        "byte_stream_split"};
    unsigned k = e ? (unsigned)e->array_encoding_case : 0;
    return k < sizeof names / sizeof names[0] ? names[k] : "unknown";
}

/* Checks a 2.0 Flat of bits_per_value bits in a page buffer; sets *buf to its index. */
static pa_status v20_flat(const pa_lance_reader *r, const col_info *c, size_t ci, size_t pi,
                          const Pa__Lancepb__V20ArrayEncoding *e, unsigned bits,
                          const Pa__Lancepb__ColumnMetadata__Page *pg, const char *what,
                          size_t *buf)
{
    if (!e || e->array_encoding_case != PA__LANCEPB__V20_ARRAY_ENCODING__ARRAY_ENCODING_FLAT)
        return pa_fail(PA_ERR_UNSUPPORTED,
                       "%s: page %zu of column %zu (\"%s\") stores its %s with encoding \"%s\", "
                       "which partifact does not read",
                       r->name, pi, ci, c->field.name, what, v20_name(e));
    const Pa__Lancepb__V20Flat *f = e->flat;
    if (f->compression && f->compression->scheme && f->compression->scheme[0] &&
        strcmp(f->compression->scheme, "none") != 0)
        return pa_fail(PA_ERR_UNSUPPORTED,
                       "%s: page %zu of column %zu (\"%s\") compresses its %s with \"%s\", "
                       "which partifact does not read",
                       r->name, pi, ci, c->field.name, what, f->compression->scheme);
    if (f->bits_per_value != bits)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: page %zu of column %zu (\"%s\") stores its %s as %llu-bit values, "
                       "expected %u bits",
                       r->name, pi, ci, c->field.name, what, (unsigned long long)f->bits_per_value,
                       bits);
    uint32_t idx = f->buffer ? f->buffer->buffer_index : 0;
    if ((f->buffer && f->buffer->buffer_type != 0) || idx >= pg->n_buffer_offsets)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: page %zu of column %zu (\"%s\") keeps its %s in %s buffer %u; the "
                       "page has %zu buffers",
                       r->name, pi, ci, c->field.name, what,
                       f->buffer && f->buffer->buffer_type ? "a column or file" : "page", idx,
                       pg->n_buffer_offsets);
    *buf = idx;
    return PA_OK;
}

/* Parses a 2.0 page encoding (/lance.encodings.ArrayEncoding) into *p: Nullable (no nulls,
 * some nulls with a 1-bit validity bitmap, or all nulls) around Flat or FixedSizeList of Flat
 * (itself possibly inside a Nullable without nulls). */
static pa_status parse_layout20(pa_lance_reader *r, col_info *c, size_t ci, size_t pi,
                                const Pa__Lancepb__ColumnMetadata__Page *pg,
                                const Pa__Lancepb__Any *any, page_info *p)
{
    pa_status st = PA_OK;
    Pa__Lancepb__V20ArrayEncoding *enc = pa__lancepb__v20_array_encoding__unpack(NULL,
                                                                                 any->value.len,
                                                                                 any->value.data);
    if (!enc)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: page %zu of column %zu: 2.0 array encoding does not "
                       "parse",
                       r->name, pi, ci);
    const Pa__Lancepb__V20ArrayEncoding *vals = enc, *validity = NULL;
    if (enc->array_encoding_case == PA__LANCEPB__V20_ARRAY_ENCODING__ARRAY_ENCODING_NULLABLE) {
        const Pa__Lancepb__V20Nullable *n = enc->nullable;
        if (n->nullability_case == PA__LANCEPB__V20_NULLABLE__NULLABILITY_ALL_NULLS) {
            p->kind = PK_ALLNULL;
            goto done;
        }
        if (n->nullability_case == PA__LANCEPB__V20_NULLABLE__NULLABILITY_NO_NULLS) {
            vals = n->no_nulls->values;
        } else if (n->nullability_case == PA__LANCEPB__V20_NULLABLE__NULLABILITY_SOME_NULLS) {
            validity = n->some_nulls->validity;
            vals = n->some_nulls->values;
        } else {
            vals = NULL;
        }
    }
    size_t vbuf = 0, nbuf = 0;
    if (c->is_list) {
        if (!vals || vals->array_encoding_case !=
                         PA__LANCEPB__V20_ARRAY_ENCODING__ARRAY_ENCODING_FIXED_SIZE_LIST) {
            st = pa_fail(PA_ERR_UNSUPPORTED,
                         "%s: page %zu of column %zu (\"%s\") uses encoding \"%s\" for a "
                         "fixed-size list, which partifact does not read",
                         r->name, pi, ci, c->field.name, v20_name(vals));
            goto done;
        }
        const Pa__Lancepb__V20FixedSizeList *fsl = vals->fixed_size_list;
        if (fsl->dimension != c->dim) {
            st = pa_fail(PA_ERR_FORMAT,
                         "%s: page %zu of column %zu (\"%s\") has %u items per value, the "
                         "schema says %u",
                         r->name, pi, ci, c->field.name, fsl->dimension, c->dim);
            goto done;
        }
        vals = fsl->items;
        if (vals &&
            vals->array_encoding_case == PA__LANCEPB__V20_ARRAY_ENCODING__ARRAY_ENCODING_NULLABLE) {
            if (vals->nullable->nullability_case !=
                    PA__LANCEPB__V20_NULLABLE__NULLABILITY_NO_NULLS ||
                fsl->has_validity) {
                st = pa_fail(PA_ERR_UNSUPPORTED,
                             "%s: page %zu of column %zu (\"%s\") has null list items, which "
                             "partifact does not read",
                             r->name, pi, ci, c->field.name);
                goto done;
            }
            vals = vals->nullable->no_nulls->values;
        }
    }
    if ((st = v20_flat(r, c, ci, pi, vals, c->item_bits, pg, "values", &vbuf)) != PA_OK)
        goto done;
    if (validity &&
        (st = v20_flat(r, c, ci, pi, validity, 1, pg, "null flags (validity)", &nbuf)) != PA_OK)
        goto done;
    uint64_t want;
    if (__builtin_mul_overflow(pg->length, (uint64_t)c->row_bytes, &want) ||
        pg->buffer_sizes[vbuf] != want ||
        (validity && pg->buffer_sizes[nbuf] < (pg->length + 7) / 8)) {
        st = pa_fail(PA_ERR_FORMAT,
                     "%s: page %zu of column %zu (\"%s\") holds %llu bytes of values%s for %llu "
                     "rows of %zu bytes",
                     r->name, pi, ci, c->field.name, (unsigned long long)pg->buffer_sizes[vbuf],
                     validity ? " and a validity bitmap too short" : "",
                     (unsigned long long)pg->length, c->row_bytes);
        goto done;
    }
    p->kind = PK_FLAT20;
    p->enc = ENC_FLAT;
    p->data_off = pg->buffer_offsets[vbuf];
    p->data_size = pg->buffer_sizes[vbuf];
    if (validity) {
        p->meta_off = pg->buffer_offsets[nbuf];
        p->meta_size = pg->buffer_sizes[nbuf];
    }
done:
    pa__lancepb__v20_array_encoding__free_unpacked(enc, NULL);
    return st;
}

/* Parses one page's description into *p, validating buffers against the data region. */
static pa_status parse_page(pa_lance_reader *r, col_info *c, size_t ci, size_t pi,
                            const Pa__Lancepb__ColumnMetadata__Page *pg, uint64_t data_end,
                            page_info *p)
{
    if (pg->n_buffer_offsets != pg->n_buffer_sizes)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: page %zu of column %zu lists %zu buffer offsets but %zu sizes", r->name,
                       pi, ci, pg->n_buffer_offsets, pg->n_buffer_sizes);
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
        return pa_fail(PA_ERR_FORMAT,
                       "%s: page %zu of column %zu: encoding is not a valid "
                       "protobuf Any",
                       r->name, pi, ci);
    bool v20 = r->major == LANCE_V20_MAJOR;
    const char *want = v20 ? "/lance.encodings.ArrayEncoding" : "/lance.encodings21.PageLayout";
    pa_status st;
    if (!any->type_url || strcmp(any->type_url, want) != 0)
        st = pa_fail(PA_ERR_UNSUPPORTED,
                     "%s: page %zu of column %zu is encoded as \"%s\"; partifact reads the "
                     "Lance %s layouts (%s) in this file's version %u.%u",
                     r->name, pi, ci, any->type_url ? any->type_url : "", v20 ? "2.0" : "2.1", want,
                     r->major, r->minor);
    else if (v20)
        st = parse_layout20(r, c, ci, pi, pg, any, p);
    else
        st = parse_layout21(r, c, ci, pi, pg, any, p);
    if (st == PA_OK) {
        static const char *const names[] = {"none", "flat", "inline_bitpacking", "rle",
                                            "byte_stream_split"};
        bool nulls = p->def_width || p->def_raw || p->def_inline || p->def_rle ||
                     (p->ctrl_bytes && !p->rep) || (p->kind == PK_FLAT20 && p->meta_size);
        bool data = p->kind != PK_ALLNULL && p->kind != PK_CONST;
        snprintf(p->enc_name, sizeof p->enc_name, "%s%s%s",
                 !data             ? ""
                 : p->general == 1 ? "lz4 of "
                 : p->general == 2 ? "zstd of "
                                   : "",
                 names[data ? p->enc : 0], nulls ? ", with nulls" : "");
    }
    pa__lancepb__any__free_unpacked(any, NULL);
    return st;
}

/* Bits of one value of a fixed-width Lance primitive type name (the first len bytes of t), 0
 * if it is not one; *is_uint says whether it is an unsigned integer (bit-packable). */
static unsigned primitive_bits(const char *t, size_t len, bool *is_uint)
{
    static const struct {
        const char *name;
        unsigned bits;
        bool is_uint;
    } prims[] = {{"uint8", 8, true},      {"int8", 8, false},       {"uint16", 16, true},
                 {"int16", 16, false},    {"halffloat", 16, false}, {"uint32", 32, true},
                 {"int32", 32, false},    {"float", 32, false},     {"date32:day", 32, false},
                 {"uint64", 64, true},    {"int64", 64, false},     {"double", 64, false},
                 {"date64:ms", 64, false}};
    *is_uint = false;
    for (size_t i = 0; i < sizeof prims / sizeof prims[0]; i++)
        if (strlen(prims[i].name) == len && !memcmp(prims[i].name, t, len)) {
            *is_uint = prims[i].is_uint;
            return prims[i].bits;
        }
    if (len > 10 && !memcmp(t, "timestamp:", 10))
        return 64;
    return 0;
}

/* Fills a column's type description from its Lance logical type: fixed-width primitives and
 * fixed-size lists of them are readable; anything else is recorded as not decodable. */
static pa_status describe_column(pa_lance_reader *r, size_t ci, col_info *c)
{
    const char *t = c->logical;
    size_t len = strlen(t);
    c->dim = 1;
    if (!strncmp(t, "fixed_size_list:", 16)) {
        const char *colon = strrchr(t, ':');
        char *end = NULL;
        unsigned long d = colon > t + 15 ? strtoul(colon + 1, &end, 10) : 0;
        if (colon > t + 16 && end && !*end && d >= 1 && d <= UINT32_MAX) {
            c->item_bits = primitive_bits(t + 16, (size_t)(colon - (t + 16)), &c->is_uint);
            c->dim = (unsigned)d;
            c->is_list = true;
        }
    } else {
        c->item_bits = primitive_bits(t, len, &c->is_uint);
    }
    pa_type type;
    uint32_t dim;
    if (pa_parse_logical_type(t, &type, &dim) == PA_OK) {
        c->field.type = type;
        c->field.dim = dim;
    } else {
        c->field.type = 0;
        c->field.dim = c->dim;
    }
    if (!c->item_bits || (c->item_bits < 8 && c->is_list)) {
        c->bad = PA_ERR_UNSUPPORTED;
        char msg[320];
        snprintf(msg, sizeof msg,
                 "%s: column %zu (\"%s\") has type \"%s\", which partifact does not read "
                 "(fixed-width numbers and fixed-size lists of them)",
                 r->name, ci, c->field.name, t);
        c->why = pa_strdup(msg, "column message");
        return c->why ? PA_OK : PA_ERR_NOMEM;
    }
    c->row_bytes = (size_t)c->dim * (c->item_bits / 8);
    return PA_OK;
}

/* True if a schema field has its own column in a file of this version: leaves always; structs
 * and lists in 2.0 only (2.1 folds them into their leaves' rep/def levels); the items of a
 * fixed-size list never (the list is one column). */
static bool field_has_column(const pa_lance_reader *r, Pa__Lancepb__Field *const *pb, size_t n,
                             size_t i)
{
    const Pa__Lancepb__Field *f = pb[i];
    for (size_t j = 0; j < i && f->parent_id != -1; j++)
        if (pb[j]->id == f->parent_id && pb[j]->logical_type &&
            !strncmp(pb[j]->logical_type, "fixed_size_list:", 16))
            return false;
    const char *t = f->logical_type ? f->logical_type : "";
    bool container = !strcmp(t, "struct") || !strcmp(t, "list") || !strcmp(t, "large_list") ||
                     !strncmp(t, "list.", 5) || !strncmp(t, "large_list.", 11);
    (void)n;
    return !container || r->major == LANCE_V20_MAJOR;
}

/* Parses the schema (global buffer 0: a FileDescriptor) into the columns (one per field that
 * has a column, see field_has_column), metadata and row count. Fields of any type are taken;
 * nested leaves are named by their dotted path ("st.a"). */
static pa_status parse_schema(pa_lance_reader *r, const uint8_t *buf, size_t len, uint32_t ncols)
{
    Pa__Lancepb__FileDescriptor *fd = pa__lancepb__file_descriptor__unpack(NULL, len, buf);
    char **paths = NULL;
    pa_status st = PA_OK;
    if (!fd || !fd->schema) {
        st = pa_fail(PA_ERR_FORMAT,
                     "%s: global buffer 0 (the schema, %zu bytes) does not "
                     "parse as a Lance file descriptor",
                     r->name, len);
        goto done;
    }
    r->num_rows = fd->length;
    size_t nf = fd->schema->n_fields, m = 0;
    Pa__Lancepb__Field *const *pb = fd->schema->fields;
    for (size_t i = 0; i < nf; i++)
        m += field_has_column(r, pb, nf, i);
    if (m != ncols) {
        st = pa_fail(PA_ERR_FORMAT,
                     "%s: the schema's %zu fields have %zu columns but the footer "
                     "says %u",
                     r->name, nf, m, ncols);
        goto done;
    }
    r->cols = pa_calloc(m ? m : 1, sizeof *r->cols, "columns");
    paths = pa_calloc(nf ? nf : 1, sizeof *paths, "field names");
    if (!r->cols || !paths) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < nf && st == PA_OK; i++) {
        const Pa__Lancepb__Field *f = pb[i];
        const char *name = f->name ? f->name : "";
        const char *parent = NULL;
        const Pa__Lancepb__Field *pf = NULL;
        for (size_t j = 0; j < i && f->parent_id != -1; j++)
            if (pb[j]->id == f->parent_id)
                parent = paths[j], pf = pb[j];
        size_t plen = parent ? strlen(parent) + 1 : 0;
        paths[i] = pa_malloc(plen + strlen(name) + 1, "field name");
        if (!paths[i]) {
            st = PA_ERR_NOMEM;
            break;
        }
        snprintf(paths[i], plen + strlen(name) + 1, "%s%s%s", parent ? parent : "",
                 parent ? "." : "", name);
        if (!field_has_column(r, pb, nf, i))
            continue;
        col_info *c = &r->cols[r->num_cols++];
        c->field.name = pa_strdup(paths[i], "field name");
        c->logical = pa_strdup(f->logical_type ? f->logical_type : "", "field type");
        if (!c->field.name || !c->logical)
            st = PA_ERR_NOMEM;
        else
            st = describe_column(r, r->num_cols - 1, c);
        /* 2.0: every column under a list (its own column of offsets) holds the items */
        for (size_t j = i; r->major == LANCE_V20_MAJOR && j > 0 && !c->in_list20;) {
            const Pa__Lancepb__Field *fj = pb[j];
            size_t k = 0;
            while (k < i && !(pb[k]->id == fj->parent_id && fj->parent_id != -1))
                k++;
            if (k == i)
                break;
            const char *t = pb[k]->logical_type ? pb[k]->logical_type : "";
            c->in_list20 = !strcmp(t, "list") || !strncmp(t, "list.", 5) ||
                           !strcmp(t, "large_list") || !strncmp(t, "large_list.", 11);
            j = k;
        }
        c->nullable = f->nullable;
        /* the item of a top-level list (2.1+: one column, its rep levels in the pages) */
        if (st == PA_OK && pf && pf->parent_id == -1 && pf->logical_type &&
            !strcmp(pf->logical_type, "list") && r->major != LANCE_V20_MAJOR) {
            c->list_col = true;
            c->nullable = pf->nullable;
            if (c->field.type == PA_TYPE_FLOAT32)
                c->field.type = PA_TYPE_LIST_FLOAT32;
            else if (c->field.type == PA_TYPE_FSL_FLOAT32)
                c->field.type = PA_TYPE_LIST_FSL_FLOAT32;
            else
                c->field.type = PA_TYPE_OTHER;
        }
    }
    for (size_t i = 0; st == PA_OK && i < fd->schema->n_metadata; i++) {
        if (!r->meta &&
            !(r->meta = pa_calloc(fd->schema->n_metadata, sizeof *r->meta, "schema metadata"))) {
            st = PA_ERR_NOMEM;
            break;
        }
        const Pa__Lancepb__BytesEntry *e = fd->schema->metadata[i];
        pa_lance_meta *me = &r->meta[r->num_meta];
        me->key = pa_strdup(e->key ? e->key : "", "metadata key");
        me->value = pa_malloc(e->value.len, "metadata value");
        if (!me->key || !me->value) {
            free(me->key);
            free(me->value);
            st = PA_ERR_NOMEM;
            break;
        }
        if (e->value.len)
            memcpy(me->value, e->value.data, e->value.len);
        me->len = e->value.len;
        r->num_meta++;
    }
done:
    for (size_t i = 0; paths && i < fd->schema->n_fields; i++)
        free(paths[i]);
    free(paths);
    if (fd)
        pa__lancepb__file_descriptor__free_unpacked(fd, NULL);
    return st;
}

/* Records why column ci cannot be read (the message of the failure st just set), so that
 * opening succeeds and only reading that column fails: for what partifact does not decode
 * (PA_ERR_UNSUPPORTED). A damaged file (offsets, sizes, counts that contradict each other)
 * still fails the open, so no count it claims sizes anything. */
static pa_status mark_bad(col_info *c, pa_status st)
{
    if (st != PA_ERR_UNSUPPORTED)
        return st;
    c->bad = st;
    c->why = pa_strdup(pa_last_error(), "column message");
    return c->why ? PA_OK : PA_ERR_NOMEM;
}

/* Parses the column metadata of every readable column. A column whose metadata or pages
 * partifact cannot decode is marked (mark_bad) rather than failing the file. */
static pa_status parse_columns(pa_lance_reader *r, const uint8_t *region, uint64_t region_off,
                               const uint64_t *cmo, uint64_t cms)
{
    for (size_t ci = 0; ci < r->num_cols; ci++) {
        col_info *c = &r->cols[ci];
        if (c->bad != PA_OK)
            continue;
        uint64_t off = cmo[2 * ci], len = cmo[2 * ci + 1];
        char what[64];
        snprintf(what, sizeof what, "metadata of column %zu", ci);
        pa_status st = check_range(r, off, len, region_off, r->file_size - PA_LANCE_FOOTER_BYTES,
                                   what);
        if (st != PA_OK)
            return st;
        Pa__Lancepb__ColumnMetadata *cm =
            pa__lancepb__column_metadata__unpack(NULL, (size_t)len, region + (off - region_off));
        if (!cm) {
            st = pa_fail(PA_ERR_FORMAT,
                         "%s: metadata of column %zu (%llu bytes at byte offset %llu) does not "
                         "parse as protobuf",
                         r->name, ci, (unsigned long long)len, (unsigned long long)off);
            if ((st = mark_bad(c, st)) != PA_OK)
                return st;
            continue;
        }
        c->pages = pa_calloc(cm->n_pages ? cm->n_pages : 1, sizeof *c->pages, "page table");
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
                st = pa_fail(PA_ERR_FORMAT,
                             "%s: column %zu (\"%s\"): page %zu's %llu rows "
                             "overflow the row count",
                             r->name, ci, c->field.name, pi, (unsigned long long)p->num_rows);
            /* flat values take their bytes: a page cannot claim more rows than its data
             * holds, so no count read here sizes a buffer beyond the file (bitpacked pages
             * are checked against their chunk table when read) */
            else if (st == PA_OK && p->enc == ENC_FLAT &&
                     (__builtin_mul_overflow(p->num_rows, (uint64_t)c->row_bytes, &flat_bytes) ||
                      flat_bytes > p->data_size))
                st = pa_fail(PA_ERR_FORMAT,
                             "%s: page %zu of column %zu (\"%s\") claims %llu "
                             "rows of %zu bytes in %llu bytes of data",
                             r->name, pi, ci, c->field.name, (unsigned long long)p->num_rows,
                             c->row_bytes, (unsigned long long)p->data_size);
        }
        pa__lancepb__column_metadata__free_unpacked(cm, NULL);
        c->num_values = row;
        if (st == PA_OK && row != r->num_rows && !c->in_list20)
            st = pa_fail(PA_ERR_FORMAT,
                         "%s: column %zu (\"%s\") has %llu rows in its pages, the file has %llu",
                         r->name, ci, c->field.name, (unsigned long long)row,
                         (unsigned long long)r->num_rows);
        if (st != PA_OK && (st = mark_bad(c, st)) != PA_OK)
            return st;
    }
    return PA_OK;
}

/* Opens the file and reads its metadata (see the file comment). */
pa_status pa_lance_reader_open(pa_lance_reader **out, const char *path)
{
    *out = NULL;
    pa_status st = PA_OK;
    uint8_t *region = NULL;
    uint64_t *cmo = NULL;
    pa_lance_reader *r = pa_calloc(1, sizeof *r, "lance reader");
    if (!r) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    r->fd = -1;
    pthread_mutex_init(&r->lock, NULL);
    if (!(r->path = pa_strdup(path, "path"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    r->name = r->path;
    if ((st = pa_open_input(path, &r->fd, &r->file_size)) != PA_OK)
        goto done;
    if (r->file_size < PA_LANCE_FOOTER_BYTES) {
        st = pa_fail(PA_ERR_FORMAT,
                     "%s: file is %llu bytes, smaller than the 40-byte Lance footer "
                     "(truncated or not a Lance file)",
                     path, (unsigned long long)r->file_size);
        goto done;
    }
    uint8_t footer[PA_LANCE_FOOTER_BYTES];
    uint64_t footer_off = r->file_size - PA_LANCE_FOOTER_BYTES;
    if ((st = rd(r, footer, sizeof footer, footer_off)) != PA_OK)
        goto done;
    if (memcmp(footer + 36, PA_LANCE_MAGIC, 4) != 0) {
        st = pa_fail(PA_ERR_FORMAT,
                     "%s: no \"LANC\" magic in the last 4 bytes (byte offset %llu): not a Lance "
                     "file, or truncated",
                     path, (unsigned long long)(r->file_size - 4));
        goto done;
    }
    uint64_t cms = pa_ld64(footer), cmo_start = pa_ld64(footer + 8),
             gbo_start = pa_ld64(footer + 16);
    uint32_t ngb = pa_ld32(footer + 24), ncols = pa_ld32(footer + 28);
    uint16_t major = pa_ld16(footer + 32), minor = pa_ld16(footer + 34);
    if (!(major == LANCE_V20_MAJOR && minor == LANCE_V20_MINOR) &&
        !(major == PA_LANCE_MAJOR && (minor == 1 || minor == 2))) {
        st = pa_fail(PA_ERR_UNSUPPORTED,
                     "%s: Lance file format version %u.%u; partifact reads versions 2.0 (written "
                     "as 0.3), 2.1 and 2.2",
                     path, major, minor);
        goto done;
    }
    r->major = major;
    r->minor = minor;
    if (cms > cmo_start || cmo_start > gbo_start || gbo_start > footer_off ||
        (uint64_t)ncols * 16 > gbo_start - cmo_start ||
        (uint64_t)ngb * 16 > footer_off - gbo_start || ngb == 0) {
        st = pa_fail(PA_ERR_FORMAT,
                     "%s: footer offsets are inconsistent (column metadata at %llu, column "
                     "offset table at %llu for %u columns, global buffer table at %llu for %u "
                     "buffers, footer at %llu)",
                     path, (unsigned long long)cms, (unsigned long long)cmo_start, ncols,
                     (unsigned long long)gbo_start, ngb, (unsigned long long)footer_off);
        goto done;
    }
    /* One read for the column metadata and both offset tables. */
    uint64_t region_len = footer_off - cms;
    region = pa_malloc((size_t)region_len, "file metadata");
    if (!region) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    if ((st = rd(r, region, (size_t)region_len, cms)) != PA_OK)
        goto done;
    const uint8_t *cmo_bytes = region + (cmo_start - cms);
    const uint8_t *gbo_bytes = region + (gbo_start - cms);
    r->num_gbufs = ngb;
    r->gbuf_off = pa_calloc(ngb, sizeof *r->gbuf_off, "global buffer table");
    r->gbuf_size = pa_calloc(ngb, sizeof *r->gbuf_size, "global buffer table");
    cmo = pa_calloc((size_t)ncols * 2 + 1, sizeof *cmo, "column table");
    if (!r->gbuf_off || !r->gbuf_size || !cmo) {
        st = PA_ERR_NOMEM;
        goto done;
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
            st = parse_schema(r, schema, (size_t)r->gbuf_size[0], ncols);
        free(schema);
    }
    if (st == PA_OK)
        st = parse_columns(r, region, cms, cmo, cms);
done:
    free(cmo);
    free(region);
    if (st == PA_OK)
        *out = r;
    else
        pa_lance_reader_free(r);
    return st;
}

/* Loads and validates a mini-block page's chunk table (2 bytes per chunk; 4 in 2.2 pages with
 * large chunks) once. */
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
    uint8_t *raw = NULL;
    t = atomic_load(&p->chunks);
    if (t)
        goto done;
    unsigned wb = p->large_chunk ? 4 : 2;
    if (p->meta_size % wb != 0 || p->meta_size == 0) {
        st = pa_fail(PA_ERR_FORMAT,
                     "%s: page %zu of column %zu: chunk table of %llu bytes (expected %u bytes "
                     "per chunk)",
                     r->name, pi, ci, (unsigned long long)p->meta_size, wb);
        goto done;
    }
    size_t n = (size_t)(p->meta_size / wb);
    raw = pa_malloc((size_t)p->meta_size, "chunk table");
    t = pa_calloc(1, sizeof *t, "chunk table");
    if (t) {
        t->first_value = pa_calloc(n + 1, sizeof *t->first_value, "chunk table");
        t->byte_off = pa_calloc(n + 1, sizeof *t->byte_off, "chunk table");
    }
    if (!raw || !t || !t->first_value || !t->byte_off) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    if ((st = rd(r, raw, (size_t)p->meta_size, p->meta_off)) != PA_OK)
        goto done;
    t->n = n;
    uint64_t values = 0, bytes = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t word = wb == 4 ? pa_ld32(raw + 4 * k) : pa_ld16(raw + 2 * k);
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
                goto done;
            }
        } else {
            nv = p->num_items - PA_MIN(values, p->num_items);
        }
        if (nv > MINIBLOCK_MAX_CHUNK_VALUES) {
            st = pa_fail(PA_ERR_FORMAT,
                         "%s: page %zu of column %zu: chunk %zu of %zu would hold %llu values "
                         "(a mini-block chunk holds at most %d)",
                         r->name, pi, ci, k, n, (unsigned long long)nv, MINIBLOCK_MAX_CHUNK_VALUES);
            goto done;
        }
        t->first_value[k] = values;
        t->byte_off[k] = bytes;
        values += nv;
        bytes += chunk_bytes;
    }
    t->first_value[n] = values;
    t->byte_off[n] = bytes;
    if (values != p->num_items || bytes > p->data_size) {
        st = pa_fail(PA_ERR_FORMAT,
                     "%s: page %zu of column %zu: chunk table describes %llu values in %llu "
                     "bytes, the page has %llu %s in %llu bytes",
                     r->name, pi, ci, (unsigned long long)values, (unsigned long long)bytes,
                     (unsigned long long)p->num_items, p->rep ? "items" : "rows",
                     (unsigned long long)p->data_size);
        goto done;
    }
    atomic_store(&p->chunks, t);
done:
    if (st != PA_OK && t) {
        free(t->first_value);
        free(t->byte_off);
        free(t);
        t = NULL;
    }
    free(raw);
    pthread_mutex_unlock(&r->lock);
    *out = t;
    return st;
}

/* The failure for a null row met by a read that has no validity output. */
static pa_status null_row(const pa_lance_reader *r, size_t ci, uint64_t row)
{
    return pa_fail(PA_ERR_UNSUPPORTED,
                   "%s: row %llu of column %zu (\"%s\") is null; this read needs a value in "
                   "every row",
                   r->name, (unsigned long long)row, ci, r->cols[ci].field.name);
}

/* The refusal of a chunk whose definition levels are shorter than its values need. */
static pa_status def_too_few(const pa_lance_reader *r, size_t ci, size_t pi, size_t k,
                             uint64_t def_size, uint64_t nv)
{
    return pa_fail(PA_ERR_FORMAT,
                   "%s: chunk %zu of page %zu of column %zu: %llu bytes of null flags "
                   "(definition levels) for %llu values are too few",
                   r->name, k, pi, ci, (unsigned long long)def_size, (unsigned long long)nv);
}

/* Decodes the definition levels [from, to) of a mini-block chunk (nv levels in def, def_size
 * bytes) into valid (1: a value, 0: null). */
static pa_status decode_def(pa_lance_reader *r, size_t ci, size_t pi, size_t k, const uint8_t *def,
                            uint64_t def_size, uint64_t nv, uint64_t from, uint64_t to,
                            uint8_t *valid)
{
    const page_info *p = &r->cols[ci].pages[pi];
    if (p->def_raw) {
        if (def_size < 2 * nv)
            return def_too_few(r, ci, pi, k, def_size, nv);
        for (uint64_t i = from; i < to; i++)
            valid[i - from] = pa_ld16(def + 2 * i) == 0;
        return PA_OK;
    }
    uint16_t lv[FASTLANES_BLOCK];
    if (p->def_rle) {
        /* u64 size of the run values, the u16 values, then one u8 length per run */
        uint64_t vb = def_size >= 8 ? pa_ld64(def) : UINT64_MAX;
        if (vb % 2 || vb > def_size - 8 || vb / 2 > def_size - 8 - vb)
            return def_too_few(r, ci, pi, k, def_size, nv);
        uint64_t runs = vb / 2, at = 0;
        const uint8_t *len = def + 8 + vb;
        for (uint64_t k2 = 0; k2 < runs && at < to; k2++) {
            bool ok = pa_ld16(def + 8 + 2 * k2) == 0;
            for (uint64_t i = PA_MAX(at, from); i < PA_MIN(at + len[k2], to); i++)
                valid[i - from] = ok;
            at += len[k2];
        }
        if (at < to)
            return def_too_few(r, ci, pi, k, def_size, nv);
        return PA_OK;
    }
    if (p->def_inline) {
        uint64_t off = 0;
        for (uint64_t b = 0; b * FASTLANES_BLOCK < nv && b * FASTLANES_BLOCK < to; b++) {
            unsigned w = off + 2 <= def_size ? pa_ld16(def + off) : 17;
            uint64_t bb = (uint64_t)FASTLANES_BLOCK * PA_MIN(w, 16u) / 8;
            if (w > 16 || off + 2 + bb > def_size)
                return def_too_few(r, ci, pi, k, def_size, nv);
            if ((b + 1) * FASTLANES_BLOCK > from) {
                pa_fastlanes_unpack(16, w, def + off + 2, lv);
                uint64_t lo = PA_MAX(from, b * FASTLANES_BLOCK);
                uint64_t hi = PA_MIN(to, (b + 1) * FASTLANES_BLOCK);
                for (uint64_t i = lo; i < hi; i++)
                    valid[i - from] = lv[i - b * FASTLANES_BLOCK] == 0;
            }
            off += 2 + bb;
        }
        return PA_OK;
    }
    /* out-of-line: whole blocks packed; a short last block packed in a whole block, or raw
     * u16 when that is smaller (told apart by the buffer's length) */
    uint64_t block_bytes = FASTLANES_BLOCK * p->def_width / 8;
    uint64_t whole = nv / FASTLANES_BLOCK, tail = nv % FASTLANES_BLOCK;
    bool raw_tail = tail && def_size == whole * block_bytes + 2 * tail;
    if (!raw_tail && def_size < (whole + (tail != 0)) * block_bytes)
        return def_too_few(r, ci, pi, k, def_size, nv);
    for (uint64_t b = from / FASTLANES_BLOCK; b * FASTLANES_BLOCK < to; b++) {
        const uint8_t *blk = def + b * block_bytes;
        uint64_t lo = PA_MAX(from, b * FASTLANES_BLOCK), hi = PA_MIN(to, (b + 1) * FASTLANES_BLOCK);
        if (b == whole && raw_tail) {
            for (uint64_t i = lo; i < hi; i++)
                valid[i - from] = pa_ld16(blk + 2 * (i - b * FASTLANES_BLOCK)) == 0;
            continue;
        }
        pa_fastlanes_unpack(16, p->def_width, blk, lv);
        for (uint64_t i = lo; i < hi; i++)
            valid[i - from] = lv[i - b * FASTLANES_BLOCK] == 0;
    }
    return PA_OK;
}

static pa_status decode_values(pa_lance_reader *r, size_t ci, size_t pi, size_t k,
                               const uint8_t *vals, uint64_t size, const uint8_t *lens,
                               uint64_t size2, uint64_t nv, uint64_t from, uint64_t to,
                               uint8_t *out, const uint8_t *valid);

/* Decompresses a General buffer: lz4 (scheme 1: u32 size, then an LZ4 block) or zstd (scheme
 * 2: u64 size, then a zstd frame; or a bare frame) into a fresh buffer of at most cap bytes. */
static pa_status decompress_general(pa_lance_reader *r, size_t ci, size_t pi, size_t k, int scheme,
                                    const uint8_t *src, uint64_t n, uint64_t cap, uint8_t **out,
                                    uint64_t *out_n)
{
    bool zstd = scheme == 2;
    unsigned pre = zstd ? (n >= 4 && pa_ld32(src) == ZSTD_MAGICNUMBER ? 0 : 8) : 4;
    uint64_t want = n < pre ? UINT64_MAX : pre == 8 ? pa_ld64(src) : pre == 4 ? pa_ld32(src) : 0;
    if (zstd && pre == 0) {
        unsigned long long fs = ZSTD_getFrameContentSize(src, (size_t)n);
        want = fs == ZSTD_CONTENTSIZE_UNKNOWN || fs == ZSTD_CONTENTSIZE_ERROR ? UINT64_MAX : fs;
    }
    if (want > cap || n > INT32_MAX)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: chunk %zu of page %zu of column %zu: %s buffer of %llu bytes claims "
                       "%llu bytes of values, more than the chunk's %llu",
                       r->name, k, pi, ci, zstd ? "zstd" : "lz4", (unsigned long long)n,
                       (unsigned long long)want, (unsigned long long)cap);
    uint8_t *dst = pa_malloc((size_t)want + 1, "decompressed chunk");
    if (!dst)
        return PA_ERR_NOMEM;
    bool ok;
    if (zstd) {
        size_t got = ZSTD_decompress(dst, (size_t)want, src + pre, (size_t)(n - pre));
        ok = !ZSTD_isError(got) && got == want;
    } else {
        int got = LZ4_decompress_safe((const char *)src + pre, (char *)dst, (int)(n - pre),
                                      (int)want);
        ok = got >= 0 && (uint64_t)got == want;
    }
    if (!ok) {
        free(dst);
        return pa_fail(PA_ERR_FORMAT,
                       "%s: chunk %zu of page %zu of column %zu: the %s buffer of %llu bytes does "
                       "not decompress to its %llu bytes",
                       r->name, k, pi, ci, zstd ? "zstd" : "lz4", (unsigned long long)n,
                       (unsigned long long)want);
    }
    *out = dst;
    *out_n = want;
    return PA_OK;
}

/* Decodes values [from, to) of one mini-block chunk (holding nv values) into out, and their
 * null flags into valid (NULL: a null is an error; first_row names it). Chunk header: u16
 * number of levels, u16 size of the def levels (when the page has them), then the size of
 * the value buffer (u16; u32 with large chunks), padded to 8 bytes; then each buffer padded
 * to 8 bytes. */
static pa_status decode_chunk(pa_lance_reader *r, size_t ci, size_t pi, size_t k,
                              const uint8_t *chunk, uint64_t chunk_bytes, uint64_t nv,
                              uint64_t from, uint64_t to, uint8_t *out, uint8_t *valid,
                              uint64_t first_row)
{
    const col_info *c = &r->cols[ci];
    const page_info *p = &c->pages[pi];
    bool has_def = p->def_width || p->def_raw || p->def_inline || p->def_rle;
    unsigned nb = p->enc == ENC_RLE ? 2 : 1, sw = p->large_chunk ? 4 : 2;
    uint64_t hdr = 2 + (has_def ? 2 : 0) + (uint64_t)nb * sw;
    hdr = (hdr + MINIBLOCK_ALIGN - 1) / MINIBLOCK_ALIGN * MINIBLOCK_ALIGN;
    uint64_t levels = chunk_bytes >= 2 ? pa_ld16(chunk) : 0;
    if (chunk_bytes < hdr || levels != (has_def ? nv : 0))
        return pa_fail(PA_ERR_FORMAT,
                       "%s: chunk %zu of page %zu of column %zu: header says %llu rep/def levels, "
                       "expected %llu",
                       r->name, k, pi, ci, (unsigned long long)levels,
                       (unsigned long long)(has_def ? nv : 0));
    uint64_t def_size = has_def ? pa_ld16(chunk + 2) : 0;
    const uint8_t *szp = chunk + 2 + (has_def ? 2 : 0);
    uint64_t size = sw == 4 ? pa_ld32(szp) : pa_ld16(szp);
    uint64_t size2 = nb == 2 ? (sw == 4 ? pa_ld32(szp + 4) : pa_ld16(szp + 2)) : 0;
    uint64_t def_pad = (def_size + MINIBLOCK_ALIGN - 1) / MINIBLOCK_ALIGN * MINIBLOCK_ALIGN;
    uint64_t size_pad = (size + MINIBLOCK_ALIGN - 1) / MINIBLOCK_ALIGN * MINIBLOCK_ALIGN;
    if (hdr + def_pad + (nb == 2 ? size_pad + size2 : size) > chunk_bytes) {
        char defs[64] = "";
        if (has_def)
            snprintf(defs, sizeof defs, "null flags of %llu bytes and ",
                     (unsigned long long)def_size);
        return pa_fail(PA_ERR_FORMAT,
                       "%s: chunk %zu of page %zu of column %zu: %svalue buffer of %llu bytes "
                       "does not fit in the %llu-byte chunk",
                       r->name, k, pi, ci, defs, (unsigned long long)size,
                       (unsigned long long)chunk_bytes);
    }
    const uint8_t *def = chunk + hdr, *vals = chunk + hdr + def_pad;
    uint8_t ones[256];
    pa_status st;
    if (has_def) {
        /* null flags first, in pieces when there is no caller buffer for them */
        for (uint64_t a = from; a < to; a += sizeof ones) {
            uint64_t b = PA_MIN(to, a + sizeof ones);
            uint8_t *v = valid ? valid + (a - from) : ones;
            if ((st = decode_def(r, ci, pi, k, def, def_size, nv, a, b, v)) != PA_OK)
                return st;
            for (uint64_t i = a; !valid && i < b; i++)
                if (!v[i - a])
                    return null_row(r, ci, first_row + (i - from));
        }
    } else if (valid) {
        memset(valid, 1, (size_t)(to - from));
    }
    const uint8_t *lens = vals + size_pad; /* RLE run lengths: the second buffer */
    uint8_t *dec = NULL;
    if (p->general) {
        /* General: the first value buffer is lz4 or zstd compressed; it decompresses to at most
         * the chunk's values (a bit-packed chunk: its width word and 1024 values) */
        uint64_t cap = nv * c->row_bytes + 8 + FASTLANES_BLOCK * 8;
        if ((st = decompress_general(r, ci, pi, k, p->general, vals, size, cap, &dec, &size)) !=
            PA_OK)
            return st;
        vals = dec;
    }
    st = decode_values(r, ci, pi, k, vals, size, lens, size2, nv, from, to, out, valid);
    free(dec);
    return st;
}

/* Decodes values [from, to) of a chunk's value buffer (size bytes; for RLE the run lengths in
 * lens, size2 of them) into out, zeroing null rows (valid). */
static pa_status decode_values(pa_lance_reader *r, size_t ci, size_t pi, size_t k,
                               const uint8_t *vals, uint64_t size, const uint8_t *lens,
                               uint64_t size2, uint64_t nv, uint64_t from, uint64_t to,
                               uint8_t *out, const uint8_t *valid)
{
    const col_info *c = &r->cols[ci];
    const page_info *p = &c->pages[pi];
    if (p->enc == ENC_RLE) {
        /* run values (size bytes), then one u8 length per run (size2 bytes) */
        uint64_t vb = c->row_bytes, runs = size / vb, at = 0;
        if (size % vb || size2 < runs)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: chunk %zu of page %zu of column %zu: %llu bytes of run values and "
                           "%llu run lengths do not match",
                           r->name, k, pi, ci, (unsigned long long)size, (unsigned long long)size2);
        for (uint64_t q = 0; q < runs && at < to; q++) {
            for (uint64_t i = PA_MAX(at, from); i < PA_MIN(at + lens[q], to); i++)
                memcpy(out + (i - from) * vb, vals + q * vb, (size_t)vb);
            at += lens[q];
        }
        if (at < to)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: chunk %zu of page %zu of column %zu: runs cover %llu of its %llu "
                           "values",
                           r->name, k, pi, ci, (unsigned long long)at, (unsigned long long)nv);
    } else if (p->enc == ENC_BSS) {
        uint64_t vb = c->row_bytes;
        if (size < nv * vb)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: chunk %zu of page %zu of column %zu: %llu bytes of split streams "
                           "for %llu values of %llu bytes",
                           r->name, k, pi, ci, (unsigned long long)size, (unsigned long long)nv,
                           (unsigned long long)vb);
        for (uint64_t i = from; i < to; i++)
            for (uint64_t q = 0; q < vb; q++)
                out[(i - from) * vb + q] = vals[q * nv + i];
    } else if (p->enc == ENC_FLAT) {
        if (size < nv * c->row_bytes)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: chunk %zu of page %zu of column %zu: %llu bytes for %llu values "
                           "of %zu bytes",
                           r->name, k, pi, ci, (unsigned long long)size, (unsigned long long)nv,
                           c->row_bytes);
        memcpy(out, vals + from * c->row_bytes, (size_t)((to - from) * c->row_bytes));
    } else {
        /* InlineBitpacking: one T-bit word with the bit width, then 1024 values packed. */
        unsigned t = c->item_bits, tb = t / 8;
        uint64_t width = size < tb ? UINT64_MAX
                         : t == 64 ? pa_ld64(vals)
                         : t == 32 ? pa_ld32(vals)
                         : t == 16 ? pa_ld16(vals)
                                   : vals[0];
        if (nv > FASTLANES_BLOCK || width > t || size < tb + FASTLANES_BLOCK * width / 8)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: chunk %zu of page %zu of column %zu: bit-packed chunk of %llu "
                           "bytes with bit width %llu for %llu %u-bit values is malformed",
                           r->name, k, pi, ci, (unsigned long long)size, (unsigned long long)width,
                           (unsigned long long)nv, t);
        uint64_t tmp[FASTLANES_BLOCK];
        pa_fastlanes_unpack(t, (unsigned)width, vals + tb, tmp);
        memcpy(out, (uint8_t *)tmp + from * tb, (size_t)((to - from) * tb));
    }
    for (uint64_t i = 0; valid && i < to - from; i++) /* null rows read as zeros */
        if (!valid[i])
            memset(out + i * c->row_bytes, 0, c->row_bytes);
    return PA_OK;
}

/* Reads rows [s, e) of a mini-block page: the covering chunks in one read, then decodes. */
static pa_status read_miniblock(pa_lance_reader *r, size_t ci, size_t pi, uint64_t s, uint64_t e,
                                uint8_t *out, uint8_t *valid)
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
    uint8_t *buf = NULL;
    size_t k = k0;
    while (k < k1 && st == PA_OK) {
        size_t kend = k + 1;
        while (kend < k1 && t->byte_off[kend + 1] - t->byte_off[k] <= READ_PIECE_BYTES)
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
                              out + (first + from - s) * c->row_bytes,
                              valid ? valid + (first + from - s) : NULL,
                              p->first_row + first + from);
        }
        k = kend;
    }
    free(buf);
    return st;
}

/* Reads rows [s, e) of a full-zip page whose rows carry a control word: pieces of whole rows,
 * the def bits of each control word telling null rows. */
static pa_status read_fullzip_ctrl(pa_lance_reader *r, size_t ci, const page_info *p, uint64_t s,
                                   uint64_t e, uint8_t *out, uint8_t *valid)
{
    const col_info *c = &r->cols[ci];
    uint64_t stride = c->row_bytes + p->ctrl_bytes;
    uint64_t per = PA_MAX((uint64_t)1, READ_PIECE_BYTES / stride);
    uint8_t *buf = pa_malloc((size_t)(PA_MIN(per, e - s) * stride), "row read buffer");
    if (!buf)
        return PA_ERR_NOMEM;
    pa_status st = PA_OK;
    uint32_t mask = (uint32_t)((1u << p->def_bits) - 1);
    for (uint64_t a = s; a < e && st == PA_OK; a += per) {
        uint64_t b = PA_MIN(e, a + per);
        if ((st = rd(r, buf, (size_t)((b - a) * stride), p->data_off + a * stride)) != PA_OK)
            break;
        for (uint64_t i = a; i < b; i++) {
            const uint8_t *row = buf + (i - a) * stride;
            uint32_t ctrl = 0;
            for (unsigned q = 0; q < p->ctrl_bytes; q++)
                ctrl |= (uint32_t)row[q] << (8 * q);
            bool ok = (ctrl & mask) == 0;
            uint8_t *dst = out + (i - s) * c->row_bytes;
            if (!ok && !valid) {
                st = null_row(r, ci, p->first_row + i);
                break;
            }
            if (valid)
                valid[i - s] = ok;
            if (ok)
                memcpy(dst, row + p->ctrl_bytes, c->row_bytes);
            else
                memset(dst, 0, c->row_bytes);
        }
    }
    free(buf);
    return st;
}

/* Reads rows [s, e) of a 2.0 page: the values, and the validity bits of those rows (Arrow
 * order: bit i of byte i/8, 1 = a value). */
static pa_status read_flat20(pa_lance_reader *r, size_t ci, const page_info *p, uint64_t s,
                             uint64_t e, uint8_t *out, uint8_t *valid)
{
    const col_info *c = &r->cols[ci];
    pa_status st = rd(r, out, (size_t)((e - s) * c->row_bytes), p->data_off + s * c->row_bytes);
    if (st != PA_OK || !p->meta_size) {
        if (st == PA_OK && valid)
            memset(valid, 1, (size_t)(e - s));
        return st;
    }
    uint64_t b0 = s / 8, b1 = (e + 7) / 8;
    uint8_t *bits = pa_malloc((size_t)(b1 - b0), "validity bitmap");
    if (!bits)
        return PA_ERR_NOMEM;
    if ((st = rd(r, bits, (size_t)(b1 - b0), p->meta_off + b0)) == PA_OK) {
        for (uint64_t i = s; i < e; i++) {
            bool ok = (bits[i / 8 - b0] >> (i % 8)) & 1;
            if (!ok && !valid) {
                st = null_row(r, ci, p->first_row + i);
                break;
            }
            if (valid)
                valid[i - s] = ok;
            if (!ok)
                memset(out + (i - s) * c->row_bytes, 0, c->row_bytes);
        }
    }
    free(bits);
    return st;
}

/* PA_OK if column col exists and can be read, else why not. */
static pa_status readable_column(const pa_lance_reader *r, size_t col)
{
    if (col >= r->num_cols)
        return pa_fail(PA_ERR_RANGE, "%s: column %zu does not exist (the file has %zu)", r->name,
                       col, r->num_cols);
    if (r->cols[col].bad != PA_OK)
        return pa_fail(r->cols[col].bad, "%s", r->cols[col].why);
    return PA_OK;
}

/* Reads rows [offset, offset+n) of column col, with null flags into valid (may be NULL). */
static pa_status read_rows(pa_lance_reader *r, size_t col, uint64_t offset, uint64_t num_rows,
                           void *out, uint8_t *valid)
{
    pa_status cst = readable_column(r, col);
    if (cst != PA_OK)
        return cst;
    const col_info *c = &r->cols[col];
    if (c->list_col)
        return pa_fail(PA_ERR_INVALID,
                       "%s: column %zu (\"%s\") is a list column; read it with "
                       "pa_lance_reader_read_list",
                       r->name, col, c->field.name);
    if (offset > c->num_values || num_rows > c->num_values - offset)
        return pa_fail(PA_ERR_RANGE,
                       "%s: rows [%llu, %llu) are out of range: the %s has %llu "
                       "rows",
                       r->name, (unsigned long long)offset, (unsigned long long)(offset + num_rows),
                       c->in_list20 ? "column (items of lists)" : "file",
                       (unsigned long long)c->num_values);
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
        uint8_t *v = valid ? valid + (row - offset) : NULL;
        pa_status st = PA_OK;
        switch (p->kind) {
        case PK_FULLZIP:
            if (p->ctrl_bytes)
                st = read_fullzip_ctrl(r, col, p, s, e, dst, v);
            else if ((st = rd(r, dst, (size_t)((e - s) * c->row_bytes),
                              p->data_off + s * c->row_bytes)) == PA_OK &&
                     v)
                memset(v, 1, (size_t)(e - s));
            break;
        case PK_MINIBLOCK: st = read_miniblock(r, col, pi, s, e, dst, v); break;
        case PK_FLAT20: st = read_flat20(r, col, p, s, e, dst, v); break;
        case PK_CONST:
            for (uint64_t i = 0; i < e - s; i++)
                memcpy(dst + i * c->row_bytes, p->constant, c->row_bytes);
            if (v)
                memset(v, 1, (size_t)(e - s));
            break;
        case PK_ALLNULL:
            if (!v)
                return null_row(r, col, p->first_row + s);
            memset(v, 0, (size_t)(e - s));
            memset(dst, 0, (size_t)((e - s) * c->row_bytes));
            break;
        }
        if (st != PA_OK)
            return st;
        dst += (e - s) * c->row_bytes;
        row = p->first_row + e;
    }
    return PA_OK;
}

/* The items a list read has gathered: n of item_bytes each, room for cap. */
typedef struct list_out {
    uint8_t *items;
    uint64_t n, cap;
    size_t item_bytes;
} list_out;

/* Makes room for `more` items after the n gathered (doubling). */
static pa_status list_room(list_out *o, uint64_t more)
{
    if (o->n + more <= o->cap)
        return PA_OK;
    uint64_t cap = PA_MAX(o->cap ? 2 * o->cap : 256, o->n + more);
    uint8_t *b = pa_realloc(o->items, (size_t)(cap * o->item_bytes), "list items");
    if (!b)
        return PA_ERR_NOMEM;
    o->items = b, o->cap = cap;
    return PA_OK;
}

/* The refusal of a list page whose rows and repetition levels disagree. */
static pa_status bad_list(const pa_lance_reader *r, size_t ci, size_t pi, const char *what)
{
    return pa_fail(PA_ERR_FORMAT, "%s: page %zu of column %zu (\"%s\"): %s", r->name, pi, ci,
                   r->cols[ci].field.name, what);
}

/* Reads rows [s, e) of a full-zip list page: the repetition index gives the rows' bytes; each
 * item follows a control word whose repetition level is 1 where a row starts. offsets[j]
 * receives the item offset (in o) of row s + j. */
static pa_status read_list_fullzip(pa_lance_reader *r, size_t ci, size_t pi, uint64_t s, uint64_t e,
                                   uint64_t *offsets, list_out *o)
{
    const col_info *c = &r->cols[ci];
    const page_info *p = &c->pages[pi];
    uint64_t w = p->rep_size / (p->num_rows + 1), stride = c->row_bytes + 1;
    if ((w != 1 && w != 2 && w != 4 && w != 8) || p->rep_size != w * (p->num_rows + 1))
        return bad_list(r, ci, pi, "the repetition index does not hold one offset per row");
    uint8_t idx[16];
    uint64_t lo = 0, hi = 0;
    pa_status st;
    if ((st = rd(r, idx, (size_t)w, p->rep_off + s * w)) != PA_OK ||
        (st = rd(r, idx + 8, (size_t)w, p->rep_off + e * w)) != PA_OK)
        return st;
    for (unsigned b = 0; b < w; b++)
        lo |= (uint64_t)idx[b] << (8 * b), hi |= (uint64_t)idx[8 + b] << (8 * b);
    if (lo > hi || hi > p->data_size || (hi - lo) % stride || (hi - lo) / stride < e - s)
        return bad_list(r, ci, pi, "the repetition index gives rows outside the page's items");
    uint64_t n = (hi - lo) / stride, per = PA_MAX((uint64_t)1, READ_PIECE_BYTES / stride);
    if ((st = list_room(o, n)) != PA_OK)
        return st;
    uint8_t *buf = pa_malloc((size_t)(PA_MIN(per, n) * stride), "row read buffer");
    if (!buf)
        return PA_ERR_NOMEM;
    uint64_t row = 0; /* rows started so far, of the e - s */
    for (uint64_t a = 0; a < n && st == PA_OK; a += per) {
        uint64_t m = PA_MIN(per, n - a);
        if ((st = rd(r, buf, (size_t)(m * stride), p->data_off + lo + a * stride)) != PA_OK)
            break;
        for (uint64_t i = 0; i < m; i++) {
            unsigned rep = buf[i * stride];
            if (rep > 1 || (a + i == 0 && rep != 1)) {
                st = bad_list(r, ci, pi,
                              "a control word's repetition level is not 0 or 1, or "
                              "a row does not start where the index says");
                break;
            }
            if (rep == 1) {
                if (row == e - s) {
                    st = bad_list(r, ci, pi, "more rows start than the repetition index has");
                    break;
                }
                offsets[row++] = o->n;
            }
            memcpy(o->items + o->n * o->item_bytes, buf + i * stride + 1, c->row_bytes);
            o->n++;
        }
    }
    free(buf);
    if (st == PA_OK && row != e - s)
        st = bad_list(r, ci, pi, "fewer rows start than the repetition index has");
    return st;
}

/* Decodes a mini-block list chunk's nv repetition levels (RLE runs or raw u16) into lev. */
static pa_status chunk_rep_levels(const pa_lance_reader *r, size_t ci, size_t pi, const uint8_t *d,
                                  uint64_t size, uint64_t nv, uint16_t *lev)
{
    const page_info *p = &r->cols[ci].pages[pi];
    if (p->rep == REP_RAW) {
        if (size < 2 * nv)
            return bad_list(r, ci, pi, "a chunk has fewer repetition levels than items");
        for (uint64_t i = 0; i < nv; i++)
            lev[i] = pa_ld16(d + 2 * i);
        return PA_OK;
    }
    if (p->rep == REP_INL) { /* each block: its u16 bit width, then 1024 levels packed */
        uint16_t blk[FASTLANES_BLOCK];
        uint64_t at = 0;
        for (uint64_t b = 0; b * FASTLANES_BLOCK < nv; b++) {
            unsigned w = at + 2 <= size ? pa_ld16(d + at) : 17;
            uint64_t bb = (uint64_t)FASTLANES_BLOCK * PA_MIN(w, 16u) / 8;
            if (w > 16 || at + 2 + bb > size)
                return bad_list(r, ci, pi, "a chunk has fewer repetition levels than items");
            pa_fastlanes_unpack(16, w, d + at + 2, blk);
            uint64_t m = PA_MIN((uint64_t)FASTLANES_BLOCK, nv - b * FASTLANES_BLOCK);
            memcpy(lev + b * FASTLANES_BLOCK, blk, (size_t)m * 2);
            at += 2 + bb;
        }
        return PA_OK;
    }
    if (p->rep == REP_OOL) {
        /* whole FastLanes blocks of 1024 levels; a short last one packed whole, or raw u16
         * when that is smaller (told apart by the size), as definition levels are */
        uint64_t bb = FASTLANES_BLOCK * p->rep_width / 8;
        uint64_t whole = nv / FASTLANES_BLOCK, tail = nv % FASTLANES_BLOCK;
        bool raw_tail = tail && size == whole * bb + 2 * tail;
        if (!raw_tail && size < (whole + (tail != 0)) * bb)
            return bad_list(r, ci, pi, "a chunk has fewer repetition levels than items");
        uint16_t blk[FASTLANES_BLOCK];
        for (uint64_t b = 0; b * FASTLANES_BLOCK < nv; b++) {
            uint64_t m = PA_MIN((uint64_t)FASTLANES_BLOCK, nv - b * FASTLANES_BLOCK);
            if (b == whole && raw_tail)
                for (uint64_t i = 0; i < m; i++)
                    lev[b * FASTLANES_BLOCK + i] = pa_ld16(d + b * bb + 2 * i);
            else {
                pa_fastlanes_unpack(16, p->rep_width, d + b * bb, blk);
                memcpy(lev + b * FASTLANES_BLOCK, blk, (size_t)m * 2);
            }
        }
        return PA_OK;
    }
    uint64_t vb = size >= 8 ? pa_ld64(d) : UINT64_MAX, at = 0;
    if (vb % 2 || vb > size - 8 || vb / 2 > size - 8 - vb)
        return bad_list(r, ci, pi, "a chunk's repetition-level runs do not fit in it");
    for (uint64_t k = 0; k < vb / 2 && at < nv; k++) {
        uint16_t v = pa_ld16(d + 8 + 2 * k);
        for (uint64_t i = at; i < PA_MIN(nv, at + d[8 + vb + k]); i++)
            lev[i] = v;
        at += d[8 + vb + k];
    }
    if (at < nv)
        return bad_list(r, ci, pi, "a chunk's repetition-level runs cover fewer items than it has");
    return PA_OK;
}

/* Reads rows [s, e) of a mini-block list page: its chunks in order, each chunk's repetition
 * levels telling where rows start (header: u16 levels, u16 bytes of levels, the value size,
 * u16 or u32 with large chunks, padded to 8; the levels padded to 8; the values). offsets[j]
 * receives the item offset (in o) of row s + j. */
static pa_status read_list_miniblock(pa_lance_reader *r, size_t ci, size_t pi, uint64_t s,
                                     uint64_t e, uint64_t *offsets, list_out *o)
{
    const col_info *c = &r->cols[ci];
    const page_info *p = &c->pages[pi];
    chunk_table *t;
    pa_status st = load_chunks(r, ci, pi, &t);
    if (st != PA_OK)
        return st;
    uint64_t bytes = t->byte_off[t->n];
    uint8_t *buf = pa_malloc((size_t)(bytes ? bytes : 1), "list page");
    uint16_t *lev = pa_malloc(MINIBLOCK_MAX_CHUNK_VALUES * sizeof *lev, "repetition levels");
    if (!buf || !lev) {
        free(buf);
        free(lev);
        return PA_ERR_NOMEM;
    }
    st = rd(r, buf, (size_t)bytes, p->data_off);
    const unsigned sw = p->large_chunk ? 4 : 2, hdr = (4 + sw + 7) / 8 * 8;
    uint64_t row = 0; /* rows of the page started so far */
    for (size_t k = 0; k < t->n && st == PA_OK && !(row > e); k++) {
        const uint8_t *ch = buf + t->byte_off[k];
        uint64_t cb = t->byte_off[k + 1] - t->byte_off[k];
        uint64_t nv = t->first_value[k + 1] - t->first_value[k];
        uint64_t rsize = cb >= hdr ? pa_ld16(ch + 2) : 0;
        uint64_t vsize = cb < hdr ? 0 : sw == 4 ? pa_ld32(ch + 4) : pa_ld16(ch + 4);
        uint64_t rpad = (rsize + 7) / 8 * 8;
        if (cb < hdr || pa_ld16(ch) != nv || hdr + rpad + vsize > cb) {
            st = bad_list(r, ci, pi, "a chunk's header does not match its items and bytes");
            break;
        }
        if ((st = chunk_rep_levels(r, ci, pi, ch + hdr, rsize, nv, lev)) != PA_OK)
            break;
        uint64_t a = nv, b = nv; /* the chunk's items that belong to rows [s, e) */
        for (uint64_t i = 0; i < nv; i++) {
            if (lev[i] > 1 || (k == 0 && i == 0 && lev[i] != 1)) {
                st = bad_list(r, ci, pi,
                              "a repetition level is not 0 or 1, or the page does "
                              "not start with a row");
                break;
            }
            row += lev[i];
            if (row - 1 >= s && row - 1 < e) {
                if (a == nv)
                    a = i;
                b = i + 1;
                if (lev[i])
                    offsets[row - 1 - s] = o->n + (i - a);
            }
        }
        if (st != PA_OK || a == b)
            continue;
        if ((st = list_room(o, b - a)) == PA_OK)
            st = decode_values(r, ci, pi, k, ch + hdr + rpad, vsize, NULL, 0, nv, a, b,
                               o->items + o->n * o->item_bytes, NULL);
        o->n += b - a;
    }
    if (st == PA_OK && row < e)
        st = bad_list(r, ci, pi, "its chunks hold fewer rows than the page says");
    free(lev);
    free(buf);
    return st;
}

/* Reads the rows of a list column (see the header). */
pa_status pa_lance_reader_read_list(pa_lance_reader *r, size_t col, uint64_t offset,
                                    uint64_t num_rows, uint64_t *offsets, void **items)
{
    *items = NULL;
    pa_status cst = readable_column(r, col);
    if (cst != PA_OK)
        return cst;
    const col_info *c = &r->cols[col];
    if (!c->list_col)
        return pa_fail(PA_ERR_INVALID, "%s: column %zu (\"%s\") is not a list column", r->name, col,
                       c->field.name);
    if (offset > r->num_rows || num_rows > r->num_rows - offset)
        return pa_fail(PA_ERR_RANGE,
                       "%s: rows [%llu, %llu) are out of range: the file has %llu rows", r->name,
                       (unsigned long long)offset, (unsigned long long)(offset + num_rows),
                       (unsigned long long)r->num_rows);
    list_out o = {.item_bytes = c->row_bytes};
    pa_status st = PA_OK;
    uint64_t row = offset, end = offset + num_rows;
    for (size_t pi = 0; pi < c->num_pages && row < end && st == PA_OK; pi++) {
        const page_info *p = &c->pages[pi];
        if (p->first_row + p->num_rows <= row || p->num_rows == 0)
            continue;
        uint64_t s = row - p->first_row, e = PA_MIN(end, p->first_row + p->num_rows) - p->first_row;
        if (p->kind == PK_FULLZIP)
            st = read_list_fullzip(r, col, pi, s, e, offsets + (row - offset), &o);
        else
            st = read_list_miniblock(r, col, pi, s, e, offsets + (row - offset), &o);
        row = p->first_row + e;
    }
    if (st != PA_OK) {
        free(o.items);
        return st;
    }
    offsets[num_rows] = o.n;
    *items = o.items ? o.items : pa_malloc(1, "list items");
    return *items ? PA_OK : PA_ERR_NOMEM;
}

/* Reads rows [offset, offset+n) of column col (see the header). */
pa_status pa_lance_reader_read(pa_lance_reader *r, size_t col, uint64_t offset, uint64_t num_rows,
                               void *out)
{
    return read_rows(r, col, offset, num_rows, out, NULL);
}

/* Reads rows with their null flags (see the header). */
pa_status pa_lance_reader_read_valid(pa_lance_reader *r, size_t col, uint64_t offset,
                                     uint64_t num_rows, void *out, uint8_t *valid)
{
    return read_rows(r, col, offset, num_rows, out, valid);
}

bool pa_lance_reader_nullable(const pa_lance_reader *r, size_t col)
{
    return col < r->num_cols && r->cols[col].nullable;
}

uint64_t pa_lance_reader_column_values(const pa_lance_reader *r, size_t col)
{
    return col < r->num_cols ? r->cols[col].num_values : 0;
}

/* Describes page i of column col (layout, encoding, rows, bytes) for inspection tools. */
pa_status pa_lance_reader_page(const pa_lance_reader *r, size_t col, size_t i,
                               pa_lance_page_info *out)
{
    if (col >= r->num_cols || i >= pa_lance_reader_num_pages(r, col))
        return pa_fail(PA_ERR_RANGE, "%s: page %zu of column %zu does not exist", r->name, i, col);
    const page_info *p = &r->cols[col].pages[i];
    out->first_row = p->first_row;
    out->num_rows = p->num_rows;
    out->offset = p->data_off;
    out->bytes = p->data_size + (p->kind == PK_FULLZIP ? 0 : p->meta_size);
    switch (p->kind) {
    case PK_MINIBLOCK:
        out->layout = p->large_chunk ? "mini-block (2.2 large chunks)" : "mini-block";
        break;
    case PK_FULLZIP: out->layout = "full-zip"; break;
    case PK_FLAT20: out->layout = "2.0 array"; break;
    case PK_CONST: out->layout = "constant"; break;
    default: out->layout = "all-null"; break;
    }
    out->encoding = p->enc_name;
    return PA_OK;
}

size_t pa_lance_reader_page_buffers(const pa_lance_reader *r, size_t col, size_t page,
                                    uint64_t off[3], uint64_t size[3])
{
    if (col >= r->num_cols || page >= r->cols[col].num_pages)
        return 0;
    const page_info *p = &r->cols[col].pages[page];
    size_t n = 0;
    if (p->kind == PK_MINIBLOCK)
        off[n] = p->meta_off, size[n++] = p->meta_size;
    if (p->kind == PK_MINIBLOCK || p->kind == PK_FULLZIP)
        off[n] = p->data_off, size[n++] = p->data_size;
    if (n && p->rep)
        off[n] = p->rep_off, size[n++] = p->rep_size;
    return n;
}

size_t pa_lance_reader_num_pages(const pa_lance_reader *r, size_t col)
{
    return col < r->num_cols && r->cols[col].bad == PA_OK ? r->cols[col].num_pages : 0;
}

const char *pa_lance_reader_logical_type(const pa_lance_reader *r, size_t col)
{
    return col < r->num_cols ? r->cols[col].logical : NULL;
}

size_t pa_lance_reader_row_bytes(const pa_lance_reader *r, size_t col)
{
    return col < r->num_cols ? r->cols[col].row_bytes : 0;
}

const char *pa_lance_reader_column_problem(const pa_lance_reader *r, size_t col)
{
    return col < r->num_cols ? r->cols[col].why : "no such column";
}

void pa_lance_reader_version(const pa_lance_reader *r, unsigned *major, unsigned *minor)
{
    bool v20 = r->major == LANCE_V20_MAJOR;
    *major = v20 ? 2 : r->major;
    *minor = v20 ? 0 : r->minor;
}

uint64_t pa_lance_reader_num_rows(const pa_lance_reader *r) { return r->num_rows; }
size_t pa_lance_reader_num_fields(const pa_lance_reader *r) { return r->num_cols; }
uint64_t pa_lance_reader_bytes_read(const pa_lance_reader *r)
{
    return atomic_load(&r->bytes_read);
}
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
    pa_status st = PA_OK;
    uint8_t *buf = pa_malloc((size_t)r->gbuf_size[i], "global buffer");
    if (!buf) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    if ((st = rd(r, buf, (size_t)r->gbuf_size[i], r->gbuf_off[i])) != PA_OK)
        goto done;
    *data = buf;
    *len = (size_t)r->gbuf_size[i];
    buf = NULL; /* the caller's */
done:
    free(buf);
    return st;
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
        free(c->logical);
        free(c->why);
    }
    pa_lance_meta_free(r->meta, r->num_meta);
    free(r->cols);
    free(r->gbuf_off);
    free(r->gbuf_size);
    pthread_mutex_destroy(&r->lock);
    free(r->path);
    free(r);
}
