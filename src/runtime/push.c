/*
 * push.c - push queries (changes.h): SELECT ... FROM a stream or table
 * [WHERE] EMIT CHANGES [LIMIT n], as ksqlDB's /query-stream answers them.
 * A push query is a change feed (changes.c) of its relation's stream whose
 * records are filtered and projected by the query's plan (exec/pull.h)
 * before they are sent: NDJSON lines or Server-Sent Events, each an event
 * of the change feed's shape, until the client goes or LIMIT events went.
 */
#include <stdlib.h>
#include <string.h>

#include "exec/decode.h"
#include "exec/pull.h"
#include "runtime/runtime_internal.h"
#include "sql/sql.h"

struct push_query {
    weir_arena arena;             /* the statement and its plan */
    weir_pull pull;               /* the query: its relation, WHERE, SELECT list and LIMIT */
    weir_pull_run *run;           /* evaluates the WHERE and the projection */
    weir_arena decoded;           /* the record being sent, decoded */
    weir_value *row;              /* its columns (pull.from's schema) */
    weir_value *out;              /* its projection (pull.schema) */
    bool sse;                     /* Server-Sent Events, else NDJSON lines */
    int64_t left;                 /* events to send before the feed ends; -1: no LIMIT */
};

void push_query_free(push_query *q)
{
    if (!q)
        return;
    weir_pull_free(q->run);
    weir_arena_free(&q->decoded);
    weir_arena_free(&q->arena);
    free(q->row);
    free(q->out);
    free(q);
}

const char *push_keepalive(const push_query *q) { return q->sse ? ": keep-alive\n\n" : "\n"; }

/* What a record is to a push query. */
typedef enum push_event { PUSH_ROW, PUSH_REMOVAL, PUSH_NOTHING, PUSH_NOMEM = -1 } push_event;

/* "row":{...} for a record that passes the WHERE; for a table's tombstone,
 * or a table's row that now fails the WHERE (a client may hold the key's
 * row from before), "row":null,"removed":{key}; nothing for a stream's
 * record filtered out or one not of the relation's schema (the pipeline
 * dead-letters those). */
static push_event put_row(push_query *q, const weir_record *rec, weir_buf *b)
{
    const weir_relation *rel = q->pull.from;
    char why[256];
    weir_arena_reset(&q->decoded);
    bool removed = rel->is_table && rec->value_len == 0;
    if (!removed) {
        if (weir_decode_json(&rel->schema, (const char *)rec->value, rec->value_len, &q->decoded, q->row, why,
                             sizeof why))
            return PUSH_NOTHING;
        if (weir_pull_project(q->run, q->row, q->out))
            return weir_buf_append_str(b, "\"row\":") || weir_encode_json(&q->pull.schema, q->out, b) ? PUSH_NOMEM
                                                                                                       : PUSH_ROW;
        if (!rel->is_table)
            return PUSH_NOTHING;
    }
    if (weir_decode_table_key(rel, (const char *)rec->key, rec->key_len, &q->decoded, q->row, why, sizeof why))
        return PUSH_NOTHING;
    return weir_buf_append_str(b, "\"row\":null,\"removed\":") ||
                   weir_table_key_json(rel, (const char *)rec->key, rec->key_len, b)
               ? PUSH_NOMEM
               : PUSH_REMOVAL;
}

int push_put_record(push_query *q, uint32_t p, const weir_record *rec, weir_buf *b)
{
    size_t at = b->len;
    if ((q->sse && weir_buf_append_str(b, "event: change\ndata: ")) ||
        weir_buf_printf(b, "{\"partition\":%u,\"offset\":%llu,\"timestamp\":%lld,", p, (unsigned long long)rec->offset,
                        (long long)rec->ts_ms))
        return -1;
    push_event got = put_row(q, rec, b);
    if (got == PUSH_NOMEM || got == PUSH_NOTHING) {
        b->len = at;
        return got == PUSH_NOMEM ? -1 : 0;
    }
    if (weir_buf_append_str(b, q->sse ? "}\n\n" : "}\n"))
        return -1;
    return got == PUSH_ROW && q->left > 0 && --q->left == 0; /* LIMIT counts rows, as ksqlDB's does */
}

/* Plans sql into q: 0, 1 when it is no push query, -1 with the SQL error in *a. */
static int plan(weir_runtime *s, const char *sql, size_t len, push_query *q, weir_answer *a)
{
    weir_stmt **st;
    size_t n;
    weir_sql_error e;
    if (weir_sql_parse(sql, len, &q->arena, &st, &n, &e) || n != 1 || st[0]->kind != WEIR_STMT_SELECT ||
        !st[0]->select->emit_given)
        return 1; /* the pull query's path answers it, or says what is wrong with it */
    if (weir_plan_pull(s->cat, st[0], &q->arena, &q->pull, &e)) {
        answer_error(a, 400, "SQL %u:%u: %s", e.line, e.col, e.msg);
        return -1;
    }
    return 0;
}

int weir_runtime_push(weir_runtime *s, const char *sql, size_t len, const char *from, bool sse, weir_feed_open open,
                      void *open_ctx, weir_answer *a)
{
    push_query *q = calloc(1, sizeof *q);
    if (!q) {
        answer_error(a, 500, "out of memory");
        return -1;
    }
    int rc = plan(s, sql, len, q, a);
    if (rc) {
        push_query_free(q);
        return rc;
    }
    q->sse = sse;
    q->left = q->pull.limit;
    weir_err err = {0};
    weir_buf greeting = {0};
    q->row = calloc((size_t)q->pull.from->schema.ncols + 1, sizeof *q->row);
    q->out = calloc((size_t)q->pull.schema.ncols + 1, sizeof *q->out);
    if (!q->row || !q->out || weir_pull_begin(&q->pull, &q->run, &err) ||
        (sse && weir_buf_append_str(&greeting, "event: columns\ndata: ")) ||
        weir_buf_append_str(&greeting, "{\"columns\":") || runtime_put_columns(&greeting, &q->pull.schema) ||
        weir_buf_append_str(&greeting, sse ? "}\n\n" : "}\n")) {
        answer_error(a, 500, "out of memory");
        push_query_free(q);
        weir_buf_free(&greeting);
        return -1;
    }
    rc = runtime_follow(s, q->pull.from->name, from, NULL, q, (const char *)greeting.data, greeting.len, open, open_ctx, a);
    weir_buf_free(&greeting);
    return rc;
}
