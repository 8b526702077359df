/*
 * runtime.c - the runtime's life and the pipeline loop (see runtime.h):
 * opening everything, the steps with their group commit and the
 * acknowledgements it makes due, the live table views, the full-disk
 * pause, the last checkpoint and closing.
 */
#include "runtime/runtime_internal.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/io.h"
#include "conn/connectors.h"
#include "conn/file_source.h"
#include "runtime/kafka_topics.h"
#include "runtime/retention.h"
#include "runtime/sinks.h"

const weir_relation *runtime_relation(const weir_runtime *s, const char *name, int *index)
{
    for (int i = 0; i < s->cat->nrels; i++)
        if (!strcmp(s->cat->rels[i]->name, name)) {
            if (index)
                *index = i;
            return s->cat->rels[i];
        }
    return NULL;
}

/* runner on_output: a table's new row replaces its key's row in the view, or the row leaves it. */
static int update_view(void *ctx, const weir_relation *rel, const weir_value *row, bool removed, weir_err *err)
{
    weir_runtime *s = ctx;
    int i = weir_catalog_index(s->cat, rel);
    if (i < 0 || !s->views[i])
        return WEIR_OK;
    return removed ? weir_view_remove(s->views[i], row, err) : weir_view_upsert(s->views[i], row, err);
}

/* Shows the table views' readers the rows the last step gave them. */
static int publish_views(weir_runtime *s, weir_err *err)
{
    int rc = WEIR_OK;
    for (int i = 0; i < s->cat->nrels && rc == WEIR_OK; i++)
        if (s->views[i])
            rc = weir_view_publish(s->views[i], err);
    return rc;
}

/* ---- answers ---- */

void weir_answer_free(weir_answer *a) { weir_buf_free(&a->body); }

void answer_error(weir_answer *a, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->msg, sizeof a->msg, fmt, ap);
    va_end(ap);
    a->status = status;
    a->content_type = NULL;
}

void answer_body(weir_answer *a, int status, const char *content_type, weir_buf *b)
{
    weir_buf_free(&a->body);
    a->body = *b;
    *b = (weir_buf){0};
    a->status = status;
    a->content_type = content_type;
}

void answer_json(weir_answer *a, int status, int rc, weir_buf *b)
{
    if (rc) {
        weir_buf_free(b);
        answer_error(a, 500, "out of memory");
    } else {
        answer_body(a, status, "application/json", b);
    }
}

/* ---- acknowledgements ---- */

void runtime_answer_pending(weir_runtime *s, int rc, const char *why)
{
    pending_ack *p = s->pending;
    while (p && (rc != WEIR_OK || p->ticket <= s->committed)) {
        pending_ack *next = p->next;
        weir_answer a = {.status = p->status, .content_type = "application/json", .body = p->answer};
        if (rc != WEIR_OK) {
            answer_error(&a, 503, "the records were not stored: %s", why);
            a.retry_after_s = 1;
        }
        p->done(p->ctx, &a);
        atomic_fetch_sub(&s->inflight_bytes, p->bytes);
        weir_buf_free(&p->answer);
        free(p);
        p = next;
    }
    s->pending = p;
    if (!p)
        s->pending_tail = &s->pending;
}

/* Opens every stream of the data directory, so weir_log_bytes counts them
 * all for the disk quota (what this process creates later it opens). Best
 * effort: a stream that cannot be opened is not counted. */
static void open_all_streams(weir_log *log)
{
    char **names;
    size_t n;
    weir_stream *st;
    weir_err err;
    if (weir_log_list_streams(log, &names, &n, &err))
        return;
    for (size_t i = 0; i < n; i++)
        (void)weir_stream_open(log, names[i], &st, &err);
    weir_names_free(names, n);
}

/* ---- a full disk ---- */

#define DISK_CHECK_MS 100            /* how often a step measures the free space */
#define RESUME_CHECK_MS 1000         /* how often a paused pipeline looks for space */
#define RESUME_FLOOR (1u << 20)      /* free bytes a paused pipeline waits for, at least */

