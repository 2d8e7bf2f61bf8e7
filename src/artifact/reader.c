/* Artifact reader: opens a committed artifact, reads partitions by their recorded ranges (the
 * shuffle read), verifies it end to end, and scans all partitions with read-ahead threads. */
#include "artifact/artifact_internal.h"
#include "ivfpq/ivfpq_internal.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <xxhash.h>

struct pa_artifact {
    char *dir;
    pa_manifest m;
    pa_lance_reader **files;
    uint64_t total_bytes, num_ranges;
};

/* The bucket columns each layout has, in file order. */
static size_t bucket_fields(const pa_manifest *m, uint32_t code_bytes, pa_field want[3])
{
    if (m->layout == PA_ART_V01) {
        want[0] = (pa_field){PA_ARTIFACT_COL_ROW_ID, PA_TYPE_UINT64, 1};
        want[1] = (pa_field){PA_ARTIFACT_COL_PART_ID, PA_TYPE_UINT32, 1};
        want[2] = (pa_field){PA_ARTIFACT_COL_CODE, PA_TYPE_FSL_UINT8, code_bytes};
        return 3;
    }
    want[0] = (pa_field){PA_BUCKET_COL_ROW_ID, PA_TYPE_UINT64, 1};
    want[1] = (pa_field){PA_BUCKET_COL_CODE, PA_TYPE_FSL_UINT8, code_bytes};
    return 2;
}

/* A schema metadata value as a string ("" when absent or too long). */
static void meta_string(pa_lance_reader *r, const char *key, char *out, size_t cap)
{
    const void *v;
    size_t len;
    out[0] = 0;
    if (pa_lance_reader_metadata(r, key, &v, &len) == PA_OK && len < cap)
        memcpy(out, v, len), out[len] = 0;
}

/* Opens and checks one bucket file against its manifest record and the expected schema. A
 * foreign artifact records neither the file's size, nor its rows, nor its code width: the
 * file's give them (the code width the same in every file). */
static pa_status open_bucket(pa_artifact *a, uint32_t f)
{
    pa_artifact_file_rec *rec = &a->m.files[f];
    const bool foreign = a->m.layout == PA_ART_FOREIGN;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", a->dir, rec->path);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return pa_fail(PA_ERR_FORMAT, "%s: bucket file %s in the manifest is missing", path,
                       foreign ? "named" : "listed");
    if (foreign)
        rec->bytes = (uint64_t)sb.st_size;
    if ((uint64_t)sb.st_size != rec->bytes)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: file has %" PRIu64 " bytes, the manifest says %" PRIu64
                       " (truncated or replaced?)",
                       path, (uint64_t)sb.st_size, rec->bytes);
    pa_status st = pa_lance_reader_open(&a->files[f], path);
    if (st != PA_OK)
        return st;
    pa_lance_reader *r = a->files[f];
    if (foreign)
        rec->rows = pa_lance_reader_num_rows(r);
    if (pa_lance_reader_num_rows(r) != rec->rows)
        return pa_fail(PA_ERR_FORMAT, "%s: file has %" PRIu64 " rows, the manifest says %" PRIu64,
                       path, pa_lance_reader_num_rows(r), rec->rows);
    pa_field want[3], got;
    size_t nf = bucket_fields(&a->m, a->m.code_bytes, want);
    if (foreign && !a->m.code_bytes && pa_lance_reader_num_fields(r) == 2 &&
        pa_lance_reader_field(r, 1, &got) == PA_OK && got.type == PA_TYPE_FSL_UINT8 &&
        got.dim <= PA_MAX_CODE_BYTES)
        a->m.code_bytes = got.dim; /* the first file's; the others must agree */
    nf = bucket_fields(&a->m, a->m.code_bytes, want);
    bool ok = pa_lance_reader_num_fields(r) == nf;
    for (size_t i = 0; ok && i < nf; i++) {
        pa_lance_reader_field(r, i, &got);
        ok = !strcmp(got.name, want[i].name) && got.type == want[i].type && got.dim == want[i].dim;
    }
    if (!ok && a->m.layout == PA_ART_V01)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: expected columns row_id (uint64), part_id (uint32), "
                       "pq_code (fixed_size_list:uint8:%u)",
                       path, a->m.code_bytes);
    char width[16] = "N"; /* a foreign artifact's first file gives the width */
    if (a->m.code_bytes)
        snprintf(width, sizeof width, "%u", a->m.code_bytes);
    if (!ok)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: expected exactly the columns " PA_BUCKET_COL_ROW_ID
                       " (uint64), " PA_BUCKET_COL_CODE " (fixed_size_list:uint8:%s)",
                       path, width);
    if (foreign)
        return PA_OK; /* another program's file carries no identity of partifact's */
    /* the file's identity: written by this artifact's writer, as this bucket */
    char want_id[17], want_b[16], got_id[32], got_b[32];
    snprintf(want_id, sizeof want_id, "%016" PRIx64, a->m.artifact_id);
    snprintf(want_b, sizeof want_b, "%u", rec->bucket);
    meta_string(r, PA_ARTIFACT_META_ID, got_id, sizeof got_id);
    meta_string(r, PA_ARTIFACT_META_BUCKET, got_b, sizeof got_b);
    if (strcmp(got_id, want_id) != 0)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: the file belongs to artifact %s, not to this one "
                       "(%s): a bucket file of another artifact",
                       path, got_id[0] ? got_id : "(none recorded)", want_id);
    if (strcmp(got_b, want_b) != 0)
        return pa_fail(PA_ERR_FORMAT, "%s: the file is bucket %s of this artifact, not bucket %s",
                       path, got_b[0] ? got_b : "(none recorded)", want_b);
    return PA_OK;
}

