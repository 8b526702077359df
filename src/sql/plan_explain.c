/*
 * plan_explain.c - EXPLAIN: a plan as its operators, one row each in the
 * order data flows through them: (step, operator, detail).
 *
 * EXPLAIN SELECT ... plans the pull query and shows how it reads (a
 * table's view, with its index when the WHERE names a key, its ordered
 * index for ORDER BY col LIMIT k, or a scan of a stream's log), filters,
 * sorts, limits and projects. EXPLAIN x (a derived
 * stream or table, or its query's id CTAS_x / CSAS_x / x.insertK) shows the
 * continuous query that makes x: source, join, filter, window, aggregate,
 * HAVING, projection, emit mode, re-keying and output; a stream that
 * several queries write (INSERT INTO) shows each of them, a Writer step
 * before its operators, then the output they share. EXPLAIN CREATE
 * STREAM|TABLE x AS SELECT ... the same for a query the pipeline does not
 * have yet.
 */
#include "sql/plan_internal.h"

#include <string.h>

static void step(planner *P, weir_meta *out, const char *op, const char *detail)
{
    weir_value *r = plan_meta_row(P, out);
    r[0] = weir_int((int64_t)out->nrows);
    r[1] = plan_meta_text(op);
    r[2] = plan_meta_text(detail);
}

/* "expr AS name, ..." for each output column (just the name when the
 * expression is that column). */
static const char *outputs(planner *P, weir_expr *const *out, const weir_schema *cols, const weir_query *q)
{
    const char *s = NULL;
    for (int i = 0; i < cols->ncols; i++) {
        const char *x = plan_expr_sql(P, out[i], q), *name = cols->cols[i].name;
        const char *item = strcmp(x, name) ? plan_printf(P, "%s AS %s", x, name) : name;
        s = s ? plan_printf(P, "%s, %s", s, item) : item;
    }
    return s ? s : "";
}

static const char *source_detail(planner *P, const weir_relation *r)
{
    const char *time = r->ts_col >= 0 ? plan_printf(P, "event time %s", r->schema.cols[r->ts_col].name) : "ingest time";
    const char *key = r->key_fields ? plan_printf(P, ", key %s", r->key_fields) : "";
    return plan_printf(P, "%s %s (%u partitions%s, %s)", r->is_table ? "table" : "stream", r->name, r->partitions, key, time);
}

static void explain_pull(planner *P, const weir_stmt *st, weir_meta *out)
{
    weir_pull pull = {0};
    plan_pull(P, st, &pull);
    const weir_relation *r = pull.from;
    if (r->is_table && pull.has_key) {
        weir_expr lit = {.kind = WEIR_E_LITERAL, .lit = pull.key};
        step(P, out, "IndexLookup", plan_printf(P, "table %s: the rows whose %s = %s, through the view's index", r->name,
                                                r->schema.cols[r->pk[0]].name, plan_expr_sql(P, &lit, NULL)));
    } else if (r->is_table && pull.by_index) {
        step(P, out, "IndexScan", plan_printf(P, "table %s: its rows in order of %s from its ordered index, the best "
                                              "first, as far as the first %lld and their ties", r->name,
                                              r->schema.cols[pull.index_col].name, (long long)pull.limit));
    } else if (r->is_table) {
        step(P, out, "TableScan", plan_printf(P, "table %s: its current rows, the latest per primary key", r->name));
    } else {
        step(P, out, "StreamScan", plan_printf(P, "stream %s: every retained record, oldest first, %u partition%s", r->name,
                                               r->partitions, r->partitions == 1 ? "" : "s"));
    }
    if (pull.where)
        step(P, out, "Filter", plan_expr_sql(P, pull.where, NULL));
    const char *order = NULL;
    for (int i = 0; i < pull.norder; i++) {
        const char *o = plan_printf(P, "%s%s", plan_expr_sql(P, pull.order[i].expr, NULL), pull.order[i].desc ? " DESC" : "");
        order = order ? plan_printf(P, "%s, %s", order, o) : o;
    }
    if (order && pull.limit >= 0)
        step(P, out, "TopN", plan_printf(P, "the first %lld by %s (only they are kept)", (long long)pull.limit, order));
    else if (order)
        step(P, out, "Sort", order);
    else if (pull.limit >= 0)
        step(P, out, "Limit", plan_printf(P, "%lld", (long long)pull.limit));
    step(P, out, "Project", outputs(P, pull.out, &pull.schema, NULL));
}

