/* The generic path: finalize from a Lance file of (row_id, part_id, pq_code) rows in any
 * order, or from a directory of Lance's precomputed shuffle buffers (lance-cuvs' older output,
 * see open_shuffle). Without an artifact's ranges the rows must be re-grouped: the file is read in chunks
 * that fit the memory budget, each chunk counting-sorted by part_id; if the whole file fits in
 * one chunk the partitions go straight to the index writer, else every sorted chunk is spilled
 * as a run (with its per-partition counts kept in memory) and the runs are merged partition by
 * partition, each run read sequentially. The index writer then gives each partition the same
 * order as the artifact path, so both write the same index. */
#include "index/index_internal.h"
#include "artifact/artifact_internal.h"
#include "ivfpq/ivfpq_internal.h"
#include "lance/lance_internal.h" /* pa_lance_reader_column_values */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIN_CHUNK_ROWS 256
#define MIN_RUN_RECORDS 16        /* the smallest read buffer of a spilled run */
#define MAX_RUN_BUFFER (4u << 20) /* and the largest: enough for sequential reads */

/* Lance's precomputed shuffle buffers (lance-index src/vector/ivf/shuffler.rs,
 * IvfShuffler::write_partitioned_shuffles; what lance-cuvs 364d2a1 writes through it,
 * backends/cuvs_26_02/src/backend.rs, assign_ivf_pq_to_artifact): files "<root>_<first
 * batch>.lance" ("sorted_0.lance", "sorted_16.lance", ...; Lance file format 2.0) of one column
 * "partitions", list<item: struct<_rowid uint64, __ivf_part_id uint32, __pq_code
 * fixed_size_list<uint8, M>>>, one row per partition present in the file (in partition order)
 * holding its rows; beside them the model, PA_ARTIFACT_METADATA_FILE (lance-cuvs' name). The
 * flat layout of the same three columns at the top level (the shuffler's unsorted input) is
 * read too. */
#define SHUFFLE_LIST "partitions.item."
#define SHUFFLE_COL_ROW_ID "_rowid"
#define SHUFFLE_COL_PART_ID "__ivf_part_id"
#define SHUFFLE_COL_CODE "__pq_code"
#define SHUFFLE_UNSORTED_FILE "unsorted.lance" /* the shuffler's input (v1), left by a crash */
#define SHUFFLE_MAX_FILES 65536u               /* shuffle files in one directory */

/* One input file of the generic path: a rows file, or one shuffle file. */
typedef struct rows_src {
    char *path;
    pa_lance_reader *r;
    size_t col[3]; /* row id, part id, code */
    uint64_t rows;
} rows_src;

/* Bytes of one sorted record (row id, then code), in a chunk and in a spilled run. */
static inline size_t rec_bytes(uint32_t M) { return 8 + (size_t)M; }

/* One spilled run: an unlinked temporary file of (row_id, code) records sorted by partition. */
typedef struct run {
    int fd;
    uint64_t *counts;  /* rows per partition */
    uint64_t read_off; /* next record's byte offset */
    uint64_t size;
    uint8_t *buf; /* read buffer */
    size_t buf_len, buf_pos, buf_cap;
} run;

typedef struct regroup {
    const char *rows_path;
    bool shuffle; /* rows_path is a directory of shuffle files */
    rows_src *srcs;
    size_t nsrc;
    uint32_t P, M;
    uint64_t chunk_rows;
    /* chunk buffers */
    uint64_t *ids;
    uint32_t *parts;
    uint8_t *codes;
    uint8_t *recs; /* sorted records: row id (8) + code (M) */
    uint64_t *counts, *starts;
    /* spill */
    const char *tmp_dir;
    run *runs;
    uint32_t num_runs;
    uint64_t spill_written, spill_read;
} regroup;

/* Opens one shuffle file and finds its three columns (nested in "partitions", or at the top
 * level), checking their types, that they hold the same rows, and the code width (*M: 0 for
 * the first file, which sets it). */
