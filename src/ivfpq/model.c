/* The IVF_PQ model: training (coarse k-means, then PQ codebooks per sub-space), assignment and
 * encoding in batches on all cores, and saving/loading as a Lance file. */
#include "common/json.h"
#include "common/pq_code.h"
#include "ivfpq/ivfpq_internal.h"
#include "lance/lance_internal.h"

#include <cblas.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#define MODEL_KEY "partifact:model"
#define MODEL_FORMAT PA_MODEL_FORMAT /* partifact.h */
/* the keys of the partifact:model JSON, written by save and read by load */
#define MODEL_KEY_FORMAT "format"
#define MODEL_KEY_VERSION "version"
#define MODEL_KEY_DIM "dimension"
#define MODEL_KEY_P "num_partitions"
#define MODEL_KEY_M "num_sub_vectors"
#define MODEL_KEY_BITS "num_bits"
#define MODEL_KEY_METRIC "metric"
#define MODEL_KEY_CODEBOOK "codebook_buffer"
#define ENCODE_BLOCK 4096u

struct pa_ivfpq_model {
    pa_backend_model a; /* arrays below */
    float *centroids, *codebook;
    pa_prepared prep;
};

/* Checks the shape of a parameter set against a dimension. */
static pa_status check_params(uint32_t dim, uint32_t P, uint32_t M, uint32_t bits, int metric)
{
    if (dim == 0)
        return pa_fail(PA_ERR_INVALID, "dimension must be positive");
    if (P == 0)
        return pa_fail(PA_ERR_INVALID, "num_partitions must be positive");
    if (M == 0 || dim % M != 0)
        return pa_fail(PA_ERR_INVALID, "num_sub_vectors %u does not divide dimension %u", M, dim);
    pa_status st = pa_pq_check_bits(M, bits);
    if (st != PA_OK)
        return st;
    if (metric < PA_METRIC_L2 || metric > PA_METRIC_DOT)
        return pa_fail(PA_ERR_INVALID, "unknown metric %d", metric);
    return PA_OK;
}

uint64_t pa_prepared_bytes(const pa_backend_model *a)
{
    const uint64_t K = (uint64_t)1 << a->num_bits, M = a->num_sub_vectors;
    const uint64_t ds = a->num_sub_vectors ? a->dim / a->num_sub_vectors : 0;
    return sizeof(float) * (a->num_partitions + M * K * ds + M * K) +
           pa_assign_sgemm_bytes(0, a->dim, a->num_partitions);
}

uint64_t pa_ivfpq_model_bytes(const pa_backend_model *a)
{
    const uint64_t K = (uint64_t)1 << a->num_bits;
    return sizeof(float) * ((uint64_t)a->num_partitions * a->dim + K * a->dim) +
           pa_prepared_bytes(a);
}

uint64_t pa_encode_work_bytes(const pa_backend_model *a, uint64_t n)
{
    const uint64_t block = PA_MIN(n ? n : 1, (uint64_t)ENCODE_BLOCK);
    /* the block buffer of residuals (l2) or normalised rows (cosine); dot encodes the rows */
    return (a->metric == PA_METRIC_DOT ? 0 : sizeof(float) * block * a->dim) +
           pa_assign_sgemm_bytes(block, a->dim, a->num_partitions) -
           pa_assign_sgemm_bytes(0, a->dim, a->num_partitions); /* in pa_prepared_bytes */
}

/* Precomputes norms and the transposed codebook (see ivfpq_internal.h). */
pa_status pa_prepare(pa_prepared *p, const pa_backend_model *a)
{
    memset(p, 0, sizeof *p);
    pa_status st = check_params(a->dim, a->num_partitions, a->num_sub_vectors, a->num_bits,
                                a->metric);
    if (st != PA_OK)
        return st;
    p->a = *a;
    p->K = 1u << a->num_bits;
    p->ds = a->dim / a->num_sub_vectors;
    const uint32_t M = a->num_sub_vectors, K = p->K, ds = p->ds;
    p->cnorm = pa_malloc(sizeof(float) * a->num_partitions, "centroid norms");
    p->cbt = pa_malloc(sizeof(float) * M * K * ds, "codebook");
    p->cbnorm = pa_malloc(sizeof(float) * M * K, "codeword norms");
    if (!p->cnorm || !p->cbt || !p->cbnorm) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    for (uint32_t c = 0; c < a->num_partitions; c++) {
        float s = 0;
        for (uint32_t d = 0; d < a->dim; d++)
            s += a->centroids[(size_t)c * a->dim + d] * a->centroids[(size_t)c * a->dim + d];
        p->cnorm[c] = s;
    }
    for (uint32_t m = 0; m < M; m++)
        for (uint32_t k = 0; k < K; k++) {
            const float *cw = a->codebook + ((size_t)m * K + k) * ds;
            float s = 0;
            for (uint32_t j = 0; j < ds; j++) {
                p->cbt[((size_t)m * ds + j) * K + k] = -2.0f * cw[j];
                s += cw[j] * cw[j];
            }
            p->cbnorm[(size_t)m * K + k] = s;
        }
done:
    if (st != PA_OK)
        pa_prepared_free(p);
    return st;
}

void pa_prepared_free(pa_prepared *p)
{
    free(p->cnorm);
    free(p->cbt);
    free(p->cbnorm);
    memset(p, 0, sizeof *p);
}

/* Assigns and encodes rows in blocks: the fused kernel (or sgemm) for the coarse step, the SIMD
 * kernel per sub-space for the codes (see the header). l2 and dot assign the caller's rows as
 * they are; cosine a normalised copy of the block. The residuals (l2, cosine) go into the block
 * buffer slice by slice, each as its row minus its centroid, so that no pass copies the block
 * first; dot encodes the rows themselves. checked: the caller has checked every row already
 * (pa_check_vectors' rules), so they are not checked again. */
