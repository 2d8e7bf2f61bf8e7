/* Internal interface of the Lance format room (src/lance): type names, protobuf glue and the
 * bit-unpacking kernels shared by the file reader, the file writer and the dataset code. */
#ifndef PA_LANCE_INTERNAL_H
#define PA_LANCE_INTERNAL_H

#include "common/common.h"
#include "lance.pb-c.h"

/* The file format's major version (2.x; the minor versions written are PA_LANCE_FORMAT_2_* in
 * partifact.h, the default PA_DEFAULT_LANCE_FORMAT), footer, magic and buffer alignment. */
#define PA_LANCE_MAJOR 2
#define PA_LANCE_FOOTER_BYTES 40
#define PA_LANCE_MAGIC "LANC"
#define PA_LANCE_ALIGN 64

/* A table's version hint, {"version":N}, which LanceDB also writes; the manifests remain the
 * truth. Written (replacing the old one) into dir, the table's directory. */
#define PA_LANCE_VERSION_HINT "_versions/latest_version_hint.json"
pa_status pa_lance_write_version_hint(const char *dir, uint64_t version);

/* Checks a field's name, type and dim; PA_ERR_INVALID naming the field otherwise. */
pa_status pa_validate_field(const pa_field *f);

/* Whether type is a list type (PA_TYPE_LIST_*), and the type of its items (float or
 * fixed_size_list<float>). */
bool pa_type_is_list(pa_type type);
pa_type pa_type_list_item(pa_type type);

/* Parses a Lance logical type name ("uint64", "fixed_size_list:float:128", ...). */
pa_status pa_parse_logical_type(const char *name, pa_type *type, uint32_t *dim);

/* Schema fields as protobuf messages (for a file's schema and a dataset manifest): one Field
 * per column, ids in order; a list column is two, the list ("list", its name before the dot)
 * and its item (the name after the dot, or "item"; the parent's id + 1). *n_pb receives the
 * number of Fields; leaf_ids (NULL, or n entries) each column's leaf field id (the id a
 * dataset's data file lists for that column). The array and its strings are allocated; free
 * with pa_pb_fields_free(pb, *n_pb). */
Pa__Lancepb__Field **pa_pb_fields_new(const pa_field *fields, size_t n, size_t *n_pb,
                                      int32_t *leaf_ids);
void pa_pb_fields_free(Pa__Lancepb__Field **pb, size_t n);

/* A schema metadata entry as the file reader and writer hold it: key and value allocated. */
typedef struct pa_lance_meta {
    char *key;
    uint8_t *value;
    size_t len;
} pa_lance_meta;
/* Frees n entries' keys and values and the array m itself. */
void pa_lance_meta_free(pa_lance_meta *m, size_t n);


/* Unpacks one FastLanes-transposed chunk of 1024 values of elem_bits (8/16/32/64) bits each,
 * packed at width bits per value (0..elem_bits). packed holds 1024*width/8 bytes; out receives
 * 1024 values of elem_bits bits. */
void pa_fastlanes_unpack(unsigned elem_bits, unsigned width, const void *packed, void *out);
/* The inverse (used by tests to make inputs, and available to writers). */
void pa_fastlanes_pack(unsigned elem_bits, unsigned width, const void *in, void *packed);

/* Writes n rows of every column as one new page each, without copying them into the page
 * buffers (see file_writer.c). */
pa_status pa_lance_writer_write_pages(pa_lance_writer *w, const void *const *columns, uint64_t n);

/* Bytes a writer of these fields at a path of path_len bytes holds (file_writer.c's own allocations): its state and
 * columns, the page records of `pages` pages per column, the mini-block staging buffer (any
 * mini-block column), and with buffered (rows given to pa_lance_writer_append) each column's
 * page buffer and chunk table; pa_lance_writer_write_pages needs neither. Schema metadata and
 * global buffers are the caller's (copied as given) and not counted. */
uint64_t pa_lance_writer_estimate(size_t path_len, const pa_field *fields, size_t num_fields,
                                  const pa_lance_write_options *opts, uint64_t pages,
                                  bool buffered);

/* The buffers of page `page` of column col in the order its column metadata lists them (file
 * offsets and sizes, at most 3: a mini-block page's chunk table, chunks and, for a list, its
 * repetition index; a full-zip page's data and, for a list, its repetition index); returns how
 * many (0 for other layouts). For tests comparing pages byte for byte. */
size_t pa_lance_reader_page_buffers(const pa_lance_reader *r, size_t col, size_t page,
                                    uint64_t off[3], uint64_t size[3]);

/* Whether the schema declares column col nullable (a list column: its list field). */
bool pa_lance_reader_nullable(const pa_lance_reader *r, size_t col);

/* Rows column col's pages hold: the file's rows, or, for a column under a list in a 2.0 file
 * (where a list has its own column of offsets), the lists' items, which reads address. */
uint64_t pa_lance_reader_column_values(const pa_lance_reader *r, size_t col);

/* XXH64 (seed 0) of all bytes the writer wrote, in file order; after close, the whole file's. */
uint64_t pa_lance_writer_xxh64(const pa_lance_writer *w);

/* dataset.c: restricts ds to the fragments ids[0..n) (each once, every one in the version),
 * kept in the table's fragment order: its fragments, live rows, scans and source record are
 * then those of the selection. Before any scan of ds; PA_ERR_INVALID naming the field
 * "fragments" for an empty list, an id the version lacks or one given twice. */
pa_status pa_dataset_select_fragments(pa_dataset *ds, const uint64_t *ids, size_t n);

/* deletion.c: reads a fragment's deletion file (file_type 0: Arrow array, 1: Roaring bitmap)
 * into *out, an opaque bitmap of deleted row offsets (a roaring_bitmap_t), checked to hold
 * num_deleted offsets below physical_rows. */
pa_status pa_deletion_read(const char *path, int file_type, uint64_t num_deleted,
                           uint64_t physical_rows, void **out);
/* Whether offset is deleted (bm NULL: none is). */
bool pa_deletion_has(const void *bm, uint32_t offset);
/* The offset of the k-th (from 0) row not deleted; k must be below the live row count. */
uint32_t pa_deletion_nth_live(const void *bm, uint32_t k);
void pa_deletion_free(void *bm);

#endif