static pa_status open_shuffle_file(rows_src *s, uint32_t *M)
{
    pa_status st = pa_lance_reader_open(&s->r, s->path);
    if (st != PA_OK)
        return st;
    static const char *names[3] = {SHUFFLE_COL_ROW_ID, SHUFFLE_COL_PART_ID, SHUFFLE_COL_CODE};
    static const pa_type types[3] = {PA_TYPE_UINT64, PA_TYPE_UINT32, PA_TYPE_FSL_UINT8};
    static const char *tnames[3] = {"uint64", "uint32", "fixed_size_list<uint8, M>"};
    for (int i = 0; i < 3; i++) {
        char nested[64];
        pa_field f;
        snprintf(nested, sizeof nested, "%s%s", SHUFFLE_LIST, names[i]);
        if (pa_lance_reader_find_field(s->r, nested, &s->col[i]) != PA_OK &&
            pa_lance_reader_find_field(s->r, names[i], &s->col[i]) != PA_OK)
            return pa_fail(PA_ERR_FORMAT,
                           "shuffle file %s: no column \"%s\" (a shuffle file holds partitions: "
                           "list<struct<_rowid uint64, __ivf_part_id uint32, __pq_code "
                           "fixed_size_list<uint8, M>>>)",
                           s->path, nested);
        if ((st = pa_lance_reader_field(s->r, s->col[i], &f)) != PA_OK)
            return st;
        if (f.type != types[i])
            return pa_fail(PA_ERR_FORMAT, "shuffle file %s: column \"%s\" is %s, not %s", s->path,
                           f.name, pa_lance_reader_logical_type(s->r, s->col[i]), tnames[i]);
        if (i == 2 && *M && f.dim != *M)
            return pa_fail(PA_ERR_FORMAT,
                           "shuffle file %s: column \"%s\" holds %u-byte codes, the directory's "
                           "first file %u-byte ones",
                           s->path, f.name, f.dim, *M);
        if (i == 2)
            *M = f.dim;
    }
    s->rows = pa_lance_reader_column_values(s->r, s->col[0]);
    for (int i = 1; i < 3; i++)
        if (pa_lance_reader_column_values(s->r, s->col[i]) != s->rows)
            return pa_fail(PA_ERR_FORMAT,
                           "shuffle file %s: column \"%s\" holds %llu rows, \"%s\" %llu", s->path,
                           names[i],
                           (unsigned long long)pa_lance_reader_column_values(s->r, s->col[i]),
                           names[0], (unsigned long long)s->rows);
    return PA_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Opens every shuffle file of directory dir: each "*.lance" but the model (metadata.lance)
 * and the shuffler's unsorted input (unsorted.lance: the same rows again, in Lance's legacy
 * format, which lance-cuvs removes once the sorted files are written), in name order. */
static pa_status open_shuffle(regroup *g, const char *dir, uint32_t *M)
{
    DIR *d = opendir(dir);
    if (!d)
        return pa_fail(PA_ERR_IO, "shuffle directory %s: cannot open: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0;
    pa_status st = PA_OK;
    struct dirent *e;
    while (st == PA_OK && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len <= 6 || strcmp(e->d_name + len - 6, ".lance") || e->d_name[0] == '.' ||
            !strcmp(e->d_name, PA_ARTIFACT_METADATA_FILE) ||
            !strcmp(e->d_name, SHUFFLE_UNSORTED_FILE))
            continue;
        char **nn = n < SHUFFLE_MAX_FILES ? pa_realloc(names, (n + 1) * sizeof *nn, "shuffle files")
                                          : NULL;
        if (n >= SHUFFLE_MAX_FILES)
            st = pa_fail(PA_ERR_INVALID, "shuffle directory %s: more than %u shuffle files", dir,
                         SHUFFLE_MAX_FILES);
        else if (!nn || !(nn[n] = pa_malloc(strlen(dir) + len + 2, "shuffle file"))) {
            if (nn)
                names = nn;
            st = PA_ERR_NOMEM;
        } else {
            names = nn;
            sprintf(names[n++], "%s/%s", dir, e->d_name);
        }
    }
    closedir(d);
    if (st == PA_OK && n == 0)
        st = pa_fail(PA_ERR_INVALID,
                     "shuffle directory %s: no shuffle files (*.lance other than %s and %s)", dir,
                     PA_ARTIFACT_METADATA_FILE, SHUFFLE_UNSORTED_FILE);
    if (st == PA_OK && !(g->srcs = pa_calloc(n, sizeof *g->srcs, "shuffle files")))
        st = PA_ERR_NOMEM;
    if (st == PA_OK)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (st == PA_OK) {
            g->srcs[g->nsrc].path = names[i];
            st = open_shuffle_file(&g->srcs[g->nsrc++], M);
        } else {
            free(names[i]);
        }
    }
    free(names);
    return st;
}

