/*
 * server.h - weir's HTTP API over a runtime (runtime/runtime.h): the route
 * table (weir's fixed API, the pipeline's CREATE ROUTEs and CREATE
 * ENDPOINTs, the dashboard's files) served by http.c.
 *
 * The server holds no log, engine or runner: each handler (api_*.c) turns
 * a request into one call of the runtime and the runtime's answer into the
 * reply.
 */
#ifndef WEIR_SERVER_H
#define WEIR_SERVER_H

#include "runtime/runtime.h"
#include "server/http.h"

typedef struct weir_server weir_server;

typedef struct weir_server_options {
    weir_http_options http;
    const char *web_dir;          /* the dashboard's files; NULL: no dashboard */
} weir_server_options;

/* Builds the routes from the runtime's catalog and starts serving them;
 * rt is borrowed until weir_server_stop. */
int weir_server_start(weir_runtime *rt, const weir_server_options *opt, weir_server **out, weir_err *err);
/* The port actually bound (for listen ":0"). */
uint16_t weir_server_port(const weir_server *srv);
/* Stops serving: requests still deferred get 503, streams end; after this
 * no handler runs. Call weir_runtime_hang_up before (see runtime.h). */
void weir_server_stop(weir_server *srv);

#endif
