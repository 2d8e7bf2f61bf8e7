/* LanceDB -> C, file level: reads every data file of the tables lance_files.mjs wrote (Lance
 * file formats 2.0, 2.1, 2.2) and checks every value of every column partifact reads against
 * the formulas the JavaScript side wrote them with (values.h): whole columns with their null
 * flags, random row ranges, that a plain read refuses a range holding a null, that reading one
 * vector of a fixed-width page reads exactly its bytes, and that the columns it does not read
 * (string, struct, ...) are reported as not decodable without failing the file.
 * Usage: read_lance_files DIR DEFAULT_VERSION (2.1 for LanceDB 0.37.1, 2.2 for 0.39.0) */
#include "partifact.h"
#include "check.h"
#include "values.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static uint64_t rng = 0x243F6A8885A308D3ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

static uint16_t f16bits(uint64_t i, uint32_t j)
{
    return (uint16_t)(0x3c00 + ((i * 3 + j) % 2048));
}
static double f64val(uint64_t i, uint32_t j) { return (double)i * 0.25 + j / 8.0 - 100; }

typedef struct colspec {
    const char *name, *logical;
    size_t row_bytes;
    int nulls; /* 0 none, 1: i % 5 == 3, 2: first fragment, and i % 3 == 0, 3: (i/50) % 3 == 0 */
    const char *may_refuse; /* an encoding LanceDB may pick that partifact does not read */
} colspec;

static const colspec cols[] = {
    {"seq", "uint64", 8, 0, NULL},
    {"id", "uint64", 8, 0, NULL},
    {"u32", "uint32", 4, 0, NULL},
    {"v8", "fixed_size_list:float:8", 32, 0, NULL},
    {"v128", "fixed_size_list:float:128", 512, 0, NULL},
    {"v768", "fixed_size_list:float:768", 3072, 0, NULL},
    {"u8", "fixed_size_list:uint8:32", 32, 0, NULL},
    {"f16", "fixed_size_list:halffloat:16", 32, 0, NULL},
    {"f64", "fixed_size_list:double:16", 128, 0, NULL},
    {"nv8", "fixed_size_list:float:8", 32, 1, NULL},
    {"nv128", "fixed_size_list:float:128", 512, 1, NULL},
    {"nrun", "fixed_size_list:float:8", 32, 3, NULL},
    {"nall", "fixed_size_list:float:8", 32, 2, NULL},
    {"runs", "uint64", 8, 0, "uses encoding \"dictionary\""}, /* 2.2 picks it for some pages */
    {"k7", "uint32", 4, 0, NULL},
    {"zid", "uint64", 8, 0, NULL},
    {"lid", "uint64", 8, 0, NULL},
};
#define NCOLS (sizeof cols / sizeof cols[0])

static bool is_null(const colspec *c, uint64_t i, bool first_fragment)
{
    return c->nulls == 1   ? i % 5 == 3
           : c->nulls == 2 ? first_fragment || i % 3 == 0
           : c->nulls == 3 ? (i / 50) % 3 == 0
                           : false;
}

/* Checks row k (table row i) of column c in vals. */
static void check_row(const char *file, const colspec *c, const uint8_t *v, uint64_t i)
{
    bool ok = true;
    if (!strcmp(c->name, "seq"))
        ok = *(const uint64_t *)v == i;
    else if (!strcmp(c->name, "id"))
        ok = *(const uint64_t *)v == iv_id(i);
    else if (!strcmp(c->name, "u32"))
        ok = *(const uint32_t *)v == iv_part(i);
    else if (!strcmp(c->name, "runs"))
        ok = *(const uint64_t *)v == i / 8;
    else if (!strcmp(c->name, "zid") || !strcmp(c->name, "lid"))
        ok = *(const uint64_t *)v == i * 1000;
    else if (!strcmp(c->name, "k7"))
        ok = *(const uint32_t *)v == 7;
    else if (!strcmp(c->name, "u8"))
        for (uint32_t j = 0; j < 32; j++)
            ok &= v[j] == iv_code(i, j);
    else if (!strcmp(c->name, "f16"))
        for (uint32_t j = 0; j < 16; j++)
            ok &= ((const uint16_t *)v)[j] == f16bits(i, j);
    else if (!strcmp(c->name, "f64"))
        for (uint32_t j = 0; j < 16; j++)
            ok &= ((const double *)v)[j] == f64val(i, j);
    else
        for (uint32_t j = 0; j < c->row_bytes / 4; j++)
            ok &= ((const float *)v)[j] == iv_vec(i, j);
    EXPECT(ok, "%s: column %s: row %llu has the wrong value", file, c->name, (unsigned long long)i);
}

