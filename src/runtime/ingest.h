/*
 * ingest.h - ingest admission: records in, answered once durable.
 *
 * A body is split into records, each checked against its stream's schema
 * (a stream that keeps dead letters sends the bad ones to <stream>.dlq,
 * else the whole batch is refused with one error per bad record); the
 * quotas (disk space, --disk-quota, bytes waiting for their commit) are
 * checked; then every record is appended and the answer waits for the
 * pipeline's next group commit. Either all of a batch is stored or none.
 */
#ifndef WEIR_RUNTIME_INGEST_H
#define WEIR_RUNTIME_INGEST_H

#include "runtime/runtime.h"

typedef enum weir_ingest_form {
    WEIR_INGEST_BATCH,            /* NDJSON, a JSON array of objects, or one object */
    WEIR_INGEST_RECORD,           /* exactly one JSON object, its text checked already (a route template's record) */
} weir_ingest_form;

/* The answer to an ingest; a is borrowed for the call. Called once: from
 * the caller's thread for a refusal, else from the pipeline thread, in
 * the middle of its step, so it must not call the runtime. */
typedef void (*weir_ingest_done)(void *ctx, const weir_answer *a);

/* Admits the records of body (len bytes, read during the call only) into
 * source stream `stream`. done gets 200 {accepted, partitions} once they
 * are durable (422 with the errors when bad ones went to the dead
 * letters), or the refusal: 400 (bad JSON, with line and column), 404,
 * 409 (not a source stream, no schema version yet, fed by a file), 422
 * (schema violations: nothing stored), 500, 503 with retry_after_s
 * (overloaded, disk full, stopping). */
void weir_runtime_ingest(weir_runtime *s, const char *stream, weir_ingest_form form, const char *body, size_t len,
                         weir_ingest_done done, void *ctx);

/* Removes the row of source table `table` (CREATE TABLE with a PRIMARY
 * KEY, fed by producers) whose key column's value is key, as its text: a
 * tombstone (the key, no value) admitted as a produced record is, into the
 * partition the key's records go to. done gets 200 {"removed": {key}}
 * once it is durable (whether or not such a row was there, as a Kafka
 * tombstone), or the refusal: 400 (no key, or one that is not of the key
 * column's type), 404 (no such table), 409 (a table the pipeline
 * computes), 500, 503. */
void weir_runtime_delete_row(weir_runtime *s, const char *table, const char *key, weir_ingest_done done, void *ctx);

#endif
