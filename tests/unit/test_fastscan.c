/* The 4-bit fast scan against a straightforward reference, on random codes and tables: the
 * blocked layout holds every code; each kernel (scalar, AVX2, AVX-512) gives the reference's
 * quantised sums; and a scan over several partitions gives exactly the reference's candidates
 * (offering every row by its approximate distance, each with its exact distance), re-ranked
 * exactly alike; the 8-bit ADC kernels give the plain sums' heap. */
#include "index/fastscan.h"
#include "ivfpq/ivfpq_internal.h"
#include "test.h"

#include <math.h>

static uint64_t rng = 0xfa57;

static uint32_t rnd(uint32_t n) { return (uint32_t)(pa_splitmix(&rng) % n); }
static float rndf(void) { return (float)(pa_splitmix(&rng) >> 40) / (float)(1 << 24); }

static const char *kernels[] = {"scalar", "avx2", "avx512"};

/* n rows of M random 4-bit codes: plain (n x M) and in the index's transposed packed layout. */
static void random_codes(uint64_t n, uint32_t M, uint8_t *plain, uint8_t *packed)
{
    memset(packed, 0, (size_t)n * (M / 2));
    for (uint64_t i = 0; i < n; i++)
        for (uint32_t m = 0; m < M; m++) {
            uint8_t c = (uint8_t)rnd(16);
            plain[i * M + m] = c;
            packed[(m / 2) * n + i] |= (uint8_t)(m % 2 ? c << 4 : c);
        }
}

/* A table of M x 16 values; coarse: few distinct values, so that distances tie often. */
static void random_table(uint32_t M, bool coarse, float *t)
{
    for (uint32_t j = 0; j < M * PA_FS_KSUB; j++)
        t[j] = coarse ? (float)rnd(4) : rndf() * (1.0f + (float)(j / PA_FS_KSUB % 3)) - 0.5f;
}

static void test_layout_and_sums(void)
{
    const uint32_t Ms[] = {2, 6, 8, 16, 28, 32, 64, 300}; /* Mp 8, 16, 32, 64: unrolled */
    const uint64_t ns[] = {1, 31, 32, 33, 200, 1000};
    for (size_t a = 0; a < sizeof Ms / sizeof Ms[0]; a++)
        for (size_t b = 0; b < sizeof ns / sizeof ns[0]; b++) {
            const uint32_t M = Ms[a], Mp = pa_fs_padded_m(M);
            const uint64_t n = ns[b], nb = pa_fs_blocks(n);
            uint8_t *plain = malloc(n * M), *packed = malloc(n * M / 2);
            uint8_t *blocks = malloc(pa_fs_layout_bytes(n, M)), *lut = malloc(Mp * PA_FS_KSUB);
            float *t = malloc(sizeof(float) * M * PA_FS_KSUB);
            uint16_t *sums = malloc(sizeof(uint16_t) * nb * PA_FS_BLOCK);
            random_codes(n, M, plain, packed);
            pa_fs_pack(packed, n, M, blocks);
            int bad = 0;
            for (uint64_t i = 0; i < nb * PA_FS_BLOCK; i++)
                for (uint32_t m = 0; m < Mp; m++)
                    bad += pa_fs_code(blocks, Mp, i, m) != (i < n && m < M ? plain[i * M + m] : 0);
            CHECK(bad == 0);
            random_table(M, false, t);
            float bias, delta;
            pa_kernel_set("scalar");
            pa_fs_quantize(t, M, lut, &bias, &delta);
            for (int k = 1; k < 3; k++) { /* every kernel quantises alike */
                uint8_t *l2 = malloc(Mp * PA_FS_KSUB);
                float b2, d2;
                if (pa_kernel_set(kernels[k])) {
                    pa_fs_quantize(t, M, l2, &b2, &d2);
                    CHECK(memcmp(l2, lut, Mp * PA_FS_KSUB) == 0 && b2 == bias && d2 == delta);
                }
                free(l2);
            }
            const uint32_t qmax = M > 257 ? 65535 / M : 255;
            int over = 0;
            for (uint32_t j = 0; j < Mp * PA_FS_KSUB; j++)
                over += lut[j] > qmax || (j >= M * PA_FS_KSUB && lut[j]);
            CHECK(over == 0);
            for (int k = 0; k < 3; k++) {
                if (!pa_kernel_set(kernels[k])) {
                    fprintf(stderr, "(no %s kernel on this CPU)\n", kernels[k]);
                    continue;
                }
                memset(sums, 0xab, sizeof(uint16_t) * nb * PA_FS_BLOCK);
                pa_fs_accumulate(blocks, nb, Mp, lut, sums);
                int wrong = 0;
                for (uint64_t i = 0; i < n; i++) {
                    uint32_t s = 0;
                    for (uint32_t m = 0; m < M; m++)
                        s += lut[m * PA_FS_KSUB + plain[i * M + m]];
                    wrong += sums[i] != s;
                }
                if (wrong)
                    fprintf(stderr, "M %u n %llu kernel %s: %d sums differ\n", M,
                            (unsigned long long)n, kernels[k], wrong);
                CHECK(wrong == 0);
            }
            free(plain), free(packed), free(blocks), free(lut), free(t), free(sums);
        }
}

