/* The struct-size mechanism of the versioned options and stats structs: a caller compiled
 * against an older, shorter struct (here: a copy of the struct without its last field, passed
 * with its smaller struct_size) gets the defaults for the fields it lacks, and the library
 * never reads or writes past the struct_size it was given (guard bytes after the struct). */
#include "common/common.h"
#include "test.h"

#include <stddef.h>
#include <unistd.h>

/* pa_vec_input_options as a header without its last field (version) declared it. */
typedef struct old_vec_input_options {
    size_t struct_size;
    const char *column;
    int skip_invalid;
} old_vec_input_options;

/* pa_artifact_write_stats without its last field (buffer_bytes). */
typedef struct old_artifact_write_stats {
    size_t struct_size;
    uint64_t rows, flushes, ranges, bytes_written;
} old_artifact_write_stats;

/* pa_artifact_info without its last field (num_files). */
typedef struct old_artifact_info {
    size_t struct_size;
    uint32_t num_partitions, num_buckets, code_bytes, num_bits, dimension;
    pa_metric metric;
    const char *model;
    uint64_t total_rows, total_bytes, num_ranges;
} old_artifact_info;

#define GUARD 0xA5

/* A buffer holding an old struct followed by guard bytes (aligned as any struct). */
typedef union guarded {
    max_align_t align;
    unsigned char bytes[512];
} guarded;

static void guard_fill(guarded *g) { memset(g->bytes, GUARD, sizeof g->bytes); }

static bool guard_intact(const guarded *g, size_t from)
{
    for (size_t i = from; i < sizeof g->bytes; i++)
        if (g->bytes[i] != GUARD)
            return false;
    return true;
}

/* A dataset of 100 rows of 4-dimensional vectors (version 1). */
static void write_dataset(const char *path)
{
    static float v[400];
    for (int i = 0; i < 400; i++)
        v[i] = (float)i;
    const pa_field f = {"vec", PA_TYPE_FSL_FLOAT32, 4};
    pa_dataset_writer *w = NULL;
    CHECK_OK(pa_dataset_writer_create(&w, path, &f, 1, NULL));
    const void *cols[] = {v};
    if (w) {
        CHECK_OK(pa_dataset_writer_append(w, cols, 100));
        CHECK_OK(pa_dataset_writer_commit(w));
    }
    pa_dataset_writer_free(w);
}

static pa_status write_u32(const char *path, const void *opts)
{
    static uint32_t v[4096];
    for (uint32_t i = 0; i < 4096; i++)
        v[i] = i % 17;
    const pa_field f = {"v", PA_TYPE_UINT32, 1};
    pa_lance_writer *w = NULL;
    pa_status st = pa_lance_writer_create(&w, path, &f, 1, opts);
    const void *cols[] = {v};
    if (st == PA_OK)
        st = pa_lance_writer_append(w, cols, 4096);
    if (st == PA_OK)
        st = pa_lance_writer_close(w);
    pa_lance_writer_free(w);
    return st;
}

/* An older options struct: the missing field takes its default, the bytes after it (guard
 * bytes that, read as the version to open, name one the dataset does not have) are never
 * read. */
static void test_old_options(void)
{
    _Static_assert(sizeof(old_vec_input_options) < sizeof(pa_vec_input_options),
                   "the old struct is shorter");
    _Static_assert(offsetof(pa_vec_input_options, version) >= sizeof(old_vec_input_options),
                   "version lies past the old struct");
    const char *ds = tpath("ds.lance");
    write_dataset(ds);
    /* the current struct with its last field set to a version the dataset lacks: refused */
    pa_vec_input_options now = PA_VEC_INPUT_OPTIONS_INIT;
    pa_vec_input *in = NULL;
    memset(&now.version, GUARD, sizeof now.version);
    CHECK(pa_vec_input_open(&in, ds, &now) == PA_ERR_RANGE);

    /* the old struct, followed by the same guard bytes where version lies now: the default
     * (the latest version) */
    guarded g;
    guard_fill(&g);
    old_vec_input_options old = {sizeof old, "vec", 0};
    memcpy(g.bytes, &old, sizeof old);
    CHECK_OK(pa_vec_input_open(&in, ds, (const pa_vec_input_options *)(const void *)g.bytes));
    CHECK(in && pa_vec_input_num_rows(in) == 100 && pa_vec_input_dim(in) == 4);
    pa_vec_input_free(in);
    in = NULL;
    CHECK(guard_intact(&g, sizeof old));

    /* init for the old size fills only what fits and keeps the guard */
    guard_fill(&g);
    CHECK_OK(pa_vec_input_options_init((pa_vec_input_options *)(void *)g.bytes, sizeof old));
    memcpy(&old, g.bytes, sizeof old);
    CHECK(old.struct_size == sizeof old && old.column == NULL && old.skip_invalid == 0);
    CHECK(guard_intact(&g, sizeof old));

    /* init for the current size equals the INIT macro */
    pa_lance_write_options a, b = PA_LANCE_WRITE_OPTIONS_INIT;
    memset(&a, 0xFF, sizeof a);
    CHECK_OK(pa_lance_write_options_init(&a, sizeof a));
    CHECK(a.struct_size == b.struct_size && a.page_bytes == b.page_bytes && a.layout == b.layout &&
          a.replace == b.replace && a.in_new_dir == b.in_new_dir && a.bitpack == b.bitpack);

    /* a struct_size never set, or too small to hold struct_size itself */
    pa_lance_write_options zero = {0};
    CHECK_ERR(write_u32(tpath("zero.lance"), &zero), PA_ERR_INVALID,
              "pa_lance_write_options: struct_size is 0; set struct_size to "
              "sizeof(pa_lance_write_options)");
    CHECK(access(tpath("zero.lance"), F_OK) != 0);
    CHECK_ERR(pa_lance_write_options_init(&zero, 3), PA_ERR_INVALID,
              "pa_lance_write_options_init: struct_size is 3");
    CHECK_ERR(pa_lance_write_options_init(NULL, sizeof zero), PA_ERR_INVALID, "NULL");

    /* a newer caller's struct: zero trailing bytes are fine, non-zero ones are refused */
    guard_fill(&g);
    CHECK_OK(pa_lance_write_options_init((pa_lance_write_options *)(void *)g.bytes,
                                         sizeof(pa_lance_write_options) + 16));
    CHECK(guard_intact(&g, sizeof(pa_lance_write_options) + 16));
    CHECK_OK(write_u32(tpath("newer.lance"), g.bytes));
    g.bytes[sizeof(pa_lance_write_options) + 3] = 1;
    CHECK_ERR(write_u32(tpath("newer2.lance"), g.bytes), PA_ERR_UNSUPPORTED,
              "set fields it does not know");

    /* NULL options are all defaults */
    CHECK_OK(write_u32(tpath("null.lance"), NULL));
}

