/* Regression tests for what the reliability work (issue 6) found and fixed: the streamed
 * manifest (escaping, many ranges, byte-identical to jansson's compact form), the directory
 * fsyncs before the commit, .npy headers cut short, and the Lance reader naming encodings it
 * does not read. The bad-input catalogue (tests/bad-inputs) covers the CLI side. */
#include "artifact/artifact_internal.h"
#include "test.h"

#include <fcntl.h>
#include <jansson.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>



static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

/* Writes an artifact of n rows over P partitions in B buckets with a small budget. */
static pa_status make_artifact(const char *dir, const char *model, uint32_t P, uint32_t B,
                               uint64_t n, uint64_t budget)
{
    pa_artifact_params prm = {.num_partitions = P, .num_buckets = B, .code_bytes = 4,
                              .dimension = 8, .model = model, .memory_bytes = budget};
    pa_artifact_writer *w;
    pa_status st = pa_artifact_writer_create(&w, dir, &prm);
    if (st != PA_OK)
        return st;
    enum { CH = 4096 };
    static uint64_t ids[CH];
    static uint32_t parts[CH];
    static uint8_t codes[CH * 4];
    for (uint64_t done = 0; st == PA_OK && done < n;) {
        size_t k = n - done < CH ? (size_t)(n - done) : CH;
        for (size_t i = 0; i < k; i++) {
            ids[i] = done + i;
            parts[i] = (uint32_t)((done + i) * 2654435761u % P);
            memset(codes + i * 4, (int)(ids[i] & 0xff), 4);
        }
        st = pa_artifact_writer_append(w, ids, k, parts, k, codes, k * 4);
        done += k;
    }
    if (st == PA_OK)
        st = pa_artifact_writer_finish(w);
    pa_artifact_writer_free(w);
    return st;
}

/* The streamed manifest: a model path that needs escaping survives the round trip, and the
 * text is exactly jansson's compact serialisation of what it parses to. */
static void test_manifest_stream(void)
{
    const char *model = tpath("mo\"del\\ \xc3\xbc\t.lance");
    write_bytes(model, "model bytes", 11);
    const char *dir = tpath("escaped");
    CHECK_OK(make_artifact(dir, model, 37, 5, 50000, 64 << 10));
    pa_artifact *a;
    CHECK_OK(pa_artifact_open(&a, dir));
    if (a) {
        pa_artifact_info info;
        pa_artifact_get_info(a, &info);
        CHECK(info.model && strcmp(info.model, model) == 0);
        CHECK(info.total_rows == 50000);
        CHECK(info.num_ranges > 37); /* several flushes per bucket */
        CHECK_OK(pa_artifact_verify(a, NULL));
        pa_artifact_free(a);
    }
    char mpath[800];
    snprintf(mpath, sizeof mpath, "%s/manifest.json", dir);
    json_error_t err;
    json_t *j = json_load_file(mpath, 0, &err);
    CHECK(j != NULL);
    char *again = j ? json_dumps(j, JSON_COMPACT) : NULL;
    FILE *f = fopen(mpath, "rb");
    char *text = calloc(1, 1 << 20);
    size_t n = f && text ? fread(text, 1, (1 << 20) - 1, f) : 0;
    if (f)
        fclose(f);
    CHECK(again && n == strlen(again) + 1 && text[n - 1] == '\n' &&
          memcmp(text, again, n - 1) == 0);
    free(again), free(text);
    json_decref(j);
}

/* Many ranges (tens of thousands): the manifest goes through the 64 KiB stream buffer many
 * times, and still loads and verifies. */
static void test_manifest_many_ranges(void)
{
    const char *dir = tpath("many-ranges");
    CHECK_OK(make_artifact(dir, NULL, 2000, 4, 400000, 96 << 10));
    pa_artifact *a;
    CHECK_OK(pa_artifact_open(&a, dir));
    if (a) {
        pa_artifact_info info;
        pa_artifact_get_info(a, &info);
        CHECK(info.num_ranges > 20000);
        CHECK_OK(pa_artifact_verify(a, NULL));
        pa_artifact_free(a);
    }
    struct stat sb;
    char mpath[800];
    snprintf(mpath, sizeof mpath, "%s/manifest.json", dir);
    CHECK(stat(mpath, &sb) == 0 && sb.st_size > (1 << 17));
}

