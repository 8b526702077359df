/*
 * log.c - the data directory: its lock, its streams and their config, and
 * the commit that spans every partition.
 *
 * Layout (docs/LOG_FORMAT.md): DIR/LOCK, DIR/commits,
 * DIR/streams/<name>/stream.conf,
 * DIR/streams/<name>/<partition>/<base offset>.{log,idx},
 * DIR/groups/<group>/<stream>.offsets. A stream exists once its
 * stream.conf does: create makes the partitions first and writes the conf
 * last, atomically, so an interrupted create leaves no half stream.
 *
 * Every commit has an id, written into its batches with, in each
 * partition's last one, the number of partitions it counts; at open,
 * resolve_last_commit cuts the newest commit if a crash left it in fewer
 * partitions than that, so a commit survives whole or not at all.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/hash.h"
#include "log/log_internal.h"

static const weir_stream_config default_config = {
    .partitions = 4,
    .segment_bytes = 128u << 20,
    .segment_ms = 7LL * 24 * 3600 * 1000,
    .retention_ms = 0,
    .retention_bytes = 0,
    .compact = false,
    .delete_retention_ms = 24LL * 3600 * 1000,
};

/* Zeros in a caller's config take the defaults. */
static void fill_defaults(weir_stream_config *c)
{
    if (!c->partitions) c->partitions = default_config.partitions;
    if (!c->segment_bytes) c->segment_bytes = default_config.segment_bytes;
    if (!c->segment_ms) c->segment_ms = default_config.segment_ms;
    if (!c->delete_retention_ms) c->delete_retention_ms = default_config.delete_retention_ms;
}

static int take_lock(weir_log *log, weir_err *err)
{
    char path[PATH_MAX + 8];
    snprintf(path, sizeof path, "%s/LOCK", log->dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return weir_err_errno(err, errno, "open %s", path);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char pid[32] = "";
        ssize_t r = pread(fd, pid, sizeof pid - 1, 0);
        if (r > 0)
            pid[strcspn(pid, "\n")] = '\0';
        close(fd);
        if (e == EWOULDBLOCK)
            return weir_err_set(err, WEIR_EBUSY, "data directory %s is in use by another weir process (pid %s)",
                                log->dir, r > 0 ? pid : "unknown");
        return weir_err_errno(err, e, "lock %s", path);
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        int e = errno;
        close(fd);
        return weir_err_errno(err, e, "write %s", path);
    }
    log->lock_fd = fd;
    return WEIR_OK;
}

/* DIR/commits: "weir-commits 1\ncomplete <id>\n", written atomically
 * (rule 3). Absent: 0. */
static int load_complete_floor(weir_log *log, weir_err *err)
{
    char path[PATH_MAX + 16], *text;
    snprintf(path, sizeof path, "%s/commits.tmp", log->dir);
    if (log->io->unlink(path) != 0 && errno != ENOENT) /* an interrupted write's leftover */
        return weir_err_errno(err, errno, "delete %s", path);
    snprintf(path, sizeof path, "%s/commits", log->dir);
    int rc = weir_io_read_file(log->io, path, &text, NULL, err);
    if (rc == WEIR_ENOENT)
        return WEIR_OK;
    if (rc)
        return rc;
    unsigned long long id;
    int used = 0;
    if (sscanf(text, "weir-commits 1\ncomplete %llu\n%n", &id, &used) != 1 || used == 0 || text[used] != '\0')
        rc = weir_err_set(err, WEIR_ECORRUPT, "%s: expected \"weir-commits 1\" and a \"complete <id>\" line", path);
    else
        log->complete_floor = id;
    free(text);
    return rc;
}

int weir_log_mark_complete(weir_log *log, weir_err *err)
{
    uint64_t done = log->next_commit_id - 1; /* every commit before the one in progress returned */
    if (done <= log->complete_floor)
        return WEIR_OK;
    char path[PATH_MAX + 16], text[64];
    snprintf(path, sizeof path, "%s/commits", log->dir);
    int n = snprintf(text, sizeof text, "weir-commits 1\ncomplete %llu\n", (unsigned long long)done);
    int rc = weir_io_write_file_atomic(log->io, path, text, (size_t)n, err);
    if (rc == WEIR_OK)
        log->complete_floor = done;
    return rc;
}

#define FOR_EACH_PARTITION(log, part)                                   \
    WEIR_FOR_EACH_STREAM(log, s_)                                       \
        for (uint32_t pi_ = 0; pi_ < s_->config.partitions; pi_++)      \
            if (((part) = &s_->parts[pi_]) != NULL)

/* Rule 8 of docs/LOG_FORMAT.md. Only the newest commit can be incomplete:
 * a commit's batches are written only after the previous commit returned,
 * and it returned only once every partition it counts was fdatasynced. So
 * with L the highest commit id at the end of any partition, every commit
 * before L is whole, and L is whole if its final batches are at the end of
 * as many counted partitions as they say it had. Otherwise L's batches,
 * the tail of every partition that has any, are cut. */
