/*
 * retention.h - how long the pipeline's streams keep their records: each
 * stream's retention and cleanup policy from its WITH options, or the
 * server's defaults (serve --retention), applied to the log at start;
 * then, on the pipeline thread, time and size retention and the
 * compaction of compacted streams (README, "Durability"; docs/LOG_FORMAT.md
 * rules 5 and 9).
 */
#ifndef WEIR_RUNTIME_RETENTION_H
#define WEIR_RUNTIME_RETENTION_H

#include <stdbool.h>
#include <stdint.h>

#include "base/duration.h"
#include "base/err.h"

struct weir_runtime;

#define WEIR_COMPACT_SEGMENT_BYTES (4u << 20)              /* a compacted stream's segments: sealed, hence compacted, sooner */

/* Sets every stream the pipeline declares (and its dead-letter stream)
 * to its cleanup settings: WITH (retention, retention_bytes,
 * cleanup_policy), else compact for a table grouped by its key (its
 * changelog; no time retention, as Kafka's compact policy) and delete
 * with the server's retention for the rest; 'store' is neither compacted
 * nor given a time retention unless it says (runtime_clean_log trims it). A stream the log does not
 * hold (a connector's input) is skipped. On the pipeline thread, after
 * the runner has created its outputs. */
int runtime_set_cleanup(struct weir_runtime *s, weir_err *err);

/* At most once a second (all: now), deletes the segments past their
 * stream's retention and looks for compaction due; a compaction pass
 * under way goes on at every turn, about 8 MiB at a time (all: every pass
 * due, to its end), below the last checkpoint's output ends (so a
 * restart's truncation never meets a compacted segment) and below what
 * every sink of the stream has delivered (a sink delivers every change). Nothing while a
 * checkpoint is being written. A table with cleanup_policy 'store' loses
 * the sealed segments of its changelog that no reader needs any more
 * (below the last checkpoint's end, every sink's delivered offset, every
 * change feed's position and the offsets consumer groups committed in the
 * last 7 days). A full disk makes it wait for the next turn. On the
 * pipeline thread. */
int runtime_clean_log(struct weir_runtime *s, int64_t now_ms, bool all, weir_err *err);

#endif
