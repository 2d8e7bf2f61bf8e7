/* Backend loading: the built-in CPU backend, or a plugin shared library found on a search path
 * and checked against the ABI version before anything in it is called. */
#include "backend/backend_internal.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

#ifndef PA_INSTALL_LIBDIR
#define PA_INSTALL_LIBDIR "/usr/local/lib"
#endif

#define ERRLEN 512

struct pa_backend {
    const pa_backend_v1 *vt;
    void *state;
    void *dl;      /* NULL for the built-in backend */
    char *path;
    char *name;
};

/* Backend names are used in file names: letters, digits, '-' and '_' only. */
static bool valid_name(const char *name)
{
    if (!name[0] || strlen(name) > 64)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return false;
    return true;
}

/* Looks for libpartifact-backend-NAME.so in each ':'-separated directory of dirs. */
static bool find_in(const char *dirs, const char *name, char *out, size_t len, char *tried,
                    size_t tried_len)
{
    if (!dirs || !dirs[0])
        return false;
    const char *p = dirs;
    while (*p) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n) {
            snprintf(out, len, "%.*s/libpartifact-backend-%s.so", (int)n, p, name);
            size_t used = strlen(tried);
            snprintf(tried + used, tried_len - used, "%s%.*s", used ? ", " : "", (int)n, p);
            if (access(out, R_OK) == 0)
                return true;
        }
        p += n + (end ? 1 : 0);
    }
    return false;
}

/* Checks a plugin's function table against what this host needs. */
static pa_status check_table(const pa_backend_v1 *vt, const char *path)
{
    if (!vt)
        return pa_fail(PA_ERR_UNSUPPORTED, "%s: backend declined ABI version %d", path,
                       PA_BACKEND_ABI_VERSION);
    if (vt->abi_version != PA_BACKEND_ABI_VERSION)
        return pa_fail(PA_ERR_UNSUPPORTED,
                       "%s: backend was built for ABI version %u; this partifact speaks version %d",
                       path, vt->abi_version, PA_BACKEND_ABI_VERSION);
    if (vt->struct_size < sizeof(pa_backend_v1))
        return pa_fail(PA_ERR_UNSUPPORTED,
                       "%s: backend function table is %u bytes, expected at least %zu", path,
                       vt->struct_size, sizeof(pa_backend_v1));
    if (!vt->name || !vt->create || !vt->destroy || !vt->train || !vt->assign_encode)
        return pa_fail(PA_ERR_UNSUPPORTED, "%s: backend function table has empty entries", path);
    return PA_OK;
}

/* Opens a backend (see the header). */
pa_status pa_backend_open(pa_backend **out, const char *name, const char *search_path,
                          const char *options)
{
    *out = NULL;
    if (!name || !valid_name(name))
        return pa_fail(PA_ERR_INVALID, "backend name \"%s\" must be 1-64 letters, digits, '-' or "
                       "'_'", name ? name : "");
    pa_backend *b = pa_calloc(1, sizeof *b, "backend");
    if (!b)
        return PA_ERR_NOMEM;
    pa_status st = PA_OK;
    char path[4096];
    if (!strcmp(name, "cpu")) {
        b->vt = pa_cpu_backend_table();
        snprintf(path, sizeof path, "built-in");
    } else {
        char tried[2048] = "";
        if (!find_in(search_path, name, path, sizeof path, tried, sizeof tried) &&
            !find_in(getenv("PARTIFACT_BACKEND_PATH"), name, path, sizeof path, tried,
                     sizeof tried) &&
            !find_in(PA_INSTALL_LIBDIR "/partifact", name, path, sizeof path, tried,
                     sizeof tried)) {
            st = pa_fail(PA_ERR_INVALID,
                         "backend \"%s\": libpartifact-backend-%s.so not found (looked in: %s; "
                         "set PARTIFACT_BACKEND_PATH)",
                         name, name, tried[0] ? tried : "nowhere");
            goto fail;
        }
        b->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!b->dl) {
            const char *e = dlerror();
            st = pa_fail(PA_ERR_INVALID, "%s: cannot load backend: %s", path, e ? e : "?");
            goto fail;
        }
        pa_backend_entry_fn entry = NULL;
        void *sym = dlsym(b->dl, PA_BACKEND_ENTRY_SYMBOL);
        memcpy(&entry, &sym, sizeof entry);
        if (!entry) {
            st = pa_fail(PA_ERR_UNSUPPORTED, "%s: not a partifact backend (no symbol %s)", path,
                         PA_BACKEND_ENTRY_SYMBOL);
            goto fail;
        }
        b->vt = entry(PA_BACKEND_ABI_VERSION);
    }
    if ((st = check_table(b->vt, path)) != PA_OK)
        goto fail;
    b->path = pa_strdup(path, "backend path");
    b->name = pa_strdup(b->vt->name, "backend name");
    if (!b->path || !b->name) {
        st = PA_ERR_NOMEM;
        goto fail;
    }
    char err[ERRLEN] = "";
    if (b->vt->create(&b->state, options, err, sizeof err) != 0) {
        b->vt = NULL; /* nothing to destroy */
        st = pa_fail(PA_ERR_INVALID, "backend %s (%s): create failed: %s", name, path,
                     err[0] ? err : "no message");
        goto fail;
    }
    *out = b;
    return PA_OK;
