/* Lance file writer/reader: round trips of every column type across many pages, random row
 * ranges, metadata and global buffers, FastLanes bit-packing, and one test per kind of bad
 * input (each checking the status and the words of the message). */
#include "lance/lance_internal.h"
#include "test.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>


static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Column values as functions of the row, so any range can be checked. */
static uint64_t v_u64(uint64_t i) { return i * 0x9E3779B97F4A7C15ull; }
static uint32_t v_u32(uint64_t i) { return (uint32_t)(i * 2654435761u); }
static float v_f32(uint64_t i) { return (float)i * 0.5f - 1000.0f; }
static uint8_t v_code(uint64_t i, uint32_t j) { return (uint8_t)(i * 7 + j * 13); }
static float v_vec(uint64_t i, uint32_t j) { return (float)((i * 131 + j) % 8191) - 4000.0f; }

#define DIM_SMALL 8
#define DIM_BIG 96 /* 384-byte rows: full-zip */
#define CODE_W 16

static const pa_field fields[] = {
    {"u64", PA_TYPE_UINT64, 1},
    {"u32", PA_TYPE_UINT32, 1},
    {"f32", PA_TYPE_FLOAT32, 1},
    {"code", PA_TYPE_FSL_UINT8, CODE_W},
    {"vsmall", PA_TYPE_FSL_FLOAT32, DIM_SMALL},
    {"vbig", PA_TYPE_FSL_FLOAT32, DIM_BIG},
};
#define NF (sizeof fields / sizeof fields[0])

/* Fills buffers for rows [first, first+n). */
static void fill(uint64_t first, size_t n, uint64_t *a, uint32_t *b, float *c, uint8_t *d, float *e,
                 float *f)
{
    for (size_t k = 0; k < n; k++) {
        uint64_t i = first + k;
        a[k] = v_u64(i), b[k] = v_u32(i), c[k] = v_f32(i);
        for (uint32_t j = 0; j < CODE_W; j++)
            d[k * CODE_W + j] = v_code(i, j);
        for (uint32_t j = 0; j < DIM_SMALL; j++)
            e[k * DIM_SMALL + j] = v_vec(i, j);
        for (uint32_t j = 0; j < DIM_BIG; j++)
            f[k * DIM_BIG + j] = v_vec(i, j + 1000);
    }
}

/* Writes `rows` rows in uneven batches with the given page size. */
static pa_status write_file(const char *path, uint64_t rows, size_t page_bytes)
{
    const size_t maxb = 5000;
    uint64_t *a = malloc(maxb * 8);
    uint32_t *b = malloc(maxb * 4);
    float *c = malloc(maxb * 4), *e = malloc(maxb * DIM_SMALL * 4), *f = malloc(maxb * DIM_BIG * 4);
    uint8_t *d = malloc(maxb * CODE_W);
    pa_lance_write_options o = {.struct_size = sizeof o, .page_bytes = page_bytes};
    pa_lance_writer *w;
    pa_status st = pa_lance_writer_create(&w, path, fields, NF, &o);
    for (uint64_t done = 0; st == PA_OK && done < rows;) {
        uint64_t want = 1 + rnd() % maxb; /* PA_MIN evaluates its arguments twice */
        size_t n = (size_t)PA_MIN(rows - done, want);
        fill(done, n, a, b, c, d, e, f);
        const void *cols[] = {a, b, c, d, e, f};
        st = pa_lance_writer_append(w, cols, n);
        done += n;
    }
    if (st == PA_OK)
        st = pa_lance_writer_set_metadata(w, "k1", "first", 5);
    if (st == PA_OK)
        st = pa_lance_writer_set_metadata(w, "k1", "replaced", 8);
    if (st == PA_OK)
        st = pa_lance_writer_set_metadata(w, "partifact:test", "{\"x\":1}", 7);
    uint32_t gi = 0;
    if (st == PA_OK)
        st = pa_lance_writer_add_global_buffer(w, "global-bytes", 12, &gi);
    if (st == PA_OK && gi != 1)
        st = PA_ERR_STATE;
    if (st == PA_OK)
        st = pa_lance_writer_close(w);
    pa_lance_writer_free(w);
    free(a), free(b), free(c), free(d), free(e), free(f);
    return st;
}

/* Checks rows [off, off+n) of every column against the formulas. */
static int check_range(pa_lance_reader *r, uint64_t off, uint64_t n)
{
    int bad = 0;
    uint64_t *a = malloc(n * 8 + 1);
    uint32_t *b = malloc(n * 4 + 1);
    float *c = malloc(n * 4 + 1), *e = malloc(n * DIM_SMALL * 4 + 1),
          *f = malloc(n * DIM_BIG * 4 + 1);
    uint8_t *d = malloc(n * CODE_W + 1);
    void *outs[] = {a, b, c, d, e, f};
    for (size_t col = 0; col < NF; col++)
        if (pa_lance_reader_read(r, col, off, n, outs[col]) != PA_OK) {
            fprintf(stderr, "read col %zu [%llu,+%llu): %s\n", col, (unsigned long long)off,
                    (unsigned long long)n, pa_last_error());
            bad++;
        }
    for (uint64_t k = 0; k < n && !bad; k++) {
        uint64_t i = off + k;
        bad += a[k] != v_u64(i);
        bad += b[k] != v_u32(i);
        bad += c[k] != v_f32(i);
        for (uint32_t j = 0; j < CODE_W; j++)
            bad += d[k * CODE_W + j] != v_code(i, j);
        for (uint32_t j = 0; j < DIM_SMALL; j++)
            bad += e[k * DIM_SMALL + j] != v_vec(i, j);
        for (uint32_t j = 0; j < DIM_BIG; j++)
            bad += f[k * DIM_BIG + j] != v_vec(i, j + 1000);
    }
    free(a), free(b), free(c), free(d), free(e), free(f);
    return bad;
}

