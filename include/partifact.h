/*
 * partifact — build IVF_PQ vector indexes through a partition artifact.
 *
 * This is the library's one public header. Conventions:
 *   - every name starts with pa_ (PA_ for macros and enum values);
 *   - objects are opaque handles created by pa_X_create/pa_X_open and released by pa_X_free
 *     (free functions accept NULL);
 *   - every call that can fail returns a pa_status; on failure, pa_last_error() gives a
 *     one-line message for the calling thread naming the file, row or byte offset involved
 *     and what was expected;
 *   - the library never prints, never exits and never aborts on bad input;
 *   - threads: the last error is per thread. Any handle may be used from any thread, and
 *     different handles (even of the same file) from different threads at once. What may run
 *     concurrently on ONE handle is stated where its type is declared; where nothing more is
 *     said, one call at a time. A handle is freed only once no other call on it runs, and a
 *     handle made from another (a scan of a dataset or artifact) is freed before it.
 */
#ifndef PARTIFACT_H
#define PARTIFACT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PA_VERSION_MAJOR 0
#define PA_VERSION_MINOR 2
#define PA_VERSION_PATCH 0
#define PA_VERSION_STRING "0.2.0"

#if defined(__GNUC__)
#define PA_API __attribute__((visibility("default")))
#else
#define PA_API
#endif

/* ------------------------------------------------------------------------------------------ */
/* Status, errors and version                                                                 */
/* ------------------------------------------------------------------------------------------ */

typedef enum pa_status {
    PA_OK = 0,
    PA_ERR_INVALID = 1,     /* a bad argument or bad input data (wrong dimension, NaN, ...)   */
    PA_ERR_IO = 2,          /* the operating system refused a read, write, open, fsync, ...   */
    PA_ERR_FORMAT = 3,      /* a file is truncated, corrupt or not what it claims to be      */
    PA_ERR_UNSUPPORTED = 4, /* well-formed, but uses a version/encoding/type we do not read  */
    PA_ERR_NOMEM = 5,       /* an allocation failed                                           */
    PA_ERR_RANGE = 6,       /* an index, row range or id is out of bounds                     */
    PA_ERR_STATE = 7,       /* the call is not valid in the object's current state            */
    PA_ERR_INCOMPLETE = 8,  /* an artifact or dataset that was never committed                */
    PA_ERR_BUDGET = 9,      /* the work needs more memory than the budget allows              */
    PA_ERR_EXISTS = 10,     /* the output exists and replacing it was not asked for           */
    PA_END = 11             /* not an error: an iterator (every *_next call) has nothing more */
                            /* to return; its counts are 0 and pa_last_error is not set      */
} pa_status;

/* The message describing the last failure on the calling thread ("" if none). The pointer is
 * valid until the next failing partifact call on the same thread. */
PA_API const char *pa_last_error(void);

/* The option field(s) the last failure on the calling thread concerns, as the message names
 * them ("memory_bytes", or several separated by commas: "batch_rows,memory_bytes"), so that a
 * front end can say which of its own settings to change; NULL when the failure names none. */
PA_API const char *pa_last_error_field(void);

/* The errno of the system call behind the last PA_ERR_IO failure on the calling thread, where
 * the library records it (opening an input: ENOENT when the path names nothing), else 0. */
PA_API int pa_last_error_errno(void);

/* A short stable name for a status ("ok", "invalid", "io", "format", ...). */
PA_API const char *pa_status_name(pa_status status);

/* The library's version string, e.g. "0.2.0". */
PA_API const char *pa_version(void);

/* ------------------------------------------------------------------------------------------ */
/* Versioned structs, defaults and limits                                                     */
/* ------------------------------------------------------------------------------------------ */
/*
 * Every options and stats struct starts with size_t struct_size: sizeof the struct as the
 * caller was compiled. New fields are only ever appended, so a program built against an older
 * header keeps working with a newer library:
 *   - options: set them up with PA_X_OPTIONS_INIT (the defaults below) or
 *     pa_x_options_init(&o, sizeof o), then change the fields wanted. The library reads the
 *     first struct_size bytes and gives every field beyond them its default; fields past the
 *     library's own struct (a caller built against a newer header) must be zero, or the call
 *     is PA_ERR_UNSUPPORTED. NULL options mean all defaults. A struct_size below
 *     PA_STRUCT_SIZE_MIN (0: never set) is PA_ERR_INVALID naming the struct.
 *   - stats and info: set struct_size (PA_X_STATS_INIT); the library writes only the first
 *     struct_size bytes and leaves struct_size itself as set. NULL stats are not written.
 * A field documented "0: <default>" still takes that default when it is 0. A field added in a
 * later version starts at or after the previous version's sizeof (never in its trailing
 * padding, which an older caller's struct_size covers without setting), and its zero value is
 * its default.
 */
#define PA_STRUCT_SIZE_MIN sizeof(size_t)

/* Defaults (what a 0 field or the INIT macros give) and limits, used by the library, the CLI's
 * help text and the documentation. */
#define PA_DEFAULT_MEMORY_BYTES ((uint64_t)256 << 20) /* encode, artifact writer, finalize     */
#define PA_DEFAULT_BATCH_ROWS 65536u                  /* encode batch and dataset scan batch      */
#define PA_DEFAULT_PAGE_BYTES ((size_t)8 << 20)       /* Lance writer column page                 */
#define PA_DEFAULT_LANCE_FORMAT 1u /* Lance writer: file format 2.1 (PA_LANCE_FORMAT_2_1)     */
#define PA_DEFAULT_ROWS_PER_FRAGMENT ((uint64_t)1 << 20) /* Lance dataset writer              */
#define PA_DEFAULT_MAX_BUCKETS 256u        /* artifact buckets: min(num_partitions, this), as   */
                                           /* Lance's partition-artifact builder               */
#define PA_DEFAULT_NUM_BITS 8u             /* bits per PQ sub-vector code                       */
#define PA_DEFAULT_MAX_ITERS 10u           /* coarse (IVF) k-means iterations                   */
#define PA_DEFAULT_PQ_MAX_ITERS 25u        /* PQ k-means iterations per sub-space               */
#define PA_DEFAULT_SAMPLE_RATE 256u        /* training rows per partition                       */
#define PA_DEFAULT_SEED 42u                /* the training seed the INIT macros and CLI use      */
#define PA_DEFAULT_FINALIZE_THREADS 2u     /* finalize's artifact read-ahead threads            */
#define PA_DEFAULT_K 10u                   /* neighbours per query                              */
#define PA_DEFAULT_NPROBES 1u              /* partitions scanned per query (0 in the options)   */
#define PA_DEFAULT_BACKEND "cpu"           /* the built-in encoding backend                     */
#define PA_MAX_DEFAULT_PARTITIONS 1000000u /* pa_build_default_partitions at most            */
#define PA_PQ_SAMPLE_ROWS 65536u           /* PQ training sample: at least this many rows       */
#define PA_MAX_DIM (1u << 20)              /* list size of a fixed_size_list column             */
#define PA_MAX_ARTIFACT_PARTITIONS (1u << 30) /* partitions of an artifact                    */
#define PA_MAX_BUCKETS (1u << 20)           /* artifact bucket files                             */
#define PA_MAX_CODE_BYTES (1u << 16)        /* bytes per PQ code in an artifact                  */
#define PA_MAX_BATCH_ROWS (1u << 24)        /* rows of one encode batch                          */
#define PA_MAX_SEARCH_CANDIDATES (1u << 24) /* k * refine_factor of one search              */
#define PA_DEFAULT_RERANK_FACTOR 2u /* fast scan: candidates by quantised distance, per k * R */

/* ------------------------------------------------------------------------------------------ */
/* Column types and metrics                                                                   */
/* ------------------------------------------------------------------------------------------ */

/* The column types partifact reads and writes. All hold a value in every row (a field may be
 * declared nullable, pa_lance_write_options.nullable). The list types are Lance "list" columns
 * of a fixed-width item; their rows are passed as a pa_lance_list. */
typedef enum pa_type {
    PA_TYPE_UINT32 = 1,           /* Arrow uint32                                     */
    PA_TYPE_UINT64 = 2,           /* Arrow uint64                                     */
    PA_TYPE_FLOAT32 = 3,          /* Arrow float                                      */
    PA_TYPE_FSL_UINT8 = 4,        /* Arrow fixed_size_list<uint8, dim> (e.g. PQ codes) */
    PA_TYPE_FSL_FLOAT32 = 5,      /* Arrow fixed_size_list<float, dim> (vectors)       */
    PA_TYPE_FSL_FLOAT16 = 6,      /* Arrow fixed_size_list<halffloat, dim> (read only)  */
    PA_TYPE_FSL_FLOAT64 = 7,      /* Arrow fixed_size_list<double, dim> (read only)     */
    PA_TYPE_LIST_FLOAT32 = 8,     /* Arrow list<float> (dim 1)                         */
    PA_TYPE_LIST_FSL_FLOAT32 = 9, /* Arrow list<fixed_size_list<float, dim>>, e.g.
                                   * lance-cuvs' metadata.lance _ivf_centroids      */
    PA_TYPE_OTHER = 0             /* any other type in a schema read: parsed, not read  */
} pa_type;

/* A column of a schema. dim is the list size for the FSL types and must be 1 otherwise.
 * In a schema read from a file or dataset, a nested field's name is its path ("meta.a"). A
 * list column is named so too: "LIST.ITEM" (a list field LIST whose item field is ITEM); a
 * name without a dot is a list whose item field is "item", Arrow's default. */
typedef struct pa_field {
    const char *name;
    pa_type type;
    uint32_t dim;
} pa_field;

/* Bytes one row of a column of this type occupies in memory (0 for an unknown type); for a
 * list type, the bytes of one item. */
PA_API size_t pa_type_row_bytes(pa_type type, uint32_t dim);

/* The Lance/Arrow logical type name, e.g. "fixed_size_list:float:128", written into buf. */
PA_API pa_status pa_type_name(pa_type type, uint32_t dim, char *buf, size_t buf_len);

/* The distance an index ranks by: the one representation of a metric in this API (files and
 * messages use pa_metric_name's strings). */
typedef enum pa_metric {
    PA_METRIC_L2 = 0,     /* squared Euclidean distance              */
    PA_METRIC_COSINE = 1, /* vectors normalised, then L2             */
    PA_METRIC_DOT = 2     /* inner product (larger is nearer)        */
} pa_metric;              /* the backend ABI passes these values: they never change */

/* Parses "l2", "cosine" or "dot". */
PA_API pa_status pa_metric_parse(const char *name, pa_metric *out);
/* "l2", "cosine" or "dot"; "unknown" for a value that is none of them. */
PA_API const char *pa_metric_name(pa_metric m);

/* ------------------------------------------------------------------------------------------ */
/* Progress                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/* Progress of long work, for callers that show it: stage names what is being done ("train",
 * "encode", "finalize"), done and total count its units (rows or partitions; total 0 when
 * unknown). The library itself never prints. */
typedef void (*pa_progress_fn)(void *ctx, const char *stage, uint64_t done, uint64_t total);

/* ------------------------------------------------------------------------------------------ */
/* Lance files (file formats 2.1 and 2.2): streaming writer                                  */
/* ------------------------------------------------------------------------------------------ */

/* A Lance file writer: one call at a time. */
typedef struct pa_lance_writer pa_lance_writer;

typedef struct pa_lance_write_options {
    size_t struct_size; /* sizeof(pa_lance_write_options) */
    /* Target size of one column page in bytes; a page is flushed when its column's buffer
     * reaches this size. 0 means the default, PA_DEFAULT_PAGE_BYTES (8 MiB). Memory held by
     * a writer is about num_columns * page_bytes. */
    size_t page_bytes;
    /* Structural layout of every page: PA_LAYOUT_AUTO (mini-block for values under 256 bytes,
     * full-zip above, as Lance chooses), or forced. Full-zip pages of fixed-width values can be
     * read at exact byte ranges, which suits files read back by row ranges (the artifact). */
    int layout;
    /* Non-zero: an existing file at path is replaced (atomically, at close); zero: refused. */
    int replace;
    /* Non-zero: path is created itself, with O_EXCL | O_NOFOLLOW, for a file in a directory
     * this run made; zero (the default): the file is written under a temporary name beside
     * path and renamed into place by close, so that path shows the old file or the complete
     * new one, never a partial one. */
    int in_new_dir;
    /* Nonzero: uint32 and uint64 columns in mini-block pages are written with InlineBitpacking
     * (chunks of 1024 values at the bit width of the chunk's largest value), as LanceDB writes
     * integer columns; 0: Flat. */
    int bitpack;
    /* Minor version of the Lance file format written (major 2): PA_LANCE_FORMAT_2_1 or
     * PA_LANCE_FORMAT_2_2; 0 means the default, PA_DEFAULT_LANCE_FORMAT (2.1). 2.2 is what
     * LanceDB 0.39 writes: mini-block pages with 4-byte chunk-table words and value sizes;
     * LanceDB 0.37 (Lance 10) reads 2.1 only. */
    unsigned minor_version;
    /* NULL, or one flag per field: non-zero declares field i nullable in the schema. Its rows
     * still all hold values (pages say "all valid"), as Lance writes a nullable column without
     * nulls; upstream declares e.g. the partition artifact's __pq_code so. */
    const uint8_t *nullable;
    /* Non-zero, with in_new_dir: close does not fsync the file. For a scratch file that is
     * removed once read (a build's artifact in its work directory), which a crash leaves as
     * an orphan nothing reads; zero (the default): close fsyncs it. */
    int no_sync;
} pa_lance_write_options;

