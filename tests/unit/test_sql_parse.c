/*
 * test_sql_parse.c - the SQL parser: the statements of DESIGN.md parse into
 * the expected trees, and every kind of mistake is reported at the right
 * line:column with a message that says what was expected.
 */
#include "../tap.h"
#include "sql/sql.h"

static const char *design =
    "CREATE STREAM tweets (id TEXT, user_id TEXT, city TEXT, is_retweet BOOL, created_at TIMESTAMP)\n"
    "  WITH (partitions = 4, key = 'city', timestamp = 'created_at', format = 'json');\n"
    "\n"
    "CREATE TABLE city_5m AS\n"
    "  SELECT city, window_start, window_end,\n"
    "         COUNT(*) AS tweets, COUNT_IF(is_retweet) AS retweets,\n"
    "         COUNT(DISTINCT user_id) AS users\n"
    "  FROM HOP(tweets, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE) GRACE INTERVAL '30' SECOND\n"
    "  GROUP BY city\n"
    "  EMIT FINAL;                       -- or EMIT CHANGES (default)\n"
    "\n"
    "CREATE STREAM processed_logins AS\n"
    "  SELECT user_id, lower(locale) AS locale, device_type, timestamp FROM logins\n"
    "  WHERE user_id IS NOT NULL;\n"
    "\n"
    "CREATE TABLE chains AS SELECT number, MAX(step) AS steps, MAX(value) AS peak\n"
    "  FROM collatz GROUP BY number;      -- keyed table, no window\n"
    "\n"
    "CREATE SINK likes_1 FROM likes_1m WITH (connector = 'kafka', topic = 'video_aggregations_1');\n"
    "CREATE SINK series FROM collatz WITH (connector = 'clickhouse', table = 'data_series');\n"
    "SELECT * FROM \"conjecture.data\" WHERE value = 27 ORDER BY step DESC, number LIMIT 10;\n"
    "DROP TABLE IF EXISTS chains;\n";

static const struct { const char *sql; unsigned line, col; const char *msg; } errors[] = {
    {"SELEC x FROM s", 1, 1, "expected a statement (CREATE, DROP, INSERT, SELECT, SHOW, DESCRIBE or EXPLAIN), found 'SELEC'"},
    {"SELECT a b c FROM s", 1, 12, "expected FROM after the selected columns, found 'c'"},
    {"SELECT a FROM", 1, 14, "expected a stream or table name after FROM, found end of input"},
    {"SELECT a FROM s WHERE", 1, 22, "expected an expression, found end of input"},
    {"SELECT (a + FROM s", 1, 13, "expected an expression, found 'FROM'"},
    {"SELECT count(a FROM s", 1, 16, "expected ',' or ')' in the arguments of count, found 'FROM'"},
    {"CREATE STREAM s (a INT, b)", 1, 26, "expected a type (BOOL, INT, UINT, DOUBLE, TEXT, TIMESTAMP or JSON), found ')'"},
    {"CREATE STREAM s (a INT, a TEXT)", 1, 25, "column a is declared twice"},
    {"CREATE STREAM s (a INT) WITH (partitions 4)", 1, 42, "expected '=' after the option name, found '4'"},
    {"CREATE STREAM s (a INT) WITH (p = 1, p = 2)", 1, 38, "option p is given twice"},
    {"CREATE TABLE t SELECT 1 FROM s", 1, 16, "expected AS SELECT ... or a column list after the table name, found 'SELECT'"},
    {"CREATE VIEW v", 1, 8, "expected STREAM, TABLE, SINK, ROUTE or ENDPOINT after CREATE, found 'VIEW'"},
    {"SELECT a FROM HOP(s, INTERVAL '5' MINUTE, INTERVAL '1' MINUTE)", 1, 22,
     "HOP window size must be a whole number of slides"},
    {"SELECT a FROM TUMBLE(s, INTERVAL '5' WEEKS)", 1, 38, "expected a unit (MILLISECOND, SECOND, MINUTE, HOUR or DAY), found 'WEEKS'"},
    {"SELECT a FROM TUMBLE(s, 5)", 1, 25, "expected INTERVAL (the window size), found '5'"},
    {"SELECT a FROM TUMBLE(s, INTERVAL '5 weeks')", 1, 34, "interval '5 weeks': expected a unit after 5 (millisecond"},
    {"SELECT a FROM TUMBLE(s, INTERVAL '5 minutes 3')", 1, 34, "interval '5 minutes 3': expected a unit after 3 (millisecond"},
    {"CREATE TABLE t (a INT, PRIMARY KEY (b))", 1, 37, "PRIMARY KEY names column b, which is not declared before it"},
    {"CREATE TABLE t (a INT PRIMARY)", 1, 30, "expected KEY after PRIMARY, found ')'"},
    {"SELECT a FROM s EMIT SOMETIMES", 1, 22, "expected CHANGES or FINAL after EMIT, found 'SOMETIMES'"},
    {"SELECT 'abc FROM s", 1, 8, "unterminated string: expected a closing '"},
    {"SELECT a FROM s;\nSELECT a\n  FROM s WHERE a = = 1", 3, 20, "expected an expression, found '='"},
    {"SELECT a FROM s LIMIT x", 1, 23, "expected a whole number after LIMIT, found 'x'"},
    {"SELECT 99999999999999999999 FROM s", 1, 8, "does not fit in 64 bits"},
    {"SELECT a FROM s WHERE a NOT 3", 1, 29, "expected IN, BETWEEN or LIKE after NOT, found '3'"},
    {"SELECT select FROM s", 1, 8, "expected an expression, found 'select'"},
    {"SELECT a FROM from", 1, 15, "found the reserved word 'from' (double-quote it to use it as a name)"},
    {"SELECT a FROM s x y", 1, 19, "expected ';' or the end of the statement, found 'y'"},
    {"SELECT a FROM s RIGHT JOIN t ON s.k = t.k", 1, 17, "RIGHT JOIN is not supported: swap the two streams and write LEFT JOIN"},
    {"SELECT a FROM s JOIN t", 1, 23, "expected ON and the join condition (ON a.key = b.key AND a time bound), found end of input"},
    {"SELECT s. FROM s", 1, 11, "expected a column name after the stream's name or alias and '.', found the reserved word 'FROM'"},
    {"SELECT a # b FROM s", 1, 10, "unexpected character '#'"},
    {"SELECT CASE WHEN a THEN 1 FROM s", 1, 27, "expected END to close CASE, found 'FROM'"},
    {"SELECT CAST(a AS WORD) FROM s", 1, 18, "expected a type"},
    {"SELECT 1x FROM s", 1, 9, "a number must not run into a name"},
    {"SELECT a FROM s /* never closed", 1, 17, "unterminated comment"},
};

