/*
 * api_query.c - reading over HTTP: the streams and tables, a table's rows,
 * pull queries and the pipeline's SQL (changes as Server-Sent Events are in
 * api_changes.c).
 *
 * Tables are answered from the live views the pipeline keeps (the latest
 * row per key, updated as rows are emitted); streams are scanned from the
 * log. Pull queries run on the HTTP server's worker threads
 * (weir_http_offload), never on its two HTTP threads. They read the views
 * and the log under the service lock, but in turns of a few milliseconds
 * (take_turns), so ingest, the pipeline and /healthz get the lock between
 * them; sorting and formatting the answer happen outside it. Each turn
 * sees every key at most once, in some version it had during the query
 * (a view's rows are only added or replaced in place, never moved).
 *
 * A query is bounded by --query-timeout (counted from its request's
 * arrival, queueing included: 503) and --max-result-bytes (the rows it
 * holds, then the answer it writes: 413), both checked as it goes, so an
 * oversized answer is refused before it is built whole.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/arena.h"
#include "base/clock.h"
#include "exec/decode.h"
#include "json/json.h"
#include "server/api.h"
#include "runtime/sinks.h"
#include "sql/sql.h"

void api_reply_json(weir_http_req *req, int status, int rc, weir_buf *b)
{
    if (rc)
        weir_http_reply_error(req, 500, "out of memory");
    else
        weir_http_reply(req, status, "application/json", b->data, b->len);
}

static int put_columns(weir_buf *b, const weir_schema *schema)
{
    int rc = weir_buf_append_str(b, "[");
    for (int i = 0; i < schema->ncols && !rc; i++)
        rc = (i && weir_buf_append_str(b, ",")) || weir_buf_append_str(b, "{\"name\":") ||
             weir_json_quote(b, schema->cols[i].name, strlen(schema->cols[i].name)) ||
             weir_buf_printf(b, ",\"type\":\"%s\"}", weir_type_name(schema->cols[i].type));
    return rc || weir_buf_append_str(b, "]");
}

static const char *kind_of(const weir_relation *rel)
{
    return !rel ? "other" : rel->is_source ? "source" : rel->is_table ? "table" : "stream";
}

/* GET /v1/streams: every stream of the log, with what the pipeline knows of it. */
int api_streams(void *ctx, weir_http_req *req)
{
    weir_runtime *s = ((weir_server *)ctx)->rt;
    weir_buf b = {0};
    weir_err err = {0};
    char **names = NULL;
    size_t n = 0;
    pthread_mutex_lock(&s->lock);
    int rc = weir_log_list_streams(s->log, &names, &n, &err);
    if (rc) {
        pthread_mutex_unlock(&s->lock);
        weir_http_reply_error(req, 500, "%s", err.msg);
        return 0;
    }
    rc = weir_buf_append_str(&b, "{\"streams\":[");
    for (size_t i = 0; i < n && !rc; i++) {
        int index;
        const weir_relation *rel = runtime_relation(s, names[i], &index);
        size_t len = strlen(names[i]);
        bool dlq = len > 4 && !strcmp(names[i] + len - 4, ".dlq");
        weir_stream *st;
        if (weir_stream_open(s->log, names[i], &st, &err))
            continue;
        uint32_t parts = weir_stream_get_config(st)->partitions;
        rc = (i && weir_buf_append_str(&b, ",")) || weir_buf_append_str(&b, "{\"name\":") ||
             weir_json_quote(&b, names[i], len) ||
             weir_buf_printf(&b, ",\"kind\":\"%s\",\"partitions\":%u", dlq ? "dead_letters" : kind_of(rel), parts);
        if (rel && !rc)
            rc = weir_buf_append_str(&b, ",\"columns\":") || put_columns(&b, &rel->schema);
        if (rel && rel->key_fields && !rc)
            rc = weir_buf_append_str(&b, ",\"key\":") || weir_json_quote(&b, rel->key_fields, strlen(rel->key_fields));
        if (rel && rel->schema_subject && !rc)
            rc = weir_buf_append_str(&b, ",\"schema\":") || weir_json_quote(&b, rel->schema_subject, strlen(rel->schema_subject));
        if (rel && rel->is_source && !rc) {
            const ingest_counters *ic = &s->ingest[index];
            rc = weir_buf_printf(&b, ",\"ingested\":{\"records\":%llu,\"bytes\":%llu,\"requests\":%llu,"
                                     "\"refused_invalid\":%llu,\"refused_overload\":%llu}",
                                 (unsigned long long)ic->records, (unsigned long long)ic->bytes,
                                 (unsigned long long)ic->requests, (unsigned long long)ic->refused_invalid,
                                 (unsigned long long)ic->refused_overload);
        }
        uint64_t total = 0;
        rc = rc || weir_buf_append_str(&b, ",\"end_offsets\":[");
        for (uint32_t p = 0; p < parts && !rc; p++) {
            weir_partition_stats ps;
            if (weir_stream_partition_stats(st, p, &ps, &err))
                ps.end_offset = 0;
            total += ps.end_offset;
            rc = weir_buf_printf(&b, "%s%llu", p ? "," : "", (unsigned long long)ps.end_offset);
        }
        rc = rc || weir_buf_printf(&b, "],\"records\":%llu", (unsigned long long)total);
        uint64_t lag = 0, part_lag;
        bool known = false;
        for (uint32_t p = 0; p < parts; p++)
            if (weir_runner_input_lag(s->runner, names[i], p, &part_lag)) {
                lag += part_lag;
                known = true;
            }
        if (!rc && known)
            rc = weir_buf_printf(&b, ",\"pipeline_lag\":%llu", (unsigned long long)lag);
        rc = rc || weir_buf_append_str(&b, "}");
    }
    pthread_mutex_unlock(&s->lock);
    weir_names_free(names, n);
    rc = rc || weir_buf_append_str(&b, "]}\n");
    api_reply_json(req, 200, rc, &b);
    weir_buf_free(&b);
    return 0;
}