enum { PA_LAYOUT_AUTO = 0, PA_LAYOUT_MINIBLOCK = 1, PA_LAYOUT_FULLZIP = 2 };

/* Lance file format minor versions the writer writes (major 2). */
#define PA_LANCE_FORMAT_2_1 1u
#define PA_LANCE_FORMAT_2_2 2u

#define PA_LANCE_WRITE_OPTIONS_INIT                                                     \
    {                                                                                   \
        sizeof(pa_lance_write_options), PA_DEFAULT_PAGE_BYTES, PA_LAYOUT_AUTO, 0, 0, 0, \
            PA_DEFAULT_LANCE_FORMAT, NULL, 0                                            \
    }
PA_API pa_status pa_lance_write_options_init(pa_lance_write_options *o, size_t struct_size);

/* Creates path (see the options: under a temporary name, renamed into place by close; an
 * existing path is refused unless replace) and prepares to stream rows with the given schema. Field names
 * are copied. opts may be NULL. The file has no footer, and so is not a readable Lance file,
 * until pa_lance_writer_close succeeds. */
PA_API pa_status pa_lance_writer_create(pa_lance_writer **out, const char *path,
                                        const pa_field *fields, size_t num_fields,
                                        const pa_lance_write_options *opts);

/* The rows of a list column given to pa_lance_writer_append: row k holds the items
 * [offsets[k], offsets[k+1]) of items (each pa_type_row_bytes bytes: dim floats). Every row
 * holds at least one item (empty lists are refused). */
typedef struct pa_lance_list {
    const uint64_t *offsets; /* num_rows + 1 item indexes into items, increasing */
    const void *items;
} pa_lance_list;

/* Appends num_rows rows. columns[i] points at num_rows * pa_type_row_bytes(field i) bytes,
 * laid out row-major (an FSL row is dim consecutive items); for a list column, at a
 * pa_lance_list. */
PA_API pa_status pa_lance_writer_append(pa_lance_writer *w, const void *const *columns,
                                        uint64_t num_rows);

/* Adds a key/value pair to the schema metadata (value is raw bytes). A later value for the
 * same key replaces the earlier one. Allowed any time before close. */
PA_API pa_status pa_lance_writer_set_metadata(pa_lance_writer *w, const char *key,
                                              const void *value, size_t value_len);

/* Writes an extra global buffer now (buffer 0 is the schema, written at close) and returns its
 * index in *index_out (1, 2, ...). The bytes are written immediately, not kept in memory. */
PA_API pa_status pa_lance_writer_add_global_buffer(pa_lance_writer *w, const void *data, size_t len,
                                                   uint32_t *index_out);

/* Flushes the last pages, then writes the column metadata, offset tables, the schema and the
 * footer, and fsyncs the file. The writer must still be freed. */
PA_API pa_status pa_lance_writer_close(pa_lance_writer *w);

/* Rows appended so far. */
PA_API uint64_t pa_lance_writer_num_rows(const pa_lance_writer *w);

/* Bytes written to the file so far (after close: the file's size). */
PA_API uint64_t pa_lance_writer_bytes_written(const pa_lance_writer *w);

/* Frees the writer. A writer that was not closed successfully removes its unfinished file. */
PA_API void pa_lance_writer_free(pa_lance_writer *w);

/* ------------------------------------------------------------------------------------------ */
/* Lance files: reader                                                                        */
/* ------------------------------------------------------------------------------------------ */

/* A Lance file reader. Open reads everything it keeps; after it nothing in the reader changes
 * (the byte counter is atomic), so every call but free may run concurrently on one reader. */
typedef struct pa_lance_reader pa_lance_reader;

/* Opens a Lance file (file format 2.0, 2.1 or 2.2) and reads its footer, column metadata and
 * schema. Nothing else is read until asked for. A column partifact cannot decode (its type or
 * an encoding of one of its pages) does not fail open; reading it fails, naming the page,
 * column and encoding (pa_lance_reader_column_problem says why beforehand). */
PA_API pa_status pa_lance_reader_open(pa_lance_reader **out, const char *path);

PA_API uint64_t pa_lance_reader_num_rows(const pa_lance_reader *r);
PA_API size_t pa_lance_reader_num_fields(const pa_lance_reader *r);

/* The field of column i (the file's column order; a nested leaf is named by its dotted path,
 * "st.a"). type is 0 when the column's type is not a pa_type (see
 * pa_lance_reader_logical_type). The name stays valid while the reader lives. */
PA_API pa_status pa_lance_reader_field(const pa_lance_reader *r, size_t i, pa_field *out);

/* Index of the field named name, or PA_ERR_RANGE if there is none. */
PA_API pa_status pa_lance_reader_find_field(const pa_lance_reader *r, const char *name,
                                            size_t *index_out);

/* Schema metadata: the number of entries, and entry i (pointers valid while the reader lives). */
PA_API size_t pa_lance_reader_num_metadata(const pa_lance_reader *r);
PA_API pa_status pa_lance_reader_metadata_at(const pa_lance_reader *r, size_t i, const char **key,
                                             const void **value, size_t *value_len);
/* The value for key, or PA_ERR_RANGE if absent. */
PA_API pa_status pa_lance_reader_metadata(const pa_lance_reader *r, const char *key,
                                          const void **value, size_t *value_len);

/* Global buffers: how many (including buffer 0, the schema), and a copy of buffer i in a
 * malloc'd block the caller frees with free(). */
PA_API uint32_t pa_lance_reader_num_global_buffers(const pa_lance_reader *r);
PA_API pa_status pa_lance_reader_global_buffer(pa_lance_reader *r, uint32_t i, void **data,
                                               size_t *len);

/* Reads rows [offset, offset + num_rows) of column col into out, which must hold
 * num_rows * pa_type_row_bytes() bytes. Only the byte ranges those rows need are read. */
PA_API pa_status pa_lance_reader_read(pa_lance_reader *r, size_t col, uint64_t offset,
                                      uint64_t num_rows, void *out);

/* Like pa_lance_reader_read, and valid[i] = 1 for a row with a value, 0 for a null row (its
 * bytes in out are zeros). pa_lance_reader_read fails on a null row, naming it. */
PA_API pa_status pa_lance_reader_read_valid(pa_lance_reader *r, size_t col, uint64_t offset,
                                            uint64_t num_rows, void *out, uint8_t *valid);

/* Reads rows [offset, offset + num_rows) of a list column (pa_lance_reader_read refuses one):
 * offsets[0..num_rows] (num_rows + 1 entries, offsets[0] = 0) receive the item offsets of the
 * rows, *items a malloc'd block (free with free()) of their offsets[num_rows] items of
 * pa_lance_reader_row_bytes bytes each. Lists of fixed-width items without nulls or empty
 * lists are read, from mini-block and full-zip pages (2.1, 2.2). */
PA_API pa_status pa_lance_reader_read_list(pa_lance_reader *r, size_t col, uint64_t offset,
                                           uint64_t num_rows, uint64_t *offsets, void **items);

/* Column col's Lance logical type ("fixed_size_list:halffloat:768", "string", ...). */
PA_API const char *pa_lance_reader_logical_type(const pa_lance_reader *r, size_t col);
/* Bytes per row that the reads write for column col: its raw little-endian values (a
 * fixed-size list of D items of B bytes: D * B; float16 and float64 items are not converted);
 * for a list column, the bytes of one item; 0 when the column has no fixed width. */
PA_API size_t pa_lance_reader_row_bytes(const pa_lance_reader *r, size_t col);
/* NULL when column col can be read, else the message a read of it fails with. */
PA_API const char *pa_lance_reader_column_problem(const pa_lance_reader *r, size_t col);
/* The file format version: 2.0, 2.1 or 2.2. */
PA_API void pa_lance_reader_version(const pa_lance_reader *r, unsigned *major, unsigned *minor);

/* One page of a column, for inspection: layout "mini-block", "mini-block (2.2 large chunks)",
 * "full-zip", "2.0 array", "constant" or "all-null"; value encoding "flat",
 * "inline_bitpacking", "rle" (", with nulls" when the page has null flags) or "none"; its rows
 * and where its data lies. */
typedef struct pa_lance_page_info {
    uint64_t first_row, num_rows;
    uint64_t offset, bytes;
    const char *layout;
    const char *encoding;
} pa_lance_page_info;

PA_API size_t pa_lance_reader_num_pages(const pa_lance_reader *r, size_t col);
PA_API pa_status pa_lance_reader_page(const pa_lance_reader *r, size_t col, size_t i,
                                      pa_lance_page_info *out);

/* Bytes read from the file so far (footer and metadata included). */
PA_API uint64_t pa_lance_reader_bytes_read(const pa_lance_reader *r);

/* The file's path as given to open. */
PA_API const char *pa_lance_reader_path(const pa_lance_reader *r);

PA_API void pa_lance_reader_free(pa_lance_reader *r);

/* ------------------------------------------------------------------------------------------ */
/* Lance datasets (a directory LanceDB opens as a table)                                      */
/* ------------------------------------------------------------------------------------------ */

/* An open dataset version. After open it is only read: every call but free may run
 * concurrently on one dataset, pa_dataset_scan_create included. */
typedef struct pa_dataset pa_dataset;

/* Opens the latest version of the dataset in directory path (reads its manifest). Every
 * column type is parsed (those partifact does not read are PA_TYPE_OTHER, never decoded);
 * deletion files (both kinds) are applied; data and deletion files under the manifest's base
 * paths (clones, branches) are found there; tables with stable row ids or reader feature
 * flags partifact does not know are refused. */
PA_API pa_status pa_dataset_open(pa_dataset **out, const char *path);
/* Opens the given version (0: the latest); a version with no manifest is PA_ERR_RANGE. */
PA_API pa_status pa_dataset_open_version(pa_dataset **out, const char *path, uint64_t version);

PA_API uint64_t pa_dataset_version(const pa_dataset *ds);
/* Live rows: the fragments' physical rows less the deleted ones. */
PA_API uint64_t pa_dataset_num_rows(const pa_dataset *ds);
/* Top-level fields; pa_dataset_field_type gives field i's logical type as the manifest
 * records it ("string", "struct", "fixed_size_list:halffloat:8"). */
PA_API size_t pa_dataset_num_fields(const pa_dataset *ds);
PA_API pa_status pa_dataset_field(const pa_dataset *ds, size_t i, pa_field *out);
PA_API const char *pa_dataset_field_type(const pa_dataset *ds, size_t i);
PA_API size_t pa_dataset_num_fragments(const pa_dataset *ds);

/* Fragment i: its id and physical row count. */
PA_API pa_status pa_dataset_fragment(const pa_dataset *ds, size_t i, uint64_t *id,
                                     uint64_t *num_rows);
/* Fragment i's deleted rows: how many, whether an offset is one, and the offset of its k-th
 * (from 0) live row. */
PA_API uint64_t pa_dataset_fragment_deleted(const pa_dataset *ds, size_t i);
PA_API int pa_dataset_row_deleted(const pa_dataset *ds, size_t i, uint64_t offset);
PA_API uint64_t pa_dataset_live_offset(const pa_dataset *ds, size_t i, uint64_t k);

/* The data file (full path into path_buf) holding column `column` of fragment i, and the
 * column's index in that file: for reading a fragment directly with pa_lance_reader. */
PA_API pa_status pa_dataset_fragment_file(const pa_dataset *ds, size_t i, const char *column,
                                          char *path_buf, size_t path_len, size_t *col_index);

PA_API void pa_dataset_free(pa_dataset *ds);

/* A streaming scan of one column in fragment order, in batches of at most batch_rows rows. One
 * call at a time on a scan; several scans of one dataset may run on different threads. */
