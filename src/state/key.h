/*
 * key.h - the state store's keys: a tuple of SQL values as a byte string
 * whose order (memcmp, shorter first) is the values' order, column by
 * column. Every key the store holds is made here; nothing else in weir
 * knows the rule (docs/STATE_STORE.md, "Layout").
 *
 * Each column is a tag byte, then its payload:
 *
 *   NULL       0x01, then the value's weir_type as one byte: before every
 *              non-null tag, so NULLs sort first
 *   BOOL       0x11, then 0x00 or 0x01
 *   INT        0x12, then 8 bytes big-endian with the sign bit flipped
 *   UINT       0x13, then 8 bytes big-endian
 *   DOUBLE     0x14, then 8 bytes big-endian: the IEEE bits with the sign
 *              bit flipped when positive and every bit flipped when
 *              negative; -0 is written as +0 (SQL has them equal, so they
 *              are one group) and every NaN as the one quiet NaN, which
 *              sorts after +infinity (as PostgreSQL orders NaN)
 *   TEXT       0x15, then the bytes with each 0x00 written 0x00 0xFF,
 *              then 0x00 0x01; the terminator sorts before any escaped
 *              zero and before any byte, so "a" < "a\0" < "ab", and a
 *              key's prefix of whole columns is a prefix of its bytes
 *   TIMESTAMP  0x16, then as INT (milliseconds)
 *   JSON       0x17, then as TEXT
 *
 * So keys order as weir_value_cmp orders values of one type per column
 * (as a table's columns are), with NaN placed last where weir_value_cmp
 * has no order for it. Columns of mixed types order by tag first.
 * Encoding is canonical: decode accepts only what encode writes, so
 * encode(decode(k)) == k.
 */
#ifndef WEIR_KEY_H
#define WEIR_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "sql/value.h"

/* Appends the key of vals[0..n) to out. WEIR_EINVAL for an error value
 * (overflow, a failed CAST: not a key) or an unknown type; WEIR_ENOMEM
 * when out cannot grow (out keeps what it had). */
int weir_key_encode(weir_buf *out, const weir_value *vals, int n, weir_err *err);

/* Decodes the whole of key[0..len) into vals[0..*n), at most max columns.
 * TEXT and JSON point into key, or into a when they held a zero byte:
 * valid while both are. A malformed key (a truncated column, an unknown
 * tag, a bad escape, a non-canonical number, more than max columns) is
 * WEIR_ECORRUPT, naming the column, the byte offset and why. */
int weir_key_decode(const uint8_t *key, size_t len, weir_value *vals, int max, int *n,
                    weir_arena *a, weir_err *err);

/* The smallest byte string greater than every key that starts with
 * prefix[0..n): the exclusive end of a prefix scan. Appends it to out and
 * sets *bounded; *bounded false (nothing appended) when no such string
 * exists (an empty prefix or all 0xFF bytes: scan to the end). */
int weir_key_prefix_end(const uint8_t *prefix, size_t n, weir_buf *out, bool *bounded, weir_err *err);

#endif
