/* A minimal test harness: CHECK records a failure and continues; each test binary ends with
 * TEST_DONE(), printing "N passed, N failed" and exiting non-zero on any failure.
 *
 * Cases: main starts with TEST_ARGS(argc, argv) and runs each case as RUN(test_<name>(...));
 * `test_index recall exact_adc` then runs only those cases (what main does besides them, its
 * setup, still runs), no names run them all (as ctest does), and a name that is no case of the
 * binary fails it, listing the cases. */
#ifndef PA_TEST_H
#define PA_TEST_H

#include <stdbool.h>
#include <stdint.h>
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

/* Whole-file equality: both files readable and byte for byte the same. */
static inline bool test_same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    bool same = fa && fb;
    for (int ca = 0, cb = 0; same && ca != EOF;) {
        ca = fgetc(fa), cb = fgetc(fb);
        same = ca == cb;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
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

/* xorshift64 on *s, and a float in [-1, 1) from it (the index tests' data). */
static inline uint64_t pa_t_xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}
static inline float pa_t_frand(uint64_t *s)
{
    return (float)((pa_t_xorshift(s) >> 11) * (1.0 / 9007199254740992.0)) * 2 - 1;
}

/* Clustered vectors with real neighbourhood structure (seeded by *s): 64 centres; a row is its
 * centre plus a spread inside a 4-dimensional subspace of its cluster, plus a little noise;
 * queries (nq) are data rows plus noise. data n x dim, queries nq x dim, the caller's. */
static inline void pa_t_clustered(uint64_t *s, float *data, int n, int dim, float *queries, int nq)
{
    float *centre = malloc(sizeof(float) * 64 * dim), *basis = malloc(sizeof(float) * 64 * 4 * dim);
    for (int c = 0; c < 64; c++)
        for (int d = 0; d < dim; d++) {
            centre[c * dim + d] = pa_t_frand(s);
            for (int r = 0; r < 4; r++)
                basis[(c * 4 + r) * dim + d] = pa_t_frand(s) * 0.5f;
        }
    for (int i = 0; i < n; i++) {
        int c = (int)(pa_t_xorshift(s) % 64);
        float co[4] = {pa_t_frand(s), pa_t_frand(s), pa_t_frand(s), pa_t_frand(s)};
        for (int d = 0; d < dim; d++) {
            float v = centre[c * dim + d] + 0.01f * pa_t_frand(s);
            for (int r = 0; r < 4; r++)
                v += co[r] * basis[(c * 4 + r) * dim + d];
            data[(size_t)i * dim + d] = v;
        }
    }
    for (int q = 0; q < nq; q++) {
        int i = (int)(pa_t_xorshift(s) % (uint64_t)n);
        for (int d = 0; d < dim; d++)
            queries[q * dim + d] = data[(size_t)i * dim + d] + 0.02f * pa_t_frand(s);
    }
    free(centre), free(basis);
}

/* Whether two files have the same bytes (both readable). */
static inline int pa_t_files_equal(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int eq = fa && fb;
    while (eq) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb)
            eq = 0;
        if (ca == EOF || cb == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return eq;
}

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (cond)                                                                    \
            pa_t_pass++;                                                             \
        else {                                                                       \
            pa_t_fail++;                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

#define CHECK_OK(expr)                                                                \
    do {                                                                              \
        pa_status st_ = (expr);                                                       \
        if (st_ == PA_OK)                                                             \
            pa_t_pass++;                                                              \
        else {                                                                        \
            pa_t_fail++;                                                              \
            fprintf(stderr, "%s:%d: %s returned %s: %s\n", __FILE__, __LINE__, #expr, \
                    pa_status_name(st_), pa_last_error());                            \
        }                                                                             \
    } while (0)

/* Expects expr to fail with status want and an error message containing substring. */
#define CHECK_ERR(expr, want, substring)                                                  \
    do {                                                                                  \
        pa_status st_ = (expr);                                                           \
        if (st_ == (want) && strstr(pa_last_error(), (substring)))                        \
            pa_t_pass++;                                                                  \
        else {                                                                            \
            pa_t_fail++;                                                                  \
            fprintf(stderr, "%s:%d: %s: expected %s containing \"%s\", got %s: \"%s\"\n", \
                    __FILE__, __LINE__, #expr, pa_status_name(want), (substring),         \
                    pa_status_name(st_), pa_last_error());                                \
        }                                                                                 \
    } while (0)

/* ---- case selection ---- */
#define PA_T_MAX_CASES 64
static int pa_t_argc;
static char **pa_t_argv;
static const char *pa_t_cases[PA_T_MAX_CASES]; /* "test_<name>(...)" of each RUN seen */
static int pa_t_ncases, pa_t_ran;
static bool pa_t_named[PA_T_MAX_CASES]; /* argv[i] named a case that ran */

#define TEST_ARGS(argc, argv) (pa_t_argc = (argc), pa_t_argv = (argv))

/* A case's name: its call without "test_" and the arguments. */
static inline int test_case_name(const char *call, const char **name)
{
    *name = strncmp(call, "test_", 5) ? call : call + 5;
    return (int)strcspn(*name, "( ");
}

/* Whether the case called as call runs: no names were given, or its name is among them. */
static inline bool test_selected(const char *call)
{
    const char *name;
    int n = test_case_name(call, &name);
    if (pa_t_ncases < PA_T_MAX_CASES)
        pa_t_cases[pa_t_ncases++] = call;
    if (pa_t_argc <= 1)
        return pa_t_ran++, true;
    bool run = false;
    for (int i = 1; i < pa_t_argc && i < PA_T_MAX_CASES; i++)
        if ((int)strlen(pa_t_argv[i]) == n && !strncmp(pa_t_argv[i], name, (size_t)n))
            pa_t_named[i] = run = true;
    if (run) {
        fprintf(stderr, "case %.*s\n", n, name);
        pa_t_ran++;
    }
    return run;
}

#define RUN(call)                 \
    do {                          \
        if (test_selected(#call)) \
            call;                 \
    } while (0)

/* Fails the binary for each name given that is no case of it, listing the cases. */
static inline void test_check_names(void)
{
    for (int i = 1; i < pa_t_argc; i++) {
        if (i < PA_T_MAX_CASES && pa_t_named[i])
            continue;
        pa_t_fail++;
        fprintf(stderr, "%s: no case \"%s\"; its cases:", pa_t_argv[0], pa_t_argv[i]);
        for (int c = 0; c < pa_t_ncases; c++) {
            const char *name;
            int n = test_case_name(pa_t_cases[c], &name);
            fprintf(stderr, " %.*s", n, name);
        }
        fprintf(stderr, "%s\n", pa_t_ncases ? "" : " none (main runs as one)");
    }
}

#define TEST_DONE()                                                                       \
    do {                                                                                  \
        test_check_names();                                                               \
        printf("%d passed, %d failed (%d of %d cases)\n", pa_t_pass, pa_t_fail, pa_t_ran, \
               pa_t_ncases);                                                              \
        return pa_t_fail ? 1 : 0;                                                         \
    } while (0)

#endif