typedef struct pa_dataset_scan pa_dataset_scan;

PA_API pa_status pa_dataset_scan_create(pa_dataset_scan **out, pa_dataset *ds, const char *column,
                                        size_t batch_rows);
/* Bytes a scan of a column of this type holds for batches of batch_rows rows (0:
 * PA_DEFAULT_BATCH_ROWS): its values and row addresses, what a memory budget must reserve. */
PA_API uint64_t pa_dataset_scan_bytes(pa_type type, uint32_t dim, size_t batch_rows);

/* The next batch: *values points at *num_rows rows of the column (row-major), *row_addrs at
 * their row addresses (fragment_id << 32 | offset in fragment); deleted rows are left out.
 * Both stay valid until the next call. PA_END (and *num_rows 0) once every row was returned. */
PA_API pa_status pa_dataset_scan_next(pa_dataset_scan *scan, const void **values,
                                      const uint64_t **row_addrs, size_t *num_rows);

/* Null vectors (rows of a nullable column that are null) the scan left out so far. */
PA_API uint64_t pa_dataset_scan_nulls(const pa_dataset_scan *scan);
PA_API void pa_dataset_scan_free(pa_dataset_scan *scan);

/* Writes a new dataset (version 1) at path, which must not exist: in a new directory beside it,
 * renamed into place by the commit. One call at a time on a writer. */
typedef struct pa_dataset_writer pa_dataset_writer;

typedef struct pa_dataset_write_options {
    size_t struct_size;             /* sizeof(pa_dataset_write_options)                      */
    uint64_t max_rows_per_fragment; /* 0: PA_DEFAULT_ROWS_PER_FRAGMENT (one data file each)  */
    size_t page_bytes;              /* each data file's page size; 0: PA_DEFAULT_PAGE_BYTES  */
} pa_dataset_write_options;

#define PA_DATASET_WRITE_OPTIONS_INIT                                                         \
    {                                                                                         \
        sizeof(pa_dataset_write_options), PA_DEFAULT_ROWS_PER_FRAGMENT, PA_DEFAULT_PAGE_BYTES \
    }
PA_API pa_status pa_dataset_write_options_init(pa_dataset_write_options *o, size_t struct_size);

PA_API pa_status pa_dataset_writer_create(pa_dataset_writer **out, const char *path,
                                          const pa_field *fields, size_t num_fields,
                                          const pa_dataset_write_options *opts);

/* Appends rows; columns as for pa_lance_writer_append. New fragments start as needed. */
PA_API pa_status pa_dataset_writer_append(pa_dataset_writer *w, const void *const *columns,
                                          uint64_t num_rows);

/* Closes the data files and commits the manifest (the dataset is visible only after this). */
PA_API pa_status pa_dataset_writer_commit(pa_dataset_writer *w);

/* Frees the writer; an uncommitted dataset's files are removed. */
PA_API void pa_dataset_writer_free(pa_dataset_writer *w);

/* Makes a new dataset (version 1) at path from existing Lance files with the same schema and
 * file format (2.1 or 2.2, recorded as the dataset's), one fragment per file, hard-linked (or
 * copied) into its data/ directory: e.g. to open an artifact's bucket file with LanceDB. The
 * dataset's schema keeps the files' list columns and nullable fields. */
PA_API pa_status pa_dataset_wrap_files(const char *path, const char *const *files, size_t n);

/* ------------------------------------------------------------------------------------------ */
/* Vector inputs: .fvecs .bvecs .ivecs .npy and Lance datasets, streamed as float32           */
/* ------------------------------------------------------------------------------------------ */

/* A vector input: one thread at a time (every call reads or moves its stream); different
 * inputs may be used from different threads, even of the same file. */
typedef struct pa_vec_input pa_vec_input;

typedef struct pa_vec_input_options {
    size_t struct_size; /* sizeof(pa_vec_input_options)                                   */
    const char *column; /* Lance datasets: the vector column (NULL: the only FSL column)   */
    int skip_invalid;   /* non-zero: rows with NaN/Inf are skipped and counted, not errors */
    uint64_t version;   /* Lance datasets: the version to read (0: the latest)             */
    /* One worker's share of a distributed build (each shard encoded into its own artifact):
     * Lance datasets: only the fragments fragments[0..num_fragments) (each once, all in the
     * version; NULL/0: every fragment), row ids staying the table's row addresses; files: only
     * rows [row_begin, row_end) (row_end 0: every row, row_begin then 0), row ids staying
     * the file's ordinals (global). The selection is what the input streams and counts
     * (pa_vec_input_next, _num_rows); reads by ordinal or id address the whole file (of a
     * dataset: the selected fragments). */
    const uint64_t *fragments;
    size_t num_fragments;
    uint64_t row_begin, row_end;
} pa_vec_input_options;

#define PA_VEC_INPUT_OPTIONS_INIT                               \
    {                                                           \
        sizeof(pa_vec_input_options), NULL, 0, 0, NULL, 0, 0, 0 \
    }
PA_API pa_status pa_vec_input_options_init(pa_vec_input_options *o, size_t struct_size);

/* Opens a vector file or dataset; the format comes from the extension (.fvecs, .bvecs,
 * .ivecs, .npy) or, for a directory, a Lance dataset. Only the header is read. A dataset's
 * vector column is a fixed-size list of float, halffloat, double (converted to float32 as
 * read) or uint8; without opts->column the only one, else an error listing the candidates.
 * Its deleted rows are never read: rows, samples and scans count only the live ones. */
PA_API pa_status pa_vec_input_open(pa_vec_input **out, const char *path,
                                   const pa_vec_input_options *opts);
PA_API uint32_t pa_vec_input_dim(const pa_vec_input *in);
PA_API const char *pa_vec_input_path(const pa_vec_input *in); /* as opened, for messages */
PA_API uint64_t pa_vec_input_num_rows(const pa_vec_input *in);

/* Reads the next batch of at most max_rows rows, converted to float32, into out
 * (max_rows * dim floats); row_ids (may be NULL) receives each row's id: its ordinal in the
 * file, or its row address in a dataset. PA_END (and *num_rows 0) once every row was read. */
PA_API pa_status pa_vec_input_next(pa_vec_input *in, float *out, uint64_t *row_ids, size_t max_rows,
                                   size_t *num_rows);
/* Starts the stream again from the first row. */
PA_API pa_status pa_vec_input_rewind(pa_vec_input *in);
/* Reads the given rows (ordinals, any order) into out (n * dim floats): for sampling. */
PA_API pa_status pa_vec_input_read_rows(pa_vec_input *in, const uint64_t *rows, size_t n,
                                        float *out);
/* Reads a training sample: the given rows as pa_vec_input_read_rows does, except that with
 * skip_invalid a row with NaN/Inf is left out and counted (pa_vec_input_skipped); the rest are
 * packed into out in the order given, *num_rows of them. Without skip_invalid such a row is an
 * error naming it. */
PA_API pa_status pa_vec_input_read_sample(pa_vec_input *in, const uint64_t *rows, size_t n,
                                          float *out, size_t *num_rows);
/* Reads rows by the ids pa_vec_input_next gave them (any order) into out (n * dim floats):
 * ordinals in a file, row addresses in a dataset, so the row ids an index holds find their
 * original vectors (search refine). An id the input does not have is PA_ERR_RANGE. */
PA_API pa_status pa_vec_input_read_ids(pa_vec_input *in, const uint64_t *ids, size_t n, float *out);
/* Bytes the input holds to read batches of at most max_rows rows (its read buffer, or its
 * dataset scan's batch), besides the caller's out array: what a memory budget reserves for it.
 * A file input sizes each read from that call's max_rows; a dataset sizes its scan from the
 * max_rows of the first pa_vec_input_next after opening or rewinding. */
PA_API uint64_t pa_vec_input_batch_bytes(const pa_vec_input *in, size_t max_rows);
/* Reads every row of the input at path into *out (num_rows * dim floats, free with free();
 * never NULL on success): queries and other small inputs. The buffer grows with the rows
 * actually read (doubling from 1 MiB), never sized by a count the file claims. */
PA_API pa_status pa_vec_input_read_all(const char *path, const pa_vec_input_options *opts,
                                       float **out, uint64_t *num_rows, uint32_t *dim);
/* Rows skipped so far because of NaN/Inf (with skip_invalid). */
PA_API uint64_t pa_vec_input_skipped(const pa_vec_input *in);
/* Null vectors (a nullable Lance vector column's null rows) the stream since the last rewind
 * left out; they are never sampled or indexed either. */
PA_API uint64_t pa_vec_input_nulls(const pa_vec_input *in);
PA_API void pa_vec_input_free(pa_vec_input *in);

/* ------------------------------------------------------------------------------------------ */
/* Backends: the expensive middle, pluggable at run time                                      */
/* ------------------------------------------------------------------------------------------ */
/*
 * A backend trains the model and assigns + encodes rows: the built-in "cpu", or an accelerator
 * plugin libpartifact-backend-NAME.so. Writing one, or driving one directly: see
 * partifact_backend.h (the implementer ABI).
 */

/* A model as plain arrays; defined in partifact_backend.h. */
typedef struct pa_backend_model pa_backend_model;

/* A loaded backend: one call at a time on a backend handle (a plugin's state is its own); open
 * one per thread to encode from several threads. */
typedef struct pa_backend pa_backend;

/* Loads backend name: "cpu" is built in; anything else is libpartifact-backend-NAME.so, looked
 * for in search_path (directories separated by ':', may be NULL), then $PARTIFACT_BACKEND_PATH,
 * then the plugin directory of the library's install prefix (<libdir>/partifact, e.g.
 * /usr/local/lib/partifact). options (NULL or "": none) is KEY=VALUE[,KEY=VALUE...], passed to
 * the backend, which refuses a key it does not know. */
PA_API pa_status pa_backend_open(pa_backend **out, const char *name, const char *search_path,
                                 const char *options);
PA_API const char *pa_backend_name(const pa_backend *b);
/* The shared library the backend came from ("built-in" for cpu). */
PA_API const char *pa_backend_path(const pa_backend *b);
PA_API void pa_backend_free(pa_backend *b);

/* ------------------------------------------------------------------------------------------ */
/* IVF_PQ model: training, assignment and encoding on the CPU                                 */
/* ------------------------------------------------------------------------------------------ */

typedef struct pa_ivfpq_params {
    size_t struct_size;       /* sizeof(pa_ivfpq_params)                                     */
    uint32_t num_partitions;  /* coarse centroids (IVF lists)                                */
    uint32_t num_sub_vectors; /* M: must divide the dimension                                */
    uint32_t num_bits;        /* bits per sub-vector code; 0: PA_DEFAULT_NUM_BITS (8); 8     */
                              /* (256 codewords per sub-space) or 4 (16; M must be even)     */
    pa_metric metric;
    uint32_t max_iters;    /* coarse (IVF) k-means iterations at most; 0:                 */
                           /* PA_DEFAULT_MAX_ITERS (10, FAISS's default; recall@10 does   */
                           /* not move beyond it)                                         */
    uint32_t sample_rate;  /* training rows per partition; 0: PA_DEFAULT_SAMPLE_RATE     */
    uint64_t seed;         /* the same seed and data give a byte-identical model          */
    uint32_t pq_max_iters; /* PQ k-means iterations at most, per sub-space; 0:            */
                           /* PA_DEFAULT_PQ_MAX_ITERS (25, FAISS's default; the codebooks */
                           /* gain <0.5% MSE beyond it)                                   */
} pa_ivfpq_params;

#define PA_IVFPQ_PARAMS_INIT                                                                    \
    {                                                                                           \
        sizeof(pa_ivfpq_params), 0, 0, PA_DEFAULT_NUM_BITS, PA_METRIC_L2, PA_DEFAULT_MAX_ITERS, \
            PA_DEFAULT_SAMPLE_RATE, PA_DEFAULT_SEED, PA_DEFAULT_PQ_MAX_ITERS                    \
    }
PA_API pa_status pa_ivfpq_params_init(pa_ivfpq_params *o, size_t struct_size);

/* A trained or loaded model. It never changes after it is made: every call but free may run
 * concurrently on one model. */
typedef struct pa_ivfpq_model pa_ivfpq_model;

