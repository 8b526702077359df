/*
 * table_view.c - a table's current rows (see table_view.h): a hash table by
 * primary key over rows kept in first-seen order, each row one block with
 * its text, and chains by the first key column for keyed pull queries.
 * Attached to a store, the memory rows are those upserted since the load
 * and the store has the rest (state/rows.h lays them out); a dirty set,
 * the rows (by index) that publish changed since the last checkpoint's
 * seal, is what the next checkpoint encodes, once, and writes; a changed
 * set, the rows changed since the last committed checkpoint (the dirty
 * ones and those of a checkpoint not yet committed), is where memory may
 * differ from the store, which view_topn.c reads beside the store's
 * ordered indexes (state/index.h). Those indexes are made at load for
 * the columns the pipeline's endpoints sort by, and by the checkpoint
 * after a reader first asks for another, and kept in the same
 * transactions as the rows.
 *
 * A row that leaves the table (weir_view_remove) stays in memory as a
 * removal: a row block flagged so (one value past the table's columns),
 * which no reader is shown and which hides the store's row of its key
 * until a checkpoint deletes that row.
 *
 * Bounded memory (state/budget.h): a row the store holds as it is (not
 * dirty, not fresh, its checkpoint committed) may leave memory; each row
 * is stamped with the tick of its last change, and weir_view_drop removes
 * rows from the dense array (the rest keep their order) and builds the
 * key index and the first-key chains again for what is left.
 */
#include "exec/table_view_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "state/budget.h"
#include "state/changes.h"
#include "state/index.h"
#include "state/offsets.h"
#include "state/rows.h"

int weir_view_new(const weir_relation *table, weir_table_view **out, weir_err *err)
{
    weir_table_view *v = calloc(1, sizeof *v);
    if (!v)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    pthread_rwlockattr_t attr;
    /* A writer that must wait (a full queue) goes before readers arriving after it. */
    if (pthread_rwlockattr_init(&attr) ||
        pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP) ||
        pthread_rwlock_init(&v->lock, &attr)) {
        free(v);
        return weir_err_set(err, WEIR_ENOMEM, "cannot make a table view's lock");
    }
    pthread_rwlockattr_destroy(&attr);
    if (pthread_mutex_init(&v->pinned_lock, NULL)) {
        pthread_rwlock_destroy(&v->lock);
        free(v);
        return weir_err_set(err, WEIR_ENOMEM, "cannot make a table view's lock");
    }
    v->table = table;
    if (!(v->staged = malloc((size_t)(table->schema.ncols + 1) * sizeof *v->staged))) {
        weir_view_free(v);
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    }
    *out = v;
    return WEIR_OK;
}

static uint64_t pk_hash(const weir_table_view *v, const weir_value *row)
{
    uint64_t h = 7;
    for (int i = 0; i < v->table->npk; i++)
        h = weir_value_hash(&row[v->table->pk[i]], h);
    return h;
}

static bool pk_same(const weir_table_view *v, const weir_value *a, const weir_value *b)
{
    for (int i = 0; i < v->table->npk; i++)
        if (!weir_value_same(&a[v->table->pk[i]], &b[v->table->pk[i]]))
            return false;
    return true;
}

static uint64_t first_hash(const weir_table_view *v, const weir_value *row) { return weir_value_hash(&row[v->table->pk[0]], 7); }

/* The slot of the first-key index for that value: its chain, or the empty slot where it would go. */
static size_t first_slot(const weir_table_view *v, const weir_value *key, uint64_t hash)
{
    size_t j = hash & (v->nfirst - 1);
    while (v->first[j] && !weir_value_same(&v->rows[v->first[j] - 1][v->table->pk[0]], key))
        j = (j + 1) & (v->nfirst - 1);
    return j;
}

static int rehash_first(weir_table_view *v)
{
    size_t n = v->nfirst ? v->nfirst * 2 : 256;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t j = 0; j < v->nfirst; j++) /* chains move whole: their newest rows */
        if (v->first[j]) {
            size_t k = first_hash(v, v->rows[v->first[j] - 1]) & (n - 1);
            while (slots[k])
                k = (k + 1) & (n - 1);
            slots[k] = v->first[j];
        }
    free(v->first);
    v->first = slots;
    v->nfirst = n;
    return 0;
}

/* Adds row i (new) to the first-key index. */
static int index_first(weir_table_view *v, size_t i)
{
    if ((v->nfirst_used + 1) * 2 > v->nfirst && rehash_first(v))
        return -1;
    if (i >= v->older_cap) {
        uint32_t *grown = weir_array_grow(v->older, &v->older_cap, sizeof *grown, 256);
        if (!grown)
            return -1;
        v->older = grown;
    }
    const weir_value *key = &v->rows[i][v->table->pk[0]];
    size_t j = first_slot(v, key, weir_value_hash(key, 7));
    v->nfirst_used += !v->first[j];
    v->older[i] = v->first[j];
    v->first[j] = (uint32_t)i + 1;
    return 0;
}

/* The key index of rows[0..n) in slots (n of them, zeroed). */
static void index_rows(weir_table_view *v, uint32_t *slots, size_t n)
{
    for (size_t i = 0; i < v->n; i++) {
        size_t j = pk_hash(v, v->rows[i]) & (n - 1);
        while (slots[j])
            j = (j + 1) & (n - 1);
        slots[j] = (uint32_t)i + 1;
    }
}

