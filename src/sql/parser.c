/*
 * parser.c - recursive descent over the tokens of lexer.c, building the
 * AST of ast.h in an arena.
 *
 * Errors unwind with longjmp to weir_sql_parse: everything allocated lives
 * in the arena, so there is nothing to free on the way out, and each rule
 * reads as the grammar it implements. Every message says what was expected
 * where, and what was found instead.
 *
 * Expression precedence, loosest first: OR, AND, NOT, comparison (= <> < <=
 * > >= IS [NOT] NULL, [NOT] IN, [NOT] BETWEEN, [NOT] LIKE), ||, + -, * / %,
 * unary -, primary.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "sql/inline.h"
#include "sql/lexer.h"

/* A WITH query in scope: WITH name AS (SELECT ...). */
typedef struct cte {
    const char *name;
    weir_sql_pos pos;
    weir_select *select;
    const struct cte *next;    /* the ones declared before it, or outside */
} cte;

typedef struct parser {
    weir_lexer lx;
    weir_token tok;            /* the current token */
    weir_token prev;           /* the one before it */
    weir_arena *a;
    weir_sql_error *e;
    jmp_buf fail;
    const cte *ctes;           /* the WITH queries in scope */
    int depth;                 /* expressions and queries being parsed inside one another */
} parser;

