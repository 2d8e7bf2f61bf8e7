/* sgemm GFLOP/s of whichever CBLAS it is linked with, measured as partifact --version --verbose
 * measures it (1024^3, row-major, best of 3 after a warm-up), to compare BLAS libraries:
 *   cc -O2 bench/sgemm.c -o sgemm-openblas -L$DIR -Wl,-rpath,$DIR -lopenblas
 *   cc -O2 bench/sgemm.c -o sgemm-blis $DIR/libblis.so.4 -Wl,-rpath,$DIR -fopenmp
 * (bench/kernels_bench.sh builds and runs both). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { ROW_MAJOR = 101, NO_TRANS = 111 };
void cblas_sgemm(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a,
                 int lda, const float *b, int ldb, float beta, float *c, int ldc);

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(void)
{
    const int n = 1024;
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n);
    float *c = malloc(sizeof(float) * n * n);
    if (!a || !b || !c)
        return 1;
    for (int i = 0; i < n * n; i++) {
        a[i] = (float)(i % 17) * 0.0625f - 0.5f;
        b[i] = (float)(i % 13) * 0.125f - 0.75f;
    }
    double best = 0;
    for (int run = 0; run <= 3; run++) { /* run 0 is the warm-up */
        double t0 = now();
        cblas_sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double t = now() - t0;
        if (run > 0 && (best == 0 || t < best))
            best = t;
    }
    printf("%.1f\n", 2.0 * n * n * n / best / 1e9);
    free(a), free(b), free(c);
    return 0;
}
