/*
 * runtime_internal.h - the runtime's state, which the pipeline thread and
 * the threads that call the runtime's request functions share (see
 * runtime.h); for the files of src/runtime only. Who may touch what is
 * said above struct weir_runtime.
 */
#ifndef WEIR_RUNTIME_INTERNAL_H
#define WEIR_RUNTIME_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "base/arena.h"
#include "conn/source.h"
#include "exec/runner.h"
#include "exec/table_view.h"
#include "log/log.h"
#include "state/store.h"
#include "runtime/changes.h"
#include "runtime/query.h"
#include "runtime/groups.h"
#include "runtime/registry.h"
#include "runtime/statements_file.h"
#include "runtime/runtime.h"

/* An ingest waiting for the commit that makes its records durable; the
 * pipeline thread's alone. */
typedef struct pending_ack {
    void (*done)(void *ctx, const weir_answer *a);  /* called once, on the pipeline thread */
    void *ctx;
    uint64_t ticket;              /* durable once committed >= ticket */
    size_t bytes;                 /* counted in inflight_bytes */
    int status;                   /* the answer once durable */
    weir_buf answer;
    struct pending_ack *next;
} pending_ack;

typedef struct queued_batch queued_batch;  /* checked records on their way to the log: runtime/ingest.c */
typedef struct subscriber subscriber;      /* a change feed: runtime/changes.c */
typedef struct sink_run sink_run;          /* a sink's delivery: runtime/sinks.c */

/* A source connector's feed: where its records go (runtime_admit_feed). */
typedef struct feed_target {
    struct weir_runtime *s;
    int rel_index;
} feed_target;

/* A call another thread asked the pipeline thread to make (runtime_on_loop). */
typedef struct loop_call {
    void (*fn)(weir_runtime *s, void *ctx);
    void *ctx;
    bool done;
    struct loop_call *next;
} loop_call;

typedef struct ingest_counters {  /* per source stream; any thread adds, relaxed */
    _Atomic uint64_t records, bytes, requests, refused_invalid, refused_overload;
} ingest_counters;

/* What the pipeline thread shows the others after each step (under
 * handoff_lock): ingest admission and /healthz decide from it without
 * waiting for a step. */
typedef struct runtime_look {
    int64_t checkpoint_ms;        /* the runner's last checkpoint */
    bool paused;                  /* the disk filled up under the pipeline: ingest answers 503 */
    char paused_why[300];
    uint64_t disk_free;           /* bytes free for the data directory (UINT64_MAX: unknown) */
    uint64_t log_bytes;           /* segment bytes of every stream (for --disk-quota) */
} runtime_look;

/* A runner and what it runs (groups.c): the pipeline file's queries
 * (groups[0]), or a group of statements added at runtime (statements.c). */
typedef struct runner_group {
    struct weir_runtime *runtime;
    weir_runner *runner;          /* NULL where the group has nothing to run (routes, endpoints, sinks only) */
    weir_catalog cat;             /* every relation of the runtime's catalog, the group's queries only */
    int first_query;              /* its queries' place in the runtime's catalog */
    int rels_begin, rels_end;     /* the relations it declared, in the runtime's catalog */
    const char *name;             /* NULL for the file's; else the group's name (its checkpoint's directory) */
    const char *sql;              /* its statements (the file's text for groups[0]) */
    size_t sql_len;
    bool *input_letters;          /* per catalog relation: the first group reading it writes its records' dead letters */
} runner_group;

int runtime_groups_open(weir_runtime *s, weir_err *err);
void runtime_groups_close(weir_runtime *s);
/* A step of every runner; *processed: records they read. */
int runtime_groups_step(weir_runtime *s, int64_t now_ms, uint64_t *processed, weir_err *err);
/* Every runner's checkpoint (with finish, weir_runner_finish's). */
int runtime_groups_checkpoint(weir_runtime *s, bool finish, weir_err *err);
bool runtime_checkpointing(const weir_runtime *s);
/* The oldest of the runners' last checkpoints (wall ms). */
int64_t runtime_checkpoint_ms(const weir_runtime *s);
/* The group running catalog query `query`, and the query's place in its runner. */
const runner_group *runtime_query_group(const weir_runtime *s, int query, int *local);
/* The largest lag of the runners reading the stream's partition; false if none reads it. */
bool runtime_input_lag(const weir_runtime *s, const char *stream, uint32_t partition, uint64_t *lag);
/* Whether a runner keeps the state of the stream's readers per partition
 * (weir_runner_needs_placement). */
bool runtime_needs_placement(const weir_runtime *s, const char *stream);
/* The checkpointed end of the runner writing the stream; false if none does. */
bool runtime_checkpointed_end(const weir_runtime *s, const char *stream, uint32_t partition, uint64_t *end);
weir_state_memory runtime_state_memory(const weir_runtime *s);


