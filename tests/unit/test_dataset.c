/* Lance datasets without LanceDB: write -> open -> scan round trips across fragments, and each
 * bad-input case (missing or malformed manifests, missing or short data files, deletions). */
#include "lance/lance_internal.h"
#include "test.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>


static const pa_field fields[] = {{"id", PA_TYPE_UINT64, 1}, {"vec", PA_TYPE_FSL_FLOAT32, 4}};

/* Writes rows 0..n-1: id = 10*i, vec = (i, i+1, i+2, i+3), max `per` rows per fragment. */
static pa_status write_ds(const char *path, uint64_t n, uint64_t per)
{
    pa_dataset_write_options o = {.struct_size = sizeof o,
                                  .max_rows_per_fragment = per,
                                  .page_bytes = 4096};
    pa_dataset_writer *w;
    pa_status st = pa_dataset_writer_create(&w, path, fields, 2, &o);
    if (st != PA_OK)
        return st;
    uint64_t ids[1000];
    float vec[4000];
    for (uint64_t done = 0; st == PA_OK && done < n;) {
        size_t k = (size_t)PA_MIN(n - done, (uint64_t)1000 - done % 7);
        for (size_t i = 0; i < k; i++) {
            ids[i] = 10 * (done + i);
            for (int j = 0; j < 4; j++)
                vec[i * 4 + j] = (float)(done + i + (uint64_t)j);
        }
        const void *cols[] = {ids, vec};
        st = pa_dataset_writer_append(w, cols, k);
        done += k;
    }
    if (st == PA_OK)
        st = pa_dataset_writer_commit(w);
    pa_dataset_writer_free(w);
    return st;
}

static void test_round_trip(void)
{
    const char *p = tpath("rt.lance");
    CHECK_OK(write_ds(p, 25000, 10000));
    pa_dataset *ds;
    CHECK_OK(pa_dataset_open(&ds, p));
    if (!ds)
        return;
    CHECK(pa_dataset_version(ds) == 1);
    CHECK(pa_dataset_num_rows(ds) == 25000);
    CHECK(pa_dataset_num_fragments(ds) == 3);
    CHECK(pa_dataset_num_fields(ds) == 2);
    pa_field f;
    CHECK_OK(pa_dataset_field(ds, 1, &f));
    CHECK(!strcmp(f.name, "vec") && f.type == PA_TYPE_FSL_FLOAT32 && f.dim == 4);
    uint64_t fid, frows;
    CHECK_OK(pa_dataset_fragment(ds, 2, &fid, &frows));
    CHECK(fid == 2 && frows == 5000);
    pa_dataset_scan *s;
    CHECK_OK(pa_dataset_scan_create(&s, ds, "vec", 3333));
    uint64_t i = 0;
    int bad = 0;
    for (;;) {
        const void *v;
        const uint64_t *addr;
        size_t n;
        if (pa_dataset_scan_next(s, &v, &addr, &n) != PA_OK || n == 0)
            break;
        for (size_t k = 0; k < n; k++, i++) {
            const float *x = (const float *)v + 4 * k;
            bad += x[0] != (float)i || x[3] != (float)(i + 3);
            bad += addr[k] != ((i / 10000) << 32 | (i % 10000));
        }
    }
    CHECK(bad == 0 && i == 25000);
    pa_dataset_scan_free(s);
    CHECK_ERR(pa_dataset_scan_create(&s, ds, "nope", 10), PA_ERR_RANGE, "no column named \"nope\"");
    char file[700];
    size_t col;
    CHECK_OK(pa_dataset_fragment_file(ds, 1, "id", file, sizeof file, &col));
    CHECK(col == 0 && strstr(file, "/data/") && strstr(file, ".lance"));
    pa_dataset_free(ds);

    /* a dataset with no rows */
    CHECK_OK(write_ds(tpath("empty.lance"), 0, 10));
    CHECK_OK(pa_dataset_open(&ds, tpath("empty.lance")));
    if (ds) {
        CHECK(pa_dataset_num_rows(ds) == 0 && pa_dataset_num_fragments(ds) == 0);
        pa_dataset_free(ds);
    }
}

static void test_writer_errors(void)
{
    pa_dataset_writer *w;
    const char *p = tpath("uncommitted.lance");
    CHECK_OK(pa_dataset_writer_create(&w, p, fields, 2, NULL));
    uint64_t id = 1;
    float v[4] = {0};
    const void *cols[] = {&id, v};
    CHECK_OK(pa_dataset_writer_append(w, cols, 1));
    pa_dataset_writer_free(w); /* never committed: nothing remains */
    CHECK(access(p, F_OK) != 0);
    CHECK_OK(write_ds(tpath("taken.lance"), 10, 10));
    CHECK_ERR(pa_dataset_writer_create(&w, tpath("taken.lance"), fields, 2, NULL), PA_ERR_EXISTS,
              "already exists");
    CHECK_OK(pa_dataset_writer_create(&w, tpath("twice.lance"), fields, 2, NULL));
    CHECK_OK(pa_dataset_writer_commit(w));
    CHECK_ERR(pa_dataset_writer_commit(w), PA_ERR_STATE, "commit after commit");
    CHECK_ERR(pa_dataset_writer_append(w, cols, 1), PA_ERR_STATE, "append after commit");
    pa_dataset_writer_free(w);
}

