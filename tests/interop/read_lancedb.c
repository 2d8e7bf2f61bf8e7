/* LanceDB -> C: reads the tables make_tables.mjs wrote and checks every value, first through a
 * dataset scan, then by random row ranges read straight from each fragment's data file (ranges
 * that straddle page and mini-block chunk boundaries included).
 * Usage: read_lancedb PARENT_DIR */
#include "partifact.h"
#include "values.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long bad, checked;

#define EXPECT(cond, ...)                 \
    do {                                  \
        checked++;                        \
        if (!(cond) && bad++ < 10) {      \
            fprintf(stderr, __VA_ARGS__); \
            fputc('\n', stderr);          \
        }                                 \
    } while (0)

/* Checks n values of column name starting at logical rows seq[0..n). */
static void check_values(const char *name, const void *vals, const uint64_t *seq, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        uint64_t i = seq[k];
        if (!strcmp(name, "seq"))
            EXPECT(((const uint64_t *)vals)[k] == i, "seq[%zu]", k);
        else if (!strcmp(name, "id"))
            EXPECT(((const uint64_t *)vals)[k] == iv_id(i), "id of row %llu",
                   (unsigned long long)i);
        else if (!strcmp(name, "part"))
            EXPECT(((const uint32_t *)vals)[k] == iv_part(i), "part of row %llu",
                   (unsigned long long)i);
        else {
            uint32_t dim = !strcmp(name, "v8") ? 8 : 128;
            const float *f = (const float *)vals + k * dim;
            for (uint32_t j = 0; j < dim; j++)
                EXPECT(f[j] == iv_vec(i, j), "%s[%u] of row %llu: %g != %g", name, j,
                       (unsigned long long)i, f[j], iv_vec(i, j));
        }
    }
}

/* Scans every column of a table, checking values and row addresses. */
static int scan_table(const char *path, const char *const *cols, size_t ncols, uint64_t rows,
                      size_t min_fragments)
{
    pa_dataset *ds;
    if (pa_dataset_open(&ds, path) != PA_OK) {
        fprintf(stderr, "%s\n", pa_last_error());
        return 1;
    }
    EXPECT(pa_dataset_num_rows(ds) == rows, "%s: %llu rows", path,
           (unsigned long long)pa_dataset_num_rows(ds));
    EXPECT(pa_dataset_num_fragments(ds) >= min_fragments, "%s: %zu fragments", path,
           pa_dataset_num_fragments(ds));
    /* seq of every row in scan order, to check the other columns against */
    uint64_t *seq = malloc(rows * 8), *addr = malloc(rows * 8);
    for (size_t c = 0; c < ncols; c++) {
        pa_dataset_scan *s;
        if (pa_dataset_scan_create(&s, ds, cols[c], 50000) != PA_OK) {
            fprintf(stderr, "%s\n", pa_last_error());
            return 1;
        }
        uint64_t at = 0;
        for (;;) {
            const void *vals;
            const uint64_t *addrs;
            size_t n;
            pa_status sst = pa_dataset_scan_next(s, &vals, &addrs, &n);
            if (sst == PA_END)
                break;
            if (sst != PA_OK) {
                fprintf(stderr, "%s\n", pa_last_error());
                return 1;
            }
            if (at + n > rows) {
                EXPECT(0, "%s: more rows than expected", path);
                break;
            }
            if (c == 0) {
                memcpy(seq + at, vals, n * 8);
                memcpy(addr + at, addrs, n * 8);
            } else {
                for (size_t k = 0; k < n; k++)
                    EXPECT(addrs[k] == addr[at + k], "row address %llu",
                           (unsigned long long)addrs[k]);
            }
            check_values(cols[c], vals, seq + at, n);
            at += n;
        }
        EXPECT(at == rows, "%s: scanned %llu rows of %s", path, (unsigned long long)at, cols[c]);
        pa_dataset_scan_free(s);
    }
    /* seq covers 0..rows-1; addresses are fragment_id << 32 | offset */
    uint8_t *seen = calloc(rows, 1);
    for (uint64_t k = 0; k < rows; k++)
        if (seq[k] < rows)
            seen[seq[k]]++;
    for (uint64_t k = 0; k < rows; k++)
        EXPECT(seen[k] == 1, "seq %llu seen %u times", (unsigned long long)k, seen[k]);
    EXPECT(addr[0] == 0 && (addr[rows - 1] >> 32) >= 1, "row addresses %llx .. %llx",
           (unsigned long long)addr[0], (unsigned long long)addr[rows - 1]);

    /* random ranges straight from each fragment's data file */
    uint64_t rng = 12345, frag_first = 0;
    size_t pages_seen = 0;
    for (size_t f = 0; f < pa_dataset_num_fragments(ds); f++) {
        uint64_t fid, frows;
        pa_dataset_fragment(ds, f, &fid, &frows);
        for (size_t c = 0; c < ncols; c++) {
            char file[4096];
            size_t col;
            pa_lance_reader *r;
            if (pa_dataset_fragment_file(ds, f, cols[c], file, sizeof file, &col) != PA_OK ||
                pa_lance_reader_open(&r, file) != PA_OK) {
                fprintf(stderr, "%s\n", pa_last_error());
                return 1;
            }
            size_t np = pa_lance_reader_num_pages(r, col);
            if (np > 1)
                pages_seen++;
            pa_field fld;
            pa_lance_reader_field(r, col, &fld);
            size_t rb = pa_type_row_bytes(fld.type, fld.dim);
            uint8_t *buf = malloc(20000 * rb);
            for (int t = 0; t < 300; t++) {
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                uint64_t off, n;
                if (t % 3 == 0 && np > 1) { /* straddle a page boundary */
                    pa_lance_page_info pi;
                    pa_lance_reader_page(r, col, 1 + (rng >> 33) % (np - 1), &pi);
                    off = pi.first_row -
                          (pi.first_row < 3000 ? pi.first_row : 1 + (rng >> 20) % 3000);
                } else if (t % 3 == 1) { /* straddle a 1024-value chunk boundary */
                    uint64_t b = 1024 *
                                 (1 + (rng >> 33) % (frows / 1024 > 1 ? frows / 1024 - 1 : 1));
                    off = b > 5 ? b - 5 : 0;
                } else {
                    off = (rng >> 33) % frows;
                }
                if (off >= frows)
                    off = frows - 1;
                n = 1 + (rng >> 40) % 20000;
                if (n > frows - off)
                    n = frows - off;
                if (pa_lance_reader_read(r, col, off, n, buf) != PA_OK) {
                    fprintf(stderr, "%s\n", pa_last_error());
                    return 1;
                }
                check_values(cols[c], buf, seq + frag_first + off, n);
            }
            free(buf);
            pa_lance_reader_free(r);
        }
        frag_first += frows;
    }
    EXPECT(pages_seen > 0, "%s: no column had more than one page", path);
    free(seen);
    free(seq);
    free(addr);
    pa_dataset_free(ds);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s/a.lance", argv[1]);
    snprintf(b, sizeof b, "%s/b.lance", argv[1]);
    const char *ca[] = {"seq", "id", "part", "v8"};
    const char *cb[] = {"seq", "v128"};
    if (scan_table(a, ca, 4, 1400000, 2) || scan_table(b, cb, 2, 52000, 2))
        return 1;
    printf("partifact read LanceDB's tables: %ld values checked, %ld wrong\n", checked, bad);
    printf("%d passed, %d failed\n", bad ? 0 : 1, bad ? 1 : 0);
    return bad ? 1 : 0;
}
