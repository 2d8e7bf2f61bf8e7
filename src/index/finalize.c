/* Finalize from a partition artifact: the fast path. The manifest says where every partition's
 * rows are; the read-ahead scan reads exactly those ranges, once, in partition order, while
 * the index writer sorts and writes the previous partition. Nothing is scanned twice and
 * memory is bounded by the largest partition plus the read-ahead. */
#include "index/index_internal.h"
#include "artifact/artifact_internal.h"
#include "common/pq_code.h"
#include "io/io_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>


/* Checks that the model's parameters are the artifact's (or the rows file's), naming both
 * files and the first parameter that differs. */
pa_status pa_index_check_model(const pa_backend_model *a, const char *model_path, const char *what,
                               const char *path, uint32_t dim, uint32_t code_bytes, uint32_t P,
                               uint32_t bits, const char *metric)
{
    if (dim && a->dim != dim)
        return pa_fail(PA_ERR_INVALID,
                       "model %s has dimension %u, but %s %s was encoded with "
                       "dimension %u",
                       model_path, a->dim, what, path, dim);
    if (bits && a->num_bits != bits)
        return pa_fail(PA_ERR_INVALID, "model %s has %u-bit codes, but %s %s has %u-bit codes",
                       model_path, a->num_bits, what, path, bits);
    const uint32_t W = pa_pq_code_bytes(a->num_sub_vectors, a->num_bits);
    if (W != code_bytes) {
        char four[48] = "";
        if (a->num_bits == PA_PQ_BITS_4)
            snprintf(four, sizeof four, " of 4-bit codes (%u bytes a row)", W);
        return pa_fail(PA_ERR_INVALID, "model %s has %u sub-vectors%s, but %s %s has %u-byte codes",
                       model_path, a->num_sub_vectors, four, what, path, code_bytes);
    }
    if (P && a->num_partitions != P)
        return pa_fail(PA_ERR_INVALID, "model %s has %u partitions, but %s %s has %u", model_path,
                       a->num_partitions, what, path, P);
    if (metric && strcmp(pa_metric_name((pa_metric)a->metric), metric))
        return pa_fail(PA_ERR_INVALID, "model %s uses metric %s, but %s %s was encoded with %s",
                       model_path, pa_metric_name((pa_metric)a->metric), what, path, metric);
    return PA_OK;
}

/* Finds the model the manifest records: as written, else relative to the artifact. */
static pa_status resolve_model(const char *artifact_dir, const char *recorded, char *buf,
                               size_t len)
{
    struct stat sb;
    if (!recorded)
        return pa_fail_field(PA_ERR_INVALID, "model_path",
                             "artifact %s records no model; "
                             "give model_path, the model it was encoded with",
                             artifact_dir);
    if (stat(recorded, &sb) == 0 || recorded[0] == '/') {
        snprintf(buf, len, "%s", recorded);
        return PA_OK;
    }
    snprintf(buf, len, "%s/%s", artifact_dir, recorded);
    if (stat(buf, &sb) == 0)
        return PA_OK;
    return pa_fail_field(PA_ERR_IO, "model_path",
                         "artifact %s: the model it records, %s, is "
                         "not found (from the current directory or the artifact); give "
                         "model_path",
                         artifact_dir, recorded);
}

/* The artifact's largest partition: its rows and number. */
static pa_status largest_partition(const pa_artifact *a, uint64_t *max_rows, uint32_t *max_p)
{
    pa_artifact_info ai = PA_ARTIFACT_INFO_INIT;
    *max_rows = 0, *max_p = 0;
    pa_status st = pa_artifact_get_info(a, &ai);
    if (st != PA_OK)
        return st;
    for (uint32_t p = 0; p < ai.num_partitions; p++) {
        uint64_t n = 0;
        uint32_t file = 0, ranges = 0;
        if (pa_artifact_partition(a, p, &n, &file, &ranges) == PA_OK && n > *max_rows)
            *max_rows = n, *max_p = p;
    }
    return PA_OK;
}

