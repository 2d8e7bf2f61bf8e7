/* Search refine (src/index/refine.c): the exact distances of a query to its candidates' original
 * vectors, as pa_index_search reports them after re-ranking:
 *   l2      pa_l2sq(q, v)
 *   cosine  pa_l2sq(q, v scaled by pa_normalize)  (q already unit length)
 *   dot     -pa_dotf(q, v)
 * the same floats, summed in the same order (dimension 0 first), by every kernel: the portable
 * one row after row, the AVX-512 and AVX2 ones 16 rows at once, one row per lane (eight
 * dimensions of each row loaded and turned in registers, the last few gathered), so a lane's
 * sum is the row's ordered sum. A row whose squared norm (pa_sq_norm, in double, in order) is
 * not at most PA_MAX_SQ_NORM, or is not a number (a NaN or an infinity in the row), is what
 * pa_vec_input_read_ids refuses: the check it makes is the kernel's, on the same pass.
 *
 * A mapped float32 file (.fvecs, .npy '<f4': pa_vec_input_mapped_f32) is read in place: no
 * copy, no sort, no system call, the rows fetched into the cache (prefetched) before the sums.
 * Anything else (another format or element type, a Lance dataset, a row id past the file, a
 * record whose dimension is wrong, a row that fails the check) is read by
 * pa_vec_input_read_ids, whose message then says what is wrong. Every row is checked at every
 * search: that the file was checked when the index was built says nothing of its bytes now. */
#ifndef PA_INDEX_REFINE_H
#define PA_INDEX_REFINE_H

#include "common/common.h"
#include "common/vecmath.h"

/* Rows the AVX-512 and AVX2 kernels sum at once (one per lane of two 8-lane registers). */
#define PA_REFINE_LANES 16u

/* One thread's buffers for refining up to cap candidates of dimension dim. */
typedef struct pa_refine_scratch {
    uint32_t cap, dim;
    float *vecs;        /* cap x dim: the rows read by pa_vec_input_read_ids */
    const float **rows; /* cap: each candidate's vector (in place or in vecs) */
    uint64_t *ids;      /* cap */
    float *dist;        /* cap */
    double *sq;         /* cap: each row's squared norm */
    pa_topk_cand *best; /* cap: the k best (pa_refine_top) */
} pa_refine_scratch;

/* Bytes the buffers of a scratch for cap candidates of dimension dim take (what init
 * allocates, one allocation). */
uint64_t pa_refine_scratch_bytes(uint32_t cap, uint32_t dim);

/* Allocates the buffers (PA_ERR_NOMEM naming them); pa_refine_scratch_free frees them (also
 * after a failed init). */
pa_status pa_refine_scratch_init(pa_refine_scratch *s, uint32_t cap, uint32_t dim);
void pa_refine_scratch_free(pa_refine_scratch *s);

/* Sets h[j].d, j < n <= s->cap, to query q's exact distance to the original vector of row
 * h[j].id of in (dimension s->dim; q as the search holds it: unit length for cosine). Errors:
 * pa_vec_input_read_ids's, for the rows it reads (the lowest bad id of the n). */
pa_status pa_refine_distances(pa_vec_input *in, pa_metric metric, const float *q, pa_topk_cand *h,
                              uint32_t n, pa_refine_scratch *s);

/* Moves the min(cap, n) best of h[0..n) (pa_topk_cmp's order) to h[0..), in no particular
 * order: the candidates a refine re-ranks, whose results depend on that set alone. */
void pa_refine_select(pa_topk_cand *h, uint32_t n, uint32_t cap);

/* Moves the min(k, n) best of h[0..n) (pa_topk_cmp's order) to h[0..) in that order: what
 * sorting all n would put there. */
void pa_refine_top(pa_topk_cand *h, uint32_t n, uint32_t k, pa_refine_scratch *s);

/* The kernel (tests): for j < n, dist[j] as above and sq[j] = pa_sq_norm(rows[j], dim); level
 * as pa_kernel_level (2: AVX-512 where the CPU has it, 1: AVX2 and FMA where it has them, else
 * the portable loop; a level the CPU lacks runs the widest below it). */
void pa_refine_kernel(int level, pa_metric metric, const float *q, uint32_t dim,
                      const float *const *rows, uint32_t n, float *dist, double *sq);

/* out[i] = pa_dotf(v, v, dim) for row v = x + i * dim, i < n: the same floats (the squares
 * summed in order, each product and sum rounded) from every kernel (level as for
 * pa_refine_kernel), the SIMD ones 16 rows at once as they load them (search's ||q||^2 for a
 * group of queries). */
void pa_self_dots(int level, const float *x, uint64_t n, uint32_t dim, float *out);

#endif
