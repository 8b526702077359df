/*
 * regex.c (bench) - JSON Schema `pattern`: what compiling and matching
 * cost through weir's schema checker (PCRE2 within the limits of
 * json/schema.h) beside glibc's regcomp/regexec, which weir used before.
 * The numbers behind the choice of engine and limits in schema.h.
 *
 *   build/bench/regex
 *
 * Each case runs in a child process under a 2 GiB address-space limit
 * and a 30 s alarm, so glibc's blow-up on the hostile patterns (20 s and
 * 14 GB unbounded) cannot take the machine; the table gives each child's
 * time and peak resident memory, and how it ended. Matching times are the
 * mean over enough repetitions to take about a tenth of a second.
 */
#include <errno.h>
#include <regex.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "bench.h"
#include "json/json.h"
#include "json/schema.h"

typedef struct regex_case {
    const char *name;
    const char *pattern;
    char fill;                 /* the subject: `repeat` copies of fill, then `tail` */
    int repeat;
    const char *tail;
} regex_case;

static const regex_case cases[] = {
    {"nested counted repeats (compile)", "((((a{1,50}){1,50}){1,50}){1,50})", 'a', 10, ""},
    {"catastrophic backtracking", "(a+)+$", 'a', 30, "!"},
    {"alternation over a long value", "^(a|aa)+$", 'a', 5000, "!"},
    {"an e-mail address", "^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$", 'x', 20, "@example.com"},
    {"a date with \\d (ECMA-262 syntax)", "^\\d{4}-\\d{2}-\\d{2}$", '2', 4, "-11-23"},
    {"a 100 KB value, anchored class", "^[a-z ]*$", 'b', 100000, ""},
};

/* What a child reports through its pipe. */
typedef struct outcome {
    double compile_ms, match_us;
    char verdict[120];
} outcome;

static char *subject_of(const regex_case *c, size_t *len)
{
    size_t tail = strlen(c->tail);
    char *s = malloc((size_t)c->repeat + tail + 1);
    if (!s)
        return NULL;
    memset(s, c->fill, (size_t)c->repeat);
    memcpy(s + c->repeat, c->tail, tail + 1);
    *len = (size_t)c->repeat + tail;
    return s;
}

/* Runs match(ctx) until about 0.1 s has passed; the mean in microseconds. */
static double mean_us(bool (*match)(void *), void *ctx, bool *result)
{
    uint64_t t0 = weir_mono_ns();
    int n = 0;
    do {
        *result = match(ctx);
        n++;
    } while (bench_secs(t0) < 0.1);
    return bench_secs(t0) * 1e6 / n;
}

typedef struct weir_ctx {
    weir_jschema *schema;
    weir_buf record;
    weir_jschema_violation v;
} weir_ctx;

static bool weir_match(void *ctx)
{
    weir_ctx *w = ctx;
    return weir_jschema_check(w->schema, (const char *)w->record.data, w->record.len, &w->v);
}

static void run_weir(const regex_case *c, outcome *o)
{
    weir_ctx w = {0};
    weir_buf text = {0};
    weir_err err = {0};
    size_t len;
    char *subject = subject_of(c, &len);
    if (!subject || weir_buf_append_str(&text, "{\"pattern\":") || weir_json_quote(&text, c->pattern, strlen(c->pattern)) ||
        weir_buf_append_str(&text, "}") || weir_json_quote(&w.record, subject, len)) {
        snprintf(o->verdict, sizeof o->verdict, "out of memory");
        return;
    }
    uint64_t t0 = weir_mono_ns();
    int rc = weir_jschema_compile((const char *)text.data, text.len, &w.schema, &err);
    o->compile_ms = bench_secs(t0) * 1e3;
    if (rc) {
        snprintf(o->verdict, sizeof o->verdict, "refused: %.90s", strstr(err.msg, "pattern") ? strstr(err.msg, "pattern") : err.msg);
    } else {
        bool matched;
        o->match_us = mean_us(weir_match, &w, &matched);
        snprintf(o->verdict, sizeof o->verdict, "%s", matched ? "match" : strstr(w.v.msg, "too costly") ? "too costly: refused" : "no match");
    }
    weir_jschema_free(w.schema);
    weir_buf_free(&w.record);
    weir_buf_free(&text);
    free(subject);
}

