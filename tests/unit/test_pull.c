/*
 * test_pull.c - pull queries over a table view: a query asking for one
 * value of the table's first key (answered from the view's index on it)
 * gives exactly the rows a full scan filtered by the same WHERE gives,
 * under random upserts that replace rows and grow the index many times;
 * conditions the index cannot serve still scan. A run's limits (serve's
 * --query-timeout and --max-result-bytes) stop it with the reason, and
 * ORDER BY ... LIMIT keeps only its LIMIT rows, so it fits where the whole
 * table would not.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "../tap.h"
#include "base/clock.h"
#include "exec/table_view.h"
#include "sql/sql.h"

static const char *pipeline = "CREATE STREAM s (a UINT, b INT, v INT);"
                              "CREATE TABLE t AS SELECT a, b, MAX(v) AS v FROM s GROUP BY a, b;";

/* The answer of sql over the view, as "a:b:v " text in ORDER BY order. */
static void answer(const weir_catalog *cat, weir_table_view *view, const char *sql, bool *keyed, char *out, size_t cap)
{
    weir_arena a = {0};
    weir_stmt **st;
    size_t n;
    weir_sql_error e;
    weir_pull p;
    weir_err err = {0};
    weir_pull_run *run = NULL;
    out[0] = '\0';
    if (weir_sql_parse(sql, strlen(sql), &a, &st, &n, &e) || weir_plan_pull(cat, st[0], &a, &p, &e) ||
        weir_pull_begin(&p, &run, &err) || weir_pull_offer_view(run, view, &err)) {
        snprintf(out, cap, "error: %s%s", e.msg, err.msg);
    } else {
        const weir_value *const *rows;
        size_t got = weir_pull_finish(run, &rows);
        for (size_t i = 0; i < got; i++)
            snprintf(out + strlen(out), cap - strlen(out), "%llu:%lld:%lld ", (unsigned long long)rows[i][0].u,
                     (long long)rows[i][1].i, (long long)rows[i][2].i);
    }
    *keyed = p.has_key;
    weir_pull_free(run);
    weir_arena_free(&a);
}

/* Runs sql over the view under lim; *stop says why it stopped early, if it did. */
static size_t limited(const weir_catalog *cat, weir_table_view *view, const char *sql, const weir_pull_limits *lim,
                      weir_pull_stop *stop, int64_t *first_v)
{
    weir_arena a = {0};
    weir_stmt **st;
    size_t n, got = 0;
    weir_sql_error e;
    weir_pull p;
    weir_err err = {0};
    weir_pull_run *run = NULL;
    *stop = WEIR_PULL_COMPLETE;
    if (!weir_sql_parse(sql, strlen(sql), &a, &st, &n, &e) && !weir_plan_pull(cat, st[0], &a, &p, &e) &&
        !weir_pull_begin(&p, &run, &err)) {
        weir_pull_set_limits(run, lim);
        if (weir_pull_offer_view(run, view, &err) == WEIR_OK) {
            const weir_value *const *rows;
            got = weir_pull_finish(run, &rows);
            *first_v = got ? rows[0][2].i : -1;
        }
        *stop = weir_pull_stopped(run);
    }
    weir_pull_free(run);
    weir_arena_free(&a);
    return got;
}

/* Readers on other threads while the writer replaces every row at each
 * step: a reader sees all rows of one step, never a mix. */
typedef struct snapshot_check {
    const weir_catalog *cat;
    weir_table_view *view;
    _Atomic bool stop;
    _Atomic int scans, mixed;
} snapshot_check;

static void *scan_while_written(void *arg)
{
    snapshot_check *c = arg;
    char rows[1 << 14];
    bool keyed;
    while (!atomic_load(&c->stop)) {
        answer(c->cat, c->view, "SELECT a, b, v FROM t WHERE b = -1", &keyed, rows, sizeof rows);
        long long first = -1, v;
        for (char *at = rows; *at; at = strchr(at, ' ') + 1) {
            if (sscanf(at, "%*u:%*d:%lld", &v) != 1 || (first >= 0 && v != first)) {
                c->mixed++;
                break;
            }
            first = v;
        }
        c->scans++;
    }
    return NULL;
}

