/*
 * agg.c - updating, merging and reading aggregate accumulators.
 *
 * SQL semantics: every aggregate ignores NULL inputs; SUM, MIN, MAX and
 * AVG of no values are NULL, COUNT of no values is 0. A SUM that would
 * overflow its integer type refuses the record (the caller dead-letters it)
 * instead of wrapping.
 *
 * LATEST_BY_OFFSET and EARLIEST_BY_OFFSET (ksqlDB's) keep a value and, in
 * the slot after it, the place in the query's input of the record it came
 * from (1, 2, ...; 0: none yet): adding keeps the later (or earlier)
 * record, and so does merging panes or sessions, whatever their event
 * times. As in ksqlDB they ignore NULLs unless told not to (keep_nulls),
 * in which case a NULL is the value (its seen bit clear).
 */
#include "exec/agg.h"

#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "exec/sketch.h"
#include "exec/topk.h"

typedef struct owned_text {
    uint32_t len, cap;         /* cap: bytes s holds, so a LATEST_BY_OFFSET that changes on every record reuses them */
    char s[];
} owned_text;

static inline bool seen(const weir_acc *a, int i) { return (a->seen >> i) & 1; }
static inline void mark(weir_acc *a, int i) { a->seen |= 1ull << i; }

void weir_accs_init(const weir_query *q, weir_acc *accs)
{
    memset(accs, 0, weir_accs_size(q));
}

static int set_text(weir_slot *x, const char *s, uint32_t len)
{
    owned_text *t = x->p;
    if (!t || t->cap < len) {
        owned_text *bigger = malloc(sizeof *bigger + len);
        if (!bigger)
            return -1;
        bigger->cap = len;
        free(t);
        x->p = t = bigger;
    }
    t->len = len;
    memcpy(t->s, s, len); /* s is another block's or a row's, never t's own */
    return 0;
}

static bool owns_memory(const weir_agg *g);

static weir_value stored(const weir_agg *g, const weir_slot *x)
{
    if (owns_memory(g)) {
        const owned_text *t = x->p;
        weir_value v = weir_text(t->s, t->len);
        v.type = (uint8_t)g->type;
        return v;
    }
    switch (g->type) {
    case WEIR_TYPE_INT: return weir_int(x->i);
    case WEIR_TYPE_TIMESTAMP: return weir_timestamp(x->i);
    case WEIR_TYPE_UINT: return weir_uint(x->u);
    case WEIR_TYPE_DOUBLE: return weir_double(x->d);
    case WEIR_TYPE_BOOL: return weir_bool(x->b);
    default: return weir_null(g->type); /* MIN/MAX of JSON: not kept */
    }
}

/* Stores v (not NULL) in aggregate i's slot x: 0, or -1 out of memory. */
static int put(const weir_agg *g, weir_acc *a, int i, weir_slot *x, const weir_value *v)
{
    if (owns_memory(g) && set_text(x, v->s, v->len))
        return -1;
    switch (g->type) {
    case WEIR_TYPE_JSON:
    case WEIR_TYPE_TEXT: break;
    case WEIR_TYPE_UINT: x->u = v->u; break;
    case WEIR_TYPE_DOUBLE: x->d = v->d; break;
    case WEIR_TYPE_BOOL: x->b = v->b; break;
    default: x->i = v->i;
    }
    mark(a, i);
    return 0;
}

/* MIN/MAX: keep v if it beats what is stored. */
static int min_max(const weir_agg *g, weir_acc *a, int i, const weir_value *v)
{
    weir_slot *x = &a->s[g->slot];
    if (seen(a, i)) {
        weir_value cur = stored(g, x);
        int c = weir_value_cmp(v, &cur);
        if (g->fn == WEIR_AGG_MIN ? c >= 0 : c <= 0)
            return 0;
    }
    return put(g, a, i, x, v);
}

/* LATEST/EARLIEST_BY_OFFSET: v is the value of the record at place seq;
 * it replaces what is stored when it comes after it (LATEST) or before it
 * (EARLIEST), or nothing is stored yet. A NULL v counts only with keep_nulls. */
static int by_offset(const weir_agg *g, weir_acc *a, int i, const weir_value *v, uint64_t seq)
{
    weir_slot *x = &a->s[g->slot];
    uint64_t have = x[1].u;
    if ((v->is_null && !g->keep_nulls) || seq == 0)
        return 0;
    if (have && (g->fn == WEIR_AGG_LATEST_BY_OFFSET ? seq <= have : seq >= have))
        return 0;
    x[1].u = seq;
    if (!v->is_null)
        return put(g, a, i, x, v);
    if (owns_memory(g)) {
        free(x->p);
        x->p = NULL;
    }
    a->seen &= ~(1ull << i);
    return 0;
}

