/*
 * api_query.c - reading over HTTP (runtime/query.h): the streams and
 * tables, a table's rows, pull queries and the pipeline's SQL. Pull
 * queries (POST /v1/query, GET /v1/tables/{t}, endpoints) run on the
 * server's query threads (weir_http_offload), never on its two HTTP
 * threads, bounded by --query-timeout from the request's arrival and
 * --max-result-bytes.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "runtime/changes.h"
#include "runtime/query.h"
#include "server/api.h"

static bool stopping(void *req) { return weir_http_stopping(req); }

void api_query_limits(weir_http_req *req, weir_query_limits *lim)
{
    const weir_http_options *o = weir_http_options_of(req);
    *lim = (weir_query_limits){weir_http_started_ns(req), o->query_timeout_s, o->max_result_bytes, stopping, req};
}

/* GET /v1/streams */
int api_streams(void *ctx, weir_http_req *req) { return api_answer_from(ctx, req, weir_runtime_streams); }
/* GET /v1/tables */
int api_tables(void *ctx, weir_http_req *req) { return api_answer_from(ctx, req, weir_runtime_tables); }
/* GET /v1/pipeline: the SQL the server runs. */
int api_pipeline(void *ctx, weir_http_req *req) { return api_answer_from(ctx, req, weir_runtime_pipeline); }

/* A push query's answer: the request's, streamed. */
typedef struct push_answer {
    weir_http_req *req;
    const char *content_type;
} push_answer;

static bool stream_write(void *ctx, const void *data, size_t len) { return weir_http_stream_write(ctx, data, len); }
static bool stream_closed(void *ctx) { return weir_http_stream_closed(ctx); }
static void stream_end(void *ctx) { weir_http_stream_release(ctx); }

static bool open_push(void *ctx, weir_feed_out *out)
{
    const push_answer *p = ctx;
    weir_http_stream *stream = weir_http_stream_open(p->req, p->content_type, 4u << 20);
    *out = (weir_feed_out){stream_write, stream_closed, stream_end, stream};
    return stream != NULL;
}

/* A string member of the JSON body, unescaped into text with a NUL after
 * it: 1, 0 when absent, -1 (answered 400 or 500) when it is no string. */
static int body_string(weir_http_req *req, const char *body, size_t len, const char *name, weir_buf *text)
{
    weir_json_span v;
    int got = weir_json_member(body, len, name, strlen(name), &v);
    if (got != 1)
        return 0;
    if (v.type != WEIR_JSON_STRING) {
        weir_http_reply_error(req, 400, "%s must be a string", name);
        return -1;
    }
    if (weir_json_unescape(v.p, v.len, text) || weir_buf_append(text, "", 1)) {
        weir_http_reply_error(req, 500, "out of memory");
        return -1;
    }
    return 1;
}

/* POST /v1/query on a worker thread. */
static int query_now(void *ctx, weir_http_req *req)
{
    weir_server *srv = ctx;
    size_t len;
    const char *body = (const char *)weir_http_body(req, &len);
    weir_buf text = {0}, from = {0};
    int got = 0;
    if (len && body[0] == '{') {
        if ((got = body_string(req, body, len, "from", &from)) < 0 || (got = body_string(req, body, len, "sql", &text)) < 0)
            goto out;
        if (!got) {
            weir_http_reply_error(req, 400, "expected {\"sql\": \"SELECT ...\"}");
            goto out;
        }
        body = (const char *)text.data;
        len = text.len - 1; /* without the NUL */
    }
    const char *accept = weir_http_header(req, "Accept");
    bool sse = accept && strstr(accept, "text/event-stream");
    push_answer push = {req, sse ? "text/event-stream" : "application/x-ndjson"};
    weir_answer a = {0};
    got = weir_runtime_push(srv->rt, body ? body : "", len, from.len ? (const char *)from.data : NULL, sse, open_push,
                            &push, &a);
    if (got > 0) {
        weir_query_limits lim;
        api_query_limits(req, &lim);
        weir_runtime_query(srv->rt, body ? body : "", len, &lim, &a);
    }
    if (got)
        api_answer(req, &a);
out:
    weir_buf_free(&text);
    weir_buf_free(&from);
    return 0;
}

/* POST /v1/query: {"sql": "SELECT ..."} (or SHOW, DESCRIBE, EXPLAIN; or
 * the SQL as the body); a push query (EMIT CHANGES) streams, from
 * {"from": "beginning"|"end"}. */
