/*
 * http_work.c - the server's worker threads. libmicrohttpd's two threads
 * only read requests, send answers and serve what is public (/healthz,
 * the dashboard's files); every other handler runs on a handler thread,
 * because some wait for the pipeline (metrics are read between two of its
 * steps, which may take hundreds of milliseconds) or parse and check a
 * large body, and an HTTP thread doing that stalls every connection it
 * serves. Handlers that compute (pull queries: scanning, sorting,
 * formatting megabytes) move on to a query thread (weir_http_offload), so
 * they never hold up ingest either.
 *
 * Both queues are bounded: a request beyond is answered 503 at once rather
 * than waiting behind minutes of work, as PostgreSQL refuses connections
 * past max_connections rather than queueing them.
 */
#include <stdlib.h>

#include "base/clock.h"
#include "server/http_internal.h"

/* Hands the (deferred) request to a pool; false when its queue is full. */
static bool enqueue(struct http_pool *pool, weir_http_req *r, weir_http_handler fn, void *ctx)
{
    weir_http *h = pool->server;
    http_job *job = calloc(1, sizeof *job);
    if (!job)
        return false;
    *job = (http_job){.req = r, .fn = fn, .ctx = ctx};
    pthread_mutex_lock(&h->lock);
    bool full = pool->nqueued >= pool->max_queued || h->stopping;
    if (!full) {
        if (r->job) /* a handler thread hands its request on to a query thread */
            r->job->released = true;
        r->job = job;
        *pool->tail = job;
        pool->tail = &job->next;
        pool->nqueued++;
        pthread_cond_signal(&pool->wake);
    }
    pthread_mutex_unlock(&h->lock);
    if (full)
        free(job);
    return !full;
}

int weir_http_offload(weir_http_req *r, weir_http_handler fn, void *ctx)
{
    weir_http *h = r->server;
    weir_http_defer(r);
    if (!enqueue(&h->pools[HTTP_QUERIES], r, fn, ctx)) { /* answered as any deferred request: the connection wakes */
        weir_http_reply_header(r, "Retry-After", "1");
        weir_http_reply_error(r, 503, "%u queries wait for a worker already; retry after a second",
                              h->pools[HTTP_QUERIES].max_queued);
    }
    return WEIR_HTTP_DEFERRED;
}

void http_run_handler(weir_http_req *r)
{
    weir_http *h = r->server;
    weir_http_defer(r);
    if (!enqueue(&h->pools[HTTP_HANDLERS], r, r->route->handler, r->route->ctx)) {
        weir_http_reply_header(r, "Retry-After", "1");
        weir_http_reply_error(r, 503, "%u requests wait for a handler thread already; retry after a second",
                              h->pools[HTTP_HANDLERS].max_queued);
    }
}

uint64_t weir_http_started_ns(const weir_http_req *r) { return r->start_ns; }
bool weir_http_stopping(const weir_http_req *r) { return r->server->stopping; }
const weir_http_options *weir_http_options_of(const weir_http_req *r) { return &r->server->opt; }

/* Runs on each worker: takes jobs until the server stops. A job left in
 * the queue at the stop is freed by http_work_stop; its request is still
 * deferred and gets the stop's 503. An answer given while the handler
 * runs (by it, or by the pipeline for an ingest it deferred) is sent only
 * once the handler returns: handlers may read the request after
 * answering. A handler that hands its request on to a query thread
 * releases it (the job's released flag). */
static void *worker(void *arg)
{
    struct http_pool *pool = arg;
    weir_http *h = pool->server;
    pthread_mutex_lock(&h->lock);
    for (;;) {
        while (!pool->queue && !h->stopping)
            pthread_cond_wait(&pool->wake, &h->lock);
        if (h->stopping)
            break;
        http_job *job = pool->queue;
        pool->queue = job->next;
        if (!pool->queue)
            pool->tail = &pool->queue;
        pool->nqueued--;
        job->running = true;
        pthread_mutex_unlock(&h->lock);
        if (h->opt.gate_enter)
            h->opt.gate_enter(h->opt.gate_ctx);
        int rc = job->fn(job->ctx, job->req);
        if (h->opt.gate_leave)
            h->opt.gate_leave(h->opt.gate_ctx);
        pthread_mutex_lock(&h->lock);
        bool mine = !job->released, unanswered = mine && !job->answer_held; /* mine: still there (it sleeps) */
        if (mine)
            job->req->job = NULL;
        if (mine && job->answer_held) /* the answer the handler gave, now that it no longer reads the request */
            http_wake(h, job->req);
        pthread_mutex_unlock(&h->lock);
        if (unanswered && rc != WEIR_HTTP_DEFERRED) /* a handler that forgot to answer */
            weir_http_reply_error(job->req, 500, "%s %s gave no answer", job->req->method, job->req->path);
        free(job);
        pthread_mutex_lock(&h->lock);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

static int pool_start(weir_http *h, struct http_pool *pool, unsigned threads, unsigned max_queued)
{
    pool->server = h;
    pool->max_queued = max_queued;
    pthread_cond_init(&pool->wake, NULL);
    pool->tail = &pool->queue;
    pool->threads = calloc(threads, sizeof *pool->threads);
    if (!pool->threads)
        return WEIR_ENOMEM;
    for (; pool->nthreads < threads; pool->nthreads++)
        if (pthread_create(&pool->threads[pool->nthreads], NULL, worker, pool))
            return WEIR_ENOMEM;
    return WEIR_OK;
}

/* Handler threads: twice the HTTP threads, since much of their time is
 * spent waiting (for the pipeline, for a client's body), not computing. */
int http_work_start(weir_http *h)
{
    int a = pool_start(h, &h->pools[HTTP_HANDLERS], 2 * h->opt.threads, h->opt.max_connections);
    int b = pool_start(h, &h->pools[HTTP_QUERIES], h->opt.workers, h->opt.max_queued);
    return a ? a : b;
}

void http_work_stop(weir_http *h)
{
    pthread_mutex_lock(&h->lock);
    h->stopping = true;
    for (int p = 0; p < 2; p++)
        pthread_cond_broadcast(&h->pools[p].wake);
    pthread_mutex_unlock(&h->lock);
    for (int p = 0; p < 2; p++) {
        struct http_pool *pool = &h->pools[p];
        for (unsigned i = 0; i < pool->nthreads; i++)
            pthread_join(pool->threads[i], NULL);
        free(pool->threads);
        while (pool->queue) {
            http_job *next = pool->queue->next;
            pool->queue->req->job = NULL;
            free(pool->queue);
            pool->queue = next;
        }
        pthread_cond_destroy(&pool->wake);
        *pool = (struct http_pool){0};
    }
}
