/*
 * test_expiry_store.c - a windowed table's expiring rows in the state
 * store (exec/expiry_store.c): an engine attached to a store, checkpointed
 * often (records pushed between a seal and its commit and between the
 * commit and the engine hearing of it, so that rows are taken while their
 * batch is in flight; sessions closing together whose ends are out of
 * order; a batch that failed; a restart from a checkpoint) removes exactly
 * the rows, in the order and at the points, of an engine that never
 * stopped and keeps its list in memory;
 * the store holds the rows not yet removed and no other, and the
 * checkpoint's engine state none of them.
 */
#include "../tap.h"
#include "store_helpers.h"
#include "exec/engine.h"
#include "state/store.h"

static const char *sql =
    "CREATE STREAM src (k TEXT, v INT, ts TIMESTAMP) WITH (partitions = 1, key = 'k', timestamp = 'ts');"
    "CREATE TABLE per_min WITH (retention = '3 minutes') AS SELECT k, window_start, COUNT(*) AS n "
    "  FROM TUMBLE(src, INTERVAL '1' MINUTE) GROUP BY k EMIT FINAL;"
    "CREATE TABLE sessions WITH (retention = '2 minutes') AS SELECT k, window_start, COUNT(*) AS n "
    "  FROM SESSION(src, INTERVAL '20' SECOND) GROUP BY k;";

static weir_err err;
#define CHECK(call) do { if ((call) != WEIR_OK) BAIL("%s: %s", #call, err.msg); } while (0)

static int print_row(weir_buf *out, const char *what, const weir_relation *r, const weir_value *row, int64_t ts)
{
    int rc = weir_buf_printf(out, "%s %s@%lld:", what, r->name, (long long)ts);
    for (int i = 0; i < r->schema.ncols && !rc; i++)
        rc = weir_value_to_json(out, &row[i]) || weir_buf_append_str(out, ",");
    return rc || weir_buf_append_str(out, "\n");
}

static int on_row(void *ctx, const weir_relation *r, const weir_value *row, int64_t ts)
{
    return ctx ? print_row(ctx, "row", r, row, ts) : 0;
}

static int on_removed(void *ctx, const weir_relation *r, const weir_value *row, int64_t ts)
{
    return ctx ? print_row(ctx, "removed", r, row, ts) : 0;
}

/* Record i: 5 keys, one every 7 s, a gap of 30 s every 40 records; key0's
 * records have another 15 s later, so its sessions start before key1's and
 * end after them: sessions closing together end out of order. */
static void push(weir_engine *e, const weir_catalog *cat, int from, int to, weir_buf *out)
{
    weir_emit_target t = {out, on_row, NULL, on_removed};
    for (int i = from; i < to; i++) {
        long long ts = 1700000000000LL + (long long)i * 7000 + (long long)(i / 40) * 30000;
        for (int again = 0; again < (i % 5 ? 1 : 2); again++) {
            char json[128];
            int n = snprintf(json, sizeof json, "{\"k\":\"key%d\",\"v\":%d,\"ts\":%lld}", i % 5, i,
                             ts + again * 15000);
            CHECK(weir_engine_push_json(e, weir_catalog_find(cat, "src"), 0, json, (size_t)n, 0, &t, &err));
        }
    }
}

static weir_store_txn *seal(weir_engine *e, weir_store *s, weir_buf *state)
{
    weir_store_txn *txn;
    CHECK(weir_engine_seal_groups(e, &err));
    state->len = 0;
    CHECK(weir_engine_save(e, state));
    CHECK(weir_store_begin(s, &txn, &err));
    CHECK(weir_engine_write_groups(e, txn, &err));
    return txn;
}

/* The checkpoint's thread ends the transaction; the pipeline's thread
 * hears of it later (checkpoint_end). */
static void commit(weir_store_txn *txn, bool ok_)
{
    if (ok_)
        CHECK(weir_store_commit(txn, &err));
    else
        weir_store_abort(txn);
}

