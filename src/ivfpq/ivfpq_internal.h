/* Internal interface of the IVF_PQ room (src/ivfpq): k-means, the small-dimension nearest-
 * codeword kernels, and the prepared form of a model used for assignment and encoding. */
#ifndef PA_IVFPQ_INTERNAL_H
#define PA_IVFPQ_INTERNAL_H

#include "common/common.h"
#include "common/vecmath.h"

/* A model's arrays plus what assignment needs precomputed: centroid norms, and per sub-space
 * the codebook transposed ([m][j][k], so a SIMD lane holds one codeword) and codeword norms. */
typedef struct pa_prepared {
    pa_backend_model a; /* the arrays (not owned) */
    uint32_t K, ds;     /* codewords per sub-space, sub-vector dimension */
    float *cnorm;       /* P: ||c||^2 */
    float *cbt;         /* M x ds x K, times -2 */
    float *cbnorm;      /* M x K */
} pa_prepared;

pa_status pa_prepare(pa_prepared *p, const pa_backend_model *a);
/* Bytes pa_prepare allocates for a model: the centroid norms, transposed codebook and codeword
 * norms; and the part of each assignment call's work that does not grow with its rows (the
 * packed centroids of pa_assign_fused: pa_assign_sgemm_bytes of 0 rows). */
uint64_t pa_prepared_bytes(const pa_backend_model *a);
/* Bytes a pa_ivfpq_model of this shape holds: its centroids and codebook, and their prepared
 * form. */
uint64_t pa_ivfpq_model_bytes(const pa_backend_model *a);
/* Bytes pa_encode_prepared allocates to assign and encode n rows beyond pa_prepared_bytes: its
 * block of rows (at most 4,096: the residuals, or for cosine the normalised rows; none for dot)
 * and what pa_assign_sgemm allocates for it (the sgemm dot-product block without AVX2 + FMA). */
uint64_t pa_encode_work_bytes(const pa_backend_model *a, uint64_t n);
/* Bytes pa_assign_sgemm allocates for n rows of dimension dim and k centroids (the AMX kernel's
 * packed centroids and row blocks where it runs, or the packed centroids of pa_assign_fused,
 * the same for any n; or without AVX2 + FMA its dot-product block). */
uint64_t pa_assign_sgemm_bytes(uint64_t n, uint32_t dim, uint32_t k);
void pa_prepared_free(pa_prepared *p);

/* Assigns + encodes n rows with a prepared model (see pa_ivfpq_assign_encode). checked: the
 * caller has checked the rows already (pa_check_vectors), which are then not checked again. */
pa_status pa_encode_prepared(const pa_prepared *p, const float *x, uint64_t n, uint32_t *part_ids,
                             uint8_t *codes, bool checked);

/* PA_PQ_SAMPLE_ROWS (partifact.h): rows training samples at least (when the input has them);
 * the PQ codebooks train on a sample of at most this many residuals. */

/* Checks training parameters and rows before any work: the shape, enough rows for the
 * partitions and the codewords, and every row finite and within PA_MAX_SQ_NORM. */
pa_status pa_ivfpq_check_training(const float *data, uint64_t n, uint32_t dim,
                                  const pa_ivfpq_params *prm);
/* The parameters, and enough rows (n in all) for the partitions and the codewords: the part of
 * pa_ivfpq_check_training a distributed training checks on all participants' rows. */
pa_status pa_ivfpq_check_sample(uint64_t n, uint32_t dim, const pa_ivfpq_params *prm);
/* Checks n training rows (as pa_ivfpq_train does; checked: the caller has checked the rows by
 * pa_check_vectors' rules, so only the parameters and the row count are) and trains on them in
 * place: x is the caller's to hand over (normalised for cosine, shuffled and turned into
 * residuals here), so no copy is made. */
pa_status pa_ivfpq_train_owned(pa_ivfpq_model **out, float *x, uint64_t n, uint32_t dim,
                               bool checked, const pa_ivfpq_params *prm,
                               pa_ivfpq_train_stats *stats);
/* (prm: the caller's options as read by pa_opts_load; stats: the library's own, not NULL) */

