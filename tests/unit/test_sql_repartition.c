/*
 * test_sql_repartition.c - scale-out's repartitioning as the planner
 * rewrites it (sql/plan_repartition.c): a GROUP BY on plain columns other
 * than the input's key reads a stream "<group>.<query>.repartition" with
 * the input's columns, partitions and event time, keyed by the GROUP BY
 * columns (a GROUP BY expression computed into a column of the stream's
 * own), written by a query carrying the WHERE; every other query is
 * left as it is (grouped by the key, a global aggregate, a table read), and a pipeline that already declares the
 * stream's name is refused with both names.
 */
#include "../tap.h"
#include "sql/plan.h"

static const char *streams =
    "CREATE STREAM clicks (user TEXT, page TEXT, n INT, ts TIMESTAMP) WITH (partitions = 6, key = 'user', timestamp = 'ts');\n"
    "CREATE STREAM bare (page TEXT, n INT);\n";

/* The catalog of streams + sql, rewritten for group g; NULL with the error in e. */
static weir_catalog *build(weir_arena *a, const char *sql, weir_sql_error *e)
{
    weir_catalog *cat = weir_arena_alloc(a, sizeof *cat);
    char text[4096];
    snprintf(text, sizeof text, "%s%s", streams, sql);
    weir_stmt **st;
    size_t n;
    memset(e, 0, sizeof *e);
    if (!cat || weir_sql_parse(text, strlen(text), a, &st, &n, e) || weir_catalog_build(st, n, a, cat, e) ||
        weir_catalog_repartition(cat, a, "g", e))
        return NULL;
    return cat;
}

static const weir_query *query_of(const weir_catalog *cat, const char *name)
{
    const weir_relation *r = weir_catalog_find(cat, name);
    return r ? r->query : NULL;
}

int main(void)
{
    plan(16);
    weir_arena a = {0};
    weir_sql_error e;
    weir_catalog *cat = build(&a, "CREATE TABLE by_page AS SELECT page, window_start, COUNT(*) AS c FROM "
                                  "TUMBLE(clicks, INTERVAL '1' MINUTE) WHERE n > 2 GROUP BY page;", &e);
    if (!cat)
        BAIL("%s", e.msg);
    const weir_relation *clicks = weir_catalog_find(cat, "clicks"), *r = weir_catalog_find(cat, "g.by_page.repartition");
    const weir_query *q = query_of(cat, "by_page");
    ok(r && r->repartition_of == clicks && !r->is_source && !r->is_table, "by_page gets the stream g.by_page.repartition");
    ok(r && q->source == r, "which the query reads instead of clicks");
    ok(r && r->partitions == 6 && r->schema.ncols == clicks->schema.ncols && r->ts_col == clicks->ts_col,
       "with the input's partitions, columns and event time");
    ok(r && r->nkey_cols == 1 && r->key_col == 1 && !strcmp(r->key_fields, "page"), "keyed by the GROUP BY column");
    ok(r && r->query && r->query->source == clicks && r->query->where == q->where && q->where && !r->query->grouped &&
           r->query->output == r,
       "written by a query over clicks with the WHERE");
    ok(weir_query_groups_by_key(q), "so the query groups by its input's key");
    is_int(cat->nrels, 4, "one relation added");

    cat = build(&a, "CREATE TABLE by_user AS SELECT user, COUNT(*) AS c FROM clicks GROUP BY user;"
                    "CREATE TABLE by_lower AS SELECT lower(page) AS p, COUNT(*) AS c FROM clicks GROUP BY lower(page);"
                    "CREATE TABLE total AS SELECT COUNT(*) AS c FROM clicks;", &e);
    if (!cat)
        BAIL("%s", e.msg);
    ok(cat->nrels == 6 && query_of(cat, "by_user")->source == weir_catalog_find(cat, "clicks") &&
           query_of(cat, "total")->source == weir_catalog_find(cat, "clicks"),
       "grouped by the key, or not at all: left as they are");
    r = weir_catalog_find(cat, "g.by_lower.repartition");
    q = query_of(cat, "by_lower");
    ok(r && q->source == r && r->schema.ncols == 5 && !strcmp(r->schema.cols[4].name, "weir_key_0") &&
           r->schema.cols[4].type == WEIR_TYPE_TEXT && r->nkey_cols == 1 && r->key_cols[0] == 4 &&
           !strcmp(r->key_fields, "weir_key_0"),
       "grouped by an expression: its stream computes it into a column of its own, which keys it");
    ok(r && r->query->out[4]->kind == WEIR_E_CALL && q->keys[0]->kind == WEIR_E_COLUMN && q->keys[0]->col.index == 4 &&
           weir_query_groups_by_key(q),
       "... written by the writer's expression, and the query groups by that column");
    ok(!build(&a, "CREATE STREAM w (weir_key_0 TEXT, page TEXT) WITH (key = 'page');"
                  "CREATE TABLE t AS SELECT lower(weir_key_0) AS l, COUNT(*) AS c FROM w GROUP BY lower(weir_key_0);", &e) &&
           strstr(e.msg, "column weir_key_0"),
       "an input with a column of that name is refused, saying so: %s", e.msg);

    cat = build(&a, "CREATE TABLE pages AS SELECT page, n, COUNT(*) AS c FROM bare GROUP BY page, n;", &e);
    if (!cat)
        BAIL("%s", e.msg);
    r = weir_catalog_find(cat, "g.pages.repartition");
    ok(r && r->nkey_cols == 2 && r->key_cols[0] == 0 && r->key_cols[1] == 1 && !strcmp(r->key_fields, "page,n") &&
           r->ts_col == -1,
       "a stream without a key, grouped by two columns: keyed by both");

    cat = build(&a, "CREATE TABLE a1 AS SELECT page, COUNT(*) AS c FROM clicks GROUP BY page;"
                    "CREATE TABLE a2 AS SELECT page, SUM(n) AS s FROM clicks GROUP BY page;", &e);
    ok(cat && weir_catalog_find(cat, "g.a1.repartition") && weir_catalog_find(cat, "g.a2.repartition") &&
           query_of(cat, "a1")->source != query_of(cat, "a2")->source,
       "each query its own stream");

    ok(!build(&a, "CREATE STREAM \"g.t.repartition\" AS SELECT * FROM clicks;"
                  "CREATE TABLE t AS SELECT page, COUNT(*) AS c FROM clicks GROUP BY page;", &e) &&
           strstr(e.msg, "t groups clicks by other columns") && strstr(e.msg, "g.t.repartition"),
       "a pipeline declaring the stream's name is refused: %s", e.msg);

    weir_catalog plain;
    weir_stmt **st;
    size_t n;
    const char *sql = "CREATE STREAM s (k TEXT, v INT) WITH (key = 'k');"
                      "CREATE TABLE t AS SELECT v, COUNT(*) AS c FROM s GROUP BY v;";
    ok(!weir_sql_parse(sql, strlen(sql), &a, &st, &n, &e) && !weir_catalog_build(st, n, &a, &plain, &e) &&
           plain.nrels == 2 && !weir_query_groups_by_key(plain.queries[0]),
       "without the rewrite (no scale-out) nothing is added");
    char name[700];
    memset(name, 'x', 650);
    name[650] = '\0';
    ok(weir_catalog_repartition(&plain, &a, name, &e) == WEIR_EINVAL && strstr(e.msg, "too long"),
       "a group name too long for the topic's name is refused: %.60s", e.msg);
    weir_arena_free(&a);
    return done();
}
