/*
 * query.c - reading the pipeline (see query.h): its streams and tables, a
 * table's rows, pull queries and its SQL (change feeds are changes.c's,
 * the formats of the pipeline's endpoints endpoint.c's).
 *
 * Tables are answered from the live views the pipeline keeps (the latest
 * row per key, updated as rows are emitted); streams are scanned from the
 * log. Pull queries run on the caller's thread (the HTTP server's query
 * threads, never its two HTTP threads): a table's view as of one step
 * (table_view.h), a stream through readers of the partitions' published
 * ends (log.h). Neither waits for the pipeline nor makes it wait. What
 * reads the runner (input lag, the owner of a key) is asked of the
 * pipeline thread (runtime_on_loop).
 *
 * A query is bounded by its weir_query_limits: --query-timeout (counted
 * from its request's arrival, queueing included: 503) and
 * --max-result-bytes (the rows it holds, then the answer it writes: 413),
 * both checked as it goes, so an oversized answer is refused before it is
 * built whole.
 */
#include "runtime/query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/arena.h"
#include "base/clock.h"
#include "conn/options.h"
#include "exec/decode.h"
#include "json/json.h"
#include "runtime/runtime_internal.h"
#include "sql/sql.h"

int runtime_put_columns(weir_buf *b, const weir_schema *schema)
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

/* The pipeline's lag behind each of names' partitions (lag[i] is the
 * sum), asked of the pipeline thread: it reads the runner. */
typedef struct lags_call {
    char **names;
    size_t n;
    uint64_t *lag;
    bool *known;               /* names[i] is an input of the pipeline */
} lags_call;

static void lags_on_loop(weir_runtime *s, void *ctx)
{
    lags_call *c = ctx;
    for (size_t i = 0; i < c->n; i++) {
        uint64_t part_lag;
        for (uint32_t p = 0; runtime_input_lag(s, c->names[i], p, &part_lag); p++) {
            c->lag[i] += part_lag;
            c->known[i] = true;
        }
    }
}

void weir_runtime_streams(weir_runtime *s, weir_answer *a)
{
    weir_buf b = {0};
    weir_err err = {0};
    lags_call lags = {0};
    int rc = weir_log_list_streams(s->log, &lags.names, &lags.n, &err);
    if (rc) {
        answer_error(a, 500, "%s", err.msg);
        return;
    }
    char **names = lags.names;
    size_t n = lags.n;
    lags.lag = calloc(n + 1, sizeof *lags.lag);
    lags.known = calloc(n + 1, sizeof *lags.known);
    rc = !lags.lag || !lags.known || weir_buf_append_str(&b, "{\"streams\":[");
    if (!rc)
        runtime_on_loop(s, lags_on_loop, &lags);
    size_t listed = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        int index;
        const weir_relation *rel = runtime_relation(s, names[i], &index);
        size_t len = strlen(names[i]);
        bool dlq = len > 4 && !strcmp(names[i] + len - 4, ".dlq");
        weir_stream *st;
        if (weir_name_internal(names[i]) || weir_stream_open(s->log, names[i], &st, &err)) /* weir's own, or dropped */
            continue;
        uint32_t parts = weir_stream_get_config(st)->partitions;
        rc = (listed++ && weir_buf_append_str(&b, ",")) || weir_buf_append_str(&b, "{\"name\":") ||
             weir_json_quote(&b, names[i], len) ||
             weir_buf_printf(&b, ",\"kind\":\"%s\",\"partitions\":%u", dlq ? "dead_letters" : kind_of(rel), parts);
        if (rel && !rc)
            rc = weir_buf_append_str(&b, ",\"columns\":") || runtime_put_columns(&b, &rel->schema);
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
        if (!rc && lags.known[i])
            rc = weir_buf_printf(&b, ",\"pipeline_lag\":%llu", (unsigned long long)lags.lag[i]);
        rc = rc || weir_buf_append_str(&b, "}");
    }
    weir_names_free(names, n);
    free(lags.lag);
    free(lags.known);
    rc = rc || weir_buf_append_str(&b, "]}\n");
    answer_json(a, 200, rc, &b);
}

