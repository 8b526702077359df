/*
 * format.c - the store's format marker (store_internal.h): which weir may
 * open a store.
 *
 * The formats of a store's values change between versions of weir (row
 * version 2, packed accumulators, a query's rows without a groups: table);
 * a weir that reads a newer store than it knows would misread it, silently
 * where a table it expects is simply empty. So the writer marks the store
 * with the lowest format a reader must know, in its first commit (not at
 * open: a start refused before it writes anything leaves a store that the
 * weir which wrote it still opens), and an open refuses a store marked
 * higher than WEIR_STORE_FORMAT (store.h). The marker is a plain entry of
 * LMDB's main database, where the tables' names are: weirs from before the
 * marker, which open every name there as a table, refuse such a store as
 * not a store (with `--reset` as the way on) instead of misreading it.
 *
 * Formats: 1, stores without the marker (what any earlier weir wrote);
 * 2, this weir's.
 */
#include "state/store_internal.h"

#include <string.h>

#define FORMAT_KEY "_format"

bool store_format_key(const MDB_val *k)
{
    return k->mv_size == strlen(FORMAT_KEY) && !memcmp(k->mv_data, FORMAT_KEY, k->mv_size);
}

int store_format_check(weir_store *s, const MDB_val *v, weir_err *err)
{
    uint8_t b[4];
    if (v->mv_size != sizeof b)
        return weir_err_set(err, WEIR_ECORRUPT, "state store %s: its format marker is %zu bytes, not 4; it is damaged: "
                            "`weir serve --reset` rebuilds it from the retained inputs", s->file, v->mv_size);
    memcpy(b, v->mv_data, sizeof b);
    uint32_t format = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    if (format > WEIR_STORE_FORMAT)
        return weir_err_set(err, WEIR_EINVAL, "state store %s: written by a newer weir (store format %u; this weir "
                            "reads formats up to %u): run that weir, or `weir serve --reset`, which rebuilds the store "
                            "from the retained inputs", s->file, format, WEIR_STORE_FORMAT);
    s->format = format;
    return WEIR_OK;
}

int store_format_put(weir_store *s, MDB_txn *txn)
{
    if (s->format == WEIR_STORE_FORMAT)
        return 0;
    uint32_t f = WEIR_STORE_FORMAT;
    uint8_t b[4] = {f & 0xff, f >> 8 & 0xff, f >> 16 & 0xff, f >> 24};
    MDB_val k = {strlen(FORMAT_KEY), FORMAT_KEY}, v = {sizeof b, b};
    MDB_dbi main;
    int rc = mdb_dbi_open(txn, NULL, 0, &main);
    return rc ? rc : mdb_put(txn, main, &k, &v, 0);
}
