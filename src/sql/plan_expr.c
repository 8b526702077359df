/*
 * plan_expr.c - an expression's names and types: each column found in the
 * input row (planner.input), each function call checked against its
 * signature, each operator's operands made to meet in one type.
 *
 * Resolving an expression fills its type and, for a column, its index in
 * the row it is evaluated over; it fails at the first name or type that
 * does not fit, with its position. Aggregates are not resolved here: they
 * are only allowed where plan_agg.c rewrites them into slots.
 */
#include "sql/plan_internal.h"

#include <string.h>

#include "base/buf.h"
#include "sql/eval.h"

int plan_column_index(const weir_schema *s, const char *name)
{
    for (int i = 0; i < s->ncols; i++)
        if (!strcmp(s->cols[i].name, name))
            return i;
    return -1;
}

static const char *column_list(planner *P, const weir_schema *s)
{
    weir_buf b = {0};
    for (int i = 0; i < s->ncols; i++)
        if (weir_buf_printf(&b, "%s%s", i ? ", " : "", s->cols[i].name)) {
            weir_buf_free(&b);
            return "";
        }
    char *r = weir_arena_strndup(P->a, b.data ? (char *)b.data : "", b.len);
    weir_buf_free(&b);
    return r ? r : "";
}

bool plan_numeric(weir_type t) { return t == WEIR_TYPE_INT || t == WEIR_TYPE_UINT || t == WEIR_TYPE_DOUBLE; }

/* The numeric type two operands meet in. A non-negative INT literal next to
 * a UINT becomes UINT, so `value * 3 + 1` stays UINT. */
static weir_type promote(weir_expr *a, weir_expr *b)
{
    weir_type x = a->type, y = b->type;
    if (x == WEIR_TYPE_NULL) return y;
    if (y == WEIR_TYPE_NULL) return x;
    if (x == WEIR_TYPE_DOUBLE || y == WEIR_TYPE_DOUBLE) return WEIR_TYPE_DOUBLE;
    if (x == y) return x;
    weir_expr *lit = x == WEIR_TYPE_INT ? a : b;
    if (lit->kind == WEIR_E_LITERAL && !lit->lit.is_null && lit->lit.i >= 0) {
        lit->lit = weir_uint((uint64_t)lit->lit.i);
        lit->type = WEIR_TYPE_UINT;
        return WEIR_TYPE_UINT;
    }
    return WEIR_TYPE_INT;
}

/* Whether values of types a and b can be compared; a TEXT literal next to
 * a TIMESTAMP is parsed as a timestamp here, once. */
static bool comparable(planner *P, weir_expr *a, weir_expr *b)
{
    weir_type x = a->type, y = b->type;
    if (x == WEIR_TYPE_NULL || y == WEIR_TYPE_NULL || x == y || (plan_numeric(x) && plan_numeric(y)))
        return true;
    weir_expr *lit = x == WEIR_TYPE_TEXT ? a : y == WEIR_TYPE_TEXT ? b : NULL;
    weir_type other = lit == a ? y : x;
    if (lit && other == WEIR_TYPE_TIMESTAMP && lit->kind == WEIR_E_LITERAL) {
        int64_t ms;
        if (!weir_timestamp_parse(lit->lit.s, lit->lit.len, &ms))
            fail(P, lit->pos, "'%.*s' is not an ISO 8601 timestamp", (int)lit->lit.len, lit->lit.s);
        lit->lit = weir_timestamp(ms);
        lit->type = WEIR_TYPE_TIMESTAMP;
        return true;
    }
    return false;
}

void plan_need_bool(planner *P, weir_expr *x, const char *where)
{
    if (x->type != WEIR_TYPE_BOOL && x->type != WEIR_TYPE_NULL)
        fail(P, x->pos, "%s must be a condition (BOOL), not %s", where, weir_type_name(x->type));
}

static const char *op_name(weir_op op)
{
    static const char *const names[] = {"-", "NOT", "+", "-", "*", "/", "%", "||", "=", "<>", "<", "<=", ">", ">=", "AND", "OR"};
    return names[op];
}

void plan_resolve_call(planner *P, weir_expr *x)
{
    if (plan_is_aggregate(x->call.name))
        fail(P, x->pos, "aggregate %s is not allowed here (only in the SELECT list or HAVING of a grouped query)", x->call.name);
    int fn = weir_function_find(x->call.name);
    if (fn < 0)
        fail(P, x->pos, "unknown function %s (functions: %s; aggregates: %s)", x->call.name, weir_function_names(),
             plan_aggregate_list(P));
    if (x->call.distinct)
        fail(P, x->pos, "DISTINCT is only for count(DISTINCT x)");
    for (int i = 0; i < x->call.nargs; i++) {
        if (x->call.args[i]->kind == WEIR_E_STAR)
            fail(P, x->call.args[i]->pos, "* is only an argument of count(*)");
        plan_resolve(P, x->call.args[i]);
    }
    x->call.fn = fn;
    const char *why = weir_function_check(fn, x->call.args, x->call.nargs, &x->type);
    if (why)
        fail(P, x->pos, "%s: %s", x->call.name, why);
    if (x->call.returning == WEIR_TYPE_JSON)
        fail(P, x->pos, "json_value returns scalars: RETURNING JSON is json_query(doc, path)");
    if (x->call.returning)
        x->type = x->call.returning;
}