/* Several partitions into one heap of cap candidates, by the fast scan (each kernel) and by the
 * reference; then both re-ranked by the exact distance. */
static void scan_case(uint32_t M, uint32_t parts, uint64_t rows, uint32_t cap, bool coarse)
{
    uint8_t *plain[8], *packed[8], *blocks[8];
    uint64_t *ids[8], n[8];
    float *tab[8], base[8];
    uint64_t id0 = 0;
    for (uint32_t p = 0; p < parts; p++) {
        n[p] = rows + rnd((uint32_t)rows);
        plain[p] = malloc(n[p] * M), packed[p] = malloc(n[p] * M / 2);
        blocks[p] = malloc(pa_fs_layout_bytes(n[p], M));
        ids[p] = malloc(sizeof(uint64_t) * n[p]);
        tab[p] = malloc(sizeof(float) * M * PA_FS_KSUB);
        random_codes(n[p], M, plain[p], packed[p]);
        pa_fs_pack(packed[p], n[p], M, blocks[p]);
        for (uint64_t i = 0; i < n[p]; i++)
            ids[p][i] = id0 + (i * 7919) % n[p]; /* ids not in scan order */
        id0 += n[p];
        random_table(M, coarse, tab[p]);
        base[p] = coarse ? (float)rnd(3) : rndf();
    }
    /* the reference: every row offered with its approximate and exact distances */
    pa_topk_cand *ref = malloc(sizeof(pa_topk_cand) * cap), *got = malloc(sizeof *got * cap);
    uint8_t *lut = malloc(pa_fs_padded_m(M) * PA_FS_KSUB);
    uint32_t rn = 0;
    for (uint32_t p = 0; p < parts; p++) {
        float bias, delta;
        pa_fs_quantize(tab[p], M, lut, &bias, &delta);
        for (uint64_t i = 0; i < n[p]; i++) {
            uint32_t s = 0;
            float e = base[p];
            for (uint32_t m = 0; m < M; m++) {
                s += lut[m * PA_FS_KSUB + plain[p][i * M + m]];
                e += tab[p][m * PA_FS_KSUB + plain[p][i * M + m]];
            }
            pa_topk_push_aux(ref, &rn, cap, (base[p] + bias) + delta * (float)s, ids[p][i], e);
        }
    }
    qsort(ref, rn, sizeof *ref, pa_topk_cmp);
    for (int k = 0; k < 3; k++) {
        if (!pa_kernel_set(kernels[k]))
            continue;
        pa_fs_scratch s;
        CHECK_OK(pa_fs_scratch_init(&s, M, 2 * rows));
        uint32_t gn = 0;
        uint64_t exact = 0;
        for (uint32_t p = 0; p < parts; p++)
            exact += pa_fs_scan_partition(blocks[p], ids[p], n[p], M, tab[p], base[p], &s, got, &gn,
                                          cap);
        pa_fs_scratch_free(&s);
        qsort(got, gn, sizeof *got, pa_topk_cmp);
        CHECK(gn == rn);
        int same = gn == rn;
        for (uint32_t j = 0; same && j < gn; j++)
            same = got[j].id == ref[j].id && got[j].d == ref[j].d && got[j].aux == ref[j].aux;
        if (!same)
            fprintf(stderr, "M %u cap %u coarse %d kernel %s: candidates differ\n", M, cap, coarse,
                    kernels[k]);
        CHECK(same);
        CHECK(exact >= gn && (id0 < 4 * cap || exact < id0)); /* rows were skipped */
        /* the exact re-rank: candidates by exact distance, ties by id */
        pa_topk_cand *r2 = malloc(sizeof *r2 * cap);
        memcpy(r2, ref, sizeof *r2 * rn);
        for (uint32_t j = 0; j < gn; j++)
            got[j].d = got[j].aux, r2[j].d = r2[j].aux;
        qsort(got, gn, sizeof *got, pa_topk_cmp);
        qsort(r2, rn, sizeof *r2, pa_topk_cmp);
        CHECK(memcmp(got, r2, sizeof *got * gn) == 0);
        free(r2);
    }
    for (uint32_t p = 0; p < parts; p++)
        free(plain[p]), free(packed[p]), free(blocks[p]), free(ids[p]), free(tab[p]);
    free(ref), free(got), free(lut);
}

