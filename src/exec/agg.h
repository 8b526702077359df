/*
 * agg.h - aggregate accumulators: the state a grouped query keeps per
 * (key, window or pane), updated once per record and merged across the
 * panes of a hopping window.
 *
 * A group's accumulators are one block (state/acc.h). COUNT(DISTINCT), APPROX_COUNT_DISTINCT,
 * TOPK and TEXT (or JSON) MIN/MAX and LATEST/EARLIEST_BY_OFFSET keep a pointer to heap memory
 * there, released by weir_accs_free.
 */
#ifndef WEIR_AGG_H
#define WEIR_AGG_H

#include "base/arena.h"
#include "sql/plan.h"
#include "state/acc.h"

void weir_accs_init(const weir_query *q, weir_acc *accs);

/* Adds one input row's values (vals[i] = the evaluated argument of
 * aggregate i; ignored for COUNT(*)); seq is the row's place in the
 * query's input, from 1 up (what LATEST/EARLIEST_BY_OFFSET order by).
 * Returns 0, or an error value code (WEIR_VERR_OVERFLOW for a SUM that
 * would overflow) naming aggregate *which, in which case nothing was
 * changed; or -1 when out of memory. */
int weir_accs_add(const weir_query *q, weir_acc *accs, const weir_value *vals, uint64_t seq, int *which);

/* dst += src (the panes of a hopping window). Same error convention. */
int weir_accs_merge(const weir_query *q, weir_acc *dst, const weir_acc *src, int *which);

/* Empties accs to become the merge of the n blocks srcs (the panes of one
 * window, merged next with weir_accs_merge), keeping the memory of its
 * COUNT(DISTINCT) sets and sizing them for srcs' total: a scratch target
 * that merges window after window neither allocates nor rehashes.
 * Returns 0, or -1 when out of memory. */
int weir_accs_reuse(const weir_query *q, weir_acc *accs, weir_acc *const *srcs, int n);

/* The current result of aggregate i (TEXT borrowed from the state). */
weir_value weir_acc_result(const weir_query *q, const weir_acc *accs, int i);

void weir_accs_free(const weir_query *q, weir_acc *accs);

/* weir_accs_init and weir_accs_free, for the state layer's tables (state/groups.h). */
extern const weir_acc_ops weir_agg_acc_ops;

/* Checkpoints: the accumulators as bytes, and back into freshly
 * initialised ones. Load returns 0, or -1 (out of memory or bad bytes). */
struct weir_reader_buf;
int weir_accs_save(const weir_query *q, const weir_acc *accs, weir_buf *out);
int weir_accs_load(const weir_query *q, weir_acc *accs, struct weir_reader_buf *in);

#endif
