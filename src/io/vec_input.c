/* Vector inputs: .fvecs .bvecs .ivecs .npy files and Lance datasets, streamed as float32.
 *
 * Every format is read in batches with positioned reads (memory: one batch), so inputs far
 * larger than memory stream through. Random rows can be read for training samples. Every value
 * is checked finite: a NaN or infinity is an error naming the row, or (skip_invalid) the row is
 * skipped and counted.
 *
 *   .fvecs / .ivecs: records of (int32 dim, dim x float32 / int32), little-endian
 *   .bvecs:          records of (int32 dim, dim x uint8)
 *   .npy:            NumPy 1.0/2.0/3.0 header, 2-D, C order, dtype f4, f2 (either byte
 *                    order) or u1
 *   directory:       a Lance dataset; the vector column is the one named, or the only
 *                    fixed_size_list<float|uint8> column; row ids are row addresses */
#include "common/common.h"
#include "common/vecmath.h"
#include "io/io_internal.h"
#include "io/npy.h"
#include "lance/lance_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* A file input reads at most this many bytes of records at once (at least one record). */
#define FILE_READ_BYTES ((uint64_t)8 << 20)
/* A file batch is read and converted on all cores from twice this many records. */
#define FILE_PARALLEL_ROWS 1024
/* Rows read by ordinal (a training sample, sorted) whose records are at most this many bytes
 * apart are read by one positioned read with the records between them: a syscall costs about
 * as much as copying this many bytes from the page cache, and a disk reads on ahead. */
#define RUN_GAP_BYTES ((uint64_t)16 << 10)
/* ... into a buffer of this many bytes a thread (or one record, if larger). */
#define RUN_READ_BYTES ((uint64_t)1 << 20)
/* A dataset scan reads batches of at most this many rows. */
#define SCAN_MAX_ROWS 65536

typedef enum fmt { FMT_FVECS, FMT_BVECS, FMT_IVECS, FMT_NPY, FMT_DATASET } fmt;
typedef enum elem { EL_F32, EL_F16, EL_U8, EL_I32, EL_F64 } elem;

struct pa_vec_input {
    char *path;
    fmt format;
    elem el;
    uint32_t dim;
    uint64_t rows;
    int fd;
    uint64_t data_off;  /* first record (files) */
    uint64_t rec_bytes; /* bytes per record incl. the dim prefix for *vecs */
    uint64_t next;      /* next row ordinal to stream */
    uint64_t sel_begin,
        sel_end; /* files: the rows streamed (row_begin, row_end); datasets: 0, rows */
    bool skip_invalid;
    bool swap; /* big-endian .npy data: bytes swapped on conversion */
    uint64_t skipped;
    uint8_t *raw; /* batch of raw records */
    size_t raw_cap;
    /* datasets */
    pa_dataset *ds;
    pa_dataset_scan *scan;
    char *column;
    const uint8_t *pend_vals; /* rows of the last scan batch not yet handed out */
    const uint64_t *pend_addrs;
    size_t pend_n;
    /* files, after pa_vec_input_concurrent_reads: the records mapped read-only (NULL: not) */
    const uint8_t *map;
    size_t map_len;
};

/* Half-precision to single-precision conversion (IEEE 754 binary16). */
static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1F, man = h & 0x3FF, bits;
    if (exp == 0) {
        if (man == 0)
            bits = sign;
        else { /* subnormal: renormalise */
            int e = -1;
            do {
                e++;
                man <<= 1;
            } while (!(man & 0x400));
            bits = sign | (uint32_t)(127 - 15 - e) << 23 | (man & 0x3FF) << 13;
        }
    } else if (exp == 31) {
        bits = sign | 0x7F800000u | man << 13;
    } else {
        bits = sign | (exp + 127 - 15) << 23 | man << 13;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Element size in bytes. */
static size_t el_bytes(elem e)
{
    return e == EL_F64 ? 8 : e == EL_F32 || e == EL_I32 ? 4 : e == EL_F16 ? 2 : 1;
}

/* The element type of a dataset's vector column type; false if it is not one. */
static bool vector_elem(pa_type t, elem *e)
{
    switch (t) {
    case PA_TYPE_FSL_FLOAT32: *e = EL_F32; return true;
    case PA_TYPE_FSL_FLOAT16: *e = EL_F16; return true;
    case PA_TYPE_FSL_FLOAT64: *e = EL_F64; return true;
    case PA_TYPE_FSL_UINT8: *e = EL_U8; return true;
    default: return false;
    }
}

/* The dataset column type of an element type. */
static pa_type elem_type(elem e)
{
    return e == EL_F16   ? PA_TYPE_FSL_FLOAT16
           : e == EL_F64 ? PA_TYPE_FSL_FLOAT64
           : e == EL_U8  ? PA_TYPE_FSL_UINT8
                         : PA_TYPE_FSL_FLOAT32;
}

/* Opens an .npy of vectors: a 2-D C-order array of a dtype partifact reads. */
static pa_status open_npy(pa_vec_input *in, uint64_t size)
{
    pa_npy_header hd;
    pa_status st = pa_npy_read_header(in->fd, size, in->path, &hd);
    if (st != PA_OK)
        return st;
    const char *descr = hd.descr;
    const unsigned long long r = hd.shape[0], c = hd.shape[1];
    if (hd.fortran)
        return pa_fail(PA_ERR_UNSUPPORTED,
                       "%s: .npy array is in Fortran order; partifact reads "
                       "C-order arrays (numpy.ascontiguousarray)",
                       in->path);
    if (hd.ndim != 2)
        return pa_fail(PA_ERR_UNSUPPORTED, "%s: .npy array must be 2-D (rows, dimension)",
                       in->path);
    /* the header normalised the byte order: '<' or '>' (swapped on reading), '|' one byte */
    const bool le_or_be = descr[0] == '<' || descr[0] == '>';
    if (le_or_be && !strcmp(descr + 1, "f4"))
        in->el = EL_F32;
    else if (le_or_be && !strcmp(descr + 1, "f2"))
        in->el = EL_F16;
    else if (!strcmp(descr, "|u1"))
        in->el = EL_U8;
    else
        return pa_fail(PA_ERR_UNSUPPORTED,
                       "%s: .npy dtype '%s' is not supported (float32 '<f4', "
                       "float16 '<f2' or uint8 '|u1')",
                       in->path, descr);
    if (c == 0 || c > PA_MAX_DIM)
        return pa_fail(PA_ERR_FORMAT, "%s: .npy dimension %llu is not in 1..%u", in->path, c,
                       PA_MAX_DIM);
    in->dim = (uint32_t)c;
    in->rows = r;
    in->swap = hd.big_endian;
    in->data_off = hd.data_off;
    in->rec_bytes = (uint64_t)c * el_bytes(in->el);
    uint64_t need;
    if (__builtin_mul_overflow((uint64_t)r, in->rec_bytes, &need))
        return pa_fail(PA_ERR_FORMAT,
                       "%s: .npy shape (%llu, %llu) needs more bytes of data than "
                       "64 bits can count",
                       in->path, r, c);
    if (need > size - in->data_off)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: .npy shape (%llu, %llu) needs %llu bytes of data "
                       "after the header, the file has %llu (truncated?)",
                       in->path, r, c, (unsigned long long)r * in->rec_bytes,
                       (unsigned long long)(size - in->data_off));
    return PA_OK;
}

