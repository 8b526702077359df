/*
 * compact.c - log compaction: Kafka's cleanup.policy = compact for the
 * streams whose config says compact (a table's changelog, keyed by the
 * table's primary key, is one).
 *
 * A pass works on a partition's sealed segments below a limit the caller
 * gives (a pipeline's last checkpointed end, so a restart's truncation
 * never lands in a rewritten segment). Those compacted earlier in this
 * process form a prefix (the clean part, up to p->cleaned_end); the rest
 * is dirty. As Kafka's cleaner does, a pass builds a map from the dirty
 * segments (a 128-bit hash of each key to the offset of its last record),
 * then rewrites every segment up to the last dirty one it mapped, keeping
 * a record only if it has no key, if its key is not in the map (a clean
 * record no dirty one supersedes), or if it is the mapped record itself;
 * a kept tombstone (an empty value) goes too once its segment's newest
 * record is older than delete_retention_ms. A pass runs only when the
 * dirty bytes reach the clean bytes (min.cleanable.dirty.ratio 0.5), so
 * the bytes it reads stay proportional to the bytes written since; after
 * each pass that removed nothing (a changelog whose keys are written once)
 * the next waits for twice as much again, up to 16 times the clean bytes,
 * and a pass that removes something brings the ratio back. It
 * goes in steps of a few megabytes, one segment at a time, so that the
 * writer's thread that runs it (the pipeline's) never stops for long;
 * between steps the map stays in memory (one pass per log at a time).
 *
 * Where the clean part ends survives restarts as an empty file named
 * cleaned-<20-digit offset> in the partition's directory (the highest
 * one counts; none: nothing is clean), written after a pass's last
 * rewrite, so that a restart does not read every segment again. A
 * truncation below it (serve --reset) removes it.
 *
 * The format does not change: offsets are kept, so a rewritten segment
 * has gaps between its batches (a run of kept records that were
 * consecutive in one original batch makes one new batch, with that
 * batch's commit id; only the run that ends where the original batch
 * ended keeps its final flag and commit count). Readers and recovery
 * accept gaps (docs/LOG_FORMAT.md rule 9).
 *
 * Crash safety, one segment at a time: the new file is written to
 * <base>.compact.tmp and fdatasynced; the old index is deleted and the
 * directory synced (an index must never vouch for the other file); the
 * new file is renamed over <base>.log and the directory synced; then the
 * new index is written (rule 3). A kill at any point leaves the old
 * segment or the new one, each of which scans clean; a leftover .tmp is
 * deleted at open. A segment left with no record is deleted (the first
 * one of the partition is kept, empty, so that the partition's start
 * stays where truncation to 0 expects it).
 *
 * Readers: the rename and the new view (size, index) change together
 * under the partition's view lock, and readers open segment files under
 * it, so a reader never reads the new file with the old file's
 * positions; a reader already in the old file keeps its descriptor and
 * reads the old records. Readers of other processes (read-only logs) find
 * the file's size changed and reload its view (reader.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "log/log_internal.h"

#define MAP_RECORDS (1u << 19)   /* dirty records one pass maps, at most (beyond one segment) */
#define FLUSH_BYTES (1u << 20)   /* the rewrite writes its buffer past this */
#define MAX_FUTILE 4             /* after passes that removed nothing, wait for 2^4 times the clean bytes */

typedef struct slot {
    uint64_t lo, hi;         /* the key's XXH3 128-bit hash */
    uint64_t offset;         /* its last record's offset; UINT64_MAX: empty slot */
} slot;

typedef struct key_map {
    slot *v;
    size_t cap;              /* a power of two, at least twice the entries */
} key_map;

static XXH128_hash_t key_hash(const weir_record *rec)
{
    return XXH3_128bits(rec->key, rec->key_len);
}

static slot *map_find(const key_map *m, XXH128_hash_t h)
{
    size_t i = (size_t)h.low64 & (m->cap - 1);
    while (m->v[i].offset != UINT64_MAX && (m->v[i].lo != h.low64 || m->v[i].hi != h.high64))
        i = (i + 1) & (m->cap - 1);
    return &m->v[i];
}

static int map_init(key_map *m, uint64_t records, weir_err *err)
{
    m->cap = 1024;
    while (m->cap < 2 * records)
        m->cap *= 2;
    m->v = malloc(m->cap * sizeof *m->v);
    if (!m->v)
        return weir_err_set(err, WEIR_ENOMEM, "compaction: out of memory for a map of %zu keys", m->cap / 2);
    for (size_t i = 0; i < m->cap; i++)
        m->v[i].offset = UINT64_MAX;
    return WEIR_OK;
}

