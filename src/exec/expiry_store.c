/*
 * expiry_store.c - a windowed table's expiring rows (window_expiry.h) in
 * the state store, when the engine has one (docs/STATE_STORE.md).
 *
 * Table "expiry:" and the output's name. Key: the row's window end, window
 * start and group keys (state/rows.h's rule, so the store lists rows in
 * the order they expire); value: the row as window_expiry.c encodes it,
 * which gives the keys back even where the store key was cut.
 *
 * In memory, s->expiry holds only the rows the store may lack: a seal (on
 * the checkpoint's thread, the engine held) puts the rows listed since the
 * last seal into the query's batch and counts them (expiry_sealed); once
 * the batch has committed they leave memory. Rows always close later than
 * the ones before them, so those in the store come before those in
 * memory, and a take reads the store first, up to the first row still in
 * memory (a batch committing meanwhile puts it in both), then memory. A
 * row taken that the store has or will have (taken from it, or sealed) is
 * deleted by the next seal; the store's next scan starts past the last
 * such row taken.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/engine_internal.h"
#include "state/changes.h"
#include "state/rows.h"

/* The window end of the store's first row at or past lo (NULL: the
 * first), into *end (INT64_MAX: none). */
static int first_stored_end(const query_state *s, const weir_buf *lo, int64_t *end, weir_err *err)
{
    weir_store_snap *snap;
    weir_store_cursor *c = NULL;
    weir_store_range range = {lo ? lo->data : NULL, lo ? lo->len : 0, NULL, 0, false};
    *end = INT64_MAX;
    int rc = weir_store_snap_begin(s->store, &snap, err);
    if (rc)
        return rc;
    const void *key, *val;
    size_t klen, vlen;
    bool got = false;
    if ((rc = weir_store_snap_scan(snap, s->expiry_tbl, &range, &c, err)) == WEIR_OK &&
        (rc = weir_store_next(c, &key, &klen, &val, &vlen, &got, err)) == WEIR_OK && got) {
        weir_reader_buf r = {val, (const uint8_t *)val + vlen, false};
        *end = (int64_t)weir_get_u64(&r);
        if (r.bad)
            rc = weir_err_set(err, WEIR_ECORRUPT, "state store: an expiring row of %s is damaged", s->q->output->name);
    }
    weir_store_cursor_close(c);
    weir_store_snap_end(snap);
    return rc;
}

int engine_expiry_attach(query_state *s, weir_store *store, weir_err *err)
{
    char name[300];
    if (snprintf(name, sizeof name, "expiry:%s", s->q->output->name) > 255)
        return weir_err_set(err, WEIR_EINVAL, "%s: a name this long has no table in the state store (248 bytes at most)",
                            s->q->output->name);
    int rc = weir_store_table_open(store, name, true, &s->expiry_tbl, err);
    s->expiry_stored = rc == WEIR_OK;
    s->store = store;
    s->expiry_sealed = 0;
    s->expiry_after.len = 0;
    return rc ? rc : first_stored_end(s, NULL, &s->expiry_store_first, err);
}

int64_t engine_expiry_first_end(const query_state *s)
{
    int64_t listed = weir_expiry_first_end(s->expiry);
    return s->expiry_stored && s->expiry_store_first < listed ? s->expiry_store_first : listed;
}

int engine_expiry_clear(const query_state *s, weir_store *store, weir_store_txn *txn, weir_err *err)
{
    char name[300];
    weir_store_table t;
    snprintf(name, sizeof name, "expiry:%s", s->q->output->name);
    int rc = weir_store_table_open(store, name, false, &t, err);
    if (rc == WEIR_ENOENT)
        return WEIR_OK;
    return rc ? rc : weir_store_clear(txn, t, err);
}

