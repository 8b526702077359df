/*
 * groups.h - the keyed state of a grouped query: one entry per (group key,
 * window or pane start), holding that group's accumulators.
 *
 * An open-addressing hash table (linear probing, backward-shift deletion)
 * whose slots are the entries themselves, all of one size for a query:
 * hash, window, key values, accumulators. TEXT keys are copied and owned.
 * Pointers returned into the table are valid until the next insertion or
 * removal.
 *
 * Kept in a state store (weir_groups_keep_changes; docs/STATE_STORE.md):
 * the table then knows which entries changed since the last checkpoint
 * (every upsert changes its entry) and which entries the store holds, so
 * that a checkpoint writes the changed ones and deletes the removed ones
 * only; and it may load an entry from the store the first time its key
 * is upserted (lazily, after a restart).
 */
#ifndef WEIR_GROUPS_H
#define WEIR_GROUPS_H

#include "base/buf.h"
#include "base/err.h"
#include "state/acc.h"
#include "state/budget.h"
#include "state/store.h"

typedef struct weir_groups weir_groups;

/* ops makes and frees the entries' accumulator blocks (borrowed; it outlives the table). */
weir_groups *weir_groups_new(const weir_query *q, const weir_acc_ops *ops);
void weir_groups_free(weir_groups *g);
size_t weir_groups_count(const weir_groups *g);
/* Bytes of memory held (table, owned keys, the lists by window, the filter of dropped keys; not sketches). */
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
/* The hash of keys, for looking them up in several windows at the cost of
 * hashing them once (in memory only: nothing stored depends on it). */
uint64_t weir_groups_key_hash(const weir_groups *g, const weir_value *keys);
/* weir_groups_find with key_hash = weir_groups_key_hash(g, keys). */
weir_acc *weir_groups_find_hashed(weir_groups *g, uint64_t key_hash, const weir_value *keys, int64_t window);

/* Walks every entry: *pos starts at 0. */
bool weir_groups_next(weir_groups *g, size_t *pos, const weir_value **keys, int64_t *window, weir_acc **accs);

/* Walks the entries whose window is in [lo, hi], by window (ascending) in
 * a windowed table (TUMBLE, HOP, CUMULATE: it lists its entries by window,
 * so the walk costs what it visits), else in slot order: walk starts
 * zeroed. keys are valid, as pointers into the table are, until the next
 * insertion or removal; key_hash is their weir_groups_key_hash. */
typedef struct weir_groups_walk {
    size_t at, item;           /* the walk's place: a window's list and an item in it, or a slot */
    bool begun;
} weir_groups_walk;
bool weir_groups_next_window(weir_groups *g, weir_groups_walk *walk, int64_t lo, int64_t hi, const weir_value **keys,
                             uint64_t *key_hash, int64_t *window);

/* Removes every entry whose window is below `before` (in a windowed table
 * visiting those only). */
void weir_groups_evict(weir_groups *g, int64_t before);

/* Removes the entry (keys, window) if present. */
void weir_groups_remove(weir_groups *g, const weir_value *keys, int64_t window);

/* Fills accs (just initialised) for (keys, window) from the store, the
 * first time the key is upserted: 1 when the store had it, 0 when not,
 * -1 on an error (the upsert then fails). */
typedef int (*weir_groups_loader)(void *ctx, const weir_query *q, const weir_value *keys, int64_t window,
                                  weir_acc *accs);

/* From now on, keep the changes for store s (borrowed; its max key
 * length; NULL: kept elsewhere, keys cut as store.h's weir_store_max_key
 * says for no store): every upsert marks its entry changed, and removing an entry the
 * store holds records its store key for deletion. load (may be NULL)
 * fills an entry new in memory from the store (ctx is its). */
void weir_groups_keep_changes(weir_groups *g, const weir_store *s, weir_groups_loader load, void *ctx);
/* The store holds no entry that memory lacks but those weir_groups_drop
 * drops from now on: the loader is then called only for a key that a
 * filter of the dropped entries' hashes may hold (keyfilter.h), not for
 * every key new to memory. */
void weir_groups_filter_loads(weir_groups *g);
/* Adds (keys, window), an entry the store holds, to that filter (before
 * weir_groups_filter_loads, for the entries the store held at start): -1
 * when out of memory, and then every key new to memory is looked up. */
int weir_groups_filter_add(weir_groups *g, const weir_value *keys, int64_t window);
/* No more lazy loading: every entry of the store is in memory. */
void weir_groups_stop_loading(weir_groups *g);

/* Inserts (keys, window) as read from the store: held there, unchanged.
 * NULL when out of memory or already present. */
weir_acc *weir_groups_insert_stored(weir_groups *g, const weir_value *keys, int64_t window);

/* Walks the entries changed since the last walk, each once, marking them
 * unchanged and held by the store: *pos starts at 0; the walk must go to
 * its end (false). */
bool weir_groups_next_changed(weir_groups *g, size_t *pos, const weir_value **keys, int64_t *window, weir_acc **accs);

/* Whether an entry may have changed since the last walk (stale listings
 * count: a cheap test, never false when one changed). */
bool weir_groups_any_changed(const weir_groups *g);

/* Appends the store keys of the entries removed since the last call that
 * the store held (each a u32 length in host order, then the key) to out,
 * and forgets them. -1 when out of memory now or when a change could not
 * be recorded before (the store can no longer follow the table). */
int weir_groups_take_removed(weir_groups *g, weir_buf *out);

/* Appends the store key of a group to out: its key values and window as
 * vals[0..nkeys], the window a TIMESTAMP (state/rows.h's key rule: key.h's
 * encoding, cut with a hash when longer than the store takes). */
int weir_groups_store_key(const weir_store *s, const weir_value *keys_and_window, int nkeys, weir_buf *out,
                          weir_err *err);

/* Bounded memory (state/budget.h): a tick is a checkpoint; each upsert
 * stamps its entry with the tick. An entry is droppable when the store
 * holds it as it is (sealed and unchanged since: the caller makes sure
 * the seal's batch is committed) and a loader can read it back (and the
 * table has not lost track of a change). */
void weir_groups_tick(weir_groups *g);
/* Adds the bytes of the droppable entries to ages, by age. */
void weir_groups_droppable(const weir_groups *g, weir_budget_ages *ages);
/* Drops from memory the droppable entries older than age, and of that age
 * until at_age bytes are dropped (0: none of it), without deleting them
 * from the store; shrinks the table to fit what is left, and loads
 * lazily again. The number of entries dropped. */
size_t weir_groups_drop(weir_groups *g, unsigned age, uint64_t at_age);

/* The query whose entries these are (its key count and aggregates). */
const weir_query *weir_groups_query(const weir_groups *g);

#endif