static void test_round_trip(void)
{
    const uint64_t rows = 70001;
    const char *path = tpath("rt.lance");
    CHECK_OK(write_file(path, rows, 64 * 1024)); /* 64 KiB pages: many pages per column */
    pa_lance_reader *r;
    CHECK_OK(pa_lance_reader_open(&r, path));
    if (!r)
        return;
    CHECK(pa_lance_reader_num_rows(r) == rows);
    CHECK(pa_lance_reader_num_fields(r) == NF);
    for (size_t i = 0; i < NF; i++) {
        pa_field f;
        CHECK_OK(pa_lance_reader_field(r, i, &f));
        CHECK(!strcmp(f.name, fields[i].name) && f.type == fields[i].type &&
              f.dim == fields[i].dim);
        CHECK(pa_lance_reader_num_pages(r, i) > 3);
    }
    pa_lance_page_info pi;
    CHECK_OK(pa_lance_reader_page(r, 5, 0, &pi));
    CHECK(!strcmp(pi.layout, "full-zip"));
    CHECK_OK(pa_lance_reader_page(r, 4, 0, &pi));
    CHECK(!strcmp(pi.layout, "mini-block"));
    size_t idx;
    CHECK_OK(pa_lance_reader_find_field(r, "vsmall", &idx));
    CHECK(idx == 4);
    CHECK_ERR(pa_lance_reader_find_field(r, "nope", &idx), PA_ERR_RANGE,
              "no column named \"nope\"");

    /* everything, then random ranges (many straddle page and chunk boundaries) */
    CHECK(check_range(r, 0, rows) == 0);
    int bad = 0;
    for (int t = 0; t < 300; t++) {
        uint64_t off = rnd() % rows;
        uint64_t n = 1 + rnd() % PA_MIN(rows - off, t % 3 ? 3000 : rows);
        bad += check_range(r, off, n);
    }
    CHECK(bad == 0);
    CHECK(check_range(r, rows - 1, 1) == 0);
    CHECK(check_range(r, rows, 0) == 0);

    /* a read of a few rows touches a few KiB, not whole pages */
    uint64_t before = pa_lance_reader_bytes_read(r);
    uint64_t one;
    CHECK_OK(pa_lance_reader_read(r, 0, 40000, 1, &one));
    CHECK(one == v_u64(40000));
    CHECK(pa_lance_reader_bytes_read(r) - before < 16 * 1024);
    float vb[DIM_BIG];
    before = pa_lance_reader_bytes_read(r);
    CHECK_OK(pa_lance_reader_read(r, 5, 50000, 1, vb));
    CHECK(pa_lance_reader_bytes_read(r) - before == DIM_BIG * 4);

    /* metadata and global buffers */
    const void *v;
    size_t len;
    CHECK_OK(pa_lance_reader_metadata(r, "k1", &v, &len));
    CHECK(len == 8 && !memcmp(v, "replaced", 8));
    CHECK(pa_lance_reader_num_metadata(r) == 2);
    CHECK_ERR(pa_lance_reader_metadata(r, "zz", &v, &len), PA_ERR_RANGE, "no schema metadata key");
    CHECK(pa_lance_reader_num_global_buffers(r) == 2);
    void *g;
    CHECK_OK(pa_lance_reader_global_buffer(r, 1, &g, &len));
    CHECK(len == 12 && !memcmp(g, "global-bytes", 12));
    free(g);
    CHECK_ERR(pa_lance_reader_global_buffer(r, 2, &g, &len), PA_ERR_RANGE, "global buffer 2");

    /* ranges out of bounds */
    uint64_t big[4];
    CHECK_ERR(pa_lance_reader_read(r, 0, rows - 1, 2, big), PA_ERR_RANGE, "out of range");
    CHECK_ERR(pa_lance_reader_read(r, 0, UINT64_MAX, 2, big), PA_ERR_RANGE, "out of range");
    CHECK_ERR(pa_lance_reader_read(r, 9, 0, 1, big), PA_ERR_RANGE, "column 9 does not exist");
    pa_lance_reader_free(r);

    /* the same rows with the default 8 MiB pages give identical values */
    CHECK_OK(write_file(tpath("rt8.lance"), 20000, 0));
    CHECK_OK(pa_lance_reader_open(&r, tpath("rt8.lance")));
    if (r) {
        CHECK(pa_lance_reader_num_pages(r, 0) == 1);
        CHECK(check_range(r, 0, 20000) == 0);
        pa_lance_reader_free(r);
    }
}

/* Direct page writes mixed with buffered appends; the running checksum equals the file's. */
static void test_write_pages_and_checksum(void)
{
    const char *p = tpath("direct.lance");
    pa_field f2[] = {{"id", PA_TYPE_UINT64, 1}, {"code", PA_TYPE_FSL_UINT8, 16}};
    pa_lance_writer *w;
    CHECK_OK(pa_lance_writer_create(&w, p, f2, 2, NULL));
    enum { N = 30000 };
    uint64_t *ids = malloc(N * 8);
    uint8_t *codes = malloc(N * 16);
    for (uint64_t i = 0; i < N; i++) {
        ids[i] = i * 3 + 1;
        for (int j = 0; j < 16; j++)
            codes[i * 16 + j] = (uint8_t)(i ^ (uint64_t)j);
    }
    const void *c0[] = {ids, codes};
    const void *c1[] = {ids + 100, codes + 1600};
    const void *c2[] = {ids + 20100, codes + 20100 * 16};
    CHECK_OK(pa_lance_writer_append(w, c0, 100));
    CHECK_OK(pa_lance_writer_write_pages(w, c1, 20000)); /* 62 KiB of chunks x staging fills */
    CHECK_OK(pa_lance_writer_append(w, c2, N - 20100));
    CHECK_OK(pa_lance_writer_close(w));
    uint64_t h = pa_lance_writer_xxh64(w);
    uint64_t size = pa_lance_writer_bytes_written(w);
    pa_lance_writer_free(w);
    FILE *f = fopen(p, "rb");
    uint8_t *all = malloc(size);
    CHECK(f && fread(all, 1, size, f) == size);
    if (f)
        fclose(f);
    CHECK(XXH64(all, size, 0) == h);
    free(all);
    pa_lance_reader *r;
    CHECK_OK(pa_lance_reader_open(&r, p));
    if (r) {
        CHECK(pa_lance_reader_num_pages(r, 0) == 3);
        uint64_t *ids2 = malloc(N * 8);
        uint8_t *codes2 = malloc(N * 16);
        CHECK_OK(pa_lance_reader_read(r, 0, 0, N, ids2));
        CHECK_OK(pa_lance_reader_read(r, 1, 0, N, codes2));
        CHECK(!memcmp(ids, ids2, N * 8) && !memcmp(codes, codes2, N * 16));
        free(ids2);
        free(codes2);
        pa_lance_reader_free(r);
    }
    free(ids);
    free(codes);
}

/* The bitpack option: uint32/uint64 mini-block pages are InlineBitpacking, other columns stay
 * Flat; the values read back byte for byte across chunks of every bit width (0, small, 33, the
 * full width), pages that end in a short chunk, and reads that straddle chunks and pages; a
 * chunk's value buffer is the width as a T-bit word, then 1024 values packed at that width. */
