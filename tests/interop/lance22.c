/* Lance file format 2.2 between partifact and LanceDB 0.39.0 (lance22.mjs is the JavaScript
 * side and lists the tables and their value formulas, values.h).
 *   lance22 write DIR   partifact writes 2.2 files of every column type it writes: pa_cols
 *                       (70,000 rows in many pages), pa_one (1 row), pa_empty (0 rows), pa_lists
 *                       (3,000 rows of three list columns, several pages), pa_meta32 and
 *                       pa_meta128 (lance-cuvs' metadata.lance), each wrapped as a table
 *                       DIR/pa_NAME.lance for LanceDB to open.
 *   lance22 read DIR    partifact reads the tables LanceDB wrote (make): every value of every
 *                       column against the formulas; then it writes the same values again with
 *                       its own 2.2 writer, one page for each of LanceDB's pages, and compares
 *                       the pages' buffers byte for byte with LanceDB's.
 *   lance22 wrap FILE DATASET   wraps a Lance file as a table (for LanceDB to read it).
 *   lance22 same-index A B [--rows-only]   indexes A and B hold the same rows and codes per
 *                       partition (and equal auxiliary.idx files, unless --rows-only). */
#include "partifact.h"
#include "lance/lance_internal.h" /* pa_lance_writer_write_pages, pa_lance_reader_page_buffers */
#include "check.h"
#include "values.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIE(...) (fprintf(stderr, __VA_ARGS__), fputc('\n', stderr), exit(1))

/* The list columns' shapes (lance22.mjs: listLen, listDim, listVal). */
static uint64_t list_len(int c, uint64_t i) { return 1 + i % (c == 0 ? 7 : c == 1 ? 5 : 3); }
static const uint32_t list_dim[3] = {1, 8, 128};
static float list_val(int c, uint64_t i, uint64_t k, uint32_t j)
{
    return c == 0   ? iv_vec(i, (uint32_t)k)
           : c == 1 ? iv_vec(i, (uint32_t)(100 + 8 * k + j))
                    : iv_vec(i, (uint32_t)(1000 + 128 * k + j));
}
/* metadata.lance: P centroids of D floats, M * 256 codebook entries of D / M */
static const struct {
    const char *name;
    uint32_t P, D, M;
} metas[] = {{"meta32", 300, 32, 8}, {"meta128", 1000, 128, 16}};

static const pa_field cols_fields[] = {{"xrowid", PA_TYPE_UINT64, 1},
                                       {"part", PA_TYPE_UINT32, 1},
                                       {"__pq_code", PA_TYPE_FSL_UINT8, 16},
                                       {"v128", PA_TYPE_FSL_FLOAT32, 128},
                                       {"v8", PA_TYPE_FSL_FLOAT32, 8}};
static const pa_field list_fields[] = {{"lf", PA_TYPE_LIST_FLOAT32, 1},
                                       {"lv.lv_item", PA_TYPE_LIST_FSL_FLOAT32, 8},
                                       {"lw", PA_TYPE_LIST_FSL_FLOAT32, 128}};

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        DIE("out of memory");
    return p;
}

/* Writes fields/columns as one 2.2 file DIR/NAME.file.lance and wraps it as DIR/NAME.lance. */
static void write_file(const char *dir, const char *name, const pa_field *f, size_t nf,
                       const void *const *cols, uint64_t n, const uint8_t *nullable,
                       const char *meta_key, const char *meta_val)
{
    char path[4096], ds[4096];
    snprintf(path, sizeof path, "%s/%s.file.lance", dir, name);
    snprintf(ds, sizeof ds, "%s/%s.lance", dir, name);
    pa_lance_write_options o = {.struct_size = sizeof o,
                                .page_bytes = 64 << 10,
                                .bitpack = 1,
                                .minor_version = PA_LANCE_FORMAT_2_2,
                                .nullable = nullable};
    pa_lance_writer *w = NULL;
    const char *files[] = {path};
    if (pa_lance_writer_create(&w, path, f, nf, &o) != PA_OK ||
        pa_lance_writer_append(w, cols, n) != PA_OK ||
        (meta_key && pa_lance_writer_set_metadata(w, meta_key, meta_val, strlen(meta_val))) ||
        pa_lance_writer_close(w) != PA_OK || pa_dataset_wrap_files(ds, files, 1) != PA_OK)
        DIE("%s: %s", name, pa_last_error());
    pa_lance_writer_free(w);
    pa_lance_reader *r = NULL;
    unsigned major, minor;
    if (pa_lance_reader_open(&r, path) != PA_OK)
        DIE("%s: %s", path, pa_last_error());
    pa_lance_reader_version(r, &major, &minor);
    EXPECT(major == 2 && minor == 2, "%s: format %u.%u, expected 2.2", path, major, minor);
    pa_lance_reader_free(r);
}

