/*
 * task_store.h - where a scale-out pipeline keeps the state of each input
 * partition it owns (a "task": the partition's next offset and the
 * engine state built from it), so that whichever process takes the
 * partition over restores it. weir's store is a compacted Kafka topic
 * (conn/kafka_state.c); the runner knows it only through this interface.
 *
 * Every save carries an epoch. A process gaining a task takes the highest
 * epoch saved so far plus one, and load() answers the last state saved
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

typedef struct weir_task_saved {
    bool found;
    uint64_t epoch;
    char writer[64];           /* the instance that saved it */
    weir_buf state;            /* the caller frees it */
} weir_task_saved;

typedef struct weir_task_store {
    void *ctx;
    const char *instance;      /* this process's id, stable across its restarts */
    int (*load)(void *ctx, const char *task, weir_task_saved *out, weir_err *err);
    /* Durable at the store when it returns WEIR_OK. */
    int (*save)(void *ctx, const char *task, uint64_t epoch, const uint8_t *state, size_t len, weir_err *err);
    /* Records that this process owns the task from epoch on (pull queries
     * for its keys are sent here). */
    int (*claim)(void *ctx, const char *task, uint64_t epoch, weir_err *err);
    /* The address of the task's owner by its latest claim: 1, 0 if none
     * (or this process), or minus an error code (err filled). */
    int (*owner)(void *ctx, const char *task, char *address, size_t cap, weir_err *err);
} weir_task_store;

#endif
