/*
 * api_ingest.c - POST /v1/streams/{s}: records in over HTTP (NDJSON, a
 * JSON array or one object); DELETE /v1/tables/{t}?key=K: a source
 * table's row out. The runtime admits them (runtime/ingest.h); the
 * request sleeps until it answers, once they are durable.
 */
#include "runtime/ingest.h"
#include "server/api.h"

int api_ingest(void *ctx, weir_http_req *req)
{
    weir_server *srv = ctx;
    size_t len;
    const char *body = (const char *)weir_http_body(req, &len);
    weir_http_defer(req); /* the answer may come from the pipeline thread */
    weir_runtime_ingest(srv->rt, weir_http_param(req, "s"), WEIR_INGEST_BATCH, body, len, api_reply, req);
    return WEIR_HTTP_DEFERRED;
}

int api_delete_row(void *ctx, weir_http_req *req)
{
    weir_server *srv = ctx;
    weir_http_defer(req); /* the answer may come from the pipeline thread */
    weir_runtime_delete_row(srv->rt, weir_http_param(req, "t"), weir_http_query(req, "key"), api_reply, req);
    return WEIR_HTTP_DEFERRED;
}
