/* manifest.json: the artifact's commit point.
 *
 * {
 *   "format": "partifact.artifact", "format_version": 1,
 *   "num_partitions": 256, "num_buckets": 64, "code_bytes": 16, "num_bits": 8,
 *   "dimension": 128, "metric": "l2", "total_rows": 1000000,
 *   "model": {"path": "model.lance", "xxh64": "0123456789abcdef"} | null,
 *   "files": [{"path": "partitions/bucket-00000.lance", "rows": 15625, "bytes": 312000,
 *              "xxh64": "..."}, ...],
 *   "partitions": [{"id": 0, "file": 0, "rows": 3900, "ranges": [[0, 1200], [4096, 2700]]}, ...]
 * }
 *
 * Loading checks everything that can be checked without reading the bucket files: types and
 * ranges of every field, partition p in file p % num_buckets, ranges inside their file's rows,
 * per-partition, per-file and total row counts adding up. */
#include "artifact/artifact_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>
#include <xxhash.h>

void pa_artifact_bucket_path(uint32_t bucket, char *buf, size_t len)
{
    snprintf(buf, len, "%s/bucket-%05u.lance", PA_ARTIFACT_PARTS_DIR, bucket);
}

/* Appends a range, merging it with the previous one when contiguous. */
pa_status pa_part_add_range(pa_part_ranges *p, uint64_t offset, uint64_t num_rows)
{
    if (p->num_ranges) {
        pa_range *last = &p->ranges[p->num_ranges - 1];
        if (last->offset + last->num_rows == offset) {
            last->num_rows += num_rows;
            p->num_rows += num_rows;
            return PA_OK;
        }
    }
    if (p->num_ranges == p->cap_ranges) {
        uint32_t cap = p->cap_ranges ? 2 * p->cap_ranges : 4;
        pa_range *r = pa_realloc(p->ranges, cap * sizeof *r, "partition ranges");
        if (!r)
            return PA_ERR_NOMEM;
        p->ranges = r;
        p->cap_ranges = cap;
    }
    p->ranges[p->num_ranges++] = (pa_range){offset, num_rows};
    p->num_rows += num_rows;
    return PA_OK;
}

void pa_manifest_clear(pa_manifest *m)
{
    for (uint32_t i = 0; m->files && i < m->num_files; i++)
        free(m->files[i].path);
    for (uint32_t p = 0; m->parts && p < m->num_partitions; p++)
        free(m->parts[p].ranges);
    free(m->files);
    free(m->parts);
    free(m->metric);
    free(m->model);
    memset(m, 0, sizeof *m);
}

