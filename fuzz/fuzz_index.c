/*
 * fuzz_index.c - the reader of the state store's ordered indexes' markers
 * (state/index.h: a key and a value, as a server's start and every top-N
 * query read them) on arbitrary bytes: the column it names must be one of
 * the table's, or -1, never a crash; and a column said indexed must give
 * back a marker naming it. Input: a byte of key length, the key, then the
 * value.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sql/sql.h"
#include "state/index.h"

static const char *sql = "CREATE STREAM s (a UINT, v INT, w TEXT, t TIMESTAMP);"
                         "CREATE TABLE t AS SELECT a, w, MAX(v) AS v, MAX(t) AS t FROM s GROUP BY a, w;";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const weir_catalog *cat = fuzz_catalog(sql);
    if (size < 1)
        return 0;
    size_t klen = data[0] < size - 1 ? data[0] : size - 1;
    const weir_relation *t = weir_catalog_find(cat, "t");
    int col = weir_index_marker_col(t, data + 1, klen, data + 1 + klen, size - 1 - klen);
    if (col < -1 || col >= t->schema.ncols)
        abort();
    if (col >= 0) { /* a marker naming col: its value says col's type and name */
        const uint8_t *val = data + 1 + klen;
        if (size - 1 - klen != 2 + strlen(t->schema.cols[col].name) || val[1] != t->schema.cols[col].type)
            abort();
    }
    return 0;
}