/* Bytes free for the data directory's writes; UINT64_MAX when unknown, so
 * that a file system statvfs cannot measure never refuses ingest. */
static uint64_t measure_disk_free(const weir_runtime *s)
{
    struct statvfs st;
    if (statvfs(weir_log_dir(s->log), &st))
        return UINT64_MAX;
    return (uint64_t)st.f_bavail * st.f_frsize;
}

/* The step met a full disk (err): what it did since the last commit is
 * dropped and its requests are answered 503; the runner, whose state may
 * now be ahead of its outputs, takes no more steps until resume(). */
static void pause_pipeline(weir_runtime *s, int64_t now_ms, const weir_err *err)
{
    weir_log_abort(s->log);
    runtime_answer_pending(s, err->code, err->msg);
    s->paused = true;
    s->resume_tried_ms = now_ms;
    snprintf(s->paused_why, sizeof s->paused_why, "%s", err->msg);
}

/* Once min_free (at least RESUME_FLOOR) is free: new runners from their
 * last checkpoints (which cut the outputs back to them) replace the old
 * ones. The table views stay: the new runners emit again, with the same
 * values, every row they got since those checkpoints (and a pull query
 * between its turns may hold one of them). A failure (the disk filled
 * again) leaves the pipeline paused, to try again later. */
static void resume_pipeline(weir_runtime *s, int64_t now_ms)
{
    uint64_t floor = s->opt.min_free > RESUME_FLOOR ? s->opt.min_free : RESUME_FLOOR;
    if (now_ms - s->resume_tried_ms < RESUME_CHECK_MS || (s->disk_free = measure_disk_free(s)) < floor)
        return;
    s->resume_tried_ms = now_ms;
    weir_err err = {0};
    runtime_groups_close(s);
    if (runtime_groups_open(s, &err)) {
        runtime_groups_close(s);
        weir_log_abort(s->log);
        snprintf(s->paused_why, sizeof s->paused_why, "%s", err.msg);
        return;
    }
    s->paused = false;
}

/* Answers what ingest handed over before it saw the pause. */
static void refuse_while_paused(weir_runtime *s)
{
    char why[400];
    snprintf(why, sizeof why, "the disk is full and the pipeline is paused (%s)", s->paused_why);
    runtime_refuse_queued(s, why);
    runtime_refuse_statement(s, why);
}

bool weir_runtime_paused(weir_runtime *s, char *why, size_t cap)
{
    if (s->paused)
        snprintf(why, cap, "%s", s->paused_why);
    return s->paused;
}

/* ---- between threads ---- */

/* Shows the other threads where the pipeline is (runtime_look). */
static void publish_look(weir_runtime *s)
{
    uint64_t log_bytes = s->opt.disk_quota ? weir_log_bytes(s->log) : 0;
    int64_t checkpoint_ms = runtime_checkpoint_ms(s);
    pthread_mutex_lock(&s->handoff_lock);
    s->look.checkpoint_ms = checkpoint_ms;
    s->look.paused = s->paused;
    snprintf(s->look.paused_why, sizeof s->look.paused_why, "%s", s->paused_why);
    s->look.disk_free = s->disk_free;
    s->look.log_bytes = log_bytes;
    pthread_mutex_unlock(&s->handoff_lock);
}

void runtime_make_loop_calls(weir_runtime *s)
{
    pthread_mutex_lock(&s->handoff_lock);
    loop_call *calls = s->calls;
    s->calls = NULL;
    pthread_mutex_unlock(&s->handoff_lock);
    if (!calls)
        return;
    for (loop_call *c = calls; c; c = c->next)
        c->fn(s, c->ctx);
    pthread_mutex_lock(&s->handoff_lock);
    for (loop_call *c = calls, *next; c; c = next) {
        next = c->next; /* c is its caller's: gone once done is seen */
        c->done = true;
    }
    pthread_cond_broadcast(&s->called);
    pthread_mutex_unlock(&s->handoff_lock);
}

