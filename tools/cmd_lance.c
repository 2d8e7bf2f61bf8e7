/* partifact lance-info: look inside Lance files and datasets. */
#include "tools/cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* --check: decodes every row of every column (nulls allowed); the first column that cannot be
 * read fails with its message. */
static pa_status check_columns(pa_lance_reader *r)
{
    enum { CHECK_BATCH_ROWS = 4096 };
    pa_status st = PA_OK;
    uint64_t n = pa_lance_reader_num_rows(r);
    uint8_t valid[CHECK_BATCH_ROWS];
    for (size_t i = 0; st == PA_OK && i < pa_lance_reader_num_fields(r); i++) {
        size_t rb = pa_lance_reader_row_bytes(r, i);
        pa_field f;
        pa_lance_reader_field(r, i, &f);
        if (f.type == PA_TYPE_LIST_FLOAT32 || f.type == PA_TYPE_LIST_FSL_FLOAT32) {
            uint64_t *offsets = malloc((CHECK_BATCH_ROWS + 1) * sizeof *offsets);
            for (uint64_t at = 0; offsets && st == PA_OK && at < n; at += CHECK_BATCH_ROWS) {
                void *items = NULL;
                st = pa_lance_reader_read_list(r, i, at,
                                               n - at < CHECK_BATCH_ROWS ? n - at
                                                                         : CHECK_BATCH_ROWS,
                                               offsets, &items);
                free(items);
            }
            if (!offsets)
                st = pa_fail(PA_ERR_NOMEM, "out of memory reading column %zu", i);
            free(offsets);
            continue;
        }
        uint8_t *buf = rb ? malloc(rb * CHECK_BATCH_ROWS) : NULL;
        if (rb && !buf)
            st = pa_fail(PA_ERR_NOMEM, "out of memory reading column %zu", i);
        else if (!rb) /* no fixed width: the read names why it cannot be read */
            st = pa_lance_reader_read_valid(r, i, 0, 0, valid, valid);
        for (uint64_t at = 0; rb && st == PA_OK && at < n; at += CHECK_BATCH_ROWS)
            st = pa_lance_reader_read_valid(r, i, at,
                                            n - at < CHECK_BATCH_ROWS ? n - at : CHECK_BATCH_ROWS,
                                            buf, valid);
        free(buf);
    }
    return st;
}

/* Prints a Lance file's schema, metadata keys and pages, as text or JSON. */
static int info_file(const char *path, bool json, bool pages, bool check)
{
    pa_lance_reader *r = NULL;
    int rc = 0;
    pa_status st = pa_lance_reader_open(&r, path);
    if (st == PA_OK && check)
        st = check_columns(r);
    if (st != PA_OK) {
        rc = pa_cli_fail("lance-info", st);
        goto done;
    }
    size_t nf = pa_lance_reader_num_fields(r);
    json_t *doc = NULL, *cols = json_array(), *keys = json_array();
    if (json) {
        st = pa_json_pack(&doc, "lance-info --json", "{s:o, s:I, s:O, s:O}", "path",
                          pa_json_display_string(path), "rows",
                          (json_int_t)pa_lance_reader_num_rows(r), "columns", cols, "metadata_keys",
                          keys);
    } else {
        unsigned major, minor;
        pa_lance_reader_version(r, &major, &minor);
        printf("%s: Lance file (format %u.%u), %llu rows, %zu columns, %u global buffers\n", path,
               major, minor, (unsigned long long)pa_lance_reader_num_rows(r), nf,
               pa_lance_reader_num_global_buffers(r));
    }
    for (size_t i = 0; i < nf; i++) {
        pa_field f;
        char tname[64];
        pa_lance_reader_field(r, i, &f);
        if (!f.type || pa_type_name(f.type, f.dim, tname, sizeof tname) != PA_OK)
            snprintf(tname, sizeof tname, "%s", pa_lance_reader_logical_type(r, i));
        const char *problem = pa_lance_reader_column_problem(r, i);
        size_t np = pa_lance_reader_num_pages(r, i);
        uint64_t bytes = 0;
        size_t minib = 0, fullzip = 0;
        for (size_t p = 0; p < np; p++) {
            pa_lance_page_info pi;
            pa_lance_reader_page(r, i, p, &pi);
            bytes += pi.bytes;
            minib += pi.layout[0] == 'm';
            fullzip += pi.layout[0] == 'f';
        }
        if (json) {
            json_t *c = json_pack("{s:o, s:s, s:I, s:I}", "name", pa_json_display_string(f.name),
                                  "type", tname, "pages", (json_int_t)np, "bytes",
                                  (json_int_t)bytes);
            if (c && problem)
                json_object_set_new(c, "not_decodable", pa_json_display_string(problem));
            json_array_append_new(cols, c);
        } else if (problem) {
            printf("  %-16s %-28s not decodable: %s\n", f.name, tname, problem);
        } else {
            printf("  %-16s %-28s %6zu pages (%zu mini-block, %zu full-zip, %zu other), %llu "
                   "bytes\n",
                   f.name, tname, np, minib, fullzip, np - minib - fullzip,
                   (unsigned long long)bytes);
            for (size_t p = 0; pages && p < np; p++) {
                pa_lance_page_info pi;
                pa_lance_reader_page(r, i, p, &pi);
                printf("    page %zu: rows [%llu, %llu) %s/%s at byte %llu, %llu bytes\n", p,
                       (unsigned long long)pi.first_row,
                       (unsigned long long)(pi.first_row + pi.num_rows), pi.layout, pi.encoding,
                       (unsigned long long)pi.offset, (unsigned long long)pi.bytes);
            }
        }
    }
    size_t nm = pa_lance_reader_num_metadata(r);
    for (size_t i = 0; i < nm; i++) {
        const char *k;
        const void *v;
        size_t len;
        pa_lance_reader_metadata_at(r, i, &k, &v, &len);
        if (json)
            json_array_append_new(keys, pa_json_display_string(k));
        else
            printf("  metadata %s: %zu bytes\n", k, len);
    }
    if (json) {
        /* a failed append left the array short: refused as out of memory, never printed short */
        st = json_array_size(cols) == nf && json_array_size(keys) == nm ? st : PA_ERR_NOMEM;
        if ((st = pa_cli_json_print(st, &doc)) != PA_OK)
            rc = pa_cli_fail("lance-info", st);
    }
    json_decref(cols);
    json_decref(keys);
done:
    pa_lance_reader_free(r);
    return rc;
}