typedef struct pa_ivfpq_train_stats {
    size_t struct_size;           /* sizeof(pa_ivfpq_train_stats)                       */
    uint64_t sample_rows;         /* rows the model was trained on                      */
    uint32_t ivf_iters, pq_iters; /* k-means iterations run (PQ: the most of any space) */
    uint32_t empty_repaired;      /* empty clusters split from large ones               */
    double ivf_seconds, pq_seconds;
    uint64_t sample_skipped_invalid; /* sampled rows left out for NaN/Inf (skip_invalid)  */
    double sample_seconds; /* drawing, reading and checking the sample (training an input) */
    /* Training an input within a memory budget (pa_build): the rows the sample would have had
     * (sample_rate * num_partitions, at least PA_PQ_SAMPLE_ROWS) when the budget held fewer,
     * so that sample_rows is less; 0 when the sample was not cut. */
    uint64_t sample_wanted_rows;
    /* The coarse k-means' and the PQ k-means' (all sub-spaces') iterations, the share of a full
     * assignment's distance work they did: below 1 where grouped bounds left out centroids that
     * could not be a row's nearest (the same model as without them), else 1. */
    double ivf_work_share, pq_work_share;
} pa_ivfpq_train_stats;

#define PA_IVFPQ_TRAIN_STATS_INIT                                     \
    {                                                                 \
        sizeof(pa_ivfpq_train_stats), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 \
    }

/* Trains coarse centroids (k-means) and PQ codebooks (k-means per sub-space, on residuals to
 * the coarse centroid for l2/cosine, on the vectors for dot) on n rows of data (n x dim).
 * stats may be NULL. */
PA_API pa_status pa_ivfpq_train(pa_ivfpq_model **out, const float *data, uint64_t n, uint32_t dim,
                                const pa_ivfpq_params *params, pa_ivfpq_train_stats *stats);

/* Trains on a seeded random sample of an input: sample_rate * num_partitions rows (at least
 * PA_PQ_SAMPLE_ROWS when the input has them, for the codebooks), read with pa_vec_input_read_sample: an
 * input that skips invalid rows leaves them out of the sample (and counts them), one that does
 * not refuses them. Trains through the built-in cpu backend (pa_train_input with no backend). */
PA_API pa_status pa_ivfpq_train_input(pa_ivfpq_model **out, pa_vec_input *in,
                                      const pa_ivfpq_params *params, pa_ivfpq_train_stats *stats);

/* For n rows (n x dim): the nearest centroid into part_ids and the PQ code into codes, on all
 * cores: num_sub_vectors * num_bits / 8 bytes per row (8-bit: byte m is sub-vector m's code;
 * 4-bit: byte j holds sub-vector 2j's code in its low nibble and 2j+1's in its high nibble, as
 * Lance packs them). NaN/Inf rows are refused, naming the row. */
PA_API pa_status pa_ivfpq_assign_encode(const pa_ivfpq_model *m, const float *x, uint64_t n,
                                        uint32_t *part_ids, uint8_t *codes);

/* The model as plain arrays (pointers valid while the model lives). */
PA_API void pa_ivfpq_model_arrays(const pa_ivfpq_model *m, pa_backend_model *out);
/* A model from plain arrays (copied), e.g. what a backend trained. */
PA_API pa_status pa_ivfpq_model_from_arrays(pa_ivfpq_model **out, const pa_backend_model *in);

/* Saves the model as a Lance file (centroids as a fixed_size_list<float, dim> column, the
 * codebook in a global buffer, parameters as JSON in schema metadata "partifact:model", with
 * "format" PA_MODEL_FORMAT and "version" PA_MODEL_FORMAT_VERSION), and loads it back; a model of
 * a newer version is refused (PA_ERR_UNSUPPORTED, naming both versions). */
#define PA_MODEL_FORMAT "partifact.ivfpq-model"
#define PA_MODEL_FORMAT_VERSION 1
PA_API pa_status pa_ivfpq_model_save(const pa_ivfpq_model *m, const char *path);
PA_API pa_status pa_ivfpq_model_load(pa_ivfpq_model **out, const char *path);
PA_API void pa_ivfpq_model_free(pa_ivfpq_model *m);

/* Mean squared reconstruction error of the PQ codes of n rows (|| r - decode(code) ||^2 per
 * row, averaged): how good the codes are. */
PA_API pa_status pa_ivfpq_pq_mse(const pa_ivfpq_model *m, const float *x, uint64_t n, double *mse);

/* ------------------------------------------------------------------------------------------ */
/* Partition artifact: the hand-off between a backend and the finalizer                       */
/* ------------------------------------------------------------------------------------------ */
/*
 * artifact/manifest.json                   Lance's partition-artifact manifest (version 1):
 *                                          per partition its file and (offset, num_rows)
 *                                          ranges; partifact's extras under "partifact"
 * artifact/partitions/bucket-NNNNN.lance   rows (_rowid u64, __pq_code fsl<u8, M>), Lance 2.2
 * artifact/metadata.lance                  the model (IVF centroids, PQ codebook), as lance-cuvs
 *                                          writes it
 *
 * The layout of Lance's partition-artifact builder (docs/artifact-format.md). A row of
 * partition p lives in bucket p % num_buckets. The writer buffers rows per bucket within a
 * memory budget; a full buffer is counting-sorted by part_id and appended to its bucket file as
 * new pages, and the (offset, num_rows) range each partition got is recorded; buckets that get
 * no rows get no file. finish writes the footers and then the manifest, which is the commit
 * point (written to a temporary name, fsynced, renamed, directory fsynced): a directory without
 * manifest.json is an incomplete artifact and every reader refuses it. Readers also read an
 * artifact another program wrote in that layout (no extras: structure only), and the partifact
 * 0.1 layout (a part_id column, "format_version": 2); nothing writes the 0.1 layout.
 */

#define PA_ARTIFACT_FORMAT "partifact.artifact"
/* The version of partifact's extras ("partifact" in the manifest). 3: the upstream layout
 * (checksums per range bound to their partition, file hashes, the model's identity); 2 was the
 * 0.1 layout (read, never written); 1 is refused (no checksums). */
#define PA_ARTIFACT_FORMAT_VERSION 3

typedef struct pa_artifact_params {
    size_t struct_size;       /* sizeof(pa_artifact_params)                                   */
    uint32_t num_partitions;  /* part_ids are 0 .. num_partitions-1; at most                  */
                              /* PA_MAX_ARTIFACT_PARTITIONS                                   */
    uint32_t num_buckets;     /* buckets; 0: min(num_partitions, PA_DEFAULT_MAX_BUCKETS)      */
                              /* at most PA_MAX_BUCKETS                                       */
    uint32_t code_bytes;      /* bytes per PQ code (num_sub_vectors for 8-bit codes); at most */
                              /* PA_MAX_CODE_BYTES                                            */
    uint32_t num_bits;        /* bits per sub-vector code (8 or 4); recorded; 0:              */
                              /* PA_DEFAULT_NUM_BITS                                          */
    uint32_t dimension;       /* vector dimension; recorded                                   */
    pa_metric metric;         /* recorded                                                     */
    const char *model;        /* model file the codes were made with (recorded with its       */
                              /* XXH64, and written into the artifact as metadata.lance), or  */
                              /* NULL                                                         */
    uint64_t memory_bytes;    /* the writer's buffers and tables; 0: PA_DEFAULT_MEMORY_BYTES; */
                              /* at least pa_artifact_writer_estimate's; filled by the buffers */
    uint64_t expected_rows;   /* rows the caller will append, if known (0: unknown): the table */
                              /* of ranges they will make (one per partition per flush) is    */
                              /* then reserved from the budget, or refused up front           */
    uint64_t max_buffer_rows; /* 0: buffers as large as the budget allows; else at most this */
                              /* many rows per bucket buffer (tests: many small ranges)      */
    int replace;              /* non-zero: an existing artifact at dir is replaced atomically */
                              /* by finish; zero: it is refused (PA_ERR_EXISTS)               */
    /* The rows the artifact holds, a JSON object recorded in the manifest ("coverage") for
     * finalize over several artifacts (pa_index_finalize_artifacts), which refuses shards that
     * overlap; NULL: none recorded. pa_encode_input records its input's (pa_vec_input_options'
     * selection): a table's {"table", "version", "column", "fragments": [{"id", "rows",
     * "file", "deletion"?}]} or a file's {"input", "input_rows", "row_begin", "row_end"}. */
    const char *coverage;
    /* Non-zero: the bucket files and their directory are not fsynced (the manifest's commit
     * still is): for an artifact that is removed once finalized, as pa_build's work directory
     * is, whose bucket data then need never reach the disk; zero (the default): every file
     * is fsynced before the manifest names it. */
    int no_sync;
} pa_artifact_params;

#define PA_ARTIFACT_PARAMS_INIT                                                          \
    {                                                                                    \
        sizeof(pa_artifact_params), 0, 0, 0, PA_DEFAULT_NUM_BITS, 0, PA_METRIC_L2, NULL, \
            PA_DEFAULT_MEMORY_BYTES, 0, 0, 0, NULL, 0                                    \
    }
PA_API pa_status pa_artifact_params_init(pa_artifact_params *o, size_t struct_size);

/* An artifact writer: one call at a time. */
typedef struct pa_artifact_writer pa_artifact_writer;

/* Writes a new artifact in a directory of its own beside dir (dir.partial-XXXXXX), renamed
 * into place by finish. Refuses an existing dir unless params->replace. Checks up front that
 * the budget holds at least a minimal buffer per bucket. */
PA_API pa_status pa_artifact_writer_create(pa_artifact_writer **out, const char *dir,
                                           const pa_artifact_params *params);

/* The smallest memory_bytes with which pa_artifact_writer_create accepts these parameters (a
 * smaller budget is refused with this number when expected_rows is 0), into *min_bytes: the
 * bucket table with each bucket file's writer, the partition table, and a buffer of 256 rows per
 * bucket plus the sort scratch; with expected_rows, also the range table and page records such
 * buffers would make. params->memory_bytes is not read; dir is named in messages only. */
PA_API pa_status pa_artifact_writer_estimate(const char *dir, const pa_artifact_params *params,
                                             uint64_t *min_bytes);

/* Appends a batch. Each array comes with its own length, so that callers through FFI get a
 * clear error on a mismatch: num_row_ids must equal num_part_ids, and codes_bytes must be
 * num_row_ids * code_bytes. A part_id out of range is refused, naming the row; a refused batch
 * appends nothing. */
PA_API pa_status pa_artifact_writer_append(pa_artifact_writer *w, const uint64_t *row_ids,
                                           size_t num_row_ids, const uint32_t *part_ids,
                                           size_t num_part_ids, const uint8_t *codes,
                                           size_t codes_bytes);

/* Flushes every buffer, closes the bucket files and commits the manifest. */
PA_API pa_status pa_artifact_writer_finish(pa_artifact_writer *w);

/* Removes everything the writer wrote (it must still be freed). Freeing an unfinished writer
 * aborts it too. */
PA_API void pa_artifact_writer_abort(pa_artifact_writer *w);
PA_API void pa_artifact_writer_free(pa_artifact_writer *w);

typedef struct pa_artifact_write_stats {
    size_t struct_size;     /* sizeof(pa_artifact_write_stats)                */
    uint64_t rows;          /* rows appended                                  */
    uint64_t flushes;       /* bucket buffers sorted and written              */
    uint64_t ranges;        /* (offset, num_rows) ranges recorded             */
    uint64_t bytes_written; /* bucket file bytes written so far               */
    uint64_t buffer_bytes;  /* memory held by the bucket buffers and scratch  */
} pa_artifact_write_stats;

#define PA_ARTIFACT_WRITE_STATS_INIT                   \
    {                                                  \
        sizeof(pa_artifact_write_stats), 0, 0, 0, 0, 0 \
    }
PA_API pa_status pa_artifact_writer_stats(const pa_artifact_writer *w,
                                          pa_artifact_write_stats *out);

/* A committed artifact, open for reading. pa_artifact_read_partition and the calls taking a
 * const artifact may run concurrently on one artifact (a scan's read-ahead threads do);
 * pa_artifact_verify and pa_artifact_scan_create too. It must outlive its scans. */
typedef struct pa_artifact pa_artifact;

/* Opens dir: parses and checks manifest.json (Lance's partition-artifact layout, with or
 * without partifact's extras, or the 0.1 layout), and checks it against the bucket files
 * (present, same size, same rows, the expected schema, this artifact's id and their bucket
 * number where recorded), and that the ranges of each file tile it. PA_ERR_INCOMPLETE when
 * there is no manifest; PA_ERR_UNSUPPORTED for another manifest or extras version (0.1 layout:
 * format version 1, no checksums) or another checksum algorithm. Every read of rows below
 * checks each range's checksum where one is recorded (0.1 layout: and each row's part_id)
 * (docs/artifact-format.md). */
PA_API pa_status pa_artifact_open(pa_artifact **out, const char *dir);

