/*
 * changes.c - change feeds as Server-Sent Events (see changes.h): one
 * stream's or table's, or several at once over one connection, which is
 * what a browser page needs: it may hold only six connections to a server.
 *
 * A subscriber holds a reader per partition of each stream it follows,
 * opened on the caller's thread; it is then handed to the pipeline thread
 * (the runtime's joining list), which sends it what was committed since
 * its last turn at the end of each step. Positions travel as event ids, so a client that reconnects
 * (EventSource sends Last-Event-ID) resumes where it was.
 */
#include "runtime/changes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "exec/decode.h"
#include "json/json.h"
#include "runtime/runtime_internal.h"

#define MAX_FOLLOWED 256             /* streams one feed of several may follow */
#define SSE_BATCH 1024               /* records per partition per step for one subscriber */
#define SSE_KEEPALIVE_MS 15000

/* One stream a Server-Sent Events client follows. */
typedef struct followed {
    weir_stream *stream;
    const weir_relation *table;   /* the table whose changelog it is, or NULL */
    uint32_t nparts;
    weir_reader **readers;        /* one per partition, at the next record to send */
} followed;

/* A Server-Sent Events client following one stream's records (every
 * event has an id) or several streams' (events name their stream, and
 * the id, which lists every stream's positions, comes with the last event
 * of each batch). In the runtime's list, or being made. */
struct subscriber {
    weir_feed_out out;            /* end is NULL until the feed is open */
    push_query *query;            /* a push query's filter, projection and format (push.c), or NULL */
    followed *streams;
    int nstreams;
    bool named;                   /* several streams: weir_runtime_follow_many */
    weir_runtime *counted;        /* the runtime whose nfeeds counts it (from subscribe on), or NULL */
    int64_t last_write_ms;        /* for keep-alive comments */
    struct subscriber *next;
};

/* ---- feeding ---- */

static void subscriber_free(subscriber *sub)
{
    if (!sub)
        return;
    for (int i = 0; i < sub->nstreams; i++) {
        for (uint32_t p = 0; sub->streams[i].readers && p < sub->streams[i].nparts; p++)
            weir_reader_close(sub->streams[i].readers[p]);
        free(sub->streams[i].readers);
    }
    free(sub->streams);
    push_query_free(sub->query);
    if (sub->out.end)
        sub->out.end(sub->out.ctx);
    if (sub->counted) {
        pthread_mutex_lock(&sub->counted->handoff_lock);
        sub->counted->nfeeds--;
        pthread_mutex_unlock(&sub->counted->handoff_lock);
    }
    free(sub);
}

static void drop_subscriber(weir_runtime *s, subscriber **link)
{
    subscriber *sub = *link;
    *link = sub->next;
    subscriber_free(sub);
    s->nsubscribers--;
}

/* The event id: every partition's next offset ("12,40,3"), so Last-Event-ID
 * resumes exactly; for several streams "name:12,40,3;name2:0". */
static int put_event_id(weir_buf *b, const subscriber *sub)
{
    int rc = weir_buf_append_str(b, "id: ");
    for (int i = 0; i < sub->nstreams && !rc; i++) {
        const followed *f = &sub->streams[i];
        if (sub->named)
            rc = weir_buf_printf(b, "%s%s:", i ? ";" : "", weir_stream_name(f->stream));
        for (uint32_t p = 0; p < f->nparts && !rc; p++)
            rc = weir_buf_printf(b, "%s%llu", p ? "," : "", (unsigned long long)weir_reader_position(f->readers[p]));
    }
    return rc || weir_buf_append_str(b, "\n");
}

/* Puts an id before the event that starts at byte `at` of b. */
static int insert_event_id(weir_buf *b, size_t at, const subscriber *sub)
{
    weir_buf id = {0};
    int rc = put_event_id(&id, sub) || weir_buf_append(b, id.data, id.len); /* grows b by the id's length */
    if (!rc) {
        memmove(b->data + at + id.len, b->data + at, b->len - id.len - at);
        memcpy(b->data + at, id.data, id.len);
    }
    weir_buf_free(&id);
    return rc;
}

