/*
 * test_join_store.c - joins' table rows in the state store
 * (exec/join_store.c, exec/row_map.c; docs/STATE_STORE.md, "Join state
 * in the store"): a checkpoint writes the rows changed since the last one
 * and deletes those that left; an engine attached to the store again (a
 * restart) holds no row until a key is looked up, and fed the rest of the
 * input emits exactly what an engine that never stopped emits, for a
 * stream-table join and a FULL table-table join; a batch whose
 * transaction failed is written by the next checkpoint; rows leave memory
 * under a budget and come back from the store; the checkpoint state
 * leaves the rows out. An interval join's buffered records: a checkpoint
 * puts the records kept and deletes those the watermark dropped, and a
 * restart reads them back: the rows (outer ones too) equal an
 * uninterrupted run's. A temporal join's versions: the same, with the
 * versions its retention pruned deleted from the store, and a key's
 * versions dropped from memory and read back.
 */
#include "../tap.h"
#include "store_helpers.h"
#include "exec/engine.h"
#include "state/store.h"

static const char *sql =
    "CREATE TABLE customers (customer_id TEXT PRIMARY KEY, tier TEXT) WITH (partitions = 1);"
    "CREATE TABLE accounts (customer_id TEXT PRIMARY KEY, balance INT) WITH (partitions = 1);"
    "CREATE STREAM orders (customer_id TEXT, amount INT) WITH (partitions = 1, key = 'customer_id');"
    "CREATE STREAM enriched AS SELECT o.customer_id, o.amount, c.tier FROM orders o "
    "  LEFT JOIN customers c ON o.customer_id = c.customer_id;"
    "CREATE TABLE both_sides AS SELECT c.customer_id, c.tier, a.balance FROM customers c "
    "  FULL JOIN accounts a ON c.customer_id = a.customer_id;";

static const char *interval_sql =
    "CREATE STREAM c (u TEXT, p INT, ts TIMESTAMP) WITH (partitions = 1, key = 'u', timestamp = 'ts');"
    "CREATE STREAM b (u TEXT, a INT, ts TIMESTAMP) WITH (partitions = 1, key = 'u', timestamp = 'ts');"
    "CREATE STREAM j AS SELECT c.u, p, a FROM c FULL JOIN b ON c.u = b.u AND "
    "b.ts BETWEEN c.ts - INTERVAL '10' SECOND AND c.ts + INTERVAL '30' SECOND;";

static const char *temporal_sql =
    "CREATE TABLE r (u TEXT PRIMARY KEY, tier TEXT, ts TIMESTAMP) WITH (partitions = 1, timestamp = 'ts');"
    "CREATE STREAM sv (u TEXT, n INT, ts TIMESTAMP) WITH (partitions = 1, key = 'u', timestamp = 'ts');"
    "CREATE STREAM tj AS SELECT sv.u, n, tier FROM sv LEFT JOIN r FOR SYSTEM_TIME AS OF sv.ts ON sv.u = r.u "
    "GRACE INTERVAL '5' SECOND;";

static weir_err err;
#define CHECK(call) do { if ((call) != WEIR_OK) BAIL("%s: %s", #call, err.msg); } while (0)

static int on_row(void *ctx, const weir_relation *r, const weir_value *row, int64_t ts)
{
    weir_buf *out = ctx;
    (void)ts;
    if (!out)
        return 0;
    int rc = weir_buf_printf(out, "%s:", r->name);
    for (int i = 0; i < r->schema.ncols && !rc; i++)
        rc = weir_value_to_json(out, &row[i]) || weir_buf_append_str(out, ",");
    return rc || weir_buf_append_str(out, "\n");
}

static int on_removed(void *ctx, const weir_relation *r, const weir_value *row, int64_t ts)
{
    (void)ts;
    if (!ctx)
        return 0;
    int rc = weir_buf_printf(ctx, "-%s:", r->name);
    return rc || weir_value_to_json(ctx, &row[r->pk[0]]) || weir_buf_append_str(ctx, "\n");
}

static int on_dead(void *ctx, const weir_relation *src, weir_dead_reason kind, const char *reason, const char *raw,
                   size_t len, int64_t ts)
{
    (void)kind; (void)src; (void)raw; (void)len; (void)ts;
    return ctx ? weir_buf_printf(ctx, "dead %s\n", reason) : 0;
}

