/* Backends loaded at run time: the test plugin libpartifact-backend-ref.so is found on a search
 * path, checked against the ABI, and gives the same partitions as the built-in CPU backend on
 * the same model; a missing, mismatched or foreign library is a clear error.
 * Usage: test_backend_load PLUGIN_DIR */
#include "partifact.h"
#include "partifact_backend.h"
#include "test.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    const char *dir = argv[1];
    pa_backend *ref = NULL, *cpu = NULL, *b = NULL;
    CHECK_OK(pa_backend_open(&ref, "ref", dir, NULL));
    CHECK_OK(pa_backend_open(&cpu, "cpu", NULL, NULL));
    if (!ref || !cpu)
        TEST_DONE();
    CHECK(!strcmp(pa_backend_name(ref), "ref") &&
          strstr(pa_backend_path(ref), "libpartifact-backend-ref.so"));
    CHECK(!strcmp(pa_backend_path(cpu), "built-in"));

    /* clustered data: 30 centres in 16 dimensions */
    enum { N = 3000, D = 16, P = 30, M = 4 };
    static float x[N * D], cent[P * D], cb[M * 256 * (D / M)];
    uint64_t s = 99;
    for (int i = 0; i < P * D; i++) {
        s = s * 6364136223846793005ull + 1;
        cent[i] = (float)((s >> 40) % 2000) / 20.0f;
    }
    for (int i = 0; i < N; i++)
        for (int d = 0; d < D; d++) {
            s = s * 6364136223846793005ull + 1;
            x[i * D + d] = cent[(i % P) * D + d] + (float)((s >> 40) % 1000) / 1000.0f;
        }
    /* the plugin trains a model through the ABI; both backends encode with it */
    pa_backend_train_params tp = {.struct_size = sizeof tp,
                                  .dim = D,
                                  .num_partitions = P,
                                  .num_sub_vectors = M,
                                  .num_bits = 8,
                                  .metric = PA_METRIC_L2,
                                  .max_iters = 10,
                                  .pq_max_iters = 25,
                                  .seed = 1};
    static float sample[N * D];
    memcpy(sample, x, sizeof x); /* train may overwrite its sample */
    CHECK_OK(pa_backend_train(ref, &tp, sample, N, cent, cb, NULL));
    pa_backend_model model = {.dim = D,
                              .num_partitions = P,
                              .num_sub_vectors = M,
                              .num_bits = 8,
                              .metric = PA_METRIC_L2,
                              .centroids = cent,
                              .codebook = cb};
    {
        /* the cpu backend checks its training rows unless the host says it did (flags, where
         * the params' struct_size has them): a row whose distances would overflow is refused,
         * unflagged or with an old struct; flagged, it is outside the contract and not checked
         * again (training on it is the backend's, finite rows give the same model) */
        static float smp[N * D], c2[P * D], b2[M * 256 * (D / M)], c3[P * D], b3[M * 256 * (D / M)];
        pa_backend_train_params cp = tp;
        memcpy(smp, x, sizeof x);
        smp[2 * D + 5] = 3e18f;
        CHECK_ERR(pa_backend_train(cpu, &cp, smp, N, c2, b2, NULL), PA_ERR_INVALID,
                  "backend cpu: train: training data: row 2 has squared norm 9e+36");
        cp.flags = PA_BACKEND_ROWS_CHECKED;
        cp.struct_size = offsetof(pa_backend_train_params, flags);
        CHECK_ERR(pa_backend_train(cpu, &cp, smp, N, c2, b2, NULL), PA_ERR_INVALID,
                  "training data: row 2 has squared norm");
        cp.struct_size = sizeof cp;
        pa_status fst = pa_backend_train(cpu, &cp, smp, N, c2, b2, NULL);
        CHECK(fst == PA_OK || !strstr(pa_last_error(), "training data"));
        memcpy(smp, x, sizeof x);
        CHECK_OK(pa_backend_train(cpu, &cp, smp, N, c2, b2, NULL));
        memcpy(smp, x, sizeof x);
        cp.flags = 0;
        CHECK_OK(pa_backend_train(cpu, &cp, smp, N, c3, b3, NULL));
        CHECK(!memcmp(c2, c3, sizeof c2) && !memcmp(b2, b3, sizeof b2));
    }
    static uint32_t p1[N], p2[N];
    static uint8_t c1[N * M], c2[N * M];
    CHECK_ERR(pa_backend_assign_encode(ref, x, N, p1, c1), PA_ERR_STATE,
              "assign/encode before a model was bound");
    CHECK_OK(pa_backend_bind(ref, &model));
    CHECK_ERR(pa_backend_bind(ref, &model), PA_ERR_STATE, "a model is bound already");
    CHECK_OK(pa_backend_bind(cpu, &model));
    CHECK_OK(pa_backend_assign_encode(ref, x, N, p1, c1));
    CHECK_OK(pa_backend_assign_encode(cpu, x, N, p2, c2));
    {
        /* with flags: the same answers; the ref plugin's table ends before assign_encode_flags
         * (struct_size PA_BACKEND_V2_MIN_SIZE), so the host calls its assign_encode */
        static uint32_t p3[N];
        static uint8_t c3[N * M];
        CHECK_OK(pa_backend_assign_encode_flags(cpu, x, N, PA_BACKEND_ROWS_CHECKED, p3, c3));
        CHECK(!memcmp(p2, p3, sizeof p3) && !memcmp(c2, c3, sizeof c3));
        CHECK_OK(pa_backend_assign_encode_flags(ref, x, N, PA_BACKEND_ROWS_CHECKED, p3, c3));
        CHECK(!memcmp(p1, p3, sizeof p3) && !memcmp(c1, c3, sizeof c3));
        /* unflagged rows are checked by the cpu backend: a NaN is refused, naming its row */
        static float bad[4 * D];
        memcpy(bad, x, sizeof bad);
        bad[2 * D + 5] = NAN;
        CHECK_ERR(pa_backend_assign_encode(cpu, bad, 4, p3, c3), PA_ERR_INVALID,
                  "assign/encode: row 2 has NaN at dimension 5");
        CHECK_ERR(pa_backend_assign_encode_flags(cpu, bad, 4, 0, p3, c3), PA_ERR_INVALID,
                  "assign/encode: row 2 has NaN");
        /* rows flagged checked that are not (NaN, +-inf, too large: outside the contract) may
         * get wrong codes but stay in bounds: partitions in [0, P) (the encode reads its
         * centroid at that index; an ASan build checks the reads too) */
        static float worse[8 * D];
        const float vals[] = {NAN, INFINITY, -INFINITY, 3e38f};
        for (int i = 0; i < 8; i++)
            for (int d = 0; d < D; d++)
                worse[i * D + d] = i < 4 || d == 3 ? vals[i % 4] : 1.0f;
        memset(p3, 0xff, sizeof p3);
        CHECK_OK(pa_backend_assign_encode_flags(cpu, worse, 8, PA_BACKEND_ROWS_CHECKED, p3, c3));
        for (int i = 0; i < 8; i++)
            CHECK(p3[i] < P);
    }
    pa_backend_unbind(ref);
    pa_backend_unbind(cpu);
    /* what each says it holds: the ref's copy of the model plus its residual buffer; the cpu's
     * prepared copy plus its encode block (and dot-product block without AVX2 + FMA), and with
     * AVX2 + FMA the centroids each assignment call packs (tiles of 64 and their norms,
     * src/ivfpq/assign.c), counted with the prepared copy */
    CHECK(pa_backend_work_bytes(ref, &model, 100) - pa_backend_work_bytes(ref, &model, 0) ==
          100 * D * sizeof(float));
    CHECK(pa_backend_work_bytes(ref, &model, 0) >= sizeof(float) * (P * D + 256 * D));
    __builtin_cpu_init();
    const bool fused = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    /* (with AMX or the AVX512-BF16 pass, their packed centroids and row blocks instead of the
     * fused kernel's tiles) */
    if (strcmp(pa_amx_state(), "used") == 0 || strcmp(pa_bf16_state(), "used") == 0)
        CHECK(pa_backend_work_bytes(cpu, &model, 0) > sizeof(float) * (P + 256 * D + M * 256));
    else
        CHECK(pa_backend_work_bytes(cpu, &model, 0) ==
              sizeof(float) * (P + 256 * D + M * 256 + (fused ? (P + 63) / 64 * 64 * (D + 1) : 0)));
    /* the same partition for every row, except where two centroids are equally near (the
     * naive training of the plugin picks near-duplicate centroids, so near-ties happen) */
    int same_p = 0, not_tie = 0;
    for (int i = 0; i < N; i++) {
        same_p += p1[i] == p2[i];
        if (p1[i] != p2[i]) {
            double da = 0, db = 0;
            for (int d = 0; d < D; d++) {
                da += (x[i * D + d] - cent[p1[i] * D + d]) *
                      (double)(x[i * D + d] - cent[p1[i] * D + d]);
                db += (x[i * D + d] - cent[p2[i] * D + d]) *
                      (double)(x[i * D + d] - cent[p2[i] * D + d]);
            }
            /* the cpu backend ranks by ||c||^2 - 2 x.c in float (as sgemm-based search
             * does), whose rounding scales with ||x||^2 + ||c||^2, not with the distance */
            double xx = 0, cc = 0;
            for (int d = 0; d < D; d++) {
                xx += (double)x[i * D + d] * x[i * D + d];
                cc += (double)cent[p1[i] * D + d] * cent[p1[i] * D + d];
            }
            not_tie += fabs(da - db) > 1e-5 * (xx + cc);
        }
    }
    int same_c = 0;
    for (int i = 0; i < N; i++)
        if (p1[i] == p2[i])
            for (int m = 0; m < M; m++)
                same_c += c1[i * M + m] == c2[i * M + m];
    printf("ref vs cpu: %d/%d partitions equal (the rest ties), %d codes equal in those rows\n",
           same_p, N, same_c);
    CHECK(not_tie == 0);
    CHECK(same_p >= N * 99 / 100);
    CHECK(same_c >= same_p * M * 99 / 100);

    /* the CPU backend trains through the ABI too: the same model as pa_ivfpq_train */
    static float cent2[P * D], cb2[M * 256 * (D / M)];
    pa_backend_train_stats ts = {.struct_size = sizeof ts};
    memcpy(sample, x, sizeof x);
    CHECK_OK(pa_backend_train(cpu, &tp, sample, N, cent2, cb2, &ts));
    CHECK(ts.ivf_iters > 0 && ts.ivf_iters <= 10 && ts.pq_iters > 0);
    pa_ivfpq_params ip = {.struct_size = sizeof ip,
                          .num_partitions = P,
                          .num_sub_vectors = M,
                          .num_bits = 8,
                          .metric = PA_METRIC_L2,
                          .max_iters = 10,
                          .pq_max_iters = 25,
                          .seed = 1};
    pa_ivfpq_model *im = NULL;
    CHECK_OK(pa_ivfpq_train(&im, x, N, D, &ip, NULL));
    if (im) {
        pa_backend_model ia;
        pa_ivfpq_model_arrays(im, &ia);
        CHECK(!memcmp(ia.centroids, cent2, sizeof cent2) && !memcmp(ia.codebook, cb2, sizeof cb2));
        pa_ivfpq_model_free(im);
    }
    /* a stats struct of an older, smaller size is written only up to its size */
    struct {
        pa_backend_train_stats s;
        unsigned char guard[8];
    } small;
    memset(&small, 0xAB, sizeof small);
    small.s.struct_size = 8; /* struct_size and ivf_iters */
    memcpy(sample, x, sizeof x);
    CHECK_OK(pa_backend_train(cpu, &tp, sample, N, cent2, cb2, &small.s));
    CHECK(small.s.ivf_iters == ts.ivf_iters && small.s.pq_iters == 0xABABABABu);
    /* the ref's model is recognisably its own: centroid c is sample row N*c/P */
    CHECK(!memcmp(cent + 7 * D, x + (N * 7 / P) * D, D * sizeof(float)));

    /* errors */
    CHECK_ERR(pa_backend_open(&b, "missing", dir, NULL), PA_ERR_INVALID,
              "libpartifact-backend-missing.so not found (looked in: ");
    CHECK_ERR(pa_backend_open(&b, "oldabi", dir, NULL), PA_ERR_UNSUPPORTED,
              "backend was built for ABI version 1 (it exports partifact_backend_v1); this "
              "partifact speaks version 2 (partifact_backend_v2)");
    CHECK_ERR(pa_backend_open(&b, "none", dir, NULL), PA_ERR_UNSUPPORTED,
              "not a partifact backend (no symbol partifact_backend_v2)");
    CHECK_ERR(pa_backend_open(&b, "ref", dir, "fail"), PA_ERR_INVALID,
              "create failed: asked to fail by options \"fail\"");
    CHECK_ERR(pa_backend_open(&b, "ref", dir, "trace=/dev/null,colour=blue"), PA_ERR_INVALID,
              "create failed: unknown option \"colour\"");
    CHECK_ERR(pa_backend_open(&b, "../evil", dir, NULL), PA_ERR_INVALID,
              "backend name \"../evil\" must be");
    CHECK_ERR(pa_backend_open(&b, "cpu", NULL, "threads=4"), PA_ERR_INVALID,
              "the cpu backend takes no options");
    setenv("PARTIFACT_BACKEND_PATH", dir, 1); /* found through the environment */
    CHECK_OK(pa_backend_open(&b, "ref", NULL, NULL));
    pa_backend_free(b);
    model.num_sub_vectors = 5;
    CHECK_ERR(pa_backend_bind(cpu, &model), PA_ERR_INVALID,
              "num_sub_vectors 5 does not divide dimension 16");
    pa_backend_free(ref);
    pa_backend_free(cpu);
    TEST_DONE();
}
