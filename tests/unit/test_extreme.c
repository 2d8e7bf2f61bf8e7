/* Extreme values at the library's entry points that take raw arrays: training rows, rows to
 * assign and encode, ground-truth and search queries. A finite row whose squared norm is above
 * PA_MAX_SQ_NORM (its distances would overflow float) is refused naming the row; one just under
 * the limit is used, and every distance reported for it is finite. */
#include "common/common.h"
#include "partifact.h"
#include "test.h"

#include <math.h>

enum { N = 1000, DIM = 8 };
static float data[N * DIM];

int main(int argc, char **argv)
{
    TEST_ARGS(argc, argv);
    if (!test_tmpdir_init("test_extreme"))
        return 1;
    uint64_t s = 12345;
    for (int i = 0; i < N * DIM; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        data[i] = (float)((s >> 40) % 2001) / 1000.0f - 1.0f + (float)(i / DIM % 4) * 3.0f;
    }
    /* 3e19 squared is 9e38, more than FLT_MAX; 2.2e18 squared is 4.84e36, under the limit */
    const float huge = 3e19f, safe = 2.2e18f, over = 2.4e18f;
    CHECK(huge * huge == INFINITY && (double)safe * safe <= PA_MAX_SQ_NORM &&
          (double)over * over > PA_MAX_SQ_NORM);

    pa_ivfpq_params prm = {.struct_size = sizeof prm,
                           .num_partitions = 4,
                           .num_sub_vectors = 2,
                           .num_bits = 8,
                           .max_iters = 5,
                           .seed = 3};
    pa_ivfpq_model *m = NULL;
    static float bad[N * DIM];
    memcpy(bad, data, sizeof data);
    bad[7 * DIM + 2] = huge;
    CHECK_ERR(pa_ivfpq_train(&m, bad, N, DIM, &prm, NULL), PA_ERR_INVALID,
              "training data: row 7 has squared norm 9e+38, more than 5.32e+36: its distances "
              "would overflow float");
    bad[7 * DIM + 2] = over;
    CHECK_ERR(pa_ivfpq_train(&m, bad, N, DIM, &prm, NULL), PA_ERR_INVALID,
              "training data: row 7 has squared norm 5.76e+36");
    CHECK_OK(pa_ivfpq_train(&m, data, N, DIM, &prm, NULL));

    uint32_t parts[4];
    uint8_t codes[4 * 2];
    float rows[4 * DIM];
    memcpy(rows, data, sizeof rows);
    rows[3 * DIM] = huge;
    CHECK_ERR(pa_ivfpq_assign_encode(m, rows, 4, parts, codes), PA_ERR_INVALID,
              "assign/encode: row 3 has squared norm 9e+38");
    rows[3 * DIM] = safe;
    CHECK_OK(pa_ivfpq_assign_encode(m, rows, 4, parts, codes));

    /* an index over the rows, and queries: query 1 too large, then just under the limit */
    write_fvecs(tpath("base.fvecs"), data, N, DIM);
    pa_vec_input *in = NULL;
    CHECK_OK(pa_vec_input_open(&in, tpath("base.fvecs"), NULL));
    pa_build_options bo = {.struct_size = sizeof bo, .params = &prm};
    CHECK_OK(pa_build(in, tpath("idx"), &bo, NULL));
    pa_index *x = NULL;
    CHECK_OK(pa_index_open(&x, tpath("idx")));
    float q[2 * DIM];
    memcpy(q, data, sizeof q);
    q[DIM + 5] = huge;
    uint64_t ids[2 * 5];
    float dists[2 * 5];
    pa_index_search_options so = {.struct_size = sizeof so, .k = 5, .nprobes = 4};
    if (x)
        CHECK_ERR(pa_index_search(x, q, 2, DIM, &so, ids, dists, NULL), PA_ERR_INVALID,
                  "query 1 has squared norm 9e+38, more than 5.32e+36");
    CHECK_ERR(pa_groundtruth(in, q, 2, DIM, 5, PA_METRIC_L2, ids, dists), PA_ERR_INVALID,
              "query 1 has squared norm 9e+38, more than 5.32e+36");
    q[DIM + 5] = safe;
    if (x)
        CHECK_OK(pa_index_search(x, q, 2, DIM, &so, ids, dists, NULL));
    bool finite = true;
    for (int i = 0; i < 10; i++)
        finite = finite && isfinite(dists[i]) && ids[i] < N;
    CHECK(finite);
    for (int met = PA_METRIC_L2; met <= PA_METRIC_DOT; met++) {
        CHECK_OK(pa_groundtruth(in, q, 2, DIM, 5, (pa_metric)met, ids, dists));
        finite = true;
        for (int i = 0; i < 10; i++)
            finite = finite && isfinite(dists[i]) && ids[i] < N;
        CHECK(finite);
    }
    pa_index_free(x);
    pa_vec_input_free(in);
    pa_ivfpq_model_free(m);
    TEST_DONE();
}
