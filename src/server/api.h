/*
 * api.h - the handlers of weir's HTTP API, one file per concern:
 * api_ingest.c (records in), api_route.c (route templates), api_query.c (streams, tables, pull queries),
 * api_changes.c (changes as Server-Sent Events), api_browse.c (records by offset, time or key; consumer
 * groups), api_schemas.c (the registry), api_ops.c (health, metrics, the dashboard's files),
 * api_openapi.c (/openapi.json). api.c builds the
 * route table from them and from the pipeline's CREATE ROUTEs.
 * Every handler's ctx is the weir_server.
 */
#ifndef WEIR_API_H
#define WEIR_API_H

#include "runtime/runtime_internal.h"
#include "server/server.h"

struct weir_server {
    weir_runtime *rt;
    const weir_catalog *cat;      /* the runtime's */
    weir_server_options opt;
    weir_http *http;
    weir_http_route *routes;      /* built from the catalog and the fixed API */
    int nroutes;
};

/* The routes of api_*.c, filled into srv->routes. */
int weir_api_routes(weir_server *srv, weir_err *err);

/* Sends a runtime's answer; also an ingest's done callback (req is the
 * weir_http_req). */
void api_reply(void *req, const weir_answer *a);

int api_ingest(void *ctx, weir_http_req *req);
int api_route(void *ctx, weir_http_req *req);

int api_streams(void *ctx, weir_http_req *req);
int api_tables(void *ctx, weir_http_req *req);
int api_table(void *ctx, weir_http_req *req);
int api_query(void *ctx, weir_http_req *req);
int api_endpoint(void *ctx, weir_http_req *req);
/* The CREATE ENDPOINT a route of the table was made from, or NULL (api_endpoint.c). */
const weir_endpoint *api_endpoint_decl(const weir_server *srv, const weir_http_route *r);
/* The stream a CREATE ROUTE's route writes into, or NULL (api_route.c). */
const weir_relation *api_route_stream(const weir_server *srv, const weir_http_route *r);

/* A pull query planned and run over the service's views or log. */
typedef struct api_pulled {
    weir_arena arena;
    weir_pull pull;
    weir_pull_run *run;
    const weir_value *const *rows;
    size_t n;
} api_pulled;
/* 0 with the rows in p (free with api_pulled_free), or -1 with the error
 * answered (400 for SQL, 413/503 past --max-result-bytes/--query-timeout).
 * Runs on a worker thread (weir_http_offload): it holds the service lock
 * in turns while it reads. */
int api_pull_rows(weir_runtime *s, weir_http_req *req, const char *sql, size_t len, api_pulled *p);
/* While formatting row `row` of an answer now len bytes long: true, with
 * 413 or 503 answered, when it passed --max-result-bytes or (every 256
 * rows) --query-timeout. */
bool api_answer_over(weir_http_req *req, size_t len, size_t row);
void api_pulled_free(api_pulled *p);
int api_changes(void *ctx, weir_http_req *req);
int api_changes_many(void *ctx, weir_http_req *req);
int api_records(void *ctx, weir_http_req *req);
int api_groups(void *ctx, weir_http_req *req);
int api_pipeline(void *ctx, weir_http_req *req);
int api_sinks(void *ctx, weir_http_req *req);        /* api_sinks.c */
int api_sink_restart(void *ctx, weir_http_req *req);

int api_schema_list(void *ctx, weir_http_req *req);
int api_schema_get(void *ctx, weir_http_req *req);
int api_schema_version(void *ctx, weir_http_req *req);
int api_schema_add(void *ctx, weir_http_req *req);

int api_healthz(void *ctx, weir_http_req *req);
int api_metrics(void *ctx, weir_http_req *req);
int api_openapi(void *ctx, weir_http_req *req);
int api_static(void *ctx, weir_http_req *req);

/* Answers with b's JSON (or 500 when building it failed: rc != 0). */
void api_reply_json(weir_http_req *req, int status, int rc, weir_buf *b);

#endif