/* Checks that adding v to SUM slot x cannot overflow. */
static bool sum_fits(const weir_agg *g, const weir_slot *x, const weir_value *v)
{
    int64_t i;
    uint64_t u;
    if (g->type == WEIR_TYPE_INT)
        return !__builtin_add_overflow(x->i, v->i, &i);
    if (g->type == WEIR_TYPE_UINT)
        return !__builtin_add_overflow(x->u, v->u, &u);
    return true;
}

static void sum_add(const weir_agg *g, weir_slot *x, const weir_value *v)
{
    if (g->type == WEIR_TYPE_INT) x->i += v->i;
    else if (g->type == WEIR_TYPE_UINT) x->u += v->u;
    else x->d += v->d;
}

static double as_double(const weir_value *v)
{
    return v->type == WEIR_TYPE_DOUBLE ? v->d : v->type == WEIR_TYPE_UINT ? (double)v->u : (double)v->i;
}

/* The heap structure of a pointer slot, made on first use. */
static void *owned(weir_slot *x, size_t size)
{
    if (!x->p)
        x->p = calloc(1, size);
    return x->p;
}

int weir_accs_add(const weir_query *q, weir_acc *accs, const weir_value *vals, uint64_t seq, int *which)
{
    /* First check everything that can refuse the record, so a refused
     * record changes no accumulator. */
    for (int i = 0; i < q->naggs; i++) {
        const weir_agg *g = &q->aggs[i];
        if (g->fn == WEIR_AGG_SUM && !vals[i].is_null && !sum_fits(g, &accs->s[g->slot], &vals[i])) {
            *which = i;
            return WEIR_VERR_OVERFLOW;
        }
    }
    for (int i = 0; i < q->naggs; i++) {
        const weir_agg *g = &q->aggs[i];
        weir_slot *x = &accs->s[g->slot];
        const weir_value *v = &vals[i];
        if (g->fn == WEIR_AGG_COUNT && !g->arg) {
            x->i++;
            continue;
        }
        if (g->fn == WEIR_AGG_LATEST_BY_OFFSET || g->fn == WEIR_AGG_EARLIEST_BY_OFFSET) {
            if (by_offset(g, accs, i, v, seq))
                return -1;
            continue;
        }
        if (v->is_null)
            continue;
        switch (g->fn) {
        case WEIR_AGG_COUNT: x->i++; break;
        case WEIR_AGG_COUNT_IF: x->i += v->b; break;
        case WEIR_AGG_SUM: sum_add(g, x, v); mark(accs, i); break;
        case WEIR_AGG_AVG: x[0].d += as_double(v); x[1].i++; mark(accs, i); break;
        case WEIR_AGG_MIN:
        case WEIR_AGG_MAX:
            if (min_max(g, accs, i, v))
                return -1;
            break;
        case WEIR_AGG_COUNT_DISTINCT:
            if (!owned(x, sizeof(weir_hset)) || weir_hset_add(x->p, weir_value_hash(v, 0)))
                return -1;
            break;
        case WEIR_AGG_APPROX_DISTINCT:
            if (!owned(x, sizeof(weir_hll)) || weir_hll_add(x->p, weir_value_hash(v, 0)))
                return -1;
            break;
        case WEIR_AGG_TOPK:
            if (!owned(x, sizeof(weir_topk)) || weir_topk_add(x->p, g->k, v, 1))
                return -1;
            break;
        default: /* LATEST/EARLIEST_BY_OFFSET: above */
            break;
        }
    }
    return 0;
}

