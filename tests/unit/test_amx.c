/* The AMX-BF16 nearest-centroid kernel (src/ivfpq/amx.c) gives the fp32 path's answers: the same
 * assignment and the same winning values, bit for bit, as pa_assign_sgemm with AMX off, for
 * l2 and dot over dims 8..784 (not multiples of 32), k 5..4096 (k < 16 and not multiples of
 * 16), n 1..1003 (n < 16, not multiples of 16), data far from the origin, duplicate centroids
 * (ties, more candidates than the kernel keeps), and byte-identical k-means models. On a CPU
 * with AVX512-BF16 but no AMX the same checks run on the VDPBF16PS pass (the hi.hi term, a
 * looser bound: more candidates), plus dims 16..384 and values scaled by 2^40 and 2^-64 (bf16
 * denormals). Skipped (exit 77) on a CPU with neither. */
#include "ivfpq/ivfpq_internal.h"
#include "test.h"

#include <math.h>

static uint64_t rng = 0x5eed;

/* true: AMX tiles; false: the AVX512-BF16 pass (no AMX here) */
static bool use_amx;

/* The approximate kernel under test on (AMX, or the bf16 pass) or every one off (the fp32
 * path). */
static bool fast(bool on)
{
    if (!on)
        return pa_amx_set(false) && pa_bf16_set(false);
    return use_amx ? pa_amx_set(true) : pa_bf16_set(true);
}

/* n rows near ncent random centres (spread `far`, offset `off` in every value, noise 1). */
static float *rows(uint64_t n, uint32_t dim, uint32_t ncent, float far, float off)
{
    float *centre = malloc(sizeof(float) * ncent * dim), *x = malloc(sizeof(float) * n * dim);
    for (uint32_t j = 0; j < ncent * dim; j++)
        centre[j] = pa_t_frand(&rng) * far + off;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t c = (uint32_t)(pa_t_xorshift(&rng) % ncent);
        for (uint32_t d = 0; d < dim; d++)
            x[i * dim + d] = centre[c * dim + d] + pa_t_frand(&rng);
    }
    free(centre);
    return x;
}

static float *norms(const float *c, uint32_t k, uint32_t dim)
{
    float *cn = malloc(sizeof(float) * k);
    for (uint32_t j = 0; j < k; j++) { /* as k-means computes them */
        float s = 0;
        for (uint32_t d = 0; d < dim; d++)
            s += c[(size_t)j * dim + d] * c[(size_t)j * dim + d];
        cn[j] = s;
    }
    return cn;
}

/* AMX and the fp32 path on the same rows and centroids: counts rows whose assignment differs
 * (0 expected) or whose winning value does. The values are the same bits where the fp32 path
 * sums each dot product in dimension order with one fused multiply-add per value, as the fused
 * kernel (AVX2 + FMA) does at every shape and OpenBLAS's blocked SkylakeX sgemm for dim <= 384
 * (exact_values); elsewhere (sgemm's small-matrix kernels, dim > 384 summed in two halves)
 * within the fp32 rounding bound, 2 dim 2^-24 (|cnorm| + 2 ||x|| ||c||). */
static uint64_t compare(const float *x, uint64_t n, uint32_t dim, const float *c, uint32_t k,
                        bool dot, bool exact_values)
{
    float *cn = norms(c, k, dim);
    uint32_t *oa = malloc(4 * (n ? n : 1)), *of = malloc(4 * (n ? n : 1));
    float *va = malloc(4 * (n ? n : 1)), *vf = malloc(4 * (n ? n : 1));
    CHECK(fast(false));
    CHECK_OK(pa_assign_sgemm(x, n, dim, c, k, cn, dot, of, vf));
    CHECK(fast(true));
    CHECK_OK(pa_amx_assign(x, dim, n, dim, c, k, cn, dot, oa, va));
    uint64_t bad = 0, bad_value = 0;
    for (uint64_t i = 0; i < n; i++) {
        bad += oa[i] != of[i];
        const float *ci = c + (size_t)of[i] * dim;
        double tol = 2.0 * dim / 16777216.0 *
                     ((dot ? 0 : fabs(cn[of[i]])) +
                      2 * sqrt(pa_sq_norm(x + i * dim, dim) * pa_sq_norm(ci, dim)));
        bad_value += exact_values ? memcmp(&va[i], &vf[i], 4) != 0 : fabs(va[i] - vf[i]) > tol;
    }
    if (bad || bad_value)
        fprintf(stderr, "dim %u k %u n %llu %s: %llu assignments differ, %llu values\n", dim, k,
                (unsigned long long)n, dot ? "dot" : "l2", (unsigned long long)bad,
                (unsigned long long)bad_value);
    free(cn), free(oa), free(of), free(va), free(vf);
    return bad + bad_value;
}

/* compare for l2 and for dot. */
static uint64_t compare_both(const float *x, uint64_t n, uint32_t dim, const float *c, uint32_t k,
                             bool exact_values)
{
    return compare(x, n, dim, c, k, false, exact_values) +
           compare(x, n, dim, c, k, true, exact_values);
}