/* The rows [first, first + n) of the list column c as a pa_lance_list (malloc'd parts). */
static pa_lance_list make_list(int c, uint64_t first, uint64_t n)
{
    uint64_t *off = xmalloc((n + 1) * sizeof *off);
    off[0] = 0;
    for (uint64_t k = 0; k < n; k++)
        off[k + 1] = off[k] + list_len(c, first + k);
    float *v = xmalloc(off[n] * list_dim[c] * sizeof *v);
    for (uint64_t k = 0, at = 0; k < n; k++)
        for (uint64_t q = 0; q < list_len(c, first + k); q++)
            for (uint32_t j = 0; j < list_dim[c]; j++)
                v[at++] = list_val(c, first + k, q, j);
    return (pa_lance_list){off, v};
}

/* One metadata.lance list: n items of dim floats, item e = vec(e + base). */
static pa_lance_list make_meta(uint64_t n, uint32_t dim, uint64_t base)
{
    uint64_t *off = xmalloc(2 * sizeof *off);
    off[0] = 0, off[1] = n;
    float *v = xmalloc(n * dim * sizeof *v);
    for (uint64_t e = 0; e < n; e++)
        for (uint32_t j = 0; j < dim; j++)
            v[e * dim + j] = iv_vec(e + base, j);
    return (pa_lance_list){off, v};
}

static void free_list(pa_lance_list *l)
{
    free((void *)l->offsets);
    free((void *)l->items);
}

static int do_write(const char *dir)
{
    const uint64_t sizes[] = {70000, 1, 0};
    const char *names[] = {"pa_cols", "pa_one", "pa_empty"};
    const uint8_t nullable[] = {0, 0, 1, 0, 0}; /* __pq_code, as upstream declares it */
    for (int t = 0; t < 3; t++) {
        uint64_t n = sizes[t];
        uint64_t *ids = xmalloc(n * 8);
        uint32_t *part = xmalloc(n * 4);
        uint8_t *code = xmalloc(n * 16);
        float *a = xmalloc(n * 128 * 4), *b = xmalloc(n * 8 * 4);
        for (uint64_t i = 0; i < n; i++) {
            ids[i] = iv_id(i), part[i] = iv_part(i);
            for (uint32_t j = 0; j < 16; j++)
                code[i * 16 + j] = iv_code(i, j);
            for (uint32_t j = 0; j < 128; j++)
                a[i * 128 + j] = iv_vec(i, j);
            for (uint32_t j = 0; j < 8; j++)
                b[i * 8 + j] = iv_vec(i, j + 200);
        }
        const void *cols[] = {ids, part, code, a, b};
        write_file(dir, names[t], cols_fields, 5, cols, n, nullable, NULL, NULL);
        free(ids), free(part), free(code), free(a), free(b);
    }
    pa_lance_list l[3];
    for (int c = 0; c < 3; c++)
        l[c] = make_list(c, 0, 3000);
    const void *lcols[] = {&l[0], &l[1], &l[2]};
    write_file(dir, "pa_lists", list_fields, 3, lcols, 3000, NULL, NULL, NULL);
    for (int c = 0; c < 3; c++)
        free_list(&l[c]);
    for (size_t m = 0; m < sizeof metas / sizeof metas[0]; m++) {
        pa_field f[] = {{"_ivf_centroids._ivf_centroids_item", PA_TYPE_LIST_FSL_FLOAT32,
                         metas[m].D},
                        {"_pq_codebook._pq_codebook_item", PA_TYPE_LIST_FSL_FLOAT32,
                         metas[m].D / metas[m].M}};
        pa_lance_list c = make_meta(metas[m].P, metas[m].D, 0);
        pa_lance_list q = make_meta((uint64_t)metas[m].M * 256, metas[m].D / metas[m].M, 100000);
        const void *mcols[] = {&c, &q};
        char name[64], pval[16];
        snprintf(name, sizeof name, "pa_%s", metas[m].name);
        snprintf(pval, sizeof pval, "%u", metas[m].P);
        write_file(dir, name, f, 2, mcols, 1, NULL, "lance:index_build:num_partitions", pval);
        free_list(&c), free_list(&q);
    }
    printf("partifact wrote pa_cols, pa_one, pa_empty, pa_lists, pa_meta32, pa_meta128 (format "
           "2.2): %ld checks, %ld problems\n",
           checked, bad);
    return bad ? 1 : 0;
}

