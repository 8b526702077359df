/*
 * eval.c - a tree-walking evaluator for planned expressions.
 *
 * NULL propagates through operators and functions (except IS NULL,
 * COALESCE, CASE and three-valued AND/OR); an error value propagates like
 * NULL and is remembered in ev->err. Integer arithmetic is checked: a
 * result outside the type's range is WEIR_VERR_OVERFLOW, never wrapped.
 */
#include "sql/eval.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static weir_value verror(weir_eval *ev, const weir_expr *x, weir_type t, weir_value_error e)
{
    if (ev->err == WEIR_VERR_NONE) {
        ev->err = e;
        ev->err_pos = x->pos;
    }
    return weir_error(t, e);
}

static char *text_alloc(weir_eval *ev, size_t n)
{
    return weir_arena_alloc(ev->arena, n + 1);
}

/* Formats v as text (for CAST and ||). */
static weir_value to_text(weir_eval *ev, weir_value v)
{
    char buf[64];
    int n;
    switch (v.type) {
    case WEIR_TYPE_TEXT: return v;
    case WEIR_TYPE_JSON: return weir_text(v.s, v.len);
    case WEIR_TYPE_BOOL: n = snprintf(buf, sizeof buf, "%s", v.b ? "true" : "false"); break;
    case WEIR_TYPE_INT: n = snprintf(buf, sizeof buf, "%lld", (long long)v.i); break;
    case WEIR_TYPE_UINT: n = snprintf(buf, sizeof buf, "%llu", (unsigned long long)v.u); break;
    case WEIR_TYPE_DOUBLE: n = weir_format_double(v.d, buf, sizeof buf); break;
    case WEIR_TYPE_TIMESTAMP: n = weir_timestamp_format(v.i, buf, sizeof buf); break;
    default: return weir_null(WEIR_TYPE_TEXT);
    }
    char *s = text_alloc(ev, (size_t)n);
    if (!s)
        return weir_null(WEIR_TYPE_TEXT);
    memcpy(s, buf, (size_t)n);
    return weir_text(s, (size_t)n);
}