static int resolve_last_commit(weir_log *log, weir_err *err)
{
    weir_partition *p;
    uint64_t last = 0;
    int rc = WEIR_OK;
    bool unknown = false;
    FOR_EACH_PARTITION(log, p) {
        if (rc == WEIR_OK && (rc = weir_partition_find_tail(p, false, err)) == WEIR_OK && p->tail.id > last)
            last = p->tail.id;
        unknown = unknown || p->tail.unreadable;
    }
    if (rc)
        return rc;
    uint32_t parts = 0, finals = 0;
    bool have_final = false;
    FOR_EACH_PARTITION(log, p) {
        if (p->tail.id == last && (p->tail.flags & WEIR_COMMIT_FINAL)) {
            have_final = true;
            parts = p->tail.parts;
            finals += !(p->tail.flags & WEIR_COMMIT_UNCOUNTED);
        }
    }
    log->next_commit_id = (last > log->complete_floor ? last : log->complete_floor) + 1;
    /* A damaged last batch (media, not a crash: reported by find_tail) may
     * be a final one; cutting without it could take acknowledged data. */
    if (unknown || last == 0 || last <= log->complete_floor || (have_final && finals >= parts))
        return WEIR_OK;
    FOR_EACH_PARTITION(log, p) {
        if (rc || p->tail.id != last)
            continue;
        if (!p->tail.run_known && (rc = weir_partition_find_tail(p, true, err)))
            break;
        uint64_t end = p->durable_next;
        if ((rc = weir_partition_truncate(p, p->tail.run_offset, err)) == WEIR_OK)
            rc = have_final ? weir_log_report(log, "%s: cut offsets %llu..%llu, commit %llu, which reached %u of its %u partitions",
                                              p->dir, (unsigned long long)p->tail.run_offset, (unsigned long long)end - 1,
                                              (unsigned long long)last, finals, parts)
                            : weir_log_report(log, "%s: cut offsets %llu..%llu, commit %llu, whose final batches were never written",
                                              p->dir, (unsigned long long)p->tail.run_offset, (unsigned long long)end - 1,
                                              (unsigned long long)last);
    }
    /* Commit `last` is gone now: say so, so that ids keep increasing and the
     * rule looks at newer commits only. */
    return rc ? rc : weir_log_mark_complete(log, err);
}

/* The writer opens every stream at once, so recovery happens at open and
 * its report is complete before the first append. */
static int recover_streams(weir_log *log, weir_err *err)
{
    char **names;
    size_t n;
    int rc = load_complete_floor(log, err);
    if (rc)
        return rc;
    rc = weir_log_list_streams(log, &names, &n, err);
    for (size_t i = 0; i < n && rc == WEIR_OK; i++) {
        weir_stream *s;
        rc = weir_stream_open(log, names[i], &s, err);
    }
    weir_names_free(names, n);
    return rc ? rc : resolve_last_commit(log, err);
}

int weir_log_open(const char *dir, const weir_log_options *opt, weir_log **out, weir_err *err)
{
    *out = NULL;
    weir_log *log = calloc(1, sizeof *log);
    if (!log)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    if (opt)
        log->opt = *opt;
    if (!log->opt.group_commit_us)
        log->opt.group_commit_us = 2000;
    if (!log->opt.group_commit_bytes)
        log->opt.group_commit_bytes = 4u << 20;
    log->io = log->opt.io ? log->opt.io : &weir_io_posix;
    log->lock_fd = -1;
    pthread_mutex_init(&log->streams_lock, NULL);
    log->next_commit_id = 1;
    int rc = WEIR_OK;
    if (snprintf(log->dir, sizeof log->dir, "%s", dir) >= (int)sizeof log->dir - 300)
        rc = weir_err_set(err, WEIR_EINVAL, "data directory path too long: %s", dir);
    if (rc == WEIR_OK && !log->opt.read_only) {
        char streams[PATH_MAX];
        snprintf(streams, sizeof streams, "%s/streams", log->dir);
        rc = weir_mkdirs(streams, err);
        if (rc == WEIR_OK)
            rc = take_lock(log, err);
    } else if (rc == WEIR_OK) {
        struct stat st;
        if (stat(log->dir, &st) != 0)
            rc = weir_err_errno(err, errno, "data directory %s", log->dir);
    }
    if (rc == WEIR_OK && !log->opt.read_only)
        rc = recover_streams(log, err);
    if (rc != WEIR_OK) {
        weir_log_close(log, NULL);
        return rc;
    }
    *out = log;
    return WEIR_OK;
}

const char *weir_log_recovery_report(const weir_log *log)
{
    return log->report.len ? (const char *)log->report.data : "";
}

const char *weir_log_dir(const weir_log *log)
{
    return log->dir;
}

const weir_io *weir_log_io(const weir_log *log)
{
    return log->io;
}

