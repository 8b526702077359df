/*
 * row_map.c - rows by a key column (see row_map.h): open addressing from
 * the key's hash to an entry, removals leaving tombstones that probes go
 * past and inserts reuse.
 *
 * Attached to a store, an entry is a row or a marker (the key only: its
 * row left, or the store has none), with flags: DIRTY (changed since the
 * last seal; its slot is in the dirty list) and a tick stamp for the
 * budget. Entries never move but when the table grows, which lists the
 * dirty ones anew, so the seal walks the dirty slots only.
 */
#include "exec/row_map.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/engine_internal.h"
#include "state/changes.h"
#include "state/rows.h"

#define SEED 0x7461626c65ull /* "table" */

#define DIRTY 0x01  /* changed since the last seal: listed in dirty */
#define MARKER 0x02 /* no row: the key's row left, or the store has none (row holds the key and NULLs) */

typedef struct entry {
    weir_value *row;  /* NULL empty, GONE a tombstone */
    uint16_t tick;    /* the map's tick when last used */
    uint8_t flags;
} entry;

struct weir_row_map {
    const weir_schema *schema;
    int key_col;
    entry *slots;
    size_t nslots, nrows, nmarkers, nused; /* nused: entries and tombstones, what the probe sequences cross */
    uint64_t bytes;                        /* of the rows and markers */
    /* attached to a store (weir_row_map_attach) */
    weir_store *store;         /* borrowed, or NULL */
    weir_store_table tbl;
    char table[260];           /* its name, for errors */
    bool maybe_stored;         /* the store may hold a key memory lacks: look it up */
    size_t *dirty;             /* slots of the DIRTY entries */
    size_t ndirty, dirty_cap;
    weir_buf batch;            /* sealed changes not yet committed (state/changes.h) */
    uint16_t tick;
};

/* A slot once holding an entry that left. */
static weir_value removed_slot;
#define GONE (&removed_slot)

static bool live(const entry *e) { return e->row && e->row != GONE; }

weir_row_map *weir_row_map_new(const weir_schema *schema, int key_col)
{
    weir_row_map *m = calloc(1, sizeof *m);
    if (m) {
        m->schema = schema;
        m->key_col = key_col;
    }
    return m;
}

void weir_row_map_free(weir_row_map *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nslots; i++)
        if (live(&m->slots[i]))
            free(m->slots[i].row);
    free(m->slots);
    free(m->dirty);
    weir_buf_free(&m->batch);
    free(m);
}

/* The slot of key's entry, or (want_free) where an entry of that key would go. */
static size_t slot_of(const weir_row_map *m, const weir_value *key, bool want_free, bool *found)
{
    size_t mask = m->nslots - 1, j = weir_value_hash(key, SEED) & mask, free_at = SIZE_MAX;
    *found = false;
    for (; m->slots[j].row; j = (j + 1) & mask) {
        if (m->slots[j].row == GONE) {
            if (free_at == SIZE_MAX)
                free_at = j;
        } else if (weir_value_same(&m->slots[j].row[m->key_col], key)) {
            *found = true;
            return j;
        }
    }
    return want_free && free_at != SIZE_MAX ? free_at : j;
}

static int list_dirty(weir_row_map *m, size_t slot)
{
    if (m->ndirty == m->dirty_cap) {
        size_t cap = m->dirty_cap ? m->dirty_cap * 2 : 64;
        size_t *d = realloc(m->dirty, cap * sizeof *d);
        if (!d)
            return WEIR_ENOMEM;
        m->dirty = d;
        m->dirty_cap = cap;
    }
    m->dirty[m->ndirty++] = slot;
    return WEIR_OK;
}

