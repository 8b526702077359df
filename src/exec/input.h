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
    /* Whether nothing is known to come after offset in the partition now. */
    bool (*caught_up)(void *state, uint32_t partition, uint64_t offset);
    /* The partition's end as last seen (no waiting), or -1 if not known yet. */
    int64_t (*end)(void *state, uint32_t partition);
    /* A checkpoint naming these next offsets is durable (e.g. commit them
     * to the consumer group, for outside tools). */
    void (*checkpointed)(void *state, const uint64_t *offsets, uint32_t partitions);
    void (*close)(void *state);
} weir_input_ops;

/* Opens rel's source at offsets (next offset per partition; all 0 with no
 * checkpoint), or leaves *ops NULL when rel is read from the log. */
typedef int (*weir_input_open_fn)(void *ctx, const weir_relation *rel, const uint64_t *offsets, uint32_t partitions,
                                  const weir_input_ops **ops, void **state, weir_err *err);

#endif
