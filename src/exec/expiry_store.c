/*
 * expiry_store.c - a windowed table's expiring rows (window_expiry.h) in
 * the state store, when the engine has one (docs/STATE_STORE.md).
 *
 * Table "expiry:" and the output's name (and an engine per partition's
 * suffix, weir_engine_options.store_suffix). Key: the row's listing number, a
 * u64 big-endian (1 up, given at the seal that writes it), so the store
 * keeps the rows in the order the queue lists them and the two never
 * disagree on which comes first; value: the row as window_expiry.c
 * encodes it.
 *
 * In memory, s->expiry holds only the rows the store may lack: a seal (on
 * the checkpoint's thread, the engine held) numbers the rows listed since
 * the last seal, puts them into the query's batch and counts them
 * (expiry_sealed); once the batch has committed they leave memory. The
 * rows in the store come before those in memory, so a take reads the
 * store first, past the last row taken and before the first row still in
 * memory (a batch committing meanwhile puts that one in both), then
 * memory, as the queue would: from the front, while the front row's
 * window ends by the bound. A row taken that the store has or will have
 * (read from it, or sealed) is deleted by the next seal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/engine_internal.h"
#include "state/changes.h"

#define TAKE_CHUNK 256 /* rows read from the store per snapshot: the snapshot ends before they are removed */

static void key_of(uint64_t n, uint8_t key[8])
{
    for (int i = 7; i >= 0; i--, n >>= 8)
        key[i] = (uint8_t)n;
}

static uint64_t number_of(const void *key, size_t len)
{
    uint64_t n = 0;
    for (size_t i = 0; i < len && i < 8; i++)
        n = n << 8 | ((const uint8_t *)key)[i];
    return len == 8 ? n : 0;
}

static int damaged(const query_state *s, weir_err *err)
{
    return weir_err_set(err, WEIR_ECORRUPT, "state store: an expiring row of table %s is damaged; `weir serve --reset` "
                        "rebuilds the store from the retained inputs", s->q->output->name);
}

/* The store's first row numbered past `after` (reverse: its last row):
 * its number and window end, or 0 and INT64_MAX when none. */
static int stored_edge(const query_state *s, uint64_t after, bool reverse, uint64_t *n, int64_t *end, weir_err *err)
{
    uint8_t lo[8];
    key_of(after + 1, lo);
    weir_store_range range = {after ? lo : NULL, after ? 8 : 0, NULL, 0, reverse};
    weir_store_snap *snap;
    weir_store_cursor *c = NULL;
    *n = 0;
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
        if (r.bad || !(*n = number_of(key, klen)))
            rc = damaged(s, err);
    }
    weir_store_cursor_close(c);
    weir_store_snap_end(snap);
    return rc;
}

int engine_expiry_attach(query_state *s, weir_store *store, const char *suffix, weir_err *err)
{
    char name[300];
    if (snprintf(name, sizeof name, "expiry:%s%s", s->q->output->name, suffix) > 255)
        return weir_err_set(err, WEIR_EINVAL, "%s: a name this long has no table in the state store (%zu bytes at most)",
                            s->q->output->name, (size_t)248 - strlen(suffix));
    int rc = weir_store_table_open(store, name, true, &s->expiry_tbl, err);
    if (rc)
        return rc;
    s->expiry_stored = true;
    s->store = store;
    s->expiry_sealed = s->expiry_after = 0;
    uint64_t last, first;
    int64_t end;
    if ((rc = stored_edge(s, 0, true, &last, &end, err)) == WEIR_OK)
        rc = stored_edge(s, 0, false, &first, &s->expiry_store_first, err);
    s->expiry_next = last + 1;
    return rc;
}

int engine_expiry_clear(const query_state *s, weir_store *store, const char *suffix, weir_store_txn *txn, weir_err *err)
{
    char name[300];
    weir_store_table t;
    snprintf(name, sizeof name, "expiry:%s%s", s->q->output->name, suffix);
    int rc = weir_store_table_open(store, name, false, &t, err);
    if (rc == WEIR_ENOENT)
        return WEIR_OK;
    return rc ? rc : weir_store_clear(txn, t, err);
}

int64_t engine_expiry_first_end(const query_state *s)
{
    int64_t listed = weir_expiry_first_end(s->expiry);
    return s->expiry_stored && s->expiry_store_first < listed ? s->expiry_store_first : listed;
}

/* Row number n, which the store has or will have, was taken. */
static int taken(query_state *s, uint64_t n, weir_err *err)
{
    if (weir_put_u64(&s->expiry_taken, n))
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    if (n > s->expiry_after)
        s->expiry_after = n;
    return WEIR_OK;
}

typedef struct taking {
    query_state *s;
    weir_expiry_fn fn;
    void *ctx;
    weir_err *err;
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
    return taken(s, s->expiry_front++, tk->err);
}

/* Up to TAKE_CHUNK rows from the store, past the last taken and before the
 * first still in memory, while their windows end by upto: their numbers
 * and values copied into *rows (u64 number, u32 length, bytes each) so
 * that the snapshot ends before they are removed. *more: the chunk filled. */