void runtime_on_loop(weir_runtime *s, void (*fn)(weir_runtime *s, void *ctx), void *ctx)
{
    loop_call c = {fn, ctx, false, NULL};
    pthread_mutex_lock(&s->handoff_lock);
    if (s->loop_over) {
        pthread_mutex_unlock(&s->handoff_lock);
        fn(s, ctx);
        return;
    }
    c.next = s->calls;
    s->calls = &c;
    pthread_cond_signal(&s->wake);
    while (!c.done)
        pthread_cond_wait(&s->called, &s->handoff_lock);
    pthread_mutex_unlock(&s->handoff_lock);
}

/* The loop is over (its last checkpoint, or a hang-up): the calls still
 * waiting are made now, later ones on their callers' threads. */
static void end_loop(weir_runtime *s)
{
    runtime_make_loop_calls(s);
    pthread_mutex_lock(&s->handoff_lock);
    s->loop_over = true;
    pthread_mutex_unlock(&s->handoff_lock);
    runtime_make_loop_calls(s); /* any that came in between */
}

/* ---- the loop ---- */

int weir_runtime_step(weir_runtime *s, int64_t now_ms, uint64_t *processed, weir_err *err)
{
    int rc = WEIR_OK;
    *processed = 0;
    runtime_make_loop_calls(s);
    if (!s->paused && (rc = runtime_apply_changes(s, err)))
        return rc;
    if (s->paused) {
        refuse_while_paused(s);
        resume_pipeline(s, now_ms);
        publish_look(s);
        return WEIR_OK;
    }
    runtime_append_queued(s);
    s->files_at_eof = true;
    for (int i = 0; i < s->cat->nrels && rc == WEIR_OK; i++) { /* ingest feeds: what arrived, 4 MiB a step */
        uint64_t admitted = 0;
        bool eof = true;
        weir_feed_admit to = {runtime_admit_feed, &s->feed_targets[i]};
        if (s->feeds[i].poll)
            rc = s->feeds[i].poll(s->feeds[i].state, 4u << 20, &to, &admitted, &eof, err);
        s->files_at_eof &= eof;
    }
    if (rc == WEIR_OK && s->ingested) { /* commit the ingested records first: acknowledged sooner, and processed in this step */
        rc = weir_log_commit(s->log, err);
        if (rc == WEIR_OK)
            s->committed++;
        runtime_answer_pending(s, rc, err->msg);
        s->ingested = false;
    }
    if (rc == WEIR_OK) {
        rc = runtime_groups_step(s, now_ms, processed, err);
        if (rc == WEIR_OK)
            s->committed++; /* the step's commit covered every append made before it */
        runtime_answer_pending(s, rc, err->msg);
    }
    if (rc == WEIR_OK)
        rc = publish_views(s, err);
    if (rc == WEIR_OK)
        rc = runtime_clean_log(s, now_ms, false, err);
    if (rc == WEIR_ENOSPC) {
        pause_pipeline(s, now_ms, err);
        rc = WEIR_OK;
    }
    runtime_feed_changes(s, now_ms);
    if (now_ms - s->disk_checked_ms >= DISK_CHECK_MS || s->paused) {
        s->disk_free = measure_disk_free(s);
        s->disk_checked_ms = now_ms;
    }
    weir_sinks_publish_ends(s);
    publish_look(s);
    return rc;
}

