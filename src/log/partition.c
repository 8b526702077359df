/*
 * partition.c - appending to one partition, the phases of a commit, rolling
 * segments, retention and deleting what readers no longer need.
 *
 * A commit of the whole log is three phases over every partition with
 * buffered batches (log.c drives them): write (all partitions), sync (all),
 * publish (all). Only publish makes records visible to readers and moves
 * durable_next; a failure in any phase rolls every partition back to its
 * last published end, so a failed commit leaves no record of it behind.
 * Each batch is finished with its commit marker (record.h): the commit's
 * id, and for the last one a partition writes in the commit, the final
 * flag and the commit's partition count, which recovery checks (log.c).
 *
 * Early writes: once a partition buffers EARLY_WRITE bytes of finished
 * batches it writes them to the file before the commit and asks the kernel
 * to start writing them out (sync_file_range), so the disk works while the
 * next records are encoded and the commit's fdatasync has less left to do.
 * Those bytes lie past seg->size, where readers never look and where a
 * rollback (or recovery, after a crash) cuts them off.
 */
#define EARLY_WRITE (1u << 20)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "log/log_internal.h"

static int refuse_if_broken(weir_partition *p, weir_err *err)
{
    if (!p->broken)
        return WEIR_OK;
    return weir_err_set(err, WEIR_EFATAL, "stream %s partition %u refuses writes after an earlier failure (%s); reopen the log to recover",
                        p->stream->name, p->id, p->broken_why);
}

static void mark_broken(weir_partition *p, const weir_err *why)
{
    p->broken = true;
    snprintf(p->broken_why, sizeof p->broken_why, "%s", why->msg);
}

/* Finishes the open batch with its commit marker: the commit it will be
 * written by is always the log's next one, since commits run one at a time
 * on the log's thread. */
static void finish_open_batch(weir_partition *p, uint32_t commit_parts, uint32_t final)
{
    if (p->has_open_batch) {
        uint32_t flags = final | (p->stream->sync_deferred ? WEIR_COMMIT_UNCOUNTED : 0);
        weir_batch_finish(&p->open_batch, &p->pending, p->stream->log->next_commit_id, commit_parts, flags);
        p->pbatches[p->npbatches - 1].max_ts = p->open_batch.max_ts;
        p->has_open_batch = false;
    }
}

static void active_path(const weir_partition *p, char *path, size_t cap)
{
    weir_segment_path(p, p->segs[p->nsegs - 1].base, "log", path, cap);
}

static int roll(weir_partition *p, weir_err *err);
static bool should_roll(const weir_partition *p);

/* Writes the finished batches in the buffer to the file (rolling first if
 * this is the group's first write and the segment is full). */
static int write_buffered(weir_partition *p, weir_err *err)
{
    int rc;
    if (p->written == 0 && should_roll(p) && (rc = roll(p, err)))
        return rc;
    char path[PATH_MAX];
    active_path(p, path, sizeof path);
    p->touched = true;
    rc = weir_io_write_all(p->stream->log->io, p->fd, p->pending.data, p->pending.len, path, err);
    if (rc)
        return rc;
    p->written += p->pending.len;
    p->pending.len = 0;
    return WEIR_OK;
}

static int write_early(weir_partition *p, weir_err *err)
{
    uint64_t at = p->segs[p->nsegs - 1].size + p->written;
    size_t len = p->pending.len;
    int rc = write_buffered(p, err);
    if (rc == WEIR_OK && p->stream->log->opt.fsync != WEIR_FSYNC_NONE)
        (void)sync_file_range(p->fd, (off_t)at, (off_t)len, SYNC_FILE_RANGE_WRITE); /* a hint: fdatasync reports errors */
    return rc;
}

