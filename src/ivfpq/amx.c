/* Nearest centroid on AMX-BF16 tiles, with the fp32 path's answers.
 *
 * The fp32 path (pa_assign_sgemm) ranks centroid j of row x by cnorm[j] - 2 x.c_j (l2) or x.c_j
 * (dot), with x.c_j an fp32 dot product. Here the ranking is done first approximately on AMX
 * tiles and then exactly for the few centroids the approximation cannot tell apart:
 *
 * 1. Split: every value v (rows and centroids, centred on the centroids' mean mu, which leaves
 *    the ranking of a row unchanged: for l2 both are centred and the per-centroid part of the
 *    shift, -2 mu.c~_j, goes into a bias with cnorm_j; for dot only the centroids are, which
 *    shifts a row's scores by -x.mu) becomes bf16 hi = bf16(v) and lo = bf16(v - hi). The tiles
 *    accumulate hi.hi + hi.lo + lo.hi in fp32 (TDPBF16PS, the centroids in the VNNI layout): rows
 *    and centroids hold [hi | lo] per 32 dimensions, and per 32 dimensions the tiles of a 2 x 2
 *    step are loaded 10 times for 12 products (row hi and centroid hi, centroid lo, then row lo
 *    and centroid hi again).
 * 2. Bound: the dropped terms are at most 3 * 2^-18 of sum |r_i c_i| <= ||r|| ||c~||, the tile's
 *    fp32 additions (two per pair of values) at most (3 Dp + 2) 2^-24 of the same, and the exact
 *    value's own fp32 rounding dim 2^-24 ||x|| ||c|| (plus the centring's and the bias's
 *    roundings, bounded the same way). E, twice the sum of these bounds for the row, bounds
 *    |approximate - exact| for every centroid.
 * 3. Candidates: every centroid whose approximate score is within 2E of the row's approximate
 *    minimum; any other is provably worse (in the exact fp32 value) than the approximate
 *    winner, so the exact argmin is among the candidates. On clustered data there is one
 *    candidate for nearly every row.
 * 4. Decide: the candidates' exact values computed as the fp32 path computes them (exact_value:
 *    one fused multiply-add per dimension in order, which is what OpenBLAS's SkylakeX sgemm does
 *    for each element when dim <= 384, checked on 256,000 elements at dims 8..384), lowest index
 *    on ties. Where the fp32 path rounds differently (OpenBLAS splits dim > 384 into two halves
 *    added at the end; another BLAS may order its sums otherwise) the two can still disagree,
 *    and only on a row whose two best centroids' fp32 values are within a few units in the last
 *    place of each other: a tie in all but the rounding.
 *
 * Rows are worked in blocks of PA_AMX_ROWS per thread (OpenMP), centroids in chunks of
 * PA_AMX_CHUNK: per chunk and pair of 16-row tiles, two 16-centroid tiles, four accumulators
 * (2 x 2 tiles: tmm0-3 accumulators, tmm4-5 rows, tmm6-7 centroids). The tile state is per
 * thread: each configures its tiles and releases them at the end; the process asks the kernel
 * for the tile-data permission once (pa_cpu_amx_usable).
 *
 * Without AMX but with AVX512-BF16 (Zen 4/5, Cooper Lake) step 1 runs on VDPBF16PS instead
 * (bf16_chunk), the rest the same (centring, row blocks, candidates, decision): 32 bf16
 * products per instruction against 16 for an fp32 fused multiply-add, so only the hi.hi term
 * pays (three terms would cost 1.5 times the fp32 path). The dropped terms hi.lo + lo.hi +
 * lo.lo are then at most (2^-8 + 2^-18) sum |r_i c_i| and the additions Dp + 2 roundings:
 * E is looser (about 110 times at 128 dims) but as proven, and on the benchmark's clustered
 * data (gen-vectors, 128 dims) it leaves 1.09 candidates per row at 256 centroids (92.6% of
 * rows one) and about 1.9 at 4,096 (bench/bf16_probe.c). Not faster yet, so off unless
 * PA_BF16=1 (bf16_choose; pa_bf16_state says which); AMX, where usable, comes first. */
#include "ivfpq/ivfpq_internal.h"

#include <float.h>
#include <immintrin.h>
#include <math.h>
#include <omp.h>
#include <stdatomic.h>
#include <stdlib.h>

#define PA_AMX_ROWS 64     /* rows per block (a multiple of 32: pairs of 16-row tiles) */
#define PA_AMX_CHUNK 256   /* centroids per chunk of approximate scores (a multiple of 32) */
#define PA_AMX_CAND 8      /* candidates kept per row; beyond, the row is decided over all k */
#define PA_AMX_DIM_STEP 32 /* values per tile row (bf16) */
#define PA_AMX_COLS 16     /* centroids per tile */
#define PA_AMX_MIN_DIM 16  /* narrower rows stay on the fp32 path (no gain measured below) */
/* Wider rows go to AMX only where the fp32 path is the fused kernel (assign.c: one fused
 * multiply-add per value in order, as the decision computes them, at every dim: test_amx checks
 * them bit for bit): OpenBLAS's sgemm (the fp32 path at kernel level 0) sums them in two blocks
 * added at the end (checked: 784 as 392 + 392, 512 as 256 + 256), which the decision does not
 * repeat, and on Fashion-MNIST (784) the coarse k-means then ended in models that were not
 * byte-identical. */