static int cmp_owned(const void *x, const void *y)
{
    const pa_owned_range *a = x, *b = y;
    return a->offset < b->offset ? -1 : a->offset > b->offset;
}

/* The ranges of file f sorted by offset (see the header). Partition p of an artifact partifact
 * wrote lives in bucket p % num_buckets, so file f's partitions are found without a pass over
 * all of them; another program's artifact may place them anywhere. */
pa_status pa_artifact_file_ranges(const pa_artifact *a, uint32_t f, pa_owned_range **out,
                                  size_t *n_out)
{
    const pa_manifest *m = &a->m;
    const bool any = m->layout == PA_ART_FOREIGN;
    const uint32_t first = any ? 0 : m->files[f].bucket, step = any ? 1 : m->num_buckets;
    size_t n = 0;
    for (uint32_t p = first; p < m->num_partitions; p += step)
        if (m->part_file[p] == f)
            n += m->parts[p].num_ranges;
    pa_owned_range *rs = pa_malloc((n ? n : 1) * sizeof *rs, "range list");
    if (!rs)
        return PA_ERR_NOMEM;
    size_t k = 0;
    for (uint32_t p = first; p < m->num_partitions; p += step)
        for (uint32_t r = 0; m->part_file[p] == f && r < m->parts[p].num_ranges; r++)
            rs[k++] = (pa_owned_range){m->parts[p].ranges[r].offset, m->parts[p].ranges[r].num_rows,
                                       p, r};
    qsort(rs, n, sizeof *rs, cmp_owned);
    *out = rs;
    *n_out = n;
    return PA_OK;
}

/* Ranges of file f may not overlap nor leave rows out: they tile the file exactly, every row
 * in one range. Checked at open, before any row is used. */
static pa_status check_file_ranges(const pa_artifact *a, uint32_t f)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", a->dir, a->m.files[f].path);
    pa_owned_range *rs = NULL;
    size_t n = 0;
    pa_status st = pa_artifact_file_ranges(a, f, &rs, &n);
    uint64_t expect = 0;
    for (size_t i = 0; i < n && st == PA_OK; i++) {
        if (rs[i].offset != expect)
            st = pa_fail(PA_ERR_FORMAT,
                         "%s: rows [%" PRIu64 ", %" PRIu64 ") %s (partition %u's "
                         "range starts at %" PRIu64 ")",
                         path, PA_MIN(expect, rs[i].offset), PA_MAX(expect, rs[i].offset),
                         rs[i].offset > expect ? "belong to no range" : "are in two ranges",
                         rs[i].part, rs[i].offset);
        expect = rs[i].offset + rs[i].num_rows;
    }
    if (st == PA_OK && expect != a->m.files[f].rows)
        st = pa_fail(PA_ERR_FORMAT, "%s: ranges end at row %" PRIu64 ", the file has %" PRIu64,
                     path, expect, a->m.files[f].rows);
    free(rs);
    return st;
}

/* The parameters a foreign artifact's manifest does not record, from its metadata.lance's schema
 * metadata (as lance-cuvs writes it: PA_IVFPQ_META_*), checked against the manifest and the
 * bucket files. Without a metadata file they stay unknown (0); finalize then takes them from
 * the model it is given. */
