/*
 * plan_ddl.c - the relations a pipeline declares: CREATE STREAM with
 * columns (a source: its constraints and ingest options), CREATE TABLE
 * with columns and a PRIMARY KEY (a source table: an upsert changelog,
 * keyed and partitioned by that column) and CREATE STREAM/TABLE ... AS
 * SELECT (a query's output), each with the WITH
 * options every stream takes (partitions, key, timestamp, format). A
 * source's connector options are not checked here but by the connector's
 * own table when the pipeline loads (conn/connectors.h).
 */
#include "sql/plan_internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/duration.h"
#include "base/name.h"

static uint32_t option_partitions(planner *P, const weir_stmt *st, uint32_t dflt)
{
    const weir_with_option *o = weir_stmt_option(st, "partitions");
    if (!o)
        return dflt;
    if (o->value.type != WEIR_TYPE_INT || o->value.i < 1 || o->value.i > 10000)
        fail(P, o->pos, "partitions must be a whole number from 1 to 10000");
    return (uint32_t)o->value.i;
}

static int option_column(planner *P, const weir_stmt *st, const char *opt, const weir_relation *r)
{
    const weir_with_option *o = weir_stmt_option(st, opt);
    if (!o)
        return -1;
    if (o->value.type != WEIR_TYPE_TEXT)
        fail(P, o->pos, "%s must name a column, in quotes", opt);
    int i = plan_column_index(&r->schema, o->value.s);
    if (i < 0)
        fail(P, o->pos, "%s names column '%s', which %s does not have", opt, o->value.s, r->name);
    return i;
}

static void set_key(planner *P, weir_relation *r, const int *cols, int n)
{
    r->key_cols = alloc(P, (size_t)n * sizeof *r->key_cols);
    memcpy(r->key_cols, cols, (size_t)n * sizeof *cols);
    r->nkey_cols = n;
    r->key_col = cols[0];
    weir_buf b = {0};
    for (int i = 0; i < n; i++)
        if (weir_buf_printf(&b, "%s%s", i ? "," : "", r->schema.cols[cols[i]].name)) {
            weir_buf_free(&b);
            fail(P, (weir_sql_pos){0, 0}, "out of memory");
        }
    r->key_fields = weir_arena_strndup(P->a, (const char *)b.data, b.len);
    weir_buf_free(&b);
    if (!r->key_fields)
        fail(P, (weir_sql_pos){0, 0}, "out of memory");
}

/* WITH (key = 'col') or (key = 'a, b'): one or more columns (up to 8). */
static void key_columns(planner *P, const weir_stmt *st, weir_relation *r)
{
    const weir_with_option *o = weir_stmt_option(st, "key");
    if (!o)
        return;
    if (o->value.type != WEIR_TYPE_TEXT)
        fail(P, o->pos, "key must name a column (or several, comma-separated), in quotes");
    int cols[8], n = 0;
    for (const char *p = o->value.s; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t len = strcspn(p, ", ");
        if (!len)
            break;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)len, p);
        int i = plan_column_index(&r->schema, name);
        if (i < 0)
            fail(P, o->pos, "key names column '%s', which %s does not have", name, r->name);
        if (n == 8)
            fail(P, o->pos, "key has more than 8 columns");
        cols[n++] = i;
        p += len;
    }
    if (!n)
        fail(P, o->pos, "key names no column");
    set_key(P, r, cols, n);
}

/* Refuses a WITH option not among known, unless connector_rest and the
 * statement names a connector: then the others are the connector's,
 * checked against its table when the pipeline loads (weir_stream_options). */
void plan_check_options(planner *P, const weir_stmt *st, const char *const *known, size_t n, bool connector_rest)
{
    if (connector_rest && weir_stmt_option(st, "connector"))
        return;
    for (int i = 0; i < st->nwith; i++) {
        size_t k = 0;
        while (k < n && strcmp(known[k], st->with[i].name))
            k++;
        if (k == n) {
            char list[256] = "";
            for (size_t j = 0; j < n; j++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "", known[j]);
            fail(P, st->with[i].pos, "unknown option %s (known here: %s)", st->with[i].name, list);
        }
    }
}

