/*
 * tables_join.c - a table-table join's state (see tables_join.h): each
 * side's rows in a row_map by its key, and the key's joined row after
 * each change.
 */
#include "exec/tables_join.h"

#include <stdint.h>
#include <stdlib.h>

#include "exec/row_map.h"

struct weir_tables_join {
    const weir_join *j;            /* its kind and keys */
    const weir_schema *schema[2];  /* left's, right's */
    int key[2];                    /* each side's key column */
    weir_row_map *rows[2];
    weir_value *joined;            /* both sides' columns */
};

weir_tables_join *weir_tables_join_new(const weir_join *j, const weir_relation *left)
{
    weir_tables_join *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    *t = (weir_tables_join){j, {&left->schema, &j->right->schema}, {j->left_key, j->right_key}, {NULL, NULL}, NULL};
    for (int side = 0; side < 2; side++)
        t->rows[side] = weir_row_map_new(t->schema[side], t->key[side]);
    t->joined = malloc((size_t)(left->schema.ncols + j->right->schema.ncols) * sizeof *t->joined);
    if (!t->rows[0] || !t->rows[1] || !t->joined) {
        weir_tables_join_free(t);
        return NULL;
    }
    return t;
}

void weir_tables_join_free(weir_tables_join *t)
{
    if (!t)
        return;
    weir_row_map_free(t->rows[0]);
    weir_row_map_free(t->rows[1]);
    free(t->joined);
    free(t);
}

weir_value weir_join_key_as(const weir_value *v, weir_type t)
{
    if (v->is_null || v->type == t)
        return *v;
    if (t == WEIR_TYPE_UINT)
        return v->i >= 0 ? weir_uint((uint64_t)v->i) : weir_null(t);
    return v->u <= INT64_MAX ? weir_int((int64_t)v->u) : weir_null(t);
}

/* Whether a key with these rows (NULL: none) has a joined row. */
static bool has_row(weir_join_kind kind, const weir_value *left, const weir_value *right)
{
    switch (kind) {
    case WEIR_JOIN_INNER: return left && right;
    case WEIR_JOIN_LEFT: return left != NULL;
    default: return left || right;
    }
}

/* The joined row of left and right (either may be NULL: its columns NULL,
 * but for the left key, which a FULL join's row always has). */
static const weir_value *join_rows(weir_tables_join *t, const weir_value *left, const weir_value *right)
{
    int nl = t->schema[0]->ncols, nr = t->schema[1]->ncols;
    for (int c = 0; c < nl; c++)
        t->joined[c] = left ? left[c] : weir_null(t->schema[0]->cols[c].type);
    for (int c = 0; c < nr; c++)
        t->joined[nl + c] = right ? right[c] : weir_null(t->schema[1]->cols[c].type);
    if (!left)
        t->joined[t->key[0]] = weir_join_key_as(&right[t->key[1]], t->schema[0]->cols[t->key[0]].type);
    return t->joined;
}

/* Both sides' rows of the keys k (NULL: none). */
static int find_both(weir_tables_join *t, const weir_value *k, const weir_value **left, const weir_value **right,
                     weir_err *err)
{
    int rc = weir_row_map_find(t->rows[0], &k[0], left, err);
    return rc ? rc : weir_row_map_find(t->rows[1], &k[1], right, err);
}

int weir_tables_join_update(weir_tables_join *t, unsigned sides, const weir_value *row, const weir_value *key, int64_t ts,
                            const weir_tables_join_out *out, weir_err *err)
{
    int side = sides & 1 ? 0 : 1; /* the side whose key's type k has */
    weir_value k[2];
    k[side] = row ? row[t->key[side]] : *key;
    if (k[side].is_null) /* a row without its key meets nothing (and a source table has none) */
        return WEIR_OK;
    k[!side] = weir_join_key_as(&k[side], t->schema[!side]->cols[t->key[!side]].type);
    const weir_value *left, *right;
    int rc = find_both(t, k, &left, &right, err);
    if (rc)
        return rc;
    bool had = has_row(t->j->kind, left, right) && out->shown(out->ctx, join_rows(t, left, right));
    for (int s = 0; s < 2; s++) {
        if (!(sides & (1u << s)))
            continue;
        if (row ? weir_row_map_upsert(t->rows[s], row) : weir_row_map_remove(t->rows[s], &k[s]))
            return WEIR_ENOMEM;
    }
    if ((rc = find_both(t, k, &left, &right, err)))
        return rc;
    const weir_value *joined = has_row(t->j->kind, left, right) ? join_rows(t, left, right) : NULL;
    return out->changed(out->ctx, joined, &k[0], had, ts);
}

uint64_t weir_tables_join_entries(const weir_tables_join *t)
{
    return weir_row_map_rows(t->rows[0]) + weir_row_map_rows(t->rows[1]);
}

uint64_t weir_tables_join_bytes(const weir_tables_join *t)
{
    return weir_row_map_bytes(t->rows[0]) + weir_row_map_bytes(t->rows[1]);
}

size_t weir_tables_join_entry_size(const weir_tables_join *t) { return weir_row_map_entry_size(t->rows[0]); }

int weir_tables_join_save(const weir_tables_join *t, weir_buf *out)
{
    int rc = weir_row_map_save(t->rows[0], out);
    return rc ? rc : weir_row_map_save(t->rows[1], out);
}

weir_row_map *weir_tables_join_rows(weir_tables_join *t, int side) { return t->rows[side]; }

int weir_tables_join_load(weir_tables_join *t, weir_reader_buf *r)
{
    int rc = weir_row_map_load(t->rows[0], r);
    return rc ? rc : weir_row_map_load(t->rows[1], r);
}
