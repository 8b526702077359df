/*
 * http_answer.c - answering requests: at once, later from another thread
 * (a deferred request sleeps until then), or as a stream other threads
 * feed (Server-Sent Events). See http.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "server/http_internal.h"

/* ---- answering ---- */

void weir_http_reply_header(weir_http_req *r, const char *name, const char *value)
{
    if (weir_buf_append(&r->headers, name, strlen(name) + 1) || weir_buf_append(&r->headers, value, strlen(value) + 1))
        r->headers.len = 0; /* out of memory: the answer goes without its extra headers */
}

void http_add_headers(weir_http_req *r, struct MHD_Response *resp, const char *content_type)
{
    if (content_type)
        MHD_add_response_header(resp, "Content-Type", content_type);
    if (r->cors) {
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", r->server->opt.cors_origin);
        MHD_add_response_header(resp, "Vary", "Origin");
    }
    for (size_t at = 0; at < r->headers.len;) {
        const char *name = (const char *)r->headers.data + at;
        const char *value = name + strlen(name) + 1;
        MHD_add_response_header(resp, name, value);
        at = (size_t)(value + strlen(value) + 1 - (const char *)r->headers.data);
    }
}

void http_wake(weir_http *h, weir_http_req *r)
{
    weir_http_req **p = &h->suspended;
    while (*p && *p != r)
        p = &(*p)->next_suspended;
    if (*p)
        *p = r->next_suspended;
    MHD_resume_connection(r->conn);
}

/* Stores the answer; a deferred request is woken to send it, unless its
 * handler still runs on a worker (then the worker wakes it). */
void http_set_answer(weir_http_req *r, int status, struct MHD_Response *resp, req_state state)
{
    weir_http *h = r->server;
    pthread_mutex_lock(&h->lock);
    bool was_deferred = r->state == DEFERRED, held = r->job && r->job->running;
    if (held) {
        r->job->answer_held = true;
    } else if (r->job) { /* the worker must not touch the request once it is answered */
        r->job->released = true;
        r->job = NULL;
    }
    if (r->response) /* answered twice: a bug; keep the first */
        MHD_destroy_response(resp);
    else {
        r->response = resp;
        r->status = status;
        r->state = state;
    }
    if (was_deferred && !held)
        http_wake(h, r);
    pthread_mutex_unlock(&h->lock);
}

void weir_http_reply(weir_http_req *r, int status, const char *content_type, const void *body, size_t len)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp) { /* out of memory: the connection is closed without an answer */
        http_set_answer(r, 500, NULL, ANSWERED);
        return;
    }
    http_add_headers(r, resp, content_type);
    http_set_answer(r, status, resp, ANSWERED);
}

void weir_http_reply_error(weir_http_req *r, int status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    weir_buf b = {0};
    int rc = weir_buf_append_str(&b, "{\"error\":") || weir_json_quote(&b, msg, strlen(msg)) || weir_buf_append_str(&b, "}\n");
    weir_http_reply(r, status, "application/json", rc ? "" : (const char *)b.data, rc ? 0 : b.len);
    weir_buf_free(&b);
}

/* A request a handler thread runs is deferred already (http_run_handler,
 * on the HTTP thread, which is where libmicrohttpd allows a suspend);
 * deferring it again changes nothing. */
void weir_http_defer(weir_http_req *r)
{
    weir_http *h = r->server;
    pthread_mutex_lock(&h->lock);
    if (r->state == DEFERRED) {
        pthread_mutex_unlock(&h->lock);
        return;
    }
    r->deferred = true;
    r->state = DEFERRED;
    r->next_suspended = h->suspended;
    h->suspended = r;
    MHD_suspend_connection(r->conn);
    pthread_mutex_unlock(&h->lock);
}

/* ---- streams ---- */

static void stream_unref(weir_http_stream *s)
{
    bool last = --s->refs == 0;
    pthread_mutex_unlock(&s->lock);
    if (last) {
        pthread_mutex_destroy(&s->lock);
        weir_buf_free(&s->pending);
        free(s);
    }
}

void http_stream_wake(weir_http_stream *s)
{
    if (s->suspended) {
        s->suspended = false;
        MHD_resume_connection(s->conn);
    }
}

/* libmicrohttpd asks for the next bytes of a streamed answer. */
static ssize_t stream_read(void *ctx, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    weir_http_stream *s = ctx;
    pthread_mutex_lock(&s->lock);
    ssize_t n;
    size_t avail = s->pending.len - s->sent;
    if (avail) {
        n = (ssize_t)(avail < max ? avail : max);
        memcpy(out, s->pending.data + s->sent, (size_t)n);
        s->sent += (size_t)n;
        if (s->sent == s->pending.len)
            s->sent = s->pending.len = 0;
    } else if (s->ended || s->closed) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else { /* nothing yet: sleep until a write wakes the connection */
        s->suspended = true;
        MHD_suspend_connection(s->conn);
        n = 0;
    }
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* libmicrohttpd is done with the answer (sent, or the client left). */
static void stream_done(void *ctx)
{
    weir_http_stream *s = ctx;
    weir_http *h = s->server;
    pthread_mutex_lock(&h->lock);
    weir_http_stream **p = &h->streams;
    while (*p && *p != s)
        p = &(*p)->next;
    if (*p)
        *p = s->next;
    pthread_mutex_unlock(&h->lock);
    pthread_mutex_lock(&s->lock);
    s->closed = true;
    s->suspended = false; /* the connection is gone */
    stream_unref(s);
}

weir_http_stream *weir_http_stream_open(weir_http_req *r, const char *content_type, size_t max_buffered)
{
    weir_http_stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    pthread_mutex_init(&s->lock, NULL);
    s->conn = r->conn;
    s->max_buffered = max_buffered;
    s->refs = 2;
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, s, stream_done);
    if (!resp) {
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
    }
    http_add_headers(r, resp, content_type);
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    s->server = r->server;
    pthread_mutex_lock(&r->server->lock);
    s->next = r->server->streams;
    r->server->streams = s;
    pthread_mutex_unlock(&r->server->lock);
    http_set_answer(r, 200, resp, STREAMING);
    return s;
}

bool weir_http_stream_write(weir_http_stream *s, const void *data, size_t len)
{
    pthread_mutex_lock(&s->lock);
    bool ok = !s->closed && !s->ended;
    if (ok && s->pending.len - s->sent + len > s->max_buffered) { /* too slow: end it, it may resume */
        s->ended = true;
        ok = false;
    }
    if (ok && weir_buf_append(&s->pending, data, len)) {
        s->ended = true;
        ok = false;
    }
    http_stream_wake(s);
    pthread_mutex_unlock(&s->lock);
    return ok;
}

bool weir_http_stream_closed(weir_http_stream *s)
{
    pthread_mutex_lock(&s->lock);
    bool closed = s->closed || s->ended;
    pthread_mutex_unlock(&s->lock);
    return closed;
}

void weir_http_stream_release(weir_http_stream *s)
{
    pthread_mutex_lock(&s->lock);
    s->ended = true;
    if (!s->closed)
        http_stream_wake(s);
    stream_unref(s);
}

