/*
 * functions.c - the scalar functions of weir's SQL: their names, argument
 * checks, result types and implementations, in one table.
 *
 *   lower(t) upper(t) length(t) trim(t) concat(x, ...) substr(t, from[, len])
 *   replace(t, from, to) split_part(t, delim, n) coalesce(x, ...) abs(n)
 *   floor(n) ceil(n) round(n) murmur2(x) xxhash64(x) partition_of(n, x, ...)
 *   epoch_ms(ts) ip_class(t) date_trunc(unit, ts) (fn_time.c)
 *   json_value(doc, path [RETURNING type]) json_query(doc, path) json_exists(doc, path) (fn_json.c)
 *
 * Positions in text are 1-based bytes. murmur2 is Kafka's (so
 * partition_of(n, key) is the partition Kafka's default partitioner
 * picks for the key's text among n); several keys are joined by '|'.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "base/hash.h"
#include "sql/functions_internal.h"

typedef struct fn_def {
    const char *name;
    int min_args, max_args;    /* max -1: any number */
} fn_def;

static const fn_def fns[] = {
    [WEIR_FN_LOWER] = {"lower", 1, 1},       [WEIR_FN_UPPER] = {"upper", 1, 1},
    [WEIR_FN_LENGTH] = {"length", 1, 1},     [WEIR_FN_TRIM] = {"trim", 1, 1},
    [WEIR_FN_CONCAT] = {"concat", 1, -1},    [WEIR_FN_SUBSTR] = {"substr", 2, 3},
    [WEIR_FN_REPLACE] = {"replace", 3, 3},   [WEIR_FN_SPLIT_PART] = {"split_part", 3, 3},
    [WEIR_FN_COALESCE] = {"coalesce", 1, -1}, [WEIR_FN_ABS] = {"abs", 1, 1},
    [WEIR_FN_FLOOR] = {"floor", 1, 1},       [WEIR_FN_CEIL] = {"ceil", 1, 1},
    [WEIR_FN_ROUND] = {"round", 1, 1},       [WEIR_FN_MURMUR2] = {"murmur2", 1, 1},
    [WEIR_FN_XXHASH64] = {"xxhash64", 1, 1}, [WEIR_FN_PARTITION_OF] = {"partition_of", 2, -1},
    [WEIR_FN_EPOCH_MS] = {"epoch_ms", 1, 1}, [WEIR_FN_IP_CLASS] = {"ip_class", 1, 1},
    [WEIR_FN_DATE_TRUNC] = {"date_trunc", 2, 2}, [WEIR_FN_JSON_VALUE] = {"json_value", 2, 2},
    [WEIR_FN_JSON_QUERY] = {"json_query", 2, 2}, [WEIR_FN_JSON_EXISTS] = {"json_exists", 2, 2},
};
#define NFNS (int)(sizeof fns / sizeof fns[0])

int weir_function_find(const char *name)
{
    for (int i = 0; i < NFNS; i++)
        if (!strcmp(fns[i].name, name))
            return i;
    if (!strcmp(name, "substring"))
        return WEIR_FN_SUBSTR;
    return -1;
}

const char *weir_function_names(void)
{
    return "lower, upper, length, trim, concat, substr, replace, split_part, coalesce, abs, floor, ceil, "
           "round, murmur2, xxhash64, partition_of, epoch_ms, ip_class, date_trunc, json_value, json_query, json_exists";
}

static bool numeric(weir_type t) { return t == WEIR_TYPE_INT || t == WEIR_TYPE_UINT || t == WEIR_TYPE_DOUBLE; }
static bool integer(weir_type t) { return t == WEIR_TYPE_INT || t == WEIR_TYPE_UINT; }

