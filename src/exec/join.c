/*
 * join.c - the buffered records of an interval join (join.h says when a
 * record meets, is too late and is dropped).
 *
 * Each side keeps its records in a hash table by join key (chained, in
 * arrival order within a chain, so a record meets the other side's in the
 * order they came) and in a min-heap by (event time, arrival), which is
 * expiry order since every record lives span + grace past its event time:
 * a watermark that moves drops from the heap's top, never scanning.
 *
 * Attached to a state store (weir_join_attach; docs/STATE_STORE.md, "Join
 * state in the store"), each side's records are also in a store table,
 * keyed by (join key, event time, arrival) as key.h encodes them (rows.h's
 * cut past the store's longest key), so one key's records are one range
 * in time order. Value: a version byte (1), a flags byte (1: matched),
 * u64 arrival, i64 event time, then rows.h's value of the record. A
 * checkpoint writes what changed since the last one: the records kept
 * since (puts), those whose matched flag turned (puts again) and those
 * dropped (deletes); a record kept and dropped between two checkpoints
 * never reaches the store. As windows' groups do, every record stays in
 * memory too (the watermark bounds them; outer rows are emitted in time
 * order from the heap), and a restart reads them all back at attach.
 */
#include "exec/join.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/engine_internal.h"
#include "state/changes.h"
#include "state/rows.h"

#define RECORD_VERSION 1
#define LISTED 0x01  /* in its side's dirty list: the next seal puts it */
#define STORED 0x02  /* the store has it (or a batch not yet committed does) */
#define DROPPED 0x04 /* dropped while listed: the seal frees it */

typedef struct jentry {
    struct jentry *next;       /* in its hash chain */
    uint64_t hash;             /* of its key */
    uint64_t seq;              /* arrival order over both sides: ties in the heap, the order on restore */
    int64_t ts;                /* event time */
    size_t bytes;              /* allocated for it */
    bool matched;              /* met a record of the other side (an outer join emits it alone if not) */
    uint8_t flags;             /* attached to a store: LISTED, STORED, DROPPED */
    weir_value *row;           /* its values, packed after the entry */
} jentry;

typedef struct jside {
    int key;                   /* the key column in this side's row */
    int ncols;
    int offset;                /* of its columns in the joined row */
    jentry **buckets;          /* power of two of them */
    size_t nbuckets, count;
    jentry **heap;             /* by (ts, seq) */
    size_t cap;
    int64_t *wm;               /* per partition: newest event time seen (INT64_MIN: none) */
    uint64_t bytes;
    /* attached to a store */
    weir_schema schema;        /* this side's columns (a slice of the joined row's) */
    weir_store_table tbl;
    char name[300];            /* its store table's name */
    jentry **dirty;            /* LISTED entries, in the order listed */
    size_t ndirty, dirty_cap;
    weir_buf gone;             /* store keys of STORED entries dropped since the last seal, each u32 length and bytes */
    weir_buf batch;            /* sealed changes not yet committed (state/changes.h) */
} jside;

struct weir_join_state {
    const weir_join *j;
    jside side[2];
    uint32_t nparts;
    uint64_t seq;
    weir_value *row;           /* the joined row being emitted */
    weir_store *store;         /* borrowed, or NULL: the records are in checkpoints */
};

#define SEED 0x6a6f696eu

weir_join_state *weir_join_new(const weir_join *j, int left_cols, uint32_t nparts)
{
    weir_join_state *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->j = j;
    s->nparts = nparts;
    s->row = malloc((size_t)j->row.ncols * sizeof *s->row);
    bool ok = s->row != NULL;
    for (int k = 0; k < 2; k++) {
        jside *d = &s->side[k];
        d->key = k ? j->right_key : j->left_key;
        d->ncols = k ? j->row.ncols - left_cols : left_cols;
        d->offset = k ? left_cols : 0;
        d->nbuckets = 64;
        d->buckets = calloc(d->nbuckets, sizeof *d->buckets);
        d->wm = malloc(nparts * sizeof *d->wm);
        d->schema = (weir_schema){j->row.cols + d->offset, d->ncols};
        ok = ok && d->buckets && d->wm;
        for (uint32_t p = 0; d->wm && p < nparts; p++)
            d->wm[p] = INT64_MIN;
    }
    if (!ok) {
        weir_join_free(s);
        return NULL;
    }
    return s;
}

