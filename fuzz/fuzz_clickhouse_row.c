/*
 * fuzz_clickhouse_row.c - the ClickHouse sink's JSONEachRow line
 * (conn/clickhouse_rows.c) for arbitrary records, now that a Kafka
 * source's topic can hold anything: the first byte picks the relation (a
 * stream, a table keyed by one column or by two with a timestamp) and
 * whether the ClickHouse table has _weir_deleted; the rest is the record's
 * key and value, split at the first NUL (no NUL: no key; an empty value: a
 * tombstone). clickhouse_row must write one valid JSON object and a
 * newline, or nothing (a stream's record left out, or refused with
 * WEIR_EINVAL), never anything else.
 */
#include <stdlib.h>
#include <string.h>

#include "conn/clickhouse.h"
#include "fuzz.h"
#include "json/json.h"

static weir_column cols[] = {{"name", WEIR_TYPE_TEXT}, {"at", WEIR_TYPE_TIMESTAMP}, {"n", WEIR_TYPE_INT}};
static int two[] = {0, 1}, one[] = {2};
static weir_relation rels[] = {
    {.name = "s", .schema = {cols, 3}},
    {.name = "t", .schema = {cols, 3}, .is_table = true, .pk = one, .npk = 1},
    {.name = "w", .schema = {cols, 3}, .is_table = true, .pk = two, .npk = 2},
    {.name = "one", .schema = {cols, 3}, .is_table = true},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    clickhouse_sink c = {.name = "k", .from = &rels[data[0] % 4], .deletes = data[0] & 4, .datetime64 = data[0] & 8};
    const uint8_t *p = data + 1, *nul = memchr(p, 0, size - 1);
    weir_sink_record r = {.partition = 1, .offset = 7, .value = nul ? nul + 1 : p,
                          .value_len = nul ? size - 1 - (size_t)(nul + 1 - p) : size - 1,
                          .key = nul ? p : NULL, .key_len = nul ? (size_t)(nul - p) : 0};
    weir_err err = {0};
    int rc = clickhouse_row(&c, &r, &err);
    if (rc == WEIR_OK && c.body.len) {
        weir_json_error e;
        if (c.body.data[c.body.len - 1] != '\n' ||
            weir_json_validate((const char *)c.body.data, c.body.len - 1, NULL, &e) != WEIR_OK)
            abort(); /* a line ClickHouse would not read */
    } else if (rc != WEIR_OK && (c.body.len || (rc != WEIR_EINVAL && rc != WEIR_ENOMEM))) {
        abort(); /* refused, but wrote; or an error that is not a refusal */
    }
    weir_buf_free(&c.body);
    weir_buf_free(&c.extra);
    weir_buf_free(&c.key);
    return 0;
}