static void stream_free(weir_stream *s)
{
    if (!s)
        return;
    if (s->parts)
        for (uint32_t i = 0; i < s->config.partitions; i++)
            weir_partition_free(&s->parts[i]);
    free(s->parts);
    free(s);
}

int weir_log_close(weir_log *log, weir_err *err)
{
    if (!log)
        return WEIR_OK;
    int rc = WEIR_OK;
    if (!log->opt.read_only) {
        rc = weir_log_commit(log, err);
        if (rc == WEIR_OK)
            rc = weir_log_sync(log, err);
        /* Write the active segments' indexes so the next open trusts them. */
        WEIR_FOR_EACH_STREAM(log, s) {
            for (uint32_t p = 0; p < s->config.partitions && rc == WEIR_OK; p++) {
                weir_partition *part = &s->parts[p];
                weir_segment *active = &part->segs[part->nsegs - 1];
                if (!part->broken && !active->index_on_disk)
                    rc = weir_segment_write_index(part, active, err);
            }
        }
    }
    for (weir_stream *s = log->streams, *next; s; s = next) {
        next = s->next;
        stream_free(s);
    }
    pthread_mutex_destroy(&log->streams_lock);
    if (log->lock_fd >= 0)
        close(log->lock_fd);
    weir_buf_free(&log->report);
    free(log);
    return rc;
}

/* A delete-policy stream's conf has the lines older versions wrote; a
 * compacted one adds compact=1 and delete_retention_ms, a keyed one
 * key=FIELDS (the only line that is not a number). */
static int format_config(const weir_stream_config *c, char *out, size_t cap)
{
    int n = snprintf(out, cap,
                     "partitions=%u\nsegment_bytes=%" PRIu64 "\nsegment_ms=%" PRId64
                     "\nretention_ms=%" PRId64 "\nretention_bytes=%" PRId64 "\n",
                     c->partitions, c->segment_bytes, c->segment_ms, c->retention_ms, c->retention_bytes);
    if (c->compact && n > 0 && (size_t)n < cap)
        n += snprintf(out + n, cap - (size_t)n, "compact=1\ndelete_retention_ms=%" PRId64 "\n", c->delete_retention_ms);
    if (c->key[0] && n > 0 && (size_t)n < cap)
        n += snprintf(out + n, cap - (size_t)n, "key=%s\n", c->key);
    return n;
}

/* Whether fields can be a stream's key in its conf: one line, short enough. */
static bool key_fits(const char *fields)
{
    size_t n = strlen(fields);
    return n > 0 && n < WEIR_STREAM_KEY_MAX && !memchr(fields, '\n', n);
}

static int parse_config(const char *text, const char *path, weir_stream_config *c, weir_err *err)
{
    *c = default_config;
    int line = 0;
    for (const char *p = text; *p; ) {
        line++;
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char key[64];
        long long v;
        char linebuf[256];
        snprintf(linebuf, sizeof linebuf, "%.*s", (int)len, p);
        if (len > 4 && !strncmp(p, "key=", 4)) {
            if (len - 4 >= sizeof c->key)
                return weir_err_set(err, WEIR_ECORRUPT, "%s:%d: key longer than %d bytes", path, line,
                                    WEIR_STREAM_KEY_MAX - 1);
            memcpy(c->key, p + 4, len - 4);
            c->key[len - 4] = '\0';
        } else if (len > 0) {
            if (sscanf(linebuf, "%63[a-z_]=%lld", key, &v) != 2 || v < 0)
                return weir_err_set(err, WEIR_ECORRUPT, "%s:%d: expected name=number", path, line);
            if (!strcmp(key, "partitions") && v >= 1 && v <= 10000) c->partitions = (uint32_t)v;
            else if (!strcmp(key, "segment_bytes") && v > 0) c->segment_bytes = (uint64_t)v;
            else if (!strcmp(key, "segment_ms") && v > 0) c->segment_ms = v;
            else if (!strcmp(key, "retention_ms")) c->retention_ms = v;
            else if (!strcmp(key, "retention_bytes")) c->retention_bytes = v;
            else if (!strcmp(key, "compact") && v <= 1) c->compact = v == 1;
            else if (!strcmp(key, "delete_retention_ms") && v > 0) c->delete_retention_ms = v;
            else
                return weir_err_set(err, WEIR_ECORRUPT, "%s:%d: unknown or out-of-range setting %s", path, line, key);
        }
        p += len + (eol ? 1 : 0);
    }
    return WEIR_OK;
}

