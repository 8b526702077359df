/*
 * api_changes.c - changes as Server-Sent Events (runtime/changes.h): one
 * stream's or table's (GET /v1/streams/{s}/changes, GET
 * /v1/tables/{t}/changes) or several at once over one connection (GET
 * /v1/changes?streams=a,b). The runtime writes the events into a streamed
 * answer, which ends when the client goes or falls 4 MiB behind (it
 * reconnects with Last-Event-ID).
 */
#include "runtime/changes.h"
#include "server/api.h"

static bool stream_write(void *ctx, const void *data, size_t len) { return weir_http_stream_write(ctx, data, len); }
static bool stream_closed(void *ctx) { return weir_http_stream_closed(ctx); }
static void stream_end(void *ctx) { weir_http_stream_release(ctx); }

/* The feed's output: the request's answer, streamed. */
static bool open_stream(void *ctx, weir_feed_out *out)
{
    weir_http_stream *stream = weir_http_stream_open(ctx, "text/event-stream", 4u << 20);
    *out = (weir_feed_out){stream_write, stream_closed, stream_end, stream};
    return stream != NULL;
}

/* GET /v1/tables/{t}/changes and GET /v1/streams/{s}/changes */
int api_changes(void *ctx, weir_http_req *req)
{
    weir_server *srv = ctx;
    const char *table = weir_http_param(req, "t");
    const char *name = table ? table : weir_http_param(req, "s");
    const weir_relation *rel = weir_catalog_find(srv->cat, name);
    if (table && (!rel || !rel->is_table)) {
        weir_http_reply_error(req, 404, "no table %s in the pipeline", name);
        return 0;
    }
    weir_answer a = {0};
    if (weir_runtime_follow(srv->rt, name, weir_http_query(req, "from"), weir_http_header(req, "Last-Event-ID"),
                            open_stream, req, &a))
        api_reply(req, &a);
    weir_answer_free(&a);
    return 0;
}

/* GET /v1/changes?streams=a,b@beginning[&from=beginning|end]: the changes
 * of several streams and tables over one connection. A name may say where
 * it starts (@beginning, @end), else ?from= does (default: the end). The
 * Last-Event-ID header, or ?last_event_id=, resumes the streams it names
 * (events since the last id may come again: ids come once per batch). */
int api_changes_many(void *ctx, weir_http_req *req)
{
    weir_server *srv = ctx;
    const char *last = weir_http_header(req, "Last-Event-ID");
    if (!last)
        last = weir_http_query(req, "last_event_id");
    weir_answer a = {0};
    if (weir_runtime_follow_many(srv->rt, weir_http_query(req, "streams"), weir_http_query(req, "from"), last,
                                 open_stream, req, &a))
        api_reply(req, &a);
    weir_answer_free(&a);
    return 0;
}
