/* Artifact reader: opens a committed artifact, reads partitions by their recorded ranges (the
 * shuffle read), verifies it end to end, and scans all partitions with read-ahead threads. */
#include "artifact/artifact_internal.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>

struct pa_artifact {
    char *dir;
    pa_manifest m;
    pa_lance_reader **files;
    uint64_t total_bytes, num_ranges;
};

/* Opens and checks one bucket file against its manifest record and the expected schema. */
static pa_status open_bucket(pa_artifact *a, uint32_t f)
{
    const pa_artifact_file_rec *rec = &a->m.files[f];
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", a->dir, rec->path);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return pa_fail(PA_ERR_FORMAT, "%s: bucket file listed in the manifest is missing", path);
    if ((uint64_t)sb.st_size != rec->bytes)
        return pa_fail(PA_ERR_FORMAT, "%s: file has %" PRIu64 " bytes, the manifest says %" PRIu64
                       " (truncated or replaced?)", path, (uint64_t)sb.st_size, rec->bytes);
    pa_status st = pa_lance_reader_open(&a->files[f], path);
    if (st != PA_OK)
        return st;
    pa_lance_reader *r = a->files[f];
    if (pa_lance_reader_num_rows(r) != rec->rows)
        return pa_fail(PA_ERR_FORMAT, "%s: file has %" PRIu64 " rows, the manifest says %" PRIu64,
                       path, pa_lance_reader_num_rows(r), rec->rows);
    const pa_field want[] = {{PA_ARTIFACT_COL_ROW_ID, PA_TYPE_UINT64, 1},
                             {PA_ARTIFACT_COL_PART_ID, PA_TYPE_UINT32, 1},
                             {PA_ARTIFACT_COL_CODE, PA_TYPE_FSL_UINT8, a->m.code_bytes}};
    bool ok = pa_lance_reader_num_fields(r) == 3;
    for (size_t i = 0; ok && i < 3; i++) {
        pa_field got;
        pa_lance_reader_field(r, i, &got);
        ok = !strcmp(got.name, want[i].name) && got.type == want[i].type && got.dim == want[i].dim;
    }
    if (!ok)
        return pa_fail(PA_ERR_FORMAT, "%s: expected columns row_id (uint64), part_id (uint32), "
                       "pq_code (fixed_size_list:uint8:%u)", path, a->m.code_bytes);
    return PA_OK;
}