/* The one data file of table DIR/NAME.lance (LanceDB writes one per fragment: all here). */
static int table_files(const char *dir, const char *name, char files[][4400], int max)
{
    char d[4096];
    snprintf(d, sizeof d, "%s/%s.lance/data", dir, name);
    DIR *dd = opendir(d);
    if (!dd)
        DIE("%s: cannot open", d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dd)) && n < max)
        if (strstr(e->d_name, ".lance"))
            snprintf(files[n++], 4400, "%s/%.256s", d, e->d_name);
    closedir(dd);
    return n;
}

/* The bytes [off, off + n) of a file; malloc'd. */
static uint8_t *file_bytes(const char *path, uint64_t off, uint64_t n)
{
    FILE *f = fopen(path, "rb");
    uint8_t *b = xmalloc(n);
    if (!f || fseek(f, (long)off, SEEK_SET) != 0 || fread(b, 1, n, f) != n)
        DIE("%s: cannot read %llu bytes at %llu", path, (unsigned long long)n,
            (unsigned long long)off);
    fclose(f);
    return b;
}

static uint64_t pages_compared, bytes_compared;

/* Column col of LanceDB's file `theirs` written again by partifact (the values in vals: rows,
 * or a pa_lance_list per page for a list column), one page per page of LanceDB's, with
 * bitpack as LanceDB writes integers; every page buffer compared byte for byte. */