static int grow(weir_row_map *m)
{
    /* Mostly tombstones: rebuilt without them, the same size does. */
    size_t entries = m->nrows + m->nmarkers;
    size_t n = !m->nslots ? 256 : entries * 4 < m->nslots ? m->nslots : m->nslots * 2;
    entry *slots = calloc(n, sizeof *slots);
    if (!slots)
        return WEIR_ENOMEM;
    m->ndirty = 0; /* listed again at the new slots: never more than before */
    for (size_t i = 0; i < m->nslots; i++) {
        entry *e = &m->slots[i];
        if (!live(e))
            continue;
        size_t j = weir_value_hash(&e->row[m->key_col], SEED) & (n - 1);
        while (slots[j].row)
            j = (j + 1) & (n - 1);
        slots[j] = *e;
        if (e->flags & DIRTY)
            m->dirty[m->ndirty++] = j;
    }
    free(m->slots);
    m->slots = slots;
    m->nslots = n;
    m->nused = entries;
    return WEIR_OK;
}

/* Puts row (packed: the map owns it) as key's entry with flags, replacing
 * what the key had; the entry's slot in *at. WEIR_ENOMEM (row freed). */
static int place(weir_row_map *m, weir_value *row, uint8_t flags, size_t *at)
{
    if ((m->nused + 1) * 2 > m->nslots && grow(m)) {
        free(row);
        return WEIR_ENOMEM;
    }
    int ncols = m->schema->ncols;
    bool found;
    size_t j = slot_of(m, &row[m->key_col], true, &found);
    entry *e = &m->slots[j];
    bool listed = found && (e->flags & DIRTY);
    if ((flags & DIRTY) && !listed && list_dirty(m, j)) {
        free(row);
        return WEIR_ENOMEM;
    }
    if (found) {
        m->bytes -= weir_row_bytes(e->row, ncols);
        if (e->flags & MARKER)
            m->nmarkers--;
        else
            m->nrows--;
        free(e->row);
    } else {
        m->nused += !e->row; /* a tombstone reused was counted */
    }
    *e = (entry){row, m->tick, (uint8_t)(flags | (listed ? DIRTY : 0))};
    m->bytes += weir_row_bytes(row, ncols);
    if (flags & MARKER)
        m->nmarkers++;
    else
        m->nrows++;
    *at = j;
    return WEIR_OK;
}

static weir_value *pack(const weir_value *row, int ncols)
{
    void *block = malloc(weir_row_bytes(row, ncols));
    return block ? weir_row_pack(block, row, ncols) : NULL;
}

int weir_row_map_upsert(weir_row_map *m, const weir_value *row)
{
    if (row[m->key_col].is_null)
        return WEIR_OK;
    weir_value *copy = pack(row, m->schema->ncols);
    size_t at;
    return copy ? place(m, copy, m->store ? DIRTY : 0, &at) : WEIR_ENOMEM;
}

/* A marker of key: its columns NULL but the key. */
static weir_value *marker(const weir_row_map *m, const weir_value *key)
{
    int ncols = m->schema->ncols;
    weir_value stack[16], *vals = ncols <= 16 ? stack : malloc((size_t)ncols * sizeof *vals);
    if (!vals)
        return NULL;
    for (int c = 0; c < ncols; c++)
        vals[c] = weir_null(m->schema->cols[c].type);
    vals[m->key_col] = *key;
    weir_value *row = pack(vals, ncols);
    if (vals != stack)
        free(vals);
    return row;
}

int weir_row_map_remove(weir_row_map *m, const weir_value *key)
{
    if (key->is_null)
        return WEIR_OK;
    bool found = false;
    size_t j = m->nslots ? slot_of(m, key, false, &found) : 0;
    if (m->store && (found || m->maybe_stored)) { /* the store may hold the row: a marker until its delete is committed */
        weir_value *row = marker(m, key);
        size_t at;
        return row ? place(m, row, DIRTY | MARKER, &at) : WEIR_ENOMEM;
    }
    if (!found)
        return WEIR_OK;
    m->bytes -= weir_row_bytes(m->slots[j].row, m->schema->ncols);
    free(m->slots[j].row);
    m->slots[j].row = GONE;
    m->nrows--;
    return WEIR_OK;
}

