/* Internal interface of the Lance format room (src/lance): type names, protobuf glue and the
 * bit-unpacking kernels shared by the file reader, the file writer and the dataset code. */
#ifndef PA_LANCE_INTERNAL_H
#define PA_LANCE_INTERNAL_H

#include "common/common.h"
#include "lance.pb-c.h"

/* The file format version partifact writes (2.1) and the versions it reads. */
#define PA_LANCE_MAJOR 2
#define PA_LANCE_MINOR 1
#define PA_LANCE_FOOTER_BYTES 40
#define PA_LANCE_MAGIC "LANC"
#define PA_LANCE_ALIGN 64

/* Checks a field's name, type and dim; PA_ERR_INVALID naming the field otherwise. */
pa_status pa_validate_field(const pa_field *f);

/* Parses a Lance logical type name ("uint64", "fixed_size_list:float:128", ...). */
pa_status pa_parse_logical_type(const char *name, pa_type *type, uint32_t *dim);

/* Fixed-size list types; the bits of one item (of a list) or value (scalars); 0 for OTHER.
 * Vector columns are the fixed-size lists (of float, halffloat, double, uint8). */
bool pa_type_is_list(pa_type t);
unsigned pa_type_item_bits(pa_type t);
bool pa_type_is_vector(pa_type t);

/* Schema fields as protobuf messages (for a file's schema and a dataset manifest). The array
 * and its strings are allocated; free with pa_pb_fields_free. */
Pa__Lancepb__Field **pa_pb_fields_new(const pa_field *fields, size_t n);
void pa_pb_fields_free(Pa__Lancepb__Field **pb, size_t n);

/* Converts a file's protobuf schema fields into one pa_field per column of the file, in column
 * order: every field of any type is parsed; a field partifact does not read has type
 * PA_TYPE_OTHER (its columns are skipped, never decoded). Columns are what Lance 2.1+ gives
 * them to: leaf fields and fixed-size lists (whose items have none); with every_field (file
 * format 2.0) structs and lists have a column too. A nested field's name is its path
 * ("meta.a"). Names are allocated (free with pa_fields_free); ctx names the file for errors. */
pa_status pa_columns_from_pb(Pa__Lancepb__Field *const *pb, size_t n, bool every_field,
                             const char *ctx, pa_field **out, size_t *out_n);
/* pa_columns_from_pb for file format 2.1 and later. */
pa_status pa_fields_from_pb(Pa__Lancepb__Field *const *pb, size_t n, const char *ctx,
                            pa_field **out, size_t *out_n);
/* The logical type name recorded for a field made by pa_columns_from_pb (only those: it is
 * stored after the name's terminating NUL, in the name's allocation). */
const char *pa_field_logical_type(const pa_field *f);
void pa_fields_free(pa_field *fields, size_t n);

/* Unpacks one FastLanes-transposed chunk of 1024 values of elem_bits (8/16/32/64) bits each,
 * packed at width bits per value (0..elem_bits). packed holds 1024*width/8 bytes; out receives
 * 1024 values of elem_bits bits. */
void pa_fastlanes_unpack(unsigned elem_bits, unsigned width, const void *packed, void *out);
/* The inverse (used by tests to make inputs, and available to writers). */
void pa_fastlanes_pack(unsigned elem_bits, unsigned width, const void *in, void *packed);

/* Writes n rows of every column as one new page each, without copying them into the page
 * buffers (see file_writer.c). */
pa_status pa_lance_writer_write_pages(pa_lance_writer *w, const void *const *columns, uint64_t n);

/* XXH64 (seed 0) of all bytes the writer wrote, in file order; after close, the whole file's. */
uint64_t pa_lance_writer_xxh64(const pa_lance_writer *w);

/* file_reader.c: the validity of rows [offset, offset + n) of column col: valid[i] is 1 for a
 * value, 0 for a null. When every row is valid *all_valid is set and valid may be left
 * unwritten (the reader today accepts only pages without nulls, refusing the others when the
 * file is opened; a reader that decodes def levels fills valid and clears *all_valid). */
pa_status pa_lance_reader_read_validity(pa_lance_reader *r, size_t col, uint64_t offset,
                                        uint64_t n, uint8_t *valid, bool *all_valid);

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
