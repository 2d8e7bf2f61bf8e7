/* Deletion files of a Lance table: which row offsets of a fragment are deleted.
 *
 *   <root>/_deletions/<fragment id>-<read version>-<id>.arrow   ARROW_ARRAY (file_type 0): an
 *       Arrow IPC file with one record batch of one 32-bit integer column, the deleted offsets;
 *       LanceDB compresses its buffers (Arrow BodyCompression, zstd).
 *   <root>/_deletions/<fragment id>-<read version>-<id>.bin     BITMAP (file_type 1): a Roaring
 *       bitmap of the deleted offsets in the portable serialization (read with CRoaring).
 *
 * Either way the result is a CRoaring bitmap of the fragment's deleted offsets, checked against
 * the manifest's num_deleted_rows and the fragment's physical row count.
 *
 * The Arrow IPC reading is the minimum for that file: the encapsulated messages ("ARROW1",
 * then 0xFFFFFFFF, int32 metadata size, a flatbuffer Message, its body) are walked to the first
 * RecordBatch, whose FieldNode and Buffer vectors locate the values. */
#include "lance/lance_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <roaring/roaring.h>
#include <stdlib.h>
#include <unistd.h>
#include <zstd.h>

/* Deletion files larger than this are refused as implausible (a bitmap of 2^32 offsets is
 * 512 MiB; an arrow file lists at most the fragment's rows). */
#define DELETION_MAX_BYTES ((uint64_t)1 << 30)
#define ARROW_MAGIC "ARROW1"
#define ARROW_HEADER_RECORD_BATCH 3
#define ARROW_CODEC_ZSTD 1

/* A bounds-checked view of a flatbuffer. */
typedef struct fb {
    const uint8_t *p;
    size_t len;
} fb;

/* The position of field k of the table at t, or 0 when the field is absent or out of range. */
static size_t fb_field(const fb *b, size_t t, unsigned k)
{
    if (t + 4 > b->len)
        return 0;
    int32_t soff = (int32_t)pa_ld32(b->p + t);
    int64_t vt = (int64_t)t - soff;
    if (vt < 0 || (uint64_t)vt + 4 > b->len)
        return 0;
    uint16_t vsize = pa_ld16(b->p + vt);
    if (4 + 2 * (size_t)k + 2 > vsize || (uint64_t)vt + vsize > b->len)
        return 0;
    uint16_t off = pa_ld16(b->p + vt + 4 + 2 * k);
    return off && t + off < b->len ? t + off : 0;
}

/* Follows the uoffset at position at (a table or vector); 0 when out of range. */
static size_t fb_deref(const fb *b, size_t at)
{
    if (!at || at + 4 > b->len)
        return 0;
    uint64_t to = (uint64_t)at + pa_ld32(b->p + at);
    return to + 4 <= b->len ? (size_t)to : 0;
}

/* Reads a scalar field of width bytes (1, 2 or 8) as an integer, def when absent. */
static int64_t fb_int(const fb *b, size_t t, unsigned k, unsigned width, int64_t def)
{
    size_t at = fb_field(b, t, k);
    if (!at || at + width > b->len)
        return def;
    switch (width) {
    case 1: return (int8_t)b->p[at];
    case 2: return (int16_t)pa_ld16(b->p + at);
    default: return (int64_t)pa_ld64(b->p + at);
    }
}

/* A vector of 16-byte structs at field k: *n elements starting at *at. */
static bool fb_struct_vec(const fb *b, size_t t, unsigned k, size_t *at, size_t *n)
{
    size_t v = fb_deref(b, fb_field(b, t, k));
    if (!v)
        return false;
    uint32_t count = pa_ld32(b->p + v);
    if (count > (b->len - v - 4) / 16)
        return false;
    *at = v + 4, *n = count;
    return true;
}

/* Buffer i of the record batch body as plain bytes (decompressed if the batch is compressed):
 * *out is malloc'd, *out_len its size. */
