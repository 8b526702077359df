/*
 * test_sql_eval.c - expression semantics, one row at a time: checked
 * integer arithmetic (every overflow is an error value, never a wrapped
 * number), three-valued logic, CAST, LIKE, IN, the functions, and literals
 * adapting to UINT columns.
 */
#include "../tap.h"
#include "base/hash.h"
#include "exec/decode.h"
#include "sql/eval.h"

static const char *columns = "i INT, u UINT, d DOUBLE, t TEXT, b BOOL, ts TIMESTAMP";

static const struct { const char *expr, *record, *want; } cases[] = {
    {"i + 1", "{\"i\":9223372036854775807}", "!integer overflow"},
    {"i - 1", "{\"i\":-9223372036854775808}", "!integer overflow"},
    {"i * 2", "{\"i\":4611686018427387904}", "!integer overflow"},
    {"-i", "{\"i\":-9223372036854775808}", "!integer overflow"},
    {"i / -1", "{\"i\":-9223372036854775808}", "!integer overflow"},
    {"u + 1", "{\"u\":18446744073709551615}", "!integer overflow"},
    {"u - 1", "{\"u\":0}", "!integer overflow"},
    {"u * 3 + 1", "{\"u\":6148914691236517205}", "!integer overflow"},
    {"u * 3 + 1", "{\"u\":6148914691236517204}", "18446744073709551613"},
    {"i / 0", "{\"i\":7}", "!division by zero"},
    {"i % 0", "{\"i\":7}", "!division by zero"},
    {"d / 0", "{\"d\":1.5}", "!division by zero"},
    {"i / 2", "{\"i\":-7}", "-3"},
    {"i % 4", "{\"i\":-7}", "-3"},
    {"d * 2", "{\"d\":1.25}", "2.5"},
    {"i + d", "{\"i\":1,\"d\":0.5}", "1.5"},
    {"i + 1", "{}", "null"},
    {"i + NULL", "{\"i\":1}", "null"},
    {"NULL AND false", "{}", "false"},
    {"NULL OR true", "{}", "true"},
    {"NULL AND true", "{}", "null"},
    {"b OR i > 3", "{\"b\":null,\"i\":5}", "true"},
    {"NULL = NULL", "{}", "null"},
    {"i IS NULL", "{}", "true"},
    {"t IS NOT NULL", "{\"t\":\"x\"}", "true"},
    {"NOT b", "{\"b\":false}", "true"},
    {"CASE WHEN i > 0 THEN 'pos' WHEN i < 0 THEN 'neg' END", "{\"i\":0}", "null"},
    {"CASE i WHEN 1 THEN 'one' WHEN 2 THEN 'two' ELSE 'many' END", "{\"i\":2}", "\"two\""},
    {"CASE WHEN b THEN 1 ELSE 2.5 END", "{\"b\":true}", "1.0"},
    {"CAST('12' AS INT)", "{}", "12"},
    {"CAST('x' AS INT)", "{}", "!value cannot be converted"},
    {"CAST(3.5 AS INT)", "{}", "!value cannot be converted"},
    {"CAST(3.0 AS INT)", "{}", "3"},
    {"CAST(i AS UINT)", "{\"i\":-1}", "!integer overflow"},
    {"CAST(u AS INT)", "{\"u\":9223372036854775808}", "!integer overflow"},
    {"CAST(i AS TIMESTAMP)", "{\"i\":1720576825}", "\"2024-07-10T02:00:25Z\""},
    {"CAST(i AS TIMESTAMP)", "{\"i\":1720576825123}", "\"2024-07-10T02:00:25.123Z\""},
    {"CAST(t AS TIMESTAMP)", "{\"t\":\"2026-11-23T05:00:00+05:30\"}", "\"2026-11-22T23:30:00Z\""},
    {"CAST(ts AS TEXT)", "{\"ts\":\"2026-11-23\"}", "\"2026-11-23T00:00:00Z\""},
    /* Timestamps outside the years 0000 to 9999 are errors, not wrapped int64s (1e300 was year -292275055). */
    {"CAST(d AS TIMESTAMP)", "{\"d\":1e300}", "!value cannot be converted"},
    {"CAST(d AS TIMESTAMP)", "{\"d\":-1e19}", "!value cannot be converted"},
    {"CAST(i AS TIMESTAMP)", "{\"i\":9223372036854775807}", "!value cannot be converted"},
    {"CAST(i AS TIMESTAMP)", "{\"i\":253402300800000}", "!value cannot be converted"},
    {"CAST(i AS TIMESTAMP)", "{\"i\":253402300799999}", "\"9999-12-31T23:59:59.999Z\""},
    {"CAST(i AS TIMESTAMP)", "{\"i\":-62167219200}", "\"0000-01-01T00:00:00Z\""},
    {"CAST(t AS TIMESTAMP)", "{\"t\":\"1e300\"}", "!value cannot be converted"},
    {"CAST(t AS TIMESTAMP)", "{\"t\":\"0000-01-01T00:00:00+01:00\"}", "!value cannot be converted"},
    {"CAST(t AS TIMESTAMP)", "{\"t\":\"2026-11-23T05:00:00+24:00\"}", "!value cannot be converted"},
    {"CAST(t AS BOOL)", "{\"t\":\"TRUE\"}", "true"},
    {"CAST(d AS TEXT)", "{\"d\":0.1}", "\"0.1\""},
    {"CAST(d AS TEXT)", "{\"d\":3.0}", "\"3.0\""},
    {"d / 3", "{\"d\":1}", "0.3333333333333333"},
    {"ts > '2026-01-01T00:00:00Z'", "{\"ts\":\"2026-11-23T00:00:00Z\"}", "true"},
    {"ts < TIMESTAMP '2026-01-01T00:00:00Z'", "{\"ts\":\"2026-11-23T00:00:00Z\"}", "false"},
    {"t LIKE 'a%c'", "{\"t\":\"abbbc\"}", "true"},
    {"t LIKE 'a_'", "{\"t\":\"abc\"}", "false"},
    {"t NOT LIKE '%b%'", "{\"t\":\"abc\"}", "false"},
    {"i IN (1, 2, 3)", "{\"i\":3}", "true"},
    {"i IN (1, NULL)", "{\"i\":3}", "null"},
    {"i NOT IN (1, 2)", "{\"i\":3}", "true"},
    {"i BETWEEN 1 AND 3", "{\"i\":3}", "true"},
    {"u > i", "{\"u\":5,\"i\":-1}", "true"},
    {"u = i", "{\"u\":5,\"i\":5}", "true"},
    {"t || i", "{\"t\":\"a\",\"i\":1}", "\"a1\""},
    {"lower(t) || upper(t)", "{\"t\":\"MiXeD\"}", "\"mixedMIXED\""},
    {"length(t)", "{\"t\":\"h\\u00e9\"}", "3"},
    {"trim(t)", "{\"t\":\"  x y \"}", "\"x y\""},
    {"concat(t, '-', i, '-', b)", "{\"t\":\"a\",\"i\":2,\"b\":true}", "\"a-2-true\""},
    {"substr(t, 2)", "{\"t\":\"hello\"}", "\"ello\""},
    {"substr(t, 0, 2)", "{\"t\":\"hello\"}", "\"h\""},
    {"substr(t, 9, 2)", "{\"t\":\"hello\"}", "\"\""},
    {"replace(t, 'l', 'L')", "{\"t\":\"hello\"}", "\"heLLo\""},
    {"split_part(t, '.', 3)", "{\"t\":\"2.3.0\"}", "\"0\""},
    {"split_part(t, '.', 4)", "{\"t\":\"2.3.0\"}", "\"\""},
    {"coalesce(t, 'none')", "{}", "\"none\""},
    {"coalesce(i, d)", "{\"d\":2.5}", "2.5"},
    {"abs(i)", "{\"i\":-4}", "4"},
    {"round(d)", "{\"d\":2.5}", "3.0"},
    {"floor(d)", "{\"d\":-2.5}", "-3.0"},
    {"murmur2(t)", "{\"t\":\"21\"}", "-973932308"},
    {"partition_of(100, t)", "{\"t\":\"21\"}", "40"}, /* (-973932308 & 0x7fffffff) % 100 */
    {"epoch_ms(ts)", "{\"ts\":\"1970-01-01T00:00:01.5Z\"}", "1500"},
    {"xxhash64(t) = xxhash64(t)", "{\"t\":\"x\"}", "true"},
    /* Decoding: members in any order, names matched whole (not by prefix), escaped names and timestamps. */
    {"i + u + d", "{\"d\":0.5,\"ts\":0,\"u\":2,\"i\":1}", "3.5"},
    {"concat(t, i)", "{\"t\":\"a\",\"tt\":\"b\",\"\":1,\"i\":2,\"ii\":3,\"t\":\"c\"}", "\"c2\""},
    {"coalesce(t, 'none')", "{\"t\\u0000\":\"a\",\"T\":\"b\"}", "\"none\""},
    {"t", "{\"\\u0074\":\"escaped name\"}", "\"escaped name\""},
    {"epoch_ms(ts)", "{\"ts\":\"1970-01-01T00:00:02\\u005A\"}", "2000"},
    /* date_trunc: floors before 1970 too; the weeks and centuries of year 0 start before any timestamp. */
    {"date_trunc('second', ts)", "{\"ts\":-1}", "\"1969-12-31T23:59:59Z\""},
    {"date_trunc('Week', ts)", "{\"ts\":\"2024-02-29T12:00:00Z\"}", "\"2024-02-26T00:00:00Z\""},
    {"date_trunc('quarter', ts)", "{\"ts\":\"2024-12-31T23:59:59.999Z\"}", "\"2024-10-01T00:00:00Z\""},
    {"date_trunc('century', ts)", "{\"ts\":\"2001-01-01T00:00:00Z\"}", "\"2001-01-01T00:00:00Z\""},
    {"date_trunc('century', ts)", "{\"ts\":\"0000-06-01T00:00:00Z\"}", "!integer overflow"},
    {"date_trunc('year', ts)", "{\"ts\":\"0000-06-01T00:00:00Z\"}", "\"0000-01-01T00:00:00Z\""},
    /* JSON paths over TEXT: spaces, quoted keys, nested indexes, indexes past the end, invalid documents. */
    {"json_value(t, ' $.a [ 1 ] [0] ')", "{\"t\":\"{\\\"a\\\":[0,[true]]}\"}", "\"true\""},
    {"json_value(t, '$.\"a b\"[''c'']')", "{\"t\":\"{\\\"a b\\\":{\\\"c\\\":-1e3}}\"}", "\"-1e3\""},
    {"json_value(t, '$.a[2]')", "{\"t\":\"{\\\"a\\\":[1,2]}\"}", "null"},
    {"json_value(t, '$.a' RETURNING INT)", "{\"t\":\"{\\\"a\\\":1.5}\"}", "null"},
    {"json_value(t, '$.a' RETURNING TIMESTAMP)", "{\"t\":\"{\\\"a\\\":\\\"2026-11-23T05:00:00Z\\\"}\"}", "\"2026-11-23T05:00:00Z\""},
    {"json_value(t, '$.a')", "{\"t\":\"{\\\"a\\\":1} trailing\"}", "null"},
    {"json_exists(t, '$[0]')", "{\"t\":\"{\\\"0\\\":1}\"}", "false"},
    {"json_exists(t, '$[\"0\"]')", "{\"t\":\"{\\\"0\\\":1}\"}", "true"},
    {"json_query(t, '$')", "{\"t\":\" [1, {}] \"}", "[1, {}]"},
};