/* key's row from the store into memory (a marker when it has none): *at its slot. */
static int load(weir_row_map *m, const weir_value *key, size_t *at, weir_err *err)
{
    int ncols = m->schema->ncols;
    weir_buf k = {0};
    weir_arena a = {0};
    weir_store_snap *snap = NULL;
    const void *val;
    size_t vlen;
    bool found = false;
    weir_value stack[16], *vals = ncols <= 16 ? stack : malloc((size_t)ncols * sizeof *vals);
    int rc = vals ? weir_rows_key(m->store, key, NULL, 1, &k, err) : weir_err_set(err, WEIR_ENOMEM, "out of memory");
    if (rc == WEIR_OK)
        rc = weir_store_snap_begin(m->store, &snap, err);
    if (rc == WEIR_OK)
        rc = weir_store_snap_get(snap, m->tbl, k.data, k.len, &val, &vlen, &found, err);
    if (rc == WEIR_OK && found && (rc = weir_rows_decode(m->table, m->schema, val, vlen, vals, &a, err)) == WEIR_OK)
        found = weir_value_same(&vals[m->key_col], key); /* a cut store key: the row says whose it is */
    weir_value *row = NULL;
    if (rc == WEIR_OK && !(row = found ? pack(vals, ncols) : marker(m, key)))
        rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
    weir_store_snap_end(snap);
    if (rc == WEIR_OK && place(m, row, found ? 0 : MARKER, at))
        rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
    if (vals != stack)
        free(vals);
    weir_buf_free(&k);
    weir_arena_free(&a);
    return rc;
}

int weir_row_map_find(weir_row_map *m, const weir_value *key, const weir_value **row, weir_err *err)
{
    bool found = false;
    size_t j = m->nslots && !key->is_null ? slot_of(m, key, false, &found) : 0;
    *row = NULL;
    if (!found && (key->is_null || !m->maybe_stored))
        return WEIR_OK;
    if (!found) {
        int rc = load(m, key, &j, err);
        if (rc)
            return weir_err_wrap(err, "state store: join rows %s", m->table);
    }
    entry *e = &m->slots[j];
    e->tick = m->tick;
    *row = e->flags & MARKER ? NULL : e->row;
    return WEIR_OK;
}

uint64_t weir_row_map_rows(const weir_row_map *m) { return m->nrows; }

uint64_t weir_row_map_bytes(const weir_row_map *m) { return m->bytes + m->nslots * sizeof *m->slots; }

size_t weir_row_map_entry_size(const weir_row_map *m)
{
    (void)m;
    return 2 * sizeof(entry); /* a slot, at the load factor of one half */
}

int weir_row_map_save(const weir_row_map *m, weir_buf *out)
{
    int rc = weir_put_u64(out, m->nrows);
    for (size_t i = 0; i < m->nslots && !rc; i++) {
        const entry *e = &m->slots[i];
        for (int c = 0; live(e) && !(e->flags & MARKER) && c < m->schema->ncols && !rc; c++)
            rc = weir_snapshot_put_value(out, &e->row[c]);
    }
    return rc ? WEIR_ENOMEM : WEIR_OK;
}

int weir_row_map_load(weir_row_map *m, weir_reader_buf *r)
{
    int ncols = m->schema->ncols;
    uint64_t n = weir_get_u64(r);
    weir_value *row = malloc((size_t)ncols * sizeof *row);
    if (!row)
        return WEIR_ENOMEM;
    int rc = WEIR_OK;
    for (uint64_t i = 0; i < n && !r->bad && rc == WEIR_OK; i++) {
        /* Expressions read a column's values as its type: a value of another is damage. */
        for (int c = 0; c < ncols; c++) {
            row[c] = weir_snapshot_get_value(r);
            if (!row[c].is_null && row[c].type != m->schema->cols[c].type)
                r->bad = true;
        }
        if (row[m->key_col].is_null)
            r->bad = true;
        if (!r->bad)
            rc = weir_row_map_upsert(m, row);
    }
    free(row);
    return rc ? rc : r->bad ? WEIR_ECORRUPT : WEIR_OK;
}

