/* The partition artifact: round trips (exact per-partition multisets of (row_id, code)) for
 * several part_id distributions and memory budgets, verify, scan, abort, and every bad input
 * the writer and reader must refuse. */
#include "artifact/artifact_internal.h"
#include "test.h"

#include <errno.h>
#include <jansson.h>
#include <omp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>


static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

#define M 16

/* The code of a row is a function of its row id, so any (row_id, code) pair can be checked. */
static void code_of(uint64_t id, uint8_t *c)
{
    for (int j = 0; j < M; j++)
        c[j] = (uint8_t)((id * 0x9E3779B97F4A7C15ull) >> (j * 3 % 56));
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

typedef enum dist { UNIFORM, SKEWED, SINGLE, SPARSE } dist;

static uint32_t draw_part(dist d, uint32_t P)
{
    switch (d) {
    case UNIFORM: return (uint32_t)(rnd() % P);
    case SKEWED: { /* ~half the rows in partition 3, the rest geometric-ish */
        uint64_t r = rnd();
        if (r % 2)
            return 3 % P;
        uint32_t p = 0;
        while (p + 1 < P && (rnd() % 4))
            p++;
        return p;
    }
    case SINGLE: return P - 1;
    case SPARSE: return (uint32_t)((rnd() % (P / 10 + 1)) * 10 % P); /* 90% of partitions empty */
    }
    return 0;
}

/* Writes n rows drawn from d with the given budget/buckets, then checks every partition's
 * multiset exactly (direct reads and the scan), verify, and that reads touch each byte once. */
static void round_trip(const char *name, dist d, uint32_t P, uint32_t B, uint64_t n,
                       uint64_t budget)
{
    const char *dir = tpath(name);
    pa_artifact_params prm = {.struct_size = sizeof prm,
                              .num_partitions = P,
                              .num_buckets = B,
                              .code_bytes = M,
                              .dimension = 128,
                              .metric = PA_METRIC_L2,
                              .memory_bytes = budget};
    pa_artifact_writer *w;
    CHECK_OK(pa_artifact_writer_create(&w, dir, &prm));
    if (!w)
        return;
    uint64_t *exp_count = calloc(P, 8);
    uint64_t *sum_ids = calloc(P, 8); /* per partition: sum and xor of ids as a quick filter */
    uint64_t **ids_of = calloc(P, sizeof *ids_of);
    uint64_t *cap_of = calloc(P, 8);
    const size_t maxb = 3000;
    uint64_t ids[3000];
    uint32_t parts[3000];
    uint8_t codes[3000 * M];
    for (uint64_t done = 0; done < n;) {
        uint64_t want = 1 + rnd() % maxb; /* PA_MIN evaluates its arguments twice */
        size_t k = (size_t)PA_MIN(n - done, want);
        for (size_t i = 0; i < k; i++) {
            ids[i] = (done + i) * 7919 + 13;
            parts[i] = draw_part(d, P);
            code_of(ids[i], codes + i * M);
            uint32_t p = parts[i];
            if (exp_count[p] == cap_of[p]) {
                cap_of[p] = cap_of[p] ? cap_of[p] * 2 : 16;
                ids_of[p] = realloc(ids_of[p], cap_of[p] * 8);
            }
            ids_of[p][exp_count[p]++] = ids[i];
            sum_ids[p] += ids[i];
        }
        CHECK_OK(pa_artifact_writer_append(w, ids, k, parts, k, codes, k * M));
        done += k;
    }
    pa_artifact_write_stats ws = PA_ARTIFACT_WRITE_STATS_INIT;
    pa_artifact_writer_stats(w, &ws);
    CHECK(ws.rows == n);
    CHECK(ws.buffer_bytes <= budget);
    CHECK_OK(pa_artifact_writer_finish(w));
    pa_artifact_writer_free(w);

    pa_artifact *a;
    CHECK_OK(pa_artifact_open(&a, dir));
    if (!a)
        return;
    pa_artifact_info info = PA_ARTIFACT_INFO_INIT;
    pa_artifact_get_info(a, &info);
    CHECK(info.total_rows == n && info.num_partitions == P && info.code_bytes == M);
    CHECK(info.num_buckets == (B ? B : PA_MIN(P, 256u)));
    int bad = 0;
    uint64_t *got = malloc((n + 1) * 8);
    uint8_t *gcodes = malloc((n + 1) * M);
    for (uint32_t p = 0; p < P; p++) {
        uint64_t rows;
        CHECK_OK(pa_artifact_partition(a, p, &rows, NULL, NULL));
        if (rows != exp_count[p]) {
            bad++;
            continue;
        }
        if (pa_artifact_read_partition(a, p, got, gcodes) != PA_OK) {
            bad++;
            continue;
        }
        for (uint64_t i = 0; i < rows; i++) { /* each code belongs to its row id */
            uint8_t c[M];
            code_of(got[i], c);
            bad += memcmp(c, gcodes + i * M, M) != 0;
        }
        if (rows) {
            qsort(got, rows, 8, cmp_u64);
            qsort(ids_of[p], rows, 8, cmp_u64);
            bad += memcmp(got, ids_of[p], rows * 8) != 0;
        }
    }
    CHECK(bad == 0);
    /* reading every partition back reads exactly its row ids and codes (full-zip pages; the
     * bucket files have no part id column), plus each file's footer and metadata once */
    uint64_t payload = n * (8 + M);
    uint64_t read = pa_artifact_bytes_read(a);
    uint64_t meta = 0;
    for (uint32_t f = 0; f < info.num_files; f++) {
        pa_lance_reader *r;
        const char *fp;
        char full[700];
        pa_artifact_file(a, f, &fp, NULL, NULL);
        snprintf(full, sizeof full, "%s/%s", dir, fp);
        if (pa_lance_reader_open(&r, full) == PA_OK) {
            meta += pa_lance_reader_bytes_read(r);
            pa_lance_reader_free(r);
        }
    }
    CHECK(read == payload + meta);

    /* the scan sees the same partitions, in order */
    pa_artifact_scan *s;
    CHECK_OK(pa_artifact_scan_create(&s, a, 64 * 1024, 2));
    uint32_t expect_p = 0;
    int sbad = 0;
    while (s) {
        uint32_t p;
        const uint64_t *sid;
        const uint8_t *sc;
        uint64_t rows;
        pa_status nst = pa_artifact_scan_next(s, &p, &sid, &sc, &rows);
        if (nst == PA_END)
            break;
        if (nst != PA_OK) {
            sbad++;
            break;
        }
        sbad += p != expect_p++;
        uint64_t sum = 0;
        for (uint64_t i = 0; i < rows; i++)
            sum += sid[i];
        sbad += rows != exp_count[p] || sum != sum_ids[p];
    }
    CHECK(sbad == 0 && expect_p == P);
    pa_artifact_scan_free(s);

    pa_artifact_verify_report rep = PA_ARTIFACT_VERIFY_REPORT_INIT;
    CHECK_OK(pa_artifact_verify(a, &rep));
    CHECK(rep.rows_checked == n && rep.bytes_hashed == info.total_bytes);
    pa_artifact_free(a);
    for (uint32_t p = 0; p < P; p++)
        free(ids_of[p]);
    free(ids_of), free(cap_of), free(exp_count), free(sum_ids), free(got), free(gcodes);
}

static void test_round_trips(void)
{
    round_trip("uniform-large", UNIFORM, 256, 0, 200000, 256u << 20);
    round_trip("uniform-tiny", UNIFORM, 256, 16, 60000, 200 * 1024); /* many flushes */
    round_trip("skewed-tiny", SKEWED, 100, 7, 50000, 120 * 1024);
    round_trip("single", SINGLE, 50, 5, 20000, 96 * 1024);
    round_trip("sparse", SPARSE, 1000, 64, 30000, 2u << 20);
    round_trip("one-bucket", UNIFORM, 10, 1, 5000, 32 * 1024);
    round_trip("empty", UNIFORM, 10, 3, 0, 1u << 20);
}

static pa_artifact_params base_params(void)
{
    return (pa_artifact_params){.struct_size = sizeof(pa_artifact_params),
                                .num_partitions = 20,
                                .num_buckets = 4,
                                .code_bytes = M,
                                .dimension = 64,
                                .memory_bytes = 1u << 20};
}

static uint8_t code_xor = 0; /* another artifact of the same shape: other codes */

/* Writes N_THREADED rows (batches of 20,000: routed on the threads) into dir on `threads`
 * threads, flushing during the appends (a small budget) and at finish. */
enum { N_THREADED = 200000 };
static pa_status write_threaded(const char *dir, int threads)
{
    pa_artifact_params prm = {.struct_size = sizeof prm,
                              .num_partitions = 300,
                              .num_buckets = 16,
                              .code_bytes = M,
                              .dimension = 64,
                              .memory_bytes = 2u << 20};
    pa_artifact_writer *w;
    pa_status st = pa_artifact_writer_create(&w, dir, &prm);
    if (st != PA_OK)
        return st;
    enum { CH = 20000 };
    static uint64_t ids[CH];
    static uint32_t parts[CH];
    static uint8_t codes[CH * M];
    omp_set_num_threads(threads);
    for (uint64_t done = 0; st == PA_OK && done < N_THREADED; done += CH) {
        for (size_t i = 0; i < CH; i++) {
            ids[i] = done + i;
            parts[i] = (uint32_t)(((done + i) * 2654435761u >> 7) % 300);
            code_of(ids[i], codes + i * M);
        }
        st = pa_artifact_writer_append(w, ids, CH, parts, CH, codes, CH * M);
    }
    if (st == PA_OK)
        st = pa_artifact_writer_finish(w);
    pa_artifact_writer_free(w);
    omp_set_num_threads(2);
    return st;
}

/* Routing and flushing on the threads: the artifact's every byte is the one-thread writer's
 * (manifest with its artifact id, and each bucket file), whatever the threads; and a write that
 * fails on a worker thread fails the append or finish with the file's name and the OS error's text,
 * and leaves nothing. */
static void test_threads_same_bytes(void)
{
    const char *names[] = {"threads-1", "threads-2", "threads-4"};
    const int threads[] = {1, 2, 4};
    for (int v = 0; v < 3; v++)
        CHECK_OK(write_threaded(tpath(names[v]), threads[v]));
    pa_artifact *a;
    CHECK_OK(pa_artifact_open(&a, tpath("threads-2")));
    if (a) {
        pa_artifact_info info = PA_ARTIFACT_INFO_INIT;
        pa_artifact_get_info(a, &info);
        CHECK(info.total_rows == N_THREADED && info.num_ranges > 300); /* flushed in appends */
        CHECK_OK(pa_artifact_verify(a, NULL));
        pa_artifact_free(a);
    }
    for (int b = -1; b < 16; b++) {
        char rel[64] = "manifest.json", p0[800], pv[800];
        if (b >= 0)
            pa_artifact_bucket_path((uint32_t)b, rel, sizeof rel);
        snprintf(p0, sizeof p0, "%s/%s", tpath(names[0]), rel);
        CHECK(access(p0, F_OK) == 0);
        for (int v = 1; v < 3; v++) {
            snprintf(pv, sizeof pv, "%s/%s", tpath(names[v]), rel);
            CHECK(test_same_file(p0, pv));
        }
    }
    /* bucket files may not grow past 64 KiB: a flush on a worker thread fails (EFBIG) */
    struct rlimit old, small;
    CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
    small = old;
    small.rlim_cur = 64 << 10;
    void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
    CHECK(setrlimit(RLIMIT_FSIZE, &small) == 0);
    const char *dir = tpath("threads-fail");
    pa_status st = write_threaded(dir, 2);
    CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
    signal(SIGXFSZ, was);
    CHECK(st == PA_ERR_IO);
    CHECK(strstr(pa_last_error(), "/partitions/bucket-") != NULL &&
          strstr(pa_last_error(), strerror(EFBIG)) != NULL);
    CHECK(access(dir, F_OK) != 0);
}

/* Writes a small good artifact at dir. */
static void write_small(const char *dir)
{
    pa_artifact_params prm = base_params();
    pa_artifact_writer *w;
    CHECK_OK(pa_artifact_writer_create(&w, dir, &prm));
    uint64_t ids[400];
    uint32_t parts[400];
    uint8_t codes[400 * M];
    for (int i = 0; i < 400; i++) {
        ids[i] = (uint64_t)i;
        parts[i] = (uint32_t)(i % 20);
        code_of(ids[i], codes + i * M);
        codes[i * M] ^= code_xor;
    }
    CHECK_OK(pa_artifact_writer_append(w, ids, 400, parts, 400, codes, sizeof codes));
    CHECK_OK(pa_artifact_writer_finish(w));
    pa_artifact_writer_free(w);
}

static void test_writer_bad_input(void)
{
    pa_artifact_params prm = base_params();
    pa_artifact_writer *w;
    const char *dir = tpath("bad-writer");
    CHECK_OK(pa_artifact_writer_create(&w, dir, &prm));
    uint64_t ids[4] = {1, 2, 3, 4};
    uint32_t parts[4] = {0, 1, 2, 20};
    uint8_t codes[4 * M] = {0};
    CHECK_ERR(pa_artifact_writer_append(w, ids, 4, parts, 4, codes, sizeof codes), PA_ERR_RANGE,
              "row 3 of the batch (row 3 overall, row_id 4) has part_id 20; expected < 20");
    CHECK_ERR(pa_artifact_writer_append(w, ids, 4, parts, 3, codes, sizeof codes), PA_ERR_INVALID,
              "4 row ids but 3 part ids");
    CHECK_ERR(pa_artifact_writer_append(w, ids, 3, parts, 3, codes, 3 * M - 1), PA_ERR_INVALID,
              "47 bytes of codes for 3 rows; expected 48 (16 bytes per code)");
    CHECK_OK(pa_artifact_writer_append(w, ids, 3, parts, 3, codes, 3 * M));
    CHECK_OK(pa_artifact_writer_finish(w));
    CHECK_ERR(pa_artifact_writer_append(w, ids, 3, parts, 3, codes, 3 * M), PA_ERR_STATE,
              "append after finish");
    pa_artifact_writer_free(w);
    pa_artifact *a;
    CHECK_OK(pa_artifact_open(&a, dir));
    if (a) { /* the refused batches appended nothing */
        pa_artifact_info info = PA_ARTIFACT_INFO_INIT;
        pa_artifact_get_info(a, &info);
        CHECK(info.total_rows == 3);
        pa_artifact_free(a);
    }
    /* a committed artifact is never overwritten */
    CHECK_ERR(pa_artifact_writer_create(&w, dir, &prm), PA_ERR_EXISTS,
              "already exists, and replacing it was not asked for");
    CHECK_OK(pa_artifact_open(&a, dir));
    if (a) {
        CHECK_OK(pa_artifact_verify(a, NULL));
        pa_artifact_free(a);
    }
    prm.memory_bytes = 10000;
    CHECK_ERR(pa_artifact_writer_create(&w, tpath("tiny-budget"), &prm), PA_ERR_BUDGET,
              "a memory budget of 10000 bytes is too small for 4 buckets of 28-byte rows");
    prm = base_params();
    prm.num_buckets = 30;
    CHECK_ERR(pa_artifact_writer_create(&w, tpath("x"), &prm), PA_ERR_INVALID,
              "30 buckets for 20 partitions");
    prm = base_params();
    prm.metric = (pa_metric)7;
    CHECK_ERR(pa_artifact_writer_create(&w, tpath("x"), &prm), PA_ERR_INVALID,
              "metric 7 is not l2, cosine or dot");
}

static void test_abort(void)
{
    pa_artifact_params prm = base_params();
    const char *dir = tpath("aborted");
    pa_artifact_writer *w;
    CHECK_OK(pa_artifact_writer_create(&w, dir, &prm));
    uint64_t ids[2] = {1, 2};
    uint32_t parts[2] = {0, 5};
    uint8_t codes[2 * M] = {0};
    CHECK_OK(pa_artifact_writer_append(w, ids, 2, parts, 2, codes, sizeof codes));
    pa_artifact_writer_free(w); /* never finished: aborted */
    CHECK(access(dir, F_OK) != 0);

    /* a directory left by a writer that died (files, no manifest) is refused as incomplete */
    const char *dead = tpath("dead");
    mkdir(dead, 0755);
    char sub[700];
    snprintf(sub, sizeof sub, "%s/partitions", dead);
    mkdir(sub, 0755);
    snprintf(sub, sizeof sub, "%s/partitions/bucket-00000.lance", dead);
    FILE *f = fopen(sub, "wb");
    fputs("partial", f);
    fclose(f);
    pa_artifact *a;
    CHECK_ERR(pa_artifact_open(&a, dead), PA_ERR_INCOMPLETE, "incomplete artifact");
    /* a new writer neither writes into it nor removes it: it is not the writer's own */
    CHECK_ERR(pa_artifact_writer_create(&w, dead, &prm), PA_ERR_EXISTS, "already exists");
    CHECK(access(sub, F_OK) == 0);
    /* nor when asked to replace it: only an artifact (a manifest.json) is replaced */
    prm.replace = 1;
    CHECK_ERR(pa_artifact_writer_create(&w, dead, &prm), PA_ERR_INVALID,
              "exists and holds no manifest.json, so it is not an output of this kind");
    CHECK(access(sub, F_OK) == 0);
    /* a committed artifact asked to be replaced: the new one is written beside it and swapped
     * in at finish; until then the old one is what readers see */
    const char *old = tpath("replaced");
    prm.replace = 0;
    CHECK_OK(pa_artifact_writer_create(&w, old, &prm));
    CHECK_OK(pa_artifact_writer_append(w, ids, 1, parts, 1, codes, M));
    CHECK_OK(pa_artifact_writer_finish(w));
    pa_artifact_writer_free(w);
    prm.replace = 1;
    CHECK_OK(pa_artifact_writer_create(&w, old, &prm));
    CHECK_OK(pa_artifact_writer_append(w, ids, 2, parts, 2, codes, sizeof codes));
    CHECK_OK(pa_artifact_open(&a, old));
    if (a) {
        pa_artifact_info info = PA_ARTIFACT_INFO_INIT;
        pa_artifact_get_info(a, &info);
        CHECK(info.total_rows == 1);
        pa_artifact_free(a);
    }
    CHECK_OK(pa_artifact_writer_finish(w));
    pa_artifact_writer_free(w);
    CHECK_OK(pa_artifact_open(&a, old));
    if (a) {
        pa_artifact_info info = PA_ARTIFACT_INFO_INIT;
        pa_artifact_get_info(a, &info);
        CHECK(info.total_rows == 2);
        CHECK_OK(pa_artifact_verify(a, NULL));
        pa_artifact_free(a);
    }
}

/* Copies the small artifact to a new dir and edits its manifest with fn. */
static const char *with_manifest_edit(const char *name, void (*fn)(json_t *))
{
    const char *dir = tpath(name);
    write_small(dir);
    char path[700];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    json_t *root = json_load_file(path, 0, NULL);
    fn(root);
    json_dump_file(root, path, JSON_COMPACT);
    json_decref(root);
    return dir;
}

/* partifact's extras in the manifest */
static json_t *X(json_t *r) { return json_object_get(r, "partifact"); }
static json_t *part(json_t *r, size_t p)
{
    return json_array_get(json_object_get(r, "partitions"), p);
}
static json_t *range0(json_t *r, size_t p)
{
    return json_array_get(json_object_get(part(r, p), "ranges"), 0);
}

static void e_version(json_t *r) { json_object_set_new(X(r), "format_version", json_integer(7)); }
static void e_up_version(json_t *r) { json_object_set_new(r, "version", json_integer(2)); }
static void e_total(json_t *r) { json_object_set_new(X(r), "total_rows", json_integer(401)); }
static void e_file_rows(json_t *r)
{
    json_t *f = json_array_get(json_object_get(X(r), "files"), 1);
    json_object_set_new(f, "rows", json_integer(1000));
}
static void e_wrong_file(json_t *r)
{
    json_object_set_new(part(r, 6), "path", json_string("partitions/bucket-00001.lance"));
}
static void e_range_out(json_t *r)
{
    json_object_set_new(range0(r, 2), "offset", json_integer(99));
}
static void e_swap(json_t *r) /* partitions 0 and 4 (same bucket, same size) trade ranges */
{
    json_t *a = part(r, 0), *b = part(r, 4);
    json_t *ra = json_incref(json_object_get(a, "ranges"));
    json_object_set(a, "ranges", json_object_get(b, "ranges"));
    json_object_set_new(b, "ranges", ra);
}
static void e_no_parts(json_t *r) { json_object_del(r, "partitions"); }
static void e_count(json_t *r) { json_object_set_new(r, "num_partitions", json_integer(21)); }
static void e_no_path(json_t *r) { json_object_set_new(part(r, 3), "path", json_null()); }
static void e_bad_path(json_t *r)
{
    json_object_set_new(part(r, 3), "path", json_string("../bucket-00003.lance"));
}
static void e_part_rows(json_t *r)
{
    json_object_set_new(part(r, 3), "num_rows", json_integer(19));
}

static void test_reader_bad_input(void)
{
    pa_artifact *a = NULL;
    CHECK_ERR(pa_artifact_open(&a, tpath("no-such-dir")), PA_ERR_INCOMPLETE, "no manifest.json");
    const char *dir = tpath("malformed");
    write_small(dir);
    char path[700];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\"version\": 1,\n \"num_partitions\": 2,,}", f);
    fclose(f);
    CHECK_ERR(pa_artifact_open(&a, dir), PA_ERR_FORMAT,
              "manifest.json: line 2, column 22 (byte offset 36): expected a string, found ','");

    CHECK_ERR(pa_artifact_open(&a, with_manifest_edit("m-version", e_version)), PA_ERR_UNSUPPORTED,
              "\"partifact\".\"format_version\" is 7; partifact reads version 3");
    CHECK_ERR(pa_artifact_open(&a, with_manifest_edit("m-up-version", e_up_version)),
              PA_ERR_UNSUPPORTED,
              "partition artifact manifest version 2; partifact reads version 1");
    CHECK_ERR(pa_artifact_open(&a, with_manifest_edit("m-count", e_count)), PA_ERR_FORMAT,
              "20 partitions listed, num_partitions is 21");
    CHECK_ERR(pa_artifact_open(&a, with_manifest_edit("m-no-path", e_no_path)), PA_ERR_FORMAT,
              "partition 3 has 20 rows but no path");
    CHECK_ERR(pa_artifact_open(&a, with_manifest_edit("m-bad-path", e_bad_path)), PA_ERR_FORMAT,
              "partition 3 has path \"../bucket-00003.lance\", expected "
              "partitions/bucket-NNNNN.lance");
    CHECK_ERR(pa_artifact_open(&a, with_manifest_edit("m-part-rows", e_part_rows)), PA_ERR_FORMAT,
              "partition 3 says 19 rows but its ranges hold 20");
    CHECK_ERR(pa_artifact_open(&a, with_manifest_edit("m-total", e_total)), PA_ERR_FORMAT,
              "total_rows is 401 but the partitions hold 400");
    CHECK_ERR(pa_artifact_open(&a, with_manifest_edit("m-filerows", e_file_rows)), PA_ERR_FORMAT,
              "has 1000 rows but its partitions' ranges cover 100");
    CHECK_ERR(pa_artifact_open(&a, with_manifest_edit("m-wrongfile", e_wrong_file)), PA_ERR_FORMAT,
              "partition 6 is recorded in bucket 1, but partition 6 belongs in bucket 2");
    CHECK_ERR(
        pa_artifact_open(&a, with_manifest_edit("m-range", e_range_out)), PA_ERR_FORMAT,
        "partition 2 range 0 [99, 119) lies outside partitions/bucket-00002.lance's 100 rows");
    CHECK_ERR(pa_artifact_open(&a, with_manifest_edit("m-noparts", e_no_parts)), PA_ERR_FORMAT,
              "the manifest has no \"partitions\"");

    /* the manifest passes its own checks, but two partitions trade their ranges: the checksum
     * of each range is bound to its partition, so every read refuses them, not only verify */
    CHECK_OK(pa_artifact_open(&a, with_manifest_edit("m-swap", e_swap)));
    if (a) {
        CHECK_ERR(pa_artifact_verify(a, NULL), PA_ERR_FORMAT,
                  "partitions/bucket-00000.lance: partition 4 range 0 (rows [0, 20)): checksum ");
        CHECK(strstr(pa_last_error(), "(the rows were changed or damaged, or belong to another "
                                      "partition)") != NULL);
        uint64_t ids[40];
        uint8_t codes[40 * M];
        CHECK_ERR(pa_artifact_read_partition(a, 0, ids, codes), PA_ERR_FORMAT,
                  "partitions/bucket-00000.lance: partition 0 range 0 (rows [20, 40)): checksum ");
        pa_artifact_scan *s = NULL;
        CHECK_OK(pa_artifact_scan_create(&s, a, 1 << 20, 2));
        const uint64_t *si;
        const uint8_t *sc;
        uint32_t sp;
        uint64_t sn;
        if (s)
            CHECK_ERR(pa_artifact_scan_next(s, &sp, &si, &sc, &sn), PA_ERR_FORMAT,
                      "partition 0 range 0 (rows [20, 40)): checksum ");
        pa_artifact_scan_free(s);
        pa_artifact_free(a);
    }

    /* missing and truncated bucket files */
    dir = tpath("missing-bucket");
    write_small(dir);
    snprintf(path, sizeof path, "%s/partitions/bucket-00003.lance", dir);
    unlink(path);
    CHECK_ERR(pa_artifact_open(&a, dir), PA_ERR_FORMAT,
              "bucket-00003.lance: bucket file listed in the manifest is missing");
    dir = tpath("truncated-bucket");
    write_small(dir);
    snprintf(path, sizeof path, "%s/partitions/bucket-00001.lance", dir);
    CHECK(truncate(path, 100) == 0);
    CHECK_ERR(pa_artifact_open(&a, dir), PA_ERR_FORMAT, "file has 100 bytes, the manifest says");

    /* a flipped byte inside a page: open succeeds (sizes match), verify's checksum fails */
    dir = tpath("flipped");
    write_small(dir);
    snprintf(path, sizeof path, "%s/partitions/bucket-00002.lance", dir);
    FILE *bf = fopen(path, "r+b");
    fseek(bf, 70, SEEK_SET);
    int ch = fgetc(bf);
    fseek(bf, 70, SEEK_SET);
    fputc(ch ^ 0x40, bf);
    fclose(bf);
    CHECK_OK(pa_artifact_open(&a, dir));
    if (a) {
        CHECK_ERR(pa_artifact_verify(a, NULL), PA_ERR_FORMAT, "XXH64 is");
        /* and reading the range that holds the byte fails on the range's checksum */
        uint64_t ids[40];
        uint8_t codes[40 * M];
        CHECK_ERR(pa_artifact_read_partition(a, 2, ids, codes), PA_ERR_FORMAT,
                  "partitions/bucket-00002.lance: partition 2 range 0 (rows [0, 20)): checksum ");
        CHECK(strstr(pa_last_error(), "(the rows were changed or damaged") != NULL);
        pa_artifact_free(a);
    }
}