static int stream_load(weir_log *log, const char *name, const weir_stream_config *config,
                       weir_stream **out, weir_err *err)
{
    weir_stream *s = calloc(1, sizeof *s);
    if (!s)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    s->log = log;
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->dir, sizeof s->dir, "%s/streams/%s", log->dir, name);
    s->config = *config;
    atomic_store_explicit(&s->keyed, config->key[0] != '\0', memory_order_release);
    s->parts = calloc(config->partitions, sizeof *s->parts);
    int rc = s->parts ? WEIR_OK : weir_err_set(err, WEIR_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < config->partitions && rc == WEIR_OK; i++) { /* each one freeable, wherever a load fails */
        s->parts[i] = (weir_partition){.stream = s, .id = i, .fd = -1};
        s->parts[i].view_lock_ready = pthread_mutex_init(&s->parts[i].view_lock, NULL) == 0;
        if (!s->parts[i].view_lock_ready)
            rc = weir_err_set(err, WEIR_ENOMEM, "cannot make a lock for stream '%s'", name);
    }
    for (uint32_t i = 0; i < config->partitions && rc == WEIR_OK; i++) {
        weir_partition *p = &s->parts[i];
        snprintf(p->dir, sizeof p->dir, "%s/%u", s->dir, i);
        if (!log->opt.read_only)
            rc = weir_mkdirs(p->dir, err);
        if (rc == WEIR_OK)
            rc = weir_partition_load(p, err);
    }
    if (rc != WEIR_OK) {
        stream_free(s);
        return rc;
    }
    *out = s;
    return WEIR_OK;
}

/* Puts a loaded stream at the end of the log's list, where readers walking
 * it see it whole (under streams_lock). */
static void publish_stream(weir_log *log, weir_stream *s)
{
    if (log->streams_tail)
        atomic_store_explicit(&log->streams_tail->next, s, memory_order_release);
    else
        atomic_store_explicit(&log->streams, s, memory_order_release);
    log->streams_tail = s;
}

/* Takes a stream out of the list (under streams_lock; see weir_stream_drop). */
static void unpublish_stream(weir_log *log, weir_stream *s)
{
    weir_stream *prev = NULL;
    WEIR_FOR_EACH_STREAM(log, cur) {
        if (cur == s)
            break;
        prev = cur;
    }
    if (prev)
        prev->next = s->next;
    else
        log->streams = s->next;
    if (log->streams_tail == s)
        log->streams_tail = prev;
}

static weir_stream *find_loaded(weir_log *log, const char *name)
{
    WEIR_FOR_EACH_STREAM(log, s)
        if (!strcmp(s->name, name))
            return s;
    return NULL;
}

static int open_locked(weir_log *log, const char *name, weir_stream **out, weir_err *err)
{
    *out = find_loaded(log, name);
    if (*out)
        return WEIR_OK;
    if (!weir_name_valid(name))
        return weir_err_set(err, WEIR_EINVAL, "invalid stream name '%s' (use letters, digits, '.', '_', '-')", name);
    char path[PATH_MAX], *text;
    snprintf(path, sizeof path, "%s/streams/%s/stream.conf", log->dir, name);
    int rc = weir_io_read_file(log->io, path, &text, NULL, err);
    if (rc == WEIR_ENOENT)
        return weir_err_set(err, WEIR_ENOENT, "stream '%s' does not exist in %s", name, log->dir);
    if (rc)
        return rc;
    weir_stream_config c;
    rc = parse_config(text, path, &c, err);
    free(text);
    if (rc)
        return rc;
    rc = stream_load(log, name, &c, out, err);
    if (rc)
        weir_err_wrap(err, "opening stream '%s'", name);
    else
        publish_stream(log, *out);
    return rc;
}

int weir_stream_open(weir_log *log, const char *name, weir_stream **out, weir_err *err)
{
    pthread_mutex_lock(&log->streams_lock);
    int rc = open_locked(log, name, out, err);
    pthread_mutex_unlock(&log->streams_lock);
    return rc;
}

static int create_locked(weir_log *log, const char *name, const weir_stream_config *config,
                         weir_stream **out, weir_err *err)
{
    *out = NULL;
    if (log->opt.read_only)
        return weir_err_set(err, WEIR_EINVAL, "cannot create stream '%s': log opened read-only", name);
    if (!weir_name_valid(name))
        return weir_err_set(err, WEIR_EINVAL, "invalid stream name '%s' (use letters, digits, '.', '_', '-')", name);
    weir_stream_config c = config ? *config : default_config;
    fill_defaults(&c);
    if (c.key[0] && !key_fits(c.key))
        c.key[0] = '\0'; /* placed by it all the same, but not said: its queries run in one engine */
    if (c.partitions > 10000)
        return weir_err_set(err, WEIR_EINVAL, "stream '%s': %u partitions is more than 10000", name, c.partitions);
    char conf[PATH_MAX];
    snprintf(conf, sizeof conf, "%s/streams/%s/stream.conf", log->dir, name);
    struct stat st;
    if (find_loaded(log, name) || stat(conf, &st) == 0)
        return weir_err_set(err, WEIR_EEXIST, "stream '%s' already exists", name);
    /* Without its conf the directory holds only leftovers of an interrupted
     * create or drop: sweep them so no old record comes back. */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/streams/%s", log->dir, name);
    int rc = weir_remove_tree(dir, err);
    if (rc)
        return rc;
    weir_stream *s;
    rc = stream_load(log, name, &c, &s, err); /* makes the partitions */
    if (rc)
        return rc;
    char text[1024];
    int n = format_config(&c, text, sizeof text);
    rc = weir_io_write_file_atomic(log->io, conf, text, (size_t)n, err);
    if (rc == WEIR_OK) {
        char streams[PATH_MAX];
        snprintf(streams, sizeof streams, "%s/streams", log->dir);
        rc = weir_io_sync_dir(log->io, streams, err);
    }
    if (rc) {
        stream_free(s); /* without its conf it does not exist */
        return rc;
    }
    publish_stream(log, s);
    *out = s;
    return WEIR_OK;
}

