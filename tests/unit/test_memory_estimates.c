/* Each component's memory estimate against what it allocates: the heap in use (glibc's
 * mallinfo2, this process's main arena and its mmapped blocks) is measured around the component
 * and compared with its estimate, and budget refusals give the estimate's numbers; training's
 * peak comes from this binary's own malloc, which counts every block's usable size.
 * Cases: lance_writer, artifact_writer, train. */
#include "ivfpq/ivfpq_internal.h"
#include "lance/lance_internal.h"
#include "partifact.h"
#include "test.h"

#include <cblas.h>
#include <inttypes.h>
#include <malloc.h>
#include <omp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if !defined(__SANITIZE_ADDRESS__)
/* The process's heap in use and its peak, counted by malloc and free here, which wrap glibc's
 * (glibc supports replacing them; its own allocations come through here too). */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
extern void __libc_free(void *p);
static _Atomic int64_t heap_live, heap_peak;

static void heap_track(int64_t delta)
{
    int64_t now = atomic_fetch_add(&heap_live, delta) + delta;
    int64_t peak = atomic_load(&heap_peak);
    while (now > peak && !atomic_compare_exchange_weak(&heap_peak, &peak, now))
        ;
}

static void *tracked(void *p)
{
    if (p)
        heap_track((int64_t)malloc_usable_size(p));
    return p;
}

void *malloc(size_t n) { return tracked(__libc_malloc(n)); }
void *calloc(size_t n, size_t size) { return tracked(__libc_calloc(n, size)); }
void *memalign(size_t align, size_t n) { return tracked(__libc_memalign(align, n)); }
void *aligned_alloc(size_t align, size_t n) { return tracked(__libc_memalign(align, n)); }
int posix_memalign(void **out, size_t align, size_t n)
{
    *out = tracked(__libc_memalign(align, n));
    return *out ? 0 : 12 /* ENOMEM */;
}
void *realloc(void *p, size_t n)
{
    const int64_t old = p ? (int64_t)malloc_usable_size(p) : 0;
    void *q = __libc_realloc(p, n);
    if (q)
        heap_track((int64_t)malloc_usable_size(q) - old);
    else if (p && n == 0)
        heap_track(-old);
    return q;
}
void free(void *p)
{
    if (p)
        heap_track(-(int64_t)malloc_usable_size(p));
    __libc_free(p);
}
#endif

/* Bytes of heap in use now. */
static uint64_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
}

/* malloc's own overhead: at most this much per allocation (header and rounding). */
#define PER_ALLOC_SLACK 32

/* A buffered Lance writer (rows appended, pages flushed as they fill): the heap it holds after
 * some pages are written is its estimate, give or take malloc's overhead per allocation. */
static void test_lance_writer(void)
{
    const char *path = tpath("estimate.lance");
    pa_field f[] = {{"id", PA_TYPE_UINT64, 1},
                    {"code", PA_TYPE_FSL_UINT8, 16},
                    {"vec", PA_TYPE_FSL_FLOAT32, 32}};
    pa_lance_write_options o = PA_LANCE_WRITE_OPTIONS_INIT;
    o.page_bytes = 256u << 10, o.replace = 1;
    enum { BATCH = 1000 };
    static uint64_t id[BATCH];
    static uint8_t code[BATCH * 16];
    static float vec[BATCH * 32];
    const void *cols[] = {id, code, vec};
    const uint64_t before = heap_in_use();
    pa_lance_writer *w = NULL;
    CHECK_OK(pa_lance_writer_create(&w, path, f, 3, &o));
    if (!w)
        return;
    /* 40,000 rows: the vector column (128-byte rows, 2048 a page) writes 19 pages, the others
     * fewer; the estimate for 19 pages a column covers every column's records */
    for (int b = 0; b < 40; b++)
        CHECK_OK(pa_lance_writer_append(w, cols, BATCH));
    const uint64_t held = heap_in_use() - before;
    const uint64_t est = pa_lance_writer_estimate(strlen(path), f, 3, &o, 19, true);
    printf("lance writer: %" PRIu64 " bytes held, estimate %" PRIu64 "\n", held, est);
    /* the three page buffers and the staging buffer are mmapped blocks: a page of overhead each */
    CHECK(held <= est + 40 * PER_ALLOC_SLACK + 4 * 4096);
    CHECK(est <= held + held / 8); /* and not far above it */
    CHECK_OK(pa_lance_writer_close(w));
    pa_lance_writer_free(w);
    /* written through write_pages (the artifact's way): no page buffers */
    pa_lance_write_options fz = PA_LANCE_WRITE_OPTIONS_INIT;
    fz.layout = PA_LAYOUT_FULLZIP, fz.replace = 1;
    const uint64_t before2 = heap_in_use();
    CHECK_OK(pa_lance_writer_create(&w, path, f, 3, &fz));
    for (int b = 0; b < 20 && w; b++)
        CHECK_OK(pa_lance_writer_write_pages(w, cols, BATCH));
    const uint64_t held2 = heap_in_use() - before2;
    const uint64_t est2 = pa_lance_writer_estimate(strlen(path), f, 3, &fz, 20, false);
    printf("lance writer (write_pages): %" PRIu64 " bytes held, estimate %" PRIu64 "\n", held2,
           est2);
    CHECK(held2 <= est2 + 20 * PER_ALLOC_SLACK && est2 <= held2 + 4096);
    pa_lance_writer_free(w);
}

