/* Ground truth: exact k nearest neighbours by brute force, in blocks so that memory stays
 * bounded whatever the sizes: up to 2048 queries at a time against the base streamed in
 * blocks of 4096 rows, one sgemm per pair of blocks, a heap per query. Also the files
 * neighbour ids are exchanged in (.ivecs, int32; .npy, uint64 for Lance row addresses), and
 * recall@k. */
#include "index/index_internal.h"
#include "io/npy.h"

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
        for (uint64_t i = 0; i < bn && st == PA_OK; i++) {
            const double sq = pa_sq_norm(q + i * dim, dim); /* NaN or inf: not finite */
            if (!(sq <= PA_MAX_SQ_NORM))
                st = pa_fail(PA_ERR_INVALID, "groundtruth: query %" PRIu64 " has squared norm "
                             "%.3g, more than %.3g: its distances would overflow float",
                             q0 + i, sq, PA_MAX_SQ_NORM);
        }
        for (uint64_t i = 0; i < bn && st == PA_OK; i++) {
            if (metric == PA_METRIC_COSINE)
                pa_index_normalize(q + i * dim, dim);
            qn[i] = pa_dotf(q + i * dim, q + i * dim, dim);
            hn[i] = 0;
        }
        if (st != PA_OK || (st = pa_vec_input_rewind(base)) != PA_OK)
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

/* Writes n rows of k ids as .ivecs (int32 k, then k int32 ids) through pa_output. */
static pa_status ivecs_write(const char *path, const uint64_t *ids, uint64_t n, uint32_t k,
                             int replace)
{
    if (k == 0 || k > INT32_MAX)
        return pa_fail(PA_ERR_INVALID, "%s: k = %u cannot be written to .ivecs", path, k);
    pa_output *f = NULL;
    int32_t *row = NULL;
    pa_status st = pa_output_create(&f, path, replace);
    if (st != PA_OK)
        return st;
    row = pa_malloc(sizeof(int32_t) * ((size_t)k + 1), "ivecs row");
    st = row ? PA_OK : PA_ERR_NOMEM;
    for (uint64_t i = 0; i < n && st == PA_OK; i++) {
        row[0] = (int32_t)k;
        for (uint32_t j = 0; j < k; j++) {
            uint64_t id = ids[i * k + j];
            if (id != UINT64_MAX && id > INT32_MAX) {
                st = pa_fail(PA_ERR_RANGE, "%s: row %" PRIu64 " id %" PRIu64 " does not fit in "
                             "an int32 .ivecs entry; write .npy for 64-bit ids (a Lance "
                             "dataset's row addresses)", path, i, id);
                break;
            }
            row[1 + j] = id == UINT64_MAX ? -1 : (int32_t)id;
        }
        if (st == PA_OK)
            st = pa_output_write(f, row, sizeof(int32_t) * ((size_t)k + 1));
    }
    free(row);
    if (st == PA_OK)
        st = pa_output_commit(f);
    pa_output_free(f); /* uncommitted: path is left as it was */
    return st;
}

