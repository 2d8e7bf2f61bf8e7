/* Rows files from an artifact: every (row_id, part_id, pq_code) row of an artifact written as
 * one Lance file, in file order or shuffled, with the model's XXH64 and the rows' checksum in
 * its schema metadata. The generic finalize path's input (src/index/regroup.c), for tests and
 * benchmarks. */
#include "artifact/artifact_internal.h"
#include "common/vecmath.h"

#include <inttypes.h>
#include <stdlib.h>

/* Appends n rows to the rows file, hashing them for its checksum. */
static pa_status export_append(pa_lance_writer *lw, pa_rows_hash *h, const uint64_t *ids,
                               const uint32_t *parts, const uint8_t *codes, uint64_t n)
{
    const void *cols[3] = {ids, parts, codes};
    pa_rows_hash_update(h, ids, parts, codes, n);
    return pa_lance_writer_append(lw, cols, n);
}

pa_status pa_artifact_export_rows(const char *artifact_dir, const char *rows_path,
                                  uint64_t shuffle_seed, uint64_t *rows_out)
{
    return pa_artifact_export_rows_ex(artifact_dir, rows_path, shuffle_seed, rows_out, 0);
}

pa_status pa_artifact_export_rows_ex(const char *artifact_dir, const char *rows_path,
                                     uint64_t shuffle_seed, uint64_t *rows_out, int replace)
{
    pa_artifact *a = NULL;
    pa_lance_writer *lw = NULL;
    pa_status st = pa_artifact_open(&a, artifact_dir);
    if (st != PA_OK)
        return st;
    pa_artifact_info ai = PA_ARTIFACT_INFO_INIT;
    if ((st = pa_artifact_get_info(a, &ai)) != PA_OK) {
        pa_artifact_free(a);
        return st;
    }
    const uint32_t M = ai.code_bytes;
    pa_field f[3] = {{PA_ARTIFACT_COL_ROW_ID, PA_TYPE_UINT64, 1},
                     {PA_ARTIFACT_COL_PART_ID, PA_TYPE_UINT32, 1},
                     {PA_ARTIFACT_COL_CODE, PA_TYPE_FSL_UINT8, M}};
    const char *inputs[] = {artifact_dir};
    pa_lance_write_options lo = PA_LANCE_WRITE_OPTIONS_INIT;
    lo.replace = replace;
    st = pa_output_check_inputs(rows_path, inputs, 1);
    if (st == PA_OK)
        st = pa_lance_writer_create(&lw, rows_path, f, 3, &lo);
    if (st == PA_OK && pa_artifact_model_xxh64(a)) { /* finalize --rows checks its model */
        char h[17];
        snprintf(h, sizeof h, "%016" PRIx64, pa_artifact_model_xxh64(a));
        st = pa_lance_writer_set_metadata(lw, PA_ROWS_META_MODEL, h, 16);
    }
    /* shuffled: everything in memory; in file order: one chunk per read */
    const uint64_t chunk = shuffle_seed ? PA_MAX(ai.total_rows, 1) : 65536;
    uint64_t *ids = st == PA_OK ? pa_malloc(8 * chunk, "export row ids") : NULL;
    uint32_t *parts = st == PA_OK ? pa_malloc(4 * chunk, "export part ids") : NULL;
    uint8_t *codes = st == PA_OK ? pa_malloc(chunk * M, "export codes") : NULL;
    if (st == PA_OK && (!ids || !parts || !codes))
        st = PA_ERR_NOMEM;
    /* each file in row order, range by range, every range checked as it is read (its part
     * ids and checksum; the ranges tile the file, as the artifact's open checked) */
    pa_range_check *chk = NULL;
    pa_rows_hash *rh = NULL; /* the rows file's own checksum, for finalize --rows */
    if (st == PA_OK)
        st = pa_range_check_new(&chk, M);
    if (st == PA_OK)
        st = pa_rows_hash_new(&rh, M);
    uint64_t have = 0;
    for (uint32_t fi = 0; st == PA_OK && fi < ai.num_files; fi++) {
        pa_owned_range *rs = NULL;
        size_t nr = 0;
        if ((st = pa_artifact_file_ranges(a, fi, &rs, &nr)) != PA_OK)
            break;
        for (size_t k = 0; st == PA_OK && k < nr; k++) {
            for (uint64_t off = 0; st == PA_OK && off < rs[k].num_rows;) {
                uint64_t n = PA_MIN(chunk - have, rs[k].num_rows - off);
                st = pa_artifact_read_range(a, rs[k].part, rs[k].index, off, n, ids + have,
                                            codes + have * M, chk);
                for (uint64_t j = 0; j < n; j++)
                    parts[have + j] = rs[k].part;
                off += n, have += n;
                if (st == PA_OK && !shuffle_seed && have == chunk) {
                    st = export_append(lw, rh, ids, parts, codes, have);
                    have = 0;
                }
            }
        }
        free(rs);
    }
    pa_range_check_free(chk);
    if (st == PA_OK && !shuffle_seed && have) {
        st = export_append(lw, rh, ids, parts, codes, have);
        have = 0;
    }
    if (st == PA_OK && shuffle_seed && have) {
        uint64_t s = shuffle_seed;
        for (uint64_t i = have - 1; i > 0; i--) {
            uint64_t j = pa_splitmix(&s) % (i + 1);
            uint64_t t = ids[i];
            ids[i] = ids[j];
            ids[j] = t;
            uint32_t q = parts[i];
            parts[i] = parts[j];
            parts[j] = q;
            for (uint32_t m = 0; m < M; m++) {
                uint8_t c = codes[i * M + m];
                codes[i * M + m] = codes[j * M + m];
                codes[j * M + m] = c;
            }
        }
        st = export_append(lw, rh, ids, parts, codes, have);
    }
    if (st == PA_OK) {
        char h[17];
        snprintf(h, sizeof h, "%016" PRIx64, pa_rows_hash_digest(rh));
        st = pa_lance_writer_set_metadata(lw, PA_ROWS_META_CHECKSUM, h, 16);
    }
    pa_rows_hash_free(rh);
    if (st == PA_OK)
        st = pa_lance_writer_close(lw);
    if (st == PA_OK && rows_out)
        *rows_out = pa_lance_writer_num_rows(lw);
    free(ids), free(parts), free(codes);
    pa_lance_writer_free(lw);
    pa_artifact_free(a);
    return st;
}
