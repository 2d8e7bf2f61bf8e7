#!/usr/bin/env bash
# cmake --install to a scratch prefix, then compile and run a program using pkg-config.
set -u
BUILD=$1; T=$2; rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/lib.sh"
expect_exit 0 cmake --install "$BUILD" --prefix "$T/prefix"
expect_exit 0 test -f "$T/prefix/include/partifact.h"
cat > "$T/use.c" <<'C'
#include <partifact.h>
#include <stdio.h>
int main(void) {
    pa_lance_reader *r;
    pa_status st = pa_lance_reader_open(&r, "/nonexistent.lance");
    printf("%s %s %s\n", pa_version(), pa_status_name(st), pa_last_error());
    return st == PA_ERR_IO ? 0 : 1;
}
C
PC="$T/prefix/lib/pkgconfig"; [ -d "$PC" ] || PC=$(dirname "$(find "$T/prefix" -name partifact.pc | head -1)")
expect_exit 0 sh -c "cc -o '$T/use' '$T/use.c' \$(PKG_CONFIG_PATH='$PC' pkg-config --cflags --libs --static partifact)"
expect_exit 0 env LD_LIBRARY_PATH="$T/prefix/lib" "$T/use"
expect_out "cannot open"
# the installed header is strict C99 and C++ too: users compile it with their own settings
expect_exit 0 sh -c "cc -std=c99 -pedantic -Wall -Wextra -Werror -c -o '$T/use99.o' '$T/use.c' \$(PKG_CONFIG_PATH='$PC' pkg-config --cflags partifact)"
expect_exit 0 sh -c "c++ -x c++ -std=c++11 -pedantic -Wall -Wextra -Werror -c -o '$T/usecc.o' '$T/use.c' \$(PKG_CONFIG_PATH='$PC' pkg-config --cflags partifact)"
# an out-of-tree program on the 0.2 API: INIT macros and init calls for every struct it
# passes, a build and a search through them, iterators that end with PA_END; compiled as
# C99 -pedantic -Werror and as C++11, linked through pkg-config, and run
expect_exit 0 sh -c "PKG_CONFIG_PATH='$PC' pkg-config --modversion partifact"
expect_out "0.2.0"
cat > "$T/api.c" <<'C'
#include <partifact.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define FAIL(what) do { fprintf(stderr, "%s: %s\n", what, pa_last_error()); return 1; } while (0)
/* every INIT macro compiles (all fields given: no missing-initializer warning) and sizes its
 * struct */
