/*
 * fuzz_key.c - the state store's key decoder (state/key.h) on arbitrary
 * bytes, as a damaged store would hand it: decoding must fail cleanly or
 * succeed, and what it accepts must be canonical: encoding the values
 * again gives the same bytes. prefix_end must bound the input. The same
 * bytes as a table row's value in the store (state/rows.h: a version byte,
 * then this encoding) must be refused cleanly or give a row of the
 * table's column types. Split as a byte giving the key's length, a store
 * key and a value (either version: a view's rows are version 2, the key's
 * columns in the key only), they must be refused cleanly or give such a
 * row, and a version 2 row is written again as the same key and value.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "state/key.h"
#include "state/rows.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    weir_value vals[8];
    int n;
    weir_arena a = {0};
    weir_err err;
    if (weir_key_decode(data, size, vals, 8, &n, &a, &err) == WEIR_OK) {
        weir_buf again = {0};
        if (weir_key_encode(&again, vals, n, &err) != WEIR_OK || again.len != size ||
            (size && memcmp(again.data, data, size) != 0))
            abort(); /* decode accepted a key encode would not write */
        weir_buf_free(&again);
    } else if (err.code != WEIR_ECORRUPT && err.code != WEIR_ENOMEM) {
        abort();
    }
    weir_arena_free(&a);
    weir_buf end = {0};
    bool bounded;
    if (weir_key_prefix_end(data, size, &end, &bounded, &err) == WEIR_OK && bounded &&
        (end.len > size || memcmp(end.data, data, end.len) <= 0))
        abort(); /* the end must sort after the prefix */
    weir_buf_free(&end);

    weir_column cols[3] = {{"t", WEIR_TYPE_TEXT}, {"u", WEIR_TYPE_UINT}, {"d", WEIR_TYPE_DOUBLE}};
    weir_schema schema = {cols, 3};
    weir_value row[3];
    if (weir_rows_decode("fuzz", &schema, data, size, row, &a, &err) == WEIR_OK) {
        weir_buf value = {0};
        for (int i = 0; i < 3; i++)
            if (row[i].type != cols[i].type)
                abort(); /* a row whose columns are not the table's */
        if (weir_rows_value(row, 3, &value, &err) != WEIR_OK)
            abort();
        weir_buf_free(&value);
    } else if (err.code != WEIR_ECORRUPT && err.code != WEIR_ENOMEM) {
        abort();
    }
    weir_arena_free(&a);

    if (size == 0)
        return 0;
    size_t klen = data[0] < size - 1 ? data[0] : size - 1;
    const uint8_t *key = data + 1, *val = key + klen;
    size_t vlen = size - 1 - klen;
    int pk[2] = {2, 0}; /* (d, t): the key's columns out of the row's order */
    if (weir_rows_decode_keyed("fuzz", &schema, pk, 2, key, klen, val, vlen, row, &a, &err) == WEIR_OK) {
        weir_buf k2 = {0}, v2 = {0};
        for (int i = 0; i < 3; i++)
            if (row[i].type != cols[i].type)
                abort(); /* a row whose columns are not the table's */
        if (weir_rows_key(NULL, row, pk, 2, &k2, &err) != WEIR_OK ||
            weir_rows_value_keyed(NULL, row, 3, pk, 2, k2.len, &v2, &err) != WEIR_OK)
            abort();
        if (vlen && val[0] == WEIR_ROWS_VERSION_KEYED &&
            (k2.len != klen || memcmp(k2.data, key, klen) || v2.len != vlen || memcmp(v2.data, val, vlen)))
            abort(); /* decode accepted a row the writer would not write */
        weir_buf_free(&k2);
        weir_buf_free(&v2);
    } else if (err.code != WEIR_ECORRUPT && err.code != WEIR_ENOMEM) {
        abort();
    }
    weir_arena_free(&a);
    return 0;
}
