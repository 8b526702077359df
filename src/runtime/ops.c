/*
 * ops.c - what operators look at (see ops.h): the runtime's health, its
 * metrics (Prometheus text format 0.0.4), and the sinks' delivery.
 */
#include "runtime/ops.h"

#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "conn/connectors.h"
#include "exec/engine.h"
#include "json/json.h"
#include "runtime/runtime_internal.h"
#include "runtime/sinks.h"

/* The health never waits for the pipeline: it answers from the look the
 * pipeline thread published after its last step, so a pipeline stuck in a
 * step shows as a growing checkpoint age, never as a younger one. */
void weir_runtime_health(weir_runtime *s, weir_answer *a)
{
    weir_buf b = {0};
    pthread_mutex_lock(&s->handoff_lock);
    bool closing = s->closing;
    const runtime_look *look = &s->look;
    int rc = weir_buf_printf(&b, "{\"status\":\"%s\",\"uptime_s\":%.3f,\"checkpoint_age_s\":%.3f",
                             closing ? "stopping" : look->paused ? "paused" : "ok",
                             (double)(weir_wall_ms() - s->started_ms) / 1000.0,
                             (double)(weir_wall_ms() - look->checkpoint_ms) / 1000.0);
    if (look->paused) /* the server answers; the pipeline waits for disk space */
        rc = rc || weir_buf_append_str(&b, ",\"paused\":") || weir_json_quote(&b, look->paused_why, strlen(look->paused_why));
    if (look->disk_free != UINT64_MAX)
        rc = rc || weir_buf_printf(&b, ",\"disk_free_bytes\":%llu", (unsigned long long)look->disk_free);
    pthread_mutex_unlock(&s->handoff_lock);
    rc = rc || weir_buf_append_str(&b, "}\n");
    answer_json(a, closing ? 503 : 200, rc, &b);
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
                (what == PIPELINE_LAG && !runtime_input_lag(s, names[i], p, &lag)))
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
            weir_runtime_query_stats(s, q, &st);
            uint64_t v[] = {st.rows_in, st.rows_out, st.dead, st.late, st.groups, st.state_bytes};
            rc = weir_buf_printf(b, "%s{query=\"%s\"} %llu\n", names[f], s->cat->queries[q]->name,
                                 (unsigned long long)v[f]);
        }
    }
    rc = rc || family(b, "weir_dead_letters_total", "counter", "Records sent to a dead-letter stream, by stream and reason.");
    for (int i = 0; i < s->cat->nrels && !rc; i++) { /* every source stream, and every stream a query reads */
        const weir_relation *rel = s->cat->rels[i];
        bool read = rel->is_source;
        for (int q = 0; q < s->cat->nqueries && !read; q++)
            read = s->cat->queries[q]->source == rel || (s->cat->queries[q]->join && s->cat->queries[q]->join->right == rel);
        if (!read)
            continue;
        uint64_t dead[WEIR_DEAD_REASONS] = {0};
        weir_runtime_dead_counts(s, rel, dead);
        for (int r = 0; r < WEIR_DEAD_REASONS && !rc; r++)
            rc = weir_buf_printf(b, "weir_dead_letters_total{stream=\"%s\",reason=\"%s\"} %llu\n", rel->name,
                                 weir_dead_reason_name((weir_dead_reason)r), (unsigned long long)dead[r]);
        rc = rc || (rel->invalid_to_dlq &&
                    weir_buf_printf(b, "weir_dead_letters_total{stream=\"%s\",reason=\"schema\"} %llu\n", rel->name,
                                    (unsigned long long)s->ingest[i].refused_invalid));
    }
    return rc;
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

/* Per table: the changelog rows its view replayed at start (those after
 * the state store's end: the restart's cost, which history must not grow). */
static int table_metrics(weir_runtime *s, weir_buf *b)
{
    int rc = family(b, "weir_table_rows_replayed", "gauge",
                    "Changelog rows a table's view replayed at start (those past the state store's last checkpoint).");
    for (int i = 0; i < s->cat->nrels && !rc; i++)
        if (s->views[i])
            rc = weir_buf_printf(b, "weir_table_rows_replayed{table=\"%s\"} %llu\n", s->cat->rels[i]->name,
                                 (unsigned long long)weir_view_replayed(s->views[i]));
    return rc;
}