/* XXH64 of a file's bytes, read sequentially. */
pa_status pa_file_xxh64(const char *path, uint64_t *hash, uint64_t *bytes)
{
    int fd = -1;
    uint64_t size = 0;
    pa_status st0 = pa_open_input(path, &fd, &size);
    if (st0 != PA_OK)
        return st0;
    (void)size;
    const size_t chunk = 1u << 20;
    uint8_t *buf = pa_malloc(chunk, "checksum buffer");
    XXH64_state_t *h = XXH64_createState();
    pa_status st = buf && h ? PA_OK : pa_fail(PA_ERR_NOMEM, "out of memory hashing %s", path);
    if (st == PA_OK)
        XXH64_reset(h, 0);
    uint64_t total = 0;
    while (st == PA_OK) {
        ssize_t n = read(fd, buf, chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            st = pa_fail(PA_ERR_IO, "%s: read failed at byte offset %" PRIu64 ": %s", path, total,
                         strerror(errno));
        if (n <= 0)
            break;
        XXH64_update(h, buf, (size_t)n);
        total += (uint64_t)n;
    }
    if (st == PA_OK) {
        *hash = XXH64_digest(h);
        if (bytes)
            *bytes += total;
    }
    if (h)
        XXH64_freeState(h);
    free(buf);
    close(fd);
    return st;
}

/* The manifest is written as a stream through a small buffer rather than built as a JSON tree:
 * an artifact of hundreds of millions of rows can have millions of ranges, and a tree of them
 * (about 150 bytes per range) would need far more memory than the writer's budget, at the very
 * end of a long run. The output is what jansson's JSON_COMPACT gives for the same document. */
typedef struct jw {
    int fd;
    const char *path;
    uint64_t off;
    size_t n;
    pa_status st;
    char buf[1 << 16];
} jw;

static void jw_flush(jw *w)
{
    if (w->st == PA_OK && w->n)
        w->st = pa_pwrite_full(w->fd, w->buf, w->n, w->off, w->path);
    w->off += w->n;
    w->n = 0;
}

static void jw_put(jw *w, const char *s, size_t len)
{
    while (len && w->st == PA_OK) {
        if (w->n == sizeof w->buf)
            jw_flush(w);
        size_t k = PA_MIN(len, sizeof w->buf - w->n);
        memcpy(w->buf + w->n, s, k);
        w->n += k, s += k, len -= k;
    }
}

__attribute__((format(printf, 2, 3))) static void jw_printf(jw *w, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= sizeof tmp) {
        if (w->st == PA_OK)
            w->st = pa_fail(PA_ERR_INVALID, "%s: manifest entry too long", w->path);
        return;
    }
    jw_put(w, tmp, (size_t)k);
}

/* A JSON string literal (quoted and escaped by jansson). */
static void jw_string(jw *w, const char *s)
{
    json_t *j = json_string(s);
    char *t = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    json_decref(j);
    if (!t) {
        if (w->st == PA_OK)
            w->st = pa_fail(PA_ERR_INVALID, "%s: \"%s\" cannot be written as a JSON string "
                            "(not UTF-8?)", w->path, s);
        return;
    }
    jw_put(w, t, strlen(t));
    free(t);
}

/* Writes the JSON document for m (and a final newline) to fd. */
static pa_status manifest_write(const pa_manifest *m, int fd, const char *path)
{
    jw *w = pa_malloc(sizeof *w, "manifest buffer");
    if (!w)
        return PA_ERR_NOMEM;
    w->fd = fd, w->path = path, w->off = 0, w->n = 0, w->st = PA_OK;
    jw_printf(w, "{\"format\":\"%s\",\"format_version\":%d,\"num_partitions\":%u,"
              "\"num_buckets\":%u,\"code_bytes\":%u,\"num_bits\":%u,\"dimension\":%u,"
              "\"metric\":", PA_ARTIFACT_FORMAT, PA_ARTIFACT_FORMAT_VERSION, m->num_partitions,
              m->num_buckets, m->code_bytes, m->num_bits, m->dimension);
    jw_string(w, m->metric);
    jw_printf(w, ",\"total_rows\":%" PRIu64 ",\"model\":", m->total_rows);
    if (m->model) {
        jw_put(w, "{\"path\":", 8);
        jw_string(w, m->model);
        jw_printf(w, ",\"xxh64\":\"%016" PRIx64 "\"}", m->model_xxh64);
    } else {
        jw_put(w, "null", 4);
    }
    jw_put(w, ",\"files\":[", 10);
    for (uint32_t i = 0; i < m->num_files; i++) {
        const pa_artifact_file_rec *f = &m->files[i];
        jw_put(w, i ? ",{\"path\":" : "{\"path\":", i ? 9 : 8);
        jw_string(w, f->path);
        jw_printf(w, ",\"rows\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"xxh64\":\"%016" PRIx64 "\"}",
                  f->rows, f->bytes, f->xxh64);
    }
    jw_put(w, "],\"partitions\":[", 16);
    for (uint32_t p = 0; p < m->num_partitions; p++) {
        const pa_part_ranges *pr = &m->parts[p];
        jw_printf(w, "%s{\"id\":%u,\"file\":%u,\"rows\":%" PRIu64 ",\"ranges\":[", p ? "," : "",
                  p, p % m->num_buckets, pr->num_rows);
        for (uint32_t r = 0; r < pr->num_ranges; r++)
            jw_printf(w, "%s[%" PRIu64 ",%" PRIu64 "]", r ? "," : "", pr->ranges[r].offset,
                      pr->ranges[r].num_rows);
        jw_put(w, "]}", 2);
    }
    jw_put(w, "]}\n", 3);
    jw_flush(w);
    pa_status st = w->st;
    free(w);
    return st;
}