#define PA_AMX_MAX_DIM 384
/* Fewer centroids stay on the fp32 path: the row blocks' fixed memory (counted in a budget's
 * model part, pa_prepared_bytes) is out of proportion to so little work. */
#define PA_AMX_MIN_K 64

/* A kernel's switch: 1 used, 0 not, -1 not decided yet. Decided on first use from whether the
 * CPU can (usable) and the environment variable env: with default_on, used unless env is "0";
 * without, used only where env is "1". */
typedef struct kernel_switch {
    _Atomic int on;
    const char *env;
    bool default_on;
    bool (*usable)(void);
} kernel_switch;

static bool switch_choose(kernel_switch *k)
{
    int on = atomic_load(&k->on);
    if (on >= 0)
        return on;
    const char *v = getenv(k->env);
    on = k->usable() && (k->default_on ? !(v && !strcmp(v, "0")) : (v && !strcmp(v, "1")));
    atomic_store(&k->on, on);
    return on;
}

static bool switch_set(kernel_switch *k, bool on)
{
    if (on && !k->usable())
        return false;
    atomic_store(&k->on, on ? 1 : 0);
    return true;
}

/* AMX: on where usable (PA_AMX=0 in the environment turns it off). */
static kernel_switch amx_switch = {-1, "PA_AMX", true, pa_cpu_amx_usable};

static bool amx_choose(void) { return switch_choose(&amx_switch); }

bool pa_amx_set(bool on) { return switch_set(&amx_switch, on); }

bool pa_amx_enabled(void) { return amx_choose(); }

/* The AVX512-BF16 pass: off unless PA_BF16=1. Measured on one Zen 5 core (bench/bf16_ab.c,
 * 50,000 rows x 128 dims, 4,096 centroids) the VDPBF16PS scores take 0.17 s against the fp32
 * path's 0.31 s, but scan_chunk's pass over the stored scores another 0.14 s (0.96x in all;
 * 0.75x at 256 centroids): it pays once the candidates are taken in the kernel's registers. */
static kernel_switch bf16_switch = {-1, "PA_BF16", false, pa_cpu_bf16_usable};

static bool bf16_choose(void) { return switch_choose(&bf16_switch); }

bool pa_bf16_set(bool on) { return switch_set(&bf16_switch, on); }

const char *pa_bf16_state(void)
{
    if (amx_choose())
        return "off (AMX is used)";
    if (bf16_choose())
        return "used";
    if (!pa_cpu_bf16_usable())
        return "off (the CPU has no AVX512-BF16)";
    return "off (PA_BF16=1 turns it on: not faster yet)";
}

const char *pa_amx_state(void)
{
    if (amx_choose())
        return "used";
    if (!pa_cpu_amx_usable())
        return pa_cpu_amx_reason();
    return "off (PA_AMX=0 or forced off)";
}

/* Padded sizes: dimensions to 32, centroids to 32 (two tiles of 16); kext, 2 Dp, the stored width. */
static uint32_t pad_dim(uint32_t dim) { return (dim + PA_AMX_DIM_STEP - 1) / PA_AMX_DIM_STEP * 32; }
static uint32_t pad_k(uint32_t k) { return (k + 2 * PA_AMX_COLS - 1) / (2 * PA_AMX_COLS) * 32; }

uint64_t pa_amx_assign_bytes(uint32_t k, uint32_t dim)
{
    const uint64_t kp = pad_k(k), kext = 2 * (uint64_t)pad_dim(dim);
    const uint64_t per_thread = PA_AMX_ROWS * kext * 2 + (uint64_t)PA_AMX_ROWS * PA_AMX_CHUNK * 4 +
                                (uint64_t)PA_AMX_ROWS * (PA_AMX_CAND * 8 + 16);
    return kp * kext * 2 + kp * sizeof(float) + (uint64_t)omp_get_max_threads() * per_thread;
}

bool pa_amx_wanted(uint32_t dim, uint32_t k)
{
    return dim >= PA_AMX_MIN_DIM && (dim <= PA_AMX_MAX_DIM || pa_kernel_level() >= 1) &&
           k >= PA_AMX_MIN_K && (amx_choose() || bf16_choose());
}

/* pa_nearest_small's sub-vectors go to AMX from this width and this many rows in a call:
 * measured on one Sapphire Rapids core (CPU time, two runs), 4,096 sub-vectors x 256
 * codewords, AMX against the AVX-512 kernel: 0.61x at 16 values, 0.87x at 32, 1.05x at 49,
 * 1.07-1.14x at 64, 1.4-1.7x at 96, 1.5-1.6x at 128, 1.2-1.4x at 196. */
#define PA_AMX_SMALL_MIN_DS 64
#define PA_AMX_SMALL_MIN_ROWS 1024

