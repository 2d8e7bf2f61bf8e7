/* Regression tests for what the reliability work (issue 6) found and fixed: the streamed
 * manifest (escaping, many ranges, byte-identical to jansson's compact form), the directory
 * fsyncs before the commit, .npy headers cut short, and the Lance reader naming encodings it
 * does not read. The bad-input catalogue (tests/bad-inputs) covers the CLI side. */
#include "artifact/artifact_internal.h"
#include "common/vecmath.h"
#include "test.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
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

/* Trains and saves a model of P partitions of dimension 8 with 4 sub-vectors (the artifacts
 * below), which the artifact writer checks and copies into metadata.lance. */
static void write_model(const char *path, uint32_t P)
{
    enum { N = 2000, DIM = 8 };
    static float x[N * DIM];
    uint64_t s = 1;
    for (int i = 0; i < N * DIM; i++)
        x[i] = (float)(pa_splitmix(&s) % 1000) / 1000.0f;
    pa_ivfpq_params prm = {.struct_size = sizeof prm,
                           .num_partitions = P,
                           .num_sub_vectors = 4,
                           .num_bits = 8,
                           .max_iters = 2,
                           .seed = 1};
    pa_ivfpq_model *m = NULL;
    CHECK_OK(pa_ivfpq_train(&m, x, N, DIM, &prm, NULL));
    if (m)
        CHECK_OK(pa_ivfpq_model_save(m, path));
    pa_ivfpq_model_free(m);
}

