/* Streaming Lance file writer (file formats 2.1 and 2.2).
 *
 * Rows are buffered per column; when a column's buffer reaches the page size it is encoded as
 * one disk page and written at once, so memory stays at about num_columns * page_bytes however
 * many rows are written. Only the small per-page records (offsets, sizes, encodings) are kept
 * until close, which writes the schema (global buffer 0), the column metadata, the two offset
 * tables and the 40-byte footer — in that order, as Lance writers do.
 *
 * Layouts written (the choice Lance itself makes for these types):
 *   - values narrower than 256 bytes (u32, u64, float, short fixed-size lists): a mini-block
 *     page — buffer 0 holds a u16 per chunk ((chunk_bytes/8 - 1) << 4 | log2(values)), buffer 1
 *     the chunks; a chunk is a u16 level count (0: no rep/def), a u16 value-buffer size, padding
 *     to 8 bytes, the values (Flat), padding to 8 bytes; in 2.2 padding bytes are 0xFE, as
 *     LanceDB pads (Lance's FILL_BYTE), so that the chunks are byte for byte LanceDB's (2.1 Flat
 *     chunks keep zeros). Chunks hold a power-of-two number of values (the last one excepted)
 *     and stay under 8 KiB.
 *     With the bitpack option, uint32/uint64 chunks are InlineBitpacking instead, as LanceDB
 *     writes integers: 1024 values per chunk (the last one padded with zeros to 1024), the
 *     value buffer being one T-bit word with the bit width W of the chunk's largest value, then
 *     the 1024 values FastLanes-packed at W bits (bitpack.c); a page's last chunk says 0 values
 *     (log2) however many it holds, as LanceDB's do.
 *     In 2.2 (the minor_version option) a mini-block page is the same but for its "large
 *     chunks", as LanceDB 0.39 writes them: each chunk-table entry is a u32 word (same bits),
 *     and the chunk header's value-buffer size is a u32, so a header is u16 levels, u32 size,
 *     two bytes of 0xFE padding; the layout says has_large_chunk.
 *   - values of 256 bytes or more (vectors): a full-zip page — one buffer of the raw rows (no
 *     control words, since nothing is nullable).
 * Every buffer starts on a 64-byte boundary. */
#include "lance/lance_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY /* sizeof(XXH64_state_t), for the writer's estimate */
#include <xxhash.h>

#define FULLZIP_MIN_VALUE_BYTES 256
#define MINIBLOCK_MAX_BYTES (8 * 1024 - 6)
#define MINIBLOCK_MAX_VALUES 4096
#define STAGE_BYTES (256u << 10) /* mini-block pages are encoded through this much memory */
#define BITPACK_LOG_CHUNK 10     /* InlineBitpacking chunks hold 1024 values */
#define CHUNK_FILL_BYTE 0xFE     /* what LanceDB pads mini-block chunks with (Lance's FILL_BYTE) */
#define CHUNK_HEADER_BYTES 8     /* u16 levels, the value size (u16, or u32 in 2.2), padding */

/* What close needs to remember about one written page. */
typedef struct page_rec {
    uint64_t first_row;
    uint64_t num_rows;
    uint64_t buf_off[2];
    uint64_t buf_size[2];
    int num_bufs;
} page_rec;

/* What a list column's page records need besides (kept beside them, list columns only): the
 * page's items, and a mini-block page's third buffer (its repetition index). */
typedef struct list_rec {
    uint64_t num_items;
    uint64_t rep_off, rep_size;
} list_rec;

/* What a list column holds besides a column's state (allocated for list columns only, so
 * that the state of the many columns of an artifact's writers does not grow). */
typedef struct list_state {
    list_rec *lrecs; /* one per page record (cap_lrecs entries) */
    size_t cap_lrecs;
    uint64_t *lens; /* items of each buffered row (cap_lens entries) */
    size_t cap_lens;
    uint64_t buf_items, cap_items; /* items buffered, and room for them in buf */
    size_t page_bytes;             /* a page is written once its items reach this */
} list_state;

typedef struct col_state {
    pa_field field;
    size_t row_bytes; /* a list column: an item's */
    size_t item_bits; /* bits of one scalar or list item */
    bool fullzip;
    bool bitpack;       /* mini-block chunks are InlineBitpacking (see the file comment) */
    bool nullable;      /* declared nullable in the schema (every row still has a value) */
    bool list;          /* a list column: buf holds items, ls the rest */
    unsigned log_chunk; /* mini-block: log2 of values per full chunk */
    uint8_t *buf;       /* rows waiting for the next page */
    uint64_t buf_rows;
    union {
        uint64_t page_rows; /* rows per page */
        list_state *ls;     /* a list column's */
    };
    uint64_t rows_flushed;
    page_rec *pages;
    size_t num_pages, cap_pages;
} col_state;

struct pa_lance_writer {
    int fd;
    uint8_t minor; /* file format 2.minor: PA_LANCE_FORMAT_2_1 or _2_2 */
    bool large;    /* 2.2 mini-block chunks: 4-byte chunk words and value sizes */
    char *path;
    uint64_t pos; /* bytes written so far = next write offset */
    col_state *cols;
    size_t num_cols;
    uint64_t num_rows;
    pa_lance_meta *meta;
    size_t num_meta;
    uint64_t *gbuf_off, *gbuf_size; /* extra global buffers (indices 1..) */
    size_t num_gbufs;
    uint8_t *stage;      /* mini-block chunks on their way to the file (STAGE_BYTES) */
    XXH64_state_t *hash; /* XXH64 of every byte written, in file order */
    bool closed, failed;
    bool via_tmp;    /* written under out.tmp, renamed into place by close */
    bool owns_path;  /* path itself was created here (in_new_dir): removed on failure */
    bool no_sync;    /* in_new_dir and no_sync: close does not fsync */
    pa_out_file out; /* its descriptor is fd, owned here until close */
};

/* Marks the writer failed (any later call returns PA_ERR_STATE) and passes the status on. */
static pa_status writer_failed(pa_lance_writer *w, pa_status st)
{
    w->failed = true;
    return st;
}

/* Writes len bytes at the current position, first padding with zeros to `align`. Returns the
 * offset the bytes start at in *at. */
static pa_status write_aligned(pa_lance_writer *w, const void *data, size_t len, uint64_t align,
                               uint64_t *at)
{
    static const uint8_t zeros[PA_LANCE_ALIGN];
    uint64_t start = pa_align_up(w->pos, align);
    if (start > w->pos) {
        pa_status st = pa_pwrite_full(w->fd, zeros, (size_t)(start - w->pos), w->pos, w->path);
        if (st != PA_OK)
            return st;
        XXH64_update(w->hash, zeros, (size_t)(start - w->pos));
    }
    pa_status st = pa_pwrite_full(w->fd, data, len, start, w->path);
    if (st != PA_OK)
        return st;
    XXH64_update(w->hash, data, len);
    w->pos = start + len;
    if (at)
        *at = start;
    return PA_OK;
}

/* Chooses the mini-block chunk size: the largest power-of-two value count whose bytes stay under
 * the mini-block limit (at most 4096 values), starting from 2 values. */
static unsigned miniblock_log_chunk(size_t value_bytes)
{
    unsigned log = 1;
    uint64_t size = 2 * (uint64_t)value_bytes, num = 2;
    while (2 * size < MINIBLOCK_MAX_BYTES && 2 * num <= MINIBLOCK_MAX_VALUES) {
        log++;
        size *= 2;
        num *= 2;
    }
    return log;
}

/* Bits needed by the largest of n values of t (32 or 64) bits at src: t minus the leading
 * zeros of their OR. */