/* Opens an artifact (see the header). */
pa_status pa_artifact_open(pa_artifact **out, const char *dir)
{
    *out = NULL;
    pa_artifact *a = pa_calloc(1, sizeof *a, "artifact");
    if (!a)
        return PA_ERR_NOMEM;
    a->dir = pa_strdup(dir, "artifact path");
    pa_status st = a->dir ? pa_manifest_load(&a->m, dir) : PA_ERR_NOMEM;
    if (st == PA_OK) {
        a->files = pa_calloc(a->m.num_files, sizeof *a->files, "bucket readers");
        if (!a->files)
            st = PA_ERR_NOMEM;
    }
    for (uint32_t f = 0; st == PA_OK && f < a->m.num_files; f++) {
        st = open_bucket(a, f);
        a->total_bytes += a->m.files[f].bytes;
    }
    for (uint32_t p = 0; st == PA_OK && p < a->m.num_partitions; p++)
        a->num_ranges += a->m.parts[p].num_ranges;
    if (st != PA_OK) {
        pa_artifact_free(a);
        return st;
    }
    *out = a;
    return PA_OK;
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

void pa_artifact_get_info(const pa_artifact *a, pa_artifact_info *out)
{
    out->num_partitions = a->m.num_partitions;
    out->num_buckets = a->m.num_buckets;
    out->code_bytes = a->m.code_bytes;
    out->num_bits = a->m.num_bits;
    out->dimension = a->m.dimension;
    out->metric = a->m.metric;
    out->model = a->m.model;
    out->total_rows = a->m.total_rows;
    out->total_bytes = a->total_bytes;
    out->num_ranges = a->num_ranges;
    out->num_files = a->m.num_files;
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
        *file = p % a->m.num_buckets;
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

pa_status pa_artifact_file(const pa_artifact *a, uint32_t f, const char **path,
                           uint64_t *num_rows, uint64_t *bytes)
{
    if (f >= a->m.num_files)
        return pa_fail(PA_ERR_RANGE, "%s: file %u does not exist (the artifact has %u)", a->dir,
                       f, a->m.num_files);
    if (path)
        *path = a->m.files[f].path;
    if (num_rows)
        *num_rows = a->m.files[f].rows;
    if (bytes)
        *bytes = a->m.files[f].bytes;
    return PA_OK;
}

/* Reads partition p's ranges: row ids and/or codes (the shuffle read). */
pa_status pa_artifact_read_partition(pa_artifact *a, uint32_t p, uint64_t *row_ids,
                                     uint8_t *codes)
{
    if (p >= a->m.num_partitions)
        return pa_fail(PA_ERR_RANGE, "%s: partition %u does not exist (the artifact has %u)",
                       a->dir, p, a->m.num_partitions);
    const pa_part_ranges *pr = &a->m.parts[p];
    pa_lance_reader *r = a->files[p % a->m.num_buckets];
    uint64_t at = 0;
    for (uint32_t k = 0; k < pr->num_ranges; k++) {
        const pa_range *rg = &pr->ranges[k];
        pa_status st = PA_OK;
        if (row_ids)
            st = pa_lance_reader_read(r, 0, rg->offset, rg->num_rows, row_ids + at);
        if (st == PA_OK && codes)
            st = pa_lance_reader_read(r, 2, rg->offset, rg->num_rows,
                                      codes + at * a->m.code_bytes);
        if (st != PA_OK)
            return pa_fail_prefix(st, "%s: partition %u range %u", a->dir, p, k);
        at += rg->num_rows;
    }
    return PA_OK;
}

uint64_t pa_artifact_bytes_read(const pa_artifact *a)
{
    uint64_t n = 0;
    for (uint32_t f = 0; f < a->m.num_files; f++)
        n += pa_lance_reader_bytes_read(a->files[f]);
    return n;
}

typedef struct owned_range {
    uint64_t offset, num_rows;
    uint32_t part;
} owned_range;

static int cmp_owned(const void *x, const void *y)
{
    const owned_range *a = x, *b = y;
    return a->offset < b->offset ? -1 : a->offset > b->offset;
}

/* Checks file f: its checksum, that its ranges tile [0, rows) exactly, and that every row of a
 * range carries that range's part_id. */
static pa_status verify_file(pa_artifact *a, uint32_t f, pa_artifact_verify_report *rep)
{
    const pa_artifact_file_rec *rec = &a->m.files[f];
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", a->dir, rec->path);
    uint64_t h;
    pa_status st = pa_file_xxh64(path, &h, &rep->bytes_hashed);
    if (st != PA_OK)
        return st;
    if (h != rec->xxh64)
        return pa_fail(PA_ERR_FORMAT, "%s: XXH64 is %016" PRIx64 ", the manifest says %016" PRIx64
                       " (the file was changed or damaged)", path, h, rec->xxh64);
    size_t n = 0;
    for (uint32_t p = f; p < a->m.num_partitions; p += a->m.num_buckets)
        n += a->m.parts[p].num_ranges;
    owned_range *rs = pa_malloc((n ? n : 1) * sizeof *rs, "range list");
    if (!rs)
        return PA_ERR_NOMEM;
    size_t k = 0;
    for (uint32_t p = f; p < a->m.num_partitions; p += a->m.num_buckets)
        for (uint32_t r = 0; r < a->m.parts[p].num_ranges; r++)
            rs[k++] = (owned_range){a->m.parts[p].ranges[r].offset,
                                    a->m.parts[p].ranges[r].num_rows, p};
    qsort(rs, n, sizeof *rs, cmp_owned);
    uint64_t expect = 0;
    for (size_t i = 0; i < n && st == PA_OK; i++) {
        if (rs[i].offset != expect)
            st = pa_fail(PA_ERR_FORMAT, "%s: rows [%" PRIu64 ", %" PRIu64 ") %s (partition %u's "
                         "range starts at %" PRIu64 ")", path,
                         PA_MIN(expect, rs[i].offset), PA_MAX(expect, rs[i].offset),
                         rs[i].offset > expect ? "belong to no range" : "are in two ranges",
                         rs[i].part, rs[i].offset);
        expect = rs[i].offset + rs[i].num_rows;
    }
    if (st == PA_OK && expect != rec->rows)
        st = pa_fail(PA_ERR_FORMAT, "%s: ranges end at row %" PRIu64 ", the file has %" PRIu64,
                     path, expect, rec->rows);
    /* part ids, in pieces of at most 1M rows */
    const uint64_t piece = 1u << 20;
    uint32_t *ids = st == PA_OK ? pa_malloc((size_t)piece * 4, "part id buffer") : NULL;
    if (st == PA_OK && !ids)
        st = PA_ERR_NOMEM;
    for (size_t i = 0; i < n && st == PA_OK; i++) {
        for (uint64_t done = 0; done < rs[i].num_rows && st == PA_OK;) {
            uint64_t len = PA_MIN(piece, rs[i].num_rows - done);
            st = pa_lance_reader_read(a->files[f], 1, rs[i].offset + done, len, ids);
            for (uint64_t j = 0; j < len && st == PA_OK; j++)
                if (ids[j] != rs[i].part)
                    st = pa_fail(PA_ERR_FORMAT, "%s: row %" PRIu64 " has part_id %u but lies in "
                                 "a range of partition %u", path, rs[i].offset + done + j, ids[j],
                                 rs[i].part);
            done += len;
        }
        rep->ranges_checked++;
        rep->rows_checked += rs[i].num_rows;
    }
    free(ids);
    free(rs);
    rep->files_checked++;
    return st;
}

/* Verifies the whole artifact (see the header). */
pa_status pa_artifact_verify(pa_artifact *a, pa_artifact_verify_report *report)
{
    pa_artifact_verify_report local = {0};
    pa_artifact_verify_report *rep = report ? report : &local;
    memset(rep, 0, sizeof *rep);
    for (uint32_t f = 0; f < a->m.num_files; f++) {
        pa_status st = verify_file(a, f, rep);
        if (st != PA_OK)
            return st;
    }
    if (rep->rows_checked != a->m.total_rows)
        return pa_fail(PA_ERR_FORMAT, "%s: %" PRIu64 " rows checked, total_rows is %" PRIu64,
                       a->dir, rep->rows_checked, a->m.total_rows);
    return PA_OK;
}

/* ---- scan with read-ahead ---- */

typedef struct slot {
    uint32_t part;
    uint64_t rows;
    uint64_t *ids;
    uint8_t *codes;
    bool ready;
    pa_status st;
    char *err; /* the failure message, when st != PA_OK */
} slot;

struct pa_artifact_scan {
    pa_artifact *a;
    pthread_t *threads;
    unsigned nthreads;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    slot *slots;          /* one per partition, filled in order of claim */
    uint32_t next_claim;  /* next partition a reader thread takes */
    uint32_t next_out;    /* next partition handed to the caller */
    uint64_t inflight;    /* bytes of claimed partitions not yet released */
    uint64_t budget;
    bool stop;
};

static uint64_t part_bytes(const pa_artifact *a, uint32_t p)
{
    return a->m.parts[p].num_rows * (8 + (uint64_t)a->m.code_bytes);
}

/* Reader thread: claims the next partition when the byte budget allows (always when nothing is
 * in flight), reads it, marks it ready. */
static void *scan_worker(void *arg)
{
    pa_artifact_scan *s = arg;
    pa_artifact *a = s->a;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->stop && s->next_claim < a->m.num_partitions && s->inflight > 0 &&
               s->inflight + part_bytes(a, s->next_claim) > s->budget)
            pthread_cond_wait(&s->cv, &s->mu);
        if (s->stop || s->next_claim >= a->m.num_partitions)
            break;
        uint32_t p = s->next_claim++;
        s->inflight += part_bytes(a, p);
        pthread_mutex_unlock(&s->mu);

        slot *sl = &s->slots[p];
        uint64_t n = a->m.parts[p].num_rows;
        sl->part = p;
        sl->rows = n;
        sl->ids = pa_malloc((size_t)n * 8, "partition row ids");
        sl->codes = pa_malloc((size_t)n * a->m.code_bytes, "partition codes");
        sl->st = sl->ids && sl->codes ? pa_artifact_read_partition(a, p, sl->ids, sl->codes)
                                      : PA_ERR_NOMEM;
        if (sl->st != PA_OK)
            sl->err = strdup(pa_last_error());

        pthread_mutex_lock(&s->mu);
        sl->ready = true;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

pa_status pa_artifact_scan_create(pa_artifact_scan **out, pa_artifact *a,
                                  uint64_t readahead_bytes, unsigned num_threads)
{
    *out = NULL;
    pa_artifact_scan *s = pa_calloc(1, sizeof *s, "artifact scan");
    if (!s)
        return PA_ERR_NOMEM;
    s->a = a;
    s->budget = readahead_bytes ? readahead_bytes : (64u << 20);
    s->nthreads = num_threads ? PA_MIN(num_threads, 64u) : 2;
    s->slots = pa_calloc(a->m.num_partitions, sizeof *s->slots, "scan slots");
    s->threads = pa_calloc(s->nthreads, sizeof *s->threads, "scan threads");
    if (!s->slots || !s->threads) {
        free(s->slots);
        free(s->threads);
        free(s);
        return PA_ERR_NOMEM;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    for (unsigned t = 0; t < s->nthreads; t++)
        if (pthread_create(&s->threads[t], NULL, scan_worker, s) != 0) {
            s->nthreads = t;
            pa_artifact_scan_free(s);
            return pa_fail(PA_ERR_NOMEM, "%s: cannot start scan threads", a->dir);
        }
    *out = s;
    return PA_OK;
}

/* Releases the previous partition, then waits for the next one in id order. */
pa_status pa_artifact_scan_next(pa_artifact_scan *s, uint32_t *part, const uint64_t **row_ids,
                                const uint8_t **codes, uint64_t *num_rows, int *done)
{
    pa_artifact *a = s->a;
    pthread_mutex_lock(&s->mu);
    if (s->next_out > 0) {
        slot *prev = &s->slots[s->next_out - 1];
        if (prev->ids || prev->codes) {
            free(prev->ids);
            free(prev->codes);
            prev->ids = NULL;
            prev->codes = NULL;
            s->inflight -= part_bytes(a, s->next_out - 1);
            pthread_cond_broadcast(&s->cv);
        }
    }
    if (s->next_out >= a->m.num_partitions) {
        pthread_mutex_unlock(&s->mu);
        *done = 1;
        return PA_OK;
    }
    slot *sl = &s->slots[s->next_out];
    while (!sl->ready)
        pthread_cond_wait(&s->cv, &s->mu);
    s->next_out++;
    pthread_mutex_unlock(&s->mu);
    *done = 0;
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
    for (uint32_t p = 0; p < s->a->m.num_partitions; p++) {
        free(s->slots[p].ids);
        free(s->slots[p].codes);
        free(s->slots[p].err);
    }
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->slots);
    free(s->threads);
    free(s);
}

/* The XXH64 the manifest records for the model (0 if none): the finalizer checks the model it
 * is given is the one the codes were made with. */
uint64_t pa_artifact_model_xxh64(const pa_artifact *a)
{
    return a->m.model ? a->m.model_xxh64 : 0;
}