static pa_status foreign_params(pa_artifact *a)
{
    pa_manifest *m = &a->m;
    if (!m->metadata_file)
        return PA_OK;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", a->dir, m->metadata_file);
    pa_ivfpq_meta meta;
    pa_status st = pa_ivfpq_meta_read(path, &meta);
    if (st != PA_OK)
        return st;
    if (meta.num_partitions != m->num_partitions)
        return pa_fail(PA_ERR_FORMAT, "%s: %u partitions, the manifest has %u", path,
                       meta.num_partitions, m->num_partitions);
    const uint32_t code_bytes = meta.num_bits == 4 ? (meta.num_sub_vectors + 1) / 2
                                                   : meta.num_sub_vectors;
    if (m->code_bytes && code_bytes != m->code_bytes)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: %u sub-vectors of %u bits make %u-byte codes, the bucket files hold "
                       "%u-byte codes",
                       path, meta.num_sub_vectors, meta.num_bits, code_bytes, m->code_bytes);
    m->code_bytes = code_bytes;
    m->num_bits = meta.num_bits;
    m->dimension = meta.dimension;
    if (!(m->metric = pa_strdup(pa_metric_name(meta.metric), "metric")))
        return PA_ERR_NOMEM;
    return PA_OK;
}

/* Opens an artifact (see the header). */
pa_status pa_artifact_open(pa_artifact **out, const char *dir)
{
    return pa_artifact_open_budget(out, dir, 0, NULL);
}