/* Calls fn for every record of segment seg (its committed bytes). */
static int each_record(weir_partition *p, const weir_segment *seg,
                       int (*fn)(void *ctx, const weir_batch_info *b, const weir_record *rec, bool last, weir_err *err),
                       void *ctx, weir_err *err)
{
    const weir_io *io = p->stream->log->io;
    char path[PATH_MAX];
    weir_segment_path(p, seg->base, "log", path, sizeof path);
    int fd = io->open(path, O_RDONLY, 0);
    if (fd < 0)
        return weir_err_errno(err, errno, "open %s", path);
    weir_batch_cursor c;
    weir_cursor_init(&c, io, fd, path, 0, seg->size);
    const uint8_t *batch;
    weir_batch_info info;
    bool truncated;
    int got, rc = WEIR_OK;
    while (rc == WEIR_OK && (got = weir_cursor_next(&c, &batch, &info, &truncated, err)) == 1) {
        weir_batch_iter it;
        weir_record rec;
        weir_batch_iter_init(&it, batch, &info);
        for (uint32_t n = 1; rc == WEIR_OK && weir_batch_next(&it, &rec); n++)
            rc = fn(ctx, &info, &rec, n == info.count, err);
    }
    if (rc == WEIR_OK && got < 0)
        rc = err->code;
    weir_cursor_free(&c);
    io->close(fd);
    return rc;
}

static int map_record(void *ctx, const weir_batch_info *b, const weir_record *rec, bool last, weir_err *err)
{
    (void)b, (void)last, (void)err;
    if (rec->key) {
        XXH128_hash_t h = key_hash(rec);
        *map_find(ctx, h) = (slot){h.low64, h.high64, rec->offset};
    }
    return WEIR_OK;
}

/* One segment's rewrite: what to keep, and the new file being built. */
typedef struct rewrite {
    weir_partition *p;
    const key_map *map;
    bool drop_tombstones;    /* the segment is past delete_retention_ms */
    uint64_t dropped;        /* records dropped (counting pass) */
    bool writing;            /* second pass: build the new file */
    int fd;
    const char *path;
    weir_buf out;            /* batches not yet written */
    uint64_t written;        /* bytes of the new file written so far */
    weir_segment seg;        /* the new view: size and index */
    weir_batch_builder b;
    bool open;               /* b holds a batch */
} rewrite;

static bool keep(const rewrite *w, const weir_record *rec)
{
    if (!rec->key)
        return true;
    if (rec->value_len == 0 && w->drop_tombstones)
        return false;
    const slot *s = map_find(w->map, key_hash(rec));
    return s->offset == UINT64_MAX || s->offset == rec->offset;
}

static int flush(rewrite *w, weir_err *err)
{
    int rc = weir_io_write_all(w->p->stream->log->io, w->fd, w->out.data, w->out.len, w->path, err);
    w->written += w->out.len;
    w->out.len = 0;
    return rc;
}

/* Finishes the open batch with the commit marker of the batch its records
 * came from: final (with the count) only if it ends where that batch did. */
static int finish(rewrite *w, const weir_batch_info *src, bool ends_src, weir_err *err)
{
    if (!w->open)
        return WEIR_OK;
    w->open = false;
    uint64_t pos = w->written + w->b.start;
    weir_batch_finish(&w->b, &w->out, src->commit_id, ends_src ? src->commit_parts : 0,
                      ends_src ? src->commit_flags : src->commit_flags & ~WEIR_COMMIT_FINAL);
    if (weir_segment_index_add(&w->seg, w->b.base_offset, pos))
        return weir_err_set(err, WEIR_ENOMEM, "compaction: out of memory");
    return w->out.len >= FLUSH_BYTES ? flush(w, err) : WEIR_OK;
}

static int rewrite_record(void *ctx, const weir_batch_info *b, const weir_record *rec, bool last, weir_err *err)
{
    rewrite *w = ctx;
    bool kept = keep(w, rec);
    if (!w->writing) {
        w->dropped += !kept;
        return WEIR_OK;
    }
    int rc = WEIR_OK;
    if (kept && w->open && rec->offset != w->b.base_offset + w->b.count)
        rc = finish(w, b, false, err); /* a gap: the next kept record opens a batch */
    if (rc == WEIR_OK && kept && !w->open) {
        if (weir_batch_begin(&w->b, &w->out, rec->offset))
            return weir_err_set(err, WEIR_ENOMEM, "compaction: out of memory");
        w->open = true;
    }
    if (rc == WEIR_OK && kept && weir_batch_add(&w->b, &w->out, rec))
        return weir_err_set(err, WEIR_ENOMEM, "compaction: out of memory");
    if (rc == WEIR_OK && last)
        rc = finish(w, b, kept, err);
    return rc;
}

