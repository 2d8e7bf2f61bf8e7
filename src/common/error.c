/* Thread-local last-error message and the status names. */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define PA_ERRBUF 1024

static _Thread_local char last_error[PA_ERRBUF];
static _Thread_local const char *last_error_field;
static _Thread_local int last_error_errno;

const char *pa_last_error(void) { return last_error; }

const char *pa_last_error_field(void) { return last_error_field; }

int pa_last_error_errno(void) { return last_error_errno; }

void pa_clear_error(void)
{
    last_error[0] = '\0';
    last_error_field = NULL;
    last_error_errno = 0;
}

pa_status pa_failv(pa_status status, const char *fmt, va_list ap)
{
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    last_error_field = NULL;
    last_error_errno = 0;
    return status;
}

pa_status pa_fail_with(pa_status status, const char *field, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pa_failv(status, fmt, ap);
    va_end(ap);
    last_error_field = field;
    last_error_errno = err;
    return status;
}

pa_status pa_fail(pa_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pa_failv(status, fmt, ap);
    va_end(ap);
    return status;
}

pa_status pa_writer_state(const char *name, const char *op, bool ended, const char *end_op,
                          bool failed)
{
    if (!ended && !failed)
        return PA_OK;
    return pa_fail(PA_ERR_STATE, "%s: %s after %s", name, op,
                   ended ? end_op : "an earlier failure");
}

pa_status pa_fail_prefix(pa_status status, const char *fmt, ...)
{
    char old[PA_ERRBUF];
    va_list ap;
    memcpy(old, last_error, sizeof old);
    va_start(ap, fmt);
    int n = vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n + 2 < sizeof last_error) {
        size_t used = (size_t)n;
        memcpy(last_error + used, ": ", 2);
        size_t room = sizeof last_error - used - 2;
        size_t len = strnlen(old, room - 1);
        memcpy(last_error + used + 2, old, len);
        last_error[used + 2 + len] = '\0';
    }
    return status;
}

const char *pa_status_name(pa_status status)
{
    switch (status) {
    case PA_OK: return "ok";
    case PA_ERR_INVALID: return "invalid";
    case PA_ERR_IO: return "io";
    case PA_ERR_FORMAT: return "format";
    case PA_ERR_UNSUPPORTED: return "unsupported";
    case PA_ERR_NOMEM: return "nomem";
    case PA_ERR_RANGE: return "range";
    case PA_ERR_STATE: return "state";
    case PA_ERR_INCOMPLETE: return "incomplete";
    case PA_ERR_BUDGET: return "budget";
    case PA_ERR_EXISTS: return "exists";
    case PA_END: return "end";
    }
    return "unknown";
}

const char *pa_version(void) { return PA_VERSION_STRING; }

bool pa_mul_ok(size_t count, size_t size, size_t *out)
{
    return !__builtin_mul_overflow(count, size, out);
}

void *pa_malloc(size_t n, const char *what)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        pa_fail(PA_ERR_NOMEM, "out of memory allocating %zu bytes for %s", n, what);
    return p;
}

void *pa_malloc_dense(size_t n, const char *what)
{
    void *p = pa_malloc(n, what);
    if (p && n >= PA_DENSE_ALLOC_BYTES)
        pa_advise_huge(p, n);
    return p;
}

void pa_advise_huge(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = PA_HUGE_PAGE_BYTES;
    const uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    const uintptr_t hi = ((uintptr_t)p + n) & ~(huge - 1);
    if (hi > lo)
        (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE); /* refused: 4 KiB pages */
#else
    (void)p, (void)n;
#endif
}

void *pa_calloc(size_t count, size_t size, const char *what)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        pa_fail(PA_ERR_NOMEM, "out of memory allocating %zu x %zu bytes for %s", count, size, what);
    return p;
}

void *pa_realloc(void *p, size_t n, const char *what)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        pa_fail(PA_ERR_NOMEM, "out of memory growing %s to %zu bytes", what, n);
    return q;
}

bool pa_grow(void *array, size_t *cap, size_t elem, size_t first, const char *what)
{
    void *old;
    memcpy(&old, array, sizeof old);
    size_t n = *cap ? 2 * *cap : first;
    void *grown = pa_realloc(old, n * elem, what);
    if (!grown)
        return false;
    memcpy(array, &grown, sizeof grown);
    *cap = n;
    return true;
}

char *pa_strdup(const char *s, const char *what)
{
    size_t n = strlen(s) + 1;
    char *p = pa_malloc(n, what);
    if (p)
        memcpy(p, s, n);
    return p;
}

const char *pa_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}
