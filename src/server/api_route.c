/*
 * api_route.c - the pipeline's route templates (CREATE ROUTE
 * 'POST /videos/{video_id}/likes' INTO likes): the URL's parameters and an
 * optional JSON object body make one record, ingested as POST
 * /v1/streams/{s} ingests (runtime/ingest.h). When the stream's event-time
 * column is given neither in the URL nor in the body, the request's time
 * fills it: a like posted now happened now.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "json/json.h"
#include "runtime/ingest.h"
#include "server/api.h"

/* A path parameter or query argument as the JSON of its column's type. */
static bool put_field(weir_http_req *req, weir_buf *out, const weir_relation *rel, const char *name, const char *value,
                      const char *what)
{
    int col = -1;
    for (int i = 0; i < rel->schema.ncols && col < 0; i++)
        if (!strcmp(rel->schema.cols[i].name, name))
            col = i;
    if (col < 0) {
        weir_http_reply_error(req, 400, "%s %s is not a column of %s", what, name, rel->name);
        return false;
    }
    int type = rel->schema.cols[col].type;
    bool number = type == WEIR_TYPE_INT || type == WEIR_TYPE_UINT || type == WEIR_TYPE_DOUBLE;
    if (number || type == WEIR_TYPE_BOOL) {
        weir_json_span v;
        bool ok = weir_json_validate(value, strlen(value), &v, NULL) == 0 &&
                  (number ? v.type == WEIR_JSON_NUMBER : v.type == WEIR_JSON_TRUE || v.type == WEIR_JSON_FALSE);
        if (!ok) {
            weir_http_reply_error(req, 400, "%s %s: '%s' is not of type %s", what, name, value, weir_type_name(type));
            return false;
        }
    }
    int rc = (out->len > 1 && weir_buf_append_str(out, ",")) || weir_json_quote(out, name, strlen(name)) ||
             weir_buf_append_str(out, ":") ||
             (number || type == WEIR_TYPE_BOOL ? weir_buf_append_str(out, value) : weir_json_quote(out, value, strlen(value)));
    if (rc)
        weir_http_reply_error(req, 500, "out of memory");
    return rc == 0;
}

typedef struct clash {
    weir_http_req *req;
    const char *field;
} clash;

static int find_clash(void *ctx, const char *name, size_t len, int escaped, const weir_json_span *v)
{
    (void)escaped, (void)v;
    clash *c = ctx;
    if (len == strlen(c->field) + 2 && !memcmp(name + 1, c->field, len - 2)) {
        weir_http_reply_error(c->req, 400, "field %s is given both in the URL and in the body", c->field);
        return 1;
    }
    return 0;
}

static int count_member(void *ctx, const char *name, size_t len, int escaped, const weir_json_span *v)
{
    (void)name, (void)len, (void)escaped, (void)v;
    ++*(int *)ctx;
    return 0;
}

const weir_relation *api_route_stream(const weir_server *srv, const weir_http_route *r)
{
    for (int i = 0; i < srv->cat->nroutes; i++) /* by its text: a statement since the match may have made a new catalog */
        if (!strcmp(srv->cat->routes[i].path, r->path) && !strcmp(srv->cat->routes[i].method, r->method))
            return srv->cat->routes[i].into;
    return NULL;
}

/* A route template: the record is the path parameters and query arguments
 * (typed by the stream's columns) plus the members of the body's object,
 * which may be empty. */
int api_route(void *ctx, weir_http_req *req)
{
    weir_server *srv = ctx;
    const weir_http_route *hr = weir_http_route_of(req);
    const weir_relation *rel = api_route_stream(srv, hr);
    if (!rel) {
        weir_http_reply_error(req, 500, "route %s lost its stream", hr->path);
        return 0;
    }
    size_t len;
    const char *body = (const char *)weir_http_body(req, &len);
    weir_json_span obj = {WEIR_JSON_OBJECT, "{}", 2};
    weir_json_error e;
    size_t blank = 0;
    while (blank < len && strchr(" \t\r\n", body[blank]))
        blank++;
    if (blank < len && (weir_json_validate(body, len, &obj, &e) || obj.type != WEIR_JSON_OBJECT)) {
        unsigned line = 1, col = 1;
        weir_json_position(body, obj.type != WEIR_JSON_OBJECT ? blank : e.offset, &line, &col);
        weir_http_reply_error(req, 400, "line %u, column %u: %s; nothing was stored", line, col,
                              obj.type != WEIR_JSON_OBJECT ? "the body must be one JSON object (or empty)" : e.msg);
        return 0;
    }
    weir_buf rec = {0};
    bool ok = weir_buf_append_str(&rec, "{") == 0;
    if (ok && rel->ts_col >= 0) {
        const char *ts = rel->schema.cols[rel->ts_col].name;
        weir_json_span given;
        if (!weir_http_query(req, ts) && !weir_http_param(req, ts) &&
            weir_json_member(obj.p, obj.len, ts, strlen(ts), &given) != 1 &&
            (weir_json_quote(&rec, ts, strlen(ts)) || weir_buf_printf(&rec, ":%lld", (long long)weir_wall_ms()))) {
            weir_http_reply_error(req, 500, "out of memory");
            ok = false;
        }
    }
    /* path parameters, in the template's order */
    for (const char *p = strchr(hr->path, '{'); ok && p; p = strchr(p + 1, '{')) {
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(strchr(p, '}') - p - 1), p + 1);
        clash c = {req, name};
        ok = put_field(req, &rec, rel, name, weir_http_param(req, name), "path parameter") &&
             weir_json_members(obj.p, obj.len, find_clash, &c) == 0;
    }
    int pos = 0;
    const char *name, *value;
    while (ok && weir_http_query_next(req, &pos, &name, &value)) {
        if (!strcmp(name, "token")) /* the API token, not a field */
            continue;
        clash c = {req, name};
        ok = put_field(req, &rec, rel, name, value, "query parameter") && weir_json_members(obj.p, obj.len, find_clash, &c) == 0;
    }
    int members = 0;
    weir_json_members(obj.p, obj.len, count_member, &members);
    if (ok && members) { /* the body's members after the URL's */
        if ((rec.len > 1 && weir_buf_append_str(&rec, ",")) || weir_buf_append(&rec, obj.p + 1, obj.len - 1)) {
            weir_http_reply_error(req, 500, "out of memory");
            ok = false;
        }
    } else if (ok && weir_buf_append_str(&rec, "}")) {
        weir_http_reply_error(req, 500, "out of memory");
        ok = false;
    }
    if (ok) {
        weir_http_defer(req); /* the answer may come from the pipeline thread */
        weir_runtime_ingest(srv->rt, rel->name, WEIR_INGEST_RECORD, (const char *)rec.data, rec.len, api_reply, req);
    }
    weir_buf_free(&rec);
    return ok ? WEIR_HTTP_DEFERRED : 0;
}