bool pa_amx_small_wanted(uint32_t ds, uint64_t n)
{
    return ds >= PA_AMX_SMALL_MIN_DS && n >= PA_AMX_SMALL_MIN_ROWS && amx_choose();
}

/* The centroids, packed once per call. */
typedef struct amx_pack {
    uint16_t *b; /* [kp / 16][kext / 32: hi, lo per 32 values][16 pairs][16 centroids][2] bf16 */
    float *bias; /* kp: l2 cnorm_j - 2 mu.c~_j, dot 0; padding +FLT_MAX */
    float *mu;   /* dim: the centroids' mean (l2: rows are centred on it too) */
    uint32_t dim, dp, kext, k, kp;
    float scale; /* -2 (l2) or -1 (dot): scores are minimised */
    double e_tile, cmax_c, cmax_raw, cnmax, bmax, munorm;
    bool amx; /* scored on AMX tiles (hi.hi + hi.lo + lo.hi), else on VDPBF16PS (hi.hi) */
} amx_pack;

typedef union {
    float f;
    uint32_t u;
} f32u;

/* bf16 of v, rounded to nearest even (v finite: checked rows and centroids). */
static inline uint16_t bf16_rne(float v)
{
    f32u t = {.f = v};
    return (uint16_t)((t.u + 0x7fffu + ((t.u >> 16) & 1u)) >> 16);
}

static inline float bf16_f32(uint16_t h)
{
    f32u t = {.u = (uint32_t)h << 16};
    return t.f;
}

static void amx_pack_free(amx_pack *p)
{
    free(p->b), free(p->bias), free(p->mu);
    memset(p, 0, sizeof *p);
}

static pa_status amx_pack_make(amx_pack *p, const float *c, uint32_t k, uint32_t dim,
                               const float *cnorm, bool inner_product)
{
    memset(p, 0, sizeof *p);
    p->amx = amx_choose();
    p->dim = dim, p->dp = pad_dim(dim), p->kext = 2 * p->dp, p->k = k, p->kp = pad_k(k);
    p->scale = inner_product ? -1.0f : -2.0f;
    p->b = pa_calloc((size_t)p->kp * p->kext, sizeof(uint16_t), "AMX centroid tiles");
    p->bias = pa_malloc(sizeof(float) * p->kp, "AMX centroid bias");
    p->mu = pa_calloc(dim, sizeof(float), "AMX centroid mean");
    float *ct = pa_malloc(sizeof(float) * dim, "AMX centroid");
    double *mean = pa_calloc(dim, sizeof(double), "AMX centroid mean");
    pa_status st = PA_OK;
    if (!p->b || !p->bias || !p->mu || !ct || !mean) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    for (uint32_t j = 0; j < k; j++)
        for (uint32_t d = 0; d < dim; d++)
            mean[d] += c[(size_t)j * dim + d];
    double mn = 0;
    for (uint32_t d = 0; d < dim; d++) {
        p->mu[d] = (float)(mean[d] / k);
        mn += (double)p->mu[d] * p->mu[d];
    }
    p->munorm = sqrt(mn);
    const uint32_t nq = p->kext / 32;
    for (uint32_t j = 0; j < p->kp; j++) {
        if (j >= k) {
            p->bias[j] = FLT_MAX;
            continue;
        }
        double cc = 0, craw = 0, mc = 0;
        for (uint32_t d = 0; d < dim; d++) {
            float v = c[(size_t)j * dim + d];
            ct[d] = v - p->mu[d];
            cc += (double)ct[d] * ct[d], craw += (double)v * v, mc += (double)p->mu[d] * ct[d];
        }
        p->cmax_c = fmax(p->cmax_c, sqrt(cc)), p->cmax_raw = fmax(p->cmax_raw, sqrt(craw));
        double bias = inner_product ? 0.0 : (double)cnorm[j] - 2.0 * mc;
        p->bias[j] = (float)bias;
        p->bmax = fmax(p->bmax, fabs(bias));
        p->cnmax = fmax(p->cnmax, inner_product ? 0.0 : fabs((double)cnorm[j]));
        /* [hi | lo] per 32 dimensions, scaled (a power of two: exact) */
        uint16_t *tb = p->b + (size_t)(j / PA_AMX_COLS) * nq * 512;
        const uint32_t col = j % PA_AMX_COLS;
        for (uint32_t d = 0; d < dim; d++) {
            float v = ct[d] * p->scale;
            uint16_t hi = bf16_rne(v), lo = bf16_rne(v - bf16_f32(hi));
            const uint32_t q = d / 32, o = d % 32; /* chunk q of 32 values; value o in it */
            const uint16_t part[2] = {hi, lo};
            for (uint32_t s = 0; s < 2; s++) {
                /* tile (2q + s): row o / 2 (a pair), column col, element o % 2 */
                tb[(size_t)(2 * q + s) * 512 + (o / 2) * 32 + col * 2 + o % 2] = part[s];
            }
        }
    }
    /* the dropped terms (relative to sum |r_i c_i|; bf16 rounds to 2^-9) and the additions */
    p->e_tile = p->amx ? 3.0 * 1.01 / 262144.0 + (3.0 * p->dp + 2) * 1.05 / 16777216.0
                       : (1.0 / 256 + 1.0 / 262144.0) * 1.01 + (p->dp + 2.0) * 1.05 / 16777216.0;
done:
    free(ct);
    free(mean);
    if (st != PA_OK)
        amx_pack_free(p);
    return st;
}

