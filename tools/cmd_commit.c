/* partifact commit / table-info, and the commit step of build --commit: an index registered in
 * its Lance table as a new version, and a table's versions, fragments, columns and indexes. */
#include "tools/cli.h"

#include "common/common.h"

#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The index a build --commit makes before committing it: inside the table, removed after. */
#define BUILD_INDEX_PREFIX ".partifact-index"
#define BUILD_INDEX_TAG "-"

/* The commit's result; b (build --commit) adds the build's figures. */
static void print_result(const char *table, const pa_table_commit_result *r, bool json,
                         const pa_build_stats *b)
{
    if (json) {
        if (b)
            printf("{\"rows\":%" PRIu64 ",\"partitions\":%u,\"sub_vectors\":%u,"
                   "\"build_seconds\":%.3f,\"commit\":", b->rows, b->num_partitions,
                   b->num_sub_vectors, b->seconds);
        printf("{\"table\":");
        pa_cli_json_string(stdout, table);
        printf(",\"name\":");
        pa_cli_json_string(stdout, r->name);
        printf(",\"uuid\":\"%s\",\"version\":%" PRIu64 ",\"read_version\":%" PRIu64
               ",\"built_version\":%" PRIu64 ",\"fragments\":%u,\"replaced\":%u,"
               "\"retries\":%u}%s", r->uuid, r->version, r->read_version, r->built_version,
               r->num_fragments, r->replaced, r->retries, b ? "" : "\n");
        if (b)
            printf("}\n");
    } else {
        printf("committed index %s (%s) into %s as version %" PRIu64 " (built from version %"
               PRIu64 ", %u fragments%s)\n", r->name, r->uuid, table, r->version,
               r->built_version, r->num_fragments, r->replaced ? ", replacing the old one" : "");
    }
}

