/*
 * row_map.h - rows by the value of one of their columns, the key: what a
 * join keeps of a table (each key's current row). Rows are copies, each
 * one malloc'd block with its text; a row whose key is NULL is no row.
 * One thread calls everything here.
 */
#ifndef WEIR_ROW_MAP_H
#define WEIR_ROW_MAP_H

#include "base/buf.h"
#include "base/codec.h"
#include "sql/plan.h"

typedef struct weir_row_map weir_row_map;

/* Rows of schema (borrowed: it outlives the map) keyed by column key_col;
 * NULL when out of memory. */
weir_row_map *weir_row_map_new(const weir_schema *schema, int key_col);
void weir_row_map_free(weir_row_map *m);

/* The row becomes its key's (copied); WEIR_ENOMEM. */
int weir_row_map_upsert(weir_row_map *m, const weir_value *row);
/* key's row leaves, if there is one. */
void weir_row_map_remove(weir_row_map *m, const weir_value *key);
/* key's row, or NULL; valid until the map changes. */
const weir_value *weir_row_map_get(const weir_row_map *m, const weir_value *key);

uint64_t weir_row_map_rows(const weir_row_map *m);
uint64_t weir_row_map_bytes(const weir_row_map *m);
size_t weir_row_map_entry_size(const weir_row_map *m);

/* Checkpoints: the rows, as snapshot values. load adds them to the map:
 * WEIR_ECORRUPT (a value not of its column's type, a NULL key), WEIR_ENOMEM. */
int weir_row_map_save(const weir_row_map *m, weir_buf *out);
int weir_row_map_load(weir_row_map *m, weir_reader_buf *r);

#endif
