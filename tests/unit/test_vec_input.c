/* Vector inputs: the same matrix written as .fvecs, .bvecs, .npy (float32, float16, uint8) and a
 * Lance dataset reads back identically through every format, in batches, after rewind and by
 * random rows; each malformed input is refused with its message. */
#include "common/common.h"
#include "io/io_internal.h"
#include "ivfpq/ivfpq_internal.h"
#include "test.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define N 1000
#define D 24

static float mat[N * D]; /* integers 0..255: exact in every format */


static void write_vecs(const char *path, int kind /* 0 f32, 1 u8, 2 i32 */)
{
    FILE *f = fopen(path, "wb");
    for (int i = 0; i < N; i++) {
        int32_t d = D;
        fwrite(&d, 4, 1, f);
        for (int j = 0; j < D; j++) {
            float v = mat[i * D + j];
            uint8_t b = (uint8_t)v;
            int32_t w = (int32_t)v;
            if (kind == 0)
                fwrite(&v, 4, 1, f);
            else if (kind == 1)
                fwrite(&b, 1, 1, f);
            else
                fwrite(&w, 4, 1, f);
        }
    }
    fclose(f);
}

/* Writes an .npy of the matrix with the given dtype and header text variations. */
static void write_npy(const char *path, const char *descr, const char *order, const char *shape,
                      long rows_written)
{
    char dict[256];
    snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, order,
             shape);
    size_t hl = strlen(dict) + 1;
    size_t pad = (64 - (10 + hl) % 64) % 64;
    FILE *f = fopen(path, "wb");
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    uint16_t h16 = (uint16_t)(hl + pad);
    fwrite(&h16, 2, 1, f);
    fwrite(dict, 1, strlen(dict), f);
    for (size_t i = 0; i < pad; i++)
        fputc(' ', f);
    fputc('\n', f);
    for (long i = 0; i < rows_written * D; i++) {
        float v = mat[i];
        if (!strcmp(descr, "<f4"))
            fwrite(&v, 4, 1, f);
        else if (!strcmp(descr, "<f2")) { /* integers up to 2048 are exact halves */
            int e = 0;
            uint16_t h = 0;
            if (v != 0) {
                float m = frexpf(v, &e); /* v = m * 2^e, m in [0.5, 1) */
                h = (uint16_t)((e - 1 + 15) << 10 | ((uint16_t)((m * 2 - 1) * 1024) & 0x3FF));
            }
            fwrite(&h, 2, 1, f);
        } else {
            uint8_t b = (uint8_t)v;
            fwrite(&b, 1, 1, f);
        }
    }
    fclose(f);
}

/* Streams the whole input in batches of 7 and compares with the matrix. Row ids are ordinals,
 * or for a dataset written in fragments of frag_rows rows, row addresses. */
static int check_stream(const char *path, uint64_t frag_rows)
{
    pa_vec_input *in;
    if (pa_vec_input_open(&in, path, NULL) != PA_OK) {
        fprintf(stderr, "%s\n", pa_last_error());
        return 1;
    }
    int bad = pa_vec_input_dim(in) != D || pa_vec_input_num_rows(in) != N;
    static uint64_t all_ids[N];
    for (int pass = 0; pass < 2; pass++) { /* the second pass after a rewind */
        float buf[7 * D];
        uint64_t ids[7];
        size_t got, at = 0;
        while (pa_vec_input_next(in, buf, ids, 7, &got) == PA_OK && got) {
            for (size_t k = 0; k < got; k++, at++) {
                bad += memcmp(buf + k * D, mat + at * D, sizeof(float) * D) != 0 ||
                       ids[k] != (frag_rows ? (at / frag_rows) << 32 | (at % frag_rows) : at);
                all_ids[at] = ids[k];
            }
        }
        bad += at != N;
        if (pa_vec_input_rewind(in) != PA_OK)
            bad++;
    }
    uint64_t rows[5] = {999, 3, 500, 3, 0};
    float out[5 * D];
    bad += pa_vec_input_read_rows(in, rows, 5, out) != PA_OK;
    for (int k = 0; k < 5; k++)
        bad += memcmp(out + k * D, mat + rows[k] * D, sizeof(float) * D) != 0;
    /* by the ids the stream gave (row addresses in a dataset), in any order */
    uint64_t by_id[5];
    for (int k = 0; k < 5; k++)
        by_id[k] = all_ids[rows[k]];
    memset(out, 0, sizeof out);
    bad += pa_vec_input_read_ids(in, by_id, 5, out) != PA_OK;
    for (int k = 0; k < 5; k++)
        bad += memcmp(out + k * D, mat + rows[k] * D, sizeof(float) * D) != 0;
    pa_vec_input_free(in);
    return bad;
}

