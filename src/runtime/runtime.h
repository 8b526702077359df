/*
 * runtime.h - what `weir serve` runs, whatever talks to it: the pipeline
 * loop (runner steps, the group commit of ingested records, checkpoints,
 * the full-disk pause), ingest admission, the live table views, change
 * feeds, pull queries, the sinks' delivery threads and the schema
 * registry, over one data directory's log.
 *
 * The pipeline thread (cli/serve.c) calls weir_runtime_step in a loop.
 * Other threads (the HTTP server's handlers, src/server) call its request
 * functions (ingest.h, changes.h, query.h, browse.h, ops.h, schemas.h)
 * with plain data and get a weir_answer back, at once or through a
 * callback later: an ingest is answered once the step's group commit made
 * its records durable. The runtime knows no transport.
 *
 * weir_runtime_step, _paused, _wait, _checkpoint, _runner,
 * _files_at_eof, _hang_up and _close are the pipeline thread's; the
 * request functions may be called from any thread at once and never hold
 * up the pipeline (runtime_internal.h says who owns what). None may be
 * called from a callback the runtime calls.
 */
#ifndef WEIR_RUNTIME_H
#define WEIR_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/arena.h"
#include "base/err.h"
#include "sql/plan.h"
#include "sql/sql.h"

typedef struct weir_runtime weir_runtime;
typedef struct weir_log weir_log;                        /* log/log.h */
typedef struct weir_runner weir_runner;                  /* exec/runner.h */
typedef struct weir_runner_options weir_runner_options;  /* exec/runner.h */

/* What a request gets: a status, numbered as HTTP's are since weir's API
 * documents those (200, 201, 4xx, 5xx), with a body of a media type, or
 * an error message (the transport wraps it: {"error": msg}). */
typedef struct weir_answer {
    int status;
    unsigned retry_after_s;       /* > 0: when the client may try again (with 503) */
    const char *content_type;     /* the body's media type; NULL: an error, said by msg */
    weir_buf body;                /* owned: weir_answer_free */
    char msg[1024];               /* the error, when content_type is NULL */
} weir_answer;

void weir_answer_free(weir_answer *a);

typedef struct weir_runtime_options {
    size_t max_inflight_bytes;    /* ingest bodies waiting for their commit; beyond: 503; 0: 256 MiB */
    uint64_t disk_quota;          /* ingest answers 503 while the log's segments hold more; 0: none */
    uint64_t min_free;            /* ingest answers 503 while the data directory's file system has less free;
                                     after a full disk the pipeline resumes once this much (at least 1 MiB) is free */
    const weir_runner_options *runner;
    const char *kafka_brokers;    /* serve --kafka: sinks' default brokers */
    const char *const *kafka_config; /* serve --kafka-config: the Kafka sinks' librdkafka properties, or NULL */
    const char *stdin_stream;     /* serve --stdin: NDJSON on standard input goes to this source, or NULL */
    const char *schemas_dir;      /* serve --schemas: DIR/<subject>.json registered at start, or NULL */
    int64_t retention_ms;         /* serve --retention: streams that do not say keep records this long; 0: 7 days; -1: forever */
    /* Plans a pipeline's SQL into a catalog in arena a, as the pipeline
     * file was (parse, build, connectors, what serve's options add): 0,
     * or WEIR_EINVAL with where and why in e (line 0: no place in the
     * text). NULL: no statements at runtime (POST /v1/statements is
     * refused, DATA/statements.sql must be absent). */
    int (*plan)(void *ctx, const char *sql, size_t len, weir_arena *a, weir_catalog *out, weir_sql_error *e);
    void *plan_ctx;
    const char *pipeline_path;    /* the pipeline file, for messages */
    unsigned max_feeds;           /* serve --max-feeds: change feeds and push queries open at once, beyond which a
                                     new one is refused (503); 0: WEIR_DEFAULT_MAX_FEEDS */
} weir_runtime_options;

#define WEIR_DEFAULT_MAX_FEEDS 1000

/* Opens the runner (restoring its checkpoint), builds the live table views
 * from the tables' changelogs, loads the schema registry, opens the file
 * sources and starts the sinks' threads. log, cat and sql are borrowed
 * until weir_runtime_close. */
