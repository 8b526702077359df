/*
 * plan_query.c - a CREATE STREAM/TABLE ... AS SELECT made into a
 * weir_query: what it reads, its filter, its grouping and windows, its
 * output columns (the relation's schema) and a table's primary key.
 */
#include "sql/plan_internal.h"

#include <string.h>

static bool has_aggregate(const weir_expr *x) { return plan_find_aggregate(x) != NULL; }

/* PARTITION BY expr: over the output row, which is what the runner keys
 * (its columns unqualified). */
static void plan_partition_by(planner *P, const weir_select *sel, weir_relation *out)
{
    P->nscope = 0;
    if (sel->partition_by) {
        if (P->q->grouped)
            fail(P, sel->partition_by->pos, "PARTITION BY re-keys a stream; a table is keyed by its GROUP BY columns");
        const weir_schema *input = P->input;
        const char *input_name = P->input_name;
        P->input = &out->schema;
        P->input_name = out->name;
        const weir_expr *agg = plan_find_aggregate(sel->partition_by);
        if (agg)
            fail(P, agg->pos, "aggregates are not allowed in PARTITION BY");
        plan_resolve(P, sel->partition_by);
        out->partition_by = sel->partition_by;
        P->input = input;
        P->input_name = input_name;
    }
}

/* A table-table join's rows are named by the join key: the output column
 * that is either side's key column, which also keys and partitions the
 * output's records. */
static void plan_tables_join_key(planner *P, const weir_stmt *st, weir_relation *out)
{
    const weir_join *j = P->q->join;
    int nl = P->q->source->schema.ncols;
    for (int i = 0; i < out->schema.ncols; i++) {
        const weir_expr *x = P->q->out[i];
        if (x->kind != WEIR_E_COLUMN)
            continue;
        /* an outer join's row may lack the right row, never the left key (tables_join.h) */
        bool right_key = j->kind == WEIR_JOIN_INNER && x->col.index == nl + j->right_key;
        if (x->col.index != j->left_key && !right_key)
            continue;
        out->pk = alloc(P, sizeof *out->pk);
        out->pk[0] = i;
        out->npk = 1;
        out->key_col = i;
        out->key_cols = out->pk;
        out->nkey_cols = 1;
        out->key_fields = out->schema.cols[i].name;
        return;
    }
    fail(P, st->pos, "select the join key (%s.%s): it names the rows of the table the join makes",
         P->q->source->name, P->q->source->schema.cols[j->left_key].name);
}

/* SELECT DISTINCT a, b: grouped by its columns, as Flink plans it, a row
 * emitted for a group's first record only (so a stream of them is
 * append-only: each distinct tuple once). */
static void plan_distinct(planner *P, const weir_stmt *st, const weir_select *sel, bool any_agg, weir_query *q)
{
    if (sel->ngroup || any_agg)
        fail(P, sel->ngroup ? sel->group_by[0]->pos : st->pos, "SELECT DISTINCT with GROUP BY or aggregates is not "
             "supported: group by the columns (GROUP BY makes each group's row distinct already)");
    if (q->window.kind == WEIR_WINDOW_SESSION || (q->window.kind == WEIR_WINDOW_HOP && q->emit == WEIR_EMIT_CHANGES))
        fail(P, sel->from_pos, "SELECT DISTINCT over HOP, CUMULATE or SESSION windows needs EMIT FINAL (a tuple new "
                               "to a pane or session need not be new to its window)");
    q->distinct = true;
}

