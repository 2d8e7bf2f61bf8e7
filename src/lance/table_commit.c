/* Committing an index into its Lance table, the index's source record, and table-info.
 *
 *   <table>/_versions/<N>.manifest        [u32 len][IndexSection] [u32 len][Manifest]
 *                                         footer: i64 manifest position, u16 0, u16 2, "LANC"
 *   <table>/_versions/latest_version_hint.json   {"version":N} (a hint only)
 *   <table>/_transactions/<read>-<uuid>.txn      one Transaction message
 *   <table>/_indices/<uuid>/index.idx, auxiliary.idx
 *
 * A commit reads the newest manifest twice over the same bytes: as the full Manifest (fields,
 * fragments: what is checked) and as a CommitManifest, which declares only the fields a commit
 * changes, so that every other field is an unknown field protobuf-c writes back byte for byte.
 * The new manifest is written through the file commit (src/common: a temporary name in
 * _versions, fsync, a rename that refuses an existing name, directory fsync): the rename fails
 * when the version exists, so two writers can never both publish a version. */
#include "common/json.h"
#include "lance/lance_internal.h"
#include "lance/table_commit.h"
#include "lance_commit.pb-c.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <roaring/roaring.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MANIFEST_FOOTER 16
#define MANIFEST_MAJOR 0
#define MANIFEST_MINOR 2
#define V2_NAME_DIGITS 20
/* Lance's feature flags (reader and writer): what a commit understands. */
#define FLAG_DELETION_FILES 1u
#define FLAG_STABLE_ROW_IDS 2u
#define FLAG_V2_FORMAT_DEPRECATED 4u
#define FLAG_TABLE_CONFIG 8u
#define KNOWN_FLAGS \
    (FLAG_DELETION_FILES | FLAG_STABLE_ROW_IDS | FLAG_V2_FORMAT_DEPRECATED | FLAG_TABLE_CONFIG)
#define VECTOR_DETAILS_URL "/lance.index.pb.VectorIndexDetails"
#define INDEX_VERSION 1
#define COMMIT_MAX_RETRIES 16
#define NAME_SUFFIX "_idx"
static const char *const INDEX_FILES[] = {"auxiliary.idx", "index.idx"};
#define NUM_INDEX_FILES 2

/* ---- the source record ---- */

typedef struct src_frag {
    uint64_t id, rows;
    char file[256]; /* the vector column's data file, relative to data/ */
    uint64_t deleted, del_read_version, del_id; /* its deletion file when built (0s: none) */
} src_frag;

typedef struct index_src {
    char table[PATH_MAX];
    char column[256];
    uint64_t version;
    src_frag *frags;
    size_t n;
    pa_table_index_shape shape; /* from partifact:index, read by the index room */
} index_src;

pa_status pa_table_source_json(const pa_dataset *ds, const char *column, char **out)
{
    *out = NULL;
    if (!ds)
        return PA_OK;
    json_t *root = NULL, *frags = NULL, *fj = NULL, *del = NULL;
    pa_status st = PA_OK;
    char real[PATH_MAX];
    if (!realpath(pa_dataset_path(ds), real)) {
        st = pa_fail(PA_ERR_IO, "%s: cannot resolve the table's path: %s", pa_dataset_path(ds),
                     strerror(errno));
        goto done;
    }
    if ((st = pa_json_pack(&frags, "the source record", "[]")) != PA_OK ||
        (st = pa_json_pack(&root, real, "{s:s, s:I, s:s, s:O}", "table", real, "version",
                           (json_int_t)pa_dataset_version(ds), "column", column, "fragments",
                           frags)) != PA_OK)
        goto done;
    /* data file paths as the manifest records them: relative to <table>/data/ */
    const size_t skip = strlen(pa_dataset_path(ds)) + strlen("/data/");
    for (size_t i = 0; i < pa_dataset_num_fragments(ds); i++) {
        uint64_t id, rows;
        char path[PATH_MAX];
        size_t col;
        if ((st = pa_dataset_fragment(ds, i, &id, &rows)) != PA_OK ||
            (st = pa_dataset_fragment_file(ds, i, column, path, sizeof path, &col)) != PA_OK ||
            (st = pa_json_pack(&fj, path, "{s:I, s:I, s:s}", "id", (json_int_t)id, "rows",
                               (json_int_t)rows, "file",
                               strlen(path) > skip ? path + skip : path)) != PA_OK)
            goto done;
        /* the deletion file the build applied: a commit checks it is still the fragment's */
        uint64_t drv, did, ndel = pa_dataset_fragment_deleted(ds, i);
        pa_dataset_fragment_deletion(ds, i, &drv, &did);
        if ((drv || did || ndel) &&
            ((st = pa_json_pack(&del, "the source record", "{s:I, s:I, s:I}", "rows",
                                (json_int_t)ndel, "read_version", (json_int_t)drv, "id",
                                (json_int_t)did)) != PA_OK ||
             json_object_set_new(fj, "deletion", del) != 0)) {
            del = NULL; /* consumed by json_object_set_new, even on failure */
            st = st != PA_OK ? st : pa_fail(PA_ERR_NOMEM, "out of memory: source record");
            goto done;
        }
        del = NULL;
        if (json_array_append_new(frags, fj) != 0) {
            fj = NULL;
            st = pa_fail(PA_ERR_NOMEM, "out of memory: source record");
            goto done;
        }
        fj = NULL;
    }
    st = pa_json_dump(root, PA_JSON_COMPACT, out);
    root = NULL; /* consumed */
done:
    json_decref(fj);
    json_decref(frags);
    json_decref(root);
    return st;
}

bool pa_table_source_is(const char *record)
{
    json_t *j = record ? json_loads(record, 0, NULL) : NULL;
    bool is = json_is_string(json_object_get(j, "table"));
    json_decref(j);
    return is;
}

/* A fragment of a shard's record, and the shard. */
typedef struct shard_frag {
    json_t *f;
    json_int_t id;
    size_t owner;
} shard_frag;

/* Fragment id order, for the merged record (then the shard, for a stable message). */
static int cmp_shard_frag(const void *a, const void *b)
{
    const shard_frag *x = a, *y = b;
    return x->id != y->id ? (x->id < y->id ? -1 : 1)
                          : (x->owner > y->owner) - (x->owner < y->owner);
}

