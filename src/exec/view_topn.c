/*
 * view_topn.c - ORDER BY col [DESC], ... LIMIT k over a table view without
 * a sort of the whole table (docs/STATE_STORE.md, "Top-N from an ordered
 * index"): the store's index of col (state/index.h) is walked from its
 * best end, and the memory rows that may differ from the store (the
 * writer's rows changed since the last commit; a reader's every memory
 * row) are read beside it.
 *
 * The answer must be the one the scan gives (weir_pull_offer_view's other
 * path): every memory row in memory order, then the store's other rows in
 * key order, the run keeping the k best by the whole ORDER BY and, among
 * equal ones, the first offered. So the candidates are the rows whose col
 * is no worse than the k-th best col seen; the walk stops at the first
 * entry worse than that (every entry after it is no better), and the
 * candidates are offered in the scan's order: those in memory by their
 * place there, then the store's by key. A row outside them has k rows
 * strictly before it, so it is in no answer either way.
 */
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "exec/table_view_internal.h"
#include "state/index.h"
#include "state/rows.h"

typedef struct cand {
    const weir_value *row;
    size_t mem;                /* its place in memory, or SIZE_MAX: a store row, at ... */
    const uint8_t *skey;       /* ... its store key (in the snapshot's map) */
    size_t sklen;
} cand;

typedef struct topn {
    int col;
    bool desc;
    size_t k;
    const weir_value **heap;   /* the k best col values seen; heap[0] the worst of them */
    size_t nheap, heap_cap;
    cand *c;
    size_t n, cap;
} topn;

/* Whether a sorts before b by the ORDER BY's first item. */
static bool better(const topn *t, const weir_value *a, const weir_value *b)
{
    int c = weir_value_cmp(a, b);
    return t->desc ? c > 0 : c < 0;
}

/* Whether no row with x can be among the k best: k values better than it are known. */
static bool out_of_reach(const topn *t, const weir_value *x) { return t->nheap == t->k && better(t, t->heap[0], x); }

static void heap_down(topn *t, size_t i)
{
    for (;;) {
        size_t worst = i;
        for (size_t c = 2 * i + 1; c < 2 * i + 3 && c < t->nheap; c++)
            if (better(t, t->heap[worst], t->heap[c]))
                worst = c;
        if (worst == i)
            return;
        const weir_value *x = t->heap[i];
        t->heap[i] = t->heap[worst];
        t->heap[worst] = x;
        i = worst;
    }
}

