/* Lance datasets: a directory LanceDB opens as a table.
 *
 *   <dataset>/_versions/<N>.manifest   one per version; N = u64::MAX - version ("V2" names, 20
 *                                      digits) or the plain version ("V1" names)
 *   <dataset>/data/<name>.lance        data files, one per fragment here
 *
 * A manifest file ends with 16 bytes: u64 position of the manifest, u16 major, u16 minor,
 * "LANC"; at that position, a u32 length and the Manifest protobuf (fields, fragments with their
 * data files and row counts, version, ...). Row addresses are fragment_id << 32 | row offset.
 *
 * Reading opens the newest version and streams one column fragment by fragment. Writing creates
 * version 1: data files through the Lance file writer, then the manifest under a temporary name,
 * fsynced and renamed — the dataset exists for LanceDB only once that rename is done. */
#include "common/json.h"
#include "lance/lance_internal.h"
#include "lance/table_commit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#define MANIFEST_FOOTER 16
/* A row address is fragment id << 32 | offset: a fragment has at most 2^32 rows (so the
 * dataset's total, at most 2^32 fragments of them, cannot overflow 64 bits). */
#define PA_DATASET_MAX_FRAGMENT_ROWS ((uint64_t)1 << 32)
#define V2_NAME_DIGITS 20

typedef struct ds_field {
    pa_field f; /* type PA_TYPE_OTHER for a type partifact does not read */
    int32_t id;
    char *ltype; /* the logical type as the manifest records it */
} ds_field;

typedef struct ds_file {
    char *path;       /* the full path */
    int32_t *fields;  /* field ids */
    int32_t *columns; /* column index of each field id in the file */
    size_t n;
} ds_file;

typedef struct ds_fragment {
    uint64_t id, rows; /* rows: physical, deleted ones included */
    ds_file *files;
    size_t num_files;
    void *deleted; /* bitmap of deleted offsets (deletion.c), NULL if none */
    uint64_t num_deleted;
    uint64_t del_read_version, del_id; /* the deletion file's name parts (0, 0: none) */
} ds_fragment;

struct pa_dataset {
    char *path;
    uint64_t version, num_rows; /* num_rows: live rows */
    ds_field *fields;
    size_t num_fields;
    ds_fragment *frags;
    size_t num_frags;
};

/* Reader feature flags of a manifest partifact reads (Lance's feature_flags.rs): deletion
 * files (1), the deprecated "v2 format" flag (4), table config (8), base paths (16: shallow
 * clones, branches) and no transaction file (32); stable row ids (2) are refused. */
#define FLAG_STABLE_ROW_IDS 2u
#define READER_FLAGS_KNOWN 63u

/* ---- reading ---- */

/* Parses a manifest file name; returns the version it stands for, or 0 if it is not one. */
static uint64_t manifest_version(const char *name)
{
    size_t len = strlen(name);
    const char *suffix = ".manifest";
    size_t sl = strlen(suffix);
    if (len <= sl || strcmp(name + len - sl, suffix) != 0)
        return 0;
    size_t digits = len - sl;
    for (size_t i = 0; i < digits; i++)
        if (name[i] < '0' || name[i] > '9')
            return 0;
    errno = 0;
    unsigned long long n = strtoull(name, NULL, 10);
    if (errno)
        return 0;
    return digits == V2_NAME_DIGITS ? UINT64_MAX - (uint64_t)n : (uint64_t)n;
}

/* Finds the manifest of a version in dir/_versions: the newest one when want is 0. */
static pa_status find_version(const char *dir, uint64_t want, char *out, size_t out_len,
                              uint64_t *version)
{
    char vdir[4096];
    snprintf(vdir, sizeof vdir, "%s/_versions", dir);
    DIR *d = opendir(vdir);
    if (!d) {
        struct stat st;
        if (stat(dir, &st) != 0)
            return pa_fail_errno(errno, "%s: cannot open dataset: %s", dir, strerror(errno));
        return pa_fail(PA_ERR_FORMAT, "%s: not a Lance dataset (no _versions directory)", dir);
    }
    uint64_t best = 0, newest = 0;
    char best_name[512] = "";
    struct dirent *e;
    while ((e = readdir(d))) {
        uint64_t v = manifest_version(e->d_name);
        newest = PA_MAX(newest, v);
        if ((want ? v == want : v > best) && strlen(e->d_name) < sizeof best_name) {
            best = v;
            snprintf(best_name, sizeof best_name, "%s", e->d_name);
        }
    }
    closedir(d);
    if (!newest)
        return pa_fail(PA_ERR_INCOMPLETE,
                       "%s: dataset has no committed version (no manifest in "
                       "_versions)",
                       dir);
    if (!best)
        return pa_fail(PA_ERR_RANGE,
                       "%s: version %" PRIu64 " does not exist (the table's "
                       "versions that remain end at %" PRIu64 ")",
                       dir, want, newest);
    int n = snprintf(out, out_len, "%s/%s", vdir, best_name);
    if (n < 0 || (size_t)n >= out_len)
        return pa_fail(PA_ERR_INVALID, "%s: dataset path is too long", dir);
    *version = best;
    return PA_OK;
}

/* Finds the newest manifest in dir/_versions. */
static pa_status find_latest(const char *dir, char *out, size_t out_len, uint64_t *version)
{
    return find_version(dir, 0, out, out_len, version);
}

