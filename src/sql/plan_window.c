/*
 * plan_window.c - a query's window as Flink's window table-valued
 * functions write it, planned into the same weir_query as weir's own
 * form, so that both run on one window engine and give the same rows:
 *
 *   FROM TABLE(TUMBLE(TABLE s, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
 *   GROUP BY window_start, window_end, city
 *
 * is FROM TUMBLE(s, INTERVAL '1' MINUTE) GROUP BY city. The windows follow
 * the stream's event-time column, so DESCRIPTOR must name it. The window
 * columns in GROUP BY (window_start, window_end, window_time) are not keys
 * of their own: a group's window is part of every group already. Weir's
 * form takes them in GROUP BY too; a TVF's query must name window_start
 * and window_end there, as Flink's window aggregation does, and emits
 * as Flink does, a window's rows once when it closes (EMIT FINAL), unless
 * it says EMIT CHANGES. Flink's older group windows, GROUP BY TUMBLE(ts,
 * size) with TUMBLE_START(ts, size) in SELECT, plan the same way.
 */
#include "sql/plan_internal.h"

#include <stdio.h>
#include <string.h>

/* Whether x, a GROUP BY item of windowed query q, is one of its window's
 * columns, or the group window that makes it. */
static bool window_column(planner *P, const weir_query *q, const weir_expr *x)
{
    if (x == P->group_window)
        return true;
    if (q->window.kind == WEIR_WINDOW_NONE || x->kind != WEIR_E_COLUMN || plan_column_index(P->input, x->col.name) >= 0)
        return false;
    return !strcmp(x->col.name, "window_start") || !strcmp(x->col.name, "window_end") ||
           !strcmp(x->col.name, "window_time");
}

/* A TVF's DESCRIPTOR (what says "DESCRIPTOR(ts)") or a group window's
 * first argument names the stream's event-time column. */
static void check_time_column(planner *P, const char *what, const char *name, weir_sql_pos pos, const weir_relation *src)
{
    int col = plan_column_index(&src->schema, name);
    if (col < 0)
        fail(P, pos, "%s(%s): %s has no column %s", what, name, src->name, name);
    if (src->ts_col < 0)
        fail(P, pos, "%s(%s): windows follow event time, and %s has no event-time column: declare it with WITH "
                     "(timestamp = '%s')", what, name, src->name, name);
    if (src->ts_col != col)
        fail(P, pos, "%s(%s): windows follow the event-time column of %s, which is %s (WITH (timestamp = '%s'))", what,
             name, src->name, src->schema.cols[src->ts_col].name, src->schema.cols[src->ts_col].name);
}

static void check_descriptor(planner *P, const weir_window_tvf *tvf, const weir_relation *src)
{
    check_time_column(P, "DESCRIPTOR", tvf->time_col, tvf->time_pos, src);
}

/* Flink's group windows and their window functions, by name. */
static const struct {
    const char *name;          /* in GROUP BY */
    weir_window_kind kind;
    bool cumulate;
    int nintervals;            /* after the time column */
    const char *usage;
} group_windows[] = {
    {"tumble", WEIR_WINDOW_TUMBLE, false, 1, "tumble(ts, size)"},
    {"hop", WEIR_WINDOW_HOP, false, 2, "hop(ts, slide, size)"},
    {"session", WEIR_WINDOW_SESSION, false, 1, "session(ts, gap)"},
    {"cumulate", WEIR_WINDOW_HOP, true, 2, "cumulate(ts, step, size)"},
};

static int group_window_find(const char *name)
{
    for (size_t i = 0; i < sizeof group_windows / sizeof group_windows[0]; i++)
        if (!strcmp(group_windows[i].name, name))
            return (int)i;
    return -1;
}

void plan_group_window(planner *P, const weir_select *sel, const weir_relation *src, weir_query *q)
{
    P->group_window = NULL;
    for (int i = 0; i < sel->ngroup; i++) {
        const weir_expr *x = sel->group_by[i];
        int g = x->kind == WEIR_E_CALL ? group_window_find(x->call.name) : -1;
        if (g < 0)
            continue;
        const char *fn = group_windows[g].name;
        if (P->group_window || q->window.kind != WEIR_WINDOW_NONE)
            fail(P, x->pos, "%s(...) in GROUP BY: the query is windowed already (one window a query)", fn);
        if (x->call.nargs != 1 + group_windows[g].nintervals)
            fail(P, x->pos, "%s in GROUP BY takes the event-time column and intervals: %s", fn, group_windows[g].usage);
        const weir_expr *col = x->call.args[0];
        if (col->kind != WEIR_E_COLUMN || col->col.qual)
            fail(P, col->pos, "%s's first argument is the event-time column, by its name", fn);
        check_time_column(P, fn, col->col.name, col->pos, src);
        int64_t ms[2] = {0, 0};
        for (int k = 0; k < group_windows[g].nintervals; k++) {
            const weir_expr *a = x->call.args[1 + k];
            if (a->kind != WEIR_E_LITERAL || !a->interval)
                fail(P, a->pos, "%s's argument %d is an interval, like INTERVAL '1' MINUTE", fn, 2 + k);
            ms[k] = a->lit.i;
        }
        weir_window_spec *w = &q->window;
        w->kind = group_windows[g].kind;
        w->cumulate = group_windows[g].cumulate;
        if (w->kind == WEIR_WINDOW_SESSION) {
            w->gap_ms = ms[0];
        } else if (w->kind == WEIR_WINDOW_TUMBLE) {
            w->size_ms = w->slide_ms = ms[0];
        } else {
            w->slide_ms = ms[0];
            w->size_ms = ms[1];
            if (w->size_ms % w->slide_ms != 0 || w->size_ms < w->slide_ms)
                fail(P, x->call.args[1]->pos, "%s's size must be a whole number of its %s", fn,
                     w->cumulate ? "step" : "slide");
        }
        P->group_window = x;
        if (!sel->emit_given) /* Flink's group windows emit a window's rows when it closes */
            q->emit = WEIR_EMIT_FINAL;
    }
}