static void test_scan_matches_reference(void)
{
    scan_case(16, 5, 300, 40, false);
    scan_case(8, 3, 500, 10, true); /* many ties */
    scan_case(64, 4, 100, 25, false);
    scan_case(6, 2, 40, 100, false); /* fewer rows than candidates in the first partition */
    /* more blocks than candidates: the first partition bounded by the blocks' smallest sums */
    scan_case(32, 3, 3000, 20, false);
    scan_case(32, 2, 2000, 10, true); /* many ties */
    scan_case(16, 2, 700, 21, false); /* a partial last block */
    scan_case(28, 1, 640, 30, false);
}

/* 8-bit ADC: the table build and the scan of each kernel against the plain sums, for partitions
 * whose rows are not a multiple of any kernel's group, l2 (terms) and dot (no terms). */
/* pa_fs_scan_partition_multi: Q queries (1 to PA_FS_QUERIES) scanning one partition together,
 * each query's heap (already holding some candidates or empty) left as its own
 * pa_fs_scan_partition leaves it, whatever the kernel; the sums of pa_fs_accumulate_multi
 * those of pa_fs_accumulate. */
static void multi_case(uint32_t M, uint64_t n, uint32_t cap, bool coarse)
{
    const uint32_t Mp = pa_fs_padded_m(M);
    const uint64_t nb = pa_fs_blocks(n);
    uint8_t *plain = malloc(n * M), *packed = malloc(n * M / 2);
    uint8_t *blocks = malloc(pa_fs_layout_bytes(n, M));
    uint64_t *ids = malloc(sizeof(uint64_t) * n);
    random_codes(n, M, plain, packed);
    pa_fs_pack(packed, n, M, blocks);
    for (uint64_t i = 0; i < n; i++)
        ids[i] = (i * 7919) % n;
    float *tab[PA_FS_QUERIES], base[PA_FS_QUERIES];
    pa_topk_cand *want[PA_FS_QUERIES], *got[PA_FS_QUERIES];
    uint32_t wn[PA_FS_QUERIES], gn[PA_FS_QUERIES];
    for (uint32_t q = 0; q < PA_FS_QUERIES; q++) {
        tab[q] = malloc(sizeof(float) * M * PA_FS_KSUB);
        random_table(M, coarse, tab[q]);
        base[q] = coarse ? (float)rnd(3) : rndf();
        want[q] = malloc(sizeof(pa_topk_cand) * cap), got[q] = malloc(sizeof(pa_topk_cand) * cap);
    }
    for (int k = 0; k < 3; k++) {
        if (!pa_kernel_set(kernels[k]))
            continue;
        pa_fs_scratch s;
        CHECK_OK(pa_fs_scratch_init(&s, M, n));
        /* the sums */
        uint8_t *luts[PA_FS_QUERIES];
        uint16_t *one = malloc(sizeof(uint16_t) * nb * PA_FS_BLOCK), *sums[PA_FS_QUERIES];
        for (uint32_t q = 0; q < PA_FS_QUERIES; q++) {
            float bias, delta;
            luts[q] = malloc(Mp * PA_FS_KSUB),
            sums[q] = malloc(sizeof(uint16_t) * nb * PA_FS_BLOCK);
            pa_fs_quantize(tab[q], M, luts[q], &bias, &delta);
        }
        for (uint32_t Q = 1; Q <= PA_FS_QUERIES; Q++) {
            pa_fs_accumulate_multi(blocks, nb, Mp, (const uint8_t *const *)luts, sums, Q);
            for (uint32_t q = 0; q < Q; q++) {
                pa_fs_accumulate(blocks, nb, Mp, luts[q], one);
                CHECK(memcmp(one, sums[q], sizeof(uint16_t) * n) == 0);
            }
        }
        /* the heaps: query q starts with q candidates of its own (none for the first) */
        for (uint32_t Q = 1; Q <= PA_FS_QUERIES; Q++) {
            uint32_t *hns[PA_FS_QUERIES];
            const float *tabs[PA_FS_QUERIES];
            for (uint32_t q = 0; q < Q; q++) {
                wn[q] = gn[q] = 0;
                for (uint32_t j = 0; j < q && j < cap; j++) {
                    const float d = base[q] + (float)j;
                    pa_topk_push_aux(want[q], &wn[q], cap, d, n + j, d);
                    pa_topk_push_aux(got[q], &gn[q], cap, d, n + j, d);
                }
                pa_fs_scan_partition(blocks, ids, n, M, tab[q], base[q], &s, want[q], &wn[q], cap);
                hns[q] = &gn[q], tabs[q] = tab[q];
            }
            pa_fs_scan_partition_multi(blocks, ids, n, M, Q, tabs, base, &s, got, hns, cap);
            for (uint32_t q = 0; q < Q; q++) {
                CHECK(gn[q] == wn[q]);
                CHECK(memcmp(got[q], want[q], sizeof(pa_topk_cand) * wn[q]) == 0);
            }
        }
        for (uint32_t q = 0; q < PA_FS_QUERIES; q++)
            free(luts[q]), free(sums[q]);
        free(one);
        pa_fs_scratch_free(&s);
    }
    for (uint32_t q = 0; q < PA_FS_QUERIES; q++)
        free(tab[q]), free(want[q]), free(got[q]);
    free(plain), free(packed), free(blocks), free(ids);
}

