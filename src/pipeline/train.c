/* Training from an input: a seeded sample of distinct rows, read with pa_vec_input_read_sample,
 * checked against the model's rules and handed to a backend to train on in place (the cpu
 * backend hands it to the IVF_PQ room). Here rather than in src/ivfpq so that the maths room
 * knows nothing of input files. */
#include "common/common.h"
#include "common/vecmath.h"
#include "ivfpq/ivfpq_internal.h"
#include "pipeline/pipeline_internal.h"

#include <inttypes.h>
#include <stdlib.h>

/* Sorts v[0..k), every value below n, ascending: least significant digit first, a pass per
 * SORT_DIGIT_BITS bits of n - 1, through tmp (k values). A fraction of qsort's time on a
 * sample's 65,536 ordinals, where that sort ran alone on one core before the reads. */
#define SORT_DIGIT_BITS 11
static void sort_below(uint64_t *v, uint64_t k, uint64_t n, uint64_t *tmp)
{
    enum { R = 1u << SORT_DIGIT_BITS };
    uint64_t count[R];
    for (uint32_t shift = 0; shift < 64 && (n - 1) >> shift; shift += SORT_DIGIT_BITS) {
        memset(count, 0, sizeof count);
        for (uint64_t i = 0; i < k; i++)
            count[(v[i] >> shift) & (R - 1)]++;
        uint64_t at = 0;
        for (uint32_t d = 0; d < R; d++) {
            const uint64_t c = count[d];
            count[d] = at, at += c;
        }
        for (uint64_t i = 0; i < k; i++)
            tmp[count[(v[i] >> shift) & (R - 1)]++] = v[i];
        memcpy(v, tmp, sizeof(uint64_t) * k);
    }
}

/* Collects k distinct ordinals below n (Floyd's algorithm with a sorted check), ascending. */
static pa_status sample_rows(uint64_t n, uint64_t k, uint64_t seed, uint64_t **out)
{
    uint64_t *rows = pa_malloc(sizeof(uint64_t) * (k ? k : 1), "sample");
    if (!rows)
        return PA_ERR_NOMEM;
    if (k == n) {
        for (uint64_t i = 0; i < n; i++)
            rows[i] = i;
    } else {
        /* draw with a simple open-addressing set to reject repeats */
        uint64_t cap = 1;
        while (cap < 2 * k)
            cap <<= 1;
        uint64_t *set = pa_malloc(sizeof(uint64_t) * cap, "sample set");
        if (!set) {
            free(rows);
            return PA_ERR_NOMEM;
        }
        memset(set, 0xFF, sizeof(uint64_t) * cap);
        uint64_t s = seed, got = 0;
        while (got < k) {
            uint64_t r = pa_splitmix(&s) % n;
            uint64_t h = (r * 0x9E3779B97F4A7C15ull) & (cap - 1);
            while (set[h] != UINT64_MAX && set[h] != r)
                h = (h + 1) & (cap - 1);
            if (set[h] == r)
                continue;
            set[h] = r;
            rows[got++] = r;
        }
        sort_below(rows, k, n, set); /* (the set's 2k values are the sort's scratch) */
        free(set);
    }
    *out = rows;
    return PA_OK;
}

uint64_t pa_train_sample_bytes(uint64_t n, uint32_t dim) { return sizeof(float) * n * dim + 1; }

/* The rows of the seeded training sample of an input: sample_rate * num_partitions (at least
 * PA_PQ_SAMPLE_ROWS), at most the input's. */
static uint64_t sample_want(const pa_vec_input *in, const pa_ivfpq_params *prm)
{
    const uint64_t rate = prm->sample_rate ? prm->sample_rate : PA_DEFAULT_SAMPLE_RATE;
    const uint64_t want = PA_MAX(rate * prm->num_partitions, (uint64_t)PA_PQ_SAMPLE_ROWS);
    return PA_MIN(want, pa_vec_input_num_rows(in));
}

/* The sample's rows within memory bytes (0: want): want if they fit, else as many as fit, or
 * a refusal when fewer than training's least (max(partitions, codewords) rows) fit. A want
 * below that least is left for pa_ivfpq_check_sample to refuse, as without a budget. */
static pa_status sample_fit(uint64_t want, uint32_t dim, const pa_ivfpq_params *prm,
                            uint64_t memory, uint64_t *rows)
{
    *rows = want;
    const uint32_t bits = prm->num_bits ? prm->num_bits : PA_DEFAULT_NUM_BITS;
    const uint64_t K = bits < 32 ? (uint64_t)1 << bits : 0;
    const uint64_t least = PA_MAX((uint64_t)prm->num_partitions, K);
    if (!memory || !dim || pa_train_sample_bytes(want, dim) <= memory || want < least)
        return PA_OK;
    const uint64_t fit = (memory - 1) / (sizeof(float) * dim); /* pa_train_sample_bytes */
    if (fit >= least) {
        *rows = fit;
        return PA_OK;
    }
    return pa_fail_field(PA_ERR_BUDGET, "memory_bytes",
                         "the memory budget of %" PRIu64 " bytes is too small for the "
                         "training sample: %u partitions and %" PRIu64 " codewords need at "
                         "least %" PRIu64 " rows of dimension %u, %" PRIu64 " bytes; raise "
                         "memory_bytes",
                         memory, prm->num_partitions, K, least, dim,
                         pa_train_sample_bytes(least, dim));
}

