/*
 * rows.h - a table's rows in the state store (docs/STATE_STORE.md,
 * "Layout"): one store table per SQL table, named "table:" and the
 * table's name, whose key is the row's primary key and whose value is the
 * whole row.
 *
 * Key: key.h's encoding of the primary-key columns in order (GROUP BY
 * keys, then the window start), so the rows of one value of the first
 * key column are one range. A key longer than the store takes (511 bytes
 * with Debian's LMDB: long TEXT keys) keeps its first max - 8 bytes and
 * ends with the XXH64 of the whole encoding: ranges by a prefix still find
 * it (they may find more rows, which the caller filters), and two keys
 * share a store key only if they share those bytes and their 64-bit hash.
 *
 * Value: a version byte (1), then key.h's encoding of every column of
 * the row: self-describing and canonical, so it is the row format with
 * no second encoder (fuzz/fuzz_key.c fuzzes its decoder). A table's view
 * (weir_rows_value_keyed) writes version 2 instead: key.h's encoding of
 * the columns not in the primary key, in order, since the store key
 * holds the others (at 3M Collatz steps 18 of a row's 32 bytes were the
 * key again); where the store key was cut (or may have been: it is the
 * longest) or there is no key, it writes version 1. Both versions are
 * read (weir_rows_decode_keyed), so a store written before loads. Two things a
 * row loses on the way: -0.0 comes back +0.0 and every NaN the one quiet
 * NaN (key.h), and an error value (which no emitted row should hold; the
 * changelog's JSON writes it null) is written as NULL of its type.
 */
#ifndef WEIR_ROWS_H
#define WEIR_ROWS_H

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "sql/plan.h"
#include "state/store.h"

#define WEIR_ROWS_VERSION 1       /* the whole row */
#define WEIR_ROWS_VERSION_KEYED 2 /* the columns not in the key, which the store key holds */

/* The store table of the SQL table called name (create: the writer, as
 * weir_store_table_open). */
int weir_rows_table(weir_store *s, const char *name, bool create, weir_store_table *t, weir_err *err);

/* Appends to out the store key of row, whose primary key is the columns
 * pk[0..npk) (none: the one row of a table without a key, a fixed key). */
int weir_rows_key(const weir_store *s, const weir_value *row, const int *pk, int npk, weir_buf *out, weir_err *err);

/* Appends to out the store key's prefix shared by every row whose first
 * key column is first, and to end the first key past them (*bounded false
 * when none: scan to the end). */
int weir_rows_prefix(const weir_store *s, const weir_value *first, weir_buf *out, weir_buf *end, bool *bounded,
                     weir_err *err);

/* Appends the value of row (n columns) to out. */
int weir_rows_value(const weir_value *row, int n, weir_buf *out, weir_err *err);

/* Appends to out the value of row (n columns) stored under key, klen
 * bytes, which weir_rows_key made of its columns pk[0..npk): version 2
 * (the other columns) when the key is whole, else version 1. */
int weir_rows_value_keyed(const weir_store *s, const weir_value *row, int n, const int *pk, int npk, size_t klen,
                          weir_buf *out, weir_err *err);

/* As weir_rows_decode, for a value of either version stored under key
 * (klen bytes) of the table whose primary key is pk[0..npk); a version 2
 * value takes the key's columns from key. */
int weir_rows_decode_keyed(const char *table, const weir_schema *schema, const int *pk, int npk, const void *key,
                           size_t klen, const void *val, size_t len, weir_value *vals, weir_arena *a, weir_err *err);

/* Decodes a value of the table into vals[0..schema->ncols), each column
 * of its schema's type (or NULL): anything else is WEIR_ECORRUPT naming
 * the table. TEXT points into val or into a, as weir_key_decode. */
int weir_rows_decode(const char *table, const weir_schema *schema, const void *val, size_t len, weir_value *vals,
                     weir_arena *a, weir_err *err);

#endif
