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
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

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

static int open_segment(weir_reader *r, size_t i, weir_err *err)
{
    weir_partition *p = r->p;
    const weir_segment *seg = &p->segs[i];
    if (r->want < seg->base)
        r->want = seg->base; /* retention or a cut left a gap: skip it */
    weir_segment_path(p, seg->base, "log", r->path, sizeof r->path);
    r->fd = p->stream->log->io->open(r->path, O_RDONLY, 0);
    if (r->fd < 0)
        return weir_err_errno(err, errno, "open %s", r->path);
    weir_cursor_init(&r->cur, p->stream->log->io, r->fd, r->path, weir_segment_seek(seg, r->want), seg->size);
    r->seg_base = seg->base;
    r->open = true;
    return WEIR_OK;
}

/* Called when the cursor reached its limit: follow the segment's growth,
 * move to the next segment, or report that nothing more is there (0). */
static int advance(weir_reader *r, bool refreshed, weir_err *err)
{
    weir_partition *p = r->p;
    size_t i = locate(p, r->seg_base);
    if (p->segs[i].base != r->seg_base) { /* our segment was deleted by retention */
        close_segment(r);
        return 1;
    }
    if (p->segs[i].size > r->cur.limit) {
        r->cur.limit = p->segs[i].size;
        return 1;
    }
    if (i + 1 < p->nsegs) {
        close_segment(r);
        if (r->want < p->segs[i + 1].base)
            r->want = p->segs[i + 1].base;
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
            weir_partition *p = r->p;
            if (r->want < p->segs[0].base)
                r->want = p->segs[0].base;
            if (open_segment(r, locate(p, r->want), err))
                return -1;
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
