/* Ground truth: exact k nearest neighbours by brute force, in blocks so that memory stays
 * bounded whatever the sizes: up to 2048 queries at a time against the base streamed in
 * blocks of 4096 rows, one sgemm per pair of blocks, a heap per query. Also the .ivecs files
 * ground truth is exchanged in, and recall@k. */
#include "index/index_internal.h"

#include <cblas.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#define GT_QUERY_BLOCK 2048
#define GT_BASE_BLOCK 4096

/* Brute force: per block of queries, rewind the base and stream it in blocks; one sgemm per
 * block pair gives the dot products, turned into distances and offered to per-query heaps. */
pa_status pa_groundtruth(pa_vec_input *base, const float *queries, uint64_t nq, uint32_t dim,
                         uint32_t k, pa_metric metric, uint64_t *out_ids, float *out_dists)
{
    if (!base || !queries || !out_ids)
        return pa_fail(PA_ERR_INVALID, "groundtruth: base, queries and output are required");
    if (pa_vec_input_dim(base) != dim)
        return pa_fail(PA_ERR_INVALID, "groundtruth: the queries have dimension %u, the base "
                       "has dimension %u", dim, pa_vec_input_dim(base));
    if (k == 0 || k > pa_vec_input_num_rows(base))
        return pa_fail(PA_ERR_INVALID, "groundtruth: k = %u, the base has %" PRIu64 " rows "
                       "(k must be between 1 and the rows)", k, pa_vec_input_num_rows(base));
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
        for (uint64_t i = 0; i < bn; i++) {
            if (metric == PA_METRIC_COSINE)
                pa_index_normalize(q + i * dim, dim);
            qn[i] = pa_dotf(q + i * dim, q + i * dim, dim);
            hn[i] = 0;
        }
        if ((st = pa_vec_input_rewind(base)) != PA_OK)
            break;
        for (;;) {
            size_t n;
            if ((st = pa_vec_input_next(base, xb, xid, GT_BASE_BLOCK, &n)) != PA_OK || n == 0)
                break;
            for (size_t j = 0; j < n; j++) {
                if (metric == PA_METRIC_COSINE)
                    pa_index_normalize(xb + j * dim, dim);
                xn[j] = pa_dotf(xb + j * dim, xb + j * dim, dim);
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)bn, (int)n, (int)dim,
                        1.0f, q, (int)dim, xb, (int)dim, 0.0f, dots, (int)n);
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

/* Writes n rows of k ids as .ivecs (int32 k, then k int32 ids); a partial file is removed. */
pa_status pa_ivecs_write(const char *path, const uint64_t *ids, uint64_t n, uint32_t k)
{
    if (k == 0 || k > INT32_MAX)
        return pa_fail(PA_ERR_INVALID, "%s: k = %u cannot be written to .ivecs", path, k);
    FILE *f = fopen(path, "wb");
    if (!f)
        return pa_fail(PA_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    int32_t *row = pa_malloc(sizeof(int32_t) * ((size_t)k + 1), "ivecs row");
    pa_status st = row ? PA_OK : PA_ERR_NOMEM;
    for (uint64_t i = 0; i < n && st == PA_OK; i++) {
        row[0] = (int32_t)k;
        for (uint32_t j = 0; j < k; j++) {
            uint64_t id = ids[i * k + j];
            if (id != UINT64_MAX && id > INT32_MAX) {
                st = pa_fail(PA_ERR_RANGE, "%s: row %" PRIu64 " id %" PRIu64 " does not fit in "
                             "an int32 .ivecs entry", path, i, id);
                break;
            }
            row[1 + j] = id == UINT64_MAX ? -1 : (int32_t)id;
        }
        if (st == PA_OK && fwrite(row, sizeof(int32_t), (size_t)k + 1, f) != (size_t)k + 1)
            st = pa_fail(PA_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    }
    free(row);
    if (fclose(f) != 0 && st == PA_OK)
        st = pa_fail(PA_ERR_IO, "%s: close failed: %s", path, strerror(errno));
    if (st != PA_OK)
        remove(path);
    return st;
}

/* Reads a whole .ivecs file into n x k ids, refusing ragged or truncated rows. */
pa_status pa_ivecs_read(const char *path, uint64_t **ids, uint64_t *n, uint32_t *k)
{
    *ids = NULL, *n = 0, *k = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return pa_fail(PA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    pa_status st = PA_OK;
    int32_t kk;
    uint64_t cap = 0, rows = 0;
    uint64_t *out = NULL;
    int32_t *row = NULL;
    while (st == PA_OK && fread(&kk, 4, 1, f) == 1) {
        if (kk <= 0 || (rows > 0 && (uint32_t)kk != *k)) {
            st = pa_fail(PA_ERR_FORMAT, "%s: row %" PRIu64 " has k = %d, expected %s", path,
                         rows, kk, rows ? "the same k as row 0" : "a positive k");
            break;
        }
        if (rows == 0) {
            *k = (uint32_t)kk;
            if (!(row = pa_malloc(sizeof(int32_t) * (size_t)kk, "ivecs row"))) {
                st = PA_ERR_NOMEM;
                break;
            }
        }
        if (fread(row, 4, (size_t)kk, f) != (size_t)kk) {
            st = pa_fail(PA_ERR_FORMAT, "%s: row %" PRIu64 " is truncated (byte offset %" PRIu64
                         ")", path, rows, rows * 4 * ((uint64_t)kk + 1));
            break;
        }
        if (rows == cap) {
            cap = cap ? cap * 2 : 1024;
            uint64_t *grown = pa_realloc(out, sizeof(uint64_t) * cap * (size_t)kk, "ivecs ids");
            if (!grown) {
                st = PA_ERR_NOMEM;
                break;
            }
            out = grown;
        }
        for (int32_t j = 0; j < kk; j++)
            out[rows * (uint64_t)kk + j] = row[j] < 0 ? UINT64_MAX : (uint64_t)row[j];
        rows++;
    }
    if (st == PA_OK && ferror(f))
        st = pa_fail(PA_ERR_IO, "%s: read failed", path);
    if (st == PA_OK && rows == 0)
        st = pa_fail(PA_ERR_FORMAT, "%s: no rows", path);
    fclose(f);
    free(row);
    if (st != PA_OK) {
        free(out);
        *k = 0;
        return st;
    }
    *ids = out, *n = rows;
    return PA_OK;
}

/* Mean fraction of each query's true top k found in its returned top k. */
pa_status pa_recall_at_k(const uint64_t *found, uint32_t found_k, const uint64_t *truth,
                         uint32_t truth_k, uint64_t nq, uint32_t k, double *recall)
{
    if (k == 0 || k > found_k || k > truth_k)
        return pa_fail(PA_ERR_INVALID, "recall@%u: needs k between 1 and the results' %u and "
                       "the ground truth's %u neighbours", k, found_k, truth_k);
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