void weir_join_free(weir_join_state *s)
{
    if (!s)
        return;
    for (int k = 0; k < 2; k++) {
        jside *d = &s->side[k];
        for (size_t i = 0; i < d->count; i++)
            free(d->heap[i]);
        for (size_t i = 0; i < d->ndirty; i++)
            if (d->dirty[i]->flags & DROPPED)
                free(d->dirty[i]);
        free(d->heap);
        free(d->buckets);
        free(d->wm);
        free(d->dirty);
        weir_buf_free(&d->gone);
        weir_buf_free(&d->batch);
    }
    free(s->row);
    free(s);
}

static bool before(const jentry *a, const jentry *b) { return a->ts != b->ts ? a->ts < b->ts : a->seq < b->seq; }

static void heap_up(jside *d, size_t i)
{
    while (i > 0 && before(d->heap[i], d->heap[(i - 1) / 2])) {
        jentry *t = d->heap[i];
        d->heap[i] = d->heap[(i - 1) / 2];
        d->heap[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static void heap_down(jside *d, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < d->count && before(d->heap[l], d->heap[m])) m = l;
        if (l + 1 < d->count && before(d->heap[l + 1], d->heap[m])) m = l + 1;
        if (m == i)
            return;
        jentry *t = d->heap[i];
        d->heap[i] = d->heap[m];
        d->heap[m] = t;
        i = m;
    }
}

/* Doubles the buckets when the table is full, keeping each chain's order. */
static int grow_buckets(jside *d)
{
    if (d->count < d->nbuckets)
        return WEIR_OK;
    size_t n = d->nbuckets * 2;
    jentry **b = calloc(n, sizeof *b), **tail = calloc(n, sizeof *tail);
    if (!b || !tail) {
        free(b);
        free(tail);
        return WEIR_ENOMEM;
    }
    for (size_t i = 0; i < d->nbuckets; i++)
        for (jentry *e = d->buckets[i], *next; e; e = next) {
            next = e->next;
            e->next = NULL;
            size_t k = e->hash & (n - 1);
            if (tail[k])
                tail[k]->next = e;
            else
                b[k] = e;
            tail[k] = e;
        }
    free(tail);
    free(d->buckets);
    d->buckets = b;
    d->nbuckets = n;
    return WEIR_OK;
}

/* Lists e for the next seal (attached to a store). */
static int list_dirty(jside *d, jentry *e)
{
    if (e->flags & LISTED)
        return WEIR_OK;
    if (d->ndirty == d->dirty_cap) {
        jentry **v = weir_array_grow(d->dirty, &d->dirty_cap, sizeof *v, 64);
        if (!v)
            return WEIR_ENOMEM;
        d->dirty = v;
    }
    d->dirty[d->ndirty++] = e;
    e->flags |= LISTED;
    return WEIR_OK;
}

/* Keeps a copy of row on side d, last in its chain; flags STORED: read
 * from the store, else (attached) listed for the next seal. */
static int keep(weir_join_state *s, jside *d, const weir_value *row, int64_t ts, uint64_t hash, uint64_t seq,
                bool matched, uint8_t flags)
{
    if (grow_buckets(d))
        return WEIR_ENOMEM;
    if (d->count == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 64;
        jentry **h = realloc(d->heap, cap * sizeof *h);
        if (!h)
            return WEIR_ENOMEM;
        d->heap = h;
        d->cap = cap;
    }
    size_t bytes = sizeof(jentry) + weir_row_bytes(row, d->ncols);
    jentry *e = malloc(bytes);
    if (!e)
        return WEIR_ENOMEM;
    *e = (jentry){.hash = hash, .seq = seq, .ts = ts, .bytes = bytes, .matched = matched, .flags = flags};
    e->row = weir_row_pack(e + 1, row, d->ncols);
    if (s->store && !(flags & STORED) && list_dirty(d, e)) {
        free(e);
        return WEIR_ENOMEM;
    }
    jentry **at = &d->buckets[hash & (d->nbuckets - 1)];
    while (*at)
        at = &(*at)->next;
    *at = e;
    d->heap[d->count++] = e;
    heap_up(d, d->count - 1);
    d->bytes += bytes;
    if (seq >= s->seq)
        s->seq = seq + 1;
    return WEIR_OK;
}

/* The joined row of a left and a right row, either NULL (an outer row). */
static const weir_value *joined(weir_join_state *s, const weir_value *left, const weir_value *right)
{
    for (int k = 0; k < 2; k++) {
        const jside *d = &s->side[k];
        const weir_value *r = k ? right : left;
        for (int i = 0; i < d->ncols; i++)
            s->row[d->offset + i] = r ? r[i] : weir_null(s->j->row.cols[d->offset + i].type);
    }
    return s->row;
}

static bool outer(const weir_join_state *s, int side)
{
    return s->j->kind == WEIR_JOIN_FULL || (s->j->kind == WEIR_JOIN_LEFT && side == 0);
}

int weir_join_push(weir_join_state *s, int side, uint32_t part, const weir_value *row, int64_t ts, weir_eval *ev,
                   weir_join_emit emit, void *ctx, bool *late)
{
    const weir_join *j = s->j;
    jside *d = &s->side[side], *o = &s->side[!side];
    part %= s->nparts;
    /* Too late: every record of the other side it could meet is behind this partition's watermark. */
    int64_t reach = weir_sat_add(side ? weir_sat_add(ts, -j->lo) : weir_sat_add(ts, j->hi), j->grace_ms);
    *late = reach < d->wm[part];
    if (*late)
        return WEIR_OK;
    const weir_value *key = &row[d->key];
    uint64_t hash = weir_value_hash(key, SEED);
    bool matched = false;
    int rc = WEIR_OK;
    for (jentry *e = key->is_null ? NULL : o->buckets[hash & (o->nbuckets - 1)]; e && rc == WEIR_OK; e = e->next) {
        if (e->hash != hash || !weir_value_same(key, &e->row[o->key]))
            continue;
        int64_t lt = side ? e->ts : ts, rt = side ? ts : e->ts, dt;
        if (__builtin_sub_overflow(rt, lt, &dt) || dt < j->lo || dt > j->hi)
            continue;
        const weir_value *jr = joined(s, side ? e->row : row, side ? row : e->row);
        ev->row = jr;
        if (j->on && !weir_eval_predicate(ev, j->on)) {
            if (ev->err)
                return WEIR_OK; /* the caller sends the record to the dead letters */
            continue;
        }
        if (!e->matched && s->store && list_dirty(o, e))
            return WEIR_ENOMEM;
        e->matched = matched = true;
        rc = emit(ctx, jr, lt > rt ? lt : rt, side);
    }
    if (rc)
        return rc;
    if (key->is_null) { /* meets nothing, ever: an outer join emits it at once */
        rc = outer(s, side) ? emit(ctx, joined(s, side ? NULL : row, side ? row : NULL), ts, side) : WEIR_OK;
    } else {
        rc = keep(s, d, row, ts, hash, s->seq, matched, 0);
    }
    return rc ? rc : weir_join_advance(s, side, part, ts, emit, ctx);
}

/* The store key of e, a record of side d, appended to out. */
static int store_key(const weir_join_state *s, const jside *d, const jentry *e, weir_buf *out, weir_err *err)
{
    weir_value k[3] = {e->row[d->key], weir_timestamp(e->ts), weir_uint(e->seq)};
    return weir_rows_key(s->store, k, NULL, 3, out, err);
}

/* A record dropped: freed, and (attached) its delete noted for the next
 * seal; one still listed is freed by the seal. WEIR_ENOMEM. */
static int forget(weir_join_state *s, jside *d, jentry *e)
{
    int rc = WEIR_OK;
    if (s->store && (e->flags & STORED)) {
        size_t at = d->gone.len;
        uint32_t len = 0;
        if (weir_buf_append(&d->gone, &len, sizeof len) || store_key(s, d, e, &d->gone, NULL)) {
            d->gone.len = at;
            rc = WEIR_ENOMEM;
        } else {
            len = (uint32_t)(d->gone.len - at - sizeof len);
            memcpy(d->gone.data + at, &len, sizeof len);
        }
    }
    if (e->flags & LISTED)
        e->flags |= DROPPED;
    else
        free(e);
    return rc;
}

/* Unlinks the heap's top from its chain and the heap. */
static jentry *pop(jside *d)
{
    jentry *e = d->heap[0];
    d->heap[0] = d->heap[--d->count];
    heap_down(d, 0);
    jentry **at = &d->buckets[e->hash & (d->nbuckets - 1)];
    while (*at != e)
        at = &(*at)->next;
    *at = e->next;
    d->bytes -= e->bytes;
    return e;
}

int weir_join_advance(weir_join_state *s, int side, uint32_t part, int64_t wm, weir_join_emit emit, void *ctx)
{
    jside *d = &s->side[side];
    part %= s->nparts;
    if (wm > d->wm[part])
        d->wm[part] = wm;
    int64_t least = INT64_MAX;
    for (int k = 0; k < 2; k++)
        for (uint32_t p = 0; p < s->nparts; p++)
            least = s->side[k].wm[p] < least ? s->side[k].wm[p] : least;
    int64_t life = weir_sat_add(s->j->hi - s->j->lo, s->j->grace_ms);
    /* Drop in (ts, arrival) order over both sides, so outer rows come out in event-time order. */
    for (;;) {
        jside *a = &s->side[0], *b = &s->side[1];
        jside *next = !a->count ? b : !b->count ? a : before(b->heap[0], a->heap[0]) ? b : a;
        if (!next->count || !(least == INT64_MAX || weir_sat_add(next->heap[0]->ts, life) < least))
            return WEIR_OK;
        int k = next == b;
        jentry *e = pop(next);
        int rc = !e->matched && outer(s, k) ? emit(ctx, joined(s, k ? NULL : e->row, k ? e->row : NULL), e->ts, k) : 0;
        int grc = forget(s, next, e);
        if (rc || grc)
            return rc ? rc : grc;
    }
}

int64_t weir_join_watermark(const weir_join_state *s, int side, uint32_t part)
{
    return s->side[side].wm[part % s->nparts];
}

uint64_t weir_join_entries(const weir_join_state *s) { return s->side[0].count + s->side[1].count; }

uint64_t weir_join_bytes(const weir_join_state *s)
{
    uint64_t b = 0;
    for (int k = 0; k < 2; k++)
        b += s->side[k].bytes + s->side[k].nbuckets * sizeof(jentry *) + s->side[k].cap * sizeof(jentry *);
    return b;
}

size_t weir_join_entry_size(const weir_join_state *s)
{
    (void)s;
    return sizeof(jentry) + 2 * sizeof(jentry *); /* the entry, its bucket and heap slots */
}

/* Layout: u64 next arrival number; per side: i64 watermark per partition,
 * u64 records, and per record u64 arrival, i64 event time, u8 matched and
 * its values (none when attached to a store: it has them). */
int weir_join_save(const weir_join_state *s, weir_buf *out)
{
    int rc = weir_put_u64(out, s->seq);
    for (int k = 0; k < 2 && !rc; k++) {
        const jside *d = &s->side[k];
        size_t n = s->store ? 0 : d->count;
        for (uint32_t p = 0; p < s->nparts && !rc; p++)
            rc = weir_put_u64(out, (uint64_t)d->wm[p]);
        rc = rc || weir_put_u64(out, n);
        for (size_t i = 0; i < n && !rc; i++) {
            const jentry *e = d->heap[i];
            rc = weir_put_u64(out, e->seq) || weir_put_u64(out, (uint64_t)e->ts) || weir_put_u8(out, e->matched);
            for (int c = 0; c < d->ncols && !rc; c++)
                rc = weir_snapshot_put_value(out, &e->row[c]);
        }
    }
    return rc ? WEIR_ENOMEM : WEIR_OK;
}

/* Records go back into their chains in arrival order, as they first came. */
static int cmp_seq(const void *a, const void *b)
{
    const jentry *x = *(jentry *const *)a, *y = *(jentry *const *)b;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* keep() appended each record to its chain in the order restored (heap
 * or key order): puts the chains back in arrival order. */
static int rechain(jside *d)
{
    if (!d->count)
        return WEIR_OK;
    jentry **v = malloc(d->count * sizeof *v);
    if (!v)
        return WEIR_ENOMEM;
    memcpy(v, d->heap, d->count * sizeof *v);
    qsort(v, d->count, sizeof *v, cmp_seq);
    memset(d->buckets, 0, d->nbuckets * sizeof *d->buckets);
    for (size_t i = d->count; i-- > 0;) {
        jentry **head = &d->buckets[v[i]->hash & (d->nbuckets - 1)];
        v[i]->next = *head;
        *head = v[i];
    }
    free(v);
    return WEIR_OK;
}

int weir_join_load(weir_join_state *s, weir_reader_buf *r)
{
    s->seq = weir_get_u64(r);
    for (int k = 0; k < 2 && !r->bad; k++) {
        jside *d = &s->side[k];
        for (uint32_t p = 0; p < s->nparts; p++)
            d->wm[p] = (int64_t)weir_get_u64(r);
        uint64_t n = weir_get_u64(r);
        weir_value *row = malloc((size_t)d->ncols * sizeof *row);
        if (!row)
            return WEIR_ENOMEM;
        for (uint64_t i = 0; i < n && !r->bad; i++) {
            uint64_t seq = weir_get_u64(r);
            int64_t ts = (int64_t)weir_get_u64(r);
            bool matched = weir_get_u8(r) != 0;
            /* Expressions read a column's values as its type: a value of another is damage. */
            for (int c = 0; c < d->ncols; c++) {
                row[c] = weir_snapshot_get_value(r);
                if (!row[c].is_null && row[c].type != s->j->row.cols[d->offset + c].type)
                    r->bad = true;
            }
            if (row[d->key].is_null) /* never kept: it meets nothing */
                r->bad = true;
            if (!r->bad && keep(s, d, row, ts, weir_value_hash(&row[d->key], SEED), seq, matched, 0)) {
                free(row);
                return WEIR_ENOMEM;
            }
        }
        free(row);
        if (rechain(d))
            return WEIR_ENOMEM;
    }
    return r->bad ? WEIR_ECORRUPT : WEIR_OK;
}

/* A record from its store value into side d (STORED). */
static int restore(weir_join_state *s, jside *d, const void *val, size_t vlen, weir_value *row, weir_arena *a,
                   weir_err *err)
{
    weir_reader_buf r = {val, (const uint8_t *)val + vlen, false};
    uint8_t version = weir_get_u8(&r), flags = weir_get_u8(&r);
    uint64_t seq = weir_get_u64(&r);
    int64_t ts = (int64_t)weir_get_u64(&r);
    if (r.bad || version != RECORD_VERSION || flags > 1)
        return weir_err_set(err, WEIR_ECORRUPT, "state store: %s: a record of version %u (not %d) or damaged; "
                            "`weir serve --reset` rebuilds the store from the retained inputs", d->name, version,
                            RECORD_VERSION);
    int rc = weir_rows_decode(d->name, &d->schema, r.p, (size_t)(r.end - r.p), row, a, err);
    if (rc == WEIR_OK && row[d->key].is_null)
        rc = weir_err_set(err, WEIR_ECORRUPT, "state store: %s: a record without its join key", d->name);
    if (rc == WEIR_OK && keep(s, d, row, ts, weir_value_hash(&row[d->key], SEED), seq, flags & 1, STORED))
        rc = weir_err_set(err, WEIR_ENOMEM, "out of memory reading %s", d->name);
    return rc;
}

int weir_join_restore(weir_join_state *s, int side, const void *val, size_t vlen, weir_err *err)
{
    jside *d = &s->side[side];
    weir_arena a = {0};
    weir_value *row = malloc((size_t)d->ncols * sizeof *row);
    int rc = row ? restore(s, d, val, vlen, row, &a, err) : weir_err_set(err, WEIR_ENOMEM, "out of memory");
    weir_arena_free(&a);
    free(row);
    return rc;
}

/* Every record of side d's store table into memory. */
static int read_side(weir_join_state *s, jside *d, weir_err *err)
{
    weir_store_snap *snap = NULL;
    weir_store_cursor *c = NULL;
    weir_arena a = {0};
    weir_value *row = malloc((size_t)d->ncols * sizeof *row);
    int rc = row ? weir_store_snap_begin(s->store, &snap, err) : weir_err_set(err, WEIR_ENOMEM, "out of memory");
    if (!row)
        return rc;
    weir_store_range all = {0};
    if (rc == WEIR_OK)
        rc = weir_store_snap_scan(snap, d->tbl, &all, &c, err);
    for (bool got = true; rc == WEIR_OK;) {
        const void *key, *val;
        size_t klen, vlen;
        if ((rc = weir_store_next(c, &key, &klen, &val, &vlen, &got, err)) || !got)
            break;
        weir_arena_reset(&a);
        rc = restore(s, d, val, vlen, row, &a, err);
    }
    weir_store_cursor_close(c);
    weir_store_snap_end(snap);
    weir_arena_free(&a);
    free(row);
    if (rc == WEIR_OK && rechain(d))
        rc = weir_err_set(err, WEIR_ENOMEM, "out of memory reading %s", d->name);
    return rc;
}

int weir_join_attach(weir_join_state *s, weir_store *store, const char *name, weir_err *err)
{
    s->store = store;
    for (int k = 0; k < 2; k++) {
        jside *d = &s->side[k];
        if (snprintf(d->name, sizeof d->name, "join:%s:%s", name, k ? "right" : "left") > 255)
            return weir_err_set(err, WEIR_EINVAL, "%s: a name this long has no table in the state store", name);
        int rc = weir_store_table_open(store, d->name, true, &d->tbl, err);
        if (rc == WEIR_OK)
            rc = read_side(s, d, err);
        if (rc)
            return weir_err_wrap(err, "state store: join records %s", d->name);
    }
    return WEIR_OK;
}

/* Side d's changes since the last seal, appended to its batch. */
static int seal_side(weir_join_state *s, jside *d, weir_buf *key, weir_buf *val, weir_err *err)
{
    int rc = weir_changes_add_deletes(&d->batch, &d->gone) ? weir_err_set(err, WEIR_ENOMEM, "out of memory") : WEIR_OK;
    d->gone.len = 0;
    for (size_t i = 0; i < d->ndirty; i++) { /* every listed entry is unlisted, even after a failure */
        jentry *e = d->dirty[i];
        if (e->flags & DROPPED) {
            free(e);
            continue;
        }
        e->flags = (uint8_t)((e->flags & ~LISTED) | STORED);
        if (rc)
            continue;
        uint8_t head[2] = {RECORD_VERSION, e->matched ? 1 : 0};
        key->len = val->len = 0;
        if ((rc = store_key(s, d, e, key, err)) == WEIR_OK &&
            (weir_buf_append(val, head, sizeof head) || weir_put_u64(val, e->seq) || weir_put_u64(val, (uint64_t)e->ts)))
            rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
        if (rc == WEIR_OK)
            rc = weir_rows_value(e->row, d->ncols, val, err);
        if (rc == WEIR_OK && weir_changes_add(&d->batch, key->data, key->len, val->data, val->len))
            rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
    }
    d->ndirty = 0;
    return rc ? weir_err_wrap(err, "%s", d->name) : WEIR_OK;
}

int weir_join_seal(weir_join_state *s, weir_err *err)
{
    weir_buf key = {0}, val = {0};
    int rc = WEIR_OK;
    for (int k = 0; k < 2; k++) { /* both sides, even after a failure: each unlists what it walks */
        int src = seal_side(s, &s->side[k], &key, &val, rc ? &(weir_err){0} : err);
        rc = rc ? rc : src;
    }
    weir_buf_free(&key);
    weir_buf_free(&val);
    return rc;
}

int weir_join_write(weir_join_state *s, weir_store_txn *txn, weir_err *err)
{
    for (int k = 0; k < 2; k++)
        if (weir_changes_write(txn, s->side[k].tbl, &s->side[k].batch, err))
            return weir_err_wrap(err, "%s", s->side[k].name);
    return WEIR_OK;
}

void weir_join_written(weir_join_state *s, bool committed)
{
    for (int k = 0; k < 2 && committed; k++)
        weir_buf_free(&s->side[k].batch);
}
