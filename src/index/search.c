/* Search: open an index into memory, then answer batches of queries with ADC (asymmetric
 * distance computation). On each thread, one sgemm a few dozen queries gives their distances to
 * every centroid; per query the nprobes nearest partitions are scanned with a lookup table of M x K
 * sub-distances (K = 2^bits codewords per sub-space: 256 for 8-bit codes, 16 for 4-bit ones),
 * summing one table entry per sub-vector code (src/index/scan.h), and a heap keeps the best. Codes are
 * stored transposed within a partition, so the scan reads each sub-vector's bytes
 * contiguously. Queries run in parallel (OpenMP) in groups, each group's probes partition by
 * partition (a partition read once for the group; with a budget, fetched once); an optional
 * refine re-ranks the best k*R by exact distance to the original vectors. 4-bit indexes are
 * scanned by the fast scan (src/index/fastscan.h) unless the caller turns it off.
 *
 * For l2 and cosine the table is split as FAISS does ("precomputed tables"): with residual
 * r = q - c_p and codeword y of sub-space m,
 *     ||r_m - y||^2 = ||q_m - c_p,m||^2 + (||y||^2 + 2 <c_p,m, y>) - 2 <q_m, y>,
 * and the first terms summed over m are the coarse distance ||q - c_p||^2 the probe already
 * has. The middle term depends only on the partition and is computed once at open (P x M x K
 * floats, when that fits pa_index_precomp_max_bytes; otherwise per probed partition), the last
 * only on the query (once per query, not once per probe, by one sgemm per sub-space for a block
 * of queries). A probe then costs M x K additions instead of K x dim multiply-adds.
 *
 * The rows of an open index (without a budget: x->row_ids and x->codes for every row; with
 * one: a cached partition's ids and codes) are laid out as auxiliary.idx stores them: the
 * partitions in order (x->offsets, x->lengths), and within a partition of n rows the row ids
 * in order, and the code bytes transposed, byte j of row i at codes[j * n + i] for j < W
 * (x->W = M for 8-bit codes, M / 2 for 4-bit ones). A 4-bit code byte j holds sub-vector 2j's
 * code in its low nibble and 2j+1's in its high nibble (src/common/pq_code.h). */
#include "common/json.h"
#include "index/fastscan.h"
#include "index/index_internal.h"
#include "index/refine.h"
#include "common/pq_code.h"
#include "index/scan.h"
#include "io/io_internal.h"
#include "ivfpq/ivfpq_internal.h"

#include <cblas.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xxhash.h>

#define QUERY_BLOCK 8192 /* queries per block (its sgemms), fewer where an array would pass: */
#define BLOCK_ARRAY_BYTES (32ull << 20) /* the block's products, candidates */
#define QUERY_GROUP \
    256 /* at least this many queries in a group (one thread's, scanned partition
                         * by partition), more where the block gives each thread two groups */
uint64_t pa_index_precomp_max_bytes = 256ull << 20;

struct pa_index {
    char *dir;
    uint32_t dim, P, M, ds;
    uint32_t nbits, K, W; /* bits per code, codewords per sub-space (2^bits), code bytes a row */
    pa_metric metric;
    float *centroids;  /* P x dim */
    float *cnorm;      /* P: ||c||^2 */
    float *codebook;   /* M x K x ds */
    uint64_t *offsets; /* P: first row of each partition */
    uint32_t *lengths; /* P */
    uint64_t num_rows, max_part, bytes;
    uint64_t *row_ids; /* num_rows */
    uint8_t *codes;    /* num_rows x W, transposed within each partition (see the top)    */
    uint8_t *blocks;   /* 4-bit: the codes re-laid for the fast scan (fastscan.h), or NULL */
    uint64_t *boff;    /* 4-bit: P, each partition's first byte in blocks                  */
    float *ynorm;      /* M x K: ||y||^2 of every codeword                               */
    float *pre;        /* P x M x K: ||y||^2 + 2 <c_p,m, y> (l2/cosine), or NULL         */
    json_t *aux_meta, *idx_meta; /* each file's partifact:index JSON (NULL: none, LanceDB's) */
    /* With a memory budget (pa_index_open_ex): row_ids and codes stay NULL; the probed
     * partitions are read from auxiliary.idx (kept open) into a cache of at most cache_cap
     * bytes: one mapping, arena (arena_bytes: the cap, or all partitions where they fit),
     * holding each cached partition at its own offset (cached_bytes each; cache_used the sum,
     * cache_peak the most it held), least recently used evicted first. lock guards the cache
     * and the reader; freed is signalled when a partition is unpinned. */
    uint64_t budget, cache_cap, cache_used, cache_peak, tick, cache_reads;
    uint8_t *arena;
    uint64_t arena_bytes;
    uint32_t first;   /* the cached partition at the lowest offset (CACHE_NONE: none) */
    bool layout_only; /* pa_index_memory_estimate: open_aux stops after the layout */
    pa_lance_reader *reader;
    size_t c_id, c_code;
    struct cached_part *cache; /* P entries */
    pthread_mutex_t lock;
    pthread_cond_t freed;
    bool sync_init;
    pa_status err; /* the first failed read of a search, and its message */
    char err_msg[512];
};

/* One partition in the cache: its row ids and transposed codes (NULL: not held) at offset off
 * of the arena (cached_bytes), the cached partitions before and after it in the arena
 * (CACHE_NONE: none), the searches scanning it now (pins; it is not evicted while pinned) and
 * its last use. */
struct cached_part {
    uint64_t *ids;
    uint8_t *codes; /* (4-bit codes: followed by their blocks for the fast scan) */
    uint64_t off;
    uint32_t prev, next;
    uint32_t pins;
    uint64_t used;
};
#define CACHE_NONE UINT32_MAX

/* Whether the index holds its codes in the fast scan's blocks too (4-bit codes). */
static bool has_blocks(const pa_index *x) { return x->nbits == PA_PQ_BITS_4; }

/* Bytes a partition of n rows takes in memory: its row ids and its codes, and for 4-bit codes
 * their blocked layout. */
static uint64_t part_bytes(const pa_index *x, uint64_t n)
{
    return pa_ids_codes_bytes(n, x->W) + (has_blocks(x) ? pa_fs_layout_bytes(n, x->M) : 0);
}

/* Bytes the cache gives a partition of n rows in its arena: part_bytes rounded up to whole
 * row ids (8 bytes), so that the next one's ids are aligned. The cache is one mapping of at most
 * its cap, so that the bytes it holds resident are at most the cap: partitions malloc'd, freed
 * by one thread and allocated by another, left free memory in every thread's malloc arena and
 * holes between the search's arrays, resident beyond the cache's count (10M rows, P=4096, a
 * quarter of the index as the budget: 23.5 MiB over), and a mapping per partition cost a
 * munmap (a TLB shootdown) and page faults per read, half the QPS. */
static uint64_t cached_bytes(const pa_index *x, uint64_t n)
{
    return (part_bytes(x, n) + sizeof(uint64_t) - 1) / sizeof(uint64_t) * sizeof(uint64_t);
}

/* ---- open ---- */

/* A float32 tensor of exactly `count` values, copied into a new array. */
static pa_status tensor_floats(const Pa__Lancepb__Tensor *t, size_t count, const char *path,
                               const char *what, float **out)
{
    size_t bytes = 0;
    if (!t || t->data_type != PA__LANCEPB__TENSOR__DATA_TYPE__FLOAT32 ||
        !pa_mul_ok(count, sizeof(float), &bytes) || t->data.len != bytes)
        return pa_fail(PA_ERR_FORMAT,
                       "index file %s: the %s tensor is not %zu float32 values "
                       "(%zu bytes found)",
                       path, what, count, t ? t->data.len : 0);
    if (!(*out = pa_malloc(bytes, what)))
        return PA_ERR_NOMEM;
    memcpy(*out, t->data.data, bytes);
    return PA_OK;
}

/* Bytes of the precomputed table terms (P x M x K floats; l2 and cosine, when they fit). */
static uint64_t pre_terms_bytes(const pa_index *x)
{
    return (uint64_t)x->P * x->M * x->K * sizeof(float);
}

/* Bytes of what an index holds whatever its budget: the centroids and their norms, the
 * codebook and its norms, the partition offsets and lengths, the cache's entries, and (with_pre)
 * the precomputed table terms. (A cached 4-bit partition's blocks follow its codes: part_bytes;
 * the block offsets boff exist only without a budget.) */
static uint64_t fixed_bytes(const pa_index *x, bool with_pre)
{
    const uint64_t P = x->P, D = x->dim, M = x->M, K = x->K;
    return P * D * sizeof(float) + P * sizeof(float) + K * D * sizeof(float) +
           M * K * sizeof(float) + P * (sizeof(uint64_t) + sizeof(uint32_t)) +
           P * sizeof(struct cached_part) + (with_pre ? pre_terms_bytes(x) : 0);
}