static void test_bitpack_pages(void)
{
    const char *p = tpath("bitpack.lance");
    pa_field f3[] = {{"id", PA_TYPE_UINT64, 1},
                     {"part", PA_TYPE_UINT32, 1},
                     {"code", PA_TYPE_FSL_UINT8, 16}};
    enum { N = 70000 };
    uint64_t *ids = malloc(N * 8);
    uint32_t *parts = malloc(N * 4);
    uint8_t *codes = malloc(N * 16);
    for (uint64_t i = 0; i < N; i++) {
        uint64_t chunk = i / 1024; /* chunk k's values need about k bits (mod 66) */
        unsigned bits = (unsigned)(chunk % 66);
        uint64_t v = bits == 0 ? 0 : bits >= 64 ? ~0ull - (i & 7) : ((1ull << bits) - 1) & rnd();
        if (bits == 33 && i % 1024 == 5)
            v = 1ull << 32; /* exactly 33 bits */
        ids[i] = v;
        parts[i] = (uint32_t)(chunk % 3 == 0 ? 0 : chunk % 3 == 1 ? i % 300 : rnd());
        for (int j = 0; j < 16; j++)
            codes[i * 16 + j] = (uint8_t)(i ^ (uint64_t)j);
    }
    pa_lance_write_options o = {.struct_size = sizeof o, .page_bytes = 64 * 1024, .bitpack = 1};
    pa_lance_writer *w;
    CHECK_OK(pa_lance_writer_create(&w, p, f3, 3, &o));
    const void *c0[] = {ids, parts, codes};
    const void *c1[] = {ids + 20000, parts + 20000, codes + 20000 * 16};
    const void *c2[] = {ids + 20777, parts + 20777, codes + 20777 * 16};
    CHECK_OK(pa_lance_writer_append(w, c0, 20000));
    CHECK_OK(pa_lance_writer_write_pages(w, c1, 777)); /* a page of one short chunk */
    CHECK_OK(pa_lance_writer_append(w, c2, N - 20777));
    CHECK_OK(pa_lance_writer_close(w));
    pa_lance_writer_free(w);
    pa_lance_reader *r;
    CHECK_OK(pa_lance_reader_open(&r, p));
    if (!r)
        return;
    static const char *const want[] = {"inline_bitpacking", "inline_bitpacking", "flat"};
    for (size_t c = 0; c < 3; c++) {
        CHECK(pa_lance_reader_num_pages(r, c) > 3);
        for (size_t k = 0; k < pa_lance_reader_num_pages(r, c); k++) {
            pa_lance_page_info pi;
            CHECK_OK(pa_lance_reader_page(r, c, k, &pi));
            CHECK(!strcmp(pi.layout, "mini-block") && !strcmp(pi.encoding, want[c]));
        }
    }
    uint64_t *ids2 = malloc(N * 8);
    uint32_t *parts2 = malloc(N * 4);
    uint8_t *codes2 = malloc(N * 16);
    CHECK_OK(pa_lance_reader_read(r, 0, 0, N, ids2));
    CHECK_OK(pa_lance_reader_read(r, 1, 0, N, parts2));
    CHECK_OK(pa_lance_reader_read(r, 2, 0, N, codes2));
    CHECK(!memcmp(ids, ids2, N * 8) && !memcmp(parts, parts2, N * 4) &&
          !memcmp(codes, codes2, N * 16));
    int bad = 0;
    for (int t = 0; t < 200; t++) {
        uint64_t off = rnd() % N, n = 1 + rnd() % PA_MIN(N - off, 5000);
        bad += pa_lance_reader_read(r, 0, off, n, ids2) != PA_OK ||
               memcmp(ids + off, ids2, n * 8) != 0;
        bad += pa_lance_reader_read(r, 1, off, n, parts2) != PA_OK ||
               memcmp(parts + off, parts2, n * 4) != 0;
    }
    CHECK(bad == 0);
    /* the first page of "id" (chunk 0: all zeros, width 0; chunk 1: width 1): its first chunk
     * is the 8-byte header (no levels, an 8-byte value buffer), then the width word 0 */
    pa_lance_page_info pi;
    CHECK_OK(pa_lance_reader_page(r, 0, 0, &pi));
    pa_lance_reader_free(r);
    FILE *f = fopen(p, "rb");
    uint8_t head[24];
    CHECK(f && fseek(f, (long)pi.offset, SEEK_SET) == 0 && fread(head, 1, 24, f) == 24);
    if (f)
        fclose(f);
    CHECK(pa_ld16(head) == 0 && pa_ld16(head + 2) == 8 && pa_ld64(head + 8) == 0);
    CHECK(head[4] == 0xFE && head[7] == 0xFE); /* LanceDB's fill byte */
    /* chunk 1 (width 1): header, width word 1, then 1024 bits */
    CHECK(pa_ld16(head + 16) == 0 && pa_ld16(head + 18) == 8 + 128);
    free(ids), free(parts), free(codes), free(ids2), free(parts2), free(codes2);
}

static void test_empty_file(void)
{
    pa_lance_writer *w;
    CHECK_OK(pa_lance_writer_create(&w, tpath("empty.lance"), fields, NF, NULL));
    CHECK_OK(pa_lance_writer_close(w));
    pa_lance_writer_free(w);
    pa_lance_reader *r;
    CHECK_OK(pa_lance_reader_open(&r, tpath("empty.lance")));
    if (r) {
        CHECK(pa_lance_reader_num_rows(r) == 0);
        CHECK_OK(pa_lance_reader_read(r, 0, 0, 0, NULL));
        pa_lance_reader_free(r);
    }
}

static void test_writer_errors(void)
{
    pa_lance_writer *w;
    pa_field bad_dim[] = {{"v", PA_TYPE_FSL_FLOAT32, 0}};
    CHECK_ERR(pa_lance_writer_create(&w, tpath("x.lance"), bad_dim, 1, NULL), PA_ERR_INVALID,
              "list size must be between 1 and 1048576, got 0");
    pa_field scalar_dim[] = {{"v", PA_TYPE_UINT32, 3}};
    CHECK_ERR(pa_lance_writer_create(&w, tpath("x.lance"), scalar_dim, 1, NULL), PA_ERR_INVALID,
              "dim must be 1 for a scalar type");
    pa_field dup[] = {{"a", PA_TYPE_UINT32, 1}, {"a", PA_TYPE_UINT64, 1}};
    CHECK_ERR(pa_lance_writer_create(&w, tpath("x.lance"), dup, 2, NULL), PA_ERR_INVALID,
              "two fields are named \"a\"");
    CHECK_ERR(pa_lance_writer_create(&w, "/nonexistent-dir/x.lance", fields, NF, NULL), PA_ERR_IO,
              "cannot create a temporary file beside it");

    /* the file is written under a temporary name and appears at close; a writer freed before
     * close leaves nothing behind */
    const char *p = tpath("aborted.lance");
    CHECK_OK(pa_lance_writer_create(&w, p, fields, NF, NULL));
    CHECK(access(p, F_OK) != 0);
    pa_lance_writer_free(w);
    CHECK(access(p, F_OK) != 0);

    /* calls after close */
    pa_field one[] = {{"a", PA_TYPE_UINT32, 1}};
    CHECK_OK(pa_lance_writer_create(&w, tpath("closed.lance"), one, 1, NULL));
    uint32_t x = 5;
    const void *cols[] = {&x};
    CHECK_OK(pa_lance_writer_append(w, cols, 1));
    CHECK_OK(pa_lance_writer_close(w));
    CHECK_ERR(pa_lance_writer_append(w, cols, 1), PA_ERR_STATE, "append after close");
    CHECK_ERR(pa_lance_writer_close(w), PA_ERR_STATE, "close after close");
    CHECK_ERR(pa_lance_writer_set_metadata(w, "k", "v", 1), PA_ERR_STATE, "after close");
    pa_lance_writer_free(w);
    CHECK(access(tpath("closed.lance"), F_OK) == 0);
}

