/*
 * api.h - the handlers of weir's HTTP API, one file per concern:
 * api_ingest.c (records in), api_query.c (streams, tables, pull queries,
 * changes as Server-Sent Events), api_schemas.c (the registry), api_ops.c
 * (health, metrics, OpenAPI, the dashboard's files). api.c builds the
 * route table from them and from the pipeline's CREATE ROUTEs.
 * Every handler's ctx is the weir_service.
 */
#ifndef WEIR_API_H
#define WEIR_API_H

#include "server/service_internal.h"

int api_ingest(void *ctx, weir_http_req *req);
int api_route(void *ctx, weir_http_req *req);

int api_streams(void *ctx, weir_http_req *req);
int api_tables(void *ctx, weir_http_req *req);
int api_table(void *ctx, weir_http_req *req);
int api_query(void *ctx, weir_http_req *req);
int api_changes(void *ctx, weir_http_req *req);
int api_pipeline(void *ctx, weir_http_req *req);
int api_sinks(void *ctx, weir_http_req *req);

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
