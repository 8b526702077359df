/*
 * temporal_join.c - a temporal join's state (see temporal_join.h): per
 * key (open addressing by the join key), the table's versions sorted by
 * (time, arrival), each a malloc'd row or NULL for a removal; the stream
 * records waiting for the table's watermark in a min-heap by (time,
 * arrival), each a malloc'd block.
 *
 * Attached to a state store (weir_temporal_join_attach; docs/STATE_STORE.md,
 * "Join state in the store"), the versions are also in the store table
 * "join:NAME:versions", keyed by (join key, time, arrival) as key.h
 * encodes them (rows.h's cut past the store's longest key), so a key's
 * versions are one range in time order. Value: a version byte (1), a
 * flags byte (1: a row; 0: a removal), u64 arrival, i64 time, then rows.h's
 * value of the row, or of the key alone for a removal. A checkpoint
 * writes the versions added since the last one (the keys holding them are
 * listed) and deletes those pruned (retention reaches the store); a
 * restart reads them back at attach. Under --state-memory the versions of
 * a key the store holds as they are, with nothing to prune, may leave
 * memory (the key stays, marked evicted) and are read back, a range of
 * the store, when the key is next met or written. The waiting stream
 * records stay in the checkpoint file: the table's watermark bounds them.
 */
#include "exec/temporal_join.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/engine_internal.h"
#include "exec/table_join.h"
#include "state/changes.h"
#include "state/rows.h"

#define VERSION_VALUE 1

#define SEED 0x74656d70ull /* "temp" */

typedef struct version {
    int64_t ts;
    uint64_t seq;
    weir_value *row;           /* NULL: the key's row was removed */
    bool stored;               /* attached: the store has it (or a batch not yet committed does) */
} version;

typedef struct versions {      /* one key's: v[0..n) by (ts, seq); key NULL: an empty slot */
    weir_value *key;           /* a packed copy of the join key */
    version *v;
    size_t n, cap;
    bool listed;               /* in the join's list of keys with something to prune some day (due) */
    bool dirty;                /* attached: has versions the store lacks; in the join's dirty list */
    bool evicted;              /* its versions left memory: the store has them all */
    uint16_t tick;             /* the join's tick when last used */
} versions;

typedef struct waiting {       /* a stream record, its values packed after it */
    int64_t ts;
    uint64_t seq;
    weir_value *row;
} waiting;

struct weir_temporal_join {
    const weir_join *j;
    int left_cols, right_cols;
    uint32_t nparts;
    versions *keys;            /* open addressing; a key once seen keeps its slot */
    size_t nslots, nkeys;
    size_t *old;               /* slots of the listed keys: pruned as time passes */
    size_t nold, old_cap;
    int64_t next_due;          /* no listed key has anything to prune before the horizon reaches this */
    waiting **heap;
    size_t nwaiting, heap_cap;
    int64_t *wm[2];            /* per side (0 stream, 1 table) and partition: newest event time seen */
    uint64_t seq, nversions, bytes;
    weir_value *joined;
    /* attached to a store */
    weir_store *store;         /* borrowed, or NULL: the versions are in checkpoints */
    weir_store_table tbl;
    char name[300];            /* the store table's name */
    size_t *dirty;             /* slots of the dirty keys */
    size_t ndirty, dirty_cap;
    weir_buf gone;             /* store keys of stored versions pruned since the last seal, each u32 length and bytes */
    weir_buf batch;            /* sealed changes not yet committed (state/changes.h) */
    bool lost;                 /* a pruned version's delete could not be noted: the store cannot follow */
    uint16_t tick;             /* checkpoints committed, for the budget's ages */
    weir_err err;              /* why reading a key's versions back failed */
};

weir_temporal_join *weir_temporal_join_new(const weir_join *j, int left_cols, uint32_t nparts)
{
    weir_temporal_join *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->j = j;
    t->left_cols = left_cols;
    t->right_cols = j->right->schema.ncols;
    t->nparts = nparts;
    t->joined = malloc((size_t)(left_cols + t->right_cols) * sizeof *t->joined);
    t->wm[0] = malloc(nparts * sizeof *t->wm[0]);
    t->wm[1] = malloc(nparts * sizeof *t->wm[1]);
    if (!t->joined || !t->wm[0] || !t->wm[1]) {
        weir_temporal_join_free(t);
        return NULL;
    }
    for (uint32_t p = 0; p < nparts; p++)
        t->wm[0][p] = t->wm[1][p] = INT64_MIN;
    t->next_due = INT64_MAX;
    return t;
}