static void test_fastlanes(void)
{
    static const unsigned ts[] = {8, 16, 32, 64};
    int bad = 0;
    for (size_t ti = 0; ti < 4; ti++) {
        unsigned t = ts[ti];
        for (unsigned w = 0; w <= t; w++) {
            uint64_t in[1024], packed[1024], out[1024];
            uint8_t *ib = (uint8_t *)in;
            for (size_t k = 0; k < 1024 * t / 8; k++)
                ib[k] = (uint8_t)rnd();
            pa_fastlanes_pack(t, w, in, packed);
            pa_fastlanes_unpack(t, w, packed, out);
            uint64_t mask = w == 64 ? ~0ull : ((1ull << w) - 1);
            for (unsigned k = 0; k < 1024; k++) {
                uint64_t a = 0, b = 0;
                memcpy(&a, ib + k * (t / 8), t / 8);
                memcpy(&b, (uint8_t *)out + k * (t / 8), t / 8);
                bad += (a & mask) != b;
            }
        }
    }
    CHECK(bad == 0);
    /* the layout itself: with width 1 and T=32, value 0 is bit 0 of word 0 and value 128
     * (row 1 of lane 0) is bit 1 of word 0 */
    uint32_t vals[1024] = {0}, pk[32];
    vals[0] = 1;
    vals[128] = 1;
    pa_fastlanes_pack(32, 1, vals, pk);
    CHECK(pk[0] == 3u);
    for (int k = 1; k < 32; k++)
        CHECK(pk[k] == 0);
}

/* ---- crafted files: a minimal Lance file with one column and a chosen page layout ---- */

typedef struct craft {
    const char *type; /* logical type */
    Pa__Lancepb__PageLayout *layout;
    const char *type_url; /* default: the 2.1 PageLayout */
    const uint8_t *bufs[2];
    size_t buf_len[2];
    int nbufs;
    uint64_t rows;
    uint64_t force_off0; /* non-zero: write this as buffer 0's offset */
} craft;

static int write_craft(const char *path, const craft *c)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    uint64_t offs[2] = {0}, pos = 0;
    for (int b = 0; b < c->nbufs; b++) {
        while (pos % 64) {
            fputc(0, f);
            pos++;
        }
        offs[b] = pos;
        fwrite(c->bufs[b], 1, c->buf_len[b], f);
        pos += c->buf_len[b];
    }
    if (c->force_off0)
        offs[0] = c->force_off0;
    /* schema */
    Pa__Lancepb__Field fld = PA__LANCEPB__FIELD__INIT;
    Pa__Lancepb__Field *fp = &fld;
    fld.name = "c";
    fld.parent_id = -1;
    fld.logical_type = (char *)c->type;
    Pa__Lancepb__Schema sc = PA__LANCEPB__SCHEMA__INIT;
    sc.n_fields = 1;
    sc.fields = &fp;
    Pa__Lancepb__FileDescriptor fd = PA__LANCEPB__FILE_DESCRIPTOR__INIT;
    fd.schema = &sc;
    fd.length = c->rows;
    uint8_t sbuf[512];
    size_t slen = pa__lancepb__file_descriptor__pack(&fd, sbuf);
    uint64_t schema_off = pos;
    fwrite(sbuf, 1, slen, f);
    pos += slen;
    /* column metadata */
    uint8_t lbuf[1024], abuf[1200], cbuf[2048];
    size_t llen = pa__lancepb__page_layout__pack(c->layout, lbuf);
    Pa__Lancepb__Any any = PA__LANCEPB__ANY__INIT;
    any.type_url = (char *)(c->type_url ? c->type_url : "/lance.encodings21.PageLayout");
    any.value.data = lbuf;
    any.value.len = llen;
    size_t alen = pa__lancepb__any__pack(&any, abuf);
    Pa__Lancepb__DirectEncoding de = PA__LANCEPB__DIRECT_ENCODING__INIT;
    de.encoding.data = abuf;
    de.encoding.len = alen;
    Pa__Lancepb__Encoding enc = PA__LANCEPB__ENCODING__INIT;
    enc.location_case = PA__LANCEPB__ENCODING__LOCATION_DIRECT;
    enc.direct = &de;
    Pa__Lancepb__ColumnMetadata__Page pg = PA__LANCEPB__COLUMN_METADATA__PAGE__INIT;
    Pa__Lancepb__ColumnMetadata__Page *pgp = &pg;
    uint64_t sizes[2] = {c->buf_len[0], c->buf_len[1]};
    pg.n_buffer_offsets = pg.n_buffer_sizes = (size_t)c->nbufs;
    pg.buffer_offsets = offs;
    pg.buffer_sizes = sizes;
    pg.length = c->rows;
    pg.encoding = &enc;
    Pa__Lancepb__ColumnMetadata cm = PA__LANCEPB__COLUMN_METADATA__INIT;
    cm.n_pages = 1;
    cm.pages = &pgp;
    size_t clen = pa__lancepb__column_metadata__pack(&cm, cbuf);
    uint64_t cms = pos;
    fwrite(cbuf, 1, clen, f);
    pos += clen;
    uint64_t cmo = pos, t[2] = {cms, clen};
    fwrite(t, 8, 2, f);
    pos += 16;
    uint64_t gbo = pos, g[2] = {schema_off, slen};
    fwrite(g, 8, 2, f);
    pos += 16;
    uint8_t footer[40];
    pa_st64(footer, cms);
    pa_st64(footer + 8, cmo);
    pa_st64(footer + 16, gbo);
    pa_st32(footer + 24, 1);
    pa_st32(footer + 28, 1);
    pa_st16(footer + 32, 2);
    pa_st16(footer + 34, 1);
    memcpy(footer + 36, "LANC", 4);
    fwrite(footer, 1, 40, f);
    return fclose(f);
}