static void test_formats_agree(void)
{
    write_vecs(tpath("m.fvecs"), 0);
    write_vecs(tpath("m.bvecs"), 1);
    write_vecs(tpath("m.ivecs"), 2);
    write_npy(tpath("f4.npy"), "<f4", "False", "(1000, 24)", N);
    write_npy(tpath("f2.npy"), "<f2", "False", "(1000, 24)", N);
    write_npy(tpath("u1.npy"), "|u1", "False", "(1000, 24)", N);
    CHECK(check_stream(tpath("m.fvecs"), 0) == 0);
    CHECK(check_stream(tpath("m.bvecs"), 0) == 0);
    CHECK(check_stream(tpath("m.ivecs"), 0) == 0);
    CHECK(check_stream(tpath("f4.npy"), 0) == 0);
    CHECK(check_stream(tpath("f2.npy"), 0) == 0);
    CHECK(check_stream(tpath("u1.npy"), 0) == 0);
    /* a Lance dataset, in three fragments */
    pa_field f[] = {{"id", PA_TYPE_UINT64, 1}, {"emb", PA_TYPE_FSL_FLOAT32, D}};
    pa_dataset_write_options o = {.struct_size = sizeof o, .max_rows_per_fragment = 400};
    pa_dataset_writer *w;
    CHECK_OK(pa_dataset_writer_create(&w, tpath("m.lance"), f, 2, &o));
    uint64_t ids[N];
    for (int i = 0; i < N; i++)
        ids[i] = (uint64_t)i;
    const void *cols[] = {ids, mat};
    CHECK_OK(pa_dataset_writer_append(w, cols, N));
    CHECK_OK(pa_dataset_writer_commit(w));
    pa_dataset_writer_free(w);
    CHECK(check_stream(tpath("m.lance"), 400) == 0);
    pa_vec_input *in;
    CHECK_OK(pa_vec_input_open(&in, tpath("m.lance"), NULL));
    if (in) { /* ids the dataset does not have */
        float buf[D];
        uint64_t id = 7ull << 32;
        CHECK_ERR(pa_vec_input_read_ids(in, &id, 1, buf), PA_ERR_RANGE,
                  "row id 30064771072 names fragment 7, which the dataset does not have");
        id = 1ull << 32 | 450;
        CHECK_ERR(pa_vec_input_read_ids(in, &id, 1, buf), PA_ERR_RANGE,
                  "row id 4294967746 is offset 450 in fragment 1, which has 400 rows");
        uint64_t row = N;
        CHECK_ERR(pa_vec_input_read_rows(in, &row, 1, buf), PA_ERR_RANGE,
                  "row 1000 does not exist (the input has 1000 rows)");
        pa_vec_input_free(in);
    }
    pa_vec_input_options io = {.struct_size = sizeof io, .column = "id"};
    CHECK_ERR(pa_vec_input_open(&in, tpath("m.lance"), &io), PA_ERR_INVALID,
              "column \"id\" is of type \"uint64\", not a vector column");
}

static void write_bytes(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(b, 1, n, f);
    fclose(f);
}

