/*
 * runtime_internal.h - the runtime's state, which the pipeline thread and
 * the threads that call the runtime's request functions share (see
 * runtime.h); for the files of src/runtime only. Everything here is
 * guarded by `lock` unless said otherwise.
 */
#ifndef WEIR_RUNTIME_INTERNAL_H
#define WEIR_RUNTIME_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "base/arena.h"
#include "exec/runner.h"
#include "exec/table_view.h"
#include "log/log.h"
#include "runtime/changes.h"
#include "runtime/query.h"
#include "runtime/registry.h"
#include "runtime/runtime.h"

/* An ingest waiting for the commit that makes its records durable. */
typedef struct pending_ack {
    void (*done)(void *ctx, const weir_answer *a);  /* called once, under the lock */
    void *ctx;
    uint64_t ticket;              /* durable once committed >= ticket */
    size_t bytes;                 /* counted in inflight_bytes */
    int status;                   /* the answer once durable */
    weir_buf answer;
    struct pending_ack *next;
} pending_ack;

typedef struct subscriber subscriber;  /* a change feed: runtime/changes.c */
typedef struct sink_run sink_run;      /* a sink's delivery: runtime/sinks.c */

typedef struct ingest_counters {  /* per source stream */
    uint64_t records, bytes, requests, refused_invalid, refused_overload;
} ingest_counters;

struct weir_runtime {
    pthread_mutex_t lock;
    pthread_cond_t wake;          /* ingest happened: the pipeline should step */
    weir_log *log;
    const weir_catalog *cat;
    weir_runner *runner;
    weir_runner_options runner_opt;  /* what the runner was opened with, to open it again after a pause */
    const char *sql;
    size_t sql_len;
    weir_runtime_options opt;
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
    bool hung_up;                 /* weir_runtime_hang_up: no more change feeds either */
    uint64_t disk_free;           /* bytes free for the data directory, as of the last step */
    int64_t disk_checked_ms;      /* when disk_free was measured */
    bool paused;                  /* the disk filled up under the pipeline: no steps, ingest answers 503 */
    char paused_why[300];         /* the write that failed */
    int64_t resume_tried_ms;      /* the last look for free space while paused */
    subscriber *subscribers;
    int nsubscribers;
    sink_run **sinks;
    int nsinks;
    struct weir_source_feed *feeds;   /* per catalog relation: its connector's ingest feed (or stdin's), poll NULL if none */
    bool files_at_eof;            /* every file source had nothing more at the last step */
    _Atomic bool sinks_stopping;  /* read by the sinks' threads without the lock */
    int64_t started_ms;
    pthread_mutex_t health_lock;  /* guards health: weir_runtime_health reads it without waiting for `lock` (ops.c) */
    struct {
        bool looked;              /* filled at least once */
        int64_t checkpoint_ms;
        bool closing, paused;
        char paused_why[300];
        uint64_t disk_free;
    } health;                     /* /healthz's last look at the runtime, copied under both locks */
};

/* Answers the requests the last commit made durable (rc == OK), or, when
 * the open group failed (rc != OK), every waiting request with 503: they all
 * belong to it, since each step answers what its commit covered. */
void runtime_answer_pending(weir_runtime *s, int rc, const char *why);

/* Sends every change feed what was committed since the last call; feeds
 * whose client is gone end (changes.c). */
void runtime_feed_changes(weir_runtime *s, int64_t now_ms);
/* Ends every change feed. */
void runtime_end_feeds(weir_runtime *s);

/* A pull query planned and run over the runtime's views or log (query.c). */
typedef struct runtime_pulled {
    weir_arena arena;
    weir_pull pull;
    weir_pull_run *run;
    const weir_value *const *rows;
    size_t n;
} runtime_pulled;
/* 0 with the rows in p (free with runtime_pulled_free), or -1 with the
 * refusal in *a (400 for SQL, 413/503 past a limit). Holds the runtime's
 * lock in turns while it reads. */
int runtime_pull_rows(weir_runtime *s, const weir_query_limits *lim, const char *sql, size_t len, runtime_pulled *p,
                      weir_answer *a);
void runtime_pulled_free(runtime_pulled *p);
/* While formatting row `row` of an answer now len bytes long: true, with
 * 413 or 503 in *a, when it passed the limits' bytes or (every 256 rows)
 * their deadline. */
bool runtime_answer_over(weir_answer *a, const weir_query_limits *lim, size_t len, size_t row);

/* The relation of a catalog name and its index, or NULL. */
const weir_relation *runtime_relation(const weir_runtime *s, const char *name, int *index);

/* Fill an answer: an error with its message; a body of content_type, b,
 * which the answer takes; or JSON in b (500 when building it failed: rc
 * != 0; b is freed). */
void answer_error(weir_answer *a, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void answer_body(weir_answer *a, int status, const char *content_type, weir_buf *b);
void answer_json(weir_answer *a, int status, int rc, weir_buf *b);

#endif
