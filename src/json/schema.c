/*
 * schema.c - compiling JSON Schema (see schema.h); checking records is in
 * schema_check.c, the compatibility of two versions in schema_compat.c.
 *
 * A schema compiles into a tree of nodes, one per (sub)schema, holding the
 * parsed constraints: numbers as doubles, patterns compiled by PCRE2
 * within the limits of schema.h, enum members as decoded values. Checking
 * walks the record with the scanner of json.c, so nothing is built for
 * the record itself.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/schema_internal.h"

/* JSON Schema's types, by their bit in a compiled schema's type set. */
static const char *const type_names[7] = {"null", "boolean", "integer", "number", "string", "array", "object"};

/* ---- values in a comparable form ---- */

/* A number span's value. The span points into text that need not be
 * NUL-terminated (a request body), so strtod reads a copy. */
double weir_jschema_number(const weir_json_span *v)
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
int weir_jschema_canonical(const weir_json_span *v, weir_buf *out)
{
    out->len = 0;
    if (v->type == WEIR_JSON_STRING)
        return weir_buf_append(out, "s", 1) || weir_json_unescape(v->p, v->len, out) || weir_buf_append(out, "", 1);
    if (v->type == WEIR_JSON_NUMBER)
        return weir_buf_printf(out, "n%.17g", weir_jschema_number(v)) || weir_buf_append(out, "", 1);
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
    double d = weir_jschema_number(v);
    return isfinite(d) && d == floor(d);
}

unsigned weir_jschema_type_of(const weir_json_span *v)
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

void weir_jschema_type_list(unsigned types, char *out, size_t cap)
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
    if (!grown || weir_jschema_canonical(v, &k->C->tmp) || !(grown[s->nenum] = strdup((const char *)k->C->tmp.data))) {
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
    *out = weir_jschema_number(v);
    return WEIR_OK;
}

static int count_of(compiler *C, const char *keyword, const weir_json_span *v, int64_t *out)
{
    if (v->type != WEIR_JSON_NUMBER || !is_integral(v) || weir_jschema_number(v) < 0 || weir_jschema_number(v) > 9e15)
        return bad(C, keyword, "must be a non-negative integer (at most 9e15)");
    *out = (int64_t)weir_jschema_number(v);
    return WEIR_OK;
}

/* Compiles a pattern within the limits of schema.h. PCRE2 checks the
 * pattern's length before parsing it and refuses one whose compiled form
 * would outgrow its link size (64 KiB in Debian's build) while sizing it,
 * so a hostile pattern fails in microseconds; the compiled-size check
 * after it keeps the bound for builds with a larger link size. */
static int compile_pattern(compiler *C, weir_jschema *s, const weir_json_span *v)
{
    if (!(s->pattern_src = decode_string(C, v)))
        return weir_err_set(C->err, WEIR_ENOMEM, "out of memory");
    size_t n = C->tmp.len - 1; /* decode_string's text, without its NUL: a pattern may hold \u0000 */
    char what[300];
    pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
    if (!cc)
        return weir_err_set(C->err, WEIR_ENOMEM, "out of memory");
    int code = 0;
    PCRE2_SIZE at = 0;
    if (pcre2_set_max_pattern_length(cc, WEIR_JSCHEMA_PATTERN_MAX_LEN) ||
        pcre2_set_compile_extra_options(cc, PCRE2_EXTRA_ALT_BSUX))
        code = PCRE2_ERROR_BADDATA;
    else
        s->pattern = pcre2_compile((PCRE2_SPTR)C->tmp.data, n,
                                   PCRE2_UTF | PCRE2_NO_AUTO_CAPTURE | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX |
                                       PCRE2_NEVER_BACKSLASH_C,
                                   &code, &at, cc);
    pcre2_compile_context_free(cc);
    if (!s->pattern) {
        PCRE2_UCHAR why[160];
        if (pcre2_get_error_message(code, why, sizeof why) < 0)
            snprintf((char *)why, sizeof why, "PCRE2 error %d", code);
        if (code == PCRE2_ERROR_PATTERN_TOO_LARGE || code == PCRE2_ERROR_PATTERN_STRING_TOO_LONG ||
            code == PCRE2_ERROR_PATTERN_TOO_COMPLICATED)
            snprintf(what, sizeof what, "is over weir's limit for patterns (%d bytes of text, %d compiled): %s",
                     WEIR_JSCHEMA_PATTERN_MAX_LEN, WEIR_JSCHEMA_PATTERN_MAX_SIZE, (const char *)why);
        else
            snprintf(what, sizeof what, "is not a regular expression weir accepts: %s at offset %zu", (const char *)why,
                     (size_t)at);
        return bad(C, "pattern", what);
    }
    size_t size = 0;
    if (pcre2_pattern_info(s->pattern, PCRE2_INFO_SIZE, &size) || size > WEIR_JSCHEMA_PATTERN_MAX_SIZE) {
        snprintf(what, sizeof what, "is over weir's limit for patterns: it compiles to %zu bytes, more than %d", size,
                 WEIR_JSCHEMA_PATTERN_MAX_SIZE);
        return bad(C, "pattern", what);
    }
    if (!(s->limits = pcre2_match_context_create(NULL)))
        return weir_err_set(C->err, WEIR_ENOMEM, "out of memory");
    if (pcre2_set_match_limit(s->limits, WEIR_JSCHEMA_MATCH_LIMIT) ||
        pcre2_set_heap_limit(s->limits, WEIR_JSCHEMA_MATCH_HEAP_KIB))
        return bad(C, "pattern", "cannot be given its match limits by this PCRE2");
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
        else
            rc = compile_pattern(C, s, v);
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

weir_jschema *weir_jschema_unusable(const char *why)
{
    weir_jschema *s = calloc(1, sizeof *s);
    if (s && !(s->unusable = strdup(why))) {
        free(s);
        return NULL;
    }
    if (s)
        s->min_len = s->max_len = s->min_items = s->max_items = -1;
    return s;
}

bool weir_jschema_usable(const weir_jschema *s) { return !s->unusable; }

void weir_jschema_free(weir_jschema *s)
{
    if (!s)
        return;
    pcre2_code_free(s->pattern);
    pcre2_match_context_free(s->limits);
    free(s->pattern_src);
    free(s->unusable);
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

