/*
 * sketch.h - the distinct-count structures behind COUNT(DISTINCT x) and
 * APPROX_COUNT_DISTINCT(x).
 *
 * Both work on 64-bit hashes of values (weir_value_hash). weir_hset is an
 * exact set of hashes (exact up to 64-bit hash collisions: about one in
 * 10^7 at a million distinct values). weir_hll is HyperLogLog with 2^14
 * one-byte registers (standard error 0.81%), kept sparse, as an exact
 * hash set, while it holds fewer than WEIR_HLL_SPARSE_MAX values, so small
 * counts are exact and cost little memory. Both merge (for hop panes).
 */
#ifndef WEIR_SKETCH_H
#define WEIR_SKETCH_H

#include <stddef.h>
#include <stdint.h>

typedef struct weir_hset {
    uint64_t *slots;           /* 0 marks an empty slot (hash 0 is stored as 1) */
    size_t cap, n;
} weir_hset;

int weir_hset_add(weir_hset *s, uint64_t h);          /* 0, or WEIR_ENOMEM */
int weir_hset_merge(weir_hset *dst, const weir_hset *src);
/* Room for n values in all, so adding up to them never rehashes. */
int weir_hset_reserve(weir_hset *s, size_t n);
/* Empties s with room for n values, keeping its slots when they are
 * between that and 4 times that: a scratch set reused from merge to merge
 * neither rehashes nor stays oversized. On failure s is unchanged. */
int weir_hset_reset(weir_hset *s, size_t n);
void weir_hset_free(weir_hset *s);

#define WEIR_HLL_P 14
#define WEIR_HLL_REGISTERS (1u << WEIR_HLL_P)
#define WEIR_HLL_SPARSE_MAX 2048

typedef struct weir_hll {
    weir_hset sparse;          /* used while registers == NULL */
    uint8_t *registers;        /* dense form: WEIR_HLL_REGISTERS bytes */
} weir_hll;

int weir_hll_add(weir_hll *h, uint64_t hash);
int weir_hll_merge(weir_hll *dst, const weir_hll *src);
uint64_t weir_hll_estimate(const weir_hll *h);
void weir_hll_free(weir_hll *h);

#endif