static void same_pages(const char *theirs, pa_lance_reader *r, size_t col, const pa_field *f,
                       const void *vals, const uint64_t *list_off, const char *tmp)
{
    pa_lance_write_options o = {.struct_size = sizeof o,
                                .page_bytes = 1u << 30,
                                .bitpack = 1,
                                .minor_version = PA_LANCE_FORMAT_2_2};
    pa_lance_writer *w = NULL;
    size_t np = pa_lance_reader_num_pages(r, col);
    size_t rb = pa_type_row_bytes(f->type, f->dim);
    pa_status st = pa_lance_writer_create(&w, tmp, f, 1, &o);
    for (size_t p = 0; p < np && st == PA_OK; p++) {
        pa_lance_page_info pi;
        pa_lance_reader_page(r, col, p, &pi);
        pa_lance_list l = {list_off ? list_off + pi.first_row : NULL, vals};
        const void *cols[] = {list_off ? (const void *)&l
                                       : (const uint8_t *)vals + pi.first_row * rb};
        st = pa_lance_writer_write_pages(w, cols, pi.num_rows);
    }
    if (st == PA_OK)
        st = pa_lance_writer_close(w);
    pa_lance_writer_free(w);
    pa_lance_reader *ours = NULL;
    if (st != PA_OK || pa_lance_reader_open(&ours, tmp) != PA_OK)
        DIE("%s: %s", tmp, pa_last_error());
    EXPECT(pa_lance_reader_num_pages(ours, 0) == np, "%s: column \"%s\": %zu pages, LanceDB %zu",
           tmp, f->name, pa_lance_reader_num_pages(ours, 0), np);
    for (size_t p = 0; p < np && p < pa_lance_reader_num_pages(ours, 0); p++) {
        uint64_t ao[3], as[3], bo[3], bs[3];
        pa_lance_page_info a, b;
        pa_lance_reader_page(r, col, p, &a);
        pa_lance_reader_page(ours, 0, p, &b);
        size_t na = pa_lance_reader_page_buffers(r, col, p, ao, as);
        size_t nb = pa_lance_reader_page_buffers(ours, 0, p, bo, bs);
        EXPECT(na == nb && !strcmp(a.layout, b.layout) && !strcmp(a.encoding, b.encoding),
               "%s column \"%s\" page %zu: LanceDB %s/%s with %zu buffers, partifact %s/%s with "
               "%zu",
               theirs, f->name, p, a.layout, a.encoding, na, b.layout, b.encoding, nb);
        for (size_t k = 0; k < na && k < nb; k++) {
            EXPECT(as[k] == bs[k],
                   "%s column \"%s\" page %zu buffer %zu: LanceDB %llu bytes, "
                   "partifact %llu",
                   theirs, f->name, p, k, (unsigned long long)as[k], (unsigned long long)bs[k]);
            if (as[k] != bs[k])
                continue;
            uint8_t *x = file_bytes(theirs, ao[k], as[k]), *y = file_bytes(tmp, bo[k], bs[k]);
            uint64_t i = 0;
            while (i < as[k] && x[i] == y[i])
                i++;
            EXPECT(i == as[k],
                   "%s column \"%s\" page %zu buffer %zu: bytes differ first at byte "
                   "%llu of %llu (LanceDB 0x%02x, partifact 0x%02x)",
                   theirs, f->name, p, k, (unsigned long long)i, (unsigned long long)as[k],
                   i < as[k] ? x[i] : 0, i < as[k] ? y[i] : 0);
            bytes_compared += as[k];
            free(x), free(y);
        }
        pages_compared++;
    }
    pa_lance_reader_free(ours);
    remove(tmp);
}

/* Opens LanceDB's one data file of a table, checking the format is 2.2. */
static pa_lance_reader *open_theirs(const char *dir, const char *name, char *file)
{
    char files[4][4400];
    int n = table_files(dir, name, files, 4);
    EXPECT(n == 1, "%s: %d data files, expected 1", name, n);
    if (n < 1)
        DIE("%s: no data file", name);
    strcpy(file, files[0]);
    pa_lance_reader *r = NULL;
    if (pa_lance_reader_open(&r, file) != PA_OK)
        DIE("%s: %s", file, pa_last_error());
    unsigned major, minor;
    pa_lance_reader_version(r, &major, &minor);
    EXPECT(major == 2 && minor == 2, "%s: format %u.%u, expected 2.2", file, major, minor);
    return r;
}

static size_t find(pa_lance_reader *r, const char *name, pa_type type, uint32_t dim)
{
    size_t c;
    pa_field f;
    if (pa_lance_reader_find_field(r, name, &c) != PA_OK)
        DIE("%s: %s", pa_lance_reader_path(r), pa_last_error());
    pa_lance_reader_field(r, c, &f);
    EXPECT(f.type == type && f.dim == dim, "%s: column \"%s\" has type %d dim %u, expected %d %u",
           pa_lance_reader_path(r), name, (int)f.type, f.dim, (int)type, dim);
    return c;
}

/* Reads a whole list column; checks it against list column c's formula (lists) or a
 * metadata list (n items of dim floats from base) when c < 0. */
