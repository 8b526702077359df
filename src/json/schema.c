/*
 * schema.c - compiling and checking JSON Schema (see schema.h).
 *
 * A schema compiles into a tree of nodes, one per (sub)schema, holding the
 * parsed constraints: numbers as doubles, patterns as compiled regexes,
 * enum members as decoded values. Checking walks the record with the
 * scanner of json.c, so nothing is built for the record itself.
 */
#include "json/schema.h"

#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "json/json.h"

enum {
    T_NULL = 1, T_BOOLEAN = 2, T_INTEGER = 4, T_NUMBER = 8, T_STRING = 16, T_ARRAY = 32, T_OBJECT = 64,
};
static const char *const type_names[] = {"null", "boolean", "integer", "number", "string", "array", "object"};

typedef struct property {
    char *name;
    weir_jschema *schema;
} property;

struct weir_jschema {
    unsigned types;            /* allowed types; 0: any */
    bool has_min, has_max, min_exclusive, max_exclusive;
    double minimum, maximum;
    int64_t min_len, max_len;  /* -1: none */
    int64_t min_items, max_items;
    regex_t pattern;
    char *pattern_src;         /* NULL: no pattern */
    bool date_time;
    char **enum_values;        /* canonical text of each allowed value (see canonical()) */
    int nenum;
    property *props;
    int nprops;
    char **required;
    int nrequired;
    bool closed;               /* additionalProperties: false */
    weir_jschema *additional;  /* additionalProperties: {schema} */
    weir_jschema *items;
};

/* ---- values in a comparable form ---- */

/* A number span's value. The span points into text that need not be
 * NUL-terminated (a request body), so strtod reads a copy. */
static double number_value(const weir_json_span *v)
{
    char small[128];
    char *copy = v->len < sizeof small ? small : malloc(v->len + 1);
    if (!copy)
        return NAN;
    memcpy(copy, v->p, v->len);
    copy[v->len] = '\0';
    double d = strtod(copy, NULL);
    if (copy != small)
        free(copy);
    return d;
}

/* The canonical text of a JSON value for enum/const comparison: strings
 * decoded and prefixed "s", numbers as %.17g prefixed "n", the rest as
 * their text with whitespace outside strings removed. */
static int canonical(const weir_json_span *v, weir_buf *out)
{
    out->len = 0;
    if (v->type == WEIR_JSON_STRING)
        return weir_buf_append(out, "s", 1) || weir_json_unescape(v->p, v->len, out) || weir_buf_append(out, "", 1);
    if (v->type == WEIR_JSON_NUMBER)
        return weir_buf_printf(out, "n%.17g", number_value(v)) || weir_buf_append(out, "", 1);
    bool in_string = false;
    for (size_t i = 0; i < v->len; i++) {
        char c = v->p[i];
        if (in_string && c == '\\') {
            if (weir_buf_append(out, v->p + i, 2))
                return WEIR_ENOMEM;
            i++;
            continue;
        }
        if (c == '"')
            in_string = !in_string;
        if (!in_string && (c == ' ' || c == '\t' || c == '\n' || c == '\r'))
            continue;
        if (weir_buf_append(out, &c, 1))
            return WEIR_ENOMEM;
    }
    return weir_buf_append(out, "", 1);
}

static bool is_integral(const weir_json_span *v)
{
    double d = number_value(v);
    return isfinite(d) && d == floor(d);
}

static unsigned type_of(const weir_json_span *v)
{
    switch (v->type) {
    case WEIR_JSON_NULL: return T_NULL;
    case WEIR_JSON_TRUE:
    case WEIR_JSON_FALSE: return T_BOOLEAN;
    case WEIR_JSON_NUMBER: return is_integral(v) ? T_INTEGER | T_NUMBER : T_NUMBER;
    case WEIR_JSON_STRING: return T_STRING;
    case WEIR_JSON_ARRAY: return T_ARRAY;
    default: return T_OBJECT;
    }
}