typedef struct kept_plan kept_plan;                /* a catalog planned at runtime and its arena: statements.c */
typedef struct statement_request statement_request; /* a POST /v1/statements on its way to the pipeline thread */

/* The text a catalog is planned from (statements.c): the pipeline file,
 * then each of g[0..n) on lines of its own, starts[k] (if not NULL) where
 * g[k] begins; positions in the catalog's statements are in it. */
int runtime_planned_text(const weir_runtime *s, const added_group *g, int n, weir_buf *out, size_t *starts);
/* The catalog and its runner groups at open: the pipeline file's and
 * DATA/statements.sql's (statements.c). */
int runtime_statements_load(weir_runtime *s, weir_err *err);
void runtime_statements_free(weir_runtime *s);
/* Applies what changes the catalog or drops streams, handed over by
 * other threads (a statement, topics to delete), with no request inside
 * the runtime: on the pipeline thread, before a step. */
int runtime_apply_changes(weir_runtime *s, weir_err *err);
/* Answers a statement handed over 503, with why (weir stops, or the disk is full). */
void runtime_refuse_statement(weir_runtime *s, const char *why);
/* What the catalog decides, opened and closed (runtime.c). */
int runtime_setup(weir_runtime *s, weir_err *err);
void runtime_teardown(weir_runtime *s);
void runtime_gate_init(weir_runtime *s);
void runtime_gate_destroy(weir_runtime *s);

/*
 * Who touches what. The pipeline thread (weir_runtime_step and the calls
 * cli/serve.c makes between steps) owns the log's writer, the runner, the
 * pending answers, the change feeds being fed and the ingest feeds: fields
 * without a note below. Other threads read the log through their own
 * readers (log.h) and the tables through their views (table_view.h); what
 * they hand the pipeline thread or read from it goes through handoff_lock,
 * which is held for a few assignments only, never across I/O or a step.
 * What reads the runner runs on the pipeline thread (runtime_on_loop).
 */
struct weir_runtime {
    weir_log *log;
    const weir_catalog *cat;
    runner_group *groups;         /* groups[0] runs the pipeline file's queries */
    int ngroups;
    weir_runner_options runner_opt;  /* what the runners are opened with (groups.c adds each one's group) */
    const char *sql;              /* the pipeline file's */
    size_t sql_len;
    weir_runtime_options opt;
    weir_store *store;            /* DATA/state/: the views' rows; written by the runners' checkpoint threads, in turn */
    weir_table_view **views;      /* per catalog relation; NULL unless a table (a view takes readers on any thread) */
    ingest_counters *ingest;      /* per catalog relation */
    pending_ack *pending;         /* in arrival order */
    pending_ack **pending_tail;
    uint64_t committed;           /* commits done; appends made now become durable with commit committed+1 */
    _Atomic size_t inflight_bytes;  /* ingest bodies queued or waiting for their commit; added under handoff_lock */
    bool ingested;                /* appends since the last commit */
    bool paused;                  /* the disk filled up under the pipeline: no steps (look.paused for others) */
    char paused_why[300];         /* the write that failed */
    uint64_t disk_free;           /* as of the last measure */
    int64_t disk_checked_ms;      /* when disk_free was measured */
    int64_t resume_tried_ms;      /* the last look for free space while paused */
    int64_t cleaned_ms;           /* retention.c: when retention last ran and compaction was looked for */
    bool compacting;              /* retention.c: a compaction pass is under way (it goes on each turn) */
    subscriber *subscribers;      /* the change feeds being fed */
    int nsubscribers;
    struct weir_source_feed *feeds;   /* per catalog relation: its connector's ingest feed (or stdin's), poll NULL if none */
    feed_target *feed_targets;    /* per catalog relation: where its feed's records go */
    bool files_at_eof;            /* every file source had nothing more at the last step */
    bool loop_over;               /* the last checkpoint is taken: calls for the loop run on their caller's thread */

    pthread_mutex_t registry_lock;  /* guards registry */
    weir_registry *registry;

    sink_run **sinks;             /* fixed once started; each sink guards its own state (sinks.c) */
    int nsinks;
    _Atomic bool sinks_stopping;

    int64_t started_ms;

    /* statements.c: what was added at runtime, the catalogs planned (kept
     * until close: a request that matched an old route may still point
     * into one), and the gate that request threads pass (weir_runtime_enter)
     * and a statement closes while it replaces the catalog. */
    added_group *added;
    int nadded;
    unsigned next_group;
    kept_plan *plans;
    pthread_mutex_t gate_lock;
    pthread_cond_t gate_cond;
    int gate_inside;              /* requests between enter and leave */
    bool gate_shut;               /* a statement is being applied: enter waits */
    void (*on_catalog)(void *ctx, const weir_catalog *cat);  /* weir_runtime_on_catalog */
    void *on_catalog_ctx;

