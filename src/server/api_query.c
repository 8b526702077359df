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

/* POST /v1/query on a worker thread. */
static int query_now(void *ctx, weir_http_req *req)
{
    weir_server *srv = ctx;
    size_t len;
    const char *body = (const char *)weir_http_body(req, &len);
    weir_json_span sql;
    weir_buf text = {0};
    if (len && body[0] == '{') {
        if (weir_json_member(body, len, "sql", 3, &sql) != 1 || sql.type != WEIR_JSON_STRING) {
            weir_http_reply_error(req, 400, "expected {\"sql\": \"SELECT ...\"}");
            return 0;
        }
        if (weir_json_unescape(sql.p, sql.len, &text) || weir_buf_append(&text, "", 1)) {
            weir_http_reply_error(req, 500, "out of memory");
            return 0;
        }
        body = (const char *)text.data;
        len = text.len - 1; /* without the NUL */
    }
    weir_query_limits lim;
    weir_answer a = {0};
    api_query_limits(req, &lim);
    weir_runtime_query(srv->rt, body ? body : "", len, &lim, &a);
    api_answer(req, &a);
    weir_buf_free(&text);
    return 0;
}

/* POST /v1/query: {"sql": "SELECT ..."} (or SHOW, DESCRIBE, EXPLAIN;
 * or the SQL as the body). */
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