const char *weir_function_check(int fn, weir_expr **args, int nargs, weir_type *result)
{
    static _Thread_local char msg[160]; /* plans run on several HTTP threads at once */
    const fn_def *d = &fns[fn];
    if (nargs < d->min_args || (d->max_args >= 0 && nargs > d->max_args) || nargs > 16) {
        if (d->min_args == d->max_args)
            snprintf(msg, sizeof msg, "%s takes %d argument%s, not %d", d->name, d->min_args, d->min_args == 1 ? "" : "s", nargs);
        else
            snprintf(msg, sizeof msg, "%s takes %d to %d arguments, not %d", d->name, d->min_args,
                     d->max_args < 0 ? 16 : d->max_args, nargs);
        return msg;
    }
    weir_type t0 = args[0]->type;
    switch (fn) {
    case WEIR_FN_LOWER: case WEIR_FN_UPPER: case WEIR_FN_TRIM: case WEIR_FN_IP_CLASS:
        *result = WEIR_TYPE_TEXT;
        return t0 == WEIR_TYPE_TEXT || t0 == WEIR_TYPE_NULL ? NULL : "expects TEXT";
    case WEIR_FN_LENGTH:
        *result = WEIR_TYPE_INT;
        return t0 == WEIR_TYPE_TEXT || t0 == WEIR_TYPE_NULL ? NULL : "expects TEXT";
    case WEIR_FN_CONCAT: case WEIR_FN_REPLACE: case WEIR_FN_SPLIT_PART:
        *result = WEIR_TYPE_TEXT;
        if (fn == WEIR_FN_SPLIT_PART && !integer(args[2]->type))
            return "expects an integer part number";
        return NULL;
    case WEIR_FN_SUBSTR:
        *result = WEIR_TYPE_TEXT;
        for (int i = 1; i < nargs; i++)
            if (!integer(args[i]->type))
                return "expects integer positions";
        return NULL;
    case WEIR_FN_COALESCE:
        *result = WEIR_TYPE_NULL;
        for (int i = 0; i < nargs; i++) {
            weir_type t = args[i]->type;
            if (t == WEIR_TYPE_NULL)
                continue;
            if (*result == WEIR_TYPE_NULL)
                *result = t;
            else if (*result != t && !(numeric(*result) && numeric(t)))
                return "arguments must have one type";
            else if (*result != t)
                *result = WEIR_TYPE_DOUBLE;
        }
        return NULL;
    case WEIR_FN_ABS: case WEIR_FN_FLOOR: case WEIR_FN_CEIL: case WEIR_FN_ROUND:
        *result = t0 == WEIR_TYPE_NULL ? WEIR_TYPE_DOUBLE : t0;
        return numeric(t0) || t0 == WEIR_TYPE_NULL ? NULL : "expects a number";
    case WEIR_FN_MURMUR2: case WEIR_FN_PARTITION_OF:
        *result = WEIR_TYPE_INT;
        if (fn == WEIR_FN_PARTITION_OF && !integer(t0))
            return "expects the partition count first";
        return NULL;
    case WEIR_FN_XXHASH64:
        *result = WEIR_TYPE_UINT;
        return NULL;
    case WEIR_FN_EPOCH_MS:
        *result = WEIR_TYPE_INT;
        return t0 == WEIR_TYPE_TIMESTAMP || t0 == WEIR_TYPE_NULL ? NULL : "expects a TIMESTAMP";
    case WEIR_FN_DATE_TRUNC:
        return fn_date_trunc_check(args, result);
    case WEIR_FN_JSON_VALUE: case WEIR_FN_JSON_QUERY: case WEIR_FN_JSON_EXISTS:
        return fn_json_check(fn, args, nargs, result);
    }
    return "unknown function";
}

static weir_value text_of(weir_eval *ev, weir_value v)
{
    return v.type == WEIR_TYPE_TEXT ? v : weir_value_cast(ev, v, WEIR_TYPE_TEXT);
}

static weir_value make_text(weir_eval *ev, const char *s, size_t n)
{
    char *p = weir_arena_alloc(ev->arena, n + 1);
    if (!p)
        return weir_null(WEIR_TYPE_TEXT);
    memcpy(p, s, n);
    return weir_text(p, n);
}

