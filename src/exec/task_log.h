/*
 * task_log.h - what a task store's records say, apart from how they are
 * carried (conn/kafka_state.c reads and writes them on a compacted Kafka
 * topic; the unit tests keep them in memory).
 *
 * A task's state is a *head* (key "state/<task>": the task's offsets and
 * its engine's snapshot without the groups it keeps apart) and *pieces*
 * (key "piece/<task>:" and the piece's key: one group each, as
 * exec/engine.h's weir_engine_take_pieces makes them). A save writes the
 * pieces that changed since the last save, then the head: its cost
 * follows the changes, and compaction (latest record per key) keeps the
 * topic as large as the state, so a takeover reads the state's size, not
 * its history.
 *
 * A save is not atomic on Kafka (a process may die between its pieces and
 * its head), so every record carries its writer's epoch and the save's
 * sequence number within that epoch, and every piece also its value before
 * the save (its *undo*). A head lists, for each epoch whose pieces are
 * still in the log, the last sequence number that epoch saved whole (its
 * own and, from a takeover, what it restored). A piece counts if the
 * latest head vouches for its epoch and sequence number; one from a save
 * that never wrote its head (or from a stale owner, after a takeover)
 * counts as its undo. Of the records of one key, the latest of the highest
 * epoch is kept: a stale owner's late write never replaces its successor's.
 * A process gaining a task takes an epoch above every record of the task
 * (its claim comes first), so no two owners ever save at one epoch.
 */
#ifndef WEIR_TASK_LOG_H
#define WEIR_TASK_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "exec/task_store.h"

typedef struct weir_task_record {
    const uint8_t *key;
    size_t klen;
    const uint8_t *value;       /* NULL: a null value (a piece removed, a tombstone) */
    size_t vlen;
    uint64_t epoch, seq;        /* seq 0: a record without one (a claim, or a head from before pieces) */
    const char *writer;         /* the instance that wrote it */
    const uint8_t *undo;        /* a piece's value before its save; NULL: it had none */
    size_t undo_len;
    const char *epochs;         /* a head's: "EPOCH:SEQ,..." the epochs it vouches for; NULL: none */
    bool counted;               /* a head's: it says how many pieces its task holds after its save */
    uint64_t npieces;
} weir_task_record;

typedef struct weir_task_log weir_task_log;

weir_task_log *weir_task_log_new(void);
void weir_task_log_free(weir_task_log *l);

/* Takes a record read from (or written to) the store: kept if it is the
 * latest of its key's highest epoch. -1 when out of memory. */
int weir_task_log_apply(weir_task_log *l, const weir_task_record *r);

/* The kept record of key into *out (pointers valid until the next apply): false if none. */
bool weir_task_log_get(const weir_task_log *l, const void *key, size_t klen, weir_task_record *out);

/* A task's state as the log holds it: its head and the pieces that count
 * (as many as the head says, or WEIR_ECORRUPT),
 * and the highest epoch of any of its records (claims included), which a
 * process gaining the task must pass. The head is remembered: the first
 * save of a new epoch vouches for what it restored. */
int weir_task_log_load(weir_task_log *l, const char *task, weir_task_saved *out, weir_err *err);

/* The records of a save, in the order they are written: the pieces, then
 * the head (records[n - 1]). They point into the plan, and into the head
 * and pieces it was made from. */
typedef struct weir_task_save_plan {
    weir_task_record *records;
    size_t n;
    weir_buf bytes;             /* what the records point into (keys, undos, the epochs) */
} weir_task_save_plan;

/* Plans a save of task at epoch by writer: head, and pieces (the changes
 * since the last save, state/changes.h). A newer epoch having
 * saved the task: its owner is another process now (WEIR_EBUSY). */
int weir_task_log_plan(const weir_task_log *l, const char *task, uint64_t epoch, const char *writer, const uint8_t *head,
                       size_t hlen, const weir_buf *pieces, weir_task_save_plan *out, weir_err *err);
/* Once the plan's pieces are applied to l: the head's count of the task's
 * pieces, which a load checks (a topic trimmed by retention rather than
 * compacted loses pieces: WEIR_ECORRUPT, not a silently smaller state).
 * -1 when out of memory. */
int weir_task_log_count(const weir_task_log *l, const char *task, weir_task_save_plan *p);
void weir_task_save_plan_free(weir_task_save_plan *p);

#endif
