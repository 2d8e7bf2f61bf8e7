/* Encoding an input into a partition artifact: the backend's half of an IVF_PQ build.
 *
 * Rows stream from a vector input in batches; the backend assigns each row to its nearest
 * centroid and encodes its PQ code; the artifact writer routes the rows to their bucket buffers.
 * Memory is the model, the backend's working blocks, the batch (vectors, ids, part ids, codes),
 * the input's read buffer and the writer's buffers and range table, and the whole of it is
 * held to the caller's budget, checked before any work starts. */
#include "common/common.h"
#include "common/pq_code.h"
#include "io/io_internal.h"
#include "ivfpq/ivfpq_internal.h"
#include "partifact.h"

#include <inttypes.h>
#include <stdlib.h>

/* The memory an encode needs besides the artifact writer's buffers. */
typedef struct budget {
    uint64_t memory, batch, batch_bytes, model_bytes, work_bytes, input_bytes, fixed;
} budget;

/* Splits the budget, checked before any work: the model (the caller's, and the backend's copy
 * of it once bound, as the backend says), the backend's working memory for one call of a batch
 * (as it says: for the cpu backend an encode block of rows and the sgemm dot-product block),
 * the input batch (vectors, row ids, part ids, codes) and the input's own read buffer for such
 * a batch (pa_vec_input_batch_bytes: a file's records, a Lance table's scan batch); what
 * remains goes to the artifact writer, which refuses up front a remainder too small for its
 * buffers and range table. Without a batch size, the batch shrinks so that it and its working
 * memory take at most a quarter of the budget, a row's share of the working memory taken as
 * what the backend needs for a call of one row. */
static pa_status plan_budget(const pa_encode_options *o, const pa_backend_model *a, pa_backend *be,
                             const pa_vec_input *in, budget *b)
{
    const uint64_t P = a->num_partitions, D = a->dim;
    b->memory = o->memory_bytes ? o->memory_bytes : PA_DEFAULT_MEMORY_BYTES;
    b->batch = o->batch_rows ? o->batch_rows : PA_DEFAULT_BATCH_ROWS;
    if (b->batch > PA_MAX_BATCH_ROWS)
        return pa_fail(PA_ERR_INVALID,
                       "a batch of %" PRIu64 " rows is more than the limit of "
                       "%u (PA_MAX_BATCH_ROWS)",
                       b->batch, PA_MAX_BATCH_ROWS);
    const uint64_t bound = pa_backend_work_bytes(be, a, 0);
    const uint64_t one_row = pa_backend_work_bytes(be, a, 1);
    const uint64_t row_batch = D * 4 + 8 + 4 + pa_pq_code_bytes(a->num_sub_vectors, a->num_bits);
    /* per row of a batch: the batch itself and at most its share of the working memory */
    const uint64_t row_all = row_batch + (one_row > bound ? one_row - bound : 0) +
                             pa_vec_input_batch_bytes(in, 1);
    if (!o->batch_rows && b->batch * row_all > b->memory / 4)
        b->batch = PA_MAX((uint64_t)1, b->memory / 4 / row_all);
    b->batch_bytes = b->batch * row_batch;
    b->model_bytes = pa_ivfpq_model_bytes(a) + bound;
    const uint64_t work = pa_backend_work_bytes(be, a, b->batch);
    b->work_bytes = work > bound ? work - bound : 0;
    b->input_bytes = pa_vec_input_batch_bytes(in, (size_t)b->batch);
    b->fixed = b->model_bytes + b->work_bytes + b->batch_bytes + b->input_bytes;
    if (b->fixed >= b->memory)
        return pa_fail_field(PA_ERR_BUDGET, "batch_rows,memory_bytes",
                             "the memory budget of %" PRIu64
                             " bytes is too small: the model (%" PRIu64
                             " partitions, dimension %" PRIu64 ") needs %" PRIu64 " bytes, the "
                             "backend's working blocks %" PRIu64 ", a batch of %" PRIu64
                             " rows %" PRIu64 ", the input's read buffer %" PRIu64
                             ", and the artifact writer the "
                             "rest; lower batch_rows or raise memory_bytes",
                             b->memory, P, D, b->model_bytes, b->work_bytes, b->batch,
                             b->batch_bytes, b->input_bytes);
    return PA_OK;
}

