/*
 * ops.h - what operators look at: the runtime's health, its metrics, and
 * the sinks' delivery (with the restart of one stopped by a FATAL error).
 */
#ifndef WEIR_RUNTIME_OPS_H
#define WEIR_RUNTIME_OPS_H

#include "runtime/runtime.h"

/* {"status": "ok" | "paused" | "stopping", uptime_s, checkpoint_age_s,
 * paused (why, while paused), disk_free_bytes}: 200, or 503 once the last
 * checkpoint is under way. Never waits for a pipeline step: it answers
 * from what the pipeline published after its last one. */
void weir_runtime_health(weir_runtime *s, weir_answer *a);

/* Appends the runtime's metrics in Prometheus text format 0.0.4 to b
 * (the process, the log's streams, ingest, queries, sinks, scale-out):
 * 0 or WEIR_ENOMEM. They read the runner, so they are made on the
 * pipeline thread between two steps: the call waits for the step under way. */
int weir_runtime_metrics(weir_runtime *s, weir_buf *b);
/* GET /v1/queries: each continuous query, the group of statements it came
 * with (null: the pipeline file), what it reads and writes, its counters,
 * the records of its inputs it has yet to read and its runner's last
 * checkpoint. */
void weir_runtime_queries(weir_runtime *s, weir_answer *a);

/* {"sinks": [{name, from, connector, delivered, failures, lag, up, state,
 * last_error}]}; state is "delivering", "retrying" or "failed". */
void weir_runtime_sinks(weir_runtime *s, weir_answer *a);

/* Restarts a sink its connector stopped as FATAL: it asks the destination
 * where it got to and delivers on. 200 {"sink", "restarted": true}; 404:
 * no such sink; 409: it has not failed. */
void weir_runtime_sink_restart(weir_runtime *s, const char *name, weir_answer *a);

#endif