/* Whether segment i holds the partition's last batch (every later one is
 * empty): replacing it needs DIR/commits to vouch for the last commit. */
static bool holds_tail(const weir_partition *p, size_t i)
{
    for (size_t k = i + 1; k < p->nsegs; k++)
        if (p->segs[k].size)
            return false;
    return true;
}

/* Puts the new file in place of segment i (see the top for the order). */
static int swap_in(rewrite *w, size_t i, weir_err *err)
{
    weir_partition *p = w->p;
    const weir_io *io = p->stream->log->io;
    char log_path[PATH_MAX], idx_path[PATH_MAX];
    weir_segment_path(p, p->segs[i].base, "log", log_path, sizeof log_path);
    weir_segment_path(p, p->segs[i].base, "idx", idx_path, sizeof idx_path);
    int rc = holds_tail(p, i) ? weir_log_mark_complete(p->stream->log, err) : WEIR_OK;
    if (rc == WEIR_OK && io->unlink(idx_path) != 0 && errno != ENOENT)
        rc = weir_err_errno(err, errno, "delete %s", idx_path);
    if (rc == WEIR_OK)
        rc = weir_io_sync_dir(io, p->dir, err);
    if (rc)
        return rc;
    weir_segment *seg = &p->segs[i];
    pthread_mutex_lock(&p->view_lock);
    if (io->rename(w->path, log_path) != 0) {
        rc = weir_err_errno(err, errno, "rename %s to %s", w->path, log_path);
    } else {
        free(seg->index);
        seg->index = w->seg.index;
        seg->index_len = w->seg.index_len;
        seg->index_cap = w->seg.index_cap;
        seg->size = w->written;
        w->seg.index = NULL;
    }
    seg->index_on_disk = false;
    pthread_mutex_unlock(&p->view_lock);
    if (rc == WEIR_OK)
        rc = weir_io_sync_dir(io, p->dir, err);
    return rc ? rc : weir_segment_write_index(p, seg, err);
}

/* Rewrites segment *i without the records the map supersedes; a segment
 * left empty is deleted (then *i stays, naming the next one). */
static int rewrite_segment(weir_partition *p, size_t *i, const key_map *map, int64_t now_ms, uint64_t *freed,
                           weir_err *err)
{
    weir_segment *seg = &p->segs[*i];
    const weir_stream_config *c = &p->stream->config;
    rewrite w = {.p = p, .map = map, .fd = -1,
                 .drop_tombstones = seg->max_ts < now_ms - c->delete_retention_ms};
    int rc = each_record(p, seg, rewrite_record, &w, err);
    if (rc || w.dropped == 0) {
        (*i)++;
        return rc;
    }
    uint64_t old_size = seg->size;
    char tmp[PATH_MAX];
    weir_segment_path(p, seg->base, "compact.tmp", tmp, sizeof tmp);
    const weir_io *io = p->stream->log->io;
    w.path = tmp;
    w.writing = true;
    w.seg.base = seg->base;
    w.fd = io->open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (w.fd < 0)
        return weir_err_errno(err, errno, "create %s", tmp);
    rc = each_record(p, seg, rewrite_record, &w, err);
    if (rc == WEIR_OK)
        rc = flush(&w, err);
    if (rc == WEIR_OK && io->fdatasync(w.fd) != 0)
        rc = weir_err_errno(err, errno, "fsync %s", tmp);
    io->close(w.fd);
    weir_buf_free(&w.out);
    if (rc == WEIR_OK && w.written == 0 && *i > 0) {
        io->unlink(tmp);
        rc = holds_tail(p, *i) ? weir_log_mark_complete(p->stream->log, err) : WEIR_OK;
        if (rc == WEIR_OK)
            rc = weir_partition_delete_segment(p, *i, err);
        if (rc == WEIR_OK)
            rc = weir_io_sync_dir(io, p->dir, err);
    } else {
        rc = rc ? rc : swap_in(&w, *i, err);
        (*i)++;
    }
    free(w.seg.index);
    if (rc)
        io->unlink(tmp); /* gone already if renamed */
    else
        *freed += old_size - w.written;
    return rc;
}

