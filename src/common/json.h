/* The one JSON writer: every JSON text partifact produces (the artifact manifest, the
 * partifact:index and partifact:model metadata, a table commit's records, table-info, the
 * CLI's --json summaries) is made by jansson through these functions, so it is always valid
 * JSON (quotes, backslashes and control characters escaped, strings UTF-8) and its layout is
 * one of the styles below. Internal (not in the public API); the CLI may include it.
 *
 * Usage, a small document (the value is always consumed, success or not):
 *     char *text = NULL;
 *     json_t *v = NULL;
 *     if ((st = pa_json_pack(&v, "index metadata", "{s:s, s:I}", "metric", name,
 *                            "rows", (json_int_t)rows)) != PA_OK)
 *         goto done;
 *     if ((st = pa_json_dump(v, PA_JSON_COMPACT, &text)) != PA_OK)   // consumes v
 *         goto done;
 *     ... free(text);
 * A CLI summary:  pa_json_print(stdout, v, PA_JSON_COMPACT) (text and a newline; consumes v);
 * for strings the user gave (paths, names), pa_json_display_string(s) keeps any bytes that are
 * not UTF-8 as U+FFFD instead of failing after the work is done.
 * A document too large for a tree (millions of manifest ranges): pa_json_stream, which writes
 * the same text jansson's PA_JSON_COMPACT would, value by value, through a small buffer. */
#ifndef PA_COMMON_JSON_H
#define PA_COMMON_JSON_H

#include "common/common.h"

#include <jansson.h>

/* The layouts partifact writes. COMPACT: keys in insertion order, no whitespace (the
 * manifest, the index and table records, the CLI's summaries). SORTED: compact with keys
 * sorted (the model metadata, as written since format 1). Reals are written with at most 15
 * significant digits, so a value rounded with pa_json_real_rounded prints as that decimal. */
#define PA_JSON_COMPACT ((size_t)(JSON_COMPACT | JSON_REAL_PRECISION(15)))
#define PA_JSON_SORTED (PA_JSON_COMPACT | JSON_SORT_KEYS)

/* json_pack(fmt, ...) into *out. A failure (a string that is not UTF-8, which JSON cannot
 * hold, or no memory) is recorded naming what is being built: PA_ERR_INVALID / PA_ERR_NOMEM.
 * "o" arguments are consumed even on failure (as json_pack does). */
pa_status pa_json_pack(json_t **out, const char *what, const char *fmt, ...);

/* The text of v in style flags (a PA_JSON_* value), malloc'd into *text (free with free());
 * consumes v. v NULL (a failed json_* constructor) is PA_ERR_NOMEM. */
pa_status pa_json_dump(json_t *v, size_t flags, char **text);

/* Prints v's text and a newline to f; consumes v. PA_ERR_IO when f cannot be written. */
pa_status pa_json_print(FILE *f, json_t *v, size_t flags);

/* A JSON string of s for display: bytes that are not UTF-8 become U+FFFD. NULL s is JSON
 * null. NULL only when out of memory. */
json_t *pa_json_display_string(const char *s);

/* A JSON real of v rounded to `decimals` decimal places (v = 1.23456, 3 -> 1.235): as the
 * CLI's "%.3f" summaries printed them. */
json_t *pa_json_real_rounded(double v, int decimals);

/* ---- streaming ----
 * Writes one JSON document value by value, in PA_JSON_COMPACT's text, to a sink through a
 * 64 KiB buffer. Objects and arrays are opened and closed; members and elements are json_t
 * values (each dumped by jansson, then freed). The first failure (the sink's, a NULL or
 * unencodable value, nesting past PA_JSON_STREAM_MAX_DEPTH) is kept and every later call does
 * nothing; pa_json_stream_finish returns it. */
#define PA_JSON_STREAM_MAX_DEPTH 16
#define PA_JSON_STREAM_BUFFER (1u << 16)
typedef pa_status (*pa_json_sink)(void *ctx, const void *data, size_t len);
typedef struct pa_json_stream {
    pa_json_sink sink;
    void *ctx;
    const char *what; /* named in messages */
    pa_status st;
    unsigned depth;
    bool first[PA_JSON_STREAM_MAX_DEPTH + 1]; /* nothing written yet at this level */
    bool object[PA_JSON_STREAM_MAX_DEPTH];    /* level i + 1 is an object (else an array) */
    json_t *num, *str; /* reused for pa_json_stream_int / _string: no allocation per value */
    size_t n;
    char buf[PA_JSON_STREAM_BUFFER];
} pa_json_stream;

void pa_json_stream_init(pa_json_stream *s, pa_json_sink sink, void *ctx, const char *what);
/* Opens an object / array: as member key of the enclosing object, or (key NULL) as the next
 * element of the enclosing array or the document itself. */
void pa_json_stream_object(pa_json_stream *s, const char *key);
void pa_json_stream_array(pa_json_stream *s, const char *key);
/* Closes the innermost open object or array. */
void pa_json_stream_end(pa_json_stream *s);
/* Writes v (consumed) as member key, or (key NULL) as the next array element. */
void pa_json_stream_value(pa_json_stream *s, const char *key, json_t *v);
/* An integer / a string (copied; refused if not UTF-8) as member key or next element: the
 * same text as pa_json_stream_value with json_integer / json_string, without allocating a
 * value each time (a manifest writes millions). */
void pa_json_stream_int(pa_json_stream *s, const char *key, json_int_t v);
void pa_json_stream_string(pa_json_stream *s, const char *key, const char *v);
/* Writes raw text that is not JSON after the document (a final newline). */
void pa_json_stream_raw(pa_json_stream *s, const char *text);
/* Flushes the buffer and frees the stream's values; the stream's status (PA_ERR_STATE if
 * objects or arrays are left open). Call it once for every pa_json_stream_init. */
pa_status pa_json_stream_finish(pa_json_stream *s);

#endif
