/*
 * engine_join.c - the engine's side of joins: a record of either input goes
 * to the join's state (join.c for a stream-stream interval join, which
 * decides what meets and when a record is too late or dropped;
 * table_join.c for a stream-table join, where a stream record meets its
 * key's row; tables_join.c for a table-table join, where a change of
 * either table makes its key's joined row or its removal); each row it
 * makes goes through the query's WHERE and SELECT list here, as any
 * query's rows do, and failures become dead letters of the record that
 * made them.
 */
#include <stdio.h>
#include <string.h>

#include "exec/engine_internal.h"

/* What a join's emitted rows need to go on. */
typedef struct join_ctx {
    weir_engine *e;
    query_state *s;
    const weir_emit_target *t;
    weir_err *err;
    int from;                  /* a table-table join: the side whose change is being joined (1: the right) */
} join_ctx;

/* weir_join_emit: WHERE and the SELECT list over a joined row. A failing
 * expression sends the record that made the row (its values, from the
 * joined row) to its stream's dead letters. */
static int join_emit(void *ctx, const weir_value *row, int64_t ts, int from)
{
    join_ctx *c = ctx;
    const weir_query *q = c->s->q;
    const weir_relation *src = from ? q->join->right : q->source;
    const weir_value *cause = row + (from ? q->source->schema.ncols : 0);
    weir_eval ev = {.arena = &c->e->scratch, .row = row};
    if (q->where && !weir_eval_predicate(&ev, q->where)) {
        if (!ev.err)
            return WEIR_OK;
        c->s->stats.dead++;
        char why[160];
        return engine_dead(c->e, WEIR_DEAD_EXPRESSION, src, cause, NULL, 0, ts, c->t, c->err, "WHERE of %s: %s",
                    q->output->name, engine_error_reason(&ev, why, sizeof why));
    }
    return engine_project(c->e, c->s, row, ts, &ev, src, cause, NULL, 0, c->t, c->err);
}

int engine_join_row(weir_engine *e, query_state *s, int side, uint32_t part, const weir_value *row, int64_t ts,
                    const char *raw, size_t raw_len, const weir_emit_target *t, weir_err *err)
{
    const weir_query *q = s->q;
    const weir_relation *src = side ? q->join->right : q->source;
    s->stats.rows_in++;
    join_ctx c = {e, s, t, err, 0};
    weir_eval ev = {.arena = &e->scratch};
    bool is_late;
    int rc = weir_join_push(s->join, side, part, row, ts, &ev, join_emit, &c, &is_late);
    if (rc == WEIR_ENOMEM)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory for the state of %s", q->output->name);
    if (rc)
        return rc;
    if (ev.err) {
        char why[160];
        s->stats.dead++;
        return engine_dead(e, WEIR_DEAD_EXPRESSION, src, row, raw, raw_len, ts, t, err, "ON of %s: %s", q->output->name,
                    engine_error_reason(&ev, why, sizeof why));
    }
    if (!is_late)
        return WEIR_OK;
    s->stats.late++;
    s->stats.dead++;
    char ts_text[40], wm_text[40];
    weir_timestamp_format(ts, ts_text, sizeof ts_text);
    weir_timestamp_format(weir_join_watermark(s->join, side, part), wm_text, sizeof wm_text);
    /* How far behind a record may be: what the bound lets it reach past its own time, plus grace. */
    long long allowed = (long long)(side ? -q->join->lo : q->join->hi) + (long long)q->join->grace_ms;
    return engine_dead(e, WEIR_DEAD_LATE, src, row, raw, raw_len, ts, t, err,
                "too late for %s: event time %s is more than %lld ms behind its partition's watermark %s "
                "(the join's time bound plus grace)", q->output->name, ts_text, allowed, wm_text);
}

int engine_join_advance(weir_engine *e, query_state *s, int side, uint32_t part, int64_t wm, const weir_emit_target *t,
                        weir_err *err)
{
    join_ctx c = {e, s, t, err, 0};
    int rc = weir_join_advance(s->join, side, part, wm, join_emit, &c);
    return rc == WEIR_ENOMEM ? weir_err_set(err, WEIR_ENOMEM, "out of memory for the state of %s", s->q->output->name)
                             : rc;
}

