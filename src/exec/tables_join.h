/*
 * tables_join.h - the state of a table-table join (sql/plan.h's weir_join
 * with `tables` set): both tables' current rows by their primary key, the
 * join key. A change of either side (a row, or a row leaving) makes the
 * key's joined row as it now stands, as ksqlDB and Kafka Streams join two
 * tables: INNER needs both rows, LEFT the left one, FULL either. A key
 * that had a joined row and has none any more is `gone` (its row leaves
 * the output table). "Had" asks the caller too: a joined row that failed
 * WHERE was no row of the output table.
 *
 * In a FULL join's row without a left row, the left key column holds the
 * key too (the right row's), so the row always has its key. The rows are
 * copies, in checkpoints or the state store (row_map.h). One thread (the engine's) calls everything here.
 */
#ifndef WEIR_TABLES_JOIN_H
#define WEIR_TABLES_JOIN_H

#include "base/buf.h"
#include "base/codec.h"
#include "exec/join.h"
#include "exec/row_map.h"

typedef struct weir_tables_join weir_tables_join;

/* Where a change goes (the caller's: the engine's WHERE and SELECT list). */
typedef struct weir_tables_join_out {
    /* Whether a joined row (left's columns, then right's) is a row of the
     * output table: it passes WHERE. */
    bool (*shown)(void *ctx, const weir_value *row);
    /* The key's joined row is now row, or NULL: it has none; had: the key
     * had a row in the output table before (key: the left key's value). */
    int (*changed)(void *ctx, const weir_value *row, const weir_value *key, bool had, int64_t ts);
    void *ctx;
} weir_tables_join_out;

/* v as a key of type t: a join's keys are of one type, or INT and UINT (a
 * value the other cannot hold is a NULL, which meets nothing). */
weir_value weir_join_key_as(const weir_value *v, weir_type t);

/* NULL when out of memory. left: the left table. */
weir_tables_join *weir_tables_join_new(const weir_join *j, const weir_relation *left);
void weir_tables_join_free(weir_tables_join *t);

/* The table of sides (1 the left, 2 the right, 3 both: a table joined
 * with itself) has a new row of its key (row), or with row NULL, the row
 * of key (that table's key column's value) left it. Then out->changed
 * once, with the key's joined row as both sides now stand; returns what
 * it returned, WEIR_ENOMEM, or the error of reading a row from the store
 * (err says which). */
int weir_tables_join_update(weir_tables_join *t, unsigned sides, const weir_value *row, const weir_value *key, int64_t ts,
                            const weir_tables_join_out *out, weir_err *err);

uint64_t weir_tables_join_entries(const weir_tables_join *t);
uint64_t weir_tables_join_bytes(const weir_tables_join *t);
size_t weir_tables_join_entry_size(const weir_tables_join *t);

/* Checkpoints: both sides' rows (snapshot.c frames them). */
int weir_tables_join_save(const weir_tables_join *t, weir_buf *out);
int weir_tables_join_load(weir_tables_join *t, weir_reader_buf *r); /* WEIR_ECORRUPT, WEIR_ENOMEM */
/* A side's rows (0 the left, 1 the right), for keeping them in the state store (join_store.c). */
weir_row_map *weir_tables_join_rows(weir_tables_join *t, int side);

#endif