static _Noreturn void fail_at(parser *P, weir_sql_pos pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static _Noreturn void fail_at(parser *P, weir_sql_pos pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    weir_sql_error_vset(P->e, pos, fmt, ap);
    va_end(ap);
    longjmp(P->fail, 1);
}

/* "expected <what>, found <current token>" at the current token. */
static _Noreturn void expected(parser *P, const char *what)
{
    char found[64];
    weir_token_describe(&P->tok, found, sizeof found);
    fail_at(P, P->tok.pos, "expected %s, found %s", what, found);
}

/* The parser, the planner and the evaluator recurse over an expression,
 * so nesting is bounded (a request of 20,000 parentheses overflowed a
 * query thread's stack): MAX_NESTING parentheses, subqueries or prefix
 * operators inside one another while parsing, MAX_DEPTH operators deep
 * in the tree (a chain of 1000 ORs is fine). */
#define MAX_NESTING 256
#define MAX_DEPTH 2000

static void nest(parser *P)
{
    if (++P->depth > MAX_NESTING)
        fail_at(P, P->tok.pos, "expressions and subqueries are nested more than %d deep here", MAX_NESTING);
}

static void *alloc(parser *P, size_t n)
{
    void *p = weir_arena_alloc(P->a, n);
    if (!p)
        fail_at(P, P->tok.pos, "out of memory");
    return p;
}

/* Room for element n of an arena array of *cap elements of `size`
 * bytes, doubling it (into a fresh arena block) when full. */
static void *grow(parser *P, void *v, int n, int *cap, size_t size)
{
    if (n < *cap)
        return v;
    int c = *cap ? *cap * 2 : 8;
    void *w = alloc(P, (size_t)c * size);
    if (n)
        memcpy(w, v, (size_t)n * size);
    *cap = c;
    return w;
}

static void next(parser *P)
{
    P->prev = P->tok;
    if (weir_lex(&P->lx, &P->tok, P->e) != 0)
        longjmp(P->fail, 1);
}

static bool is_kw(parser *P, const char *kw) { return weir_token_is(&P->tok, kw); }

static bool accept_kw(parser *P, const char *kw)
{
    if (!is_kw(P, kw))
        return false;
    next(P);
    return true;
}

static void expect_kw(parser *P, const char *kw, const char *context)
{
    if (!accept_kw(P, kw)) {
        char what[128];
        snprintf(what, sizeof what, "%s %s", kw, context);
        expected(P, what);
    }
}

static bool accept(parser *P, weir_token_kind k)
{
    if (P->tok.kind != k)
        return false;
    next(P);
    return true;
}

static void expect(parser *P, weir_token_kind k, const char *what)
{
    if (!accept(P, k))
        expected(P, what);
}

/* Words that cannot be bare names, because the grammar needs them. */
static bool reserved(const weir_token *t)
{
    static const char *const words[] = {
        "SELECT", "FROM", "WHERE", "GROUP", "BY", "HAVING", "ORDER", "LIMIT", "EMIT", "AND", "OR", "NOT",
        "IS", "NULL", "TRUE", "FALSE", "CASE", "WHEN", "THEN", "ELSE", "END", "AS", "IN", "BETWEEN", "LIKE",
        "CAST", "INTERVAL", "GRACE", "ASC", "DESC", "DISTINCT", "WITH", "CREATE", "DROP",
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (weir_token_is(t, words[i]))
            return true;
    return false;
}

/* The text of a quoted token without its quotes, doubled quotes undone. */
static char *unquote(parser *P, const weir_token *t)
{
    char q = t->p[0];
    char *s = alloc(P, t->len);
    size_t n = 0;
    for (size_t i = 1; i + 1 < t->len; i++) {
        s[n++] = t->p[i];
        if (t->p[i] == q)
            i++;
    }
    s[n] = '\0';
    return s;
}

static bool at_name(parser *P)
{
    return P->tok.kind == WEIR_T_QIDENT || (P->tok.kind == WEIR_T_IDENT && !reserved(&P->tok));
}

/* A name: a bare identifier (not a reserved word) or a "quoted" one. */
static const char *name(parser *P, const char *what)
{
    if (P->tok.kind == WEIR_T_QIDENT) {
        char *s = unquote(P, &P->tok);
        if (!*s)
            fail_at(P, P->tok.pos, "%s must not be empty", what);
        next(P);
        return s;
    }
    if (P->tok.kind != WEIR_T_IDENT || reserved(&P->tok)) {
        char w[128];
        snprintf(w, sizeof w, "%s", what);
        if (P->tok.kind == WEIR_T_IDENT) {
            char found[64];
            weir_token_describe(&P->tok, found, sizeof found);
            fail_at(P, P->tok.pos, "expected %s, found the reserved word %s (double-quote it to use it as a name)", w, found);
        }
        expected(P, w);
    }
    const char *s = weir_arena_strndup(P->a, P->tok.p, P->tok.len);
    if (!s)
        fail_at(P, P->tok.pos, "out of memory");
    next(P);
    return s;
}

static char *lower(parser *P, const weir_token *t)
{
    char *s = alloc(P, t->len + 1);
    for (size_t i = 0; i < t->len; i++)
        s[i] = (char)(t->p[i] >= 'A' && t->p[i] <= 'Z' ? t->p[i] + 32 : t->p[i]);
    return s;
}

/* ---- expressions ---- */

static weir_expr *new_expr(parser *P, weir_expr_kind kind, weir_sql_pos pos)
{
    weir_expr *x = alloc(P, sizeof *x);
    x->kind = kind;
    x->pos = pos;
    return x;
}

static weir_expr *expr(parser *P);
static int64_t interval(parser *P, const char *context);
static weir_type type_name(parser *P);

/* A growable array of expression pointers in the arena. */
typedef struct expr_list {
    weir_expr **v;
    int n, cap;
} expr_list;

static void push(parser *P, expr_list *l, weir_expr *x)
{
    l->v = grow(P, l->v, l->n, &l->cap, sizeof *l->v);
    l->v[l->n++] = x;
}

/* The current token as a C string: tokens point into the SQL text, which
 * need not be NUL-terminated (a request body, say), so the C library's
 * number parsers must not read them in place. */
static const char *token_text(parser *P, char *buf, size_t cap)
{
    if (P->tok.len >= cap)
        fail_at(P, P->tok.pos, "token too long");
    memcpy(buf, P->tok.p, P->tok.len);
    buf[P->tok.len] = '\0';
    return buf;
}

static weir_expr *number_literal(parser *P)
{
    weir_expr *x = new_expr(P, WEIR_E_LITERAL, P->tok.pos);
    char buf[128];
    token_text(P, buf, sizeof buf);
    errno = 0;
    if (P->tok.kind == WEIR_T_INT) {
        unsigned long long u = strtoull(buf, NULL, 10);
        if (errno == ERANGE)
            fail_at(P, P->tok.pos, "integer literal %s does not fit in 64 bits", buf);
        x->lit = u <= INT64_MAX ? weir_int((int64_t)u) : weir_uint(u);
    } else {
        double d = strtod(buf, NULL);
        if (!isfinite(d))
            fail_at(P, P->tok.pos, "number literal %s is out of range", buf);
        x->lit = weir_double(d);
    }
    next(P);
    return x;
}

static weir_expr *call(parser *P, weir_token fn)
{
    weir_expr *x = new_expr(P, WEIR_E_CALL, fn.pos);
    x->call.name = lower(P, &fn);
    x->call.slot = -1;
    expr_list args = {0};
    if (accept_kw(P, "DISTINCT"))
        x->call.distinct = true;
    if (P->tok.kind == WEIR_T_STAR) {
        push(P, &args, new_expr(P, WEIR_E_STAR, P->tok.pos));
        next(P);
    } else if (P->tok.kind != WEIR_T_RPAREN) {
        do
            push(P, &args, expr(P));
        while (accept(P, WEIR_T_COMMA));
    }
    if (is_kw(P, "RETURNING") && strcmp(x->call.name, "json_value"))
        fail_at(P, P->tok.pos, "RETURNING is only for json_value, not %s", x->call.name);
    if (accept_kw(P, "RETURNING")) /* JSON_VALUE(doc, path RETURNING type), as Flink writes it */
        x->call.returning = type_name(P);
    char what[160];
    snprintf(what, sizeof what, "',' or ')' in the arguments of %s", x->call.name);
    expect(P, WEIR_T_RPAREN, what);
    x->call.args = args.v;
    x->call.nargs = args.n;
    return x;
}

static weir_expr *case_expr(parser *P, weir_sql_pos pos)
{
    weir_expr *x = new_expr(P, WEIR_E_CASE, pos);
    if (!is_kw(P, "WHEN"))
        x->cases.operand = expr(P);
    expr_list when = {0}, then = {0};
    while (accept_kw(P, "WHEN")) {
        push(P, &when, expr(P));
        expect_kw(P, "THEN", "after the WHEN condition");
        push(P, &then, expr(P));
    }
    if (when.n == 0)
        expected(P, "WHEN in CASE");
    if (accept_kw(P, "ELSE"))
        x->cases.otherwise = expr(P);
    expect_kw(P, "END", "to close CASE");
    x->cases.when = when.v;
    x->cases.then = then.v;
    x->cases.n = when.n;
    return x;
}

/* A column: name, or qualifier.name (c.user, "conjecture.data".value). */
static weir_expr *column(parser *P)
{
    weir_expr *x = new_expr(P, WEIR_E_COLUMN, P->tok.pos);
    x->col.name = name(P, "a column name");
    x->col.index = -1;
    if (accept(P, WEIR_T_DOT)) {
        x->col.qual = x->col.name;
        x->col.name = name(P, "a column name after the stream's name or alias and '.'");
    }
    return x;
}

static weir_type type_name(parser *P)
{
    weir_type t;
    if (P->tok.kind != WEIR_T_IDENT || !weir_type_parse(P->tok.p, P->tok.len, &t))
        expected(P, "a type (BOOL, INT, UINT, DOUBLE, TEXT, TIMESTAMP or JSON)");
    next(P);
    return t;
}

static weir_expr *primary(parser *P)
{
    weir_token t = P->tok;
    switch (t.kind) {
    case WEIR_T_INT:
    case WEIR_T_FLOAT:
        return number_literal(P);
    case WEIR_T_STRING: {
        weir_expr *x = new_expr(P, WEIR_E_LITERAL, t.pos);
        char *s = unquote(P, &t);
        x->lit = weir_text(s, strlen(s));
        next(P);
        return x;
    }
    case WEIR_T_LPAREN: {
        next(P);
        weir_expr *x = expr(P);
        expect(P, WEIR_T_RPAREN, "')'");
        return x;
    }
    case WEIR_T_QIDENT:
        return column(P);
    case WEIR_T_LBRACE: { /* {name}: an endpoint's parameter */
        next(P);
        weir_expr *x = new_expr(P, WEIR_E_PARAM, t.pos);
        x->col.name = name(P, "a parameter name in {...}");
        x->col.index = -1;
        expect(P, WEIR_T_RBRACE, "'}' after the parameter's name");
        return x;
    }
    case WEIR_T_IDENT:
        break;
    default:
        expected(P, "an expression");
    }
    if (accept_kw(P, "NULL")) {
        weir_expr *x = new_expr(P, WEIR_E_LITERAL, t.pos);
        x->lit = weir_null(WEIR_TYPE_NULL);
        return x;
    }
    if (is_kw(P, "TRUE") || is_kw(P, "FALSE")) {
        weir_expr *x = new_expr(P, WEIR_E_LITERAL, t.pos);
        x->lit = weir_bool(is_kw(P, "TRUE"));
        next(P);
        return x;
    }
    if (accept_kw(P, "CASE"))
        return case_expr(P, t.pos);
    if (accept_kw(P, "CAST")) {
        weir_expr *x = new_expr(P, WEIR_E_CAST, t.pos);
        expect(P, WEIR_T_LPAREN, "'(' after CAST");
        x->cast.a = expr(P);
        expect_kw(P, "AS", "in CAST(value AS type)");
        x->cast.to = type_name(P);
        expect(P, WEIR_T_RPAREN, "')' to close CAST");
        return x;
    }
    if (weir_token_is(&t, "TIMESTAMP")) { /* TIMESTAMP '2026-11-23T05:00:00Z', or a column named timestamp */
        next(P);
        if (P->tok.kind == WEIR_T_STRING) {
            weir_expr *x = new_expr(P, WEIR_E_LITERAL, t.pos);
            char *s = unquote(P, &P->tok);
            int64_t ms;
            if (!weir_timestamp_parse(s, strlen(s), &ms))
                fail_at(P, P->tok.pos, "'%s' is not an ISO 8601 timestamp (like 2026-11-23T05:00:00Z)", s);
            x->lit = weir_timestamp(ms);
            next(P);
            return x;
        }
        weir_expr *x = new_expr(P, WEIR_E_COLUMN, t.pos);
        x->col.name = weir_arena_strndup(P->a, t.p, t.len);
        x->col.index = -1;
        return x;
    }
    if (is_kw(P, "INTERVAL")) {
        weir_expr *x = new_expr(P, WEIR_E_LITERAL, t.pos);
        x->lit = weir_int(interval(P, "amount unit"));
        x->interval = true;
        return x;
    }
    if (reserved(&t))
        expected(P, "an expression");
    weir_lexer save = P->lx;
    next(P);
    if (accept(P, WEIR_T_LPAREN))
        return call(P, t);
    P->lx = save;
    P->tok = t;
    return column(P);
}

static weir_expr *unary(parser *P)
{
    weir_sql_pos pos = P->tok.pos;
    if (accept(P, WEIR_T_MINUS)) {
        nest(P);
        weir_expr *a = unary(P);
        P->depth--;
        if (a->kind == WEIR_E_LITERAL && !a->lit.is_null) { /* fold -literal, so INT64_MIN is writable */
            if (a->lit.type == WEIR_TYPE_INT) { a->lit.i = -a->lit.i; a->pos = pos; return a; }
            if (a->lit.type == WEIR_TYPE_DOUBLE) { a->lit.d = -a->lit.d; a->pos = pos; return a; }
            if (a->lit.type == WEIR_TYPE_UINT && a->lit.u == (uint64_t)INT64_MAX + 1) {
                a->lit = weir_int(INT64_MIN);
                a->pos = pos;
                return a;
            }
        }
        weir_expr *x = new_expr(P, WEIR_E_UNARY, pos);
        x->op.op = WEIR_OP_NEG;
        x->op.a = a;
        return x;
    }
    if (accept(P, WEIR_T_PLUS))
        return unary(P);
    return primary(P);
}

static weir_expr *binary(parser *P, weir_op op, weir_expr *a, weir_expr *b, weir_sql_pos pos)
{
    weir_expr *x = new_expr(P, WEIR_E_BINARY, pos);
    x->op.op = op;
    x->op.a = a;
    x->op.b = b;
    return x;
}

static weir_expr *mul(parser *P)
{
    weir_expr *x = unary(P);
    for (;;) {
        weir_sql_pos pos = P->tok.pos;
        weir_op op;
        if (accept(P, WEIR_T_STAR)) op = WEIR_OP_MUL;
        else if (accept(P, WEIR_T_SLASH)) op = WEIR_OP_DIV;
        else if (accept(P, WEIR_T_PERCENT)) op = WEIR_OP_MOD;
        else return x;
        x = binary(P, op, x, unary(P), pos);
    }
}

static weir_expr *add(parser *P)
{
    weir_expr *x = mul(P);
    for (;;) {
        weir_sql_pos pos = P->tok.pos;
        weir_op op;
        if (accept(P, WEIR_T_PLUS)) op = WEIR_OP_ADD;
        else if (accept(P, WEIR_T_MINUS)) op = WEIR_OP_SUB;
        else return x;
        x = binary(P, op, x, mul(P), pos);
    }
}

static weir_expr *concat(parser *P)
{
    weir_expr *x = add(P);
    for (;;) {
        weir_sql_pos pos = P->tok.pos;
        if (!accept(P, WEIR_T_CONCAT))
            return x;
        x = binary(P, WEIR_OP_CONCAT, x, add(P), pos);
    }
}

static weir_expr *comparison(parser *P)
{
    weir_expr *x = concat(P);
    weir_sql_pos pos = P->tok.pos;
    static const struct { weir_token_kind t; weir_op op; } cmps[] = {
        {WEIR_T_EQ, WEIR_OP_EQ}, {WEIR_T_NE, WEIR_OP_NE}, {WEIR_T_LT, WEIR_OP_LT},
        {WEIR_T_LE, WEIR_OP_LE}, {WEIR_T_GT, WEIR_OP_GT}, {WEIR_T_GE, WEIR_OP_GE},
    };
    for (size_t i = 0; i < sizeof cmps / sizeof cmps[0]; i++)
        if (accept(P, cmps[i].t))
            return binary(P, cmps[i].op, x, concat(P), pos);
    if (accept_kw(P, "IS")) {
        weir_expr *y = new_expr(P, WEIR_E_IS_NULL, pos);
        y->isnull.negate = accept_kw(P, "NOT");
        expect_kw(P, "NULL", "after IS [NOT]");
        y->isnull.a = x;
        return y;
    }
    bool negate = false;
    if (is_kw(P, "NOT")) {
        next(P);
        negate = true;
        if (!is_kw(P, "IN") && !is_kw(P, "BETWEEN") && !is_kw(P, "LIKE"))
            expected(P, "IN, BETWEEN or LIKE after NOT");
    }
    if (accept_kw(P, "IN")) {
        weir_expr *y = new_expr(P, WEIR_E_IN, pos);
        expect(P, WEIR_T_LPAREN, "'(' after IN");
        expr_list l = {0};
        do
            push(P, &l, expr(P));
        while (accept(P, WEIR_T_COMMA));
        expect(P, WEIR_T_RPAREN, "',' or ')' in the IN list");
        y->in.a = x;
        y->in.list = l.v;
        y->in.n = l.n;
        y->in.negate = negate;
        return y;
    }
    if (accept_kw(P, "BETWEEN")) {
        weir_expr *y = new_expr(P, WEIR_E_BETWEEN, pos);
        y->between.a = x;
        y->between.lo = concat(P);
        expect_kw(P, "AND", "in BETWEEN low AND high");
        y->between.hi = concat(P);
        y->between.negate = negate;
        return y;
    }
    if (accept_kw(P, "LIKE")) {
        weir_expr *y = new_expr(P, WEIR_E_LIKE, pos);
        y->like.a = x;
        y->like.pattern = concat(P);
        y->like.negate = negate;
        return y;
    }
    return x;
}

static weir_expr *not_expr(parser *P)
{
    weir_sql_pos pos = P->tok.pos;
    if (accept_kw(P, "NOT")) {
        weir_expr *x = new_expr(P, WEIR_E_UNARY, pos);
        x->op.op = WEIR_OP_NOT;
        nest(P);
        x->op.a = not_expr(P);
        P->depth--;
        return x;
    }
    return comparison(P);
}

static weir_expr *and_expr(parser *P)
{
    weir_expr *x = not_expr(P);
    for (;;) {
        weir_sql_pos pos = P->tok.pos;
        if (!accept_kw(P, "AND"))
            return x;
        x = binary(P, WEIR_OP_AND, x, not_expr(P), pos);
    }
}

static weir_expr *or_expr(parser *P)
{
    weir_expr *x = and_expr(P);
    for (;;) {
        weir_sql_pos pos = P->tok.pos;
        if (!accept_kw(P, "OR"))
            return x;
        x = binary(P, WEIR_OP_OR, x, and_expr(P), pos);
    }
}

/* How deep x's tree is, counted up to limit + 1 (the walk stops there). */
static int tree_depth(const weir_expr *x, int limit)
{
    if (!x || limit < 0)
        return 0;
    int d = 0;
#define DEEPER(y) do { int d_ = tree_depth((y), limit - 1); d = d_ > d ? d_ : d; } while (0)
    switch (x->kind) {
    case WEIR_E_UNARY: case WEIR_E_BINARY: DEEPER(x->op.a); DEEPER(x->op.b); break;
    case WEIR_E_CALL: for (int i = 0; i < x->call.nargs; i++) DEEPER(x->call.args[i]); break;
    case WEIR_E_CASE:
        DEEPER(x->cases.operand);
        DEEPER(x->cases.otherwise);
        for (int i = 0; i < x->cases.n; i++) { DEEPER(x->cases.when[i]); DEEPER(x->cases.then[i]); }
        break;
    case WEIR_E_CAST: DEEPER(x->cast.a); break;
    case WEIR_E_IS_NULL: DEEPER(x->isnull.a); break;
    case WEIR_E_IN: DEEPER(x->in.a); for (int i = 0; i < x->in.n; i++) DEEPER(x->in.list[i]); break;
    case WEIR_E_BETWEEN: DEEPER(x->between.a); DEEPER(x->between.lo); DEEPER(x->between.hi); break;
    case WEIR_E_LIKE: DEEPER(x->like.a); DEEPER(x->like.pattern); break;
    default: break;
    }
#undef DEEPER
    return d + 1;
}

static weir_expr *expr(parser *P)
{
    nest(P);
    weir_expr *x = or_expr(P);
    P->depth--;
    if (tree_depth(x, MAX_DEPTH) > MAX_DEPTH)
        fail_at(P, x->pos, "expression is more than %d operators deep", MAX_DEPTH);
    return x;
}

/* ---- SELECT ---- */

/* INTERVAL '5' MINUTE, INTERVAL 30 SECONDS, INTERVAL '1.5' HOUR. */
static const struct { const char *unit; int64_t ms; } interval_units[] = {
    {"MILLISECOND", 1}, {"MILLISECONDS", 1}, {"SECOND", 1000}, {"SECONDS", 1000},
    {"MINUTE", 60000}, {"MINUTES", 60000}, {"HOUR", 3600000}, {"HOURS", 3600000},
    {"DAY", 86400000}, {"DAYS", 86400000},
};

/* A unit's milliseconds, the word compared without case; 0 if it is none. */
static int64_t unit_ms(const char *word, size_t len)
{
    for (size_t i = 0; i < sizeof interval_units / sizeof interval_units[0]; i++)
        if (strlen(interval_units[i].unit) == len && !strncasecmp(interval_units[i].unit, word, len))
            return interval_units[i].ms;
    return 0;
}

static int64_t whole_ms(parser *P, weir_sql_pos pos, double ms)
{
    if (!(ms >= 1) || ms > 1e15 || ms != floor(ms))
        fail_at(P, pos, "interval must be a whole number of milliseconds from 1 ms to about 30000 years");
    return (int64_t)ms;
}

/* The amounts and units inside a string, as PostgreSQL and Flink write
 * them: '1 minute', '5 minutes', '1 hour 30 minutes'. */
static int64_t interval_text(parser *P, weir_sql_pos pos, const char *text)
{
    double ms = 0;
    for (const char *s = text; *s;) {
        char *end;
        double n = strtod(s, &end);
        if (end == s)
            fail_at(P, pos, "interval '%s': expected an amount at '%s', like '5 minutes'", text, s);
        const char *word = end + strspn(end, " ");
        size_t len = strspn(word, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
        int64_t unit = unit_ms(word, len);
        if (!unit)
            fail_at(P, pos, "interval '%s': expected a unit after %.*s (millisecond, second, minute, hour or day, "
                            "singular or plural)", text, (int)(end - s), s);
        ms += n * (double)unit;
        s = word + len;
        s += strspn(s, " ");
    }
    return whole_ms(P, pos, ms);
}

/* INTERVAL '5' MINUTE, INTERVAL 5 MINUTE or INTERVAL '5 minutes'. */
static int64_t interval(parser *P, const char *context)
{
    char what[128];
    snprintf(what, sizeof what, "INTERVAL %s", context);
    if (!accept_kw(P, "INTERVAL"))
        expected(P, what);
    weir_sql_pos pos = P->tok.pos;
    double n;
    if (P->tok.kind == WEIR_T_STRING) {
        char *s = unquote(P, &P->tok), *end;
        n = strtod(s, &end);
        if (end == s)
            fail_at(P, pos, "interval amount '%s' is not a number", s);
        if (*end) { /* the unit is in the string */
            next(P);
            return interval_text(P, pos, s);
        }
    } else if (P->tok.kind == WEIR_T_INT || P->tok.kind == WEIR_T_FLOAT) {
        char buf[128];
        n = strtod(token_text(P, buf, sizeof buf), NULL);
    } else {
        expected(P, "the interval's amount, like '5'");
    }
    next(P);
    if (P->tok.kind == WEIR_T_IDENT) {
        int64_t unit = unit_ms(P->tok.p, P->tok.len);
        if (unit) {
            next(P);
            return whole_ms(P, pos, n * (double)unit);
        }
    }
    expected(P, "a unit (MILLISECOND, SECOND, MINUTE, HOUR or DAY)");
}

/* A window function's name (TUMBLE, HOP, SESSION, CUMULATE) into w->kind; false if it is none. */
static bool window_kind(const weir_token *t, weir_window_spec *w)
{
    if (weir_token_is(t, "TUMBLE")) w->kind = WEIR_WINDOW_TUMBLE;
    else if (weir_token_is(t, "HOP")) w->kind = WEIR_WINDOW_HOP;
    else if (weir_token_is(t, "SESSION")) w->kind = WEIR_WINDOW_SESSION;
    else if (weir_token_is(t, "CUMULATE")) w->kind = WEIR_WINDOW_HOP, w->cumulate = true;
    else return false;
    return true;
}

/* The intervals of a window of kind w->kind: TUMBLE's size, HOP's slide
 * then size, CUMULATE's step then size, SESSION's gap (weir's form and
 * Flink's TVFs alike). */
static void window_sizes(parser *P, weir_window_spec *w)
{
    switch (w->kind) {
    case WEIR_WINDOW_TUMBLE:
        w->size_ms = w->slide_ms = interval(P, "(the window size)");
        break;
    case WEIR_WINDOW_HOP: { /* CUMULATE too: its step is HOP's slide, its largest window HOP's size */
        const char *fn = w->cumulate ? "CUMULATE" : "HOP", *slide = w->cumulate ? "step" : "slide";
        char what[96];
        weir_sql_pos pos = P->tok.pos;
        snprintf(what, sizeof what, "(the %s: %s takes the %s first, then the size)", slide, fn, slide);
        w->slide_ms = interval(P, what);
        snprintf(what, sizeof what, "',' and the window size after the %s", slide);
        expect(P, WEIR_T_COMMA, what);
        w->size_ms = interval(P, "(the window size)");
        if (w->size_ms % w->slide_ms != 0 || w->size_ms < w->slide_ms)
            fail_at(P, pos, "%s window size must be a whole number of %ss (%s takes the %s first, then the size)", fn, slide,
                    fn, slide);
        break;
    }
    default:
        w->gap_ms = interval(P, "(the session gap)");
    }
}

/* A window's rows are aggregated where they are made: a join (Flink's
 * window join among them) comes first, in a stream of its own. */
static void no_join_after_window(parser *P)
{
    static const char *const words[] = {"JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (is_kw(P, words[i]))
            fail_at(P, P->tok.pos, "a windowed stream cannot be joined in the same query: make the join a "
                                   "stream (CREATE STREAM j AS SELECT ... JOIN ...) and window j");
}

static void window_source(parser *P, weir_select *s)
{
    weir_window_spec *w = &s->window;
    window_kind(&P->tok, w);
    next(P);
    expect(P, WEIR_T_LPAREN, "'(' after the window function");
    s->from_pos = P->tok.pos;
    s->from = name(P, "the stream to window");
    expect(P, WEIR_T_COMMA, "',' after the stream name");
    window_sizes(P, w);
    expect(P, WEIR_T_RPAREN, "')' to close the window");
    if (accept_kw(P, "GRACE"))
        w->grace_ms = interval(P, "after GRACE");
    no_join_after_window(P);
}

static const char *alias(parser *P);

/* SESSION(TABLE s PARTITION BY col | (col, ...), ...): Flink 1.19's keys of the sessions. */
static void tvf_partition(parser *P, weir_window_tvf *tvf)
{
    expect_kw(P, "BY", "after PARTITION");
    expr_list l = {0};
    bool list = accept(P, WEIR_T_LPAREN);
    do
        push(P, &l, column(P));
    while (list && accept(P, WEIR_T_COMMA));
    if (list)
        expect(P, WEIR_T_RPAREN, "',' or ')' in PARTITION BY (...)");
    tvf->partition = l.v;
    tvf->npartition = l.n;
}

/* Flink's window table-valued functions, after FROM: TABLE(TUMBLE(TABLE s,
 * DESCRIPTOR(ts), size)), TABLE(HOP(TABLE s, DESCRIPTOR(ts), slide, size)),
 * TABLE(CUMULATE(TABLE s, DESCRIPTOR(ts), step, size)),
 * TABLE(SESSION(TABLE s [PARTITION BY cols], DESCRIPTOR(ts), gap)), then
 * [[AS] alias] and weir's [GRACE INTERVAL ...]. */
static void window_tvf(parser *P, weir_select *s)
{
    weir_window_tvf *tvf = alloc(P, sizeof *tvf);
    s->tvf = tvf;
    tvf->pos = P->tok.pos;
    expect_kw(P, "TABLE", "before a window function");
    expect(P, WEIR_T_LPAREN, "'(' after TABLE");
    weir_token fn = P->tok;
    if (fn.kind != WEIR_T_IDENT || !window_kind(&fn, &s->window))
        expected(P, "a window function in TABLE(...): TUMBLE, HOP, CUMULATE or SESSION");
    char what[96];
    snprintf(what, sizeof what, "'(' after %.*s", (int)fn.len, fn.p);
    next(P);
    expect(P, WEIR_T_LPAREN, what);
    expect_kw(P, "TABLE", "and the stream to window: TABLE s");
    s->from_pos = P->tok.pos;
    s->from = name(P, "the stream to window after TABLE");
    if (accept_kw(P, "PARTITION")) {
        if (s->window.kind != WEIR_WINDOW_SESSION)
            fail_at(P, P->prev.pos, "PARTITION BY in a window function is SESSION's only (group by the columns instead)");
        tvf_partition(P, tvf);
    }
    expect(P, WEIR_T_COMMA, "',' and DESCRIPTOR(time column) after the stream");
    expect_kw(P, "DESCRIPTOR", "(the time column) after the stream");
    expect(P, WEIR_T_LPAREN, "'(' after DESCRIPTOR");
    tvf->time_pos = P->tok.pos;
    tvf->time_col = P->tok.kind == WEIR_T_IDENT && weir_token_is(&P->tok, "TIMESTAMP")
                        ? weir_arena_strndup(P->a, P->tok.p, P->tok.len) : NULL;
    if (tvf->time_col)
        next(P);
    else
        tvf->time_col = name(P, "the time column in DESCRIPTOR(...)");
    expect(P, WEIR_T_RPAREN, "')' after the time column (DESCRIPTOR takes one)");
    expect(P, WEIR_T_COMMA, "',' and the window's intervals after DESCRIPTOR(...)");
    window_sizes(P, &s->window);
    if (P->tok.kind == WEIR_T_COMMA)
        fail_at(P, P->tok.pos, "a window offset is not supported: windows start at multiples of their slide since the epoch");
    expect(P, WEIR_T_RPAREN, "')' to close the window function");
    expect(P, WEIR_T_RPAREN, "')' to close TABLE(...)");
    s->from_alias = alias(P);
    if (accept_kw(P, "GRACE"))
        s->window.grace_ms = interval(P, "after GRACE");
    no_join_after_window(P);
}

static void select_items(parser *P, weir_select *s)
{
    int cap = 0;
    s->distinct = accept_kw(P, "DISTINCT");
    if (s->distinct && P->tok.kind == WEIR_T_STAR)
        fail_at(P, P->tok.pos, "SELECT DISTINCT * is not supported: name the columns");
    do {
        if (P->tok.kind == WEIR_T_STAR && s->nitems == 0) {
            next(P);
            s->star = true;
            if (P->tok.kind == WEIR_T_COMMA)
                fail_at(P, P->tok.pos, "SELECT * cannot be followed by more columns");
            return;
        }
        s->items = grow(P, s->items, s->nitems, &cap, sizeof *s->items);
        weir_select_item *it = &s->items[s->nitems++];
        it->pos = P->tok.pos;
        it->expr = expr(P);
        if (accept_kw(P, "AS"))
            it->alias = name(P, "a column alias after AS");
        else if (at_name(P) && !is_kw(P, "FROM"))
            it->alias = name(P, "a column alias");
    } while (accept(P, WEIR_T_COMMA));
}

/* Words that end a FROM item, so that a bare name after it is not taken as its alias. */
static bool join_word(parser *P)
{
    static const char *const words[] = {"JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "ON", "PARTITION"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (is_kw(P, words[i]))
            return true;
    return false;
}

/* [AS] alias after a FROM item, or NULL. */
static const char *alias(parser *P)
{
    if (accept_kw(P, "AS"))
        return name(P, "an alias after AS");
    return at_name(P) && !join_word(P) ? name(P, "an alias") : NULL;
}

/* [LIMIT n]: whether it was there. */
static bool accept_limit(parser *P, weir_select *s)
{
    if (!accept_kw(P, "LIMIT"))
        return false;
    if (P->tok.kind != WEIR_T_INT)
        expected(P, "a whole number after LIMIT");
    char buf[64];
    errno = 0;
    s->limit = strtoll(token_text(P, buf, sizeof buf), NULL, 10);
    if (errno == ERANGE)
        fail_at(P, P->tok.pos, "LIMIT %s does not fit in 64 bits", buf);
    next(P);
    return true;
}

/* [INNER | LEFT [OUTER] | FULL [OUTER]] JOIN right [FOR SYSTEM_TIME AS OF
 * expr] [[AS] alias] ON condition. */
static void join_clause(parser *P, weir_select *s)
{
    s->join_pos = P->tok.pos;
    if (is_kw(P, "RIGHT") || is_kw(P, "CROSS"))
        fail_at(P, P->tok.pos, is_kw(P, "RIGHT") ? "RIGHT JOIN is not supported: swap the two streams and write LEFT JOIN"
                                                 : "CROSS JOIN is not supported: a stream join needs ON with an equality on "
                                                   "the key and a time bound");
    if (accept_kw(P, "LEFT"))
        s->join = WEIR_JOIN_LEFT;
    else if (accept_kw(P, "FULL"))
        s->join = WEIR_JOIN_FULL;
    else if (accept_kw(P, "INNER") || is_kw(P, "JOIN"))
        s->join = WEIR_JOIN_INNER;
    else
        return;
    if (s->join != WEIR_JOIN_INNER)
        accept_kw(P, "OUTER");
    expect_kw(P, "JOIN", "in a join (INNER, LEFT [OUTER] or FULL [OUTER] JOIN)");
    s->right_pos = P->tok.pos;
    s->right = name(P, "the stream or table to join after JOIN");
    if (accept_kw(P, "FOR")) { /* Flink's temporal join: FOR SYSTEM_TIME AS OF a.ts */
        expect_kw(P, "SYSTEM_TIME", "after FOR (FOR SYSTEM_TIME AS OF a.ts)");
        expect_kw(P, "AS", "after FOR SYSTEM_TIME");
        expect_kw(P, "OF", "after FOR SYSTEM_TIME AS");
        s->right_as_of = expr(P);
    }
    s->right_alias = alias(P);
    expect_kw(P, "ON", "and the join condition (ON a.key = b.key AND a time bound)");
    s->on_pos = P->tok.pos;
    s->on = expr(P);
    if (accept_kw(P, "GRACE"))
        s->window.grace_ms = interval(P, "after GRACE");
}

static weir_select *query(parser *P);

/* FROM (SELECT ...) [[AS] alias] and its join, if any (which inlining refuses). */
static void subquery_source(parser *P, weir_select *s)
{
    s->from_pos = P->tok.pos;
    next(P);
    s->subquery = query(P);
    expect(P, WEIR_T_RPAREN, "')' after the subquery");
    s->from_alias = alias(P);
    s->from = s->from_alias ? s->from_alias : "the subquery";
    join_clause(P, s);
}

/* Whether the token after the current one is '(': a name that calls
 * (TUMBLE(...), TABLE(...)) rather than names a stream. */
static bool next_is_lparen(parser *P)
{
    weir_lexer save = P->lx;
    weir_token t = P->tok;
    next(P);
    bool paren = P->tok.kind == WEIR_T_LPAREN;
    P->lx = save;
    P->tok = t;
    return paren;
}

static weir_select *select_stmt(parser *P)
{
    expect_kw(P, "SELECT", "to start a query");
    weir_select *s = alloc(P, sizeof *s);
    s->limit = -1;
    select_items(P, s);
    expect_kw(P, "FROM", "after the selected columns");
    if ((is_kw(P, "TUMBLE") || is_kw(P, "HOP") || is_kw(P, "SESSION") || is_kw(P, "CUMULATE")) && next_is_lparen(P))
        window_source(P, s);
    if (is_kw(P, "TABLE") && next_is_lparen(P))
        window_tvf(P, s);
    if (!s->from && P->tok.kind == WEIR_T_LPAREN)
        subquery_source(P, s);
    if (!s->from) {
        s->from_pos = P->tok.pos;
        s->from = name(P, "a stream or table name after FROM");
        s->from_alias = alias(P);
        join_clause(P, s);
    }
    if (accept_kw(P, "WHERE"))
        s->where = expr(P);
    if (accept_kw(P, "GROUP")) {
        expect_kw(P, "BY", "after GROUP");
        expr_list l = {0};
        do
            push(P, &l, expr(P));
        while (accept(P, WEIR_T_COMMA));
        s->group_by = l.v;
        s->ngroup = l.n;
    }
    if (accept_kw(P, "HAVING"))
        s->having = expr(P);
    if (accept_kw(P, "PARTITION")) {
        expect_kw(P, "BY", "after PARTITION");
        s->partition_by = expr(P);
    }
    if (accept_kw(P, "ORDER")) {
        expect_kw(P, "BY", "after ORDER");
        int cap = 0;
        do {
            s->order = grow(P, s->order, s->norder, &cap, sizeof *s->order);
            weir_order_item *o = &s->order[s->norder++];
            o->expr = expr(P);
            if (accept_kw(P, "DESC"))
                o->desc = true;
            else
                accept_kw(P, "ASC");
        } while (accept(P, WEIR_T_COMMA));
    }
    bool limited = accept_limit(P, s);
    if (accept_kw(P, "EMIT")) {
        s->emit_given = true;
        if (accept_kw(P, "FINAL"))
            s->emit = WEIR_EMIT_FINAL;
        else if (accept_kw(P, "CHANGES"))
            s->emit = WEIR_EMIT_CHANGES;
        else
            expected(P, "CHANGES or FINAL after EMIT");
        if (!limited) /* ksqlDB's push queries write EMIT CHANGES LIMIT n */
            accept_limit(P, s);
    }
    return s;
}

static const cte *find_cte(parser *P, const char *name)
{
    for (const cte *c = P->ctes; c && name; c = c->next)
        if (!strcmp(c->name, name))
            return c;
    return NULL;
}

/* Merges what s reads into s when it is a subquery or a WITH query. */
static void inline_source(parser *P, weir_select *s)
{
    const cte *c = s->subquery ? NULL : find_cte(P, s->from);
    if (s->right && find_cte(P, s->right))
        fail_at(P, s->right_pos, "a join reads streams and tables, not WITH queries: create %s as a stream "
                                 "(CREATE STREAM %s AS SELECT ...) and join that", s->right, s->right);
    if (!s->subquery && !c)
        return;
    const weir_select *inner = s->subquery ? s->subquery : c->select;
    const char *as = s->subquery ? s->from : s->from_alias ? s->from_alias : s->from;
    s->subquery = NULL;
    if (weir_select_inline(P->a, s, inner, as, P->e))
        longjmp(P->fail, 1);
    /* inner expressions now sit inside outer ones: bound the depth again */
    weir_expr *top[] = {s->where, s->having, s->partition_by, s->on};
    for (int i = 0; i < s->nitems + s->ngroup + s->norder + 4; i++) {
        const weir_expr *x = i < s->nitems ? s->items[i].expr
                           : i < s->nitems + s->ngroup ? s->group_by[i - s->nitems]
                           : i < s->nitems + s->ngroup + s->norder ? s->order[i - s->nitems - s->ngroup].expr
                           : top[i - s->nitems - s->ngroup - s->norder];
        if (tree_depth(x, MAX_DEPTH) > MAX_DEPTH)
            fail_at(P, x->pos, "expression is more than %d operators deep once %s is inlined", MAX_DEPTH, as);
    }
}

/* [WITH name AS (query), ...] SELECT ...: the WITH queries are in scope in
 * the ones after them and in the SELECT, which reads them (and a FROM
 * subquery) by inlining. */
static weir_select *query(parser *P)
{
    const cte *outside = P->ctes;
    nest(P);
    if (accept_kw(P, "WITH")) {
        if (is_kw(P, "RECURSIVE"))
            fail_at(P, P->tok.pos, "WITH RECURSIVE is not supported");
        do {
            cte *c = alloc(P, sizeof *c);
            c->pos = P->tok.pos;
            c->name = name(P, "a name for the WITH query");
            for (const cte *d = P->ctes; d != outside; d = d->next)
                if (!strcmp(d->name, c->name))
                    fail_at(P, c->pos, "WITH query %s is named twice", c->name);
            if (P->tok.kind == WEIR_T_LPAREN)
                fail_at(P, P->tok.pos, "a column list after a WITH query's name is not supported: name the columns "
                                       "with AS inside the query");
            expect_kw(P, "AS", "after the WITH query's name (WITH name AS (SELECT ...))");
            expect(P, WEIR_T_LPAREN, "'(' before the WITH query");
            c->select = query(P);
            expect(P, WEIR_T_RPAREN, "')' after the WITH query");
            c->next = P->ctes;
            P->ctes = c;
        } while (accept(P, WEIR_T_COMMA));
    }
    weir_select *s = select_stmt(P);
    inline_source(P, s);
    P->ctes = outside;
    P->depth--;
    return s;
}

/* ---- statements ---- */

/* An option's name: a name, or several joined by dots
 * (properties.security.protocol), lower-cased; or, as Flink writes them,
 * a quoted string or identifier, as written. */
static const char *option_name(parser *P)
{
    if (P->tok.kind == WEIR_T_STRING || P->tok.kind == WEIR_T_QIDENT) {
        char *name = unquote(P, &P->tok);
        next(P);
        return name;
    }
    if (P->tok.kind != WEIR_T_IDENT)
        expected(P, "an option name in WITH (...)");
    char *name = lower(P, &P->tok);
    next(P);
    while (accept(P, WEIR_T_DOT)) {
        if (P->tok.kind != WEIR_T_IDENT)
            expected(P, "a name after '.' in the option's name");
        size_t n = strlen(name);
        char *longer = alloc(P, n + 1 + P->tok.len + 1), *part = lower(P, &P->tok);
        memcpy(longer, name, n);
        longer[n] = '.';
        memcpy(longer + n + 1, part, P->tok.len);
        longer[n + 1 + P->tok.len] = '\0';
        name = longer;
        next(P);
    }
    return name;
}

static void with_options(parser *P, weir_stmt *st)
{
    if (!accept_kw(P, "WITH"))
        return;
    expect(P, WEIR_T_LPAREN, "'(' after WITH");
    int cap = 0;
    do {
        st->with = grow(P, st->with, st->nwith, &cap, sizeof *st->with);
        weir_with_option *o = &st->with[st->nwith];
        o->pos = P->tok.pos;
        o->name = option_name(P);
        for (int i = 0; i < st->nwith; i++)
            if (!strcasecmp(st->with[i].name, o->name))
                fail_at(P, o->pos, "option %s is given twice", o->name);
        expect(P, WEIR_T_EQ, "'=' after the option name");
        o->value_pos = P->tok.pos;
        o->value_len = P->tok.len;
        if (P->tok.kind == WEIR_T_STRING) {
            char *s = unquote(P, &P->tok);
            o->value = weir_text(s, strlen(s));
            next(P);
        } else if (P->tok.kind == WEIR_T_INT || P->tok.kind == WEIR_T_FLOAT) {
            o->value = number_literal(P)->lit;
        } else if (is_kw(P, "TRUE") || is_kw(P, "FALSE")) {
            o->value = weir_bool(is_kw(P, "TRUE"));
            next(P);
        } else {
            expected(P, "a string, number, TRUE or FALSE as the option's value");
        }
        st->nwith++;
    } while (accept(P, WEIR_T_COMMA));
    expect(P, WEIR_T_RPAREN, "',' or ')' in WITH (...)");
}

/* PRIMARY KEY, after its first word: Flink's NOT ENFORCED may follow. */
static void primary_key(parser *P)
{
    expect_kw(P, "KEY", "after PRIMARY");
    if (accept_kw(P, "NOT"))
        expect_kw(P, "ENFORCED", "after PRIMARY KEY NOT");
}

/* The table constraint PRIMARY KEY (col) [NOT ENFORCED] in a column list,
 * after its first word: marks the column, which must be declared before it. */
static void primary_key_clause(parser *P, weir_stmt *st)
{
    expect_kw(P, "KEY", "after PRIMARY");
    expect(P, WEIR_T_LPAREN, "'(' and the key's column after PRIMARY KEY");
    weir_sql_pos pos = P->tok.pos;
    const char *col = name(P, "the primary key's column");
    if (P->tok.kind == WEIR_T_COMMA)
        fail_at(P, P->tok.pos, "a source table's PRIMARY KEY is one column (a key of several is not supported yet)");
    expect(P, WEIR_T_RPAREN, "')' after the primary key's column");
    if (accept_kw(P, "NOT"))
        expect_kw(P, "ENFORCED", "after PRIMARY KEY (...) NOT");
    for (int i = 0; i < st->ncols; i++)
        if (!strcmp(st->cols[i].name, col)) {
            st->cols[i].primary_key = true;
            return;
        }
    fail_at(P, pos, "PRIMARY KEY names column %s, which is not declared before it", col);
}

static void column_defs(parser *P, weir_stmt *st)
{
    int cap = 0;
    do {
        if (accept_kw(P, "PRIMARY")) {
            primary_key_clause(P, st);
            continue;
        }
        st->cols = grow(P, st->cols, st->ncols, &cap, sizeof *st->cols);
        weir_column_def *c = &st->cols[st->ncols];
        c->pos = P->tok.pos;
        if (P->tok.kind == WEIR_T_IDENT && weir_token_is(&P->tok, "TIMESTAMP")) { /* a column named timestamp */
            c->name = weir_arena_strndup(P->a, P->tok.p, P->tok.len);
            next(P);
        } else {
            c->name = name(P, "a column name");
        }
        for (int i = 0; i < st->ncols; i++)
            if (!strcmp(st->cols[i].name, c->name))
                fail_at(P, c->pos, "column %s is declared twice", c->name);
        c->type = type_name(P);
        for (;;) { /* column constraints */
            if (accept_kw(P, "NOT")) {
                expect_kw(P, "NULL", "after NOT in a column's constraints");
                c->not_null = true;
            } else if (accept_kw(P, "CHECK")) {
                expect(P, WEIR_T_LPAREN, "'(' after CHECK");
                const char *start = P->tok.p;
                c->check = expr(P);
                c->check_text = weir_arena_strndup(P->a, start, (size_t)(P->tok.p - start));
                expect(P, WEIR_T_RPAREN, "')' after the CHECK condition");
            } else if (accept_kw(P, "PRIMARY")) {
                primary_key(P);
                c->primary_key = true;
            } else {
                break;
            }
        }
        st->ncols++;
    } while (accept(P, WEIR_T_COMMA));
    expect(P, WEIR_T_RPAREN, "',' or ')' in the column list");
}

static void create(parser *P, weir_stmt *st)
{
    if (accept_kw(P, "STREAM")) {
        st->name = name(P, "the new stream's name");
        if (accept(P, WEIR_T_LPAREN)) {
            st->kind = WEIR_STMT_CREATE_STREAM;
            column_defs(P, st);
            with_options(P, st);
            return;
        }
        st->kind = WEIR_STMT_CREATE_STREAM_AS;
    } else if (accept_kw(P, "TABLE")) {
        st->name = name(P, "the new table's name");
        if (accept(P, WEIR_T_LPAREN)) {
            st->kind = WEIR_STMT_CREATE_TABLE;
            column_defs(P, st);
            with_options(P, st);
            return;
        }
        st->kind = WEIR_STMT_CREATE_TABLE_AS;
    } else if (accept_kw(P, "SINK")) {
        st->kind = WEIR_STMT_CREATE_SINK;
        st->name = name(P, "the new sink's name");
        expect_kw(P, "FROM", "and the stream or table the sink delivers");
        st->from = name(P, "a stream or table name");
        with_options(P, st);
        return;
    } else if (accept_kw(P, "ROUTE")) { /* CREATE ROUTE 'POST /videos/{id}/likes' INTO likes */
        st->kind = WEIR_STMT_CREATE_ROUTE;
        if (P->tok.kind != WEIR_T_STRING)
            expected(P, "the route as a string, like 'POST /videos/{video_id}/likes'");
        st->route = unquote(P, &P->tok);
        next(P);
        expect_kw(P, "INTO", "and the stream the route's records go to");
        st->name = name(P, "a source stream's name");
        return;
    } else if (accept_kw(P, "ENDPOINT")) { /* CREATE ENDPOINT 'GET /part/{x}' [WITH (...)] AS SELECT ... */
        st->kind = WEIR_STMT_CREATE_ENDPOINT;
        if (P->tok.kind != WEIR_T_STRING)
            expected(P, "the endpoint as a string, like 'GET /part/{x}'");
        st->route = unquote(P, &P->tok);
        next(P);
        with_options(P, st);
        expect_kw(P, "AS", "SELECT ... after the endpoint");
        const char *start = P->tok.p;
        st->select = query(P);
        st->query_text = weir_arena_strndup(P->a, start, (size_t)(P->tok.p - start));
        return;
    } else {
        expected(P, "STREAM, TABLE, SINK, ROUTE or ENDPOINT after CREATE");
    }
    with_options(P, st);
    expect_kw(P, "AS", st->kind == WEIR_STMT_CREATE_TABLE_AS ? "SELECT ... or a column list after the table name"
                                                            : "SELECT ... or a column list after the stream name");
    st->select = query(P);
}

/* SHOW STREAMS|TABLES|QUERIES|SINKS, DESCRIBE (or DESC) x, EXPLAIN [PLAN
 * FOR] SELECT ... | CREATE STREAM|TABLE ... AS SELECT ... | x: questions
 * about the pipeline, answered as rows (plan_meta.c). False if the
 * statement is none of them. */
static bool meta_statement(parser *P, weir_stmt *st)
{
    if (accept_kw(P, "SHOW")) {
        static const struct { const char *word; weir_show_kind kind; } what[] = {
            {"STREAMS", WEIR_SHOW_STREAMS}, {"TABLES", WEIR_SHOW_TABLES},
            {"QUERIES", WEIR_SHOW_QUERIES}, {"SINKS", WEIR_SHOW_SINKS},
        };
        st->kind = WEIR_STMT_SHOW;
        for (size_t i = 0; i < sizeof what / sizeof what[0]; i++)
            if (accept_kw(P, what[i].word)) {
                st->show = what[i].kind;
                return true;
            }
        expected(P, "STREAMS, TABLES, QUERIES or SINKS after SHOW");
    }
    if (accept_kw(P, "DESCRIBE") || accept_kw(P, "DESC")) {
        st->kind = WEIR_STMT_DESCRIBE;
        accept_kw(P, "EXTENDED"); /* ksqlDB's: DESCRIBE always says everything */
        st->name_pos = P->tok.pos;
        st->name = name(P, "the stream or table to describe");
        return true;
    }
    if (!accept_kw(P, "EXPLAIN"))
        return false;
    st->kind = WEIR_STMT_EXPLAIN;
    if (accept_kw(P, "PLAN"))
        expect_kw(P, "FOR", "after EXPLAIN PLAN");
    if (is_kw(P, "SELECT") || is_kw(P, "WITH")) {
        st->select = query(P);
        return true;
    }
    if (is_kw(P, "CREATE")) { /* the plan a new query would have, as ksqlDB's EXPLAIN <statement> */
        weir_stmt *c = alloc(P, sizeof *c);
        c->pos = P->tok.pos;
        const char *start = P->tok.p;
        next(P);
        create(P, c);
        if (c->kind != WEIR_STMT_CREATE_STREAM_AS && c->kind != WEIR_STMT_CREATE_TABLE_AS)
            fail_at(P, c->pos, "EXPLAIN CREATE takes CREATE STREAM|TABLE ... AS SELECT ...");
        c->text = weir_arena_strndup(P->a, start, (size_t)(P->tok.p - start));
        st->explained = c;
        return true;
    }
    st->name_pos = P->tok.pos;
    if (!at_name(P))
        expected(P, "SELECT ..., CREATE ... AS SELECT ... or the name of a derived stream or table (or a query id) after EXPLAIN");
    st->name = name(P, "a stream or table name");
    return true;
}

static weir_stmt *statement(parser *P)
{
    weir_stmt *st = alloc(P, sizeof *st);
    st->pos = P->tok.pos;
    const char *start = P->tok.p;
    if (accept_kw(P, "CREATE")) {
        if (accept_kw(P, "OR")) { /* CREATE OR REPLACE: what POST /v1/statements replaces */
            expect_kw(P, "REPLACE", "after CREATE OR");
            st->or_replace = true;
        }
        create(P, st);
    } else if (accept_kw(P, "DROP")) {
        st->kind = WEIR_STMT_DROP;
        if (accept_kw(P, "STREAM")) st->drop_kind = WEIR_OBJ_STREAM;
        else if (accept_kw(P, "TABLE")) st->drop_kind = WEIR_OBJ_TABLE;
        else if (accept_kw(P, "SINK")) st->drop_kind = WEIR_OBJ_SINK;
        else if (accept_kw(P, "ROUTE")) st->drop_kind = WEIR_OBJ_ROUTE;
        else if (accept_kw(P, "ENDPOINT")) st->drop_kind = WEIR_OBJ_ENDPOINT;
        else expected(P, "STREAM, TABLE, SINK, ROUTE or ENDPOINT after DROP");
        if (accept_kw(P, "IF")) {
            expect_kw(P, "EXISTS", "after IF");
            st->if_exists = true;
        }
        if (st->drop_kind == WEIR_OBJ_ROUTE || st->drop_kind == WEIR_OBJ_ENDPOINT) { /* named by its text, as created */
            if (P->tok.kind != WEIR_T_STRING)
                expected(P, "the route as a string, like 'POST /videos/{video_id}/likes'");
            st->name = st->route = unquote(P, &P->tok);
            next(P);
        } else {
            st->name = name(P, "the name of what to drop");
        }
    } else if (accept_kw(P, "INSERT")) {
        st->kind = WEIR_STMT_INSERT;
        expect_kw(P, "INTO", "after INSERT");
        st->name = name(P, "the stream to insert into");
        if (!is_kw(P, "SELECT") && !is_kw(P, "WITH"))
            expected(P, "SELECT after the stream's name (INSERT INTO s SELECT ...)");
        st->select = query(P);
    } else if (is_kw(P, "SELECT") || is_kw(P, "WITH")) {
        st->kind = WEIR_STMT_SELECT;
        st->select = query(P);
    } else if (!meta_statement(P, st)) {
        expected(P, "a statement (CREATE, DROP, INSERT, SELECT, SHOW, DESCRIBE or EXPLAIN)");
    }
    if (P->tok.kind != WEIR_T_SEMI && P->tok.kind != WEIR_T_EOF)
        expected(P, "';' or the end of the statement");
    st->text = weir_arena_strndup(P->a, start, (size_t)(P->tok.p - start));
    return st;
}

int weir_sql_parse(const char *text, size_t len, weir_arena *a, weir_stmt ***stmts, size_t *n,
                   weir_sql_error *e)
{
    parser P = {.a = a, .e = e};
    weir_lexer_init(&P.lx, text, len);
    *stmts = NULL;
    *n = 0;
    if (setjmp(P.fail)) {
        *stmts = NULL;
        *n = 0;
        return WEIR_EINVAL;
    }
    next(&P);
    int count = 0, cap = 0;
    weir_stmt **v = NULL;
    while (P.tok.kind != WEIR_T_EOF) {
        if (accept(&P, WEIR_T_SEMI))
            continue;
        weir_stmt *st = statement(&P);
        v = grow(&P, v, count, &cap, sizeof *v);
        v[count++] = st;
    }
    *stmts = v;
    *n = (size_t)count;
    return 0;
}

void weir_sql_error_vset(weir_sql_error *e, weir_sql_pos pos, const char *fmt, va_list ap)
{
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    e->line = pos.line;
    e->col = pos.col;
}

const weir_with_option *weir_stmt_option(const weir_stmt *s, const char *opt)
{
    for (int i = 0; i < s->nwith; i++)
        if (!strcasecmp(s->with[i].name, opt))
            return &s->with[i];
    return NULL;
}
