/* Backend loading: the built-in CPU backend, or a plugin shared library found on a search path
 * and checked against the ABI version before anything in it is called. */
#include "backend/backend_internal.h"
#include "common/pq_code.h"

#include <dlfcn.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#ifndef PA_INSTALL_LIBDIR
#define PA_INSTALL_LIBDIR "/usr/local/lib"
#endif

/* The ABI passes a model's metric as a pa_metric value: those values are frozen. */
_Static_assert(PA_METRIC_L2 == 0 && PA_METRIC_COSINE == 1 && PA_METRIC_DOT == 2,
               "the backend ABI passes pa_metric values; they may not change");

struct pa_backend {
    const pa_backend_v2 *vt;
    void *state;
    void *dl; /* NULL for the built-in backend */
    char *path;
    char *name;
    void *bound;            /* the backend's handle to the bound model, if any */
    pa_backend_model model; /* the bound model's shape (arrays not owned) */
    bool is_bound;
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
static pa_status check_table(const pa_backend_v2 *vt, const char *path)
{
    if (!vt)
        return pa_fail(PA_ERR_UNSUPPORTED, "%s: backend declined ABI version %d", path,
                       PA_BACKEND_ABI_VERSION);
    if (vt->abi_version != PA_BACKEND_ABI_VERSION)
        return pa_fail(PA_ERR_UNSUPPORTED,
                       "%s: backend was built for ABI version %u; this partifact speaks version %d",
                       path, vt->abi_version, PA_BACKEND_ABI_VERSION);
    if (vt->struct_size < PA_BACKEND_V2_MIN_SIZE)
        return pa_fail(PA_ERR_UNSUPPORTED,
                       "%s: backend function table is %u bytes, expected at least %zu", path,
                       vt->struct_size, (size_t)PA_BACKEND_V2_MIN_SIZE);
    if (!vt->name || !vt->create || !vt->destroy || !vt->train || !vt->bind_model ||
        !vt->assign_encode || !vt->unbind_model || !vt->work_bytes)
        return pa_fail(PA_ERR_UNSUPPORTED, "%s: backend function table has empty entries", path);
    return PA_OK;
}

/* Finds, loads and checks a plugin; b->dl and b->vt are set on success. */
static pa_status load_plugin(pa_backend *b, const char *name, const char *search_path, char *path,
                             size_t path_len)
{
    char tried[2048] = "";
    if (!find_in(search_path, name, path, path_len, tried, sizeof tried) &&
        !find_in(getenv("PARTIFACT_BACKEND_PATH"), name, path, path_len, tried, sizeof tried) &&
        !find_in(PA_INSTALL_LIBDIR "/partifact", name, path, path_len, tried, sizeof tried))
        return pa_fail(PA_ERR_INVALID,
                       "backend \"%s\": libpartifact-backend-%s.so not found (looked in: %s; "
                       "set PARTIFACT_BACKEND_PATH)",
                       name, name, tried[0] ? tried : "nowhere");
    b->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!b->dl) {
        const char *e = dlerror();
        return pa_fail(PA_ERR_INVALID, "%s: cannot load backend: %s", path, e ? e : "?");
    }
    pa_backend_entry_fn entry = NULL;
    void *sym = dlsym(b->dl, PA_BACKEND_ENTRY_SYMBOL);
    memcpy(&entry, &sym, sizeof entry);
    if (!entry) {
        /* a plugin of another ABI version exports that version's entry symbol: named, not
         * called */
        for (int v = 1; v <= 9; v++) {
            char other[32];
            snprintf(other, sizeof other, "partifact_backend_v%d", v);
            if (v != PA_BACKEND_ABI_VERSION && dlsym(b->dl, other))
                return pa_fail(PA_ERR_UNSUPPORTED,
                               "%s: backend was built for ABI version %d (it exports %s); this "
                               "partifact speaks version %d (%s)",
                               path, v, other, PA_BACKEND_ABI_VERSION, PA_BACKEND_ENTRY_SYMBOL);
        }
        return pa_fail(PA_ERR_UNSUPPORTED, "%s: not a partifact backend (no symbol %s)", path,
                       PA_BACKEND_ENTRY_SYMBOL);
    }
    b->vt = entry(PA_BACKEND_ABI_VERSION);
    return check_table(b->vt, path);
}

