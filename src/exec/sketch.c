/*
 * sketch.c - exact hash sets and HyperLogLog (Flajolet et al. 2007, with
 * linear counting for small cardinalities as in Heule et al. 2013).
 */
#include "exec/sketch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

/* The capacity that holds n values within the load limit of 3/4. */
static size_t cap_for(size_t n)
{
    size_t cap = 16;
    while (n * 4 > cap * 3)
        cap *= 2;
    return cap;
}

/* Inserts h (nonzero) into s, which has room for it. */
static void put(weir_hset *s, uint64_t h)
{
    size_t j = h & (s->cap - 1);
    while (s->slots[j]) {
        if (s->slots[j] == h)
            return;
        j = (j + 1) & (s->cap - 1);
    }
    s->slots[j] = h;
    s->n++;
}

/* Moves s's values into cap fresh slots (a power of two that holds them). */
static int rehash(weir_hset *s, size_t cap)
{
    uint64_t *v = calloc(cap, sizeof *v);
    if (!v)
        return WEIR_ENOMEM;
    weir_hset old = *s;
    *s = (weir_hset){.slots = v, .cap = cap};
    for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i])
            put(s, old.slots[i]);
    free(old.slots);
    return 0;
}

int weir_hset_add(weir_hset *s, uint64_t h)
{
    if ((s->n + 1) * 4 > s->cap * 3 && rehash(s, s->cap ? s->cap * 2 : 16))
        return WEIR_ENOMEM;
    put(s, h ? h : 1);
    return 0;
}

int weir_hset_reserve(weir_hset *s, size_t n)
{
    return n * 4 > s->cap * 3 ? rehash(s, cap_for(n)) : 0;
}

int weir_hset_reset(weir_hset *s, size_t n)
{
    size_t cap = cap_for(n);
    if (s->slots && s->cap >= cap && s->cap <= cap * 4) {
        memset(s->slots, 0, s->cap * sizeof *s->slots);
        s->n = 0;
        return 0;
    }
    uint64_t *v = calloc(cap, sizeof *v);
    if (!v)
        return WEIR_ENOMEM;
    free(s->slots);
    *s = (weir_hset){.slots = v, .cap = cap};
    return 0;
}

/* Sized once for both sets, so merging never rehashes on the way. src's
 * slots are gathered 64 at a time without a branch on each (half are
 * empty, a coin toss for the branch predictor), then inserted. */
int weir_hset_merge(weir_hset *dst, const weir_hset *src)
{
    if (weir_hset_reserve(dst, dst->n + src->n))
        return WEIR_ENOMEM;
    uint64_t vals[64];
    for (size_t i = 0; i < src->cap;) {
        size_t k = 0, end = src->cap - i > 64 ? i + 64 : src->cap;
        for (; i < end; i++) {
            vals[k] = src->slots[i];
            k += src->slots[i] != 0;
        }
        for (size_t v = 0; v < k; v++)
            put(dst, vals[v]);
    }
    return 0;
}

void weir_hset_free(weir_hset *s)
{
    free(s->slots);
    s->slots = NULL;
    s->cap = s->n = 0;
}

static void dense_add(uint8_t *reg, uint64_t h)
{
    uint32_t idx = (uint32_t)(h >> (64 - WEIR_HLL_P));
    uint64_t rest = (h << WEIR_HLL_P) | (1ull << (WEIR_HLL_P - 1)); /* a guard bit bounds the run */
    uint8_t rho = (uint8_t)(__builtin_clzll(rest) + 1);
    if (rho > reg[idx])
        reg[idx] = rho;
}

static int densify(weir_hll *h)
{
    h->registers = calloc(WEIR_HLL_REGISTERS, 1);
    if (!h->registers)
        return WEIR_ENOMEM;
    for (size_t i = 0; i < h->sparse.cap; i++)
        if (h->sparse.slots[i])
            dense_add(h->registers, h->sparse.slots[i]);
    weir_hset_free(&h->sparse);
    return 0;
}

int weir_hll_add(weir_hll *h, uint64_t hash)
{
    if (h->registers) {
        dense_add(h->registers, hash);
        return 0;
    }
    if (weir_hset_add(&h->sparse, hash))
        return WEIR_ENOMEM;
    return h->sparse.n >= WEIR_HLL_SPARSE_MAX ? densify(h) : 0;
}

int weir_hll_merge(weir_hll *dst, const weir_hll *src)
{
    if (!src->registers) {
        for (size_t i = 0; i < src->sparse.cap; i++)
            if (src->sparse.slots[i] && weir_hll_add(dst, src->sparse.slots[i]))
                return WEIR_ENOMEM;
        return 0;
    }
    if (!dst->registers && densify(dst))
        return WEIR_ENOMEM;
    for (uint32_t i = 0; i < WEIR_HLL_REGISTERS; i++)
        if (src->registers[i] > dst->registers[i])
            dst->registers[i] = src->registers[i];
    return 0;
}

uint64_t weir_hll_estimate(const weir_hll *h)
{
    if (!h->registers)
        return h->sparse.n;
    const double m = WEIR_HLL_REGISTERS;
    double sum = 0;
    unsigned zeros = 0;
    for (uint32_t i = 0; i < WEIR_HLL_REGISTERS; i++) {
        sum += ldexp(1.0, -h->registers[i]);
        zeros += h->registers[i] == 0;
    }
    double alpha = 0.7213 / (1 + 1.079 / m);
    double e = alpha * m * m / sum;
    if (e <= 2.5 * m && zeros)
        e = m * log(m / zeros); /* linear counting is better while registers are empty */
    return (uint64_t)llround(e);
}

void weir_hll_free(weir_hll *h)
{
    weir_hset_free(&h->sparse);
    free(h->registers);
    h->registers = NULL;
}
