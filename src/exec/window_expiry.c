/*
 * window_expiry.c - a windowed table's rows by window end, until its
 * retention passes (window_expiry.h).
 *
 * The rows are one byte string, per row i64 window end, i64 window start
 * and the group keys as checkpoints write values (which is also what a
 * checkpoint saves of it); the live ones start at `head`. Taking rows
 * moves head, and the live bytes slide back to the front once head passes
 * half of them.
 */
#include "exec/window_expiry.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "exec/engine_internal.h"

#define MAX_KEYS 64 /* a row's keys are read into an array this long (the snapshot's own limit) */

struct weir_expiry {
    int nkeys;
    weir_buf bytes;
    size_t head;               /* the first live row's offset */
    uint64_t rows;             /* live rows */
};

weir_expiry *weir_expiry_new(int nkeys)
{
    if (nkeys > MAX_KEYS)
        return NULL;
    weir_expiry *x = calloc(1, sizeof *x);
    if (x)
        x->nkeys = nkeys;
    return x;
}

void weir_expiry_free(weir_expiry *x)
{
    if (!x)
        return;
    weir_buf_free(&x->bytes);
    free(x);
}

int weir_expiry_add(weir_expiry *x, const weir_value *keys, int64_t ws, int64_t we)
{
    if (x->head > 0 && x->head * 2 >= x->bytes.len) { /* slide the live rows back to the front */
        memmove(x->bytes.data, x->bytes.data + x->head, x->bytes.len - x->head);
        x->bytes.len -= x->head;
        x->head = 0;
    }
    size_t before = x->bytes.len;
    if (weir_expiry_put_row(&x->bytes, x->nkeys, keys, ws, we)) {
        x->bytes.len = before;
        return -1;
    }
    x->rows++;
    return 0;
}

int weir_expiry_put_row(weir_buf *b, int nkeys, const weir_value *keys, int64_t ws, int64_t we)
{
    int rc = weir_put_u64(b, (uint64_t)we) || weir_put_u64(b, (uint64_t)ws);
    for (int k = 0; k < nkeys && !rc; k++)
        rc = weir_snapshot_put_value(b, &keys[k]);
    return rc ? -1 : 0;
}

bool weir_expiry_get_row(weir_reader_buf *r, int nkeys, weir_value *keys, int64_t *ws, int64_t *we)
{
    *we = (int64_t)weir_get_u64(r);
    *ws = (int64_t)weir_get_u64(r);
    for (int k = 0; k < nkeys; k++)
        keys[k] = weir_snapshot_get_value(r);
    return !r->bad;
}

int64_t weir_expiry_first_end(const weir_expiry *x)
{
    int64_t end;
    if (!x->rows)
        return INT64_MAX;
    memcpy(&end, x->bytes.data + x->head, sizeof end);
    return end;
}


/* Forgets the row at the front, which ended at `next`. */
static void forget_front(weir_expiry *x, const uint8_t *next)
{
    x->head = (size_t)(next - x->bytes.data);
    if (!--x->rows) { /* the memory goes too: with a store, most of the time no row waits here */
        weir_buf_free(&x->bytes);
        x->head = 0;
    }
}

int weir_expiry_take(weir_expiry *x, int64_t upto, weir_expiry_fn fn, void *ctx)
{
    weir_value keys[MAX_KEYS];
    while (x->rows && weir_expiry_first_end(x) <= upto) {
        weir_reader_buf r = {x->bytes.data + x->head, x->bytes.data + x->bytes.len, false};
        int64_t we, ws;
        if (!weir_expiry_get_row(&r, x->nkeys, keys, &ws, &we))
            return WEIR_ECORRUPT; /* not after a load, which checks every row */
        int rc = fn(ctx, keys, ws, we);
        if (rc)
            return rc;
        forget_front(x, r.p);
    }
    return WEIR_OK;
}

int weir_expiry_each(const weir_expiry *x, uint64_t skip, weir_expiry_fn fn, void *ctx)
{
    weir_value keys[MAX_KEYS];
    weir_reader_buf r = {x->bytes.data + x->head, x->bytes.data + x->bytes.len, false};
    for (uint64_t i = 0; i < x->rows; i++) {
        int64_t we, ws;
        if (!weir_expiry_get_row(&r, x->nkeys, keys, &ws, &we))
            return WEIR_ECORRUPT;
        int rc = i >= skip ? fn(ctx, keys, ws, we) : 0;
        if (rc)
            return rc;
    }
    return WEIR_OK;
}

void weir_expiry_drop(weir_expiry *x, uint64_t n)
{
    weir_value keys[MAX_KEYS];
    while (n-- > 0 && x->rows) {
        weir_reader_buf r = {x->bytes.data + x->head, x->bytes.data + x->bytes.len, false};
        int64_t we, ws;
        if (!weir_expiry_get_row(&r, x->nkeys, keys, &ws, &we))
            return;
        forget_front(x, r.p);
    }
}

uint64_t weir_expiry_rows(const weir_expiry *x) { return x->rows; }

size_t weir_expiry_bytes(const weir_expiry *x) { return x->bytes.cap; }

int weir_expiry_save(const weir_expiry *x, weir_buf *out)
{
    size_t len = x->bytes.len - x->head;
    if (len > UINT32_MAX)
        return WEIR_EINVAL; /* the checkpoint's length word: 4 GiB of rows (tens of millions) is past any state kept whole */
    int rc = weir_put_u64(out, x->rows) || weir_put_u32(out, (uint32_t)len) ||
             (len && weir_buf_append(out, x->bytes.data + x->head, len));
    return rc ? WEIR_ENOMEM : WEIR_OK;
}

int weir_expiry_load(weir_expiry *x, weir_reader_buf *r)
{
    x->head = x->bytes.len = 0;
    x->rows = 0;
    uint64_t rows = weir_get_u64(r);
    uint32_t len;
    const uint8_t *p = weir_get_bytes(r, &len);
    if (r->bad)
        return WEIR_ECORRUPT;
    weir_reader_buf rows_r = {p, p + len, false};
    weir_value keys[MAX_KEYS];
    int64_t we, ws;
    for (uint64_t i = 0; i < rows; i++)
        if (!weir_expiry_get_row(&rows_r, x->nkeys, keys, &ws, &we))
            return WEIR_ECORRUPT;
    if (rows_r.p != rows_r.end)
        return WEIR_ECORRUPT;
    if (len && weir_buf_append(&x->bytes, p, len))
        return WEIR_ENOMEM;
    x->rows = rows;
    return WEIR_OK;
}