/* A mini-block u32 page whose value compression is `vc`, with one 8-value chunk. */
static pa_status open_miniblock(const char *name, Pa__Lancepb__CompressiveEncoding *vc,
                                const uint8_t *chunk, size_t chunk_len, uint16_t meta_word,
                                Pa__Lancepb__RepDefLayer layer)
{
    Pa__Lancepb__RepDefLayer layers[1] = {layer};
    Pa__Lancepb__MiniBlockLayout mb = PA__LANCEPB__MINI_BLOCK_LAYOUT__INIT;
    mb.value_compression = vc;
    mb.n_layers = 1;
    mb.layers = layers;
    mb.num_buffers = 1;
    mb.num_items = 8;
    Pa__Lancepb__PageLayout pl = PA__LANCEPB__PAGE_LAYOUT__INIT;
    pl.layout_case = PA__LANCEPB__PAGE_LAYOUT__LAYOUT_MINI_BLOCK_LAYOUT;
    pl.mini_block_layout = &mb;
    uint8_t meta[2];
    pa_st16(meta, meta_word);
    craft c = {.type = "uint32",
               .layout = &pl,
               .bufs = {meta, chunk},
               .buf_len = {2, chunk_len},
               .nbufs = 2,
               .rows = 8};
    const char *p = tpath(name);
    write_craft(p, &c);
    pa_lance_reader *r;
    pa_status st = pa_lance_reader_open(&r, p);
    if (st == PA_OK) {
        uint32_t out[8];
        st = pa_lance_reader_read(r, 0, 0, 8, out);
        for (int i = 0; st == PA_OK && i < 8; i++)
            if (out[i] != (uint32_t)(i * 3))
                st = pa_fail(PA_ERR_STATE, "value %d is %u", i, out[i]);
        pa_lance_reader_free(r);
    }
    return st;
}

/* Opens path and reads row 0 of column 0: a column partifact cannot decode does not fail the
 * open, only the read. */
static pa_status open_read0(const char *path)
{
    pa_lance_reader *r;
    pa_status st = pa_lance_reader_open(&r, path);
    if (st != PA_OK)
        return st;
    uint8_t row[64];
    st = pa_lance_reader_read(r, 0, 0, 1, row);
    pa_lance_reader_free(r);
    return st;
}

static void test_crafted_pages(void)
{
    /* a valid chunk: 0 levels, 32-byte value buffer, 8 u32 values (words = 5 -> (5-1)<<4) */
    uint8_t chunk[40] = {0};
    pa_st16(chunk + 2, 32);
    for (int i = 0; i < 8; i++)
        pa_st32(chunk + 8 + 4 * i, (uint32_t)(i * 3));
    Pa__Lancepb__Flat flat = PA__LANCEPB__FLAT__INIT;
    flat.bits_per_value = 32;
    Pa__Lancepb__CompressiveEncoding vc = PA__LANCEPB__COMPRESSIVE_ENCODING__INIT;
    vc.compression_case = PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_FLAT;
    vc.flat = &flat;
    const Pa__Lancepb__RepDefLayer ok = PA__LANCEPB__REP_DEF_LAYER__REPDEF_ALL_VALID_ITEM;
    CHECK_OK(open_miniblock("ok.lance", &vc, chunk, 40, (4 << 4) | 3, ok));

    Pa__Lancepb__Opaque opaque = PA__LANCEPB__OPAQUE__INIT;
    Pa__Lancepb__CompressiveEncoding fsst = PA__LANCEPB__COMPRESSIVE_ENCODING__INIT;
    fsst.compression_case = PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_FSST;
    fsst.fsst = &opaque;
    CHECK_ERR(open_miniblock("fsst.lance", &fsst, chunk, 40, (4 << 4) | 3, ok), PA_ERR_UNSUPPORTED,
              "page 0 of column 0 (\"c\") uses encoding \"fsst\", which partifact does not read");
    Pa__Lancepb__CompressiveEncoding rle = fsst;
    rle.compression_case = PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_RLE;
    Pa__Lancepb__Rle rle_msg = PA__LANCEPB__RLE__INIT;
    rle.rle = &rle_msg;
    CHECK_ERR(open_miniblock("rle.lance", &rle, chunk, 40, (4 << 4) | 3, ok), PA_ERR_UNSUPPORTED,
              "uses encoding \"rle\"");
    CHECK_ERR(open_miniblock("nullable.lance", &vc, chunk, 40, (4 << 4) | 3,
                             PA__LANCEPB__REP_DEF_LAYER__REPDEF_NULLABLE_ITEM),
              PA_ERR_FORMAT, "declares nullable items but no definition levels");
    flat.bits_per_value = 16;
    CHECK_ERR(open_miniblock("bits.lance", &vc, chunk, 40, (4 << 4) | 3, ok), PA_ERR_FORMAT,
              "stores 16-bit values, the schema's type has 32 bits");
    flat.bits_per_value = 32;
    /* chunk table claiming more bytes than the page has */
    CHECK_ERR(open_miniblock("chunkbytes.lance", &vc, chunk, 40, (9 << 4) | 3, ok), PA_ERR_FORMAT,
              "chunk table describes 8 values in 80 bytes");
    /* chunk header with a value buffer larger than the chunk */
    uint8_t badchunk[40];
    memcpy(badchunk, chunk, 40);
    pa_st16(badchunk + 2, 400);
    CHECK_ERR(open_miniblock("chunkhdr.lance", &vc, badchunk, 40, (4 << 4) | 3, ok), PA_ERR_FORMAT,
              "value buffer of 400 bytes does not fit in the 40-byte chunk");
    pa_st16(badchunk + 2, 32);
    pa_st16(badchunk, 3);
    CHECK_ERR(open_miniblock("levels.lance", &vc, badchunk, 40, (4 << 4) | 3, ok), PA_ERR_FORMAT,
              "header says 3 rep/def levels");
    /* bit-packing with a width wider than the type */
    uint8_t bp[144] = {0}; /* header, width word, 1024 values at 1 bit, padding */
    pa_st16(bp + 2, 4 + 128);
    pa_st32(bp + 8, 33);
    Pa__Lancepb__InlineBitpacking ib = PA__LANCEPB__INLINE_BITPACKING__INIT;
    ib.uncompressed_bits_per_value = 32;
    Pa__Lancepb__CompressiveEncoding bvc = PA__LANCEPB__COMPRESSIVE_ENCODING__INIT;
    bvc.compression_case = PA__LANCEPB__COMPRESSIVE_ENCODING__COMPRESSION_INLINE_BITPACKING;
    bvc.inline_bitpacking = &ib;
    CHECK_ERR(open_miniblock("bitpack.lance", &bvc, bp, sizeof bp,
                             (uint16_t)((sizeof bp / 8 - 1) << 4), ok),
              PA_ERR_FORMAT, "bit width 33");

    /* a page buffer that points past the data region */
    Pa__Lancepb__MiniBlockLayout mb = PA__LANCEPB__MINI_BLOCK_LAYOUT__INIT;
    Pa__Lancepb__RepDefLayer layers[1] = {ok};
    mb.value_compression = &vc;
    mb.n_layers = 1;
    mb.layers = layers;
    mb.num_buffers = 1;
    mb.num_items = 8;
    Pa__Lancepb__PageLayout pl = PA__LANCEPB__PAGE_LAYOUT__INIT;
    pl.layout_case = PA__LANCEPB__PAGE_LAYOUT__LAYOUT_MINI_BLOCK_LAYOUT;
    pl.mini_block_layout = &mb;
    uint8_t meta[2];
    pa_st16(meta, (4 << 4) | 3);
    craft c = {.type = "uint32",
               .layout = &pl,
               .bufs = {meta, chunk},
               .buf_len = {2, 40},
               .nbufs = 2,
               .rows = 8,
               .force_off0 = 1u << 30};
    write_craft(tpath("far.lance"), &c);
    pa_lance_reader *r = NULL;
    CHECK_ERR(open_read0(tpath("far.lance")), PA_ERR_FORMAT,
              "buffer 0 of page 0 of column 0 at byte offset 1073741824 with 2 bytes lies outside");
    CHECK_ERR(pa_lance_reader_open(&r, tpath("far.lance")), PA_ERR_FORMAT, "lies outside");
    CHECK(r == NULL); /* a damaged file fails the open */
    /* an older (2.0) encoding description */
    c.force_off0 = 0;
    c.type_url = "/lance.encodings.ArrayEncoding";
    write_craft(tpath("v20.lance"), &c);
    CHECK_ERR(open_read0(tpath("v20.lance")), PA_ERR_UNSUPPORTED,
              "is encoded as \"/lance.encodings.ArrayEncoding\"");
    /* a type we do not read */
    c.type_url = NULL;
    c.type = "string";
    write_craft(tpath("string.lance"), &c);
    CHECK_ERR(open_read0(tpath("string.lance")), PA_ERR_UNSUPPORTED,
              "column 0 (\"c\") has type \"string\", which partifact does not read");
    /* an all-null page */
    c.type = "uint32";
    Pa__Lancepb__AllNullLayout an = PA__LANCEPB__ALL_NULL_LAYOUT__INIT;
    Pa__Lancepb__PageLayout pl2 = PA__LANCEPB__PAGE_LAYOUT__INIT;
    pl2.layout_case = PA__LANCEPB__PAGE_LAYOUT__LAYOUT_ALL_NULL_LAYOUT;
    pl2.all_null_layout = &an;
    c.layout = &pl2;
    write_craft(tpath("allnull.lance"), &c);
    CHECK_ERR(open_read0(tpath("allnull.lance")), PA_ERR_UNSUPPORTED,
              "uses the all-null (nested) layout");
    /* an all-null page of nullable items: every row null, nothing read */
    const Pa__Lancepb__RepDefLayer nl = PA__LANCEPB__REP_DEF_LAYER__REPDEF_NULLABLE_ITEM;
    an.n_layers = 1;
    an.layers = (Pa__Lancepb__RepDefLayer *)&nl;
    write_craft(tpath("allnull2.lance"), &c);
    CHECK_ERR(open_read0(tpath("allnull2.lance")), PA_ERR_UNSUPPORTED,
              "row 0 of column 0 (\"c\") is null");
    CHECK_OK(pa_lance_reader_open(&r, tpath("allnull2.lance")));
    if (r) {
        uint32_t v[8];
        uint8_t valid[8];
        memset(v, 0xff, sizeof v);
        memset(valid, 7, sizeof valid);
        uint64_t before = pa_lance_reader_bytes_read(r);
        CHECK_OK(pa_lance_reader_read_valid(r, 0, 2, 6, v, valid));
        for (int i = 0; i < 6; i++)
            CHECK(valid[i] == 0 && v[i] == 0);
        CHECK(pa_lance_reader_bytes_read(r) == before);
        pa_lance_reader_free(r);
    }
}