static void type_list(unsigned types, char *out, size_t cap)
{
    out[0] = '\0';
    for (int i = 0; i < 7; i++)
        if (types & (1u << i) && !(i == 2 && types & T_NUMBER)) /* "number" covers integers */
            snprintf(out + strlen(out), cap - strlen(out), "%s%s", out[0] ? " or " : "", type_names[i]);
}

/* ---- compiling ---- */

typedef struct compiler {
    weir_err *err;
    char path[256];            /* where in the schema, for errors */
    weir_buf tmp;
} compiler;

static int compile_node(compiler *C, const char *p, size_t n, weir_jschema **out);

static int bad(compiler *C, const char *keyword, const char *what)
{
    return weir_err_set(C->err, WEIR_EINVAL, "schema%s: %s %s", C->path[0] ? C->path : " (top)", keyword, what);
}

static char *decode_string(compiler *C, const weir_json_span *v)
{
    C->tmp.len = 0;
    if (weir_json_unescape(v->p, v->len, &C->tmp) || weir_buf_append(&C->tmp, "", 1))
        return NULL;
    return strdup((const char *)C->tmp.data);
}

static int parse_type_name(compiler *C, const weir_json_span *v, unsigned *types)
{
    if (v->type != WEIR_JSON_STRING)
        return bad(C, "type", "must be a type name or a list of them");
    for (int i = 0; i < 7; i++)
        if (v->len == strlen(type_names[i]) + 2 && !memcmp(v->p + 1, type_names[i], v->len - 2)) {
            *types |= 1u << i;
            if (i == 3)
                *types |= T_INTEGER; /* a number may be integral */
            return WEIR_OK;
        }
    return bad(C, "type", "names an unknown type (null, boolean, integer, number, string, array, object)");
}

typedef struct node_ctx {
    compiler *C;
    weir_jschema *s;
    int rc;
    uint32_t seen;             /* keywords met so far in this (sub)schema, by index in `keywords` */
} node_ctx;

static const char *const keywords[] = {
    "type", "enum", "const", "minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "minLength", "maxLength",
    "minItems", "maxItems", "pattern", "format", "properties", "required", "additionalProperties", "items",
};

static int add_type(void *ctx, const weir_json_span *v)
{
    node_ctx *k = ctx;
    return (k->rc = parse_type_name(k->C, v, &k->s->types)) ? 1 : 0;
}

static int add_enum(void *ctx, const weir_json_span *v)
{
    node_ctx *k = ctx;
    weir_jschema *s = k->s;
    char **grown = realloc(s->enum_values, (size_t)(s->nenum + 1) * sizeof *grown);
    if (!grown || canonical(v, &k->C->tmp) || !(grown[s->nenum] = strdup((const char *)k->C->tmp.data))) {
        if (grown)
            s->enum_values = grown;
        k->rc = weir_err_set(k->C->err, WEIR_ENOMEM, "out of memory");
        return 1;
    }
    s->enum_values = grown;
    s->nenum++;
    return 0;
}

static int add_required(void *ctx, const weir_json_span *v)
{
    node_ctx *k = ctx;
    weir_jschema *s = k->s;
    if (v->type != WEIR_JSON_STRING) {
        k->rc = bad(k->C, "required", "must list property names (strings)");
        return 1;
    }
    char **grown = realloc(s->required, (size_t)(s->nrequired + 1) * sizeof *grown);
    if (!grown || !(grown[s->nrequired] = decode_string(k->C, v))) {
        if (grown)
            s->required = grown;
        k->rc = weir_err_set(k->C->err, WEIR_ENOMEM, "out of memory");
        return 1;
    }
    s->required = grown;
    s->nrequired++;
    return 0;
}

/* Compiles a subschema with C->path extended by `step` for its errors. */
static int compile_child(compiler *C, const char *step, const weir_json_span *v, weir_jschema **out)
{
    size_t at = strlen(C->path);
    snprintf(C->path + at, sizeof C->path - at, "%s", step);
    int rc = compile_node(C, v->p, v->len, out);
    C->path[at] = '\0';
    return rc;
}

