/*
 * value.h - SQL types and values: what a column holds, what expressions
 * compute, what aggregates keep.
 *
 * A weir_value is 16 bytes and never owns memory: TEXT points into the
 * record it came from or into an arena that outlives it. NULL is a value
 * of any type with is_null set. An error value (err != 0) is what integer
 * overflow, division by zero or a failed CAST produce instead of a wrong
 * number; it travels through expressions like NULL, and the operator that
 * meets it sends the record to the dead-letter stream with the reason.
 */
#ifndef WEIR_VALUE_H
#define WEIR_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

typedef enum weir_type {
    WEIR_TYPE_NULL = 0,   /* the type of a bare NULL literal only */
    WEIR_TYPE_BOOL,
    WEIR_TYPE_INT,        /* int64 */
    WEIR_TYPE_UINT,       /* uint64 */
    WEIR_TYPE_DOUBLE,
    WEIR_TYPE_TEXT,       /* UTF-8 */
    WEIR_TYPE_TIMESTAMP,  /* milliseconds since the epoch, UTC */
    WEIR_TYPE_JSON,       /* JSON text kept as is (nested values, TOPK's result); printed unquoted */
} weir_type;

/* TEXT and JSON share a representation (s, len). */
static inline bool weir_type_has_text(int t) { return t == WEIR_TYPE_TEXT || t == WEIR_TYPE_JSON; }

typedef enum weir_value_error {
    WEIR_VERR_NONE = 0,
    WEIR_VERR_OVERFLOW,   /* integer result out of its type's range */
    WEIR_VERR_DIV_ZERO,
    WEIR_VERR_CAST,       /* a value that cannot be converted */
} weir_value_error;

typedef struct weir_value {
    uint8_t type;         /* weir_type */
    uint8_t is_null;
    uint8_t err;          /* weir_value_error; non-zero makes this an error value */
    uint32_t len;         /* TEXT and JSON: length in bytes */
    union {
        bool b;
        int64_t i;        /* INT and TIMESTAMP */
        uint64_t u;
        double d;
        const char *s;    /* TEXT and JSON: borrowed, not NUL-terminated */
    };
} weir_value;

static inline weir_value weir_null(weir_type t) { return (weir_value){.type = (uint8_t)t, .is_null = 1}; }
static inline weir_value weir_bool(bool b) { return (weir_value){.type = WEIR_TYPE_BOOL, .b = b}; }
static inline weir_value weir_int(int64_t i) { return (weir_value){.type = WEIR_TYPE_INT, .i = i}; }
static inline weir_value weir_uint(uint64_t u) { return (weir_value){.type = WEIR_TYPE_UINT, .u = u}; }
static inline weir_value weir_double(double d) { return (weir_value){.type = WEIR_TYPE_DOUBLE, .d = d}; }
static inline weir_value weir_timestamp(int64_t ms) { return (weir_value){.type = WEIR_TYPE_TIMESTAMP, .i = ms}; }
static inline weir_value weir_text(const char *s, size_t n) { return (weir_value){.type = WEIR_TYPE_TEXT, .len = (uint32_t)n, .s = s}; }
static inline weir_value weir_error(weir_type t, weir_value_error e) { return (weir_value){.type = (uint8_t)t, .is_null = 1, .err = (uint8_t)e}; }

const char *weir_type_name(weir_type t);           /* "INT", ... */
const char *weir_value_error_name(weir_value_error e); /* "integer overflow", ... */
bool weir_type_parse(const char *name, size_t len, weir_type *out); /* case-insensitive, with aliases */

/* Total order for ORDER BY, MIN and MAX: NULLs first, then by value;
 * numbers of different types compare numerically. */
int weir_value_cmp(const weir_value *a, const weir_value *b);
/* weir_value_cmp with the common case (two non-null integers or
 * timestamps) inlined, for sorting loops. */
static inline int weir_value_cmp_inline(const weir_value *a, const weir_value *b)
{
    if (a->type == b->type && !a->is_null && !b->is_null &&
        (a->type == WEIR_TYPE_INT || a->type == WEIR_TYPE_TIMESTAMP))
        return (a->i > b->i) - (a->i < b->i);
    return weir_value_cmp(a, b);
}

/* SQL equality for grouping and DISTINCT: NULL equals NULL here. */
bool weir_value_same(const weir_value *a, const weir_value *b);

/* A row of n values with its text in one block: weir_row_bytes says how
 * big, weir_row_pack copies the values and then their text into block. */
size_t weir_row_bytes(const weir_value *row, int n);
weir_value *weir_row_pack(void *block, const weir_value *row, int n);
uint64_t weir_value_hash(const weir_value *v, uint64_t seed);

/* Appends v as JSON (TIMESTAMP as an ISO 8601 UTC string, NULL and error
 * values as null). */
int weir_value_to_json(weir_buf *out, const weir_value *v);

/* The shortest text that reads back as exactly d ("0.1", not
 * "0.10000000000000001"); whole numbers keep a ".0". Returns the length. */
int weir_format_double(double d, char *out, size_t cap);

/* The timestamps weir reads: years 0000 to 9999, which ISO 8601's
 * four-digit years write and weir_timestamp_parse reads back. A value
 * outside (an epoch number of 1e300 would overflow int64 milliseconds)
 * is an error, so its record goes to the dead letters naming it. */
#define WEIR_TIMESTAMP_MIN_MS (-62167219200000LL)  /* 0000-01-01T00:00:00Z */
#define WEIR_TIMESTAMP_MAX_MS 253402300799999LL    /* 9999-12-31T23:59:59.999Z */

/* Timestamps: parses ISO 8601 ("2026-11-23T05:00:00Z", fractions, offsets
 * like +01:00 up to +23:59, a space instead of T, a date alone) into ms
 * since the epoch; false if it is not one or falls outside the range. */
bool weir_timestamp_parse(const char *s, size_t n, int64_t *ms);
/* Epoch numbers: below 1e11 in magnitude they are seconds, otherwise
 * milliseconds. false for NaN, infinities and values outside the range. */
bool weir_timestamp_from_epoch(double n, int64_t *ms);
/* Writes "2026-11-23T05:00:00Z" or, with milliseconds, "...:00.123Z";
 * returns the length (at most 32 with the NUL). */
int weir_timestamp_format(int64_t ms, char *out, size_t cap);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back
 * (Hinnant's algorithms; months and days 1-based). */
int64_t weir_days_from_civil(int64_t y, unsigned m, unsigned d);
void weir_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

#endif
