/*
 * fuzz_ndjson.c - the NDJSON splitter on arbitrary bytes. Property: feeding
 * the input in two chunks (split where the first byte says) yields exactly
 * the records, or the error position, of feeding it whole.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json/ndjson.h"

typedef struct tally { uint64_t records, bytes, hash; } tally;

static int count(void *ctx, const char *text, size_t len, uint64_t line, weir_ndjson_error *e)
{
    (void)e;
    tally *t = ctx;
    t->records++;
    t->bytes += len;
    for (size_t i = 0; i < len; i++)
        t->hash = t->hash * 31 + (unsigned char)text[i];
    t->hash ^= line;
    return 0;
}

static ssize_t run(const char *p, size_t size, size_t split, bool lenient, tally *t, weir_ndjson_error *e)
{
    weir_ndjson r = {.lenient = lenient};
    memset(t, 0, sizeof *t);
    /* First chunk: not at EOF, so a partial last line is left over. */
    ssize_t used = weir_ndjson_feed(&r, p, split, false, count, t, e);
    if (used < 0)
        return used;
    ssize_t rest = weir_ndjson_feed(&r, p + used, size - (size_t)used, true, count, t, e);
    return rest < 0 ? rest : used + rest;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    size_t split = size ? data[0] % (size + 1) : 0;
    tally whole, parts;
    weir_ndjson_error e1 = {0}, e2 = {0};
    bool lenient = size && (data[size - 1] & 1); /* both modes: checked and lenient */
    ssize_t a = run(p, size, size, lenient, &whole, &e1);
    ssize_t b = run(p, size, split, lenient, &parts, &e2);
    if (a != b)
        abort();
    if (a >= 0 && (whole.records != parts.records || whole.hash != parts.hash || (size_t)a != size))
        abort();
    if (a < 0 && (e1.line != e2.line || e1.offset != e2.offset || e1.column != e2.column || e1.offset > size))
        abort();
    return 0;
}
