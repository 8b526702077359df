/*
 * plan_pull.c - pull queries: SELECT ... FROM a table or stream (or its
 * dead letters, <name>.dlq) [WHERE] [ORDER BY] [LIMIT], planned over the
 * relation's columns, with the key a table view's index can look up when
 * the WHERE names one; and push queries, the same with EMIT CHANGES and
 * no ORDER BY, which follow the relation's new records.
 */
#include "sql/plan_internal.h"

#include <string.h>

/* A literal as a value of type t when it is one (an integer literal for a
 * UINT or DOUBLE column), for index lookups; false otherwise. */
static bool literal_as(const weir_value *lit, weir_type t, weir_value *out)
{
    if (lit->is_null)
        return false;
    if (lit->type == t)
        return *out = *lit, true;
    if (t == WEIR_TYPE_UINT && lit->type == WEIR_TYPE_INT && lit->i >= 0)
        return *out = weir_uint((uint64_t)lit->i), true;
    if (t == WEIR_TYPE_INT && lit->type == WEIR_TYPE_UINT && lit->u <= INT64_MAX)
        return *out = weir_int((int64_t)lit->u), true;
    return false;
}

/* Looks in x's conjuncts for "first key column = literal" of a table. */
static void find_key(const weir_relation *r, const weir_expr *x, weir_pull *out)
{
    if (!x || x->kind != WEIR_E_BINARY)
        return;
    if (x->op.op == WEIR_OP_AND) {
        find_key(r, x->op.a, out);
        find_key(r, x->op.b, out);
        return;
    }
    const weir_expr *a = x->op.a, *b = x->op.b;
    if (x->op.op != WEIR_OP_EQ || out->has_key)
        return;
    if (a->kind == WEIR_E_LITERAL) {
        const weir_expr *t = a;
        a = b;
        b = t;
    }
    if (a->kind == WEIR_E_COLUMN && b->kind == WEIR_E_LITERAL && a->col.index == r->pk[0])
        out->has_key = literal_as(&b->lit, r->schema.cols[r->pk[0]].type, &out->key);
}

/* <name>.dlq, the dead letters of a relation of the catalog, as a stream
 * with the columns every dead letter has (engine.c weir_dead_letter_json),
 * or NULL when name is no such thing. */
const weir_relation *plan_dead_letters(planner *P, const char *name)
{
    static const weir_column cols[] = {{"reason", WEIR_TYPE_TEXT}, {"record", WEIR_TYPE_TEXT},
                                       {"partition", WEIR_TYPE_UINT}, {"offset", WEIR_TYPE_UINT},
                                       {"timestamp", WEIR_TYPE_TIMESTAMP}};
    size_t n = strlen(name);
    if (n <= 4 || strcmp(name + n - 4, ".dlq"))
        return NULL;
    char *base = alloc(P, n - 3);
    memcpy(base, name, n - 4);
    base[n - 4] = '\0';
    if (!weir_catalog_find(P->cat, base))
        return NULL;
    weir_relation *r = alloc(P, sizeof *r);
    weir_column *copy = alloc(P, sizeof cols);
    memcpy(copy, cols, sizeof cols);
    *r = (weir_relation){.name = name, .schema = {copy, (int)(sizeof cols / sizeof *cols)}, .partitions = 1,
                         .key_col = -1, .ts_col = 4, .compact = -1};
    return r;
}

