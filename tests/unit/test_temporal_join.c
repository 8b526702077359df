/*
 * test_temporal_join.c - the temporal join (exec/temporal_join.c) through
 * the engine: each stream record meets its key's table row as of its event
 * time (a tombstone's version removes the row), and the rows do not depend
 * on how the two inputs interleave (each input's own order kept), nor on a
 * checkpoint taken at any record and restored into a fresh engine; a record
 * further behind its partition's watermark than GRACE is a dead letter; a
 * key's versions that no record can meet any more leave once the stream's
 * watermark passes them, though the key is never written or met again.
 */
#include "../tap.h"
#include "exec/engine.h"

static const char *sql =
    "CREATE TABLE r (u TEXT PRIMARY KEY, tier TEXT, ts TIMESTAMP) WITH (partitions = 2, timestamp = 'ts');"
    "CREATE STREAM s (u TEXT, n INT, ts TIMESTAMP) WITH (partitions = 2, key = 'u', timestamp = 'ts');"
    "CREATE STREAM j AS SELECT s.u, n, tier FROM s LEFT JOIN r FOR SYSTEM_TIME AS OF s.ts ON s.u = r.u "
    "GRACE INTERVAL '100' SECOND;";

static int on_row(void *ctx, const weir_relation *r, const weir_value *row, int64_t ts)
{
    if (strcmp(r->name, "j"))
        return 0;
    return weir_buf_printf(ctx, "%.*s:%lld:%.*s@%lld\n", (int)row[0].len, row[0].s, (long long)row[1].i,
                           row[2].is_null ? 1 : (int)row[2].len, row[2].is_null ? "-" : row[2].s, (long long)ts);
}

static int on_dead(void *ctx, const weir_relation *src, weir_dead_reason kind, const char *reason, const char *raw, size_t len, int64_t ts)
{
    (void)kind;
    (void)reason; (void)raw; (void)len;
    return weir_buf_printf(ctx, "dead %s@%lld\n", src->name, (long long)ts);
}

typedef struct rec {
    const char *stream;        /* "r", "s", or "-" for a tombstone of r */
    uint32_t part;
    const char *json;          /* the tombstone's key */
    int64_t ts_ms;             /* the tombstone's time */
} rec;

/* Keys a (partition 0) and b (partition 1); times in epoch seconds. */
static const rec table[] = {
    {"r", 0, "{\"u\":\"a\",\"tier\":\"gold\",\"ts\":1000}", 0},
    {"r", 1, "{\"u\":\"b\",\"tier\":\"bronze\",\"ts\":1000}", 0},
    {"r", 0, "{\"u\":\"a\",\"tier\":\"platinum\",\"ts\":3000}", 0},
    {"-", 1, "b", 4000000},
    {"r", 1, "{\"u\":\"b\",\"tier\":\"silver\",\"ts\":6000}", 0},
    {"r", 0, "{\"u\":\"a\",\"tier\":\"late\",\"ts\":2000}", 0}, /* more than GRACE behind 3000: too late */
    {"r", 0, "{\"u\":\"z\",\"tier\":\"-\",\"ts\":9000}", 0},
    {"r", 1, "{\"u\":\"y\",\"tier\":\"-\",\"ts\":9000}", 0},
};
static const rec stream[] = {
    {"s", 0, "{\"u\":\"a\",\"n\":1,\"ts\":500}", 0},  /* before any version: NULLs */
    {"s", 0, "{\"u\":\"a\",\"n\":2,\"ts\":2500}", 0}, /* gold */
    {"s", 1, "{\"u\":\"b\",\"n\":3,\"ts\":3500}", 0}, /* bronze */
    {"s", 0, "{\"u\":\"a\",\"n\":4,\"ts\":5000}", 0}, /* platinum */
    {"s", 1, "{\"u\":\"b\",\"n\":5,\"ts\":4500}", 0}, /* removed at 4000: NULLs */
    {"s", 0, "{\"u\":\"a\",\"n\":6,\"ts\":3000}", 0}, /* behind 5000 by more than GRACE: too late */
    {"s", 1, "{\"u\":\"b\",\"n\":7,\"ts\":7000}", 0}, /* silver */
};
#define NT (sizeof table / sizeof table[0])
#define NS (sizeof stream / sizeof stream[0])

static weir_engine *engine(const weir_catalog *cat)
{
    weir_engine *e;
    weir_err err;
    if (weir_engine_new(cat, NULL, &e, &err))
        BAIL("%s", err.msg);
    return e;
}

