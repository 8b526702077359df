/*
 * http.h - weir's HTTP/1.1 server: routing by method and path template,
 * bearer-token auth, bounded requests, deferred answers and streamed
 * (Server-Sent Events) answers, on libmicrohttpd.
 *
 * libmicrohttpd was chosen by measurement (BENCHMARKS.md, "HTTP library"):
 * as fast as h2o on one thread, a thread pool that uses both cores without
 * code of ours, and suspend/resume, which is what lets an ingest request
 * wait for the log's group commit without holding a thread.
 *
 * Handlers of public routes run on the server's two HTTP threads; every
 * other handler on a handler thread (http_work.c), so that waiting for a
 * lock never stalls the HTTP threads. A handler answers at once
 * (weir_http_reply*), or returns WEIR_HTTP_DEFERRED after handing the
 * request to another thread, which answers later with weir_http_reply*
 * (the connection sleeps meanwhile), or opens a stream. Handlers that
 * compute (pull queries) move on to a query thread with
 * weir_http_offload, so they hold up neither ingest nor streams.
 *
 * The server defends itself before any handler runs (README, "Security
 * model"): a deadline for a request's headers and one for its body (the
 * watchdog thread closes connections that miss them), a connection limit
 * per client address, a cap on the URI and its arguments (414), the token,
 * the Host and the Origin checked on the headers alone, so that a refused
 * request's body is never read, and conflicting framing (two
 * Content-Lengths, a NUL in the URI) refused with 400.
 */
#ifndef WEIR_HTTP_H
#define WEIR_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

typedef struct weir_http weir_http;
typedef struct weir_http_req weir_http_req;
typedef struct weir_http_stream weir_http_stream;

#define WEIR_HTTP_MAX_PARAMS 8
#define WEIR_HTTP_DEFERRED 1
/* A longer request URI, or one with more query arguments, is answered 414
 * (nginx's large_client_header_buffers is 8k too). */
#define WEIR_HTTP_MAX_URI 8192
#define WEIR_HTTP_MAX_ARGS 256

/* A handler: returns 0 after answering, WEIR_HTTP_DEFERRED when the answer
 * comes later from another thread. */
typedef int (*weir_http_handler)(void *ctx, weir_http_req *req);

typedef struct weir_http_route {
    const char *method;        /* "GET", "POST", ... */
    const char *path;          /* template: /v1/tables/{t}/changes; a trailing {*} matches the rest */
    weir_http_handler handler;
    void *ctx;
    const char *summary;       /* for /openapi.json */
    bool public;               /* reachable without the token (/healthz, the dashboard's files) */
    const char *body_type;     /* the request body's media type, or NULL: for /openapi.json */
    const char *answer_type;   /* the answer's media type */
} weir_http_route;

typedef struct weir_http_options {
    const char *listen;        /* "HOST:PORT"; NULL: 127.0.0.1:8080 */
    const char *token;         /* when set, every non-public route needs "Authorization: Bearer TOKEN" */
    const char *tls_cert;      /* with tls_key: serve HTTPS with this PEM certificate (chain) file; NULL: HTTP */
    const char *tls_key;       /* the PEM file of its private key */
    size_t max_body;           /* bytes; 0: 64 MiB */
    size_t max_bodies;         /* bytes of all request bodies held at once (then 503); 0: 1 GiB */
    unsigned threads;          /* 0: 2 */
    unsigned timeout_s;        /* an idle connection is closed after this; 0: 30 */
    unsigned header_timeout_s; /* a request's headers must be in this long after the connection or the previous
                                  answer, else the connection is closed; 0: 10 */
    unsigned body_timeout_s;   /* a request's body must be in this long after its headers; 0: 60 */
    unsigned max_connections;  /* 0: 4096 */
    unsigned max_per_address;  /* connections from one client address; 0: 256 */
    const char *cors_origin;   /* the one origin allowed to call weir from a browser (CORS); NULL: none */
    unsigned workers;          /* query threads (running offloaded handlers); 0: 2 */
    unsigned max_queued;       /* offloaded requests waiting for a worker; beyond, 503; 0: 64 */
    /* limits the query handlers apply (api_query.c) */
    unsigned query_timeout_s;  /* a pull query's answer must be ready this long after its request; 0: 30 */
    size_t max_result_bytes;   /* the most a pull query may hold or answer; 0: 64 MiB */
    /* Called around every handler but the public ones, on whichever thread runs it (NULL:
     * none): what handlers use may be replaced while none runs. */
    void (*gate_enter)(void *ctx);
    void (*gate_leave)(void *ctx);
    void *gate_ctx;
} weir_http_options;

int weir_http_start(const weir_http_options *opt, const weir_http_route *routes, int nroutes, weir_http **out,
                    weir_err *err);
/* Replaces the route table (borrowed until the stop, as the first: a
 * request may have matched the old one and run later). */
