/* partifact gen-vectors / lance-gen / artifact-gen: the CLI's data generators (seeded,
 * deterministic), for demos, tests and benchmarks. Every generated value lives here. */
#include "tools/cli.h"
#include "common/vecmath.h" /* pa_splitmix: the generators' one source of random bits */

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A standard normal draw (Box-Muller). */
static double gauss(uint64_t *s)
{
    double u = ((double)(pa_splitmix(s) >> 11) + 0.5) / 9007199254740992.0;
    double v = ((double)(pa_splitmix(s) >> 11) + 0.5) / 9007199254740992.0;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* The largest --rank gen-vectors takes (its per-row buffer). */
#define GEN_MAX_RANK 4096
#define GEN_MAX_DIM 65536 /* the generators' largest dimension */
#define GEN_STR_(x) #x
#define GEN_STR(x) GEN_STR_(x)

/* partifact gen-vectors: clustered vectors in a random low-rank subspace plus noise, written as
 * .fvecs. Row i's values depend only on (seed, i), so base and query sets can be made apart. */
int pa_cmd_gen_vectors(int argc, char **argv)
{
    const char *out = NULL;
    uint64_t rows = 1000000, dim = 128, clusters = 1000, rank = 32, seed = 1, first = 0;
    double noise = 0.3;
    bool force = false;
    pa_cli_opt opts[] = {
        PA_CLI_OPT_FORCE(&force),
        PA_CLI_STR("out", &out, "FILE.fvecs", "the file to write", .required = true),
        PA_CLI_NUM("rows", &rows, "N", "rows"),
        PA_CLI_NUM("dim", &dim, "D", "dimension", .min = 1, .max = GEN_MAX_DIM),
        PA_CLI_NUM("clusters", &clusters, "C", "cluster centres", .min = 1),
        PA_CLI_NUM("rank", &rank, "R", "the subspace's rank (at most the dimension)", .min = 1,
                   .max = GEN_MAX_RANK),
        PA_CLI_REAL_OPT("noise", &noise, "SIGMA", "isotropic noise"),
        PA_CLI_NUM("seed", &seed, "S", "the seed"),
        PA_CLI_NUM("first-row", &first, "N", "the number of the first row written"),
    };
    pa_cli_parse("gen-vectors", opts, PA_CLI_NOPTS(opts), NULL, argc, argv);
    int rc = 0;
    rank = PA_CLI_MIN(rank, dim);
    /* basis (rank x dim) and centres (clusters x rank) from the seed */
    uint64_t s = seed;
    float *basis = NULL, *centre = NULL, *row = NULL;
    pa_output *f = NULL;
    pa_status st = PA_OK;
    basis = malloc(sizeof(float) * rank * dim);
    centre = malloc(sizeof(float) * clusters * rank);
    row = malloc(sizeof(float) * dim);
    if (!basis || !centre || !row) {
        rc = pa_cli_errorf(PA_CLI_EXIT_RUNTIME, "gen-vectors", "out of memory");
        goto done;
    }
    if ((st = pa_output_create(&f, out, force)) != PA_OK)
        goto done;
    for (uint64_t k = 0; k < rank * dim; k++)
        basis[k] = (float)(gauss(&s) / sqrt((double)rank));
    for (uint64_t k = 0; k < clusters * rank; k++)
        centre[k] = (float)(gauss(&s) * 3.0);
    int32_t d32 = (int32_t)dim;
    for (uint64_t i = 0; i < rows; i++) {
        uint64_t rs = (seed * 0x9E3779B97F4A7C15ull) ^ (first + i) * 0xD1B54A32D192ED03ull;
        uint64_t cl = pa_splitmix(&rs) % clusters;
        float z[GEN_MAX_RANK];
        for (uint64_t t = 0; t < rank; t++)
            z[t] = centre[cl * rank + t] + (float)gauss(&rs);
        for (uint64_t j = 0; j < dim; j++) {
            float v = 0;
            for (uint64_t t = 0; t < rank; t++)
                v += z[t] * basis[t * dim + j];
            row[j] = v + (float)(gauss(&rs) * noise);
        }
        if ((st = pa_output_write(f, &d32, 4)) != PA_OK ||
            (st = pa_output_write(f, row, 4 * dim)) != PA_OK)
            goto done; /* the old file, if any, is left as it was */
        if (i % 4096 == 0)
            pa_cli_progress("gen-vectors: rows", i, rows);
    }
    pa_cli_progress_end();
    st = pa_output_commit(f);
    if (st == PA_OK)
        printf("wrote %s: %" PRIu64 " rows of dimension %" PRIu64 " (%" PRIu64
               " clusters, rank %" PRIu64 ")\n",
               out, rows, dim, clusters, rank);
done:
    if (st != PA_OK)
        rc = pa_cli_fail("gen-vectors", st);
    free(basis), free(centre), free(row);
    pa_output_free(f); /* an uncommitted output is removed, the old file left as it was */
    return rc;
}

/* The generated value of row i of the demo/test columns (deterministic, exact in float32). */
static float gen_item(uint64_t i, uint32_t j)
{
    return (float)((i * 31 + j * 7) % 2048) * 0.5f - 512.0f;
}

/* partifact lance-gen --out FILE.lance --rows N --dim D [--page-bytes B] [--json]: writes the
 * columns id (u64), part (u32), score (float), code (fsl<u8,16>), vector (fsl<float,D>). */
int pa_cmd_lance_gen(int argc, char **argv)
{
    const char *out = NULL, *layout_name = "auto";
    uint64_t rows = 100000, dim = 128, page_bytes = 0;
    bool json = false, force = false;
    pa_cli_opt opts[] = {
        PA_CLI_OPT_FORCE(&force),
        PA_CLI_OPT_JSON(&json),
        PA_CLI_STR("out", &out, "FILE.lance", "the file to write", .required = true),
        PA_CLI_NUM("rows", &rows, "N", "rows", .expect = "a count"),
        PA_CLI_NUM("dim", &dim, "D", "the vector column's dimension", .min = 1, .max = GEN_MAX_DIM,
                   .expect = "in 1.." GEN_STR(GEN_MAX_DIM)),
        PA_CLI_BYTES("page-bytes", &page_bytes, "B", "bytes per page (default: the writer's)",
                     .expect = "a size", .field = "page_bytes"),
        PA_CLI_STR("layout", &layout_name, "auto|mini-block|full-zip", "every page's layout",
                   .field = "layout"),
    };
    pa_cli_parse("lance-gen", opts, PA_CLI_NOPTS(opts), NULL, argc, argv);
    int rc = 0;
    int layout = PA_LAYOUT_AUTO;
    if (!strcmp(layout_name, "mini-block"))
        layout = PA_LAYOUT_MINIBLOCK;
    else if (!strcmp(layout_name, "full-zip"))
        layout = PA_LAYOUT_FULLZIP;
    else if (strcmp(layout_name, "auto"))
        return pa_cli_error("lance-gen", "--layout: \"%s\" is not auto, mini-block or full-zip",
                            layout_name);
    pa_field fields[] = {{"id", PA_TYPE_UINT64, 1},
                         {"part", PA_TYPE_UINT32, 1},
                         {"score", PA_TYPE_FLOAT32, 1},
                         {"code", PA_TYPE_FSL_UINT8, 16},
                         {"vector", PA_TYPE_FSL_FLOAT32, (uint32_t)dim}};
    pa_lance_write_options wo = {.struct_size = sizeof wo,
                                 .page_bytes = (size_t)page_bytes,
                                 .layout = layout,
                                 .replace = force};
    const size_t batch = 4096;
    uint64_t *id = NULL;
    uint32_t *part = NULL;
    float *score = NULL, *vec = NULL;
    uint8_t *code = NULL;
    pa_lance_writer *w = NULL;
    pa_status st = pa_lance_writer_create(&w, out, fields, 5, &wo);
    if (st != PA_OK)
        goto done;
    id = malloc(batch * 8);
    part = malloc(batch * 4);
    score = malloc(batch * 4);
    code = malloc(batch * 16);
    vec = malloc(batch * dim * 4);
    if (!id || !part || !score || !code || !vec) {
        rc = pa_cli_errorf(PA_CLI_EXIT_RUNTIME, "lance-gen", "out of memory");
        goto done;
    }
    for (uint64_t done = 0; done < rows && st == PA_OK;) {
        size_t n = (size_t)PA_CLI_MIN(batch, rows - done);
        for (size_t k = 0; k < n; k++) {
            uint64_t i = done + k;
            id[k] = i * 2654435761u;
            part[k] = (uint32_t)(i % 1000);
            score[k] = (float)i * 0.25f;
            for (uint32_t j = 0; j < 16; j++)
                code[k * 16 + j] = (uint8_t)(i + j);
            for (uint32_t j = 0; j < dim; j++)
                vec[k * dim + j] = gen_item(i, j);
        }
        const void *cols[] = {id, part, score, code, vec};
        st = pa_lance_writer_append(w, cols, n);
        done += n;
        pa_cli_progress("lance-gen: rows", done, rows);
    }
    pa_cli_progress_end();
    if (st != PA_OK || (st = pa_lance_writer_close(w)) != PA_OK)
        goto done;
    uint64_t bytes = pa_lance_writer_bytes_written(w);
    json_t *j = NULL;
    if (json)
        st = pa_cli_json_print(pa_json_pack(&j, "lance-gen --json", "{s:o, s:I, s:I, s:I}", "path",
                                            pa_json_display_string(out), "rows", (json_int_t)rows,
                                            "dim", (json_int_t)dim, "bytes", (json_int_t)bytes),
                               &j);
    else {
        printf("wrote %s: %llu rows, %llu bytes\n", out, (unsigned long long)rows,
               (unsigned long long)bytes);
    }
done:
    if (st != PA_OK)
        rc = pa_cli_fail("lance-gen", st);
    pa_lance_writer_free(w);
    free(id), free(part), free(score), free(code), free(vec);
    return rc;
}

/* partifact artifact-gen: streams synthetic (row_id, part_id, code) rows into an artifact. */
int pa_cmd_artifact_gen(int argc, char **argv)
{
    const char *out = NULL, *model = NULL;
    uint64_t rows = 1000000, parts = 256, m = 16, buckets = 0, memory = PA_DEFAULT_MEMORY_BYTES,
             seed = 1, buffer_rows = 0;
    bool skewed = false, json = false, force = false;
    pa_cli_opt opts[] = {
        PA_CLI_OPT_FORCE(&force),
        PA_CLI_OPT_JSON(&json),
        PA_CLI_STR("out", &out, "ARTIFACT", "the artifact to write", .required = true),
        PA_CLI_NUM("rows", &rows, "N", "rows"),
        PA_CLI_NUM("partitions", &parts, "P", "partitions", .min = 1,
                   .max = PA_MAX_ARTIFACT_PARTITIONS, .field = "num_partitions"),
        PA_CLI_NUM("sub-vectors", &m, "M", "code bytes per row", .min = 1, .max = 4096,
                   .field = "code_bytes"),
        PA_CLI_NUM("buckets", &buckets, "B", "bucket files (default: from the partitions)",
                   .max = PA_MAX_BUCKETS, .field = "num_buckets"),
        PA_CLI_BYTES("memory", &memory, "SIZE", "the writer's memory budget",
                     .field = "memory_bytes"),
        PA_CLI_FLAG("skewed", &skewed, "a quarter of the rows in partition 0"),
        PA_CLI_NUM("seed", &seed, "S", "the seed"),
        PA_CLI_STR("model", &model, "MODEL.lance", "the model to record", .field = "model"),
        PA_CLI_NUM("buffer-rows", &buffer_rows, "N", "cap on the writer's bucket buffers", .min = 1,
                   .field = "max_buffer_rows"),
    };
    pa_cli_parse("artifact-gen", opts, PA_CLI_NOPTS(opts), NULL, argc, argv);
    int rc = 0;
    pa_artifact_params prm = {.struct_size = sizeof prm,
                              .num_partitions = (uint32_t)parts,
                              .num_buckets = (uint32_t)buckets,
                              .code_bytes = (uint32_t)m,
                              .dimension = (uint32_t)(m * 8),
                              .metric = PA_METRIC_L2,
                              .model = model,
                              .max_buffer_rows = buffer_rows,
                              .memory_bytes = memory,
                              .expected_rows = rows,
                              .replace = force};
    double t0 = pa_cli_now();
    const size_t batch = PA_DEFAULT_BATCH_ROWS;
    uint64_t *ids = NULL;
    uint32_t *pid = NULL;
    uint8_t *codes = NULL;
    pa_artifact_writer *w = NULL;
    pa_status st = pa_artifact_writer_create(&w, out, &prm);
    if (st != PA_OK)
        goto done;
    ids = malloc(batch * 8);
    pid = malloc(batch * 4);
    codes = malloc(batch * m);
    if (!ids || !pid || !codes) {
        rc = pa_cli_errorf(PA_CLI_EXIT_RUNTIME, "artifact-gen", "out of memory");
        goto done;
    }
    uint64_t s = seed;
    for (uint64_t done = 0; done < rows && st == PA_OK;) {
        size_t n = (size_t)PA_CLI_MIN(batch, rows - done);
        for (size_t i = 0; i < n; i++) {
            uint64_t r = pa_splitmix(&s);
            ids[i] = done + i;
            /* skewed: a quarter of the rows in partition 0, the rest uniform */
            pid[i] = skewed && (r & 3) == 0 ? 0 : (uint32_t)((r >> 2) % parts);
        }
        for (size_t i = 0; i < n * m; i += 8) {
            uint64_t r = pa_splitmix(&s);
            memcpy(codes + i, &r, PA_CLI_MIN(8, n * m - i));
        }
        st = pa_artifact_writer_append(w, ids, n, pid, n, codes, n * m);
        done += n;
        pa_cli_progress("artifact-gen: rows", done, rows);
    }
    pa_cli_progress_end();
    if (st == PA_OK)
        st = pa_artifact_writer_finish(w);
    if (st != PA_OK)
        goto done;
    pa_artifact_write_stats ws = PA_ARTIFACT_WRITE_STATS_INIT;
    pa_artifact_writer_stats(w, &ws);
    double secs = pa_cli_now() - t0;
    json_t *j = NULL;
    if (json) {
        st = pa_cli_json_print(
            pa_json_pack(&j, "artifact-gen --json", "{s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o}",
                         "path", pa_json_display_string(out), "rows", (json_int_t)ws.rows,
                         "partitions", (json_int_t)parts, "bytes", (json_int_t)ws.bytes_written,
                         "flushes", (json_int_t)ws.flushes, "ranges", (json_int_t)ws.ranges,
                         "buffer_bytes", (json_int_t)ws.buffer_bytes, "seconds", PA_CLI_REAL3(secs),
                         "mb_per_s",
                         pa_json_real_rounded((double)ws.bytes_written / 1e6 / secs, 1)),
            &j);
    } else {
        printf("wrote %s: %" PRIu64 " rows, %" PRIu64 " bytes, %" PRIu64 " flushes, %" PRIu64
               " ranges in %.2f s (%.1f MB/s)\n",
               out, ws.rows, ws.bytes_written, ws.flushes, ws.ranges, secs,
               (double)ws.bytes_written / 1e6 / secs);
    }
done:
    if (st != PA_OK)
        rc = pa_cli_fail("artifact-gen", st);
    pa_artifact_writer_free(w);
    free(ids), free(pid), free(codes);
    return rc;
}
