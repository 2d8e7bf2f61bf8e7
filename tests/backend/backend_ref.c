/* libpartifact-backend-ref.so: the reference backend, implementing the whole v2 ABI with plain
 * loops so that its output is exact and can be compared with the built-in CPU backend's.
 *   create:   options trace=FILE (append one line per call to FILE), fail (create fails),
 *             corrupt=train|encode (a NaN centroid / a partition id out of range, to show the
 *             host checks what a backend returns); any other key is refused, naming it.
 *   train:    a deterministic, recognisable model: centroids are evenly spaced sample rows
 *             (normalised for cosine), codewords evenly spaced rows' residuals to their
 *             nearest centroid (the rows themselves for dot).
 *   bind:     copies the model (as an accelerator uploads it), once per job.
 *   encode:   brute-force nearest centroid and nearest codeword per sub-space, on the bound
 *             copy, with a residual buffer of batch x dim floats per call.
 *   work_bytes: the bound copy, plus that residual buffer for a batch. */
#include "partifact_backend.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ref_state {
    char trace[4096]; /* "" when not tracing */
    char corrupt[16]; /* "", "train" or "encode" */
} ref_state;

typedef struct ref_bound {
    pa_backend_model m; /* pointing at the copies below */
    float *centroids, *codebook;
} ref_bound;

static void trace(const ref_state *s, const char *fmt, unsigned long long a, unsigned long long b)
{
    if (!s->trace[0])
        return;
    FILE *f = fopen(s->trace, "a");
    if (!f)
        return;
    fprintf(f, fmt, a, b);
    fputc('\n', f);
    fclose(f);
}

static int ref_create(void **state, const char *options, char *err, size_t err_len)
{
    ref_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_len, "out of memory");
        return 1;
    }
    const char *p = options;
    char key[64], value[sizeof s->trace];
    int r;
    while ((r = pa_backend_option_next(&p, key, sizeof key, value, sizeof value)) == 1) {
        if (!strcmp(key, "trace") && value[0]) {
            memcpy(s->trace, value, sizeof s->trace);
        } else if (!strcmp(key, "corrupt") &&
                   (!strcmp(value, "train") || !strcmp(value, "encode"))) {
            memcpy(s->corrupt, value, strlen(value) + 1); /* "train" or "encode" */
        } else if (!strcmp(key, "fail")) {
            snprintf(err, err_len, "asked to fail by options \"%s\"", options);
            free(s);
            return 1;
        } else {
            snprintf(err, err_len,
                     "unknown option \"%s\" (the ref backend takes trace=FILE, "
                     "corrupt=train|encode and fail)",
                     key);
            free(s);
            return 1;
        }
    }
    if (r < 0) {
        snprintf(err, err_len, "an option in \"%s\" is too long", options);
        free(s);
        return 1;
    }
    trace(s, "create", 0, 0);
    *state = s;
    return 0;
}

static void ref_destroy(void *state)
{
    trace(state, "destroy", 0, 0);
    free(state);
}

static float dist(const float *a, const float *b, uint32_t d, int32_t metric)
{
    float s = 0;
    for (uint32_t i = 0; i < d; i++)
        s += metric == PA_METRIC_DOT ? -a[i] * b[i] : (a[i] - b[i]) * (a[i] - b[i]);
    return s;
}

static void normalise(float *v, uint32_t d)
{
    double s = 0;
    for (uint32_t i = 0; i < d; i++)
        s += (double)v[i] * v[i];
    if (s > 0)
        for (uint32_t i = 0; i < d; i++)
            v[i] = (float)(v[i] / sqrt(s));
}

static uint32_t nearest(const float *v, const float *c, uint32_t P, uint32_t dim, int32_t metric)
{
    float best = FLT_MAX;
    uint32_t bp = 0;
    for (uint32_t j = 0; j < P; j++) {
        float d = dist(v, c + (size_t)j * dim, dim, metric);
        if (d < best)
            best = d, bp = j;
    }
    return bp;
}

static int ref_train(void *state, const pa_backend_train_params *p, float *sample, uint64_t n,
                     float *centroids, float *codebook, pa_backend_train_stats *stats, char *err,
                     size_t err_len)
{
    const uint32_t K = 1u << p->num_bits, D = p->dim, ds = D / p->num_sub_vectors;
    if (n < p->num_partitions || n < K) {
        snprintf(err, err_len, "need at least %u sample rows, got %llu",
                 p->num_partitions > K ? p->num_partitions : K, (unsigned long long)n);
        return 1;
    }
    trace(state, "train rows=%llu partitions=%llu", n, p->num_partitions);
    if (p->metric == PA_METRIC_COSINE)
        for (uint64_t i = 0; i < n; i++)
            normalise(sample + i * D, D);
    for (uint32_t c = 0; c < p->num_partitions; c++)
        memcpy(centroids + (size_t)c * D, sample + (n * c / p->num_partitions) * D,
               D * sizeof(float));
    for (uint32_t k = 0; k < K; k++) {
        const float *v = sample + (n * k / K) * D;
        uint32_t c = nearest(v, centroids, p->num_partitions, D, p->metric);
        for (uint32_t m = 0; m < p->num_sub_vectors; m++)
            for (uint32_t j = 0; j < ds; j++)
                codebook[((size_t)m * K + k) * ds + j] =
                    v[m * ds + j] -
                    (p->metric == PA_METRIC_DOT ? 0 : centroids[(size_t)c * D + m * ds + j]);
    }
    if (stats->struct_size >= offsetof(pa_backend_train_stats, pq_iters))
        stats->ivf_iters = 1;
    if (!strcmp(((ref_state *)state)->corrupt, "train"))
        centroids[(size_t)3 * D + 1] = NAN;
    return 0;
}

