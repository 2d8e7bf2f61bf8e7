/* manifest.json: the artifact's commit point (docs/artifact-format.md).
 *
 * The upstream layout (Lance's partition artifact, version 1), with partifact's extras in one
 * member of its own, which Lance's reader (a serde struct without deny_unknown_fields) skips:
 *
 * {
 *   "version": 1, "num_partitions": 256, "metadata_file": "metadata.lance" | null,
 *   "total_loss": null,
 *   "partifact": {"format": "partifact.artifact", "format_version": 3,
 *                 "artifact_id": "0123456789abcdef", "num_buckets": 256, "code_bytes": 16,
 *                 "num_bits": 8, "dimension": 128, "metric": "l2", "total_rows": 1000000,
 *                 "model": {"path": "model.lance", "xxh64": "..."} | null,
 *                 "metadata": {"bytes": 1234, "xxh64": "..."} | null,
 *                 "range_checksum": "xxh3_64", "num_ranges": 512,
 *                 "files": [{"path": "partitions/bucket-00000.lance", "rows": 15625,
 *                            "bytes": 312000, "xxh64": "..."}, ...],
 *                 "range_xxh3": ["<range 0 of partition 0>", ...]},
 *   "partitions": [{"path": "partitions/bucket-00000.lance", "num_rows": 3900,
 *                   "ranges": [{"offset": 0, "num_rows": 1200}, ...]},
 *                  {"path": null, "num_rows": 0, "ranges": []}, ...]
 * }
 *
 * Read too: the same without "partifact" (another program's artifact: structure only), and
 * the partifact 0.1 layout ("format_version": 2 at the top, ranges as [offset, rows, sum]).
 *
 * Loading checks everything that can be checked without reading the bucket files: types and
 * ranges of every field, paths, partition p in bucket p % num_buckets (with the extras), ranges
 * inside their file's rows, every range with its checksum, per-partition, per-file and total
 * row counts adding up. */
#include "artifact/artifact_internal.h"
#include "common/json.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>
#include <xxhash.h>

/* The manifest's member names, for its writer and its readers below. Lance's own
 * (partition_artifact.rs: PartitionArtifactManifest, PartitionArtifactPartition,
 * PartitionArtifactRange): */
#define MK_VERSION "version"
#define MK_NUM_PARTITIONS "num_partitions"
#define MK_METADATA_FILE "metadata_file"
#define MK_TOTAL_LOSS "total_loss"
#define MK_PARTITIONS "partitions"
#define MK_PATH "path"
#define MK_NUM_ROWS "num_rows"
#define MK_RANGES "ranges"
#define MK_OFFSET "offset"
/* partifact's extras, all inside MK_EXTRAS: */
#define MK_EXTRAS "partifact"
#define MK_FORMAT "format"
#define MK_FORMAT_VERSION "format_version"
#define MK_ARTIFACT_ID "artifact_id"
#define MK_NUM_BUCKETS "num_buckets"
#define MK_CODE_BYTES "code_bytes"
#define MK_NUM_BITS "num_bits"
#define MK_DIMENSION "dimension"
#define MK_METRIC "metric"
#define MK_TOTAL_ROWS "total_rows"
#define MK_MODEL "model"
#define MK_METADATA "metadata"
#define MK_RANGE_CHECKSUM "range_checksum"
#define MK_NUM_RANGES "num_ranges"
#define MK_FILES "files"
#define MK_RANGE_XXH3 "range_xxh3"
#define MK_XXH64 "xxh64"
#define MK_ROWS "rows"
#define MK_BYTES "bytes"
#define MK_COVERAGE "coverage" /* optional: the rows a shard holds (src/io/coverage.c) */
/* the 0.1 layout's own (read only): */
#define MK_ID "id"
#define MK_FILE "file"
/* The upstream manifest version partifact writes and reads, and the 0.1 layout's
 * format_version (read only). */
#define UPSTREAM_VERSION 1
#define V01_FORMAT_VERSION 2

void pa_artifact_bucket_path(uint32_t bucket, char *buf, size_t len)
{
    snprintf(buf, len, "%s/bucket-%05u.lance", PA_ARTIFACT_PARTS_DIR, bucket);
}

/* Appends a range (contiguous ranges stay apart: each has its own checksum). */
pa_status pa_part_add_range(pa_part_ranges *p, uint64_t offset, uint64_t num_rows, uint64_t xxh3)
{
    size_t cap = p->cap_ranges;
    if (p->num_ranges == cap &&
        !pa_grow(&p->ranges, &cap, sizeof *p->ranges, 4, "partition ranges"))
        return PA_ERR_NOMEM;
    p->cap_ranges = (uint32_t)cap;
    p->ranges[p->num_ranges++] = (pa_range){offset, num_rows, xxh3};
    p->num_rows += num_rows;
    return PA_OK;
}

void pa_manifest_clear(pa_manifest *m)
{
    for (uint32_t i = 0; m->files && i < m->num_files; i++)
        free(m->files[i].path);
    for (uint32_t p = 0; m->parts && !m->range_table && p < m->num_partitions; p++)
        free(m->parts[p].ranges);
    free(m->range_table);
    free(m->files);
    free(m->parts);
    free(m->metric);
    free(m->model);
    free(m->metadata_file);
    free(m->part_file);
    free(m->coverage);
    memset(m, 0, sizeof *m);
}

/* The manifest is written as a stream (pa_json_stream) rather than built as one JSON tree: an
 * artifact of hundreds of millions of rows can have millions of ranges, and a tree of them
 * (about 150 bytes per range) would need far more memory than the writer's budget, at the very
 * end of a long run. The output is what jansson's JSON_COMPACT gives for the same document. */
typedef struct manifest_sink {
    int fd;
    const char *path;
    uint64_t off;
} manifest_sink;

static pa_status manifest_put(void *ctx, const void *data, size_t len)
{
    manifest_sink *k = ctx;
    pa_status st = pa_pwrite_full(k->fd, data, len, k->off, k->path);
    k->off += len;
    return st;
}

/* A 16-hex-digit identity or checksum, as the manifest spells them. */
static void hex64(pa_json_stream *w, const char *key, uint64_t v)
{
    char t[17];
    snprintf(t, sizeof t, "%016" PRIx64, v);
    pa_json_stream_string(w, key, t);
}

/* Writes the JSON document for m (and a final newline) to fd: the upstream layout, partifact's
 * extras before the partitions (a reader learns the parameters first). */
static pa_status manifest_write(const pa_manifest *m, int fd, const char *path)
{
    manifest_sink k = {fd, path, 0};
    pa_json_stream *w = pa_malloc(sizeof *w, "manifest buffer");
    if (!w)
        return PA_ERR_NOMEM;
    pa_json_stream_init(w, manifest_put, &k, path);
    uint64_t num_ranges = 0;
    for (uint32_t p = 0; p < m->num_partitions; p++)
        num_ranges += m->parts[p].num_ranges;
    pa_json_stream_object(w, NULL);
    pa_json_stream_int(w, MK_VERSION, UPSTREAM_VERSION);
    pa_json_stream_int(w, MK_NUM_PARTITIONS, m->num_partitions);
    if (m->metadata_file)
        pa_json_stream_string(w, MK_METADATA_FILE, m->metadata_file);
    else
        pa_json_stream_value(w, MK_METADATA_FILE, json_null());
    pa_json_stream_value(w, MK_TOTAL_LOSS,
                         m->has_total_loss ? json_real(m->total_loss) : json_null());

    pa_json_stream_object(w, MK_EXTRAS);
    pa_json_stream_string(w, MK_FORMAT, PA_ARTIFACT_FORMAT);
    pa_json_stream_int(w, MK_FORMAT_VERSION, PA_ARTIFACT_FORMAT_VERSION);
    hex64(w, MK_ARTIFACT_ID, m->artifact_id);
    pa_json_stream_int(w, MK_NUM_BUCKETS, m->num_buckets);
    pa_json_stream_int(w, MK_CODE_BYTES, m->code_bytes);
    pa_json_stream_int(w, MK_NUM_BITS, m->num_bits);
    pa_json_stream_int(w, MK_DIMENSION, m->dimension);
    pa_json_stream_string(w, MK_METRIC, m->metric);
    pa_json_stream_int(w, MK_TOTAL_ROWS, (json_int_t)m->total_rows);
    if (m->model) {
        pa_json_stream_object(w, MK_MODEL);
        pa_json_stream_string(w, MK_PATH, m->model);
        hex64(w, MK_XXH64, m->model_xxh64);
        pa_json_stream_end(w);
    } else {
        pa_json_stream_value(w, MK_MODEL, json_null());
    }
    if (m->metadata_file) {
        pa_json_stream_object(w, MK_METADATA);
        pa_json_stream_int(w, MK_BYTES, (json_int_t)m->metadata_bytes);
        hex64(w, MK_XXH64, m->metadata_xxh64);
        pa_json_stream_end(w);
    } else {
        pa_json_stream_value(w, MK_METADATA, json_null());
    }
    if (m->coverage) /* checked JSON: the writer parsed it */
        pa_json_stream_value(w, MK_COVERAGE, json_loads(m->coverage, 0, NULL));
    pa_json_stream_string(w, MK_RANGE_CHECKSUM, PA_ARTIFACT_RANGE_CHECKSUM);
    pa_json_stream_int(w, MK_NUM_RANGES, (json_int_t)num_ranges);
    pa_json_stream_array(w, MK_FILES);
    for (uint32_t i = 0; i < m->num_files; i++) {
        const pa_artifact_file_rec *f = &m->files[i];
        pa_json_stream_object(w, NULL);
        pa_json_stream_string(w, MK_PATH, f->path);
        pa_json_stream_int(w, MK_ROWS, (json_int_t)f->rows);
        pa_json_stream_int(w, MK_BYTES, (json_int_t)f->bytes);
        hex64(w, MK_XXH64, f->xxh64);
        pa_json_stream_end(w);
    }
    pa_json_stream_end(w);
    pa_json_stream_array(w, MK_RANGE_XXH3);
    for (uint32_t p = 0; p < m->num_partitions; p++)
        for (uint32_t r = 0; r < m->parts[p].num_ranges; r++)
            hex64(w, NULL, m->parts[p].ranges[r].xxh3);
    pa_json_stream_end(w);
    pa_json_stream_end(w); /* the extras */

    pa_json_stream_array(w, MK_PARTITIONS);
    for (uint32_t p = 0; p < m->num_partitions; p++) {
        const pa_part_ranges *pr = &m->parts[p];
        pa_json_stream_object(w, NULL);
        char rel[64];
        pa_artifact_bucket_path(p % m->num_buckets, rel, sizeof rel);
        if (pr->num_rows)
            pa_json_stream_string(w, MK_PATH, rel);
        else /* as Lance's builder writes an empty partition */
            pa_json_stream_value(w, MK_PATH, json_null());
        pa_json_stream_int(w, MK_NUM_ROWS, (json_int_t)pr->num_rows);
        pa_json_stream_array(w, MK_RANGES);
        for (uint32_t r = 0; r < pr->num_ranges; r++) {
            pa_json_stream_object(w, NULL);
            pa_json_stream_int(w, MK_OFFSET, (json_int_t)pr->ranges[r].offset);
            pa_json_stream_int(w, MK_NUM_ROWS, (json_int_t)pr->ranges[r].num_rows);
            pa_json_stream_end(w);
        }
        pa_json_stream_end(w);
        pa_json_stream_end(w);
    }
    pa_json_stream_end(w);
    pa_json_stream_end(w);
    pa_json_stream_raw(w, "\n");
    pa_status st = pa_json_stream_finish(w);
    free(w);
    return st;
}

