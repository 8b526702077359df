/*
 * engine.c - the operators of a query, in the order a record meets them:
 * decode, event time, WHERE, then either projection (stateless queries) or
 * keys, window assignment, accumulation and emission (grouped queries).
 *
 * Windows: TUMBLE keeps one entry per (key, window start). HOP keeps one
 * per (key, pane), a pane being a slide-long slice; a window is the merge
 * of its size/slide panes, so an event costs one pane update whatever the
 * overlap. CUMULATE (Flink's) keeps step-long panes too: its windows
 * [start, start + step), [start, start + 2 step) ... [start, start + size)
 * share their start, a multiple of size, and each closes (merged from its
 * panes) when the watermark passes its end; the panes go once the largest
 * window over them has closed. SESSION keeps one per (key, session start)
 * and merges sessions a record bridges (session.c).
 */
#include "exec/engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/duration.h"
#include "exec/agg.h"
#include "exec/decode.h"
#include "json/json.h"
#include "exec/engine_internal.h"
#include "exec/repartition.h"
#include "sql/eval.h"
#include "state/groups.h"

/* How long a windowed table of q keeps a window's rows past its end: its
 * WITH (retention), else the default. 0 when they stay: forever, or a row
 * not named by one window and group alone (a window start or group key
 * not selected, or a CUMULATE window's end: the row is then the latest of
 * several, which aging one of them would take away). */
int64_t weir_query_window_retention(const weir_query *q)
{
    const weir_relation *r = q->output;
    if (q->window.kind == WEIR_WINDOW_NONE || !r->is_table || r->retention_ms < 0 || q->nkeys > 62)
        return 0;
    int named = 0, wanted = q->nkeys + 1 + (q->window.cumulate ? 1 : 0);
    uint64_t seen = 0; /* bits: the keys, window start (62) and end (63) seen (one selected twice counts once) */
    for (int i = 0; i < r->npk; i++) {
        int slot = q->out[r->pk[i]]->kind == WEIR_E_SLOT ? q->out[r->pk[i]]->slot : -1;
        int bit = slot < 0 ? -1 : slot < q->nkeys ? slot : slot == q->nkeys + q->naggs ? 62 : 63;
        if (bit >= 0 && !(seen >> bit & 1)) {
            seen |= 1ull << bit;
            named++;
        }
    }
    return named == wanted ? (r->retention_ms ? r->retention_ms : WEIR_DEFAULT_RETENTION_MS) : 0;
}

int weir_engine_new(const weir_catalog *cat, const weir_engine_options *opt, weir_engine **out, weir_err *err)
{
    weir_engine *e = calloc(1, sizeof *e);
    if (!e || !(e->qs = calloc((size_t)cat->nqueries + 1, sizeof *e->qs)) ||
        !(e->dead = calloc((size_t)cat->nrels + 1, sizeof *e->dead))) {
        if (e)
            free(e->qs);
        free(e);
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    }
    e->cat = cat;
    if (opt)
        e->opt = *opt;
    snprintf(e->store_suffix, sizeof e->store_suffix, "%s", e->opt.store_suffix ? e->opt.store_suffix : "");
    e->opt.store_suffix = NULL; /* borrowed only until now */
    for (int i = 0; i < cat->nqueries; i++) {
        query_state *s = &e->qs[i];
        s->q = cat->queries[i];
        s->watermark = INT64_MIN;
        s->closed_upto = INT64_MIN;
        s->next_close = INT64_MIN;
        /* a repartition stream's records keep their origin partition's watermark (repartition.h) */
        s->nparts = e->opt.single_partition && !s->q->source->repartition_of ? 1 : s->q->source->partitions;
        s->part_wm = malloc(s->nparts * sizeof *s->part_wm);
        for (uint32_t p = 0; s->part_wm && p < s->nparts; p++)
            s->part_wm[p] = INT64_MIN;
        bool failed = !s->part_wm;
        if (!failed && s->q->window.kind == WEIR_WINDOW_SESSION) {
            failed = weir_sessions_init(&s->sessions, s->q) != 0;
            s->groups = s->sessions.main;
        } else if (!failed && s->q->grouped) {
            failed = !(s->groups = weir_groups_new(s->q, &weir_agg_acc_ops));
        }
        if (!failed && s->q->join && s->q->join->temporal)
            failed = !(s->temporal = weir_temporal_join_new(s->q->join, s->q->source->schema.ncols, s->nparts));
        else if (!failed && s->q->join && s->q->join->tables)
            failed = !(s->tables_join = weir_tables_join_new(s->q->join, s->q->source));
        else if (!failed && s->q->join && s->q->join->table)
            failed = !(s->table_join = weir_table_join_new(s->q->join, s->q->source->schema.ncols));
        else if (!failed && s->q->join)
            failed = !(s->join = weir_join_new(s->q->join, s->q->source->schema.ncols, s->nparts));
        if (!failed && (s->retention_ms = weir_query_window_retention(s->q)))
            failed = !(s->expiry = weir_expiry_new(s->q->nkeys));
        if (!failed && s->q->window.kind == WEIR_WINDOW_HOP) {
            const weir_window_spec *w = &s->q->window;
            s->window = calloc(1, weir_accs_size(s->q));
            s->panes = malloc((size_t)((w->size_ms + w->slide_ms - 1) / w->slide_ms) * sizeof *s->panes);
            failed = !s->window || !s->panes;
        }
        if (failed) {
            weir_engine_free(e);
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        }
    }
    int rc = repart_new(cat, &e->repart, err);
    if (rc) {
        weir_engine_free(e);
        return rc;
    }
    *out = e;
    return WEIR_OK;
}

void weir_engine_free(weir_engine *e)
{
    if (!e)
        return;
    for (int i = 0; i < e->cat->nqueries; i++) {
        if (e->qs[i].q->window.kind == WEIR_WINDOW_SESSION)
            weir_sessions_free(&e->qs[i].sessions);
        else
            weir_groups_free(e->qs[i].groups);
        if (e->qs[i].window)
            weir_accs_free(e->qs[i].q, e->qs[i].window);
        free(e->qs[i].window);
        free(e->qs[i].panes);
        free(e->qs[i].part_wm);
        weir_join_free(e->qs[i].join);
        weir_table_join_free(e->qs[i].table_join);
        weir_tables_join_free(e->qs[i].tables_join);
        weir_temporal_join_free(e->qs[i].temporal);
        weir_expiry_free(e->qs[i].expiry);
        engine_store_free(&e->qs[i]);
    }
    free(e->qs);
    free(e->dead);
    repart_free(e->repart);
    weir_arena_free(&e->scratch);
    weir_buf_free(&e->json);
    weir_decode_memo_free(&e->decode);
    free(e);
}

