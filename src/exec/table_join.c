/*
 * table_join.c - a stream-table join's state (see table_join.h): the
 * table's rows by its primary key (row_map.h), and the meeting of a
 * stream record with its key's row.
 */
#include "exec/table_join.h"

#include <stdlib.h>
#include <string.h>

#include "exec/engine_internal.h"
#include "exec/tables_join.h"

struct weir_table_join {
    const weir_join *j;
    int left_cols;
    weir_row_map *rows;        /* the table's rows by its primary key */
    weir_value *joined;        /* left_cols + the table's columns, the row a probe emits */
};

weir_table_join *weir_table_join_new(const weir_join *j, int left_cols)
{
    weir_table_join *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->j = j;
    t->left_cols = left_cols;
    t->rows = weir_row_map_new(&j->right->schema, j->right_key);
    t->joined = malloc((size_t)(left_cols + j->right->schema.ncols) * sizeof *t->joined);
    if (!t->rows || !t->joined) {
        weir_table_join_free(t);
        return NULL;
    }
    return t;
}

void weir_table_join_free(weir_table_join *t)
{
    if (!t)
        return;
    weir_row_map_free(t->rows);
    free(t->joined);
    free(t);
}

/* A row without its key meets nothing (and a source table has none). */
int weir_table_join_upsert(weir_table_join *t, const weir_value *row) { return weir_row_map_upsert(t->rows, row); }

int weir_table_join_remove(weir_table_join *t, const weir_value *key)
{
    return weir_row_map_remove(t->rows, &key[t->j->right_key]);
}

int weir_table_join_meet(const weir_join *j, int left_cols, weir_value *joined, const weir_value *left,
                         const weir_value *right, int64_t ts, weir_eval *ev, weir_join_emit emit, void *ctx)
{
    int right_cols = j->right->schema.ncols;
    bool found = right != NULL;
    memcpy(joined, left, (size_t)left_cols * sizeof *left);
    for (int c = 0; c < right_cols; c++)
        joined[left_cols + c] = found ? right[c] : weir_null(j->right->schema.cols[c].type);
    if (found && j->on) {
        ev->row = joined;
        found = weir_eval_predicate(ev, j->on);
        if (ev->err)
            return WEIR_OK;
        for (int c = 0; c < right_cols && !found; c++) /* ON fails: the record is unmatched */
            joined[left_cols + c] = weir_null(j->right->schema.cols[c].type);
    }
    if (!found && j->kind == WEIR_JOIN_INNER)
        return WEIR_OK;
    return emit(ctx, joined, ts, 0);
}

int weir_table_join_probe(weir_table_join *t, const weir_value *row, int64_t ts, weir_eval *ev, weir_join_emit emit,
                          void *ctx, weir_err *err)
{
    const weir_schema *rs = &t->j->right->schema;
    weir_value key = weir_join_key_as(&row[t->j->left_key], rs->cols[t->j->right_key].type);
    const weir_value *right;
    int rc = weir_row_map_find(t->rows, &key, &right, err);
    if (rc)
        return rc;
    return weir_table_join_meet(t->j, t->left_cols, t->joined, row, right, ts, ev, emit, ctx);
}

uint64_t weir_table_join_entries(const weir_table_join *t) { return weir_row_map_rows(t->rows); }
uint64_t weir_table_join_bytes(const weir_table_join *t) { return weir_row_map_bytes(t->rows); }
size_t weir_table_join_entry_size(const weir_table_join *t) { return weir_row_map_entry_size(t->rows); }
int weir_table_join_save(const weir_table_join *t, weir_buf *out) { return weir_row_map_save(t->rows, out); }
int weir_table_join_load(weir_table_join *t, weir_reader_buf *r) { return weir_row_map_load(t->rows, r); }
weir_row_map *weir_table_join_rows(weir_table_join *t) { return t->rows; }