static int ref_bind(void *state, const pa_backend_model *m, void **bound, char *err, size_t err_len)
{
    if (m->num_bits != 8 && m->num_bits != 4) {
        snprintf(err, err_len, "the reference backend encodes 8-bit and 4-bit codes only");
        return 1;
    }
    size_t nc = (size_t)m->num_partitions * m->dim, nb = ((size_t)1 << m->num_bits) * m->dim;
    ref_bound *b = calloc(1, sizeof *b);
    if (b) {
        b->centroids = malloc(nc * sizeof(float));
        b->codebook = malloc(nb * sizeof(float));
    }
    if (!b || !b->centroids || !b->codebook) {
        if (b)
            free(b->centroids), free(b->codebook);
        free(b);
        snprintf(err, err_len, "out of memory copying the model");
        return 1;
    }
    memcpy(b->centroids, m->centroids, nc * sizeof(float));
    memcpy(b->codebook, m->codebook, nb * sizeof(float));
    b->m = *m;
    b->m.centroids = b->centroids;
    b->m.codebook = b->codebook;
    trace(state, "bind partitions=%llu dim=%llu", m->num_partitions, m->dim);
    *bound = b;
    return 0;
}

static int ref_assign_encode(void *state, void *bound, const float *x, uint64_t n,
                             uint32_t *part_ids, uint8_t *codes, char *err, size_t err_len)
{
    const pa_backend_model *m = &((ref_bound *)bound)->m;
    const uint32_t K = 1u << m->num_bits, D = m->dim, ds = D / m->num_sub_vectors;
    /* code bytes per row: 8-bit one per sub-vector; 4-bit two sub-vectors per byte, the even
     * one in the low nibble (partifact_backend.h) */
    const uint32_t W = m->num_bits == 4 ? m->num_sub_vectors / 2 : m->num_sub_vectors;
    float *r = malloc((n ? n : 1) * D * sizeof(float)); /* what work_bytes reports */
    if (!r) {
        snprintf(err, err_len, "out of memory for %llu rows", (unsigned long long)n);
        return 1;
    }
    trace(state, "encode rows=%llu", n, 0);
    for (uint64_t i = 0; i < n; i++) {
        float *v = r + i * D;
        memcpy(v, x + i * D, D * sizeof(float));
        if (m->metric == PA_METRIC_COSINE)
            normalise(v, D);
        uint32_t bp = nearest(v, m->centroids, m->num_partitions, D, m->metric);
        part_ids[i] = bp;
        if (m->metric != PA_METRIC_DOT)
            for (uint32_t j = 0; j < D; j++)
                v[j] -= m->centroids[(size_t)bp * D + j];
        for (uint32_t s = 0; s < m->num_sub_vectors; s++) {
            float bd = FLT_MAX;
            uint32_t bk = 0;
            for (uint32_t k = 0; k < K; k++) {
                float d = dist(v + s * ds, m->codebook + ((size_t)s * K + k) * ds, ds,
                               PA_METRIC_L2);
                if (d < bd)
                    bd = d, bk = k;
            }
            if (m->num_bits == 4 && s % 2)
                codes[i * W + s / 2] |= (uint8_t)(bk << 4);
            else if (m->num_bits == 4)
                codes[i * W + s / 2] = (uint8_t)bk;
            else
                codes[i * W + s] = (uint8_t)bk;
        }
    }
    free(r);
    if (n && !strcmp(((ref_state *)state)->corrupt, "encode"))
        part_ids[n - 1] = m->num_partitions;
    return 0;
}

static void ref_unbind(void *state, void *bound)
{
    ref_bound *b = bound;
    trace(state, "unbind", 0, 0);
    free(b->centroids);
    free(b->codebook);
    free(b);
}

static uint64_t ref_work_bytes(void *state, const pa_backend_model *m, uint64_t batch_rows)
{
    (void)state;
    uint64_t model = sizeof(ref_bound) + sizeof(float) * ((uint64_t)m->num_partitions * m->dim +
                                                          ((uint64_t)1 << m->num_bits) * m->dim);
    return model + sizeof(float) * batch_rows * m->dim;
}

static const pa_backend_v2 table = {
    .abi_version = PA_BACKEND_ABI_VERSION,
    /* a table as a v2 plugin built before the optional members has it: the host must load
     * it and call its assign_encode (test_backend_load) */
    .struct_size = PA_BACKEND_V2_MIN_SIZE,
    .name = "ref",
    .create = ref_create,
    .destroy = ref_destroy,
    .train = ref_train,
    .bind_model = ref_bind,
    .assign_encode = ref_assign_encode,
    .unbind_model = ref_unbind,
    .work_bytes = ref_work_bytes,
};

__attribute__((visibility("default"))) const pa_backend_v2 *partifact_backend_v2(uint32_t host)
{
    return host == PA_BACKEND_ABI_VERSION ? &table : NULL;
}