static int rehash(weir_table_view *v)
{
    size_t n = v->nslots ? v->nslots * 2 : 256;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    index_rows(v, slots, n);
    free(v->slots);
    v->slots = slots;
    v->nslots = n;
    return 0;
}

/* A row and its text in one malloc'd block, so a replaced row is freed
 * whole, with the flag saying whether it is a removal past its columns. */
static weir_value *own_row(weir_table_view *v, const weir_value *row, bool removed)
{
    int n = v->table->schema.ncols;
    memcpy(v->staged, row, (size_t)n * sizeof *row);
    v->staged[n] = weir_bool(removed);
    void *block = malloc(weir_row_bytes(v->staged, n + 1));
    return block ? weir_row_pack(block, v->staged, n + 1) : NULL;
}

static bool is_removal(const weir_table_view *v, const weir_value *row) { return view_is_removal(v, row); }

static size_t block_bytes(const weir_table_view *v, const weir_value *row) { return weir_row_bytes(row, v->table->schema.ncols + 1); }

/* Room for one more fresh row. */
static int reserve_fresh(weir_table_view *v)
{
    if (v->nfresh < v->fresh_cap)
        return 0;
    uint32_t *f = weir_array_grow(v->fresh, &v->fresh_cap, sizeof *f, 256);
    if (!f)
        return -1;
    v->fresh = f;
    return 0;
}

/* Notes memory row i as one whose key the store may lack, or hold where
 * it should not (the count looks these up). */
static int note_fresh(weir_table_view *v, size_t i)
{
    if (reserve_fresh(v))
        return -1;
    v->fresh[v->nfresh++] = (uint32_t)i;
    return 0;
}

/* Appends i to a list of row indexes (list, n, cap) unless its byte in
 * flags (of flags_cap) says it is there. */
static int mark_in(uint32_t **list, size_t *n, size_t *cap, uint8_t **flags, size_t *flags_cap, size_t i)
{
    if (i >= *flags_cap) {
        size_t old = *flags_cap;
        uint8_t *d = weir_array_grow(*flags, flags_cap, 1, 256);
        if (!d)
            return -1;
        memset(d + old, 0, *flags_cap - old);
        *flags = d;
    }
    if ((*flags)[i])
        return 0;
    if (*n == *cap) {
        uint32_t *d = weir_array_grow(*list, cap, sizeof *d, 256);
        if (!d)
            return -1;
        *list = d;
    }
    (*list)[(*n)++] = (uint32_t)i;
    (*flags)[i] = 1;
    return 0;
}

/* The rows changed since the last commit become those dirty now (the
 * seal's, once the checkpoint before it committed; the end's, once its
 * own did): under the lock, alone. */
static void changed_to_dirty(weir_table_view *v)
{
    for (size_t i = 0; i < v->nchanged; i++)
        v->is_changed[v->changed[i]] = 0;
    v->nchanged = 0;
    for (size_t i = 0; i < v->ndirty; i++) /* cannot fail: changed has held every dirty row */
        (void)mark_in(&v->changed, &v->nchanged, &v->changed_cap, &v->is_changed, &v->is_changed_cap, v->dirty[i]);
}

/* Row i (just applied) goes in the dirty set and the changed one, unless there. */
static int mark_dirty(weir_table_view *v, size_t i)
{
    return mark_in(&v->changed, &v->nchanged, &v->changed_cap, &v->is_changed, &v->is_changed_cap, i) ||
                   mark_in(&v->dirty, &v->ndirty, &v->dirty_cap, &v->is_dirty, &v->is_dirty_cap, i)
               ? -1
               : 0;
}

/* Puts a row (owned) in place of its key's row; under the lock, alone. */
static int apply(weir_table_view *v, weir_value *copy)
{
    if ((v->n + 1) * 2 > v->nslots && rehash(v))
        return -1;
    size_t j = pk_hash(v, copy) & (v->nslots - 1);
    for (; v->slots[j]; j = (j + 1) & (v->nslots - 1)) {
        size_t i = v->slots[j] - 1;
        if (pk_same(v, v->rows[i], copy)) {
            bool was = is_removal(v, v->rows[i]), now = is_removal(v, copy);
            if ((v->writer && mark_dirty(v, i)) || (v->store && was != now && note_fresh(v, i)))
                return -1;
            v->row_bytes += block_bytes(v, copy) - block_bytes(v, v->rows[i]);
            free(v->rows[i]); /* the newer row replaces the older */
            v->rows[i] = copy;
            v->stamp[i] = v->tick;
            v->nremoved += (size_t)now - (size_t)was;
            return 0;
        }
    }
    if (v->n == v->cap) {
        weir_value **r = weir_array_grow(v->rows, &v->cap, sizeof *r, 256);
        if (!r)
            return -1;
        v->rows = r;
    }
    if (v->n == v->stamp_cap) {
        uint16_t *t = weir_array_grow(v->stamp, &v->stamp_cap, sizeof *t, 256);
        if (!t)
            return -1;
        v->stamp = t;
    }
    if ((v->store && reserve_fresh(v)) || (v->writer && mark_dirty(v, v->n)))
        return -1;
    v->stamp[v->n] = v->tick;
    v->row_bytes += block_bytes(v, copy);
    v->rows[v->n++] = copy;
    v->slots[j] = (uint32_t)v->n;
    if (v->store)
        note_fresh(v, v->n - 1); /* room reserved above */
    v->nremoved += is_removal(v, copy);
    return v->table->npk ? index_first(v, v->n - 1) : 0;
}