static void push(weir_engine *e, const weir_catalog *cat, const rec *r, const weir_emit_target *t)
{
    weir_err err;
    int rc = r->stream[0] == '-'
                 ? weir_engine_push_tombstone(e, weir_catalog_find(cat, "r"), r->part, r->json, strlen(r->json), r->ts_ms,
                                              t, &err)
                 : weir_engine_push_json(e, weir_catalog_find(cat, r->stream), r->part, r->json, strlen(r->json), 0, t,
                                         &err);
    if (rc)
        BAIL("%s", err.msg);
}

/* Runs both inputs, a table record after every `every` stream records
 * (0: the table first), checkpointing after record `at` (SIZE_MAX: never);
 * the rows sorted, so that only what came out is compared. */
static void run(const weir_catalog *cat, size_t every, size_t at, weir_buf *out)
{
    weir_engine *e = engine(cat);
    weir_emit_target t = {out, on_row, on_dead, NULL};
    weir_err err;
    size_t it = 0, is = 0;
    for (size_t k = 0; it < NT || is < NS; k++) {
        bool take_table = is == NS || (it < NT && (every == 0 || k % (every + 1) == every));
        push(e, cat, take_table ? &table[it++] : &stream[is++], &t);
        if (k == at) {
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
    /* sort the lines */
    weir_buf_append(out, "", 1);
    char *lines[64];
    size_t n = 0;
    for (char *p = strtok((char *)out->data, "\n"); p && n < 64; p = strtok(NULL, "\n"))
        lines[n++] = strdup(p);
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(lines[j - 1], lines[j]) > 0; j--) {
            char *x = lines[j];
            lines[j] = lines[j - 1];
            lines[j - 1] = x;
        }
    out->len = 0;
    for (size_t i = 0; i < n; i++) {
        weir_buf_printf(out, "%s\n", lines[i]);
        free(lines[i]);
    }
    weir_buf_append(out, "", 1);
}

int main(void)
{
    plan(4);
    weir_arena a = {0};
    weir_catalog cat;
    weir_stmt **st;
    size_t n;
    weir_sql_error e;
    if (weir_sql_parse(sql, strlen(sql), &a, &st, &n, &e) || weir_catalog_build(st, n, &a, &cat, &e))
        BAIL("%s", e.msg);

    weir_buf want = {0};
    run(&cat, 0, SIZE_MAX, &want);
    is_str((char *)want.data,
           "a:1:-@500000\na:2:gold@2500000\na:4:platinum@5000000\nb:3:bronze@3500000\nb:5:-@4500000\n"
           "b:7:silver@7000000\ndead r@2000000\ndead s@3000000\n",
           "each record meets its key's row as of its time; a removal; too late records on both sides");
    bool same = true;
    for (size_t every = 1; every <= 3; every++) {
        weir_buf got = {0};
        run(&cat, every, SIZE_MAX, &got);
        if (strcmp((char *)got.data, (char *)want.data)) {
            same = false;
            diag("a table record after every %zu stream records:\n%s", every, (char *)got.data);
        }
        weir_buf_free(&got);
    }
    ok(same, "the same rows however the two inputs interleave");
    same = true;
    for (size_t at = 0; at < NT + NS; at++) {
        weir_buf got = {0};
        run(&cat, 1, at, &got);
        if (strcmp((char *)got.data, (char *)want.data)) {
            same = false;
            diag("checkpoint after record %zu:\n%s", at, (char *)got.data);
        }
        weir_buf_free(&got);
    }
    ok(same, "a checkpoint after any record restores to the same rows as an uninterrupted run");

    /* Retention: 50 versions of k, then only other keys; the horizon (the stream's watermark less GRACE) passes them. */
    weir_engine *r = engine(&cat);
    weir_buf out = {0};
    weir_emit_target t = {&out, on_row, on_dead, NULL};
    for (int i = 0; i < 50; i++) {
        char json[96];
        snprintf(json, sizeof json, "{\"u\":\"k\",\"tier\":\"v%d\",\"ts\":%d}", i, 1000 + i);
        push(r, &cat, &(rec){"r", 0, json, 0}, &t);
    }
    weir_query_stats before, after;
    weir_engine_query_stats(r, 0, &before);
    for (uint32_t p = 0; p < 2; p++) {
        push(r, &cat, &(rec){"r", p, "{\"u\":\"o\",\"tier\":\"x\",\"ts\":2000}", 0}, &t);
        push(r, &cat, &(rec){"s", p, "{\"u\":\"o\",\"n\":9,\"ts\":2000}", 0}, &t);
    }
    weir_engine_query_stats(r, 0, &after);
    ok(before.groups == 50 && after.groups == 5,
       "k's 50 versions are pruned to the one as of the horizon without k being touched (%llu -> %llu entries: "
       "k's one, o's two versions and two waiting records)", (unsigned long long)before.groups,
       (unsigned long long)after.groups);
    weir_engine_free(r);
    weir_buf_free(&out);
    weir_buf_free(&want);
    weir_arena_free(&a);
    return done();
}
