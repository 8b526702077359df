/*
 * api.h - the handlers of weir's HTTP API, one file per concern:
 * api_ingest.c (records in, a source table's rows out), api_route.c (route templates), api_query.c (streams, tables, pull queries),
 * api_endpoint.c (CREATE ENDPOINTs), api_changes.c (changes as Server-Sent Events), api_browse.c (records by
 * offset, time or key; consumer groups), api_sinks.c (the sinks' delivery), api_schemas.c (the registry),
 * api_ops.c (health, metrics, the dashboard's files), api_openapi.c (/openapi.json). api.c builds the
 * route table from them and from the pipeline's CREATE ROUTEs and CREATE ENDPOINTs.
 *
 * Each handler reads its request (path parameters, query arguments,
 * headers, body), makes one call of the runtime (a runtime/ header) with plain
 * data and sends the weir_answer it gets back. Every handler's ctx is the
 * weir_server.
 */
#ifndef WEIR_API_H
#define WEIR_API_H

#include "server/server.h"

struct weir_server {
    weir_runtime *rt;             /* borrowed: outlives the server */
    const weir_catalog *cat;      /* the runtime's */
    weir_server_options opt;
    weir_http *http;
    weir_http_route *routes;      /* built from the catalog and the fixed API */
    int nroutes;
    weir_http_route **retired;    /* route tables of earlier catalogs, freed at the stop */
    int nretired;
};

/* The routes of api_*.c, filled into srv->routes. */
int weir_api_routes(weir_server *srv, weir_err *err);

/* Sends a runtime's answer; also an ingest's done callback (req is the
 * weir_http_req). */
void api_reply(void *req, const weir_answer *a);
/* Sends a runtime's answer and frees it. */
void api_answer(weir_http_req *req, weir_answer *a);
/* Answers with what fn, a runtime call that needs nothing from the
 * request, says (ctx: the weir_server); returns 0, as a handler. */
int api_answer_from(void *ctx, weir_http_req *req, void (*fn)(weir_runtime *, weir_answer *));

int api_ingest(void *ctx, weir_http_req *req);
int api_statements(void *ctx, weir_http_req *req);
int api_queries(void *ctx, weir_http_req *req);
int api_delete_row(void *ctx, weir_http_req *req);
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

/* A pull query's limits: --query-timeout from the request's arrival,
 * --max-result-bytes, and the server's stop (api_query.c). */
struct weir_query_limits;
void api_query_limits(weir_http_req *req, struct weir_query_limits *lim);

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