static unsigned bit_width(const uint8_t *src, unsigned t, uint64_t n)
{
    uint64_t or = 0;
    for (uint64_t i = 0; i < n; i++)
        or |= t == 64 ? pa_ld64(src + 8 * i) : pa_ld32(src + 4 * i);
    unsigned w = 0;
    while (w < t && (or >> w) != 0)
        w++;
    return w;
}

/* Writes one InlineBitpacking value buffer to d: the bit width as a t-bit word, then the n
 * (<= 1024) values at src padded with zeros to 1024 and FastLanes-packed at `width` bits. */
static void bitpack_chunk(uint8_t *d, const uint8_t *src, unsigned t, unsigned width, uint64_t n)
{
    uint64_t vals[1024] = {0};
    memcpy(vals, src, (size_t)n * t / 8);
    if (t == 64)
        pa_st64(d, width);
    else
        pa_st32(d, width);
    pa_fastlanes_pack(t, width, vals, d + t / 8);
}

/* A column's page-record array starts at this many records and doubles (pa_grow). */
#define PAGE_RECS_FIRST 16

/* Capacity of a page-record array holding n records: add_page's growth. */
static uint64_t page_rec_cap(uint64_t n)
{
    uint64_t cap = n ? PAGE_RECS_FIRST : 0;
    while (cap < n)
        cap *= 2;
    return cap;
}

/* Appends a page record to the column (and a list column's list record, lr). */
static pa_status add_page(col_state *c, const page_rec *rec, const list_rec *lr)
{
    if (c->num_pages == c->cap_pages &&
        !pa_grow(&c->pages, &c->cap_pages, sizeof *c->pages, PAGE_RECS_FIRST, "page records"))
        return PA_ERR_NOMEM;
    if (lr && c->num_pages == c->ls->cap_lrecs &&
        !pa_grow(&c->ls->lrecs, &c->ls->cap_lrecs, sizeof *c->ls->lrecs, PAGE_RECS_FIRST,
                 "list records"))
        return PA_ERR_NOMEM;
    if (lr)
        c->ls->lrecs[c->num_pages] = *lr;
    c->pages[c->num_pages++] = *rec;
    return PA_OK;
}

/* Encodes n rows at src as one page of column c and writes it. Mini-block chunks are built in
 * the fixed staging buffer and written as it fills, data buffer first; the chunk table (2 bytes
 * per chunk) follows, so no page-sized copy is ever made. */
static pa_status write_page(pa_lance_writer *w, col_state *c, const uint8_t *src, uint64_t n)
{
    page_rec rec = {.first_row = c->rows_flushed, .num_rows = n};
    pa_status st;
    if (c->fullzip) {
        size_t bytes = (size_t)n * c->row_bytes;
        if ((st = write_aligned(w, src, bytes, PA_LANCE_ALIGN, &rec.buf_off[0])) != PA_OK)
            return st;
        rec.buf_size[0] = bytes;
        rec.num_bufs = 1;
    } else {
        uint64_t per_chunk = (uint64_t)1 << c->log_chunk;
        uint64_t nchunks = (n + per_chunk - 1) / per_chunk;
        uint8_t *meta = pa_malloc((size_t)nchunks * (w->large ? 4 : 2), "chunk table");
        if (!meta)
            return PA_ERR_NOMEM;
        if (!w->stage && !(w->stage = pa_malloc(STAGE_BYTES, "page staging buffer"))) {
            free(meta);
            return PA_ERR_NOMEM;
        }
        size_t fill = 0;
        uint64_t data_bytes = 0;
        /* 2.1 Flat chunks keep the zero padding partifact has always written there (the
         * index and model files, whose checksums are recorded): readers ignore it */
        const uint8_t pad = c->bitpack || w->large ? CHUNK_FILL_BYTE : 0;
        const unsigned hdr = CHUNK_HEADER_BYTES, word = w->large ? 4 : 2;
        st = PA_OK;
        for (uint64_t k = 0; k < nchunks && st == PA_OK; k++) {
            uint64_t first = k * per_chunk;
            uint64_t nvals = PA_MIN(per_chunk, n - first);
            size_t vbytes = (size_t)nvals * c->row_bytes;
            unsigned width = 0;
            if (c->bitpack) {
                width = bit_width(src + first * c->row_bytes, c->item_bits, nvals);
                vbytes = c->row_bytes + (size_t)1024 * width / 8;
            }
            size_t chunk_bytes = hdr + (size_t)pa_align_up(vbytes, 8);
            if (fill + chunk_bytes > STAGE_BYTES) {
                st = write_aligned(w, w->stage, fill, data_bytes ? 1 : PA_LANCE_ALIGN,
                                   data_bytes ? NULL : &rec.buf_off[1]);
                data_bytes += fill;
                fill = 0;
                if (st != PA_OK)
                    break;
            }
            uint8_t *d = w->stage + fill;
            pa_st16(d, 0);  /* no rep/def levels */
            if (w->large) { /* the one value buffer's size; the 2.2 header pads with 0xFE */
                pa_st32(d + 2, (uint32_t)vbytes);
                memset(d + 6, pad, 2);
            } else {
                pa_st16(d + 2, (uint16_t)vbytes);
                memset(d + 4, pad, 4);
            }
            if (c->bitpack)
                bitpack_chunk(d + hdr, src + first * c->row_bytes, c->item_bits, width, nvals);
            else
                memcpy(d + hdr, src + first * c->row_bytes, vbytes);
            memset(d + hdr + vbytes, pad, chunk_bytes - hdr - vbytes);
            fill += chunk_bytes;
            /* a short last chunk says 0; a bit-packed page's last chunk always does */
            unsigned log = nvals == per_chunk && !(c->bitpack && k + 1 == nchunks) ? c->log_chunk
                                                                                   : 0;
            uint32_t cw = (uint32_t)(((chunk_bytes / 8 - 1) << 4) | log);
            if (w->large)
                pa_st32(meta + 4 * k, cw);
            else
                pa_st16(meta + 2 * k, (uint16_t)cw);
        }
        if (st == PA_OK && fill) {
            st = write_aligned(w, w->stage, fill, data_bytes ? 1 : PA_LANCE_ALIGN,
                               data_bytes ? NULL : &rec.buf_off[1]);
            data_bytes += fill;
        }
        if (st == PA_OK)
            st = write_aligned(w, meta, (size_t)nchunks * word, PA_LANCE_ALIGN, &rec.buf_off[0]);
        free(meta);
        if (st != PA_OK)
            return st;
        rec.buf_size[0] = nchunks * word;
        rec.buf_size[1] = data_bytes;
        rec.num_bufs = 2;
    }
    if ((st = add_page(c, &rec, NULL)) != PA_OK)
        return st;
    c->rows_flushed += n;
    return PA_OK;
}

/* Bytes of one repetition-index entry of a full-zip list page whose data is total bytes:
 * the smallest of 1, 2, 4, 8 that holds total (Lance's byte-packed integers). */
static unsigned rep_index_width(uint64_t total)
{
    return total <= UINT8_MAX ? 1 : total <= UINT16_MAX ? 2 : total <= UINT32_MAX ? 4 : 8;
}

/* Stores v in w bytes (1, 2, 4 or 8), little endian. */
static void st_width(uint8_t *d, unsigned w, uint64_t v)
{
    for (unsigned i = 0; i < w; i++)
        d[i] = (uint8_t)(v >> (8 * i));
}

/* Appends len bytes to the staging buffer (fill bytes used), writing it out when full; the
 * first byte staged is written at a 64-byte boundary, its offset in *first. A piece larger
 * than the buffer is written directly. */
