/* Schema glue: pa_field <-> Lance protobuf Field messages, shared by file and dataset code. */
#include "lance/lance_internal.h"

#include <stdlib.h>

/* Builds protobuf Field messages for top-level, non-nullable columns with ids 0..n-1. */
Pa__Lancepb__Field **pa_pb_fields_new(const pa_field *fields, size_t n)
{
    Pa__Lancepb__Field **pb = pa_calloc(n, sizeof *pb, "schema fields");
    if (!pb)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char tname[64];
        Pa__Lancepb__Field *f = pa_calloc(1, sizeof *f, "schema field");
        if (!f || pa_type_name(fields[i].type, fields[i].dim, tname, sizeof tname) != PA_OK) {
            free(f);
            pa_pb_fields_free(pb, n);
            return NULL;
        }
        pa__lancepb__field__init(f);
        pb[i] = f;
        f->name = pa_strdup(fields[i].name, "field name");
        f->logical_type = pa_strdup(tname, "field type");
        if (!f->name || !f->logical_type) {
            pa_pb_fields_free(pb, n);
            return NULL;
        }
        f->id = (int32_t)i;
        f->parent_id = -1;
        f->nullable = 0;
        f->encoding = 1; /* PLAIN, as Lance writers record */
    }
    return pb;
}

/* Frees what pa_pb_fields_new allocated (tolerates a partly built array). */
void pa_pb_fields_free(Pa__Lancepb__Field **pb, size_t n)
{
    if (!pb)
        return;
    for (size_t i = 0; i < n; i++) {
        if (!pb[i])
            continue;
        free(pb[i]->name);
        free(pb[i]->logical_type);
        free(pb[i]);
    }
    free(pb);
}

/* The position in pb of the field with this id, or n. */
static size_t find_id(Pa__Lancepb__Field *const *pb, size_t n, int32_t id)
{
    for (size_t j = 0; j < n; j++)
        if (pb[j]->id == id)
            return j;
    return n;
}

/* Allocates "name\0logical_type" for a field: its path (parent names joined with '.'). */
static char *field_path(Pa__Lancepb__Field *const *pb, size_t n, size_t i, const char *type)
{
    size_t len = 0, depth = 0;
    for (size_t j = i; j < n && depth <= n; j = find_id(pb, n, pb[j]->parent_id), depth++)
        len += strlen(pb[j]->name ? pb[j]->name : "") + 1;
    if (depth > n)
        return NULL;
    char *buf = pa_malloc(len + strlen(type) + 1, "field name");
    if (!buf)
        return NULL;
    size_t at = len - 1;
    buf[at] = '\0';
    for (size_t j = i; j < n; j = find_id(pb, n, pb[j]->parent_id)) {
        const char *nm = pb[j]->name ? pb[j]->name : "";
        size_t l = strlen(nm);
        at -= l;
        memcpy(buf + at, nm, l);
        if (at)
            buf[--at] = '.';
    }
    memcpy(buf + len, type, strlen(type) + 1);
    return buf;
}

/* Fixed-size lists and (variable) lists hold their items as children. */
static bool is_fsl(const Pa__Lancepb__Field *f)
{
    return f->logical_type && !strncmp(f->logical_type, "fixed_size_list:", 16);
}

pa_status pa_columns_from_pb(Pa__Lancepb__Field *const *pb, size_t n, bool every_field,
                             const char *ctx, pa_field **out, size_t *out_n)
{
    pa_field *fields = pa_calloc(n ? n : 1, sizeof *fields, "schema");
    if (!fields)
        return PA_ERR_NOMEM;
    size_t m = 0;
    pa_status st = PA_OK;
    for (size_t i = 0; i < n && st == PA_OK; i++) {
        const Pa__Lancepb__Field *f = pb[i];
        bool has_children = false, under_fsl = false;
        for (size_t j = 0; j < n; j++)
            if (j != i && pb[j]->parent_id == f->id)
                has_children = true;
        size_t depth = 0;
        for (size_t j = find_id(pb, n, f->parent_id); j < n && depth <= n;
             j = find_id(pb, n, pb[j]->parent_id), depth++)
            under_fsl |= is_fsl(pb[j]);
        if (f->parent_id != -1 && find_id(pb, n, f->parent_id) == n)
            st = pa_fail(PA_ERR_FORMAT, "%s: field \"%s\" (id %d) names parent id %d, which the "
                         "schema does not have", ctx, f->name ? f->name : "", f->id,
                         f->parent_id);
        else if (depth > n)
            st = pa_fail(PA_ERR_FORMAT, "%s: field \"%s\" (id %d) is its own ancestor", ctx,
                         f->name ? f->name : "", f->id);
        if (st != PA_OK || under_fsl || (!every_field && has_children && !is_fsl(f)))
            continue; /* no column of its own */
        const char *lt = f->logical_type ? f->logical_type : "";
        pa_type type;
        uint32_t dim;
        if (f->parent_id != -1 || pa_parse_logical_type(lt, &type, &dim) != PA_OK) {
            /* parsed and recorded, never decoded: a type partifact does not read, or a field
             * nested in a struct or list (its pages carry the parent's rep/def levels) */
            pa_clear_error();
            type = PA_TYPE_OTHER, dim = 1;
        }
        char *name = field_path(pb, n, i, lt);
        if (!name) {
            st = PA_ERR_NOMEM;
            break;
        }
        fields[m].name = name;
        fields[m].type = type;
        fields[m].dim = dim;
        m++;
    }
    if (st != PA_OK) {
        pa_fields_free(fields, m);
        return st;
    }
    *out = fields;
    *out_n = m;
    return PA_OK;
}

pa_status pa_fields_from_pb(Pa__Lancepb__Field *const *pb, size_t n, const char *ctx,
                            pa_field **out, size_t *out_n)
{
    return pa_columns_from_pb(pb, n, false, ctx, out, out_n);
}

const char *pa_field_logical_type(const pa_field *f)
{
    return f->name + strlen(f->name) + 1;
}

/* Frees fields (and their names) built by pa_fields_from_pb. */
void pa_fields_free(pa_field *fields, size_t n)
{
    if (!fields)
        return;
    for (size_t i = 0; i < n; i++)
        free((char *)fields[i].name);
    free(fields);
}