pa_status pa_ivecs_write(const char *path, const uint64_t *ids, uint64_t n, uint32_t k)
{
    return ivecs_write(path, ids, n, k, 0);
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

/* Whether path ends in ".npy". */
static bool is_npy(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && !strcmp(path + n - 4, ".npy");
}

/* Writes ids as a NumPy uint64 array of shape (n, k) (UINT64_MAX marks a missing neighbour);
 * a partial file is removed. */
static pa_status npy_ids_write(const char *path, const uint64_t *ids, uint64_t n, uint32_t k,
                               int replace)
{
    char hdr[512];
    size_t hl = pa_npy_header_2d(hdr, sizeof hdr, "<u8", n, k);
    if (!hl)
        return pa_fail(PA_ERR_INVALID, "%s: shape (%" PRIu64 ", %u) does not fit an .npy "
                       "header", path, n, k);
    pa_output *f = NULL;
    pa_status st = pa_output_create(&f, path, replace);
    if (st == PA_OK)
        st = pa_output_write(f, hdr, hl);
    if (st == PA_OK)
        st = pa_output_write(f, ids, sizeof(uint64_t) * (size_t)(n * k));
    if (st == PA_OK)
        st = pa_output_commit(f);
    pa_output_free(f); /* uncommitted: path is left as it was */
    return st;
}

/* Reads a NumPy array of neighbour ids: 2-D, C order, uint64 ('<u8'), int64 ('<i8') or int32
 * ('<i4'); a negative id (FAISS's -1) is a missing neighbour (UINT64_MAX). */
static pa_status npy_ids_read(const char *path, uint64_t **ids, uint64_t *n, uint32_t *k)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pa_fail(PA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    pa_npy_header h;
    pa_status st = fstat(fd, &sb) == 0 ? PA_OK
                                       : pa_fail(PA_ERR_IO, "%s: cannot stat: %s", path,
                                                 strerror(errno));
    if (st == PA_OK)
        st = pa_npy_read_header(fd, (uint64_t)sb.st_size, path, &h);
    int width = 0;
    if (st == PA_OK) {
        width = !strcmp(h.descr, "<u8") || !strcmp(h.descr, "<i8") ? 8
                : !strcmp(h.descr, "<i4")                          ? 4
                                                                   : 0;
        if (!width)
            st = pa_fail(PA_ERR_UNSUPPORTED, "%s: .npy dtype '%s' is not an id type (uint64 "
                         "'<u8', int64 '<i8' or int32 '<i4')", path, h.descr);
        else if (h.fortran || h.ndim != 2)
            st = pa_fail(PA_ERR_UNSUPPORTED, "%s: neighbour ids must be a 2-D C-order array "
                         "(queries, k)", path);
        else if (h.shape[0] == 0 || h.shape[1] == 0 || h.shape[1] > INT32_MAX)
            st = pa_fail(PA_ERR_FORMAT, "%s: .npy shape (%llu, %llu) holds no neighbours", path,
                         h.shape[0], h.shape[1]);
    }
    uint64_t count = 0, need = 0;
    if (st == PA_OK && (__builtin_mul_overflow((uint64_t)h.shape[0], (uint64_t)h.shape[1],
                                               &count) ||
                        __builtin_mul_overflow(count, (uint64_t)width, &need) ||
                        h.data_off + need > (uint64_t)sb.st_size))
        st = pa_fail(PA_ERR_FORMAT, "%s: .npy shape (%llu, %llu) needs %llu bytes of data after "
                     "the header, the file has %llu (truncated?)", path, h.shape[0], h.shape[1],
                     (unsigned long long)h.shape[0] * h.shape[1] * (unsigned long long)width,
                     (unsigned long long)((uint64_t)sb.st_size - PA_MIN(h.data_off,
                                                                        (uint64_t)sb.st_size)));
    uint64_t *out = NULL;
    void *raw = NULL;
    if (st == PA_OK) {
        out = pa_malloc(sizeof(uint64_t) * (size_t)count, "neighbour ids");
        raw = width == 8 ? (void *)out : pa_malloc((size_t)need, "neighbour ids");
        if (!out || !raw)
            st = PA_ERR_NOMEM;
    }
    if (st == PA_OK)
        st = pa_pread_full(fd, raw, (size_t)need, h.data_off, path);
    if (st == PA_OK) {
        bool is_signed = h.descr[1] == 'i';
        for (uint64_t i = 0; i < count; i++) {
            int64_t v = width == 4 ? (int64_t)(int32_t)pa_ld32((const uint8_t *)raw + 4 * i)
                                   : (int64_t)out[i];
            out[i] = is_signed && v < 0 ? UINT64_MAX : width == 4 ? (uint64_t)v : out[i];
        }
    }
    close(fd);
    if (raw != (void *)out)
        free(raw);
    if (st != PA_OK) {
        free(out);
        return st;
    }
    *ids = out, *n = h.shape[0], *k = (uint32_t)h.shape[1];
    return PA_OK;
}

/* Neighbour ids by the file's extension: .npy (uint64) or .ivecs (int32). */
pa_status pa_ids_write_ex(const char *path, const uint64_t *ids, uint64_t n, uint32_t k,
                          int replace)
{
    if (k == 0)
        return pa_fail(PA_ERR_INVALID, "%s: k = 0", path);
    return is_npy(path) ? npy_ids_write(path, ids, n, k, replace)
                        : ivecs_write(path, ids, n, k, replace);
}

pa_status pa_ids_write(const char *path, const uint64_t *ids, uint64_t n, uint32_t k)
{
    return pa_ids_write_ex(path, ids, n, k, 0);
}

pa_status pa_ids_read(const char *path, uint64_t **ids, uint64_t *n, uint32_t *k)
{
    *ids = NULL, *n = 0, *k = 0;
    return is_npy(path) ? npy_ids_read(path, ids, n, k) : pa_ivecs_read(path, ids, n, k);
}