void weir_runtime_wait(weir_runtime *s, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    until.tv_sec += timeout_ms / 1000 + until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    if (!s->paused && !runtime_checkpointing(s) && /* else a step would do nothing */
        !weir_runtime_caught_up(s, false)) /* connector inputs are polled each step */
        return;
    pthread_mutex_lock(&s->handoff_lock);
    while (!s->queued && !s->calls && !s->joining && !s->statement && !s->drops)
        if (pthread_cond_timedwait(&s->wake, &s->handoff_lock, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&s->handoff_lock);
}

const weir_catalog *weir_runtime_catalog(const weir_runtime *s) { return s->cat; }
const char *weir_runtime_schema_warnings(const weir_runtime *s) { return weir_registry_warnings(s->registry); }

int weir_runtime_checkpoint(weir_runtime *s, bool finish, weir_err *err)
{
    pthread_mutex_lock(&s->handoff_lock);
    s->closing = true; /* no more ingest: what was handed over is in this last commit */
    pthread_mutex_unlock(&s->handoff_lock);
    runtime_make_loop_calls(s);
    if (s->paused)
        refuse_while_paused(s);
    else
        runtime_append_queued(s);
    int rc = s->paused ? weir_err_set(err, WEIR_ENOSPC, "the pipeline is paused (%s): its last checkpoint stands",
                                      s->paused_why)
                       : runtime_groups_checkpoint(s, finish, err);
    if (rc == WEIR_OK)
        s->committed++;
    runtime_answer_pending(s, rc, err->msg);
    if (rc == WEIR_OK)
        rc = publish_views(s, err);
    if (rc == WEIR_OK && finish) /* serve --once leaves its changelogs compacted up to the end */
        rc = runtime_clean_log(s, weir_wall_ms(), true, err);
    runtime_feed_changes(s, weir_wall_ms());
    weir_sinks_publish_ends(s);
    publish_look(s);
    end_loop(s);
    return rc;
}

/* DATA/state/, the table views' store (emptied first by --reset, which
 * rebuilds everything from the inputs; the removal is made durable before
 * the runner empties the outputs, so no store outlives its changelogs). */
static int open_store(weir_runtime *s, bool reset, weir_err *err)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/state", weir_log_dir(s->log));
    int rc = reset ? weir_remove_tree(dir, err) : WEIR_OK;
    if (rc == WEIR_OK && reset)
        rc = weir_io_sync_dir(&weir_io_posix, weir_log_dir(s->log), err);
    return rc ? rc : weir_store_open(dir, NULL, &s->store, err);
}

/* Every source stream and its dead letters (so that a sink of them, as
 * serve --kafka plans, finds them before the first one). */
static int ensure_sources(weir_log *log, const weir_catalog *cat, weir_err *err)
{
    int rc = WEIR_OK;
    weir_stream *st;
    for (int i = 0; i < cat->nrels && rc == WEIR_OK; i++) {
        const weir_relation *rel = cat->rels[i];
        char dlq[300];
        snprintf(dlq, sizeof dlq, "%s.dlq", rel->name);
        weir_stream_config sc = {.partitions = rel->partitions}, dc = {.partitions = 1};
        bool adopted;
        if (rel->is_source && rel->key_fields && strlen(rel->key_fields) < sizeof sc.key) /* ingest places by it */
            snprintf(sc.key, sizeof sc.key, "%s", rel->key_fields);
        if (rel->is_source)
            rc = weir_stream_open_or_create(log, rel->name, &sc, &st, err);
        if (rc == WEIR_OK && rel->is_source && rel->key_fields)
            rc = weir_stream_adopt_key(st, rel->key_fields, &adopted, err);
        if (rc == WEIR_OK && rel->is_source)
            rc = weir_stream_open_or_create(log, dlq, &dc, &st, err);
    }
    return rc == WEIR_OK ? weir_log_commit(log, err) : rc;
}

/* serve --schemas DIR: each DIR/<subject>.json becomes the subject's
 * latest version unless it already is (an incompatible change is an
 * error, as over HTTP). */
static int register_schemas(weir_runtime *s, const char *dir, weir_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return weir_err_set(err, WEIR_EIO, "--schemas %s: %s", dir, strerror(errno));
    int rc = WEIR_OK;
    struct dirent *e;
    while (rc == WEIR_OK && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n <= 5 || strcmp(e->d_name + n - 5, ".json"))
            continue;
        char path[PATH_MAX], subject[256], *text;
        size_t len;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        snprintf(subject, sizeof subject, "%.*s", (int)(n - 5), e->d_name);
        int version;
        bool created;
        if ((rc = weir_io_read_file(&weir_io_posix, path, &text, &len, err)))
            break;
        rc = weir_registry_add(s->registry, subject, text, len, &version, &created, err);
        free(text);
        if (rc)
            weir_err_wrap(err, "--schemas: %s", path);
    }
    closedir(d);
    return rc;
}

