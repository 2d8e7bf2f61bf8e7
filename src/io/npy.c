/* The .npy header: parsed for the vector input and the neighbour-id files, and written for the
 * latter (see npy.h). */
#include "io/npy.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* Parses an .npy header: version, dict with descr, fortran_order and shape. */
pa_status pa_npy_read_header(int fd, uint64_t size, const char *path, pa_npy_header *out)
{
    memset(out, 0, sizeof *out);
    uint8_t pre[12];
    pa_status st = pa_pread_full(fd, pre, PA_MIN(size, (uint64_t)12), 0, path);
    if (st != PA_OK)
        return st;
    if (size < 6 || memcmp(pre, "\x93NUMPY", 6) != 0)
        return pa_fail(PA_ERR_FORMAT, "%s: not a .npy file (no \\x93NUMPY magic)", path);
    if (size < 10)
        return pa_fail(PA_ERR_FORMAT, "%s: truncated .npy header (%" PRIu64 " bytes)", path,
                       size);
    uint64_t hlen, hoff;
    if (pre[6] == 1) {
        hlen = pa_ld16(pre + 8);
        hoff = 10;
    } else if (pre[6] == 2 || pre[6] == 3) {
        if (size < 12)
            return pa_fail(PA_ERR_FORMAT, "%s: truncated .npy header", path);
        hlen = pa_ld32(pre + 8);
        hoff = 12;
    } else {
        return pa_fail(PA_ERR_UNSUPPORTED, "%s: .npy format version %u is not supported", path,
                       pre[6]);
    }
    if (hoff + hlen > size || hlen > 65536)
        return pa_fail(PA_ERR_FORMAT, "%s: .npy header of %" PRIu64 " bytes runs past the end "
                       "of the %" PRIu64 "-byte file", path, hlen, size);
    char *h = pa_malloc((size_t)hlen + 1, "npy header");
    if (!h)
        return PA_ERR_NOMEM;
    if ((st = pa_pread_full(fd, h, (size_t)hlen, hoff, path)) != PA_OK) {
        free(h);
        return st;
    }
    h[hlen] = 0;
    const char *d = strstr(h, "'descr'");
    const char *fo = strstr(h, "'fortran_order'");
    const char *sh = strstr(h, "'shape'");
    int nshape = -1;
    if (d && (d = strchr(d + 7, '\'')))
        sscanf(d, "'%15[^']'", out->descr);
    if (sh && (sh = strchr(sh, '('))) { /* the shape tuple: "(r, c)", "(r,)", "(a, b, c)" */
        nshape = 0;
        const char *p = sh + 1;
        while (*p && *p != ')') {
            while (*p == ' ' || *p == ',')
                p++;
            if (*p == ')' || !*p)
                break;
            char *end;
            unsigned long long v = strtoull(p, &end, 10);
            if (end == p) {
                nshape = -1;
                break;
            }
            if (nshape < 3)
                out->shape[nshape] = v;
            nshape++;
            p = end;
        }
    }
    out->fortran = fo && !strncmp(fo + strlen("'fortran_order'"), ": True", 6);
    free(h);
    if (!out->descr[0] || nshape < 0)
        return pa_fail(PA_ERR_FORMAT, "%s: .npy header lacks 'descr' or 'shape'", path);
    out->ndim = nshape;
    out->data_off = hoff + hlen;
    return PA_OK;
}

size_t pa_npy_header_2d(char *buf, size_t cap, const char *descr, uint64_t rows, uint64_t cols)
{
    char dict[256];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%"
                     PRIu64 ", %" PRIu64 "), }", descr, rows, cols);
    if (n < 0 || (size_t)n >= sizeof dict)
        return 0;
    size_t total = (10 + (size_t)n + 1 + 63) / 64 * 64; /* magic, version, length, dict, \n */
    if (total > cap || total - 10 > 65535)
        return 0;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (char)((total - 10) & 0xFF), buf[9] = (char)((total - 10) >> 8);
    memcpy(buf + 10, dict, (size_t)n);
    memset(buf + 10 + n, ' ', total - 10 - (size_t)n - 1);
    buf[total - 1] = '\n';
    return total;
}
