/*
 * plan_agg.c - the aggregates of a grouped query and the rewrite of its
 * SELECT list and HAVING to read the grouped row.
 *
 * A subexpression equal to a GROUP BY expression becomes the key's slot,
 * an aggregate call becomes its aggregate's slot (identical aggregates
 * share one), window_start and window_end become the two slots after the
 * aggregates, then Flink's window_time (window_end less a millisecond: the
 * latest time in the window). A column used any other way is an error, as
 * in standard SQL.
 */
#include "sql/plan_internal.h"

#include <stdio.h>
#include <string.h>

/* Every aggregate's name, as SQL calls it (lower-cased). */
static const char *const aggregate_names[] = {
    "count", "count_if", "sum", "min", "max", "avg", "approx_count_distinct", "topk", "latest_by_offset",
    "earliest_by_offset",
};

bool plan_is_aggregate(const char *name)
{
    for (size_t i = 0; i < sizeof aggregate_names / sizeof aggregate_names[0]; i++)
        if (!strcmp(aggregate_names[i], name))
            return true;
    return false;
}

const char *plan_aggregate_list(planner *P)
{
    size_t n = 1;
    for (size_t i = 0; i < sizeof aggregate_names / sizeof aggregate_names[0]; i++)
        n += strlen(aggregate_names[i]) + 2;
    char *s = alloc(P, n), *p = s;
    for (size_t i = 0; i < sizeof aggregate_names / sizeof aggregate_names[0]; i++)
        p += sprintf(p, "%s%s", i ? ", " : "", aggregate_names[i]);
    return s;
}

/* Structural equality, for matching SELECT expressions to GROUP BY ones. */
static bool same_expr(const weir_expr *a, const weir_expr *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case WEIR_E_LITERAL: return weir_value_same(&a->lit, &b->lit) && a->lit.type == b->lit.type;
    case WEIR_E_COLUMN: return !strcmp(a->col.name, b->col.name);
    case WEIR_E_UNARY: return a->op.op == b->op.op && same_expr(a->op.a, b->op.a);
    case WEIR_E_BINARY: return a->op.op == b->op.op && same_expr(a->op.a, b->op.a) && same_expr(a->op.b, b->op.b);
    case WEIR_E_CALL:
        if (strcmp(a->call.name, b->call.name) || a->call.nargs != b->call.nargs || a->call.distinct != b->call.distinct ||
            a->call.returning != b->call.returning)
            return false;
        for (int i = 0; i < a->call.nargs; i++)
            if (!same_expr(a->call.args[i], b->call.args[i]))
                return false;
        return true;
    case WEIR_E_CAST: return a->cast.to == b->cast.to && same_expr(a->cast.a, b->cast.a);
    case WEIR_E_IS_NULL: return a->isnull.negate == b->isnull.negate && same_expr(a->isnull.a, b->isnull.a);
    case WEIR_E_STAR: return true;
    default: return false; /* CASE, IN, BETWEEN, LIKE: match only as whole GROUP BY keys by identity */
    }
}

static weir_expr *slot(planner *P, weir_sql_pos pos, int index, weir_type t)
{
    weir_expr *x = alloc(P, sizeof *x);
    x->kind = WEIR_E_SLOT;
    x->pos = pos;
    x->slot = index;
    x->type = t;
    return x;
}

