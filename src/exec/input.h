/*
 * input.h - where a pipeline reads an input stream from, when not the
 * embedded log: a connector (a Kafka topic) plugged into the runner.
 *
 * Offsets are the source's own (Kafka offsets): the runner keeps the next
 * one per partition, puts them in its checkpoint and, restoring, opens the
 * source at them, so each record is counted once in the state whatever
 * the source remembers itself.
 */
#ifndef WEIR_INPUT_H
#define WEIR_INPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "log/log.h"
#include "sql/plan.h"

typedef struct weir_input_ops {
    /* The next record of a partition: 1 (rec valid until the next call for
     * that partition), 0 when none has arrived, or an error code < 0. */
    int (*next)(void *state, uint32_t partition, weir_record *rec, weir_err *err);
    /* Whether nothing is known to come after offset in the partition now
     * (true for a partition another process owns). */
    bool (*caught_up)(void *state, uint32_t partition, uint64_t offset);
    /* The partition's end as last seen (no waiting), or -1 if not known yet. */
    int64_t (*end)(void *state, uint32_t partition);
    /* A checkpoint naming these next offsets is durable (e.g. commit them
     * to the consumer group, for outside tools). */
    void (*checkpointed)(void *state, const uint64_t *offsets, uint32_t partitions);
    void (*close)(void *state);
    /* Scale-out, a source opened to follow (weir_input_tasks.gained NULL):
     * reads the partition from offset on (own) or stops reading it. NULL
     * for a source that cannot (a join's inputs must then be on one that
     * can). */
    int (*follow)(void *state, uint32_t partition, bool own, uint64_t offset, weir_err *err);
    /* Scale-out: reads an owned partition again from offset (0: its
     * beginning), what was queued of it dropped: a task restored from its
     * last commit under serve --kafka-exactly-once. NULL for a source that
     * cannot. */
    int (*seek)(void *state, uint32_t partition, uint64_t offset, weir_err *err);
} weir_input_ops;

/* Scale-out: the source's partitions are shared with other processes (a
 * Kafka consumer group), which take them over and hand them back. The
 * source calls these from inside next() when that happens. With gained
 * NULL the source joins no group: it reads no partition until follow()
 * names one (a join's other inputs follow its first's partitions, so
 * that one engine reads partition p of each). */
typedef struct weir_input_tasks {
    void *ctx;
    /* The partition is this process's now: restore its state; *offset is
     * where to read on from. Non-zero (an error code, err filled) stops the
     * pipeline. */
    int (*gained)(void *ctx, uint32_t partition, uint64_t *offset, weir_err *err);
    /* The partition went to another process: nothing more of it is read here. */
    void (*lost)(void *ctx, uint32_t partition);
} weir_input_tasks;

/* Opens rel's source at offsets (next offset per partition; all 0 with no
 * checkpoint), or leaves *ops NULL when rel is read from the log. With
 * tasks the source joins its group and reads only the partitions it is
 * given, from the offsets gained() names (or, gained NULL, those follow()
 * names). */
typedef int (*weir_input_open_fn)(void *ctx, const weir_relation *rel, const uint64_t *offsets, uint32_t partitions,
                                  const weir_input_tasks *tasks, const weir_input_ops **ops, void **state,
                                  weir_err *err);

#endif
