/*
 * offsets.h - the store's "_offsets" table: how far each input was read
 * and where each output and sink stood when the state beside them was
 * written. A checkpoint writes them in the same write transaction as its
 * state changes, so a commit keeps both or neither: after a crash the
 * state and the offsets it reflects always agree (exactly-once).
 *
 * A key is (kind, name, partition) made by key.h; a value is a version
 * byte (1) and the offset as 8 bytes big-endian.
 */
#ifndef WEIR_OFFSETS_H
#define WEIR_OFFSETS_H

#include <stdbool.h>
#include <stdint.h>

#include "state/store.h"

typedef enum weir_offset_kind {
    WEIR_OFFSET_INPUT = 1,    /* an input stream's partition: the next offset to read */
    WEIR_OFFSET_OUTPUT = 2,   /* an output stream's partition: its end the state reflects */
    WEIR_OFFSET_SINK = 3,     /* a sink's partition: the end it delivered */
} weir_offset_kind;

/* The _offsets table of s (create: the writer, as weir_store_table_open). */
int weir_offsets_table(weir_store *s, bool create, weir_store_table *t, weir_err *err);

/* Sets (kind, name, partition) to offset in the writer's transaction. */
int weir_offsets_put(weir_store_txn *txn, weir_store_table t, weir_offset_kind kind, const char *name,
                     uint32_t partition, uint64_t offset, weir_err *err);

/* Removes (kind, name, partition) in the writer's transaction; absent is fine. */
int weir_offsets_del(weir_store_txn *txn, weir_store_table t, weir_offset_kind kind, const char *name,
                     uint32_t partition, weir_err *err);

/* Reads it from a snapshot: *found false when it was never written. A
 * value that is not one this file writes is WEIR_ECORRUPT. */
int weir_offsets_get(weir_store_snap *r, weir_store_table t, weir_offset_kind kind, const char *name,
                     uint32_t partition, uint64_t *offset, bool *found, weir_err *err);

#endif
