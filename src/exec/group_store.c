/*
 * group_store.c - the engine's aggregation groups in the state store
 * (docs/STATE_STORE.md, "Engine groups in the store").
 *
 * Each stored query (grouped, not SESSION-windowed, not a join: those
 * stay in the checkpoint file) has a store table "groups:" and its
 * output's name. Key: the group's key values and its window start (a
 * TIMESTAMP; 0 without a window), as weir_groups_store_key makes it.
 * Value: a version byte (1), a flags byte (FULL_KEY: the key's whole
 * encoding follows as a u32 length and bytes, because the store key was
 * cut to the store's longest and ends with a hash; PACKED: the
 * accumulators are packed, state/zpack.h), then the accumulators as
 * checkpoints write them (agg.c's weir_accs_save), packed when that is
 * shorter (mostly zero bytes: 16 bytes to 7 for a MAX of small numbers).
 * Values without PACKED, as stores written before it hold, still load.
 *
 * A checkpoint writes only what changed: the seal, on the checkpoint's
 * thread while the engine is held, encodes the deletes of the groups
 * removed (windows closed) and the puts of the groups upserted since the
 * last seal into the query's batch (state/changes.h; deletes first, since
 * a group removed and made again is both); the checkpoint's store
 * transaction writes the batch in key order, with the views' rows and _offsets; a batch whose transaction
 * failed is written again, first, by the next.
 *
 * An engine per partition (serve --threads) has tables of its own: the
 * names end with its store_suffix ("@P"). A scale-out task's engine has
 * no store: it keeps the same groups apart from its snapshot all the same
 * (weir_engine_keep_groups_apart) and hands their changes over as pieces,
 * its query's number before the store key (weir_engine_take_pieces), which
 * a takeover restores (weir_engine_restore_piece; exec/tasks.c).
 *
 * Restart: windowed queries' groups (few: their windows close) are read
 * into memory at attach, since closing windows walks them all. Other
 * queries' groups are read lazily: the first upsert of a key memory lacks
 * looks it up in the store (a snapshot of its own), until every group the
 * store held at attach has been read; so a restart reads nothing up front,
 * and the price is a point read per group new since the restart, and for
 * the first touch of each old one.
 *
 * Groups read from their rows (derives_from_rows): where a query's table
 * row holds exactly its group (no window, no HAVING, every key and
 * aggregate a column of its own, aggregates COUNT, COUNT_IF, or MIN and
 * MAX of integers, timestamps and booleans, whose accumulator is the
 * row's value), the store keeps no group: the view's row in "table:" and
 * the output's name is read back as the group. The two always agree in
 * the store: the engine emits a group's row in the step that changes it,
 * the runtime hands it to the view then, and a checkpoint seals the views'
 * rows and the groups while the engine is held and commits them in one
 * transaction. So half the entries (at 3M Collatz steps 305 of the
 * store's 562 MB were groups). An engine per partition (exec/workers.c)
 * too: its rows reach the view in the step that made them, after the
 * workers' round, and it looks up only its partition's keys (the view's
 * other rows count in its unloaded groups and its filter, which costs a
 * lookup that finds nothing at most). Not scale-out's task engines (no
 * store). A group leaves memory only once the commit of its seal is known
 * (sealed), as its row is then stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/engine_internal.h"
#include "state/changes.h"
#include "state/key.h"
#include "state/rows.h"
#include "state/zpack.h"

#define GROUP_VERSION 1
#define FULL_KEY 0x01
#define PACKED 0x02

/* Whether e runs the i-th query (serve --threads: another engine may). */
static bool runs(const weir_engine *e, int i) { return !e->opt.runs || e->opt.runs[i]; }

static bool is_stored(const query_state *s)
{
    return s->groups && s->q->grouped && s->q->window.kind != WEIR_WINDOW_SESSION && !s->join;
}

/* The output column holding key j (slot j) or aggregate a (slot nkeys + a), or -1. */
static int column_of(const weir_query *q, int slot)
{
    for (int i = 0; i < q->output->schema.ncols; i++)
        if (q->out[i]->kind == WEIR_E_SLOT && q->out[i]->slot == slot)
            return i;
    return -1;
}

/* Whether an aggregate's accumulator is its result as the store keeps it. */
static bool agg_is_value(const weir_agg *g)
{
    if (g->fn == WEIR_AGG_COUNT || g->fn == WEIR_AGG_COUNT_IF)
        return true;
    return (g->fn == WEIR_AGG_MIN || g->fn == WEIR_AGG_MAX) &&
           (g->type == WEIR_TYPE_INT || g->type == WEIR_TYPE_UINT || g->type == WEIR_TYPE_TIMESTAMP ||
            g->type == WEIR_TYPE_BOOL); /* not DOUBLE: the store writes -0 as +0; not TEXT: owned */
}