pa_status pa_encode_prepared(const pa_prepared *p, const float *x, uint64_t n, uint32_t *part_ids,
                             uint8_t *codes, bool checked)
{
    const pa_backend_model *a = &p->a;
    const uint32_t dim = a->dim, M = a->num_sub_vectors, K = p->K, ds = p->ds;
    const uint32_t bits = a->num_bits, W = pa_pq_code_bytes(M, bits);
    pa_status st = checked ? PA_OK : pa_check_vectors(x, n, dim, "assign/encode");
    if (st != PA_OK)
        return st;
    const uint64_t block = PA_MIN(n ? n : 1, (uint64_t)ENCODE_BLOCK); /* pa_encode_work_bytes */
    const bool cosine = a->metric == PA_METRIC_COSINE, dot = a->metric == PA_METRIC_DOT;
    float *buf = dot ? NULL : pa_malloc(sizeof(float) * block * dim, "encode block");
    if (!dot && !buf)
        return PA_ERR_NOMEM;
    for (uint64_t b0 = 0; b0 < n && st == PA_OK; b0 += block) {
        uint64_t bn = PA_MIN(block, n - b0);
        const float *xb = x + b0 * dim; /* the rows assigned: the caller's, or normalised */
        if (cosine) {
            memcpy(buf, xb, sizeof(float) * bn * dim);
            pa_normalize_rows(buf, bn, dim);
            xb = buf;
        }
        st = pa_assign_sgemm(xb, bn, dim, a->centroids, a->num_partitions, p->cnorm, dot,
                             part_ids + b0, NULL);
        if (st != PA_OK)
            break;
        /* residuals, then per slice of 64 rows and sub-space one kernel call (the kernel
         * works on several sub-vectors at once, reading them at a stride of dim) */
        const uint64_t slice = 64;
        const float *enc = dot ? xb : buf; /* what is encoded: the rows, or their residuals */
#pragma omp parallel for schedule(static)
        for (uint64_t s0 = 0; s0 < bn; s0 += slice) {
            uint64_t sn = PA_MIN(slice, bn - s0);
            uint32_t code[64];
            if (!dot)
                for (uint64_t i = s0; i < s0 + sn; i++) {
                    const float *v = xb + i * dim;
                    float *r = buf + i * dim; /* (v == r for cosine: in place) */
                    const float *c = a->centroids + (size_t)part_ids[b0 + i] * dim;
                    for (uint32_t d = 0; d < dim; d++)
                        r[d] = v[d] - c[d];
                }
            for (uint32_t m = 0; m < M; m++) {
                pa_nearest_small(enc + s0 * dim + (size_t)m * ds, dim, sn,
                                 p->cbt + (size_t)m * ds * K, p->cbnorm + (size_t)m * K, ds, K,
                                 code, NULL);
                for (uint64_t i = 0; i < sn; i++) /* packed as Lance packs them (pq_code.h) */
                    pa_pq_code_set(codes + (b0 + s0 + i) * W, m, bits, code[i]);
            }
        }
    }
    free(buf);
    return st;
}

pa_status pa_ivfpq_assign_encode(const pa_ivfpq_model *m, const float *x, uint64_t n,
                                 uint32_t *part_ids, uint8_t *codes)
{
    return pa_encode_prepared(&m->prep, x, n, part_ids, codes, false);
}

/* Wraps owned arrays into a model and prepares it. */
static pa_status make_model(pa_ivfpq_model **out, uint32_t dim, uint32_t P, uint32_t M,
                            uint32_t bits, int metric, float *centroids, float *codebook)
{
    pa_status st = PA_OK;
    pa_ivfpq_model *m = pa_calloc(1, sizeof *m, "model");
    if (!m) {
        free(centroids);
        free(codebook);
        st = PA_ERR_NOMEM;
        goto done;
    }
    m->centroids = centroids; /* owned by the model from here */
    m->codebook = codebook;
    m->a = (pa_backend_model){.dim = dim,
                              .num_partitions = P,
                              .num_sub_vectors = M,
                              .num_bits = bits,
                              .metric = metric,
                              .centroids = centroids,
                              .codebook = codebook};
    if ((st = pa_prepare(&m->prep, &m->a)) != PA_OK)
        goto done;
    *out = m, m = NULL;
done:
    pa_ivfpq_model_free(m);
    return st;
}

/* A participant's PQ codebooks (part: its residuals' place among all participants'): the
 * sub-spaces' k-means side by side, one exchange per iteration for all (pa_kmeans_dist_many). */
static pa_status train_pq_part(const float *res, uint64_t n, uint32_t dim, uint32_t M, uint32_t K,
                               uint32_t iters, uint64_t seed, float *codebook,
                               pa_ivfpq_train_stats *stats, const pa_kmeans_part *part)
{
    const uint32_t ds = dim / M;
    float *sub = pa_malloc(sizeof(float) * n * dim, "sub-vectors");
    const float **x = pa_calloc(M, sizeof *x, "sub-vectors");
    float **c = pa_calloc(M, sizeof *c, "codebooks");
    uint64_t *seeds = pa_calloc(M, sizeof *seeds, "seeds");
    pa_kmeans_result *kr = pa_calloc(M, sizeof *kr, "k-means results");
    pa_status st = sub && x && c && seeds && kr ? PA_OK : PA_ERR_NOMEM;
    for (uint32_t m = 0; m < M && st == PA_OK; m++) {
        float *sm = sub + (size_t)m * n * ds;
        for (uint64_t i = 0; i < n; i++)
            memcpy(sm + i * ds, res + i * dim + (size_t)m * ds, sizeof(float) * ds);
        x[m] = sm, c[m] = codebook + (size_t)m * K * ds, seeds[m] = seed + 1 + m;
    }
    if (st == PA_OK)
        st = pa_kmeans_dist_many(M, x, n, ds, K, iters, seeds, c, kr, part);
    double passes = 0, runs = 0;
    for (uint32_t m = 0; st == PA_OK && m < M; m++) {
        stats->pq_iters = PA_MAX(stats->pq_iters, kr[m].iters);
        stats->empty_repaired += kr[m].empty_repaired;
        passes += kr[m].passes, runs += kr[m].iters;
    }
    stats->pq_work_share = runs > 0 ? passes / runs : 1.0;
    free(sub), free(x), free(c), free(seeds), free(kr);
    return st;
}

/* Trains the codebook of each sub-space on (a sample of) the residuals. The sub-spaces are
 * independent, so they are trained in parallel, one per thread, each k-means single-threaded
 * inside (nested regions run on one thread): no barrier per iteration, and the same codebooks
 * whatever the number of threads, since each k-means is deterministic on its own. */