/* Checks every value of n rows is finite; PA_ERR_INVALID naming the first bad row otherwise. */
pa_status pa_check_finite(const float *x, uint64_t n, uint32_t dim, const char *what);
/* pa_check_finite, and every row's squared norm at most PA_MAX_SQ_NORM (see common.h). */
pa_status pa_check_vectors(const float *x, uint64_t n, uint32_t dim, const char *what);

/* Nearest codeword for each of n sub-vectors (rows of x with stride `stride` floats, ds values
 * each) among K codewords given transposed and multiplied by -2 (cbt: ds x K, cbt[j][k] =
 * -2 c_k[j]) with norms: argmin_k ||c_k||^2 - 2 x.c_k. Ties go to the lowest k. val (may be NULL)
 * receives each winning value ||c||^2 - 2 x.c. SIMD kernel chosen at run time from the CPU's
 * features. */
void pa_nearest_small(const float *x, size_t stride, uint64_t n, const float *cbt,
                      const float *cbnorm, uint32_t ds, uint32_t K, uint32_t *out, float *val);
/* pa_nearest_small on AVX2 + FMA (the caller checks pa_kernel_level() >= 1) for n a multiple of
 * 4 and K with pa_nearest_small_second_fits(K) (a multiple of 16, at most 256): the same
 * winners and values, and into second each row's least value of the other codewords (its
 * runner-up's; the winner's own value on a tie). */
bool pa_nearest_small_second_fits(uint32_t K);
void pa_nearest_small_second(const float *x, size_t stride, uint64_t n, const float *cbt,
                             const float *cbnorm, uint32_t ds, uint32_t K, uint32_t *out,
                             float *val, float *second);
/* Grouped bounds for k-means assignment (groups.c: Yinyang k-means, kept exact): at most
 * PA_GROUPS_MAX groups of centroids, each a whole number of 16-lane registers, at least
 * PA_GROUPS_MIN of them. Used where a pair (row, group) holds enough work: the fused kernel's
 * k-means when dim x (k / groups) >= PA_GROUPS_MIN_FUSED_WORK, the small-dimension kernel's
 * from PA_GROUPS_MIN_SMALL_DIM values; below, the bounds' bookkeeping cost more than the dot
 * products they saved (measured on Zen 5, 2026-12-02: the coarse k-means 10% slower at 128
 * values x 16 centroids a group, 22% and 23% faster at 128 x 64 and 784 x 16, 2x at 128 x
 * 256; PQ training 40% slower at 32 values, 15% and 30% faster at 49 and 98). */
#define PA_GROUPS_MAX 16
#define PA_GROUPS_MIN 4
#define PA_GROUPS_MIN_FUSED_WORK 4096
/* On AVX2 (the kernels slower against the bookkeeping) from 2048: on Zen 3, 2026-12-03, the
 * coarse k-means of 1M x 128 at P=256 (128 values x 16 centroids a group) went from 0.54-0.57 s
 * to 0.36-0.47 s grouped, while PQ training at 8 values grew from 1.5-1.8 s to 2.5-2.7 s. */
#define PA_GROUPS_MIN_FUSED_WORK_AVX2 2048
#define PA_GROUPS_MIN_SMALL_DIM 48
/* The groups a k-means of k centroids of dimension dim (fused: the fused kernel's, else the
 * small-dimension one's) is cut into here, 0 where the grouped assignment does not serve it
 * (neither AVX-512 nor AVX2, k not a multiple of 16, too few groups, too little work a pair,
 * pa_groups_disabled). */
uint32_t pa_groups_count(uint32_t k, uint32_t dim, bool fused);
/* Tests: true makes every k-means run the kernels over every centroid (the same answers). */
extern bool pa_groups_disabled;
/* The grouping of k centroids (k x dim, row-major) into G groups of k / G: perm[g * (k / G) +
 * t] is the t-th centroid of group g (ascending in each group); groups of centroids close
 * together, the same for the same centroids. pa_groups_make_bytes: its scratch. */
