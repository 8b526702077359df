/*
 * http_work.c - the server's worker threads, where handlers that compute
 * (pull queries: scanning, sorting, formatting megabytes) run instead of
 * on the two HTTP threads (see weir_http_offload in http.h). Two HTTP
 * threads busy sorting were enough to make /healthz take seconds; with
 * the work here, the HTTP threads only parse, route and send.
 *
 * The queue is bounded (max_queued): a request beyond it is answered 503
 * at once rather than waiting behind minutes of work, as PostgreSQL
 * refuses connections past max_connections rather than queueing them.
 */
#include <stdlib.h>

#include "base/clock.h"
#include "server/http_internal.h"

int weir_http_offload(weir_http_req *r, weir_http_handler fn, void *ctx)
{
    weir_http *h = r->server;
    http_job *job = calloc(1, sizeof *job);
    if (!job) {
        weir_http_reply_error(r, 500, "out of memory");
        return 0;
    }
    *job = (http_job){.req = r, .fn = fn, .ctx = ctx};
    r->job = job;
    weir_http_defer(r);
    pthread_mutex_lock(&h->lock);
    bool full = h->nqueued >= h->opt.max_queued || h->stopping;
    if (!full) {
        *h->queue_tail = job;
        h->queue_tail = &job->next;
        h->nqueued++;
        pthread_cond_signal(&h->work_wake);
    }
    pthread_mutex_unlock(&h->lock);
    if (full) { /* answered as any deferred request is: the connection wakes to send it */
        r->job = NULL;
        weir_http_reply_header(r, "Retry-After", "1");
        weir_http_reply_error(r, 503, "%u queries wait for a worker already; retry after a second", h->opt.max_queued);
        free(job);
    }
    return WEIR_HTTP_DEFERRED;
}

uint64_t weir_http_started_ns(const weir_http_req *r) { return r->start_ns; }
bool weir_http_stopping(const weir_http_req *r) { return r->server->stopping; }
const weir_http_options *weir_http_options_of(const weir_http_req *r) { return &r->server->opt; }

/* Runs on each worker: takes jobs until the server stops. A job left in
 * the queue at the stop is freed by http_work_stop; its request is still
 * deferred and gets the stop's 503. */
static void *worker(void *arg)
{
    weir_http *h = arg;
    pthread_mutex_lock(&h->lock);
    for (;;) {
        while (!h->queue && !h->stopping)
            pthread_cond_wait(&h->work_wake, &h->lock);
        if (h->stopping)
            break;
        http_job *job = h->queue;
        h->queue = job->next;
        if (!h->queue)
            h->queue_tail = &h->queue;
        h->nqueued--;
        pthread_mutex_unlock(&h->lock);
        job->fn(job->ctx, job->req);
        pthread_mutex_lock(&h->lock);
        bool answered = job->answered;
        pthread_mutex_unlock(&h->lock);
        if (!answered) /* a handler that forgot to answer; the request still sleeps, so it is still there */
            weir_http_reply_error(job->req, 500, "%s %s gave no answer", job->req->method, job->req->path);
        free(job);
        pthread_mutex_lock(&h->lock);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

int http_work_start(weir_http *h)
{
    pthread_cond_init(&h->work_wake, NULL);
    h->queue_tail = &h->queue;
    h->workers = calloc(h->opt.workers, sizeof *h->workers);
    if (!h->workers)
        return WEIR_ENOMEM;
    for (; h->nworkers < h->opt.workers; h->nworkers++)
        if (pthread_create(&h->workers[h->nworkers], NULL, worker, h))
            return WEIR_ENOMEM;
    return WEIR_OK;
}

void http_work_stop(weir_http *h)
{
    pthread_mutex_lock(&h->lock);
    h->stopping = true;
    pthread_cond_broadcast(&h->work_wake);
    pthread_mutex_unlock(&h->lock);
    for (unsigned i = 0; i < h->nworkers; i++)
        pthread_join(h->workers[i], NULL);
    free(h->workers);
    h->workers = NULL;
    h->nworkers = 0;
    while (h->queue) {
        http_job *next = h->queue->next;
        h->queue->req->job = NULL;
        free(h->queue);
        h->queue = next;
    }
    h->queue_tail = &h->queue;
    h->nqueued = 0;
    pthread_cond_destroy(&h->work_wake);
}
