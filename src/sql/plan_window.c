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
 * it says EMIT CHANGES.
 */
#include "sql/plan_internal.h"

#include <string.h>

/* Whether x, a GROUP BY item of windowed query q, is one of its window's columns. */
static bool window_column(planner *P, const weir_query *q, const weir_expr *x)
{
    if (q->window.kind == WEIR_WINDOW_NONE || x->kind != WEIR_E_COLUMN || plan_column_index(P->input, x->col.name) >= 0)
        return false;
    return !strcmp(x->col.name, "window_start") || !strcmp(x->col.name, "window_end") ||
           !strcmp(x->col.name, "window_time");
}

/* A TVF's DESCRIPTOR names the stream's event-time column. */
static void check_descriptor(planner *P, const weir_window_tvf *tvf, const weir_relation *src)
{
    int col = plan_column_index(&src->schema, tvf->time_col);
    if (col < 0)
        fail(P, tvf->time_pos, "DESCRIPTOR(%s): %s has no column %s", tvf->time_col, src->name, tvf->time_col);
    if (src->ts_col < 0)
        fail(P, tvf->time_pos, "DESCRIPTOR(%s): windows follow event time, and %s has no event-time column: declare it "
                               "with WITH (timestamp = '%s')", tvf->time_col, src->name, tvf->time_col);
    if (src->ts_col != col)
        fail(P, tvf->time_pos, "DESCRIPTOR(%s): windows follow the event-time column of %s, which is %s (WITH "
                               "(timestamp = '%s'))", tvf->time_col, src->name, src->schema.cols[src->ts_col].name,
             src->schema.cols[src->ts_col].name);
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
