/*
 * groups.h - the keyed state of a grouped query: one entry per (group key,
 * window or pane start), holding that group's accumulators.
 *
 * An open-addressing hash table (linear probing, backward-shift deletion)
 * whose slots are the entries themselves, all of one size for a query:
 * hash, window, key values, accumulators. TEXT keys are copied and owned.
 * Pointers returned into the table are valid until the next insertion or
 * removal.
 */
#ifndef WEIR_GROUPS_H
#define WEIR_GROUPS_H

#include "state/acc.h"

typedef struct weir_groups weir_groups;

/* ops makes and frees the entries' accumulator blocks (borrowed; it outlives the table). */
weir_groups *weir_groups_new(const weir_query *q, const weir_acc_ops *ops);
void weir_groups_free(weir_groups *g);
size_t weir_groups_count(const weir_groups *g);
/* Bytes of memory held (table, owned keys; not sketches). */
size_t weir_groups_bytes(const weir_groups *g);
/* Bytes of one entry: 16 of header, 16 per key, the accumulator block. */
size_t weir_groups_entry_size(const weir_groups *g);

/* Makes room for n entries at once: a table filled in another table's slot
 * order (a checkpoint's groups) while it grows from small would pack them
 * into long probe runs (each insert walking the run), quadratic in the
 * groups. -1 when out of memory. */
int weir_groups_reserve(weir_groups *g, size_t n);

/* The accumulators of (keys, window), created (initialised) if absent.
 * NULL when out of memory. */
weir_acc *weir_groups_upsert(weir_groups *g, const weir_value *keys, int64_t window);
weir_acc *weir_groups_find(weir_groups *g, const weir_value *keys, int64_t window);

/* Walks every entry: *pos starts at 0. */
bool weir_groups_next(weir_groups *g, size_t *pos, const weir_value **keys, int64_t *window, weir_acc **accs);

/* Removes every entry whose window is below `before`. */
void weir_groups_evict(weir_groups *g, int64_t before);

/* Removes the entry (keys, window) if present. */
void weir_groups_remove(weir_groups *g, const weir_value *keys, int64_t window);

/* The query whose entries these are (its key count and aggregates). */
const weir_query *weir_groups_query(const weir_groups *g);

#endif