/* GET /v1/tables */
int api_tables(void *ctx, weir_http_req *req)
{
    weir_runtime *s = ((weir_server *)ctx)->rt;
    static const char *const windows[] = {"none", "tumble", "hop", "session"};
    weir_buf b = {0};
    int rc = weir_buf_append_str(&b, "{\"tables\":[");
    bool first = true;
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < s->cat->nrels && !rc; i++) {
        const weir_relation *t = s->cat->rels[i];
        if (!t->is_table)
            continue;
        rc = (!first && weir_buf_append_str(&b, ",")) || weir_buf_append_str(&b, "{\"name\":") ||
             weir_json_quote(&b, t->name, strlen(t->name)) || weir_buf_append_str(&b, ",\"columns\":") ||
             put_columns(&b, &t->schema) || weir_buf_append_str(&b, ",\"primary_key\":[");
        first = false;
        for (int k = 0; k < t->npk && !rc; k++)
            rc = (k && weir_buf_append_str(&b, ",")) ||
                 weir_json_quote(&b, t->schema.cols[t->pk[k]].name, strlen(t->schema.cols[t->pk[k]].name));
        const weir_query *q = t->query;
        rc = rc || weir_buf_append_str(&b, "],\"from\":") || weir_json_quote(&b, q->source->name, strlen(q->source->name)) ||
             weir_buf_printf(&b, ",\"window\":\"%s\",\"window_ms\":%lld,\"emit\":\"%s\",\"rows\":%zu}", windows[q->window.kind],
                                   (long long)q->window.size_ms, q->emit == WEIR_EMIT_FINAL ? "final" : "changes",
                                   weir_view_count(s->views[i]));
    }
    pthread_mutex_unlock(&s->lock);
    rc = rc || weir_buf_append_str(&b, "]}\n");
    api_reply_json(req, 200, rc, &b);
    weir_buf_free(&b);
    return 0;
}

/* ---- pull queries ---- */

/* The lock in turns: a query that has held the service lock for 2 ms lets
 * it go for 100 us, long enough for a waiting thread to take it (a
 * mutex handed back at once is usually retaken by the same thread). */
typedef struct turns {
    weir_runtime *s;
    weir_http_req *req;
    uint64_t since_ns;         /* when this thread last took the lock */
} turns;

static bool take_turns(void *ctx)
{
    turns *t = ctx;
    uint64_t now = weir_mono_ns();
    if (now - t->since_ns >= 2000000) {
        pthread_mutex_unlock(&t->s->lock);
        struct timespec pause = {0, 100000};
        (void)nanosleep(&pause, NULL); /* an interrupted pause is only shorter */
        pthread_mutex_lock(&t->s->lock);
        t->since_ns = weir_mono_ns();
    }
    return !weir_http_stopping(t->req);
}

static uint64_t deadline_of(weir_http_req *req)
{
    return weir_http_started_ns(req) + (uint64_t)weir_http_options_of(req)->query_timeout_s * 1000000000u;
}

