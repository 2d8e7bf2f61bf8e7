/* libpafault.so: LD_PRELOAD fault injection for partifact's I/O.
 *
 *   PA_FAULT_OP    pwrite | fsync | rename | short | pread   (short: every pwrite writes at
 *                  most half; rename counts rename and renameat2, which commits outputs; pread
 *                  counts only the reads of PA_FAULT_FILE, and fails the Nth and every later
 *                  one: a device that is gone, so that a retried read fails too)
 *   PA_FAULT_AT    fail the Nth call of that operation (1-based); for "short", ignored
 *   PA_FAULT_FILE  the file whose preads "pread" counts (its path as the process opens it)
 *   PA_FAULT_ERRNO ENOSPC | EIO (default EIO)
 *   PA_FAULT_LOG   a file to which, at exit, the number of pwrite, fsync and rename calls the
 *                  process made is written ("pwrite N fsync N rename N"), and on a second line
 *                  the preads of PA_FAULT_FILE ("pread N"): to choose the Nth call of each to
 *                  fail
 *
 * The process's calls are counted from its start; the injected failure happens once. */
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static _Atomic long calls;
static _Atomic long n_pwrite, n_fsync, n_rename, n_pread;

__attribute__((destructor)) static void write_log(void)
{
    const char *log = getenv("PA_FAULT_LOG");
    FILE *f = log ? fopen(log, "w") : NULL;
    if (f) {
        fprintf(f, "pwrite %ld fsync %ld rename %ld\npread %ld\n", (long)n_pwrite, (long)n_fsync,
                (long)n_rename, (long)n_pread);
        fclose(f);
    }
}

static int want(const char *op)
{
    const char *o = getenv("PA_FAULT_OP");
    return o && !strcmp(o, op);
}

static int fire(void)
{
    const char *at = getenv("PA_FAULT_AT");
    long n = at ? atol(at) : 1;
    return atomic_fetch_add(&calls, 1) + 1 == n;
}

static int fault_errno(void)
{
    const char *e = getenv("PA_FAULT_ERRNO");
    return e && !strcmp(e, "ENOSPC") ? ENOSPC : EIO;
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    static ssize_t (*real)(int, const void *, size_t, off_t);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "pwrite64");
    atomic_fetch_add(&n_pwrite, 1);
    if (want("short") && n > 1)
        return real(fd, buf, n / 2, off);
    if (want("pwrite") && fire()) {
        errno = fault_errno();
        return -1;
    }
    return real(fd, buf, n, off);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) { return pwrite64(fd, buf, n, off); }

int fsync(int fd)
{
    static int (*real)(int);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "fsync");
    atomic_fetch_add(&n_fsync, 1);
    if (want("fsync") && fire()) {
        errno = fault_errno();
        return -1;
    }
    return real(fd);
}

int rename(const char *a, const char *b)
{
    static int (*real)(const char *, const char *);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "rename");
    atomic_fetch_add(&n_rename, 1);
    if (want("rename") && fire()) {
        errno = fault_errno();
        return -1;
    }
    return real(a, b);
}

int renameat2(int afd, const char *a, int bfd, const char *b, unsigned flags)
{
    static int (*real)(int, const char *, int, const char *, unsigned);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "renameat2");
    atomic_fetch_add(&n_rename, 1);
    if (want("rename") && fire()) {
        errno = fault_errno();
        return -1;
    }
    return real(afd, a, bfd, b, flags);
}

/* True if fd is PA_FAULT_FILE (compared by device and inode). */
static int is_fault_file(int fd)
{
    const char *path = getenv("PA_FAULT_FILE");
    struct stat a, b;
    return path && fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

ssize_t pread64(int fd, void *buf, size_t n, off_t off)
{
    static ssize_t (*real)(int, void *, size_t, off_t);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "pread64");
    if (is_fault_file(fd)) {
        const long k = atomic_fetch_add(&n_pread, 1) + 1;
        const char *at = getenv("PA_FAULT_AT");
        if (want("pread") && k >= (at ? atol(at) : 1)) {
            errno = fault_errno();
            return -1;
        }
    }
    return real(fd, buf, n, off);
}

ssize_t pread(int fd, void *buf, size_t n, off_t off) { return pread64(fd, buf, n, off); }
