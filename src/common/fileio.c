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

pa_status pa_pread_full(int fd, void *buf, size_t len, uint64_t off, const char *path)
{
    char *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, p + done, len - done, (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return pa_fail(PA_ERR_IO, "%s: read of %zu bytes at offset %llu failed: %s", path,
                           len, (unsigned long long)off, strerror(errno));
        }
        if (n == 0)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: file ends at byte %llu, expected %zu bytes at offset %llu "
                           "(truncated file?)",
                           path, (unsigned long long)(off + done), len, (unsigned long long)off);
        done += (size_t)n;
    }
    return PA_OK;
}

pa_status pa_pwrite_full(int fd, const void *buf, size_t len, uint64_t off, const char *path)
{
    const char *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(fd, p + done, len - done, (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return pa_fail(PA_ERR_IO, "%s: write of %zu bytes at offset %llu failed: %s", path,
                           len, (unsigned long long)off, strerror(errno));
        }
        if (n == 0)
            return pa_fail(PA_ERR_IO, "%s: write at offset %llu made no progress", path,
                           (unsigned long long)(off + done));
        done += (size_t)n;
    }
    return PA_OK;
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
        return pa_fail(PA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    pa_status st = PA_OK;
    if (fstat(f, &sb) != 0)
        st = pa_fail(PA_ERR_IO, "%s: stat failed: %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        st = pa_fail(PA_ERR_INVALID, "%s: is %s, not a regular file", path,
                     file_kind(sb.st_mode));
    else if (fcntl(f, F_SETFL, fcntl(f, F_GETFL) & ~O_NONBLOCK) != 0)
        st = pa_fail(PA_ERR_IO, "%s: fcntl failed: %s", path, strerror(errno));
    if (st != PA_OK) {
        close(f);
        return st;
    }
    *fd = f, *size = (uint64_t)sb.st_size;
    return PA_OK;
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

/* Locks a run's work directory (see common.h). */
int pa_workdir_lock(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

void pa_workdir_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* closing the last descriptor releases the flock */
}

/* Removes the work directories killed runs left beside path (see common.h). A directory is an
 * orphan when the pid in its name is not a process here and no one holds its lock: the pid test
 * covers a run between its mkdir and its lock, the lock test a run on another machine that
 * shares the file system. */
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
        const char *digits = n + blen + tlen;
        char *end;
        errno = 0;
        long pid = strtol(digits, &end, 10);
        if (!*digits || *end || errno || pid <= 0 || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* that run is alive (or not ours to judge) */
        char full[4096 + 256];
        snprintf(full, sizeof full, "%s/%s", dir, n);
        struct stat sb;
        if (lstat(full, &sb) != 0 || !S_ISDIR(sb.st_mode))
            continue;
        int fd = pa_workdir_lock(full);
        if (fd < 0)
            continue; /* held: a run elsewhere is still working in it */
        pa_remove_tree(full);
        pa_workdir_unlock(fd);
        removed++;
    }
    closedir(d);
    return removed;
}
