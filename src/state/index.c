/*
 * index.c - ordered indexes of a table's rows in the state store (index.h):
 * entry and marker keys, and the writer's upkeep of the entries beside
 * the rows in one transaction.
 */
#include "state/index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "state/changes.h"
#include "state/key.h"
#include "state/rows.h"

#define HASH_BYTES 8 /* as rows.c cuts a key */

int weir_index_table(weir_store *s, const char *name, bool create, weir_store_table *t, weir_err *err)
{
    char full[300];
    if (snprintf(full, sizeof full, "index:%s", name) > 255)
        return weir_err_set(err, WEIR_EINVAL, "table %s: a name this long has no index in the state store (249 bytes at most)",
                            name);
    return weir_store_table_open(s, full, create, t, err);
}

static int nomem(weir_err *err) { return weir_err_set(err, WEIR_ENOMEM, "out of memory"); }

/* Appends one value, an error value as NULL of its type (rows.h). */
static int encode(weir_buf *out, const weir_value *v, weir_err *err)
{
    weir_value x = *v;
    if (x.err)
        x = weir_null((weir_type)x.type);
    return weir_key_encode(out, &x, 1, err);
}

int weir_index_key(const weir_store *s, const weir_relation *table, const weir_value *row, int col, weir_buf *out,
                   weir_err *err)
{
    size_t from = out->len;
    weir_value c = weir_uint((uint64_t)col);
    int rc = weir_key_encode(out, &c, 1, err);
    if (rc == WEIR_OK)
        rc = encode(out, &row[col], err);
    for (int i = 0; i < table->npk && rc == WEIR_OK; i++)
        rc = encode(out, &row[table->pk[i]], err);
    size_t max = weir_store_max_key(s), len = out->len - from;
    if (rc || len <= max)
        return rc;
    uint64_t h = XXH64(out->data + from, len, 0);
    out->len = from + max - HASH_BYTES;
    uint8_t tail[HASH_BYTES];
    for (int i = 0; i < HASH_BYTES; i++)
        tail[i] = (uint8_t)(h >> (56 - 8 * i));
    return weir_buf_append(out, tail, sizeof tail) ? nomem(err) : WEIR_OK;
}

bool weir_index_key_cut(const weir_store *s, size_t klen) { return klen >= weir_store_max_key(s); }

int weir_index_range(int col, weir_buf *lo, weir_buf *hi, weir_err *err)
{
    size_t from = lo->len;
    weir_value c = weir_uint((uint64_t)col);
    bool bounded;
    int rc = weir_key_encode(lo, &c, 1, err);
    return rc ? rc : weir_key_prefix_end(lo->data + from, lo->len - from, hi, &bounded, err);
}

static int marker_key(int col, weir_buf *out, weir_err *err)
{
    weir_value m[2] = {weir_null(WEIR_TYPE_UINT), weir_uint((uint64_t)col)};
    return weir_key_encode(out, m, 2, err);
}

static int marker_value(const weir_relation *table, int col, weir_buf *out, weir_err *err)
{
    uint8_t head[2] = {WEIR_INDEX_VERSION, (uint8_t)table->schema.cols[col].type};
    return weir_buf_append(out, head, 2) || weir_buf_append_str(out, table->schema.cols[col].name) ? nomem(err) : WEIR_OK;
}

/* Whether a marker's value says column col of table's schema, as it is now. */
static bool marker_matches(const weir_relation *table, int col, const uint8_t *val, size_t vlen)
{
    if (col < 0 || col >= table->schema.ncols || col >= WEIR_INDEX_MAX_COLS)
        return false;
    const weir_column *c = &table->schema.cols[col];
    size_t n = strlen(c->name);
    return vlen == 2 + n && val[0] == WEIR_INDEX_VERSION && val[1] == (uint8_t)c->type && !memcmp(val + 2, c->name, n);
}

int weir_index_snap_built(weir_store_snap *snap, weir_store_table t, const weir_relation *table, int col, bool *built,
                          weir_err *err)
{
    weir_buf key = {0};
    const void *val;
    size_t vlen;
    bool found = false;
    int rc = marker_key(col, &key, err);
    if (rc == WEIR_OK)
        rc = weir_store_snap_get(snap, t, key.data, key.len, &val, &vlen, &found, err);
    *built = rc == WEIR_OK && found && marker_matches(table, col, val, vlen);
    weir_buf_free(&key);
    return rc;
}

