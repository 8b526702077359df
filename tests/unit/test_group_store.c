/*
 * test_group_store.c - the engine's aggregation groups in the state store
 * (exec/group_store.c, docs/STATE_STORE.md): a checkpoint writes the
 * groups that changed since the last one and no other, and deletes the
 * windows that closed; an engine attached to the store again (a restart:
 * windowed groups read at once, the others lazily) and fed the rest of the
 * input emits exactly what an engine that never stopped emits; a batch
 * whose transaction failed is written by the next checkpoint; changes
 * written in key order keep their order within a key; LATEST_BY_OFFSET
 * and EARLIEST_BY_OFFSET keep their values (and the records' places)
 * across the restart, CUMULATE windows their panes, and SELECT DISTINCT
 * the tuples it has seen (none emitted again). A checkpoint keeping groups
 * of a query the engine no longer runs is refused.
 */
#include "../tap.h"
#include "store_helpers.h"
#include "exec/engine.h"
#include "state/changes.h"
#include "state/store.h"

static const char *sql =
    "CREATE STREAM src (k TEXT, v INT, ts TIMESTAMP) WITH (partitions = 1, key = 'k', timestamp = 'ts');"
    "CREATE TABLE per_k AS SELECT k, COUNT(*) AS n, SUM(v) AS total, COUNT(DISTINCT v) AS vs, "
    "  LATEST_BY_OFFSET(v) AS last_v, EARLIEST_BY_OFFSET(v) AS first_v FROM src GROUP BY k;"
    "CREATE TABLE per_min AS SELECT k, window_start, COUNT(*) AS n, MAX(v) AS top, LATEST_BY_OFFSET(k) AS last_k, "
    "  EARLIEST_BY_OFFSET(v) AS first_v "
    "  FROM TUMBLE(src, INTERVAL '1' MINUTE) GROUP BY k EMIT FINAL;"
    "CREATE TABLE per_cum AS SELECT k, window_start, window_end, COUNT(*) AS n, LATEST_BY_OFFSET(v) AS last_v "
    "  FROM CUMULATE(src, INTERVAL '1' MINUTE, INTERVAL '3' MINUTE) GROUP BY k EMIT FINAL;"
    "CREATE STREAM pairs AS SELECT DISTINCT k, v, epoch_ms(ts) / 120000 AS m FROM src;";

static weir_err err;
#define CHECK(call) do { if ((call) != WEIR_OK) BAIL("%s: %s", #call, err.msg); } while (0)

static int on_row(void *ctx, const weir_relation *r, const weir_value *row, int64_t ts)
{
    weir_buf *out = ctx;
    if (!out)
        return 0;
    int rc = weir_buf_printf(out, "%s@%lld:", r->name, (long long)ts);
    for (int i = 0; i < r->schema.ncols && !rc; i++)
        rc = weir_value_to_json(out, &row[i]) || weir_buf_append_str(out, ",");
    return rc || weir_buf_append_str(out, "\n");
}

static int on_dead(void *ctx, const weir_relation *src, weir_dead_reason kind, const char *reason, const char *raw, size_t len, int64_t ts)
{
    (void)kind;
    (void)src; (void)raw; (void)len; (void)ts;
    return ctx ? weir_buf_printf(ctx, "dead %s\n", reason) : 0;
}

/* Record i of the input: 6 keys, values repeating, a minute every 50 records. */
static void push(weir_engine *e, const weir_catalog *cat, int from, int to, weir_buf *out)
{
    weir_emit_target t = {out, on_row, on_dead, NULL};
    for (int i = from; i < to; i++) {
        char json[128];
        int n = snprintf(json, sizeof json, "{\"k\":\"key%d\",\"v\":%d,\"ts\":%lld}", i % 6, i % 7,
                         1700000000000LL + (long long)i * 1200);
        CHECK(weir_engine_push_json(e, weir_catalog_find(cat, "src"), 0, json, (size_t)n, 0, &t, &err));
    }
}

/* Removes every group of per_k from the store behind the engine's back. */
static void wipe(weir_store *s)
{
    weir_store_table t;
    weir_store_txn *txn;
    CHECK(weir_store_table_open(s, "groups:per_k", false, &t, &err));
    CHECK(weir_store_begin(s, &txn, &err));
    CHECK(weir_store_clear(txn, t, &err));
    CHECK(weir_store_commit(txn, &err));
}

