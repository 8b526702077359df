/*
 * table_join.h - the state of a stream-table join (sql/plan.h's weir_join
 * with `table` set): the table's current row per join key (the table's
 * primary key), which each stream record meets as it comes, as ksqlDB
 * joins a stream with a table. A record meets the row its key has when
 * the record is processed: in replay, the rows of the lines before it; in
 * serve, what the table's records read so far made (the runner reads the
 * inputs in declaration order each step, so a table declared first has
 * its step's records applied before the stream's).
 *
 * The rows are copies (the join's own state: in checkpoints, or in the
 * state store, row_map.h), kept until the table removes them. One thread (the engine's) calls everything here.
 */
#ifndef WEIR_TABLE_JOIN_H
#define WEIR_TABLE_JOIN_H

#include "base/buf.h"
#include "base/codec.h"
#include "exec/join.h"
#include "exec/row_map.h"

typedef struct weir_table_join weir_table_join;

/* NULL when out of memory. left_cols: columns of the stream side. */
weir_table_join *weir_table_join_new(const weir_join *j, int left_cols);
void weir_table_join_free(weir_table_join *t);

/* The table's new row of its key (copied); WEIR_ENOMEM. */
int weir_table_join_upsert(weir_table_join *t, const weir_value *row);
/* The table's row with key's primary key leaves; WEIR_ENOMEM. */
int weir_table_join_remove(weir_table_join *t, const weir_value *key);

/* A stream record meets its key's row: the joined row goes to emit (from
 * 0) if ON's rest holds over it; without a row (or when ON fails) an
 * INNER join emits nothing and a LEFT join the record with NULLs. ev
 * evaluates ON (its arena the caller's; ev->err says it failed, and
 * nothing is emitted). Returns what emit returned, or the error of
 * reading the row from the store (err says which). */
int weir_table_join_probe(weir_table_join *t, const weir_value *row, int64_t ts, weir_eval *ev, weir_join_emit emit,
                          void *ctx, weir_err *err);

/* A stream record `left` meets a table row `right` (NULL: none) as a join
 * j of either kind does: the joined row is built in joined (room for both
 * sides' columns) and goes to emit (from 0) if ON's rest holds; without a
 * row, or when ON fails, INNER emits nothing and LEFT emits left with
 * NULLs. ev->err: ON failed to evaluate, nothing is emitted. */
int weir_table_join_meet(const weir_join *j, int left_cols, weir_value *joined, const weir_value *left,
                         const weir_value *right, int64_t ts, weir_eval *ev, weir_join_emit emit, void *ctx);

uint64_t weir_table_join_entries(const weir_table_join *t);
uint64_t weir_table_join_bytes(const weir_table_join *t);
size_t weir_table_join_entry_size(const weir_table_join *t);

/* Checkpoints: the rows (snapshot.c frames them). */
int weir_table_join_save(const weir_table_join *t, weir_buf *out);
int weir_table_join_load(weir_table_join *t, weir_reader_buf *r); /* WEIR_ECORRUPT, WEIR_ENOMEM */
/* The rows, for keeping them in the state store (join_store.c). */
weir_row_map *weir_table_join_rows(weir_table_join *t);

#endif