/* WITH (schema = 'subject', on_invalid = 'reject' | 'dead_letter', connector = 'name') of a source stream. The
 * connector's own options are its table's business (weir_stream_options). */
static void ingest_options(planner *P, const weir_stmt *st, weir_relation *r)
{
    const weir_with_option *o = weir_stmt_option(st, "schema");
    if (o && (o->value.type != WEIR_TYPE_TEXT || !*o->value.s))
        fail(P, o->pos, "schema must name a subject of the schema registry, as a string");
    r->schema_subject = o ? o->value.s : NULL;
    o = weir_stmt_option(st, "on_invalid");
    if (o && (o->value.type != WEIR_TYPE_TEXT || (strcmp(o->value.s, "reject") && strcmp(o->value.s, "dead_letter"))))
        fail(P, o->pos, "on_invalid must be 'reject' (a batch with an invalid record is refused whole) or "
                        "'dead_letter' (invalid records go to %s.dlq, the rest is kept)", st->name);
    r->invalid_to_dlq = o && !strcmp(o->value.s, "dead_letter");
    o = weir_stmt_option(st, "connector");
    if (o && (o->value.type != WEIR_TYPE_TEXT || !*o->value.s))
        fail(P, o->pos, "connector must name a source connector, in quotes (weir connectors lists them)");
    r->connector = o ? o->value.s : NULL;
    r->decl = st;
}

/* WITH (retention = '7 days' | ms | 'forever', retention_bytes = N,
 * cleanup_policy = 'compact' | 'delete' | 'store'): how long the stream's records
 * are kept (weir_retention_parse reads the words; docs/CONFIGURATION.md). */
static void cleanup_options(planner *P, const weir_stmt *st, weir_relation *r)
{
    const weir_with_option *o = weir_stmt_option(st, "retention");
    char number[32], why[256];
    r->compact = -1;
    if (o && o->value.type == WEIR_TYPE_INT)
        snprintf(number, sizeof number, "%lld", (long long)o->value.i);
    const char *text = !o ? NULL : o->value.type == WEIR_TYPE_TEXT ? o->value.s : o->value.type == WEIR_TYPE_INT ? number : "";
    if (o && !weir_retention_parse(text, &r->retention_ms, why, sizeof why))
        fail(P, o->pos, "retention: %s", why);
    o = weir_stmt_option(st, "retention_bytes");
    if (o && (o->value.type != WEIR_TYPE_INT || o->value.i < 1))
        fail(P, o->pos, "retention_bytes must be a whole number of bytes (kept per partition, about), at least 1");
    r->retention_bytes = o ? o->value.i : 0;
    o = weir_stmt_option(st, "cleanup_policy");
    if (o && (o->value.type != WEIR_TYPE_TEXT ||
              (strcmp(o->value.s, "compact") && strcmp(o->value.s, "delete") && strcmp(o->value.s, "store"))))
        fail(P, o->pos, "cleanup_policy must be 'compact' (keep the last record per key), 'delete' (keep records "
                        "until their retention passes) or, for a table made by a query, 'store' (the state store "
                        "holds its rows: keep its changelog only as far back as its readers need)");
    if (o && !strcmp(o->value.s, "store") && !(r->is_table && r->query))
        fail(P, o->pos, "cleanup_policy 'store' is for a table made by a query (CREATE TABLE ... AS SELECT), whose "
                        "rows the state store holds; %s is a %s", r->name, r->is_table ? "source table" : "stream");
    if (o)
        r->compact = !strcmp(o->value.s, "compact") ? 1 : !strcmp(o->value.s, "store") ? WEIR_CLEANUP_STORE : 0;
}

/* A source's column constraints, their CHECKs resolved over its row; a
 * primary key is NOT NULL (a row without one names nothing). */
