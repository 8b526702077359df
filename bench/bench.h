/*
 * bench.h - what the benchmarks share: timing, percentiles, peak memory,
 * and running a shell command to measure the machine's own limit in the
 * same run. Benchmarks print a markdown table ready for BENCHMARKS.md.
 */
#ifndef WEIR_BENCH_H
#define WEIR_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "base/clock.h"

static inline double bench_secs(uint64_t start_ns) { return (double)(weir_mono_ns() - start_ns) / 1e9; }

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* p in [0, 100]; sorts v in place. */
static inline uint64_t bench_percentile(uint64_t *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_u64);
    size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return v[i];
}

static inline long bench_peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}

/* Runs cmd and returns the first number on the first line matching `key`
 * times the unit that follows it (kB/MB/GB per second for dd), or -1. */
static inline double bench_dd_bytes_per_sec(const char *cmd)
{
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    char line[512];
    double result = -1;
    while (fgets(line, sizeof line, f)) {
        /* "1073741824 bytes (1.1 GB, 1.0 GiB) copied, 0.5 s, 2.1 GB/s" */
        double bytes, secs;
        char *copied = strstr(line, "copied, ");
        if (copied && sscanf(line, "%lf bytes", &bytes) == 1 && sscanf(copied + 8, "%lf s", &secs) == 1 && secs > 0)
            result = bytes / secs;
    }
    pclose(f);
    return result;
}

#endif
