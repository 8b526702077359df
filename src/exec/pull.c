/*
 * pull.c - pull queries and table views (see pull.h).
 */
#include "exec/pull.h"

#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "exec/decode.h"
#include "exec/runner.h"
#include "sql/eval.h"

/* The bytes a row takes with its text in one block (see pack_row). */
static size_t row_bytes(const weir_value *row, int n)
{
    size_t bytes = (size_t)(n ? n : 1) * sizeof *row;
    for (int i = 0; i < n; i++)
        if (weir_type_has_text(row[i].type) && !row[i].is_null)
            bytes += row[i].len;
    return bytes;
}

/* Copies a row into block (row_bytes long): the values, then their text. */
static weir_value *pack_row(void *block, const weir_value *row, int n)
{
    weir_value *r = block;
    char *text = (char *)(r + (n ? n : 1));
    for (int i = 0; i < n; i++) {
        r[i] = row[i];
        if (weir_type_has_text(row[i].type) && !row[i].is_null) {
            memcpy(text, row[i].s, row[i].len);
            r[i].s = text;
            text += row[i].len;
        }
    }
    return r;
}

/* Copies a row and its text into the arena so it outlives the offer. */
static weir_value *copy_row(weir_arena *a, const weir_value *row, int n)
{
    void *block = weir_arena_alloc(a, row_bytes(row, n));
    return block ? pack_row(block, row, n) : NULL;
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
        kept *v = weir_array_grow(r->rows, &r->cap, sizeof *v, 64);
        if (!v)
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        r->rows = v;
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

static int cmp_kept(const void *pa, const void *pb, void *ctx)
{
    const kept *a = pa, *b = pb;
    const weir_pull *sorting = ctx;
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
    if (p->norder && r->n) /* qsort_r: pull queries run on several HTTP threads at once */
        qsort_r(r->rows, r->n, sizeof *r->rows, cmp_kept, (void *)p);
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
    void *block = malloc(row_bytes(row, n));
    return block ? pack_row(block, row, n) : NULL;
}

int weir_view_upsert(weir_table_view *v, const weir_value *row, weir_err *err)
{
    if ((v->n + 1) * 2 > v->nslots && rehash(v))
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    weir_value *copy = own_row(row, v->table->schema.ncols);
    if (!copy)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    size_t j = pk_hash(v, row) & (v->nslots - 1);
    for (; v->slots[j]; j = (j + 1) & (v->nslots - 1))
        if (pk_same(v, v->rows[v->slots[j] - 1], row)) {
            free(v->rows[v->slots[j] - 1]); /* the newer row replaces the older */
            v->rows[v->slots[j] - 1] = copy;
            return WEIR_OK;
        }
    if (v->n == v->cap) {
        weir_value **r = weir_array_grow(v->rows, &v->cap, sizeof *r, 256);
        if (!r) {
            free(copy);
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        }
        v->rows = r;
    }
    v->rows[v->n++] = copy;
    v->slots[j] = (uint32_t)v->n;
    if (v->table->npk && index_first(v, v->n - 1))
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
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
    for (size_t i = 0; i < v->n; i++)
        free(v->rows[i]);
    free(v->rows);
    free(v->slots);
    free(v->first);
    free(v->older);
    free(v);
}

int weir_scan_rows(weir_log *log, bool stable_only, const weir_relation *rel, int (*fn)(void *, const weir_value *), void *ctx, weir_err *err)
{
    weir_stream *s;
    int rc = weir_stream_open(log, rel->name, &s, err);
    if (rc)
        return rc;
    weir_arena arena = {0};
    weir_value *row = malloc((size_t)(rel->schema.ncols + 1) * sizeof *row);
    if (!row)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    uint32_t n = weir_stream_get_config(s)->partitions;
    for (uint32_t p = 0; p < n && rc == WEIR_OK; p++) {
        weir_reader *r;
        uint64_t stable;
        if ((rc = weir_reader_open(s, p, 0, &r, err)))
            break;
        if (stable_only && weir_pipeline_stable_end(weir_log_dir(log), rel->name, p, &stable))
            weir_reader_set_end(r, stable); /* only what the pipeline's last checkpoint committed */
        weir_record rec;
        int got;
        char why[256];
        while (rc == WEIR_OK && (got = weir_reader_next(r, &rec, err)) == 1) {
            weir_arena_reset(&arena);
            if (weir_decode_json(&rel->schema, (const char *)rec.value, rec.value_len, &arena, row, why, sizeof why))
                continue; /* a record the pipeline would dead-letter is not a row */
            int f = fn(ctx, row);
            if (f == 1)
                break;
            rc = f;
        }
        if (rc == WEIR_OK && got < 0)
            rc = err->code;
        weir_reader_close(r);
        if (rc == WEIR_OK && got == 1)
            break; /* fn said stop */
    }
    free(row);
    weir_arena_free(&arena);
    return rc;
}

typedef struct offer_ctx {
    void *target;              /* a weir_pull_run or a weir_table_view */
    weir_err *err;
} offer_ctx;

static int to_view(void *c, const weir_value *row) { return weir_view_upsert(((offer_ctx *)c)->target, row, ((offer_ctx *)c)->err); }
static int to_run(void *c, const weir_value *row) { return weir_pull_offer(((offer_ctx *)c)->target, row, ((offer_ctx *)c)->err); }

int weir_view_load(weir_table_view *v, weir_log *log, bool stable_only, weir_err *err)
{
    offer_ctx c = {v, err};
    return weir_scan_rows(log, stable_only, v->table, to_view, &c, err);
}

int weir_pull_offer_view(weir_pull_run *r, const weir_table_view *v, weir_err *err)
{
    if (r->p->has_key && v->nfirst) { /* only the rows with that first key: the index's chain */
        for (uint32_t at = v->first[first_slot(v, &r->p->key, weir_value_hash(&r->p->key, 7))]; at; at = v->older[at - 1]) {
            int f = weir_pull_offer(r, v->rows[at - 1], err);
            if (f)
                return f == 1 ? WEIR_OK : f;
        }
        return WEIR_OK;
    }
    size_t pos = 0;
    const weir_value *row;
    while ((row = weir_view_next(v, &pos))) {
        int f = weir_pull_offer(r, row, err);
        if (f)
            return f == 1 ? WEIR_OK : f; /* 1: the limit is reached */
    }
    return WEIR_OK;
}

int weir_pull_offer_scan(weir_pull_run *r, weir_log *log, bool stable_only, weir_err *err)
{
    offer_ctx c = {r, err};
    return weir_scan_rows(log, stable_only, r->p->from, to_run, &c, err);
}
