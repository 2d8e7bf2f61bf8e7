/* The PQ nearest-codeword kernel alone (pa_nearest_small), single-threaded: nanoseconds per
 * sub-vector against K = 256 codewords for the sub-vector widths of the build benchmarks (ds 8:
 * 1M x 128 with M = 16; ds 49: Fashion-MNIST's 784 with M = 16; ds 4: 4-bit M = 32 with K = 16)
 * and both call shapes (the k-means': 4,096 contiguous sub-vectors; the encode's: 64 rows of 128
 * values at a stride). Thread CPU time (CLOCK_THREAD_CPUTIME_ID), the best of REPS passes, so
 * that other processes on a shared machine cost as little as they can; and the kernel's
 * floating-point rate (2 ds K flops a sub-vector). A checksum of the codes guards against
 * a kernel that computes nothing.
 * Build: cc -O2 -Isrc -Iinclude -Ibuild/proto bench/pq_kernel_bench.c build/libpartifact.a \
 *          -fopenmp -lopenblas -lprotobuf-c -lxxhash -ljansson -lzstd -llz4 -lroaring -lm
 * Usage: pq_kernel_bench [REPS (15)] [KERNEL (the CPU's widest)] */
#include "ivfpq/ivfpq_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static uint64_t rng = 88172645463325252ull;
static float frand(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)((rng >> 11) * 0x1p-53) * 2 - 1;
}

/* one case: n sub-vectors of ds values at stride stride, K codewords, calls calls per pass */
static void run(const char *name, uint32_t ds, uint32_t K, uint64_t n, size_t stride,
                uint32_t calls, int reps)
{
    float *x = malloc(sizeof(float) * (n * stride + ds));
    float *cbt = malloc(sizeof(float) * K * ds), *norms = malloc(sizeof(float) * K);
    uint32_t *out = malloc(4 * n);
    float *val = malloc(sizeof(float) * n);
    for (uint64_t i = 0; i < n * stride + ds; i++)
        x[i] = frand();
    for (uint32_t k = 0; k < K; k++) {
        norms[k] = 0;
        for (uint32_t j = 0; j < ds; j++) {
            float c = frand();
            cbt[(size_t)j * K + k] = -2 * c;
            norms[k] += c * c;
        }
    }
    double best = 1e30;
    uint64_t sum = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = cpu_now();
        for (uint32_t c = 0; c < calls; c++)
            pa_nearest_small(x, stride, n, cbt, norms, ds, K, out, val);
        double t = cpu_now() - t0;
        best = t < best ? t : best;
        for (uint64_t i = 0; i < n; i++)
            sum += out[i];
    }
    const double per = best / ((double)n * calls);
    printf("%-26s ds %2u K %3u: %7.2f ns a sub-vector, %6.1f GFLOP/s (codes sum %llu)\n", name, ds,
           K, per * 1e9, 2.0 * ds * K / per * 1e-9, (unsigned long long)sum);
    free(x), free(cbt), free(norms), free(out), free(val);
}

int main(int argc, char **argv)
{
    const int reps = argc > 1 ? atoi(argv[1]) : 15;
    if (argc > 2 && !pa_kernel_set(argv[2])) {
        fprintf(stderr, "this CPU cannot run the %s kernel\n", argv[2]);
        return 1;
    }
    printf("kernel %s, best of %d passes\n", pa_kernel_name(), reps);
    run("k-means (4096 rows)", 8, 256, 4096, 8, 20, reps);
    run("encode (64 rows, dim 128)", 8, 256, 64, 128, 1280, reps);
    run("k-means (4096 rows)", 49, 256, 4096, 49, 4, reps);
    run("encode (64 rows, dim 784)", 49, 256, 64, 784, 256, reps);
    run("k-means 4-bit (4096 rows)", 4, 16, 4096, 4, 200, reps);
    return 0;
}
