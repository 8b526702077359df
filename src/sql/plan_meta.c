/*
 * plan_meta.c - SHOW STREAMS|TABLES|QUERIES|SINKS and DESCRIBE x, answered
 * from the catalog as rows (EXPLAIN is plan_explain.c's). The columns are
 * ksqlDB's answers' where it has them, in weir's words (README, "Questions
 * about the pipeline"):
 *
 *   SHOW STREAMS   name, kind (source | stream | dead_letters), partitions, key, timestamp
 *   SHOW TABLES    name, kind (table | source_table), partitions, primary_key, window, emit
 *   SHOW QUERIES   id (CSAS_x | CTAS_x | x.insertK), sink, sources, query
 *   SHOW SINKS     name, from, connector
 *   DESCRIBE x     name, kind, columns (JSON), key, primary_key, partitions, timestamp,
 *                  retention, retention_bytes, cleanup_policy, query
 *
 * A stream's dead letters (<name>.dlq) are listed after it when the
 * pipeline writes them: a source's (ingest's refusals) and those of every
 * relation a query reads.
 */
#include "sql/plan_internal.h"

#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "json/json.h"

void plan_meta_columns(planner *P, weir_meta *out, const weir_column *cols, int n)
{
    weir_column *c = alloc(P, (size_t)n * sizeof *c);
    memcpy(c, cols, (size_t)n * sizeof *c);
    out->schema = (weir_schema){c, n};
}

weir_value *plan_meta_row(planner *P, weir_meta *out)
{
    size_t n = out->nrows;
    if ((n & (n - 1)) == 0) { /* a power of two (or 0) is full: double it */
        const weir_value **rows = alloc(P, (n ? 2 * n : 8) * sizeof *rows);
        if (n)
            memcpy(rows, out->rows, n * sizeof *rows);
        out->rows = (const weir_value *const *)rows;
    }
    weir_value *row = alloc(P, (size_t)out->schema.ncols * sizeof *row);
    for (int i = 0; i < out->schema.ncols; i++)
        row[i] = weir_null(out->schema.cols[i].type);
    ((const weir_value **)out->rows)[out->nrows++] = row;
    return row;
}

weir_value plan_meta_text(const char *s) { return s ? weir_text(s, strlen(s)) : weir_null(WEIR_TYPE_TEXT); }

