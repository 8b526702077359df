/*
 * reader.c - iterating one partition from an offset.
 *
 * A reader keeps its own descriptor on the segment it is in, so retention
 * may delete that segment under it (the open file stays readable) and
 * readers never share file positions. It reads batches through a cursor
 * bounded by the segment's committed size, so it never sees a record before
 * its commit returned. In a read-only log (another process writes) it
 * rescans the tail when it runs out, which is how `weir consume --follow`
 * sees new records.
 *
 * A reader may run on any thread while the log's writer commits: it copies
 * what it needs of the partition's published view under the view lock
 * (log_internal.h) when it opens a segment or reaches the end of what it
 * knew, and reads the file without any lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log/log_internal.h"

struct weir_reader {
    weir_partition *p;
    uint64_t want;            /* offset of the next record to return */
    uint64_t end;             /* return nothing at or past this offset (UINT64_MAX: no bound) */
    bool open;                /* fd, cur and seg_base describe a segment */
    uint64_t seg_base;
    int fd;
    char path[PATH_MAX];
    weir_batch_cursor cur;
    bool in_batch;
    weir_batch_iter it;
};

int weir_reader_open(weir_stream *s, uint32_t partition, uint64_t offset,
                     weir_reader **out, weir_err *err)
{
    *out = NULL;
    if (partition >= s->config.partitions)
        return weir_err_set(err, WEIR_EINVAL, "stream '%s' has no partition %u (it has %u)",
                            s->name, partition, s->config.partitions);
    weir_reader *r = calloc(1, sizeof *r);
    if (!r)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    r->p = &s->parts[partition];
    r->want = offset;
    r->end = UINT64_MAX;
    r->fd = -1;
    *out = r;
    return WEIR_OK;
}

static void close_segment(weir_reader *r)
{
    if (r->open) {
        weir_cursor_free(&r->cur);
        r->p->stream->log->io->close(r->fd);
        r->open = false;
        r->in_batch = false;
    }
}

/* Index of the segment holding `want`: the last whose base is <= it. */
static size_t locate(const weir_partition *p, uint64_t want)
{
    size_t lo = 0, hi = p->nsegs;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->segs[mid].base <= want)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* A read-only log's view of segment i when its file is not what the view
 * says: the writer compacted it (a sealed segment whose size changed:
 * reload its view) or deleted it (retention, compaction: forget it). The
 * view lock is held. 1: look again; -1: an error. */
static int catch_up(weir_partition *p, size_t i, int fd, weir_err *err)
{
    struct stat st;
    if (fd < 0) {
        free(p->segs[i].index);
        memmove(&p->segs[i], &p->segs[i + 1], (p->nsegs - i - 1) * sizeof *p->segs);
        p->nsegs--;
        return 1;
    }
    if (fstat(fd, &st) != 0)
        return weir_err_errno(err, errno, "stat %s", p->dir), -1;
    return weir_segment_reload(p, i, (uint64_t)st.st_size, err) ? -1 : 1;
}

/* Opens the segment holding r->want (or the first after it, past a gap
 * retention, compaction or a cut left). The file is opened under the view
 * lock, so that it is the file the view describes (compaction renames a
 * new one in under the lock, compact.c). 1: opened; 0: the view changed
 * (a segment went away, or in a read-only log was rewritten by the
 * writer), so look again; -1: an error. */
static int open_segment(weir_reader *r, weir_err *err)
{
    weir_partition *p = r->p;
    const weir_io *io = p->stream->log->io;
    bool read_only = p->stream->log->opt.read_only;
    pthread_mutex_lock(&p->view_lock);
    if (r->want < p->segs[0].base)
        r->want = p->segs[0].base;
    size_t i = locate(p, r->want);
    const weir_segment *seg = &p->segs[i];
    if (r->want < seg->base)
        r->want = seg->base;
    uint64_t base = seg->base, size = seg->size, start = weir_segment_seek(seg, r->want);
    weir_segment_path(p, base, "log", r->path, sizeof r->path);
    r->fd = io->open(r->path, O_RDONLY, 0);
    int e = errno, rc = 1;
    struct stat st;
    bool sealed = i + 1 < p->nsegs;
    if (read_only && sealed && ((r->fd < 0 && e == ENOENT) || (r->fd >= 0 && fstat(r->fd, &st) == 0 &&
                                                                (uint64_t)st.st_size != size))) {
        rc = catch_up(p, i, r->fd, err) < 0 ? -1 : 0;
        if (r->fd >= 0)
            io->close(r->fd);
        r->fd = -1;
    }
    pthread_mutex_unlock(&p->view_lock);
    if (rc <= 0)
        return rc;
    if (r->fd < 0 && e == ENOENT && !read_only)
        return 0;
    if (r->fd < 0)
        return weir_err_errno(err, e, "open %s", r->path), -1;
    weir_cursor_init(&r->cur, io, r->fd, r->path, start, size);
    r->seg_base = base;
    r->open = true;
    return 1;
}

/* Called when the cursor reached its limit: follow the segment's growth,
 * move to the next segment, or report that nothing more is there (0). */
static int advance(weir_reader *r, bool refreshed, weir_err *err)
{
    weir_partition *p = r->p;
    pthread_mutex_lock(&p->view_lock);
    size_t i = locate(p, r->seg_base);
    bool gone = p->segs[i].base != r->seg_base; /* our segment was deleted by retention */
    uint64_t size = p->segs[i].size;
    bool has_next = i + 1 < p->nsegs;
    uint64_t next_base = has_next ? p->segs[i + 1].base : 0;
    pthread_mutex_unlock(&p->view_lock);
    if (gone) {
        close_segment(r);
        return 1;
    }
    if (size > r->cur.limit) {
        r->cur.limit = size;
        return 1;
    }
    if (has_next) {
        close_segment(r);
        if (r->want < next_base)
            r->want = next_base;
        return 1;
    }
    if (p->stream->log->opt.read_only && !refreshed) {
        int rc = weir_partition_refresh(p, err);
        return rc ? -1 : 2;
    }
    return 0;
}

int weir_reader_next(weir_reader *r, weir_record *rec, weir_err *err)
{
    bool refreshed = false;
    for (;;) {
        if (r->want >= r->end)
            return 0;
        if (r->in_batch) {
            while (weir_batch_next(&r->it, rec))
                if (rec->offset >= r->end)
                    return 0;
                else if (rec->offset >= r->want) {
                    r->want = rec->offset + 1;
                    return 1;
                }
            r->in_batch = false;
        }
        if (!r->open) {
            int opened = open_segment(r, err);
            if (opened < 0)
                return -1;
            if (opened == 0)
                continue;
        }
        const uint8_t *batch;
        weir_batch_info info;
        bool truncated;
        int got = weir_cursor_next(&r->cur, &batch, &info, &truncated, err);
        if (got == 1) {
            weir_batch_iter_init(&r->it, batch, &info);
            r->in_batch = true;
            continue;
        }
        if (got < 0)
            return -1;
        int step = advance(r, refreshed, err);
        if (step <= 0)
            return step;
        if (step == 2)
            refreshed = true;
    }
}

void weir_reader_set_end(weir_reader *r, uint64_t end)
{
    r->end = end;
}

uint64_t weir_reader_position(const weir_reader *r)
{
    return r->want;
}

void weir_reader_close(weir_reader *r)
{
    if (r) {
        close_segment(r);
        free(r);
    }
}
