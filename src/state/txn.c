/*
 * txn.c - the writer's transactions and readers' snapshots over LMDB.
 *
 * A write transaction keeps every put and del it made (redo) until it
 * ends, because LMDB's answer to a full map (MDB_MAP_FULL, from a put or
 * from the commit) leaves the transaction unusable: the map is doubled
 * (store_grow), a new transaction begun, and redo applied to it. That is
 * the same state, since the writer is the only one: nothing else changed
 * the store in between. So callers never see a full map, at the cost of a
 * copy of what they write.
 *
 * A snapshot holds the store's map_lock shared for its life, which is
 * what lets the writer move the map when it grows.
 */
#include "state/store_internal.h"

#include <stdlib.h>
#include <string.h>

enum { OP_PUT = 1, OP_DEL = 2, OP_CLEAR = 3 };

/* A redo entry: this header, then the key, then (for a put) the value. */
typedef struct redo_op {
    uint32_t kind;        /* OP_PUT, OP_DEL or OP_CLEAR (no key, no value) */
    uint32_t dbi;         /* the table */
    size_t klen, vlen;    /* bytes of key and value that follow */
} redo_op;

/* Grows the map at most this many times for one write: each doubles it. */
#define MAX_GROWS 16

/* Begins LMDB's write transaction, taking a map another process grew
 * (the writer holds no snapshot: see store.h); until one commits, each
 * also writes the store's format marker (format.c). */
static int begin_write(weir_store *s, MDB_txn **txn, weir_err *err)
{
    for (;;) {
        int rc = mdb_txn_begin(s->env, NULL, 0, txn);
        if (rc == 0 && (rc = store_format_put(s, *txn)) != 0) {
            mdb_txn_abort(*txn);
            *txn = NULL;
            return store_fail(s, rc, "marking its format", err);
        }
        if (rc != MDB_MAP_RESIZED)
            return rc ? store_fail(s, rc, "beginning a write", err) : WEIR_OK;
        if ((rc = store_adopt_size(s, err)) != 0)
            return rc;
    }
}

_Thread_local bool store_writer_here;

int weir_store_begin(weir_store *s, weir_store_txn **out, weir_err *err)
{
    if (s->read_only)
        return weir_err_set(err, WEIR_EINVAL, "state store %s: writing to a store opened read-only", s->file);
    weir_store_txn *t = calloc(1, sizeof *t);
    if (!t)
        return weir_err_set(err, WEIR_ENOMEM, "state store %s: out of memory", s->file);
    t->s = s;
    pthread_mutex_lock(&s->writer_lock); /* until commit or abort: weir_store_release waits for no writer */
    store_writer_here = true;
    int rc = begin_write(s, &t->txn, err);
    if (rc) {
        store_writer_here = false;
        pthread_mutex_unlock(&s->writer_lock);
        free(t);
        return rc;
    }
    *out = t;
    return WEIR_OK;
}