/* Reads a whole small file into memory. */
static pa_status slurp(const char *path, uint8_t **out, size_t *len)
{
    int fd = -1;
    uint64_t size = 0;
    pa_status st = pa_open_input(path, &fd, &size);
    if (st != PA_OK)
        return st;
    if (size > (256u << 20))
        st = pa_fail(PA_ERR_FORMAT, "%s: manifest of %" PRIu64 " bytes is implausibly large", path,
                     size);
    uint8_t *buf = NULL;
    if (st == PA_OK && !(buf = pa_malloc((size_t)size, "manifest")))
        st = PA_ERR_NOMEM;
    if (st == PA_OK)
        st = pa_pread_full(fd, buf, (size_t)size, 0, path);
    close(fd);
    if (st != PA_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    *len = (size_t)size;
    return PA_OK;
}

/* Parses the manifest file at path (see the file comment). */
static pa_status load_manifest(const char *path, Pa__Lancepb__Manifest **out)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    pa_status st = slurp(path, &buf, &len);
    if (st != PA_OK)
        goto done;
    if (len < MANIFEST_FOOTER || memcmp(buf + len - 4, PA_LANCE_MAGIC, 4) != 0) {
        st = pa_fail(PA_ERR_FORMAT,
                     "%s: not a Lance manifest (no \"LANC\" magic at the end of "
                     "its %zu bytes)",
                     path, len);
        goto done;
    }
    uint64_t pos = pa_ld64(buf + len - MANIFEST_FOOTER);
    uint64_t end = len - MANIFEST_FOOTER;
    uint32_t claimed = pos <= end && end - pos >= 4 ? pa_ld32(buf + pos) : 0;
    if (pos > end || end - pos < 4 || claimed > end - pos - 4) {
        st = pa_fail(PA_ERR_FORMAT,
                     "%s: manifest at byte offset %" PRIu64 " with %u bytes lies "
                     "outside the file's %zu bytes",
                     path, pos, claimed, len);
        goto done;
    }
    uint32_t mlen = pa_ld32(buf + pos);
    Pa__Lancepb__Manifest *m = pa__lancepb__manifest__unpack(NULL, mlen, buf + pos + 4);
    if (!m) {
        st = pa_fail(PA_ERR_FORMAT,
                     "%s: manifest (%u bytes at byte offset %" PRIu64 ") does not "
                     "parse as protobuf",
                     path, mlen, pos + 4);
        goto done;
    }
    *out = m;
done:
    free(buf);
    return st;
}

/* Takes the top-level fields with their ids: every type is parsed, those partifact does not
 * read (strings, structs, ...) have type PA_TYPE_OTHER and are never decoded. */
static pa_status take_fields(pa_dataset *ds, const Pa__Lancepb__Manifest *m, const char *ctx)
{
    (void)ctx;
    ds->fields = pa_calloc(m->n_fields ? m->n_fields : 1, sizeof *ds->fields, "dataset fields");
    if (!ds->fields)
        return PA_ERR_NOMEM;
    for (size_t i = 0; i < m->n_fields; i++) {
        const Pa__Lancepb__Field *f = m->fields[i];
        if (f->parent_id != -1)
            continue;
        ds_field *d = &ds->fields[ds->num_fields];
        const char *lt = f->logical_type ? f->logical_type : "";
        if (pa_parse_logical_type(lt, &d->f.type, &d->f.dim) != PA_OK) {
            pa_clear_error();
            d->f.type = PA_TYPE_OTHER, d->f.dim = 1;
        }
        d->f.name = pa_strdup(f->name ? f->name : "", "field name");
        d->ltype = pa_strdup(lt, "field type");
        d->id = f->id;
        ds->num_fields++;
        if (!d->f.name || !d->ltype)
            return PA_ERR_NOMEM;
    }
    return PA_OK;
}

/* The base_id (field 7) of a DataFile or DeletionFile, from its unknown fields: true if set. */
static bool base_id_of(const ProtobufCMessage *msg, uint32_t *id)
{
    for (unsigned i = 0; i < msg->n_unknown_fields; i++) {
        const ProtobufCMessageUnknownField *u = &msg->unknown_fields[i];
        if (u->tag != 7 || u->wire_type != PROTOBUF_C_WIRE_TYPE_VARINT)
            continue;
        uint64_t v = 0;
        for (size_t k = 0; k < u->len && k < 10; k++)
            v |= (uint64_t)(u->data[k] & 0x7F) << (7 * k);
        *id = (uint32_t)v;
        return true;
    }
    return false;
}

/* The full path of a file of the table: under the table's own dir/sub, or, with a base_id,
 * under that base path (a shallow clone's source, a branch's parent). */
static pa_status table_file_path(const pa_dataset *ds, const Pa__Lancepb__Manifest *m,
                                 const ProtobufCMessage *msg, const char *sub, const char *name,
                                 const char *ctx, char *out, size_t out_len)
{
    uint32_t bid;
    const char *root = ds->path;
    bool dataset_root = true;
    if (base_id_of(msg, &bid)) {
        const Pa__Lancepb__BasePath *bp = NULL;
        for (size_t i = 0; i < m->n_base_paths; i++)
            if (m->base_paths[i]->id == bid)
                bp = m->base_paths[i];
        if (!bp || !bp->path || !bp->path[0])
            return pa_fail(PA_ERR_FORMAT,
                           "%s: file %s names base path %u, which the manifest "
                           "does not list",
                           ctx, name, bid);
        root = bp->path;
        if (!strncmp(root, "file://", 7))
            root += 7;
        else if (strstr(root, "://"))
            return pa_fail(PA_ERR_UNSUPPORTED,
                           "%s: file %s lies under base path %s; partifact "
                           "reads local tables only",
                           ctx, name, bp->path);
        dataset_root = bp->is_dataset_root;
    }
    int n = dataset_root ? snprintf(out, out_len, "%s/%s/%s", root, sub, name)
                         : snprintf(out, out_len, "%s/%s", root, name);
    if (n < 0 || (size_t)n >= out_len)
        return pa_fail(PA_ERR_INVALID, "%s: path of file %s is too long", ctx, name);
    return PA_OK;
}