/* Opens the rows file and finds its three columns, checking their types and code width. */
static pa_status open_rows(const char *path, pa_lance_reader **r, size_t col[3], uint32_t *M)
{
    pa_status st = pa_lance_reader_open(r, path);
    if (st != PA_OK)
        return st;
    static const char *names[3] = {PA_ARTIFACT_COL_ROW_ID, PA_ARTIFACT_COL_PART_ID,
                                   PA_ARTIFACT_COL_CODE};
    static const pa_type types[3] = {PA_TYPE_UINT64, PA_TYPE_UINT32, PA_TYPE_FSL_UINT8};
    static const char *tnames[3] = {"uint64", "uint32", "fixed_size_list<uint8, M>"};
    for (int i = 0; i < 3; i++) {
        pa_field f;
        if (pa_lance_reader_find_field(*r, names[i], &col[i]) != PA_OK)
            return pa_fail(PA_ERR_FORMAT,
                           "rows file %s: no column \"%s\" (expected row_id "
                           "uint64, part_id uint32, pq_code fixed_size_list<uint8, M>)",
                           path, names[i]);
        if ((st = pa_lance_reader_field(*r, col[i], &f)) != PA_OK)
            return st;
        if (f.type != types[i])
            return pa_fail(PA_ERR_FORMAT, "rows file %s: column \"%s\" is not %s", path, names[i],
                           tnames[i]);
        if (i == 2)
            *M = f.dim;
    }
    return PA_OK;
}

/* Counting sort of a chunk of n rows by part_id into g->recs; counts and starts per part. */
static pa_status sort_chunk(regroup *g, uint64_t first_row, uint64_t n)
{
    const uint32_t P = g->P, M = g->M;
    memset(g->counts, 0, sizeof(uint64_t) * P);
    for (uint64_t i = 0; i < n; i++) {
        if (g->parts[i] >= P)
            return pa_fail(PA_ERR_INVALID,
                           "%s %s: row %" PRIu64 " has %s %u, but the model has %u partitions",
                           g->shuffle ? "shuffle directory" : "rows file", g->rows_path,
                           first_row + i, g->shuffle ? SHUFFLE_COL_PART_ID : "part_id", g->parts[i],
                           P);
        g->counts[g->parts[i]]++;
    }
    uint64_t s = 0;
    for (uint32_t p = 0; p < P; p++)
        g->starts[p] = s, s += g->counts[p];
    const size_t rec = rec_bytes(M);
    for (uint64_t i = 0; i < n; i++) {
        uint8_t *dst = g->recs + (g->starts[g->parts[i]]++) * rec;
        memcpy(dst, &g->ids[i], 8);
        memcpy(dst + 8, g->codes + i * M, M);
    }
    for (uint32_t p = 0; p < P; p++)
        g->starts[p] -= g->counts[p];
    return PA_OK;
}

/* Writes the sorted chunk as a new run: a temporary file, unlinked at once so that nothing is
 * left behind whatever happens to this process. */
