/*
 * sinks.c - delivering the pipeline's CREATE SINKs, one thread each.
 *
 * A sink's thread reads a batch of committed records through readers of
 * its own (a pipeline output only up to what its last checkpoint names,
 * which the pipeline thread publishes after each step: rows a crash could
 * take back never leave the process), then delivers it. It never waits for
 * the pipeline, nor the pipeline for it: what others read of a sink (its
 * counters, its confirmed offsets) is guarded by the sink's own lock, held
 * for a few assignments. A delivery or resume the connector calls
 * RETRY is retried with backoff (100 ms doubling to 5 s) after asking the
 * destination where it got to; meanwhile the log keeps everything, so an
 * outage only grows the lag (in /metrics and /v1/sinks) until the
 * destination is back. One it calls FATAL (the destination refuses for
 * good) stops the sink in state "failed", with the destination's message,
 * until weir_sinks_restart (POST /v1/sinks/{name}/restart) or a restart of
 * the process: retrying a misconfiguration would only hammer it.
 *
 * What the destination has confirmed is also recorded locally (a consumer
 * group "sink.<name>" of the source stream) after each durable delivery:
 * a floor under what resume() reports, for destinations that can only
 * show their latest records (Kafka's read-back window).
 *
 * A sink of a stream that a source connector reads as a runner input (a
 * Kafka source: the runner reads the topic, and the stream's log holds only
 * what was ingested here, on its way to the topic) reads that input
 * instead, through a client of its own (the connector's open_input, at the
 * sink's offsets, which are then the input's: Kafka offsets), reopened
 * after each resume(); so a ClickHouse table of a Kafka source gets every
 * record of the topic, delivered as from the log. Its confirmed offsets go
 * to the group "sink.<name>.input" (they are not the log's), and it holds
 * back no retention of the log. Only the sink that writes the stream's
 * ingest into the input (feeds_input, source.h) reads the log. In scale-out
 * every process would read the whole input, so there sinks read the log.
 *
 * A record counts as delivered (and leaves the lag) only once the
 * destination has confirmed it: at a deliver() with more = false, which a
 * backlog forces at least every SETTLE_MS, or, for what a failed attempt
 * handed over, when resume() finds it at the destination.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "conn/connectors.h"
#include "runtime/sinks.h"

#define SINK_BATCH 50000       /* records per delivery, over all partitions (ClickHouse wants big INSERTs) */
#define SETTLE_MS 1000         /* a backlog pipelines batches (more = true) at most this long before confirming them */

struct sink_run {
    weir_runtime *s;
    const weir_stmt *decl;
    const weir_sink_connector *conn;
    void *state;
    weir_stream *stream;
    uint32_t nparts;
    uint64_t *next;            /* per partition: the next offset to deliver */
    _Atomic uint64_t *ends;    /* per partition: the checkpointed end of a pipeline output; UINT64_MAX: none */
    uint64_t *unconfirmed;     /* per partition: records handed to deliver() since confirmed[] last moved */
    uint64_t settled_ns;       /* when confirmed[] last moved (weir_mono_ns) */
    char group[300];           /* "sink.<name>[.input]": the confirmed offsets, a floor under what resume() says */
    const weir_source_connector *src; /* reading the stream's runner input rather than the log; NULL: the log */
    const weir_relation *rel;  /* with src: the stream */
    const weir_input_ops *in_ops; /* the input while in_state is not NULL (closed at each resume) */
    void *in_state;
    _Atomic int64_t *in_ends;  /* with src, per partition: the input's end as last seen; -1 not known */
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;      /* guards what follows; the sink's thread alone writes it */
    uint64_t *confirmed;       /* per partition: delivered durably, as recorded in the consumer group above */
    bool resumed;              /* next[] is what the destination says */
    bool in_flight;            /* the last deliver() had more = true: a call with more = false settles it */
    uint64_t delivered, failures;  /* delivered: records the destination confirmed */
    bool healthy;
    bool failed;               /* the last attempt was FATAL: the thread waits for weir_sinks_restart */
    char last_error[256];
};

/* Partition p's retained range, and *end, what the sink may deliver of it:
 * its end, or for a pipeline output what the last checkpoint names. */
