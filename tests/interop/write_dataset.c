/* C -> LanceDB: writes a dataset with columns of all five types (several fragments, many pages
 * per column) for check_dataset.mjs to verify with LanceDB. Usage: write_dataset DIR ROWS */
#include "partifact.h"
#include "values.h"

#include <stdio.h>
#include <stdlib.h>

#define DIM 32

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    uint64_t rows = strtoull(argv[2], NULL, 10);
    pa_field fields[] = {{"seq", PA_TYPE_UINT64, 1},      {"id", PA_TYPE_UINT64, 1},
                         {"part", PA_TYPE_UINT32, 1},     {"score", PA_TYPE_FLOAT32, 1},
                         {"code", PA_TYPE_FSL_UINT8, 16}, {"vec", PA_TYPE_FSL_FLOAT32, DIM}};
    pa_dataset_write_options o = {.struct_size = sizeof o,
                                  .max_rows_per_fragment = 400000,
                                  .page_bytes = 256 * 1024};
    pa_dataset_writer *w;
    if (pa_dataset_writer_create(&w, argv[1], fields, 6, &o) != PA_OK) {
        fprintf(stderr, "%s\n", pa_last_error());
        return 1;
    }
    enum { B = 10007 };
    static uint64_t seq[B], id[B];
    static uint32_t part[B];
    static float score[B], vec[B * DIM];
    static uint8_t code[B * 16];
    for (uint64_t done = 0; done < rows;) {
        size_t n = rows - done < B ? (size_t)(rows - done) : B;
        for (size_t k = 0; k < n; k++) {
            uint64_t i = done + k;
            seq[k] = i, id[k] = iv_id(i), part[k] = iv_part(i), score[k] = iv_score(i);
            for (uint32_t j = 0; j < 16; j++)
                code[k * 16 + j] = iv_code(i, j);
            for (uint32_t j = 0; j < DIM; j++)
                vec[k * DIM + j] = iv_vec(i, j);
        }
        const void *cols[] = {seq, id, part, score, code, vec};
        if (pa_dataset_writer_append(w, cols, n) != PA_OK) {
            fprintf(stderr, "%s\n", pa_last_error());
            return 1;
        }
        done += n;
    }
    if (pa_dataset_writer_commit(w) != PA_OK) {
        fprintf(stderr, "%s\n", pa_last_error());
        return 1;
    }
    pa_dataset_writer_free(w);
    printf("wrote %llu rows\n", (unsigned long long)rows);
    return 0;
}
