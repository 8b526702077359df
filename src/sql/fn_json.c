/*
 * fn_json.c - the SQL/JSON functions over a JSON or TEXT document, with
 * Flink's defaults (NULL ON EMPTY, NULL ON ERROR, FALSE ON ERROR):
 *
 *   JSON_VALUE(doc, path [RETURNING type])  the scalar at path as TEXT (or
 *       the type): a string's decoded text, a number's digits, true/false;
 *       NULL when the path finds nothing, an object, an array or null, when
 *       the document is not JSON, or when the scalar does not convert.
 *   JSON_QUERY(doc, path)   the object or array at path as JSON (its text
 *       as written in the document); NULL for a scalar or nothing.
 *   JSON_EXISTS(doc, path)  whether path finds a value (null included);
 *       FALSE when the document is not JSON.
 *
 * Paths are the subset of SQL/JSON paths every document needs: `$` (the
 * whole document), `.key`, `["key"]` or `['key']`, and `[index]` (from 0),
 * in any sequence, after an optional `lax` (the mode these functions
 * always use). Anything else (wildcards, filters, `..`, `last`, `strict`)
 * is refused when the query is planned, naming the byte where it starts.
 * The path is a literal; it is read again at each call, without allocating.
 */
#include <stdio.h>
#include <string.h>

#include "json/json.h"
#include "sql/functions_internal.h"

typedef struct path_step {
    const char *key;           /* a member's name, or NULL for an index */
    size_t key_len;
    uint64_t index;
} path_step;

static bool key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$' ||
           (unsigned char)c >= 0x80;
}

static void skip_spaces(const char *p, size_t n, size_t *at)
{
    while (*at < n && (p[*at] == ' ' || p[*at] == '\t'))
        (*at)++;
}

/* Fills why with "what, at byte N" and returns -1. */
static int path_error(char *why, size_t cap, size_t at, const char *what)
{
    snprintf(why, cap, "%s at byte %zu of the path (paths take $, .key, [\"key\"] and [index])", what, at + 1);
    return -1;
}

/* Moves *at past the path's start: [lax] $. 0, or -1 with why. */
static int path_start(const char *p, size_t n, size_t *at, char *why, size_t cap)
{
    *at = 0;
    skip_spaces(p, n, at);
    if (n - *at >= 6 && !strncmp(p + *at, "strict", 6))
        return path_error(why, cap, *at, "strict mode is not supported (lax is what weir does)");
    if (n - *at >= 3 && !strncmp(p + *at, "lax", 3) && n - *at > 3 && (p[*at + 3] == ' ' || p[*at + 3] == '\t')) {
        *at += 3;
        skip_spaces(p, n, at);
    }
    if (*at >= n || p[*at] != '$')
        return path_error(why, cap, *at, "a path starts with $");
    (*at)++;
    return 0;
}

/* The step at *at: 1 with it in *st, 0 at the path's end, -1 with why. */
static int path_next(const char *p, size_t n, size_t *at, path_step *st, char *why, size_t cap)
{
    skip_spaces(p, n, at);
    if (*at >= n)
        return 0;
    size_t start = *at;
    if (p[start] == '.') {
        size_t i = start + 1;
        if (i < n && p[i] == '.')
            return path_error(why, cap, start, "recursive descent (..) is not supported");
        if (i < n && p[i] == '*')
            return path_error(why, cap, i, "the wildcard .* is not supported");
        if (i < n && p[i] == '"') { /* ."key with spaces", as SQL/JSON writes it */
            const char *end = memchr(p + i + 1, '"', n - i - 1);
            if (!end)
                return path_error(why, cap, i, "a quoted key is not closed");
            *st = (path_step){p + i + 1, (size_t)(end - p - i - 1), 0};
            *at = (size_t)(end - p) + 1;
            return 1;
        }
        size_t k = i;
        while (k < n && key_char(p[k]))
            k++;
        if (k == i)
            return path_error(why, cap, i, "expected a key after '.'");
        if (k < n && p[k] == '(')
            return path_error(why, cap, i, "item methods like .size() are not supported");
        *st = (path_step){p + i, k - i, 0};
        *at = k;
        return 1;
    }
    if (p[start] != '[')
        return path_error(why, cap, start, "expected '.' or '['");
    size_t i = start + 1;
    skip_spaces(p, n, &i);
    if (i < n && (p[i] == '"' || p[i] == '\'')) {
        const char *end = memchr(p + i + 1, p[i], n - i - 1);
        if (!end)
            return path_error(why, cap, i, "a quoted key is not closed");
        *st = (path_step){p + i + 1, (size_t)(end - p - i - 1), 0};
        i = (size_t)(end - p) + 1;
    } else if (i < n && p[i] >= '0' && p[i] <= '9') {
        uint64_t v = 0;
        size_t digits = 0;
        for (; i < n && p[i] >= '0' && p[i] <= '9'; i++, digits++)
            v = v * 10 + (uint64_t)(p[i] - '0');
        if (digits > 9)
            return path_error(why, cap, start + 1, "an index past 999999999");
        *st = (path_step){NULL, 0, v};
    } else if (i < n && p[i] == '*') {
        return path_error(why, cap, i, "the wildcard [*] is not supported");
    } else {
        return path_error(why, cap, i, "expected an index (0, 1, ...) or a quoted key in [...]");
    }
    skip_spaces(p, n, &i);
    if (i >= n || p[i] != ']')
        return path_error(why, cap, i, i < n && p[i] == ',' ? "several subscripts are not supported"
                                                            : i + 2 < n && !strncmp(p + i, "to", 2)
                                                                  ? "ranges (a to b) are not supported"
                                                                  : "expected ']'");
    *at = i + 1;
    return 1;
}