/* Writes the manifest through the file commit (temporary name, fsync, rename, directory
 * fsync; taken back if that fsync fails, so that a failed commit never leaves an artifact
 * that looks complete). */
pa_status pa_manifest_commit(const pa_manifest *m, const char *dir)
{
    pa_out_file o = {.fd = -1};
    char *final = pa_path_join(dir, "/", PA_ARTIFACT_MANIFEST);
    pa_status st = final ? pa_out_open(&o, final, false) : PA_ERR_NOMEM;
    if (st != PA_OK)
        goto done;
    if ((st = manifest_write(m, o.fd, o.tmp)) != PA_OK)
        goto done;
    st = pa_out_commit(&o);
done:
    pa_out_abort(&o);
    free(final);
    return st;
}

/* ---- loading: a streaming reader, no JSON tree ----
 *
 * jansson builds a tree of about 150 bytes per range, so a manifest of 124k ranges took 82 MB.
 * The manifest is read instead through a 64 KiB buffer by a small pull parser that knows its
 * layout: the scalars go straight into pa_manifest, the ranges into one table allocated once
 * from "num_ranges" (which, like "num_partitions", must come before "partitions"), and unknown
 * members are skipped. Memory is then pa_manifest_bytes(), which the loader checks against the
 * caller's budget before allocating the tables. */

#define JR_BUF (64u << 10)
#define JR_MAX_DEPTH 64
#define JR_MAX_STR 4096

typedef struct jr {
    int fd;
    const char *path;
    uint64_t size; /* the file's bytes */
    uint64_t base; /* file offset of buf[0] */
    size_t n, pos;
    unsigned line, col;
    pa_status st;
    uint8_t buf[JR_BUF];
} jr;

uint64_t pa_manifest_bytes(uint64_t num_partitions, uint64_t num_ranges, uint64_t num_files)
{
    return num_ranges * (sizeof(pa_range) + sizeof(pa_owned_range) /* the open-time sort */) +
           num_partitions * (sizeof(pa_part_ranges) + PA_SCAN_SLOT_BYTES +
                             2 * sizeof(uint32_t) /* its file; its bucket while loading */) +
           num_files * (sizeof(pa_artifact_file_rec) + PA_FILE_PATH_BYTES +
                        sizeof(void *) /* its reader's pointer */ +
                        sizeof(uint32_t) /* the loader's bucket -> file map */) +
           0; /* the parser's 64 KiB buffer is freed before the sort is made */
}

PA_PRINTF(2, 3) static pa_status jr_fail(jr *r, const char *fmt, ...)
{
    if (r->st != PA_OK)
        return r->st;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->st = pa_fail(PA_ERR_FORMAT, "%s: line %u, column %u (byte offset %" PRIu64 "): %s", r->path,
                    r->line, r->col, r->base + r->pos, msg);
    return r->st;
}

/* The next byte without consuming it; -1 at the end of the file or after an error. */
static int jr_peek(jr *r)
{
    if (r->st != PA_OK)
        return -1;
    if (r->pos == r->n) {
        r->base += r->n;
        r->n = r->pos = 0;
        if (r->base >= r->size)
            return -1;
        size_t want = (size_t)PA_MIN((uint64_t)JR_BUF, r->size - r->base);
        if (pa_pread_full(r->fd, r->buf, want, r->base, r->path) != PA_OK) {
            r->st = PA_ERR_IO;
            return -1;
        }
        r->n = want;
    }
    return r->buf[r->pos];
}

static int jr_get(jr *r)
{
    int c = jr_peek(r);
    if (c >= 0) {
        r->pos++;
        if (c == '\n')
            r->line++, r->col = 1;
        else
            r->col++;
    }
    return c;
}

static void jr_ws(jr *r)
{
    int c;
    while ((c = jr_peek(r)) == ' ' || c == '\t' || c == '\n' || c == '\r')
        jr_get(r);
}

static const char *jr_what(int c)
{
    static _Thread_local char b[16];
    if (c < 0)
        return "the end of the file";
    snprintf(b, sizeof b, c >= 32 && c < 127 ? "'%c'" : "byte 0x%02x", c);
    return b;
}

/* Consumes ch (after whitespace) or fails naming what was expected. */
static bool jr_expect(jr *r, int ch, const char *what)
{
    jr_ws(r);
    int c = jr_peek(r);
    if (c != ch) {
        jr_fail(r, "expected %s, found %s", what, jr_what(c));
        return false;
    }
    jr_get(r);
    return true;
}

/* A string (after whitespace) into out (at most cap - 1 bytes), escapes decoded; out NULL
 * skips it, whatever its length. */
static bool jr_string(jr *r, char *out, size_t cap)
{
    if (!jr_expect(r, '"', "a string"))
        return false;
    size_t n = 0;
    for (;;) {
        int c = jr_get(r);
        if (c < 0) {
            jr_fail(r, "unterminated string");
            return false;
        }
        if (c == '"')
            break;
        if (c < 0x20) {
            jr_fail(r, "control character in a string");
            return false;
        }
        if (c == '\\') {
            int e = jr_get(r);
            const char *map = "\"\\/bfnrt", *rep = "\"\\/\b\f\n\r\t";
            const char *k = e > 0 ? strchr(map, e) : NULL;
            if (k && e) {
                c = rep[k - map];
            } else if (e == 'u') {
                unsigned v = 0;
                for (int i = 0; i < 4; i++) {
                    int h = jr_get(r);
                    int d = h >= '0' && h <= '9'   ? h - '0'
                            : h >= 'a' && h <= 'f' ? h - 'a' + 10
                            : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                                   : -1;
                    if (d < 0) {
                        jr_fail(r, "bad \\u escape in a string");
                        return false;
                    }
                    v = v * 16 + (unsigned)d;
                }
                if (v >= 0x80 || v == 0) { /* partifact writes ASCII keys and paths */
                    jr_fail(r, "\\u%04x: only ASCII escapes are read", v);
                    return false;
                }
                c = (int)v;
            } else {
                jr_fail(r, "bad escape in a string");
                return false;
            }
        }
        if (!out)
            continue;
        if (n + 1 >= cap) {
            jr_fail(r, "string longer than %zu bytes", cap - 1);
            return false;
        }
        out[n++] = (char)c;
    }
    if (out)
        out[n] = 0;
    return true;
}

/* A non-negative integer (after whitespace) no larger than max. */
static bool jr_uint(jr *r, const char *what, uint64_t max, uint64_t *out)
{
    jr_ws(r);
    int c = jr_peek(r);
    if (c < '0' || c > '9') {
        jr_fail(r, "%s must be an integer in [0, %" PRIu64 "], found %s", what, max, jr_what(c));
        return false;
    }
    uint64_t v = 0;
    bool over = false;
    while ((c = jr_peek(r)) >= '0' && c <= '9') {
        jr_get(r);
        unsigned d = (unsigned)(c - '0');
        if (v > (UINT64_MAX - d) / 10)
            over = true;
        else
            v = v * 10 + d;
    }
    if (c == '.' || c == 'e' || c == 'E' || over || v > max) {
        jr_fail(r, "%s must be an integer in [0, %" PRIu64 "]", what, max);
        return false;
    }
    *out = v;
    return true;
}