/* serve --stdin: standard input read to its end into a source stream. */
static int open_stdin(weir_runtime *s, const char *name, weir_err *err)
{
    int i;
    const weir_relation *rel = runtime_relation(s, name, &i);
    if (!rel || !rel->is_source)
        return weir_err_set(err, WEIR_EINVAL, "--stdin %s: the pipeline declares no source stream of that name", name);
    if (s->feeds[i].poll)
        return weir_err_set(err, WEIR_EINVAL, "--stdin %s: the stream is fed by its %s connector", name, rel->connector);
    return weir_file_source_open_fd(0, "standard input", &s->feeds[i], err);
}

/* What the catalog decides: the arrays kept per relation, the runners,
 * the store and the views, the feeds and the sinks (opened at start, and
 * again by a statement added at runtime: statements.c). */
int runtime_setup(weir_runtime *s, weir_err *err)
{
    const weir_catalog *cat = s->cat;
    weir_runner_options *ro = &s->runner_opt;
    s->views = calloc((size_t)cat->nrels + 1, sizeof *s->views);
    ro->views = s->views;
    s->ingest = calloc((size_t)cat->nrels + 1, sizeof *s->ingest);
    s->feeds = calloc((size_t)cat->nrels + 1, sizeof *s->feeds);
    s->feed_targets = calloc((size_t)cat->nrels + 1, sizeof *s->feed_targets);
    int rc = !s->views || !s->ingest || !s->feeds || !s->feed_targets ? weir_err_set(err, WEIR_ENOMEM, "out of memory")
                                                                      : ensure_sources(s->log, cat, err);
    for (int i = 0; i < cat->nrels && s->feed_targets; i++)
        s->feed_targets[i] = (feed_target){s, i};
    if (rc == WEIR_OK && (rc = open_store(s, ro->reset, err)) == WEIR_OK)
        ro->store = s->store;
    if (rc == WEIR_OK)
        rc = runtime_groups_open(s, err);
    ro->reset = false; /* once: a statement added later opens the runners again from their checkpoints */
    if (rc == WEIR_OK)
        rc = runtime_set_cleanup(s, err);
    if (rc == WEIR_OK && s->opt.disk_quota)
        open_all_streams(s->log);
    /* The runners cut the outputs back to their checkpoints: each view replays its changelog after the store's end. */
    for (int i = 0; i < cat->nrels && rc == WEIR_OK; i++)
        if (cat->rels[i]->is_table && (rc = weir_view_new(cat->rels[i], &s->views[i], err)) == WEIR_OK &&
            (rc = weir_view_attach(s->views[i], s->store, err)) == WEIR_OK)
            rc = weir_view_load(s->views[i], s->log, false, err);
    s->disk_free = measure_disk_free(s);
    for (int i = 0; i < cat->nrels && rc == WEIR_OK; i++)
        rc = weir_source_open_feed(s->log, cat->rels[i], &s->feeds[i], err);
    if (rc == WEIR_OK && s->opt.stdin_stream)
        rc = open_stdin(s, s->opt.stdin_stream, err);
    if (rc == WEIR_OK)
        rc = weir_sinks_start(s, s->opt.kafka_brokers, ro->tasks ? ro->tasks->instance : NULL, err);
    if (rc == WEIR_OK)
        publish_look(s);
    return rc;
}

