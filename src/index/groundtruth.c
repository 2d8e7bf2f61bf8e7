/* Ground truth: exact k nearest neighbours by brute force, in blocks so that memory stays
 * bounded whatever the sizes: up to 2048 queries at a time against the base streamed in
 * blocks of 4096 rows, one sgemm per pair of blocks, a heap per query. Also recall@k.
 *
 * The sgemm's distance (||q||^2 + ||x||^2 - 2 q.x, or -q.x) only filters: its rounding depends
 * on where a row falls in the kernel's blocks, so two equal rows could get distances an ulp
 * apart and rank by that noise. A row is ranked by its distance computed directly (the sum of
 * (q - x)^2, or of q x, in double), and computed only where the filtered value, less a bound on
 * its error, could still enter the query's heap. Equal rows then tie exactly and rank by row id,
 * as an exact flat search does. */
#include "index/index_internal.h"

#include <cblas.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define GT_QUERY_BLOCK 2048
#define GT_BASE_BLOCK 4096

/* A bound on the error of the sgemm's distance for a row of squared norm xn and a query of
 * squared norm qn in dim dimensions: each of the dot products (q.x, ||q||^2, ||x||^2) is a sum
 * of dim products whose error is at most gamma_dim = dim u / (1 - dim u) times the sum of the
 * products' magnitudes (u = 2^-24, any order of summation, with or without FMA), which is at
 * most (qn + xn) / 2 for q.x by Cauchy-Schwarz; with the three roundings of the final sums,
 * |error| <= (2 gamma_dim + 4 u) (qn + xn). Twice that, for margin. */
static float filter_slack(uint32_t dim)
{
    const double u = 0x1p-24, g = dim * u / (1 - dim * u);
    return (float)(2 * (2 * g + 4 * u)); /* times qn + xn */
}

/* The distance ranked: computed directly, in double, rounded once to float. */
static float direct_dist(pa_metric metric, const float *q, const float *x, uint32_t dim)
{
    double s = 0;
    if (metric == PA_METRIC_DOT) {
        for (uint32_t t = 0; t < dim; t++)
            s += (double)q[t] * x[t];
        return (float)-s;
    }
    for (uint32_t t = 0; t < dim; t++) {
        const double e = (double)q[t] - x[t];
        s += e * e;
    }
    return (float)s;
}

/* Brute force: per block of queries, rewind the base and stream it in blocks; one sgemm per
 * block pair gives the dot products, turned into distances and offered to per-query heaps. */
