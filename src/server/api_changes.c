/*
 * api_changes.c - changes as Server-Sent Events: one stream's or table's
 * (GET /v1/streams/{s}/changes, GET /v1/tables/{t}/changes) or several at
 * once over one connection (GET /v1/changes?streams=a,b), which is what a
 * browser page needs: it may hold only six connections to a server.
 *
 * A subscriber holds a reader per partition of each stream it follows; the
 * pipeline loop (service.c) sends it what was committed since its last turn.
 * Positions travel as event ids, so a client that reconnects (EventSource
 * sends Last-Event-ID) resumes where it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "server/api.h"

#define MAX_FOLLOWED 256   /* streams one /v1/changes connection may follow */

typedef enum start_at { START_END, START_BEGINNING } start_at;

/* Opens f's readers at the offsets `ids` lists ("12,40,3": one per
 * partition, each at most the partition's end), or when ids is NULL at the
 * stream's beginning or end. Answers the request and returns false on error. */
static bool open_readers(weir_http_req *req, followed *f, start_at from, const char *ids, size_t ids_len)
{
    const char *name = weir_stream_name(f->stream);
    if (!(f->readers = calloc(f->nparts, sizeof *f->readers))) {
        weir_http_reply_error(req, 500, "out of memory");
        return false;
    }
    const char *at = ids, *end_of_ids = ids ? ids + ids_len : NULL;
    for (uint32_t p = 0; p < f->nparts; p++) {
        weir_partition_stats ps;
        weir_err err;
        if (weir_stream_partition_stats(f->stream, p, &ps, &err)) {
            weir_http_reply_error(req, 500, "%s", err.msg);
            return false;
        }
        uint64_t off = from == START_BEGINNING ? ps.start_offset : ps.end_offset;
        if (ids) {
            char *end;
            unsigned long long got = strtoull(at, &end, 10);
            bool last = p + 1 == f->nparts;
            if (end == at || end > end_of_ids || (last ? end != end_of_ids : *end != ',') || got > ps.end_offset) {
                weir_http_reply_error(req, 400, "Last-Event-ID must list %u offsets for %s, separated by commas, each at "
                                                "most the partition's end, as the events' ids do", f->nparts, name);
                return false;
            }
            off = got < ps.start_offset ? ps.start_offset : got; /* retention may have removed the oldest */
            at = end + 1;
        }
        if (weir_reader_open(f->stream, p, off, &f->readers[p], &err)) {
            weir_http_reply_error(req, 500, "%s", err.msg);
            return false;
        }
    }
    return true;
}

/* ?from=: where streams without a position start. */
static bool parse_from(weir_http_req *req, const char *from, start_at *out)
{
    if (!from || !strcmp(from, "end"))
        *out = START_END;
    else if (!strcmp(from, "beginning"))
        *out = START_BEGINNING;
    else {
        weir_http_reply_error(req, 400, "from must be 'beginning' or 'end', not '%s'", from);
        return false;
    }
    return true;
}

static bool stream_write(void *ctx, const void *data, size_t len) { return weir_http_stream_write(ctx, data, len); }
static bool stream_closed(void *ctx) { return weir_http_stream_closed(ctx); }
static void stream_end(void *ctx) { weir_http_stream_release(ctx); }

/* Hands the subscriber to the pipeline loop, which feeds it from now on. */
static void subscribe(weir_runtime *s, weir_http_req *req, subscriber *sub)
{
    weir_http_stream *out = s->hung_up ? NULL : weir_http_stream_open(req, "text/event-stream", 4u << 20);
    if (!out) {
        if (s->hung_up) {
            weir_http_reply_header(req, "Retry-After", "5");
            weir_http_reply_error(req, 503, "weir is shutting down");
        } else {
            weir_http_reply_error(req, 500, "out of memory");
        }
        subscriber_free(sub);
        return;
    }
    sub->out = (weir_feed_out){stream_write, stream_closed, stream_end, out};
    sub->last_write_ms = weir_wall_ms();
    sub->out.write(out, "retry: 1000\n\n", 13);
    sub->next = s->subscribers;
    s->subscribers = sub;
    s->nsubscribers++;
}

