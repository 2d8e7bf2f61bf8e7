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

/* What inspect measured, for its --json. */
typedef struct inspect_figures {
    uint64_t empty, min, median, max, max_ranges, read_rows, bytes_read;
    double mean, read_seconds;
    bool read;
} inspect_figures;

static pa_status stdout_sink(void *ctx, const void *data, size_t len)
{
    (void)ctx;
    return fwrite(data, 1, len, stdout) == len ? PA_OK : PA_ERR_IO;
}

/* The layout's name in --json (pa_artifact_info.layout). */
static const char *layout_name(int layout)
{
    static const char *const names[] = {"partifact", "foreign", "0.1"};
    return layout >= 0 && layout <= 2 ? names[layout] : "?";
}

/* inspect --json, streamed (--ranges lists every range of every partition). */
static pa_status print_json(const pa_artifact *a, const pa_artifact_info *in, const char *path,
                            const inspect_figures *f, bool ranges)
{
    static pa_json_stream stream; /* its 64 KiB buffer; one inspect per process */
    pa_json_stream *js = &stream;
    pa_json_stream_init(js, stdout_sink, NULL, "inspect --json");
    pa_json_stream_object(js, NULL);
    pa_json_stream_value(js, "path", pa_json_display_string(path));
    json_t *head = json_pack("{s:I, s:i, s:i, s:i, s:i, s:i, s:s, s:I, s:I, s:I}", "rows",
                             (json_int_t)in->total_rows, "partitions", (int)in->num_partitions,
                             "buckets", (int)in->num_buckets, "code_bytes", (int)in->code_bytes,
                             "num_bits", (int)in->num_bits, "dimension", (int)in->dimension,
                             "metric", pa_metric_name(in->metric), "bytes",
                             (json_int_t)in->total_bytes, "ranges", (json_int_t)in->num_ranges,
                             "empty_partitions", (json_int_t)f->empty);
    if (head)
        json_object_set_new(head, "layout", json_string(layout_name(in->layout)));
    const char *key;
    json_t *v;
    json_object_foreach(head, key, v) pa_json_stream_value(js, key, json_incref(v));
    json_decref(head);
    pa_json_stream_value(js, "partition_rows",
                         json_pack("{s:I, s:I, s:I, s:o, s:o}", "min", (json_int_t)f->min, "median",
                                   (json_int_t)f->median, "max", (json_int_t)f->max, "mean",
                                   pa_json_real_rounded(f->mean, 1), "skew",
                                   PA_CLI_REAL3(f->mean > 0 ? (double)f->max / f->mean : 0.0)));
    pa_json_stream_value(js, "max_ranges_per_partition", json_integer((json_int_t)f->max_ranges));
    pa_json_stream_array(js, "files");
    for (uint32_t i = 0; i < in->num_files; i++) {
        const char *fpath;
        uint64_t fr, fb;
        pa_artifact_file(a, i, &fpath, &fr, &fb);
        pa_json_stream_value(js, NULL,
                             json_pack("{s:o, s:I, s:I}", "path", pa_json_display_string(fpath),
                                       "rows", (json_int_t)fr, "bytes", (json_int_t)fb));
    }
    pa_json_stream_end(js);
    if (f->read)
        pa_json_stream_value(
            js, "read",
            json_pack("{s:I, s:I, s:I, s:o, s:o}", "rows", (json_int_t)f->read_rows, "bytes_read",
                      (json_int_t)f->bytes_read, "artifact_bytes", (json_int_t)in->total_bytes,
                      "ratio",
                      pa_json_real_rounded((double)f->bytes_read / (double)in->total_bytes, 4),
                      "seconds", PA_CLI_REAL3(f->read_seconds)));
    if (ranges) {
        pa_json_stream_array(js, "partition_ranges");
        for (uint32_t p = 0; p < in->num_partitions; p++) { /* one partition's ranges: few */
            uint32_t nr, file;
            uint64_t pr;
            pa_artifact_partition(a, p, &pr, &file, &nr);
            json_t *list = json_array();
            for (uint32_t r = 0; r < nr; r++) {
                uint64_t off, n;
                pa_artifact_range(a, p, r, &off, &n);
                json_array_append_new(list, json_pack("[I, I]", (json_int_t)off, (json_int_t)n));
            }
            /* list is consumed by the object (a short one: out of memory, the stream's failure) */
            json_t *part = NULL;
            if (json_array_size(list) == nr)
                part = json_pack("{s:i, s:i, s:I, s:o}", "id", (int)p, "file", (int)file, "rows",
                                 (json_int_t)pr, "ranges", list);
            else
                json_decref(list);
            pa_json_stream_value(js, NULL, part);
        }
        pa_json_stream_end(js);
    }
    pa_json_stream_end(js);
    pa_json_stream_raw(js, "\n");
    return pa_json_stream_finish(js);
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
    pa_artifact_info in = PA_ARTIFACT_INFO_INIT;
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
        if (st == PA_END)
            st = PA_OK;
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
    uint64_t pmin = rows[0], pmax = rows[in.num_partitions - 1], pmed = rows[in.num_partitions / 2];
    if (json) {
        /* in the order of inspect_figures' members */
        inspect_figures f = {empty,     pmin,       pmed, pmax,      max_ranges,
                             read_rows, bytes_read, mean, read_secs, read_all};
        st = print_json(a, &in, path, &f, ranges);
        if (st != PA_OK)
            goto done;
    } else {
        printf("%s: partition artifact\n", path);
        printf("  rows %" PRIu64 ", %u partitions in %u bucket files, %" PRIu64 " bytes\n",
               in.total_rows, in.num_partitions, in.num_files, in.total_bytes);
        if (in.dimension)
            printf("  codes: %u bytes (%u-bit), dimension %u, metric %s%s%s\n", in.code_bytes,
                   in.num_bits, in.dimension, pa_metric_name(in.metric), in.model ? ", model " : "",
                   in.model ? in.model : "");
        else /* another program's artifact without a metadata_file */
            printf("  codes: %u bytes; no metadata_file, so no model parameters\n", in.code_bytes);
        if (in.layout != PA_ARTIFACT_LAYOUT_PARTIFACT)
            printf("  layout: %s\n", in.layout == PA_ARTIFACT_LAYOUT_V01
                                         ? "partifact 0.1 (read only)"
                                         : "Lance's partition artifact without partifact's extras "
                                           "(structure only)");
        printf("  partition rows: min %" PRIu64 ", median %" PRIu64 ", max %" PRIu64
               ", mean %.1f (max/mean %.2f), %" PRIu64 " empty\n",
               pmin, pmed, pmax, mean, mean > 0 ? (double)pmax / mean : 0.0, empty);
        printf("  ranges: %" PRIu64 " in all, %.2f per partition on average, at most %" PRIu64 "\n",
               in.num_ranges, (double)in.num_ranges / in.num_partitions, max_ranges);
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
    pa_artifact_verify_report rep = PA_ARTIFACT_VERIFY_REPORT_INIT;
    pa_status st = pa_artifact_open(&a, pos);
    if (st == PA_OK)
        st = pa_artifact_verify(a, &rep);
    if (st != PA_OK) {
        rc = pa_cli_fail("verify", st);
        goto done;
    }
    pa_artifact_info in = PA_ARTIFACT_INFO_INIT;
    pa_artifact_get_info(a, &in);
    double secs = pa_cli_now() - t0;
    json_t *j = NULL;
    const char *layout = layout_name(in.layout);
    if (json &&
        (st = pa_cli_json_print(
             pa_json_pack(&j, "verify --json", "{s:b, s:I, s:i, s:I, s:I, s:I, s:o, s:s, s:b}",
                          "ok", 1, "rows", (json_int_t)rep.rows_checked, "partitions",
                          (int)in.num_partitions, "files", (json_int_t)rep.files_checked, "ranges",
                          (json_int_t)rep.ranges_checked, "bytes_hashed",
                          (json_int_t)rep.bytes_hashed, "seconds", PA_CLI_REAL3(secs), "layout",
                          layout, "structural_only", rep.structural_only != 0),
             &j)) != PA_OK)
        rc = pa_cli_fail("verify", st);
    else if (!json && rep.structural_only)
        printf("%s: OK, structure only (no partifact extras in the manifest: no file hashes, "
               "range checksums or model identity to check against): %" PRIu64
               " rows in %u partitions, %" PRIu64 " ranges, %" PRIu64 " files in %.2f s\n",
               pos, rep.rows_checked, in.num_partitions, rep.ranges_checked, rep.files_checked,
               secs);
    else if (!json)
        printf("%s: OK: %" PRIu64 " rows in %u partitions, %" PRIu64 " ranges, %" PRIu64
               " files (%" PRIu64 " bytes hashed) in %.2f s%s\n",
               pos, rep.rows_checked, in.num_partitions, rep.ranges_checked, rep.files_checked,
               rep.bytes_hashed, secs, in.layout == PA_ARTIFACT_LAYOUT_V01 ? " (0.1 layout)" : "");
done:
    pa_artifact_free(a);
    return rc;
}