/* What finalize holds whatever its read-ahead: the manifest's tables (pa_manifest_bytes, held
 * throughout) and the largest partition while it is sorted and written
 * (pa_index_partition_bytes). The rest of the budget is the scan's read-ahead. */
static uint64_t artifact_need(uint64_t manifest_bytes, uint64_t max_rows, uint32_t code_bytes)
{
    return manifest_bytes + pa_index_partition_bytes(max_rows, code_bytes);
}

pa_status pa_index_finalize_estimate(const char *artifact_dir, uint64_t *min_bytes)
{
    pa_artifact *a = NULL;
    uint64_t manifest_bytes = 0;
    *min_bytes = 0;
    if (!artifact_dir)
        return pa_fail(PA_ERR_INVALID, "finalize estimate: an artifact directory is required");
    pa_status st = pa_artifact_open_budget(&a, artifact_dir, 0, &manifest_bytes);
    if (st != PA_OK)
        goto done;
    pa_artifact_info ai = PA_ARTIFACT_INFO_INIT;
    uint64_t max_rows;
    uint32_t max_p;
    if ((st = pa_artifact_get_info(a, &ai)) != PA_OK ||
        (st = largest_partition(a, &max_rows, &max_p)) != PA_OK)
        goto done;
    *min_bytes = artifact_need(manifest_bytes, max_rows, ai.code_bytes);
done:
    pa_artifact_free(a);
    return st;
}

/* Refuses up front, with the numbers, an artifact whose largest partition and manifest tables
 * (artifact_need) do not fit the memory budget, rather than be killed for memory half-way
 * through. *scan_budget gets the scan's share: the budget less the manifest's tables and the
 * writer's scratch (the partition handed over is the scan's, which always holds one). */
static pa_status check_partition_budget(const pa_artifact *a, const char *dir, uint32_t code_bytes,
                                        uint64_t budget, uint64_t manifest_bytes,
                                        uint64_t *scan_budget)
{
    uint64_t max_rows;
    uint32_t max_p;
    pa_status st = largest_partition(a, &max_rows, &max_p);
    if (st != PA_OK)
        return st;
    const uint64_t need = artifact_need(manifest_bytes, max_rows, code_bytes);
    if (need > budget)
        return pa_fail_field(PA_ERR_BUDGET, "memory_bytes",
                             "artifact %s: partition %u holds %" PRIu64 " rows, which "
                             "need %" PRIu64
                             " bytes to read, sort and write (%u-byte codes), and the "
                             "manifest's tables %" PRIu64
                             " bytes, more than the memory budget of %" PRIu64
                             " bytes; raise memory_bytes",
                             dir, max_p, max_rows, need - manifest_bytes, code_bytes,
                             manifest_bytes, budget);
    *scan_budget = budget - manifest_bytes - pa_index_writer_scratch(max_rows, code_bytes);
    return PA_OK;
}

/* What both finalize paths start with: the caller's options over the defaults into *o, its
 * stats struct checked, and the memory budget the options give. */
pa_status pa_finalize_begin(const pa_index_finalize_options *opts,
                            const pa_index_finalize_stats *stats, pa_index_finalize_options *o,
                            uint64_t *budget)
{
    static const pa_index_finalize_options defaults = PA_INDEX_FINALIZE_OPTIONS_INIT;
    pa_status st = pa_opts_load(o, sizeof *o, opts, &defaults, "pa_index_finalize_options");
    if (st == PA_OK)
        st = pa_stats_check(stats, "pa_index_finalize_stats");
    *budget = o->memory_bytes ? o->memory_bytes : PA_DEFAULT_MEMORY_BYTES;
    return st;
}

