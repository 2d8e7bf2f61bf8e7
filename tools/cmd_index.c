/* partifact finalize / search / groundtruth / index-info / export-rows: the index commands. */
#include "tools/cli.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

/* partifact finalize (--artifact A | --rows FILE --model M | --rows SHUFFLE_DIR [--model M])
 * --out INDEX */
int pa_cmd_finalize(int argc, char **argv)
{
    const char *artifact = NULL, *rows = NULL, *model = NULL, *out = NULL, *tmp = NULL;
    pa_cli_list artifacts = {0}; /* --artifact, repeatable: the shards of one build */
    uint64_t memory = PA_DEFAULT_MEMORY_BYTES, threads = 0;
    bool json = false, force = false;
    pa_cli_opt opts[] = {
        PA_CLI_OPT_FORCE(&force),
        PA_CLI_OPT_JSON(&json),
        PA_CLI_ROW(PA_CLI_LIST, "artifact", &artifacts, "A",
                   "the partition artifact to read (repeat it for the shards of one build: "
                   "one segment)"),
        PA_CLI_STR("rows", &rows, "FILE.lance|DIR",
                   "a Lance file of (row_id, part_id, pq_code) rows, in any order; or a "
                   "directory of Lance's shuffle buffers (lance-cuvs), its model "
                   "metadata.lance unless --model"),
        PA_CLI_STR("model", &model, "M", "the model (default: the one the manifest records)",
                   .field = "model_path"),
        PA_CLI_STR("out", &out, "INDEX", "the index directory to write", .required = true),
        PA_CLI_BYTES("memory", &memory, "SIZE", "the memory budget", .min = 1,
                     .field = "memory_bytes"),
        PA_CLI_STR("tmp", &tmp, "DIR",
                   "with --rows: where sorted runs spill (default: next to INDEX)",
                   .field = "tmp_dir"),
        PA_CLI_NUM("threads", &threads, "N", "threads (default: 2)", .min = 1, .max = 256,
                   .field = "num_threads"),
    };
    pa_cli_parse("finalize", opts, PA_CLI_NOPTS(opts), NULL, argc, argv);
    int rc = 0;
    artifact = artifacts.n ? artifacts.items[0] : NULL;
    if (!artifact == !rows)
        return pa_cli_error("finalize", "--out and one of --artifact or --rows are required "
                                        "(see --help)");
    struct stat rsb;
    if (rows && !model && !(stat(rows, &rsb) == 0 && S_ISDIR(rsb.st_mode)))
        return pa_cli_error("finalize", "--rows needs --model (the model the codes were made "
                                        "with)");
    const char *inputs[PA_CLI_LIST_MAX + 2] = {rows, model};
    for (size_t i = 0; i < artifacts.n; i++)
        inputs[2 + i] = artifacts.items[i];
    if ((rc = pa_cli_check_output("finalize", out, force, PA_INDEX_FILE_NAME, inputs,
                                  2 + artifacts.n)))
        return rc;
    pa_index_finalize_options o = {.struct_size = sizeof o,
                                   .memory_bytes = memory,
                                   .tmp_dir = tmp,
                                   .num_threads = (uint32_t)threads,
                                   .progress = pa_cli_progress_cb,
                                   .replace = force};
    pa_index_finalize_stats s = PA_INDEX_FINALIZE_STATS_INIT;
    struct rlimit rl; /* the shards' bucket files are all open at once: up to the hard limit */
    if (artifacts.n > 1 && getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    pa_status st = artifacts.n > 1 ? pa_index_finalize_artifacts(artifacts.items, artifacts.n,
                                                                 model, out, &o, &s)
                   : artifact      ? pa_index_finalize_artifact(artifact, model, out, &o, &s)
                                   : pa_index_finalize_rows(rows, model, out, &o, &s);
    pa_cli_progress_end();
    json_t *j = NULL;
    if (st == PA_OK && json)
        st = pa_cli_json_print(
            pa_json_pack(&j, "finalize --json",
                         "{s:o, s:s, s:I, s:i, s:I, s:I, s:I, s:I, s:I, s:i, s:o}", "index",
                         pa_json_display_string(out), "source", artifact ? "artifact" : "rows",
                         "rows", (json_int_t)s.rows, "partitions", (int)s.partitions,
                         "max_partition_rows", (json_int_t)s.max_partition_rows, "bytes_read",
                         (json_int_t)s.bytes_read, "bytes_written", (json_int_t)s.bytes_written,
                         "index_bytes", (json_int_t)s.index_bytes, "spill_bytes",
                         (json_int_t)s.spill_bytes, "spill_runs", (int)s.spill_runs, "seconds",
                         PA_CLI_REAL3(s.seconds)),
            &j);
    if (st != PA_OK)
        return pa_cli_fail("finalize", st);
    if (!json) {
        printf("finalized %" PRIu64 " rows in %u partitions into %s from the %s: read %" PRIu64
               " bytes, wrote %" PRIu64 " bytes (index %" PRIu64 ", spill %" PRIu64 " in %u "
               "runs) in %.2f s\n",
               s.rows, s.partitions, out, artifact ? "artifact" : "rows file", s.bytes_read,
               s.bytes_written, s.index_bytes, s.spill_bytes, s.spill_runs, s.seconds);
    }
    return 0;
}

/* search's queries per library call (--batch): its default and largest value */
#define PA_CLI_SEARCH_BATCH 8192u
#define PA_CLI_SEARCH_NPROBES 20u /* search's --nprobes default */

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* partifact search --index INDEX --queries Q -k 10 --nprobes 20 [...] */
int pa_cmd_search(int argc, char **argv)
{
    const char *index = NULL, *qpath = NULL, *input = NULL, *gtpath = NULL, *out = NULL,
               *column = NULL;
    pa_cli_list indexes = {0}; /* --index, repeatable: the segments of one index */
    uint64_t k = PA_DEFAULT_K, nprobes = PA_CLI_SEARCH_NPROBES, rf = 0, threads = 0, repeat = 1,
             version = 0, memory = 0, rerank = PA_DEFAULT_RERANK_FACTOR,
             batch = PA_CLI_SEARCH_BATCH;
    bool json = false, force = false, no_fast_scan = false;
    pa_cli_opt opts[] = {
        PA_CLI_OPT_COLUMN(&column),
        PA_CLI_OPT_VERSION(&version),
        PA_CLI_OPT_FORCE(&force),
        PA_CLI_OPT_JSON(&json),
        PA_CLI_ROW(PA_CLI_LIST, "index", &indexes, "INDEX",
                   "the index directory (repeat it for the segments of one index)",
                   .required = true),
        PA_CLI_STR("queries", &qpath, "Q", "the queries: .fvecs, .bvecs, .npy or a Lance dataset",
                   .required = true),
        PA_CLI_NUM("k", &k, "K", "neighbours per query", .short_name = 'k', .min = 1,
                   .max = 1u << 24, .field = "k"),
        PA_CLI_NUM("nprobes", &nprobes, "N", "partitions searched per query", .min = 1,
                   .max = UINT32_MAX, .field = "nprobes"),
        PA_CLI_NUM("refine-factor", &rf, "R", "re-rank the k*R best by exact distance", .max = 1000,
                   .field = "refine_factor"),
        PA_CLI_STR("input", &input, "X", "the vectors the index was built from (refine)",
                   .field = "refine_input"),
        PA_CLI_STR("groundtruth", &gtpath, "G.ivecs|G.npy",
                   "report recall@k against these neighbours"),
        PA_CLI_STR("out", &out, "R.ivecs|R.npy", "write the result ids"),
        PA_CLI_NUM("threads", &threads, "N", "threads (default: the CPUs)", .min = 1, .max = 256,
                   .field = "num_threads"),
        PA_CLI_NUM("repeat", &repeat, "N", "search the batch N times, report the median", .min = 1,
                   .max = 1000),
        PA_CLI_BYTES("memory", &memory, "SIZE", "bound what the index holds (default: all of it)",
                     .min = 1, .field = "memory_bytes"),
        PA_CLI_FLAG("no-fast-scan", &no_fast_scan,
                    "4-bit index: the plain ADC scan instead of the fast scan",
                    .field = "fast_scan"),
        PA_CLI_NUM("rerank", &rerank, "F",
                   "fast scan: re-rank the k*R*F best by quantised distance exactly", .min = 1,
                   .max = 1000, .field = "rerank_factor"),
        PA_CLI_NUM("batch", &batch, "N",
                   "queries per search call, each call timed: p50/p99 latency", .min = 1,
                   .max = PA_CLI_SEARCH_BATCH),
    };
    pa_cli_parse("search", opts, PA_CLI_NOPTS(opts), NULL, argc, argv);
    int rc = 0;
    bool nprobes_given = pa_cli_given(opts, PA_CLI_NOPTS(opts), "nprobes");
    index = indexes.items[0];
    if (rf > 1 && !input)
        return pa_cli_error("search", "--refine-factor needs --input (the original vectors)");
    const char *inputs[PA_CLI_LIST_MAX + 3] = {qpath, input, gtpath};
    for (size_t i = 0; i < indexes.n; i++)
        inputs[3 + i] = indexes.items[i];
    if (out && (rc = pa_cli_check_output("search", out, force, NULL, inputs, 3 + indexes.n)))
        return rc;
    pa_index *x = NULL, *xs[PA_CLI_LIST_MAX] = {NULL};
    pa_vec_input *in = NULL;
    float *q = NULL, *dists = NULL;
    uint64_t *ids = NULL, *gt = NULL, nq = 0, ngt = 0;
    uint32_t dim = 0, kgt = 0;
    pa_index_open_options xo = {.struct_size = sizeof xo, .memory_bytes = memory};
    pa_status st = PA_OK;
    for (size_t i = 0; i < indexes.n && st == PA_OK; i++)
        st = pa_index_open_ex(&xs[i], indexes.items[i], &xo);
    x = xs[0];
    pa_index_info info = PA_INDEX_INFO_INIT;
    if (st == PA_OK) {
        pa_index_get_info(x, &info);
        pa_vec_input_options qio = {.struct_size = sizeof qio, .column = column};
        st = pa_vec_input_read_all(qpath, &qio, &q, &nq, &dim);
    }
    pa_vec_input_options sio = {.struct_size = sizeof sio, .column = column, .version = version};
    if (st == PA_OK && input)
        st = pa_vec_input_open(&in, input, &sio);
    struct stat isb;
    if (st == PA_OK && input && rf > 1 && stat(input, &isb) == 0 && S_ISDIR(isb.st_mode))
        for (size_t i = 0; i < indexes.n && st == PA_OK; i++) /* rows read back by address */
            st = pa_index_check_source(indexes.items[i], input);
    if (st == PA_OK && gtpath)
        st = pa_ids_read(gtpath, &gt, &ngt, &kgt);
    if (st != PA_OK) {
        rc = pa_cli_fail("search", st);
        goto done;
    }
    if (gt && ngt != nq) {
        rc = pa_cli_error("search",
                          "%s has %" PRIu64 " rows of ground truth, %s has %" PRIu64 " queries",
                          gtpath, ngt, qpath, nq);
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
        fprintf(stderr,
                "partifact search: warning: --nprobes %" PRIu64 " is more than the "
                "index's %u partitions; using %u\n",
                nprobes, info.num_partitions, info.num_partitions);
    size_t nres = 0; /* nq x k results: checked, nq comes from the file */
    if (!__builtin_mul_overflow((size_t)(nq ? nq : 1), (size_t)k, &nres) &&
        nres <= SIZE_MAX / sizeof(uint64_t)) {
        ids = malloc(sizeof(uint64_t) * nres);
        dists = malloc(sizeof(float) * nres);
    }
    if (!ids || !dists) {
        rc = pa_cli_errorf(PA_CLI_EXIT_RUNTIME, "search",
                           "out of memory for %" PRIu64 " x %" PRIu64 " results", nq, k);
        goto done;
    }
    pa_index_search_options so = {.struct_size = sizeof so,
                                  .k = (uint32_t)k,
                                  .nprobes = (uint32_t)nprobes,
                                  .refine_factor = (uint32_t)rf,
                                  .refine_input = in,
                                  .num_threads = (uint32_t)threads,
                                  .fast_scan = no_fast_scan ? PA_FAST_SCAN_OFF : PA_FAST_SCAN_AUTO,
                                  .rerank_factor = (uint32_t)rerank};
    pa_index_search_stats ss = PA_INDEX_SEARCH_STATS_INIT, part = PA_INDEX_SEARCH_STATS_INIT;
    /* every call's time (latency: p50 and p99 per pass, the median pass of each) */
    const uint64_t calls = nq ? (nq + batch - 1) / batch : 0;
    double times[1000] = {0}, p50s[1000] = {0}, p99s[1000] = {0};
    double *lat = malloc(sizeof(double) * (calls ? calls : 1));
    if (!lat) {
        rc = pa_cli_errorf(PA_CLI_EXIT_RUNTIME, "search", "out of memory for %" PRIu64 " timings",
                           calls);
        goto done;
    }
    for (uint64_t rep = 0; rep < repeat && st == PA_OK; rep++) {
        ss = (pa_index_search_stats)PA_INDEX_SEARCH_STATS_INIT;
        double t0 = pa_cli_now();
        for (uint64_t q0 = 0, c = 0; q0 < nq; q0 += batch, c++) {
            uint64_t bn = PA_CLI_MIN(batch, nq - q0);
            const double tc = pa_cli_now();
            if ((st = pa_index_search_segments(xs, indexes.n, q + q0 * dim, bn, dim, &so,
                                               ids + q0 * k, dists + q0 * k, &part)) != PA_OK)
                break;
            lat[c] = pa_cli_now() - tc;
            ss.nprobes_used = part.nprobes_used;
            ss.codes_scanned += part.codes_scanned, ss.rows_refined += part.rows_refined;
            ss.fast_scan_used = part.fast_scan_used, ss.rows_reranked += part.rows_reranked;
            pa_cli_progress("search: queries", q0 + bn, nq);
        }
        times[rep] = pa_cli_now() - t0;
        if (st == PA_OK && calls) {
            qsort(lat, calls, sizeof *lat, cmp_double);
            p50s[rep] = lat[calls / 2], p99s[rep] = lat[calls * 99 / 100];
        }
    }
    free(lat);
    pa_cli_progress_end();
    qsort(times, repeat, sizeof *times, cmp_double); /* the median pass */
    qsort(p50s, repeat, sizeof *p50s, cmp_double);
    qsort(p99s, repeat, sizeof *p99s, cmp_double);
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
        json_t *j = NULL;
        st = pa_json_pack(&j, "search --json", "{s:o, s:I, s:I, s:i, s:I, s:o, s:o, s:I}", "index",
                          pa_json_display_string(index), "queries", (json_int_t)nq, "k",
                          (json_int_t)k, "nprobes", (int)ss.nprobes_used, "refine_factor",
                          (json_int_t)rf, "seconds", pa_json_real_rounded(secs, 4), "qps",
                          pa_json_real_rounded(qps, 1), "codes_scanned",
                          (json_int_t)ss.codes_scanned);
        if (st == PA_OK && recall >= 0 &&
            json_object_set_new(j, "recall", pa_json_real_rounded(recall, 4)) != 0)
            st = PA_ERR_NOMEM;
        if (st == PA_OK &&
            (json_object_set_new(j, "batch", json_integer((json_int_t)batch)) != 0 ||
             json_object_set_new(j, "latency_p50_us",
                                 pa_json_real_rounded(p50s[repeat / 2] * 1e6, 1)) != 0 ||
             json_object_set_new(j, "latency_p99_us",
                                 pa_json_real_rounded(p99s[repeat / 2] * 1e6, 1)) != 0))
            st = PA_ERR_NOMEM;
        /* what the search held: its arrays for a call of --batch queries (the largest of the
         * segments', and their results for the merge), and with --memory each segment's cache
         * (summed) */
        uint64_t smem = 0, cache = 0, peak = 0, reads = 0;
        if (st == PA_OK)
            st = pa_index_search_segments_memory(xs, indexes.n, PA_CLI_MIN(batch, nq), &so, &smem);
        for (size_t i = 0; i < indexes.n && st == PA_OK; i++) {
            pa_index_info si = PA_INDEX_INFO_INIT;
            st = pa_index_get_info(xs[i], &si);
            cache += si.cache_bytes, peak += si.cache_peak_bytes, reads += si.cache_reads;
        }
        if (st == PA_OK &&
            json_object_set_new(j, "search_memory_bytes", json_integer((json_int_t)smem)) != 0)
            st = PA_ERR_NOMEM;
        if (st == PA_OK && memory &&
            (json_object_set_new(j, "memory_bytes", json_integer((json_int_t)memory)) != 0 ||
             json_object_set_new(j, "cache_bytes", json_integer((json_int_t)cache)) != 0 ||
             json_object_set_new(j, "cache_peak_bytes", json_integer((json_int_t)peak)) != 0 ||
             json_object_set_new(j, "cache_reads", json_integer((json_int_t)reads)) != 0))
            st = PA_ERR_NOMEM;
        if (st == PA_OK &&
            (json_object_set_new(j, "fast_scan", json_boolean(ss.fast_scan_used)) != 0 ||
             (ss.fast_scan_used &&
              (json_object_set_new(j, "rerank_factor", json_integer((json_int_t)rerank)) != 0 ||
               json_object_set_new(j, "rows_reranked",
                                   json_integer((json_int_t)ss.rows_reranked)) != 0))))
            st = PA_ERR_NOMEM;
        if ((st = pa_cli_json_print(st, &j)) != PA_OK)
            rc = pa_cli_fail("search", st);
    } else {
        printf("searched %" PRIu64 " queries (k %" PRIu64 ", nprobes %u, refine %" PRIu64, nq, k,
               ss.nprobes_used, rf);
        if (ss.fast_scan_used)
            printf(", fast scan, rerank %" PRIu64, rerank);
        printf(") in %.3f s: %.0f QPS", secs, qps);
        if (recall >= 0)
            printf(", recall@%" PRIu64 " %.4f", k, recall);
        if (pa_cli_given(opts, PA_CLI_NOPTS(opts), "batch"))
            printf(", batches of %" PRIu64 ": p50 %.1f us, p99 %.1f us", batch,
                   p50s[repeat / 2] * 1e6, p99s[repeat / 2] * 1e6);
        printf("\n");
    }
done:
    free(q), free(ids), free(dists), free(gt);
    pa_vec_input_free(in);
    for (size_t i = 0; i < indexes.n; i++)
        pa_index_free(xs[i]);
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
        PA_CLI_OPT_SKIP_INVALID(&skip),
        PA_CLI_OPT_COLUMN(&column),
        PA_CLI_OPT_VERSION(&version),
        PA_CLI_OPT_FORCE(&force),
        PA_CLI_OPT_JSON(&json),
        PA_CLI_STR("input", &input, "X", "the base vectors", .required = true),
        PA_CLI_STR("queries", &qpath, "Q", "the queries", .required = true),
        PA_CLI_NUM("k", &k, "K", "neighbours per query", .short_name = 'k', .min = 1, .max = 100000,
                   .field = "k"),
        PA_CLI_STR("out", &out, "G.ivecs|G.npy", "the neighbours' row ids to write",
                   .required = true),
        PA_CLI_METRIC_OPT("metric", &met, "l2|cosine|dot", "the distance", .field = "metric"),
    };
    pa_cli_parse("groundtruth", opts, PA_CLI_NOPTS(opts), NULL, argc, argv);
    int rc = 0;
    const char *inputs[] = {input, qpath};
    if ((rc = pa_cli_check_output("groundtruth", out, force, NULL, inputs, 2)))
        return rc;
    float *q = NULL;
    uint64_t nq = 0, *ids = NULL;
    uint32_t dim = 0;
    pa_vec_input *in = NULL;
    double t0 = pa_cli_now();
    pa_vec_input_options qio = {.struct_size = sizeof qio, .column = column};
    pa_status st = pa_vec_input_read_all(qpath, &qio, &q, &nq, &dim);
    pa_vec_input_options io = {.struct_size = sizeof io,
                               .skip_invalid = skip,
                               .column = column,
                               .version = version};
    if (st == PA_OK)
        st = pa_vec_input_open(&in, input, &io);
    size_t nres = 0; /* nq x k results: checked, nq comes from the file */
    if (st == PA_OK &&
        (__builtin_mul_overflow((size_t)(nq ? nq : 1), (size_t)k, &nres) ||
         nres > SIZE_MAX / sizeof(uint64_t) || !(ids = malloc(sizeof(uint64_t) * nres))))
        st = PA_ERR_NOMEM;
    if (st == PA_OK)
        st = pa_groundtruth(in, q, nq, dim, (uint32_t)k, met, ids, NULL);
    if (st == PA_OK)
        st = pa_ids_write_ex(out, ids, nq, (uint32_t)k, force);
    json_t *j = NULL;
    if (st == PA_OK && json)
        st = pa_cli_json_print(
            pa_json_pack(&j, "groundtruth --json", "{s:o, s:I, s:I, s:I, s:s, s:o, s:I}", "out",
                         pa_json_display_string(out), "queries", (json_int_t)nq, "k", (json_int_t)k,
                         "base_rows", (json_int_t)pa_vec_input_num_rows(in), "metric",
                         pa_metric_name(met), "seconds", PA_CLI_REAL3(pa_cli_now() - t0),
                         "skipped_invalid", (json_int_t)pa_vec_input_skipped(in)),
            &j);
    if (st != PA_OK)
        rc = pa_cli_fail("groundtruth", st);
    else if (!json)
        printf("wrote the exact %" PRIu64 " nearest neighbours (%s) of %" PRIu64 " queries among "
               "%" PRIu64 " rows to %s in %.2f s\n",
               k, pa_metric_name(met), nq, pa_vec_input_num_rows(in), out, pa_cli_now() - t0);
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
        PA_CLI_OPT_JSON(&json),
        PA_CLI_BYTES("memory", &memory, "SIZE", "open it within this budget, as search --memory",
                     .min = 1, .field = "memory_bytes"),
    };
    const char *pos = NULL;
    pa_cli_parse("index-info", opts, PA_CLI_NOPTS(opts), &pos, argc, argv);
    const char *dir = pos;
    pa_index *x = NULL;
    pa_index_open_options xo = {.struct_size = sizeof xo, .memory_bytes = memory};
    pa_status st = pa_index_open_ex(&x, dir, &xo);
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
    /* what a budget must hold: the fixed part and, with the largest partition, the least */
    uint64_t mem_fixed = 0, mem_min = 0;
    if ((st = pa_index_memory_estimate(dir, &mem_fixed, &mem_min)) != PA_OK) {
        pa_index_free(x);
        return pa_cli_fail("index-info", st);
    }
    /* what a search with search's defaults holds beside the budget: a call of its batch */
    pa_index_search_options so = PA_INDEX_SEARCH_OPTIONS_INIT;
    so.nprobes = PA_CLI_SEARCH_NPROBES;
    uint64_t smem = 0;
    if ((st = pa_index_search_memory(x, PA_CLI_SEARCH_BATCH, &so, &smem)) != PA_OK) {
        pa_index_free(x);
        return pa_cli_fail("index-info", st);
    }
    json_t *j = NULL;
    if (json) {
        st = pa_json_pack(&j, "index-info --json",
                          "{s:o, s:s, s:s, s:i, s:i, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
                          "s:I}",
                          "index", pa_json_display_string(dir), "type", "IVF_PQ", "metric",
                          pa_metric_name(in.metric), "dimension", (int)in.dimension, "partitions",
                          (int)in.num_partitions, "sub_vectors", (int)in.num_sub_vectors,
                          "num_bits", (int)in.num_bits, "rows", (json_int_t)in.num_rows, "bytes",
                          (json_int_t)in.bytes, "min_partition_rows", (json_int_t)minp,
                          "max_partition_rows", (json_int_t)in.max_partition_rows,
                          "empty_partitions", (json_int_t)empty, "memory_fixed_bytes",
                          (json_int_t)mem_fixed, "memory_min_bytes", (json_int_t)mem_min,
                          "search_memory_bytes", (json_int_t)smem);
        if (st == PA_OK && memory &&
            json_object_set_new(j, "cache_bytes", json_integer((json_int_t)in.cache_bytes)) != 0)
            st = PA_ERR_NOMEM;
        st = pa_cli_json_print(st, &j);
    } else {
        printf("%s: IVF_PQ index, metric %s, dimension %u, %u partitions, %u sub-vectors of %u "
               "bits\n  %" PRIu64 " rows; partitions hold %" PRIu64 " to %" PRIu64 " rows (%" PRIu64
               " empty); %" PRIu64 " bytes read\n  with a memory budget: %" PRIu64
               " bytes held whatever the budget, %" PRIu64 " bytes the least budget\n"
               "  a search call of %u queries (-k %u, --nprobes %u, the default threads) allocates "
               "%" PRIu64 " bytes beside the budget\n",
               dir, pa_metric_name(in.metric), in.dimension, in.num_partitions, in.num_sub_vectors,
               in.num_bits, in.num_rows, minp, in.max_partition_rows, empty, in.bytes, mem_fixed,
               mem_min, PA_CLI_SEARCH_BATCH, so.k, so.nprobes, smem);
        if (memory)
            printf("  opened within %" PRIu64 " bytes: %" PRIu64 " of them for the partition "
                   "cache\n",
                   memory, in.cache_bytes);
    }
    pa_index_free(x);
    return st == PA_OK ? 0 : pa_cli_fail("index-info", st);
}

