/*
 * group_windows.c - a windowed grouped-state table's entries by window
 * (see group_windows.h).
 */
#include "state/group_windows.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

void weir_gwin_init(weir_gwin *w, int nkeys)
{
    *w = (weir_gwin){.nkeys = nkeys, .item_size = 8 + (size_t)nkeys * sizeof(weir_value)};
}

void weir_gwin_free(weir_gwin *w)
{
    for (size_t i = 0; i < w->nb; i++)
        free(w->b[i].items);
    free(w->b);
    weir_gwin_init(w, w->nkeys);
}

size_t weir_gwin_seek(const weir_gwin *w, int64_t window)
{
    if (w->nb && w->b[w->nb - 1].window < window)
        return w->nb; /* past the newest: records mostly come in time order */
    size_t lo = 0, hi = w->nb;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w->b[mid].window < window)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The bucket of window, made (empty) at its place if absent: NULL when out of memory. */
static weir_gwin_bucket *bucket_for(weir_gwin *w, int64_t window)
{
    size_t at = weir_gwin_seek(w, window);
    if (at < w->nb && w->b[at].window == window)
        return &w->b[at];
    if (w->nb == w->cap) {
        size_t had = w->cap;
        weir_gwin_bucket *b = weir_array_grow(w->b, &w->cap, sizeof *b, 16);
        if (!b)
            return NULL;
        w->b = b;
        w->bytes += (w->cap - had) * sizeof *b;
    }
    memmove(&w->b[at + 1], &w->b[at], (w->nb - at) * sizeof *w->b);
    w->b[at] = (weir_gwin_bucket){.window = window};
    w->nb++;
    return &w->b[at];
}

/* Removes bucket at (empty) from the array. */
static void remove_bucket(weir_gwin *w, size_t at)
{
    free(w->b[at].items);
    w->bytes -= w->b[at].cap * w->item_size;
    memmove(&w->b[at], &w->b[at + 1], (w->nb - at - 1) * sizeof *w->b);
    w->nb--;
}

int weir_gwin_add(weir_gwin *w, int64_t window, uint64_t hash, const weir_value *keys)
{
    weir_gwin_bucket *b = bucket_for(w, window);
    if (!b)
        return -1;
    if (b->n == b->cap) {
        size_t had = b->cap;
        uint8_t *items = weir_array_grow(b->items, &b->cap, w->item_size, 8);
        if (!items) {
            if (!b->n)
                remove_bucket(w, (size_t)(b - w->b));
            return -1;
        }
        b->items = items;
        w->bytes += (b->cap - had) * w->item_size;
    }
    uint8_t *item = b->items + b->n++ * w->item_size;
    memcpy(item, &hash, 8);
    memcpy(item + 8, keys, (size_t)w->nkeys * sizeof *keys);
    return 0;
}

void weir_gwin_remove(weir_gwin *w, int64_t window, uint64_t hash, const weir_value *keys)
{
    size_t at = weir_gwin_seek(w, window);
    if (at == w->nb || w->b[at].window != window)
        return;
    weir_gwin_bucket *b = &w->b[at];
    size_t klen = (size_t)w->nkeys * sizeof *keys;
    for (size_t i = 0; i < b->n; i++) {
        uint8_t *item = b->items + (size_t)i * w->item_size;
        if (weir_gwin_hash(w, b, i) != hash || memcmp(item + 8, keys, klen) != 0)
            continue;
        /* the last item fills its place: order within a bucket means nothing */
        memmove(item, b->items + (b->n - 1) * w->item_size, w->item_size);
        if (--b->n == 0)
            remove_bucket(w, at);
        return;
    }
}

void weir_gwin_drop_front(weir_gwin *w, size_t n)
{
    if (!n)
        return; /* w->b may be NULL */
    for (size_t i = 0; i < n; i++) {
        free(w->b[i].items);
        w->bytes -= w->b[i].cap * w->item_size;
    }
    memmove(w->b, w->b + n, (w->nb - n) * sizeof *w->b);
    w->nb -= n;
}