/* A temporal join's record that came too late, to its stream's dead letters. */
static int temporal_late(weir_engine *e, query_state *s, const weir_relation *rel, int side, uint32_t part,
                         const weir_value *row, int64_t ts, const char *raw, size_t raw_len, const weir_emit_target *t,
                         weir_err *err)
{
    s->stats.late++;
    s->stats.dead++;
    char ts_text[40], wm_text[40];
    weir_timestamp_format(ts, ts_text, sizeof ts_text);
    weir_timestamp_format(weir_temporal_join_watermark(s->temporal, side, part), wm_text, sizeof wm_text);
    return engine_dead(e, WEIR_DEAD_LATE, rel, row, raw, raw_len, ts, t, err,
                       "too late for %s: event time %s is more than GRACE (%lld ms) behind its partition's watermark %s",
                       s->q->output->name, ts_text, (long long)s->q->join->grace_ms, wm_text);
}

int engine_table_join_row(weir_engine *e, query_state *s, const weir_relation *rel, uint32_t part,
                          const weir_value *row, const weir_value *key, int64_t ts, const char *raw, size_t raw_len,
                          const weir_emit_target *t, weir_err *err)
{
    const weir_query *q = s->q;
    join_ctx c = {e, s, t, err, 0};
    weir_eval ev = {.arena = &e->scratch};
    bool table = rel == q->join->right, late = false;
    int rc;
    if (s->temporal)
        rc = table ? weir_temporal_join_version(s->temporal, part, row, key, ts, &ev, join_emit, &c, &late)
                   : weir_temporal_join_push(s->temporal, part, row, ts, &ev, join_emit, &c, &late);
    else if (table && row)
        rc = weir_table_join_upsert(s->table_join, row);
    else if (table)
        rc = weir_table_join_remove(s->table_join, key);
    else
        rc = weir_table_join_probe(s->table_join, row, ts, &ev, join_emit, &c, err);
    s->stats.rows_in += !table;
    if (rc == WEIR_ENOMEM)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory for the state of %s", q->output->name);
    if (rc && s->temporal && *weir_temporal_join_error(s->temporal)) /* its versions could not be read back */
        return weir_err_set(err, rc, "%s: %s", q->output->name, weir_temporal_join_error(s->temporal));
    if (rc)
        return rc;
    if (late)
        return temporal_late(e, s, rel, table, part, row ? row : key, ts, raw, raw_len, t, err);
    if (!ev.err)
        return WEIR_OK;
    char why[160];
    s->stats.dead++;
    if (table) /* a temporal join's stream record the version let out: its values lead the joined row */
        return engine_dead(e, WEIR_DEAD_EXPRESSION, q->source, ev.row, NULL, 0, ts, t, err, "ON of %s: %s",
                           q->output->name, engine_error_reason(&ev, why, sizeof why));
    return engine_dead(e, WEIR_DEAD_EXPRESSION, rel, row, raw, raw_len, ts, t, err, "ON of %s: %s", q->output->name,
                       engine_error_reason(&ev, why, sizeof why));
}

int engine_temporal_advance(weir_engine *e, query_state *s, int side, uint32_t part, int64_t wm, const weir_emit_target *t,
                            weir_err *err)
{
    join_ctx c = {e, s, t, err, 0};
    weir_eval ev = {.arena = &e->scratch};
    int rc = weir_temporal_join_advance(s->temporal, side, part, wm, &ev, join_emit, &c);
    if (rc == WEIR_ENOMEM)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory for the state of %s", s->q->output->name);
    if (rc && *weir_temporal_join_error(s->temporal)) /* its versions could not be read back */
        return weir_err_set(err, rc, "%s: %s", s->q->output->name, weir_temporal_join_error(s->temporal));
    if (rc || !ev.err)
        return rc;
    char why[160]; /* a waiting record whose ON failed: its values are in the joined row ev was given */
    s->stats.dead++;
    return engine_dead(e, WEIR_DEAD_EXPRESSION, s->q->source, ev.row, NULL, 0, wm, t, err, "ON of %s: %s",
                       s->q->output->name, engine_error_reason(&ev, why, sizeof why));
}

/* The key's row leaves the output table. */
static int tables_gone(join_ctx *c, const weir_value *key, int64_t ts)
{
    const weir_relation *out = c->s->q->output;
    if (!c->t->removed)
        return WEIR_OK;
    weir_value *row = weir_arena_alloc(&c->e->scratch, (size_t)out->schema.ncols * sizeof *row);
    if (!row)
        return weir_err_set(c->err, WEIR_ENOMEM, "out of memory");
    for (int i = 0; i < out->schema.ncols; i++)
        row[i] = weir_null(out->schema.cols[i].type);
    row[out->pk[0]] = weir_join_key_as(key, out->schema.cols[out->pk[0]].type);
    return engine_remove_row(c->e, c->s, row, ts, c->t, c->err);
}