static bool parse_i64(const char *s, size_t n, int64_t *out)
{
    char buf[32];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static bool parse_u64(const char *s, size_t n, uint64_t *out)
{
    char buf[32];
    if (n == 0 || n >= sizeof buf || s[0] == '-')
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static bool parse_double(const char *s, size_t n, double *out)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    double v = strtod(buf, &end);
    if (*end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

weir_value weir_value_cast(weir_eval *ev, weir_value v, weir_type to)
{
    if (v.is_null)
        return v.err ? weir_error(to, (weir_value_error)v.err) : weir_null(to);
    if (v.type == to)
        return v;
    weir_value bad = weir_error(to, WEIR_VERR_CAST);
    if (v.type == WEIR_TYPE_JSON && to != WEIR_TYPE_TEXT)
        return bad; /* JSON converts to its text only */
    switch (to) {
    case WEIR_TYPE_TEXT:
        return to_text(ev, v);
    case WEIR_TYPE_BOOL:
        if (v.type == WEIR_TYPE_TEXT) {
            if (v.len == 4 && !strncasecmp(v.s, "true", 4)) return weir_bool(true);
            if (v.len == 5 && !strncasecmp(v.s, "false", 5)) return weir_bool(false);
            return bad;
        }
        if (v.type == WEIR_TYPE_INT) return weir_bool(v.i != 0);
        if (v.type == WEIR_TYPE_UINT) return weir_bool(v.u != 0);
        return bad;
    case WEIR_TYPE_INT:
        switch (v.type) {
        case WEIR_TYPE_BOOL: return weir_int(v.b);
        case WEIR_TYPE_UINT: return v.u <= INT64_MAX ? weir_int((int64_t)v.u) : weir_error(to, WEIR_VERR_OVERFLOW);
        case WEIR_TYPE_DOUBLE:
            return v.d == trunc(v.d) && v.d >= -9223372036854775808.0 && v.d < 9223372036854775808.0
                       ? weir_int((int64_t)v.d) : bad;
        case WEIR_TYPE_TIMESTAMP: return weir_int(v.i);
        case WEIR_TYPE_TEXT: {
            int64_t i;
            return parse_i64(v.s, v.len, &i) ? weir_int(i) : bad;
        }
        default: return bad;
        }
    case WEIR_TYPE_UINT:
        switch (v.type) {
        case WEIR_TYPE_BOOL: return weir_uint(v.b);
        case WEIR_TYPE_INT: return v.i >= 0 ? weir_uint((uint64_t)v.i) : weir_error(to, WEIR_VERR_OVERFLOW);
        case WEIR_TYPE_DOUBLE:
            return v.d == trunc(v.d) && v.d >= 0 && v.d < 18446744073709551616.0 ? weir_uint((uint64_t)v.d) : bad;
        case WEIR_TYPE_TEXT: {
            uint64_t u;
            return parse_u64(v.s, v.len, &u) ? weir_uint(u) : bad;
        }
        default: return bad;
        }
    case WEIR_TYPE_DOUBLE:
        switch (v.type) {
        case WEIR_TYPE_INT: return weir_double((double)v.i);
        case WEIR_TYPE_UINT: return weir_double((double)v.u);
        case WEIR_TYPE_BOOL: return weir_double(v.b);
        case WEIR_TYPE_TEXT: {
            double d;
            return parse_double(v.s, v.len, &d) ? weir_double(d) : bad;
        }
        default: return bad;
        }
    case WEIR_TYPE_TIMESTAMP:
        switch (v.type) {
        case WEIR_TYPE_INT:
        case WEIR_TYPE_UINT:
        case WEIR_TYPE_DOUBLE: {
            int64_t ms;
            double d = v.type == WEIR_TYPE_INT ? (double)v.i : v.type == WEIR_TYPE_UINT ? (double)v.u : v.d;
            return weir_timestamp_from_epoch(d, &ms) ? weir_timestamp(ms) : bad;
        }
        case WEIR_TYPE_TEXT: {
            int64_t ms;
            double d;
            if (weir_timestamp_parse(v.s, v.len, &ms) || (parse_double(v.s, v.len, &d) && weir_timestamp_from_epoch(d, &ms)))
                return weir_timestamp(ms);
            return bad;
        }
        default: return bad;
        }
    default:
        return bad;
    }
}

/* Converts a numeric operand to the expression's numeric type. */
static weir_value as_type(weir_eval *ev, const weir_expr *x, weir_value v, weir_type t)
{
    if (v.type == t || v.is_null)
        return v;
    weir_value c = weir_value_cast(ev, v, t);
    if (c.err)
        return verror(ev, x, t, (weir_value_error)c.err);
    return c;
}

static weir_value arith(weir_eval *ev, const weir_expr *x, weir_value a, weir_value b)
{
    weir_type t = x->type;
    if (a.is_null || b.is_null) {
        weir_value_error e = a.err ? (weir_value_error)a.err : (weir_value_error)b.err;
        return e ? weir_error(t, e) : weir_null(t);
    }
    a = as_type(ev, x, a, t);
    b = as_type(ev, x, b, t);
    if (a.is_null || b.is_null)
        return weir_error(t, WEIR_VERR_OVERFLOW);
    weir_op op = x->op.op;
    if (t == WEIR_TYPE_DOUBLE) {
        double r;
        switch (op) {
        case WEIR_OP_ADD: r = a.d + b.d; break;
        case WEIR_OP_SUB: r = a.d - b.d; break;
        case WEIR_OP_MUL: r = a.d * b.d; break;
        case WEIR_OP_DIV:
            if (b.d == 0) return verror(ev, x, t, WEIR_VERR_DIV_ZERO);
            r = a.d / b.d;
            break;
        default:
            if (b.d == 0) return verror(ev, x, t, WEIR_VERR_DIV_ZERO);
            r = fmod(a.d, b.d);
        }
        return isfinite(r) ? weir_double(r) : verror(ev, x, t, WEIR_VERR_OVERFLOW);
    }
    if (t == WEIR_TYPE_UINT) {
        uint64_t r;
        bool over = false;
        switch (op) {
        case WEIR_OP_ADD: over = __builtin_add_overflow(a.u, b.u, &r); break;
        case WEIR_OP_SUB: over = __builtin_sub_overflow(a.u, b.u, &r); break;
        case WEIR_OP_MUL: over = __builtin_mul_overflow(a.u, b.u, &r); break;
        case WEIR_OP_DIV:
            if (b.u == 0) return verror(ev, x, t, WEIR_VERR_DIV_ZERO);
            r = a.u / b.u;
            break;
        default:
            if (b.u == 0) return verror(ev, x, t, WEIR_VERR_DIV_ZERO);
            r = a.u % b.u;
        }
        return over ? verror(ev, x, t, WEIR_VERR_OVERFLOW) : weir_uint(r);
    }
    int64_t r;
    bool over = false;
    switch (op) {
    case WEIR_OP_ADD: over = __builtin_add_overflow(a.i, b.i, &r); break;
    case WEIR_OP_SUB: over = __builtin_sub_overflow(a.i, b.i, &r); break;
    case WEIR_OP_MUL: over = __builtin_mul_overflow(a.i, b.i, &r); break;
    case WEIR_OP_DIV:
        if (b.i == 0) return verror(ev, x, t, WEIR_VERR_DIV_ZERO);
        if (a.i == INT64_MIN && b.i == -1) return verror(ev, x, t, WEIR_VERR_OVERFLOW);
        r = a.i / b.i;
        break;
    default:
        if (b.i == 0) return verror(ev, x, t, WEIR_VERR_DIV_ZERO);
        r = b.i == -1 ? 0 : a.i % b.i;
    }
    return over ? verror(ev, x, t, WEIR_VERR_OVERFLOW) : weir_int(r);
}

static weir_value null_or_error(weir_type t, weir_value a, weir_value b)
{
    weir_value_error e = a.err ? (weir_value_error)a.err : (weir_value_error)b.err;
    return e ? weir_error(t, e) : weir_null(t);
}

static weir_value compare(const weir_expr *x, weir_value a, weir_value b)
{
    if (a.is_null || b.is_null)
        return null_or_error(WEIR_TYPE_BOOL, a, b);
    int c = weir_value_cmp(&a, &b);
    switch (x->op.op) {
    case WEIR_OP_EQ: return weir_bool(c == 0);
    case WEIR_OP_NE: return weir_bool(c != 0);
    case WEIR_OP_LT: return weir_bool(c < 0);
    case WEIR_OP_LE: return weir_bool(c <= 0);
    case WEIR_OP_GT: return weir_bool(c > 0);
    default: return weir_bool(c >= 0);
    }
}

static weir_value concat(weir_eval *ev, weir_value a, weir_value b)
{
    if (a.is_null || b.is_null)
        return null_or_error(WEIR_TYPE_TEXT, a, b);
    a = to_text(ev, a);
    b = to_text(ev, b);
    char *s = text_alloc(ev, (size_t)a.len + b.len);
    if (!s)
        return weir_null(WEIR_TYPE_TEXT);
    memcpy(s, a.s, a.len);
    memcpy(s + a.len, b.s, b.len);
    return weir_text(s, (size_t)a.len + b.len);
}

/* SQL LIKE: % any run, _ any one character (byte). */
static bool like(const char *s, size_t n, const char *p, size_t m)
{
    size_t i = 0, j = 0, star_j = (size_t)-1, star_i = 0;
    while (i < n) {
        if (j < m && (p[j] == '_' || p[j] == s[i])) {
            i++;
            j++;
        } else if (j < m && p[j] == '%') {
            star_j = j++;
            star_i = i;
        } else if (star_j != (size_t)-1) {
            j = star_j + 1;
            i = ++star_i;
        } else {
            return false;
        }
    }
    while (j < m && p[j] == '%')
        j++;
    return j == m;
}

weir_value weir_eval_expr(weir_eval *ev, const weir_expr *x)
{
    switch (x->kind) {
    case WEIR_E_LITERAL:
        return x->lit;
    case WEIR_E_COLUMN:
        return ev->row[x->col.index];
    case WEIR_E_SLOT:
        return ev->row[x->slot];
    case WEIR_E_PARAM: /* never evaluated: an endpoint's request replaces it with a literal first */
        return weir_null(WEIR_TYPE_NULL);
    case WEIR_E_STAR:
        return weir_bool(true);
    case WEIR_E_UNARY: {
        weir_value a = weir_eval_expr(ev, x->op.a);
        if (a.is_null)
            return a.err ? weir_error(x->type, (weir_value_error)a.err) : weir_null(x->type);
        if (x->op.op == WEIR_OP_NOT)
            return weir_bool(!a.b);
        switch (a.type) {
        case WEIR_TYPE_DOUBLE: return weir_double(-a.d);
        case WEIR_TYPE_INT: return a.i == INT64_MIN ? verror(ev, x, x->type, WEIR_VERR_OVERFLOW) : weir_int(-a.i);
        case WEIR_TYPE_UINT:
            return a.u <= (uint64_t)INT64_MAX + 1 ? weir_int((int64_t)(0 - a.u)) : verror(ev, x, x->type, WEIR_VERR_OVERFLOW);
        default: return weir_null(x->type);
        }
    }
    case WEIR_E_BINARY: {
        weir_op op = x->op.op;
        if (op == WEIR_OP_AND || op == WEIR_OP_OR) {
            weir_value a = weir_eval_expr(ev, x->op.a);
            bool short_value = op == WEIR_OP_OR;
            if (!a.is_null && a.b == short_value)
                return a;
            weir_value b = weir_eval_expr(ev, x->op.b);
            if (!b.is_null && b.b == short_value)
                return b;
            if (a.is_null || b.is_null)
                return null_or_error(WEIR_TYPE_BOOL, a, b);
            return weir_bool(!short_value);
        }
        weir_value a = weir_eval_expr(ev, x->op.a), b = weir_eval_expr(ev, x->op.b);
        if (op >= WEIR_OP_EQ)
            return compare(x, a, b);
        if (op == WEIR_OP_CONCAT)
            return concat(ev, a, b);
        return arith(ev, x, a, b);
    }
    case WEIR_E_CALL: {
        weir_value args[16];
        int n = x->call.nargs < 16 ? x->call.nargs : 16;
        for (int i = 0; i < n; i++)
            args[i] = weir_eval_expr(ev, x->call.args[i]);
        weir_value r = weir_function_call(ev, x->call.fn, args, n, x->type);
        if (r.err && ev->err == WEIR_VERR_NONE) {
            ev->err = (weir_value_error)r.err;
            ev->err_pos = x->pos;
        }
        return r;
    }
    case WEIR_E_CASE: {
        weir_value operand = x->cases.operand ? weir_eval_expr(ev, x->cases.operand) : weir_bool(true);
        for (int i = 0; i < x->cases.n; i++) {
            weir_value w = weir_eval_expr(ev, x->cases.when[i]);
            bool hit = x->cases.operand ? !operand.is_null && !w.is_null && weir_value_cmp(&operand, &w) == 0
                                        : !w.is_null && w.b;
            if (hit)
                return weir_value_cast(ev, weir_eval_expr(ev, x->cases.then[i]), x->type);
        }
        return x->cases.otherwise ? weir_value_cast(ev, weir_eval_expr(ev, x->cases.otherwise), x->type)
                                  : weir_null(x->type);
    }
    case WEIR_E_CAST: {
        weir_value v = weir_value_cast(ev, weir_eval_expr(ev, x->cast.a), x->cast.to);
        if (v.err && ev->err == WEIR_VERR_NONE) {
            ev->err = (weir_value_error)v.err;
            ev->err_pos = x->pos;
        }
        return v;
    }
    case WEIR_E_IS_NULL: {
        weir_value a = weir_eval_expr(ev, x->isnull.a);
        return weir_bool(a.is_null != x->isnull.negate);
    }
    case WEIR_E_IN: {
        weir_value a = weir_eval_expr(ev, x->in.a);
        if (a.is_null)
            return null_or_error(WEIR_TYPE_BOOL, a, a);
        bool saw_null = false;
        for (int i = 0; i < x->in.n; i++) {
            weir_value b = weir_eval_expr(ev, x->in.list[i]);
            if (b.is_null)
                saw_null = true;
            else if (weir_value_cmp(&a, &b) == 0)
                return weir_bool(!x->in.negate);
        }
        return saw_null ? weir_null(WEIR_TYPE_BOOL) : weir_bool(x->in.negate);
    }
    case WEIR_E_BETWEEN: {
        weir_value a = weir_eval_expr(ev, x->between.a), lo = weir_eval_expr(ev, x->between.lo),
                   hi = weir_eval_expr(ev, x->between.hi);
        if (a.is_null || lo.is_null || hi.is_null)
            return weir_null(WEIR_TYPE_BOOL);
        bool in = weir_value_cmp(&a, &lo) >= 0 && weir_value_cmp(&a, &hi) <= 0;
        return weir_bool(in != x->between.negate);
    }
    case WEIR_E_LIKE: {
        weir_value a = weir_eval_expr(ev, x->like.a), p = weir_eval_expr(ev, x->like.pattern);
        if (a.is_null || p.is_null)
            return null_or_error(WEIR_TYPE_BOOL, a, p);
        return weir_bool(like(a.s, a.len, p.s, p.len) != x->like.negate);
    }
    }
    return weir_null(x->type);
}

bool weir_eval_predicate(weir_eval *ev, const weir_expr *x)
{
    weir_value v = weir_eval_expr(ev, x);
    return !v.is_null && v.type == WEIR_TYPE_BOOL && v.b;
}