/* Adds (or finds) the aggregate of call x; returns its index. */
static int add_aggregate(planner *P, weir_expr *x)
{
    weir_query *q = P->q;
    weir_expr *arg = x->call.nargs ? x->call.args[0] : NULL;
    const char *n = x->call.name;
    weir_agg g = {0};
    if (!strcmp(n, "count")) {
        g.fn = x->call.distinct ? WEIR_AGG_COUNT_DISTINCT : WEIR_AGG_COUNT;
        if (x->call.nargs != 1)
            fail(P, x->pos, "count takes one argument: count(*), count(x) or count(DISTINCT x)");
        if (arg->kind == WEIR_E_STAR) {
            if (x->call.distinct)
                fail(P, arg->pos, "count(DISTINCT *) is not supported: name a column");
            arg = NULL;
        }
    } else if (!strcmp(n, "topk")) {
        g.fn = WEIR_AGG_TOPK;
        const weir_expr *k = x->call.nargs == 2 ? x->call.args[1] : NULL;
        if (!k || x->call.distinct || arg->kind == WEIR_E_STAR)
            fail(P, x->pos, "topk takes a value and a count: topk(x, 5)");
        if (k->kind != WEIR_E_LITERAL || k->lit.type != WEIR_TYPE_INT || k->lit.i < 1 || k->lit.i > WEIR_TOPK_MAX_K)
            fail(P, k->pos, "topk's count must be a whole number from 1 to %d", WEIR_TOPK_MAX_K);
        g.k = (uint32_t)k->lit.i;
    } else if (!strcmp(n, "latest_by_offset") || !strcmp(n, "earliest_by_offset")) {
        g.fn = n[0] == 'l' ? WEIR_AGG_LATEST_BY_OFFSET : WEIR_AGG_EARLIEST_BY_OFFSET;
        if (x->call.distinct || x->call.nargs < 1 || x->call.nargs > 2 || arg->kind == WEIR_E_STAR)
            fail(P, x->pos, "%s takes a column and optionally whether to ignore NULLs: %s(x) or %s(x, FALSE)", n, n, n);
        if (x->call.nargs == 2) {
            const weir_expr *b = x->call.args[1];
            if (b->kind != WEIR_E_LITERAL || b->lit.type != WEIR_TYPE_BOOL || b->lit.is_null)
                fail(P, b->pos, "%s's second argument says whether NULLs are ignored: TRUE (the default) or FALSE", n);
            g.keep_nulls = !b->lit.b;
        }
    } else {
        if (x->call.distinct)
            fail(P, x->pos, "DISTINCT is only for count(DISTINCT x)");
        if (x->call.nargs != 1)
            fail(P, x->pos, "%s takes one argument", n);
        if (arg->kind == WEIR_E_STAR)
            fail(P, arg->pos, "* is only an argument of count(*)");
        if (!strcmp(n, "count_if")) g.fn = WEIR_AGG_COUNT_IF;
        else if (!strcmp(n, "sum")) g.fn = WEIR_AGG_SUM;
        else if (!strcmp(n, "min")) g.fn = WEIR_AGG_MIN;
        else if (!strcmp(n, "max")) g.fn = WEIR_AGG_MAX;
        else if (!strcmp(n, "avg")) g.fn = WEIR_AGG_AVG;
        else g.fn = WEIR_AGG_APPROX_DISTINCT;
    }
    if (arg) {
        plan_resolve(P, arg);
        if (arg->kind == WEIR_E_CALL && plan_is_aggregate(arg->call.name))
            fail(P, arg->pos, "aggregates cannot be nested");
    }
    weir_type t = arg ? arg->type : WEIR_TYPE_NULL;
    switch (g.fn) {
    case WEIR_AGG_COUNT_IF:
        plan_need_bool(P, arg, "the argument of count_if");
        /* fall through */
    case WEIR_AGG_COUNT: case WEIR_AGG_COUNT_DISTINCT: case WEIR_AGG_APPROX_DISTINCT:
        g.type = WEIR_TYPE_INT;
        break;
    case WEIR_AGG_SUM:
        if (!plan_numeric(t))
            fail(P, arg->pos, "sum needs a number, not %s", weir_type_name(t));
        g.type = t;
        break;
    case WEIR_AGG_AVG:
        if (!plan_numeric(t))
            fail(P, arg->pos, "avg needs a number, not %s", weir_type_name(t));
        g.type = WEIR_TYPE_DOUBLE;
        break;
    case WEIR_AGG_TOPK:
        g.type = WEIR_TYPE_JSON;
        break;
    default:
        g.type = t == WEIR_TYPE_NULL ? WEIR_TYPE_INT : t;
    }
    g.arg = arg;
    for (int i = 0; i < q->naggs; i++)
        if (q->aggs[i].fn == g.fn && q->aggs[i].k == g.k && q->aggs[i].keep_nulls == g.keep_nulls && ((!g.arg && !q->aggs[i].arg) || (g.arg && q->aggs[i].arg && same_expr(g.arg, q->aggs[i].arg))))
            return i;
    if (q->naggs >= 63) /* the "seen" bits of a group fit one word */
        fail(P, x->pos, "a query may compute at most 63 different aggregates");
    g.slot = q->nslots;
    q->nslots += weir_agg_slots(g.fn);
    weir_agg *v = alloc(P, (size_t)(q->naggs + 1) * sizeof *v);
    if (q->naggs)
        memcpy(v, q->aggs, (size_t)q->naggs * sizeof *v);
    v[q->naggs] = g;
    q->aggs = v;
    return q->naggs++;
}