/* Reads the seeded training sample of an input, want rows (sample_want, or fewer within a
 * budget), *got of them valid; of a distributed training's participant (comm), its share: run
 * comm->rank of the sample's rows in order cut into comm->size runs. */
static pa_status read_sample(pa_vec_input *in, const pa_ivfpq_params *prm, uint64_t want,
                             const pa_train_comm *comm, float **out, size_t *got)
{
    const uint64_t n = pa_vec_input_num_rows(in);
    const uint32_t dim = pa_vec_input_dim(in);
    uint64_t *rows = NULL;
    float *x = NULL;
    pa_status st = sample_rows(n, want, prm->seed ^ 0xA5A5A5A5ull, &rows);
    if (st != PA_OK)
        goto done;
    /* this participant's run of the sample (all of it without comm) */
    const uint64_t lo = comm ? want * comm->rank / comm->size : 0;
    const uint64_t hi = comm ? want * (comm->rank + 1) / comm->size : want;
    if (!(x = pa_malloc_dense((size_t)pa_train_sample_bytes(hi - lo, dim), "training sample"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    if ((st = pa_vec_input_read_sample(in, rows + lo, (size_t)(hi - lo), x, got)) != PA_OK)
        goto done;
    *out = x;
    x = NULL;
done:
    free(rows);
    free(x);
    return st;
}

/* Samples an input and trains on the sample through a backend (see the header). */
pa_status pa_train_input(pa_ivfpq_model **out, pa_vec_input *in, const pa_ivfpq_params *params,
                         pa_backend *backend, pa_ivfpq_train_stats *stats)
{
    return pa_train_input_budget(out, in, params, backend, 0, stats);
}

/* pa_train_input with the sample within a budget (see pipeline_internal.h). */
pa_status pa_train_input_budget(pa_ivfpq_model **out, pa_vec_input *in,
                                const pa_ivfpq_params *params, pa_backend *backend,
                                uint64_t memory_bytes, pa_ivfpq_train_stats *stats)
{
    *out = NULL;
    PA_LOAD_OPTS(pa_ivfpq_params, p, params, PA_IVFPQ_PARAMS_INIT);
    const pa_ivfpq_params *prm = &p;
    pa_backend *own_backend = NULL;
    float *x = NULL, *centroids = NULL, *codebook = NULL;
    size_t got = 0;
    const uint32_t dim = pa_vec_input_dim(in);
    const uint64_t skipped_before = pa_vec_input_skipped(in);
    const double t0 = pa_now_seconds();
    const uint64_t want = sample_want(in, prm);
    uint64_t take = want;
    pa_status st = pa_stats_check(stats, "pa_ivfpq_train_stats");
    if (st != PA_OK || (st = sample_fit(want, dim, prm, memory_bytes, &take)) != PA_OK ||
        (st = read_sample(in, prm, take, NULL, &x, &got)) != PA_OK)
        goto done;
    /* the model's rules, checked here for every backend: the shape and enough rows; every row
     * read is checked already (finite, norm within the limit: pa_vec_input_read_sample), which
     * the backend is told (PA_BACKEND_ROWS_CHECKED), so the rows are checked once */
    if ((st = pa_ivfpq_check_sample(got, dim, prm)) != PA_OK)
        goto done;
    const double sample_seconds = pa_now_seconds() - t0;
    if (!backend) {
        if ((st = pa_backend_open(&own_backend, PA_DEFAULT_BACKEND, NULL, NULL)) != PA_OK)
            goto done;
        backend = own_backend;
    }
    /* the defaults resolved: a backend is told every value */
    const uint32_t bits = prm->num_bits ? prm->num_bits : PA_DEFAULT_NUM_BITS;
    const uint64_t K = (uint64_t)1 << bits;
    centroids = pa_malloc(sizeof(float) * prm->num_partitions * dim, "trained centroids");
    codebook = pa_malloc(sizeof(float) * K * dim, "trained codebook");
    if (!centroids || !codebook) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    pa_backend_train_params tp = {.struct_size = sizeof tp,
                                  .dim = dim,
                                  .num_partitions = prm->num_partitions,
                                  .num_sub_vectors = prm->num_sub_vectors,
                                  .num_bits = bits,
                                  .metric = (int32_t)prm->metric,
                                  .max_iters = prm->max_iters ? prm->max_iters
                                                              : PA_DEFAULT_MAX_ITERS,
                                  .pq_max_iters = prm->pq_max_iters ? prm->pq_max_iters
                                                                    : PA_DEFAULT_PQ_MAX_ITERS,
                                  .seed = prm->seed,
                                  .flags = PA_BACKEND_ROWS_CHECKED};
    pa_backend_train_stats bs = {.struct_size = sizeof bs};
    /* the sample is the backend's to work on in place (the cpu backend trains on it, no copy) */
    if ((st = pa_backend_train(backend, &tp, x, got, centroids, codebook, &bs)) != PA_OK)
        goto done;
    free(x);
    x = NULL;
    pa_backend_model a = {.dim = dim,
                          .num_partitions = prm->num_partitions,
                          .num_sub_vectors = prm->num_sub_vectors,
                          .num_bits = bits,
                          .metric = (int32_t)prm->metric,
                          .centroids = centroids,
                          .codebook = codebook};
    if ((st = pa_ivfpq_model_from_arrays(out, &a)) != PA_OK)
        goto done;
    pa_ivfpq_train_stats s = {.struct_size = sizeof s,
                              .sample_rows = got,
                              .ivf_iters = bs.ivf_iters,
                              .pq_iters = bs.pq_iters,
                              .empty_repaired = bs.empty_repaired,
                              .ivf_seconds = bs.ivf_seconds,
                              .pq_seconds = bs.pq_seconds,
                              .sample_skipped_invalid = pa_vec_input_skipped(in) - skipped_before,
                              .sample_seconds = sample_seconds,
                              .sample_wanted_rows = take < want ? want : 0,
                              .ivf_work_share = bs.ivf_work_share,
                              .pq_work_share = bs.pq_work_share};
    pa_stats_store(stats, &s, sizeof s);
done:
    free(x);
    free(centroids);
    free(codebook);
    pa_backend_free(own_backend);
    return st;
}

/* Training through the built-in cpu backend (see the header). */
pa_status pa_ivfpq_train_input(pa_ivfpq_model **out, pa_vec_input *in,
                               const pa_ivfpq_params *params, pa_ivfpq_train_stats *stats)
{
    return pa_train_input(out, in, params, NULL, stats);
}

/* Trains as one participant of a distributed training (see the header). */
pa_status pa_train_input_comm(pa_ivfpq_model **out, pa_vec_input *in, const pa_ivfpq_params *params,
                              const pa_train_comm *comm, pa_ivfpq_train_stats *stats)
{
    *out = NULL;
    PA_LOAD_OPTS(pa_ivfpq_params, p, params, PA_IVFPQ_PARAMS_INIT);
    PA_LOAD_OPTS(pa_train_comm, c, comm, PA_TRAIN_COMM_INIT);
    float *x = NULL;
    double *v = NULL;
    size_t got = 0;
    const uint32_t dim = pa_vec_input_dim(in);
    const uint64_t skipped_before = pa_vec_input_skipped(in);
    pa_ivfpq_train_stats s = PA_IVFPQ_TRAIN_STATS_INIT;
    pa_status st = pa_stats_check(stats, "pa_ivfpq_train_stats");
    if (st != PA_OK)
        return st;
    if (!comm || !c.sum || c.size == 0 || c.rank >= c.size)
        return pa_fail(PA_ERR_INVALID,
                       "comm: a participant needs a sum and a rank below size (rank %u, size %u)",
                       c.rank, c.size);
    /* this participant's share, checked here; then every participant's count and whether its
     * share was refused, in one sum: [count per participant], refused, skipped */
    /* (its rows checked as they are read: pa_vec_input_read_sample) */
    pa_status mine = read_sample(in, &p, sample_want(in, &p), &c, &x, &got);
    if (!(v = pa_calloc((size_t)c.size + 2, sizeof(double), "training sample counts"))) {
        st = PA_ERR_NOMEM; /* (the others wait in their sum: the engine ends them) */
        goto done;
    }
    v[c.rank] = (double)got;
    v[c.size] = mine != PA_OK;
    v[c.size + 1] = (double)(pa_vec_input_skipped(in) - skipped_before);
    if ((st = pa_comm_sum(&c, v, (size_t)c.size + 2)) != PA_OK)
        goto done;
    if ((st = mine) != PA_OK)
        goto done;
    if (v[c.size] > 0) {
        st = pa_fail(PA_ERR_INVALID, PA_TRAIN_COMM_REFUSED);
        goto done;
    }
    pa_kmeans_part part = {.comm = &c};
    for (uint32_t q = 0; q < c.size; q++)
        part.total += (uint64_t)v[q], part.first += q < c.rank ? (uint64_t)v[q] : 0;
    if ((st = pa_ivfpq_check_sample(part.total, dim, &p)) != PA_OK ||
        (st = pa_ivfpq_train_part(out, x, got, dim, &p, &part, &s)) != PA_OK)
        goto done;
    s.sample_skipped_invalid = (uint64_t)v[c.size + 1];
    pa_stats_store(stats, &s, sizeof s);
done:
    free(x);
    free(v);
    return st;
}