static pa_status stage_put(pa_lance_writer *w, size_t *fill, bool *started, uint64_t *first,
                           const void *data, size_t len)
{
    pa_status st;
    if (*fill + len > STAGE_BYTES && *fill) {
        if ((st = write_aligned(w, w->stage, *fill, *started ? 1 : PA_LANCE_ALIGN,
                                *started ? NULL : first)) != PA_OK)
            return st;
        *started = true;
        *fill = 0;
    }
    if (len > STAGE_BYTES) {
        st = write_aligned(w, data, len, *started ? 1 : PA_LANCE_ALIGN, *started ? NULL : first);
        *started = true;
        return st;
    }
    memcpy(w->stage + *fill, data, len);
    *fill += len;
    return PA_OK;
}

/* Writes what stage_put left in the staging buffer. */
static pa_status stage_flush(pa_lance_writer *w, size_t *fill, bool *started, uint64_t *first)
{
    if (!*fill)
        return PA_OK;
    pa_status st = write_aligned(w, w->stage, *fill, *started ? 1 : PA_LANCE_ALIGN,
                                 *started ? NULL : first);
    *started = true;
    *fill = 0;
    return st;
}

/* The repetition levels of items [first, first+n) of a page whose rows start at the item
 * indexes in starts (sorted, *next the first not yet passed) as Lance's RLE block: a u64 byte
 * count of the run values, the u16 run values (1: an item that starts a row, 0 one that
 * continues it), then a u8 length per run (at most 255). Returns the bytes written to d, which
 * has room for 10 + 3 * n. */
static size_t rle_rep_levels(uint8_t *d, const uint64_t *starts, size_t nstarts, size_t *next,
                             uint64_t first, uint64_t n)
{
    size_t runs = 0;
    uint8_t *vals = d + 8, *lens = d + 8 + 2 * n;
    for (uint64_t i = first; i < first + n;) {
        bool start = *next < nstarts && starts[*next] == i;
        uint64_t end = i + 1;
        if (start)
            (*next)++;
        else /* zeros up to the next row start */
            end = *next < nstarts ? PA_MIN(starts[*next], first + n) : first + n;
        for (uint64_t a = i; a < end; a += 255) {
            pa_st16(vals + 2 * runs, start ? 1 : 0);
            lens[runs++] = (uint8_t)PA_MIN((uint64_t)255, end - a);
        }
        i = end;
    }
    pa_st64(d, 2 * runs);
    memmove(vals + 2 * runs, lens, runs);
    return 8 + 3 * runs;
}

/* Encodes nrows list rows (lens[k] items each, n items at items) as one page of column c and
 * writes it: full-zip (items of 256 bytes or more) or mini-block, with the repetition levels
 * and repetition index Lance writes for one level of lists (layers: all-valid items in an
 * all-valid list):
 *   - full-zip: each item after a 1-byte control word (its repetition level: 1 for the first
 *     item of a row), then the repetition index, the byte offset of each row's first control
 *     word and the data's size, each 1, 2, 4 or 8 bytes (the least that holds the size);
 *   - mini-block: chunks of a power-of-two number of items (the last one excepted) as for a
 *     fixed-width column, each holding its items' repetition levels (an RLE block, see
 *     rle_rep_levels) before the values; the repetition index is two u64 per chunk: the rows
 *     that end in it and the items after its last row start ("leftovers"; 0 in the last). */
