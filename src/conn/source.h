/*
 * source.h - the one interface every source connector implements: the
 * connectors that feed a source stream (CREATE STREAM s (...) WITH
 * (connector = 'name', ...)), so that neither the planner nor the runtime
 * knows one by name (Fluent Bit's input plugins are the model).
 *
 * The planner keeps a source's connector name and its CREATE statement.
 * When the pipeline loads, the registry (connectors.h) checks the
 * statement's WITH options against the connector's table and calls its
 * bind(), which keeps what the connector will need in the relation
 * (rel->source_conf, opaque to everyone else). A connector then brings
 * records in one of two ways, and has exactly one of the two callbacks:
 *  - an ingest feed (open_feed): the connector reads records and hands
 *    them to the runtime's ingest admission (weir_feed_admit: the schema
 *    check, dead letters and append HTTP ingest goes through), from one
 *    poll callback the runtime calls on the pipeline thread each step; the
 *    pipeline reads the stream as any other (the file source);
 *  - a runner input (open_input): the runner reads the connector directly
 *    through exec/input.h's ops, instead of the stream's log, at the
 *    offsets of its own checkpoint (a Kafka topic).
 * What else the runtime may do with the stream (take HTTP ingest) it
 * learns from the capability flags. Adding a source connector is its own
 * file and one line in connectors.c.
 */
#ifndef WEIR_SOURCE_H
#define WEIR_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "conn/options.h"
#include "exec/input.h"
#include "log/log.h"
#include "sql/plan.h"

/* Capability flags: what the runtime may do with a connector's stream. */
enum {
    /* The stream also takes records from producers (HTTP ingest, routes,
     * weir produce to a running server). Without it the connector alone
     * feeds the stream, so that it knows what the stream holds, and ingest
     * is answered 409. */
    WEIR_SOURCE_INGEST = 1u << 0,
};

/* A record a feed read: its JSON text, and where it was in the feed's
 * input (a file's line, from 1; 0: nowhere to come back to). The record
 * keeps a position in its WEIR_FEED_POSITION header (decimal), in the
 * stream or in its dead letters, so that a feed can tell after a restart
 * how much of its input the stream already holds. */
typedef struct weir_feed_record {
    const char *text;
    size_t len;
    uint64_t position;
} weir_feed_record;

#define WEIR_FEED_POSITION "weir.feed.position"

/* Where a feed's records go: the runtime's ingest admission, as HTTP
 * ingest's. Each record is checked against the stream's schema; one that
 * breaks it goes to <stream>.dlq (a feed has no client to refuse it to),
 * the others to the stream, all in the step's commit. An error (the
 * stream's schema has no version yet, the disk is full) stops the
 * pipeline. */
typedef struct weir_feed_admit {
    int (*admit)(void *ctx, const weir_feed_record *recs, size_t n, weir_err *err);
    void *ctx;
} weir_feed_admit;

/* An open ingest feed; the runtime closes it when it stops. */
typedef struct weir_source_feed {
    /* Hands `to` the records that arrived, reading up to max_bytes of
     * input; *admitted: how many; *eof when there is nothing more right
     * now (or ever). Called on the pipeline thread each step, which then
     * commits the log. */
    int (*poll)(void *state, size_t max_bytes, const weir_feed_admit *to, uint64_t *admitted, bool *eof, weir_err *err);
    void (*close)(void *state);
    void *state;
} weir_source_feed;

typedef struct weir_source_connector {
    const char *name;          /* WITH (connector = 'name') */
    const char *help;          /* what it reads and how, for the docs */
    const weir_conn_option *options; /* its WITH options (a stream's own, partitions and so on, are not here) */
    size_t noptions;
    unsigned caps;             /* WEIR_SOURCE_* capability flags */
    size_t conf_size;          /* of what bind() keeps */
    /* Keeps what open_feed or open_input will need of rel's checked
     * options (rel->decl's WITH) in conf: conf_size zeroed bytes in the
     * catalog's arena, which become rel->source_conf. Called once per
     * stream when the pipeline loads, before anything runs. */
    void (*bind)(const weir_relation *rel, void *conf);
    /* An ingest feed into rel's stream of log (which exists), or NULL.
     * Called when the runtime starts; rel->source_conf is what bind() kept. */
    int (*open_feed)(weir_log *log, const weir_relation *rel, weir_source_feed *out, weir_err *err);
    /* A runner input, or NULL: weir_input_open_fn's contract (input.h)
     * for rel, called on the pipeline thread whenever the runner opens
     * (again, after a full disk); rel->source_conf is what bind() kept. */
    int (*open_input)(const weir_relation *rel, const uint64_t *offsets, uint32_t partitions,
                      const weir_input_tasks *tasks, const weir_input_ops **ops, void **state, weir_err *err);
    /* With open_input: whether sink, a CREATE SINK reading rel, is what
     * writes rel's ingest into the input itself (Kafka's forwarding sink,
     * into the topic the stream reads), and so reads rel's log. Every
     * other sink of rel reads the input, which holds all of rel's records
     * where the log holds only those ingested here: through open_input
     * (tasks NULL), called on that sink's thread at the sink's own
     * offsets. NULL: every sink of rel reads the log. */
    bool (*feeds_input)(const weir_relation *rel, const weir_stmt *sink);
} weir_source_connector;

#endif
