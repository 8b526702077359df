/*
 * test_join.c - the interval join's state (exec/join.c) through the
 * engine: a checkpoint taken at any record and restored into a fresh
 * engine gives the same rows as a run that never stopped; partitions keep
 * their own watermarks; the checkpoint's version word lets a pipeline
 * without joins load a version 1 checkpoint and refuses what it cannot
 * read, saying why.
 */
#include "../tap.h"
#include "exec/engine.h"

static const char *sql =
    "CREATE STREAM c (u TEXT, p INT, ts TIMESTAMP) WITH (partitions = 2, key = 'u', timestamp = 'ts');"
    "CREATE STREAM b (u TEXT, a INT, ts TIMESTAMP) WITH (partitions = 2, key = 'u', timestamp = 'ts');"
    "CREATE STREAM j AS SELECT c.u, p, a FROM c FULL JOIN b ON c.u = b.u AND "
    "b.ts BETWEEN c.ts - INTERVAL '1000' SECOND AND c.ts + INTERVAL '3000' SECOND;";

static int on_row(void *ctx, const weir_relation *r, const weir_value *row, int64_t ts)
{
    weir_buf *out = ctx;
    (void)r;
    return weir_buf_printf(out, "%.*s:%lld:%lld@%lld\n", row[0].is_null ? 1 : (int)row[0].len,
                           row[0].is_null ? "-" : row[0].s, row[1].is_null ? -1LL : (long long)row[1].i,
                           row[2].is_null ? -1LL : (long long)row[2].i, (long long)ts);
}

static int on_dead(void *ctx, const weir_relation *src, weir_dead_reason kind, const char *reason, const char *raw, size_t len, int64_t ts)
{
    (void)kind;
    (void)reason; (void)raw; (void)len;
    return weir_buf_printf(ctx, "dead %s@%lld\n", src->name, (long long)ts);
}

typedef struct rec {
    const char *stream;
    uint32_t part;
    const char *json;
} rec;

/* Keys a and c in partition 0, b in 1; out of order, a late one (a@1000 after c@9000).
 * Times are epoch seconds (numbers below 1e11 read as seconds). */
static const rec input[] = {
    {"c", 0, "{\"u\":\"a\",\"p\":1,\"ts\":1000}"}, {"c", 1, "{\"u\":\"b\",\"p\":2,\"ts\":1500}"},
    {"b", 0, "{\"u\":\"a\",\"a\":10,\"ts\":3000}"}, {"c", 0, "{\"u\":\"a\",\"p\":3,\"ts\":2500}"},
    {"b", 1, "{\"u\":\"b\",\"a\":20,\"ts\":9000}"}, {"c", 0, "{\"u\":\"c\",\"p\":4,\"ts\":9000}"},
    {"c", 0, "{\"u\":\"a\",\"p\":5,\"ts\":1000}"},  {"b", 0, "{\"u\":\"c\",\"a\":30,\"ts\":8500}"},
    {"b", 0, "{\"u\":\"a\",\"a\":40,\"ts\":12000}"}, {"c", 1, "{\"u\":\"b\",\"p\":6,\"ts\":20000}"},
};
#define N (sizeof input / sizeof input[0])

static weir_engine *engine(const weir_catalog *cat)
{
    weir_engine *e;
    weir_err err;
    if (weir_engine_new(cat, NULL, &e, &err))
        BAIL("%s", err.msg);
    return e;
}

/* Runs the input, checkpointing after record `at` into a fresh engine (N: never). */
static void run(const weir_catalog *cat, size_t at, weir_buf *out)
{
    weir_engine *e = engine(cat);
    weir_emit_target t = {out, on_row, on_dead, NULL};
    weir_err err;
    for (size_t i = 0; i < N; i++) {
        const rec *r = &input[i];
        if (weir_engine_push_json(e, weir_catalog_find(cat, r->stream), r->part, r->json, strlen(r->json), 0, &t, &err))
            BAIL("%s", err.msg);
        if (i == at) {
            weir_buf state = {0};
            if (weir_engine_save(e, &state))
                BAIL("save");
            weir_engine_free(e);
            e = engine(cat);
            if (weir_engine_load(e, state.data, state.len, &err))
                BAIL("load: %s", err.msg);
            weir_buf_free(&state);
        }
    }
    if (weir_engine_advance(e, INT64_MAX, &t, &err))
        BAIL("%s", err.msg);
    weir_engine_free(e);
}

