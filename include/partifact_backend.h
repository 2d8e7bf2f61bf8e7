/*
 * partifact_backend.h — the backend ABI: for people who write an accelerator backend.
 *
 * Users of partifact need only partifact.h (pa_backend_open picks a backend by name and the
 * build drives it). This header is what a backend plugin is written against, and what a host
 * program includes to drive a backend directly (to test one, say).
 *
 * A backend trains an IVF_PQ model and assigns + encodes rows. The CPU backend ("cpu") is built
 * in; an accelerator ships as a shared library libpartifact-backend-NAME.so exporting
 *
 *     const pa_backend_v2 *partifact_backend_v2(uint32_t host_abi_version);
 *
 * which returns its function table (or NULL if it cannot serve that host version). The ABI uses
 * only plain C types and is versioned: abi_version must equal PA_BACKEND_ABI_VERSION and
 * struct_size must cover the functions the host calls; a plugin built for another version
 * (a v1 plugin exports partifact_backend_v1) is refused at load, naming both versions.
 *
 * A job's calls, in order: create (once, with the options string), then train and/or
 * bind_model; assign_encode any number of times on the bound model; unbind_model; destroy.
 * One job drives a backend state at a time: the host never calls into one state from two
 * threads at once (a backend may use threads of its own inside a call).
 *
 * Every function that can fail returns 0 on success, or non-zero after writing a one-line
 * message into err (err_len bytes, NUL-terminated); the host names the backend and the call.
 * A backend never prints, exits or aborts.
 */
#ifndef PARTIFACT_BACKEND_H
#define PARTIFACT_BACKEND_H

#include "partifact.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PA_BACKEND_ABI_VERSION 2
#define PA_BACKEND_ENTRY_SYMBOL "partifact_backend_v2"
/* The size of the err buffer the host passes to every call. */
#define PA_BACKEND_ERR_LEN 512
/* Flags of assign_encode_flags (a bitwise or; a backend ignores flags it does not know). */
#define PA_BACKEND_ROWS_CHECKED 1u /* the host checked every row already: see assign_encode */

/* A model as the ABI passes it: plain arrays owned by the caller (pa_backend_model is declared
 * in partifact.h, where pa_ivfpq_model_arrays hands one out). */
struct pa_backend_model {
    uint32_t dim, num_partitions, num_sub_vectors, num_bits;
    int32_t metric;         /* a pa_metric value: 0 l2, 1 cosine, 2 dot (frozen by the ABI)  */
    const float *centroids; /* num_partitions x dim, row-major                              */
    const float *codebook;  /* num_sub_vectors x 2^num_bits x (dim / num_sub_vectors)       */
};

/* What train is asked for; every value resolved by the host (no 0-means-default). A backend
 * reads only the fields that fit in struct_size (fields are only ever appended). */
typedef struct pa_backend_train_params {
    uint32_t struct_size; /* sizeof(pa_backend_train_params) as the host was built           */
    uint32_t dim, num_partitions, num_sub_vectors, num_bits;
    int32_t metric;        /* a pa_metric value                                               */
    uint32_t max_iters;    /* coarse (IVF) k-means iterations at most                         */
    uint32_t pq_max_iters; /* PQ k-means iterations at most, per sub-space                    */
    uint64_t seed;         /* the same seed and sample should give the same model             */
    /* Appended: PA_BACKEND_ROWS_CHECKED says the host has checked every row of the sample as
     * for assign_encode_flags (finite, squared norm within the limit), so a backend that
     * checks its rows need not check them again; a row flagged so that is not is outside the
     * contract (a wrong model at worst from the cpu backend). 0: unchecked. */
    uint32_t flags;
} pa_backend_train_params;

/* What train reports (zeroed by the host; a backend fills what it knows, writing only the
 * fields that fit in struct_size). */
typedef struct pa_backend_train_stats {
    uint32_t struct_size; /* sizeof(pa_backend_train_stats) as the host was built            */
    uint32_t ivf_iters, pq_iters; /* k-means iterations run (PQ: the most of any sub-space)   */
    uint32_t empty_repaired;      /* empty clusters repaired                                  */
    double ivf_seconds, pq_seconds;
    /* Appended: the k-means iterations' share of a full assignment's work (coarse, PQ; see
     * pa_ivfpq_train_stats); 0: not reported. */
    double ivf_work_share, pq_work_share;
} pa_backend_train_stats;

