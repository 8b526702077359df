/*
 * segment.c - a partition's segment files on disk: naming, the sparse index
 * files, and loading a partition at open (recovery).
 *
 * The rule that makes recovery simple: an index file vouches for its
 * segment only if its checksum is right and the segment's size equals the
 * size the index recorded. Any segment without such an index is scanned
 * batch by batch and cut at the first batch that is torn or fails its
 * check. After a crash that is the active segment (its index is written only
 * when it is sealed or the log is closed cleanly); after someone cuts a file
 * it is that file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/clock.h"
#include "base/crc32c.h"
#include "log/log_internal.h"

#define INDEX_MAGIC 0x31584957u /* "WIX1" */
#define INDEX_HEADER 32

void weir_segment_path(const weir_partition *p, uint64_t base, const char *ext, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%020" PRIu64 ".%s", p->dir, base, ext);
}

int weir_segment_index_add(weir_segment *seg, uint64_t offset, uint64_t pos)
{
    if (seg->index_len > 0 && pos - seg->index[seg->index_len - 1].pos < WEIR_INDEX_INTERVAL)
        return WEIR_OK;
    if (seg->index_len == seg->index_cap) {
        weir_index_entry *e = weir_array_grow(seg->index, &seg->index_cap, sizeof *e, 64);
        if (!e)
            return WEIR_ENOMEM;
        seg->index = e;
    }
    seg->index[seg->index_len++] = (weir_index_entry){(uint32_t)(offset - seg->base), (uint32_t)pos};
    return WEIR_OK;
}

uint64_t weir_segment_seek(const weir_segment *seg, uint64_t offset)
{
    if (seg->index_len == 0 || offset < seg->base)
        return 0;
    uint64_t rel = offset - seg->base;
    size_t lo = 0, hi = seg->index_len; /* find the last entry with rel_offset <= rel */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (seg->index[mid].rel_offset <= rel)
            lo = mid;
        else
            hi = mid;
    }
    return seg->index[lo].rel_offset <= rel ? seg->index[lo].pos : 0;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

int weir_segment_write_index(weir_partition *p, weir_segment *seg, weir_err *err)
{
    const weir_io *io = p->stream->log->io;
    size_t n = INDEX_HEADER + seg->index_len * 8 + 4;
    uint8_t *b = malloc(n);
    if (!b)
        return weir_err_set(err, WEIR_ENOMEM, "writing index: out of memory");
    put32(b, INDEX_MAGIC);
    put32(b + 4, (uint32_t)seg->index_len);
    put64(b + 8, seg->size);
    put64(b + 16, seg->next);
    put64(b + 24, (uint64_t)seg->max_ts);
    for (size_t i = 0; i < seg->index_len; i++) {
        put32(b + INDEX_HEADER + 8 * i, seg->index[i].rel_offset);
        put32(b + INDEX_HEADER + 8 * i + 4, seg->index[i].pos);
    }
    put32(b + n - 4, weir_crc32c(0, b, n - 4));
    char path[PATH_MAX];
    weir_segment_path(p, seg->base, "idx", path, sizeof path);
    int rc = weir_io_write_file_atomic(io, path, b, n, err);
    free(b);
    if (rc == WEIR_OK)
        seg->index_on_disk = true;
    return rc;
}

/* Loads seg's index if it vouches for a segment file of file_size bytes. */
static bool load_index(weir_partition *p, weir_segment *seg, uint64_t file_size)
{
    char path[PATH_MAX], *data;
    size_t len;
    weir_segment_path(p, seg->base, "idx", path, sizeof path);
    if (weir_io_read_file(p->stream->log->io, path, &data, &len, NULL) != WEIR_OK)
        return false;
    const uint8_t *b = (const uint8_t *)data;
    bool ok = len >= INDEX_HEADER + 4 && get32(b) == INDEX_MAGIC &&
              len == INDEX_HEADER + (size_t)get32(b + 4) * 8 + 4 &&
              get32(b + len - 4) == weir_crc32c(0, b, len - 4) && get64(b + 8) == file_size &&
              get64(b + 16) >= seg->base;
    if (ok) {
        size_t count = get32(b + 4);
        seg->index = count ? malloc(count * sizeof *seg->index) : NULL;
        ok = count == 0 || seg->index;
        for (size_t i = 0; ok && i < count; i++) {
            seg->index[i].rel_offset = get32(b + INDEX_HEADER + 8 * i);
            seg->index[i].pos = get32(b + INDEX_HEADER + 8 * i + 4);
        }
        if (ok) {
            seg->index_len = seg->index_cap = count;
            seg->size = file_size;
            seg->next = get64(b + 16);
            seg->max_ts = (int64_t)get64(b + 24);
            seg->index_on_disk = true;
        }
    }
    free(data);
    return ok;
}

