#!/usr/bin/env bash
# An out-of-tree v2 backend plugin: partifact installed to a scratch prefix, a plugin built
# outside the tree from partifact_backend.h alone (pkg-config --cflags partifact, strict C99;
# the header compiles as C++11 too), and `partifact build --accelerator NAME --backend-path DIR`
# trains and encodes through it (its log=FILE option records the calls), giving an index that
# searches; it refuses a 4-bit model in one line. A plugin of the first ABI is refused by the installed binary, naming both versions.
set -u
BUILD=$1; T=$2; rm -rf "$T"; mkdir -p "$T/plugins"
. "$(dirname "$0")/lib.sh"
expect_exit 0 cmake --install "$BUILD" --prefix "$T/prefix"
expect_exit 0 test -f "$T/prefix/include/partifact_backend.h"
PC="$T/prefix/lib/pkgconfig"; [ -d "$PC" ] || PC=$(dirname "$(find "$T/prefix" -name partifact.pc | head -1)")
CFLAGS=$(PKG_CONFIG_PATH="$PC" pkg-config --cflags partifact)
PA="$T/prefix/bin/partifact"

cat > "$T/oot.c" <<'C'
/* A minimal backend: centroids and codewords picked from the sample, brute-force encoding. */
#include <partifact_backend.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct state { char log[1024]; } state;
typedef struct bound { pa_backend_model m; } bound;

static void note(state *s, const char *what, unsigned long long n)
{
    FILE *f = s->log[0] ? fopen(s->log, "a") : NULL;
    if (f) { fprintf(f, "%s %llu\n", what, n); fclose(f); }
}
static int create(void **out, const char *options, char *err, size_t err_len)
{
    state *s = (state *)calloc(1, sizeof *s);
    char key[32], value[1024];
    const char *p = options;
    if (!s) { snprintf(err, err_len, "no memory"); return 1; }
    while (pa_backend_option_next(&p, key, sizeof key, value, sizeof value) == 1) {
        if (strcmp(key, "log") != 0) {
            snprintf(err, err_len, "unknown option \"%s\"", key);
            free(s);
            return 1;
        }
        strcpy(s->log, value);
    }
    *out = s;
    return 0;
}
static void destroy(void *s) { free(s); }
static float l2(const float *a, const float *b, uint32_t d)
{
    float t = 0;
    uint32_t i;
    for (i = 0; i < d; i++) t += (a[i] - b[i]) * (a[i] - b[i]);
    return t;
}
static uint32_t nearest(const float *v, const float *c, uint32_t k, uint32_t d)
{
    uint32_t j, best = 0;
    float bd = FLT_MAX;
    for (j = 0; j < k; j++) { float t = l2(v, c + (size_t)j * d, d); if (t < bd) { bd = t; best = j; } }
    return best;
}
static int train(void *s, const pa_backend_train_params *p, float *x, uint64_t n, float *cent,
                 float *cb, pa_backend_train_stats *st, char *err, size_t err_len)
{
    uint32_t K = 1u << p->num_bits, D = p->dim, ds = D / p->num_sub_vectors, c, k, m;
    (void)st;
    if (p->metric != 0) { snprintf(err, err_len, "l2 only"); return 1; }
    note((state *)s, "train", n);
    for (c = 0; c < p->num_partitions; c++)
        memcpy(cent + (size_t)c * D, x + (n * c / p->num_partitions) * D, D * sizeof(float));
    for (k = 0; k < K; k++) {
        const float *v = x + (n * k / K) * D;
        const float *ce = cent + (size_t)nearest(v, cent, p->num_partitions, D) * D;
        for (m = 0; m < D; m++) cb[((size_t)(m / ds) * K + k) * ds + m % ds] = v[m] - ce[m];
    }
    return 0;
}
static int bind(void *s, const pa_backend_model *m, void **out, char *err, size_t err_len)
{
    bound *b;
    /* one code byte per sub-vector: a 4-bit model (two codes a byte) is refused, not misread */
    if (m->num_bits != 8) { snprintf(err, err_len, "8-bit codes only, not %u-bit", m->num_bits); return 1; }
    b = (bound *)malloc(sizeof *b);
    if (!b) { snprintf(err, err_len, "no memory"); return 1; }
    b->m = *m;
    note((state *)s, "bind", m->num_partitions);
    *out = b;
    return 0;
}
static int encode(void *s, void *bp, const float *x, uint64_t n, uint32_t *parts, uint8_t *codes,
                  char *err, size_t err_len)
{
    const pa_backend_model *m = &((bound *)bp)->m;
    uint32_t D = m->dim, M = m->num_sub_vectors, ds = D / M, K = 1u << m->num_bits, j, k;
    float r[1024];
    uint64_t i;
    if (D > 1024) { snprintf(err, err_len, "dimension over 1024"); return 1; }
    note((state *)s, "encode", n);
    for (i = 0; i < n; i++) {
        const float *v = x + i * D;
        parts[i] = nearest(v, m->centroids, m->num_partitions, D);
        for (j = 0; j < D; j++) r[j] = v[j] - m->centroids[(size_t)parts[i] * D + j];
        for (j = 0; j < M; j++) {
            uint32_t best = 0;
            float bd = FLT_MAX;
            for (k = 0; k < K; k++) {
                float t = l2(r + j * ds, m->codebook + ((size_t)j * K + k) * ds, ds);
                if (t < bd) { bd = t; best = k; }
            }
            codes[i * M + j] = (uint8_t)best;
        }
    }
    return 0;
}
static void unbind(void *s, void *b) { (void)s; free(b); }
static uint64_t work_bytes(void *s, const pa_backend_model *m, uint64_t rows)
{
    (void)s; (void)m; (void)rows;
    return sizeof(bound);
}
/* (no assign_encode_flags: the host calls encode) */
static const pa_backend_v2 table = {PA_BACKEND_ABI_VERSION, sizeof(pa_backend_v2), "oot",
                                    create, destroy, train, bind, encode, unbind, work_bytes,
                                    NULL};