typedef struct pa_artifact_info {
    size_t struct_size; /* sizeof(pa_artifact_info) */
    uint32_t num_partitions, num_buckets, code_bytes, num_bits, dimension;
    pa_metric metric;
    const char *model; /* NULL if none recorded */
    uint64_t total_rows;
    uint64_t total_bytes; /* bytes of the bucket files */
    uint64_t num_ranges;
    uint32_t num_files;
    int layout;                /* PA_ARTIFACT_LAYOUT_*                                       */
    const char *metadata_file; /* the manifest's metadata_file (relative), or NULL           */
} pa_artifact_info;

/* pa_artifact_info.layout: what wrote the artifact, so what can be checked. */
#define PA_ARTIFACT_LAYOUT_PARTIFACT 0 /* the upstream layout with partifact's extras       */
#define PA_ARTIFACT_LAYOUT_FOREIGN 1   /* the upstream layout without them: structure only */
#define PA_ARTIFACT_LAYOUT_V01 2       /* the partifact 0.1 layout (read only)             */

#define PA_ARTIFACT_INFO_INIT                                                            \
    {                                                                                    \
        sizeof(pa_artifact_info), 0, 0, 0, 0, 0, PA_METRIC_L2, NULL, 0, 0, 0, 0, 0, NULL \
    }
PA_API pa_status pa_artifact_get_info(const pa_artifact *a, pa_artifact_info *out);

/* The coverage the manifest records (pa_artifact_params.coverage), NULL if none; valid while
 * the artifact is open. */
PA_API const char *pa_artifact_coverage(const pa_artifact *a);

/* Rows, file index and number of ranges of partition p. */
PA_API pa_status pa_artifact_partition(const pa_artifact *a, uint32_t p, uint64_t *num_rows,
                                       uint32_t *file, uint32_t *num_ranges);
/* Range r of partition p: its row offset in the partition's file and its length. */
PA_API pa_status pa_artifact_range(const pa_artifact *a, uint32_t p, uint32_t r, uint64_t *offset,
                                   uint64_t *num_rows);
/* File f: path relative to the artifact, rows, bytes. */
PA_API pa_status pa_artifact_file(const pa_artifact *a, uint32_t f, const char **path,
                                  uint64_t *num_rows, uint64_t *bytes);

/* Reads partition p's rows: exactly its recorded ranges, with positioned reads. row_ids must
 * hold num_rows entries and codes num_rows * code_bytes bytes (either may be NULL to skip that
 * column). */
PA_API pa_status pa_artifact_read_partition(pa_artifact *a, uint32_t p, uint64_t *row_ids,
                                            uint8_t *codes);

/* Bytes read from bucket files so far (all readers of this artifact). */
PA_API uint64_t pa_artifact_bytes_read(const pa_artifact *a);

typedef struct pa_artifact_verify_report {
    size_t struct_size; /* sizeof(pa_artifact_verify_report) */
    uint64_t files_checked, rows_checked, ranges_checked, bytes_hashed;
    int structural_only; /* non-zero: an artifact without partifact's extras (another program's): */
                         /* no file hashes, range checksums or model identity to check against */
} pa_artifact_verify_report;

#define PA_ARTIFACT_VERIFY_REPORT_INIT                   \
    {                                                    \
        sizeof(pa_artifact_verify_report), 0, 0, 0, 0, 0 \
    }

/* Full check: each file's XXH64 (and metadata.lance's); every row of every file in exactly one
 * range; ranges inside their files and not overlapping; every range's checksum (bound to its
 * partition; 0.1 layout: every row's part_id); totals. An artifact without partifact's extras
 * gets the structural checks only (report->structural_only). report may be NULL. */
PA_API pa_status pa_artifact_verify(pa_artifact *a, pa_artifact_verify_report *report);

PA_API void pa_artifact_free(pa_artifact *a);

/* Iterates all partitions in order with read-ahead: reader threads fetch the next partitions
 * while the caller works on the current one, holding at most readahead_bytes (but always at
 * least one partition) in flight. One call at a time on a scan; free joins its threads. */
typedef struct pa_artifact_scan pa_artifact_scan;

PA_API pa_status pa_artifact_scan_create(pa_artifact_scan **out, pa_artifact *a,
                                         uint64_t readahead_bytes, uint32_t num_threads);
/* The next partition in id order (empty ones included, with *num_rows 0): its id, rows and
 * pointers to its row ids and codes, valid until the next call. PA_END once every partition
 * has been returned. */
PA_API pa_status pa_artifact_scan_next(pa_artifact_scan *s, uint32_t *part,
                                       const uint64_t **row_ids, const uint8_t **codes,
                                       uint64_t *num_rows);
PA_API void pa_artifact_scan_free(pa_artifact_scan *s);

/* ------------------------------------------------------------------------------------------ */
/* Encoding: input -> backend -> artifact                                                     */
/* ------------------------------------------------------------------------------------------ */

typedef struct pa_encode_options {
    size_t struct_size;    /* sizeof(pa_encode_options)                                      */
    uint32_t num_buckets;  /* artifact bucket files; 0: min(num_partitions,                  */
                           /* PA_DEFAULT_MAX_BUCKETS)                                        */
    uint64_t memory_bytes; /* budget for the model, the backend's memory (as it reports it), */
                           /* the input batch and the writer's buffers and ranges; 0:        */
                           /* PA_DEFAULT_MEMORY_BYTES                                        */
    uint64_t batch_rows;   /* rows per backend call; 0 (INIT): PA_DEFAULT_BATCH_ROWS, or fewer so */
                           /* that a batch and its working blocks take at most a quarter of  */
                           /* the budget                                                     */
    const char *model_path; /* the model's file, recorded in the manifest (may be NULL)       */
    pa_progress_fn progress;
    void *progress_ctx;
    int replace; /* non-zero: an existing artifact is replaced atomically          */
    int no_sync; /* non-zero: a scratch artifact (pa_artifact_params.no_sync)      */
} pa_encode_options;

#define PA_ENCODE_OPTIONS_INIT                                                           \
    {                                                                                    \
        sizeof(pa_encode_options), 0, PA_DEFAULT_MEMORY_BYTES, 0, NULL, NULL, NULL, 0, 0 \
    }
PA_API pa_status pa_encode_options_init(pa_encode_options *o, size_t struct_size);

typedef struct pa_encode_stats {
    size_t struct_size;             /* sizeof(pa_encode_stats)                                */
    uint64_t rows, skipped_invalid; /* rows encoded; rows skipped for NaN/Inf (skip_invalid)  */
    uint64_t bytes, ranges;         /* artifact bucket bytes and (offset, num_rows) ranges    */
    double seconds, read_seconds, encode_seconds, write_seconds;
} pa_encode_stats;

#define PA_ENCODE_STATS_INIT                            \
    {                                                   \
        sizeof(pa_encode_stats), 0, 0, 0, 0, 0, 0, 0, 0 \
    }

/* Trains a model on the seeded sample of in that pa_ivfpq_train_input takes, through backend
 * (NULL: the built-in cpu backend, which gives what pa_ivfpq_train_input gives). The sample is
 * checked against the model's rules (shape, enough rows, finite) before the backend sees it,
 * and what the backend trains is checked (finite) before it becomes the model. params NULL:
 * PA_IVFPQ_PARAMS_INIT; stats may be NULL; a plugin backend fills what it knows of them. */
PA_API pa_status pa_train_input(pa_ivfpq_model **out, pa_vec_input *in,
                                const pa_ivfpq_params *params, pa_backend *backend,
                                pa_ivfpq_train_stats *stats);

/* Distributed training: several participants (processes, machines) train one model together,
 * each on its share of the training sample, exchanging only sums. The engine that runs them
 * (MPI, Ray, Spark, ...) supplies the one collective, sum; every participant calls the
 * training with the same params and input and its own rank. */
typedef struct pa_train_comm {
    size_t struct_size; /* sizeof(pa_train_comm)                                          */
    uint32_t rank;      /* this participant, 0 .. size - 1                                 */
    uint32_t size;      /* the participants                                                */
    /* Adds v[0..count) over all participants and leaves the total in every participant's v:
     * in a fixed order that does not depend on timing (participant 0's values plus 1's plus
     * 2's ..., associated the same way every time), so that every participant, and every run,
     * gets the same totals bit for bit. Every participant calls it the same number of times
     * with the same counts. With one participant it may do nothing. A failure status ends the
     * training with it (the engine should then end the other participants too: they are
     * waiting in their sum). */
    pa_status (*sum)(void *ctx, double *v, size_t count);
    void *ctx;
} pa_train_comm;

#define PA_TRAIN_COMM_INIT                      \
    {                                           \
        sizeof(pa_train_comm), 0, 1, NULL, NULL \
    }

/* Trains a model on in's seeded training sample (the one pa_ivfpq_train_input takes) as one
 * participant of comm: participant r reads its share of the sample (the sample's rows in
 * order, cut into comm->size runs: run r), the coarse k-means and each sub-space's PQ k-means
 * assign the participant's rows and add the participants' centroid sums and counts through
 * comm->sum once per iteration (P x dim + 2P + 1 doubles for the coarse k-means, 256 x dim / M
 * + 513 for a sub-space; before the first, the seeding's rows: at most 16 per centroid up to
 * 1,024 centroids, else one per centroid, x dim doubles), so every participant ends with the
 * same model, byte for byte, and a
 * single participant gets pa_ivfpq_train_input's model. The training sample is checked (finite,
 * enough rows) collectively: a participant whose share is refused returns its own message, the
 * others PA_ERR_INVALID with the message PA_TRAIN_COMM_REFUSED. Trains on the cpu (the built-in
 * k-means). stats: the sample of all participants. */
#define PA_TRAIN_COMM_REFUSED "training data: another participant's share of the sample was refused"
PA_API pa_status pa_train_input_comm(pa_ivfpq_model **out, pa_vec_input *in,
                                     const pa_ivfpq_params *params, const pa_train_comm *comm,
                                     pa_ivfpq_train_stats *stats);

/* Streams every row of in through backend (NULL: the built-in cpu backend) -- nearest centroid
 * and PQ code -- into a new partition artifact at artifact_dir, and commits it. The batch and
 * the writer's buffers together stay within the memory budget, which is checked before any work
 * starts (PA_ERR_BUDGET, with the numbers). On failure nothing that looks complete is left.
 * opts and stats may be NULL. */
PA_API pa_status pa_encode_input(pa_vec_input *in, const pa_ivfpq_model *model, pa_backend *backend,
                                 const char *artifact_dir, const pa_encode_options *opts,
                                 pa_encode_stats *stats);

/* ------------------------------------------------------------------------------------------ */
/* IVF_PQ index: the LanceDB layout, finalize                                                 */
/* ------------------------------------------------------------------------------------------ */
/*
 * An index is a directory laid out as LanceDB lays out its IVF_PQ indexes:
 *
 *   INDEX/index.idx       the IVF model: 0 rows (column __flat_marker u64), global buffer 1 an
 *                         IVF protobuf with the centroids tensor [P, dim]; schema metadata
 *                         lance:index {"type":"IVF_PQ","distance_type":...}, lance:ivf "1",
 *                         lance:flat, partifact:index
 *   INDEX/auxiliary.idx   the storage: _rowid u64 and __pq_code fixed_size_list<u8, M>, rows
 *                         grouped by partition in partition order, sorted by row id within a
 *                         partition, codes transposed within each partition ([m][i]);
 *                         global buffer 1 an IVF protobuf with per-partition offsets and
 *                         lengths, global buffer 2 the PQ codebook as a Tensor
 *                         (shape [2^bits, dim], data laid out [M][2^bits][dim/M]); schema
 *                         metadata distance_type, lance:ivf "1", storage_metadata,
 *                         partifact:index
 *
 * The within-partition order is defined (ascending row id, then code bytes), so the same model
 * and the same rows give byte-identical index files whichever way they were finalized.
 * A finalize writes INDEX.partial-XXXXXX/new/ and renames it to INDEX/ only when both files
 * are complete and fsynced; an existing INDEX is refused unless replace (see Outputs below).
 */

#define PA_INDEX_FORMAT "partifact.index"
#define PA_INDEX_FORMAT_VERSION 1