int weir_accs_merge(const weir_query *q, weir_acc *dst, const weir_acc *src, int *which)
{
    for (int i = 0; i < q->naggs; i++) {
        const weir_agg *g = &q->aggs[i];
        if (g->fn == WEIR_AGG_SUM && seen(src, i)) {
            weir_value v = stored(g, &src->s[g->slot]);
            if (!sum_fits(g, &dst->s[g->slot], &v)) {
                *which = i;
                return WEIR_VERR_OVERFLOW;
            }
        }
    }
    for (int i = 0; i < q->naggs; i++) {
        const weir_agg *g = &q->aggs[i];
        weir_slot *d = &dst->s[g->slot];
        const weir_slot *s = &src->s[g->slot];
        switch (g->fn) {
        case WEIR_AGG_COUNT:
        case WEIR_AGG_COUNT_IF:
            d->i += s->i;
            break;
        case WEIR_AGG_SUM:
            if (seen(src, i)) {
                weir_value v = stored(g, s);
                sum_add(g, d, &v);
                mark(dst, i);
            }
            break;
        case WEIR_AGG_AVG:
            d[0].d += s[0].d;
            d[1].i += s[1].i;
            if (seen(src, i))
                mark(dst, i);
            break;
        case WEIR_AGG_MIN:
        case WEIR_AGG_MAX:
            if (seen(src, i)) {
                weir_value v = stored(g, s);
                if (min_max(g, dst, i, &v))
                    return -1;
            }
            break;
        case WEIR_AGG_COUNT_DISTINCT:
            if (s->p && (!owned(d, sizeof(weir_hset)) || weir_hset_merge(d->p, s->p)))
                return -1;
            break;
        case WEIR_AGG_APPROX_DISTINCT:
            if (s->p && (!owned(d, sizeof(weir_hll)) || weir_hll_merge(d->p, s->p)))
                return -1;
            break;
        case WEIR_AGG_TOPK:
            if (s->p && (!owned(d, sizeof(weir_topk)) || weir_topk_merge(d->p, s->p)))
                return -1;
            break;
        case WEIR_AGG_LATEST_BY_OFFSET:
        case WEIR_AGG_EARLIEST_BY_OFFSET: {
            weir_value v = seen(src, i) ? stored(g, s) : weir_null(g->type);
            if (by_offset(g, dst, i, &v, s[1].u))
                return -1;
            break;
        }
        }
    }
    return 0;
}

weir_value weir_acc_result(const weir_query *q, const weir_acc *accs, int i)
{
    const weir_agg *g = &q->aggs[i];
    const weir_slot *x = &accs->s[g->slot];
    switch (g->fn) {
    case WEIR_AGG_COUNT:
    case WEIR_AGG_COUNT_IF: return weir_int(x->i);
    case WEIR_AGG_COUNT_DISTINCT: return weir_int(x->p ? (int64_t)((const weir_hset *)x->p)->n : 0);
    case WEIR_AGG_APPROX_DISTINCT: return weir_int(x->p ? (int64_t)weir_hll_estimate(x->p) : 0);
    case WEIR_AGG_AVG: return x[1].i ? weir_double(x[0].d / (double)x[1].i) : weir_null(WEIR_TYPE_DOUBLE);
    case WEIR_AGG_TOPK: {
        if (x->p)
            return weir_topk_result(x->p);
        weir_value empty = weir_text("[]", 2);
        empty.type = WEIR_TYPE_JSON;
        return empty;
    }
    default: return seen(accs, i) ? stored(g, x) : weir_null(g->type);
    }
}

static bool owns_memory(const weir_agg *g)
{
    return g->fn == WEIR_AGG_COUNT_DISTINCT || g->fn == WEIR_AGG_APPROX_DISTINCT || g->fn == WEIR_AGG_TOPK ||
           ((g->fn == WEIR_AGG_MIN || g->fn == WEIR_AGG_MAX) && g->type == WEIR_TYPE_TEXT) ||
           ((g->fn == WEIR_AGG_LATEST_BY_OFFSET || g->fn == WEIR_AGG_EARLIEST_BY_OFFSET) && weir_type_has_text(g->type));
}

/* Frees what aggregate g's slot x holds, if anything. */
static void release(const weir_agg *g, weir_slot *x)
{
    if (!owns_memory(g) || !x->p)
        return;
    if (g->fn == WEIR_AGG_COUNT_DISTINCT)
        weir_hset_free(x->p);
    else if (g->fn == WEIR_AGG_APPROX_DISTINCT)
        weir_hll_free(x->p);
    else if (g->fn == WEIR_AGG_TOPK)
        weir_topk_free(x->p);
    free(x->p);
    x->p = NULL;
}

void weir_accs_free(const weir_query *q, weir_acc *accs)
{
    for (int i = 0; i < q->naggs; i++)
        release(&q->aggs[i], &accs->s[q->aggs[i].slot]);
}

int weir_accs_reuse(const weir_query *q, weir_acc *accs, weir_acc *const *srcs, int n)
{
    for (int i = 0; i < q->naggs; i++) {
        const weir_agg *g = &q->aggs[i];
        weir_slot *x = &accs->s[g->slot];
        if (g->fn != WEIR_AGG_COUNT_DISTINCT) {
            release(g, x);
            memset(x, 0, (size_t)weir_agg_slots(g->fn) * sizeof *x);
            continue;
        }
        size_t total = 0;
        for (int k = 0; k < n; k++) {
            const weir_hset *h = srcs[k]->s[g->slot].p;
            total += h ? h->n : 0;
        }
        if (!owned(x, sizeof(weir_hset)) || weir_hset_reset(x->p, total))
            return -1;
    }
    accs->seen = 0;
    return 0;
}