size_t view_find(const weir_table_view *v, const weir_value *row)
{
    if (!v->nslots)
        return SIZE_MAX;
    for (size_t j = pk_hash(v, row) & (v->nslots - 1); v->slots[j]; j = (j + 1) & (v->nslots - 1))
        if (pk_same(v, v->rows[v->slots[j] - 1], row))
            return v->slots[j] - 1;
    return SIZE_MAX;
}

/* The memory row with row's primary key, or NULL; under the lock. */
static const weir_value *find(const weir_table_view *v, const weir_value *row)
{
    size_t i = view_find(v, row);
    return i == SIZE_MAX ? NULL : v->rows[i];
}

/* Queues row, or the removal of its key's row. */
static int enqueue(weir_table_view *v, const weir_value *row, bool removed, weir_err *err)
{
    if (v->npending == v->pending_cap) {
        weir_value **q = weir_array_grow(v->pending, &v->pending_cap, sizeof *q, 256);
        if (!q)
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        v->pending = q;
    }
    weir_value *copy = own_row(v, row, removed);
    if (!copy)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    v->pending[v->npending++] = copy;
    return WEIR_OK;
}

int weir_view_upsert(weir_table_view *v, const weir_value *row, weir_err *err) { return enqueue(v, row, false, err); }

int weir_view_remove(weir_table_view *v, const weir_value *key, weir_err *err) { return enqueue(v, key, true, err); }

/* Applies every waiting row, waiting for readers if wait; 0, or -1 when
 * memory ran out (the rows not applied still wait). */
static int apply_pending(weir_table_view *v, bool wait)
{
    if (!v->npending)
        return 0;
    if (wait ? pthread_rwlock_wrlock(&v->lock) : pthread_rwlock_trywrlock(&v->lock))
        return 0; /* a reader has it (trywrlock is the one that fails): next time */
    size_t done = 0;
    while (done < v->npending && apply(v, v->pending[done]) == 0)
        done++;
    pthread_rwlock_unlock(&v->lock);
    memmove(v->pending, v->pending + done, (v->npending - done) * sizeof *v->pending);
    v->npending -= done;
    return v->npending ? -1 : 0;
}

int weir_view_publish(weir_table_view *v, weir_err *err)
{
    if (atomic_load(&v->in_checkpoint)) /* until the seal the checkpoint's thread publishes (and owns pending) */
        return WEIR_OK;
    if (v->settle && pthread_rwlock_trywrlock(&v->lock) == 0) { /* the last commit's rows leave changed */
        changed_to_dirty(v);
        v->settle = false;
        pthread_rwlock_unlock(&v->lock);
    }
    if (!v->npending)
        return WEIR_OK;
    if (apply_pending(v, v->npending >= PENDING_MAX))
        return weir_err_set(err, WEIR_ENOMEM, "table %s: out of memory", v->table->name);
    return WEIR_OK;
}

/* The snapshot a reader reads the store in (with the view's read lock
 * held): the pinned one, taken in turns, or a new one. NULL without a
 * store's table. */
static int reader_snap(weir_table_view *v, weir_store_snap **snap, weir_err *err)
{
    *snap = NULL;
    if (!v->has_table)
        return WEIR_OK;
    if (v->pinned) {
        pthread_mutex_lock(&v->pinned_lock);
        *snap = v->pinned;
        return WEIR_OK;
    }
    return weir_store_snap_begin(v->store, snap, err);
}

static void reader_snap_end(weir_table_view *v, weir_store_snap *snap)
{
    if (snap && snap == v->pinned)
        pthread_mutex_unlock(&v->pinned_lock);
    else
        weir_store_snap_end(snap);
}

static int cmp_index(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The store's keys, plus the fresh memory rows whose keys it lacks, less
 * the fresh removals of keys it has. */
static int count_with_store(weir_table_view *v, weir_store_snap *snap, size_t *n, weir_err *err)
{
    uint64_t stored;
    weir_buf key = {0};
    uint32_t *fresh = malloc(v->nfresh * sizeof *fresh + 1); /* sorted, to count a row noted twice once */
    int rc = fresh ? weir_store_snap_count(snap, v->tbl, &stored, err) : weir_err_set(err, WEIR_ENOMEM, "out of memory");
    if (rc == WEIR_OK && v->nfresh) {
        memcpy(fresh, v->fresh, v->nfresh * sizeof *fresh);
        qsort(fresh, v->nfresh, sizeof *fresh, cmp_index);
    }
    for (size_t i = 0; i < v->nfresh && rc == WEIR_OK; i++) {
        if (i && fresh[i] == fresh[i - 1])
            continue;
        const weir_value *row = v->rows[fresh[i]];
        const void *val;
        size_t vlen;
        bool found;
        key.len = 0;
        rc = weir_rows_key(v->store, row, v->table->pk, v->table->npk, &key, err);
        if (rc == WEIR_OK)
            rc = weir_store_snap_get(snap, v->tbl, key.data, key.len, &val, &vlen, &found, err);
        if (rc == WEIR_OK && found == is_removal(v, row))
            stored += found ? (uint64_t)-1 : 1;
    }
    free(fresh);
    weir_buf_free(&key);
    *n = (size_t)stored;
    return rc;
}

size_t weir_view_count(weir_table_view *v)
{
    pthread_rwlock_rdlock(&v->lock);
    size_t n = v->n - v->nremoved;
    weir_store_snap *snap;
    weir_err err = {0};
    if (v->store && reader_snap(v, &snap, &err) == WEIR_OK && snap) {
        size_t with_store;
        if (count_with_store(v, snap, &with_store, &err) == WEIR_OK) /* else: what memory holds */
            n = with_store;
        reader_snap_end(v, snap);
    }
    pthread_rwlock_unlock(&v->lock);
    return n;
}

void weir_view_free(weir_table_view *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++)
        free(v->rows[i]);
    for (size_t i = 0; i < v->npending; i++)
        free(v->pending[i]);
    free(v->pending);
    weir_store_snap_end(v->pinned);
    pthread_mutex_destroy(&v->pinned_lock);
    pthread_rwlock_destroy(&v->lock);
    free(v->rows);
    free(v->slots);
    free(v->first);
    free(v->older);
    free(v->fresh);
    free(v->dirty);
    free(v->is_dirty);
    free(v->changed);
    free(v->is_changed);
    free(v->stamp);
    free(v->staged);
    weir_buf_free(&v->batch);
    weir_buf_free(&v->key);
    weir_buf_free(&v->val);
    free(v);
}

