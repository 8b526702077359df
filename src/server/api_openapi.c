/*
 * api_openapi.c - GET /openapi.json: the OpenAPI 3.0 description of every
 * route the server has (the route table of api.c, so nothing is listed
 * that does not answer), with what a client generator or Swagger UI (/docs)
 * needs: path parameters typed (an endpoint's by what its SQL compares
 * them with, a route template's by its stream's columns), query
 * parameters, request bodies (a route template's from its stream's
 * columns), the answer's media type and the errors each route gives.
 *
 * What the route table does not say is in `docs` below, one entry per
 * fixed route; a route without an entry is described from its table
 * entry alone.
 */
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "server/api.h"

typedef struct query_doc {
    const char *name;
    const char *type;          /* JSON Schema type */
    const char *description;
} query_doc;

typedef struct route_doc {
    const char *method, *path;
    query_doc query[6];        /* ends at the first without a name */
    const char *errors;        /* the statuses it answers besides 200, e.g. "400 404" */
} route_doc;

static const route_doc docs[] = {
    {"GET", "/healthz", {{0}}, "503"},
    {"POST", "/v1/streams/{s}", {{0}}, "400 404 409 413 422 503"},
    {"GET", "/v1/streams/{s}/changes",
     {{"from", "string", "where to start without Last-Event-ID: 'end' (default) or 'beginning'"}}, "400 404"},
    {"GET", "/v1/streams/{s}/records",
     {{"partition", "integer", "one partition (0 to partitions - 1)"},
      {"offset", "integer", "with partition: the first offset to show"},
      {"time", "string", "the first records appended at or after this time (ISO 8601, epoch s or ms)"},
      {"key", "string", "only records of this key (the newest of the last 100,000 of its partition)"},
      {"limit", "integer", "at most this many records (default 50, at most 1000)"}},
     "400 404"},
    {"GET", "/v1/changes",
     {{"streams", "string", "streams and tables to follow, comma separated; a name may end in @beginning or @end"},
      {"from", "string", "where the others start: 'end' (default) or 'beginning'"},
      {"last_event_id", "string", "positions to resume from, as an event id gives them (or the Last-Event-ID header)"}},
     "400 404"},
    {"GET", "/v1/tables/{t}",
     {{"key", "string", "only the rows of this value of the table's first key column"},
      {"limit", "integer", "at most this many rows (default 1000)"}},
     "400 404"},
    {"DELETE", "/v1/tables/{t}", {{"key", "string", "the primary key of the row to remove"}}, "400 404 409 503"},
    {"GET", "/v1/tables/{t}/changes", {{0}}, "400 404"},
    {"POST", "/v1/query", {{0}}, "400 404 413 503"},
    {"GET", "/v1/schemas/{subject}", {{0}}, "404"},
    {"POST", "/v1/schemas/{subject}", {{0}}, "400 409 413 422"},
    {"GET", "/v1/schemas/{subject}/versions/{version}", {{0}}, "400 404"},
};

static const struct {
    const char *status, *text;
} statuses[] = {
    {"400", "The request is malformed; the message says what and where"},
    {"401", "The token is missing or wrong (serve --token)"},
    {"404", "No such stream, table, subject or key"},
    {"409", "Conflicts with what exists (a stream the pipeline writes, an incompatible schema)"},
    {"413", "The body, or the answer, is over its limit"},
    {"422", "Records break the stream's schema, one error per record"},
    {"503", "Overloaded, paused by a full disk, or stopping: retry after Retry-After"},
};

/* The pipeline's own paths: CREATE ENDPOINT and CREATE ROUTE. */
static const route_doc endpoint_doc = {"GET", NULL, {{0}}, "400 404 503"};
static const route_doc route_template_doc = {"POST", NULL, {{0}}, "400 404 413 503"};

static const route_doc *doc_of(const weir_http_route *r)
{
    if (r->handler == api_endpoint)
        return &endpoint_doc;
    if (r->handler == api_route)
        return &route_template_doc;
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++)
        if (!strcmp(docs[i].method, r->method) && !strcmp(docs[i].path, r->path))
            return &docs[i];
    return NULL;
}