static int add_property(void *ctx, const char *name, size_t name_len, int escaped, const weir_json_span *v)
{
    (void)escaped;
    node_ctx *k = ctx;
    weir_jschema *s = k->s;
    weir_json_span ns = {WEIR_JSON_STRING, name, name_len};
    property *grown = realloc(s->props, (size_t)(s->nprops + 1) * sizeof *grown);
    if (!grown) {
        k->rc = weir_err_set(k->C->err, WEIR_ENOMEM, "out of memory");
        return 1;
    }
    s->props = grown;
    property *p = &s->props[s->nprops];
    if (!(p->name = decode_string(k->C, &ns))) {
        k->rc = weir_err_set(k->C->err, WEIR_ENOMEM, "out of memory");
        return 1;
    }
    p->schema = NULL;
    s->nprops++;
    for (int i = 0; i + 1 < s->nprops; i++)
        if (!strcmp(s->props[i].name, p->name)) {
            char what[200];
            snprintf(what, sizeof what, "names %s twice", p->name);
            k->rc = bad(k->C, "properties", what);
            return 1;
        }
    char step[200];
    snprintf(step, sizeof step, ".properties.%s", p->name);
    return (k->rc = compile_child(k->C, step, v, &p->schema)) ? 1 : 0;
}

static int number_of(compiler *C, const char *keyword, const weir_json_span *v, double *out)
{
    if (v->type != WEIR_JSON_NUMBER)
        return bad(C, keyword, "must be a number");
    *out = number_value(v);
    return WEIR_OK;
}

static int count_of(compiler *C, const char *keyword, const weir_json_span *v, int64_t *out)
{
    if (v->type != WEIR_JSON_NUMBER || !is_integral(v) || number_value(v) < 0 || number_value(v) > 9e15)
        return bad(C, keyword, "must be a non-negative integer (at most 9e15)");
    *out = (int64_t)number_value(v);
    return WEIR_OK;
}

static bool keyword_is(const char *name, size_t len, const char *kw)
{
    return len == strlen(kw) + 2 && !memcmp(name + 1, kw, len - 2);
}