pa_status pa_groups_make(const float *c, uint32_t k, uint32_t dim, uint32_t G, uint32_t *perm);
uint64_t pa_groups_make_bytes(uint32_t k, uint32_t dim, uint32_t G);
/* One pass of the grouped assignment over rows [i0, i1) (see groups.c). */
typedef struct pa_groups_pass {
    const float *x; /* rows at a stride of `stride` floats, dim values each */
    size_t stride;
    uint32_t dim, k, groups;
    bool fused; /* the fused kernel's values (cbt: c), else the small-dimension one's (-2 c) */
    const float *cbt;           /* by group: [g][d][k / groups] */
    const float *cbn;           /* the norms in group order */
    const uint32_t *perm, *pos; /* group order to centroid (perm), centroid to group order */
    const float *gmove; /* per group its largest move since the last pass, rounded up; NULL: the
                         * first pass (every group computed, assign only written) */
    const float *xnorm; /* the rows' squared norms (row_norms' floats) */
    double cmax;        /* at least the largest centroid norm */
    uint32_t *assign;   /* in: the last pass's winners; out: this pass's (centroid indices) */
    float *val;         /* out: each row's winning value ||c||^2 - 2 x.c */
    float *lb;          /* in and out: PA_GROUPS_MAX bounds a row */
} pa_groups_pass;
/* Returns the pairs (row, group) computed. */
uint64_t pa_groups_assign(const pa_groups_pass *ps, uint64_t i0, uint64_t i1);
/* The k-means update's sums: for each of n rows of x (dim values each), in order, whose
 * assign[i] = j lies in [j0, j1), sums[j * dim + d] += x[i * dim + d] for d < dim in double
 * precision (SIMD chosen like pa_nearest_small, once for the rows; every version gives the
 * same sums). */
void pa_add_rows_f64(double *sums, const float *x, uint64_t n, uint32_t dim, const uint32_t *assign,
                     uint32_t j0, uint32_t j1);
/* Which kernel pa_nearest_small uses here: "avx512", "avx2" or "scalar". */
const char *pa_kernel_name(void);
/* The same as a level: 2 AVX-512F, 1 AVX2 + FMA, 0 scalar (the search kernels follow it). */
int pa_kernel_level(void);

/* Nearest centroid for n rows: argmin ||c||^2 - 2 x.c (l2) or argmax x.c (dot), ties to the
 * lowest index; with AVX2 + FMA pa_assign_fused, else sgemm in blocks that bound the
 * dot-product matrix. best (may be NULL) receives each row's winning value (||c||^2 - 2 x.c, or
 * x.c for dot). */
pa_status pa_assign_sgemm(const float *x, uint64_t n, uint32_t dim, const float *c, uint32_t k,
                          const float *cnorm, bool inner_product, uint32_t *out, float *best);

/* pa_assign_sgemm's fp32 path on CPUs with AVX2 + FMA (src/ivfpq/assign.c): the argmin fused
 * into register-blocked dot products over tiles of PA_ASSIGN_TILE packed centroids, rows in
 * blocks over the OpenMP threads. Each value is ||c||^2 - 2 x.c (dot: x.c), x.c one fused
 * multiply-add per dimension in order from 0, ties to the lowest index: the same indices and
 * values with every kernel and thread count. The kernel follows
 * pa_kernel_level (0: scalar, for tests; pa_assign_sgemm uses sgemm there). */
#define PA_ASSIGN_TILE 64
pa_status pa_assign_fused(const float *x, uint64_t n, uint32_t dim, const float *c, uint32_t k,
                          const float *cnorm, bool inner_product, uint32_t *out, float *best);
/* Bytes pa_assign_fused allocates: the packed centroids and their starting values. */
uint64_t pa_assign_fused_bytes(uint32_t dim, uint32_t k);

/* AMX-BF16 nearest centroid (amx.c): pa_assign_sgemm's contract (rows at a stride of `stride`
 * floats), the same answers (see amx.c for how, and where they could still differ), on the
 * CPU's AMX tiles. pa_assign_sgemm hands its work here when pa_amx_wanted(dim, k). */
pa_status pa_amx_assign(const float *x, size_t stride, uint64_t n, uint32_t dim, const float *c,
                        uint32_t k, const float *cnorm, bool inner_product, uint32_t *out,
                        float *best);