void runtime_teardown(weir_runtime *s)
{
    weir_sinks_stop(s);
    runtime_groups_close(s);
    for (int i = 0; s->views && i < s->cat->nrels; i++)
        weir_view_free(s->views[i]);
    free(s->views);
    s->views = NULL;
    s->runner_opt.views = NULL;
    weir_store_close(s->store); /* after the views: none holds a snapshot now */
    s->store = NULL;
    free(s->ingest);
    s->ingest = NULL;
    for (int i = 0; s->feeds && i < s->cat->nrels; i++)
        if (s->feeds[i].close)
            s->feeds[i].close(s->feeds[i].state);
    free(s->feeds);
    s->feeds = NULL;
    free(s->feed_targets);
    s->feed_targets = NULL;
}

int weir_runtime_open(weir_log *log, const weir_catalog *cat, const char *sql, size_t sql_len,
                      const weir_runtime_options *opt, weir_runtime **out, weir_err *err)
{
    *out = NULL;
    weir_runtime *s = calloc(1, sizeof *s);
    if (!s)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    pthread_mutex_init(&s->handoff_lock, NULL);
    pthread_mutex_init(&s->registry_lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    pthread_cond_init(&s->called, NULL);
    runtime_gate_init(s);
    s->log = log;
    s->cat = cat;
    s->sql = sql;
    s->sql_len = sql_len;
    s->opt = *opt;
    if (!s->opt.max_inflight_bytes)
        s->opt.max_inflight_bytes = 256u << 20;
    s->pending_tail = &s->pending;
    s->queued_tail = &s->queued;
    s->started_ms = weir_wall_ms();
    weir_runner_options *ro = &s->runner_opt;
    *ro = opt->runner ? *opt->runner : (weir_runner_options){0};
    ro->on_output = update_view;
    ro->on_output_ctx = s;
    ro->delivered = weir_sinks_delivered;
    ro->delivered_ctx = s;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/schemas", weir_log_dir(log));
    int rc = weir_registry_open(dir, &s->registry, err);
    if (rc == WEIR_OK && opt->schemas_dir)
        rc = register_schemas(s, opt->schemas_dir, err);
    if (rc == WEIR_OK)
        rc = runtime_statements_load(s, err); /* the catalog and its runner groups */
    if (rc == WEIR_OK)
        rc = runtime_setup(s, err);
    if (rc) {
        weir_runtime_close(s, false);
        return rc;
    }
    *out = s;
    return WEIR_OK;
}

bool weir_runtime_files_at_eof(weir_runtime *s) { return s->files_at_eof; }

bool weir_runtime_sinks_drained(weir_runtime *s, int timeout_ms)
{
    uint64_t delivered = 0;
    for (int stalled = 0;; stalled += 50) {
        if (weir_sinks_drained(s))
            return true;
        uint64_t now = weir_sinks_delivered_total(s);
        if (now != delivered) { /* progress: the wait goes on */
            delivered = now;
            stalled = 0;
        }
        if (stalled >= timeout_ms)
            return false;
        usleep(50000);
    }
}

void weir_runtime_hang_up(weir_runtime *s)
{
    pthread_mutex_lock(&s->handoff_lock);
    s->closing = true;
    s->hung_up = true;
    pthread_mutex_unlock(&s->handoff_lock);
    runtime_refuse_queued(s, "weir is shutting down");
    runtime_answer_pending(s, WEIR_EFATAL, "weir is shutting down");
    runtime_refuse_statement(s, "weir is shutting down");
    runtime_refuse_drops(s);
    runtime_end_feeds(s);
    end_loop(s);
}

void weir_runtime_close(weir_runtime *s, bool clean)
{
    if (!s)
        return;
    weir_runtime_hang_up(s);
    if (clean)
        weir_store_compact_at_close(s->store);
    runtime_teardown(s);
    runtime_statements_free(s);
    weir_registry_free(s->registry);
    runtime_gate_destroy(s);
    pthread_cond_destroy(&s->wake);
    pthread_cond_destroy(&s->called);
    pthread_mutex_destroy(&s->handoff_lock);
    pthread_mutex_destroy(&s->registry_lock);
    free(s);
}