static pa_status write_list_page(pa_lance_writer *w, col_state *c, const uint8_t *items,
                                 const uint64_t *lens, uint64_t nrows)
{
    page_rec rec = {.first_row = c->rows_flushed, .num_rows = nrows};
    uint64_t n = 0;
    for (uint64_t k = 0; k < nrows; k++)
        n += lens[k];
    list_rec lr = {.num_items = n};
    size_t fill = 0;
    bool started = false;
    pa_status st = PA_OK;
    uint64_t *starts = pa_malloc((size_t)nrows * sizeof *starts, "list row starts");
    uint8_t *aux = NULL;
    if (!starts || (!w->stage && !(w->stage = pa_malloc(STAGE_BYTES, "page staging buffer")))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    for (uint64_t k = 0, at = 0; k < nrows; at += lens[k++])
        starts[k] = at;
    if (c->fullzip) {
        uint64_t total = n * (1 + (uint64_t)c->row_bytes);
        unsigned iw = rep_index_width(total);
        if (!(aux = pa_malloc((size_t)(nrows + 1) * iw, "repetition index"))) {
            st = PA_ERR_NOMEM;
            goto done;
        }
        for (uint64_t k = 0, r = 0; k < n && st == PA_OK; k++) {
            uint8_t ctrl = 0;
            if (r < nrows && starts[r] == k) {
                st_width(aux + r * iw, iw, k * (1 + (uint64_t)c->row_bytes));
                ctrl = 1, r++;
            }
            if ((st = stage_put(w, &fill, &started, &rec.buf_off[0], &ctrl, 1)) == PA_OK)
                st = stage_put(w, &fill, &started, &rec.buf_off[0], items + k * c->row_bytes,
                               c->row_bytes);
        }
        st_width(aux + nrows * iw, iw, total);
        if (st == PA_OK && (st = stage_flush(w, &fill, &started, &rec.buf_off[0])) == PA_OK)
            st = write_aligned(w, aux, (size_t)(nrows + 1) * iw, PA_LANCE_ALIGN, &rec.buf_off[1]);
        rec.buf_size[0] = total;
        rec.buf_size[1] = (nrows + 1) * iw;
        rec.num_bufs = 2;
    } else {
        const uint64_t per_chunk = (uint64_t)1 << c->log_chunk;
        const uint64_t nchunks = (n + per_chunk - 1) / per_chunk;
        const unsigned word = w->large ? 4 : 2;
        uint8_t *meta = pa_malloc((size_t)nchunks * word, "chunk table");
        uint64_t *repidx = pa_malloc((size_t)nchunks * 2 * sizeof *repidx, "repetition index");
        uint8_t *rle = pa_malloc(10 + 3 * (size_t)per_chunk, "repetition levels");
        aux = (uint8_t *)repidx;
        if (!meta || !repidx || !rle) {
            free(meta), free(rle);
            st = PA_ERR_NOMEM;
            goto done;
        }
        size_t next = 0;
        uint64_t data_bytes = 0;
        static const uint8_t fe[8] = {CHUNK_FILL_BYTE, CHUNK_FILL_BYTE, CHUNK_FILL_BYTE,
                                      CHUNK_FILL_BYTE, CHUNK_FILL_BYTE, CHUNK_FILL_BYTE,
                                      CHUNK_FILL_BYTE, CHUNK_FILL_BYTE};
        for (uint64_t k = 0; k < nchunks && st == PA_OK; k++) {
            uint64_t first = k * per_chunk, nv = PA_MIN(per_chunk, n - first);
            size_t s0 = next;
            size_t rbytes = rle_rep_levels(rle, starts, nrows, &next, first, nv);
            /* rows ending here: starts after its first item; leftovers: from its last start */
            uint64_t ends = next - s0 - (s0 < next && starts[s0] == first);
            uint64_t left = next > s0 ? first + nv - starts[next - 1] : nv;
            if (k > 0 && s0 < next && starts[s0] == first && repidx[2 * k - 1] != 0)
                repidx[2 * k - 2]++, repidx[2 * k - 1] = 0; /* the last chunk's row ended */
            if (k + 1 == nchunks)
                ends++, left = 0;
            repidx[2 * k] = ends, repidx[2 * k + 1] = left;
            size_t vbytes = (size_t)nv * c->row_bytes;
            uint8_t hdr[CHUNK_HEADER_BYTES];
            pa_st16(hdr, (uint16_t)nv);
            pa_st16(hdr + 2, (uint16_t)rbytes);
            if (w->large)
                pa_st32(hdr + 4, (uint32_t)vbytes);
            else
                pa_st16(hdr + 4, (uint16_t)vbytes), memcpy(hdr + 6, fe, 2);
            size_t rpad = (size_t)pa_align_up(rbytes, 8) - rbytes;
            size_t vpad = (size_t)pa_align_up(vbytes, 8) - vbytes;
            size_t chunk_bytes = sizeof hdr + rbytes + rpad + vbytes + vpad;
            uint32_t cw = (uint32_t)(((chunk_bytes / 8 - 1) << 4) |
                                     (nv == per_chunk ? c->log_chunk : 0));
            if (w->large)
                pa_st32(meta + 4 * k, cw);
            else
                pa_st16(meta + 2 * k, (uint16_t)cw);
            const void *parts[] = {hdr, rle, fe, items + first * c->row_bytes, fe};
            const size_t sizes[] = {sizeof hdr, rbytes, rpad, vbytes, vpad};
            for (size_t i = 0; i < 5 && st == PA_OK; i++)
                if (sizes[i])
                    st = stage_put(w, &fill, &started, &rec.buf_off[1], parts[i], sizes[i]);
            data_bytes += chunk_bytes;
        }
        free(rle);
        if (st == PA_OK && (st = stage_flush(w, &fill, &started, &rec.buf_off[1])) == PA_OK &&
            (st = write_aligned(w, meta, (size_t)nchunks * word, PA_LANCE_ALIGN,
                                &rec.buf_off[0])) == PA_OK)
            st = write_aligned(w, repidx, (size_t)nchunks * 16, PA_LANCE_ALIGN, &lr.rep_off);
        free(meta);
        rec.buf_size[0] = nchunks * word;
        rec.buf_size[1] = data_bytes;
        lr.rep_size = nchunks * 16;
        rec.num_bufs = 3;
    }
    if (st == PA_OK && (st = add_page(c, &rec, &lr)) == PA_OK)
        c->rows_flushed += nrows;
done:
    free(starts);
    free(aux);
    return st;
}

/* Writes the column's buffered rows as one page. */
static pa_status flush_page(pa_lance_writer *w, col_state *c)
{
    if (c->buf_rows == 0)
        return PA_OK;
    pa_status st = c->list ? write_list_page(w, c, c->buf, c->ls->lens, c->buf_rows)
                           : write_page(w, c, c->buf, c->buf_rows);
    if (st == PA_OK)
        c->buf_rows = 0;
    if (st == PA_OK && c->list)
        c->ls->buf_items = 0;
    return st;
}

/* Checks a list column's rows as given to append or write_pages: offsets increasing (no empty
 * list) and the items within what a page may hold. Returns the rows' items in *items. */
static pa_status check_lists(const pa_lance_writer *w, const col_state *c, const pa_lance_list *l,
                             uint64_t n, uint64_t *items)
{
    if (!l->offsets || (n && !l->items))
        return pa_fail(PA_ERR_INVALID, "%s: list column \"%s\": no offsets or items given", w->path,
                       c->field.name);
    for (uint64_t k = 0; k < n; k++)
        if (l->offsets[k + 1] <= l->offsets[k])
            return pa_fail(PA_ERR_INVALID,
                           "%s: list column \"%s\": row %llu of the append %s (offsets %llu, "
                           "%llu); partifact writes lists of at least one item",
                           w->path, c->field.name, (unsigned long long)k,
                           l->offsets[k + 1] == l->offsets[k] ? "is an empty list"
                                                              : "has decreasing offsets",
                           (unsigned long long)l->offsets[k],
                           (unsigned long long)l->offsets[k + 1]);
    *items = l->offsets[n] - l->offsets[0];
    if (*items > UINT32_MAX) /* FullZipLayout counts items in 32 bits */
        return pa_fail(PA_ERR_INVALID,
                       "%s: list column \"%s\": %llu items in one append; a page holds at most "
                       "%u",
                       w->path, c->field.name, (unsigned long long)*items, UINT32_MAX);
    return PA_OK;
}

/* Copies n list rows into the column's buffer, writing a page whenever the buffered items
 * reach the page size (at a row boundary: a row is never split between pages). */
static pa_status append_lists(pa_lance_writer *w, col_state *c, const pa_lance_list *l, uint64_t n,
                              size_t page_bytes)
{
    for (uint64_t k = 0; k < n; k++) {
        uint64_t len = l->offsets[k + 1] - l->offsets[k];
        const uint8_t *src = (const uint8_t *)l->items + l->offsets[k] * c->row_bytes;
        if (c->ls->buf_items + len > c->ls->cap_items) {
            /* doubling, but not past a page's items, unless one row needs more */
            const uint64_t page_items = (page_bytes + c->row_bytes - 1) / c->row_bytes;
            uint64_t cap = PA_MIN(c->ls->cap_items ? 2 * c->ls->cap_items : 1024, page_items);
            cap = PA_MAX(cap, c->ls->buf_items + len);
            uint8_t *b = pa_realloc(c->buf, (size_t)(cap * c->row_bytes), "list page buffer");
            if (!b)
                return PA_ERR_NOMEM;
            c->buf = b, c->ls->cap_items = cap;
        }
        if (c->buf_rows == c->ls->cap_lens &&
            !pa_grow(&c->ls->lens, &c->ls->cap_lens, sizeof *c->ls->lens, PAGE_RECS_FIRST,
                     "list rows"))
            return PA_ERR_NOMEM;
        memcpy(c->buf + c->ls->buf_items * c->row_bytes, src, (size_t)(len * c->row_bytes));
        c->ls->buf_items += len;
        c->ls->lens[c->buf_rows++] = len;
        pa_status st;
        if (c->ls->buf_items * c->row_bytes >= page_bytes && (st = flush_page(w, c)) != PA_OK)
            return st;
    }
    return PA_OK;
}

/* Writes n rows of every column as one new page each, bypassing the page buffers (rows already
 * buffered are written first, as their own pages). For producers that batch rows themselves,
 * such as the artifact writer flushing a sorted bucket: no copy, no page-sized buffer. */
pa_status pa_lance_writer_write_pages(pa_lance_writer *w, const void *const *columns, uint64_t n)
{
    pa_status st = pa_writer_state(w->path, "write", w->closed, "close", w->failed);
    if (st != PA_OK)
        return st;
    if (n == 0)
        return PA_OK;
    for (size_t i = 0; i < w->num_cols; i++) {
        col_state *c = &w->cols[i];
        uint64_t items;
        if (c->list && (st = check_lists(w, c, columns[i], n, &items)) != PA_OK)
            return st;
    }
    for (size_t i = 0; i < w->num_cols; i++) {
        col_state *c = &w->cols[i];
        st = flush_page(w, c);
        if (st == PA_OK && c->list) {
            const pa_lance_list *l = columns[i];
            uint64_t *lens = pa_malloc((size_t)n * sizeof *lens, "list rows");
            st = lens ? PA_OK : PA_ERR_NOMEM;
            for (uint64_t k = 0; lens && k < n; k++)
                lens[k] = l->offsets[k + 1] - l->offsets[k];
            if (st == PA_OK)
                st = write_list_page(w, c, (const uint8_t *)l->items + l->offsets[0] * c->row_bytes,
                                     lens, n);
            free(lens);
        } else if (st == PA_OK) {
            st = write_page(w, c, columns[i], n);
        }
        if (st != PA_OK)
            return writer_failed(w, st);
    }
    w->num_rows += n;
    free(w->stage); /* callers with many open writers should not keep 256 KiB in each */
    w->stage = NULL;
    return PA_OK;
}

/* XXH64 (seed 0) of the file's bytes, valid after a successful close. */
uint64_t pa_lance_writer_xxh64(const pa_lance_writer *w) { return XXH64_digest(w->hash); }

/* Rows per page of a column (create sets c->page_rows from it). */
static uint64_t page_rows_of(const col_state *c, size_t page_bytes)
{
    uint64_t rows = PA_MAX((uint64_t)1, page_bytes / c->row_bytes);
    if (!c->fullzip) /* whole chunks per page */
        rows = PA_MAX((uint64_t)1 << c->log_chunk, rows >> c->log_chunk << c->log_chunk);
    return rows;
}

/* A column's layout as create chooses it, into c (field, row bytes, layout, chunking). */
static void column_layout(col_state *c, const pa_field *f, const pa_lance_write_options *opts)
{
    c->field = *f;
    c->list = pa_type_is_list(f->type);
    c->row_bytes = pa_type_row_bytes(f->type, f->dim);
    c->item_bits = f->type == PA_TYPE_UINT64 ? 64 : f->type == PA_TYPE_FSL_UINT8 ? 8 : 32;
    int layout = opts ? opts->layout : PA_LAYOUT_AUTO;
    c->fullzip = layout == PA_LAYOUT_FULLZIP ||
                 (layout != PA_LAYOUT_MINIBLOCK && c->row_bytes >= FULLZIP_MIN_VALUE_BYTES);
    c->bitpack = opts && opts->bitpack && !c->fullzip &&
                 (f->type == PA_TYPE_UINT32 || f->type == PA_TYPE_UINT64);
    c->log_chunk = c->fullzip   ? 0
                   : c->bitpack ? BITPACK_LOG_CHUNK
                                : miniblock_log_chunk(c->row_bytes);
}

/* The file format minor version the options ask for (0: the default). */
static unsigned minor_of(const pa_lance_write_options *o)
{
    return o && o->minor_version ? o->minor_version : PA_DEFAULT_LANCE_FORMAT;
}

/* Bytes of one chunk-table entry of a mini-block page: 2, or 4 in 2.2 (large chunks). */
static unsigned chunk_word_bytes(const pa_lance_write_options *o)
{
    return minor_of(o) == PA_LANCE_FORMAT_2_2 ? 4 : 2;
}

uint64_t pa_lance_writer_estimate(size_t path_len, const pa_field *fields, size_t num_fields,
                                  const pa_lance_write_options *opts, uint64_t pages, bool buffered)
{
    const size_t page_bytes = opts && opts->page_bytes ? opts->page_bytes : PA_DEFAULT_PAGE_BYTES;
    uint64_t bytes = sizeof(pa_lance_writer) + path_len + 1 + sizeof(XXH64_state_t) +
                     num_fields * sizeof(col_state);
    bool miniblock = false;
    for (size_t i = 0; i < num_fields; i++) {
        col_state c = {0};
        column_layout(&c, &fields[i], opts);
        bytes += strlen(fields[i].name) + 1 +
                 page_rec_cap(pages) * (sizeof(page_rec) + (c.list ? sizeof(list_rec) : 0)) +
                 (c.list ? sizeof(list_state) : 0);
        if (buffered && c.list) /* items up to a page, then a row's (unbounded: the caller's) */
            bytes += page_bytes + (page_bytes / c.row_bytes + 1) * 2 * sizeof(uint64_t);
        else if (buffered)
            bytes += page_rows_of(&c, page_bytes) * c.row_bytes;
        miniblock |= !c.fullzip || c.list;
        /* a mini-block page's chunk table (2 bytes a chunk), while the page is written */
        if (!c.fullzip && buffered)
            bytes += ((page_rows_of(&c, page_bytes) >> c.log_chunk) + 1) * chunk_word_bytes(opts);
    }
    return bytes + (miniblock ? STAGE_BYTES : 0);
}

/* Creates the file and the per-column state (see the header). */
pa_status pa_lance_writer_create(pa_lance_writer **out, const char *path, const pa_field *fields,
                                 size_t num_fields, const pa_lance_write_options *opts_in)
{
    *out = NULL;
    if (!path || !fields || num_fields == 0)
        return pa_fail(PA_ERR_INVALID, "lance writer: a path and at least one field are needed");
    PA_LOAD_OPTS(pa_lance_write_options, lo, opts_in, PA_LANCE_WRITE_OPTIONS_INIT);
    const pa_lance_write_options *opts = &lo;
    size_t page_bytes = opts->page_bytes ? opts->page_bytes : PA_DEFAULT_PAGE_BYTES;
    pa_lance_writer *w = NULL;
    pa_status st = PA_OK;
    if (opts->minor_version != 0 && opts->minor_version != PA_LANCE_FORMAT_2_1 &&
        opts->minor_version != PA_LANCE_FORMAT_2_2) {
        st = pa_fail_field(PA_ERR_INVALID, "minor_version",
                           "%s: minor_version %u: the Lance file format versions written are "
                           "2.%u and 2.%u",
                           path, opts->minor_version, PA_LANCE_FORMAT_2_1, PA_LANCE_FORMAT_2_2);
        goto done;
    }
    for (size_t i = 0; i < num_fields; i++) {
        if ((st = pa_validate_field(&fields[i])) != PA_OK) {
            st = pa_fail_prefix(st, "%s", path);
            goto done;
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(fields[i].name, fields[j].name)) {
                st = pa_fail(PA_ERR_INVALID, "%s: two fields are named \"%s\"", path,
                             fields[i].name);
                goto done;
            }
    }
    if (!(w = pa_calloc(1, sizeof *w, "lance writer"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    w->fd = -1;
    w->path = pa_strdup(path, "path");
    w->cols = pa_calloc(num_fields, sizeof *w->cols, "columns");
    if (!w->path || !w->cols) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    w->num_cols = num_fields;
    w->minor = (uint8_t)minor_of(opts);
    w->large = w->minor == PA_LANCE_FORMAT_2_2;
    for (size_t i = 0; i < num_fields; i++) {
        col_state *c = &w->cols[i];
        column_layout(c, &fields[i], opts);
        c->nullable = opts->nullable && opts->nullable[i];
        c->field.name = pa_strdup(fields[i].name, "field name");
        if (opts->layout == PA_LAYOUT_MINIBLOCK && c->row_bytes >= MINIBLOCK_MAX_BYTES / 2) {
            st = pa_fail(PA_ERR_INVALID,
                         "%s: field \"%s\": %zu-byte values are too wide for "
                         "mini-block pages",
                         path, fields[i].name, c->row_bytes);
            goto done;
        }
        if (c->list && (c->ls = pa_calloc(1, sizeof *c->ls, "list column")))
            c->ls->page_bytes = page_bytes;
        else if (!c->list)
            c->page_rows = page_rows_of(c, page_bytes);
        if (!c->field.name || (c->list && !c->ls)) {
            st = PA_ERR_NOMEM;
            goto done;
        }
    }
    w->hash = XXH64_createState();
    if (!w->hash || XXH64_reset(w->hash, 0) != XXH_OK) {
        st = pa_fail(PA_ERR_NOMEM, "out of memory creating a checksum state");
        goto done;
    }
    if (opts && opts->in_new_dir) {
        w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (w->fd < 0)
            st = pa_fail(PA_ERR_IO, "%s: cannot create file: %s", path, strerror(errno));
        w->owns_path = w->fd >= 0;
        w->no_sync = opts->no_sync != 0;
    } else if ((st = pa_out_open(&w->out, path, opts && opts->replace)) == PA_OK) {
        w->via_tmp = true;
        w->fd = w->out.fd;
        w->out.fd = -1;
    }
done:
    if (st == PA_OK)
        *out = w;
    else
        pa_lance_writer_free(w);
    return st;
}

/* Copies rows into the column buffers, writing a page each time a buffer fills. */
pa_status pa_lance_writer_append(pa_lance_writer *w, const void *const *columns, uint64_t num_rows)
{
    pa_status st = pa_writer_state(w->path, "append", w->closed, "close", w->failed);
    if (st != PA_OK)
        return st;
    if (num_rows && !columns)
        return pa_fail(PA_ERR_INVALID, "%s: append of %llu rows without column data", w->path,
                       (unsigned long long)num_rows);
    for (size_t i = 0; i < w->num_cols; i++)
        if (num_rows && !columns[i])
            return pa_fail(PA_ERR_INVALID, "%s: append: no data for column \"%s\"", w->path,
                           w->cols[i].field.name);
    for (size_t i = 0; i < w->num_cols; i++) {
        uint64_t items;
        if (w->cols[i].list && num_rows &&
            (st = check_lists(w, &w->cols[i], columns[i], num_rows, &items)) != PA_OK)
            return st;
    }
    for (size_t i = 0; i < w->num_cols; i++) {
        col_state *c = &w->cols[i];
        if (c->list) {
            if (num_rows &&
                (st = append_lists(w, c, columns[i], num_rows, c->ls->page_bytes)) != PA_OK)
                return writer_failed(w, st);
            continue;
        }
        const uint8_t *src = columns[i];
        uint64_t left = num_rows;
        if (left && !c->buf &&
            !(c->buf = pa_malloc((size_t)c->page_rows * c->row_bytes, "page buffer")))
            return writer_failed(w, PA_ERR_NOMEM);
        while (left) {
            uint64_t take = PA_MIN(left, c->page_rows - c->buf_rows);
            memcpy(c->buf + c->buf_rows * c->row_bytes, src, (size_t)(take * c->row_bytes));
            c->buf_rows += take;
            src += take * c->row_bytes;
            left -= take;
            if (c->buf_rows == c->page_rows) {
                st = flush_page(w, c);
                if (st != PA_OK)
                    return writer_failed(w, st);
            }
        }
    }
    w->num_rows += num_rows;
    return PA_OK;
}

/* Records (or replaces) a schema metadata entry. */
pa_status pa_lance_writer_set_metadata(pa_lance_writer *w, const char *key, const void *value,
                                       size_t value_len)
{
    pa_status st = pa_writer_state(w->path, "set_metadata", w->closed, "close", w->failed);
    if (st != PA_OK)
        return st;
    if (!key || !key[0] || (value_len && !value))
        return pa_fail(PA_ERR_INVALID, "%s: metadata needs a key and a value", w->path);
    char *k = NULL;
    uint8_t *copy = pa_malloc(value_len, "metadata value");
    if (!copy) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    if (value_len)
        memcpy(copy, value, value_len);
    for (size_t i = 0; i < w->num_meta; i++)
        if (!strcmp(w->meta[i].key, key)) {
            free(w->meta[i].value);
            w->meta[i].value = copy;
            w->meta[i].len = value_len;
            copy = NULL; /* the entry's now */
            goto done;
        }
    pa_lance_meta *m = pa_realloc(w->meta, (w->num_meta + 1) * sizeof *m, "metadata");
    if (!m || !(k = pa_strdup(key, "metadata key"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    w->meta = m;
    w->meta[w->num_meta++] = (pa_lance_meta){k, copy, value_len};
    copy = NULL, k = NULL;
done:
    free(copy);
    free(k);
    return st;
}

/* Writes an extra global buffer immediately and remembers where it went. */
pa_status pa_lance_writer_add_global_buffer(pa_lance_writer *w, const void *data, size_t len,
                                            uint32_t *index_out)
{
    pa_status st = pa_writer_state(w->path, "add_global_buffer", w->closed, "close", w->failed);
    if (st != PA_OK)
        return st;
    if (len && !data)
        return pa_fail(PA_ERR_INVALID, "%s: global buffer of %zu bytes without data", w->path, len);
    uint64_t *off = pa_realloc(w->gbuf_off, (w->num_gbufs + 1) * sizeof *off, "global buffers");
    if (!off)
        return PA_ERR_NOMEM;
    w->gbuf_off = off;
    uint64_t *size = pa_realloc(w->gbuf_size, (w->num_gbufs + 1) * sizeof *size, "global buffers");
    if (!size)
        return PA_ERR_NOMEM;
    w->gbuf_size = size;
    uint64_t at;
    st = write_aligned(w, data, len, PA_LANCE_ALIGN, &at);
    if (st != PA_OK)
        return writer_failed(w, st);
    w->gbuf_off[w->num_gbufs] = at;
    w->gbuf_size[w->num_gbufs] = len;
    w->num_gbufs++;
    if (index_out)
        *index_out = (uint32_t)w->num_gbufs;
    return PA_OK;
}

/* Packs Any{type_url, value} (how Lance wraps every encoding description); malloc'd. */
static uint8_t *pack_any(const char *type_url, const uint8_t *value, size_t len, size_t *out_len)
{
    Pa__Lancepb__Any any = PA__LANCEPB__ANY__INIT;
    any.type_url = (char *)type_url;
    any.value.data = (uint8_t *)value;
    any.value.len = len;
    *out_len = pa__lancepb__any__get_packed_size(&any);
    uint8_t *buf = pa_malloc(*out_len, "encoding");
    if (buf)
        pa__lancepb__any__pack(&any, buf);
    return buf;
}

/* The PageLayout of a page of column c with num_rows rows, packed inside an Any. */
static uint8_t *pack_page_layout(const pa_lance_writer *w, const col_state *c, const page_rec *p,
                                 size_t *out_len)
{
    const uint64_t num_rows = c->list ? c->ls->lrecs[p - c->pages].num_items : p->num_rows;
    Pa__Lancepb__Flat flat = PA__LANCEPB__FLAT__INIT;
    Pa__Lancepb__CompressiveEncoding items = PA__LANCEPB__COMPRESSIVE_ENCODING__INIT;
    Pa__Lancepb__FixedSizeList fsl = PA__LANCEPB__FIXED_SIZE_LIST__INIT;
    Pa__Lancepb__CompressiveEncoding value = PA__LANCEPB__COMPRESSIVE_ENCODING__INIT;
    Pa__Lancepb__InlineBitpacking ib = PA__LANCEPB__INLINE_BITPACKING__INIT;
    flat.bits_per_value = c->item_bits;
    if (c->field.type == PA_TYPE_FSL_UINT8 || c->field.type == PA_TYPE_FSL_FLOAT32 ||
        c->field.type == PA_TYPE_LIST_FSL_FLOAT32) {
        items.compression_case = PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_FLAT;
        items.flat = &flat;
        fsl.items_per_value = c->field.dim;
        fsl.values = &items;
        value.compression_case = PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_FIXED_SIZE_LIST;
        value.fixed_size_list = &fsl;
    } else if (c->bitpack) {
        ib.uncompressed_bits_per_value = c->item_bits;
        value.compression_case = PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_INLINE_BITPACKING;
        value.inline_bitpacking = &ib;
    } else {
        value.compression_case = PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_FLAT;
        value.flat = &flat;
    }
    Pa__Lancepb__RepDefLayer layers[2] = {PA__LANCEPB__REP_DEF_LAYER__REPDEF_ALL_VALID_ITEM,
                                          PA__LANCEPB__REP_DEF_LAYER__REPDEF_ALL_VALID_LIST};
    const size_t n_layers = c->list ? 2 : 1;
    /* a list's repetition levels in mini-block chunks: runs (RLE of u16 values, u8 lengths) */
    Pa__Lancepb__Flat rep_vals = PA__LANCEPB__FLAT__INIT, rep_lens = PA__LANCEPB__FLAT__INIT;
    Pa__Lancepb__CompressiveEncoding rv = PA__LANCEPB__COMPRESSIVE_ENCODING__INIT,
                                     rl = PA__LANCEPB__COMPRESSIVE_ENCODING__INIT,
                                     repc = PA__LANCEPB__COMPRESSIVE_ENCODING__INIT;
    Pa__Lancepb__Rle rle = PA__LANCEPB__RLE__INIT;
    rep_vals.bits_per_value = 16, rep_lens.bits_per_value = 8;
    rv.compression_case = rl.compression_case = PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_FLAT;
    rv.flat = &rep_vals, rl.flat = &rep_lens;
    rle.values = &rv, rle.run_lengths = &rl;
    repc.compression_case = PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_RLE;
    repc.rle = &rle;
    Pa__Lancepb__PageLayout layout = PA__LANCEPB__PAGE_LAYOUT__INIT;
    Pa__Lancepb__MiniBlockLayout mb = PA__LANCEPB__MINI_BLOCK_LAYOUT__INIT;
    Pa__Lancepb__FullZipLayout fz = PA__LANCEPB__FULL_ZIP_LAYOUT__INIT;
    if (c->fullzip) {
        fz.details_case = PA__LANCEPB__FULL_ZIP_LAYOUT__DETAILS_BITS_PER_VALUE;
        fz.bits_per_value = (uint32_t)(c->row_bytes * 8);
        fz.num_items = (uint32_t)num_rows;
        fz.num_visible_items = (uint32_t)num_rows;
        fz.value_compression = &value;
        fz.n_layers = n_layers;
        fz.layers = layers;
        fz.bits_rep = c->list ? 1 : 0;
        layout.layout_case = PA__LANCEPB__PAGE_LAYOUT__LAYOUT_FULL_ZIP_LAYOUT;
        layout.full_zip_layout = &fz;
    } else {
        mb.value_compression = &value;
        mb.n_layers = n_layers;
        mb.layers = layers;
        if (c->list) {
            mb.rep_compression = &repc;
            mb.repetition_index_depth = 1;
        }
        mb.num_buffers = 1;
        mb.num_items = num_rows;
        mb.has_large_chunk = w->large;
        layout.layout_case = PA__LANCEPB__PAGE_LAYOUT__LAYOUT_MINI_BLOCK_LAYOUT;
        layout.mini_block_layout = &mb;
    }
    size_t len = pa__lancepb__page_layout__get_packed_size(&layout);
    uint8_t *buf = pa_malloc(len, "page layout");
    if (!buf)
        return NULL;
    pa__lancepb__page_layout__pack(&layout, buf);
    uint8_t *any = pack_any("/lance.encodings21.PageLayout", buf, len, out_len);
    free(buf);
    return any;
}

/* Packs column c's ColumnMetadata: the (empty) column encoding and one record per page, each
 * with its buffers and its PageLayout as a direct encoding. */
static uint8_t *pack_column_metadata(const pa_lance_writer *w, const col_state *c, size_t *out_len)
{
    Pa__Lancepb__Empty empty = PA__LANCEPB__EMPTY__INIT;
    Pa__Lancepb__ColumnEncoding colenc = PA__LANCEPB__COLUMN_ENCODING__INIT;
    colenc.column_encoding_case = PA__LANCEPB__COLUMN_ENCODING__COLUMN_ENCODING_VALUES;
    colenc.values = &empty;
    uint8_t colenc_buf[16];
    size_t colenc_len = pa__lancepb__column_encoding__pack(&colenc, colenc_buf);
    size_t n = c->num_pages;

    Pa__Lancepb__DirectEncoding col_direct = PA__LANCEPB__DIRECT_ENCODING__INIT;
    Pa__Lancepb__Encoding col_enc = PA__LANCEPB__ENCODING__INIT;
    col_direct.encoding.data = pack_any("/lance.encodings.ColumnEncoding", colenc_buf, colenc_len,
                                        &col_direct.encoding.len);
    col_enc.location_case = PA__LANCEPB__ENCODING__LOCATION_DIRECT;
    col_enc.direct = &col_direct;

    Pa__Lancepb__ColumnMetadata__Page *pages = pa_calloc(n, sizeof *pages, "pages");
    Pa__Lancepb__ColumnMetadata__Page **page_ptrs = pa_calloc(n, sizeof *page_ptrs, "pages");
    Pa__Lancepb__DirectEncoding *directs = pa_calloc(n, sizeof *directs, "page encodings");
    Pa__Lancepb__Encoding *encs = pa_calloc(n, sizeof *encs, "page encodings");
    uint64_t *bufs = c->list ? pa_calloc(n * 6, sizeof *bufs, "page buffers") : NULL;
    uint8_t *out = NULL;
    bool ok = col_direct.encoding.data && pages && page_ptrs && directs && encs &&
              (bufs || !c->list || !n);
    for (size_t i = 0; ok && i < n; i++) {
        const page_rec *p = &c->pages[i];
        pa__lancepb__direct_encoding__init(&directs[i]);
        directs[i].encoding.data = pack_page_layout(w, c, p, &directs[i].encoding.len);
        if (!directs[i].encoding.data) {
            ok = false;
            break;
        }
        pa__lancepb__encoding__init(&encs[i]);
        encs[i].location_case = PA__LANCEPB__ENCODING__LOCATION_DIRECT;
        encs[i].direct = &directs[i];
        pa__lancepb__column_metadata__page__init(&pages[i]);
        pages[i].n_buffer_offsets = (size_t)p->num_bufs;
        pages[i].n_buffer_sizes = (size_t)p->num_bufs;
        if (p->num_bufs == 3) { /* a mini-block list page: its repetition index third */
            memcpy(bufs + 6 * i, p->buf_off, 2 * sizeof *bufs);
            bufs[6 * i + 2] = c->ls->lrecs[i].rep_off;
            memcpy(bufs + 6 * i + 3, p->buf_size, 2 * sizeof *bufs);
            bufs[6 * i + 5] = c->ls->lrecs[i].rep_size;
            pages[i].buffer_offsets = bufs + 6 * i;
            pages[i].buffer_sizes = bufs + 6 * i + 3;
        } else {
            pages[i].buffer_offsets = (uint64_t *)p->buf_off;
            pages[i].buffer_sizes = (uint64_t *)p->buf_size;
        }
        pages[i].length = p->num_rows;
        pages[i].priority = p->first_row;
        pages[i].encoding = &encs[i];
        page_ptrs[i] = &pages[i];
    }
    if (ok) {
        Pa__Lancepb__ColumnMetadata cm = PA__LANCEPB__COLUMN_METADATA__INIT;
        cm.encoding = &col_enc;
        cm.n_pages = n;
        cm.pages = page_ptrs;
        *out_len = pa__lancepb__column_metadata__get_packed_size(&cm);
        out = pa_malloc(*out_len, "column metadata");
        if (out)
            pa__lancepb__column_metadata__pack(&cm, out);
    }
    for (size_t i = 0; directs && i < n; i++)
        free(directs[i].encoding.data);
    free(col_direct.encoding.data);
    free(encs);
    free(bufs);
    free(directs);
    free(page_ptrs);
    free(pages);
    return out;
}

/* Packs the FileDescriptor (schema + row count) that goes into global buffer 0. */
static uint8_t *pack_schema(const pa_lance_writer *w, size_t *out_len)
{
    pa_field *fields = pa_calloc(w->num_cols, sizeof *fields, "schema");
    if (!fields)
        return NULL;
    for (size_t i = 0; i < w->num_cols; i++)
        fields[i] = w->cols[i].field;
    size_t n_pb = 0;
    int32_t *leaf = pa_calloc(w->num_cols, sizeof *leaf, "schema");
    Pa__Lancepb__Field **pb = leaf ? pa_pb_fields_new(fields, w->num_cols, &n_pb, leaf) : NULL;
    free(fields);
    for (size_t i = 0; pb && i < w->num_cols; i++) /* a list's nullability is its own */
        pb[leaf[i] - (w->cols[i].list ? 1 : 0)]->nullable = w->cols[i].nullable;
    free(leaf);
    Pa__Lancepb__BytesEntry *entries = pa_calloc(w->num_meta, sizeof *entries, "metadata");
    Pa__Lancepb__BytesEntry **entry_ptrs = pa_calloc(w->num_meta, sizeof *entry_ptrs, "metadata");
    uint8_t *out = NULL;
    if (pb && entries && entry_ptrs) {
        for (size_t i = 0; i < w->num_meta; i++) {
            pa__lancepb__bytes_entry__init(&entries[i]);
            entries[i].key = w->meta[i].key;
            entries[i].value.data = w->meta[i].value;
            entries[i].value.len = w->meta[i].len;
            entry_ptrs[i] = &entries[i];
        }
        Pa__Lancepb__Schema schema = PA__LANCEPB__SCHEMA__INIT;
        schema.n_fields = n_pb;
        schema.fields = pb;
        schema.n_metadata = w->num_meta;
        schema.metadata = entry_ptrs;
        Pa__Lancepb__FileDescriptor fd = PA__LANCEPB__FILE_DESCRIPTOR__INIT;
        fd.schema = &schema;
        fd.length = w->num_rows;
        *out_len = pa__lancepb__file_descriptor__get_packed_size(&fd);
        out = pa_malloc(*out_len, "schema");
        if (out)
            pa__lancepb__file_descriptor__pack(&fd, out);
    }
    free(entry_ptrs);
    free(entries);
    pa_pb_fields_free(pb, n_pb);
    return out;
}

/* Writes everything after the data pages (see the file comment) and fsyncs. */
static pa_status write_tail(pa_lance_writer *w)
{
    pa_status st;
    for (size_t i = 0; i < w->num_cols; i++)
        if ((st = flush_page(w, &w->cols[i])) != PA_OK)
            return st;

    size_t len;
    uint8_t *schema = pack_schema(w, &len);
    if (!schema)
        return PA_ERR_NOMEM;
    uint64_t schema_off;
    st = write_aligned(w, schema, len, PA_LANCE_ALIGN, &schema_off);
    free(schema);
    if (st != PA_OK)
        return st;
    uint64_t schema_len = len;

    size_t ngb = w->num_gbufs + 1;
    uint64_t *cmo = pa_calloc(w->num_cols * 2, sizeof *cmo, "column offset table");
    uint64_t *gbo = pa_calloc(ngb * 2, sizeof *gbo, "global buffer table");
    if (!cmo || !gbo) {
        free(cmo);
        free(gbo);
        return PA_ERR_NOMEM;
    }
    uint64_t col_meta_start = w->pos;
    for (size_t i = 0; i < w->num_cols && st == PA_OK; i++) {
        uint8_t *cm = pack_column_metadata(w, &w->cols[i], &len);
        if (!cm) {
            st = PA_ERR_NOMEM;
            break;
        }
        st = write_aligned(w, cm, len, 1, &cmo[2 * i]);
        cmo[2 * i + 1] = len;
        free(cm);
    }
    uint64_t cmo_start = w->pos, gbo_start = 0;
    if (st == PA_OK)
        st = write_aligned(w, cmo, w->num_cols * 16, 1, NULL);
    gbo[0] = schema_off;
    gbo[1] = schema_len;
    for (size_t i = 0; i < w->num_gbufs; i++) {
        gbo[2 * (i + 1)] = w->gbuf_off[i];
        gbo[2 * (i + 1) + 1] = w->gbuf_size[i];
    }
    gbo_start = w->pos;
    if (st == PA_OK)
        st = write_aligned(w, gbo, ngb * 16, 1, NULL);
    free(cmo);
    free(gbo);
    if (st != PA_OK)
        return st;

    uint8_t footer[PA_LANCE_FOOTER_BYTES];
    pa_st64(footer, col_meta_start);
    pa_st64(footer + 8, cmo_start);
    pa_st64(footer + 16, gbo_start);
    pa_st32(footer + 24, (uint32_t)ngb);
    pa_st32(footer + 28, (uint32_t)w->num_cols);
    pa_st16(footer + 32, PA_LANCE_MAJOR);
    pa_st16(footer + 34, (uint16_t)w->minor);
    memcpy(footer + 36, PA_LANCE_MAGIC, 4);
    if ((st = write_aligned(w, footer, sizeof footer, 1, NULL)) != PA_OK)
        return st;
    /* via_tmp: the commit fsyncs; no_sync: a scratch file */
    return w->via_tmp || w->no_sync ? PA_OK : pa_fsync_fd(w->fd, w->path);
}

/* Finishes the file (see the header). */
pa_status pa_lance_writer_close(pa_lance_writer *w)
{
    pa_status st = pa_writer_state(w->path, "close", w->closed, "close", w->failed);
    if (st != PA_OK)
        return st;
    st = write_tail(w);
    if (st != PA_OK)
        return writer_failed(w, st);
    if (w->via_tmp) {
        w->out.fd = w->fd;
        w->fd = -1;
        w->via_tmp = false; /* the commit owns the temporary file now */
        if ((st = pa_out_commit(&w->out)) != PA_OK)
            return writer_failed(w, st); /* the temporary file is gone; path is untouched */
    } else if (close(w->fd) != 0) {
        w->fd = -1;
        return writer_failed(w,
                             pa_fail(PA_ERR_IO, "%s: close failed: %s", w->path, strerror(errno)));
    }
    w->fd = -1;
    w->closed = true;
    for (size_t i = 0; i < w->num_cols; i++) { /* page buffers are no longer needed */
        free(w->cols[i].buf);
        w->cols[i].buf = NULL;
    }
    return PA_OK;
}

uint64_t pa_lance_writer_num_rows(const pa_lance_writer *w) { return w->num_rows; }

uint64_t pa_lance_writer_bytes_written(const pa_lance_writer *w) { return w->pos; }

/* Frees the writer, removing the file unless it was closed successfully. */
void pa_lance_writer_free(pa_lance_writer *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    if (w->via_tmp)
        pa_out_abort(&w->out); /* removes the temporary file; path is untouched */
    else if (!w->closed && w->owns_path)
        unlink(w->path);
    for (size_t i = 0; w->cols && i < w->num_cols; i++) {
        free((char *)w->cols[i].field.name);
        free(w->cols[i].buf);
        free(w->cols[i].pages);
        if (w->cols[i].list && w->cols[i].ls) {
            free(w->cols[i].ls->lens);
            free(w->cols[i].ls->lrecs);
            free(w->cols[i].ls);
        }
    }
    pa_lance_meta_free(w->meta, w->num_meta);
    free(w->cols);
    free(w->gbuf_off);
    free(w->gbuf_size);
    free(w->stage);
    if (w->hash)
        XXH64_freeState(w->hash);
    free(w->path);
    free(w);
}