static void test_scan_multi_matches_single(void)
{
    multi_case(32, 3000, 20, false);
    multi_case(28, 700, 30, false); /* a partial super-block */
    multi_case(8, 500, 10, true);   /* many ties */
    multi_case(64, 100, 25, false); /* fewer rows than some heaps hold */
    multi_case(6, 40, 100, false);
}

static void test_adc8_matches_reference(void)
{
    const uint32_t M = 8, T = M * 256, cap = 15;
    const uint64_t ns[] = {3, 37, 300};
    float *pre = malloc(sizeof(float) * T), *qy = malloc(sizeof(float) * T);
    float *ref_t = malloc(sizeof(float) * T), *tab = malloc(sizeof(float) * T);
    for (uint32_t t = 0; t < T; t++)
        pre[t] = rndf() * 3, qy[t] = rndf() - 0.5f;
    for (int dot = 0; dot < 2; dot++) {
        for (uint32_t t = 0; t < T; t++) {
            if (dot) /* whole numbers: many rows tie */
                qy[t] = (float)rnd(3) - 1.0f;
            ref_t[t] = dot ? -qy[t] : pre[t] - 2.0f * qy[t];
        }
        pa_topk_cand ref[15], got[15];
        uint32_t rn = 0;
        uint8_t *codes[3];
        uint64_t *ids[3];
        for (int p = 0; p < 3; p++) {
            const uint64_t n = ns[p];
            codes[p] = malloc(n * M), ids[p] = malloc(sizeof(uint64_t) * n);
            for (uint64_t i = 0; i < n * M; i++)
                codes[p][i] = (uint8_t)rnd(256);
            for (uint64_t i = 0; i < n; i++) {
                ids[p][i] = 1000 * (uint64_t)p + n - i;
                float d = (float)p;
                for (uint32_t m = 0; m < M; m++)
                    d += ref_t[m * 256 + codes[p][m * n + i]];
                pa_topk_push(ref, &rn, cap, d, ids[p][i]);
            }
        }
        qsort(ref, rn, sizeof *ref, pa_topk_cmp);
        for (int k = 0; k < 3; k++) {
            if (!pa_kernel_set(kernels[k]))
                continue;
            pa_adc_table(tab, dot ? NULL : pre, qy, T);
            CHECK(memcmp(tab, ref_t, sizeof(float) * T) == 0);
            uint32_t gn = 0;
            for (int p = 0; p < 3; p++)
                pa_adc8_scan(codes[p], ids[p], ns[p], M, tab, (float)p, got, &gn, cap);
            qsort(got, gn, sizeof *got, pa_topk_cmp);
            CHECK(gn == rn && memcmp(got, ref, sizeof *got * gn) == 0);
        }
        for (int p = 0; p < 3; p++)
            free(codes[p]), free(ids[p]);
    }
    free(pre), free(qy), free(ref_t), free(tab);
}

