/*
 * api_endpoint.c - the pipeline's endpoints (CREATE ENDPOINT 'GET
 * /part/{x}' AS SELECT ... WHERE value = {x}): the path's parameters go to
 * the runtime (runtime/query.h), which runs the query and answers in the
 * endpoint's format. It runs on a query thread, as pull queries do
 * (api_query.c), bounded the same way.
 */
#include <string.h>

#include "runtime/query.h"
#include "server/api.h"

const weir_endpoint *api_endpoint_decl(const weir_server *srv, const weir_http_route *r)
{
    for (int i = 0; i < srv->cat->nendpoints; i++) /* by its text: a statement since the match may have made a new catalog */
        if (!strcmp(srv->cat->endpoints[i].path, r->path))
            return &srv->cat->endpoints[i];
    return NULL;
}

static int endpoint_now(void *ctx, weir_http_req *req)
{
    weir_server *srv = ctx;
    const weir_http_route *hr = weir_http_route_of(req);
    const weir_endpoint *ep = api_endpoint_decl(srv, hr);
    if (!ep) {
        weir_http_reply_error(req, 500, "endpoint %s lost its declaration", hr->path);
        return 0;
    }
    if (ep->nparams > 32) {
        weir_http_reply_error(req, 400, "too many parameters");
        return 0;
    }
    const char *values[32] = {0};
    for (int i = 0; i < ep->nparams; i++)
        values[i] = weir_http_param(req, ep->params[i].name);
    weir_query_limits lim;
    weir_answer a = {0};
    api_query_limits(req, &lim);
    weir_runtime_endpoint(srv->rt, ep, values, weir_http_path(req), &lim, &a);
    api_answer(req, &a);
    return 0;
}

int api_endpoint(void *ctx, weir_http_req *req) { return weir_http_offload(req, endpoint_now, ctx); }