/* The model an artifact's codes were made with, loaded into *model (arrays in *arr) from
 * model_path, else the model file the artifact records, else its metadata.lance, and checked
 * against the artifact (its shape, and the recorded XXH64 where it has partifact's extras);
 * its path into mpath and the XXH64 the index records into *have. */
static pa_status artifact_model(const pa_artifact *a, const char *artifact_dir,
                                const pa_artifact_info *ai, const char *model_path, char *mpath,
                                size_t mlen, pa_ivfpq_model **model, pa_backend_model *arr,
                                uint64_t *have)
{
    pa_status st = PA_OK;
    /* The model: the one given, else the model file the artifact records, else its
     * metadata.lance (the same model, written by the artifact's writer). Another program's
     * artifact (no partifact extras) records no model identity: its codes are taken with the
     * model given or its metadata.lance, unchecked. */
    const bool foreign = ai->layout == PA_ARTIFACT_LAYOUT_FOREIGN;
    const uint64_t meta_want = pa_artifact_metadata_xxh64(a);
    if (model_path)
        snprintf(mpath, mlen, "%s", model_path);
    else if (foreign && ai->metadata_file)
        snprintf(mpath, mlen, "%s/%s", artifact_dir, ai->metadata_file);
    else if (foreign)
        st = pa_fail_field(PA_ERR_INVALID, "model_path",
                           "artifact %s has no metadata_file and records no model; give "
                           "model_path, the model its codes were made with",
                           artifact_dir);
    else if ((st = resolve_model(artifact_dir, ai->model, mpath, mlen)) != PA_OK && meta_want &&
             ai->metadata_file) {
        snprintf(mpath, mlen, "%s/%s", artifact_dir, ai->metadata_file);
        st = PA_OK;
    }
    if (st != PA_OK || (st = pa_ivfpq_model_load(model, mpath)) != PA_OK)
        return st;
    pa_ivfpq_model_arrays(*model, arr);
    if ((st = pa_index_check_model(arr, mpath, "artifact", artifact_dir,
                                   ai->dimension ? ai->dimension : arr->dim,
                                   ai->code_bytes ? ai->code_bytes : arr->num_sub_vectors,
                                   ai->num_partitions, ai->num_bits ? ai->num_bits : arr->num_bits,
                                   ai->dimension ? pa_metric_name(ai->metric)
                                                 : pa_metric_name((pa_metric)arr->metric))) !=
        PA_OK)
        return st;
    const uint64_t want = pa_artifact_model_xxh64(a);
    if ((st = pa_file_xxh64(mpath, have, NULL)) != PA_OK)
        return st;
    /* the codes mean something only with the model they were made with: a missing hash is a
     * failure, never a skipped check */
    if (!foreign && !ai->model && !meta_want) {
        return pa_fail(PA_ERR_INVALID,
                       "artifact %s records no model hash, so model %s cannot be "
                       "checked against it; encode the artifact with its model recorded",
                       artifact_dir, mpath);
    }
    if (!foreign && *have != want && !(meta_want && *have == meta_want)) {
        return pa_fail(PA_ERR_INVALID,
                       "model %s (XXH64 %016" PRIx64 ") is not the model "
                       "artifact %s was encoded with (%s, XXH64 %016" PRIx64 ")",
                       mpath, *have, artifact_dir, ai->model ? ai->model : ai->metadata_file,
                       ai->model ? want : meta_want);
    }
    if (!foreign && ai->model && *have == meta_want)
        *have = want; /* the index names the model file, whichever copy was read */
    return PA_OK;
}

/* Artifact -> index: open and check the artifact, find and check its model, then hand every
 * partition from the read-ahead scan to the index writer and commit. */