/* 16 hex digits in a string. */
static bool jr_hex64(jr *r, const char *what, uint64_t *out)
{
    char s[32];
    if (!jr_string(r, s, sizeof s))
        return false;
    char *end = NULL;
    errno = 0;
    *out = strtoull(s, &end, 16);
    if (strlen(s) != 16 || errno || *end || s[0] == '-' || s[0] == '+' || s[0] == ' ') {
        jr_fail(r, "%s must be 16 hex digits, got \"%s\"", what, s);
        return false;
    }
    return true;
}

static bool jr_member(jr *r, bool *first, char *key, size_t cap);
static bool jr_elem(jr *r, bool *first);

/* Skips any value (unknown members), nesting at most JR_MAX_DEPTH deep. */
static bool jr_skip(jr *r, int depth)
{
    jr_ws(r);
    int c = jr_peek(r);
    if (depth > JR_MAX_DEPTH) {
        jr_fail(r, "nested more than %d deep", JR_MAX_DEPTH);
        return false;
    }
    if (c == '"')
        return jr_string(r, NULL, 0);
    if (c == '{' || c == '[') {
        bool first = true;
        while (c == '{' ? jr_member(r, &first, NULL, 0) : jr_elem(r, &first))
            if (!jr_skip(r, depth + 1))
                return false;
        return r->st == PA_OK;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        while ((c = jr_peek(r)) == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' ||
               (c >= '0' && c <= '9'))
            jr_get(r);
        return true;
    }
    const char *lits[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++)
        if (c == lits[i][0]) {
            for (const char *l = lits[i]; *l; l++)
                if (jr_get(r) != *l) {
                    jr_fail(r, "malformed literal (expected %s)", lits[i]);
                    return false;
                }
            return true;
        }
    jr_fail(r, "expected a value, found %s", jr_what(c));
    return false;
}

/* Iterates a container's items: call with *first = true before its opening bracket; returns
 * true positioned at the next item, false at the closing bracket or on an error. */
static bool jr_next(jr *r, bool *first, int open, int close)
{
    jr_ws(r);
    if (*first) {
        *first = false;
        char what[4] = {'\'', (char)open, '\'', 0};
        if (!jr_expect(r, open, what))
            return false;
        jr_ws(r);
        if (jr_peek(r) != close)
            return true;
        jr_get(r);
        return false;
    }
    int c = jr_get(r);
    if (c == close)
        return false;
    if (c != ',')
        jr_fail(r, "expected ',' or '%c', found %s", close, jr_what(c));
    return c == ',';
}

/* An object's next member: true with its key read and the ':' consumed. */
static bool jr_member(jr *r, bool *first, char *key, size_t cap)
{
    return jr_next(r, first, '{', '}') && jr_string(r, key, cap) && jr_expect(r, ':', "':'");
}

/* An array's next element. */
static bool jr_elem(jr *r, bool *first) { return jr_next(r, first, '[', ']'); }

/* A file record {"path", "rows", "bytes", "xxh64"} (all four required; others skipped) into f
 * and path (cap bytes), where names it in messages. */
static bool load_file_rec(jr *r, const char *where, pa_artifact_file_rec *f, char *path, size_t cap)
{
    char key[64];
    bool first = true;
    unsigned got = 0;
    while (jr_member(r, &first, key, sizeof key)) {
        char what[160];
        snprintf(what, sizeof what, "%s: \"%s\"", where, key);
        bool ok = true;
        if (!strcmp(key, MK_PATH))
            ok = jr_string(r, path, cap), got |= 1;
        else if (!strcmp(key, MK_ROWS))
            ok = jr_uint(r, what, INT64_MAX, &f->rows), got |= 2;
        else if (!strcmp(key, MK_BYTES))
            ok = jr_uint(r, what, INT64_MAX, &f->bytes), got |= 4;
        else if (!strcmp(key, MK_XXH64))
            ok = jr_hex64(r, what, &f->xxh64), got |= 8;
        else
            ok = jr_skip(r, 3);
        if (!ok)
            return false;
    }
    if (r->st == PA_OK && got != 15)
        jr_fail(r,
                "%s needs \"" MK_PATH "\", \"" MK_ROWS "\", \"" MK_BYTES "\" and \"" MK_XXH64 "\"",
                where);
    return r->st == PA_OK;
}

/* ---- the partifact 0.1 layout (format_version 2), read only ---- */

/* Bits of the members seen, to refuse duplicates and missing ones. */
enum {
    V_FORMAT,
    V_VERSION,
    V_ID,
    V_PARTS,
    V_BUCKETS,
    V_CODE,
    V_BITS,
    V_DIM,
    V_METRIC,
    V_TOTAL,
    V_MODEL,
    V_CHECKSUM,
    V_NRANGES,
    V_FILES,
    V_PARTITIONS,
    V_COUNT
};
static const char *const v01_keys[V_COUNT] = {
    MK_FORMAT,     MK_FORMAT_VERSION, MK_ARTIFACT_ID, MK_NUM_PARTITIONS, MK_NUM_BUCKETS,
    MK_CODE_BYTES, MK_NUM_BITS,       MK_DIMENSION,   MK_METRIC,         MK_TOTAL_ROWS,
    MK_MODEL,      MK_RANGE_CHECKSUM, MK_NUM_RANGES,  MK_FILES,          MK_PARTITIONS};

static bool jr_seen(jr *r, uint32_t *seen, int k, const char *where, const char *const *keys)
{
    if (*seen & (1u << k)) {
        jr_fail(r, "%s has \"%s\" twice", where, keys[k]);
        return false;
    }
    *seen |= 1u << k;
    return true;
}

static bool load_model(jr *r, pa_manifest *m)
{
    jr_ws(r);
    if (jr_peek(r) == 'n')
        return jr_skip(r, 0); /* null */
    bool first = true, have_path = false, have_hash = false;
    char key[64], path[JR_MAX_STR];
    while (jr_member(r, &first, key, sizeof key)) {
        if (!strcmp(key, MK_PATH) && !have_path) {
            if (!jr_string(r, path, sizeof path))
                return false;
            have_path = true;
        } else if (!strcmp(key, MK_XXH64) && !have_hash) {
            if (!jr_hex64(r, MK_MODEL ": \"" MK_XXH64 "\"", &m->model_xxh64))
                return false;
            have_hash = true;
        } else if (!jr_skip(r, 1)) {
            return false;
        }
    }
    if (r->st != PA_OK)
        return false;
    if (!have_path || !have_hash) {
        jr_fail(r, "\"" MK_MODEL "\" needs \"" MK_PATH "\" and \"" MK_XXH64 "\"");
        return false;
    }
    if (!(m->model = pa_strdup(path, "model path")))
        r->st = PA_ERR_NOMEM;
    return r->st == PA_OK;
}

static bool v01_load_files(jr *r, pa_manifest *m)
{
    m->files = pa_calloc(m->num_buckets, sizeof *m->files, "file table");
    if (!m->files) {
        r->st = PA_ERR_NOMEM;
        return false;
    }
    bool first = true;
    uint32_t i = 0;
    while (jr_elem(r, &first)) {
        if (i == m->num_buckets) {
            jr_fail(r, "more than %u files listed for %u buckets", m->num_buckets, m->num_buckets);
            return false;
        }
        pa_artifact_file_rec *f = &m->files[i];
        char where[64], path[JR_MAX_STR] = "", expect[64];
        snprintf(where, sizeof where, "files[%u]", i);
        if (!load_file_rec(r, where, f, path, sizeof path))
            return false;
        pa_artifact_bucket_path(i, expect, sizeof expect);
        if (strcmp(path, expect) != 0) {
            r->st = pa_fail(PA_ERR_FORMAT, "%s: %s has path \"%s\", expected \"%s\"", r->path,
                            where, path, expect);
            return false;
        }
        if (!(f->path = pa_strdup(path, "file path"))) {
            r->st = PA_ERR_NOMEM;
            return false;
        }
        m->num_files = ++i;
    }
    if (r->st == PA_OK && i != m->num_buckets)
        r->st = pa_fail(PA_ERR_FORMAT, "%s: %u files listed for %u buckets", r->path, i,
                        m->num_buckets);
    return r->st == PA_OK;
}

/* One range: [offset, num_rows, "checksum"]; a range without its checksum is refused. */
static bool v01_load_range(jr *r, pa_manifest *m, uint32_t p, uint32_t k)
{
    pa_range *rg = &m->parts[p].ranges[k];
    char what[160];
    bool first = true;
    snprintf(what, sizeof what, "partition %u range %u", p, k);
    if (!jr_elem(r, &first) || !jr_uint(r, what, INT64_MAX, &rg->offset) || !jr_elem(r, &first) ||
        !jr_uint(r, what, INT64_MAX, &rg->num_rows)) {
        if (r->st == PA_OK)
            jr_fail(r, "%s must be [offset, num_rows, \"checksum\"]", what);
        return false;
    }
    if (!jr_elem(r, &first)) {
        if (r->st == PA_OK)
            r->st = pa_fail(PA_ERR_FORMAT,
                            "%s: %s has no checksum (expected [offset, "
                            "num_rows, \"%s\"])",
                            r->path, what, PA_ARTIFACT_RANGE_CHECKSUM);
        return false;
    }
    if (!jr_hex64(r, what, &rg->xxh3))
        return false;
    if (jr_elem(r, &first)) {
        jr_fail(r, "%s has more than [offset, num_rows, \"checksum\"]", what);
        return false;
    }
    if (r->st != PA_OK)
        return false;
    if (rg->num_rows == 0) {
        r->st = pa_fail(PA_ERR_FORMAT, "%s: %s is empty", r->path, what);
        return false;
    }
    return true;
}

