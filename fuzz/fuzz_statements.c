/*
 * fuzz_statements.c - DATA/statements.sql's reader (runtime/
 * statements_file.h) on arbitrary bytes, as a damaged or hand-edited file
 * would hand it: it must refuse cleanly or give groups that written out
 * and read again are the same groups.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "runtime/statements_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    added_group *g, *again;
    int n, m;
    unsigned next, next_again;
    weir_err err;
    if (weir_statements_parse((const char *)data, size, &g, &n, &next, &err) != WEIR_OK) {
        if (err.code != WEIR_ECORRUPT && err.code != WEIR_ENOMEM)
            abort();
        weir_statements_free(g, n);
        return 0;
    }
    weir_buf text = {0};
    if (weir_statements_format(g, n, next, &text) ||
        weir_statements_parse((const char *)text.data, text.len, &again, &m, &next_again, &err) != WEIR_OK)
        abort(); /* what the reader accepted, written out, must read again */
    if (m != n || next_again != next)
        abort();
    for (int i = 0; i < n; i++) {
        size_t len = g[i].len + (g[i].len && g[i].sql[g[i].len - 1] != '\n'); /* format ends each group's lines */
        if (strcmp(g[i].name, again[i].name) || again[i].len != len || memcmp(g[i].sql, again[i].sql, g[i].len))
            abort();
    }
    weir_statements_free(g, n);
    weir_statements_free(again, m);
    weir_buf_free(&text);
    return 0;
}