static void check_list(pa_lance_reader *r, size_t col, int c, uint64_t n, uint32_t dim,
                       uint64_t base, uint64_t **offs_out, float **items_out)
{
    uint64_t rows = pa_lance_reader_num_rows(r);
    uint64_t *off = xmalloc((rows + 1) * sizeof *off);
    void *items = NULL;
    if (pa_lance_reader_read_list(r, col, 0, rows, off, &items) != PA_OK)
        DIE("%s: %s", pa_lance_reader_path(r), pa_last_error());
    const float *v = items;
    for (uint64_t i = 0; i < rows; i++) {
        uint64_t len = off[i + 1] - off[i], want = c >= 0 ? list_len(c, i) : n;
        EXPECT(len == want, "%s column %zu row %llu: %llu items, expected %llu",
               pa_lance_reader_path(r), col, (unsigned long long)i, (unsigned long long)len,
               (unsigned long long)want);
        for (uint64_t q = 0; q < len && len == want; q++)
            for (uint32_t j = 0; j < dim; j++) {
                float x = v[(off[i] + q) * dim + j];
                float y = c >= 0 ? list_val(c, i, q, j) : iv_vec(q + base, j);
                EXPECT(x == y, "%s column %zu row %llu item %llu [%u]: %g, expected %g",
                       pa_lance_reader_path(r), col, (unsigned long long)i, (unsigned long long)q,
                       j, x, y);
            }
    }
    /* a range of rows in the middle reads the same items */
    if (rows > 10) {
        uint64_t o2[6];
        void *it2 = NULL;
        if (pa_lance_reader_read_list(r, col, rows / 2, 5, o2, &it2) != PA_OK)
            DIE("%s: %s", pa_lance_reader_path(r), pa_last_error());
        EXPECT(o2[5] == off[rows / 2 + 5] - off[rows / 2] &&
                   !memcmp(it2, v + off[rows / 2] * dim, o2[5] * dim * 4),
               "%s column %zu: rows [%llu, +5) read alone differ", pa_lance_reader_path(r), col,
               (unsigned long long)(rows / 2));
        free(it2);
    }
    *offs_out = off;
    *items_out = items;
}