static void e_algo(json_t *r) { json_object_set_new(X(r), "range_checksum", json_string("crc32")); }
static void e_no_algo(json_t *r) { json_object_del(X(r), "range_checksum"); }
static void e_no_sum(json_t *r) /* one range loses its checksum */
{
    json_array_remove(json_object_get(X(r), "range_xxh3"), 5);
}
static void e_overlap(json_t *r) /* partition 4's range moved one row into partition 0's */
{
    json_object_set_new(range0(r, 4), "offset", json_integer(19));
}
static void e_no_offset(json_t *r) { json_object_del(range0(r, 4), "offset"); }

static void e_unknown(json_t *r) /* unknown members anywhere are skipped, whatever they hold */
{
    json_t *x = json_loads("{\"a\":[1,-2.5e3,true,false,null,\"q\\\"\\u0041\\n\",{\"b\":[]}],"
                           "\"c\":{}}",
                           0, NULL);
    json_object_set_new(r, "total_loss", json_real(12.5));
    json_object_set_new(r, "extra", x);
    json_object_set_new(json_array_get(json_object_get(X(r), "files"), 0), "note",
                        json_string("é"));
    json_object_set_new(X(r), "later", json_string("x"));
    json_object_set_new(range0(r, 3), "note", json_integer(1));
}
static void e_deep(json_t *r)
{
    json_t *x = json_array();
    for (int i = 0; i < 70; i++) {
        json_t *y = json_array();
        json_array_append_new(y, x);
        x = y;
    }
    json_object_set_new(r, "deep", x);
}