/* Keeps x among the k best values if it is one. */
static void see(topn *t, const weir_value *x)
{
    if (t->nheap < t->k) {
        size_t i = t->nheap++;
        t->heap[i] = x;
        while (i && better(t, t->heap[(i - 1) / 2], x)) {
            t->heap[i] = t->heap[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        t->heap[i] = x;
        return;
    }
    if (better(t, x, t->heap[0])) {
        t->heap[0] = x;
        heap_down(t, 0);
    }
}

static int add(topn *t, const weir_value *row, size_t mem, const void *skey, size_t sklen, weir_err *err)
{
    if (t->n == t->cap) {
        cand *c = weir_array_grow(t->c, &t->cap, sizeof *c, 64);
        if (!c)
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        t->c = c;
    }
    if (t->nheap < t->k && t->nheap == t->heap_cap) { /* grows with the rows seen, not with LIMIT */
        const weir_value **h = weir_array_grow(t->heap, &t->heap_cap, sizeof *h, 16);
        if (!h)
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        t->heap = h;
    }
    t->c[t->n++] = (cand){row, mem, skey, sklen};
    see(t, &row[t->col]);
    return WEIR_OK;
}

/* The scan's order: memory rows by place, then store rows by key (as LMDB orders keys). */
static int scan_order(const void *pa, const void *pb)
{
    const cand *a = pa, *b = pb;
    if (a->mem != b->mem)
        return a->mem < b->mem ? -1 : 1;
    if (a->mem != SIZE_MAX)
        return 0;
    int c = memcmp(a->skey, b->skey, a->sklen < b->sklen ? a->sklen : b->sklen);
    return c ? c : (a->sklen > b->sklen) - (a->sklen < b->sklen);
}

/* Whether memory row i may differ from the store's row of its key. */
static bool unsettled(const weir_table_view *v, size_t i) { return !v->writer || (i < v->is_changed_cap && v->is_changed[i]); }

/* The memory rows that may differ from the store, removals left out. */
static int add_unsettled(topn *t, const weir_table_view *v, weir_err *err)
{
    int rc = WEIR_OK;
    size_t n = v->writer ? v->nchanged : v->n;
    for (size_t j = 0; j < n && rc == WEIR_OK; j++) {
        size_t i = v->writer ? v->changed[j] : j;
        if (!view_is_removal(v, v->rows[i]))
            rc = add(t, v->rows[i], i, NULL, 0, err);
    }
    return rc;
}

/* Walks col's index from its best end until no entry left can be among the k best. */
static int walk(topn *t, weir_table_view *v, weir_store_snap *snap, weir_arena *a, weir_err *err)
{
    weir_buf lo = {0}, hi = {0};
    weir_store_cursor *c = NULL;
    int ncols = v->table->schema.ncols;
    int rc = weir_index_range(t->col, &lo, &hi, err);
    weir_store_range range = {lo.data, lo.len, hi.data, hi.len, t->desc};
    if (rc == WEIR_OK)
        rc = weir_store_snap_scan(snap, v->itbl, &range, &c, err);
    for (bool got = true; rc == WEIR_OK;) {
        const void *key, *rkey, *val;
        size_t klen, rklen, vlen;
        bool found;
        if ((rc = weir_store_next(c, &key, &klen, &rkey, &rklen, &got, err)) || !got)
            break;
        if ((rc = weir_store_snap_get(snap, v->tbl, rkey, rklen, &val, &vlen, &found, err)))
            break;
        if (!found) {
            rc = weir_err_set(err, WEIR_ECORRUPT, "state store: table %s: its index names a row the table lacks; `weir "
                              "serve --reset` rebuilds the store from the retained inputs", v->table->name);
            break;
        }
        weir_value *row = weir_arena_alloc(a, (size_t)(ncols + 1) * sizeof *row);
        if (!row) {
            rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
            break;
        }
        if ((rc = weir_rows_decode_keyed(v->table->name, &v->table->schema, v->table->pk, v->table->npk, rkey, rklen, val,
                                         vlen, row, a, err)))
            break;
        /* a cut key's place is its hash's among keys sharing its first bytes: walk on past them */
        if (out_of_reach(t, &row[t->col]) && !weir_index_key_cut(v->store, klen))
            break;
        size_t i = view_find(v, row);
        if (i == SIZE_MAX)
            rc = add(t, row, SIZE_MAX, rkey, rklen, err);
        else if (!unsettled(v, i) && !view_is_removal(v, v->rows[i])) /* memory's copy of the same row */
            rc = add(t, v->rows[i], i, NULL, 0, err);
    }
    weir_store_cursor_close(c);
    weir_buf_free(&lo);
    weir_buf_free(&hi);
    return rc;
}

int view_offer_topn(weir_pull_run *r, weir_table_view *v, weir_store_snap *snap, weir_err *err)
{
    const weir_pull *p = weir_pull_plan(r);
    bool built = false;
    int rc = v->has_index && p->index_col < WEIR_INDEX_MAX_COLS
                 ? weir_index_snap_built(snap, v->itbl, v->table, p->index_col, &built, err)
                 : WEIR_OK;
    if (rc == WEIR_OK && !built && v->writer && p->index_col < WEIR_INDEX_MAX_COLS)
        atomic_fetch_or(&v->wanted, UINT64_C(1) << p->index_col); /* the next checkpoint makes it */
    if (rc || !built)
        return rc;
    topn t = {.col = p->index_col, .desc = p->order[0].desc, .k = (size_t)p->limit};
    weir_arena a = {0};
    rc = add_unsettled(&t, v, err);
    if (rc == WEIR_OK)
        rc = walk(&t, v, snap, &a, err);
    if (rc == WEIR_OK && t.n)
        qsort(t.c, t.n, sizeof *t.c, scan_order);
    for (size_t i = 0; i < t.n && rc == WEIR_OK; i++)
        rc = weir_pull_offer(r, t.c[i].row, err);
    free(t.heap);
    free(t.c);
    weir_arena_free(&a);
    return rc ? rc : 1;
}
