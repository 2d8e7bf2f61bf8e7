/* Whole-buffer positioned I/O with errors that name the file and offset. */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>
#include <limits.h>

/* pread or pwrite of exactly len bytes at off, retried on EINTR and short transfers. */
static pa_status io_full(int fd, char *p, size_t len, uint64_t off, const char *path, bool write)
{
    const char *verb = write ? "write" : "read";
    for (size_t done = 0; done < len;) {
        ssize_t n = write ? pwrite(fd, p + done, len - done, (off_t)(off + done))
                          : pread(fd, p + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return pa_fail(PA_ERR_IO, "%s: %s of %zu bytes at offset %llu failed: %s", path, verb,
                           len, (unsigned long long)off, strerror(errno));
        if (n == 0 && write)
            return pa_fail(PA_ERR_IO, "%s: write at offset %llu made no progress", path,
                           (unsigned long long)(off + done));
        if (n == 0)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: file ends at byte %llu, expected %zu bytes at offset %llu "
                           "(truncated file?)",
                           path, (unsigned long long)(off + done), len, (unsigned long long)off);
        done += (size_t)n;
    }
    return PA_OK;
}

pa_status pa_pread_full(int fd, void *buf, size_t len, uint64_t off, const char *path)
{
    return io_full(fd, buf, len, off, path, false);
}

pa_status pa_pwrite_full(int fd, const void *buf, size_t len, uint64_t off, const char *path)
{
    return io_full(fd, (char *)buf, len, off, path, true);
}

pa_status pa_file_size(int fd, const char *path, uint64_t *size)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return pa_fail(PA_ERR_IO, "%s: stat failed: %s", path, strerror(errno));
    *size = (uint64_t)st.st_size;
    return PA_OK;
}

/* What a non-regular file is, for the message refusing it. */
static const char *file_kind(mode_t m)
{
    return S_ISDIR(m)    ? "a directory"
           : S_ISFIFO(m) ? "a FIFO"
           : S_ISCHR(m)  ? "a character device"
           : S_ISBLK(m)  ? "a block device"
           : S_ISSOCK(m) ? "a socket"
                         : "not a regular file";
}

