/*
 * api_sinks.c - the pipeline's sinks over HTTP:
 *   GET /v1/sinks                   each sink's delivery: counts, lag, state, last error
 *   POST /v1/sinks/{name}/restart   a sink stopped by a FATAL error delivers again
 *
 * A sink whose destination refused for good (sinks.c) waits in state
 * "failed" for an operator, who fixes the destination and restarts it
 * here; the sink first asks the destination how far it got, so nothing is
 * delivered twice.
 */
#include <string.h>

#include "json/json.h"
#include "server/api.h"
#include "runtime/sinks.h"

int api_sink_restart(void *ctx, weir_http_req *req)
{
    weir_runtime *s = ((weir_server *)ctx)->rt;
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

/* A name, as a JSON member "key":"value". */
static int put_member(weir_buf *b, const char *key, const char *value)
{
    return weir_buf_printf(b, "\"%s\":", key) || weir_json_quote(b, value, strlen(value));
}

int api_sinks(void *ctx, weir_http_req *req)
{
    weir_runtime *s = ((weir_server *)ctx)->rt;
    weir_buf b = {0};
    int rc = weir_buf_append_str(&b, "{\"sinks\":[");
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < s->nsinks && !rc; i++) {
        weir_sink_status st;
        weir_sink_stats(s->sinks[i], &st);
        rc = weir_buf_append_str(&b, i ? ",{" : "{") || put_member(&b, "name", st.name) || weir_buf_append_str(&b, ",") ||
             put_member(&b, "from", st.from) || weir_buf_append_str(&b, ",") || put_member(&b, "connector", st.connector) ||
             weir_buf_printf(&b, ",\"delivered\":%llu,\"failures\":%llu,\"lag\":%llu,\"up\":%s,\"state\":\"%s\",",
                             (unsigned long long)st.delivered, (unsigned long long)st.failures, (unsigned long long)st.lag,
                             st.healthy ? "true" : "false", st.state) ||
             put_member(&b, "last_error", st.last_error) || weir_buf_append_str(&b, "}");
    }
    pthread_mutex_unlock(&s->lock);
    rc = rc || weir_buf_append_str(&b, "]}\n");
    api_reply_json(req, 200, rc, &b);
    weir_buf_free(&b);
    return 0;
}