/* The JSON Schema of a SQL type, for a parameter or a body's member. */
static int put_type_schema(weir_buf *b, int type)
{
    switch (type) {
    case WEIR_TYPE_UINT: return weir_buf_append_str(b, "{\"type\":\"integer\",\"minimum\":0}");
    case WEIR_TYPE_INT: return weir_buf_append_str(b, "{\"type\":\"integer\"}");
    case WEIR_TYPE_DOUBLE: return weir_buf_append_str(b, "{\"type\":\"number\"}");
    case WEIR_TYPE_BOOL: return weir_buf_append_str(b, "{\"type\":\"boolean\"}");
    case WEIR_TYPE_TIMESTAMP: return weir_buf_append_str(b, "{\"type\":\"string\",\"format\":\"date-time\"}");
    case WEIR_TYPE_JSON: return weir_buf_append_str(b, "{}");
    default: return weir_buf_append_str(b, "{\"type\":\"string\"}");
    }
}

/* Whether name (len bytes) is the text n. */
static bool named(const char *n, const char *name, int len) { return (int)strlen(n) == len && !strncmp(n, name, (size_t)len); }

/* The SQL type of a path parameter: an endpoint's, a route template's
 * stream column's, else TEXT. */
static int param_type(const weir_server *s, const weir_http_route *r, const char *name, int len)
{
    const weir_endpoint *ep = api_endpoint_decl(s, r);
    for (int k = 0; ep && k < ep->nparams; k++)
        if (named(ep->params[k].name, name, len))
            return ep->params[k].type;
    const weir_relation *into = api_route_stream(s, r);
    for (int c = 0; into && c < into->schema.ncols; c++)
        if (named(into->schema.cols[c].name, name, len))
            return into->schema.cols[c].type;
    return WEIR_TYPE_TEXT;
}

/* A route template's body: one object whose members are its stream's columns (all optional). */
static int put_body(weir_buf *b, const weir_server *s, const weir_http_route *r)
{
    const weir_relation *into = api_route_stream(s, r);
    int rc = weir_buf_printf(b, ",\"requestBody\":{\"required\":%s,\"content\":{\"%s\":{\"schema\":",
                             into ? "false" : "true", r->body_type);
    if (into) {
        rc = rc || weir_buf_append_str(b, "{\"type\":\"object\",\"properties\":{");
        for (int c = 0; c < into->schema.ncols && !rc; c++)
            rc = (c && weir_buf_append_str(b, ",")) ||
                 weir_json_quote(b, into->schema.cols[c].name, strlen(into->schema.cols[c].name)) ||
                 weir_buf_append_str(b, ":") || put_type_schema(b, into->schema.cols[c].type);
        rc = rc || weir_buf_append_str(b, "}}");
    } else if (!strcmp(r->body_type, "application/x-ndjson")) {
        rc = rc || weir_buf_append_str(b, "{\"type\":\"string\",\"description\":\"one JSON object per line (or a JSON "
                                          "array of objects, or one object, sent as application/json)\"}");
    } else {
        rc = rc || weir_buf_append_str(b, "{\"type\":\"object\"}");
    }
    return rc || weir_buf_append_str(b, "}}}");
}

static int put_parameters(weir_buf *b, const weir_server *s, const weir_http_route *r, const route_doc *d)
{
    int rc = weir_buf_append_str(b, ",\"parameters\":[");
    bool first = true;
    for (const char *c = strchr(r->path, '{'); c && !rc; c = strchr(c + 1, '{')) {
        const char *close = strchr(c, '}');
        const char *pname = c + 1;
        int plen = (int)(close - c - 1);
        if (plen == 1 && *pname == '*') { /* the rest of the path */
            pname = "file";
            plen = 4;
        }
        rc = weir_buf_printf(b, "%s{\"name\":\"%.*s\",\"in\":\"path\",\"required\":true,\"schema\":", first ? "" : ",",
                             plen, pname) ||
             put_type_schema(b, param_type(s, r, pname, plen)) || weir_buf_append_str(b, "}");
        first = false;
    }
    for (int i = 0; d && i < 6 && d->query[i].name && !rc; i++) {
        rc = weir_buf_printf(b, "%s{\"name\":\"%s\",\"in\":\"query\",\"required\":false,\"schema\":{\"type\":\"%s\"},"
                                "\"description\":", first ? "" : ",", d->query[i].name, d->query[i].type) ||
             weir_json_quote(b, d->query[i].description, strlen(d->query[i].description)) ||
             weir_buf_append_str(b, "}");
        first = false;
    }
    return rc || weir_buf_append_str(b, "]");
}