static pa_status open_aux(pa_index *x, const char *path);

pa_status pa_index_memory_estimate(const char *dir, uint64_t *fixed, uint64_t *min_bytes)
{
    char path[4096];
    *fixed = *min_bytes = 0;
    pa_index *x = pa_calloc(1, sizeof *x, "index");
    pa_status st = x ? PA_OK : PA_ERR_NOMEM;
    if (st != PA_OK)
        goto done;
    x->layout_only = true;
    snprintf(path, sizeof path, "%s/%s", dir, PA_INDEX_AUX_FILE);
    if ((st = open_aux(x, path)) != PA_OK) {
        pa_fail_prefix(st, "index %s", dir);
        goto done;
    }
    *fixed = fixed_bytes(x, false);
    *min_bytes = *fixed + cached_bytes(x, x->max_part);
done:
    pa_index_free(x);
    return st;
}

/* With a budget: refuses an index whose fixed part, or whose largest partition beside it, does
 * not fit, and sets the cache's share (the precomputed terms, if taken, come out of it later). */
static pa_status check_budget(pa_index *x, const char *path, uint32_t max_p)
{
    const uint64_t fixed = fixed_bytes(x, false), big = cached_bytes(x, x->max_part);
    if (fixed > x->budget)
        return pa_fail_field(PA_ERR_INVALID, "memory_bytes",
                             "index file %s: %u partitions of "
                             "dimension %u with %u sub-vectors need %" PRIu64 " bytes held "
                             "whatever the budget (centroids, codebook, partition offsets), "
                             "more than the memory budget of %" PRIu64 " bytes; raise "
                             "memory_bytes",
                             path, x->P, x->dim, x->M, fixed, x->budget);
    x->cache_cap = x->budget - fixed;
    if (big > x->cache_cap)
        return pa_fail_field(PA_ERR_INVALID, "memory_bytes",
                             "index file %s: partition %u holds %" PRIu64
                             " rows of %u + 8 bytes%s (%" PRIu64 " bytes, %" PRIu64
                             " in the cache), more than the %" PRIu64
                             " bytes the memory budget of %" PRIu64 " bytes leaves "
                             "beside the %" PRIu64 " held whatever the budget; raise "
                             "memory_bytes",
                             path, max_p, x->max_part, x->W,
                             has_blocks(x) ? " and their fast-scan blocks" : "",
                             part_bytes(x, x->max_part), big, x->cache_cap, x->budget, fixed);
    return PA_OK;
}

/* Reads auxiliary.idx: partition layout, codebook, row ids and codes (with a budget: the
 * layout and codebook; the file stays open for the partitions' reads). */
static pa_status open_aux(pa_index *x, const char *path)
{
    pa_lance_reader *r = NULL;
    Pa__Lancepb__Ivf *ivf = NULL;
    Pa__Lancepb__Tensor *t = NULL;
    pa_status st = pa_lance_reader_open(&r, path);
    uint32_t cb_pos = 0, nbits = 0;
    size_t len, c_id = 0, c_code = 0;
    if (st == PA_OK)
        st = pa_index_read_identity(r, path, &x->aux_meta);
    if (st == PA_OK)
        st = pa_index_read_aux_meta(r, path, &cb_pos, &nbits, &x->M, &x->dim, &x->metric);
    if (st == PA_OK) {
        x->ds = x->dim / x->M;
        x->nbits = nbits, x->K = pa_pq_codewords(nbits), x->W = pa_pq_code_bytes(x->M, nbits);
    }
    if (st == PA_OK)
        st = pa_index_read_ivf(r, path, &ivf);
    if (st == PA_OK && (ivf->n_offsets != ivf->n_lengths || ivf->n_lengths == 0))
        st = pa_fail(PA_ERR_FORMAT, "index file %s: IVF has %zu offsets and %zu lengths", path,
                     ivf->n_offsets, ivf->n_lengths);
    if (st == PA_OK) {
        x->P = (uint32_t)ivf->n_lengths;
        x->offsets = pa_malloc(sizeof(uint64_t) * x->P, "index offsets");
        x->lengths = pa_malloc(sizeof(uint32_t) * x->P, "index lengths");
        if (!x->offsets || !x->lengths)
            st = PA_ERR_NOMEM;
    }
    uint32_t max_p = 0;
    if (st == PA_OK) {
        uint64_t s = 0;
        for (uint32_t p = 0; p < x->P && st == PA_OK; p++) {
            if (ivf->offsets[p] != s)
                st = pa_fail(PA_ERR_FORMAT,
                             "index file %s: partition %u starts at row %" PRIu64
                             ", expected %" PRIu64,
                             path, p, ivf->offsets[p], s);
            x->offsets[p] = s;
            x->lengths[p] = ivf->lengths[p];
            s += ivf->lengths[p];
            if (ivf->lengths[p] > x->max_part)
                x->max_part = ivf->lengths[p], max_p = p;
        }
        x->num_rows = s;
        if (st == PA_OK && s != pa_lance_reader_num_rows(r))
            st = pa_fail(PA_ERR_FORMAT,
                         "index file %s: partitions hold %" PRIu64 " rows, the "
                         "file %" PRIu64,
                         path, s, pa_lance_reader_num_rows(r));
    }
    if (st == PA_OK && x->layout_only)
        goto done;
    if (st == PA_OK && x->budget)
        st = check_budget(x, path, max_p);
    if (st == PA_OK) {
        void *buf;
        if (cb_pos == 0 || cb_pos >= pa_lance_reader_num_global_buffers(r))
            st = pa_fail(PA_ERR_FORMAT,
                         "index file %s: " PA_INDEX_PQ_KEY_CODEBOOK " %u is not a "
                         "global buffer",
                         path, cb_pos);
        else if ((st = pa_lance_reader_global_buffer(r, cb_pos, &buf, &len)) == PA_OK) {
            t = pa__lancepb__tensor__unpack(NULL, len, buf);
            free(buf);
            st = tensor_floats(t, (size_t)x->K * x->dim, path, "codebook", &x->codebook);
        }
    }
    /* codewords are residuals: up to twice a vector's norm, four times its square */
    for (uint32_t i = 0; st == PA_OK && i < x->K * x->M; i++) {
        const double sq = pa_sq_norm(x->codebook + (size_t)i * x->ds, x->ds);
        if (!(sq <= 4 * PA_MAX_SQ_NORM))
            st = pa_fail(PA_ERR_FORMAT,
                         "index file %s: codeword %u of sub-vector %u has squared "
                         "norm %.3g, more than %.3g (or values that are not finite)",
                         path, i % x->K, i / x->K, sq, 4 * PA_MAX_SQ_NORM);
    }
    if (st == PA_OK && (pa_lance_reader_find_field(r, PA_INDEX_COL_ROWID, &c_id) != PA_OK ||
                        pa_lance_reader_find_field(r, PA_INDEX_COL_CODE, &c_code) != PA_OK))
        st = pa_fail(PA_ERR_FORMAT,
                     "index file %s: no \"" PA_INDEX_COL_ROWID "\" and \"" PA_INDEX_COL_CODE
                     "\" columns",
                     path);
    if (st == PA_OK) {
        pa_field f1, f2;
        pa_lance_reader_field(r, c_id, &f1);
        pa_lance_reader_field(r, c_code, &f2);
        if (f1.type != PA_TYPE_UINT64 || f2.type != PA_TYPE_FSL_UINT8 || f2.dim != x->W)
            st = pa_fail(PA_ERR_FORMAT,
                         "index file %s: expected " PA_INDEX_COL_ROWID
                         " uint64 and " PA_INDEX_COL_CODE " fixed_size_list<uint8, %u>",
                         path, x->W);
    }
    if (st == PA_OK && x->budget) { /* rows are read per partition, on demand */
        x->reader = r, r = NULL;
        x->c_id = c_id, x->c_code = c_code;
        goto done;
    }
    size_t id_bytes = 0, code_bytes = 0;
    if (st == PA_OK && (!pa_mul_ok((size_t)PA_MAX(x->num_rows, 1), sizeof(uint64_t), &id_bytes) ||
                        !pa_mul_ok((size_t)PA_MAX(x->num_rows, 1), x->W, &code_bytes)))
        st = pa_fail(PA_ERR_FORMAT,
                     "index file %s: %" PRIu64 " rows of %u-byte codes do not fit "
                     "in memory",
                     path, x->num_rows, x->W);
    if (st == PA_OK) {
        x->row_ids = pa_malloc(id_bytes, "index row ids");
        x->codes = pa_malloc(code_bytes, "index codes");
        if (!x->row_ids || !x->codes)
            st = PA_ERR_NOMEM;
    }
    if (st == PA_OK && x->num_rows &&
        (st = pa_lance_reader_read(r, c_id, 0, x->num_rows, x->row_ids)) == PA_OK)
        st = pa_lance_reader_read(r, c_code, 0, x->num_rows, x->codes);
    if (st == PA_OK)
        x->bytes += pa_lance_reader_bytes_read(r);
done:
    if (t)
        pa__lancepb__tensor__free_unpacked(t, NULL);
    if (ivf)
        pa__lancepb__ivf__free_unpacked(ivf, NULL);
    pa_lance_reader_free(r);
    return st;
}