static pa_status spill_chunk(regroup *g, uint64_t n)
{
    char path[4096 + 64]; /* tmp_dir (under 4096) and the file name */
    snprintf(path, sizeof path, "%s/partifact-spill-%ld-%u.tmp", g->tmp_dir, (long)getpid(),
             g->num_runs);
    pa_status st = PA_OK;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        st = pa_fail_field(PA_ERR_IO, "tmp_dir",
                           "spill %s: cannot create: %s (choose another tmp_dir)", path,
                           strerror(errno));
        goto done;
    }
    unlink(path);
    run *rs = pa_realloc(g->runs, sizeof(run) * (g->num_runs + 1), "spill runs");
    if (!rs) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    g->runs = rs;
    run *r = &rs[g->num_runs++];
    memset(r, 0, sizeof *r);
    r->fd = fd, fd = -1; /* the run's now, closed with it */
    if (!(r->counts = pa_malloc(sizeof(uint64_t) * g->P, "spill run counts"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    memcpy(r->counts, g->counts, sizeof(uint64_t) * g->P);
    r->size = n * rec_bytes(g->M);
    st = pa_pwrite_full(r->fd, g->recs, r->size, 0, path);
    g->spill_written += r->size;
done:
    if (fd >= 0)
        close(fd);
    return st;
}

/* Reads `count` records from run r (sequentially, through its buffer) into ids/codes. */
static pa_status run_take(regroup *g, run *r, uint64_t count, uint64_t *ids, uint8_t *codes)
{
    const size_t rec = rec_bytes(g->M);
    for (uint64_t i = 0; i < count; i++) {
        if (r->buf_pos + rec > r->buf_len) {
            /* buffers hold whole records, so the buffer is used up exactly here */
            uint64_t left = r->size - r->read_off;
            size_t want = (size_t)PA_MIN((uint64_t)(r->buf_cap / rec * rec), left);
            if (want < rec)
                return pa_fail(PA_ERR_FORMAT, "spill run %u: ends early", (unsigned)(r - g->runs));
            pa_status st = pa_pread_full(r->fd, r->buf, want, r->read_off, "spill run");
            if (st != PA_OK)
                return st;
            r->read_off += want, g->spill_read += want;
            r->buf_len = want, r->buf_pos = 0;
        }
        memcpy(&ids[i], r->buf + r->buf_pos, 8);
        memcpy(codes + i * g->M, r->buf + r->buf_pos + 8, g->M);
        r->buf_pos += rec;
    }
    return PA_OK;
}

/* Merges the runs: for each partition in order, its records from every run in run order. */
static pa_status merge_runs(regroup *g, pa_index_writer *w, uint64_t budget)
{
    const size_t rec = rec_bytes(g->M);
    uint64_t maxp = 0;
    uint32_t max_p = 0;
    for (uint32_t p = 0; p < g->P; p++) {
        uint64_t s = 0;
        for (uint32_t r = 0; r < g->num_runs; r++)
            s += g->runs[r].counts[p];
        if (s > maxp)
            maxp = s, max_p = p;
    }
    /* one partition is held whole while it is sorted and written (as merged, then the
     * writer's sort keys and sorted copies); the runs' read buffers share what is left of the
     * budget, at least MIN_RUN_RECORDS records each. A partition that does not fit with them is
     * refused, with the numbers, before the merge starts rather than killed for memory
     * half-way through it. */
    const uint64_t need = pa_index_partition_bytes(maxp, g->M);
    const uint64_t least = (uint64_t)MIN_RUN_RECORDS * rec * g->num_runs;
    if (need + least > budget)
        return pa_fail_field(
            PA_ERR_BUDGET, "memory_bytes",
            "rows file %s: partition %u holds %" PRIu64 " rows, which need %" PRIu64
            " bytes to merge, sort and write, and the read buffers of %u spilled runs "
            "at least %" PRIu64 " more: more than the memory budget "
            "of %" PRIu64 " bytes; raise memory_bytes",
            g->rows_path, max_p, maxp, need, g->num_runs, least, budget);
    size_t cap = (size_t)PA_MIN((budget - need) / g->num_runs, (uint64_t)MAX_RUN_BUFFER);
    cap = cap / rec * rec;
    for (uint32_t r = 0; r < g->num_runs; r++) {
        g->runs[r].buf_cap = cap;
        if (!(g->runs[r].buf = pa_malloc(cap, "spill read buffer")))
            return PA_ERR_NOMEM;
    }
    uint64_t *ids = pa_malloc(sizeof(uint64_t) * PA_MAX(maxp, 1), "partition row ids");
    uint8_t *codes = pa_malloc(PA_MAX(maxp, 1) * g->M, "partition codes");
    pa_status st = ids && codes ? PA_OK : PA_ERR_NOMEM;
    for (uint32_t p = 0; p < g->P && st == PA_OK; p++) {
        uint64_t n = 0;
        for (uint32_t r = 0; r < g->num_runs && st == PA_OK; r++) {
            st = run_take(g, &g->runs[r], g->runs[r].counts[p], ids + n, codes + n * g->M);
            n += g->runs[r].counts[p];
        }
        if (st == PA_OK)
            st = pa_index_writer_add_partition(w, p, ids, codes, n);
    }
    free(ids), free(codes);
    return st;
}

/* Reads rows [off, off + n) of the input (the sources one after the other) into the chunk
 * buffers; a shuffle file's part ids are checked against the model as they are read, naming the
 * file and its row. */
static pa_status read_chunk(regroup *g, uint64_t off, uint64_t n)
{
    uint64_t base = 0, done = 0;
    for (size_t i = 0; i < g->nsrc && done < n; base += g->srcs[i++].rows) {
        rows_src *s = &g->srcs[i];
        if (off + done >= base + s->rows)
            continue;
        uint64_t at = off + done - base, m = PA_MIN(n - done, s->rows - at);
        pa_status st;
        if ((st = pa_lance_reader_read(s->r, s->col[0], at, m, g->ids + done)) != PA_OK ||
            (st = pa_lance_reader_read(s->r, s->col[1], at, m, g->parts + done)) != PA_OK ||
            (st = pa_lance_reader_read(s->r, s->col[2], at, m, g->codes + done * g->M)) != PA_OK)
            return st;
        for (uint64_t k = 0; g->shuffle && k < m; k++)
            if (g->parts[done + k] >= g->P)
                return pa_fail(PA_ERR_INVALID,
                               "shuffle file %s: row %" PRIu64 " has %s %u, but the model has %u "
                               "partitions",
                               s->path, at + k, SHUFFLE_COL_PART_ID, g->parts[done + k], g->P);
        done += m;
    }
    return PA_OK;
}

/* Rows file -> index: read in budget-sized chunks, counting-sort each by partition; one
 * chunk goes straight to the writer, several are spilled and merged partition by partition. */
pa_status pa_index_finalize_rows(const char *rows_path, const char *model_path, const char *out_dir,
                                 const pa_index_finalize_options *opts,
                                 pa_index_finalize_stats *stats)
{
    char tmp[4096]; /* where sorted runs spill */
    pa_index_finalize_options o;
    uint64_t budget;
    const double t0 = pa_now_seconds();
    pa_status begin_st = pa_finalize_begin(opts, stats, &o, &budget);
    if (begin_st != PA_OK)
        return begin_st;
    if (!rows_path || !out_dir)
        return pa_fail(PA_ERR_INVALID, "a rows file (or shuffle directory) and an output "
                                       "directory are required");
    if (o.tmp_dir)
        snprintf(tmp, sizeof tmp, "%s", o.tmp_dir);
    else
        pa_parent_dir(out_dir, tmp, sizeof tmp); /* spill files next to the output */
    regroup g = {.rows_path = rows_path, .tmp_dir = tmp};
    pa_lance_reader *r = NULL;
    pa_ivfpq_model *model = NULL;
    pa_index_writer *w = NULL;
    size_t col[3];
    pa_backend_model arr = {0};
    struct stat sb;
    char meta_model[4200];
    g.shuffle = stat(rows_path, &sb) == 0 && S_ISDIR(sb.st_mode);
    if (g.shuffle && !model_path) { /* the shuffle directory's own model, as lance-cuvs writes */
        snprintf(meta_model, sizeof meta_model, "%s/%s", rows_path, PA_ARTIFACT_METADATA_FILE);
        model_path = meta_model;
    }
    pa_status st = model_path ? pa_ivfpq_model_load(&model, model_path)
                              : pa_fail_field(PA_ERR_INVALID, "model_path",
                                              "rows file %s: a model is required (the model the "
                                              "codes were made with)",
                                              rows_path);
    if (st == PA_OK && g.shuffle)
        st = open_shuffle(&g, rows_path, &g.M);
    else if (st == PA_OK && (st = open_rows(rows_path, &r, col, &g.M)) == PA_OK) {
        if (!(g.srcs = pa_calloc(1, sizeof *g.srcs, "rows file")) ||
            !(g.srcs[0].path = pa_strdup(rows_path, "rows file"))) {
            st = PA_ERR_NOMEM;
        } else {
            g.srcs[0].r = r, g.nsrc = 1;
            memcpy(g.srcs[0].col, col, sizeof col);
            g.srcs[0].rows = pa_lance_reader_num_rows(r);
        }
    }
    if (st == PA_OK) {
        pa_ivfpq_model_arrays(model, &arr);
        g.P = arr.num_partitions;
        st = pa_index_check_model(&arr, model_path, g.shuffle ? "shuffle directory" : "rows file",
                                  rows_path, 0, g.M, 0, 0, NULL);
    }
    uint64_t total = 0;
    for (size_t i = 0; st == PA_OK && i < g.nsrc; i++)
        total += g.srcs[i].rows;
    /* per row: id, part, code as read, plus the sorted record */
    const uint64_t per_row = 8 + 4 + (uint64_t)g.M + rec_bytes(g.M);
    if (st == PA_OK) {
        g.chunk_rows = PA_MAX(budget / per_row, (uint64_t)MIN_CHUNK_ROWS);
        g.chunk_rows = PA_MIN(g.chunk_rows, PA_MAX(total, 1));
        g.ids = pa_malloc(8 * g.chunk_rows, "regroup row ids");
        g.parts = pa_malloc(4 * g.chunk_rows, "regroup part ids");
        g.codes = pa_malloc(g.chunk_rows * g.M, "regroup codes");
        g.recs = pa_malloc(g.chunk_rows * rec_bytes(g.M), "regroup records");
        g.counts = pa_malloc(sizeof(uint64_t) * g.P, "regroup counts");
        g.starts = pa_malloc(sizeof(uint64_t) * g.P, "regroup starts");
        if (!g.ids || !g.parts || !g.codes || !g.recs || !g.counts || !g.starts)
            st = PA_ERR_NOMEM;
    }
    uint64_t model_hash = 0;
    if (st == PA_OK)
        st = pa_file_xxh64(model_path, &model_hash, NULL);
    const void *rec_hash;
    size_t rec_len;
    if (st == PA_OK && r &&
        pa_lance_reader_metadata(r, PA_ROWS_META_MODEL, &rec_hash, &rec_len) ==
            PA_OK) { /* rows exported from an artifact name their model */
        char want[17], got[17];
        snprintf(got, sizeof got, "%016" PRIx64, model_hash);
        snprintf(want, sizeof want, "%.*s", (int)PA_MIN(rec_len, (size_t)16),
                 (const char *)rec_hash);
        if (rec_len != 16 || strcmp(want, got) != 0)
            st = pa_fail(PA_ERR_INVALID,
                         "model %s (XXH64 %s) is not the model rows file %s was "
                         "encoded with (XXH64 %s)",
                         model_path, got, rows_path, want);
    }
    if (st == PA_OK)
        st = pa_index_writer_create(&w, out_dir, &arr, model_hash, o.replace != 0);
    /* a rows file export-rows wrote records the checksum of its rows: checked as they are
     * read (once, in order), before anything is committed */
    uint64_t want_sum = 0;
    pa_rows_hash *rh = NULL;
    if (st == PA_OK && r &&
        pa_lance_reader_metadata(r, PA_ROWS_META_CHECKSUM, &rec_hash, &rec_len) == PA_OK) {
        char hex[17] = "", *end = NULL;
        snprintf(hex, sizeof hex, "%.*s", (int)PA_MIN(rec_len, (size_t)16), (const char *)rec_hash);
        want_sum = strtoull(hex, &end, 16);
        if (rec_len != 16 || *end)
            st = pa_fail(PA_ERR_FORMAT, "rows file %s: its checksum (%s) is not 16 hex digits",
                         rows_path, PA_ROWS_META_CHECKSUM);
        else
            st = pa_rows_hash_new(&rh, g.M);
    }
    bool one_chunk = total <= g.chunk_rows;
    for (uint64_t off = 0; st == PA_OK && off < total; off += g.chunk_rows) {
        uint64_t n = PA_MIN(g.chunk_rows, total - off);
        if ((st = read_chunk(&g, off, n)) != PA_OK)
            break;
        if (rh) {
            pa_rows_hash_update(rh, g.ids, g.parts, g.codes, n);
            uint64_t got = off + n == total ? pa_rows_hash_digest(rh) : want_sum;
            if (got != want_sum) {
                st = pa_fail(PA_ERR_FORMAT,
                             "rows file %s: checksum %016" PRIx64 " of its %" PRIu64
                             " rows, the file records %016" PRIx64 " (the rows were changed or "
                             "damaged)",
                             rows_path, got, total, want_sum);
                break;
            }
        }
        if ((st = sort_chunk(&g, off, n)) != PA_OK)
            break;
        if (one_chunk) { /* the writer's copy of the largest partition must fit beside it */
            uint64_t maxp = 0;
            for (uint32_t p = 0; p < g.P; p++)
                maxp = PA_MAX(maxp, g.counts[p]);
            if (n * per_row + pa_index_writer_scratch(maxp, g.M) > budget)
                one_chunk = false; /* then spill it and merge, within the budget */
        }
        if (!one_chunk) {
            st = spill_chunk(&g, n);
            continue;
        }
        /* everything fits: straight from the sorted chunk (ids/codes reused as scratch) */
        const size_t rec = rec_bytes(g.M);
        for (uint32_t p = 0; p < g.P && st == PA_OK; p++) {
            const uint8_t *src = g.recs + g.starts[p] * rec;
            for (uint64_t i = 0; i < g.counts[p]; i++) {
                memcpy(&g.ids[i], src + i * rec, 8);
                memcpy(g.codes + i * g.M, src + i * rec + 8, g.M);
            }
            st = pa_index_writer_add_partition(w, p, g.ids, g.codes, g.counts[p]);
        }
    }
    if (st == PA_OK && !one_chunk) {
        /* the chunk buffers are not needed while merging */
        free(g.ids), free(g.parts), free(g.codes), free(g.recs);
        g.ids = NULL, g.parts = NULL, g.codes = NULL, g.recs = NULL;
        st = merge_runs(&g, w, budget);
    }
    if (st == PA_OK)
        st = pa_index_writer_finish(w);
    if (st == PA_OK && stats) {
        pa_index_finalize_stats s;
        pa_index_writer_stats(w, &s);
        s.bytes_read = g.spill_read;
        for (size_t i = 0; i < g.nsrc; i++)
            s.bytes_read += pa_lance_reader_bytes_read(g.srcs[i].r);
        s.bytes_written += g.spill_written;
        s.spill_bytes = g.spill_written;
        s.spill_runs = g.num_runs;
        s.seconds = pa_now_seconds() - t0;
        pa_stats_store(stats, &s, sizeof s);
    }
    if (st != PA_OK && w)
        pa_fail_prefix(st, "finalize %s", out_dir);
    for (uint32_t i = 0; i < g.num_runs; i++) {
        close(g.runs[i].fd);
        free(g.runs[i].counts), free(g.runs[i].buf);
    }
    free(g.runs);
    pa_rows_hash_free(rh);
    free(g.ids), free(g.parts), free(g.codes), free(g.recs), free(g.counts), free(g.starts);
    pa_index_writer_free(w);
    for (size_t i = 0; i < g.nsrc; i++) /* the rows file's reader r among them */
        pa_lance_reader_free(g.srcs[i].r), free(g.srcs[i].path);
    if (!g.nsrc)
        pa_lance_reader_free(r);
    free(g.srcs);
    pa_ivfpq_model_free(model);
    return st;
}
