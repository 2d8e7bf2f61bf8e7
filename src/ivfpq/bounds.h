/* The float arithmetic of exact k-means bounds, shared by the grouped bounds (groups.c) and the
 * single bound a row of the small-dimension k-means (kmeans.c): how far a kernel value may be
 * from the exact squared distance, and how bounds are made, lowered and tested so that float
 * rounding never leaves one above the true distance. */
#ifndef PA_IVFPQ_BOUNDS_H
#define PA_IVFPQ_BOUNDS_H

#include <immintrin.h>
#include <math.h>
#include <stdint.h>

/* Bounds are lowered by this fraction each time they are computed or lowered, so that float
 * rounding (2^-24 of a value per operation) never leaves one above the true distance. */
#define PA_BOUND_SHRINK (1.0f - 0x1p-20f)

/* The rounding margin of a row of squared norm xn: the kernel's value plus the row's norm
 * differs from the exact squared distance by at most (2 dim + 3) units of 2^-24 times
 * (|x| + |c|)^2 (the norms' and the chain's sums of dim terms, the last addition); twice that,
 * and 8 units more for the bounds' own float arithmetic, |c| the largest norm (pa_bound_margin:
 * a pass's factor and |c|; pa_row_margin: a row's margin). */
typedef struct pa_margin {
    float fac, cmax;
} pa_margin;

static inline pa_margin pa_bound_margin(uint32_t dim, double cmax)
{
    return (pa_margin){(float)((4.0 * dim + 16.0) * 0x1p-24), (float)cmax};
}

static inline float pa_row_margin(pa_margin mg, float xn)
{
    const float rr = sqrtf(xn) + mg.cmax;
    return mg.fac * rr * rr;
}

/* A row's threshold (its own value own, squared norm xn, margin marg): a bound whose shrunk
 * square is above it rules out every centroid it bounds, none of whose kernel values can then
 * be at or below the own one. */
static inline float pa_open_threshold(float own, float xn, float marg)
{
    return (own + xn + marg) * (1.0f + 0x1p-20f);
}

/* The bound of a kernel value v (a centroid's, or the least of several): a distance at most
 * the exact one of each. */
static inline float pa_bound_of_value(float v, float xn, float marg)
{
    const float l2 = v + xn - marg;
    /* (the instruction: sqrtf would test for errno's sake; l2 is never negative here) */
    return _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(l2 > 0 ? l2 : 0))) *
           (PA_BOUND_SHRINK * PA_BOUND_SHRINK);
}

/* A bound lowered by a move of its centroids (the move rounded up). */
static inline float pa_bound_lowered(float lb, float move)
{
    const float l = (lb - move) * PA_BOUND_SHRINK;
    return l > 0 ? l : 0;
}

/* Whether bound lb rules its centroids out for threshold thr (pa_open_threshold). */
static inline int pa_bound_rules_out(float lb, float thr)
{
    return lb * lb * PA_BOUND_SHRINK > thr;
}

#endif