int main(void)
{
    size_t ne = sizeof errors / sizeof errors[0];
    plan((int)(30 + 2 * ne));
    weir_arena a = {0};
    weir_stmt **st;
    size_t n;
    weir_sql_error e;
    int rc = weir_sql_parse(design, strlen(design), &a, &st, &n, &e);
    ok(rc == 0, "the SQL of DESIGN.md parses");
    if (rc)
        diag("line %u:%u: %s", e.line, e.col, e.msg);
    is_int(n, 8, "eight statements");
    if (n < 8)
        BAIL("cannot continue");
    ok(st[0]->kind == WEIR_STMT_CREATE_STREAM && st[0]->ncols == 5 && st[0]->cols[4].type == WEIR_TYPE_TIMESTAMP &&
           !strcmp(st[0]->cols[4].name, "created_at"), "CREATE STREAM with typed columns");
    const weir_with_option *key = weir_stmt_option(st[0], "KEY");
    ok(key && key->value.type == WEIR_TYPE_TEXT && !strcmp(key->value.s, "city") &&
           weir_stmt_option(st[0], "partitions")->value.i == 4, "WITH options by name, case-insensitive");
    weir_select *s = st[1]->select;
    ok(st[1]->kind == WEIR_STMT_CREATE_TABLE_AS && s->window.kind == WEIR_WINDOW_HOP && s->window.slide_ms == 60000 &&
           s->window.size_ms == 300000 && s->window.grace_ms == 30000, "HOP(slide, size) GRACE");
    ok(s->nitems == 6 && s->items[3].expr->kind == WEIR_E_CALL && s->items[3].expr->call.args[0]->kind == WEIR_E_STAR &&
           !strcmp(s->items[3].alias, "tweets"), "COUNT(*) AS tweets");
    ok(s->items[5].expr->call.distinct && !strcmp(s->items[5].expr->call.name, "count"), "COUNT(DISTINCT user_id)");
    ok(s->ngroup == 1 && s->emit == WEIR_EMIT_FINAL, "GROUP BY and EMIT FINAL");
    s = st[2]->select;
    ok(st[2]->kind == WEIR_STMT_CREATE_STREAM_AS && s->where->kind == WEIR_E_IS_NULL && s->where->isnull.negate,
       "WHERE x IS NOT NULL");
    ok(s->items[3].expr->kind == WEIR_E_COLUMN && !strcmp(s->items[3].expr->col.name, "timestamp"), "a column named timestamp");
    ok(st[3]->select->window.kind == WEIR_WINDOW_NONE && !strcmp(st[3]->select->items[2].alias, "peak"), "unwindowed keyed table");
    ok(st[4]->kind == WEIR_STMT_CREATE_SINK && !strcmp(st[4]->from, "likes_1m") &&
           !strcmp(weir_stmt_option(st[4], "topic")->value.s, "video_aggregations_1"), "CREATE SINK FROM WITH");
    s = st[6]->select;
    ok(st[6]->kind == WEIR_STMT_SELECT && s->star && !strcmp(s->from, "conjecture.data") && s->norder == 2 &&
           s->order[0].desc && !s->order[1].desc && s->limit == 10, "pull query: quoted name, ORDER BY, LIMIT");
    ok(st[7]->kind == WEIR_STMT_DROP && st[7]->drop_kind == WEIR_OBJ_TABLE && st[7]->if_exists, "DROP TABLE IF EXISTS");
    ok(!strncmp(st[3]->text, "CREATE TABLE chains AS", 22) && st[3]->text[strlen(st[3]->text) - 1] == 'r',
       "each statement keeps its source text");

    const char *prec = "SELECT -9223372036854775808 AS m, 1 + 2 * 3 - -4 AS x, NOT a = 1 OR b AND c AS y FROM s";
    weir_sql_parse(prec, strlen(prec), &a, &st, &n, &e);
    weir_expr *m = st[0]->select->items[0].expr, *x = st[0]->select->items[1].expr, *y = st[0]->select->items[2].expr;
    ok(m->kind == WEIR_E_LITERAL && m->lit.type == WEIR_TYPE_INT && m->lit.i == INT64_MIN, "INT64_MIN literal");
    ok(x->op.op == WEIR_OP_SUB && x->op.a->op.op == WEIR_OP_ADD && x->op.a->op.b->op.op == WEIR_OP_MUL &&
           x->op.b->lit.i == -4, "* binds tighter than +, left to right");
    ok(y->op.op == WEIR_OP_OR && y->op.a->op.op == WEIR_OP_NOT && y->op.b->op.op == WEIR_OP_AND, "NOT > AND > OR");

    const char *join = "SELECT c.user, b.amount FROM clicks AS c LEFT OUTER JOIN buys b\n"
                       "  ON c.user = b.user AND b.ts BETWEEN c.ts AND c.ts + INTERVAL '10' MINUTE GRACE INTERVAL '1' MINUTE";
    rc = weir_sql_parse(join, strlen(join), &a, &st, &n, &e);
    s = rc ? NULL : st[0]->select;
    ok(s && s->join == WEIR_JOIN_LEFT && !strcmp(s->from_alias, "c") && !strcmp(s->right, "buys") &&
           !strcmp(s->right_alias, "b") && s->window.grace_ms == 60000, "FROM a AS c LEFT OUTER JOIN b alias ON ... GRACE");
    weir_expr *bound = s ? s->on->op.b : NULL;
    ok(bound && bound->kind == WEIR_E_BETWEEN && bound->between.hi->op.b->interval &&
           bound->between.hi->op.b->lit.i == 600000, "INTERVAL in an expression: milliseconds, marked");
    ok(s && !strcmp(s->items[0].expr->col.qual, "c") && !strcmp(s->items[0].expr->col.name, "user"),
       "qualified column c.user");

    /* Intervals as PostgreSQL and Flink write them: the unit inside the string. */
    const char *iv = "SELECT a FROM HOP(s, INTERVAL '1 minute', INTERVAL '1 hour 30 minutes') GRACE INTERVAL '90 SECONDS'";
    rc = weir_sql_parse(iv, strlen(iv), &a, &st, &n, &e);
    s = rc ? NULL : st[0]->select;
    ok(s && s->window.slide_ms == 60000 && s->window.size_ms == 5400000 && s->window.grace_ms == 90000,
       "INTERVAL '1 minute', '1 hour 30 minutes', '90 SECONDS'");

    const char *tbl = "CREATE TABLE c (id TEXT, tier TEXT, PRIMARY KEY (id) NOT ENFORCED); "
                      "CREATE TABLE d (id UINT PRIMARY KEY, x INT NOT NULL); "
                      "SELECT t.a FROM t JOIN c FOR SYSTEM_TIME AS OF t.ts AS k ON t.id = k.id";
    rc = weir_sql_parse(tbl, strlen(tbl), &a, &st, &n, &e);
    ok(rc == 0 && n == 3 && st[0]->kind == WEIR_STMT_CREATE_TABLE && st[0]->ncols == 2 && st[0]->cols[0].primary_key &&
           !st[0]->cols[1].primary_key && st[1]->cols[0].primary_key && st[1]->cols[1].not_null,
       "source tables: PRIMARY KEY on a column or as a table constraint");
    ok(rc == 0 && st[2]->select->right_as_of && !strcmp(st[2]->select->right_alias, "k"),
       "FOR SYSTEM_TIME AS OF before the joined table's alias");

    const char *meta = "SHOW QUERIES; DESC EXTENDED \"a.dlq\"; EXPLAIN PLAN FOR WITH w AS (SELECT x FROM s) SELECT x FROM w; "
                       "EXPLAIN t; SELECT JSON_VALUE(j, '$.a' RETURNING DOUBLE) AS v FROM s";
    rc = weir_sql_parse(meta, strlen(meta), &a, &st, &n, &e);
    ok(rc == 0 && n == 5 && st[0]->kind == WEIR_STMT_SHOW && st[0]->show == WEIR_SHOW_QUERIES &&
           st[1]->kind == WEIR_STMT_DESCRIBE && !strcmp(st[1]->name, "a.dlq") && st[1]->name_pos.col == 29,
       "SHOW QUERIES, DESC EXTENDED with the name's position");
    ok(rc == 0 && st[2]->kind == WEIR_STMT_EXPLAIN && st[2]->select && !strcmp(st[2]->select->from, "s") &&
           st[3]->kind == WEIR_STMT_EXPLAIN && !st[3]->select && !strcmp(st[3]->name, "t"),
       "EXPLAIN PLAN FOR a query (its WITH query inlined) and EXPLAIN a name");
    ok(rc == 0 && st[4]->select->items[0].expr->call.returning == WEIR_TYPE_DOUBLE, "JSON_VALUE(... RETURNING type)");

    /* Nesting is bounded: the parser, planner and evaluator recurse (20,000 parentheses crashed a server). */
    weir_buf deep = {0};
    weir_buf_append_str(&deep, "SELECT ");
    for (int i = 0; i < 300; i++)
        weir_buf_append_str(&deep, "(");
    weir_buf_append_str(&deep, "1");
    for (int i = 0; i < 300; i++)
        weir_buf_append_str(&deep, ")");
    weir_buf_append_str(&deep, " AS x FROM s");
    rc = weir_sql_parse((const char *)deep.data, deep.len, &a, &st, &n, &e);
    ok(rc != 0 && e.col == 263 && strstr(e.msg, "nested more than 256 deep"), "300 parentheses: refused where the 257th is");
    deep.len = 0;
    weir_buf_append_str(&deep, "SELECT 1");
    for (int i = 0; i < 2500; i++)
        weir_buf_append_str(&deep, " OR 1");
    weir_buf_append_str(&deep, " AS x FROM s");
    rc = weir_sql_parse((const char *)deep.data, deep.len, &a, &st, &n, &e);
    ok(rc != 0 && strstr(e.msg, "more than 2000 operators deep"), "a chain of 2500 ORs: refused (%s)", e.msg);
    deep.len = 0;
    weir_buf_append_str(&deep, "SELECT x FROM ");
    for (int i = 0; i < 200; i++)
        weir_buf_append_str(&deep, "(SELECT x FROM ");
    weir_buf_append_str(&deep, "s");
    for (int i = 0; i < 200; i++)
        weir_buf_append_str(&deep, ")");
    rc = weir_sql_parse((const char *)deep.data, deep.len, &a, &st, &n, &e);
    ok(rc == 0 && !strcmp(st[0]->select->from, "s") && !st[0]->select->subquery, "200 nested subqueries inline into one query");
    weir_buf_free(&deep);

    for (size_t i = 0; i < ne; i++) {
        weir_arena_reset(&a);
        memset(&e, 0, sizeof e);
        rc = weir_sql_parse(errors[i].sql, strlen(errors[i].sql), &a, &st, &n, &e);
        ok(rc != 0 && e.line == errors[i].line && e.col == errors[i].col, "error at %u:%u for: %.*s", errors[i].line,
           errors[i].col, (int)strcspn(errors[i].sql, "\n"), errors[i].sql);
        if (rc == 0 || e.line != errors[i].line || e.col != errors[i].col)
            diag("got %u:%u: %s", e.line, e.col, e.msg);
        ok(rc != 0 && strstr(e.msg, errors[i].msg), "message: %s", errors[i].msg);
        if (rc != 0 && !strstr(e.msg, errors[i].msg))
            diag("got: %s", e.msg);
    }
    weir_arena_free(&a);
    return done();
}
