/*
 * rows.c - a table's rows in the state store (rows.h): the store key of
 * a primary key, the value of a row, and back.
 */
#include "state/rows.h"

#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "state/key.h"

#define HASH_BYTES 8

int weir_rows_table(weir_store *s, const char *name, bool create, weir_store_table *t, weir_err *err)
{
    char full[300];
    if (snprintf(full, sizeof full, "table:%s", name) > 255)
        return weir_err_set(err, WEIR_EINVAL, "table %s: a name this long has no table in the state store (249 bytes at most)",
                            name);
    return weir_store_table_open(s, full, create, t, err);
}

/* Error values are written as NULL of their type (see rows.h): key.h refuses them. */
static int encode(weir_buf *out, const weir_value *vals, const int *cols, int n, weir_err *err)
{
    int rc = WEIR_OK;
    for (int i = 0; i < n && rc == WEIR_OK; i++) {
        weir_value v = vals[cols ? cols[i] : i];
        if (v.err)
            v = weir_null((weir_type)v.type);
        rc = weir_key_encode(out, &v, 1, err);
    }
    return rc;
}

/* Cuts out[from..] to the store's longest key, the last HASH_BYTES the hash of the whole. */
static int fit(const weir_store *s, weir_buf *out, size_t from, weir_err *err)
{
    size_t max = weir_store_max_key(s), len = out->len - from;
    if (len <= max)
        return WEIR_OK;
    uint64_t h = XXH64(out->data + from, len, 0);
    out->len = from + max - HASH_BYTES;
    uint8_t tail[HASH_BYTES];
    for (int i = 0; i < HASH_BYTES; i++)
        tail[i] = (uint8_t)(h >> (56 - 8 * i));
    return weir_buf_append(out, tail, sizeof tail) ? weir_err_set(err, WEIR_ENOMEM, "out of memory") : WEIR_OK;
}

int weir_rows_key(const weir_store *s, const weir_value *row, const int *pk, int npk, weir_buf *out, weir_err *err)
{
    size_t from = out->len;
    if (npk == 0) /* a table without a key has one row; an encoded tuple never starts with 0x00 */
        return weir_buf_append(out, "", 1) ? weir_err_set(err, WEIR_ENOMEM, "out of memory") : WEIR_OK;
    int rc = encode(out, row, pk, npk, err);
    return rc ? rc : fit(s, out, from, err);
}

int weir_rows_prefix(const weir_store *s, const weir_value *first, weir_buf *out, weir_buf *end, bool *bounded,
                     weir_err *err)
{
    size_t from = out->len;
    int rc = encode(out, first, NULL, 1, err);
    if (rc == WEIR_OK && out->len - from > weir_store_max_key(s) - HASH_BYTES) /* as fit() cuts a longer key */
        out->len = from + weir_store_max_key(s) - HASH_BYTES;
    return rc ? rc : weir_key_prefix_end(out->data + from, out->len - from, end, bounded, err);
}

int weir_rows_value(const weir_value *row, int n, weir_buf *out, weir_err *err)
{
    uint8_t version = WEIR_ROWS_VERSION;
    if (weir_buf_append(out, &version, 1))
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    return encode(out, row, NULL, n, err);
}

static bool in_key(const int *pk, int npk, int col)
{
    for (int j = 0; j < npk; j++)
        if (pk[j] == col)
            return true;
    return false;
}

int weir_rows_value_keyed(const weir_store *s, const weir_value *row, int n, const int *pk, int npk, size_t klen,
                          weir_buf *out, weir_err *err)
{
    if (npk == 0 || klen >= weir_store_max_key(s)) /* no key, or perhaps cut: the whole row */
        return weir_rows_value(row, n, out, err);
    uint8_t version = WEIR_ROWS_VERSION_KEYED;
    if (weir_buf_append(out, &version, 1))
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    int rc = WEIR_OK;
    for (int i = 0; i < n && rc == WEIR_OK; i++)
        if (!in_key(pk, npk, i))
            rc = encode(out, row, &i, 1, err);
    return rc;
}

static int corrupt(const char *table, const char *what, int n, int want, weir_err *err)
{
    return weir_err_set(err, WEIR_ECORRUPT, "state store: table %s: a row with %d %s, not %d; `weir serve --reset` "
                        "rebuilds the store from the retained inputs", table, n, what, want);
}

/* Checks each column's type against the schema's (a NULL takes the column's). */
static int check_types(const char *table, const weir_schema *schema, weir_value *vals, weir_err *err)
{
    for (int i = 0; i < schema->ncols; i++)
        if (vals[i].is_null) /* a NULL keeps the type its writer gave it, which the column's need not be */
            vals[i].type = (uint8_t)schema->cols[i].type;
        else if (vals[i].type != schema->cols[i].type)
            return weir_err_set(err, WEIR_ECORRUPT, "state store: table %s: column %s holds %s, not %s; `weir serve "
                                "--reset` rebuilds the store from the retained inputs", table, schema->cols[i].name,
                                weir_type_name((weir_type)vals[i].type), weir_type_name(schema->cols[i].type));
    return WEIR_OK;
}

int weir_rows_decode(const char *table, const weir_schema *schema, const void *val, size_t len, weir_value *vals,
                     weir_arena *a, weir_err *err)
{
    const uint8_t *p = val;
    if (len < 1 || p[0] != WEIR_ROWS_VERSION)
        return weir_err_set(err, WEIR_ECORRUPT, "state store: table %s: a row of version %u, not %d; `weir serve "
                            "--reset` rebuilds the store from the retained inputs", table, len ? p[0] : 0u, WEIR_ROWS_VERSION);
    int n;
    int rc = weir_key_decode(p + 1, len - 1, vals, schema->ncols, &n, a, err);
    if (rc)
        return weir_err_wrap(err, "state store: table %s: a row", table);
    if (n != schema->ncols)
        return corrupt(table, "columns", n, schema->ncols, err);
    return check_types(table, schema, vals, err);
}

int weir_rows_decode_keyed(const char *table, const weir_schema *schema, const int *pk, int npk, const void *key,
                           size_t klen, const void *val, size_t len, weir_value *vals, weir_arena *a, weir_err *err)
{
    const uint8_t *p = val;
    if (len < 1 || p[0] != WEIR_ROWS_VERSION_KEYED)
        return weir_rows_decode(table, schema, val, len, vals, a, err);
    int ncols = schema->ncols, nrest = ncols - npk, n;
    if (npk < 1 || nrest < 0) /* the writer's store has this table keyed otherwise */
        return corrupt(table, "key columns", npk, 1, err);
    /* the key's columns, then the value's, decoded apart and then put in their places */
    weir_value *keys = weir_arena_alloc(a, (size_t)ncols * sizeof *keys), *rest = keys ? keys + npk : NULL;
    if (!keys)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    if (weir_key_decode(key, klen, keys, npk, &n, a, err) != WEIR_OK)
        return weir_err_wrap(err, "state store: table %s: a row's key", table);
    if (n != npk)
        return corrupt(table, "key columns", n, npk, err);
    if (weir_key_decode(p + 1, len - 1, rest, nrest, &n, a, err) != WEIR_OK)
        return weir_err_wrap(err, "state store: table %s: a row", table);
    if (n != nrest)
        return corrupt(table, "columns besides its key", n, nrest, err);
    for (int i = 0, k = 0; i < ncols; i++)
        if (!in_key(pk, npk, i))
            vals[i] = rest[k++];
    for (int j = 0; j < npk; j++)
        vals[pk[j]] = keys[j];
    return check_types(table, schema, vals, err);
}