static int do_read(const char *dir)
{
    char file[4400], tmp[4200];
    snprintf(tmp, sizeof tmp, "%s/again.lance", dir);
    /* cols: uint64, uint32 (bit-packed by LanceDB), fixed_size_list<uint8>[16], nullable */
    pa_lance_reader *r = open_theirs(dir, "cols", file);
    uint64_t n = pa_lance_reader_num_rows(r);
    EXPECT(pa_lance_reader_num_pages(r, 0) >= 2, "cols: %zu pages of xrowid, expected several",
           pa_lance_reader_num_pages(r, 0));
    uint64_t *ids = xmalloc(n * 8);
    uint32_t *part = xmalloc(n * 4);
    uint8_t *code = xmalloc(n * 16);
    size_t ci = find(r, "xrowid", PA_TYPE_UINT64, 1), cp = find(r, "part", PA_TYPE_UINT32, 1),
           cc = find(r, "__pq_code", PA_TYPE_FSL_UINT8, 16);
    if (pa_lance_reader_read(r, ci, 0, n, ids) || pa_lance_reader_read(r, cp, 0, n, part) ||
        pa_lance_reader_read(r, cc, 0, n, code))
        DIE("%s: %s", file, pa_last_error());
    for (uint64_t i = 0; i < n; i++) {
        EXPECT(ids[i] == iv_id(i), "cols row %llu: xrowid", (unsigned long long)i);
        EXPECT(part[i] == iv_part(i), "cols row %llu: part", (unsigned long long)i);
        for (uint32_t j = 0; j < 16; j++)
            EXPECT(code[i * 16 + j] == iv_code(i, j), "cols row %llu: code %u",
                   (unsigned long long)i, j);
    }
    same_pages(file, r, ci, &cols_fields[0], ids, NULL, tmp);
    same_pages(file, r, cp, &cols_fields[1], part, NULL, tmp);
    same_pages(file, r, cc, &cols_fields[2], code, NULL, tmp);
    free(ids), free(part), free(code);
    pa_lance_reader_free(r);
    /* vecs: fixed_size_list<float>[128] (full-zip) and [8] (mini-block) */
    r = open_theirs(dir, "vecs", file);
    n = pa_lance_reader_num_rows(r);
    float *a = xmalloc(n * 512), *b = xmalloc(n * 32);
    size_t c128 = find(r, "v128", PA_TYPE_FSL_FLOAT32, 128),
           c8 = find(r, "v8", PA_TYPE_FSL_FLOAT32, 8);
    if (pa_lance_reader_read(r, c128, 0, n, a) || pa_lance_reader_read(r, c8, 0, n, b))
        DIE("%s: %s", file, pa_last_error());
    for (uint64_t i = 0; i < n; i++) {
        for (uint32_t j = 0; j < 128; j++)
            EXPECT(a[i * 128 + j] == iv_vec(i, j), "vecs row %llu: v128[%u]", (unsigned long long)i,
                   j);
        for (uint32_t j = 0; j < 8; j++)
            EXPECT(b[i * 8 + j] == iv_vec(i, j + 200), "vecs row %llu: v8[%u]",
                   (unsigned long long)i, j);
    }
    same_pages(file, r, c128, &cols_fields[3], a, NULL, tmp);
    same_pages(file, r, c8, &cols_fields[4], b, NULL, tmp);
    free(a), free(b);
    pa_lance_reader_free(r);
    /* odd: a chunk whose values end inside an 8-byte word (its padding compared); part, 257
     * uint32 LanceDB leaves flat rather than bit-pack, is only read */
    r = open_theirs(dir, "odd", file);
    n = pa_lance_reader_num_rows(r);
    uint8_t *c12 = xmalloc(n * 12);
    uint32_t *op = xmalloc(n * 4);
    const pa_field odd_fields[] = {{"c12", PA_TYPE_FSL_UINT8, 12}, {"part", PA_TYPE_UINT32, 1}};
    size_t cc12 = find(r, "c12", PA_TYPE_FSL_UINT8, 12), cop = find(r, "part", PA_TYPE_UINT32, 1);
    if (pa_lance_reader_read(r, cc12, 0, n, c12) || pa_lance_reader_read(r, cop, 0, n, op))
        DIE("%s: %s", file, pa_last_error());
    for (uint64_t i = 0; i < n; i++) {
        EXPECT(op[i] == iv_part(i), "odd row %llu: part", (unsigned long long)i);
        for (uint32_t j = 0; j < 12; j++)
            EXPECT(c12[i * 12 + j] == iv_code(i, j), "odd row %llu: c12[%u]", (unsigned long long)i,
                   j);
    }
    same_pages(file, r, cc12, &odd_fields[0], c12, NULL, tmp);
    free(c12), free(op);
    pa_lance_reader_free(r);
    /* lists (3,000 rows, and 40 whose repetition levels LanceDB stores otherwise) */
    for (int t = 0; t < 2; t++) {
        r = open_theirs(dir, t ? "lists40" : "lists", file);
        const char *lnames[] = {"lf.item", "lv.lv_item", "lw.item"};
        for (int c = 0; c < 3; c++) {
            size_t col = find(r, lnames[c], c ? PA_TYPE_LIST_FSL_FLOAT32 : PA_TYPE_LIST_FLOAT32,
                              list_dim[c]);
            uint64_t *off;
            float *items;
            check_list(r, col, c, 0, list_dim[c], 0, &off, &items);
            free(off), free(items);
        }
        pa_lance_reader_free(r);
    }
    /* metadata.lance as lance-cuvs writes it */
    for (size_t m = 0; m < sizeof metas / sizeof metas[0]; m++) {
        r = open_theirs(dir, metas[m].name, file);
        uint32_t dq = metas[m].D / metas[m].M;
        pa_field f[] = {{"_ivf_centroids._ivf_centroids_item", PA_TYPE_LIST_FSL_FLOAT32,
                         metas[m].D},
                        {"_pq_codebook._pq_codebook_item", PA_TYPE_LIST_FSL_FLOAT32, dq}};
        const uint64_t nitems[] = {metas[m].P, (uint64_t)metas[m].M * 256}, base[] = {0, 100000};
        for (int k = 0; k < 2; k++) {
            size_t col = find(r, f[k].name, f[k].type, f[k].dim);
            uint64_t *off;
            float *items;
            check_list(r, col, -1, nitems[k], f[k].dim, base[k], &off, &items);
            same_pages(file, r, col, &f[k], items, off, tmp);
            free(off), free(items);
        }
        pa_lance_reader_free(r);
    }
    printf("partifact read LanceDB 0.39's 2.2 files: %ld values checked; %llu pages written again "
           "equal LanceDB's byte for byte (%llu bytes); %ld problems\n",
           checked, (unsigned long long)pages_compared, (unsigned long long)bytes_compared, bad);
    return bad ? 1 : 0;
}