static weir_value map_case(weir_eval *ev, weir_value v, bool up)
{
    char *p = weir_arena_alloc(ev->arena, v.len + 1);
    if (!p)
        return weir_null(WEIR_TYPE_TEXT);
    for (uint32_t i = 0; i < v.len; i++) {
        char c = v.s[i];
        p[i] = up ? (c >= 'a' && c <= 'z' ? (char)(c - 32) : c) : (c >= 'A' && c <= 'Z' ? (char)(c + 32) : c);
    }
    return weir_text(p, v.len);
}

/* The text of several values joined by sep (concat: "", hash keys: "|"). */
static weir_value join_text(weir_eval *ev, const weir_value *a, int n, const char *sep)
{
    weir_buf b = {0};
    bool okay = true;
    for (int i = 0; i < n && okay; i++) {
        weir_value t = text_of(ev, a[i]);
        okay = !(i && weir_buf_append_str(&b, sep)) && !(!t.is_null && weir_buf_append(&b, t.s, t.len));
    }
    weir_value r = okay ? make_text(ev, b.data ? (const char *)b.data : "", b.len) : weir_null(WEIR_TYPE_TEXT);
    weir_buf_free(&b);
    return r;
}

/* The class of a dotted-quad IPv4 address ("A" to "E", "loopback", "this
 * network"), or NULL if the text is not one: four decimal numbers 0-255,
 * no leading zeros. */
static weir_value ip_class(weir_value t)
{
    int octet[4], n = 0;
    uint32_t i = 0;
    while (n < 4) {
        uint32_t start = i;
        int v = 0;
        while (i < t.len && t.s[i] >= '0' && t.s[i] <= '9' && i - start < 3)
            v = v * 10 + (t.s[i++] - '0');
        if (i == start || v > 255 || (t.s[start] == '0' && i - start > 1))
            return weir_null(WEIR_TYPE_TEXT);
        octet[n++] = v;
        if (n < 4 && (i >= t.len || t.s[i++] != '.'))
            return weir_null(WEIR_TYPE_TEXT);
    }
    if (i != t.len)
        return weir_null(WEIR_TYPE_TEXT);
    static const struct { int below; const char *name; } classes[] = {
        {1, "this network"}, {127, "A"}, {128, "loopback"}, {192, "B"}, {224, "C"}, {240, "D"}, {256, "E"}};
    int k = 0;
    while (octet[0] >= classes[k].below)
        k++;
    return weir_text(classes[k].name, strlen(classes[k].name));
}

static int64_t as_i64(weir_value v) { return v.type == WEIR_TYPE_UINT ? (v.u > INT64_MAX ? INT64_MAX : (int64_t)v.u) : v.i; }

