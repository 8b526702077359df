/*
 * fuzz_join_store.c - the reader of an interval join's buffered records in
 * the state store (exec/join.c: a record's store value, as a restart reads
 * it) on arbitrary bytes: restoring must fail cleanly or succeed, never
 * crash or leak, and a join holding what it restored must keep working
 * (meet a record of the other side, drop everything at the end, save).
 * Input: a byte choosing the side, then the value. The join's sides have
 * TEXT, INT, DOUBLE, BOOL and TIMESTAMP columns.
 */
#include <stdlib.h>
#include <string.h>

#include "exec/join.h"
#include "fuzz.h"

static const char *sql =
    "CREATE STREAM l (k TEXT, n INT, x DOUBLE, ts TIMESTAMP) WITH (partitions = 1, key = 'k', timestamp = 'ts');"
    "CREATE STREAM r (k TEXT, b BOOL, u UINT, ts TIMESTAMP) WITH (partitions = 1, key = 'k', timestamp = 'ts');"
    "CREATE STREAM j AS SELECT l.k, n, x, b, u FROM l FULL JOIN r ON l.k = r.k AND "
    "r.ts BETWEEN l.ts - INTERVAL '1' MINUTE AND l.ts + INTERVAL '1' MINUTE;";

static int on_row(void *ctx, const weir_value *row, int64_t ts, int from)
{
    (void)ctx; (void)row; (void)ts; (void)from;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static weir_arena a;
    static weir_catalog cat;
    static const weir_query *q;
    if (!q) {
        weir_stmt **st;
        size_t n;
        weir_sql_error e;
        if (weir_sql_parse(sql, strlen(sql), &a, &st, &n, &e) || weir_catalog_build(st, n, &a, &cat, &e))
            abort();
        q = cat.queries[0];
    }
    if (size < 1)
        return 0;
    weir_join_state *s = weir_join_new(q->join, q->source->schema.ncols, 1);
    weir_err err;
    if (!s)
        abort();
    if (weir_join_restore(s, data[0] & 1, data + 1, size - 1, &err) == WEIR_OK) {
        weir_arena scratch = {0};
        weir_eval ev = {.arena = &scratch};
        bool late;
        weir_value row[4] = {weir_text("a", 1), weir_int(1), weir_double(2.5), weir_timestamp(1000)};
        weir_value other[4] = {weir_text("a", 1), weir_bool(true), weir_uint(7), weir_timestamp(1000)};
        weir_join_push(s, !(data[0] & 1), 0, data[0] & 1 ? row : other, 1000, &ev, on_row, NULL, &late);
        weir_join_advance(s, 0, 0, INT64_MAX, on_row, NULL);
        weir_join_advance(s, 1, 0, INT64_MAX, on_row, NULL);
        weir_buf b = {0};
        weir_join_save(s, &b);
        weir_buf_free(&b);
        weir_arena_free(&scratch);
    }
    weir_join_free(s);
    return 0;
}
