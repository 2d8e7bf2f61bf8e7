/* Copies a vector input (.fvecs, .npy, ...) into a new Lance dataset with one column "vector"
 * (fixed_size_list<float, dim>), streaming 1024 rows at a time: inputs for the memory tests.
 * Usage: to_dataset INPUT OUT_DATASET */
#include "partifact.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    pa_vec_input *in = NULL;
    pa_dataset_writer *w = NULL;
    float *x = NULL;
    int rc = 1;
    if (pa_vec_input_open(&in, argv[1], NULL) != PA_OK)
        goto done;
    const uint32_t dim = pa_vec_input_dim(in);
    pa_field f[] = {{"vector", PA_TYPE_FSL_FLOAT32, dim}};
    if (pa_dataset_writer_create(&w, argv[2], f, 1, NULL) != PA_OK)
        goto done;
    if (!(x = malloc(sizeof(float) * 1024 * dim)))
        goto done;
    for (;;) {
        size_t n;
        pa_status nst = pa_vec_input_next(in, x, NULL, 1024, &n);
        if (nst == PA_END)
            break;
        if (nst != PA_OK)
            goto done;
        const void *cols[] = {x};
        if (pa_dataset_writer_append(w, cols, n) != PA_OK)
            goto done;
    }
    if (pa_dataset_writer_commit(w) == PA_OK)
        rc = 0;
done:
    if (rc)
        fprintf(stderr, "to_dataset: %s\n", pa_last_error());
    free(x);
    pa_dataset_writer_free(w);
    pa_vec_input_free(in);
    return rc;
}
