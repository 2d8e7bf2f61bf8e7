/* Encoding an input into a partition artifact: the backend's half of an IVF_PQ build.
 *
 * Rows stream from a vector input in batches; the backend assigns each row to its nearest
 * centroid and encodes its PQ code; the artifact writer routes the rows to their bucket buffers.
 * Memory is the batch (vectors, ids, part ids, codes) plus the writer's buffers, and the whole
 * of it is held to the caller's budget, checked before any work starts. */
#include "common/common.h"
#include "partifact.h"

#include <inttypes.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The bytes one batch of rows holds: the float vectors, row ids, part ids and codes. */
static uint64_t batch_bytes(uint64_t rows, uint32_t dim, uint32_t code_bytes)
{
    return rows * ((uint64_t)dim * 4 + 8 + 4 + code_bytes);
}

/* Checks the options against the model and input, and splits the budget between the batch and
 * the artifact writer. Refuses up front, with the numbers, a batch that leaves the writer less
 * than it needs, rather than running out of memory later. */
static pa_status plan_budget(const pa_encode_options *o, uint32_t dim, uint32_t code_bytes,
                             uint64_t *batch, uint64_t *writer_bytes)
{
    uint64_t memory = o->memory_bytes ? o->memory_bytes : (uint64_t)256 << 20;
    *batch = o->batch_rows;
    if (!*batch) { /* 65,536 rows, or what a quarter of the budget holds (at least 256) */
        uint64_t fit = memory / 4 / batch_bytes(1, dim, code_bytes);
        *batch = PA_MAX((uint64_t)256, PA_MIN((uint64_t)65536, fit));
    }
    if (*batch > ((uint64_t)1 << 24))
        return pa_fail(PA_ERR_INVALID, "a batch of %" PRIu64 " rows is more than the "
                       "limit of 16,777,216", *batch);
    uint64_t bb = batch_bytes(*batch, dim, code_bytes);
    /* the writer needs at least a small buffer per bucket; it checks the exact need itself */
    if (bb >= memory || memory - bb < ((uint64_t)1 << 20))
        return pa_fail(PA_ERR_BUDGET,
                       "a batch of %" PRIu64 " rows of dimension %u needs %" PRIu64 " bytes, "
                       "leaving less than 1 MiB of the %" PRIu64 "-byte memory budget for the "
                       "artifact writer; lower the batch size (--batch) or raise the budget "
                       "(--memory)", *batch, dim, bb, memory);
    *writer_bytes = memory - bb;
    return PA_OK;
}

/* Streams every row of the input through the backend into a new artifact, and commits it. */
pa_status pa_encode_input(pa_vec_input *in, const pa_ivfpq_model *model, pa_backend *backend,
                          const char *artifact_dir, const pa_encode_options *opts,
                          pa_encode_stats *stats)
{
    pa_encode_options defaults = {0};
    const pa_encode_options *o = opts ? opts : &defaults;
    if (!in || !model || !artifact_dir)
        return pa_fail(PA_ERR_INVALID, "pa_encode_input: input, model and artifact directory are required");
    double t0 = now_s();
    pa_backend_model a;
    pa_ivfpq_model_arrays(model, &a);
    if (pa_vec_input_dim(in) != a.dim)
        return pa_fail(PA_ERR_INVALID, "the input has dimension %u, the model %s%s%u",
                       pa_vec_input_dim(in), o->model_path ? o->model_path : "",
                       o->model_path ? " has " : "has ", a.dim);
    uint64_t batch = 0, writer_bytes = 0;
    pa_status st = plan_budget(o, a.dim, a.num_sub_vectors, &batch, &writer_bytes);
    if (st != PA_OK)
        return st;

    pa_backend *own_backend = NULL;
    if (!backend) {
        if ((st = pa_backend_open(&own_backend, "cpu", NULL, NULL)) != PA_OK)
            return st;
        backend = own_backend;
    }
    pa_artifact_writer *w = NULL;
    pa_artifact_params prm = {.num_partitions = a.num_partitions,
                              .num_buckets = o->num_buckets,
                              .code_bytes = a.num_sub_vectors,
                              .num_bits = a.num_bits,
                              .dimension = a.dim,
                              .metric = pa_metric_name((pa_metric)a.metric),
                              .model = o->model_path,
                              .memory_bytes = writer_bytes};
    float *x = pa_malloc(sizeof(float) * batch * a.dim, "an encode batch of vectors");
    uint64_t *ids = pa_malloc(8 * batch, "an encode batch of row ids");
    uint32_t *parts = pa_malloc(4 * batch, "an encode batch of part ids");
    uint8_t *codes = pa_malloc(batch * a.num_sub_vectors, "an encode batch of codes");
    if (!x || !ids || !parts || !codes)
        st = PA_ERR_NOMEM;
    if (st == PA_OK)
        st = pa_artifact_writer_create(&w, artifact_dir, &prm);

    pa_encode_stats s = {0};
    uint64_t total = pa_vec_input_num_rows(in);
    while (st == PA_OK) {
        size_t n;
        double t1 = now_s();
        if ((st = pa_vec_input_next(in, x, ids, (size_t)batch, &n)) != PA_OK || n == 0)
            break;
        double t2 = now_s();
        if ((st = pa_backend_assign_encode(backend, &a, x, n, parts, codes)) != PA_OK)
            break;
        double t3 = now_s();
        st = pa_artifact_writer_append(w, ids, n, parts, n, codes, n * a.num_sub_vectors);
        s.read_seconds += t2 - t1, s.encode_seconds += t3 - t2, s.write_seconds += now_s() - t3;
        s.rows += n;
        if (o->progress)
            o->progress(o->progress_ctx, "encode", s.rows, total);
    }
    if (st == PA_OK) {
        double t1 = now_s();
        st = pa_artifact_writer_finish(w);
        s.write_seconds += now_s() - t1;
    }
    if (st == PA_OK) {
        pa_artifact_write_stats ws;
        pa_artifact_writer_stats(w, &ws);
        s.bytes = ws.bytes_written;
        s.ranges = ws.ranges;
        s.skipped_invalid = pa_vec_input_skipped(in);
        s.seconds = now_s() - t0;
        if (stats)
            *stats = s;
    }
    free(x), free(ids), free(parts), free(codes);
    pa_artifact_writer_free(w); /* aborts an unfinished artifact: nothing looks complete */
    pa_backend_free(own_backend);
    return st;
}
