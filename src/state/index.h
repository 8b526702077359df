/*
 * index.h - ordered indexes of a table's rows in the state store
 * (docs/STATE_STORE.md, "Top-N from an ordered index"): for a column c of
 * the table, every row as a key ordered by (c's value, primary key), so
 * that ORDER BY c [DESC] LIMIT k is the first k keys of a cursor walk,
 * forward or reverse, instead of a sort of the whole table.
 *
 * One store table per SQL table, named "index:" and the table's name,
 * holding the indexes of all its indexed columns (at most
 * WEIR_INDEX_MAX_COLS: the first 64 columns), each a range of its own:
 *
 *   entry   key:   key.h's UINT c, then c's value, then the primary-key
 *                  columns; past the store's longest key, cut as rows.h
 *                  cuts a row's key (its first max - 8 bytes, then the
 *                  XXH64 of the whole): such a key's place is exact only
 *                  to its first bytes (weir_index_key_cut says which)
 *           value: the row's store key (rows.h) in the table's rows
 *   marker  key:   key.h's NULL (of type UINT), then UINT c: the index of
 *                  c is whole (built) in this commit
 *           value: a version byte (1), c's weir_type, c's name
 *
 * An index is written in the same transaction as the rows it indexes
 * (weir_index_write), so it agrees with them in every commit. Error
 * values in a row are indexed as NULL, as rows.h writes them.
 */
#ifndef WEIR_INDEX_H
#define WEIR_INDEX_H

#include "base/buf.h"
#include "base/err.h"
#include "sql/plan.h"
#include "state/store.h"

#define WEIR_INDEX_VERSION 1
#define WEIR_INDEX_MAX_COLS 64

/* The index table of the SQL table called name (create: the writer, as
 * weir_store_table_open; without it, absent is WEIR_ENOENT). */
int weir_index_table(weir_store *s, const char *name, bool create, weir_store_table *t, weir_err *err);

/* Appends to out the entry key of row (of table's schema) in column col's index. */
int weir_index_key(const weir_store *s, const weir_relation *table, const weir_value *row, int col, weir_buf *out,
                   weir_err *err);

/* Whether an entry key of klen bytes may have been cut: its order among
 * keys sharing its first bytes is then its hash's, not its values'. */
bool weir_index_key_cut(const weir_store *s, size_t klen);

/* Appends to lo the first key of column col's entries and to hi the
 * first key past them: the range to walk. */
int weir_index_range(int col, weir_buf *lo, weir_buf *hi, weir_err *err);

/* Whether column col's index is built in snap (its marker is there and
 * names col's type and name in table's schema). */
int weir_index_snap_built(weir_store_snap *snap, weir_store_table t, const weir_relation *table, int col, bool *built,
                          weir_err *err);

/* The column a marker (its key and value as the store holds them) says
 * is indexed, or -1 when it is malformed or names no column of table as
 * it is now (the table was defined otherwise when it was written). */
int weir_index_marker_col(const weir_relation *table, const void *key, size_t klen, const void *val, size_t vlen);

/* The columns whose index is built in snap (a bit per column), and
 * whether a marker names a column the schema does not have as it says
 * (the table was defined otherwise before: the indexes are stale). */
int weir_index_built(weir_store_snap *snap, weir_store_table t, const weir_relation *table, uint64_t *built,
                     bool *stale, weir_err *err);

/* The writer, in txn of store s: applies batch (state/changes.h: the table's changed
 * rows, keys and values as rows.h writes them) to rows, and keeps the
 * indexes of the columns in cols (a bit per column) agreeing with it:
 * each changed row's old entry (its row in the store before, or its
 * previous change in batch) goes, its new one comes. The columns in
 * build (a subset of cols) have no index yet: each is first made from
 * every row the store holds, and its marker put. */
int weir_index_write(const weir_store *s, weir_store_txn *txn, weir_store_table rows, weir_store_table index, const weir_relation *table,
                     uint64_t cols, uint64_t build, const weir_buf *batch, weir_err *err);

#endif
