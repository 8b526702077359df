/*
 * changes.h - a checkpoint's changes to one store table, encoded once (on
 * the checkpoint's thread while the pipeline waits) and written later in
 * the store's transaction (while the pipeline goes on): puts and deletes
 * in a buffer, each a u32 key length, a u32 value length (CHANGES_DEL for
 * a delete), the key and the value.
 *
 * weir_changes_write applies them in key order, changes to one key in the
 * order they were added: a B-tree written in key order touches each page
 * once, where the order of the changes (a hash table's) touches them at
 * random.
 */
#ifndef WEIR_CHANGES_H
#define WEIR_CHANGES_H

#include "base/buf.h"
#include "base/err.h"
#include "state/store.h"

/* Appends a put (val, vlen) or, val NULL, a delete of key to b; -1 when out of memory. */
int weir_changes_add(weir_buf *b, const void *key, size_t klen, const void *val, size_t vlen);

/* Appends a delete of each key listed in keys (per key a u32 length, then
 * its bytes) to b; -1 when out of memory. */
int weir_changes_add_deletes(weir_buf *b, const weir_buf *keys);

/* Walks b's changes in the order they were added: from *at (0 for the
 * first) the next one's key and value (*val NULL: a delete), *at moved
 * past it; false at the end. */
bool weir_changes_next(const weir_buf *b, size_t *at, const uint8_t **key, size_t *klen, const uint8_t **val,
                       size_t *vlen);

/* Applies every change of b to tbl in the writer's transaction. */
int weir_changes_write(weir_store_txn *txn, weir_store_table tbl, const weir_buf *b, weir_err *err);

#endif