int weir_index_marker_col(const weir_relation *table, const void *key, size_t klen, const void *val, size_t vlen)
{
    weir_value m[2];
    int n;
    weir_err ignored = {0};
    weir_arena arena = {0};
    int rc = weir_key_decode(key, klen, m, 2, &n, &arena, &ignored);
    bool is = rc == WEIR_OK && n == 2 && m[0].is_null && m[0].type == WEIR_TYPE_UINT && !m[1].is_null &&
              m[1].type == WEIR_TYPE_UINT && m[1].u < WEIR_INDEX_MAX_COLS && marker_matches(table, (int)m[1].u, val, vlen);
    weir_arena_free(&arena);
    return is ? (int)m[1].u : -1;
}

int weir_index_built(weir_store_snap *snap, weir_store_table t, const weir_relation *table, uint64_t *built,
                     bool *stale, weir_err *err)
{
    *built = 0;
    *stale = false;
    weir_buf lo = {0}, hi = {0};
    weir_value null = weir_null(WEIR_TYPE_UINT);
    bool bounded;
    weir_store_cursor *c = NULL;
    int rc = weir_key_encode(&lo, &null, 1, err);
    if (rc == WEIR_OK)
        rc = weir_key_prefix_end(lo.data, lo.len, &hi, &bounded, err);
    weir_store_range range = {lo.data, lo.len, hi.data, hi.len, false};
    if (rc == WEIR_OK)
        rc = weir_store_snap_scan(snap, t, &range, &c, err);
    for (bool got = true; rc == WEIR_OK;) {
        const void *key, *val;
        size_t klen, vlen;
        if ((rc = weir_store_next(c, &key, &klen, &val, &vlen, &got, err)) || !got)
            break;
        int col = weir_index_marker_col(table, key, klen, val, vlen);
        if (col < 0)
            *stale = true; /* written for another definition of the table */
        else
            *built |= UINT64_C(1) << col;
    }
    weir_store_cursor_close(c);
    weir_buf_free(&lo);
    weir_buf_free(&hi);
    return rc;
}

/* The writer's scratch while it indexes one batch. */
typedef struct upkeep {
    weir_store_txn *txn;
    const weir_relation *table;
    const weir_store *store;
    weir_buf changes;          /* the index's puts and deletes (state/changes.h) */
    weir_buf key;
    weir_value *row;
    weir_arena arena;
} upkeep;

/* Adds to the index's changes, for each column in cols, the entry of the
 * row stored under rkey with value val: a put of rkey, or (put false) a
 * delete. */
static int entries(upkeep *u, uint64_t cols, const void *val, size_t vlen, const void *rkey, size_t rklen, bool put,
                   weir_err *err)
{
    weir_arena_reset(&u->arena);
    int rc = weir_rows_decode_keyed(u->table->name, &u->table->schema, u->table->pk, u->table->npk, rkey, rklen, val,
                                    vlen, u->row, &u->arena, err);
    for (int c = 0; c < WEIR_INDEX_MAX_COLS && rc == WEIR_OK; c++) {
        if (!(cols >> c & 1))
            continue;
        u->key.len = 0;
        rc = weir_index_key(u->store, u->table, u->row, c, &u->key, err);
        if (rc == WEIR_OK && weir_changes_add(&u->changes, u->key.data, u->key.len, put ? rkey : NULL, rklen))
            rc = nomem(err);
    }
    return rc;
}

