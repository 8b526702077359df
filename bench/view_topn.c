/*
 * view_topn.c - a top-N pull query over a table view in the state store,
 * in-process (no HTTP, no scheduling between threads): the Collatz
 * /longest_step_chain query (ORDER BY steps DESC, number LIMIT 1) over a
 * `chains` table of N rows (default 100,000: one per number, steps and
 * peak drawn at random; steps from 500 values, so about N/500 rows tie at
 * the top, which the index walk must read whole to break the tie by
 * number, and from 10^6 values, about none), answered from the store's ordered index and by
 * the sorting path (the same query with a WHERE that keeps every row),
 * p50 and p99 of Q queries each: with every row in memory (as after a
 * load), with every row in the store only (after a restart), and with 1%
 * of the rows changed since the last checkpoint.
 *
 *   build/bench/view_topn DIR [N] [Q]
 */
#include <string.h>

#include "bench.h"
#include "exec/table_view.h"
#include "sql/sql.h"

static const char *pipeline =
    "CREATE STREAM \"conjecture.data\" (number UINT, step UINT, value UINT);"
    "CREATE TABLE chains AS SELECT number, MAX(step) AS steps, MAX(value) AS peak FROM \"conjecture.data\" GROUP BY number;"
    "CREATE ENDPOINT 'GET /longest_step_chain' AS SELECT number AS longest, steps FROM chains ORDER BY steps DESC, number LIMIT 1;";

static weir_catalog cat;
static const weir_relation *chains;

typedef struct world {
    char dir[400];
    weir_log *log;
    weir_store *store;
    weir_table_view *view;
} world;

static void die(const char *what, const weir_err *err)
{
    fprintf(stderr, "view_topn: %s: %s\n", what, err->msg);
    exit(1);
}

static void open_world(world *w)
{
    char state[500];
    snprintf(state, sizeof state, "%s/state", w->dir);
    weir_log_options lo = {.fsync = WEIR_FSYNC_NONE};
    weir_stream_config sc = {.partitions = 4};
    weir_stream *changelog;
    weir_err err = {0};
    if (weir_log_open(w->dir, &lo, &w->log, &err) || weir_stream_open_or_create(w->log, "chains", &sc, &changelog, &err) ||
        weir_store_open(state, NULL, &w->store, &err) || weir_view_new(chains, &w->view, &err) ||
        weir_view_attach(w->view, w->store, &err) || weir_view_load(w->view, w->log, false, &err))
        die("open", &err);
}

static void close_world(world *w)
{
    weir_view_free(w->view);
    weir_store_close(w->store);
    weir_log_close(w->log, NULL);
}

static uint64_t spread; /* steps are 100 + a random number below it */

static uint64_t rnd(void)
{
    static uint64_t x = 88172645463325252ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
}

static void upsert(world *w, uint64_t number)
{
    weir_value row[3] = {weir_uint(number), weir_uint(100 + rnd() % spread), weir_uint(rnd() >> 8)};
    weir_err err = {0};
    if (weir_view_upsert(w->view, row, &err))
        die("upsert", &err);
}

static void checkpoint(world *w)
{
    weir_err err = {0};
    weir_store_txn *txn = NULL;
    weir_view_checkpoint_begin(w->view);
    int rc = weir_view_checkpoint_seal(w->view, &err);
    if (rc == WEIR_OK)
        rc = weir_store_begin(w->store, &txn, &err);
    if (rc == WEIR_OK)
        rc = weir_view_checkpoint(w->view, txn, &err);
    if (rc == WEIR_OK) {
        rc = weir_store_commit(txn, &err);
        txn = NULL;
    }
    weir_store_abort(txn);
    weir_view_checkpoint_end(w->view, rc == WEIR_OK);
    if (rc)
        die("checkpoint", &err);
}

