/*
 * cursor.c - reads consecutive batches from a segment file through a
 * read-ahead buffer, checking each (weir_batch_check). Recovery scans and
 * readers both use it, so a batch is interpreted in one place only.
 */
#include <errno.h>
#include <string.h>

#include "log/log_internal.h"

#define READ_AHEAD (1u << 20)

void weir_cursor_init(weir_batch_cursor *c, const weir_io *io, int fd, const char *path,
                      uint64_t start, uint64_t limit)
{
    memset(c, 0, sizeof *c);
    c->io = io;
    c->fd = fd;
    c->path = path;
    c->pos = start;
    c->limit = limit;
}

/* Makes at least `need` bytes available at head, reading ahead. Returns the
 * bytes available (less than need at end of file or limit), or -1. */
static ssize_t fill(weir_batch_cursor *c, size_t need, weir_err *err)
{
    size_t have = c->buf.len - c->head;
    if (have >= need)
        return (ssize_t)have;
    if (c->head > 0) { /* slide the unread bytes to the front */
        memmove(c->buf.data, c->buf.data + c->head, have);
        c->pos += c->head;
        c->buf.len = have;
        c->head = 0;
    }
    size_t want = need > READ_AHEAD ? need : READ_AHEAD;
    if (weir_buf_reserve(&c->buf, want - have))
        return weir_err_set(err, WEIR_ENOMEM, "reading %s: out of memory", c->path), -1;
    while (c->buf.len < need) {
        uint64_t at = c->pos + c->buf.len;
        if (at >= c->limit)
            break;
        size_t room = c->buf.cap - c->buf.len;
        if (c->limit - at < room)
            room = (size_t)(c->limit - at);
        ssize_t r = c->io->pread(c->fd, c->buf.data + c->buf.len, room, (off_t)at);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            weir_err_errno(err, errno, "read %s at %llu", c->path, (unsigned long long)at);
            return -1;
        }
        if (r == 0)
            break;
        c->buf.len += (size_t)r;
    }
    return (ssize_t)(c->buf.len - c->head);
}

int weir_cursor_next(weir_batch_cursor *c, const uint8_t **batch, weir_batch_info *info,
                     bool *truncated, weir_err *err)
{
    *truncated = false;
    ssize_t have = fill(c, WEIR_BATCH_HEADER_SIZE, err);
    if (have < 0)
        return -1;
    if (have == 0)
        return 0;
    size_t need = WEIR_BATCH_HEADER_SIZE;
    if (have >= WEIR_BATCH_HEADER_SIZE) {
        uint32_t len;
        memcpy(&len, c->buf.data + c->head + 4, 4);
        if (len > WEIR_MAX_BATCH_SIZE) {
            weir_err_set(err, WEIR_ECORRUPT, "%s at %llu: batch length %u is impossible", c->path,
                         (unsigned long long)weir_cursor_tell(c), len);
            return -1;
        }
        need = len;
        if ((have = fill(c, need, err)) < 0)
            return -1;
    }
    const uint8_t *p = c->buf.data + c->head;
    if (weir_batch_check(p, (size_t)have, info, truncated, err) != WEIR_OK) {
        weir_err_wrap(err, "%s at %llu", c->path, (unsigned long long)weir_cursor_tell(c));
        return -1;
    }
    *batch = p;
    c->head += info->len;
    return 1;
}

void weir_cursor_free(weir_batch_cursor *c)
{
    weir_buf_free(&c->buf);
}
