/*
 * schema.h - JSON Schema (a draft 2020-12 subset) compiled once, checked
 * against every record at ingest.
 *
 * Keywords: type (one or a list), properties, required, enum, const,
 * minimum, maximum, exclusiveMinimum, exclusiveMaximum, minLength,
 * maxLength (in code points), pattern (POSIX extended regex, unanchored as
 * JSON Schema's), format "date-time" (RFC 3339), additionalProperties
 * (boolean or schema), items, minItems, maxItems. Annotations ($schema,
 * $id, title, description, examples, default, $comment) are ignored. Any
 * other keyword is refused at compile time, so a schema never promises a
 * check that is not made.
 */
#ifndef WEIR_JSON_SCHEMA_H
#define WEIR_JSON_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

typedef struct weir_jschema weir_jschema;

typedef struct weir_jschema_violation {
    char field[160];      /* where in the record: "speed", "address.zip", "tags[2]"; "" for the record itself */
    char rule[24];        /* the keyword that failed: "required", "type", "minimum", ... */
    char msg[200];        /* what was wrong, for a person */
} weir_jschema_violation;

/* Compiles a schema document. Errors say which keyword at which path. */
int weir_jschema_compile(const char *text, size_t len, weir_jschema **out, weir_err *err);
void weir_jschema_free(weir_jschema *s);

/* Checks one JSON value (the text must be valid JSON): true if it
 * conforms, else false with the first violation in *v. */
bool weir_jschema_check(const weir_jschema *s, const char *json, size_t len, weir_jschema_violation *v);

/* Whether records written under `older` stay valid under `newer`
 * (backward compatibility: no new required field, no narrower type, enum,
 * range, length or pattern, no newly closed object). false with the first
 * reason in why. */
bool weir_jschema_compatible(const weir_jschema *older, const weir_jschema *newer, char *why, size_t cap);

#endif
