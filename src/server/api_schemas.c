/*
 * api_schemas.c - the schema registry over HTTP (runtime/schemas.h):
 *   GET  /v1/schemas                                subjects and their latest versions
 *   GET  /v1/schemas/{subject}                      the latest version
 *   GET  /v1/schemas/{subject}/versions/{version}   one version
 *   POST /v1/schemas/{subject}                      register a new version (201; 200 if unchanged;
 *                                                   409 if not backward compatible; 422 if not a schema)
 */
#include <stdlib.h>

#include "runtime/schemas.h"
#include "server/api.h"

static int answer_version(weir_server *srv, weir_http_req *req, int version)
{
    weir_answer a = {0};
    weir_runtime_schema(srv->rt, weir_http_param(req, "subject"), version, &a);
    api_answer(req, &a);
    return 0;
}

int api_schema_list(void *ctx, weir_http_req *req) { return api_answer_from(ctx, req, weir_runtime_schemas); }

int api_schema_get(void *ctx, weir_http_req *req) { return answer_version(ctx, req, 0); }

int api_schema_version(void *ctx, weir_http_req *req)
{
    const char *v = weir_http_param(req, "version");
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < 1 || n > 1000000) {
        weir_http_reply_error(req, 400, "a version is a number from 1, not '%s'", v);
        return 0;
    }
    return answer_version(ctx, req, (int)n);
}

int api_schema_add(void *ctx, weir_http_req *req)
{
    weir_server *srv = ctx;
    size_t len;
    const char *body = (const char *)weir_http_body(req, &len);
    weir_answer a = {0};
    weir_runtime_schema_add(srv->rt, weir_http_param(req, "subject"), body, len, &a);
    api_answer(req, &a);
    return 0;
}