static pa_status arrow_buffer(const char *path, const uint8_t *body, uint64_t body_len,
                              uint64_t off, uint64_t len, int codec, uint64_t need, uint8_t **out,
                              size_t *out_len)
{
    *out = NULL, *out_len = 0;
    if (off > body_len || len > body_len - off)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: record batch buffer of %" PRIu64 " bytes at body "
                       "offset %" PRIu64 " lies outside the %" PRIu64 "-byte body",
                       path, len, off, body_len);
    const uint8_t *src = body + off;
    if (codec < 0 || len == 0) { /* uncompressed */
        if (!(*out = pa_malloc(len ? (size_t)len : 1, "deletion values")))
            return PA_ERR_NOMEM;
        memcpy(*out, src, (size_t)len);
        *out_len = (size_t)len;
        return PA_OK;
    }
    if (len < 8)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: compressed buffer at body offset %" PRIu64 " has %" PRIu64
                       " bytes, less than its 8-byte length prefix",
                       path, off, len);
    int64_t raw = (int64_t)pa_ld64(src);
    if (raw == -1) { /* stored uncompressed */
        if (!(*out = pa_malloc(len - 8 ? (size_t)(len - 8) : 1, "deletion values")))
            return PA_ERR_NOMEM;
        memcpy(*out, src + 8, (size_t)(len - 8));
        *out_len = (size_t)(len - 8);
        return PA_OK;
    }
    if (codec != ARROW_CODEC_ZSTD)
        return pa_fail(PA_ERR_UNSUPPORTED,
                       "%s: record batch is compressed with Arrow codec %d "
                       "(LZ4 frame); partifact reads zstd-compressed deletion files",
                       path, codec);
    /* need: what the values take; Arrow pads a buffer to at most 64 bytes more */
    if (raw < 0 || (uint64_t)raw > DELETION_MAX_BYTES || (uint64_t)raw > need + 64)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: compressed buffer at body offset %" PRIu64 " claims %" PRId64
                       " bytes uncompressed; its values need %" PRIu64,
                       path, off, raw, need);
    if (!(*out = pa_malloc(raw ? (size_t)raw : 1, "deletion values")))
        return PA_ERR_NOMEM;
    size_t got = ZSTD_decompress(*out, (size_t)raw, src + 8, (size_t)(len - 8));
    if (ZSTD_isError(got) || got != (size_t)raw) {
        free(*out);
        *out = NULL;
        return pa_fail(PA_ERR_FORMAT,
                       "%s: compressed buffer at body offset %" PRIu64 " does not "
                       "decompress to its %" PRId64 " bytes: %s",
                       path, off, raw, ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short");
    }
    *out_len = (size_t)raw;
    return PA_OK;
}

/* Adds the offsets listed in an ARROW_ARRAY deletion file (buf, len bytes) to bm. */
static pa_status read_arrow(const char *path, const uint8_t *buf, size_t len,
                            uint64_t physical_rows, roaring_bitmap_t *bm)
{
    if (len < 8 || memcmp(buf, ARROW_MAGIC, 6) != 0)
        return pa_fail(PA_ERR_FORMAT, "%s: not an Arrow IPC file (no \"ARROW1\" magic)", path);
    size_t at = 8;
    while (at < 64 && at + 4 <= len && pa_ld32(buf + at) == 0)
        at += 8; /* writers aligning to 64 bytes pad the magic with zeros */
    while (at + 8 <= len) {
        uint32_t cont = pa_ld32(buf + at);
        size_t meta_at = at + 8;
        uint32_t meta_len = pa_ld32(buf + at + 4);
        if (cont != 0xFFFFFFFFu) /* pre-0.15 framing: no continuation marker */
            meta_len = cont, meta_at = at + 4;
        if (meta_len == 0)
            break; /* end of stream */
        if (meta_len > len - meta_at)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: Arrow message at byte offset %zu claims %u bytes "
                           "of metadata, the file has %zu",
                           path, at, meta_len, len);
        fb b = {buf + meta_at, meta_len};
        size_t msg = meta_len >= 4 ? pa_ld32(b.p) : 0; /* the root table */
        if (msg + 4 > meta_len)
            msg = 0;
        int64_t body_len = fb_int(&b, msg, 3, 8, 0);
        size_t body_at = meta_at + meta_len;
        if (!msg || body_len < 0 || (uint64_t)body_len > len - body_at)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: Arrow message at byte offset %zu is malformed or "
                           "its body runs past the end of the file",
                           path, at);
        if (fb_int(&b, msg, 1, 1, 0) != ARROW_HEADER_RECORD_BATCH) {
            at = body_at + (size_t)body_len;
            continue;
        }
        size_t rb = fb_deref(&b, fb_field(&b, msg, 2));
        size_t nodes_at, num_nodes, bufs_at, num_bufs;
        if (!rb || !fb_struct_vec(&b, rb, 1, &nodes_at, &num_nodes) ||
            !fb_struct_vec(&b, rb, 2, &bufs_at, &num_bufs) || num_nodes != 1 || num_bufs != 2)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: the record batch at byte offset %zu is not one "
                           "column of integers (expected 1 field node and 2 buffers)",
                           path, at);
        int64_t rows = (int64_t)pa_ld64(b.p + nodes_at);
        int64_t nulls = (int64_t)pa_ld64(b.p + nodes_at + 8);
        size_t comp = fb_deref(&b, fb_field(&b, rb, 3));
        int codec = comp ? (int)fb_int(&b, comp, 0, 1, 0) : -1;
        if (rows < 0 || nulls != 0)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: the deleted offsets hold %" PRId64 " rows with %" PRId64
                           " nulls (expected no nulls)",
                           path, rows, nulls);
        if ((uint64_t)rows > physical_rows)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: lists %" PRId64 " deleted offsets in a fragment of %" PRIu64
                           " rows",
                           path, rows, physical_rows);
        uint8_t *vals = NULL;
        size_t vlen = 0;
        pa_status st = arrow_buffer(path, buf + body_at, (uint64_t)body_len,
                                    pa_ld64(b.p + bufs_at + 16), pa_ld64(b.p + bufs_at + 24), codec,
                                    (uint64_t)rows * 4, &vals, &vlen);
        if (st != PA_OK)
            return st;
        if (vlen / 4 < (uint64_t)rows) {
            free(vals);
            return pa_fail(PA_ERR_FORMAT,
                           "%s: %" PRId64 " deleted offsets need %" PRIu64 " bytes, "
                           "the values buffer has %zu",
                           path, rows, (uint64_t)rows * 4, vlen);
        }
        for (int64_t i = 0; i < rows; i++)
            roaring_bitmap_add(bm, pa_ld32(vals + 4 * i));
        free(vals);
        return PA_OK;
    }
    return pa_fail(PA_ERR_FORMAT, "%s: Arrow IPC file holds no record batch", path);
}

