/* The one JSON writer (see json.h): jansson with partifact's fixed styles. */
#include "common/json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

pa_status pa_json_pack(json_t **out, const char *what, const char *fmt, ...)
{
    json_error_t err;
    va_list ap;
    va_start(ap, fmt);
    *out = json_vpack_ex(&err, 0, fmt, ap);
    va_end(ap);
    if (*out)
        return PA_OK;
    if (json_error_code(&err) == json_error_invalid_utf8)
        return pa_fail(PA_ERR_INVALID, "%s: a string in it is not UTF-8, which JSON cannot hold",
                       what);
    if (json_error_code(&err) == json_error_out_of_memory ||
        json_error_code(&err) == json_error_null_value)
        return pa_fail(PA_ERR_NOMEM, "%s: out of memory building its JSON", what);
    return pa_fail(PA_ERR_INVALID, "%s: cannot build its JSON: %s", what, err.text);
}

pa_status pa_json_dump(json_t *v, size_t flags, char **text)
{
    *text = v ? json_dumps(v, flags | JSON_ENCODE_ANY) : NULL;
    json_decref(v);
    if (!*text)
        return pa_fail(PA_ERR_NOMEM, "out of memory writing JSON");
    return PA_OK;
}

pa_status pa_json_print(FILE *f, json_t *v, size_t flags)
{
    char *text = NULL;
    pa_status st = pa_json_dump(v, flags, &text);
    if (st != PA_OK)
        return st;
    if (fputs(text, f) < 0 || fputc('\n', f) == EOF || fflush(f) != 0)
        st = pa_fail(PA_ERR_IO, "cannot write JSON output: %s", strerror(errno));
    free(text);
    return st;
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 (as jansson checks: no overlongs,
 * surrogates or code points past U+10FFFF). */
static size_t utf8_len(const unsigned char *p)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    size_t n = c >= 0xc2 && c <= 0xdf   ? 2
               : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf4 ? 4
                                        : 0;
    if (!n)
        return 0;
    unsigned cp = c & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

json_t *pa_json_display_string(const char *s)
{
    if (!s)
        return json_null();
    size_t len = strlen(s);
    char *t = malloc(len * 3 + 1); /* each bad byte becomes 3 bytes of U+FFFD */
    if (!t)
        return NULL;
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t k = utf8_len(p);
        if (k) {
            memcpy(t + n, p, k);
            n += k, p += k;
        } else {
            memcpy(t + n, "\xef\xbf\xbd", 3);
            n += 3, p++;
        }
    }
    json_t *v = json_stringn(t, n);
    free(t);
    return v;
}

json_t *pa_json_real_rounded(double v, int decimals)
{
    char buf[64];
    if (!isfinite(v))
        return json_null(); /* JSON has no inf or NaN */
    snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return json_real(strtod(buf, NULL));
}

/* ---- streaming ---- */

void pa_json_stream_init(pa_json_stream *s, pa_json_sink sink, void *ctx, const char *what)
{
    s->sink = sink, s->ctx = ctx, s->what = what, s->st = PA_OK;
    s->depth = 0, s->first[0] = true, s->n = 0;
    s->num = s->str = NULL;
}

static void flush(pa_json_stream *s)
{
    if (s->st == PA_OK && s->n)
        s->st = s->sink(s->ctx, s->buf, s->n);
    s->n = 0;
}

static int put(const char *text, size_t len, void *ctx)
{
    pa_json_stream *s = ctx;
    while (len && s->st == PA_OK) {
        if (s->n == sizeof s->buf)
            flush(s);
        size_t k = PA_MIN(len, sizeof s->buf - s->n);
        memcpy(s->buf + s->n, text, k);
        s->n += k, text += k, len -= k;
    }
    return s->st == PA_OK ? 0 : -1;
}

/* The separator and key before a member or element. */
static void lead(pa_json_stream *s, const char *key)
{
    if (s->st != PA_OK)
        return;
    if (!s->first[s->depth])
        put(",", 1, s);
    s->first[s->depth] = false;
    if (key) {
        json_t *k = json_string(key);
        if (!k || json_dump_callback(k, put, s, JSON_ENCODE_ANY) != 0) {
            if (s->st == PA_OK)
                s->st = pa_fail(PA_ERR_INVALID,
                                "%s: key \"%s\" cannot be written as JSON (not "
                                "UTF-8?)",
                                s->what, key);
        } else {
            put(":", 1, s);
        }
        json_decref(k);
    }
}

static void open_(pa_json_stream *s, const char *key, const char *bracket)
{
    lead(s, key);
    if (s->st != PA_OK)
        return;
    if (s->depth == PA_JSON_STREAM_MAX_DEPTH) {
        s->st = pa_fail(PA_ERR_STATE, "%s: JSON nested deeper than %d", s->what,
                        PA_JSON_STREAM_MAX_DEPTH);
        return;
    }
    put(bracket, 1, s);
    s->object[s->depth] = bracket[0] == '{';
    s->first[++s->depth] = true;
}

void pa_json_stream_object(pa_json_stream *s, const char *key) { open_(s, key, "{"); }
void pa_json_stream_array(pa_json_stream *s, const char *key) { open_(s, key, "["); }

void pa_json_stream_end(pa_json_stream *s)
{
    if (s->st != PA_OK)
        return;
    if (s->depth == 0) {
        s->st = pa_fail(PA_ERR_STATE, "%s: JSON closed more often than opened", s->what);
        return;
    }
    s->depth--;
    put(s->object[s->depth] ? "}" : "]", 1, s);
}

void pa_json_stream_value(pa_json_stream *s, const char *key, json_t *v)
{
    lead(s, key);
    if (s->st == PA_OK && (!v || json_dump_callback(v, put, s, PA_JSON_COMPACT | JSON_ENCODE_ANY)))
        if (s->st == PA_OK)
            s->st = pa_fail(v ? PA_ERR_INVALID : PA_ERR_NOMEM,
                            "%s: %s%s%s cannot be written as "
                            "JSON%s",
                            s->what, key ? "\"" : "a value", key ? key : "", key ? "\"" : "",
                            v ? " (not UTF-8?)" : " (out of memory)");
    json_decref(v);
}

void pa_json_stream_int(pa_json_stream *s, const char *key, json_int_t v)
{
    if (s->st != PA_OK)
        return;
    if (!s->num)
        s->num = json_integer(0);
    if (s->num)
        json_integer_set(s->num, v);
    pa_json_stream_value(s, key, json_incref(s->num));
}

void pa_json_stream_string(pa_json_stream *s, const char *key, const char *v)
{
    if (s->st != PA_OK)
        return;
    if (!s->str)
        s->str = json_string("");
    if (s->str && json_string_set(s->str, v) != 0) {
        lead(s, key);
        if (s->st == PA_OK)
            s->st = pa_fail(PA_ERR_INVALID,
                            "%s: \"%s\" cannot be written as a JSON string "
                            "(not UTF-8)",
                            s->what, v);
        return;
    }
    pa_json_stream_value(s, key, json_incref(s->str));
}

void pa_json_stream_raw(pa_json_stream *s, const char *text)
{
    if (s->st == PA_OK)
        put(text, strlen(text), s);
}

pa_status pa_json_stream_finish(pa_json_stream *s)
{
    flush(s);
    json_decref(s->num);
    json_decref(s->str);
    s->num = s->str = NULL;
    if (s->st == PA_OK && s->depth)
        s->st = pa_fail(PA_ERR_STATE, "%s: JSON left with %u open objects or arrays", s->what,
                        s->depth);
    return s->st;
}