/* Writes the manifest to a temporary name, fsyncs it, renames it into place, fsyncs the dir. */
pa_status pa_manifest_commit(const pa_manifest *m, const char *dir)
{
    char tmp[4096], final[4096];
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, PA_ARTIFACT_MANIFEST);
    snprintf(final, sizeof final, "%s/%s", dir, PA_ARTIFACT_MANIFEST);
    pa_status st = PA_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        st = pa_fail(PA_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    if (st == PA_OK)
        st = manifest_write(m, fd, tmp);
    if (st == PA_OK)
        st = pa_fsync_fd(fd, tmp);
    if (fd >= 0 && close(fd) != 0 && st == PA_OK)
        st = pa_fail(PA_ERR_IO, "%s: close failed: %s", tmp, strerror(errno));
    if (st == PA_OK && rename(tmp, final) != 0)
        st = pa_fail(PA_ERR_IO, "%s: cannot rename to %s: %s", tmp, final, strerror(errno));
    if (st == PA_OK && (st = pa_fsync_dir_of(final)) != PA_OK)
        unlink(final); /* the commit is not known to be durable: take it back, so that a failed
                        * commit never leaves an artifact that looks complete */
    if (st != PA_OK)
        unlink(tmp);
    return st;
}

/* ---- loading ---- */

typedef struct ctx {
    const char *path;
} ctx;

/* Fetches a non-negative integer member no larger than max. */
static pa_status get_uint(const ctx *c, json_t *obj, const char *where, const char *key,
                          uint64_t max, uint64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return pa_fail(PA_ERR_FORMAT, "%s: %s has no \"%s\"", c->path, where, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (uint64_t)json_integer_value(v) > max)
        return pa_fail(PA_ERR_FORMAT, "%s: %s: \"%s\" must be an integer in [0, %" PRIu64 "]",
                       c->path, where, key, max);
    *out = (uint64_t)json_integer_value(v);
    return PA_OK;
}

/* Fetches a string member. */
static pa_status get_str(const ctx *c, json_t *obj, const char *where, const char *key,
                         const char **out)
{
    json_t *v = json_object_get(obj, key);
    if (!v || !json_is_string(v))
        return pa_fail(PA_ERR_FORMAT, "%s: %s: \"%s\" must be a string", c->path, where, key);
    *out = json_string_value(v);
    return PA_OK;
}

static pa_status parse_hex64(const ctx *c, const char *where, const char *s, uint64_t *out)
{
    char *end = NULL;
    if (strlen(s) != 16 || (errno = 0, *out = strtoull(s, &end, 16), errno) || *end)
        return pa_fail(PA_ERR_FORMAT, "%s: %s: \"xxh64\" must be 16 hex digits, got \"%s\"",
                       c->path, where, s);
    return PA_OK;
}

