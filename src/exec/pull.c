/*
 * pull.c - pull queries over rows offered one at a time, and scans of a
 * relation's stream (see pull.h).
 */
#include "exec/pull.h"

#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/clock.h"
#include "exec/decode.h"
#include "exec/runner.h"
#include "sql/eval.h"

/* Copies a row and its text into the arena so it outlives the offer. */
static weir_value *copy_row(weir_arena *a, const weir_value *row, int n)
{
    void *block = weir_arena_alloc(a, weir_row_bytes(row, n));
    return block ? weir_row_pack(block, row, n) : NULL;
}

typedef struct kept {
    weir_value *out;           /* the projected row (with top-k: the malloc'd block holding out and keys) */
    weir_value *keys;          /* ORDER BY values */
    size_t seq;                /* arrival order, so equal keys keep it */
    size_t bytes;              /* what the row takes, counted in held */
} kept;

/* Offers between two looks at the clock and the pause call. */
#define CHECK_EVERY 256

struct weir_pull_run {
    const weir_pull *p;
    weir_arena arena, scratch;
    kept *rows;                /* arrival order; with top-k a heap whose first row is the worst kept */
    size_t n, cap;
    size_t seq;                /* rows that passed the WHERE so far */
    bool topk;                 /* ORDER BY with LIMIT: at most LIMIT rows kept, each its own malloc'd block */
    const weir_value **result;
    weir_pull_limits lim;
    size_t held;               /* bytes of the kept rows */
    unsigned since_check;      /* offers (or comparisons) since the last check of the limits */
    weir_pull_stop stop;
};

int weir_pull_begin(const weir_pull *p, weir_pull_run **out, weir_err *err)
{
    weir_pull_run *r = calloc(1, sizeof *r);
    if (!r)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    r->p = p;
    r->topk = p->norder && p->limit >= 0;
    *out = r;
    return WEIR_OK;
}

void weir_pull_set_limits(weir_pull_run *r, const weir_pull_limits *lim) { r->lim = *lim; }
const weir_pull *weir_pull_plan(const weir_pull_run *r) { return r->p; }
weir_pull_stop weir_pull_stopped(const weir_pull_run *r) { return r->stop; }

static int stopped(weir_pull_run *r, weir_pull_stop why, weir_err *err)
{
    static const char *const what[] = {"", "ran past its deadline", "kept rows past its byte limit", "was cancelled"};
    r->stop = why;
    return weir_err_set(err, WEIR_EBUSY, "the pull query %s", what[why]); /* not EINVAL: 1 means "enough rows" */
}

/* The byte limit after every row, the clock and the pause every CHECK_EVERY rows. */
static int check_limits(weir_pull_run *r, weir_err *err)
{
    if (r->lim.max_bytes && r->held > r->lim.max_bytes)
        return stopped(r, WEIR_PULL_TOO_BIG, err);
    if (++r->since_check < CHECK_EVERY)
        return WEIR_OK;
    r->since_check = 0;
    if (r->lim.deadline_ns && weir_mono_ns() > r->lim.deadline_ns)
        return stopped(r, WEIR_PULL_TIMEOUT, err);
    if (r->lim.pause && !r->lim.pause(r->lim.pause_ctx))
        return stopped(r, WEIR_PULL_CANCELLED, err);
    return WEIR_OK;
}

/* Whether a sorts before b: ORDER BY, then arrival. */
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

/* The top-k heap: every row sorts no later than its parent, so rows[0] is the worst kept. */
static void heap_down(weir_pull_run *r, size_t i)
{
    for (;;) {
        size_t worst = i, c = 2 * i + 1;
        for (size_t k = c; k < c + 2 && k < r->n; k++)
            if (cmp_kept(&r->rows[k], &r->rows[worst], (void *)r->p) > 0)
                worst = k;
        if (worst == i)
            return;
        kept t = r->rows[i];
        r->rows[i] = r->rows[worst];
        r->rows[worst] = t;
        i = worst;
    }
}