void weir_temporal_join_free(weir_temporal_join *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nslots; i++) {
        for (size_t k = 0; k < t->keys[i].n; k++)
            free(t->keys[i].v[k].row);
        free(t->keys[i].v);
        free(t->keys[i].key);
    }
    for (size_t i = 0; i < t->nwaiting; i++)
        free(t->heap[i]);
    free(t->keys);
    free(t->old);
    free(t->dirty);
    weir_buf_free(&t->gone);
    weir_buf_free(&t->batch);
    free(t->heap);
    free(t->wm[0]);
    free(t->wm[1]);
    free(t->joined);
    free(t);
}

static int64_t least(const weir_temporal_join *t, int side)
{
    int64_t m = INT64_MAX;
    for (uint32_t p = 0; p < t->nparts; p++)
        m = t->wm[side][p] < m ? t->wm[side][p] : m;
    return m;
}

/* The key's versions, or with create a new empty entry for it; NULL when
 * it has none (or out of memory). */
static versions *key_versions(weir_temporal_join *t, const weir_value *key, bool create)
{
    if (create && (t->nkeys + 1) * 2 > t->nslots) {
        size_t n = t->nslots ? t->nslots * 2 : 256;
        versions *grown = calloc(n, sizeof *grown);
        if (!grown)
            return NULL;
        t->nold = t->ndirty = 0; /* listed again at their new slots: never more than before */
        for (size_t i = 0; i < t->nslots; i++) {
            if (!t->keys[i].key)
                continue;
            size_t j = weir_value_hash(t->keys[i].key, SEED) & (n - 1);
            while (grown[j].key)
                j = (j + 1) & (n - 1);
            grown[j] = t->keys[i];
            if (grown[j].listed)
                t->old[t->nold++] = j;
            if (grown[j].dirty)
                t->dirty[t->ndirty++] = j;
        }
        free(t->keys);
        t->keys = grown;
        t->nslots = n;
    }
    if (!t->nslots)
        return NULL;
    size_t j = weir_value_hash(key, SEED) & (t->nslots - 1);
    for (; t->keys[j].key; j = (j + 1) & (t->nslots - 1))
        if (weir_value_same(t->keys[j].key, key))
            return &t->keys[j];
    if (!create)
        return NULL;
    void *block = malloc(weir_row_bytes(key, 1));
    if (!block)
        return NULL;
    t->keys[j].key = weir_row_pack(block, key, 1);
    t->nkeys++;
    return &t->keys[j];
}

/* The earliest time a record can still ask for: the stream's watermark
 * less GRACE (what a record that is not too late may be at), or the
 * earliest waiting record's. */
static int64_t horizon_of(const weir_temporal_join *t)
{
    int64_t horizon = weir_sat_add(least(t, 0), -t->j->grace_ms);
    return t->nwaiting && t->heap[0]->ts < horizon ? t->heap[0]->ts : horizon;
}

/* The store key of a version of key, appended to out. */
static int store_key(const weir_temporal_join *t, const weir_value *key, const version *v, weir_buf *out, weir_err *err)
{
    weir_value k[3] = {*key, weir_timestamp(v->ts), weir_uint(v->seq)};
    return weir_rows_key(t->store, k, NULL, 3, out, err);
}

/* A stored version pruned: its delete noted for the next seal. */
static void forget(weir_temporal_join *t, const versions *vs, const version *v)
{
    size_t at = t->gone.len;
    uint32_t len = 0;
    if (weir_buf_append(&t->gone, &len, sizeof len) || store_key(t, vs->key, v, &t->gone, NULL)) {
        t->gone.len = at;
        t->lost = true;
        return;
    }
    len = (uint32_t)(t->gone.len - at - sizeof len);
    memcpy(t->gone.data + at, &len, sizeof len);
}

/* Drops the versions no record can meet: those older than the newest at
 * or before the horizon (that one too when it is a removal). */
static void prune(weir_temporal_join *t, versions *vs)
{
    int64_t horizon = horizon_of(t);
    size_t keep = 0;
    while (keep + 1 < vs->n && vs->v[keep + 1].ts <= horizon)
        keep++;
    if (keep < vs->n && !vs->v[keep].row && vs->v[keep].ts <= horizon)
        keep++;
    for (size_t i = 0; i < keep; i++) {
        if (vs->v[i].row)
            t->bytes -= weir_row_bytes(vs->v[i].row, t->right_cols);
        if (vs->v[i].stored && t->store)
            forget(t, vs, &vs->v[i]);
        free(vs->v[i].row);
    }
    memmove(vs->v, vs->v + keep, (vs->n - keep) * sizeof *vs->v);
    vs->n -= keep;
    t->nversions -= keep;
}