/* Reads fragment fr's deletion file. */
static pa_status take_deletions(pa_dataset *ds, const Pa__Lancepb__Manifest *m,
                                const Pa__Lancepb__DataFragment *f, ds_fragment *fr,
                                const char *ctx)
{
    const Pa__Lancepb__DeletionFile *del = f->deletion_file;
    if (!del || (!del->num_deleted_rows && !del->id && !del->read_version))
        return PA_OK;
    char name[128], path[4096];
    snprintf(name, sizeof name, "%" PRIu64 "-%" PRIu64 "-%" PRIu64 ".%s", f->id, del->read_version,
             del->id, del->file_type == 1 ? "bin" : "arrow");
    pa_status st = table_file_path(ds, m, &del->base, "_deletions", name, ctx, path, sizeof path);
    if (st == PA_OK)
        st = pa_deletion_read(path, del->file_type, del->num_deleted_rows, fr->rows, &fr->deleted);
    if (st != PA_OK)
        return pa_fail_prefix(st, "%s: fragment %" PRIu64, ds->path, f->id);
    fr->num_deleted = del->num_deleted_rows;
    fr->del_read_version = del->read_version;
    fr->del_id = del->id;
    return PA_OK;
}

/* Takes the fragments and their data files. */
static pa_status take_fragments(pa_dataset *ds, const Pa__Lancepb__Manifest *m, const char *ctx)
{
    if (!(ds->frags = pa_calloc(m->n_fragments, sizeof *ds->frags, "fragments")))
        return PA_ERR_NOMEM;
    ds->num_frags = m->n_fragments;
    for (size_t i = 0; i < m->n_fragments; i++) {
        const Pa__Lancepb__DataFragment *f = m->fragments[i];
        ds_fragment *fr = &ds->frags[i];
        fr->id = f->id;
        fr->rows = f->physical_rows;
        if (f->id > UINT32_MAX)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: fragment id %" PRIu64 " does not fit in a row "
                           "address",
                           ctx, f->id);
        if (f->physical_rows > PA_DATASET_MAX_FRAGMENT_ROWS)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: fragment %" PRIu64 " claims %" PRIu64 " rows, "
                           "more than the %" PRIu64 " a row address can number",
                           ctx, f->id, f->physical_rows, PA_DATASET_MAX_FRAGMENT_ROWS);
        fr->files = pa_calloc(f->n_files, sizeof *fr->files, "data files");
        if (!fr->files)
            return PA_ERR_NOMEM;
        fr->num_files = f->n_files;
        for (size_t j = 0; j < f->n_files; j++) {
            const Pa__Lancepb__DataFile *df = f->files[j];
            ds_file *x = &fr->files[j];
            if (!df->path || !df->path[0] || strstr(df->path, ".."))
                return pa_fail(PA_ERR_FORMAT, "%s: fragment %" PRIu64 " names data file \"%s\"",
                               ctx, f->id, df->path ? df->path : "");
            if (df->n_column_indices && df->n_column_indices != df->n_fields)
                return pa_fail(PA_ERR_FORMAT,
                               "%s: data file %s lists %zu fields but %zu column "
                               "indices",
                               ctx, df->path, df->n_fields, df->n_column_indices);
            char full[4096];
            pa_status st = table_file_path(ds, m, &df->base, "data", df->path, ctx, full,
                                           sizeof full);
            if (st != PA_OK)
                return st;
            x->path = pa_strdup(full, "data file path");
            x->fields = pa_calloc(df->n_fields, sizeof *x->fields, "field ids");
            x->columns = pa_calloc(df->n_fields, sizeof *x->columns, "column indices");
            if (!x->path || !x->fields || !x->columns)
                return PA_ERR_NOMEM;
            x->n = df->n_fields;
            for (size_t k = 0; k < df->n_fields; k++) {
                x->fields[k] = df->fields[k];
                x->columns[k] = df->n_column_indices ? df->column_indices[k] : (int32_t)k;
            }
        }
        if (fr->rows > UINT32_MAX)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: fragment %" PRIu64 " has %" PRIu64 " rows, more "
                           "than a row address holds",
                           ctx, f->id, fr->rows);
        pa_status st = take_deletions(ds, m, f, fr, ctx);
        if (st != PA_OK)
            return st;
        ds->num_rows += fr->rows - fr->num_deleted;
    }
    return PA_OK;
}

/* Refuses what partifact cannot read right: reader feature flags it does not know, and
 * stable row ids (an index must then hold the stable ids, not row addresses). */
static pa_status check_flags(const Pa__Lancepb__Manifest *m, const char *ctx)
{
    uint64_t flags = m->reader_feature_flags;
    if (flags & FLAG_STABLE_ROW_IDS)
        return pa_fail(PA_ERR_UNSUPPORTED,
                       "%s: the table uses stable row ids (feature flag "
                       "0x2), but partifact's indexes and ground truth hold row addresses",
                       ctx);
    if (flags & ~(uint64_t)READER_FLAGS_KNOWN)
        return pa_fail(PA_ERR_UNSUPPORTED,
                       "%s: reader feature flags 0x%" PRIx64 " include ones "
                       "partifact does not know (0x%" PRIx64 "); it does not read this table",
                       ctx, flags, flags & ~(uint64_t)READER_FLAGS_KNOWN);
    return PA_OK;
}

pa_status pa_dataset_open_version(pa_dataset **out, const char *path, uint64_t version)
{
    *out = NULL;
    pa_dataset *ds = pa_calloc(1, sizeof *ds, "dataset");
    if (!ds)
        return PA_ERR_NOMEM;
    char mpath[4096];
    Pa__Lancepb__Manifest *m = NULL;
    ds->path = pa_strdup(path, "dataset path");
    pa_status st = ds->path ? find_version(path, version, mpath, sizeof mpath, &ds->version)
                            : PA_ERR_NOMEM;
    if (st == PA_OK)
        st = load_manifest(mpath, &m);
    if (st == PA_OK)
        st = check_flags(m, path);
    if (st == PA_OK)
        st = take_fields(ds, m, mpath);
    if (st == PA_OK)
        st = take_fragments(ds, m, mpath);
    if (m)
        pa__lancepb__manifest__free_unpacked(m, NULL);
    if (st != PA_OK) {
        pa_dataset_free(ds);
        return st;
    }
    *out = ds;
    return PA_OK;
}

