/* Internal interface of the backend room (src/backend). */
#ifndef PA_BACKEND_INTERNAL_H
#define PA_BACKEND_INTERNAL_H

#include "common/common.h"

/* The built-in CPU backend's function table (src/backend/cpu_backend.c). */
const pa_backend_v2 *pa_cpu_backend_table(void);

#endif
