/*
 * table_join.c - a stream-table join's state (see table_join.h): an open
 * addressing table from the join key to the table's row, each row one
 * malloc'd block with its text.
 */
#include "exec/table_join.h"

#include <stdlib.h>
#include <string.h>

#include "exec/engine_internal.h"

#define SEED 0x7461626c65ull /* "table" */

struct weir_table_join {
    const weir_join *j;
    int left_cols, right_cols;
    weir_value **slots;        /* rows by their key's hash, NULL empty; removals leave tombstones */
    size_t nslots, nrows, nused; /* nused: rows and tombstones, what the probe sequences cross */
    uint64_t row_bytes;
    weir_value *joined;        /* left_cols + right_cols values, the row a probe emits */
};

/* A slot once holding a row that left: probes go past it, inserts reuse it. */
static weir_value removed_slot;
#define GONE (&removed_slot)

weir_table_join *weir_table_join_new(const weir_join *j, int left_cols)
{
    weir_table_join *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->j = j;
    t->left_cols = left_cols;
    t->right_cols = j->right->schema.ncols;
    if (!(t->joined = malloc((size_t)(left_cols + t->right_cols) * sizeof *t->joined))) {
        free(t);
        return NULL;
    }
    return t;
}

void weir_table_join_free(weir_table_join *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nslots; i++)
        if (t->slots[i] && t->slots[i] != GONE)
            free(t->slots[i]);
    free(t->slots);
    free(t->joined);
    free(t);
}

/* The slot of key's row, or (want_free) where a row of that key would go. */
static size_t slot_of(const weir_table_join *t, const weir_value *key, bool want_free, bool *found)
{
    size_t mask = t->nslots - 1, j = weir_value_hash(key, SEED) & mask, free_at = SIZE_MAX;
    *found = false;
    for (; t->slots[j]; j = (j + 1) & mask) {
        if (t->slots[j] == GONE) {
            if (free_at == SIZE_MAX)
                free_at = j;
        } else if (weir_value_same(&t->slots[j][t->j->right_key], key)) {
            *found = true;
            return j;
        }
    }
    return want_free && free_at != SIZE_MAX ? free_at : j;
}

static int grow(weir_table_join *t)
{
    /* Mostly tombstones: rebuilt without them, the same size does. */
    size_t n = !t->nslots ? 256 : t->nrows * 4 < t->nslots ? t->nslots : t->nslots * 2;
    weir_value **slots = calloc(n, sizeof *slots);
    if (!slots)
        return WEIR_ENOMEM;
    for (size_t i = 0; i < t->nslots; i++) {
        weir_value *row = t->slots[i];
        if (!row || row == GONE)
            continue;
        size_t j = weir_value_hash(&row[t->j->right_key], SEED) & (n - 1);
        while (slots[j])
            j = (j + 1) & (n - 1);
        slots[j] = row;
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = n;
    t->nused = t->nrows;
    return WEIR_OK;
}

int weir_table_join_upsert(weir_table_join *t, const weir_value *row)
{
    if (row[t->j->right_key].is_null) /* a row without its key meets nothing (and a source table has none) */
        return WEIR_OK;
    if ((t->nused + 1) * 2 > t->nslots && grow(t))
        return WEIR_ENOMEM;
    size_t bytes = weir_row_bytes(row, t->right_cols);
    void *block = malloc(bytes);
    if (!block)
        return WEIR_ENOMEM;
    weir_value *copy = weir_row_pack(block, row, t->right_cols);
    bool found;
    size_t j = slot_of(t, &row[t->j->right_key], true, &found);
    if (found) {
        t->row_bytes -= weir_row_bytes(t->slots[j], t->right_cols);
        free(t->slots[j]);
    } else {
        t->nused += !t->slots[j]; /* a tombstone reused was counted */
        t->nrows++;
    }
    t->slots[j] = copy;
    t->row_bytes += bytes;
    return WEIR_OK;
}

void weir_table_join_remove(weir_table_join *t, const weir_value *key)
{
    if (!t->nslots)
        return;
    bool found;
    size_t j = slot_of(t, &key[t->j->right_key], false, &found);
    if (!found)
        return;
    t->row_bytes -= weir_row_bytes(t->slots[j], t->right_cols);
    free(t->slots[j]);
    t->slots[j] = GONE;
    t->nrows--;
}

int weir_table_join_meet(const weir_join *j, int left_cols, weir_value *joined, const weir_value *left,
                         const weir_value *right, int64_t ts, weir_eval *ev, weir_join_emit emit, void *ctx)
{
    int right_cols = j->right->schema.ncols;
    bool found = right != NULL;
    memcpy(joined, left, (size_t)left_cols * sizeof *left);
    for (int c = 0; c < right_cols; c++)
        joined[left_cols + c] = found ? right[c] : weir_null(j->right->schema.cols[c].type);
    if (found && j->on) {
        ev->row = joined;
        found = weir_eval_predicate(ev, j->on);
        if (ev->err)
            return WEIR_OK;
        for (int c = 0; c < right_cols && !found; c++) /* ON fails: the record is unmatched */
            joined[left_cols + c] = weir_null(j->right->schema.cols[c].type);
    }
    if (!found && j->kind == WEIR_JOIN_INNER)
        return WEIR_OK;
    return emit(ctx, joined, ts, 0);
}

int weir_table_join_probe(weir_table_join *t, const weir_value *row, int64_t ts, weir_eval *ev, weir_join_emit emit,
                          void *ctx)
{
    const weir_value *key = &row[t->j->left_key];
    bool found = false;
    size_t j = t->nslots && !key->is_null ? slot_of(t, key, false, &found) : 0;
    return weir_table_join_meet(t->j, t->left_cols, t->joined, row, found ? t->slots[j] : NULL, ts, ev, emit, ctx);
}

uint64_t weir_table_join_entries(const weir_table_join *t) { return t->nrows; }

uint64_t weir_table_join_bytes(const weir_table_join *t) { return t->row_bytes + t->nslots * sizeof *t->slots; }

size_t weir_table_join_entry_size(const weir_table_join *t) { return 2 * sizeof *t->slots; }

int weir_table_join_save(const weir_table_join *t, weir_buf *out)
{
    int rc = weir_put_u64(out, t->nrows);
    for (size_t i = 0; i < t->nslots && !rc; i++) {
        const weir_value *row = t->slots[i];
        for (int c = 0; row && row != GONE && c < t->right_cols && !rc; c++)
            rc = weir_snapshot_put_value(out, &row[c]);
    }
    return rc ? WEIR_ENOMEM : WEIR_OK;
}

int weir_table_join_load(weir_table_join *t, weir_reader_buf *r)
{
    uint64_t n = weir_get_u64(r);
    weir_value *row = malloc((size_t)t->right_cols * sizeof *row);
    if (!row)
        return WEIR_ENOMEM;
    int rc = WEIR_OK;
    for (uint64_t i = 0; i < n && !r->bad && rc == WEIR_OK; i++) {
        /* Expressions read a column's values as its type: a value of another is damage. */
        for (int c = 0; c < t->right_cols; c++) {
            row[c] = weir_snapshot_get_value(r);
            if (!row[c].is_null && row[c].type != t->j->right->schema.cols[c].type)
                r->bad = true;
        }
        if (row[t->j->right_key].is_null)
            r->bad = true;
        if (!r->bad)
            rc = weir_table_join_upsert(t, row);
    }
    free(row);
    return rc ? rc : r->bad ? WEIR_ECORRUPT : WEIR_OK;
}