/* Older stats and info structs are written only up to their struct_size. */
static void test_old_stats(void)
{
    _Static_assert(sizeof(old_artifact_write_stats) < sizeof(pa_artifact_write_stats), "shorter");
    _Static_assert(sizeof(old_artifact_info) < sizeof(pa_artifact_info), "shorter");
    pa_artifact_params prm = PA_ARTIFACT_PARAMS_INIT;
    prm.num_partitions = 8;
    prm.num_buckets = 2;
    prm.code_bytes = 4;
    prm.dimension = 32;
    pa_artifact_writer *w = NULL;
    const char *dir = tpath("art");
    CHECK_OK(pa_artifact_writer_create(&w, dir, &prm));
    if (!w)
        return;
    uint64_t ids[100];
    uint32_t parts[100];
    uint8_t codes[400] = {0};
    for (int i = 0; i < 100; i++)
        ids[i] = (uint64_t)i, parts[i] = (uint32_t)(i % 8);
    CHECK_OK(pa_artifact_writer_append(w, ids, 100, parts, 100, codes, sizeof codes));

    pa_artifact_write_stats full = PA_ARTIFACT_WRITE_STATS_INIT;
    CHECK_OK(pa_artifact_writer_stats(w, &full));
    CHECK(full.rows == 100 && full.buffer_bytes > 0);

    guarded g;
    guard_fill(&g);
    old_artifact_write_stats old = {sizeof old, 0, 0, 0, 0};
    memcpy(g.bytes, &old, sizeof old);
    CHECK_OK(pa_artifact_writer_stats(w, (pa_artifact_write_stats *)(void *)g.bytes));
    memcpy(&old, g.bytes, sizeof old);
    CHECK(old.struct_size == sizeof old && old.rows == 100);
    CHECK(guard_intact(&g, sizeof old)); /* buffer_bytes was not written */

    pa_artifact_write_stats unset = {0};
    CHECK_ERR(pa_artifact_writer_stats(w, &unset), PA_ERR_INVALID,
              "pa_artifact_write_stats: struct_size is 0");
    CHECK_OK(pa_artifact_writer_finish(w));
    pa_artifact_writer_free(w);

    pa_artifact *a = NULL;
    CHECK_OK(pa_artifact_open(&a, dir));
    if (!a)
        return;
    guard_fill(&g);
    old_artifact_info oi = {.struct_size = sizeof oi};
    memcpy(g.bytes, &oi, sizeof oi);
    CHECK_OK(pa_artifact_get_info(a, (pa_artifact_info *)(void *)g.bytes));
    memcpy(&oi, g.bytes, sizeof oi);
    CHECK(oi.struct_size == sizeof oi && oi.num_partitions == 8 && oi.total_rows == 100 &&
          oi.metric == PA_METRIC_L2);
    CHECK(guard_intact(&g, sizeof oi)); /* num_files was not written */
    pa_artifact_info ai = PA_ARTIFACT_INFO_INIT;
    CHECK_OK(pa_artifact_get_info(a, &ai));
    CHECK(ai.num_files == 2);
    pa_artifact_free(a);
}

int main(int argc, char **argv)
{
    TEST_ARGS(argc, argv);
    if (!test_tmpdir_init("test_structs"))
        return 1;
    RUN(test_old_options());
    RUN(test_old_stats());
    TEST_DONE();
}