/* A buffered Lance writer of list columns (lance-cuvs' metadata.lance shape and list<float>):
 * after many pages, the heap it holds stays within its estimate (which counts a page of items
 * and its rows' lengths; one row longer than a page would add its own size). */
static void test_lance_writer_lists(void)
{
    const char *path = tpath("estimate-lists.lance");
    pa_field f[] = {{"lv.lv_item", PA_TYPE_LIST_FSL_FLOAT32, 8}, {"lf", PA_TYPE_LIST_FLOAT32, 1}};
    pa_lance_write_options o = PA_LANCE_WRITE_OPTIONS_INIT;
    o.page_bytes = 64u << 10, o.replace = 1, o.minor_version = PA_LANCE_FORMAT_2_2;
    enum { ROWS = 1000 };
    static uint64_t off[ROWS + 1];
    static float items[ROWS * 9 * 8];
    for (int i = 0; i < ROWS; i++)
        off[i + 1] = off[i] + 1 + i % 9;
    const pa_lance_list l = {off, items};
    const void *cols[] = {&l, &l};
    const uint64_t before = heap_in_use();
    pa_lance_writer *w = NULL;
    CHECK_OK(pa_lance_writer_create(&w, path, f, 2, &o));
    if (!w)
        return;
    uint64_t peak = 0;
    for (int b = 0; b < 20; b++) { /* 100,000 items of 32 bytes: about 48 pages of lv */
        CHECK_OK(pa_lance_writer_append(w, cols, ROWS));
        peak = PA_MAX(peak, heap_in_use() - before);
    }
    const uint64_t est = pa_lance_writer_estimate(strlen(path), f, 2, &o, 64, true);
    printf("lance writer (lists): peak %" PRIu64 " bytes held, estimate %" PRIu64 "\n", peak, est);
    CHECK(peak <= est + 40 * PER_ALLOC_SLACK + 4 * 4096);
    CHECK_OK(pa_lance_writer_close(w));
    pa_lance_writer_free(w);
}

/* The artifact writer: a budget of its estimate is accepted and one byte less refused with the
 * estimate's number; with every row appended (buffers flushed many times) the heap it holds
 * stays within that budget. */
static void test_artifact_writer(void)
{
    pa_artifact_params p = PA_ARTIFACT_PARAMS_INIT;
    p.num_partitions = 50, p.num_buckets = 8, p.code_bytes = 16, p.dimension = 32, p.replace = 1;
    uint64_t est = 0;
    CHECK_OK(pa_artifact_writer_estimate(tpath("est-art"), &p, &est));
    pa_artifact_writer *w = NULL;
    char want[128];
    p.memory_bytes = est - 1;
    snprintf(want, sizeof want, "at least %" PRIu64 " bytes are needed", est);
    CHECK_ERR(pa_artifact_writer_create(&w, tpath("est-art"), &p), PA_ERR_BUDGET, want);
    p.memory_bytes = est;
    CHECK_OK(pa_artifact_writer_create(&w, tpath("est-art"), &p));
    pa_artifact_writer_free(w);
    w = NULL;

    /* with the rows known: the range table and page records of the smallest buffers too */
    enum { ROWS = 200000, BATCH = 1000 };
    p.expected_rows = ROWS;
    CHECK_OK(pa_artifact_writer_estimate(tpath("est-art"), &p, &est));
    p.memory_bytes = est;
    const uint64_t before = heap_in_use();
    CHECK_OK(pa_artifact_writer_create(&w, tpath("est-art"), &p));
    if (!w)
        return;
    static uint64_t ids[BATCH];
    static uint32_t parts[BATCH];
    static uint8_t codes[BATCH * 16];
    uint64_t peak = 0, s = 1;
    for (uint64_t r = 0; r < ROWS; r += BATCH) {
        for (int i = 0; i < BATCH; i++) {
            ids[i] = r + (uint64_t)i;
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            parts[i] = (uint32_t)((s >> 33) % p.num_partitions);
        }
        CHECK_OK(pa_artifact_writer_append(w, ids, BATCH, parts, BATCH, codes, sizeof codes));
        peak = PA_MAX(peak, heap_in_use() - before);
    }
    pa_artifact_write_stats ws;
    pa_artifact_writer_stats(w, &ws);
    printf("artifact writer: budget %" PRIu64 ", peak %" PRIu64 " bytes held, %" PRIu64
           " flushes, %" PRIu64 " ranges\n",
           est, peak, ws.flushes, ws.ranges);
    CHECK(ws.flushes > 100);
    CHECK(peak <= est);
    CHECK_OK(pa_artifact_writer_finish(w));
    pa_artifact_writer_free(w);
}