static void test_bad_inputs(void)
{
    pa_vec_input *in;
    float buf[64 * D];
    size_t got;
    /* a record whose dimension differs */
    write_vecs(tpath("dim.fvecs"), 0);
    FILE *f = fopen(tpath("dim.fvecs"), "r+b");
    int32_t d16 = 16;
    fseek(f, 17 * (4 + 4 * D), SEEK_SET);
    fwrite(&d16, 4, 1, f);
    fclose(f);
    CHECK_OK(pa_vec_input_open(&in, tpath("dim.fvecs"), NULL));
    if (in) {
        pa_status st = PA_OK;
        while (st == PA_OK && (st = pa_vec_input_next(in, buf, NULL, 64, &got)) == PA_OK && got)
            ;
        CHECK(
            st == PA_ERR_FORMAT &&
            strstr(pa_last_error(), "record 17 at byte offset 1700 has dimension 16, expected 24"));
        pa_vec_input_free(in);
    }
    /* a truncated last record */
    write_vecs(tpath("trunc.fvecs"), 0);
    CHECK(truncate(tpath("trunc.fvecs"), 5 * (4 + 4 * D) + 10) == 0);
    CHECK_ERR(pa_vec_input_open(&in, tpath("trunc.fvecs"), NULL), PA_ERR_FORMAT,
              "the record at byte offset 500 is truncated");
    write_bytes(tpath("empty.fvecs"), "", 0);
    CHECK_ERR(pa_vec_input_open(&in, tpath("empty.fvecs"), NULL), PA_ERR_FORMAT, "empty file");
    int32_t neg = -3;
    write_bytes(tpath("neg.fvecs"), &neg, 4);
    CHECK_ERR(pa_vec_input_open(&in, tpath("neg.fvecs"), NULL), PA_ERR_FORMAT,
              "record 0 at byte offset 0 has dimension -3");
    /* NaN: an error naming the row, or skipped and counted */
    float saved = mat[5 * D + 2];
    mat[5 * D + 2] = NAN;
    write_vecs(tpath("nan.fvecs"), 0);
    mat[5 * D + 2] = saved;
    CHECK_OK(pa_vec_input_open(&in, tpath("nan.fvecs"), NULL));
    if (in) {
        CHECK_ERR(pa_vec_input_next(in, buf, NULL, 64, &got), PA_ERR_INVALID,
                  "row 5 has NaN at dimension 2; set skip_invalid to skip such rows");
        /* the field the message names, for a front end's own flag */
        CHECK(pa_last_error_field() && !strcmp(pa_last_error_field(), "skip_invalid"));
        pa_vec_input_free(in);
    }
    pa_vec_input_options skip = {.struct_size = sizeof skip, .skip_invalid = 1};
    CHECK_OK(pa_vec_input_open(&in, tpath("nan.fvecs"), &skip));
    if (in) {
        uint64_t total = 0, ids[64];
        while (pa_vec_input_next(in, buf, ids, 64, &got) == PA_OK && got)
            total += got;
        CHECK(total == N - 1 && pa_vec_input_skipped(in) == 1);
        pa_vec_input_free(in);
    }
    /* npy: order, dtype, dimensions, truncation */
    write_npy(tpath("fortran.npy"), "<f4", "True", "(1000, 24)", N);
    CHECK_ERR(pa_vec_input_open(&in, tpath("fortran.npy"), NULL), PA_ERR_UNSUPPORTED,
              "Fortran order");
    write_npy(tpath("f8.npy"), "<f8", "False", "(1000, 24)", 0);
    CHECK_ERR(pa_vec_input_open(&in, tpath("f8.npy"), NULL), PA_ERR_UNSUPPORTED,
              ".npy dtype '<f8' is not supported");
    write_npy(tpath("3d.npy"), "<f4", "False", "(10, 10, 24)", 0);
    CHECK_ERR(pa_vec_input_open(&in, tpath("3d.npy"), NULL), PA_ERR_UNSUPPORTED,
              ".npy array must be 2-D");
    write_npy(tpath("short.npy"), "<f4", "False", "(1000, 24)", 999);
    CHECK_ERR(
        pa_vec_input_open(&in, tpath("short.npy"), NULL), PA_ERR_FORMAT,
        ".npy shape (1000, 24) needs 96000 bytes of data after the header, the file has 95904");
    write_bytes(tpath("bad.npy"), "NOTNUMPY....", 12);
    CHECK_ERR(pa_vec_input_open(&in, tpath("bad.npy"), NULL), PA_ERR_FORMAT, "not a .npy file");
    write_bytes(tpath("x.csv"), "1,2\n", 4);
    CHECK_ERR(pa_vec_input_open(&in, tpath("x.csv"), NULL), PA_ERR_UNSUPPORTED,
              "unknown input format \".csv\"");
    CHECK_ERR(pa_vec_input_open(&in, tpath("none.fvecs"), NULL), PA_ERR_IO, "cannot open");
    CHECK_OK(pa_vec_input_open(&in, tpath("m.fvecs"), NULL));
    if (in) {
        uint64_t rows[1] = {N};
        CHECK_ERR(pa_vec_input_read_rows(in, rows, 1, buf), PA_ERR_RANGE,
                  "row 1000 does not exist (the input has 1000 rows)");
        pa_vec_input_free(in);
    }
}