static void constraints(planner *P, const weir_stmt *st, weir_relation *r)
{
    r->constraints = alloc(P, (size_t)st->ncols * sizeof *r->constraints);
    P->input = &r->schema;
    P->input_name = r->name;
    for (int i = 0; i < st->ncols; i++) {
        const weir_column_def *c = &st->cols[i];
        if (!c->not_null && !c->check && !c->primary_key)
            continue;
        if (c->check)
            plan_condition(P, c->check, "CHECK", "");
        r->constraints[r->nconstraints++] = (weir_constraint){i, c->not_null || c->primary_key, c->check, c->check_text};
    }
}

/* A source table's PRIMARY KEY: one column, which keys and partitions its
 * records (a WITH key may only name it again); a stream has none. */
static void primary_key(planner *P, const weir_stmt *st, weir_relation *r)
{
    int col = -1;
    for (int i = 0; i < st->ncols; i++)
        if (st->cols[i].primary_key) {
            if (st->kind == WEIR_STMT_CREATE_STREAM)
                fail(P, st->cols[i].pos, "a stream has no PRIMARY KEY: its records are events, not rows (CREATE TABLE "
                                         "%s (...) makes a source table, the latest record per key)", r->name);
            if (col >= 0)
                fail(P, st->cols[i].pos, "a source table's PRIMARY KEY is one column; %s has %s already",
                     r->name, st->cols[col].name);
            col = i;
        }
    if (st->kind == WEIR_STMT_CREATE_STREAM)
        return;
    if (col < 0)
        fail(P, st->pos, "source table %s needs a PRIMARY KEY: the column naming a row, whose latest record is "
                         "the row (declare it `col TYPE PRIMARY KEY`, or write CREATE STREAM for a stream)", r->name);
    if (r->nkey_cols && (r->nkey_cols > 1 || r->key_col != col))
        fail(P, weir_stmt_option(st, "key")->pos, "a source table is keyed by its PRIMARY KEY (%s): leave out "
                                                  "WITH (key) or name that column", st->cols[col].name);
    set_key(P, r, &col, 1);
    r->is_table = true;
    r->pk = alloc(P, sizeof *r->pk);
    r->pk[0] = col;
    r->npk = 1;
}

/* WITH (start = 'earliest' | 'latest'): where a query's first run reads
 * its input from (ksqlDB's auto.offset.reset; earliest by default). */
static void start_option(planner *P, const weir_stmt *st, weir_query *q)
{
    const weir_with_option *o = weir_stmt_option(st, "start");
    if (!o)
        return;
    bool latest = o->value.type == WEIR_TYPE_TEXT && !strcasecmp(o->value.s, "latest");
    if (!latest && !(o->value.type == WEIR_TYPE_TEXT && !strcasecmp(o->value.s, "earliest")))
        fail(P, o->pos, "start must be 'earliest' (read the input from its oldest retained record, the default) or "
                        "'latest' (only what comes after the query's first start)");
    q->start_latest = latest;
}

const char *const weir_stream_options[] = {"partitions", "key", "timestamp", "format", "retention",
                                           "retention_bytes", "cleanup_policy", "schema", "on_invalid", "connector"};
const int weir_stream_noptions = (int)(sizeof weir_stream_options / sizeof *weir_stream_options);

