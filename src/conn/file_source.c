/*
 * file_source.c - an NDJSON file feeding a source stream (see file_source.h).
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
#include "base/clock.h"
#include "conn/ingest.h"
#include "json/ndjson.h"

typedef struct file_source {
    char path[PATH_MAX];       /* the file, or the descriptor's label */
    int fd;                    /* -1 until the file exists */
    bool follow;               /* a file: its end is only where it is now */
    bool ended;                /* a descriptor: read to its end */
    weir_stream *stream;
    const char *key_field;
    uint64_t skip;             /* lines the stream already holds */
    weir_ndjson lines;         /* lenient: every non-blank line counts */
    weir_buf pending;          /* read, not yet a complete line */
    weir_buf key;
    uint64_t appended;
    weir_err err;
} file_source;

typedef struct file_conf {     /* what bind() keeps of a stream's options */
    const char *path;
} file_conf;

static int poll_feed(void *state, size_t max_bytes, uint64_t *appended, bool *eof, weir_err *err);
static void close_feed(void *state);

/* The parts both kinds share; *out is freed by the caller on error. */
static int source_new(weir_log *log, const weir_relation *rel, const char *path, file_source **out, weir_err *err)
{
    file_source *f = *out = calloc(1, sizeof *f);
    if (!f)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    snprintf(f->path, sizeof f->path, "%s", path);
    f->fd = -1;
    f->lines.lenient = true;
    f->key_field = rel->key_fields;
    return weir_stream_open(log, rel->name, &f->stream, err);
}

/* open_feed: rel's file, skipping the lines the stream already holds. A
 * missing file is waited for. */
static int open_file(weir_log *log, const weir_relation *rel, weir_source_feed *out, weir_err *err)
{
    const file_conf *conf = rel->source_conf;
    file_source *f;
    int rc = source_new(log, rel, conf->path, &f, err);
    if (f)
        f->follow = true;
    for (uint32_t p = 0; rc == WEIR_OK && p < weir_stream_get_config(f->stream)->partitions; p++) {
        weir_partition_stats st;
        rc = weir_stream_partition_stats(f->stream, p, &st, err);
        f->skip += st.end_offset; /* end offsets count every record ever appended, retention or not */
    }
    if (rc) {
        free(f);
        return rc;
    }
    *out = (weir_source_feed){poll_feed, close_feed, f};
    return WEIR_OK;
}

int weir_file_source_open_fd(weir_log *log, const weir_relation *rel, int fd, const char *label,
                             weir_source_feed *out, weir_err *err)
{
    file_source *f;
    int rc = source_new(log, rel, label, &f, err);
    int flags = rc ? 0 : fcntl(fd, F_GETFL);
    if (rc == WEIR_OK && (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0))
        rc = weir_err_errno(err, errno, "%s", label);
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
    if (f->skip) { /* in the stream already */
        f->skip--;
        return 0;
    }
    if (weir_ingest_json(f->stream, -1, f->key_field, text, len, weir_wall_ms(), &f->key, NULL, NULL, &f->err))
        return 1;
    f->appended++;
    return 0;
}

/* Appends the complete lines that arrived, up to max_bytes; *eof when a
 * file has nothing more right now, or a descriptor has reached its end. */
static int poll_feed(void *state, size_t max_bytes, uint64_t *appended, bool *eof, weir_err *err)
{
    file_source *f = state;
    *appended = 0;
    *eof = true;
    if (f->ended)
        return WEIR_OK;
    if (f->fd < 0 && (f->fd = open(f->path, O_RDONLY | O_CLOEXEC)) < 0)
        return errno == ENOENT ? WEIR_OK : weir_err_errno(err, errno, "open %s", f->path);
    f->appended = 0;
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
        ssize_t used = weir_ndjson_feed(&f->lines, (const char *)f->pending.data, f->pending.len, f->ended, on_line, f, &e);
        if (used < 0)
            return weir_err_set(err, f->err.code ? f->err.code : WEIR_EIO, "%s: %s", f->path, f->err.msg);
        memmove(f->pending.data, f->pending.data + used, f->pending.len - (size_t)used);
        f->pending.len -= (size_t)used;
        if (f->pending.len > (64u << 20))
            return weir_err_set(err, WEIR_EINVAL, "%s: a line longer than 64 MiB", f->path);
        if (f->ended)
            break;
    }
    *eof = f->follow ? read_bytes == 0 : f->ended;
    *appended = f->appended;
    return WEIR_OK;
}

/* Closes a file (a descriptor given to open_fd stays open). */
static void close_feed(void *state)
{
    file_source *f = state;
    if (f->fd >= 0 && f->follow)
        close(f->fd);
    weir_buf_free(&f->pending);
    weir_buf_free(&f->key);
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
