/*
 * clock.c - clock_gettime wrappers. CLOCK_REALTIME and CLOCK_MONOTONIC
 * cannot fail with valid arguments, so there is no error path.
 */
#include "base/clock.h"

#include <time.h>

int64_t weir_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t weir_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
