/* partifact build --mpi: one rank of a distributed build (the MPI room, src/mpi/, in a partifact
 * built with MPI). Rank 0 prints each step as it ends (stderr) and the summary (stdout: a line,
 * or with --json one object with every rank's figures); a failure is printed once, by rank 0,
 * naming the rank and the step, and every rank exits with its code. */
#include "tools/cli.h"

#ifdef PA_HAVE_MPI
#include "mpi/mpi_build.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void phase(void *ctx, const char *step, int ranks, double seconds)
{
    (void)ctx;
    pa_cli_progress_end(); /* rank 0's encode progress line, on a terminal */
    fprintf(stderr, "build --mpi: %s done (%d ranks, %.2f s)\n", step, ranks, seconds);
}

/* Every rank's figures as a JSON array. */
static json_t *ranks_json(const pa_mpi_build_result *r)
{
    json_t *a = json_array();
    for (int q = 0; a && q < r->size; q++) {
        const pa_mpi_rank *k = &r->ranks[q];
        json_t *o = NULL;
        if (pa_json_pack(&o, "build --mpi --json",
                         "{s:i, s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o}",
                         "rank", q, "sample_rows", (json_int_t)k->sample_rows, "rows",
                         (json_int_t)k->rows, "shard", r->is_table ? "fragments" : "rows",
                         "shard_begin", (json_int_t)k->shard_begin, "shard_end",
                         (json_int_t)k->shard_end, "artifact_bytes", (json_int_t)k->artifact_bytes,
                         "segment_bytes", (json_int_t)k->segment_bytes, "train_sum_calls",
                         (json_int_t)k->train_sum_calls, "train_sum_bytes",
                         (json_int_t)k->train_sum_bytes, "train_seconds",
                         PA_CLI_REAL3(k->train_seconds), "encode_seconds",
                         PA_CLI_REAL3(k->encode_seconds), "finalize_seconds",
                         PA_CLI_REAL3(k->finalize_seconds)) != PA_OK ||
            json_array_append_new(a, o) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static pa_status print_summary(const pa_cli_mpi_build *b, const pa_mpi_build_result *r)
{
    if (!b->json) {
        printf("built %" PRIu64 " rows on %d ranks: %u partitions, %u sub-vectors (%s), %u "
               "segment%s in %.2f s (train %.2f s, encode %.2f s, finalize %.2f s, commit "
               "%.2f s)\n",
               r->rows, r->size, r->partitions, r->sub_vectors, pa_metric_name(r->metric),
               r->segments, r->segments == 1 ? "" : "s", r->seconds, r->train_seconds,
               r->encode_seconds, r->finalize_seconds, r->commit_seconds);
        if (b->commit)
            printf("committed index %s (%u segment%s) into %s as version %" PRIu64 "\n",
                   r->commit.name, r->commit.num_segments, r->commit.num_segments == 1 ? "" : "s",
                   b->input, r->commit.version);
        return PA_OK;
    }
    json_t *commit = NULL, *j = NULL, *uuids = json_array();
    pa_status st = PA_OK;
    if (b->commit) {
        for (uint32_t k = 0; uuids && k < r->commit.num_segments; k++)
            if (json_array_append_new(uuids, json_string(r->segment_uuids[k])) != 0)
                json_decref(uuids), uuids = NULL;
        st = pa_json_pack(&commit, "build --mpi --json", "{s:o, s:I, s:I, s:i, s:i, s:o}", "name",
                          pa_json_display_string(r->commit.name), "version",
                          (json_int_t)r->commit.version, "built_version",
                          (json_int_t)r->commit.built_version, "fragments",
                          (int)r->commit.num_fragments, "replaced", (int)r->commit.replaced,
                          "segments", uuids);
        uuids = NULL;
    } else {
        commit = json_null();
    }
    json_decref(uuids);
    if (st != PA_OK)
        return st;
    return pa_cli_json_print(
        pa_json_pack(&j, "build --mpi --json",
                     "{s:i, s:o, s:o, s:I, s:i, s:i, s:i, s:s, s:I, s:i, s:i, s:i, s:o, s:o, "
                     "s:o, s:o, s:o, s:o, s:o, s:o}",
                     "ranks", r->size, "input", pa_json_display_string(b->input), "out",
                     b->out ? pa_json_display_string(b->out) : json_null(), "rows",
                     (json_int_t)r->rows, "dim", (int)r->dim, "partitions", (int)r->partitions,
                     "sub_vectors", (int)r->sub_vectors, "metric", pa_metric_name(r->metric),
                     "sample_rows", (json_int_t)r->train.sample_rows, "ivf_iters",
                     (int)r->train.ivf_iters, "pq_iters", (int)r->train.pq_iters, "segments",
                     (int)r->segments, "train_seconds", PA_CLI_REAL3(r->train_seconds),
                     "encode_seconds", PA_CLI_REAL3(r->encode_seconds), "finalize_seconds",
                     PA_CLI_REAL3(r->finalize_seconds), "commit_seconds",
                     PA_CLI_REAL3(r->commit_seconds), "seconds", PA_CLI_REAL3(r->seconds),
                     "job_dir",
                     b->build->keep_work ? pa_json_display_string(r->job_dir) : json_null(),
                     "commit", commit, "per_rank", ranks_json(r)),
        &j);
}

int pa_cli_build_mpi(const pa_cli_mpi_build *b)
{
    pa_mpi_build_args a = {.input = b->input,
                           .io = *b->io,
                           .out = b->out,
                           .force = b->force,
                           .commit = b->commit,
                           .name = b->name,
                           .replace = b->replace,
                           .one_segment = b->one_segment,
                           .params = *b->params,
                           .build = *b->build,
                           .phase = phase};
    pa_mpi_build_result r;
    pa_status st = pa_mpi_build(&a, &r);
    int rc = 0;
    if (r.fatal) { /* the others may wait for this rank: end the job */
        rc = pa_cli_fail("build", st);
        fflush(NULL);
        pa_mpi_abort(rc);
    }
    if (st != PA_OK)
        rc = r.rank == 0 ? pa_cli_fail("build", st) : pa_cli_exit_code(st);
    else if (r.rank == 0 && (st = print_summary(b, &r)) != PA_OK)
        rc = pa_cli_fail("build", st);
    fflush(NULL);
    pa_mpi_build_finish(&r);
    return rc;
}

#else

int pa_cli_build_mpi(const pa_cli_mpi_build *b)
{
    (void)b;
    return pa_cli_error("build", "--mpi: this partifact was built without MPI (install "
                                 "OpenMPI, libopenmpi-dev, and build again; see README)");
}

#endif
