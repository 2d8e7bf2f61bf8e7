/* partifact lance-info / lance-gen: look inside Lance files, and write generated ones. */
#include "tools/cli.h"

#include <getopt.h>
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
        uint8_t *buf = rb ? malloc(rb * CHECK_BATCH_ROWS) : NULL;
        if (rb && !buf)
            return PA_ERR_NOMEM;
        if (!rb) /* no fixed width: the read names why it cannot be read */
            st = pa_lance_reader_read_valid(r, i, 0, 0, valid, valid);
        for (uint64_t at = 0; rb && st == PA_OK && at < n; at += CHECK_BATCH_ROWS)
            st = pa_lance_reader_read_valid(r, i, at, n - at < CHECK_BATCH_ROWS ? n - at
                                                                                : CHECK_BATCH_ROWS,
                                            buf, valid);
        free(buf);
    }
    return st;
}

/* Prints a Lance file's schema, metadata keys and pages, as text or JSON. */
static int info_file(const char *path, bool json, bool pages, bool check)
{
    pa_lance_reader *r;
    pa_status st = pa_lance_reader_open(&r, path);
    if (st != PA_OK)
        return pa_cli_fail("lance-info", st);
    if (check && (st = check_columns(r)) != PA_OK) {
        pa_lance_reader_free(r);
        return pa_cli_fail("lance-info", st);
    }
    size_t nf = pa_lance_reader_num_fields(r);
    if (json) {
        printf("{\"path\":");
        pa_cli_json_string(stdout, path);
        printf(",\"rows\":%llu,\"columns\":[", (unsigned long long)pa_lance_reader_num_rows(r));
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
            printf("%s{\"name\":", i ? "," : "");
            pa_cli_json_string(stdout, f.name);
            printf(",\"type\":\"%s\",\"pages\":%zu,\"bytes\":%llu", tname, np,
                   (unsigned long long)bytes);
            if (problem) {
                printf(",\"not_decodable\":");
                pa_cli_json_string(stdout, problem);
            }
            printf("}");
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
    if (json)
        printf("],\"metadata_keys\":[");
    for (size_t i = 0; i < nm; i++) {
        const char *k;
        const void *v;
        size_t len;
        pa_lance_reader_metadata_at(r, i, &k, &v, &len);
        if (json) {
            printf("%s", i ? "," : "");
            pa_cli_json_string(stdout, k);
        } else {
            printf("  metadata %s: %zu bytes\n", k, len);
        }
    }
    if (json)
        printf("]}\n");
    pa_lance_reader_free(r);
    return 0;
}

/* Prints a Lance dataset's version, schema and fragments, as text or JSON. */
static int info_dataset(const char *path, bool json)
{
    pa_dataset *ds;
    pa_status st = pa_dataset_open(&ds, path);
    if (st != PA_OK)
        return pa_cli_fail("lance-info", st);
    size_t nf = pa_dataset_num_fields(ds), nfr = pa_dataset_num_fragments(ds);
    if (json) {
        printf("{\"path\":");
        pa_cli_json_string(stdout, path);
        printf(",\"dataset\":true,\"version\":%llu,\"rows\":%llu,\"fragments\":%zu,"
               "\"columns\":[",
               (unsigned long long)pa_dataset_version(ds),
               (unsigned long long)pa_dataset_num_rows(ds), nfr);
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
        if (json) {
            printf("%s{\"name\":", i ? "," : "");
            pa_cli_json_string(stdout, f.name);
            printf(",\"type\":\"%s\"}", tname);
        } else {
            printf("  %-16s %s\n", f.name, tname);
        }
    }
    if (json)
        printf("]}\n");
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
    return 0;
}

/* partifact lance-info PATH [--pages] [--json] [--check] */
int pa_cmd_lance_info(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, 0, 'j'}, {"pages", no_argument, 0, 'p'},
        {"check", no_argument, 0, 'c'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    bool json = false, pages = false, check = false;
    int c;
    while ((c = getopt_long(argc, argv, "jpch", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = true; break;
        case 'p': pages = true; break;
        case 'c': check = true; break;
        case 'h':
            printf("usage: partifact lance-info FILE.lance|DATASET [--pages] [--json] [--check]\n"
                   "Prints a Lance file's schema, its pages per column and metadata keys, or a\n"
                   "Lance dataset's version, schema and fragments. Columns partifact does not\n"
                   "decode are listed as such; --check decodes every row of every column of a\n"
                   "file and fails on the first column that cannot be read.\n");
            return 0;
        default: return PA_CLI_EXIT_FAIL;
        }
    }
    if (optind != argc - 1)
        return pa_cli_error("lance-info", "expected one path (see --help)");
    struct stat sb;
    if (stat(argv[optind], &sb) == 0 && S_ISDIR(sb.st_mode))
        return info_dataset(argv[optind], json);
    return info_file(argv[optind], json, pages, check);
}

/* The generated value of row i of the demo/test columns (deterministic, exact in float32). */
static float gen_item(uint64_t i, uint32_t j) { return (float)((i * 31 + j * 7) % 2048) * 0.5f - 512.0f; }

/* partifact lance-gen --out FILE.lance --rows N --dim D [--page-bytes B] [--json]: writes the
 * columns id (u64), part (u32), score (float), code (fsl<u8,16>), vector (fsl<float,D>). */
int pa_cmd_lance_gen(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'}, {"rows", required_argument, 0, 'n'},
        {"dim", required_argument, 0, 'd'}, {"page-bytes", required_argument, 0, 'p'},
        {"layout", required_argument, 0, 'l'}, {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'}, {"force", no_argument, 0, 'F'}, {0, 0, 0, 0}};
    const char *out = NULL;
    int layout = PA_LAYOUT_AUTO;
    uint64_t rows = 100000, dim = 128, page_bytes = 0;
    bool json = false, force = false;
    int c;
    while ((c = getopt_long(argc, argv, "o:n:d:p:l:jhF", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'l':
            if (!strcmp(optarg, "auto"))
                layout = PA_LAYOUT_AUTO;
            else if (!strcmp(optarg, "mini-block"))
                layout = PA_LAYOUT_MINIBLOCK;
            else if (!strcmp(optarg, "full-zip"))
                layout = PA_LAYOUT_FULLZIP;
            else
                return pa_cli_error("lance-gen", "--layout: \"%s\" is not auto, mini-block or "
                                    "full-zip", optarg);
            break;
        case 'n':
            if (!pa_cli_parse_count(optarg, &rows))
                return pa_cli_error("lance-gen", "--rows: \"%s\" is not a count", optarg);
            break;
        case 'd':
            if (!pa_cli_parse_count(optarg, &dim) || dim == 0 || dim > 65536)
                return pa_cli_error("lance-gen", "--dim: \"%s\" is not in 1..65536", optarg);
            break;
        case 'p':
            if (!pa_cli_parse_size(optarg, &page_bytes))
                return pa_cli_error("lance-gen", "--page-bytes: \"%s\" is not a size", optarg);
            break;
        case 'F': force = true; break;
        case 'j': json = true; break;
        case 'h':
            printf("usage: partifact lance-gen --out FILE.lance [--rows N] [--dim D] "
                   "[--page-bytes B] [--layout auto|mini-block|full-zip] [--force] [--json]\n"
                   "Writes generated rows: id u64, part u32, score float, code "
                   "fixed_size_list<uint8,16>, vector fixed_size_list<float,D>.\n"
                   "The file is written under a temporary name and renamed into place.\n"
                   PA_CLI_FORCE_HELP);
            return 0;
        default: return PA_CLI_EXIT_FAIL;
        }
    }
    if (!out)
        return pa_cli_error("lance-gen", "--out is required (see --help)");
    pa_field fields[] = {{"id", PA_TYPE_UINT64, 1},
                         {"part", PA_TYPE_UINT32, 1},
                         {"score", PA_TYPE_FLOAT32, 1},
                         {"code", PA_TYPE_FSL_UINT8, 16},
                         {"vector", PA_TYPE_FSL_FLOAT32, (uint32_t)dim}};
    pa_lance_write_options wo = {.struct_size = sizeof wo, .page_bytes = (size_t)page_bytes,
                                 .layout = layout,
                                 .replace = force};
    pa_lance_writer *w;
    pa_status st = pa_lance_writer_create(&w, out, fields, 5, &wo);
    if (st != PA_OK)
        return pa_cli_fail("lance-gen", st);
    const size_t batch = 4096;
    uint64_t *id = malloc(batch * 8);
    uint32_t *part = malloc(batch * 4);
    float *score = malloc(batch * 4);
    uint8_t *code = malloc(batch * 16);
    float *vec = malloc(batch * dim * 4);
    if (!id || !part || !score || !code || !vec) {
        pa_lance_writer_free(w);
        free(id), free(part), free(score), free(code), free(vec);
        return pa_cli_error("lance-gen", "out of memory");
    }
    for (uint64_t done = 0; done < rows && st == PA_OK;) {
        size_t n = (size_t)PA_CLI_MIN(batch, rows - done);
        for (size_t k = 0; k < n; k++) {
            uint64_t i = done + k;
            id[k] = i * 2654435761u;
            part[k] = (uint32_t)(i % 1000);
            score[k] = (float)i * 0.25f;
            for (uint32_t j = 0; j < 16; j++)
                code[k * 16 + j] = (uint8_t)(i + j);
            for (uint32_t j = 0; j < dim; j++)
                vec[k * dim + j] = gen_item(i, j);
        }
        const void *cols[] = {id, part, score, code, vec};
        st = pa_lance_writer_append(w, cols, n);
        done += n;
        pa_cli_progress("lance-gen: rows", done, rows);
    }
    pa_cli_progress_end();
    if (st == PA_OK)
        st = pa_lance_writer_close(w);
    free(id), free(part), free(score), free(code), free(vec);
    if (st != PA_OK) {
        int rc = pa_cli_fail("lance-gen", st);
        pa_lance_writer_free(w);
        return rc;
    }
    uint64_t bytes = pa_lance_writer_bytes_written(w);
    pa_lance_writer_free(w);
    if (json) {
        printf("{\"path\":");
        pa_cli_json_string(stdout, out);
        printf(",\"rows\":%llu,\"dim\":%llu,\"bytes\":%llu}\n", (unsigned long long)rows,
               (unsigned long long)dim, (unsigned long long)bytes);
    } else {
        printf("wrote %s: %llu rows, %llu bytes\n", out, (unsigned long long)rows,
               (unsigned long long)bytes);
    }
    return 0;
}
