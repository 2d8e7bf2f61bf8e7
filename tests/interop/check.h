/* The value checks of the C interop checkers (read_lance_files.c, lance22.c): EXPECT counts
 * every check, and prints the first 20 that fail (one line each) and counts them in bad. */
#ifndef PA_INTEROP_CHECK_H
#define PA_INTEROP_CHECK_H
#include <stdio.h>

static long bad, checked;

#define EXPECT(cond, ...)                 \
    do {                                  \
        checked++;                        \
        if (!(cond) && bad++ < 20) {      \
            fprintf(stderr, __VA_ARGS__); \
            fputc('\n', stderr);          \
        }                                 \
    } while (0)
#endif