/* Record i of the input: customers (a third, every 7th a removal), orders, accounts by turns. */
static void push(weir_engine *e, const weir_catalog *cat, int from, int to, weir_buf *out)
{
    weir_emit_target t = {out, on_row, on_dead, on_removed};
    for (int i = from; i < to; i++) {
        char json[128], key[16];
        const char *rel = i % 3 == 0 ? "customers" : i % 3 == 1 ? "orders" : "accounts";
        int n = i % 3 == 0 ? snprintf(json, sizeof json, "{\"customer_id\":\"c%d\",\"tier\":\"t%d\"}", i % 20, i)
                : i % 3 == 1 ? snprintf(json, sizeof json, "{\"customer_id\":\"c%d\",\"amount\":%d}", i % 25, i)
                             : snprintf(json, sizeof json, "{\"customer_id\":\"c%d\",\"balance\":%d}", i % 16, i);
        if (i % 7 == 0) {
            int k = snprintf(key, sizeof key, "c%d", i % 20);
            CHECK(weir_engine_push_tombstone(e, weir_catalog_find(cat, "customers"), 0, key, (size_t)k, 0, &t, &err));
        } else {
            CHECK(weir_engine_push_json(e, weir_catalog_find(cat, rel), 0, json, (size_t)n, 0, &t, &err));
        }
    }
}

/* Removes every row of a store table behind the engine's back. */
static void wipe(weir_store *s, const char *table)
{
    weir_store_table t;
    weir_store_txn *txn;
    CHECK(weir_store_table_open(s, table, false, &t, &err));
    CHECK(weir_store_begin(s, &txn, &err));
    CHECK(weir_store_clear(txn, t, &err));
    CHECK(weir_store_commit(txn, &err));
}

/* Interval join record i: c or b by turns, 7 keys, a second apart give or take 5. */
static void push_interval(weir_engine *e, const weir_catalog *cat, int from, int to, weir_buf *out)
{
    weir_emit_target t = {out, on_row, on_dead, NULL};
    for (int i = from; i < to; i++) {
        char json[128];
        int n = snprintf(json, sizeof json, "{\"u\":\"k%d\",\"%s\":%d,\"ts\":%lld}", i % 7, i % 2 ? "a" : "p", i,
                         1700000000000LL + (long long)i * 1000 - (i * 7919 % 5000));
        CHECK(weir_engine_push_json(e, weir_catalog_find(cat, i % 2 ? "b" : "c"), 0, json, (size_t)n, 0, &t, &err));
    }
}

/* Temporal join record i: a version of r every third (every 11th a removal), else a
 * record of sv; 6 keys, a second apart give or take 3. */
static void push_temporal(weir_engine *e, const weir_catalog *cat, int from, int to, weir_buf *out)
{
    weir_emit_target t = {out, on_row, on_dead, NULL};
    for (int i = from; i < to; i++) {
        char json[128], key[8];
        long long ts = 1700000000000LL + (long long)i * 1000 - (i * 7919 % 3000);
        int n = i % 3 ? snprintf(json, sizeof json, "{\"u\":\"k%d\",\"n\":%d,\"ts\":%lld}", i % 6, i, ts)
                      : snprintf(json, sizeof json, "{\"u\":\"k%d\",\"tier\":\"t%d\",\"ts\":%lld}", i / 3 % 6, i, ts);
        if (i % 33 == 0) {
            int k = snprintf(key, sizeof key, "k%d", i / 3 % 6);
            CHECK(weir_engine_push_tombstone(e, weir_catalog_find(cat, "r"), 0, key, (size_t)k, ts, &t, &err));
        } else {
            CHECK(weir_engine_push_json(e, weir_catalog_find(cat, i % 3 ? "sv" : "r"), 0, json, (size_t)n, 0, &t, &err));
        }
    }
}

static weir_engine *attached(const weir_catalog *cat, weir_store *s)
{
    weir_engine *e;
    CHECK(weir_engine_new(cat, NULL, &e, &err));
    CHECK(weir_engine_attach_store(e, s, &err));
    return e;
}

static uint64_t rows_in_memory(const weir_engine *e, int query)
{
    weir_query_stats qs;
    weir_engine_query_stats(e, query, &qs);
    return qs.groups;
}

