/*
 * row_map.h - rows by the value of one of their columns, the key: what a
 * join keeps of a table (each key's current row). Rows are copies, each
 * one malloc'd block with its text; a row whose key is NULL is no row.
 *
 * Without a store the map is the whole state, saved whole by checkpoints
 * (weir_row_map_save). Attached to a store table (weir_row_map_attach;
 * docs/STATE_STORE.md, "Join state in the store") memory is a cache of
 * it: a checkpoint writes only the keys changed since the last one (a
 * put, or a delete for a row that left), rows the store holds as they
 * are may leave memory under --state-memory, and a key memory lacks is
 * read from the store when first looked up (a restart reads nothing up
 * front). A row that left is kept as a marker (its key, no row) until the
 * store has its delete, so that a lookup does not find the stored row
 * again; a key the store lacks is remembered the same way.
 *
 * One thread calls everything here, but for the seal, which the
 * checkpoint's thread calls while the engine is held.
 */
#ifndef WEIR_ROW_MAP_H
#define WEIR_ROW_MAP_H

#include "base/buf.h"
#include "base/codec.h"
#include "sql/plan.h"
#include "state/budget.h"
#include "state/store.h"

typedef struct weir_row_map weir_row_map;

/* Rows of schema (borrowed: it outlives the map) keyed by column key_col;
 * NULL when out of memory. */
weir_row_map *weir_row_map_new(const weir_schema *schema, int key_col);
void weir_row_map_free(weir_row_map *m);

/* The row becomes its key's (copied); WEIR_ENOMEM. */
int weir_row_map_upsert(weir_row_map *m, const weir_value *row);
/* key's row leaves, if there is one; WEIR_ENOMEM (attached: the marker). */
int weir_row_map_remove(weir_row_map *m, const weir_value *key);
/* *row = key's row, or NULL; valid until the map changes (a find of
 * another key may change it: one read from the store goes into memory).
 * Attached, a key memory lacks is read from the store: an error of the
 * store's (err says which) or WEIR_ENOMEM. */
int weir_row_map_find(weir_row_map *m, const weir_value *key, const weir_value **row, weir_err *err);

uint64_t weir_row_map_rows(const weir_row_map *m); /* rows in memory */
uint64_t weir_row_map_bytes(const weir_row_map *m);
size_t weir_row_map_entry_size(const weir_row_map *m);

/* Checkpoints without a store: the rows, as snapshot values. load adds
 * them to the map (attached: as changes, which the next checkpoint
 * writes to the store): WEIR_ECORRUPT (a value not of its column's type,
 * a NULL key), WEIR_ENOMEM. */
int weir_row_map_save(const weir_row_map *m, weir_buf *out);
int weir_row_map_load(weir_row_map *m, weir_reader_buf *r);

/* The map keeps its rows in store's table `table` (created; the store is
 * borrowed until the map is freed): before any row is added, on the
 * thread that writes the store, with no transaction open. Key: rows.h's
 * store key of the key column; value: rows.h's value of the whole row. */
int weir_row_map_attach(weir_row_map *m, weir_store *store, const char *table, weir_err *err);
bool weir_row_map_attached(const weir_row_map *m);
/* A checkpoint, as group_store.c's: seal appends the changes since the
 * last seal to the map's batch (the checkpoint's thread, the map not in
 * use), write puts the batch in the store's transaction, written says
 * whether it committed (a batch that did not is written again, first, by
 * the next). */
int weir_row_map_seal(weir_row_map *m, weir_err *err);
int weir_row_map_write(weir_row_map *m, weir_store_txn *txn, weir_err *err);
void weir_row_map_written(weir_row_map *m, bool committed);
/* Bounded memory (state/budget.h): a tick (a checkpoint committed); the
 * bytes of the entries the store holds as they are, by age since last
 * used; dropping those older than age, and of age `age` up to max_bytes
 * (how many were dropped). Nothing is droppable while a batch waits. */
void weir_row_map_tick(weir_row_map *m);
void weir_row_map_droppable(const weir_row_map *m, weir_budget_ages *ages);
uint64_t weir_row_map_drop(weir_row_map *m, unsigned age, uint64_t max_bytes);

#endif