static int process(weir_engine *e, const weir_relation *rel, uint32_t part, const weir_value *row, int64_t ts,
                   const char *raw, size_t raw_len, const weir_emit_target *t, weir_err *err);

int engine_dead(weir_engine *e, weir_dead_reason kind, const weir_relation *src, const weir_value *row,
                const char *raw, size_t len, int64_t ts, const weir_emit_target *t, weir_err *err, const char *fmt, ...)
{
    if (e->opt.others_record_letters && weir_dead_of_record(kind))
        return WEIR_OK;
    int i = weir_catalog_index(e->cat, src);
    if (i >= 0)
        e->dead[i][kind]++;
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    if (!raw) { /* a row made in memory: its JSON is the record */
        e->json.len = 0;
        if (weir_encode_json(&src->schema, row, &e->json))
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        raw = (const char *)e->json.data;
        len = e->json.len;
    }
    if (t->dead && t->dead(t->ctx, src, kind, reason, raw, len, ts))
        return weir_err_set(err, WEIR_EIO, "dead-letter delivery for %s failed", src->name);
    return WEIR_OK;
}

/* Emits a row of q's output relation, and feeds it on when chaining
 * (chained rows keep the partition of the record that caused them). */
static int emit(weir_engine *e, query_state *s, const weir_value *row, int64_t ts, const weir_emit_target *t,
                weir_err *err)
{
    const weir_relation *r = s->q->output;
    s->stats.rows_out++;
    if (t->row && t->row(t->ctx, r, row, ts))
        return weir_err_set(err, WEIR_EIO, "delivering a row of %s failed", r->name);
    if (!e->opt.chain)
        return WEIR_OK;
    int64_t out_ts = r->ts_col >= 0 && !row[r->ts_col].is_null ? row[r->ts_col].i : ts;
    return process(e, r, e->part, row, out_ts, NULL, 0, t, err);
}

const char *engine_error_reason(const weir_eval *ev, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s at line %u:%u", weir_value_error_name(ev->err), ev->err_pos.line, ev->err_pos.col);
    return buf;
}

/* Which sides of s's table-table join table is (1 the left, 2 the right,
 * 3 both: a table joined with itself), or 0. */
static unsigned tables_join_sides(const query_state *s, const weir_relation *table)
{
    if (!s->tables_join)
        return 0;
    return (s->q->source == table ? 1u : 0u) | (s->q->join->right == table ? 2u : 0u);
}

/* The row of table `table` whose primary-key columns key holds has left
 * it: the joins whose table side it is drop their copy. */
static int table_removed(weir_engine *e, const weir_relation *table, uint32_t part, const weir_value *key, int64_t ts,
                         const weir_emit_target *t, weir_err *err)
{
    int rc = WEIR_OK;
    for (int i = 0; i < e->cat->nqueries && rc == WEIR_OK; i++) {
        query_state *s = &e->qs[i];
        unsigned sides = tables_join_sides(s, table);
        if (sides) {
            rc = engine_tables_join_row(e, s, sides, NULL, key, ts, t, err);
        } else if ((s->table_join || s->temporal) && s->q->join->right == table) {
            rc = engine_table_join_row(e, s, table, part % s->nparts, NULL, key, ts, NULL, 0, t, err);
        }
    }
    return rc;
}

/* Says that the row of table q->output named by the grouped row g has
 * left it: its primary-key columns (group keys, window start: they
 * always evaluate), the others NULL; when chaining, to the joins that
 * read the table too. */
static int remove_row(weir_engine *e, query_state *s, const weir_value *g, int64_t ts, const weir_emit_target *t,
                      weir_err *err)
{
    const weir_relation *r = s->q->output;
    if (!r->is_table || !t->removed)
        return WEIR_OK;
    weir_value *key = weir_arena_alloc(&e->scratch, (size_t)r->schema.ncols * sizeof *key);
    if (!key)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    for (int i = 0; i < r->schema.ncols; i++)
        key[i] = weir_null(r->schema.cols[i].type);
    weir_eval ev = {.arena = &e->scratch, .row = g};
    for (int i = 0; i < r->npk; i++)
        key[r->pk[i]] = weir_eval_expr(&ev, s->q->out[r->pk[i]]);
    return engine_remove_row(e, s, key, ts, t, err);
}

int engine_remove_row(weir_engine *e, query_state *s, const weir_value *key, int64_t ts, const weir_emit_target *t,
                      weir_err *err)
{
    const weir_relation *r = s->q->output;
    s->stats.rows_out++; /* a removal is an output record too */
    if (t->removed(t->ctx, r, key, ts))
        return weir_err_set(err, WEIR_EIO, "removing a row of %s failed", r->name);
    return e->opt.chain ? table_removed(e, r, e->part, key, ts, t, err) : WEIR_OK;
}

/* The grouped row [keys][aggregates][window_start, window_end, window_time]
 * of a group (accs NULL: its aggregates NULL), in the scratch arena;
 * window_time is Flink's: the window's last millisecond. */
static weir_value *grouped(weir_engine *e, const weir_query *q, const weir_value *keys, const weir_acc *accs,
                           int64_t ws, int64_t we)
{
    weir_value *g = weir_arena_alloc(&e->scratch, (size_t)(q->nkeys + q->naggs + 3) * sizeof *g);
    if (!g)
        return NULL;
    memcpy(g, keys, (size_t)q->nkeys * sizeof *g);
    for (int i = 0; i < q->naggs; i++)
        g[q->nkeys + i] = accs ? weir_acc_result(q, accs, i) : weir_null(q->aggs[i].type);
    bool windowed = q->window.kind != WEIR_WINDOW_NONE;
    g[q->nkeys + q->naggs] = windowed ? weir_timestamp(ws) : weir_null(WEIR_TYPE_TIMESTAMP);
    g[q->nkeys + q->naggs + 1] = windowed ? weir_timestamp(we) : weir_null(WEIR_TYPE_TIMESTAMP);
    g[q->nkeys + q->naggs + 2] = windowed ? weir_timestamp(we - 1) : weir_null(WEIR_TYPE_TIMESTAMP);
    return g;
}

/* Whether q's row of a group as it stands was shown (accs NULL: there was
 * none): HAVING, if any, holds over it. Worth asking only where a removal
 * can follow (tracks_shown, window_expiry.h). */
static bool shown(weir_engine *e, const weir_query *q, const weir_value *keys, const weir_acc *accs, int64_t ws,
                  int64_t we)
{
    if (!accs || !q->having)
        return accs != NULL;
    weir_value *g = grouped(e, q, keys, accs, ws, we);
    weir_eval ev = {.arena = &e->scratch, .row = g};
    return g && weir_eval_predicate(&ev, q->having) && !ev.err; /* an error dead-lettered the row */
}

/* Whether an update can remove a row (HAVING on an EMIT CHANGES table),
 * so its group's row before the update matters. */