/* weir_tables_join_out's shown: the joined row passes WHERE and its
 * SELECT list evaluates (one that failed was dead-lettered, and its key's
 * row removed). */
static bool tables_shown(void *ctx, const weir_value *row)
{
    join_ctx *c = ctx;
    const weir_query *q = c->s->q;
    weir_eval ev = {.arena = &c->e->scratch, .row = row};
    if (q->where && !weir_eval_predicate(&ev, q->where))
        return false;
    for (int i = 0; i < q->output->schema.ncols && !ev.err; i++)
        weir_eval_expr(&ev, q->out[i]);
    return !ev.err;
}

/* The row of the table whose change made joined row `row`, for its dead
 * letters, as a stream-table join's carry the record of its side: that
 * side's columns, or when the change removed its row, NULLs but for its
 * key (key: the left key's value); NULL when out of memory. */
static const weir_value *tables_cause(join_ctx *c, const weir_value *row, const weir_value *key)
{
    const weir_query *q = c->s->q;
    const weir_relation *side = c->from ? q->join->right : q->source;
    int k = c->from ? q->join->right_key : q->join->left_key;
    const weir_value *cols = row + (c->from ? q->source->schema.ncols : 0);
    if (!cols[k].is_null) /* a side's row always has its key: this side has a row */
        return cols;
    weir_value *removed = weir_arena_alloc(&c->e->scratch, (size_t)side->schema.ncols * sizeof *removed);
    if (removed) {
        memcpy(removed, cols, (size_t)side->schema.ncols * sizeof *removed);
        removed[k] = weir_join_key_as(key, side->schema.cols[k].type);
    }
    return removed;
}

/* weir_tables_join_out's changed: the key's joined row through WHERE and
 * the SELECT list; a key without one, or whose row fails WHERE (as a Kafka
 * Streams table's filter sends a tombstone) or fails to evaluate (a dead
 * letter of the table whose change made it), has no row in the output
 * table any more. */
static int tables_changed(void *ctx, const weir_value *row, const weir_value *key, bool had, int64_t ts)
{
    join_ctx *c = ctx;
    const weir_query *q = c->s->q;
    if (!row)
        return had ? tables_gone(c, key, ts) : WEIR_OK;
    weir_eval ev = {.arena = &c->e->scratch, .row = row};
    uint64_t dead = c->s->stats.dead;
    const weir_relation *src = c->from ? q->join->right : q->source;
    const weir_value *cause = tables_cause(c, row, key);
    if (!cause)
        return weir_err_set(c->err, WEIR_ENOMEM, "out of memory");
    int rc = WEIR_OK;
    if (q->where && !weir_eval_predicate(&ev, q->where)) {
        if (ev.err) {
            char why[160];
            c->s->stats.dead++;
            if ((rc = engine_dead(c->e, WEIR_DEAD_EXPRESSION, src, cause, NULL, 0, ts, c->t, c->err,
                                  "WHERE of %s: %s", q->output->name, engine_error_reason(&ev, why, sizeof why))))
                return rc;
        }
        return had ? tables_gone(c, key, ts) : WEIR_OK;
    }
    if ((rc = engine_project(c->e, c->s, row, ts, &ev, src, cause, NULL, 0, c->t, c->err)))
        return rc;
    /* a SELECT list that failed dead-lettered the row: the key's old row must not stay as if it still held */
    return c->s->stats.dead != dead && had ? tables_gone(c, key, ts) : WEIR_OK;
}

int engine_tables_join_row(weir_engine *e, query_state *s, unsigned sides, const weir_value *row, const weir_value *key,
                           int64_t ts, const weir_emit_target *t, weir_err *err)
{
    const weir_join *j = s->q->join;
    join_ctx c = {e, s, t, err, sides & 1 ? 0 : 1}; /* a table joined with itself: its left side */
    weir_tables_join_out out = {tables_shown, tables_changed, &c};
    s->stats.rows_in++;
    const weir_value *k = row ? NULL : &key[sides & 1 ? j->left_key : j->right_key];
    int rc = weir_tables_join_update(s->tables_join, sides, row, k, ts, &out, err);
    return rc == WEIR_ENOMEM ? weir_err_set(err, WEIR_ENOMEM, "out of memory for the state of %s", s->q->output->name)
                             : rc;
}