/* Centroids: k rows drawn from x, each moved a little (k-means' centroids are means near rows). */
static float *centroids_from(const float *x, uint64_t n, uint32_t dim, uint32_t k)
{
    float *c = malloc(sizeof(float) * k * dim);
    for (uint32_t j = 0; j < k; j++) {
        uint64_t i = pa_t_xorshift(&rng) % n;
        for (uint32_t d = 0; d < dim; d++)
            c[(size_t)j * dim + d] = x[i * dim + d] + 0.3f * pa_t_frand(&rng);
    }
    return c;
}

static void test_shapes(void)
{
    static const uint32_t dims[] = {8, 16, 33, 49, 100, 128, 200, 784};
    static const uint32_t ks[] = {5, 16, 37, 256, 1000, 4096};
    static const uint64_t ns[] = {1, 15, 1003};
    for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++)
        for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++)
            for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++) {
                const uint32_t dim = dims[di], k = ks[ki];
                const uint64_t n = ns[ni];
                if ((uint64_t)dim * k > 128 * 4096)
                    continue; /* keep the test fast */
                const uint64_t pool = PA_MAX(n, (uint64_t)k);
                float *x = rows(pool, dim, PA_MAX(2u, k / 2), 3.0f, 0.0f);
                float *c = centroids_from(x, pool, dim, k);
                const bool exact = pa_kernel_level() >= 1 || (n > 1000 && dim <= 384);
                CHECK(compare_both(x, n, dim, c, k, exact) == 0);
                free(x), free(c);
            }
}

/* n rows around ncent centres (spread far, offset off) against k centroids near them, of which
 * only the first `distinct` are different (the others repeat them): compare_both's count. */
static uint64_t check_case(uint64_t n, uint32_t dim, uint32_t k, uint32_t ncent, float far,
                           float off, uint32_t distinct)
{
    float *x = rows(n, dim, ncent, far, off);
    float *c = centroids_from(x, n, dim, k);
    for (uint32_t j = distinct; j < k; j++)
        memcpy(c + (size_t)j * dim, c + (size_t)(j % distinct) * dim, sizeof(float) * dim);
    const uint64_t bad = compare_both(x, n, dim, c, k, true);
    free(x), free(c);
    return bad;
}

/* Values far from the origin (pixels 0..255, as Fashion-MNIST): the centring keeps the bf16
 * split's error small against the distances. */
static void test_offset(void) { CHECK(check_case(2000, 196, 256, 64, 60.0f, 120.0f, 256) == 0); }

/* Duplicate centroids (12 copies of each of 8): exact ties (the lowest index wins on both
 * paths) and more tied candidates than the kernel keeps (those rows are decided over all
 * centroids). */
static void test_ties(void) { CHECK(check_case(500, 64, 96, 8, 2.0f, 0.0f, 8) == 0); }

/* Dims 16..384 (around the 32-value chunks and the 6-row, 32/64-centroid kernel edges), rows
 * and centroids scaled by powers of two (exact): 2^40 (large values), 2^-64 (products below
 * bf16's normal range, read and written as 0 by both instructions: the bound still holds). */
static void test_dims_scaled(void)
{
    static const uint32_t dims[] = {16, 31, 32, 63, 96, 127, 128, 200, 256, 384};
    static const float scales[] = {1.0f, 0x1p40f, 0x1p-64f};
    for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++)
        for (size_t si = 0; si < sizeof scales / sizeof scales[0]; si++) {
            const uint32_t dim = dims[di], k = di % 2 ? 96 : 224;
            const uint64_t n = 301;
            float *x = rows(n, dim, 40, 3.0f, 0.5f);
            float *c = centroids_from(x, n, dim, k);
            for (uint64_t i = 0; i < n * dim; i++)
                x[i] *= scales[si];
            for (uint64_t i = 0; i < (uint64_t)k * dim; i++)
                c[i] *= scales[si];
            const bool exact = pa_kernel_level() >= 1;
            CHECK(compare_both(x, n, dim, c, k, exact) == 0);
            free(x), free(c);
        }
}

/* The state line: used, and off when forced off (the bf16 pass only). */
static void test_bf16_state(void)
{
    CHECK(fast(true));
    CHECK(!strcmp(pa_bf16_state(), "used"));
    CHECK(pa_amx_wanted(128, 256) && !pa_amx_wanted(8, 256) && !pa_amx_wanted(128, 32));
    CHECK(fast(false));
    CHECK(!strcmp(pa_bf16_state(), "off (PA_BF16=1 turns it on: not faster yet)"));
    CHECK(!pa_amx_wanted(128, 256));
    CHECK(fast(true));
}

/* The coarse k-means on AMX and on the fp32 path: the same centroids byte for byte, the same
 * assignment and iterations. */
