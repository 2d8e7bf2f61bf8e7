/* libpartifact-backend-ref.so: a tiny reference backend that proves the run-time loading path.
 * It is deliberately simple and exact: brute-force nearest centroid and nearest codeword with
 * plain loops (so its output can be compared with the built-in CPU backend's), and a "training"
 * that takes evenly spaced sample rows as centroids and codewords. */
#include "partifact.h"

#include <float.h>
#include <stdio.h>
#include <string.h>

static int ref_create(void **state, const char *options, char *err, size_t err_len)
{
    if (options && !strcmp(options, "fail")) {
        snprintf(err, err_len, "asked to fail by options \"%s\"", options);
        return 1;
    }
    static int token;
    *state = &token;
    return 0;
}

static void ref_destroy(void *state) { (void)state; }

static int ref_train(void *state, const pa_backend_train_params *p, const float *sample,
                     uint64_t n, float *centroids, float *codebook, char *err, size_t err_len)
{
    (void)state;
    uint32_t K = 1u << p->num_bits, ds = p->dim / p->num_sub_vectors;
    if (n < p->num_partitions || n < K) {
        snprintf(err, err_len, "need at least %u sample rows, got %llu",
                 p->num_partitions > K ? p->num_partitions : K, (unsigned long long)n);
        return 1;
    }
    for (uint32_t c = 0; c < p->num_partitions; c++)
        memcpy(centroids + (size_t)c * p->dim, sample + (n * c / p->num_partitions) * p->dim,
               p->dim * sizeof(float));
    for (uint32_t m = 0; m < p->num_sub_vectors; m++)
        for (uint32_t k = 0; k < K; k++)
            memcpy(codebook + ((size_t)m * K + k) * ds, sample + (n * k / K) * p->dim + m * ds,
                   ds * sizeof(float));
    return 0;
}

static float dist(const float *a, const float *b, uint32_t d, int32_t metric)
{
    float s = 0;
    for (uint32_t i = 0; i < d; i++)
        s += metric == PA_BACKEND_METRIC_DOT ? -a[i] * b[i] : (a[i] - b[i]) * (a[i] - b[i]);
    return s;
}

static int ref_assign_encode(void *state, const pa_backend_model *m, const float *x, uint64_t n,
                             uint32_t *part_ids, uint8_t *codes, char *err, size_t err_len)
{
    (void)state;
    if (m->num_bits != 8) {
        snprintf(err, err_len, "the reference backend encodes 8-bit codes only");
        return 1;
    }
    uint32_t K = 256, ds = m->dim / m->num_sub_vectors;
    float r[4096];
    if (m->dim > 4096) {
        snprintf(err, err_len, "dimension %u is over the reference backend's 4096", m->dim);
        return 1;
    }
    for (uint64_t i = 0; i < n; i++) {
        const float *v = x + i * m->dim;
        float best = FLT_MAX;
        uint32_t bp = 0;
        for (uint32_t c = 0; c < m->num_partitions; c++) {
            float d = dist(v, m->centroids + (size_t)c * m->dim, m->dim, m->metric);
            if (d < best)
                best = d, bp = c;
        }
        part_ids[i] = bp;
        for (uint32_t j = 0; j < m->dim; j++)
            r[j] = m->metric == PA_BACKEND_METRIC_DOT ? v[j] : v[j] - m->centroids[(size_t)bp * m->dim + j];
        for (uint32_t s = 0; s < m->num_sub_vectors; s++) {
            float bd = FLT_MAX;
            uint32_t bk = 0;
            for (uint32_t k = 0; k < K; k++) {
                float d = dist(r + s * ds, m->codebook + ((size_t)s * K + k) * ds, ds,
                               PA_BACKEND_METRIC_L2);
                if (d < bd)
                    bd = d, bk = k;
            }
            codes[i * m->num_sub_vectors + s] = (uint8_t)bk;
        }
    }
    return 0;
}

static const pa_backend_v1 table = {
    .abi_version = PA_BACKEND_ABI_VERSION,
    .struct_size = sizeof(pa_backend_v1),
    .name = "ref",
    .create = ref_create,
    .destroy = ref_destroy,
    .train = ref_train,
    .assign_encode = ref_assign_encode,
};

__attribute__((visibility("default"))) const pa_backend_v1 *partifact_backend_v1(uint32_t host)
{
    return host == PA_BACKEND_ABI_VERSION ? &table : NULL;
}
