/*
 * temporal_join.h - the state of a temporal join (sql/plan.h's weir_join
 * with `table` and `temporal` set: FROM s JOIN t FOR SYSTEM_TIME AS OF
 * s.ts), as Flink runs an event-time temporal join: each stream record
 * meets the table's row of its key as it was at the record's event time,
 * the version with the latest time at or before it (a version's time is
 * its record's event time; a tombstone's, its record's timestamp).
 *
 * Time, by watermarks as windows keep them (the newest event time seen
 * per side and partition, raised by the driver for idle partitions):
 * - a stream record waits until the table's watermark (the least of its
 *   partitions') reaches its time, so every version it could meet is in;
 *   records then come out in (event time, arrival) order;
 * - a record of either side further behind its own partition's watermark
 *   than GRACE is too late: a stream record might have missed versions
 *   dropped already, a table record would change what was emitted;
 * - a key keeps the newest version at or before the stream's watermark
 *   less GRACE (and before every waiting record) and every later one: no
 *   record that is not too late can meet an older one; older versions go
 *   when the key is next written or met, or when that time (the horizon)
 *   passes them (temporal_join.c's sweep): that is the join's retention.
 * So what meets never depends on how the two inputs interleave: replay,
 * serve and a restart give the same rows. One thread calls everything.
 */
#ifndef WEIR_TEMPORAL_JOIN_H
#define WEIR_TEMPORAL_JOIN_H

#include "base/buf.h"
#include "base/codec.h"
#include "exec/join.h"
#include "state/budget.h"
#include "state/store.h"

typedef struct weir_temporal_join weir_temporal_join;

/* NULL when out of memory. nparts: partitions of each side. */
weir_temporal_join *weir_temporal_join_new(const weir_join *j, int left_cols, uint32_t nparts);
void weir_temporal_join_free(weir_temporal_join *t);

/* A table record of partition part at time ts (row NULL: a tombstone of
 * key's row) becomes its key's version at ts, unless too late (*late).
 * Stream records it lets out go to emit. */
int weir_temporal_join_version(weir_temporal_join *t, uint32_t part, const weir_value *row, const weir_value *key,
                               int64_t ts, weir_eval *ev, weir_join_emit emit, void *ctx, bool *late);

/* A stream record of partition part at ts: too late (*late), met at once
 * if the table's watermark has reached ts, else kept until it does. ev
 * evaluates ON's rest (ev->err: it failed, the record is not kept). */
int weir_temporal_join_push(weir_temporal_join *t, uint32_t part, const weir_value *row, int64_t ts, weir_eval *ev,
                            weir_join_emit emit, void *ctx, bool *late);

/* Raises a side's (0 stream, 1 table) partition's watermark to at least
 * wm (INT64_MAX: end of input, every waiting record comes out). */
int weir_temporal_join_advance(weir_temporal_join *t, int side, uint32_t part, int64_t wm, weir_eval *ev,
                               weir_join_emit emit, void *ctx);
int64_t weir_temporal_join_watermark(const weir_temporal_join *t, int side, uint32_t part);

uint64_t weir_temporal_join_entries(const weir_temporal_join *t); /* versions and waiting records */
uint64_t weir_temporal_join_bytes(const weir_temporal_join *t);

/* Checkpoints: watermarks, versions and waiting records (attached to a
 * store, the versions are left out: the store has them; a version loaded
 * into an attached join goes to the store at the next seal). */
int weir_temporal_join_save(const weir_temporal_join *t, weir_buf *out);
int weir_temporal_join_load(weir_temporal_join *t, weir_reader_buf *r); /* WEIR_ECORRUPT, WEIR_ENOMEM */

/* The versions in the state store, table "join:NAME:versions"
 * (temporal_join.c's top comment says how): attach (the store borrowed
 * until the join is freed; before any version, on the store's writer
 * thread with no transaction open) reads every version the store holds
 * back into memory; a checkpoint's seal (the checkpoint's thread, the
 * join not in use), write (in the store's transaction) and written
 * (whether that committed; a batch that did not is written again, first,
 * by the next), as group_store.c's. */
int weir_temporal_join_attach(weir_temporal_join *t, weir_store *store, const char *name, weir_err *err);
int weir_temporal_join_seal(weir_temporal_join *t, weir_err *err);
int weir_temporal_join_write(weir_temporal_join *t, weir_store_txn *txn, weir_err *err);
void weir_temporal_join_written(weir_temporal_join *t, bool committed);
/* Bounded memory (state/budget.h), attached: a tick (a checkpoint
 * committed); the bytes of the keys whose versions the store holds as
 * they are and none is due to be pruned, by age since last used; dropping
 * those older than age, and of age `age` up to max_bytes (how many keys'
 * versions left; they are read back when the key is next met or written).
 * Nothing is droppable while a batch waits. A failure to read them back
 * is the error weir_temporal_join_push, _version and _advance return, and
 * weir_temporal_join_error says why. */
void weir_temporal_join_tick(weir_temporal_join *t);
void weir_temporal_join_droppable(const weir_temporal_join *t, weir_budget_ages *ages);
uint64_t weir_temporal_join_drop(weir_temporal_join *t, unsigned age, uint64_t max_bytes);
const char *weir_temporal_join_error(const weir_temporal_join *t);
/* A version into memory from its store value, as attach reads it (for
 * fuzzing the value's decoder); WEIR_ECORRUPT for bytes it does not write. */
int weir_temporal_join_restore(weir_temporal_join *t, const void *val, size_t vlen, weir_err *err);

#endif