static int deliverable(const sink_run *k, uint32_t p, weir_partition_stats *ps, uint64_t *end, weir_err *err)
{
    int rc = weir_stream_partition_stats(k->stream, p, ps, err);
    uint64_t checkpointed = atomic_load(&k->ends[p]);
    *end = checkpointed != UINT64_MAX ? checkpointed : ps->end_offset;
    return rc;
}

/* Adds rec of partition p to the batch: recs[*n], its bytes in the arena
 * from at[*n]. False when out of memory. */
static bool take(weir_sink_record *recs, size_t *at, weir_buf *arena, size_t *n, uint32_t p, const weir_record *rec)
{
    at[*n] = arena->len;
    if (weir_buf_append(arena, rec->key, rec->key_len) || weir_buf_append(arena, rec->value, rec->value_len) ||
        weir_buf_append(arena, rec->headers, rec->headers_len))
        return false;
    recs[(*n)++] = (weir_sink_record){p,    rec->offset, rec->ts_ms,          rec->key, rec->key_len,
                                      NULL, rec->value_len, rec->headers, rec->headers_len};
    return true;
}

static void close_input(sink_run *k)
{
    if (k->in_state)
        k->in_ops->close(k->in_state);
    k->in_state = NULL;
}

/* Reads the batch from the stream's runner input (see the top), opened at
 * next[] if it is not open; an error closes it. */
static int read_input(sink_run *k, weir_sink_record *recs, size_t *at, weir_buf *arena, size_t *n, weir_err *err)
{
    int rc = k->in_state ? WEIR_OK
                         : k->src->open_input(k->rel, k->next, k->nparts, NULL, &k->in_ops, &k->in_state, err);
    for (uint32_t p = 0; p < k->nparts && rc == WEIR_OK; p++) {
        weir_record rec;
        int got = 0;
        while (rc == WEIR_OK && *n < SINK_BATCH && (got = k->in_ops->next(k->in_state, p, &rec, err)) == 1)
            if (rec.offset >= k->next[p] && !take(recs, at, arena, n, p, &rec))
                rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
        if (got < 0)
            rc = -got;
        atomic_store(&k->in_ends[p], k->in_ops->end(k->in_state, p));
    }
    if (rc)
        close_input(k);
    return rc;
}

/* Copies up to SINK_BATCH records after next[] into recs/arena (*count of
 * them). at[i] keeps where record i's key starts in the arena (its value
 * follows) until the arena has stopped growing. An error: only from a
 * runner input. */
static int read_batch(sink_run *k, weir_sink_record *recs, size_t *at, weir_buf *arena, size_t *count, weir_err *err)
{
    size_t n = 0;
    arena->len = 0;
    int rc = k->src ? read_input(k, recs, at, arena, &n, err) : WEIR_OK;
    for (uint32_t p = 0; p < k->nparts && !k->src; p++) {
        weir_partition_stats ps;
        uint64_t end;
        if (deliverable(k, p, &ps, &end, err))
            continue;
        if (k->next[p] < ps.start_offset) /* retention removed what was never delivered */
            k->next[p] = ps.start_offset;
        weir_reader *r;
        if (n == SINK_BATCH || end <= k->next[p] || weir_reader_open(k->stream, p, k->next[p], &r, err))
            continue;
        weir_reader_set_end(r, end);
        weir_record rec;
        while (n < SINK_BATCH && weir_reader_next(r, &rec, err) == 1 && take(recs, at, arena, &n, p, &rec)) {
        }
        weir_reader_close(r);
    }
    for (size_t i = 0; i < n; i++) { /* the arena may have moved: point into it now */
        if (recs[i].key)
            recs[i].key = arena->data + at[i];
        recs[i].value = arena->data + at[i] + recs[i].key_len;
        if (recs[i].headers)
            recs[i].headers = recs[i].value + recs[i].value_len;
    }
    *count = n;
    return rc;
}

/* *lag = what the sink may deliver now (deliverable) beyond what the
 * destination confirmed; false if a partition could not be asked (*lag
 * counts the others). Under the sink's lock. */
