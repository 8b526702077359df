/*
 * offsets.c - the _offsets table (offsets.h): keys through key.h like any
 * table's, so its entries sort by kind, then name, then partition.
 */
#include "state/offsets.h"

#include <string.h>

#include "state/key.h"

enum { VALUE_VERSION = 1, VALUE_SIZE = 9 };

static const char *kind_name(weir_offset_kind kind)
{
    switch (kind) {
    case WEIR_OFFSET_INPUT: return "input";
    case WEIR_OFFSET_OUTPUT: return "output";
    case WEIR_OFFSET_SINK: return "sink";
    }
    return "?";
}

int weir_offsets_table(weir_store *s, bool create, weir_store_table *t, weir_err *err)
{
    return weir_store_table_open(s, "_offsets", create, t, err);
}

static int make_key(weir_buf *key, weir_offset_kind kind, const char *name, uint32_t partition, weir_err *err)
{
    weir_value cols[3] = {weir_uint((uint64_t)kind), weir_text(name, strlen(name)), weir_uint(partition)};
    return weir_key_encode(key, cols, 3, err);
}

int weir_offsets_put(weir_store_txn *txn, weir_store_table t, weir_offset_kind kind, const char *name,
                     uint32_t partition, uint64_t offset, weir_err *err)
{
    weir_buf key = {0};
    uint8_t val[VALUE_SIZE] = {VALUE_VERSION};
    for (int i = 0; i < 8; i++)
        val[1 + i] = (uint8_t)(offset >> (56 - 8 * i));
    int rc = make_key(&key, kind, name, partition, err);
    if (rc == WEIR_OK)
        rc = weir_store_put(txn, t, key.data, key.len, val, sizeof val, err);
    weir_buf_free(&key);
    return rc;
}

int weir_offsets_del(weir_store_txn *txn, weir_store_table t, weir_offset_kind kind, const char *name,
                     uint32_t partition, weir_err *err)
{
    weir_buf key = {0};
    int rc = make_key(&key, kind, name, partition, err);
    if (rc == WEIR_OK)
        rc = weir_store_del(txn, t, key.data, key.len, NULL, err);
    weir_buf_free(&key);
    return rc;
}

int weir_offsets_get(weir_store_snap *r, weir_store_table t, weir_offset_kind kind, const char *name,
                     uint32_t partition, uint64_t *offset, bool *found, weir_err *err)
{
    weir_buf key = {0};
    const void *v = NULL;
    size_t vlen = 0;
    int rc = make_key(&key, kind, name, partition, err);
    if (rc == WEIR_OK)
        rc = weir_store_snap_get(r, t, key.data, key.len, &v, &vlen, found, err);
    weir_buf_free(&key);
    if (rc || !*found)
        return rc;
    const uint8_t *p = v;
    if (vlen != VALUE_SIZE || p[0] != VALUE_VERSION)
        return weir_err_set(err, WEIR_ECORRUPT, "state store: _offsets: %s %s/%u holds %zu bytes of version %u, "
                            "not %d of version %d; `weir serve --reset` rebuilds the store from the retained inputs",
                            kind_name(kind), name, partition, vlen, vlen ? p[0] : 0u, VALUE_SIZE, VALUE_VERSION);
    uint64_t o = 0;
    for (int i = 0; i < 8; i++)
        o = o << 8 | p[1 + i];
    *offset = o;
    return WEIR_OK;
}
