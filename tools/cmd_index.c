/* partifact finalize / search / groundtruth / index-info / export-rows: the index commands. */
#include "tools/cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* partifact finalize (--artifact A | --rows FILE --model M) --out INDEX */
int pa_cmd_finalize(int argc, char **argv)
{
    static const struct option opts[] = {
        {"artifact", required_argument, 0, 'a'}, {"rows", required_argument, 0, 'r'},
        {"model", required_argument, 0, 'm'},    {"out", required_argument, 0, 'o'},
        {"memory", required_argument, 0, 'M'},   {"tmp", required_argument, 0, 't'},
        {"threads", required_argument, 0, 'T'},  {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},           {"force", no_argument, 0, 'F'},
        {0, 0, 0, 0}};
    const char *artifact = NULL, *rows = NULL, *model = NULL, *out = NULL, *tmp = NULL;
    uint64_t memory = PA_DEFAULT_MEMORY_BYTES, threads = 0;
    bool json = false, force = false;
    int c;
    while ((c = getopt_long(argc, argv, "a:r:m:o:M:t:T:jhF", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'a': artifact = optarg; break;
        case 'r': rows = optarg; break;
        case 'm': model = optarg; break;
        case 'o': out = optarg; break;
        case 't': tmp = optarg; break;
        case 'M': ok = pa_cli_parse_size(optarg, &memory) && memory > 0; break;
        case 'T': ok = pa_cli_parse_count(optarg, &threads) && threads > 0 && threads <= 256; break;
        case 'F': force = true; break;
        case 'j': json = true; break;
        case 'h':
            printf("usage: partifact finalize --artifact A --out INDEX [--model M] [--memory 256MiB]\n"
                   "                          [--threads 2] [--force] [--json]\n"
                   "       partifact finalize --rows FILE.lance --model M --out INDEX\n"
                   "                          [--memory 256MiB] [--tmp DIR] [--force] [--json]\n"
                   "Writes an IVF_PQ index directory (index.idx + auxiliary.idx, LanceDB's layout).\n"
                   "--artifact reads each partition's recorded ranges once, in order, with\n"
                   "read-ahead (--memory bounds the read-ahead); the model defaults to the one the\n"
                   "manifest records and must match it. --rows takes a Lance file of (row_id,\n"
                   "part_id, pq_code) in any order and re-groups it by partition within --memory,\n"
                   "spilling sorted runs to --tmp (default: next to INDEX). Both write the same\n"
                   "index. INDEX is written in a new directory INDEX.partial-XXXXXX and renamed\n"
                   "into place when complete; those a killed finalize left (partifact's marker,\n"
                   "unlocked) are removed.\n" PA_CLI_FORCE_HELP);
            return 0;
        default: return PA_CLI_EXIT_FAIL;
        }
        if (!ok)
            return pa_cli_error("finalize", "\"%s\" is not a valid value for --%s", optarg,
                                pa_cli_opt_name(opts, c));
    }
    if (!out || (!artifact == !rows))
        return pa_cli_error("finalize", "--out and one of --artifact or --rows are required "
                            "(see --help)");
    if (rows && !model)
        return pa_cli_error("finalize", "--rows needs --model (the model the codes were made "
                            "with)");
    const char *inputs[] = {artifact, rows, model};
    if (pa_cli_check_output("finalize", out, force, PA_INDEX_FILE_NAME, inputs, 3))
        return PA_CLI_EXIT_FAIL;
    pa_index_finalize_options o = {.struct_size = sizeof o,
                                   .memory_bytes = memory, .tmp_dir = tmp,
                                   .num_threads = (uint32_t)threads,
                                   .progress = pa_cli_progress_cb, .replace = force};
    pa_index_finalize_stats s = PA_INDEX_FINALIZE_STATS_INIT;
    pa_status st = artifact ? pa_index_finalize_artifact(artifact, model, out, &o, &s)
                            : pa_index_finalize_rows(rows, model, out, &o, &s);
    pa_cli_progress_end();
    if (st != PA_OK)
        return pa_cli_fail("finalize", st);
    if (json) {
        printf("{\"index\":");
        pa_cli_json_string(stdout, out);
        printf(",\"source\":\"%s\",\"rows\":%" PRIu64 ",\"partitions\":%u,"
               "\"max_partition_rows\":%" PRIu64 ",\"bytes_read\":%" PRIu64
               ",\"bytes_written\":%" PRIu64 ",\"index_bytes\":%" PRIu64
               ",\"spill_bytes\":%" PRIu64 ",\"spill_runs\":%u,\"seconds\":%.3f}\n",
               artifact ? "artifact" : "rows", s.rows, s.partitions, s.max_partition_rows,
               s.bytes_read, s.bytes_written, s.index_bytes, s.spill_bytes, s.spill_runs,
               s.seconds);
    } else {
        printf("finalized %" PRIu64 " rows in %u partitions into %s from the %s: read %" PRIu64
               " bytes, wrote %" PRIu64 " bytes (index %" PRIu64 ", spill %" PRIu64 " in %u "
               "runs) in %.2f s\n",
               s.rows, s.partitions, out, artifact ? "artifact" : "rows file", s.bytes_read,
               s.bytes_written, s.index_bytes, s.spill_bytes, s.spill_runs, s.seconds);
    }
    return 0;
}

/* partifact search --index INDEX --queries Q -k 10 --nprobes 20 [...] */
int pa_cmd_search(int argc, char **argv)
{
    static const struct option opts[] = {
        {"index", required_argument, 0, 'x'},  {"queries", required_argument, 0, 'q'},
        {"k", required_argument, 0, 'k'},      {"nprobes", required_argument, 0, 'n'},
        {"refine-factor", required_argument, 0, 'R'}, {"input", required_argument, 0, 'i'},
        {"groundtruth", required_argument, 0, 'g'}, {"out", required_argument, 0, 'o'},
        {"threads", required_argument, 0, 'T'}, {"json", no_argument, 0, 'j'},
        {"repeat", required_argument, 0, 'r'}, {"help", no_argument, 0, 'h'},
        {"force", no_argument, 0, 'F'},
        {"column", required_argument, 0, 'c'}, {"version", required_argument, 0, 'V'},
        {"memory", required_argument, 0, 'M'},
        {0, 0, 0, 0}};
    const char *index = NULL, *qpath = NULL, *input = NULL, *gtpath = NULL, *out = NULL,
               *column = NULL;
    uint64_t k = PA_DEFAULT_K, nprobes = 20, rf = 0, threads = 0, repeat = 1, version = 0, memory = 0;
    bool json = false, nprobes_given = false, force = false;
    int c;
    while ((c = getopt_long(argc, argv, "x:q:k:n:R:i:g:o:T:r:c:V:M:jhF", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'M': ok = pa_cli_parse_size(optarg, &memory) && memory > 0; break;
        case 'x': index = optarg; break;
        case 'c': column = optarg; break;
        case 'V': ok = pa_cli_parse_count(optarg, &version) && version > 0; break;
        case 'q': qpath = optarg; break;
        case 'i': input = optarg; break;
        case 'g': gtpath = optarg; break;
        case 'o': out = optarg; break;
        case 'k': ok = pa_cli_parse_count(optarg, &k) && k > 0 && k <= (1u << 24); break;
        case 'n': nprobes_given = true; ok = pa_cli_parse_count(optarg, &nprobes) && nprobes > 0 && nprobes <= UINT32_MAX; break;
        case 'R': ok = pa_cli_parse_count(optarg, &rf) && rf <= 1000; break;
        case 'T': ok = pa_cli_parse_count(optarg, &threads) && threads > 0 && threads <= 256; break;
        case 'r': ok = pa_cli_parse_count(optarg, &repeat) && repeat > 0 && repeat <= 1000; break;
        case 'F': force = true; break;
        case 'j': json = true; break;
        case 'h':
            printf("usage: partifact search --index INDEX --queries Q [-k 10] [--nprobes 20]\n"
                   "         [--refine-factor R --input X] [--groundtruth G.ivecs|G.npy]\n"
                   "         [--out results.ivecs|.npy [--force]] [--threads N] [--repeat 1]\n"
                   "         [--json] [--column NAME] [--version N] [--memory SIZE]\n"
                   "Searches every query of Q (.fvecs, .bvecs, .npy, or a Lance dataset) with\n"
                   "ADC over the --nprobes nearest partitions (more than the index has is\n"
                   "clamped, with a warning). --refine-factor R re-ranks the k*R best by exact\n"
                   "distance to the original vectors of X, the input the index was built from\n"
                   "(row ids: ordinals in a file, row addresses in a Lance dataset). Prints\n"
                   "QPS, and recall@k against --groundtruth. Distances: l2 and cosine squared\n"
                   "Euclidean, dot the negated inner product (smaller is nearer). --repeat N\n"
                   "searches the whole batch N times and reports the median time (benchmarks).\n"
                   "--out is written under a temporary name and renamed into place.\n"
                   "--memory SIZE bounds what the index holds (default: all of it in memory):\n"
                   "the probed partitions are read on demand into a cache within SIZE; the\n"
                   "results are the same.\n"
                   PA_CLI_FORCE_HELP
                   "--column applies to Q and X where they are tables, --version to X.\n"
                   PA_CLI_TABLE_HELP);
            return 0;
        default: return PA_CLI_EXIT_FAIL;
        }
        if (!ok)
            return pa_cli_error("search", "\"%s\" is not a valid value for --%s", optarg,
                                pa_cli_opt_name(opts, c));
    }
    if (!index || !qpath)
        return pa_cli_error("search", "--index and --queries are required (see --help)");
    if (rf > 1 && !input)
        return pa_cli_error("search", "--refine-factor needs --input (the original vectors)");
    const char *inputs[] = {index, qpath, input, gtpath};
    if (out && pa_cli_check_output("search", out, force, NULL, inputs, 4))
        return PA_CLI_EXIT_FAIL;
    pa_index *x = NULL;
    pa_vec_input *in = NULL;
    float *q = NULL, *dists = NULL;
    uint64_t *ids = NULL, *gt = NULL, nq = 0, ngt = 0;
    uint32_t dim = 0, kgt = 0;
    int rc = 0;
    pa_index_open_options xo = {.struct_size = sizeof xo, .memory_bytes = memory};
    pa_status st = pa_index_open_ex(&x, index, &xo);
    if (st == PA_ERR_INVALID && memory) /* the budget is too small for this index */
        return pa_cli_error("search", "%s; raise --memory", pa_last_error());
    pa_index_info info = PA_INDEX_INFO_INIT;
    if (st == PA_OK) {
        pa_index_get_info(x, &info);
        pa_vec_input_options qio = {.struct_size = sizeof qio, .column = column};
        st = pa_vec_input_read_all(qpath, &qio, &q, &nq, &dim);
    }
    pa_vec_input_options sio = {.struct_size = sizeof sio, .column = column,
                                .version = version};
    if (st == PA_OK && input)
        st = pa_vec_input_open(&in, input, &sio);
    struct stat isb;
    if (st == PA_OK && input && rf > 1 && stat(input, &isb) == 0 && S_ISDIR(isb.st_mode))
        st = pa_index_check_source(index, input); /* the rows are read back by address */
    if (st == PA_OK && gtpath)
        st = pa_ids_read(gtpath, &gt, &ngt, &kgt);
    if (st != PA_OK) {
        rc = pa_cli_fail("search", st);
        goto done;
    }
    if (gt && ngt != nq) {
        rc = pa_cli_error("search", "%s has %" PRIu64 " rows of ground truth, %s has %" PRIu64
                          " queries", gtpath, ngt, qpath, nq);
        goto done;
    }
    if (gt && kgt < k) {
        rc = pa_cli_error("search", "%s has %u neighbours per query, fewer than -k %" PRIu64,
                          gtpath, kgt, k);
        goto done;
    }
    if (dim != info.dimension) {
        rc = pa_cli_error("search", "the queries %s have dimension %u, index %s has dimension %u",
                          qpath, dim, index, info.dimension);
        goto done;
    }
    if (nprobes > info.num_partitions && nprobes_given)
        fprintf(stderr, "partifact search: warning: --nprobes %" PRIu64 " is more than the "
                "index's %u partitions; using %u\n", nprobes, info.num_partitions,
                info.num_partitions);
    size_t nres = 0; /* nq x k results: checked, nq comes from the file */
    if (!__builtin_mul_overflow((size_t)(nq ? nq : 1), (size_t)k, &nres) &&
        nres <= SIZE_MAX / sizeof(uint64_t)) {
        ids = malloc(sizeof(uint64_t) * nres);
        dists = malloc(sizeof(float) * nres);
    }
    if (!ids || !dists) {
        rc = pa_cli_error("search", "out of memory for %" PRIu64 " x %" PRIu64 " results", nq, k);
        goto done;
    }
    pa_index_search_options so = {.struct_size = sizeof so,
                                  .k = (uint32_t)k, .nprobes = (uint32_t)nprobes,
                                  .refine_factor = (uint32_t)rf, .refine_input = in,
                                  .num_threads = (uint32_t)threads};
    pa_index_search_stats ss = PA_INDEX_SEARCH_STATS_INIT, part = PA_INDEX_SEARCH_STATS_INIT;
    const uint64_t batch = 8192;
    double times[1000] = {0};
    for (uint64_t rep = 0; rep < repeat && st == PA_OK; rep++) {
        ss = (pa_index_search_stats)PA_INDEX_SEARCH_STATS_INIT;
        double t0 = pa_cli_now();
        for (uint64_t q0 = 0; q0 < nq; q0 += batch) {
            uint64_t bn = PA_CLI_MIN(batch, nq - q0);
            if ((st = pa_index_search(x, q + q0 * dim, bn, dim, &so, ids + q0 * k,
                                      dists + q0 * k, &part)) != PA_OK)
                break;
            ss.nprobes_used = part.nprobes_used;
            ss.codes_scanned += part.codes_scanned, ss.rows_refined += part.rows_refined;
            pa_cli_progress("search: queries", q0 + bn, nq);
        }
        times[rep] = pa_cli_now() - t0;
    }
    pa_cli_progress_end();
    /* the median pass (insertion sort: repeat is small) */
    for (uint64_t i = 1; i < repeat; i++)
        for (uint64_t j = i; j > 0 && times[j - 1] > times[j]; j--) {
            double t = times[j];
            times[j] = times[j - 1], times[j - 1] = t;
        }
    double secs = times[repeat / 2];
    if (st != PA_OK) {
        rc = pa_cli_fail("search", st);
        goto done;
    }
    double recall = -1;
    if (gt && (st = pa_recall_at_k(ids, (uint32_t)k, gt, kgt, nq, (uint32_t)k, &recall)) != PA_OK) {
        rc = pa_cli_fail("search", st);
        goto done;
    }
    if (out && (st = pa_ids_write_ex(out, ids, nq, (uint32_t)k, force)) != PA_OK) {
        rc = pa_cli_fail("search", st);
        goto done;
    }
    double qps = secs > 0 ? (double)nq / secs : 0;
    if (json) {
        printf("{\"index\":");
        pa_cli_json_string(stdout, index);
        printf(",\"queries\":%" PRIu64 ",\"k\":%" PRIu64 ",\"nprobes\":%u,\"refine_factor\":%"
               PRIu64 ",\"seconds\":%.4f,\"qps\":%.1f,\"codes_scanned\":%" PRIu64, nq, k,
               ss.nprobes_used, rf, secs, qps, ss.codes_scanned);
        if (recall >= 0)
            printf(",\"recall\":%.4f", recall);
        printf("}\n");
    } else {
        printf("searched %" PRIu64 " queries (k %" PRIu64 ", nprobes %u, refine %" PRIu64 ") in "
               "%.3f s: %.0f QPS", nq, k, ss.nprobes_used, rf, secs, qps);
        if (recall >= 0)
            printf(", recall@%" PRIu64 " %.4f", k, recall);
        printf("\n");
    }
done:
    free(q), free(ids), free(dists), free(gt);
    pa_vec_input_free(in);
    pa_index_free(x);
    return rc;
}

/* partifact groundtruth --input X --queries Q -k 100 --out G.ivecs|G.npy [--metric l2] */
int pa_cmd_groundtruth(int argc, char **argv)
{
    static const struct option opts[] = {
        {"input", required_argument, 0, 'i'}, {"queries", required_argument, 0, 'q'},
        {"k", required_argument, 0, 'k'},     {"out", required_argument, 0, 'o'},
        {"metric", required_argument, 0, 'm'}, {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},        {"skip-invalid", no_argument, 0, 'S'},
        {"force", no_argument, 0, 'F'},
        {"column", required_argument, 0, 'c'}, {"version", required_argument, 0, 'V'},
        {0, 0, 0, 0}};
    const char *input = NULL, *qpath = NULL, *out = NULL, *metric = "l2", *column = NULL;
    uint64_t k = 100, version = 0;
    bool json = false, skip = false, force = false;
    int c;
    while ((c = getopt_long(argc, argv, "i:q:k:o:m:c:V:jhSF", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'i': input = optarg; break;
        case 'q': qpath = optarg; break;
        case 'o': out = optarg; break;
        case 'm': metric = optarg; break;
        case 'c': column = optarg; break;
        case 'V': ok = pa_cli_parse_count(optarg, &version) && version > 0; break;
        case 'k': ok = pa_cli_parse_count(optarg, &k) && k > 0 && k <= 100000; break;
        case 'F': force = true; break;
        case 'j': json = true; break;
        case 'S': skip = true; break;
        case 'h':
            printf("usage: partifact groundtruth --input X --queries Q [-k 100]\n"
                   "         --out G.ivecs|G.npy [--metric l2|cosine|dot] [--skip-invalid]\n"
                   "         [--column NAME] [--version N] [--force] [--json]\n"
                   "Exact k nearest neighbours of every query among all rows of X (blocked\n"
                   "sgemm, bounded memory), as row ids of X: .ivecs (int32) or .npy (uint64,\n"
                   "for a Lance dataset's row addresses, fragment id << 32 | offset). --out is\n"
                   "written under a temporary name and renamed into place.\n"
                   "--skip-invalid leaves out (and counts) rows of X with NaN, infinities or\n"
                   "values whose distances would overflow float.\n" PA_CLI_FORCE_HELP
                   "--column applies to X and Q where they are tables, --version to X.\n"
                   PA_CLI_TABLE_HELP);
            return 0;
        default: return PA_CLI_EXIT_FAIL;
        }
        if (!ok)
            return pa_cli_error("groundtruth", "\"%s\" is not a valid value for --%s", optarg,
                                pa_cli_opt_name(opts, c));
    }
    if (!input || !qpath || !out)
        return pa_cli_error("groundtruth", "--input, --queries and --out are required (see "
                            "--help)");
    pa_metric met;
    if (pa_metric_parse(metric, &met) != PA_OK)
        return pa_cli_error("groundtruth", "--metric: \"%s\" is not l2, cosine or dot", metric);
    const char *inputs[] = {input, qpath};
    if (pa_cli_check_output("groundtruth", out, force, NULL, inputs, 2))
        return PA_CLI_EXIT_FAIL;
    float *q = NULL;
    uint64_t nq = 0, *ids = NULL;
    uint32_t dim = 0;
    pa_vec_input *in = NULL;
    double t0 = pa_cli_now();
    pa_vec_input_options qio = {.struct_size = sizeof qio, .column = column};
    pa_status st = pa_vec_input_read_all(qpath, &qio, &q, &nq, &dim);
    pa_vec_input_options io = {.struct_size = sizeof io, .skip_invalid = skip, .column = column,
                               .version = version};
    if (st == PA_OK)
        st = pa_vec_input_open(&in, input, &io);
    size_t nres = 0; /* nq x k results: checked, nq comes from the file */
    if (st == PA_OK && (__builtin_mul_overflow((size_t)(nq ? nq : 1), (size_t)k, &nres) ||
                        nres > SIZE_MAX / sizeof(uint64_t) ||
                        !(ids = malloc(sizeof(uint64_t) * nres))))
        st = PA_ERR_NOMEM;
    if (st == PA_OK)
        st = pa_groundtruth(in, q, nq, dim, (uint32_t)k, met, ids, NULL);
    if (st == PA_OK)
        st = pa_ids_write_ex(out, ids, nq, (uint32_t)k, force);
    int rc = 0;
    if (st != PA_OK)
        rc = pa_cli_fail("groundtruth", st);
    else if (json) {
        printf("{\"out\":");
        pa_cli_json_string(stdout, out);
        printf(",\"queries\":%" PRIu64 ",\"k\":%" PRIu64 ",\"base_rows\":%" PRIu64
               ",\"metric\":\"%s\",\"seconds\":%.3f,\"skipped_invalid\":%" PRIu64 "}\n", nq, k,
               pa_vec_input_num_rows(in), pa_metric_name(met), pa_cli_now() - t0,
               pa_vec_input_skipped(in));
    } else
        printf("wrote the exact %" PRIu64 " nearest neighbours (%s) of %" PRIu64 " queries among "
               "%" PRIu64 " rows to %s in %.2f s\n", k, pa_metric_name(met), nq,
               pa_vec_input_num_rows(in), out, pa_cli_now() - t0);
    free(q), free(ids);
    pa_vec_input_free(in);
    return rc;
}

/* partifact index-info INDEX [--json] */
int pa_cmd_index_info(int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, 0, 'j'},
                                         {"memory", required_argument, 0, 'M'},
                                         {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    bool json = false;
    uint64_t memory = 0;
    int c;
    while ((c = getopt_long(argc, argv, "jM:h", opts, NULL)) != -1) {
        if (c == 'j')
            json = true;
        else if (c == 'M') {
            if (!pa_cli_parse_size(optarg, &memory) || memory == 0)
                return pa_cli_error("index-info", "\"%s\" is not a valid value for --memory",
                                    optarg);
        } else if (c == 'h') {
            printf("usage: partifact index-info INDEX [--json] [--memory SIZE]\n"
                   "Prints an IVF_PQ index's parameters, rows and partition sizes. --memory\n"
                   "opens it as search --memory does (the rows are checked in a streaming pass).\n");
            return 0;
        } else
            return PA_CLI_EXIT_FAIL;
    }
    if (optind != argc - 1)
        return pa_cli_error("index-info", "expected one index directory (see --help)");
    const char *dir = argv[optind];
    pa_index *x = NULL;
    pa_index_open_options xo = {.struct_size = sizeof xo, .memory_bytes = memory};
    pa_status st = pa_index_open_ex(&x, dir, &xo);
    if (st == PA_ERR_INVALID && memory) /* the budget is too small for this index */
        return pa_cli_error("index-info", "%s; raise --memory", pa_last_error());
    if (st != PA_OK)
        return pa_cli_fail("index-info", st);
    pa_index_info in = PA_INDEX_INFO_INIT;
    pa_index_get_info(x, &in);
    uint64_t minp = UINT64_MAX, empty = 0;
    for (uint32_t p = 0; p < in.num_partitions; p++) {
        const uint64_t *ids;
        const uint8_t *codes;
        uint64_t n;
        pa_index_partition(x, p, &ids, &codes, &n);
        minp = n < minp ? n : minp;
        empty += n == 0;
    }
    if (json) {
        printf("{\"index\":");
        pa_cli_json_string(stdout, dir);
        printf(",\"type\":\"IVF_PQ\",\"metric\":\"%s\",\"dimension\":%u,\"partitions\":%u,"
               "\"sub_vectors\":%u,\"num_bits\":%u,\"rows\":%" PRIu64 ",\"bytes\":%" PRIu64
               ",\"min_partition_rows\":%" PRIu64 ",\"max_partition_rows\":%" PRIu64
               ",\"empty_partitions\":%" PRIu64 "}\n",
               pa_metric_name(in.metric), in.dimension, in.num_partitions, in.num_sub_vectors,
               in.num_bits, in.num_rows, in.bytes, minp, in.max_partition_rows, empty);
    } else {
        printf("%s: IVF_PQ index, metric %s, dimension %u, %u partitions, %u sub-vectors of %u "
               "bits\n  %" PRIu64 " rows; partitions hold %" PRIu64 " to %" PRIu64 " rows (%"
               PRIu64 " empty); %" PRIu64 " bytes read\n",
               dir, pa_metric_name(in.metric), in.dimension, in.num_partitions,
               in.num_sub_vectors, in.num_bits, in.num_rows, minp, in.max_partition_rows, empty,
               in.bytes);
    }
    pa_index_free(x);
    return 0;
}

/* partifact export-rows --artifact A --out FILE.lance [--shuffle SEED] */
int pa_cmd_export_rows(int argc, char **argv)
{
    static const struct option opts[] = {
        {"artifact", required_argument, 0, 'a'}, {"out", required_argument, 0, 'o'},
        {"shuffle", required_argument, 0, 's'},  {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},           {"force", no_argument, 0, 'F'},
        {0, 0, 0, 0}};
    const char *artifact = NULL, *out = NULL;
    uint64_t seed = 0;
    bool json = false, force = false;
    int c;
    while ((c = getopt_long(argc, argv, "a:o:s:jhF", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'a': artifact = optarg; break;
        case 'o': out = optarg; break;
        case 's': ok = pa_cli_parse_count(optarg, &seed); break;
        case 'F': force = true; break;
        case 'j': json = true; break;
        case 'h':
            printf("usage: partifact export-rows --artifact A --out FILE.lance [--shuffle SEED]\n"
                   "         [--force] [--json]\n"
                   "Writes every (row_id, part_id, pq_code) row of an artifact into one Lance\n"
                   "file: the input of 'finalize --rows'. Rows come in bucket-file order, or\n"
                   "shuffled (in memory) with --shuffle SEED (SEED > 0). The file is written\n"
                   "under a temporary name and renamed into place.\n" PA_CLI_FORCE_HELP);
            return 0;
        default: return PA_CLI_EXIT_FAIL;
        }
        if (!ok)
            return pa_cli_error("export-rows", "\"%s\" is not a valid value for --%s", optarg,
                                pa_cli_opt_name(opts, c));
    }
    if (!artifact || !out)
        return pa_cli_error("export-rows", "--artifact and --out are required (see --help)");
    const char *inputs[] = {artifact};
    if (pa_cli_check_output("export-rows", out, force, NULL, inputs, 1))
        return PA_CLI_EXIT_FAIL;
    uint64_t rows = 0;
    double t0 = pa_cli_now();
    pa_status st = pa_artifact_export_rows_ex(artifact, out, seed, &rows, force);
    if (st != PA_OK)
        return pa_cli_fail("export-rows", st);
    if (json) {
        printf("{\"out\":");
        pa_cli_json_string(stdout, out);
        printf(",\"rows\":%" PRIu64 ",\"shuffled\":%s,\"seconds\":%.3f}\n", rows,
               seed ? "true" : "false", pa_cli_now() - t0);
    } else
        printf("wrote %" PRIu64 " rows of %s to %s%s\n", rows, artifact, out,
               seed ? " (shuffled)" : "");
    return 0;
}