static void test_kmeans_same(void)
{
    const uint32_t dim = 48, k = 64;
    const uint64_t n = 6000;
    float *x = rows(n, dim, 40, 4.0f, 1.0f);
    float *ca = malloc(sizeof(float) * k * dim), *cf = malloc(sizeof(float) * k * dim);
    uint32_t *aa = malloc(4 * n), *af = malloc(4 * n);
    pa_kmeans_result ra, rf;
    for (int ip = 0; ip < 2; ip++) {
        CHECK(fast(false));
        CHECK_OK(pa_kmeans(x, n, dim, k, 20, 3, ip, false, cf, af, &rf));
        CHECK(fast(true));
        CHECK_OK(pa_kmeans(x, n, dim, k, 20, 3, ip, false, ca, aa, &ra));
        CHECK(memcmp(ca, cf, sizeof(float) * k * dim) == 0);
        CHECK(memcmp(aa, af, 4 * n) == 0);
        CHECK(ra.iters == rf.iters && ra.empty_repaired == rf.empty_repaired);
    }
    free(x), free(ca), free(cf), free(aa), free(af);
}

/* pa_nearest_small on AMX: the same codes and values, bit for bit, as the SIMD kernels (whose
 * fused multiply-add chain the decision repeats), sub-vectors read at a stride. */
static void test_small(void)
{
    static const uint32_t widths[] = {8, 16, 24, 32, 49, 64, 98};
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
        const uint32_t ds = widths[w], K = 256, stride = ds * 3;
        const uint64_t n = 1500;
        float *x = rows(n, stride, 50, 2.0f, 0.5f);
        float *cb = centroids_from(x, n, ds, K); /* rows' first ds values, moved */
        float *cbt = malloc(sizeof(float) * K * ds), *cbn = norms(cb, K, ds);
        for (uint32_t k = 0; k < K; k++)
            for (uint32_t j = 0; j < ds; j++)
                cbt[(size_t)j * K + k] = -2.0f * cb[(size_t)k * ds + j];
        uint32_t *oa = malloc(4 * n), *of = malloc(4 * n);
        float *va = malloc(4 * n), *vf = malloc(4 * n);
        const float *sub = x + ds; /* the second sub-vector of each row */
        pa_nearest_small(sub, stride, n, cbt, cbn, ds, K, of, vf);
        CHECK_OK(pa_amx_nearest_small(sub, stride, n, cbt, cbn, ds, K, oa, va));
        CHECK(memcmp(oa, of, 4 * n) == 0);
        CHECK(memcmp(va, vf, 4 * n) == 0);
        free(x), free(cb), free(cbt), free(cbn), free(oa), free(of), free(va), free(vf);
    }
}

/* The AMX kernel's memory is the encode's fixed part, not a row's share: a memory budget that
 * took it for every row shrank the build's encode batches to a few hundred rows. */
static void test_encode_bytes(void)
{
    const pa_backend_model m = {.dim = 128,
                                .num_partitions = 256,
                                .num_sub_vectors = 16,
                                .num_bits = 8};
    CHECK(fast(true));
    CHECK(pa_assign_sgemm_bytes(0, 128, 256) == pa_amx_assign_bytes(256, 128));
    CHECK(pa_assign_sgemm_bytes(4096, 128, 256) == pa_amx_assign_bytes(256, 128));
    CHECK(pa_encode_work_bytes(&m, 1) == sizeof(float) * 128); /* the row's copy */
    CHECK(pa_prepared_bytes(&m) > pa_amx_assign_bytes(256, 128));
    CHECK(fast(false));
    CHECK(pa_assign_sgemm_bytes(0, 128, 256) != pa_amx_assign_bytes(256, 128));
    CHECK(fast(true));
}

/* PA_AMX_MEASURE shape: the measurement runs and reports a rate. */
static void test_measure(void)
{
    double g = 0;
    CHECK_OK(pa_amx_gflops(4096, &g));
    CHECK(g > 0);
    CHECK(!strcmp(pa_amx_state(), "used"));
    CHECK(pa_amx_set(false));
    CHECK(!strcmp(pa_amx_state(), "off (PA_AMX=0 or forced off)"));
    CHECK_ERR(pa_amx_gflops(4096, &g), PA_ERR_UNSUPPORTED, "pa_amx_gflops: AMX is off");
    CHECK(pa_amx_set(true));
    CHECK_ERR(pa_amx_gflops(8, &g), PA_ERR_INVALID, "n 8 is outside [16, 1048576]");
}

int main(int argc, char **argv)
{
    TEST_ARGS(argc, argv);
    use_amx = pa_amx_set(true);
    if (!use_amx && !pa_bf16_set(true)) {
        printf("skipped: AMX is %s, AVX512-BF16 %s\n", pa_amx_state(), pa_bf16_state());
        return 77;
    }
    printf("%s\n", use_amx ? "AMX tiles" : "the AVX512-BF16 pass (no AMX)");
    RUN(test_shapes());
    RUN(test_offset());
    RUN(test_ties());
    RUN(test_dims_scaled());
    RUN(test_kmeans_same());
    RUN(test_encode_bytes());
    if (use_amx) {
        RUN(test_small());
        RUN(test_measure());
    } else {
        RUN(test_bf16_state());
    }
    TEST_DONE();
}
