/* Internal helpers shared by every stage: error reporting, checked allocation, whole-buffer
 * positioned I/O and little-endian byte access. Not part of the public API. */
#ifndef PA_COMMON_H
#define PA_COMMON_H

#include "partifact.h"
#include "partifact_backend.h" /* pa_backend_model: the model arrays every room passes */

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PA_UNUSED(x) ((void)(x))

/* The largest squared norm a vector may have, wherever vectors enter (inputs, queries, training
 * rows, a model's centroids): every distance partifact computes in float between such vectors,
 * centroids and codewords (sgemm's ||x||^2 + ||c||^2 - 2 <x, c>, residuals up to twice a
 * vector's norm, the ADC table's terms) stays below 16 times it, a quarter of FLT_MAX, so it is
 * never an overflow to +inf ranked as if it were a distance. A norm of about 2.3e18; larger rows
 * are refused naming the row, or skipped and counted as invalid (skip_invalid). */
#define PA_MAX_SQ_NORM (3.40282346638528859812e38 / 64)

#define PA_MIN(a, b) ((a) < (b) ? (a) : (b))
#define PA_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Bytes of n rows held as row ids (u64) and M-byte codes: a partition in memory (the artifact
 * scan's slots, the index writer's input and output, search's partition cache). */
static inline uint64_t pa_ids_codes_bytes(uint64_t n, uint64_t M) { return n * (8 + M); }

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
/* pa_fail that also records the option field(s) the failure concerns (pa_last_error_field;
 * a string literal, one name or several separated by commas, each named in the message) and
 * the errno of the failed system call (pa_last_error_errno; 0: none). pa_fail_prefix keeps
 * both; pa_fail clears them. */
pa_status pa_fail_with(pa_status status, const char *field, int err, const char *fmt, ...)
    PA_PRINTF(4, 5);
/* The option field(s) a failure concerns: pa_fail_field(PA_ERR_BUDGET, "memory_bytes", ...). */
#define pa_fail_field(status, field, ...) pa_fail_with((status), (field), 0, __VA_ARGS__)
/* An I/O failure with its errno, where it says what the path is (ENOENT: it names nothing). */
#define pa_fail_errno(err, ...) pa_fail_with(PA_ERR_IO, NULL, (err), __VA_ARGS__)

/* A writer's check before the call op: once it has ended (ended: closed, committed, finished,
 * by the call end_op) or once a call failed (failed), PA_ERR_STATE "<name>: <op> after <end_op>"
 * or "<name>: <op> after an earlier failure"; PA_OK otherwise. */
pa_status pa_writer_state(const char *name, const char *op, bool ended, const char *end_op,
                          bool failed);

/* Prefixes the current last-error message with a formatted context ("<ctx>: <old message>"),
 * keeping the status; used where a lower layer's message lacks the caller's context. */
pa_status pa_fail_prefix(pa_status status, const char *fmt, ...) PA_PRINTF(2, 3);

/* ---- versioned structs (opts.c) ----
 * Every public options and stats struct starts with size_t struct_size (partifact.h,
 * "Versioned structs"). pa_opts_load reads a caller's options: dst (the library's struct,
 * size bytes) gets defaults, then the first struct_size bytes of src (NULL: defaults only);
 * a struct_size below PA_STRUCT_SIZE_MIN is PA_ERR_INVALID, and one above size whose extra
 * bytes are not zero PA_ERR_UNSUPPORTED, both naming the struct. dst->struct_size is size. */
pa_status pa_opts_load(void *dst, size_t size, const void *src, const void *defaults,
                       const char *name);
/* pa_x_options_init: the defaults for the first struct_size bytes of o. */
pa_status pa_opts_init(void *o, size_t struct_size, const void *defaults, size_t size,
                       const char *name);
/* A caller's stats struct before the work: NULL or a struct_size of at least
 * PA_STRUCT_SIZE_MIN, else PA_ERR_INVALID naming it. */