pa_status pa_index_finalize_artifact(const char *artifact_dir, const char *model_path,
                                     const char *out_dir, const pa_index_finalize_options *opts,
                                     pa_index_finalize_stats *stats)
{
    double t0 = pa_now_seconds();
    pa_index_finalize_options o;
    uint64_t budget;
    pa_status begin_st = pa_finalize_begin(opts, stats, &o, &budget);
    if (begin_st != PA_OK)
        return begin_st;
    if (!artifact_dir || !out_dir)
        return pa_fail(PA_ERR_INVALID, "an artifact and an output directory are "
                                       "required");
    pa_artifact *a = NULL;
    pa_ivfpq_model *model = NULL;
    pa_index_writer *w = NULL;
    pa_artifact_scan *scan = NULL;
    char mpath[4096];
    uint64_t manifest_bytes = 0;
    pa_artifact_info ai = PA_ARTIFACT_INFO_INIT;
    pa_backend_model arr = {0};
    uint64_t have = 0, scan_budget = 0;
    char *source = NULL; /* the table the artifact's coverage names, when opts give none */
    pa_status st = pa_artifact_open_budget(&a, artifact_dir, budget, &manifest_bytes);
    if (st != PA_OK)
        goto done;
    if ((st = pa_artifact_get_info(a, &ai)) != PA_OK)
        goto done;
    const char *cov = pa_artifact_coverage(a);
    if (!o.source && cov && (st = pa_coverage_merge(&cov, &artifact_dir, 1, &source)) != PA_OK)
        goto done;
    if ((st = artifact_model(a, artifact_dir, &ai, model_path, mpath, sizeof mpath, &model, &arr,
                             &have)) != PA_OK)
        goto done;
    if ((st = check_partition_budget(a, artifact_dir, ai.code_bytes, budget, manifest_bytes,
                                     &scan_budget)) != PA_OK ||
        (st = pa_index_writer_create(&w, out_dir, &arr, have, o.replace != 0)) != PA_OK ||
        (st = pa_index_writer_set_source(w, o.source ? o.source : source)) != PA_OK)
        goto done;
    /* the read-ahead gets what the writer does not need */
    if ((st = pa_artifact_scan_create(&scan, a, scan_budget,
                                      o.num_threads ? o.num_threads
                                                    : PA_DEFAULT_FINALIZE_THREADS)) != PA_OK)
        goto done;
    for (;;) {
        uint32_t p;
        const uint64_t *ids;
        const uint8_t *codes;
        uint64_t n;
        if ((st = pa_artifact_scan_next(scan, &p, &ids, &codes, &n)) == PA_END) {
            st = PA_OK; /* every partition handed over */
            break;
        }
        if (st != PA_OK)
            goto done;
        st = pa_index_writer_add_partition(w, p, ids, codes, n);
        if (o.progress)
            o.progress(o.progress_ctx, "finalize", (uint64_t)p + 1, arr.num_partitions);
        if (st != PA_OK)
            goto done;
    }
    pa_artifact_scan_free(scan); /* its threads joined before the index is committed */
    scan = NULL;
    if ((st = pa_index_writer_finish(w)) != PA_OK)
        goto done;
    if (stats) {
        pa_index_finalize_stats s;
        pa_index_writer_stats(w, &s);
        s.bytes_read = pa_artifact_bytes_read(a);
        s.seconds = pa_now_seconds() - t0;
        pa_stats_store(stats, &s, sizeof s);
    }
done:
    pa_artifact_scan_free(scan);
    if (st != PA_OK && w)
        pa_fail_prefix(st, "finalize %s", out_dir);
    pa_index_writer_free(w);
    pa_ivfpq_model_free(model);
    pa_artifact_free(a);
    free(source);
    return st;
}

/* Rows of partition p in a shard (p is below its partitions: checked alike for every shard). */
static uint64_t shard_rows(const pa_artifact *a, uint32_t p)
{
    uint64_t rows = 0;
    uint32_t file, ranges;
    return pa_artifact_partition(a, p, &rows, &file, &ranges) == PA_OK ? rows : 0;
}

/* The shards of one build finalized together: every artifact of the same parameters and
 * model as the first, their coverages disjoint. */