/* Opens the newest version of a dataset (see the header). */
pa_status pa_dataset_open(pa_dataset **out, const char *path)
{
    return pa_dataset_open_version(out, path, 0);
}

uint64_t pa_dataset_version(const pa_dataset *ds) { return ds->version; }
uint64_t pa_dataset_num_rows(const pa_dataset *ds) { return ds->num_rows; }
size_t pa_dataset_num_fields(const pa_dataset *ds) { return ds->num_fields; }
size_t pa_dataset_num_fragments(const pa_dataset *ds) { return ds->num_frags; }

pa_status pa_dataset_field(const pa_dataset *ds, size_t i, pa_field *out)
{
    if (i >= ds->num_fields)
        return pa_fail(PA_ERR_RANGE, "%s: field %zu does not exist (the dataset has %zu)", ds->path,
                       i, ds->num_fields);
    *out = ds->fields[i].f;
    return PA_OK;
}

pa_status pa_dataset_fragment(const pa_dataset *ds, size_t i, uint64_t *id, uint64_t *num_rows)
{
    if (i >= ds->num_frags)
        return pa_fail(PA_ERR_RANGE, "%s: fragment %zu does not exist (the dataset has %zu)",
                       ds->path, i, ds->num_frags);
    if (id)
        *id = ds->frags[i].id;
    if (num_rows)
        *num_rows = ds->frags[i].rows;
    return PA_OK;
}

uint64_t pa_dataset_fragment_deleted(const pa_dataset *ds, size_t i)
{
    return i < ds->num_frags ? ds->frags[i].num_deleted : 0;
}

int pa_dataset_row_deleted(const pa_dataset *ds, size_t i, uint64_t offset)
{
    return i < ds->num_frags && offset <= UINT32_MAX &&
           pa_deletion_has(ds->frags[i].deleted, (uint32_t)offset);
}

uint64_t pa_dataset_live_offset(const pa_dataset *ds, size_t i, uint64_t k)
{
    return pa_deletion_nth_live(ds->frags[i].deleted, (uint32_t)k);
}

void pa_dataset_fragment_deletion(const pa_dataset *ds, size_t i, uint64_t *read_version,
                                  uint64_t *id)
{
    *read_version = i < ds->num_frags ? ds->frags[i].del_read_version : 0;
    *id = i < ds->num_frags ? ds->frags[i].del_id : 0;
}

const char *pa_dataset_field_type(const pa_dataset *ds, size_t i)
{
    return i < ds->num_fields ? ds->fields[i].ltype : "";
}

pa_status pa_dataset_fragment_file(const pa_dataset *ds, size_t i, const char *column, char *path,
                                   size_t path_len, size_t *col_index)
{
    if (i >= ds->num_frags)
        return pa_fail(PA_ERR_RANGE, "%s: fragment %zu does not exist (the dataset has %zu)",
                       ds->path, i, ds->num_frags);
    const ds_field *f = NULL;
    for (size_t k = 0; k < ds->num_fields; k++)
        if (!strcmp(ds->fields[k].f.name, column))
            f = &ds->fields[k];
    if (!f)
        return pa_fail(PA_ERR_RANGE, "%s: no column named \"%s\"", ds->path, column);
    const ds_fragment *fr = &ds->frags[i];
    for (size_t j = 0; j < fr->num_files; j++)
        for (size_t k = 0; k < fr->files[j].n; k++)
            if (fr->files[j].fields[k] == f->id && fr->files[j].columns[k] >= 0) {
                snprintf(path, path_len, "%s", fr->files[j].path);
                *col_index = (size_t)fr->files[j].columns[k];
                return PA_OK;
            }
    return pa_fail(PA_ERR_FORMAT, "%s: fragment %" PRIu64 " has no data file for column \"%s\"",
                   ds->path, fr->id, column);
}

/* Frees what fragment fr holds (its files' records and its deletion bitmap). */
static void fragment_clear(ds_fragment *fr)
{
    for (size_t j = 0; fr->files && j < fr->num_files; j++) {
        free(fr->files[j].path);
        free(fr->files[j].fields);
        free(fr->files[j].columns);
    }
    free(fr->files);
    pa_deletion_free(fr->deleted);
}

pa_status pa_dataset_select_fragments(pa_dataset *ds, const uint64_t *ids, size_t n)
{
    if (n == 0)
        return pa_fail_field(PA_ERR_INVALID, "fragments",
                             "%s: an empty list of fragments selects no rows", ds->path);
    bool *keep = pa_calloc(ds->num_frags ? ds->num_frags : 1, sizeof *keep, "fragment selection");
    if (!keep)
        return PA_ERR_NOMEM;
    pa_status st = PA_OK;
    for (size_t k = 0; k < n && st == PA_OK; k++) {
        size_t i = 0;
        while (i < ds->num_frags && ds->frags[i].id != ids[k])
            i++;
        if (i == ds->num_frags)
            st = pa_fail_field(PA_ERR_INVALID, "fragments",
                               "%s: version %" PRIu64 " has no fragment %" PRIu64, ds->path,
                               ds->version, ids[k]);
        else if (keep[i])
            st = pa_fail_field(PA_ERR_INVALID, "fragments",
                               "%s: fragment %" PRIu64 " is selected twice", ds->path, ids[k]);
        else
            keep[i] = true;
    }
    if (st == PA_OK) {
        size_t m = 0;
        ds->num_rows = 0;
        for (size_t i = 0; i < ds->num_frags; i++) {
            if (!keep[i]) {
                fragment_clear(&ds->frags[i]);
                continue;
            }
            ds->frags[m++] = ds->frags[i];
            ds->num_rows += ds->frags[i].rows - ds->frags[i].num_deleted;
        }
        ds->num_frags = m;
    }
    free(keep);
    return st;
}