pa_status pa_table_source_merge(const char *const *records, const char *const *names, size_t n,
                                char **out)
{
    *out = NULL;
    json_t **recs = pa_calloc(n ? n : 1, sizeof *recs, "source records");
    json_t *arr = NULL, *root = NULL;
    shard_frag *frags = NULL;
    size_t nf = 0, cap = 0;
    pa_status st = recs ? PA_OK : PA_ERR_NOMEM;
    const char *table0 = NULL, *column0 = NULL;
    json_int_t version0 = 0;
    for (size_t i = 0; st == PA_OK && i < n; i++) {
        const char *table = NULL, *column = NULL;
        json_int_t version = 0;
        json_t *fa = NULL;
        if (!(recs[i] = json_loads(records[i], 0, NULL)) ||
            json_unpack(recs[i], "{s:s, s:I, s:s, s:o}", "table", &table, "version", &version,
                        "column", &column, "fragments", &fa) != 0 ||
            !json_is_array(fa)) {
            st = pa_fail(PA_ERR_FORMAT,
                         "artifact %s: its coverage lacks table, version, column or fragments",
                         names[i]);
            break;
        }
        if (i == 0)
            table0 = table, column0 = column, version0 = version;
        else if (strcmp(table, table0) != 0)
            st = pa_fail(PA_ERR_INVALID,
                         "artifact %s was encoded from table %s, artifact %s from table %s",
                         names[i], table, names[0], table0);
        else if (version != version0)
            st = pa_fail(PA_ERR_INVALID,
                         "artifact %s was encoded from version %" JSON_INTEGER_FORMAT
                         " of %s, artifact %s from version %" JSON_INTEGER_FORMAT,
                         names[i], version, table, names[0], version0);
        else if (strcmp(column, column0) != 0)
            st = pa_fail(PA_ERR_INVALID,
                         "artifact %s was encoded from column \"%s\" of %s, artifact %s from "
                         "column \"%s\"",
                         names[i], column, table, names[0], column0);
        size_t k;
        json_t *f;
        json_array_foreach(fa, k, f)
        {
            if (st != PA_OK)
                break;
            if (!json_is_integer(json_object_get(f, "id"))) {
                st = pa_fail(PA_ERR_FORMAT, "artifact %s: its coverage's fragment %zu has no id",
                             names[i], k);
                break;
            }
            if (nf == cap) {
                size_t nc = cap ? 2 * cap : 16;
                shard_frag *nfr = realloc(frags, nc * sizeof *nfr);
                if (!nfr) {
                    st = pa_fail(PA_ERR_NOMEM, "out of memory: source records");
                    break;
                }
                frags = nfr, cap = nc;
            }
            frags[nf++] = (shard_frag){f, json_integer_value(json_object_get(f, "id")), i};
        }
    }
    if (st != PA_OK)
        goto done;
    if (nf)
        qsort(frags, nf, sizeof *frags, cmp_shard_frag);
    for (size_t e = 1; e < nf; e++)
        if (frags[e].id == frags[e - 1].id) {
            st = pa_fail(PA_ERR_INVALID,
                         "artifacts %s and %s both cover fragment %" JSON_INTEGER_FORMAT " of %s",
                         names[frags[e - 1].owner], names[frags[e].owner], frags[e].id, table0);
            goto done;
        }
    if (!(arr = json_array())) {
        st = pa_fail(PA_ERR_NOMEM, "out of memory: source records");
        goto done;
    }
    for (size_t e = 0; e < nf; e++)
        if (json_array_append(arr, frags[e].f) != 0) {
            st = pa_fail(PA_ERR_NOMEM, "out of memory: source records");
            goto done;
        }
    st = pa_json_pack(&root, "the source record", "{s:s, s:I, s:s, s:O}", "table", table0,
                      "version", version0, "column", column0, "fragments", arr);
    if (st == PA_OK)
        st = pa_json_dump(root, PA_JSON_COMPACT, out);
done:
    json_decref(arr);
    for (size_t i = 0; recs && i < n; i++)
        json_decref(recs[i]);
    free(recs), free(frags);
    return st;
}

/* Reads partifact:source from the index's open index.idx into s, beside the shape the index
 * room read from its partifact:index. need_source: an index without a source record is an
 * error (else s->n stays 0 and table[0] is '\0'). */