/* Reads index.idx: the centroids, checked against the storage's partitions and dimension. */
static pa_status open_idx(pa_index *x, const char *path)
{
    pa_lance_reader *r = NULL;
    Pa__Lancepb__Ivf *ivf = NULL;
    pa_status st = pa_lance_reader_open(&r, path);
    if (st == PA_OK)
        st = pa_index_read_idx_meta(r, path, x->metric);
    if (st == PA_OK)
        st = pa_index_read_identity(r, path, &x->idx_meta);
    if (st == PA_OK)
        st = pa_index_read_ivf(r, path, &ivf);
    /* index.idx's own partition lengths, where it records them (LanceDB and partifact write
     * zeros), must be the storage's */
    for (uint32_t p = 0; st == PA_OK && ivf->n_lengths == x->P && p < x->P; p++)
        if (ivf->lengths[p] && ivf->lengths[p] != x->lengths[p])
            st = pa_fail(PA_ERR_FORMAT,
                         "index file %s: partition %u has %u rows, but " PA_INDEX_AUX_FILE
                         " holds %u: the two files are not of one index",
                         path, p, ivf->lengths[p], x->lengths[p]);
    if (st == PA_OK) {
        const Pa__Lancepb__Tensor *t = ivf->centroids_tensor;
        size_t count = 0;
        if (!t || t->n_shape != 2 || t->shape[0] != x->P || t->shape[1] != x->dim ||
            !pa_mul_ok(x->P, x->dim, &count))
            st = pa_fail(PA_ERR_FORMAT,
                         "index file %s: centroids tensor is not [%u, %u] (the "
                         "storage's partitions and dimension)",
                         path, x->P, x->dim);
        else
            st = tensor_floats(t, count, path, "centroids", &x->centroids);
    }
    for (uint32_t p = 0; st == PA_OK && p < x->P; p++) { /* as any vector (common.h) */
        const double sq = pa_sq_norm(x->centroids + (size_t)p * x->dim, x->dim);
        if (!(sq <= PA_MAX_SQ_NORM))
            st = pa_fail(PA_ERR_FORMAT,
                         "index file %s: centroid %u has squared norm %.3g, "
                         "more than %.3g (or values that are not finite)",
                         path, p, sq, PA_MAX_SQ_NORM);
    }
    if (st == PA_OK)
        x->bytes += pa_lance_reader_bytes_read(r);
    if (ivf)
        pa__lancepb__ivf__free_unpacked(ivf, NULL);
    pa_lance_reader_free(r);
    return st;
}

/* The partition's term of every table entry: ||y||^2 + 2 <c_p,m, y> for each sub-space m and
 * codeword y, into out (M x K). */
static void partition_terms(const pa_index *x, uint32_t p, float *out)
{
    const float *c = x->centroids + (size_t)p * x->dim;
    const uint32_t K = x->K;
    for (uint32_t m = 0; m < x->M; m++)
        for (uint32_t j = 0; j < K; j++)
            out[m * K + j] = x->ynorm[m * K + j] +
                             2.0f * pa_dotf(c + (size_t)m * x->ds,
                                            x->codebook + ((size_t)m * K + j) * x->ds, x->ds);
}


/* The rows hash (PA_INDEX_META_ROWS_HASH) of the stored rows. With a budget, a streaming
 * pass: partition by partition into one buffer of the largest partition (within the cache's
 * share of the budget, which is still empty), hashed and dropped. */
static pa_status rows_hash(pa_index *x, uint64_t *out)
{
    if (!x->budget) {
        *out = pa_index_rows_xxh64(XXH64(x->row_ids, sizeof(uint64_t) * x->num_rows, 0),
                                   XXH64(x->codes, (size_t)x->num_rows * x->W, 0));
        return PA_OK;
    }
    pa_status st = PA_OK;
    XXH64_state_t *hi = XXH64_createState(), *hc = XXH64_createState();
    uint64_t *ids = pa_malloc(sizeof(uint64_t) * PA_MAX(x->max_part, 1), "index row ids");
    uint8_t *codes = pa_malloc((size_t)x->W * PA_MAX(x->max_part, 1), "index codes");
    if (!hi || !hc || !ids || !codes) {
        st = hi && hc ? PA_ERR_NOMEM : pa_fail(PA_ERR_NOMEM, "out of memory for hash states");
        goto done;
    }
    XXH64_reset(hi, 0), XXH64_reset(hc, 0);
    for (uint32_t p = 0; p < x->P; p++) {
        const uint64_t n = x->lengths[p];
        if (!n)
            continue;
        if ((st = pa_lance_reader_read(x->reader, x->c_id, x->offsets[p], n, ids)) != PA_OK ||
            (st = pa_lance_reader_read(x->reader, x->c_code, x->offsets[p], n, codes)) != PA_OK)
            goto done;
        XXH64_update(hi, ids, sizeof(uint64_t) * n);
        XXH64_update(hc, codes, (size_t)n * x->W);
    }
    *out = pa_index_rows_xxh64(XXH64_digest(hi), XXH64_digest(hc));
done:
    XXH64_freeState(hi), XXH64_freeState(hc);
    free(ids), free(codes);
    return st;
}

/* Checks that index.idx and auxiliary.idx were written together: both carry the same
 * partifact:index JSON (model XXH64, parameters, rows and their hash), and it describes the
 * storage as read, rows hash included. Indexes LanceDB wrote carry it in neither file; they
 * are checked by their shapes alone (open_aux and open_idx: dimension, partitions, sub-vectors,
 * code width, metric, lengths summing to the rows). */
static pa_status check_identity(pa_index *x)
{
    if (!x->aux_meta && !x->idx_meta)
        return PA_OK;
    if (!x->aux_meta || !x->idx_meta)
        return pa_fail(PA_ERR_FORMAT,
                       "%s carries partifact's index identity (\"" PA_INDEX_META_KEY
                       "\") and %s does not: the two files are not of one index",
                       x->aux_meta ? PA_INDEX_AUX_FILE : PA_INDEX_FILE,
                       x->aux_meta ? PA_INDEX_FILE : PA_INDEX_AUX_FILE);
    pa_status st = PA_OK;
    const char *key;
    json_t *v;
    for (int pass = 0; pass < 2 && st == PA_OK; pass++) { /* every key of either file */
        json_t *a = pass ? x->idx_meta : x->aux_meta, *b = pass ? x->aux_meta : x->idx_meta;
        json_object_foreach(a, key, v)
        {
            json_t *w = json_object_get(b, key);
            if (w && json_equal(v, w))
                continue;
            char *ti = pa_index_json_text(json_object_get(x->idx_meta, key));
            char *ta = pa_index_json_text(json_object_get(x->aux_meta, key));
            st = pa_fail(PA_ERR_FORMAT,
                         PA_INDEX_FILE " and " PA_INDEX_AUX_FILE " were not "
                                       "written together: \"%s\" is %s in " PA_INDEX_FILE
                                       " and %s in " PA_INDEX_AUX_FILE,
                         key, ti ? ti : "?", ta ? ta : "?");
            free(ti), free(ta);
            break;
        }
    }
    if (st != PA_OK)
        return st;
    /* the JSON describes what the files hold */
    const pa_index_identity have = {.metric = x->metric,
                                    .dim = x->dim,
                                    .num_partitions = x->P,
                                    .num_sub_vectors = x->M,
                                    .num_bits = x->nbits,
                                    .num_rows = x->num_rows};
    uint64_t rows = 0;
    if ((st = pa_index_check_identity(x->aux_meta, &have)) != PA_OK ||
        (st = rows_hash(x, &rows)) != PA_OK)
        return st;
    return pa_index_check_rows_hash(x->aux_meta, rows);
}

/* Releases everything pa_index_open read. */
void pa_index_free(pa_index *x)
{
    if (!x)
        return;
    free(x->dir), free(x->centroids), free(x->cnorm), free(x->codebook), free(x->offsets);
    free(x->lengths), free(x->row_ids), free(x->codes), free(x->ynorm), free(x->pre);
    free(x->blocks), free(x->boff);
    json_decref(x->aux_meta), json_decref(x->idx_meta);
    if (x->arena)
        munmap(x->arena, (size_t)x->arena_bytes);
    free(x->cache);
    pa_lance_reader_free(x->reader);
    if (x->sync_init)
        pthread_mutex_destroy(&x->lock), pthread_cond_destroy(&x->freed);
    free(x);
}