static bool unconfirmed_lag(const sink_run *k, uint64_t *out)
{
    uint64_t lag = 0;
    bool known = true;
    for (uint32_t p = 0; p < k->nparts; p++) {
        weir_partition_stats ps;
        uint64_t end;
        if (k->src) { /* the input's end: all of it is deliverable */
            int64_t in_end = atomic_load(&k->in_ends[p]);
            known &= in_end >= 0;
            lag += in_end > 0 && (uint64_t)in_end > k->confirmed[p] ? (uint64_t)in_end - k->confirmed[p] : 0;
            continue;
        }
        if (deliverable(k, p, &ps, &end, NULL)) {
            known = false;
            continue;
        }
        uint64_t from = k->confirmed[p] > ps.start_offset ? k->confirmed[p] : ps.start_offset; /* retention may have cut */
        lag += end > from ? end - from : 0;
    }
    *out = lag;
    return known;
}

/* Records confirmed[] (all of it durable at the destination) in the
 * consumer group, on the sink's thread without its lock (nothing else
 * writes confirmed[]). A failure only loses a floor: resume() still knows. */
static void record_confirmed(sink_run *k)
{
    weir_err ignored;
    weir_group_commit(k->s->log, k->group, weir_stream_name(k->stream), k->confirmed, k->nparts, &ignored);
    k->settled_ns = weir_mono_ns();
}

/* After a resume(): next[] is where the destination got to. What it holds
 * beyond confirmed[] came from attempts that failed after handing records
 * over: those count as delivered now (at most as many as were handed over;
 * the rest is an earlier process's). Never back below confirmed[]: the
 * destination may show only its latest records. Under the sink's lock;
 * true when confirmed[] moved (record_confirmed, after the lock). */
static bool resumed(sink_run *k)
{
    bool moved = false;
    for (uint32_t p = 0; p < k->nparts; p++) {
        if (k->next[p] > k->confirmed[p]) {
            uint64_t got = k->next[p] - k->confirmed[p];
            k->delivered += got < k->unconfirmed[p] ? got : k->unconfirmed[p];
            k->confirmed[p] = k->next[p];
            moved = true;
        } else {
            k->next[p] = k->confirmed[p];
        }
        k->unconfirmed[p] = 0;
    }
    k->resumed = true;
    return moved;
}

static void nap(weir_runtime *s, int64_t ms)
{
    for (int64_t slept = 0; slept < ms && !s->sinks_stopping; slept += 20)
        usleep(20000);
}

static void *deliver_loop(void *arg)
{
    sink_run *k = arg;
    weir_runtime *s = k->s;
    weir_sink_record *recs = malloc(SINK_BATCH * sizeof *recs);
    size_t *at = malloc(SINK_BATCH * sizeof *at);
    weir_buf arena = {0};
    int64_t backoff = 100;
    while (recs && at && !s->sinks_stopping) {
        pthread_mutex_lock(&k->lock);
        bool failed = k->failed;
        pthread_mutex_unlock(&k->lock);
        if (failed) { /* until an operator restarts it: the failure stays what /v1/sinks shows */
            nap(s, 100);
            backoff = 100;
            continue;
        }
        weir_err err = {0};
        weir_sink_result rc = WEIR_SINK_OK;
        if (!k->resumed)
            close_input(k); /* opened again at what resume() says */
        if (!k->resumed && (rc = k->conn->resume(k->state, k->next, k->nparts, &err)) == WEIR_SINK_OK) {
            pthread_mutex_lock(&k->lock);
            bool moved = resumed(k);
            pthread_mutex_unlock(&k->lock);
            if (moved)
                record_confirmed(k);
        }
        size_t n = 0;
        bool in_flight = false, moved = false;
        if (rc == WEIR_SINK_OK) {
            if (read_batch(k, recs, at, &arena, &n, &err))
                rc = WEIR_SINK_RETRY; /* the input failed: opened again after a resume() */
        }
        if (rc == WEIR_SINK_OK) {
            /* a backlog: the connector may pipeline, but confirms at least every SETTLE_MS */
            bool more = n == SINK_BATCH && weir_mono_ns() - k->settled_ns < SETTLE_MS * 1000000ull;
            if (n || k->in_flight)
                rc = k->conn->deliver(k->state, recs, n, more, &err);
            in_flight = rc == WEIR_SINK_OK && more;
            for (size_t i = 0; i < n; i++) /* a failed call may have handed some over too: resume() will tell */
                k->unconfirmed[recs[i].partition]++;
        }
        pthread_mutex_lock(&k->lock);
        k->in_flight = in_flight;
        if (rc == WEIR_SINK_OK) {
            for (size_t i = 0; i < n; i++)
                k->next[recs[i].partition] = recs[i].offset + 1;
            if (!k->in_flight && (n || memcmp(k->confirmed, k->next, k->nparts * sizeof *k->next))) {
                /* all handed over is durable now */
                for (uint32_t p = 0; p < k->nparts; p++) {
                    k->delivered += k->unconfirmed[p];
                    k->unconfirmed[p] = 0;
                }
                memcpy(k->confirmed, k->next, k->nparts * sizeof *k->next);
                moved = true;
            }
            k->healthy = true;
            backoff = 100;
        } else {
            k->failures++;
            k->healthy = false;
            k->resumed = false; /* ask the destination again before retrying */
            k->failed = rc == WEIR_SINK_FATAL;
            snprintf(k->last_error, sizeof k->last_error, "%s", err.msg);
        }
        pthread_mutex_unlock(&k->lock);
        if (moved)
            record_confirmed(k);
        if (rc == WEIR_SINK_RETRY) {
            nap(s, backoff);
            backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
        } else if (n == 0) {
            nap(s, 50);
        }
    }
    free(recs);
    free(at);
    weir_buf_free(&arena);
    return NULL;
}