void weir_http_set_routes(weir_http *h, const weir_http_route *routes, int nroutes);
/* Answers every deferred request with 503, ends every stream, closes. */
void weir_http_stop(weir_http *h);
/* The port actually bound (for listen ":0"). */
uint16_t weir_http_port(const weir_http *h);
/* "http://ADDRESS:PORT" for a --listen value and the port bound: the
 * address it means (":8080" and "localhost:8080" mean 127.0.0.1; 0.0.0.0,
 * every interface, stays). Fails as weir_http_start would on a bad value. */
int weir_http_listen_url(const char *listen, uint16_t port, bool tls, char *out, size_t cap, weir_err *err);


/* ---- the request ---- */
const char *weir_http_path(const weir_http_req *r);
/* A path parameter of the route's template ({name}), or NULL. */
const char *weir_http_param(const weir_http_req *r, const char *name);
/* A query-string argument or a header, or NULL. */
const char *weir_http_query(const weir_http_req *r, const char *name);
const char *weir_http_header(const weir_http_req *r, const char *name);
/* Walks the query-string arguments: false after the last. */
bool weir_http_query_next(weir_http_req *r, int *pos, const char **name, const char **value);
const uint8_t *weir_http_body(const weir_http_req *r, size_t *len);
const weir_http_route *weir_http_route_of(const weir_http_req *r);

/* Puts the request to sleep until another thread answers it; call from
 * the handler, before handing the request over, and return
 * WEIR_HTTP_DEFERRED. */
void weir_http_defer(weir_http_req *r);

/* Runs fn(ctx, r) on one of the server's worker threads instead of this
 * HTTP thread, deferring the request; fn answers as a handler does (it
 * must not defer again). When max_queued requests wait already, answers
 * 503 at once. Returns what the handler calling it returns. */
int weir_http_offload(weir_http_req *r, weir_http_handler fn, void *ctx);
/* When the request's headers arrived (weir_mono_ns), for deadlines. */
uint64_t weir_http_started_ns(const weir_http_req *r);
/* The server's options in force (defaults filled in). */
const weir_http_options *weir_http_options_of(const weir_http_req *r);
/* Whether the server is stopping: long work for a request should end. */
bool weir_http_stopping(const weir_http_req *r);

/* ---- answering (once per request; from any thread for a deferred one) ---- */
void weir_http_reply(weir_http_req *r, int status, const char *content_type, const void *body, size_t len);
/* {"error": "message"} with status; extra headers such as Retry-After via weir_http_reply_header first. */
void weir_http_reply_error(weir_http_req *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Adds a header to the coming answer (call before weir_http_reply*). */
void weir_http_reply_header(weir_http_req *r, const char *name, const char *value);

/* ---- streamed answers ---- */
/* Opens a chunked answer that other threads feed; at most max_buffered
 * bytes wait for a slow client, beyond that the stream ends (the client
 * reconnects, e.g. with Last-Event-ID). The stream holds one reference for
 * the caller, released with weir_http_stream_release. */
weir_http_stream *weir_http_stream_open(weir_http_req *r, const char *content_type, size_t max_buffered);
/* Queues bytes; false when the stream is closed (client gone or too slow). */
bool weir_http_stream_write(weir_http_stream *s, const void *data, size_t len);
bool weir_http_stream_closed(weir_http_stream *s);
/* Ends the answer (the client sees the end) and drops the caller's reference. */
void weir_http_stream_release(weir_http_stream *s);

/* ---- what the server did, for /metrics ---- */
#define WEIR_HTTP_LATENCY_BUCKETS 12
typedef struct weir_http_stats {
    uint64_t by_status[6][100];   /* [code / 100][code % 100] */
    uint64_t latency_le[WEIR_HTTP_LATENCY_BUCKETS]; /* cumulative counts, bounds below */
    uint64_t latency_count;
    double latency_sum_s;
    uint64_t open_connections;
    uint64_t deadline_closes;     /* connections closed for missing the header or body deadline */
} weir_http_stats;
extern const double weir_http_latency_bounds[WEIR_HTTP_LATENCY_BUCKETS]; /* seconds; the last is +Inf */
void weir_http_get_stats(const weir_http *h, weir_http_stats *out);

/* Matches path against a template; fills names/values (pointing into
 * the template and into `scratch`, a copy of path); false if no match.
 * Exposed for the fuzz target and the route table. */
bool weir_http_match(const char *tmpl, const char *path, char *scratch, size_t scratch_cap,
                     const char **names, size_t *name_lens, const char **values, int *nparams);

/* Whether a URL path names a plain file: letters, digits, '_', '-', '.'
 * and single '/', no segment starting with '.' (so no "..", no hidden
 * files). The dashboard's files are served only for such paths. */
bool weir_http_plain_path(const char *path);

#endif
