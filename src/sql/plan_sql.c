/*
 * plan_sql.c - planned expressions written back as SQL, for EXPLAIN: what
 * a filter, a key or an output computes, as the user would write it.
 *
 * Parentheses go where precedence needs them (a child operator binding
 * less tightly than its parent, or as tightly on the right), names are
 * double-quoted when they are not plain identifiers, and a grouped row's
 * slots are written as what they hold: the GROUP BY expression, the
 * aggregate call, window_start or window_end.
 */
#include "sql/plan_internal.h"

#include <stdio.h>
#include <string.h>

#include "base/buf.h"

typedef struct printer {
    weir_buf b;
    const weir_query *q;
    int rc;
} printer;

static void put(printer *p, const char *s)
{
    if (!p->rc)
        p->rc = weir_buf_append_str(&p->b, s);
}

static void put_quoted(printer *p, const char *s, size_t n, char q)
{
    char qs[2] = {q, 0};
    put(p, qs);
    for (size_t i = 0; i < n && !p->rc; i++) {
        p->rc = weir_buf_append(&p->b, s + i, 1);
        if (s[i] == q)
            put(p, qs);
    }
    put(p, qs);
}

static void put_name(printer *p, const char *s)
{
    bool plain = (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_';
    for (const char *c = s; *c && plain; c++)
        plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_';
    if (plain)
        put(p, s);
    else
        put_quoted(p, s, strlen(s), '"');
}

static void put_interval(printer *p, int64_t ms)
{
    static const struct { int64_t ms; const char *unit; } units[] = {
        {86400000, "DAY"}, {3600000, "HOUR"}, {60000, "MINUTE"}, {1000, "SECOND"}, {1, "MILLISECOND"}};
    size_t i = 0;
    while (ms == 0 ? units[i].ms > 1 : ms % units[i].ms)
        i++;
    if (!p->rc)
        p->rc = weir_buf_printf(&p->b, "INTERVAL '%lld' %s", (long long)(ms / units[i].ms), units[i].unit);
}

static void put_literal(printer *p, const weir_expr *x)
{
    const weir_value *v = &x->lit;
    char buf[40];
    if (v->is_null)
        return put(p, "NULL");
    if (x->interval)
        return put_interval(p, v->i);
    switch (v->type) {
    case WEIR_TYPE_TEXT: return put_quoted(p, v->s, v->len, '\'');
    case WEIR_TYPE_TIMESTAMP:
        weir_timestamp_format(v->i, buf, sizeof buf);
        put(p, "TIMESTAMP ");
        return put_quoted(p, buf, strlen(buf), '\'');
    default:
        if (!p->rc)
            p->rc = weir_value_to_json(&p->b, v); /* numbers and booleans read the same in SQL */
        return;
    }
}

/* How tightly a binary operator binds (higher: tighter). */
static int precedence(const weir_expr *x)
{
    if (x->kind != WEIR_E_BINARY)
        return x->kind == WEIR_E_IS_NULL || x->kind == WEIR_E_IN || x->kind == WEIR_E_BETWEEN || x->kind == WEIR_E_LIKE ? 4 : 9;
    switch (x->op.op) {
    case WEIR_OP_OR: return 1;
    case WEIR_OP_AND: return 2;
    case WEIR_OP_CONCAT: return 5;
    case WEIR_OP_ADD: case WEIR_OP_SUB: return 6;
    case WEIR_OP_MUL: case WEIR_OP_DIV: case WEIR_OP_MOD: return 7;
    default: return 4; /* comparisons */
    }
}

static void expr(printer *p, const weir_expr *x);

/* x as an operand of an operator binding as tightly as prec: in
 * parentheses if it binds less tightly (or as tightly, when `right`). */
static void operand(printer *p, const weir_expr *x, int prec, bool right)
{
    int mine = precedence(x);
    bool paren = mine < prec || (right && mine == prec);
    if (paren)
        put(p, "(");
    expr(p, x);
    if (paren)
        put(p, ")");
}

static void list(printer *p, weir_expr *const *v, int n)
{
    for (int i = 0; i < n; i++) {
        if (i)
            put(p, ", ");
        expr(p, v[i]);
    }
}

static void aggregate(printer *p, const weir_agg *g)
{
    static const char *const names[] = {
        [WEIR_AGG_COUNT] = "COUNT", [WEIR_AGG_COUNT_IF] = "COUNT_IF", [WEIR_AGG_SUM] = "SUM",
        [WEIR_AGG_MIN] = "MIN", [WEIR_AGG_MAX] = "MAX", [WEIR_AGG_AVG] = "AVG",
        [WEIR_AGG_COUNT_DISTINCT] = "COUNT", [WEIR_AGG_APPROX_DISTINCT] = "APPROX_COUNT_DISTINCT",
        [WEIR_AGG_TOPK] = "TOPK",
    };
    put(p, g->fn < sizeof names / sizeof names[0] && names[g->fn] ? names[g->fn] : "?");
    put(p, g->fn == WEIR_AGG_COUNT_DISTINCT ? "(DISTINCT " : "(");
    if (g->arg)
        expr(p, g->arg);
    else
        put(p, "*");
    if (g->fn == WEIR_AGG_TOPK && !p->rc)
        p->rc = weir_buf_printf(&p->b, ", %u", g->k);
    put(p, ")");
}

static void slot(printer *p, int s)
{
    const weir_query *q = p->q;
    if (!q)
        put(p, "?");
    else if (s < q->nkeys)
        expr(p, q->keys[s]);
    else if (s < q->nkeys + q->naggs)
        aggregate(p, &q->aggs[s - q->nkeys]);
    else
        put(p, s == q->nkeys + q->naggs ? "window_start" : "window_end");
}

static void expr(printer *p, const weir_expr *x)
{
    static const char *const ops[] = {"-", "NOT ", " + ", " - ", " * ", " / ", " % ", " || ", " = ", " <> ",
                                      " < ", " <= ", " > ", " >= ", " AND ", " OR "};
    switch (x->kind) {
    case WEIR_E_LITERAL: return put_literal(p, x);
    case WEIR_E_COLUMN:
        if (x->col.qual) {
            put_name(p, x->col.qual);
            put(p, ".");
        }
        return put_name(p, x->col.name);
    case WEIR_E_PARAM:
        put(p, "{");
        put_name(p, x->col.name);
        return put(p, "}");
    case WEIR_E_STAR: return put(p, "*");
    case WEIR_E_SLOT: return slot(p, x->slot);
    case WEIR_E_UNARY:
        put(p, ops[x->op.op]);
        return operand(p, x->op.a, 8, false);
    case WEIR_E_BINARY: {
        int prec = precedence(x);
        operand(p, x->op.a, prec, false);
        put(p, ops[x->op.op]);
        return operand(p, x->op.b, prec, true);
    }
    case WEIR_E_CALL:
        put(p, x->call.name);
        put(p, x->call.distinct ? "(DISTINCT " : "(");
        list(p, x->call.args, x->call.nargs);
        if (x->call.returning) {
            put(p, " RETURNING ");
            put(p, weir_type_name(x->call.returning));
        }
        return put(p, ")");
    case WEIR_E_CASE:
        put(p, "CASE");
        if (x->cases.operand) {
            put(p, " ");
            expr(p, x->cases.operand);
        }
        for (int i = 0; i < x->cases.n; i++) {
            put(p, " WHEN ");
            expr(p, x->cases.when[i]);
            put(p, " THEN ");
            expr(p, x->cases.then[i]);
        }
        if (x->cases.otherwise) {
            put(p, " ELSE ");
            expr(p, x->cases.otherwise);
        }
        return put(p, " END");
    case WEIR_E_CAST:
        put(p, "CAST(");
        expr(p, x->cast.a);
        put(p, " AS ");
        put(p, weir_type_name(x->cast.to));
        return put(p, ")");
    case WEIR_E_IS_NULL:
        operand(p, x->isnull.a, 5, false);
        return put(p, x->isnull.negate ? " IS NOT NULL" : " IS NULL");
    case WEIR_E_IN:
        operand(p, x->in.a, 5, false);
        put(p, x->in.negate ? " NOT IN (" : " IN (");
        list(p, x->in.list, x->in.n);
        return put(p, ")");
    case WEIR_E_BETWEEN:
        operand(p, x->between.a, 5, false);
        put(p, x->between.negate ? " NOT BETWEEN " : " BETWEEN ");
        operand(p, x->between.lo, 5, false);
        put(p, " AND ");
        return operand(p, x->between.hi, 5, false);
    case WEIR_E_LIKE:
        operand(p, x->like.a, 5, false);
        put(p, x->like.negate ? " NOT LIKE " : " LIKE ");
        return operand(p, x->like.pattern, 5, false);
    }
}

const char *plan_interval_sql(planner *P, int64_t ms)
{
    printer p = {{0}, NULL, 0};
    put_interval(&p, ms);
    char *s = p.rc ? NULL : weir_arena_strndup(P->a, (const char *)p.b.data, p.b.len);
    weir_buf_free(&p.b);
    if (!s)
        fail(P, (weir_sql_pos){0, 0}, "out of memory");
    return s;
}

const char *plan_expr_sql(planner *P, const weir_expr *x, const weir_query *q)
{
    printer p = {{0}, q, 0};
    expr(&p, x);
    char *s = p.rc ? NULL : weir_arena_strndup(P->a, p.b.data ? (const char *)p.b.data : "", p.b.len);
    weir_buf_free(&p.b);
    if (!s)
        fail(P, x->pos, "out of memory");
    return s;
}
