/*
 * clickhouse_schema.c - the ClickHouse table a sink makes with create =
 * true, shaped by what it receives and what the server can do.
 *
 * A stream is a history: a MergeTree ordered by the rows' place in the
 * stream (_weir_partition, _weir_offset). A table's sink receives its
 * changelog, every update of a row; it lands in a ReplacingMergeTree
 * versioned by _weir_offset and ordered by the table's primary key (GROUP
 * BY columns and window start), so ClickHouse keeps the latest version of
 * each row and `SELECT ... FINAL` reads the table as weir holds it. A key
 * row lives in one output partition, whose offsets only grow, so the
 * highest offset is the latest version.
 *
 * A row that leaves weir's table (a tombstone in the changelog) lands as a
 * last version with _weir_deleted = 1. ReplacingMergeTree's is_deleted
 * argument, which would drop it in merges, came long after 18.16, so
 * readers filter: SELECT ... FROM t FINAL WHERE NOT _weir_deleted (right
 * on 18.16, tested). The form SELECT ... FROM (SELECT * FROM t FINAL)
 * WHERE NOT _weir_deleted applies FINAL first on any version, where some
 * move a filter on a column outside the sorting key to PREWHERE, ahead of
 * FINAL's merge (optimize_move_to_prewhere).
 *
 * Columns are Nullable (SQL's NULL), which a sorting key cannot be: each
 * key column sorts as assumeNotNull(k), isNull(k), so NULL and '' (or 0)
 * stay two rows. Timestamps keep their milliseconds: DateTime64(3) when
 * the server has it (20.1 on, asked with SELECT version()); on older ones
 * (Debian's 18.16) a DateTime with a Nullable(UInt64) <col>_ms beside it,
 * the same instant in milliseconds since the epoch, which a table's key
 * then sorts by.
 */
#include <stdlib.h>
#include <string.h>

#include "conn/clickhouse.h"

int clickhouse_probe(clickhouse_sink *c, weir_err *err)
{
    if (c->probed)
        return WEIR_OK;
    int rc = clickhouse_post(c, "SELECT version()", NULL, NULL, 0, err);
    if (rc)
        return rc;
    c->datetime64 = strtol((const char *)c->answer.data, NULL, 10) >= 20;
    c->probed = true;
    return WEIR_OK;
}

static const char *clickhouse_type(const clickhouse_sink *c, weir_type t)
{
    switch (t) {
    case WEIR_TYPE_BOOL: return "UInt8";
    case WEIR_TYPE_INT: return "Int64";
    case WEIR_TYPE_UINT: return "UInt64";
    case WEIR_TYPE_DOUBLE: return "Float64";
    case WEIR_TYPE_TIMESTAMP: return c->datetime64 ? "DateTime64(3)" : "DateTime";
    default: return "String";
    }
}

/* `name` with suffix, a backquote or backslash in it escaped as ClickHouse reads them. */
static int put_ident(weir_buf *b, const char *name, const char *suffix)
{
    int rc = weir_buf_append(b, "`", 1);
    for (const char *p = name; *p && !rc; p++) {
        if (*p == '`' || *p == '\\')
            rc = weir_buf_append(b, "\\", 1);
        rc = rc || weir_buf_append(b, p, 1);
    }
    return rc || weir_buf_append_str(b, suffix) || weir_buf_append(b, "`", 1) ? WEIR_ENOMEM : WEIR_OK;
}

/* ORDER BY of a table: each key column, NULL told apart (see the top). */
static int put_key(const clickhouse_sink *c, weir_buf *b)
{
    const weir_relation *r = c->from;
    if (!r->npk)
        return weir_buf_append_str(b, "tuple()"); /* one row (an aggregate without GROUP BY) */
    int rc = weir_buf_append(b, "(", 1);
    for (int k = 0; k < r->npk && !rc; k++) {
        const weir_column *col = &r->schema.cols[r->pk[k]];
        const char *suffix = col->type == WEIR_TYPE_TIMESTAMP && !c->datetime64 ? "_ms" : "";
        rc = weir_buf_append_str(b, k ? ", assumeNotNull(" : "assumeNotNull(") || put_ident(b, col->name, suffix) ||
             weir_buf_append_str(b, "), isNull(") || put_ident(b, col->name, suffix) || weir_buf_append(b, ")", 1);
    }
    return rc || weir_buf_append(b, ")", 1) ? WEIR_ENOMEM : WEIR_OK;
}

int clickhouse_probe_deletes(clickhouse_sink *c, weir_err *err)
{
    weir_buf sql = {0};
    int rc = weir_buf_append_str(&sql, "SELECT count() FROM system.columns WHERE database = currentDatabase() AND "
                                       "name = '_weir_deleted' AND table = '");
    for (const char *p = c->table; *p && !rc; p++) /* a string literal: ' and \\ escaped */
        rc = (*p == '\'' || *p == '\\' ? weir_buf_append(&sql, "\\", 1) : 0) || weir_buf_append(&sql, p, 1);
    rc = rc || weir_buf_append(&sql, "'", 2); /* with the NUL */
    rc = rc ? weir_err_set(err, WEIR_ENOMEM, "out of memory")
            : clickhouse_post(c, (const char *)sql.data, NULL, NULL, 0, err);
    if (rc == WEIR_OK)
        c->deletes = strtol((const char *)c->answer.data, NULL, 10) > 0;
    weir_buf_free(&sql);
    return rc;
}

int clickhouse_create_table(clickhouse_sink *c, weir_err *err)
{
    const weir_schema *s = &c->from->schema;
    weir_buf sql = {0};
    int rc = weir_buf_append_str(&sql, "CREATE TABLE IF NOT EXISTS ") || put_ident(&sql, c->table, "") ||
             weir_buf_append_str(&sql, " (");
    for (int i = 0; i < s->ncols && !rc; i++) {
        rc = put_ident(&sql, s->cols[i].name, "") ||
             weir_buf_printf(&sql, " Nullable(%s), ", clickhouse_type(c, s->cols[i].type));
        if (!rc && s->cols[i].type == WEIR_TYPE_TIMESTAMP && !c->datetime64)
            rc = put_ident(&sql, s->cols[i].name, "_ms") || weir_buf_append_str(&sql, " Nullable(UInt64), ");
    }
    if (c->from->is_table)
        rc = rc || weir_buf_append_str(&sql, "_weir_deleted UInt8, ");
    rc = rc || weir_buf_append_str(&sql, "_weir_partition UInt32, _weir_offset UInt64) ENGINE = ");
    if (c->from->is_table)
        rc = rc || weir_buf_append_str(&sql, "ReplacingMergeTree(_weir_offset) ORDER BY ") || put_key(c, &sql);
    else
        rc = rc || weir_buf_append_str(&sql, "MergeTree ORDER BY (_weir_partition, _weir_offset)");
    rc = rc || weir_buf_append(&sql, "", 1);
    rc = rc ? weir_err_set(err, WEIR_ENOMEM, "out of memory")
            : clickhouse_post(c, (const char *)sql.data, NULL, NULL, 0, err);
    weir_buf_free(&sql);
    return rc;
}