void plan_pull(planner *P, const weir_stmt *st, weir_pull *out)
{
    const weir_catalog *cat = P->cat;
    const weir_select *sel = st->select;
    const weir_relation *r = weir_catalog_find(cat, sel->from);
    if (!r)
        r = plan_dead_letters(P, sel->from);
    if (!r)
        fail(P, sel->from_pos, "unknown stream or table %s", sel->from);
    if (sel->window.kind != WEIR_WINDOW_NONE || sel->ngroup || sel->having)
        fail(P, st->pos, "pull and push queries filter, sort and limit rows; windows, GROUP BY and HAVING belong to "
                          "CREATE TABLE ... AS SELECT, whose changes a push query then follows");
    if (sel->emit_given && sel->emit == WEIR_EMIT_FINAL)
        fail(P, st->pos, "EMIT FINAL belongs to a windowed CREATE TABLE ... AS SELECT; a push query is EMIT CHANGES");
    out->push = sel->emit_given;
    if (out->push && sel->limit == 0)
        fail(P, st->pos, "a push query with LIMIT 0 would send nothing: give a LIMIT of 1 or more, or none");
    if (out->push && sel->norder)
        fail(P, sel->order[0].expr->pos, "a push query (EMIT CHANGES) sends rows as they come, so it cannot sort them: "
                                         "drop ORDER BY, or drop EMIT CHANGES to sort a pull query's answer");
    if (sel->distinct)
        fail(P, st->pos, "SELECT DISTINCT is for continuous queries (CREATE TABLE t AS SELECT DISTINCT ... keeps the "
                         "distinct rows); a pull query cannot take it yet");
    if (sel->partition_by)
        fail(P, sel->partition_by->pos, "PARTITION BY re-keys a derived stream: CREATE STREAM ... AS SELECT ... PARTITION BY");
    if (sel->join)
        fail(P, sel->join_pos, "a pull query reads one table or stream; a join is a continuous query: "
                               "CREATE STREAM ... AS SELECT ... FROM a JOIN b ON ...");
    P->input = &r->schema;
    P->input_name = r->name;
    out->from = r;
    out->limit = sel->limit;
    if (sel->where) {
        plan_condition(P, sel->where, "WHERE", "");
        out->where = sel->where;
        if (r->is_table && r->npk > 0)
            find_key(r, sel->where, out);
    }
    int n = sel->star ? r->schema.ncols : sel->nitems;
    out->out = alloc(P, (size_t)n * sizeof *out->out);
    out->schema.cols = alloc(P, (size_t)n * sizeof *out->schema.cols);
    out->schema.ncols = n;
    for (int i = 0; i < n; i++) {
        weir_expr *x;
        const char *name;
        if (sel->star) {
            x = alloc(P, sizeof *x);
            x->kind = WEIR_E_COLUMN;
            x->col.name = r->schema.cols[i].name;
            name = x->col.name;
        } else {
            x = sel->items[i].expr;
            const weir_expr *agg = plan_find_aggregate(x);
            if (agg)
                fail(P, agg->pos, "aggregates in pull queries are not supported: aggregate in a CREATE TABLE");
            name = sel->items[i].alias ? sel->items[i].alias : plan_derived_name(&sel->items[i]);
            if (!name)
                fail(P, sel->items[i].pos, "give this expression a name with AS");
        }
        plan_resolve(P, x);
        out->out[i] = x;
        out->schema.cols[i] = (weir_column){name, x->type == WEIR_TYPE_NULL ? WEIR_TYPE_TEXT : x->type};
    }
    out->order = alloc(P, (size_t)(sel->norder + 1) * sizeof *out->order);
    for (int i = 0; i < sel->norder; i++) {
        weir_expr *x = sel->order[i].expr;
        /* ORDER BY may name an output column by its alias */
        if (x->kind == WEIR_E_COLUMN && plan_column_index(&r->schema, x->col.name) < 0)
            for (int k = 0; k < n; k++)
                if (!strcmp(out->schema.cols[k].name, x->col.name))
                    x = out->out[k];
        plan_resolve(P, x);
        out->order[i] = (weir_order_item){x, sel->order[i].desc};
    }
    out->norder = sel->norder;
    /* An index keeps a column's values in the store's order (state/key.h), which is
     * weir_value_cmp's but for DOUBLE's NaN (which compares equal to every number). */
    const weir_expr *first = out->norder ? out->order[0].expr : NULL;
    if (r->is_table && !out->where && out->limit > 0 && first && first->kind == WEIR_E_COLUMN &&
        r->schema.cols[first->col.index].type != WEIR_TYPE_DOUBLE) {
        out->by_index = true;
        out->index_col = first->col.index;
    }
    /* An endpoint's shape is known at start: its table's view makes the index then, not at first use. */
    for (int i = 0; P->endpoint && out->by_index && out->index_col < 64 && i < P->cat->nrels; i++)
        if (P->cat->rels[i] == r)
            P->cat->rels[i]->ordered_cols |= UINT64_C(1) << out->index_col;
}

int weir_plan_pull(const weir_catalog *cat, const weir_stmt *st, weir_arena *a, weir_pull *out, weir_sql_error *e)
{
    memset(out, 0, sizeof *out);
    planner P = {.a = a, .e = e, .cat = (weir_catalog *)cat};
    if (setjmp(P.fail))
        return WEIR_EINVAL;
    if (st->kind != WEIR_STMT_SELECT)
        fail(&P, st->pos, "expected a SELECT");
    plan_pull(&P, st, out);
    return WEIR_OK;
}