/* Scale-out: the partitions this process holds, and its task states saved. */
static int scale_out_metrics(weir_runtime *s, weir_buf *b)
{
    if (!s->opt.runner || !s->opt.runner->tasks)
        return 0;
    int rc = family(b, "weir_partitions_owned", "gauge", "Input partitions this process of the group holds.");
    for (int i = 0; i < s->cat->nrels && !rc; i++) {
        const weir_source_connector *conn = weir_source_connector_of(s->cat->rels[i]);
        if (conn && conn->open_input) /* the runner reads it from its connector, whose group shares it */
            rc = weir_buf_printf(b, "weir_partitions_owned{stream=\"%s\"} %u\n", s->cat->rels[i]->name,
                                 weir_runner_owned(s->groups[0].runner, s->cat->rels[i]->name));
    }
    uint64_t saves, failures;
    weir_runner_task_saves(s->groups[0].runner, &saves, &failures); /* scale-out runs the file's queries only */
    return rc || family(b, "weir_task_states_saved_total", "counter", "Partition states saved to the group's state topic.") ||
           weir_buf_printf(b, "weir_task_states_saved_total %llu\n", (unsigned long long)saves) ||
           family(b, "weir_task_state_save_failures_total", "counter", "Attempts to save partition states that failed (retried).") ||
           weir_buf_printf(b, "weir_task_state_save_failures_total %llu\n", (unsigned long long)failures);
}

/* The state's memory (weir serve --state-memory). */
static int state_metrics(weir_runtime *s, weir_buf *b)
{
    weir_state_memory m = runtime_state_memory(s);
    return family(b, "weir_state_memory_bytes", "gauge",
                  "Bytes of state (tables' rows, aggregation groups) in memory beside the state store, as the last "
                  "checkpoint left them.") ||
           weir_buf_printf(b, "weir_state_memory_bytes %llu\n", (unsigned long long)m.bytes) ||
           family(b, "weir_state_memory_limit_bytes", "gauge", "The bound on weir_state_memory_bytes (--state-memory; 0: none).") ||
           weir_buf_printf(b, "weir_state_memory_limit_bytes %llu\n", (unsigned long long)m.limit) ||
           family(b, "weir_state_evictions_total", "counter",
                  "Rows and groups dropped from memory to stay under --state-memory (read from the store when next used).") ||
           weir_buf_printf(b, "weir_state_evictions_total %llu\n", (unsigned long long)m.dropped);
}

typedef struct metrics_call {
    weir_buf *b;
    int rc;
} metrics_call;

/* The metrics, on the pipeline thread: they read the runner. */
static void metrics_on_loop(weir_runtime *s, void *ctx)
{
    metrics_call *m = ctx;
    weir_buf *b = m->b;
    int64_t now = weir_wall_ms();
    int rc = family(b, "weir_uptime_seconds", "gauge", "Seconds since weir serve started.") ||
             weir_buf_printf(b, "weir_uptime_seconds %.3f\n", (double)(now - s->started_ms) / 1000.0) ||
             family(b, "weir_checkpoint_age_seconds", "gauge",
                    "Seconds since the pipeline's last checkpoint (none is taken while nothing is read or written).") ||
             weir_buf_printf(b, "weir_checkpoint_age_seconds %.3f\n", (double)(now - runtime_checkpoint_ms(s)) / 1000.0) ||
             family(b, "weir_pipeline_paused", "gauge",
                    "1 while the pipeline waits for disk space after the disk filled up (ingest answers 503).") ||
             weir_buf_printf(b, "weir_pipeline_paused %d\n", s->paused ? 1 : 0) ||
             family(b, "weir_disk_free_bytes", "gauge", "Bytes free on the data directory's file system.") ||
             weir_buf_printf(b, "weir_disk_free_bytes %llu\n", (unsigned long long)(s->disk_free == UINT64_MAX ? 0 : s->disk_free)) ||
             family(b, "weir_sse_subscribers", "gauge", "Clients following changes (Server-Sent Events).") ||
             weir_buf_printf(b, "weir_sse_subscribers %d\n", s->nsubscribers) || state_metrics(s, b) || stream_metrics(s, b) ||
             ingest_metrics(s, b) || query_metrics(s, b) || table_metrics(s, b) || sink_metrics(s, b) ||
             scale_out_metrics(s, b);
    m->rc = rc ? WEIR_ENOMEM : WEIR_OK;
}

