/* The whole IVF_PQ build in one call: train -> encode into an artifact -> finalize the index.
 *
 * This is what `partifact build` runs and what embedding programs call. The model and the
 * artifact are written into a work directory beside the index (they are the hand-off between
 * the stages, and what a sharded build would exchange) and removed at the end unless the caller
 * keeps them. Defaults follow common IVF_PQ practice: about sqrt(rows) partitions, and
 * sub-vectors of 8 dimensions (16 above 256 dimensions). */
#include "common/common.h"
#include "common/pq_code.h"
#include "io/io_internal.h"
#include "lance/table_commit.h"
#include "pipeline/pipeline_internal.h"
#include "partifact.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* The default number of partitions for n rows: about sqrt(n), at least 1. */
uint32_t pa_build_default_partitions(uint64_t n)
{
    double p = floor(sqrt((double)n) + 0.5);
    return p < 1 ? 1 : p > PA_MAX_DEFAULT_PARTITIONS ? PA_MAX_DEFAULT_PARTITIONS : (uint32_t)p;
}

/* The default number of sub-vectors for a dimension: the largest divisor of dim that is at most
 * dim/8 (dim/16 above 256 dimensions), so that each code byte covers 8 (16) dimensions; 1 for
 * small dimensions. */
uint32_t pa_build_default_sub_vectors(uint32_t dim)
{
    uint32_t target = dim > 256 ? dim / 16 : dim / 8;
    for (uint32_t m = target; m > 1; m--)
        if (dim % m == 0)
            return m;
    return 1;
}

/* Trains on a sample of in, encodes every row into an artifact and finalizes it into out_dir,
 * training and encoding through one backend. */
pa_status pa_build(pa_vec_input *in, const char *out_dir, const pa_build_options *opts,
                   pa_build_stats *stats)
{
    PA_LOAD_OPTS(pa_build_options, o, opts, PA_BUILD_OPTIONS_INIT);
    PA_LOAD_OPTS(pa_ivfpq_params, prm, o.params, PA_IVFPQ_PARAMS_INIT);
    pa_build_stats s = PA_BUILD_STATS_INIT;
    pa_ivfpq_train_stats train = PA_IVFPQ_TRAIN_STATS_INIT;
    pa_encode_stats encode = PA_ENCODE_STATS_INIT;
    pa_index_finalize_stats finalize = PA_INDEX_FINALIZE_STATS_INIT;
    pa_ivfpq_model *model = NULL;
    pa_backend *backend = NULL;
    char *source = NULL; /* the table the rows come from, recorded in the index */
    pa_workdir work = {.lock_fd = -1};
    bool have_work = false;
    pa_status st = PA_OK;
    if (!in || !out_dir) {
        st = pa_fail(PA_ERR_INVALID, "an input and an output directory are required");
        goto done;
    }
    if ((st = pa_stats_check(stats, "pa_build_stats")) != PA_OK)
        goto done;
    if (stats) {
        memcpy(&s, stats, PA_MIN(sizeof s, stats->struct_size));
        if ((st = pa_stats_check(s.train, "pa_build_stats.train")) != PA_OK ||
            (st = pa_stats_check(s.encode, "pa_build_stats.encode")) != PA_OK ||
            (st = pa_stats_check(s.finalize, "pa_build_stats.finalize")) != PA_OK)
            goto done;
    }
    double t0 = pa_now_seconds();
    if ((st = pa_output_refuse(out_dir, o.replace != 0, PA_INDEX_FILE_NAME)) != PA_OK)
        goto done;
    uint32_t dim = pa_vec_input_dim(in);
    uint64_t rows = pa_vec_input_num_rows(in);
    if (!prm.num_partitions)
        prm.num_partitions = pa_build_default_partitions(rows);
    if (!prm.num_sub_vectors) {
        prm.num_sub_vectors = pa_build_default_sub_vectors(dim);
        /* 4-bit codes pair sub-vectors in a byte: an odd default doubles when it divides */
        if (prm.num_bits == PA_PQ_BITS_4 && prm.num_sub_vectors % 2 &&
            dim % (2 * prm.num_sub_vectors) == 0)
            prm.num_sub_vectors *= 2;
    }

    char prefix[4096], model_path[4200], artifact[4200];
    if (o.work_dir) {
        snprintf(prefix, sizeof prefix, "%s", o.work_dir);
    } else {
        snprintf(prefix, sizeof prefix, "%s.build-", out_dir);
        pa_remove_orphans(out_dir, ".build-"); /* what killed builds of this index left */
    }
    if ((st = pa_workdir_create(&work, prefix, o.work_dir != NULL)) != PA_OK)
        goto done;
    have_work = true;
    snprintf(model_path, sizeof model_path, "%s/model.lance", work.path);
    snprintf(artifact, sizeof artifact, "%s/artifact", work.path);

    const char *column = NULL;
    const pa_dataset *ds = pa_vec_input_dataset(in, &column);
    if (pa_table_source_json(ds, column, &source) != PA_OK) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    /* one backend trains and encodes (an accelerator does the expensive middle) */
    if ((st = pa_backend_open(&backend, o.accelerator ? o.accelerator : PA_DEFAULT_BACKEND,
                              o.backend_path, o.backend_options)) != PA_OK)
        goto done;
    if (o.progress)
        o.progress(o.progress_ctx, "train", 0, 0);
    double t1 = pa_now_seconds();
    /* a budget given holds the sample too: cut to fit, or refused (pipeline_internal.h); none
     * (0) leaves it the rows sample_rate asks for */
    st = pa_train_input_budget(&model, in, &prm, backend, o.memory_bytes, &train);
    s.train_seconds = pa_now_seconds() - t1;
    if (st != PA_OK || (st = pa_ivfpq_model_save(model, model_path)) != PA_OK ||
        (st = pa_vec_input_rewind(in)) != PA_OK)
        goto done;
    s.model_seconds = pa_now_seconds() - t1 - s.train_seconds;
    pa_encode_options eo = {.struct_size = sizeof eo,
                            .num_buckets = o.num_buckets,
                            .memory_bytes = o.memory_bytes,
                            .batch_rows = o.batch_rows,
                            .model_path = model_path,
                            .progress = o.progress,
                            .progress_ctx = o.progress_ctx,
                            /* removed once finalized: its bytes need not reach the disk */
                            .no_sync = !o.keep_work};
    if ((st = pa_encode_input(in, model, backend, artifact, &eo, &encode)) != PA_OK)
        goto done;
    pa_index_finalize_options fo = {.struct_size = sizeof fo,
                                    .memory_bytes = o.memory_bytes,
                                    .replace = o.replace,
                                    .progress = o.progress,
                                    .progress_ctx = o.progress_ctx,
                                    .source = source};
    if ((st = pa_index_finalize_artifact(artifact, model_path, out_dir, &fo, &finalize)) != PA_OK)
        goto done;
    s.num_partitions = prm.num_partitions;
    s.num_sub_vectors = prm.num_sub_vectors;
    s.rows = encode.rows;
    s.seconds = pa_now_seconds() - t0;
    pa_stats_store(s.train, &train, sizeof train);
    pa_stats_store(s.encode, &encode, sizeof encode);
    pa_stats_store(s.finalize, &finalize, sizeof finalize);
    pa_stats_store(stats, &s, sizeof s);
done:
    pa_backend_free(backend);
    pa_ivfpq_model_free(model);
    free(source);
    if (have_work && o.keep_work && st == PA_OK)
        pa_workdir_keep(&work); /* the user's now */
    else if (have_work)
        pa_workdir_remove(&work); /* made by this build, so all of it is its own */
    return st;
}