/* A change's row: the record's value, or for a table's tombstone null
 * and "removed", the primary key of the row that left ({"number":5}). */
static int put_row(weir_buf *b, const followed *f, const weir_record *rec)
{
    if (rec->value_len || !f->table)
        return weir_buf_append_str(b, "\"row\":") || weir_buf_append(b, rec->value, rec->value_len);
    return weir_buf_append_str(b, "\"row\":null,\"removed\":") ||
           weir_table_key_json(f->table, (const char *)rec->key, rec->key_len, b);
}

/* A change feed's event for record rec of partition p of f (a push
 * query's are push.c's). */
static int put_change(weir_buf *b, const subscriber *sub, const followed *f, uint32_t p, const weir_record *rec)
{
    const char *name = weir_stream_name(f->stream);
    return (!sub->named && put_event_id(b, sub)) || weir_buf_append_str(b, "event: change\ndata: {") ||
           (sub->named && (weir_buf_append_str(b, "\"stream\":") || weir_json_quote(b, name, strlen(name)) ||
                           weir_buf_append_str(b, ","))) ||
           weir_buf_printf(b, "\"partition\":%u,\"offset\":%llu,\"timestamp\":%lld,", p,
                           (unsigned long long)rec->offset, (long long)rec->ts_ms) ||
           put_row(b, f, rec) || weir_buf_append_str(b, "}\n\n");
}

/* Sends a subscriber the records committed since its last turn; false
 * when its feed is over (the client is gone, or a push query's LIMIT is
 * reached). */
static bool feed(subscriber *sub, int64_t now_ms, weir_buf *b)
{
    b->len = 0;
    size_t last_event = 0;
    int limit_reached = 0;
    for (int i = 0; i < sub->nstreams && !limit_reached; i++) {
        const followed *f = &sub->streams[i];
        for (uint32_t p = 0; p < f->nparts && !limit_reached; p++) {
            weir_record rec;
            weir_err err;
            for (int k = 0; k < SSE_BATCH && !limit_reached && weir_reader_next(f->readers[p], &rec, &err) == 1; k++) {
                last_event = b->len;
                if (sub->query ? (limit_reached = push_put_record(sub->query, p, &rec, b)) < 0
                               : put_change(b, sub, f, p, &rec) != 0)
                    return false;
            }
        }
    }
    if (b->len && sub->named && insert_event_id(b, last_event, sub))
        return false;
    if (!b->len && now_ms - sub->last_write_ms >= SSE_KEEPALIVE_MS &&
        weir_buf_append_str(b, sub->query ? push_keepalive(sub->query) : ": keep-alive\n\n"))
        return false;
    if (!b->len)
        return true;
    sub->last_write_ms = now_ms;
    return sub->out.write(sub->out.ctx, b->data, b->len) && !limit_reached;
}

void runtime_feed_changes(weir_runtime *s, int64_t now_ms)
{
    pthread_mutex_lock(&s->handoff_lock);
    while (s->joining) {
        subscriber *sub = s->joining;
        s->joining = sub->next;
        sub->next = s->subscribers;
        s->subscribers = sub;
        s->nsubscribers++;
    }
    pthread_mutex_unlock(&s->handoff_lock);
    weir_buf b = {0};
    for (subscriber **link = &s->subscribers; *link;) {
        if ((*link)->out.closed((*link)->out.ctx) || !feed(*link, now_ms, &b))
            drop_subscriber(s, link);
        else
            link = &(*link)->next;
    }
    weir_buf_free(&b);
}

/* Whether sub follows stream st (NULL: any). */
static bool follows(const subscriber *sub, const weir_stream *st)
{
    for (int i = 0; st && i < sub->nstreams; i++)
        if (sub->streams[i].stream == st)
            return true;
    return !st;
}

