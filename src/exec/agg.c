/*
 * agg.c - updating, merging and reading aggregate accumulators.
 *
 * SQL semantics: every aggregate ignores NULL inputs; SUM, MIN, MAX and
 * AVG of no values are NULL, COUNT of no values is 0. A SUM that would
 * overflow its integer type refuses the record (the caller dead-letters it)
 * instead of wrapping.
 */
#include "exec/agg.h"

#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "exec/sketch.h"
#include "exec/topk.h"

typedef struct owned_text {
    uint32_t len;
    char s[];
} owned_text;

void weir_accs_init(const weir_query *q, weir_acc *accs)
{
    memset(accs, 0, (size_t)q->naggs * sizeof *accs);
}

static int set_text(weir_acc *a, const char *s, uint32_t len)
{
    owned_text *t = malloc(sizeof *t + len);
    if (!t)
        return -1;
    t->len = len;
    memcpy(t->s, s, len);
    free(a->p);
    a->p = t;
    return 0;
}

static weir_value stored(const weir_agg *g, const weir_acc *a)
{
    switch (g->type) {
    case WEIR_TYPE_INT: return weir_int(a->i);
    case WEIR_TYPE_TIMESTAMP: return weir_timestamp(a->i);
    case WEIR_TYPE_UINT: return weir_uint(a->u);
    case WEIR_TYPE_DOUBLE: return weir_double(a->d);
    case WEIR_TYPE_BOOL: return weir_bool(a->b);
    case WEIR_TYPE_TEXT: {
        const owned_text *t = a->p;
        return weir_text(t->s, t->len);
    }
    default: return weir_null(g->type);
    }
}

/* MIN/MAX: keep v if it beats what is stored. */
static int min_max(const weir_agg *g, weir_acc *a, const weir_value *v)
{
    if (a->n) {
        weir_value cur = stored(g, a);
        int c = weir_value_cmp(v, &cur);
        if (g->fn == WEIR_AGG_MIN ? c >= 0 : c <= 0)
            return 0;
    }
    switch (g->type) {
    case WEIR_TYPE_TEXT:
        if (set_text(a, v->s, v->len))
            return -1;
        break;
    case WEIR_TYPE_UINT: a->u = v->u; break;
    case WEIR_TYPE_DOUBLE: a->d = v->d; break;
    case WEIR_TYPE_BOOL: a->b = v->b; break;
    default: a->i = v->i;
    }
    a->n = 1;
    return 0;
}

/* Checks that adding v to SUM accumulator a cannot overflow. */
static bool sum_fits(const weir_agg *g, const weir_acc *a, const weir_value *v)
{
    int64_t i;
    uint64_t u;
    if (g->type == WEIR_TYPE_INT)
        return !__builtin_add_overflow(a->i, v->i, &i);
    if (g->type == WEIR_TYPE_UINT)
        return !__builtin_add_overflow(a->u, v->u, &u);
    return true;
}

static void sum_add(const weir_agg *g, weir_acc *a, const weir_value *v)
{
    if (g->type == WEIR_TYPE_INT) a->i += v->i;
    else if (g->type == WEIR_TYPE_UINT) a->u += v->u;
    else a->d += v->d;
    a->n++;
}

static double as_double(const weir_value *v)
{
    return v->type == WEIR_TYPE_DOUBLE ? v->d : v->type == WEIR_TYPE_UINT ? (double)v->u : (double)v->i;
}

