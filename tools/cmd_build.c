/* partifact build: the whole IVF_PQ build in one command (train -> encode -> artifact ->
 * finalize), with defaults for the parameters, a progress display and a JSON summary. */
#include "tools/cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* partifact build --input X --out INDEX [...] */
int pa_cmd_build(int argc, char **argv)
{
    uint64_t version = 0;
    const char *input = NULL, *out = NULL, *column = NULL, *name = NULL;
    uint64_t parts = 0, subs = 0, iters = PA_DEFAULT_MAX_ITERS, pq_iters = PA_DEFAULT_PQ_MAX_ITERS,
             rate = PA_DEFAULT_SAMPLE_RATE, seed = PA_DEFAULT_SEED, buckets = 0, memory = 0,
             bits = PA_DEFAULT_NUM_BITS;
    bool json = false, skip = false, commit = false, replace = false, keep = false, force = false,
         mpi = false, one_segment = false;
    pa_build_options bo = PA_BUILD_OPTIONS_INIT;
    pa_ivfpq_params prm = PA_IVFPQ_PARAMS_INIT;
    bo.params = &prm;
    pa_cli_list bopts = {0};
    char backend_opts[PA_CLI_BACKEND_OPTIONS_MAX];
    pa_cli_opt opts[] = {
        PA_CLI_OPT_FORCE(&force),
        PA_CLI_OPT_JSON(&json),
        PA_CLI_OPTS_VECTORS(&input, &column, &version, &skip),
        PA_CLI_STR("out", &out, "INDEX", "the index directory to write"),
        PA_CLI_NUM("partitions", &parts, "P", "IVF partitions (default: about sqrt(rows))",
                   .min = 1, .max = 1u << 24, .field = "num_partitions"),
        PA_CLI_NUM("sub-vectors", &subs, "M", "PQ sub-vectors (default: 8 dimensions each)",
                   .min = 1, .max = 4096, .field = "num_sub_vectors"),
        PA_CLI_NUM("bits", &bits, "B", "bits per PQ code: 8 (default) or 4 (M even)", .max = 16,
                   .field = "num_bits"),
        PA_CLI_METRIC_OPT("metric", &prm.metric, "l2|cosine|dot", "the distance",
                          .field = "metric"),
        PA_CLI_NUM("max-iters", &iters, "N", "k-means iterations", .min = 1, .max = 99999,
                   .field = "max_iters"),
        PA_CLI_NUM("pq-iters", &pq_iters, "N", "PQ k-means iterations", .min = 1, .max = 99999,
                   .field = "pq_max_iters"),
        PA_CLI_NUM("sample-rate", &rate, "N", "training rows per partition", .min = 1,
                   .max = (1u << 20) - 1, .field = "sample_rate"),
        PA_CLI_NUM("seed", &seed, "S", "the sampling and k-means seed", .field = "seed"),
        PA_CLI_BYTES("memory", &memory, "SIZE",
                     "the memory budget of every stage, the training sample's included "
                     "(default: 256MiB for encode and finalize, the sample uncut)",
                     .field = "memory_bytes"),
        PA_CLI_NUM("buckets", &buckets, "B",
                   "the artifact's bucket files (default: from the partitions)",
                   .max = PA_MAX_BUCKETS, .field = "num_buckets"),
        PA_CLI_OPTS_BACKEND(&bo.accelerator, &bo.backend_path, &bopts),
        PA_CLI_STR("work-dir", &bo.work_dir, "DIR", "a new directory for the model and artifact",
                   .field = "work_dir"),
        PA_CLI_FLAG("keep-work", &keep, "keep the work directory", .field = "keep_work"),
        PA_CLI_FLAG("commit", &commit, "commit the index into the Lance table X"),
        PA_CLI_STR("name", &name, "NAME", "with --commit: the index's name (default <column>_idx)",
                   .field = "name"),
        PA_CLI_FLAG("replace", &replace, "with --commit: replace an index of that name"),
        PA_CLI_FLAG("mpi", &mpi, "one rank of an MPI job (mpirun -n N): a distributed build"),
        PA_CLI_FLAG("one-segment", &one_segment,
                    "with --mpi: rank 0 finalizes every rank's shard into one segment"),
    };
    pa_cli_parse("build", opts, PA_CLI_NOPTS(opts), NULL, argc, argv);
    int rc = 0;
    if ((rc = pa_cli_backend_options("build", &bopts, backend_opts, sizeof backend_opts)))
        return rc;
    bo.keep_work = keep;
    bo.replace = force;
    if (!out && !commit)
        return pa_cli_error("build", "--input and --out are required (see --help)");
    if (version && commit)
        return pa_cli_error("build", "--version and --commit exclude each other: an index is "
                                     "committed from the table's latest version");
    if ((name || replace) && !commit)
        return pa_cli_error("build", "--name and --replace need --commit");
    if (keep && commit && !out && !bo.work_dir)
        return pa_cli_error("build", "--keep-work with --commit needs --work-dir or --out: "
                                     "without them the work lies inside the table and goes "
                                     "with the commit");
    if (one_segment && !mpi)
        return pa_cli_error("build", "--one-segment needs --mpi");
    if (mpi && force && !one_segment)
        return pa_cli_error("build", "--force with --mpi replaces an index: it needs "
                                     "--one-segment (a directory of segments is never replaced)");
    pa_vec_input_options io = {.struct_size = sizeof io,
                               .column = column,
                               .skip_invalid = skip,
                               .version = version};
    prm.num_partitions = (uint32_t)parts;
    prm.num_sub_vectors = (uint32_t)subs;
    prm.num_bits = (uint32_t)bits;
    prm.max_iters = (uint32_t)iters;
    prm.pq_max_iters = (uint32_t)pq_iters;
    prm.sample_rate = (uint32_t)rate;
    prm.seed = seed;
    bo.num_buckets = (uint32_t)buckets;
    bo.memory_bytes = memory;
    bo.backend_options = backend_opts;
    bo.progress = pa_cli_progress_cb;
    /* --mpi: every rank runs the build; rank 0 checks the table and the output */
    if (mpi) {
        const pa_cli_mpi_build b = {.input = input,
                                    .io = &io,
                                    .out = out,
                                    .force = force,
                                    .commit = commit,
                                    .name = name,
                                    .replace = replace,
                                    .one_segment = one_segment,
                                    .params = &prm,
                                    .build = &bo,
                                    .json = json};
        return pa_cli_build_mpi(&b);
    }
    const char *inputs[] = {input, bo.backend_path};
    if (out && (rc = pa_cli_check_output("build", out, bo.replace, PA_INDEX_FILE_NAME, inputs, 2)))
        return rc;
    pa_vec_input *in = NULL;
    pa_status st = PA_OK;
    /* the table's own refusals (feature flags, a taken name) come before any reading */
    if (commit && !(name && (!*name || strlen(name) >= 256)))
        st = pa_table_commit_check(input, column, name, replace);
    if (st == PA_OK)
        st = pa_vec_input_open(&in, input, &io);
    if (st != PA_OK) {
        rc = pa_cli_fail("build", st);
        goto done;
    }
    if (commit) {
        rc = pa_cli_build_commit(in, input, column, out, &bo, name, replace, json);
        goto done;
    }
    pa_build_stats s = PA_BUILD_STATS_INIT;
    pa_ivfpq_train_stats train = PA_IVFPQ_TRAIN_STATS_INIT;
    pa_encode_stats encode = PA_ENCODE_STATS_INIT;
    pa_index_finalize_stats finalize = PA_INDEX_FINALIZE_STATS_INIT;
    s.train = &train, s.encode = &encode, s.finalize = &finalize;
    st = pa_build(in, out, &bo, &s);
    pa_cli_progress_end();
    if (st != PA_OK) {
        rc = pa_cli_fail("build", st);
        goto done;
    }
    if (train.sample_wanted_rows)
        fprintf(stderr,
                "partifact build: note: trained on %" PRIu64 " of the %" PRIu64
                " sample rows, the most --memory holds\n",
                (uint64_t)train.sample_rows, (uint64_t)train.sample_wanted_rows);
    if (json) {
        json_t *j = NULL;
        st = pa_cli_json_print(
            pa_json_pack(&j, "build --json",
                         "{s:o, s:I, s:I, s:i, s:i, s:i, s:s, s:I, s:i, s:i, s:o, s:o, s:o, s:o, "
                         "s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:I}",
                         "index", pa_json_display_string(out), "rows", (json_int_t)encode.rows,
                         "skipped_invalid", (json_int_t)encode.skipped_invalid, "dim",
                         (int)pa_vec_input_dim(in), "partitions", (int)s.num_partitions,
                         "sub_vectors", (int)s.num_sub_vectors, "metric",
                         pa_metric_name(prm.metric), "sample_rows", (json_int_t)train.sample_rows,
                         "ivf_iters", (int)train.ivf_iters, "pq_iters", (int)train.pq_iters,
                         "train_seconds", PA_CLI_REAL3(s.train_seconds), "encode_seconds",
                         PA_CLI_REAL3(encode.seconds), "finalize_seconds",
                         PA_CLI_REAL3(finalize.seconds), "seconds", PA_CLI_REAL3(s.seconds),
                         "ivf_seconds", PA_CLI_REAL3(train.ivf_seconds), "pq_seconds",
                         PA_CLI_REAL3(train.pq_seconds), "ivf_work_share",
                         PA_CLI_REAL3(train.ivf_work_share), "pq_work_share",
                         PA_CLI_REAL3(train.pq_work_share), "read_seconds",
                         PA_CLI_REAL3(encode.read_seconds), "assign_encode_seconds",
                         PA_CLI_REAL3(encode.encode_seconds), "write_seconds",
                         PA_CLI_REAL3(encode.write_seconds), "sample_seconds",
                         PA_CLI_REAL3(train.sample_seconds), "model_seconds",
                         PA_CLI_REAL3(s.model_seconds), "artifact_bytes", (json_int_t)encode.bytes,
                         "index_bytes", (json_int_t)finalize.index_bytes, "null_vectors",
                         (json_int_t)pa_vec_input_nulls(in), "sample_skipped_invalid",
                         (json_int_t)train.sample_skipped_invalid, "sample_wanted_rows",
                         (json_int_t)train.sample_wanted_rows),
            &j);
        if (st != PA_OK)
            rc = pa_cli_fail("build", st);
    } else {
        printf("built %s: %" PRIu64 " rows, %u partitions, %u sub-vectors (%s) in %.2f s "
               "(train %.2f s, encode %.2f s, finalize %.2f s)\n",
               out, s.rows, s.num_partitions, s.num_sub_vectors, pa_metric_name(prm.metric),
               s.seconds, s.train_seconds, encode.seconds, finalize.seconds);
    }
done:
    pa_vec_input_free(in);
    return rc;
}
