/*
 * server.c - starting and stopping the HTTP server over a runtime (see
 * server.h).
 */
#include "server/server.h"

#include <stdio.h>
#include <stdlib.h>

#include "server/api.h"

static void gate_enter(void *ctx) { weir_runtime_enter(ctx); }
static void gate_leave(void *ctx) { weir_runtime_leave(ctx); }

/* A statement changed the catalog (no handler runs meanwhile): the routes
 * of its CREATE ROUTEs and CREATE ENDPOINTs follow. The old table stays
 * until the stop: a request may have matched it before. */
static void on_catalog(void *ctx, const weir_catalog *cat)
{
    weir_server *srv = ctx;
    weir_http_route *old = srv->routes, **retired = realloc(srv->retired, (size_t)(srv->nretired + 1) * sizeof *retired);
    int nold = srv->nroutes;
    weir_err err = {0};
    if (retired)
        srv->retired = retired;
    srv->cat = cat;
    if (!retired || weir_api_routes(srv, &err)) { /* out of memory: the old routes stay */
        fprintf(stderr, "weir serve: warning: the routes were not updated: out of memory\n");
        srv->routes = old;
        srv->nroutes = nold;
        return;
    }
    srv->retired[srv->nretired++] = old;
    weir_http_set_routes(srv->http, srv->routes, srv->nroutes);
}

int weir_server_start(weir_runtime *rt, const weir_server_options *opt, weir_server **out, weir_err *err)
{
    *out = NULL;
    weir_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    srv->rt = rt;
    srv->cat = weir_runtime_catalog(rt);
    srv->opt = *opt;
    srv->opt.http.gate_enter = gate_enter;
    srv->opt.http.gate_leave = gate_leave;
    srv->opt.http.gate_ctx = rt;
    int rc = weir_api_routes(srv, err);
    if (rc == WEIR_OK)
        rc = weir_http_start(&srv->opt.http, srv->routes, srv->nroutes, &srv->http, err);
    if (rc) {
        weir_server_stop(srv);
        return rc;
    }
    weir_runtime_on_catalog(rt, on_catalog, srv);
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
    for (int i = 0; i < srv->nretired; i++)
        free(srv->retired[i]);
    free(srv->retired);
    free(srv);
}
