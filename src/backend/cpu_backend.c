/* The built-in CPU backend: src/ivfpq behind the backend ABI, so the CLI and library drive the
 * CPU and accelerator plugins through the same interface. */
#include "backend/backend_internal.h"
#include "ivfpq/ivfpq_internal.h"

#include <stdlib.h>

static int cpu_create(void **state, const char *options, char *err, size_t err_len)
{
    const char *p = options;
    char key[64], value[8];
    int r = pa_backend_option_next(&p, key, sizeof key, value, sizeof value);
    if (r == 1) {
        snprintf(err, err_len,
                 "the cpu backend takes no options, got \"%s\" (unknown key "
                 "\"%s\")",
                 options, key);
        return 1;
    }
    if (r < 0) {
        snprintf(err, err_len, "the cpu backend takes no options, got \"%s\"", options);
        return 1;
    }
    static int token;
    *state = &token;
    return 0;
}

static void cpu_destroy(void *state) { (void)state; }

/* Trains with src/ivfpq on the sample in place (the host's sample is the largest allocation
 * of training; working on it halves training's memory) and copies the arrays out. */
static int cpu_train(void *state, const pa_backend_train_params *p, float *sample, uint64_t n,
                     float *centroids, float *codebook, pa_backend_train_stats *stats, char *err,
                     size_t err_len)
{
    (void)state;
    pa_ivfpq_params prm = {.struct_size = sizeof prm,
                           .num_partitions = p->num_partitions,
                           .num_sub_vectors = p->num_sub_vectors,
                           .num_bits = p->num_bits,
                           .metric = (pa_metric)p->metric,
                           .max_iters = p->max_iters,
                           .pq_max_iters = p->pq_max_iters,
                           .seed = p->seed};
    pa_ivfpq_model *m = NULL;
    pa_ivfpq_train_stats ts = {0};
    /* rows the host checked already (flags, where its struct has them) are not checked again */
    const bool checked = p->struct_size >=
                             offsetof(pa_backend_train_params, flags) + sizeof p->flags &&
                         (p->flags & PA_BACKEND_ROWS_CHECKED) != 0;
    pa_status st = pa_ivfpq_train_owned(&m, sample, n, p->dim, checked, &prm, &ts);
    if (st != PA_OK)
        goto done;
    pa_backend_model a;
    pa_ivfpq_model_arrays(m, &a);
    memcpy(centroids, a.centroids, sizeof(float) * a.num_partitions * a.dim);
    memcpy(codebook, a.codebook, sizeof(float) * ((size_t)1 << a.num_bits) * a.dim);
    pa_backend_train_stats s = {.struct_size = stats->struct_size,
                                .ivf_iters = ts.ivf_iters,
                                .pq_iters = ts.pq_iters,
                                .empty_repaired = ts.empty_repaired,
                                .ivf_seconds = ts.ivf_seconds,
                                .pq_seconds = ts.pq_seconds,
                                .ivf_work_share = ts.ivf_work_share,
                                .pq_work_share = ts.pq_work_share};
    memcpy(stats, &s, PA_MIN((size_t)stats->struct_size, sizeof s));
done:
    pa_ivfpq_model_free(m);
    if (st != PA_OK)
        snprintf(err, err_len, "%s", pa_last_error());
    return st != PA_OK;
}

/* Binding prepares the model once: centroid norms and the transposed codebook. */
static int cpu_bind(void *state, const pa_backend_model *model, void **bound, char *err,
                    size_t err_len)
{
    (void)state;
    pa_prepared *p = NULL;
    pa_status st = PA_OK;
    if (!(p = pa_malloc(sizeof *p, "a bound model"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    if ((st = pa_prepare(p, model)) != PA_OK)
        goto done;
    *bound = p;
    p = NULL;
done:
    free(p); /* pa_prepare frees what it made when it fails */
    if (st != PA_OK)
        snprintf(err, err_len, "%s", pa_last_error());
    return st != PA_OK;
}

/* Rows the host checked already (PA_BACKEND_ROWS_CHECKED) are not checked again. */
static int cpu_assign_encode_flags(void *state, void *bound, const float *x, uint64_t n,
                                   uint32_t flags, uint32_t *part_ids, uint8_t *codes, char *err,
                                   size_t err_len)
{
    (void)state;
    pa_status st = pa_encode_prepared(bound, x, n, part_ids, codes,
                                      (flags & PA_BACKEND_ROWS_CHECKED) != 0);
    if (st != PA_OK)
        snprintf(err, err_len, "%s", pa_last_error());
    return st != PA_OK;
}

static int cpu_assign_encode(void *state, void *bound, const float *x, uint64_t n,
                             uint32_t *part_ids, uint8_t *codes, char *err, size_t err_len)
{
    return cpu_assign_encode_flags(state, bound, x, n, 0, part_ids, codes, err, err_len);
}

static void cpu_unbind(void *state, void *bound)
{
    (void)state;
    pa_prepared_free(bound);
    free(bound);
}

/* The prepared copy of the model, and the working blocks of one call (see ivfpq_internal.h). */
static uint64_t cpu_work_bytes(void *state, const pa_backend_model *model, uint64_t batch_rows)
{
    (void)state;
    return pa_prepared_bytes(model) + (batch_rows ? pa_encode_work_bytes(model, batch_rows) : 0);
}

static const pa_backend_v2 cpu_table = {
    .abi_version = PA_BACKEND_ABI_VERSION,
    .struct_size = sizeof(pa_backend_v2),
    .name = "cpu",
    .create = cpu_create,
    .destroy = cpu_destroy,
    .train = cpu_train,
    .bind_model = cpu_bind,
    .assign_encode = cpu_assign_encode,
    .unbind_model = cpu_unbind,
    .work_bytes = cpu_work_bytes,
    .assign_encode_flags = cpu_assign_encode_flags,
};

const pa_backend_v2 *pa_cpu_backend_table(void) { return &cpu_table; }