int weir_partition_append(weir_partition *p, const weir_record *rec, uint64_t *offset, weir_err *err)
{
    int rc = refuse_if_broken(p, err);
    if (rc)
        return rc;
    size_t body = weir_record_encoded_size(rec) - WEIR_RECORD_OVERHEAD;
    if (body > WEIR_MAX_RECORD_SIZE)
        return weir_err_set(err, WEIR_EINVAL, "record of %zu bytes exceeds the %u-byte limit",
                            body, WEIR_MAX_RECORD_SIZE);
    if (p->has_open_batch && p->pending.len - p->open_batch.start >= WEIR_BATCH_TARGET) {
        /* Not final: this record opens the next batch, which the commit finishes. */
        finish_open_batch(p, 0, 0);
        if (p->pending.len >= EARLY_WRITE && (rc = write_early(p, err)))
            return rc;
    }
    if (!p->has_open_batch) {
        if (p->npbatches == p->pbatches_cap) {
            weir_pending_batch *b = weir_array_grow(p->pbatches, &p->pbatches_cap, sizeof *b, 16);
            if (!b)
                return weir_err_set(err, WEIR_ENOMEM, "append: out of memory");
            p->pbatches = b;
        }
        if (weir_batch_begin(&p->open_batch, &p->pending, p->next_offset))
            return weir_err_set(err, WEIR_ENOMEM, "append: out of memory");
        p->pbatches[p->npbatches++] = (weir_pending_batch){p->written + p->open_batch.start, p->next_offset, INT64_MIN};
        p->has_open_batch = true;
    }
    if (weir_batch_add(&p->open_batch, &p->pending, rec))
        return weir_err_set(err, WEIR_ENOMEM, "append: out of memory");
    if (offset)
        *offset = p->next_offset;
    p->next_offset++;
    p->pending_records++;
    return WEIR_OK;
}

/* Seals the active segment (its index goes to disk) and starts a new one
 * at the next durable offset. */
static int roll(weir_partition *p, weir_err *err)
{
    weir_segment *active = &p->segs[p->nsegs - 1];
    int rc = p->unsynced ? weir_partition_sync(p, err) : WEIR_OK; /* its fd closes: sync what waits */
    if (rc == WEIR_OK) {
        p->unsynced = false;
        rc = weir_segment_write_index(p, active, err);
    }
    if (rc == WEIR_OK)
        rc = weir_partition_create_segment(p, p->durable_next, err);
    return rc;
}

static bool should_roll(const weir_partition *p)
{
    const weir_segment *active = &p->segs[p->nsegs - 1];
    const weir_stream_config *c = &p->stream->config;
    if (active->size == 0)
        return false;
    return active->size + p->pending.len > c->segment_bytes ||
           weir_wall_ms() - active->created_ms >= c->segment_ms;
}

int weir_partition_write(weir_partition *p, uint32_t commit_parts, weir_err *err)
{
    int rc = refuse_if_broken(p, err);
    if (rc)
        return rc;
    /* A partition with uncommitted records always has an open batch (an
     * append finishes one only to open the next), so every partition of a
     * commit gets its final batch here. */
    finish_open_batch(p, commit_parts, WEIR_COMMIT_FINAL);
    return write_buffered(p, err);
}

int weir_partition_sync(weir_partition *p, weir_err *err)
{
    if (p->stream->log->opt.fsync == WEIR_FSYNC_NONE)
        return WEIR_OK;
    if (p->stream->log->io->fdatasync(p->fd) == 0)
        return WEIR_OK;
    char path[PATH_MAX];
    active_path(p, path, sizeof path);
    weir_err_errno(err, errno, "fsync %s", path);
    /* After a failed fsync the kernel may have dropped the dirty pages: what
     * is on disk is unknown, so stop writing until recovery rescans. */
    mark_broken(p, err);
    return err->code;
}

static void clear_pending(weir_partition *p)
{
    p->pending.len = 0;
    p->written = 0;
    p->touched = false;
    p->npbatches = 0;
    p->pending_records = 0;
    p->has_open_batch = false;
}

void weir_partition_publish(weir_partition *p)
{
    pthread_mutex_lock(&p->view_lock);
    weir_segment *active = &p->segs[p->nsegs - 1];
    for (size_t i = 0; i < p->npbatches; i++) {
        /* An index entry that cannot be stored only makes seeks start earlier. */
        (void)weir_segment_index_add(active, p->pbatches[i].base_offset, active->size + p->pbatches[i].pos);
        if (p->pbatches[i].max_ts > active->max_ts)
            active->max_ts = p->pbatches[i].max_ts;
    }
    active->size += p->written;
    active->next = p->next_offset;
    active->index_on_disk = false;
    p->durable_next = p->next_offset;
    pthread_mutex_unlock(&p->view_lock);
    clear_pending(p);
}