void runtime_end_feeds_of(weir_runtime *s, const weir_stream *st)
{
    pthread_mutex_lock(&s->handoff_lock);
    subscriber *joining = s->joining, *kept = NULL, **kept_tail = &kept;
    s->joining = NULL;
    pthread_mutex_unlock(&s->handoff_lock);
    while (joining) { /* freed outside the lock: subscriber_free takes it to count */
        subscriber *next = joining->next;
        if (follows(joining, st)) {
            subscriber_free(joining);
        } else {
            joining->next = NULL;
            *kept_tail = joining;
            kept_tail = &joining->next;
        }
        joining = next;
    }
    pthread_mutex_lock(&s->handoff_lock);
    *kept_tail = s->joining; /* those that joined meanwhile come after */
    s->joining = kept;
    pthread_mutex_unlock(&s->handoff_lock);
    for (subscriber **link = &s->subscribers; *link;)
        if (follows(*link, st))
            drop_subscriber(s, link);
        else
            link = &(*link)->next;
}

void runtime_end_feeds(weir_runtime *s) { runtime_end_feeds_of(s, NULL); }

/* The least position of sub's reader of st's partition p into *least. */
static void least_position(const subscriber *sub, const weir_stream *st, uint32_t p, uint64_t *least)
{
    for (int i = 0; i < sub->nstreams; i++)
        if (sub->streams[i].stream == st && sub->streams[i].readers && p < sub->streams[i].nparts &&
            sub->streams[i].readers[p] && weir_reader_position(sub->streams[i].readers[p]) < *least)
            *least = weir_reader_position(sub->streams[i].readers[p]);
}

uint64_t runtime_feeds_position(weir_runtime *s, const weir_stream *st, uint32_t p)
{
    uint64_t least = UINT64_MAX;
    pthread_mutex_lock(&s->handoff_lock); /* a joining feed's thread handed it over whole: its readers stay put */
    for (const subscriber *sub = s->joining; sub; sub = sub->next)
        least_position(sub, st, p, &least);
    pthread_mutex_unlock(&s->handoff_lock);
    for (const subscriber *sub = s->subscribers; sub; sub = sub->next)
        least_position(sub, st, p, &least);
    return least;
}

/* ---- subscribing ---- */

static const weir_relation *table_named(const weir_runtime *s, const char *name)
{
    const weir_relation *r = runtime_relation(s, name, NULL);
    return r && r->is_table ? r : NULL;
}

typedef enum start_at { START_END, START_BEGINNING } start_at;

/* Opens f's readers at the offsets `ids` lists ("12,40,3": one per
 * partition, each at most the partition's end), or when ids is NULL at the
 * stream's beginning or end. false with the refusal in *a. */
static bool open_readers(weir_answer *a, followed *f, start_at from, const char *ids, size_t ids_len)
{
    const char *name = weir_stream_name(f->stream);
    if (!(f->readers = calloc(f->nparts, sizeof *f->readers))) {
        answer_error(a, 500, "out of memory");
        return false;
    }
    const char *at = ids, *end_of_ids = ids ? ids + ids_len : NULL;
    for (uint32_t p = 0; p < f->nparts; p++) {
        weir_partition_stats ps;
        weir_err err;
        if (weir_stream_partition_stats(f->stream, p, &ps, &err)) {
            answer_error(a, 500, "%s", err.msg);
            return false;
        }
        uint64_t off = from == START_BEGINNING ? ps.start_offset : ps.end_offset;
        if (ids) {
            char *end;
            unsigned long long got = strtoull(at, &end, 10);
            bool last = p + 1 == f->nparts;
            if (end == at || end > end_of_ids || (last ? end != end_of_ids : *end != ',') || got > ps.end_offset) {
                answer_error(a, 400, "Last-Event-ID must list %u offsets for %s, separated by commas, each at most the "
                                     "partition's end, as the events' ids do", f->nparts, name);
                return false;
            }
            off = got < ps.start_offset ? ps.start_offset : got; /* retention may have removed the oldest */
            at = end + 1;
        }
        if (weir_reader_open(f->stream, p, off, &f->readers[p], &err)) {
            answer_error(a, 500, "%s", err.msg);
            return false;
        }
    }
    return true;
}