/* 4-bit codes, all in memory: every partition's codes re-laid for the fast scan. */
static pa_status make_blocks(pa_index *x)
{
    uint64_t total = 0;
    if (!(x->boff = pa_malloc(sizeof(uint64_t) * x->P, "fast-scan block offsets")))
        return PA_ERR_NOMEM;
    for (uint32_t p = 0; p < x->P; p++)
        x->boff[p] = total, total += pa_fs_layout_bytes(x->lengths[p], x->M);
    if (!(x->blocks = pa_malloc((size_t)PA_MAX(total, 1), "fast-scan blocks")))
        return PA_ERR_NOMEM;
#pragma omp parallel for schedule(dynamic, 16)
    for (uint32_t p = 0; p < x->P; p++)
        pa_fs_pack(x->codes + x->offsets[p] * x->W, x->lengths[p], x->M, x->blocks + x->boff[p]);
    return PA_OK;
}

pa_status pa_index_open(pa_index **out, const char *dir)
{
    return pa_index_open_ex(out, dir, NULL);
}

/* Opens both index files (into memory, or with a budget their fixed part, checking the rows in
 * a streaming pass) and precomputes the centroid norms for the probe, the codeword norms, and
 * (l2/cosine, when it fits) every partition's table terms. */
pa_status pa_index_open_ex(pa_index **out, const char *dir, const pa_index_open_options *opts_in)
{
    *out = NULL;
    PA_LOAD_OPTS(pa_index_open_options, o, opts_in, PA_INDEX_OPEN_OPTIONS_INIT);
    const pa_index_open_options *opts = &o;
    char path[4096];
    pa_status st = PA_OK;
    pa_index *x = pa_calloc(1, sizeof *x, "index");
    if (!x) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    x->budget = opts ? opts->memory_bytes : 0;
    if (!(x->dir = pa_strdup(dir, "index path"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    snprintf(path, sizeof path, "%s/%s", dir, PA_INDEX_AUX_FILE);
    if ((st = open_aux(x, path)) != PA_OK)
        goto done;
    snprintf(path, sizeof path, "%s/%s", dir, PA_INDEX_FILE);
    if ((st = open_idx(x, path)) != PA_OK || (st = check_identity(x)) != PA_OK)
        goto done;
    if (!(x->cnorm = pa_malloc(sizeof(float) * x->P, "centroid norms"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    if (x->budget) {
        x->bytes += pa_lance_reader_bytes_read(x->reader); /* auxiliary.idx, rows pass included */
        if (!(x->cache = pa_calloc(x->P, sizeof *x->cache, "partition cache"))) {
            st = PA_ERR_NOMEM;
            goto done;
        }
        if (pthread_mutex_init(&x->lock, NULL) != 0 || pthread_cond_init(&x->freed, NULL) != 0) {
            st = pa_fail(PA_ERR_NOMEM, "cannot create the partition cache's lock");
            goto done;
        }
        x->sync_init = true;
    }
    for (uint32_t p = 0; p < x->P; p++)
        x->cnorm[p] = pa_dotf(x->centroids + (size_t)p * x->dim, x->centroids + (size_t)p * x->dim,
                              x->dim);
    if (!(x->ynorm = pa_malloc(sizeof(float) * x->M * x->K, "codeword norms"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    for (uint32_t i = 0; i < x->M * x->K; i++)
        x->ynorm[i] = pa_dotf(x->codebook + (size_t)i * x->ds, x->codebook + (size_t)i * x->ds,
                              x->ds);
    const uint64_t pre_bytes = pre_terms_bytes(x);
    /* with a budget, only where the largest partition still fits beside them */
    const bool pre_fits = !x->budget || pre_bytes + cached_bytes(x, x->max_part) <= x->cache_cap;
    if (x->metric != PA_METRIC_DOT && pre_bytes <= pa_index_precomp_max_bytes && pre_fits &&
        (x->pre = malloc((size_t)pre_bytes))) { /* without it, each probe computes its row */
        if (x->budget)
            x->cache_cap -= pre_bytes;
#pragma omp parallel for schedule(static)
        for (uint32_t p = 0; p < x->P; p++)
            partition_terms(x, p, x->pre + (size_t)p * x->M * x->K);
    }
    if (x->budget) { /* the cache's arena: pages resident as partitions first land in them */
        uint64_t all = 0;
        for (uint32_t p = 0; p < x->P; p++)
            all += cached_bytes(x, x->lengths[p]);
        x->arena_bytes = PA_MAX(PA_MIN(x->cache_cap, all), 1);
        void *m = mmap(NULL, (size_t)x->arena_bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED) {
            st = pa_fail(PA_ERR_NOMEM,
                         "out of memory mapping the partition cache (%" PRIu64 " bytes)",
                         x->arena_bytes);
            goto done;
        }
        x->arena = m, x->first = CACHE_NONE;
    }
    if (has_blocks(x) && !x->budget && (st = make_blocks(x)) != PA_OK)
        goto done;
    *out = x, x = NULL;
done:
    if (st != PA_OK && x) /* the failures once the index is being read name it */
        pa_fail_prefix(st, "index %s", dir);
    pa_index_free(x);
    return st;
}

uint64_t pa_index_cache_reads(const pa_index *x) { return x->cache_reads; }

/* The parameters and sizes, for the CLI and callers sizing their buffers. */
pa_status pa_index_get_info(const pa_index *x, pa_index_info *out)
{
    pa_status st = pa_info_args(x, out, "pa_index_info", "index info: an index");
    if (st != PA_OK)
        return st;
    pa_index_info info = PA_INDEX_INFO_INIT;
    info.dimension = x->dim, info.num_partitions = x->P, info.num_sub_vectors = x->M;
    info.num_bits = x->nbits, info.metric = x->metric, info.num_rows = x->num_rows;
    info.max_partition_rows = x->max_part, info.bytes = x->bytes;
    info.memory_bytes = x->budget;
    if (x->budget) {
        pthread_mutex_lock((pthread_mutex_t *)&x->lock); /* the searches' counters */
        info.cache_bytes = x->cache_cap, info.cache_peak_bytes = x->cache_peak;
        info.cache_reads = x->cache_reads;
        pthread_mutex_unlock((pthread_mutex_t *)&x->lock);
    }
    pa_stats_store(out, &info, sizeof info);
    return PA_OK;
}

/* Partition p's stored rows (tests compare the two finalize paths with it). */
pa_status pa_index_partition(const pa_index *x, uint32_t p, const uint64_t **row_ids,
                             const uint8_t **codes, uint64_t *num_rows)
{
    if (p >= x->P)
        return pa_fail(PA_ERR_RANGE, "index %s: partition %u of %u", x->dir, p, x->P);
    *row_ids = x->row_ids ? x->row_ids + x->offsets[p] : NULL;
    *codes = x->codes ? x->codes + x->offsets[p] * x->W : NULL;
    *num_rows = x->lengths[p];
    return PA_OK;
}

/* ---- the partition cache (with a budget) ---- */

/* The lowest offset of the arena where need bytes lie free between the cached partitions, into
 * *off, and the cached partition before it (CACHE_NONE: it goes first); false if there is none. */
static bool find_gap(const pa_index *x, uint64_t need, uint64_t *off, uint32_t *before)
{
    uint64_t end = 0; /* the end of the partition before the gap looked at */
    for (uint32_t prev = CACHE_NONE, i = x->first;; prev = i, i = x->cache[i].next) {
        const uint64_t start = i == CACHE_NONE ? x->arena_bytes : x->cache[i].off;
        if (start - end >= need) {
            *off = end, *before = prev;
            return true;
        }
        if (i == CACHE_NONE)
            return false;
        end = x->cache[i].off + cached_bytes(x, x->lengths[i]);
    }
}

/* Partition p's rows for a scan, pinned until release_partition: from the cache, or read from
 * auxiliary.idx into the lowest free run of the arena that holds it, evicting the least recently
 * used unpinned partitions until there is one. A search that finds no such run and every cached
 * partition pinned by other threads' scans waits for one to finish (each thread pins one
 * partition at a time, and each fits the arena alone). Reads happen under the lock: the reader
 * is one file position. A failed read is recorded for the search to report. */
static pa_status acquire_partition(pa_index *x, uint32_t p, const uint64_t **ids,
                                   const uint8_t **codes, const uint8_t **blocks)
{
    struct cached_part *e = &x->cache[p];
    const uint64_t n = x->lengths[p], need = cached_bytes(x, n);
    uint64_t off = 0;
    uint32_t before = CACHE_NONE;
    pa_status st = PA_OK;
    pthread_mutex_lock(&x->lock);
    while (!e->ids && !find_gap(x, need, &off, &before)) {
        struct cached_part *lru = NULL;
        for (uint32_t i = x->first; i != CACHE_NONE; i = x->cache[i].next) {
            struct cached_part *c = &x->cache[i];
            if (!c->pins && (!lru || c->used < lru->used))
                lru = c;
        }
        if (!lru) {
            pthread_cond_wait(&x->freed, &x->lock);
            continue;
        }
        if (lru->prev == CACHE_NONE)
            x->first = lru->next;
        else
            x->cache[lru->prev].next = lru->next;
        if (lru->next != CACHE_NONE)
            x->cache[lru->next].prev = lru->prev;
        lru->ids = NULL, lru->codes = NULL; /* codes and blocks follow its ids */
        x->cache_used -= cached_bytes(x, x->lengths[lru - x->cache]);
    }
    if (!e->ids) {
        /* the row ids, the codes, (4-bit) the blocks */
        uint64_t *i = (uint64_t *)(x->arena + off);
        uint8_t *c = (uint8_t *)(i + n);
        uint8_t *b = has_blocks(x) ? c + n * x->W : NULL;
        if ((st = pa_lance_reader_read(x->reader, x->c_id, x->offsets[p], n, i)) == PA_OK)
            st = pa_lance_reader_read(x->reader, x->c_code, x->offsets[p], n, c);
        if (st == PA_OK) {
            if (b)
                pa_fs_pack(c, n, x->M, b);
            e->ids = i, e->codes = c, e->off = off;
            e->prev = before;
            e->next = before == CACHE_NONE ? x->first : x->cache[before].next;
            if (e->next != CACHE_NONE)
                x->cache[e->next].prev = p;
            if (before == CACHE_NONE)
                x->first = p;
            else
                x->cache[before].next = p;
            x->cache_used += need;
            x->cache_peak = PA_MAX(x->cache_peak, x->cache_used);
            x->cache_reads++;
        } else if (x->err == PA_OK) {
            x->err = st;
            snprintf(x->err_msg, sizeof x->err_msg, "%s", pa_last_error());
        }
    }
    if (st == PA_OK) {
        e->pins++;
        e->used = ++x->tick;
        *ids = e->ids, *codes = e->codes;
        *blocks = has_blocks(x) ? e->codes + n * x->W : NULL;
    }
    pthread_mutex_unlock(&x->lock);
    return st;
}

static void release_partition(pa_index *x, uint32_t p)
{
    pthread_mutex_lock(&x->lock);
    if (--x->cache[p].pins == 0)
        pthread_cond_broadcast(&x->freed);
    pthread_mutex_unlock(&x->lock);
}

/* ---- search ---- */

/* A probe's table for partition p from a query's products with every codeword qy (M x K):
 * dot: -qy; l2/cosine: the partition's terms minus 2 qy. */
static void probe_table(const pa_index *x, uint32_t p, const float *qy, float *table)
{
    const uint32_t T = x->M * x->K;
    if (x->metric == PA_METRIC_DOT) {
        pa_adc_table(table, NULL, qy, T);
    } else {
        const float *pre = x->pre ? x->pre + (size_t)p * T : table;
        if (!x->pre)
            partition_terms(x, p, table);
        pa_adc_table(table, pre, qy, T);
    }
}

/* Scans partition p for one query. qy holds the query's inner products with every codeword
 * (M x K). dot: the table is -qy and base 0. l2/cosine: the table is the partition's terms
 * minus 2 qy, and base the coarse distance ||q - c_p||^2 every row of the partition shares.
 * pa_scan_codes then sums one table entry per sub-vector code for every row and offers each
 * row to the heap. With blocks (4-bit codes re-laid, fs its scratch) the fast scan runs instead:
 * rows offered by quantised distance, each taken with its exact distance in aux (counted in
 * *exact). */
static void scan_partition(const pa_index *x, uint32_t p, const uint64_t *ids, const uint8_t *codes,
                           const uint8_t *blocks, pa_fs_scratch *fs, const float *qy, float base,
                           float *table, pa_topk_cand *heap, uint32_t *hn, uint32_t cap,
                           uint64_t *exact)
{
    const uint64_t n = x->lengths[p];
    if (n == 0)
        return;
    probe_table(x, p, qy, table);
    if (blocks)
        *exact += pa_fs_scan_partition(blocks, ids, n, x->M, table, base, fs, heap, hn, cap);
    else
        pa_scan_codes(codes, ids, n, x->M, x->nbits, table, base, heap, hn, cap);
}

/* Sorts n candidates best first: by insertion for the few a probe list or a query's heap
 * holds (where qsort's calls through pa_topk_cmp cost more than the sort), by qsort beyond.
 * pa_topk_worse is a total order on (distance, id), so either gives the same order. */
#define SMALL_SORT 64
static void sort_cands(pa_topk_cand *h, uint32_t n)
{
    if (n > SMALL_SORT) {
        qsort(h, n, sizeof *h, pa_topk_cmp);
        return;
    }
    for (uint32_t i = 1; i < n; i++) {
        const pa_topk_cand c = h[i];
        uint32_t j = i;
        for (; j > 0 && pa_topk_worse(&h[j - 1], &c); j--)
            h[j] = h[j - 1];
        h[j] = c;
    }
}

/* What one search call allocates (pa_index_search_memory states it): a block of qb queries and its
 * arrays (for cosine a normalised copy of the queries, then their products with every codeword,
 * candidates, counts and norms; for the fast scan the transposed codebook in place of the
 * products) in one allocation of block_bytes (whole pages), at the offsets o_*; and per thread
 * at most thread_bytes (the scan's table (the fast scan with fs_held: PA_FS_QUERIES of them)
 * and, for the fast scan, a query's products or its group's (fs_held), the probes, COARSE_SUB
 * queries' dot products with every centroid and a query's distance to each, the group's probe list, the C library's sort of it and its probes'
 * coarse distances, the fast scan's scratch; the refine's scratch, pa_refine_scratch_bytes). */
typedef struct search_sizes {
    uint64_t qb, grp, block_bytes, thread_bytes;
    uint64_t o_qyall, o_cands, o_ncand, o_qsq;
    bool fs_held; /* the fast scan's products held for the group's queries (FS_HELD_BYTES) */
} search_sizes;

/* The fast scan's query-codeword products (M x 16 floats a query; they do not depend on the
 * partition) computed for the whole group at once (once a query, not once a probe, and several
 * queries a pass over the codebook) where the group's fit in this many bytes. */
#define FS_HELD_BYTES (8u << 20)

/* Pairs (partition, query) ahead of the scan whose coarse distance is fetched into the cache
 * (the group's distances lie anywhere in its 4 x grp x np bytes). */
#define PAIR_AHEAD 8

/* Queries whose dot products with every centroid a thread computes at once, by one sgemm on the
 * thread (an OpenMP BLAS runs on the calling thread alone inside a parallel region), to choose
 * their probes: the products stay in the thread's cache (at most COARSE_SUB queries and
 * COARSE_SUB_BYTES of products, at least one query) instead of passing through a block-wide
 * array, which is mapped afresh for every call (its pages faulted and zeroed) and read back from
 * memory. Each sgemm packs all the centroids, so it pays to give it many queries: 64 a call took
 * 5-7% more CPU time than 256 over Fashion-MNIST's 4-bit index at nprobes 1 (784 dimensions,
 * 256 partitions; Zen 4, 2026-12-04), 1,024 no less than 256. */
#define COARSE_SUB 256u
#define COARSE_SUB_BYTES (1u << 20)
static uint32_t coarse_sub(uint32_t P)
{
    return PA_MAX(1u, PA_MIN(COARSE_SUB, COARSE_SUB_BYTES / (P * (uint32_t)sizeof(float))));
}

#define BLOCK_ALIGN 64 /* each array of the block's allocation starts on a cache line */
#define BLOCK_MAP_BYTES (256u << 10) /* a block's allocation from this size: its own mapping */
/* A block's mapping from this size: whole transparent huge pages (where the system offers them
 * on request, madvise): every call maps its block afresh, and faulting 4 KiB pages in (tens of
 * MiB at batch 8192) cost a quarter of a batch's time where faults are dear (a virtual machine) */
#define BLOCK_HUGE_BYTES (8u << 20) /* (rounded to whole PA_HUGE_PAGE_BYTES) */

/* Queries in a group of a block of bn (see pa_index_search). */
static uint64_t group_queries(uint64_t bn, int nthreads, uint32_t np)
{
    return PA_MAX(1, PA_MIN(PA_MAX((uint64_t)QUERY_GROUP,
                                   (bn + 2 * (uint64_t)nthreads - 1) / (2 * (uint64_t)nthreads)),
                            (8ull << 20) / ((uint64_t)np * sizeof(uint64_t))));
}

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

static void search_sizes_of(const pa_index *x, uint64_t nq, uint32_t np, uint32_t cap,
                            uint32_t hcap, bool fs, uint32_t rf, int nthreads, search_sizes *z)
{
    const uint64_t T = (uint64_t)x->M * x->K, D = x->dim;
    /* a block of queries, with its query-codeword products held to about 32 MiB */
    z->qb = PA_MAX(1, PA_MIN(PA_MIN((uint64_t)QUERY_BLOCK, nq),
                             PA_MIN(BLOCK_ARRAY_BYTES / (T * sizeof(float)),
                                    BLOCK_ARRAY_BYTES / ((uint64_t)hcap * sizeof(pa_topk_cand)))));
    const uint64_t qb = z->qb;
    /* the queries' copy: cosine's normalised queries (l2 and dot read the caller's) */
    z->o_qyall = x->metric == PA_METRIC_COSINE ? align_up(sizeof(float) * qb * D, BLOCK_ALIGN) : 0;
    /* the 8-bit scan's products for the whole block; the fast scan's transposed codebook */
    z->o_cands = z->o_qyall + align_up(sizeof(float) * (fs ? T * x->ds : qb * T), BLOCK_ALIGN);
    z->o_ncand = z->o_cands + align_up(sizeof(pa_topk_cand) * qb * hcap, BLOCK_ALIGN);
    z->o_qsq = z->o_ncand + align_up(sizeof(uint32_t) * qb, BLOCK_ALIGN);
    z->block_bytes = align_up(z->o_qsq + sizeof(float) * qb, (uint64_t)sysconf(_SC_PAGESIZE));
    if (z->block_bytes >= BLOCK_HUGE_BYTES)
        z->block_bytes = align_up(z->block_bytes, PA_HUGE_PAGE_BYTES);
    z->grp = group_queries(qb, nthreads, np); /* the largest group: the fullest block's */
    z->fs_held = fs && z->grp * T * sizeof(float) <= FS_HELD_BYTES;
    z->thread_bytes = sizeof(float) * T * (fs ? (z->fs_held ? PA_FS_QUERIES + z->grp : 2) : 1) +
                      sizeof(pa_topk_cand) * np +
                      sizeof(float) * x->P * (1 + (uint64_t)coarse_sub(x->P)) +
                      (2 * sizeof(uint64_t) + sizeof(float)) * z->grp * np +
                      (fs ? pa_fs_scratch_bytes(x->M, x->max_part) : 0) +
                      (rf > 1 ? pa_refine_scratch_bytes(cap, (uint32_t)D) : 0);
}

/* Each of n queries' ||q||^2 into sq (pa_dotf's floats: pa_self_dots), on nthreads, and
 * the first query (query_base + its index) with a NaN or infinite value, or whose squared
 * norm would overflow float distances, reported. A norm at most half the limit (the rounding
 * argument of pa_row_surely_ok holds for any order of the sum) passes; only the others are
 * checked exactly. The report is the first bad query's whichever thread finds it. */
static pa_status check_queries(int level, int nthreads, const float *q, uint64_t n, uint32_t D,
                               uint64_t query_base, float *sq)
{
    uint64_t bad = n;
#pragma omp parallel for num_threads(nthreads) schedule(static) reduction(min : bad)
    for (uint64_t i0 = 0; i0 < n; i0 += PA_REFINE_LANES) {
        const uint64_t m = PA_MIN(n - i0, PA_REFINE_LANES);
        pa_self_dots(level, q + i0 * D, m, D, sq + i0);
        for (uint64_t i = i0; i < i0 + m; i++) {
            if (sq[i] <= (float)(PA_MAX_SQ_NORM / 2))
                continue;
            const float *v = q + i * D;
            bool ok = true;
            for (uint32_t j = 0; j < D; j++)
                ok &= isfinite(v[j]) != 0;
            if (!ok || !(pa_sq_norm(v, D) <= PA_MAX_SQ_NORM))
                bad = PA_MIN(bad, i);
        }
    }
    if (bad == n)
        return PA_OK;
    const float *v = q + bad * D;
    for (uint32_t j = 0; j < D; j++)
        if (!isfinite(v[j]))
            return pa_fail(PA_ERR_INVALID, "query %" PRIu64 " has a NaN or infinite value",
                           query_base + bad);
    return pa_fail(PA_ERR_INVALID,
                   "query %" PRIu64 " has squared norm %.3g, more than %.3g: its distances "
                   "would overflow float",
                   query_base + bad, pa_sq_norm(v, D), PA_MAX_SQ_NORM);
}

/* Validates the request, then per block of queries: (8-bit) one sgemm per sub-space for the
 * query x codeword products, per group of queries (in parallel) the query x centroid dot
 * products (COARSE_SUB queries an sgemm), probe selection and ADC scans into heaps, then
 * refine. */
pa_status pa_index_search(pa_index *x, const float *queries, uint64_t nq, uint32_t dim,
                          const pa_index_search_options *opts_in, uint64_t *out_ids,
                          float *out_dists, pa_index_search_stats *stats)
{
    double t0 = pa_now_seconds();
    PA_LOAD_OPTS(pa_index_search_options, o, opts_in, PA_INDEX_SEARCH_OPTIONS_INIT);
    const pa_index_search_options *opts = &o;
    if (pa_stats_check(stats, "pa_index_search_stats") != PA_OK)
        return PA_ERR_INVALID;
    if (!queries || !out_ids || !out_dists)
        return pa_fail(PA_ERR_INVALID, "queries and outputs are required");
    if (dim != x->dim)
        return pa_fail(PA_ERR_INVALID,
                       "the queries have dimension %u, index %s has "
                       "dimension %u",
                       dim, x->dir, x->dim);
    const uint32_t k = opts->k;
    if (k == 0)
        return pa_fail(PA_ERR_INVALID, "k must be at least 1");
    if (k > x->num_rows)
        return pa_fail(PA_ERR_INVALID,
                       "k = %u is more than the %" PRIu64 " rows of "
                       "index %s",
                       k, x->num_rows, x->dir);
    const uint32_t np = PA_MIN(opts->nprobes ? opts->nprobes : PA_DEFAULT_NPROBES, x->P);
    const uint32_t rf = opts->refine_factor > 1 ? opts->refine_factor : 1;
    if (rf > 1 && !opts->refine_input)
        return pa_fail(PA_ERR_INVALID,
                       "refine factor %u needs the original vectors "
                       "(refine_input)",
                       rf);
    if (rf > 1 && pa_vec_input_dim(opts->refine_input) != x->dim)
        return pa_fail(PA_ERR_INVALID,
                       "the refine input has dimension %u, index %s has "
                       "dimension %u",
                       pa_vec_input_dim(opts->refine_input), x->dir, x->dim);
    if ((uint64_t)k * rf > PA_MAX_SEARCH_CANDIDATES)
        return pa_fail(PA_ERR_INVALID, "k * refine factor = %" PRIu64 " is too large",
                       (uint64_t)k * rf);
    if (opts->fast_scan != PA_FAST_SCAN_AUTO && opts->fast_scan != PA_FAST_SCAN_OFF)
        return pa_fail_field(PA_ERR_INVALID, "fast_scan",
                             "fast_scan %u is neither PA_FAST_SCAN_AUTO (%u) nor "
                             "PA_FAST_SCAN_OFF (%u)",
                             opts->fast_scan, PA_FAST_SCAN_AUTO, PA_FAST_SCAN_OFF);
    /* the fast scan keeps the hcap best by quantised distance, re-ranked to the cap best */
    const bool fs = has_blocks(x) && opts->fast_scan == PA_FAST_SCAN_AUTO;
    const uint32_t rr = fs ? PA_MAX(opts->rerank_factor, 1) : 1;
    if ((uint64_t)k * rf * rr > PA_MAX_SEARCH_CANDIDATES)
        return pa_fail_field(PA_ERR_INVALID, "rerank_factor",
                             "k * refine factor * rerank factor = %" PRIu64 " is more than %u",
                             (uint64_t)k * rf * rr, PA_MAX_SEARCH_CANDIDATES);
    const uint32_t cap = k * rf, hcap = cap * rr;
    const uint32_t D = x->dim, P = x->P;
    const uint64_t T = (uint64_t)x->M * x->K; /* table entries */
    int nthreads = opts->num_threads > 0 ? (int)PA_MIN(opts->num_threads, (uint32_t)INT_MAX)
                                         : omp_get_max_threads();
    search_sizes z;
    search_sizes_of(x, nq, np, cap, hcap, fs, rf, nthreads, &z);
    const uint64_t qb = z.qb;
    /* the block's arrays in one allocation; from BLOCK_MAP_BYTES its own mapping, so that
     * what the call frees leaves the process (glibc serves a large request from the heap once
     * a freed one raised its mmap threshold, and the heap keeps it) */
    const bool mapped = z.block_bytes >= BLOCK_MAP_BYTES;
    void *blk = mapped ? mmap(NULL, (size_t)z.block_bytes, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                       : malloc((size_t)z.block_bytes);
    if (blk == MAP_FAILED || !blk)
        return pa_fail(PA_ERR_NOMEM,
                       "out of memory for a block of %" PRIu64 " queries' arrays (%" PRIu64
                       " bytes)",
                       qb, z.block_bytes);
    if (mapped && z.block_bytes >= BLOCK_HUGE_BYTES) /* advice only: no error if refused */
        pa_advise_huge(blk, (size_t)z.block_bytes);
    float *qcopy = blk, *qyall = (float *)((uint8_t *)blk + z.o_qyall);
    pa_topk_cand *cands = (pa_topk_cand *)((uint8_t *)blk + z.o_cands);
    uint32_t *ncand = (uint32_t *)((uint8_t *)blk + z.o_ncand);
    float *qsq = (float *)((uint8_t *)blk + z.o_qsq); /* each query's ||q||^2 */
    /* the queries' codeword products: for the 8-bit and plain scans by sgemm for the whole
     * block (qyall); for the fast scan from the codebook transposed (cbt, 16 x dim floats), the
     * short products summed as the sgemm sums them, for a whole group (fs_held) or else per
     * probe */
    float *cbt = fs ? qyall : NULL;
    pa_status st = PA_OK;
    const int level = pa_kernel_level(); /* pa_self_dots' kernel */
    if (cbt)
        pa_fs_transpose_codebook(x->codebook, x->M, x->ds, cbt);
    const bool par_refine = rf > 1 && pa_vec_input_concurrent_reads(opts->refine_input);
    uint64_t scanned = 0, refined = 0, reranked = 0;
    for (uint64_t q0 = 0; q0 < nq && st == PA_OK; q0 += qb) {
        const uint64_t bn = PA_MIN(qb, nq - q0);
        if ((st = check_queries(level, nthreads, queries + q0 * D, bn, D, q0, qsq)) != PA_OK)
            break;
        /* cosine normalises a copy (and takes its norms again); l2 and dot read the caller's
         * queries */
        const float *qbuf = queries + q0 * D;
        if (x->metric == PA_METRIC_COSINE) {
            memcpy(qcopy, qbuf, sizeof(float) * bn * D);
#pragma omp parallel for num_threads(nthreads) schedule(static)
            for (uint64_t i0 = 0; i0 < bn; i0 += PA_REFINE_LANES) {
                const uint64_t m = PA_MIN(bn - i0, PA_REFINE_LANES);
                for (uint64_t i = i0; i < i0 + m; i++)
                    pa_normalize(qcopy + i * D, D);
                pa_self_dots(level, qcopy + i0 * D, m, D, qsq + i0);
            }
            qbuf = qcopy;
        }
        /* the queries' part of every table, q_m . codeword: one sgemm per sub-space for the
         * whole block (row i of qyall holds query i's M x K products), on the search's threads
         * (an OpenMP BLAS takes the caller's count: with num_threads 1, no BLAS thread left
         * spinning beside the scan) */
        const int blas_threads = omp_get_max_threads();
        if (!fs && blas_threads != nthreads)
            omp_set_num_threads(nthreads);
        for (uint32_t m = 0; !fs && m < x->M; m++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)bn, (int)x->K, (int)x->ds,
                        1.0f, qbuf + (size_t)m * x->ds, (int)D,
                        x->codebook + (size_t)m * x->K * x->ds, (int)x->ds, 0.0f,
                        qyall + (size_t)m * x->K, (int)T);
        if (!fs && blas_threads != nthreads)
            omp_set_num_threads(blas_threads);
        int failed = 0;
        /* Groups of at least QUERY_GROUP queries, the block shared as two groups per thread
         * (fewer queries where their probes' list would pass 8 MiB), one thread each: the more
         * queries a group holds, the more of them probe each partition while it is in the
         * thread's cache (10,000 queries at nprobes 1 over 256 partitions: about 20 for each
         * of 2 threads' groups). A group's probes are scanned partition by partition, so that a
         * partition's codes are read from memory once for all the group's queries that probe
         * it: first every query's nearest partition (the heaps' bounds then prune the rest),
         * then the others. A heap's contents do not depend on the order its partitions come
         * in. */
        const uint64_t grp = group_queries(bn, nthreads, np);
        const uint64_t ngroups = (bn + grp - 1) / grp;
#pragma omp parallel num_threads(nthreads) reduction(+ : scanned, reranked)
        {
            /* the probes' tables: PA_FS_QUERIES of them where one pass over a partition's
             * codes serves as many queries (the fast scan with the group's products held) */
            const uint32_t fsq = fs && z.fs_held ? PA_FS_QUERIES : 1;
            float *table = malloc(sizeof(float) * (size_t)T * fsq);
            /* a query's products, or (fs_held) each of the group's */
            float *qyt = fs ? malloc(sizeof(float) * (size_t)T * (z.fs_held ? grp : 1)) : NULL;
            pa_topk_cand *probe = malloc(sizeof(pa_topk_cand) * np);
            float *pd = malloc(sizeof(float) * P); /* a query's distance to each centroid */
            const uint32_t csub = coarse_sub(P);
            float *dots = malloc(sizeof(float) * csub * P);        /* csub queries' q.c */
            uint64_t *pairs = malloc(sizeof(uint64_t) * grp * np); /* at most 8 MiB */
            float *pbase = malloc(sizeof(float) * grp * np);       /* the pairs' coarse distances */
            pa_fs_scratch fsx = {NULL, NULL, NULL, 0};
            const bool ok = table && probe && pd && dots && pairs && pbase && (!fs || qyt) &&
                            (!fs || pa_fs_scratch_init(&fsx, x->M, x->max_part) == PA_OK);
            if (!ok) {
#pragma omp atomic write
                failed = 1;
            }
#pragma omp for schedule(dynamic, 1)
            for (uint64_t g = 0; g < ngroups; g++) {
                const uint64_t lo = g * grp, hi = PA_MIN(bn, lo + grp);
                uint64_t npairs = 0;
                if (ok && z.fs_held) /* the group's codeword products, several queries a pass */
                    pa_fs_query_products(qbuf + lo * D, hi - lo, x->M, x->ds, cbt, qyt);
                for (uint64_t i = lo; ok && i < hi; i++) {
                    if ((i - lo) % csub == 0) /* the next csub queries' q.c */
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
                                    (int)PA_MIN(csub, hi - i), (int)P, (int)D, 1.0f, qbuf + i * D,
                                    (int)D, x->centroids, (int)D, 0.0f, dots, (int)P);
                    const float *s = dots + (i - lo) % csub * P;
                    /* the np nearest centroids: l2/cosine ||c||^2 - 2 q.c, dot -q.c, all P
                     * of them first (in vector registers), then offered where they may enter */
                    if (x->metric == PA_METRIC_DOT) {
#pragma omp simd
                        for (uint32_t p = 0; p < P; p++)
                            pd[p] = -s[p];
                    } else {
#pragma omp simd
                        for (uint32_t p = 0; p < P; p++)
                            pd[p] = x->cnorm[p] - 2 * s[p];
                    }
                    uint32_t pn = 0;
                    for (uint32_t p = 0; p < P; p++)
                        pa_topk_offer(probe, &pn, np, pd[p], p);
                    sort_cands(probe, pn);
                    ncand[i] = 0;
                    /* (round, partition, the query's probe e): round 0 the nearest partition;
                     * ||q - c_p||^2 = ||q||^2 + ||c_p||^2 - 2 q.c_p (0 for dot) */
                    for (uint32_t j = 0; j < pn; j++) {
                        const uint32_t p = probe[j].id, e = (uint32_t)((i - lo) * np + j);
                        if (!x->lengths[p])
                            continue;
                        pbase[e] = x->metric == PA_METRIC_DOT ? 0 : qsq[i] + x->cnorm[p] - 2 * s[p];
                        pairs[npairs++] = (uint64_t)(j > 0) << 63 | (uint64_t)p << 32 | e;
                    }
                }
                qsort(pairs, npairs, sizeof *pairs, pa_cmp_u64);
                uint32_t held = UINT32_MAX; /* the partition whose rows pid, pc, pb hold */
                const uint64_t *pid = NULL;
                const uint8_t *pc = NULL, *pb = NULL;
                for (uint64_t e = 0; e < npairs;) {
                    const uint32_t p = (uint32_t)(pairs[e] >> 32 & 0x7fffffffu);
                    const uint32_t pe = (uint32_t)pairs[e]; /* the query's probe */
                    const uint64_t i = lo + pe / np;
                    if (e + PAIR_AHEAD < npairs) /* a later pair's coarse distance: scattered */
                        __builtin_prefetch(pbase + (uint32_t)pairs[e + PAIR_AHEAD]);
                    if (p != held && x->budget) {
                        if (held != UINT32_MAX)
                            release_partition(x, held);
                        held = UINT32_MAX;
                        if (acquire_partition(x, p, &pid, &pc, &pb) != PA_OK)
                            break;
                    } else if (p != held) {
                        pid = x->row_ids + x->offsets[p], pc = x->codes + x->offsets[p] * x->W;
                        pb = fs ? x->blocks + x->boff[p] : NULL;
                    }
                    held = p;
                    /* the pairs after this one of the same partition and round, up to fsq in
                     * all: scanned together (each heap as its own scan would leave it) */
                    uint32_t run = 1;
                    while (run < fsq && e + run < npairs && pairs[e + run] >> 32 == pairs[e] >> 32)
                        run++;
                    if (run == 1) {
                        const float base = pbase[pe];
                        const float *qy = !fs         ? qyall + i * T
                                          : z.fs_held ? qyt + (i - lo) * T
                                                      : qyt;
                        if (fs && !z.fs_held)
                            pa_fs_query_products(qbuf + i * D, 1, x->M, x->ds, cbt, qyt);
                        scan_partition(x, p, pid, pc, fs ? pb : NULL, &fsx, qy, base, table,
                                       cands + i * hcap, &ncand[i], hcap, &reranked);
                    } else {
                        const float *tabs[PA_FS_QUERIES];
                        float bases[PA_FS_QUERIES];
                        pa_topk_cand *heaps[PA_FS_QUERIES];
                        uint32_t *hns[PA_FS_QUERIES];
                        for (uint32_t q = 0; q < run; q++) {
                            const uint32_t qe = (uint32_t)pairs[e + q];
                            const uint64_t qi = lo + qe / np;
                            if (q && e + q + PAIR_AHEAD < npairs)
                                __builtin_prefetch(pbase + (uint32_t)pairs[e + q + PAIR_AHEAD]);
                            probe_table(x, p, qyt + (qi - lo) * T, table + (size_t)q * T);
                            tabs[q] = table + (size_t)q * T, bases[q] = pbase[qe];
                            heaps[q] = cands + qi * hcap, hns[q] = &ncand[qi];
                        }
                        reranked += pa_fs_scan_partition_multi(pb, pid, x->lengths[p], x->M, run,
                                                               tabs, bases, &fsx, heaps, hns, hcap);
                    }
                    scanned += run * x->lengths[p];
                    e += run;
                }
                if (x->budget && held != UINT32_MAX)
                    release_partition(x, held);
                for (uint64_t i = lo; ok && i < hi; i++) {
                    pa_topk_cand *h = cands + i * hcap;
                    if (fs) /* the exact re-rank: the cap best by exact ADC distance */
                        for (uint32_t j = 0; j < ncand[i]; j++)
                            h[j].d = h[j].aux;
                    if (rf > 1) /* refine re-ranks the set: in any order */
                        pa_refine_select(h, ncand[i], cap);
                    else
                        sort_cands(h, ncand[i]);
                    ncand[i] = PA_MIN(ncand[i], cap);
                }
            }
            free(table), free(qyt), free(probe), free(pd), free(dots), free(pairs), free(pbase);
            pa_fs_scratch_free(&fsx);
        }
        if (failed) {
            st = pa_fail(PA_ERR_NOMEM, "out of memory for per-thread scan buffers");
            break;
        }
        if (x->budget) { /* a partition's read failed (on some thread) */
            pthread_mutex_lock(&x->lock);
            if (x->err != PA_OK)
                st = pa_fail(x->err, "%s", x->err_msg);
            x->err = PA_OK;
            pthread_mutex_unlock(&x->lock);
            if (st != PA_OK)
                break;
        }
        /* refine (on every thread where the input's reads may run concurrently: a mapped
         * file), then the outputs */
        pa_status rst = PA_OK;
        uint64_t rq = UINT64_MAX; /* the query of the failure reported: the first one */
        char rmsg[512] = "";
#pragma omp parallel num_threads(par_refine ? nthreads : 1) reduction(+ : refined)
        {
            pa_refine_scratch rs;
            pa_status mine = rf > 1 ? pa_refine_scratch_init(&rs, cap, D) : PA_OK;
            uint64_t mq = 0; /* the query whose refine failed */
#pragma omp for schedule(dynamic, 16)
            for (uint64_t i = 0; i < bn; i++) {
                pa_topk_cand *h = cands + i * hcap;
                uint32_t hn = ncand[i];
                if (mine == PA_OK && rf > 1 && hn > 0) {
                    /* exact distances (refine.h), then the k best of them in order */
                    mine = pa_refine_distances(opts->refine_input, x->metric, qbuf + i * D, h, hn,
                                               &rs);
                    if (mine != PA_OK)
                        pa_fail_prefix(mine, "refine reads row ids from the input"), mq = i;
                    else
                        pa_refine_top(h, hn, k, &rs), hn = PA_MIN(hn, k);
                    refined += ncand[i];
                }
                uint64_t *oi = out_ids + (q0 + i) * k;
                float *od = out_dists + (q0 + i) * k;
                for (uint32_t j = 0; j < k; j++) {
                    oi[j] = j < hn ? h[j].id : UINT64_MAX;
                    od[j] = j < hn ? h[j].d : INFINITY;
                }
            }
            if (mine != PA_OK)
#pragma omp critical(pa_search_refine)
                if (rst == PA_OK || mq < rq) { /* the first query's failure, and its message */
                    rst = mine, rq = mq;
                    snprintf(rmsg, sizeof rmsg, "%s", pa_last_error());
                }
            if (rf > 1)
                pa_refine_scratch_free(&rs);
        }
        if (rst != PA_OK)
            st = pa_fail(rst, "%s", rmsg);
    }
    if (mapped)
        munmap(blk, (size_t)z.block_bytes);
    else
        free(blk);
    if (st == PA_OK && stats) {
        pa_index_search_stats s = PA_INDEX_SEARCH_STATS_INIT;
        s.nprobes_used = np;
        s.codes_scanned = scanned;
        s.rows_refined = refined;
        s.seconds = pa_now_seconds() - t0;
        s.fast_scan_used = fs;
        s.rows_reranked = reranked;
        pa_stats_store(stats, &s, sizeof s);
    }
    return st;
}

pa_status pa_index_search_memory(const pa_index *x, uint64_t nq,
                                 const pa_index_search_options *opts_in, uint64_t *bytes)
{
    PA_LOAD_OPTS(pa_index_search_options, o, opts_in, PA_INDEX_SEARCH_OPTIONS_INIT);
    *bytes = 0;
    const uint32_t rf = o.refine_factor > 1 ? o.refine_factor : 1;
    const bool fs = has_blocks(x) && o.fast_scan == PA_FAST_SCAN_AUTO;
    const uint32_t rr = fs ? PA_MAX(o.rerank_factor, 1) : 1;
    if (o.k == 0 || (uint64_t)o.k * rf * rr > PA_MAX_SEARCH_CANDIDATES)
        return pa_fail(PA_ERR_INVALID,
                       "k = %u (times refine factor %u and rerank factor %u) is not between 1 "
                       "and %u",
                       o.k, rf, rr, PA_MAX_SEARCH_CANDIDATES);
    const uint32_t np = PA_MIN(o.nprobes ? o.nprobes : PA_DEFAULT_NPROBES, x->P);
    const int nthreads = o.num_threads > 0 ? (int)PA_MIN(o.num_threads, (uint32_t)INT_MAX)
                                           : omp_get_max_threads();
    search_sizes z;
    search_sizes_of(x, nq, np, o.k * rf, o.k * rf * rr, fs, rf, nthreads, &z);
    *bytes = z.block_bytes + (uint64_t)nthreads * z.thread_bytes;
    return PA_OK;
}

bool pa_index_same_model(const pa_index *a, const pa_index *b)
{
    if (a->dim != b->dim || a->P != b->P || a->M != b->M || a->nbits != b->nbits ||
        a->metric != b->metric ||
        memcmp(a->centroids, b->centroids, sizeof(float) * a->P * a->dim) != 0 ||
        memcmp(a->codebook, b->codebook, sizeof(float) * a->M * a->K * a->ds) != 0)
        return false;
    const char *ma = json_string_value(json_object_get(a->idx_meta, PA_INDEX_ID_MODEL));
    const char *mb = json_string_value(json_object_get(b->idx_meta, PA_INDEX_ID_MODEL));
    return !ma || !mb || !strcmp(ma, mb);
}

const char *pa_index_dir(const pa_index *x) { return x->dir; }
