/*
 * server.c - starting and stopping the HTTP server over a runtime (see
 * server.h).
 */
#include "server/server.h"

#include <stdlib.h>

#include "server/api.h"

int weir_server_start(weir_runtime *rt, const weir_server_options *opt, weir_server **out, weir_err *err)
{
    *out = NULL;
    weir_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    srv->rt = rt;
    srv->cat = weir_runtime_catalog(rt);
    srv->opt = *opt;
    int rc = weir_api_routes(srv, err);
    if (rc == WEIR_OK)
        rc = weir_http_start(&srv->opt.http, srv->routes, srv->nroutes, &srv->http, err);
    if (rc) {
        weir_server_stop(srv);
        return rc;
    }
    *out = srv;
    return WEIR_OK;
}

uint16_t weir_server_port(const weir_server *srv) { return weir_http_port(srv->http); }

void weir_server_stop(weir_server *srv)
{
    if (!srv)
        return;
    weir_http_stop(srv->http);
    free(srv->routes);
    free(srv);
}
