/*
 * fuzz_sql.c - the SQL parser and planner on arbitrary text: no crash, no
 * read out of bounds, and an error position inside the text.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "sql/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    weir_arena a = {0};
    weir_stmt **st;
    size_t n;
    weir_sql_error e;
    if (weir_sql_parse((const char *)data, size, &a, &st, &n, &e) == 0) {
        weir_catalog cat;
        weir_catalog_build(st, n, &a, &cat, &e);
    } else {
        size_t lines = 1;
        for (size_t i = 0; i < size; i++)
            lines += data[i] == '\n';
        if (e.line < 1 || e.line > lines || e.col < 1 || e.col > size + 1)
            abort();
    }
    weir_arena_free(&a);
    return 0;
}
