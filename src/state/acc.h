/*
 * acc.h - a group's aggregate accumulators as state: one block per (key,
 * window or pane), a word of "seen a value" bits (one per aggregate, for
 * SQL's NULL results) and one 8-byte slot per aggregate (AVG takes two:
 * sum and count; LATEST/EARLIEST_BY_OFFSET a value and its record's place), at the slot the planner gave it. So COUNT+SUM cost 24
 * bytes a group. The state layer keeps these blocks (groups.h); what the
 * slots mean and how records update them is the operators' (exec/agg.h).
 */
#ifndef WEIR_ACC_H
#define WEIR_ACC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sql/plan.h"

typedef union weir_slot {
    int64_t i;                 /* COUNT, COUNT_IF; SUM and MIN/MAX of INT and TIMESTAMP; AVG's count */
    uint64_t u;                /* SUM, MIN/MAX of UINT */
    double d;                  /* SUM, MIN/MAX of DOUBLE; AVG's sum */
    bool b;                    /* MIN/MAX of BOOL */
    void *p;                   /* a weir_hset, weir_hll, weir_topk or owned TEXT (JSON too for ..._BY_OFFSET) */
} weir_slot;

typedef struct weir_acc {
    uint64_t seen;             /* bit i: aggregate i has seen a non-null value */
    weir_slot s[];             /* q->nslots of them */
} weir_acc;

/* Bytes of one group's block for q. */
static inline size_t weir_accs_size(const weir_query *q) { return sizeof(weir_acc) + (size_t)q->nslots * sizeof(weir_slot); }

/* What the state layer asks of the operators, which know what the slots
 * hold (exec/agg.c, weir_agg_acc_ops): make a new block empty, and free
 * what a block that goes away holds. */
typedef struct weir_acc_ops {
    void (*init)(const weir_query *q, weir_acc *accs);
    void (*release)(const weir_query *q, weir_acc *accs);
} weir_acc_ops;

#endif