static int on_keyword(void *ctx, const char *name, size_t len, int escaped, const weir_json_span *v)
{
    (void)escaped;
    node_ctx *k = ctx;
    compiler *C = k->C;
    weir_jschema *s = k->s;
    int rc = WEIR_OK;
    static const char *const ignored[] = {"$schema", "$id", "title", "description", "examples", "default", "$comment"};
    for (size_t i = 0; i < sizeof ignored / sizeof *ignored; i++)
        if (keyword_is(name, len, ignored[i]))
            return 0;
    for (size_t i = 0; i < sizeof keywords / sizeof *keywords; i++)
        if (keyword_is(name, len, keywords[i])) {
            bool twice = k->seen & (1u << i) || /* one bound of each side */
                         (i >= 3 && i <= 6 && k->seen & (1u << (i % 2 ? i + 1 : i - 1))) ||
                         (i >= 1 && i <= 2 && k->seen & (1u << (3 - i))); /* enum and const */
            if (twice)
                return (k->rc = bad(C, keywords[i], "appears twice (or with its exclusive form, or enum with const)")) ? 1 : 0;
            k->seen |= 1u << i;
        }
    if (keyword_is(name, len, "type")) {
        if (v->type == WEIR_JSON_ARRAY) {
            node_ctx sub = {C, s, 0, 0};
            weir_json_elements(v->p, v->len, add_type, &sub);
            rc = sub.rc;
        } else {
            rc = parse_type_name(C, v, &s->types);
        }
    } else if (keyword_is(name, len, "enum") || keyword_is(name, len, "const")) {
        node_ctx sub = {C, s, 0, 0};
        if (keyword_is(name, len, "const"))
            add_enum(&sub, v);
        else if (v->type != WEIR_JSON_ARRAY)
            return (k->rc = bad(C, "enum", "must be a list of values")) ? 1 : 0;
        else
            weir_json_elements(v->p, v->len, add_enum, &sub);
        rc = sub.rc;
    } else if (keyword_is(name, len, "minimum") || keyword_is(name, len, "exclusiveMinimum")) {
        s->has_min = true;
        s->min_exclusive = keyword_is(name, len, "exclusiveMinimum");
        rc = number_of(C, "minimum", v, &s->minimum);
    } else if (keyword_is(name, len, "maximum") || keyword_is(name, len, "exclusiveMaximum")) {
        s->has_max = true;
        s->max_exclusive = keyword_is(name, len, "exclusiveMaximum");
        rc = number_of(C, "maximum", v, &s->maximum);
    } else if (keyword_is(name, len, "minLength")) {
        rc = count_of(C, "minLength", v, &s->min_len);
    } else if (keyword_is(name, len, "maxLength")) {
        rc = count_of(C, "maxLength", v, &s->max_len);
    } else if (keyword_is(name, len, "minItems")) {
        rc = count_of(C, "minItems", v, &s->min_items);
    } else if (keyword_is(name, len, "maxItems")) {
        rc = count_of(C, "maxItems", v, &s->max_items);
    } else if (keyword_is(name, len, "pattern")) {
        if (v->type != WEIR_JSON_STRING)
            rc = bad(C, "pattern", "must be a regular expression in a string");
        else if (!(s->pattern_src = decode_string(C, v)))
            rc = weir_err_set(C->err, WEIR_ENOMEM, "out of memory");
        else if (regcomp(&s->pattern, s->pattern_src, REG_EXTENDED | REG_NOSUB)) {
            free(s->pattern_src);
            s->pattern_src = NULL;
            rc = bad(C, "pattern", "is not a regular expression weir can compile (POSIX extended syntax)");
        }
    } else if (keyword_is(name, len, "format")) {
        if (v->type == WEIR_JSON_STRING && keyword_is(v->p, v->len, "date-time"))
            s->date_time = true;
        else
            rc = bad(C, "format", "supports only \"date-time\"");
    } else if (keyword_is(name, len, "properties")) {
        if (v->type != WEIR_JSON_OBJECT)
            return (k->rc = bad(C, "properties", "must be an object of schemas")) ? 1 : 0;
        node_ctx sub = {C, s, 0, 0};
        weir_json_members(v->p, v->len, add_property, &sub);
        rc = sub.rc;
    } else if (keyword_is(name, len, "required")) {
        if (v->type != WEIR_JSON_ARRAY)
            return (k->rc = bad(C, "required", "must be a list of property names")) ? 1 : 0;
        node_ctx sub = {C, s, 0, 0};
        weir_json_elements(v->p, v->len, add_required, &sub);
        rc = sub.rc;
    } else if (keyword_is(name, len, "additionalProperties")) {
        if (v->type == WEIR_JSON_FALSE)
            s->closed = true;
        else if (v->type != WEIR_JSON_TRUE)
            rc = compile_child(C, ".additionalProperties", v, &s->additional);
    } else if (keyword_is(name, len, "items")) {
        rc = compile_child(C, ".items", v, &s->items);
    } else {
        char kw[64];
        snprintf(kw, sizeof kw, "%.*s", (int)(len - 2 < 60 ? len - 2 : 60), name + 1);
        rc = bad(C, kw, "is not supported by weir's validator (supported: type, properties, required, enum, const, "
                        "minimum, maximum, exclusiveMinimum, exclusiveMaximum, minLength, maxLength, pattern, "
                        "format date-time, additionalProperties, items, minItems, maxItems)");
    }
    k->rc = rc;
    return rc ? 1 : 0;
}

