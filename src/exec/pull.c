/*
 * pull.c - pull queries and table views (see pull.h).
 */
#include "exec/pull.h"

#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "sql/eval.h"

/* Copies a row's TEXT into the arena so it outlives the offer. */
static weir_value *copy_row(weir_arena *a, const weir_value *row, int n)
{
    weir_value *r = weir_arena_alloc(a, (size_t)(n ? n : 1) * sizeof *r);
    if (!r)
        return NULL;
    for (int i = 0; i < n; i++) {
        r[i] = row[i];
        if (weir_type_has_text(row[i].type) && !row[i].is_null) {
            char *s = weir_arena_strndup(a, row[i].s, row[i].len);
            if (!s)
                return NULL;
            r[i].s = s;
        }
    }
    return r;
}

typedef struct kept {
    weir_value *out;           /* the projected row */
    weir_value *keys;          /* ORDER BY values */
    size_t seq;                /* arrival order, so equal keys keep it */
} kept;

struct weir_pull_run {
    const weir_pull *p;
    weir_arena arena, scratch;
    kept *rows;
    size_t n, cap;
    const weir_value **result;
};

int weir_pull_begin(const weir_pull *p, weir_pull_run **out, weir_err *err)
{
    weir_pull_run *r = calloc(1, sizeof *r);
    if (!r)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    r->p = p;
    *out = r;
    return WEIR_OK;
}

int weir_pull_offer(weir_pull_run *r, const weir_value *row, weir_err *err)
{
    const weir_pull *p = r->p;
    if (p->limit >= 0 && !p->norder && r->n >= (size_t)p->limit)
        return 1;
    weir_arena_reset(&r->scratch);
    weir_eval ev = {.arena = &r->scratch, .row = row};
    if (p->where && !weir_eval_predicate(&ev, p->where))
        return 0;
    weir_value out[256], keys[64];
    int n = p->schema.ncols < 256 ? p->schema.ncols : 256, nk = p->norder < 64 ? p->norder : 64;
    for (int i = 0; i < n; i++)
        out[i] = weir_eval_expr(&ev, p->out[i]);
    for (int i = 0; i < nk; i++)
        keys[i] = weir_eval_expr(&ev, p->order[i].expr);
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        kept *v = realloc(r->rows, cap * sizeof *v);
        if (!v)
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        r->rows = v;
        r->cap = cap;
    }
    kept *k = &r->rows[r->n];
    k->out = copy_row(&r->arena, out, n);
    k->keys = copy_row(&r->arena, keys, nk);
    k->seq = r->n;
    if (!k->out || !k->keys)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    r->n++;
    return p->limit >= 0 && !p->norder && r->n >= (size_t)p->limit ? 1 : 0;
}

static const weir_pull *sorting;
static int cmp_kept(const void *pa, const void *pb)
{
    const kept *a = pa, *b = pb;
    for (int i = 0; i < sorting->norder; i++) {
        int c = weir_value_cmp_inline(&a->keys[i], &b->keys[i]);
        if (c)
            return sorting->order[i].desc ? -c : c;
    }
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

size_t weir_pull_finish(weir_pull_run *r, const weir_value *const **rows)
{
    const weir_pull *p = r->p;
    if (p->norder) {
        sorting = p;
        qsort(r->rows, r->n, sizeof *r->rows, cmp_kept);
    }
    size_t n = p->limit >= 0 && (size_t)p->limit < r->n ? (size_t)p->limit : r->n;
    free(r->result);
    r->result = malloc((n ? n : 1) * sizeof *r->result);
    if (!r->result)
        return 0;
    for (size_t i = 0; i < n; i++)
        r->result[i] = r->rows[i].out;
    *rows = r->result;
    return n;
}

void weir_pull_free(weir_pull_run *r)
{
    if (!r)
        return;
    weir_arena_free(&r->arena);
    weir_arena_free(&r->scratch);
    free(r->rows);
    free(r->result);
    free(r);
}

struct weir_table_view {
    const weir_relation *table;
    weir_arena arena;
    weir_value **rows;         /* dense, in first-seen order */
    size_t n, cap;
    uint32_t *slots;           /* open addressing by primary key: row index + 1, 0 empty */
    size_t nslots;
};

int weir_view_new(const weir_relation *table, weir_table_view **out, weir_err *err)
{
    weir_table_view *v = calloc(1, sizeof *v);
    if (!v)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
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

int weir_view_upsert(weir_table_view *v, const weir_value *row, weir_err *err)
{
    if ((v->n + 1) * 2 > v->nslots && rehash(v))
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    weir_value *copy = copy_row(&v->arena, row, v->table->schema.ncols);
    if (!copy)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    size_t j = pk_hash(v, row) & (v->nslots - 1);
    for (; v->slots[j]; j = (j + 1) & (v->nslots - 1))
        if (pk_same(v, v->rows[v->slots[j] - 1], row)) {
            v->rows[v->slots[j] - 1] = copy; /* the newer row replaces the older */
            return WEIR_OK;
        }
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 256;
        weir_value **r = realloc(v->rows, cap * sizeof *r);
        if (!r)
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        v->rows = r;
        v->cap = cap;
    }
    v->rows[v->n++] = copy;
    v->slots[j] = (uint32_t)v->n;
    return WEIR_OK;
}

size_t weir_view_count(const weir_table_view *v) { return v->n; }

const weir_value *weir_view_next(const weir_table_view *v, size_t *pos)
{
    return *pos < v->n ? v->rows[(*pos)++] : NULL;
}

void weir_view_free(weir_table_view *v)
{
    if (!v)
        return;
    weir_arena_free(&v->arena);
    free(v->rows);
    free(v->slots);
    free(v);
}