static int read_chunk(query_state *s, int64_t upto, weir_buf *rows, bool *more, weir_err *err)
{
    uint8_t lo[8], hi[8];
    key_of(s->expiry_after + 1, lo);
    key_of(s->expiry_front, hi);
    weir_store_range range = {lo, 8, s->expiry_sealed ? hi : NULL, s->expiry_sealed ? 8 : 0, false};
    weir_store_snap *snap;
    weir_store_cursor *c = NULL;
    int rc = weir_store_snap_begin(s->store, &snap, err);
    if (rc)
        return rc;
    rc = weir_store_snap_scan(snap, s->expiry_tbl, &range, &c, err);
    s->expiry_store_first = INT64_MAX; /* unless a row past upto is found; those in flight come at their commit */
    unsigned n = 0;
    for (bool got = true; rc == WEIR_OK && n < TAKE_CHUNK; n++) {
        const void *key, *val;
        size_t klen, vlen;
        if ((rc = weir_store_next(c, &key, &klen, &val, &vlen, &got, err)) || !got)
            break;
        int64_t end;
        if (vlen < 8 || !number_of(key, klen)) {
            rc = damaged(s, err);
            break;
        }
        memcpy(&end, val, sizeof end);
        if (end > upto) {
            s->expiry_store_first = end;
            break;
        }
        if (weir_put_u64(rows, number_of(key, klen)) || weir_put_bytes(rows, val, (uint32_t)vlen))
            rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
    }
    *more = n == TAKE_CHUNK;
    weir_store_cursor_close(c);
    weir_store_snap_end(snap);
    return rc;
}

/* The rows the store holds that come before memory's, while their windows end by upto. */
static int take_stored(query_state *s, int64_t upto, taking *tk, weir_err *err)
{
    weir_buf rows = {0};
    weir_value stack[16], *keys = s->q->nkeys <= 16 ? stack : malloc((size_t)s->q->nkeys * sizeof *keys);
    int rc = keys ? WEIR_OK : weir_err_set(err, WEIR_ENOMEM, "out of memory");
    for (bool more = true; rc == WEIR_OK && more;) {
        rows.len = 0;
        rc = read_chunk(s, upto, &rows, &more, err);
        weir_reader_buf r = {rows.data, rows.data + rows.len, false};
        while (rc == WEIR_OK && r.p < r.end) {
            uint64_t n = weir_get_u64(&r);
            uint32_t len;
            const uint8_t *p = weir_get_bytes(&r, &len);
            weir_reader_buf row = {p, p + len, false};
            int64_t ws, we;
            if (!p || !weir_expiry_get_row(&row, s->q->nkeys, keys, &ws, &we) || row.p != row.end)
                rc = damaged(s, err);
            else if ((rc = tk->fn(tk->ctx, keys, ws, we)) == WEIR_OK)
                rc = taken(s, n, err);
        }
    }
    weir_buf_free(&rows);
    if (keys != stack)
        free(keys);
    return rc;
}

int engine_expiry_take(query_state *s, int64_t upto, weir_expiry_fn fn, void *ctx, weir_err *err)
{
    taking tk = {s, fn, ctx, err};
    int rc = s->expiry_stored ? take_stored(s, upto, &tk, err) : WEIR_OK;
    if (rc == WEIR_OK)
        rc = weir_expiry_take(s->expiry, upto, s->expiry_stored ? take_listed : fn, s->expiry_stored ? (void *)&tk : ctx);
    return rc == WEIR_ECORRUPT && !err->code ? damaged(s, err) : rc;
}

typedef struct sealing {
    query_state *s;
    weir_err *err;
    weir_buf val;
} sealing;

static int put_row(void *ctx, const weir_value *keys, int64_t ws, int64_t we)
{
    sealing *sl = ctx;
    query_state *s = sl->s;
    uint8_t key[8];
    key_of(s->expiry_next++, key);
    sl->val.len = 0;
    if (weir_expiry_put_row(&sl->val, s->q->nkeys, keys, ws, we) ||
        weir_changes_add(&s->expiry_batch, key, sizeof key, sl->val.data, sl->val.len))
        return weir_err_set(sl->err, WEIR_ENOMEM, "out of memory");
    return WEIR_OK;
}

int engine_expiry_seal(query_state *s, weir_err *err)
{
    int rc = WEIR_OK;
    for (size_t at = 0; at + 8 <= s->expiry_taken.len && rc == WEIR_OK; at += 8) {
        uint64_t n;
        uint8_t key[8];
        memcpy(&n, s->expiry_taken.data + at, sizeof n);
        key_of(n, key);
        if (weir_changes_add(&s->expiry_batch, key, sizeof key, NULL, 0))
            rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
    }
    if (!s->expiry_sealed)
        s->expiry_front = s->expiry_next; /* the first row sealed now is the queue's front */
    sealing sl = {s, err, {0}};
    if (rc == WEIR_OK && (rc = weir_expiry_each(s->expiry, s->expiry_sealed, put_row, &sl)) == WEIR_ECORRUPT)
        rc = damaged(s, err);
    weir_buf_free(&sl.val);
    if (rc) /* the batch holds puts of numbers now given: no more seals (the engine's error stops the pipeline) */
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
    if (s->expiry_sealed && s->expiry_store_first == INT64_MAX) /* the sealed rows follow the store's last now */
        s->expiry_store_first = weir_expiry_first_end(s->expiry);
    weir_expiry_drop(s->expiry, s->expiry_sealed);
    s->expiry_sealed = 0;
    weir_buf_free(&s->expiry_batch);
}

void engine_expiry_free(query_state *s)
{
    weir_buf_free(&s->expiry_batch);
    weir_buf_free(&s->expiry_taken);
}