/* When the horizon will let prune drop something of vs: its second
 * version's time (the first then has a newer one at or before the
 * horizon), or a lone removal's own; INT64_MAX: never. */
static int64_t due(const versions *vs)
{
    return vs->n > 1 ? vs->v[1].ts : vs->n == 1 && !vs->v[0].row ? vs->v[0].ts : INT64_MAX;
}

/* Lists vs among the keys with something to prune some day. */
static int list_old(weir_temporal_join *t, versions *vs)
{
    int64_t when = due(vs);
    if (when < t->next_due)
        t->next_due = when;
    if (vs->listed || when == INT64_MAX)
        return WEIR_OK;
    if (t->nold == t->old_cap) {
        size_t *o = weir_array_grow(t->old, &t->old_cap, sizeof *o, 64);
        if (!o)
            return WEIR_ENOMEM;
        t->old = o;
    }
    t->old[t->nold++] = (size_t)(vs - t->keys);
    vs->listed = true;
    return WEIR_OK;
}

/* Retention: once the horizon reaches what a listed key can prune, every
 * listed key drops the versions no record can meet any more, so a key's
 * history does not wait for the key to be written or met again; a key
 * left with its row as of the horizon alone leaves the list. A sweep
 * walks the listed keys: those the table changed within the last GRACE
 * and watermark lag, as a rule. */
static void sweep(weir_temporal_join *t)
{
    if (horizon_of(t) < t->next_due)
        return;
    t->next_due = INT64_MAX;
    for (size_t i = 0; i < t->nold;) {
        versions *vs = &t->keys[t->old[i]];
        prune(t, vs);
        int64_t when = due(vs);
        if (when != INT64_MAX) {
            t->next_due = when < t->next_due ? when : t->next_due;
            i++;
            continue;
        }
        vs->listed = false;
        t->old[i] = t->old[--t->nold];
    }
}

static int reload(weir_temporal_join *t, versions *vs);

/* The key's versions as key_versions finds them, read back from the
 * store first if they left memory (*rc: why that failed, t->err says). */
static versions *key_live(weir_temporal_join *t, const weir_value *key, bool create, int *rc)
{
    versions *vs = key_versions(t, key, create);
    *rc = !vs && create ? WEIR_ENOMEM : WEIR_OK;
    if (vs && vs->evicted)
        *rc = reload(t, vs);
    if (vs)
        vs->tick = t->tick;
    return *rc ? NULL : vs;
}

/* Lists vs's key for the next seal (attached). */
static int list_dirty(weir_temporal_join *t, versions *vs)
{
    if (vs->dirty)
        return WEIR_OK;
    if (t->ndirty == t->dirty_cap) {
        size_t *d = weir_array_grow(t->dirty, &t->dirty_cap, sizeof *d, 64);
        if (!d)
            return WEIR_ENOMEM;
        t->dirty = d;
    }
    t->dirty[t->ndirty++] = (size_t)(vs - t->keys);
    vs->dirty = true;
    return WEIR_OK;
}

/* Adds a version (row copied, or NULL) in (ts, seq) order, and with
 * pruning drops what it makes useless (not while restoring: the waiting
 * records that may need old versions come after them); stored: read from
 * the store, else (attached) listed for the next seal. */
static int add_to(weir_temporal_join *t, versions *vs, const weir_value *row, int64_t ts, uint64_t seq, bool pruning,
                  bool stored);

static int add_version(weir_temporal_join *t, const weir_value *key, const weir_value *row, int64_t ts, uint64_t seq,
                       bool pruning, bool stored)
{
    int rc;
    versions *vs = stored ? key_versions(t, key, true) : key_live(t, key, true, &rc);
    if (!vs)
        return stored ? WEIR_ENOMEM : rc;
    return add_to(t, vs, row, ts, seq, pruning, stored);
}

/* add_version's part once the key's versions are found (no lookup: a
 * lookup that creates may move every key's versions). */
