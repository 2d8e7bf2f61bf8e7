/* The engine-free steps of a distributed build (issue 16) through the library: inputs
 * selecting a file's rows or a table's fragments (row ids kept global), artifacts recording
 * their coverage, several shards finalized into one segment (equal to one artifact of all the
 * rows), overlaps refused, and a search over segments equal to the search of one index. */
#include "partifact.h"
#include "test.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define N 3000
#define D 16
#define FRAG_ROWS 1000

static float data[N * D];


static bool same_index(const char *a, const char *b)
{
    char x[700], y[700];
    snprintf(x, sizeof x, "%s/index.idx", a), snprintf(y, sizeof y, "%s/index.idx", b);
    bool s = test_same_file(x, y);
    snprintf(x, sizeof x, "%s/auxiliary.idx", a), snprintf(y, sizeof y, "%s/auxiliary.idx", b);
    return s && test_same_file(x, y);
}

/* Encodes the input at path (with the selection in io) into artifact out. */
static pa_status encode(const char *path, const pa_vec_input_options *io, const char *out)
{
    pa_ivfpq_model *m = NULL;
    pa_vec_input *in = NULL;
    pa_status st = pa_ivfpq_model_load(&m, tpath("model.lance"));
    if (st == PA_OK)
        st = pa_vec_input_open(&in, path, io);
    pa_encode_options eo = PA_ENCODE_OPTIONS_INIT;
    eo.model_path = tpath("model.lance");
    if (st == PA_OK)
        st = pa_encode_input(in, m, NULL, out, &eo, NULL);
    pa_vec_input_free(in);
    pa_ivfpq_model_free(m);
    return st;
}

static void test_row_range(void)
{
    pa_vec_input_options io = PA_VEC_INPUT_OPTIONS_INIT;
    io.row_begin = 1000, io.row_end = 2500;
    pa_vec_input *in = NULL;
    CHECK_OK(pa_vec_input_open(&in, tpath("base.fvecs"), &io));
    if (!in)
        return;
    CHECK(pa_vec_input_num_rows(in) == 1500);
    float x[2 * D];
    uint64_t ids[2];
    size_t n = 0;
    for (int pass = 0; pass < 2; pass++) { /* the same rows after a rewind */
        CHECK_OK(pa_vec_input_next(in, x, ids, 2, &n));
        CHECK(n == 2 && ids[0] == 1000 && ids[1] == 1001 && !memcmp(x, data + 1000 * D, 8 * D));
        CHECK_OK(pa_vec_input_rewind(in));
    }
    uint64_t total = 0, last = 0;
    while (pa_vec_input_next(in, x, ids, 2, &n) == PA_OK)
        total += n, last = ids[n - 1];
    CHECK(total == 1500 && last == 2499);
    pa_vec_input_free(in);
    io.row_begin = 0, io.row_end = N + 1;
    CHECK_ERR(pa_vec_input_open(&in, tpath("base.fvecs"), &io), PA_ERR_RANGE,
              "the row range [0, 3001) ends past the file's 3000 rows");
    io.row_begin = 5, io.row_end = 5;
    CHECK_ERR(pa_vec_input_open(&in, tpath("base.fvecs"), &io), PA_ERR_INVALID,
              "the row range [5, 5) is empty");
    uint64_t frag = 0;
    io.row_begin = io.row_end = 0, io.fragments = &frag, io.num_fragments = 1;
    CHECK_ERR(pa_vec_input_open(&in, tpath("base.fvecs"), &io), PA_ERR_INVALID,
              "fragments select rows of a Lance table");
}

static void test_fragments(void)
{
    const uint64_t pick[] = {2, 0};
    pa_vec_input_options io = PA_VEC_INPUT_OPTIONS_INIT;
    io.fragments = pick, io.num_fragments = 2;
    pa_vec_input *in = NULL;
    CHECK_OK(pa_vec_input_open(&in, tpath("t.lance"), &io));
    if (!in)
        return;
    CHECK(pa_vec_input_num_rows(in) == 2 * FRAG_ROWS);
    static float x[N * D];
    static uint64_t ids[N];
    size_t n = 0, got = 0;
    while (pa_vec_input_next(in, x + got * D, ids + got, N - got, &n) == PA_OK)
        got += n;
    /* table order, row addresses kept: fragment 0's rows, then fragment 2's */
    CHECK(got == 2 * FRAG_ROWS && ids[0] == 0 && ids[FRAG_ROWS - 1] == FRAG_ROWS - 1 &&
          ids[FRAG_ROWS] == (2ull << 32) && ids[got - 1] == ((2ull << 32) | (FRAG_ROWS - 1)));
    CHECK(!memcmp(x + FRAG_ROWS * D, data + 2 * FRAG_ROWS * D, sizeof(float) * FRAG_ROWS * D));
    pa_vec_input_free(in);
    const uint64_t bad[] = {1, 7}, twice[] = {1, 1};
    io.fragments = bad;
    CHECK_ERR(pa_vec_input_open(&in, tpath("t.lance"), &io), PA_ERR_INVALID, "has no fragment 7");
    io.fragments = twice;
    CHECK_ERR(pa_vec_input_open(&in, tpath("t.lance"), &io), PA_ERR_INVALID,
              "fragment 1 is selected twice");
    io.fragments = NULL, io.num_fragments = 0, io.row_end = 10;
    CHECK_ERR(pa_vec_input_open(&in, tpath("t.lance"), &io), PA_ERR_INVALID,
              "a Lance table is split by fragments, not by a row range");
}