void plan_query(planner *P, weir_stmt *st, weir_relation *out)
{
    weir_select *sel = st->select;
    const weir_relation *src = weir_catalog_find(P->cat, sel->from);
    if (!src)
        fail(P, sel->from_pos, "unknown stream %s (declare it first with CREATE STREAM)", sel->from);
    if (src->is_table && !sel->join)
        fail(P, sel->from_pos, "%s is a table: a continuous query reads streams (query tables with SELECT)", sel->from);
    plan_check_readable(P, src, sel->from_pos);
    weir_query *q = alloc(P, sizeof *q);
    P->q = q;
    P->input = &src->schema;
    P->input_name = src->name;
    P->scope[0] = (plan_scope){src->name, sel->from_alias, 0, src->schema.ncols};
    P->nscope = 1;
    q->name = out->name;
    q->stmt = st;
    q->source = src;
    q->output = out;
    q->select = sel;
    q->is_table = st->kind == WEIR_STMT_CREATE_TABLE_AS;
    q->window = sel->window;
    q->emit = sel->emit;
    out->query = q;
    out->is_table = q->is_table;
    if (sel->join)
        plan_join(P, st, src, q);
    plan_window_source(P, sel, src, q);
    plan_group_window(P, sel, src, q);

    if (sel->where) {
        plan_condition(P, sel->where, "WHERE", " (use HAVING)");
        q->where = sel->where;
    }
    bool any_agg = sel->having != NULL;
    for (int i = 0; i < sel->nitems && !any_agg; i++)
        any_agg = has_aggregate(sel->items[i].expr);
    q->grouped = sel->ngroup > 0 || any_agg || sel->distinct;
    if (sel->distinct)
        plan_distinct(P, st, sel, any_agg, q);
    if (q->grouped && q->join)
        fail(P, sel->join_pos, "a join's rows cannot be aggregated in the same query: make the join a stream "
                               "(CREATE STREAM j AS SELECT ... JOIN ...) and aggregate j");
    if (q->window.kind != WEIR_WINDOW_NONE && !q->grouped && sel->tvf)
        fail(P, sel->tvf->pos, "a window function's rows are aggregated here (GROUP BY window_start, window_end with "
                               "aggregates): weir does not emit the windowed records themselves");
    if (q->window.kind != WEIR_WINDOW_NONE && !q->grouped)
        fail(P, sel->from_pos, "a windowed query needs aggregates (and usually GROUP BY)");
    if (q->is_table && !q->grouped && !(q->join && q->join->tables))
        fail(P, st->pos, "CREATE TABLE ... AS SELECT needs GROUP BY or aggregates (a table is keyed); "
                         "use CREATE STREAM ... AS SELECT for a filter or projection");
    if (sel->emit == WEIR_EMIT_FINAL && q->window.kind == WEIR_WINDOW_NONE)
        fail(P, st->pos, "EMIT FINAL needs a window (TUMBLE, HOP or SESSION): without one nothing ever closes");
    if (sel->norder || sel->limit >= 0)
        fail(P, st->pos, "ORDER BY and LIMIT belong to pull queries (SELECT ... FROM a table), not continuous ones");

    int nout = sel->star ? P->input->ncols : sel->nitems;
    q->out = alloc(P, (size_t)nout * sizeof *q->out);
    out->schema.cols = alloc(P, (size_t)nout * sizeof *out->schema.cols);
    out->schema.ncols = nout;
    if (sel->star) {
        if (q->grouped)
            fail(P, st->pos, "SELECT * cannot be grouped: name the keys and aggregates");
        for (int i = 0; i < nout; i++) {
            weir_expr *c = alloc(P, sizeof *c);
            c->kind = WEIR_E_COLUMN;
            c->col.name = P->input->cols[i].name;
            c->col.index = i;
            c->type = P->input->cols[i].type;
            q->out[i] = c;
            out->schema.cols[i] = P->input->cols[i];
            for (int k = 0; k < i; k++)
                if (!strcmp(out->schema.cols[k].name, c->col.name))
                    fail(P, st->pos, "SELECT * over this join gives two columns named %s: name the columns (a.%s AS ...)",
                         c->col.name, c->col.name);
        }
        if (q->join && q->join->tables)
            plan_tables_join_key(P, st, out);
        plan_partition_by(P, sel, out);
        return;
    }
    if (q->grouped) {
        plan_window_keys(P, sel, q);
        for (int k = 0; k < q->nkeys; k++) {
            const weir_expr *agg = plan_find_aggregate(q->keys[k]);
            if (agg)
                fail(P, agg->pos, "GROUP BY cannot contain an aggregate");
            plan_resolve(P, q->keys[k]);
        }
        plan_window_partition(P, sel, q);
    }
    for (int i = 0; i < nout; i++) {
        weir_select_item *it = &sel->items[i];
        if (q->grouped) {
            q->out[i] = plan_grouped(P, it->expr);
        } else {
            if (has_aggregate(it->expr))
                fail(P, it->pos, "internal: aggregate in an ungrouped query");
            plan_resolve(P, it->expr);
            q->out[i] = it->expr;
        }
        const char *name = it->alias ? it->alias : plan_derived_name(it);
        if (!name)
            fail(P, it->pos, "give this expression a name with AS");
        for (int k = 0; k < i; k++)
            if (!strcmp(out->schema.cols[k].name, name))
                fail(P, it->pos, "two output columns are named %s: rename one with AS", name);
        out->schema.cols[i].name = name;
        out->schema.cols[i].type = q->out[i]->type == WEIR_TYPE_NULL ? WEIR_TYPE_TEXT : q->out[i]->type;
    }
    if (sel->having) {
        q->having = plan_grouped(P, sel->having);
        plan_need_bool(P, q->having, "HAVING");
    }
    for (int i = 0; i < nout; i++)
        plan_fix_slots(q, q->out[i]);
    plan_fix_slots(q, q->having);
    /* A table row is named by its key columns and window start, and a
     * CUMULATE window's by its end too (its windows share starts). */
    if (q->grouped) {
        out->pk = alloc(P, (size_t)nout * sizeof *out->pk);
        for (int i = 0; i < nout; i++) {
            int slot = q->out[i]->kind == WEIR_E_SLOT ? q->out[i]->slot : -1;
            if (slot >= 0 && (slot < q->nkeys || slot == q->nkeys + q->naggs ||
                              (q->window.cumulate && slot == q->nkeys + q->naggs + 1)))
                out->pk[out->npk++] = i;
        }
    }
    if (q->join && q->join->tables)
        plan_tables_join_key(P, st, out);
    plan_partition_by(P, sel, out);
    if (q->grouped && q->naggs == 0 && q->window.kind == WEIR_WINDOW_NONE && !q->is_table && !q->distinct)
        fail(P, st->pos, "GROUP BY without aggregates: use CREATE TABLE for distinct keys, or add an aggregate");
}
