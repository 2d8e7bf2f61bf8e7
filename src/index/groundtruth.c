/* Ground truth: exact k nearest neighbours by brute force, in blocks so that memory stays
 * bounded whatever the sizes: up to 2048 queries at a time against the base streamed in
 * blocks of 4096 rows, one sgemm per pair of blocks, a heap per query. Also recall@k. */
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
#pragma omp parallel for schedule(static)
            for (uint64_t i = 0; i < bn; i++) {
                const float *d = dots + i * n;
                for (size_t j = 0; j < n; j++) {
                    float dist = metric == PA_METRIC_DOT ? -d[j]
                                                         : fmaxf(qn[i] + xn[j] - 2 * d[j], 0.0f);
                    pa_topk_push(heaps + i * k, &hn[i], k, dist, xid[j]);
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
