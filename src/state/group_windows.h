/*
 * group_windows.h - a windowed grouped-state table's entries by window
 * (groups.c's index; not used elsewhere).
 *
 * Closing a window (or pane) needs the groups of that window only, but the
 * hash table orders its entries by hash: finding them took a walk of every
 * slot at each close, and a second one to evict, a cost that grows with
 * everything the table holds (under `serve` a partition's watermark may run
 * half an hour ahead of the least one, so the table holds that half hour's
 * panes while each close wants one minute's). So a windowed table also
 * keeps, per window, the list of its entries: a bucket per window, the
 * buckets sorted by window (time mostly moves forward: a new window is
 * usually appended), each an array of items. An item is the hash of the
 * entry's keys (weir_groups_key_hash: the entry's own hash mixes it with
 * the window) and a shallow copy of its key values: TEXT points at the bytes the entry
 * owns, which do not move when the entry moves in the table (a resize, a
 * removal's backward shift), so an item stays valid for its entry's whole
 * life and matches it byte for byte.
 *
 * Invariant (kept by groups.c): every entry of the table has exactly one
 * item, in its window's bucket, and no bucket is empty.
 */
#ifndef WEIR_GROUP_WINDOWS_H
#define WEIR_GROUP_WINDOWS_H

#include <stddef.h>
#include <stdint.h>

#include "sql/value.h"

typedef struct weir_gwin_bucket {
    int64_t window;            /* the entries' window (or pane) start */
    size_t n, cap;             /* items held, and room */
    uint8_t *items;            /* n items of item_size bytes: uint64 hash of the keys, weir_value keys[nkeys] */
} weir_gwin_bucket;

typedef struct weir_gwin {
    int nkeys;
    size_t item_size;          /* 8 + nkeys weir_values */
    weir_gwin_bucket *b;       /* nb buckets by ascending window */
    size_t nb, cap;
    size_t bytes;              /* memory held: buckets and their items' room */
} weir_gwin;

void weir_gwin_init(weir_gwin *w, int nkeys);
void weir_gwin_free(weir_gwin *w);

/* Adds the entry (window, hash, keys) (hash: of its keys; keys: the
 * entry's own values, copied shallowly). -1 when out of memory (nothing
 * added). */
int weir_gwin_add(weir_gwin *w, int64_t window, uint64_t hash, const weir_value *keys);
/* Removes the item of the entry (window, hash, keys), matched byte for byte;
 * an empty bucket goes. Nothing when absent. */
void weir_gwin_remove(weir_gwin *w, int64_t window, uint64_t hash, const weir_value *keys);
/* The first bucket whose window is at or after `window` (nb when none). */
size_t weir_gwin_seek(const weir_gwin *w, int64_t window);
/* Frees the first n buckets (their entries are gone from the table). */
void weir_gwin_drop_front(weir_gwin *w, size_t n);

static inline uint64_t weir_gwin_hash(const weir_gwin *w, const weir_gwin_bucket *b, size_t i)
{
    return *(const uint64_t *)(b->items + i * w->item_size);
}

static inline const weir_value *weir_gwin_keys(const weir_gwin *w, const weir_gwin_bucket *b, size_t i)
{
    return (const weir_value *)(b->items + i * w->item_size + 8);
}

#endif
