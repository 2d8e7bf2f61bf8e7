/* Internal interface of the input/output room (src/io): what other rooms need to know about a
 * vector input beyond the public pa_vec_input calls. */
#ifndef PA_IO_INTERNAL_H
#define PA_IO_INTERNAL_H

#include "common/common.h"

/* The dataset behind an input (NULL for files) and its resolved vector column. */
const pa_dataset *pa_vec_input_dataset(const pa_vec_input *in, const char **column);

#endif
