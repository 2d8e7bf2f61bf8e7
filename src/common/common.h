/* Internal helpers shared by every stage: error reporting, checked allocation, whole-buffer
 * positioned I/O and little-endian byte access. Not part of the public API. */
#ifndef PA_COMMON_H
#define PA_COMMON_H

#include "partifact.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PA_UNUSED(x) ((void)(x))
#define PA_MIN(a, b) ((a) < (b) ? (a) : (b))
#define PA_MAX(a, b) ((a) > (b) ? (a) : (b))

#if defined(__GNUC__)
#define PA_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define PA_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define PA_PRINTF(f, a)
#define PA_WARN_UNUSED
#endif

/* Records a formatted message as the calling thread's last error and returns status, so that
 * failing paths read: return pa_fail(PA_ERR_FORMAT, "%s: ...", path, ...); */
pa_status pa_fail(pa_status status, const char *fmt, ...) PA_PRINTF(2, 3);
pa_status pa_failv(pa_status status, const char *fmt, va_list ap);

/* Prefixes the current last-error message with a formatted context ("<ctx>: <old message>"),
 * keeping the status; used where a lower layer's message lacks the caller's context. */
pa_status pa_fail_prefix(pa_status status, const char *fmt, ...) PA_PRINTF(2, 3);

/* Clears the thread's last error. */
void pa_clear_error(void);

/* Allocation that records PA_ERR_NOMEM with what was being allocated. */
void *pa_malloc(size_t n, const char *what);
void *pa_calloc(size_t count, size_t size, const char *what);
void *pa_realloc(void *p, size_t n, const char *what);
char *pa_strdup(const char *s, const char *what);
/* Overflow-checked count*size; false on overflow. */
bool pa_mul_ok(size_t count, size_t size, size_t *out);

/* Positioned read of exactly len bytes at off. A short read (end of file) is PA_ERR_FORMAT
 * naming the path, offset and lengths; an OS error is PA_ERR_IO. */
pa_status pa_pread_full(int fd, void *buf, size_t len, uint64_t off, const char *path);
/* Positioned / appending write of exactly len bytes; errors are PA_ERR_IO naming the path. */
pa_status pa_pwrite_full(int fd, const void *buf, size_t len, uint64_t off, const char *path);
/* File size via fstat. */
pa_status pa_file_size(int fd, const char *path, uint64_t *size);
/* Opens path read-only as an input file: anything but a regular file (a FIFO, a device, a
 * socket, a directory) is refused with PA_ERR_INVALID naming what it is, before any read (a
 * FIFO would block). Sets *fd and *size (the file's size). Every reader of input files opens
 * them with this. */
pa_status pa_open_input(const char *path, int *fd, uint64_t *size);
/* fsync the file, then (if dir_of is not NULL) fsync the directory containing it. */
pa_status pa_fsync_fd(int fd, const char *path);
pa_status pa_fsync_dir_of(const char *path);

/* Drops path's trailing slashes in place ("a/b/" -> "a/b"; "/" stays "/"). */
void pa_trim_slashes(char *path);
/* The directory holding path's last component, into buf: "a/b/" -> "a", "b" -> ".",
 * "/b" -> "/". */
void pa_parent_dir(const char *path, char *buf, size_t len);

/* Little-endian loads and stores (unaligned-safe). */
static inline uint16_t pa_ld16(const void *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t pa_ld32(const void *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t pa_ld64(const void *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline void pa_st16(void *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void pa_st32(void *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void pa_st64(void *p, uint64_t v) { memcpy(p, &v, 8); }

static inline uint64_t pa_align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

/* Removes dir and everything under it (no links followed); best effort, for cleaning up work
 * that did not complete. */
void pa_remove_tree(const char *dir);

/* Work directories of a run (INDEX.partial-<pid>, INDEX.build-<pid>) are locked for the run's
 * life: pa_workdir_lock takes an exclusive flock on the directory and returns the descriptor
 * holding it (-1 if it cannot; the run still works, only unprotected), pa_workdir_unlock
 * releases it. */
int pa_workdir_lock(const char *dir);
void pa_workdir_unlock(int fd);

/* Removes what killed runs left beside path: directories named <path><tag><pid> whose pid is
 * not a running process here and whose lock no one holds. Best effort (a leftover is untidy,
 * not wrong); returns how many were removed. */
unsigned pa_remove_orphans(const char *path, const char *tag);

/* Seconds on the monotonic clock, for the timings in stats. */
double pa_now_seconds(void);

/* The base name of a path (the part after the last '/'), for error messages. */
const char *pa_basename(const char *path);

#endif
