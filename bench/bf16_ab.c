/* The coarse assignment (pa_assign_sgemm) with the AVX512-BF16 candidate pass on and off
 * (pa_bf16_set), alternating on, off, on, off ... REPS times each on the same rows and
 * centroids; prints each run's thread CPU seconds, the medians, and whether the assignments
 * and winning values are the same bytes. Rows: gen-vectors' .fvecs (first N); centroids: rows
 * 0, 1, 2 ... moved to the mean of their nearest rows ITERS times (Lloyd on the rows).
 * Build: cc -O2 -fopenmp -Isrc -Iinclude -Ibuild/proto bench/bf16_ab.c build/libpartifact.a \
 *        $(pkg-config --libs openblas 2>/dev/null || echo -lopenblas) -lm -o build/bf16_ab
 * Usage: OMP_NUM_THREADS=1 build/bf16_ab FILE.fvecs N K [REPS (5)] [ITERS (2)] */
#include "ivfpq/ivfpq_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bf16_ab FILE.fvecs N K [REPS] [ITERS]\n");
        return 2;
    }
    const uint64_t n = strtoull(argv[2], NULL, 10);
    const uint32_t k = (uint32_t)atoi(argv[3]);
    const int reps = argc > 4 ? atoi(argv[4]) : 5, iters = argc > 5 ? atoi(argv[5]) : 2;
    FILE *f = fopen(argv[1], "rb");
    int32_t dim32 = 0;
    if (!f || fread(&dim32, 4, 1, f) != 1 || dim32 <= 0)
        return 1;
    const uint32_t dim = (uint32_t)dim32;
    rewind(f);
    float *x = malloc(sizeof(float) * n * dim), *c = malloc(sizeof(float) * k * dim);
    float *cn = malloc(sizeof(float) * k), *v0 = malloc(4 * n), *v1 = malloc(4 * n);
    uint32_t *a0 = malloc(4 * n), *a1 = malloc(4 * n);
    double *sum = malloc(sizeof(double) * k * dim), *cnt = malloc(sizeof(double) * k);
    for (uint64_t i = 0; i < n; i++)
        if (fread(&dim32, 4, 1, f) != 1 || fread(x + i * dim, 4, dim, f) != dim)
            return 1;
    fclose(f);
    for (uint32_t j = 0; j < k; j++)
        memcpy(c + (size_t)j * dim, x + (size_t)(j * 7919ull % n) * dim, 4 * dim);
    pa_bf16_set(false);
    for (int it = 0; it <= iters; it++) {
        for (uint32_t j = 0; j < k; j++)
            cn[j] = pa_sq_norm(c + (size_t)j * dim, dim);
        if (it == iters)
            break;
        pa_assign_sgemm(x, n, dim, c, k, cn, false, a0, NULL);
        memset(sum, 0, sizeof(double) * k * dim), memset(cnt, 0, sizeof(double) * k);
        for (uint64_t i = 0; i < n; i++) {
            cnt[a0[i]]++;
            for (uint32_t d = 0; d < dim; d++)
                sum[(size_t)a0[i] * dim + d] += x[i * dim + d];
        }
        for (uint32_t j = 0; j < k; j++)
            for (uint32_t d = 0; d < dim && cnt[j] > 0; d++)
                c[(size_t)j * dim + d] = (float)(sum[(size_t)j * dim + d] / cnt[j]);
    }
    double *ton = malloc(sizeof(double) * reps), *toff = malloc(sizeof(double) * reps);
    for (int r = 0; r < reps; r++) {
        pa_bf16_set(true);
        double t = cpu_now();
        pa_assign_sgemm(x, n, dim, c, k, cn, false, a1, v1);
        ton[r] = cpu_now() - t;
        pa_bf16_set(false);
        t = cpu_now();
        pa_assign_sgemm(x, n, dim, c, k, cn, false, a0, v0);
        toff[r] = cpu_now() - t;
        printf("run %d: bf16 %.3f s, fp32 %.3f s\n", r, ton[r], toff[r]);
    }
    qsort(ton, reps, sizeof(double), cmp_d), qsort(toff, reps, sizeof(double), cmp_d);
    printf("n %llu dim %u k %u: median bf16 %.3f s, fp32 %.3f s (%.2fx); same bytes: %s\n",
           (unsigned long long)n, dim, k, ton[reps / 2], toff[reps / 2],
           toff[reps / 2] / ton[reps / 2],
           !memcmp(a0, a1, 4 * n) && !memcmp(v0, v1, 4 * n) ? "yes" : "NO");
    return 0;
}
