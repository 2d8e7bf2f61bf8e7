/* Fuzz target: a Lance file (footer, column metadata, schema, pages). Opens the input as a
 * Lance file, then looks at everything the reader exposes and reads every column's rows (the
 * whole column, chunked, and odd sub-ranges that start and end inside chunks; a list column's
 * lists). */
#include "fuzz_common.h"

static void read_column(pa_lance_reader *r, size_t col, uint64_t rows, size_t row_bytes)
{
    const uint64_t cap = 1u << 20; /* bytes of output per read */
    uint64_t chunk = cap / row_bytes ? cap / row_bytes : 1;
    if (chunk > 4096)
        chunk = 4096;
    uint8_t *buf = malloc((size_t)(chunk * row_bytes + 1)), *valid = malloc((size_t)chunk + 1);
    if (!buf || !valid) {
        free(buf);
        free(valid);
        return;
    }
    uint64_t limit = rows < 100000 ? rows : 100000; /* big claims: the start is enough */
    for (uint64_t off = 0; off < limit; off += chunk) {
        uint64_t n = limit - off < chunk ? limit - off : chunk;
        /* with null flags, and without (which fails on a null row) */
        if (pa_lance_reader_read_valid(r, col, off, n, buf, valid) != PA_OK)
            break;
        (void)pa_lance_reader_read(r, col, off, n, buf);
    }
    /* odd ranges: one row in the middle, the last rows, a range crossing 1024-row chunks,
     * and one past the end (must be refused) */
    uint64_t starts[] = {rows / 2, rows > 3 ? rows - 3 : 0, 1000, rows};
    uint64_t lens[] = {1, rows > 3 ? 3 : rows, 50, 1};
    for (size_t i = 0; i < sizeof starts / sizeof *starts; i++)
        if (lens[i] <= chunk && starts[i] <= rows)
            (void)pa_lance_reader_read_valid(r, col, starts[i], lens[i], buf, valid);
    free(buf);
    free(valid);
}

/* A list column: every row (the first 1000), then one in the middle. */
static void read_lists(pa_lance_reader *r, size_t col, uint64_t rows)
{
    uint64_t n = rows < 1000 ? rows : 1000, *off = malloc((size_t)(n + 2) * sizeof *off);
    void *items = NULL;
    if (!off)
        return;
    if (pa_lance_reader_read_list(r, col, 0, n, off, &items) == PA_OK)
        free(items);
    items = NULL;
    if (rows && pa_lance_reader_read_list(r, col, rows / 2, 1, off, &items) == PA_OK)
        free(items);
    free(off);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[600];
    snprintf(path, sizeof path, "%s/input.lance", fz_scratch());
    fz_write(path, data, size);
    pa_lance_reader *r;
    if (pa_lance_reader_open(&r, path) != PA_OK)
        return 0;
    uint64_t rows = pa_lance_reader_num_rows(r);
    unsigned major, minor;
    pa_lance_reader_version(r, &major, &minor);
    size_t nf = pa_lance_reader_num_fields(r);
    for (size_t i = 0; i < pa_lance_reader_num_metadata(r); i++) {
        const char *k;
        const void *v;
        size_t vl;
        (void)pa_lance_reader_metadata_at(r, i, &k, &v, &vl);
    }
    for (uint32_t i = 0; i < pa_lance_reader_num_global_buffers(r) && i < 16; i++) {
        void *buf;
        size_t len;
        if (pa_lance_reader_global_buffer(r, i, &buf, &len) == PA_OK)
            free(buf);
    }
    for (size_t c = 0; c < nf; c++) {
        pa_field f;
        if (pa_lance_reader_field(r, c, &f) != PA_OK)
            continue;
        size_t idx;
        (void)pa_lance_reader_find_field(r, f.name, &idx);
        for (size_t p = 0; p < pa_lance_reader_num_pages(r, c); p++) {
            pa_lance_page_info pi;
            (void)pa_lance_reader_page(r, c, p, &pi);
        }
        (void)pa_lance_reader_logical_type(r, c);
        (void)pa_lance_reader_column_problem(r, c);
        size_t rb = pa_lance_reader_row_bytes(r, c);
        if (f.type == PA_TYPE_LIST_FLOAT32 || f.type == PA_TYPE_LIST_FSL_FLOAT32)
            read_lists(r, c, rows);
        else if (rb && rb <= (1u << 20))
            read_column(r, c, rows, rb);
    }
    (void)pa_lance_reader_bytes_read(r);
    pa_lance_reader_free(r);
    return 0;
}
