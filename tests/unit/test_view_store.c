/*
 * test_view_store.c - table views kept in the state store (table_view.h,
 * docs/STATE_STORE.md): a view checkpointed to the store and opened again
 * has the same rows and replays nothing, or only the changelog after the
 * store's end; a checkpoint writes the rows upserted since the last one
 * and no other; a store ahead of its changelog (the runner cut it back to
 * an older checkpoint) is emptied and rebuilt, and a read-only reader is
 * told to wait instead; readers on other threads see the table as of one
 * step while steps and checkpoints (on a thread of their own, as the
 * runner's) go on, with rows in memory and in the store.
 *
 * The test plays the runner: each row goes to the changelog stream "t"
 * and to the view, and a checkpoint is the runner's transaction (the
 * view's rows, then _offsets = the changelog's ends).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "../tap.h"
#include "base/clock.h"
#include "exec/table_view.h"
#include "sql/sql.h"
#include "state/offsets.h"
#include "state/rows.h"

static const char *pipeline = "CREATE STREAM s (a UINT, b INT, v INT);"
                              "CREATE TABLE t AS SELECT a, b, MAX(v) AS v FROM s GROUP BY a, b;";

#define NA 200
#define NB 5
#define ABSENT INT64_MIN
#define MAX_EMITS 20000

typedef struct emitted {
    uint64_t a;
    int64_t b, v;
    uint32_t part;
    uint64_t offset;
} emitted;

typedef struct world {
    char dir[300];
    const weir_relation *t;
    weir_log *log;
    weir_store *store;
    weir_stream *changelog;
    weir_table_view *view;
    emitted emits[MAX_EMITS];     /* every row the changelog got, in order */
    size_t nemits;
} world;

static weir_catalog cat;

/* Opens the log, the store (read_only or not) and a view loaded from them. */
static int open_world(world *w, bool read_only, weir_err *err)
{
    char state[400];
    snprintf(state, sizeof state, "%s/state", w->dir);
    weir_store_options so = {.read_only = read_only, .map_bytes = 1 << 20};
    weir_log_options lo = {.read_only = read_only, .fsync = WEIR_FSYNC_NONE}; /* crashes are not this test's */
    weir_stream_config sc = {.partitions = 2};
    int rc = weir_log_open(w->dir, &lo, &w->log, err);
    if (rc == WEIR_OK)
        rc = read_only ? weir_stream_open(w->log, "t", &w->changelog, err)
                       : weir_stream_open_or_create(w->log, "t", &sc, &w->changelog, err);
    if (rc == WEIR_OK)
        rc = weir_store_open(state, &so, &w->store, err);
    if (rc == WEIR_OK)
        rc = weir_view_new(w->t, &w->view, err);
    if (rc == WEIR_OK)
        rc = weir_view_attach(w->view, w->store, err);
    return rc ? rc : weir_view_load(w->view, w->log, read_only, err);
}

static void close_world(world *w)
{
    weir_view_free(w->view);
    weir_store_close(w->store);
    weir_log_close(w->log, NULL);
    w->view = NULL;
    w->store = NULL;
    w->log = NULL;
}

/* A row of the table: to the changelog (not yet committed) and the view. */
static void emit(world *w, uint64_t a, int64_t b, int64_t v)
{
    char json[100];
    int n = snprintf(json, sizeof json, "{\"a\":%llu,\"b\":%lld,\"v\":%lld}", (unsigned long long)a, (long long)b, (long long)v);
    weir_record rec = {.value = (const uint8_t *)json, .value_len = (size_t)n};
    uint32_t part = (uint32_t)(a % 2);
    uint64_t offset;
    weir_value row[3] = {weir_uint(a), weir_int(b), weir_int(v)};
    weir_err err = {0};
    if (w->nemits == MAX_EMITS || weir_stream_append(w->changelog, (int32_t)part, &rec, NULL, &offset, &err) ||
        weir_view_upsert(w->view, row, &err))
        BAIL("emit: %s", err.msg);
    w->emits[w->nemits++] = (emitted){a, b, v, part, offset};
}