int weir_accs_add(const weir_query *q, weir_acc *accs, const weir_value *vals, int *which)
{
    /* First check everything that can refuse the record, so a refused
     * record changes no accumulator. */
    for (int i = 0; i < q->naggs; i++) {
        const weir_agg *g = &q->aggs[i];
        if (g->fn == WEIR_AGG_SUM && !vals[i].is_null && !sum_fits(g, &accs[i], &vals[i])) {
            *which = i;
            return WEIR_VERR_OVERFLOW;
        }
    }
    for (int i = 0; i < q->naggs; i++) {
        const weir_agg *g = &q->aggs[i];
        weir_acc *a = &accs[i];
        const weir_value *v = &vals[i];
        if (g->fn == WEIR_AGG_COUNT && !g->arg) {
            a->i++;
            continue;
        }
        if (v->is_null)
            continue;
        switch (g->fn) {
        case WEIR_AGG_COUNT: a->i++; break;
        case WEIR_AGG_COUNT_IF: a->i += v->b; break;
        case WEIR_AGG_SUM: sum_add(g, a, v); break;
        case WEIR_AGG_AVG: a->d += as_double(v); a->n++; break;
        case WEIR_AGG_MIN:
        case WEIR_AGG_MAX:
            if (min_max(g, a, v))
                return -1;
            break;
        case WEIR_AGG_COUNT_DISTINCT:
            if (!a->p && !(a->p = calloc(1, sizeof(weir_hset))))
                return -1;
            if (weir_hset_add(a->p, weir_value_hash(v, 0)))
                return -1;
            break;
        case WEIR_AGG_APPROX_DISTINCT:
            if (!a->p && !(a->p = calloc(1, sizeof(weir_hll))))
                return -1;
            if (weir_hll_add(a->p, weir_value_hash(v, 0)))
                return -1;
            break;
        case WEIR_AGG_TOPK:
            if (!a->p && !(a->p = calloc(1, sizeof(weir_topk))))
                return -1;
            if (weir_topk_add(a->p, g->k, v, 1))
                return -1;
            break;
        }
    }
    return 0;
}

int weir_accs_merge(const weir_query *q, weir_acc *dst, const weir_acc *src, int *which)
{
    for (int i = 0; i < q->naggs; i++) {
        const weir_agg *g = &q->aggs[i];
        if (g->fn == WEIR_AGG_SUM && src[i].n) {
            weir_value v = stored(g, &src[i]);
            if (!sum_fits(g, &dst[i], &v)) {
                *which = i;
                return WEIR_VERR_OVERFLOW;
            }
        }
    }
    for (int i = 0; i < q->naggs; i++) {
        const weir_agg *g = &q->aggs[i];
        weir_acc *d = &dst[i];
        const weir_acc *s = &src[i];
        switch (g->fn) {
        case WEIR_AGG_COUNT:
        case WEIR_AGG_COUNT_IF:
            d->i += s->i;
            break;
        case WEIR_AGG_SUM:
            if (s->n) {
                weir_value v = stored(g, s);
                sum_add(g, d, &v);
                d->n += s->n - 1;
            }
            break;
        case WEIR_AGG_AVG:
            d->d += s->d;
            d->n += s->n;
            break;
        case WEIR_AGG_MIN:
        case WEIR_AGG_MAX:
            if (s->n) {
                weir_value v = stored(g, s);
                if (min_max(g, d, &v))
                    return -1;
            }
            break;
        case WEIR_AGG_COUNT_DISTINCT:
            if (s->p) {
                if (!d->p && !(d->p = calloc(1, sizeof(weir_hset))))
                    return -1;
                if (weir_hset_merge(d->p, s->p))
                    return -1;
            }
            break;
        case WEIR_AGG_APPROX_DISTINCT:
            if (s->p) {
                if (!d->p && !(d->p = calloc(1, sizeof(weir_hll))))
                    return -1;
                if (weir_hll_merge(d->p, s->p))
                    return -1;
            }
            break;
        case WEIR_AGG_TOPK:
            if (s->p) {
                if (!d->p && !(d->p = calloc(1, sizeof(weir_topk))))
                    return -1;
                if (weir_topk_merge(d->p, s->p))
                    return -1;
            }
            break;
        }
    }
    return 0;
}

weir_value weir_acc_result(const weir_query *q, const weir_acc *accs, int i)
{
    const weir_agg *g = &q->aggs[i];
    const weir_acc *a = &accs[i];
    switch (g->fn) {
    case WEIR_AGG_COUNT:
    case WEIR_AGG_COUNT_IF: return weir_int(a->i);
    case WEIR_AGG_COUNT_DISTINCT: return weir_int(a->p ? (int64_t)((const weir_hset *)a->p)->n : 0);
    case WEIR_AGG_APPROX_DISTINCT: return weir_int(a->p ? (int64_t)weir_hll_estimate(a->p) : 0);
    case WEIR_AGG_AVG: return a->n ? weir_double(a->d / (double)a->n) : weir_null(WEIR_TYPE_DOUBLE);
    case WEIR_AGG_TOPK: {
        if (a->p)
            return weir_topk_result(a->p);
        weir_value empty = weir_text("[]", 2);
        empty.type = WEIR_TYPE_JSON;
        return empty;
    }
    default: return a->n ? stored(g, a) : weir_null(g->type);
    }
}

