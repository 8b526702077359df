/*
 * clock.h - the two clocks weir reads: wall time for record timestamps and
 * retention, monotonic time for group-commit deadlines and benchmarks.
 * Operators never call these; the loop that drives them does.
 */
#ifndef WEIR_CLOCK_H
#define WEIR_CLOCK_H

#include <stdint.h>

int64_t weir_wall_ms(void);       /* milliseconds since the Unix epoch */
uint64_t weir_mono_ns(void);      /* monotonic nanoseconds, arbitrary origin */

#endif
