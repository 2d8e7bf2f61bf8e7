/* Fuzz target: a Lance table's newest manifest as the table commit reads it (the index section
 * at its recorded offset, index entries with their Roaring fragment bitmaps and details, the
 * commit's view of the manifest). The table directory holds the input as its only manifest;
 * the target describes the table (table-info) and runs the checks a commit makes first. */
#include "fuzz_common.h"

static char tb_dir[600], man_path[700];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    snprintf(tb_dir, sizeof tb_dir, "%s/tb", fz_scratch());
    mkdir(tb_dir, 0755);
    char p[700];
    snprintf(p, sizeof p, "%s/_versions", tb_dir);
    mkdir(p, 0755);
    snprintf(man_path, sizeof man_path, "%s/_versions/18446744073709551614.manifest", tb_dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_write(man_path, data, size);
    char *json = NULL;
    if (pa_table_info_json(tb_dir, &json) == PA_OK)
        free(json);
    (void)pa_table_commit_check(tb_dir, NULL, NULL, 0);
    (void)pa_table_commit_check(tb_dir, "vector", "vector_idx", 1);
    return 0;
}
