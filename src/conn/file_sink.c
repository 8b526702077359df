/*
 * file_sink.c - CREATE SINK s FROM x WITH (connector = 'file', path = 'out.ndjson'):
 * each record's JSON on a line of its own, exactly once; a table's
 * tombstone (a row that left it) as {"removed": {its primary key}}.
 *
 * Progress lives beside the file, in PATH.offsets (written atomically after
 * the lines it counts are fdatasynced): the file's size and each source
 * partition's next offset. Resuming cuts the file back to that size, so
 * lines written after the last progress record (a crash in between) are
 * written again once, not twice.
 *
 * The file is opened at the first resume(), not at start: a path weir may
 * not write (permissions, a missing directory, a read-only file system)
 * is FATAL there and shows in the sink's state until it is fixed and the
 * sink restarted; a full disk or an I/O error is RETRY.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/io.h"
#include "conn/sink.h"
#include "exec/decode.h"

typedef struct file_sink {
    char name[256];            /* the sink's, for errors */
    char path[PATH_MAX];
    char progress[PATH_MAX + 16];
    const weir_relation *from; /* what it delivers, or NULL (a dead-letter stream) */
    int fd;                    /* -1 until resume() opens it */
    uint32_t partitions;
    uint64_t *next;
    uint64_t size;             /* of the file at the last progress record */
    weir_buf lines;
} file_sink;

static int file_open(const weir_sink_config *cfg, void **state, weir_err *err)
{
    const char *path = weir_sink_text(cfg, "path");
    file_sink *f = calloc(1, sizeof *f);
    if (!f || !(f->next = calloc(cfg->partitions, sizeof *f->next))) {
        free(f);
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    }
    snprintf(f->name, sizeof f->name, "%s", cfg->decl->name);
    snprintf(f->path, sizeof f->path, "%s", path);
    snprintf(f->progress, sizeof f->progress, "%s.offsets", path);
    f->partitions = cfg->partitions;
    f->from = cfg->from;
    f->fd = -1;
    *state = f;
    return WEIR_OK;
}

/* What an errno from opening or writing the file means for retrying:
 * the path itself is wrong until someone fixes it, or the trouble may pass. */
static weir_sink_result file_result(int e)
{
    switch (e) {
    case EACCES: case EPERM: case EROFS: case ENOTDIR: case EISDIR: case ENOENT: case ELOOP: case ENAMETOOLONG:
        return WEIR_SINK_FATAL;
    default:
        return WEIR_SINK_RETRY;
    }
}

static weir_sink_result file_resume(void *state, uint64_t *next, uint32_t partitions, weir_err *err)
{
    file_sink *f = state;
    if (f->fd < 0 && (f->fd = open(f->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) < 0) {
        int e = errno;
        weir_err_errno(err, e, "sink %s: open %s", f->name, f->path);
        return file_result(e);
    }
    char *text = NULL;
    int rc = weir_io_read_file(&weir_io_posix, f->progress, &text, NULL, err);
    memset(f->next, 0, f->partitions * sizeof *f->next);
    f->size = 0;
    if (rc == WEIR_OK) { /* "size S\n" then "P NEXT\n" per partition */
        char *p = text, *end;
        f->size = strncmp(p, "size ", 5) ? 0 : strtoull(p + 5, &end, 10);
        while ((p = strchr(p, '\n')) && *++p) {
            unsigned long part = strtoul(p, &end, 10);
            if (end != p && part < f->partitions)
                f->next[part] = strtoull(end, NULL, 10);
        }
        free(text);
    } else if (rc != WEIR_ENOENT) {
        return WEIR_SINK_RETRY;
    }
    if (ftruncate(f->fd, (off_t)f->size) || lseek(f->fd, (off_t)f->size, SEEK_SET) < 0) {
        int e = errno;
        weir_err_errno(err, e, "sink %s: cut %s back to its last progress record", f->name, f->path);
        return file_result(e);
    }
    for (uint32_t p = 0; p < partitions && p < f->partitions; p++)
        next[p] = f->next[p];
    return WEIR_SINK_OK;
}

/* A failed write or sync is RETRY: the disk may fill and empty, and the
 * file itself was opened fine (resume() cuts it back before the retry). */
static weir_sink_result file_deliver(void *state, const weir_sink_record *recs, size_t n, bool more, weir_err *err)
{
    (void)more; /* every batch is durable on return */
    file_sink *f = state;
    f->lines.len = 0;
    if (n == 0)
        return WEIR_SINK_OK;
    for (size_t i = 0; i < n; i++) {
        bool removal = !recs[i].value_len && f->from && f->from->is_table;
        if ((removal ? weir_buf_append_str(&f->lines, "{\"removed\":") ||
                           weir_table_key_json(f->from, (const char *)recs[i].key, recs[i].key_len, &f->lines) ||
                           weir_buf_append_str(&f->lines, "}")
                     : weir_buf_append(&f->lines, recs[i].value, recs[i].value_len)) ||
            weir_buf_append(&f->lines, "\n", 1)) {
            weir_err_set(err, WEIR_ENOMEM, "out of memory");
            return WEIR_SINK_RETRY;
        }
    }
    int rc = weir_io_write_all(&weir_io_posix, f->fd, f->lines.data, f->lines.len, f->path, err);
    if (rc == WEIR_OK && fdatasync(f->fd))
        rc = weir_err_errno(err, errno, "fdatasync %s", f->path);
    if (rc)
        return WEIR_SINK_RETRY;
    weir_buf progress = {0};
    f->size += f->lines.len;
    for (size_t i = 0; i < n; i++)
        if (recs[i].partition < f->partitions && recs[i].offset + 1 > f->next[recs[i].partition])
            f->next[recs[i].partition] = recs[i].offset + 1;
    rc = weir_buf_printf(&progress, "size %llu\n", (unsigned long long)f->size);
    for (uint32_t p = 0; p < f->partitions && !rc; p++)
        rc = weir_buf_printf(&progress, "%u %llu\n", p, (unsigned long long)f->next[p]);
    rc = rc ? weir_err_set(err, WEIR_ENOMEM, "out of memory")
            : weir_io_write_file_atomic(&weir_io_posix, f->progress, progress.data, progress.len, err);
    weir_buf_free(&progress);
    return rc ? WEIR_SINK_RETRY : WEIR_SINK_OK;
}

static void file_close(void *state)
{
    file_sink *f = state;
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    free(f->next);
    weir_buf_free(&f->lines);
    free(f);
}

static const weir_conn_option options[] = {
    {"path", WEIR_TYPE_TEXT, NULL, true,
     "The file the records are appended to, one JSON object per line (created if missing; its directory must exist). "
     "Progress is kept beside it in PATH.offsets.", NULL},
};

const weir_sink_connector weir_sink_file = {
    .name = "file",
    .help = "Appends each record's JSON to a local NDJSON file, exactly once: after a crash the file is cut back to "
            "its last progress record and the rest written again.",
    .options = options,
    .noptions = sizeof options / sizeof *options,
    .caps = WEIR_SINK_EXACTLY_ONCE | WEIR_SINK_SCALE_OUT, /* scale-out: each process writes a file of its own */
    .open = file_open,
    .resume = file_resume,
    .deliver = file_deliver,
    .close = file_close,
};
