/*
 * sink.h - the one interface every sink connector implements (file,
 * kafka, clickhouse), so the server drives them all alike and the engine
 * knows none by name.
 *
 * A sink delivers the records of one log stream, partition by partition in
 * offset order. Exactly once comes from the destination itself: resume()
 * asks it how far each source partition got (Kafka record headers, a
 * ClickHouse column, a file's progress record), so a record delivered just
 * before a crash or a failed call is not delivered again. deliver() with
 * more = false makes the batch (and any before it) durable at the
 * destination or returns an error; with more = true (another batch follows
 * at once) it may return while they are still in flight and report a
 * failure on a later call. After an error the caller calls resume() again
 * before retrying; a connector that keeps a client resets it then, so no
 * leftover of a failed attempt (a queued message, a late report) can land
 * or count after the destination was asked. The caller counts records as
 * delivered only when confirmed: at a call with more = false, or after an
 * error, by what resume() finds at the destination.
 */
#ifndef WEIR_SINK_H
#define WEIR_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "conn/options.h"
#include "sql/plan.h"

typedef struct weir_sink_record {
    uint32_t partition;
    uint64_t offset;
    int64_t ts_ms;
    const uint8_t *key;        /* may be NULL */
    size_t key_len;
    const uint8_t *value;      /* a JSON object; value_len 0: none (a tombstone) */
    size_t value_len;
    const uint8_t *headers;    /* encoded (log/record.h weir_headers_next), or NULL */
    size_t headers_len;
} weir_sink_record;

typedef struct weir_sink_connector weir_sink_connector;

typedef struct weir_sink_config {
    const weir_sink_connector *conn;
    const weir_stmt *decl;     /* CREATE SINK name FROM x WITH (...), checked against conn's options */
    const weir_relation *from; /* NULL: a stream outside the catalog (a dead-letter stream) */
    uint32_t partitions;       /* of the source stream */
    const char *data_dir;
    const char *kafka_brokers; /* serve --kafka: the default brokers, or NULL */
    const char *const *kafka_config; /* serve --kafka-config: librdkafka properties (name, value, ..., NULL), or NULL */
    /* Scale-out: this process's instance id, or NULL. Other processes of
     * its group write the same destination (a partition's rows come from
     * whichever process owned it), so a connector must tell its own
     * records apart, or refuse. */
    const char *writer;
} weir_sink_config;

/* What a delivery or a resume came to. The engine owns retries: RETRY
 * (the destination is down, slow or overloaded) is tried again with
 * backoff; FATAL (the destination refuses for good: a table whose columns
 * do not match, a topic not authorised, a path that cannot be written)
 * stops the sink until an operator restarts it, so a misconfiguration
 * shows as one failure with the destination's words, not a retry storm. */
typedef enum weir_sink_result {
    WEIR_SINK_OK = 0,
    WEIR_SINK_RETRY,
    WEIR_SINK_FATAL,
} weir_sink_result;

/* Capability flags: what the engine may ask of a connector, so it never
 * has to know one by name. */
enum {
    /* Exactly once: resume() reads the destination back to learn how far
     * each source partition got. */
    WEIR_SINK_EXACTLY_ONCE = 1u << 0,
    /* May run in every process of a scale-out group: it tells the
     * processes' records apart by weir_sink_config.writer, or each process
     * writes a destination of its own. */
    WEIR_SINK_SCALE_OUT = 1u << 1,
};

struct weir_sink_connector {
    const char *name;          /* WITH (connector = 'name') */
    const char *help;          /* what it delivers to and how, for the docs */
    const weir_conn_option *options; /* its WITH options other than connector (options.h) */
    size_t noptions;
    unsigned caps;             /* WEIR_SINK_* capability flags */
    /* Prepares the state from the WITH options (already checked against
     * the table) and connects lazily: a destination that is down or
     * refuses is not an error here but at resume() or deliver(), where it
     * shows in the sink's state. Errors: out of memory, an option the
     * table's types cannot rule out. Called before the sink's thread starts. */
    int (*open)(const weir_sink_config *cfg, void **state, weir_err *err);
    /* next[p] = the first offset of source partition p not at the destination. */
    weir_sink_result (*resume)(void *state, uint64_t *next, uint32_t partitions, weir_err *err);
    weir_sink_result (*deliver)(void *state, const weir_sink_record *recs, size_t n, bool more, weir_err *err);
    void (*close)(void *state);
};

/* The values of a sink's options, through its connector's table (a
 * default is written only there); see weir_conn_text. */
const char *weir_sink_text(const weir_sink_config *cfg, const char *name);
bool weir_sink_bool(const weir_sink_config *cfg, const char *name);

/* Adds a CREATE SINK name FROM from WITH (with...) to the catalog (the
 * strings are copied into a). */
struct weir_arena;
int weir_catalog_add_sink(weir_catalog *cat, struct weir_arena *a, const char *name, const char *from,
                          const weir_with_option *with, int nwith);
/* Whether a sink of that connector reads from. */
bool weir_catalog_has_sink(const weir_catalog *cat, const char *from, const char *connector);

/* serve --clickhouse URL: every stream (sources too) and table without a
 * ClickHouse sink of its own goes to a ClickHouse table of its name,
 * created if missing (sink <name>.to_clickhouse). */
int weir_clickhouse_plan(weir_catalog *cat, struct weir_arena *a, const char *url, weir_err *err);

#endif