/* GET /v1/tables/{t}/changes and GET /v1/streams/{s}/changes */
int api_changes(void *ctx, weir_http_req *req)
{
    weir_runtime *s = ((weir_server *)ctx)->rt;
    const char *name = weir_http_param(req, "t") ? weir_http_param(req, "t") : weir_http_param(req, "s");
    const weir_relation *rel = runtime_relation(s, name, NULL);
    if (weir_http_param(req, "t") && (!rel || !rel->is_table)) {
        weir_http_reply_error(req, 404, "no table %s in the pipeline", name);
        return 0;
    }
    start_at from;
    if (!parse_from(req, weir_http_query(req, "from"), &from))
        return 0;
    const char *last = weir_http_header(req, "Last-Event-ID");
    weir_err err = {0};
    pthread_mutex_lock(&s->lock);
    subscriber *sub = calloc(1, sizeof *sub);
    followed *f = sub ? (sub->streams = calloc(1, sizeof *sub->streams)) : NULL;
    int rc;
    if (!f) {
        weir_http_reply_error(req, 500, "out of memory");
    } else if ((rc = weir_stream_open(s->log, name, &f->stream, &err))) {
        weir_http_reply_error(req, rc == WEIR_ENOENT ? 404 : 500, "%s", err.msg);
    } else {
        sub->nstreams = 1;
        f->nparts = weir_stream_get_config(f->stream)->partitions;
        if (open_readers(req, f, from, last, last ? strlen(last) : 0)) {
            subscribe(s, req, sub);
            sub = NULL;
        }
    }
    subscriber_free(sub);
    pthread_mutex_unlock(&s->lock);
    return 0;
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
 * its suffix says. Answers the request and returns false on error. */
static bool follow(weir_runtime *s, weir_http_req *req, subscriber *sub, const char *spec, size_t len, start_at from,
                   const char *last)
{
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), spec);
    char *suffix = strchr(name, '@');
    if (suffix) {
        *suffix++ = '\0';
        if (!parse_from(req, suffix, &from))
            return false;
    }
    if (sub->nstreams == MAX_FOLLOWED) {
        weir_http_reply_error(req, 400, "one connection follows at most %d streams", MAX_FOLLOWED);
        return false;
    }
    weir_err err = {0};
    followed *f = &sub->streams[sub->nstreams];
    int rc = weir_stream_open(s->log, name, &f->stream, &err);
    if (rc) {
        weir_http_reply_error(req, rc == WEIR_ENOENT ? 404 : 500, "%s", err.msg);
        return false;
    }
    sub->nstreams++;
    f->nparts = weir_stream_get_config(f->stream)->partitions;
    size_t ids_len = 0;
    const char *ids = position_of(last, name, &ids_len);
    return open_readers(req, f, from, ids, ids_len);
}

/* GET /v1/changes?streams=a,b@beginning[&from=beginning|end]: the changes
 * of several streams and tables over one connection. A name may say where
 * it starts (@beginning, @end), else ?from= does (default: the end). The
 * Last-Event-ID header, or ?last_event_id=, resumes the streams it names
 * (events since the last id may come again: ids come once per batch). */
int api_changes_many(void *ctx, weir_http_req *req)
{
    weir_runtime *s = ((weir_server *)ctx)->rt;
    const char *list = weir_http_query(req, "streams");
    const char *last = weir_http_header(req, "Last-Event-ID");
    if (!last)
        last = weir_http_query(req, "last_event_id");
    start_at from;
    if (!parse_from(req, weir_http_query(req, "from"), &from))
        return 0;
    if (!list || !*list) {
        weir_http_reply_error(req, 400, "streams= must name the streams and tables to follow, separated by commas");
        return 0;
    }
    pthread_mutex_lock(&s->lock);
    subscriber *sub = calloc(1, sizeof *sub);
    bool fine = sub && (sub->streams = calloc(MAX_FOLLOWED, sizeof *sub->streams));
    if (fine)
        sub->named = true;
    else
        weir_http_reply_error(req, 500, "out of memory");
    for (const char *at = list; fine && *at;) {
        const char *comma = strchr(at, ',');
        size_t len = comma ? (size_t)(comma - at) : strlen(at);
        fine = follow(s, req, sub, at, len, from, last);
        at = comma ? comma + 1 : at + len;
    }
    if (fine) {
        subscribe(s, req, sub);
        sub = NULL;
    }
    subscriber_free(sub);
    pthread_mutex_unlock(&s->lock);
    return 0;
}
