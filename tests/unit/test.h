/* A minimal test harness: CHECK records a failure and continues; each test binary ends with
 * TEST_DONE(), printing "N passed, N failed" and exiting non-zero on any failure. */
#ifndef PA_TEST_H
#define PA_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int pa_t_pass, pa_t_fail;

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