static bool v01_load_partitions(jr *r, pa_manifest *m)
{
    m->parts = pa_calloc(m->num_partitions, sizeof *m->parts, "partition table");
    m->range_table = pa_malloc((size_t)PA_MAX(m->num_ranges, 1) * sizeof(pa_range), "range table");
    if (!m->parts || !m->range_table) {
        r->st = PA_ERR_NOMEM;
        return false;
    }
    uint64_t used = 0;
    uint32_t i = 0;
    bool first = true;
    while (jr_elem(r, &first)) {
        if (i == m->num_partitions) {
            jr_fail(r, "more partitions listed than num_partitions (%u)", m->num_partitions);
            return false;
        }
        pa_part_ranges *pr = &m->parts[i];
        pr->ranges = m->range_table + used;
        char where[64], key[64];
        snprintf(where, sizeof where, "partitions[%u]", i);
        uint64_t id = UINT64_MAX, file = UINT64_MAX, rows = UINT64_MAX;
        bool ofirst = true, have_ranges = false;
        while (jr_member(r, &ofirst, key, sizeof key)) {
            char what[160];
            snprintf(what, sizeof what, "%s: \"%s\"", where, key);
            bool ok = true;
            if (!strcmp(key, MK_ID))
                ok = jr_uint(r, what, UINT32_MAX, &id);
            else if (!strcmp(key, MK_FILE))
                ok = jr_uint(r, what, UINT32_MAX, &file);
            else if (!strcmp(key, MK_ROWS))
                ok = jr_uint(r, what, INT64_MAX, &rows);
            else if (!strcmp(key, MK_RANGES) && !have_ranges) {
                have_ranges = true;
                bool afirst = true;
                while (ok && jr_elem(r, &afirst)) {
                    if (used == m->num_ranges) {
                        jr_fail(r, "more ranges listed than num_ranges (%" PRIu64 ")",
                                m->num_ranges);
                        return false;
                    }
                    if (pr->num_ranges == UINT32_MAX) {
                        jr_fail(r, "partition %u has too many ranges", i);
                        return false;
                    }
                    ok = v01_load_range(r, m, i, pr->num_ranges);
                    if (ok) {
                        pr->num_rows += pr->ranges[pr->num_ranges].num_rows;
                        pr->num_ranges++, used++;
                    }
                }
                ok = ok && r->st == PA_OK;
            } else
                ok = jr_skip(r, 2);
            if (!ok)
                return false;
        }
        if (r->st != PA_OK)
            return false;
        if (id == UINT64_MAX || file == UINT64_MAX || rows == UINT64_MAX || !have_ranges) {
            jr_fail(r,
                    "%s needs \"" MK_ID "\", \"" MK_FILE "\", \"" MK_ROWS "\" and \"" MK_RANGES
                    "\"",
                    where);
            return false;
        }
        if (id != i) {
            r->st = pa_fail(PA_ERR_FORMAT,
                            "%s: %s has id %" PRIu64 ", expected %u (partitions "
                            "are listed in id order)",
                            r->path, where, id, i);
            return false;
        }
        if (file != i % m->num_buckets) {
            r->st = pa_fail(PA_ERR_FORMAT,
                            "%s: partition %u is recorded in file %" PRIu64
                            ", but partition %u belongs in bucket %u",
                            r->path, i, file, i, i % m->num_buckets);
            return false;
        }
        if (pr->num_rows != rows) {
            r->st = pa_fail(PA_ERR_FORMAT,
                            "%s: partition %u says %" PRIu64 " rows but its "
                            "ranges hold %" PRIu64,
                            r->path, i, rows, pr->num_rows);
            return false;
        }
        i++;
    }
    if (r->st != PA_OK)
        return false;
    if (i != m->num_partitions) {
        r->st = pa_fail(PA_ERR_FORMAT, "%s: %u partitions listed, num_partitions is %u", r->path, i,
                        m->num_partitions);
        return false;
    }
    if (used != m->num_ranges) {
        r->st = pa_fail(PA_ERR_FORMAT, "%s: %" PRIu64 " ranges listed, num_ranges is %" PRIu64,
                        r->path, used, m->num_ranges);
        return false;
    }
    return true;
}

/* "coverage": an object kept as its text (finalize over several artifacts reads it). */
static bool load_coverage(jr *r, pa_manifest *m)
{
    jr_ws(r);
    if (jr_peek(r) != '{') {
        jr_fail(r, "\"" MK_COVERAGE "\" must be an object, found %s", jr_what(jr_peek(r)));
        return false;
    }
    const uint64_t start = r->base + r->pos;
    if (!jr_skip(r, 1))
        return false;
    const uint64_t len = r->base + r->pos - start;
    if (len > PA_MANIFEST_MAX_COVERAGE) {
        jr_fail(r, "\"" MK_COVERAGE "\" holds %" PRIu64 " bytes, more than %" PRIu64, len,
                PA_MANIFEST_MAX_COVERAGE);
        return false;
    }
    if (!(m->coverage = pa_malloc((size_t)len + 1, "manifest coverage"))) {
        r->st = PA_ERR_NOMEM;
        return false;
    }
    if ((r->st = pa_pread_full(r->fd, m->coverage, (size_t)len, start, r->path)) != PA_OK)
        return false;
    m->coverage[len] = 0;
    return true;
}

/* Parses the top-level object. */
static pa_status v01_load_top(jr *r, pa_manifest *m, const char *dir, uint64_t budget)
{
    uint32_t seen = 0;
    bool first = true;
    char key[64], str[JR_MAX_STR];
    jr_ws(r);
    if (jr_peek(r) < 0 && r->st == PA_OK)
        return jr_fail(r, "the manifest is empty");
    if (jr_peek(r) != '{' && r->st == PA_OK)
        return pa_fail(PA_ERR_FORMAT, "%s: the manifest must be a JSON object", r->path);
    struct {
        int k;
        uint32_t *dst;
        uint64_t min, max;
    } u32s[] = {
        {V_PARTS, &m->num_partitions, 1, 1u << 30}, {V_BUCKETS, &m->num_buckets, 1, 1u << 20},
        {V_CODE, &m->code_bytes, 1, 1u << 16},      {V_BITS, &m->num_bits, 4, 8},
        {V_DIM, &m->dimension, 1, 1u << 20},
    };
    while (jr_member(r, &first, key, sizeof key)) {
        int k = 0;
        while (k < V_COUNT && strcmp(key, v01_keys[k]))
            k++;
        if (k == V_COUNT) {
            if (!jr_skip(r, 1))
                break;
            continue;
        }
        if (!jr_seen(r, &seen, k, "the manifest", v01_keys))
            break;
        uint64_t v = 0;
        char what[160];
        snprintf(what, sizeof what, "\"%s\"", key);
        bool ok = true;
        switch (k) {
        case V_FORMAT:
            if ((ok = jr_string(r, str, sizeof str)) && strcmp(str, PA_ARTIFACT_FORMAT) != 0)
                return pa_fail(PA_ERR_FORMAT, "%s: format is \"%s\", expected \"%s\"", r->path, str,
                               PA_ARTIFACT_FORMAT);
            break;
        case V_VERSION:
            if (!(ok = jr_uint(r, what, UINT32_MAX, &v)))
                break;
            if (v < V01_FORMAT_VERSION)
                return pa_fail(PA_ERR_UNSUPPORTED,
                               "%s: artifact format_version %" PRIu64
                               " predates per-range checksums, which partifact needs to check "
                               "what it reads; encode the artifact again",
                               r->path, v);
            if (v != V01_FORMAT_VERSION)
                return pa_fail(PA_ERR_UNSUPPORTED,
                               "%s: artifact format_version %" PRIu64
                               "; partifact reads the 0.1 layout's version %d and Lance's "
                               "partition-artifact layout (\"" MK_VERSION "\": %d)",
                               r->path, v, V01_FORMAT_VERSION, UPSTREAM_VERSION);
            break;
        case V_ID: ok = jr_hex64(r, what, &m->artifact_id); break;
        case V_METRIC:
            if (!(ok = jr_string(r, str, sizeof str)))
                break;
            pa_metric mt;
            if (!pa_metric_canonical(str, &mt)) /* files hold the canonical names only */
                return pa_fail(PA_ERR_FORMAT, "%s: metric \"%s\" is not l2, cosine or dot", r->path,
                               str);
            if (!(m->metric = pa_strdup(str, "metric")))
                return PA_ERR_NOMEM;
            break;
        case V_TOTAL: ok = jr_uint(r, what, INT64_MAX, &m->total_rows); break;
        case V_MODEL: ok = load_model(r, m); break;
        case V_CHECKSUM:
            if ((ok = jr_string(r, str, sizeof str)) && strcmp(str, PA_ARTIFACT_RANGE_CHECKSUM))
                return pa_fail(PA_ERR_UNSUPPORTED,
                               "%s: range_checksum \"%s\" is not one "
                               "partifact computes (\"%s\")",
                               r->path, str, PA_ARTIFACT_RANGE_CHECKSUM);
            break;
        case V_NRANGES:
            /* every range takes at least 24 bytes of the file: a bound before allocating */
            if (!(ok = jr_uint(r, what, r->size / 24, &m->num_ranges)))
                break;
            break;
        case V_FILES:
        case V_PARTITIONS: {
            /* the tables' sizes are known now: refuse them before allocating any */
            const uint32_t need_keys = 1u << V_PARTS | 1u << V_BUCKETS | 1u << V_NRANGES;
            if ((seen & need_keys) != need_keys) {
                jr_fail(r,
                        "\"%s\" must come after \"" MK_NUM_PARTITIONS "\", \"" MK_NUM_BUCKETS
                        "\" and \"" MK_NUM_RANGES "\"",
                        key);
                ok = false;
                break;
            }
            uint64_t need = pa_manifest_bytes(m->num_partitions, m->num_ranges, m->num_buckets);
            if (budget && need > budget)
                return pa_fail(PA_ERR_BUDGET,
                               "artifact %s: its manifest's %" PRIu64 " ranges "
                               "in %u partitions need %" PRIu64 " bytes in memory, more than "
                               "the memory budget of %" PRIu64 " bytes",
                               dir, m->num_ranges, m->num_partitions, need, budget);
            ok = k == V_FILES ? v01_load_files(r, m) : v01_load_partitions(r, m);
            break;
        }
        default:
            for (size_t i = 0; i < sizeof u32s / sizeof u32s[0]; i++)
                if (u32s[i].k == k) {
                    if (!(ok = jr_uint(r, what, u32s[i].max, &v)))
                        break;
                    if (v < u32s[i].min)
                        return pa_fail(PA_ERR_FORMAT,
                                       "%s: \"%s\" is %" PRIu64 ", must be at "
                                       "least %" PRIu64,
                                       r->path, key, v, u32s[i].min);
                    *u32s[i].dst = (uint32_t)v;
                    /* each partition takes at least 20 bytes of the file, each file 40 */
                    if ((k == V_PARTS && v > r->size / 20) || (k == V_BUCKETS && v > r->size / 40))
                        return jr_fail(r,
                                       "%s %" PRIu64 " cannot fit in a %" PRIu64 "-byte "
                                       "manifest",
                                       key, v, r->size);
                    if ((k == V_PARTS || k == V_BUCKETS) && seen & (1u << V_PARTS) &&
                        seen & (1u << V_BUCKETS) && m->num_buckets > m->num_partitions)
                        return pa_fail(PA_ERR_FORMAT,
                                       "%s: %u buckets for %u partitions (at "
                                       "most one bucket per partition)",
                                       r->path, m->num_buckets, m->num_partitions);
                }
            break;
        }
        if (!ok)
            break;
    }
    if (r->st != PA_OK)
        return r->st;
    jr_ws(r);
    if (jr_peek(r) >= 0)
        return jr_fail(r, "unexpected %s after the manifest's object", jr_what(jr_peek(r)));
    if (r->st != PA_OK)
        return r->st;
    for (int k = 0; k < V_COUNT; k++)
        if (!(seen & (1u << k)) && k != V_MODEL)
            return pa_fail(PA_ERR_FORMAT, "%s: the manifest has no \"%s\"%s", r->path, v01_keys[k],
                           k == V_CHECKSUM || k == V_ID ? " (every range must carry a checksum)"
                                                        : "");
    return PA_OK;
}

