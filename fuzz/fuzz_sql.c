/*
 * fuzz_sql.c - the SQL parser and planner on arbitrary text: no crash, no
 * read out of bounds, and an error position inside the text. The
 * declarations are planned as a pipeline; then each request among them
 * (SELECT, SHOW, DESCRIBE, EXPLAIN) is answered over that catalog.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "sql/plan.h"

static void check_position(const weir_sql_error *e, const uint8_t *data, size_t size)
{
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    if (e->line < 1 || e->line > lines || e->col < 1 || e->col > size + 1)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    weir_arena a = {0};
    weir_stmt **st;
    size_t n;
    weir_sql_error e;
    if (weir_sql_parse((const char *)data, size, &a, &st, &n, &e) == 0) {
        weir_stmt **decl = weir_arena_alloc(&a, (n + 1) * sizeof *decl);
        size_t nd = 0;
        for (size_t i = 0; decl && i < n; i++)
            if (st[i]->kind != WEIR_STMT_SELECT && st[i]->kind != WEIR_STMT_DROP && !weir_stmt_is_meta(st[i]))
                decl[nd++] = st[i];
        weir_catalog cat;
        if (decl && weir_catalog_build(decl, nd, &a, &cat, &e) == 0)
            for (size_t i = 0; i < n; i++) {
                weir_meta m;
                weir_pull p;
                if (weir_stmt_is_meta(st[i]) ? weir_plan_meta(&cat, st[i], &a, &m, &e)
                                             : st[i]->kind == WEIR_STMT_SELECT && weir_plan_pull(&cat, st[i], &a, &p, &e))
                    check_position(&e, data, size);
            }
    } else {
        check_position(&e, data, size);
    }
    weir_arena_free(&a);
    return 0;
}
