/*
 * batch.h - Kafka's record batch v2 (magic 2, the only format since Kafka
 * 0.11), decoded from a Produce request and encoded for a Fetch answer.
 *
 * Layout (all big-endian): baseOffset int64, batchLength int32,
 * partitionLeaderEpoch int32, magic int8, crc uint32 (CRC-32C of what
 * follows it), attributes int16 (bits 0-2 codec, 3 timestamp type, 4
 * transactional, 5 control), lastOffsetDelta int32, baseTimestamp int64,
 * maxTimestamp int64, producerId int64, producerEpoch int16, baseSequence
 * int32, then a count int32 and the records, each: length varint,
 * attributes int8, timestampDelta varint, offsetDelta varint, key (varint
 * length, -1 null), value (the same), and headers (a varint count of
 * varint-length key and value pairs). Compression covers the records.
 */
#ifndef WEIR_KAFKA_BATCH_H
#define WEIR_KAFKA_BATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "kafka/wire.h"
#include "runtime/runtime.h"

#define WEIR_KBATCH_HEADER 61        /* bytes before the first record */

/* The records of a produced partition's batches. recs and their headers
 * point into the request or into plain (decompressed bytes), which the set
 * owns. */
typedef struct weir_kbatches {
    weir_wire_record *recs;
    size_t n, cap;
    weir_wire_header *hdrs;          /* every record's headers, in order */
    size_t nh, caph;
    weir_buf *plain;                 /* one per compressed batch */
    size_t nplain;
    size_t nbatches;
    weir_wire_producer producer;     /* the last batch's producer (id -1: none) and sequence numbers */
    bool transactional;              /* some batch has the transactional bit */
} weir_kbatches;

/* Kafka error codes the decoder answers with. */
#define WEIR_KERR_CORRUPT_MESSAGE 2
#define WEIR_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT 43
#define WEIR_KERR_UNSUPPORTED_COMPRESSION_TYPE 76

/* Decodes the batches laid end to end in p[0..len) into out (appending).
 * 0, or a Kafka error code with what, where and why in err (cap bytes):
 * a batch that is cut short, fails its CRC, is not magic 2, is a control
 * batch, or whose records do not add up to its count and length. */
int weir_kbatches_decode(const uint8_t *p, size_t len, weir_kbatches *out, char *err, size_t cap);
void weir_kbatches_free(weir_kbatches *b);

/* Builds one uncompressed batch of records with increasing offsets. */
typedef struct weir_kbatch_builder {
    size_t start;                    /* the batch's first byte in the buffer */
    uint64_t base_offset, last_offset;
    int64_t base_ts, max_ts;
    int32_t count;
} weir_kbatch_builder;

void weir_kbatch_begin(weir_kbatch_builder *b, weir_kw *w);
void weir_kbatch_add(weir_kbatch_builder *b, weir_kw *w, const weir_wire_record *rec);
/* Fills the header and CRC; a batch without records is taken back out. */
void weir_kbatch_finish(weir_kbatch_builder *b, weir_kw *w);

#endif
