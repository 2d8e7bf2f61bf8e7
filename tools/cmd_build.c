/* partifact build: the whole IVF_PQ build in one command (train -> encode -> artifact ->
 * finalize), with defaults for the parameters, a progress display and a JSON summary. */
#include "tools/cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* partifact build --input X --out INDEX [...] */
int pa_cmd_build(int argc, char **argv)
{
    static const struct option opts[] = {
        {"input", required_argument, 0, 'i'},        {"out", required_argument, 0, 'o'},
        {"partitions", required_argument, 0, 'p'},   {"sub-vectors", required_argument, 0, 'm'},
        {"metric", required_argument, 0, 'M'},       {"max-iters", required_argument, 0, 'I'},
        {"pq-iters", required_argument, 0, 'Q'},
        {"sample-rate", required_argument, 0, 'S'},  {"seed", required_argument, 0, 's'},
        {"column", required_argument, 0, 'c'},       {"version", required_argument, 0, 'V'},       {"skip-invalid", no_argument, 0, 'k'},
        {"buckets", required_argument, 0, 'b'},      {"memory", required_argument, 0, 'R'},
        {"accelerator", required_argument, 0, 'a'},  {"backend-path", required_argument, 0, 'P'},
        {"work-dir", required_argument, 0, 'w'},     {"keep-work", no_argument, 0, 'K'},
        {"json", no_argument, 0, 'j'},               {"help", no_argument, 0, 'h'},
        {"commit", no_argument, 0, 'C'},             {"name", required_argument, 0, 'N'},
        {"replace", no_argument, 0, 'r'},            {"force", no_argument, 0, 'F'},
        {"backend-option", required_argument, 0, 'O'},
        {0, 0, 0, 0}};
    char backend_opts[4096] = "";
    uint64_t version = 0;
    const char *input = NULL, *out = NULL, *column = NULL;
    uint64_t parts = 0, subs = 0, iters = PA_DEFAULT_MAX_ITERS, pq_iters = PA_DEFAULT_PQ_MAX_ITERS,
             rate = PA_DEFAULT_SAMPLE_RATE, seed = PA_DEFAULT_SEED, buckets = 0,
             memory = PA_DEFAULT_MEMORY_BYTES;
    bool json = false, skip = false, commit = false, replace = false;
    const char *name = NULL;
    pa_build_options bo = PA_BUILD_OPTIONS_INIT;
    pa_ivfpq_params prm = PA_IVFPQ_PARAMS_INIT;
    bo.params = &prm;
    int c;
    while ((c = getopt_long(argc, argv, "i:o:p:m:M:I:S:s:c:V:kb:R:a:P:w:KjhCN:rFO:", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'i': input = optarg; break;
        case 'o': out = optarg; break;
        case 'c': column = optarg; break;
        case 'V': ok = pa_cli_parse_count(optarg, &version) && version > 0; break;
        case 'a': bo.accelerator = optarg; break;
        case 'P': bo.backend_path = optarg; break;
        case 'O': ok = pa_cli_backend_option(backend_opts, sizeof backend_opts, optarg); break;
        case 'w': bo.work_dir = optarg; break;
        case 'K': bo.keep_work = 1; break;
        case 'C': commit = true; break;
        case 'N': name = optarg; break;
        case 'r': replace = true; break;
        case 'F': bo.replace = 1; break;
        case 'p': ok = pa_cli_parse_count(optarg, &parts) && parts > 0 && parts <= (1u << 24); break;
        case 'm': ok = pa_cli_parse_count(optarg, &subs) && subs > 0 && subs <= 4096; break;
        case 'I': ok = pa_cli_parse_count(optarg, &iters) && iters > 0 && iters < 100000; break;
        case 'Q': ok = pa_cli_parse_count(optarg, &pq_iters) && pq_iters > 0 && pq_iters < 100000; break;
        case 'S': ok = pa_cli_parse_count(optarg, &rate) && rate > 0 && rate < (1u << 20); break;
        case 's': ok = pa_cli_parse_count(optarg, &seed); break;
        case 'b': ok = pa_cli_parse_count(optarg, &buckets) && buckets <= PA_MAX_BUCKETS; break;
        case 'R': ok = pa_cli_parse_size(optarg, &memory); break;
        case 'M':
            if (pa_metric_parse(optarg, &prm.metric) != PA_OK)
                return pa_cli_error("build", "--metric: \"%s\" is not l2, cosine or dot", optarg);
            break;
        case 'k': skip = true; break;
        case 'j': json = true; break;
        case 'h':
            printf("usage: partifact build --input X --out INDEX [--partitions P]\n"
                   "         [--sub-vectors M] [--metric l2|cosine|dot] [--max-iters 10]\n"
                   "         [--pq-iters 25] [--sample-rate 256] [--seed 42] [--memory 256MiB]\n"
                   "         [--buckets B]\n"
                   "         [--accelerator NAME] [--backend-path DIR] [--backend-option KEY=VALUE]...\n"
                   "         [--column NAME] [--version N]\n"
                   "         [--skip-invalid] [--work-dir DIR] [--keep-work] [--force] [--json]\n"
                   "       partifact build --input T.lance --commit [--name NAME] [--replace]\n"
                   "         [--out INDEX] [options as above]\n"
                   "Builds an IVF_PQ index from the vectors in X: trains the model on a seeded\n"
                   "sample, assigns and encodes every row into a partition artifact (within\n"
                   "--memory), and finalizes the index from it. Defaults: about sqrt(rows)\n"
                   "partitions; sub-vectors of 8 dimensions (16 above 256 dimensions). The\n"
                   "model and artifact go to --work-dir (a new directory; default\n"
                   "INDEX.build-XXXXXX) and are removed at the end unless --keep-work; the\n"
                   "work directories a killed build left (partifact's marker, unlocked) are\n"
                   "removed too, and no other directory is written into or removed.\n"
                   "The backend (--accelerator, default cpu) trains the model and encodes.\n"
                   PA_CLI_BACKEND_HELP PA_CLI_FORCE_HELP
                   "X: .fvecs, .bvecs, .npy (float32, float16, uint8) or a Lance dataset.\n" PA_CLI_TABLE_HELP
                   "--commit: the index goes into the Lance table T as its next version (see\n"
                   "partifact commit --help); --out then keeps a copy of it there.\n");
            return 0;
        default: return PA_CLI_EXIT_FAIL;
        }
        if (!ok)
            return pa_cli_error("build", "\"%s\" is not a valid value for --%s", optarg,
                                pa_cli_opt_name(opts, c));
    }
    if (!input || (!out && !commit))
        return pa_cli_error("build", "--input and --out are required (see --help)");
    if (version && commit)
        return pa_cli_error("build", "--version and --commit exclude each other: an index is "
                            "committed from the table's latest version");
    if ((name || replace) && !commit)
        return pa_cli_error("build", "--name and --replace need --commit");
    const char *inputs[] = {input, bo.backend_path};
    if (out && pa_cli_check_output("build", out, bo.replace, PA_INDEX_FILE_NAME, inputs, 2))
        return PA_CLI_EXIT_FAIL;
    pa_vec_input_options io = {.struct_size = sizeof io, .column = column, .skip_invalid = skip,
                               .version = version};
    pa_vec_input *in;
    pa_status st;
    /* the table's own refusals (feature flags, a taken name) come before any reading */
    if (commit && !(name && (!*name || strlen(name) >= 256)) &&
        (st = pa_table_commit_check(input, column, name, replace)) != PA_OK)
        return pa_cli_fail("build", st);
    st = pa_vec_input_open(&in, input, &io);
    if (st != PA_OK)
        return pa_cli_fail("build", st);
    prm.num_partitions = (uint32_t)parts;
    prm.num_sub_vectors = (uint32_t)subs;
    prm.max_iters = (uint32_t)iters;
    prm.pq_max_iters = (uint32_t)pq_iters;
    prm.sample_rate = (uint32_t)rate;
    prm.seed = seed;
    bo.num_buckets = (uint32_t)buckets;
    bo.memory_bytes = memory;
    bo.progress = pa_cli_progress_cb;
    bo.backend_options = backend_opts;
    if (commit) {
        int rc = pa_cli_build_commit(in, input, column, out, &bo, name, replace, json);
        pa_vec_input_free(in);
        return rc;
    }
    pa_build_stats s = PA_BUILD_STATS_INIT;
    pa_ivfpq_train_stats train = PA_IVFPQ_TRAIN_STATS_INIT;
    pa_encode_stats encode = PA_ENCODE_STATS_INIT;
    pa_index_finalize_stats finalize = PA_INDEX_FINALIZE_STATS_INIT;
    s.train = &train, s.encode = &encode, s.finalize = &finalize;
    st = pa_build(in, out, &bo, &s);
    pa_cli_progress_end();
    if (st != PA_OK) {
        pa_vec_input_free(in);
        return pa_cli_fail("build", st);
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
               encode.rows, encode.skipped_invalid, pa_vec_input_dim(in), s.num_partitions,
               s.num_sub_vectors, pa_metric_name(prm.metric), train.sample_rows,
               train.ivf_iters, train.pq_iters, s.train_seconds, encode.seconds,
               finalize.seconds, s.seconds, encode.bytes, finalize.index_bytes,
               pa_vec_input_nulls(in), train.sample_skipped_invalid);
    } else {
        printf("built %s: %" PRIu64 " rows, %u partitions, %u sub-vectors (%s) in %.2f s "
               "(train %.2f s, encode %.2f s, finalize %.2f s)\n",
               out, s.rows, s.num_partitions, s.num_sub_vectors,
               pa_metric_name(prm.metric), s.seconds, s.train_seconds, encode.seconds,
               finalize.seconds);
    }
    pa_vec_input_free(in);
    return 0;
}
