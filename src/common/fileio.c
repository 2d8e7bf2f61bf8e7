/* Whole-buffer positioned I/O with errors that name the file and offset. */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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

pa_status pa_fsync_fd(int fd, const char *path)
{
    if (fsync(fd) != 0)
        return pa_fail(PA_ERR_IO, "%s: fsync failed: %s", path, strerror(errno));
    return PA_OK;
}

pa_status pa_fsync_dir_of(const char *path)
{
    char *dir = pa_strdup(path, "directory name");
    if (!dir)
        return PA_ERR_NOMEM;
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
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