    pthread_mutex_t handoff_lock; /* guards what follows */
    statement_request *statement; /* one at a time, for the pipeline thread */
    struct topic_drop *drops;     /* topics to delete, for the pipeline thread (kafka_topics.c) */
    pthread_cond_t wake;          /* something was handed over: the pipeline should step */
    pthread_cond_t called;        /* a loop_call is done */
    queued_batch *queued;         /* checked ingest batches for the next step to append, in arrival order */
    queued_batch **queued_tail;
    loop_call *calls;             /* for the pipeline thread to make before its next step */
    subscriber *joining;          /* change feeds opened since the last step */
    bool closing;                 /* the last checkpoint is under way: ingest answers 503 */
    bool hung_up;                 /* weir_runtime_hang_up: no more change feeds either */
    unsigned nfeeds;              /* change feeds and push queries open, joining or fed (changes.c): --max-feeds caps it */
    runtime_look look;
};

/* Runs fn(s, ctx) on the pipeline thread before its next step (at once
 * on the caller's thread once the loop is over, when nothing changes the
 * runner any more) and returns when it ran: how other threads read the
 * runner. fn must not call the runtime. */
void runtime_on_loop(weir_runtime *s, void (*fn)(weir_runtime *s, void *ctx), void *ctx);
/* Makes the calls other threads asked for (runtime_on_loop); the pipeline thread's. */
void runtime_make_loop_calls(weir_runtime *s);

/* weir_feed_admit's callback (source.h), ctx a feed_target: a feed's
 * records through the ingest admission, on the pipeline thread (ingest.c). */
int runtime_admit_feed(void *ctx, const weir_feed_record *recs, size_t n, weir_err *err);

/* Appends what ingest handed over since the last call (ingest.c); on the
 * pipeline thread. */
void runtime_append_queued(weir_runtime *s);
/* Answers every queued batch 503 with why (ingest.c). */
void runtime_refuse_queued(weir_runtime *s, const char *why);

/* Answers the requests the last commit made durable (rc == OK), or, when
 * the open group failed (rc != OK), every waiting request with 503: they all
 * belong to it, since each step answers what its commit covered. */
void runtime_answer_pending(weir_runtime *s, int rc, const char *why);

/* Takes in the change feeds opened since the last call, then sends every
 * feed what was committed since; feeds whose client is gone end
 * (changes.c). On the pipeline thread. */
void runtime_feed_changes(weir_runtime *s, int64_t now_ms);
/* Ends every change feed, those still joining too. */
void runtime_end_feeds(weir_runtime *s);
/* Ends the change feeds that follow stream st. */
void runtime_end_feeds_of(weir_runtime *s, const weir_stream *st);
/* The least position the change feeds following st (those joining too)
 * have in its partition p, UINT64_MAX if none follows it: what they have
 * yet to send (changes.c). On the pipeline thread. */
uint64_t runtime_feeds_position(weir_runtime *s, const weir_stream *st, uint32_t p);

/* A push query's filter, projection and format (push.c). */
typedef struct push_query push_query;
/* Appends the event of record rec of partition p when it passes the
 * query's WHERE (a table's tombstone always does): 0, 1 when that reached
 * the query's LIMIT (its feed ends after this write), -1 out of memory. */
int push_put_record(push_query *q, uint32_t p, const weir_record *rec, weir_buf *b);
/* What a quiet feed of q sends every 15 s. */
const char *push_keepalive(const push_query *q);
void push_query_free(push_query *q);
/* Follows stream `name` as weir_runtime_follow does (changes.h), for push
 * query q (NULL: a change feed; taken, also on failure), writing
 * `greeting` first. */
int runtime_follow(weir_runtime *s, const char *name, const char *from, const char *last, push_query *q,
                   const char *greeting, size_t greeting_len, weir_feed_open open, void *open_ctx, weir_answer *a);
/* Appends [{"name", "type"}, ...] for schema's columns (query.c). */
int runtime_put_columns(weir_buf *b, const weir_schema *schema);

/* A pull query planned and run over the runtime's views or log (query.c). */
typedef struct runtime_pulled {
    weir_arena arena;
    weir_pull pull;
    weir_pull_run *run;
    const weir_value *const *rows;
    size_t n;
} runtime_pulled;
/* 0 with the rows in p (free with runtime_pulled_free), or -1 with the
 * refusal in *a (400 for SQL, 413/503 past a limit). Reads a table's view
 * as of a step, or a stream through readers of its own, on the caller's
 * thread: it never waits for the pipeline, nor the pipeline for it. */
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
