/*
 * table_view.c - a table's current rows (see table_view.h): a hash table by
 * primary key over rows kept in first-seen order, each row one block with
 * its text, and chains by the first key column for keyed pull queries.
 */
#include "exec/table_view.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

/* Rows upserted before a publish apply together, unless this many wait:
 * then the writer waits for the readers. */
#define PENDING_MAX 65536

struct weir_table_view {
    pthread_rwlock_t lock;     /* readers share it; publish takes it alone */
    const weir_relation *table;
    weir_value **pending;      /* upserted rows not yet published, oldest first */
    size_t npending, pending_cap;
    weir_value **rows;         /* dense, in first-seen order; each row one malloc'd block with its text */
    size_t n, cap;
    uint32_t *slots;           /* open addressing by primary key: row index + 1, 0 empty */
    size_t nslots;
    /* an index on the first primary-key column (pull queries asking for one
     * value of it): open addressing by that value to the newest row having
     * it (index + 1), and per row the next older one (0: none) */
    uint32_t *first;
    size_t nfirst, nfirst_used;
    uint32_t *older;
    size_t older_cap;
};

int weir_view_new(const weir_relation *table, weir_table_view **out, weir_err *err)
{
    weir_table_view *v = calloc(1, sizeof *v);
    if (!v)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    pthread_rwlockattr_t attr;
    /* A writer that must wait (a full queue) goes before readers arriving after it. */
    if (pthread_rwlockattr_init(&attr) ||
        pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP) ||
        pthread_rwlock_init(&v->lock, &attr)) {
        free(v);
        return weir_err_set(err, WEIR_ENOMEM, "cannot make a table view's lock");
    }
    pthread_rwlockattr_destroy(&attr);
    v->table = table;
    *out = v;
    return WEIR_OK;
}

static uint64_t pk_hash(const weir_table_view *v, const weir_value *row)
{
    uint64_t h = 7;
    for (int i = 0; i < v->table->npk; i++)
        h = weir_value_hash(&row[v->table->pk[i]], h);
    return h;
}

static bool pk_same(const weir_table_view *v, const weir_value *a, const weir_value *b)
{
    for (int i = 0; i < v->table->npk; i++)
        if (!weir_value_same(&a[v->table->pk[i]], &b[v->table->pk[i]]))
            return false;
    return true;
}

static uint64_t first_hash(const weir_table_view *v, const weir_value *row) { return weir_value_hash(&row[v->table->pk[0]], 7); }

/* The slot of the first-key index for that value: its chain, or the empty slot where it would go. */
static size_t first_slot(const weir_table_view *v, const weir_value *key, uint64_t hash)
{
    size_t j = hash & (v->nfirst - 1);
    while (v->first[j] && !weir_value_same(&v->rows[v->first[j] - 1][v->table->pk[0]], key))
        j = (j + 1) & (v->nfirst - 1);
    return j;
}

static int rehash_first(weir_table_view *v)
{
    size_t n = v->nfirst ? v->nfirst * 2 : 256;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t j = 0; j < v->nfirst; j++) /* chains move whole: their newest rows */
        if (v->first[j]) {
            size_t k = first_hash(v, v->rows[v->first[j] - 1]) & (n - 1);
            while (slots[k])
                k = (k + 1) & (n - 1);
            slots[k] = v->first[j];
        }
    free(v->first);
    v->first = slots;
    v->nfirst = n;
    return 0;
}

/* Adds row i (new) to the first-key index. */
static int index_first(weir_table_view *v, size_t i)
{
    if ((v->nfirst_used + 1) * 2 > v->nfirst && rehash_first(v))
        return -1;
    if (i >= v->older_cap) {
        uint32_t *grown = weir_array_grow(v->older, &v->older_cap, sizeof *grown, 256);
        if (!grown)
            return -1;
        v->older = grown;
    }
    const weir_value *key = &v->rows[i][v->table->pk[0]];
    size_t j = first_slot(v, key, weir_value_hash(key, 7));
    v->nfirst_used += !v->first[j];
    v->older[i] = v->first[j];
    v->first[j] = (uint32_t)i + 1;
    return 0;
}

static int rehash(weir_table_view *v)
{
    size_t n = v->nslots ? v->nslots * 2 : 256;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < v->n; i++) {
        size_t j = pk_hash(v, v->rows[i]) & (n - 1);
        while (slots[j])
            j = (j + 1) & (n - 1);
        slots[j] = (uint32_t)i + 1;
    }
    free(v->slots);
    v->slots = slots;
    v->nslots = n;
    return 0;
}

