/*
 * schema_compat.c - whether a new version of a schema still accepts every
 * record the older one accepted (backward compatibility; see schema.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json/schema_internal.h"

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
        weir_jschema_type_list(o->types ? o->types : 127, before, sizeof before);
        weir_jschema_type_list(n->types, now, sizeof now);
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
    if (older->unusable) /* it accepted no record, so every schema accepts all it did */
        return true;
    if (newer->unusable)
        return incompatible(why, cap, "", "the new version cannot be compiled: %s", newer->unusable);
    char path[256] = "";
    return compatible_at(older, newer, path, sizeof path, why, cap);
}