typedef struct tilecfg {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tilecfg;

/* A row's running state: candidates (index, approximate score) and the approximate minimum. */
typedef struct amx_row {
    float m, e2; /* approximate minimum; 2E */
    uint32_t nc; /* candidates held; PA_AMX_CAND + 1: overflowed */
    uint32_t ci[PA_AMX_CAND];
    float cs[PA_AMX_CAND];
} amx_row;

/* Rows [i0, i0 + bn) into the block's [hi | lo] bf16 layout (rows past bn and dimensions
 * past dim zero); each row's bound 2E into rs. */
__attribute__((target("avx512f,avx512bf16"))) static void
convert_rows(const amx_pack *p, const float *x, size_t stride, uint64_t bn, bool inner_product,
             uint16_t *a, amx_row *rs)
{
    const uint32_t dim = p->dim, kext = p->kext;
    const double sc = fabs(p->scale), g = dim * 1.05 / 16777216.0;
    memset(a + bn * kext, 0, sizeof(uint16_t) * (PA_AMX_ROWS - bn) * kext);
    for (uint64_t i = 0; i < bn; i++) {
        const float *v = x + i * stride;
        uint16_t *ar = a + i * kext;
        __m512 rr = _mm512_setzero_ps(), xx = _mm512_setzero_ps();
        for (uint32_t d = 0; d < p->dp; d += 16) {
            const __mmask16 m = d + 16 <= dim ? 0xffff
                                : d >= dim    ? 0
                                              : (__mmask16)((1u << (dim - d)) - 1);
            __m512 xv = _mm512_maskz_loadu_ps(m, v + d);
            __m512 r = inner_product ? xv : _mm512_sub_ps(xv, _mm512_maskz_loadu_ps(m, p->mu + d));
            rr = _mm512_fmadd_ps(r, r, rr), xx = _mm512_fmadd_ps(xv, xv, xx);
            __m256i hi = (__m256i)_mm512_cvtneps_pbh(r);
            __m512 hf = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(hi), 16));
            __m256i lo = (__m256i)_mm512_cvtneps_pbh(_mm512_sub_ps(r, hf));
            uint16_t *o = ar + 64 * (d / 32) + d % 32;
            _mm256_storeu_si256((__m256i *)o, hi);
            _mm256_storeu_si256((__m256i *)(o + 32), lo);
        }
        const double nr = sqrt(_mm512_reduce_add_ps(rr)), nx = sqrt(_mm512_reduce_add_ps(xx));
        /* the tile's error, the centring's roundings, the bias's, the exact value's own */
        double e = sc * p->e_tile * nr * p->cmax_c +
                   sc * 2.4e-7 * (nx + p->munorm) * (p->cmax_raw + p->munorm) + 2.4e-7 * p->bmax +
                   (sc * nx * p->cmax_raw + p->cnmax) * (g + 1.2e-7) +
                   /* bf16 denormals read and results written as 0 (both instructions) */
                   sc * p->dp * 2.4e-38 * (1.0 + nr + p->cmax_c) + 1e-30;
        rs[i].e2 = (float)(4.1 * e); /* 2E, E twice the bounds (the norms' own rounding too) */
        rs[i].m = FLT_MAX, rs[i].nc = 0;
    }
}

/* Folds one chunk's approximate scores (cols centroids from j0, row stride PA_AMX_CHUNK) into
 * each row's candidates. */
__attribute__((target("avx512f"))) static void
scan_chunk(const amx_pack *p, const float *sc, uint64_t bn, uint32_t j0, uint32_t cols, amx_row *rs)
{
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (uint64_t i = 0; i < bn; i++) {
        float *s = (float *)sc + i * PA_AMX_CHUNK;
        amx_row *r = &rs[i];
        __m512 mn = _mm512_set1_ps(FLT_MAX);
        for (uint32_t c = 0; c < cols; c += 16) {
            __m512 v = _mm512_add_ps(_mm512_loadu_ps(s + c), _mm512_loadu_ps(p->bias + j0 + c));
            _mm512_storeu_ps(s + c, v);
            mn = _mm512_min_ps(mn, v);
        }
        const float m = fminf(r->m, _mm512_reduce_min_ps(mn));
        const float thr = m + r->e2;
        if (m < r->m && r->nc <= PA_AMX_CAND) { /* drop the candidates the new minimum excludes */
            uint32_t w = 0;
            for (uint32_t t = 0; t < r->nc; t++)
                if (r->cs[t] <= thr)
                    r->ci[w] = r->ci[t], r->cs[w++] = r->cs[t];
            r->nc = w;
        }
        r->m = m;
        if (r->nc > PA_AMX_CAND)
            continue;
        const __m512 t = _mm512_set1_ps(thr);
        for (uint32_t c = 0; c < cols; c += 16) {
            __mmask16 le = _mm512_cmp_ps_mask(_mm512_loadu_ps(s + c), t, _CMP_LE_OQ);
            if (!le)
                continue;
            uint32_t cnt = (uint32_t)__builtin_popcount(le);
            if (r->nc + cnt > PA_AMX_CAND) {
                r->nc = PA_AMX_CAND + 1;
                break;
            }
            uint32_t idx[16];
            float val[16];
            __m512i id = _mm512_add_epi32(iota, _mm512_set1_epi32((int)(j0 + c)));
            _mm512_mask_compressstoreu_epi32(idx, le, id);
            _mm512_mask_compressstoreu_ps(val, le, _mm512_loadu_ps(s + c));
            for (uint32_t q = 0; q < cnt; q++)
                r->ci[r->nc] = idx[q], r->cs[r->nc++] = val[q];
        }
    }
}