/* Checks rows [a, b) of column ci of the file as read with null flags. */
static void check_range(pa_lance_reader *r, const char *file, const colspec *c, size_t ci,
                        const uint64_t *seq, uint64_t a, uint64_t b, bool first_fragment,
                        uint8_t *buf, uint8_t *valid)
{
    pa_status st = pa_lance_reader_read_valid(r, ci, a, b - a, buf, valid);
    EXPECT(st == PA_OK, "%s: column %s rows [%llu, %llu): %s", file, c->name, (unsigned long long)a,
           (unsigned long long)b, pa_last_error());
    if (st != PA_OK)
        return;
    for (uint64_t k = a; k < b; k++) {
        uint64_t i = seq[k];
        bool null = is_null(c, i, first_fragment);
        EXPECT(valid[k - a] == !null, "%s: column %s: row %llu is %s, expected %s", file, c->name,
               (unsigned long long)i, valid[k - a] ? "valid" : "null", null ? "null" : "valid");
        if (!null)
            check_row(file, c, buf + (k - a) * c->row_bytes, i);
    }
    /* a plain read fails on a range holding a null, naming the row, and reads the others */
    bool any_null = false;
    for (uint64_t k = a; k < b; k++)
        any_null |= is_null(c, seq[k], first_fragment);
    st = pa_lance_reader_read(r, ci, a, b - a, buf);
    EXPECT(any_null ? st == PA_ERR_UNSUPPORTED && strstr(pa_last_error(), "is null") : st == PA_OK,
           "%s: column %s rows [%llu, %llu): plain read gave %d (%s)", file, c->name,
           (unsigned long long)a, (unsigned long long)b, (int)st,
           st == PA_OK ? "" : pa_last_error());
}

