/*
 * clickhouse.h - what the ClickHouse sink's files share: the sink's state,
 * one HTTP request, the table's DDL (clickhouse_schema.c) and the rows of
 * an INSERT (clickhouse_rows.c). Private to src/conn/clickhouse_*.c; the
 * connector itself is weir_sink_clickhouse (connectors.h).
 */
#ifndef WEIR_CONN_CLICKHOUSE_H
#define WEIR_CONN_CLICKHOUSE_H

#include <curl/curl.h>
#include <stdbool.h>

#include "base/buf.h"
#include "conn/sink.h"

typedef struct clickhouse_sink {
    char name[256];
    char url[1024];            /* as given, less trailing slashes (may hold user:password@) */
    char shown[1024];          /* url without its user:password@, for errors */
    char table[256];
    const char *user, *password, *database, *ca_file; /* options, or NULL; borrowed from the pipeline */
    bool create, created;
    bool probed;               /* the server's version was asked (once per open) */
    bool datetime64;           /* the server has DateTime64 (20.1 and later); else timestamps add <col>_ms */
    bool deletes;              /* a table's sink: the table has _weir_deleted (asked at each resume) */
    const weir_relation *from; /* the source: its columns, and for a table its primary key */
    CURL *curl;
    CURLcode curl_code;        /* curl's result for the last request */
    long status;               /* the HTTP status of the last request; 0 when ClickHouse did not answer */
    char why[CURL_ERROR_SIZE]; /* curl's words for the last request's failure (its error buffer) */
    weir_buf body, answer, query;
    weir_buf extra;            /* a row's <col>_ms members while it is written (clickhouse_rows.c) */
    weir_buf key;              /* a tombstone's key as a JSON object (clickhouse_rows.c) */
} clickhouse_sink;

/* POSTs body to the server with the SQL query (and &settings, or NULL);
 * ClickHouse's answer, NUL-terminated, in c->answer. WEIR_EIO with the
 * server's or curl's words when it did not answer 200. */
int clickhouse_post(clickhouse_sink *c, const char *query, const char *settings, const void *body, size_t len,
                    weir_err *err);

/* Asks the server's version once (SELECT version()): whether it has
 * DateTime64. */
int clickhouse_probe(clickhouse_sink *c, weir_err *err);

/* CREATE TABLE IF NOT EXISTS for the sink's source (after the probe): a
 * stream as a MergeTree, a table as a ReplacingMergeTree over its primary
 * key, versioned by _weir_offset, with _weir_deleted UInt8 (1: the row
 * left the table). */
int clickhouse_create_table(clickhouse_sink *c, weir_err *err);

/* Sets c->deletes: whether the sink's ClickHouse table has the column
 * _weir_deleted (one made before deletes were delivered has not). */
int clickhouse_probe_deletes(clickhouse_sink *c, weir_err *err);

/* Appends record r to c->body as a JSONEachRow line: its members, its
 * timestamps written with milliseconds (and <col>_ms beside them when the
 * server lacks DateTime64), then _weir_partition and _weir_offset. A
 * table's tombstone (no value) is its key's columns and _weir_deleted = 1;
 * a stream's record that is not a JSON object (a tombstone, or what only a
 * topic a Kafka source reads can hold, dead-lettered by the pipeline) is
 * left out. WEIR_EINVAL when a table's record is not a JSON object, or a
 * tombstone's key does not fit the table's key or it has no
 * _weir_deleted; WEIR_ENOMEM. */
int clickhouse_row(clickhouse_sink *c, const weir_sink_record *r, weir_err *err);

#endif