static int add_to(weir_temporal_join *t, versions *vs, const weir_value *row, int64_t ts, uint64_t seq, bool pruning,
                  bool stored)
{
    if (t->store && !stored && list_dirty(t, vs))
        return WEIR_ENOMEM;
    if (vs->n == vs->cap) {
        version *v = weir_array_grow(vs->v, &vs->cap, sizeof *v, 4);
        if (!v)
            return WEIR_ENOMEM;
        vs->v = v;
    }
    weir_value *copy = NULL;
    if (row) {
        size_t bytes = weir_row_bytes(row, t->right_cols);
        void *block = malloc(bytes);
        if (!block)
            return WEIR_ENOMEM;
        copy = weir_row_pack(block, row, t->right_cols);
        t->bytes += bytes;
    }
    size_t at = vs->n;
    while (at > 0 && (vs->v[at - 1].ts > ts || (vs->v[at - 1].ts == ts && vs->v[at - 1].seq > seq)))
        at--;
    memmove(vs->v + at + 1, vs->v + at, (vs->n - at) * sizeof *vs->v);
    vs->v[at] = (version){ts, seq, copy, stored};
    vs->n++;
    t->nversions++;
    if (seq >= t->seq)
        t->seq = seq + 1;
    if (pruning)
        prune(t, vs);
    return list_old(t, vs);
}

/* A stream record meets the version of its key at its time. */
static int meet(weir_temporal_join *t, const weir_value *row, int64_t ts, weir_eval *ev, weir_join_emit emit, void *ctx)
{
    const weir_value *key = &row[t->j->left_key];
    int rc = WEIR_OK;
    versions *vs = key->is_null ? NULL : key_live(t, key, false, &rc);
    if (rc)
        return rc;
    const weir_value *found = NULL; /* the row of the newest version at or before ts, NULL if it is a removal */
    if (vs) {
        size_t i = vs->n;
        while (i > 0 && vs->v[i - 1].ts > ts)
            i--;
        found = i > 0 ? vs->v[i - 1].row : NULL;
    }
    rc = weir_table_join_meet(t->j, t->left_cols, t->joined, row, found, ts, ev, emit, ctx);
    if (vs) /* after: the row met is borrowed until then */
        prune(t, vs);
    return rc;
}

static bool before(const waiting *a, const waiting *b) { return a->ts != b->ts ? a->ts < b->ts : a->seq < b->seq; }

static void heap_swap(weir_temporal_join *t, size_t a, size_t b)
{
    waiting *w = t->heap[a];
    t->heap[a] = t->heap[b];
    t->heap[b] = w;
}

static int wait(weir_temporal_join *t, const weir_value *row, int64_t ts, uint64_t seq)
{
    if (t->nwaiting == t->heap_cap) {
        waiting **h = weir_array_grow(t->heap, &t->heap_cap, sizeof *h, 64);
        if (!h)
            return WEIR_ENOMEM;
        t->heap = h;
    }
    size_t bytes = sizeof(waiting) + weir_row_bytes(row, t->left_cols);
    waiting *w = malloc(bytes);
    if (!w)
        return WEIR_ENOMEM;
    *w = (waiting){ts, seq, weir_row_pack(w + 1, row, t->left_cols)};
    t->bytes += bytes;
    size_t i = t->nwaiting++;
    t->heap[i] = w;
    for (; i > 0 && before(t->heap[i], t->heap[(i - 1) / 2]); i = (i - 1) / 2)
        heap_swap(t, i, (i - 1) / 2);
    if (seq >= t->seq)
        t->seq = seq + 1;
    return WEIR_OK;
}

static waiting *pop(weir_temporal_join *t)
{
    waiting *top = t->heap[0];
    t->heap[0] = t->heap[--t->nwaiting];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < t->nwaiting && before(t->heap[l], t->heap[m])) m = l;
        if (l + 1 < t->nwaiting && before(t->heap[l + 1], t->heap[m])) m = l + 1;
        if (m == i)
            break;
        heap_swap(t, i, m);
        i = m;
    }
    t->bytes -= sizeof(waiting) + weir_row_bytes(top->row, t->left_cols);
    return top;
}

/* Whether the table's versions at or before ts are all in: no table record
 * that is not too late can be at ts or before. */
static bool settled(const weir_temporal_join *t, int64_t ts)
{
    int64_t wm = least(t, 1);
    return wm == INT64_MAX || weir_sat_add(wm, -t->j->grace_ms) > ts;
}

/* Lets out the waiting records the table's watermark has settled, in (time, arrival) order. */
static int release(weir_temporal_join *t, weir_eval *ev, weir_join_emit emit, void *ctx)
{
    while (t->nwaiting && settled(t, t->heap[0]->ts)) {
        waiting *w = pop(t);
        int rc = meet(t, w->row, w->ts, ev, emit, ctx);
        free(w);
        if (rc || ev->err)
            return rc;
    }
    return WEIR_OK;
}