int weir_log_report(weir_log *log, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* Keep a NUL after the text so weir_log_recovery_report can return it. */
    if (weir_buf_append_str(&log->report, line) || weir_buf_append(&log->report, "\n", 2))
        return WEIR_ENOMEM;
    log->report.len--;
    return WEIR_OK;
}

/* Scans seg from byte `from` (whose first batch must start at offset
 * `expect` or later, each next batch after the one before) up to file_size, extending size/next/max_ts/index. A torn or bad
 * tail is cut from the file (writable logs) and reported. */
static int scan_segment(weir_partition *p, weir_segment *seg, uint64_t from, uint64_t expect,
                        uint64_t file_size, weir_err *err)
{
    weir_log *log = p->stream->log;
    char path[PATH_MAX];
    weir_segment_path(p, seg->base, "log", path, sizeof path);
    int fd = log->io->open(path, log->opt.read_only ? O_RDONLY : O_RDWR, 0);
    if (fd < 0)
        return weir_err_errno(err, errno, "open %s", path);

    weir_batch_cursor c;
    weir_cursor_init(&c, log->io, fd, path, from, file_size);
    const uint8_t *batch;
    weir_batch_info info;
    bool truncated;
    weir_err why;
    int rc = WEIR_OK, got;
    seg->size = from;
    seg->next = expect;
    while ((got = weir_cursor_next(&c, &batch, &info, &truncated, &why)) == 1) {
        if (info.base_offset < seg->next) { /* a gap is fine: compaction leaves them */
            weir_err_set(&why, WEIR_ECORRUPT, "%s at %llu: batch starts at offset %llu, expected %llu or more",
                         path, (unsigned long long)seg->size, (unsigned long long)info.base_offset,
                         (unsigned long long)seg->next);
            got = -1;
            break;
        }
        if (weir_segment_index_add(seg, info.base_offset, seg->size)) {
            rc = weir_err_set(err, WEIR_ENOMEM, "indexing %s: out of memory", path);
            break;
        }
        seg->size += info.len;
        seg->next = info.base_offset + info.count;
        if (info.max_ts > seg->max_ts)
            seg->max_ts = info.max_ts;
    }
    if (got < 0 && rc == WEIR_OK) {
        if (why.code != WEIR_ECORRUPT) {
            rc = weir_err_set(err, why.code, "%s", why.msg);
        } else if (!log->opt.read_only) {
            /* Cut the bad tail so appends continue from the good prefix. */
            uint64_t lost = file_size - seg->size;
            if (log->io->ftruncate(fd, (off_t)seg->size) != 0)
                rc = weir_err_errno(err, errno, "truncate %s to %llu", path, (unsigned long long)seg->size);
            else if (log->io->fdatasync(fd) != 0)
                rc = weir_err_errno(err, errno, "fsync %s", path);
            else
                rc = weir_log_report(log, "%s: cut %llu bytes after offset %llu (%s%s)", path,
                            (unsigned long long)lost, (unsigned long long)seg->next,
                            truncated ? "torn write: " : "", why.msg);
        }
    }
    weir_cursor_free(&c);
    log->io->close(fd);
    seg->index_on_disk = false;
    return rc;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Lists the bases of the partition's segment files, sorted; removes
 * leftovers of interrupted atomic writes and orphan indexes (writable logs). */
static int list_segments(weir_partition *p, uint64_t **bases, size_t *n, weir_err *err)
{
    weir_log *log = p->stream->log;
    DIR *d = opendir(p->dir);
    if (!d)
        return weir_err_errno(err, errno, "open directory %s", p->dir);
    size_t cap = 16;
    uint64_t *v = malloc(cap * sizeof *v);
    int rc = v ? WEIR_OK : weir_err_set(err, WEIR_ENOMEM, "out of memory");
    *n = 0;
    struct dirent *e;
    while (rc == WEIR_OK && (e = readdir(d))) {
        char *end;
        unsigned long long base = strtoull(e->d_name, &end, 10);
        bool is_log = end == e->d_name + 20 && strcmp(end, ".log") == 0;
        bool is_idx = end == e->d_name + 20 && strcmp(end, ".idx") == 0;
        if (is_log) {
            if (*n == cap) {
                uint64_t *w = realloc(v, (cap *= 2) * sizeof *v);
                if (!w) {
                    rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
                    break;
                }
                v = w;
            }
            v[(*n)++] = base;
        } else if (!log->opt.read_only && (strstr(e->d_name, ".tmp") || is_idx)) {
            char path[PATH_MAX], seg[PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", p->dir, e->d_name);
            weir_segment_path(p, base, "log", seg, sizeof seg);
            struct stat st;
            if (!is_idx || stat(seg, &st) != 0)
                log->io->unlink(path); /* leftover of an interrupted write or delete */
        }
    }
    closedir(d);
    if (rc != WEIR_OK) {
        free(v);
        return rc;
    }
    qsort(v, *n, sizeof *v, cmp_u64);
    *bases = v;
    return WEIR_OK;
}

static int add_segment(weir_partition *p, uint64_t base, weir_segment **out)
{
    if (p->nsegs == p->segs_cap) {
        weir_segment *s = weir_array_grow(p->segs, &p->segs_cap, sizeof *s, 8);
        if (!s)
            return WEIR_ENOMEM;
        p->segs = s;
    }
    weir_segment *seg = &p->segs[p->nsegs++];
    memset(seg, 0, sizeof *seg);
    seg->base = seg->next = base;
    seg->max_ts = INT64_MIN;
    seg->created_ms = weir_wall_ms();
    *out = seg;
    return WEIR_OK;
}

/* Loads one segment file: trusts its index if it vouches, scans otherwise. */
static int load_segment(weir_partition *p, uint64_t base, weir_err *err)
{
    char path[PATH_MAX];
    weir_segment_path(p, base, "log", path, sizeof path);
    struct stat st;
    if (stat(path, &st) != 0)
        return weir_err_errno(err, errno, "stat %s", path);
    weir_segment *seg;
    if (add_segment(p, base, &seg))
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    if (load_index(p, seg, (uint64_t)st.st_size))
        return WEIR_OK;
    return scan_segment(p, seg, 0, base, (uint64_t)st.st_size, err);
}

int weir_partition_load(weir_partition *p, weir_err *err)
{
    uint64_t *bases;
    size_t n;
    int rc = list_segments(p, &bases, &n, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && rc == WEIR_OK; i++)
        rc = load_segment(p, bases[i], err);
    free(bases);
    if (rc)
        return rc;
    weir_log *log = p->stream->log;
    if (p->nsegs == 0) {
        if (log->opt.read_only) {
            weir_segment *seg;
            if (add_segment(p, 0, &seg)) /* empty stand-in until the writer makes one */
                return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        } else if ((rc = weir_partition_create_segment(p, 0, err))) {
            return rc;
        }
    }
    weir_segment *active = &p->segs[p->nsegs - 1];
    p->next_offset = p->durable_next = active->next;
    if (!log->opt.read_only && p->fd < 0) {
        char path[PATH_MAX];
        weir_segment_path(p, active->base, "log", path, sizeof path);
        p->fd = log->io->open(path, O_WRONLY | O_APPEND, 0);
        if (p->fd < 0)
            return weir_err_errno(err, errno, "open %s", path);
    }
    return WEIR_OK;
}

/* Read-only logs only: pick up what the writer appended since. The
 * partition's readers may share it from several threads, so all of it
 * happens under the view lock. */
static int refresh_locked(weir_partition *p, weir_err *err)
{
    weir_segment *last = &p->segs[p->nsegs - 1];
    char path[PATH_MAX];
    weir_segment_path(p, last->base, "log", path, sizeof path);
    struct stat st;
    if (stat(path, &st) == 0 && (uint64_t)st.st_size > last->size) {
        int rc = scan_segment(p, last, last->size, last->next, (uint64_t)st.st_size, err);
        if (rc)
            return rc;
    }
    uint64_t *bases;
    size_t n;
    int rc = list_segments(p, &bases, &n, err);
    for (size_t i = 0; i < n && rc == WEIR_OK; i++)
        if (bases[i] > p->segs[p->nsegs - 1].base)
            rc = load_segment(p, bases[i], err);
    free(bases);
    if (rc == WEIR_OK)
        p->durable_next = p->next_offset = p->segs[p->nsegs - 1].next;
    return rc;
}

int weir_segment_reload(weir_partition *p, size_t i, uint64_t file_size, weir_err *err)
{
    weir_segment *seg = &p->segs[i];
    uint64_t next = seg->next;
    free(seg->index);
    seg->index = NULL;
    seg->index_len = seg->index_cap = 0;
    seg->max_ts = INT64_MIN;
    if (load_index(p, seg, file_size))
        return WEIR_OK;
    int rc = scan_segment(p, seg, 0, seg->base, file_size, err);
    if (seg->next < next) /* the segment's last records may be gone: its range is what it was */
        seg->next = next;
    return rc;
}

int weir_partition_refresh(weir_partition *p, weir_err *err)
{
    pthread_mutex_lock(&p->view_lock);
    int rc = refresh_locked(p, err);
    pthread_mutex_unlock(&p->view_lock);
    return rc;
}

int weir_partition_create_segment(weir_partition *p, uint64_t base, weir_err *err)
{
    const weir_io *io = p->stream->log->io;
    char path[PATH_MAX];
    weir_segment_path(p, base, "log", path, sizeof path);
    int fd = io->open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND, 0644);
    if (fd < 0)
        return weir_err_errno(err, errno, "create %s", path);
    int rc = weir_io_sync_dir(io, p->dir, err);
    weir_segment *seg;
    pthread_mutex_lock(&p->view_lock); /* add_segment may move segs */
    if (rc == WEIR_OK && add_segment(p, base, &seg))
        rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
    pthread_mutex_unlock(&p->view_lock);
    if (rc != WEIR_OK) {
        io->close(fd);
        io->unlink(path);
        return rc;
    }
    if (p->fd >= 0)
        io->close(p->fd);
    p->fd = fd;
    return WEIR_OK;
}

int weir_partition_find_tail(weir_partition *p, bool from_start, weir_err *err)
{
    memset(&p->tail, 0, sizeof p->tail);
    size_t i = p->nsegs;
    while (i > 0 && p->segs[i - 1].size == 0)
        i--;
    if (i == 0)
        return WEIR_OK;
    const weir_segment *seg = &p->segs[i - 1];
    const weir_io *io = p->stream->log->io;
    uint64_t from = from_start || seg->index_len == 0 ? 0 : seg->index[seg->index_len - 1].pos;
    char path[PATH_MAX];
    weir_segment_path(p, seg->base, "log", path, sizeof path);
    int fd = io->open(path, O_RDONLY, 0);
    if (fd < 0)
        return weir_err_errno(err, errno, "open %s", path);
    weir_batch_cursor c;
    weir_cursor_init(&c, io, fd, path, from, seg->size);
    const uint8_t *batch;
    weir_batch_info info;
    bool truncated, first = true;
    int got;
    while ((got = weir_cursor_next(&c, &batch, &info, &truncated, err)) == 1) {
        if (first || info.commit_id != p->tail.id) {
            /* A run that starts at the walk's first batch may have begun before it. */
            p->tail.run_offset = info.base_offset;
            p->tail.run_known = !first || from == 0;
        }
        p->tail.id = info.commit_id;
        p->tail.parts = info.commit_parts;
        p->tail.flags = info.commit_flags;
        first = false;
    }
    weir_cursor_free(&c);
    io->close(fd);
    if (got < 0 && err->code == WEIR_ECORRUPT) {
        /* Damage inside a segment its index vouches for (scanned segments
         * were cut at their first bad batch): readers report it; recovery
         * can no longer tell which commit this partition ends with. */
        p->tail.unreadable = true;
        return weir_log_report(p->stream->log, "%s: commit check skipped, the partition's last batch is damaged (%s)",
                               p->dir, err->msg);
    }
    return got < 0 ? err->code : WEIR_OK;
}