static int put_responses(weir_buf *b, const weir_http_route *r, const route_doc *d, bool secured)
{
    const char *type = r->answer_type ? r->answer_type : "application/json";
    int rc = weir_buf_printf(b, ",\"responses\":{\"200\":{\"description\":\"OK\",\"content\":{\"%s\":{\"schema\":%s}}}",
                             type, !strncmp(type, "application/json", 16) ? "{}" : "{\"type\":\"string\"}");
    for (size_t i = 0; i < sizeof statuses / sizeof *statuses && !rc; i++) {
        bool listed = d && strstr(d->errors, statuses[i].status);
        bool auth = !strcmp(statuses[i].status, "401") && secured && !r->public;
        if (listed || auth)
            rc = weir_buf_printf(b, ",\"%s\":{\"description\":\"%s\",\"content\":{\"application/json\":{\"schema\":"
                                    "{\"$ref\":\"#/components/schemas/Error\"}}}}", statuses[i].status, statuses[i].text);
    }
    return rc || weir_buf_append_str(b, ",\"default\":{\"description\":\"An error\",\"content\":{\"application/json\":"
                                        "{\"schema\":{\"$ref\":\"#/components/schemas/Error\"}}}}}");
}

static int put_operation(weir_buf *b, const weir_server *s, const weir_http_route *r, bool secured)
{
    char method[8];
    size_t i = 0;
    for (; r->method[i] && i < sizeof method - 1; i++)
        method[i] = (char)(r->method[i] | 0x20);
    method[i] = '\0';
    const route_doc *d = doc_of(r);
    const weir_endpoint *ep = r->handler == api_endpoint ? api_endpoint_decl(s, r) : NULL;
    const char *sql = ep ? ep->sql : NULL;
    int rc = weir_buf_printf(b, "\"%s\":{\"summary\":", method) || weir_json_quote(b, r->summary, strlen(r->summary)) ||
             (sql && (weir_buf_append_str(b, ",\"description\":") || weir_json_quote(b, sql, strlen(sql)))) ||
             put_parameters(b, s, r, d) || (r->body_type && put_body(b, s, r)) || put_responses(b, r, d, secured);
    if (!secured || r->public)
        rc = rc || weir_buf_append_str(b, ",\"security\":[]");
    return rc || weir_buf_append_str(b, "}");
}

/* The template with {*} shown as {file}. */
static int put_path(weir_buf *b, const char *tmpl)
{
    weir_buf p = {0};
    int rc = 0;
    for (const char *c = tmpl; *c && !rc; c++)
        rc = !strncmp(c, "{*}", 3) ? (c += 2, weir_buf_append_str(&p, "{file}")) : weir_buf_append(&p, c, 1);
    rc = rc || weir_json_quote(b, p.data ? (const char *)p.data : "", p.len);
    weir_buf_free(&p);
    return rc;
}

int api_openapi(void *ctx, weir_http_req *req)
{
    weir_server *s = ctx;
    weir_buf b = {0};
    bool secured = s->opt.http.token && *s->opt.http.token;
    int rc = weir_buf_append_str(&b, "{\"openapi\":\"3.0.3\",\"info\":{\"title\":\"weir\",\"version\":\"1\","
                                     "\"description\":\"weir's HTTP API: ingest, schema registry, tables, pull queries, "
                                     "changes (Server-Sent Events), the log's records and consumer groups, metrics; "
                                     "and the pipeline's own routes and endpoints.\"},\"paths\":{");
    bool *done = calloc((size_t)s->nroutes + 1, sizeof *done);
    bool first = true;
    for (int i = 0; i < s->nroutes && !rc && done; i++) { /* one path item per template, its methods together */
        if (done[i])
            continue;
        rc = (!first && weir_buf_append_str(&b, ",")) || put_path(&b, s->routes[i].path) || weir_buf_append_str(&b, ":{");
        first = false;
        bool first_op = true;
        for (int j = i; j < s->nroutes && !rc; j++)
            if (!done[j] && !strcmp(s->routes[j].path, s->routes[i].path)) {
                done[j] = true;
                rc = (!first_op && weir_buf_append_str(&b, ",")) || put_operation(&b, s, &s->routes[j], secured);
                first_op = false;
            }
        rc = rc || weir_buf_append_str(&b, "}");
    }
    rc = rc || !done ||
         weir_buf_append_str(&b, "},\"components\":{\"schemas\":{\"Error\":{\"type\":\"object\",\"required\":[\"error\"],"
                                 "\"properties\":{\"error\":{\"type\":\"string\",\"description\":\"what, where, why\"}}}},"
                                 "\"securitySchemes\":{\"bearer\":{\"type\":\"http\",\"scheme\":\"bearer\"}}}");
    if (secured)
        rc = rc || weir_buf_append_str(&b, ",\"security\":[{\"bearer\":[]}]");
    rc = rc || weir_buf_append_str(&b, "}\n");
    free(done);
    api_reply_json(req, 200, rc, &b);
    weir_buf_free(&b);
    return 0;
}