/* Rewrites x (a SELECT item or HAVING of a grouped query) to read the grouped row. */
weir_expr *plan_grouped(planner *P, weir_expr *x)
{
    weir_query *q = P->q;
    for (int k = 0; k < q->nkeys; k++)
        if (x == q->keys[k] || same_expr(x, q->keys[k])) /* itself: SELECT DISTINCT's keys are its items */
            return slot(P, x->pos, k, q->keys[k]->type);
    switch (x->kind) {
    case WEIR_E_CALL: {
        int window = plan_group_window_slot(P, x); /* TUMBLE_START(ts, ...) and the like */
        if (window)
            return slot(P, x->pos, window, WEIR_TYPE_TIMESTAMP);
        if (plan_is_aggregate(x->call.name)) {
            int i = add_aggregate(P, x);
            return slot(P, x->pos, -1 - i, q->aggs[i].type); /* fixed up once the number of keys and aggs is known */
        }
        for (int i = 0; i < x->call.nargs; i++)
            x->call.args[i] = plan_grouped(P, x->call.args[i]);
        plan_resolve_call(P, x);
        return x;
    }
    case WEIR_E_COLUMN:
        if (q->window.kind != WEIR_WINDOW_NONE && !strcmp(x->col.name, "window_start"))
            return slot(P, x->pos, -1000000, WEIR_TYPE_TIMESTAMP);
        if (q->window.kind != WEIR_WINDOW_NONE && !strcmp(x->col.name, "window_end"))
            return slot(P, x->pos, -1000001, WEIR_TYPE_TIMESTAMP);
        if (q->window.kind != WEIR_WINDOW_NONE && !strcmp(x->col.name, "window_time"))
            return slot(P, x->pos, -1000002, WEIR_TYPE_TIMESTAMP);
        plan_resolve(P, x); /* reports unknown columns first */
        fail(P, x->pos, "column %s must appear in GROUP BY or be used inside an aggregate", x->col.name);
    case WEIR_E_UNARY: x->op.a = plan_grouped(P, x->op.a); break;
    case WEIR_E_BINARY: x->op.a = plan_grouped(P, x->op.a); x->op.b = plan_grouped(P, x->op.b); break;
    case WEIR_E_CASE:
        if (x->cases.operand) x->cases.operand = plan_grouped(P, x->cases.operand);
        for (int i = 0; i < x->cases.n; i++) {
            x->cases.when[i] = plan_grouped(P, x->cases.when[i]);
            x->cases.then[i] = plan_grouped(P, x->cases.then[i]);
        }
        if (x->cases.otherwise) x->cases.otherwise = plan_grouped(P, x->cases.otherwise);
        break;
    case WEIR_E_CAST: x->cast.a = plan_grouped(P, x->cast.a); break;
    case WEIR_E_IS_NULL: x->isnull.a = plan_grouped(P, x->isnull.a); break;
    case WEIR_E_IN:
        x->in.a = plan_grouped(P, x->in.a);
        for (int i = 0; i < x->in.n; i++) x->in.list[i] = plan_grouped(P, x->in.list[i]);
        break;
    case WEIR_E_BETWEEN:
        x->between.a = plan_grouped(P, x->between.a);
        x->between.lo = plan_grouped(P, x->between.lo);
        x->between.hi = plan_grouped(P, x->between.hi);
        break;
    case WEIR_E_LIKE: x->like.a = plan_grouped(P, x->like.a); x->like.pattern = plan_grouped(P, x->like.pattern); break;
    default: break;
    }
    plan_resolve(P, x); /* types of the rewritten node (its children are slots or resolved) */
    return x;
}