/* Empties the table's index table in a commit of its own: the writer. */
static int clear_index(weir_table_view *v, weir_store *store, weir_err *err)
{
    weir_store_txn *txn;
    int rc = weir_store_begin(store, &txn, err);
    if (rc)
        return rc;
    if ((rc = weir_store_clear(txn, v->itbl, err))) {
        weir_store_abort(txn);
        return rc;
    }
    return weir_store_commit(txn, err);
}

/* The store's ordered indexes of the table, if it has them (a reader
 * looks in its snapshot whether one is built; the writer learns which
 * are, and empties them if they were made for another definition of the
 * table). They are made at load (index_declared) or when a reader first
 * asks (view_topn.c). */
static int attach_index(weir_table_view *v, weir_store *store, weir_err *err)
{
    int rc = weir_index_table(store, v->table->name, false, &v->itbl, err);
    if (rc == WEIR_ENOENT)
        return WEIR_OK;
    v->has_index = rc == WEIR_OK;
    if (rc || weir_store_read_only(store))
        return rc;
    weir_store_snap *snap;
    bool stale = false;
    if ((rc = weir_store_snap_begin(store, &snap, err)) == WEIR_OK) {
        rc = weir_index_built(snap, v->itbl, v->table, &v->built, &stale, err);
        weir_store_snap_end(snap); /* the writer writes holding no snapshot */
    }
    if (rc == WEIR_OK && stale) {
        v->built = 0;
        rc = clear_index(v, store, err);
    }
    return rc;
}

int weir_view_attach(weir_table_view *v, weir_store *store, weir_err *err)
{
    weir_store_table offsets;
    int rc = weir_rows_table(store, v->table->name, !weir_store_read_only(store), &v->tbl, err);
    if (rc == WEIR_ENOENT) /* a read-only store no checkpoint wrote this table to: every row is in the changelog */
        rc = WEIR_OK;
    else if (rc == WEIR_OK)
        v->has_table = true;
    if (rc == WEIR_OK && !weir_store_read_only(store))
        rc = weir_offsets_table(store, true, &offsets, err);
    if (rc == WEIR_OK && v->has_table)
        rc = attach_index(v, store, err);
    if (rc)
        return weir_err_wrap(err, "table %s", v->table->name);
    v->store = store;
    v->writer = !weir_store_read_only(store);
    return WEIR_OK;
}

uint64_t weir_view_replayed(const weir_table_view *v) { return v->replayed; }

/* The changelog ends the store's rows reflect (0 where it has none) into
 * from[0..n), read in snap. */
static int store_ends(weir_table_view *v, weir_store_snap *snap, uint64_t *from, uint32_t n, weir_err *err)
{
    weir_store_table offsets;
    int rc = v->has_table ? weir_offsets_table(v->store, false, &offsets, err) : WEIR_ENOENT;
    if (rc == WEIR_ENOENT)
        return WEIR_OK; /* no checkpoint wrote it: nothing is in the store */
    for (uint32_t p = 0; p < n && rc == WEIR_OK; p++) {
        bool found;
        rc = weir_offsets_get(snap, offsets, WEIR_OFFSET_OUTPUT, v->table->name, p, &from[p], &found, err);
        if (rc == WEIR_OK && !found)
            from[p] = 0;
    }
    return rc;
}

/* Empties the view's table in the store and forgets its ends: the writer. */
static int store_empty(weir_table_view *v, uint32_t nparts, weir_err *err)
{
    weir_store_table offsets;
    weir_store_txn *txn;
    int rc = weir_offsets_table(v->store, false, &offsets, err);
    if (rc == WEIR_OK)
        rc = weir_store_begin(v->store, &txn, err);
    if (rc)
        return rc;
    rc = weir_store_clear(txn, v->tbl, err);
    if (rc == WEIR_OK && v->has_index) /* markers too: indexes are made again when asked for */
        rc = weir_store_clear(txn, v->itbl, err);
    for (uint32_t p = 0; p < nparts && rc == WEIR_OK; p++)
        rc = weir_offsets_del(txn, offsets, WEIR_OFFSET_OUTPUT, v->table->name, p, err);
    if (rc) {
        weir_store_abort(txn);
        return rc;
    }
    v->built = 0;
    return weir_store_commit(txn, err);
}