/* Queries' codeword products: every kernel gives the fused multiply-add chain of each product
 * over its dimensions in order, for sub-spaces of 1 to 9 dimensions, 1 to 28 sub-spaces and 1
 * to 13 queries at once (past the kernels' groups of 8 and 4 queries, and below them). */
static void test_query_products(void)
{
    static const uint32_t Ms[] = {1, 5, 12, 28}, ns[] = {1, 3, 4, 8, 13};
    const uint32_t NMAX = 13;
    for (size_t mi = 0; mi < sizeof Ms / sizeof *Ms; mi++)
        for (uint32_t ds = 1; ds <= 9; ds++) {
            const uint32_t M = Ms[mi], D = M * ds, T = M * PA_FS_KSUB;
            float *q = malloc(sizeof(float) * D * NMAX), *cb = malloc(sizeof(float) * T * ds);
            float *cbt = malloc(sizeof(float) * T * ds), *ref = malloc(sizeof(float) * T * NMAX);
            float *got = malloc(sizeof(float) * T * NMAX);
            for (uint32_t t = 0; t < D * NMAX; t++)
                q[t] = rndf() * 8 - 4;
            for (uint32_t t = 0; t < T * ds; t++)
                cb[t] = rndf() - 0.5f;
            for (uint32_t i = 0; i < NMAX; i++)
                for (uint32_t m = 0; m < M; m++)
                    for (uint32_t j = 0; j < PA_FS_KSUB; j++) {
                        float acc = 0;
                        for (uint32_t t = 0; t < ds; t++)
                            acc = fmaf(q[i * D + m * ds + t], cb[(m * PA_FS_KSUB + j) * ds + t],
                                       acc);
                        ref[i * T + m * PA_FS_KSUB + j] = acc;
                    }
            pa_fs_transpose_codebook(cb, M, ds, cbt);
            for (int k = 0; k < 3; k++) {
                if (!pa_kernel_set(kernels[k]))
                    continue;
                for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++) {
                    memset(got, 0xff, sizeof(float) * T * NMAX);
                    pa_fs_query_products(q, ns[ni], M, ds, cbt, got);
                    CHECK(memcmp(got, ref, sizeof(float) * T * ns[ni]) == 0);
                }
            }
            free(q), free(cb), free(cbt), free(ref), free(got);
        }
}

int main(int argc, char **argv)
{
    TEST_ARGS(argc, argv);
    RUN(test_layout_and_sums());
    RUN(test_scan_matches_reference());
    RUN(test_scan_multi_matches_single());
    RUN(test_adc8_matches_reference());
    RUN(test_query_products());
    TEST_DONE();
}