/* Checks ranges against their files and the totals, after parsing. */
static pa_status v01_check_totals(const char *path, pa_manifest *m)
{
    uint64_t *file_rows = pa_calloc(m->num_files, sizeof *file_rows, "file row counts");
    if (!file_rows)
        return PA_ERR_NOMEM;
    pa_status st = PA_OK;
    uint64_t total = 0;
    for (uint32_t i = 0; st == PA_OK && i < m->num_partitions; i++) {
        const pa_part_ranges *pr = &m->parts[i];
        const pa_artifact_file_rec *f = &m->files[i % m->num_buckets];
        for (uint32_t r = 0; r < pr->num_ranges; r++) {
            uint64_t off = pr->ranges[r].offset, n = pr->ranges[r].num_rows;
            if (off > f->rows || n > f->rows - off) {
                st = pa_fail(PA_ERR_FORMAT,
                             "%s: partition %u range %u [%" PRIu64 ", %" PRIu64
                             ") lies outside %s's %" PRIu64 " rows",
                             path, i, r, off, off + n, f->path, f->rows);
                break;
            }
        }
        file_rows[i % m->num_buckets] += pr->num_rows;
        total += pr->num_rows;
    }
    for (uint32_t f = 0; st == PA_OK && f < m->num_files; f++)
        if (file_rows[f] != m->files[f].rows)
            st = pa_fail(PA_ERR_FORMAT,
                         "%s: %s has %" PRIu64 " rows but its partitions' ranges "
                         "cover %" PRIu64,
                         path, m->files[f].path, m->files[f].rows, file_rows[f]);
    if (st == PA_OK && total != m->total_rows)
        st = pa_fail(PA_ERR_FORMAT,
                     "%s: total_rows is %" PRIu64 " but the partitions hold %" PRIu64, path,
                     m->total_rows, total);
    free(file_rows);
    return st;
}

/* ---- the upstream layout ---- */

/* Bucket b's number from a path "partitions/bucket-NNNNN.lance" (the builder's naming, the only
 * one partifact reads: relative, inside the artifact, no links to follow elsewhere). */
static bool bucket_of_path(const char *s, uint32_t *b)
{
    const char *pre = PA_ARTIFACT_PARTS_DIR "/bucket-";
    size_t lp = strlen(pre);
    if (strncmp(s, pre, lp) != 0)
        return false;
    uint64_t v = 0;
    const char *d = s + lp;
    while (*d >= '0' && *d <= '9' && v < PA_MAX_BUCKETS)
        v = v * 10 + (uint64_t)(*d++ - '0');
    if (v >= PA_MAX_BUCKETS)
        return false;
    char canon[64];
    pa_artifact_bucket_path((uint32_t)v, canon, sizeof canon);
    if (strcmp(s, canon) != 0)
        return false;
    *b = (uint32_t)v;
    return true;
}

/* What the first pass over the manifest finds: the sizes of the tables the second fills. */
typedef struct up_counts {
    uint64_t parts, ranges;
    uint32_t buckets; /* 1 + the largest bucket number a partition's path names (0: none) */
    bool v01;         /* a top-level "format_version" (the 0.1 layout, unless "version" too) */
    bool have_version, have_parts;
} up_counts;

/* First pass: counts partitions and ranges and finds the largest bucket, checking the syntax
 * (the second pass checks the rest). */
static bool count_top(jr *r, up_counts *c)
{
    bool first = true;
    char key[64], str[JR_MAX_STR];
    jr_ws(r);
    if (jr_peek(r) < 0 && r->st == PA_OK)
        return jr_fail(r, "the manifest is empty"), false;
    if (jr_peek(r) != '{' && r->st == PA_OK) {
        r->st = pa_fail(PA_ERR_FORMAT, "%s: the manifest must be a JSON object", r->path);
        return false;
    }
    while (jr_member(r, &first, key, sizeof key)) {
        if (!strcmp(key, MK_FORMAT_VERSION) || !strcmp(key, MK_VERSION)) {
            /* "format_version" without "version": the 0.1 layout */
            *(key[0] == 'v' ? &c->have_version : &c->v01) = true;
            if (!jr_skip(r, 1))
                return false;
            continue;
        }
        if (strcmp(key, MK_PARTITIONS) != 0 || c->have_parts) {
            if (!jr_skip(r, 1))
                return false;
            continue;
        }
        c->have_parts = true;
        bool pfirst = true;
        while (jr_elem(r, &pfirst)) {
            bool ofirst = true;
            while (jr_member(r, &ofirst, key, sizeof key)) {
                bool ok = true;
                jr_ws(r);
                if (!strcmp(key, MK_PATH) && jr_peek(r) == '"') {
                    uint32_t b;
                    if ((ok = jr_string(r, str, sizeof str)) && bucket_of_path(str, &b) &&
                        b >= c->buckets)
                        c->buckets = b + 1;
                } else if (!strcmp(key, MK_RANGES) && jr_peek(r) == '[') {
                    bool afirst = true;
                    while (ok && jr_elem(r, &afirst))
                        ok = jr_skip(r, 3), c->ranges++;
                    ok = ok && r->st == PA_OK;
                } else {
                    ok = jr_skip(r, 2);
                }
                if (!ok)
                    return false;
            }
            if (r->st != PA_OK)
                return false;
            c->parts++;
        }
        if (r->st != PA_OK)
            return false;
    }
    if (r->st != PA_OK)
        return false;
    jr_ws(r);
    if (jr_peek(r) >= 0)
        return jr_fail(r, "unexpected %s after the manifest's object", jr_what(jr_peek(r))), false;
    return r->st == PA_OK;
}

