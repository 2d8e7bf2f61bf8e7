/* The built-in CPU backend: src/ivfpq behind the backend ABI, so the CLI and library drive the
 * CPU and accelerator plugins through the same interface. */
#include "backend/backend_internal.h"
#include "ivfpq/ivfpq_internal.h"

#include <stdlib.h>

static int cpu_create(void **state, const char *options, char *err, size_t err_len)
{
    if (options && options[0]) {
        snprintf(err, err_len, "the cpu backend takes no options, got \"%s\"", options);
        return 1;
    }
    static int token;
    *state = &token;
    return 0;
}

static void cpu_destroy(void *state) { (void)state; }

/* Trains with pa_ivfpq_train and copies the arrays out. */
static int cpu_train(void *state, const pa_backend_train_params *p, const float *sample,
                     uint64_t n, float *centroids, float *codebook, char *err, size_t err_len)
{
    (void)state;
    pa_ivfpq_params prm = {.struct_size = sizeof prm,
                           .num_partitions = p->num_partitions,
                           .num_sub_vectors = p->num_sub_vectors,
                           .num_bits = p->num_bits,
                           .metric = (pa_metric)p->metric,
                           .max_iters = p->max_iters,
                           .seed = p->seed};
    pa_ivfpq_model *m;
    if (pa_ivfpq_train(&m, sample, n, p->dim, &prm, NULL) != PA_OK) {
        snprintf(err, err_len, "%s", pa_last_error());
        return 1;
    }
    pa_backend_model a;
    pa_ivfpq_model_arrays(m, &a);
    memcpy(centroids, a.centroids, sizeof(float) * a.num_partitions * a.dim);
    memcpy(codebook, a.codebook,
           sizeof(float) * a.num_sub_vectors * (1u << a.num_bits) * (a.dim / a.num_sub_vectors));
    pa_ivfpq_model_free(m);
    return 0;
}

/* Prepares the model's norms and transposed codebook, then assigns and encodes. */
static int cpu_assign_encode(void *state, const pa_backend_model *model, const float *x,
                             uint64_t n, uint32_t *part_ids, uint8_t *codes, char *err,
                             size_t err_len)
{
    (void)state;
    pa_prepared p;
    pa_status st = pa_prepare(&p, model);
    if (st == PA_OK) {
        st = pa_encode_prepared(&p, x, n, part_ids, codes);
        pa_prepared_free(&p);
    }
    if (st != PA_OK) {
        snprintf(err, err_len, "%s", pa_last_error());
        return 1;
    }
    return 0;
}

static const pa_backend_v1 cpu_table = {
    .abi_version = PA_BACKEND_ABI_VERSION,
    .struct_size = sizeof(pa_backend_v1),
    .name = "cpu",
    .create = cpu_create,
    .destroy = cpu_destroy,
    .train = cpu_train,
    .assign_encode = cpu_assign_encode,
};

const pa_backend_v1 *pa_cpu_backend_table(void) { return &cpu_table; }