void weir_partition_rollback(weir_partition *p)
{
    weir_segment *active = &p->segs[p->nsegs - 1];
    const weir_io *io = p->stream->log->io;
    /* A partition whose fsync just failed is cut back too (it writes no
     * more until reopened either way): left in the file, its batch of the
     * failed commit would stop being the newest once the other partitions
     * commit again, and recovery (rule 8) would keep it, half a commit. */
    if (p->touched) {
        weir_err why;
        char path[PATH_MAX];
        active_path(p, path, sizeof path);
        if (io->ftruncate(p->fd, (off_t)active->size) != 0) {
            if (!p->broken)
                mark_broken(p, (weir_err_errno(&why, errno, "truncate %s after a failed commit", path), &why));
        } else if (!p->broken && io->fdatasync(p->fd) != 0) {
            mark_broken(p, (weir_err_errno(&why, errno, "fsync %s after a failed commit", path), &why));
        }
    }
    p->next_offset = p->durable_next;
    clear_pending(p);
}

int weir_partition_delete_segment(weir_partition *p, size_t i, weir_err *err)
{
    const weir_io *io = p->stream->log->io;
    weir_segment *seg = &p->segs[i];
    char path[PATH_MAX];
    weir_segment_path(p, seg->base, "log", path, sizeof path);
    if (io->unlink(path) != 0)
        return weir_err_errno(err, errno, "delete %s", path);
    weir_segment_path(p, seg->base, "idx", path, sizeof path);
    if (io->unlink(path) != 0 && errno != ENOENT)
        return weir_err_errno(err, errno, "delete %s", path);
    pthread_mutex_lock(&p->view_lock);
    free(seg->index);
    memmove(&p->segs[i], &p->segs[i + 1], (p->nsegs - i - 1) * sizeof *seg);
    p->nsegs--;
    pthread_mutex_unlock(&p->view_lock);
    return WEIR_OK;
}

/* Deletes p's oldest segment (never the active one): first recording
 * that every commit is whole if it holds the partition's last batch
 * (every later segment empty), as rule 8 of docs/LOG_FORMAT.md says. */
static int delete_oldest(weir_partition *p, weir_err *err)
{
    bool holds_tail = true;
    for (size_t k = 1; k < p->nsegs; k++)
        holds_tail = holds_tail && p->segs[k].size == 0;
    int rc = holds_tail ? weir_log_mark_complete(p->stream->log, err) : WEIR_OK;
    return rc ? rc : weir_partition_delete_segment(p, 0, err);
}

int weir_partition_apply_retention(weir_partition *p, int64_t now_ms, weir_err *err)
{
    const weir_stream_config *c = &p->stream->config;
    uint64_t total = 0;
    for (size_t i = 0; i < p->nsegs; i++)
        total += p->segs[i].size;
    bool deleted = false;
    while (p->nsegs > 1) {
        const weir_segment *old = &p->segs[0];
        bool too_old = c->retention_ms > 0 && old->max_ts < now_ms - c->retention_ms;
        /* As Kafka: drop the oldest while the rest still holds retention_bytes. */
        bool too_big = c->retention_bytes > 0 && total - old->size >= (uint64_t)c->retention_bytes;
        if (!too_old && !too_big)
            break;
        total -= old->size;
        int rc = delete_oldest(p, err);
        if (rc)
            return rc;
        deleted = true;
    }
    return deleted ? weir_io_sync_dir(p->stream->log->io, p->dir, err) : WEIR_OK;
}

int weir_partition_delete_before(weir_partition *p, uint64_t limit, uint64_t *freed, weir_err *err)
{
    *freed = 0;
    bool deleted = false;
    while (p->nsegs > 1 && p->segs[0].next <= limit) {
        uint64_t size = p->segs[0].size;
        int rc = delete_oldest(p, err);
        if (rc)
            return rc;
        *freed += size;
        deleted = true;
    }
    return deleted ? weir_io_sync_dir(p->stream->log->io, p->dir, err) : WEIR_OK;
}

