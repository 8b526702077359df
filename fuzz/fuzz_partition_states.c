/*
 * fuzz_partition_states.c - the partitions' engine states a checkpoint
 * keeps after the pipeline engine's with serve --threads (exec/workers.c:
 * "WPE1", inputs, each named with its partitions and each partition's
 * length-prefixed engine state) on arbitrary bytes: reading must fail
 * cleanly or succeed, never crash or leak; each state it hands out is
 * restored into a partition's engine (one partition) that must keep working.
 */
#include <stdlib.h>
#include <string.h>

#include "exec/runner_internal.h"
#include "fuzz.h"

static const char *sql =
    "CREATE STREAM s (k TEXT, n INT, ts TIMESTAMP) WITH (partitions = 2, key = 'k', timestamp = 'ts');"
    "CREATE TABLE a AS SELECT k, COUNT(*) AS c, SUM(n) AS s FROM s GROUP BY k;"
    "CREATE TABLE b AS SELECT k, window_start, COUNT(DISTINCT n) AS d FROM HOP(s, INTERVAL '1' MINUTE, "
    "INTERVAL '3' MINUTE) GROUP BY k EMIT FINAL;";

static const weir_catalog *cat;

static int on_row(void *ctx, const weir_relation *r, const weir_value *row, int64_t ts)
{
    (void)ctx; (void)r; (void)row; (void)ts;
    return 0;
}

static int load(void *ctx, const char *name, uint32_t name_len, uint32_t parts, uint32_t p, const uint8_t *state,
                uint32_t len, weir_err *err)
{
    (void)ctx; (void)name; (void)name_len;
    if (p >= parts)
        abort(); /* the reader hands out the partitions it read */
    weir_engine_options opt = {.single_partition = true};
    weir_engine *eng;
    if (weir_engine_new(cat, &opt, &eng, err))
        abort();
    int rc = weir_engine_load(eng, state, len, err);
    if (rc == WEIR_OK) {
        weir_emit_target t = {NULL, on_row, NULL, NULL};
        const char *rec = "{\"k\":\"x\",\"n\":1,\"ts\":1000}";
        weir_engine_push_json(eng, cat->rels[0], 0, rec, strlen(rec), 0, &t, err);
        weir_engine_advance(eng, INT64_MAX, &t, err);
    }
    weir_engine_free(eng);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cat = fuzz_catalog(sql);
    weir_reader_buf rd = {data, data + size, false};
    weir_err err;
    workers_read_states(&rd, load, NULL, &err);
    return 0;
}
