/* partifact finalize / search / groundtruth / index-info / export-rows: the index commands. */
#include "tools/cli.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* partifact finalize (--artifact A | --rows FILE --model M) --out INDEX */
int pa_cmd_finalize(int argc, char **argv)
{
    const char *artifact = NULL, *rows = NULL, *model = NULL, *out = NULL, *tmp = NULL;
    uint64_t memory = 256u << 20, threads = 0;
    bool json = false, force = false;
    pa_cli_opt opts[] = {
        {.name = "artifact", .kind = PA_CLI_STRING, .dest = &artifact, .arg = "A",
         .help = "the partition artifact to read"},
        {.name = "rows", .kind = PA_CLI_STRING, .dest = &rows, .arg = "FILE.lance",
         .help = "a Lance file of (row_id, part_id, pq_code) rows, in any order"},
        {.name = "model", .kind = PA_CLI_STRING, .dest = &model, .arg = "M", .field = "model_path",
         .help = "the model (default: the one the manifest records)"},
        {.name = "out", .kind = PA_CLI_STRING, .dest = &out, .arg = "INDEX", .required = true,
         .help = "the index directory to write"},
        {.name = "memory", .kind = PA_CLI_SIZE, .dest = &memory, .arg = "SIZE", .min = 1,
         .field = "memory_bytes", .help = "the memory budget"},
        {.name = "tmp", .kind = PA_CLI_STRING, .dest = &tmp, .arg = "DIR", .field = "tmp_dir",
         .help = "with --rows: where sorted runs spill (default: next to INDEX)"},
        {.name = "threads", .kind = PA_CLI_COUNT, .dest = &threads, .arg = "N", .min = 1,
         .max = 256, .field = "num_threads", .help = "threads (default: 2)"},
        PA_CLI_OPT_FORCE(&force),
        PA_CLI_OPT_JSON(&json),
    };
    pa_cli_spec spec = {
        .name = "finalize", .opts = opts, .num_opts = PA_CLI_NOPTS(opts),
        .synopsis = "finalize --artifact A --out INDEX [--model M] [options]\n"
                    "       partifact finalize --rows FILE.lance --model M --out INDEX [options]\n",
        .about = "Writes an IVF_PQ index directory (index.idx + auxiliary.idx, LanceDB's layout).\n"
                 "--artifact reads each partition's recorded ranges once, in order, with\n"
                 "read-ahead (--memory bounds the read-ahead); the model defaults to the one the\n"
                 "manifest records and must match it. --rows takes a Lance file of (row_id,\n"
                 "part_id, pq_code) in any order and re-groups it by partition within --memory,\n"
                 "spilling sorted runs to --tmp (default: next to INDEX). Both write the same\n"
                 "index. INDEX is written in a new directory INDEX.partial-XXXXXX and renamed\n"
                 "into place when complete; those a killed finalize left (partifact's marker,\n"
                 "unlocked) are removed.\n" PA_CLI_FORCE_HELP};
    int rc = pa_cli_parse(&spec, argc, argv);
    if (rc != PA_CLI_CONTINUE)
        return rc;
    if (!artifact == !rows)
        return pa_cli_error("finalize", "--out and one of --artifact or --rows are required "
                            "(see --help)");
    if (rows && !model)
        return pa_cli_error("finalize", "--rows needs --model (the model the codes were made "
                            "with)");
    const char *inputs[] = {artifact, rows, model};
    if ((rc = pa_cli_check_output("finalize", out, force, PA_INDEX_FILE_NAME, inputs, 3)))
        return rc;
    pa_index_finalize_options o = {.memory_bytes = memory, .tmp_dir = tmp,
                                   .num_threads = (unsigned)threads,
                                   .progress = pa_cli_progress_cb, .replace = force};
    pa_index_finalize_stats s;
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
    const char *index = NULL, *qpath = NULL, *input = NULL, *gtpath = NULL, *out = NULL,
               *column = NULL;
    uint64_t k = 10, nprobes = 20, rf = 0, threads = 0, repeat = 1, version = 0, memory = 0;
    bool json = false, force = false;
    pa_cli_opt opts[] = {
        {.name = "index", .kind = PA_CLI_STRING, .dest = &index, .arg = "INDEX", .required = true,
         .help = "the index directory"},
        {.name = "queries", .kind = PA_CLI_STRING, .dest = &qpath, .arg = "Q", .required = true,
         .help = "the queries: .fvecs, .bvecs, .npy or a Lance dataset"},
        {.name = "k", .short_name = 'k', .kind = PA_CLI_COUNT, .dest = &k, .arg = "K", .min = 1,
         .max = 1u << 24, .field = "k", .help = "neighbours per query"},
        {.name = "nprobes", .kind = PA_CLI_COUNT, .dest = &nprobes, .arg = "N", .min = 1,
         .max = UINT32_MAX, .field = "nprobes", .help = "partitions searched per query"},
        {.name = "refine-factor", .kind = PA_CLI_COUNT, .dest = &rf, .arg = "R", .max = 1000,
         .field = "refine_factor", .help = "re-rank the k*R best by exact distance"},
        {.name = "input", .kind = PA_CLI_STRING, .dest = &input, .arg = "X",
         .field = "refine_input", .help = "the vectors the index was built from (refine)"},
        {.name = "groundtruth", .kind = PA_CLI_STRING, .dest = &gtpath, .arg = "G.ivecs|G.npy",
         .help = "report recall@k against these neighbours"},
        {.name = "out", .kind = PA_CLI_STRING, .dest = &out, .arg = "R.ivecs|R.npy",
         .help = "write the result ids"},
        {.name = "threads", .kind = PA_CLI_COUNT, .dest = &threads, .arg = "N", .min = 1,
         .max = 256, .field = "num_threads", .help = "threads (default: the CPUs)"},
        {.name = "repeat", .kind = PA_CLI_COUNT, .dest = &repeat, .arg = "N", .min = 1,
         .max = 1000, .help = "search the batch N times, report the median"},
        PA_CLI_OPT_COLUMN(&column),
        PA_CLI_OPT_VERSION(&version),
        {.name = "memory", .kind = PA_CLI_SIZE, .dest = &memory, .arg = "SIZE", .min = 1,
         .field = "memory_bytes", .help = "bound what the index holds (default: all of it)"},
        PA_CLI_OPT_FORCE(&force),
        PA_CLI_OPT_JSON(&json),
    };
    pa_cli_spec spec = {
        .name = "search", .opts = opts, .num_opts = PA_CLI_NOPTS(opts),
        .synopsis = "search --index INDEX --queries Q [-k 10] [--nprobes 20] [options]\n",
        .about = "Searches every query of Q (.fvecs, .bvecs, .npy, or a Lance dataset) with\n"
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
                 PA_CLI_TABLE_HELP};
    int rc = pa_cli_parse(&spec, argc, argv);
    if (rc != PA_CLI_CONTINUE)
        return rc;
    rc = 0;
    bool nprobes_given = pa_cli_find(&spec, "nprobes")->given;
    if (rf > 1 && !input)
        return pa_cli_error("search", "--refine-factor needs --input (the original vectors)");
    const char *inputs[] = {index, qpath, input, gtpath};
    if (out && (rc = pa_cli_check_output("search", out, force, NULL, inputs, 4)))
        return rc;
    pa_index *x = NULL;
    pa_vec_input *in = NULL;
    float *q = NULL, *dists = NULL;
    uint64_t *ids = NULL, *gt = NULL, nq = 0, ngt = 0;
    uint32_t dim = 0, kgt = 0;
    pa_index_open_options xo = {.struct_size = sizeof xo, .memory_bytes = memory};
    pa_status st = pa_index_open_ex(&x, index, &xo);
    pa_index_info info;
    if (st == PA_OK) {
        pa_index_get_info(x, &info);
        pa_vec_input_options qio = {.column = column};
        st = pa_vec_input_read_all(qpath, &qio, &q, &nq, &dim);
    }
    pa_vec_input_options sio = {.column = column, .version = version};
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
        rc = pa_cli_errorf(PA_CLI_EXIT_RUNTIME, "search", "out of memory for %" PRIu64 " x %"
                           PRIu64 " results", nq, k);
        goto done;
    }
    pa_index_search_options so = {.k = (uint32_t)k, .nprobes = (uint32_t)nprobes,
                                  .refine_factor = (uint32_t)rf, .refine_input = in,
                                  .num_threads = (int)threads};
    pa_index_search_stats ss = {0}, part;
    const uint64_t batch = 8192;
    double times[1000] = {0};
    for (uint64_t rep = 0; rep < repeat && st == PA_OK; rep++) {
        ss = (pa_index_search_stats){0};
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
    const char *input = NULL, *qpath = NULL, *out = NULL, *column = NULL;
    uint64_t k = 100, version = 0;
    bool json = false, skip = false, force = false;
    pa_metric met = PA_METRIC_L2;
    pa_cli_opt opts[] = {
        {.name = "input", .kind = PA_CLI_STRING, .dest = &input, .arg = "X", .required = true,
         .help = "the base vectors"},
        {.name = "queries", .kind = PA_CLI_STRING, .dest = &qpath, .arg = "Q", .required = true,
         .help = "the queries"},
        {.name = "k", .short_name = 'k', .kind = PA_CLI_COUNT, .dest = &k, .arg = "K", .min = 1,
         .max = 100000, .field = "k", .help = "neighbours per query"},
        {.name = "out", .kind = PA_CLI_STRING, .dest = &out, .arg = "G.ivecs|G.npy",
         .required = true, .help = "the neighbours' row ids to write"},
        {.name = "metric", .kind = PA_CLI_METRIC, .dest = &met, .arg = "l2|cosine|dot",
         .field = "metric", .expect = "l2, cosine or dot", .help = "the distance"},
        PA_CLI_OPT_SKIP_INVALID(&skip),
        PA_CLI_OPT_COLUMN(&column),
        PA_CLI_OPT_VERSION(&version),
        PA_CLI_OPT_FORCE(&force),
        PA_CLI_OPT_JSON(&json),
    };
    pa_cli_spec spec = {
        .name = "groundtruth", .opts = opts, .num_opts = PA_CLI_NOPTS(opts),
        .synopsis = "groundtruth --input X --queries Q [-k 100] --out G.ivecs|G.npy [options]\n",
        .about = "Exact k nearest neighbours of every query among all rows of X (blocked\n"
                 "sgemm, bounded memory), as row ids of X: .ivecs (int32) or .npy (uint64,\n"
                 "for a Lance dataset's row addresses, fragment id << 32 | offset). --out is\n"
                 "written under a temporary name and renamed into place.\n"
                 "--skip-invalid leaves out (and counts) rows of X with NaN, infinities or\n"
                 "values whose distances would overflow float.\n" PA_CLI_FORCE_HELP
                 "--column applies to X and Q where they are tables, --version to X.\n"
                 PA_CLI_TABLE_HELP};
    int rc = pa_cli_parse(&spec, argc, argv);
    if (rc != PA_CLI_CONTINUE)
        return rc;
    const char *inputs[] = {input, qpath};
    if ((rc = pa_cli_check_output("groundtruth", out, force, NULL, inputs, 2)))
        return rc;
    float *q = NULL;
    uint64_t nq = 0, *ids = NULL;
    uint32_t dim = 0;
    pa_vec_input *in = NULL;
    double t0 = pa_cli_now();
    pa_vec_input_options qio = {.column = column};
    pa_status st = pa_vec_input_read_all(qpath, &qio, &q, &nq, &dim);
    pa_vec_input_options io = {.skip_invalid = skip, .column = column, .version = version};
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
    bool json = false;
    uint64_t memory = 0;
    pa_cli_opt opts[] = {
        {.name = "memory", .kind = PA_CLI_SIZE, .dest = &memory, .arg = "SIZE", .min = 1,
         .field = "memory_bytes", .help = "open it within this budget, as search --memory"},
        PA_CLI_OPT_JSON(&json),
    };
    pa_cli_spec spec = {
        .name = "index-info", .opts = opts, .num_opts = PA_CLI_NOPTS(opts),
        .pos_what = "index directory", .synopsis = "index-info INDEX [--json] [--memory SIZE]\n",
        .about = "Prints an IVF_PQ index's parameters, rows and partition sizes. --memory\n"
                 "opens it as search --memory does (the rows are checked in a streaming pass).\n"};
    int rc = pa_cli_parse(&spec, argc, argv);
    if (rc != PA_CLI_CONTINUE)
        return rc;
    const char *dir = spec.pos;
    pa_index *x = NULL;
    pa_index_open_options xo = {.struct_size = sizeof xo, .memory_bytes = memory};
    pa_status st = pa_index_open_ex(&x, dir, &xo);
    if (st != PA_OK)
        return pa_cli_fail("index-info", st);
    pa_index_info in;
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
    const char *artifact = NULL, *out = NULL;
    uint64_t seed = 0;
    bool json = false, force = false;
    pa_cli_opt opts[] = {
        {.name = "artifact", .kind = PA_CLI_STRING, .dest = &artifact, .arg = "A",
         .required = true, .help = "the partition artifact"},
        {.name = "out", .kind = PA_CLI_STRING, .dest = &out, .arg = "FILE.lance",
         .required = true, .help = "the Lance file to write"},
        {.name = "shuffle", .kind = PA_CLI_COUNT, .dest = &seed, .arg = "SEED",
         .field = "shuffle_seed", .help = "shuffle the rows with this seed (> 0)"},
        PA_CLI_OPT_FORCE(&force),
        PA_CLI_OPT_JSON(&json),
    };
    pa_cli_spec spec = {
        .name = "export-rows", .opts = opts, .num_opts = PA_CLI_NOPTS(opts),
        .synopsis = "export-rows --artifact A --out FILE.lance [--shuffle SEED] [--force]\n"
                    "         [--json]\n",
        .about = "Writes every (row_id, part_id, pq_code) row of an artifact into one Lance\n"
                 "file: the input of 'finalize --rows'. Rows come in bucket-file order, or\n"
                 "shuffled (in memory) with --shuffle SEED (SEED > 0). The file is written\n"
                 "under a temporary name and renamed into place.\n" PA_CLI_FORCE_HELP};
    int rc = pa_cli_parse(&spec, argc, argv);
    if (rc != PA_CLI_CONTINUE)
        return rc;
    const char *inputs[] = {artifact};
    if ((rc = pa_cli_check_output("export-rows", out, force, NULL, inputs, 1)))
        return rc;
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
