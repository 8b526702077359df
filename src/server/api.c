/*
 * api.c - the route table: weir's fixed API, then the pipeline's CREATE
 * ROUTE templates, then the dashboard's files for every other GET.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/api.h"

#define JSON "application/json"
#define NDJSON "application/x-ndjson"

static const weir_http_route fixed[] = {
    {"GET", "/healthz", api_healthz, NULL, "Whether weir runs: 200, or 503 while it stops.", true, NULL, JSON},
    {"GET", "/metrics", api_metrics, NULL, "Metrics in Prometheus text format.", false, NULL, "text/plain"},
    {"GET", "/openapi.json", api_openapi, NULL, "This description of the API.", false, NULL, JSON},
    {"GET", "/v1/streams", api_streams, NULL, "Every stream: kind, partitions, end offsets, ingest counts, lag.", false, NULL, JSON},
    {"POST", "/v1/streams/{s}", api_ingest, NULL,
     "Appends records (NDJSON, a JSON array of objects, or one object) to a source stream. Answered once the records "
     "are durable: {accepted, partitions}. 400: bad JSON (line and column), nothing stored. 422: schema violations, "
     "one entry per bad record. 503 with Retry-After: overloaded or stopping.", false, NDJSON, JSON},
    {"GET", "/v1/streams/{s}/changes", api_changes, NULL,
     "The stream's new records as Server-Sent Events (id: every partition's next offset; resume with Last-Event-ID; "
     "?from=beginning).", false, NULL, "text/event-stream"},
    {"GET", "/v1/changes", api_changes_many, NULL,
     "The changes of several streams and tables over one connection, as Server-Sent Events: ?streams=a,b (a name "
     "may end in @beginning or @end; ?from= sets where the others start, default end); each event's data names its "
     "stream; the id that comes with each batch's last event resumes them all (Last-Event-ID or ?last_event_id=).",
     false, NULL, "text/event-stream"},
    {"GET", "/v1/streams/{s}/records", api_records, NULL,
     "A stream's records, as stored: ?partition=P&offset=O (from there), ?time=T (the first appended at or after T), "
     "?key=K (the newest with that key, of the last 100,000 of its partition), else the newest; "
     "&limit=N (50, at most 1000). {stream, partitions: [{partition, start_offset, end_offset}], records: "
     "[{partition, offset, timestamp, key, value}]}.", false, NULL, JSON},
    {"GET", "/v1/groups", api_groups, NULL,
     "Consumer groups (weir consume --group, and each sink's sink.<name>): committed offset, end and lag per partition.",
     false, NULL, JSON},
    {"GET", "/v1/tables", api_tables, NULL, "Every table: columns, primary key, window, row count.", false, NULL, JSON},
    {"GET", "/v1/tables/{t}", api_table, NULL, "The table's current rows (?key= one key's, ?limit=).", false, NULL, JSON},
    {"DELETE", "/v1/tables/{t}", api_delete_row, NULL,
     "Removes the row of a source table whose key is ?key=K (a tombstone, as a Kafka producer sends): "
     "{removed: {key}} once durable. 409: a table the pipeline computes.", false, NULL, JSON},
    {"GET", "/v1/tables/{t}/changes", api_changes, NULL,
     "Each update of the table (window results as emitted) as Server-Sent Events; Last-Event-ID resumes.", false, NULL,
     "text/event-stream"},
    {"POST", "/v1/query", api_query, NULL, "A pull query {\"sql\": \"SELECT ...\"} (or SHOW, DESCRIBE, EXPLAIN): "
                                            "{columns: [{name, type}], rows}.",
     false, JSON, JSON},
    {"POST", "/v1/statements", api_statements, NULL,
     "Applies CREATE, CREATE OR REPLACE, INSERT INTO and DROP statements {\"sql\": \"...\"} to the running pipeline, "
     "as one group: a new query reads its inputs from their earliest retained record; the statements are kept for "
     "the next start. {dropped: [names], group, sql}. 400: the statement does not plan (where and why); 404: DROP of "
     "a name no statement added; 409: this server takes no statements (--scale-out, --stdin); 503: another is "
     "being applied.", false, JSON, JSON},
    {"GET", "/v1/queries", api_queries, NULL,
     "Each continuous query: name, group (the statements it came with; null: the pipeline file), writes, reads, "
     "rows_in, rows_out, dead_letters, late, groups, state_bytes, lag (input records not read yet), checkpoint_ms.",
     false, NULL, JSON},
    {"GET", "/v1/pipeline", api_pipeline, NULL, "The pipeline's SQL: the file's, and the statements added at runtime "
                                                "({group, sql} each).", false, NULL, JSON},
    {"GET", "/v1/sinks", api_sinks, NULL, "Each sink's delivery: records its destination confirmed, failures, lag, up, last error.",
     false, NULL, JSON},
    {"POST", "/v1/sinks/{name}/restart", api_sink_restart, NULL,
     "Restarts a sink stopped by an error its destination will not get over (state failed in /v1/sinks): it asks the "
     "destination how far it got and delivers on. 404: no such sink; 409: it has not failed.", false, NULL, JSON},
    {"GET", "/v1/schemas", api_schema_list, NULL, "The registry's subjects and their latest versions.", false, NULL, JSON},
    {"GET", "/v1/schemas/{subject}", api_schema_get, NULL, "A subject's latest schema.", false, NULL, JSON},
    {"POST", "/v1/schemas/{subject}", api_schema_add, NULL,
     "Registers a JSON Schema as the subject's next version: 201; 200 if unchanged; 409 if not backward compatible; "
     "422 if weir cannot check it.", false, JSON, JSON},
    {"GET", "/v1/schemas/{subject}/versions/{version}", api_schema_version, NULL, "One version of a subject's schema.",
     false, NULL, JSON},
};

int weir_api_routes(weir_server *srv, weir_err *err)
{
    const weir_catalog *cat = srv->cat;
    int nfixed = (int)(sizeof fixed / sizeof *fixed);
    int n = nfixed + cat->nroutes + cat->nendpoints + 1;
    srv->routes = calloc((size_t)n, sizeof *srv->routes);
    if (!srv->routes)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    int at = 0;
    for (int i = 0; i < nfixed; i++) {
        srv->routes[at] = fixed[i];
        srv->routes[at++].ctx = srv;
    }
    for (int i = 0; i < cat->nroutes; i++) {
        const weir_route *r = &cat->routes[i];
        srv->routes[at++] = (weir_http_route){r->method, r->path, api_route, srv,
                                            "A route of the pipeline (CREATE ROUTE): path parameters and query arguments "
                                            "become fields of a record of its stream; the body (optional) is one JSON object.",
                                            false, JSON, JSON};
    }
    static const char *const types[] = {[WEIR_FORMAT_JSON] = JSON, [WEIR_FORMAT_OBJECT] = JSON,
                                        [WEIR_FORMAT_CSV] = "text/csv", [WEIR_FORMAT_SVG] = "image/svg+xml",
                                        [WEIR_FORMAT_ROWS] = JSON};
    for (int i = 0; i < cat->nendpoints; i++) {
        const weir_endpoint *e = &cat->endpoints[i];
        srv->routes[at++] = (weir_http_route){"GET", e->path, api_endpoint, srv,
                                            "An endpoint of the pipeline (CREATE ENDPOINT): its query with the path's "
                                            "parameters; 400 when one does not fit.",
                                            false, NULL, types[e->format]};
    }
    srv->routes[at++] = (weir_http_route){"GET", "/{*}", api_static, srv, "The dashboard's files.", false, NULL, "text/html"};
    srv->nroutes = at;
    return WEIR_OK;
}

void api_reply_json(weir_http_req *req, int status, int rc, weir_buf *b)
{
    if (rc)
        weir_http_reply_error(req, 500, "out of memory");
    else
        weir_http_reply(req, status, "application/json", b->data, b->len);
}

void api_reply(void *req, const weir_answer *a)
{
    if (a->retry_after_s) {
        char after[16];
        snprintf(after, sizeof after, "%u", a->retry_after_s);
        weir_http_reply_header(req, "Retry-After", after);
    }
    if (a->content_type)
        weir_http_reply(req, a->status, a->content_type, a->body.data, a->body.len);
    else
        weir_http_reply_error(req, a->status, "%s", a->msg);
}

void api_answer(weir_http_req *req, weir_answer *a)
{
    api_reply(req, a);
    weir_answer_free(a);
}

int api_answer_from(void *ctx, weir_http_req *req, void (*fn)(weir_runtime *, weir_answer *))
{
    weir_server *srv = ctx;
    weir_answer a = {0};
    fn(srv->rt, &a);
    api_answer(req, &a);
    return 0;
}