static int compile_node(compiler *C, const char *p, size_t n, weir_jschema **out)
{
    weir_json_span v;
    if (weir_json_validate(p, n, &v, NULL))
        return bad(C, "", "is not valid JSON");
    weir_jschema *s = calloc(1, sizeof *s);
    if (!s)
        return weir_err_set(C->err, WEIR_ENOMEM, "out of memory");
    s->min_len = s->max_len = s->min_items = s->max_items = -1;
    *out = s;
    if (v.type == WEIR_JSON_TRUE) /* true: anything */
        return WEIR_OK;
    if (v.type != WEIR_JSON_OBJECT)
        return bad(C, "", "must be an object (or true)");
    node_ctx k = {C, s, 0, 0};
    weir_json_members(v.p, v.len, on_keyword, &k);
    return k.rc;
}

int weir_jschema_compile(const char *text, size_t len, weir_jschema **out, weir_err *err)
{
    compiler C = {.err = err};
    *out = NULL;
    int rc = compile_node(&C, text, len, out);
    weir_buf_free(&C.tmp);
    if (rc) {
        weir_jschema_free(*out);
        *out = NULL;
    }
    return rc;
}

void weir_jschema_free(weir_jschema *s)
{
    if (!s)
        return;
    if (s->pattern_src) {
        regfree(&s->pattern);
        free(s->pattern_src);
    }
    for (int i = 0; i < s->nenum; i++)
        free(s->enum_values[i]);
    free(s->enum_values);
    for (int i = 0; i < s->nprops; i++) {
        free(s->props[i].name);
        weir_jschema_free(s->props[i].schema);
    }
    free(s->props);
    for (int i = 0; i < s->nrequired; i++)
        free(s->required[i]);
    free(s->required);
    weir_jschema_free(s->additional);
    weir_jschema_free(s->items);
    free(s);
}

/* ---- checking ---- */

typedef struct checker {
    weir_jschema_violation *v;
    char field[160];
    weir_buf tmp;
} checker;