#define CLEANED_PREFIX "cleaned-"

/* The cleaned-<offset> markers in p's directory: every one above `above`
 * is deleted (*removed says if any was), the highest of the rest goes to
 * *max (0: none). */
static int scan_cleaned(weir_partition *p, uint64_t *max, uint64_t above, bool *removed, weir_err *err)
{
    *max = 0;
    DIR *d = opendir(p->dir);
    if (!d)
        return weir_err_errno(err, errno, "open directory %s", p->dir);
    struct dirent *e;
    int rc = WEIR_OK;
    size_t n = strlen(CLEANED_PREFIX);
    while (rc == WEIR_OK && (e = readdir(d))) {
        char *end;
        if (strncmp(e->d_name, CLEANED_PREFIX, n))
            continue;
        uint64_t v = strtoull(e->d_name + n, &end, 10);
        if (end != e->d_name + n + 20 || *end)
            continue;
        if (v > above) {
            *removed = true;
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", p->dir, e->d_name);
            if (p->stream->log->io->unlink(path) != 0 && errno != ENOENT)
                rc = weir_err_errno(err, errno, "delete %s", path);
        } else if (v > *max) {
            *max = v;
        }
    }
    closedir(d);
    return rc;
}

/* Records durably that the partition is clean up to end (the old marker
 * goes after the new one is in: if both stay, the higher counts). */
static int save_cleaned(weir_partition *p, uint64_t old, uint64_t end, weir_err *err)
{
    const weir_io *io = p->stream->log->io;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/" CLEANED_PREFIX "%020" PRIu64, p->dir, end);
    int fd = io->open(path, O_WRONLY | O_CREAT, 0644);
    if (fd < 0)
        return weir_err_errno(err, errno, "create %s", path);
    io->close(fd);
    int rc = weir_io_sync_dir(io, p->dir, err);
    snprintf(path, sizeof path, "%s/" CLEANED_PREFIX "%020" PRIu64, p->dir, old);
    if (rc == WEIR_OK && old && old != end && io->unlink(path) != 0 && errno != ENOENT)
        rc = weir_err_errno(err, errno, "delete %s", path);
    return rc;
}

int weir_partition_forget_cleaned(weir_partition *p, uint64_t offset, weir_err *err)
{
    weir_compaction_end(p); /* a pass under way may cover what goes */
    if (p->cleaned_loaded && p->cleaned_end <= offset)
        return WEIR_OK;
    uint64_t max;
    bool removed = false;
    int rc = scan_cleaned(p, &max, offset, &removed, err);
    if (rc == WEIR_OK) {
        p->cleaned_end = max;
        p->cleaned_loaded = true;
    }
    return rc == WEIR_OK && removed ? weir_io_sync_dir(p->stream->log->io, p->dir, err) : rc;
}

/* A pass under way (a partition's p->pass; one per log at a time, so
 * that one map is in memory at most). It maps the dirty segments from
 * map_from up to end, then rewrites every segment from rewrite_from up to
 * end; segments are found by offset at each step, so that rolls and
 * retention between steps do not matter. */
typedef struct weir_compaction {
    key_map map;
    uint64_t end;            /* the pass covers the segments ending at or before this */
    uint64_t map_from;       /* the next dirty segment to map starts at or after this */
    uint64_t rewrite_from;   /* the next segment to rewrite starts at or after this; UINT64_MAX: still mapping */
    int64_t now_ms;          /* the pass's time, for tombstones */
    uint64_t freed;          /* bytes the pass removed so far */
} weir_compaction;

void weir_compaction_end(weir_partition *p)
{
    if (p->pass) {
        free(p->pass->map.v);
        free(p->pass);
        p->pass = NULL;
        if (p->stream->log->compacting == p)
            p->stream->log->compacting = NULL;
    }
}

/* Index of the first sealed segment starting at or after `from` and ending
 * at or before `end`, or p->nsegs if none. */
static size_t next_segment(const weir_partition *p, uint64_t from, uint64_t end)
{
    size_t i = 0;
    while (i + 1 < p->nsegs && p->segs[i].base < from)
        i++;
    return i + 1 < p->nsegs && p->segs[i].base >= from && p->segs[i].next <= end ? i : p->nsegs;
}