int weir_temporal_join_advance(weir_temporal_join *t, int side, uint32_t part, int64_t wm, weir_eval *ev,
                               weir_join_emit emit, void *ctx)
{
    part %= t->nparts;
    if (wm > t->wm[side][part])
        t->wm[side][part] = wm;
    int rc = side ? release(t, ev, emit, ctx) : WEIR_OK;
    sweep(t);
    return rc;
}

int weir_temporal_join_version(weir_temporal_join *t, uint32_t part, const weir_value *row, const weir_value *key,
                               int64_t ts, weir_eval *ev, weir_join_emit emit, void *ctx, bool *late)
{
    part %= t->nparts;
    *late = weir_sat_add(ts, t->j->grace_ms) < t->wm[1][part];
    if (*late)
        return WEIR_OK;
    const weir_value *k = row ? &row[t->j->right_key] : &key[t->j->right_key];
    int rc = k->is_null ? WEIR_OK : add_version(t, k, row, ts, t->seq, true, false);
    return rc ? rc : weir_temporal_join_advance(t, 1, part, ts, ev, emit, ctx);
}

int weir_temporal_join_push(weir_temporal_join *t, uint32_t part, const weir_value *row, int64_t ts, weir_eval *ev,
                            weir_join_emit emit, void *ctx, bool *late)
{
    part %= t->nparts;
    *late = weir_sat_add(ts, t->j->grace_ms) < t->wm[0][part];
    if (*late)
        return WEIR_OK;
    if (ts > t->wm[0][part])
        t->wm[0][part] = ts;
    int rc = settled(t, ts) ? meet(t, row, ts, ev, emit, ctx) : wait(t, row, ts, t->seq);
    sweep(t);
    return rc;
}

int64_t weir_temporal_join_watermark(const weir_temporal_join *t, int side, uint32_t part)
{
    return t->wm[side][part % t->nparts];
}

uint64_t weir_temporal_join_entries(const weir_temporal_join *t) { return t->nversions + t->nwaiting; }

uint64_t weir_temporal_join_bytes(const weir_temporal_join *t)
{
    return t->bytes + t->nslots * sizeof *t->keys + t->heap_cap * sizeof *t->heap + t->old_cap * sizeof *t->old;
}

/* Layout: u64 next arrival; i64 watermark per side and partition; u64
 * keys, each its key value, u64 versions, each i64 time, u64 arrival, u8
 * has a row and its values (no key when attached to a store: it has
 * them); u64 waiting records, each i64 time, u64 arrival and its values. */
int weir_temporal_join_save(const weir_temporal_join *t, weir_buf *out)
{
    int rc = weir_put_u64(out, t->seq);
    for (int k = 0; k < 2 && !rc; k++)
        for (uint32_t p = 0; p < t->nparts && !rc; p++)
            rc = weir_put_u64(out, (uint64_t)t->wm[k][p]);
    rc = rc || weir_put_u64(out, t->store ? 0 : t->nkeys);
    for (size_t i = 0; i < t->nslots && !t->store && !rc; i++) {
        const versions *vs = &t->keys[i];
        if (!vs->key)
            continue;
        rc = weir_snapshot_put_value(out, vs->key) || weir_put_u64(out, vs->n);
        for (size_t k = 0; k < vs->n && !rc; k++) {
            rc = weir_put_u64(out, (uint64_t)vs->v[k].ts) || weir_put_u64(out, vs->v[k].seq) ||
                 weir_put_u8(out, vs->v[k].row != NULL);
            for (int c = 0; vs->v[k].row && c < t->right_cols && !rc; c++)
                rc = weir_snapshot_put_value(out, &vs->v[k].row[c]);
        }
    }
    rc = rc || weir_put_u64(out, t->nwaiting);
    for (size_t i = 0; i < t->nwaiting && !rc; i++) {
        rc = weir_put_u64(out, (uint64_t)t->heap[i]->ts) || weir_put_u64(out, t->heap[i]->seq);
        for (int c = 0; c < t->left_cols && !rc; c++)
            rc = weir_snapshot_put_value(out, &t->heap[i]->row[c]);
    }
    return rc ? WEIR_ENOMEM : WEIR_OK;
}