static pa_status check_shards(pa_artifact *const *a, const char *const *dirs, size_t n,
                              const pa_artifact_info *ai)
{
    const char *first = dirs[0];
    for (size_t i = 1; i < n; i++) {
        pa_artifact_info b = PA_ARTIFACT_INFO_INIT;
        pa_status st = pa_artifact_get_info(a[i], &b);
        if (st != PA_OK)
            return st;
        const struct {
            const char *what;
            uint32_t x, y;
        } same[] = {{"partitions", b.num_partitions, ai->num_partitions},
                    {"code bytes", b.code_bytes, ai->code_bytes},
                    {"bits per code", b.num_bits, ai->num_bits},
                    {"dimensions", b.dimension, ai->dimension}};
        for (size_t k = 0; k < sizeof same / sizeof same[0]; k++)
            if (same[k].x != same[k].y)
                return pa_fail(PA_ERR_INVALID, "artifact %s has %u %s, artifact %s has %u", dirs[i],
                               same[k].x, same[k].what, first, same[k].y);
        if (b.metric != ai->metric)
            return pa_fail(PA_ERR_INVALID, "artifact %s uses metric %s, artifact %s uses %s",
                           dirs[i], pa_metric_name(b.metric), first, pa_metric_name(ai->metric));
        if (!b.model || !ai->model ||
            pa_artifact_model_xxh64(a[i]) != pa_artifact_model_xxh64(a[0]))
            return pa_fail(PA_ERR_INVALID,
                           "artifact %s was encoded with model %s (XXH64 %016" PRIx64
                           "), artifact %s with model %s (XXH64 %016" PRIx64 ")",
                           dirs[i], b.model ? b.model : "(none recorded)",
                           pa_artifact_model_xxh64(a[i]), first,
                           ai->model ? ai->model : "(none recorded)",
                           pa_artifact_model_xxh64(a[0]));
    }
    return PA_OK;
}