void plan_declare(planner *P, weir_stmt *st)
{
    if (!weir_name_valid(st->name))
        fail(P, st->pos, "'%s' cannot name a stream: use letters, digits, '.', '_' and '-' (up to 200)", st->name);
    if (weir_name_internal(st->name))
        fail(P, st->pos, "'%s' cannot name a stream: names starting with __ are weir's internal streams "
                         "(such as __weir_producers)", st->name);
    if (weir_catalog_find(P->cat, st->name))
        fail(P, st->pos, "%s is declared twice", st->name);
    weir_relation *r = alloc(P, sizeof *r);
    r->name = st->name;
    r->key_col = r->ts_col = -1;
    bool source = st->kind == WEIR_STMT_CREATE_STREAM || st->kind == WEIR_STMT_CREATE_TABLE;
    if (source) {
        plan_check_options(P, st, weir_stream_options, (size_t)weir_stream_noptions, true);
        ingest_options(P, st, r);
        r->is_source = true;
        r->schema.ncols = st->ncols;
        r->schema.cols = alloc(P, (size_t)st->ncols * sizeof *r->schema.cols);
        for (int i = 0; i < st->ncols; i++)
            r->schema.cols[i] = (weir_column){st->cols[i].name, st->cols[i].type};
        constraints(P, st, r);
        r->partitions = option_partitions(P, st, 4);
        const weir_with_option *fmt = weir_stmt_option(st, "format");
        if (fmt && (fmt->value.type != WEIR_TYPE_TEXT || strcasecmp(fmt->value.s, "json")))
            fail(P, fmt->pos, "format must be 'json' (the only record format so far)");
    } else {
        static const char *const derived[] = {"partitions", "key", "timestamp", "format", "retention",
                                              "retention_bytes", "cleanup_policy", "start"};
        plan_check_options(P, st, derived, sizeof derived / sizeof *derived, false);
        plan_query(P, st, r);
        start_option(P, st, r->query);
        r->partitions = option_partitions(P, st, r->query->source->partitions);
    }
    key_columns(P, st, r);
    if (source)
        primary_key(P, st, r);
    cleanup_options(P, st, r);
    if (r->partition_by && r->nkey_cols)
        fail(P, weir_stmt_option(st, "key")->pos, "%s is keyed by PARTITION BY: give it or WITH (key = ...), not both",
             r->name);
    if (r->key_col < 0 && r->query && r->query->grouped) /* a table's changelog is partitioned by its first key */
        for (int i = 0; i < r->schema.ncols && r->key_col < 0; i++)
            if (r->query->out[i]->kind == WEIR_E_SLOT && r->query->out[i]->slot == 0 && r->query->nkeys > 0)
                set_key(P, r, &i, 1);
    if (r->key_col < 0 && r->query && r->query->join && !r->partition_by) /* keyed by the join key, when it is projected */
        for (int i = 0; i < r->schema.ncols && r->key_col < 0; i++)
            if (r->query->out[i]->kind == WEIR_E_COLUMN &&
                (r->query->out[i]->col.index == r->query->join->left_key ||
                 r->query->out[i]->col.index == r->query->source->schema.ncols + r->query->join->right_key))
                set_key(P, r, &i, 1);
    r->ts_col = option_column(P, st, "timestamp", r);
    if (r->ts_col >= 0 && r->schema.cols[r->ts_col].type != WEIR_TYPE_TIMESTAMP)
        fail(P, weir_stmt_option(st, "timestamp")->pos, "the timestamp column must have type TIMESTAMP");
    if (r->query && !r->query->join && r->ts_col < 0 && r->query->source->ts_col >= 0) { /* keep event time when it is projected */
        int i = plan_column_index(&r->schema, r->query->source->schema.cols[r->query->source->ts_col].name);
        if (i >= 0 && r->schema.cols[i].type == WEIR_TYPE_TIMESTAMP)
            r->ts_col = i;
    }
    weir_relation **v = alloc(P, (size_t)(P->cat->nrels + 1) * sizeof *v);
    if (P->cat->nrels)
        memcpy(v, P->cat->rels, (size_t)P->cat->nrels * sizeof *v);
    v[P->cat->nrels++] = r;
    P->cat->rels = v;
    if (r->query) {
        weir_query **qv = alloc(P, (size_t)(P->cat->nqueries + 1) * sizeof *qv);
        if (P->cat->nqueries)
            memcpy(qv, P->cat->queries, (size_t)P->cat->nqueries * sizeof *qv);
        qv[P->cat->nqueries++] = r->query;
        P->cat->queries = qv;
    }
}