static void heap_up(weir_pull_run *r, size_t i)
{
    while (i && cmp_kept(&r->rows[i], &r->rows[(i - 1) / 2], (void *)r->p) > 0) {
        kept t = r->rows[i];
        r->rows[i] = r->rows[(i - 1) / 2];
        r->rows[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

/* With top-k: keeps the row if it beats the worst kept (which then goes). */
static int offer_topk(weir_pull_run *r, weir_eval *ev, const weir_value *keys, int nk, weir_err *err)
{
    const weir_pull *p = r->p;
    kept k = {.keys = (weir_value *)keys, .seq = r->seq++};
    if (r->n == (size_t)p->limit && (!r->n || cmp_kept(&k, &r->rows[0], (void *)p) >= 0))
        return WEIR_OK;
    weir_value out[256];
    int n = p->schema.ncols < 256 ? p->schema.ncols : 256;
    for (int i = 0; i < n; i++)
        out[i] = weir_eval_expr(ev, p->out[i]);
    size_t ob = (weir_row_bytes(out, n) + _Alignof(weir_value) - 1) & ~(_Alignof(weir_value) - 1); /* keys follow, aligned */
    k.bytes = ob + weir_row_bytes(keys, nk) + sizeof k;
    char *block = malloc(k.bytes - sizeof k);
    if (!block)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    k.out = weir_row_pack(block, out, n);
    k.keys = weir_row_pack(block + ob, keys, nk);
    r->held += k.bytes;
    if (r->n == (size_t)p->limit) { /* the worst kept makes room */
        r->held -= r->rows[0].bytes;
        free(r->rows[0].out);
        r->rows[0] = k;
        heap_down(r, 0);
        return WEIR_OK;
    }
    if (r->n == r->cap) {
        kept *v = weir_array_grow(r->rows, &r->cap, sizeof *v, 64);
        if (!v) {
            free(block);
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        }
        r->rows = v;
    }
    r->rows[r->n++] = k;
    heap_up(r, r->n - 1);
    return WEIR_OK;
}

bool weir_pull_project(weir_pull_run *r, const weir_value *row, weir_value *out)
{
    const weir_pull *p = r->p;
    weir_arena_reset(&r->scratch);
    weir_eval ev = {.arena = &r->scratch, .row = row};
    if (p->where && !weir_eval_predicate(&ev, p->where))
        return false;
    for (int i = 0; i < p->schema.ncols; i++)
        out[i] = weir_eval_expr(&ev, p->out[i]);
    return true;
}

static int offer_row(weir_pull_run *r, const weir_value *row, weir_err *err)
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
    for (int i = 0; i < nk; i++)
        keys[i] = weir_eval_expr(&ev, p->order[i].expr);
    if (r->topk)
        return offer_topk(r, &ev, keys, nk, err);
    for (int i = 0; i < n; i++)
        out[i] = weir_eval_expr(&ev, p->out[i]);
    if (r->n == r->cap) {
        kept *v = weir_array_grow(r->rows, &r->cap, sizeof *v, 64);
        if (!v)
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        r->rows = v;
    }
    kept *k = &r->rows[r->n];
    k->out = copy_row(&r->arena, out, n);
    k->keys = copy_row(&r->arena, keys, nk);
    k->seq = r->seq++;
    k->bytes = weir_row_bytes(out, n) + weir_row_bytes(keys, nk) + sizeof *k;
    if (!k->out || !k->keys)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    r->n++;
    r->held += k->bytes;
    return p->limit >= 0 && !p->norder && r->n >= (size_t)p->limit ? 1 : 0;
}

/* The limits are checked after the row is copied: the pause may let
 * another thread replace the row the caller lent. */
int weir_pull_offer(weir_pull_run *r, const weir_value *row, weir_err *err)
{
    int rc = offer_row(r, row, err);
    if (rc != 0 && rc != 1)
        return rc;
    int over = check_limits(r, err);
    return over ? over : rc;
}

/* cmp_kept with the deadline checked every few thousand comparisons; past
 * it every pair compares equal, which ends the sort quickly. */
static int cmp_sorting(const void *pa, const void *pb, void *ctx)
{
    weir_pull_run *r = ctx;
    if (r->stop)
        return 0;
    if (++r->since_check >= 16 * CHECK_EVERY) {
        r->since_check = 0;
        if (r->lim.deadline_ns && weir_mono_ns() > r->lim.deadline_ns) {
            r->stop = WEIR_PULL_TIMEOUT;
            return 0;
        }
    }
    return cmp_kept(pa, pb, (void *)r->p);
}

size_t weir_pull_finish(weir_pull_run *r, const weir_value *const **rows)
{
    const weir_pull *p = r->p;
    if (p->norder && r->n) /* qsort_r: pull queries run on several threads at once */
        qsort_r(r->rows, r->n, sizeof *r->rows, cmp_sorting, r);
    size_t n = r->stop ? 0 : p->limit >= 0 && (size_t)p->limit < r->n ? (size_t)p->limit : r->n;
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
    for (size_t i = 0; r->topk && i < r->n; i++)
        free(r->rows[i].out);
    weir_arena_free(&r->arena);
    weir_arena_free(&r->scratch);
    free(r->rows);
    free(r->result);
    free(r);
}

int weir_scan_rows_range(weir_log *log, const weir_relation *rel, const uint64_t *from, const uint64_t *to,
                         weir_scan_fn fn, void *ctx, weir_err *err)
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
        if ((rc = weir_reader_open(s, p, from ? from[p] : 0, &r, err)))
            break;
        if (to)
            weir_reader_set_end(r, to[p]);
        weir_record rec;
        int got;
        char why[256];
        while (rc == WEIR_OK && (got = weir_reader_next(r, &rec, err)) == 1) {
            weir_arena_reset(&arena);
            bool removed = rel->is_table && rec.value_len == 0; /* a tombstone: the key's row left the table */
            if (removed ? weir_decode_table_key(rel, (const char *)rec.key, rec.key_len, &arena, row, why, sizeof why)
                        : weir_decode_json(&rel->schema, (const char *)rec.value, rec.value_len, &arena, row, why, sizeof why))
                continue; /* a record the pipeline would dead-letter is not a row */
            int f = fn(ctx, row, removed);
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

int weir_scan_ends(weir_log *log, const weir_relation *rel, bool stable_only, uint64_t **ends, uint32_t *n, weir_err *err)
{
    weir_stream *s;
    int rc = weir_stream_open(log, rel->name, &s, err);
    if (rc)
        return rc;
    *n = weir_stream_get_config(s)->partitions;
    if (!(*ends = calloc(*n, sizeof **ends)))
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    for (uint32_t p = 0; p < *n && rc == WEIR_OK; p++) {
        weir_partition_stats st;
        if (stable_only && weir_pipeline_stable_end(weir_log_dir(log), rel->name, p, &(*ends)[p]))
            continue; /* only what the pipeline's last checkpoint committed */
        if ((rc = weir_stream_partition_stats(s, p, &st, err)) == WEIR_OK)
            (*ends)[p] = st.end_offset;
    }
    if (rc) {
        free(*ends);
        *ends = NULL;
    }
    return rc;
}

int weir_scan_rows(weir_log *log, bool stable_only, const weir_relation *rel, weir_scan_fn fn, void *ctx, weir_err *err)
{
    uint64_t *ends = NULL;
    uint32_t n;
    int rc = stable_only ? weir_scan_ends(log, rel, true, &ends, &n, err) : WEIR_OK;
    if (rc == WEIR_OK)
        rc = weir_scan_rows_range(log, rel, NULL, ends, fn, ctx, err);
    free(ends);
    return rc;
}

typedef struct offer_ctx {
    weir_pull_run *target;
    weir_err *err;
} offer_ctx;

static int to_run(void *c, const weir_value *row, bool removed)
{
    return removed ? 0 : weir_pull_offer(((offer_ctx *)c)->target, row, ((offer_ctx *)c)->err);
}

int weir_pull_offer_scan(weir_pull_run *r, weir_log *log, bool stable_only, weir_err *err)
{
    offer_ctx c = {r, err};
    return weir_scan_rows(log, stable_only, r->p->from, to_run, &c, err);
}