static const char *join_detail(planner *P, const weir_query *q)
{
    const weir_join *j = q->join;
    static const char *const kinds[] = {[WEIR_JOIN_INNER] = "INNER", [WEIR_JOIN_LEFT] = "LEFT", [WEIR_JOIN_FULL] = "FULL"};
    const char *how = j->temporal ? "its row as of each record's event time (FOR SYSTEM_TIME AS OF)"
                      : j->tables ? "both tables' current rows per key, a change of either making the key's row"
                      : j->table  ? "its current row per key"
                                  : plan_printf(P, "records whose %s.ts - %s.ts is within [%lld ms, %lld ms]",
                                                j->right->name, q->source->name, (long long)j->lo, (long long)j->hi);
    const char *d = plan_printf(P, "%s JOIN %s ON %s = %s: %s", kinds[j->kind], j->right->name,
                                q->source->schema.cols[j->left_key].name, j->right->schema.cols[j->right_key].name, how);
    if (j->on)
        d = plan_printf(P, "%s, and %s", d, plan_expr_sql(P, j->on, NULL));
    return j->grace_ms ? plan_printf(P, "%s, GRACE %s", d, plan_interval_sql(P, j->grace_ms)) : d;
}

static const char *window_detail(planner *P, const weir_window_spec *w)
{
    const char *s = w->kind == WEIR_WINDOW_TUMBLE ? plan_printf(P, "TUMBLE size %s", plan_interval_sql(P, w->size_ms))
                    : w->kind == WEIR_WINDOW_HOP
                        ? plan_printf(P, w->cumulate ? "CUMULATE up to %s by %s" : "HOP size %s every %s",
                                      plan_interval_sql(P, w->size_ms), plan_interval_sql(P, w->slide_ms))
                        : plan_printf(P, "SESSION gap %s", plan_interval_sql(P, w->gap_ms));
    return w->grace_ms ? plan_printf(P, "%s, GRACE %s", s, plan_interval_sql(P, w->grace_ms)) : s;
}

static const char *aggregate_detail(planner *P, const weir_query *q)
{
    const char *keys = NULL, *aggs = NULL;
    for (int i = 0; i < q->nkeys; i++) {
        const char *k = plan_expr_sql(P, q->keys[i], NULL);
        keys = keys ? plan_printf(P, "%s, %s", keys, k) : k;
    }
    for (int i = 0; i < q->naggs; i++) {
        weir_expr slot = {.kind = WEIR_E_SLOT, .slot = q->nkeys + i};
        const char *a = plan_expr_sql(P, &slot, q);
        aggs = aggs ? plan_printf(P, "%s, %s", aggs, a) : a;
    }
    return plan_printf(P, "%s%s: %s", keys ? "GROUP BY " : "every row", keys ? keys : "", aggs ? aggs : "no aggregates");
}

/* The operators of query q, which writes rel, from its sources to its emit mode. */
static void explain_writer(planner *P, const weir_query *q, const weir_relation *rel, weir_meta *out)
{
    step(P, out, "Source", source_detail(P, q->source));
    if (q->join) {
        step(P, out, "Source", source_detail(P, q->join->right));
        step(P, out, "Join", join_detail(P, q));
    }
    if (q->where)
        step(P, out, "Filter", plan_expr_sql(P, q->where, NULL));
    if (q->window.kind != WEIR_WINDOW_NONE)
        step(P, out, "Window", window_detail(P, &q->window));
    if (q->grouped)
        step(P, out, "Aggregate", aggregate_detail(P, q));
    if (q->having)
        step(P, out, "Having", plan_expr_sql(P, q->having, q));
    step(P, out, "Project", outputs(P, q->out, &rel->schema, q));
    if (q->grouped)
        step(P, out, "Emit", q->emit == WEIR_EMIT_FINAL ? "FINAL: one row per key and window when the window closes"
                                                        : "CHANGES: the key's row on every update");
}

