/* Shared by the fuzz targets: a private scratch directory, and writing the input to a file in
 * it (the library's parsers read files, so the fuzzed bytes go through the same open/pread path
 * as any file a user hands us). */
#ifndef PA_FUZZ_COMMON_H
#define PA_FUZZ_COMMON_H

#include "partifact.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char fz_dir[512];

static inline void fz_die(const char *what)
{
    perror(what);
    abort();
}

static int fz_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void fz_cleanup(void)
{
    if (fz_dir[0])
        nftw(fz_dir, fz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The scratch directory ($TMPDIR or /tmp), created on first use, removed at exit. */
static inline const char *fz_scratch(void)
{
    if (!fz_dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(fz_dir, sizeof fz_dir, "%s/pa-fuzz-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(fz_dir))
            fz_die("mkdtemp");
        atexit(fz_cleanup);
    }
    return fz_dir;
}

static inline void fz_write(const char *path, const uint8_t *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        fz_die(path);
    size_t done = 0;
    while (done < n) {
        ssize_t k = write(fd, data + done, n - done);
        if (k <= 0)
            fz_die("write");
        done += (size_t)k;
    }
    close(fd);
}

/* Copies every regular file of directory src into directory dst (created). */
static inline void fz_copy_dir(const char *src, const char *dst)
{
    mkdir(dst, 0755);
    DIR *d = opendir(src);
    if (!d)
        fz_die(src);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char a[1024], b[1024];
        snprintf(a, sizeof a, "%s/%s", src, e->d_name);
        snprintf(b, sizeof b, "%s/%s", dst, e->d_name);
        FILE *f = fopen(a, "rb");
        if (!f)
            fz_die(a);
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
        if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
            fz_die(a);
        fclose(f);
        fz_write(b, buf, (size_t)n);
        free(buf);
    }
    closedir(d);
}

/* A dataset directory in the scratch directory (fz_ds_dir) holding the real data files of
 * fuzz/data/dataset/data (one partifact wrote, two LanceDB wrote) and an empty _versions/ for
 * its one manifest, fz_ds_manifest (_versions/1.manifest). For LLVMFuzzerInitialize. */
static char fz_ds_dir[600], fz_ds_manifest[700];

static inline int fz_dataset_init(void)
{
    snprintf(fz_ds_dir, sizeof fz_ds_dir, "%s/ds", fz_scratch());
    mkdir(fz_ds_dir, 0755);
    char p[700];
    snprintf(p, sizeof p, "%s/data", fz_ds_dir);
    fz_copy_dir(PA_FUZZ_DATA "/dataset/data", p);
    snprintf(p, sizeof p, "%s/_versions", fz_ds_dir);
    mkdir(p, 0755);
    snprintf(fz_ds_manifest, sizeof fz_ds_manifest, "%s/_versions/1.manifest", fz_ds_dir);
    return 0;
}

/* Opens path as a vector input (skip_invalid or not) and uses all of it: streams every row
 * twice (with a rewind), reads the first rows again by id, the first, middle and last rows by
 * ordinal and one past the end (which must be refused). Shared by the .npy and
 * .fvecs/.bvecs/.ivecs targets. */
static inline void fz_consume_vectors(const char *path, int skip)
{
    pa_vec_input_options o = {.struct_size = sizeof o, .skip_invalid = skip};
    pa_vec_input *in;
    if (pa_vec_input_open(&in, path, &o) != PA_OK)
        return;
    uint32_t dim = pa_vec_input_dim(in);
    uint64_t rows = pa_vec_input_num_rows(in);
    if (dim == 0 || dim > (1u << 18)) {
        pa_vec_input_free(in);
        return;
    }
    size_t max_rows = (1u << 20) / dim ? (1u << 20) / dim : 1;
    if (max_rows > 512)
        max_rows = 512;
    float *x = malloc(sizeof(float) * max_rows * dim);
    uint64_t *ids = malloc(sizeof(uint64_t) * max_rows);
    if (x && ids) {
        for (int pass = 0; pass < 2; pass++) {
            size_t n;
            for (int b = 0; b < 256; b++) {
                if (pa_vec_input_next(in, x, ids, max_rows, &n) != PA_OK || n == 0)
                    break;
                if (pass == 0 && b == 0) /* the first rows again, by the ids they came with */
                    (void)pa_vec_input_read_ids(in, ids, n < 3 ? n : 3, x);
            }
            if (pa_vec_input_rewind(in) != PA_OK)
                break;
        }
        uint64_t want[3] = {0, rows / 2, rows ? rows - 1 : 0};
        if (rows && max_rows >= 3)
            (void)pa_vec_input_read_rows(in, want, 3, x);
        uint64_t past = rows;
        (void)pa_vec_input_read_rows(in, &past, 1, x); /* must be refused */
        (void)pa_vec_input_skipped(in);
    }
    free(x), free(ids);
    pa_vec_input_free(in);
}

#endif
