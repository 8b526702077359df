/*
 * fuzz_decode.c - records decoded by a schema (exec/decode.h) with a memo
 * kept from line to line must come out exactly as decoded without one:
 * the same values or the same refusal. The input is NDJSON lines, so
 * a line can leave in the memo what the next one meets (a minute, the
 * schema's name lengths); every other line uses a second schema.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "exec/decode.h"
#include "fuzz.h"

static bool same_value(const weir_value *x, const weir_value *y)
{
    if (x->type != y->type || x->is_null != y->is_null || x->err != y->err)
        return false;
    if (x->is_null)
        return true;
    switch (x->type) {
    case WEIR_TYPE_TEXT:
    case WEIR_TYPE_JSON: return x->len == y->len && !memcmp(x->s, y->s, x->len);
    case WEIR_TYPE_BOOL: return x->b == y->b;
    case WEIR_TYPE_DOUBLE: return x->d == y->d || (isnan(x->d) && isnan(y->d));
    default: return x->i == y->i;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static weir_column cols[] = {{"id", WEIR_TYPE_TEXT},     {"n", WEIR_TYPE_INT},   {"u", WEIR_TYPE_UINT},
                                 {"d", WEIR_TYPE_DOUBLE},    {"b", WEIR_TYPE_BOOL},  {"ts", WEIR_TYPE_TIMESTAMP},
                                 {"j", WEIR_TYPE_JSON},      {"ids", WEIR_TYPE_TEXT}};
    static const weir_schema schemas[] = {{cols, 8}, {cols + 5, 3}};
    weir_decode_memo m = {0};
    weir_arena a = {0};
    const char *p = (const char *)data, *end = p + size;
    for (int line = 0; p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const weir_schema *s = &schemas[line % 2];
        weir_value with[8], without[8];
        char why_with[256], why_without[256];
        int rw = weir_decode_json_memo(&m, s, p, n, &a, with, why_with, sizeof why_with);
        int ro = weir_decode_json(s, p, n, &a, without, why_without, sizeof why_without);
        if (rw != ro || (rw && strcmp(why_with, why_without)))
            abort(); /* the memo changed whether or why a record is refused */
        for (int i = 0; !rw && i < s->ncols; i++)
            if (!same_value(&with[i], &without[i]))
                abort(); /* or a value */
        weir_arena_reset(&a);
        p += n + (nl != NULL);
    }
    weir_arena_free(&a);
    weir_decode_memo_free(&m);
    return 0;
}