static bool violation(checker *K, const char *rule, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool violation(checker *K, const char *rule, const char *fmt, ...)
{
    snprintf(K->v->field, sizeof K->v->field, "%s", K->field);
    snprintf(K->v->rule, sizeof K->v->rule, "%s", rule);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(K->v->msg, sizeof K->v->msg, fmt, ap);
    va_end(ap);
    return false;
}

static bool digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int num(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* RFC 3339 date-time: 2026-11-23T05:00:00(.123)?(Z|+01:00). */
static bool is_date_time(const char *s, size_t n)
{
    static const int month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (n < 20 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2) ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s + 11, 2) || s[13] != ':' || !digits(s + 14, 2) ||
        s[16] != ':' || !digits(s + 17, 2))
        return false;
    int year = num(s, 4), month = num(s + 5, 2), day = num(s + 8, 2);
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (month < 1 || month > 12 || day < 1 || day > month_days[month - 1] || (month == 2 && day == 29 && !leap) ||
        num(s + 11, 2) > 23 || num(s + 14, 2) > 59 || num(s + 17, 2) > 60)
        return false;
    size_t i = 19;
    if (i < n && s[i] == '.') {
        size_t start = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    if (i + 1 == n && (s[i] == 'Z' || s[i] == 'z'))
        return true;
    return i + 6 == n && (s[i] == '+' || s[i] == '-') && digits(s + i + 1, 2) && s[i + 3] == ':' &&
           digits(s + i + 4, 2) && num(s + i + 1, 2) < 24 && num(s + i + 4, 2) < 60;
}

static bool check_node(checker *K, const weir_jschema *s, const weir_json_span *v);

/* Extends K->field for a child, checks it, restores the field. */
static bool check_child(checker *K, const weir_jschema *s, const weir_json_span *v, const char *fmt, const char *name,
                        size_t index)
{
    size_t at = strlen(K->field);
    if (name)
        snprintf(K->field + at, sizeof K->field - at, fmt, at ? "." : "", name);
    else
        snprintf(K->field + at, sizeof K->field - at, fmt, index);
    bool ok = check_node(K, s, v);
    K->field[at] = '\0';
    return ok;
}

typedef struct walk {
    checker *K;
    const weir_jschema *s;
    size_t index;
    bool ok;
} walk;

static int check_element(void *ctx, const weir_json_span *v)
{
    walk *w = ctx;
    w->ok = !w->s->items || check_child(w->K, w->s->items, v, "[%zu]", NULL, w->index);
    w->index++;
    return w->ok ? 0 : 1;
}

static int check_member(void *ctx, const char *name, size_t len, int escaped, const weir_json_span *v)
{
    (void)escaped;
    walk *w = ctx;
    checker *K = w->K;
    weir_json_span ns = {WEIR_JSON_STRING, name, len};
    K->tmp.len = 0;
    if (weir_json_unescape(ns.p, ns.len, &K->tmp) || weir_buf_append(&K->tmp, "", 1)) {
        w->ok = violation(K, "memory", "out of memory");
        return 1;
    }
    char field[128];
    snprintf(field, sizeof field, "%s", (const char *)K->tmp.data);
    const weir_jschema *child = NULL;
    for (int i = 0; i < w->s->nprops && !child; i++)
        if (!strcmp(w->s->props[i].name, field))
            child = w->s->props[i].schema;
    if (!child && w->s->closed) {
        size_t at = strlen(K->field);
        snprintf(K->field + at, sizeof K->field - at, "%s%s", at ? "." : "", field);
        w->ok = violation(K, "additionalProperties", "field %s is not in the schema, which allows no others", field);
        K->field[at] = '\0';
        return 1;
    }
    if (!child)
        child = w->s->additional;
    w->ok = !child || check_child(K, child, v, "%s%s", field, 0);
    return w->ok ? 0 : 1;
}

static bool check_node(checker *K, const weir_jschema *s, const weir_json_span *v)
{
    unsigned t = type_of(v);
    if (s->types && !(s->types & t)) {
        char want[96];
        type_list(s->types, want, sizeof want);
        return violation(K, "type", "expected %s, found %s", want, weir_json_type_name(v->type));
    }
    if (s->nenum) {
        if (canonical(v, &K->tmp))
            return violation(K, "memory", "out of memory");
        bool found = false;
        for (int i = 0; i < s->nenum && !found; i++)
            found = !strcmp(s->enum_values[i], (const char *)K->tmp.data);
        if (!found)
            return violation(K, "enum", "%.*s is not one of the allowed values", (int)(v->len < 60 ? v->len : 60), v->p);
    }
    if (v->type == WEIR_JSON_NUMBER && (s->has_min || s->has_max)) {
        double d = number_value(v);
        if (s->has_min && (s->min_exclusive ? d <= s->minimum : d < s->minimum))
            return violation(K, s->min_exclusive ? "exclusiveMinimum" : "minimum", "%.*s is below the %s %.17g",
                             (int)(v->len < 40 ? v->len : 40), v->p, s->min_exclusive ? "exclusive minimum" : "minimum",
                             s->minimum);
        if (s->has_max && (s->max_exclusive ? d >= s->maximum : d > s->maximum))
            return violation(K, s->max_exclusive ? "exclusiveMaximum" : "maximum", "%.*s is above the %s %.17g",
                             (int)(v->len < 40 ? v->len : 40), v->p, s->max_exclusive ? "exclusive maximum" : "maximum",
                             s->maximum);
    }
    if (v->type == WEIR_JSON_STRING && (s->min_len >= 0 || s->max_len >= 0 || s->pattern_src || s->date_time)) {
        K->tmp.len = 0;
        if (weir_json_unescape(v->p, v->len, &K->tmp) || weir_buf_append(&K->tmp, "", 1))
            return violation(K, "memory", "out of memory");
        const char *str = (const char *)K->tmp.data;
        size_t bytes = K->tmp.len - 1;
        int64_t points = 0;
        for (size_t i = 0; i < bytes; i++)
            points += ((unsigned char)str[i] & 0xc0) != 0x80;
        if (s->min_len >= 0 && points < s->min_len)
            return violation(K, "minLength", "%lld characters, fewer than the minimum %lld", (long long)points,
                             (long long)s->min_len);
        if (s->max_len >= 0 && points > s->max_len)
            return violation(K, "maxLength", "%lld characters, more than the maximum %lld", (long long)points,
                             (long long)s->max_len);
        if (s->pattern_src && regexec(&s->pattern, str, 0, NULL, 0))
            return violation(K, "pattern", "does not match the pattern %s", s->pattern_src);
        if (s->date_time && !is_date_time(str, bytes))
            return violation(K, "format", "'%.60s' is not an RFC 3339 date-time like 2026-11-23T05:00:00Z", str);
    }
    if (v->type == WEIR_JSON_ARRAY && (s->items || s->min_items >= 0 || s->max_items >= 0)) {
        walk w = {K, s, 0, true};
        weir_json_elements(v->p, v->len, check_element, &w);
        if (!w.ok)
            return false;
        size_t count = w.index;
        if (s->min_items >= 0 && (int64_t)count < s->min_items)
            return violation(K, "minItems", "%zu items, fewer than the minimum %lld", count, (long long)s->min_items);
        if (s->max_items >= 0 && (int64_t)count > s->max_items)
            return violation(K, "maxItems", "%zu items, more than the maximum %lld", count, (long long)s->max_items);
    }
    if (v->type == WEIR_JSON_OBJECT) {
        for (int i = 0; i < s->nrequired; i++) {
            weir_json_span m;
            if (weir_json_member(v->p, v->len, s->required[i], strlen(s->required[i]), &m) != 1) {
                size_t at = strlen(K->field);
                snprintf(K->field + at, sizeof K->field - at, "%s%s", at ? "." : "", s->required[i]);
                violation(K, "required", "field %s is required", s->required[i]);
                K->field[at] = '\0';
                return false;
            }
        }
        if (s->nprops || s->closed || s->additional) {
            walk w = {K, s, 0, true};
            weir_json_members(v->p, v->len, check_member, &w);
            if (!w.ok)
                return false;
        }
    }
    return true;
}

bool weir_jschema_check(const weir_jschema *s, const char *json, size_t len, weir_jschema_violation *v)
{
    checker K = {.v = v};
    weir_json_span span;
    bool ok = weir_json_validate(json, len, &span, NULL) == 0 ? check_node(&K, s, &span)
                                                              : violation(&K, "json", "not valid JSON");
    weir_buf_free(&K.tmp);
    return ok;
}

/* ---- compatibility ---- */

static bool incompatible(char *why, size_t cap, const char *path, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static bool incompatible(char *why, size_t cap, const char *path, const char *fmt, ...)
{
    int n = snprintf(why, cap, "%s: ", *path ? path : "the record");
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < cap)
        vsnprintf(why + n, cap - (size_t)n, fmt, ap);
    va_end(ap);
    return false;
}

static const weir_jschema *find_prop(const weir_jschema *s, const char *name)
{
    for (int i = 0; i < s->nprops; i++)
        if (!strcmp(s->props[i].name, name))
            return s->props[i].schema;
    return NULL;
}

static bool compatible_at(const weir_jschema *o, const weir_jschema *n, char *path, size_t path_cap, char *why,
                          size_t cap)
{
    if (n->types && (!o->types || (o->types & ~n->types))) {
        char before[96], now[96];
        type_list(o->types ? o->types : 127, before, sizeof before);
        type_list(n->types, now, sizeof now);
        return incompatible(why, cap, path, "the type narrows from %s to %s", before, now);
    }
    if (n->nenum) {
        if (!o->nenum)
            return incompatible(why, cap, path, "an enum is added where any value was allowed");
        for (int i = 0; i < o->nenum; i++) {
            bool kept = false;
            for (int j = 0; j < n->nenum && !kept; j++)
                kept = !strcmp(o->enum_values[i], n->enum_values[j]);
            if (!kept)
                return incompatible(why, cap, path, "the enum drops the value %s", o->enum_values[i] + (o->enum_values[i][0] == 's' || o->enum_values[i][0] == 'n'));
        }
    }
    if (n->has_min && (!o->has_min || n->minimum > o->minimum ||
                       (n->minimum == o->minimum && n->min_exclusive && !o->min_exclusive)))
        return incompatible(why, cap, path, "the minimum rises to %.17g", n->minimum);
    if (n->has_max && (!o->has_max || n->maximum < o->maximum ||
                       (n->maximum == o->maximum && n->max_exclusive && !o->max_exclusive)))
        return incompatible(why, cap, path, "the maximum falls to %.17g", n->maximum);
    if (n->min_len > (o->min_len < 0 ? 0 : o->min_len))
        return incompatible(why, cap, path, "minLength rises to %lld", (long long)n->min_len);
    if (n->max_len >= 0 && (o->max_len < 0 || n->max_len < o->max_len))
        return incompatible(why, cap, path, "maxLength falls to %lld", (long long)n->max_len);
    if (n->min_items > (o->min_items < 0 ? 0 : o->min_items))
        return incompatible(why, cap, path, "minItems rises to %lld", (long long)n->min_items);
    if (n->max_items >= 0 && (o->max_items < 0 || n->max_items < o->max_items))
        return incompatible(why, cap, path, "maxItems falls to %lld", (long long)n->max_items);
    if (n->pattern_src && (!o->pattern_src || strcmp(n->pattern_src, o->pattern_src)))
        return incompatible(why, cap, path, "the pattern changes to %s", n->pattern_src);
    if (n->date_time && !o->date_time)
        return incompatible(why, cap, path, "format date-time is added");
    for (int i = 0; i < n->nrequired; i++) {
        bool before = false;
        for (int j = 0; j < o->nrequired && !before; j++)
            before = !strcmp(o->required[j], n->required[i]);
        if (!before)
            return incompatible(why, cap, path, "field %s becomes required", n->required[i]);
    }
    if (n->closed && !o->closed)
        return incompatible(why, cap, path, "additionalProperties becomes false");
    size_t at = strlen(path);
    for (int i = 0; i < o->nprops; i++) {
        const weir_jschema *now = find_prop(n, o->props[i].name);
        snprintf(path + at, path_cap - at, "%s%s", at ? "." : "", o->props[i].name);
        if (!now && n->closed) {
            bool ok = incompatible(why, cap, path, "the field is removed from a schema that allows no other fields");
            path[at] = '\0';
            return ok;
        }
        bool ok = !now || compatible_at(o->props[i].schema, now, path, path_cap, why, cap);
        path[at] = '\0';
        if (!ok)
            return false;
    }
    /* A property new in n is allowed: records written before rarely carry it (a choice; see docs). */
    if (n->items) {
        snprintf(path + at, path_cap - at, "[]");
        bool ok = o->items ? compatible_at(o->items, n->items, path, path_cap, why, cap)
                           : incompatible(why, cap, path, "a schema for the items is added");
        path[at] = '\0';
        if (!ok)
            return false;
    }
    if (n->additional && o->additional) {
        snprintf(path + at, path_cap - at, "%s*", at ? "." : "");
        bool ok = compatible_at(o->additional, n->additional, path, path_cap, why, cap);
        path[at] = '\0';
        if (!ok)
            return false;
    } else if (n->additional && !o->closed) {
        return incompatible(why, cap, path, "a schema for additional properties is added");
    }
    return true;
}

bool weir_jschema_compatible(const weir_jschema *older, const weir_jschema *newer, char *why, size_t cap)
{
    char path[256] = "";
    return compatible_at(older, newer, path, sizeof path, why, cap);
}
