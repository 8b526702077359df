/*
 * ndjson.c - the NDJSON splitter (see ndjson.h). Fuzzed by fuzz/fuzz_ndjson.c.
 */
#include "json/ndjson.h"

#include <stdio.h>
#include <string.h>

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* Checks one line (no newline); calls fn for a record. */
static int one_line(weir_ndjson *r, const char *p, size_t len, weir_ndjson_fn fn, void *ctx,
                    weir_ndjson_error *e)
{
    uint64_t line = r->line + 1;
    size_t a = 0, b = len;
    while (a < b && is_blank(p[a]))
        a++;
    while (b > a && is_blank(p[b - 1]))
        b--;
    if (a == b)
        return 0;
    if (r->lenient) {
        int rc = fn(ctx, p + a, b - a, line, e);
        if (rc) {
            e->line = line;
            e->column = (unsigned)a + 1;
            e->offset = r->offset + a;
        }
        return rc > 0 ? -rc : rc;
    }
    weir_json_error je;
    weir_json_span v;
    size_t bad;
    const char *why;
    if (weir_json_validate(p + a, b - a, &v, &je) != 0) {
        bad = a + je.offset;
        why = je.msg;
    } else if (v.type != WEIR_JSON_OBJECT) {
        bad = a;
        why = "expected a JSON object (a record), found another JSON value";
    } else {
        int rc = fn(ctx, p + a, b - a, line, e);
        if (rc == 0)
            return 0;
        e->line = line; /* fn wrote the message */
        e->column = (unsigned)a + 1;
        e->offset = r->offset + a;
        return rc > 0 ? -rc : rc;
    }
    e->line = line;
    e->column = (unsigned)bad + 1;
    e->offset = r->offset + bad;
    snprintf(e->msg, sizeof e->msg, "%s", why);
    return -1;
}

ssize_t weir_ndjson_feed(weir_ndjson *r, const char *buf, size_t len, bool at_eof,
                         weir_ndjson_fn fn, void *ctx, weir_ndjson_error *e)
{
    size_t start = 0;
    for (;;) {
        const char *nl = memchr(buf + start, '\n', len - start);
        if (!nl && !(at_eof && start < len))
            break;
        size_t n = nl ? (size_t)(nl - buf) - start : len - start;
        int rc = one_line(r, buf + start, n, fn, ctx, e);
        if (rc)
            return rc;
        r->line++;
        r->offset += n + (nl ? 1 : 0);
        start += n + (nl ? 1 : 0);
    }
    return (ssize_t)start;
}
