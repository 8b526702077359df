/*
 * file_source.c - an NDJSON file feeding a source stream (see file_source.h).
 *
 * Every non-blank line is a record, handed to the runtime's ingest
 * admission (source.h) with its line number as its position. A restart
 * skips the lines the stream already holds: up to the largest position
 * among the stream's last records (the file alone feeds it) and its dead
 * letters.
 */
#include "conn/file_source.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "json/ndjson.h"

typedef struct file_source {
    char path[PATH_MAX];       /* the file, or the descriptor's label */
    int fd;                    /* -1 until the file exists */
    bool follow;               /* a file: its end is only where it is now */
    bool ended;                /* a descriptor: read to its end */
    uint64_t skip;             /* lines the stream already holds */
    uint64_t line;             /* lines read so far */
    weir_ndjson lines;         /* lenient: every non-blank line counts */
    weir_buf pending;          /* read, not yet a complete line */
    weir_feed_record *recs;    /* the complete lines of what was read last, for the admission */
    size_t nrecs, cap;
    weir_err err;
} file_source;

typedef struct file_conf {     /* what bind() keeps of a stream's options */
    const char *path;
} file_conf;

static int poll_feed(void *state, size_t max_bytes, const weir_feed_admit *to, uint64_t *admitted, bool *eof,
                     weir_err *err);
static void close_feed(void *state);

static file_source *source_new(const char *path)
{
    file_source *f = calloc(1, sizeof *f);
    if (f) {
        snprintf(f->path, sizeof f->path, "%s", path);
        f->fd = -1;
        f->lines.lenient = true;
    }
    return f;
}

/* Raises *max to rec's position, if it has one; true if it had. */
static bool note_position(const weir_record *rec, uint64_t *max)
{
    size_t pos = 0;
    weir_header h;
    while (weir_headers_next(rec->headers, rec->headers_len, &pos, &h))
        if (h.name_len == strlen(WEIR_FEED_POSITION) && !memcmp(h.name, WEIR_FEED_POSITION, h.name_len)) {
            char text[24];
            snprintf(text, sizeof text, "%.*s", (int)(h.value_len < 23 ? h.value_len : 23), (const char *)h.value);
            uint64_t at = strtoull(text, NULL, 10);
            if (at > *max)
                *max = at;
            return true;
        }
    return false;
}

/* Reads partition p of st from offset `from` to its end, raising *max to
 * the positions found; *found when one was. */
static int scan_positions(weir_stream *st, uint32_t p, uint64_t from, uint64_t *max, bool *found, weir_err *err)
{
    weir_reader *r;
    int rc = weir_reader_open(st, p, from, &r, err), got;
    weir_record rec;
    while (rc == WEIR_OK && (got = weir_reader_next(r, &rec, err)) == 1)
        *found |= note_position(&rec, max);
    if (rc == WEIR_OK && got < 0)
        rc = err->code;
    weir_reader_close(r);
    return rc;
}

/* How many lines of its file rel's stream holds: the largest position of
 * the last record of each partition (the file alone feeds the stream) and
 * of its dead letters (a line the schema refused). A stream written before
 * records kept positions holds one record per line. */
static int lines_held(weir_log *log, const weir_relation *rel, uint64_t *out, weir_err *err)
{
    weir_stream *st, *dlq;
    uint64_t max = 0, records = 0;
    bool found = false;
    int rc = weir_stream_open(log, rel->name, &st, err);
    for (uint32_t p = 0; rc == WEIR_OK && p < weir_stream_get_config(st)->partitions; p++) {
        weir_partition_stats ps;
        rc = weir_stream_partition_stats(st, p, &ps, err);
        records += rc == WEIR_OK ? ps.end_offset : 0; /* end offsets count every record ever appended, retention or not */
        if (rc == WEIR_OK && ps.end_offset > ps.start_offset)
            rc = scan_positions(st, p, ps.end_offset - 1, &max, &found, err);
    }
    char name[300];
    snprintf(name, sizeof name, "%s.dlq", rel->name);
    int has_dlq = rc == WEIR_OK ? weir_stream_open(log, name, &dlq, err) : rc;
    if (has_dlq == WEIR_ENOENT)
        weir_err_clear(err);
    else
        rc = has_dlq;
    for (uint32_t p = 0; rc == WEIR_OK && has_dlq == WEIR_OK && p < weir_stream_get_config(dlq)->partitions; p++) {
        weir_partition_stats ps;
        if ((rc = weir_stream_partition_stats(dlq, p, &ps, err)) == WEIR_OK)
            rc = scan_positions(dlq, p, ps.start_offset, &max, &found, err);
    }
    *out = found ? max : records;
    return rc;
}

/* open_feed: rel's file, skipping the lines the stream already holds. A
 * missing file is waited for. */