typedef struct load_ctx {
    weir_table_view *v;
    weir_err *err;
} load_ctx;

static int to_view(void *c, const weir_value *row, bool removed)
{
    load_ctx *l = c;
    int rc = enqueue(l->v, row, removed, l->err);
    l->v->replayed += rc == WEIR_OK;
    return rc == WEIR_OK && l->v->npending >= PENDING_MAX ? weir_view_publish(l->v, l->err) : rc;
}

/* Where the replay starts, per partition (from, 0 without a store),
 * matched to the changelog's ends (to): a writer's store ahead of them is
 * emptied (*emptied); a read-only one pins its snapshot, or is WEIR_EBUSY
 * if ahead. */
static int replay_from(weir_table_view *v, const uint64_t *to, uint64_t *from, uint32_t n, bool *emptied,
                       weir_err *err)
{
    if (!v->store)
        return WEIR_OK;
    weir_store_snap *snap;
    int rc = weir_store_snap_begin(v->store, &snap, err);
    if (rc == WEIR_OK)
        rc = store_ends(v, snap, from, n, err);
    bool ahead = false;
    for (uint32_t p = 0; p < n && rc == WEIR_OK && !v->table->is_source; p++) /* see weir_view_load */
        ahead |= from[p] > to[p];
    if (rc == WEIR_OK && !ahead && !v->writer) {
        v->pinned = snap; /* readers read the store as it was matched to the changelog */
        return WEIR_OK;
    }
    weir_store_snap_end(snap); /* the writer writes holding no snapshot */
    if (rc || !ahead)
        return rc;
    if (!v->writer)
        return weir_err_set(err, WEIR_EBUSY, "table %s: the state store is ahead of the stable changelog (a checkpoint "
                            "is being written)", v->table->name);
    memset(from, 0, n * sizeof *from);
    *emptied = true;
    return store_empty(v, n, err);
}

/* Makes the indexes the pipeline's endpoints sort by (weir_relation's
 * ordered_cols) that the store lacks, from its rows, in a commit of
 * their own: the writer, before its first step. */
static int index_declared(weir_table_view *v, weir_err *err)
{
    uint64_t want = v->table->ordered_cols & ~v->built;
    if (!want)
        return WEIR_OK;
    int rc = v->has_index ? WEIR_OK : weir_index_table(v->store, v->table->name, true, &v->itbl, err);
    v->has_index = rc == WEIR_OK;
    weir_store_txn *txn = NULL;
    weir_buf none = {0};
    if (rc == WEIR_OK)
        rc = weir_store_begin(v->store, &txn, err);
    if (rc == WEIR_OK)
        rc = weir_index_write(v->store, txn, v->tbl, v->itbl, v->table, want, want, &none, err);
    if (rc == WEIR_OK) {
        rc = weir_store_commit(txn, err);
        txn = NULL;
    }
    weir_store_abort(txn);
    if (rc)
        return weir_err_wrap(err, "table %s", v->table->name);
    v->built |= want;
    return WEIR_OK;
}

/* Whether the changelog held every record the replay wanted, from[p] on
 * where it wanted any, checked after the replay (retention, or a table's
 * cleanup_policy 'store', deletes its oldest segments whole, so a start
 * at or below from[p] means that every segment from there on was read):
 * a reader whose snapshot a checkpoint overtook tries again
 * (WEIR_EBUSY); without the store, or with a store that must be rebuilt,
 * the rows before the start are gone. Only for a reader or a rebuilt
 * store: a writer's store otherwise starts at its checkpoint's ends,
 * never below the start, or is new with the pipeline's checkpoint (its
 * outputs, then emptied, are made again from the inputs). */
static int check_kept(weir_table_view *v, weir_log *log, const uint64_t *from, const uint64_t *to, uint32_t n,
                      weir_err *err)
{
    bool replayed = false;
    for (uint32_t p = 0; p < n; p++)
        replayed |= from[p] < to[p];
    weir_stream *s;
    int rc = replayed ? weir_stream_open(log, v->table->name, &s, err) : WEIR_OK;
    for (uint32_t p = 0; p < n && rc == WEIR_OK && replayed; p++) {
        weir_partition_stats ps;
        if ((rc = weir_stream_partition_stats(s, p, &ps, err)) || from[p] >= to[p] || ps.start_offset <= from[p])
            continue;
        if (v->store && !v->writer)
            return weir_err_set(err, WEIR_EBUSY, "table %s: a checkpoint moved its changelog's start (partition %u "
                                "now starts at offset %llu) past the state store's snapshot: try again",
                                v->table->name, p, (unsigned long long)ps.start_offset);
        return weir_err_set(err, WEIR_ECORRUPT, "table %s: its changelog's partition %u starts at offset %llu "
                            "(retention or cleanup_policy 'store' deleted the records before it), and %s needs them "
                            "from offset %llu: `weir serve --reset` rebuilds the state from the retained inputs",
                            v->table->name, p, (unsigned long long)ps.start_offset,
                            !v->store ? "reading the table without its state store"
                                      : "rebuilding the state store (found ahead of the checkpoint)",
                            (unsigned long long)from[p]);
    }
    return rc;
}

