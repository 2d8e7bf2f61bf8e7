/* The .npy header (NumPy format 1.0/2.0/3.0), shared by the vector input and the neighbour-id
 * files: parsed into its parts, and written for a 2-D C-order array. */
#ifndef PA_IO_NPY_H
#define PA_IO_NPY_H

#include "common/common.h"

typedef struct pa_npy_header {
    char descr[16];              /* dtype, e.g. "<f4"; byte order '<', '>' or '|' (1 byte)  */
    bool big_endian;             /* descr[0] == '>': the caller swaps bytes               */
    bool fortran;                /* fortran_order: True                                   */
    int ndim;                    /* entries of the shape tuple                            */
    unsigned long long shape[3]; /* the first three of them                               */
    uint64_t data_off;           /* where the array's bytes start                         */
} pa_npy_header;

/* The largest header dict read (NumPy's own reader refuses more than 10,000 bytes unless
 * told otherwise). */
#define PA_NPY_MAX_HEADER 65536

/* Reads and parses the header of the size-byte .npy file open as fd (path names it in
 * errors): magic, version, header length within the file, 'descr' and 'shape' present. The
 * caller checks dtype, order, shape and the data's size. The dict is parsed as NumPy's format
 * specification allows (whitespace, key order, quotes, trailing comma, byte order '<' '>' '|'
 * '='; versions 1.0, 2.0 and 3.0); descr's byte order is normalised (see big_endian). */
pa_status pa_npy_read_header(int fd, uint64_t size, const char *path, pa_npy_header *h);

/* Formats a version 1.0 header for a C-order rows x cols array of dtype descr into buf,
 * padded with spaces so that the data starts at a multiple of 64 bytes, as NumPy writes it.
 * Returns its length (0 if buf is too small). */
size_t pa_npy_header_2d(char *buf, size_t cap, const char *descr, uint64_t rows, uint64_t cols);

#endif