/* The streams in scope, for messages: "clicks AS c, buys AS b". */
static const char *scope_list(planner *P)
{
    weir_buf b = {0};
    for (int i = 0; i < P->nscope; i++)
        if (weir_buf_printf(&b, "%s%s%s%s", i ? ", " : "", P->scope[i].name, P->scope[i].alias ? " AS " : "",
                            P->scope[i].alias ? P->scope[i].alias : "")) {
            weir_buf_free(&b);
            return "";
        }
    char *r = weir_arena_strndup(P->a, b.data ? (char *)b.data : "", b.len);
    weir_buf_free(&b);
    return r ? r : "";
}

/* A column's index in the input row through the scope: qualified, in the
 * stream its qualifier names (the alias, or the name of a stream without
 * one); unqualified, in the one stream that has it. -1 if none has it. */
static int scope_column(planner *P, const weir_expr *x)
{
    int found = -1, where = -1;
    for (int s = 0; s < P->nscope; s++) {
        const plan_scope *sc = &P->scope[s];
        if (x->col.qual && strcmp(x->col.qual, sc->alias ? sc->alias : sc->name))
            continue;
        where = s;
        for (int i = sc->offset; i < sc->offset + sc->ncols; i++) {
            if (strcmp(P->input->cols[i].name, x->col.name))
                continue;
            if (found >= 0)
                fail(P, x->pos, "column %s is ambiguous: both %s and %s have it; write %s.%s or %s.%s", x->col.name,
                     P->scope[0].name, P->scope[1].name, P->scope[0].alias ? P->scope[0].alias : P->scope[0].name,
                     x->col.name, P->scope[1].alias ? P->scope[1].alias : P->scope[1].name, x->col.name);
            found = i;
        }
    }
    if (x->col.qual && where < 0)
        fail(P, x->pos, "%s in %s.%s names no stream of this query (it reads %s)", x->col.qual, x->col.qual, x->col.name,
             scope_list(P));
    if (x->col.qual && found < 0) {
        const plan_scope *sc = &P->scope[where];
        weir_schema cols = {P->input->cols + sc->offset, sc->ncols};
        fail(P, x->pos, "unknown column %s in %s (it has: %s)", x->col.name, sc->name, column_list(P, &cols));
    }
    return found;
}