weir_value weir_function_call(weir_eval *ev, int fn, const weir_value *a, int n, weir_type result)
{
    if (fn == WEIR_FN_COALESCE) {
        for (int i = 0; i < n; i++)
            if (!a[i].is_null)
                return weir_value_cast(ev, a[i], result);
        return weir_null(result);
    }
    for (int i = 0; i < n; i++)
        if (a[i].is_null)
            return a[i].err ? weir_error(result, (weir_value_error)a[i].err) : weir_null(result);
    switch (fn) {
    case WEIR_FN_LOWER: return map_case(ev, a[0], false);
    case WEIR_FN_UPPER: return map_case(ev, a[0], true);
    case WEIR_FN_LENGTH: return weir_int(a[0].len);
    case WEIR_FN_IP_CLASS: return ip_class(a[0]);
    case WEIR_FN_TRIM: {
        uint32_t s = 0, e = a[0].len;
        while (s < e && (a[0].s[s] == ' ' || a[0].s[s] == '\t'))
            s++;
        while (e > s && (a[0].s[e - 1] == ' ' || a[0].s[e - 1] == '\t'))
            e--;
        return weir_text(a[0].s + s, e - s);
    }
    case WEIR_FN_CONCAT: return join_text(ev, a, n, "");
    case WEIR_FN_SUBSTR: {
        weir_value t = text_of(ev, a[0]);
        int64_t from = as_i64(a[1]), len = n > 2 ? as_i64(a[2]) : INT64_MAX;
        if (from < 1) { /* as in SQL: positions before 1 eat into the length */
            if (len != INT64_MAX)
                len = len + from - 1 < 0 ? 0 : len + from - 1;
            from = 1;
        }
        if (len < 0)
            return weir_error(result, WEIR_VERR_CAST);
        if ((uint64_t)from > t.len)
            return weir_text(t.s, 0);
        uint64_t rest = t.len - (uint64_t)(from - 1);
        return weir_text(t.s + from - 1, (uint64_t)len < rest ? (size_t)len : rest);
    }
    case WEIR_FN_REPLACE: {
        weir_value t = text_of(ev, a[0]), f = text_of(ev, a[1]), r = text_of(ev, a[2]);
        if (f.len == 0)
            return t;
        weir_buf b = {0};
        bool okay = true;
        for (uint32_t i = 0; i < t.len && okay;) {
            if (t.len - i >= f.len && !memcmp(t.s + i, f.s, f.len)) {
                okay = !weir_buf_append(&b, r.s, r.len);
                i += f.len;
            } else {
                okay = !weir_buf_append(&b, t.s + i, 1);
                i++;
            }
        }
        weir_value out = okay ? make_text(ev, b.data ? (const char *)b.data : "", b.len) : weir_null(WEIR_TYPE_TEXT);
        weir_buf_free(&b);
        return out;
    }
    case WEIR_FN_SPLIT_PART: {
        weir_value t = text_of(ev, a[0]), d = text_of(ev, a[1]);
        int64_t want = as_i64(a[2]);
        if (want < 1 || d.len == 0)
            return weir_error(result, WEIR_VERR_CAST);
        uint32_t start = 0;
        for (int64_t part = 1;; part++) {
            uint32_t end = start;
            while (end < t.len && !(t.len - end >= d.len && !memcmp(t.s + end, d.s, d.len)))
                end++;
            if (part == want)
                return weir_text(t.s + start, end - start);
            if (end >= t.len)
                return weir_text(t.s, 0);
            start = end + d.len;
        }
    }
    case WEIR_FN_ABS:
        if (a[0].type == WEIR_TYPE_DOUBLE) return weir_double(fabs(a[0].d));
        if (a[0].type == WEIR_TYPE_UINT) return a[0];
        return a[0].i == INT64_MIN ? weir_error(result, WEIR_VERR_OVERFLOW) : weir_int(a[0].i < 0 ? -a[0].i : a[0].i);
    case WEIR_FN_FLOOR: return a[0].type == WEIR_TYPE_DOUBLE ? weir_double(floor(a[0].d)) : a[0];
    case WEIR_FN_CEIL: return a[0].type == WEIR_TYPE_DOUBLE ? weir_double(ceil(a[0].d)) : a[0];
    case WEIR_FN_ROUND: return a[0].type == WEIR_TYPE_DOUBLE ? weir_double(round(a[0].d)) : a[0];
    case WEIR_FN_MURMUR2: {
        weir_value t = text_of(ev, a[0]);
        return weir_int((int32_t)weir_murmur2(t.s, t.len));
    }
    case WEIR_FN_XXHASH64: {
        weir_value t = text_of(ev, a[0]);
        return weir_uint(XXH64(t.s, t.len, 0));
    }
    case WEIR_FN_PARTITION_OF: {
        int64_t parts = as_i64(a[0]);
        if (parts < 1 || parts > UINT32_MAX)
            return weir_error(result, WEIR_VERR_CAST);
        weir_value key = n == 2 ? text_of(ev, a[1]) : join_text(ev, a + 1, n - 1, "|");
        return weir_int(weir_partition_for_key(key.s, key.len, (uint32_t)parts));
    }
    case WEIR_FN_EPOCH_MS:
        return weir_int(a[0].i);
    case WEIR_FN_DATE_TRUNC:
        return fn_date_trunc(a[0], a[1]);
    case WEIR_FN_JSON_VALUE: case WEIR_FN_JSON_QUERY: case WEIR_FN_JSON_EXISTS:
        return fn_json_call(ev, fn, a[0], a[1], result);
    }
    return weir_null(result);
}
