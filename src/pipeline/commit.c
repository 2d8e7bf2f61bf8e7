/* Committing an index into its Lance table: index.idx is opened once here; the index room reads
 * what the commit needs of it (its partifact:index, whose layout lives in
 * src/index/index_format.c) and the lance room reads its source record and writes the table's
 * new version (src/lance/table_commit.c). */
#include "index/index_format.h"
#include "lance/table_commit.h"

/* The commit's view of index_dir: index.idx open and its shape read (ix->reader to free). */
static pa_status open_index(const char *index_dir, pa_table_index *ix)
{
    *ix = (pa_table_index){.dir = index_dir};
    char *path = pa_path_join(index_dir, "/", PA_INDEX_FILE);
    pa_status st = path ? pa_lance_reader_open(&ix->reader, path) : PA_ERR_NOMEM;
    ix->path = path;
    if (st == PA_OK)
        st = pa_index_read_shape(ix->reader, path, &ix->shape);
    return st;
}

static void close_index(pa_table_index *ix)
{
    pa_lance_reader_free(ix->reader);
    free((char *)ix->path);
}

pa_status pa_table_commit_index(const char *table, const char *index_dir,
                                const pa_table_commit_options *opts, pa_table_commit_result *out)
{
    return pa_table_commit_segments(table, &index_dir, 1, opts, out);
}

pa_status pa_table_commit_segments(const char *table, const char *const *index_dirs, size_t n,
                                   const pa_table_commit_options *opts, pa_table_commit_result *out)
{
    if (!table || !index_dirs || n == 0)
        return pa_fail(PA_ERR_INVALID, "a table and at least one index are required");
    pa_table_index *ix = pa_calloc(n, sizeof *ix, "the segments");
    if (!ix)
        return PA_ERR_NOMEM;
    pa_status st = PA_OK;
    size_t opened = 0;
    for (; st == PA_OK && opened < n; opened++)
        st = index_dirs[opened] ? open_index(index_dirs[opened], &ix[opened])
                                : pa_fail(PA_ERR_INVALID, "segment %zu of %zu is NULL", opened, n);
    if (st == PA_OK)
        st = pa_table_commit_shaped(table, ix, n, opts, out);
    for (size_t k = 0; k < opened; k++)
        close_index(&ix[k]);
    free(ix);
    return st;
}

pa_status pa_index_check_source(const char *index_dir, const char *table)
{
    pa_table_index ix;
    pa_status st = open_index(index_dir, &ix);
    if (st == PA_OK)
        st = pa_table_check_source_shaped(&ix, table);
    close_index(&ix);
    return st;
}
