/*
 * fuzz.h - the one entry point every fuzz target defines. Built two ways:
 * with libFuzzer (`make fuzz`, clang -fsanitize=fuzzer) and with
 * replay_main.c, which replays the seed corpus plus deterministic mutations
 * of it so `make test` runs every target on every build.
 */
#ifndef WEIR_FUZZ_H
#define WEIR_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/crc32c.h"
#include "log/record.h"
#include "sql/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fixed catalog a target fuzzes against, planned from sql at its first
 * call (each target is a program of its own, with one sql), then given to
 * then (may be NULL) for planning of its own, e.g. scale-out's rewrite; a
 * plan (or then) that fails is the target's bug: abort. */
static inline const weir_catalog *fuzz_catalog_then(const char *sql, int (*then)(weir_catalog *cat, weir_arena *a))
{
    static weir_arena a;
    static weir_catalog cat;
    static bool planned;
    if (!planned) {
        weir_stmt **st;
        size_t n;
        weir_sql_error e;
        if (weir_sql_parse(sql, strlen(sql), &a, &st, &n, &e) || weir_catalog_build(st, n, &a, &cat, &e) ||
            (then && then(&cat, &a)))
            abort();
        planned = true;
    }
    return &cat;
}

static inline const weir_catalog *fuzz_catalog(const char *sql) { return fuzz_catalog_then(sql, NULL); }

static char fuzz_dir[256]; /* fuzz_scratch_dir's */

static inline void fuzz_scratch_remove(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", fuzz_dir);
}

/* A directory of the target's own, $TMPDIR/weir-fuzz-NAME-PID, with the
 * directories `mkdir -p` makes of dirs (paths relative to it, separated
 * by spaces), made at the first call and removed at exit. */
static inline const char *fuzz_scratch_dir(const char *name, const char *dirs)
{
    if (fuzz_dir[0])
        return fuzz_dir;
    const char *tmp = getenv("TMPDIR");
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/weir-fuzz-%s-%d", tmp && *tmp ? tmp : "/tmp", name, (int)getpid());
    atexit(fuzz_scratch_remove);
    char cmd[1024];
    int n = snprintf(cmd, sizeof cmd, "cd / && mkdir -p '%s' && cd '%s' && mkdir -p %s", fuzz_dir, fuzz_dir, dirs);
    if (n < 0 || (size_t)n >= sizeof cmd || system(cmd) != 0)
        abort();
    return fuzz_dir;
}

/* Rewrites the CRC of each whole batch laid end to end in p[0..n), so that
 * random inputs get past the checksum and exercise the structure checks
 * behind it (a fuzzer would almost never guess a CRC). */
static inline void fuzz_fix_crcs(uint8_t *p, size_t n)
{
    size_t pos = 0;
    while (n - pos >= WEIR_BATCH_HEADER_SIZE) {
        uint32_t len;
        memcpy(&len, p + pos + 4, 4);
        if (len < 12 || len > n - pos)
            break;
        uint32_t crc = weir_crc32c(0, p + pos + 12, len - 12);
        memcpy(p + pos + 8, &crc, 4);
        pos += len;
    }
}

#endif