/* The entries of every row the store holds, for the columns in build, and their markers. */
static int build_all(upkeep *u, weir_store_table rows, uint64_t build, weir_err *err)
{
    weir_store_range all = {0};
    weir_store_cursor *c = NULL;
    int rc = weir_store_txn_scan(u->txn, rows, &all, &c, err);
    for (bool got = true; rc == WEIR_OK;) {
        const void *key, *val;
        size_t klen, vlen;
        if ((rc = weir_store_next(c, &key, &klen, &val, &vlen, &got, err)) || !got)
            break;
        rc = entries(u, build, val, vlen, key, klen, true, err);
    }
    weir_store_cursor_close(c);
    weir_buf mval = {0};
    for (int col = 0; col < WEIR_INDEX_MAX_COLS && rc == WEIR_OK; col++) {
        if (!(build >> col & 1))
            continue;
        u->key.len = mval.len = 0;
        rc = marker_key(col, &u->key, err);
        if (rc == WEIR_OK)
            rc = marker_value(u->table, col, &mval, err);
        if (rc == WEIR_OK && weir_changes_add(&u->changes, u->key.data, u->key.len, mval.data, mval.len))
            rc = nomem(err);
    }
    weir_buf_free(&mval);
    return rc;
}

/* Where each key of a batch last changed: open addressing by the key's
 * hash to the change's offset in the batch + 1. */
typedef struct last_changes {
    size_t *slots;
    size_t n;
} last_changes;

static size_t *last_slot(last_changes *l, const weir_buf *batch, const uint8_t *key, size_t klen)
{
    size_t j = XXH64(key, klen, 0) & (l->n - 1);
    for (; l->slots[j]; j = (j + 1) & (l->n - 1)) {
        size_t at = l->slots[j] - 1, k2len, v2len;
        const uint8_t *k2, *v2;
        weir_changes_next(batch, &at, &k2, &k2len, &v2, &v2len);
        if (k2len == klen && !memcmp(k2, key, klen))
            break;
    }
    return &l->slots[j];
}

/* Each change's old entries go and its new ones come, in the order the changes were added. */
static int follow(upkeep *u, weir_store_table rows, uint64_t cols, const weir_buf *batch, weir_err *err)
{
    size_t n = 0, at = 0, klen, vlen;
    const uint8_t *key, *val;
    while (weir_changes_next(batch, &at, &key, &klen, &val, &vlen))
        n++;
    last_changes last = {NULL, 16};
    while (last.n < n * 2)
        last.n *= 2;
    if (!(last.slots = calloc(last.n, sizeof *last.slots)))
        return nomem(err);
    int rc = WEIR_OK;
    for (at = 0; rc == WEIR_OK;) {
        size_t here = at;
        if (!weir_changes_next(batch, &at, &key, &klen, &val, &vlen))
            break;
        size_t *slot = last_slot(&last, batch, key, klen);
        const void *old = NULL;
        size_t oldlen = 0;
        bool found = false;
        if (*slot) { /* changed before in this batch (a failed checkpoint's): that row is the old one */
            size_t prev = *slot - 1, pklen;
            const uint8_t *pkey, *pval;
            weir_changes_next(batch, &prev, &pkey, &pklen, &pval, &oldlen);
            old = pval;
            found = pval != NULL;
        } else {
            rc = weir_store_get(u->txn, rows, key, klen, &old, &oldlen, &found, err);
        }
        if (rc == WEIR_OK && found)
            rc = entries(u, cols, old, oldlen, key, klen, false, err);
        if (rc == WEIR_OK && val)
            rc = entries(u, cols, val, vlen, key, klen, true, err);
        *slot = here + 1;
    }
    free(last.slots);
    return rc;
}

int weir_index_write(const weir_store *s, weir_store_txn *txn, weir_store_table rows, weir_store_table index, const weir_relation *table,
                     uint64_t cols, uint64_t build, const weir_buf *batch, weir_err *err)
{
    upkeep u = {.txn = txn, .table = table, .store = s};
    int rc = (u.row = malloc((size_t)(table->schema.ncols + 1) * sizeof *u.row)) ? WEIR_OK : nomem(err);
    /* Both read the rows as the store had them before this batch: its writes come last. */
    if (rc == WEIR_OK && build)
        rc = build_all(&u, rows, build, err);
    if (rc == WEIR_OK && cols)
        rc = follow(&u, rows, cols, batch, err);
    if (rc == WEIR_OK)
        rc = weir_changes_write(txn, rows, batch, err);
    if (rc == WEIR_OK)
        rc = weir_changes_write(txn, index, &u.changes, err);
    free(u.row);
    weir_arena_free(&u.arena);
    weir_buf_free(&u.changes);
    weir_buf_free(&u.key);
    return rc ? weir_err_wrap(err, "the index of table %s", table->name) : WEIR_OK;
}