/* Whether rel's records come, through any chain of queries, of target's. */
static bool made_of(const weir_catalog *cat, const weir_relation *rel, const weir_relation *target)
{
    if (rel == target)
        return true;
    for (int i = 0; i < cat->nqueries; i++) {
        const weir_query *q = cat->queries[i];
        if (q->output == rel &&
            (made_of(cat, q->source, target) || (q->join && made_of(cat, q->join->right, target))))
            return true;
    }
    return false;
}

void plan_insert(planner *P, weir_stmt *st)
{
    weir_relation *into = NULL;
    for (int i = 0; i < P->cat->nrels && !into; i++)
        if (!strcmp(P->cat->rels[i]->name, st->name))
            into = P->cat->rels[i];
    if (!into)
        fail(P, st->pos, "INSERT INTO %s: no such stream before it (declare it: CREATE STREAM %s (columns) WITH "
                         "(...))", st->name, st->name);
    if (into->is_table)
        fail(P, st->pos, "INSERT INTO %s: a table's rows come of its own query or its producers; INSERT INTO writes "
                         "records into a stream", st->name);
    if (into->connector)
        fail(P, st->pos, "INSERT INTO %s: it is fed by its %s connector alone", st->name, into->connector);
    for (int i = 0; i < P->cat->nroutes; i++)
        if (P->cat->routes[i].into == into)
            fail(P, st->pos, "INSERT INTO %s: route %s sends it records over HTTP, and a stream the pipeline writes "
                             "takes no others (a restart after a crash cuts it back to its last checkpoint)",
                 st->name, P->cat->routes[i].path);
    if (st->select->partition_by)
        fail(P, st->select->partition_by->pos, "INSERT INTO %s: its records are keyed as %s says (WITH key); "
                                               "PARTITION BY belongs to CREATE STREAM ... AS SELECT", st->name, st->name);
    weir_relation *made = alloc(P, sizeof *made);
    made->name = into->name;
    made->key_col = made->ts_col = -1;
    plan_query(P, st, made);
    weir_query *q = made->query;
    if (made_of(P->cat, q->source, into) || (q->join && made_of(P->cat, q->join->right, into)))
        fail(P, st->select->from_pos, "INSERT INTO %s: the SELECT reads what %s's own records make, so each record "
                                      "would make another without end", st->name, st->name);
    if (made->schema.ncols != into->schema.ncols)
        fail(P, st->pos, "INSERT INTO %s: the SELECT gives %d columns and %s has %d: give its columns "
                         "in order (%s first)", st->name, made->schema.ncols, st->name,
             into->schema.ncols, into->schema.cols[0].name);
    for (int i = 0; i < into->schema.ncols; i++) {
        weir_type got = q->out[i]->type, want = into->schema.cols[i].type;
        if (got != want && got != WEIR_TYPE_NULL)
            fail(P, st->select->nitems > i ? st->select->items[i].pos : st->pos,
                 "INSERT INTO %s: column %d (%s) is %s and this is %s: CAST(... AS %s)", st->name, i + 1,
                 into->schema.cols[i].name, weir_type_name(want), weir_type_name(got), weir_type_name(want));
    }
    q->output = into;
    int k = 1;
    for (int i = 0; i < P->cat->nqueries; i++)
        k += P->cat->queries[i]->output == into && P->cat->queries[i]->stmt->kind == WEIR_STMT_INSERT;
    q->name = plan_printf(P, "%s.insert%d", into->name, k);
    if (!into->query)
        into->query = q;
    into->is_source = false; /* the pipeline writes it: producers may not (ingest answers 409) */
    into->inserted = true;
    plan_joins_recheck(P, st, into);
    weir_query **qv = alloc(P, (size_t)(P->cat->nqueries + 1) * sizeof *qv);
    if (P->cat->nqueries)
        memcpy(qv, P->cat->queries, (size_t)P->cat->nqueries * sizeof *qv);
    qv[P->cat->nqueries++] = q;
    P->cat->queries = qv;
}
