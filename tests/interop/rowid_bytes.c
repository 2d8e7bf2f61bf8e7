/* partifact writes _rowid as LanceDB does: reads the _rowid column of an index file LanceDB
 * wrote (its pages must be InlineBitpacking), writes the same values with partifact's Lance
 * writer as the index writer configures it (bitpack on, pages large enough that each of
 * LanceDB's pages becomes one page), and compares each page's mini-block chunks byte for byte.
 * Then partifact's own index file (second argument): every _rowid page is InlineBitpacking.
 * Usage: rowid_bytes LANCEDB_AUXILIARY.idx PARTIFACT_AUXILIARY.idx WORK_FILE */
#include "partifact.h"
#include "lance/lance_internal.h" /* pa_lance_writer_write_pages: one page per call */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fails;
#define FAIL(...) (fprintf(stderr, __VA_ARGS__), fputc('\n', stderr), fails++)

/* The bytes [off, off+n) of a file; malloc'd. */
static uint8_t *file_bytes(const char *path, uint64_t off, uint64_t n)
{
    FILE *f = fopen(path, "rb");
    uint8_t *b = malloc(n ? n : 1);
    if (!f || !b || fseek(f, (long)off, SEEK_SET) != 0 || fread(b, 1, n, f) != n) {
        FAIL("%s: cannot read %llu bytes at %llu", path, (unsigned long long)n,
             (unsigned long long)off);
        free(b);
        b = NULL;
    }
    if (f)
        fclose(f);
    return b;
}

/* Opens path and finds its _rowid column; checks every page is mini-block InlineBitpacking. */
static pa_lance_reader *open_rowid(const char *path, size_t *col)
{
    pa_lance_reader *r = NULL;
    if (pa_lance_reader_open(&r, path) != PA_OK || pa_lance_reader_find_field(r, "_rowid", col)) {
        FAIL("%s: %s", path, pa_last_error());
        pa_lance_reader_free(r);
        return NULL;
    }
    for (size_t p = 0; p < pa_lance_reader_num_pages(r, *col); p++) {
        pa_lance_page_info pi;
        pa_lance_reader_page(r, *col, p, &pi);
        if (strcmp(pi.layout, "mini-block") || strcmp(pi.encoding, "inline_bitpacking"))
            FAIL("%s: _rowid page %zu is %s/%s, expected mini-block/inline_bitpacking", path, p,
                 pi.layout, pi.encoding);
    }
    return r;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: rowid_bytes LANCEDB_AUX PARTIFACT_AUX WORK_FILE\n");
        return 2;
    }
    size_t col, ours_col;
    pa_lance_reader *theirs = open_rowid(argv[1], &col);
    if (!theirs)
        return 1;
    uint64_t n = pa_lance_reader_num_rows(theirs);
    uint64_t *ids = malloc(n * 8 + 8);
    if (pa_lance_reader_read(theirs, col, 0, n, ids) != PA_OK)
        return FAIL("%s: %s", argv[1], pa_last_error()), 1;
    pa_field f = {"_rowid", PA_TYPE_UINT64, 1};
    pa_lance_write_options o = {.struct_size = sizeof o, .page_bytes = 1u << 30, .bitpack = 1};
    pa_lance_writer *w = NULL;
    size_t np = pa_lance_reader_num_pages(theirs, col);
    pa_status st = pa_lance_writer_create(&w, argv[3], &f, 1, &o);
    for (size_t p = 0; p < np && st == PA_OK; p++) { /* one page of ours per page of theirs */
        pa_lance_page_info pi;
        pa_lance_reader_page(theirs, col, p, &pi);
        const void *cols[] = {ids + pi.first_row};
        st = pa_lance_writer_write_pages(w, cols, pi.num_rows);
    }
    if (st == PA_OK)
        st = pa_lance_writer_close(w);
    pa_lance_writer_free(w);
    if (st != PA_OK)
        return FAIL("%s: %s", argv[3], pa_last_error()), 1;
    pa_lance_reader *ours = open_rowid(argv[3], &ours_col);
    if (!ours || pa_lance_reader_num_pages(ours, ours_col) != np)
        return FAIL("%s: %zu pages, expected %zu", argv[3],
                    ours ? pa_lance_reader_num_pages(ours, ours_col) : 0, np),
               1;
    uint64_t compared = 0;
    for (size_t p = 0; p < np; p++) {
        pa_lance_page_info a, b;
        pa_lance_reader_page(theirs, col, p, &a);
        pa_lance_reader_page(ours, ours_col, p, &b);
        /* bytes = chunks + chunk table (2 bytes per chunk of 1024 values); compare the chunks */
        uint64_t table = 2 * ((a.num_rows + 1023) / 1024);
        if (a.num_rows != b.num_rows || a.bytes != b.bytes || a.bytes < table) {
            FAIL("page %zu: LanceDB %llu rows in %llu bytes, partifact %llu rows in %llu bytes", p,
                 (unsigned long long)a.num_rows, (unsigned long long)a.bytes,
                 (unsigned long long)b.num_rows, (unsigned long long)b.bytes);
            continue;
        }
        uint8_t *x = file_bytes(argv[1], a.offset, a.bytes - table);
        uint8_t *y = file_bytes(argv[3], b.offset, b.bytes - table);
        for (uint64_t i = 0; x && y && i < a.bytes - table; i++)
            if (x[i] != y[i]) {
                FAIL("page %zu: chunk bytes differ first at byte %llu of %llu (LanceDB 0x%02x, "
                     "partifact 0x%02x)",
                     p, (unsigned long long)i, (unsigned long long)(a.bytes - table), x[i], y[i]);
                break;
            }
        compared += a.bytes - table;
        free(x), free(y);
    }
    pa_lance_reader_free(ours);
    pa_lance_reader_free(theirs);
    free(ids);
    ours = open_rowid(argv[2], &ours_col);
    pa_lance_reader_free(ours);
    if (fails)
        return 1;
    printf("_rowid: %llu rows in %zu InlineBitpacking pages; partifact's chunks equal LanceDB's "
           "(%llu bytes); %s's _rowid pages are InlineBitpacking\n",
           (unsigned long long)n, np, (unsigned long long)compared, argv[2]);
    return 0;
}