/* The path of the only file in dir (manifest or data file). */
static void only_file(const char *dir, const char *suffix, char *out, size_t len)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    out[0] = 0;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, suffix))
            snprintf(out, len, "%s/%s", dir, e->d_name);
    if (d)
        closedir(d);
}

static void overwrite(const char *path, long off, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "r+b");
    fseek(f, off, off < 0 ? SEEK_END : SEEK_SET);
    fwrite(bytes, 1, n, f);
    fclose(f);
}

static void test_bad_datasets(void)
{
    pa_dataset *ds = NULL;
    char m[700], vdir[700], data[700], file[800];
    CHECK_ERR(pa_dataset_open(&ds, tpath("nowhere.lance")), PA_ERR_IO, "cannot open dataset");
    mkdir(tpath("plain-dir"), 0755);
    CHECK_ERR(pa_dataset_open(&ds, tpath("plain-dir")), PA_ERR_FORMAT,
              "not a Lance dataset (no _versions directory)");
    snprintf(vdir, sizeof vdir, "%s/_versions", tpath("plain-dir"));
    mkdir(vdir, 0755);
    CHECK_ERR(pa_dataset_open(&ds, tpath("plain-dir")), PA_ERR_INCOMPLETE,
              "dataset has no committed version");

    const char *p = tpath("magic.lance");
    write_ds(p, 100, 100);
    snprintf(vdir, sizeof vdir, "%s/_versions", p);
    only_file(vdir, ".manifest", m, sizeof m);
    overwrite(m, -4, "LANX", 4);
    CHECK_ERR(pa_dataset_open(&ds, p), PA_ERR_FORMAT, "not a Lance manifest (no \"LANC\" magic");

    p = tpath("pos.lance");
    write_ds(p, 100, 100);
    snprintf(vdir, sizeof vdir, "%s/_versions", p);
    only_file(vdir, ".manifest", m, sizeof m);
    uint64_t far = 1u << 30;
    overwrite(m, -16, &far, 8);
    CHECK_ERR(pa_dataset_open(&ds, p), PA_ERR_FORMAT,
              "manifest at byte offset 1073741824 with 0 bytes lies outside");

    p = tpath("garbage.lance");
    write_ds(p, 100, 100);
    snprintf(vdir, sizeof vdir, "%s/_versions", p);
    only_file(vdir, ".manifest", m, sizeof m);
    overwrite(m, 4, "\xff\xff\xff\xff\xff\xff", 6);
    CHECK_ERR(pa_dataset_open(&ds, p), PA_ERR_FORMAT, "does not parse as protobuf");

    /* data files: missing, or shorter than the manifest says */
    p = tpath("missing-data.lance");
    write_ds(p, 100, 100);
    snprintf(data, sizeof data, "%s/data", p);
    only_file(data, ".lance", file, sizeof file);
    unlink(file);
    CHECK_OK(pa_dataset_open(&ds, p)); /* the manifest itself is fine */
    if (ds) {
        pa_dataset_scan *s;
        const void *v;
        const uint64_t *a;
        size_t n;
        CHECK_OK(pa_dataset_scan_create(&s, ds, "id", 10));
        CHECK_ERR(pa_dataset_scan_next(s, &v, &a, &n), PA_ERR_IO, "cannot open");
        pa_dataset_scan_free(s);
        pa_dataset_free(ds);
    }
    p = tpath("short-data.lance");
    write_ds(p, 100, 100);
    snprintf(data, sizeof data, "%s/data", p);
    only_file(data, ".lance", file, sizeof file);
    CHECK(truncate(file, 500) == 0);
    CHECK_OK(pa_dataset_open(&ds, p));
    if (ds) {
        pa_dataset_scan *s;
        const void *v;
        const uint64_t *a;
        size_t n;
        CHECK_OK(pa_dataset_scan_create(&s, ds, "vec", 10));
        CHECK_ERR(pa_dataset_scan_next(s, &v, &a, &n), PA_ERR_FORMAT, "no \"LANC\" magic");
        pa_dataset_scan_free(s);
        pa_dataset_free(ds);
    }
}

int main(int argc, char **argv)
{
    TEST_ARGS(argc, argv);
    if (!test_tmpdir_init("dataset"))
        return 1;
    RUN(test_round_trip());
    RUN(test_writer_errors());
    RUN(test_bad_datasets());
    TEST_DONE();
}
