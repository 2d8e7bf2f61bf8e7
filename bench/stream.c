/* STREAM-like copy bandwidth: b[i] = a[i] over two float arrays of MIB MiB each, on the OpenMP
 * threads (OMP_NUM_THREADS), best of RUNS passes after a warm-up; prints GB/s counted as STREAM
 * counts a copy (bytes read + bytes written, 1e9 bytes per GB).
 * Usage: stream MIB [RUNS]   (build: cc -O3 -march=native -fopenmp stream.c -o stream) */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s MIB [RUNS]\n", argv[0]);
        return 2;
    }
    const size_t n = (size_t)strtoull(argv[1], NULL, 10) * (1u << 20) / sizeof(float);
    const int runs = argc > 2 ? atoi(argv[2]) : 5;
    float *a = aligned_alloc(64, n * sizeof(float) + 64),
          *b = aligned_alloc(64, n * sizeof(float) + 64);
    if (!n || runs < 1 || !a || !b) {
        fprintf(stderr, "%s: bad size or out of memory\n", argv[0]);
        return 2;
    }
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++)
        a[i] = (float)i, b[i] = 0;
    double best = 1e30;
    for (int r = 0; r <= runs; r++) { /* pass 0 warms up */
        double t0 = now();
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++)
            b[i] = a[i];
        double t = now() - t0;
        if (r > 0 && t < best)
            best = t;
    }
    if (b[n - 1] != (float)(n - 1)) /* keeps the copy */
        return 1;
    printf("%.1f\n", 2.0 * n * sizeof(float) / best / 1e9);
    free(a), free(b);
    return 0;
}