int weir_stream_create(weir_log *log, const char *name, const weir_stream_config *config,
                       weir_stream **out, weir_err *err)
{
    pthread_mutex_lock(&log->streams_lock);
    int rc = create_locked(log, name, config, out, err);
    pthread_mutex_unlock(&log->streams_lock);
    return rc;
}

int weir_stream_open_or_create(weir_log *log, const char *name, const weir_stream_config *config, weir_stream **out,
                               weir_err *err)
{
    pthread_mutex_lock(&log->streams_lock);
    int rc = open_locked(log, name, out, err);
    if (rc == WEIR_ENOENT)
        rc = create_locked(log, name, config, out, err);
    pthread_mutex_unlock(&log->streams_lock);
    return rc;
}

int weir_stream_drop(weir_log *log, const char *name, weir_err *err)
{
    if (log->opt.read_only)
        return weir_err_set(err, WEIR_EINVAL, "cannot drop '%s': log opened read-only", name);
    weir_stream *s;
    int rc = weir_stream_open(log, name, &s, err);
    if (rc)
        return rc;
    if (weir_log_pending_records(log))
        return weir_err_set(err, WEIR_EINVAL, "cannot drop '%s' with uncommitted appends", name);
    if ((rc = weir_log_mark_complete(log, err))) /* its partitions may hold parts of the last commit */
        return rc;
    char path[PATH_MAX], dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/streams/%s", log->dir, name);
    snprintf(path, sizeof path, "%s/stream.conf", dir);
    if (log->io->unlink(path) != 0)
        return weir_err_errno(err, errno, "delete %s", path);
    if ((rc = weir_io_sync_dir(log->io, dir, err)))
        return rc;
    pthread_mutex_lock(&log->streams_lock); /* forget the handle */
    unpublish_stream(log, s);
    pthread_mutex_unlock(&log->streams_lock);
    stream_free(s);
    if ((rc = weir_remove_tree(dir, err)))
        return rc;
    /* Consumer-group offsets of the old stream must not apply to a new one of the same name. */
    snprintf(path, sizeof path, "%s/groups", log->dir);
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && rc == WEIR_OK && (e = readdir(d))) {
        char offsets[PATH_MAX];
        if (e->d_name[0] == '.' ||
            snprintf(offsets, sizeof offsets, "%s/%s/%s.offsets", path, e->d_name, name) >= (int)sizeof offsets)
            continue;
        if (log->io->unlink(offsets) != 0 && errno != ENOENT)
            rc = weir_err_errno(err, errno, "delete %s", offsets);
    }
    if (d)
        closedir(d);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int weir_log_names_add(weir_log_names *l, const char *name, weir_err *err)
{
    if (l->n == l->cap) {
        char **grown = weir_array_grow(l->v, &l->cap, sizeof *grown, 16);
        if (!grown)
            return weir_err_set(err, WEIR_ENOMEM, "listing %s: out of memory", name);
        l->v = grown;
    }
    if (!(l->v[l->n] = strdup(name)))
        return weir_err_set(err, WEIR_ENOMEM, "listing %s: out of memory", name);
    l->n++;
    return WEIR_OK;
}

int weir_log_each_entry(const char *dir, int (*fn)(void *ctx, const char *dir, const char *name, weir_err *err),
                        void *ctx, weir_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT || errno == ENOTDIR ? WEIR_OK : weir_err_errno(err, errno, "open directory %s", dir);
    int rc = WEIR_OK;
    struct dirent *e;
    while (rc == WEIR_OK && (e = readdir(d)))
        if (weir_name_valid(e->d_name))
            rc = fn(ctx, dir, e->d_name, err);
    closedir(d);
    return rc;
}

int weir_log_names_take(weir_log_names *l, int rc, char ***names, size_t *n)
{
    if (rc) {
        weir_names_free(l->v, l->n);
        *names = NULL;
        *n = 0;
        return rc;
    }
    if (l->n > 1)
        qsort(l->v, l->n, sizeof *l->v, cmp_str);
    *names = l->v;
    *n = l->n;
    return WEIR_OK;
}