static void test_finalize_and_search(void)
{
    const uint64_t f0[] = {0}, f12[] = {1, 2};
    pa_vec_input_options io = PA_VEC_INPUT_OPTIONS_INIT;
    io.fragments = f0, io.num_fragments = 1;
    CHECK_OK(encode(tpath("t.lance"), &io, tpath("a0")));
    io.fragments = f12, io.num_fragments = 2;
    CHECK_OK(encode(tpath("t.lance"), &io, tpath("a12")));
    CHECK_OK(encode(tpath("t.lance"), NULL, tpath("all")));
    pa_artifact *a = NULL;
    CHECK_OK(pa_artifact_open(&a, tpath("a12")));
    const char *cov = pa_artifact_coverage(a);
    CHECK(cov && strstr(cov, "\"fragments\":[{\"id\":1,") && strstr(cov, "{\"id\":2,") &&
          !strstr(cov, "\"id\":0,"));
    pa_artifact_free(a);
    /* the shards into one segment: the index of one artifact of all the rows, byte for byte */
    const char *shards[] = {tpath("a12"), tpath("a0")};
    CHECK_OK(pa_index_finalize_artifacts(shards, 2, NULL, tpath("seg"), NULL, NULL));
    CHECK_OK(pa_index_finalize_artifact(tpath("all"), NULL, tpath("one"), NULL, NULL));
    CHECK(same_index(tpath("seg"), tpath("one")));
    const char *overlap[] = {tpath("a0"), tpath("all")};
    CHECK_ERR(pa_index_finalize_artifacts(overlap, 2, NULL, tpath("bad"), NULL, NULL),
              PA_ERR_INVALID, "both cover fragment 0 of");
    /* a segment per shard, searched together: the one index's answers */
    CHECK_OK(pa_index_finalize_artifact(tpath("a0"), NULL, tpath("s0"), NULL, NULL));
    CHECK_OK(pa_index_finalize_artifact(tpath("a12"), NULL, tpath("s12"), NULL, NULL));
    pa_index *segs[2] = {NULL, NULL}, *one = NULL;
    CHECK_OK(pa_index_open(&segs[0], tpath("s0")));
    CHECK_OK(pa_index_open(&segs[1], tpath("s12")));
    CHECK_OK(pa_index_open(&one, tpath("one")));
    enum { NQ = 50, K = 10 };
    static uint64_t ia[NQ * K], ib[NQ * K];
    static float da[NQ * K], db[NQ * K];
    pa_index_search_options so = PA_INDEX_SEARCH_OPTIONS_INIT;
    so.k = K, so.nprobes = 3;
    if (segs[0] && segs[1] && one) {
        CHECK_OK(pa_index_search_segments(segs, 2, data + 7 * D, NQ, D, &so, ia, da, NULL));
        CHECK_OK(pa_index_search(one, data + 7 * D, NQ, D, &so, ib, db, NULL));
        CHECK(!memcmp(ia, ib, sizeof ia) && !memcmp(da, db, sizeof da));
        so.k = N + 1;
        CHECK_ERR(pa_index_search_segments(segs, 2, data, 1, D, &so, ia, da, NULL), PA_ERR_INVALID,
                  "k = 3001 is more than the 3000 rows of the 2 segments");
    }
    pa_index_free(segs[0]), pa_index_free(segs[1]), pa_index_free(one);
}

int main(int argc, char **argv)
{
    TEST_ARGS(argc, argv);
    if (!test_tmpdir_init("test_shards"))
        return 1;
    uint64_t s = 12345;
    for (int i = 0; i < N; i++) /* 20 clusters */
        for (int d = 0; d < D; d++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            data[i * D + d] = (float)((i % 20) * 3 + d % 4) + (float)(s >> 40) / (float)(1 << 24);
        }
    write_fvecs(tpath("base.fvecs"), data, N, D);
    pa_field fields[] = {{"vector", PA_TYPE_FSL_FLOAT32, D}};
    pa_dataset_write_options wo = PA_DATASET_WRITE_OPTIONS_INIT;
    wo.max_rows_per_fragment = FRAG_ROWS;
    pa_dataset_writer *w = NULL;
    const void *cols[] = {data};
    if (pa_dataset_writer_create(&w, tpath("t.lance"), fields, 1, &wo) != PA_OK ||
        pa_dataset_writer_append(w, cols, N) != PA_OK || pa_dataset_writer_commit(w) != PA_OK) {
        fprintf(stderr, "cannot write the table: %s\n", pa_last_error());
        return 1;
    }
    pa_dataset_writer_free(w);
    pa_ivfpq_params prm = PA_IVFPQ_PARAMS_INIT;
    prm.num_partitions = 8, prm.num_sub_vectors = 4, prm.seed = 3;
    pa_ivfpq_model *m = NULL;
    if (pa_ivfpq_train(&m, data, N, D, &prm, NULL) != PA_OK ||
        pa_ivfpq_model_save(m, tpath("model.lance")) != PA_OK) {
        fprintf(stderr, "cannot train: %s\n", pa_last_error());
        return 1;
    }
    pa_ivfpq_model_free(m);
    RUN(test_row_range());
    RUN(test_fragments());
    RUN(test_finalize_and_search());
    TEST_DONE();
}