int plan_group_window_slot(planner *P, const weir_expr *x)
{
    static const struct { const char *suffix; int slot; } fns[] = {
        {"_start", -1000000}, {"_end", -1000001}, {"_rowtime", -1000002},
    };
    if (x->kind != WEIR_E_CALL)
        return 0;
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        size_t n = strlen(x->call.name), k = strlen(fns[i].suffix);
        if (n <= k || strcmp(x->call.name + n - k, fns[i].suffix))
            continue;
        char fn[16];
        snprintf(fn, sizeof fn, "%.*s", (int)(n - k), x->call.name);
        if (group_window_find(fn) < 0)
            return 0;
        if (!P->group_window || strcmp(P->group_window->call.name, fn))
            fail(P, x->pos, "%s names the window of GROUP BY %s(...), which this query does not have", x->call.name, fn);
        return fns[i].slot;
    }
    return 0;
}

/* SESSION(TABLE s PARTITION BY cols, ...): weir keeps sessions per group,
 * so the partition columns must be the query's keys, no more, no fewer. */
static void check_partition(planner *P, const weir_window_tvf *tvf, const weir_query *q)
{
    for (int i = 0; i < tvf->npartition; i++) {
        plan_resolve(P, tvf->partition[i]);
        bool found = false;
        for (int k = 0; k < q->nkeys && !found; k++)
            found = q->keys[k]->kind == WEIR_E_COLUMN && q->keys[k]->col.index == tvf->partition[i]->col.index;
        if (!found)
            fail(P, tvf->partition[i]->pos, "SESSION's PARTITION BY %s: sessions are kept per group, so GROUP BY must "
                                            "name %s too", tvf->partition[i]->col.name, tvf->partition[i]->col.name);
    }
    for (int k = 0; k < q->nkeys; k++) {
        bool found = false;
        for (int i = 0; i < tvf->npartition && !found; i++)
            found = q->keys[k]->kind == WEIR_E_COLUMN && q->keys[k]->col.index == tvf->partition[i]->col.index;
        if (!found)
            fail(P, q->keys[k]->pos, "a SESSION window function's query groups by its PARTITION BY columns and the "
                                     "window: add this key to PARTITION BY (sessions per key), or drop it");
    }
}

void plan_window_source(planner *P, const weir_select *sel, const weir_relation *src, weir_query *q)
{
    if (!sel->tvf)
        return;
    check_descriptor(P, sel->tvf, src);
    if (!sel->emit_given) /* Flink's window aggregation emits a window's rows once, when it closes */
        q->emit = WEIR_EMIT_FINAL;
}

void plan_window_keys(planner *P, const weir_select *sel, weir_query *q)
{
    int n = sel->distinct ? sel->nitems : sel->ngroup; /* SELECT DISTINCT groups by its columns */
    q->keys = alloc(P, (size_t)(n + 1) * sizeof *q->keys);
    q->nkeys = 0;
    bool start = false, end = false;
    for (int i = 0; i < n; i++) {
        weir_expr *x = sel->distinct ? sel->items[i].expr : sel->group_by[i];
        if (window_column(P, q, x)) {
            start |= !strcmp(x->col.name, "window_start");
            end |= !strcmp(x->col.name, "window_end");
            continue;
        }
        q->keys[q->nkeys++] = x;
    }
    if (!sel->tvf)
        return;
    if (!start || !end)
        fail(P, sel->ngroup ? sel->group_by[0]->pos : sel->tvf->pos,
             "a window function's query groups by its windows: GROUP BY window_start, window_end[, keys]");
}

void plan_window_partition(planner *P, const weir_select *sel, const weir_query *q)
{
    if (sel->tvf && q->window.kind == WEIR_WINDOW_SESSION)
        check_partition(P, sel->tvf, q);
}