static void commit(world *w)
{
    weir_err err = {0};
    if (weir_log_commit(w->log, &err) || weir_view_publish(w->view, &err))
        BAIL("commit: %s", err.msg);
}

/* The runner's part of a checkpoint on the checkpoint's thread: the view's
 * rows and the changelog's ends, committed. */
typedef struct ckpt {
    world *w;
    uint64_t ends[2];
    int rc;
    weir_err err;
} ckpt;

static void *write_checkpoint(void *arg)
{
    ckpt *c = arg;
    weir_store_txn *txn = NULL;
    weir_store_table offsets;
    c->rc = weir_view_checkpoint_seal(c->w->view, &c->err);
    if (c->rc == WEIR_OK)
        c->rc = weir_offsets_table(c->w->store, false, &offsets, &c->err);
    if (c->rc == WEIR_OK)
        c->rc = weir_store_begin(c->w->store, &txn, &c->err);
    if (c->rc == WEIR_OK)
        c->rc = weir_view_checkpoint(c->w->view, txn, &c->err);
    for (uint32_t p = 0; p < 2 && c->rc == WEIR_OK; p++)
        c->rc = weir_offsets_put(txn, offsets, WEIR_OFFSET_OUTPUT, "t", p, c->ends[p], &c->err);
    if (c->rc == WEIR_OK) {
        c->rc = weir_store_commit(txn, &c->err);
        txn = NULL;
    }
    weir_store_abort(txn);
    return NULL;
}

/* Commits the changelog, then checkpoints on a thread of its own while the
 * writer goes on publishing (which it leaves to the checkpoint), as the
 * runner and the runtime do. Views' pending rows are not published first:
 * the checkpoint's thread must. */
static void checkpoint(world *w)
{
    weir_err err = {0};
    ckpt c = {.w = w};
    if (weir_log_commit(w->log, &err))
        BAIL("commit: %s", err.msg);
    for (uint32_t p = 0; p < 2; p++) {
        weir_partition_stats st;
        if (weir_stream_partition_stats(w->changelog, p, &st, &err))
            BAIL("stats: %s", err.msg);
        c.ends[p] = st.end_offset;
    }
    weir_view_checkpoint_begin(w->view);
    pthread_t th;
    if (pthread_create(&th, NULL, write_checkpoint, &c))
        BAIL("pthread_create");
    if (weir_view_publish(w->view, &err))
        BAIL("publish: %s", err.msg);
    pthread_join(th, NULL);
    weir_view_checkpoint_end(w->view, c.rc == WEIR_OK);
    if (c.rc)
        BAIL("checkpoint: %s", c.err.msg);
}

/* The rows the changelog holds below cut[p] (NULL: all), as "a:b:v " text by a, b. */
static void expected(const world *w, const uint64_t *cut, int64_t only_a, char *out, size_t cap, size_t *rows)
{
    static int64_t v[NA][NB];
    for (int a = 0; a < NA; a++)
        for (int b = 0; b < NB; b++)
            v[a][b] = ABSENT;
    for (size_t i = 0; i < w->nemits; i++)
        if (!cut || w->emits[i].offset < cut[w->emits[i].part])
            v[w->emits[i].a][w->emits[i].b] = w->emits[i].v;
    out[0] = '\0';
    size_t len = 0;
    *rows = 0;
    for (int a = 0; a < NA; a++)
        for (int b = 0; b < NB; b++)
            if (v[a][b] != ABSENT && (only_a < 0 || a == only_a)) {
                len += (size_t)snprintf(out + len, cap - len, "%d:%d:%lld ", a, b, (long long)v[a][b]);
                ++*rows;
            }
}

