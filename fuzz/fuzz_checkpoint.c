/*
 * fuzz_checkpoint.c - the engine-state reader of checkpoints on arbitrary
 * bytes: restoring must fail cleanly or succeed, never crash or leak, and a
 * restored engine must keep working, in both engine shapes (all partitions,
 * and a scale-out task's single partition). The catalog is fixed: every kind of
 * state (keys of several types, windows, panes, sessions, sketches, top-k,
 * a join's buffered records, a stream-table join's rows, a temporal join's
 * versions and waiting records, a table-table join's rows of both tables,
 * windowed tables' rows until their retention passes, which a record 30
 * days on then takes).
 */
#include <stdlib.h>
#include <string.h>

#include "exec/engine.h"
#include "fuzz.h"

static const char *sql =
    "CREATE STREAM s (k TEXT, n INT, u UINT, ts TIMESTAMP) WITH (partitions = 2, key = 'k', timestamp = 'ts');"
    "CREATE STREAM t (k TEXT, ts TIMESTAMP) WITH (partitions = 2, key = 'k', timestamp = 'ts');"
    "CREATE TABLE a AS SELECT k, n, COUNT(*) AS c, SUM(u) AS s, MIN(k) AS m, AVG(n) AS v FROM s GROUP BY k, n;"
    "CREATE TABLE b AS SELECT k, window_start, COUNT(DISTINCT n) AS d, APPROX_COUNT_DISTINCT(k) AS x, TOPK(n, 3) AS t "
    "FROM HOP(s, INTERVAL '1' MINUTE, INTERVAL '3' MINUTE) GROUP BY k EMIT FINAL;"
    "CREATE TABLE c AS SELECT k, window_start, MAX(ts) AS last FROM SESSION(s, INTERVAL '1' MINUTE) GROUP BY k;"
    "CREATE STREAM j AS SELECT s.k, n, t.ts FROM s FULL JOIN t ON s.k = t.k AND t.ts BETWEEN s.ts AND s.ts + "
    "INTERVAL '1' MINUTE;"
    "CREATE TABLE r (k TEXT PRIMARY KEY, n INT, ts TIMESTAMP) WITH (partitions = 2, timestamp = 'ts');"
    "CREATE STREAM e AS SELECT s.k, r.n FROM s LEFT JOIN r ON s.k = r.k;"
    "CREATE STREAM f AS SELECT s.k, r.n FROM s JOIN r FOR SYSTEM_TIME AS OF s.ts ON s.k = r.k;"
    "CREATE TABLE r2 (k TEXT PRIMARY KEY, m INT) WITH (partitions = 2);"
    "CREATE TABLE g AS SELECT r.k, r.n, r2.m FROM r FULL JOIN r2 ON r.k = r2.k;";

static int on_row(void *ctx, const weir_relation *r, const weir_value *row, int64_t ts)
{
    (void)ctx; (void)r; (void)row; (void)ts;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const weir_catalog *cat = fuzz_catalog(sql);
    /* both shapes: one engine for all partitions, and a scale-out task's (one partition) */
    for (int single = 0; single < 2; single++) {
        weir_engine_options opt = {.single_partition = single};
        weir_engine *eng;
        weir_err err;
        if (weir_engine_new(cat, &opt, &eng, &err))
            abort();
        if (weir_engine_load(eng, data, size, &err) == WEIR_OK) {
            weir_emit_target t = {NULL, on_row, NULL, on_row};
            const char *rec = "{\"k\":\"x\",\"n\":1,\"u\":2,\"ts\":1000}";
            /* 30 days on: past the windowed tables' retention, so that their listed rows leave */
            const char *later = "{\"k\":\"y\",\"n\":2,\"u\":3,\"ts\":2592000000}";
            weir_engine_push_json(eng, cat->rels[0], single ? 0 : 1, rec, strlen(rec), 0, &t, &err);
            for (uint32_t p = 0; p < (single ? 1u : 2u); p++)
                weir_engine_push_json(eng, cat->rels[0], p, later, strlen(later), 0, &t, &err);
            weir_engine_advance(eng, INT64_MAX, &t, &err);
            weir_buf b = {0};
            weir_engine_save(eng, &b);
            weir_buf_free(&b);
        }
        weir_engine_free(eng);
    }
    return 0;
}
