/*
 * fuzz_eval.c - expressions evaluated on records. The input is an
 * expression, a newline, and a JSON record; the expression is planned both
 * as a projection and as a grouped aggregate's argument, and both run
 * through the engine on the record. Nothing may crash or leak.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/engine.h"
#include "fuzz.h"

static int on_row(void *ctx, const weir_relation *r, const weir_value *row, int64_t ts)
{
    (void)ctx; (void)r; (void)row; (void)ts;
    return 0;
}

static int on_dead(void *ctx, const weir_relation *src, weir_dead_reason kind, const char *reason, const char *raw, size_t len, int64_t ts)
{
    (void)kind;
    (void)ctx; (void)src; (void)reason; (void)raw; (void)len; (void)ts;
    return 0;
}

static void run(const char *sql, const char *record, size_t len)
{
    weir_arena a = {0};
    weir_stmt **st;
    size_t n;
    weir_sql_error e;
    weir_catalog cat;
    weir_engine *eng = NULL;
    weir_err err;
    if (weir_sql_parse(sql, strlen(sql), &a, &st, &n, &e) == 0 && weir_catalog_build(st, n, &a, &cat, &e) == 0 &&
        weir_engine_new(&cat, &(weir_engine_options){.chain = true}, &eng, &err) == 0) {
        weir_emit_target t = {NULL, on_row, on_dead, NULL};
        weir_engine_push_json(eng, cat.rels[0], 0, record, len, 0, &t, &err);
        weir_engine_push_json(eng, cat.rels[0], 1, record, len, 60000, &t, &err);
        weir_engine_advance(eng, INT64_MAX, &t, &err);
    }
    weir_engine_free(eng);
    weir_arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nl = memchr(data, '\n', size);
    if (!nl || nl - (const char *)data > 1000)
        return 0;
    int elen = (int)(nl - (const char *)data);
    const char *record = nl + 1;
    size_t rlen = size - (size_t)elen - 1;
    const char *cols = "CREATE STREAM s (i INT, u UINT, d DOUBLE, t TEXT, b BOOL, ts TIMESTAMP, j JSON) WITH (timestamp = 'ts')";
    char sql[1400];
    snprintf(sql, sizeof sql, "%s; CREATE STREAM o AS SELECT %.*s AS x FROM s;", cols, elen, (const char *)data);
    run(sql, record, rlen);
    snprintf(sql, sizeof sql, "%s; CREATE TABLE o AS SELECT t, MAX(%.*s) AS x, COUNT(DISTINCT %.*s) AS y FROM "
                              "HOP(s, INTERVAL '1' MINUTE, INTERVAL '3' MINUTE) GROUP BY t EMIT FINAL;",
             cols, elen, (const char *)data, elen, (const char *)data);
    run(sql, record, rlen);
    snprintf(sql, sizeof sql, "%s; CREATE TABLE o AS SELECT t, MIN(%.*s) AS x, COUNT(*) AS n FROM "
                              "SESSION(s, INTERVAL '2' MINUTE) GRACE INTERVAL '1' MINUTE GROUP BY t;",
             cols, elen, (const char *)data);
    run(sql, record, rlen);
    return 0;
}