/* The answer of sql over the view, as "a:b:v " text in its order. */
static void answer(weir_table_view *view, const char *sql, char *out, size_t cap)
{
    weir_arena a = {0};
    weir_stmt **st;
    size_t n;
    weir_sql_error e = {0};
    weir_pull p;
    weir_err err = {0};
    weir_pull_run *run = NULL;
    out[0] = '\0';
    if (weir_sql_parse(sql, strlen(sql), &a, &st, &n, &e) || weir_plan_pull(&cat, st[0], &a, &p, &e) ||
        weir_pull_begin(&p, &run, &err) || weir_pull_offer_view(run, view, &err)) {
        snprintf(out, cap, "error: %s%s", e.msg, err.msg);
    } else {
        const weir_value *const *rows;
        size_t got = weir_pull_finish(run, &rows), len = 0;
        for (size_t i = 0; i < got; i++)
            len += (size_t)snprintf(out + len, cap - len, "%llu:%lld:%lld ", (unsigned long long)rows[i][0].u,
                                    (long long)rows[i][1].i, (long long)rows[i][2].i);
    }
    weir_pull_free(run);
    weir_arena_free(&a);
}

/* Whether the view answers as the changelog below cut says: every row,
 * the rows of a few values of a, and the count. */
static bool same_rows(world *w, const uint64_t *cut)
{
    static char want[1 << 16], got[1 << 16];
    size_t rows;
    expected(w, cut, -1, want, sizeof want, &rows);
    answer(w->view, "SELECT a, b, v FROM t ORDER BY a, b", got, sizeof got);
    bool same = !strcmp(want, got) && weir_view_count(w->view) == rows;
    if (!same)
        diag("want %zu rows: %.200s\ngot %zu rows: %.200s", rows, want, weir_view_count(w->view), got);
    for (int a = 0; a < NA && same; a += 13) {
        char sql[100];
        snprintf(sql, sizeof sql, "SELECT a, b, v FROM t WHERE a = %d ORDER BY b", a);
        expected(w, cut, a, want, sizeof want, &rows);
        answer(w->view, sql, got, sizeof got);
        same = !strcmp(want, got);
        if (!same)
            diag("a = %d: want %s, got %s", a, want, got);
    }
    return same;
}

/* The v the store holds for (a, b), read directly; ABSENT if none. */
static int64_t stored_v(world *w, uint64_t a, int64_t b)
{
    weir_value key[3] = {weir_uint(a), weir_int(b), weir_int(0)};
    weir_buf k = {0};
    weir_store_snap *snap;
    weir_store_table tbl;
    weir_err err = {0};
    weir_arena ar = {0};
    const void *val;
    size_t vlen;
    bool found = false;
    weir_value row[3];
    int64_t v = ABSENT;
    if (weir_rows_table(w->store, "t", false, &tbl, &err) || weir_rows_key(w->store, key, w->t->pk, w->t->npk, &k, &err) ||
        weir_store_snap_begin(w->store, &snap, &err))
        BAIL("stored_v: %s", err.msg);
    if (weir_store_snap_get(snap, tbl, k.data, k.len, &val, &vlen, &found, &err) == WEIR_OK && found &&
        weir_rows_decode_keyed("t", &w->t->schema, w->t->pk, w->t->npk, k.data, k.len, val, vlen, row, &ar, &err) == WEIR_OK)
        v = row[2].i;
    weir_store_snap_end(snap);
    weir_arena_free(&ar);
    weir_buf_free(&k);
    return v;
}

/* Writes (a, b, v) into the store behind the view's back, as no checkpoint
 * would, as a row of version 1 (stores written before version 2 hold
 * those: a view reads both). */