void pa_dataset_free(pa_dataset *ds)
{
    if (!ds)
        return;
    for (size_t i = 0; ds->frags && i < ds->num_frags; i++)
        fragment_clear(&ds->frags[i]);
    for (size_t i = 0; ds->fields && i < ds->num_fields; i++) {
        free((char *)ds->fields[i].f.name);
        free(ds->fields[i].ltype);
    }
    free(ds->fields);
    free(ds->frags);
    free(ds->path);
    free(ds);
}

/* ---- scan ---- */

struct pa_dataset_scan {
    pa_dataset *ds;
    char *column;
    pa_field field;
    size_t row_bytes, batch;
    size_t frag;        /* current fragment */
    pa_lance_reader *r; /* its data file */
    size_t col;         /* column index in that file */
    uint64_t offset;    /* next row within the fragment */
    uint8_t *values;
    uint64_t *addrs;
    uint8_t *valid; /* the batch's validity (1: a vector, 0: null) */
    uint64_t nulls; /* null rows left out so far */
};


/* What a scan allocates for its batches (see pa_dataset_scan_create): the values and the row
 * addresses of batch_rows rows; 0 when that does not fit in size_t. */
uint64_t pa_dataset_scan_bytes(pa_type type, uint32_t dim, size_t batch_rows)
{
    size_t rows = batch_rows ? batch_rows : PA_DEFAULT_BATCH_ROWS, bytes;
    if (!pa_mul_ok(rows, pa_type_row_bytes(type, dim) + sizeof(uint64_t) + 1, &bytes))
        return 0;
    return bytes;
}

