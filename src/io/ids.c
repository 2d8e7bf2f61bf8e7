/* The files neighbour ids are exchanged in: .ivecs (int32 k, then k int32 ids per row; -1
 * marks a missing neighbour) and .npy (a 2-D uint64 array; Lance row addresses need 64 bits),
 * chosen by the file's extension. */
#include "common/common.h"
#include "io/npy.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writes n rows of k ids as .ivecs (int32 k, then k int32 ids) through pa_output. */
static pa_status ivecs_write(const char *path, const uint64_t *ids, uint64_t n, uint32_t k,
                             int replace)
{
    if (k == 0 || k > INT32_MAX)
        return pa_fail(PA_ERR_INVALID, "%s: k = %u cannot be written to .ivecs", path, k);
    pa_output *f = NULL;
    int32_t *row = NULL;
    pa_status st = pa_output_create(&f, path, replace);
    if (st != PA_OK)
        goto done;
    if (!(row = pa_malloc(sizeof(int32_t) * ((size_t)k + 1), "ivecs row"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    for (uint64_t i = 0; i < n; i++) {
        row[0] = (int32_t)k;
        for (uint32_t j = 0; j < k; j++) {
            uint64_t id = ids[i * k + j];
            if (id != UINT64_MAX && id > INT32_MAX) {
                st = pa_fail(PA_ERR_RANGE,
                             "%s: row %" PRIu64 " id %" PRIu64 " does not fit in "
                             "an int32 .ivecs entry; write .npy for 64-bit ids (a Lance "
                             "dataset's row addresses)",
                             path, i, id);
                goto done;
            }
            row[1 + j] = id == UINT64_MAX ? -1 : (int32_t)id;
        }
        if ((st = pa_output_write(f, row, sizeof(int32_t) * ((size_t)k + 1))) != PA_OK)
            goto done;
    }
    st = pa_output_commit(f);
done:
    free(row);
    pa_output_free(f); /* uncommitted: path is left as it was */
    return st;
}

pa_status pa_ivecs_write(const char *path, const uint64_t *ids, uint64_t n, uint32_t k)
{
    return ivecs_write(path, ids, n, k, 0);
}

/* Rows of .ivecs ids converted per read. */
#define IVECS_READ_ROWS 4096

/* Reads a whole .ivecs file into n x k ids, refusing ragged or truncated rows. k and the row
 * count are checked against the file's size before anything is allocated: the ids take at most
 * twice the file's bytes. */
pa_status pa_ivecs_read(const char *path, uint64_t **ids, uint64_t *n, uint32_t *k)
{
    *ids = NULL, *n = 0, *k = 0;
    int fd = -1;
    uint64_t size = 0, rows = 0, rec = 0;
    uint64_t *out = NULL;
    uint8_t *buf = NULL;
    int32_t kk = 0;
    uint8_t b4[4];
    pa_status st = pa_open_input(path, &fd, &size);
    if (st != PA_OK)
        goto done;
    if (size == 0) {
        st = pa_fail(PA_ERR_FORMAT, "%s: no rows", path);
        goto done;
    }
    if ((st = pa_pread_full(fd, b4, PA_MIN(size, (uint64_t)4), 0, path)) != PA_OK)
        goto done;
    kk = size >= 4 ? (int32_t)pa_ld32(b4) : 0;
    if (size < 4 || kk <= 0) {
        st = pa_fail(PA_ERR_FORMAT, "%s: row 0 has k = %d, expected a positive k", path, kk);
        goto done;
    }
    rec = 4 * ((uint64_t)kk + 1);
    if (size % rec) {
        st = pa_fail(PA_ERR_FORMAT,
                     "%s: %" PRIu64 " bytes is not a whole number of %" PRIu64
                     "-byte rows of k = %d: the row at byte offset %" PRIu64 " is truncated",
                     path, size, rec, kk, size / rec * rec);
        goto done;
    }
    rows = size / rec;
    const uint64_t chunk = PA_MAX((uint64_t)1, PA_MIN((uint64_t)IVECS_READ_ROWS, rows));
    if (!(out = pa_malloc((size_t)(rows * (uint64_t)kk * sizeof(uint64_t)), "ivecs ids")) ||
        !(buf = pa_malloc((size_t)(chunk * rec), "ivecs rows"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    for (uint64_t r0 = 0; r0 < rows; r0 += chunk) {
        const uint64_t nr = PA_MIN(chunk, rows - r0);
        if ((st = pa_pread_full(fd, buf, (size_t)(nr * rec), r0 * rec, path)) != PA_OK)
            goto done;
        for (uint64_t i = 0; i < nr; i++) {
            const uint8_t *row = buf + i * rec;
            int32_t rk = (int32_t)pa_ld32(row);
            if (rk != kk) {
                st = pa_fail(PA_ERR_FORMAT,
                             "%s: row %" PRIu64 " has k = %d, expected the same k "
                             "as row 0",
                             path, r0 + i, rk);
                goto done;
            }
            uint64_t *dst = out + (r0 + i) * (uint64_t)kk;
            for (int32_t j = 0; j < kk; j++) {
                int32_t v = (int32_t)pa_ld32(row + 4 + 4 * (size_t)j);
                dst[j] = v < 0 ? UINT64_MAX : (uint64_t)v;
            }
        }
    }
    *ids = out, *n = rows, *k = (uint32_t)kk;
    out = NULL;
done:
    if (fd >= 0)
        close(fd);
    free(out), free(buf);
    return st;
}

/* Whether path ends in ".npy". */
static bool is_npy(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && !strcmp(path + n - 4, ".npy");
}

/* Writes ids as a NumPy uint64 array of shape (n, k) (UINT64_MAX marks a missing neighbour);
 * a partial file is removed. */
static pa_status npy_ids_write(const char *path, const uint64_t *ids, uint64_t n, uint32_t k,
                               int replace)
{
    char hdr[512];
    size_t hl = pa_npy_header_2d(hdr, sizeof hdr, "<u8", n, k);
    if (!hl)
        return pa_fail(PA_ERR_INVALID,
                       "%s: shape (%" PRIu64 ", %u) does not fit an .npy "
                       "header",
                       path, n, k);
    pa_output *f = NULL;
    pa_status st = pa_output_create(&f, path, replace);
    if (st != PA_OK || (st = pa_output_write(f, hdr, hl)) != PA_OK ||
        (st = pa_output_write(f, ids, sizeof(uint64_t) * (size_t)(n * k))) != PA_OK)
        goto done;
    st = pa_output_commit(f);
done:
    pa_output_free(f); /* uncommitted: path is left as it was */
    return st;
}

/* Reads a NumPy array of neighbour ids: 2-D, C order, uint64 ('<u8'), int64 ('<i8') or int32
 * ('<i4'); a negative id (FAISS's -1) is a missing neighbour (UINT64_MAX). */
static pa_status npy_ids_read(const char *path, uint64_t **ids, uint64_t *n, uint32_t *k)
{
    int fd = -1;
    uint64_t fsize = 0;
    uint64_t *out = NULL;
    uint8_t *raw4 = NULL; /* int32 ids as read (8-byte ids are read into out itself) */
    pa_npy_header h;
    pa_status st = pa_open_input(path, &fd, &fsize);
    if (st != PA_OK)
        goto done;
    if ((st = pa_npy_read_header(fd, fsize, path, &h)) != PA_OK)
        goto done;
    const char *t = h.descr + 1; /* after the byte order, '<' or '>' (swapped) */
    const int width = h.descr[0] != '<' && h.descr[0] != '>' ? 0
                      : !strcmp(t, "u8") || !strcmp(t, "i8") ? 8
                      : !strcmp(t, "i4")                     ? 4
                                                             : 0;
    if (!width) {
        st = pa_fail(PA_ERR_UNSUPPORTED,
                     "%s: .npy dtype '%s' is not an id type (uint64 "
                     "'<u8', int64 '<i8' or int32 '<i4')",
                     path, h.descr);
        goto done;
    }
    if (h.fortran || h.ndim != 2) {
        st = pa_fail(PA_ERR_UNSUPPORTED,
                     "%s: neighbour ids must be a 2-D C-order array "
                     "(queries, k)",
                     path);
        goto done;
    }
    if (h.shape[0] == 0 || h.shape[1] == 0 || h.shape[1] > INT32_MAX) {
        st = pa_fail(PA_ERR_FORMAT, "%s: .npy shape (%llu, %llu) holds no neighbours", path,
                     h.shape[0], h.shape[1]);
        goto done;
    }
    uint64_t count = 0, need = 0;
    if (__builtin_mul_overflow((uint64_t)h.shape[0], (uint64_t)h.shape[1], &count) ||
        __builtin_mul_overflow(count, (uint64_t)width, &need)) {
        st = pa_fail(PA_ERR_FORMAT,
                     "%s: .npy shape (%llu, %llu) needs more bytes of data than "
                     "64 bits can count",
                     path, h.shape[0], h.shape[1]);
        goto done;
    }
    if (need > fsize - h.data_off) {
        st = pa_fail(PA_ERR_FORMAT,
                     "%s: .npy shape (%llu, %llu) needs %llu bytes of data after "
                     "the header, the file has %llu (truncated?)",
                     path, h.shape[0], h.shape[1], (unsigned long long)need,
                     (unsigned long long)(fsize - PA_MIN(h.data_off, fsize)));
        goto done;
    }
    out = pa_malloc(sizeof(uint64_t) * (size_t)count, "neighbour ids");
    if (width == 4)
        raw4 = pa_malloc((size_t)need, "neighbour ids");
    void *raw = width == 8 ? (void *)out : raw4;
    if (!out || !raw) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    if ((st = pa_pread_full(fd, raw, (size_t)need, h.data_off, path)) != PA_OK)
        goto done;
    const bool is_signed = h.descr[1] == 'i';
    for (uint64_t i = 0; i < count; i++) {
        uint64_t u = width == 4 ? pa_ld32((const uint8_t *)raw + 4 * i) : out[i];
        if (h.big_endian)
            u = width == 4 ? __builtin_bswap32((uint32_t)u) : __builtin_bswap64(u);
        int64_t v = width == 4 ? (int64_t)(int32_t)(uint32_t)u : (int64_t)u;
        out[i] = is_signed && v < 0 ? UINT64_MAX : (uint64_t)v;
    }
    *ids = out, *n = h.shape[0], *k = (uint32_t)h.shape[1];
    out = NULL; /* the caller's */
done:
    if (fd >= 0)
        close(fd);
    free(raw4), free(out);
    return st;
}

/* Neighbour ids by the file's extension: .npy (uint64) or .ivecs (int32). */
pa_status pa_ids_write_ex(const char *path, const uint64_t *ids, uint64_t n, uint32_t k,
                          int replace)
{
    if (k == 0)
        return pa_fail(PA_ERR_INVALID, "%s: k = 0", path);
    return is_npy(path) ? npy_ids_write(path, ids, n, k, replace)
                        : ivecs_write(path, ids, n, k, replace);
}

pa_status pa_ids_write(const char *path, const uint64_t *ids, uint64_t n, uint32_t k)
{
    return pa_ids_write_ex(path, ids, n, k, 0);
}

pa_status pa_ids_read(const char *path, uint64_t **ids, uint64_t *n, uint32_t *k)
{
    *ids = NULL, *n = 0, *k = 0;
    return is_npy(path) ? npy_ids_read(path, ids, n, k) : pa_ivecs_read(path, ids, n, k);
}