static void tamper(world *w, uint64_t a, int64_t b, int64_t v)
{
    weir_value row[3] = {weir_uint(a), weir_int(b), weir_int(v)};
    weir_buf k = {0}, val = {0};
    weir_store_table tbl;
    weir_store_txn *txn;
    weir_err err = {0};
    if (weir_rows_table(w->store, "t", false, &tbl, &err) || weir_rows_key(w->store, row, w->t->pk, w->t->npk, &k, &err) ||
        weir_rows_value(row, 3, &val, &err) || weir_store_begin(w->store, &txn, &err) ||
        weir_store_put(txn, tbl, k.data, k.len, val.data, val.len, &err) || weir_store_commit(txn, &err))
        BAIL("tamper: %s", err.msg);
    weir_buf_free(&k);
    weir_buf_free(&val);
}

static void reopen(world *w)
{
    weir_err err = {0};
    close_world(w);
    if (open_world(w, false, &err))
        BAIL("reopen: %s", err.msg);
}

/* ---- readers beside steps and checkpoints ---- */

/* Step s sets v = s on keys (s % 50, -1) and ((s + 25) % 50, -1), so after
 * step k key j holds the latest step up to k that touched it. */
static int64_t latest(int64_t k, int64_t j)
{
    for (int64_t s = k; s >= 0; s--)
        if (s % 50 == j || (s + 25) % 50 == j)
            return s;
    return ABSENT;
}

typedef struct readers {
    world *w;
    _Atomic bool stop;
    _Atomic int scans, mixed;
} readers;

static void *read_steps(void *arg)
{
    readers *c = arg;
    static _Thread_local char rows[1 << 14];
    while (!atomic_load(&c->stop)) {
        answer(c->w->view, "SELECT a, b, v FROM t WHERE b = -1 ORDER BY a", rows, sizeof rows);
        int64_t v[50], k = -1;
        unsigned long long a;
        long long val;
        int n = 0, used;
        for (const char *at = rows; sscanf(at, "%llu:%*d:%lld %n", &a, &val, &used) == 2 && a < 50; at += used, n++) {
            v[a] = val;
            k = val > k ? val : k;
        }
        bool whole = n == 50;
        for (int j = 0; j < 50 && whole; j++)
            whole = v[j] == latest(k, j);
        if (!whole && !c->mixed)
            diag("a mixed read: %.300s", rows);
        c->mixed += !whole;
        c->scans++;
    }
    return NULL;
}

static void test_readers(world *w)
{
    for (int64_t s = 0; s < 50; s++) /* every key once, in the store */
        emit(w, (uint64_t)s % 50, -1, s), emit(w, (uint64_t)(s + 25) % 50, -1, s);
    commit(w);
    checkpoint(w);
    reopen(w); /* memory empty: readers start with the store's rows alone */
    readers c = {.w = w};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, read_steps, &c);
    /* 1450 steps, and on until the readers have scanned during them (a
     * loaded machine may not run them at first), for up to a minute */
    uint64_t give_up = weir_mono_ns() + 60 * 1000000000ull;
    for (int64_t s = 50; (s < 1500 || atomic_load(&c.scans) < 20) && weir_mono_ns() < give_up; s++) {
        emit(w, (uint64_t)s % 50, -1, s);
        emit(w, (uint64_t)(s + 25) % 50, -1, s);
        if (s % 7 == 0)
            checkpoint(w); /* its thread publishes this step's rows */
        else
            commit(w);
        if (w->nemits > MAX_EMITS - 10)
            break;
    }
    atomic_store(&c.stop, true);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    ok(c.scans > 0 && c.mixed == 0, "readers on two threads see whole steps, from memory and store, while checkpoints "
       "run on a thread of their own (%d scans, %d mixed)", atomic_load(&c.scans), atomic_load(&c.mixed));
}

