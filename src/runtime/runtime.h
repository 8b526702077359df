/*
 * runtime.h - `weir serve` with its HTTP interface: the pipeline loop and
 * the server share the log, the engine and the live table views under one
 * lock.
 *
 * The pipeline thread calls weir_runtime_step in a loop. HTTP handlers
 * append ingested records under the lock and wait (without a thread) for
 * the step's group commit; each step then answers every request whose
 * records it made durable, feeds the live table views and sends new
 * changelog records to Server-Sent Events subscribers.
 */
#ifndef WEIR_RUNTIME_H
#define WEIR_RUNTIME_H

#include "exec/runner.h"
#include "server/http.h"

typedef struct weir_runtime weir_runtime;

typedef struct weir_runtime_options {
    weir_http_options http;
    const char *web_dir;          /* the dashboard's files; NULL: no dashboard */
    size_t max_inflight_bytes;    /* ingest bodies waiting for their commit; beyond: 503; 0: 256 MiB */
    uint64_t disk_quota;          /* ingest answers 503 while the log's segments hold more; 0: none */
    uint64_t min_free;            /* ingest answers 503 while the data directory's file system has less free;
                                     after a full disk the pipeline resumes once this much (at least 1 MiB) is free */
    const weir_runner_options *runner;
    const char *kafka_brokers;    /* serve --kafka: sinks' default brokers */
    const char *stdin_stream;     /* serve --stdin: NDJSON on standard input goes to this source, or NULL */
    const char *schemas_dir;      /* serve --schemas: DIR/<subject>.json registered at start, or NULL */
} weir_runtime_options;

/* Opens the runner (restoring its checkpoint), builds the live table views
 * from the tables' changelogs, loads the schema registry and starts the
 * HTTP server. */
int weir_runtime_start(weir_log *log, const weir_catalog *cat, const char *sql, size_t sql_len,
                       const weir_runtime_options *opt, weir_runtime **out, weir_err *err);

/* One pipeline step at wall time now_ms (see weir_runner_step), then the
 * answers, views and subscribers. *processed: input records consumed.
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

/* The pipeline's runner: replaced when a pause ends, so ask again after each step. */
weir_runner *weir_runtime_runner(weir_runtime *s);
uint16_t weir_runtime_port(const weir_runtime *s);
/* Saved schema versions that did not compile at start, one per line, for
 * the CLI to print ("" if none; see weir_registry_warnings). */
const char *weir_runtime_schema_warnings(const weir_runtime *s);

/* Whether every file source had nothing more to read at the last step
 * (and standard input, with stdin_stream, had ended). */
bool weir_runtime_files_at_eof(weir_runtime *s);

/* Waits until every sink has delivered all it may, as long as they make
 * progress: false after timeout_ms without any record delivered. */
bool weir_runtime_sinks_drained(weir_runtime *s, int timeout_ms);

/* Stops the server (requests still waiting get their answer or 503), then
 * frees everything but the log. */
void weir_runtime_stop(weir_runtime *s);

#endif
