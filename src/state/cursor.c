/*
 * cursor.c - scans of a table's keys over a range, forward or reverse,
 * in a snapshot or in the writer's transaction.
 *
 * LMDB orders keys as memcmp then length, the order key.h's encoding is
 * built for, so a range of keys is a walk between two positions: forward
 * from the first key at or past lo until hi; reverse from the last key
 * before hi down to lo. The bounds are copied into the cursor so callers
 * may build them in a scratch buffer.
 */
#include "state/store_internal.h"

#include <stdlib.h>
#include <string.h>

struct weir_store_cursor {
    weir_store *s;            /* the store, for messages */
    MDB_cursor *cur;          /* LMDB's cursor in the snapshot's or the writer's transaction */
    weir_store_txn *owner;    /* the writer's transaction, or NULL for a snapshot's cursor */
    unsigned dbi;             /* the table, for messages */
    unsigned generation;      /* owner's generation at open: a grown map voids the cursor */
    bool reverse;             /* from the end of the range down */
    bool started;             /* positioned at the first item already */
    bool has_lo, has_hi;      /* whether the range has each bound */
    MDB_val lo, hi;           /* the bounds, pointing into bounds[] */
    uint8_t bounds[];         /* lo's bytes then hi's */
};

static int key_cmp(const MDB_val *a, const MDB_val *b)
{
    size_t n = a->mv_size < b->mv_size ? a->mv_size : b->mv_size;
    int c = memcmp(a->mv_data, b->mv_data, n);
    return c ? c : (a->mv_size > b->mv_size) - (a->mv_size < b->mv_size);
}

static int scan(weir_store *s, MDB_txn *txn, weir_store_txn *owner, weir_store_table tbl,
                const weir_store_range *range, weir_store_cursor **out, weir_err *err)
{
    size_t lo_len = range->lo ? range->lo_len : 0, hi_len = range->hi ? range->hi_len : 0;
    weir_store_cursor *c = calloc(1, sizeof *c + lo_len + hi_len);
    if (!c)
        return weir_err_set(err, WEIR_ENOMEM, "state store %s: out of memory", s->file);
    c->s = s;
    c->owner = owner;
    c->generation = owner ? owner->generation : 0;
    c->reverse = range->reverse;
    c->has_lo = range->lo != NULL;
    c->has_hi = range->hi != NULL;
    if (lo_len)
        memcpy(c->bounds, range->lo, lo_len);
    if (hi_len)
        memcpy(c->bounds + lo_len, range->hi, hi_len);
    c->lo = (MDB_val){lo_len, c->bounds};
    c->hi = (MDB_val){hi_len, c->bounds + lo_len};
    c->dbi = tbl.dbi;
    int rc = mdb_cursor_open(txn, tbl.dbi, &c->cur);
    if (rc) {
        free(c);
        return store_fail(s, rc, "scanning", err);
    }
    *out = c;
    return WEIR_OK;
}

int weir_store_snap_scan(weir_store_snap *r, weir_store_table tbl, const weir_store_range *range,
                         weir_store_cursor **out, weir_err *err)
{
    return scan(r->s, r->txn, NULL, tbl, range, out, err);
}

int weir_store_txn_scan(weir_store_txn *t, weir_store_table tbl, const weir_store_range *range,
                        weir_store_cursor **out, weir_err *err)
{
    if (t->failed)
        return weir_err_set(err, t->failed, "state store %s: scanning in a transaction that failed before", t->s->file);
    return scan(t->s, t->txn, t, tbl, range, out, err);
}

/* Puts the cursor on the range's first item in its direction. */
static int position(weir_store_cursor *c, MDB_val *k, MDB_val *v)
{
    if (!c->reverse) {
        if (!c->has_lo || c->lo.mv_size == 0)
            return mdb_cursor_get(c->cur, k, v, MDB_FIRST);
        *k = c->lo;
        return mdb_cursor_get(c->cur, k, v, MDB_SET_RANGE);
    }
    if (!c->has_hi)
        return mdb_cursor_get(c->cur, k, v, MDB_LAST);
    if (c->hi.mv_size == 0)
        return MDB_NOTFOUND; /* no key is below the empty one */
    *k = c->hi;
    int rc = mdb_cursor_get(c->cur, k, v, MDB_SET_RANGE); /* the first key at or past hi: step back from it */
    if (rc == MDB_NOTFOUND)
        return mdb_cursor_get(c->cur, k, v, MDB_LAST);
    return rc ? rc : mdb_cursor_get(c->cur, k, v, MDB_PREV);
}

int weir_store_next(weir_store_cursor *c, const void **key, size_t *klen, const void **val, size_t *vlen,
                    bool *got, weir_err *err)
{
    *got = false;
    if (c->owner && c->owner->generation != c->generation)
        return weir_err_set(err, WEIR_EINVAL, "state store %s: a scan used after a write that moved the map "
                            "(a weir bug: scans of the writer end before its next write)", c->s->file);
    MDB_val k, v;
    int rc = c->started ? mdb_cursor_get(c->cur, &k, &v, c->reverse ? MDB_PREV : MDB_NEXT) : position(c, &k, &v);
    c->started = true;
    if (rc == MDB_NOTFOUND)
        return WEIR_OK;
    if (rc)
        return store_fail(c->s, rc, "scanning", err);
    if (c->reverse ? c->has_lo && key_cmp(&k, &c->lo) < 0 : c->has_hi && key_cmp(&k, &c->hi) >= 0)
        return WEIR_OK;
    if ((rc = store_value_check(c->s, c->dbi, &k, &v, err)) != 0)
        return rc;
    *key = k.mv_data;
    *klen = k.mv_size;
    *val = v.mv_data;
    *vlen = v.mv_size;
    *got = true;
    return WEIR_OK;
}

void weir_store_cursor_close(weir_store_cursor *c)
{
    if (!c)
        return;
    /* a cursor of a write transaction LMDB replaced is freed with it */
    if (!c->owner || c->owner->generation == c->generation)
        mdb_cursor_close(c->cur);
    free(c);
}