static pa_status read_index_src(const pa_table_index *ix, bool need_source, index_src *s)
{
    memset(s, 0, sizeof *s);
    s->shape = ix->shape;
    const char *index_dir = ix->dir, *path = ix->path;
    pa_lance_reader *r = ix->reader;
    json_t *src = NULL;
    pa_status st = PA_OK;
    const void *v;
    size_t vlen;
    json_error_t je;
    if (pa_lance_reader_metadata(r, PA_SOURCE_META_KEY, &v, &vlen) != PA_OK) {
        if (need_source)
            st = pa_fail(PA_ERR_INVALID,
                         "%s: the index records no source table (it was not "
                         "built from a Lance table); build it from the table",
                         index_dir);
        goto done;
    }
    const char *table = NULL, *column = NULL;
    json_int_t version = 0;
    json_t *frags = NULL;
    if (!(src = json_loadb(v, vlen, 0, &je)) ||
        json_unpack(src, "{s:s, s:I, s:s, s:o}", "table", &table, "version", &version, "column",
                    &column, "fragments", &frags) != 0 ||
        !json_is_array(frags) || strlen(table) >= sizeof s->table ||
        strlen(column) >= sizeof s->column || version <= 0) {
        st = pa_fail(PA_ERR_FORMAT,
                     "%s: %s metadata lacks table, version, column or "
                     "fragments",
                     path, PA_SOURCE_META_KEY);
        goto done;
    }
    snprintf(s->table, sizeof s->table, "%s", table);
    snprintf(s->column, sizeof s->column, "%s", column);
    s->version = (uint64_t)version;
    s->n = json_array_size(frags);
    if (!(s->frags = pa_calloc(s->n ? s->n : 1, sizeof *s->frags, "source fragments"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < s->n; i++) {
        json_int_t id = -1, fr = -1;
        const char *file = NULL;
        if (json_unpack(json_array_get(frags, i), "{s:I, s:I, s:s}", "id", &id, "rows", &fr, "file",
                        &file) != 0 ||
            id < 0 || id > UINT32_MAX || fr < 0 || strlen(file) >= sizeof s->frags[i].file) {
            st = pa_fail(PA_ERR_FORMAT, "%s: %s fragment %zu lacks id, rows or file", path,
                         PA_SOURCE_META_KEY, i);
            goto done;
        }
        s->frags[i].id = (uint64_t)id, s->frags[i].rows = (uint64_t)fr;
        snprintf(s->frags[i].file, sizeof s->frags[i].file, "%s", file);
        json_t *dj = json_object_get(json_array_get(frags, i), "deletion");
        json_int_t dn = 0, drv = 0, did = 0;
        if (dj && (json_unpack(dj, "{s:I, s:I, s:I}", "rows", &dn, "read_version", &drv, "id",
                               &did) != 0 ||
                   dn < 0 || drv < 0)) {
            st = pa_fail(PA_ERR_FORMAT,
                         "%s: %s fragment %zu has a deletion record without rows, "
                         "read_version or id",
                         path, PA_SOURCE_META_KEY, i);
            goto done;
        }
        s->frags[i].deleted = (uint64_t)dn;
        s->frags[i].del_read_version = (uint64_t)drv, s->frags[i].del_id = (uint64_t)did;
    }
done:
    json_decref(src);
    if (st != PA_OK) {
        free(s->frags);
        s->frags = NULL;
    }
    return st;
}

/* ---- a table version as read ---- */

typedef struct table_state {
    char dir[PATH_MAX]; /* real path */
    const char *given;  /* the path as given, for messages */
    char manifest[PATH_MAX + 64];
    uint64_t version;
    bool v2_names;
    uint8_t *buf; /* the whole manifest file */
    size_t len;
    Pa__Lancepb__Manifest *m;           /* full view */
    Pa__Lancepb__CommitManifest *cm;    /* the fields a commit changes; the rest kept */
    Pa__Lancepb__IndexSection *indices; /* NULL: none */
} table_state;

static void table_free(table_state *t)
{
    if (t->m)
        pa__lancepb__manifest__free_unpacked(t->m, NULL);
    if (t->cm)
        pa__lancepb__commit_manifest__free_unpacked(t->cm, NULL);
    if (t->indices)
        pa__lancepb__index_section__free_unpacked(t->indices, NULL);
    free(t->buf);
    memset(t, 0, sizeof *t);
}

/* [u32 len][message] at pos inside buf[0, end): the message's bytes. */
static pa_status framed(const table_state *t, uint64_t pos, uint64_t end, const char *what,
                        const uint8_t **msg, size_t *mlen)
{
    uint32_t claimed = pos <= end && end - pos >= 4 ? pa_ld32(t->buf + pos) : 0;
    if (pos > end || end - pos < 4 || claimed > end - pos - 4)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: %s at byte offset %" PRIu64 " with %u bytes lies "
                       "outside the file's %zu bytes",
                       t->manifest, what, pos, claimed, t->len);
    *msg = t->buf + pos + 4;
    *mlen = claimed;
    return PA_OK;
}

/* Reads the newest version of the table at path. */
static pa_status table_load(const char *path, table_state *t)
{
    memset(t, 0, sizeof *t);
    t->given = path;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return pa_fail_errno(errno, "%s: cannot open table: %s", path, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return pa_fail(PA_ERR_FORMAT, "%s: not a Lance table (not a directory)", path);
    if (!realpath(path, t->dir))
        return pa_fail(PA_ERR_IO, "%s: cannot resolve the table's path: %s", path, strerror(errno));
    pa_status st = pa_lance_latest_manifest(path, t->manifest, sizeof t->manifest, &t->version);
    if (st != PA_OK)
        return st;
    t->v2_names = strlen(pa_basename(t->manifest)) == V2_NAME_DIGITS + strlen(".manifest");
    if ((st = pa_lance_read_small_file(t->manifest, &t->buf, &t->len)) != PA_OK)
        goto done;
    if (t->len < MANIFEST_FOOTER || memcmp(t->buf + t->len - 4, PA_LANCE_MAGIC, 4) != 0) {
        st = pa_fail(PA_ERR_FORMAT,
                     "%s: not a Lance manifest (no \"LANC\" magic at the end of "
                     "its %zu bytes)",
                     t->manifest, t->len);
        goto done;
    }
    const uint64_t end = t->len - MANIFEST_FOOTER;
    const uint8_t *mb = NULL;
    size_t ml = 0;
    if ((st = framed(t, pa_ld64(t->buf + end), end, "manifest", &mb, &ml)) != PA_OK)
        goto done;
    t->m = pa__lancepb__manifest__unpack(NULL, ml, mb);
    t->cm = pa__lancepb__commit_manifest__unpack(NULL, ml, mb);
    if (!t->m || !t->cm) {
        st = pa_fail(PA_ERR_FORMAT,
                     "%s: manifest (%zu bytes at byte offset %zu) does not parse "
                     "as protobuf",
                     t->manifest, ml, (size_t)(mb - t->buf));
        goto done;
    }
    if (t->cm->has_index_section) {
        if ((st = framed(t, t->cm->index_section, end, "index section", &mb, &ml)) != PA_OK)
            goto done;
        if (!(t->indices = pa__lancepb__index_section__unpack(NULL, ml, mb)))
            st = pa_fail(PA_ERR_FORMAT,
                         "%s: index section (%zu bytes at byte offset %zu) does "
                         "not parse as protobuf",
                         t->manifest, ml, (size_t)(mb - t->buf));
    }
done:
    if (st != PA_OK)
        table_free(t);
    return st;
}

/* Refuses feature flags a commit does not understand, and stable row ids. */
static pa_status check_flags(const table_state *t)
{
    uint64_t f = t->cm->reader_feature_flags | t->cm->writer_feature_flags;
    if (f & ~(uint64_t)KNOWN_FLAGS)
        return pa_fail(PA_ERR_INVALID,
                       "%s: version %" PRIu64 " has feature flags 0x%" PRIx64
                       " of which partifact does not understand 0x%" PRIx64 "; nothing was "
                       "committed",
                       t->given, t->version, f, f & ~(uint64_t)KNOWN_FLAGS);
    if (f & FLAG_STABLE_ROW_IDS)
        return pa_fail(PA_ERR_INVALID,
                       "%s: the table uses stable row ids (feature flag 0x2), "
                       "but partifact's indexes hold row addresses; nothing was committed",
                       t->given);
    return PA_OK;
}

/* The top-level field named column (NULL: the only vector column), with its dimension. */
static pa_status find_column(const table_state *t, const char *column,
                             const Pa__Lancepb__Field **out, uint32_t *dim)
{
    const Pa__Lancepb__Field *found = NULL;
    size_t vectors = 0;
    for (size_t i = 0; i < t->m->n_fields; i++) {
        const Pa__Lancepb__Field *f = t->m->fields[i];
        if (f->parent_id != -1)
            continue;
        pa_type type;
        uint32_t d = 0;
        bool vec = !strncmp(f->logical_type, "fixed_size_list:", 16) &&
                   pa_parse_logical_type(f->logical_type, &type, &d) == PA_OK &&
                   (type == PA_TYPE_FSL_FLOAT32 || type == PA_TYPE_FSL_UINT8);
        if (column ? !strcmp(f->name, column) : vec) {
            if (!vec) {
                pa_clear_error();
                return pa_fail(PA_ERR_INVALID, "%s: column \"%s\" is %s, not a vector column",
                               t->given, f->name, f->logical_type);
            }
            found = f, *dim = d;
            vectors++;
        }
    }
    pa_clear_error();
    if (!found)
        return pa_fail(PA_ERR_INVALID,
                       column ? "%s: no column named \"%s\"" : "%s: no vector column%s", t->given,
                       column ? column : "");
    if (vectors > 1)
        return pa_fail(PA_ERR_INVALID, "%s: several vector columns; name the one to index",
                       t->given);
    *out = found;
    return PA_OK;
}

static const Pa__Lancepb__DataFragment *find_fragment(const table_state *t, uint64_t id)
{
    for (size_t i = 0; i < t->m->n_fragments; i++)
        if (t->m->fragments[i]->id == id)
            return t->m->fragments[i];
    return NULL;
}

/* The data file of fragment fr holding field id (NULL: none). */
static const char *fragment_file(const Pa__Lancepb__DataFragment *fr, int32_t id)
{
    for (size_t j = 0; j < fr->n_files; j++)
        for (size_t k = 0; k < fr->files[j]->n_fields; k++)
            if (fr->files[j]->fields[k] == id)
                return fr->files[j]->path;
    return NULL;
}

/* Every fragment the index was built from is in the table unchanged: same rows, same data
 * file for the column, the same deletion file as the build applied (or none). */
static pa_status check_fragments(const table_state *t, const index_src *s, int32_t field_id)
{
    for (size_t i = 0; i < s->n; i++) {
        const src_frag *sf = &s->frags[i];
        const Pa__Lancepb__DataFragment *fr = find_fragment(t, sf->id);
        if (!fr)
            return pa_fail(PA_ERR_INVALID,
                           "%s: fragment %" PRIu64 ", which the index was built "
                           "from (version %" PRIu64 "), is no longer in the table (version %" PRIu64
                           "); build the index again",
                           t->given, sf->id, s->version, t->version);
        const char *file = fragment_file(fr, field_id);
        if (fr->physical_rows != sf->rows || !file || strcmp(file, sf->file) != 0)
            return pa_fail(PA_ERR_INVALID,
                           "%s: fragment %" PRIu64 " changed since the index "
                           "was built from version %" PRIu64 " (%" PRIu64
                           " rows in %s then, %" PRIu64 " rows in %s at version %" PRIu64
                           "); build the index again",
                           t->given, sf->id, s->version, sf->rows, sf->file, fr->physical_rows,
                           file ? file : "no data file", t->version);
        /* a deletion file recorded at all (its row count may be unknown, 0) */
        const Pa__Lancepb__DeletionFile *del = fr->deletion_file;
        bool same = del ? del->read_version == sf->del_read_version && del->id == sf->del_id &&
                              del->num_deleted_rows == sf->deleted
                        : !sf->del_read_version && !sf->del_id && !sf->deleted;
        if (!same && del && (del->num_deleted_rows || del->id || del->read_version)) {
            char n[32] = "";
            if (del->num_deleted_rows)
                snprintf(n, sizeof n, "%" PRIu64 " ", del->num_deleted_rows);
            if (sf->deleted || sf->del_id || sf->del_read_version)
                return pa_fail(PA_ERR_INVALID,
                               "%s: fragment %" PRIu64 " has %sdeleted rows, %" PRIu64
                               " when the index was built from version %" PRIu64 "; build "
                               "the index again",
                               t->given, sf->id, n, sf->deleted, s->version);
            return pa_fail(PA_ERR_INVALID,
                           "%s: fragment %" PRIu64 " has %sdeleted rows since "
                           "the index was built from version %" PRIu64 "; build the index again",
                           t->given, sf->id, n, s->version);
        }
    }
    return PA_OK;
}

/* The entries of the index section named name. */
static size_t count_named(const table_state *t, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; t->indices && i < t->indices->n_indices; i++)
        if (t->indices->indices[i]->name && !strcmp(t->indices->indices[i]->name, name))
            n++;
    return n;
}

static pa_status check_name(const table_state *t, const char *name, int replace)
{
    if (!replace && count_named(t, name))
        return pa_fail(PA_ERR_INVALID,
                       "%s: the table has an index named \"%s\" already "
                       "(version %" PRIu64 "); give another name or replace it",
                       t->given, name, t->version);
    return PA_OK;
}

static void default_name(char *out, size_t len, const char *name, const char *column)
{
    if (name)
        snprintf(out, len, "%s", name);
    else
        snprintf(out, len, "%s%s", column, NAME_SUFFIX);
}

pa_status pa_table_commit_check(const char *table, const char *column, const char *name,
                                int replace)
{
    table_state t;
    pa_status st = table_load(table, &t);
    if (st != PA_OK)
        return st;
    const Pa__Lancepb__Field *f;
    uint32_t dim;
    char nm[256];
    if ((st = check_flags(&t)) == PA_OK && (st = find_column(&t, column, &f, &dim)) == PA_OK) {
        default_name(nm, sizeof nm, name, f->name);
        st = check_name(&t, nm, replace);
    }
    table_free(&t);
    return st;
}

/* ---- writing ---- */

static pa_status random_uuid(uint8_t u[16], char text[37])
{
    size_t got = 0;
    while (got < 16) {
        ssize_t n = getrandom(u + got, 16 - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return pa_fail(PA_ERR_IO, "cannot get random bytes for a uuid: %s", strerror(errno));
        got += (size_t)n;
    }
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* version 4 */
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    char *p = text;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        p += sprintf(p, "%02x", u[i]);
    }
    return PA_OK;
}

/* Packs a message into a malloc'd buffer with room for a u32 length before it. */
static uint8_t *pack_framed(const ProtobufCMessage *msg, size_t *len)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = pa_malloc(n + 4, "protobuf message");
    if (buf) {
        pa_st32(buf, (uint32_t)n);
        protobuf_c_message_pack(msg, buf + 4);
        *len = n + 4;
    }
    return buf;
}