/* Copies src to dst, then applies fn to the bytes. */
static void mutate(const char *src, const char *dst, void (*fn)(uint8_t *, size_t *))
{
    FILE *f = fopen(src, "rb");
    fseek(f, 0, SEEK_END);
    size_t n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n + 64);
    if (fread(b, 1, n, f) != n)
        n = 0;
    fclose(f);
    fn(b, &n);
    f = fopen(dst, "wb");
    fwrite(b, 1, n, f);
    fclose(f);
    free(b);
}

static void m_truncate_half(uint8_t *b, size_t *n)
{
    PA_UNUSED(b);
    *n /= 2;
}
static void m_tiny(uint8_t *b, size_t *n)
{
    PA_UNUSED(b);
    *n = 20;
}
static void m_magic(uint8_t *b, size_t *n) { memcpy(b + *n - 4, "LANX", 4); }
static void m_version(uint8_t *b, size_t *n) { pa_st16(b + *n - 8, 0); }
static void m_major(uint8_t *b, size_t *n)
{
    pa_st16(b + *n - 8, 5);
    pa_st16(b + *n - 6, 3);
}
static void m_cms(uint8_t *b, size_t *n) { pa_st64(b + *n - 40, (uint64_t)1 << 40); }
static void m_gbuf(uint8_t *b, size_t *n)
{
    uint64_t gbo = pa_ld64(b + *n - 24);
    pa_st64(b + gbo, (uint64_t)*n * 4); /* schema position past the end */
}
static void m_colmeta(uint8_t *b, size_t *n)
{
    uint64_t cmo = pa_ld64(b + *n - 32);
    uint64_t off = pa_ld64(b + cmo);
    memset(b + off, 0xFF, 6); /* garbage at the start of column 0's metadata */
}
static void m_chop_tail(uint8_t *b, size_t *n)
{
    PA_UNUSED(b);
    *n -= 1;
}