pa_status pa_groundtruth(pa_vec_input *base, const float *queries, uint64_t nq, uint32_t dim,
                         uint32_t k, pa_metric metric, uint64_t *out_ids, float *out_dists)
{
    if (!base || !queries || !out_ids)
        return pa_fail(PA_ERR_INVALID, "base, queries and output are required");
    if (pa_vec_input_dim(base) != dim)
        return pa_fail(PA_ERR_INVALID,
                       "the queries have dimension %u, the base "
                       "has dimension %u",
                       dim, pa_vec_input_dim(base));
    if (k == 0 || k > pa_vec_input_num_rows(base))
        return pa_fail(PA_ERR_INVALID,
                       "k = %u, the base has %" PRIu64 " rows "
                       "(k must be between 1 and the rows)",
                       k, pa_vec_input_num_rows(base));
    const uint64_t qb = PA_MIN((uint64_t)GT_QUERY_BLOCK, PA_MAX(nq, 1));
    float *q = pa_malloc(sizeof(float) * qb * dim, "groundtruth queries");
    float *xb = pa_malloc(sizeof(float) * GT_BASE_BLOCK * dim, "groundtruth base block");
    uint64_t *xid = pa_malloc(sizeof(uint64_t) * GT_BASE_BLOCK, "groundtruth ids");
    float *xn = pa_malloc(sizeof(float) * GT_BASE_BLOCK, "groundtruth norms");
    float *dots = pa_malloc(sizeof(float) * qb * GT_BASE_BLOCK, "groundtruth dots");
    pa_topk_cand *heaps = pa_malloc(sizeof(pa_topk_cand) * qb * k, "groundtruth heaps");
    uint32_t *hn = pa_malloc(sizeof(uint32_t) * qb, "groundtruth heap sizes");
    pa_status st = q && xb && xid && xn && dots && heaps && hn ? PA_OK : PA_ERR_NOMEM;
    for (uint64_t q0 = 0; q0 < nq && st == PA_OK; q0 += qb) {
        const uint64_t bn = PA_MIN(qb, nq - q0);
        memcpy(q, queries + q0 * dim, sizeof(float) * bn * dim);
        float qn[GT_QUERY_BLOCK];
        for (uint64_t i = 0; i < bn && st == PA_OK; i++) {
            const double sq = pa_sq_norm(q + i * dim, dim); /* NaN or inf: not finite */
            if (!(sq <= PA_MAX_SQ_NORM))
                st = pa_fail(PA_ERR_INVALID,
                             "query %" PRIu64 " has squared norm "
                             "%.3g, more than %.3g: its distances would overflow float",
                             q0 + i, sq, PA_MAX_SQ_NORM);
        }
        for (uint64_t i = 0; i < bn && st == PA_OK; i++) {
            if (metric == PA_METRIC_COSINE)
                pa_normalize(q + i * dim, dim);
            qn[i] = pa_dotf(q + i * dim, q + i * dim, dim);
            hn[i] = 0;
        }
        if (st != PA_OK || (st = pa_vec_input_rewind(base)) != PA_OK)
            break;
        for (;;) {
            size_t n;
            if ((st = pa_vec_input_next(base, xb, xid, GT_BASE_BLOCK, &n)) != PA_OK) {
                if (st == PA_END)
                    st = PA_OK;
                break;
            }
            for (size_t j = 0; j < n; j++) {
                if (metric == PA_METRIC_COSINE)
                    pa_normalize(xb + j * dim, dim);
                xn[j] = pa_dotf(xb + j * dim, xb + j * dim, dim);
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)bn, (int)n, (int)dim, 1.0f, q,
                        (int)dim, xb, (int)dim, 0.0f, dots, (int)n);
            const float slack = filter_slack(dim);
#pragma omp parallel for schedule(static)
            for (uint64_t i = 0; i < bn; i++) {
                const float *d = dots + i * n;
                pa_topk_cand *h = heaps + i * k;
                for (size_t j = 0; j < n; j++) {
                    const float approx = metric == PA_METRIC_DOT ? -d[j] : qn[i] + xn[j] - 2 * d[j];
                    if (hn[i] == k && approx - slack * (qn[i] + xn[j]) > h[0].d)
                        continue; /* cannot rank before the heap's worst */
                    pa_topk_push(h, &hn[i], k, direct_dist(metric, q + i * dim, xb + j * dim, dim),
                                 xid[j]);
                }
            }
        }
        if (st != PA_OK)
            break;
        for (uint64_t i = 0; i < bn; i++) {
            pa_topk_cand *h = heaps + i * k;
            qsort(h, hn[i], sizeof *h, pa_topk_cmp);
            for (uint32_t j = 0; j < k; j++) {
                out_ids[(q0 + i) * k + j] = j < hn[i] ? h[j].id : UINT64_MAX;
                if (out_dists)
                    out_dists[(q0 + i) * k + j] = j < hn[i] ? h[j].d : INFINITY;
            }
        }
    }
    free(q), free(xb), free(xid), free(xn), free(dots), free(heaps), free(hn);
    return st;
}

/* Mean fraction of each query's true top k found in its returned top k. */
pa_status pa_recall_at_k(const uint64_t *found, uint32_t found_k, const uint64_t *truth,
                         uint32_t truth_k, uint64_t nq, uint32_t k, double *recall)
{
    if (k == 0 || k > found_k || k > truth_k)
        return pa_fail(PA_ERR_INVALID,
                       "recall@%u: needs k between 1 and the results' %u and "
                       "the ground truth's %u neighbours",
                       k, found_k, truth_k);
    uint64_t hit = 0;
    for (uint64_t i = 0; i < nq; i++)
        for (uint32_t a = 0; a < k; a++) {
            uint64_t id = found[i * found_k + a];
            if (id == UINT64_MAX)
                continue;
            for (uint32_t b = 0; b < k; b++)
                if (truth[i * truth_k + b] == id) {
                    hit++;
                    break;
                }
        }
    *recall = nq ? (double)hit / ((double)nq * k) : 0.0;
    return PA_OK;
}