/* Plans "SELECT <expr> AS x FROM s" and evaluates it on one record. */
static void check(const char *expr, const char *record, const char *want)
{
    char sql[512];
    snprintf(sql, sizeof sql, "CREATE STREAM s (%s); CREATE STREAM out AS SELECT %s AS x FROM s;", columns, expr);
    weir_arena a = {0};
    weir_stmt **st;
    size_t n;
    weir_sql_error e;
    weir_catalog cat;
    if (weir_sql_parse(sql, strlen(sql), &a, &st, &n, &e) || weir_catalog_build(st, n, &a, &cat, &e)) {
        ok(0, "%s: planning failed: %s", expr, e.msg);
        weir_arena_free(&a);
        return;
    }
    const weir_relation *s = cat.rels[0];
    weir_value row[8];
    char why[200];
    if (weir_decode_json(&s->schema, record, strlen(record), &a, row, why, sizeof why)) {
        ok(0, "%s: record did not decode: %s", expr, why);
        weir_arena_free(&a);
        return;
    }
    weir_eval ev = {.arena = &a, .row = row};
    weir_value v = weir_eval_expr(&ev, cat.queries[0]->out[0]);
    weir_buf b = {0};
    if (v.err)
        weir_buf_printf(&b, "!%s", weir_value_error_name((weir_value_error)v.err));
    else
        weir_value_to_json(&b, &v);
    weir_buf_append(&b, "", 1);
    is_str((char *)b.data, want, "%s on %s", expr, record);
    if (v.err)
        ok(ev.err == v.err, "  the error is remembered with its position (%u:%u)", ev.err_pos.line, ev.err_pos.col);
    weir_buf_free(&b);
    weir_arena_free(&a);
}

