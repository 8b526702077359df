/*
 * task_store.h - where a scale-out pipeline keeps the state of each input
 * partition it owns (a "task": the partition's next offset and the
 * engine state built from it), so that whichever process takes the
 * partition over restores it. weir's store is a compacted Kafka topic
 * (conn/kafka_state.c); the runner knows it only through this interface.
 *
 * A task's state is a head (its offsets and engine snapshot) and pieces
 * (the groups its engine keeps apart, exec/engine.h): a save hands over
 * the head and the pieces changed since the last save, and load() answers
 * the head and every piece as of one whole save (task_log.h says how a
 * store that cannot write them atomically gets that).
 *
 * Every save carries an epoch. A process gaining a task takes the highest
 * epoch of any of the task's records (claims included) plus one, and load() answers the last state saved
 * with the highest epoch: a process that lost a task without knowing it
 * (stalled past its session timeout) cannot overwrite its successor's.
 */
#ifndef WEIR_TASK_STORE_H
#define WEIR_TASK_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "log/log.h"

typedef struct weir_task_saved {
    bool found;
    uint64_t epoch;
    char writer[64];           /* the instance that saved it */
    weir_buf state;            /* the head; the caller frees it */
    weir_buf pieces;           /* the pieces as state/changes.h puts (keys and values); the caller frees it */
    uint64_t last_epoch;       /* the highest epoch of any record of the task, found or not: a gain takes the next */
} weir_task_saved;

typedef struct weir_task_store {
    void *ctx;
    const char *instance;      /* this process's id, stable across its restarts */
    int (*load)(void *ctx, const char *task, weir_task_saved *out, weir_err *err);
    /* The head and the pieces' changes since the last save (changes.h: puts
     * and deletes), durable at the store when it returns WEIR_OK. */
    int (*save)(void *ctx, const char *task, uint64_t epoch, const uint8_t *state, size_t len, const weir_buf *pieces,
                weir_err *err);
    /* Records that this process owns the task from epoch on (pull queries
     * for its keys are sent here). */
    int (*claim)(void *ctx, const char *task, uint64_t epoch, weir_err *err);
    /* The address of the task's owner by its latest claim: 1, 0 if none
     * (or this process), or minus an error code (err filled). */
    int (*owner)(void *ctx, const char *task, char *address, size_t cap, weir_err *err);
    /* Exactly once (serve --kafka-exactly-once), or all three NULL. Each
     * task's output rows and dead letters (emit) and its saves go to the
     * store's cluster in one transaction per save: save() commits what
     * was emitted since the last save with the state it reflects, or
     * nothing of it (an error), so a state and its rows are never apart.
     * begin() before a gained task's load() fences the task's previous
     * owner (its open transaction aborted, its later writes refused) and
     * waits until load() sees every save committed before; end() when the
     * task is lost aborts what was emitted since its last save (the caller
     * restores the task from the store if it comes back). save()
     * answers WEIR_EBUSY when the store holds another process's newer
     * claim or save of the task (it took the task). */
    int (*begin)(void *ctx, const char *task, weir_err *err);
    /* A record of output stream `stream` (its Kafka topic: the stream's
     * name) for its partition of `partitions`. */
    int (*emit)(void *ctx, const char *task, const char *stream, uint32_t partition, uint32_t partitions,
                const weir_record *rec, weir_err *err);
    void (*end)(void *ctx, const char *task);
    /* After emit() or save() failed otherwise than WEIR_EBUSY: whether the
     * task's transaction was aborted under it (the broker's timeout, a
     * record refused) or its producer fenced (by the broker's timeout or by
     * another process's producer: Kafka clients cannot always tell), so
     * that the task may still be this process's. What it emitted since its
     * last save is then gone: unless load() shows another process's claim,
     * the caller restores the task from that save (end(), begin(), load())
     * and reads on from there. False: a failure no fresh producer cures. */
    bool (*aborted)(void *ctx, const char *task);
    /* Exactly once: the transactions' timeout (transaction.timeout.ms),
     * past which the broker aborts one still open; 0 otherwise. A task's
     * transaction stays open from its first row after a commit until the
     * checkpoint after it commits, so the runner keeps its checkpoint
     * interval well below (tasks.c). */
    int64_t txn_timeout_ms;
} weir_task_store;

#endif