int api_query(void *ctx, weir_http_req *req) { return weir_http_offload(req, query_now, ctx); }

/* Appends s percent-encoded for a query string. */
static int put_url_encoded(weir_buf *b, const char *s)
{
    int rc = 0;
    for (; *s && !rc; s++)
        rc = isalnum((unsigned char)*s) || strchr("-._~", *s) ? weir_buf_append(b, s, 1)
                                                             : weir_buf_printf(b, "%%%02X", (unsigned char)*s);
    return rc;
}

/* Scale-out: a key whose partition another process of the group owns is
 * answered there: 307 to the same request at its address (the owner's
 * latest claim in the task store). False when this process answers. */
static bool redirect_to_owner(weir_server *srv, weir_http_req *req, const weir_relation *t, const char *key)
{
    char task[300], owner[256];
    weir_answer a = {0};
    int where = weir_runtime_key_owner(srv->rt, t, key, owner, sizeof owner, task, sizeof task, &a);
    if (where <= 0) {
        if (where < 0)
            api_reply(req, &a);
        return where < 0;
    }
    weir_buf url = {0}, body = {0};
    int pos = 0, rc = weir_buf_printf(&url, "%s%s", owner, weir_http_path(req));
    const char *name, *value;
    for (bool first = true; !rc && weir_http_query_next(req, &pos, &name, &value); first = false)
        rc = weir_buf_append_str(&url, first ? "?" : "&") || put_url_encoded(&url, name) || weir_buf_append_str(&url, "=") ||
             put_url_encoded(&url, value);
    rc = rc || weir_buf_append(&url, "", 1) || weir_buf_append_str(&body, "{\"owner\":") ||
         weir_json_quote(&body, owner, strlen(owner)) || weir_buf_printf(&body, ",\"partition\":\"%s\"}\n", task);
    if (!rc)
        weir_http_reply_header(req, "Location", (const char *)url.data);
    if (rc)
        weir_http_reply_error(req, 500, "out of memory");
    else
        weir_http_reply(req, 307, "application/json", body.data, body.len);
    weir_buf_free(&url);
    weir_buf_free(&body);
    return true;
}

/* GET /v1/tables/{t}[?key=K][&limit=N]: the table's rows, or those of one
 * key (its first primary-key column), as a pull query would give them. */
static int table_now(void *ctx, weir_http_req *req)
{
    weir_server *srv = ctx;
    const char *name = weir_http_param(req, "t");
    const weir_relation *t = weir_catalog_find(srv->cat, name);
    if (!t || !t->is_table) {
        weir_http_reply_error(req, 404, "no table %s in the pipeline", name);
        return 0;
    }
    const char *key = weir_http_query(req, "key"), *limit = weir_http_query(req, "limit");
    char *end;
    unsigned long long lim = limit ? strtoull(limit, &end, 10) : 1000;
    if (limit && (!*limit || *end || lim > 1000000)) {
        weir_http_reply_error(req, 400, "limit must be a number of rows from 0 to 1000000, not '%s'", limit);
        return 0;
    }
    if (key && redirect_to_owner(srv, req, t, key))
        return 0;
    weir_query_limits limits;
    weir_answer a = {0};
    api_query_limits(req, &limits);
    weir_runtime_table_rows(srv->rt, t, key, lim, &limits, &a);
    api_answer(req, &a);
    return 0;
}

int api_table(void *ctx, weir_http_req *req) { return weir_http_offload(req, table_now, ctx); }

/* POST /v1/statements: {"sql": "CREATE ...; DROP ..."}, applied by the
 * pipeline thread between two steps (runtime/statements.c), which answers. */
int api_statements(void *ctx, weir_http_req *req)
{
    weir_server *srv = ctx;
    size_t len;
    const char *body = (const char *)weir_http_body(req, &len);
    weir_buf text = {0};
    int got = body_string(req, body, len, "sql", &text);
    if (got == 0)
        weir_http_reply_error(req, 400, "expected {\"sql\": \"CREATE ...\"}");
    if (got == 1) {
        weir_http_defer(req); /* the answer comes from the pipeline thread */
        weir_runtime_statements(srv->rt, (const char *)text.data, text.len - 1, api_reply, req);
    }
    weir_buf_free(&text);
    return got == 1 ? WEIR_HTTP_DEFERRED : 0;
}
