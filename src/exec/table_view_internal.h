/*
 * table_view_internal.h - a table view's insides (table_view.c), shared
 * with view_topn.c, which answers ORDER BY ... LIMIT k from the store's
 * ordered index and the memory rows.
 */
#ifndef WEIR_TABLE_VIEW_INTERNAL_H
#define WEIR_TABLE_VIEW_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "base/buf.h"
#include "exec/table_view.h"

/* Rows upserted before a publish apply together, unless this many wait:
 * then the writer waits for the readers. */
#define PENDING_MAX 65536

struct weir_table_view {
    pthread_rwlock_t lock;     /* readers share it; publish takes it alone */
    const weir_relation *table;
    weir_value **pending;      /* upserted rows not yet published, oldest first */
    size_t npending, pending_cap;
    weir_value **rows;         /* dense, in first-seen order; each row one malloc'd block with its text */
    size_t n, cap;
    size_t nremoved;           /* of them, removals */
    weir_value *staged;        /* the writer's scratch: a row and its removal flag, before its copy */
    uint32_t *slots;           /* open addressing by primary key: row index + 1, 0 empty */
    size_t nslots;
    /* an index on the first primary-key column (pull queries asking for one
     * value of it): open addressing by that value to the newest row having
     * it (index + 1), and per row the next older one (0: none) */
    uint32_t *first;
    size_t nfirst, nfirst_used;
    uint32_t *older;
    size_t older_cap;
    /* the state store (weir_view_attach) */
    weir_store *store;         /* NULL: every row is in memory */
    bool writer;               /* the store was opened for writing: the view keeps a dirty set */
    bool has_table;            /* the store has the view's table (a read-only store may lack it) */
    weir_store_table tbl;      /* its rows */
    weir_store_snap *pinned;   /* read-only: the snapshot weir_view_load matched the changelog to, read until free */
    pthread_mutex_t pinned_lock; /* readers take turns on the pinned snapshot (an LMDB snapshot is one thread's at a time) */
    uint32_t *fresh;           /* rows (index) that came into memory since the last commit: the store may lack their keys */
    size_t nfresh, fresh_cap;
    uint64_t replayed;         /* rows weir_view_load replayed */
    /* the writer's dirty set: the rows (index) changed since the last
     * checkpoint's seal, marked as publish applies them (the key's hash
     * and slot are found there anyway), each once */
    uint32_t *dirty;
    size_t ndirty, dirty_cap;
    uint8_t *is_dirty;         /* per row index: in dirty */
    size_t is_dirty_cap;
    _Atomic bool in_checkpoint; /* from checkpoint_begin to the seal: the checkpoint's thread publishes */
    size_t nfresh_sealed;      /* fresh rows as the seal saw them: in the store once its checkpoint commits */
    weir_buf batch;            /* the sealed rows encoded (state/changes.h), and those of failed
                                * checkpoints before them: what weir_view_checkpoint puts */
    weir_buf key, val;         /* the seal's scratch */
    /* bounded memory */
    uint16_t *stamp;           /* per row index: the tick of its last change */
    size_t stamp_cap;
    uint16_t tick;             /* weir_view_tick's count */
    size_t row_bytes;          /* of the row blocks in rows */
    /* top-N (view_topn.c): the store's ordered indexes of the table's columns (state/index.h) */
    bool has_index;            /* the store has the table's index table (itbl) */
    weir_store_table itbl;
    _Atomic uint64_t wanted;   /* columns readers asked an index of (a bit each) */
    uint64_t built;            /* the writer: columns whose index the last commit holds */
    uint64_t building;         /* the writer: columns the checkpoint being written indexes first */
    /* the writer's rows (index) changed since the last committed checkpoint,
     * a superset of dirty: where memory may differ from the store */
    uint32_t *changed;
    size_t nchanged, changed_cap;
    uint8_t *is_changed;       /* per row index: in changed */
    size_t is_changed_cap;
    bool settle;               /* a commit's rows are still in changed (a reader held the view): publish retries */
};

/* The row a removal is (one value past the table's columns says). */
static inline bool view_is_removal(const weir_table_view *v, const weir_value *row) { return row[v->table->schema.ncols].b; }

/* The index of the memory row with row's primary key, or SIZE_MAX; under the lock. */
size_t view_find(const weir_table_view *v, const weir_value *row);

/* Answers r from the store's ordered index of the column its ORDER BY
 * starts with, and the memory rows that may differ from the store (under
 * the view's read lock, in snap): 1 answered, 0 not (no such index in
 * snap: then asked for, and the caller offers every row), or an error. */
int view_offer_topn(weir_pull_run *r, weir_table_view *v, weir_store_snap *snap, weir_err *err);

#endif