void weir_runtime_tables(weir_runtime *s, weir_answer *a)
{
    static const char *const windows[] = {"none", "tumble", "hop", "session"}; /* by weir_window_kind */
    weir_buf b = {0};
    int rc = weir_buf_append_str(&b, "{\"tables\":[");
    bool first = true;
    for (int i = 0; i < s->cat->nrels && !rc; i++) {
        const weir_relation *t = s->cat->rels[i];
        if (!t->is_table)
            continue;
        rc = (!first && weir_buf_append_str(&b, ",")) || weir_buf_append_str(&b, "{\"name\":") ||
             weir_json_quote(&b, t->name, strlen(t->name)) || weir_buf_append_str(&b, ",\"columns\":") ||
             runtime_put_columns(&b, &t->schema) || weir_buf_append_str(&b, ",\"primary_key\":[");
        first = false;
        for (int k = 0; k < t->npk && !rc; k++)
            rc = (k && weir_buf_append_str(&b, ",")) ||
                 weir_json_quote(&b, t->schema.cols[t->pk[k]].name, strlen(t->schema.cols[t->pk[k]].name));
        const weir_query *q = t->query; /* NULL: a source table, fed by producers */
        rc = rc || weir_buf_append_str(&b, "],\"from\":") ||
             (q ? weir_json_quote(&b, q->source->name, strlen(q->source->name)) : weir_buf_append_str(&b, "null")) ||
             weir_buf_printf(&b, ",\"window\":\"%s\",\"window_ms\":%lld,\"emit\":\"%s\",\"rows\":%zu}",
                             q && q->window.cumulate ? "cumulate" : windows[q ? q->window.kind : WEIR_WINDOW_NONE],
                             q ? (long long)q->window.size_ms : 0LL,
                             q && q->emit == WEIR_EMIT_FINAL ? "final" : "changes", weir_view_count(s->views[i]));
    }
    rc = rc || weir_buf_append_str(&b, "]}\n");
    answer_json(a, 200, rc, &b);
}

/* ---- pull queries ---- */

static bool cancelled(const weir_query_limits *lim) { return lim->cancelled && lim->cancelled(lim->cancelled_ctx); }

/* The pull's pause call: whether the client still waits. */
static bool still_wanted(void *ctx) { return !cancelled(ctx); }

static uint64_t deadline_of(const weir_query_limits *lim)
{
    return lim->started_ns + (uint64_t)lim->timeout_s * 1000000000u;
}

/* Answers a query a limit stopped (413 or 503, naming the option). */
static void answer_stopped(weir_answer *a, const weir_query_limits *lim, weir_pull_stop why)
{
    if (why == WEIR_PULL_TOO_BIG) {
        answer_error(a, 413, "the query's answer is larger than --max-result-bytes (%zu bytes): add a LIMIT or a "
                             "narrower WHERE, or raise --max-result-bytes", lim->max_bytes);
        return;
    }
    if (why == WEIR_PULL_TIMEOUT)
        answer_error(a, 503, "the query was not answered within --query-timeout (%u s): add a LIMIT or a narrower "
                             "WHERE, or raise --query-timeout", lim->timeout_s);
    else
        answer_error(a, 503, "weir is shutting down");
    a->retry_after_s = 1;
}

bool runtime_answer_over(weir_answer *a, const weir_query_limits *lim, size_t len, size_t row)
{
    if (len > lim->max_bytes)
        answer_stopped(a, lim, WEIR_PULL_TOO_BIG);
    else if (row % 256 == 255 && weir_mono_ns() > deadline_of(lim))
        answer_stopped(a, lim, WEIR_PULL_TIMEOUT);
    else if (row % 256 == 255 && cancelled(lim))
        answer_stopped(a, lim, WEIR_PULL_CANCELLED);
    else
        return false;
    return true;
}