pa_status pa_stats_check(const void *stats, const char *name);
/* An info or stats getter's arguments: out checked as pa_stats_check does, then the handle obj
 * and out both given, else PA_ERR_INVALID "<needs>, and an output are needed" (needs names the
 * getter and its handle: "index info: an index"). */
pa_status pa_info_args(const void *obj, const void *out, const char *name, const char *needs);
/* Writes the library's stats src (size bytes) into the caller's dst (NULL: nothing), only up
 * to dst's struct_size, which is kept. */
void pa_stats_store(void *dst, const void *src, size_t size);

/* The options struct of type T named p (NULL: defaults) into the local T named dst, with
 * T's INIT macro as the defaults: PA_LOAD_OPTS(pa_build_options, o, opts, PA_BUILD_OPTIONS_INIT)
 * returns from the calling function on a bad struct_size. */
#define PA_LOAD_OPTS(T, dst, p, INIT)                                                    \
    T dst;                                                                               \
    do {                                                                                 \
        static const T dst##_defaults_ = INIT;                                           \
        pa_status dst##_st_ = pa_opts_load(&dst, sizeof dst, (p), &dst##_defaults_, #T); \
        if (dst##_st_ != PA_OK)                                                          \
            return dst##_st_;                                                            \
    } while (0)
/* Defines pa_x_init(T *o, size_t struct_size) for an options struct T. */
#define PA_DEFINE_OPTS_INIT(fn, T, INIT)                                     \
    pa_status fn(T *o, size_t struct_size)                                   \
    {                                                                        \
        static const T defaults = INIT;                                      \
        return pa_opts_init(o, struct_size, &defaults, sizeof defaults, #T); \
    }

/* Clears the thread's last error. */
void pa_clear_error(void);

/* Allocation that records PA_ERR_NOMEM with what was being allocated. */
void *pa_malloc(size_t n, const char *what);
void *pa_calloc(size_t count, size_t size, const char *what);
void *pa_realloc(void *p, size_t n, const char *what);
/* pa_malloc of a buffer the caller writes in full (a training sample, an encode batch): from
 * PA_DENSE_ALLOC_BYTES on, its whole 2 MiB extents are asked to be backed by transparent huge
 * pages (madvise, a hint), one page fault for 2 MiB instead of 512. */
#define PA_DENSE_ALLOC_BYTES ((size_t)4 << 20)
void *pa_malloc_dense(size_t n, const char *what);
/* The transparent huge page (x86-64's 2 MiB) that pa_advise_huge asks for. */
#define PA_HUGE_PAGE_BYTES ((size_t)2 << 20)
/* Asks (madvise MADV_HUGEPAGE, a hint: a refusal leaves 4 KiB pages) for huge pages over the
 * whole PA_HUGE_PAGE_BYTES extents of [p, p + n), where the system offers them on request. */
void pa_advise_huge(void *p, size_t n);
char *pa_strdup(const char *s, const char *what);
/* Grows the array *array points to (a pointer variable of any object type) from *cap elements
 * of elem bytes to twice as many (first when *cap is 0); false (PA_ERR_NOMEM recorded, the array
 * as it was) if that does not fit. */
bool pa_grow(void *array, size_t *cap, size_t elem, size_t first, const char *what);
/* Overflow-checked count*size; false on overflow. */
bool pa_mul_ok(size_t count, size_t size, size_t *out);
/* name as files spell a metric (pa_metric_name's strings, no aliases) into *out; false if it
 * is not one. pa_metric_parse also takes the aliases callers type. */
bool pa_metric_canonical(const char *name, pa_metric *out);

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
/* Copies the regular file src to dst, a new file (O_EXCL | O_NOFOLLOW, 0644), and fsyncs it;
 * *size (may be NULL) gets src's bytes. */
pa_status pa_copy_file(const char *src, const char *dst, uint64_t *size);
/* fsync the file, then (if dir_of is not NULL) fsync the directory containing it. */
pa_status pa_fsync_fd(int fd, const char *path);
pa_status pa_fsync_dir_of(const char *path);

/* Drops path's trailing slashes in place ("a/b/" -> "a/b"; "/" stays "/"). */
void pa_trim_slashes(char *path);
/* A malloc'd "<a><b><c>" (path building; NULL, with the message set, when out of memory). */
char *pa_path_join(const char *a, const char *b, const char *c);
/* The directory holding path's last component, into buf: "a/b/" -> "a", "b" -> ".",
 * "/b" -> "/". */
void pa_parent_dir(const char *path, char *buf, size_t len);

/* Little-endian loads and stores (unaligned-safe). */
static inline uint16_t pa_ld16(const void *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}
static inline uint32_t pa_ld32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static inline uint64_t pa_ld64(const void *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
static inline void pa_st16(void *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void pa_st32(void *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void pa_st64(void *p, uint64_t v) { memcpy(p, &v, 8); }

static inline uint64_t pa_align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

/* Removes dir and everything under it (no links followed); best effort, for cleaning up work
 * that did not complete. */
void pa_remove_tree(const char *dir);

/* ---- outputs (fileio.c) ----
 * Every file partifact writes for the user is written under a temporary name beside it,
 * created with O_CREAT | O_EXCL | O_NOFOLLOW (0644, less the umask), fsynced, and renamed into
 * place, then its directory fsynced. An existing output is refused unless replace is asked
 * for, and then replaced by the rename; a symbolic link or a non-regular file in its place is
 * always refused. On any failure the previous file is untouched and the temporary file gone. */
#define PA_TMP_TAG ".partifact-tmp-"
typedef struct pa_out_file {
    char *path; /* the output */
    char *tmp;  /* the temporary file beside it */
    int fd;     /* open on tmp for writing */
    bool replace;
    bool publish;   /* set before commit: once renamed into place the file stays even when the
                     * directory fsync then fails (a Lance version others may already read);
                     * that failure is still returned */
    bool published; /* set by commit: the file was renamed into place */
} pa_out_file;

/* PA_OK when path may be written: absent, or (replace) a regular file, or for a directory
 * output (dir_kind not NULL) a directory holding the regular file dir_kind (manifest.json for
 * an artifact, index.idx for an index: any other directory is never replaced). PA_ERR_EXISTS
 * for an existing one without replace. */
pa_status pa_output_refuse(const char *path, bool replace, const char *dir_kind);
/* Checks path, removes the temporary files killed runs left beside it, creates the temporary
 * file (o->fd). */
pa_status pa_out_open(pa_out_file *o, const char *path, bool replace);
/* fsync, close, rename into place, fsync the directory; frees o (success or not). */
pa_status pa_out_commit(pa_out_file *o);
/* Closes and removes the temporary file; frees o. Safe after commit and on a zeroed o. */
void pa_out_abort(pa_out_file *o);
/* Removes every temporary file of pa_out_open that killed runs left in dir (for a directory
 * of many outputs, such as a table's _versions; pa_out_open removes those of its own path). */
void pa_out_remove_stale(const char *dir);
/* A small file written whole: pa_out_open, len bytes, pa_out_commit. */
pa_status pa_out_write_file(const char *path, const void *data, size_t len, bool replace);

/* A directory several runs share and none owns (a Lance table's _indices, _transactions):
 * made if absent (and its parent fsynced), else it must be a directory, not a link. What goes
 * in it is written with the primitives above. */
pa_status pa_shared_dir(const char *path);

/* Directories a run makes (work directories, an output directory being built) hold a marker
 * file, PA_WORK_MARKER with PA_WORK_MARKER_TEXT, locked (flock) for the run's life. A directory
 * without it is never written into or removed; one whose marker no one holds is a killed run's
 * and is removed by the next run (whatever its pid). */
#define PA_WORK_MARKER ".partifact-work"
#define PA_WORK_MARKER_TEXT "partifact work directory; removed by the next run once unlocked\n"
typedef struct pa_workdir {
    char *path;  /* <prefix>XXXXXX, or the exact path */
    int lock_fd; /* the marker, locked */
} pa_workdir;
/* Creates <prefix>XXXXXX (6 random letters or digits; a new directory, never an existing
 * one), or with exact prefix itself (PA_ERR_INVALID if it exists), with its locked marker. */
pa_status pa_workdir_create(pa_workdir *w, const char *prefix, bool exact);
/* Removes the directory and everything in it, and releases it. */
void pa_workdir_remove(pa_workdir *w);
/* Keeps the directory for the user: its marker is removed, so no run removes it. */
void pa_workdir_keep(pa_workdir *w);
/* Releases the lock and frees the name (the directory stays, stale for the next run). */
void pa_workdir_release(pa_workdir *w);

/* Removes what killed runs left beside path: directories named <path><tag>* holding a
 * partifact marker whose lock no one holds, and empty ones named as pa_workdir_create names
 * them (<path><tag> and 6 letters or digits: a run killed before its marker appeared; rmdir
 * removes only an empty one). Best effort; returns how many were removed. */
unsigned pa_remove_orphans(const char *path, const char *tag);

/* An output directory: built in <path>.partial-XXXXXX/new (o->dir), renamed into place by
 * commit (replace: swapped with the old one in one renameat2 RENAME_EXCHANGE where the file
 * system has it, the old one then removed with the work directory). A crash at any point
 * leaves the old or the new one complete at path, and a work directory the next run removes. */
#define PA_PARTIAL_TAG ".partial-"
#define PA_OUT_DIR_NAME "new"
typedef struct pa_out_dir {
    char *path;       /* the output */
    char *dir;        /* where the new one is written */
    const char *kind; /* the file an output of this kind holds (see pa_output_refuse) */
    pa_workdir work;
    bool replace, committed;
} pa_out_dir;
pa_status pa_out_dir_open(pa_out_dir *o, const char *path, bool replace, const char *kind);
/* fsyncs the new directory, renames it into place, fsyncs the parent; frees o. */
pa_status pa_out_dir_commit(pa_out_dir *o);
/* Removes the work directory (and so the new output if not committed); frees o. */
void pa_out_dir_abort(pa_out_dir *o);
/* Makes the new directory o->dir/name inside the output being built (its entries are the
 * caller's to fsync, before anything names them; the commit fsyncs o->dir itself). */
pa_status pa_out_dir_mkdir(const pa_out_dir *o, const char *name);

/* XXH64 (seed 0) of a whole file, streamed in 1 MiB reads (hash.c); the bytes read are added
 * to *bytes if not NULL. */
pa_status pa_file_xxh64(const char *path, uint64_t *hash, uint64_t *bytes);

/* Seconds on the monotonic clock, for the timings in stats. */
double pa_now_seconds(void);

/* Whether this process can run AMX-BF16 tiles (cpu.c): the CPU has AMX-TILE, AMX-BF16,
 * AVX-512F and AVX512-BF16, the OS enables the tile state (XCR0) and granted this process the
 * tile-data permission (asked once, arch_prctl ARCH_REQ_XCOMP_PERM). pa_cpu_amx_reason: why
 * not, one phrase ("" when usable). */
bool pa_cpu_amx_usable(void);
const char *pa_cpu_amx_reason(void);
/* Whether this process can run AVX512-BF16 (VDPBF16PS): the CPU has AVX-512F and AVX512-BF16
 * and the OS saves the AVX-512 state (cpu.c). */
bool pa_cpu_bf16_usable(void);
/* A rate measurement's checks (cpu.c): gflops not NULL, n in [lo, hi]; the messages name fn. */
pa_status pa_rate_args(const char *fn, uint32_t n, uint32_t lo, uint32_t hi, const double *gflops);
/* The fastest of runs calls of run(ctx) after one warm-up call, in seconds (cpu.c). */
double pa_time_best(void (*run)(void *ctx), void *ctx, int runs);

/* The base name of a path (the part after the last '/'), for error messages. */
const char *pa_basename(const char *path);

#endif