/* An .npy of the matrix as float32 (big-endian when big) behind the header dict given, in
 * format version 1, 2 or 3: the dict padded with spaces to 64 bytes and ended with '\n', as
 * NumPy writes it. */
static void write_npy_dict(const char *path, int version, const char *dict, bool big)
{
    size_t pre = version == 1 ? 10 : 12, hl = strlen(dict) + 1, pad = (64 - (pre + hl) % 64) % 64;
    FILE *f = fopen(path, "wb");
    fwrite("\x93NUMPY", 1, 6, f);
    fputc(version, f);
    fputc(0, f);
    uint32_t len = (uint32_t)(hl + pad); /* little-endian host */
    fwrite(&len, version == 1 ? 2 : 4, 1, f);
    fputs(dict, f);
    for (size_t i = 0; i < pad; i++)
        fputc(' ', f);
    fputc('\n', f);
    for (int i = 0; i < N * D; i++) {
        uint32_t b;
        memcpy(&b, &mat[i], 4);
        if (big)
            b = __builtin_bswap32(b);
        fwrite(&b, 4, 1, f);
    }
    fclose(f);
}

/* .npy headers as NumPy's format specification allows them (numpy.load reads each of these
 * the same): any whitespace, key order, quotes, trailing comma or none, byte order '<' '>' '=',
 * Python 2 longs, versions 1.0 to 3.0. Fortran order however written is refused (it was read as
 * C order when written without the space after the colon, or with double quotes); keys NumPy
 * does not write, repeated keys and overflowing shapes are refused. */
static void test_npy_headers(void)
{
    static const struct {
        int version;
        const char *dict;
        bool big;
    } ok[] = {
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 24), }", false},
        {1, "{\"descr\":\"<f4\",\"fortran_order\":False,\"shape\":(1000,24)}", false},
        {1, "{'shape': (1000, 24), 'fortran_order': False, 'descr': '<f4'}", false},
        {1, "{\n\t'fortran_order' :False ,\r\n 'shape':( 1000 ,24 , ) ,'descr' : '=f4' , }", false},
        {1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1000, 24), }", true},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000L, 24L), }", false},
        {2, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 24), }", false},
        {3, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 24), }", false},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        char name[32];
        snprintf(name, sizeof name, "hdr-ok-%zu.npy", i);
        write_npy_dict(tpath(name), ok[i].version, ok[i].dict, ok[i].big);
        int bad = check_stream(tpath(name), 0);
        if (bad)
            fprintf(stderr, "%s: %s\n", ok[i].dict, pa_last_error());
        CHECK(bad == 0);
    }
    static const struct {
        const char *dict, *msg;
    } refused[] = {
        {"{'descr': '<f4', 'fortran_order':True, 'shape': (1000, 24), }",
         ".npy array is in Fortran order; partifact reads C-order arrays"},
        {"{\"descr\": \"<f4\", \"fortran_order\": True, \"shape\": (1000, 24)}",
         ".npy array is in Fortran order; partifact reads C-order arrays"},
        {"{'descr': '<f4', 'fortran_order' : True, 'shape': (1000, 24), }",
         ".npy array is in Fortran order; partifact reads C-order arrays"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 24), 'x': 1}",
         ".npy header has key 'x'; NumPy's format has only 'descr', 'fortran_order' and "
         "'shape'"},
        {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1000, 24)}",
         ".npy header has key 'descr' twice"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (18446744073709551616, 24)}",
         ".npy header: a 'shape' entry at byte offset 51 of the header dict does not fit in 64 "
         "bits"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 24)} x",
         ".npy header: expected nothing but whitespace after the header dict at byte offset 62 "
         "of the header dict"},
        {"{'descr': '<f4', 'shape': (1000, 24)}", ".npy header lacks 'fortran_order'"},
        {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1000,)}",
         ".npy dtype is a structured (record) dtype"},
        {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1000, 24)}",
         ".npy header: expected True or False for 'fortran_order' at byte offset 34"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        char name[32];
        snprintf(name, sizeof name, "hdr-bad-%zu.npy", i);
        write_npy_dict(tpath(name), 1, refused[i].dict, false);
        pa_vec_input *in = NULL;
        pa_status st = pa_vec_input_open(&in, tpath(name), NULL);
        CHECK(st != PA_OK && in == NULL);
        CHECK_ERR(st, st == PA_OK ? PA_ERR_FORMAT : st, refused[i].msg);
        pa_vec_input_free(in);
    }
}