typedef struct pa_index_finalize_options {
    size_t struct_size; /* sizeof(pa_index_finalize_options) */
    /* Memory budget in bytes; 0: PA_DEFAULT_MEMORY_BYTES (256 MiB). Both paths hold their
     * largest partition whole while it is sorted and written; the artifact path also holds
     * the manifest's tables, and pa_index_finalize_estimate gives the smallest budget it
     * accepts for an artifact (a smaller one is refused with PA_ERR_BUDGET and the same
     * numbers, before anything is read); the rest of the budget is read-ahead. Rows path: the
     * in-memory sort buffer (at least 256 rows); larger inputs spill sorted runs, merged with
     * one read buffer per run (the budget left beside the largest partition, shared; at least
     * 16 records each); a partition that does not fit beside them is refused before the
     * merge. */
    uint64_t memory_bytes;
    /* Rows path: directory for spill files; NULL means the parent directory of out_dir. */
    const char *tmp_dir;
    /* Artifact path: read-ahead threads; 0: PA_DEFAULT_FINALIZE_THREADS. */
    uint32_t num_threads;
    /* Called after each partition is written ("finalize", partitions done, total); may be NULL */
    pa_progress_fn progress;
    void *progress_ctx;
    /* JSON written as index.idx's partifact:source (the table the rows came from); NULL: none */
    const char *source;
    /* Non-zero: an existing index at out_dir is replaced, atomically; zero: it is refused
     * (PA_ERR_EXISTS). */
    int replace;
} pa_index_finalize_options;

#define PA_INDEX_FINALIZE_OPTIONS_INIT                                    \
    {                                                                     \
        sizeof(pa_index_finalize_options), PA_DEFAULT_MEMORY_BYTES, NULL, \
            PA_DEFAULT_FINALIZE_THREADS, NULL, NULL, NULL, 0              \
    }
PA_API pa_status pa_index_finalize_options_init(pa_index_finalize_options *o, size_t struct_size);

typedef struct pa_index_finalize_stats {
    size_t struct_size; /* sizeof(pa_index_finalize_stats)                           */
    uint64_t rows;
    uint32_t partitions;
    uint64_t max_partition_rows; /* the largest partition (what one partition buffer holds)  */
    uint64_t bytes_read;         /* input bytes read (artifact buckets, or the rows file),    */
                                 /* spill bytes read back included                            */
    uint64_t bytes_written;      /* index file bytes plus spill bytes written                 */
    uint64_t index_bytes;        /* bytes of index.idx + auxiliary.idx                       */
    uint64_t spill_bytes;        /* rows path: bytes written to spill runs (0: none)          */
    uint32_t spill_runs;         /* rows path: sorted runs spilled                            */
    double seconds;
} pa_index_finalize_stats;

#define PA_INDEX_FINALIZE_STATS_INIT                               \
    {                                                              \
        sizeof(pa_index_finalize_stats), 0, 0, 0, 0, 0, 0, 0, 0, 0 \
    }

/* Writes an index from a committed artifact: every partition in id order, read once through
 * its recorded ranges (pa_artifact_scan, read-ahead), sorted by row id and written. model_path
 * NULL means the model the manifest records (a relative path is tried from the current
 * directory, then from the artifact directory); a model given here must match the artifact's
 * dimension, sub-vectors, partitions, bits and metric, and the recorded XXH64. An artifact
 * whose coverage names a Lance table's fragments (pa_encode_input of a table) gives the index
 * that source record (opts->source NULL), so that it can be committed into the table. opts and
 * stats may be NULL. */
PA_API pa_status pa_index_finalize_artifact(const char *artifact_dir, const char *model_path,
                                            const char *out_dir,
                                            const pa_index_finalize_options *opts,
                                            pa_index_finalize_stats *stats);

/* Several artifacts -- the shards of one build, each encoded from its own share of the input
 * (pa_vec_input_options' fragments or row range) with the same model -- finalized into ONE
 * index (one segment): each partition is read from every shard's ranges in turn (no data
 * rewritten, no re-group) and written sorted by row id, so the segment equals per partition
 * the index one artifact of all the rows gives. Refused (PA_ERR_INVALID, naming both
 * artifacts): shards of different models (the recorded XXH64s), partitions, code width, bits,
 * dimension or metric; an artifact without a coverage record; shards of different inputs (a
 * table's path, version and column; a file's path and rows) or that overlap (a fragment in
 * two, intersecting row ranges). Shards of a Lance table give the index a source record over
 * the union of their fragments (for pa_table_commit_index). Memory: the manifests' tables and
 * the largest partition of the segment (summed over the shards) while it is sorted and
 * written, refused up front against memory_bytes. n 1: pa_index_finalize_artifact. */
PA_API pa_status pa_index_finalize_artifacts(const char *const *artifact_dirs, size_t n,
                                             const char *model_path, const char *out_dir,
                                             const pa_index_finalize_options *opts,
                                             pa_index_finalize_stats *stats);

/* The smallest memory_bytes pa_index_finalize_artifact accepts for this artifact, into
 * *min_bytes: its manifest's tables (held throughout) plus its largest partition as read and
 * the index writer's sort keys and sorted copies of it. */
PA_API pa_status pa_index_finalize_estimate(const char *artifact_dir, uint64_t *min_bytes);

/* The generic path: rows_path is a Lance file with columns row_id u64, part_id u32 and pq_code
 * fixed_size_list<u8, M> in any order, or a directory of Lance's precomputed shuffle buffers
 * (what lance-cuvs' older versions write through Lance's IvfShuffler: sorted_<n>.lance files of
 * partitions: list<struct<_rowid, __ivf_part_id, __pq_code>>, docs/architecture.md). Rows are
 * sorted by (part_id, row_id) within the memory budget, spilling sorted runs to tmp_dir and
 * merging them when the input does not fit, and the same index as pa_index_finalize_artifact's
 * is written. model_path is required for a rows file; for a shuffle directory NULL means its
 * metadata.lance. */
PA_API pa_status pa_index_finalize_rows(const char *rows_path, const char *model_path,
                                        const char *out_dir, const pa_index_finalize_options *opts,
                                        pa_index_finalize_stats *stats);

/* Writes every row of an artifact into one Lance file with the artifact's bucket schema
 * (row_id, part_id, pq_code), the input of pa_index_finalize_rows. shuffle_seed 0 streams the
 * bucket files in file order (partitions interleaved as they were flushed); any other seed
 * shuffles all rows in memory with that seed. *rows_out (may be NULL) gets the rows written. */
PA_API pa_status pa_artifact_export_rows(const char *artifact_dir, const char *rows_path,
                                         uint64_t shuffle_seed, uint64_t *rows_out);

/* ------------------------------------------------------------------------------------------ */
/* Search, ground truth and recall                                                            */
/* ------------------------------------------------------------------------------------------ */

/* An index opened for search: the centroids, codebook, row ids and codes are read into memory
 * (about rows * (8 + M) bytes plus the model), or, opened with a memory budget, the centroids
 * and codebook only, the probed partitions being read on demand. pa_index_search and every call
 * taking a const index may run concurrently on one index (the partition cache of an index
 * opened with a budget is shared under a lock). */
typedef struct pa_index pa_index;

typedef struct pa_index_open_options {
    size_t struct_size; /* sizeof(pa_index_open_options)                                  */
    /* 0: every row in memory (pa_index_open). Otherwise the bytes the index may hold: its fixed
     * part (centroids, codebook, partition offsets, and the precomputed table terms where they
     * fit beside the largest partition) plus a cache of partitions (row ids and codes, 8 + M
     * bytes a row) read on demand by positioned reads, least recently used evicted first. An
     * index whose fixed part, or whose largest partition beside it, exceeds the budget is
     * refused (PA_ERR_INVALID, with the numbers). The cache is one mapping of at most its
     * share, each partition in it at an 8-byte boundary, so that what it holds resident never
     * passes its share (pa_index_info's cache_bytes and cache_peak_bytes). The rows hash is
     * checked at open in a streaming pass over the partitions. A search's own arrays
     * (pa_index_search_memory) and the results are not counted. Results are the same as
     * without a budget. */
    uint64_t memory_bytes;
} pa_index_open_options;

#define PA_INDEX_OPEN_OPTIONS_INIT       \
    {                                    \
        sizeof(pa_index_open_options), 0 \
    }
PA_API pa_status pa_index_open_options_init(pa_index_open_options *o, size_t struct_size);

/* The memory of an index opened with a budget, from its metadata and partition table alone:
 * *fixed_bytes held whatever the budget (centroids, codebook, partition offsets, the cache's
 * entries) and *min_bytes, the smallest memory_bytes pa_index_open_ex accepts (the fixed part
 * and the largest partition, to an 8-byte boundary); a smaller budget is refused with these
 * numbers. */
PA_API pa_status pa_index_memory_estimate(const char *dir, uint64_t *fixed_bytes,
                                          uint64_t *min_bytes);

/* The two files must be of one index: partifact's carry the same partifact:index JSON (model
 * XXH64, parameters, rows and rows_xxh64, the hash of the stored row ids and codes, checked
 * against what is read); LanceDB's, which lack it, must agree in dimension, partitions,
 * sub-vectors, code width, metric and partition lengths (summing to the rows). Otherwise
 * PA_ERR_FORMAT naming what differs. */
PA_API pa_status pa_index_open(pa_index **out, const char *dir);
/* pa_index_open with options (NULL: as pa_index_open). */
PA_API pa_status pa_index_open_ex(pa_index **out, const char *dir,
                                  const pa_index_open_options *opts);
PA_API void pa_index_free(pa_index *idx);

typedef struct pa_index_info {
    size_t struct_size; /* sizeof(pa_index_info)                                         */
    uint32_t dimension, num_partitions, num_sub_vectors, num_bits;
    pa_metric metric;
    uint64_t num_rows;
    uint64_t max_partition_rows;
    uint64_t bytes;        /* index.idx + auxiliary.idx */
    uint64_t memory_bytes; /* the budget it was opened with (0: none)                       */
    /* With a budget: the cache's share of it (the budget less the fixed part and the
     * precomputed terms where taken), the most its partitions held at once since the open
     * (each from an 8-byte boundary, as the cache lays them out: never more than
     * cache_bytes), and the partitions read into it. 0 without a budget. */
    uint64_t cache_bytes, cache_peak_bytes, cache_reads;
} pa_index_info;

#define PA_INDEX_INFO_INIT                                                   \
    {                                                                        \
        sizeof(pa_index_info), 0, 0, 0, 0, PA_METRIC_L2, 0, 0, 0, 0, 0, 0, 0 \
    }
PA_API pa_status pa_index_get_info(const pa_index *idx, pa_index_info *out);

/* Partition p as stored: its row ids (ascending) and its codes, transposed (num_rows * M
 * bytes, sub-vector-major: code byte m of row i is codes[m * num_rows + i]). Pointers are
 * valid while the index lives. Opened with a memory budget, the rows are not held: row_ids and
 * codes are NULL, num_rows is set. */
PA_API pa_status pa_index_partition(const pa_index *idx, uint32_t p, const uint64_t **row_ids,
                                    const uint8_t **codes, uint64_t *num_rows);

typedef struct pa_index_search_options {
    size_t struct_size;     /* sizeof(pa_index_search_options)                               */
    uint32_t k;             /* neighbours per query (INIT: PA_DEFAULT_K); 0, or more than    */
                            /* the index's rows, is an error                                 */
    uint32_t nprobes;       /* partitions scanned per query; 0: PA_DEFAULT_NPROBES; more     */
                            /* than the index has is clamped to num_partitions (see          */
                            /* nprobes_used)                                                 */
    uint32_t refine_factor; /* 0 or 1: no refine. R > 1: the k*R best by ADC are re-ranked  */
                            /* by exact distance to the original vectors, read by row id    */
                            /* (the row's ordinal) from refine_input                        */
    /* The vectors refine reads: every row it reads is checked at every search, as
     * pa_vec_input_read_ids checks it (a row id past the input, a record of another dimension, a
     * NaN, an infinity or a squared norm over PA_MAX_SQ_NORM is an error naming the row), never
     * trusted because the index was built from the same file. A float32 file (.fvecs, '<f4'
     * .npy) is mapped and read in place; it must not be truncated or rewritten in place while
     * searches run (a truncated mapping faults; replace a file by renaming a new one over it). */
    pa_vec_input *refine_input;
    uint32_t num_threads; /* OpenMP threads over queries; 0: OpenMP's default             */
    /* 4-bit indexes: the fast scan (tables quantised to bytes, looked up 32 rows at a time).
     * PA_FAST_SCAN_AUTO (INIT): the fast scan for 4-bit indexes, the plain ADC scan for 8-bit
     * ones; PA_FAST_SCAN_OFF: the plain ADC scan always (what it returns is the reference the
     * fast scan approaches). */
    uint32_t fast_scan;
    /* Fast scan: the k * R * F best rows by quantised distance (F this, R the refine factor;
     * INIT: PA_DEFAULT_RERANK_FACTOR; 0 is 1) are re-ranked by their exact ADC distance, and
     * the k * R best of them returned (or refined). Ignored by the plain scan. */
    uint32_t rerank_factor;
} pa_index_search_options;