/* A rerun into a directory that a killed run with more buckets left behind: the stale bucket
 * files go, anything else stays. */
static void test_stale_buckets(void)
{
    const char *dir = tpath("stale");
    char p[800];
    mkdir(dir, 0755);
    snprintf(p, sizeof p, "%s/partitions", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/partitions/bucket-00009.lance", dir);
    write_bytes(p, "half a bucket", 13);
    snprintf(p, sizeof p, "%s/partitions/notes.txt", dir);
    write_bytes(p, "mine", 4);
    CHECK_OK(make_artifact(dir, NULL, 16, 4, 1000, 1 << 20));
    snprintf(p, sizeof p, "%s/partitions/bucket-00009.lance", dir);
    CHECK(access(p, F_OK) != 0);
    snprintf(p, sizeof p, "%s/partitions/notes.txt", dir);
    CHECK(access(p, F_OK) == 0);
    snprintf(p, sizeof p, "%s/partitions/bucket-00003.lance", dir);
    CHECK(access(p, F_OK) == 0);
}

/* Two writers into one directory (the same command started twice): the second is refused,
 * and its failure removes nothing of the first's; once the first is done, the directory holds a
 * committed artifact and a new writer is refused for that. */
static void test_one_writer_per_dir(void)
{
    const char *dir = tpath("locked");
    pa_artifact_params prm = {.num_partitions = 8, .num_buckets = 2, .code_bytes = 4,
                              .dimension = 8, .memory_bytes = 1 << 20};
    pa_artifact_writer *a = NULL, *b = NULL;
    CHECK_OK(pa_artifact_writer_create(&a, dir, &prm));
    CHECK_ERR(pa_artifact_writer_create(&b, dir, &prm), PA_ERR_STATE,
              "another partifact process is writing an artifact into this directory");
    CHECK(b == NULL);
    uint64_t ids[3] = {1, 2, 3};
    uint32_t parts[3] = {0, 5, 7};
    uint8_t codes[12] = {0};
    if (a) {
        CHECK_OK(pa_artifact_writer_append(a, ids, 3, parts, 3, codes, 12));
        CHECK_OK(pa_artifact_writer_finish(a));
        pa_artifact_writer_free(a);
    }
    pa_artifact *r;
    CHECK_OK(pa_artifact_open(&r, dir));
    if (r) {
        CHECK_OK(pa_artifact_verify(r, NULL));
        pa_artifact_free(r);
    }
    CHECK_ERR(pa_artifact_writer_create(&b, dir, &prm), PA_ERR_STATE,
              "already holds a committed artifact");
}

/* With the row count known, the range table is reserved from the budget, and a budget it does
 * not fit is refused up front with the numbers, not found out at the end of a long run. */
static void test_range_table_budget(void)
{
    pa_artifact_params prm = {.num_partitions = 65536, .num_buckets = 64, .code_bytes = 16,
                              .dimension = 128, .memory_bytes = 256u << 20,
                              .expected_rows = 1000000000};
    pa_artifact_writer *w = NULL;
    CHECK_ERR(pa_artifact_writer_create(&w, tpath("ranges-big"), &prm), PA_ERR_BUDGET,
              "too small for 1000000000 rows in 65536 partitions: their range table needs about");
    CHECK(access(tpath("ranges-big"), F_OK) != 0); /* refused before anything was made */
    prm.expected_rows = 100000000;
    prm.memory_bytes = 256u << 20;
    CHECK_OK(pa_artifact_writer_create(&w, tpath("ranges-ok"), &prm));
    pa_artifact_write_stats ws;
    if (w) {
        pa_artifact_writer_stats(w, &ws);
        CHECK(ws.buffer_bytes <= prm.memory_bytes);
        pa_artifact_writer_free(w);
    }
    /* the same budget without a row count: buffers take all of it */
    prm.expected_rows = 0;
    CHECK_OK(pa_artifact_writer_create(&w, tpath("ranges-unknown"), &prm));
    if (w) {
        pa_artifact_write_stats ws2;
        pa_artifact_writer_stats(w, &ws2);
        CHECK(ws2.buffer_bytes <= prm.memory_bytes);
        pa_artifact_writer_free(w);
    }
}

/* A .npy file cut inside its header: "truncated", not "not a .npy file". */
static void test_npy_cut_header(void)
{
    const char *p = tpath("cut.npy");
    write_bytes(p, "\x93NUMPY\x01\x00\x76", 9);
    pa_vec_input *in;
    CHECK_ERR(pa_vec_input_open(&in, p, NULL), PA_ERR_FORMAT, "truncated .npy header (9 bytes)");
    write_bytes(p, "\x93NUM", 4);
    CHECK_ERR(pa_vec_input_open(&in, p, NULL), PA_ERR_FORMAT, "not a .npy file");
}

/* A LanceDB file whose u32 column is RLE-encoded: the encoding is named. */
static void test_lance_rle_named(void)
{
    char p[600];
    snprintf(p, sizeof p, "%s/tests/bad-inputs/files/lance-rle.lance", PA_SOURCE_DIR);
    pa_lance_reader *r;
    CHECK_OK(pa_lance_reader_open(&r, p)); /* only reading the column fails */
    uint32_t v;
    if (r)
        CHECK_ERR(pa_lance_reader_read(r, 0, 0, 1, &v), PA_ERR_UNSUPPORTED,
                  "page 0 of column 0 (\"r\") uses encoding \"rle\", which partifact does not "
                  "read");
    pa_lance_reader_free(r);
}

/* The work directories killed runs leave (INDEX.partial-<pid>) are removed by the next run,
 * and only those: not a live process's, not one whose lock someone holds, not other names. */
static void test_remove_orphans(void)
{
    pid_t child = fork(); /* a pid that is certainly dead once reaped */
    if (child == 0)
        _exit(0);
    CHECK(child > 0);
    waitpid(child, NULL, 0);
    char dead[512], locked[512], mine[512], init[512], other[512], file[600];
    snprintf(dead, sizeof dead, "%s.partial-%ld", tpath("idx"), (long)child);
    /* also dead, but its lock is held (a run on another machine sharing the file system) */
    /* (a pid beyond any pid_max) */
    snprintf(locked, sizeof locked, "%s.partial-%ld", tpath("idx"), 2147483000L);
    snprintf(mine, sizeof mine, "%s.partial-%ld", tpath("idx"), (long)getpid());
    snprintf(init, sizeof init, "%s.partial-1", tpath("idx"));
    snprintf(other, sizeof other, "%s.partial-12x", tpath("idx"));
    snprintf(file, sizeof file, "%s/some.lance", dead);
    const char *dirs[] = {dead, locked, mine, init, other, tpath("idx2.partial-99999999")};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
        CHECK(mkdir(dirs[i], 0755) == 0);
    write_bytes(file, "x", 1);
    int held = pa_workdir_lock(locked);
    CHECK(held >= 0);
    CHECK(pa_workdir_lock(locked) < 0); /* a second lock is refused while one is held */
    CHECK(pa_remove_orphans(tpath("idx/"), ".partial-") == 1);
    struct stat sb;
    CHECK(stat(dead, &sb) != 0);
    for (size_t i = 1; i < sizeof dirs / sizeof *dirs; i++)
        CHECK(stat(dirs[i], &sb) == 0);
    pa_workdir_unlock(held);
    CHECK(pa_remove_orphans(tpath("idx"), ".partial-") == 1); /* now the lock is free */
    CHECK(stat(locked, &sb) != 0 && stat(mine, &sb) == 0 && stat(init, &sb) == 0);
}

int main(void)
{
    if (!test_tmpdir_init("reliability"))
        return 1;
    test_manifest_stream();
    test_manifest_many_ranges();
    test_stale_buckets();
    test_one_writer_per_dir();
    test_range_table_budget();
    test_npy_cut_header();
    test_lance_rle_named();
    test_remove_orphans();
    TEST_DONE();
}