/* One segment of the index a commit writes (an index directory), prepared once. */
typedef struct commit_job {
    const index_src *src;
    uint8_t uuid[16];
    char uuid_text[37];
    char index_dir[PATH_MAX + 64]; /* _indices/<uuid> once copied */
    uint64_t sizes[NUM_INDEX_FILES];
    char *bitmap;
    size_t bitmap_len;
    uint8_t *details;
    size_t details_len;
} commit_job;

/* What one commit attempt writes: the segments of one index, under one name. */
typedef struct commit_set {
    commit_job *segs;
    size_t n;
    char name[256];
    int replace;
    bool published; /* a manifest naming the index is in place: its files stay */
} commit_set;

static pa_status make_bitmap(commit_job *j)
{
    roaring_bitmap_t *r = roaring_bitmap_create();
    if (!r)
        return pa_fail(PA_ERR_NOMEM, "out of memory: fragment bitmap");
    for (size_t i = 0; i < j->src->n; i++)
        roaring_bitmap_add(r, (uint32_t)j->src->frags[i].id);
    j->bitmap_len = roaring_bitmap_portable_size_in_bytes(r);
    pa_status st = PA_OK;
    if (!(j->bitmap = pa_malloc(j->bitmap_len, "fragment bitmap")))
        st = PA_ERR_NOMEM;
    else
        roaring_bitmap_portable_serialize(r, j->bitmap);
    roaring_bitmap_free(r);
    return st;
}

