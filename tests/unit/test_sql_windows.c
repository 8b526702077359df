/*
 * test_sql_windows.c - the planner's side of Flink's window table-valued
 * functions and group windows, CUMULATE, SELECT DISTINCT and
 * LATEST/EARLIEST_BY_OFFSET: a TVF or a GROUP BY TUMBLE(ts, ...) plans into
 * the same query as weir's own window form (kind, sizes,
 * keys, emission), the window columns in GROUP BY are no keys, DISTINCT is
 * a grouping by the selected columns, the aggregates take their slots; and
 * mistakes in the new grammar are reported at the right line:column.
 */
#include "../tap.h"
#include "sql/plan.h"

static const char *stream =
    "CREATE STREAM s (k TEXT, page TEXT, v INT, ts TIMESTAMP) WITH (key = 'k', timestamp = 'ts');\n";

/* The catalog of stream + sql (its queries after the stream's), in a, or NULL with the error in e. */
static weir_catalog *build(weir_arena *a, const char *sql, weir_sql_error *e)
{
    weir_catalog *cat = weir_arena_alloc(a, sizeof *cat);
    char text[4096];
    snprintf(text, sizeof text, "%s%s", stream, sql);
    weir_stmt **st;
    size_t n;
    memset(e, 0, sizeof *e);
    if (!cat || weir_sql_parse(text, strlen(text), a, &st, &n, e) || weir_catalog_build(st, n, a, cat, e))
        return NULL;
    return cat;
}

static bool same_window(const weir_query *x, const weir_query *y)
{
    return x->window.kind == y->window.kind && x->window.size_ms == y->window.size_ms &&
           x->window.slide_ms == y->window.slide_ms && x->window.gap_ms == y->window.gap_ms &&
           x->window.grace_ms == y->window.grace_ms && x->window.cumulate == y->window.cumulate &&
           x->emit == y->emit && x->nkeys == y->nkeys && x->naggs == y->naggs && x->nslots == y->nslots &&
           x->output->npk == y->output->npk;
}

static const struct { const char *sql; unsigned line, col; const char *msg; } errors[] = {
    {"CREATE TABLE t AS SELECT COUNT(*) AS n FROM TABLE(TUMBLE(TABLE s, ts, INTERVAL '1' MINUTE))", 2, 67,
     "expected DESCRIPTOR (the time column) after the stream, found 'ts'"},
    {"CREATE TABLE t AS SELECT COUNT(*) AS n FROM TABLE(TUMBLE(TABLE s, DESCRIPTOR(ts, k), INTERVAL '1' MINUTE))", 2, 80,
     "expected ')' after the time column (DESCRIPTOR takes one)"},
    {"CREATE TABLE t AS SELECT COUNT(*) AS n FROM TABLE(HOP(TABLE s, DESCRIPTOR(ts), INTERVAL '1' MINUTE))", 2, 99,
     "expected ',' and the window size after the slide"},
    {"CREATE TABLE t AS SELECT COUNT(*) AS n FROM TABLE(TUMBLE(TABLE s, DESCRIPTOR(ts), INTERVAL '1' MINUTE)", 2, 103,
     "expected ')' to close TABLE(...)"},
    {"CREATE TABLE t AS SELECT COUNT(*) AS n FROM CUMULATE(s, INTERVAL '1' MINUTE)", 2, 76,
     "expected ',' and the window size after the step"},
    {"CREATE TABLE t AS SELECT COUNT(*) AS n FROM TABLE(SESSION(TABLE s PARTITION BY (k, v), DESCRIPTOR(ts), "
     "INTERVAL '1' MINUTE)) GROUP BY k, window_start, window_end", 2, 84,
     "SESSION's PARTITION BY v: sessions are kept per group, so GROUP BY must name v too"},
    {"CREATE TABLE t AS SELECT k, LATEST_BY_OFFSET(v, TRUE, 3) AS l FROM s GROUP BY k", 2, 29,
     "latest_by_offset takes a column and optionally whether to ignore NULLs"},
    {"CREATE TABLE t AS SELECT k, window_start, COUNT(*) AS n FROM s GROUP BY k, window_start", 2, 76,
     "window_start is only defined in a windowed query (FROM TUMBLE(s, ...) or TABLE(TUMBLE(TABLE s, ...)), HOP, CUMULATE, SESSION)"},
};