/* A JSON number (after whitespace) as a double, or null (*have false). */
static bool jr_real_or_null(jr *r, const char *what, double *out, bool *have)
{
    jr_ws(r);
    int c = jr_peek(r);
    if (c == 'n') {
        *have = false;
        return jr_skip(r, 0);
    }
    char buf[64];
    size_t n = 0;
    while ((c = jr_peek(r)) == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' ||
           (c >= '0' && c <= '9')) {
        if (n + 1 == sizeof buf)
            break;
        buf[n++] = (char)jr_get(r);
    }
    buf[n] = 0;
    char *end = NULL;
    double v = n ? strtod(buf, &end) : 0;
    if (!n || *end || !isfinite(v)) {
        jr_fail(r, "%s must be a number or null", what);
        return false;
    }
    *out = v;
    *have = true;
    return true;
}

/* A string or null (*out NULL) into an allocated copy. */
static bool jr_string_or_null(jr *r, char **out)
{
    jr_ws(r);
    if (jr_peek(r) == 'n') {
        *out = NULL;
        return jr_skip(r, 0);
    }
    char str[JR_MAX_STR];
    if (!jr_string(r, str, sizeof str))
        return false;
    if (!(*out = pa_strdup(str, "manifest string")))
        r->st = PA_ERR_NOMEM;
    return r->st == PA_OK;
}

/* What the loader knows besides pa_manifest while it reads the upstream layout. */
typedef struct up_state {
    up_counts c;
    uint64_t used;       /* ranges filled */
    uint64_t sums;       /* range checksums filled (the extras' range_xxh3) */
    uint32_t *file_of;   /* bucket -> file index (PA_NO_FILE), c.buckets entries */
    uint32_t *bucket_of; /* partition -> bucket, until the files are known */
    uint32_t extras_seen;
} up_state;

enum {
    E_FORMAT,
    E_VERSION,
    E_ID,
    E_BUCKETS,
    E_CODE,
    E_BITS,
    E_DIM,
    E_METRIC,
    E_TOTAL,
    E_MODEL,
    E_METADATA,
    E_CHECKSUM,
    E_NRANGES,
    E_FILES,
    E_XXH3,
    E_COVERAGE,
    E_COUNT
};
static const char *const extras_keys[E_COUNT] = {
    MK_FORMAT,     MK_FORMAT_VERSION, MK_ARTIFACT_ID, MK_NUM_BUCKETS,
    MK_CODE_BYTES, MK_NUM_BITS,       MK_DIMENSION,   MK_METRIC,
    MK_TOTAL_ROWS, MK_MODEL,          MK_METADATA,    MK_RANGE_CHECKSUM,
    MK_NUM_RANGES, MK_FILES,          MK_RANGE_XXH3,  MK_COVERAGE};

/* The extras' "metadata": {"bytes": n, "xxh64": "..."} or null. */
static bool load_metadata_rec(jr *r, pa_manifest *m)
{
    jr_ws(r);
    if (jr_peek(r) == 'n')
        return jr_skip(r, 0);
    bool first = true;
    unsigned got = 0;
    char key[64];
    while (jr_member(r, &first, key, sizeof key)) {
        bool ok;
        if (!strcmp(key, MK_BYTES))
            ok = jr_uint(r, MK_EXTRAS "." MK_METADATA ".bytes", INT64_MAX, &m->metadata_bytes),
            got |= 1;
        else if (!strcmp(key, MK_XXH64))
            ok = jr_hex64(r, MK_EXTRAS "." MK_METADATA ".xxh64", &m->metadata_xxh64), got |= 2;
        else
            ok = jr_skip(r, 3);
        if (!ok)
            return false;
    }
    if (r->st == PA_OK && got != 3)
        jr_fail(r, "\"" MK_EXTRAS "\".\"" MK_METADATA "\" needs \"" MK_BYTES "\" and \"" MK_XXH64
                   "\"");
    return r->st == PA_OK;
}

/* The extras' "files": the bucket files that exist, in bucket order. */
static bool load_extras_files(jr *r, pa_manifest *m, up_state *u)
{
    bool first = true;
    uint32_t i = 0;
    while (jr_elem(r, &first)) {
        char where[64], path[JR_MAX_STR] = "";
        snprintf(where, sizeof where, MK_EXTRAS "." MK_FILES "[%u]", i);
        pa_artifact_file_rec f = {0};
        if (!load_file_rec(r, where, &f, path, sizeof path))
            return false;
        if (!bucket_of_path(path, &f.bucket)) {
            r->st = pa_fail(PA_ERR_FORMAT,
                            "%s: %s has path \"%s\", expected partitions/bucket-NNNNN.lance",
                            r->path, where, path);
            return false;
        }
        if (i > 0 && f.bucket <= m->files[i - 1].bucket) {
            r->st = pa_fail(PA_ERR_FORMAT, "%s: %s (%s) is not listed in bucket order", r->path,
                            where, path);
            return false;
        }
        if (f.bucket >= u->c.buckets) {
            r->st = pa_fail(PA_ERR_FORMAT, "%s: %s (%s) is the file of no partition", r->path,
                            where, path);
            return false;
        }
        if (!(f.path = pa_strdup(path, "file path"))) {
            r->st = PA_ERR_NOMEM;
            return false;
        }
        m->files[i] = f;
        u->file_of[f.bucket] = i;
        m->num_files = ++i;
    }
    return r->st == PA_OK;
}

/* The extras' "range_xxh3": one checksum per range, partition by partition. */
static bool load_range_sums(jr *r, pa_manifest *m, up_state *u)
{
    bool first = true;
    while (jr_elem(r, &first)) {
        if (u->sums == m->num_ranges) {
            jr_fail(r,
                    "\"" MK_EXTRAS "\".\"" MK_RANGE_XXH3 "\" lists more checksums than the "
                    "partitions have ranges (%" PRIu64 ")",
                    m->num_ranges);
            return false;
        }
        char what[96];
        snprintf(what, sizeof what, MK_RANGE_XXH3 "[%" PRIu64 "]", u->sums);
        if (!jr_hex64(r, what, &m->range_table[u->sums].xxh3))
            return false;
        u->sums++;
    }
    return r->st == PA_OK;
}

/* partifact's extras (the "partifact" member). */
static bool load_extras(jr *r, pa_manifest *m, up_state *u)
{
    bool first = true;
    char key[64], str[JR_MAX_STR];
    uint64_t nranges = 0;
    while (jr_member(r, &first, key, sizeof key)) {
        int k = 0;
        while (k < E_COUNT && strcmp(key, extras_keys[k]))
            k++;
        if (k == E_COUNT) {
            if (!jr_skip(r, 2))
                return false;
            continue;
        }
        if (!jr_seen(r, &u->extras_seen, k, "\"" MK_EXTRAS "\"", extras_keys))
            return false;
        char what[160];
        snprintf(what, sizeof what, "\"" MK_EXTRAS "\".\"%s\"", key);
        uint64_t v = 0;
        bool ok = true;
        switch (k) {
        case E_FORMAT:
            if ((ok = jr_string(r, str, sizeof str)) && strcmp(str, PA_ARTIFACT_FORMAT) != 0) {
                r->st = pa_fail(PA_ERR_FORMAT, "%s: %s is \"%s\", expected \"%s\"", r->path, what,
                                str, PA_ARTIFACT_FORMAT);
                return false;
            }
            break;
        case E_VERSION:
            if ((ok = jr_uint(r, what, UINT32_MAX, &v)) && v != PA_ARTIFACT_FORMAT_VERSION) {
                r->st = pa_fail(PA_ERR_UNSUPPORTED,
                                "%s: %s is %" PRIu64 "; partifact reads version %d", r->path, what,
                                v, PA_ARTIFACT_FORMAT_VERSION);
                return false;
            }
            break;
        case E_ID: ok = jr_hex64(r, what, &m->artifact_id); break;
        case E_BUCKETS:
        case E_CODE:
        case E_BITS:
        case E_DIM: {
            static const uint64_t lo[] = {1, 1, 4, 1},
                                  hi[] = {PA_MAX_BUCKETS, PA_MAX_CODE_BYTES, 8, PA_MAX_DIM};
            uint32_t *dst[] = {&m->num_buckets, &m->code_bytes, &m->num_bits, &m->dimension};
            int i = k - E_BUCKETS;
            if (!(ok = jr_uint(r, what, hi[i], &v)))
                break;
            if (v < lo[i]) {
                r->st = pa_fail(PA_ERR_FORMAT, "%s: %s is %" PRIu64 ", must be at least %" PRIu64,
                                r->path, what, v, lo[i]);
                return false;
            }
            *dst[i] = (uint32_t)v;
            break;
        }
        case E_METRIC: {
            if (!(ok = jr_string(r, str, sizeof str)))
                break;
            pa_metric mt;
            if (!pa_metric_canonical(str, &mt)) { /* files hold the canonical names only */
                r->st = pa_fail(PA_ERR_FORMAT, "%s: metric \"%s\" is not l2, cosine or dot",
                                r->path, str);
                return false;
            }
            if (!(m->metric = pa_strdup(str, "metric")))
                r->st = PA_ERR_NOMEM;
            ok = r->st == PA_OK;
            break;
        }
        case E_TOTAL: ok = jr_uint(r, what, INT64_MAX, &m->total_rows); break;
        case E_MODEL: ok = load_model(r, m); break;
        case E_METADATA: ok = load_metadata_rec(r, m); break;
        case E_CHECKSUM:
            if ((ok = jr_string(r, str, sizeof str)) && strcmp(str, PA_ARTIFACT_RANGE_CHECKSUM)) {
                r->st = pa_fail(PA_ERR_UNSUPPORTED,
                                "%s: range_checksum \"%s\" is not one partifact computes (\"%s\")",
                                r->path, str, PA_ARTIFACT_RANGE_CHECKSUM);
                return false;
            }
            break;
        case E_NRANGES: ok = jr_uint(r, what, INT64_MAX, &nranges); break;
        case E_FILES: ok = load_extras_files(r, m, u); break;
        case E_XXH3: ok = load_range_sums(r, m, u); break;
        case E_COVERAGE: ok = load_coverage(r, m); break;
        }
        if (!ok)
            return false;
    }
    if (r->st != PA_OK)
        return false;
    for (int k = 0; k < E_COUNT; k++)
        if (!(u->extras_seen & (1u << k)) && k != E_COVERAGE) {
            r->st = pa_fail(PA_ERR_FORMAT, "%s: \"" MK_EXTRAS "\" has no \"%s\"%s", r->path,
                            extras_keys[k],
                            k == E_XXH3 || k == E_CHECKSUM ? " (every range must carry a checksum)"
                                                           : "");
            return false;
        }
    if (nranges != m->num_ranges) {
        r->st = pa_fail(PA_ERR_FORMAT,
                        "%s: \"" MK_EXTRAS "\".\"" MK_NUM_RANGES "\" is %" PRIu64
                        " but the partitions list %" PRIu64 " ranges",
                        r->path, nranges, m->num_ranges);
        return false;
    }
    if (u->sums != m->num_ranges) {
        r->st = pa_fail(PA_ERR_FORMAT,
                        "%s: \"" MK_EXTRAS "\".\"" MK_RANGE_XXH3 "\" lists %" PRIu64
                        " checksums for %" PRIu64 " ranges",
                        r->path, u->sums, m->num_ranges);
        return false;
    }
    return true;
}

