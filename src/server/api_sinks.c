/*
 * api_sinks.c - operating the pipeline's sinks over HTTP:
 *   POST /v1/sinks/{name}/restart   a sink stopped by a FATAL error delivers again
 *
 * A sink whose destination refused for good (sinks.c) waits in state
 * "failed" for an operator, who fixes the destination and restarts it
 * here; the sink first asks the destination how far it got, so nothing is
 * delivered twice. Reading the sinks' state is GET /v1/sinks.
 */
#include <string.h>

#include "json/json.h"
#include "server/api.h"
#include "server/sinks.h"

int api_sink_restart(void *ctx, weir_http_req *req)
{
    weir_service *s = ctx;
    const char *name = weir_http_param(req, "name");
    weir_err err = {0};
    int rc = weir_sinks_restart(s, name, &err);
    if (rc == WEIR_ENOENT)
        weir_http_reply_error(req, 404, "%s", err.msg);
    else if (rc)
        weir_http_reply_error(req, 409, "%s", err.msg);
    if (rc)
        return 0;
    weir_buf b = {0};
    rc = weir_buf_append_str(&b, "{\"sink\":") || weir_json_quote(&b, name, strlen(name)) ||
         weir_buf_append_str(&b, ",\"restarted\":true}\n");
    api_reply_json(req, 200, rc, &b);
    weir_buf_free(&b);
    return 0;
}