static bool tracks_shown(const weir_query *q, const weir_emit_target *t)
{
    return q->having && q->emit == WEIR_EMIT_CHANGES && q->output->is_table && t->removed;
}

/* Builds and emits the output row of a group: [keys][aggregates][window]
 * -> SELECT list; one that fails HAVING, when EMIT CHANGES had shown it
 * (was_shown), leaves the table. */
static int emit_group(weir_engine *e, query_state *s, const weir_value *keys, const weir_acc *accs,
                      int64_t ws, int64_t we, int64_t ts, bool was_shown, const weir_emit_target *t, weir_err *err)
{
    const weir_query *q = s->q;
    weir_value *g = grouped(e, q, keys, accs, ws, we);
    weir_value *out = weir_arena_alloc(&e->scratch, (size_t)q->output->schema.ncols * sizeof *out);
    if (!g || !out)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    weir_eval ev = {.arena = &e->scratch, .row = g};
    /* A HAVING that fails to evaluate is the row's error (below), not a removal. */
    if (q->having && !weir_eval_predicate(&ev, q->having) && !ev.err)
        return was_shown && q->emit == WEIR_EMIT_CHANGES ? remove_row(e, s, g, ts, t, err) : WEIR_OK;
    for (int i = 0; i < q->output->schema.ncols; i++)
        out[i] = weir_eval_expr(&ev, q->out[i]);
    if (ev.err) { /* an expression over aggregates failed: the row is not emitted, and counted */
        s->stats.dead++;
        /* It goes to the dead letters of the stream the query reads (every
         * source has them), as the output row it would have been. */
        e->json.len = 0;
        if (weir_encode_json(&q->output->schema, out, &e->json))
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        char why[160];
        return engine_dead(e, WEIR_DEAD_EXPRESSION, q->source, NULL, (const char *)e->json.data, e->json.len, ts, t, err,
                    "row of %s: %s", q->output->name, engine_error_reason(&ev, why, sizeof why));
    }
    return emit(e, s, out, ts, t, err);
}

/* Merges the panes of the hop or cumulate window [ws, we) for keys (kh:
 * their weir_groups_key_hash) into s->window, which keeps its memory from
 * window to window: how many there were, or -1 out of memory. */