static void test_snapshots(const weir_catalog *cat)
{
    weir_table_view *view;
    weir_err err = {0};
    if (weir_view_new(weir_catalog_find(cat, "t"), &view, &err))
        BAIL("view: %s", err.msg);
    snapshot_check c = {.cat = cat, .view = view};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, scan_while_written, &c);
    bool written = true;
    /* 3000 steps, and on until the readers have scanned while it wrote (a
     * loaded machine may not run them at first), for up to a minute */
    uint64_t give_up = weir_mono_ns() + 60 * 1000000000ull;
    for (int step = 0; (step < 3000 || atomic_load(&c.scans) < 20) && written && weir_mono_ns() < give_up; step++) {
        for (uint64_t a = 0; a < 50 && written; a++) {
            weir_value row[3] = {weir_uint(a), weir_int(-1), weir_int(step)};
            written = weir_view_upsert(view, row, &err) == WEIR_OK;
        }
        written = written && weir_view_publish(view, &err) == WEIR_OK;
    }
    atomic_store(&c.stop, true);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    ok(written && c.scans > 0 && c.mixed == 0, "readers on two threads see whole steps only (%d scans, %d mixed)", atomic_load(&c.scans),
       atomic_load(&c.mixed));
    weir_view_free(view);
}

int main(void)
{
    plan(10);
    weir_arena a = {0};
    weir_stmt **st;
    size_t n;
    weir_sql_error e;
    weir_catalog cat;
    if (weir_sql_parse(pipeline, strlen(pipeline), &a, &st, &n, &e) || weir_catalog_build(st, n, &a, &cat, &e))
        return fprintf(stderr, "%s\n", e.msg), 1;
    const weir_relation *t = weir_catalog_find(&cat, "t");
    weir_table_view *view;
    weir_err err = {0};
    ok(weir_view_new(t, &view, &err) == WEIR_OK, "a view of t");
    bool upserts_ok = true;
    for (int i = 0; i < 200000 && upserts_ok; i++) { /* 2,000 values of a, 100 of b: rows replaced often */
        weir_value row[3] = {weir_uint(tap_rand() % 2000), weir_int((int64_t)(tap_rand() % 100)), weir_int(i)};
        upserts_ok = weir_view_upsert(view, row, &err) == WEIR_OK;
        if (i % 5000 == 4999 && upserts_ok) /* readers see the rows once published */
            upserts_ok = weir_view_publish(view, &err) == WEIR_OK;
    }
    ok(upserts_ok, "200000 upserts (%zu rows)", weir_view_count(view));

    static char by_key[1 << 20], by_scan[1 << 20];
    bool keyed, scanned, same = true, all_keyed = true;
    for (int k = 0; k < 2000 && same; k += 7) {
        char q1[200], q2[200];
        snprintf(q1, sizeof q1, "SELECT a, b, v FROM t WHERE a = %d AND v >= 0 ORDER BY b", k);
        snprintf(q2, sizeof q2, "SELECT a, b, v FROM t WHERE a + 0 = %d AND v >= 0 ORDER BY b", k); /* not indexable */
        answer(&cat, view, q1, &keyed, by_key, sizeof by_key);
        answer(&cat, view, q2, &scanned, by_scan, sizeof by_scan);
        same = !strcmp(by_key, by_scan) && by_key[0];
        all_keyed &= keyed && !scanned;
    }
    ok(same, "a = K gives the rows a scan gives, for 286 values of a");
    ok(all_keyed, "a = K is served by the index, a + 0 = K is not");
    answer(&cat, view, "SELECT a, b, v FROM t WHERE 5 = a AND b = 3", &keyed, by_key, sizeof by_key);
    answer(&cat, view, "SELECT a, b, v FROM t WHERE a + 0 = 5 AND b = 3", &scanned, by_scan, sizeof by_scan);
    ok(keyed && !strcmp(by_key, by_scan), "K = a (reversed) is indexed too: %s", by_key);
    answer(&cat, view, "SELECT a, b, v FROM t WHERE a = 99999", &keyed, by_key, sizeof by_key);
    ok(keyed && by_key[0] == '\0', "a value never seen gives no rows");

    weir_pull_stop stop;
    int64_t top;
    weir_pull_limits past = {.deadline_ns = 1}; /* long gone */
    size_t got = limited(&cat, view, "SELECT a, b, v FROM t ORDER BY v DESC", &past, &stop, &top);
    ok(got == 0 && stop == WEIR_PULL_TIMEOUT, "a run past its deadline stops, saying so (%zu rows, stop %d)", got, (int)stop);
    weir_pull_limits small = {.max_bytes = 64 << 10};
    got = limited(&cat, view, "SELECT a, b, v FROM t ORDER BY v DESC", &small, &stop, &top);
    ok(got == 0 && stop == WEIR_PULL_TOO_BIG, "a run holding more than max_bytes stops, saying so (stop %d)", (int)stop);
    got = limited(&cat, view, "SELECT a, b, v FROM t ORDER BY v DESC LIMIT 3", &small, &stop, &top);
    ok(got == 3 && stop == WEIR_PULL_COMPLETE && top == 199999,
       "ORDER BY ... LIMIT 3 keeps 3 rows: it fits the same bound and gives the top row (%zu rows, v %lld)", got, (long long)top);
    weir_view_free(view);
    test_snapshots(&cat);
    weir_arena_free(&a);
    return done();
}