static void test_bad_files(void)
{
    char good[600];
    snprintf(good, sizeof good, "%s", tpath("good.lance"));
    CHECK_OK(write_file(good, 3000, 16 * 1024));
    pa_lance_reader *r = NULL;
    CHECK_ERR(pa_lance_reader_open(&r, tpath("missing.lance")), PA_ERR_IO, "cannot open");
    mutate(good, tpath("half.lance"), m_truncate_half);
    CHECK_ERR(pa_lance_reader_open(&r, tpath("half.lance")), PA_ERR_FORMAT,
              "no \"LANC\" magic in the last 4 bytes");
    mutate(good, tpath("tiny.lance"), m_tiny);
    CHECK_ERR(pa_lance_reader_open(&r, tpath("tiny.lance")), PA_ERR_FORMAT,
              "file is 20 bytes, smaller than the 40-byte Lance footer");
    mutate(good, tpath("magic.lance"), m_magic);
    CHECK_ERR(pa_lance_reader_open(&r, tpath("magic.lance")), PA_ERR_FORMAT, "not a Lance file");
    mutate(good, tpath("v20.lance"), m_version);
    CHECK_ERR(open_read0(tpath("v20.lance")), PA_ERR_UNSUPPORTED,
              "Lance file format version 0.1; partifact reads versions 2.0 (written as 0.3), 2.1 "
              "and 2.2");
    mutate(good, tpath("v53.lance"), m_major);
    CHECK_ERR(pa_lance_reader_open(&r, tpath("v53.lance")), PA_ERR_UNSUPPORTED,
              "format version 5.3");
    mutate(good, tpath("cms.lance"), m_cms);
    CHECK_ERR(pa_lance_reader_open(&r, tpath("cms.lance")), PA_ERR_FORMAT,
              "footer offsets are inconsistent");
    mutate(good, tpath("gbuf.lance"), m_gbuf);
    CHECK_ERR(pa_lance_reader_open(&r, tpath("gbuf.lance")), PA_ERR_FORMAT,
              "global buffer 0 at byte offset");
    mutate(good, tpath("colmeta.lance"), m_colmeta);
    CHECK_ERR(open_read0(tpath("colmeta.lance")), PA_ERR_FORMAT, "metadata of column 0");
    mutate(good, tpath("chop.lance"), m_chop_tail);
    CHECK_ERR(pa_lance_reader_open(&r, tpath("chop.lance")), PA_ERR_FORMAT, "LANC");
    CHECK(r == NULL);

    /* a file cut short after open: reads name the file and offset */
    char cut[600];
    snprintf(cut, sizeof cut, "%s", tpath("cut.lance"));
    CHECK_OK(write_file(cut, 3000, 16 * 1024));
    CHECK_OK(pa_lance_reader_open(&r, cut));
    if (r) {
        pa_lance_page_info pi;
        pa_lance_reader_page(r, 5, 0, &pi);
        CHECK(truncate(cut, (off_t)pi.offset + 10) == 0);
        float v[DIM_BIG * 4];
        CHECK_ERR(pa_lance_reader_read(r, 5, 0, 4, v), PA_ERR_FORMAT, "truncated file?");
        CHECK(strstr(pa_last_error(), "cut.lance") != NULL);
        pa_lance_reader_free(r);
    }
}


/* Lance file format 2.2 (minor_version): every type round trips across many pages, the footer
 * says 2.2 and the mini-block pages have large chunks (4-byte chunk-table words: the table of a
 * page of n bit-packed values is 4 bytes a chunk); nullable fields read as before. */
static void test_format_22(void)
{
    const uint64_t rows = 20000;
    uint64_t *a = malloc(rows * 8);
    uint32_t *b = malloc(rows * 4);
    float *c = malloc(rows * 4), *e = malloc(rows * DIM_SMALL * 4), *f = malloc(rows * DIM_BIG * 4);
    uint8_t *d = malloc(rows * CODE_W);
    fill(0, rows, a, b, c, d, e, f);
    const uint8_t nullable[NF] = {0, 0, 0, 1, 0, 0};
    pa_lance_write_options o = {.struct_size = sizeof o,
                                .page_bytes = 16 << 10,
                                .bitpack = 1,
                                .minor_version = PA_LANCE_FORMAT_2_2,
                                .nullable = nullable};
    pa_lance_writer *w = NULL;
    const void *cols[] = {a, b, c, d, e, f};
    CHECK_OK(pa_lance_writer_create(&w, tpath("v22.lance"), fields, NF, &o));
    CHECK_OK(pa_lance_writer_append(w, cols, rows));
    CHECK_OK(pa_lance_writer_close(w));
    pa_lance_writer_free(w);
    pa_lance_reader *r = NULL;
    CHECK_OK(pa_lance_reader_open(&r, tpath("v22.lance")));
    if (!r)
        return;
    unsigned major, minor;
    pa_lance_reader_version(r, &major, &minor);
    CHECK(major == 2 && minor == 2);
    for (size_t i = 0; i < NF; i++) {
        size_t rb = pa_type_row_bytes(fields[i].type, fields[i].dim);
        uint8_t *got = malloc(rows * rb);
        CHECK_OK(pa_lance_reader_read(r, i, 0, rows, got));
        CHECK(!memcmp(got, cols[i], rows * rb));
        free(got);
        CHECK(pa_lance_reader_num_pages(r, i) > 1);
        pa_lance_page_info pi;
        CHECK_OK(pa_lance_reader_page(r, i, 0, &pi));
        CHECK(!strcmp(pi.layout, i == 5 ? "full-zip" : "mini-block (2.2 large chunks)"));
    }
    uint64_t off[3], size[3];
    pa_lance_page_info pi;
    CHECK_OK(pa_lance_reader_page(r, 0, 0, &pi)); /* u64, bit-packed: 1024 values a chunk */
    CHECK(pa_lance_reader_page_buffers(r, 0, 0, off, size) == 2);
    CHECK(size[0] == 4 * ((pi.num_rows + 1023) / 1024));
    pa_lance_reader_free(r);
    /* 2.1, the default, for the same rows: 2-byte words */
    o.minor_version = 0;
    CHECK_OK(pa_lance_writer_create(&w, tpath("v21.lance"), fields, NF, &o));
    CHECK_OK(pa_lance_writer_append(w, cols, rows));
    CHECK_OK(pa_lance_writer_close(w));
    pa_lance_writer_free(w);
    CHECK_OK(pa_lance_reader_open(&r, tpath("v21.lance")));
    if (r) {
        pa_lance_reader_version(r, &major, &minor);
        CHECK(major == 2 && minor == 1);
        CHECK(pa_lance_reader_page_buffers(r, 0, 0, off, size) == 2);
        CHECK_OK(pa_lance_reader_page(r, 0, 0, &pi));
        CHECK(size[0] == 2 * ((pi.num_rows + 1023) / 1024));
        pa_lance_reader_free(r);
    }
    o.minor_version = 3;
    CHECK_ERR(pa_lance_writer_create(&w, tpath("v23.lance"), fields, NF, &o), PA_ERR_INVALID,
              "minor_version 3: the Lance file format versions written are 2.1 and 2.2");
    CHECK(!strcmp(pa_last_error_field(), "minor_version"));
    free(a), free(b), free(c), free(d), free(e), free(f);
}