static void check_file(const char *file, const char *want_version)
{
    pa_lance_reader *r;
    if (pa_lance_reader_open(&r, file) != PA_OK) {
        EXPECT(0, "%s: %s", file, pa_last_error());
        return;
    }
    unsigned major, minor;
    char ver[16];
    pa_lance_reader_version(r, &major, &minor);
    snprintf(ver, sizeof ver, "%u.%u", major, minor);
    EXPECT(!strcmp(ver, want_version), "%s: format %s, expected %s", file, ver, want_version);
    bool v20 = !strcmp(ver, "2.0");
    uint64_t n = pa_lance_reader_num_rows(r);
    size_t idx[NCOLS];
    bool skip[NCOLS] = {0};
    for (size_t c = 0; c < NCOLS; c++) {
        EXPECT(pa_lance_reader_find_field(r, cols[c].name, &idx[c]) == PA_OK, "%s: %s", file,
               pa_last_error());
        const char *p = pa_lance_reader_column_problem(r, idx[c]);
        if ((skip[c] = p && cols[c].may_refuse && strstr(p, cols[c].may_refuse)))
            continue; /* refused with the encoding named */
        EXPECT(!strcmp(pa_lance_reader_logical_type(r, idx[c]), cols[c].logical) &&
                   pa_lance_reader_row_bytes(r, idx[c]) == cols[c].row_bytes &&
                   !pa_lance_reader_column_problem(r, idx[c]),
               "%s: column %s: type %s, %zu bytes per row, problem %s", file, cols[c].name,
               pa_lance_reader_logical_type(r, idx[c]), pa_lance_reader_row_bytes(r, idx[c]),
               pa_lance_reader_column_problem(r, idx[c]));
    }
    /* the columns partifact does not read are named, not fatal */
    const char *others[] = {"s", "st.b", "st.a", "i64"};
    const char *why[] = {"has type", "has type", v20 ? "" : "has nesting", ""};
    for (size_t k = 0; k < 4; k++) {
        size_t i;
        const char *p = pa_lance_reader_find_field(r, others[k], &i) == PA_OK
                            ? pa_lance_reader_column_problem(r, i)
                            : "no such column";
        /* a 2.0 struct's double child and int64 are plain flat columns, readable as raw values */
        if (!why[k][0] && !p)
            continue;
        EXPECT(p && strstr(p, why[k]) && strstr(p, "which partifact does not read"),
               "%s: column %s: problem %s, expected one saying \"%s\"", file, others[k],
               p ? p : "(none)", why[k]);
    }
    uint64_t *seq = malloc(n * 8);
    uint8_t *buf = malloc(n * 3072), *valid = malloc(n);
    if (pa_lance_reader_read(r, idx[0], 0, n, seq) != PA_OK) {
        EXPECT(0, "%s: seq: %s", file, pa_last_error());
        goto done;
    }
    bool first_fragment = seq[0] == 0;
    for (size_t c = 0; c < NCOLS; c++) {
        if (skip[c])
            continue;
        check_range(r, file, &cols[c], idx[c], seq, 0, n, first_fragment, buf, valid);
        for (int t = 0; t < 40; t++) {
            uint64_t a = rnd() % n, len = 1 + rnd() % (t < 20 ? 8 : 600);
            check_range(r, file, &cols[c], idx[c], seq, a, (a + len < n ? a + len : n),
                        first_fragment, buf, valid);
        }
    }
    /* one vector of a fixed-width page (full-zip in 2.1/2.2, flat in 2.0): exactly its bytes */
    uint64_t before = pa_lance_reader_bytes_read(r);
    EXPECT(pa_lance_reader_read(r, idx[5], n / 2, 1, buf) == PA_OK &&
               pa_lance_reader_bytes_read(r) - before == 3072,
           "%s: one row of v768 read %llu bytes, expected 3072", file,
           (unsigned long long)(pa_lance_reader_bytes_read(r) - before));
    /* one nullable vector of 128 floats: its bytes and one control word (2.1, 2.2: full-zip)
     * or one byte of the validity bitmap (2.0) */
    before = pa_lance_reader_bytes_read(r);
    EXPECT(pa_lance_reader_read_valid(r, idx[10], n / 2, 1, buf, valid) == PA_OK &&
               pa_lance_reader_bytes_read(r) - before == 513,
           "%s: one row of nv128 read %llu bytes, expected 513", file,
           (unsigned long long)(pa_lance_reader_bytes_read(r) - before));
done:
    free(seq);
    free(buf);
    free(valid);
    pa_lance_reader_free(r);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: read_lance_files DIR DEFAULT_VERSION\n");
        return 2;
    }
    const char *tables[][2] = {{"t20", "2.0"},
                               {"t21", "2.1"},
                               {"t22", "2.2"},
                               {"tdefault", argv[2]}};
    for (size_t t = 0; t < 4; t++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s.lance/data", argv[1], tables[t][0]);
        DIR *d = opendir(dir);
        int files = 0;
        for (struct dirent *e; d && (e = readdir(d));) {
            size_t len = strlen(e->d_name);
            if (len < 6 || strcmp(e->d_name + len - 6, ".lance"))
                continue;
            char file[8192];
            snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
            check_file(file, tables[t][1]);
            files++;
        }
        if (d)
            closedir(d);
        EXPECT(files == 3, "%s: %d data files, expected 3", dir, files);
    }
    printf("read_lance_files: %ld checks, %ld failed\n", checked, bad);
    return bad ? 1 : 0;
}
