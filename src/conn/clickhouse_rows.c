/*
 * clickhouse_rows.c - a record of weir's log as a line of an INSERT ...
 * FORMAT JSONEachRow.
 *
 * A record is copied member by member, with two changes. Its timestamps
 * (the TIMESTAMP columns of the source) are rewritten as ISO 8601 with
 * milliseconds, whatever a producer sent (an offset, epoch seconds or
 * milliseconds): ClickHouse would read an epoch number as seconds and
 * 18.16's DateTime drops the fraction, so on a server without DateTime64
 * the same instant goes beside it as <col>_ms, milliseconds since the
 * epoch (none before 1970, which neither column holds). Then come the
 * record's place in the stream, _weir_partition and _weir_offset.
 *
 * A table's tombstone (a record without value: the row left the table)
 * becomes a row of its key columns alone with _weir_deleted = 1, the
 * latest version of that key in the ReplacingMergeTree, which readers
 * filter out (clickhouse_schema.c). Its key columns must be written as a
 * live row's are (timestamps, <col>_ms) for ClickHouse to see one key.
 */
#include <stdlib.h>
#include <string.h>

#include "conn/clickhouse.h"
#include "json/json.h"
#include "sql/value.h"

typedef struct row {
    clickhouse_sink *c;
    bool first;                /* no member written yet */
} row;

static bool is_timestamp(const weir_schema *s, const char *name, size_t len)
{
    for (int i = 0; i < s->ncols; i++)
        if (s->cols[i].type == WEIR_TYPE_TIMESTAMP && strlen(s->cols[i].name) == len && !memcmp(s->cols[i].name, name, len))
            return true;
    return false;
}

/* The instant a timestamp member's value names, as weir's ingest reads it. */
static bool instant(const weir_json_span *v, int64_t *ms)
{
    if (v->type == WEIR_JSON_STRING)
        return weir_timestamp_parse(v->p + 1, v->len - 2, ms);
    if (v->type != WEIR_JSON_NUMBER)
        return false;
    char text[64];
    if (v->len >= sizeof text)
        return false;
    memcpy(text, v->p, v->len);
    text[v->len] = '\0';
    return weir_timestamp_from_epoch(strtod(text, NULL), ms);
}

static int member(void *ctx, const char *name, size_t name_len, int escaped, const weir_json_span *v)
{
    row *w = ctx;
    weir_buf *b = &w->c->body;
    int64_t ms;
    int rc = (w->first ? 0 : weir_buf_append(b, ",", 1)) || weir_buf_append(b, name, name_len) ||
             weir_buf_append(b, ":", 1);
    w->first = false;
    if (rc)
        return WEIR_ENOMEM;
    if (escaped || !is_timestamp(&w->c->from->schema, name + 1, name_len - 2) || !instant(v, &ms))
        return weir_buf_append(b, v->p, v->len);
    char text[40];
    int n = weir_timestamp_format(ms, text, sizeof text);
    rc = weir_buf_append(b, "\"", 1) || weir_buf_append(b, text, (size_t)n) || weir_buf_append(b, "\"", 1);
    if (!rc && !w->c->datetime64 && ms >= 0) /* ,"<col>_ms":ms */
        rc = weir_buf_append(&w->c->extra, ",", 1) || weir_buf_append(&w->c->extra, name, name_len - 1) ||
             weir_buf_append_str(&w->c->extra, "_ms\":") || weir_buf_append_uint(&w->c->extra, (uint64_t)ms);
    return rc ? WEIR_ENOMEM : WEIR_OK;
}

/* Appends the JSONEachRow line of the object json[0..len) (see
 * clickhouse_row), with "_weir_deleted":1 when deleted. -WEIR_EINVAL, with
 * nothing appended, when json is not an object. */
