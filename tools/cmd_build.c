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
    uint64_t parts = 0, subs = 0, iters = 10, pq_iters = 25, rate = 256, seed = 42, buckets = 0,
             memory = 256u << 20;
    bool json = false, skip = false, commit = false, replace = false, keep = false, force = false;
    pa_build_options bo = {0};
    bo.params.metric = PA_METRIC_L2;
    pa_cli_opt opts[] = {
        {.name = "input", .kind = PA_CLI_STRING, .dest = &input, .arg = "X", .required = true,
         .help = "the vectors: .fvecs, .bvecs, .npy or a Lance dataset"},
        {.name = "out", .kind = PA_CLI_STRING, .dest = &out, .arg = "INDEX",
         .help = "the index directory to write"},
        {.name = "partitions", .kind = PA_CLI_COUNT, .dest = &parts, .arg = "P", .min = 1,
         .max = 1u << 24, .field = "num_partitions", .help = "IVF partitions (default: about sqrt(rows))"},
        {.name = "sub-vectors", .kind = PA_CLI_COUNT, .dest = &subs, .arg = "M", .min = 1,
         .max = 4096, .field = "num_sub_vectors", .help = "PQ sub-vectors (default: 8 dimensions each)"},
        {.name = "metric", .kind = PA_CLI_METRIC, .dest = &bo.params.metric, .arg = "l2|cosine|dot",
         .field = "metric", .expect = "l2, cosine or dot", .help = "the distance"},
        {.name = "max-iters", .kind = PA_CLI_COUNT, .dest = &iters, .arg = "N", .min = 1,
         .max = 99999, .field = "max_iters", .help = "k-means iterations"},
        {.name = "pq-iters", .kind = PA_CLI_COUNT, .dest = &pq_iters, .arg = "N", .min = 1,
         .max = 99999, .field = "pq_max_iters", .help = "PQ k-means iterations"},
        {.name = "sample-rate", .kind = PA_CLI_COUNT, .dest = &rate, .arg = "N", .min = 1,
         .max = (1u << 20) - 1, .field = "sample_rate", .help = "training rows per partition"},
        {.name = "seed", .kind = PA_CLI_COUNT, .dest = &seed, .arg = "S", .field = "seed",
         .help = "the sampling and k-means seed"},
        {.name = "memory", .kind = PA_CLI_SIZE, .dest = &memory, .arg = "SIZE",
         .field = "memory_bytes", .help = "the memory budget"},
        {.name = "buckets", .kind = PA_CLI_COUNT, .dest = &buckets, .arg = "B", .max = 1u << 20,
         .field = "num_buckets", .help = "the artifact's bucket files (default: from the partitions)"},
        {.name = "accelerator", .kind = PA_CLI_STRING, .dest = &bo.accelerator, .arg = "NAME",
         .field = "accelerator", .help = "the backend (default cpu)"},
        {.name = "backend-path", .kind = PA_CLI_STRING, .dest = &bo.backend_path, .arg = "DIR",
         .field = "backend_path", .help = "where backend plugins are looked for first"},
        PA_CLI_OPT_COLUMN(&column),
        PA_CLI_OPT_VERSION(&version),
        PA_CLI_OPT_SKIP_INVALID(&skip),
        {.name = "work-dir", .kind = PA_CLI_STRING, .dest = &bo.work_dir, .arg = "DIR",
         .field = "work_dir", .help = "a new directory for the model and artifact"},
        {.name = "keep-work", .kind = PA_CLI_BOOL, .dest = &keep, .field = "keep_work",
         .help = "keep the work directory"},
        {.name = "commit", .kind = PA_CLI_BOOL, .dest = &commit,
         .help = "commit the index into the Lance table X"},
        {.name = "name", .kind = PA_CLI_STRING, .dest = &name, .arg = "NAME", .field = "name",
         .help = "with --commit: the index's name (default <column>_idx)"},
        {.name = "replace", .kind = PA_CLI_BOOL, .dest = &replace,
         .help = "with --commit: replace an index of that name"},
        PA_CLI_OPT_FORCE(&force),
        PA_CLI_OPT_JSON(&json),
    };
    pa_cli_spec spec = {
        .name = "build", .opts = opts, .num_opts = PA_CLI_NOPTS(opts),
        .synopsis = "build --input X --out INDEX [options]\n"
                    "       partifact build --input T.lance --commit [--name NAME] [--replace]\n"
                    "         [--out INDEX] [options]\n",
        .about = "Builds an IVF_PQ index from the vectors in X: trains the model on a seeded\n"
                 "sample, assigns and encodes every row into a partition artifact (within\n"
                 "--memory), and finalizes the index from it. Defaults: about sqrt(rows)\n"
                 "partitions; sub-vectors of 8 dimensions (16 above 256 dimensions). The\n"
                 "model and artifact go to --work-dir (a new directory; default\n"
                 "INDEX.build-XXXXXX) and are removed at the end unless --keep-work; the\n"
                 "work directories a killed build left (partifact's marker, unlocked) are\n"
                 "removed too, and no other directory is written into or removed.\n"
                 PA_CLI_FORCE_HELP
                 "X: .fvecs, .bvecs, .npy (float32, float16, uint8) or a Lance dataset.\n"
                 PA_CLI_TABLE_HELP
                 "--commit: the index goes into the Lance table T as its next version (see\n"
                 "partifact commit --help); --out then keeps a copy of it there.\n"};
    int rc = pa_cli_parse(&spec, argc, argv);
    if (rc != PA_CLI_CONTINUE)
        return rc;
    rc = 0;
    bo.keep_work = keep;
    bo.replace = force;
    if (!out && !commit)
        return pa_cli_error("build", "--input and --out are required (see --help)");
    if (version && commit)
        return pa_cli_error("build", "--version and --commit exclude each other: an index is "
                            "committed from the table's latest version");
    if ((name || replace) && !commit)
        return pa_cli_error("build", "--name and --replace need --commit");
    const char *inputs[] = {input, bo.backend_path};
    if (out && (rc = pa_cli_check_output("build", out, bo.replace, PA_INDEX_FILE_NAME, inputs, 2)))
        return rc;
    pa_vec_input_options io = {.column = column, .skip_invalid = skip, .version = version};
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
    bo.params.num_partitions = (uint32_t)parts;
    bo.params.num_sub_vectors = (uint32_t)subs;
    bo.params.max_iters = (uint32_t)iters;
    bo.params.pq_max_iters = (uint32_t)pq_iters;
    bo.params.sample_rate = (uint32_t)rate;
    bo.params.seed = seed;
    bo.num_buckets = (uint32_t)buckets;
    bo.memory_bytes = memory;
    bo.progress = pa_cli_progress_cb;
    if (commit) {
        rc = pa_cli_build_commit(in, input, column, out, &bo, name, replace, json);
        goto done;
    }
    pa_build_stats s;
    st = pa_build(in, out, &bo, &s);
    pa_cli_progress_end();
    if (st != PA_OK) {
        rc = pa_cli_fail("build", st);
        goto done;
    }
    if (json) {
        printf("{\"index\":");
        pa_cli_json_string(stdout, out);
        printf(",\"rows\":%" PRIu64 ",\"skipped_invalid\":%" PRIu64 ",\"dim\":%u,"
               "\"partitions\":%u,\"sub_vectors\":%u,\"metric\":\"%s\",\"sample_rows\":%" PRIu64
               ",\"ivf_iters\":%u,\"pq_iters\":%u,\"train_seconds\":%.3f,"
               "\"encode_seconds\":%.3f,\"finalize_seconds\":%.3f,\"seconds\":%.3f,"
               "\"artifact_bytes\":%" PRIu64 ",\"index_bytes\":%" PRIu64
               ",\"null_vectors\":%" PRIu64 ",\"sample_skipped_invalid\":%" PRIu64 "}\n",
               s.encode.rows, s.encode.skipped_invalid, pa_vec_input_dim(in), s.num_partitions,
               s.num_sub_vectors, pa_metric_name(bo.params.metric), s.train.sample_rows,
               s.train.ivf_iters, s.train.pq_iters, s.train_seconds, s.encode.seconds,
               s.finalize.seconds, s.seconds, s.encode.bytes, s.finalize.index_bytes,
               pa_vec_input_nulls(in), s.train.sample_skipped_invalid);
    } else {
        printf("built %s: %" PRIu64 " rows, %u partitions, %u sub-vectors (%s) in %.2f s "
               "(train %.2f s, encode %.2f s, finalize %.2f s)\n",
               out, s.encode.rows, s.num_partitions, s.num_sub_vectors,
               pa_metric_name(bo.params.metric), s.seconds, s.train_seconds, s.encode.seconds,
               s.finalize.seconds);
    }
done:
    pa_vec_input_free(in);
    return rc;
}