int weir_sinks_start(weir_runtime *s, const char *kafka_brokers, const char *writer, weir_err *err)
{
    const weir_catalog *cat = s->cat;
    s->sinks_stopping = false; /* again after a statement applied at runtime stopped the old ones */
    s->sinks = calloc((size_t)cat->nsinks + 1, sizeof *s->sinks);
    if (!s->sinks)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    for (int i = 0; i < cat->nsinks; i++) {
        const weir_stmt *d = cat->sinks[i];
        const weir_with_option *c = weir_stmt_option(d, "connector");
        const char *name = c && c->value.type == WEIR_TYPE_TEXT ? c->value.s : NULL;
        const weir_sink_connector *conn = name ? weir_sink_connector_find(name) : NULL;
        if (!conn) /* weir_connectors_check refused the pipeline before: a sink planned here is a bug */
            return weir_err_set(err, WEIR_EINVAL, "sink %s: no connector %s", d->name, name ? name : "given");
        if (writer && !(conn->caps & WEIR_SINK_SCALE_OUT))
            return weir_err_set(err, WEIR_EINVAL, "sink %s: scale-out: the %s connector cannot tell the rows of the group's "
                                "processes apart yet; deliver the Kafka topic of %s to it from one process instead",
                                d->name, conn->name, d->from);
        sink_run *k = calloc(1, sizeof *k);
        if (!k)
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        pthread_mutex_init(&k->lock, NULL);
        s->sinks[s->nsinks++] = k;
        k->s = s;
        k->decl = d;
        k->conn = conn;
        const weir_relation *from = weir_catalog_find(cat, d->from);
        const weir_source_connector *src = from && !writer ? weir_source_connector_of(from) : NULL;
        if (src && src->open_input && src->feeds_input && !src->feeds_input(from, d)) {
            k->src = src;
            k->rel = from;
        }
        int rc = weir_stream_open(s->log, d->from, &k->stream, err);
        if (rc)
            return rc;
        k->nparts = weir_stream_get_config(k->stream)->partitions;
        if (!(k->next = calloc(k->nparts, sizeof *k->next)) || !(k->confirmed = calloc(k->nparts, sizeof *k->confirmed)) ||
            !(k->unconfirmed = calloc(k->nparts, sizeof *k->unconfirmed)) || !(k->ends = calloc(k->nparts, sizeof *k->ends)) ||
            !(k->in_ends = calloc(k->nparts, sizeof *k->in_ends)))
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        for (uint32_t p = 0; p < k->nparts; p++)
            atomic_store(&k->in_ends[p], -1);
        snprintf(k->group, sizeof k->group, "sink.%s%s", d->name, k->src ? ".input" : "");
        if ((rc = weir_group_load(s->log, k->group, d->from, k->confirmed, k->nparts, err)))
            return rc;
        weir_sink_config cfg = {conn, d, from, k->nparts, weir_log_dir(s->log), kafka_brokers, s->opt.kafka_config, writer};
        if ((rc = conn->open(&cfg, &k->state, err)))
            return rc;
    }
    weir_sinks_publish_ends(s);
    for (int i = 0; i < s->nsinks; i++) {
        if (pthread_create(&s->sinks[i]->thread, NULL, deliver_loop, s->sinks[i]))
            return weir_err_set(err, WEIR_EIO, "cannot start the thread of sink %s", s->sinks[i]->decl->name);
        s->sinks[i]->started = true;
    }
    return WEIR_OK;
}