int weir_runtime_open(weir_log *log, const weir_catalog *cat, const char *sql, size_t sql_len,
                      const weir_runtime_options *opt, weir_runtime **out, weir_err *err);

/* Statements at runtime (statements.c). Every thread that calls a
 * request function (and so reads the catalog) does so between
 * weir_runtime_enter and weir_runtime_leave; a statement waits until no
 * thread is inside, then replaces the catalog and what it decides (the
 * runners, views, feeds and sinks), and calls on_catalog (set once,
 * before serving) with the new catalog while no thread is inside. */
void weir_runtime_enter(weir_runtime *s);
void weir_runtime_leave(weir_runtime *s);
void weir_runtime_on_catalog(weir_runtime *s, void (*fn)(void *ctx, const weir_catalog *cat), void *ctx);
/* POST /v1/statements: CREATE, CREATE OR REPLACE and DROP statements
 * (the whole request one group), checked and planned on the caller's
 * thread (400 with where and why), then applied by the pipeline thread
 * before its next step; done(ctx, answer) is called there, once. */
void weir_runtime_statements(weir_runtime *s, const char *sql, size_t len,
                             void (*done)(void *ctx, const weir_answer *a), void *ctx);

/* One pipeline step at wall time now_ms (see weir_runner_step), then the
 * answers, views and change feeds. *processed: input records consumed.
 *
 * A full disk is not an error here: the step that met it is undone (its
 * requests are answered 503), the pipeline pauses and ingest answers 503
 * until enough space is free (min_free); then the runner is opened afresh
 * from its last checkpoint, which makes every write the full disk refused
 * (outputs, checkpoints, task states) happen again. */
int weir_runtime_step(weir_runtime *s, int64_t now_ms, uint64_t *processed, weir_err *err);

/* Whether the pipeline is paused by a full disk, and why (into why, cap bytes). */
bool weir_runtime_paused(weir_runtime *s, char *why, size_t cap);

/* The last checkpoint (after weir_runner_finish when finish is set):
 * afterwards ingest answers 503, and the requests it made durable have
 * their answers. */
int weir_runtime_checkpoint(weir_runtime *s, bool finish, weir_err *err);

/* Sleeps until records are ingested or timeout_ms passes. */
void weir_runtime_wait(weir_runtime *s, int timeout_ms);

/* Whether every runner has read its inputs to their committed ends (see
 * weir_runner_caught_up); the pipeline thread's. */
bool weir_runtime_caught_up(weir_runtime *s, bool ask_sources);
/* The catalog: the pipeline file's and the statements added at runtime
 * (replaced when one is added: ask again after each step). */
const weir_catalog *weir_runtime_catalog(const weir_runtime *s);
/* Saved schema versions that did not compile at start, one per line, for
 * the CLI to print ("" if none; see weir_registry_warnings). */
const char *weir_runtime_schema_warnings(const weir_runtime *s);

/* Whether every file source had nothing more to read at the last step
 * (and standard input, with stdin_stream, had ended). */
bool weir_runtime_files_at_eof(weir_runtime *s);

/* Waits until every sink has delivered all it may, as long as they make
 * progress: false after timeout_ms without any record delivered. */
bool weir_runtime_sinks_drained(weir_runtime *s, int timeout_ms);

/* Lets go of every client: requests still waiting for their commit are
 * answered 503 and change feeds end (their callbacks are called for the
 * last time); from now on ingest and new feeds are refused with 503. Call
 * it before stopping whatever calls the runtime (its requests' callbacks
 * point into it), then weir_runtime_close. */
void weir_runtime_hang_up(weir_runtime *s);

/* Stops the sinks and frees everything but the log (hanging up first if
 * that was not done). clean: a stop with nothing wrong, which may take the
 * time to compact the state store (weir_store_compact_at_close). */
void weir_runtime_close(weir_runtime *s, bool clean);

/* ---- the log as a wire protocol sees it (src/kafka: kafka_produce.c,
 * kafka_read.c): streams are topics with partitions, records carry their
 * key and headers. Any thread may call these. ---- */

