/*
 * json.h - weir's JSON scanner: validation, top-level member lookup and
 * string decoding, over the bytes in place (no tree is built).
 *
 * Records arrive as JSON text, one object per line, and mostly need to be
 * checked and have a field or two picked out, so weir scans the text instead
 * of building a tree as the JSON libraries do. Strict RFC 8259: UTF-8 only,
 * no trailing commas, no comments, no NaN; nesting deeper than
 * WEIR_JSON_MAX_DEPTH is refused. Errors carry the byte offset of the first
 * bad byte and say what was expected.
 */
#ifndef WEIR_JSON_H
#define WEIR_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define WEIR_JSON_MAX_DEPTH 256

typedef enum weir_json_type {
    WEIR_JSON_NULL,
    WEIR_JSON_FALSE,
    WEIR_JSON_TRUE,
    WEIR_JSON_NUMBER,
    WEIR_JSON_STRING,
    WEIR_JSON_ARRAY,
    WEIR_JSON_OBJECT,
} weir_json_type;

typedef struct weir_json_error {
    size_t offset;      /* byte offset of the first bad byte */
    char msg[128];      /* what was wrong or expected there */
} weir_json_error;

/* A value's raw text inside the scanned buffer (strings keep their quotes). */
typedef struct weir_json_span {
    weir_json_type type;
    const char *p;
    size_t len;
} weir_json_span;

/* Checks that p[0..n) is exactly one JSON value, with optional whitespace
 * around it. Returns 0, or WEIR_EINVAL with *e filled. If out is not NULL
 * it receives the value's span. */
int weir_json_validate(const char *p, size_t n, weir_json_span *out, weir_json_error *e);

/* Finds the member `name` of the object p[0..n). Returns 1 and fills out if
 * found, 0 if absent, WEIR_EINVAL (as a negative number) if the text is not
 * a valid object. Names with escapes are compared decoded. */
int weir_json_member(const char *p, size_t n, const char *name, size_t name_len, weir_json_span *out);

/* Calls fn for each member of the object p[0..n), in order: name is the
 * member name's span (quotes included; escaped says whether it holds
 * escapes). A non-zero return from fn stops the walk and is returned.
 * Returns 0 after the last member, or -WEIR_EINVAL if the text is not a
 * valid object. */
typedef int (*weir_json_member_fn)(void *ctx, const char *name, size_t name_len, int escaped,
                                   const weir_json_span *value);
int weir_json_members(const char *p, size_t n, weir_json_member_fn fn, void *ctx);

/* Member names a walk of many alike records expects, so that it can
 * match a name as it scans it: at each member it compares the text with
 * the name predicted (the one after the last it matched; names[0] at
 * first), byte for byte. names[i] must be plain, printable ASCII without
 * '"' or '\\', so that matching it is as strict as scanning it; NULL for
 * a name that is not (never matched here: when it is predicted, the one
 * after it is predicted for the next member). */
typedef struct weir_json_names {
    const char *const *names;  /* n names, or NULL entries */
    const uint32_t *lens;      /* their lengths */
    int n;
} weir_json_names;

/* weir_json_members, with fn also told which of known's names the member
 * has: its index when matched as predicted, else -1 (it may still be one
 * of them, out of the predicted order or written with escapes: fn
 * compares it itself); and, of a string value, whether it holds escapes
 * (value_escaped), so that fn need not look for them. */
typedef int (*weir_json_known_fn)(void *ctx, int which, const char *name, size_t name_len, int escaped,
                                  const weir_json_span *value, int value_escaped);
int weir_json_members_known(const char *p, size_t n, const weir_json_names *known, weir_json_known_fn fn, void *ctx);

/* Calls fn for each element of the array p[0..n), in order. A non-zero
 * return from fn stops the walk and is returned. Returns 0 after the last
 * element, or -WEIR_EINVAL if the text is not a valid array. */
typedef int (*weir_json_element_fn)(void *ctx, const weir_json_span *value);
int weir_json_elements(const char *p, size_t n, weir_json_element_fn fn, void *ctx);

/* Appends the decoded bytes of a string span (quotes included) to out.
 * Lone surrogate escapes become U+FFFD. The span must come from this
 * scanner. Returns 0 or WEIR_ENOMEM. */
int weir_json_unescape(const char *p, size_t len, weir_buf *out);

/* A record's key as weir partitions by it (ingest, `weir produce --key`):
 * the texts of the members named in fields ("a,b") joined by '|', a
 * string's unescaped, another value's as written, a missing or null one
 * empty; into out (emptied first). *found: whether any member was there
 * and not null (else the record has no key). 0 or WEIR_ENOMEM. */
int weir_json_key_text(const char *json, size_t len, const char *fields, weir_buf *out, bool *found);
/* The partition among n (> 0) that a stream keyed by fields puts the
 * record in: murmur2 of its key text (weir_json_key_text's, into key), or
 * when it has none, the empty key's (weir_partition_for_no_key). 0 or
 * WEIR_ENOMEM. */
int weir_json_key_partition(const char *json, size_t len, const char *fields, uint32_t n, weir_buf *key, bool *found,
                            uint32_t *partition);

/* Appends s[0..n) as a JSON string literal (quotes, escapes) to out.
 * The result is always valid JSON: each byte of s that is not part of a
 * valid UTF-8 sequence (a stray continuation byte, a truncated or
 * overlong sequence, an encoded surrogate, 0xFE/0xFF) becomes U+FFFD. */
int weir_json_quote(weir_buf *out, const char *s, size_t n);

/* 1-based line and column (in bytes) of offset in text. */
void weir_json_position(const char *text, size_t offset, unsigned *line, unsigned *column);

const char *weir_json_type_name(weir_json_type t);

#endif