int weir_runtime_metrics(weir_runtime *s, weir_buf *b)
{
    metrics_call m = {b, WEIR_OK};
    runtime_on_loop(s, metrics_on_loop, &m);
    return m.rc;
}


/* ---- queries ---- */

typedef struct queries_call {
    weir_buf *b;
    int rc;
} queries_call;

/* Records of rel the runner has yet to read, over its partitions. */
static uint64_t query_lag(const weir_runner *r, const weir_relation *rel)
{
    uint64_t sum = 0, lag;
    for (uint32_t p = 0; r && rel && weir_runner_input_lag(r, rel->name, p, &lag); p++)
        sum += lag;
    return sum;
}

/* Each query's group and progress, on the pipeline thread: they read the runners. */
static void queries_on_loop(weir_runtime *s, void *ctx)
{
    queries_call *c = ctx;
    weir_buf *b = c->b;
    int rc = weir_buf_append_str(b, "{\"queries\":[");
    for (int q = 0; q < s->cat->nqueries && !rc; q++) {
        const weir_query *query = s->cat->queries[q];
        int local;
        const runner_group *g = runtime_query_group(s, q, &local);
        weir_query_stats st = {0};
        if (g && g->runner)
            weir_runner_query_stats(g->runner, local, &st);
        const weir_relation *right = query->join ? query->join->right : NULL;
        rc = weir_buf_printf(b, "%s{\"name\":", q ? "," : "") || weir_json_quote(b, query->name, strlen(query->name)) ||
             weir_buf_append_str(b, ",\"group\":") ||
             (g && g->name ? weir_json_quote(b, g->name, strlen(g->name)) : weir_buf_append_str(b, "null")) ||
             weir_buf_append_str(b, ",\"writes\":") || weir_json_quote(b, query->output->name, strlen(query->output->name)) ||
             weir_buf_append_str(b, ",\"reads\":[") || weir_json_quote(b, query->source->name, strlen(query->source->name)) ||
             (right && (weir_buf_append_str(b, ",") || weir_json_quote(b, right->name, strlen(right->name)))) ||
             weir_buf_printf(b, "],\"rows_in\":%llu,\"rows_out\":%llu,\"dead_letters\":%llu,\"late\":%llu,"
                             "\"groups\":%llu,\"state_bytes\":%llu,\"lag\":%llu,\"checkpoint_ms\":%lld}",
                             (unsigned long long)st.rows_in, (unsigned long long)st.rows_out, (unsigned long long)st.dead,
                             (unsigned long long)st.late, (unsigned long long)st.groups,
                             (unsigned long long)st.state_bytes,
                             (unsigned long long)(query_lag(g ? g->runner : NULL, query->source) +
                                                  query_lag(g ? g->runner : NULL, right)),
                             (long long)(g && g->runner ? weir_runner_checkpoint_ms(g->runner) : 0));
    }
    c->rc = rc || weir_buf_append_str(b, "]}\n");
}

void weir_runtime_queries(weir_runtime *s, weir_answer *a)
{
    weir_buf b = {0};
    queries_call c = {&b, WEIR_OK};
    runtime_on_loop(s, queries_on_loop, &c);
    answer_json(a, 200, c.rc, &b);
}

/* ---- sinks ---- */

void weir_runtime_sink_restart(weir_runtime *s, const char *name, weir_answer *a)
{
    weir_err err = {0};
    int rc = weir_sinks_restart(s, name, &err);
    if (rc == WEIR_ENOENT)
        answer_error(a, 404, "%s", err.msg);
    else if (rc)
        answer_error(a, 409, "%s", err.msg);
    if (rc)
        return;
    weir_buf b = {0};
    rc = weir_buf_append_str(&b, "{\"sink\":") || weir_json_quote(&b, name, strlen(name)) ||
         weir_buf_append_str(&b, ",\"restarted\":true}\n");
    answer_json(a, 200, rc, &b);
}

/* A name, as a JSON member "key":"value". */
static int put_member(weir_buf *b, const char *key, const char *value)
{
    return weir_buf_printf(b, "\"%s\":", key) || weir_json_quote(b, value, strlen(value));
}

void weir_runtime_sinks(weir_runtime *s, weir_answer *a)
{
    weir_buf b = {0};
    int rc = weir_buf_append_str(&b, "{\"sinks\":[");
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
    rc = rc || weir_buf_append_str(&b, "]}\n");
    answer_json(a, 200, rc, &b);
}
