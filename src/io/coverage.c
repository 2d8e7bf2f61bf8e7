/* Coverage: what an artifact encoded from an input holds, recorded in its manifest
 * (pa_artifact_params.coverage) so that finalize over several artifacts -- the shards of a
 * distributed build -- can refuse shards that overlap or come from different inputs, and
 * write the index's source record (the union of the shards' fragments) for the table commit.
 *
 *   a Lance table: its source record for the selected fragments (src/lance/table_commit.c
 *                  writes and merges it): {"table", "version", "column", "fragments": [...]}
 *   a file:        {"input": real path, "input_rows": rows in the file,
 *                   "row_begin": first row, "row_end": one past the last} */
#include "common/json.h"
#include "io/io_internal.h"
#include "lance/table_commit.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>

#define COV_INPUT "input"
#define COV_INPUT_ROWS "input_rows"
#define COV_ROW_BEGIN "row_begin"
#define COV_ROW_END "row_end"

pa_status pa_coverage_json(const pa_vec_input *in, char **out)
{
    *out = NULL;
    const char *column = NULL;
    const pa_dataset *ds = pa_vec_input_dataset(in, &column);
    if (ds)
        return pa_table_source_json(ds, column, out);
    char real[PATH_MAX];
    if (!realpath(pa_vec_input_path(in), real))
        return pa_fail(PA_ERR_IO, "%s: cannot resolve the input's path: %s", pa_vec_input_path(in),
                       strerror(errno));
    uint64_t begin, end, total;
    pa_vec_input_selection(in, &begin, &end, &total);
    json_t *j = NULL;
    pa_status st = pa_json_pack(&j, "the artifact's coverage", "{s:s, s:I, s:I, s:I}", COV_INPUT,
                                real, COV_INPUT_ROWS, (json_int_t)total, COV_ROW_BEGIN,
                                (json_int_t)begin, COV_ROW_END, (json_int_t)end);
    return st == PA_OK ? pa_json_dump(j, PA_JSON_COMPACT, out) : st;
}

/* A file shard's coverage as read. */
typedef struct file_cov {
    const char *input;
    json_int_t rows, begin, end;
    size_t owner;
} file_cov;

static int cmp_begin(const void *a, const void *b)
{
    const file_cov *x = a, *y = b;
    return x->begin != y->begin ? (x->begin < y->begin ? -1 : 1)
                                : (x->owner > y->owner) - (x->owner < y->owner);
}

/* Shards of one file: the same file, disjoint row ranges. */
static pa_status merge_files(const char *const *covs, const char *const *names, size_t n)
{
    json_t **js = pa_calloc(n, sizeof *js, "coverages");
    file_cov *fc = pa_calloc(n, sizeof *fc, "coverages");
    pa_status st = js && fc ? PA_OK : PA_ERR_NOMEM;
    for (size_t i = 0; st == PA_OK && i < n; i++) {
        file_cov *c = &fc[i];
        c->owner = i;
        if (!(js[i] = json_loads(covs[i], 0, NULL)) ||
            json_unpack(js[i], "{s:s, s:I, s:I, s:I}", COV_INPUT, &c->input, COV_INPUT_ROWS,
                        &c->rows, COV_ROW_BEGIN, &c->begin, COV_ROW_END, &c->end) != 0 ||
            c->begin < 0 || c->end < c->begin || c->rows < c->end)
            st = pa_fail(PA_ERR_FORMAT,
                         "artifact %s: its coverage lacks " COV_INPUT ", " COV_INPUT_ROWS
                         ", " COV_ROW_BEGIN " or " COV_ROW_END,
                         names[i]);
        else if (i && (strcmp(c->input, fc[0].input) != 0 || c->rows != fc[0].rows))
            st = pa_fail(PA_ERR_INVALID,
                         "artifact %s was encoded from %s (%" JSON_INTEGER_FORMAT
                         " rows), artifact %s from %s (%" JSON_INTEGER_FORMAT " rows)",
                         names[i], c->input, c->rows, names[0], fc[0].input, fc[0].rows);
    }
    if (st == PA_OK) {
        qsort(fc, n, sizeof *fc, cmp_begin);
        for (size_t i = 1; i < n && st == PA_OK; i++)
            if (fc[i].begin < fc[i - 1].end)
                st = pa_fail(PA_ERR_INVALID,
                             "artifact %s covers rows [%" JSON_INTEGER_FORMAT
                             ", %" JSON_INTEGER_FORMAT
                             ") of %s, which overlap rows [%" JSON_INTEGER_FORMAT
                             ", %" JSON_INTEGER_FORMAT ") of artifact %s",
                             names[fc[i].owner], fc[i].begin, fc[i].end, fc[i].input,
                             fc[i - 1].begin, fc[i - 1].end, names[fc[i - 1].owner]);
    }
    for (size_t i = 0; js && i < n; i++)
        json_decref(js[i]);
    free(js), free(fc);
    return st;
}

pa_status pa_coverage_merge(const char *const *covs, const char *const *names, size_t n,
                            char **source)
{
    *source = NULL;
    if (n == 0)
        return pa_fail(PA_ERR_INVALID, "no artifacts to finalize");
    for (size_t i = 0; i < n; i++)
        if (!covs[i])
            return pa_fail(PA_ERR_INVALID,
                           "artifact %s records no coverage (the rows it holds), so it cannot "
                           "be checked against the other shards; encode it from its input "
                           "(encode records it)",
                           names[i]);
    const bool table = pa_table_source_is(covs[0]);
    for (size_t i = 1; i < n; i++)
        if (pa_table_source_is(covs[i]) != table)
            return pa_fail(PA_ERR_INVALID,
                           "artifact %s was encoded from a %s, artifact %s from a %s", names[i],
                           table ? "file" : "Lance table", names[0],
                           table ? "Lance table" : "file");
    return table ? pa_table_source_merge(covs, names, n, source) : merge_files(covs, names, n);
}