/* Prints a Lance dataset's version, schema and fragments, as text or JSON. */
static int info_dataset(const char *path, bool json)
{
    pa_dataset *ds;
    pa_status st = pa_dataset_open(&ds, path);
    if (st != PA_OK)
        return pa_cli_fail("lance-info", st);
    size_t nf = pa_dataset_num_fields(ds), nfr = pa_dataset_num_fragments(ds);
    json_t *doc = NULL, *cols = json_array();
    if (json) {
        st = pa_json_pack(&doc, "lance-info --json", "{s:o, s:b, s:I, s:I, s:I, s:O}", "path",
                          pa_json_display_string(path), "dataset", 1, "version",
                          (json_int_t)pa_dataset_version(ds), "rows",
                          (json_int_t)pa_dataset_num_rows(ds), "fragments", (json_int_t)nfr,
                          "columns", cols);
    } else {
        printf("%s: Lance dataset, version %llu, %llu rows in %zu fragments, %zu columns\n", path,
               (unsigned long long)pa_dataset_version(ds),
               (unsigned long long)pa_dataset_num_rows(ds), nfr, nf);
    }
    for (size_t i = 0; i < nf; i++) {
        pa_field f;
        char tname[64];
        pa_dataset_field(ds, i, &f);
        pa_type_name(f.type, f.dim, tname, sizeof tname);
        if (f.type == PA_TYPE_OTHER) /* a type partifact does not read: as the table names it */
            snprintf(tname, sizeof tname, "%s", pa_dataset_field_type(ds, i));
        if (json)
            json_array_append_new(cols, json_pack("{s:o, s:s}", "name",
                                                  pa_json_display_string(f.name), "type", tname));
        else
            printf("  %-16s %s\n", f.name, tname);
    }
    if (json)
        st = pa_cli_json_print(json_array_size(cols) == nf ? st : PA_ERR_NOMEM, &doc);
    json_decref(cols);
    for (size_t i = 0; !json && i < nfr; i++) {
        uint64_t id, rows;
        pa_dataset_fragment(ds, i, &id, &rows);
        uint64_t del = pa_dataset_fragment_deleted(ds, i);
        printf("  fragment %llu: %llu rows", (unsigned long long)id, (unsigned long long)rows);
        if (del)
            printf(" (%llu deleted)", (unsigned long long)del);
        printf("\n");
    }
    pa_dataset_free(ds);
    return st == PA_OK ? 0 : pa_cli_fail("lance-info", st);
}

/* partifact lance-info PATH [--pages] [--json] [--check] */
int pa_cmd_lance_info(int argc, char **argv)
{
    const char *pos = NULL;
    bool json = false, pages = false, check = false;
    pa_cli_opt opts[] = {PA_CLI_OPT_JSON(&json), PA_CLI_FLAG("pages", &pages, "list every page"),
                         PA_CLI_FLAG("check", &check, "decode every row of every column")};
    pa_cli_parse("lance-info", opts, PA_CLI_NOPTS(opts), &pos, argc, argv);
    struct stat sb;
    if (stat(pos, &sb) == 0 && S_ISDIR(sb.st_mode))
        return info_dataset(pos, json);
    return info_file(pos, json, pages, check);
}