/* partifact commit --index IDX --table T [--name NAME] [--replace] [--json] */
int pa_cmd_commit(int argc, char **argv)
{
    static const struct option opts[] = {
        {"index", required_argument, 0, 'x'}, {"table", required_argument, 0, 't'},
        {"name", required_argument, 0, 'n'},  {"replace", no_argument, 0, 'r'},
        {"json", no_argument, 0, 'j'},        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *index = NULL, *table = NULL, *name = NULL;
    bool json = false, replace = false;
    int c;
    while ((c = getopt_long(argc, argv, "x:t:n:rjh", opts, NULL)) != -1) {
        switch (c) {
        case 'x': index = optarg; break;
        case 't': table = optarg; break;
        case 'n': name = optarg; break;
        case 'r': replace = true; break;
        case 'j': json = true; break;
        case 'h':
            printf("usage: partifact commit --index IDX --table T.lance [--name NAME] [--replace]\n"
                   "         [--json]\n"
                   "Commits an index built from the Lance table T (partifact build --input T)\n"
                   "into T as its next version, so that LanceDB lists and searches it. The\n"
                   "index must come from T's fragments as they are now. --name: default\n"
                   "<column>_idx; an index of that name is refused unless --replace, which\n"
                   "removes it in the same commit.\n");
            return 0;
        default: return PA_CLI_EXIT_FAIL;
        }
    }
    if (!index || !table)
        return pa_cli_error("commit", "--index and --table are required (see --help)");
    if (name && (!*name || strlen(name) >= 256))
        return pa_cli_error("commit", "\"%s\" is not a valid value for --name", name);
    pa_table_commit_options o = {.struct_size = sizeof o, .name = name, .replace = replace};
    pa_table_commit_result r = PA_TABLE_COMMIT_RESULT_INIT;
    pa_status st = pa_table_commit_index(table, index, &o, &r);
    if (st != PA_OK)
        return pa_cli_fail("commit", st);
    print_result(table, &r, json, NULL);
    return 0;
}

int pa_cli_build_commit(pa_vec_input *in, const char *table, const char *column,
                        const char *out, const pa_build_options *bo, const char *name,
                        bool replace, bool json)
{
    if (name && (!*name || strlen(name) >= 256))
        return pa_cli_error("build", "\"%s\" is not a valid value for --name", name);
    pa_status st = pa_table_commit_check(table, column, name, replace);
    if (st != PA_OK)
        return pa_cli_fail("build", st);
    /* Without --out the index is built in a work directory inside the table (made by this
     * run, marked and locked; what killed runs left there is removed first) and removed after
     * the commit copied it into _indices/. */
    pa_workdir work = {.lock_fd = -1};
    char dir[4200];
    if (!out) {
        char base[4096];
        snprintf(base, sizeof base, "%s/" BUILD_INDEX_PREFIX, table);
        pa_remove_orphans(base, BUILD_INDEX_TAG); /* what killed builds left */
        snprintf(base, sizeof base, "%s/" BUILD_INDEX_PREFIX BUILD_INDEX_TAG, table);
        if ((st = pa_workdir_create(&work, base, false)) != PA_OK)
            return pa_cli_fail("build", st);
        snprintf(dir, sizeof dir, "%s/index", work.path);
    } else {
        snprintf(dir, sizeof dir, "%s", out);
    }
    pa_build_stats s = PA_BUILD_STATS_INIT;
    st = pa_build(in, dir, bo, &s);
    pa_cli_progress_end();
    pa_table_commit_options o = {.struct_size = sizeof o, .name = name, .replace = replace};
    pa_table_commit_result r = PA_TABLE_COMMIT_RESULT_INIT;
    if (st == PA_OK)
        st = pa_table_commit_index(table, dir, &o, &r);
    if (!out)
        pa_workdir_remove(&work);
    if (st != PA_OK)
        return pa_cli_fail("build", st);
    if (!json)
        printf("built %" PRIu64 " rows, %u partitions, %u sub-vectors (%s) in %.2f s\n",
               s.rows, s.num_partitions, s.num_sub_vectors,
               pa_metric_name(bo->params->metric), s.seconds);
    print_result(table, &r, json, &s);
    return 0;
}

/* partifact table-info T.lance [--json] */
int pa_cmd_table_info(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    bool as_json = false;
    int c;
    while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        switch (c) {
        case 'j': as_json = true; break;
        case 'h':
            printf("usage: partifact table-info T.lance [--json]\n"
                   "Prints a Lance table's versions, the latest version's fragments (rows,\n"
                   "deleted rows), columns, and indexes (name, uuid, type, the fragments and\n"
                   "live rows they cover).\n");
            return 0;
        default: return PA_CLI_EXIT_FAIL;
        }
    }
    if (optind + 1 != argc)
        return pa_cli_error("table-info", "give one table (see --help)");
    char *text = NULL;
    pa_status st = pa_table_info_json(argv[optind], &text);
    if (st != PA_OK)
        return pa_cli_fail("table-info", st);
    if (as_json) {
        printf("%s\n", text);
        free(text);
        return 0;
    }
    json_error_t je;
    json_t *t = json_loads(text, 0, &je);
    free(text);
    if (!t)
        return pa_cli_error("table-info", "out of memory");
    json_t *v;
    size_t i;
    printf("%s: Lance table, version %" JSON_INTEGER_FORMAT " (%s manifest names), %"
           JSON_INTEGER_FORMAT " rows, %" JSON_INTEGER_FORMAT " deleted\n",
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
               " deleted\n", json_integer_value(json_object_get(v, "id")),
               json_integer_value(json_object_get(v, "rows")),
               json_integer_value(json_object_get(v, "deleted_rows")));
    printf("columns:\n");
    json_array_foreach(json_object_get(t, "columns"), i, v)
        if (json_integer_value(json_object_get(v, "parent_id")) == -1)
            printf("  %s: %s%s\n", json_string_value(json_object_get(v, "name")),
                   json_string_value(json_object_get(v, "type")),
                   json_is_true(json_object_get(v, "nullable")) ? " (nullable)" : "");
    printf("indexes:%s\n", json_array_size(json_object_get(t, "indexes")) ? "" : " none");
    json_array_foreach(json_object_get(t, "indexes"), i, v) {
        printf("  %s: %s %s on", json_string_value(json_object_get(v, "name")),
               json_string_value(json_object_get(v, "type")),
               json_string_value(json_object_get(v, "uuid")));
        json_t *x;
        size_t k;
        json_array_foreach(json_object_get(v, "columns"), k, x)
            printf(" %s", json_string_value(x));
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
