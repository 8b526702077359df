/*
 * join.c - the buffered records of an interval join (join.h says when a
 * record meets, is too late and is dropped).
 *
 * Each side keeps its records in a hash table by join key (chained, in
 * arrival order within a chain, so a record meets the other side's in the
 * order they came) and in a min-heap by (event time, arrival), which is
 * expiry order since every record lives span + grace past its event time:
 * a watermark that moves drops from the heap's top, never scanning.
 */
#include "exec/join.h"

#include <stdlib.h>
#include <string.h>

#include "exec/engine_internal.h"

typedef struct jentry {
    struct jentry *next;       /* in its hash chain */
    uint64_t hash;             /* of its key */
    uint64_t seq;              /* arrival order over both sides: ties in the heap, the order on restore */
    int64_t ts;                /* event time */
    size_t bytes;              /* allocated for it */
    bool matched;              /* met a record of the other side (an outer join emits it alone if not) */
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
} jside;

struct weir_join_state {
    const weir_join *j;
    jside side[2];
    uint32_t nparts;
    uint64_t seq;
    weir_value *row;           /* the joined row being emitted */
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
        free(d->heap);
        free(d->buckets);
        free(d->wm);
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

/* Keeps a copy of row on side d, last in its chain. */
static int keep(weir_join_state *s, jside *d, const weir_value *row, int64_t ts, uint64_t hash, uint64_t seq,
                bool matched)
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
    *e = (jentry){.hash = hash, .seq = seq, .ts = ts, .bytes = bytes, .matched = matched};
    e->row = weir_row_pack(e + 1, row, d->ncols);
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
        e->matched = matched = true;
        rc = emit(ctx, jr, lt > rt ? lt : rt, side);
    }
    if (rc)
        return rc;
    if (key->is_null) { /* meets nothing, ever: an outer join emits it at once */
        rc = outer(s, side) ? emit(ctx, joined(s, side ? NULL : row, side ? row : NULL), ts, side) : WEIR_OK;
    } else {
        rc = keep(s, d, row, ts, hash, s->seq, matched);
    }
    return rc ? rc : weir_join_advance(s, side, part, ts, emit, ctx);
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
        free(e);
        if (rc)
            return rc;
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
 * its values. */
int weir_join_save(const weir_join_state *s, weir_buf *out)
{
    int rc = weir_put_u64(out, s->seq);
    for (int k = 0; k < 2 && !rc; k++) {
        const jside *d = &s->side[k];
        for (uint32_t p = 0; p < s->nparts && !rc; p++)
            rc = weir_put_u64(out, (uint64_t)d->wm[p]);
        rc = rc || weir_put_u64(out, d->count);
        for (size_t i = 0; i < d->count && !rc; i++) {
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
            if (!r->bad && keep(s, d, row, ts, weir_value_hash(&row[d->key], SEED), seq, matched)) {
                free(row);
                return WEIR_ENOMEM;
            }
        }
        free(row);
        if (!d->count)
            continue;
        /* keep() appended each to its chain in the order saved (heap order): put the chains back in arrival order. */
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
    }
    return r->bad ? WEIR_ECORRUPT : WEIR_OK;
}