int weir_row_map_attach(weir_row_map *m, weir_store *store, const char *table, weir_err *err)
{
    weir_store_snap *snap;
    uint64_t n = 0;
    if (strlen(table) >= sizeof m->table || strlen(table) > 255)
        return weir_err_set(err, WEIR_EINVAL, "%s: a name this long has no table in the state store", table);
    int rc = weir_store_table_open(store, table, true, &m->tbl, err);
    if (rc == WEIR_OK && (rc = weir_store_snap_begin(store, &snap, err)) == WEIR_OK) {
        rc = weir_store_snap_count(snap, m->tbl, &n, err);
        weir_store_snap_end(snap);
    }
    if (rc)
        return weir_err_wrap(err, "state store: join rows %s", table);
    m->store = store;
    snprintf(m->table, sizeof m->table, "%s", table);
    m->maybe_stored = n > 0;
    return WEIR_OK;
}

bool weir_row_map_attached(const weir_row_map *m) { return m->store != NULL; }

int weir_row_map_seal(weir_row_map *m, weir_err *err)
{
    weir_buf key = {0}, val = {0};
    int rc = WEIR_OK;
    /* every listed entry is unmarked, even after a failure: the caller then stops checkpoints (group_store.c's lost) */
    for (size_t i = 0; i < m->ndirty; i++) {
        entry *e = &m->slots[m->dirty[i]];
        e->flags &= (uint8_t)~DIRTY;
        if (rc)
            continue;
        key.len = val.len = 0;
        bool del = e->flags & MARKER;
        if ((rc = weir_rows_key(m->store, e->row, &m->key_col, 1, &key, err)) == WEIR_OK && !del)
            rc = weir_rows_value(e->row, m->schema->ncols, &val, err);
        if (rc == WEIR_OK && weir_changes_add(&m->batch, key.data, key.len, del ? NULL : val.data, val.len))
            rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
        m->maybe_stored |= !del;
    }
    m->ndirty = 0;
    weir_buf_free(&key);
    weir_buf_free(&val);
    return rc ? weir_err_wrap(err, "join rows %s", m->table) : WEIR_OK;
}

int weir_row_map_write(weir_row_map *m, weir_store_txn *txn, weir_err *err)
{
    int rc = weir_changes_write(txn, m->tbl, &m->batch, err);
    return rc ? weir_err_wrap(err, "join rows %s", m->table) : WEIR_OK;
}

void weir_row_map_written(weir_row_map *m, bool committed)
{
    if (committed)
        weir_buf_free(&m->batch);
}

void weir_row_map_tick(weir_row_map *m) { m->tick++; }

/* Whether e may leave memory: the store holds it as it is. */
static bool droppable(const weir_row_map *m, const entry *e)
{
    return m->store && !m->batch.len && live(e) && !(e->flags & DIRTY);
}

void weir_row_map_droppable(const weir_row_map *m, weir_budget_ages *ages)
{
    for (size_t i = 0; i < m->nslots; i++)
        if (droppable(m, &m->slots[i]))
            ages->bytes[weir_budget_age(m->tick, m->slots[i].tick)] += weir_row_bytes(m->slots[i].row, m->schema->ncols);
}

uint64_t weir_row_map_drop(weir_row_map *m, unsigned age, uint64_t max_bytes)
{
    uint64_t dropped = 0, at_age = 0;
    for (size_t i = 0; i < m->nslots; i++) {
        entry *e = &m->slots[i];
        unsigned a = droppable(m, e) ? weir_budget_age(m->tick, e->tick) : 0;
        if (!droppable(m, e) || a < age || (a == age && at_age >= max_bytes))
            continue;
        size_t bytes = weir_row_bytes(e->row, m->schema->ncols);
        at_age += a == age ? bytes : 0;
        m->bytes -= bytes;
        if (e->flags & MARKER)
            m->nmarkers--;
        else
            m->nrows--;
        free(e->row);
        e->row = GONE;
        m->maybe_stored = true; /* what left is read again when next looked up */
        dropped++;
    }
    return dropped;
}