void weir_accs_free(const weir_query *q, weir_acc *accs)
{
    for (int i = 0; i < q->naggs; i++) {
        const weir_agg *g = &q->aggs[i];
        weir_acc *a = &accs[i];
        if (g->fn == WEIR_AGG_COUNT_DISTINCT && a->p)
            weir_hset_free(a->p);
        else if (g->fn == WEIR_AGG_APPROX_DISTINCT && a->p)
            weir_hll_free(a->p);
        else if (g->fn == WEIR_AGG_TOPK && a->p)
            weir_topk_free(a->p);
        if ((g->fn == WEIR_AGG_COUNT_DISTINCT || g->fn == WEIR_AGG_APPROX_DISTINCT || g->fn == WEIR_AGG_TOPK ||
             ((g->fn == WEIR_AGG_MIN || g->fn == WEIR_AGG_MAX) && g->type == WEIR_TYPE_TEXT)))
            free(a->p);
        a->p = NULL;
    }
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
    int rc = 0;
    for (int i = 0; i < q->naggs && !rc; i++) {
        const weir_agg *g = &q->aggs[i];
        const weir_acc *a = &accs[i];
        switch (g->fn) {
        case WEIR_AGG_COUNT_DISTINCT:
            rc = save_hset(a->p, out);
            break;
        case WEIR_AGG_TOPK:
            rc = weir_put_u8(out, a->p != NULL) || (a->p && weir_topk_save(a->p, out));
            break;
        case WEIR_AGG_APPROX_DISTINCT: {
            const weir_hll *h = a->p;
            if (h && h->registers)
                rc = weir_put_u8(out, 2) || weir_buf_append(out, h->registers, WEIR_HLL_REGISTERS);
            else
                rc = weir_put_u8(out, 1) || save_hset(h ? &h->sparse : NULL, out);
            break;
        }
        default:
            if ((g->fn == WEIR_AGG_MIN || g->fn == WEIR_AGG_MAX) && g->type == WEIR_TYPE_TEXT) {
                const owned_text *t = a->p;
                rc = weir_put_u64(out, (uint64_t)a->n) || weir_put_bytes(out, t ? t->s : "", t ? t->len : 0);
            } else {
                rc = weir_put_u64(out, a->u) || weir_put_u64(out, (uint64_t)a->n);
            }
        }
    }
    return rc;
}

int weir_accs_load(const weir_query *q, weir_acc *accs, weir_reader_buf *in)
{
    for (int i = 0; i < q->naggs; i++) {
        const weir_agg *g = &q->aggs[i];
        weir_acc *a = &accs[i];
        switch (g->fn) {
        case WEIR_AGG_COUNT_DISTINCT:
            if (!(a->p = calloc(1, sizeof(weir_hset))) || load_hset(a->p, in))
                return -1;
            break;
        case WEIR_AGG_TOPK:
            if (weir_get_u8(in) && (!(a->p = calloc(1, sizeof(weir_topk))) || weir_topk_load(a->p, in)))
                return -1;
            break;
        case WEIR_AGG_APPROX_DISTINCT: {
            weir_hll *h = a->p = calloc(1, sizeof(weir_hll));
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
        default:
            if ((g->fn == WEIR_AGG_MIN || g->fn == WEIR_AGG_MAX) && g->type == WEIR_TYPE_TEXT) {
                a->n = (int64_t)weir_get_u64(in);
                uint32_t len;
                const uint8_t *text = weir_get_bytes(in, &len);
                if (!text || (a->n && set_text(a, (const char *)text, len)))
                    return -1;
            } else {
                a->u = weir_get_u64(in);
                a->n = (int64_t)weir_get_u64(in);
            }
        }
    }
    return in->bad ? -1 : 0;
}
