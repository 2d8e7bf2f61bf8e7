/* partifact inspect / verify / artifact-gen: look at, check, and synthesise partition artifacts. */
#include "tools/cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* partifact inspect ARTIFACT [--ranges] [--json]: sizes, skew, ranges per partition. */
int pa_cmd_inspect(int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, 0, 'j'},
                                         {"ranges", no_argument, 0, 'r'},
                                         {"read", no_argument, 0, 'R'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    bool json = false, ranges = false, read_all = false;
    int c;
    while ((c = getopt_long(argc, argv, "jrRh", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = true; break;
        case 'r': ranges = true; break;
        case 'R': read_all = true; break;
        case 'h':
            printf("usage: partifact inspect ARTIFACT [--ranges] [--read] [--json]\n"
                   "Prints an artifact's parameters, rows, partition size skew, ranges per\n"
                   "partition and files; --ranges lists every partition's (offset, rows) ranges;\n"
                   "--read reads every partition back (as a finalizer does, with read-ahead) and\n"
                   "reports the bytes read against the artifact's size.\n");
            return 0;
        default: return PA_CLI_EXIT_FAIL;
        }
    }
    if (optind != argc - 1)
        return pa_cli_error("inspect", "expected one artifact directory (see --help)");
    pa_artifact *a;
    pa_status st = pa_artifact_open(&a, argv[optind]);
    if (st != PA_OK)
        return pa_cli_fail("inspect", st);
    pa_artifact_info in = PA_ARTIFACT_INFO_INIT;
    pa_artifact_get_info(a, &in);
    uint64_t *rows = malloc((size_t)in.num_partitions * 8);
    uint64_t max_ranges = 0, empty = 0;
    if (!rows) {
        pa_artifact_free(a);
        return pa_cli_error("inspect", "out of memory");
    }
    for (uint32_t p = 0; p < in.num_partitions; p++) {
        uint32_t nr;
        pa_artifact_partition(a, p, &rows[p], NULL, &nr);
        if (nr > max_ranges)
            max_ranges = nr;
        empty += rows[p] == 0;
    }
    qsort(rows, in.num_partitions, 8, cmp_u64);
    double read_secs = 0;
    uint64_t read_rows = 0;
    if (read_all) {
        double t0 = pa_cli_now();
        pa_artifact_scan *s = NULL;
        st = pa_artifact_scan_create(&s, a, 64u << 20, 2);
        while (st == PA_OK) {
            uint32_t p;
            const uint64_t *ids;
            const uint8_t *codes;
            uint64_t n;
            st = pa_artifact_scan_next(s, &p, &ids, &codes, &n);
            if (st == PA_OK) {
                read_rows += n;
                pa_cli_progress("inspect: partitions read", p + 1, in.num_partitions);
            }
        }
        if (st == PA_END)
            st = PA_OK;
        pa_cli_progress_end();
        /* stops the reader threads, which use the artifact, also after a failed read */
        pa_artifact_scan_free(s);
        if (st != PA_OK) {
            free(rows);
            int rc = pa_cli_fail("inspect", st);
            pa_artifact_free(a);
            return rc;
        }
        read_secs = pa_cli_now() - t0;
    }
    uint64_t bytes_read = pa_artifact_bytes_read(a);
    double mean = (double)in.total_rows / in.num_partitions;
    uint64_t pmin = rows[0], pmax = rows[in.num_partitions - 1],
             pmed = rows[in.num_partitions / 2];
    free(rows);
    if (json) {
        printf("{\"path\":");
        pa_cli_json_string(stdout, argv[optind]);
        printf(",\"rows\":%" PRIu64 ",\"partitions\":%u,\"buckets\":%u,\"code_bytes\":%u,"
               "\"num_bits\":%u,\"dimension\":%u,\"metric\":\"%s\",\"bytes\":%" PRIu64
               ",\"ranges\":%" PRIu64 ",\"empty_partitions\":%" PRIu64
               ",\"partition_rows\":{\"min\":%" PRIu64 ",\"median\":%" PRIu64 ",\"max\":%" PRIu64
               ",\"mean\":%.1f,\"skew\":%.3f},\"max_ranges_per_partition\":%" PRIu64,
               in.total_rows, in.num_partitions, in.num_buckets, in.code_bytes, in.num_bits,
               in.dimension, pa_metric_name(in.metric), in.total_bytes, in.num_ranges, empty, pmin, pmed, pmax,
               mean, mean > 0 ? (double)pmax / mean : 0.0, max_ranges);
        printf(",\"files\":[");
        for (uint32_t f = 0; f < in.num_files; f++) {
            const char *path;
            uint64_t fr, fb;
            pa_artifact_file(a, f, &path, &fr, &fb);
            printf("%s{\"path\":\"%s\",\"rows\":%" PRIu64 ",\"bytes\":%" PRIu64 "}", f ? "," : "",
                   path, fr, fb);
        }
        printf("]");
        if (read_all)
            printf(",\"read\":{\"rows\":%" PRIu64 ",\"bytes_read\":%" PRIu64
                   ",\"artifact_bytes\":%" PRIu64 ",\"ratio\":%.4f,\"seconds\":%.3f}",
                   read_rows, bytes_read, in.total_bytes,
                   (double)bytes_read / (double)in.total_bytes, read_secs);
        if (ranges) {
            printf(",\"partition_ranges\":[");
            for (uint32_t p = 0; p < in.num_partitions; p++) {
                uint32_t nr, file;
                uint64_t pr;
                pa_artifact_partition(a, p, &pr, &file, &nr);
                printf("%s{\"id\":%u,\"file\":%u,\"rows\":%" PRIu64 ",\"ranges\":[", p ? "," : "",
                       p, file, pr);
                for (uint32_t r = 0; r < nr; r++) {
                    uint64_t off, n;
                    pa_artifact_range(a, p, r, &off, &n);
                    printf("%s[%" PRIu64 ",%" PRIu64 "]", r ? "," : "", off, n);
                }
                printf("]}");
            }
            printf("]");
        }
        printf("}\n");
    } else {
        printf("%s: partition artifact\n", argv[optind]);
        printf("  rows %" PRIu64 ", %u partitions in %u bucket files, %" PRIu64 " bytes\n",
               in.total_rows, in.num_partitions, in.num_buckets, in.total_bytes);
        printf("  codes: %u bytes (%u-bit), dimension %u, metric %s%s%s\n", in.code_bytes,
               in.num_bits, in.dimension, pa_metric_name(in.metric), in.model ? ", model " : "",
               in.model ? in.model : "");
        printf("  partition rows: min %" PRIu64 ", median %" PRIu64 ", max %" PRIu64
               ", mean %.1f (max/mean %.2f), %" PRIu64 " empty\n",
               pmin, pmed, pmax, mean, mean > 0 ? (double)pmax / mean : 0.0, empty);
        printf("  ranges: %" PRIu64 " in all, %.2f per partition on average, at most %" PRIu64
               "\n", in.num_ranges, (double)in.num_ranges / in.num_partitions, max_ranges);
        if (read_all)
            printf("  read back: %" PRIu64 " rows, %" PRIu64 " bytes read of %" PRIu64
                   " artifact bytes (%.3f) in %.2f s (%.0f MB/s)\n",
                   read_rows, bytes_read, in.total_bytes, (double)bytes_read / in.total_bytes,
                   read_secs, (double)bytes_read / 1e6 / read_secs);
        for (uint32_t p = 0; ranges && p < in.num_partitions; p++) {
            uint32_t nr, file;
            uint64_t pr;
            pa_artifact_partition(a, p, &pr, &file, &nr);
            printf("  partition %u: %" PRIu64 " rows in file %u:", p, pr, file);
            for (uint32_t r = 0; r < nr; r++) {
                uint64_t off, n;
                pa_artifact_range(a, p, r, &off, &n);
                printf(" {%" PRIu64 ", %" PRIu64 "}", off, n);
            }
            printf("\n");
        }
    }
    pa_artifact_free(a);
    return 0;
}

/* partifact verify ARTIFACT [--json]: checksums, coverage, part ids, totals. */
int pa_cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = true; break;
        case 'h':
            printf("usage: partifact verify ARTIFACT [--json]\n"
                   "Checks every bucket file's XXH64, that every row lies in exactly one range,\n"
                   "that ranges lie inside their files without overlapping, that every row of a\n"
                   "range carries the range's part_id, and the totals. Exit 0 if all hold, 2 if\n"
                   "not (or if the artifact is incomplete).\n");
            return 0;
        default: return PA_CLI_EXIT_FAIL;
        }
    }
    if (optind != argc - 1)
        return pa_cli_error("verify", "expected one artifact directory (see --help)");
    double t0 = pa_cli_now();
    pa_artifact *a;
    pa_status st = pa_artifact_open(&a, argv[optind]);
    if (st != PA_OK)
        return pa_cli_fail("verify", st);
    pa_artifact_verify_report rep = PA_ARTIFACT_VERIFY_REPORT_INIT;
    st = pa_artifact_verify(a, &rep);
    if (st != PA_OK) {
        int rc = pa_cli_fail("verify", st);
        pa_artifact_free(a);
        return rc;
    }
    pa_artifact_info in = PA_ARTIFACT_INFO_INIT;
    pa_artifact_get_info(a, &in);
    double secs = pa_cli_now() - t0;
    if (json)
        printf("{\"ok\":true,\"rows\":%" PRIu64 ",\"partitions\":%u,\"files\":%" PRIu64
               ",\"ranges\":%" PRIu64 ",\"bytes_hashed\":%" PRIu64 ",\"seconds\":%.3f}\n",
               rep.rows_checked, in.num_partitions, rep.files_checked, rep.ranges_checked,
               rep.bytes_hashed, secs);
    else
        printf("%s: OK: %" PRIu64 " rows in %u partitions, %" PRIu64 " ranges, %" PRIu64
               " files (%" PRIu64 " bytes hashed) in %.2f s\n",
               argv[optind], rep.rows_checked, in.num_partitions, rep.ranges_checked,
               rep.files_checked, rep.bytes_hashed, secs);
    pa_artifact_free(a);
    return 0;
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* partifact artifact-gen: streams synthetic (row_id, part_id, code) rows into an artifact. */
int pa_cmd_artifact_gen(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},        {"rows", required_argument, 0, 'n'},
        {"partitions", required_argument, 0, 'p'}, {"sub-vectors", required_argument, 0, 'm'},
        {"buckets", required_argument, 0, 'b'},    {"memory", required_argument, 0, 'M'},
        {"skewed", no_argument, 0, 's'},           {"seed", required_argument, 0, 'S'},
        {"model", required_argument, 0, 'L'},      {"buffer-rows", required_argument, 0, 'B'},
        {"json", no_argument, 0, 'j'},             {"help", no_argument, 0, 'h'},
        {"force", no_argument, 0, 'F'},            {0, 0, 0, 0}};
    const char *out = NULL, *model = NULL;
    uint64_t rows = 1000000, parts = 256, m = 16, buckets = 0, memory = PA_DEFAULT_MEMORY_BYTES, seed = 1,
             buffer_rows = 0;
    bool skewed = false, json = false, force = false;
    int c;
    while ((c = getopt_long(argc, argv, "o:n:p:m:b:M:sS:L:B:jhF", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'o': out = optarg; break;
        case 'n': ok = pa_cli_parse_count(optarg, &rows); break;
        case 'p': ok = pa_cli_parse_count(optarg, &parts) && parts > 0 && parts <= PA_MAX_ARTIFACT_PARTITIONS; break;
        case 'm': ok = pa_cli_parse_count(optarg, &m) && m > 0 && m <= 4096; break;
        case 'b': ok = pa_cli_parse_count(optarg, &buckets) && buckets <= PA_MAX_BUCKETS; break;
        case 'M': ok = pa_cli_parse_size(optarg, &memory); break;
        case 's': skewed = true; break;
        case 'S': ok = pa_cli_parse_count(optarg, &seed); break;
        case 'L': model = optarg; break;
        case 'B': ok = pa_cli_parse_count(optarg, &buffer_rows) && buffer_rows > 0; break;
        case 'F': force = true; break;
        case 'j': json = true; break;
        case 'h':
            printf("usage: partifact artifact-gen --out ARTIFACT [--rows N] [--partitions P]\n"
                   "         [--sub-vectors M] [--buckets B] [--memory 256MiB] [--skewed]\n"
                   "         [--seed S] [--model MODEL.lance] [--buffer-rows N] [--force]\n"
                   "         [--json]\n"
                   "Streams synthetic rows (row_id = ordinal, random part_id, random M-byte code)\n"
                   "into an artifact: a producer for tests and benchmarks of the writer. The\n"
                   "artifact is written in a new directory beside ARTIFACT and renamed into\n"
                   "place when complete.\n"
                   "--model records MODEL (its XXH64) as the model the codes were made with, so\n"
                   "that finalize accepts the artifact with it. --buffer-rows caps the writer's\n"
                   "bucket buffers (at least 256 rows), for artifacts of many small ranges.\n"
                   PA_CLI_FORCE_HELP);
            return 0;
        default: return PA_CLI_EXIT_FAIL;
        }
        if (!ok)
            return pa_cli_error("artifact-gen", "\"%s\" is not a valid value for --%s (see --help)",
                                optarg, pa_cli_opt_name(opts, c));
    }
    if (!out)
        return pa_cli_error("artifact-gen", "--out is required (see --help)");
    pa_artifact_params prm = {.struct_size = sizeof prm,
                              .num_partitions = (uint32_t)parts,
                              .num_buckets = (uint32_t)buckets,
                              .code_bytes = (uint32_t)m,
                              .dimension = (uint32_t)(m * 8),
                              .metric = PA_METRIC_L2,
                              .model = model,
                              .max_buffer_rows = buffer_rows,
                              .memory_bytes = memory,
                              .expected_rows = rows,
                              .replace = force};
    double t0 = pa_cli_now();
    pa_artifact_writer *w;
    pa_status st = pa_artifact_writer_create(&w, out, &prm);
    if (st != PA_OK)
        return pa_cli_fail("artifact-gen", st);
    const size_t batch = 65536;
    uint64_t *ids = malloc(batch * 8);
    uint32_t *pid = malloc(batch * 4);
    uint8_t *codes = malloc(batch * m);
    if (!ids || !pid || !codes) {
        pa_artifact_writer_free(w);
        free(ids), free(pid), free(codes);
        return pa_cli_error("artifact-gen", "out of memory");
    }
    uint64_t s = seed;
    for (uint64_t done = 0; done < rows && st == PA_OK;) {
        size_t n = (size_t)PA_CLI_MIN(batch, rows - done);
        for (size_t i = 0; i < n; i++) {
            uint64_t r = splitmix(&s);
            ids[i] = done + i;
            /* skewed: a quarter of the rows in partition 0, the rest uniform */
            pid[i] = skewed && (r & 3) == 0 ? 0 : (uint32_t)((r >> 2) % parts);
        }
        for (size_t i = 0; i < n * m; i += 8) {
            uint64_t r = splitmix(&s);
            memcpy(codes + i, &r, PA_CLI_MIN(8, n * m - i));
        }
        st = pa_artifact_writer_append(w, ids, n, pid, n, codes, n * m);
        done += n;
        pa_cli_progress("artifact-gen: rows", done, rows);
    }
    pa_cli_progress_end();
    free(ids), free(pid), free(codes);
    if (st == PA_OK)
        st = pa_artifact_writer_finish(w);
    if (st != PA_OK) {
        int rc = pa_cli_fail("artifact-gen", st);
        pa_artifact_writer_free(w);
        return rc;
    }
    pa_artifact_write_stats ws = PA_ARTIFACT_WRITE_STATS_INIT;
    pa_artifact_writer_stats(w, &ws);
    pa_artifact_writer_free(w);
    double secs = pa_cli_now() - t0;
    if (json)
        printf("{\"path\":\"%s\",\"rows\":%" PRIu64 ",\"partitions\":%" PRIu64
               ",\"bytes\":%" PRIu64 ",\"flushes\":%" PRIu64 ",\"ranges\":%" PRIu64
               ",\"buffer_bytes\":%" PRIu64 ",\"seconds\":%.3f,\"mb_per_s\":%.1f}\n",
               out, ws.rows, parts, ws.bytes_written, ws.flushes, ws.ranges, ws.buffer_bytes, secs,
               (double)ws.bytes_written / 1e6 / secs);
    else
        printf("wrote %s: %" PRIu64 " rows, %" PRIu64 " bytes, %" PRIu64 " flushes, %" PRIu64
               " ranges in %.2f s (%.1f MB/s)\n",
               out, ws.rows, ws.bytes_written, ws.flushes, ws.ranges, secs,
               (double)ws.bytes_written / 1e6 / secs);
    return 0;
}
