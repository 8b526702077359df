/*
 * topk.h - TOPK(x, k): the k most frequent values, by the Space-Saving
 * algorithm (Metwally et al. 2005). It keeps CAP = max(8k, 32) counters;
 * a value not counted yet replaces the least-counted one, inheriting its
 * count as its possible overcount. Every value with more than n/CAP
 * occurrences is kept, so on skewed input (heavy hitters) the top k and
 * their counts are exact; values rank by their guaranteed count (count -
 * err) and each reported count is at most `err` too high.
 * Summaries merge (hop panes) by adding counts.
 */
#ifndef WEIR_TOPK_H
#define WEIR_TOPK_H

#include <stdint.h>

#include "base/buf.h"
#include "sql/plan.h"
#include "sql/value.h"

typedef struct weir_topk_item {
    uint64_t hash;             /* of the value */
    int64_t count;
    int64_t err;               /* how much count may overstate */
    char *json;                /* the value as JSON, owned */
    uint32_t json_len;
} weir_topk_item;

typedef struct weir_topk {
    uint32_t k, cap, n;
    weir_topk_item *items;     /* cap of them, n in use */
    weir_buf result;           /* the last formatted result */
} weir_topk;

int weir_topk_add(weir_topk *t, uint32_t k, const weir_value *v, int64_t count);
int weir_topk_merge(weir_topk *dst, const weir_topk *src);
/* [{"value": v, "count": n}, ...], most frequent first (ties by value text);
 * borrowed until the next change. */
weir_value weir_topk_result(weir_topk *t);
void weir_topk_free(weir_topk *t);

/* Checkpoints. */
struct weir_reader_buf;
int weir_topk_save(const weir_topk *t, weir_buf *out);
int weir_topk_load(weir_topk *t, struct weir_reader_buf *in);

#endif