/* partifact export-rows --artifact A --out FILE.lance [--shuffle SEED] */
int pa_cmd_export_rows(int argc, char **argv)
{
    const char *artifact = NULL, *out = NULL;
    uint64_t seed = 0;
    bool json = false, force = false;
    pa_cli_opt opts[] = {
        PA_CLI_OPT_FORCE(&force),
        PA_CLI_OPT_JSON(&json),
        PA_CLI_STR("artifact", &artifact, "A", "the partition artifact", .required = true),
        PA_CLI_STR("out", &out, "FILE.lance", "the Lance file to write", .required = true),
        PA_CLI_NUM("shuffle", &seed, "SEED", "shuffle the rows with this seed (> 0)",
                   .field = "shuffle_seed"),
    };
    pa_cli_parse("export-rows", opts, PA_CLI_NOPTS(opts), NULL, argc, argv);
    int rc = 0;
    const char *inputs[] = {artifact};
    if ((rc = pa_cli_check_output("export-rows", out, force, NULL, inputs, 1)))
        return rc;
    uint64_t rows = 0;
    double t0 = pa_cli_now();
    pa_status st = pa_artifact_export_rows_ex(artifact, out, seed, &rows, force);
    json_t *j = NULL;
    if (st == PA_OK && json)
        st = pa_cli_json_print(pa_json_pack(&j, "export-rows --json", "{s:o, s:I, s:b, s:o}", "out",
                                            pa_json_display_string(out), "rows", (json_int_t)rows,
                                            "shuffled", seed != 0, "seconds",
                                            PA_CLI_REAL3(pa_cli_now() - t0)),
                               &j);
    else if (st == PA_OK)
        printf("wrote %" PRIu64 " rows of %s to %s%s\n", rows, artifact, out,
               seed ? " (shuffled)" : "");
    return st == PA_OK ? 0 : pa_cli_fail("export-rows", st);
}