pa_status pa_deletion_read(const char *path, int file_type, uint64_t num_deleted,
                           uint64_t physical_rows, void **out)
{
    *out = NULL;
    uint8_t *buf = NULL;
    roaring_bitmap_t *bm = NULL;
    uint64_t size = 0;
    pa_status st = PA_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        st = pa_fail_errno(errno, "%s: cannot open deletion file: %s", path, strerror(errno));
        goto done;
    }
    if ((st = pa_file_size(fd, path, &size)) != PA_OK)
        goto done;
    if (size > DELETION_MAX_BYTES) {
        st = pa_fail(PA_ERR_FORMAT, "%s: deletion file of %" PRIu64 " bytes is implausibly large",
                     path, size);
        goto done;
    }
    if (!(buf = pa_malloc(size ? (size_t)size : 1, "deletion file"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    if ((st = pa_pread_full(fd, buf, (size_t)size, 0, path)) != PA_OK)
        goto done;
    if (file_type == 0) {
        if (!(bm = roaring_bitmap_create())) {
            st = pa_fail(PA_ERR_NOMEM, "out of memory: deletion bitmap");
            goto done;
        }
        if ((st = read_arrow(path, buf, (size_t)size, physical_rows, bm)) != PA_OK)
            goto done;
    } else if (file_type == 1) {
        /* the size check first: CRoaring 0.2's deserializer prints to stderr when the bytes
         * run out, and the library never prints */
        size_t need = roaring_bitmap_portable_deserialize_size((const char *)buf, (size_t)size);
        if (need && need <= size)
            bm = roaring_bitmap_portable_deserialize_safe((const char *)buf, (size_t)size);
        if (!bm) {
            st = pa_fail(PA_ERR_FORMAT, "%s: not a portable Roaring bitmap (%" PRIu64 " bytes)",
                         path, size);
            goto done;
        }
    } else {
        st = pa_fail(PA_ERR_UNSUPPORTED,
                     "%s: deletion file type %d is not one Lance defines "
                     "(0 arrow array, 1 bitmap)",
                     path, file_type);
        goto done;
    }
    uint64_t card = roaring_bitmap_get_cardinality(bm);
    if (card != num_deleted) {
        st = pa_fail(PA_ERR_FORMAT,
                     "%s: lists %" PRIu64 " deleted rows, the manifest says %" PRIu64, path, card,
                     num_deleted);
        goto done;
    }
    if (card && roaring_bitmap_maximum(bm) >= physical_rows) {
        st = pa_fail(PA_ERR_FORMAT, "%s: deletes row offset %u of a fragment of %" PRIu64 " rows",
                     path, roaring_bitmap_maximum(bm), physical_rows);
        goto done;
    }
    *out = bm;
    bm = NULL;
done:
    if (fd >= 0)
        close(fd);
    free(buf);
    pa_deletion_free(bm);
    return st;
}

bool pa_deletion_has(const void *bm, uint32_t offset)
{
    return bm && roaring_bitmap_contains(bm, offset);
}

uint32_t pa_deletion_nth_live(const void *bm, uint32_t k)
{
    if (!bm)
        return k;
    /* the smallest offset x with x + 1 - rank(x) == k + 1, i.e. k live offsets before it */
    uint64_t lo = k, hi = (uint64_t)k + roaring_bitmap_get_cardinality(bm);
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        uint64_t live = mid + 1 - roaring_bitmap_rank(bm, (uint32_t)mid);
        if (live >= (uint64_t)k + 1)
            hi = mid;
        else
            lo = mid + 1;
    }
    return (uint32_t)lo;
}

void pa_deletion_free(void *bm)
{
    if (bm) /* CRoaring 0.2 does not take NULL */
        roaring_bitmap_free(bm);
}