/* Opens a backend (see the header). */
pa_status pa_backend_open(pa_backend **out, const char *name, const char *search_path,
                          const char *options)
{
    pa_backend *b = NULL;
    pa_status st = PA_OK;
    char path[4096];
    *out = NULL;
    if (!name || !valid_name(name)) {
        st = pa_fail(PA_ERR_INVALID,
                     "backend name \"%s\" must be 1-64 letters, digits, '-' or "
                     "'_'",
                     name ? name : "");
        goto done;
    }
    if (!(b = pa_calloc(1, sizeof *b, "backend"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    if (!strcmp(name, "cpu")) {
        b->vt = pa_cpu_backend_table();
        snprintf(path, sizeof path, "built-in");
    } else if ((st = load_plugin(b, name, search_path, path, sizeof path)) != PA_OK) {
        goto done;
    }
    b->path = pa_strdup(path, "backend path");
    b->name = pa_strdup(b->vt->name, "backend name");
    if (!b->path || !b->name) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    char err[PA_BACKEND_ERR_LEN] = "";
    if (b->vt->create(&b->state, options ? options : "", err, sizeof err) != 0) {
        st = pa_fail(PA_ERR_INVALID, "backend %s (%s): create failed: %s", name, path,
                     err[0] ? err : "no message");
        goto done;
    }
    *out = b;
    b = NULL;
done:
    if (b)
        b->state = NULL; /* create failed or was not reached: no state to destroy */
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
    if (pa_pq_check_bits(M, bits) != PA_OK)
        return pa_fail_prefix(PA_ERR_INVALID, "%s", who);
    if (metric < PA_METRIC_L2 || metric > PA_METRIC_DOT)
        return pa_fail(PA_ERR_INVALID, "%s: unknown metric %d", who, metric);
    return PA_OK;
}

/* The first non-finite value of n floats, or n. */
static uint64_t first_nonfinite(const float *v, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return i;
    return n;
}

pa_status pa_backend_train(pa_backend *b, const pa_backend_train_params *p, float *sample,
                           uint64_t n, float *centroids, float *codebook,
                           pa_backend_train_stats *stats)
{
    pa_backend_train_stats local = {.struct_size = sizeof local};
    pa_backend_train_stats *s = stats ? stats : &local;
    char err[PA_BACKEND_ERR_LEN] = "";
    pa_status st = check_shape(b->name, p->dim, p->num_partitions, p->num_sub_vectors, p->num_bits,
                               p->metric);
    if (st != PA_OK)
        goto done;
    if (s->struct_size < sizeof(uint32_t)) {
        st = pa_fail(PA_ERR_INVALID, "pa_backend_train_stats: struct_size %u is too small",
                     s->struct_size);
        goto done;
    }
    uint32_t size = s->struct_size;
    memset(s, 0, PA_MIN((size_t)size, sizeof *s));
    s->struct_size = size;
    if (b->vt->train(b->state, p, sample, n, centroids, codebook, s, err, sizeof err) != 0) {
        st = pa_fail(PA_ERR_INVALID, "backend %s: train: %s", b->name,
                     err[0] ? err : "failed without a message");
        goto done;
    }
    /* what a backend trained is checked like a model read from a file */
    const uint64_t K = (uint64_t)1 << p->num_bits;
    const uint64_t nc = (uint64_t)p->num_partitions * p->dim, nb = K * p->dim;
    uint64_t bad = first_nonfinite(centroids, nc);
    if (bad < nc) {
        st = pa_fail(PA_ERR_INVALID, "backend %s: train: centroid %llu has a non-finite value",
                     b->name, (unsigned long long)(bad / p->dim));
        goto done;
    }
    if ((bad = first_nonfinite(codebook, nb)) < nb)
        st = pa_fail(PA_ERR_INVALID, "backend %s: train: codebook value %llu is not finite",
                     b->name, (unsigned long long)bad);
done:
    return st;
}

pa_status pa_backend_bind(pa_backend *b, const pa_backend_model *m)
{
    char err[PA_BACKEND_ERR_LEN] = "";
    pa_status st = PA_OK;
    if (b->is_bound) {
        st = pa_fail(PA_ERR_STATE, "backend %s: a model is bound already", b->name);
        goto done;
    }
    if ((st = check_shape(b->name, m->dim, m->num_partitions, m->num_sub_vectors, m->num_bits,
                          m->metric)) != PA_OK)
        goto done;
    b->bound = NULL;
    if (b->vt->bind_model(b->state, m, &b->bound, err, sizeof err) != 0) {
        st = pa_fail(PA_ERR_INVALID, "backend %s: bind model: %s", b->name,
                     err[0] ? err : "failed without a message");
        goto done;
    }
    b->model = *m;
    b->is_bound = true;
done:
    return st;
}

pa_status pa_backend_assign_encode(pa_backend *b, const float *x, uint64_t n, uint32_t *part_ids,
                                   uint8_t *codes)
{
    return pa_backend_assign_encode_flags(b, x, n, 0, part_ids, codes);
}

pa_status pa_backend_assign_encode_flags(pa_backend *b, const float *x, uint64_t n, uint32_t flags,
                                         uint32_t *part_ids, uint8_t *codes)
{
    char err[PA_BACKEND_ERR_LEN] = "";
    pa_status st = PA_OK;
    if (!b->is_bound) {
        st = pa_fail(PA_ERR_STATE, "backend %s: assign/encode before a model was bound", b->name);
        goto done;
    }
    /* the optional member, where the backend's table reaches it */
    const bool has_flags = b->vt->struct_size >= offsetof(pa_backend_v2, assign_encode_flags) +
                                                     sizeof b->vt->assign_encode_flags &&
                           b->vt->assign_encode_flags;
    if (has_flags ? b->vt->assign_encode_flags(b->state, b->bound, x, n, flags, part_ids, codes,
                                               err, sizeof err) != 0
                  : b->vt->assign_encode(b->state, b->bound, x, n, part_ids, codes, err,
                                         sizeof err) != 0) {
        st = pa_fail(PA_ERR_INVALID, "backend %s: assign/encode: %s", b->name,
                     err[0] ? err : "failed without a message");
        goto done;
    }
    /* a backend must never hand back a partition that does not exist */
    for (uint64_t i = 0; i < n; i++)
        if (part_ids[i] >= b->model.num_partitions) {
            st = pa_fail(PA_ERR_RANGE, "backend %s: row %llu assigned to partition %u of %u",
                         b->name, (unsigned long long)i, part_ids[i], b->model.num_partitions);
            goto done;
        }
done:
    return st;
}

void pa_backend_unbind(pa_backend *b)
{
    if (!b || !b->is_bound)
        return;
    b->vt->unbind_model(b->state, b->bound);
    b->bound = NULL;
    b->is_bound = false;
}

uint64_t pa_backend_work_bytes(pa_backend *b, const pa_backend_model *m, uint64_t batch_rows)
{
    return b->vt->work_bytes(b->state, m, batch_rows);
}

void pa_backend_free(pa_backend *b)
{
    if (!b)
        return;
    pa_backend_unbind(b);
    if (b->vt && b->state)
        b->vt->destroy(b->state);
    if (b->dl)
        dlclose(b->dl);
    free(b->path);
    free(b->name);
    free(b);
}