/* How the fp32 path computes a row's value for centroid j, which the decision repeats: value d
 * of centroid j at c[j * jstep + d * dstep]; L2: cnorm_j - 2 x.c_j (x.c_j one fused multiply-add
 * per value in order from 0), DOT: x.c_j (maximised), SMALL: pa_nearest_small's chain, fused
 * multiply-adds of x and the transposed -2 c (dstep K) in order from cnorm_j. */
enum { EXACT_L2, EXACT_DOT, EXACT_SMALL };
typedef struct amx_exact {
    const float *c, *cnorm;
    size_t jstep, dstep;
    uint32_t dim, k;
    int kind;
} amx_exact;

__attribute__((target("fma"))) static inline float exact_value(const amx_exact *e, const float *x,
                                                               uint32_t j)
{
    const float *cj = e->c + j * e->jstep;
    float a = e->kind == EXACT_SMALL ? e->cnorm[j] : 0.0f;
    for (uint32_t d = 0; d < e->dim; d++)
        a = fmaf(x[d], cj[d * e->dstep], a);
    return e->kind == EXACT_L2 ? e->cnorm[j] - 2.0f * a : a;
}

/* The exact decision among a row's candidates (all k when they overflowed). A row outside
 * pa_check_vectors' rules (NaN: no candidate, no value below the start) gets centroid 0, an
 * index in [0, k) as every kernel's. */
static void decide(const amx_exact *e, const float *x, const amx_row *r, uint32_t *out, float *best)
{
    const bool all = r->nc > PA_AMX_CAND, dot = e->kind == EXACT_DOT;
    const uint32_t n = all ? e->k : r->nc;
    uint32_t bi = 0;
    float bv = dot ? -FLT_MAX : FLT_MAX;
    for (uint32_t t = 0; t < n; t++) {
        const uint32_t j = all ? t : r->ci[t];
        const float v = exact_value(e, x, j);
        if (dot ? v > bv : v < bv) /* ascending j: strict comparisons keep the lowest on ties */
            bv = v, bi = j;
    }
    *out = bi;
    if (best)
        *best = bv;
}

/* rows whose single candidate's values are computed side by side (decide_rows names eight
 * accumulators) */
#define PA_AMX_LANES 8

/* decide for bn rows: those with one candidate PA_AMX_LANES at a time (independent chains of
 * the same fused multiply-adds, so the latency of one hides behind the others; each lane's
 * value is exact_value's), the others one by one. */
__attribute__((target("fma"))) static void decide_rows(const amx_exact *e, const float *x,
                                                       size_t stride, uint64_t bn,
                                                       const amx_row *rs, uint32_t *out,
                                                       float *best)
{
    uint64_t lane[PA_AMX_LANES];
    uint32_t nl = 0;
    const size_t ds = e->dstep;
    for (uint64_t i = 0; i <= bn; i++) {
        if (i < bn && rs[i].nc != 1) {
            decide(e, x + i * stride, &rs[i], out + i, best ? best + i : NULL);
            continue;
        }
        if (i < bn)
            lane[nl++] = i;
        if ((nl < PA_AMX_LANES && i < bn) || nl == 0)
            continue;
        const float *xr[PA_AMX_LANES], *cr[PA_AMX_LANES];
        float acc[PA_AMX_LANES];
        for (uint32_t l = 0; l < PA_AMX_LANES; l++) {
            const uint64_t row = lane[l < nl ? l : 0];
            const uint32_t j = rs[row].ci[0];
            xr[l] = x + row * stride, cr[l] = e->c + j * e->jstep;
            acc[l] = e->kind == EXACT_SMALL ? e->cnorm[j] : 0.0f;
        }
        float a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3]; /* kept in registers */
        float a4 = acc[4], a5 = acc[5], a6 = acc[6], a7 = acc[7];
        for (uint32_t d = 0; d < e->dim; d++) {
            a0 = fmaf(xr[0][d], cr[0][d * ds], a0), a1 = fmaf(xr[1][d], cr[1][d * ds], a1);
            a2 = fmaf(xr[2][d], cr[2][d * ds], a2), a3 = fmaf(xr[3][d], cr[3][d * ds], a3);
            a4 = fmaf(xr[4][d], cr[4][d * ds], a4), a5 = fmaf(xr[5][d], cr[5][d * ds], a5);
            a6 = fmaf(xr[6][d], cr[6][d * ds], a6), a7 = fmaf(xr[7][d], cr[7][d * ds], a7);
        }
        const float v[PA_AMX_LANES] = {a0, a1, a2, a3, a4, a5, a6, a7};
        for (uint32_t l = 0; l < nl; l++) {
            const uint32_t j = rs[lane[l]].ci[0];
            out[lane[l]] = j;
            if (best)
                best[lane[l]] = e->kind == EXACT_L2 ? e->cnorm[j] - 2.0f * v[l] : v[l];
        }
        nl = 0;
    }
}