/* Inputs that are not regular files are refused before any read (a FIFO used to block the
 * open forever); sizes a file claims are checked against its real size before allocating: an
 * .ivecs whose first row claims k = 2^31 - 1, and the whole-input reader on a file of N rows. */
static void test_untrusted_inputs(void)
{
    pa_vec_input *in = NULL;
    CHECK(mkfifo(tpath("fifo.fvecs"), 0644) == 0);
    CHECK_ERR(pa_vec_input_open(&in, tpath("fifo.fvecs"), NULL), PA_ERR_INVALID,
              "fifo.fvecs: is a FIFO, not a regular file");
    CHECK(in == NULL);
    CHECK(symlink("/dev/null", tpath("null.npy")) == 0);
    CHECK_ERR(pa_vec_input_open(&in, tpath("null.npy"), NULL), PA_ERR_INVALID,
              "null.npy: is a character device, not a regular file");
    pa_lance_reader *r = NULL;
    CHECK(mkdir(tpath("d.lance"), 0755) == 0);
    CHECK_ERR(pa_lance_reader_open(&r, tpath("d.lance")), PA_ERR_INVALID,
              "d.lance: is a directory, not a regular file");
    CHECK(mkfifo(tpath("fifo.ivecs"), 0644) == 0);
    uint64_t *ids = NULL, n = 0;
    uint32_t k = 0;
    CHECK_ERR(pa_ids_read(tpath("fifo.ivecs"), &ids, &n, &k), PA_ERR_INVALID,
              "fifo.ivecs: is a FIFO, not a regular file");
    const uint8_t huge_k[8] = {0xff, 0xff, 0xff, 0x7f};
    write_bytes(tpath("huge-k.ivecs"), huge_k, sizeof huge_k);
    CHECK_ERR(pa_ids_read(tpath("huge-k.ivecs"), &ids, &n, &k), PA_ERR_FORMAT,
              "8 bytes is not a whole number of 8589934592-byte rows of k = 2147483647: the row "
              "at byte offset 0 is truncated");
    CHECK(ids == NULL && n == 0 && k == 0);
    float *all = NULL;
    uint32_t dim = 0;
    CHECK_OK(pa_vec_input_read_all(tpath("m.fvecs"), NULL, &all, &n, &dim));
    CHECK(all && n == N && dim == D && !memcmp(all, mat, sizeof mat));
    free(all);
}


/* Batches and samples large enough to be read on several threads (more than twice
 * FILE_PARALLEL_ROWS rows): the rows and ids as written; the first bad row in order named,
 * wherever the threads' runs fall; skipped rows left out of the batch and the sample alike; a
 * row whose squared norm is above what the fast check accepts, but within PA_MAX_SQ_NORM,
 * kept. pa_check_vectors, which checks on all cores the same way, names the same rows. */
#define NP 6000
static void write_big(const char *path, const float *m, int bad_dim_row)
{
    FILE *f = fopen(path, "wb");
    for (int i = 0; i < NP; i++) {
        int32_t d = i == bad_dim_row ? D - 1 : D;
        fwrite(&d, 4, 1, f);
        fwrite(m + (size_t)i * D, 4, D, f);
    }
    fclose(f);
}