void weir_sinks_stop(weir_runtime *s)
{
    s->sinks_stopping = true;
    for (int i = 0; i < s->nsinks; i++) {
        sink_run *k = s->sinks[i];
        if (k->started)
            pthread_join(k->thread, NULL);
        close_input(k);
        if (k->state)
            k->conn->close(k->state);
        free(k->in_ends);
        free(k->next);
        free(k->confirmed);
        free(k->unconfirmed);
        free(k->ends);
        pthread_mutex_destroy(&k->lock);
        free(k);
    }
    free(s->sinks);
    s->sinks = NULL;
    s->nsinks = 0;
}

/* Whether the destination has confirmed everything the sink may deliver
 * now; under the sink's lock. */
static bool sink_drained(const sink_run *k)
{
    uint64_t lag;
    return unconfirmed_lag(k, &lag) && lag == 0 && k->resumed && k->healthy && !k->in_flight;
}

int weir_sinks_restart(weir_runtime *s, const char *name, weir_err *err)
{
    int rc = weir_err_set(err, WEIR_ENOENT, "no sink %s", name);
    for (int i = 0; i < s->nsinks; i++) {
        sink_run *k = s->sinks[i];
        if (strcmp(k->decl->name, name))
            continue;
        pthread_mutex_lock(&k->lock);
        if (k->failed) {
            k->failed = false; /* the thread resumes from what the destination says (resumed is false) */
            weir_err_clear(err);
            rc = WEIR_OK;
        } else {
            rc = weir_err_set(err, WEIR_EINVAL, "sink %s has not failed: it is %s", name,
                              k->healthy ? "delivering" : "retrying by itself");
        }
        pthread_mutex_unlock(&k->lock);
        break;
    }
    return rc;
}

bool weir_sinks_drained(weir_runtime *s)
{
    bool drained = true;
    for (int i = 0; i < s->nsinks; i++) {
        pthread_mutex_lock(&s->sinks[i]->lock);
        drained &= sink_drained(s->sinks[i]);
        pthread_mutex_unlock(&s->sinks[i]->lock);
    }
    return drained;
}

uint64_t weir_sinks_delivered_total(weir_runtime *s)
{
    uint64_t total = 0;
    for (int i = 0; i < s->nsinks; i++) {
        pthread_mutex_lock(&s->sinks[i]->lock);
        total += s->sinks[i]->delivered;
        pthread_mutex_unlock(&s->sinks[i]->lock);
    }
    return total;
}

uint64_t weir_sinks_delivered(void *ctx, const char *stream, uint32_t partition)
{
    weir_runtime *s = ctx;
    uint64_t least = UINT64_MAX;
    for (int i = 0; i < s->nsinks; i++) {
        sink_run *k = s->sinks[i];
        if (k->src || partition >= k->nparts || strcmp(weir_stream_name(k->stream), stream))
            continue; /* a sink reading a runner input holds back nothing of the log */
        pthread_mutex_lock(&k->lock);
        if (k->confirmed[partition] < least)
            least = k->confirmed[partition];
        pthread_mutex_unlock(&k->lock);
    }
    return least;
}

void weir_sinks_publish_ends(weir_runtime *s)
{
    for (int i = 0; i < s->nsinks; i++) {
        sink_run *k = s->sinks[i];
        for (uint32_t p = 0; p < k->nparts; p++) {
            uint64_t end;
            if (!runtime_checkpointed_end(s, weir_stream_name(k->stream), p, &end))
                end = UINT64_MAX;
            atomic_store(&k->ends[p], end);
        }
    }
}

void weir_sink_stats(sink_run *k, weir_sink_status *out)
{
    uint64_t lag; /* asked afresh: the delivery thread may be blocked in deliver() or resume() for seconds */
    pthread_mutex_lock(&k->lock);
    unconfirmed_lag(k, &lag);
    *out = (weir_sink_status){k->decl->name, k->decl->from, k->conn->name, k->delivered, k->failures, lag,
                              k->healthy, "", k->failed, k->failed ? "failed" : k->healthy ? "delivering" : "retrying"};
    snprintf(out->last_error, sizeof out->last_error, "%s", k->last_error);
    pthread_mutex_unlock(&k->lock);
}