/* The 2 x 2 step: accumulators tmm0-3 += rows tmm4-5 times centroids tmm6-7. */
#define PA_AMX_2X2()             \
    do {                         \
        _tile_dpbf16ps(0, 4, 6); \
        _tile_dpbf16ps(1, 4, 7); \
        _tile_dpbf16ps(2, 5, 6); \
        _tile_dpbf16ps(3, 5, 7); \
    } while (0)

/* One chunk's approximate scores on AMX tiles: rows [0, bn) of the block a (in pairs of 16-row
 * tiles) against centroids [j0, j0 + cols) into sc (row stride PA_AMX_CHUNK). */
__attribute__((target("amx-tile,amx-bf16"))) static void
amx_chunk(const amx_pack *p, const uint16_t *a, uint64_t bn, uint32_t j0, uint32_t cols, float *sc)
{
    const uint32_t kext = p->kext, nq = kext / 32;
    const size_t astride = (size_t)kext * 2, sstride = PA_AMX_CHUNK * sizeof(float);
    const uint64_t rp_end = (bn + 31) / 32 * 32;
    for (uint64_t rp = 0; rp < rp_end; rp += 32) {
        const uint16_t *a0 = a + rp * kext, *a1 = a0 + 16 * (size_t)kext;
        for (uint32_t cb = j0; cb < j0 + cols; cb += 32) {
            const uint16_t *b0 = p->b + (size_t)(cb / 16) * nq * 512, *b1 = b0 + (size_t)nq * 512;
            _tile_zero(0);
            _tile_zero(1);
            _tile_zero(2);
            _tile_zero(3);
            for (uint32_t q = 0; q < nq; q += 2) { /* hi.hi, hi.lo, lo.hi: 10 loads */
                _tile_loadd(4, a0 + q * 32, astride);
                _tile_loadd(5, a1 + q * 32, astride);
                _tile_loadd(6, b0 + (size_t)q * 512, 64);
                _tile_loadd(7, b1 + (size_t)q * 512, 64);
                PA_AMX_2X2();
                _tile_loadd(6, b0 + (size_t)(q + 1) * 512, 64);
                _tile_loadd(7, b1 + (size_t)(q + 1) * 512, 64);
                PA_AMX_2X2();
                _tile_loadd(4, a0 + (q + 1) * 32, astride);
                _tile_loadd(5, a1 + (q + 1) * 32, astride);
                _tile_loadd(6, b0 + (size_t)q * 512, 64);
                _tile_loadd(7, b1 + (size_t)q * 512, 64);
                PA_AMX_2X2();
            }
            float *s0 = sc + rp * PA_AMX_CHUNK + (cb - j0);
            _tile_stored(0, s0, sstride);
            _tile_stored(1, s0 + 16, sstride);
            _tile_stored(2, s0 + 16 * PA_AMX_CHUNK, sstride);
            _tile_stored(3, s0 + 16 * PA_AMX_CHUNK + 16, sstride);
        }
    }
}

#define PA_BF16_MR 6 /* rows per VDPBF16PS kernel: 6 x 4 accumulators of 16 centroids */

/* R (<= PA_BF16_MR) rows of the block from ar against the 16 T centroids of T (2 or 4)
 * 16-centroid tiles from b (hi parts only): one VDPBF16PS per pair of values, the row's pair
 * broadcast, the tile's row of 16 centroid pairs (the VNNI layout is VDPBF16PS's). Scores into
 * s (row stride PA_AMX_CHUNK). */
__attribute__((target("avx512f,avx512bf16"), always_inline)) static inline void
bf16_kern(const uint16_t *ar, uint32_t kext, const uint16_t *b, size_t tstep, uint32_t nq, float *s,
          const int R, const int T)
{
    __m512 acc[PA_BF16_MR][4];
#pragma GCC unroll 6
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int t = 0; t < T; t++)
            acc[r][t] = _mm512_setzero_ps();
    for (uint32_t q = 0; q < nq; q += 2) { /* 32 values: their hi tile, the row's hi part */
        const uint16_t *bq = b + (size_t)q * 512;
        const uint32_t *aq = (const uint32_t *)(const void *)(ar + (size_t)q * 32);
        for (uint32_t pr = 0; pr < 16; pr++) {
            __m512bh c[4];
#pragma GCC unroll 4
            for (int t = 0; t < T; t++)
                c[t] = (__m512bh)_mm512_loadu_si512(bq + t * tstep + pr * 32);
#pragma GCC unroll 6
            for (int r = 0; r < R; r++) {
                const __m512bh v = (__m512bh)_mm512_set1_epi32((int)aq[(size_t)r * kext / 2 + pr]);
#pragma GCC unroll 4
                for (int t = 0; t < T; t++)
                    acc[r][t] = _mm512_dpbf16_ps(acc[r][t], v, c[t]);
            }
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int t = 0; t < T; t++)
            _mm512_storeu_ps(s + (size_t)r * PA_AMX_CHUNK + 16 * t, acc[r][t]);
}