/* Q runs of sql: p50 and p99 in microseconds, and the answer's first value. */
static void time_query(world *w, const char *sql, int q, double *p50, double *p99, uint64_t *first)
{
    weir_arena a = {0};
    weir_stmt **st;
    size_t n;
    weir_sql_error e = {0};
    weir_pull p;
    weir_err err = {0};
    if (weir_sql_parse(sql, strlen(sql), &a, &st, &n, &e) || weir_plan_pull(&cat, st[0], &a, &p, &e)) {
        fprintf(stderr, "view_topn: %s\n", e.msg);
        exit(1);
    }
    uint64_t *ns = malloc((size_t)q * sizeof *ns);
    if (!ns)
        exit(1);
    for (int i = 0; i < q; i++) {
        weir_pull_run *run = NULL;
        uint64_t t0 = weir_mono_ns();
        if (weir_pull_begin(&p, &run, &err) || weir_pull_offer_view(run, w->view, &err))
            die("query", &err);
        const weir_value *const *rows;
        if (weir_pull_finish(run, &rows) != 1)
            die("query: no row", &err);
        *first = rows[0][0].u;
        weir_pull_free(run);
        ns[i] = weir_mono_ns() - t0;
    }
    *p50 = (double)bench_percentile(ns, (size_t)q, 50) / 1000;
    *p99 = (double)bench_percentile(ns, (size_t)q, 99) / 1000;
    free(ns);
    weir_arena_free(&a);
}

static void measure(world *w, const char *when, int q)
{
    double i50, i99, s50, s99;
    uint64_t by_index, by_sort;
    time_query(w, "SELECT number AS longest, steps FROM chains ORDER BY steps DESC, number LIMIT 1", q, &i50, &i99, &by_index);
    time_query(w, "SELECT number AS longest, steps FROM chains WHERE steps >= 0 ORDER BY steps DESC, number LIMIT 1",
               q / 20 + 1, &s50, &s99, &by_sort);
    if (by_index != by_sort) {
        fprintf(stderr, "view_topn: %s: the index answers %llu, the sort %llu\n", when, (unsigned long long)by_index,
                (unsigned long long)by_sort);
        exit(1);
    }
    printf("| %s | %.1f | %.1f | %.0f | %.0f | %.0fx |\n", when, i50, i99, s50, s99, s50 / i50);
}

int main(int argc, char **argv)
{
    const char *base = argc > 1 ? argv[1] : "bench-data";
    int nrows = argc > 2 ? atoi(argv[2]) : 100000, q = argc > 3 ? atoi(argv[3]) : 2000;
    weir_arena arena = {0};
    weir_stmt **st;
    size_t n;
    weir_sql_error e;
    if (weir_sql_parse(pipeline, strlen(pipeline), &arena, &st, &n, &e) || weir_catalog_build(st, n, &arena, &cat, &e)) {
        fprintf(stderr, "view_topn: %s\n", e.msg);
        return 1;
    }
    chains = weir_catalog_find(&cat, "chains");
    printf("| %d rows of chains | index p50 µs | index p99 µs | sort p50 µs | sort p99 µs | p50 ratio |\n", nrows);
    printf("|---|---|---|---|---|---|\n");
    static const uint64_t spreads[] = {500, 1000000};
    for (int k = 0; k < 2; k++) {
        static world w;
        spread = spreads[k];
        snprintf(w.dir, sizeof w.dir, "%s/view_topn", base);
        char cmd[1000], label[200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", w.dir, w.dir);
        if (system(cmd))
            return 1;
        open_world(&w);
        for (int i = 0; i < nrows; i++)
            upsert(&w, 10000000000000ull + (uint64_t)i * 7919);
        weir_err err = {0};
        if (weir_view_publish(w.view, &err))
            die("publish", &err);
        checkpoint(&w);
        const char *ties = k ? "steps of 10^6 values" : "steps of 500 values";
        snprintf(label, sizeof label, "%s: all in memory, checkpointed", ties);
        measure(&w, label, q);
        close_world(&w);
        open_world(&w);
        snprintf(label, sizeof label, "%s: in the store only (after a restart)", ties);
        measure(&w, label, q);
        for (int i = 0; i < nrows / 100; i++)
            upsert(&w, 10000000000000ull + (rnd() % (uint64_t)nrows) * 7919);
        if (weir_view_publish(w.view, &err))
            die("publish", &err);
        snprintf(label, sizeof label, "%s: 1%% changed since the checkpoint", ties);
        measure(&w, label, q);
        close_world(&w);
        if (system(cmd))
            return 1;
    }
    weir_arena_free(&arena);
    return 0;
}