#if !defined(__SANITIZE_ADDRESS__)
/* The heap OpenBLAS itself takes for an sgemm of n x dim rows against k centroids (its own
 * working memory, not partifact's, so not in partifact's estimates): measured. */
static uint64_t blas_heap(int n, int dim, int k)
{
    float *a = calloc((size_t)n * dim, sizeof(float)), *b = calloc((size_t)k * dim, sizeof(float));
    float *c = calloc((size_t)n * k, sizeof(float));
    const int64_t before = atomic_load(&heap_live);
    atomic_store(&heap_peak, before);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, k, dim, 1.0f, a, dim, b, dim, 0.0f, c,
                k);
    const uint64_t peak = (uint64_t)(atomic_load(&heap_peak) - before);
    free(a), free(b), free(c);
    return peak;
}

/* Training: its peak heap, over what was in use before, stays within pa_ivfpq_train_bytes (plus
 * what OpenBLAS takes for its sgemm, and malloc's rounding of each block); for l2 and dot, and a
 * shape whose coarse and PQ k-means both assign with grouped bounds where the CPU has AVX-512
 * (128 values x 32 centroids a group; sub-vectors of 64). */
static void test_train(void)
{
    const struct {
        uint64_t n;
        uint32_t dim, P, M;
    } shapes[] = {{30000, 32, 64, 8}, {20000, 128, 512, 2}};
    for (size_t t = 0; t < sizeof shapes / sizeof *shapes; t++) {
        const uint64_t N = shapes[t].n;
        const uint32_t DIM = shapes[t].dim;
        float *x = malloc(sizeof(float) * N * DIM);
        uint64_t s = 7;
        for (size_t i = 0; i < (size_t)N * DIM; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            x[i] = (float)((s >> 40) % 1000) / 100.0f + (float)((i / DIM) % 16) * 10.0f;
        }
        const pa_metric metrics[2] = {PA_METRIC_L2, PA_METRIC_DOT};
        for (int mi = 0; mi < 2; mi++) {
            pa_ivfpq_params p = PA_IVFPQ_PARAMS_INIT;
            p.num_partitions = shapes[t].P, p.num_sub_vectors = shapes[t].M;
            p.metric = metrics[mi], p.max_iters = 5, p.pq_max_iters = 5;
            pa_ivfpq_model *m = NULL;
            CHECK_OK(pa_ivfpq_train(&m, x, N, DIM, &p, NULL)); /* warms OpenMP and BLAS up */
            pa_ivfpq_model_free(m);
            m = NULL;
            const int64_t before = atomic_load(&heap_live);
            atomic_store(&heap_peak, before);
            pa_ivfpq_train_stats ts = PA_IVFPQ_TRAIN_STATS_INIT;
            CHECK_OK(pa_ivfpq_train(&m, x, N, DIM, &p, &ts));
            const uint64_t peak = (uint64_t)(atomic_load(&heap_peak) - before);
            const uint64_t est = pa_ivfpq_train_bytes(N, DIM, &p, (uint32_t)omp_get_max_threads());
            const uint64_t blas = blas_heap((int)N, (int)DIM, (int)p.num_partitions);
            printf(
                "train (%u x %u, P=%u, M=%u, %s, %d threads; work shares %.2f, %.2f): peak %" PRIu64
                " bytes, estimate %" PRIu64 ", OpenBLAS's own %" PRIu64 "\n",
                (unsigned)N, DIM, p.num_partitions, p.num_sub_vectors, pa_metric_name(p.metric),
                omp_get_max_threads(), ts.ivf_work_share, ts.pq_work_share, peak, est, blas);
            CHECK(peak <= est + blas + 4096);
            CHECK(est <= peak + peak / 4); /* and not far above it */
            pa_ivfpq_model_free(m);
        }
        free(x);
    }
}
#endif

int main(int argc, char **argv)
{
    TEST_ARGS(argc, argv);
    if (!test_tmpdir_init("memory_estimates"))
        return 1;
#if defined(__SANITIZE_ADDRESS__)
    /* AddressSanitizer's allocator does not report through mallinfo2 */
    printf("skipped under AddressSanitizer\n");
    return 0;
#endif
    RUN(test_lance_writer());
    RUN(test_lance_writer_lists());
    RUN(test_artifact_writer());
#if !defined(__SANITIZE_ADDRESS__)
    RUN(test_train());
#endif
    TEST_DONE();
}