static unsigned lines(const weir_buf *b, const char *prefix)
{
    unsigned n = 0;
    for (const char *p = (const char *)b->data; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        n += !strncmp(p, prefix, strlen(prefix));
    return n;
}

int main(void)
{
    plan(5);
    weir_arena a = {0};
    weir_catalog cat;
    weir_stmt **st;
    size_t n;
    weir_sql_error e;
    if (weir_sql_parse(sql, strlen(sql), &a, &st, &n, &e) || weir_catalog_build(st, n, &a, &cat, &e))
        BAIL("%s", e.msg);
    char *dir = tap_tmpdir("expiry_store");
    weir_store *s;
    CHECK(weir_store_open(dir, NULL, &s, &err));

    weir_buf want = {0}, got = {0}, state = {0};
    weir_buf ref_state = {0};
    weir_engine *ref;
    CHECK(weir_engine_new(&cat, NULL, &ref, &err));
    push(ref, &cat, 0, 240, &want);
    CHECK(weir_engine_save(ref, &ref_state));
    push(ref, &cat, 240, 400, &want);
    weir_buf_append(&want, "", 1);

    weir_engine *e1;
    CHECK(weir_engine_new(&cat, NULL, &e1, &err));
    CHECK(weir_engine_attach_store(e1, s, &err));
    bool in_flight_taken = false, committed_taken = false;
    for (int at = 0; at < 240; at += 30) {
        weir_store_txn *txn = seal(e1, s, &state);
        size_t before = got.len;
        push(e1, &cat, at, at + 15, &got); /* while the batch is written */
        in_flight_taken |= memmem(got.data + before, got.len - before, "removed", 7) != NULL;
        commit(txn, at != 90);
        before = got.len;
        push(e1, &cat, at + 15, at + 30, &got); /* committed, the engine not yet told */
        committed_taken |= memmem(got.data + before, got.len - before, "removed", 7) != NULL;
        weir_engine_groups_written(e1, at != 90);
    }
    weir_store_txn *txn = seal(e1, s, &state);
    commit(txn, true);
    weir_engine_groups_written(e1, true);
    ok(in_flight_taken && committed_taken, "rows were removed while their checkpoint's batch was written, and after "
       "it committed before the engine knew");
    uint64_t listed = store_count(s, "expiry:per_min") + store_count(s, "expiry:sessions");
    ok(listed > 10 && state.len + listed * 20 < ref_state.len,
       "the engine's checkpoint state holds none of the %llu rows listed (%zu bytes; %zu with them in memory)",
       (unsigned long long)listed, state.len, ref_state.len);
    weir_engine_free(e1);

    /* A restart from that checkpoint: its state, the store's rows. */
    weir_engine *e2;
    CHECK(weir_engine_new(&cat, NULL, &e2, &err));
    CHECK(weir_engine_attach_store(e2, s, &err));
    CHECK(weir_engine_load(e2, state.data, state.len, &err));
    for (int at = 240; at < 400; at += 40) {
        push(e2, &cat, at, at + 40, &got);
        txn = seal(e2, s, &state);
        commit(txn, true);
        weir_engine_groups_written(e2, true);
    }
    weir_buf_append(&got, "", 1);
    ok(!strcmp((char *)want.data, (char *)got.data), "the rows and removals equal an uninterrupted run's, in order "
       "(%u rows, %u removed)", lines(&want, "row "), lines(&want, "removed "));
    if (strcmp((char *)want.data, (char *)got.data))
        diag("want:\n%s\ngot:\n%s", (char *)want.data, (char *)got.data);
    unsigned minutes = lines(&want, "row per_min") - lines(&want, "removed per_min");
    unsigned sessions = lines(&want, "row sessions") - lines(&want, "removed sessions");
    ok(lines(&want, "removed per_min") > 20 && lines(&want, "removed sessions") > 5,
       "both tables removed rows as their windows aged");
    /* sessions: its rows are shown as they change, so only the closed ones are listed */
    ok(store_count(s, "expiry:per_min") == minutes && store_count(s, "expiry:sessions") < sessions,
       "the store lists the rows not yet removed: %llu of per_min's %u, %llu of sessions' %u (the open ones unlisted)",
       (unsigned long long)store_count(s, "expiry:per_min"), minutes, (unsigned long long)store_count(s, "expiry:sessions"), sessions);
    weir_engine_free(e2);
    weir_engine_free(ref);
    weir_buf_free(&want);
    weir_buf_free(&got);
    weir_buf_free(&state);
    weir_buf_free(&ref_state);
    weir_store_close(s);
    tap_rmrf(dir);
    free(dir);
    weir_arena_free(&a);
    return done();
}