int main(void)
{
    plan(7);
    weir_arena a = {0};
    weir_catalog cat, plain;
    weir_stmt **st;
    size_t n;
    weir_sql_error e;
    if (weir_sql_parse(sql, strlen(sql), &a, &st, &n, &e) || weir_catalog_build(st, n, &a, &cat, &e))
        BAIL("%s", e.msg);

    weir_buf want = {0};
    run(&cat, N, &want);
    weir_buf_append(&want, "", 1);
    /* a@1000 and a@2500 meet 10@3000; b@1500 meets nothing (20@9000 is too far);
     * c@9000 meets 30@8500; a@1000 (p 5) is late in partition 0 (watermark 9000);
     * 40@12000 meets nothing; unmatched rows come out as the watermark passes them. */
    is_str((char *)want.data,
           "a:1:10@3000000\na:3:10@3000000\ndead c@1000000\nc:4:30@9000000\nb:2:-1@1500000\n-:-1:20@9000000\n"
           "-:-1:40@12000000\nb:6:-1@20000000\n",
           "INNER pairs, late record, FULL rows with NULLs in watermark order");
    bool same = true;
    for (size_t at = 0; at < N; at++) {
        weir_buf got = {0};
        run(&cat, at, &got);
        weir_buf_append(&got, "", 1);
        if (strcmp((char *)got.data, (char *)want.data)) {
            same = false;
            diag("checkpoint after record %zu:\n%s", at, (char *)got.data);
        }
        weir_buf_free(&got);
    }
    ok(same, "a checkpoint after any record restores to the same rows as an uninterrupted run");

    weir_engine *eng = engine(&cat);
    weir_buf state = {0};
    weir_err err;
    weir_engine_save(eng, &state);
    uint32_t v6 = 0xffff0006u;
    memcpy(state.data, &v6, 4);
    ok(weir_engine_load(eng, state.data, state.len, &err) == WEIR_ECORRUPT && strstr(err.msg, "version 6"),
       "a later checkpoint version is refused by name: %s", err.msg);
    /* Version 1 had no version word: the query count came first. */
    uint32_t one = 1;
    memcpy(state.data, &one, 4);
    ok(weir_engine_load(eng, state.data + 0, 4, &err) == WEIR_ECORRUPT && strstr(err.msg, "predates joins"),
       "a version 1 checkpoint is refused for a pipeline with a join: %s", err.msg);
    weir_engine_free(eng);
    weir_buf_free(&state);

    const char *plain_sql = "CREATE STREAM s (k TEXT, ts TIMESTAMP) WITH (timestamp = 'ts');"
                            "CREATE TABLE t AS SELECT k, COUNT(*) AS n FROM s GROUP BY k;";
    if (weir_sql_parse(plain_sql, strlen(plain_sql), &a, &st, &n, &e) || weir_catalog_build(st, n, &a, &plain, &e))
        BAIL("%s", e.msg);
    eng = engine(&plain);
    weir_emit_target t = {NULL, NULL, NULL, NULL};
    const char *r = "{\"k\":\"x\",\"ts\":5}";
    weir_engine_push_json(eng, plain.rels[0], 0, r, strlen(r), 0, &t, &err);
    weir_engine_save(eng, &state);
    weir_engine_free(eng);
    ok(state.len > 8 && !memcmp(state.data, "\x05\x00\xff\xff", 4), "checkpoints start with version word 5");
    /* The same state as version 1 wrote it: without the version and flags words, the query's two store
     * flags (after its partitions, watermarks, closed_upto and four counters) and its expiry flag (the last
     * byte). */
    uint32_t nparts;
    memcpy(&nparts, state.data + 12, 4);
    size_t flag_at = 16 + 8 * (size_t)nparts + 8 + 32;
    weir_buf v1 = {0};
    weir_buf_append(&v1, state.data + 8, flag_at - 8);
    weir_buf_append(&v1, state.data + flag_at + 2, state.len - flag_at - 3);
    eng = engine(&plain);
    ok(weir_engine_load(eng, v1.data, v1.len, &err) == WEIR_OK, "a version 1 checkpoint loads: %s", err.msg);
    weir_buf_free(&v1);
    weir_query_stats qs;
    weir_engine_query_stats(eng, 0, &qs);
    is_int(qs.groups, 1, "with its state");
    weir_engine_free(eng);
    weir_buf_free(&state);
    weir_buf_free(&want);
    weir_arena_free(&a);
    return done();
}
