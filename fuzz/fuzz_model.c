/* Fuzz target: an IVF_PQ model file (a Lance file whose schema metadata "partifact:model" is
 * JSON describing the model, centroids as its one column, the codebook in a global buffer), as
 * encode --model loads it. When it loads, the model is used: its arrays are taken, and a few
 * rows are assigned and encoded. */
#include "fuzz_common.h"
#include "partifact_backend.h" /* pa_backend_model */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[600];
    snprintf(path, sizeof path, "%s/model.lance", fz_scratch());
    fz_write(path, data, size);
    pa_ivfpq_model *m;
    if (pa_ivfpq_model_load(&m, path) != PA_OK)
        return 0;
    pa_backend_model a;
    pa_ivfpq_model_arrays(m, &a);
    if (a.dim && a.dim <= 4096 && a.num_sub_vectors <= a.dim) {
        enum { N = 3 };
        float *x = calloc((size_t)N * a.dim, sizeof(float));
        uint32_t parts[N];
        uint8_t *codes = malloc((size_t)N * a.num_sub_vectors + 1);
        if (x && codes) {
            for (size_t i = 0; i < (size_t)N * a.dim; i++)
                x[i] = (float)(i % 7) - 3.0f;
            (void)pa_ivfpq_assign_encode(m, x, N, parts, codes);
        }
        free(x), free(codes);
    }
    pa_ivfpq_model_free(m);
    return 0;
}
