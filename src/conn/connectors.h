/*
 * connectors.h - the registry of connectors: the layers above (the
 * runtime's sink supervision, pipeline loading, the docs generator) find
 * connectors here, by the name a pipeline gives, and learn what they can
 * do from their capability flags, never by name or address.
 *
 * The planner (sql/) keeps a connector's WITH options as they were written
 * (a CREATE SINK statement; a source stream's connector and statement) and
 * the check runs here, when the pipeline loads: sql sits below conn, so
 * this way it needs no callback into the tables and no registration at
 * run time, and an error still carries the option's line:col.
 */
#ifndef WEIR_CONNECTORS_H
#define WEIR_CONNECTORS_H

#include <stddef.h>

#include "conn/sink.h"
#include "conn/source.h"

/* The registered sink connectors, in registration order (i < count). */
size_t weir_sink_connector_count(void);
const weir_sink_connector *weir_sink_connector_at(size_t i);
/* The sink connector of that name, or NULL. */
const weir_sink_connector *weir_sink_connector_find(const char *name);

/* The registered source connectors, likewise. */
size_t weir_source_connector_count(void);
const weir_source_connector *weir_source_connector_at(size_t i);
const weir_source_connector *weir_source_connector_find(const char *name);
/* The connector feeding source stream rel (rel->connector), or NULL: a
 * stream without one, fed by ingest alone. */
const weir_source_connector *weir_source_connector_of(const weir_relation *rel);

/* Opens rel's ingest feed (source.h) when its connector has one; else
 * *out is all NULL (out->poll tells). */
int weir_source_open_feed(weir_log *log, const weir_relation *rel, weir_source_feed *out, weir_err *err);
/* A weir_input_open_fn (exec/input.h; ctx unused) for the runner: rel's
 * connector's runner input, or *ops NULL when the runner reads rel from
 * the log. */
int weir_source_open_input(void *ctx, const weir_relation *rel, const uint64_t *offsets, uint32_t partitions,
                           const weir_input_tasks *tasks, const weir_input_ops **ops, void **state, weir_err *err);

/* The capability flags (sink.h, source.h) in words, for the docs. */
typedef struct weir_conn_cap {
    unsigned flag;             /* a WEIR_SINK_* or WEIR_SOURCE_* bit */
    const char *name;          /* "exactly once" */
    const char *meaning;       /* one sentence */
} weir_conn_cap;
extern const weir_conn_cap weir_sink_caps[];
extern const size_t weir_sink_ncaps;
extern const weir_conn_cap weir_source_caps[];
extern const size_t weir_source_ncaps;

/* Checks every CREATE SINK and every source stream with a connector
 * against the registry: the connector is named and known, and the WITH
 * options fit its table (weir_conn_options_check); then binds each source
 * (weir_source_connector.bind: what it keeps is allocated in a). Run when
 * a pipeline loads, before anything starts: an error carries the option's
 * line:col. */
int weir_connectors_check(weir_catalog *cat, weir_arena *a, weir_sql_error *e);

#endif