static int apply(const weir_store *s, MDB_txn *txn, const redo_op *op, const uint8_t *key, const uint8_t *val)
{
    MDB_val k = {op->klen, (void *)key}, v = {store_value_size(s, op->vlen), NULL};
    if (op->kind == OP_PUT) { /* the value, and its checksum, written into the room LMDB reserves */
        int rc = mdb_put(txn, op->dbi, &k, &v, MDB_RESERVE);
        if (rc == 0)
            store_value_write(s, &k, val, op->vlen, v.mv_data);
        return rc;
    }
    if (op->kind == OP_CLEAR)
        return mdb_drop(txn, op->dbi, 0);
    int rc = mdb_del(txn, op->dbi, &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The map was full: grows it, begins again and applies redo, as often as
 * that is full too (up to MAX_GROWS). */
static int grow_and_redo(weir_store_txn *t, weir_err *err)
{
    weir_store *s = t->s;
    for (int grows = 0;; grows++) {
        if (t->txn) {
            mdb_txn_abort(t->txn);
            t->txn = NULL;
        }
        t->generation++;
        if (grows == MAX_GROWS)
            return store_fail(s, MDB_MAP_FULL, "writing", err);
        int rc = store_grow(s, err);
        if (rc == WEIR_OK)
            rc = begin_write(s, &t->txn, err);
        if (rc)
            return rc;
        size_t pos = 0;
        while (rc == 0 && pos < t->redo.len) {
            redo_op op;
            memcpy(&op, t->redo.data + pos, sizeof op);
            const uint8_t *key = t->redo.data + pos + sizeof op;
            rc = apply(s, t->txn, &op, key, key + op.klen);
            pos += sizeof op + op.klen + op.vlen;
        }
        if (rc == 0)
            return WEIR_OK;
        if (rc != MDB_MAP_FULL)
            return store_fail(s, rc, "writing again in a larger map", err);
    }
}

/* Records a put or del in redo, then applies it. */
static int write_op(weir_store_txn *t, uint32_t kind, weir_store_table tbl, const void *key, size_t klen,
                    const void *val, size_t vlen, bool *existed, weir_err *err)
{
    weir_store *s = t->s;
    if (t->failed)
        return weir_err_set(err, t->failed, "state store %s: writing in a transaction that failed before", s->file);
    if (atomic_load(&s->unmap_every) && ++s->writes_unmapped >= atomic_load(&s->unmap_every)) { /* the pages this transaction read (weir_store_unmap_every) */
        s->writes_unmapped = 0;
        weir_store_unmap(s);
    }
    int rc = kind == OP_CLEAR ? WEIR_OK : store_check_key(s, tbl.dbi, klen, err);
    if (rc)
        return rc;
    redo_op op = {kind, tbl.dbi, klen, vlen};
    if (weir_buf_reserve(&t->redo, sizeof op + klen + vlen))
        return t->failed = weir_err_set(err, WEIR_ENOMEM, "state store %s: out of memory", s->file);
    uint8_t *at = t->redo.data + t->redo.len; /* room reserved above */
    memcpy(at, &op, sizeof op);
    if (klen) /* a clear has no key */
        memcpy(at + sizeof op, key, klen);
    if (vlen)
        memcpy(at + sizeof op + klen, val, vlen);
    t->redo.len += sizeof op + klen + vlen;
    if (existed) {
        MDB_val k = {klen, (void *)key}, v;
        rc = mdb_get(t->txn, tbl.dbi, &k, &v);
        *existed = rc == 0;
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    if (rc == 0)
        rc = apply(s, t->txn, &op, at + sizeof op, at + sizeof op + klen);
    if (rc == 0)
        return WEIR_OK;
    if (rc == MDB_MAP_FULL)
        rc = grow_and_redo(t, err);
    else
        rc = store_fail(s, rc, kind == OP_PUT ? "writing" : kind == OP_DEL ? "deleting" : "emptying a table", err);
    if (rc)
        t->failed = rc;
    return rc;
}

int weir_store_put(weir_store_txn *t, weir_store_table tbl, const void *key, size_t klen,
                   const void *val, size_t vlen, weir_err *err)
{
    return write_op(t, OP_PUT, tbl, key, klen, val, vlen, NULL, err);
}

int weir_store_del(weir_store_txn *t, weir_store_table tbl, const void *key, size_t klen, bool *existed,
                   weir_err *err)
{
    return write_op(t, OP_DEL, tbl, key, klen, NULL, 0, existed, err);
}

int weir_store_clear(weir_store_txn *t, weir_store_table tbl, weir_err *err)
{
    return write_op(t, OP_CLEAR, tbl, NULL, 0, NULL, 0, NULL, err);
}

static int get(weir_store *s, MDB_txn *txn, weir_store_table tbl, const void *key, size_t klen,
               const void **val, size_t *vlen, bool *found, weir_err *err)
{
    int rc = store_check_key(s, tbl.dbi, klen, err);
    if (rc)
        return rc;
    MDB_val k = {klen, (void *)key}, v;
    rc = mdb_get(txn, tbl.dbi, &k, &v);
    *found = rc == 0;
    if (rc == MDB_NOTFOUND)
        return WEIR_OK;
    if (rc)
        return store_fail(s, rc, "reading", err);
    if ((rc = store_value_check(s, tbl.dbi, &k, &v, err)) != 0)
        return rc;
    *val = v.mv_data;
    *vlen = v.mv_size;
    return WEIR_OK;
}

int weir_store_get(weir_store_txn *t, weir_store_table tbl, const void *key, size_t klen,
                   const void **val, size_t *vlen, bool *found, weir_err *err)
{
    if (t->failed)
        return weir_err_set(err, t->failed, "state store %s: reading in a transaction that failed before", t->s->file);
    return get(t->s, t->txn, tbl, key, klen, val, vlen, found, err);
}

int weir_store_commit(weir_store_txn *t, weir_err *err)
{
    weir_store *s = t->s;
    int rc = t->failed;
    if (rc)
        weir_err_set(err, rc, "state store %s: committing a transaction that failed before: nothing was written",
                     s->file);
    while (rc == 0) {
        int lrc = mdb_txn_commit(t->txn); /* frees t->txn, committed or not */
        t->txn = NULL;
        if (lrc == 0) {
            s->format = WEIR_STORE_FORMAT; /* the marker went with it */
            break;
        }
        if (lrc != MDB_MAP_FULL)
            rc = store_fail(s, lrc, "committing", err);
        else
            rc = grow_and_redo(t, err);
    }
    weir_store_abort(t);
    return rc;
}

void weir_store_abort(weir_store_txn *t)
{
    if (!t)
        return;
    if (t->txn)
        mdb_txn_abort(t->txn);
    weir_buf_free(&t->redo);
    store_writer_here = false;
    pthread_mutex_unlock(&t->s->writer_lock);
    free(t);
}

int weir_store_snap_begin(weir_store *s, weir_store_snap **out, weir_err *err)
{
    weir_store_snap *r = calloc(1, sizeof *r);
    if (!r)
        return weir_err_set(err, WEIR_ENOMEM, "state store %s: out of memory", s->file);
    r->s = s;
    for (;;) {
        int rc = pthread_rwlock_rdlock(&s->map_lock);
        if (rc) {
            free(r);
            return weir_err_errno(err, rc, "state store %s: taking a snapshot: lock", s->file);
        }
        rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &r->txn);
        if (rc == 0) {
            *out = r;
            return WEIR_OK;
        }
        pthread_rwlock_unlock(&s->map_lock);
        rc = rc == MDB_MAP_RESIZED ? store_adopt_size(s, err) : store_fail(s, rc, "taking a snapshot", err);
        if (rc) {
            free(r);
            return rc;
        }
    }
}

int weir_store_snap_get(weir_store_snap *r, weir_store_table tbl, const void *key, size_t klen,
                        const void **val, size_t *vlen, bool *found, weir_err *err)
{
    return get(r->s, r->txn, tbl, key, klen, val, vlen, found, err);
}

int weir_store_snap_count(weir_store_snap *r, weir_store_table tbl, uint64_t *n, weir_err *err)
{
    MDB_stat st;
    int rc = mdb_stat(r->txn, tbl.dbi, &st);
    if (rc)
        return store_fail(r->s, rc, "counting a table's keys", err);
    *n = st.ms_entries;
    return WEIR_OK;
}

void weir_store_snap_end(weir_store_snap *r)
{
    if (!r)
        return;
    mdb_txn_abort(r->txn);
    pthread_rwlock_unlock(&r->s->map_lock);
    free(r);
}