static int put_row(clickhouse_sink *c, const uint8_t *json, size_t len, bool deleted, const weir_sink_record *r)
{
    row w = {c, true};
    size_t at = c->body.len;
    c->extra.len = 0;
    int rc = weir_buf_append(&c->body, "{", 1);
    int walk = rc ? 0 : weir_json_members((const char *)json, len, member, &w);
    if (walk == -WEIR_EINVAL) {
        c->body.len = at;
        return walk;
    }
    rc = rc || walk || (c->extra.len && weir_buf_append(&c->body, c->extra.data, c->extra.len)) ||
         (!w.first && weir_buf_append(&c->body, ",", 1)) ||
         (deleted && weir_buf_append_str(&c->body, "\"_weir_deleted\":1,")) ||
         weir_buf_append_str(&c->body, "\"_weir_partition\":") || weir_buf_append_uint(&c->body, r->partition) ||
         weir_buf_append_str(&c->body, ",\"_weir_offset\":") || weir_buf_append_uint(&c->body, r->offset) ||
         weir_buf_append(&c->body, "}\n", 2);
    return rc ? WEIR_ENOMEM : WEIR_OK;
}

/* A tombstone's key as a JSON object of the table's key columns, in
 * c->key: the record's key is the object itself when the table has
 * several key columns (or a window), else the one column's text (a TEXT
 * column's raw, another's JSON; no key: NULL), as exec/runner.c keys a
 * table's records. -WEIR_EINVAL when another's is not one JSON scalar. */
static int key_object(clickhouse_sink *c, const weir_sink_record *r)
{
    const weir_relation *rel = c->from;
    weir_buf *o = &c->key;
    o->len = 0;
    if (rel->npk > 1)
        return r->key ? weir_buf_append(o, r->key, r->key_len) : weir_buf_append_str(o, "{}");
    if (rel->npk == 0) /* one row: ORDER BY tuple() */
        return weir_buf_append_str(o, "{}");
    const weir_column *col = &rel->schema.cols[rel->pk[0]];
    weir_json_span v;
    weir_json_error e;
    if (r->key && col->type != WEIR_TYPE_TEXT &&
        (weir_json_validate((const char *)r->key, r->key_len, &v, &e) || v.type == WEIR_JSON_OBJECT ||
         v.type == WEIR_JSON_ARRAY))
        return -WEIR_EINVAL;
    int rc = weir_buf_append(o, "{", 1) || weir_json_quote(o, col->name, strlen(col->name)) ||
             weir_buf_append(o, ":", 1);
    if (!r->key)
        rc = rc || weir_buf_append_str(o, "null");
    else if (col->type == WEIR_TYPE_TEXT)
        rc = rc || weir_json_quote(o, (const char *)r->key, r->key_len);
    else
        rc = rc || weir_buf_append(o, r->key, r->key_len);
    return rc || weir_buf_append(o, "}", 1) ? WEIR_ENOMEM : WEIR_OK;
}

int clickhouse_row(clickhouse_sink *c, const weir_sink_record *r, weir_err *err)
{
    bool table = c->from && c->from->is_table;
    int rc;
    if (table && !r->value_len) { /* a row left the table */
        if (!c->deletes)
            return weir_err_set(err, WEIR_EINVAL, "sink %s: table %s has no column _weir_deleted, which a row deleted "
                                "from %s needs (ALTER TABLE %s ADD COLUMN _weir_deleted UInt8)", c->name, c->table,
                                c->from->name, c->table);
        rc = key_object(c, r);
        if (rc == WEIR_OK)
            rc = put_row(c, c->key.data, c->key.len, true, r);
        if (rc == -WEIR_EINVAL)
            return weir_err_set(err, WEIR_EINVAL, "sink %s: record %u:%llu, a tombstone: its key is not %s's key",
                                c->name, r->partition, (unsigned long long)r->offset, c->from->name);
    } else {
        rc = put_row(c, r->value, r->value_len, false, r);
        if (rc == -WEIR_EINVAL && !table) /* a stream's: left out (see clickhouse.h) */
            return WEIR_OK;
        if (rc == -WEIR_EINVAL) /* weir wrote every row of a table as an object: this one will never go */
            return weir_err_set(err, WEIR_EINVAL, "sink %s: record %u:%llu is not a JSON object", c->name, r->partition,
                                (unsigned long long)r->offset);
    }
    return rc ? weir_err_set(err, WEIR_ENOMEM, "out of memory") : WEIR_OK;
}