int runtime_pull_rows(weir_runtime *s, const weir_query_limits *lim, const char *sql, size_t len, runtime_pulled *p,
                      weir_answer *a)
{
    *p = (runtime_pulled){0};
    weir_stmt **st;
    size_t n;
    weir_sql_error e;
    weir_meta meta;
    if (weir_sql_parse(sql, len, &p->arena, &st, &n, &e) || (n != 1 && (e = (weir_sql_error){1, 1, "expected one SELECT statement"}, true)) ||
        (weir_stmt_is_meta(st[0]) ? weir_plan_meta(s->cat, st[0], &p->arena, &meta, &e)
                                  : weir_plan_pull(s->cat, st[0], &p->arena, &p->pull, &e)) ||
        (p->pull.push && (e = (weir_sql_error){st[0]->pos.line, st[0]->pos.col,
                                                "EMIT CHANGES makes a push query, which streams its rows: "
                                                "POST it to /v1/query"}, true))) {
        answer_error(a, 400, "SQL %u:%u: %s", e.line, e.col, e.msg);
        runtime_pulled_free(p);
        return -1;
    }
    if (weir_stmt_is_meta(st[0])) { /* SHOW, DESCRIBE, EXPLAIN: rows from the catalog, as a query's */
        p->pull.schema = meta.schema;
        p->rows = meta.rows;
        p->n = meta.nrows;
        return 0;
    }
    weir_err err = {0};
    int rc = weir_pull_begin(&p->pull, &p->run, &err);
    if (rc == WEIR_OK)
        weir_pull_set_limits(p->run, &(weir_pull_limits){.deadline_ns = deadline_of(lim), .max_bytes = lim->max_bytes,
                                                         .pause = still_wanted, .pause_ctx = (void *)lim});
    int index;
    runtime_relation(s, p->pull.from->name, &index);
    if (rc == WEIR_OK)
        rc = p->pull.from->is_table ? weir_pull_offer_view(p->run, s->views[index], &err)
                                    : weir_pull_offer_scan(p->run, s->log, false, &err);
    if (rc == WEIR_OK)
        p->n = weir_pull_finish(p->run, &p->rows);
    if (p->run && weir_pull_stopped(p->run))
        answer_stopped(a, lim, weir_pull_stopped(p->run));
    else if (rc)
        answer_error(a, 500, "%s", err.msg);
    if (rc || weir_pull_stopped(p->run)) {
        runtime_pulled_free(p);
        return -1;
    }
    return 0;
}

void runtime_pulled_free(runtime_pulled *p)
{
    weir_pull_free(p->run);
    weir_arena_free(&p->arena);
    *p = (runtime_pulled){0};
}

void weir_runtime_query(weir_runtime *s, const char *sql, size_t len, const weir_query_limits *lim, weir_answer *a)
{
    runtime_pulled p;
    if (runtime_pull_rows(s, lim, sql, len, &p, a))
        return;
    weir_buf b = {0};
    int rc = weir_buf_append_str(&b, "{\"columns\":") || runtime_put_columns(&b, &p.pull.schema) ||
             weir_buf_append_str(&b, ",\"rows\":[");
    bool over = false;
    for (size_t i = 0; i < p.n && !rc && !over; i++)
        over = (rc = (i && weir_buf_append_str(&b, ",")) || weir_encode_json(&p.pull.schema, p.rows[i], &b)) == 0 &&
               runtime_answer_over(a, lim, b.len, i);
    rc = rc || weir_buf_append_str(&b, "]}\n");
    if (!over)
        answer_json(a, 200, rc, &b);
    weir_buf_free(&b);
    runtime_pulled_free(&p);
}

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

/* Which task holds a table's key and whether this process does, asked of
 * the pipeline thread: it reads the runner's assignment. */
typedef struct key_task_call {
    const weir_relation *table;
    const char *key;
    char *task;
    size_t task_cap;
    bool found, owned;
} key_task_call;

static void key_task_on_loop(weir_runtime *s, void *ctx)
{
    key_task_call *c = ctx;
    c->found = weir_runner_key_task(s->groups[0].runner, /* scale-out runs the file's queries only */ c->table, c->key, strlen(c->key), c->task, c->task_cap, &c->owned);
}

