/*
 * inline.c - a FROM subquery or WITH query merged into the query reading
 * it (see inline.h), as databases merge views:
 *
 *   SELECT c, n FROM (SELECT lower(page) AS c, n FROM clicks WHERE n > 0) AS s WHERE c <> 'x'
 *   => SELECT lower(page) AS c, n FROM clicks WHERE n > 0 AND lower(page) <> 'x'
 *
 * An inner query that filters and projects merges into any outer query
 * (which may then group, window, order, limit). An inner query that groups
 * merges into an outer one that only filters and projects: the outer WHERE
 * reads the grouped rows, so it becomes (part of) HAVING. Anything else is
 * refused with what to write instead: a subquery's ORDER BY or LIMIT
 * (they would bound rows the outer query goes on reading), grouping over
 * grouping, windows over a join, a join with a subquery.
 *
 * Every expression taken from the inner query is copied, since the
 * planner writes types and slots into the nodes it plans.
 */
#include "sql/inline.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "sql/plan_internal.h"

typedef struct inliner {
    weir_arena *a;
    weir_sql_error *e;
    jmp_buf fail;
    const weir_select *inner;
    const char *name;              /* what the outer query calls the inner one */
    const weir_select *outer;      /* for ORDER BY naming an outer alias */
} inliner;

