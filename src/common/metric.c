/* Metric names: pa_metric_parse and pa_metric_name, beside the pa_metric type they name (every
 * room reads and writes metrics by these; the type itself is public, in partifact.h). */
#include "common/common.h"

bool pa_metric_canonical(const char *name, pa_metric *out)
{
    for (pa_metric m = PA_METRIC_L2; m <= PA_METRIC_DOT; m++)
        if (!strcmp(name, pa_metric_name(m))) {
            *out = m;
            return true;
        }
    return false;
}

pa_status pa_metric_parse(const char *name, pa_metric *out)
{
    if (pa_metric_canonical(name, out))
        return PA_OK;
    if (!strcmp(name, "euclidean")) { /* the alias callers know from other libraries */
        *out = PA_METRIC_L2;
        return PA_OK;
    }
    return pa_fail(PA_ERR_INVALID, "metric \"%s\" is not l2, cosine or dot", name);
}

const char *pa_metric_name(pa_metric m)
{
    return m == PA_METRIC_L2       ? "l2"
           : m == PA_METRIC_COSINE ? "cosine"
           : m == PA_METRIC_DOT    ? "dot"
                                   : "unknown";
}
