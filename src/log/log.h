/*
 * log.h - weir's embedded, durable, partitioned log.
 *
 * A data directory holds named streams; a stream has N partitions; a
 * partition is an ordered sequence of records numbered by offset (0, 1, ...),
 * stored in append-only segment files of checksummed batches
 * (docs/LOG_FORMAT.md). It plays the part Kafka plays in a cluster, with the
 * same partitioner, so a pipeline can move between the two unchanged.
 *
 * Writing is two steps: weir_stream_append() encodes records into the
 * partition's write buffer and hands out provisional offsets;
 * weir_log_commit() writes every buffered batch and fsyncs (per policy).
 * Only a record whose commit returned WEIR_OK is acknowledged: it survives a
 * crash or power cut. A failed commit keeps none of the records appended
 * since the previous commit, in any partition ("nothing half-written"), and
 * neither does a commit cut short by a crash or power cut: recovery at the
 * next writable open cuts it from every partition that has part of it
 * (docs/LOG_FORMAT.md rule 8).
 * Group commit is the caller batching several appends per commit; use
 * weir_log_commit_due() to decide when.
 *
 * One process writes a data directory at a time (an flock on DIR/LOCK);
 * others may open it read-only to read and to commit consumer offsets.
 *
 * Threads: one thread at a time writes (appends, commits, syncs, truncates,
 * applies retention, drops streams: "the writer"); any number of other
 * threads may at the same time open streams, read with their own readers,
 * ask for partition stats and weir_log_bytes, and use consumer groups.
 * Readers see each commit once it is published and never wait for the
 * writer's fsync. A reader belongs to one thread. Only a drop requires that
 * no other thread holds the dropped stream.
 */
#ifndef WEIR_LOG_H
#define WEIR_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "base/io.h"
#include "base/name.h"
#include "log/record.h"

typedef struct weir_log weir_log;
typedef struct weir_stream weir_stream;
typedef struct weir_reader weir_reader;

typedef enum weir_fsync_policy {
    WEIR_FSYNC_GROUP = 0, /* fdatasync once per commit (default) */
    WEIR_FSYNC_ALWAYS,    /* weir_stream_append commits each record by itself */
    WEIR_FSYNC_NONE,      /* write at commit, never fsync: fast, loses data on power cut */
} weir_fsync_policy;

typedef struct weir_log_options {
    const weir_io *io;          /* NULL: weir_io_posix */
    bool read_only;             /* no lock, no recovery writes, no appends */
    weir_fsync_policy fsync;
    uint32_t group_commit_us;   /* weir_log_commit_due window; 0: 2000 */
    uint32_t group_commit_bytes;/* ... or this many buffered bytes; 0: 4 MiB */
} weir_log_options;

#define WEIR_STREAM_KEY_MAX 256 /* a stream's key fields, with their NUL */

typedef struct weir_stream_config {
    uint32_t partitions;        /* 1..10000; 0: 4 */
    uint64_t segment_bytes;     /* roll the active segment past this size; 0: 128 MiB */
    int64_t segment_ms;         /* ... or when it is this old; 0: 7 days */
    int64_t retention_ms;       /* delete segments whose newest record is older; 0: forever */
    int64_t retention_bytes;    /* keep at most about this many bytes per partition; 0: unlimited */
    bool compact;               /* cleanup policy compact: sealed segments keep the last record per key (compact.c) */
    int64_t delete_retention_ms;/* compact: a tombstone (empty value) outlives its segment's newest record by this; 0: 1 day */
    /* The fields every record of the stream was placed by (their names
     * joined by ','): each one is in the partition murmur2 of its key text
     * gives (or anywhere when it has none of them). Empty: placed anyhow.
     * Set at create; weir_stream_forget_key drops it, once a record goes
     * elsewhere. Per-partition state relies on it (exec/workers.c). */
    char key[WEIR_STREAM_KEY_MAX];
} weir_stream_config;

/* Opens (creating if needed) the data directory. Recovery runs here: every
 * segment whose index does not vouch for it is checked batch by batch, and a
 * torn or corrupt tail is cut (the good prefix is kept); what was cut is
 * reported by weir_log_recovery_report. */
int weir_log_open(const char *dir, const weir_log_options *opt, weir_log **out, weir_err *err);

/* Commits what is buffered, writes the active segments' indexes (so the next
 * open need not scan them) and frees the log. Returns the commit's result;
 * the log is freed either way. NULL is a no-op. */
int weir_log_close(weir_log *log, weir_err *err);

/* What recovery did at open, one line per cut ("" if nothing). Borrowed. */
const char *weir_log_recovery_report(const weir_log *log);

const char *weir_log_dir(const weir_log *log);