/* A stream exists once its stream.conf does. */
static int add_stream(void *ctx, const char *dir, const char *name, weir_err *err)
{
    char conf[PATH_MAX];
    struct stat st;
    snprintf(conf, sizeof conf, "%s/%s/stream.conf", dir, name);
    return stat(conf, &st) == 0 ? weir_log_names_add(ctx, name, err) : WEIR_OK;
}

int weir_log_list_streams(weir_log *log, char ***names, size_t *n, weir_err *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/streams", log->dir);
    weir_log_names l = {0};
    return weir_log_names_take(&l, weir_log_each_entry(path, add_stream, &l, err), names, n);
}

void weir_names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

const char *weir_stream_name(const weir_stream *s) { return s->name; }
const weir_stream_config *weir_stream_get_config(const weir_stream *s) { return &s->config; }

bool weir_stream_keyed(const weir_stream *s) { return atomic_load_explicit(&s->keyed, memory_order_acquire); }

int weir_stream_append(weir_stream *s, int32_t partition, const weir_record *rec,
                       uint32_t *partition_out, uint64_t *offset_out, weir_err *err)
{
    weir_log *log = s->log;
    if (log->opt.read_only)
        return weir_err_set(err, WEIR_EINVAL, "cannot append to '%s': log opened read-only", s->name);
    uint32_t n = s->config.partitions, p;
    if (partition >= 0) {
        if ((uint32_t)partition >= n)
            return weir_err_set(err, WEIR_EINVAL, "stream '%s' has no partition %d (it has %u)", s->name, partition, n);
        p = (uint32_t)partition;
    } else if (rec->key) {
        p = weir_partition_for_key(rec->key, rec->key_len, n);
    } else {
        p = s->round_robin++ % n;
    }
    int rc = weir_partition_append(&s->parts[p], rec, offset_out, err);
    if (rc == WEIR_EINVAL || rc == WEIR_ENOMEM)
        return rc; /* only this record is refused */
    if (rc) { /* an early write failed: the whole uncommitted group is lost */
        weir_log_abort(log);
        return weir_err_wrap(err, "append to '%s' failed, nothing since the last commit was kept", s->name);
    }
    if (partition_out)
        *partition_out = p;
    if (log->pending_records++ == 0)
        log->oldest_pending_ns = weir_mono_ns();
    log->pending_bytes += weir_record_encoded_size(rec);
    if (log->opt.fsync == WEIR_FSYNC_ALWAYS)
        return weir_log_commit(log, err);
    return WEIR_OK;
}

/* Calls fn on every partition holding uncommitted records. */
#define FOR_PENDING(log, part)                                          \
    WEIR_FOR_EACH_STREAM(log, s_)                                       \
        for (uint32_t pi_ = 0; pi_ < s_->config.partitions; pi_++)      \
            if (((part) = &s_->parts[pi_])->pending_records > 0)

typedef struct sync_job {
    weir_partition *p;
    weir_err err;
    int rc;
    pthread_t thread;
} sync_job;

static void *sync_one(void *arg)
{
    sync_job *j = arg;
    j->rc = weir_partition_sync(j->p, &j->err);
    return NULL;
}

/* Partitions to fdatasync: in parallel, one thread each, when the io
 * allows it (the caller waits for one device flush instead of one per
 * partition), else one after the other. */
typedef struct sync_set {
    sync_job jobs[64];
    int n;
    int rc;                    /* of the syncs made at once (beyond 64, or a serial io) */
} sync_set;

static void sync_add(weir_log *log, sync_set *set, weir_partition *p, weir_err *err)
{
    if (!log->io->concurrent_sync || set->n == (int)(sizeof set->jobs / sizeof *set->jobs)) {
        if (set->rc == WEIR_OK)
            set->rc = weir_partition_sync(p, err);
    } else {
        set->jobs[set->n++] = (sync_job){.p = p};
    }
}

static int sync_run(sync_set *set, weir_err *err)
{
    sync_job *jobs = set->jobs;
    int n = set->n, rc = set->rc, started = 0;
    for (int i = 1; i < n; i++) /* the first runs here */
        if (pthread_create(&jobs[i].thread, NULL, sync_one, &jobs[i]) == 0)
            started = i;
        else
            break;
    if (n)
        sync_one(&jobs[0]);
    for (int i = 1; i <= started; i++)
        pthread_join(jobs[i].thread, NULL);
    for (int i = started + 1; i < n; i++) /* threads that could not start: here */
        sync_one(&jobs[i]);
    for (int i = 0; i < n && rc == WEIR_OK; i++)
        if (jobs[i].rc)
            rc = weir_err_set(err, jobs[i].rc, "%s", jobs[i].err.msg);
    return rc;
}

/* fdatasyncs every partition of the commit but those whose stream defers
 * it (weir_log_sync does them later). */
