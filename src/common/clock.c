/* Wall-clock timing for the stats the library reports. */
#include "common.h"

#include <time.h>

/* Seconds on the monotonic clock (differences of two calls time a stage). */
double pa_now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
