/*
 * api_sinks.c - the pipeline's sinks over HTTP (runtime/ops.h):
 *   GET /v1/sinks                   each sink's delivery: counts, lag, state, last error
 *   POST /v1/sinks/{name}/restart   a sink stopped by a FATAL error delivers again
 *
 * A sink whose destination refused for good (runtime/sinks.c) waits in
 * state "failed" for an operator, who fixes the destination and restarts
 * it here; the sink first asks the destination how far it got, so nothing
 * is delivered twice.
 */
#include "runtime/ops.h"
#include "server/api.h"

int api_sink_restart(void *ctx, weir_http_req *req)
{
    weir_server *srv = ctx;
    weir_answer a = {0};
    weir_runtime_sink_restart(srv->rt, weir_http_param(req, "name"), &a);
    api_answer(req, &a);
    return 0;
}

int api_sinks(void *ctx, weir_http_req *req) { return api_answer_from(ctx, req, weir_runtime_sinks); }
