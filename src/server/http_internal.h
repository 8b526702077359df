/*
 * http_internal.h - the server's state, shared by http.c (the server,
 * routing, the request) and http_answer.c (answers and streams). Not for
 * use outside them.
 */
#ifndef WEIR_HTTP_INTERNAL_H
#define WEIR_HTTP_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>
#include <netinet/in.h>
#include <stdatomic.h>

#include "server/http.h"

/* One TCP connection, from libmicrohttpd's connection notifications. The
 * watchdog shuts down the socket of a connection past its deadline; it
 * does so under conns_lock, and the close notification unlinks the
 * connection under the same lock before libmicrohttpd closes the socket,
 * so the watchdog never touches a descriptor that was reused. */
typedef struct http_conn {
    int fd;
    _Atomic uint64_t deadline_ns;  /* weir_mono_ns time its headers or body must be in by; 0: none (being answered) */
    bool cut;                      /* shut down by the watchdog already */
    struct http_conn *prev, *next; /* in conns */
} http_conn;

/* A request waiting for, or running on, a worker thread. */
typedef struct http_job {
    weir_http_req *req;
    weir_http_handler fn;
    void *ctx;
    bool running;                  /* a worker runs fn now: an answer waits for fn to return before it is sent,
                                      since a handler may still read the request after answering */
    bool answer_held;              /* an answer came while fn ran; the worker sends it when fn returns */
    bool released;                 /* under the server's lock: handed on to another job (or answered when not
                                      running): no longer this job's to touch */
    struct http_job *next;
} http_job;

/* HTTPS's certificate and key, PEM text (http_tls.c); NULL: plain HTTP. */
typedef struct http_tls {
    char *cert, *key;
    size_t cert_len, key_len;
} http_tls;

/* Reads both files and checks that they pair up; errors name the option. */
int http_tls_load(const char *cert_path, const char *key_path, http_tls *out, weir_err *err);
void http_tls_free(http_tls *t);

struct weir_http {
    struct MHD_Daemon *daemon;
    weir_http_options opt;
    const weir_http_route *routes;
    int nroutes;
    struct sockaddr_in addr;       /* what --listen named */
    http_tls tls;                  /* kept while the daemon runs: libmicrohttpd reads it */
    pthread_mutex_t lock;          /* the suspended list, the job queue, the stats and the routes (swapped: weir_http_set_routes) */
    weir_http_req *suspended;      /* deferred requests, answered with 503 on stop */
    weir_http_stream *streams;     /* open streams, ended on stop */
    _Atomic size_t body_bytes;     /* request bodies held in memory, all connections together */
    _Atomic bool stopping;
    weir_http_stats stats;
    /* the watchdog (http.c) */
    pthread_mutex_t conns_lock;
    pthread_cond_t conns_wake;     /* signalled to stop the watchdog */
    http_conn *conns;
    pthread_t watchdog;
    bool watchdog_running;
    /* the worker pools (http_work.c), under lock: [HTTP_HANDLERS] runs every
     * handler but the public ones, [HTTP_QUERIES] what they offload */
    struct http_pool {
        weir_http *server;
        pthread_cond_t wake;
        http_job *queue, **tail;
        unsigned nqueued, max_queued;
        pthread_t *threads;
        unsigned nthreads;
    } pools[2];
};

enum { HTTP_HANDLERS, HTTP_QUERIES };

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
    bool begun;                    /* the access handler has seen the headers */
    const char *uri_problem;       /* why the raw URI is refused with 400 (a NUL in it), or NULL */
    bool cors;                     /* the request came from --cors's origin: the answer says it may read it */
    http_job *job;                 /* while offloaded */
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
/* Takes a deferred request off the suspended list and resumes its
 * connection, which then sends the answer; under the server's lock. */
void http_wake(weir_http *h, weir_http_req *r);
/* Resumes a stream's connection if it sleeps; under s->lock. */
void http_stream_wake(weir_http_stream *s);

/* The worker threads (http_work.c): started with the server; stopped
 * before the deferred requests are answered 503, since a worker may still
 * be answering one. */
int http_work_start(weir_http *h);
void http_work_stop(weir_http *h);
/* Runs the request's route handler on a handler thread (the request
 * sleeps meanwhile); from the access handler. */
void http_run_handler(weir_http_req *r);

#endif