/* The store key of a row into out (emptied first). */
static int key_of(const query_state *s, const weir_value *keys, int64_t ws, int64_t we, weir_buf *out, weir_err *err)
{
    weir_value stack[18], *vals = s->q->nkeys < 16 ? stack : malloc((size_t)(s->q->nkeys + 2) * sizeof *vals);
    if (!vals)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    vals[0] = weir_timestamp(we);
    vals[1] = weir_timestamp(ws);
    memcpy(vals + 2, keys, (size_t)s->q->nkeys * sizeof *vals);
    out->len = 0;
    int rc = weir_rows_key(s->store, vals, NULL, s->q->nkeys + 2, out, err);
    if (vals != stack)
        free(vals);
    return rc;
}

static int note_taken_key(query_state *s, const void *key, size_t len, weir_err *err)
{
    if (weir_put_bytes(&s->expiry_taken, key, (uint32_t)len))
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    return WEIR_OK;
}

/* Every row the store has or will have up to key has been taken: its
 * next scan starts past it (a row taken from memory may reach the store
 * with the batch in flight, and leave it only with the next). */
static int taken_upto(query_state *s, const void *key, size_t len, weir_err *err)
{
    s->expiry_after.len = 0;
    if (weir_buf_append(&s->expiry_after, key, len))
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    return WEIR_OK;
}

typedef struct taking {
    query_state *s;
    weir_expiry_fn fn;
    void *ctx;
    weir_err *err;
    weir_buf key;
} taking;

/* A row taken from memory: if it was sealed, the store is to forget it too. */
static int take_listed(void *ctx, const weir_value *keys, int64_t ws, int64_t we)
{
    taking *tk = ctx;
    query_state *s = tk->s;
    int rc = tk->fn(tk->ctx, keys, ws, we);
    if (rc || !s->expiry_sealed)
        return rc;
    s->expiry_sealed--;
    if ((rc = key_of(s, keys, ws, we, &tk->key, tk->err)) == WEIR_OK)
        rc = note_taken_key(s, tk->key.data, tk->key.len, tk->err);
    return rc ? rc : taken_upto(s, tk->key.data, tk->key.len, tk->err);
}

/* Stops weir_expiry_each at the first row, having made its store key. */
static int first_key(void *ctx, const weir_value *keys, int64_t ws, int64_t we)
{
    taking *tk = ctx;
    return key_of(tk->s, keys, ws, we, &tk->key, tk->err) ? -1 : 1;
}

/* The rows the store holds past the last taken and before the first
 * still in memory, while their windows end by upto. */
static int take_stored(query_state *s, int64_t upto, taking *tk, weir_err *err)
{
    weir_buf lo = {0};
    weir_store_range range = {0};
    if (s->expiry_sealed && weir_expiry_each(s->expiry, 0, first_key, tk) < 0)
        return err->code;
    if (s->expiry_sealed) {
        range.hi = tk->key.data;
        range.hi_len = tk->key.len;
    }
    if (s->expiry_after.len) { /* the least key past the last taken: it and a zero byte */
        if (weir_buf_append(&lo, s->expiry_after.data, s->expiry_after.len) || weir_buf_append(&lo, "", 1))
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        range.lo = lo.data;
        range.lo_len = lo.len;
    }
    weir_store_snap *snap;
    weir_store_cursor *c = NULL;
    weir_value stack[16], *keys = s->q->nkeys <= 16 ? stack : malloc((size_t)s->q->nkeys * sizeof *keys);
    int rc = keys ? weir_store_snap_begin(s->store, &snap, err) : weir_err_set(err, WEIR_ENOMEM, "out of memory");
    if (rc) {
        weir_buf_free(&lo);
        if (keys != stack)
            free(keys);
        return rc;
    }
    rc = weir_store_snap_scan(snap, s->expiry_tbl, &range, &c, err);
    s->expiry_store_first = INT64_MAX; /* unless a row past upto is found; those in flight come at their commit */
    for (bool got = true; rc == WEIR_OK;) {
        const void *key, *val;
        size_t klen, vlen;
        if ((rc = weir_store_next(c, &key, &klen, &val, &vlen, &got, err)) || !got)
            break;
        weir_reader_buf r = {val, (const uint8_t *)val + vlen, false};
        int64_t ws, we;
        if (!weir_expiry_get_row(&r, s->q->nkeys, keys, &ws, &we) || r.p != r.end) {
            rc = weir_err_set(err, WEIR_ECORRUPT, "state store: an expiring row of %s is damaged", s->q->output->name);
            break;
        }
        if (we > upto) {
            s->expiry_store_first = we;
            break;
        }
        if ((rc = tk->fn(tk->ctx, keys, ws, we)) || (rc = note_taken_key(s, key, klen, err)))
            break;
        rc = taken_upto(s, key, klen, err);
    }
    weir_store_cursor_close(c);
    weir_store_snap_end(snap);
    weir_buf_free(&lo);
    if (keys != stack)
        free(keys);
    return rc;
}

