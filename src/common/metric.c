/* Metric names: pa_metric_parse and pa_metric_name, beside the pa_metric type they name (every
 * room reads and writes metrics by these; the type itself is public, in partifact.h). */
#include "common/common.h"

pa_status pa_metric_parse(const char *name, pa_metric *out)
{
    if (!strcmp(name, "l2") || !strcmp(name, "euclidean"))
        *out = PA_METRIC_L2;
    else if (!strcmp(name, "cosine"))
        *out = PA_METRIC_COSINE;
    else if (!strcmp(name, "dot"))
        *out = PA_METRIC_DOT;
    else
        return pa_fail(PA_ERR_INVALID, "metric \"%s\" is not l2, cosine or dot", name);
    return PA_OK;
}

const char *pa_metric_name(pa_metric m)
{
    return m == PA_METRIC_L2 ? "l2" : m == PA_METRIC_COSINE ? "cosine"
                             : m == PA_METRIC_DOT ? "dot" : "unknown";
}