#define PA_FAST_SCAN_AUTO 0u
#define PA_FAST_SCAN_OFF 1u

#define PA_INDEX_SEARCH_OPTIONS_INIT                                                   \
    {                                                                                  \
        sizeof(pa_index_search_options), PA_DEFAULT_K, PA_DEFAULT_NPROBES, 0, NULL, 0, \
            PA_FAST_SCAN_AUTO, PA_DEFAULT_RERANK_FACTOR                                \
    }
PA_API pa_status pa_index_search_options_init(pa_index_search_options *o, size_t struct_size);

typedef struct pa_index_search_stats {
    size_t struct_size;     /* sizeof(pa_index_search_stats)                   */
    uint32_t nprobes_used;  /* after clamping                                  */
    uint64_t codes_scanned; /* ADC distances computed, all queries together    */
    uint64_t rows_refined;  /* original vectors read for refine                */
    double seconds;
    uint32_t fast_scan_used; /* 1: the fast scan ran (a 4-bit index, fast_scan AUTO) */
    uint64_t rows_reranked;  /* fast scan: exact ADC distances computed            */
} pa_index_search_stats;

#define PA_INDEX_SEARCH_STATS_INIT                      \
    {                                                   \
        sizeof(pa_index_search_stats), 0, 0, 0, 0, 0, 0 \
    }

/* Searches nq queries (nq x dim floats, row-major): per query the nprobes nearest centroids
 * (one sgemm for the whole batch), then per probed partition a table of M x 2^bits
 * sub-distances (to the residual for l2/cosine, dot products for dot) summed over the codes,
 * keeping the k best. out_ids and out_dists get nq x k entries, best first; ties are broken by
 * the smaller row id. Distances: l2 squared Euclidean; cosine squared Euclidean between the
 * normalised query and the (normalised) vector, i.e. 2 - 2 cos; dot the NEGATED inner product,
 * so that smaller is always nearer. Slots left when the probed partitions hold fewer than k
 * rows get id UINT64_MAX and distance +inf. A query of another dimension than the index's is
 * PA_ERR_INVALID naming both. stats may be NULL. */
PA_API pa_status pa_index_search(pa_index *idx, const float *queries, uint64_t nq, uint32_t dim,
                                 const pa_index_search_options *opts, uint64_t *out_ids,
                                 float *out_dists, pa_index_search_stats *stats);

/* The most memory pa_index_search allocates for a call of nq queries with these options (NULL: the
 * defaults), into *bytes: a block of at most 8192 queries (fewer where one of its arrays would
 * pass 32 MiB) and its arrays (their products with every codeword or, for the 4-bit fast scan, the
 * codebook transposed, their distances to every centroid, their candidates and norms; for cosine a
 * normalised copy of the queries), one allocation, a mapping of its own from 256 KiB (from 8 MiB
 * in whole 2 MiB pages, advised as transparent huge pages), unmapped when the call returns; and
 * per thread the scan's table (and the fast scan's query products, for its group of queries where
 * they fit), the probes and a query's distance to every centroid, the group's probe list (twice:
 * the C library's sort may copy it), the fast scan's scratch and the refine's vectors. Not
 * counted: the caller's queries and outputs, and, for an index opened with a budget, the budget
 * itself, which the partition cache never passes (pa_index_info's cache_peak_bytes): such a search
 * holds at most the budget, this, the Lance reader's buffer for one partition (its chunks, read in
 * pieces of about 1 MiB) and what the process holds anyway (its code, libraries, threads' stacks,
 * BLAS buffers). Not countable from the index either, so not counted: the Lance reader's chunk
 * tables (held by the open index from the open on, sized by how the file's writer cut its pages,
 * which its footer alone does not say until they are read), and with refine on a mapped input (an
 * .fvecs / .npy file) the pages of the rows it re-ranks, which stay mapped, shared with the page
 * cache and reclaimable, up to the input file's size. k 0, or k times the refine and rerank
 * factors past PA_MAX_SEARCH_CANDIDATES, is PA_ERR_INVALID. A search over several segments:
 * pa_index_search_segments_memory. */
PA_API pa_status pa_index_search_memory(const pa_index *idx, uint64_t nq,
                                        const pa_index_search_options *opts, uint64_t *bytes);

/* Searches the n segments of one index (pa_table_commit_segments; each opened with
 * pa_index_open or _open_ex) as LanceDB searches such an index: each segment as
 * pa_index_search does (the same nprobes probe the same partitions, the segments sharing one
 * model), then the k best of their union, by distance and then the smaller row id. k must be
 * at most the segments' rows together; segments of different models (centroids, shape, the
 * recorded model XXH64) are PA_ERR_INVALID. With refine, each segment re-ranks its own
 * k * refine_factor candidates. n 1 is pa_index_search. */
PA_API pa_status pa_index_search_segments(pa_index *const *segments, size_t n, const float *queries,
                                          uint64_t nq, uint32_t dim,
                                          const pa_index_search_options *opts, uint64_t *out_ids,
                                          float *out_dists, pa_index_search_stats *stats);
/* The most memory pa_index_search_segments allocates for a call of nq queries, into *bytes:
 * the largest of the segments' pa_index_search_memory (they are searched one after another),
 * plus every segment's k results per query (row ids and distances) held for the merge, and
 * the merge's positions where there are more segments than it keeps on the stack (what
 * pa_index_search_memory leaves out, it leaves out too). n 1 is pa_index_search_memory. */
PA_API pa_status pa_index_search_segments_memory(pa_index *const *segments, size_t n, uint64_t nq,
                                                 const pa_index_search_options *opts,
                                                 uint64_t *bytes);

/* Exact k nearest neighbours of nq queries among all rows of base (distances as for
 * pa_index_search, ids are the base's row ids), by sgemm over blocks of queries and base rows
 * so that memory stays bounded (about 40 MiB plus the results). The base is rewound and read
 * once per block of 2048 queries. out_dists may be NULL. */
PA_API pa_status pa_groundtruth(pa_vec_input *base, const float *queries, uint64_t nq, uint32_t dim,
                                uint32_t k, pa_metric metric, uint64_t *out_ids, float *out_dists);

/* .ivecs files of neighbour ids: each row is int32 k followed by k int32 ids. write refuses an
 * id that does not fit in int32 (UINT64_MAX is written as -1). read allocates *ids (n x k,
 * free with free()); every row must have the same k. */
PA_API pa_status pa_ivecs_write(const char *path, const uint64_t *ids, uint64_t n, uint32_t k);
PA_API pa_status pa_ivecs_read(const char *path, uint64_t **ids, uint64_t *n, uint32_t *k);

/* Neighbour ids in the format the path's extension names: .npy, a NumPy uint64 array of shape
 * (n, k), for ids of any size (a Lance dataset's row addresses; UINT64_MAX marks a missing
 * neighbour), read also as int64 or int32 with negative ids missing (FAISS's -1); anything
 * else .ivecs as above. */
PA_API pa_status pa_ids_write(const char *path, const uint64_t *ids, uint64_t n, uint32_t k);
PA_API pa_status pa_ids_read(const char *path, uint64_t **ids, uint64_t *n, uint32_t *k);

/* Mean recall@k of found (nq x found_k, best first) against truth (nq x truth_k): per query
 * |found[:k] ∩ truth[:k]| / k. k must be at most found_k and truth_k. */
PA_API pa_status pa_recall_at_k(const uint64_t *found, uint32_t found_k, const uint64_t *truth,
                                uint32_t truth_k, uint64_t nq, uint32_t k, double *recall);

/* ------------------------------------------------------------------------------------------ */
/* The whole build: train -> encode -> artifact -> finalize                                   */
/* ------------------------------------------------------------------------------------------ */

typedef struct pa_build_options {
    size_t struct_size; /* sizeof(pa_build_options) */
    /* Training parameters (NULL: PA_IVFPQ_PARAMS_INIT). num_partitions 0: about sqrt(rows);
     * num_sub_vectors 0: the largest divisor of the dimension up to dim/8 (dim/16 above 256
     * dimensions). Read through its own struct_size. */
    const pa_ivfpq_params *params;
    const char *accelerator;  /* the backend that trains and encodes; NULL: PA_DEFAULT_BACKEND */
    const char *backend_path; /* where to look for it (see pa_backend_open); may be NULL    */
    uint32_t num_buckets;     /* artifact bucket files; 0: min(partitions,                  */
                              /* PA_DEFAULT_MAX_BUCKETS)                                    */
    /* The budget of every stage, the training sample's included: a sample that would take more
     * is cut to the rows that fit (the train stats' sample_wanted_rows says how many it would
     * have had), and a budget below the least sample (max(partitions, codewords) rows) is
     * refused. 0 (INIT): PA_DEFAULT_MEMORY_BYTES for encode and finalize, and the sample the
     * rows sample_rate asks for whatever they take (a default does not cut a model's sample). */
    uint64_t memory_bytes;
    uint64_t batch_rows; /* encode batch; 0 (INIT): as for pa_encode_options            */
    /* Where the model and artifact go (model.lance, artifact/): a new directory, made by the
     * build (an existing one is refused); NULL: "<out_dir>.build-XXXXXX" beside the index.
     * Removed at the end unless keep_work. */
    const char *work_dir;
    int keep_work;
    int replace;             /* non-zero: an existing index at out_dir is replaced atomically */
    pa_progress_fn progress; /* stages "train", "encode" (rows), "finalize" (partitions)   */
    void *progress_ctx;
    /* passed to the backend (see pa_backend_open): KEY=VALUE[,KEY=VALUE...]; NULL: none */
    const char *backend_options;
} pa_build_options;

#define PA_BUILD_OPTIONS_INIT                                                             \
    {                                                                                     \
        sizeof(pa_build_options), NULL, NULL, NULL, 0, 0, 0, NULL, 0, 0, NULL, NULL, NULL \
    }
PA_API pa_status pa_build_options_init(pa_build_options *o, size_t struct_size);

/* The stages' own stats are the caller's structs (each with its struct_size set), pointed at
 * here; NULL ones are not written. */
typedef struct pa_build_stats {
    size_t struct_size;                       /* sizeof(pa_build_stats)                     */
    uint32_t num_partitions, num_sub_vectors; /* the parameters used (defaults resolved)   */
    uint64_t rows;                            /* rows encoded                              */
    double train_seconds, seconds;
    pa_ivfpq_train_stats *train;
    pa_encode_stats *encode;
    pa_index_finalize_stats *finalize;
    double model_seconds; /* writing the trained model into the work directory            */
} pa_build_stats;

#define PA_BUILD_STATS_INIT                                        \
    {                                                              \
        sizeof(pa_build_stats), 0, 0, 0, 0, 0, NULL, NULL, NULL, 0 \
    }

/* Builds an IVF_PQ index at out_dir (which must not exist, unless opts->replace) from every
 * row of in: trains on a seeded sample, encodes all rows into a partition artifact, and
 * finalizes the index from it. opts and stats may be NULL. */
PA_API pa_status pa_build(pa_vec_input *in, const char *out_dir, const pa_build_options *opts,
                          pa_build_stats *stats);

/* The defaults pa_build uses for n rows / dimension dim (with 4-bit codes, an odd default
 * number of sub-vectors is doubled where that still divides dim: codes pair up in bytes). */
PA_API uint32_t pa_build_default_partitions(uint64_t n);
PA_API uint32_t pa_build_default_sub_vectors(uint32_t dim);

/* ------------------------------------------------------------------------------------------ */
/* Table commits: an index registered in its Lance table                                      */
/* ------------------------------------------------------------------------------------------ */
/*
 * An index built from a Lance table records its source in index.idx (key partifact:source:
 * the table's real path, the version read, the vector column, and each fragment's id, rows and
 * data file). A commit makes it part of the table's next version, as LanceDB commits its own:
 * the index files copied (and fsynced) to TABLE/_indices/<uuid>/, a transaction file in
 * TABLE/_transactions/, and the next manifest in the table's naming scheme carrying the old
 * manifest's fields unchanged and an index section with every existing index plus the new one
 * (fields, name, the version built from, the fragments covered as a Roaring bitmap, the IVF_PQ
 * details, the files with their sizes, the time). The manifest is published by a rename that
 * fails when the version exists: then another writer committed first, and the commit
 * re-reads the table and commits on top when the fragments the index covers are unchanged.
 * Everything is checked before anything is written: on a refusal the table is untouched.
 */

