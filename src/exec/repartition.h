/*
 * repartition.h - scale-out's repartition streams, as a task's engine
 * writes and reads them (sql/plan_repartition.c plans them; README,
 * "Scale-out": what a user sees).
 *
 * Each record of a repartition stream carries where it came from, in one
 * header, "weir-origin": "<partition> <offset> <watermark>" in decimal:
 * its input record's partition and offset, and that origin partition's
 * watermark before it (the newest event time of the records it sent to
 * the stream before this one, -9223372036854775808 for none).
 *
 * Exactly once: a task re-reads its input from its last saved offset
 * after a takeover (tasks.c), so a repartition record may reach the topic
 * twice, but each origin partition's records reach a topic partition in
 * their offset order, from either writer. The reading task applies a
 * record only when its origin offset is above every one applied from that
 * origin partition, and keeps those offsets in its engine's state (saved
 * with it: the decision is the same when a task is redone).
 *
 * Watermarks: the topic's partition mixes the origin partitions, so the
 * grouped query reading it keeps one watermark per origin partition, as
 * the same query in one process keeps one per input partition: a record
 * is too late when its windows closed by its origin partition's watermark
 * (the one it carries, so the same records are late as in one process),
 * and windows close when the least of them passes (an origin partition
 * that sends nothing to this one holds them open until idle advance
 * raises it, as a quiet input partition does).
 *
 * All of it lives in the engine (engine_internal.h's repart) and goes into
 * its snapshot; a catalog without repartition streams has none (NULL).
 */
#ifndef WEIR_REPARTITION_H
#define WEIR_REPARTITION_H

#include "base/codec.h"
#include "exec/engine.h"
#include "log/record.h"

#define WEIR_REPART_HEADER "weir-origin"

typedef struct weir_repart weir_repart;

/* *out NULL when cat has no repartition stream. */
int repart_new(const weir_catalog *cat, weir_repart **out, weir_err *err);
void repart_free(weir_repart *rp);
/* Snapshot section (snapshot.c): u32 streams, then per stream u32
 * partitions and per partition u64 next origin offset to apply (0: none
 * yet), u64 watermark written; none when rp is NULL. */
int repart_save(const weir_repart *rp, weir_buf *out);
/* Reads that back (rd->bad on damage or another layout). */
void repart_load(weir_repart *rp, weir_reader_buf *rd);

/* Writer: the headers of the record of repartition stream `stream` that
 * the record at (part, offset) of its origin, of event time ts, became
 * (borrowed until the next call); -1 when out of memory. */
int repart_header(weir_engine *e, const weir_relation *stream, uint32_t part, uint64_t offset, int64_t ts,
                  const uint8_t **headers, size_t *len);

/* Reader: a record of repartition stream `stream` read by engine e at
 * now_ms. *apply false for a duplicate, or for a record without a valid
 * origin header (then a dead letter through t); otherwise *part is the
 * engine partition to push it into (its origin partition), whose
 * watermark was first raised to the one it carries, and its origin offset
 * counts as applied. An error code when t fails. */
int repart_take(weir_engine *e, const weir_relation *stream, const weir_record *rec, int64_t now_ms,
                const weir_emit_target *t, bool *apply, uint32_t *part, weir_err *err);

/* Idle advance: when engine e last took a record of `stream` from origin
 * partition origin (wall ms); 0 never. */
int64_t repart_seen_ms(const weir_engine *e, const weir_relation *stream, uint32_t origin);

#endif
