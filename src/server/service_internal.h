/*
 * service_internal.h - the state the pipeline loop and the HTTP handlers
 * share (see service.h); for the files of src/server only. Everything
 * here is guarded by `lock` unless said otherwise.
 */
#ifndef WEIR_SERVICE_INTERNAL_H
#define WEIR_SERVICE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "exec/pull.h"
#include "log/log.h"
#include "server/http.h"
#include "server/registry.h"
#include "server/service.h"

/* An ingest request waiting for the commit that makes its records durable. */
typedef struct pending_ack {
    weir_http_req *req;
    uint64_t ticket;              /* durable once committed >= ticket */
    size_t bytes;                 /* counted in inflight_bytes */
    int status;                   /* the answer once durable */
    weir_buf answer;
    struct pending_ack *next;
} pending_ack;

/* A Server-Sent Events client following one stream's records. */
typedef struct subscriber {
    weir_http_stream *out;
    weir_stream *stream;
    uint32_t nparts;
    weir_reader **readers;
    int64_t last_write_ms;        /* for keep-alive comments */
    struct subscriber *next;
} subscriber;

typedef struct sink_run sink_run;   /* server/sinks.c */

typedef struct ingest_counters {  /* per source stream */
    uint64_t records, bytes, requests, refused_invalid, refused_overload;
} ingest_counters;

struct weir_service {
    pthread_mutex_t lock;
    pthread_cond_t wake;          /* ingest happened: the pipeline should step */
    weir_log *log;
    const weir_catalog *cat;
    weir_runner *runner;
    const char *sql;
    size_t sql_len;
    weir_service_options opt;
    weir_http *http;
    weir_http_route *routes;      /* built from the catalog and the fixed API */
    int nroutes;
    weir_registry *registry;
    weir_table_view **views;      /* per catalog relation; NULL unless a table */
    ingest_counters *ingest;      /* per catalog relation */
    pending_ack *pending;         /* in arrival order */
    pending_ack **pending_tail;
    uint64_t committed;           /* commits done; appends made now become durable with commit committed+1 */
    size_t inflight_bytes;
    uint64_t log_bytes;           /* segment bytes of every stream, as of the last step (for the disk quota) */
    bool ingested;                /* appends since the last step */
    bool closing;                 /* the last checkpoint is under way: ingest answers 503 */
    subscriber *subscribers;
    int nsubscribers;
    sink_run **sinks;
    int nsinks;
    struct weir_file_source **files;  /* per catalog relation fed from a file, else NULL */
    bool files_at_eof;            /* every file source had nothing more at the last step */
    _Atomic bool sinks_stopping;  /* read by the sinks' threads without the lock */
    int64_t started_ms;
    _Atomic int64_t health_checkpoint_ms; /* /healthz's last look at the checkpoint time (api_ops.c), without the lock */
    _Atomic bool health_closing;          /* and at closing */
};

/* Answers the requests the last commit made durable (rc == OK), or, when
 * the open group failed (rc != OK), every waiting request with 503: they all
 * belong to it, since each step answers what its commit covered. */
void service_answer_pending(weir_service *s, int rc, const char *why);

/* The routes of src/server/api_*.c, filled into s->routes. */
int weir_api_routes(weir_service *s, weir_err *err);

/* The relation of a catalog name and its index, or NULL. */
const weir_relation *service_relation(const weir_service *s, const char *name, int *index);

#endif
