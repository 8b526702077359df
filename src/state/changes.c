/*
 * changes.c - a checkpoint's changes to one store table (changes.h).
 */
#include "state/changes.h"

#include <stdlib.h>
#include <string.h>

#define CHANGES_DEL UINT32_MAX

int weir_changes_add(weir_buf *b, const void *key, size_t klen, const void *val, size_t vlen)
{
    uint32_t lens[2] = {(uint32_t)klen, val ? (uint32_t)vlen : CHANGES_DEL};
    return weir_buf_append(b, lens, sizeof lens) || weir_buf_append(b, key, klen) || (val && weir_buf_append(b, val, vlen))
               ? -1 : 0;
}

int weir_changes_add_deletes(weir_buf *b, const weir_buf *keys)
{
    for (size_t at = 0; at + sizeof(uint32_t) <= keys->len;) {
        uint32_t len;
        memcpy(&len, keys->data + at, sizeof len);
        if (weir_changes_add(b, keys->data + at + sizeof len, len, NULL, 0))
            return -1;
        at += sizeof len + len;
    }
    return 0;
}

bool weir_changes_next(const weir_buf *b, size_t *at, const uint8_t **key, size_t *klen, const uint8_t **val,
                       size_t *vlen)
{
    if (*at >= b->len)
        return false;
    uint32_t lens[2];
    memcpy(lens, b->data + *at, sizeof lens);
    *key = b->data + *at + sizeof lens;
    *klen = lens[0];
    *val = lens[1] == CHANGES_DEL ? NULL : *key + lens[0];
    *vlen = lens[1] == CHANGES_DEL ? 0 : lens[1];
    *at += sizeof lens + lens[0] + *vlen;
    return true;
}

/* One change: its key's first 8 bytes as a big-endian number (so most
 * comparisons read no key), and where it starts in the buffer, which is
 * its order among changes to its key. */
typedef struct change {
    uint64_t prefix;
    const uint8_t *at;
} change;

static int by_key(const void *pa, const void *pb)
{
    const change *x = pa, *y = pb;
    if (x->prefix != y->prefix)
        return x->prefix < y->prefix ? -1 : 1;
    const uint8_t *a = x->at, *b = y->at;
    uint32_t la, lb;
    memcpy(&la, a, 4);
    memcpy(&lb, b, 4);
    int c = memcmp(a + 8, b + 8, la < lb ? la : lb);
    if (c)
        return c;
    if (la != lb)
        return la < lb ? -1 : 1;
    return a < b ? -1 : a > b; /* the same key: in the order added */
}

/* The first 8 bytes of a key as a big-endian number, zeros past its end. */
static uint64_t prefix_of(const uint8_t *key, uint32_t len)
{
    uint64_t p = 0;
    for (uint32_t i = 0; i < 8; i++)
        p = p << 8 | (i < len ? key[i] : 0);
    return p;
}

int weir_changes_write(weir_store_txn *txn, weir_store_table tbl, const weir_buf *b, weir_err *err)
{
    size_t n = 0;
    for (size_t at = 0; at < b->len; n++) {
        uint32_t lens[2];
        memcpy(lens, b->data + at, sizeof lens);
        at += sizeof lens + lens[0] + (lens[1] == CHANGES_DEL ? 0 : lens[1]);
    }
    change *c = malloc((n ? n : 1) * sizeof *c);
    if (!c)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    n = 0;
    for (size_t at = 0; at < b->len; n++) {
        uint32_t lens[2];
        memcpy(lens, b->data + at, sizeof lens);
        c[n].at = b->data + at;
        c[n].prefix = prefix_of(b->data + at + sizeof lens, lens[0]);
        at += sizeof lens + lens[0] + (lens[1] == CHANGES_DEL ? 0 : lens[1]);
    }
    qsort(c, n, sizeof *c, by_key);
    int rc = WEIR_OK;
    for (size_t i = 0; i < n && rc == WEIR_OK; i++) {
        uint32_t lens[2];
        memcpy(lens, c[i].at, sizeof lens);
        const uint8_t *key = c[i].at + sizeof lens;
        rc = lens[1] == CHANGES_DEL ? weir_store_del(txn, tbl, key, lens[0], NULL, err)
                                    : weir_store_put(txn, tbl, key, lens[0], key + lens[0], lens[1], err);
    }
    free(c);
    return rc;
}
