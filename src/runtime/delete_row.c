/*
 * delete_row.c - DELETE /v1/tables/{t}?key=K (ingest.h): a source table's
 * row removed over HTTP, as a Kafka producer removes it with a tombstone.
 * The tombstone (the key, no value) goes through the same admission as a
 * produced batch (weir_runtime_produce), into the partition the key's
 * records go to, so it follows them; the table reads it as the removal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "exec/decode.h"
#include "runtime/ingest.h"
#include "runtime/runtime_internal.h"

typedef struct delete_ack {
    weir_ingest_done done;
    void *ctx;
    weir_buf removed;             /* {"removed": {key}} */
} delete_ack;

static void on_produced(void *ctx, int status, const char *msg, uint64_t base_offset)
{
    (void)base_offset;
    delete_ack *k = ctx;
    weir_answer a = {.status = status};
    if (status == 200) {
        a.content_type = "application/json";
        a.body = k->removed;
    } else {
        snprintf(a.msg, sizeof a.msg, "%s", msg);
        a.retry_after_s = status == 503 ? 1 : 0;
    }
    k->done(k->ctx, &a);
    weir_buf_free(&k->removed);
    free(k);
}

/* The key of table t's records whose key column holds the value key
 * names, as ingest keys them (conn/ingest.h: a string's characters,
 * another value's JSON text, so " 5" and "5" are one key of an INT
 * column; a TIMESTAMP as written, ISO 8601 text or epoch milliseconds),
 * and the answer {"removed": {key}} to give once it is durable: 0 with
 * them in *out and *answer, else the refusal in *a. */
static int record_key(const weir_relation *t, const char *key, weir_buf *out, weir_buf *answer, weir_answer *a)
{
    weir_arena arena = {0};
    weir_value *row = malloc((size_t)t->schema.ncols * sizeof *row);
    const weir_column *c = &t->schema.cols[t->pk[0]];
    char why[256];
    int rc = row ? weir_decode_table_key(t, key, strlen(key), &arena, row, why, sizeof why) : -1;
    if (!row) {
        answer_error(a, 500, "out of memory");
    } else if (rc) {
        answer_error(a, 400, "key '%s' is not a value of %s's key column %s (%s)", key, t->name, c->name,
                     weir_type_name(c->type));
    } else {
        const weir_value *v = &row[t->pk[0]];
        rc = c->type == WEIR_TYPE_TEXT        ? weir_buf_append(out, v->s, v->len)
             : c->type == WEIR_TYPE_TIMESTAMP ? weir_buf_append_str(out, key)
                                              : weir_value_to_json(out, v);
        rc = rc || weir_buf_append_str(answer, "{\"removed\":") ||
             weir_encode_json_cols(&t->schema, row, t->pk, t->npk, answer) || weir_buf_append_str(answer, "}\n");
        if (rc)
            answer_error(a, 500, "out of memory");
    }
    weir_arena_free(&arena);
    free(row);
    return rc ? -1 : 0;
}

void weir_runtime_delete_row(weir_runtime *s, const char *table, const char *key, weir_ingest_done done, void *ctx)
{
    weir_answer a = {0};
    weir_buf rkey = {0}, removed = {0};
    const weir_relation *t = runtime_relation(s, table, NULL);
    delete_ack *k = NULL;
    if (!t || !t->is_table)
        answer_error(&a, 404, "no table %s in the pipeline", table);
    else if (!t->is_source)
        answer_error(&a, 409, "%s is computed by the pipeline: only a source table (CREATE TABLE with a PRIMARY KEY and "
                              "no AS SELECT) has rows to delete", table);
    else if (!key || !*key)
        answer_error(&a, 400, "?key= must name the row to delete (its %s)", t->schema.cols[t->pk[0]].name);
    else if (!record_key(t, key, &rkey, &removed, &a) && !(k = calloc(1, sizeof *k)))
        answer_error(&a, 500, "out of memory");
    if (!k) {
        weir_buf_free(&rkey);
        weir_buf_free(&removed);
        done(ctx, &a);
        return;
    }
    *k = (delete_ack){done, ctx, removed}; /* the ack owns the answer now */
    weir_wire_record tombstone = {.key = rkey.data, .key_len = rkey.len};
    uint32_t partition = weir_partition_for_key(rkey.data, rkey.len, t->partitions);
    weir_runtime_produce(s, t->name, (int32_t)partition, &tombstone, 1, NULL, NULL, on_produced, k);
    weir_buf_free(&rkey); /* recs are read during the call only */
}