static int sync_pending(weir_log *log, weir_err *err)
{
    sync_set set = {.rc = WEIR_OK};
    weir_partition *p;
    FOR_PENDING(log, p) {
        if (p->stream->sync_deferred)
            p->unsynced = true;
        else
            sync_add(log, &set, p, err);
    }
    return sync_run(&set, err);
}

int weir_log_commit(weir_log *log, weir_err *err)
{
    if (log->pending_records == 0)
        return WEIR_OK;
    weir_partition *p;
    int rc = WEIR_OK;
    /* The partitions recovery will count: those synced by this commit. */
    uint32_t parts = 0;
    FOR_PENDING(log, p) {
        parts += !p->stream->sync_deferred;
    }
    /* Phase 1: write every partition's batches, each partition's last one
     * marked final with the count. */
    FOR_PENDING(log, p) {
        if (rc == WEIR_OK && (rc = weir_partition_write(p, parts, err)) != WEIR_OK)
            weir_partition_rollback(p);
    }
    /* Phase 2: make them durable (or, for a stream that defers it, later). */
    if (rc == WEIR_OK)
        rc = sync_pending(log, err);
    /* Phase 3: publish all, or roll all back. */
    FOR_PENDING(log, p) {
        if (rc == WEIR_OK)
            weir_partition_publish(p);
        else
            weir_partition_rollback(p);
    }
    log->pending_records = 0;
    log->pending_bytes = 0;
    log->next_commit_id++; /* a failed commit's id is not reused either */
    return rc;
}

int weir_log_sync(weir_log *log, weir_err *err)
{
    sync_set set = {.rc = WEIR_OK};
    WEIR_FOR_EACH_STREAM(log, s)
        for (uint32_t p = 0; p < s->config.partitions; p++)
            if (s->parts[p].unsynced)
                sync_add(log, &set, &s->parts[p], err);
    int rc = sync_run(&set, err);
    if (rc == WEIR_OK) /* a failed one is broken now (weir_partition_sync): nothing is left to sync there */
        WEIR_FOR_EACH_STREAM(log, s)
            for (uint32_t p = 0; p < s->config.partitions; p++)
                s->parts[p].unsynced = false;
    return rc;
}

void weir_stream_defer_sync(weir_stream *s, bool defer) { s->sync_deferred = defer; }

void weir_log_abort(weir_log *log)
{
    weir_partition *p;
    FOR_PENDING(log, p) {
        weir_partition_rollback(p);
    }
    log->pending_records = 0;
    log->pending_bytes = 0;
    log->next_commit_id++; /* early writes may have used it */
}

bool weir_log_commit_due(const weir_log *log, uint64_t now_ns)
{
    if (log->pending_records == 0)
        return false;
    return log->pending_bytes >= log->opt.group_commit_bytes ||
           (now_ns > log->oldest_pending_ns && /* a caller's clock, read a little earlier, may be behind */
            now_ns - log->oldest_pending_ns >= (uint64_t)log->opt.group_commit_us * 1000);
}

uint64_t weir_log_pending_records(const weir_log *log)
{
    return log->pending_records;
}

int weir_log_apply_retention(weir_log *log, int64_t now_ms, weir_err *err)
{
    if (log->opt.read_only)
        return WEIR_OK;
    WEIR_FOR_EACH_STREAM(log, s) {
        for (uint32_t p = 0; p < s->config.partitions; p++) {
            int rc = weir_partition_apply_retention(&s->parts[p], now_ms, err);
            if (rc)
                return rc;
        }
    }
    return WEIR_OK;
}

int weir_stream_delete_before(weir_stream *s, uint32_t partition, uint64_t limit, uint64_t *bytes_freed,
                              weir_err *err)
{
    uint64_t freed = 0;
    int rc = WEIR_OK;
    if (s->log->opt.read_only)
        rc = weir_err_set(err, WEIR_EINVAL, "cannot delete from '%s': log opened read-only", s->name);
    else if (partition >= s->config.partitions)
        rc = weir_err_set(err, WEIR_EINVAL, "stream '%s' has no partition %u", s->name, partition);
    else if ((rc = weir_partition_delete_before(&s->parts[partition], limit, &freed, err)))
        weir_err_wrap(err, "deleting stream '%s' partition %u below offset %llu", s->name, partition,
                      (unsigned long long)limit);
    if (bytes_freed)
        *bytes_freed = freed;
    return rc;
}

/* Writes cfg as the stream's conf (atomically, durably) if it differs,
 * then makes it the stream's: whole, or its key alone (key_only: what may
 * change while other threads read the stream's settings). */