/* Writes an artifact of n rows over P partitions in B buckets with a small budget. */
static pa_status make_artifact(const char *dir, const char *model, uint32_t P, uint32_t B,
                               uint64_t n, uint64_t budget)
{
    pa_artifact_params prm = {.struct_size = sizeof prm,
                              .num_partitions = P,
                              .num_buckets = B,
                              .code_bytes = 4,
                              .dimension = 8,
                              .model = model,
                              .memory_bytes = budget};
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
    write_model(model, 37);
    const char *dir = tpath("escaped");
    CHECK_OK(make_artifact(dir, model, 37, 5, 50000, 64 << 10));
    pa_artifact *a;
    CHECK_OK(pa_artifact_open(&a, dir));
    if (a) {
        pa_artifact_info info = PA_ARTIFACT_INFO_INIT;
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
    CHECK_OK(make_artifact(dir, NULL, 2000, 4, 400000, 112 << 10));
    pa_artifact *a;
    CHECK_OK(pa_artifact_open(&a, dir));
    if (a) {
        pa_artifact_info info = PA_ARTIFACT_INFO_INIT;
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

/* A rerun after a killed writer: the killed run's work directory beside the artifact (its
 * marker no longer locked) is removed, whatever else is there is not; a directory the user
 * made at the artifact's path is refused and left as it was. */
static void test_stale_buckets(void)
{
    const char *dir = tpath("stale");
    char p[800], prefix[800];
    snprintf(prefix, sizeof prefix, "%s.partial-", dir);
    pa_workdir killed;
    CHECK_OK(pa_workdir_create(&killed, prefix, false));
    char killed_path[800];
    snprintf(killed_path, sizeof killed_path, "%s", killed.path);
    snprintf(p, sizeof p, "%s/bucket-00009.lance", killed.path);
    write_bytes(p, "half a bucket", 13);
    pa_workdir_release(&killed);
    snprintf(p, sizeof p, "%s.partial-mine", dir); /* not partifact's: no marker */
    CHECK(mkdir(p, 0755) == 0);
    CHECK_OK(make_artifact(dir, NULL, 16, 4, 1000, 1 << 20));
    struct stat sb;
    CHECK(lstat(killed_path, &sb) != 0);
    CHECK(lstat(p, &sb) == 0);
    snprintf(p, sizeof p, "%s/partitions/bucket-00003.lance", dir);
    CHECK(access(p, F_OK) == 0);
    const char *user = tpath("users-dir");
    CHECK(mkdir(user, 0755) == 0);
    snprintf(p, sizeof p, "%s/notes.txt", user);
    write_bytes(p, "mine", 4);
    CHECK_ERR(make_artifact(user, NULL, 16, 4, 1000, 1 << 20), PA_ERR_EXISTS, "already exists");
    CHECK(access(p, F_OK) == 0);
}

/* Two writers of one artifact (the same command started twice): each writes in a directory of
 * its own; the first to finish commits, the second's finish is refused and removes nothing of
 * the first's; then a new writer is refused for the committed artifact. */
static void test_one_writer_per_dir(void)
{
    const char *dir = tpath("locked");
    pa_artifact_params prm = {.struct_size = sizeof prm,
                              .num_partitions = 8,
                              .num_buckets = 2,
                              .code_bytes = 4,
                              .dimension = 8,
                              .memory_bytes = 1 << 20};
    pa_artifact_writer *a = NULL, *b = NULL;
    CHECK_OK(pa_artifact_writer_create(&a, dir, &prm));
    CHECK_OK(pa_artifact_writer_create(&b, dir, &prm));
    uint64_t ids[3] = {1, 2, 3};
    uint32_t parts[3] = {0, 5, 7};
    uint8_t codes[12] = {0};
    if (a) {
        CHECK_OK(pa_artifact_writer_append(a, ids, 3, parts, 3, codes, 12));
        CHECK_OK(pa_artifact_writer_finish(a));
        pa_artifact_writer_free(a);
    }
    if (b) {
        CHECK_OK(pa_artifact_writer_append(b, ids, 2, parts, 2, codes, 8));
        CHECK_ERR(pa_artifact_writer_finish(b), PA_ERR_EXISTS, "appeared while it was written");
        pa_artifact_writer_free(b);
    }
    pa_artifact *r;
    CHECK_OK(pa_artifact_open(&r, dir));
    if (r) {
        pa_artifact_info info = PA_ARTIFACT_INFO_INIT;
        pa_artifact_get_info(r, &info);
        CHECK(info.total_rows == 3);
        CHECK_OK(pa_artifact_verify(r, NULL));
        pa_artifact_free(r);
    }
    CHECK_ERR(pa_artifact_writer_create(&b, dir, &prm), PA_ERR_EXISTS, "already exists");
}

/* With the row count known, the range table is reserved from the budget, and a budget it does
 * not fit is refused up front with the numbers, not found out at the end of a long run. */
static void test_range_table_budget(void)
{
    pa_artifact_params prm = {.struct_size = sizeof prm,
                              .num_partitions = 65536,
                              .num_buckets = 64,
                              .code_bytes = 16,
                              .dimension = 128,
                              .memory_bytes = 256u << 20,
                              .expected_rows = 1000000000};
    pa_artifact_writer *w = NULL;
    CHECK_ERR(pa_artifact_writer_create(&w, tpath("ranges-big"), &prm), PA_ERR_BUDGET,
              "too small for 1000000000 rows in 65536 partitions: their range table needs about");
    CHECK(access(tpath("ranges-big"), F_OK) != 0); /* refused before anything was made */
    prm.expected_rows = 100000000;
    prm.memory_bytes = 256u << 20;
    CHECK_OK(pa_artifact_writer_create(&w, tpath("ranges-ok"), &prm));
    pa_artifact_write_stats ws = PA_ARTIFACT_WRITE_STATS_INIT;
    if (w) {
        pa_artifact_writer_stats(w, &ws);
        CHECK(ws.buffer_bytes <= prm.memory_bytes);
        pa_artifact_writer_free(w);
    }
    /* the same budget without a row count: buffers take all of it */
    prm.expected_rows = 0;
    CHECK_OK(pa_artifact_writer_create(&w, tpath("ranges-unknown"), &prm));
    if (w) {
        pa_artifact_write_stats ws2 = PA_ARTIFACT_WRITE_STATS_INIT;
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

/* A LanceDB file whose u32 column is RLE-encoded (r = row / 500, 5000 rows): decoded. */
static void test_lance_rle_read(void)
{
    char p[600];
    snprintf(p, sizeof p, "%s/tests/bad-inputs/files/lance-rle.lance", PA_SOURCE_DIR);
    pa_lance_reader *r;
    CHECK_OK(pa_lance_reader_open(&r, p));
    if (!r)
        return;
    uint32_t v[5000];
    CHECK(pa_lance_reader_num_rows(r) == 5000);
    CHECK_OK(pa_lance_reader_read(r, 0, 0, 5000, v));
    int bad = 0;
    for (uint32_t i = 0; i < 5000; i++)
        bad += v[i] != i / 500;
    CHECK(bad == 0);
    CHECK_OK(pa_lance_reader_read(r, 0, 1499, 2, v)); /* a range across a run boundary */
    CHECK(v[0] == 2 && v[1] == 3);
    pa_lance_reader_free(r);
}

/* The work directories killed runs leave (INDEX.partial-*) are removed by the next run, and
 * only those: recognised by partifact's marker whose lock no one holds, whatever the pid in
 * the name (a killed run with the rerun's pid, pid 1 in containers, included); never a live
 * run's, a directory without the marker, one with another marker text, or a link. */
static void test_remove_orphans(void)
{
    char prefix[512], init[512], foreign[512], fake[512], fakem[600], link_[512], file[600];
    snprintf(prefix, sizeof prefix, "%s.partial-", tpath("idx"));
    snprintf(init, sizeof init, "%s.partial-1", tpath("idx"));
    snprintf(foreign, sizeof foreign, "%s.partial-foreign", tpath("idx"));
    snprintf(fake, sizeof fake, "%s.partial-fake", tpath("idx"));
    snprintf(fakem, sizeof fakem, "%s/" PA_WORK_MARKER, fake);
    snprintf(link_, sizeof link_, "%s.partial-link", tpath("idx"));
    pa_workdir stale, live, one;
    CHECK_OK(pa_workdir_create(&stale, prefix, false));
    CHECK_OK(pa_workdir_create(&live, prefix, false));
    CHECK_OK(pa_workdir_create(&one, init, true)); /* a killed pid-1 run's */
    char stale_path[600], live_path[600];
    snprintf(stale_path, sizeof stale_path, "%s", stale.path);
    snprintf(live_path, sizeof live_path, "%s", live.path);
    snprintf(file, sizeof file, "%s/some.lance", stale.path);
    write_bytes(file, "x", 1);
    pa_workdir_release(&stale); /* as a kill would: the lock goes, the directory stays */
    pa_workdir_release(&one);
    CHECK(mkdir(foreign, 0755) == 0);
    CHECK(mkdir(fake, 0755) == 0);
    write_bytes(fakem, "not partifact's\n", 16);
    CHECK(symlink(live_path, link_) == 0);
    /* killed between mkdir and marker: an empty directory of the generated shape goes; one of
     * another shape, or one with something in it, stays */
    char empty6[512], empty3[512], full6[512], full6f[600];
    snprintf(empty6, sizeof empty6, "%s.partial-Ab3dE9", tpath("idx"));
    snprintf(empty3, sizeof empty3, "%s.partial-Ab3", tpath("idx"));
    snprintf(full6, sizeof full6, "%s.partial-Zz9yX8", tpath("idx"));
    snprintf(full6f, sizeof full6f, "%s/mine", full6);
    CHECK(mkdir(empty6, 0755) == 0 && mkdir(empty3, 0755) == 0 && mkdir(full6, 0755) == 0);
    write_bytes(full6f, "x", 1);
    pa_workdir again;
    CHECK_ERR(pa_workdir_create(&again, init, true), PA_ERR_INVALID, "already exists");
    CHECK(pa_remove_orphans(tpath("idx/"), ".partial-") == 3);
    struct stat sb;
    CHECK(lstat(stale_path, &sb) != 0 && lstat(init, &sb) != 0 && lstat(empty6, &sb) != 0);
    CHECK(lstat(empty3, &sb) == 0 && lstat(full6f, &sb) == 0);
    CHECK(lstat(live_path, &sb) == 0 && lstat(foreign, &sb) == 0 && lstat(fakem, &sb) == 0 &&
          lstat(link_, &sb) == 0);
    CHECK(pa_remove_orphans(tpath("idx"), ".partial-") == 0); /* the live one is held */
    pa_workdir_release(&live);
    CHECK(pa_remove_orphans(tpath("idx"), ".partial-") == 1); /* now its lock is free */
    CHECK(lstat(live_path, &sb) != 0 && lstat(foreign, &sb) == 0 && lstat(link_, &sb) == 0);
}

static bool same_bytes(const char *path, const char *want)
{
    char buf[256] = {0};
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    return n == strlen(want) && !memcmp(buf, want, n);
}

static size_t tmp_files_beside(const char *base)
{
    char dir[512];
    pa_parent_dir(tpath(base), dir, sizeof dir);
    char pat[300];
    snprintf(pat, sizeof pat, ".%s" PA_TMP_TAG, base);
    size_t n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strncmp(e->d_name, pat, strlen(pat)) == 0;
    if (d)
        closedir(d);
    return n;
}

/* A file output: written under a temporary name, renamed into place by commit; an existing
 * one refused unless replace, then replaced (a new inode); an abort leaves the old one and no
 * temporary file; a link or a directory in its place is refused; a killed run's unlocked
 * temporary file is removed by the next open, a live run's is not. */
static void test_out_file(void)
{
    const char *p = tpath("out.bin");
    pa_output *o = NULL;
    CHECK_OK(pa_output_create(&o, p, 0));
    CHECK(access(p, F_OK) != 0 && tmp_files_beside("out.bin") == 1);
    CHECK_OK(pa_output_write(o, "old", 3));
    CHECK_OK(pa_output_commit(o));
    pa_output_free(o);
    CHECK(same_bytes(p, "old") && tmp_files_beside("out.bin") == 0);
    struct stat a, b;
    stat(p, &a);
    CHECK_ERR(pa_output_create(&o, p, 0), PA_ERR_EXISTS,
              "out.bin: already exists, and replacing it was not asked for");
    CHECK_OK(pa_output_create(&o, p, 1));
    CHECK_OK(pa_output_write(o, "new!", 4));
    pa_output_free(o); /* aborted: the old one stays, nothing else */
    CHECK(same_bytes(p, "old") && tmp_files_beside("out.bin") == 0);
    CHECK_OK(pa_output_create(&o, p, 1));
    CHECK_OK(pa_output_write(o, "new!", 4));
    CHECK_OK(pa_output_commit(o));
    pa_output_free(o);
    stat(p, &b);
    CHECK(same_bytes(p, "new!") && a.st_ino != b.st_ino);
    const char *l = tpath("out.link");
    CHECK(symlink(p, l) == 0);
    CHECK_ERR(pa_output_create(&o, l, 1), PA_ERR_INVALID, "the output is a symbolic link");
    CHECK_ERR(pa_output_create(&o, tpath(""), 1), PA_ERR_INVALID, "is not a regular file");
    CHECK(same_bytes(p, "new!"));
    /* leftovers: an unlocked temporary file goes, a locked one (a live run's) stays */
    char dead[600], live[600];
    snprintf(dead, sizeof dead, "%s/.out.bin" PA_TMP_TAG "1-0", tpath(""));
    snprintf(live, sizeof live, "%s/.out.bin" PA_TMP_TAG "1-1", tpath(""));
    write_bytes(dead, "x", 1);
    write_bytes(live, "x", 1);
    int lfd = open(live, O_RDONLY);
    CHECK(lfd >= 0 && flock(lfd, LOCK_EX) == 0);
    CHECK_OK(pa_output_create(&o, p, 1));
    CHECK(access(dead, F_OK) != 0 && access(live, F_OK) == 0);
    pa_output_free(o);
    close(lfd);
    unlink(live);
}

/* A directory output: built beside, renamed in; replace swaps it with the old one (removed
 * with the work directory) and only replaces a directory of its kind. */
static void test_out_dir(void)
{
    const char *p = tpath("outdir");
    char f[600], work[600];
    pa_out_dir o;
    CHECK_OK(pa_out_dir_open(&o, p, false, "kind"));
    snprintf(work, sizeof work, "%s", o.work.path);
    snprintf(f, sizeof f, "%s/kind", o.dir);
    write_bytes(f, "old", 3);
    CHECK(access(p, F_OK) != 0);
    CHECK_OK(pa_out_dir_commit(&o));
    snprintf(f, sizeof f, "%s/kind", p);
    CHECK(same_bytes(f, "old") && access(work, F_OK) != 0);
    CHECK_ERR(pa_out_dir_open(&o, p, false, "kind"), PA_ERR_EXISTS, "already exists");
    CHECK_ERR(pa_out_dir_open(&o, p, true, "other"), PA_ERR_INVALID,
              "exists and holds no other, so it is not an output of this kind");
    CHECK_OK(pa_out_dir_open(&o, p, true, "kind"));
    snprintf(work, sizeof work, "%s", o.work.path);
    char nf[600];
    snprintf(nf, sizeof nf, "%s/kind", o.dir);
    write_bytes(nf, "new", 3);
    CHECK(same_bytes(f, "old")); /* until the commit, the old one */
    CHECK_OK(pa_out_dir_commit(&o));
    CHECK(same_bytes(f, "new") && access(work, F_OK) != 0);
    CHECK_OK(pa_out_dir_open(&o, p, true, "kind"));
    snprintf(work, sizeof work, "%s", o.work.path);
    pa_out_dir_abort(&o); /* never committed: the old one stays, the work directory goes */
    CHECK(same_bytes(f, "new") && access(work, F_OK) != 0);
}

int main(int argc, char **argv)
{
    TEST_ARGS(argc, argv);
    if (!test_tmpdir_init("reliability"))
        return 1;
    RUN(test_manifest_stream());
    RUN(test_manifest_many_ranges());
    RUN(test_stale_buckets());
    RUN(test_one_writer_per_dir());
    RUN(test_range_table_budget());
    RUN(test_npy_cut_header());
    RUN(test_lance_rle_read());
    RUN(test_remove_orphans());
    RUN(test_out_file());
    RUN(test_out_dir());
    TEST_DONE();
}