/* Starts a pass if one is due (see log.h); false if none is. */
static int start_pass(weir_partition *p, uint64_t limit, int64_t now_ms, bool *started, weir_err *err)
{
    *started = false;
    size_t n = 0; /* sealed segments below the limit */
    while (n + 1 < p->nsegs && p->segs[n].next <= limit)
        n++;
    uint64_t clean = 0, dirty = 0;
    size_t d0 = n;
    for (size_t i = 0; i < n; i++) {
        if (p->segs[i].next <= p->cleaned_end)
            clean += p->segs[i].size;
        else
            dirty += p->segs[i].size, d0 = d0 < i ? d0 : i;
    }
    if (dirty == 0 || dirty < clean << p->futile)
        return WEIR_OK;
    size_t d1 = d0;
    uint64_t records = 0;
    while (d1 < n && (d1 == d0 || records + (p->segs[d1].next - p->segs[d1].base) <= MAP_RECORDS))
        records += p->segs[d1].next - p->segs[d1].base, d1++;
    weir_compaction *c = calloc(1, sizeof *c);
    if (!c)
        return weir_err_set(err, WEIR_ENOMEM, "compaction: out of memory");
    int rc = map_init(&c->map, records, err);
    if (rc) {
        free(c);
        return rc;
    }
    c->end = p->segs[d1 - 1].next;
    c->map_from = p->segs[d0].base;
    c->rewrite_from = UINT64_MAX;
    c->now_ms = now_ms;
    p->pass = c;
    p->stream->log->compacting = p;
    *started = true;
    return WEIR_OK;
}

/* Goes on with p's pass until about budget bytes are read (0: to its
 * end). *done when the pass is over. */
static int pass_step(weir_partition *p, uint64_t budget, uint64_t *read, uint64_t *freed, bool *done, weir_err *err)
{
    weir_compaction *c = p->pass;
    int rc = WEIR_OK;
    *done = false;
    while (rc == WEIR_OK && (budget == 0 || *read < budget)) {
        size_t i = next_segment(p, c->rewrite_from == UINT64_MAX ? c->map_from : c->rewrite_from, c->end);
        if (i == p->nsegs && c->rewrite_from == UINT64_MAX) {
            c->rewrite_from = 0; /* every dirty segment is mapped: rewrite from the first */
            continue;
        }
        if (i == p->nsegs) {
            *done = true;
            break;
        }
        uint64_t next = p->segs[i].next;
        *read += p->segs[i].size;
        if (c->rewrite_from == UINT64_MAX) {
            rc = each_record(p, &p->segs[i], map_record, &c->map, err);
            c->map_from = next;
        } else {
            rc = rewrite_segment(p, &i, &c->map, c->now_ms, freed, err);
            c->rewrite_from = next;
        }
    }
    return rc;
}

int weir_stream_compact(weir_stream *s, uint32_t partition, uint64_t limit, int64_t now_ms, uint64_t budget,
                        uint64_t *bytes_read, uint64_t *bytes_freed, weir_err *err)
{
    uint64_t freed = 0, read = 0;
    if (bytes_freed)
        *bytes_freed = 0;
    if (bytes_read)
        *bytes_read = 0;
    if (!s->config.compact || s->log->opt.read_only)
        return WEIR_OK;
    if (partition >= s->config.partitions)
        return weir_err_set(err, WEIR_EINVAL, "stream '%s' has no partition %u", s->name, partition);
    weir_partition *p = &s->parts[partition];
    if (s->log->compacting && s->log->compacting != p)
        return WEIR_OK; /* another partition's pass goes first */
    int rc = WEIR_OK;
    bool removed = false, started = true, done = false;
    if (!p->cleaned_loaded && (rc = scan_cleaned(p, &p->cleaned_end, UINT64_MAX, &removed, err)))
        return rc;
    p->cleaned_loaded = true;
    if (!p->pass && ((rc = start_pass(p, limit, now_ms, &started, err)) || !started))
        return rc;
    rc = pass_step(p, budget, &read, &freed, &done, err);
    p->pass->freed += freed;
    if (rc == WEIR_OK && done && (rc = save_cleaned(p, p->cleaned_end, p->pass->end, err)) == WEIR_OK) {
        p->cleaned_end = p->pass->end;
        p->futile = p->pass->freed ? 0 : p->futile < MAX_FUTILE ? p->futile + 1 : MAX_FUTILE;
    }
    if (rc || done)
        weir_compaction_end(p);
    if (rc) {
        weir_err_wrap(err, "compacting stream '%s' partition %u", s->name, partition);
        return rc;
    }
    if (bytes_freed)
        *bytes_freed = freed;
    if (bytes_read)
        *bytes_read = read;
    return WEIR_OK;
}