typedef struct weir_wire_header {
    const char *name;             /* not NUL-terminated */
    size_t name_len;
    const uint8_t *value;         /* NULL: a null value (stored as empty) */
    size_t value_len;
} weir_wire_header;

typedef struct weir_wire_record {
    const uint8_t *key;           /* NULL: no key */
    size_t key_len;
    const uint8_t *value;
    size_t value_len;
    int64_t ts_ms;                /* <= 0: the time it is stored */
    const weir_wire_header *headers;
    size_t nheaders;
    uint64_t offset;              /* set by weir_runtime_read; ignored by weir_runtime_produce */
} weir_wire_record;

typedef struct weir_topic {
    char *name;                   /* owned (weir_runtime_topics_free) */
    uint32_t partitions;
    bool writable;                /* a source stream of the pipeline that takes records */
} weir_topic;

/* Every stream of the log, sorted by name; free with weir_runtime_topics_free. */
int weir_runtime_topics(weir_runtime *s, weir_topic **out, size_t *n, weir_err *err);
void weir_runtime_topics_free(weir_topic *t, size_t n);

/* A partition's first retained offset and end (the next offset written);
 * WEIR_ENOENT if there is no such stream or partition. */
int weir_runtime_partition_offsets(weir_runtime *s, const char *topic, int32_t partition, uint64_t *start,
                                   uint64_t *end, weir_err *err);

/* Calls each for the committed records of a partition from offset on, until
 * their keys, values and headers passed max_bytes (the first record is read
 * whatever its size) or each returns nonzero; rec is borrowed for the call.
 * *start and *end get the partition's offsets as of the read. WEIR_ENOENT
 * if there is no such stream or partition. */
typedef int (*weir_wire_each)(void *ctx, const weir_wire_record *rec);
int weir_runtime_read(weir_runtime *s, const char *topic, int32_t partition, uint64_t offset, size_t max_bytes,
                      weir_wire_each each, void *ctx, uint64_t *start, uint64_t *end, weir_err *err);

/* The answer to weir_runtime_produce: status 200 with the first record's
 * offset once the records are durable; 422 once the records that broke
 * the stream's schema are durable in <stream>.dlq (when the stream keeps
 * dead letters: then none of the batch is in the stream) or at once when
 * it does not; 400 (a value is not a JSON object), 404 (no such stream or
 * partition), 409 (not a source stream, no schema version yet, fed by a
 * connector), 500, 503 (overloaded, disk full, stopping). msg says why.
 * Called once, from the caller's thread for a refusal or from the pipeline
 * thread, so it must not call the runtime. */
typedef void (*weir_produce_done)(void *ctx, int status, const char *msg, uint64_t base_offset);

/* Statuses of weir_produce_done beyond HTTP's, for an idempotent producer's
 * batch (kafka_producers.c): its sequence does not follow the last one
 * stored; its epoch is older than the one stored; its producer id was
 * never given out by weir_runtime_init_producer. */
#define WEIR_PRODUCE_OUT_OF_ORDER 1045
#define WEIR_PRODUCE_FENCED 1047
#define WEIR_PRODUCE_UNKNOWN_PRODUCER 1059

/* Idempotent producers' state (kafka_producers.c): the producer ids given
 * out, and per producer and partition its epoch and its last five
 * batches' sequence numbers and offsets, kept in the internal stream
 * __weir_producers (written in the same commit as the batch it follows, so
 * a restart finds exactly what was stored). The caller (a wire protocol's
 * server) makes one, passes it to the calls below and frees it once the
 * runtime has hung up; only the pipeline thread touches it meanwhile. */
typedef struct weir_producers weir_producers;
weir_producers *weir_producers_new(void);
void weir_producers_free(weir_producers *p);

/* A batch of an idempotent producer. */
typedef struct weir_wire_producer {
    int64_t id;
    int16_t epoch;
    int32_t first_seq, last_seq;  /* the batch's first and last sequence numbers (the last may wrap to 0) */
} weir_wire_producer;

/* Gives out a new producer id (epoch 0), durable before done is called
 * (status 200), or 503 with why; called once, as weir_produce_done is. */