/* Reads the first record's dimension and checks the size is a whole number of records. */
static pa_status open_vecs(pa_vec_input *in, uint64_t size)
{
    if (size == 0)
        return pa_fail(PA_ERR_FORMAT, "%s: empty file", in->path);
    uint8_t b[4];
    pa_status st = pa_pread_full(in->fd, b, 4, 0, in->path);
    if (st != PA_OK)
        return st;
    int32_t d = (int32_t)pa_ld32(b);
    if (d <= 0 || (uint32_t)d > PA_MAX_DIM)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: record 0 at byte offset 0 has dimension %d, expected "
                       "1..%u",
                       in->path, d, PA_MAX_DIM);
    in->dim = (uint32_t)d;
    in->rec_bytes = 4 + (uint64_t)d * el_bytes(in->el);
    if (size % in->rec_bytes)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: %" PRIu64 " bytes is not a whole number of %" PRIu64
                       "-byte records of dimension %u: the record at byte offset %" PRIu64
                       " is truncated",
                       in->path, size, in->rec_bytes, in->dim,
                       size / in->rec_bytes * in->rec_bytes);
    in->rows = size / in->rec_bytes;
    in->data_off = 0;
    return PA_OK;
}

/* Opens a dataset's vector column: the one named, or the only one (else the candidates are
 * listed). */
static pa_status open_dataset(pa_vec_input *in, const char *column, uint64_t version)
{
    pa_status st = pa_dataset_open_version(&in->ds, in->path, version);
    if (st != PA_OK)
        return st;
    const char *pick = NULL;
    size_t candidates = 0;
    char names[1024] = "";
    size_t nl = 0;
    for (size_t i = 0; i < pa_dataset_num_fields(in->ds); i++) {
        pa_field f;
        pa_dataset_field(in->ds, i, &f);
        elem e;
        bool vec = vector_elem(f.type, &e);
        if (column ? strcmp(f.name, column) != 0 : !vec)
            continue;
        if (!vec)
            return pa_fail(PA_ERR_INVALID,
                           "%s: column \"%s\" is of type \"%s\", not a vector "
                           "column (a fixed_size_list of float, halffloat, double or uint8)",
                           in->path, f.name, pa_dataset_field_type(in->ds, i));
        candidates++;
        pick = f.name;
        in->dim = f.dim;
        in->el = e;
        int w = snprintf(names + nl, sizeof names - nl, "%s\"%s\"", nl ? ", " : "", f.name);
        if (w > 0)
            nl = PA_MIN(nl + (size_t)w, sizeof names - 1);
    }
    if (candidates == 0 && column) {
        char all[1024] = "";
        size_t al = 0;
        for (size_t i = 0; i < pa_dataset_num_fields(in->ds); i++) {
            pa_field f;
            pa_dataset_field(in->ds, i, &f);
            int w = snprintf(all + al, sizeof all - al, "%s\"%s\"", al ? ", " : "", f.name);
            if (w > 0)
                al = PA_MIN(al + (size_t)w, sizeof all - 1);
        }
        return pa_fail(PA_ERR_INVALID, "%s: no column named \"%s\" (the table has %s)", in->path,
                       column, all);
    }
    if (candidates == 0)
        return pa_fail(PA_ERR_INVALID,
                       "%s: no vector column (a fixed_size_list of float, "
                       "halffloat, double or uint8)",
                       in->path);
    if (candidates > 1)
        return pa_fail_field(PA_ERR_INVALID, "column",
                             "%s: %zu vector columns (%s); set "
                             "column to the one to read",
                             in->path, candidates, names);
    if (!(in->column = pa_strdup(pick, "column name")))
        return PA_ERR_NOMEM;
    in->rows = pa_dataset_num_rows(in->ds);
    in->rec_bytes = (uint64_t)in->dim * el_bytes(in->el);
    return PA_OK; /* the scan is made by the first batch, sized from it */
}