/* Answers a query a limit stopped (413 or 503, naming the option). */
static void reply_stopped(weir_http_req *req, weir_pull_stop why)
{
    const weir_http_options *o = weir_http_options_of(req);
    if (why == WEIR_PULL_TOO_BIG) {
        weir_http_reply_error(req, 413, "the query's answer is larger than --max-result-bytes (%zu bytes): add a LIMIT "
                                        "or a narrower WHERE, or raise --max-result-bytes", o->max_result_bytes);
        return;
    }
    weir_http_reply_header(req, "Retry-After", "1");
    if (why == WEIR_PULL_TIMEOUT)
        weir_http_reply_error(req, 503, "the query was not answered within --query-timeout (%u s): add a LIMIT or a "
                                        "narrower WHERE, or raise --query-timeout", o->query_timeout_s);
    else
        weir_http_reply_error(req, 503, "weir is shutting down");
}

bool api_answer_over(weir_http_req *req, size_t len, size_t row)
{
    if (len > weir_http_options_of(req)->max_result_bytes)
        reply_stopped(req, WEIR_PULL_TOO_BIG);
    else if (row % 256 == 255 && weir_mono_ns() > deadline_of(req))
        reply_stopped(req, WEIR_PULL_TIMEOUT);
    else if (row % 256 == 255 && weir_http_stopping(req))
        reply_stopped(req, WEIR_PULL_CANCELLED);
    else
        return false;
    return true;
}

/* Runs one SELECT and answers {"columns": [...], "rows": [{...}]}. */
int api_pull_rows(weir_runtime *s, weir_http_req *req, const char *sql, size_t len, api_pulled *p)
{
    *p = (api_pulled){0};
    weir_stmt **st;
    size_t n;
    weir_sql_error e;
    if (weir_sql_parse(sql, len, &p->arena, &st, &n, &e) || (n != 1 && (e = (weir_sql_error){1, 1, "expected one SELECT statement"}, true)) ||
        weir_plan_pull(s->cat, st[0], &p->arena, &p->pull, &e)) {
        weir_http_reply_error(req, 400, "SQL %u:%u: %s", e.line, e.col, e.msg);
        api_pulled_free(p);
        return -1;
    }
    weir_err err = {0};
    int rc = weir_pull_begin(&p->pull, &p->run, &err);
    turns t = {s, req, 0};
    if (rc == WEIR_OK)
        weir_pull_set_limits(p->run, &(weir_pull_limits){.deadline_ns = deadline_of(req),
                                                         .max_bytes = weir_http_options_of(req)->max_result_bytes,
                                                         .pause = take_turns, .pause_ctx = &t});
    pthread_mutex_lock(&s->lock);
    t.since_ns = weir_mono_ns();
    int index;
    runtime_relation(s, p->pull.from->name, &index);
    if (rc == WEIR_OK)
        rc = p->pull.from->is_table ? weir_pull_offer_view(p->run, s->views[index], &err)
                                    : weir_pull_offer_scan(p->run, s->log, false, &err);
    pthread_mutex_unlock(&s->lock);
    if (rc == WEIR_OK)
        p->n = weir_pull_finish(p->run, &p->rows);
    if (p->run && weir_pull_stopped(p->run))
        reply_stopped(req, weir_pull_stopped(p->run));
    else if (rc)
        weir_http_reply_error(req, 500, "%s", err.msg);
    if (rc || weir_pull_stopped(p->run)) {
        api_pulled_free(p);
        return -1;
    }
    return 0;
}

void api_pulled_free(api_pulled *p)
{
    weir_pull_free(p->run);
    weir_arena_free(&p->arena);
    *p = (api_pulled){0};
}

static void run_pull(weir_runtime *s, weir_http_req *req, const char *sql, size_t len)
{
    api_pulled p;
    if (api_pull_rows(s, req, sql, len, &p))
        return;
    weir_buf b = {0};
    int rc = weir_buf_append_str(&b, "{\"columns\":") || put_columns(&b, &p.pull.schema) ||
             weir_buf_append_str(&b, ",\"rows\":[");
    bool over = false;
    for (size_t i = 0; i < p.n && !rc && !over; i++)
        over = (rc = (i && weir_buf_append_str(&b, ",")) || weir_encode_json(&p.pull.schema, p.rows[i], &b)) == 0 &&
               api_answer_over(req, b.len, i);
    rc = rc || weir_buf_append_str(&b, "]}\n");
    if (!over)
        api_reply_json(req, 200, rc, &b);
    weir_buf_free(&b);
    api_pulled_free(&p);
}

