/*
 * test_view_topn.c - ORDER BY col LIMIT k over a table view answered from
 * the store's ordered index (exec/view_topn.c, state/index.h): the first
 * such query asks for the index and the next checkpoint makes it; then
 * every answer equals the one a scan of every row gives (the same query
 * with a WHERE that keeps every row, which no index answers) and a model
 * of the table: DESC and ASC, ties broken by the rest of the ORDER BY or,
 * with none, as the scan breaks them, NULLs, TEXT, rows updated (their
 * entries move) and removed (theirs go), rows in memory only, after a
 * checkpoint and after a restart, at random. A row written to the store
 * behind the index's back shows that the index, not a scan, answers.
 *
 * The test plays the runner as test_view_store.c does: a checkpoint is
 * the view's seal and its rows in one store transaction.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "../tap.h"
#include "base/clock.h"
#include "exec/table_view.h"
#include "sql/sql.h"
#include "state/index.h"
#include "state/key.h"
#include "state/rows.h"

static const char *pipeline = "CREATE STREAM s (a UINT, v INT, w TEXT);"
                              "CREATE TABLE t AS SELECT a, MAX(v) AS v, MAX(w) AS w FROM s GROUP BY a;"
                              "CREATE ENDPOINT 'GET /top' AS SELECT a, v FROM t ORDER BY v DESC, a LIMIT 3;";

#define NKEYS 300
#define ABSENT INT64_MIN
#define NULL_V (INT64_MIN + 1)

typedef struct world {
    char dir[300];
    const weir_relation *t;
    weir_log *log;
    weir_store *store;
    weir_table_view *view;
    int64_t model[NKEYS];      /* v per key as memory has it (ABSENT: no row; NULL_V: NULL) */
    int64_t stored[NKEYS];     /* as the last checkpoint wrote it */
} world;

static weir_catalog cat;

static void open_world(world *w)
{
    char state[400];
    snprintf(state, sizeof state, "%s/state", w->dir);
    weir_store_options so = {.map_bytes = 1 << 20};
    weir_log_options lo = {.fsync = WEIR_FSYNC_NONE};
    weir_stream_config sc = {.partitions = 1};
    weir_stream *changelog;
    weir_err err = {0};
    if (weir_log_open(w->dir, &lo, &w->log, &err) || weir_stream_open_or_create(w->log, "t", &sc, &changelog, &err) ||
        weir_store_open(state, &so, &w->store, &err) || weir_view_new(w->t, &w->view, &err) ||
        weir_view_attach(w->view, w->store, &err) || weir_view_load(w->view, w->log, false, &err))
        BAIL("open: %s", err.msg);
}

static void close_world(world *w)
{
    weir_view_free(w->view);
    weir_store_close(w->store);
    weir_log_close(w->log, NULL);
}

/* A restart: what no checkpoint wrote is gone (the test writes no changelog). */
static void reopen(world *w)
{
    close_world(w);
    memcpy(w->model, w->stored, sizeof w->model);
    open_world(w);
}

static const char *text_of(int64_t v) /* w: a text that sorts as v does, sometimes longer */
{
    static char buf[64];
    snprintf(buf, sizeof buf, "w%05lld%s", (long long)v, v % 3 ? "" : "-long");
    return buf;
}

static void upsert(world *w, uint64_t a, int64_t v)
{
    weir_value row[3] = {weir_uint(a), v == NULL_V ? weir_null(WEIR_TYPE_INT) : weir_int(v),
                         v == NULL_V ? weir_null(WEIR_TYPE_TEXT) : weir_text(text_of(v), strlen(text_of(v)))};
    weir_err err = {0};
    if (weir_view_upsert(w->view, row, &err) || weir_view_publish(w->view, &err))
        BAIL("upsert: %s", err.msg);
    w->model[a] = v;
}

static void remove_row(world *w, uint64_t a)
{
    weir_value key[3] = {weir_uint(a), weir_null(WEIR_TYPE_INT), weir_null(WEIR_TYPE_TEXT)};
    weir_err err = {0};
    if (weir_view_remove(w->view, key, &err) || weir_view_publish(w->view, &err))
        BAIL("remove: %s", err.msg);
    w->model[a] = ABSENT;
}

/* A checkpoint; fail: its transaction is aborted (as one the disk
 * refused), and the next puts its batch again before its own. */