typedef void (*weir_producer_id_done)(void *ctx, int status, const char *msg, int64_t id, int16_t epoch);
void weir_runtime_init_producer(weir_runtime *s, weir_producers *p, weir_producer_id_done done, void *ctx);

/* Admits records into a partition of a source stream, all or none, through
 * ingest admission (ingest.h): the schema check, the dead letters and the
 * quotas apply, and the answer waits for the group commit. A record without
 * a key gets its stream's key from its fields, as over HTTP. recs are read
 * during the call only; done may be NULL. With prod (and its state in
 * ps), the batch of an idempotent producer: a repeat of one of its last
 * five batches is answered 200 with the offset it got then and stored
 * nothing; a sequence, epoch or producer id that does not fit answers
 * WEIR_PRODUCE_*. */
void weir_runtime_produce(weir_runtime *s, const char *topic, int32_t partition, const weir_wire_record *recs,
                          size_t n, const weir_wire_producer *prod, weir_producers *ps, weir_produce_done done,
                          void *ctx);

/* ---- topics made and described over a wire protocol (kafka_topics.c) ---- */

typedef struct weir_topic_config {
    uint32_t partitions;
    int64_t retention_ms;         /* -1: forever */
    int64_t retention_bytes;      /* per partition; -1: unlimited */
    int64_t segment_bytes, segment_ms;
    bool compact;                 /* cleanup policy compact, else delete */
    int64_t delete_retention_ms;  /* compact: how long a tombstone outlives its segment */
    bool pipeline;                /* the pipeline defines it: a stream, a table, or their dead letters */
} weir_topic_config;

/* A stream's settings as a topic's configuration; WEIR_ENOENT if there is
 * no such stream. */
int weir_runtime_topic_config(weir_runtime *s, const char *topic, weir_topic_config *out, weir_err *err);

/* Makes a plain topic: a stream outside the pipeline, of c's partitions,
 * retention and segments (c->compact is refused: only the pipeline's
 * streams are compacted), whose records are bytes as produced (no schema)
 * until a pipeline declares a stream of its name. WEIR_EEXIST if a stream
 * has the name, WEIR_EINVAL for a name or setting weir does not take
 * (err says which). With validate_only nothing is made. On the pipeline
 * thread (runtime_on_loop), durable before it returns. */
int weir_runtime_create_topic(weir_runtime *s, const char *topic, const weir_topic_config *c, bool validate_only,
                              weir_err *err);

/* Deletes a plain topic (not one the pipeline defines: WEIR_EINVAL, as a
 * policy; WEIR_ENOENT if there is none), its records and the consumer
 * groups' offsets of it. Checked at once (non-zero: refused, err says
 * why); otherwise done(ctx, rc, why) is called on the pipeline thread once
 * it is dropped, before its next step, with no request inside the runtime
 * (the change feeds following it end): the caller must be waiting
 * outside the runtime for it (a Kafka wait), and ctx must live until then. */
int weir_runtime_delete_topic(weir_runtime *s, const char *topic, void (*done)(void *ctx, int rc, const char *why),
                              void *ctx, weir_err *err);

/* Every consumer group that committed offsets, sorted, each once; free
 * with weir_runtime_names_free. */
int weir_runtime_group_names(weir_runtime *s, char ***names, size_t *n, weir_err *err);
void weir_runtime_names_free(char **names, size_t n);
/* The streams a consumer group committed offsets of, sorted; free with
 * weir_runtime_names_free. */
int weir_runtime_group_topics(weir_runtime *s, const char *group, char ***names, size_t *n, weir_err *err);

/* A consumer group's committed offsets of a stream's partitions (0 where
 * none was committed), shared with `weir consume --group`: WEIR_ENOENT
 * when the group never committed any for the stream. */
int weir_runtime_group_offsets(weir_runtime *s, const char *group, const char *topic, uint64_t *offsets,
                               uint32_t partitions, weir_err *err);
/* Commits offset for one partition, keeping the group's others. */
int weir_runtime_group_commit(weir_runtime *s, const char *group, const char *topic, int32_t partition,
                              uint64_t offset, weir_err *err);

#endif
