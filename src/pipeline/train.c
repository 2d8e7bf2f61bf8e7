/* Training from an input: a seeded sample of distinct rows, read with pa_vec_input_read_sample,
 * handed to the IVF_PQ room to train on in place. Here rather than in src/ivfpq so that the
 * maths room knows nothing of input files. */
#include "common/common.h"
#include "common/vecmath.h"
#include "ivfpq/ivfpq_internal.h"

#include <stdlib.h>

/* Collects k distinct ordinals below n (Floyd's algorithm with a sorted check), ascending. */
static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

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
        free(set);
        qsort(rows, k, sizeof *rows, cmp_u64);
    }
    *out = rows;
    return PA_OK;
}

/* Samples an input and trains on the sample (see the header). */
pa_status pa_ivfpq_train_input(pa_ivfpq_model **out, pa_vec_input *in,
                               const pa_ivfpq_params *params, pa_ivfpq_train_stats *stats)
{
    *out = NULL;
    PA_LOAD_OPTS(pa_ivfpq_params, p, params, PA_IVFPQ_PARAMS_INIT);
    const pa_ivfpq_params *prm = &p;
    pa_ivfpq_train_stats s;
    memset(&s, 0, sizeof s);
    pa_status st = pa_stats_check(stats, "pa_ivfpq_train_stats");
    if (st != PA_OK)
        return st;
    const uint64_t n = pa_vec_input_num_rows(in);
    const uint32_t dim = pa_vec_input_dim(in);
    const uint64_t rate = prm->sample_rate ? prm->sample_rate : PA_DEFAULT_SAMPLE_RATE;
    uint64_t want = PA_MAX(rate * prm->num_partitions, (uint64_t)PA_PQ_SAMPLE_ROWS);
    want = PA_MIN(want, n);
    uint64_t *rows = NULL;
    st = sample_rows(n, want, prm->seed ^ 0xA5A5A5A5ull, &rows);
    if (st != PA_OK)
        return st;
    float *x = pa_malloc(sizeof(float) * want * dim + 1, "training sample");
    if (!x) {
        free(rows);
        return PA_ERR_NOMEM;
    }
    size_t got = 0;
    const uint64_t skipped_before = pa_vec_input_skipped(in);
    st = pa_vec_input_read_sample(in, rows, (size_t)want, x, &got);
    free(rows);
    if (st == PA_OK) /* the sample is ours: trained on in place, not copied */
        st = pa_ivfpq_train_owned(out, x, got, dim, prm, &s);
    if (st == PA_OK)
        s.sample_skipped_invalid = pa_vec_input_skipped(in) - skipped_before;
    free(x);
    pa_stats_store(stats, &s, sizeof s);
    return st;
}