/* A row and its text in one malloc'd block, so a replaced row is freed whole. */
static weir_value *own_row(const weir_value *row, int n)
{
    void *block = malloc(weir_row_bytes(row, n));
    return block ? weir_row_pack(block, row, n) : NULL;
}

/* Puts a row (owned) in place of its key's row; under the lock, alone. */
static int apply(weir_table_view *v, weir_value *copy)
{
    if ((v->n + 1) * 2 > v->nslots && rehash(v))
        return -1;
    size_t j = pk_hash(v, copy) & (v->nslots - 1);
    for (; v->slots[j]; j = (j + 1) & (v->nslots - 1))
        if (pk_same(v, v->rows[v->slots[j] - 1], copy)) {
            free(v->rows[v->slots[j] - 1]); /* the newer row replaces the older */
            v->rows[v->slots[j] - 1] = copy;
            return 0;
        }
    if (v->n == v->cap) {
        weir_value **r = weir_array_grow(v->rows, &v->cap, sizeof *r, 256);
        if (!r)
            return -1;
        v->rows = r;
    }
    v->rows[v->n++] = copy;
    v->slots[j] = (uint32_t)v->n;
    return v->table->npk ? index_first(v, v->n - 1) : 0;
}

int weir_view_upsert(weir_table_view *v, const weir_value *row, weir_err *err)
{
    if (v->npending == v->pending_cap) {
        weir_value **q = weir_array_grow(v->pending, &v->pending_cap, sizeof *q, 256);
        if (!q)
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        v->pending = q;
    }
    weir_value *copy = own_row(row, v->table->schema.ncols);
    if (!copy)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    v->pending[v->npending++] = copy;
    return WEIR_OK;
}

int weir_view_publish(weir_table_view *v, weir_err *err)
{
    if (!v->npending)
        return WEIR_OK;
    if (v->npending < PENDING_MAX ? pthread_rwlock_trywrlock(&v->lock) : pthread_rwlock_wrlock(&v->lock))
        return WEIR_OK; /* a reader has it: next time */
    size_t done = 0;
    while (done < v->npending && apply(v, v->pending[done]) == 0)
        done++;
    pthread_rwlock_unlock(&v->lock);
    memmove(v->pending, v->pending + done, (v->npending - done) * sizeof *v->pending);
    v->npending -= done;
    return v->npending ? weir_err_set(err, WEIR_ENOMEM, "table %s: out of memory", v->table->name) : WEIR_OK;
}

size_t weir_view_count(weir_table_view *v)
{
    pthread_rwlock_rdlock(&v->lock);
    size_t n = v->n;
    pthread_rwlock_unlock(&v->lock);
    return n;
}

void weir_view_free(weir_table_view *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++)
        free(v->rows[i]);
    for (size_t i = 0; i < v->npending; i++)
        free(v->pending[i]);
    free(v->pending);
    pthread_rwlock_destroy(&v->lock);
    free(v->rows);
    free(v->slots);
    free(v->first);
    free(v->older);
    free(v);
}

typedef struct load_ctx {
    weir_table_view *v;
    weir_err *err;
} load_ctx;

static int to_view(void *c, const weir_value *row)
{
    load_ctx *l = c;
    int rc = weir_view_upsert(l->v, row, l->err);
    return rc == WEIR_OK && l->v->npending >= PENDING_MAX ? weir_view_publish(l->v, l->err) : rc;
}

int weir_view_load(weir_table_view *v, weir_log *log, bool stable_only, weir_err *err)
{
    load_ctx c = {v, err};
    int rc = weir_scan_rows(log, stable_only, v->table, to_view, &c, err);
    return rc ? rc : weir_view_publish(v, err);
}

static int offer_rows(weir_pull_run *r, const weir_table_view *v, weir_err *err)
{
    const weir_pull *p = weir_pull_plan(r);
    if (p->has_key && v->nfirst) { /* only the rows with that first key: the index's chain */
        for (uint32_t at = v->first[first_slot(v, &p->key, weir_value_hash(&p->key, 7))]; at; at = v->older[at - 1]) {
            int f = weir_pull_offer(r, v->rows[at - 1], err);
            if (f)
                return f == 1 ? WEIR_OK : f;
        }
        return WEIR_OK;
    }
    for (size_t i = 0; i < v->n; i++) {
        int f = weir_pull_offer(r, v->rows[i], err);
        if (f)
            return f == 1 ? WEIR_OK : f; /* 1: the limit is reached */
    }
    return WEIR_OK;
}

int weir_pull_offer_view(weir_pull_run *r, weir_table_view *v, weir_err *err)
{
    pthread_rwlock_rdlock(&v->lock);
    int rc = offer_rows(r, v, err);
    pthread_rwlock_unlock(&v->lock);
    return rc;
}