static void test_parallel_reads(void)
{
    omp_set_num_threads(2);
    float *m = malloc(sizeof(float) * NP * D), *buf = malloc(sizeof(float) * NP * D);
    uint64_t *ids = malloc(8 * NP), rows[NP / 2];
    for (int i = 0; i < NP * D; i++)
        m[i] = (float)((i * 37 + i / D * 11) % 256);
    m[2000 * D] = sqrtf((float)(PA_MAX_SQ_NORM * 0.75)); /* near the limit, within it */
    write_big(tpath("big.fvecs"), m, -1);
    pa_vec_input *in;
    size_t got = 0;
    CHECK_OK(pa_vec_input_open(&in, tpath("big.fvecs"), NULL));
    if (in) {
        CHECK_OK(pa_vec_input_next(in, buf, ids, NP, &got));
        bool same = got == NP && !memcmp(buf, m, sizeof(float) * NP * D);
        for (size_t i = 0; same && i < got; i++)
            same = ids[i] == i;
        CHECK(same);
        pa_vec_input_free(in);
    }
    CHECK_OK(pa_check_vectors(m, NP, D, "big"));
    /* an oversized norm at row 1200 (the first thread's run), NaN at 4500 (the second's) */
    m[1200 * D + 3] = 3e18f;
    m[4500 * D + 7] = NAN;
    write_big(tpath("bad.fvecs"), m, -1);
    CHECK_OK(pa_vec_input_open(&in, tpath("bad.fvecs"), NULL));
    if (in) {
        CHECK_ERR(pa_vec_input_next(in, buf, ids, NP, &got), PA_ERR_INVALID,
                  "row 1200 has squared norm 9e+36, more than 5.32e+36");
        for (int i = 0; i < NP / 2; i++)
            rows[i] = (uint64_t)(NP - 2 - 2 * i); /* even rows, descending: read ascending */
        CHECK_ERR(pa_vec_input_read_rows(in, rows, NP / 2, buf), PA_ERR_INVALID,
                  "row 1200 has squared norm 9e+36, more than 5.32e+36");
        pa_vec_input_free(in);
    }
    CHECK_ERR(pa_check_vectors(m, NP, D, "big"), PA_ERR_INVALID,
              "big: row 4500 has NaN at dimension 7");
    pa_vec_input_options skip = {.struct_size = sizeof skip, .skip_invalid = 1};
    CHECK_OK(pa_vec_input_open(&in, tpath("bad.fvecs"), &skip));
    if (in) {
        CHECK_OK(pa_vec_input_next(in, buf, ids, NP, &got));
        bool same = got == NP - 2 && pa_vec_input_skipped(in) == 2;
        for (size_t i = 0, k = 0; same && i < NP; i++) {
            if (i == 1200 || i == 4500)
                continue;
            same = ids[k] == i && !memcmp(buf + k * D, m + i * D, sizeof(float) * D);
            k++;
        }
        CHECK(same);
        for (int i = 0; i < NP / 2; i++)
            rows[i] = (uint64_t)(NP - 2 - 2 * i); /* even rows, descending: 4500 and 1200 */
        size_t kept = 0;
        CHECK_OK(pa_vec_input_read_sample(in, rows, NP / 2, buf, &kept));
        same = kept == NP / 2 - 2;
        for (size_t i = 0, k = 0; same && i < NP / 2; i++) {
            if (rows[i] == 1200 || rows[i] == 4500)
                continue;
            same = !memcmp(buf + k * D, m + rows[i] * D, sizeof(float) * D);
            k++;
        }
        CHECK(same);
        pa_vec_input_free(in);
    }
    /* bad rows in the second thread's run only (the first's all certainly good): a record of
     * another dimension at 3500 comes before the NaN at 4500; a sample that asks for 4500 */
    m[1200 * D + 3] = 1;
    m[2000 * D] = 1;
    write_big(tpath("dim2.fvecs"), m, 3500);
    CHECK_OK(pa_vec_input_open(&in, tpath("dim2.fvecs"), NULL));
    if (in) {
        CHECK_ERR(pa_vec_input_next(in, buf, ids, NP, &got), PA_ERR_FORMAT,
                  "record 3500 at byte offset 350000 has dimension 23, expected 24");
        pa_vec_input_free(in);
    }
    write_big(tpath("nan2.fvecs"), m, -1);
    CHECK_OK(pa_vec_input_open(&in, tpath("nan2.fvecs"), NULL));
    if (in) {
        CHECK_ERR(pa_vec_input_next(in, buf, ids, NP, &got), PA_ERR_INVALID,
                  "row 4500 has NaN at dimension 7");
        CHECK_ERR(pa_vec_input_read_rows(in, rows, NP / 2, buf), PA_ERR_INVALID,
                  "row 4500 has NaN at dimension 7");
        pa_vec_input_free(in);
    }
    CHECK_ERR(pa_check_vectors(m + 3000 * D, NP - 3000, D, "half"), PA_ERR_INVALID,
              "half: row 1500 has NaN at dimension 7");
    free(m), free(buf), free(ids);
}