int weir_view_load(weir_table_view *v, weir_log *log, bool stable_only, weir_err *err)
{
    uint64_t *to, *from = NULL;
    uint32_t n;
    bool emptied = false;
    int rc = weir_scan_ends(log, v->table, stable_only, &to, &n, err);
    if (rc)
        return rc;
    if (!(from = calloc(n, sizeof *from)))
        rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
    if (rc == WEIR_OK)
        rc = replay_from(v, to, from, n, &emptied, err);
    /* A source table's changelog is its input, which the runner reads on
     * from the checkpoint the store matches (or is a little ahead of: the
     * records it applies again change nothing), and which may not be in
     * the log at all (a Kafka source's): serve's view replays none of it;
     * a reader's replays what the log has past the store. */
    for (uint32_t p = 0; p < n && rc == WEIR_OK && v->table->is_source && v->store; p++)
        to[p] = v->writer || to[p] < from[p] ? from[p] : to[p];
    load_ctx c = {v, err};
    if (rc == WEIR_OK)
        rc = weir_scan_rows_range(log, v->table, from, to, to_view, &c, err);
    if (rc == WEIR_OK && (!v->writer || emptied))
        rc = check_kept(v, log, from, to, n, err);
    free(from);
    free(to);
    if (rc == WEIR_OK && v->writer)
        rc = index_declared(v, err);
    return rc ? rc : weir_view_publish(v, err);
}

void weir_view_checkpoint_begin(weir_table_view *v) { atomic_store(&v->in_checkpoint, true); }

/* Appends the dirty rows' keys and values to the batch; the batch is as
 * it was when this fails. */
static int encode_dirty(weir_table_view *v, weir_err *err)
{
    size_t from = v->batch.len;
    int rc = WEIR_OK;
    for (size_t i = 0; i < v->ndirty && rc == WEIR_OK; i++) {
        const weir_value *row = v->rows[v->dirty[i]];
        v->key.len = v->val.len = 0;
        bool removal = is_removal(v, row);
        rc = weir_rows_key(v->store, row, v->table->pk, v->table->npk, &v->key, err);
        if (rc == WEIR_OK && !removal)
            rc = weir_rows_value_keyed(v->store, row, v->table->schema.ncols, v->table->pk, v->table->npk, v->key.len,
                                       &v->val, err);
        if (rc == WEIR_OK && weir_changes_add(&v->batch, v->key.data, v->key.len, removal ? NULL : v->val.data, v->val.len))
            rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
    }
    if (rc)
        v->batch.len = from;
    return rc;
}

int weir_view_checkpoint_seal(weir_table_view *v, weir_err *err)
{
    /* Memory first, so that no reader sees a row in the store before the memory row it replaces. */
    int rc = apply_pending(v, true) ? weir_err_set(err, WEIR_ENOMEM, "out of memory") : WEIR_OK;
    /* A reader asked for an index: its table is made now (this thread is the store's writer, between transactions). */
    bool make_index = rc == WEIR_OK && !v->has_index && (atomic_load(&v->wanted) & ~v->built);
    if (make_index)
        rc = weir_index_table(v->store, v->table->name, true, &v->itbl, err);
    if (rc == WEIR_OK && make_index) { /* once: readers look at has_index under the lock */
        pthread_rwlock_wrlock(&v->lock);
        v->has_index = true;
        pthread_rwlock_unlock(&v->lock);
    }
    /* The rows a committed checkpoint wrote still in changed (a reader held the view at its end)
     * leave it now, if no reader holds it: this seal's rows must stay until its commit. */
    if (rc == WEIR_OK && v->settle && !v->batch.len && pthread_rwlock_trywrlock(&v->lock) == 0) {
        changed_to_dirty(v);
        pthread_rwlock_unlock(&v->lock);
    }
    v->settle = false;
    if (rc == WEIR_OK)
        rc = encode_dirty(v, err);
    if (rc == WEIR_OK) {
        for (size_t i = 0; i < v->ndirty; i++)
            v->is_dirty[v->dirty[i]] = 0;
        v->ndirty = 0;
        v->nfresh_sealed = v->nfresh;
    }
    atomic_store(&v->in_checkpoint, false); /* the writer publishes again, and may upsert */
    return rc ? weir_err_wrap(err, "table %s", v->table->name) : WEIR_OK;
}

int weir_view_checkpoint(weir_table_view *v, weir_store_txn *txn, weir_err *err)
{
    v->building = v->has_index ? atomic_load(&v->wanted) & ~v->built : 0;
    if (!v->has_index || !(v->built | v->building)) {
        int rc = weir_changes_write(txn, v->tbl, &v->batch, err);
        return rc ? weir_err_wrap(err, "table %s", v->table->name) : WEIR_OK;
    }
    return weir_index_write(v->store, txn, v->tbl, v->itbl, v->table, v->built | v->building, v->building, &v->batch, err);
}

void weir_view_checkpoint_end(weir_table_view *v, bool committed)
{
    atomic_store(&v->in_checkpoint, false); /* a checkpoint that failed before its seal */
    if (!committed) { /* the batch is written first by the next checkpoint, before newer rows */
        v->building = 0;
        return;
    }
    v->built |= v->building;
    v->building = 0;
    weir_buf_free(&v->batch); /* the largest checkpoint's: not kept between checkpoints */
    /* The rows it wrote are the store's now; a reader holding the view keeps them changed until a publish or the next seal. */
    v->settle = true;
    if (pthread_rwlock_trywrlock(&v->lock) == 0) {
        changed_to_dirty(v);
        v->settle = false;
        pthread_rwlock_unlock(&v->lock);
    }
    /* The fresh rows the seal saw are in the store now; a reader holding the view keeps them fresh a while longer. */
    if (v->nfresh_sealed && pthread_rwlock_trywrlock(&v->lock) == 0) {
        memmove(v->fresh, v->fresh + v->nfresh_sealed, (v->nfresh - v->nfresh_sealed) * sizeof *v->fresh);
        v->nfresh -= v->nfresh_sealed;
        v->nfresh_sealed = 0;
        pthread_rwlock_unlock(&v->lock);
    }
}