/* List columns (list<float>, list<fixed_size_list<float>> in mini-block and full-zip pages), in
 * both formats: rows of 1 to 3000 items (rows spanning chunks and filling pages alone), read back
 * whole and by row ranges; empty lists and misuse refused. */
static void test_lists(void)
{
    const pa_field lf[] = {{"lf", PA_TYPE_LIST_FLOAT32, 1},
                           {"lv.lv_item", PA_TYPE_LIST_FSL_FLOAT32, 8},
                           {"lw", PA_TYPE_LIST_FSL_FLOAT32, 96}};
    const uint64_t rows = 600;
    uint64_t *off = malloc((rows + 1) * 8);
    off[0] = 0;
    for (uint64_t i = 0; i < rows; i++) /* mostly short rows; every 97th a long one */
        off[i + 1] = off[i] + (i % 97 == 5 ? 3000 : 1 + i % 9);
    const uint64_t items = off[rows];
    float *v = malloc(items * 96 * 4);
    for (uint64_t k = 0; k < items * 96; k++)
        v[k] = (float)k * 0.5f;
    const pa_lance_list l = {off, v};
    const void *cols[] = {&l, &l, &l};
    for (unsigned minor = 1; minor <= 2; minor++) {
        pa_lance_write_options o = {.struct_size = sizeof o,
                                    .page_bytes = 32 << 10,
                                    .replace = 1,
                                    .minor_version = minor};
        pa_lance_writer *w = NULL;
        CHECK_OK(pa_lance_writer_create(&w, tpath("lists.lance"), lf, 3, &o));
        if (!w)
            break;
        CHECK_OK(pa_lance_writer_append(w, cols, 250)); /* in two appends */
        pa_lance_list rest = {off + 250, v};
        const void *cols2[] = {&rest, &rest, &rest};
        CHECK_OK(pa_lance_writer_append(w, cols2, rows - 250));
        CHECK_OK(pa_lance_writer_close(w));
        pa_lance_writer_free(w);
        pa_lance_reader *r = NULL;
        CHECK_OK(pa_lance_reader_open(&r, tpath("lists.lance")));
        if (!r)
            break;
        CHECK(pa_lance_reader_num_rows(r) == rows);
        const size_t dims[] = {1, 8, 96};
        const char *names[] = {"lf.item", "lv.lv_item", "lw.item"};
        for (size_t ci = 0; ci < 3; ci++) {
            pa_field f;
            CHECK_OK(pa_lance_reader_field(r, ci, &f));
            CHECK(f.type == lf[ci].type && f.dim == lf[ci].dim && !strcmp(f.name, names[ci]));
            CHECK(pa_lance_reader_num_pages(r, ci) > 1);
            pa_lance_page_info pi;
            CHECK_OK(pa_lance_reader_page(r, ci, 0, &pi));
            CHECK(!strcmp(pi.layout, ci == 2      ? "full-zip"
                                     : minor == 2 ? "mini-block (2.2 large chunks)"
                                                  : "mini-block"));
            uint64_t *got_off = malloc((rows + 1) * 8);
            void *got = NULL;
            CHECK_OK(pa_lance_reader_read_list(r, ci, 0, rows, got_off, &got));
            bool same = got != NULL;
            for (uint64_t i = 0; same && i <= rows; i++)
                same = got_off[i] == off[i];
            for (uint64_t k = 0; same && k < items * dims[ci]; k++) /* item k: v[k * dim ..] */
                same = ((float *)got)[k] == v[k];
            CHECK(same);
            free(got);
            /* ranges that start and end inside pages */
            for (int t = 0; t < 20; t++) {
                uint64_t s = rnd() % rows, n = 1 + rnd() % (rows - s);
                got = NULL;
                CHECK_OK(pa_lance_reader_read_list(r, ci, s, n, got_off, &got));
                same = got != NULL && got_off[0] == 0 && got_off[n] == off[s + n] - off[s];
                for (uint64_t i = 0; same && i <= n; i++)
                    same = got_off[i] == off[s + i] - off[s];
                same = same && !memcmp(got, v + off[s] * dims[ci], got_off[n] * dims[ci] * 4);
                CHECK(same);
                free(got);
            }
            free(got_off);
        }
        uint8_t buf[64];
        CHECK_ERR(pa_lance_reader_read(r, 0, 0, 1, buf), PA_ERR_INVALID,
                  "is a list column; read it with pa_lance_reader_read_list");
        pa_lance_reader_free(r);
    }
    /* refusals */
    const pa_field one[] = {{"x", PA_TYPE_UINT32, 1}};
    pa_lance_reader *r = NULL;
    pa_lance_writer *w = NULL;
    CHECK_OK(pa_lance_writer_create(&w, tpath("notlist.lance"), one, 1, NULL));
    uint32_t x = 1;
    const void *xc[] = {&x};
    CHECK_OK(pa_lance_writer_append(w, xc, 1));
    CHECK_OK(pa_lance_writer_close(w));
    pa_lance_writer_free(w);
    CHECK_OK(pa_lance_reader_open(&r, tpath("notlist.lance")));
    uint64_t o2[2];
    void *it = NULL;
    if (r)
        CHECK_ERR(pa_lance_reader_read_list(r, 0, 0, 1, o2, &it), PA_ERR_INVALID,
                  "column 0 (\"x\") is not a list column");
    pa_lance_reader_free(r);
    const uint64_t empty_off[] = {0, 2, 2, 3};
    const pa_lance_list el = {empty_off, v};
    const void *ec[] = {&el};
    CHECK_OK(pa_lance_writer_create(&w, tpath("emptylist.lance"), lf, 1, NULL));
    CHECK_ERR(pa_lance_writer_append(w, ec, 3), PA_ERR_INVALID,
              "list column \"lf\": row 1 of the append is an empty list (offsets 2, 2); "
              "partifact writes lists of at least one item");
    pa_lance_writer_free(w);
    pa_dataset_writer *dw = NULL;
    CHECK_OK(pa_dataset_writer_create(&dw, tpath("listds.lance"), lf, 1, NULL));
    CHECK_ERR(pa_dataset_writer_append(dw, cols, 1), PA_ERR_UNSUPPORTED,
              "field \"lf\" is a list column, which the dataset writer does not append");
    pa_dataset_writer_free(dw);
    free(off), free(v);
}

int main(int argc, char **argv)
{
    TEST_ARGS(argc, argv);
    if (!test_tmpdir_init("lance_file"))
        return 1;
    RUN(test_fastlanes());
    RUN(test_round_trip());
    RUN(test_empty_file());
    RUN(test_write_pages_and_checksum());
    RUN(test_bitpack_pages());
    RUN(test_writer_errors());
    RUN(test_format_22());
    RUN(test_lists());
    RUN(test_crafted_pages());
    RUN(test_bad_files());
    TEST_DONE();
}
