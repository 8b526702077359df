/*
 * schema.h - JSON Schema (a draft 2020-12 subset) compiled once, checked
 * against every record at ingest.
 *
 * Keywords: type (one or a list), properties, required, enum, const,
 * minimum, maximum, exclusiveMinimum, exclusiveMaximum, minLength,
 * maxLength (in code points), pattern (see below), format "date-time"
 * (RFC 3339), additionalProperties (boolean or schema), items, minItems,
 * maxItems. Annotations ($schema, $id, title, description, examples,
 * default, $comment) are ignored. Any other keyword is refused at compile
 * time, so a schema never promises a check that is not made.
 *
 * pattern: a regular expression in PCRE2's syntax (Perl's, which is a
 * superset of the ECMA-262 one JSON Schema names), over code points
 * (UTF-8), unanchored as JSON Schema's. ECMA-262 behaviour where the two
 * differ and PCRE2 has an option: $ matches at the very end only, \uHHHH
 * and \u{H...} are code points, \x takes exactly two hex digits; \d, \w
 * and \s are ASCII (as in ECMA-262 without the u flag for \d and \w).
 * \C (a single byte) is refused. PCRE2 backtracks, so a pattern's cost is
 * bounded by limits instead of by its form (glibc's regcomp, used before,
 * took 20 s and 14 GB on ((((a{1,50}){1,50}){1,50}){1,50}); PCRE2's JIT
 * ran a.*b.*c on 1 MB for 205 s past its match limit, so it is not used;
 * bench/regex.c and BENCHMARKS.md have the measurements):
 *   - at compile time, a pattern longer than WEIR_JSCHEMA_PATTERN_MAX_LEN
 *     bytes, or one compiling to more than WEIR_JSCHEMA_PATTERN_MAX_SIZE
 *     bytes, is refused (the error names the keyword, its path and why);
 *   - at check time, one value's match may take WEIR_JSCHEMA_MATCH_LIMIT
 *     backtracking steps and WEIR_JSCHEMA_MATCH_HEAP_KIB of memory (about
 *     21 ms of one core, measured by bench/regex.c); a value that needs
 *     more is refused as a "pattern" violation saying the pattern was too
 *     costly for it: never accepted unchecked, never a hang.
 * The limits hold per value: a record's check stops at its first
 * violation, but a record of many values that each come close to the
 * limit pays for all of them (the request's body limit bounds how many).
 */
#ifndef WEIR_JSON_SCHEMA_H
#define WEIR_JSON_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#define WEIR_JSCHEMA_PATTERN_MAX_LEN 4096     /* bytes of a pattern's text */
#define WEIR_JSCHEMA_PATTERN_MAX_SIZE 65536   /* bytes of a compiled pattern */
#define WEIR_JSCHEMA_MATCH_LIMIT 1000000      /* backtracking steps for one value */
#define WEIR_JSCHEMA_MATCH_HEAP_KIB 16384     /* memory for one value's match */

typedef struct weir_jschema weir_jschema;

typedef struct weir_jschema_violation {
    char field[160];      /* where in the record: "speed", "address.zip", "tags[2]"; "" for the record itself */
    char rule[24];        /* the keyword that failed: "required", "type", "minimum", ... */
    char msg[200];        /* what was wrong, for a person */
} weir_jschema_violation;

/* Compiles a schema document. Errors say which keyword at which path. */
int weir_jschema_compile(const char *text, size_t len, weir_jschema **out, weir_err *err);
void weir_jschema_free(weir_jschema *s);

/* A schema that refuses every value with a violation (rule "schema")
 * quoting why: what a saved version that no longer compiles becomes, so
 * a stream bound to it refuses records instead of accepting them
 * unchecked. Any schema is backward compatible with it (it accepted
 * nothing). NULL if out of memory; free with weir_jschema_free. */
weir_jschema *weir_jschema_unusable(const char *why);
/* false for a schema made by weir_jschema_unusable. */
bool weir_jschema_usable(const weir_jschema *s);

/* Checks one JSON value (the text must be valid JSON): true if it
 * conforms, else false with the first violation in *v. */
bool weir_jschema_check(const weir_jschema *s, const char *json, size_t len, weir_jschema_violation *v);

/* Whether records written under `older` stay valid under `newer`
 * (backward compatibility: no new required field, no narrower type, enum,
 * range, length or pattern, no newly closed object). false with the first
 * reason in why. */
bool weir_jschema_compatible(const weir_jschema *older, const weir_jschema *newer, char *why, size_t cap);

#endif