/* from: where streams without a position start ("beginning", "end" or NULL: the end). */
static bool parse_from(weir_answer *a, const char *from, start_at *out)
{
    if (!from || !strcmp(from, "end"))
        *out = START_END;
    else if (!strcmp(from, "beginning"))
        *out = START_BEGINNING;
    else {
        answer_error(a, 400, "from must be 'beginning' or 'end', not '%s'", from);
        return false;
    }
    return true;
}

/* Counts sub among the open feeds, unless --max-feeds of them are open
 * (each holds a connection and readers, and costs the pipeline thread a
 * turn every step) or weir is shutting down: false with the refusal in
 * *a. */
static bool count_feed(weir_runtime *s, subscriber *sub, weir_answer *a)
{
    unsigned cap = s->opt.max_feeds ? s->opt.max_feeds : WEIR_DEFAULT_MAX_FEEDS;
    pthread_mutex_lock(&s->handoff_lock);
    bool hung_up = s->hung_up, full = s->nfeeds >= cap;
    if (!hung_up && !full) {
        s->nfeeds++;
        sub->counted = s;
    }
    pthread_mutex_unlock(&s->handoff_lock);
    if (hung_up)
        answer_error(a, 503, "weir is shutting down");
    else if (full)
        answer_error(a, 503, "%u change feeds and push queries are open, as many as weir serve --max-feeds allows: "
                             "close one, or start weir serve with a larger --max-feeds", cap);
    if (hung_up || full)
        a->retry_after_s = 5;
    return !hung_up && !full;
}

/* Opens the feed's output, writes its first bytes (greeting) and hands
 * the subscriber to the pipeline thread, which feeds it from its next step
 * on; false with the refusal in *a (sub freed). A hang-up that comes
 * between the two ends the feed just opened: handed over under
 * handoff_lock, a feed is ended by the hang-up or the hang-up came first. */
static bool subscribe(weir_runtime *s, subscriber *sub, const char *greeting, size_t greeting_len, weir_feed_open open,
                      void *open_ctx, weir_answer *a)
{
    bool counted = count_feed(s, sub, a);
    if (!counted || !open(open_ctx, &sub->out)) {
        if (counted)
            answer_error(a, 500, "out of memory");
        sub->out = (weir_feed_out){0};
        subscriber_free(sub);
        return false;
    }
    sub->last_write_ms = weir_wall_ms();
    sub->out.write(sub->out.ctx, greeting, greeting_len);
    pthread_mutex_lock(&s->handoff_lock);
    if (!s->hung_up) {
        sub->next = s->joining;
        s->joining = sub;
        sub = NULL;
        pthread_cond_signal(&s->wake);
    }
    pthread_mutex_unlock(&s->handoff_lock);
    subscriber_free(sub);
    return true;
}

/* The first bytes of a change feed: how long an EventSource waits before it reconnects. */
#define SSE_GREETING "retry: 1000\n\n"

int weir_runtime_follow(weir_runtime *s, const char *name, const char *from, const char *last, weir_feed_open open,
                        void *open_ctx, weir_answer *a)
{
    return runtime_follow(s, name, from, last, NULL, SSE_GREETING, strlen(SSE_GREETING), open, open_ctx, a);
}