typedef struct pa_backend_v2 {
    uint32_t abi_version; /* PA_BACKEND_ABI_VERSION the backend was built against          */
    uint32_t struct_size; /* sizeof(pa_backend_v2) as the backend was built                */
    const char *name;
    /* Makes the backend's state from the options string: "" or KEY=VALUE[,KEY=VALUE...]
     * (pa_backend_option_next splits it). An unknown key is refused, naming the key. */
    int (*create)(void **state, const char *options, char *err, size_t err_len);
    void (*destroy)(void *state);
    /* Trains on n sample rows (n x dim, finite, checked by the host), which the backend may
     * overwrite (normalise, shuffle) to save a copy; writes centroids (num_partitions x dim)
     * and codebook (num_sub_vectors x 2^num_bits x dim/num_sub_vectors) into the caller's
     * arrays. For cosine the model is of the normalised rows. */
    int (*train)(void *state, const pa_backend_train_params *params, float *sample, uint64_t n,
                 float *centroids, float *codebook, pa_backend_train_stats *stats, char *err,
                 size_t err_len);
    /* Takes a model for the encodes that follow (an accelerator uploads it here, once per
     * job); *bound is the backend's own handle to it. The model's arrays stay valid and
     * unchanged until unbind_model. */
    int (*bind_model)(void *state, const pa_backend_model *model, void **bound, char *err,
                      size_t err_len);
    /* For n rows (n x dim, finite): nearest centroid of the bound model into part_ids, PQ code
     * into codes: num_sub_vectors * num_bits / 8 bytes per row. 8-bit codes: byte m is
     * sub-vector m's code. 4-bit codes (num_sub_vectors even): byte j holds sub-vector 2j's
     * code in its low nibble and sub-vector 2j+1's in its high nibble, as Lance packs them. A
     * backend that cannot encode a model's num_bits refuses it in bind_model, with a message. */
    int (*assign_encode)(void *state, void *bound, const float *x, uint64_t n, uint32_t *part_ids,
                         uint8_t *codes, char *err, size_t err_len);
    void (*unbind_model)(void *state, void *bound);
    /* The host memory (bytes) the backend holds for model once bound, plus, for batch_rows
     * above 0, what one assign_encode call of batch_rows rows allocates; what the host plans
     * its memory budget with, before binding. Device memory is not counted. */
    uint64_t (*work_bytes)(void *state, const pa_backend_model *model, uint64_t batch_rows);
    /* Optional, appended: the host calls it only where struct_size covers it and it is not
     * NULL, else assign_encode. assign_encode with flags: PA_BACKEND_ROWS_CHECKED says the host
     * has checked every row already (every value finite, every squared norm within the limit
     * pa_ivfpq_assign_encode refuses rows above), so a backend that checks its rows need not
     * check them again. */
    int (*assign_encode_flags)(void *state, void *bound, const float *x, uint64_t n, uint32_t flags,
                               uint32_t *part_ids, uint8_t *codes, char *err, size_t err_len);
} pa_backend_v2;

/* The smallest function table a host accepts: every member before the optional ones. */
#define PA_BACKEND_V2_MIN_SIZE offsetof(pa_backend_v2, assign_encode_flags)

typedef const pa_backend_v2 *(*pa_backend_entry_fn)(uint32_t host_abi_version);

/* Splits the next KEY=VALUE pair off *options (pairs separated by ','; a pair without '=' has
 * an empty value) into key and value, NUL-terminated. Returns 1 for a pair, 0 when none is
 * left, -1 when the key or the value does not fit its buffer. */
static inline int pa_backend_option_next(const char **options, char *key, size_t key_len,
                                         char *value, size_t value_len)
{
    const char *p = *options;
    size_t k = 0, v = 0;
    if (!p || !*p)
        return 0;
    while (*p && *p != '=' && *p != ',') {
        if (k + 1 >= key_len)
            return -1;
        key[k++] = *p++;
    }
    key[k] = '\0';
    if (*p == '=')
        for (p++; *p && *p != ','; p++) {
            if (v + 1 >= value_len)
                return -1;
            value[v++] = *p;
        }
    value[v] = '\0';
    *options = *p ? p + 1 : p;
    return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Driving a backend from the host (what encode and build do; a test may call these directly)  */
/* ------------------------------------------------------------------------------------------ */
/* Each checks its arguments and the backend's results (shapes, partition ids in range,
 * finite model values) and names the backend in its message. */

/* Trains through the backend (see train above); stats may be NULL. */
PA_API pa_status pa_backend_train(pa_backend *b, const pa_backend_train_params *params,
                                  float *sample, uint64_t n, float *centroids, float *codebook,
                                  pa_backend_train_stats *stats);
/* Binds model for the assign_encode calls that follow (one model at a time per backend). */
PA_API pa_status pa_backend_bind(pa_backend *b, const pa_backend_model *model);
PA_API pa_status pa_backend_assign_encode(pa_backend *b, const float *x, uint64_t n,
                                          uint32_t *part_ids, uint8_t *codes);
/* pa_backend_assign_encode with flags for the backend. PA_BACKEND_ROWS_CHECKED: the caller has
 * checked every row as pa_vec_input_next checks the rows it hands out; a row flagged so that is
 * not (NaN, infinite, too large) is outside the contract, and a backend may then read past its
 * arrays. A backend without assign_encode_flags gets assign_encode. */
PA_API pa_status pa_backend_assign_encode_flags(pa_backend *b, const float *x, uint64_t n,
                                                uint32_t flags, uint32_t *part_ids, uint8_t *codes);
/* Releases the bound model (nothing if none is bound; pa_backend_free does it too). */
PA_API void pa_backend_unbind(pa_backend *b);
/* The backend's answer to work_bytes (see above). */
PA_API uint64_t pa_backend_work_bytes(pa_backend *b, const pa_backend_model *model,
                                      uint64_t batch_rows);

#ifdef __cplusplus
}
#endif

#endif