int weir_runtime_key_owner(weir_runtime *s, const weir_relation *t, const char *key, char *owner, size_t owner_cap,
                           char *task, size_t task_cap, weir_answer *a)
{
    const weir_task_store *store = s->opt.runner ? s->opt.runner->tasks : NULL;
    if (!store)
        return 0;
    key_task_call c = {t, key, task, task_cap, false, true};
    runtime_on_loop(s, key_task_on_loop, &c);
    bool owned = !c.found || c.owned;
    weir_err err = {0};
    int found = owned ? 0 : store->owner(store->ctx, task, owner, owner_cap, &err);
    if (owned)
        return 0;
    if (found <= 0) {
        if (found < 0)
            answer_error(a, 503, "key %s is in partition %s of another process, whose address cannot be read: %s", key,
                         task, err.msg);
        else
            answer_error(a, 503, "key %s is in partition %s, which no process holds right now (the group is "
                                 "rebalancing): retry", key, task);
        a->retry_after_s = 1;
        return -1;
    }
    return 1;
}

void weir_runtime_table_rows(weir_runtime *s, const weir_relation *t, const char *key, uint64_t limit,
                             const weir_query_limits *lim, weir_answer *a)
{
    const char *name = t->name;
    weir_buf sql = {0};
    int rc = weir_buf_append_str(&sql, "SELECT * FROM ") || put_sql_ident(&sql, name);
    if (key && t->npk)
        rc = rc || weir_buf_append_str(&sql, " WHERE CAST(") || put_sql_ident(&sql, t->schema.cols[t->pk[0]].name) ||
             weir_buf_append_str(&sql, " AS TEXT) = ") || put_sql_string(&sql, key);
    for (int k = 0; k < t->npk && !rc; k++)
        rc = weir_buf_append_str(&sql, k ? ", " : " ORDER BY ") || put_sql_ident(&sql, t->schema.cols[t->pk[k]].name);
    rc = rc || weir_buf_printf(&sql, " LIMIT %llu", (unsigned long long)limit);
    if (rc)
        answer_error(a, 500, "out of memory");
    else
        weir_runtime_query(s, (const char *)sql.data, sql.len, lim, a);
    weir_buf_free(&sql);
}

/* The byte where pos is in text, or len if it is not. */
static size_t offset_of(const char *text, size_t len, weir_sql_pos pos)
{
    size_t at = 0;
    for (uint32_t line = 1; line < pos.line && at < len; at++)
        line += text[at] == '\n';
    return pos.line && at + pos.col - 1 <= len ? at + pos.col - 1 : len;
}

/* Blanks the value of every secret option of st (weir_conn_secret) in
 * text, a copy of the pipeline's SQL. */
static void hide_secrets(char *text, size_t len, const weir_stmt *st)
{
    for (int i = 0; st && i < st->nwith; i++) {
        const weir_with_option *o = &st->with[i];
        size_t at = offset_of(text, len, o->value_pos);
        if (!weir_conn_secret(o->name) || at + o->value_len > len || o->value_len < 2)
            continue;
        memset(text + at + 1, '*', o->value_len - 2); /* inside its quotes: the text keeps its shape */
    }
}

void weir_runtime_pipeline(weir_runtime *s, weir_answer *a)
{
    weir_buf b = {0}, text = {0};
    size_t *at = calloc((size_t)s->nadded + 1, sizeof *at); /* where each added group starts */
    int rc = !at || runtime_planned_text(s, s->added, s->nadded, &text, at) || weir_buf_append(&text, "", 1);
    if (rc) {
        free(at);
        weir_buf_free(&text);
        answer_error(a, 500, "out of memory");
        return;
    }
    char *shown = (char *)text.data;
    size_t len = text.len - 1;
    for (int i = 0; i < s->cat->nrels; i++)
        hide_secrets(shown, len, s->cat->rels[i]->decl);
    for (int i = 0; i < s->cat->nsinks; i++)
        hide_secrets(shown, len, s->cat->sinks[i]);
    rc = weir_buf_append_str(&b, "{\"sql\":") || weir_json_quote(&b, shown, s->sql_len) ||
         weir_buf_append_str(&b, ",\"statements\":[");
    for (int g = 0; g < s->nadded && !rc; g++)
        rc = weir_buf_printf(&b, "%s{\"group\":\"%s\",\"sql\":", g ? "," : "", s->added[g].name) ||
             weir_json_quote(&b, shown + at[g], s->added[g].len) || weir_buf_append_str(&b, "}");
    rc = rc || weir_buf_printf(&b, "],\"started_ms\":%lld}\n", (long long)s->started_ms);
    free(at);
    weir_buf_free(&text);
    answer_json(a, 200, rc, &b);
}
