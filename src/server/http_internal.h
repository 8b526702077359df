/*
 * http_internal.h - the server's state, shared by http.c (the server,
 * routing, the request) and http_answer.c (answers and streams). Not for
 * use outside them.
 */
#ifndef WEIR_HTTP_INTERNAL_H
#define WEIR_HTTP_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

#include "server/http.h"

struct weir_http {
    struct MHD_Daemon *daemon;
    weir_http_options opt;
    const weir_http_route *routes;
    int nroutes;
    pthread_mutex_t lock;          /* the suspended list and the stats */
    weir_http_req *suspended;      /* deferred requests, answered with 503 on stop */
    weir_http_stream *streams;     /* open streams, ended on stop */
    _Atomic size_t body_bytes;     /* request bodies held in memory, all connections together */
    bool stopping;
    weir_http_stats stats;
};

typedef enum req_state { RECEIVING, DEFERRED, ANSWERED, STREAMING } req_state;

struct weir_http_req {
    weir_http *server;
    struct MHD_Connection *conn;
    const weir_http_route *route;
    const char *method;
    char *path;                    /* the decoded path, and a copy holding the parameters' values */
    char *scratch;
    const char *names[WEIR_HTTP_MAX_PARAMS];
    size_t name_lens[WEIR_HTTP_MAX_PARAMS];
    const char *values[WEIR_HTTP_MAX_PARAMS];
    int nparams;
    weir_buf body;
    bool too_large;
    bool overloaded;               /* the bodies of all requests together would pass max_bodies */
    uint64_t start_ns;
    req_state state;
    bool deferred;                 /* the handler deferred it (set once, by the handler's thread) */
    /* the answer */
    int status;
    struct MHD_Response *response;
    weir_buf headers;              /* "name\0value\0" pairs added before the answer */
    weir_http_req *next_suspended;
};

struct weir_http_stream {
    pthread_mutex_t lock;
    weir_http *server;
    weir_http_stream *next;        /* in server->streams while libmicrohttpd holds it */
    struct MHD_Connection *conn;
    weir_buf pending;
    size_t sent;                   /* of pending */
    size_t max_buffered;
    bool suspended, ended, closed;
    int refs;                      /* the caller's and libmicrohttpd's */
};

/* Stores an answer (NULL resp: none could be made); wakes a deferred request. */
void http_set_answer(weir_http_req *r, int status, struct MHD_Response *resp, req_state state);
void http_add_headers(weir_http_req *r, struct MHD_Response *resp, const char *content_type);
/* Resumes a stream's connection if it sleeps; under s->lock. */
void http_stream_wake(weir_http_stream *s);

#endif