/* One range: {"offset": n, "num_rows": n} (both required, as Lance's reader requires). */
static bool load_up_range(jr *r, pa_range *rg, uint32_t p, uint32_t k)
{
    bool first = true;
    unsigned got = 0;
    char key[64], what[160];
    snprintf(what, sizeof what, "partitions[%u].ranges[%u]", p, k);
    while (jr_member(r, &first, key, sizeof key)) {
        bool ok;
        unsigned bit = !strcmp(key, MK_OFFSET) ? 1 : !strcmp(key, MK_NUM_ROWS) ? 2 : 0;
        if (bit & got) {
            jr_fail(r, "%s has \"%s\" twice", what, key);
            return false;
        }
        if (bit == 1)
            ok = jr_uint(r, what, INT64_MAX, &rg->offset);
        else if (bit == 2)
            ok = jr_uint(r, what, INT64_MAX, &rg->num_rows);
        else
            ok = jr_skip(r, 4);
        got |= bit;
        if (!ok)
            return false;
    }
    if (r->st != PA_OK)
        return false;
    if (got != 3) {
        jr_fail(r, "%s needs \"" MK_OFFSET "\" and \"" MK_NUM_ROWS "\"", what);
        return false;
    }
    if (rg->num_rows == 0) {
        r->st = pa_fail(PA_ERR_FORMAT, "%s: partition %u range %u is empty", r->path, p, k);
        return false;
    }
    return true;
}

/* "partitions": one entry per partition, {"path", "num_rows", "ranges"}, each defaulting as in
 * Lance's reader (null, 0, []). */
static bool load_up_partitions(jr *r, pa_manifest *m, up_state *u)
{
    bool first = true;
    uint32_t i = 0;
    while (jr_elem(r, &first)) {
        if (i == u->c.parts) { /* the first pass counted them */
            jr_fail(r, "the partitions changed while the manifest was read");
            return false;
        }
        pa_part_ranges *pr = &m->parts[i];
        pr->ranges = m->range_table + u->used;
        char key[64], path[JR_MAX_STR] = "";
        bool ofirst = true, have_path = false;
        unsigned got = 0;
        uint64_t rows = 0;
        while (jr_member(r, &ofirst, key, sizeof key)) {
            unsigned bit = !strcmp(key, MK_PATH)       ? 1
                           : !strcmp(key, MK_NUM_ROWS) ? 2
                           : !strcmp(key, MK_RANGES)   ? 4
                                                       : 0;
            if (bit & got) {
                jr_fail(r, "partitions[%u] has \"%s\" twice", i, key);
                return false;
            }
            got |= bit;
            bool ok = true;
            char what[96];
            snprintf(what, sizeof what, "partitions[%u].%s", i, key);
            if (bit == 1) {
                jr_ws(r);
                if (jr_peek(r) == 'n')
                    ok = jr_skip(r, 0);
                else
                    ok = jr_string(r, path, sizeof path), have_path = true;
            } else if (bit == 2) {
                ok = jr_uint(r, what, INT64_MAX, &rows);
            } else if (bit == 4) {
                bool afirst = true;
                while (ok && jr_elem(r, &afirst)) {
                    if (u->used == m->num_ranges || pr->num_ranges == UINT32_MAX) {
                        jr_fail(r, "partition %u lists more ranges than counted", i);
                        return false;
                    }
                    ok = load_up_range(r, &pr->ranges[pr->num_ranges], i, pr->num_ranges);
                    if (ok) {
                        pr->num_rows += pr->ranges[pr->num_ranges].num_rows;
                        pr->num_ranges++, u->used++;
                    }
                }
                ok = ok && r->st == PA_OK;
            } else {
                ok = jr_skip(r, 2);
            }
            if (!ok)
                return false;
        }
        if (r->st != PA_OK)
            return false;
        if (rows != pr->num_rows) {
            r->st = pa_fail(PA_ERR_FORMAT,
                            "%s: partition %u says %" PRIu64 " rows but its ranges hold %" PRIu64,
                            r->path, i, rows, pr->num_rows);
            return false;
        }
        u->bucket_of[i] = PA_NO_FILE;
        if (rows > 0) {
            uint32_t b;
            if (!have_path) {
                r->st = pa_fail(PA_ERR_FORMAT, "%s: partition %u has %" PRIu64 " rows but no path",
                                r->path, i, rows);
                return false;
            }
            if (!bucket_of_path(path, &b)) {
                r->st = pa_fail(PA_ERR_FORMAT,
                                "%s: partition %u has path \"%s\", expected "
                                "partitions/bucket-NNNNN.lance",
                                r->path, i, path);
                return false;
            }
            u->bucket_of[i] = b;
        }
        i++;
    }
    if (r->st != PA_OK)
        return false;
    if (i != u->c.parts) {
        jr_fail(r, "the partitions changed while the manifest was read");
        return false;
    }
    return true;
}

enum { U_VERSION, U_PARTS, U_METADATA, U_LOSS, U_EXTRAS, U_PARTITIONS, U_COUNT };
static const char *const up_keys[U_COUNT] = {MK_VERSION,    MK_NUM_PARTITIONS, MK_METADATA_FILE,
                                             MK_TOTAL_LOSS, MK_EXTRAS,         MK_PARTITIONS};

/* Second pass: the whole document into m (its tables allocated from the first pass). */
static pa_status up_load_top(jr *r, pa_manifest *m, up_state *u)
{
    uint32_t seen = 0;
    bool first = true;
    char key[64];
    uint64_t v = 0;
    while (jr_member(r, &first, key, sizeof key)) {
        int k = 0;
        while (k < U_COUNT && strcmp(key, up_keys[k]))
            k++;
        if (k == U_COUNT) { /* Lance's reader skips unknown members too */
            if (!jr_skip(r, 1))
                break;
            continue;
        }
        if (!jr_seen(r, &seen, k, "the manifest", up_keys))
            break;
        char what[96];
        snprintf(what, sizeof what, "\"%s\"", key);
        bool ok = true;
        switch (k) {
        case U_VERSION:
            if ((ok = jr_uint(r, what, UINT32_MAX, &v)) && v != UPSTREAM_VERSION)
                return pa_fail(PA_ERR_UNSUPPORTED,
                               "%s: partition artifact manifest version %" PRIu64
                               "; partifact reads version %d",
                               r->path, v, UPSTREAM_VERSION);
            break;
        case U_PARTS:
            if (!(ok = jr_uint(r, what, PA_MAX_ARTIFACT_PARTITIONS, &v)))
                break;
            if (v == 0)
                return pa_fail(PA_ERR_FORMAT, "%s: \"num_partitions\" is 0, must be at least 1",
                               r->path);
            m->num_partitions = (uint32_t)v;
            break;
        case U_METADATA: ok = jr_string_or_null(r, &m->metadata_file); break;
        case U_LOSS: ok = jr_real_or_null(r, what, &m->total_loss, &m->has_total_loss); break;
        case U_EXTRAS: ok = load_extras(r, m, u); break;
        case U_PARTITIONS: ok = load_up_partitions(r, m, u); break;
        }
        if (!ok)
            break;
    }
    if (r->st != PA_OK)
        return r->st;
    for (int k = 0; k < U_COUNT; k++)
        if (!(seen & (1u << k)) && (k == U_VERSION || k == U_PARTS || k == U_PARTITIONS))
            return pa_fail(PA_ERR_FORMAT, "%s: the manifest has no \"%s\"", r->path, up_keys[k]);
    if (u->c.parts != m->num_partitions) /* Lance's reader refuses it too */
        return pa_fail(PA_ERR_FORMAT, "%s: %" PRIu64 " partitions listed, num_partitions is %u",
                       r->path, u->c.parts, m->num_partitions);
    m->layout = seen & (1u << U_EXTRAS) ? PA_ART_PARTIFACT : PA_ART_FOREIGN;
    if (m->metadata_file && strcmp(m->metadata_file, PA_ARTIFACT_METADATA_FILE) != 0)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: metadata_file is \"%s\"; partifact reads \"%s\" (as Lance's "
                       "builder and lance-cuvs name it)",
                       r->path, m->metadata_file, PA_ARTIFACT_METADATA_FILE);
    return PA_OK;
}

