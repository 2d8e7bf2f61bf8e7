/* The C side of the Python overhead benchmark (python_bench.sh): search latency at batch 1
 * (every query alone: p50 and p99 per run) and the time of one batch of all queries, through
 * the library called from C. Usage: python_search_c INDEX QUERIES K NPROBES RUNS
 * Prints one line per run: "run R batch1_p50_us P batch1_p99_us P batchN_ms T". */
#define _POSIX_C_SOURCE 200809L
#include "partifact.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: python_search_c INDEX QUERIES K NPROBES RUNS\n");
        return 2;
    }
    pa_index *idx = NULL;
    float *q = NULL, *dists = NULL;
    uint64_t *ids = NULL, nq = 0;
    double *lat = NULL;
    uint32_t dim = 0;
    int rc = 1;
    const uint32_t k = (uint32_t)atoi(argv[3]), nprobes = (uint32_t)atoi(argv[4]);
    const int runs = atoi(argv[5]);
    if (pa_index_open(&idx, argv[1]) != PA_OK ||
        pa_vec_input_read_all(argv[2], NULL, &q, &nq, &dim) != PA_OK) {
        fprintf(stderr, "python_search_c: %s\n", pa_last_error());
        goto done;
    }
    ids = malloc(sizeof(uint64_t) * nq * k);
    dists = malloc(sizeof(float) * nq * k);
    lat = malloc(sizeof(double) * nq);
    if (!ids || !dists || !lat)
        goto done;
    pa_index_search_options so = PA_INDEX_SEARCH_OPTIONS_INIT;
    so.k = k;
    so.nprobes = nprobes;
#ifdef PA_FAST_SCAN_OFF /* PA_BENCH_PLAIN set: a 4-bit index's plain scan (fastscan_bench.sh) */
    if (getenv("PA_BENCH_PLAIN"))
        so.fast_scan = PA_FAST_SCAN_OFF;
#endif
    for (int r = 0; r < runs; r++) {
        for (uint64_t i = 0; i < nq; i++) {
            double t0 = now_us();
            if (pa_index_search(idx, q + i * dim, 1, dim, &so, ids, dists, NULL) != PA_OK)
                goto fail;
            lat[i] = now_us() - t0;
        }
        qsort(lat, nq, sizeof(double), cmp_d);
        double t0 = now_us();
        if (pa_index_search(idx, q, nq, dim, &so, ids, dists, NULL) != PA_OK)
            goto fail;
        double batch = (now_us() - t0) / 1e3;
        printf("run %d batch1_p50_us %.1f batch1_p99_us %.1f batch%llu_ms %.2f\n", r, lat[nq / 2],
               lat[(nq * 99) / 100], (unsigned long long)nq, batch);
    }
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "python_search_c: %s\n", pa_last_error());
done:
    free(lat), free(ids), free(dists), free(q);
    pa_index_free(idx);
    return rc;
}
