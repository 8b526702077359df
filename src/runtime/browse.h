/*
 * browse.h - looking into the log as Kafka-UI does: a stream's records, as
 * stored, and the consumer groups (weir consume --group, each sink's
 * sink.<name>) with their committed offsets and lag.
 */
#ifndef WEIR_RUNTIME_BROWSE_H
#define WEIR_RUNTIME_BROWSE_H

#include "runtime/runtime.h"

/* Which records of a stream: from an offset of one partition, from a
 * point in time, or of a key; else the newest. */
typedef struct weir_browse {
    uint64_t partition;           /* one partition; UINT64_MAX: all (a key's: the one its hash gives) */
    uint64_t offset;              /* with partition: from this offset on; UINT64_MAX: none */
    bool has_time;
    int64_t time_ms;              /* with has_time: from the first record appended at or after it (each partition) */
    const char *key;              /* only records of this key, the newest of the last 100,000 of its partition; or NULL */
    size_t limit;                 /* at most this many records (0 counts as 1) */
} weir_browse;

/* {stream, partitions: [{partition, start_offset, end_offset}], records:
 * [{partition, offset, timestamp, key, value}]}: without a partition the
 * newest `limit` of every partition's (from a time: the oldest). 404: no
 * such stream; 400: no such partition. */
void weir_runtime_records(weir_runtime *s, const char *stream, const weir_browse *q, weir_answer *a);

/* {groups: [{group, stream, partitions: [{partition, committed, end, lag}], lag}]} */
void weir_runtime_groups(weir_runtime *s, weir_answer *a);

#endif
