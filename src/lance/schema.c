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

/* Converts protobuf fields to top-level pa_fields. A child of a top-level field (as some
 * writers emit for list items) is folded into its parent; deeper nesting is unsupported. */
pa_status pa_fields_from_pb(Pa__Lancepb__Field *const *pb, size_t n, const char *ctx,
                            pa_field **out, size_t *out_n)
{
    pa_field *fields = pa_calloc(n, sizeof *fields, "schema");
    if (!fields)
        return PA_ERR_NOMEM;
    size_t m = 0;
    pa_status st = PA_OK;
    for (size_t i = 0; i < n && st == PA_OK; i++) {
        const Pa__Lancepb__Field *f = pb[i];
        if (f->parent_id != -1) {
            bool parent_is_list = false;
            for (size_t j = 0; j < n; j++)
                if (pb[j]->id == f->parent_id && pb[j]->parent_id == -1 && pb[j]->logical_type &&
                    !strncmp(pb[j]->logical_type, "fixed_size_list:", 16))
                    parent_is_list = true;
            if (!parent_is_list)
                st = pa_fail(PA_ERR_UNSUPPORTED,
                             "%s: field \"%s\" is nested under field id %d; partifact reads only "
                             "flat schemas of scalar and fixed-size-list columns",
                             ctx, f->name ? f->name : "", f->parent_id);
            continue;
        }
        pa_type type;
        uint32_t dim;
        st = pa_parse_logical_type(f->logical_type ? f->logical_type : "", &type, &dim);
        if (st != PA_OK) {
            pa_fail_prefix(st, "%s: field \"%s\"", ctx, f->name ? f->name : "");
            break;
        }
        fields[m].name = pa_strdup(f->name ? f->name : "", "field name");
        if (!fields[m].name) {
            st = PA_ERR_NOMEM;
            break;
        }
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

/* Frees fields (and their names) built by pa_fields_from_pb. */
void pa_fields_free(pa_field *fields, size_t n)
{
    if (!fields)
        return;
    for (size_t i = 0; i < n; i++)
        free((char *)fields[i].name);
    free(fields);
}
