/*
 * api_ops.c - what operators and browsers fetch: /healthz and /metrics
 * (the runtime's, runtime/ops.h, then the HTTP server's own in Prometheus
 * text format 0.0.4) and the dashboard's static files (with /docs, the API
 * reference; /openapi.json is api_openapi.c's).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/io.h"
#include "runtime/ops.h"
#include "server/api.h"

/* GET /healthz: public, answered on an HTTP thread; the runtime never
 * makes it wait for a pipeline step. */
int api_healthz(void *ctx, weir_http_req *req) { return api_answer_from(ctx, req, weir_runtime_health); }
int api_queries(void *ctx, weir_http_req *req) { return api_answer_from(ctx, req, weir_runtime_queries); }

/* ---- /metrics ---- */

static int family(weir_buf *b, const char *name, const char *type, const char *help)
{
    return weir_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}
static int http_metrics(weir_server *srv, weir_buf *b)
{
    weir_http_stats st;
    weir_http_get_stats(srv->http, &st);
    int rc = family(b, "weir_http_requests_total", "counter", "HTTP requests answered, by status code.");
    for (int c = 1; c < 6 && !rc; c++)
        for (int d = 0; d < 100 && !rc; d++)
            if (st.by_status[c][d])
                rc = weir_buf_printf(b, "weir_http_requests_total{code=\"%d\"} %llu\n", c * 100 + d,
                                     (unsigned long long)st.by_status[c][d]);
    rc = rc || family(b, "weir_http_request_duration_seconds", "histogram", "Time from a request's headers to its answer.");
    for (int i = 0; i < WEIR_HTTP_LATENCY_BUCKETS && !rc; i++) {
        if (i + 1 < WEIR_HTTP_LATENCY_BUCKETS)
            rc = weir_buf_printf(b, "weir_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                                 weir_http_latency_bounds[i], (unsigned long long)st.latency_le[i]);
        else
            rc = weir_buf_printf(b, "weir_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                                 (unsigned long long)st.latency_le[i]);
    }
    return rc || weir_buf_printf(b, "weir_http_request_duration_seconds_sum %.6f\nweir_http_request_duration_seconds_count %llu\n",
                                 st.latency_sum_s, (unsigned long long)st.latency_count) ||
           family(b, "weir_http_open_connections", "gauge", "Open HTTP connections.") ||
           weir_buf_printf(b, "weir_http_open_connections %llu\n", (unsigned long long)st.open_connections) ||
           family(b, "weir_http_deadline_closes_total", "counter",
                  "Connections closed for sending their headers or body too slowly (--header-timeout, --body-timeout).") ||
           weir_buf_printf(b, "weir_http_deadline_closes_total %llu\n", (unsigned long long)st.deadline_closes);
}

int api_metrics(void *ctx, weir_http_req *req)
{
    weir_buf b = {0};
    int rc = weir_runtime_metrics(((weir_server *)ctx)->rt, &b) || http_metrics(ctx, &b);
    if (rc)
        weir_http_reply_error(req, 500, "out of memory");
    else
        weir_http_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
    weir_buf_free(&b);
    return 0;
}

/* ---- the dashboard's files ---- */

static const char *media_type(const char *path)
{
    static const struct { const char *ext, *type; } types[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"}, {".png", "image/png"}, {".json", "application/json"},
        {".ico", "image/x-icon"}, {".map", "application/json"}, {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof *types; i++)
        if (!strcmp(dot, types[i].ext))
            return types[i].type;
    return "application/octet-stream";
}

/* GET /{file}: a file under the dashboard's directory, nothing outside it:
 * plain names only (weir_http_plain_path), and the resolved path (links
 * followed) must stay inside. */
int api_static(void *ctx, weir_http_req *req)
{
    weir_server *srv = ctx;
    const char *path = weir_http_path(req);
    if (!strncmp(path, "/v1/", 4)) {
        weir_http_reply_error(req, 404, "no route for GET %s", path);
        return 0;
    }
    if (!srv->opt.web_dir) {
        weir_http_reply_error(req, 404, "this weir serve has no dashboard (--web DIR names its files)");
        return 0;
    }
    if (!strcmp(path, "/"))
        path = "/index.html";
    else if (!strcmp(path, "/docs")) /* Swagger UI over /openapi.json */
        path = "/docs.html";
    bool plain = weir_http_plain_path(path);
    char root[PATH_MAX], want[PATH_MAX + 600], real[PATH_MAX];
    snprintf(want, sizeof want, "%s%s", srv->opt.web_dir, path);
    if (!plain || !realpath(srv->opt.web_dir, root) || !realpath(want, real) || strncmp(real, root, strlen(root)) ||
        real[strlen(root)] != '/') {
        weir_http_reply_error(req, 404, "no file %s", weir_http_path(req));
        return 0;
    }
    char *data;
    size_t len;
    weir_err err;
    int rc = weir_io_read_file(&weir_io_posix, real, &data, &len, &err);
    if (rc) {
        weir_http_reply_error(req, 404, "no file %s", weir_http_path(req));
        return 0;
    }
    weir_http_reply_header(req, "Cache-Control", "no-cache");
    weir_http_reply_header(req, "X-Content-Type-Options", "nosniff");
    weir_http_reply(req, 200, media_type(real), data, len);
    free(data);
    return 0;
}
