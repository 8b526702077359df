/*
 * record.h - a log record and its batch encoding.
 *
 * A record is (key, value, timestamp, headers), all byte strings except the
 * timestamp. Records are stored in batches; a batch is the unit of write,
 * checksum and recovery: it is written whole, its CRC32C covers all of it,
 * and recovery keeps or cuts whole batches. A WER2 batch also names the log
 * commit that wrote it, which is how recovery keeps a commit over several
 * partitions whole or not at all; WER1 batches (older data) have no such
 * marker. The byte layout is described in docs/LOG_FORMAT.md. All integers
 * are little-endian.
 */
#ifndef WEIR_RECORD_H
#define WEIR_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

#define WEIR_BATCH_MAGIC_V1 0x31524557u   /* "WER1": no commit marker (data of older versions) */
#define WEIR_BATCH_MAGIC 0x32524557u      /* "WER2": what is written now, with a commit marker */
#define WEIR_BATCH_HEADER_SIZE 40         /* the part both versions share (length at byte 4) */
#define WEIR_BATCH_V2_HEADER_SIZE 56
/* Commit marker flags of a WER2 batch. */
#define WEIR_COMMIT_FINAL 1u              /* the last batch of its commit in this partition */
#define WEIR_COMMIT_UNCOUNTED 2u          /* a deferred-sync stream's: not one of the commit's parts */
#define WEIR_RECORD_OVERHEAD 20           /* length, timestamp, key and header lengths */
#define WEIR_NULL_KEY UINT32_MAX          /* key length that means "no key" */
#define WEIR_MAX_RECORD_SIZE (16u << 20)  /* key + headers + value */

typedef struct weir_record {
    const uint8_t *key;      /* NULL for a record without key */
    size_t key_len;
    const uint8_t *value;
    size_t value_len;
    const uint8_t *headers;  /* encoded headers (weir_headers_add), or NULL */
    size_t headers_len;
    int64_t ts_ms;           /* milliseconds since the epoch */
    uint64_t offset;         /* set by readers; ignored on append */
} weir_record;

typedef struct weir_batch_info {
    uint32_t len;            /* bytes of the whole batch, header included */
    uint32_t count;          /* records in the batch, >= 1 */
    uint64_t base_offset;    /* offset of the first record */
    int64_t min_ts, max_ts;  /* smallest and largest record timestamp */
    uint32_t header_size;    /* 40 (WER1) or 56 (WER2) */
    uint64_t commit_id;      /* the log commit that wrote it; 0 in a WER1 batch */
    uint32_t commit_parts;   /* in a final batch: partitions the commit counts (see log.c) */
    uint32_t commit_flags;   /* WEIR_COMMIT_* */
} weir_batch_info;

/* Checks the batch at p (avail bytes readable): magic, length, CRC and the
 * structure of every record and header inside. On WEIR_OK, info is filled
 * and weir_batch_next cannot fail on it. *truncated is set when the bytes
 * simply end before the batch does (a torn tail), as opposed to bytes that
 * are there but wrong. */
int weir_batch_check(const uint8_t *p, size_t avail, weir_batch_info *info,
                     bool *truncated, weir_err *err);

/* Iterates the records of a checked batch; pointers in rec point into it. */
typedef struct weir_batch_iter {
    const uint8_t *p, *end;
    uint64_t next_offset;
} weir_batch_iter;

void weir_batch_iter_init(weir_batch_iter *it, const uint8_t *batch, const weir_batch_info *info);
bool weir_batch_next(weir_batch_iter *it, weir_record *rec);

/* Builds batches into a weir_buf: begin, add records, finish. */
typedef struct weir_batch_builder {
    size_t start;            /* position of the open batch in the buffer */
    uint32_t count;          /* records added so far */
    uint64_t base_offset;
    int64_t min_ts, max_ts;
} weir_batch_builder;

int weir_batch_begin(weir_batch_builder *b, weir_buf *out, uint64_t base_offset);
int weir_batch_add(weir_batch_builder *b, weir_buf *out, const weir_record *rec);
/* Writes the header (a WER2 one, with the commit marker given) and CRC of
 * the open batch, which must hold >= 1 record. */
void weir_batch_finish(weir_batch_builder *b, weir_buf *out, uint64_t commit_id, uint32_t commit_parts,
                       uint32_t commit_flags);

/* Bytes a record takes inside a batch. */
static inline size_t weir_record_encoded_size(const weir_record *r)
{
    return WEIR_RECORD_OVERHEAD + (r->key ? r->key_len : 0) + r->headers_len + r->value_len;
}

/* Headers: an encoded list of (name, value) pairs. */
int weir_headers_add(weir_buf *out, const char *name, const void *value, size_t value_len);
typedef struct weir_header {
    const char *name;
    size_t name_len;
    const uint8_t *value;
    size_t value_len;
} weir_header;
/* Walks an encoded list: *pos starts at 0. Returns false at the end or on a
 * malformed list (checked batches never hold one). */
bool weir_headers_next(const uint8_t *h, size_t len, size_t *pos, weir_header *out);

#endif
