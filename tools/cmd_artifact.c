/* partifact inspect / verify: look at and check partition artifacts. */
#include "tools/cli.h"

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
    bool json = false, ranges = false, read_all = false;
    pa_cli_opt opts[] = {
        PA_CLI_OPT_JSON(&json),
        PA_CLI_FLAG("ranges", &ranges, "list every partition's (offset, rows) ranges"),
        PA_CLI_FLAG("read", &read_all, "read every partition back and report the bytes read"),
    };
    const char *pos = NULL;
    pa_cli_parse("inspect", opts, PA_CLI_NOPTS(opts), &pos, argc, argv);
    int rc = 0;
    const char *path = pos;
    pa_artifact *a = NULL;
    pa_artifact_scan *s = NULL;
    uint64_t *rows = NULL;
    pa_status st = pa_artifact_open(&a, path);
    if (st != PA_OK)
        goto done;
    pa_artifact_info in;
    pa_artifact_get_info(a, &in);
    uint64_t max_ranges = 0, empty = 0;
    if (!(rows = malloc((size_t)in.num_partitions * 8))) {
        rc = pa_cli_errorf(PA_CLI_EXIT_RUNTIME, "inspect", "out of memory");
        goto done;
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
        st = pa_artifact_scan_create(&s, a, 64u << 20, 2);
        int end = 0;
        while (st == PA_OK && !end) {
            uint32_t p;
            const uint64_t *ids;
            const uint8_t *codes;
            uint64_t n;
            st = pa_artifact_scan_next(s, &p, &ids, &codes, &n, &end);
            if (st == PA_OK && !end) {
                read_rows += n;
                pa_cli_progress("inspect: partitions read", p + 1, in.num_partitions);
            }
        }
        pa_cli_progress_end();
        /* stops the reader threads, which use the artifact, also after a failed read */
        pa_artifact_scan_free(s);
        s = NULL;
        if (st != PA_OK)
            goto done;
        read_secs = pa_cli_now() - t0;
    }
    uint64_t bytes_read = pa_artifact_bytes_read(a);
    double mean = (double)in.total_rows / in.num_partitions;
    uint64_t pmin = rows[0], pmax = rows[in.num_partitions - 1],
             pmed = rows[in.num_partitions / 2];
    if (json) {
        printf("{\"path\":");
        pa_cli_json_string(stdout, path);
        printf(",\"rows\":%" PRIu64 ",\"partitions\":%u,\"buckets\":%u,\"code_bytes\":%u,"
               "\"num_bits\":%u,\"dimension\":%u,\"metric\":\"%s\",\"bytes\":%" PRIu64
               ",\"ranges\":%" PRIu64 ",\"empty_partitions\":%" PRIu64
               ",\"partition_rows\":{\"min\":%" PRIu64 ",\"median\":%" PRIu64 ",\"max\":%" PRIu64
               ",\"mean\":%.1f,\"skew\":%.3f},\"max_ranges_per_partition\":%" PRIu64,
               in.total_rows, in.num_partitions, in.num_buckets, in.code_bytes, in.num_bits,
               in.dimension, in.metric, in.total_bytes, in.num_ranges, empty, pmin, pmed, pmax,
               mean, mean > 0 ? (double)pmax / mean : 0.0, max_ranges);
        printf(",\"files\":[");
        for (uint32_t f = 0; f < in.num_files; f++) {
            const char *fpath;
            uint64_t fr, fb;
            pa_artifact_file(a, f, &fpath, &fr, &fb);
            printf("%s{\"path\":", f ? "," : "");
            pa_cli_json_string(stdout, fpath);
            printf(",\"rows\":%" PRIu64 ",\"bytes\":%" PRIu64 "}", fr, fb);
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
        printf("%s: partition artifact\n", path);
        printf("  rows %" PRIu64 ", %u partitions in %u bucket files, %" PRIu64 " bytes\n",
               in.total_rows, in.num_partitions, in.num_buckets, in.total_bytes);
        printf("  codes: %u bytes (%u-bit), dimension %u, metric %s%s%s\n", in.code_bytes,
               in.num_bits, in.dimension, in.metric, in.model ? ", model " : "",
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
done:
    if (st != PA_OK)
        rc = pa_cli_fail("inspect", st);
    pa_artifact_scan_free(s); /* before the artifact its threads read */
    free(rows);
    pa_artifact_free(a);
    return rc;
}

/* partifact verify ARTIFACT [--json]: checksums, coverage, part ids, totals. */
int pa_cmd_verify(int argc, char **argv)
{
    bool json = false;
    pa_cli_opt opts[] = {PA_CLI_OPT_JSON(&json)};
    const char *pos = NULL;
    pa_cli_parse("verify", opts, PA_CLI_NOPTS(opts), &pos, argc, argv);
    int rc = 0;
    double t0 = pa_cli_now();
    pa_artifact *a = NULL;
    pa_artifact_verify_report rep;
    pa_status st = pa_artifact_open(&a, pos);
    if (st == PA_OK)
        st = pa_artifact_verify(a, &rep);
    if (st != PA_OK) {
        rc = pa_cli_fail("verify", st);
        goto done;
    }
    pa_artifact_info in;
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
               pos, rep.rows_checked, in.num_partitions, rep.ranges_checked,
               rep.files_checked, rep.bytes_hashed, secs);
done:
    pa_artifact_free(a);
    return rc;
}
