/*
 * sinks.h - the delivery threads of a pipeline's sinks (see sinks.c).
 */
#ifndef WEIR_RUNTIME_SINKS_H
#define WEIR_RUNTIME_SINKS_H

#include "conn/sink.h"
#include "runtime/runtime_internal.h"

/* Opens every CREATE SINK's connector and starts its thread; writer: the
 * instance id in scale-out mode (weir_sink_config), or NULL. */
int weir_sinks_start(weir_runtime *s, const char *kafka_brokers, const char *writer, weir_err *err);
/* Stops and joins the threads, closes the connectors. */
void weir_sinks_stop(weir_runtime *s);
/* The runner's delivered callback (runner.h), ctx the runtime. */
uint64_t weir_sinks_delivered(void *ctx, const char *stream, uint32_t partition);
/* Shows the sinks' threads how far each pipeline output's last checkpoint
 * reaches (what they may deliver); on the pipeline thread, after each step. */
void weir_sinks_publish_ends(weir_runtime *s);
/* Records delivered by all sinks so far (progress, for serve --once). */
uint64_t weir_sinks_delivered_total(weir_runtime *s);
/* Whether every sink has delivered all it may (for serve --once). */
bool weir_sinks_drained(weir_runtime *s);

/* Restarts a sink its connector stopped as FATAL (POST
 * /v1/sinks/{name}/restart): it asks the destination where it got to and
 * delivers on. WEIR_ENOENT: no such sink; WEIR_EINVAL: it has not failed
 * (err says what it is doing). */
int weir_sinks_restart(weir_runtime *s, const char *name, weir_err *err);
typedef struct weir_sink_status {
    const char *name, *from, *connector;
    uint64_t delivered, failures, lag;
    bool healthy;              /* the last attempt succeeded */
    char last_error[256];
    bool failed;               /* stopped by a FATAL error until restarted (then healthy is false too) */
    const char *state;         /* "delivering", "retrying" (RETRY, with backoff) or "failed" (FATAL) */
} weir_sink_status;

/* A sink's counters, from any thread. */
void weir_sink_stats(sink_run *k, weir_sink_status *out);

#endif
