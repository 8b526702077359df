/*
 * fuzz_jschema.c - the JSON Schema compiler and checker on arbitrary
 * bytes: the input is a schema, a NUL byte and a record. Compiling must
 * fail cleanly or succeed; checking a valid record must not read out of
 * bounds and a refusal always names its rule; every schema is backward
 * compatible with itself. The pattern-* seeds are hostile regular
 * expressions (nested counted repeats, catastrophic backtracking, NULs,
 * Perl's extras), so mutations exercise PCRE2 within weir's limits.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json/json.h"
#include "json/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    const char *nul = memchr(p, '\0', size);
    size_t schema_len = nul ? (size_t)(nul - p) : size;
    const char *rec = nul ? nul + 1 : "{}";
    size_t rec_len = nul ? size - schema_len - 1 : 2;
    weir_jschema *s;
    weir_err err;
    if (weir_jschema_compile(p, schema_len, &s, &err))
        return 0;
    char why[256];
    if (!weir_jschema_compatible(s, s, why, sizeof why))
        abort();
    weir_jschema_violation v;
    if (weir_json_validate(rec, rec_len, NULL, NULL) == 0 && !weir_jschema_check(s, rec, rec_len, &v) && !v.rule[0])
        abort();
    weir_jschema_free(s);
    return 0;
}