/* Whether s's groups are read from its table's rows (see the top). */
static bool derives_from_rows(const weir_engine *e, const query_state *s)
{
    const weir_query *q = s->q;
    if (!e->rows_in_views || q->window.kind != WEIR_WINDOW_NONE || q->having || q->distinct || q->join ||
        !q->is_table || q->output->query != q || q->output->inserted || q->output->npk != q->nkeys || q->naggs == 0 ||
        q->naggs > 64)
        return false;
    for (int i = 0; i < q->output->schema.ncols; i++)
        if (q->out[i]->kind != WEIR_E_SLOT || q->out[i]->slot >= q->nkeys + q->naggs)
            return false;
    for (int j = 0; j < q->nkeys + q->naggs; j++)
        if (column_of(q, j) < 0 || (j >= q->nkeys && !agg_is_value(&q->aggs[j - q->nkeys])))
            return false;
    return true;
}

/* The store table of q's groups in e's store (its name with e's suffix). */
static int table_of(const weir_engine *e, weir_store *store, const weir_query *q, bool create, weir_store_table *t,
                    weir_err *err)
{
    char name[300];
    if (snprintf(name, sizeof name, "groups:%s%s", q->output->name, e->store_suffix) > 255)
        return weir_err_set(err, WEIR_EINVAL, "%s: a name this long has no table in the state store (%zu bytes at most)",
                            q->output->name, (size_t)248 - strlen(e->store_suffix));
    return weir_store_table_open(store, name, create, t, err);
}

/* The store key of (keys, window) into out (emptied first). */
static int key_of(const query_state *s, const weir_value *keys, int64_t window, weir_buf *out, weir_err *err)
{
    weir_value stack[17], *vals = s->q->nkeys < 17 ? stack : malloc((size_t)(s->q->nkeys + 1) * sizeof *vals);
    if (!vals)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    memcpy(vals, keys, (size_t)s->q->nkeys * sizeof *vals);
    vals[s->q->nkeys] = weir_timestamp(window);
    out->len = 0;
    int rc = weir_groups_store_key(s->store, vals, s->q->nkeys, out, err);
    if (vals != stack)
        free(vals);
    return rc;
}

/* The whole key's encoding, for a store key that was cut (FULL_KEY). */
static int full_key(const query_state *s, const weir_value *keys, int64_t window, weir_buf *out, weir_err *err)
{
    weir_value w = weir_timestamp(window);
    out->len = 0;
    int rc = weir_key_encode(out, keys, s->q->nkeys, err);
    return rc ? rc : weir_key_encode(out, &w, 1, err);
}

/* Opens a group's value: *accs_at reads the accumulators (in val, or
 * unpacked into plain, emptied first), *full is the whole key when the
 * value carries it (else NULL). */
static int open_value(const query_state *s, const uint8_t *val, size_t len, weir_reader_buf *accs_at,
                      const uint8_t **full, uint32_t *full_len, weir_buf *plain, weir_err *err)
{
    weir_reader_buf r = {val, val + len, false};
    uint8_t version = weir_get_u8(&r), flags = weir_get_u8(&r);
    *full = NULL;
    if (!r.bad && (flags & FULL_KEY))
        *full = weir_get_bytes(&r, full_len);
    plain->len = 0;
    if (!r.bad && version == GROUP_VERSION && (flags & PACKED) && weir_zunpack(&r, plain) && !r.bad)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    if (r.bad || version != GROUP_VERSION || (flags & ~(FULL_KEY | PACKED)))
        return weir_err_set(err, WEIR_ECORRUPT, "state store: groups of %s: a group of version %u (not %d) or damaged; "
                            "`weir serve --reset` rebuilds the store from the retained inputs",
                            s->q->output->name, version, GROUP_VERSION);
    *accs_at = flags & PACKED ? (weir_reader_buf){plain->data, plain->data + plain->len, false} : r;
    return WEIR_OK;
}

/* The accumulators from a value into accs (initialised). */
static int load_accs(const query_state *s, weir_reader_buf *r, weir_acc *accs, weir_err *err)
{
    if (weir_accs_load(s->q, accs, r) || r->p != r->end)
        return weir_err_set(err, r->bad || r->p != r->end ? WEIR_ECORRUPT : WEIR_ENOMEM,
                            "state store: groups of %s: a group's accumulators %s", s->q->output->name,
                            r->bad || r->p != r->end ? "are damaged; `weir serve --reset` rebuilds the store" : "do not fit in memory");
    return WEIR_OK;
}

