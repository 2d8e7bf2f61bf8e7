/* Test helper for the upstream-layout artifact tests (tests/interop/run_upstream.sh): what
 * partifact reads of an artifact, a model or an index, dumped to binary files the node scripts
 * and cmp compare, and Lance files wrapped as datasets for LanceDB to open.
 *   artifact_tool rows ARTIFACT OUT    every partition as partifact's range reader returns it
 *                                      (pa_artifact_read_partition), in id order, empty ones
 *                                      included: u32 part, u64 rows, rows x u64 row ids, rows x
 *                                      code_bytes codes
 *   artifact_tool model MODEL OUT      the model: u32 dim, partitions, sub-vectors, bits,
 *                                      metric, then the centroids (partitions x dim f32) and the
 *                                      codebook (sub-vectors x 2^bits x dim/sub-vectors f32)
 *   artifact_tool index INDEX OUT      an index's content: every global buffer but the schema of
 *                                      index.idx and auxiliary.idx, then every value of every
 *                                      column of auxiliary.idx (schema metadata left out: it
 *                                      names the model file's hash)
 *   artifact_tool wrap DATASET FILE..  a new dataset of the Lance files (pa_dataset_wrap_files) */
#include "partifact.h"
#include "partifact_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what)
{
    fprintf(stderr, "artifact_tool: %s: %s\n", what, pa_last_error());
    return 1;
}

static int dump_rows(const char *dir, FILE *out)
{
    pa_artifact *a = NULL;
    if (pa_artifact_open(&a, dir) != PA_OK)
        return fail(dir);
    pa_artifact_info info = PA_ARTIFACT_INFO_INIT;
    pa_artifact_get_info(a, &info);
    int rc = 0;
    for (uint32_t p = 0; p < info.num_partitions && !rc; p++) {
        uint64_t n = 0;
        if (pa_artifact_partition(a, p, &n, NULL, NULL) != PA_OK) {
            rc = fail(dir);
            break;
        }
        uint64_t *ids = malloc(n * 8 + 8);
        uint8_t *codes = malloc(n * info.code_bytes + 1);
        if (!ids || !codes || pa_artifact_read_partition(a, p, ids, codes) != PA_OK)
            rc = fail(dir);
        else if (fwrite(&p, 4, 1, out) != 1 || fwrite(&n, 8, 1, out) != 1 ||
                 fwrite(ids, 8, n, out) != n || fwrite(codes, info.code_bytes, n, out) != n)
            rc = 1;
        free(ids);
        free(codes);
    }
    pa_artifact_free(a);
    return rc;
}

static int dump_model(const char *path, FILE *out)
{
    pa_ivfpq_model *m = NULL;
    if (pa_ivfpq_model_load(&m, path) != PA_OK)
        return fail(path);
    pa_backend_model a;
    pa_ivfpq_model_arrays(m, &a);
    uint32_t head[5] = {a.dim, a.num_partitions, a.num_sub_vectors, a.num_bits, (uint32_t)a.metric};
    size_t nc = (size_t)a.num_partitions * a.dim, nb = ((size_t)a.dim << a.num_bits);
    int rc = fwrite(head, 4, 5, out) != 5 || fwrite(a.centroids, 4, nc, out) != nc ||
             fwrite(a.codebook, 4, nb, out) != nb;
    pa_ivfpq_model_free(m);
    return rc;
}

/* Every global buffer of path from 1 on; with columns, every value of every column. */
static int dump_lance(const char *path, int columns, FILE *out)
{
    pa_lance_reader *r = NULL;
    if (pa_lance_reader_open(&r, path) != PA_OK)
        return fail(path);
    int rc = 0;
    for (uint32_t i = 1; i < pa_lance_reader_num_global_buffers(r) && !rc; i++) {
        void *data = NULL;
        size_t len = 0;
        if (pa_lance_reader_global_buffer(r, i, &data, &len) != PA_OK)
            rc = fail(path);
        else if (fwrite(&len, 8, 1, out) != 1 || fwrite(data, 1, len, out) != len)
            rc = 1;
        free(data);
    }
    uint64_t n = pa_lance_reader_num_rows(r);
    for (size_t c = 0; columns && c < pa_lance_reader_num_fields(r) && !rc; c++) {
        size_t w = pa_lance_reader_row_bytes(r, c);
        void *v = malloc(n * w + 1);
        if (!v || pa_lance_reader_read(r, c, 0, n, v) != PA_OK)
            rc = fail(path);
        else if (fwrite(v, w, n, out) != n)
            rc = 1;
        free(v);
    }
    pa_lance_reader_free(r);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr,
                "usage: artifact_tool rows|model|index|wrap IN OUT | wrap DATASET FILE...\n");
        return 2;
    }
    if (!strcmp(argv[1], "wrap"))
        return pa_dataset_wrap_files(argv[2], (const char *const *)argv + 3, (size_t)argc - 3) !=
                       PA_OK
                   ? fail(argv[2])
                   : 0;
    FILE *out = fopen(argv[3], "wb");
    if (!out) {
        perror(argv[3]);
        return 1;
    }
    int rc;
    if (!strcmp(argv[1], "rows")) {
        rc = dump_rows(argv[2], out);
    } else if (!strcmp(argv[1], "model")) {
        rc = dump_model(argv[2], out);
    } else if (!strcmp(argv[1], "index")) {
        char p[4096];
        snprintf(p, sizeof p, "%s/index.idx", argv[2]);
        rc = dump_lance(p, 0, out);
        snprintf(p, sizeof p, "%s/auxiliary.idx", argv[2]);
        rc = rc || dump_lance(p, 1, out);
    } else {
        fprintf(stderr, "artifact_tool: unknown mode %s\n", argv[1]);
        rc = 2;
    }
    if (fclose(out) != 0)
        rc = 1;
    return rc;
}
