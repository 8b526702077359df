/*
 * api_ops.c - what operators and browsers fetch: /healthz, /metrics
 * (Prometheus text format 0.0.4) and the dashboard's static files (with
 * /docs, the API reference; /openapi.json is api_openapi.c's).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/io.h"
#include "exec/engine.h"
#include "json/json.h"
#include "server/api.h"
#include "runtime/sinks.h"

/* GET /healthz never waits for the pipeline: a step or a checkpoint of a
 * large state holds the service lock for hundreds of milliseconds, and a
 * health check must answer in a few. When the lock is busy it answers
 * from its last look; checkpoint_age_s then counts from the last
 * checkpoint seen, so a pipeline stuck holding the lock shows as a
 * growing age, never as a younger one. (The first look waits for the
 * lock: before it there is nothing to answer from.) */
int api_healthz(void *ctx, weir_http_req *req)
{
    weir_runtime *s = ((weir_server *)ctx)->rt;
    weir_buf b = {0};
    pthread_mutex_lock(&s->health_lock);
    bool looked = s->health.looked;
    pthread_mutex_unlock(&s->health_lock);
    if ((looked ? pthread_mutex_trylock(&s->lock) : pthread_mutex_lock(&s->lock)) == 0) {
        pthread_mutex_lock(&s->health_lock);
        s->health.looked = true;
        s->health.checkpoint_ms = weir_runner_checkpoint_ms(s->runner);
        s->health.closing = s->closing;
        s->health.paused = s->paused;
        snprintf(s->health.paused_why, sizeof s->health.paused_why, "%s", s->paused_why);
        s->health.disk_free = s->disk_free;
        pthread_mutex_unlock(&s->health_lock);
        pthread_mutex_unlock(&s->lock);
    }
    pthread_mutex_lock(&s->health_lock);
    bool closing = s->health.closing;
    int rc = weir_buf_printf(&b, "{\"status\":\"%s\",\"uptime_s\":%.3f,\"checkpoint_age_s\":%.3f",
                             closing ? "stopping" : s->health.paused ? "paused" : "ok",
                             (double)(weir_wall_ms() - s->started_ms) / 1000.0,
                             (double)(weir_wall_ms() - s->health.checkpoint_ms) / 1000.0);
    if (s->health.paused) /* the server answers; the pipeline waits for disk space */
        rc = rc || weir_buf_append_str(&b, ",\"paused\":") ||
             weir_json_quote(&b, s->health.paused_why, strlen(s->health.paused_why));
    if (s->health.disk_free != UINT64_MAX)
        rc = rc || weir_buf_printf(&b, ",\"disk_free_bytes\":%llu", (unsigned long long)s->health.disk_free);
    pthread_mutex_unlock(&s->health_lock);
    rc = rc || weir_buf_append_str(&b, "}\n");
    api_reply_json(req, closing ? 503 : 200, rc, &b);
    weir_buf_free(&b);
    return 0;
}

/* ---- /metrics ---- */

