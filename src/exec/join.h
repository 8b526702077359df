/*
 * join.h - the state of a stream-stream interval join (sql/plan.h's
 * weir_join): each side's records buffered by join key until the
 * watermark says no record of the other side can meet them any more.
 *
 * Time, with span = hi - lo and the bound lo <= right.ts - left.ts <= hi:
 * - a left record is too late when ts + hi + grace is behind its own
 *   partition's watermark, a right one when ts - lo + grace is: every
 *   record of the other side it could meet has then gone by, and lateness
 *   depends on its own partition alone, so replays and restarts decide
 *   alike;
 * - a record is dropped (and an outer join's unmatched one emitted with
 *   NULLs for the other side) once ts + span + grace is behind the least
 *   watermark of every partition of both sides. No record that is not too
 *   late could still meet it, so which pairs meet never depends on how the
 *   two inputs interleave.
 * Watermarks are the newest event time seen per side and partition, as
 * windows keep them; the driver raises them for idle partitions.
 *
 * One thread (the engine's) calls everything here.
 */
#ifndef WEIR_JOIN_H
#define WEIR_JOIN_H

#include "base/buf.h"
#include "base/codec.h"
#include "sql/eval.h"
#include "state/store.h"

typedef struct weir_join_state weir_join_state;

/* a + b, saturating at the ends of int64 (event times may be anywhere in it). */
static inline int64_t weir_sat_add(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? (b > 0 ? INT64_MAX : INT64_MIN) : r;
}

/* Receives a joined row (the left's columns, then the right's; NULLs for
 * the side an outer row has not) and its event time: the later of the
 * two, or the one record's for an outer row. from is the side (0 left,
 * 1 right) of the record that made it: the arriving one, or the one
 * dropped. Values are borrowed for the call. Non-zero stops the join. */
typedef int (*weir_join_emit)(void *ctx, const weir_value *row, int64_t ts, int from);

/* NULL when out of memory. nparts: partitions of each side. */
weir_join_state *weir_join_new(const weir_join *j, int left_cols, uint32_t nparts);
void weir_join_free(weir_join_state *s);

/* A record of side (0 left, 1 right) from partition part: too late (*late
 * set, nothing else done), or met with the other side's records and kept.
 * ev evaluates ON's rest (its arena is the caller's); if that fails, ev->err
 * says so and the record is not kept. Returns what emit returned, or
 * WEIR_ENOMEM. */
int weir_join_push(weir_join_state *s, int side, uint32_t part, const weir_value *row, int64_t ts, weir_eval *ev,
                   weir_join_emit emit, void *ctx, bool *late);

/* Raises a side's partition's watermark to at least wm (INT64_MAX: end of
 * input, every record is dropped) and drops what it passed. */
int weir_join_advance(weir_join_state *s, int side, uint32_t part, int64_t wm, weir_join_emit emit, void *ctx);
int64_t weir_join_watermark(const weir_join_state *s, int side, uint32_t part);

uint64_t weir_join_entries(const weir_join_state *s);
uint64_t weir_join_bytes(const weir_join_state *s);   /* buffered rows and the tables holding them */
size_t weir_join_entry_size(const weir_join_state *s); /* one record's overhead besides its values */

/* Checkpoints: watermarks and buffered records (snapshot.c frames them;
 * attached to a store, the records are left out: the store has them). A
 * record loaded into an attached join goes to the store at the next seal. */
int weir_join_save(const weir_join_state *s, weir_buf *out);
int weir_join_load(weir_join_state *s, weir_reader_buf *r); /* WEIR_ECORRUPT, WEIR_ENOMEM */

/* The buffered records in the state store (join.c's top comment says
 * how), in tables "join:NAME:left" and "join:NAME:right": attach (the
 * store borrowed until the join is freed; before any record, on the
 * store's writer thread with no transaction open) reads every record the
 * store holds back into memory; a checkpoint's seal (the checkpoint's
 * thread, the join not in use), write (in the store's transaction) and
 * written (whether that committed; a batch that did not is written again,
 * first, by the next), as group_store.c's. */
int weir_join_attach(weir_join_state *s, weir_store *store, const char *name, weir_err *err);
int weir_join_seal(weir_join_state *s, weir_err *err);
int weir_join_write(weir_join_state *s, weir_store_txn *txn, weir_err *err);
void weir_join_written(weir_join_state *s, bool committed);
/* A record of side (0 left, 1 right) into memory from its store value, as
 * attach reads it (for fuzzing the value's decoder); WEIR_ECORRUPT for
 * bytes join.c does not write. */
int weir_join_restore(weir_join_state *s, int side, const void *val, size_t vlen, weir_err *err);

#endif