static int save_hset(const weir_hset *h, weir_buf *out)
{
    int rc = weir_put_u64(out, h ? h->n : 0);
    for (size_t i = 0; h && i < h->cap && !rc; i++)
        if (h->slots[i])
            rc = weir_put_u64(out, h->slots[i]);
    return rc;
}

static int load_hset(weir_hset *h, weir_reader_buf *in)
{
    uint64_t n = weir_get_u64(in);
    if (n > (uint64_t)(in->end - in->p) / 8)
        return in->bad = true, -1;
    for (uint64_t i = 0; i < n; i++)
        if (weir_hset_add(h, weir_get_u64(in)))
            return -1;
    return in->bad ? -1 : 0;
}

int weir_accs_save(const weir_query *q, const weir_acc *accs, weir_buf *out)
{
    int rc = weir_put_u64(out, accs->seen);
    for (int i = 0; i < q->naggs && !rc; i++) {
        const weir_agg *g = &q->aggs[i];
        const weir_slot *x = &accs->s[g->slot];
        switch (g->fn) {
        case WEIR_AGG_COUNT_DISTINCT:
            rc = save_hset(x->p, out);
            break;
        case WEIR_AGG_TOPK:
            rc = weir_put_u8(out, x->p != NULL) || (x->p && weir_topk_save(x->p, out));
            break;
        case WEIR_AGG_APPROX_DISTINCT: {
            const weir_hll *h = x->p;
            if (h && h->registers)
                rc = weir_put_u8(out, 2) || weir_buf_append(out, h->registers, WEIR_HLL_REGISTERS);
            else
                rc = weir_put_u8(out, 1) || save_hset(h ? &h->sparse : NULL, out);
            break;
        }
        case WEIR_AGG_AVG:
            rc = weir_put_u64(out, x[0].u) || weir_put_u64(out, x[1].u);
            break;
        default:
            if (owns_memory(g)) {
                const owned_text *t = x->p;
                rc = weir_put_bytes(out, t ? t->s : "", t ? t->len : 0);
            } else {
                rc = weir_put_u64(out, x->u);
            }
            if (weir_agg_slots(g->fn) == 2) /* LATEST/EARLIEST_BY_OFFSET: the record's place */
                rc = rc || weir_put_u64(out, x[1].u);
        }
    }
    return rc;
}

int weir_accs_load(const weir_query *q, weir_acc *accs, weir_reader_buf *in)
{
    accs->seen = weir_get_u64(in);
    for (int i = 0; i < q->naggs; i++) {
        const weir_agg *g = &q->aggs[i];
        weir_slot *x = &accs->s[g->slot];
        switch (g->fn) {
        case WEIR_AGG_COUNT_DISTINCT:
            if (!owned(x, sizeof(weir_hset)) || load_hset(x->p, in))
                return -1;
            break;
        case WEIR_AGG_TOPK:
            if (weir_get_u8(in) && (!owned(x, sizeof(weir_topk)) || weir_topk_load(x->p, in)))
                return -1;
            break;
        case WEIR_AGG_APPROX_DISTINCT: {
            weir_hll *h = owned(x, sizeof(weir_hll));
            if (!h)
                return -1;
            uint8_t form = weir_get_u8(in);
            if (form == 2) {
                if (!(h->registers = malloc(WEIR_HLL_REGISTERS)) || !weir_take(in, h->registers, WEIR_HLL_REGISTERS))
                    return -1;
            } else if (form != 1 || load_hset(&h->sparse, in)) {
                return in->bad = true, -1;
            }
            break;
        }
        case WEIR_AGG_AVG:
            x[0].u = weir_get_u64(in);
            x[1].u = weir_get_u64(in);
            break;
        default:
            if (owns_memory(g)) {
                uint32_t len;
                const uint8_t *text = weir_get_bytes(in, &len);
                if (!text || (seen(accs, i) && set_text(x, (const char *)text, len)))
                    return -1;
            } else {
                x->u = weir_get_u64(in);
            }
            if (weir_agg_slots(g->fn) == 2)
                x[1].u = weir_get_u64(in);
        }
    }
    return in->bad ? -1 : 0;
}

const weir_acc_ops weir_agg_acc_ops = {weir_accs_init, weir_accs_free};
