/* The Lance file writer's peak memory stays flat as the row count grows tenfold: each size is
 * written in a child process, and the children's peak RSS (wait4) are compared. */
#include "partifact.h"
#include "test.h"

#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DIM 32

/* Writes rows in 4096-row batches (ids, 16-byte codes, 32-dim vectors); exits 0 on success. */
static int write_rows(const char *path, uint64_t rows)
{
    pa_field f[] = {{"id", PA_TYPE_UINT64, 1},
                    {"code", PA_TYPE_FSL_UINT8, 16},
                    {"vec", PA_TYPE_FSL_FLOAT32, DIM}};
    /* 1 MiB pages: both sizes fill every column's page buffer, so any growth would be data */
    pa_lance_write_options o = {.struct_size = sizeof o, .page_bytes = 1u << 20};
    pa_lance_writer *w;
    if (pa_lance_writer_create(&w, path, f, 3, &o) != PA_OK)
        return 1;
    static uint64_t id[4096];
    static uint8_t code[4096 * 16];
    static float vec[4096 * DIM];
    for (uint64_t done = 0; done < rows; done += 4096) {
        for (int k = 0; k < 4096; k++) {
            id[k] = done + (uint64_t)k;
            code[k * 16] = (uint8_t)k;
            vec[k * DIM] = (float)k;
        }
        const void *cols[] = {id, code, vec};
        if (pa_lance_writer_append(w, cols, 4096) != PA_OK)
            return 1;
    }
    int rc = pa_lance_writer_close(w) == PA_OK ? 0 : 1;
    pa_lance_writer_free(w);
    unlink(path);
    return rc;
}

/* Peak RSS in KiB of a child that writes `rows` rows. */
static long child_peak_kb(const char *path, uint64_t rows, int *ok)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(write_rows(path, rows));
    int status = 0;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid)
        return -1;
    *ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    return ru.ru_maxrss;
}

int main(int argc, char **argv)
{
    TEST_ARGS(argc, argv);
    const char *base = getenv("PA_TEST_TMP");
    char path[600];
    snprintf(path, sizeof path, "%s/writer_memory.lance", base ? base : "/tmp");
    int ok1 = 0, ok2 = 0;
    long small = child_peak_kb(path, 300000, &ok1);  /* ~56 MB of data */
    long large = child_peak_kb(path, 3000000, &ok2); /* ~560 MB of data */
    printf("peak RSS: %ld KiB for 300k rows, %ld KiB for 3M rows\n", small, large);
    CHECK(ok1 && ok2);
    CHECK(small > 0 && large > 0);
    /* 10x the rows (500 MB more data) may not grow the peak by more than 2 MiB */
    CHECK(large - small < 2 * 1024);
    TEST_DONE();
}