typedef struct glibc_ctx {
    regex_t re;
    const char *subject;
} glibc_ctx;

static bool glibc_match(void *ctx)
{
    glibc_ctx *g = ctx;
    return regexec(&g->re, g->subject, 0, NULL, 0) == 0;
}

static void run_glibc(const regex_case *c, outcome *o)
{
    glibc_ctx g;
    size_t len;
    char *subject = subject_of(c, &len);
    if (!subject) {
        snprintf(o->verdict, sizeof o->verdict, "out of memory");
        return;
    }
    g.subject = subject;
    uint64_t t0 = weir_mono_ns();
    int rc = regcomp(&g.re, c->pattern, REG_EXTENDED | REG_NOSUB);
    o->compile_ms = bench_secs(t0) * 1e3;
    if (rc) {
        char why[80];
        regerror(rc, &g.re, why, sizeof why);
        snprintf(o->verdict, sizeof o->verdict, "regcomp failed: %s", why);
    } else {
        bool matched;
        o->match_us = mean_us(glibc_match, &g, &matched);
        snprintf(o->verdict, sizeof o->verdict, "%s", matched ? "match" : "no match");
        regfree(&g.re);
    }
    free(subject);
}

/* Runs one engine on one case in a bounded child; prints a table row. */
static void measure(const char *engine, void (*run)(const regex_case *, outcome *), const regex_case *c)
{
    int fd[2];
    if (pipe(fd)) {
        printf("| %s | %s | pipe: %s | | | |\n", c->name, engine, strerror(errno));
        return;
    }
    uint64_t t0 = weir_mono_ns();
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        struct rlimit rl = {2ul << 30, 2ul << 30};
        outcome o = {0};
        if (setrlimit(RLIMIT_AS, &rl))
            snprintf(o.verdict, sizeof o.verdict, "setrlimit: %s", strerror(errno));
        else {
            alarm(30);
            run(c, &o);
        }
        _exit(write(fd[1], &o, sizeof o) == (ssize_t)sizeof o ? 0 : 1);
    }
    close(fd[1]);
    outcome o = {0};
    bool got = pid > 0 && read(fd[0], &o, sizeof o) == (ssize_t)sizeof o;
    close(fd[0]);
    int status = 0;
    struct rusage ru = {0};
    if (pid < 0 || wait4(pid, &status, 0, &ru) < 0) {
        printf("| %s | %s | fork/wait: %s | | | |\n", c->name, engine, strerror(errno));
        return;
    }
    double secs = bench_secs(t0);
    if (!got)
        snprintf(o.verdict, sizeof o.verdict, "%s after %.1f s",
                 WIFSIGNALED(status) ? (WTERMSIG(status) == SIGALRM ? "stopped by the 30 s alarm" : strsignal(WTERMSIG(status)))
                                     : "no answer",
                 secs);
    printf("| %s | %s | %.3f | %.1f | %ld | %s |\n", c->name, engine, o.compile_ms, o.match_us, ru.ru_maxrss / 1024,
           o.verdict);
    fflush(stdout);
}

int main(void)
{
    printf("JSON Schema patterns: weir (PCRE2, match limit %d steps, %d KiB heap) vs glibc regex, each case in a child "
           "limited to 2 GiB of address space and 30 s\n\n",
           WEIR_JSCHEMA_MATCH_LIMIT, WEIR_JSCHEMA_MATCH_HEAP_KIB);
    printf("| case | engine | compile ms | match us (mean) | peak RSS MB | result |\n|---|---|---|---|---|---|\n");
    fflush(stdout);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        measure("weir (PCRE2)", run_weir, &cases[i]);
        measure("glibc", run_glibc, &cases[i]);
    }
    return 0;
}
