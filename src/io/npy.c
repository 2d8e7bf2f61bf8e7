/* The .npy header: parsed for the vector input and the neighbour-id files, and written for the
 * latter (see npy.h). */
#include "io/npy.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* The header dict, parsed as the Python literal NumPy's format specification makes it (what
 * numpy.lib.format reads with ast.literal_eval): any whitespace between tokens, keys in any
 * order, single or double quotes, a trailing comma, True/False, the shape a tuple of integers
 * ("(r, c)", "(r,)", "()"; Python 2's "3L" too). Exactly the keys descr, fortran_order and
 * shape, each once. */
typedef struct npy_cur {
    const char *p, *start, *end, *path;
} npy_cur;

static void npy_ws(npy_cur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r' ||
                             *c->p == '\f' || *c->p == '\v'))
        c->p++;
}

/* The error for the token at the cursor: what was expected there, at its byte offset in the
 * header dict. */
static pa_status npy_bad(const npy_cur *c, const char *expected)
{
    return pa_fail(PA_ERR_FORMAT,
                   "%s: .npy header: expected %s at byte offset %zu of the "
                   "header dict",
                   c->path, expected, (size_t)(c->p - c->start));
}

static bool npy_eat(npy_cur *c, char ch)
{
    npy_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

/* A quoted string (no escapes: no key or dtype NumPy writes has them) into buf. */
static pa_status npy_string(npy_cur *c, char *buf, size_t cap, const char *what)
{
    npy_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return npy_bad(c, what);
    const char q = *c->p;
    const char *s = c->p + 1, *e = s;
    while (e < c->end && *e != q && *e != '\\')
        e++;
    if (e >= c->end || *e != q)
        return npy_bad(c, what);
    if ((size_t)(e - s) >= cap)
        return pa_fail(PA_ERR_UNSUPPORTED,
                       "%s: .npy header: %s of %zu characters at byte "
                       "offset %zu of the header dict is longer than partifact reads",
                       c->path, what, (size_t)(e - s), (size_t)(c->p - c->start));
    memcpy(buf, s, (size_t)(e - s));
    buf[e - s] = 0;
    c->p = e + 1;
    return PA_OK;
}

/* True or False. */
static pa_status npy_bool(npy_cur *c, bool *v)
{
    npy_ws(c);
    size_t left = (size_t)(c->end - c->p);
    if (left >= 4 && !memcmp(c->p, "True", 4))
        *v = true, c->p += 4;
    else if (left >= 5 && !memcmp(c->p, "False", 5))
        *v = false, c->p += 5;
    else
        return npy_bad(c, "True or False for 'fortran_order'");
    return PA_OK;
}

/* The shape tuple; out->shape keeps the first three entries. */
static pa_status npy_shape(npy_cur *c, pa_npy_header *out)
{
    if (!npy_eat(c, '('))
        return npy_bad(c, "a tuple for 'shape'");
    int n = 0;
    for (;;) {
        if (npy_eat(c, ')'))
            break;
        npy_ws(c);
        if (c->p >= c->end || *c->p < '0' || *c->p > '9')
            return npy_bad(c, "a non-negative integer or ')' in 'shape'");
        unsigned long long v = 0;
        const char *entry = c->p;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            if (__builtin_mul_overflow(v, 10ull, &v) ||
                __builtin_add_overflow(v, (unsigned long long)(*c->p - '0'), &v))
                return pa_fail(PA_ERR_FORMAT,
                               "%s: .npy header: a 'shape' entry at byte offset "
                               "%zu of the header dict does not fit in 64 bits",
                               c->path, (size_t)(entry - c->start));
            c->p++;
        }
        if (c->p < c->end && (*c->p == 'L' || *c->p == 'l'))
            c->p++;
        if (n < 3)
            out->shape[n] = v;
        if (n == 64)
            return npy_bad(c, "at most 64 dimensions in 'shape'");
        n++;
        if (npy_eat(c, ','))
            continue;
        if (npy_eat(c, ')'))
            break;
        return npy_bad(c, "',' or ')' in 'shape'");
    }
    out->ndim = n;
    return PA_OK;
}