/* Applies the options' selection (a dataset's fragments, a file's row range) to an input
 * just opened. */
static pa_status select_rows(pa_vec_input *in, const pa_vec_input_options *o)
{
    bool ranged = o->row_begin || o->row_end;
    if (in->format == FMT_DATASET) {
        if (ranged)
            return pa_fail_field(PA_ERR_INVALID, "row_begin",
                                 "%s: a Lance table is split by fragments, not by a row range",
                                 in->path);
        if (o->num_fragments || o->fragments) {
            if (!o->fragments || !o->num_fragments)
                return pa_fail_field(PA_ERR_INVALID, "fragments",
                                     "%s: an empty list of fragments selects no rows", in->path);
            pa_status st = pa_dataset_select_fragments(in->ds, o->fragments, o->num_fragments);
            if (st != PA_OK)
                return st;
            in->rows = pa_dataset_num_rows(in->ds);
        }
        in->sel_begin = 0, in->sel_end = in->rows;
        return PA_OK;
    }
    if (o->num_fragments || o->fragments)
        return pa_fail_field(PA_ERR_INVALID, "fragments",
                             "%s: fragments select rows of a Lance table; a file is split by a "
                             "row range",
                             in->path);
    in->sel_begin = 0, in->sel_end = in->rows;
    if (!ranged)
        return PA_OK;
    if (o->row_begin >= o->row_end)
        return pa_fail_field(PA_ERR_INVALID, "row_end",
                             "%s: the row range [%" PRIu64 ", %" PRIu64 ") is empty", in->path,
                             o->row_begin, o->row_end);
    if (o->row_end > in->rows)
        return pa_fail_field(PA_ERR_RANGE, "row_end",
                             "%s: the row range [%" PRIu64 ", %" PRIu64
                             ") ends past the file's %" PRIu64 " rows",
                             in->path, o->row_begin, o->row_end, in->rows);
    in->sel_begin = in->next = o->row_begin, in->sel_end = o->row_end;
    return PA_OK;
}