static _Noreturn void refuse(inliner *I, weir_sql_pos pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static _Noreturn void refuse(inliner *I, weir_sql_pos pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    weir_sql_error_vset(I->e, pos, fmt, ap);
    va_end(ap);
    longjmp(I->fail, 1);
}

static void *room(inliner *I, size_t n)
{
    void *p = n ? weir_arena_alloc(I->a, n) : NULL;
    if (n && !p)
        refuse(I, (weir_sql_pos){1, 1}, "out of memory");
    return p;
}

static weir_expr *copy(inliner *I, const weir_expr *x);

static weir_expr **copy_list(inliner *I, weir_expr *const *v, int n)
{
    weir_expr **w = room(I, (size_t)n * sizeof *w);
    for (int i = 0; i < n; i++)
        w[i] = copy(I, v[i]);
    return w;
}

/* A deep copy of x, as the parser made it. */
static weir_expr *copy(inliner *I, const weir_expr *x)
{
    if (!x)
        return NULL;
    weir_expr *y = room(I, sizeof *y);
    *y = *x;
    switch (x->kind) {
    case WEIR_E_UNARY: case WEIR_E_BINARY:
        y->op.a = copy(I, x->op.a);
        y->op.b = copy(I, x->op.b);
        break;
    case WEIR_E_CALL: y->call.args = copy_list(I, x->call.args, x->call.nargs); break;
    case WEIR_E_CASE:
        y->cases.operand = copy(I, x->cases.operand);
        y->cases.when = copy_list(I, x->cases.when, x->cases.n);
        y->cases.then = copy_list(I, x->cases.then, x->cases.n);
        y->cases.otherwise = copy(I, x->cases.otherwise);
        break;
    case WEIR_E_CAST: y->cast.a = copy(I, x->cast.a); break;
    case WEIR_E_IS_NULL: y->isnull.a = copy(I, x->isnull.a); break;
    case WEIR_E_IN:
        y->in.a = copy(I, x->in.a);
        y->in.list = copy_list(I, x->in.list, x->in.n);
        break;
    case WEIR_E_BETWEEN:
        y->between.a = copy(I, x->between.a);
        y->between.lo = copy(I, x->between.lo);
        y->between.hi = copy(I, x->between.hi);
        break;
    case WEIR_E_LIKE:
        y->like.a = copy(I, x->like.a);
        y->like.pattern = copy(I, x->like.pattern);
        break;
    default:
        break;
    }
    return y;
}

/* The name an item's column has in the query's result, or NULL. */
static const char *output_name(const weir_select_item *it)
{
    return it->alias ? it->alias : plan_derived_name(it);
}

static const char *inner_columns(inliner *I)
{
    weir_buf b = {0};
    for (int i = 0; i < I->inner->nitems; i++) {
        const char *n = output_name(&I->inner->items[i]);
        if (n && weir_buf_printf(&b, "%s%s", b.len ? ", " : "", n)) {
            weir_buf_free(&b);
            refuse(I, (weir_sql_pos){1, 1}, "out of memory");
        }
    }
    char *s = weir_arena_strndup(I->a, b.data ? (const char *)b.data : "", b.len);
    weir_buf_free(&b);
    if (!s)
        refuse(I, (weir_sql_pos){1, 1}, "out of memory");
    return s;
}

/* x (over the inner query's result) over what the inner query reads: each
 * column naming an inner output becomes a copy of its expression. With
 * `order`, a column naming one of the outer query's own outputs stays. */
static weir_expr *subst(inliner *I, const weir_expr *x, bool order)
{
    if (!x)
        return NULL;
    if (x->kind == WEIR_E_COLUMN) {
        if (x->col.qual && strcmp(x->col.qual, I->name))
            refuse(I, x->pos, "%s in %s.%s names nothing this query reads (it reads %s)", x->col.qual, x->col.qual,
                   x->col.name, I->name);
        for (int i = 0; i < I->inner->nitems; i++) {
            const char *n = output_name(&I->inner->items[i]);
            if (n && !strcmp(n, x->col.name))
                return copy(I, I->inner->items[i].expr);
        }
        for (int i = 0; order && !x->col.qual && i < I->outer->nitems; i++)
            if (I->outer->items[i].alias && !strcmp(I->outer->items[i].alias, x->col.name))
                return copy(I, x);
        bool bound = !strcmp(x->col.name, "window_start") || !strcmp(x->col.name, "window_end");
        if (!I->inner->star && !(bound && I->outer->window.kind != WEIR_WINDOW_NONE))
            refuse(I, x->pos, "unknown column %s in %s (it has: %s)", x->col.name, I->name, inner_columns(I));
        weir_expr *y = copy(I, x); /* SELECT *, or the outer window's bounds: the column of what the inner query reads */
        y->col.qual = NULL;
        return y;
    }
    weir_expr *y = room(I, sizeof *y);
    *y = *x;
    switch (x->kind) {
    case WEIR_E_UNARY: case WEIR_E_BINARY:
        y->op.a = subst(I, x->op.a, order);
        y->op.b = subst(I, x->op.b, order);
        break;
    case WEIR_E_CALL:
        y->call.args = room(I, (size_t)x->call.nargs * sizeof *y->call.args);
        for (int i = 0; i < x->call.nargs; i++)
            y->call.args[i] = subst(I, x->call.args[i], order);
        break;
    case WEIR_E_CASE:
        y->cases.operand = subst(I, x->cases.operand, order);
        y->cases.when = room(I, (size_t)x->cases.n * sizeof *y->cases.when);
        y->cases.then = room(I, (size_t)x->cases.n * sizeof *y->cases.then);
        for (int i = 0; i < x->cases.n; i++) {
            y->cases.when[i] = subst(I, x->cases.when[i], order);
            y->cases.then[i] = subst(I, x->cases.then[i], order);
        }
        y->cases.otherwise = subst(I, x->cases.otherwise, order);
        break;
    case WEIR_E_CAST: y->cast.a = subst(I, x->cast.a, order); break;
    case WEIR_E_IS_NULL: y->isnull.a = subst(I, x->isnull.a, order); break;
    case WEIR_E_IN:
        y->in.a = subst(I, x->in.a, order);
        y->in.list = room(I, (size_t)x->in.n * sizeof *y->in.list);
        for (int i = 0; i < x->in.n; i++)
            y->in.list[i] = subst(I, x->in.list[i], order);
        break;
    case WEIR_E_BETWEEN:
        y->between.a = subst(I, x->between.a, order);
        y->between.lo = subst(I, x->between.lo, order);
        y->between.hi = subst(I, x->between.hi, order);
        break;
    case WEIR_E_LIKE:
        y->like.a = subst(I, x->like.a, order);
        y->like.pattern = subst(I, x->like.pattern, order);
        break;
    default:
        break;
    }
    return y;
}

/* a AND b, either of which may be NULL. */
static weir_expr *both(inliner *I, weir_expr *a, weir_expr *b)
{
    if (!a || !b)
        return a ? a : b;
    weir_expr *x = room(I, sizeof *x);
    *x = (weir_expr){.kind = WEIR_E_BINARY, .pos = b->pos, .op = {WEIR_OP_AND, a, b}};
    return x;
}

static bool grouped(const weir_select *s)
{
    if (s->ngroup || s->having || s->window.kind != WEIR_WINDOW_NONE)
        return true;
    for (int i = 0; i < s->nitems; i++)
        if (plan_find_aggregate(s->items[i].expr))
            return true;
    return false;
}

/* outer's SELECT list over what inner reads: each item substituted, named
 * as it was (a bare column keeps its name as an alias); SELECT * takes
 * inner's list. */
static void merge_items(inliner *I, weir_select *outer)
{
    const weir_select *in = I->inner;
    if (outer->star) {
        outer->star = in->star;
        outer->nitems = in->nitems;
        outer->items = room(I, (size_t)in->nitems * sizeof *outer->items);
        for (int i = 0; i < in->nitems; i++) {
            outer->items[i] = in->items[i];
            outer->items[i].expr = copy(I, in->items[i].expr);
        }
        return;
    }
    for (int i = 0; i < outer->nitems; i++) {
        weir_select_item *it = &outer->items[i];
        if (!it->alias)
            it->alias = output_name(it);
        it->expr = subst(I, it->expr, false);
    }
}

/* outer reads what inner reads: its stream or table, join and window. */
static void take_source(inliner *I, weir_select *outer)
{
    const weir_select *in = I->inner;
    outer->from = in->from;
    outer->from_pos = in->from_pos;
    outer->from_alias = in->from_alias;
    outer->join = in->join;
    outer->join_pos = in->join_pos;
    outer->right = in->right;
    outer->right_pos = in->right_pos;
    outer->right_alias = in->right_alias;
    outer->right_as_of = copy(I, in->right_as_of);
    outer->on = copy(I, in->on);
    outer->on_pos = in->on_pos;
    if (in->join || in->window.kind != WEIR_WINDOW_NONE)
        outer->window = in->window; /* a join's GRACE is kept there too */
}

static void merge(inliner *I, weir_select *outer)
{
    const weir_select *in = I->inner;
    if (outer->join)
        refuse(I, outer->join_pos, "a join reads streams and tables, not subqueries: create %s as a stream "
                                   "(CREATE STREAM %s AS SELECT ...) and join that", I->name, I->name);
    if (in->norder || in->limit >= 0)
        refuse(I, in->norder ? in->order[0].expr->pos : in->from_pos,
               "ORDER BY and LIMIT in a subquery are not supported: order and limit the outer query");
    if (in->emit_given)
        refuse(I, in->from_pos, "EMIT belongs to the outer query, not to a subquery");
    if (in->partition_by)
        refuse(I, in->partition_by->pos, "PARTITION BY belongs to the outer query, not to a subquery");
    if (outer->window.kind != WEIR_WINDOW_NONE && (in->join || grouped(in)))
        refuse(I, outer->from_pos, "a window over %s, which %s, is not supported: create %s as a stream and window that",
               I->name, in->join ? "joins" : "groups", I->name);
    if (!grouped(in)) {
        merge_items(I, outer);
        outer->where = both(I, copy(I, in->where), subst(I, outer->where, false));
        for (int i = 0; i < outer->ngroup; i++)
            outer->group_by[i] = subst(I, outer->group_by[i], false);
        outer->having = subst(I, outer->having, false);
    } else {
        if (grouped(outer))
            refuse(I, outer->from_pos, "grouping over %s, which groups already, is not supported: create %s as a table "
                                       "(CREATE TABLE %s AS SELECT ...) and query that", I->name, I->name, I->name);
        weir_expr *filter = subst(I, outer->where, false);
        merge_items(I, outer);
        outer->where = copy(I, in->where);
        outer->ngroup = in->ngroup;
        outer->group_by = copy_list(I, in->group_by, in->ngroup);
        outer->having = both(I, copy(I, in->having), filter); /* the outer WHERE reads grouped rows */
        if (!outer->emit_given) {
            outer->emit = in->emit;
            outer->emit_given = in->emit_given;
        }
    }
    outer->partition_by = subst(I, outer->partition_by, false);
    for (int i = 0; i < outer->norder; i++)
        outer->order[i].expr = subst(I, outer->order[i].expr, true);
    take_source(I, outer);
}

int weir_select_inline(weir_arena *a, weir_select *outer, const weir_select *inner, const char *name, weir_sql_error *e)
{
    weir_select saved = *outer; /* ORDER BY reads the outer aliases as written */
    inliner I = {.a = a, .e = e, .inner = inner, .name = name, .outer = &saved};
    if (setjmp(I.fail))
        return WEIR_EINVAL;
    merge(&I, outer);
    return WEIR_OK;
}