/* ---- bounded memory ---- */

void weir_view_tick(weir_table_view *v) { v->tick++; }

size_t weir_view_bytes(const weir_table_view *v)
{
    return v->row_bytes + v->cap * sizeof *v->rows + (v->nslots + v->nfirst + v->older_cap + v->fresh_cap + v->dirty_cap + v->changed_cap) * 4 +
           v->stamp_cap * sizeof *v->stamp + v->is_dirty_cap + v->is_changed_cap;
}

/* What dropping row i frees: its block, and its share of the arrays
 * (pointer, stamp, chain link, dirty and changed bytes; two key slots and two chain
 * heads, the indexes being at most half full). */
static size_t row_cost(const weir_table_view *v, size_t i)
{
    return block_bytes(v, v->rows[i]) + sizeof *v->rows + sizeof *v->stamp + 4 + 2 + 4 * 4;
}

/* A byte per row, 1 where it must stay in memory (dirty: the store lacks
 * its change; fresh: the store may lack its key): NULL when no row may
 * leave (not the writer, or a checkpoint's batch not committed) or out of
 * memory. */
static uint8_t *kept_rows(const weir_table_view *v)
{
    if (!v->writer || !v->has_table || v->batch.len || atomic_load(&v->in_checkpoint) || !v->n)
        return NULL;
    uint8_t *keep = calloc(v->n, 1);
    if (!keep)
        return NULL;
    for (size_t i = 0; i < v->nfresh; i++)
        keep[v->fresh[i]] = 1;
    for (size_t i = 0; i < v->ndirty; i++)
        keep[v->dirty[i]] = 1;
    for (size_t i = 0; i < v->nchanged; i++)
        keep[v->changed[i]] = 1;
    return keep;
}

void weir_view_droppable(const weir_table_view *v, weir_budget_ages *ages)
{
    uint8_t *keep = kept_rows(v);
    for (size_t i = 0; keep && i < v->n; i++)
        if (!keep[i])
            ages->bytes[weir_budget_age(v->tick, v->stamp[i])] += row_cost(v, i);
    free(keep);
}

/* Capacity for n entries: the power of two from 256 that keeps an index at most half full. */
static size_t index_size(size_t n)
{
    size_t size = 256;
    while (size < (n + 1) * 2)
        size *= 2;
    return size;
}

/* Gives back array memory beyond twice what n entries need. */
static void shrink(void **array, size_t *cap, size_t elem, size_t n)
{
    size_t want = n * 2 > 256 ? n * 2 : 256;
    if (*cap <= want * 2)
        return;
    void *smaller = realloc(*array, want * elem);
    if (smaller) {
        *array = smaller;
        *cap = want;
    }
}

/* The arrays a drop makes before it takes the lock (so that it cannot
 * fail half-way): old index -> new, and the two indexes for the rows left. */
typedef struct drop_arrays {
    uint32_t *moved, *slots, *first;
} drop_arrays;

/* Removes the rows marked in drop from memory (the store has them),
 * keeping the others' order, and indexes what is left; under the lock,
 * alone. */
static void compact(weir_table_view *v, const uint8_t *drop, drop_arrays *a)
{
    size_t n = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (drop[i]) {
            v->row_bytes -= block_bytes(v, v->rows[i]);
            v->nremoved -= is_removal(v, v->rows[i]);
            free(v->rows[i]);
            continue;
        }
        a->moved[i] = (uint32_t)n;
        v->rows[n] = v->rows[i];
        v->stamp[n] = v->stamp[i];
        if (i < v->is_dirty_cap)
            v->is_dirty[n] = v->is_dirty[i];
        if (i < v->is_changed_cap)
            v->is_changed[n] = v->is_changed[i];
        n++;
    }
    if (n < v->is_dirty_cap) /* rows to come start clean */
        memset(v->is_dirty + n, 0, (v->n < v->is_dirty_cap ? v->n : v->is_dirty_cap) - n);
    if (n < v->is_changed_cap)
        memset(v->is_changed + n, 0, (v->n < v->is_changed_cap ? v->n : v->is_changed_cap) - n);
    for (size_t i = 0; i < v->ndirty; i++) /* dirty and fresh rows are kept */
        v->dirty[i] = a->moved[v->dirty[i]];
    for (size_t i = 0; i < v->nfresh; i++)
        v->fresh[i] = a->moved[v->fresh[i]];
    for (size_t i = 0; i < v->nchanged; i++)
        v->changed[i] = a->moved[v->changed[i]];
    v->n = n;
    free(v->slots);
    v->slots = a->slots;
    v->nslots = index_size(n);
    index_rows(v, v->slots, v->nslots);
    free(v->first); /* the chains again, from the oldest row to the newest, as apply makes them */
    v->first = a->first;
    v->nfirst = index_size(n);
    v->nfirst_used = 0;
    for (size_t i = 0; i < n && v->table->npk; i++)
        (void)index_first(v, i); /* cannot fail: first is large enough and older_cap >= n */
    shrink((void **)&v->rows, &v->cap, sizeof *v->rows, n);
    shrink((void **)&v->stamp, &v->stamp_cap, sizeof *v->stamp, n);
    shrink((void **)&v->older, &v->older_cap, sizeof *v->older, n);
    shrink((void **)&v->is_dirty, &v->is_dirty_cap, 1, n);
    shrink((void **)&v->is_changed, &v->is_changed_cap, 1, n);
}