#define SIZED(T, INIT) do { T v_ = INIT; if (v_.struct_size != sizeof(T)) return 0; } while (0)
static int all_inits(void) {
    SIZED(pa_lance_write_options, PA_LANCE_WRITE_OPTIONS_INIT);
    SIZED(pa_dataset_write_options, PA_DATASET_WRITE_OPTIONS_INIT);
    SIZED(pa_vec_input_options, PA_VEC_INPUT_OPTIONS_INIT);
    SIZED(pa_ivfpq_params, PA_IVFPQ_PARAMS_INIT);
    SIZED(pa_ivfpq_train_stats, PA_IVFPQ_TRAIN_STATS_INIT);
    SIZED(pa_artifact_params, PA_ARTIFACT_PARAMS_INIT);
    SIZED(pa_artifact_write_stats, PA_ARTIFACT_WRITE_STATS_INIT);
    SIZED(pa_artifact_info, PA_ARTIFACT_INFO_INIT);
    SIZED(pa_artifact_verify_report, PA_ARTIFACT_VERIFY_REPORT_INIT);
    SIZED(pa_encode_options, PA_ENCODE_OPTIONS_INIT);
    SIZED(pa_encode_stats, PA_ENCODE_STATS_INIT);
    SIZED(pa_index_finalize_options, PA_INDEX_FINALIZE_OPTIONS_INIT);
    SIZED(pa_index_finalize_stats, PA_INDEX_FINALIZE_STATS_INIT);
    SIZED(pa_index_open_options, PA_INDEX_OPEN_OPTIONS_INIT);
    SIZED(pa_index_info, PA_INDEX_INFO_INIT);
    SIZED(pa_index_search_options, PA_INDEX_SEARCH_OPTIONS_INIT);
    SIZED(pa_index_search_stats, PA_INDEX_SEARCH_STATS_INIT);
    SIZED(pa_build_options, PA_BUILD_OPTIONS_INIT);
    SIZED(pa_build_stats, PA_BUILD_STATS_INIT);
    SIZED(pa_table_commit_options, PA_TABLE_COMMIT_OPTIONS_INIT);
    SIZED(pa_table_commit_result, PA_TABLE_COMMIT_RESULT_INIT);
    SIZED(pa_cpu_info, PA_CPU_INFO_INIT);
    SIZED(pa_blas_info, PA_BLAS_INFO_INIT);
    return 1;
}
int main(int argc, char **argv) {
    if (!all_inits())
        return 3;
    if (argc != 3)
        return 2;
    const char *vecs = argv[1], *index = argv[2];
    enum { N = 3000, D = 16 };
    float *x = (float *)malloc(sizeof(float) * N * D);
    FILE *f = fopen(vecs, "wb");
    unsigned seed = 7;
    for (int i = 0; i < N * D; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = (float)((seed >> 8) % 1000) / 100.0f + (float)(i / D % 10) * 20.0f;
    }
    for (int i = 0; f && i < N; i++) {
        int d = D;
        fwrite(&d, 4, 1, f);
        fwrite(x + (size_t)i * D, 4, D, f);
    }
    if (!f || fclose(f) != 0)
        return 1;
    pa_vec_input_options io = PA_VEC_INPUT_OPTIONS_INIT;
    pa_vec_input *in = NULL;
    if (pa_vec_input_open(&in, vecs, &io) != PA_OK)
        FAIL("open");
    pa_ivfpq_params prm;
    if (pa_ivfpq_params_init(&prm, sizeof prm) != PA_OK || prm.num_bits != PA_DEFAULT_NUM_BITS ||
        prm.max_iters != PA_DEFAULT_MAX_ITERS)
        FAIL("params_init");
    prm.num_partitions = 8;
    prm.num_sub_vectors = 4;
    pa_build_options bo = PA_BUILD_OPTIONS_INIT;
    bo.params = &prm;
    /* 0: PA_DEFAULT_MEMORY_BYTES for encode and finalize, the training sample uncut */
    if (bo.memory_bytes != 0 || bo.struct_size != sizeof bo)
        return 1;
    pa_build_stats bs = PA_BUILD_STATS_INIT;
    pa_encode_stats es = PA_ENCODE_STATS_INIT;
    bs.encode = &es;
    if (pa_build(in, index, &bo, &bs) != PA_OK)
        FAIL("build");
    if (bs.rows != N || es.rows != N || bs.num_partitions != 8)
        return 1;
    /* the input streams to its end, which is PA_END */
    if (pa_vec_input_rewind(in) != PA_OK)
        FAIL("rewind");
    size_t got = 0, total = 0;
    pa_status st;
    while ((st = pa_vec_input_next(in, x, NULL, 1000, &got)) == PA_OK)
        total += got;
    if (st != PA_END || total != N || got != 0)
        return 1;
    pa_index_open_options oo;
    if (pa_index_open_options_init(&oo, sizeof oo) != PA_OK)
        FAIL("open_options_init");
    pa_index *idx = NULL;
    if (pa_index_open_ex(&idx, index, &oo) != PA_OK)
        FAIL("index open");
    pa_index_info info = PA_INDEX_INFO_INIT;
    if (pa_index_get_info(idx, &info) != PA_OK || info.num_rows != N || info.metric != PA_METRIC_L2)
        FAIL("info");
    pa_index_search_options so = PA_INDEX_SEARCH_OPTIONS_INIT;
    so.nprobes = 8;
    pa_index_search_stats ss = PA_INDEX_SEARCH_STATS_INIT;
    uint64_t ids[PA_DEFAULT_K * 5];
    float dists[PA_DEFAULT_K * 5];
    if (pa_index_search(idx, x, 5, D, &so, ids, dists, &ss) != PA_OK || ss.nprobes_used != 8)
        FAIL("search");
    pa_index_search_options unset;
    memset(&unset, 0, sizeof unset);
    st = pa_index_search(idx, x, 5, D, &unset, ids, dists, NULL);
    printf("%s %s %s\n", pa_version(), pa_status_name(st), pa_last_error());
    pa_index_free(idx);
    pa_vec_input_free(in);
    free(x);
    return st == PA_ERR_INVALID ? 0 : 1;
}
C
CFLAGS_PC="\$(PKG_CONFIG_PATH='$PC' pkg-config --cflags partifact)"
LIBS_PC="\$(PKG_CONFIG_PATH='$PC' pkg-config --libs --static partifact)"
expect_exit 0 sh -c "cc -std=c99 -pedantic -Wall -Wextra -Werror -o '$T/api99' '$T/api.c' $CFLAGS_PC $LIBS_PC"
expect_exit 0 sh -c "c++ -x c++ -std=c++11 -pedantic -Wall -Wextra -Werror -c -o '$T/apicc.o' '$T/api.c' $CFLAGS_PC"
expect_exit 0 sh -c "c++ -o '$T/apicc' '$T/apicc.o' $LIBS_PC"
expect_exit 0 env LD_LIBRARY_PATH="$T/prefix/lib" "$T/api99" "$T/v99.fvecs" "$T/idx99"
expect_out "0.2.0 invalid pa_index_search_options: struct_size is 0"
expect_exit 0 env LD_LIBRARY_PATH="$T/prefix/lib" "$T/apicc" "$T/vcc.fvecs" "$T/idxcc"
expect_out "0.2.0 invalid pa_index_search_options: struct_size is 0"
finish