int weir_partition_truncate(weir_partition *p, uint64_t offset, weir_err *err)
{
    int frc = weir_partition_forget_cleaned(p, offset, err);
    if (frc)
        return frc;
    if (offset >= p->durable_next)
        return offset == p->durable_next ? WEIR_OK
                                         : weir_err_set(err, WEIR_EINVAL, "cannot truncate partition %u to %llu: it ends at %llu",
                                                        p->id, (unsigned long long)offset, (unsigned long long)p->durable_next);
    const weir_io *io = p->stream->log->io;
    int rc = WEIR_OK;
    while (p->nsegs > 1 && p->segs[p->nsegs - 1].base > offset && rc == WEIR_OK)
        rc = weir_partition_delete_segment(p, p->nsegs - 1, err);
    if (rc)
        return rc;
    /* Find the batch that starts at offset in what is now the last segment. */
    weir_segment *seg = &p->segs[p->nsegs - 1];
    char path[PATH_MAX];
    weir_segment_path(p, seg->base, "log", path, sizeof path);
    int fd = io->open(path, O_RDWR, 0);
    if (fd < 0)
        return weir_err_errno(err, errno, "open %s", path);
    weir_batch_cursor c;
    weir_cursor_init(&c, io, fd, path, weir_segment_seek(seg, offset), seg->size);
    const uint8_t *batch;
    weir_batch_info info;
    bool truncated;
    uint64_t cut = UINT64_MAX;
    if (offset <= seg->base) {
        cut = 0;
    } else {
        for (;;) {
            uint64_t at = weir_cursor_tell(&c);
            int got = weir_cursor_next(&c, &batch, &info, &truncated, err);
            if (got <= 0) {
                rc = got < 0 ? err->code : weir_err_set(err, WEIR_EINVAL, "%s: no batch starts at offset %llu", path,
                                                         (unsigned long long)offset);
                break;
            }
            if (info.base_offset == offset) {
                cut = at;
                break;
            }
            if (info.base_offset > offset) {
                rc = weir_err_set(err, WEIR_EINVAL, "%s: offset %llu is inside a batch", path, (unsigned long long)offset);
                break;
            }
        }
    }
    weir_cursor_free(&c);
    if (rc == WEIR_OK && (io->ftruncate(fd, (off_t)cut) != 0 || io->fdatasync(fd) != 0))
        rc = weir_err_errno(err, errno, "truncate %s", path);
    io->close(fd);
    if (rc)
        return rc;
    pthread_mutex_lock(&p->view_lock);
    seg->size = cut;
    seg->next = offset < seg->base ? seg->base : offset;
    while (seg->index_len && seg->index[seg->index_len - 1].pos >= cut)
        seg->index_len--;
    p->durable_next = seg->next;
    pthread_mutex_unlock(&p->view_lock);
    seg->index_on_disk = false;
    weir_segment_path(p, seg->base, "idx", path, sizeof path);
    if (io->unlink(path) != 0 && errno != ENOENT)
        return weir_err_errno(err, errno, "delete %s", path);
    if ((rc = weir_io_sync_dir(io, p->dir, err)))
        return rc;
    if (p->fd >= 0)
        io->close(p->fd);
    weir_segment_path(p, seg->base, "log", path, sizeof path);
    if ((p->fd = io->open(path, O_WRONLY | O_APPEND, 0)) < 0)
        return weir_err_errno(err, errno, "open %s", path);
    p->next_offset = seg->next;
    return WEIR_OK;
}

void weir_partition_free(weir_partition *p)
{
    weir_compaction_end(p);
    if (p->fd >= 0)
        p->stream->log->io->close(p->fd);
    for (size_t i = 0; i < p->nsegs; i++)
        free(p->segs[i].index);
    free(p->segs);
    free(p->pbatches);
    weir_buf_free(&p->pending);
    if (p->view_lock_ready)
        pthread_mutex_destroy(&p->view_lock);
}