pa_status pa_open_input(const char *path, int *fd, uint64_t *size)
{
    *fd = -1, *size = 0;
    /* O_NONBLOCK: opening a FIFO for reading would wait for a writer before fstat could say
     * what it is; it is dropped again for the regular file it turns out to be */
    int f = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (f < 0)
        return pa_fail_errno(errno, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    pa_status st = PA_OK;
    if (fstat(f, &sb) != 0)
        st = pa_fail(PA_ERR_IO, "%s: stat failed: %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        st = pa_fail(PA_ERR_INVALID, "%s: is %s, not a regular file", path, file_kind(sb.st_mode));
    else if (fcntl(f, F_SETFL, fcntl(f, F_GETFL) & ~O_NONBLOCK) != 0)
        st = pa_fail(PA_ERR_IO, "%s: fcntl failed: %s", path, strerror(errno));
    if (st != PA_OK) {
        close(f);
        return st;
    }
    *fd = f, *size = (uint64_t)sb.st_size;
    return PA_OK;
}

pa_status pa_copy_file(const char *src, const char *dst, uint64_t *size)
{
    uint8_t *buf = NULL;
    int in = -1, out = -1;
    uint64_t n_bytes = 0;
    pa_status st = pa_open_input(src, &in, &n_bytes);
    if (st != PA_OK)
        goto done;
    if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0) {
        st = pa_fail(PA_ERR_IO, "%s: cannot create: %s", dst, strerror(errno));
        goto done;
    }
    const size_t chunk = 1u << 20;
    if (!(buf = pa_malloc(chunk, "copy buffer"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    for (uint64_t off = 0; off < n_bytes && st == PA_OK; off += chunk) {
        size_t n = (size_t)PA_MIN(chunk, n_bytes - off);
        if ((st = pa_pread_full(in, buf, n, off, src)) == PA_OK)
            st = pa_pwrite_full(out, buf, n, off, dst);
    }
    if (st == PA_OK)
        st = pa_fsync_fd(out, dst);
done:
    free(buf);
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    if (size)
        *size = n_bytes;
    return st;
}

pa_status pa_fsync_fd(int fd, const char *path)
{
    if (fsync(fd) != 0)
        return pa_fail(PA_ERR_IO, "%s: fsync failed: %s", path, strerror(errno));
    return PA_OK;
}

void pa_trim_slashes(char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        path[--n] = '\0';
}

void pa_parent_dir(const char *path, char *buf, size_t len)
{
    snprintf(buf, len, "%s", path);
    pa_trim_slashes(buf);
    char *slash = strrchr(buf, '/');
    if (!slash)
        snprintf(buf, len, ".");
    else if (slash == buf)
        buf[1] = '\0';
    else
        *slash = '\0';
}

pa_status pa_fsync_dir_of(const char *path)
{
    size_t len = strlen(path) + 2; /* room for "." */
    char *dir = pa_malloc(len, "directory name");
    if (!dir)
        return PA_ERR_NOMEM;
    pa_parent_dir(path, dir, len);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    pa_status st = PA_OK;
    if (fd < 0)
        st = pa_fail(PA_ERR_IO, "%s: cannot open directory to fsync: %s", dir, strerror(errno));
    else {
        if (fsync(fd) != 0)
            st = pa_fail(PA_ERR_IO, "%s: directory fsync failed: %s", dir, strerror(errno));
        close(fd);
    }
    free(dir);
    return st;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Removes dir and everything under it, without following links; best effort, for cleaning up
 * work that did not complete (a missing dir is not an error). */
void pa_remove_tree(const char *dir)
{
    struct stat sb;
    if (lstat(dir, &sb) == 0)
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- outputs: temporary names, exclusive creation, atomic replacement ---- */

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

/* renameat2(2) (glibc 2.28 and later); -1 with errno EINVAL or ENOSYS when the kernel or the
 * file system lacks it. */
static int rename2(const char *from, const char *to, unsigned flags)
{
    return renameat2(AT_FDCWD, from, AT_FDCWD, to, flags);
}

/* Renames from to to, refusing (EEXIST) when to exists. Where the file system lacks
 * renameat2, a file is published with link(2) (which fails when to exists: still atomic) and
 * its temporary name removed; where it lacks links too (and for a directory), the check and
 * the rename are separate steps. */
static int rename_noreplace(const char *from, const char *to)
{
    if (rename2(from, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    struct stat sb;
    if (lstat(from, &sb) == 0 && S_ISREG(sb.st_mode)) {
        if (link(from, to) == 0) {
            unlink(from);
            return 0;
        }
        if (errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP && errno != EMLINK)
            return -1;
    }
    if (lstat(to, &sb) == 0) {
        errno = EEXIST;
        return -1;
    }
    return rename(from, to);
}

char *pa_path_join(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *s = pa_malloc(n, "path");
    if (s)
        snprintf(s, n, "%s%s%s", a, b, c);
    return s;
}

pa_status pa_output_refuse(const char *path, bool replace, const char *dir_kind)
{
    const bool is_dir = dir_kind != NULL;
    struct stat sb;
    if (lstat(path, &sb) != 0) {
        if (errno == ENOENT)
            return PA_OK;
        return pa_fail(PA_ERR_IO, "%s: cannot stat the output: %s", path, strerror(errno));
    }
    if (S_ISLNK(sb.st_mode))
        return pa_fail(PA_ERR_INVALID,
                       "%s: the output is a symbolic link; partifact neither "
                       "writes through it nor replaces it",
                       path);
    if (is_dir && !S_ISDIR(sb.st_mode))
        return pa_fail(PA_ERR_INVALID,
                       "%s: exists and is not a directory; an output directory "
                       "replaces only a directory",
                       path);
    if (!is_dir && !S_ISREG(sb.st_mode))
        return pa_fail(PA_ERR_INVALID,
                       "%s: exists and is not a regular file; an output file "
                       "replaces only a regular file",
                       path);
    if (!replace)
        return pa_fail(PA_ERR_EXISTS, "%s: already exists, and replacing it was not asked for",
                       path);
    if (is_dir) { /* only an output of the same kind is replaced, never any directory */
        int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat kb;
        bool ok = dfd >= 0 && fstatat(dfd, dir_kind, &kb, AT_SYMLINK_NOFOLLOW) == 0 &&
                  S_ISREG(kb.st_mode);
        if (dfd >= 0)
            close(dfd);
        if (!ok)
            return pa_fail(PA_ERR_INVALID,
                           "%s: exists and holds no %s, so it is not an output "
                           "of this kind; it is not replaced",
                           path, dir_kind);
    }
    return PA_OK;
}

/* Removes the temporary files killed runs left in dir whose names start with prefix and hold
 * PA_TMP_TAG, that no process holds locked (a live run holds its temporary file's lock). */
static void remove_stale_tmp_in(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 || !strstr(e->d_name, PA_TMP_TAG))
            continue;
        int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
            continue;
        struct stat sb;
        if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && flock(fd, LOCK_EX | LOCK_NB) == 0)
            unlinkat(dirfd(d), e->d_name, 0);
        close(fd);
    }
    closedir(d);
}

/* The temporary files killed runs left beside path (.<base>.partifact-tmp-*). */
static void remove_stale_tmp_files(const char *path)
{
    char dir[4096];
    if (strlen(path) >= sizeof dir)
        return;
    pa_parent_dir(path, dir, sizeof dir);
    char prefix[512];
    if (snprintf(prefix, sizeof prefix, ".%s" PA_TMP_TAG, pa_basename(path)) >= (int)sizeof prefix)
        return;
    remove_stale_tmp_in(dir, prefix);
}

void pa_out_remove_stale(const char *dir) { remove_stale_tmp_in(dir, "."); }

pa_status pa_out_open(pa_out_file *o, const char *path, bool replace)
{
    memset(o, 0, sizeof *o);
    o->fd = -1;
    o->replace = replace;
    char dir[4096];
    pa_status st = pa_output_refuse(path, replace, NULL);
    if (st != PA_OK)
        goto done;
    if (strlen(path) >= sizeof dir) {
        st = pa_fail(PA_ERR_INVALID, "%s: path too long", path);
        goto done;
    }
    pa_parent_dir(path, dir, sizeof dir);
    remove_stale_tmp_files(path);
    if (!(o->path = pa_strdup(path, "output path"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    static unsigned counter;
    for (int tries = 0; tries < 100; tries++) {
        char tail[64];
        snprintf(tail, sizeof tail, PA_TMP_TAG "%ld-%u", (long)getpid(),
                 __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
        free(o->tmp);
        o->tmp = NULL;
        char *name = pa_path_join(".", pa_basename(path), tail);
        o->tmp = name ? pa_path_join(dir, "/", name) : NULL;
        free(name);
        if (!o->tmp) {
            st = PA_ERR_NOMEM;
            goto done;
        }
        o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (o->fd < 0 && errno != EEXIST)
            break;
        if (o->fd < 0)
            continue;
        /* the lock marks it live for remove_stale_tmp_in; another run's cleanup may have
         * taken it between the open and the lock (it then holds the lock only while it
         * unlinks): wait for the lock, and take another name if the file is gone */
        struct stat sb;
        if (flock(o->fd, LOCK_EX) == 0 && fstat(o->fd, &sb) == 0 && sb.st_nlink > 0)
            break;
        close(o->fd);
        o->fd = -1;
        errno = EEXIST;
    }
    if (o->fd < 0) {
        st = pa_fail(PA_ERR_IO, "%s: cannot create a temporary file beside it (%s): %s", path,
                     o->tmp, strerror(errno));
        free(o->tmp);
        o->tmp = NULL; /* nothing made */
    }
done:
    if (st != PA_OK)
        pa_out_abort(o);
    return st;
}

pa_status pa_out_commit(pa_out_file *o)
{
    /* the descriptor (and so its lock) is held until the rename is done, so that no other run
     * takes the temporary file for a killed run's */
    pa_status st = pa_fsync_fd(o->fd, o->tmp);
    bool swapped = false, renamed = false;
    struct stat sb;
    if (st == PA_OK && o->replace && lstat(o->path, &sb) == 0) {
        /* the new file and the old swap names in one step, so that a failure later can put
         * the old one back; the old one, now under the temporary name, is then removed */
        if ((st = pa_output_refuse(o->path, true, NULL)) == PA_OK) {
            if (rename2(o->tmp, o->path, RENAME_EXCHANGE) == 0)
                swapped = true;
            else if ((errno == EINVAL || errno == ENOSYS) && rename(o->tmp, o->path) == 0)
                renamed = true; /* no exchange here: replaced, and cannot be taken back */
            else
                st = pa_fail(PA_ERR_IO, "%s: cannot rename %s into place: %s", o->path, o->tmp,
                             strerror(errno));
        }
    } else if (st == PA_OK) {
        if (rename_noreplace(o->tmp, o->path) == 0)
            renamed = true;
        else
            st = errno == EEXIST ? pa_fail(PA_ERR_EXISTS,
                                           "%s: appeared while it was written, and replacing "
                                           "it was not asked for",
                                           o->path)
                                 : pa_fail(PA_ERR_IO, "%s: cannot rename %s into place: %s",
                                           o->path, o->tmp, strerror(errno));
    }
    o->published = st == PA_OK;
    if (st == PA_OK) {
        /* Until the directory is synced the rename may not survive a crash; if that sync
         * fails, the commit is taken back where it can be: the old file back under its name,
         * or (nothing was there) the new one away; a published file stays (others may read
         * it already). */
        st = pa_fsync_dir_of(o->path);
        if (st != PA_OK && o->publish) {
            free(o->tmp);
            o->tmp = NULL; /* in place, and staying there */
        } else if (st != PA_OK && swapped)
            rename2(o->tmp, o->path, RENAME_EXCHANGE);
        else if (st != PA_OK && renamed && !o->replace)
            rename(o->path, o->tmp);
        else if (!swapped) {
            free(o->tmp);
            o->tmp = NULL; /* renamed into place: nothing left under the temporary name */
        }
    }
    if (close(o->fd) != 0 && st == PA_OK)
        st = pa_fail(PA_ERR_IO, "%s: close failed: %s", o->path, strerror(errno));
    o->fd = -1;
    pa_out_abort(o); /* removes what is under the temporary name: the old file or the new one */
    return st;
}

pa_status pa_out_write_file(const char *path, const void *data, size_t len, bool replace)
{
    pa_out_file o;
    pa_status st = pa_out_open(&o, path, replace);
    if (st != PA_OK)
        goto done;
    if ((st = pa_pwrite_full(o.fd, data, len, 0, o.tmp)) != PA_OK)
        goto done;
    st = pa_out_commit(&o);
done:
    pa_out_abort(&o);
    return st;
}

pa_status pa_shared_dir(const char *path)
{
    if (mkdir(path, 0755) == 0)
        return pa_fsync_dir_of(path); /* its entry in the parent, before anything names it */
    struct stat sb;
    if (errno != EEXIST)
        return pa_fail(PA_ERR_IO, "%s: cannot create directory: %s", path, strerror(errno));
    if (lstat(path, &sb) != 0)
        return pa_fail(PA_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return pa_fail(PA_ERR_INVALID, "%s: exists and is not a directory%s", path,
                       S_ISLNK(sb.st_mode) ? " (a symbolic link, which partifact does not "
                                             "write through)"
                                           : "");
    return PA_OK;
}

void pa_out_abort(pa_out_file *o)
{
    if (o->fd >= 0)
        close(o->fd);
    o->fd = -1;
    if (o->tmp)
        unlink(o->tmp);
    free(o->tmp);
    free(o->path);
    o->tmp = o->path = NULL;
}

/* ---- directories this run makes: a marker file inside, locked for the run's life ---- */

static const char marker_text[] = PA_WORK_MARKER_TEXT;

/* Opens dir's marker and takes its lock: the descriptor, or -1 when dir has no partifact
 * marker (not ours) or someone holds the lock (alive). */
static int lock_marker(const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    int fd = openat(dfd, PA_WORK_MARKER, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    close(dfd);
    if (fd < 0)
        return -1;
    char buf[sizeof marker_text];
    struct stat sb;
    ssize_t n = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ? pread(fd, buf, sizeof buf, 0) : -1;
    if (n != (ssize_t)(sizeof marker_text - 1) || memcmp(buf, marker_text, (size_t)n) != 0 ||
        flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

#define WORKDIR_SUFFIX_LEN 6

/* A suffix of WORKDIR_SUFFIX_LEN letters and digits, different on every call. */
static void random_suffix(char *out)
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    static uint64_t calls;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)ts.tv_sec ^
                 (uint64_t)getpid() << 32 ^
                 __atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED) * 0xD1B54A32D192ED03ull;
    for (int i = 0; i < WORKDIR_SUFFIX_LEN; i++) {
        x ^= x >> 31, x *= 0xBF58476D1CE4E5B9ull, x ^= x >> 29;
        out[i] = alnum[x % (sizeof alnum - 1)];
    }
    out[WORKDIR_SUFFIX_LEN] = '\0';
}

/* Puts the marker into the new directory dfd and locks it. The marker is made as an unnamed
 * file (O_TMPFILE), written, locked and then linked in, so that it appears complete and locked
 * at once; where the file system lacks O_TMPFILE it is created in place. The descriptor, or -1
 * (errno set). */
static int make_marker(int dfd)
{
    int fd = openat(dfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
    bool unnamed = fd >= 0;
    if (!unnamed && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        return -1;
    if (!unnamed)
        fd = openat(dfd, PA_WORK_MARKER, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    errno = 0;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0 ||
        pa_pwrite_full(fd, marker_text, sizeof marker_text - 1, 0, PA_WORK_MARKER) != PA_OK ||
        (unnamed && linkat(AT_FDCWD, proc, dfd, PA_WORK_MARKER, AT_SYMLINK_FOLLOW) != 0)) {
        int e = errno ? errno : EIO;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

pa_status pa_workdir_create(pa_workdir *w, const char *prefix, bool exact)
{
    memset(w, 0, sizeof *w);
    w->lock_fd = -1;
    pa_status st = PA_OK;
    char *name = NULL;
    for (int tries = 0; tries < 100 && !w->path; tries++) {
        char suffix[WORKDIR_SUFFIX_LEN + 1] = "";
        if (!exact)
            random_suffix(suffix);
        free(name);
        if (!(name = pa_path_join(prefix, suffix, ""))) {
            st = PA_ERR_NOMEM;
            goto done;
        }
        if (mkdir(name, 0755) != 0) { /* never an existing directory */
            int e = errno;
            if (e == EEXIST && !exact)
                continue;
            st = e == EEXIST ? pa_fail(PA_ERR_INVALID,
                                       "%s: already exists; a work directory is always "
                                       "a new one, made by the run that uses it",
                                       name)
                             : pa_fail(PA_ERR_IO, "%s: cannot create a work directory: %s", name,
                                       strerror(e));
            goto done;
        }
        int dfd = open(name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int fd = dfd >= 0 ? make_marker(dfd) : -1;
        int e = errno;
        if (dfd >= 0)
            close(dfd);
        if (fd >= 0) {
            w->path = name;
            w->lock_fd = fd;
            name = NULL; /* w's now */
            break;
        }
        pa_remove_tree(name);      /* made just now by this run */
        if (!exact && e == ENOENT) /* removed under us as a killed run's: another name */
            continue;
        st = pa_fail(PA_ERR_IO, "%s/%s: cannot create: %s", name, PA_WORK_MARKER, strerror(e));
        goto done;
    }
    if (!w->path)
        st = pa_fail(PA_ERR_IO, "%sXXXXXX: no free work directory name", prefix);
done:
    free(name);
    return st;
}

void pa_workdir_remove(pa_workdir *w)
{
    if (w->path)
        pa_remove_tree(w->path);
    pa_workdir_release(w);
}

void pa_workdir_keep(pa_workdir *w)
{
    if (w->path) {
        char *marker = pa_path_join(w->path, "/", PA_WORK_MARKER);
        if (marker)
            unlink(marker); /* no longer partifact's: the user's to keep */
        free(marker);
    }
    pa_workdir_release(w);
}

void pa_workdir_release(pa_workdir *w)
{
    if (w->path && w->lock_fd >= 0) /* no path: never made (a zeroed struct included) */
        close(w->lock_fd);          /* closing the last descriptor releases the flock */
    w->lock_fd = -1;
    free(w->path);
    w->path = NULL;
}

/* Removes the work directories killed runs left beside path (see common.h). */
unsigned pa_remove_orphans(const char *path, const char *tag)
{
    char dir[4096], trimmed[4096];
    if (strlen(path) >= sizeof trimmed)
        return 0;
    snprintf(trimmed, sizeof trimmed, "%s", path);
    pa_trim_slashes(trimmed);
    pa_parent_dir(trimmed, dir, sizeof dir);
    const char *base = pa_basename(trimmed);
    const size_t blen = strlen(base);
    if (blen == 0)
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    const size_t tlen = strlen(tag);
    unsigned removed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        if (strncmp(n, base, blen) != 0 || strncmp(n + blen, tag, tlen) != 0)
            continue;
        char full[4096 + 256];
        snprintf(full, sizeof full, "%s/%s", dir, n);
        struct stat sb;
        if (lstat(full, &sb) != 0 || !S_ISDIR(sb.st_mode))
            continue;
        int fd = lock_marker(full);
        if (fd < 0) {
            /* A run killed between its mkdir and its marker leaves an empty directory of the
             * shape pa_workdir_create makes; rmdir removes it only while it is empty, so
             * nothing is lost (a live run that loses it this way takes another name). */
            const char *sfx = n + blen + tlen;
            bool shaped = strlen(sfx) == WORKDIR_SUFFIX_LEN;
            for (const char *q = sfx; shaped && *q; q++)
                shaped = (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                         (*q >= '0' && *q <= '9');
            if (shaped && rmdir(full) == 0)
                removed++;
            continue; /* otherwise not partifact's, or its run is alive */
        }
        pa_remove_tree(full);
        close(fd);
        removed++;
    }
    closedir(d);
    return removed;
}

/* ---- output directories: built beside, swapped in ---- */

pa_status pa_out_dir_open(pa_out_dir *o, const char *path, bool replace, const char *kind)
{
    memset(o, 0, sizeof *o);
    o->work.lock_fd = -1;
    o->replace = replace;
    o->path = pa_strdup(path, "output path");
    if (!o->path)
        return PA_ERR_NOMEM;
    pa_trim_slashes(o->path);
    o->kind = kind;
    pa_status st = pa_output_refuse(o->path, replace, kind);
    if (st != PA_OK)
        goto done;
    pa_remove_orphans(o->path, PA_PARTIAL_TAG); /* what killed runs writing it left */
    char *prefix = pa_path_join(o->path, PA_PARTIAL_TAG, "");
    st = prefix ? pa_workdir_create(&o->work, prefix, false) : PA_ERR_NOMEM;
    free(prefix);
    if (st != PA_OK)
        goto done;
    o->dir = pa_path_join(o->work.path, "/", PA_OUT_DIR_NAME);
    if (!o->dir)
        st = PA_ERR_NOMEM;
    else if (mkdir(o->dir, 0755) != 0)
        st = pa_fail(PA_ERR_IO, "%s: cannot create: %s", o->dir, strerror(errno));
done:
    if (st != PA_OK)
        pa_out_dir_abort(o);
    return st;
}

pa_status pa_out_dir_commit(pa_out_dir *o)
{
    pa_status st = pa_fsync_dir_of(o->dir); /* the work directory's entry for the new one */
    char *x = st == PA_OK ? pa_path_join(o->dir, "/", ".") : NULL;
    if (st == PA_OK && !x)
        st = PA_ERR_NOMEM;
    if (st == PA_OK)
        st = pa_fsync_dir_of(x); /* the new directory's own entries */
    free(x);
    if (st != PA_OK)
        goto done;
    bool swapped = false;
    struct stat sb;
    if (o->replace && lstat(o->path, &sb) == 0) {
        /* the old output and the new swap places in one step; the old one is then removed
         * with the work directory */
        if ((st = pa_output_refuse(o->path, true, o->kind)) != PA_OK)
            goto done;
        if (rename2(o->dir, o->path, RENAME_EXCHANGE) == 0) {
            swapped = true;
        } else if (errno == EINVAL || errno == ENOSYS) {
            /* no atomic exchange here: the old one goes aside into the work directory, then
             * the new one in; a crash between the two leaves the old one complete in the work
             * directory, removed by the rerun */
            char *old = pa_path_join(o->work.path, "/", "old");
            if (!old) {
                st = PA_ERR_NOMEM;
                goto done;
            }
            if (rename(o->path, old) != 0 || rename(o->dir, o->path) != 0) {
                st = pa_fail(PA_ERR_IO, "%s: cannot replace it with %s: %s", o->path, o->dir,
                             strerror(errno));
                rename(old, o->path); /* puts the old one back if it was moved */
                free(old);
                goto done;
            }
            free(old);
        } else {
            st = pa_fail(PA_ERR_IO, "%s: cannot replace it with %s: %s", o->path, o->dir,
                         strerror(errno));
            goto done;
        }
    } else if (rename_noreplace(o->dir, o->path) != 0) {
        st = errno == EEXIST ? pa_fail(PA_ERR_EXISTS,
                                       "%s: appeared while it was written, and replacing "
                                       "it was not asked for",
                                       o->path)
                             : pa_fail(PA_ERR_IO, "%s: cannot rename %s into place: %s", o->path,
                                       o->dir, strerror(errno));
        goto done;
    }
    /* Until the parent directory is synced the rename may not survive a crash; if that sync
     * fails, the commit is taken back, so that a failed run never leaves its output behind. */
    st = pa_fsync_dir_of(o->path);
    if (st != PA_OK) {
        if (swapped)
            rename2(o->dir, o->path, RENAME_EXCHANGE);
        else if (rename(o->path, o->dir) != 0)
            pa_remove_tree(o->path);
        goto done;
    }
    o->committed = true;
done:
    pa_out_dir_abort(o);
    return st;
}

pa_status pa_out_dir_mkdir(const pa_out_dir *o, const char *name)
{
    char *sub = pa_path_join(o->dir, "/", name);
    if (!sub)
        return PA_ERR_NOMEM;
    pa_status st = PA_OK;
    if (mkdir(sub, 0755) != 0)
        st = pa_fail(PA_ERR_IO, "%s: cannot create directory: %s", sub, strerror(errno));
    free(sub);
    return st;
}

void pa_out_dir_abort(pa_out_dir *o)
{
    pa_workdir_remove(&o->work); /* the new one if not committed, the old one if replaced */
    free(o->dir);
    free(o->path);
    o->dir = o->path = NULL;
}

/* ---- an output that is one of the command's inputs ---- */

/* True when path lies inside directory dir (both resolved). */
static bool inside(const char *rdir, const char *rpath)
{
    size_t rl = strlen(rdir);
    return strncmp(rpath, rdir, rl) == 0 && (rpath[rl] == '/' || (rl == 1 && rpath[1]));
}

/* The refusal of an output that would replace an input; how names the relation. */
static pa_status refuse(const char *out, const char *how, const char *input)
{
    return pa_fail(PA_ERR_INVALID,
                   "%s: the output %s of this command (%s); an output never replaces its input",
                   out, how, input);
}

pa_status pa_output_check_inputs(const char *out, const char *const *inputs, size_t n)
{
    /* an output inside an input directory (an artifact's bucket file, a table's data file) */
    char parent[4096];
    if (strlen(out) < sizeof parent) {
        pa_parent_dir(out, parent, sizeof parent);
        char *rparent = realpath(parent, NULL);
        pa_status st = PA_OK;
        for (size_t i = 0; rparent && i < n && st == PA_OK; i++) {
            struct stat si;
            char *rin = inputs[i] && stat(inputs[i], &si) == 0 && S_ISDIR(si.st_mode)
                            ? realpath(inputs[i], NULL)
                            : NULL;
            if (rin && (inside(rin, rparent) || !strcmp(rin, rparent)))
                st = refuse(out, "lies inside an input", inputs[i]);
            free(rin);
        }
        free(rparent);
        if (st != PA_OK)
            return st;
    }
    struct stat so;
    if (stat(out, &so) != 0)
        return PA_OK; /* nothing there yet: it cannot be an input */
    char *rout = S_ISDIR(so.st_mode) ? realpath(out, NULL) : NULL;
    pa_status st = PA_OK;
    for (size_t i = 0; i < n && st == PA_OK; i++) {
        struct stat si;
        if (!inputs[i] || stat(inputs[i], &si) != 0)
            continue;
        if (si.st_dev == so.st_dev && si.st_ino == so.st_ino) {
            st = refuse(out, "is also an input", inputs[i]);
            break;
        }
        char *rin = rout ? realpath(inputs[i], NULL) : NULL;
        if (rin && inside(rout, rin))
            st = refuse(out, "directory holds an input", inputs[i]);
        free(rin);
    }
    free(rout);
    return st;
}

/* ---- pa_output: a buffered output file (public; see partifact.h) ---- */

#define OUTPUT_BUFFER_BYTES (1u << 20)

struct pa_output {
    pa_out_file f;
    uint64_t pos; /* bytes written to the file */
    size_t used;  /* bytes in buf */
    uint8_t *buf;
    bool failed;
};

pa_status pa_output_create(pa_output **out, const char *path, int replace)
{
    *out = NULL;
    if (!path)
        return pa_fail(PA_ERR_INVALID, "output: no path given");
    pa_output *o = pa_calloc(1, sizeof *o, "output");
    if (!o)
        return PA_ERR_NOMEM;
    o->f.fd = -1;
    o->buf = pa_malloc(OUTPUT_BUFFER_BYTES, "output buffer");
    pa_status st = o->buf ? pa_out_open(&o->f, path, replace != 0) : PA_ERR_NOMEM;
    if (st != PA_OK) {
        pa_output_free(o);
        return st;
    }
    *out = o;
    return PA_OK;
}

static pa_status output_flush(pa_output *o)
{
    pa_status st = pa_pwrite_full(o->f.fd, o->buf, o->used, o->pos, o->f.path);
    if (st != PA_OK)
        o->failed = true;
    o->pos += o->used;
    o->used = 0;
    return st;
}

pa_status pa_output_write(pa_output *o, const void *data, size_t len)
{
    if (o->failed || !o->f.path)
        return pa_fail(PA_ERR_STATE, "output: write after a failure or commit");
    const uint8_t *p = data;
    while (len) {
        size_t n = PA_MIN(len, OUTPUT_BUFFER_BYTES - o->used);
        memcpy(o->buf + o->used, p, n);
        o->used += n, p += n, len -= n;
        if (o->used == OUTPUT_BUFFER_BYTES) {
            pa_status st = output_flush(o);
            if (st != PA_OK)
                return st;
        }
    }
    return PA_OK;
}

pa_status pa_output_commit(pa_output *o)
{
    if (o->failed || !o->f.path)
        return pa_fail(PA_ERR_STATE, "output: commit after a failure or commit");
    pa_status st = output_flush(o);
    if (st == PA_OK)
        st = pa_out_commit(&o->f);
    o->failed = st != PA_OK;
    pa_out_abort(&o->f); /* frees what is left (nothing after a commit) */
    return st;
}

void pa_output_free(pa_output *o)
{
    if (!o)
        return;
    pa_out_abort(&o->f);
    free(o->buf);
    free(o);
}

pa_status pa_output_check(const char *out, int replace, const char *dir_kind,
                          const char *const *inputs, size_t n)
{
    if (!out)
        return pa_fail(PA_ERR_INVALID, "output: no path given");
    pa_status st = pa_output_check_inputs(out, inputs, n);
    return st == PA_OK ? pa_output_refuse(out, replace != 0, dir_kind) : st;
}
