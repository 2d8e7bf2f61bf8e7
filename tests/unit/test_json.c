/* The one JSON writer (src/common/json.h): strings with quotes, backslashes, control
 * characters and non-ASCII come back exactly; the stream writes what jansson writes for the
 * same tree; text that is not UTF-8 is refused (documents) or replaced (display). */
#include "common/json.h"
#include "test.h"

#include <stdlib.h>

static const char *const nasty[] = {
    "plain",          "quote\"in",
    "back\\slash",    "tab\tnew\nline\r",
    "\x01\x1f\x7f",   "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
    "/a/\"b\"/c\\d/", "",
};
#define NNASTY (sizeof nasty / sizeof nasty[0])

static void test_dump_round_trip(void)
{
    for (size_t i = 0; i < NNASTY; i++) {
        json_t *v = NULL;
        char *text = NULL;
        CHECK_OK(pa_json_pack(&v, "test", "{s:s, s:I}", "path", nasty[i], "n", (json_int_t)i));
        CHECK_OK(pa_json_dump(v, PA_JSON_COMPACT, &text));
        json_error_t err;
        json_t *back = text ? json_loads(text, JSON_REJECT_DUPLICATES, &err) : NULL;
        CHECK(back && !strcmp(json_string_value(json_object_get(back, "path")), nasty[i]));
        CHECK(text && !strchr(text, '\n') && !strchr(text, '\t'));
        json_decref(back);
        free(text);
    }
    /* insertion order (COMPACT) and sorted keys (SORTED) */
    json_t *v = NULL;
    char *text = NULL;
    CHECK_OK(pa_json_pack(&v, "t", "{s:i, s:i}", "b", 1, "a", 2));
    json_incref(v);
    CHECK_OK(pa_json_dump(v, PA_JSON_COMPACT, &text));
    CHECK(text && !strcmp(text, "{\"b\":1,\"a\":2}"));
    free(text);
    CHECK_OK(pa_json_dump(v, PA_JSON_SORTED, &text));
    CHECK(text && !strcmp(text, "{\"a\":2,\"b\":1}"));
    free(text);
    /* not UTF-8: refused naming what was built */
    CHECK_ERR(pa_json_pack(&v, "the test record", "{s:s}", "path", "bad\xff"), PA_ERR_INVALID,
              "the test record: a string in it is not UTF-8");
    CHECK(v == NULL);
    CHECK_ERR(pa_json_dump(NULL, PA_JSON_COMPACT, &text), PA_ERR_NOMEM, "out of memory");
}

static void test_display(void)
{
    char *text = NULL;
    CHECK_OK(pa_json_dump(pa_json_display_string("a\xff"
                                                 "b\xc3"),
                          PA_JSON_COMPACT, &text));
    CHECK(text && !strcmp(text, "\"a\xef\xbf\xbd"
                                "b\xef\xbf\xbd\""));
    free(text);
    for (size_t i = 0; i < NNASTY; i++) {
        json_t *v = pa_json_display_string(nasty[i]);
        CHECK(v && !strcmp(json_string_value(v), nasty[i]));
        json_decref(v);
    }
    CHECK_OK(pa_json_dump(pa_json_real_rounded(1.23456, 3), PA_JSON_COMPACT, &text));
    CHECK(text && !strcmp(text, "1.235"));
    free(text);
    CHECK_OK(pa_json_dump(pa_json_real_rounded(0.1, 1), PA_JSON_COMPACT, &text));
    CHECK(text && !strcmp(text, "0.1"));
    free(text);
}

typedef struct {
    char *buf;
    size_t n, cap;
    int fail_after; /* calls before the sink fails; < 0 never */
} sink_ctx;

static pa_status sink(void *ctx, const void *data, size_t len)
{
    sink_ctx *c = ctx;
    if (c->fail_after == 0)
        return pa_fail(PA_ERR_IO, "sink full");
    c->fail_after--;
    if (c->n + len + 1 > c->cap) {
        c->cap = (c->n + len + 1) * 2;
        c->buf = realloc(c->buf, c->cap);
    }
    memcpy(c->buf + c->n, data, len);
    c->n += len;
    c->buf[c->n] = 0;
    return PA_OK;
}