/* Parses the top-level parameters. */
static pa_status load_params(const ctx *c, json_t *root, pa_manifest *m)
{
    const char *format = NULL;
    uint64_t v, version;
    pa_status st;
    if ((st = get_str(c, root, "the manifest", "format", &format)) != PA_OK)
        return st;
    if (strcmp(format, PA_ARTIFACT_FORMAT) != 0)
        return pa_fail(PA_ERR_FORMAT, "%s: format is \"%s\", expected \"%s\"", c->path, format,
                       PA_ARTIFACT_FORMAT);
    if ((st = get_uint(c, root, "the manifest", "format_version", UINT32_MAX, &version)) != PA_OK)
        return st;
    if (version != PA_ARTIFACT_FORMAT_VERSION)
        return pa_fail(PA_ERR_UNSUPPORTED,
                       "%s: artifact format_version %" PRIu64 "; partifact reads version %d",
                       c->path, version, PA_ARTIFACT_FORMAT_VERSION);
    struct { const char *key; uint32_t *dst; uint64_t min, max; } u32s[] = {
        {"num_partitions", &m->num_partitions, 1, 1u << 30},
        {"num_buckets", &m->num_buckets, 1, 1u << 20},
        {"code_bytes", &m->code_bytes, 1, 1u << 16},
        {"num_bits", &m->num_bits, 4, 8},
        {"dimension", &m->dimension, 1, 1u << 20},
    };
    for (size_t i = 0; i < sizeof u32s / sizeof u32s[0]; i++) {
        if ((st = get_uint(c, root, "the manifest", u32s[i].key, u32s[i].max, &v)) != PA_OK)
            return st;
        if (v < u32s[i].min)
            return pa_fail(PA_ERR_FORMAT, "%s: \"%s\" is %" PRIu64 ", must be at least %" PRIu64,
                           c->path, u32s[i].key, v, u32s[i].min);
        *u32s[i].dst = (uint32_t)v;
    }
    if (m->num_buckets > m->num_partitions)
        return pa_fail(PA_ERR_FORMAT, "%s: %u buckets for %u partitions (at most one bucket per "
                       "partition)", c->path, m->num_buckets, m->num_partitions);
    const char *metric = NULL;
    if ((st = get_str(c, root, "the manifest", "metric", &metric)) != PA_OK)
        return st;
    if (strcmp(metric, "l2") && strcmp(metric, "cosine") && strcmp(metric, "dot"))
        return pa_fail(PA_ERR_FORMAT, "%s: metric \"%s\" is not l2, cosine or dot", c->path,
                       metric);
    if (!(m->metric = pa_strdup(metric, "metric")))
        return PA_ERR_NOMEM;
    if ((st = get_uint(c, root, "the manifest", "total_rows", INT64_MAX, &m->total_rows)) != PA_OK)
        return st;
    json_t *model = json_object_get(root, "model");
    if (model && !json_is_null(model)) {
        const char *path = NULL, *hash = NULL;
        if (!json_is_object(model))
            return pa_fail(PA_ERR_FORMAT, "%s: \"model\" must be an object or null", c->path);
        if ((st = get_str(c, model, "model", "path", &path)) != PA_OK ||
            (st = get_str(c, model, "model", "xxh64", &hash)) != PA_OK ||
            (st = parse_hex64(c, "model", hash, &m->model_xxh64)) != PA_OK)
            return st;
        if (!(m->model = pa_strdup(path, "model path")))
            return PA_ERR_NOMEM;
    }
    return PA_OK;
}