static void checkpoint_or_fail(world *w, bool fail)
{
    weir_err err = {0};
    weir_store_txn *txn = NULL;
    weir_view_checkpoint_begin(w->view);
    int rc = weir_view_checkpoint_seal(w->view, &err);
    if (rc == WEIR_OK)
        rc = weir_store_begin(w->store, &txn, &err);
    if (rc == WEIR_OK)
        rc = weir_view_checkpoint(w->view, txn, &err);
    if (rc == WEIR_OK && !fail) {
        rc = weir_store_commit(txn, &err);
        txn = NULL;
    }
    weir_store_abort(txn);
    weir_view_checkpoint_end(w->view, rc == WEIR_OK && !fail);
    if (rc)
        BAIL("checkpoint: %s", err.msg);
    if (!fail)
        memcpy(w->stored, w->model, sizeof w->model);
}

static void checkpoint(world *w) { checkpoint_or_fail(w, false); }

/* The answer of sql over the view, as "a:v " text in its order. */
static void answer(world *w, const char *sql, char *out, size_t cap)
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
        weir_pull_begin(&p, &run, &err) || weir_pull_offer_view(run, w->view, &err)) {
        snprintf(out, cap, "error: %s%s", e.msg, err.msg);
    } else {
        const weir_value *const *rows;
        size_t got = weir_pull_finish(run, &rows), len = 0;
        for (size_t i = 0; i < got && len < cap; i++)
            len += rows[i][1].is_null ? (size_t)snprintf(out + len, cap - len, "%llu:null ", (unsigned long long)rows[i][0].u)
                                      : (size_t)snprintf(out + len, cap - len, "%llu:%lld ", (unsigned long long)rows[i][0].u,
                                                         (long long)rows[i][1].i);
    }
    weir_pull_free(run);
    weir_arena_free(&a);
}

/* ORDER BY v DESC, a LIMIT k by the model (NULLs last, as the smallest). */
static void model_answer(const world *w, int k, char *out, size_t cap)
{
    bool taken[NKEYS] = {0};
    size_t len = 0;
    out[0] = '\0';
    for (int got = 0; got < k; got++) {
        int best = -1;
        for (int a = 0; a < NKEYS; a++) {
            if (taken[a] || w->model[a] == ABSENT)
                continue;
            if (best < 0 || (w->model[a] != NULL_V && (w->model[best] == NULL_V || w->model[a] > w->model[best])))
                best = a;
        }
        if (best < 0)
            break;
        taken[best] = true;
        len += w->model[best] == NULL_V ? (size_t)snprintf(out + len, cap - len, "%d:null ", best)
                                        : (size_t)snprintf(out + len, cap - len, "%d:%lld ", best, (long long)w->model[best]);
    }
}

/* The queries compared: the ORDER BY and LIMIT after "SELECT a, v FROM t". */
static const char *const shapes[] = {
    "ORDER BY v DESC, a LIMIT 1", "ORDER BY v DESC, a LIMIT 7", "ORDER BY v DESC LIMIT 7", "ORDER BY v LIMIT 7",
    "ORDER BY v, a DESC LIMIT 40", "ORDER BY w DESC, a LIMIT 5", "ORDER BY w LIMIT 9", "ORDER BY a DESC LIMIT 3",
    "ORDER BY v DESC, a LIMIT 1000",
};
#define NSHAPES (int)(sizeof shapes / sizeof *shapes)

/* Whether every shape answers as the scan does, and the first as the model. */
static bool same_answers(world *w, const char *when)
{
    static char want[1 << 15], got[1 << 15];
    bool same = true;
    for (int i = 0; i < NSHAPES && same; i++) {
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT a, v FROM t WHERE a >= 0 %s", shapes[i]);
        answer(w, sql, want, sizeof want);
        snprintf(sql, sizeof sql, "SELECT a, v FROM t %s", shapes[i]);
        answer(w, sql, got, sizeof got);
        same = !strcmp(want, got) && strncmp(got, "error", 5);
        if (!same)
            diag("%s: %s: scan %.300s\nindex %.300s", when, shapes[i], want, got);
    }
    for (int k = 1; k <= 50 && same; k += 49) {
        char sql[100];
        snprintf(sql, sizeof sql, "SELECT a, v FROM t ORDER BY v DESC, a LIMIT %d", k);
        model_answer(w, k, want, sizeof want);
        answer(w, sql, got, sizeof got);
        same = !strcmp(want, got);
        if (!same)
            diag("%s: model %.300s\nindex %.300s", when, want, got);
    }
    return same;
}