static void test_stream(void)
{
    /* a document larger than the buffer, with every nasty string as key and value */
    static pa_json_stream s;
    sink_ctx c = {NULL, 0, 0, -1};
    json_t *tree = json_object(), *arr = json_array();
    pa_json_stream_init(&s, sink, &c, "test stream");
    pa_json_stream_object(&s, NULL);
    for (size_t i = 0; i < NNASTY; i++) {
        pa_json_stream_value(&s, nasty[i], json_string(nasty[NNASTY - 1 - i]));
        json_object_set_new(tree, nasty[i], json_string(nasty[NNASTY - 1 - i]));
    }
    pa_json_stream_value(&s, "null", json_null());
    json_object_set_new(tree, "null", json_null());
    pa_json_stream_array(&s, "rows");
    for (int i = 0; i < 20000; i++) {
        pa_json_stream_array(&s, NULL);
        pa_json_stream_int(&s, NULL, i);
        pa_json_stream_string(&s, NULL, i % 2 ? "0123456789abcdef" : nasty[i % NNASTY]);
        pa_json_stream_end(&s);
        json_array_append_new(arr, json_pack("[i,s]", i,
                                             i % 2 ? "0123456789abcdef" : nasty[i % NNASTY]));
    }
    pa_json_stream_end(&s);
    json_object_set_new(tree, "rows", arr);
    pa_json_stream_object(&s, "empty");
    pa_json_stream_end(&s);
    json_object_set_new(tree, "empty", json_object());
    pa_json_stream_end(&s);
    pa_json_stream_raw(&s, "\n");
    CHECK_OK(pa_json_stream_finish(&s));
    char *want = json_dumps(tree, JSON_COMPACT);
    CHECK(c.buf && c.n > PA_JSON_STREAM_BUFFER && c.buf[c.n - 1] == '\n');
    if (c.buf)
        c.buf[c.n - 1] = 0;
    CHECK(c.buf && want && !strcmp(c.buf, want));
    free(want);
    json_decref(tree);
    free(c.buf);

    /* the sink's failure is kept and returned */
    sink_ctx f = {NULL, 0, 0, 0};
    pa_json_stream_init(&s, sink, &f, "test stream");
    pa_json_stream_array(&s, NULL);
    for (int i = 0; i < 20000; i++)
        pa_json_stream_value(&s, NULL, json_string("0123456789abcdef"));
    pa_json_stream_end(&s);
    CHECK_ERR(pa_json_stream_finish(&s), PA_ERR_IO, "sink full");
    free(f.buf);

    /* a value that is not UTF-8, and an unclosed object */
    sink_ctx g = {NULL, 0, 0, -1};
    pa_json_stream_init(&s, sink, &g, "test stream");
    pa_json_stream_object(&s, NULL);
    pa_json_stream_value(&s, "bad\xff", json_integer(1));
    CHECK_ERR(pa_json_stream_finish(&s), PA_ERR_INVALID, "test stream: key \"bad");
    pa_json_stream_init(&s, sink, &g, "test stream");
    pa_json_stream_array(&s, NULL);
    pa_json_stream_string(&s, NULL, "bad\xff");
    pa_json_stream_end(&s);
    CHECK_ERR(pa_json_stream_finish(&s), PA_ERR_INVALID, "cannot be written as a JSON string");
    pa_json_stream_init(&s, sink, &g, "test stream");
    pa_json_stream_object(&s, NULL);
    CHECK_ERR(pa_json_stream_finish(&s), PA_ERR_STATE, "1 open");
    free(g.buf);
}

int main(int argc, char **argv)
{
    TEST_ARGS(argc, argv);
    RUN(test_dump_round_trip());
    RUN(test_display());
    RUN(test_stream());
    TEST_DONE();
}
