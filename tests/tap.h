/*
 * tap.h - the Test Anything Protocol for C unit tests, run by prove.
 *
 *   int main(void) { plan(2); ok(1 + 1 == 2, "adds"); is_int(f(), 3, "f"); return done(); }
 *
 * Every check prints "ok N - name" or "not ok N - name" plus a diagnostic;
 * done() returns non-zero if any failed or the count differs from the plan.
 */
#ifndef WEIR_TAP_H
#define WEIR_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_planned = -1, tap_run, tap_failed;

static inline void plan(int n) { tap_planned = n; printf("1..%d\n", n); fflush(stdout); }

static inline int tap_check(int pass, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline int tap_check(int pass, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    tap_run++;
    printf("%sok %d - ", pass ? "" : "not ", tap_run);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (!pass) {
        tap_failed++;
        printf("#   failed at %s:%d\n", file, line);
    }
    fflush(stdout);
    return pass;
}

static inline void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void diag(const char *fmt, ...)
{
    va_list ap;
    printf("# ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

#define ok(cond, ...) tap_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...)                                                           \
    do {                                                                                 \
        long long g_ = (long long)(got), w_ = (long long)(want);                         \
        if (!ok(g_ == w_, __VA_ARGS__))                                                  \
            diag("     got: %lld\n#     expected: %lld", g_, w_);                        \
    } while (0)

#define is_str(got, want, ...)                                                           \
    do {                                                                                 \
        const char *g_ = (got), *w_ = (want);                                            \
        if (!ok(g_ && w_ && strcmp(g_, w_) == 0, __VA_ARGS__))                           \
            diag("     got: '%s'\n#     expected: '%s'", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
    } while (0)

/* Stops the test: a precondition for the rest failed. */
#define BAIL(...) do { printf("Bail out! "); printf(__VA_ARGS__); printf("\n"); exit(1); } while (0)

static inline int done(void)
{
    if (tap_planned < 0)
        printf("1..%d\n", tap_run);
    else if (tap_run != tap_planned)
        diag("planned %d tests but ran %d", tap_planned, tap_run);
    return tap_failed || (tap_planned >= 0 && tap_run != tap_planned);
}

/* Deterministic pseudo-random numbers (xorshift64) for test data. */
static uint64_t tap_rng = 88172645463325252ull;
static inline uint64_t tap_rand(void)
{
    tap_rng ^= tap_rng << 13;
    tap_rng ^= tap_rng >> 7;
    tap_rng ^= tap_rng << 17;
    return tap_rng;
}

/* A fresh temporary directory for a test; caller frees the string. */
static inline char *tap_tmpdir(const char *name)
{
    const char *base = getenv("TMPDIR");
    char *p = malloc(4096);
    if (!p)
        BAIL("out of memory");
    snprintf(p, 4096, "%s/weir-%s-XXXXXX", base ? base : "/tmp", name);
    if (!mkdtemp(p))
        BAIL("mkdtemp %s failed", p);
    return p;
}

static inline void tap_rmrf(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        diag("could not remove %s", dir);
}

#endif