pa_status pa_vec_input_open(pa_vec_input **out, const char *path,
                            const pa_vec_input_options *opts_in)
{
    *out = NULL;
    PA_LOAD_OPTS(pa_vec_input_options, o, opts_in, PA_VEC_INPUT_OPTIONS_INIT);
    const pa_vec_input_options *opts = &o;
    pa_status st = PA_OK;
    pa_vec_input *in = pa_calloc(1, sizeof *in, "vector input");
    if (!in)
        return PA_ERR_NOMEM;
    in->fd = -1;
    in->skip_invalid = opts && opts->skip_invalid;
    if (!(in->path = pa_strdup(path, "input path"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    struct stat sb;
    if (stat(path, &sb) != 0) {
        st = pa_fail_errno(errno, "%s: cannot open: %s", path, strerror(errno));
        goto done;
    }
    if (S_ISDIR(sb.st_mode)) {
        in->format = FMT_DATASET;
        st = open_dataset(in, opts ? opts->column : NULL, opts ? opts->version : 0);
        goto done;
    }
    const char *ext = strrchr(path, '.');
    ext = ext ? ext + 1 : "";
    if (!strcmp(ext, "fvecs")) {
        in->format = FMT_FVECS, in->el = EL_F32;
    } else if (!strcmp(ext, "bvecs")) {
        in->format = FMT_BVECS, in->el = EL_U8;
    } else if (!strcmp(ext, "ivecs")) {
        in->format = FMT_IVECS, in->el = EL_I32;
    } else if (!strcmp(ext, "npy")) {
        in->format = FMT_NPY;
    } else {
        st = pa_fail(PA_ERR_UNSUPPORTED,
                     "%s: unknown input format \".%s\" (expected .fvecs, "
                     ".bvecs, .ivecs, .npy or a Lance dataset directory)",
                     path, ext);
        goto done;
    }
    uint64_t size = 0;
    if ((st = pa_open_input(path, &in->fd, &size)) != PA_OK)
        goto done;
    st = in->format == FMT_NPY ? open_npy(in, size) : open_vecs(in, size);
done:
    if (st == PA_OK)
        st = select_rows(in, opts);
    if (st != PA_OK) {
        pa_vec_input_free(in);
        return st;
    }
    *out = in;
    return PA_OK;
}

bool pa_vec_input_concurrent_reads(pa_vec_input *in)
{
    if (in->map)
        return true;
    if (in->format == FMT_DATASET || in->fd < 0)
        return false;
    const uint64_t end = in->data_off + in->rows * in->rec_bytes; /* open_* checked the size */
    if (end == 0 || end > SIZE_MAX)
        return false;
    void *m = mmap(NULL, (size_t)end, PROT_READ, MAP_SHARED, in->fd, 0);
    if (m == MAP_FAILED)
        return false; /* reads stay serial, by pread */
    in->map = m, in->map_len = (size_t)end;
    return true;
}

bool pa_vec_input_mapped_f32(const pa_vec_input *in, const uint8_t **base, uint64_t *stride,
                             uint64_t *rows, bool *prefixed)
{
    const uint64_t skip = in->format == FMT_FVECS ? 4 : 0; /* the record's dimension */
    if (!in->map || in->el != EL_F32 || in->swap ||
        (in->format != FMT_FVECS && in->format != FMT_NPY) ||
        __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__ || (in->data_off + skip) % 4 || in->rec_bytes % 4)
        return false;
    *base = in->map + in->data_off + skip, *stride = in->rec_bytes, *rows = in->rows;
    *prefixed = skip != 0;
    return true;
}

uint32_t pa_vec_input_dim(const pa_vec_input *in) { return in->dim; }
uint64_t pa_vec_input_num_rows(const pa_vec_input *in) { return in->sel_end - in->sel_begin; }
uint64_t pa_vec_input_skipped(const pa_vec_input *in) { return in->skipped; }
uint64_t pa_vec_input_nulls(const pa_vec_input *in)
{
    return in->scan ? pa_dataset_scan_nulls(in->scan) : 0;
}

void pa_vec_input_free(pa_vec_input *in)
{
    if (!in)
        return;
    if (in->map)
        munmap((void *)in->map, in->map_len);
    if (in->fd >= 0)
        close(in->fd);
    pa_dataset_scan_free(in->scan);
    pa_dataset_free(in->ds);
    free(in->column), free(in->raw), free(in->path);
    free(in);
}

/* Records a file input reads at once for a batch of at most max rows. */
static uint64_t file_read_rows(const pa_vec_input *in, size_t max)
{
    return PA_MIN((uint64_t)max, PA_MAX((uint64_t)1, FILE_READ_BYTES / in->rec_bytes));
}

/* Rows of a dataset scan's batch for batches of at most max rows. */
static size_t scan_rows(size_t max) { return PA_MIN(max, (size_t)SCAN_MAX_ROWS); }

uint64_t pa_vec_input_batch_bytes(const pa_vec_input *in, size_t max_rows)
{
    if (max_rows == 0)
        return 0;
    if (in->format == FMT_DATASET)
        return pa_dataset_scan_bytes(elem_type(in->el), in->dim, scan_rows(max_rows));
    return file_read_rows(in, max_rows) * in->rec_bytes;
}

/* Converts one raw row to float32, checking the *vecs dimension prefix; row is the ordinal. */
static pa_status convert_row(pa_vec_input *in, const uint8_t *rec, uint64_t row, float *out)
{
    const uint8_t *v = rec;
    if (in->format != FMT_NPY && in->format != FMT_DATASET) {
        int32_t d = (int32_t)pa_ld32(rec);
        if (d != (int32_t)in->dim)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: record %" PRIu64 " at byte offset %" PRIu64
                           " has dimension %d, expected %u",
                           in->path, row, in->data_off + row * in->rec_bytes, d, in->dim);
        v = rec + 4;
    }
    if (in->swap && in->el == EL_F32) {
        for (uint32_t j = 0; j < in->dim; j++) {
            uint32_t b = __builtin_bswap32(pa_ld32(v + 4 * (size_t)j));
            memcpy(out + j, &b, 4);
        }
        return PA_OK;
    }
    if (in->swap && in->el == EL_F16) {
        for (uint32_t j = 0; j < in->dim; j++)
            out[j] = half_to_float(__builtin_bswap16(pa_ld16(v + 2 * (size_t)j)));
        return PA_OK;
    }
    switch (in->el) {
    case EL_F32: memcpy(out, v, (size_t)in->dim * 4); break;
    case EL_I32:
        for (uint32_t j = 0; j < in->dim; j++)
            out[j] = (float)(int32_t)pa_ld32(v + 4 * j);
        break;
    case EL_F16:
        for (uint32_t j = 0; j < in->dim; j++)
            out[j] = half_to_float(pa_ld16(v + 2 * j));
        break;
    case EL_U8:
        for (uint32_t j = 0; j < in->dim; j++)
            out[j] = (float)v[j];
        break;
    case EL_F64:
        for (uint32_t j = 0; j < in->dim; j++) {
            double d;
            memcpy(&d, v + 8 * j, 8);
            out[j] = (float)d; /* out of float's range: an infinity, refused by check_row */
        }
        break;
    }
    return PA_OK;
}

/* True if the row holds a NaN or an infinity, or its squared norm is above PA_MAX_SQ_NORM
 * (reported with its ordinal unless skipping). */
static pa_status check_row(pa_vec_input *in, const float *v, uint64_t row, bool skip_invalid,
                           bool *skip)
{
    *skip = false;
    for (uint32_t j = 0; j < in->dim; j++)
        if (!isfinite(v[j])) {
            if (skip_invalid) {
                *skip = true;
                in->skipped++;
                return PA_OK;
            }
            return pa_fail_field(PA_ERR_INVALID, "skip_invalid",
                                 "%s: row %" PRIu64 " has %s "
                                 "at dimension %u; set skip_invalid to skip such rows",
                                 in->path, row, isnan(v[j]) ? "NaN" : "an infinity", j);
        }
    const double sq = pa_sq_norm(v, in->dim);
    if (sq > PA_MAX_SQ_NORM) { /* finite, but its distances would not be */
        if (skip_invalid) {
            *skip = true;
            in->skipped++;
            return PA_OK;
        }
        return pa_fail(PA_ERR_INVALID,
                       "%s: row %" PRIu64 " has squared norm %.3g, more than "
                       "%.3g: its distances would overflow float",
                       in->path, row, sq, PA_MAX_SQ_NORM);
    }
    return PA_OK;
}

/* Reads records [lo, hi) of a file batch whose first record is at byte off into raw and
 * converts them into out, stopping at the first record that fails to read, to convert or
 * pa_row_surely_ok: its batch position, else hi. What a failure says is left to the exact pass
 * (next_file), which reads from there again: this may run on any thread. */
static uint64_t read_convert_run(pa_vec_input *in, uint64_t first, uint64_t lo, uint64_t hi,
                                 uint64_t off, float *out)
{
    if (lo >= hi ||
        pa_pread_full(in->fd, in->raw + lo * in->rec_bytes, (size_t)((hi - lo) * in->rec_bytes),
                      off + lo * in->rec_bytes, in->path) != PA_OK)
        return lo;
    for (uint64_t k = lo; k < hi; k++) {
        float *dst = out + (size_t)k * in->dim;
        if (convert_row(in, in->raw + k * in->rec_bytes, first + k, dst) != PA_OK ||
            !pa_row_surely_ok(dst, in->dim))
            return k;
    }
    return hi;
}

/* Next batch from a file format. A batch is read and converted on all cores, each thread its
 * own run of records (no reader thread: the kernels have the cores while a batch is encoded);
 * from the first record that fails there on, the batch goes through the exact, ordered pass
 * (read, convert_row, check_row), which reports or skips as if it had read the whole batch. */
static pa_status next_file(pa_vec_input *in, float *out, uint64_t *ids, size_t max, size_t *got)
{
    *got = 0;
    while (*got == 0 && in->next < in->sel_end) {
        uint64_t n = PA_MIN(file_read_rows(in, max), in->sel_end - in->next);
        size_t bytes = (size_t)(n * in->rec_bytes);
        if (bytes > in->raw_cap) { /* (nothing to keep: every batch is read into it afresh) */
            uint8_t *r = pa_malloc_dense(bytes, "input batch");
            if (!r)
                return PA_ERR_NOMEM;
            free(in->raw);
            in->raw = r;
            in->raw_cap = bytes;
        }
        const uint64_t first = in->next, off = in->data_off + first * in->rec_bytes;
        uint64_t good = n; /* rows [0, good) are read, converted and certainly valid */
        const int team = n >= 2 * FILE_PARALLEL_ROWS ? omp_get_max_threads() : 1;
#pragma omp parallel num_threads(team) reduction(min : good)
        {
            const uint64_t t = (uint64_t)omp_get_thread_num(), T = (uint64_t)omp_get_num_threads();
            const uint64_t lo = n * t / T, hi = n * (t + 1) / T;
            const uint64_t end = read_convert_run(in, first, lo, hi, off, out);
            if (end < hi)
                good = end;
        }
        for (uint64_t k = 0; ids && k < good; k++)
            ids[k] = first + k;
        *got = (size_t)good;
        pa_status st = PA_OK;
        if (good < n && (st = pa_pread_full(in->fd, in->raw + good * in->rec_bytes,
                                            (size_t)((n - good) * in->rec_bytes),
                                            off + good * in->rec_bytes, in->path)) != PA_OK)
            return st;
        for (uint64_t k = good; k < n; k++) {
            uint64_t row = first + k;
            float *dst = out + (size_t)*got * in->dim;
            bool skip;
            if ((st = convert_row(in, in->raw + k * in->rec_bytes, row, dst)) != PA_OK ||
                (st = check_row(in, dst, row, in->skip_invalid, &skip)) != PA_OK)
                return st;
            if (skip)
                continue;
            if (ids)
                ids[*got] = row;
            (*got)++;
        }
        in->next += n;
        /* the next batch's records are asked of the disk now, to arrive while this batch is
         * encoded (a hint: nothing to do for a file in the page cache, nothing lost if not) */
        const uint64_t ahead = PA_MIN(n, in->sel_end - in->next);
        if (ahead)
            (void)posix_fadvise(in->fd, (off_t)(in->data_off + in->next * in->rec_bytes),
                                (off_t)(ahead * in->rec_bytes), POSIX_FADV_WILLNEED);
    }
    return PA_OK;
}

/* Next batch from a dataset scan (batches are re-cut to max rows). */
static pa_status next_dataset(pa_vec_input *in, float *out, uint64_t *ids, size_t max, size_t *got)
{
    *got = 0;
    size_t rb = (size_t)in->dim * el_bytes(in->el);
    if (!in->scan) {
        pa_status st = pa_dataset_scan_create(&in->scan, in->ds, in->column, scan_rows(max));
        if (st != PA_OK)
            return st;
    }
    while (*got < max) {
        if (in->pend_n == 0) {
            const void *v;
            pa_status st = pa_dataset_scan_next(in->scan, &v, &in->pend_addrs, &in->pend_n);
            if (st == PA_END)
                break;
            if (st != PA_OK)
                return st;
            in->pend_vals = v;
        }
        while (in->pend_n && *got < max) {
            float *dst = out + (size_t)*got * in->dim;
            uint64_t row = in->next++;
            bool skip;
            convert_row(in, in->pend_vals, row, dst);
            pa_status st = check_row(in, dst, row, in->skip_invalid, &skip);
            if (st != PA_OK)
                return st;
            if (!skip) {
                if (ids)
                    ids[*got] = *in->pend_addrs;
                (*got)++;
            }
            in->pend_vals += rb;
            in->pend_addrs++;
            in->pend_n--;
        }
    }
    return PA_OK;
}

const char *pa_vec_input_path(const pa_vec_input *in) { return in->path; }

pa_status pa_vec_input_next(pa_vec_input *in, float *out, uint64_t *row_ids, size_t max_rows,
                            size_t *num_rows)
{
    if (max_rows == 0)
        return pa_fail(PA_ERR_INVALID, "%s: batch of 0 rows", in->path);
    pa_status st = in->format == FMT_DATASET ? next_dataset(in, out, row_ids, max_rows, num_rows)
                                             : next_file(in, out, row_ids, max_rows, num_rows);
    return st == PA_OK && *num_rows == 0 ? PA_END : st;
}

pa_status pa_vec_input_rewind(pa_vec_input *in)
{
    in->next = in->sel_begin;
    in->skipped = 0;
    if (in->format == FMT_DATASET) {
        pa_dataset_scan_free(in->scan);
        in->scan = NULL;
        in->pend_n = 0; /* the next batch makes a new scan */
    }
    return PA_OK;
}

/* Reads the rows ord[lo..hi) (ascending keys) of an unmapped file into their places in out,
 * rows whose records lie at most RUN_GAP_BYTES apart by one positioned read of their run (the
 * records between them read and dropped), at most buf_bytes a read; returns the position of
 * the first row not read, converted and certainly valid (pa_row_surely_ok), else hi. */
static size_t read_file_runs(pa_vec_input *in, const uint64_t *keys, const size_t *ord, size_t lo,
                             size_t hi, float *out, uint8_t *buf, uint64_t buf_bytes)
{
    const uint64_t rec = in->rec_bytes;
    size_t i = lo;
    while (i < hi) {
        const uint64_t first = keys[ord[i]];
        if (first >= in->rows)
            return i;
        /* the run: the rows after it that are near enough and fit in buf with it */
        uint64_t last = first;
        size_t j = i + 1;
        for (; j < hi; j++) {
            const uint64_t k = keys[ord[j]];
            if (k >= in->rows || (k - last) * rec > RUN_GAP_BYTES ||
                (k - first + 1) * rec > buf_bytes)
                break;
            last = k;
        }
        if (pa_pread_full(in->fd, buf, (size_t)((last - first + 1) * rec),
                          in->data_off + first * rec, in->path) != PA_OK)
            return i;
        for (; i < j; i++) {
            const uint64_t key = keys[ord[i]];
            float *dst = out + ord[i] * in->dim;
            if (convert_row(in, buf + (key - first) * rec, key, dst) != PA_OK ||
                !pa_row_surely_ok(dst, in->dim))
                return i;
        }
    }
    return hi;
}

/* Reads rows keys[ord[0..n)] of a file into their places in out on all cores, each thread its
 * own run of ord: in place from a mapped file, else in runs of nearby records by one positioned
 * read each (read_file_runs, into the thread's RUN_READ_BYTES buffer); returns how many of
 * them, in ord's order, were read and are certainly valid (pa_row_surely_ok) before the first
 * that is not (out of range, unreadable, unconvertible or not certainly valid) or n: the exact
 * pass takes it from there and says what is wrong. */
static size_t read_file_rows_fast(pa_vec_input *in, const uint64_t *keys, const size_t *ord,
                                  size_t n, float *out)
{
    size_t good = n;
    const int team = n >= 2 * FILE_PARALLEL_ROWS ? omp_get_max_threads() : 1;
    const uint64_t buf_bytes = PA_MAX(RUN_READ_BYTES, in->rec_bytes);
#pragma omp parallel num_threads(team) reduction(min : good)
    {
        const size_t t = (size_t)omp_get_thread_num(), T = (size_t)omp_get_num_threads();
        const size_t lo = n * t / T, hi = n * (t + 1) / T;
        size_t i = lo;
        if (!in->map) {
            /* (no buffer: the exact pass reads the rows) */
            uint8_t *buf = lo < hi ? malloc((size_t)buf_bytes) : NULL;
            i = buf ? read_file_runs(in, keys, ord, lo, hi, out, buf, buf_bytes) : lo;
            free(buf);
        }
        for (; in->map && i < hi; i++) {
            const uint64_t key = keys[ord[i]];
            float *dst = out + ord[i] * in->dim;
            if (key >= in->rows)
                break;
            const uint64_t at = in->data_off + key * in->rec_bytes;
            if (convert_row(in, in->map + at, key, dst) != PA_OK || !pa_row_surely_ok(dst, in->dim))
                break;
        }
        if (i < hi)
            good = i;
    }
    return good;
}

/* qsort_r order of positions into a key array: ascending key. */
static int cmp_by_key(const void *a, const void *b, void *keys)
{
    uint64_t x = ((const uint64_t *)keys)[*(const size_t *)a];
    uint64_t y = ((const uint64_t *)keys)[*(const size_t *)b];
    return x < y ? -1 : x > y;
}

/* Finds the fragment holding a row of a dataset: by ordinal (rows counted across fragments in
 * manifest order) or by row address (fragment id << 32 | offset). Sets *f, *first (the ordinal
 * of the fragment's first row), *offset; PA_ERR_RANGE naming the row if there is none. */
static pa_status locate_row(const pa_vec_input *in, uint64_t key, bool by_id, size_t *f,
                            uint64_t *first, uint64_t *offset)
{
    uint64_t at = 0, id = 0, rows = 0, live = 0;
    for (size_t i = 0; i < pa_dataset_num_fragments(in->ds); i++, at += live) {
        pa_dataset_fragment(in->ds, i, &id, &rows);
        live = rows - pa_dataset_fragment_deleted(in->ds, i); /* ordinals count live rows */
        bool here = by_id ? id == key >> 32 : key < at + live;
        if (!here)
            continue;
        uint64_t off = by_id ? key & 0xFFFFFFFFu : pa_dataset_live_offset(in->ds, i, key - at);
        if (off >= rows)
            return pa_fail(PA_ERR_RANGE,
                           "%s: row id %" PRIu64 " is offset %" PRIu64 " in "
                           "fragment %" PRIu64 ", which has %" PRIu64 " rows",
                           in->path, key, off, id, rows);
        *f = i, *first = at, *offset = off;
        return PA_OK;
    }
    return by_id ? pa_fail(PA_ERR_RANGE,
                           "%s: row id %" PRIu64 " names fragment %" PRIu64
                           ", which the dataset does not have",
                           in->path, key, key >> 32)
                 : pa_fail(PA_ERR_RANGE,
                           "%s: row %" PRIu64 " does not exist (the input has %" PRIu64 " rows)",
                           in->path, key, in->rows);
}

/* Random rows, by ordinal or (by_id) by the ids pa_vec_input_next reports: ordinals in files,
 * row addresses in datasets (the same for a file, so by_id changes nothing there). The rows are
 * read in ascending order of position and scattered to their places in out: for files one
 * positioned read per run of nearby rows (read_file_rows_fast; one per row from the first
 * that is not certainly good on); for datasets each fragment's data file is opened once per call.
 * Invalid rows are errors here unless kept is given (a sample) and the input skips them: then
 * they are counted and left out, the rest packed in the order asked for, *kept rows. */
static pa_status read_rows(pa_vec_input *in, const uint64_t *keys, size_t n, float *out, bool by_id,
                           size_t *kept)
{
    pa_status st = PA_OK;
    pa_lance_reader *r = NULL;
    const bool skip_ok = in->skip_invalid && kept; /* by id: a bad row is an error */
    uint8_t *rec = pa_malloc((size_t)in->rec_bytes + (size_t)in->dim * 4, "row buffer");
    size_t *ord = pa_malloc(sizeof(size_t) * (n ? n : 1), "row order");
    bool *bad = kept ? pa_calloc(n ? n : 1, sizeof *bad, "invalid rows") : NULL;
    if (!rec || !ord || (kept && !bad)) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    bool ascending = true; /* (a training sample's are: no sort then) */
    for (size_t i = 0; i < n; i++)
        ord[i] = i, ascending = ascending && (i == 0 || keys[i - 1] <= keys[i]);
    if (!ascending)
        qsort_r(ord, n, sizeof *ord, cmp_by_key, (void *)keys);
    /* mapped records: every line of every row asked for is fetched at once (the rows are
     * scattered: one cache miss after another otherwise) */
    for (size_t i = 0; in->map && i < n; i++)
        if (keys[i] < in->rows)
            for (uint64_t b = 0; b < in->rec_bytes; b += 64)
                __builtin_prefetch(in->map + in->data_off + keys[i] * in->rec_bytes + b);
    size_t cur_frag = SIZE_MAX, col = 0;
    uint64_t cur_first = 0, cur_id = 0, cur_rows = 0;
    /* a file's rows: read on all cores up to the first that is not certainly good, the rest
     * (from there, in order) by the exact loop below, which reports or skips */
    const size_t start = in->format == FMT_DATASET ? 0 : read_file_rows_fast(in, keys, ord, n, out);
    for (size_t i = start; i < n; i++) {
        const uint64_t key = keys[ord[i]];
        float *dst = out + ord[i] * in->dim;
        const uint8_t *src = rec; /* the record: read into rec, or in the mapped file */
        if (in->format == FMT_DATASET) {
            size_t f = cur_frag;
            uint64_t first = cur_first, off = 0;
            if (cur_frag != SIZE_MAX && by_id && key >> 32 == cur_id &&
                (key & 0xFFFFFFFFu) < cur_rows) /* still in the open fragment */
                off = key & 0xFFFFFFFFu;
            else if (cur_frag != SIZE_MAX && !by_id && key >= cur_first &&
                     key < cur_first + cur_rows - pa_dataset_fragment_deleted(in->ds, cur_frag))
                off = pa_dataset_live_offset(in->ds, cur_frag, key - cur_first);
            else if ((st = locate_row(in, key, by_id, &f, &first, &off)) != PA_OK)
                goto done;
            if (f != cur_frag) {
                char file[4096];
                pa_lance_reader_free(r);
                r = NULL;
                if ((st = pa_dataset_fragment_file(in->ds, f, in->column, file, sizeof file,
                                                   &col)) != PA_OK ||
                    (st = pa_lance_reader_open(&r, file)) != PA_OK)
                    goto done;
                cur_frag = f, cur_first = first;
                pa_dataset_fragment(in->ds, f, &cur_id, &cur_rows);
            }
            uint8_t valid = 1;
            if ((st = pa_lance_reader_read_valid(r, col, off, 1, rec, &valid)) != PA_OK)
                goto done;
            if (!valid) { /* a null vector: never sampled, never a row to read */
                if (kept) {
                    bad[ord[i]] = true;
                    continue;
                }
                st = pa_fail(PA_ERR_RANGE, "%s: row %s%" PRIu64 " is a null vector", in->path,
                             by_id ? "id " : "", key);
                goto done;
            }
        } else if (key >= in->rows) {
            st = pa_fail(PA_ERR_RANGE,
                         "%s: row %" PRIu64 " does not exist (the input has %" PRIu64 " rows)",
                         in->path, key, in->rows);
            goto done;
        } else if (in->map) {
            src = in->map + in->data_off + key * in->rec_bytes;
        } else if ((st = pa_pread_full(in->fd, rec, (size_t)in->rec_bytes,
                                       in->data_off + key * in->rec_bytes, in->path)) != PA_OK) {
            goto done;
        }
        bool skip = false;
        if ((st = convert_row(in, src, key, dst)) != PA_OK ||
            (st = check_row(in, dst, key, skip_ok, &skip)) != PA_OK)
            goto done;
        if (skip)
            bad[ord[i]] = true;
    }
    if (kept) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (!bad[i]) {
                if (k != i)
                    memmove(out + k * in->dim, out + i * in->dim, sizeof(float) * in->dim);
                k++;
            }
        *kept = k;
    }
done:
    pa_lance_reader_free(r);
    free(rec), free(ord), free(bad);
    return st;
}

pa_status pa_vec_input_read_rows(pa_vec_input *in, const uint64_t *rows, size_t n, float *out)
{
    return read_rows(in, rows, n, out, false, NULL);
}

pa_status pa_vec_input_read_sample(pa_vec_input *in, const uint64_t *rows, size_t n, float *out,
                                   size_t *num_rows)
{
    *num_rows = 0;
    return read_rows(in, rows, n, out, false, num_rows);
}

pa_status pa_vec_input_read_ids(pa_vec_input *in, const uint64_t *ids, size_t n, float *out)
{
    return read_rows(in, ids, n, out, true, NULL);
}

/* First allocation of pa_vec_input_read_all, in bytes; it doubles from there as rows arrive, so
 * a row count claimed by a file (a dataset manifest's fragment sizes) never sizes a buffer by
 * itself. */
#define READ_ALL_FIRST_BYTES ((size_t)1 << 20)

pa_status pa_vec_input_read_all(const char *path, const pa_vec_input_options *opts, float **out,
                                uint64_t *num_rows, uint32_t *dim)
{
    *out = NULL, *num_rows = 0, *dim = 0;
    pa_vec_input *in = NULL;
    float *buf = NULL;
    size_t cap = 0, done = 0; /* rows */
    pa_status st = pa_vec_input_open(&in, path, opts);
    if (st != PA_OK)
        goto done;
    const size_t row_floats = in->dim, row_bytes = row_floats * sizeof(float);
    for (;;) {
        if (done == cap) {
            if (cap && done >= in->rows)
                break; /* every row the input has: no doubling to find the end */
            size_t want = cap ? cap : PA_MAX(READ_ALL_FIRST_BYTES / row_bytes, (size_t)1);
            size_t bytes;
            if (cap && __builtin_add_overflow(cap, want, &want))
                want = SIZE_MAX;
            if (in->rows > done && want - done > in->rows - done)
                want = done + (size_t)(in->rows - done); /* no more than the input claims */
            if (want <= cap || !pa_mul_ok(want, row_bytes, &bytes)) {
                st = pa_fail(PA_ERR_NOMEM, "%s: %zu rows of dimension %zu do not fit in memory",
                             path, done + 1, row_floats);
                goto done;
            }
            float *b = pa_realloc(buf, bytes, "input rows");
            if (!b) {
                st = PA_ERR_NOMEM;
                goto done;
            }
            buf = b, cap = want;
        }
        size_t got = 0;
        st = pa_vec_input_next(in, buf + done * row_floats, NULL, cap - done, &got);
        if (st == PA_END) {
            st = PA_OK;
            break;
        }
        if (st != PA_OK)
            goto done;
        done += got;
    }
    if (!buf && !(buf = pa_malloc(sizeof(float), "input rows"))) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    *out = buf, *num_rows = done, *dim = in->dim;
    buf = NULL;
done:
    free(buf);
    pa_vec_input_free(in);
    return st;
}

void pa_vec_input_selection(const pa_vec_input *in, uint64_t *begin, uint64_t *end, uint64_t *total)
{
    *begin = in->sel_begin, *end = in->sel_end, *total = in->rows;
}

/* For the index's source record (lance/table_commit.h). */
const pa_dataset *pa_vec_input_dataset(const pa_vec_input *in, const char **column)
{
    if (column)
        *column = in->ds ? in->column : NULL;
    return in->ds;
}
