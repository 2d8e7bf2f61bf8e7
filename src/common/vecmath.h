/* The vector maths every room shares, in one place: squared norms, unit scaling (cosine),
 * squared L2 distance and dot product, the top-k heap, and the seeded generator. Header-only
 * (static inline); not part of the public API. */
#ifndef PA_VECMATH_H
#define PA_VECMATH_H

#include "common/common.h"

#include <math.h>
#include <string.h>

/* The squared norm of n floats, summed in double (finite for finite floats). */
static inline double pa_sq_norm(const float *v, uint32_t n)
{
    double s = 0;
    for (uint32_t i = 0; i < n; i++)
        s += (double)v[i] * v[i];
    return s;
}

/* 1 / ||v|| in double, or 1 for a vector of zeros (or one whose norm is not a number): the
 * factor that scales v to unit length for cosine. */
static inline double pa_inv_norm(const float *v, uint32_t n)
{
    const double s = pa_sq_norm(v, n);
    return s > 0 ? 1.0 / sqrt(s) : 1.0;
}

/* Scales v to unit length in place (cosine); a zero vector stays zero. */
static inline void pa_normalize(float *v, uint32_t n)
{
    const float inv = (float)pa_inv_norm(v, n);
    for (uint32_t i = 0; i < n; i++)
        v[i] *= inv;
}

/* Lanes of pa_row_surely_ok's sums: PA_ROW_CHECK_LANES / 4 vectors of four floats, independent
 * (written as vectors: gcc's own vectorising of a lane array shuffled more than it summed). */
#define PA_ROW_CHECK_LANES 16
typedef float pa_row_check_v4 __attribute__((vector_size(16)));

/* True when the row of n floats is certainly finite with a squared norm at most PA_MAX_SQ_NORM:
 * its squares summed in float in PA_ROW_CHECK_LANES independent lanes, at most half the limit.
 * A NaN or an infinity makes the sum NaN or infinite (false), and rounding (at most about
 * (n + 1) * 2^-24 of the sum for n <= PA_MAX_DIM = 2^20, so under 1/16) can not bring a sum
 * above the limit to half of it. False decides nothing: the exact checks (isfinite, pa_sq_norm
 * against the limit) then do, and say why. The fast path of the row checks, several times
 * quicker than pa_sq_norm's ordered double sum. */
static inline bool pa_row_surely_ok(const float *v, uint32_t n)
{
    pa_row_check_v4 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
    uint32_t j = 0;
    for (; j + PA_ROW_CHECK_LANES <= n; j += PA_ROW_CHECK_LANES) {
        pa_row_check_v4 x0, x1, x2, x3; /* (memcpy: v need not be aligned to 16 bytes) */
        memcpy(&x0, v + j, 16), memcpy(&x1, v + j + 4, 16);
        memcpy(&x2, v + j + 8, 16), memcpy(&x3, v + j + 12, 16);
        a0 += x0 * x0, a1 += x1 * x1, a2 += x2 * x2, a3 += x3 * x3;
    }
    const pa_row_check_v4 a = (a0 + a1) + (a2 + a3);
    float s = (a[0] + a[1]) + (a[2] + a[3]);
    for (; j < n; j++)
        s += v[j] * v[j];
    return s <= (float)(PA_MAX_SQ_NORM / 2);
}

/* pa_normalize on each of n rows of dim values, on all cores. */
static inline void pa_normalize_rows(float *x, uint64_t n, uint32_t dim)
{
#pragma omp parallel for schedule(static)
    for (uint64_t i = 0; i < n; i++)
        pa_normalize(x + i * dim, dim);
}

/* Squared L2 distance and dot product of two float vectors of n values, summed in order
 * (the ADC tests recompute with the same order). */
static inline float pa_l2sq(const float *a, const float *b, uint32_t n)
{
    float s = 0;
    for (uint32_t i = 0; i < n; i++) {
        float d = a[i] - b[i];
        s += d * d;
    }
    return s;
}

static inline float pa_dotf(const float *a, const float *b, uint32_t n)
{
    float s = 0;
    for (uint32_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* ---- top-k heap (search, ground truth): a max-heap on (distance, id), the worst kept
 * candidate at the root ---- */

typedef struct pa_topk_cand {
    float d;
    float aux; /* a second value carried with the candidate (the fast scan's exact distance) */
    uint64_t id;
} pa_topk_cand;

/* Whether candidate a ranks after b: larger distance, then larger id (a total order, so
 * results do not depend on the scan order or the number of threads). */
static inline bool pa_topk_worse(const pa_topk_cand *a, const pa_topk_cand *b)
{
    return a->d > b->d || (a->d == b->d && a->id > b->id);
}

/* Offers (d, id), carrying aux, to a heap of at most cap entries holding *n. */
static inline void pa_topk_push_aux(pa_topk_cand *h, uint32_t *n, uint32_t cap, float d,
                                    uint64_t id, float aux)
{
    pa_topk_cand c = {d, aux, id};
    uint32_t i;
    if (*n < cap) {
        i = (*n)++;
        while (i > 0) {
            uint32_t parent = (i - 1) / 2;
            if (!pa_topk_worse(&c, &h[parent]))
                break;
            h[i] = h[parent];
            i = parent;
        }
        h[i] = c;
        return;
    }
    if (!pa_topk_worse(&h[0], &c))
        return;
    i = 0;
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        const pa_topk_cand *best = &c;
        if (l < *n && pa_topk_worse(&h[l], best))
            m = l, best = &h[l];
        if (r < *n && pa_topk_worse(&h[r], best))
            m = r;
        if (m == i)
            break;
        h[i] = h[m];
        i = m;
    }
    h[i] = c;
}

/* Offers (d, id) to a heap of at most cap entries holding *n. */
static inline void pa_topk_push(pa_topk_cand *h, uint32_t *n, uint32_t cap, float d, uint64_t id)
{
    pa_topk_push_aux(h, n, cap, d, id, 0);
}

/* pa_topk_push, skipped where the heap is full and its worst is nearer (a tie may still enter,
 * by id): the same heap, without building a candidate for every distance a scan rejects. */
static inline void pa_topk_offer(pa_topk_cand *h, uint32_t *n, uint32_t cap, float d, uint64_t id)
{
    if (*n < cap || d <= h[0].d)
        pa_topk_push(h, n, cap, d, id);
}

/* qsort order: best first. */
static inline int pa_topk_cmp(const void *a, const void *b)
{
    return pa_topk_worse(a, b) ? 1 : pa_topk_worse(b, a) ? -1 : 0;
}

/* qsort order of uint64_t values: ascending. */
static inline int pa_cmp_u64(const void *a, const void *b)
{
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* splitmix64: the seeded generator used for sampling, shuffling and initialisation. */
#define PA_SPLITMIX_GAMMA 0x9E3779B97F4A7C15ull
static inline uint64_t pa_splitmix(uint64_t *s)
{
    uint64_t z = (*s += PA_SPLITMIX_GAMMA);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

#endif