int main(void)
{
    plan(14);
    weir_arena arena = {0};
    weir_stmt **st;
    size_t n;
    weir_sql_error e;
    weir_err err = {0};
    if (weir_sql_parse(pipeline, strlen(pipeline), &arena, &st, &n, &e) || weir_catalog_build(st, n, &arena, &cat, &e))
        BAIL("%s", e.msg);
    static world w;
    char *base = tap_tmpdir("viewstore");
    snprintf(w.dir, sizeof w.dir, "%s", base);
    w.t = weir_catalog_find(&cat, "t");
    if (open_world(&w, false, &err))
        BAIL("open: %s", err.msg);

    for (int i = 0; i < 4000; i++) /* 1,000 keys, most replaced a few times */
        emit(&w, tap_rand() % NA, (int64_t)(tap_rand() % NB), i);
    checkpoint(&w);
    ok(same_rows(&w, NULL), "a view checkpointed to the store answers as its changelog says");
    reopen(&w);
    ok(weir_view_replayed(w.view) == 0 && same_rows(&w, NULL),
       "opened again it has the same rows, every one read from the store, none replayed (%llu replayed)",
       (unsigned long long)weir_view_replayed(w.view));

    for (int i = 0; i < 500; i++)
        emit(&w, tap_rand() % NA, (int64_t)(tap_rand() % NB), 10000 + i);
    commit(&w);
    reopen(&w);
    ok(weir_view_replayed(w.view) == 500 && same_rows(&w, NULL),
       "rows after the store's end are replayed, and replace the store's rows of their keys (%llu replayed)",
       (unsigned long long)weir_view_replayed(w.view));

    checkpoint(&w);
    uint64_t cut[2]; /* this checkpoint's ends, where the runner cuts back to below */
    for (uint32_t p = 0; p < 2; p++) {
        weir_partition_stats ps;
        if (weir_stream_partition_stats(w.changelog, p, &ps, &err))
            BAIL("stats: %s", err.msg);
        cut[p] = ps.end_offset;
    }
    reopen(&w); /* nothing in memory, nothing dirty */
    emit(&w, 7, 1, 20000);
    tamper(&w, 8, 1, -999); /* a row no checkpoint writes again unless it is upserted */
    checkpoint(&w);
    ok(stored_v(&w, 7, 1) == 20000 && stored_v(&w, 8, 1) == -999,
       "a checkpoint writes the rows upserted since the last one, and no other (upserted %lld, left %lld)",
       (long long)stored_v(&w, 7, 1), (long long)stored_v(&w, 8, 1));
    emit(&w, 8, 1, 20001); /* set it right again */
    emit(&w, 7, 1, 20002);
    emit(&w, 7, 1, 20003);
    checkpoint(&w);
    ok(stored_v(&w, 8, 1) == 20001 && stored_v(&w, 7, 1) == 20003 && same_rows(&w, NULL),
       "a key upserted twice is written with its newest row");

    /* Bounded memory: clean rows leave memory (half of them, then all) and
     * are read from the store; the rows left keep their key index and
     * first-key chains (a = ... reads them), and upserts after a drop,
     * of dropped keys and kept ones, replace the store's rows. */
    for (int i = 0; i < 3000; i++)
        emit(&w, tap_rand() % NA, (int64_t)(tap_rand() % NB), 30000 + i);
    checkpoint(&w);
    weir_view_tick(w.view);
    weir_budget_ages ages = {0};
    weir_view_droppable(w.view, &ages);
    size_t before = weir_view_bytes(w.view), dropped = weir_view_drop(w.view, 0, ages.bytes[0] / 2);
    bool half = dropped > 0 && weir_view_bytes(w.view) < before && same_rows(&w, NULL);
    for (int i = 0; i < 300; i++)
        emit(&w, tap_rand() % NA, (int64_t)(tap_rand() % NB), 40000 + i);
    commit(&w);
    half = half && same_rows(&w, NULL);
    ok(half, "half the clean rows leave memory (%zu, %zu of %zu bytes left): the view answers the same, and after upserts",
       dropped, weir_view_bytes(w.view), before);
    checkpoint(&w);
    weir_view_tick(w.view);
    memset(&ages, 0, sizeof ages);
    weir_view_droppable(w.view, &ages);
    dropped = weir_view_drop(w.view, 0, UINT64_MAX);
    emit(&w, 3, 2, 50000);
    commit(&w);
    ok(dropped > 0 && same_rows(&w, NULL) && stored_v(&w, 3, 2) != 50000,
       "then every clean row leaves (%zu), and a new upsert is read from memory before its checkpoint", dropped);
    checkpoint(&w);

    /* The runner cuts the changelog back to an older checkpoint's ends (its
     * file was not renamed): the store's end is past them. */
    close_world(&w);
    world *ro = calloc(1, sizeof *ro);
    if (!ro)
        BAIL("out of memory");
    weir_log *cutter;
    weir_stream *cs;
    if (weir_log_open(w.dir, NULL, &cutter, &err) || weir_stream_open(cutter, "t", &cs, &err) ||
        weir_stream_truncate(cs, 0, cut[0], &err) || weir_stream_truncate(cs, 1, cut[1], &err) ||
        weir_log_commit(cutter, &err) || weir_log_close(cutter, &err))
        BAIL("cut: %s", err.msg);
    memcpy(ro->dir, w.dir, sizeof w.dir);
    ro->t = w.t;
    ok(open_world(ro, true, &err) == WEIR_EBUSY, "a read-only view finds the store ahead of the changelog and says "
       "to wait: %s", err.msg);
    close_world(ro);
    if (open_world(&w, false, &err))
        BAIL("reopen after the cut: %s", err.msg);
    uint64_t all = cut[0] + cut[1];
    ok(weir_view_replayed(w.view) == all && same_rows(&w, cut),
       "the writer's view empties the store ahead of its changelog and rebuilds it from the changelog (%llu of %llu replayed)",
       (unsigned long long)weir_view_replayed(w.view), (unsigned long long)all);
    int64_t want = ABSENT;
    for (size_t i = 0; i < w.nemits; i++)
        if (w.emits[i].a == 7 && w.emits[i].b == 1 && w.emits[i].offset < cut[w.emits[i].part])
            want = w.emits[i].v;
    ok(stored_v(&w, 7, 1) == ABSENT, "the store was emptied: the rebuilt rows wait in memory for the next checkpoint");
    /* What the test remembers of the changelog follows the cut. */
    size_t kept = 0;
    for (size_t i = 0; i < w.nemits; i++)
        if (w.emits[i].offset < cut[w.emits[i].part])
            w.emits[kept++] = w.emits[i];
    w.nemits = kept;
    checkpoint(&w);
    reopen(&w);
    ok(weir_view_replayed(w.view) == 0 && same_rows(&w, NULL) && stored_v(&w, 7, 1) == want,
       "rebuilt and checkpointed, it opens from the store alone, without the cut tail's rows (%lld, not 20003)",
       (long long)stored_v(&w, 7, 1));

    for (int i = 0; i < 100; i++)
        emit(&w, tap_rand() % NA, (int64_t)(tap_rand() % NB), 30000 + i);
    commit(&w);
    memcpy(ro->dir, w.dir, sizeof w.dir);
    ro->t = w.t;
    memcpy(ro->emits, w.emits, sizeof w.emits);
    ro->nemits = w.nemits;
    bool opened = open_world(ro, true, &err) == WEIR_OK;
    ok(opened && weir_view_replayed(ro->view) == 100 && same_rows(ro, NULL),
       "a read-only view beside the writer reads the store's snapshot and the changelog after it (%llu replayed)",
       opened ? (unsigned long long)weir_view_replayed(ro->view) : 0ULL);
    close_world(ro);
    free(ro);

    checkpoint(&w);
    w.nemits = 0; /* the readers' keys (b = -1) are new */
    test_readers(&w);
    ok(w.nemits > 1000, "%zu rows in steps", w.nemits);
    close_world(&w);
    weir_arena_free(&arena);
    tap_rmrf(base);
    free(base);
    return done();
}
