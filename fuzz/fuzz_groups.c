/*
 * fuzz_groups.c - the reader of the engine's groups kept apart
 * (exec/group_store.c: a piece, its query's number and the group's store
 * key with its value, as a scale-out task's restore reads them and, but for
 * the number, the state store's) on arbitrary bytes: restoring a group must
 * fail cleanly or succeed, never crash or leak, and an engine holding what
 * it restored must keep working (push, close every window, save, hand over
 * its changes). Input: two bytes of key length, the key, then the value
 * (its accumulators as they are, as older stores hold them, or packed:
 * state/zpack.h; seeds of both, group_packed_* from weir_engine_take_pieces). The catalog has a keyed
 * aggregation with keys of several types and a windowed one with sets,
 * sketches and top-k, both with LATEST/EARLIEST_BY_OFFSET (TEXT, numbers).
 */
#include <stdlib.h>
#include <string.h>

#include "exec/engine.h"
#include "fuzz.h"

static const char *sql =
    "CREATE STREAM s (k TEXT, n INT, u UINT, ts TIMESTAMP) WITH (partitions = 2, key = 'k', timestamp = 'ts');"
    "CREATE TABLE a AS SELECT k, n, COUNT(*) AS c, SUM(u) AS s, MIN(k) AS m, AVG(n) AS v, LATEST_BY_OFFSET(k) AS l, "
    "EARLIEST_BY_OFFSET(u, FALSE) AS e FROM s GROUP BY k, n;"
    "CREATE TABLE b AS SELECT k, window_start, COUNT(DISTINCT n) AS d, APPROX_COUNT_DISTINCT(k) AS x, TOPK(n, 3) AS t, "
    "LATEST_BY_OFFSET(n) AS l, EARLIEST_BY_OFFSET(k) AS e FROM HOP(s, INTERVAL '1' MINUTE, INTERVAL '3' MINUTE) "
    "GROUP BY k EMIT FINAL;";

static int on_row(void *ctx, const weir_relation *r, const weir_value *row, int64_t ts)
{
    (void)ctx; (void)r; (void)row; (void)ts;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const weir_catalog *cat = fuzz_catalog(sql);
    if (size < 2)
        return 0;
    size_t klen = (size_t)data[0] << 8 | data[1];
    if (klen > size - 2)
        klen = size - 2;
    weir_engine *eng;
    weir_err err;
    if (weir_engine_new(cat, NULL, &eng, &err))
        abort();
    weir_engine_keep_groups_apart(eng);
    if (weir_engine_restore_piece(eng, data + 2, klen, data + 2 + klen, size - 2 - klen, &err) == WEIR_OK) {
        weir_emit_target t = {NULL, on_row, NULL, NULL};
        const char *rec = "{\"k\":\"x\",\"n\":1,\"u\":2,\"ts\":1000}";
        weir_engine_push_json(eng, cat->rels[0], 1, rec, strlen(rec), 0, &t, &err);
        weir_engine_advance(eng, INT64_MAX, &t, &err);
        weir_buf b = {0}, pieces = {0};
        weir_engine_save(eng, &b);
        if (weir_engine_take_pieces(eng, &pieces, &err) || !pieces.len) /* the record's group changed */
            abort();
        weir_buf_free(&b);
        weir_buf_free(&pieces);
    }
    weir_engine_free(eng);
    return 0;
}