static int family(weir_buf *b, const char *name, const char *type, const char *help)
{
    return weir_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

typedef enum partition_measure { END_OFFSET, SEGMENT_BYTES, PIPELINE_LAG } partition_measure;

/* One family with a sample per partition of every stream (for the lag:
 * of every stream the pipeline reads). */
static int partition_family(weir_runtime *s, weir_buf *b, char **names, size_t n, const char *metric,
                            partition_measure what, const char *help)
{
    int rc = family(b, metric, "gauge", help);
    weir_err err;
    for (size_t i = 0; i < n && !rc; i++) {
        weir_stream *st;
        if (weir_stream_open(s->log, names[i], &st, &err))
            continue;
        for (uint32_t p = 0; p < weir_stream_get_config(st)->partitions && !rc; p++) {
            weir_partition_stats ps;
            uint64_t lag = 0;
            if (weir_stream_partition_stats(st, p, &ps, &err) ||
                (what == PIPELINE_LAG && !weir_runner_input_lag(s->runner, names[i], p, &lag)))
                continue;
            uint64_t v = what == END_OFFSET ? ps.end_offset : what == SEGMENT_BYTES ? ps.bytes : lag;
            rc = weir_buf_printf(b, "%s{stream=\"%s\",partition=\"%u\"} %llu\n", metric, names[i], p, (unsigned long long)v);
        }
    }
    return rc;
}

static int stream_metrics(weir_runtime *s, weir_buf *b)
{
    char **names = NULL;
    size_t n = 0;
    weir_err err;
    if (weir_log_list_streams(s->log, &names, &n, &err))
        return 0; /* the families below are just absent */
    int rc = partition_family(s, b, names, n, "weir_stream_end_offset", END_OFFSET,
                              "Offset the next committed record of the partition gets.") ||
             partition_family(s, b, names, n, "weir_stream_bytes", SEGMENT_BYTES, "Bytes of the partition's segment files.") ||
             partition_family(s, b, names, n, "weir_pipeline_lag_records", PIPELINE_LAG,
                              "Records of an input partition (in the log, or its Kafka topic) the pipeline has not read yet.");
    weir_names_free(names, n);
    return rc;
}

static int ingest_metrics(weir_runtime *s, weir_buf *b)
{
    static const struct { const char *name, *type, *help; } fam[] = {
        {"weir_ingest_records_total", "counter", "Records accepted over HTTP."},
        {"weir_ingest_bytes_total", "counter", "Request body bytes accepted over HTTP."},
        {"weir_ingest_requests_total", "counter", "Ingest requests whose records were stored."},
        {"weir_ingest_refused_records_total", "counter", "Records refused at ingest, by reason."},
    };
    int rc = 0;
    for (int f = 0; f < 4 && !rc; f++) {
        rc = family(b, fam[f].name, fam[f].type, fam[f].help);
        for (int i = 0; i < s->cat->nrels && !rc; i++) {
            const weir_relation *rel = s->cat->rels[i];
            const ingest_counters *ic = &s->ingest[i];
            if (!rel->is_source)
                continue;
            if (f == 3)
                rc = weir_buf_printf(b, "%s{stream=\"%s\",reason=\"invalid\"} %llu\n%s{stream=\"%s\",reason=\"overload\"} %llu\n",
                                     fam[f].name, rel->name, (unsigned long long)ic->refused_invalid, fam[f].name,
                                     rel->name, (unsigned long long)ic->refused_overload);
            else
                rc = weir_buf_printf(b, "%s{stream=\"%s\"} %llu\n", fam[f].name, rel->name,
                                     (unsigned long long)(f == 0 ? ic->records : f == 1 ? ic->bytes : ic->requests));
        }
    }
    return rc || family(b, "weir_ingest_inflight_bytes", "gauge", "Ingested bytes waiting for their commit.") ||
           weir_buf_printf(b, "weir_ingest_inflight_bytes %zu\n", s->inflight_bytes);
}

static int query_metrics(weir_runtime *s, weir_buf *b)
{
    static const char *const names[] = {"weir_query_rows_in_total", "weir_query_rows_out_total",
                                        "weir_query_dead_letters_total", "weir_query_late_total", "weir_query_groups",
                                        "weir_query_state_bytes"};
    static const char *const help[] = {"Records a query read.", "Rows a query emitted (window results, table updates).",
                                       "Records a query dead-lettered.", "Records that arrived after their window closed.",
                                       "Groups a query holds.", "Bytes of a query's state."};
    int rc = 0;
    for (int f = 0; f < 6 && !rc; f++) {
        rc = family(b, names[f], f < 4 ? "counter" : "gauge", help[f]);
        for (int q = 0; q < s->cat->nqueries && !rc; q++) {
            weir_query_stats st;
            weir_runner_query_stats(s->runner, q, &st);
            uint64_t v[] = {st.rows_in, st.rows_out, st.dead, st.late, st.groups, st.state_bytes};
            rc = weir_buf_printf(b, "%s{query=\"%s\"} %llu\n", names[f], s->cat->queries[q]->output->name,
                                 (unsigned long long)v[f]);
        }
    }
    uint64_t dead[WEIR_DEAD_REASONS];
    weir_runner_dead_counts(s->runner, dead);
    rc = rc || family(b, "weir_dead_letters_total", "counter", "Records sent to a dead-letter stream, by reason.");
    uint64_t schema = 0;
    for (int i = 0; i < s->cat->nrels; i++)
        if (s->cat->rels[i]->invalid_to_dlq)
            schema += s->ingest[i].refused_invalid;
    for (int r = 0; r < WEIR_DEAD_REASONS && !rc; r++)
        rc = weir_buf_printf(b, "weir_dead_letters_total{reason=\"%s\"} %llu\n", weir_dead_reason_name((weir_dead_reason)r),
                             (unsigned long long)dead[r]);
    return rc || weir_buf_printf(b, "weir_dead_letters_total{reason=\"schema\"} %llu\n", (unsigned long long)schema);
}

static int sink_metrics(weir_runtime *s, weir_buf *b)
{
    static const char *const names[] = {"weir_sink_delivered_total", "weir_sink_failures_total", "weir_sink_lag_records",
                                        "weir_sink_up", "weir_sink_failed"};
    static const char *const help[] = {"Records a sink's destination confirmed.", "Deliveries that failed (retried with backoff).",
                                       "Records its destination has not confirmed yet (kept in the local log meanwhile).",
                                       "1 while the sink's last delivery succeeded.",
                                       "1 while the destination refused for good: no retries until POST /v1/sinks/{name}/restart."};
    int rc = 0;
    for (int f = 0; f < 5 && !rc && s->nsinks; f++) {
        rc = family(b, names[f], f < 2 ? "counter" : "gauge", help[f]);
        for (int i = 0; i < s->nsinks && !rc; i++) {
            weir_sink_status st;
            weir_sink_stats(s->sinks[i], &st);
            uint64_t v[] = {st.delivered, st.failures, st.lag, st.healthy, st.failed};
            rc = weir_buf_printf(b, "%s{sink=\"%s\",connector=\"%s\"} %llu\n", names[f], st.name, st.connector,
                                 (unsigned long long)v[f]);
        }
    }
    return rc;
}

/* Scale-out: the partitions this process holds, and its task states saved. */
static int scale_out_metrics(weir_runtime *s, weir_buf *b)
{
    if (!s->opt.runner || !s->opt.runner->tasks)
        return 0;
    int rc = family(b, "weir_partitions_owned", "gauge", "Input partitions this process of the group holds.");
    for (int i = 0; i < s->cat->nrels && !rc; i++)
        if (s->cat->rels[i]->kafka_topic)
            rc = weir_buf_printf(b, "weir_partitions_owned{stream=\"%s\"} %u\n", s->cat->rels[i]->name,
                                 weir_runner_owned(s->runner, s->cat->rels[i]->name));
    uint64_t saves, failures;
    weir_runner_task_saves(s->runner, &saves, &failures);
    return rc || family(b, "weir_task_states_saved_total", "counter", "Partition states saved to the group's state topic.") ||
           weir_buf_printf(b, "weir_task_states_saved_total %llu\n", (unsigned long long)saves) ||
           family(b, "weir_task_state_save_failures_total", "counter", "Attempts to save partition states that failed (retried).") ||
           weir_buf_printf(b, "weir_task_state_save_failures_total %llu\n", (unsigned long long)failures);
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
    weir_runtime *s = ((weir_server *)ctx)->rt;
    weir_buf b = {0};
    pthread_mutex_lock(&s->lock);
    int64_t now = weir_wall_ms();
    int rc = family(&b, "weir_uptime_seconds", "gauge", "Seconds since weir serve started.") ||
             weir_buf_printf(&b, "weir_uptime_seconds %.3f\n", (double)(now - s->started_ms) / 1000.0) ||
             family(&b, "weir_checkpoint_age_seconds", "gauge",
                    "Seconds since the pipeline's last checkpoint (none is taken while nothing is read or written).") ||
             weir_buf_printf(&b, "weir_checkpoint_age_seconds %.3f\n", (double)(now - weir_runner_checkpoint_ms(s->runner)) / 1000.0) ||
             family(&b, "weir_pipeline_paused", "gauge",
                    "1 while the pipeline waits for disk space after the disk filled up (ingest answers 503).") ||
             weir_buf_printf(&b, "weir_pipeline_paused %d\n", s->paused ? 1 : 0) ||
             family(&b, "weir_disk_free_bytes", "gauge", "Bytes free on the data directory's file system.") ||
             weir_buf_printf(&b, "weir_disk_free_bytes %llu\n", (unsigned long long)(s->disk_free == UINT64_MAX ? 0 : s->disk_free)) ||
             family(&b, "weir_sse_subscribers", "gauge", "Clients following changes (Server-Sent Events).") ||
             weir_buf_printf(&b, "weir_sse_subscribers %d\n", s->nsubscribers) || stream_metrics(s, &b) ||
             ingest_metrics(s, &b) || query_metrics(s, &b) || sink_metrics(s, &b) || scale_out_metrics(s, &b);
    pthread_mutex_unlock(&s->lock);
    rc = rc || http_metrics(ctx, &b);
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