static int merge_window(query_state *s, const weir_value *keys, uint64_t kh, int64_t ws, int64_t we)
{
    const weir_query *q = s->q;
    int n = 0;
    for (int64_t p = ws; p < we; p += q->window.slide_ms) {
        weir_acc *pane = weir_groups_find_hashed(s->groups, kh, keys, p);
        if (pane)
            s->panes[n++] = pane;
    }
    if (weir_accs_reuse(q, s->window, s->panes, n))
        return -1;
    for (int i = 0; i < n; i++) {
        int which;
        if (weir_accs_merge(q, s->window, s->panes[i], &which))
            return -1;
    }
    return n;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* CUMULATE: the start its windows over pane `slot` share. */
static int64_t cumulate_start(const weir_window_spec *w, int64_t slot)
{
    return floor_div(slot, w->size_ms) * w->size_ms;
}

/* The windows over pane (or TUMBLE window) `slot`: how many, and the
 * i-th's bounds, earliest end first. HOP: [ws, ws + size) for ws in
 * (slot - size, slot]; CUMULATE: [start, we) for we in (slot, start + size]. */
static int pane_windows(const weir_window_spec *w, int64_t slot)
{
    if (w->cumulate)
        return (int)((cumulate_start(w, slot) + w->size_ms - slot) / w->slide_ms);
    return (int)(w->size_ms / w->slide_ms);
}

static void pane_window(const weir_window_spec *w, int64_t slot, int i, int64_t *ws, int64_t *we)
{
    if (w->cumulate) {
        *ws = cumulate_start(w, slot);
        *we = slot + (int64_t)(i + 1) * w->slide_ms;
    } else {
        *ws = slot - w->size_ms + (int64_t)(i + 1) * w->slide_ms;
        *we = *ws + w->size_ms;
    }
}

/* Whether the window [ws, we) has closed: by the query's closing (for
 * CUMULATE closed_upto is the last closed window's end, for the others its
 * start) or by partition part's own watermark. */
static bool window_closed(const query_state *s, uint32_t part, int64_t ws, int64_t we)
{
    const weir_window_spec *w = &s->q->window;
    return (w->cumulate ? we : ws) <= s->closed_upto || we + w->grace_ms <= s->part_wm[part];
}

/* The least partition watermark: what closes windows. */
static int64_t min_watermark(const query_state *s)
{
    int64_t m = INT64_MAX;
    for (uint32_t p = 0; p < s->nparts; p++)
        if (s->part_wm[p] < m)
            m = s->part_wm[p];
    return m;
}

static const char *agg_label(const weir_query *q, int which, char *buf, size_t cap)
{
    static const char *const fn_names[] = {"count", "count_if", "sum", "min", "max", "avg", "count distinct",
                                           "approx_count_distinct", "topk", "latest_by_offset", "earliest_by_offset"};
    const weir_expr *arg = q->aggs[which].arg;
    snprintf(buf, cap, "%s(%s)", fn_names[q->aggs[which].fn], arg && arg->kind == WEIR_E_COLUMN ? arg->col.name : "...");
    return buf;
}

static int late(weir_engine *e, query_state *s, int64_t wm, const weir_value *row, int64_t ts, const char *raw,
                size_t raw_len, const weir_emit_target *t, weir_err *err)
{
    s->stats.late++;
    s->stats.dead++;
    char ts_text[40], wm_text[40];
    weir_timestamp_format(ts, ts_text, sizeof ts_text);
    weir_timestamp_format(wm > s->watermark ? wm : s->watermark, wm_text, sizeof wm_text);
    return engine_dead(e, WEIR_DEAD_LATE, s->q->source, row, raw, raw_len, ts, t, err,
                "too late for %s: event time %s, its windows closed (watermark %s, grace %lld ms)", s->q->output->name,
                ts_text, wm_text, (long long)s->q->window.grace_ms);
}

/* Emits (EMIT FINAL) and evicts the windows the watermark has closed. */
static int close_windows(weir_engine *e, query_state *s, const weir_emit_target *t, weir_err *err);
/* The rows of the windows the table's retention has left behind leave it. */
static int expire_windows(weir_engine *e, query_state *s, const weir_emit_target *t, weir_err *err);
/* The watermark at which the next listed row ages: its window's end plus the retention (INT64_MAX: none). */
static int64_t expiry_due(const query_state *s);

/* Moves partition part's watermark up to ts; when that raises the least
 * of them, the windows it passed close. */
static int advance_partition(weir_engine *e, query_state *s, uint32_t part, int64_t ts, const weir_emit_target *t,
                             weir_err *err)
{
    if (ts <= s->part_wm[part])
        return WEIR_OK;
    s->part_wm[part] = ts;
    int64_t m = min_watermark(s);
    if (m <= s->watermark)
        return WEIR_OK;
    /* Windows close and age in the order of the watermarks that close and age them (a close first where
     * they are the same), whatever steps the watermark takes to m: one engine over every partition, whose
     * least watermark may jump, and an engine per partition (serve --threads) give the same sequence. The
     * end of input (partitions raised to INT64_MAX one by one) closes windows but ages none. */
    bool age = s->expiry && ts != INT64_MAX && m != INT64_MAX;
    int rc = WEIR_OK;
    for (int64_t aged; rc == WEIR_OK && age && (aged = expiry_due(s)) <= m;) {
        if (aged > s->watermark)
            s->watermark = aged;
        if ((rc = close_windows(e, s, t, err)) == WEIR_OK)
            rc = expire_windows(e, s, t, err);
    }
    s->watermark = m;
    if (rc == WEIR_OK)
        rc = close_windows(e, s, t, err);
    return rc || !age ? rc : expire_windows(e, s, t, err);
}

/* A record of a SESSION query: join (and maybe merge) its key's sessions. */
static int session_row(weir_engine *e, query_state *s, uint32_t part, const weir_value *keys, const weir_value *args,
                       const weir_value *row, int64_t ts, const char *raw, size_t raw_len, const weir_emit_target *t,
                       weir_err *err)
{
    const weir_query *q = s->q;
    const weir_window_spec *w = &q->window;
    if (ts + w->gap_ms + w->grace_ms <= s->part_wm[part])
        return late(e, s, s->part_wm[part], row, ts, raw, raw_len, t, err);
    weir_acc *accs;
    int64_t start, last, merged[WEIR_SESSIONS_TOUCH_MAX];
    int nmerged, which, rc = weir_sessions_add(&s->sessions, keys, ts, args, s->stats.rows_in, &accs, &start, &last,
                                               merged, &nmerged, &which);
    if (rc < 0)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory for the state of %s", q->output->name);
    if (rc > 0) {
        s->stats.dead++;
        char label[128];
        return engine_dead(e, WEIR_DEAD_EXPRESSION, q->source, row, raw, raw_len, ts, t, err, "%s in %s of %s", weir_value_error_name(rc),
                    agg_label(q, which, label, sizeof label), q->output->name);
    }
    if (last + w->gap_ms + w->grace_ms < s->next_close)
        s->next_close = last + w->gap_ms + w->grace_ms;
    /* EMIT CHANGES showed the sessions merged away as rows of their own: they leave the table. */
    for (int i = 0; i < nmerged && q->emit == WEIR_EMIT_CHANGES && rc == WEIR_OK; i++) {
        const weir_value *g = grouped(e, q, keys, NULL, merged[i], merged[i]);
        rc = g ? remove_row(e, s, g, ts, t, err) : weir_err_set(err, WEIR_ENOMEM, "out of memory");
    }
    /* Whether the session was shown before this record is not kept: a
     * failing HAVING removes it whether or not it was (as ksqlDB does). */
    if (rc == WEIR_OK && q->emit == WEIR_EMIT_CHANGES)
        rc = emit_group(e, s, keys, accs, start, last + w->gap_ms, ts, true, t, err);
    if (rc)
        return rc;
    return advance_partition(e, s, part, ts, t, err);
}

static int grouped_row(weir_engine *e, query_state *s, uint32_t part, const weir_value *row, int64_t ts,
                       const char *raw, size_t raw_len, const weir_emit_target *t, weir_err *err)
{
    const weir_query *q = s->q;
    const weir_relation *src = q->source;
    weir_eval ev = {.arena = &e->scratch, .row = row};
    weir_value stack[32]; /* keys and aggregate arguments, on the stack when they fit */
    size_t n = (size_t)(q->nkeys + q->naggs + 1);
    weir_value *keys = n <= 32 ? stack : weir_arena_alloc(&e->scratch, n * sizeof *keys);
    if (!keys)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    weir_value *args = keys + q->nkeys;
    for (int i = 0; i < q->nkeys; i++)
        keys[i] = weir_eval_expr(&ev, q->keys[i]);
    for (int i = 0; i < q->naggs; i++)
        args[i] = q->aggs[i].arg ? weir_eval_expr(&ev, q->aggs[i].arg) : weir_bool(true);
    char why[160];
    if (ev.err) {
        s->stats.dead++;
        return engine_dead(e, WEIR_DEAD_EXPRESSION, src, row, raw, raw_len, ts, t, err, "%s", engine_error_reason(&ev, why, sizeof why));
    }
    const weir_window_spec *w = &q->window;
    if (w->kind == WEIR_WINDOW_SESSION)
        return session_row(e, s, part, keys, args, row, ts, raw, raw_len, t, err);
    int64_t slot = 0;
    bool paned = w->kind == WEIR_WINDOW_HOP; /* CUMULATE too */
    int nwin = 0;
    if (w->kind != WEIR_WINDOW_NONE) {
        slot = floor_div(ts, w->slide_ms) * w->slide_ms;           /* window (TUMBLE) or pane (HOP, CUMULATE) start */
        /* Lateness is judged by the record's own partition, so it does not depend on
         * how partitions interleave: replays and restarts decide alike. Late: the
         * last window over its pane has closed. */
        int64_t wm = s->part_wm[part], ws, we;
        nwin = pane_windows(w, slot);
        pane_window(w, slot, nwin - 1, &ws, &we);
        if (window_closed(s, part, ws, we))
            return late(e, s, wm, row, ts, raw, raw_len, t, err);
    }
    /* The rows this record updates, as they were: one per window over its pane. */
    bool track = tracks_shown(q, t), was_shown = false, *pane_shown = NULL;
    /* for merge_window: only EMIT CHANGES merges a record's windows (and only it tracks shown rows) */
    uint64_t kh = paned && q->emit == WEIR_EMIT_CHANGES ? weir_groups_key_hash(s->groups, keys) : 0;
    if (track && paned) {
        if (!(pane_shown = weir_arena_alloc(&e->scratch, (size_t)nwin * sizeof *pane_shown)))
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        for (int i = 0; i < nwin; i++) {
            int64_t ws, we;
            pane_window(w, slot, i, &ws, &we);
            int panes = merge_window(s, keys, kh, ws, we);
            if (panes < 0)
                return weir_err_set(err, WEIR_ENOMEM, "out of memory");
            pane_shown[i] = panes && shown(e, q, keys, s->window, ws, we);
        }
    }
    /* A group the upsert makes anew (not one it loads from the store, lazily after a restart) had no row. */
    size_t had = weir_groups_count(s->groups);
    uint64_t unloaded = s->unloaded;
    weir_acc *accs = weir_groups_upsert(s->groups, keys, slot);
    if (!accs)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory for the state of %s", q->output->name);
    bool made = weir_groups_count(s->groups) > had && s->unloaded == unloaded;
    if (track && !paned)
        was_shown = !made && shown(e, q, keys, accs, slot, slot + w->size_ms);
    int which, rc = weir_accs_add(q, accs, args, s->stats.rows_in, &which);
    if (rc < 0)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory for the state of %s", q->output->name);
    if (rc > 0) {
        s->stats.dead++;
        char label[128];
        return engine_dead(e, WEIR_DEAD_EXPRESSION, src, row, raw, raw_len, ts, t, err, "%s in %s of %s", weir_value_error_name(rc),
                    agg_label(q, which, label, sizeof label), q->output->name);
    }
    /* SELECT DISTINCT: a row for a tuple's first record only (hopping windows emit FINAL there, the planner says). */
    if (q->emit == WEIR_EMIT_CHANGES && (made || !q->distinct)) {
        if (paned) {
            for (int i = 0; i < nwin; i++) {
                int64_t ws, we;
                pane_window(w, slot, i, &ws, &we);
                if (window_closed(s, part, ws, we))
                    continue; /* closed: its result is final */
                if (merge_window(s, keys, kh, ws, we) < 0)
                    return weir_err_set(err, WEIR_ENOMEM, "out of memory");
                bool was = pane_shown && pane_shown[i];
                int r = emit_group(e, s, keys, s->window, ws, we, ts, was, t, err);
                if (r)
                    return r;
            }
        } else {
            int r = emit_group(e, s, keys, accs, slot, slot + w->size_ms, ts, was_shown, t, err);
            if (r)
                return r;
        }
    }
    return w->kind == WEIR_WINDOW_NONE ? WEIR_OK : advance_partition(e, s, part, ts, t, err);
}

typedef struct closing {
    const weir_value *keys;
    uint64_t kh;               /* the keys' weir_groups_key_hash */
    int64_t ws;
    int64_t we;                /* CUMULATE: the window's end (its windows share starts) */
} closing;

/* Appends x to *c (n of *cap): -1 when out of memory. */
static int add_closing(closing **c, size_t *cap, size_t *n, closing x)
{
    if (*n == *cap) {
        closing *more = weir_array_grow(*c, cap, sizeof **c, 256);
        if (!more)
            return -1;
        *c = more;
    }
    (*c)[(*n)++] = x;
    return 0;
}

/* Window then key order: by start, or for CUMULATE by end. */
static int cmp_closing(const void *pa, const void *pb, void *ctx)
{
    const closing *a = pa, *b = pb;
    const weir_query *sort_query = ctx;
    int64_t x = sort_query->window.cumulate ? a->we : a->ws;
    int64_t y = sort_query->window.cumulate ? b->we : b->ws;
    if (x != y)
        return x < y ? -1 : 1;
    for (int i = 0; i < sort_query->nkeys; i++) {
        int c = weir_value_cmp_inline(&a->keys[i], &b->keys[i]);
        if (c)
            return c;
    }
    return 0;
}

/* The row a closing window [ws, we) of keys leaves in the table (accs: its
 * aggregates): emitted now (EMIT FINAL; EMIT CHANGES showed it as it
 * changed); and if the table ages its windows and HAVING lets the row
 * show, listed to leave once the retention has passed its end. */
static int closed_row(weir_engine *e, query_state *s, const weir_value *keys, const weir_acc *accs, int64_t ws,
                      int64_t we, const weir_emit_target *t, weir_err *err)
{
    int rc = s->q->emit == WEIR_EMIT_FINAL ? emit_group(e, s, keys, accs, ws, we, we, false, t, err) : WEIR_OK;
    if (rc == WEIR_OK && s->expiry && shown(e, s->q, keys, accs, ws, we) && weir_expiry_add(s->expiry, keys, ws, we))
        rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
    return rc;
}

typedef struct expiring {
    weir_engine *e;
    query_state *s;
    const weir_emit_target *t;
    weir_err *err;
} expiring;

static int64_t expiry_due(const query_state *s)
{
    int64_t due, first = engine_expiry_first_end(s);
    return first == INT64_MAX || __builtin_add_overflow(first, s->retention_ms, &due) ? INT64_MAX : due;
}

/* A row's removal bears the time it aged at (its window's end plus the
 * retention), not the watermark's, which depends on the steps it took. */
static int expire_row(void *ctx, const weir_value *keys, int64_t ws, int64_t we)
{
    expiring *x = ctx;
    int64_t aged;
    weir_value *g = grouped(x->e, x->s->q, keys, NULL, ws, we);
    if (!g)
        return weir_err_set(x->err, WEIR_ENOMEM, "out of memory");
    if (__builtin_add_overflow(we, x->s->retention_ms, &aged))
        aged = INT64_MAX;
    return remove_row(x->e, x->s, g, aged, x->t, x->err);
}

/* A window ages by the least watermark, as it closes by it: the same rows
 * leave at the same point of the input however it is replayed. */
static int expire_windows(weir_engine *e, query_state *s, const weir_emit_target *t, weir_err *err)
{
    int64_t upto;
    if (!s->expiry || s->watermark == INT64_MAX || __builtin_sub_overflow(s->watermark, s->retention_ms, &upto) ||
        engine_expiry_first_end(s) > upto)
        return WEIR_OK;
    expiring x = {e, s, t, err};
    return engine_expiry_take(s, upto, expire_row, &x, err);
}

/* Emits (EMIT FINAL) and forgets the sessions whose end + grace the watermark passed. */
static int close_sessions(weir_engine *e, query_state *s, const weir_emit_target *t, weir_err *err)
{
    const weir_query *q = s->q;
    const weir_window_spec *w = &q->window;
    if (s->watermark < s->next_close)
        return WEIR_OK;
    size_t cap = weir_groups_count(s->groups) + 1, n = 0, pos = 0;
    closing *c = malloc(cap * sizeof *c);
    if (!c)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    const weir_value *keys;
    int64_t start;
    weir_acc *accs;
    s->next_close = INT64_MAX;
    while (weir_groups_next(s->groups, &pos, &keys, &start, &accs)) {
        int64_t end = weir_session_last(&s->sessions, accs) + w->gap_ms;
        if (s->watermark == INT64_MAX || end + w->grace_ms <= s->watermark)
            c[n++] = (closing){keys, 0, start, 0};
        else if (end + w->grace_ms < s->next_close)
            s->next_close = end + w->grace_ms;
    }
    qsort_r(c, n, sizeof *c, cmp_closing, (void *)q);
    int rc = WEIR_OK;
    for (size_t i = 0; i < n && rc == WEIR_OK && (q->emit == WEIR_EMIT_FINAL || s->expiry); i++) {
        weir_acc *a = weir_groups_find(s->groups, c[i].keys, c[i].ws);
        int64_t end = weir_session_last(&s->sessions, a) + w->gap_ms;
        rc = closed_row(e, s, c[i].keys, a, c[i].ws, end, t, err);
    }
    /* Keys point into entries that removal moves: copy them before forgetting. */
    for (size_t i = n; i-- > 0 && rc == WEIR_OK;) {
        weir_value *k = weir_arena_alloc(&e->scratch, (size_t)(q->nkeys + 1) * sizeof *k);
        if (!k) {
            rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
            break;
        }
        memcpy(k, c[i].keys, (size_t)q->nkeys * sizeof *k);
        c[i].keys = k;
    }
    for (size_t i = 0; i < n && rc == WEIR_OK; i++)
        weir_sessions_remove(&s->sessions, c[i].keys, c[i].ws);
    free(c);
    return rc;
}

/* CUMULATE: emits (EMIT FINAL) the windows whose end + grace the
 * watermark passed, in end then key order, and evicts the panes whose
 * largest window closed. */
static int close_cumulate(weir_engine *e, query_state *s, const weir_emit_target *t, weir_err *err)
{
    const weir_query *q = s->q;
    const weir_window_spec *w = &q->window;
    if (s->watermark < s->next_close)
        return WEIR_OK;
    /* Windows whose end + grace <= watermark are closed: those ending at or before `last`. */
    int64_t limit = INT64_MAX, last = INT64_MAX; /* saturating, as close_windows */
    if (s->watermark != INT64_MAX && __builtin_sub_overflow(s->watermark, w->grace_ms, &limit))
        limit = INT64_MIN;
    if (limit != INT64_MAX)
        last = limit < INT64_MIN + w->slide_ms ? INT64_MIN : floor_div(limit, w->slide_ms) * w->slide_ms;
    if (last == INT64_MAX || __builtin_add_overflow(last, w->slide_ms + w->grace_ms, &s->next_close))
        s->next_close = INT64_MAX;
    if (last <= s->closed_upto)
        return WEIR_OK;
    if (q->emit == WEIR_EMIT_FINAL || s->expiry) {
        closing *c = NULL;
        size_t cap = 0, n = 0;
        weir_groups_walk walk = {0};
        const weir_value *keys;
        int64_t slot;
        /* Only panes before `last` have a window ending by it; those of closed
         * periods are evicted. */
        uint64_t kh;
        while (weir_groups_next_window(s->groups, &walk, INT64_MIN, last, &keys, &kh, &slot)) {
            /* The windows of these keys from this start are listed from their earliest pane holding data. */
            int64_t start = cumulate_start(w, slot);
            bool earliest = true;
            for (int64_t p = start; p < slot && earliest; p += w->slide_ms)
                earliest = !weir_groups_find_hashed(s->groups, kh, keys, p);
            for (int i = 0, nwin = pane_windows(w, slot); earliest && i < nwin; i++) {
                int64_t ws, we;
                pane_window(w, slot, i, &ws, &we);
                if (we > s->closed_upto && we <= last && add_closing(&c, &cap, &n, (closing){keys, kh, ws, we})) {
                    free(c);
                    return weir_err_set(err, WEIR_ENOMEM, "out of memory");
                }
            }
        }
        if (n) /* c is NULL without any */
            qsort_r(c, n, sizeof *c, cmp_closing, (void *)q);
        int rc = WEIR_OK;
        for (size_t i = 0; i < n && rc == WEIR_OK; i++) {
            int r = merge_window(s, c[i].keys, c[i].kh, c[i].ws, c[i].we);
            rc = r < 0 ? weir_err_set(err, WEIR_ENOMEM, "out of memory")
                       : closed_row(e, s, c[i].keys, s->window, c[i].ws, c[i].we, t, err);
        }
        free(c);
        if (rc)
            return rc;
    }
    s->closed_upto = last;
    /* A pane's largest window ends at its start's next multiple of size. */
    weir_groups_evict(s->groups, last == INT64_MAX ? INT64_MAX : floor_div(last, w->size_ms) * w->size_ms);
    return WEIR_OK;
}

static int close_windows(weir_engine *e, query_state *s, const weir_emit_target *t, weir_err *err)
{
    const weir_query *q = s->q;
    if (q->window.kind == WEIR_WINDOW_SESSION)
        return close_sessions(e, s, t, err);
    if (q->window.cumulate)
        return close_cumulate(e, s, t, err);
    const weir_window_spec *w = &q->window;
    if (s->watermark < s->next_close)
        return WEIR_OK; /* the next window to close has not ended yet: the common case, per record */
    /* Windows whose end + grace <= watermark are closed: those starting at or before `last`. */
    int64_t limit = INT64_MAX, last = INT64_MAX; /* saturating: event times may be anywhere in int64 */
    if (s->watermark != INT64_MAX && __builtin_sub_overflow(s->watermark, w->size_ms + w->grace_ms, &limit))
        limit = INT64_MIN;
    if (limit != INT64_MAX)
        last = limit < INT64_MIN + w->slide_ms ? INT64_MIN : floor_div(limit, w->slide_ms) * w->slide_ms;
    if (last == INT64_MAX || __builtin_add_overflow(last, w->slide_ms + w->size_ms + w->grace_ms, &s->next_close))
        s->next_close = INT64_MAX;
    if (last <= s->closed_upto)
        return WEIR_OK;
    if (q->emit == WEIR_EMIT_FINAL || s->expiry) {
        /* The (key, window) pairs closing: every window starting in (closed_upto, last] holding data. */
        closing *c = NULL;
        size_t cap = 0, n = 0;
        weir_groups_walk walk = {0};
        const weir_value *keys;
        int64_t slot, hi; /* the panes of those windows: the last's end at most, the closed ones evicted */
        uint64_t kh;
        if (__builtin_add_overflow(last, w->size_ms - w->slide_ms, &hi))
            hi = INT64_MAX;
        while (weir_groups_next_window(s->groups, &walk, INT64_MIN, hi, &keys, &kh, &slot)) {
            /* The windows holding this pane start in (slot - size, slot]; each closing one is
             * listed once, from the earliest of its panes that holds data for these keys. */
            for (int64_t ws = slot - w->size_ms + w->slide_ms; ws <= slot; ws += w->slide_ms) {
                if (ws > last || ws <= s->closed_upto)
                    continue;
                bool earliest = true;
                for (int64_t p = ws; p < slot && earliest; p += w->slide_ms)
                    earliest = !weir_groups_find_hashed(s->groups, kh, keys, p);
                if (earliest && add_closing(&c, &cap, &n, (closing){keys, kh, ws, ws + w->size_ms})) {
                    free(c);
                    return weir_err_set(err, WEIR_ENOMEM, "out of memory");
                }
            }
        }
        if (n) /* c is NULL without any */
            qsort_r(c, n, sizeof *c, cmp_closing, (void *)q);
        int rc = WEIR_OK;
        for (size_t i = 0; i < n && rc == WEIR_OK; i++) {
            if (w->kind == WEIR_WINDOW_TUMBLE) {
                rc = closed_row(e, s, c[i].keys, weir_groups_find_hashed(s->groups, c[i].kh, c[i].keys, c[i].ws), c[i].ws,
                                c[i].ws + w->size_ms, t, err);
            } else {
                int r = merge_window(s, c[i].keys, c[i].kh, c[i].ws, c[i].we);
                rc = r < 0 ? weir_err_set(err, WEIR_ENOMEM, "out of memory")
                           : closed_row(e, s, c[i].keys, s->window, c[i].ws, c[i].ws + w->size_ms, t, err);
            }
        }
        free(c);
        if (rc)
            return rc;
    }
    s->closed_upto = last;
    /* Pane p is held by the windows starting in (p - size, p]: all closed once p <= last. */
    weir_groups_evict(s->groups, last == INT64_MAX ? INT64_MAX : last + 1);
    return WEIR_OK;
}

int engine_project(weir_engine *e, query_state *s, const weir_value *row, int64_t ts, weir_eval *ev,
                   const weir_relation *src, const weir_value *cause, const char *raw, size_t raw_len,
                   const weir_emit_target *t, weir_err *err)
{
    const weir_query *q = s->q;
    int n = q->output->schema.ncols;
    weir_value *out = weir_arena_alloc(&e->scratch, (size_t)n * sizeof *out);
    if (!out)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    ev->row = row;
    for (int i = 0; i < n; i++)
        out[i] = weir_eval_expr(ev, q->out[i]);
    if (ev->err) {
        s->stats.dead++;
        int bad = 0;
        while (bad < n - 1 && !out[bad].err)
            bad++;
        char why[160];
        return engine_dead(e, WEIR_DEAD_EXPRESSION, src, cause, raw, raw_len, ts, t, err, "column %s of %s: %s",
                    q->output->schema.cols[bad].name, q->output->name, engine_error_reason(ev, why, sizeof why));
    }
    return emit(e, s, out, ts, t, err);
}

static int run_query(weir_engine *e, query_state *s, uint32_t part, const weir_value *row, int64_t ts,
                     const char *raw, size_t raw_len, const weir_emit_target *t, weir_err *err)
{
    const weir_query *q = s->q;
    s->stats.rows_in++;
    weir_eval ev = {.arena = &e->scratch, .row = row};
    if (q->where && !weir_eval_predicate(&ev, q->where)) {
        if (!ev.err)
            return WEIR_OK;
        s->stats.dead++;
        char why[160];
        return engine_dead(e, WEIR_DEAD_EXPRESSION, q->source, row, raw, raw_len, ts, t, err, "WHERE of %s: %s", q->output->name,
                    engine_error_reason(&ev, why, sizeof why));
    }
    if (q->grouped)
        return grouped_row(e, s, part % s->nparts, row, ts, raw, raw_len, t, err);
    return engine_project(e, s, row, ts, &ev, q->source, row, raw, raw_len, t, err);
}

static int process(weir_engine *e, const weir_relation *rel, uint32_t part, const weir_value *row, int64_t ts,
                   const char *raw, size_t raw_len, const weir_emit_target *t, weir_err *err)
{
    /* A source table's record is its key's new row. */
    if (rel->is_table && rel->is_source && t->row && t->row(t->ctx, rel, row, ts))
        return weir_err_set(err, WEIR_EIO, "delivering a row of %s failed", rel->name);
    for (int i = 0; i < e->cat->nqueries; i++) {
        query_state *s = &e->qs[i];
        int rc = WEIR_OK;
        if (e->opt.runs && !e->opt.runs[i]) /* another engine's */
            continue;
        if (s->join) { /* a stream joined with itself takes each record on both sides */
            if (s->q->source == rel)
                rc = engine_join_row(e, s, 0, part % s->nparts, row, ts, raw, raw_len, t, err);
            if (rc == WEIR_OK && s->q->join->right == rel)
                rc = engine_join_row(e, s, 1, part % s->nparts, row, ts, raw, raw_len, t, err);
            if (rc)
                return rc;
            continue;
        }
        if (s->tables_join) {
            unsigned sides = tables_join_sides(s, rel);
            if (sides && (rc = engine_tables_join_row(e, s, sides, row, NULL, ts, t, err)))
                return rc;
            continue;
        }
        if (s->table_join || s->temporal) {
            if ((s->q->source == rel || s->q->join->right == rel) &&
                (rc = engine_table_join_row(e, s, rel, part % s->nparts, row, NULL, ts, raw, raw_len, t, err)))
                return rc;
            continue;
        }
        if (s->q->source != rel)
            continue;
        rc = run_query(e, s, part, row, ts, raw, raw_len, t, err);
        if (rc)
            return rc;
    }
    return WEIR_OK;
}

/* The first of the source's column constraints that the row breaks,
 * described in why: true if there is one. */
static bool broken_constraint(weir_engine *e, const weir_relation *src, const weir_value *row, char *why, size_t cap)
{
    for (int i = 0; i < src->nconstraints; i++) {
        const weir_constraint *c = &src->constraints[i];
        const char *col = src->schema.cols[c->col].name;
        if (c->not_null && row[c->col].is_null) {
            snprintf(why, cap, "column %s is missing or null (NOT NULL)", col);
            return true;
        }
        if (!c->check)
            continue;
        weir_eval ev = {.arena = &e->scratch, .row = row};
        weir_value v = weir_eval_expr(&ev, c->check);
        char reason[160];
        if (ev.err)
            snprintf(why, cap, "column %s: CHECK (%s): %s", col, c->check_text, engine_error_reason(&ev, reason, sizeof reason));
        else if (!v.is_null && !v.b) /* as in SQL, a CHECK that is NULL passes */
            snprintf(why, cap, "column %s breaks CHECK (%s)", col, c->check_text);
        if (ev.err || (!v.is_null && !v.b))
            return true;
    }
    return false;
}

int weir_engine_push_json(weir_engine *e, const weir_relation *src, uint32_t partition, const char *json,
                          size_t len, int64_t ingest_ms, const weir_emit_target *t, weir_err *err)
{
    weir_arena_reset(&e->scratch);
    e->part = partition;
    weir_value *row = weir_arena_alloc(&e->scratch, (size_t)(src->schema.ncols + 1) * sizeof *row);
    if (!row)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    char why[256];
    if (len == 0) /* no JSON text is empty: a record without a value */
        return engine_dead(e, WEIR_DEAD_NULL_VALUE, src, row, "", 0, ingest_ms, t, err, "null value");
    if (weir_decode_json_memo(&e->decode, &src->schema, json, len, &e->scratch, row, why, sizeof why))
        return engine_dead(e, WEIR_DEAD_UNDECODABLE, src, row, json, len, ingest_ms, t, err, "%s", why);
    if (broken_constraint(e, src, row, why, sizeof why))
        return engine_dead(e, WEIR_DEAD_CONSTRAINT, src, row, json, len, ingest_ms, t, err, "%s", why);
    int64_t ts = ingest_ms;
    if (src->ts_col >= 0) {
        if (row[src->ts_col].is_null)
            return engine_dead(e, WEIR_DEAD_NO_TIME, src, row, json, len, ingest_ms, t, err, "event time column %s is missing or null",
                        src->schema.cols[src->ts_col].name);
        ts = row[src->ts_col].i;
    }
    return process(e, src, partition, row, ts, json, len, t, err);
}

int weir_engine_push_tombstone(weir_engine *e, const weir_relation *table, uint32_t partition, const char *key,
                               size_t key_len, int64_t ingest_ms, const weir_emit_target *t, weir_err *err)
{
    weir_arena_reset(&e->scratch);
    e->part = partition; /* chained removals keep the partition of their cause */
    weir_value *row = weir_arena_alloc(&e->scratch, (size_t)(table->schema.ncols + 1) * sizeof *row);
    char why[256];
    if (!row)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    if (weir_decode_table_key(table, key, key_len, &e->scratch, row, why, sizeof why)) {
        for (int i = 0; i < table->schema.ncols; i++)
            row[i] = weir_null(table->schema.cols[i].type);
        return engine_dead(e, WEIR_DEAD_UNDECODABLE, table, row, "", 0, ingest_ms, t, err, "a tombstone's key: %s", why);
    }
    /* a source table's changelog is its input: the removal is the table's news (a derived table's was told) */
    if (table->is_source && t->removed && t->removed(t->ctx, table, row, ingest_ms))
        return weir_err_set(err, WEIR_EIO, "removing a row of %s failed", table->name);
    return table_removed(e, table, partition, row, ingest_ms, t, err);
}

int weir_engine_push_row(weir_engine *e, const weir_relation *src, uint32_t partition, const weir_value *row,
                         int64_t ts, const weir_emit_target *t, weir_err *err)
{
    weir_arena_reset(&e->scratch);
    e->part = partition;
    return process(e, src, partition, row, ts, NULL, 0, t, err);
}

int weir_engine_advance(weir_engine *e, int64_t watermark_ms, const weir_emit_target *t, weir_err *err)
{
    for (int i = 0; i < e->cat->nqueries; i++) {
        for (uint32_t p = 0; p < weir_engine_query_parts(e, i); p++) {
            int rc = weir_engine_raise_watermark(e, i, p, watermark_ms, t, err);
            if (rc)
                return rc;
        }
    }
    return WEIR_OK;
}

int weir_engine_raise_watermark(weir_engine *e, int query, uint32_t partition, int64_t watermark_ms,
                                const weir_emit_target *t, weir_err *err)
{
    query_state *s = &e->qs[query];
    if (partition >= weir_engine_query_parts(e, query))
        return WEIR_OK;
    weir_arena_reset(&e->scratch);
    if (s->join)
        return engine_join_advance(e, s, partition >= s->nparts, partition % s->nparts, watermark_ms, t, err);
    if (s->temporal)
        return engine_temporal_advance(e, s, partition >= s->nparts, partition % s->nparts, watermark_ms, t, err);
    if (s->q->window.kind == WEIR_WINDOW_NONE)
        return WEIR_OK;
    return advance_partition(e, s, partition, watermark_ms, t, err);
}

int64_t weir_engine_watermark(const weir_engine *e, int query, uint32_t partition)
{
    const query_state *s = &e->qs[query];
    if (partition >= weir_engine_query_parts(e, query))
        return INT64_MIN;
    if (s->temporal)
        return weir_temporal_join_watermark(s->temporal, partition >= s->nparts, partition % s->nparts);
    return s->join ? weir_join_watermark(s->join, partition >= s->nparts, partition % s->nparts) : s->part_wm[partition];
}

uint32_t weir_engine_query_parts(const weir_engine *e, int query)
{
    const query_state *s = &e->qs[query];
    return s->join || s->temporal ? 2 * s->nparts : s->nparts;
}

int weir_dead_letter_json(weir_buf *out, const char *reason, const char *raw, size_t len, const uint64_t *pos, int64_t ts)
{
    weir_value t = weir_timestamp(ts);
    return weir_buf_append_str(out, "{\"reason\":") || weir_json_quote(out, reason, strlen(reason)) ||
           weir_buf_append_str(out, ",\"record\":") || (len ? weir_json_quote(out, raw, len) : weir_buf_append_str(out, "null")) ||
           (pos && weir_buf_printf(out, ",\"partition\":%llu,\"offset\":%llu", (unsigned long long)pos[0],
                                   (unsigned long long)pos[1])) ||
           weir_buf_append_str(out, ",\"timestamp\":") || weir_value_to_json(out, &t) || weir_buf_append_str(out, "}");
}

void weir_engine_dead_counts(const weir_engine *e, const weir_relation *src, uint64_t counts[WEIR_DEAD_REASONS])
{
    int i = weir_catalog_index(e->cat, src);
    for (int k = 0; i >= 0 && k < WEIR_DEAD_REASONS; k++)
        counts[k] += e->dead[i][k];
}

const char *weir_dead_reason_name(weir_dead_reason r)
{
    static const char *const names[] = {"undecodable", "constraint", "null_value", "no_event_time", "expression", "too_late"};
    return r < WEIR_DEAD_REASONS ? names[r] : "?";
}

void weir_engine_query_stats(const weir_engine *e, int query, weir_query_stats *out)
{
    const query_state *s = &e->qs[query];
    *out = s->stats;
    if (s->join) {
        out->groups = weir_join_entries(s->join);
        out->state_bytes = weir_join_bytes(s->join);
        out->entry_bytes = weir_join_entry_size(s->join);
    }
    if (s->temporal) {
        out->groups = weir_temporal_join_entries(s->temporal);
        out->state_bytes = weir_temporal_join_bytes(s->temporal);
        out->entry_bytes = 0;
    }
    if (s->tables_join) {
        out->groups = weir_tables_join_entries(s->tables_join);
        out->state_bytes = weir_tables_join_bytes(s->tables_join);
        out->entry_bytes = weir_tables_join_entry_size(s->tables_join);
    }
    if (s->table_join) {
        out->groups = weir_table_join_entries(s->table_join);
        out->state_bytes = weir_table_join_bytes(s->table_join);
        out->entry_bytes = weir_table_join_entry_size(s->table_join);
    }
    if (s->groups) {
        out->groups = weir_groups_count(s->groups);
        out->state_bytes = weir_groups_bytes(s->groups);
        out->entry_bytes = weir_groups_entry_size(s->groups);
    }
}
