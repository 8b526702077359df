/*
 * ingest.h - turning a JSON record (one NDJSON line) into a log record:
 * the key is the text of a chosen top-level field, as a producer would
 * send it to Kafka. Shared by `weir produce` and `weir serve`'s ingest
 * (runtime/ingest.c: HTTP, source connectors' feeds, --stdin).
 */
#ifndef WEIR_INGEST_H
#define WEIR_INGEST_H

#include "base/buf.h"
#include "log/log.h"

/* Appends json (one object's text) to s, with headers (encoded, or NULL),
 * to `partition` or (when it is negative) to its key's. key_fields (may be NULL) names the field whose
 * value is the record's key: a string's text, another value's JSON text;
 * no key when absent or null (the record goes to the partition of the
 * empty key, weir_partition_for_no_key; without key_fields, round-robin). Several fields
 * ("a,b") make the key their texts joined by '|' (a missing one as empty
 * text), as partition_of(n, a, b) computes it. scratch holds
 * the decoded key between calls. A stream whose records were all placed
 * by its key (its config's key) forgets that key first if this record is
 * placed otherwise (by other fields, or in another partition).
 * Returns like weir_stream_append, and
 * like it says where the record went (either pointer may be NULL). */
int weir_ingest_json(weir_stream *s, int32_t partition, const char *key_fields, const char *json, size_t len,
                     int64_t ts_ms, const weir_buf *headers, weir_buf *scratch, uint32_t *partition_out, uint64_t *offset_out,
                     weir_err *err);

#endif