/* The whole dict: '{' (key ':' value ',')* '}' and nothing after it but whitespace. */
static pa_status npy_dict(npy_cur *c, pa_npy_header *out)
{
    bool have_descr = false, have_fortran = false, have_shape = false;
    if (!npy_eat(c, '{'))
        return npy_bad(c, "'{' (the header dict)");
    pa_status st = PA_OK;
    while (st == PA_OK && !npy_eat(c, '}')) {
        char key[32];
        if ((st = npy_string(c, key, sizeof key, "a quoted key or '}'")) != PA_OK)
            break;
        if (!npy_eat(c, ':'))
            return npy_bad(c, "':' after a key");
        bool *seen = !strcmp(key, "descr")           ? &have_descr
                     : !strcmp(key, "fortran_order") ? &have_fortran
                     : !strcmp(key, "shape")         ? &have_shape
                                                     : NULL;
        if (!seen)
            return pa_fail(PA_ERR_FORMAT,
                           "%s: .npy header has key '%s'; NumPy's format has "
                           "only 'descr', 'fortran_order' and 'shape'",
                           c->path, key);
        if (*seen)
            return pa_fail(PA_ERR_FORMAT, "%s: .npy header has key '%s' twice", c->path, key);
        *seen = true;
        if (seen == &have_descr) {
            npy_ws(c);
            if (c->p < c->end && *c->p == '[')
                return pa_fail(PA_ERR_UNSUPPORTED,
                               "%s: .npy dtype is a structured (record) "
                               "dtype; partifact reads arrays of one number type",
                               c->path);
            st = npy_string(c, out->descr, sizeof out->descr, "a quoted dtype for 'descr'");
        } else if (seen == &have_fortran) {
            st = npy_bool(c, &out->fortran);
        } else {
            st = npy_shape(c, out);
        }
        if (st == PA_OK && !npy_eat(c, ',')) {
            if (npy_eat(c, '}'))
                break;
            return npy_bad(c, "',' or '}' after a value");
        }
    }
    if (st != PA_OK)
        return st;
    npy_ws(c);
    if (c->p != c->end)
        return npy_bad(c, "nothing but whitespace after the header dict");
    if (!have_descr || !have_fortran || !have_shape)
        return pa_fail(PA_ERR_FORMAT, "%s: .npy header lacks '%s'", c->path,
                       !have_descr   ? "descr"
                       : !have_shape ? "shape"
                                     : "fortran_order");
    return PA_OK;
}

/* Puts the dtype's byte order in one form: '<' for little-endian ('=' native, on the
 * little-endian machines partifact runs on), '>' for big-endian, '|' for one-byte types
 * (whose order does not matter, however written). */
static void npy_byte_order(pa_npy_header *h)
{
    char *d = h->descr;
    if (d[0] != '<' && d[0] != '>' && d[0] != '|' && d[0] != '=')
        return; /* no order character: not a dtype NumPy writes; the caller refuses it */
    const char *size = d + 1;
    while (*size && (*size < '0' || *size > '9'))
        size++;
    if (!strcmp(size, "1"))
        d[0] = '|';
    else if (d[0] == '=')
        d[0] = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? '<' : '>';
    h->big_endian = d[0] == '>';
}

/* Parses an .npy header: version, header length, and the dict (see npy.h). */
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
        return pa_fail(PA_ERR_FORMAT, "%s: truncated .npy header (%" PRIu64 " bytes)", path, size);
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
    if (hlen > size - hoff || hlen > PA_NPY_MAX_HEADER)
        return pa_fail(PA_ERR_FORMAT,
                       "%s: .npy header of %" PRIu64 " bytes runs past the end "
                       "of the %" PRIu64 "-byte file",
                       path, hlen, size);
    char *h = pa_malloc((size_t)hlen + 1, "npy header");
    if (!h) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    if ((st = pa_pread_full(fd, h, (size_t)hlen, hoff, path)) != PA_OK)
        goto done;
    h[hlen] = 0;
    npy_cur c = {h, h, h + hlen, path};
    if ((st = npy_dict(&c, out)) != PA_OK)
        goto done;
    npy_byte_order(out);
    out->data_off = hoff + hlen;
done:
    free(h);
    return st;
}

size_t pa_npy_header_2d(char *buf, size_t cap, const char *descr, uint64_t rows, uint64_t cols)
{
    char dict[256];
    int n = snprintf(dict, sizeof dict,
                     "{'descr': '%s', 'fortran_order': False, 'shape': (%" PRIu64 ", %" PRIu64
                     "), }",
                     descr, rows, cols);
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