int runtime_follow(weir_runtime *s, const char *name, const char *from_text, const char *last, push_query *query,
                   const char *greeting, size_t greeting_len, weir_feed_open open, void *open_ctx, weir_answer *a)
{
    start_at from;
    if (!parse_from(a, from_text, &from)) {
        push_query_free(query);
        return -1;
    }
    weir_err err = {0};
    bool fine = false;
    subscriber *sub = calloc(1, sizeof *sub);
    followed *f = sub ? (sub->streams = calloc(1, sizeof *sub->streams)) : NULL;
    if (sub)
        sub->query = query;
    else
        push_query_free(query);
    int rc;
    if (!f) {
        answer_error(a, 500, "out of memory");
    } else if ((rc = weir_stream_open(s->log, name, &f->stream, &err))) {
        answer_error(a, rc == WEIR_ENOENT ? 404 : 500, "%s", err.msg);
    } else {
        sub->nstreams = 1;
        f->nparts = weir_stream_get_config(f->stream)->partitions;
        f->table = table_named(s, name);
        if (open_readers(a, f, from, last, last ? strlen(last) : 0)) {
            fine = subscribe(s, sub, greeting, greeting_len, open, open_ctx, a);
            sub = NULL;
        }
    }
    subscriber_free(sub);
    return fine ? 0 : -1;
}

/* The offsets Last-Event-ID ("a:1,2;b:0") gives stream `name`, or NULL. */
static const char *position_of(const char *last, const char *name, size_t *len)
{
    size_t n = strlen(name);
    for (const char *at = last; at && *at;) {
        const char *end = strchr(at, ';');
        if (!end)
            end = at + strlen(at);
        if ((size_t)(end - at) > n && !strncmp(at, name, n) && at[n] == ':') {
            *len = (size_t)(end - at) - n - 1;
            return at + n + 1;
        }
        at = *end ? end + 1 : end;
    }
    return NULL;
}

/* Adds the stream `spec` names ("name", "name@beginning" or "name@end")
 * to sub, at the position Last-Event-ID gives it, else where `from` or
 * its suffix says. false with the refusal in *a. */
static bool follow(weir_runtime *s, weir_answer *a, subscriber *sub, const char *spec, size_t len, start_at from,
                   const char *last)
{
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), spec);
    char *suffix = strchr(name, '@');
    if (suffix) {
        *suffix++ = '\0';
        if (!parse_from(a, suffix, &from))
            return false;
    }
    if (sub->nstreams == MAX_FOLLOWED) {
        answer_error(a, 400, "one connection follows at most %d streams", MAX_FOLLOWED);
        return false;
    }
    weir_err err = {0};
    followed *f = &sub->streams[sub->nstreams];
    int rc = weir_stream_open(s->log, name, &f->stream, &err);
    if (rc) {
        answer_error(a, rc == WEIR_ENOENT ? 404 : 500, "%s", err.msg);
        return false;
    }
    sub->nstreams++;
    f->nparts = weir_stream_get_config(f->stream)->partitions;
    f->table = table_named(s, name);
    size_t ids_len = 0;
    const char *ids = position_of(last, name, &ids_len);
    return open_readers(a, f, from, ids, ids_len);
}

int weir_runtime_follow_many(weir_runtime *s, const char *list, const char *from_text, const char *last,
                             weir_feed_open open, void *open_ctx, weir_answer *a)
{
    start_at from;
    if (!parse_from(a, from_text, &from))
        return -1;
    if (!list || !*list) {
        answer_error(a, 400, "streams= must name the streams and tables to follow, separated by commas");
        return -1;
    }
    subscriber *sub = calloc(1, sizeof *sub);
    bool fine = sub && (sub->streams = calloc(MAX_FOLLOWED, sizeof *sub->streams));
    if (fine)
        sub->named = true;
    else
        answer_error(a, 500, "out of memory");
    for (const char *at = list; fine && *at;) {
        const char *comma = strchr(at, ',');
        size_t len = comma ? (size_t)(comma - at) : strlen(at);
        fine = follow(s, a, sub, at, len, from, last);
        at = comma ? comma + 1 : at + len;
    }
    if (fine) {
        fine = subscribe(s, sub, SSE_GREETING, strlen(SSE_GREETING), open, open_ctx, a);
        sub = NULL;
    }
    subscriber_free(sub);
    return fine ? 0 : -1;
}