/* A sample read in runs of nearby records (rows under 16 KiB apart share a read, at most 1 MiB
 * a thread): rows in dense runs, far apart, repeated, the first and the last, asked in any
 * order, read exactly what the file holds, unmapped as mapped (the rows converted in place); a
 * malformed record between rows asked for is never looked at, one asked for is named; a row
 * past the end is named wherever it falls. */
#define NR 80000
#define DR 8
static void test_sample_runs(void)
{
    omp_set_num_threads(2);
    const size_t rec = 4 + DR * 4;
    float *m = malloc(sizeof(float) * NR * DR), *a = malloc(sizeof(float) * NR * DR),
          *b = malloc(sizeof(float) * NR * DR);
    uint64_t *rows = malloc(8 * NR);
    for (size_t i = 0; i < (size_t)NR * DR; i++)
        m[i] = (float)(i % 65521);
    FILE *f = fopen(tpath("runs.fvecs"), "wb");
    for (int i = 0; i < NR; i++) {
        int32_t d = i == 50001 ? DR + 1 : DR; /* a malformed record no sample below asks for */
        fwrite(&d, 4, 1, f);
        fwrite(m + (size_t)i * DR, 4, DR, f);
    }
    fclose(f);
    size_t n = 0;
    uint64_t s = 7;
    for (uint64_t r = 0; r < NR; r++) {
        if (r == 50001)
            continue;
        /* dense below 20,000, one in 3 to 40,000, one in 1,000 above (gaps over 16 KiB) */
        const uint64_t every = r < 20000 ? 1 : r < 40000 ? 3 : 1000;
        if (r % every == 0 || r == NR - 1)
            rows[n++] = r;
    }
    rows[n++] = 12345, rows[n++] = 0, rows[n++] = NR - 1; /* repeats */
    for (size_t i = n - 1; i > 0; i--) {                  /* shuffled */
        size_t j = (size_t)(pa_splitmix(&s) % (i + 1));
        uint64_t t = rows[i];
        rows[i] = rows[j], rows[j] = t;
    }
    pa_vec_input *in = NULL, *mapped = NULL;
    CHECK_OK(pa_vec_input_open(&in, tpath("runs.fvecs"), NULL));
    CHECK_OK(pa_vec_input_open(&mapped, tpath("runs.fvecs"), NULL));
    if (in && mapped) {
        CHECK(pa_vec_input_concurrent_reads(mapped));
        size_t got = 0, got_mapped = 0;
        CHECK_OK(pa_vec_input_read_sample(in, rows, n, a, &got));
        CHECK_OK(pa_vec_input_read_sample(mapped, rows, n, b, &got_mapped));
        bool same = got == n && got_mapped == n;
        for (size_t i = 0; same && i < n; i++)
            same = !memcmp(a + i * DR, m + rows[i] * DR, sizeof(float) * DR);
        CHECK(same);
        CHECK(got == got_mapped && !memcmp(a, b, sizeof(float) * DR * got));
        /* the malformed record asked for, then a row past the end, amid the others */
        rows[n / 3] = 50001;
        char want[128];
        snprintf(want, sizeof want, "record 50001 at byte offset %zu has dimension 9, expected 8",
                 50001 * rec);
        CHECK_ERR(pa_vec_input_read_rows(in, rows, n, a), PA_ERR_FORMAT, want);
        rows[n / 3] = 1, rows[n / 2] = NR;
        CHECK_ERR(pa_vec_input_read_rows(in, rows, n, a), PA_ERR_RANGE,
                  "row 80000 does not exist (the input has 80000 rows)");
    }
    pa_vec_input_free(in), pa_vec_input_free(mapped);
    free(m), free(a), free(b), free(rows);
}

int main(int argc, char **argv)
{
    TEST_ARGS(argc, argv);
    if (!test_tmpdir_init("vec_input"))
        return 1;
    for (int i = 0; i < N * D; i++)
        mat[i] = (float)((i * 37 + i / D * 11) % 256);
    RUN(test_formats_agree());
    RUN(test_bad_inputs());
    RUN(test_npy_headers());
    RUN(test_untrusted_inputs());
    RUN(test_parallel_reads());
    RUN(test_sample_runs());
    TEST_DONE();
}
