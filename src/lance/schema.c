/* Schema glue: pa_field <-> Lance protobuf Field messages, shared by file and dataset code. */
#include "lance/lance_internal.h"

#include <stdlib.h>

/* One Field message: name, logical type, id, parent; allocated strings (NULL on failure). */
static Pa__Lancepb__Field *field_new(const char *name, size_t name_len, const char *type,
                                     int32_t id, int32_t parent)
{
    Pa__Lancepb__Field *f = pa_calloc(1, sizeof *f, "schema field");
    if (!f)
        return NULL;
    pa__lancepb__field__init(f);
    f->name = pa_malloc(name_len + 1, "field name");
    f->logical_type = pa_strdup(type, "field type");
    if (f->name) {
        memcpy(f->name, name, name_len);
        f->name[name_len] = '\0';
    }
    f->id = id;
    f->parent_id = parent;
    f->nullable = 0;
    f->encoding = 1; /* PLAIN, as Lance writers record */
    return f;
}

/* Builds protobuf Field messages for top-level, non-nullable columns (see the header). */
Pa__Lancepb__Field **pa_pb_fields_new(const pa_field *fields, size_t n, size_t *n_pb,
                                      int32_t *leaf_ids)
{
    size_t total = n;
    for (size_t i = 0; i < n; i++)
        total += pa_type_is_list(fields[i].type);
    *n_pb = total;
    Pa__Lancepb__Field **pb = pa_calloc(total ? total : 1, sizeof *pb, "schema fields");
    if (!pb)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char tname[64];
        const pa_field *fi = &fields[i];
        bool list = pa_type_is_list(fi->type);
        const char *dot = list ? strchr(fi->name, '.') : NULL;
        size_t name_len = dot ? (size_t)(dot - fi->name) : strlen(fi->name);
        pa_type leaf = list ? pa_type_list_item(fi->type) : fi->type;
        int32_t id = (int32_t)k;
        if (pa_type_name(leaf, fi->dim, tname, sizeof tname) != PA_OK)
            goto fail;
        if (list) {
            if (!(pb[k++] = field_new(fi->name, name_len, "list", id, -1)))
                goto fail;
            const char *item = dot ? dot + 1 : "item";
            if (!(pb[k++] = field_new(item, strlen(item), tname, id + 1, id)))
                goto fail;
        } else if (!(pb[k++] = field_new(fi->name, name_len, tname, id, -1))) {
            goto fail;
        }
        if (!pb[k - 1]->name || !pb[k - 1]->logical_type ||
            (list && (!pb[k - 2]->name || !pb[k - 2]->logical_type)))
            goto fail;
        if (leaf_ids)
            leaf_ids[i] = (int32_t)(k - 1);
    }
    return pb;
fail:
    pa_pb_fields_free(pb, total);
    return NULL;
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

void pa_lance_meta_free(pa_lance_meta *m, size_t n)
{
    for (size_t i = 0; m && i < n; i++) {
        free(m[i].key);
        free(m[i].value);
    }
    free(m);
}