int main(void)
{
    size_t ne = sizeof errors / sizeof errors[0];
    plan((int)(10 + 2 * ne));
    weir_arena a = {0};
    weir_sql_error e;

    /* Each TVF beside weir's form of the same window. */
    const char *pairs =
        "CREATE TABLE t1 AS SELECT k, window_start, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE s, DESCRIPTOR(ts), "
        "  INTERVAL '1' MINUTE)) GRACE INTERVAL '5' SECOND GROUP BY window_start, window_end, k;\n"
        "CREATE TABLE n1 AS SELECT k, window_start, COUNT(*) AS n FROM TUMBLE(s, INTERVAL '1' MINUTE) "
        "  GRACE INTERVAL '5' SECOND GROUP BY k EMIT FINAL;\n"
        "CREATE TABLE t2 AS SELECT k, window_start, SUM(v) AS n FROM TABLE(HOP(TABLE s, DESCRIPTOR(ts), "
        "  INTERVAL '1' MINUTE, INTERVAL '3' MINUTE)) GROUP BY k, window_start, window_end EMIT CHANGES;\n"
        "CREATE TABLE n2 AS SELECT k, window_start, SUM(v) AS n FROM HOP(s, INTERVAL '1' MINUTE, INTERVAL '3' MINUTE) "
        "  GROUP BY k;\n"
        "CREATE TABLE t3 AS SELECT k, window_start, MAX(v) AS n FROM TABLE(SESSION(TABLE s PARTITION BY k, "
        "  DESCRIPTOR(ts), INTERVAL '30' SECOND)) GROUP BY k, window_start, window_end;\n"
        "CREATE TABLE n3 AS SELECT k, window_start, MAX(v) AS n FROM SESSION(s, INTERVAL '30' SECOND) GROUP BY k "
        "  EMIT FINAL;\n"
        "CREATE TABLE t4 AS SELECT k, window_start, window_end, AVG(v) AS n FROM TABLE(CUMULATE(TABLE s, "
        "  DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '1' HOUR)) GROUP BY k, window_start, window_end;\n"
        "CREATE TABLE n4 AS SELECT k, window_start, window_end, AVG(v) AS n FROM CUMULATE(s, INTERVAL '1' MINUTE, "
        "  INTERVAL '1' HOUR) GROUP BY k, window_start EMIT FINAL;\n";
    weir_catalog *cat = build(&a, pairs, &e);
    if (!cat)
        BAIL("%u:%u: %s", e.line, e.col, e.msg);
    static const char *const names[] = {"TUMBLE", "HOP with EMIT CHANGES", "SESSION with PARTITION BY", "CUMULATE"};
    for (int i = 0; i < 4; i++)
        ok(same_window(cat->queries[2 * i], cat->queries[2 * i + 1]) && cat->queries[2 * i]->nkeys == 1,
           "TABLE(%s(TABLE s, DESCRIPTOR(ts), ...)) plans as weir's form: one key, the same window and emission", names[i]);
    const weir_query *cq = cat->queries[6];
    const char *groups =
        "CREATE TABLE g1 AS SELECT k, TUMBLE_START(ts, INTERVAL '1' MINUTE) AS ws, COUNT(*) AS n FROM s "
        "  GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), k;\n"
        "CREATE TABLE g2 AS SELECT k, HOP_START(ts, INTERVAL '1' MINUTE, INTERVAL '3' MINUTE) AS ws, SUM(v) AS n FROM s "
        "  GROUP BY k, HOP(ts, INTERVAL '1' MINUTE, INTERVAL '3' MINUTE) EMIT CHANGES;\n"
        "CREATE TABLE g3 AS SELECT k, SESSION_START(ts, INTERVAL '30' SECOND) AS ws, MAX(v) AS n FROM s "
        "  GROUP BY k, SESSION(ts, INTERVAL '30' SECOND);\n"
        "CREATE TABLE g4 AS SELECT k, CUMULATE_START(ts, INTERVAL '1' MINUTE, INTERVAL '1' HOUR) AS ws, "
        "  CUMULATE_END(ts, INTERVAL '1' MINUTE, INTERVAL '1' HOUR) AS we, AVG(v) AS n "
        "  FROM s GROUP BY k, CUMULATE(ts, INTERVAL '1' MINUTE, INTERVAL '1' HOUR);\n";
    weir_arena b = {0};
    weir_sql_error ge;
    weir_catalog *gcat = build(&b, groups, &ge);
    bool same = gcat != NULL;
    for (int i = 0; i < 4 && same; i++) {
        weir_query g = *gcat->queries[i];
        g.window.grace_ms = cat->queries[2 * i + 1]->window.grace_ms; /* a group window has no GRACE */
        same = same_window(&g, cat->queries[2 * i + 1]);
    }
    ok(same, "GROUP BY TUMBLE(ts, ...), HOP, SESSION, CUMULATE plan as weir's forms%s%s", gcat ? "" : ": ", gcat ? "" : ge.msg);
    weir_arena_free(&b);
    ok(cq->window.kind == WEIR_WINDOW_HOP && cq->window.cumulate && cq->window.slide_ms == 60000 &&
           cq->window.size_ms == 3600000 && cq->emit == WEIR_EMIT_FINAL && cq->output->npk == 3,
       "CUMULATE: HOP's panes, the step as slide, the largest window as size, EMIT FINAL by default; its table's "
       "rows named by key, window_start and window_end (its windows share starts)");

    const char *more =
        "CREATE TABLE d AS SELECT DISTINCT k, lower(page) AS p FROM s;\n"
        "CREATE TABLE l AS SELECT k, LATEST_BY_OFFSET(page) AS a, EARLIEST_BY_OFFSET(v, FALSE) AS b, "
        "  LATEST_BY_OFFSET(page) AS c, COUNT(*) AS n, window_time FROM TUMBLE(s, INTERVAL '1' MINUTE) GROUP BY k;\n";
    weir_arena_reset(&a);
    cat = build(&a, more, &e);
    if (!cat)
        BAIL("%u:%u: %s", e.line, e.col, e.msg);
    const weir_query *d = cat->queries[0], *l = cat->queries[1];
    ok(d->grouped && d->distinct && d->nkeys == 2 && d->naggs == 0 && d->output->npk == 2,
       "SELECT DISTINCT k, lower(page): grouped by both columns, both the table's key");
    ok(l->naggs == 3 && l->aggs[0].fn == WEIR_AGG_LATEST_BY_OFFSET && l->aggs[1].fn == WEIR_AGG_EARLIEST_BY_OFFSET &&
           l->aggs[1].keep_nulls && !l->aggs[0].keep_nulls && l->nslots == 5 && l->aggs[1].slot == 2 &&
           l->aggs[0].type == WEIR_TYPE_TEXT,
       "LATEST/EARLIEST_BY_OFFSET take two slots each (value, order); the same call shares one; FALSE keeps NULLs");
    ok(l->out[5]->kind == WEIR_E_SLOT && l->out[5]->slot == l->nkeys + l->naggs + 2 &&
           l->output->schema.cols[5].type == WEIR_TYPE_TIMESTAMP, "window_time reads the grouped row's third window slot");

    const char *pull = "SELECT DISTINCT k FROM d";
    weir_stmt **st;
    size_t n;
    weir_pull p;
    ok(weir_sql_parse(pull, strlen(pull), &a, &st, &n, &e) == 0 && weir_plan_pull(cat, st[0], &a, &p, &e) != 0 &&
           strstr(e.msg, "SELECT DISTINCT is for continuous queries"), "a pull query refuses SELECT DISTINCT: %s", e.msg);

    for (size_t i = 0; i < ne; i++) {
        weir_arena_reset(&a);
        cat = build(&a, errors[i].sql, &e);
        ok(!cat && e.line == errors[i].line && e.col == errors[i].col, "error at %u:%u for: %.60s...", errors[i].line,
           errors[i].col, errors[i].sql + 18);
        if (cat || e.line != errors[i].line || e.col != errors[i].col)
            diag("got %u:%u: %s", e.line, e.col, e.msg);
        ok(!cat && strstr(e.msg, errors[i].msg), "message: %s", errors[i].msg);
        if (!cat && !strstr(e.msg, errors[i].msg))
            diag("got: %s", e.msg);
    }
    weir_arena_free(&a);
    return done();
}
