/*
 * row_map.c - rows by a key column (see row_map.h): open addressing from
 * the key's hash to the row, removals leaving tombstones that probes go
 * past and inserts reuse.
 */
#include "exec/row_map.h"

#include <stdint.h>
#include <stdlib.h>

#include "exec/engine_internal.h"

#define SEED 0x7461626c65ull /* "table" */

struct weir_row_map {
    const weir_schema *schema;
    int key_col;
    weir_value **slots;          /* NULL empty */
    size_t nslots, nrows, nused; /* nused: rows and tombstones, what the probe sequences cross */
    uint64_t row_bytes;
};

/* A slot once holding a row that left. */
static weir_value removed_slot;
#define GONE (&removed_slot)

weir_row_map *weir_row_map_new(const weir_schema *schema, int key_col)
{
    weir_row_map *m = calloc(1, sizeof *m);
    if (m)
        *m = (weir_row_map){.schema = schema, .key_col = key_col};
    return m;
}

void weir_row_map_free(weir_row_map *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nslots; i++)
        if (m->slots[i] && m->slots[i] != GONE)
            free(m->slots[i]);
    free(m->slots);
    free(m);
}

/* The slot of key's row, or (want_free) where a row of that key would go. */
static size_t slot_of(const weir_row_map *m, const weir_value *key, bool want_free, bool *found)
{
    size_t mask = m->nslots - 1, j = weir_value_hash(key, SEED) & mask, free_at = SIZE_MAX;
    *found = false;
    for (; m->slots[j]; j = (j + 1) & mask) {
        if (m->slots[j] == GONE) {
            if (free_at == SIZE_MAX)
                free_at = j;
        } else if (weir_value_same(&m->slots[j][m->key_col], key)) {
            *found = true;
            return j;
        }
    }
    return want_free && free_at != SIZE_MAX ? free_at : j;
}

static int grow(weir_row_map *m)
{
    /* Mostly tombstones: rebuilt without them, the same size does. */
    size_t n = !m->nslots ? 256 : m->nrows * 4 < m->nslots ? m->nslots : m->nslots * 2;
    weir_value **slots = calloc(n, sizeof *slots);
    if (!slots)
        return WEIR_ENOMEM;
    for (size_t i = 0; i < m->nslots; i++) {
        weir_value *row = m->slots[i];
        if (!row || row == GONE)
            continue;
        size_t j = weir_value_hash(&row[m->key_col], SEED) & (n - 1);
        while (slots[j])
            j = (j + 1) & (n - 1);
        slots[j] = row;
    }
    free(m->slots);
    m->slots = slots;
    m->nslots = n;
    m->nused = m->nrows;
    return WEIR_OK;
}

int weir_row_map_upsert(weir_row_map *m, const weir_value *row)
{
    if (row[m->key_col].is_null)
        return WEIR_OK;
    if ((m->nused + 1) * 2 > m->nslots && grow(m))
        return WEIR_ENOMEM;
    int ncols = m->schema->ncols;
    size_t bytes = weir_row_bytes(row, ncols);
    void *block = malloc(bytes);
    if (!block)
        return WEIR_ENOMEM;
    weir_value *copy = weir_row_pack(block, row, ncols);
    bool found;
    size_t j = slot_of(m, &row[m->key_col], true, &found);
    if (found) {
        m->row_bytes -= weir_row_bytes(m->slots[j], ncols);
        free(m->slots[j]);
    } else {
        m->nused += !m->slots[j]; /* a tombstone reused was counted */
        m->nrows++;
    }
    m->slots[j] = copy;
    m->row_bytes += bytes;
    return WEIR_OK;
}

void weir_row_map_remove(weir_row_map *m, const weir_value *key)
{
    bool found = false;
    size_t j = m->nslots && !key->is_null ? slot_of(m, key, false, &found) : 0;
    if (!found)
        return;
    m->row_bytes -= weir_row_bytes(m->slots[j], m->schema->ncols);
    free(m->slots[j]);
    m->slots[j] = GONE;
    m->nrows--;
}

const weir_value *weir_row_map_get(const weir_row_map *m, const weir_value *key)
{
    bool found = false;
    size_t j = m->nslots && !key->is_null ? slot_of(m, key, false, &found) : 0;
    return found ? m->slots[j] : NULL;
}

uint64_t weir_row_map_rows(const weir_row_map *m) { return m->nrows; }

uint64_t weir_row_map_bytes(const weir_row_map *m) { return m->row_bytes + m->nslots * sizeof *m->slots; }

size_t weir_row_map_entry_size(const weir_row_map *m)
{
    (void)m;
    return 2 * sizeof(weir_value *); /* a slot, at the load factor of one half */
}

int weir_row_map_save(const weir_row_map *m, weir_buf *out)
{
    int rc = weir_put_u64(out, m->nrows);
    for (size_t i = 0; i < m->nslots && !rc; i++) {
        const weir_value *row = m->slots[i];
        for (int c = 0; row && row != GONE && c < m->schema->ncols && !rc; c++)
            rc = weir_snapshot_put_value(out, &row[c]);
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