static pa_status train_pq(const float *res, uint64_t n, uint32_t dim, uint32_t M, uint32_t K,
                          uint32_t iters, uint64_t seed, float *codebook,
                          pa_ivfpq_train_stats *stats)
{
    const uint32_t ds = dim / M;
    pa_status st = PA_OK;
    char err[512] = "";
    uint32_t max_iters = 0, repaired = 0;
    double passes = 0, runs = 0; /* (the shares, added in any order: not part of the model) */
#pragma omp parallel for schedule(dynamic, 1) reduction(max : max_iters) reduction(+ : repaired) \
    reduction(+ : passes, runs)
    for (uint32_t m = 0; m < M; m++) {
        pa_status sm;
        float *sub = pa_malloc(sizeof(float) * n * ds, "sub-vectors");
        pa_kmeans_result kr = {0};
        if (!sub) {
            sm = PA_ERR_NOMEM;
        } else {
            for (uint64_t i = 0; i < n; i++)
                memcpy(sub + i * ds, res + i * dim + (size_t)m * ds, sizeof(float) * ds);
            sm = pa_kmeans(sub, n, ds, K, iters, seed + 1 + m, false, true,
                           codebook + (size_t)m * K * ds, NULL, &kr);
            free(sub);
        }
        max_iters = PA_MAX(max_iters, kr.iters);
        repaired += kr.empty_repaired;
        passes += kr.passes, runs += kr.iters;
        if (sm != PA_OK) {
#pragma omp critical(pa_train_pq_error)
            if (st == PA_OK) { /* the message is thread-local: carry it to the caller */
                st = sm;
                snprintf(err, sizeof err, "%s", pa_last_error());
            }
        }
    }
    if (stats) {
        stats->pq_iters = PA_MAX(stats->pq_iters, max_iters);
        stats->empty_repaired += repaired;
        stats->pq_work_share = runs > 0 ? passes / runs : 1.0;
    }
    return st == PA_OK ? PA_OK : pa_fail(st, "%s", err);
}

/* Checks the parameters and the training rows before any work (see pa_ivfpq_train). */
pa_status pa_ivfpq_check_training(const float *data, uint64_t n, uint32_t dim,
                                  const pa_ivfpq_params *prm)
{
    pa_status st = pa_ivfpq_check_sample(n, dim, prm);
    return st == PA_OK ? pa_check_vectors(data, n, dim, "training data") : st;
}

/* The parameters and the rows a training sample needs (see ivfpq_internal.h). */
pa_status pa_ivfpq_check_sample(uint64_t n, uint32_t dim, const pa_ivfpq_params *prm)
{
    const uint32_t P = prm->num_partitions, M = prm->num_sub_vectors;
    const uint32_t bits = prm->num_bits ? prm->num_bits : PA_DEFAULT_NUM_BITS;
    pa_status st = check_params(dim, P, M, bits, prm->metric);
    if (st != PA_OK)
        return st;
    const uint32_t K = 1u << bits;
    if (n < P)
        return pa_fail(PA_ERR_INVALID,
                       "training needs at least as many rows as partitions: %llu "
                       "rows for %u partitions",
                       (unsigned long long)n, P);
    if (n < K)
        return pa_fail(PA_ERR_INVALID,
                       "training needs at least %u rows for %u codewords per "
                       "sub-vector, got %llu",
                       K, K, (unsigned long long)n);
    return PA_OK;
}

/* The positions of a seeded partial Fisher-Yates shuffle of N rows: at[i] for i < pn, the row
 * the shuffle brings to position i (pq_sample_at's swaps, on row numbers in a small hash map of
 * the positions touched, at most 2 pn, instead of an array of N). */
static pa_status shuffle_positions(uint64_t N, uint64_t pn, uint64_t seed, uint64_t *at)
{
    uint64_t cap = 4;
    while (cap < 4 * pn)
        cap <<= 1;
    uint64_t *key = pa_malloc(sizeof(uint64_t) * cap * 2, "sample positions");
    if (!key)
        return PA_ERR_NOMEM;
    uint64_t *val = key + cap;
    memset(key, 0xFF, sizeof(uint64_t) * cap);
#define SLOT(p, h)                                                                           \
    for (h = ((p)*0x9E3779B97F4A7C15ull) & (cap - 1); key[h] != UINT64_MAX && key[h] != (p); \
         h = (h + 1) & (cap - 1))
    for (uint64_t i = 0; i < pn; i++) {
        uint64_t r = i + pa_splitmix(&seed) % (N - i), hi, hr;
        SLOT(i, hi);
        SLOT(r, hr);
        const uint64_t vi = key[hi] == i ? val[hi] : i, vr = key[hr] == r ? val[hr] : r;
        key[hi] = i, val[hi] = vr; /* swap positions i and r */
        SLOT(r, hr);               /* (the insert of i may have taken r's free slot) */
        key[hr] = r, val[hr] = vi;
        at[i] = vr;
    }
#undef SLOT
    free(key);
    return PA_OK;
}

/* The PQ training sample of a participant of a distributed training: the rows at positions
 * [0, pn) of the shuffle train_in_place makes of all participants' rows (the same seed), those
 * this participant holds, in position order, as residuals to their centroids (l2, cosine).
 * *res: *rn rows; *pq: their place among the participants' (in rank order). */