/* A derived group's accumulators from its row (accs: initialised). */
static void accs_of_row(const weir_query *q, const weir_value *row, weir_acc *accs)
{
    accs->seen = 0;
    for (int a = 0; a < q->naggs; a++) {
        const weir_agg *g = &q->aggs[a];
        const weir_value *v = &row[column_of(q, q->nkeys + a)];
        weir_slot *x = &accs->s[g->slot];
        if (g->fn == WEIR_AGG_COUNT || g->fn == WEIR_AGG_COUNT_IF) { /* never NULL; no seen bit (agg.c) */
            x->i = v->is_null ? 0 : v->i;
            continue;
        }
        if (v->is_null)
            continue;
        if (g->type == WEIR_TYPE_UINT)
            x->u = v->u;
        else if (g->type == WEIR_TYPE_BOOL)
            x->b = v->b;
        else
            x->i = v->i;
        accs->seen |= UINT64_C(1) << a;
    }
}

/* The row stored for the group of keys into *found and accs (a derived
 * query's load_group), in the snapshot snap. */
static int load_row(query_state *s, weir_store_snap *snap, const weir_value *keys, weir_acc *accs, bool *found,
                    weir_err *err)
{
    const weir_query *q = s->q;
    int ncols = q->output->schema.ncols;
    weir_arena a = {0};
    weir_buf key = {0};
    const void *val;
    size_t vlen;
    weir_value *row = malloc((size_t)(ncols + 1) * sizeof *row);
    int rc = row ? WEIR_OK : weir_err_set(err, WEIR_ENOMEM, "out of memory");
    for (int i = 0; i < ncols && rc == WEIR_OK; i++)
        row[i] = q->out[i]->slot < q->nkeys ? keys[q->out[i]->slot] : weir_null(q->output->schema.cols[i].type);
    if (rc == WEIR_OK)
        rc = weir_rows_key(s->store, row, q->output->pk, q->output->npk, &key, err);
    if (rc == WEIR_OK)
        rc = weir_store_snap_get(snap, s->tbl, key.data, key.len, &val, &vlen, found, err);
    weir_value *stored = *found && rc == WEIR_OK ? weir_arena_alloc(&a, (size_t)(ncols + 1) * sizeof *stored) : NULL;
    if (rc == WEIR_OK && *found && !stored)
        rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
    if (rc == WEIR_OK && *found)
        rc = weir_rows_decode_keyed(q->output->name, &q->output->schema, q->output->pk, q->output->npk, key.data,
                                    key.len, val, vlen, stored, &a, err);
    for (int j = 0; j < q->nkeys && rc == WEIR_OK && *found; j++) /* a cut store key: the row says whose it is */
        *found = weir_value_same(&stored[column_of(q, j)], &keys[j]);
    if (rc == WEIR_OK && *found)
        accs_of_row(q, stored, accs);
    free(row);
    weir_buf_free(&key);
    weir_arena_free(&a);
    return rc;
}

/* weir_groups_loader: the group from the store, the first time memory
 * needs it (the thread stepping the engine: the pipeline's, or a worker's
 * under serve --threads; in a snapshot of its own). */
static int load_group(void *ctx, const weir_query *q, const weir_value *keys, int64_t window, weir_acc *accs)
{
    query_state *s = ctx;
    (void)q;
    if (!s->unloaded) {
        weir_groups_stop_loading(s->groups);
        return 0;
    }
    weir_buf key = {0}, full = {0}, plain = {0};
    weir_store_snap *snap = NULL;
    weir_err err = {0};
    const void *val;
    size_t vlen;
    bool found = false;
    int rc = s->derived ? WEIR_OK : key_of(s, keys, window, &key, &err);
    if (rc == WEIR_OK)
        rc = weir_store_snap_begin(s->store, &snap, &err);
    if (rc == WEIR_OK && s->derived)
        rc = load_row(s, snap, keys, accs, &found, &err);
    else if (rc == WEIR_OK)
        rc = weir_store_snap_get(snap, s->tbl, key.data, key.len, &val, &vlen, &found, &err);
    if (rc == WEIR_OK && found && !s->derived) {
        weir_reader_buf r;
        const uint8_t *fk;
        uint32_t fk_len;
        rc = open_value(s, val, vlen, &r, &fk, &fk_len, &plain, &err);
        if (rc == WEIR_OK && fk) /* a cut key: the whole one says whether it is this group */
            found = (rc = full_key(s, keys, window, &full, &err)) == WEIR_OK && full.len == fk_len &&
                    memcmp(full.data, fk, fk_len) == 0;
        if (rc == WEIR_OK && found)
            rc = load_accs(s, &r, accs, &err);
    }
    weir_store_snap_end(snap);
    weir_buf_free(&key);
    weir_buf_free(&full);
    weir_buf_free(&plain);
    if (rc)
        return -1;
    if (found)
        s->unloaded--;
    return found;
}