/* Parses "files": one per bucket, in bucket order, at the canonical path. */
static pa_status load_files(const ctx *c, json_t *root, pa_manifest *m)
{
    json_t *files = json_object_get(root, "files");
    if (!json_is_array(files))
        return pa_fail(PA_ERR_FORMAT, "%s: \"files\" must be an array", c->path);
    if (json_array_size(files) != m->num_buckets)
        return pa_fail(PA_ERR_FORMAT, "%s: %zu files listed for %u buckets", c->path,
                       json_array_size(files), m->num_buckets);
    m->files = pa_calloc(m->num_buckets, sizeof *m->files, "file table");
    if (!m->files)
        return PA_ERR_NOMEM;
    m->num_files = m->num_buckets;
    for (uint32_t i = 0; i < m->num_buckets; i++) {
        json_t *f = json_array_get(files, i);
        char where[64], expect[64];
        snprintf(where, sizeof where, "files[%u]", i);
        const char *path = NULL, *hash = NULL;
        pa_status st;
        if (!json_is_object(f))
            return pa_fail(PA_ERR_FORMAT, "%s: %s must be an object", c->path, where);
        if ((st = get_str(c, f, where, "path", &path)) != PA_OK ||
            (st = get_uint(c, f, where, "rows", INT64_MAX, &m->files[i].rows)) != PA_OK ||
            (st = get_uint(c, f, where, "bytes", INT64_MAX, &m->files[i].bytes)) != PA_OK ||
            (st = get_str(c, f, where, "xxh64", &hash)) != PA_OK ||
            (st = parse_hex64(c, where, hash, &m->files[i].xxh64)) != PA_OK)
            return st;
        pa_artifact_bucket_path(i, expect, sizeof expect);
        if (strcmp(path, expect) != 0)
            return pa_fail(PA_ERR_FORMAT, "%s: %s has path \"%s\", expected \"%s\"", c->path,
                           where, path, expect);
        if (!(m->files[i].path = pa_strdup(path, "file path")))
            return PA_ERR_NOMEM;
    }
    return PA_OK;
}

/* Parses "partitions": every partition once, its ranges inside its file. */
static pa_status load_partitions(const ctx *c, json_t *root, pa_manifest *m)
{
    json_t *parts = json_object_get(root, "partitions");
    if (!json_is_array(parts))
        return pa_fail(PA_ERR_FORMAT, "%s: \"partitions\" must be an array", c->path);
    if (json_array_size(parts) != m->num_partitions)
        return pa_fail(PA_ERR_FORMAT, "%s: %zu partitions listed, num_partitions is %u", c->path,
                       json_array_size(parts), m->num_partitions);
    m->parts = pa_calloc(m->num_partitions, sizeof *m->parts, "partition table");
    uint64_t *file_rows = pa_calloc(m->num_files, sizeof *file_rows, "file row counts");
    pa_status st = m->parts && file_rows ? PA_OK : PA_ERR_NOMEM;
    uint64_t total = 0;
    for (uint32_t i = 0; st == PA_OK && i < m->num_partitions; i++) {
        json_t *o = json_array_get(parts, i);
        char where[64];
        snprintf(where, sizeof where, "partitions[%u]", i);
        uint64_t id, file, rows;
        if (!json_is_object(o)) {
            st = pa_fail(PA_ERR_FORMAT, "%s: %s must be an object", c->path, where);
            break;
        }
        if ((st = get_uint(c, o, where, "id", UINT32_MAX, &id)) != PA_OK ||
            (st = get_uint(c, o, where, "file", UINT32_MAX, &file)) != PA_OK ||
            (st = get_uint(c, o, where, "rows", INT64_MAX, &rows)) != PA_OK)
            break;
        if (id != i) {
            st = pa_fail(PA_ERR_FORMAT, "%s: %s has id %" PRIu64 ", expected %u (partitions "
                         "are listed in id order)", c->path, where, id, i);
            break;
        }
        if (file != i % m->num_buckets) {
            st = pa_fail(PA_ERR_FORMAT, "%s: partition %u is recorded in file %" PRIu64
                         ", but partition %u belongs in bucket %u", c->path, i, file, i,
                         i % m->num_buckets);
            break;
        }
        json_t *ranges = json_object_get(o, "ranges");
        if (!json_is_array(ranges)) {
            st = pa_fail(PA_ERR_FORMAT, "%s: partition %u: \"ranges\" must be an array", c->path,
                         i);
            break;
        }
        pa_part_ranges *pr = &m->parts[i];
        const pa_artifact_file_rec *f = &m->files[file];
        for (size_t r = 0; st == PA_OK && r < json_array_size(ranges); r++) {
            json_t *pair = json_array_get(ranges, r);
            json_t *a = json_array_get(pair, 0), *b = json_array_get(pair, 1);
            if (!json_is_array(pair) || json_array_size(pair) != 2 || !json_is_integer(a) ||
                !json_is_integer(b) || json_integer_value(a) < 0 || json_integer_value(b) <= 0) {
                st = pa_fail(PA_ERR_FORMAT, "%s: partition %u range %zu must be [offset, "
                             "num_rows] with num_rows > 0", c->path, i, r);
                break;
            }
            uint64_t off = (uint64_t)json_integer_value(a), n = (uint64_t)json_integer_value(b);
            if (off > f->rows || n > f->rows - off) {
                st = pa_fail(PA_ERR_FORMAT, "%s: partition %u range %zu [%" PRIu64 ", %" PRIu64
                             ") lies outside %s's %" PRIu64 " rows", c->path, i, r, off, off + n,
                             f->path, f->rows);
                break;
            }
            pa_range *nr = pa_realloc(pr->ranges, (pr->num_ranges + 1) * sizeof *nr, "ranges");
            if (!nr) {
                st = PA_ERR_NOMEM;
                break;
            }
            pr->ranges = nr;
            pr->ranges[pr->num_ranges++] = (pa_range){off, n};
            pr->cap_ranges = pr->num_ranges;
            pr->num_rows += n;
        }
        if (st != PA_OK)
            break;
        if (pr->num_rows != rows) {
            st = pa_fail(PA_ERR_FORMAT, "%s: partition %u says %" PRIu64 " rows but its ranges "
                         "hold %" PRIu64, c->path, i, rows, pr->num_rows);
            break;
        }
        file_rows[file] += rows;
        total += rows;
    }
    for (uint32_t f = 0; st == PA_OK && f < m->num_files; f++)
        if (file_rows[f] != m->files[f].rows)
            st = pa_fail(PA_ERR_FORMAT, "%s: %s has %" PRIu64 " rows but its partitions' ranges "
                         "cover %" PRIu64, c->path, m->files[f].path, m->files[f].rows,
                         file_rows[f]);
    if (st == PA_OK && total != m->total_rows)
        st = pa_fail(PA_ERR_FORMAT, "%s: total_rows is %" PRIu64 " but the partitions hold %"
                     PRIu64, c->path, m->total_rows, total);
    free(file_rows);
    return st;
}

