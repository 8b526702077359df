/*
 * source.h - what every source connector declares: the connectors that
 * feed a source stream (CREATE STREAM s (...) WITH (connector = 'name',
 * ...)), so the planner knows none by name.
 *
 * The planner keeps a source's connector name and its CREATE statement;
 * when the pipeline loads, the registry (connectors.h) checks the
 * statement's WITH options against the connector's table and calls its
 * bind(), which records in the relation what the runtime reads today
 * (file_path, kafka_topic: see plan.h). Reading records is still each
 * connector's own interface (file_source.h, polled by the server;
 * kafka_source.h, a runner input): one set of source callbacks is the
 * next step.
 */
#ifndef WEIR_SOURCE_H
#define WEIR_SOURCE_H

#include <stddef.h>

#include "conn/options.h"
#include "sql/plan.h"

typedef struct weir_source_connector {
    const char *name;          /* WITH (connector = 'name') */
    const char *help;          /* what it reads and how, for the docs */
    const weir_conn_option *options; /* its WITH options (a stream's own, partitions and so on, are not here) */
    size_t noptions;
    /* Records the checked options in rel (which rel->decl declares).
     * Called once per stream when the pipeline loads, before anything runs. */
    void (*bind)(weir_relation *rel);
} weir_source_connector;

#endif