pa_status pa_dataset_scan_create(pa_dataset_scan **out, pa_dataset *ds, const char *column,
                                 size_t batch_rows)
{
    *out = NULL;
    pa_dataset_scan *s = NULL;
    pa_status st = PA_OK;
    const ds_field *f = NULL;
    for (size_t k = 0; k < ds->num_fields; k++)
        if (!strcmp(ds->fields[k].f.name, column))
            f = &ds->fields[k];
    if (!f) {
        st = pa_fail(PA_ERR_RANGE, "%s: no column named \"%s\"", ds->path, column);
        goto done;
    }
    if (f->f.type == PA_TYPE_OTHER) {
        st = pa_fail(PA_ERR_UNSUPPORTED,
                     "%s: column \"%s\" is of type \"%s\", which "
                     "partifact does not read",
                     ds->path, column, f->ltype);
        goto done;
    }
    if (!(s = pa_calloc(1, sizeof *s, "dataset scan"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    s->ds = ds;
    s->field = f->f;
    s->row_bytes = pa_type_row_bytes(f->f.type, f->f.dim);
    s->batch = batch_rows ? batch_rows : PA_DEFAULT_BATCH_ROWS;
    s->column = pa_strdup(column, "column name");
    size_t vbytes;
    if (!pa_dataset_scan_bytes(f->f.type, f->f.dim, s->batch) ||
        !pa_mul_ok(s->batch, s->row_bytes, &vbytes)) {
        st = pa_fail(PA_ERR_INVALID, "%s: batch of %zu rows is too large", ds->path, s->batch);
        goto done;
    }
    s->values = pa_malloc(vbytes, "scan batch");
    s->addrs = pa_malloc(s->batch * sizeof *s->addrs, "scan row addresses");
    s->valid = pa_malloc(s->batch, "scan validity");
    if (!s->column || !s->values || !s->addrs || !s->valid) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    *out = s;
    s = NULL; /* the caller's now */
done:
    pa_dataset_scan_free(s);
    return st;
}

/* Opens fragment s->frag's data file for the column and checks it against the manifest. */
static pa_status scan_open_fragment(pa_dataset_scan *s)
{
    char path[4096];
    pa_status st = pa_dataset_fragment_file(s->ds, s->frag, s->column, path, sizeof path, &s->col);
    if (st != PA_OK)
        return st;
    if ((st = pa_lance_reader_open(&s->r, path)) != PA_OK)
        return st;
    const ds_fragment *fr = &s->ds->frags[s->frag];
    if (pa_lance_reader_num_rows(s->r) != fr->rows)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: data file has %" PRIu64 " rows, the manifest says "
                       "fragment %" PRIu64 " has %" PRIu64,
                       path, pa_lance_reader_num_rows(s->r), fr->id, fr->rows);
    pa_field got;
    if ((st = pa_lance_reader_field(s->r, s->col, &got)) != PA_OK)
        return pa_fail_prefix(st, "%s: column \"%s\"", path, s->column);
    if (got.type != s->field.type || got.dim != s->field.dim)
        return pa_fail(PA_ERR_FORMAT, "%s: column %zu is not of the manifest's type for \"%s\"",
                       path, s->col, s->column);
    s->offset = 0;
    return PA_OK;
}

pa_status pa_dataset_scan_next(pa_dataset_scan *s, const void **values, const uint64_t **row_addrs,
                               size_t *num_rows)
{
    *num_rows = 0;
    while (s->frag < s->ds->num_frags) {
        pa_status st;
        if (!s->r && (st = scan_open_fragment(s)) != PA_OK)
            return st;
        const ds_fragment *fr = &s->ds->frags[s->frag];
        if (s->offset < fr->rows) {
            size_t n = (size_t)PA_MIN((uint64_t)s->batch, fr->rows - s->offset);
            if ((st = pa_lance_reader_read_valid(s->r, s->col, s->offset, n, s->values,
                                                 s->valid)) != PA_OK)
                return st;
            size_t kept = 0; /* deleted rows and null vectors are dropped here: nothing
                              * downstream sees them */
            for (size_t i = 0; i < n; i++) {
                uint64_t off = s->offset + i;
                if (pa_deletion_has(fr->deleted, (uint32_t)off))
                    continue;
                if (!s->valid[i]) {
                    s->nulls++;
                    continue;
                }
                if (kept != i)
                    memcpy(s->values + kept * s->row_bytes, s->values + i * s->row_bytes,
                           s->row_bytes);
                s->addrs[kept++] = fr->id << 32 | off;
            }
            s->offset += n;
            if (!kept)
                continue;
            *values = s->values;
            *row_addrs = s->addrs;
            *num_rows = kept;
            return PA_OK;
        }
        pa_lance_reader_free(s->r);
        s->r = NULL;
        s->frag++;
    }
    return PA_END;
}

uint64_t pa_dataset_scan_nulls(const pa_dataset_scan *s) { return s->nulls; }

void pa_dataset_scan_free(pa_dataset_scan *s)
{
    if (!s)
        return;
    pa_lance_reader_free(s->r);
    free(s->values);
    free(s->addrs);
    free(s->valid);
    free(s->column);
    free(s);
}

/* ---- writing ---- */

typedef struct written_file {
    char name[64];
    uint64_t rows, bytes;
    unsigned minor; /* its file format, 2.minor */
} written_file;

struct pa_dataset_writer {
    char *path;      /* the dataset, as named (messages) */
    pa_out_dir out;  /* written in out.dir beside it, renamed into place by the commit */
    const char *dir; /* out.dir while writing */
    pa_field *fields;
    size_t num_fields;
    pa_dataset_write_options opts;
    pa_lance_writer *cur;
    uint64_t cur_rows;
    written_file *files;
    size_t num_files;
    uint8_t *nullable; /* wrapped files: each field's nullability, as their schema says */
    bool committed, failed;
    uint64_t seed;
};

/* A fresh 32-hex-digit data file name (unique within the dataset). */
static void new_file_name(pa_dataset_writer *w, char *out, size_t len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t a = XXH64(&ts, sizeof ts, w->seed++), b = XXH64(&a, sizeof a, (uint64_t)getpid());
    snprintf(out, len, "%016" PRIx64 "%016" PRIx64 ".lance", a, b);
}

pa_status pa_dataset_writer_create(pa_dataset_writer **out, const char *path,
                                   const pa_field *fields, size_t num_fields,
                                   const pa_dataset_write_options *opts)
{
    *out = NULL;
    if (!path || !fields || !num_fields)
        return pa_fail(PA_ERR_INVALID, "dataset writer: a path and at least one field are needed");
    PA_LOAD_OPTS(pa_dataset_write_options, o, opts, PA_DATASET_WRITE_OPTIONS_INIT);
    pa_dataset_writer *w = NULL;
    pa_status st = PA_OK;
    for (size_t i = 0; i < num_fields; i++)
        if ((st = pa_validate_field(&fields[i])) != PA_OK) {
            st = pa_fail_prefix(st, "%s", path);
            goto done;
        }
    if (!(w = pa_calloc(1, sizeof *w, "dataset writer")) ||
        !(w->path = pa_strdup(path, "dataset path")) ||
        !(w->fields = pa_calloc(num_fields, sizeof *w->fields, "fields"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    w->num_fields = num_fields;
    for (size_t i = 0; i < num_fields; i++) {
        w->fields[i] = fields[i];
        if (!(w->fields[i].name = pa_strdup(fields[i].name, "field name"))) {
            st = PA_ERR_NOMEM;
            goto done;
        }
    }
    w->opts = o;
    if (!w->opts.max_rows_per_fragment)
        w->opts.max_rows_per_fragment = PA_DEFAULT_ROWS_PER_FRAGMENT;
    /* a new directory beside path, renamed into place by the commit; an existing path is
     * refused (a dataset is never written over) */
    st = pa_out_dir_open(&w->out, path, false, "_versions");
    w->dir = w->out.dir;
    if (st == PA_OK)
        st = pa_out_dir_mkdir(&w->out, "data");
done:
    if (st == PA_OK)
        *out = w;
    else
        pa_dataset_writer_free(w);
    return st;
}

/* Closes the current fragment's data file and records it. */
static pa_status close_fragment(pa_dataset_writer *w)
{
    if (!w->cur)
        return PA_OK;
    pa_status st = pa_lance_writer_close(w->cur);
    if (st != PA_OK)
        return st;
    w->files[w->num_files - 1].rows = w->cur_rows;
    w->files[w->num_files - 1].bytes = pa_lance_writer_bytes_written(w->cur);
    pa_lance_writer_free(w->cur);
    w->cur = NULL;
    w->cur_rows = 0;
    return PA_OK;
}

/* Starts the next fragment's data file. */
static pa_status open_fragment(pa_dataset_writer *w)
{
    written_file *f = pa_realloc(w->files, (w->num_files + 1) * sizeof *f, "fragment list");
    if (!f)
        return PA_ERR_NOMEM;
    w->files = f;
    written_file *nf = &w->files[w->num_files];
    memset(nf, 0, sizeof *nf);
    nf->minor = PA_DEFAULT_LANCE_FORMAT; /* the writer's default, as lo below asks */
    new_file_name(w, nf->name, sizeof nf->name);
    char path[4096];
    snprintf(path, sizeof path, "%s/data/%s", w->dir, nf->name);
    pa_lance_write_options lo = PA_LANCE_WRITE_OPTIONS_INIT;
    lo.page_bytes = w->opts.page_bytes;
    lo.in_new_dir = 1;
    pa_status st = pa_lance_writer_create(&w->cur, path, w->fields, w->num_fields, &lo);
    if (st == PA_OK)
        w->num_files++;
    return st;
}

pa_status pa_dataset_writer_append(pa_dataset_writer *w, const void *const *columns,
                                   uint64_t num_rows)
{
    pa_status st = pa_writer_state(w->path, "append", w->committed, "commit", w->failed);
    if (st != PA_OK)
        return st;
    for (size_t i = 0; i < w->num_fields; i++)
        if (pa_type_is_list(w->fields[i].type))
            return pa_fail(PA_ERR_UNSUPPORTED,
                           "%s: field \"%s\" is a list column, which the dataset writer does "
                           "not append (write the file with pa_lance_writer and wrap it with "
                           "pa_dataset_wrap_files)",
                           w->path, w->fields[i].name);
    const void **cols = pa_calloc(w->num_fields, sizeof *cols, "column pointers");
    if (!cols)
        return PA_ERR_NOMEM;
    uint64_t done = 0;
    while (done < num_rows && st == PA_OK) {
        if (!w->cur && (st = open_fragment(w)) != PA_OK)
            break;
        uint64_t n = PA_MIN(num_rows - done, w->opts.max_rows_per_fragment - w->cur_rows);
        for (size_t i = 0; i < w->num_fields; i++)
            cols[i] = (const uint8_t *)columns[i] +
                      done * pa_type_row_bytes(w->fields[i].type, w->fields[i].dim);
        if ((st = pa_lance_writer_append(w->cur, cols, n)) != PA_OK)
            break;
        w->cur_rows += n;
        done += n;
        if (w->cur_rows == w->opts.max_rows_per_fragment)
            st = close_fragment(w);
    }
    free(cols);
    if (st != PA_OK)
        w->failed = true;
    return st;
}

pa_status pa_lance_write_version_hint(const char *dir, uint64_t version)
{
    json_t *v = NULL;
    char *text = NULL, *path = NULL;
    pa_status st = pa_json_pack(&v, "version hint", "{s:I}", "version", (json_int_t)version);
    if (st != PA_OK || (st = pa_json_dump(v, PA_JSON_COMPACT, &text)) != PA_OK)
        goto done;
    if (!(path = pa_path_join(dir, "/", PA_LANCE_VERSION_HINT))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    st = pa_out_write_file(path, text, strlen(text), true);
done:
    free(path);
    free(text);
    return st;
}

/* Builds and writes the version-1 manifest, then commits the dataset's directory. */
static pa_status write_manifest(pa_dataset_writer *w)
{
    int32_t *ids = pa_calloc(w->num_fields, sizeof *ids, "field ids");
    int32_t *cols = pa_calloc(w->num_fields, sizeof *cols, "column indices");
    size_t n_pb = 0;
    Pa__Lancepb__Field **pb = ids ? pa_pb_fields_new(w->fields, w->num_fields, &n_pb, ids) : NULL;
    Pa__Lancepb__DataFragment *frags = pa_calloc(w->num_files, sizeof *frags, "fragments");
    Pa__Lancepb__DataFragment **fptr = pa_calloc(w->num_files, sizeof *fptr, "fragments");
    Pa__Lancepb__DataFile *files = pa_calloc(w->num_files, sizeof *files, "data files");
    Pa__Lancepb__DataFile **dptr = pa_calloc(w->num_files, sizeof *dptr, "data files");
    uint8_t *buf = NULL;
    pa_status st = PA_OK;
    if (!pb || !frags || !fptr || !files || !dptr || !cols) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < w->num_fields; i++) { /* a data file lists its columns' leaf fields */
        cols[i] = (int32_t)i;
        if (w->nullable) /* a list's nullability is its own (the field before its item) */
            pb[ids[i] - (pa_type_is_list(w->fields[i].type) ? 1 : 0)]->nullable = w->nullable[i];
    }
    for (size_t i = 0; i < w->num_files; i++) {
        pa__lancepb__data_file__init(&files[i]);
        files[i].path = w->files[i].name;
        files[i].n_fields = files[i].n_column_indices = w->num_fields;
        files[i].fields = ids;
        files[i].column_indices = cols;
        files[i].file_major_version = PA_LANCE_MAJOR;
        files[i].file_minor_version = w->files[i].minor;
        files[i].file_size_bytes = w->files[i].bytes;
        dptr[i] = &files[i];
        pa__lancepb__data_fragment__init(&frags[i]);
        frags[i].id = i;
        frags[i].n_files = 1;
        frags[i].files = &dptr[i];
        frags[i].physical_rows = w->files[i].rows;
        fptr[i] = &frags[i];
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    Pa__Lancepb__Timestamp stamp = PA__LANCEPB__TIMESTAMP__INIT;
    stamp.seconds = ts.tv_sec;
    stamp.nanos = (int32_t)ts.tv_nsec;
    Pa__Lancepb__Manifest__WriterVersion wv = PA__LANCEPB__MANIFEST__WRITER_VERSION__INIT;
    wv.library = "partifact";
    wv.version = PA_VERSION_STRING;
    Pa__Lancepb__Manifest__DataStorageFormat fmt = PA__LANCEPB__MANIFEST__DATA_STORAGE_FORMAT__INIT;
    fmt.file_format = "lance";
    char fmt_version[16];
    snprintf(fmt_version, sizeof fmt_version, "%u.%u", PA_LANCE_MAJOR,
             w->num_files ? w->files[0].minor : PA_DEFAULT_LANCE_FORMAT);
    fmt.version = fmt_version;
    Pa__Lancepb__Manifest m = PA__LANCEPB__MANIFEST__INIT;
    m.n_fields = n_pb;
    m.fields = pb;
    m.n_fragments = w->num_files;
    m.fragments = fptr;
    m.version = 1;
    m.timestamp = &stamp;
    m.writer_version = &wv;
    m.data_format = &fmt;
    m.max_fragment_id = w->num_files ? (uint32_t)(w->num_files - 1) : 0;
    size_t mlen = pa__lancepb__manifest__get_packed_size(&m);
    size_t total = 4 + mlen + MANIFEST_FOOTER;
    if (!(buf = pa_malloc(total, "manifest"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    pa_st32(buf, (uint32_t)mlen);
    pa__lancepb__manifest__pack(&m, buf + 4);
    uint8_t *f = buf + 4 + mlen;
    pa_st64(f, 0);
    pa_st16(f + 8, 0);
    pa_st16(f + 10, 2);
    memcpy(f + 12, PA_LANCE_MAGIC, 4);
    char vdir[4096], final[4200];
    snprintf(vdir, sizeof vdir, "%s/data/x", w->dir);
    /* the data files' names, before a manifest names them */
    if ((st = pa_fsync_dir_of(vdir)) != PA_OK)
        goto done;
    snprintf(vdir, sizeof vdir, "%s/_versions", w->dir);
    snprintf(final, sizeof final, "%s/%020" PRIu64 ".manifest", vdir, UINT64_MAX - 1);
    if ((st = pa_out_dir_mkdir(&w->out, "_versions")) != PA_OK ||
        (st = pa_out_write_file(final, buf, total, false)) != PA_OK ||
        /* a hint LanceDB also writes; the manifests remain the truth */
        (st = pa_lance_write_version_hint(w->dir, 1)) != PA_OK)
        goto done;
    /* the complete dataset appears under its name, or nothing does */
    st = pa_out_dir_commit(&w->out);
done:
    free(buf);
    free(ids);
    free(cols);
    free(dptr);
    free(files);
    free(fptr);
    free(frags);
    pa_pb_fields_free(pb, n_pb);
    return st;
}

pa_status pa_dataset_writer_commit(pa_dataset_writer *w)
{
    pa_status st = pa_writer_state(w->path, "commit", w->committed, "commit", w->failed);
    if (st != PA_OK)
        return st;
    st = close_fragment(w);
    if (st == PA_OK)
        st = write_manifest(w);
    if (st != PA_OK) {
        w->failed = true;
        return st;
    }
    w->committed = true;
    return PA_OK;
}

/* Links (or, across file systems, copies) src to dst. */
static pa_status link_or_copy(const char *src, const char *dst)
{
    if (link(src, dst) == 0)
        return PA_OK;
    if (errno != EXDEV && errno != EPERM)
        return pa_fail(PA_ERR_IO, "%s: cannot link to %s: %s", src, dst, strerror(errno));
    return pa_copy_file(src, dst, NULL);
}

/* Makes a dataset of existing Lance files, one fragment each (see the header). */
pa_status pa_dataset_wrap_files(const char *path, const char *const *files, size_t n)
{
    pa_lance_reader *r = NULL;
    pa_field *fields = NULL;
    pa_dataset_writer *w = NULL;
    pa_status st = PA_OK;
    if (!n) {
        st = pa_fail(PA_ERR_INVALID, "%s: no files to wrap", path);
        goto done;
    }
    if ((st = pa_lance_reader_open(&r, files[0])) != PA_OK)
        goto done;
    size_t nf = pa_lance_reader_num_fields(r);
    if (!(fields = pa_calloc(nf, sizeof *fields, "fields"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < nf; i++)
        pa_lance_reader_field(r, i, &fields[i]);
    if ((st = pa_dataset_writer_create(&w, path, fields, nf, NULL)) != PA_OK)
        goto done;
    if (!(w->nullable = pa_calloc(nf ? nf : 1, 1, "nullable fields"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < nf; i++)
        w->nullable[i] = pa_lance_reader_nullable(r, i);
    pa_lance_reader_free(r);
    r = NULL;
    for (size_t i = 0; i < n; i++) {
        if ((st = pa_lance_reader_open(&r, files[i])) != PA_OK)
            goto done;
        bool same = pa_lance_reader_num_fields(r) == w->num_fields;
        for (size_t k = 0; same && k < w->num_fields; k++) {
            pa_field f;
            pa_lance_reader_field(r, k, &f);
            same = !strcmp(f.name, w->fields[k].name) && f.type == w->fields[k].type &&
                   f.dim == w->fields[k].dim;
        }
        uint64_t rows = pa_lance_reader_num_rows(r);
        unsigned major, minor;
        pa_lance_reader_version(r, &major, &minor);
        pa_lance_reader_free(r);
        r = NULL;
        if (!same) {
            st = pa_fail(PA_ERR_INVALID, "%s: schema differs from %s's", files[i], files[0]);
            goto done;
        }
        if (major != PA_LANCE_MAJOR || (w->num_files && minor != w->files[0].minor)) {
            st = pa_fail(PA_ERR_INVALID,
                         "%s: Lance file format %u.%u; a dataset wraps files of one format 2.x "
                         "(%s is 2.%u)",
                         files[i], major, minor, files[0], w->num_files ? w->files[0].minor : 0);
            goto done;
        }
        written_file *wf = pa_realloc(w->files, (w->num_files + 1) * sizeof *wf, "fragments");
        if (!wf) {
            st = PA_ERR_NOMEM;
            goto done;
        }
        w->files = wf;
        written_file *nfile = &w->files[w->num_files];
        snprintf(nfile->name, sizeof nfile->name, "%zu-%.40s", i, pa_basename(files[i]));
        char dst[4200];
        snprintf(dst, sizeof dst, "%s/data/%s", w->dir, nfile->name);
        if ((st = link_or_copy(files[i], dst)) != PA_OK)
            goto done;
        struct stat sb;
        stat(dst, &sb);
        nfile->rows = rows;
        nfile->bytes = (uint64_t)sb.st_size;
        nfile->minor = minor;
        w->num_files++;
    }
    if ((st = write_manifest(w)) == PA_OK)
        w->committed = true;
done:
    pa_lance_reader_free(r);
    free(fields);
    pa_dataset_writer_free(w);
    return st;
}

/* Frees the writer; an uncommitted dataset's files and directories are removed. */
void pa_dataset_writer_free(pa_dataset_writer *w)
{
    if (!w)
        return;
    pa_lance_writer_free(w->cur); /* removes an unclosed data file */
    pa_out_dir_abort(&w->out);    /* an uncommitted dataset's directory, with its files */
    for (size_t i = 0; w->fields && i < w->num_fields; i++)
        free((char *)w->fields[i].name);
    free(w->fields);
    free(w->files);
    free(w->nullable);
    free(w->path);
    free(w);
}

/* ---- for the table commit (table_commit.h) ---- */

pa_status pa_lance_latest_manifest(const char *dir, char *path, size_t path_len, uint64_t *version)
{
    return find_latest(dir, path, path_len, version);
}

pa_status pa_lance_read_small_file(const char *path, uint8_t **out, size_t *len)
{
    return slurp(path, out, len);
}

const char *pa_dataset_path(const pa_dataset *ds) { return ds->path; }
