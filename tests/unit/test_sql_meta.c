/*
 * test_sql_meta.c - SHOW, DESCRIBE and EXPLAIN over a pipeline's catalog:
 * the rows each answers (every join kind's EXPLAIN, expressions written
 * back as SQL with the parentheses precedence needs, EXPLAIN CREATE over
 * an untouched catalog), and their errors at the name's line:column.
 */
#include "../tap.h"
#include "exec/decode.h"
#include "sql/plan.h"

static const char *pipeline =
    "CREATE STREAM clicks (user TEXT, page TEXT, n INT, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');\n"
    "CREATE STREAM buys (user TEXT, amount DOUBLE, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');\n"
    "CREATE TABLE customers (user TEXT PRIMARY KEY, tier TEXT, ts TIMESTAMP) WITH (timestamp = 'ts');\n"
    "CREATE STREAM click_then_buy AS SELECT c.user, b.amount FROM clicks AS c JOIN buys AS b\n"
    "  ON c.user = b.user AND b.ts BETWEEN c.ts AND c.ts + INTERVAL '10' MINUTE AND b.amount > 0;\n"
    "CREATE STREAM tiered AS SELECT c.user, t.tier FROM clicks AS c LEFT JOIN customers AS t ON c.user = t.user;\n"
    "CREATE STREAM as_of AS SELECT c.user, t.tier FROM clicks AS c JOIN customers FOR SYSTEM_TIME AS OF c.ts AS t\n"
    "  ON c.user = t.user;\n"
    "CREATE TABLE sums AS SELECT user, SUM((n + 1) * 2) - COUNT(DISTINCT page) AS s, AVG(n) AS a\n"
    "  FROM HOP(clicks, INTERVAL '1' MINUTE, INTERVAL '3' MINUTE) WHERE NOT (n - (1 - 2) > 0 OR page IS NULL)\n"
    "  GROUP BY user;\n"
    "CREATE STREAM \"odd.name\" AS SELECT \"user\", CASE WHEN n > 1 THEN 'x' ELSE NULL END AS c,\n"
    "  CAST(ts AS TEXT) AS t, json_value(page, '$.a' RETURNING INT) AS j FROM clicks WHERE page NOT LIKE 'a%';\n";

static weir_arena arena;
static weir_catalog cat;

/* The answer to sql as JSON lines, or "error L:C: message". */
static const char *answer(const char *sql)
{
    static char text[8192];
    weir_stmt **st;
    size_t n;
    weir_sql_error e;
    weir_meta m;
    if (weir_sql_parse(sql, strlen(sql), &arena, &st, &n, &e) || weir_plan_meta(&cat, st[0], &arena, &m, &e)) {
        snprintf(text, sizeof text, "error %u:%u: %s", e.line, e.col, e.msg);
        return text;
    }
    weir_buf b = {0};
    for (size_t i = 0; i < m.nrows; i++)
        if (weir_encode_json(&m.schema, m.rows[i], &b) || weir_buf_append_str(&b, "\n"))
            break;
    snprintf(text, sizeof text, "%.*s", (int)b.len, b.data ? (const char *)b.data : "");
    weir_buf_free(&b);
    return text;
}

/* The detail of step k (1-based) of an EXPLAIN's answer. */
static const char *detail(const char *sql, int k)
{
    static char d[1024];
    const char *a = answer(sql);
    for (int i = 1; i < k && a; i++)
        a = strchr(a + 1, '\n');
    const char *s = a ? strstr(a, "\"detail\":\"") : NULL, *end = s ? strstr(s, "\"}") : NULL;
    snprintf(d, sizeof d, "%.*s", end ? (int)(end - s - 10) : 0, s ? s + 10 : "");
    return d;
}

static void is_text(const char *got, const char *want, const char *name)
{
    if (!ok(!strcmp(got, want), "%s", name))
        diag("     got: %s\n#     expected: %s", got, want);
}