/* Reads n values of a row of cols, each of its column's type or NULL. */
static void get_row(weir_reader_buf *r, const weir_column *cols, int n, weir_value *row)
{
    for (int c = 0; c < n; c++) {
        row[c] = weir_snapshot_get_value(r);
        if (!row[c].is_null && row[c].type != cols[c].type) /* expressions read a column's values as its type */
            r->bad = true;
    }
}

int weir_temporal_join_load(weir_temporal_join *t, weir_reader_buf *r)
{
    t->seq = weir_get_u64(r);
    for (int k = 0; k < 2; k++)
        for (uint32_t p = 0; p < t->nparts; p++)
            t->wm[k][p] = (int64_t)weir_get_u64(r);
    int max_cols = t->left_cols > t->right_cols ? t->left_cols : t->right_cols;
    weir_value *row = malloc((size_t)max_cols * sizeof *row);
    if (!row)
        return WEIR_ENOMEM;
    int rc = WEIR_OK;
    const weir_column *key_col = &t->j->right->schema.cols[t->j->right_key];
    uint64_t nkeys = weir_get_u64(r);
    for (uint64_t i = 0; i < nkeys && !r->bad && rc == WEIR_OK; i++) {
        weir_value key;
        get_row(r, key_col, 1, &key);
        uint64_t n = weir_get_u64(r);
        r->bad |= key.is_null || key_versions(t, &key, false) != NULL;
        if (!r->bad && !key_versions(t, &key, true)) /* a key whose versions were all pruned keeps its slot */
            rc = WEIR_ENOMEM;
        for (uint64_t k = 0; k < n && !r->bad && rc == WEIR_OK; k++) {
            int64_t ts = (int64_t)weir_get_u64(r);
            uint64_t seq = weir_get_u64(r);
            bool has_row = weir_get_u8(r) != 0;
            if (has_row)
                get_row(r, t->j->right->schema.cols, t->right_cols, row);
            r->bad |= has_row && !weir_value_same(&row[t->j->right_key], &key);
            if (!r->bad)
                rc = add_version(t, &key, has_row ? row : NULL, ts, seq, false, false);
        }
    }
    uint64_t nwaiting = r->bad ? 0 : weir_get_u64(r);
    for (uint64_t i = 0; i < nwaiting && !r->bad && rc == WEIR_OK; i++) {
        int64_t ts = (int64_t)weir_get_u64(r);
        uint64_t seq = weir_get_u64(r);
        get_row(r, t->j->row.cols, t->left_cols, row);
        if (!r->bad)
            rc = wait(t, row, ts, seq);
    }
    free(row);
    return rc ? rc : r->bad ? WEIR_ECORRUPT : WEIR_OK;
}

/* A version's store value decoded: *has_row, its key (into row: row[0]
 * for a removal, else the row), arrival and time. */
static int decode_version(const weir_temporal_join *t, const void *val, size_t vlen, weir_value *row, weir_arena *a,
                          bool *has_row, const weir_value **key, uint64_t *seq_out, int64_t *ts_out, weir_err *err)
{
    weir_reader_buf r = {val, (const uint8_t *)val + vlen, false};
    uint8_t format = weir_get_u8(&r), flags = weir_get_u8(&r);
    uint64_t seq = weir_get_u64(&r);
    int64_t ts = (int64_t)weir_get_u64(&r);
    if (r.bad || format != VERSION_VALUE || flags > 1)
        return weir_err_set(err, WEIR_ECORRUPT, "state store: %s: a version of format %u (not %d) or damaged; "
                            "`weir serve --reset` rebuilds the store from the retained inputs", t->name, format,
                            VERSION_VALUE);
    const weir_schema *rs = &t->j->right->schema;
    weir_schema key_only = {rs->cols + t->j->right_key, 1};
    int rc = weir_rows_decode(t->name, flags ? rs : &key_only, r.p, (size_t)(r.end - r.p), row, a, err);
    *key = flags ? &row[t->j->right_key] : &row[0];
    *has_row = flags;
    *seq_out = seq;
    *ts_out = ts;
    if (rc == WEIR_OK && (*key)->is_null)
        rc = weir_err_set(err, WEIR_ECORRUPT, "state store: %s: a version without its key", t->name);
    return rc;
}

/* A version from its store value into memory (stored). */
static int restore(weir_temporal_join *t, const void *val, size_t vlen, weir_value *row, weir_arena *a, weir_err *err)
{
    bool has_row;
    const weir_value *key;
    uint64_t seq;
    int64_t ts;
    int rc = decode_version(t, val, vlen, row, a, &has_row, &key, &seq, &ts, err);
    if (rc == WEIR_OK && add_version(t, key, has_row ? row : NULL, ts, seq, false, true))
        rc = weir_err_set(err, WEIR_ENOMEM, "out of memory reading %s", t->name);
    return rc;
}