static bool same(weir_buf *want, weir_buf *got, const char *what)
{
    bool eq = want->len == got->len && memcmp(want->data, got->data, want->len) == 0;
    if (!eq)
        diag("%s: want:\n%.*s\ngot:\n%.*s", what, (int)want->len, (char *)want->data, (int)got->len, (char *)got->data);
    return eq;
}

int main(void)
{
    plan(17);
    weir_arena a = {0};
    weir_catalog cat;
    weir_stmt **st;
    size_t n;
    weir_sql_error e;
    if (weir_sql_parse(sql, strlen(sql), &a, &st, &n, &e) || weir_catalog_build(st, n, &a, &cat, &e))
        BAIL("%s", e.msg);
    char *dir = tap_tmpdir("join_store");
    weir_store *s;
    CHECK(weir_store_open(dir, NULL, &s, &err));

    /* The reference: one engine, no store, no stop. */
    weir_buf want = {0}, got = {0};
    weir_engine *ref;
    CHECK(weir_engine_new(&cat, NULL, &ref, &err));
    push(ref, &cat, 0, 300, NULL);
    push(ref, &cat, 300, 600, &want);

    weir_engine *e1 = attached(&cat, s);
    push(e1, &cat, 0, 120, NULL);
    store_checkpoint(e1, s, true);
    uint64_t customers = store_count(s, "join:enriched");
    ok(customers > 0 && customers <= 20 && store_count(s, "join:both_sides:left") == customers &&
           store_count(s, "join:both_sides:right") == 16,
       "a checkpoint writes the tables' rows: %llu customers (twice), 16 accounts", (unsigned long long)customers);

    /* Only c1 changes: a checkpoint writes it and no other. */
    wipe(s, "join:enriched");
    push(e1, &cat, 120, 121, NULL); /* 120 % 20 == 0 but 120 % 7 != 0: c0's row */
    store_checkpoint(e1, s, true);
    ok(store_count(s, "join:enriched") == 1, "a checkpoint writes the rows changed since the last one only (%llu)",
       (unsigned long long)store_count(s, "join:enriched"));
    push(e1, &cat, 121, 200, NULL);
    store_checkpoint(e1, s, true);
    uint64_t before = store_count(s, "join:enriched");
    push(e1, &cat, 210, 211, NULL); /* 210 % 7 == 0: c10 leaves */
    store_checkpoint(e1, s, true);
    ok(store_count(s, "join:enriched") == before - 1, "a row that left is deleted from the store (%llu -> %llu)",
       (unsigned long long)before, (unsigned long long)store_count(s, "join:enriched"));
    push(e1, &cat, 200, 210, NULL);
    push(e1, &cat, 211, 250, NULL);
    /* A failed transaction's batch goes with the next checkpoint. */
    store_checkpoint(e1, s, false);
    wipe(s, "join:both_sides:right");
    store_checkpoint(e1, s, true); /* nothing changed since the one that failed */
    ok(store_count(s, "join:both_sides:right") == 13, "the rows of a checkpoint that did not commit are written by the next "
       "(%llu: the 13 accounts records 200-249 changed)", (unsigned long long)store_count(s, "join:both_sides:right"));
    push(e1, &cat, 250, 300, NULL);
    store_checkpoint(e1, s, true);
    weir_buf state = {0};
    if (weir_engine_save(e1, &state))
        BAIL("save");
    ok(weir_engine_state_in_store(state.data, state.len) && state.len < 200,
       "the engine's checkpoint state leaves the stored rows out (%zu bytes)", state.len);
    weir_engine_free(e1);

    /* A restart: attach, load the small state, go on. */
    weir_engine *e2 = attached(&cat, s);
    CHECK(weir_engine_load(e2, state.data, state.len, &err));
    ok(rows_in_memory(e2, 0) == 0 && rows_in_memory(e2, 1) == 0, "after a restart no row is in memory before it is used");
    push(e2, &cat, 300, 450, &got);
    /* Bounded memory: after a checkpoint the rows leave memory and come back when next looked up. */
    store_checkpoint(e2, s, true);
    weir_engine_groups_tick(e2);
    weir_budget_ages ages = {0};
    weir_engine_droppable(e2, &ages);
    uint64_t dropped = weir_engine_drop_groups(e2, (weir_budget_cut){0, 1.0});
    ok(dropped > 20 && ages.bytes[1] > 0 && rows_in_memory(e2, 0) == 0 && rows_in_memory(e2, 1) == 0,
       "every row the store holds leaves memory after a checkpoint (%llu entries)", (unsigned long long)dropped);
    push(e2, &cat, 450, 600, &got);
    ok(same(&want, &got, "rows"), "after the restart and the drop the rows equal an uninterrupted run's (%zu bytes)",
       want.len);

    /* A version 3 state (rows in the file) loads into an attached engine, and its rows go to the store. */
    weir_engine *e3;
    weir_buf v2 = {0};
    CHECK(weir_engine_new(&cat, NULL, &e3, &err));
    push(e3, &cat, 0, 30, NULL);
    if (weir_engine_save(e3, &v2)) /* no store: version 2, rows in the file */
        BAIL("save");
    weir_engine_free(e3);
    wipe(s, "join:enriched");
    e3 = attached(&cat, s);
    CHECK(weir_engine_load(e3, v2.data, v2.len, &err));
    store_checkpoint(e3, s, true);
    ok(store_count(s, "join:enriched") == rows_in_memory(e3, 0) && store_count(s, "join:enriched") > 0,
       "a state with the rows in the file loads, and the next checkpoint puts them in the store (%llu)",
       (unsigned long long)store_count(s, "join:enriched"));
    weir_engine_free(e3);
    weir_engine_free(e2);
    weir_engine_free(ref);

    /* The interval join. */
    weir_catalog icat;
    if (weir_sql_parse(interval_sql, strlen(interval_sql), &a, &st, &n, &e) || weir_catalog_build(st, n, &a, &icat, &e))
        BAIL("%s", e.msg);
    weir_buf iwant = {0}, igot = {0}, istate = {0};
    weir_emit_target iwt = {&iwant, on_row, on_dead, NULL}, igt = {&igot, on_row, on_dead, NULL};
    CHECK(weir_engine_new(&icat, NULL, &ref, &err));
    push_interval(ref, &icat, 0, 400, &iwant);
    CHECK(weir_engine_advance(ref, INT64_MAX, &iwt, &err));
    weir_engine *i1 = attached(&icat, s);
    push_interval(i1, &icat, 0, 100, &igot);
    store_checkpoint(i1, s, true);
    uint64_t kept = rows_in_memory(i1, 0), stored = store_count(s, "join:j:left") + store_count(s, "join:j:right");
    push_interval(i1, &icat, 100, 200, &igot);
    store_checkpoint(i1, s, true);
    uint64_t kept2 = rows_in_memory(i1, 0), stored2 = store_count(s, "join:j:left") + store_count(s, "join:j:right");
    ok(kept > 40 && stored == kept && stored2 == kept2,
       "a checkpoint puts the buffered records and deletes those the watermark dropped: the store holds what memory "
       "does (%llu, then %llu of 200 records)", (unsigned long long)stored, (unsigned long long)stored2);
    if (weir_engine_save(i1, &istate))
        BAIL("save");
    ok(istate.len < 200, "the checkpoint state leaves the records out (%zu bytes)", istate.len);
    weir_engine_free(i1);
    i1 = attached(&icat, s);
    CHECK(weir_engine_load(i1, istate.data, istate.len, &err));
    push_interval(i1, &icat, 200, 400, &igot);
    CHECK(weir_engine_advance(i1, INT64_MAX, &igt, &err));
    ok(same(&iwant, &igot, "interval join"), "after a restart the interval join's rows, outer ones too, equal an "
       "uninterrupted run's (%zu bytes)", iwant.len);
    weir_engine_free(i1);
    weir_engine_free(ref);
    weir_buf_free(&iwant);
    weir_buf_free(&igot);
    weir_buf_free(&istate);

    /* The temporal join. */
    weir_catalog tcat;
    if (weir_sql_parse(temporal_sql, strlen(temporal_sql), &a, &st, &n, &e) ||
        weir_catalog_build(st, n, &a, &tcat, &e))
        BAIL("%s", e.msg);
    weir_buf twant = {0}, tgot = {0}, tstate = {0};
    weir_emit_target twt = {&twant, on_row, on_dead, NULL}, tgt = {&tgot, on_row, on_dead, NULL};
    CHECK(weir_engine_new(&tcat, NULL, &ref, &err));
    push_temporal(ref, &tcat, 0, 600, &twant);
    CHECK(weir_engine_advance(ref, INT64_MAX, &twt, &err));
    weir_engine *t1 = attached(&tcat, s);
    push_temporal(t1, &tcat, 0, 150, &tgot);
    store_checkpoint(t1, s, true);
    uint64_t vers1 = store_count(s, "join:tj:versions");
    push_temporal(t1, &tcat, 150, 450, &tgot);
    store_checkpoint(t1, s, true);
    uint64_t vers2 = store_count(s, "join:tj:versions");
    ok(vers1 > 0 && vers2 > 0 && vers2 <= 4 * 6 && rows_in_memory(t1, 0) >= vers2,
       "a checkpoint puts the versions, and those retention pruned are deleted: %llu of 50, then %llu of 150 "
       "table records (6 keys)", (unsigned long long)vers1, (unsigned long long)vers2);
    if (weir_engine_save(t1, &tstate))
        BAIL("save");
    ok(tstate.len < 400, "the checkpoint state leaves the versions out (%zu bytes)", tstate.len);
    weir_engine_free(t1);
    t1 = attached(&tcat, s);
    CHECK(weir_engine_load(t1, tstate.data, tstate.len, &err));
    push_temporal(t1, &tcat, 450, 500, &tgot);
    store_checkpoint(t1, s, true);
    weir_engine_groups_tick(t1);
    uint64_t before_drop = rows_in_memory(t1, 0), tdropped = weir_engine_drop_groups(t1, (weir_budget_cut){0, 1.0});
    ok(tdropped > 0 && rows_in_memory(t1, 0) < before_drop,
       "keys' versions leave memory after a checkpoint (%llu keys; %llu -> %llu entries)", (unsigned long long)tdropped,
       (unsigned long long)before_drop, (unsigned long long)rows_in_memory(t1, 0));
    push_temporal(t1, &tcat, 500, 600, &tgot);
    CHECK(weir_engine_advance(t1, INT64_MAX, &tgt, &err));
    ok(same(&twant, &tgot, "temporal join"), "after a restart and the drop (versions read back by key) the temporal "
       "join's rows equal an uninterrupted run's (%zu bytes)", twant.len);
    weir_engine_free(t1);

    /* 128 keys fill half the key table: reading a dropped key's versions back must not grow it under the reader. */
    t1 = attached(&tcat, s);
    weir_buf one = {0};
    weir_emit_target ot = {&one, on_row, on_dead, NULL};
    for (int i = 0; i < 128; i++) {
        char json[128];
        int len = snprintf(json, sizeof json, "{\"u\":\"k%d\",\"tier\":\"late%d\",\"ts\":%lld}", i, i,
                           1800000000000LL + i);
        CHECK(weir_engine_push_json(t1, weir_catalog_find(&tcat, "r"), 0, json, (size_t)len, 0, &ot, &err));
    }
    store_checkpoint(t1, s, true);
    weir_engine_groups_tick(t1);
    weir_engine_drop_groups(t1, (weir_budget_cut){0, 1.0});
    uint64_t kept_versions = rows_in_memory(t1, 0);
    const char *rec = "{\"u\":\"k77\",\"n\":7,\"ts\":1800000000500}";
    CHECK(weir_engine_push_json(t1, weir_catalog_find(&tcat, "sv"), 0, rec, strlen(rec), 0, &ot, &err));
    CHECK(weir_engine_advance(t1, INT64_MAX, &ot, &err));
    weir_buf_append(&one, "", 1);
    ok(kept_versions < 128 && strstr((char *)one.data, "tj:\"k77\",7,\"late77\",") != NULL,
       "with 128 keys, a dropped key's versions read back meet the record (%llu versions were left in memory)",
       (unsigned long long)kept_versions);
    if (!strstr((char *)one.data, "tj:\"k77\""))
        diag("%s", (char *)one.data);
    weir_buf_free(&one);
    weir_engine_free(t1);
    weir_engine_free(ref);
    weir_buf_free(&twant);
    weir_buf_free(&tgot);
    weir_buf_free(&tstate);
    weir_buf_free(&v2);
    weir_buf_free(&state);
    weir_buf_free(&want);
    weir_buf_free(&got);
    weir_store_close(s);
    tap_rmrf(dir);
    free(dir);
    weir_arena_free(&a);
    return done();
}