fail:
    b->vt = NULL; /* no state was created */
    pa_backend_free(b);
    return st;
}

const char *pa_backend_name(const pa_backend *b) { return b->name; }
const char *pa_backend_path(const pa_backend *b) { return b->path; }

/* Checks a model or parameter set for the shape constraints every backend relies on. */
static pa_status check_shape(const char *who, uint32_t dim, uint32_t P, uint32_t M, uint32_t bits,
                             int32_t metric)
{
    if (dim == 0 || P == 0 || M == 0)
        return pa_fail(PA_ERR_INVALID, "%s: dimension, partitions and sub-vectors must be positive",
                       who);
    if (dim % M != 0)
        return pa_fail(PA_ERR_INVALID, "%s: num_sub_vectors %u does not divide dimension %u", who,
                       M, dim);
    if (bits != 8 && bits != 4)
        return pa_fail(PA_ERR_INVALID, "%s: num_bits must be 8 or 4, got %u", who, bits);
    if (metric < PA_BACKEND_METRIC_L2 || metric > PA_BACKEND_METRIC_DOT)
        return pa_fail(PA_ERR_INVALID, "%s: unknown metric %d", who, metric);
    return PA_OK;
}

pa_status pa_backend_train(pa_backend *b, const pa_backend_train_params *p, const float *sample,
                           uint64_t n, float *centroids, float *codebook)
{
    pa_status st = check_shape(b->name, p->dim, p->num_partitions, p->num_sub_vectors,
                               p->num_bits, p->metric);
    if (st != PA_OK)
        return st;
    char err[ERRLEN] = "";
    if (b->vt->train(b->state, p, sample, n, centroids, codebook, err, sizeof err) != 0)
        return pa_fail(PA_ERR_INVALID, "backend %s: train: %s", b->name,
                       err[0] ? err : "failed without a message");
    return PA_OK;
}

pa_status pa_backend_assign_encode(pa_backend *b, const pa_backend_model *m, const float *x,
                                   uint64_t n, uint32_t *part_ids, uint8_t *codes)
{
    pa_status st = check_shape(b->name, m->dim, m->num_partitions, m->num_sub_vectors,
                               m->num_bits, m->metric);
    if (st != PA_OK)
        return st;
    char err[ERRLEN] = "";
    if (b->vt->assign_encode(b->state, m, x, n, part_ids, codes, err, sizeof err) != 0)
        return pa_fail(PA_ERR_INVALID, "backend %s: assign/encode: %s", b->name,
                       err[0] ? err : "failed without a message");
    /* a backend must never hand back a partition that does not exist */
    for (uint64_t i = 0; i < n; i++)
        if (part_ids[i] >= m->num_partitions)
            return pa_fail(PA_ERR_RANGE, "backend %s: row %llu assigned to partition %u of %u",
                           b->name, (unsigned long long)i, part_ids[i], m->num_partitions);
    return PA_OK;
}

void pa_backend_free(pa_backend *b)
{
    if (!b)
        return;
    if (b->vt && b->state)
        b->vt->destroy(b->state);
    if (b->dl)
        dlclose(b->dl);
    free(b->path);
    free(b->name);
    free(b);
}