pa_status pa_index_finalize_artifacts(const char *const *artifact_dirs, size_t n,
                                      const char *model_path, const char *out_dir,
                                      const pa_index_finalize_options *opts,
                                      pa_index_finalize_stats *stats)
{
    if (n == 1 && artifact_dirs)
        return pa_index_finalize_artifact(artifact_dirs[0], model_path, out_dir, opts, stats);
    double t0 = pa_now_seconds();
    pa_index_finalize_options o;
    uint64_t budget;
    pa_status st = pa_finalize_begin(opts, stats, &o, &budget);
    if (st != PA_OK)
        return st;
    if (!artifact_dirs || n == 0 || !out_dir)
        return pa_fail(PA_ERR_INVALID, "artifacts and an output directory are required");
    for (size_t i = 0; i < n; i++)
        if (!artifact_dirs[i])
            return pa_fail(PA_ERR_INVALID, "artifact %zu of %zu is NULL", i, n);
    pa_artifact **a = pa_calloc(n, sizeof *a, "artifacts");
    const char **covs = pa_calloc(n, sizeof *covs, "artifact coverages");
    pa_ivfpq_model *model = NULL;
    pa_index_writer *w = NULL;
    uint64_t *ids = NULL;
    uint8_t *codes = NULL;
    char *source = NULL, mpath[4096];
    pa_artifact_info ai = PA_ARTIFACT_INFO_INIT;
    pa_backend_model arr = {0};
    uint64_t manifests = 0, have = 0;
    if (!a || !covs) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t mb = 0;
        if ((st = pa_artifact_open_budget(&a[i], artifact_dirs[i], budget, &mb)) != PA_OK) {
            struct rlimit rl;
            if (pa_last_error_errno() == EMFILE && getrlimit(RLIMIT_NOFILE, &rl) == 0)
                pa_fail_prefix(st,
                               "the bucket files of %zu shards are held open together, more "
                               "than the process may open (RLIMIT_NOFILE %llu); raise the "
                               "limit, or finalize fewer shards into each segment",
                               i + 1, (unsigned long long)rl.rlim_cur);
            goto done;
        }
        manifests += mb;
        covs[i] = pa_artifact_coverage(a[i]);
    }
    if ((st = pa_artifact_get_info(a[0], &ai)) != PA_OK ||
        (st = check_shards(a, artifact_dirs, n, &ai)) != PA_OK ||
        (st = pa_coverage_merge(covs, artifact_dirs, n, &source)) != PA_OK)
        goto done;
    /* the first shard's model: the others were encoded with the same one (check_shards) */
    if ((st = artifact_model(a[0], artifact_dirs[0], &ai, model_path, mpath, sizeof mpath, &model,
                             &arr, &have)) != PA_OK)
        goto done;
    /* the segment's largest partition: the sum of the shards' rows of it */
    uint64_t max_rows = 0;
    uint32_t max_p = 0;
    for (uint32_t p = 0; p < ai.num_partitions; p++) {
        uint64_t sum = 0;
        for (size_t i = 0; i < n; i++)
            sum += shard_rows(a[i], p);
        if (sum > max_rows)
            max_rows = sum, max_p = p;
    }
    const uint64_t need = manifests + pa_index_partition_bytes(max_rows, ai.code_bytes);
    if (need > budget) {
        st = pa_fail_field(PA_ERR_BUDGET, "memory_bytes",
                           "artifacts %s and %zu others: partition %u holds %" PRIu64
                           " rows in all, which need %" PRIu64
                           " bytes to read, sort and write (%u-byte codes), and the manifests' "
                           "tables %" PRIu64 " bytes, more than the memory budget of %" PRIu64
                           " bytes; raise memory_bytes",
                           artifact_dirs[0], n - 1, max_p, max_rows, need - manifests,
                           ai.code_bytes, manifests, budget);
        goto done;
    }
    ids = pa_malloc(PA_MAX(max_rows, 1) * sizeof *ids, "a partition's row ids");
    codes = pa_malloc(PA_MAX(max_rows, 1) * ai.code_bytes, "a partition's codes");
    if (!ids || !codes) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    if ((st = pa_index_writer_create(&w, out_dir, &arr, have, o.replace != 0)) != PA_OK ||
        (st = pa_index_writer_set_source(w, o.source ? o.source : source)) != PA_OK)
        goto done;
    /* each partition: every shard's ranges in turn (no data rewritten), then sorted and
     * written as one partition of the segment */
    for (uint32_t p = 0; p < ai.num_partitions; p++) {
        uint64_t at = 0;
        for (size_t i = 0; i < n; i++) {
            const uint64_t rows = shard_rows(a[i], p);
            if (rows && (st = pa_artifact_read_partition(a[i], p, ids + at,
                                                         codes + at * ai.code_bytes)) != PA_OK)
                goto done;
            at += rows;
        }
        st = pa_index_writer_add_partition(w, p, ids, codes, at);
        if (o.progress)
            o.progress(o.progress_ctx, "finalize", (uint64_t)p + 1, ai.num_partitions);
        if (st != PA_OK)
            goto done;
    }
    if ((st = pa_index_writer_finish(w)) != PA_OK)
        goto done;
    if (stats) {
        pa_index_finalize_stats s;
        pa_index_writer_stats(w, &s);
        s.bytes_read = 0;
        for (size_t i = 0; i < n; i++)
            s.bytes_read += pa_artifact_bytes_read(a[i]);
        s.seconds = pa_now_seconds() - t0;
        pa_stats_store(stats, &s, sizeof s);
    }
done:
    if (st != PA_OK && w)
        pa_fail_prefix(st, "finalize %s", out_dir);
    pa_index_writer_free(w);
    pa_ivfpq_model_free(model);
    for (size_t i = 0; a && i < n; i++)
        pa_artifact_free(a[i]);
    free(a), free(covs), free(ids), free(codes), free(source);
    return st;
}