static pa_status make_details(commit_job *j)
{
    Pa__Lancepb__VectorIndexDetails d = PA__LANCEPB__VECTOR_INDEX_DETAILS__INIT;
    Pa__Lancepb__VectorIndexDetails__ProductQuantization pq =
        PA__LANCEPB__VECTOR_INDEX_DETAILS__PRODUCT_QUANTIZATION__INIT;
    d.metric_type = j->src->shape.metric == PA_METRIC_L2       ? 0
                    : j->src->shape.metric == PA_METRIC_COSINE ? 1
                                                               : 2;
    d.has_metric_type = 1;
    pq.has_num_bits = 1, pq.num_bits = j->src->shape.num_bits;
    pq.has_num_sub_vectors = 1, pq.num_sub_vectors = j->src->shape.num_sub_vectors;
    d.pq = &pq;
    j->details_len = pa__lancepb__vector_index_details__get_packed_size(&d);
    if (!(j->details = pa_malloc(j->details_len ? j->details_len : 1, "index details")))
        return PA_ERR_NOMEM;
    pa__lancepb__vector_index_details__pack(&d, j->details);
    return PA_OK;
}

/* Copies the index files to <table>/_indices/<uuid>/ through the directory commit: the
 * directory appears complete under its (fresh, random) name, or not at all. */
static pa_status copy_index(commit_job *j, const char *table, const char *from)
{
    char dir[PATH_MAX + 16], src[PATH_MAX + 32], dst[PATH_MAX + 200];
    pa_out_dir out = {.work.lock_fd = -1};
    snprintf(dir, sizeof dir, "%s/_indices", table);
    pa_status st = pa_shared_dir(dir);
    if (st != PA_OK)
        goto done;
    snprintf(j->index_dir, sizeof j->index_dir, "%s/%s", dir, j->uuid_text);
    if ((st = pa_out_dir_open(&out, j->index_dir, false, INDEX_FILES[1])) != PA_OK)
        goto done;
    for (int i = 0; i < NUM_INDEX_FILES; i++) {
        snprintf(src, sizeof src, "%s/%s", from, INDEX_FILES[i]);
        snprintf(dst, sizeof dst, "%s/%s", out.dir, INDEX_FILES[i]);
        if ((st = pa_copy_file(src, dst, &j->sizes[i])) != PA_OK)
            goto done;
    }
    st = pa_out_dir_commit(&out);
done:
    pa_out_dir_abort(&out);
    if (st != PA_OK)
        j->index_dir[0] = '\0'; /* nothing of it is left */
    return st;
}

/* The file name of version v in the table's naming scheme. */
static void manifest_name(const table_state *t, uint64_t v, char *out, size_t len)
{
    if (t->v2_names)
        snprintf(out, len, "%s/_versions/%0*" PRIu64 ".manifest", t->dir, V2_NAME_DIGITS,
                 UINT64_MAX - v);
    else
        snprintf(out, len, "%s/_versions/%" PRIu64 ".manifest", t->dir, v);
}

static uint64_t now_ms(struct timespec *ts)
{
    clock_gettime(CLOCK_REALTIME, ts);
    return (uint64_t)ts->tv_sec * 1000u + (uint64_t)ts->tv_nsec / 1000000u;
}

/* One attempt on the version in t: transaction file, manifest under a temporary name, link.
 * *lost is set when the next version existed (another writer won). */