static pa_status pq_sample_part(const float *x, uint64_t n, uint32_t dim, const float *centroids,
                                const uint32_t *assign, bool dot, uint64_t seed,
                                const pa_kmeans_part *part, float **res, uint64_t *rn,
                                pa_kmeans_part *pq)
{
    const uint64_t N = part->total, pn = PA_MIN(N, (uint64_t)PA_PQ_SAMPLE_ROWS);
    const pa_train_comm *comm = part->comm;
    uint64_t *at = pa_malloc(sizeof(uint64_t) * pn, "PQ sample");
    double *counts = pa_calloc(comm->size, sizeof(double), "PQ sample counts");
    float *r = NULL;
    uint64_t got = 0;
    pa_status st = at && counts ? shuffle_positions(N, pn, seed, at) : PA_ERR_NOMEM;
    if (st != PA_OK)
        goto done;
    for (uint64_t i = 0; i < pn; i++)
        got += at[i] >= part->first && at[i] - part->first < n;
    if (!(r = pa_malloc(sizeof(float) * got * dim, "PQ sample"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    for (uint64_t i = 0, o = 0; i < pn; i++) {
        if (at[i] < part->first || at[i] - part->first >= n)
            continue;
        const uint64_t src = at[i] - part->first;
        for (uint32_t d = 0; d < dim; d++)
            r[o * dim + d] = x[src * dim + d] -
                             (dot ? 0.0f : centroids[(size_t)assign[src] * dim + d]);
        o++;
    }
    counts[comm->rank] = (double)got; /* every participant's count: where its rows begin */
    if ((st = pa_comm_sum(comm, counts, comm->size)) != PA_OK)
        goto done;
    *pq = (pa_kmeans_part){.comm = comm, .total = pn};
    for (uint32_t q = 0; q < comm->rank; q++)
        pq->first += (uint64_t)counts[q];
    *res = r, r = NULL;
    *rn = got;
done:
    free(at);
    free(counts);
    free(r);
    return st;
}

/* Trains on rows the caller hands over to be worked on in place (normalised for cosine,
 * shuffled and turned into residuals for PQ); checked already. The sample is the largest
 * allocation of training, so working in place instead of on a copy halves its memory. A
 * participant of a distributed training (part) trains on its rows with the others' (its PQ
 * residuals go to a buffer of their own, at most PA_PQ_SAMPLE_ROWS rows). */
static pa_status train_in_place(pa_ivfpq_model **out, float *x, uint64_t n, uint32_t dim,
                                const pa_ivfpq_params *prm, pa_ivfpq_train_stats *stats,
                                const pa_kmeans_part *part)
{
    *out = NULL;
    pa_ivfpq_train_stats *s = stats;
    memset(s, 0, sizeof *s);
    s->struct_size = sizeof *s;
    const uint32_t P = prm->num_partitions, M = prm->num_sub_vectors;
    const uint32_t bits = prm->num_bits ? prm->num_bits : PA_DEFAULT_NUM_BITS;
    const uint32_t iters = prm->max_iters ? prm->max_iters : PA_DEFAULT_MAX_ITERS;
    const uint32_t K = 1u << bits;
    pa_status st;
    s->sample_rows = part ? part->total : n;
    float *centroids = pa_malloc(sizeof(float) * P * dim, "centroids");
    float *codebook = pa_malloc(sizeof(float) * M * K * (dim / M), "codebook");
    uint32_t *assign = pa_malloc(sizeof(uint32_t) * n, "assignment");
    if (!centroids || !codebook || !assign) {
        free(centroids), free(codebook), free(assign);
        return PA_ERR_NOMEM;
    }
    const bool dot = prm->metric == PA_METRIC_DOT;
    if (prm->metric == PA_METRIC_COSINE)
        pa_normalize_rows(x, n, dim);
    double t0 = pa_now_seconds();
    pa_kmeans_result kr = {0};
    st = pa_kmeans_dist(x, n, dim, P, iters, prm->seed, dot, false, centroids, assign, &kr, part);
    s->ivf_iters = kr.iters;
    s->ivf_work_share = kr.iters ? kr.passes / kr.iters : 1.0;
    s->empty_repaired = kr.empty_repaired;
    s->ivf_seconds = pa_now_seconds() - t0;
    const uint32_t pq_iters = prm->pq_max_iters ? prm->pq_max_iters : PA_DEFAULT_PQ_MAX_ITERS;
    uint64_t seed = prm->seed ^ 0x5151515151515151ull; /* the PQ sample's shuffle */
    if (st == PA_OK && part) {
        t0 = pa_now_seconds();
        float *res = NULL;
        uint64_t rn = 0;
        pa_kmeans_part pq;
        st = pq_sample_part(x, n, dim, centroids, assign, dot, seed, part, &res, &rn, &pq);
        if (st == PA_OK)
            st = train_pq_part(res, rn, dim, M, K, pq_iters, prm->seed, codebook, s, &pq);
        free(res);
        s->pq_seconds = pa_now_seconds() - t0;
    } else if (st == PA_OK) {
        t0 = pa_now_seconds();
        /* residuals (l2, cosine) of a seeded sample of at most PA_PQ_SAMPLE_ROWS rows, in place */
        uint64_t pn = PA_MIN(n, (uint64_t)PA_PQ_SAMPLE_ROWS);
        for (uint64_t i = 0; i < pn; i++) { /* partial shuffle of rows into the front */
            uint64_t r = i + pa_splitmix(&seed) % (n - i);
            if (r != i) {
                for (uint32_t d = 0; d < dim; d++) {
                    float t = x[i * dim + d];
                    x[i * dim + d] = x[r * dim + d];
                    x[r * dim + d] = t;
                }
                uint32_t t = assign[i];
                assign[i] = assign[r];
                assign[r] = t;
            }
            if (!dot)
                for (uint32_t d = 0; d < dim; d++)
                    x[i * dim + d] -= centroids[(size_t)assign[i] * dim + d];
        }
        st = train_pq(x, pn, dim, M, K, pq_iters, prm->seed, codebook, s);
        s->pq_seconds = pa_now_seconds() - t0;
    }
    free(assign);
    if (st != PA_OK) {
        free(centroids);
        free(codebook);
        return st;
    }
    return make_model(out, dim, P, M, bits, prm->metric, centroids, codebook);
}

/* Trains a model on the given rows (see the header): on a copy, as the caller keeps them. */
uint64_t pa_ivfpq_train_bytes(uint64_t n, uint32_t dim, const pa_ivfpq_params *p, uint32_t nthreads)
{
    const uint64_t P = p->num_partitions, M = p->num_sub_vectors;
    const uint32_t bits = p->num_bits ? p->num_bits : PA_DEFAULT_NUM_BITS;
    const uint64_t K = (uint64_t)1 << bits, ds = M ? dim / M : 0;
    const bool dot = p->metric == PA_METRIC_DOT;
    /* held throughout: pa_ivfpq_train's copy of the rows, the centroids and the codebook */
    const uint64_t rows = sizeof(float) * n * dim + 1;
    const uint64_t arrays = sizeof(float) * (P * dim + M * K * ds);
    /* train_in_place: the assignment, and first the coarse k-means, then the PQ k-means of the
     * sub-spaces trained at once (train_pq: one per thread, each with its sub-vectors) */
    const uint64_t pn = PA_MIN(n, (uint64_t)PA_PQ_SAMPLE_ROWS);
    const uint64_t coarse = pa_kmeans_bytes(n, dim, (uint32_t)P, dot, false, true, nthreads);
    const uint64_t pq = PA_MIN(M, (uint64_t)PA_MAX(nthreads, 1u)) *
                        (sizeof(float) * pn * ds + pa_kmeans_bytes(pn, (uint32_t)ds, (uint32_t)K,
                                                                   false, true, false, nthreads));
    /* make_model: the model and its prepared norms and codebook */
    const pa_backend_model shape = {.dim = dim,
                                    .num_partitions = (uint32_t)P,
                                    .num_sub_vectors = (uint32_t)M,
                                    .num_bits = bits};
    const uint64_t model = sizeof(pa_ivfpq_model) + pa_prepared_bytes(&shape);
    return rows + arrays + PA_MAX(sizeof(uint32_t) * n + PA_MAX(coarse, pq), model);
}

pa_status pa_ivfpq_train(pa_ivfpq_model **out, const float *data, uint64_t n, uint32_t dim,
                         const pa_ivfpq_params *params, pa_ivfpq_train_stats *stats)
{
    *out = NULL;
    PA_LOAD_OPTS(pa_ivfpq_params, p, params, PA_IVFPQ_PARAMS_INIT);
    const pa_ivfpq_params *prm = &p;
    pa_ivfpq_train_stats s;
    pa_status st = pa_stats_check(stats, "pa_ivfpq_train_stats");
    if (st == PA_OK)
        st = pa_ivfpq_check_training(data, n, dim, prm);
    if (st != PA_OK)
        return st;
    float *x = pa_malloc(sizeof(float) * n * dim + 1, "training rows");
    if (!x)
        return PA_ERR_NOMEM;
    memcpy(x, data, sizeof(float) * n * dim);
    st = train_in_place(out, x, n, dim, prm, &s, NULL);
    free(x);
    pa_stats_store(stats, &s, sizeof s);
    return st;
}

/* Checks n training rows and trains on them in place (see ivfpq_internal.h). */
pa_status pa_ivfpq_train_owned(pa_ivfpq_model **out, float *x, uint64_t n, uint32_t dim,
                               bool checked, const pa_ivfpq_params *prm,
                               pa_ivfpq_train_stats *stats)
{
    *out = NULL;
    pa_status st = checked ? pa_ivfpq_check_sample(n, dim, prm)
                           : pa_ivfpq_check_training(x, n, dim, prm);
    if (st != PA_OK)
        return st;
    return train_in_place(out, x, n, dim, prm, stats, NULL);
}

/* Trains one participant's rows with the others' (see ivfpq_internal.h). */
pa_status pa_ivfpq_train_part(pa_ivfpq_model **out, float *x, uint64_t n, uint32_t dim,
                              const pa_ivfpq_params *prm, const pa_kmeans_part *part,
                              pa_ivfpq_train_stats *stats)
{
    *out = NULL;
    return train_in_place(out, x, n, dim, prm, stats, part);
}

void pa_ivfpq_model_arrays(const pa_ivfpq_model *m, pa_backend_model *out) { *out = m->a; }

pa_status pa_ivfpq_model_from_arrays(pa_ivfpq_model **out, const pa_backend_model *in)
{
    *out = NULL;
    pa_status st = check_params(in->dim, in->num_partitions, in->num_sub_vectors, in->num_bits,
                                in->metric);
    if (st != PA_OK)
        return st;
    size_t nc = (size_t)in->num_partitions * in->dim;
    size_t nb = (size_t)in->num_sub_vectors * (1u << in->num_bits) *
                (in->dim / in->num_sub_vectors);
    float *c = pa_malloc(sizeof(float) * nc, "centroids");
    float *b = pa_malloc(sizeof(float) * nb, "codebook");
    if (!c || !b) {
        free(c), free(b);
        return PA_ERR_NOMEM;
    }
    memcpy(c, in->centroids, sizeof(float) * nc);
    memcpy(b, in->codebook, sizeof(float) * nb);
    return make_model(out, in->dim, in->num_partitions, in->num_sub_vectors, in->num_bits,
                      in->metric, c, b);
}

void pa_ivfpq_model_free(pa_ivfpq_model *m)
{
    if (!m)
        return;
    pa_prepared_free(&m->prep);
    free(m->centroids);
    free(m->codebook);
    free(m);
}

/* Mean squared reconstruction error of the codes (see the header). */
pa_status pa_ivfpq_pq_mse(const pa_ivfpq_model *m, const float *x, uint64_t n, double *mse)
{
    const uint32_t dim = m->a.dim, M = m->a.num_sub_vectors, K = m->prep.K, ds = m->prep.ds;
    const uint32_t bits = m->a.num_bits, W = pa_pq_code_bytes(M, bits);
    uint32_t *parts = pa_malloc(sizeof(uint32_t) * (n ? n : 1), "part ids");
    uint8_t *codes = pa_malloc((size_t)(n ? n : 1) * W, "codes");
    pa_status st = parts && codes ? pa_ivfpq_assign_encode(m, x, n, parts, codes) : PA_ERR_NOMEM;
    double total = 0;
    if (st == PA_OK) {
#pragma omp parallel for reduction(+ : total) schedule(static)
        for (uint64_t i = 0; i < n; i++) {
            const double norm = m->a.metric == PA_METRIC_COSINE ? pa_inv_norm(x + i * dim, dim)
                                                                : 1.0;
            double e = 0;
            for (uint32_t d = 0; d < dim; d++) {
                double v = x[i * dim + d] * norm;
                if (m->a.metric != PA_METRIC_DOT)
                    v -= m->a.centroids[(size_t)parts[i] * dim + d];
                uint32_t sub = d / ds;
                const uint32_t c = pa_pq_code_get(codes + i * W, sub, bits);
                v -= m->a.codebook[((size_t)sub * K + c) * ds + d % ds];
                e += v * v;
            }
            total += e;
        }
        *mse = n ? total / (double)n : 0;
    }
    free(parts);
    free(codes);
    return st;
}

/* ---- saving and loading ---- */

pa_status pa_ivfpq_model_save(const pa_ivfpq_model *m, const char *path)
{
    return pa_ivfpq_model_save_ex(m, path, 0);
}

pa_status pa_ivfpq_model_save_ex(const pa_ivfpq_model *m, const char *path, int replace)
{
    const pa_backend_model *a = &m->a;
    json_t *j = NULL;
    char *meta = NULL;
    pa_lance_writer *w = NULL;
    pa_status st = pa_json_pack(&j, path, "{s:s, s:i, s:I, s:I, s:I, s:I, s:s, s:i}",
                                MODEL_KEY_FORMAT, MODEL_FORMAT, MODEL_KEY_VERSION,
                                PA_MODEL_FORMAT_VERSION, MODEL_KEY_DIM, (json_int_t)a->dim,
                                MODEL_KEY_P, (json_int_t)a->num_partitions, MODEL_KEY_M,
                                (json_int_t)a->num_sub_vectors, MODEL_KEY_BITS,
                                (json_int_t)a->num_bits, MODEL_KEY_METRIC,
                                pa_metric_name((pa_metric)a->metric), MODEL_KEY_CODEBOOK, 1);
    if (st == PA_OK)
        st = pa_json_dump(j, PA_JSON_SORTED, &meta);
    if (st != PA_OK)
        goto done;
    pa_field f = {"centroid", PA_TYPE_FSL_FLOAT32, a->dim};
    pa_lance_write_options lo = PA_LANCE_WRITE_OPTIONS_INIT;
    lo.replace = replace;
    uint32_t gi = 0;
    size_t cb_bytes = sizeof(float) * a->num_sub_vectors * m->prep.K * m->prep.ds;
    const void *cols[] = {a->centroids};
    if ((st = pa_lance_writer_create(&w, path, &f, 1, &lo)) != PA_OK ||
        (st = pa_lance_writer_add_global_buffer(w, a->codebook, cb_bytes, &gi)) != PA_OK ||
        (st = pa_lance_writer_append(w, cols, a->num_partitions)) != PA_OK ||
        (st = pa_lance_writer_set_metadata(w, MODEL_KEY, meta, strlen(meta))) != PA_OK)
        goto done;
    st = pa_lance_writer_close(w);
done:
    pa_lance_writer_free(w);
    free(meta);
    return st;
}

/* Reads an integer member of the model description. */
static pa_status meta_uint(json_t *j, const char *path, const char *key, uint32_t *out)
{
    json_t *v = json_object_get(j, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX)
        return pa_fail(PA_ERR_FORMAT, "%s: model metadata lacks a valid \"%s\"", path, key);
    *out = (uint32_t)json_integer_value(v);
    return PA_OK;
}

/* The parameters a partifact model file's "partifact:model" JSON gives, checked, and the index
 * of its codebook's global buffer. */
static pa_status model_params(const pa_lance_reader *r, const char *path, pa_ivfpq_meta *m,
                              uint32_t *gbuf)
{
    const void *mv;
    size_t ml;
    uint32_t version = 0;
    if (pa_lance_reader_metadata(r, MODEL_KEY, &mv, &ml) != PA_OK)
        return pa_fail(PA_ERR_FORMAT, "%s: not a partifact model (no \"%s\" metadata)", path,
                       MODEL_KEY);
    json_error_t err;
    json_t *j = json_loadb(mv, ml, 0, &err);
    const char *fmt = j ? json_string_value(json_object_get(j, MODEL_KEY_FORMAT)) : NULL;
    const char *mname = j ? json_string_value(json_object_get(j, MODEL_KEY_METRIC)) : NULL;
    pa_status st = PA_OK;
    if (!j || !fmt || strcmp(fmt, MODEL_FORMAT) || !mname) {
        st = pa_fail(PA_ERR_FORMAT, "%s: model metadata is not a %s description", path,
                     MODEL_FORMAT);
        goto done;
    }
    if ((st = meta_uint(j, path, MODEL_KEY_VERSION, &version)) != PA_OK ||
        (st = meta_uint(j, path, MODEL_KEY_DIM, &m->dimension)) != PA_OK ||
        (st = meta_uint(j, path, MODEL_KEY_P, &m->num_partitions)) != PA_OK ||
        (st = meta_uint(j, path, MODEL_KEY_M, &m->num_sub_vectors)) != PA_OK ||
        (st = meta_uint(j, path, MODEL_KEY_BITS, &m->num_bits)) != PA_OK ||
        (st = meta_uint(j, path, MODEL_KEY_CODEBOOK, gbuf)) != PA_OK)
        goto done;
    if (version != PA_MODEL_FORMAT_VERSION) {
        st = pa_fail(PA_ERR_UNSUPPORTED,
                     "%s: model format version %u; partifact reads version "
                     "%d%s",
                     path, version, PA_MODEL_FORMAT_VERSION,
                     version > PA_MODEL_FORMAT_VERSION ? " (written by a newer partifact)" : "");
        goto done;
    }
    if ((st = pa_metric_parse(mname, &m->metric)) != PA_OK ||
        (st = check_params(m->dimension, m->num_partitions, m->num_sub_vectors, m->num_bits,
                           m->metric)) != PA_OK)
        pa_fail_prefix(st, "%s", path);
done:
    json_decref(j);
    return st;
}

pa_status pa_ivfpq_model_load(pa_ivfpq_model **out, const char *path)
{
    *out = NULL;
    pa_lance_reader *r;
    pa_status st = pa_lance_reader_open(&r, path);
    if (st != PA_OK)
        return st;
    const void *mv;
    size_t ml;
    uint32_t gbuf = 0;
    pa_ivfpq_meta pm;
    float *c = NULL, *cb = NULL;
    void *gdata = NULL;
    size_t glen = 0;
    if (pa_lance_reader_metadata(r, MODEL_KEY, &mv, &ml) != PA_OK && pa_ivfpq_is_meta(r)) {
        pa_lance_reader_free(r); /* a partition artifact's metadata.lance */
        return pa_ivfpq_model_load_metadata(out, path);
    }
    if ((st = model_params(r, path, &pm, &gbuf)) != PA_OK)
        goto done;
    const uint32_t dim = pm.dimension, P = pm.num_partitions, M = pm.num_sub_vectors,
                   bits = pm.num_bits;
    const pa_metric metric = pm.metric;
    pa_field f;
    if (pa_lance_reader_num_fields(r) != 1 || pa_lance_reader_field(r, 0, &f) != PA_OK ||
        f.type != PA_TYPE_FSL_FLOAT32 || f.dim != dim || pa_lance_reader_num_rows(r) != P) {
        st = pa_fail(PA_ERR_FORMAT, "%s: expected %u centroids of dimension %u", path, P, dim);
        goto done;
    }
    size_t want = sizeof(float) * M * (1u << bits) * (dim / M);
    if ((st = pa_lance_reader_global_buffer(r, gbuf, &gdata, &glen)) != PA_OK)
        goto done;
    if (glen != want) {
        st = pa_fail(PA_ERR_FORMAT, "%s: codebook has %zu bytes, expected %zu", path, glen, want);
        goto done;
    }
    size_t cbytes;
    if (!pa_mul_ok((size_t)P, sizeof(float) * dim, &cbytes)) {
        st = pa_fail(PA_ERR_FORMAT, "%s: %u centroids of dimension %u do not fit in memory", path,
                     P, dim);
        goto done;
    }
    c = pa_malloc(cbytes, "centroids");
    if (!c) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    if ((st = pa_lance_reader_read(r, 0, 0, P, c)) != PA_OK)
        goto done;
    cb = gdata;
    gdata = NULL;
    if ((st = pa_check_vectors(c, P, dim, path)) != PA_OK ||
        (st = pa_check_finite(cb, 1, (uint32_t)(want / sizeof(float)), path)) != PA_OK)
        goto done;
    st = make_model(out, dim, P, M, bits, metric, c, cb);
    c = cb = NULL; /* owned by the model (or freed by make_model) */
done:
    free(c);
    free(cb);
    free(gdata);
    pa_lance_reader_free(r);
    return st;
}

/* ---- metadata.lance: the model of Lance's partition artifact (lance-cuvs' layout) ----
 *
 * lance-cuvs (backends/cuvs_26_02/src/backend.rs, build_metadata_batch and
 * write_partition_artifact_metadata) writes one row: _ivf_centroids, a list (item field
 * "_ivf_centroids_item", not null) of num_partitions fixed_size_list<float, dim>, and
 * _pq_codebook, a list (item "_pq_codebook_item") of num_sub_vectors * 2^num_bits
 * fixed_size_list<float, dim / num_sub_vectors>, sub-space by sub-space, centroid by centroid
 * (partifact's codebook order); the parameters are schema metadata, decimal strings. */
#define META_COL_CENTROIDS "_ivf_centroids"
#define META_ITEM_CENTROIDS "_ivf_centroids_item"
#define META_COL_CODEBOOK "_pq_codebook"
#define META_ITEM_CODEBOOK "_pq_codebook_item"
#define META_KEY_VERSION "lance:index_build:artifact_version"
#define META_VERSION "1"
#define META_KEY_DISTANCE "lance:index_build:distance_type"
#define META_KEY_P "lance:index_build:num_partitions"
#define META_KEY_M "lance:index_build:num_sub_vectors"
#define META_KEY_BITS "lance:index_build:num_bits"
#define META_KEY_DIM "lance:index_build:dimension"

bool pa_ivfpq_is_meta(const pa_lance_reader *r)
{
    const void *v;
    size_t len;
    return pa_lance_reader_metadata(r, META_KEY_VERSION, &v, &len) == PA_OK;
}

/* A schema metadata value as a string, checked to be there. */
static pa_status meta_value(const pa_lance_reader *r, const char *path, const char *key, char *out,
                            size_t cap)
{
    const void *v;
    size_t len;
    if (pa_lance_reader_metadata(r, key, &v, &len) != PA_OK)
        return pa_fail(PA_ERR_FORMAT, "%s: no \"%s\" in its schema metadata", path, key);
    if (len == 0 || len >= cap)
        return pa_fail(PA_ERR_FORMAT, "%s: \"%s\" is %zu bytes long", path, key, len);
    memcpy(out, v, len);
    out[len] = 0;
    return PA_OK;
}

/* A decimal schema metadata value in [1, 2^32). */
static pa_status meta_u32(const pa_lance_reader *r, const char *path, const char *key,
                          uint32_t *out)
{
    char s[32], *end = NULL;
    pa_status st = meta_value(r, path, key, s, sizeof s);
    if (st != PA_OK)
        return st;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || s[0] < '0' || s[0] > '9' || v == 0 || v > UINT32_MAX)
        return pa_fail(PA_ERR_FORMAT, "%s: \"%s\" is \"%s\", expected a positive integer", path,
                       key, s);
    *out = (uint32_t)v;
    return PA_OK;
}

static pa_status meta_params(const pa_lance_reader *r, const char *path, pa_ivfpq_meta *m)
{
    char s[64];
    pa_status st = meta_value(r, path, META_KEY_VERSION, s, sizeof s);
    if (st == PA_OK && strcmp(s, META_VERSION) != 0)
        st = pa_fail(PA_ERR_UNSUPPORTED, "%s: \"%s\" is \"%s\"; partifact reads \"%s\"", path,
                     META_KEY_VERSION, s, META_VERSION);
    if (st == PA_OK && (st = meta_value(r, path, META_KEY_DISTANCE, s, sizeof s)) == PA_OK &&
        pa_metric_parse(s, &m->metric) != PA_OK)
        st = pa_fail(PA_ERR_UNSUPPORTED, "%s: distance_type \"%s\" is not l2, cosine or dot", path,
                     s);
    if (st == PA_OK)
        st = meta_u32(r, path, META_KEY_P, &m->num_partitions);
    if (st == PA_OK)
        st = meta_u32(r, path, META_KEY_M, &m->num_sub_vectors);
    if (st == PA_OK)
        st = meta_u32(r, path, META_KEY_BITS, &m->num_bits);
    if (st == PA_OK)
        st = meta_u32(r, path, META_KEY_DIM, &m->dimension);
    if (st == PA_OK && (st = check_params(m->dimension, m->num_partitions, m->num_sub_vectors,
                                          m->num_bits, m->metric)) != PA_OK)
        pa_fail_prefix(st, "%s", path);
    return st;
}

pa_status pa_ivfpq_model_read_params(const char *path, pa_ivfpq_meta *out)
{
    pa_lance_reader *r = NULL;
    uint32_t gbuf;
    pa_status st = pa_lance_reader_open(&r, path);
    if (st == PA_OK)
        st = pa_ivfpq_is_meta(r) ? meta_params(r, path, out) : model_params(r, path, out, &gbuf);
    pa_lance_reader_free(r);
    return st;
}

pa_status pa_ivfpq_meta_read(const char *path, pa_ivfpq_meta *out)
{
    pa_lance_reader *r = NULL;
    pa_status st = pa_lance_reader_open(&r, path);
    if (st == PA_OK && !pa_ivfpq_is_meta(r))
        st = pa_fail(PA_ERR_FORMAT, "%s: not a partition artifact's metadata file (no \"%s\")",
                     path, META_KEY_VERSION);
    if (st == PA_OK)
        st = meta_params(r, path, out);
    pa_lance_reader_free(r);
    return st;
}

/* The list column named col (its field "col" or "col.item"). */
static bool meta_col(const pa_lance_reader *r, const char *col, size_t *out)
{
    const size_t n = strlen(col);
    for (size_t i = 0; i < pa_lance_reader_num_fields(r); i++) {
        pa_field f;
        if (pa_lance_reader_field(r, i, &f) == PA_OK && !strncmp(f.name, col, n) &&
            (f.name[n] == 0 || f.name[n] == '.')) {
            *out = i;
            return true;
        }
    }
    return false;
}

/* One row of list column col: exactly items of type fsl<float, dim>, into *out. */
static pa_status meta_list(pa_lance_reader *r, const char *path, const char *col, uint32_t dim,
                           uint64_t items, float **out)
{
    size_t c;
    pa_field f;
    if (!meta_col(r, col, &c) || pa_lance_reader_field(r, c, &f) != PA_OK ||
        f.type != PA_TYPE_LIST_FSL_FLOAT32 || f.dim != dim)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: expected a column %s of type list<fixed_size_list<float, %u>>", path,
                       col, dim);
    uint64_t offs[2];
    void *data = NULL;
    pa_status st = pa_lance_reader_read_list(r, c, 0, 1, offs, &data);
    if (st == PA_OK && offs[1] - offs[0] != items)
        st = pa_fail(PA_ERR_FORMAT, "%s: %s holds %" PRIu64 " items, expected %" PRIu64, path, col,
                     offs[1] - offs[0], items);
    if (st == PA_OK)
        st = pa_check_finite(data, items, dim, path);
    if (st != PA_OK) {
        free(data);
        return st;
    }
    *out = data;
    return PA_OK;
}

pa_status pa_ivfpq_model_load_metadata(pa_ivfpq_model **out, const char *path)
{
    *out = NULL;
    pa_lance_reader *r = NULL;
    float *c = NULL, *cb = NULL;
    pa_ivfpq_meta m;
    pa_status st = pa_lance_reader_open(&r, path);
    if (st == PA_OK && !pa_ivfpq_is_meta(r))
        st = pa_fail(PA_ERR_FORMAT, "%s: not a partition artifact's metadata file (no \"%s\")",
                     path, META_KEY_VERSION);
    if (st == PA_OK)
        st = meta_params(r, path, &m);
    if (st == PA_OK && pa_lance_reader_num_rows(r) != 1)
        st = pa_fail(PA_ERR_FORMAT, "%s: %" PRIu64 " rows, expected 1", path,
                     pa_lance_reader_num_rows(r));
    const uint32_t ds = st == PA_OK ? m.dimension / m.num_sub_vectors : 0;
    if (st == PA_OK)
        st = meta_list(r, path, META_COL_CENTROIDS, m.dimension, m.num_partitions, &c);
    if (st == PA_OK)
        st = meta_list(r, path, META_COL_CODEBOOK, ds, (uint64_t)m.num_sub_vectors << m.num_bits,
                       &cb);
    if (st == PA_OK)
        st = pa_check_vectors(c, m.num_partitions, m.dimension, path);
    if (st == PA_OK) {
        st = make_model(out, m.dimension, m.num_partitions, m.num_sub_vectors, m.num_bits, m.metric,
                        c, cb);
        c = cb = NULL; /* owned by the model (or freed by make_model) */
    }
    free(c);
    free(cb);
    pa_lance_reader_free(r);
    return st;
}

pa_status pa_ivfpq_model_save_metadata(const pa_ivfpq_model *m, const char *path, uint64_t *bytes,
                                       uint64_t *xxh64)
{
    const pa_backend_model *a = &m->a;
    const uint32_t ds = a->dim / a->num_sub_vectors;
    const uint64_t cb_items = (uint64_t)a->num_sub_vectors << a->num_bits;
    const pa_field f[2] = {{META_COL_CENTROIDS "." META_ITEM_CENTROIDS, PA_TYPE_LIST_FSL_FLOAT32,
                            a->dim},
                           {META_COL_CODEBOOK "." META_ITEM_CODEBOOK, PA_TYPE_LIST_FSL_FLOAT32,
                            ds}};
    pa_lance_write_options lo = PA_LANCE_WRITE_OPTIONS_INIT;
    lo.minor_version = PA_LANCE_FORMAT_2_2;
    lo.in_new_dir = 1;
    const uint64_t off_c[2] = {0, a->num_partitions}, off_cb[2] = {0, cb_items};
    const pa_lance_list lc = {off_c, a->centroids}, lcb = {off_cb, a->codebook};
    const void *cols[2] = {&lc, &lcb};
    char v[4][16];
    snprintf(v[0], sizeof v[0], "%u", a->num_partitions);
    snprintf(v[1], sizeof v[1], "%u", a->num_sub_vectors);
    snprintf(v[2], sizeof v[2], "%u", a->num_bits);
    snprintf(v[3], sizeof v[3], "%u", a->dim);
    const char *keys[] = {META_KEY_VERSION, META_KEY_DISTANCE, META_KEY_P,
                          META_KEY_M,       META_KEY_BITS,     META_KEY_DIM};
    const char *vals[] = {META_VERSION, pa_metric_name((pa_metric)a->metric), v[0], v[1], v[2],
                          v[3]};
    pa_lance_writer *w = NULL;
    pa_status st = pa_lance_writer_create(&w, path, f, 2, &lo);
    for (size_t i = 0; st == PA_OK && i < sizeof keys / sizeof keys[0]; i++)
        st = pa_lance_writer_set_metadata(w, keys[i], vals[i], strlen(vals[i]));
    if (st == PA_OK)
        st = pa_lance_writer_append(w, cols, 1);
    if (st == PA_OK)
        st = pa_lance_writer_close(w);
    if (st == PA_OK) {
        *bytes = pa_lance_writer_bytes_written(w);
        *xxh64 = pa_lance_writer_xxh64(w);
    }
    pa_lance_writer_free(w);
    return st;
}