typedef struct pa_table_commit_options {
    size_t struct_size; /* sizeof(pa_table_commit_options)                                  */
    const char *name;   /* the index name; NULL: "<column>_idx"                             */
    int replace;        /* non-zero: an index of that name is removed in the same commit    */
} pa_table_commit_options;

#define PA_TABLE_COMMIT_OPTIONS_INIT             \
    {                                            \
        sizeof(pa_table_commit_options), NULL, 0 \
    }
PA_API pa_status pa_table_commit_options_init(pa_table_commit_options *o, size_t struct_size);

typedef struct pa_table_commit_result {
    size_t struct_size;     /* sizeof(pa_table_commit_result)                                */
    uint64_t read_version;  /* the version committed on                                      */
    uint64_t version;       /* the new version                                               */
    uint64_t built_version; /* the version the index was built from                          */
    char uuid[37];          /* the index's uuid (its directory under _indices/)              */
    char name[256];
    uint32_t num_fragments; /* fragments the index covers                                    */
    uint32_t replaced;      /* index entries removed (replace)                               */
    uint32_t retries;       /* times another writer committed first                          */
    uint32_t num_segments;  /* index entries (segments) committed under the name             */
    /* Set by the caller (or NULL): room for one uuid per segment of pa_table_commit_segments,
     * filled in the order given (uuid above is the first). */
    char (*segment_uuids)[37];
} pa_table_commit_result;

#define PA_TABLE_COMMIT_RESULT_INIT                                       \
    {                                                                     \
        sizeof(pa_table_commit_result), 0, 0, 0, "", "", 0, 0, 0, 0, NULL \
    }

/* The checks a commit into table makes before it reads the index: a Lance table, feature flags
 * partifact understands (no stable row ids), a vector column named column (NULL: the only one),
 * and the index name free (name NULL: "<column>_idx") unless replace. For a build that commits
 * at the end: refuses before any work. */
PA_API pa_status pa_table_commit_check(const char *table, const char *column, const char *name,
                                       int replace);

/* Commits the index at index_dir (built from table) into table as its next version. opts and
 * out may be NULL. */
PA_API pa_status pa_table_commit_index(const char *table, const char *index_dir,
                                       const pa_table_commit_options *opts,
                                       pa_table_commit_result *out);

/* Commits n finalized segments (index directories, each built from the table: a finalize of
 * its own shards, pa_index_finalize_artifacts) as ONE index in ONE new version, as Lance
 * commits a distributed build: n index entries with the same name, fresh uuids, each its own
 * fragment bitmap and the version it was built from, in one CreateIndex transaction; LanceDB
 * lists one index with n segments and searches them all. Refused before anything is written
 * (PA_ERR_INVALID, naming the segments): segments of different models (the model XXH64 their
 * partifact:index records) or shapes, or built from another column; segments that share a
 * fragment; a segment built from another table or whose fragments changed (as for
 * pa_table_commit_index). opts->replace removes the old entries of the name in the same
 * commit. n 1 is pa_table_commit_index. */
PA_API pa_status pa_table_commit_segments(const char *table, const char *const *index_dirs,
                                          size_t n, const pa_table_commit_options *opts,
                                          pa_table_commit_result *out);

/* Checks that the table holds the fragments the index at index_dir was built from, unchanged
 * (for reading its vectors by row address, as search refine does): PA_ERR_INVALID naming the
 * fragment and the version built from otherwise. An index without a source record passes. */
PA_API pa_status pa_index_check_source(const char *index_dir, const char *table);

/* A table's description as JSON (malloc'd, free with free()): versions, the latest version's
 * fragments (rows, deleted rows), columns and indexes (name, uuid, type, fragments covered). */
PA_API pa_status pa_table_info_json(const char *table, char **json);

/* ------------------------------------------------------------------------------------------ */
/* Outputs                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* Every output partifact writes (models, artifacts, indexes, ids, rows files, generated files)
 * is written under a temporary name beside it, created with O_CREAT | O_EXCL | O_NOFOLLOW
 * (0644 less the umask), fsynced, renamed into place and its directory fsynced. An existing
 * output is refused (PA_ERR_EXISTS) unless replacing it is asked for (replace, or the replace
 * field of the call's options), and then replaced atomically: readers see the old output or
 * the complete new one. A symbolic link or a file of another kind in an output's place is
 * always refused. A failure leaves the old output as it was and no temporary file.
 * PA_ERR_EXISTS is the one status for an output that exists where replacing it was not asked
 * for; one that replace never replaces (a link, another kind of file, a directory that is no
 * such output, a work directory) is PA_ERR_INVALID whether or not replace is set. */

/* A buffered output file: create, write, commit (free after either). One call at a time. */
typedef struct pa_output pa_output;
PA_API pa_status pa_output_create(pa_output **out, const char *path, int replace);
PA_API pa_status pa_output_write(pa_output *o, const void *data, size_t len);
PA_API pa_status pa_output_commit(pa_output *o);
/* Frees o; an uncommitted output's temporary file is removed and path left as it was. */
PA_API void pa_output_free(pa_output *o);

/* Refuses (PA_ERR_INVALID) an output out that is one of the inputs (the same file: st_dev and
 * st_ino), a directory holding one of them, or a path inside an input directory. NULL inputs
 * are skipped. */
PA_API pa_status pa_output_check_inputs(const char *out, const char *const *inputs, size_t n);

/* Both checks a command makes before its work: pa_output_check_inputs, then that out may be
 * written: absent; or, with replace, a regular file (dir_kind NULL) or a directory holding the
 * file dir_kind (PA_ARTIFACT_MANIFEST_FILE for an artifact, PA_INDEX_FILE_NAME for an index;
 * no other directory is ever replaced); never a symbolic link. PA_ERR_EXISTS for an existing
 * one without replace. */
#define PA_ARTIFACT_MANIFEST_FILE "manifest.json"
#define PA_INDEX_FILE_NAME "index.idx"
PA_API pa_status pa_output_check(const char *out, int replace, const char *dir_kind,
                                 const char *const *inputs, size_t n);

/* The writers above with replace (non-zero: an existing output is replaced atomically). */
PA_API pa_status pa_ivfpq_model_save_ex(const pa_ivfpq_model *m, const char *path, int replace);
PA_API pa_status pa_ids_write_ex(const char *path, const uint64_t *ids, uint64_t n, uint32_t k,
                                 int replace);
PA_API pa_status pa_artifact_export_rows_ex(const char *artifact_dir, const char *rows_path,
                                            uint64_t shuffle_seed, uint64_t *rows_out, int replace);

/* ------------------------------------------------------------------------------------------ */
/* CPU and BLAS kernels                                                                       */
/* ------------------------------------------------------------------------------------------ */

/* Every sgemm partifact calls (k-means, assignment, ground truth, search tables) runs in the
 * BLAS it was built with, OpenBLAS. OpenBLAS chooses its kernels once, when it is loaded; on a
 * CPU it does not recognise it may choose generic ones (e.g. "Prescott", SSE3 only, on an
 * AVX-512 Xeon: sgemm about 6x below what the CPU allows). pa_blas_info tells whether that
 * happened and what to do: set the environment variable PA_BLAS_CORETYPE_ENV to
 * recommended_core BEFORE the library is loaded (in the shell, or by re-executing the program;
 * the partifact CLI does the latter by itself, see README). */

#define PA_BLAS_CORETYPE_ENV "OPENBLAS_CORETYPE"

/* pa_cpu_info.features bits (each: the CPU has it and the operating system enables it). */
#define PA_CPU_AVX2 (1u << 0)
#define PA_CPU_FMA (1u << 1)
#define PA_CPU_AVX512F (1u << 2)
#define PA_CPU_AVX512BW (1u << 3)
#define PA_CPU_AVX512VL (1u << 4)
#define PA_CPU_AVX512DQ (1u << 5)
#define PA_CPU_AVX512CD (1u << 6)
#define PA_CPU_AVX512VNNI (1u << 7)
/* AMX-TILE + AMX-BF16 (with AVX-512F and AVX512-BF16), the OS enabling the tile state and
 * granting this process the tile-data permission: what the AMX kernels need */
#define PA_CPU_AMX_BF16 (1u << 8)

/* Set struct_size = sizeof(pa_cpu_info) before the call (PA_CPU_INFO_INIT); the library fills
 * the fields that fit in it (so a program built against an older header keeps working when the
 * struct grows). */
typedef struct pa_cpu_info {
    size_t struct_size;
    char vendor[16];         /* "GenuineIntel", "AuthenticAMD", ...; "" if unknown        */
    char model[64];          /* the brand string, e.g. "AMD EPYC 9B45"; "" if unknown      */
    uint32_t features;       /* PA_CPU_* bits                                              */
    char feature_names[128]; /* the same, space-separated: "avx2 fma avx512f ..."          */
    uint32_t cpus;           /* online logical CPUs                                        */
} pa_cpu_info;

#define PA_CPU_INFO_INIT                      \
    {                                         \
        sizeof(pa_cpu_info), "", "", 0, "", 0 \
    }

PA_API pa_status pa_cpu_info_get(pa_cpu_info *out);

/* Set struct_size = sizeof(pa_blas_info) before the call (as for pa_cpu_info). */
typedef struct pa_blas_info {
    size_t struct_size;
    char config[160];          /* openblas_get_config(): version and build options          */
    char core[32];             /* openblas_get_corename(): the kernels in use, e.g. "Haswell" */
    uint32_t threads;          /* threads sgemm runs on                                      */
    char coretype_env[32];     /* PA_BLAS_CORETYPE_ENV now ("" if unset)                     */
    int weak;                  /* 1: core is weaker than this CPU allows (see below)         */
    char recommended_core[32]; /* the core this CPU allows, e.g. "SkylakeX" ("" if none)     */
    char advice[224];          /* when weak: one sentence naming the variable to set; else "" */
} pa_blas_info;

#define PA_BLAS_INFO_INIT                              \
    {                                                  \
        sizeof(pa_blas_info), "", "", 0, "", 0, "", "" \
    }

PA_API pa_status pa_blas_info_get(pa_blas_info *out);

/* The OpenBLAS core (its OPENBLAS_CORETYPE name) for a CPU with the given PA_CPU_* features:
 * "SkylakeX" with AVX-512 F, BW, VL, DQ and CD; "Haswell" with AVX2 and FMA; NULL otherwise. */
PA_API const char *pa_blas_core_for(uint32_t features);

/* 1 if core (an OpenBLAS core name, any case) is weaker than the CPU with these features
 * allows: a core without AVX2 kernels (Prescott, Nehalem, Sandybridge, Core2, Atom, the
 * older AMD cores, ...) on a CPU for which pa_blas_core_for names one. Cores with AVX2 or
 * AVX-512 kernels (Haswell, Zen, SkylakeX, Cooperlake, SapphireRapids) and names it does not
 * know are not weak. */
PA_API int pa_blas_core_is_weak(const char *core, uint32_t features);

/* Measures sgemm (C = A B, n x n single-precision, row-major) in the BLAS as loaded: one
 * warm-up, then the best of three; *gflops = 2 n^3 / seconds / 1e9. n in [16, 4096]. Takes
 * 3 n^2 floats of memory and, at n = 1024, a fraction of a second. */
PA_API pa_status pa_blas_sgemm_gflops(uint32_t n, double *gflops);

/* Whether the build's nearest-centroid work (coarse k-means and the assignment to partitions,
 * dim >= 16) runs on the CPU's AMX-BF16 tiles, with the same answers as the fp32 sgemm path:
 * "used", or "off (...)" saying why (no AMX on the CPU, the OS's refusal, PA_AMX=0 in the
 * environment). */
PA_API const char *pa_amx_state(void);

/* Where AMX is not used: whether the same nearest-centroid work runs its candidate pass on
 * AVX512-BF16 (VDPBF16PS; Zen 4/5, Cooper Lake), the same answers as the fp32 path: "used", or
 * "off (...)" saying why (AMX used, no AVX512-BF16 on the CPU, or not asked for: it is on only
 * with PA_BF16=1 in the environment). */
PA_API const char *pa_bf16_state(void);

/* Measures the AMX nearest-centroid kernel: n rows of PA_AMX_MEASURE_DIM values against
 * PA_AMX_MEASURE_K centroids, one warm-up, then the best of three; *gflops counts the fp32
 * products it stands for, 2 n k dim / seconds / 1e9. n in [16, 1048576]. PA_ERR_UNSUPPORTED
 * when the kernel is not used (pa_amx_state says why). */
#define PA_AMX_MEASURE_DIM 128
#define PA_AMX_MEASURE_K 256
PA_API pa_status pa_amx_gflops(uint32_t n, double *gflops);

#ifdef __cplusplus
}
#endif

#endif /* PARTIFACT_H */