/* A derived group's key values and window 0 from its row's store key
 * and value (vals: room for nkeys + 1 values; a: for decoded TEXT). */
static int keys_of_row(const query_state *s, const void *key, size_t klen, const void *val, size_t vlen,
                       weir_value *vals, weir_arena *a, weir_err *err)
{
    const weir_relation *t = s->q->output;
    weir_value *row = weir_arena_alloc(a, (size_t)(t->schema.ncols + 1) * sizeof *row);
    if (!row)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    int rc = weir_rows_decode_keyed(t->name, &t->schema, t->pk, t->npk, key, klen, val, vlen, row, a, err);
    for (int j = 0; j < s->q->nkeys && rc == WEIR_OK; j++)
        vals[j] = row[column_of(s->q, j)];
    vals[s->q->nkeys] = weir_timestamp(0);
    return rc;
}

/* A group's key values and window (vals: room for nkeys + 1 values; a:
 * for decoded TEXT) from its store key and value; *r: its accumulators
 * (in val or in plain, as open_value). */
static int decode_group(const query_state *s, const void *key, size_t klen, const void *val, size_t vlen,
                        weir_value *vals, weir_arena *a, weir_reader_buf *r, weir_buf *plain, weir_err *err)
{
    const uint8_t *fk;
    uint32_t fk_len;
    int nvals = s->q->nkeys + 1, got_n = 0;
    if (s->derived) /* a row: its key columns, window 0 (r is unused) */
        return keys_of_row(s, key, klen, val, vlen, vals, a, err);
    int rc = open_value(s, val, vlen, r, &fk, &fk_len, plain, err);
    if (rc == WEIR_OK)
        rc = fk ? weir_key_decode(fk, fk_len, vals, nvals, &got_n, a, err) : weir_key_decode(key, klen, vals, nvals, &got_n, a, err);
    if (rc == WEIR_OK && (got_n != nvals || vals[s->q->nkeys].type != WEIR_TYPE_TIMESTAMP || vals[s->q->nkeys].is_null))
        rc = weir_err_set(err, WEIR_ECORRUPT, "a key of %d columns, not %d and a window", got_n, s->q->nkeys);
    return rc;
}

/* The group of a store key and value into memory, as held by the store
 * (vals: room for nkeys + 1 values; a: for decoded TEXT). */
static int restore_group(query_state *s, const void *key, size_t klen, const void *val, size_t vlen, weir_value *vals,
                         weir_arena *a, weir_err *err)
{
    weir_reader_buf r;
    weir_buf plain = {0};
    int rc = decode_group(s, key, klen, val, vlen, vals, a, &r, &plain, err);
    weir_acc *accs = NULL;
    if (rc == WEIR_OK && !(accs = weir_groups_insert_stored(s->groups, vals, vals[s->q->nkeys].i)))
        rc = weir_err_set(err, WEIR_ECORRUPT, "a group twice, or out of memory");
    if (rc == WEIR_OK && (rc = load_accs(s, &r, accs, err)))
        weir_groups_remove(s->groups, vals, vals[s->q->nkeys].i);
    weir_buf_free(&plain);
    return rc;
}

/* A piece's key: the query's number (u16, big-endian) and the group's store key. */
#define PIECE_QUERY_BYTES 2

int weir_engine_restore_piece(weir_engine *e, const void *key, size_t klen, const void *val, size_t vlen, weir_err *err)
{
    const uint8_t *k = key;
    int query = klen > PIECE_QUERY_BYTES ? k[0] << 8 | k[1] : e->cat->nqueries;
    if (query >= e->cat->nqueries || !is_stored(&e->qs[query]))
        return weir_err_set(err, WEIR_ECORRUPT, "a group of query %d, which keeps no groups apart", query);
    query_state *s = &e->qs[query];
    weir_arena a = {0};
    weir_value *vals = malloc((size_t)(s->q->nkeys + 1) * sizeof *vals);
    int rc = vals ? restore_group(s, k + PIECE_QUERY_BYTES, klen - PIECE_QUERY_BYTES, val, vlen, vals, &a, err)
                  : weir_err_set(err, WEIR_ENOMEM, "out of memory");
    free(vals);
    weir_arena_free(&a);
    return rc ? weir_err_wrap(err, "groups of %s", s->q->output->name) : WEIR_OK;
}

