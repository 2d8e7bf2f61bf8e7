/* Committing an index into its Lance table: the index room reads what the commit needs of the
 * index (its partifact:index, whose layout lives in src/index/index_format.c), the lance room
 * writes the table's new version (src/lance/table_commit.c). */
#include "index/index_format.h"
#include "lance/table_commit.h"

pa_status pa_table_commit_index(const char *table, const char *index_dir,
                                const pa_table_commit_options *opts, pa_table_commit_result *out)
{
    pa_table_index_shape shape;
    pa_status st = pa_index_read_shape(index_dir, &shape);
    return st == PA_OK ? pa_table_commit_shaped(table, index_dir, &shape, opts, out) : st;
}

pa_status pa_index_check_source(const char *index_dir, const char *table)
{
    pa_table_index_shape shape;
    pa_status st = pa_index_read_shape(index_dir, &shape);
    return st == PA_OK ? pa_table_check_source_shaped(index_dir, &shape, table) : st;
}
