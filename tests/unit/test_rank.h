/* Checking a search's results against a brute-force ranking (test_index, test_pq4). */
#ifndef PA_TEST_RANK_H
#define PA_TEST_RANK_H

#include "common/vecmath.h"

#include <math.h>

/* How many of a search's k results (ids, dists) are not the brute-force ranking: sorted (the
 * n rows as (distance, id), sorted by pa_topk_cmp) and by_id (each row's distance): each
 * distance must be the one at its rank, within float rounding, and each id the one at that
 * rank or one tying with it. */
static inline int pa_t_rank_mismatches(const pa_topk_cand *sorted, const float *by_id, uint64_t n,
                                       const uint64_t *ids, const float *dists, int k)
{
    int bad = 0;
    for (int j = 0; j < k; j++) {
        float want = sorted[j].d, tol = 1e-4f * fmaxf(1.0f, fabsf(want));
        uint64_t got = ids[j];
        if (fabsf(dists[j] - want) > tol || got >= n ||
            (got != sorted[j].id && fabsf(by_id[got] - want) > tol))
            bad++;
    }
    return bad;
}

#endif