int main(void)
{
    plan(19);
    weir_stmt **st;
    size_t n;
    weir_sql_error e;
    if (weir_sql_parse(pipeline, strlen(pipeline), &arena, &st, &n, &e) || weir_catalog_build(st, n, &arena, &cat, &e)) {
        diag("%u:%u: %s", e.line, e.col, e.msg);
        return 1;
    }
    is_text(answer("SHOW STREAMS"),
            "{\"name\":\"clicks\",\"kind\":\"source\",\"partitions\":4,\"key\":\"user\",\"timestamp\":\"ts\"}\n"
            "{\"name\":\"clicks.dlq\",\"kind\":\"dead_letters\",\"partitions\":1,\"key\":null,\"timestamp\":\"timestamp\"}\n"
            "{\"name\":\"buys\",\"kind\":\"source\",\"partitions\":4,\"key\":\"user\",\"timestamp\":\"ts\"}\n"
            "{\"name\":\"buys.dlq\",\"kind\":\"dead_letters\",\"partitions\":1,\"key\":null,\"timestamp\":\"timestamp\"}\n"
            "{\"name\":\"customers.dlq\",\"kind\":\"dead_letters\",\"partitions\":1,\"key\":null,\"timestamp\":\"timestamp\"}\n"
            "{\"name\":\"click_then_buy\",\"kind\":\"stream\",\"partitions\":4,\"key\":\"user\",\"timestamp\":null}\n"
            "{\"name\":\"tiered\",\"kind\":\"stream\",\"partitions\":4,\"key\":\"user\",\"timestamp\":null}\n"
            "{\"name\":\"as_of\",\"kind\":\"stream\",\"partitions\":4,\"key\":\"user\",\"timestamp\":null}\n"
            "{\"name\":\"odd.name\",\"kind\":\"stream\",\"partitions\":4,\"key\":null,\"timestamp\":null}\n",
            "SHOW STREAMS: sources, derived streams (their inherited keys) and the dead letters the pipeline writes, in order");
    is_text(answer("show tables"),
            "{\"name\":\"customers\",\"kind\":\"source_table\",\"partitions\":4,\"primary_key\":\"user\",\"window\":null,\"emit\":null}\n"
            "{\"name\":\"sums\",\"kind\":\"table\",\"partitions\":4,\"primary_key\":\"user\","
            "\"window\":\"HOP(INTERVAL '1' MINUTE, INTERVAL '3' MINUTE)\",\"emit\":\"changes\"}\n",
            "SHOW TABLES: source and derived tables, their keys and windows");
    ok(strstr(answer("SHOW QUERIES"), "{\"id\":\"CSAS_tiered\",\"sink\":\"tiered\",\"sources\":\"clicks, customers\","
                                      "\"query\":\"CREATE STREAM tiered AS SELECT c.user, t.tier FROM clicks AS c LEFT JOIN "
                                      "customers AS t ON c.user = t.user\"}") != NULL,
       "SHOW QUERIES: a query's id, output, inputs and text");
    is_text(detail("EXPLAIN click_then_buy", 3),
            "INNER JOIN buys ON user = user: records whose buys.ts - clicks.ts is within [0 ms, 600000 ms], and b.amount > 0",
            "EXPLAIN of an interval join: its key, bound and the rest of ON");
    is_text(detail("EXPLAIN tiered", 3), "LEFT JOIN customers ON user = user: its current row per key",
            "EXPLAIN of a stream-table join");
    is_text(detail("EXPLAIN PLAN FOR as_of", 3),
            "INNER JOIN customers ON user = user: its row as of each record's event time (FOR SYSTEM_TIME AS OF)",
            "EXPLAIN PLAN FOR a temporal join");
    is_text(detail("EXPLAIN CTAS_sums", 2), "NOT (n - (1 - 2) > 0 OR page IS NULL)",
            "a filter written back with the parentheses it needs, and no others");
    is_text(detail("EXPLAIN sums", 4), "GROUP BY user: SUM((n + 1) * 2), COUNT(DISTINCT page), AVG(n)",
            "the aggregates, shared and in slot order");
    is_text(detail("EXPLAIN sums", 5), "user, SUM((n + 1) * 2) - COUNT(DISTINCT page) AS s, AVG(n) AS a",
            "the projection reads the grouped row as the aggregates it holds");
    is_text(detail("EXPLAIN \"odd.name\"", 3),
            "user, CASE WHEN n > 1 THEN 'x' ELSE NULL END AS c, CAST(ts AS TEXT) AS t, "
            "json_value(page, '$.a' RETURNING INT) AS j",
            "CASE, CAST and RETURNING written back");
    ok(strstr(answer("DESCRIBE customers"), "\"columns\":[{\"name\":\"user\",\"type\":\"TEXT\",\"not_null\":true,"
                                            "\"primary_key\":true},") != NULL,
       "DESCRIBE: a source table's key column is NOT NULL and its primary key");
    is_text(answer("DESCRIBE nope"), "error 1:10: unknown stream or table nope (SHOW STREAMS and SHOW TABLES list them)",
            "DESCRIBE of an unknown name: its position");
    is_text(answer("EXPLAIN\n  buys"), "error 2:3: buys is a source stream: producers feed it, no query makes it "
                                       "(DESCRIBE buys shows it)", "EXPLAIN of a source says why not");
    is_text(answer("SHOW VIEWS"), "error 1:6: expected STREAMS, TABLES, QUERIES or SINKS after SHOW, found 'VIEWS'",
            "SHOW of something else");
    is_text(answer("EXPLAIN SELECT nope FROM clicks"), "error 1:16: unknown column nope in clicks (it has: user, page, n, ts)",
            "EXPLAIN SELECT plans the query and says where it fails");
    is_text(detail("EXPLAIN CREATE TABLE top WITH (partitions = 8) AS SELECT page, COUNT(*) AS n FROM clicks GROUP BY page", 5),
            "table top (8 partitions), primary key page", "EXPLAIN CREATE TABLE ... AS: the plan of a query not in the pipeline");
    ok(cat.nrels == 8 && !weir_catalog_find(&cat, "top"), "and the catalog is left as it was");
    is_text(detail("EXPLAIN CREATE TABLE cu AS SELECT page, window_start, window_end, COUNT(*) AS n "
                   "FROM CUMULATE(clicks, INTERVAL '1' MINUTE, INTERVAL '1' HOUR) GROUP BY page", 2),
            "CUMULATE up to INTERVAL '1' HOUR by INTERVAL '1' MINUTE", "EXPLAIN names a CUMULATE window as one, not HOP");
    is_text(answer("EXPLAIN CREATE STREAM s2 (a INT)"), "error 1:9: EXPLAIN CREATE takes CREATE STREAM|TABLE ... AS SELECT ...",
            "EXPLAIN CREATE of a source is refused");
    weir_arena_free(&arena);
    return done();
}
