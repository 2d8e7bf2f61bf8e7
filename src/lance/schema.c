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

void pa_lance_meta_free(pa_lance_meta *m, size_t n)
{
    for (size_t i = 0; m && i < n; i++) {
        free(m[i].key);
        free(m[i].value);
    }
    free(m);
}