static pa_status commit_once(const table_state *t, commit_set *set, int32_t field_id,
                             pa_table_commit_result *res, bool *lost)
{
    *lost = false;
    struct timespec ts;
    uint64_t created = now_ms(&ts);
    /* the new entries: one per segment, one name */
    const size_t ns = set->n;
    Pa__Lancepb__Uuid *uuid = pa_calloc(ns, sizeof *uuid, "index entries");
    Pa__Lancepb__Any *any = pa_calloc(ns, sizeof *any, "index entries");
    Pa__Lancepb__IndexFile *files = pa_calloc(ns * NUM_INDEX_FILES, sizeof *files, "index entries");
    Pa__Lancepb__IndexFile **fptr = pa_calloc(ns * NUM_INDEX_FILES, sizeof *fptr, "index entries");
    Pa__Lancepb__IndexMetadata *im = pa_calloc(ns, sizeof *im, "index entries");
    Pa__Lancepb__IndexMetadata **newp = pa_calloc(ns, sizeof *newp, "index entries");
    for (size_t k = 0; uuid && any && files && fptr && im && newp && k < ns; k++) {
        commit_job *j = &set->segs[k];
        pa__lancepb__uuid__init(&uuid[k]);
        uuid[k].has_uuid = 1, uuid[k].uuid.data = j->uuid, uuid[k].uuid.len = 16;
        pa__lancepb__any__init(&any[k]);
        any[k].type_url = (char *)VECTOR_DETAILS_URL;
        any[k].value.data = j->details, any[k].value.len = j->details_len;
        for (int i = 0; i < NUM_INDEX_FILES; i++) {
            Pa__Lancepb__IndexFile *f = &files[k * NUM_INDEX_FILES + i];
            pa__lancepb__index_file__init(f);
            f->path = (char *)INDEX_FILES[i];
            f->has_size_bytes = 1, f->size_bytes = j->sizes[i];
            fptr[k * NUM_INDEX_FILES + i] = f;
        }
        Pa__Lancepb__IndexMetadata *e = &im[k];
        pa__lancepb__index_metadata__init(e);
        e->uuid = &uuid[k];
        e->n_fields = 1, e->fields = &field_id;
        e->name = set->name;
        e->has_dataset_version = 1, e->dataset_version = j->src->version;
        e->has_fragment_bitmap = 1;
        e->fragment_bitmap.data = (uint8_t *)j->bitmap, e->fragment_bitmap.len = j->bitmap_len;
        e->index_details = &any[k];
        e->has_index_version = 1, e->index_version = INDEX_VERSION;
        e->has_created_at = 1, e->created_at = created;
        e->n_files = NUM_INDEX_FILES, e->files = fptr + k * NUM_INDEX_FILES;
        newp[k] = e;
    }
    /* every old entry but the replaced ones, then the new one */
    size_t n_old = t->indices ? t->indices->n_indices : 0;
    Pa__Lancepb__IndexMetadata **keep = pa_calloc(n_old + ns, sizeof *keep, "index entries");
    Pa__Lancepb__IndexMetadata **gone = pa_calloc(n_old + 1, sizeof *gone, "index entries");
    uint8_t *sec = NULL, *man = NULL, *txn = NULL;
    char txn_name[128], txn_path[PATH_MAX + 192], final[PATH_MAX + 64];
    bool txn_written = false;
    pa_out_file mo = {.fd = -1};
    pa_status st = keep && gone && uuid && any && files && fptr && im && newp ? PA_OK
                                                                              : PA_ERR_NOMEM;
    if (st != PA_OK)
        goto done;
    size_t nk = 0, ng = 0;
    for (size_t i = 0; i < n_old; i++) {
        Pa__Lancepb__IndexMetadata *e = t->indices->indices[i];
        if (set->replace && e->name && !strcmp(e->name, set->name))
            gone[ng++] = e;
        else
            keep[nk++] = e;
    }
    if ((st = check_name(t, set->name, set->replace)) != PA_OK) /* another writer took it */
        goto done;
    for (size_t k = 0; k < ns; k++)
        keep[nk++] = &im[k];
    /* the transaction */
    uint8_t tu[16];
    char tu_text[37];
    if ((st = random_uuid(tu, tu_text)) != PA_OK)
        goto done;
    Pa__Lancepb__Transaction__CreateIndex ci = PA__LANCEPB__TRANSACTION__CREATE_INDEX__INIT;
    ci.n_new_indices = ns, ci.new_indices = newp;
    ci.n_removed_indices = ng, ci.removed_indices = gone;
    Pa__Lancepb__Transaction tx = PA__LANCEPB__TRANSACTION__INIT;
    tx.has_read_version = 1, tx.read_version = t->version;
    tx.uuid = tu_text;
    tx.operation_case = PA__LANCEPB__TRANSACTION__OPERATION_CREATE_INDEX;
    tx.create_index = &ci;
    size_t txn_len;
    if (!(txn = pack_framed(&tx.base, &txn_len))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    snprintf(txn_name, sizeof txn_name, "%" PRIu64 "-%s.txn", t->version, tu_text);
    snprintf(txn_path, sizeof txn_path, "%s/_transactions", t->dir);
    if ((st = pa_shared_dir(txn_path)) != PA_OK)
        goto done;
    pa_out_remove_stale(txn_path);
    snprintf(txn_path, sizeof txn_path, "%s/_transactions/%s", t->dir, txn_name);
    if ((st = pa_out_write_file(txn_path, txn + 4, txn_len - 4, false)) != PA_OK)
        goto done;
    txn_written = true;
    /* the manifest: the old one with version, index section, time and transaction changed */
    Pa__Lancepb__IndexSection is = PA__LANCEPB__INDEX_SECTION__INIT;
    is.n_indices = nk, is.indices = keep;
    size_t sec_len, man_len;
    if (!(sec = pack_framed(&is.base, &sec_len))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    Pa__Lancepb__CommitManifest *cm = t->cm;
    Pa__Lancepb__CommitManifest saved = *cm;
    Pa__Lancepb__Timestamp stamp = PA__LANCEPB__TIMESTAMP__INIT;
    stamp.seconds = ts.tv_sec, stamp.nanos = (int32_t)ts.tv_nsec;
    cm->has_version = 1, cm->version = t->version + 1;
    cm->has_index_section = 1, cm->index_section = 0;
    cm->timestamp = &stamp;
    cm->transaction_file = txn_name;
    cm->has_transaction_section = 0, cm->transaction_section = 0;
    man = pack_framed(&cm->base, &man_len);
    *cm = saved;
    if (!man) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    uint8_t footer[MANIFEST_FOOTER];
    pa_st64(footer, (uint64_t)sec_len);
    pa_st16(footer + 8, MANIFEST_MAJOR);
    pa_st16(footer + 10, MANIFEST_MINOR);
    memcpy(footer + 12, PA_LANCE_MAGIC, 4);
    /* published through the file commit without replacing: the rename fails when the
     * version exists (another writer won) */
    manifest_name(t, t->version + 1, final, sizeof final);
    if ((st = pa_out_open(&mo, final, false)) != PA_OK) {
        if (st == PA_ERR_EXISTS)
            *lost = true, st = PA_OK, pa_clear_error();
        goto done;
    }
    mo.publish = true; /* once in place, others may read it and commit on top */
    st = pa_pwrite_full(mo.fd, sec, sec_len, 0, mo.tmp);
    if (st == PA_OK)
        st = pa_pwrite_full(mo.fd, man, man_len, sec_len, mo.tmp);
    if (st == PA_OK)
        st = pa_pwrite_full(mo.fd, footer, sizeof footer, sec_len + man_len, mo.tmp);
    if (st != PA_OK)
        goto done;
    st = pa_out_commit(&mo);
    if (!mo.published) {
        if (st == PA_ERR_EXISTS)
            *lost = true, st = PA_OK, pa_clear_error();
        goto done;
    }
    txn_written = false; /* part of the version now */
    set->published = true;
    if (st != PA_OK) {
        st = pa_fail_prefix(st,
                            "%s: version %" PRIu64 " is committed, but may not survive a "
                            "crash",
                            t->given, t->version + 1);
        goto done;
    }
    /* the hint: best effort (readers list _versions when it is stale) */
    pa_lance_write_version_hint(t->dir, t->version + 1);
    pa_clear_error();
    res->read_version = t->version;
    res->version = t->version + 1;
    res->replaced = (uint32_t)ng;
done:
    pa_out_abort(&mo);
    if (txn_written)
        unlink(txn_path);
    free(keep), free(gone), free(sec), free(man), free(txn);
    free(uuid), free(any), free(files), free(fptr), free(im), free(newp);
    return st;
}

/* Segments of one index: the same column, shape and model, no fragment in two of them. */
static pa_status check_segments(const pa_table_index *ix, const index_src *src, size_t n)
{
    for (size_t k = 1; k < n; k++) {
        const pa_table_index_shape *a = &src[0].shape, *b = &src[k].shape;
        if (strcmp(src[k].column, src[0].column) != 0)
            return pa_fail(PA_ERR_INVALID,
                           "segment %s was built from column \"%s\", segment %s from \"%s\"",
                           ix[k].dir, src[k].column, ix[0].dir, src[0].column);
        if (strcmp(a->model_xxh64, b->model_xxh64) != 0 || !a->model_xxh64[0] ||
            a->num_partitions != b->num_partitions || a->dim != b->dim ||
            a->num_sub_vectors != b->num_sub_vectors || a->num_bits != b->num_bits ||
            a->metric != b->metric)
            return pa_fail(PA_ERR_INVALID,
                           "segment %s was built with model %s (%u partitions, %u sub-vectors, "
                           "%s), segment %s with model %s (%u partitions, %u sub-vectors, %s): "
                           "the segments of one index share one model",
                           ix[k].dir, b->model_xxh64[0] ? b->model_xxh64 : "(none recorded)",
                           b->num_partitions, b->num_sub_vectors, pa_metric_name(b->metric),
                           ix[0].dir, a->model_xxh64[0] ? a->model_xxh64 : "(none recorded)",
                           a->num_partitions, a->num_sub_vectors, pa_metric_name(a->metric));
        for (size_t m = 0; m < k; m++)
            for (size_t x = 0; x < src[k].n; x++)
                for (size_t y = 0; y < src[m].n; y++)
                    if (src[k].frags[x].id == src[m].frags[y].id)
                        return pa_fail(PA_ERR_INVALID,
                                       "segments %s and %s both cover fragment %" PRIu64
                                       "; the segments of one index cover disjoint fragments",
                                       ix[m].dir, ix[k].dir, src[k].frags[x].id);
    }
    return PA_OK;
}

pa_status pa_table_commit_shaped(const char *table, const pa_table_index *ix, size_t n,
                                 const pa_table_commit_options *opts, pa_table_commit_result *out)
{
    PA_LOAD_OPTS(pa_table_commit_options, o, opts, PA_TABLE_COMMIT_OPTIONS_INIT);
    pa_status st = pa_stats_check(out, "pa_table_commit_result");
    if (st != PA_OK)
        return st;
    if (n == 0)
        return pa_fail(PA_ERR_INVALID, "%s: no index to commit", table);
    pa_table_commit_result res;
    memset(&res, 0, sizeof res);
    if (out)
        memcpy(&res, out, PA_MIN(sizeof res, out->struct_size)); /* the caller's pointers */
    res.struct_size = sizeof res;
    table_state t;
    memset(&t, 0, sizeof t);
    commit_set set;
    memset(&set, 0, sizeof set);
    index_src *src = pa_calloc(n, sizeof *src, "index sources");
    set.segs = pa_calloc(n, sizeof *set.segs, "index segments");
    if (!src || !set.segs) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    set.n = n;
    set.replace = o.replace;
    for (size_t k = 0; k < n; k++) {
        if ((st = read_index_src(&ix[k], true, &src[k])) != PA_OK)
            goto done;
        set.segs[k].src = &src[k];
    }
    if ((st = check_segments(ix, src, n)) != PA_OK)
        goto done;
    for (unsigned attempt = 0;; attempt++) {
        if ((st = table_load(table, &t)) != PA_OK || (st = check_flags(&t)) != PA_OK)
            goto done;
        const Pa__Lancepb__Field *f = NULL;
        for (size_t k = 0; k < n; k++) {
            const index_src *sk = &src[k];
            if (strcmp(t.dir, sk->table) != 0) {
                st = pa_fail(PA_ERR_INVALID, "%s: the index %s was built from another table (%s)",
                             t.given, ix[k].dir, sk->table);
                goto done;
            }
            uint32_t dim;
            if ((st = find_column(&t, sk->column, &f, &dim)) != PA_OK)
                goto done;
            if (dim != sk->shape.dim) {
                st = pa_fail(PA_ERR_INVALID,
                             "%s: column \"%s\" has %u dimensions, the index %s "
                             "holds %u",
                             t.given, f->name, dim, ix[k].dir, sk->shape.dim);
                goto done;
            }
            if ((st = check_fragments(&t, sk, f->id)) != PA_OK)
                goto done;
        }
        if (attempt == 0) {
            char vdir[PATH_MAX + 16];
            snprintf(vdir, sizeof vdir, "%s/_versions", t.dir);
            pa_out_remove_stale(vdir); /* what killed commits left */
            default_name(set.name, sizeof set.name, o.name, f->name);
            if ((st = check_name(&t, set.name, o.replace)) != PA_OK)
                goto done;
            for (size_t k = 0; k < n; k++) {
                commit_job *j = &set.segs[k];
                if ((st = random_uuid(j->uuid, j->uuid_text)) != PA_OK ||
                    (st = make_bitmap(j)) != PA_OK || (st = make_details(j)) != PA_OK ||
                    (st = copy_index(j, t.dir, ix[k].dir)) != PA_OK)
                    goto done;
            }
        }
        bool lost;
        if ((st = commit_once(&t, &set, f->id, &res, &lost)) != PA_OK)
            goto done;
        if (!lost)
            break;
        if (attempt + 1 >= COMMIT_MAX_RETRIES) {
            st = pa_fail(PA_ERR_STATE,
                         "%s: other writers committed version %" PRIu64 " and "
                         "%u versions before it while this commit tried; nothing was committed",
                         t.given, t.version + 1, attempt);
            goto done;
        }
        res.retries++;
        table_free(&t);
    }
    snprintf(res.uuid, sizeof res.uuid, "%s", set.segs[0].uuid_text);
    snprintf(res.name, sizeof res.name, "%s", set.name);
    res.built_version = src[0].version;
    res.num_fragments = 0;
    for (size_t k = 0; k < n; k++) {
        res.num_fragments += (uint32_t)src[k].n;
        res.built_version = PA_MAX(res.built_version, src[k].version);
        if (res.segment_uuids)
            snprintf(res.segment_uuids[k], sizeof res.segment_uuids[k], "%s",
                     set.segs[k].uuid_text);
        set.segs[k].index_dir[0] = '\0'; /* committed: keep it */
    }
    res.num_segments = (uint32_t)n;
    pa_stats_store(out, &res, sizeof res);
done:
    for (size_t k = 0; set.segs && k < n; k++) {
        commit_job *j = &set.segs[k];
        if (j->index_dir[0] && !set.published)
            pa_remove_tree(j->index_dir);
        free(j->bitmap);
        free(j->details);
    }
    for (size_t k = 0; src && k < n; k++)
        free(src[k].frags);
    table_free(&t);
    free(src);
    free(set.segs);
    return st;
}

pa_status pa_table_check_source_shaped(const pa_table_index *ix, const char *table)
{
    const char *index_dir = ix->dir;
    index_src src = {.frags = NULL};
    table_state t;
    memset(&t, 0, sizeof t);
    const Pa__Lancepb__Field *f;
    uint32_t dim;
    pa_status st = read_index_src(ix, false, &src);
    if (st != PA_OK || !src.table[0])
        goto done;
    if ((st = table_load(table, &t)) != PA_OK)
        goto done;
    if (strcmp(t.dir, src.table) != 0)
        st = pa_fail(PA_ERR_INVALID, "%s: the index %s was built from another table (%s)", t.given,
                     index_dir, src.table);
    else if ((st = find_column(&t, src.column, &f, &dim)) == PA_OK)
        st = check_fragments(&t, &src, f->id);
done:
    table_free(&t);
    free(src.frags);
    return st;
}

/* ---- table-info ---- */

/* The versions present in _versions, ascending, as a JSON array. */
static json_t *list_versions(const char *dir)
{
    char vdir[PATH_MAX + 16];
    snprintf(vdir, sizeof vdir, "%s/_versions", dir);
    json_t *arr = json_array();
    DIR *d = opendir(vdir);
    if (!d || !arr) {
        if (d)
            closedir(d);
        return arr;
    }
    uint64_t *v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name), sl = strlen(".manifest");
        if (len <= sl || strcmp(e->d_name + len - sl, ".manifest") != 0 ||
            strspn(e->d_name, "0123456789") != len - sl)
            continue;
        uint64_t x = strtoull(e->d_name, NULL, 10);
        if (len - sl == V2_NAME_DIGITS)
            x = UINT64_MAX - x;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            uint64_t *nv = realloc(v, cap * sizeof *v);
            if (!nv)
                break;
            v = nv;
        }
        v[n++] = x;
    }
    closedir(d);
    for (size_t i = 1; i < n; i++) /* insertion sort: a table has few versions */
        for (size_t k = i; k > 0 && v[k - 1] > v[k]; k--) {
            uint64_t x = v[k];
            v[k] = v[k - 1], v[k - 1] = x;
        }
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_integer((json_int_t)v[i]));
    free(v);
    return arr;
}