const char *plan_printf(planner *P, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = alloc(P, (size_t)(n < 0 ? 0 : n) + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)(n < 0 ? 0 : n) + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* The names of rel's columns cols[0..n), joined by ", ". */
static const char *names_of(planner *P, const weir_relation *rel, const int *cols, int n)
{
    const char *s = NULL;
    for (int i = 0; i < n; i++)
        s = s ? plan_printf(P, "%s, %s", s, rel->schema.cols[cols[i]].name) : rel->schema.cols[cols[i]].name;
    return s;
}

/* Whether the pipeline writes rel's dead letters: ingest's for a source,
 * the engine's for every relation a query reads. */
static bool has_dead_letters(const weir_catalog *cat, const weir_relation *rel)
{
    if (rel->is_source)
        return true;
    for (int i = 0; i < cat->nqueries; i++)
        if (cat->queries[i]->source == rel || (cat->queries[i]->join && cat->queries[i]->join->right == rel))
            return true;
    return false;
}

/* A stream's key: its key columns, or a derived stream's PARTITION BY. */
static const char *key_of(planner *P, const weir_relation *rel)
{
    if (rel->key_fields)
        return rel->key_fields;
    if (rel->nkey_cols)
        return names_of(P, rel, rel->key_cols, rel->nkey_cols);
    return rel->partition_by ? plan_expr_sql(P, rel->partition_by, NULL) : NULL;
}

static const char *timestamp_of(const weir_relation *rel)
{
    return rel->ts_col >= 0 ? rel->schema.cols[rel->ts_col].name : NULL;
}

static const char *kind_of(const weir_relation *rel)
{
    if (rel->is_table)
        return rel->is_source ? "source_table" : "table";
    return rel->is_source ? "source" : "stream";
}

static void show_streams(planner *P, weir_meta *out)
{
    static const weir_column cols[] = {{"name", WEIR_TYPE_TEXT}, {"kind", WEIR_TYPE_TEXT}, {"partitions", WEIR_TYPE_INT},
                                       {"key", WEIR_TYPE_TEXT}, {"timestamp", WEIR_TYPE_TEXT}};
    plan_meta_columns(P, out, cols, 5);
    for (int i = 0; i < P->cat->nrels; i++) {
        const weir_relation *rel = P->cat->rels[i];
        if (!rel->is_table) {
            weir_value *r = plan_meta_row(P, out);
            r[0] = plan_meta_text(rel->name);
            r[1] = plan_meta_text(kind_of(rel));
            r[2] = weir_int(rel->partitions);
            r[3] = plan_meta_text(key_of(P, rel));
            r[4] = plan_meta_text(timestamp_of(rel));
        }
        if (has_dead_letters(P->cat, rel)) {
            weir_value *r = plan_meta_row(P, out);
            r[0] = plan_meta_text(plan_printf(P, "%s.dlq", rel->name));
            r[1] = plan_meta_text("dead_letters");
            r[2] = weir_int(1);
            r[4] = plan_meta_text("timestamp");
        }
    }
}

/* A windowed query's window as SQL: TUMBLE(INTERVAL '1' MINUTE), or NULL. */
static const char *window_of(planner *P, const weir_query *q)
{
    if (!q || q->window.kind == WEIR_WINDOW_NONE)
        return NULL;
    const weir_window_spec *w = &q->window;
    const char *s = w->kind == WEIR_WINDOW_TUMBLE  ? plan_printf(P, "TUMBLE(%s)", plan_interval_sql(P, w->size_ms))
                    : w->kind == WEIR_WINDOW_HOP   ? plan_printf(P, "%s(%s, %s)", w->cumulate ? "CUMULATE" : "HOP",
                                                                 plan_interval_sql(P, w->slide_ms),
                                                                 plan_interval_sql(P, w->size_ms))
                                                   : plan_printf(P, "SESSION(%s)", plan_interval_sql(P, w->gap_ms));
    return w->grace_ms ? plan_printf(P, "%s GRACE %s", s, plan_interval_sql(P, w->grace_ms)) : s;
}

static void show_tables(planner *P, weir_meta *out)
{
    static const weir_column cols[] = {{"name", WEIR_TYPE_TEXT}, {"kind", WEIR_TYPE_TEXT}, {"partitions", WEIR_TYPE_INT},
                                       {"primary_key", WEIR_TYPE_TEXT}, {"window", WEIR_TYPE_TEXT}, {"emit", WEIR_TYPE_TEXT}};
    plan_meta_columns(P, out, cols, 6);
    for (int i = 0; i < P->cat->nrels; i++) {
        const weir_relation *rel = P->cat->rels[i];
        if (!rel->is_table)
            continue;
        weir_value *r = plan_meta_row(P, out);
        r[0] = plan_meta_text(rel->name);
        r[1] = plan_meta_text(kind_of(rel));
        r[2] = weir_int(rel->partitions);
        r[3] = plan_meta_text(names_of(P, rel, rel->pk, rel->npk));
        r[4] = plan_meta_text(window_of(P, rel->query));
        r[5] = plan_meta_text(rel->query ? rel->query->emit == WEIR_EMIT_FINAL ? "final" : "changes" : NULL);
    }
}

const char *plan_query_id(planner *P, const weir_query *q)
{
    if (q->stmt->kind == WEIR_STMT_INSERT)
        return q->name;
    return plan_printf(P, "%s_%s", q->is_table ? "CTAS" : "CSAS", q->output->name);
}

static void show_queries(planner *P, weir_meta *out)
{
    static const weir_column cols[] = {{"id", WEIR_TYPE_TEXT}, {"sink", WEIR_TYPE_TEXT}, {"sources", WEIR_TYPE_TEXT},
                                       {"query", WEIR_TYPE_TEXT}};
    plan_meta_columns(P, out, cols, 4);
    for (int i = 0; i < P->cat->nqueries; i++) {
        const weir_query *q = P->cat->queries[i];
        weir_value *r = plan_meta_row(P, out);
        r[0] = plan_meta_text(plan_query_id(P, q));
        r[1] = plan_meta_text(q->output->name);
        r[2] = plan_meta_text(q->join ? plan_printf(P, "%s, %s", q->source->name, q->join->right->name) : q->source->name);
        r[3] = plan_meta_text(q->stmt->text);
    }
}

static void show_sinks(planner *P, weir_meta *out)
{
    static const weir_column cols[] = {{"name", WEIR_TYPE_TEXT}, {"from", WEIR_TYPE_TEXT}, {"connector", WEIR_TYPE_TEXT}};
    plan_meta_columns(P, out, cols, 3);
    for (int i = 0; i < P->cat->nsinks; i++) {
        const weir_stmt *st = P->cat->sinks[i];
        const weir_with_option *c = weir_stmt_option(st, "connector");
        weir_value *r = plan_meta_row(P, out);
        r[0] = plan_meta_text(st->name);
        r[1] = plan_meta_text(st->from);
        r[2] = c && c->value.type == WEIR_TYPE_TEXT ? c->value : weir_null(WEIR_TYPE_TEXT);
    }
}

/* A retention as people write it: '7 days', '90 minutes', '250 ms', 'forever'. */
static const char *retention_of(planner *P, int64_t ms)
{
    static const struct { int64_t ms; const char *unit; } units[] = {
        {86400000, "day"}, {3600000, "hour"}, {60000, "minute"}, {1000, "second"}};
    if (ms < 0)
        return "forever";
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (ms % units[i].ms == 0)
            return plan_printf(P, "%lld %s%s", (long long)(ms / units[i].ms), units[i].unit, ms == units[i].ms ? "" : "s");
    return plan_printf(P, "%lld ms", (long long)ms);
}

/* The columns as a JSON array: [{"name", "type"} with "not_null", "check"
 * and "primary_key" where they hold]. */
static const char *columns_json(planner *P, const weir_relation *rel)
{
    weir_buf b = {0};
    int rc = weir_buf_append_str(&b, "[");
    for (int i = 0; i < rel->schema.ncols && !rc; i++) {
        const weir_column *c = &rel->schema.cols[i];
        rc = (i && weir_buf_append_str(&b, ",")) || weir_buf_append_str(&b, "{\"name\":") ||
             weir_json_quote(&b, c->name, strlen(c->name)) || weir_buf_printf(&b, ",\"type\":\"%s\"", weir_type_name(c->type));
        for (int k = 0; k < rel->nconstraints && !rc; k++) {
            const weir_constraint *ct = &rel->constraints[k];
            if (ct->col == i && ct->not_null)
                rc = weir_buf_append_str(&b, ",\"not_null\":true");
            if (ct->col == i && ct->check_text && !rc)
                rc = weir_buf_append_str(&b, ",\"check\":") || weir_json_quote(&b, ct->check_text, strlen(ct->check_text));
        }
        for (int k = 0; k < rel->npk && !rc; k++)
            if (rel->pk[k] == i)
                rc = weir_buf_append_str(&b, ",\"primary_key\":true");
        rc = rc || weir_buf_append_str(&b, "}");
    }
    rc = rc || weir_buf_append_str(&b, "]");
    char *s = rc ? NULL : weir_arena_strndup(P->a, (const char *)b.data, b.len);
    weir_buf_free(&b);
    if (!s)
        fail(P, (weir_sql_pos){0, 0}, "out of memory");
    return s;
}

static void describe(planner *P, const weir_stmt *st, weir_meta *out)
{
    static const weir_column cols[] = {
        {"name", WEIR_TYPE_TEXT},      {"kind", WEIR_TYPE_TEXT},       {"columns", WEIR_TYPE_JSON},
        {"key", WEIR_TYPE_TEXT},       {"primary_key", WEIR_TYPE_TEXT}, {"partitions", WEIR_TYPE_INT},
        {"timestamp", WEIR_TYPE_TEXT}, {"retention", WEIR_TYPE_TEXT},  {"retention_bytes", WEIR_TYPE_INT},
        {"cleanup_policy", WEIR_TYPE_TEXT}, {"query", WEIR_TYPE_TEXT},
    };
    plan_meta_columns(P, out, cols, (int)(sizeof cols / sizeof cols[0]));
    const weir_relation *rel = weir_catalog_find(P->cat, st->name);
    bool dead = false;
    if (!rel)
        dead = (rel = plan_dead_letters(P, st->name)) != NULL;
    if (!rel)
        fail(P, st->name_pos, "unknown stream or table %s (SHOW STREAMS and SHOW TABLES list them)", st->name);
    weir_value *r = plan_meta_row(P, out);
    r[0] = plan_meta_text(rel->name);
    r[1] = plan_meta_text(dead ? "dead_letters" : kind_of(rel));
    const char *json = columns_json(P, rel);
    r[2] = (weir_value){.type = WEIR_TYPE_JSON, .len = (uint32_t)strlen(json), .s = json};
    r[3] = plan_meta_text(dead ? NULL : key_of(P, rel));
    r[4] = plan_meta_text(rel->is_table ? names_of(P, rel, rel->pk, rel->npk) : NULL);
    r[5] = weir_int(rel->partitions);
    r[6] = plan_meta_text(timestamp_of(rel));
    r[7] = plan_meta_text(rel->retention_ms ? retention_of(P, rel->retention_ms) : NULL);
    if (rel->retention_bytes)
        r[8] = weir_int(rel->retention_bytes);
    r[9] = plan_meta_text(rel->compact < 0                     ? NULL
                          : rel->compact == WEIR_CLEANUP_STORE ? "store"
                          : rel->compact                       ? "compact"
                                                               : "delete");
    r[10] = plan_meta_text(rel->query ? rel->query->stmt->text : NULL);
}

bool weir_stmt_is_meta(const weir_stmt *st)
{
    return st->kind == WEIR_STMT_SHOW || st->kind == WEIR_STMT_DESCRIBE || st->kind == WEIR_STMT_EXPLAIN;
}

int weir_plan_meta(const weir_catalog *cat, const weir_stmt *st, weir_arena *a, weir_meta *out, weir_sql_error *e)
{
    memset(out, 0, sizeof *out);
    planner P = {.a = a, .e = e, .cat = (weir_catalog *)cat};
    if (setjmp(P.fail))
        return WEIR_EINVAL;
    if (st->kind == WEIR_STMT_DESCRIBE)
        describe(&P, st, out);
    else if (st->kind == WEIR_STMT_EXPLAIN)
        plan_explain(&P, st, out);
    else if (st->kind != WEIR_STMT_SHOW)
        fail(&P, st->pos, "expected SHOW, DESCRIBE or EXPLAIN");
    else if (st->show == WEIR_SHOW_STREAMS)
        show_streams(&P, out);
    else if (st->show == WEIR_SHOW_TABLES)
        show_tables(&P, out);
    else if (st->show == WEIR_SHOW_QUERIES)
        show_queries(&P, out);
    else
        show_sinks(&P, out);
    return WEIR_OK;
}
