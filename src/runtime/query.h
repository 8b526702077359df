/*
 * query.h - reading the pipeline: its streams and tables, a table's rows,
 * pull queries (SELECT ... FROM a table's live view or a stream's log) and
 * the pipeline's own endpoints (CREATE ENDPOINT), each answered as JSON
 * (an endpoint in its format).
 *
 * Pull queries run on the caller's thread, never waiting for the pipeline
 * (query.c); they are bounded by weir_query_limits.
 */
#ifndef WEIR_RUNTIME_QUERY_H
#define WEIR_RUNTIME_QUERY_H

#include "runtime/runtime.h"

typedef struct weir_query_limits {
    uint64_t started_ns;          /* weir_mono_ns() when the query was asked: the timeout counts from there */
    unsigned timeout_s;           /* the answer must be ready timeout_s after started_ns, else 503 (--query-timeout) */
    size_t max_bytes;             /* the most the rows held, then the answer, may take, else 413 (--max-result-bytes) */
    bool (*cancelled)(void *ctx); /* whether the asker has given up (its server stops: 503); NULL: never */
    void *cancelled_ctx;
} weir_query_limits;

/* {"streams": [...]}: every stream of the log (the pipeline's, their dead
 * letters, others; not weir's internal ones, base/name.h) with its kind, partitions, columns, key, schema,
 * ingest counters, end offsets and the pipeline's lag. */
void weir_runtime_streams(weir_runtime *s, weir_answer *a);
/* {"tables": [...]}: every table with its columns, primary key, window and rows. */
void weir_runtime_tables(weir_runtime *s, weir_answer *a);
/* {"sql", "started_ms"}: the pipeline's SQL and when the runtime opened. */
void weir_runtime_pipeline(weir_runtime *s, weir_answer *a);

/* Runs one SELECT, or SHOW, DESCRIBE or EXPLAIN (answered from the
 * catalog: plan.h weir_plan_meta): {"columns": [{name, type}], "rows": [{...}]}; 400 for
 * bad SQL (line:column), 413 or 503 past a limit, 500. */
void weir_runtime_query(weir_runtime *s, const char *sql, size_t len, const weir_query_limits *lim, weir_answer *a);

/* Table t's rows (up to limit), or those whose first primary-key column
 * is key (as text), in key order, as weir_runtime_query answers them. */
void weir_runtime_table_rows(weir_runtime *s, const weir_relation *t, const char *key, uint64_t limit,
                             const weir_query_limits *lim, weir_answer *a);

/* Scale-out: where table t's rows of key are kept. 0: here (or the runner
 * does not share partitions); 1: in another process of the group, whose
 * address (its latest claim in the task store) goes into owner and the
 * partition ("stream/p") into task; -1: not known now, with the 503 in *a. */
int weir_runtime_key_owner(weir_runtime *s, const weir_relation *t, const char *key, char *owner, size_t owner_cap,
                           char *task, size_t task_cap, weir_answer *a);

/* Endpoint ep with values[i] for its parameter i (the path's): its SQL
 * with the values as literals (a value that does not fit is a 400 naming
 * it) runs as weir_runtime_query would, and the rows are answered in the
 * endpoint's format: a JSON array of objects, one object (404 naming
 * `path` when no row answers), an array of arrays, CSV, or an SVG line
 * plot titled `path`. */
void weir_runtime_endpoint(weir_runtime *s, const weir_endpoint *ep, const char *const *values, const char *path,
                           const weir_query_limits *lim, weir_answer *a);

#endif
