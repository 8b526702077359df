/*
 * kafka_producers.h - idempotent producers' sequence checks, for
 * kafka_produce.c (the public side is in runtime.h). Everything here runs
 * on the pipeline thread (or the caller's once the loop is over).
 */
#ifndef WEIR_RUNTIME_KAFKA_PRODUCERS_H
#define WEIR_RUNTIME_KAFKA_PRODUCERS_H

#include <stdint.h>

#include "runtime/runtime_internal.h"

enum { PRODUCER_NEW = 0, PRODUCER_DUPLICATE = 1 };

/* Checks a batch against its producer's state (read from __weir_producers
 * first if need be): PRODUCER_NEW, PRODUCER_DUPLICATE with the offset the
 * batch got the first time in *dup_offset, or a WEIR_PRODUCE_* status (or
 * 503 when the state cannot be read) with why. */
int producers_check(weir_runtime *s, weir_producers *p, const char *topic, int32_t partition,
                    const weir_wire_producer *b, uint64_t *dup_offset, char *why, size_t cap);

/* Appends the producer's state after the batch (stored at base_offset) to
 * __weir_producers, in the commit that stores the batch, and keeps it in
 * memory. An error other than WEIR_ENOMEM is the log's (see
 * weir_stream_append). */
int producers_note(weir_runtime *s, weir_producers *p, const char *topic, int32_t partition,
                   const weir_wire_producer *b, uint64_t base_offset, weir_err *err);

/* Reads one record of __weir_producers (its value, stored at ts_ms) into
 * p: false if it is not one this file writes (or memory ran out). Any
 * thread, while no other uses p. */
bool producers_take(weir_producers *p, const uint8_t *v, size_t len, int64_t ts_ms);

/* A commit that held producer state failed: what is in memory may say more
 * than the log, so the next check reads the log again. Any thread. */
void producers_forget(weir_producers *p);

#endif
