/*
 * join_store.c - joins' table rows in the state store (docs/STATE_STORE.md,
 * "Join state in the store"): a stream-table join's rows of its table and
 * a table-table join's rows of both tables, each a row_map.h attached to a
 * store table, written at checkpoints as group_store.c writes the groups
 * (only what changed, in the transaction of the groups, the views' rows and
 * _offsets), dropped from memory under --state-memory and read again by
 * key.
 *
 * Store tables: "join:" and the output's name for a stream-table join's
 * table; "join:NAME:left" and "join:NAME:right" for a table-table join's
 * tables and an interval join's buffered records (join.c: keyed by join
 * key, event time and arrival; all in memory too, as windows' groups, read
 * back at attach, never dropped before the watermark passes them);
 * "join:NAME:versions" for a temporal join's versions (temporal_join.c:
 * keyed by join key, time and arrival; all in memory too, read back at
 * attach, pruned by the join's retention, a key's versions dropped from
 * memory under the budget and read back when the key is next used); its
 * waiting stream records stay in the checkpoint file (snapshot.c).
 */
#include <stdio.h>

#include "exec/engine_internal.h"

/* s's row maps kept in the store (NULLs for an interval or temporal
 * join), with their tables' names (names may be NULL); how many (0 to 2). */
static int maps_of(const query_state *s, weir_row_map **maps, char names[2][300])
{
    const char *out = s->q->output->name;
    if (s->table_join) {
        maps[0] = weir_table_join_rows(s->table_join);
        if (names)
            snprintf(names[0], sizeof names[0], "join:%s", out);
        return 1;
    }
    if (s->temporal) {
        maps[0] = NULL;
        if (names)
            snprintf(names[0], sizeof names[0], "join:%s:versions", out);
        return 1;
    }
    if (s->tables_join || s->join) {
        for (int side = 0; side < 2; side++) {
            maps[side] = s->tables_join ? weir_tables_join_rows(s->tables_join, side) : NULL;
            if (names)
                snprintf(names[side], sizeof names[side], "join:%s:%s", out, side ? "right" : "left");
        }
        return 2;
    }
    return 0;
}

int engine_join_attach(query_state *s, weir_store *store, weir_err *err)
{
    weir_row_map *maps[2];
    char names[2][300];
    int n = maps_of(s, maps, names);
    for (int i = 0; i < n && maps[i]; i++) {
        int rc = weir_row_map_attach(maps[i], store, names[i], err);
        if (rc)
            return rc;
    }
    int rc = s->join ? weir_join_attach(s->join, store, s->q->output->name, err)
             : s->temporal ? weir_temporal_join_attach(s->temporal, store, s->q->output->name, err) : WEIR_OK;
    s->join_stored = n > 0 && rc == WEIR_OK;
    return rc;
}

int engine_join_clear(const query_state *s, weir_store *store, weir_store_txn *txn, weir_err *err)
{
    weir_row_map *maps[2];
    char names[2][300];
    int n = maps_of(s, maps, names);
    for (int i = 0; i < n; i++) {
        weir_store_table t;
        int rc = weir_store_table_open(store, names[i], false, &t, err);
        if (rc == WEIR_ENOENT)
            continue;
        if (rc == WEIR_OK)
            rc = weir_store_clear(txn, t, err);
        if (rc)
            return rc;
    }
    return WEIR_OK;
}

int engine_join_seal(query_state *s, weir_err *err)
{
    weir_row_map *maps[2];
    int n = s->join_stored ? maps_of(s, maps, NULL) : 0, rc = WEIR_OK;
    if (n && s->lost)
        return weir_err_set(err, WEIR_ENOMEM, "the changes of %s's join state were lost to a failure; restart weir serve",
                            s->q->output->name);
    if (n && s->join)
        rc = weir_join_seal(s->join, err);
    if (n && s->temporal)
        rc = weir_temporal_join_seal(s->temporal, err);
    for (int i = 0; i < n && maps[i]; i++) /* every map, even after a failure: each unmarks what it walks */
        if (weir_row_map_seal(maps[i], rc ? &(weir_err){0} : err) && rc == WEIR_OK)
            rc = err->code ? err->code : WEIR_ENOMEM;
    s->lost |= rc != WEIR_OK; /* the store cannot follow the rows any more */
    return rc;
}

int engine_join_write(query_state *s, weir_store_txn *txn, weir_err *err)
{
    weir_row_map *maps[2];
    int n = s->join_stored ? maps_of(s, maps, NULL) : 0;
    if (n && s->join)
        return weir_join_write(s->join, txn, err);
    if (n && s->temporal)
        return weir_temporal_join_write(s->temporal, txn, err);
    for (int i = 0; i < n; i++) {
        int rc = weir_row_map_write(maps[i], txn, err);
        if (rc)
            return rc;
    }
    return WEIR_OK;
}

void engine_join_written(query_state *s, bool committed)
{
    weir_row_map *maps[2];
    int n = s->join_stored ? maps_of(s, maps, NULL) : 0;
    if (n && s->join)
        weir_join_written(s->join, committed);
    if (n && s->temporal)
        weir_temporal_join_written(s->temporal, committed);
    for (int i = 0; i < n && maps[i]; i++)
        weir_row_map_written(maps[i], committed);
}

size_t engine_join_bytes(const query_state *s)
{
    weir_row_map *maps[2];
    int n = s->join_stored && !s->join && !s->temporal ? maps_of(s, maps, NULL) : 0;
    size_t bytes = s->join_stored && s->temporal ? weir_temporal_join_bytes(s->temporal) : 0;
    for (int i = 0; i < n; i++)
        bytes += weir_row_map_bytes(maps[i]);
    return bytes;
}

void engine_join_tick(query_state *s)
{
    weir_row_map *maps[2];
    int n = s->join_stored && !s->join && !s->temporal ? maps_of(s, maps, NULL) : 0;
    if (s->join_stored && s->temporal)
        weir_temporal_join_tick(s->temporal);
    for (int i = 0; i < n; i++)
        weir_row_map_tick(maps[i]);
}

void engine_join_droppable(const query_state *s, weir_budget_ages *ages)
{
    weir_row_map *maps[2];
    int n = s->join_stored && !s->lost && !s->join && !s->temporal ? maps_of(s, maps, NULL) : 0;
    if (s->join_stored && !s->lost && s->temporal)
        weir_temporal_join_droppable(s->temporal, ages);
    for (int i = 0; i < n; i++)
        weir_row_map_droppable(maps[i], ages);
}

uint64_t engine_join_drop(query_state *s, weir_budget_cut cut)
{
    weir_row_map *maps[2];
    int n = s->join_stored && !s->lost && !s->join && !s->temporal ? maps_of(s, maps, NULL) : 0;
    uint64_t dropped = 0;
    if (s->join_stored && !s->lost && s->temporal) {
        weir_budget_ages mine = {0};
        weir_temporal_join_droppable(s->temporal, &mine);
        dropped += weir_temporal_join_drop(s->temporal, cut.age, (uint64_t)(cut.frac * (double)mine.bytes[cut.age]) + 1);
    }
    for (int i = 0; i < n; i++) {
        weir_budget_ages mine = {0};
        weir_row_map_droppable(maps[i], &mine);
        dropped += weir_row_map_drop(maps[i], cut.age, (uint64_t)(cut.frac * (double)mine.bytes[cut.age]) + 1);
    }
    return dropped;
}