__attribute__((visibility("default"))) const pa_backend_v2 *partifact_backend_v2(uint32_t v)
{
    return v == PA_BACKEND_ABI_VERSION ? &table : NULL;
}
C
expect_exit 0 sh -c "cc -std=c99 -pedantic -Wall -Wextra -Werror -fPIC -shared -o '$T/plugins/libpartifact-backend-oot.so' '$T/oot.c' $CFLAGS"
printf '#include <partifact_backend.h>\nint main(void) { return PA_BACKEND_ABI_VERSION == 2 ? 0 : 1; }\n' > "$T/abi.cc"
expect_exit 0 sh -c "c++ -std=c++11 -pedantic -Wall -Wextra -Werror -o '$T/abi' '$T/abi.cc' $CFLAGS && '$T/abi'"

expect_exit 0 "$PA" gen-vectors --out "$T/base.fvecs" --rows 4000 --dim 16 --clusters 20 --seed 2
expect_exit 0 "$PA" gen-vectors --out "$T/q.fvecs" --rows 50 --dim 16 --clusters 20 --seed 2 --first-row 4000
expect_exit 0 "$PA" groundtruth --input "$T/base.fvecs" --queries "$T/q.fvecs" -k 10 --out "$T/gt.ivecs"
expect_exit 0 "$PA" build --input "$T/base.fvecs" --out "$T/idx" --partitions 16 --sub-vectors 4 \
    --accelerator oot --backend-path "$T/plugins" --backend-option "log=$T/log" --json
expect_exit 0 test "$(tr '\n' ' ' < "$T/log")" = "train 4000 bind 16 encode 4000 "
expect_exit 0 "$PA" search --index "$T/idx" --queries "$T/q.fvecs" -k 10 --nprobes 16 --refine-factor 10 \
    --input "$T/base.fvecs" --groundtruth "$T/gt.ivecs" --json
r=$(sed -n 's/.*"recall":\([0-9.]*\).*/\1/p' "$T/out")
if awk -v r="$r" 'BEGIN { exit !(r >= 0.8) }'; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: recall through the out-of-tree backend $r < 0.8"; fi
# a plugin that encodes 8-bit codes only refuses a 4-bit model when it is bound, in one line
expect_err 2 "bind model: 8-bit codes only, not 4-bit" \
    "$PA" build --input "$T/base.fvecs" --out "$T/idx4" --partitions 16 --sub-vectors 4 --bits 4 \
    --accelerator oot --backend-path "$T/plugins"
expect_exit 1 test -e "$T/idx4"
expect_err 2 'create failed: unknown option "gpu"' \
    "$PA" build --input "$T/base.fvecs" --out "$T/idx2" --accelerator oot --backend-path "$T/plugins" --backend-option gpu=1

# a plugin of the first ABI (entry partifact_backend_v1) is refused at load
printf '#include <stdint.h>\nstatic const uint32_t t[2] = {1, 48};\n__attribute__((visibility("default"))) const void *partifact_backend_v1(uint32_t v) { (void)v; return t; }\n' > "$T/v1.c"
expect_exit 0 cc -fPIC -shared -o "$T/plugins/libpartifact-backend-v1.so" "$T/v1.c"
expect_err 2 "backend was built for ABI version 1 (it exports partifact_backend_v1); this partifact speaks version 2 (partifact_backend_v2)" \
    "$PA" build --input "$T/base.fvecs" --out "$T/idx3" --accelerator v1 --backend-path "$T/plugins"
finish