static int write_config(weir_stream *s, const weir_stream_config *cfg, bool key_only, weir_err *err)
{
    weir_stream_config c = *cfg;
    char old[1024], text[1024];
    format_config(&s->config, old, sizeof old);
    int n = format_config(&c, text, sizeof text);
    if (!strcmp(old, text))
        return WEIR_OK;
    char conf[PATH_MAX];
    snprintf(conf, sizeof conf, "%s/stream.conf", s->dir);
    int rc = weir_io_write_file_atomic(s->log->io, conf, text, (size_t)n, err);
    if (rc == WEIR_OK && key_only)
        memcpy(s->config.key, c.key, sizeof c.key);
    else if (rc == WEIR_OK)
        s->config = c;
    if (rc == WEIR_OK) /* before any record placed otherwise is appended (weir_stream_forget_key's caller) */
        atomic_store_explicit(&s->keyed, s->config.key[0] != '\0', memory_order_release);
    return rc;
}

int weir_stream_reconfigure(weir_stream *s, const weir_stream_config *config, weir_err *err)
{
    if (s->log->opt.read_only)
        return weir_err_set(err, WEIR_EINVAL, "cannot reconfigure '%s': log opened read-only", s->name);
    weir_stream_config c = *config;
    if (c.partitions && c.partitions != s->config.partitions)
        return weir_err_set(err, WEIR_EINVAL, "stream '%s' has %u partitions, not %u", s->name, s->config.partitions,
                            c.partitions);
    c.partitions = s->config.partitions;
    if (!c.segment_bytes) c.segment_bytes = s->config.segment_bytes;
    if (!c.segment_ms) c.segment_ms = s->config.segment_ms;
    fill_defaults(&c);
    memcpy(c.key, s->config.key, sizeof c.key); /* how its records were placed is not a setting */
    return write_config(s, &c, false, err);
}

int weir_stream_forget_key(weir_stream *s, weir_err *err)
{
    if (!s->config.key[0])
        return WEIR_OK;
    if (s->log->opt.read_only)
        return weir_err_set(err, WEIR_EINVAL, "cannot reconfigure '%s': log opened read-only", s->name);
    weir_stream_config c = s->config;
    c.key[0] = '\0';
    return write_config(s, &c, true, err);
}

int weir_stream_adopt_key(weir_stream *s, const char *fields, bool *adopted, weir_err *err)
{
    *adopted = false;
    if (s->config.key[0] || !key_fits(fields))
        return WEIR_OK;
    if (s->log->opt.read_only)
        return weir_err_set(err, WEIR_EINVAL, "cannot reconfigure '%s': log opened read-only", s->name);
    for (uint32_t i = 0; i < s->config.partitions; i++) {
        weir_partition *p = &s->parts[i];
        pthread_mutex_lock(&p->view_lock);
        bool empty = p->durable_next == 0 && p->pending_records == 0;
        pthread_mutex_unlock(&p->view_lock);
        if (!empty)
            return WEIR_OK;
    }
    weir_stream_config c = s->config;
    snprintf(c.key, sizeof c.key, "%s", fields);
    int rc = write_config(s, &c, true, err);
    *adopted = rc == WEIR_OK;
    return rc;
}

int weir_stream_truncate(weir_stream *s, uint32_t partition, uint64_t offset, weir_err *err)
{
    if (s->log->opt.read_only)
        return weir_err_set(err, WEIR_EINVAL, "cannot truncate '%s': log opened read-only", s->name);
    if (partition >= s->config.partitions)
        return weir_err_set(err, WEIR_EINVAL, "stream '%s' has no partition %u", s->name, partition);
    weir_partition *p = &s->parts[partition];
    if (p->pending_records)
        return weir_err_set(err, WEIR_EINVAL, "cannot truncate '%s' partition %u with uncommitted records", s->name, partition);
    if (offset < p->durable_next) { /* the cut may take a final batch of the last commit */
        int rc = weir_log_mark_complete(s->log, err);
        if (rc)
            return rc;
    }
    return weir_partition_truncate(p, offset, err);
}

uint64_t weir_log_bytes(const weir_log *log)
{
    uint64_t total = 0;
    WEIR_FOR_EACH_STREAM(log, s)
        for (uint32_t p = 0; p < s->config.partitions; p++) {
            weir_partition *part = &s->parts[p];
            pthread_mutex_lock(&part->view_lock);
            for (size_t k = 0; k < part->nsegs; k++)
                total += part->segs[k].size;
            pthread_mutex_unlock(&part->view_lock);
        }
    return total;
}

int weir_stream_partition_stats(weir_stream *s, uint32_t partition,
                                weir_partition_stats *out, weir_err *err)
{
    if (partition >= s->config.partitions)
        return weir_err_set(err, WEIR_EINVAL, "stream '%s' has no partition %u", s->name, partition);
    weir_partition *p = &s->parts[partition];
    if (s->log->opt.read_only) {
        int rc = weir_partition_refresh(p, err);
        if (rc)
            return rc;
    }
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&p->view_lock);
    out->start_offset = p->segs[0].base;
    out->end_offset = p->durable_next;
    out->segments = (uint32_t)p->nsegs;
    for (size_t i = 0; i < p->nsegs; i++)
        out->bytes += p->segs[i].size;
    pthread_mutex_unlock(&p->view_lock);
    return WEIR_OK;
}