/* Entries in the store's index table (every column's, with their markers). */
static uint64_t index_keys(world *w)
{
    weir_store_table it;
    weir_store_snap *snap;
    uint64_t n = 0;
    weir_err err = {0};
    if (weir_index_table(w->store, "t", false, &it, &err) == WEIR_ENOENT)
        return 0;
    if (weir_store_snap_begin(w->store, &snap, &err) || weir_store_snap_count(snap, it, &n, &err))
        BAIL("count: %s", err.msg);
    weir_store_snap_end(snap);
    return n;
}

static uint64_t rows_now(const world *w)
{
    uint64_t n = 0;
    for (int a = 0; a < NKEYS; a++)
        n += w->model[a] != ABSENT;
    return n;
}

/* Puts the row (a, v) in the store's table, not in its index: only a scan finds it. */
static void tamper(world *w, uint64_t a, int64_t v)
{
    weir_value row[3] = {weir_uint(a), weir_int(v), weir_text("x", 1)};
    weir_store_table tbl;
    weir_store_txn *txn;
    weir_buf key = {0}, val = {0};
    weir_err err = {0};
    if (weir_rows_table(w->store, "t", false, &tbl, &err) || weir_rows_key(w->store, row, w->t->pk, w->t->npk, &key, &err) ||
        weir_rows_value(row, 3, &val, &err) || weir_store_begin(w->store, &txn, &err) ||
        weir_store_put(txn, tbl, key.data, key.len, val.data, val.len, &err) || weir_store_commit(txn, &err))
        BAIL("tamper: %s", err.msg);
    weir_buf_free(&key);
    weir_buf_free(&val);
}

/* A checkpoint's store part on a thread of its own while the writer goes
 * on upserting and publishing (which it leaves to the seal until then),
 * as the runner's checkpoint thread does. */
static _Atomic bool checkpoint_sealed, checkpoint_done;

static void *write_checkpoint(void *arg)
{
    world *w = arg;
    weir_err err = {0};
    weir_store_txn *txn = NULL;
    int rc = weir_view_checkpoint_seal(w->view, &err);
    atomic_store(&checkpoint_sealed, true); /* the writer steps again */
    if (rc == WEIR_OK)
        rc = weir_store_begin(w->store, &txn, &err);
    if (rc == WEIR_OK)
        rc = weir_view_checkpoint(w->view, txn, &err);
    if (rc == WEIR_OK)
        rc = weir_store_commit(txn, &err);
    else
        weir_store_abort(txn);
    if (rc)
        BAIL("checkpoint: %s", err.msg);
    atomic_store(&checkpoint_done, true);
    return NULL;
}

typedef struct readers {
    world *w;
    _Atomic bool stop;
    _Atomic int reads, backwards;
} readers;

/* Every key's v only grows (and the newest row has the largest v): the top row's v and the
 * smallest v never go back between two reads, whatever a checkpoint is doing meanwhile. */
static void *read_tops(void *arg)
{
    readers *c = arg;
    static _Thread_local char top[256], low[256];
    long long last_top = -1, last_low = -1;
    while (!atomic_load(&c->stop)) {
        answer(c->w, "SELECT a, v FROM t ORDER BY v DESC, a LIMIT 1", top, sizeof top);
        answer(c->w, "SELECT a, v FROM t ORDER BY v LIMIT 1", low, sizeof low);
        unsigned long long a;
        long long t, l;
        bool fine = sscanf(top, "%llu:%lld", &a, &t) == 2 && sscanf(low, "%llu:%lld", &a, &l) == 2 && t >= last_top &&
                    l >= last_low;
        if (!fine && !c->backwards)
            diag("went back: top %s after %lld, lowest %s after %lld", top, last_top, low, last_low);
        c->backwards += !fine;
        last_top = fine ? t : last_top;
        last_low = fine ? l : last_low;
        c->reads++;
        sched_yield(); /* the writer's publish takes the view only when no reader holds it */
    }
    return NULL;
}