/* Changes to one key apply in the order added, whatever the key order. */
static bool changes_in_order(weir_store *s)
{
    weir_store_table t;
    weir_store_txn *txn;
    weir_buf b = {0};
    CHECK(weir_store_table_open(s, "changes", true, &t, &err));
    bool added = !weir_changes_add(&b, "k1", 2, "a", 1) && !weir_changes_add(&b, "k2", 2, "b", 1) &&
                 !weir_changes_add(&b, "k1", 2, NULL, 0) && !weir_changes_add(&b, "k0", 2, "x", 1) &&
                 !weir_changes_add(&b, "k1", 2, "c", 1) && !weir_changes_add(&b, "k0", 2, NULL, 0) &&
                 !weir_changes_add(&b, "k9", 2, NULL, 0);
    CHECK(weir_store_begin(s, &txn, &err));
    CHECK(weir_changes_write(txn, t, &b, &err));
    CHECK(weir_store_commit(txn, &err));
    weir_buf_free(&b);
    weir_store_snap *snap;
    const void *v;
    size_t len;
    bool k0, k1, k2;
    char got1 = 0, got2 = 0;
    CHECK(weir_store_snap_begin(s, &snap, &err));
    CHECK(weir_store_snap_get(snap, t, "k0", 2, &v, &len, &k0, &err));
    CHECK(weir_store_snap_get(snap, t, "k1", 2, &v, &len, &k1, &err));
    if (k1)
        got1 = *(const char *)v;
    CHECK(weir_store_snap_get(snap, t, "k2", 2, &v, &len, &k2, &err));
    if (k2)
        got2 = *(const char *)v;
    weir_store_snap_end(snap);
    return added && !k0 && got1 == 'c' && got2 == 'b';
}

static weir_engine *attached(const weir_catalog *cat, weir_store *s)
{
    weir_engine *e;
    CHECK(weir_engine_new(cat, NULL, &e, &err));
    CHECK(weir_engine_attach_store(e, s, &err));
    return e;
}