void plan_resolve(planner *P, weir_expr *x)
{
    switch (x->kind) {
    case WEIR_E_LITERAL:
        if (x->interval) /* TIMESTAMP arithmetic is not typed yet: the join's bound is read as written */
            fail(P, x->pos, "INTERVAL is only allowed in a join's time bound (b.ts BETWEEN a.ts - INTERVAL ... AND "
                            "a.ts + INTERVAL ...) and in window clauses");
        x->type = (weir_type)x->lit.type;
        return;
    case WEIR_E_SLOT:
        return; /* made by the grouped rewrite, already typed */
    case WEIR_E_PARAM:
        if (!P->endpoint)
            fail(P, x->pos, "{%s} is an endpoint's parameter: only CREATE ENDPOINT ... AS SELECT takes them", x->col.name);
        x->type = WEIR_TYPE_NULL; /* typed by what it meets (infer_params) */
        return;
    case WEIR_E_STAR:
        fail(P, x->pos, "* is only an argument of count(*)");
    case WEIR_E_COLUMN: {
        int i = P->nscope ? scope_column(P, x) : plan_column_index(P->input, x->col.name);
        if (x->col.qual && !P->nscope)
            fail(P, x->pos, "%s.%s: only a query's SELECT, WHERE and ON take qualified names; write %s", x->col.qual,
                 x->col.name, x->col.name);
        if (i < 0) {
            if (!strcmp(x->col.name, "window_start") || !strcmp(x->col.name, "window_end") ||
                !strcmp(x->col.name, "window_time"))
                fail(P, x->pos, "%s is only defined in a windowed query (FROM TUMBLE(s, ...) or TABLE(TUMBLE(TABLE s, "
                                "...)), HOP, CUMULATE, SESSION)", x->col.name);
            fail(P, x->pos, "unknown column %s in %s (it has: %s)", x->col.name, P->input_name, column_list(P, P->input));
        }
        x->col.index = i;
        x->type = P->input->cols[i].type;
        return;
    }
    case WEIR_E_UNARY:
        plan_resolve(P, x->op.a);
        if (x->op.op == WEIR_OP_NOT) {
            plan_need_bool(P, x->op.a, "the operand of NOT");
            x->type = WEIR_TYPE_BOOL;
        } else {
            if (!plan_numeric(x->op.a->type) && x->op.a->type != WEIR_TYPE_NULL)
                fail(P, x->pos, "cannot negate %s", weir_type_name(x->op.a->type));
            x->type = x->op.a->type == WEIR_TYPE_UINT ? WEIR_TYPE_INT : x->op.a->type;
        }
        return;
    case WEIR_E_BINARY: {
        weir_expr *a = x->op.a, *b = x->op.b;
        plan_resolve(P, a);
        plan_resolve(P, b);
        weir_op op = x->op.op;
        if (op == WEIR_OP_AND || op == WEIR_OP_OR) {
            plan_need_bool(P, a, op == WEIR_OP_AND ? "each side of AND" : "each side of OR");
            plan_need_bool(P, b, op == WEIR_OP_AND ? "each side of AND" : "each side of OR");
            x->type = WEIR_TYPE_BOOL;
        } else if (op >= WEIR_OP_EQ) {
            if (!comparable(P, a, b))
                fail(P, x->pos, "cannot compare %s with %s", weir_type_name(a->type), weir_type_name(b->type));
            x->type = WEIR_TYPE_BOOL;
        } else if (op == WEIR_OP_CONCAT) {
            x->type = WEIR_TYPE_TEXT;
        } else {
            if ((!plan_numeric(a->type) && a->type != WEIR_TYPE_NULL) ||
                (!plan_numeric(b->type) && b->type != WEIR_TYPE_NULL))
                fail(P, x->pos, "operator %s needs numbers, not %s and %s", op_name(op), weir_type_name(a->type),
                     weir_type_name(b->type));
            x->type = promote(a, b);
            if (x->type == WEIR_TYPE_NULL)
                x->type = WEIR_TYPE_INT;
        }
        return;
    }
    case WEIR_E_CALL:
        plan_resolve_call(P, x);
        return;
    case WEIR_E_CASE: {
        if (x->cases.operand)
            plan_resolve(P, x->cases.operand);
        weir_expr *first = NULL;
        for (int i = 0; i <= x->cases.n; i++) {
            weir_expr *then = i < x->cases.n ? x->cases.then[i] : x->cases.otherwise;
            if (i < x->cases.n) {
                plan_resolve(P, x->cases.when[i]);
                if (x->cases.operand) {
                    if (!comparable(P, x->cases.operand, x->cases.when[i]))
                        fail(P, x->cases.when[i]->pos, "WHEN value cannot be compared with the CASE operand");
                } else {
                    plan_need_bool(P, x->cases.when[i], "a WHEN condition");
                }
            }
            if (!then)
                continue;
            plan_resolve(P, then);
            if (!first || first->type == WEIR_TYPE_NULL) {
                first = then;
                x->type = then->type;
            } else if (then->type != WEIR_TYPE_NULL && then->type != x->type) {
                if (!plan_numeric(then->type) || !plan_numeric(x->type))
                    fail(P, then->pos, "CASE branches have different types (%s and %s)", weir_type_name(x->type),
                         weir_type_name(then->type));
                x->type = promote(first, then);
            }
        }
        return;
    }
    case WEIR_E_CAST:
        plan_resolve(P, x->cast.a);
        x->type = x->cast.to;
        return;
    case WEIR_E_IS_NULL:
        plan_resolve(P, x->isnull.a);
        x->type = WEIR_TYPE_BOOL;
        return;
    case WEIR_E_IN:
        plan_resolve(P, x->in.a);
        for (int i = 0; i < x->in.n; i++) {
            plan_resolve(P, x->in.list[i]);
            if (!comparable(P, x->in.a, x->in.list[i]))
                fail(P, x->in.list[i]->pos, "IN list value of type %s cannot be compared with %s",
                     weir_type_name(x->in.list[i]->type), weir_type_name(x->in.a->type));
        }
        x->type = WEIR_TYPE_BOOL;
        return;
    case WEIR_E_BETWEEN:
        plan_resolve(P, x->between.a);
        plan_resolve(P, x->between.lo);
        plan_resolve(P, x->between.hi);
        if (!comparable(P, x->between.a, x->between.lo) || !comparable(P, x->between.a, x->between.hi))
            fail(P, x->pos, "BETWEEN bounds cannot be compared with %s", weir_type_name(x->between.a->type));
        x->type = WEIR_TYPE_BOOL;
        return;
    case WEIR_E_LIKE:
        plan_resolve(P, x->like.a);
        plan_resolve(P, x->like.pattern);
        if (x->like.a->type != WEIR_TYPE_TEXT || x->like.pattern->type != WEIR_TYPE_TEXT)
            fail(P, x->pos, "LIKE needs TEXT on both sides");
        x->type = WEIR_TYPE_BOOL;
        return;
    }
}

/* A condition over the input row (WHERE, CHECK): no aggregates, a BOOL. */
void plan_condition(planner *P, weir_expr *x, const char *clause, const char *hint)
{
    const weir_expr *agg = plan_find_aggregate(x);
    if (agg)
        fail(P, agg->pos, "aggregates are not allowed in %s%s", clause, hint);
    plan_resolve(P, x);
    plan_need_bool(P, x, clause);
}

/* The output name of a SELECT item without alias. */
const char *plan_derived_name(const weir_select_item *it)
{
    const weir_expr *x = it->expr;
    if (x->kind == WEIR_E_COLUMN)
        return x->col.name;
    if (x->kind == WEIR_E_CALL)
        return x->call.name;
    return NULL;
}