void weir_engine_keep_groups_apart(weir_engine *e)
{
    for (int i = 0; i < e->cat->nqueries; i++) {
        query_state *s = &e->qs[i];
        if (!is_stored(s))
            continue;
        s->stored = true;
        weir_groups_keep_changes(s->groups, NULL, NULL, s);
    }
}

/* Every group of a windowed query, read into memory at attach. */
static int load_all(query_state *s, weir_err *err)
{
    weir_store_snap *snap;
    weir_store_cursor *c = NULL;
    weir_arena arena = {0};
    uint64_t n = 0;
    weir_value *vals = malloc((size_t)(s->q->nkeys + 1) * sizeof *vals);
    int rc = vals ? weir_store_snap_begin(s->store, &snap, err) : weir_err_set(err, WEIR_ENOMEM, "out of memory");
    if (!vals)
        return rc;
    rc = weir_store_snap_count(snap, s->tbl, &n, err);
    if (rc == WEIR_OK && n && weir_groups_reserve(s->groups, (size_t)n))
        rc = weir_err_set(err, WEIR_ENOMEM, "out of memory reading the groups of %s", s->q->output->name);
    weir_store_range all = {0};
    if (rc == WEIR_OK)
        rc = weir_store_snap_scan(snap, s->tbl, &all, &c, err);
    for (bool got = true; rc == WEIR_OK;) {
        const void *key, *val;
        size_t klen, vlen;
        if ((rc = weir_store_next(c, &key, &klen, &val, &vlen, &got, err)) || !got)
            break;
        weir_arena_reset(&arena);
        rc = restore_group(s, key, klen, val, vlen, vals, &arena, err);
    }
    weir_store_cursor_close(c);
    weir_store_snap_end(snap);
    weir_arena_free(&arena);
    free(vals);
    return rc ? weir_err_wrap(err, "state store: groups of %s", s->q->output->name) : WEIR_OK;
}

/* Empties the groups table an older build wrote for a query whose groups
 * are now read from its rows (they agree with the rows, which stay), in a
 * commit of its own: the space is the point. */
static int drop_groups_table(const weir_engine *e, weir_store *store, const weir_query *q, weir_err *err)
{
    weir_store_table t;
    weir_store_snap *snap;
    weir_store_txn *txn;
    uint64_t n = 0;
    int rc = table_of(e, store, q, false, &t, err);
    if (rc == WEIR_ENOENT || (rc == WEIR_OK && weir_store_read_only(store)))
        return WEIR_OK;
    if (rc == WEIR_OK && (rc = weir_store_snap_begin(store, &snap, err)) == WEIR_OK) {
        rc = weir_store_snap_count(snap, t, &n, err);
        weir_store_snap_end(snap);
    }
    if (rc || !n)
        return rc;
    if ((rc = weir_store_begin(store, &txn, err)) != WEIR_OK)
        return rc;
    if ((rc = weir_store_clear(txn, t, err)) != WEIR_OK) {
        weir_store_abort(txn);
        return rc;
    }
    return weir_store_commit(txn, err);
}