const char *fn_json_check(int fn, weir_expr **args, int nargs, weir_type *result)
{
    static _Thread_local char msg[256];
    (void)nargs;
    *result = fn == WEIR_FN_JSON_VALUE ? WEIR_TYPE_TEXT : fn == WEIR_FN_JSON_QUERY ? WEIR_TYPE_JSON : WEIR_TYPE_BOOL;
    weir_type t = args[0]->type;
    if (t != WEIR_TYPE_JSON && t != WEIR_TYPE_TEXT && t != WEIR_TYPE_NULL)
        return "expects a JSON or TEXT document first";
    const weir_expr *path = args[1];
    if (path->kind != WEIR_E_LITERAL || path->lit.type != WEIR_TYPE_TEXT || path->lit.is_null)
        return "the path must be a literal like '$.a.b'";
    char why[200];
    size_t at;
    path_step st;
    int rc = path_start(path->lit.s, path->lit.len, &at, why, sizeof why);
    while (rc == 0 && (rc = path_next(path->lit.s, path->lit.len, &at, &st, why, sizeof why)) == 1)
        rc = 0;
    if (rc == 0)
        return NULL;
    snprintf(msg, sizeof msg, "path '%.*s': %s", (int)(path->lit.len > 40 ? 40 : path->lit.len), path->lit.s, why);
    return msg;
}

typedef struct nth_ctx {
    uint64_t want, seen;
    weir_json_span *out;
} nth_ctx;

static int nth_element(void *ctx, const weir_json_span *v)
{
    nth_ctx *c = ctx;
    if (c->seen++ != c->want)
        return 0;
    *c->out = *v;
    return 1;
}

/* doc's whole value: TEXT is validated; a JSON value is valid already
 * (the decoder checked it, or it is a part of one), so only its type is
 * read from its first byte. False when doc is not JSON. */
static bool root(weir_value doc, weir_json_span *out)
{
    weir_json_error e;
    if (doc.type != WEIR_TYPE_JSON)
        return weir_json_validate(doc.s, doc.len, out, &e) == 0;
    const char *p = doc.s, *end = doc.s + doc.len;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
        end--;
    if (p == end)
        return false;
    out->p = p;
    out->len = (size_t)(end - p);
    out->type = *p == '{' ? WEIR_JSON_OBJECT : *p == '[' ? WEIR_JSON_ARRAY : *p == '"' ? WEIR_JSON_STRING
              : *p == 't' ? WEIR_JSON_TRUE : *p == 'f' ? WEIR_JSON_FALSE : *p == 'n' ? WEIR_JSON_NULL : WEIR_JSON_NUMBER;
    return true;
}

/* The value at path in doc: true with it in *out; false when the path
 * finds nothing or doc is not JSON. */
static bool find(weir_value doc, weir_value path, weir_json_span *out)
{
    if (!root(doc, out))
        return false;
    char why[8]; /* the planner checked the path: no error comes */
    size_t at;
    path_step st;
    if (path_start(path.s, path.len, &at, why, sizeof why))
        return false;
    int rc;
    while ((rc = path_next(path.s, path.len, &at, &st, why, sizeof why)) == 1) {
        weir_json_span next;
        if (st.key) {
            if (out->type != WEIR_JSON_OBJECT || weir_json_member(out->p, out->len, st.key, st.key_len, &next) != 1)
                return false;
        } else {
            nth_ctx c = {st.index, 0, &next};
            if (out->type != WEIR_JSON_ARRAY || weir_json_elements(out->p, out->len, nth_element, &c) != 1)
                return false;
        }
        *out = next;
    }
    return rc == 0;
}

/* A scalar's text: a string decoded (into the arena), a number's digits,
 * true or false; NULL for null, objects and arrays. */
static weir_value scalar_text(weir_eval *ev, const weir_json_span *v)
{
    switch (v->type) {
    case WEIR_JSON_STRING: {
        if (!memchr(v->p, '\\', v->len)) /* no escapes: the text between the quotes, in place */
            return weir_text(v->p + 1, v->len - 2);
        weir_buf b = {0};
        char *s = NULL;
        if (!weir_json_unescape(v->p, v->len, &b) && (s = weir_arena_alloc(ev->arena, b.len + 1)))
            memcpy(s, b.data ? (const char *)b.data : "", b.len);
        weir_value r = s ? weir_text(s, b.len) : weir_null(WEIR_TYPE_TEXT);
        weir_buf_free(&b);
        return r;
    }
    case WEIR_JSON_NUMBER: return weir_text(v->p, v->len);
    case WEIR_JSON_TRUE: return weir_text("true", 4);
    case WEIR_JSON_FALSE: return weir_text("false", 5);
    default: return weir_null(WEIR_TYPE_TEXT);
    }
}

weir_value fn_json_call(weir_eval *ev, int fn, weir_value doc, weir_value path, weir_type result)
{
    weir_json_span v;
    bool found = find(doc, path, &v);
    if (fn == WEIR_FN_JSON_EXISTS)
        return weir_bool(found);
    if (!found)
        return weir_null(result);
    if (fn == WEIR_FN_JSON_QUERY)
        return v.type == WEIR_JSON_OBJECT || v.type == WEIR_JSON_ARRAY
                   ? (weir_value){.type = WEIR_TYPE_JSON, .len = (uint32_t)v.len, .s = v.p}
                   : weir_null(result);
    weir_value t = scalar_text(ev, &v);
    if (t.is_null || result == WEIR_TYPE_TEXT)
        return t;
    weir_value c = weir_value_cast(ev, t, result);
    return c.err ? weir_null(result) : c; /* NULL ON ERROR, as Flink's default */
}
