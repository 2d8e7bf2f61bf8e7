/* partifact commit / table-info, and the commit step of build --commit: an index registered in
 * its Lance table as a new version, and a table's versions, fragments, columns and indexes. */
#include "tools/cli.h"

#include "common/common.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The index a build --commit makes before committing it: inside the table, removed after. */
#define BUILD_INDEX_PREFIX ".partifact-index"
#define BUILD_INDEX_TAG "-"

/* The commit's result; b (build --commit) adds the build's figures. */
static pa_status print_result(const char *table, const pa_table_commit_result *r, bool json,
                              const pa_build_stats *b)
{
    if (!json) {
        if (r->num_segments > 1)
            printf("committed index %s (%u segments) into %s as version %" PRIu64
                   " (built from version %" PRIu64 ", %u fragments%s)\n",
                   r->name, r->num_segments, table, r->version, r->built_version, r->num_fragments,
                   r->replaced ? ", replacing the old one" : "");
        else
            printf("committed index %s (%s) into %s as version %" PRIu64
                   " (built from version %" PRIu64 ", %u fragments%s)\n",
                   r->name, r->uuid, table, r->version, r->built_version, r->num_fragments,
                   r->replaced ? ", replacing the old one" : "");
        return PA_OK;
    }
    json_t *c = NULL, *j = NULL, *segs = json_array();
    for (uint32_t k = 0; segs && r->segment_uuids && k < r->num_segments; k++)
        if (json_array_append_new(segs, json_string(r->segment_uuids[k])) != 0)
            json_decref(segs), segs = NULL;
    if (segs && !r->segment_uuids && json_array_append_new(segs, json_string(r->uuid)) != 0)
        json_decref(segs), segs = NULL;
    pa_status st = pa_json_pack(&c, "commit --json",
                                "{s:o, s:o, s:s, s:I, s:I, s:I, s:i, s:i, s:i, s:o}", "table",
                                pa_json_display_string(table), "name",
                                pa_json_display_string(r->name), "uuid", r->uuid, "version",
                                (json_int_t)r->version, "read_version", (json_int_t)r->read_version,
                                "built_version", (json_int_t)r->built_version, "fragments",
                                (int)r->num_fragments, "replaced", (int)r->replaced, "retries",
                                (int)r->retries, "segments", segs);
    if (st != PA_OK || !b)
        return pa_cli_json_print(st, &c);
    st = pa_json_pack(&j, "build --commit --json", "{s:I, s:i, s:i, s:o, s:o}", "rows",
                      (json_int_t)b->rows, "partitions", (int)b->num_partitions, "sub_vectors",
                      (int)b->num_sub_vectors, "build_seconds", PA_CLI_REAL3(b->seconds), "commit",
                      c);
    return pa_cli_json_print(st, &j);
}

/* partifact commit (--index IDX | --segment IDX --segment IDX ...) --table T [--name NAME]
 * [--replace] [--json] */
int pa_cmd_commit(int argc, char **argv)
{
    const char *index = NULL, *table = NULL, *name = NULL;
    pa_cli_list segments = {0};
    bool json = false, replace = false;
    pa_cli_opt opts[] = {
        PA_CLI_OPT_JSON(&json),
        PA_CLI_STR("index", &index, "IDX", "the index, built from the table"),
        PA_CLI_ROW(PA_CLI_LIST, "segment", &segments, "IDX",
                   "a segment of the index (repeatable): the segments, each finalized from its "
                   "own shards, are committed as one index"),
        PA_CLI_STR("table", &table, "T.lance", "the Lance table", .required = true),
        PA_CLI_STR("name", &name, "NAME", "the index's name (default <column>_idx)",
                   .field = "name"),
        PA_CLI_FLAG("replace", &replace, "replace an index of that name in the same commit",
                    .field = "replace"),
    };
    pa_cli_parse("commit", opts, PA_CLI_NOPTS(opts), NULL, argc, argv);
    if (!index == !segments.n)
        return pa_cli_error("commit", "--table and one of --index or --segment are required "
                                      "(see --help)");
    if (name && (!*name || strlen(name) >= 256))
        return pa_cli_error("commit", "\"%s\" is not a valid value for --name", name);
    pa_table_commit_options o = {.struct_size = sizeof o, .name = name, .replace = replace};
    char uuids[PA_CLI_LIST_MAX][37];
    pa_table_commit_result r = PA_TABLE_COMMIT_RESULT_INIT;
    r.segment_uuids = uuids;
    pa_status st = index ? pa_table_commit_index(table, index, &o, &r)
                         : pa_table_commit_segments(table, segments.items, segments.n, &o, &r);
    if (st == PA_OK)
        st = print_result(table, &r, json, NULL);
    return st == PA_OK ? 0 : pa_cli_fail("commit", st);
}