int main(void)
{
    plan(14);
    weir_arena a = {0};
    weir_catalog cat;
    weir_stmt **st;
    size_t n;
    weir_sql_error e;
    if (weir_sql_parse(sql, strlen(sql), &a, &st, &n, &e) || weir_catalog_build(st, n, &a, &cat, &e))
        BAIL("%s", e.msg);
    char *dir = tap_tmpdir("group_store");
    weir_store *s;
    CHECK(weir_store_open(dir, NULL, &s, &err));

    /* The reference: one engine, no store, no stop. */
    weir_buf want = {0}, got = {0};
    weir_engine *ref;
    CHECK(weir_engine_new(&cat, NULL, &ref, &err));
    push(ref, &cat, 0, 300, NULL);
    push(ref, &cat, 300, 600, &want);
    weir_emit_target wt = {&want, on_row, on_dead, NULL};
    CHECK(weir_engine_advance(ref, INT64_MAX, &wt, &err));

    weir_engine *e1 = attached(&cat, s);
    push(e1, &cat, 0, 200, NULL);
    store_checkpoint(e1, s, true);
    ok(store_count(s, "groups:per_k") == 6 && store_count(s, "groups:per_min") == 6,
       "a checkpoint writes every group: 6 keys, and 6 of the open minute (%llu, %llu)",
       (unsigned long long)store_count(s, "groups:per_k"), (unsigned long long)store_count(s, "groups:per_min"));

    /* Only key0 and key1 change: a checkpoint writes those two and no other. */
    wipe(s);
    push(e1, &cat, 204, 206, NULL); /* 204 % 6 == 0 */
    store_checkpoint(e1, s, true);
    ok(store_count(s, "groups:per_k") == 2, "a checkpoint writes the groups changed since the last one only (%llu of 6)",
       (unsigned long long)store_count(s, "groups:per_k"));
    push(e1, &cat, 200, 204, NULL);
    push(e1, &cat, 206, 212, NULL); /* every key changes again: all 6 back */
    store_checkpoint(e1, s, true);

    /* A failed transaction's batch goes with the next checkpoint. */
    push(e1, &cat, 212, 250, NULL);
    store_checkpoint(e1, s, false);
    push(e1, &cat, 250, 300, NULL); /* minutes 3 and 4 close, 5 opens */
    store_checkpoint(e1, s, true);
    ok(store_count(s, "groups:per_k") == 6, "the groups of a checkpoint that did not commit are written by the next");
    ok(store_count(s, "groups:per_min") == 6, "closed windows are deleted from the store: only the open minute's groups are "
       "left (%llu)", (unsigned long long)store_count(s, "groups:per_min"));
    weir_buf state = {0};
    if (weir_engine_save(e1, &state))
        BAIL("save");
    ok(weir_engine_state_in_store(state.data, state.len) && state.len < 400,
       "the engine's checkpoint state leaves the stored groups out (%zu bytes)", state.len);
    weir_engine_free(e1);

    /* A restart by a weir that no longer runs per_k in this engine (it moved it to other engines): groups of it
     * kept in the checkpoint state (an engine without a store, as a SESSION window's always are) would be left
     * unread, so the checkpoint is refused, saying what to do; with none kept there it is taken, and the counts
     * of the queries the engine does not run are not carried over. */
    weir_engine *plain, *elsewhere;
    weir_buf plain_state = {0};
    CHECK(weir_engine_new(&cat, NULL, &plain, &err));
    push(plain, &cat, 0, 50, NULL);
    if (weir_engine_save(plain, &plain_state))
        BAIL("save");
    bool all_but_k[4] = {false, true, true, true};
    weir_engine_options moved = {.runs = all_but_k};
    CHECK(weir_engine_new(&cat, &moved, &elsewhere, &err));
    int rc = weir_engine_load(elsewhere, plain_state.data, plain_state.len, &err);
    ok(rc == WEIR_EINVAL && strstr(err.msg, "per_k") && strstr(err.msg, "--reset"),
       "a checkpoint keeping groups of a query the engine no longer runs is refused: %s", err.msg);
    weir_engine_free(elsewhere);
    CHECK(weir_engine_new(&cat, &moved, &elsewhere, &err));
    CHECK(weir_engine_attach_store(elsewhere, s, &err));
    CHECK(weir_engine_load(elsewhere, state.data, state.len, &err)); /* e1's groups are in the store */
    weir_query_stats moved_stats;
    weir_engine_query_stats(elsewhere, 0, &moved_stats);
    ok(moved_stats.rows_in == 0, "one whose groups are elsewhere is taken, without the moved query's counts");
    weir_engine_free(elsewhere);
    weir_engine_free(plain);
    weir_buf_free(&plain_state);

    /* A restart: attach (the windows are read at once), load the small state, go on. */
    weir_engine *e2 = attached(&cat, s);
    CHECK(weir_engine_load(e2, state.data, state.len, &err));
    weir_query_stats qs;
    weir_engine_query_stats(e2, 0, &qs);
    ok(qs.groups == 0, "after a restart no keyed group is in memory before it is used (%llu)", (unsigned long long)qs.groups);
    /* The stored keys into the filters of groups memory lacks, 2 a call: from then on (and through the drop below)
     * a key new to memory is looked up only if the filter may hold it; the rows below show none was missed. */
    int calls = 1;
    while (weir_engine_scan_stored(e2, 2) && calls < 10000)
        calls++;
    ok(calls > 3 && calls < 10000, "after a restart the store's group keys go into the filters in chunks (%d calls)", calls);
    push(e2, &cat, 300, 450, &got);
    /* Bounded memory: after a checkpoint the keyed groups leave memory (the
     * windowed ones stay) and come back from the store when next upserted. */
    store_checkpoint(e2, s, true);
    weir_engine_groups_tick(e2);
    weir_budget_ages ages = {0};
    weir_engine_droppable(e2, &ages);
    weir_query_stats wqs, dqs; /* query 3 (pairs, SELECT DISTINCT) is keyed and unwindowed too */
    weir_engine_query_stats(e2, 3, &dqs);
    uint64_t distinct = dqs.groups;
    uint64_t dropped = weir_engine_drop_groups(e2, (weir_budget_cut){0, 1.0});
    weir_engine_query_stats(e2, 0, &qs);
    weir_engine_query_stats(e2, 1, &wqs);
    weir_engine_query_stats(e2, 3, &dqs);
    ok(dropped == 6 + distinct && distinct > 0 && qs.groups == 0 && dqs.groups == 0 && wqs.groups > 0 &&
           ages.bytes[1] > 0,
       "the keyed groups (6, and %llu distinct tuples) leave memory after a checkpoint, the windowed ones stay "
       "(%llu dropped, %llu windowed)", (unsigned long long)distinct, (unsigned long long)dropped,
       (unsigned long long)wqs.groups);
    push(e2, &cat, 450, 600, &got);
    weir_emit_target gt = {&got, on_row, on_dead, NULL};
    CHECK(weir_engine_advance(e2, INT64_MAX, &gt, &err));
    weir_buf_append(&want, "", 1);
    weir_buf_append(&got, "", 1);
    ok(strcmp((char *)want.data, (char *)got.data) == 0, "after the restart and the drop the rows equal an uninterrupted run's (%zu bytes)",
       want.len);
    if (strcmp((char *)want.data, (char *)got.data))
        diag("want:\n%.2000s\ngot:\n%.2000s", (char *)want.data, (char *)got.data);
    /* Record 300 is key0's (v 6); its first record was record 0 (v 0), read before the restart. */
    const char *row = strstr((char *)got.data, "per_k@"), *eol = row ? strchr(row, '\n') : NULL;
    ok(eol && eol - row > 5 && !strncmp(eol - 5, ",6,0,", 5),
       "after the restart LATEST_BY_OFFSET is the new record's value and EARLIEST_BY_OFFSET the one read before: %.*s",
       eol ? (int)(eol - row) : 0, row ? row : "");
    store_checkpoint(e2, s, true);
    ok(store_count(s, "groups:per_min") == 0, "every window closed at the end of input: none left in the store (%llu)",
       (unsigned long long)store_count(s, "groups:per_min"));
    weir_engine_free(e2);
    weir_engine_free(ref);
    ok(changes_in_order(s), "changes are written in key order, those to one key in the order added (put, delete, put)");
    weir_buf_free(&state);
    weir_buf_free(&want);
    weir_buf_free(&got);
    weir_store_close(s);
    tap_rmrf(dir);
    free(dir);
    weir_arena_free(&a);
    return done();
}
