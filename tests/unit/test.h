/* A minimal test harness: CHECK records a failure and continues; each test binary ends with
 * TEST_DONE(), printing "N passed, N failed" and exiting non-zero on any failure. */
#ifndef PA_TEST_H
#define PA_TEST_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int pa_t_pass, pa_t_fail;

/* Each test binary's scratch directory: $PA_TEST_TMP/<name>, or /tmp/<name>. */
static char tmpdir[512];

/* Sets the scratch directory, empties it and creates it; false if it could not be made. */
static inline bool test_tmpdir_init(const char *name)
{
    const char *base = getenv("PA_TEST_TMP");
    snprintf(tmpdir, sizeof tmpdir, "%s/%s", base ? base : "/tmp", name);
    mkdir(base ? base : "/tmp", 0755);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 && mkdir(tmpdir, 0755) == 0;
}

/* A file in the scratch directory (a ring of 8 buffers: up to 8 paths may be held at once). */
static inline const char *tpath(const char *name)
{
    static char buf[8][700];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

/* Writes n rows of dim floats as an .fvecs file. */
static inline void write_fvecs(const char *path, const float *x, int n, int dim)
{
    FILE *f = fopen(path, "wb");
    for (int i = 0; f && i < n; i++) {
        fwrite(&dim, 4, 1, f);
        fwrite(x + (size_t)i * dim, 4, (size_t)dim, f);
    }
    if (f)
        fclose(f);
}

#define CHECK(cond)                                                                           \
    do {                                                                                      \
        if (cond)                                                                             \
            pa_t_pass++;                                                                      \
        else {                                                                                \
            pa_t_fail++;                                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);          \
        }                                                                                     \
    } while (0)

#define CHECK_OK(expr)                                                                        \
    do {                                                                                      \
        pa_status st_ = (expr);                                                               \
        if (st_ == PA_OK)                                                                     \
            pa_t_pass++;                                                                      \
        else {                                                                                \
            pa_t_fail++;                                                                      \
            fprintf(stderr, "%s:%d: %s returned %s: %s\n", __FILE__, __LINE__, #expr,         \
                    pa_status_name(st_), pa_last_error());                                    \
        }                                                                                     \
    } while (0)

/* Expects expr to fail with status want and an error message containing substring. */
#define CHECK_ERR(expr, want, substring)                                                      \
    do {                                                                                      \
        pa_status st_ = (expr);                                                               \
        if (st_ == (want) && strstr(pa_last_error(), (substring)))                            \
            pa_t_pass++;                                                                      \
        else {                                                                                \
            pa_t_fail++;                                                                      \
            fprintf(stderr, "%s:%d: %s: expected %s containing \"%s\", got %s: \"%s\"\n",     \
                    __FILE__, __LINE__, #expr, pa_status_name(want), (substring),             \
                    pa_status_name(st_), pa_last_error());                                    \
        }                                                                                     \
    } while (0)

#define TEST_DONE()                                                                           \
    do {                                                                                      \
        printf("%d passed, %d failed\n", pa_t_pass, pa_t_fail);                               \
        return pa_t_fail ? 1 : 0;                                                             \
    } while (0)

#endif