pa_status pa_artifact_open_budget(pa_artifact **out, const char *dir, uint64_t budget,
                                  uint64_t *manifest_bytes)
{
    *out = NULL;
    pa_status st = PA_OK;
    pa_artifact *a = pa_calloc(1, sizeof *a, "artifact");
    if (!a || !(a->dir = pa_strdup(dir, "artifact path"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    if ((st = pa_manifest_load(&a->m, dir, budget)) != PA_OK)
        goto done;
    if (!(a->files = pa_calloc(a->m.num_files, sizeof *a->files, "bucket readers"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    for (uint32_t f = 0; f < a->m.num_files; f++) {
        if ((st = open_bucket(a, f)) != PA_OK)
            goto done;
        a->total_bytes += a->m.files[f].bytes;
    }
    for (uint32_t f = 0; f < a->m.num_files; f++)
        if ((st = check_file_ranges(a, f)) != PA_OK)
            goto done;
    if (a->m.layout == PA_ART_FOREIGN && (st = foreign_params(a)) != PA_OK)
        goto done;
    a->num_ranges = a->m.num_ranges;
    if (manifest_bytes)
        *manifest_bytes = pa_manifest_bytes(a->m.num_partitions, a->m.num_ranges, a->m.num_files);
done:
    if (st == PA_OK)
        *out = a;
    else
        pa_artifact_free(a);
    return st;
}

void pa_artifact_free(pa_artifact *a)
{
    if (!a)
        return;
    for (uint32_t f = 0; a->files && f < a->m.num_files; f++)
        pa_lance_reader_free(a->files[f]);
    free(a->files);
    pa_manifest_clear(&a->m);
    free(a->dir);
    free(a);
}

pa_status pa_artifact_get_info(const pa_artifact *a, pa_artifact_info *out)
{
    pa_status st = pa_info_args(a, out, "pa_artifact_info", "artifact info: an artifact");
    if (st != PA_OK)
        return st;
    pa_artifact_info info = PA_ARTIFACT_INFO_INIT;
    info.num_partitions = a->m.num_partitions;
    info.num_buckets = a->m.num_buckets;
    info.code_bytes = a->m.code_bytes;
    info.num_bits = a->m.num_bits;
    info.dimension = a->m.dimension;
    if (a->m.metric && (st = pa_metric_parse(a->m.metric, &info.metric)) != PA_OK) /* checked */
        return pa_fail_prefix(st, "%s", a->dir);
    info.model = a->m.model;
    info.layout = (int)a->m.layout;
    info.metadata_file = a->m.metadata_file;
    info.total_rows = a->m.total_rows;
    info.total_bytes = a->total_bytes;
    info.num_ranges = a->num_ranges;
    info.num_files = a->m.num_files;
    pa_stats_store(out, &info, sizeof info);
    return PA_OK;
}

pa_status pa_artifact_partition(const pa_artifact *a, uint32_t p, uint64_t *num_rows,
                                uint32_t *file, uint32_t *num_ranges)
{
    if (p >= a->m.num_partitions)
        return pa_fail(PA_ERR_RANGE, "%s: partition %u does not exist (the artifact has %u)",
                       a->dir, p, a->m.num_partitions);
    if (num_rows)
        *num_rows = a->m.parts[p].num_rows;
    if (file)
        *file = a->m.part_file[p];
    if (num_ranges)
        *num_ranges = a->m.parts[p].num_ranges;
    return PA_OK;
}

pa_status pa_artifact_range(const pa_artifact *a, uint32_t p, uint32_t r, uint64_t *offset,
                            uint64_t *num_rows)
{
    if (p >= a->m.num_partitions || r >= a->m.parts[p].num_ranges)
        return pa_fail(PA_ERR_RANGE, "%s: partition %u has no range %u", a->dir, p, r);
    *offset = a->m.parts[p].ranges[r].offset;
    *num_rows = a->m.parts[p].ranges[r].num_rows;
    return PA_OK;
}

pa_status pa_artifact_file(const pa_artifact *a, uint32_t f, const char **path, uint64_t *num_rows,
                           uint64_t *bytes)
{
    if (f >= a->m.num_files)
        return pa_fail(PA_ERR_RANGE, "%s: file %u does not exist (the artifact has %u)", a->dir, f,
                       a->m.num_files);
    if (path)
        *path = a->m.files[f].path;
    if (num_rows)
        *num_rows = a->m.files[f].rows;
    if (bytes)
        *bytes = a->m.files[f].bytes;
    return PA_OK;
}

/* ---- checked reads ---- */

uint64_t pa_range_checksum(const uint64_t *ids, const uint32_t *parts, const uint8_t *codes,
                           uint64_t n, uint32_t code_bytes)
{
    uint64_t h[3] = {XXH3_64bits(ids, (size_t)n * 8), XXH3_64bits(parts, (size_t)n * 4),
                     XXH3_64bits(codes, (size_t)n * code_bytes)};
    return XXH3_64bits(h, sizeof h);
}

uint64_t pa_bucket_range_checksum(const uint64_t *ids, const uint8_t *codes, uint64_t n,
                                  uint32_t code_bytes, uint32_t part)
{
    uint64_t h[3] = {XXH3_64bits(ids, (size_t)n * 8), XXH3_64bits(codes, (size_t)n * code_bytes),
                     part};
    return XXH3_64bits(h, sizeof h);
}

struct pa_rows_hash {
    XXH3_state_t *h[3]; /* row ids, part ids, codes */
    uint32_t code_bytes;
};

pa_status pa_rows_hash_new(pa_rows_hash **out, uint32_t code_bytes)
{
    pa_rows_hash *h = pa_calloc(1, sizeof *h, "checksum state");
    for (int i = 0; h && i < 3; i++)
        h->h[i] = XXH3_createState();
    if (!h || !h->h[0] || !h->h[1] || !h->h[2]) {
        pa_rows_hash_free(h);
        return pa_fail(PA_ERR_NOMEM, "out of memory for checksums");
    }
    h->code_bytes = code_bytes;
    pa_rows_hash_reset(h);
    *out = h;
    return PA_OK;
}

void pa_rows_hash_reset(pa_rows_hash *h)
{
    for (int i = 0; i < 3; i++)
        XXH3_64bits_reset(h->h[i]);
}

void pa_rows_hash_update(pa_rows_hash *h, const uint64_t *ids, const uint32_t *parts,
                         const uint8_t *codes, uint64_t n)
{
    XXH3_64bits_update(h->h[0], ids, (size_t)n * 8);
    if (parts)
        XXH3_64bits_update(h->h[1], parts, (size_t)n * 4);
    XXH3_64bits_update(h->h[2], codes, (size_t)n * h->code_bytes);
}

uint64_t pa_rows_hash_digest(const pa_rows_hash *h)
{
    uint64_t d[3] = {XXH3_64bits_digest(h->h[0]), XXH3_64bits_digest(h->h[1]),
                     XXH3_64bits_digest(h->h[2])};
    return XXH3_64bits(d, sizeof d);
}

uint64_t pa_rows_hash_digest_part(const pa_rows_hash *h, uint32_t part)
{
    uint64_t d[3] = {XXH3_64bits_digest(h->h[0]), XXH3_64bits_digest(h->h[2]), part};
    return XXH3_64bits(d, sizeof d);
}

void pa_rows_hash_free(pa_rows_hash *h)
{
    if (!h)
        return;
    for (int i = 0; i < 3; i++)
        XXH3_freeState(h->h[i]);
    free(h);
}

struct pa_range_check {
    pa_rows_hash *h;
    uint64_t piece; /* rows per piece */
    uint32_t code_bytes;
    uint32_t *parts;
    uint64_t *ids;  /* allocated when a caller reads without row ids */
    uint8_t *codes; /* or without codes */
};

pa_status pa_range_check_new(pa_range_check **out, uint32_t code_bytes)
{
    pa_range_check *c = pa_calloc(1, sizeof *c, "range check");
    if (!c)
        return PA_ERR_NOMEM;
    c->code_bytes = code_bytes;
    c->piece = PA_MAX(1, PA_MIN((uint64_t)65536, PA_RANGE_PIECE_BYTES / (12 + code_bytes)));
    c->parts = pa_malloc((size_t)c->piece * 4, "part id buffer");
    if (pa_rows_hash_new(&c->h, code_bytes) != PA_OK || !c->parts) {
        pa_range_check_free(c);
        return pa_fail(PA_ERR_NOMEM, "out of memory for range checks");
    }
    *out = c;
    return PA_OK;
}

void pa_range_check_free(pa_range_check *c)
{
    if (!c)
        return;
    pa_rows_hash_free(c->h);
    free(c->parts), free(c->ids), free(c->codes);
    free(c);
}

pa_status pa_artifact_read_range(pa_artifact *a, uint32_t p, uint32_t r, uint64_t first, uint64_t n,
                                 uint64_t *ids, uint8_t *codes, pa_range_check *c)
{
    if (p >= a->m.num_partitions || r >= a->m.parts[p].num_ranges)
        return pa_fail(PA_ERR_RANGE, "%s: partition %u has no range %u", a->dir, p, r);
    const pa_range *rg = &a->m.parts[p].ranges[r];
    const uint32_t f = a->m.part_file[p], M = a->m.code_bytes;
    const bool v01 = a->m.layout == PA_ART_V01;
    pa_lance_reader *lr = a->files[f];
    if (first > rg->num_rows || n > rg->num_rows - first)
        return pa_fail(PA_ERR_RANGE,
                       "%s: partition %u range %u has %" PRIu64 " rows, not [%" PRIu64 ", %" PRIu64
                       ")",
                       a->dir, p, r, rg->num_rows, first, first + n);
    if (!ids && !c->ids && !(c->ids = pa_malloc((size_t)c->piece * 8, "row id buffer")))
        return PA_ERR_NOMEM;
    if (!codes && !c->codes && !(c->codes = pa_malloc((size_t)c->piece * M, "code buffer")))
        return PA_ERR_NOMEM;
    if (first == 0)
        pa_rows_hash_reset(c->h);
    pa_status st = PA_OK;
    const size_t code_col = v01 ? 2 : 1;
    for (uint64_t done = 0; done < n && st == PA_OK;) {
        uint64_t k = PA_MIN(c->piece, n - done);
        uint64_t row = rg->offset + first + done;
        uint64_t *pi = ids ? ids + done : c->ids;
        uint8_t *pc = codes ? codes + done * M : c->codes;
        if ((st = pa_lance_reader_read(lr, 0, row, k, pi)) != PA_OK ||
            (v01 && (st = pa_lance_reader_read(lr, 1, row, k, c->parts)) != PA_OK) ||
            (st = pa_lance_reader_read(lr, code_col, row, k, pc)) != PA_OK)
            return pa_fail_prefix(st, "%s: partition %u range %u", a->dir, p, r);
        for (uint64_t j = 0; v01 && j < k; j++)
            if (c->parts[j] != p)
                return pa_fail(PA_ERR_FORMAT,
                               "%s/%s: row %" PRIu64 " has part_id %u but lies "
                               "in a range of partition %u",
                               a->dir, a->m.files[f].path, row + j, c->parts[j], p);
        pa_rows_hash_update(c->h, pi, v01 ? c->parts : NULL, pc, k);
        done += k;
    }
    if (first + n == rg->num_rows && a->m.layout != PA_ART_FOREIGN) {
        uint64_t got = v01 ? pa_rows_hash_digest(c->h) : pa_rows_hash_digest_part(c->h, p);
        if (got != rg->xxh3)
            return pa_fail(PA_ERR_FORMAT,
                           "%s/%s: partition %u range %u (rows [%" PRIu64 ", %" PRIu64
                           ")): checksum %016" PRIx64 ", the manifest records %016" PRIx64
                           " (the rows were changed or damaged%s)",
                           a->dir, a->m.files[f].path, p, r, rg->offset, rg->offset + rg->num_rows,
                           got, rg->xxh3, v01 ? "" : ", or belong to another partition");
    }
    return PA_OK;
}

/* Reads partition p's ranges, checked (the shuffle read). */
static pa_status read_partition_checked(pa_artifact *a, uint32_t p, uint64_t *row_ids,
                                        uint8_t *codes, pa_range_check *c)
{
    const pa_part_ranges *pr = &a->m.parts[p];
    uint64_t at = 0;
    for (uint32_t k = 0; k < pr->num_ranges; k++) {
        pa_status st = pa_artifact_read_range(a, p, k, 0, pr->ranges[k].num_rows,
                                              row_ids ? row_ids + at : NULL,
                                              codes ? codes + at * a->m.code_bytes : NULL, c);
        if (st != PA_OK)
            return st;
        at += pr->ranges[k].num_rows;
    }
    return PA_OK;
}

pa_status pa_artifact_read_partition(pa_artifact *a, uint32_t p, uint64_t *row_ids, uint8_t *codes)
{
    if (p >= a->m.num_partitions)
        return pa_fail(PA_ERR_RANGE, "%s: partition %u does not exist (the artifact has %u)",
                       a->dir, p, a->m.num_partitions);
    pa_range_check *c = NULL;
    pa_status st = pa_range_check_new(&c, a->m.code_bytes);
    if (st == PA_OK)
        st = read_partition_checked(a, p, row_ids, codes, c);
    pa_range_check_free(c);
    return st;
}

uint64_t pa_artifact_bytes_read(const pa_artifact *a)
{
    uint64_t n = 0;
    for (uint32_t f = 0; f < a->m.num_files; f++)
        n += pa_lance_reader_bytes_read(a->files[f]);
    return n;
}

/* Checks file f: its whole-file checksum (where recorded), then every range read back checked
 * (0.1: part ids; and each range's checksum where recorded); the tiling of the file by its
 * ranges was checked at open. */
static pa_status verify_file(pa_artifact *a, uint32_t f, pa_artifact_verify_report *rep,
                             pa_range_check *c)
{
    const pa_artifact_file_rec *rec = &a->m.files[f];
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", a->dir, rec->path);
    pa_status st = PA_OK;
    if (a->m.layout != PA_ART_FOREIGN) {
        uint64_t h;
        if ((st = pa_file_xxh64(path, &h, &rep->bytes_hashed)) != PA_OK)
            return st;
        if (h != rec->xxh64)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: XXH64 is %016" PRIx64 ", the manifest says %016" PRIx64
                           " (the file was changed or damaged)",
                           path, h, rec->xxh64);
    }
    pa_owned_range *rs = NULL;
    size_t n = 0;
    if ((st = pa_artifact_file_ranges(a, f, &rs, &n)) != PA_OK)
        return st;
    for (size_t i = 0; i < n && st == PA_OK; i++) {
        st = pa_artifact_read_range(a, rs[i].part, rs[i].index, 0, rs[i].num_rows, NULL, NULL, c);
        rep->ranges_checked++;
        rep->rows_checked += rs[i].num_rows;
    }
    free(rs);
    rep->files_checked++;
    return st;
}

/* The metadata file partifact recorded: its size and XXH64. */
static pa_status verify_metadata(pa_artifact *a, pa_artifact_verify_report *rep)
{
    const pa_manifest *m = &a->m;
    if (!m->metadata_file || m->layout != PA_ART_PARTIFACT)
        return PA_OK;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", a->dir, m->metadata_file);
    uint64_t h, before = rep->bytes_hashed;
    pa_status st = pa_file_xxh64(path, &h, &rep->bytes_hashed);
    if (st != PA_OK)
        return st;
    if (rep->bytes_hashed - before != m->metadata_bytes)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: file has %" PRIu64 " bytes, the manifest says %" PRIu64
                       " (truncated or replaced?)",
                       path, rep->bytes_hashed - before, m->metadata_bytes);
    if (h != m->metadata_xxh64)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: XXH64 is %016" PRIx64 ", the manifest says %016" PRIx64
                       " (the file was changed or damaged)",
                       path, h, m->metadata_xxh64);
    rep->files_checked++;
    return PA_OK;
}

/* Verifies the whole artifact (see the header). */
pa_status pa_artifact_verify(pa_artifact *a, pa_artifact_verify_report *report)
{
    pa_status st = pa_stats_check(report, "pa_artifact_verify_report");
    if (st != PA_OK)
        return st;
    pa_artifact_verify_report local = PA_ARTIFACT_VERIFY_REPORT_INIT;
    pa_artifact_verify_report *rep = &local;
    rep->structural_only = a->m.layout == PA_ART_FOREIGN;
    pa_range_check *c = NULL;
    st = pa_range_check_new(&c, PA_MAX(a->m.code_bytes, 1));
    for (uint32_t f = 0; st == PA_OK && f < a->m.num_files; f++)
        st = verify_file(a, f, rep, c);
    pa_range_check_free(c);
    if (st == PA_OK)
        st = verify_metadata(a, rep);
    if (st == PA_OK && rep->rows_checked != a->m.total_rows)
        st = pa_fail(PA_ERR_FORMAT, "%s: %" PRIu64 " rows checked, total_rows is %" PRIu64, a->dir,
                     rep->rows_checked, a->m.total_rows);
    pa_stats_store(report, rep, sizeof *rep);
    return st;
}

/* ---- scan with read-ahead ---- */

typedef struct slot {
    uint32_t part;
    uint64_t rows;
    uint64_t *ids; /* in the ring, the codes right after */
    uint8_t *codes;
    uint64_t at;  /* the slot's offset in the ring */
    bool claimed; /* read or being read, not yet released */
    bool ready;
    pa_status st;
    char *err; /* the failure message, when st != PA_OK */
} slot;

_Static_assert(sizeof(slot) <= PA_SCAN_SLOT_BYTES, "pa_manifest_bytes counts a scan slot as "
                                                   "PA_SCAN_SLOT_BYTES");

struct pa_artifact_scan {
    pa_artifact *a;
    pthread_t *threads;
    unsigned nthreads;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    slot *slots;         /* one per partition, filled in order of claim */
    uint32_t next_claim; /* next partition a reader thread takes */
    uint32_t next_out;   /* next partition handed to the caller */
    uint64_t inflight;   /* bytes of claimed partitions not yet released */
    uint64_t budget;
    /* The partitions in flight, in one ring of memory: claimed and released in id order, so
     * each claim takes the bytes after the last one's (or from the start, when they do not fit
     * before the end) and each release frees the oldest. One allocation, reused as it goes
     * round: no page of it is new after its first pass, and large rings take huge pages (a
     * partition's buffers allocated afresh were a page fault every 4 KiB on their first use). */
    uint8_t *ring;
    uint64_t ring_cap, head, tail; /* tail: the oldest claimed slot's offset */
    uint32_t claimed;              /* slots claimed and not released */
    bool stop;
};

/* The ring bytes of a partition of n rows: its row ids, its codes, rounded up to 8 (the next
 * slot's row ids). */
static uint64_t ring_bytes(uint64_t n, uint64_t M)
{
    return (pa_ids_codes_bytes(n, M) + 7) & ~7ull;
}

/* Where a claim of need bytes goes in the ring, or UINT64_MAX when it must wait for releases. */
static uint64_t ring_place(const pa_artifact_scan *s, uint64_t need)
{
    if (s->claimed == 0)
        return 0;
    if (s->head > s->tail) /* the free bytes: [head, cap) and [0, tail) */
        return s->head + need <= s->ring_cap ? s->head : need <= s->tail ? 0 : UINT64_MAX;
    return s->head + need <= s->tail ? s->head : UINT64_MAX; /* (wrapped: [head, tail)) */
}

static uint64_t part_bytes(const pa_artifact *a, uint32_t p)
{
    return pa_ids_codes_bytes(a->m.parts[p].num_rows, a->m.code_bytes);
}

/* Whether the next partition may be claimed now: within the read-ahead (always, with nothing
 * in flight) and with room in the ring, at *at for *need bytes. */
static bool claim_fits(const pa_artifact_scan *s, uint64_t *at, uint64_t *need)
{
    const pa_artifact *a = s->a;
    const uint32_t p = s->next_claim;
    if (s->inflight > 0 && s->inflight + part_bytes(a, p) > s->budget)
        return false;
    *need = ring_bytes(a->m.parts[p].num_rows, a->m.code_bytes);
    return (*at = ring_place(s, *need)) != UINT64_MAX;
}

/* Reader thread: claims the next partition when the byte budget allows (always when nothing is
 * in flight), reads it, marks it ready. */
static void *scan_worker(void *arg)
{
    pa_artifact_scan *s = arg;
    pa_artifact *a = s->a;
    pa_range_check *c = NULL;
    pa_status cst = pa_range_check_new(&c, a->m.code_bytes);
    char *cerr = cst != PA_OK ? strdup(pa_last_error()) : NULL;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        uint64_t at = 0, need = 0;
        while (!s->stop && s->next_claim < a->m.num_partitions && !claim_fits(s, &at, &need))
            pthread_cond_wait(&s->cv, &s->mu);
        if (s->stop || s->next_claim >= a->m.num_partitions)
            break;
        uint32_t p = s->next_claim++;
        s->inflight += part_bytes(a, p);
        slot *sl = &s->slots[p];
        if (s->claimed++ == 0)
            s->tail = at;
        s->head = at + need;
        sl->at = at, sl->claimed = true;
        pthread_mutex_unlock(&s->mu);

        uint64_t n = a->m.parts[p].num_rows;
        sl->part = p;
        sl->rows = n;
        sl->ids = (uint64_t *)(void *)(s->ring + at);
        sl->codes = s->ring + at + n * 8;
        if (cst != PA_OK) {
            sl->st = cst;
            sl->err = cerr ? strdup(cerr) : NULL;
        } else {
            sl->st = read_partition_checked(a, p, sl->ids, sl->codes, c);
            if (sl->st != PA_OK)
                sl->err = strdup(pa_last_error());
        }

        pthread_mutex_lock(&s->mu);
        sl->ready = true;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    pa_range_check_free(c);
    free(cerr);
    return NULL;
}

pa_status pa_artifact_scan_create(pa_artifact_scan **out, pa_artifact *a, uint64_t readahead_bytes,
                                  uint32_t num_threads)
{
    *out = NULL;
    pa_status st = PA_OK;
    const unsigned want = num_threads ? PA_MIN(num_threads, 64u) : 2;
    pa_artifact_scan *s = pa_calloc(1, sizeof *s, "artifact scan");
    if (!s) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    s->a = a;
    s->budget = readahead_bytes ? readahead_bytes : PA_SCAN_DEFAULT_READAHEAD;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    /* the ring: the read-ahead, or the largest partition where that is more (always one) */
    s->ring_cap = s->budget;
    for (uint32_t p = 0; p < a->m.num_partitions; p++)
        s->ring_cap = PA_MAX(s->ring_cap, ring_bytes(a->m.parts[p].num_rows, a->m.code_bytes));
    s->slots = pa_calloc(a->m.num_partitions, sizeof *s->slots, "scan slots");
    s->threads = pa_calloc(want, sizeof *s->threads, "scan threads");
    s->ring = s->ring_cap <= SIZE_MAX ? pa_malloc_dense((size_t)s->ring_cap, "scan read-ahead")
                                      : NULL;
    if (!s->slots || !s->threads || !s->ring) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    for (unsigned t = 0; t < want; t++) {
        if (pthread_create(&s->threads[t], NULL, scan_worker, s) != 0) {
            st = pa_fail(PA_ERR_NOMEM, "%s: cannot start scan threads", a->dir);
            goto done;
        }
        s->nthreads = t + 1; /* joined by the free */
    }
done:
    if (st == PA_OK)
        *out = s;
    else
        pa_artifact_scan_free(s);
    return st;
}

/* Releases the previous partition, then waits for the next one in id order. */
pa_status pa_artifact_scan_next(pa_artifact_scan *s, uint32_t *part, const uint64_t **row_ids,
                                const uint8_t **codes, uint64_t *num_rows)
{
    pa_artifact *a = s->a;
    pthread_mutex_lock(&s->mu);
    if (s->next_out > 0) {
        slot *prev = &s->slots[s->next_out - 1];
        if (prev->claimed) { /* the oldest claimed: the ring frees from the next one's start */
            prev->claimed = false;
            prev->ids = NULL;
            prev->codes = NULL;
            s->inflight -= part_bytes(a, s->next_out - 1);
            if (--s->claimed > 0)
                s->tail = s->slots[s->next_out].at;
            pthread_cond_broadcast(&s->cv);
        }
    }
    if (s->next_out >= a->m.num_partitions) {
        pthread_mutex_unlock(&s->mu);
        *num_rows = 0;
        return PA_END;
    }
    slot *sl = &s->slots[s->next_out];
    while (!sl->ready)
        pthread_cond_wait(&s->cv, &s->mu);
    s->next_out++;
    pthread_mutex_unlock(&s->mu);
    if (sl->st != PA_OK)
        return pa_fail(sl->st, "%s", sl->err ? sl->err : "partition read failed");
    *part = sl->part;
    *row_ids = sl->ids;
    *codes = sl->codes;
    *num_rows = sl->rows;
    return PA_OK;
}

void pa_artifact_scan_free(pa_artifact_scan *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    for (unsigned t = 0; t < s->nthreads; t++)
        pthread_join(s->threads[t], NULL);
    for (uint32_t p = 0; s->slots && p < s->a->m.num_partitions; p++)
        free(s->slots[p].err);
    free(s->ring);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->slots);
    free(s->threads);
    free(s);
}

/* The XXH64 the manifest records for the model (0 if none): the finalizer checks the model it
 * is given is the one the codes were made with. */
uint64_t pa_artifact_model_xxh64(const pa_artifact *a) { return a->m.model ? a->m.model_xxh64 : 0; }

uint64_t pa_artifact_metadata_xxh64(const pa_artifact *a)
{
    return a->m.metadata_file && a->m.layout == PA_ART_PARTIFACT ? a->m.metadata_xxh64 : 0;
}

const char *pa_artifact_coverage(const pa_artifact *a) { return a ? a->m.coverage : NULL; }