/* The file layer the log writes through (its options' io, or
 * weir_io_posix): a pipeline's checkpoints go through it too, so a test's
 * fault layer reaches the log and the checkpoints alike. */
const weir_io *weir_log_io(const weir_log *log);

/* Stream names follow weir_name_valid (base/name.h). Create fails with WEIR_EEXIST if the stream exists; config may be
 * NULL for defaults. The returned handle is owned by the log. */
int weir_stream_create(weir_log *log, const char *name, const weir_stream_config *config,
                       weir_stream **out, weir_err *err);
int weir_stream_open(weir_log *log, const char *name, weir_stream **out, weir_err *err);
/* Opens the stream, creating it with config if it does not exist. */
int weir_stream_open_or_create(weir_log *log, const char *name, const weir_stream_config *config, weir_stream **out,
                               weir_err *err);

/* Deletes a stream, its records and the consumer-group offsets kept for
 * it. The stream stops existing when its stream.conf is gone (removed
 * first, durably); files an interrupted drop leaves are swept by the next
 * create of the name. WEIR_ENOENT if there is no such stream. */
int weir_stream_drop(weir_log *log, const char *name, weir_err *err);

/* Names of all streams, sorted. *names is malloc'd (caller frees it with
 * weir_names_free); count in *n. */
int weir_log_list_streams(weir_log *log, char ***names, size_t *n, weir_err *err);
void weir_names_free(char **names, size_t n);

const char *weir_stream_name(const weir_stream *s);
const weir_stream_config *weir_stream_get_config(const weir_stream *s);

/* Appends a record to `partition`, or when partition < 0 to the key's
 * partition (Kafka's murmur2 partitioner) or, for a record without key, the
 * next partition round-robin. *partition_out and *offset_out (either may be
 * NULL) say where it went; the offset is final once the next commit
 * succeeds. With WEIR_FSYNC_ALWAYS this commits too. WEIR_EINVAL and
 * WEIR_ENOMEM refuse just this record; any other error (an I/O error of an
 * early write) has dropped everything appended since the last commit. */
int weir_stream_append(weir_stream *s, int32_t partition, const weir_record *rec,
                       uint32_t *partition_out, uint64_t *offset_out, weir_err *err);

/* Writes and (per policy) fsyncs everything appended since the last commit.
 * On failure nothing of it is kept, and a failed fsync leaves the partition
 * refusing writes (WEIR_EFATAL) until the log is reopened. */
int weir_log_commit(weir_log *log, weir_err *err);

/* Deferred sync, for streams whose records can be rebuilt after a crash
 * (a pipeline's outputs, rebuilt from its checkpoint): their commits
 * write and publish (readers see the records) without fdatasync, and
 * weir_log_sync makes everything published so far durable. */
void weir_stream_defer_sync(weir_stream *s, bool defer);
int weir_log_sync(weir_log *log, weir_err *err);

/* Drops everything appended since the last commit, as a failed commit
 * would: for callers that find a batch bad halfway through. */
void weir_log_abort(weir_log *log);

/* Whether a group commit is due at monotonic time now_ns: the oldest
 * uncommitted append is older than the group window, or the buffers hold
 * more than the byte threshold. */
bool weir_log_commit_due(const weir_log *log, uint64_t now_ns);
uint64_t weir_log_pending_records(const weir_log *log);

/* Cuts a partition back so that its end offset is `offset`, which must be
 * the start of a batch (an end offset some commit returned). For
 * pipelines rolling their uncommitted outputs back to a checkpoint; the
 * partition must have nothing appended and uncommitted. */
int weir_stream_truncate(weir_stream *s, uint32_t partition, uint64_t offset, weir_err *err);

/* Deletes, in every stream, whole sealed segments past their stream's
 * retention at wall time now_ms. The active segment is never deleted. */
int weir_log_apply_retention(weir_log *log, int64_t now_ms, weir_err *err);

/* Deletes a partition's sealed segments that end at or before `limit`
 * (each whole, oldest first, as retention does), whatever the stream's
 * retention says: for a caller that knows no reader needs the records
 * below `limit` (a table whose state store holds its rows:
 * runtime/retention.c). The partition's first retained offset becomes
 * the first kept segment's base (at most `limit`); a reader asking for
 * less starts there, as after retention. The active segment is never
 * deleted. *bytes_freed (may be NULL): bytes deleted. The writer's call;
 * readers may read meanwhile (one in a deleted segment reads it to its
 * end through its own descriptor). */
int weir_stream_delete_before(weir_stream *s, uint32_t partition, uint64_t limit, uint64_t *bytes_freed,
                              weir_err *err);

/* Changes a stream's cleanup settings (segment_bytes, segment_ms,
 * retention_ms, retention_bytes, compact, delete_retention_ms; a zero
 * segment_bytes or segment_ms keeps the stream's, a zero
 * delete_retention_ms takes the default) as Kafka's alter-config does; config->partitions must be 0
 * or the stream's. stream.conf is rewritten (atomically) only if something
 * changed. The writer's call. */