/* Two indexes hold the same rows and codes in every partition (pa_index_partition), and their
 * auxiliary.idx files (the row ids and codes) are equal byte for byte (unless rows_only: indexes
 * of one model from two model files, whose identities differ). */
static int same_index(const char *a, const char *b, bool rows_only)
{
    pa_index *x = NULL, *y = NULL;
    if (pa_index_open(&x, a) != PA_OK || pa_index_open(&y, b) != PA_OK)
        DIE("%s", pa_last_error());
    pa_index_info ia = PA_INDEX_INFO_INIT, ib = PA_INDEX_INFO_INIT;
    pa_index_get_info(x, &ia);
    pa_index_get_info(y, &ib);
    EXPECT(ia.num_partitions == ib.num_partitions && ia.num_rows == ib.num_rows &&
               ia.num_sub_vectors == ib.num_sub_vectors,
           "%s: %u partitions, %llu rows; %s: %u partitions, %llu rows", a, ia.num_partitions,
           (unsigned long long)ia.num_rows, b, ib.num_partitions, (unsigned long long)ib.num_rows);
    uint64_t rows = 0;
    for (uint32_t p = 0; p < ia.num_partitions && p < ib.num_partitions; p++) {
        const uint64_t *ra, *rb;
        const uint8_t *ca, *cb;
        uint64_t na, nb;
        pa_index_partition(x, p, &ra, &ca, &na);
        pa_index_partition(y, p, &rb, &cb, &nb);
        EXPECT(na == nb && !memcmp(ra, rb, na * 8) && !memcmp(ca, cb, na * ia.num_sub_vectors),
               "partition %u: %llu rows in %s, %llu in %s, or different row ids or codes", p,
               (unsigned long long)na, a, (unsigned long long)nb, b);
        rows += na;
    }
    char fa[4200], fb[4200];
    snprintf(fa, sizeof fa, "%s/auxiliary.idx", a);
    snprintf(fb, sizeof fb, "%s/auxiliary.idx", b);
    FILE *f = fopen(fa, "rb"), *g = fopen(fb, "rb");
    int c1 = 0, c2 = 0;
    uint64_t at = 0;
    while (f && g && (c1 = getc(f)) == (c2 = getc(g)) && c1 != EOF)
        at++;
    EXPECT(rows_only || (f && g && c1 == EOF && c2 == EOF), "%s and %s differ first at byte %llu",
           fa, fb, (unsigned long long)at);
    if (f)
        fclose(f);
    if (g)
        fclose(g);
    pa_index_free(x);
    pa_index_free(y);
    printf("%s and %s: the same %llu rows and codes in all %u partitions; auxiliary.idx %s "
           "(%llu bytes); %ld problems\n",
           a, b, (unsigned long long)rows, ia.num_partitions, rows_only ? "not compared" : "equal",
           (unsigned long long)at, bad);
    return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
    if ((argc == 4 || argc == 5) && !strcmp(argv[1], "same-index"))
        return same_index(argv[2], argv[3], argc == 5 && !strcmp(argv[4], "--rows-only"));
    if (argc == 4 && !strcmp(argv[1], "wrap")) { /* lance22 wrap FILE DATASET (for LanceDB) */
        const char *files[] = {argv[2]};
        if (pa_dataset_wrap_files(argv[3], files, 1) != PA_OK)
            DIE("%s", pa_last_error());
        return 0;
    }
    if (argc != 3 || (strcmp(argv[1], "write") && strcmp(argv[1], "read"))) {
        fprintf(stderr, "usage: lance22 write|read DIR | wrap FILE DATASET\n");
        return 2;
    }
    return !strcmp(argv[1], "write") ? do_write(argv[2]) : do_read(argv[2]);
}