/* POST /v1/query on a worker thread. */
static int query_now(void *ctx, weir_http_req *req)
{
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
    run_pull(((weir_server *)ctx)->rt, req, body ? body : "", len);
    weir_buf_free(&text);
    return 0;
}

/* POST /v1/query: {"sql": "SELECT ..."} (or the SQL as the body). */
int api_query(void *ctx, weir_http_req *req) { return weir_http_offload(req, query_now, ctx); }

/* Appends s quoted for SQL: a string literal ('), an identifier ("). */
static int put_sql_quoted(weir_buf *b, const char *s, char quote)
{
    int rc = weir_buf_append(b, &quote, 1);
    for (; *s && !rc; s++)
        rc = weir_buf_append(b, s, 1) || (*s == quote && weir_buf_append(b, &quote, 1)); /* doubled inside */
    return rc || weir_buf_append(b, &quote, 1);
}

static int put_sql_string(weir_buf *b, const char *s) { return put_sql_quoted(b, s, '\''); }
static int put_sql_ident(weir_buf *b, const char *s) { return put_sql_quoted(b, s, '"'); }

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
static bool redirect_to_owner(weir_runtime *s, weir_http_req *req, const weir_relation *t, const char *key)
{
    const weir_task_store *store = s->opt.runner ? s->opt.runner->tasks : NULL;
    char task[300], owner[256];
    bool owned = true;
    weir_err err = {0};
    pthread_mutex_lock(&s->lock);
    int found = store && weir_runner_key_task(s->runner, t, key, strlen(key), task, sizeof task, &owned) && !owned
                    ? store->owner(store->ctx, task, owner, sizeof owner, &err)
                    : 0;
    pthread_mutex_unlock(&s->lock);
    if (owned)
        return false;
    if (found <= 0) {
        weir_http_reply_header(req, "Retry-After", "1");
        if (found < 0)
            weir_http_reply_error(req, 503, "key %s is in partition %s of another process, whose address cannot be read: %s",
                                  key, task, err.msg);
        else
            weir_http_reply_error(req, 503, "key %s is in partition %s, which no process holds right now (the group is "
                                  "rebalancing): retry", key, task);
        return true;
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
    api_reply_json(req, 307, rc, &body);
    weir_buf_free(&url);
    weir_buf_free(&body);
    return true;
}

/* GET /v1/tables/{t}[?key=K][&limit=N]: the table's rows, or those of one
 * key (its first primary-key column), as a pull query would give them. */
static int table_now(void *ctx, weir_http_req *req)
{
    weir_runtime *s = ((weir_server *)ctx)->rt;
    const char *name = weir_http_param(req, "t");
    const weir_relation *t = runtime_relation(s, name, NULL);
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
    if (key && redirect_to_owner(s, req, t, key))
        return 0;
    weir_buf sql = {0};
    int rc = weir_buf_append_str(&sql, "SELECT * FROM ") || put_sql_ident(&sql, name);
    if (key && t->npk)
        rc = rc || weir_buf_append_str(&sql, " WHERE CAST(") || put_sql_ident(&sql, t->schema.cols[t->pk[0]].name) ||
             weir_buf_append_str(&sql, " AS TEXT) = ") || put_sql_string(&sql, key);
    for (int k = 0; k < t->npk && !rc; k++)
        rc = weir_buf_append_str(&sql, k ? ", " : " ORDER BY ") || put_sql_ident(&sql, t->schema.cols[t->pk[k]].name);
    rc = rc || weir_buf_printf(&sql, " LIMIT %llu", lim);
    if (rc)
        weir_http_reply_error(req, 500, "out of memory");
    else
        run_pull(s, req, (const char *)sql.data, sql.len);
    weir_buf_free(&sql);
    return 0;
}

int api_table(void *ctx, weir_http_req *req) { return weir_http_offload(req, table_now, ctx); }

/* GET /v1/pipeline: the SQL the server runs. */
int api_pipeline(void *ctx, weir_http_req *req)
{
    weir_runtime *s = ((weir_server *)ctx)->rt;
    weir_buf b = {0};
    int rc = weir_buf_append_str(&b, "{\"sql\":") || weir_json_quote(&b, s->sql, s->sql_len) ||
             weir_buf_printf(&b, ",\"started_ms\":%lld}\n", (long long)s->started_ms);
    api_reply_json(req, 200, rc, &b);
    weir_buf_free(&b);
    return 0;
}