int weir_engine_attach_store(weir_engine *e, weir_store *store, weir_err *err)
{
    e->store = store;
    for (int i = 0; i < e->cat->nqueries; i++) {
        query_state *s = &e->qs[i];
        if (!runs(e, i)) /* another engine's: its state is that engine's */
            continue;
        if (e->store_suffix[0] && (s->join || s->table_join || s->tables_join || s->temporal))
            return weir_err_set(err, WEIR_EINVAL, "%s: an engine per partition keeps no join state in the store",
                                s->q->output->name);
        int jrc = engine_join_attach(s, store, err);
        if (jrc)
            return jrc;
        int xrc = s->expiry ? engine_expiry_attach(s, store, e->store_suffix, err) : WEIR_OK;
        if (xrc)
            return xrc;
        if (!is_stored(s))
            continue;
        s->stored = true;
        s->store = store;
        s->derived = derives_from_rows(e, s);
        weir_store_snap *snap;
        uint64_t n = 0;
        int rc = s->derived ? drop_groups_table(e, store, s->q, err) : WEIR_OK;
        if (rc == WEIR_OK)
            rc = s->derived ? weir_rows_table(store, s->q->output->name, !weir_store_read_only(store), &s->tbl, err)
                            : table_of(e, store, s->q, true, &s->tbl, err);
        if (rc == WEIR_OK && (rc = weir_store_snap_begin(store, &snap, err)) == WEIR_OK) {
            rc = weir_store_snap_count(snap, s->tbl, &n, err);
            weir_store_snap_end(snap);
        }
        if (rc == WEIR_OK && s->q->window.kind != WEIR_WINDOW_NONE)
            rc = load_all(s, err);
        if (rc)
            return rc;
        /* Without a window a group may also leave memory (weir_engine_drop_groups) and come back. */
        s->unloaded = s->q->window.kind == WEIR_WINDOW_NONE ? n : 0;
        weir_groups_keep_changes(s->groups, store, s->q->window.kind == WEIR_WINDOW_NONE ? load_group : NULL, s);
        s->scanning = s->unloaded > 0; /* weir_engine_scan_stored: the store's keys into the filter first */
        s->scan_at.len = 0;
        if (!s->scanning) /* every group the store will hold that memory lacks is one memory dropped: those are looked up only */
            weir_groups_filter_loads(s->groups);
    }
    return WEIR_OK;
}

int weir_engine_clear_groups(const weir_engine *e, weir_store *store, weir_store_txn *txn, weir_err *err)
{
    for (int i = 0; i < e->cat->nqueries; i++) {
        weir_store_table t;
        if (!runs(e, i))
            continue;
        int jrc = engine_join_clear(&e->qs[i], store, txn, err);
        if (jrc)
            return jrc;
        int xrc = e->qs[i].expiry ? engine_expiry_clear(&e->qs[i], store, e->store_suffix, txn, err) : WEIR_OK;
        if (xrc)
            return xrc;
        if (!is_stored(&e->qs[i]) || derives_from_rows(e, &e->qs[i])) /* the rows are the view's to clear */
            continue;
        int rc = table_of(e, store, e->qs[i].q, false, &t, err);
        if (rc == WEIR_ENOENT)
            continue;
        if (rc == WEIR_OK)
            rc = weir_store_clear(txn, t, err);
        if (rc)
            return rc;
    }
    return WEIR_OK;
}

/* A group's value into val (emptied first). */
static int value_of(const query_state *s, const weir_value *keys, int64_t window, const weir_acc *accs,
                    size_t klen, weir_buf *val, weir_buf *scratch, weir_err *err)
{
    bool cut = klen >= weir_store_max_key(s->store);
    uint8_t head[2] = {GROUP_VERSION, cut ? FULL_KEY : 0};
    val->len = 0;
    int rc = weir_buf_append(val, head, sizeof head) ? weir_err_set(err, WEIR_ENOMEM, "out of memory") : WEIR_OK;
    if (rc == WEIR_OK && cut && (rc = full_key(s, keys, window, scratch, err)) == WEIR_OK &&
        weir_put_bytes(val, scratch->data, (uint32_t)scratch->len))
        rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
    /* packed where that is shorter (a string of no zeros grows by an eighth) */
    size_t at = val->len;
    scratch->len = 0;
    if (rc == WEIR_OK && (weir_accs_save(s->q, accs, scratch) || weir_zpack(scratch->data, scratch->len, val)))
        rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
    if (rc == WEIR_OK && val->len - at < scratch->len)
        val->data[1] |= PACKED;
    else if (rc == WEIR_OK && ((val->len = at), weir_buf_append(val, scratch->data, scratch->len)))
        rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
    return rc;
}

/* s's removed and changed groups, appended to its batch. */
static int seal_query(query_state *s, weir_buf *key, weir_buf *val, weir_buf *scratch, weir_err *err)
{
    scratch->len = 0;
    if (s->lost || weir_groups_take_removed(s->groups, scratch))
        return weir_err_set(err, WEIR_ENOMEM, "out of memory keeping the changes of %s's groups; restart weir serve",
                            s->q->output->name);
    if (!s->derived && weir_changes_add_deletes(&s->batch, scratch))
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    size_t pos = 0;
    const weir_value *keys;
    int64_t window;
    weir_acc *accs;
    int rc = WEIR_OK;
    if (s->derived) { /* the rows the views sealed are the groups: only marked stored, as of this commit */
        while (weir_groups_next_changed(s->groups, &pos, &keys, &window, &accs))
            s->sealed = true;
        return WEIR_OK;
    }
    while (weir_groups_next_changed(s->groups, &pos, &keys, &window, &accs)) /* to its end, even after a failure */
        if (rc == WEIR_OK && (rc = key_of(s, keys, window, key, err)) == WEIR_OK &&
            (rc = value_of(s, keys, window, accs, key->len, val, scratch, err)) == WEIR_OK &&
            weir_changes_add(&s->batch, key->data, key->len, val->data, val->len))
            rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
    s->lost |= rc != WEIR_OK; /* the changes walked are no longer marked: the store cannot follow any more */
    return rc;
}

