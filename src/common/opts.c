/* Versioned options and stats structs: the one place the library reads a caller's options and
 * writes a caller's stats (see "Versioned structs" in partifact.h). */
#include "common.h"

static size_t struct_size_of(const void *p)
{
    size_t n;
    memcpy(&n, p, sizeof n);
    return n;
}

pa_status pa_opts_load(void *dst, size_t size, const void *src, const void *defaults,
                       const char *name)
{
    memcpy(dst, defaults, size);
    if (!src)
        return PA_OK;
    size_t n = struct_size_of(src);
    if (n < PA_STRUCT_SIZE_MIN)
        return pa_fail(PA_ERR_INVALID,
                       "%s: struct_size is %zu; set struct_size to sizeof(%s) (%zu in library "
                       "%s), with %s_init or the INIT macro",
                       name, n, name, size, PA_VERSION_STRING, name);
    if (n > size) {
        const unsigned char *extra = (const unsigned char *)src + size;
        for (size_t i = 0; i < n - size; i++)
            if (extra[i])
                return pa_fail(PA_ERR_UNSUPPORTED,
                               "%s: struct_size is %zu, and the bytes past this library's %zu "
                               "(library %s) set fields it does not know (byte offset %zu)",
                               name, n, size, PA_VERSION_STRING, size + i);
        n = size;
    }
    memcpy((char *)dst + sizeof(size_t), (const char *)src + sizeof(size_t), n - sizeof(size_t));
    return PA_OK;
}

pa_status pa_opts_init(void *o, size_t struct_size, const void *defaults, size_t size,
                       const char *name)
{
    if (!o)
        return pa_fail(PA_ERR_INVALID, "%s_init: the struct is NULL", name);
    if (struct_size < PA_STRUCT_SIZE_MIN)
        return pa_fail(PA_ERR_INVALID, "%s_init: struct_size is %zu; expected sizeof(%s)", name,
                       struct_size, name);
    size_t n = PA_MIN(struct_size, size);
    memcpy(o, defaults, n);
    if (struct_size > size) /* fields of a newer header this library does not know: zero */
        memset((char *)o + size, 0, struct_size - size);
    memcpy(o, &struct_size, sizeof struct_size);
    return PA_OK;
}

pa_status pa_stats_check(const void *stats, const char *name)
{
    if (stats && struct_size_of(stats) < PA_STRUCT_SIZE_MIN)
        return pa_fail(PA_ERR_INVALID,
                       "%s: struct_size is %zu; expected sizeof(%s), set before the call (or "
                       "by the INIT macro)",
                       name, struct_size_of(stats), name);
    return PA_OK;
}

void pa_stats_store(void *dst, const void *src, size_t size)
{
    if (!dst)
        return;
    size_t n = PA_MIN(struct_size_of(dst), size);
    if (n > sizeof(size_t))
        memcpy((char *)dst + sizeof(size_t), (const char *)src + sizeof(size_t),
               n - sizeof(size_t));
}

/* pa_x_options_init for every public options struct: the INIT macros are the defaults. */
PA_DEFINE_OPTS_INIT(pa_lance_write_options_init, pa_lance_write_options,
                    PA_LANCE_WRITE_OPTIONS_INIT)
PA_DEFINE_OPTS_INIT(pa_dataset_write_options_init, pa_dataset_write_options,
                    PA_DATASET_WRITE_OPTIONS_INIT)
PA_DEFINE_OPTS_INIT(pa_vec_input_options_init, pa_vec_input_options, PA_VEC_INPUT_OPTIONS_INIT)
PA_DEFINE_OPTS_INIT(pa_ivfpq_params_init, pa_ivfpq_params, PA_IVFPQ_PARAMS_INIT)
PA_DEFINE_OPTS_INIT(pa_artifact_params_init, pa_artifact_params, PA_ARTIFACT_PARAMS_INIT)
PA_DEFINE_OPTS_INIT(pa_encode_options_init, pa_encode_options, PA_ENCODE_OPTIONS_INIT)
PA_DEFINE_OPTS_INIT(pa_index_finalize_options_init, pa_index_finalize_options,
                    PA_INDEX_FINALIZE_OPTIONS_INIT)
PA_DEFINE_OPTS_INIT(pa_index_open_options_init, pa_index_open_options, PA_INDEX_OPEN_OPTIONS_INIT)
PA_DEFINE_OPTS_INIT(pa_index_search_options_init, pa_index_search_options,
                    PA_INDEX_SEARCH_OPTIONS_INIT)
PA_DEFINE_OPTS_INIT(pa_build_options_init, pa_build_options, PA_BUILD_OPTIONS_INIT)
PA_DEFINE_OPTS_INIT(pa_table_commit_options_init, pa_table_commit_options,
                    PA_TABLE_COMMIT_OPTIONS_INIT)

pa_status pa_info_args(const void *obj, const void *out, const char *name, const char *needs)
{
    pa_status st = pa_stats_check(out, name);
    if (st != PA_OK)
        return st;
    if (!obj || !out)
        return pa_fail(PA_ERR_INVALID, "%s and an output are needed", needs);
    return PA_OK;
}
