/*
 * fuzz_join_store.c - the readers of joins' state in the state store, as
 * a restart reads it, on arbitrary bytes: an interval join's buffered
 * record (exec/join.c) and a temporal join's version (exec/temporal_join.c).
 * Restoring must fail cleanly or succeed, never crash or leak, and a join
 * holding what it restored must keep working (meet a record, let out or
 * drop everything at the end, save). Input: a byte (bit 1: the temporal
 * join, else bit 0: the interval join's side), then the value. The sides
 * have TEXT, INT, UINT, DOUBLE, BOOL and TIMESTAMP columns.
 */
#include <stdlib.h>
#include <string.h>

#include "exec/join.h"
#include "exec/temporal_join.h"
#include "fuzz.h"

static const char *sql =
    "CREATE STREAM l (k TEXT, n INT, x DOUBLE, ts TIMESTAMP) WITH (partitions = 1, key = 'k', timestamp = 'ts');"
    "CREATE STREAM r (k TEXT, b BOOL, u UINT, ts TIMESTAMP) WITH (partitions = 1, key = 'k', timestamp = 'ts');"
    "CREATE STREAM j AS SELECT l.k, n, x, b, u FROM l FULL JOIN r ON l.k = r.k AND "
    "r.ts BETWEEN l.ts - INTERVAL '1' MINUTE AND l.ts + INTERVAL '1' MINUTE;"
    "CREATE TABLE t (k TEXT PRIMARY KEY, b BOOL, u UINT, ts TIMESTAMP) WITH (partitions = 1, timestamp = 'ts');"
    "CREATE STREAM tj AS SELECT l.k, n, b, u FROM l LEFT JOIN t FOR SYSTEM_TIME AS OF l.ts ON l.k = t.k;";

static int on_row(void *ctx, const weir_value *row, int64_t ts, int from)
{
    (void)ctx; (void)row; (void)ts; (void)from;
    return 0;
}

/* A temporal join's version from val, then a stream record of its key meets it, and the end lets everything out. */
static int temporal(const weir_query *q, const uint8_t *val, size_t len)
{
    weir_temporal_join *t = weir_temporal_join_new(q->join, q->source->schema.ncols, 1);
    weir_err err;
    if (!t)
        abort();
    if (weir_temporal_join_restore(t, val, len, &err) == WEIR_OK) {
        weir_arena scratch = {0};
        weir_eval ev = {.arena = &scratch};
        bool late;
        weir_value row[4] = {weir_text("a", 1), weir_int(1), weir_double(2.5), weir_timestamp(1000)};
        weir_temporal_join_push(t, 0, row, 1000, &ev, on_row, NULL, &late);
        weir_temporal_join_advance(t, 1, 0, INT64_MAX, &ev, on_row, NULL);
        weir_temporal_join_advance(t, 0, 0, INT64_MAX, &ev, on_row, NULL);
        weir_buf b = {0};
        weir_temporal_join_save(t, &b);
        weir_buf_free(&b);
        weir_arena_free(&scratch);
    }
    weir_temporal_join_free(t);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const weir_catalog *cat = fuzz_catalog(sql);
    const weir_query *q = cat->queries[0], *tq = cat->queries[1];
    if (size < 1)
        return 0;
    if (data[0] & 2)
        return temporal(tq, data + 1, size - 1);
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