/* Loads dir/manifest.json into m (see the file comment). */
pa_status pa_manifest_load(pa_manifest *m, const char *dir)
{
    memset(m, 0, sizeof *m);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, PA_ARTIFACT_MANIFEST);
    ctx c = {path};
    json_error_t err;
    int fd = -1;
    uint64_t fsize = 0;
    if (access(path, F_OK) == 0) { /* a FIFO or a directory is refused, not waited on */
        pa_status so = pa_open_input(path, &fd, &fsize);
        if (so != PA_OK)
            return so;
        close(fd);
    }
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        if (access(path, F_OK) != 0)
            return errno == ENOENT
                       ? pa_fail(PA_ERR_INCOMPLETE,
                                 "%s: incomplete artifact: no manifest.json (the writer did not "
                                 "finish, or this is not an artifact)", dir)
                       : pa_fail(PA_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
        return pa_fail(PA_ERR_FORMAT, "%s: line %d, column %d: malformed JSON: %s", path,
                       err.line, err.column, err.text);
    }
    pa_status st = json_is_object(root)
                       ? PA_OK
                       : pa_fail(PA_ERR_FORMAT, "%s: the manifest must be a JSON object", path);
    if (st == PA_OK)
        st = load_params(&c, root, m);
    if (st == PA_OK)
        st = load_files(&c, root, m);
    if (st == PA_OK)
        st = load_partitions(&c, root, m);
    json_decref(root);
    if (st != PA_OK)
        pa_manifest_clear(m);
    return st;
}
