/*
 * log_internal.h - the structures behind log.h, shared by the files of
 * src/log/ only.
 *
 * Invariants:
 * - A partition has at least one segment; the last one is the active one,
 *   the only one ever appended to. Segments are sorted by base offset and
 *   do not overlap (retention or a cut tail may leave gaps).
 * - seg->size and seg->next describe only committed, verified bytes: readers
 *   never look past them (except read-only logs at the tail, see reader.c).
 *
 * Threads (log.h): one writer thread appends, commits, truncates, applies
 * retention and drops; any thread may read. What readers see of a
 * partition, its published view (segs, nsegs, each segment's base, next,
 * size, max_ts and index, and durable_next), changes only under the
 * partition's view_lock, which a reader holds just long enough to copy
 * what it needs: never during a write or an fsync. The writer reads its
 * partitions' views without the lock (no one else changes them). The
 * streams of a log form a list that only grows at its tail (except a
 * drop), so any thread may walk it while another opens a stream.
 * - The uncommitted region of the active segment starts at seg->size: its
 *   first part->written bytes are already in the file (written early, see
 *   partition.c), the rest are in part->pending. part->next_offset counts
 *   its records, part->durable_next does not.
 */
#ifndef WEIR_LOG_INTERNAL_H
#define WEIR_LOG_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>

#include "base/buf.h"
#include "log/log.h"

#define WEIR_INDEX_INTERVAL 4096u          /* bytes of data per sparse index entry */
#define WEIR_BATCH_TARGET (256u << 10)     /* start a new batch past this size */

typedef struct weir_index_entry {
    uint32_t rel_offset;     /* record offset - segment base */
    uint32_t pos;            /* file position of the batch holding it */
} weir_index_entry;

typedef struct weir_segment {
    uint64_t base;           /* offset of its first record (from the file name) */
    uint64_t next;           /* offset after its last record; == base if empty */
    uint64_t size;           /* bytes of committed, verified batches */
    int64_t max_ts;          /* newest record timestamp; INT64_MIN if empty */
    int64_t created_ms;      /* wall time it was created or opened as active */
    weir_index_entry *index; /* sparse: first batch, then one per interval */
    size_t index_len, index_cap;
    bool index_on_disk;      /* the .idx file matches size (no rewrite needed) */
} weir_segment;

typedef struct weir_pending_batch {
    uint64_t pos;            /* position in the uncommitted region */
    uint64_t base_offset;
    int64_t max_ts;          /* set when the batch is finished */
} weir_pending_batch;

/* The commit marker at the end of a partition, found at open (recovery). */
typedef struct weir_commit_tail {
    uint64_t id;             /* commit id of the partition's last batch; 0: no batch, or WER1 */
    uint32_t parts;          /* that batch's commit_parts */
    uint32_t flags;          /* that batch's WEIR_COMMIT_* flags */
    uint64_t run_offset;     /* first offset of the trailing batches that carry id */
    bool run_known;          /* run_offset is right (the walk saw where that run starts) */
    bool unreadable;         /* the walk met a damaged batch: the partition's last commit is unknown */
} weir_commit_tail;

typedef struct weir_partition {
    struct weir_stream *stream;
    uint32_t id;
    char dir[PATH_MAX];
    pthread_mutex_t view_lock;  /* guards the published view (see the top) */
    bool view_lock_ready;       /* view_lock was initialised */
    weir_segment *segs;
    size_t nsegs, segs_cap;
    int fd;                  /* active segment, open for append; -1 if read-only */
    weir_buf pending;        /* encoded, uncommitted batches not yet written */
    uint64_t written;        /* uncommitted bytes already written to the file */
    bool touched;            /* the file may hold bytes past seg->size (even a failed write's) */
    bool unsynced;           /* published bytes not yet fdatasynced (a stream with deferred sync) */
    weir_batch_builder open_batch; /* the batch being filled, if has_open_batch */
    bool has_open_batch;
    weir_pending_batch *pbatches;  /* the batches of the uncommitted region */
    size_t npbatches, pbatches_cap;
    uint64_t pending_records;
    uint64_t next_offset;    /* offset the next append gets */
    uint64_t durable_next;   /* offset after the last committed record */
    bool broken;             /* an fsync or rollback failed: refuse writes */
    char broken_why[256];
    weir_commit_tail tail;   /* set by weir_partition_find_tail */
    uint64_t cleaned_end;    /* compact.c: sealed segments ending at or before this are compacted */
    bool cleaned_loaded;     /* cleaned_end was read from the partition's cleaned-<offset> marker */
    struct weir_compaction *pass; /* compact.c: the compaction pass under way, or NULL */
    uint8_t futile;          /* compact.c: passes in a row that removed nothing (the next waits longer) */
} weir_partition;

struct weir_stream {
    weir_log *log;
    _Atomic(struct weir_stream *) next; /* the log's next stream (the list of what it has opened) */
    char name[256];
    char dir[PATH_MAX];
    weir_stream_config config;
    _Atomic bool keyed;      /* config.key is not empty: stored (release) after each change of it, so a reader
                                that read a record and then sees it true knows the record was placed by it */
    weir_partition *parts;   /* config.partitions of them */
    uint32_t round_robin;    /* next partition for a record without key */
    bool sync_deferred;      /* commits publish without fdatasync; weir_log_sync makes it durable */
};