/* Readers on two threads while steps and checkpoints (on a thread) go on. */
static void test_readers(world *w)
{
    int64_t v = 1000000;
    for (int a = 0; a < NKEYS; a++)
        upsert(w, (uint64_t)a, v++);
    checkpoint(w);
    readers c = {.w = w};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, read_tops, &c);
    uint64_t give_up = weir_mono_ns() + 60 * 1000000000ull;
    for (int s = 0; (s < 1500 || atomic_load(&c.reads) < 50) && weir_mono_ns() < give_up; s++) {
        upsert(w, tap_rand() % NKEYS, v++);
        if (s % 50 == 0) {
            pthread_t ck;
            weir_view_checkpoint_begin(w->view);
            atomic_store(&checkpoint_sealed, false);
            atomic_store(&checkpoint_done, false);
            if (pthread_create(&ck, NULL, write_checkpoint, w))
                BAIL("pthread_create");
            while (!atomic_load(&checkpoint_sealed)) /* as the runner: no step until the seal */
                sched_yield();
            /* steps while the store commits: rows the commit lacks, changed until the next one */
            for (int i = 0; i < 5 || !atomic_load(&checkpoint_done); i++)
                upsert(w, tap_rand() % NKEYS, v++);
            pthread_join(ck, NULL);
            weir_view_checkpoint_end(w->view, true);
            memcpy(w->stored, w->model, sizeof w->model);
            /* the readers read between the commit and the next seal: the rows the commit lacks are memory's only */
            for (int seen = atomic_load(&c.reads); atomic_load(&c.reads) < seen + 4 && weir_mono_ns() < give_up;)
                sched_yield();
        }
    }
    atomic_store(&c.stop, true);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    weir_err err = {0};
    if (weir_view_publish(w->view, &err)) /* rows a reader held back (publish never waits for one) */
        BAIL("publish: %s", err.msg);
    ok(c.reads > 0 && c.backwards == 0, "readers on two threads never see the top or the lowest row go back while "
       "checkpoints run on a thread of their own (%d reads, %d backwards)", atomic_load(&c.reads),
       atomic_load(&c.backwards));
    ok(same_answers(w, "after the readers"), "and then answer as the scan does");
}

