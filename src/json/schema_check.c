/*
 * schema_check.c - checking a record against a compiled JSON Schema (see
 * schema.h): the first violation, with the field's path and the rule.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/schema_internal.h"

/* ---- checking ---- */

typedef struct checker {
    weir_jschema_violation *v;
    char field[160];
    weir_buf tmp;
    pcre2_match_data *match;   /* made at the first pattern, for the whole record */
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

/* Matches a decoded string (its length, not a NUL, ends it: it may hold
 * \u0000) against s's pattern within the limits of schema.h. A match that
 * runs out of its limits refuses the value: accepting it unchecked would
 * let through what the schema promises to keep out. */
static bool check_pattern(checker *K, const weir_jschema *s, const char *str, size_t bytes)
{
    if (!K->match && !(K->match = pcre2_match_data_create(1, NULL)))
        return violation(K, "memory", "out of memory");
    int rc = pcre2_match(s->pattern, (PCRE2_SPTR)str, bytes, 0, 0, K->match, s->limits);
    if (rc >= 0)
        return true;
    if (rc == PCRE2_ERROR_NOMATCH)
        return violation(K, "pattern", "does not match the pattern %s", s->pattern_src);
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT)
        return violation(K, "pattern", "the pattern %.80s is too costly to check against this value (over %d steps or "
                                       "%d KiB); the value is refused", s->pattern_src, WEIR_JSCHEMA_MATCH_LIMIT,
                         WEIR_JSCHEMA_MATCH_HEAP_KIB);
    PCRE2_UCHAR why[120];
    if (pcre2_get_error_message(rc, why, sizeof why) < 0)
        snprintf((char *)why, sizeof why, "PCRE2 error %d", rc);
    return violation(K, "pattern", "cannot be matched against the pattern %.80s: %s", s->pattern_src,
                     (const char *)why);
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
    if (s->unusable)
        return violation(K, "schema", "%s", s->unusable);
    unsigned t = weir_jschema_type_of(v);
    if (s->types && !(s->types & t)) {
        char want[96];
        weir_jschema_type_list(s->types, want, sizeof want);
        return violation(K, "type", "expected %s, found %s", want, weir_json_type_name(v->type));
    }
    if (s->nenum) {
        if (weir_jschema_canonical(v, &K->tmp))
            return violation(K, "memory", "out of memory");
        bool found = false;
        for (int i = 0; i < s->nenum && !found; i++)
            found = !strcmp(s->enum_values[i], (const char *)K->tmp.data);
        if (!found)
            return violation(K, "enum", "%.*s is not one of the allowed values", (int)(v->len < 60 ? v->len : 60), v->p);
    }
    if (v->type == WEIR_JSON_NUMBER && (s->has_min || s->has_max)) {
        double d = weir_jschema_number(v);
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
        if (s->pattern && !check_pattern(K, s, str, bytes))
            return false;
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
    pcre2_match_data_free(K.match);
    return ok;
}