/* An evicted key's versions back from the store: the range of its key's
 * prefix, skipping another key's that share it (a cut key). */
static int reload(weir_temporal_join *t, versions *vs)
{
    weir_buf lo = {0}, hi = {0};
    weir_store_snap *snap = NULL;
    weir_store_cursor *c = NULL;
    weir_arena a = {0};
    bool bounded;
    weir_err *err = &t->err;
    weir_value *row = malloc((size_t)t->right_cols * sizeof *row);
    int rc = row ? weir_rows_prefix(t->store, vs->key, &lo, &hi, &bounded, err) : WEIR_ENOMEM;
    if (rc == WEIR_OK)
        rc = weir_store_snap_begin(t->store, &snap, err);
    weir_store_range range = {lo.data, lo.len, bounded ? hi.data : NULL, bounded ? hi.len : 0, false};
    if (rc == WEIR_OK)
        rc = weir_store_snap_scan(snap, t->tbl, &range, &c, err);
    vs->evicted = false;
    for (bool got = true; rc == WEIR_OK;) {
        const void *k, *val;
        size_t klen, vlen;
        bool has_row;
        const weir_value *key;
        uint64_t seq;
        int64_t ts;
        if ((rc = weir_store_next(c, &k, &klen, &val, &vlen, &got, err)) || !got)
            break;
        weir_arena_reset(&a);
        rc = decode_version(t, val, vlen, row, &a, &has_row, &key, &seq, &ts, err);
        if (rc == WEIR_OK && weir_value_same(key, vs->key) && add_to(t, vs, has_row ? row : NULL, ts, seq, false, true))
            rc = WEIR_ENOMEM;
    }
    weir_store_cursor_close(c);
    weir_store_snap_end(snap);
    weir_arena_free(&a);
    weir_buf_free(&lo);
    weir_buf_free(&hi);
    free(row);
    if (rc == WEIR_ENOMEM)
        weir_err_set(err, WEIR_ENOMEM, "out of memory reading %s", t->name);
    t->lost |= rc != WEIR_OK; /* the key holds part of its versions: no checkpoint may follow */
    return rc ? weir_err_wrap(err, "state store: join versions %s", t->name) : WEIR_OK;
}

const char *weir_temporal_join_error(const weir_temporal_join *t) { return t->err.msg; }

void weir_temporal_join_tick(weir_temporal_join *t) { t->tick++; }

/* Whether vs's versions may leave memory: the store holds them as they
 * are, and none is due to be pruned. */
static bool droppable(const weir_temporal_join *t, const versions *vs)
{
    return t->store && !t->batch.len && !t->lost && vs->key && !vs->evicted && !vs->dirty && !vs->listed && vs->n;
}

static uint64_t versions_bytes(const weir_temporal_join *t, const versions *vs)
{
    uint64_t b = vs->cap * sizeof *vs->v;
    for (size_t i = 0; i < vs->n; i++)
        b += vs->v[i].row ? weir_row_bytes(vs->v[i].row, t->right_cols) : 0;
    return b;
}

void weir_temporal_join_droppable(const weir_temporal_join *t, weir_budget_ages *ages)
{
    for (size_t i = 0; i < t->nslots; i++)
        if (droppable(t, &t->keys[i]))
            ages->bytes[weir_budget_age(t->tick, t->keys[i].tick)] += versions_bytes(t, &t->keys[i]);
}

uint64_t weir_temporal_join_drop(weir_temporal_join *t, unsigned age, uint64_t max_bytes)
{
    uint64_t dropped = 0, at_age = 0;
    for (size_t i = 0; i < t->nslots; i++) {
        versions *vs = &t->keys[i];
        unsigned a = droppable(t, vs) ? weir_budget_age(t->tick, vs->tick) : 0;
        if (!droppable(t, vs) || a < age || (a == age && at_age >= max_bytes))
            continue;
        at_age += a == age ? versions_bytes(t, vs) : 0;
        for (size_t k = 0; k < vs->n; k++) {
            if (vs->v[k].row)
                t->bytes -= weir_row_bytes(vs->v[k].row, t->right_cols);
            free(vs->v[k].row);
        }
        free(vs->v);
        t->nversions -= vs->n;
        vs->v = NULL;
        vs->n = vs->cap = 0;
        vs->evicted = true;
        dropped++;
    }
    return dropped;
}

