/*
 * fuzz_repartition.c - scale-out's repartition records (exec/repartition.h)
 * on arbitrary bytes: the first byte says which reader. 0: the rest is an
 * engine snapshot of a counting task (the repartition stream's origins at
 * its end) to load; 1: the rest is the value of a record's weir-origin
 * header, which the counting task takes; 2: the rest is a record's encoded
 * headers. Each must fail cleanly (an error, a dead letter) or succeed,
 * never crash or leak, and the engine must keep working after.
 */
#include <stdlib.h>
#include <string.h>

#include "exec/engine.h"
#include "exec/repartition.h"
#include "fuzz.h"

static const char *sql =
    "CREATE STREAM s (k TEXT, page TEXT, n INT, ts TIMESTAMP) WITH (partitions = 4, key = 'k', timestamp = 'ts');"
    "CREATE TABLE c AS SELECT page, window_start, COUNT(*) AS c FROM TUMBLE(s, INTERVAL '1' MINUTE) GROUP BY page;";

static int on_row(void *ctx, const weir_relation *r, const weir_value *row, int64_t ts)
{
    (void)ctx; (void)r; (void)row; (void)ts;
    return 0;
}

static int on_dead(void *ctx, const weir_relation *src, weir_dead_reason kind, const char *reason, const char *raw,
                   size_t len, int64_t ts)
{
    (void)ctx; (void)src; (void)kind; (void)reason; (void)raw; (void)len; (void)ts;
    return 0;
}

/* The catalog as serve --scale-out plans it: c reads the repartition stream g.c.repartition. */
static int repartition(weir_catalog *cat, weir_arena *a)
{
    weir_sql_error e;
    return weir_catalog_repartition(cat, a, "g", &e) || !weir_catalog_find(cat, "g.c.repartition");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const weir_catalog *cat = fuzz_catalog_then(sql, repartition);
    const weir_relation *stream = weir_catalog_find(cat, "g.c.repartition");
    weir_engine_options opt = {.single_partition = true};
    weir_engine *eng;
    weir_err err;
    if (size == 0 || weir_engine_new(cat, &opt, &eng, &err))
        return 0;
    weir_emit_target t = {NULL, on_row, on_dead, on_row};
    weir_buf headers = {0};
    const char *value = "{\"k\":\"x\",\"page\":\"p\",\"n\":1,\"ts\":60000}";
    weir_record rec = {.value = (const uint8_t *)value, .value_len = strlen(value), .ts_ms = 0};
    bool ok = true;
    if (data[0] == 0) {
        ok = weir_engine_load(eng, data + 1, size - 1, &err) == WEIR_OK;
        if (weir_headers_add(&headers, WEIR_REPART_HEADER, "1 7 0", 5))
            abort();
    } else if (data[0] == 1) {
        if (weir_headers_add(&headers, WEIR_REPART_HEADER, data + 1, size - 1))
            abort();
    } else if (weir_buf_append(&headers, data + 1, size - 1)) {
        abort();
    }
    rec.headers = headers.data;
    rec.headers_len = headers.len;
    for (int again = 0; ok && again < 2; again++) { /* the second time, a duplicate */
        bool apply;
        uint32_t part;
        if (repart_take(eng, stream, &rec, 1, &t, &apply, &part, &err) == WEIR_OK && apply)
            weir_engine_push_json(eng, stream, part, value, strlen(value), 0, &t, &err);
    }
    if (ok) {
        weir_engine_advance(eng, INT64_MAX, &t, &err);
        weir_buf b = {0};
        weir_engine_save(eng, &b);
        weir_buf_free(&b);
    }
    weir_buf_free(&headers);
    weir_engine_free(eng);
    return 0;
}