static void e_late_extras(json_t *r) /* the extras after the partitions: order is free */
{
    json_t *x = json_incref(X(r));
    json_object_del(r, "partifact");
    json_object_set_new(r, "partifact", x);
}
static void e_more_ranges(json_t *r)
{
    json_object_set_new(X(r), "num_ranges",
                        json_integer(json_integer_value(json_object_get(X(r), "num_ranges")) - 1));
}

/* What every consumer now checks at open, and as it reads (issue 10, item 1). */
static void test_reader_checks(void)
{
    pa_artifact *a = NULL;
    /* the streaming reader: unknown members skipped, nesting bounded */
    CHECK_OK(pa_artifact_open(&a, with_manifest_edit("c-unknown", e_unknown)));
    if (a) {
        CHECK_OK(pa_artifact_verify(a, NULL));
        pa_artifact_free(a);
    }
    CHECK_ERR(pa_artifact_open(&a, with_manifest_edit("c-deep", e_deep)), PA_ERR_FORMAT,
              "nested more than 64 deep");
    CHECK_OK(pa_artifact_open(&a, with_manifest_edit("c-late", e_late_extras)));
    if (a) {
        CHECK_OK(pa_artifact_verify(a, NULL));
        pa_artifact_free(a);
    }
    CHECK_ERR(pa_artifact_open(&a, with_manifest_edit("c-more", e_more_ranges)), PA_ERR_FORMAT,
              "\"partifact\".\"num_ranges\" is 19 but the partitions list 20 ranges");
    CHECK_ERR(pa_artifact_open(&a, with_manifest_edit("c-no-offset", e_no_offset)), PA_ERR_FORMAT,
              "partitions[4].ranges[0] needs \"offset\" and \"num_rows\"");
    /* the tables are refused before they are allocated when they exceed a budget, and what
     * they take is the one formula */
    const char *bdir = tpath("c-budget");
    write_small(bdir);
    uint64_t need = pa_manifest_bytes(20, 20, 4), got = 0;
    CHECK_ERR(pa_artifact_open_budget(&a, bdir, need - 1, &got), PA_ERR_BUDGET,
              "its manifest's 20 ranges in 20 partitions need ");
    CHECK_OK(pa_artifact_open_budget(&a, bdir, need, &got));
    CHECK(got == need);
    pa_artifact_free(a);
    a = NULL;
    CHECK_ERR(pa_artifact_open(&a, with_manifest_edit("c-algo", e_algo)), PA_ERR_UNSUPPORTED,
              "range_checksum \"crc32\" is not one partifact computes (\"xxh3_64\")");
    CHECK_ERR(pa_artifact_open(&a, with_manifest_edit("c-no-algo", e_no_algo)), PA_ERR_FORMAT,
              "\"partifact\" has no \"range_checksum\" (every range must carry a checksum)");
    CHECK_ERR(pa_artifact_open(&a, with_manifest_edit("c-no-sum", e_no_sum)), PA_ERR_FORMAT,
              "\"partifact\".\"range_xxh3\" lists 19 checksums for 20 ranges");
    CHECK_ERR(pa_artifact_open(&a, with_manifest_edit("c-overlap", e_overlap)), PA_ERR_FORMAT,
              "partitions/bucket-00000.lance: rows [19, 20) are in two ranges (partition 4's "
              "range starts at 19)");

    /* a bucket file of another artifact of the same shape (same sizes, other codes) */
    const char *other = tpath("c-other"), *dir = tpath("c-copied");
    code_xor = 1;
    write_small(other);
    code_xor = 0;
    write_small(dir);
    char from[700], to[700], cmd[1500];
    snprintf(from, sizeof from, "%s/partitions/bucket-00001.lance", other);
    snprintf(to, sizeof to, "%s/partitions/bucket-00001.lance", dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
    CHECK(system(cmd) == 0);
    struct stat s1, s2;
    CHECK(stat(from, &s1) == 0 && stat(to, &s2) == 0 && s1.st_size == s2.st_size);
    CHECK_ERR(pa_artifact_open(&a, dir), PA_ERR_FORMAT,
              "bucket-00001.lance: the file belongs "
              "to artifact ");
    CHECK(strstr(pa_last_error(), "a bucket file of another artifact") != NULL);

    /* the checksum covers exactly the decoded columns, in the documented way */
    uint64_t ids[3] = {1, 2, 3};
    uint32_t parts[3] = {7, 7, 7};
    uint8_t codes[3 * 2] = {1, 2, 3, 4, 5, 6};
    uint64_t h[3] = {XXH3_64bits(ids, 24), XXH3_64bits(parts, 12), XXH3_64bits(codes, 6)};
    CHECK(pa_range_checksum(ids, parts, codes, 3, 2) == XXH3_64bits(h, sizeof h));
    /* the upstream layout's: row ids, codes and the partition's id */
    uint64_t h2[3] = {XXH3_64bits(ids, 24), XXH3_64bits(codes, 6), 7};
    CHECK(pa_bucket_range_checksum(ids, codes, 3, 2, 7) == XXH3_64bits(h2, sizeof h2));
}

int main(int argc, char **argv)
{
    TEST_ARGS(argc, argv);
    if (!test_tmpdir_init("artifact"))
        return 1;
    RUN(test_round_trips());
    RUN(test_writer_bad_input());
    RUN(test_abort());
    RUN(test_threads_same_bytes());
    RUN(test_reader_bad_input());
    RUN(test_reader_checks());
    TEST_DONE();
}