/* Gives aggregate and window placeholders their final slot numbers. */
void plan_fix_slots(weir_query *q, weir_expr *x)
{
    if (!x)
        return;
    switch (x->kind) {
    case WEIR_E_SLOT:
        if (x->slot == -1000000) x->slot = q->nkeys + q->naggs;
        else if (x->slot == -1000001) x->slot = q->nkeys + q->naggs + 1;
        else if (x->slot == -1000002) x->slot = q->nkeys + q->naggs + 2;
        else if (x->slot < 0) x->slot = q->nkeys + (-1 - x->slot);
        return;
    case WEIR_E_UNARY: plan_fix_slots(q, x->op.a); return;
    case WEIR_E_BINARY: plan_fix_slots(q, x->op.a); plan_fix_slots(q, x->op.b); return;
    case WEIR_E_CALL: for (int i = 0; i < x->call.nargs; i++) plan_fix_slots(q, x->call.args[i]); return;
    case WEIR_E_CASE:
        plan_fix_slots(q, x->cases.operand);
        for (int i = 0; i < x->cases.n; i++) {
            plan_fix_slots(q, x->cases.when[i]);
            plan_fix_slots(q, x->cases.then[i]);
        }
        plan_fix_slots(q, x->cases.otherwise);
        return;
    case WEIR_E_CAST: plan_fix_slots(q, x->cast.a); return;
    case WEIR_E_IS_NULL: plan_fix_slots(q, x->isnull.a); return;
    case WEIR_E_IN:
        plan_fix_slots(q, x->in.a);
        for (int i = 0; i < x->in.n; i++) plan_fix_slots(q, x->in.list[i]);
        return;
    case WEIR_E_BETWEEN:
        plan_fix_slots(q, x->between.a);
        plan_fix_slots(q, x->between.lo);
        plan_fix_slots(q, x->between.hi);
        return;
    case WEIR_E_LIKE: plan_fix_slots(q, x->like.a); plan_fix_slots(q, x->like.pattern); return;
    default: return;
    }
}

/* The first aggregate call inside x, or NULL. */
const weir_expr *plan_find_aggregate(const weir_expr *x)
{
    if (!x)
        return NULL;
    const weir_expr *f = NULL;
    switch (x->kind) {
    case WEIR_E_CALL:
        if (plan_is_aggregate(x->call.name))
            return x;
        for (int i = 0; i < x->call.nargs && !f; i++)
            f = plan_find_aggregate(x->call.args[i]);
        return f;
    case WEIR_E_UNARY: return plan_find_aggregate(x->op.a);
    case WEIR_E_BINARY: return (f = plan_find_aggregate(x->op.a)) ? f : plan_find_aggregate(x->op.b);
    case WEIR_E_CASE:
        for (int i = 0; i < x->cases.n && !f; i++)
            if (!(f = plan_find_aggregate(x->cases.when[i])))
                f = plan_find_aggregate(x->cases.then[i]);
        if (!f)
            f = plan_find_aggregate(x->cases.operand);
        return f ? f : plan_find_aggregate(x->cases.otherwise);
    case WEIR_E_CAST: return plan_find_aggregate(x->cast.a);
    case WEIR_E_IS_NULL: return plan_find_aggregate(x->isnull.a);
    case WEIR_E_IN:
        for (int i = 0; i < x->in.n && !f; i++)
            f = plan_find_aggregate(x->in.list[i]);
        return f ? f : plan_find_aggregate(x->in.a);
    case WEIR_E_BETWEEN:
        if ((f = plan_find_aggregate(x->between.a)) || (f = plan_find_aggregate(x->between.lo)))
            return f;
        return plan_find_aggregate(x->between.hi);
    case WEIR_E_LIKE: return (f = plan_find_aggregate(x->like.a)) ? f : plan_find_aggregate(x->like.pattern);
    default: return NULL;
    }
}