int weir_engine_seal_groups(weir_engine *e, weir_err *err)
{
    weir_buf key = {0}, val = {0}, scratch = {0};
    int rc = WEIR_OK;
    for (int i = 0; i < e->cat->nqueries && rc == WEIR_OK; i++) {
        if (e->qs[i].stored && (rc = seal_query(&e->qs[i], &key, &val, &scratch, err)))
            rc = weir_err_wrap(err, "groups of %s", e->qs[i].q->output->name);
        else if ((rc = engine_join_seal(&e->qs[i], err)))
            rc = weir_err_wrap(err, "%s", e->qs[i].q->output->name);
        if (rc == WEIR_OK && e->qs[i].expiry_stored)
            rc = engine_expiry_seal(&e->qs[i], err);
    }
    weir_buf_free(&key);
    weir_buf_free(&val);
    weir_buf_free(&scratch);
    return rc;
}

int weir_engine_write_groups(weir_engine *e, weir_store_txn *txn, weir_err *err)
{
    for (int i = 0; i < e->cat->nqueries; i++) {
        if (e->qs[i].stored && !e->qs[i].derived && weir_changes_write(txn, e->qs[i].tbl, &e->qs[i].batch, err))
            return weir_err_wrap(err, "groups of %s", e->qs[i].q->output->name);
        if (engine_join_write(&e->qs[i], txn, err))
            return weir_err_wrap(err, "%s", e->qs[i].q->output->name);
        if (e->qs[i].expiry_stored && engine_expiry_write(&e->qs[i], txn, err))
            return err->code;
    }
    return WEIR_OK;
}

void weir_engine_groups_written(weir_engine *e, bool committed)
{
    for (int i = 0; i < e->cat->nqueries; i++) {
        if (committed) {
            weir_buf_free(&e->qs[i].batch); /* the largest checkpoint's: not kept between checkpoints */
            e->qs[i].sealed = false;
        }
        engine_join_written(&e->qs[i], committed);
        if (e->qs[i].expiry_stored)
            engine_expiry_written(&e->qs[i], committed);
    }
}

int weir_engine_take_pieces(weir_engine *e, weir_buf *out, weir_err *err)
{
    int rc = e->store ? weir_err_set(err, WEIR_EINVAL, "an engine with a state store writes its groups there")
                      : weir_engine_seal_groups(e, err);
    weir_buf key = {0};
    for (int i = 0; i < e->cat->nqueries && rc == WEIR_OK; i++) {
        size_t at = 0, klen, vlen;
        const uint8_t *k, *v, query[PIECE_QUERY_BYTES] = {(uint8_t)(i >> 8), (uint8_t)i};
        while (rc == WEIR_OK && e->qs[i].stored && weir_changes_next(&e->qs[i].batch, &at, &k, &klen, &v, &vlen)) {
            key.len = 0;
            if (weir_buf_append(&key, query, sizeof query) || weir_buf_append(&key, k, klen) ||
                weir_changes_add(out, key.data, key.len, v, vlen))
                rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
        }
    }
    weir_buf_free(&key);
    weir_engine_groups_written(e, true); /* the caller holds them now (a failure is the same loss as a seal's) */
    return rc;
}

/* Whether s's groups may leave memory now: in a store, and its last seal's batch committed. */
static bool may_drop(const query_state *s)
{
    return s->stored && s->store && !s->batch.len && !s->sealed && !s->lost;
}

size_t weir_engine_groups_bytes(const weir_engine *e)
{
    size_t n = 0;
    for (int i = 0; i < e->cat->nqueries; i++)
        n += (e->qs[i].groups ? weir_groups_bytes(e->qs[i].groups) : 0) + engine_join_bytes(&e->qs[i]) +
             (e->qs[i].expiry ? weir_expiry_bytes(e->qs[i].expiry) : 0); /* the rows listed since the last commit */
    return n;
}