/* After the second pass: partitions to files, the routing rule, the counts adding up. */
static pa_status up_check(const char *path, pa_manifest *m, up_state *u)
{
    const bool own = m->layout == PA_ART_PARTIFACT;
    if (own && m->num_buckets > m->num_partitions)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: %u buckets for %u partitions (at most one bucket per partition)", path,
                       m->num_buckets, m->num_partitions);
    if (!own) { /* the files are the buckets the partitions name */
        for (uint32_t p = 0; p < m->num_partitions; p++)
            if (u->bucket_of[p] != PA_NO_FILE)
                u->file_of[u->bucket_of[p]] = 0;
        for (uint32_t b = 0; b < u->c.buckets; b++) {
            if (u->file_of[b] == PA_NO_FILE)
                continue;
            pa_artifact_file_rec *f = &m->files[m->num_files];
            char rel[64];
            pa_artifact_bucket_path(b, rel, sizeof rel);
            if (!(f->path = pa_strdup(rel, "file path")))
                return PA_ERR_NOMEM;
            f->bucket = b;
            u->file_of[b] = m->num_files++;
        }
        m->num_buckets = u->c.buckets;
    }
    uint64_t total = 0;
    for (uint32_t p = 0; p < m->num_partitions; p++) {
        pa_part_ranges *pr = &m->parts[p];
        const uint32_t b = u->bucket_of[p];
        total += pr->num_rows;
        if (b == PA_NO_FILE)
            continue;
        if (own && b != p % m->num_buckets)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: partition %u is recorded in bucket %u, but partition %u belongs "
                           "in bucket %u",
                           path, p, b, p, p % m->num_buckets);
        if (u->file_of[b] == PA_NO_FILE)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: partition %u's file partitions/bucket-%05u.lance is not in "
                           "\"" MK_EXTRAS "\".\"" MK_FILES "\"",
                           path, p, b);
        m->part_file[p] = u->file_of[b];
    }
    if (!own) {
        m->total_rows = total;
        return PA_OK; /* the files' rows are known once they are opened */
    }
    uint64_t *file_rows = pa_calloc(PA_MAX(m->num_files, 1), sizeof *file_rows, "file rows");
    if (!file_rows)
        return PA_ERR_NOMEM;
    pa_status st = PA_OK;
    for (uint32_t p = 0; st == PA_OK && p < m->num_partitions; p++) {
        const pa_part_ranges *pr = &m->parts[p];
        if (m->part_file[p] == PA_NO_FILE)
            continue;
        const pa_artifact_file_rec *f = &m->files[m->part_file[p]];
        for (uint32_t r = 0; r < pr->num_ranges; r++) {
            uint64_t off = pr->ranges[r].offset, n = pr->ranges[r].num_rows;
            if (off > f->rows || n > f->rows - off) {
                st = pa_fail(PA_ERR_FORMAT,
                             "%s: partition %u range %u [%" PRIu64 ", %" PRIu64
                             ") lies outside %s's %" PRIu64 " rows",
                             path, p, r, off, off + n, f->path, f->rows);
                break;
            }
        }
        file_rows[m->part_file[p]] += pr->num_rows;
    }
    for (uint32_t f = 0; st == PA_OK && f < m->num_files; f++)
        if (file_rows[f] != m->files[f].rows)
            st = pa_fail(PA_ERR_FORMAT,
                         "%s: %s has %" PRIu64 " rows but its partitions' ranges cover %" PRIu64,
                         path, m->files[f].path, m->files[f].rows, file_rows[f]);
    if (st == PA_OK && total != m->total_rows)
        st = pa_fail(PA_ERR_FORMAT,
                     "%s: total_rows is %" PRIu64 " but the partitions hold %" PRIu64, path,
                     m->total_rows, total);
    free(file_rows);
    return st;
}

/* Rewinds the parser to the file's start (its second pass). */
static void jr_rewind(jr *r) { r->base = 0, r->n = r->pos = 0, r->line = 1, r->col = 1; }

/* The upstream layout: counts, the budget, the tables, then the document read again into
 * them. */
static pa_status up_load(jr *r, pa_manifest *m, const char *dir, uint64_t budget,
                         const up_counts *c)
{
    up_state u = {.c = *c};
    if (!c->have_parts)
        return pa_fail(PA_ERR_FORMAT, "%s: the manifest has no \"" MK_PARTITIONS "\"", r->path);
    if (c->parts > PA_MAX_ARTIFACT_PARTITIONS)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: %" PRIu64 " partitions listed, more than partifact's "
                       "limit of %u",
                       r->path, c->parts, PA_MAX_ARTIFACT_PARTITIONS);
    const uint64_t need = pa_manifest_bytes(c->parts, c->ranges, c->buckets);
    if (budget && need > budget)
        return pa_fail(PA_ERR_BUDGET,
                       "artifact %s: its manifest's %" PRIu64 " ranges in %" PRIu64
                       " partitions need %" PRIu64 " bytes in memory, more than the memory "
                       "budget of %" PRIu64 " bytes",
                       dir, c->ranges, c->parts, need, budget);
    m->num_ranges = c->ranges;
    m->parts = pa_calloc(PA_MAX(c->parts, 1), sizeof *m->parts, "partition table");
    m->range_table = pa_calloc(PA_MAX(c->ranges, 1), sizeof(pa_range), "range table");
    m->files = pa_calloc(PA_MAX(c->buckets, 1), sizeof *m->files, "file table");
    u.file_of = pa_malloc(sizeof(uint32_t) * PA_MAX(c->buckets, 1), "bucket map");
    u.bucket_of = pa_malloc(sizeof(uint32_t) * PA_MAX(c->parts, 1), "partition buckets");
    m->part_file = pa_malloc(sizeof(uint32_t) * PA_MAX(c->parts, 1), "partition files");
    pa_status st = PA_OK;
    if (!m->parts || !m->range_table || !m->files || !u.file_of || !u.bucket_of || !m->part_file)
        st = PA_ERR_NOMEM;
    for (uint32_t b = 0; st == PA_OK && b < c->buckets; b++)
        u.file_of[b] = PA_NO_FILE;
    for (uint64_t p = 0; st == PA_OK && p < c->parts; p++)
        m->part_file[p] = PA_NO_FILE;
    if (st == PA_OK) {
        jr_rewind(r);
        st = up_load_top(r, m, &u);
    }
    if (st == PA_OK)
        st = up_check(r->path, m, &u);
    free(u.file_of);
    free(u.bucket_of);
    return st;
}

/* Loads dir/manifest.json into m (see the file comment and the header). */
pa_status pa_manifest_load(pa_manifest *m, const char *dir, uint64_t budget)
{
    memset(m, 0, sizeof *m);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, PA_ARTIFACT_MANIFEST);
    /* a FIFO or a directory is refused (pa_open_input), not waited on */
    if (access(path, F_OK) != 0 && (errno == ENOENT || errno == ENOTDIR))
        return pa_fail(PA_ERR_INCOMPLETE,
                       "%s: incomplete artifact: no manifest.json (the writer did not "
                       "finish, or this is not an artifact)",
                       dir);
    int fd = -1;
    uint64_t fsize = 0;
    pa_status so = pa_open_input(path, &fd, &fsize);
    if (so != PA_OK)
        return so;
    jr *r = pa_malloc(sizeof *r, "manifest reader");
    pa_status st = r ? PA_OK : PA_ERR_NOMEM;
    if (st == PA_OK) {
        memset(r, 0, offsetof(jr, buf));
        r->fd = fd, r->path = path, r->line = 1, r->col = 1;
        r->size = fsize;
    }
    up_counts c = {0};
    if (st == PA_OK && !count_top(r, &c))
        st = r->st;
    c.v01 = c.v01 && !c.have_version;
    if (st == PA_OK && !c.v01)
        st = up_load(r, m, dir, budget, &c);
    if (st == PA_OK && c.v01) { /* the 0.1 layout: its own reader */
        jr_rewind(r);
        if ((st = v01_load_top(r, m, dir, budget)) == PA_OK)
            st = v01_check_totals(path, m);
        m->layout = PA_ART_V01;
        if (st == PA_OK &&
            !(m->part_file = pa_malloc(sizeof(uint32_t) * m->num_partitions, "partition files")))
            st = PA_ERR_NOMEM;
        for (uint32_t p = 0; st == PA_OK && p < m->num_partitions; p++)
            m->part_file[p] = p % m->num_buckets;
        for (uint32_t f = 0; st == PA_OK && f < m->num_files; f++)
            m->files[f].bucket = f;
    }
    free(r);
    close(fd);
    if (st != PA_OK)
        pa_manifest_clear(m);
    return st;
}