/* bf16_kern for rows r.. of the block with R rows as a constant. */
#define PA_BF16_ROWS(T)                                         \
    switch (PA_MIN((uint64_t)PA_BF16_MR, bn - r)) {             \
    case 6: bf16_kern(ar, kext, b, tstep, nq, s, 6, T); break;  \
    case 5: bf16_kern(ar, kext, b, tstep, nq, s, 5, T); break;  \
    case 4: bf16_kern(ar, kext, b, tstep, nq, s, 4, T); break;  \
    case 3: bf16_kern(ar, kext, b, tstep, nq, s, 3, T); break;  \
    case 2: bf16_kern(ar, kext, b, tstep, nq, s, 2, T); break;  \
    default: bf16_kern(ar, kext, b, tstep, nq, s, 1, T); break; \
    }

/* amx_chunk on VDPBF16PS, the hi.hi term only (see the top of the file): 64 centroids at a
 * time, the last 32 of a chunk (cols is a multiple of 32) on their own. */
__attribute__((target("avx512f,avx512bf16"))) static void
bf16_chunk(const amx_pack *p, const uint16_t *a, uint64_t bn, uint32_t j0, uint32_t cols, float *sc)
{
    const uint32_t kext = p->kext, nq = kext / 32;
    const size_t tstep = (size_t)nq * 512; /* one 16-centroid tile to the next */
    for (uint32_t cb = j0; cb < j0 + cols; cb += 64) {
        const uint16_t *b = p->b + (size_t)(cb / 16) * tstep;
        const bool half = cb + 64 > j0 + cols;
        for (uint64_t r = 0; r < bn; r += PA_BF16_MR) {
            const uint16_t *ar = a + r * kext;
            float *s = sc + r * PA_AMX_CHUNK + (cb - j0);
            if (half)
                PA_BF16_ROWS(2)
            else
                PA_BF16_ROWS(4)
        }
    }
}

/* One thread's blocks of rows (p->amx: scored on AMX tiles, configured here for the thread). */
__attribute__((target("amx-tile,avx512f"))) static void
amx_rows(const amx_pack *p, const amx_exact *e, const float *x, size_t stride, uint64_t n,
         uint32_t *out, float *best, uint16_t *a, float *sc, amx_row *rs)
{
    if (p->amx) {
        tilecfg cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.palette = 1;
        for (int t = 0; t < 8; t++)
            cfg.rows[t] = 16, cfg.colsb[t] = 64;
        _tile_loadconfig(&cfg);
    }
    const uint64_t nblk = (n + PA_AMX_ROWS - 1) / PA_AMX_ROWS;
#pragma omp for schedule(dynamic, 4)
    for (uint64_t b = 0; b < nblk; b++) {
        const uint64_t i0 = b * PA_AMX_ROWS, bn = PA_MIN((uint64_t)PA_AMX_ROWS, n - i0);
        convert_rows(p, x + i0 * stride, stride, bn, e->kind == EXACT_DOT, a, rs);
        for (uint32_t j0 = 0; j0 < p->kp; j0 += PA_AMX_CHUNK) {
            const uint32_t cols = PA_MIN((uint32_t)PA_AMX_CHUNK, p->kp - j0);
            if (p->amx)
                amx_chunk(p, a, bn, j0, cols, sc);
            else
                bf16_chunk(p, a, bn, j0, cols, sc);
            scan_chunk(p, sc, bn, j0, cols, rs);
        }
        decide_rows(e, x + i0 * stride, stride, bn, rs, out + i0, best ? best + i0 : NULL);
    }
    if (p->amx)
        _tile_release();
}

/* The rows against packed centroids, the decisions by e, on the team's threads. */
static pa_status amx_run(const amx_pack *p, const amx_exact *e, const float *x, size_t stride,
                         uint64_t n, uint32_t *out, float *best)
{
    if (p->amx ? !pa_cpu_amx_usable() /* also asks for the tile-data permission, once */
               : !pa_cpu_bf16_usable())
        return pa_fail(PA_ERR_UNSUPPORTED, "AMX kernel called where AMX is %s",
                       p->amx ? pa_cpu_amx_reason() : "off and AVX512-BF16 missing");
    _Atomic int nomem = 0;
#pragma omp parallel
    {
        uint16_t *a = aligned_alloc(64, sizeof(uint16_t) * PA_AMX_ROWS * p->kext);
        float *sc = aligned_alloc(64, sizeof(float) * PA_AMX_ROWS * PA_AMX_CHUNK);
        amx_row *rs = malloc(sizeof(amx_row) * PA_AMX_ROWS);
        /* every thread takes part in the worksharing loop, or none does */
        if (!a || !sc || !rs)
            atomic_store(&nomem, 1);
#pragma omp barrier
        if (!atomic_load(&nomem))
            amx_rows(p, e, x, stride, n, out, best, a, sc, rs);
        free(a), free(sc), free(rs);
    }
    if (atomic_load(&nomem))
        return pa_fail(PA_ERR_NOMEM, "out of memory allocating the AMX row blocks");
    return PA_OK;
}