void weir_engine_groups_tick(weir_engine *e)
{
    for (int i = 0; i < e->cat->nqueries; i++) {
        if (e->qs[i].stored)
            weir_groups_tick(e->qs[i].groups);
        engine_join_tick(&e->qs[i]);
    }
}

void weir_engine_droppable(const weir_engine *e, weir_budget_ages *ages)
{
    for (int i = 0; i < e->cat->nqueries; i++) {
        if (may_drop(&e->qs[i]))
            weir_groups_droppable(e->qs[i].groups, ages);
        engine_join_droppable(&e->qs[i], ages);
    }
}

uint64_t weir_engine_drop_groups(weir_engine *e, weir_budget_cut cut)
{
    uint64_t dropped = 0;
    for (int i = 0; i < e->cat->nqueries; i++) {
        query_state *s = &e->qs[i];
        dropped += engine_join_drop(s, cut);
        if (!may_drop(s))
            continue;
        weir_budget_ages mine = {0};
        weir_groups_droppable(s->groups, &mine);
        size_t n = weir_groups_drop(s->groups, cut.age, (uint64_t)(cut.frac * (double)mine.bytes[cut.age]) + 1);
        s->unloaded += n; /* in the store, not in memory: looked up again */
        dropped += n;
    }
    return dropped;
}

/* Up to max more of s's store keys into its groups' filter, from past
 * the last one added (each chunk in a snapshot of its own: a key the
 * store gained since attach is a group memory held, which goes into the
 * filter if dropped). How many were read; s->scanning false once done. */
static unsigned scan_chunk(query_state *s, unsigned max)
{
    weir_store_snap *snap;
    weir_store_cursor *c = NULL;
    weir_arena arena = {0};
    weir_buf plain = {0};
    weir_err err = {0};
    weir_value *vals = malloc((size_t)(s->q->nkeys + 1) * sizeof *vals);
    weir_store_range from = {s->scan_at.len ? s->scan_at.data : NULL, s->scan_at.len, NULL, 0, false};
    int rc = vals ? weir_store_snap_begin(s->store, &snap, &err) : WEIR_ENOMEM;
    if (rc) {
        free(vals);
        s->scanning = false; /* unfiltered: every key looked up */
        return 0;
    }
    rc = weir_store_snap_scan(snap, s->tbl, &from, &c, &err);
    unsigned n = 0;
    bool got = true;
    while (rc == WEIR_OK && n < max) {
        const void *key, *val;
        size_t klen, vlen;
        weir_reader_buf r;
        if ((rc = weir_store_next(c, &key, &klen, &val, &vlen, &got, &err)) || !got)
            break;
        if (klen == s->scan_at.len && memcmp(key, s->scan_at.data, klen) == 0)
            continue; /* the last chunk's last key: the range starts with it */
        weir_arena_reset(&arena);
        n++;
        s->scan_at.len = 0;
        if ((rc = decode_group(s, key, klen, val, vlen, vals, &arena, &r, &plain, &err)) == WEIR_OK &&
            (weir_groups_filter_add(s->groups, vals, vals[s->q->nkeys].i) || weir_buf_append(&s->scan_at, key, klen)))
            rc = WEIR_ENOMEM;
    }
    weir_store_cursor_close(c);
    weir_store_snap_end(snap);
    weir_arena_free(&arena);
    weir_buf_free(&plain);
    free(vals);
    if (rc == WEIR_OK && !got) /* every key the store held at attach is in the filter */
        weir_groups_filter_loads(s->groups);
    if (rc || !got) {
        s->scanning = false;
        weir_buf_free(&s->scan_at);
    }
    return n;
}

bool weir_engine_scan_stored(weir_engine *e, unsigned max)
{
    bool left = false;
    for (int i = 0; e->store && i < e->cat->nqueries; i++) {
        query_state *s = &e->qs[i];
        unsigned n = s->scanning && max ? scan_chunk(s, max) : 0;
        max -= n < max ? n : max;
        left |= s->scanning;
    }
    return left;
}

bool weir_engine_has_store(const weir_engine *e) { return e->store != NULL; }

void weir_engine_rows_in_views(weir_engine *e, bool yes) { e->rows_in_views = yes; }

bool weir_engine_derived_changes(const weir_engine *e, const weir_relation *rel)
{
    for (int i = 0; i < e->cat->nqueries; i++)
        if (e->qs[i].derived && e->qs[i].q->output == rel && weir_groups_any_changed(e->qs[i].groups))
            return true;
    return false;
}

void engine_store_free(query_state *s)
{
    weir_buf_free(&s->batch);
    weir_buf_free(&s->scan_at);
    engine_expiry_free(s);
}
