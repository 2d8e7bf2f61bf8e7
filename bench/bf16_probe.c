/* How many candidates per row the AVX512-BF16 pass's bound leaves (src/ivfpq/amx.c: hi.hi only,
 * E from (2^-8 + 2^-18) ||r|| max ||c~|| and the additions, as convert_rows computes it, 2E the window): rows of an .fvecs file,
 * centroids from ITERS Lloyd iterations seeded on rows, both centred on the centroids' mean as
 * amx.c does; prints the mean candidates per row, 2E against ||r||^2 and the share of rows
 * with 1, 2, ... 8, >= 9 candidates. The approximate scores are the exact sums of the bf16
 * products (VDPBF16PS rounds its additions: within the bound's addition term).
 * Build: cc -O3 -march=native -fopenmp bench/bf16_probe.c -lm -o build/bf16_probe
 * Usage: build/bf16_probe FILE.fvecs K ROWS ITERS
 * Measured (gen-vectors' generator, 128 dims, 1000 clusters): K 256, 100,000 rows, 4 iters:
 * 1.093 per row (92.6% one, 2E 4.3% of ||r||^2); K 4096, 40,000 rows, 2 iters, with the
 * tighter bound from the actual lo parts' norms: 1.911 (40.8% one, 0.02% >= 7). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <float.h>
static float bf(float v)
{
    union {
        float f;
        uint32_t u;
    } t = {.f = v};
    t.u = (t.u + 0x7fffu + ((t.u >> 16) & 1u)) & 0xffff0000u;
    return t.f;
}
int main(int argc, char **argv)
{
    const char *fn = argv[1];
    int K = atoi(argv[2]);
    int nrow = atoi(argv[3]);
    int iters = atoi(argv[4]);
    FILE *f = fopen(fn, "rb");
    int dim;
    fread(&dim, 4, 1, f);
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    long N = sz / (4 + 4L * dim);
    rewind(f);
    if (nrow > N)
        nrow = N;
    float *x = malloc(4L * nrow * dim);
    for (long i = 0; i < nrow; i++) {
        int d;
        fread(&d, 4, 1, f);
        fread(x + i * dim, 4, dim, f);
    }
    float *c = malloc(4L * K * dim);
    double *cs = malloc(8L * K * dim);
    long *cnt = malloc(8L * K);
    for (int j = 0; j < K; j++)
        memcpy(c + (long)j * dim, x + (long)((j * 7919L) % nrow) * dim, 4 * dim);
    float *cn = malloc(4 * K);
    int *as = malloc(4L * nrow);
    for (int it = 0; it <= iters; it++) {
        for (int j = 0; j < K; j++) {
            double s = 0;
            for (int d = 0; d < dim; d++)
                s += c[(long)j * dim + d] * c[(long)j * dim + d];
            cn[j] = s;
        }
#pragma omp parallel for
        for (long i = 0; i < nrow; i++) {
            float bv = FLT_MAX;
            int bi = 0;
            for (int j = 0; j < K; j++) {
                float a = 0;
                for (int d = 0; d < dim; d++)
                    a += x[i * dim + d] * c[(long)j * dim + d];
                float v = cn[j] - 2 * a;
                if (v < bv)
                    bv = v, bi = j;
            }
            as[i] = bi;
        }
        if (it == iters)
            break;
        memset(cs, 0, 8L * K * dim);
        memset(cnt, 0, 8L * K);
        for (long i = 0; i < nrow; i++) {
            cnt[as[i]]++;
            for (int d = 0; d < dim; d++)
                cs[(long)as[i] * dim + d] += x[i * dim + d];
        }
        for (int j = 0; j < K; j++)
            if (cnt[j])
                for (int d = 0; d < dim; d++)
                    c[(long)j * dim + d] = cs[(long)j * dim + d] / cnt[j];
    }
    /* centre */
    float *mu = calloc(dim, 4);
    for (int j = 0; j < K; j++)
        for (int d = 0; d < dim; d++)
            mu[d] += c[(long)j * dim + d] / K;
    float *ch = malloc(4L * K * dim);
    float *bias = malloc(4 * K);
    double Hc = 0, Lc = 0, cmaxc = 0, cmaxraw = 0, bmax = 0, cnmax = 0, mn = 0;
    for (int d = 0; d < dim; d++)
        mn += mu[d] * (double)mu[d];
    double munorm = sqrt(mn);
    for (int j = 0; j < K; j++) {
        double hh = 0, ll = 0, cc = 0, craw = 0, mc = 0;
        for (int d = 0; d < dim; d++) {
            float v = c[(long)j * dim + d];
            float t = v - mu[d];
            float h = bf(t);
            ch[(long)j * dim + d] = h;
            hh += h * (double)h;
            ll += (t - h) * (double)(t - h);
            cc += t * (double)t;
            craw += v * (double)v;
            mc += mu[d] * (double)t;
        }
        Hc = fmax(Hc, sqrt(hh));
        Lc = fmax(Lc, sqrt(ll));
        cmaxc = fmax(cmaxc, sqrt(cc));
        cmaxraw = fmax(cmaxraw, sqrt(craw));
        double b = cn[j] - 2 * mc;
        bias[j] = b;
        bmax = fmax(bmax, fabs(b));
        cnmax = fmax(cnmax, fabs(cn[j]));
    }
    long hist[10] = {0};
    double sumc = 0;
    double sumrel = 0;
    int dp = (dim + 31) / 32 * 32;
    float *sc = malloc(4 * K);
    for (long i = 0; i < nrow; i++) {
        float rh[4096], rl[4096];
        double nh = 0, nl = 0, nx = 0;
        for (int d = 0; d < dim; d++) {
            float r = x[i * dim + d] - mu[d];
            rh[d] = bf(r);
            rl[d] = r - rh[d];
            nh += rh[d] * (double)rh[d];
            nl += rl[d] * (double)rl[d];
            nx += x[i * dim + d] * (double)x[i * dim + d];
        }
        nh = sqrt(nh);
        nl = sqrt(nl);
        nx = sqrt(nx);
        double g = dim * 1.05 / 16777216.0;
        double nr = 0;
        for (int d = 0; d < dim; d++) {
            double r = x[i * dim + d] - mu[d];
            nr += r * r;
        }
        nr = sqrt(nr);
        double e = 2 * ((1.0 / 256 + 1.0 / 262144) * 1.01 + (dp + 2) * 1.05 / 16777216.0) * nr *
                       cmaxc +
                   2 * 2.4e-7 * (nx + munorm) * (cmaxraw + munorm) + 2.4e-7 * bmax +
                   (2 * nx * cmaxraw + cnmax) * (g + 1.2e-7) + 1e-30;
        float e2 = 4.1 * e;
        float m = FLT_MAX;
        for (int j = 0; j < K; j++) {
            double a = 0;
            for (int d = 0; d < dim; d++)
                a += rh[d] * (double)ch[(long)j * dim + d];
            sc[j] = bias[j] - 2 * (float)a;
            if (sc[j] < m)
                m = sc[j];
        }
        int nc = 0;
        for (int j = 0; j < K; j++)
            if (sc[j] <= m + e2)
                nc++;
        sumc += nc;
        hist[nc >= 9 ? 9 : nc]++;
        sumrel += e2 / (nh * nh);
    }
    printf("dim %d K %d rows %d: mean cand %.3f; e2/||r||^2 mean %.4g; Lc/Hc %.4g\n", dim, K, nrow,
           sumc / nrow, sumrel / nrow, Lc / Hc);
    for (int t = 1; t < 10; t++)
        printf(" %s%d:%.4f", t == 9 ? ">=" : "", t, (double)hist[t] / nrow);
    printf("\n");
}