pa_status pa_amx_assign(const float *x, size_t stride, uint64_t n, uint32_t dim, const float *c,
                        uint32_t k, const float *cnorm, bool inner_product, uint32_t *out,
                        float *best)
{
    if (!n)
        return PA_OK;
    amx_pack p;
    pa_status st = amx_pack_make(&p, c, k, dim, cnorm, inner_product);
    if (st != PA_OK)
        return st;
    const amx_exact e = {.c = c,
                         .cnorm = cnorm,
                         .jstep = dim,
                         .dstep = 1,
                         .dim = dim,
                         .k = k,
                         .kind = inner_product ? EXACT_DOT : EXACT_L2};
    st = amx_run(&p, &e, x, stride, n, out, best);
    amx_pack_free(&p);
    return st;
}

pa_status pa_amx_nearest_small(const float *x, size_t stride, uint64_t n, const float *cbt,
                               const float *cbnorm, uint32_t ds, uint32_t K, uint32_t *out,
                               float *val)
{
    if (!n)
        return PA_OK;
    float *c = pa_malloc(sizeof(float) * (size_t)K * ds, "AMX codebook");
    if (!c)
        return PA_ERR_NOMEM;
    for (uint32_t k = 0; k < K; k++) /* the codewords back from -2 c, transposed (exact) */
        for (uint32_t j = 0; j < ds; j++)
            c[(size_t)k * ds + j] = -0.5f * cbt[(size_t)j * K + k];
    amx_pack p;
    pa_status st = amx_pack_make(&p, c, K, ds, cbnorm, false);
    free(c);
    if (st != PA_OK)
        return st;
    const amx_exact e = {
        .c = cbt, .cnorm = cbnorm, .jstep = 1, .dstep = K, .dim = ds, .k = K, .kind = EXACT_SMALL};
    st = amx_run(&p, &e, x, stride, n, out, val);
    amx_pack_free(&p);
    return st;
}

#define PA_AMX_MEASURE_MIN_N 16u
#define PA_AMX_MEASURE_MAX_N (1u << 20)
#define PA_AMX_MEASURE_RUNS 3

/* One timed run of the measurement (pa_time_best's callback). */
typedef struct amx_measure {
    const float *x, *c, *cn;
    uint32_t n, dim, k;
    uint32_t *out;
    pa_status st;
} amx_measure;

static void amx_measure_run(void *ctx)
{
    amx_measure *m = ctx;
    if (m->st == PA_OK)
        m->st = pa_amx_assign(m->x, m->dim, m->n, m->dim, m->c, m->k, m->cn, false, m->out, NULL);
}

pa_status pa_amx_gflops(uint32_t n, double *gflops)
{
    pa_status st = pa_rate_args("pa_amx_gflops", n, PA_AMX_MEASURE_MIN_N, PA_AMX_MEASURE_MAX_N,
                                gflops);
    if (st != PA_OK)
        return st;
    if (!amx_choose())
        return pa_fail(PA_ERR_UNSUPPORTED, "pa_amx_gflops: AMX is %s", pa_amx_state());
    const uint32_t dim = PA_AMX_MEASURE_DIM, k = PA_AMX_MEASURE_K;
    float *x = pa_malloc(sizeof(float) * (size_t)n * dim, "AMX measurement rows");
    float *c = pa_malloc(sizeof(float) * (size_t)k * dim, "AMX measurement centroids");
    float *cn = pa_malloc(sizeof(float) * k, "AMX measurement norms");
    uint32_t *out = pa_malloc(sizeof(uint32_t) * n, "AMX measurement assignment");
    if (!x || !c || !cn || !out) {
        st = PA_ERR_NOMEM;
        goto done;
    }
    uint64_t s = 42;
    for (size_t i = 0; i < (size_t)k * dim; i++)
        c[i] = (float)(pa_splitmix(&s) >> 40) / 16777216.0f;
    for (uint32_t j = 0; j < k; j++)
        cn[j] = pa_sq_norm(c + (size_t)j * dim, dim);
    for (size_t i = 0; i < (size_t)n * dim; i++) /* rows near centroid i % k */
        x[i] = c[(i / dim % k) * dim + i % dim] + (float)(pa_splitmix(&s) >> 40) / 1.6e8f;
    amx_measure m = {.x = x, .c = c, .cn = cn, .n = n, .dim = dim, .k = k, .out = out};
    const double best = pa_time_best(amx_measure_run, &m, PA_AMX_MEASURE_RUNS);
    st = m.st;
    *gflops = best > 0 ? 2.0 * n * k * dim / best / 1e9 : 0;
done:
    free(x), free(c), free(cn), free(out);
    return st;
}
