/* Internal to the pipeline (src/pipeline): what its stages share beside the public API. */
#ifndef PA_PIPELINE_INTERNAL_H
#define PA_PIPELINE_INTERNAL_H

#include "partifact.h"

/* Bytes the training sample of n rows of dimension dim takes (what read_sample allocates). */
uint64_t pa_train_sample_bytes(uint64_t n, uint32_t dim);

/* pa_train_input with the sample held to memory_bytes (0: no bound): a sample that would take
 * more is cut to the rows that fit (stats->sample_wanted_rows says how many it would have had),
 * and a budget too small for the least sample training accepts (max(partitions, codewords)
 * rows) is refused, PA_ERR_BUDGET, before anything is read. */
pa_status pa_train_input_budget(pa_ivfpq_model **out, pa_vec_input *in,
                                const pa_ivfpq_params *params, pa_backend *backend,
                                uint64_t memory_bytes, pa_ivfpq_train_stats *stats);

#endif