/* Streams every row of the input through the backend into a new artifact, and commits it. */
pa_status pa_encode_input(pa_vec_input *in, const pa_ivfpq_model *model, pa_backend *backend,
                          const char *artifact_dir, const pa_encode_options *opts,
                          pa_encode_stats *stats)
{
    PA_LOAD_OPTS(pa_encode_options, eo, opts, PA_ENCODE_OPTIONS_INIT);
    const pa_encode_options *o = &eo;
    pa_backend *own_backend = NULL;
    pa_artifact_writer *w = NULL;
    float *x = NULL;
    uint64_t *ids = NULL;
    uint32_t *parts = NULL;
    uint8_t *codes = NULL;
    char *coverage = NULL; /* the rows the artifact holds: its input's selection */
    bool bound = false;
    double t0 = pa_now_seconds();
    pa_status st = pa_stats_check(stats, "pa_encode_stats");
    if (st != PA_OK)
        goto done;
    if (!in || !model || !artifact_dir) {
        st = pa_fail(PA_ERR_INVALID,
                     "pa_encode_input: input, model and artifact directory are required");
        goto done;
    }
    pa_backend_model a;
    pa_ivfpq_model_arrays(model, &a);
    if (pa_vec_input_dim(in) != a.dim) {
        st = pa_fail(PA_ERR_INVALID, "%s has dimension %u, the model %s%s%u", pa_vec_input_path(in),
                     pa_vec_input_dim(in), o->model_path ? o->model_path : "",
                     o->model_path ? " has " : "has ", a.dim);
        goto done;
    }
    if (!backend) {
        if ((st = pa_backend_open(&own_backend, PA_DEFAULT_BACKEND, NULL, NULL)) != PA_OK)
            goto done;
        backend = own_backend;
    }
    budget b = {0};
    if ((st = plan_budget(o, &a, backend, in, &b)) != PA_OK)
        goto done;
    const uint64_t batch = b.batch;
    if ((st = pa_coverage_json(in, &coverage)) != PA_OK)
        goto done;
    const uint32_t W = pa_pq_code_bytes(a.num_sub_vectors, a.num_bits); /* code bytes a row */
    pa_artifact_params prm = {.struct_size = sizeof prm,
                              .num_partitions = a.num_partitions,
                              .num_buckets = o->num_buckets,
                              .code_bytes = W,
                              .num_bits = a.num_bits,
                              .dimension = a.dim,
                              .metric = (pa_metric)a.metric,
                              .model = o->model_path,
                              .memory_bytes = b.memory - b.fixed,
                              .expected_rows = pa_vec_input_num_rows(in),
                              .replace = o->replace,
                              .coverage = coverage,
                              .no_sync = o->no_sync};
    x = pa_malloc_dense(sizeof(float) * batch * a.dim, "an encode batch of vectors");
    ids = pa_malloc(8 * batch, "an encode batch of row ids");
    parts = pa_malloc(4 * batch, "an encode batch of part ids");
    codes = pa_malloc(batch * W, "an encode batch of codes");
    if (!x || !ids || !parts || !codes) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    if ((st = pa_artifact_writer_create(&w, artifact_dir, &prm)) != PA_OK) {
        if (st == PA_ERR_BUDGET)
            pa_fail_prefix(st,
                           "the memory budget of %" PRIu64 " bytes leaves %" PRIu64 " bytes "
                           "for the artifact writer after the model (%" PRIu64 "), the "
                           "backend's working blocks (%" PRIu64 "), a batch of %" PRIu64
                           " rows (%" PRIu64 ") and the input's read buffer (%" PRIu64 ")",
                           b.memory, b.memory - b.fixed, b.model_bytes, b.work_bytes, b.batch,
                           b.batch_bytes, b.input_bytes);
        goto done;
    }
    /* the model goes to the backend once for the whole input (an accelerator uploads it) */
    if ((st = pa_backend_bind(backend, &a)) != PA_OK)
        goto done;
    bound = true;

    pa_encode_stats s = PA_ENCODE_STATS_INIT;
    uint64_t total = pa_vec_input_num_rows(in);
    for (;;) {
        size_t n;
        double t1 = pa_now_seconds();
        if ((st = pa_vec_input_next(in, x, ids, (size_t)batch, &n)) == PA_END)
            break;
        if (st != PA_OK)
            goto done;
        double t2 = pa_now_seconds();
        /* the input checked every row it handed out (pa_vec_input_next) */
        if ((st = pa_backend_assign_encode_flags(backend, x, n, PA_BACKEND_ROWS_CHECKED, parts,
                                                 codes)) != PA_OK)
            goto done;
        double t3 = pa_now_seconds();
        st = pa_artifact_writer_append(w, ids, n, parts, n, codes, n * W);
        s.read_seconds += t2 - t1, s.encode_seconds += t3 - t2,
            s.write_seconds += pa_now_seconds() - t3;
        if (st != PA_OK)
            goto done;
        s.rows += n;
        if (o->progress)
            o->progress(o->progress_ctx, "encode", s.rows, total);
    }
    double t1 = pa_now_seconds();
    if ((st = pa_artifact_writer_finish(w)) != PA_OK)
        goto done;
    s.write_seconds += pa_now_seconds() - t1;
    pa_artifact_write_stats ws = PA_ARTIFACT_WRITE_STATS_INIT;
    if ((st = pa_artifact_writer_stats(w, &ws)) != PA_OK)
        goto done;
    s.bytes = ws.bytes_written;
    s.ranges = ws.ranges;
    s.skipped_invalid = pa_vec_input_skipped(in);
    s.seconds = pa_now_seconds() - t0;
    pa_stats_store(stats, &s, sizeof s);
done:
    if (bound)
        pa_backend_unbind(backend);
    free(x), free(ids), free(parts), free(codes), free(coverage);
    pa_artifact_writer_free(w); /* aborts an unfinished artifact: nothing looks complete */
    pa_backend_free(own_backend);
    return st;
}