int pa_cli_build_commit(pa_vec_input *in, const char *table, const char *column, const char *out,
                        const pa_build_options *bo, const char *name, bool replace, bool json)
{
    if (name && (!*name || strlen(name) >= 256))
        return pa_cli_error("build", "\"%s\" is not a valid value for --name", name);
    /* Without --out the index is built in a work directory inside the table (made by this
     * run, marked and locked; what killed runs left there is removed first) and removed after
     * the commit copied it into _indices/. */
    pa_workdir work = {.lock_fd = -1};
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", out ? out : ""); /* without --out: inside work, below */
    pa_status st = pa_table_commit_check(table, column, name, replace);
    if (st != PA_OK)
        goto done;
    if (!out) {
        char base[4096];
        snprintf(base, sizeof base, "%s/" BUILD_INDEX_PREFIX, table);
        pa_remove_orphans(base, BUILD_INDEX_TAG); /* what killed builds left */
        snprintf(base, sizeof base, "%s/" BUILD_INDEX_PREFIX BUILD_INDEX_TAG, table);
        if ((st = pa_workdir_create(&work, base, false)) != PA_OK)
            goto done;
        snprintf(dir, sizeof dir, "%s/index", work.path);
    }
    pa_build_stats s = PA_BUILD_STATS_INIT;
    st = pa_build(in, dir, bo, &s);
    pa_cli_progress_end();
    pa_table_commit_options o = {.struct_size = sizeof o, .name = name, .replace = replace};
    pa_table_commit_result r = PA_TABLE_COMMIT_RESULT_INIT;
    if (st == PA_OK)
        st = pa_table_commit_index(table, dir, &o, &r);
    if (st != PA_OK)
        goto done;
    if (!json)
        printf("built %" PRIu64 " rows, %u partitions, %u sub-vectors (%s) in %.2f s\n", s.rows,
               s.num_partitions, s.num_sub_vectors, pa_metric_name(bo->params->metric), s.seconds);
    st = print_result(table, &r, json, &s);
done:
    if (!out)
        pa_workdir_remove(&work);
    return st == PA_OK ? 0 : pa_cli_fail("build", st);
}

/* partifact table-info T.lance [--json] */
int pa_cmd_table_info(int argc, char **argv)
{
    bool as_json = false;
    pa_cli_opt opts[] = {PA_CLI_OPT_JSON(&as_json)};
    const char *pos = NULL;
    pa_cli_parse("table-info", opts, PA_CLI_NOPTS(opts), &pos, argc, argv);
    char *text = NULL;
    json_t *t = NULL;
    pa_status st = pa_table_info_json(pos, &text);
    if (st == PA_OK && as_json)
        printf("%s\n", text); /* the library's JSON, written by the one writer */
    else if (st == PA_OK && !(t = json_loads(text, 0, NULL)))
        st = pa_fail(PA_ERR_NOMEM, "out of memory reading the table's description");
    free(text);
    if (st != PA_OK || as_json)
        return st == PA_OK ? 0 : pa_cli_fail("table-info", st);
    json_t *v;
    size_t i;
    printf("%s: Lance table, version %" JSON_INTEGER_FORMAT
           " (%s manifest names), %" JSON_INTEGER_FORMAT " rows, %" JSON_INTEGER_FORMAT
           " deleted\n",
           json_string_value(json_object_get(t, "table")),
           json_integer_value(json_object_get(t, "version")),
           json_string_value(json_object_get(t, "manifest_naming")),
           json_integer_value(json_object_get(t, "rows")),
           json_integer_value(json_object_get(t, "deleted_rows")));
    printf("versions:");
    json_array_foreach(json_object_get(t, "versions"), i, v)
        printf(" %" JSON_INTEGER_FORMAT, json_integer_value(v));
    printf("\nfragments:\n");
    json_array_foreach(json_object_get(t, "fragments"), i, v)
        printf("  %" JSON_INTEGER_FORMAT ": %" JSON_INTEGER_FORMAT " rows, %" JSON_INTEGER_FORMAT
               " deleted\n",
               json_integer_value(json_object_get(v, "id")),
               json_integer_value(json_object_get(v, "rows")),
               json_integer_value(json_object_get(v, "deleted_rows")));
    printf("columns:\n");
    json_array_foreach(json_object_get(t, "columns"), i,
                       v) if (json_integer_value(json_object_get(v, "parent_id")) == -1)
        printf("  %s: %s%s\n", json_string_value(json_object_get(v, "name")),
               json_string_value(json_object_get(v, "type")),
               json_is_true(json_object_get(v, "nullable")) ? " (nullable)" : "");
    printf("indexes:%s\n", json_array_size(json_object_get(t, "indexes")) ? "" : " none");
    json_array_foreach(json_object_get(t, "indexes"), i, v)
    {
        printf("  %s: %s %s on", json_string_value(json_object_get(v, "name")),
               json_string_value(json_object_get(v, "type")),
               json_string_value(json_object_get(v, "uuid")));
        json_t *x;
        size_t k;
        json_array_foreach(json_object_get(v, "columns"), k, x) printf(" %s", json_string_value(x));
        printf(", built from version %" JSON_INTEGER_FORMAT ", fragments",
               json_integer_value(json_object_get(v, "dataset_version")));
        json_array_foreach(json_object_get(v, "fragments"), k, x)
            printf("%s%" JSON_INTEGER_FORMAT, k ? "," : " ", json_integer_value(x));
        printf(" (%" JSON_INTEGER_FORMAT " live rows)\n",
               json_integer_value(json_object_get(v, "rows_covered")));
    }
    json_decref(t);
    return 0;
}