int engine_expiry_take(query_state *s, int64_t upto, weir_expiry_fn fn, void *ctx, weir_err *err)
{
    taking tk = {s, fn, ctx, err, {0}};
    int rc = s->expiry_stored ? take_stored(s, upto, &tk, err) : WEIR_OK;
    if (rc == WEIR_OK)
        rc = weir_expiry_take(s->expiry, upto, s->expiry_stored ? take_listed : fn, s->expiry_stored ? (void *)&tk : ctx);
    weir_buf_free(&tk.key);
    return rc;
}

typedef struct sealing {
    query_state *s;
    weir_err *err;
    weir_buf key, val;
} sealing;

static int put_row(void *ctx, const weir_value *keys, int64_t ws, int64_t we)
{
    sealing *sl = ctx;
    sl->val.len = 0;
    if (key_of(sl->s, keys, ws, we, &sl->key, sl->err))
        return -1;
    if (weir_expiry_put_row(&sl->val, sl->s->q->nkeys, keys, ws, we) ||
        weir_changes_add(&sl->s->expiry_batch, sl->key.data, sl->key.len, sl->val.data, sl->val.len)) {
        weir_err_set(sl->err, WEIR_ENOMEM, "out of memory");
        return -1;
    }
    return 0;
}

int engine_expiry_seal(query_state *s, weir_err *err)
{
    int rc = WEIR_OK;
    for (size_t at = 0; at < s->expiry_taken.len && rc == WEIR_OK;) {
        uint32_t len;
        memcpy(&len, s->expiry_taken.data + at, sizeof len);
        if (weir_changes_add(&s->expiry_batch, s->expiry_taken.data + at + sizeof len, len, NULL, 0))
            rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
        at += sizeof len + len;
    }
    sealing sl = {s, err, {0}, {0}};
    if (rc == WEIR_OK && weir_expiry_each(s->expiry, s->expiry_sealed, put_row, &sl))
        rc = err->code;
    weir_buf_free(&sl.key);
    weir_buf_free(&sl.val);
    if (rc)
        return weir_err_wrap(err, "expiring rows of %s", s->q->output->name);
    s->expiry_taken.len = 0;
    s->expiry_sealed = weir_expiry_rows(s->expiry);
    return WEIR_OK;
}

int engine_expiry_write(query_state *s, weir_store_txn *txn, weir_err *err)
{
    if (weir_changes_write(txn, s->expiry_tbl, &s->expiry_batch, err))
        return weir_err_wrap(err, "expiring rows of %s", s->q->output->name);
    return WEIR_OK;
}

void engine_expiry_written(query_state *s, bool committed)
{
    if (!committed)
        return; /* the batch goes again, first, with the next */
    if (s->expiry_sealed && s->expiry_store_first == INT64_MAX) /* the sealed rows come first in the store now */
        s->expiry_store_first = weir_expiry_first_end(s->expiry);
    weir_expiry_drop(s->expiry, s->expiry_sealed);
    s->expiry_sealed = 0;
    weir_buf_free(&s->expiry_batch);
}

void engine_expiry_free(query_state *s)
{
    weir_buf_free(&s->expiry_batch);
    weir_buf_free(&s->expiry_taken);
    weir_buf_free(&s->expiry_after);
}