int weir_stream_reconfigure(weir_stream *s, const weir_stream_config *config, weir_err *err);

/* Whether the stream still has its key (config.key). Safe on any thread:
 * a reader that read records and then finds it true knows each of them
 * was placed by the key, since the key is forgotten before a record
 * placed otherwise is appended, and a stream gets a key only while empty. */
bool weir_stream_keyed(const weir_stream *s);

/* Says from now on that the stream's records are not all placed by its
 * key (config.key becomes empty): stream.conf is rewritten durably before
 * it returns, so before any record placed otherwise can be committed. A
 * no-op for a stream without a key. The writer's call. */
int weir_stream_forget_key(weir_stream *s, weir_err *err);

/* Gives an empty stream (no record in any partition, none pending) the key
 * its records will be placed by: false (and nothing changes) if it has
 * records or a key already, or fields do not fit. The writer's call. */
int weir_stream_adopt_key(weir_stream *s, const char *fields, bool *adopted, weir_err *err);

/* Compacts a stream's partition whose config says compact (else a no-op):
 * its sealed segments that end at or before `limit` keep only the last
 * record per key (records without key are kept; a tombstone, an empty
 * value, goes once delete_retention_ms has passed), offsets unchanged
 * (a compacted segment has gaps). A pass starts when the segments not yet
 * compacted hold at least as many bytes as those already compacted
 * (Kafka's min.cleanable.dirty.ratio of 0.5; after passes that removed
 * nothing, up to 16 times as many), so its cost per byte written stays
 * bounded, and goes on over as many calls as it needs,
 * each reading about `budget` bytes (0: the whole pass in this call);
 * one partition of a log has a pass under way at a time (calls for the
 * others return at once). *bytes_read and *bytes_freed (either may be
 * NULL) say what this call read and removed. The writer's call; readers
 * may read meanwhile (compact.c). */
int weir_stream_compact(weir_stream *s, uint32_t partition, uint64_t limit, int64_t now_ms, uint64_t budget,
                        uint64_t *bytes_read, uint64_t *bytes_freed, weir_err *err);

typedef struct weir_partition_stats {
    uint64_t start_offset;      /* first retained offset */
    uint64_t end_offset;        /* offset the next committed record gets */
    uint64_t bytes;             /* bytes in segment files */
    uint32_t segments;
} weir_partition_stats;

/* Bytes in the segment files of every stream opened so far (a writer has
 * opened every stream it writes), without touching the disk. */
uint64_t weir_log_bytes(const weir_log *log);

int weir_stream_partition_stats(weir_stream *s, uint32_t partition,
                                weir_partition_stats *out, weir_err *err);

/* Readers: iterate one partition from an offset. A reader sees committed
 * records only (in a read-only log: what is on disk and checks out). Starting
 * before the first retained offset starts at it (weir_reader_position
 * tells). */
int weir_reader_open(weir_stream *s, uint32_t partition, uint64_t offset,
                     weir_reader **out, weir_err *err);

/* Returns 1 and fills rec (its pointers valid until the next call), 0 when
 * there is nothing more now (call again later to follow), or -1 with err
 * filled (a corrupt batch names its file and position). */
int weir_reader_next(weir_reader *r, weir_record *rec, weir_err *err);

/* Makes the reader stop (return 0) before offset `end`: readers of a
 * pipeline's outputs stop at what its last checkpoint committed. */
void weir_reader_set_end(weir_reader *r, uint64_t end);

/* The offset the next record returned will have at least. */
uint64_t weir_reader_position(const weir_reader *r);
void weir_reader_close(weir_reader *r);

/* Consumer groups: committed read positions, per group, stream and
 * partition, stored durably (atomic file replace). A partition never
 * committed has offset 0. Allowed on read-only logs. */
int weir_group_load(weir_log *log, const char *group, const char *stream,
                    uint64_t *offsets, uint32_t partitions, weir_err *err);
int weir_group_commit(weir_log *log, const char *group, const char *stream,
                      const uint64_t *offsets, uint32_t partitions, weir_err *err);
/* Wall time (ms since the epoch) of the group's last commit of the
 * stream's offsets (the file's modification time); WEIR_ENOENT if it
 * never committed them. Allowed on read-only logs. */
int weir_group_committed_ms(weir_log *log, const char *group, const char *stream, int64_t *ms, weir_err *err);
/* Every (group, stream) with committed offsets, as "group/stream", sorted;
 * free with weir_names_free. Allowed on read-only logs. */
int weir_group_list(weir_log *log, char ***names, size_t *n, weir_err *err);

#endif