/* pa_nearest_small's contract and answers on AMX (amx.c): the codebook packed per call. */
pa_status pa_amx_nearest_small(const float *x, size_t stride, uint64_t n, const float *cbt,
                               const float *cbnorm, uint32_t ds, uint32_t K, uint32_t *out,
                               float *val);
/* Bytes pa_amx_assign allocates for k centroids of dim values (the packed centroids and each
 * OpenMP thread's blocks). */
uint64_t pa_amx_assign_bytes(uint32_t k, uint32_t dim);
/* Whether rows of dim values against k centroids go to AMX: usable and on, dim >= 16, and
 * dim <= 384 unless the fp32 path is the fused kernel (where its answers are the fp32 path's
 * bit for bit; see amx.c). */
bool pa_amx_wanted(uint32_t dim, uint32_t k);
/* Whether pa_nearest_small hands n sub-vectors of ds values to AMX: on, ds >= 64 (narrower
 * ones run faster on the AVX-512 kernel, measured) and n >= 1,024 (the codebook is packed per
 * call). */
bool pa_amx_small_wanted(uint32_t ds, uint64_t n);
/* Whether the AMX kernels are on: the CPU and the OS allow them (pa_cpu_amx_usable) and
 * neither PA_AMX=0 in the environment nor pa_amx_set(false) turned them off. */
bool pa_amx_enabled(void);
/* Forces the AMX kernels on or off, for tests and A/B runs; false (nothing changed) when on is
 * asked on a CPU that cannot run them. */
bool pa_amx_set(bool on);
/* The AVX512-BF16 pass (amx.c) where AMX is not used: rows of dim values against k centroids
 * go to pa_amx_assign (pa_amx_wanted) scored on VDPBF16PS, the same answers (pa_bf16_state in
 * partifact.h). pa_bf16_set forces it on or off, for tests and A/B runs; false (nothing
 * changed) when on is asked on a CPU without AVX512-BF16. */
bool pa_bf16_set(bool on);

/* Forces the nearest-codeword kernel ("scalar", "avx2", "avx512"; one this CPU runs), for tests
 * that compare kernels. Returns false if this CPU cannot run it. */
bool pa_kernel_set(const char *name);

/* Lloyd k-means on n x dim rows into k centroids (row-major), k-means++ (k <= 1024) or random
 * seeding, empty clusters split from the largest, stopping at max_iters, when fewer than 0.1%
 * of rows change cluster, or when an iteration improves the objective (sum of squared
 * distances) by less than 1e-4 of itself. Deterministic for a seed, whatever the number of
 * threads. small_dim selects the SIMD nearest-codeword kernel (for PQ sub-spaces) instead of
 * sgemm. */
typedef struct pa_kmeans_result {
    uint32_t iters, empty_repaired;
    /* the iterations' assignment work in full assignments: 1 an iteration, or with grouped
     * bounds (groups.c) the share of the pairs (row, group) it computed */
    double passes;
} pa_kmeans_result;

pa_status pa_kmeans(const float *x, uint64_t n, uint32_t dim, uint32_t k, uint32_t max_iters,
                    uint64_t seed, bool inner_product, bool small_dim, float *centroids,
                    uint32_t *assign_out, pa_kmeans_result *res);
/* comm->sum of count values; its failure named (the engine's callback cannot set the
 * library's message). */
pa_status pa_comm_sum(const pa_train_comm *comm, double *v, size_t count);
/* One participant of a distributed k-means (pa_kmeans_dist): its n rows are rows
 * [first, first + n) of the total rows all participants of comm hold, in rank order. */
typedef struct pa_kmeans_part {
    const pa_train_comm *comm;
    uint64_t first, total;
} pa_kmeans_part;
/* pa_kmeans over the rows of all participants (part NULL: pa_kmeans): the seeding's rows are
 * gathered through comm's sum, every iteration assigns this participant's rows and adds all
 * participants' centroid sums, counts, objective shares and changed rows in one sum (k x dim +
 * 2k + 1 doubles), from which each moves the centroids: every participant ends with the same
 * centroids and iterations, and one participant's result is pa_kmeans's byte for byte.
 * assign_out: this participant's rows. Every participant calls it with the same arguments but
 * x, n and first. */
