/* Column types: row widths and the Lance/Arrow logical type names that identify them. */
#include "lance/lance_internal.h"

#include <stdio.h>
#include <stdlib.h>

size_t pa_type_row_bytes(pa_type type, uint32_t dim)
{
    switch (type) {
    case PA_TYPE_UINT32: return 4;
    case PA_TYPE_UINT64: return 8;
    case PA_TYPE_FLOAT32: return 4;
    case PA_TYPE_FSL_UINT8: return (size_t)dim;
    case PA_TYPE_FSL_FLOAT32: return (size_t)dim * 4;
    case PA_TYPE_FSL_FLOAT16: return (size_t)dim * 2;
    case PA_TYPE_FSL_FLOAT64: return (size_t)dim * 8;
    case PA_TYPE_LIST_FLOAT32: return 4;
    case PA_TYPE_LIST_FSL_FLOAT32: return (size_t)dim * 4;
    case PA_TYPE_OTHER: return 0;
    }
    return 0;
}

pa_status pa_type_name(pa_type type, uint32_t dim, char *buf, size_t buf_len)
{
    int n;
    switch (type) {
    case PA_TYPE_UINT32: n = snprintf(buf, buf_len, "uint32"); break;
    case PA_TYPE_UINT64: n = snprintf(buf, buf_len, "uint64"); break;
    case PA_TYPE_FLOAT32: n = snprintf(buf, buf_len, "float"); break;
    case PA_TYPE_FSL_UINT8: n = snprintf(buf, buf_len, "fixed_size_list:uint8:%u", dim); break;
    case PA_TYPE_FSL_FLOAT32: n = snprintf(buf, buf_len, "fixed_size_list:float:%u", dim); break;
    case PA_TYPE_FSL_FLOAT16:
        n = snprintf(buf, buf_len, "fixed_size_list:halffloat:%u", dim);
        break;
    case PA_TYPE_FSL_FLOAT64: n = snprintf(buf, buf_len, "fixed_size_list:double:%u", dim); break;
    case PA_TYPE_LIST_FLOAT32: n = snprintf(buf, buf_len, "list<float>"); break;
    case PA_TYPE_LIST_FSL_FLOAT32:
        n = snprintf(buf, buf_len, "list<fixed_size_list:float:%u>", dim);
        break;
    case PA_TYPE_OTHER: n = snprintf(buf, buf_len, "other"); break;
    default: return pa_fail(PA_ERR_INVALID, "unknown column type %d", (int)type);
    }
    if (n < 0 || (size_t)n >= buf_len)
        return pa_fail(PA_ERR_INVALID, "type name buffer of %zu bytes is too small", buf_len);
    return PA_OK;
}

pa_status pa_validate_field(const pa_field *f)
{
    if (!f->name || !f->name[0])
        return pa_fail(PA_ERR_INVALID, "field has no name");
    switch (f->type) {
    case PA_TYPE_UINT32:
    case PA_TYPE_UINT64:
    case PA_TYPE_FLOAT32:
    case PA_TYPE_LIST_FLOAT32:
        if (f->dim != 1)
            return pa_fail(PA_ERR_INVALID, "field \"%s\": dim must be 1 for a scalar type, got %u",
                           f->name, f->dim);
        return PA_OK;
    case PA_TYPE_FSL_UINT8:
    case PA_TYPE_FSL_FLOAT32:
    case PA_TYPE_LIST_FSL_FLOAT32:
        if (f->dim < 1 || f->dim > PA_MAX_DIM)
            return pa_fail(PA_ERR_INVALID,
                           "field \"%s\": list size must be between 1 and %u, got %u", f->name,
                           PA_MAX_DIM, f->dim);
        return PA_OK;
    case PA_TYPE_FSL_FLOAT16:
    case PA_TYPE_FSL_FLOAT64:
    case PA_TYPE_OTHER: break; /* read, never written */
    }
    return pa_fail(PA_ERR_INVALID, "field \"%s\": unknown column type %d", f->name, (int)f->type);
}

bool pa_type_is_list(pa_type type)
{
    return type == PA_TYPE_LIST_FLOAT32 || type == PA_TYPE_LIST_FSL_FLOAT32;
}

pa_type pa_type_list_item(pa_type type)
{
    return type == PA_TYPE_LIST_FLOAT32 ? PA_TYPE_FLOAT32 : PA_TYPE_FSL_FLOAT32;
}

pa_status pa_parse_logical_type(const char *name, pa_type *type, uint32_t *dim)
{
    if (strcmp(name, "uint32") == 0) {
        *type = PA_TYPE_UINT32, *dim = 1;
        return PA_OK;
    }
    if (strcmp(name, "uint64") == 0) {
        *type = PA_TYPE_UINT64, *dim = 1;
        return PA_OK;
    }
    if (strcmp(name, "float") == 0) {
        *type = PA_TYPE_FLOAT32, *dim = 1;
        return PA_OK;
    }
    const char *rest = NULL;
    if (strncmp(name, "fixed_size_list:float:", 22) == 0)
        *type = PA_TYPE_FSL_FLOAT32, rest = name + 22;
    else if (strncmp(name, "fixed_size_list:uint8:", 22) == 0)
        *type = PA_TYPE_FSL_UINT8, rest = name + 22;
    else if (strncmp(name, "fixed_size_list:halffloat:", 26) == 0)
        *type = PA_TYPE_FSL_FLOAT16, rest = name + 26;
    else if (strncmp(name, "fixed_size_list:double:", 23) == 0)
        *type = PA_TYPE_FSL_FLOAT64, rest = name + 23;
    if (rest) {
        char *end = NULL;
        unsigned long d = strtoul(rest, &end, 10);
        if (end != rest && *end == '\0' && d >= 1 && d <= (1ul << 20)) {
            *dim = (uint32_t)d;
            return PA_OK;
        }
    }
    return pa_fail(PA_ERR_UNSUPPORTED,
                   "column type \"%s\" is not one partifact reads (uint32, uint64, float, "
                   "fixed_size_list:uint8:N, fixed_size_list:float:N, "
                   "fixed_size_list:halffloat:N, fixed_size_list:double:N)",
                   name);
}