/* The queries EXPLAIN x shows: the one whose id is x, else every query
 * writing relation x (its own, then its INSERT INTO writers, in the
 * pipeline's order); their count, with the queries in *qs and x in *rel. */
static int writers(planner *P, const weir_stmt *st, const weir_query ***qs, const weir_relation **rel)
{
    const weir_catalog *cat = P->cat;
    const weir_query **found = alloc(P, (size_t)(cat->nqueries + 1) * sizeof *found);
    int n = 0;
    if ((*rel = weir_catalog_find(cat, st->name)) && (*rel)->query) {
        found[n++] = (*rel)->query;
        for (int i = 0; i < cat->nqueries; i++)
            if (cat->queries[i]->output == *rel && cat->queries[i] != (*rel)->query)
                found[n++] = cat->queries[i];
    }
    for (int i = 0; !*rel && i < cat->nqueries; i++)
        if (!strcmp(plan_query_id(P, cat->queries[i]), st->name)) {
            found[n++] = cat->queries[i];
            *rel = cat->queries[i]->output;
        }
    *qs = found;
    return n;
}

static void explain_query(planner *P, const weir_stmt *st, weir_meta *out)
{
    weir_catalog with; /* EXPLAIN CREATE ...: planned over a copy of the catalog, which it leaves as it was */
    if (st->explained) {
        with = *P->cat;
        P->cat = &with;
        plan_declare(P, st->explained);
        st = st->explained;
    }
    const weir_query **qs;
    const weir_relation *rel;
    int n = writers(P, st, &qs, &rel);
    if (!rel)
        fail(P, st->name_pos, "unknown stream, table or query %s (SHOW QUERIES lists the queries)", st->name);
    if (!n)
        fail(P, st->name_pos, "%s is a source %s: producers feed it, no query makes it (DESCRIBE %s shows it)", rel->name,
             rel->is_table ? "table" : "stream", rel->name);
    const char *dead = NULL; /* each writer's source's dead letters, once */
    for (int k = 0; k < n; k++) {
        if (n > 1)
            step(P, out, "Writer", plan_printf(P, "%s, %d of the %d queries writing %s", plan_query_id(P, qs[k]), k + 1, n,
                                               rel->name));
        explain_writer(P, qs[k], rel, out);
        const char *dlq = plan_printf(P, "%s.dlq", qs[k]->source->name);
        bool listed = false;
        for (int j = 0; j < k; j++)
            listed |= qs[j]->source == qs[k]->source;
        if (!listed)
            dead = dead ? plan_printf(P, "%s, %s", dead, dlq) : dlq;
    }
    if (rel->partition_by)
        step(P, out, "Repartition", plan_printf(P, "PARTITION BY %s", plan_expr_sql(P, rel->partition_by, NULL)));
    const char *pk = NULL;
    for (int i = 0; i < rel->npk; i++)
        pk = pk ? plan_printf(P, "%s, %s", pk, rel->schema.cols[rel->pk[i]].name) : rel->schema.cols[rel->pk[i]].name;
    const char *what = plan_printf(P, "%s %s (%u partitions)", rel->is_table ? "table" : "stream", rel->name, rel->partitions);
    step(P, out, "Output", pk ? plan_printf(P, "%s, primary key %s", what, pk) : what);
    step(P, out, "DeadLetters", plan_printf(P, "%s: records that fail to decode, an expression or come too late", dead));
}

void plan_explain(planner *P, const weir_stmt *st, weir_meta *out)
{
    static const weir_column cols[] = {{"step", WEIR_TYPE_INT}, {"operator", WEIR_TYPE_TEXT}, {"detail", WEIR_TYPE_TEXT}};
    plan_meta_columns(P, out, cols, 3);
    if (st->select)
        explain_pull(P, st, out);
    else
        explain_query(P, st, out);
}