struct weir_log {
    char dir[PATH_MAX];
    weir_log_options opt;
    const weir_io *io;
    int lock_fd;             /* -1 if read-only */
    _Atomic(weir_stream *) streams; /* opened so far, in order: a list readers walk while it grows */
    weir_stream *streams_tail;
    pthread_mutex_t streams_lock; /* one opens, creates or drops a stream at a time */
    weir_buf report;         /* recovery notes, NUL-terminated */
    uint64_t pending_records;
    uint64_t pending_bytes;
    uint64_t oldest_pending_ns; /* monotonic time of the first uncommitted append */
    uint64_t next_commit_id; /* id of the commit in progress (its early batches carry it) */
    uint64_t complete_floor; /* every commit up to this id is whole or gone (DIR/commits) */
    weir_partition *compacting; /* the partition whose compaction pass is under way, or NULL */
};

/* log.c */
/* Walks every stream the log has opened (see the top: safe while another
 * thread opens one). */
#define WEIR_FOR_EACH_STREAM(log, s) \
    for (weir_stream *s = atomic_load_explicit(&(log)->streams, memory_order_acquire); s; \
         s = atomic_load_explicit(&s->next, memory_order_acquire))

/* Records durably that every commit so far is whole, before something
 * removes a partition's last batch (a drop, a truncate, retention) so that
 * recovery could no longer count that commit's parts. */
int weir_log_mark_complete(weir_log *log, weir_err *err);

/* segment.c */
/* Appends a line to the recovery report. */
int weir_log_report(weir_log *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Names collected from the data directory (streams, "group/stream"),
 * handed out sorted by weir_log_names_take; weir_names_free frees them. */
typedef struct weir_log_names {
    char **v;
    size_t n, cap;
} weir_log_names;
int weir_log_names_add(weir_log_names *l, const char *name, weir_err *err);
/* Calls fn for every entry of dir whose name passes weir_name_valid (a
 * missing dir has none), stopping at the first error fn returns. */
int weir_log_each_entry(const char *dir, int (*fn)(void *ctx, const char *dir, const char *name, weir_err *err),
                        void *ctx, weir_err *err);
/* Sorts l and hands it out (names, n), or on rc != OK frees it; returns rc. */
int weir_log_names_take(weir_log_names *l, int rc, char ***names, size_t *n);
/* Fills p->tail from the last batch of p's last non-empty segment, walking
 * from that segment's last index entry, or from its start if from_start. */
int weir_partition_find_tail(weir_partition *p, bool from_start, weir_err *err);
void weir_segment_path(const weir_partition *p, uint64_t base, const char *ext, char *out, size_t cap);
int weir_segment_index_add(weir_segment *seg, uint64_t offset, uint64_t pos);
int weir_segment_write_index(weir_partition *p, weir_segment *seg, weir_err *err);
int weir_partition_load(weir_partition *p, weir_err *err);
int weir_partition_refresh(weir_partition *p, weir_err *err);
/* Read-only logs, under the view lock: the writer rewrote segment i
 * (compaction) to file_size bytes, so load its view again. */
int weir_segment_reload(weir_partition *p, size_t i, uint64_t file_size, weir_err *err);
/* Position of the batch at or before offset in seg (binary search). */
uint64_t weir_segment_seek(const weir_segment *seg, uint64_t offset);

/* partition.c */
int weir_partition_create_segment(weir_partition *p, uint64_t base, weir_err *err);
void weir_partition_free(weir_partition *p);
int weir_partition_apply_retention(weir_partition *p, int64_t now_ms, weir_err *err);
/* weir_stream_delete_before for one partition; *freed: bytes deleted. */
int weir_partition_delete_before(weir_partition *p, uint64_t limit, uint64_t *freed, weir_err *err);
/* compact.c: ends p's compaction pass if one is under way (its work so
 * far stays: each rewritten segment is whole). */
void weir_compaction_end(weir_partition *p);
/* compact.c: a truncation to offset forgets that what lies above it was
 * compacted (its marker goes). */
int weir_partition_forget_cleaned(weir_partition *p, uint64_t offset, weir_err *err);
/* Deletes segment i's files and forgets it (the writer's call). */
int weir_partition_delete_segment(weir_partition *p, size_t i, weir_err *err);

#endif

/* cursor.c: buffered reading of consecutive batches from a segment file. */
#define WEIR_MAX_BATCH_SIZE (32u << 20)

typedef struct weir_batch_cursor {
    const weir_io *io;
    int fd;
    const char *path;        /* for messages; borrowed */
    uint64_t pos;            /* file position of buf.data[0] */
    uint64_t limit;          /* read no byte at or past this position */
    weir_buf buf;            /* bytes read ahead */
    size_t head;             /* buf.data[head] is the next batch */
} weir_batch_cursor;

void weir_cursor_init(weir_batch_cursor *c, const weir_io *io, int fd, const char *path,
                      uint64_t start, uint64_t limit);
/* File position of the next batch. */
static inline uint64_t weir_cursor_tell(const weir_batch_cursor *c) { return c->pos + c->head; }
/* 1: *batch points at a checked batch (valid until the next call); 0: clean
 * end (exactly at limit or end of file); -1: a bad or torn batch at
 * weir_cursor_tell (err says which; *truncated if the file just ended). */
int weir_cursor_next(weir_batch_cursor *c, const uint8_t **batch, weir_batch_info *info,
                     bool *truncated, weir_err *err);
void weir_cursor_free(weir_batch_cursor *c);

/* partition.c: appends and the commit phases (see the top of partition.c). */
int weir_partition_append(weir_partition *p, const weir_record *rec, uint64_t *offset, weir_err *err);
/* Phase 1 of commit log->next_commit_id, which counts commit_parts partitions. */
int weir_partition_write(weir_partition *p, uint32_t commit_parts, weir_err *err);
int weir_partition_sync(weir_partition *p, weir_err *err);
void weir_partition_publish(weir_partition *p);
void weir_partition_rollback(weir_partition *p);
int weir_partition_truncate(weir_partition *p, uint64_t offset, weir_err *err);