static const char *index_type(const Pa__Lancepb__IndexMetadata *e)
{
    if (!e->index_details || !e->index_details->type_url)
        return "unknown";
    const char *u = strrchr(e->index_details->type_url, '.');
    u = u ? u + 1 : e->index_details->type_url;
    if (!strcmp(u, "VectorIndexDetails")) {
        Pa__Lancepb__VectorIndexDetails *d = pa__lancepb__vector_index_details__unpack(
            NULL, e->index_details->value.len, e->index_details->value.data);
        bool pq = d && d->pq;
        if (d)
            pa__lancepb__vector_index_details__free_unpacked(d, NULL);
        return pq ? "IVF_PQ" : "vector";
    }
    return u;
}

pa_status pa_table_info_json(const char *table, char **json)
{
    *json = NULL;
    table_state t;
    pa_status st = table_load(table, &t);
    if (st != PA_OK)
        return st;
    /* strings from the table (its path, names in its manifest) are shown as they are where
     * they are UTF-8, else with U+FFFD: a description never fails on them */
    json_t *root = json_object(), *frags = json_array(), *cols = json_array(), *idx = json_array();
    bool ok = root && frags && cols && idx;
    uint64_t rows = 0, deleted = 0;
    for (size_t i = 0; ok && i < t.m->n_fragments; i++) {
        const Pa__Lancepb__DataFragment *fr = t.m->fragments[i];
        uint64_t del = fr->deletion_file ? fr->deletion_file->num_deleted_rows : 0;
        rows += fr->physical_rows, deleted += del;
        json_t *files = json_array();
        for (size_t k = 0; files && k < fr->n_files; k++)
            if (json_array_append_new(files, pa_json_display_string(fr->files[k]->path)) != 0)
                json_decref(files), files = NULL;
        ok = json_array_append_new(frags,
                                   json_pack("{s:I, s:I, s:I, s:o}", "id", (json_int_t)fr->id,
                                             "rows", (json_int_t)fr->physical_rows, "deleted_rows",
                                             (json_int_t)del, "files", files)) == 0;
    }
    for (size_t i = 0; ok && i < t.m->n_fields; i++) {
        const Pa__Lancepb__Field *f = t.m->fields[i];
        ok = json_array_append_new(cols, json_pack("{s:o, s:i, s:i, s:o, s:b}", "name",
                                                   pa_json_display_string(f->name), "id", f->id,
                                                   "parent_id", f->parent_id, "type",
                                                   pa_json_display_string(f->logical_type),
                                                   "nullable", f->nullable)) == 0;
    }
    for (size_t i = 0; ok && t.indices && i < t.indices->n_indices; i++) {
        const Pa__Lancepb__IndexMetadata *e = t.indices->indices[i];
        char u[37] = "";
        if (e->uuid && e->uuid->uuid.len == 16) {
            char *p = u;
            for (int b = 0; b < 16; b++) {
                if (b == 4 || b == 6 || b == 8 || b == 10)
                    *p++ = '-';
                p += sprintf(p, "%02x", e->uuid->uuid.data[b]);
            }
        }
        json_t *fids = json_array(), *fcols = json_array();
        ok = fids && fcols;
        roaring_bitmap_t *r = e->fragment_bitmap.len ? roaring_bitmap_portable_deserialize_safe(
                                                           (const char *)e->fragment_bitmap.data,
                                                           e->fragment_bitmap.len)
                                                     : NULL;
        uint64_t covered = 0;
        if (r) {
            roaring_uint32_iterator_t *it = roaring_create_iterator(r);
            for (; ok && it && it->has_value; roaring_advance_uint32_iterator(it)) {
                ok = json_array_append_new(fids, json_integer(it->current_value)) == 0;
                const Pa__Lancepb__DataFragment *fr = find_fragment(&t, it->current_value);
                if (fr)
                    covered += fr->physical_rows -
                               (fr->deletion_file ? fr->deletion_file->num_deleted_rows : 0);
            }
            roaring_free_uint32_iterator(it);
            roaring_bitmap_free(r);
        }
        for (size_t k = 0; ok && k < e->n_fields; k++)
            for (size_t c = 0; ok && c < t.m->n_fields; c++)
                if (t.m->fields[c]->id == e->fields[k])
                    ok = json_array_append_new(fcols,
                                               pa_json_display_string(t.m->fields[c]->name)) == 0;
        if (!ok) {
            json_decref(fids), json_decref(fcols);
            break;
        }
        ok = json_array_append_new(idx,
                                   json_pack("{s:o, s:s, s:o, s:o, s:I, s:o, s:I}", "name",
                                             pa_json_display_string(e->name ? e->name : ""), "uuid",
                                             u, "type", pa_json_display_string(index_type(e)),
                                             "columns", fcols, "dataset_version",
                                             (json_int_t)e->dataset_version, "fragments", fids,
                                             "rows_covered", (json_int_t)covered)) == 0;
    }
    if (!ok) {
        json_decref(root), json_decref(frags), json_decref(cols), json_decref(idx);
        table_free(&t);
        return pa_fail(PA_ERR_NOMEM, "out of memory: table description");
    }
    json_object_set_new(root, "table", pa_json_display_string(t.dir));
    json_object_set_new(root, "version", json_integer((json_int_t)t.version));
    json_object_set_new(root, "versions", list_versions(t.dir));
    json_object_set_new(root, "manifest_naming", json_string(t.v2_names ? "V2" : "V1"));
    json_object_set_new(root, "reader_feature_flags",
                        json_integer((json_int_t)t.cm->reader_feature_flags));
    json_object_set_new(root, "writer_feature_flags",
                        json_integer((json_int_t)t.cm->writer_feature_flags));
    json_object_set_new(root, "rows", json_integer((json_int_t)rows));
    json_object_set_new(root, "deleted_rows", json_integer((json_int_t)deleted));
    json_object_set_new(root, "fragments", frags);
    json_object_set_new(root, "columns", cols);
    json_object_set_new(root, "indexes", idx);
    if (json_object_size(root) != 11) { /* one set_new failed */
        json_decref(root);
        table_free(&t);
        return pa_fail(PA_ERR_NOMEM, "out of memory: table description");
    }
    st = pa_json_dump(root, PA_JSON_COMPACT, json);
    table_free(&t);
    return st;
}