int weir_temporal_join_restore(weir_temporal_join *t, const void *val, size_t vlen, weir_err *err)
{
    weir_arena a = {0};
    weir_value *row = malloc((size_t)t->right_cols * sizeof *row);
    int rc = row ? restore(t, val, vlen, row, &a, err) : weir_err_set(err, WEIR_ENOMEM, "out of memory");
    weir_arena_free(&a);
    free(row);
    return rc;
}

int weir_temporal_join_attach(weir_temporal_join *t, weir_store *store, const char *name, weir_err *err)
{
    weir_store_snap *snap = NULL;
    weir_store_cursor *c = NULL;
    weir_arena a = {0};
    if (snprintf(t->name, sizeof t->name, "join:%s:versions", name) > 255)
        return weir_err_set(err, WEIR_EINVAL, "%s: a name this long has no table in the state store", name);
    t->store = store;
    weir_value *row = malloc((size_t)t->right_cols * sizeof *row);
    int rc = row ? weir_store_table_open(store, t->name, true, &t->tbl, err) : weir_err_set(err, WEIR_ENOMEM, "out of memory");
    if (rc == WEIR_OK)
        rc = weir_store_snap_begin(store, &snap, err);
    weir_store_range all = {0};
    if (rc == WEIR_OK)
        rc = weir_store_snap_scan(snap, t->tbl, &all, &c, err);
    for (bool got = true; rc == WEIR_OK;) {
        const void *key, *val;
        size_t klen, vlen;
        if ((rc = weir_store_next(c, &key, &klen, &val, &vlen, &got, err)) || !got)
            break;
        weir_arena_reset(&a);
        rc = restore(t, val, vlen, row, &a, err);
    }
    weir_store_cursor_close(c);
    weir_store_snap_end(snap);
    weir_arena_free(&a);
    free(row);
    return rc ? weir_err_wrap(err, "state store: join versions %s", t->name) : WEIR_OK;
}

/* The put of version v of key into the batch (key and val: scratch). */
static int seal_version(weir_temporal_join *t, const weir_value *key, const version *v, weir_buf *k, weir_buf *val,
                        weir_err *err)
{
    uint8_t head[2] = {VERSION_VALUE, v->row ? 1 : 0};
    k->len = val->len = 0;
    int rc = store_key(t, key, v, k, err);
    if (rc == WEIR_OK &&
        (weir_buf_append(val, head, sizeof head) || weir_put_u64(val, v->seq) || weir_put_u64(val, (uint64_t)v->ts)))
        rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
    if (rc == WEIR_OK)
        rc = v->row ? weir_rows_value(v->row, t->right_cols, val, err) : weir_rows_value(key, 1, val, err);
    if (rc == WEIR_OK && weir_changes_add(&t->batch, k->data, k->len, val->data, val->len))
        rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
    return rc;
}

int weir_temporal_join_seal(weir_temporal_join *t, weir_err *err)
{
    if (t->lost)
        return weir_err_set(err, WEIR_ENOMEM, "%s: out of memory noting pruned versions; restart weir serve", t->name);
    weir_buf k = {0}, val = {0};
    int rc = weir_changes_add_deletes(&t->batch, &t->gone) ? weir_err_set(err, WEIR_ENOMEM, "out of memory") : WEIR_OK;
    t->gone.len = 0;
    for (size_t i = 0; i < t->ndirty; i++) { /* every listed key is unlisted, even after a failure */
        versions *vs = &t->keys[t->dirty[i]];
        vs->dirty = false;
        for (size_t n = 0; n < vs->n; n++) {
            if (!vs->v[n].stored && rc == WEIR_OK)
                rc = seal_version(t, vs->key, &vs->v[n], &k, &val, err);
            vs->v[n].stored = true;
        }
    }
    t->ndirty = 0;
    t->lost |= rc != WEIR_OK;
    weir_buf_free(&k);
    weir_buf_free(&val);
    return rc ? weir_err_wrap(err, "%s", t->name) : WEIR_OK;
}

int weir_temporal_join_write(weir_temporal_join *t, weir_store_txn *txn, weir_err *err)
{
    int rc = weir_changes_write(txn, t->tbl, &t->batch, err);
    return rc ? weir_err_wrap(err, "%s", t->name) : WEIR_OK;
}

void weir_temporal_join_written(weir_temporal_join *t, bool committed)
{
    if (committed)
        weir_buf_free(&t->batch);
}
