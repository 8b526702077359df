/*
 * test_clickhouse_rows.c - a record of weir's log as the ClickHouse sink's
 * JSONEachRow line (conn/clickhouse_rows.c): timestamps rewritten with
 * milliseconds whatever the producer sent, <col>_ms beside them on a
 * server without DateTime64 (none before 1970), other members as they
 * were, the record's place appended; a stream's record that is not an
 * object left out, a table's refused, without touching the batch; a
 * table's tombstone as its key's columns with _weir_deleted = 1, refused
 * when the ClickHouse table has no _weir_deleted.
 */
#include "../tap.h"
#include "conn/clickhouse.h"

static weir_column cols[] = {{"name", WEIR_TYPE_TEXT}, {"at", WEIR_TYPE_TIMESTAMP}};
static weir_relation rel = {.name = "s", .schema = {cols, 2}};
static int two[] = {0, 1}, one[] = {0};
static weir_relation windowed = {.name = "w", .schema = {cols, 2}, .is_table = true, .pk = two, .npk = 2};
static weir_relation keyed = {.name = "t", .schema = {cols, 2}, .is_table = true, .pk = one, .npk = 1};

/* The line clickhouse_row writes for value (NULL when it refuses it). */
static const char *line(clickhouse_sink *c, const char *value)
{
    static char out[512];
    weir_sink_record r = {.partition = 1, .offset = 7, .value = (const uint8_t *)value, .value_len = strlen(value)};
    weir_err err = {0};
    c->body.len = 0;
    if (clickhouse_row(c, &r, &err))
        return c->body.len ? "(refused, but wrote)" : NULL;
    snprintf(out, sizeof out, "%.*s", (int)c->body.len, (const char *)c->body.data);
    return out;
}

/* The line clickhouse_row writes for a tombstone keyed key (NULL: none), or NULL when it refuses it. */
static const char *tombstone(clickhouse_sink *c, const char *key)
{
    static char out[512];
    weir_sink_record r = {.partition = 1, .offset = 7, .key = (const uint8_t *)key, .key_len = key ? strlen(key) : 0};
    weir_err err = {0};
    c->body.len = 0;
    if (clickhouse_row(c, &r, &err))
        return c->body.len ? "(refused, but wrote)" : NULL;
    snprintf(out, sizeof out, "%.*s", (int)c->body.len, (const char *)c->body.data);
    return out;
}

int main(void)
{
    plan(15);
    clickhouse_sink c = {.name = "k", .from = &rel};
    is_str(line(&c, "{\"name\":\"a\",\"at\":\"2026-11-23T10:00:00.5+01:00\"}"),
           "{\"name\":\"a\",\"at\":\"2026-11-23T09:00:00.500Z\",\"at_ms\":1795424400500,\"_weir_partition\":1,"
           "\"_weir_offset\":7}\n",
           "an offset time: UTC with milliseconds, and at_ms beside it");
    is_str(line(&c, "{\"at\":1795424400}"),
           "{\"at\":\"2026-11-23T09:00:00Z\",\"at_ms\":1795424400000,\"_weir_partition\":1,\"_weir_offset\":7}\n",
           "epoch seconds become the instant they name");
    is_str(line(&c, "{\"at\":1795424400123}"),
           "{\"at\":\"2026-11-23T09:00:00.123Z\",\"at_ms\":1795424400123,\"_weir_partition\":1,\"_weir_offset\":7}\n",
           "epoch milliseconds too");
    is_str(line(&c, "{\"at\":null, \"n\": [1, {\"at\": 2}]}"),
           "{\"at\":null,\"n\":[1, {\"at\": 2}],\"_weir_partition\":1,\"_weir_offset\":7}\n",
           "a null timestamp stays null (at_ms NULL); nested members are copied as they are");
    is_str(line(&c, "{\"at\":\"1969-12-31T23:59:59Z\"}"),
           "{\"at\":\"1969-12-31T23:59:59Z\",\"_weir_partition\":1,\"_weir_offset\":7}\n",
           "before 1970 there is no at_ms (UInt64 cannot hold it)");
    is_str(line(&c, " { } "), "{\"_weir_partition\":1,\"_weir_offset\":7}\n", "an empty object");
    is_str(line(&c, "{\"a\\u0074\":\"x\"}"), "{\"a\\u0074\":\"x\",\"_weir_partition\":1,\"_weir_offset\":7}\n",
           "an escaped name is copied as it is");
    is_str(line(&c, "[1]"), "", "a stream's record that is not an object is left out, nothing written");
    is_str(line(&c, ""), "", "and so is a stream's tombstone");
    c.from = &windowed;
    ok(line(&c, "[1]") == NULL, "a table's record that is not an object is refused, nothing written");
    ok(tombstone(&c, "{\"name\":\"a\"}") == NULL, "a tombstone is refused when the table has no _weir_deleted");
    c.deletes = true;
    is_str(tombstone(&c, "{\"name\":\"a\",\"at\":\"2026-11-23T10:00:00.5+01:00\"}"),
           "{\"name\":\"a\",\"at\":\"2026-11-23T09:00:00.500Z\",\"at_ms\":1795424400500,\"_weir_deleted\":1,"
           "\"_weir_partition\":1,\"_weir_offset\":7}\n",
           "a tombstone keyed by an object: its columns (timestamps as a row's), _weir_deleted = 1");
    c.from = &keyed;
    is_str(tombstone(&c, "a\"b"), "{\"name\":\"a\\\"b\",\"_weir_deleted\":1,\"_weir_partition\":1,\"_weir_offset\":7}\n",
           "a one-column key is the column's text, quoted");
    is_str(tombstone(&c, NULL), "{\"name\":null,\"_weir_deleted\":1,\"_weir_partition\":1,\"_weir_offset\":7}\n",
           "no key: the key column is NULL");
    c.from = &rel;
    c.datetime64 = true;
    is_str(line(&c, "{\"at\":\"2026-11-23T09:00:00.250Z\"}"),
           "{\"at\":\"2026-11-23T09:00:00.250Z\",\"_weir_partition\":1,\"_weir_offset\":7}\n",
           "with DateTime64 the milliseconds stay in the column itself");
    weir_buf_free(&c.body);
    weir_buf_free(&c.extra);
    weir_buf_free(&c.key);
    return done();
}
