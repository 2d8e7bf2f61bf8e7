/* Search over the segments of one index (a distributed build committed as several index
 * entries of one name, pa_table_commit_segments): every segment holds one model, so a query
 * probes the same partitions in each; each segment is searched as one index would be and the
 * k best of the union are kept, ordered by distance and then by row id as a single index
 * orders them. Distances are comparable across segments: the same model gives a row the same
 * distance in any segment. */
#include "index/index_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

/* Segments merged with positions on the stack; more take an allocation per query. */
#define MERGE_STACK 64

/* What pa_index_search_segments allocates beside the segments' searches for nq queries of k
 * over n segments: the results of each (row ids, distances) and the segments' k, and, past
 * MERGE_STACK segments, the merge's positions (one query's at a time). */
static uint64_t segments_bytes(uint64_t nq, uint32_t k, size_t n)
{
    const uint64_t per = nq * k * (uint64_t)n;
    return per * (sizeof(uint64_t) + sizeof(float)) + n * sizeof(uint32_t) +
           (n > MERGE_STACK ? n * sizeof(size_t) : 0);
}

pa_status pa_index_search_segments_memory(pa_index *const *segs, size_t n, uint64_t nq,
                                          const pa_index_search_options *opts, uint64_t *bytes)
{
    PA_LOAD_OPTS(pa_index_search_options, o, opts, PA_INDEX_SEARCH_OPTIONS_INIT);
    *bytes = 0;
    if (!segs || n == 0)
        return pa_fail(PA_ERR_INVALID, "segments are required");
    uint64_t most = 0;
    for (size_t s = 0; s < n; s++) {
        uint64_t b = 0;
        if (!segs[s])
            return pa_fail(PA_ERR_INVALID, "segment %zu of %zu is NULL", s, n);
        pa_status st = pa_index_search_memory(segs[s], nq, &o, &b);
        if (st != PA_OK)
            return st;
        most = PA_MAX(most, b);
    }
    *bytes = most + (n > 1 ? segments_bytes(nq, o.k, n) : 0);
    return PA_OK;
}

pa_status pa_index_search_segments(pa_index *const *segs, size_t n, const float *queries,
                                   uint64_t nq, uint32_t dim, const pa_index_search_options *opts,
                                   uint64_t *out_ids, float *out_dists,
                                   pa_index_search_stats *stats)
{
    double t0 = pa_now_seconds();
    PA_LOAD_OPTS(pa_index_search_options, o, opts, PA_INDEX_SEARCH_OPTIONS_INIT);
    pa_status st = pa_stats_check(stats, "pa_index_search_stats");
    if (st != PA_OK)
        return st;
    if (!segs || n == 0 || !queries || !out_ids || !out_dists)
        return pa_fail(PA_ERR_INVALID, "segments, queries and outputs are required");
    if (n == 1)
        return pa_index_search(segs[0], queries, nq, dim, &o, out_ids, out_dists, stats);
    const uint32_t k = o.k;
    if (k == 0)
        return pa_fail(PA_ERR_INVALID, "k must be at least 1");
    uint64_t total = 0;
    for (size_t s = 0; s < n; s++) {
        if (!segs[s])
            return pa_fail(PA_ERR_INVALID, "segment %zu of %zu is NULL", s, n);
        if (s && !pa_index_same_model(segs[s], segs[0]))
            return pa_fail(PA_ERR_INVALID,
                           "segment %s holds another model than segment %s (its centroids, "
                           "shape or model XXH64 differ): the segments of one index share one "
                           "model",
                           pa_index_dir(segs[s]), pa_index_dir(segs[0]));
        pa_index_info info = PA_INDEX_INFO_INIT;
        pa_index_get_info(segs[s], &info);
        total += info.num_rows;
    }
    if (k > total)
        return pa_fail(PA_ERR_INVALID,
                       "k = %u is more than the %" PRIu64 " rows of the %zu segments", k, total, n);
    /* each segment's k best (fewer where it holds fewer rows), then a merge per query */
    uint64_t *ids = NULL;
    float *dists = NULL;
    size_t per = 0;
    if (!pa_mul_ok((size_t)nq, (size_t)k, &per) || !pa_mul_ok(per, n, &per))
        return pa_fail(PA_ERR_INVALID,
                       "%" PRIu64 " queries of k = %u over %zu segments are too many at once", nq,
                       k, n);
    ids = pa_malloc(per * sizeof *ids, "segment results"); /* segments_bytes */
    dists = pa_malloc(per * sizeof *dists, "segment results");
    uint32_t *ks = pa_calloc(n, sizeof *ks, "segment results");
    if (!ids || !dists || !ks) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    pa_index_search_stats sum = PA_INDEX_SEARCH_STATS_INIT;
    for (size_t s = 0; s < n; s++) {
        pa_index_info info = PA_INDEX_INFO_INIT;
        pa_index_get_info(segs[s], &info);
        ks[s] = (uint32_t)PA_MIN((uint64_t)k, info.num_rows);
        if (!ks[s])
            continue;
        pa_index_search_options so = o;
        so.k = ks[s];
        pa_index_search_stats ss = PA_INDEX_SEARCH_STATS_INIT;
        const size_t at = s * (size_t)nq * k;
        if ((st = pa_index_search(segs[s], queries, nq, dim, &so, ids + at, dists + at, &ss)) !=
            PA_OK)
            goto done;
        sum.nprobes_used = ss.nprobes_used;
        sum.codes_scanned += ss.codes_scanned;
        sum.rows_refined += ss.rows_refined;
    }
    for (uint64_t q = 0; q < nq; q++) {
        size_t pos[MERGE_STACK];
        size_t *at = n <= MERGE_STACK ? pos : pa_calloc(n, sizeof *at, "merge");
        if (!at) {
            st = PA_ERR_NOMEM;
            goto done;
        }
        for (size_t s = 0; s < n; s++)
            at[s] = 0;
        for (uint32_t j = 0; j < k; j++) {
            size_t best = n;
            uint64_t bid = UINT64_MAX;
            float bd = INFINITY;
            for (size_t s = 0; s < n; s++) {
                if (at[s] >= ks[s])
                    continue;
                const size_t i = s * (size_t)nq * k + (size_t)q * ks[s] + at[s];
                if (ids[i] == UINT64_MAX)
                    continue; /* the segment's probed partitions held no more rows */
                if (best == n || dists[i] < bd || (dists[i] == bd && ids[i] < bid))
                    best = s, bd = dists[i], bid = ids[i];
            }
            out_ids[q * k + j] = bid;
            out_dists[q * k + j] = bd;
            if (best < n)
                at[best]++;
        }
        if (at != pos)
            free(at);
    }
    sum.seconds = pa_now_seconds() - t0;
    pa_stats_store(stats, &sum, sizeof sum);
done:
    free(ids), free(dists), free(ks);
    return st;
}