/* A record whose decoding fails with exactly this reason (what its dead letter says). */
static void decode_refuses(const char *record, const char *want)
{
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE STREAM s (%s);", columns);
    weir_arena a = {0};
    weir_stmt **st;
    size_t n;
    weir_sql_error e;
    weir_catalog cat;
    weir_value row[8];
    char why[200] = "";
    if (weir_sql_parse(sql, strlen(sql), &a, &st, &n, &e) || weir_catalog_build(st, n, &a, &cat, &e))
        snprintf(why, sizeof why, "planning failed: %s", e.msg);
    else if (!weir_decode_json(&cat.rels[0]->schema, record, strlen(record), &a, row, why, sizeof why))
        snprintf(why, sizeof why, "decoded");
    is_str(why, want, "%s goes to the dead letters", record);
    weir_arena_free(&a);
}

int main(void)
{
    size_t n = sizeof cases / sizeof cases[0], errors = 0;
    for (size_t i = 0; i < n; i++)
        errors += cases[i].want[0] == '!';
    plan((int)(n + errors + 4));
    for (size_t i = 0; i < n; i++)
        check(cases[i].expr, cases[i].record, cases[i].want);
    is_int(weir_partition_for_key("21", 2, 100), ((uint32_t)-973932308 & 0x7fffffff) % 100, "partition_of agrees with the Kafka partitioner");

    int64_t ms;
    bool all = true;
    for (int64_t t = -86400000LL * 800; t < 86400000LL * 366 * 300; t += 86400000LL * 37 + 3723456) {
        char buf[40];
        int len = weir_timestamp_format(t, buf, sizeof buf);
        all &= weir_timestamp_parse(buf, (size_t)len, &ms) && ms == t;
    }
    ok(all, "timestamps print and parse back identically from 1967 to 2270");
    decode_refuses("{\"ts\":1e300}", "column ts: expected TIMESTAMP, found a number outside the years 0000 to 9999: 1e300");
    decode_refuses("{\"ts\":\"9999-12-31T23:59:59-01:00\"}",
                   "column ts: expected TIMESTAMP, found a string that is not ISO 8601 in the years 0000 to 9999: "
                   "\"9999-12-31T23:59:59-01:00\"");
    return done();
}