int main(void)
{
    plan(17);
    weir_arena arena = {0};
    weir_stmt **st;
    size_t n;
    weir_sql_error e;
    if (weir_sql_parse(pipeline, strlen(pipeline), &arena, &st, &n, &e) || weir_catalog_build(st, n, &arena, &cat, &e))
        BAIL("%s", e.msg);
    static world w;
    char *base = tap_tmpdir("viewtopn");
    snprintf(w.dir, sizeof w.dir, "%s", base);
    free(base);
    w.t = weir_catalog_find(&cat, "t");
    for (int a = 0; a < NKEYS; a++)
        w.model[a] = w.stored[a] = ABSENT;
    open_world(&w);

    for (int a = 0; a < 200; a++) /* values 0..19: many ties */
        upsert(&w, (uint64_t)a, (int64_t)(tap_rand() % 20));
    checkpoint(&w);
    ok(index_keys(&w) == rows_now(&w) + 1, "the index of v an endpoint sorts by is made at start and kept by "
       "every checkpoint, before any query (%llu keys for %llu rows)", (unsigned long long)index_keys(&w),
       (unsigned long long)rows_now(&w));
    ok(same_answers(&w, "before w's and a's index"), "queries by a column without an index are answered by a scan "
       "(and ask for one)");
    checkpoint(&w);
    ok(index_keys(&w) == 3 * (rows_now(&w) + 1), "the next checkpoint makes the indexes asked for, w's and a's: "
       "an entry per row and a marker each (%llu keys for %llu rows)", (unsigned long long)index_keys(&w),
       (unsigned long long)rows_now(&w));
    ok(same_answers(&w, "indexed"), "the index answers as the scan: DESC, ASC, ties, TEXT, the whole table");

    tamper(&w, 250, 1000000);
    char got[1 << 12], want[1 << 12];
    answer(&w, "SELECT a, v FROM t ORDER BY v DESC, a LIMIT 1", got, sizeof got);
    answer(&w, "SELECT a, v FROM t WHERE a >= 0 ORDER BY v DESC, a LIMIT 1", want, sizeof want);
    ok(strcmp(got, "250:1000000 ") && !strcmp(want, "250:1000000 "),
       "a row put behind the index's back is found by a scan only: the index answers (index %s, scan %s)", got, want);
    remove_row(&w, 250); /* set it right: its removal deletes it from the table */
    checkpoint(&w);

    for (int a = 0; a < 50; a++) /* updates in memory only: entries to move */
        upsert(&w, (uint64_t)a, 100 + (int64_t)(tap_rand() % 5));
    upsert(&w, 7, NULL_V);
    for (int a = 50; a < 60; a++)
        remove_row(&w, (uint64_t)a);
    ok(same_answers(&w, "changed in memory"), "rows updated and removed since the checkpoint: memory's rows count, "
       "the store's old ones do not");
    checkpoint(&w);
    ok(same_answers(&w, "changed, checkpointed") && index_keys(&w) == 3 * (rows_now(&w) + 1),
       "checkpointed, the updated rows' entries moved and the removed rows' went (%llu keys, %llu rows)",
       (unsigned long long)index_keys(&w), (unsigned long long)rows_now(&w));

    reopen(&w);
    ok(same_answers(&w, "restarted"), "after a restart the stored index answers at once");
    upsert(&w, 300 - 1, 500);
    remove_row(&w, 0);
    ok(same_answers(&w, "restarted, changed"), "and with rows changed since");

    /* A failed checkpoint's rows go again with the next, newer rows of the same keys after them. */
    for (int a = 100; a < 140; a++)
        upsert(&w, (uint64_t)a, 200 + a % 7);
    checkpoint_or_fail(&w, true);
    ok(same_answers(&w, "after a failed checkpoint"), "a failed checkpoint changes no answer");
    for (int a = 100; a < 120; a++)
        upsert(&w, (uint64_t)a, a % 2 ? 300 : 1);
    checkpoint(&w);
    ok(same_answers(&w, "after a failed checkpoint and one that worked") && index_keys(&w) == 3 * (rows_now(&w) + 1),
       "the next writes both batches: each key's entry follows its newest row (%llu keys, %llu rows)",
       (unsigned long long)index_keys(&w), (unsigned long long)rows_now(&w));

    /* At random: upserts (new keys, moved values, NULLs), removals, checkpoints (some failing) and restarts. */
    bool same = true;
    int rounds = 0;
    for (; rounds < 60 && same; rounds++) {
        int changes = (int)(tap_rand() % 40);
        for (int i = 0; i < changes; i++) {
            uint64_t a = tap_rand() % NKEYS;
            unsigned what = (unsigned)(tap_rand() % 10);
            if (what == 0)
                remove_row(&w, a);
            else
                upsert(&w, a, what == 1 ? NULL_V : (int64_t)(tap_rand() % 30));
        }
        unsigned then = (unsigned)(tap_rand() % 4);
        if (then == 0 || then == 2)
            checkpoint_or_fail(&w, then == 2 && tap_rand() % 2);
        else if (then == 1)
            reopen(&w);
        same = same_answers(&w, "at random");
    }
    ok(same, "%d rounds of random changes, checkpoints (some failed) and restarts: every answer equals the scan's", rounds);
    checkpoint(&w);
    ok(index_keys(&w) == 3 * (rows_now(&w) + 1), "the index holds an entry per row (%llu keys, %llu rows)",
       (unsigned long long)index_keys(&w), (unsigned long long)rows_now(&w));

    /* Every row removed: the index is empty but for its markers, and the answers are empty. */
    for (int a = 0; a < NKEYS; a++)
        if (w.model[a] != ABSENT)
            remove_row(&w, (uint64_t)a);
    checkpoint(&w);
    answer(&w, "SELECT a, v FROM t ORDER BY v DESC LIMIT 3", got, sizeof got);
    ok(index_keys(&w) == 3 && !strcmp(got, ""), "every row removed: the index keeps its markers only (%llu keys), "
       "the answer is empty (%s)", (unsigned long long)index_keys(&w), got);

    /* A marker written for another definition of the table (w as an INT): at the next start the
     * indexes are emptied, the endpoint's made again, the others when asked for. */
    for (int a = 0; a < 100; a++)
        upsert(&w, (uint64_t)a, (int64_t)(tap_rand() % 20));
    checkpoint(&w);
    weir_store_table it;
    weir_store_txn *txn;
    weir_err err = {0};
    weir_value mk[2] = {weir_null(WEIR_TYPE_UINT), weir_uint(2)};
    uint8_t mval[3] = {WEIR_INDEX_VERSION, WEIR_TYPE_INT, 'w'};
    weir_buf key = {0};
    if (weir_index_table(w.store, "t", false, &it, &err) || weir_key_encode(&key, mk, 2, &err) ||
        weir_store_begin(w.store, &txn, &err) || weir_store_put(txn, it, key.data, key.len, mval, 3, &err) ||
        weir_store_commit(txn, &err))
        BAIL("stale marker: %s", err.msg);
    weir_buf_free(&key);
    reopen(&w);
    ok(index_keys(&w) == rows_now(&w) + 1 && same_answers(&w, "after a stale marker"),
       "a marker of another definition of the table empties the indexes at start; the endpoint's is made again "
       "(%llu keys, %llu rows)", (unsigned long long)index_keys(&w), (unsigned long long)rows_now(&w));

    test_readers(&w);

    close_world(&w);
    weir_arena_free(&arena);
    return done();
}