pa_status pa_kmeans_dist(const float *x, uint64_t n, uint32_t dim, uint32_t k, uint32_t max_iters,
                         uint64_t seed, bool inner_product, bool small_dim, float *centroids,
                         uint32_t *assign_out, pa_kmeans_result *res, const pa_kmeans_part *part);
/* count small-dimension (l2) k-means of one participant, x[m] its n rows of run m, side by side:
 * each is pa_kmeans_dist's run with seeds[m] into centroids[m] (res[m]), their seedings one after
 * the other, then per iteration their assignments in parallel (one thread each) and ONE sum of
 * all their exchanges, until each has converged: what a participant's PQ training runs for its
 * sub-spaces, so the participants exchange once per iteration, not once per sub-space. */
pa_status pa_kmeans_dist_many(uint32_t count, const float *const *x, uint64_t n, uint32_t dim,
                              uint32_t k, uint32_t max_iters, const uint64_t *seeds,
                              float *const *centroids, pa_kmeans_result *res,
                              const pa_kmeans_part *part);
/* Bytes pa_kmeans allocates at most for these arguments (assign_given: the caller passes
 * assign_out), with nthreads the OpenMP team it runs in. */
uint64_t pa_kmeans_bytes(uint64_t n, uint32_t dim, uint32_t k, bool inner_product, bool small_dim,
                         bool assign_given, uint32_t nthreads);

/* Trains one participant's n rows (part: their place among all participants', part->total
 * rows in all, checked already: pa_ivfpq_check_sample on the total, pa_check_vectors on these)
 * with the other participants' through part->comm (see pa_train_input_comm in partifact.h):
 * the coarse k-means, then the PQ sample (the same shuffle of all rows as pa_ivfpq_train's,
 * each participant taking the rows it holds) and the sub-spaces' k-means, one after the other.
 * x is worked on in place (normalised for cosine). */
pa_status pa_ivfpq_train_part(pa_ivfpq_model **out, float *x, uint64_t n, uint32_t dim,
                              const pa_ivfpq_params *prm, const pa_kmeans_part *part,
                              pa_ivfpq_train_stats *stats);

/* Bytes pa_ivfpq_train allocates at most for n rows of dimension dim with these parameters (its
 * copy of the rows, the coarse k-means, the PQ k-means of the sub-spaces trained at once, the
 * model), with nthreads OpenMP threads; the caller's rows are not counted. */
uint64_t pa_ivfpq_train_bytes(uint64_t n, uint32_t dim, const pa_ivfpq_params *p,
                              uint32_t nthreads);

/* metadata.lance: a model as the model file of Lance's partition artifact, in the columns and
 * schema metadata lance-cuvs writes (docs/artifact-format.md): one row of list columns
 * _ivf_centroids (num_partitions x fsl<float, dim>) and _pq_codebook (num_sub_vectors x
 * 2^num_bits x fsl<float, dim / num_sub_vectors>), and keys lance:index_build:artifact_version
 * ("1"), distance_type, num_partitions, num_sub_vectors, num_bits, dimension. Written and read
 * here (pa_ivfpq_model_load reads one too). */
typedef struct pa_ivfpq_meta {
    uint32_t dimension, num_partitions, num_sub_vectors, num_bits;
    pa_metric metric;
} pa_ivfpq_meta;
/* True when the open file carries metadata.lance's keys (its artifact_version). */
bool pa_ivfpq_is_meta(const pa_lance_reader *r);
/* The parameters from a metadata.lance's schema metadata alone (no column is read), checked. */
pa_status pa_ivfpq_meta_read(const char *path, pa_ivfpq_meta *out);
/* The parameters of a model file, partifact's or a metadata.lance, without reading its arrays. */
pa_status pa_ivfpq_model_read_params(const char *path, pa_ivfpq_meta *out);
/* Loads a model from a metadata.lance. */
pa_status pa_ivfpq_model_load_metadata(pa_ivfpq_model **out, const char *path);
/* Writes m as a metadata.lance at path (a new file in a directory being made: in_new_dir),
 * Lance file format 2.2; its size and XXH64 into *bytes, *xxh64. */
pa_status pa_ivfpq_model_save_metadata(const pa_ivfpq_model *m, const char *path, uint64_t *bytes,
                                       uint64_t *xxh64);

#endif