static int open_file(weir_log *log, const weir_relation *rel, weir_source_feed *out, weir_err *err)
{
    const file_conf *conf = rel->source_conf;
    file_source *f = source_new(conf->path);
    int rc = f ? lines_held(log, rel, &f->skip, err) : weir_err_set(err, WEIR_ENOMEM, "out of memory");
    if (rc) {
        free(f);
        return rc;
    }
    f->follow = true;
    *out = (weir_source_feed){poll_feed, close_feed, f};
    return WEIR_OK;
}

int weir_file_source_open_fd(int fd, const char *label, weir_source_feed *out, weir_err *err)
{
    file_source *f = source_new(label);
    int flags = f ? fcntl(fd, F_GETFL) : 0;
    int rc = !f ? weir_err_set(err, WEIR_ENOMEM, "out of memory")
           : flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ? weir_err_errno(err, errno, "%s", label)
                                                                    : WEIR_OK;
    if (rc) {
        free(f);
        return rc;
    }
    f->fd = fd;
    *out = (weir_source_feed){poll_feed, close_feed, f};
    return WEIR_OK;
}

static int on_line(void *ctx, const char *text, size_t len, uint64_t line, weir_ndjson_error *e)
{
    (void)line, (void)e;
    file_source *f = ctx;
    if (++f->line <= f->skip) /* in the stream already */
        return 0;
    if (f->nrecs == f->cap) {
        weir_feed_record *grown = weir_array_grow(f->recs, &f->cap, sizeof *grown, 256);
        if (!grown) {
            weir_err_set(&f->err, WEIR_ENOMEM, "out of memory");
            return 1;
        }
        f->recs = grown;
    }
    /* a descriptor's lines have no position to come back to: it is read once */
    f->recs[f->nrecs++] = (weir_feed_record){text, len, f->follow ? f->line : 0};
    return 0;
}

/* Hands over the complete lines that arrived, up to max_bytes; *eof when
 * a file has nothing more right now, or a descriptor has reached its end. */
static int poll_feed(void *state, size_t max_bytes, const weir_feed_admit *to, uint64_t *admitted, bool *eof,
                     weir_err *err)
{
    file_source *f = state;
    *admitted = 0;
    *eof = true;
    if (f->ended)
        return WEIR_OK;
    if (f->fd < 0 && (f->fd = open(f->path, O_RDONLY | O_CLOEXEC)) < 0)
        return errno == ENOENT ? WEIR_OK : weir_err_errno(err, errno, "open %s", f->path);
    size_t read_bytes = 0;
    while (read_bytes < max_bytes) {
        if (weir_buf_reserve(&f->pending, 1 << 16))
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        ssize_t n = read(f->fd, f->pending.data + f->pending.len, f->pending.cap - f->pending.len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break; /* a descriptor with nothing now */
        if (n < 0)
            return weir_err_errno(err, errno, "read %s", f->path);
        if (n == 0 && f->follow)
            break; /* a file: nothing more for now, lines may still come */
        f->ended = n == 0;
        read_bytes += (size_t)n;
        f->pending.len += (size_t)n;
        weir_ndjson_error e;
        f->nrecs = 0;
        ssize_t used = weir_ndjson_feed(&f->lines, (const char *)f->pending.data, f->pending.len, f->ended, on_line, f, &e);
        if (used < 0)
            return weir_err_set(err, f->err.code ? f->err.code : WEIR_EIO, "%s: %s", f->path, f->err.msg);
        if (f->nrecs && to->admit(to->ctx, f->recs, f->nrecs, err)) /* before the lines move */
            return weir_err_wrap(err, "%s", f->path);
        *admitted += f->nrecs;
        memmove(f->pending.data, f->pending.data + used, f->pending.len - (size_t)used);
        f->pending.len -= (size_t)used;
        if (f->pending.len > (64u << 20))
            return weir_err_set(err, WEIR_EINVAL, "%s: a line longer than 64 MiB", f->path);
        if (f->ended)
            break;
    }
    *eof = f->follow ? read_bytes == 0 : f->ended;
    return WEIR_OK;
}

/* Closes a file (a descriptor given to open_fd stays open). */
static void close_feed(void *state)
{
    file_source *f = state;
    if (f->fd >= 0 && f->follow)
        close(f->fd);
    weir_buf_free(&f->pending);
    free(f->recs);
    free(f);
}

static const weir_conn_option options[] = {
    {"path", WEIR_TYPE_TEXT, NULL, true,
     "The NDJSON file whose lines are the stream's records, followed as it grows (a missing file is waited for). "
     "Ingest into the stream is refused: the file alone feeds it, so restarts skip the lines it already holds.",
     NULL},
};

static void bind_stream(const weir_relation *rel, void *conf)
{
    ((file_conf *)conf)->path = weir_conn_text(rel->decl, options, 1, "path");
}

const weir_source_connector weir_source_file = {
    .name = "file",
    .help = "Reads a local NDJSON file into the stream exactly once, like tail -f.",
    .options = options,
    .noptions = sizeof options / sizeof *options,
    .conf_size = sizeof(file_conf),
    .bind = bind_stream,
    .open_feed = open_file,
};