size_t weir_view_drop(weir_table_view *v, unsigned age, uint64_t at_age)
{
    uint8_t *drop = kept_rows(v); /* becomes the rows to drop */
    if (!drop)
        return 0;
    size_t dropped = 0;
    for (size_t i = 0; i < v->n; i++) {
        unsigned a = weir_budget_age(v->tick, v->stamp[i]);
        bool go = !drop[i] && (a > age || (a == age && at_age));
        if (go && a == age) {
            size_t b = row_cost(v, i);
            at_age -= b < at_age ? b : at_age;
        }
        drop[i] = go;
        dropped += go;
    }
    size_t size = index_size(v->n - dropped);
    drop_arrays a = {0};
    /* The writer never waits for readers: with one reading, the rows leave at a later checkpoint. */
    if (dropped && (a.moved = malloc(v->n * sizeof *a.moved)) && (a.slots = calloc(size, sizeof *a.slots)) &&
        (a.first = calloc(size, sizeof *a.first)) && pthread_rwlock_trywrlock(&v->lock) == 0) {
        compact(v, drop, &a);
        pthread_rwlock_unlock(&v->lock);
    } else { /* nothing to drop, out of memory, or a reader: nothing dropped */
        free(a.slots);
        free(a.first);
        dropped = 0;
    }
    free(a.moved);
    free(drop);
    return dropped;
}

/* Offers the memory rows: 0, 1 when the run needs no more rows, or an error code. */
static int offer_rows(weir_pull_run *r, const weir_table_view *v, weir_err *err)
{
    const weir_pull *p = weir_pull_plan(r);
    int f = 0;
    if (p->has_key && v->nfirst) { /* only the rows with that first key: the index's chain */
        for (uint32_t at = v->first[first_slot(v, &p->key, weir_value_hash(&p->key, 7))]; at && !f; at = v->older[at - 1])
            f = is_removal(v, v->rows[at - 1]) ? 0 : weir_pull_offer(r, v->rows[at - 1], err);
        return f;
    }
    for (size_t i = 0; i < v->n && !f; i++)
        f = is_removal(v, v->rows[i]) ? 0 : weir_pull_offer(r, v->rows[i], err);
    return f;
}

/* Offers the store's rows of keys memory lacks (those with the key's
 * first column only, when the query asks for one value of it: a range). */
static int offer_store(weir_pull_run *r, weir_table_view *v, weir_store_snap *snap, weir_err *err)
{
    const weir_pull *p = weir_pull_plan(r);
    weir_buf lo = {0}, hi = {0};
    weir_store_range range = {0};
    bool bounded = false;
    weir_arena arena = {0};
    weir_store_cursor *c = NULL;
    weir_value *row = malloc((size_t)(v->table->schema.ncols + 1) * sizeof *row);
    int rc = row ? WEIR_OK : weir_err_set(err, WEIR_ENOMEM, "out of memory");
    if (rc == WEIR_OK && p->has_key && (rc = weir_rows_prefix(v->store, &p->key, &lo, &hi, &bounded, err)) == WEIR_OK)
        range = (weir_store_range){lo.data, lo.len, bounded ? hi.data : NULL, hi.len, false};
    if (rc == WEIR_OK)
        rc = weir_store_snap_scan(snap, v->tbl, &range, &c, err);
    for (bool got = true; rc == WEIR_OK;) {
        const void *key, *val;
        size_t klen, vlen;
        if ((rc = weir_store_next(c, &key, &klen, &val, &vlen, &got, err)) || !got)
            break;
        weir_arena_reset(&arena);
        rc = weir_rows_decode_keyed(v->table->name, &v->table->schema, v->table->pk, v->table->npk, key, klen, val, vlen,
                                    row, &arena, err);
        if (rc == WEIR_OK && !find(v, row)) /* memory has the newer row of its key, or its removal */
            rc = weir_pull_offer(r, row, err);
    }
    weir_store_cursor_close(c);
    weir_arena_free(&arena);
    free(row);
    weir_buf_free(&lo);
    weir_buf_free(&hi);
    return rc;
}

int weir_pull_offer_view(weir_pull_run *r, weir_table_view *v, weir_err *err)
{
    pthread_rwlock_rdlock(&v->lock);
    weir_store_snap *snap = NULL;
    int rc = v->store ? reader_snap(v, &snap, err) : WEIR_OK;
    int topn = rc == WEIR_OK && snap && weir_pull_plan(r)->by_index ? view_offer_topn(r, v, snap, err) : 0;
    if (topn != 0 && topn != 1) /* an error */
        rc = topn;
    if (rc == WEIR_OK && !topn)
        rc = offer_rows(r, v, err);
    if (rc == WEIR_OK && !topn && snap)
        rc = offer_store(r, v, snap, err);
    reader_snap_end(v, snap);
    pthread_rwlock_unlock(&v->lock);
    return rc == 1 ? WEIR_OK : rc; /* 1: the limit is reached */
}
