/*
 * snapshot.c - the engine's state as bytes, for checkpoints.
 *
 * Layout: u32 SNAPSHOT_V5, u32 flags (FLAG_STORE: written by an engine
 * attached to a state store), u32 query count; then per query: u32
 * partitions, i64 watermark per partition, i64 closed_upto, four u64
 * counters, u8 1 when its groups are in the state store (then no group
 * follows: group_store.c has them) or 0, u8 1 when its join's state is in
 * the state store (join_store.c) or 0, u64 group count and per group i64
 * window, its key values and its accumulators (agg.c); u8 1 when the rows
 * of a windowed table's closed windows follow, until their retention
 * passes (window_expiry.c), or 0 (none, or in the state store:
 * expiry_store.c); then, for a join, its state: an interval join's
 * watermarks and records (join.c), a temporal join's versions and waiting
 * records (temporal_join.c), a stream-table or table-table join's rows
 * (row_map.c). A join whose state is in the store writes no table row, no
 * interval join record and no temporal version: the store has them. Then,
 * only when the pipeline has repartition streams (scale-out's, planned
 * for the task engines that save this), their origins (repartition.h's
 * repart_save); a state without them loads as none applied yet. The
 * caller frames it (checkpoint.c adds offsets and a CRC).
 *
 * Older versions load: V4 (V5 without the join's store flag), V3 (V4
 * without the flags word, the expiring rows and their flag: only engines
 * attached to a store wrote it) and V2 (V3 without the per-query store
 * flag: the other engines, scale-out's task states among them), their
 * groups and join state going to the store at the next checkpoint. Their
 * closed windows' rows are not listed (before V4): they stay.
 *
 * Version 1 had no version word: it began with the query count, which is
 * never as large as the marker. It loads as long as the pipeline has no
 * join (it could not have had one); a later version is refused by name.
 */
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "exec/engine_internal.h"
#include "exec/repartition.h"

#define SNAPSHOT_V1_MAX 0xffff0000u /* version 1's first word, a query count, is below this */
#define SNAPSHOT_V2 0xffff0002u     /* the first version with a version word: joins' state */
#define SNAPSHOT_V3 0xffff0003u     /* a flag per query: its groups are in the state store */
#define SNAPSHOT_V4 0xffff0004u     /* a flags word; the rows of windowed tables until they expire */
#define SNAPSHOT_V5 0xffff0005u     /* a flag per query: its join's state is in the state store */
#define FLAG_STORE 1u               /* the flags (V4 on): written by an engine attached to a state store */

int weir_snapshot_put_value(weir_buf *b, const weir_value *v)
{
    int rc = weir_put_u8(b, v->type) || weir_put_u8(b, v->is_null);
    if (rc || v->is_null)
        return rc;
    switch (v->type) {
    case WEIR_TYPE_JSON:
    case WEIR_TYPE_TEXT: return weir_put_bytes(b, v->s, v->len);
    case WEIR_TYPE_BOOL: return weir_put_u8(b, v->b);
    default: return weir_put_u64(b, v->u); /* INT, UINT, DOUBLE and TIMESTAMP share the 8 bytes */
    }
}

weir_value weir_snapshot_get_value(weir_reader_buf *r)
{
    weir_type t = (weir_type)weir_get_u8(r);
    if (t > WEIR_TYPE_JSON) {
        r->bad = true;
        return weir_null(WEIR_TYPE_NULL);
    }
    if (weir_get_u8(r))
        return weir_null(t);
    switch (t) {
    case WEIR_TYPE_JSON:
    case WEIR_TYPE_TEXT: {
        uint32_t n;
        const uint8_t *p = weir_get_bytes(r, &n);
        weir_value v = weir_text(p ? (const char *)p : "", n);
        v.type = (uint8_t)t;
        return v;
    }
    case WEIR_TYPE_BOOL: return weir_bool(weir_get_u8(r) != 0);
    default: {
        weir_value v = {.type = (uint8_t)t};
        v.u = weir_get_u64(r);
        return v;
    }
    }
}

bool weir_engine_state_in_store(const uint8_t *state, size_t len)
{
    uint32_t first;
    if (!state || len < 4)
        return false;
    memcpy(&first, state, 4);
    if ((first != SNAPSHOT_V4 && first != SNAPSHOT_V5) || len < 8)
        return first == SNAPSHOT_V3;
    uint32_t flags;
    memcpy(&flags, state + 4, 4);
    return flags & FLAG_STORE;
}

int weir_engine_save(const weir_engine *e, weir_buf *out)
{
    int rc = weir_put_u32(out, SNAPSHOT_V5) || weir_put_u32(out, weir_engine_has_store(e) ? FLAG_STORE : 0) ||
             weir_put_u32(out, (uint32_t)e->cat->nqueries);
    for (int i = 0; i < e->cat->nqueries && !rc; i++) {
        const query_state *s = &e->qs[i];
        rc = weir_put_u32(out, s->nparts);
        for (uint32_t p = 0; p < s->nparts && !rc; p++)
            rc = weir_put_u64(out, (uint64_t)s->part_wm[p]);
        rc = rc || weir_put_u64(out, (uint64_t)s->closed_upto) || weir_put_u64(out, s->stats.rows_in) ||
             weir_put_u64(out, s->stats.rows_out) || weir_put_u64(out, s->stats.dead) || weir_put_u64(out, s->stats.late) ||
             weir_put_u8(out, s->stored) || weir_put_u8(out, s->join_stored) ||
             weir_put_u64(out, s->groups && !s->stored ? weir_groups_count(s->groups) : 0);
        size_t pos = 0;
        const weir_value *keys;
        int64_t window;
        weir_acc *accs;
        while (!rc && s->groups && !s->stored && weir_groups_next(s->groups, &pos, &keys, &window, &accs)) {
            rc = weir_put_u64(out, (uint64_t)window);
            for (int k = 0; k < s->q->nkeys && !rc; k++)
                rc = weir_snapshot_put_value(out, &keys[k]);
            rc = rc || weir_accs_save(weir_groups_query(s->groups), accs, out);
        }
        /* kept in the store, every row is in the batch this checkpoint commits */
        bool listed = s->expiry && !s->expiry_stored;
        rc = rc || weir_put_u8(out, listed) || (listed && weir_expiry_save(s->expiry, out));
        if (!rc && s->join)
            rc = weir_join_save(s->join, out);
        if (!rc && s->table_join && !s->join_stored)
            rc = weir_table_join_save(s->table_join, out);
        if (!rc && s->tables_join && !s->join_stored)
            rc = weir_tables_join_save(s->tables_join, out);
        if (!rc && s->temporal)
            rc = weir_temporal_join_save(s->temporal, out);
    }
    rc = rc || (e->repart && repart_save(e->repart, out));
    return rc ? WEIR_ENOMEM : WEIR_OK;
}

int weir_engine_load(weir_engine *e, const uint8_t *data, size_t len, weir_err *err)
{
    weir_reader_buf r = {data, data + len, false};
    uint32_t first = weir_get_u32(&r), version = first < SNAPSHOT_V1_MAX ? 1 : first - SNAPSHOT_V1_MAX;
    if (version > 5)
        return weir_err_set(err, WEIR_ECORRUPT, "checkpoint state has version %u, newer than this weir reads (5): "
                                                "run the weir that wrote it, or start over with --reset", version);
    if (version == 1 && !r.bad)
        r.p -= 4; /* its first word was the query count */
    if (version >= 4)
        (void)weir_get_u32(&r); /* the flags: only weir_engine_state_in_store asks */
    for (int i = 0; i < e->cat->nqueries && version == 1; i++)
        if (e->qs[i].join)
            return weir_err_set(err, WEIR_ECORRUPT, "checkpoint predates joins and cannot hold the state of %s: "
                                                    "start over with --reset", e->qs[i].q->output->name);
    if (weir_get_u32(&r) != (uint32_t)e->cat->nqueries)
        return weir_err_set(err, WEIR_ECORRUPT, "checkpoint is for a pipeline with another number of queries");
    weir_value keys[64];
    for (int i = 0; i < e->cat->nqueries && !r.bad; i++) {
        query_state *s = &e->qs[i];
        if (weir_get_u32(&r) != s->nparts)
            return weir_err_set(err, WEIR_ECORRUPT, "checkpoint of %s has another partition count", s->q->output->name);
        for (uint32_t p = 0; p < s->nparts; p++)
            s->part_wm[p] = (int64_t)weir_get_u64(&r);
        s->watermark = INT64_MAX;
        for (uint32_t p = 0; p < s->nparts; p++)
            if (s->part_wm[p] < s->watermark)
                s->watermark = s->part_wm[p];
        s->closed_upto = (int64_t)weir_get_u64(&r);
        s->stats.rows_in = weir_get_u64(&r);
        s->stats.rows_out = weir_get_u64(&r);
        s->stats.dead = weir_get_u64(&r);
        s->stats.late = weir_get_u64(&r);
        bool elsewhere = e->opt.runs && !e->opt.runs[i]; /* another engine runs it: its counts are that one's */
        if (elsewhere)
            s->stats = (weir_query_stats){0};
        bool in_store = version >= 3 && weir_get_u8(&r), join_in_store = version >= 5 && weir_get_u8(&r);
        /* a query another engine runs has no groups here: a runner engine of before partitions' engines kept
         * their store flag for the queries they ran (serve --threads) */
        if (in_store && !s->stored && !elsewhere)
            return weir_err_set(err, WEIR_ECORRUPT, "checkpoint keeps the groups of %s in the state store, which is not "
                                "open", s->q->output->name);
        if (join_in_store && !s->join_stored)
            return weir_err_set(err, WEIR_ECORRUPT, "checkpoint keeps the join rows of %s in the state store, which is not "
                                "open", s->q->output->name);
        uint64_t ngroups = weir_get_u64(&r);
        /* Groups (open sessions: a SESSION window's are never in the store)
         * this engine kept for a query it no longer runs would stay here
         * unread: a newer weir moved the query per partition. Refused
         * rather than lost. */
        if (ngroups && elsewhere && !r.bad)
            return weir_err_set(err, WEIR_EINVAL, "checkpoint keeps %llu groups of %s in %s, which this weir runs %s: "
                                "restart with the weir that wrote it, or with --reset, which rebuilds the state from "
                                "the retained inputs", (unsigned long long)ngroups, s->q->output->name,
                                e->opt.single_partition ? "its input's partitions' engines" : "one engine",
                                e->opt.single_partition ? "in one engine" : "per partition");
        if (ngroups && (!s->groups || s->q->nkeys > 64))
            return weir_err_set(err, WEIR_ECORRUPT, "checkpoint holds groups for %s, which has none", s->q->output->name);
        /* room for them all at once, unless the count is more than the bytes left could hold (damage) */
        if (ngroups && ngroups <= (uint64_t)(r.end - r.p) / (8u + (unsigned)s->q->nkeys) &&
            weir_groups_reserve(s->groups, (size_t)ngroups))
            return weir_err_set(err, WEIR_ENOMEM, "out of memory restoring %s", s->q->output->name);
        for (uint64_t g = 0; g < ngroups && !r.bad; g++) {
            int64_t window = (int64_t)weir_get_u64(&r);
            for (int k = 0; k < s->q->nkeys; k++)
                keys[k] = weir_snapshot_get_value(&r);
            if (r.bad)
                break;
            if (weir_groups_find(s->groups, keys, window))
                return weir_err_set(err, WEIR_ECORRUPT, "checkpoint holds a group of %s twice", s->q->output->name);
            weir_acc *accs = weir_groups_upsert(s->groups, keys, window);
            if (!accs)
                return weir_err_set(err, WEIR_ENOMEM, "out of memory restoring %s", s->q->output->name);
            if (weir_accs_load(weir_groups_query(s->groups), accs, &r) && !r.bad)
                return weir_err_set(err, WEIR_ENOMEM, "out of memory restoring %s", s->q->output->name);
        }
        if (version >= 4 && weir_get_u8(&r)) {
            /* a retention now forever: the rows listed stay, read past with a list of no use */
            weir_expiry *skip = s->expiry ? NULL : weir_expiry_new(s->q->nkeys);
            int xrc = s->expiry || skip ? weir_expiry_load(s->expiry ? s->expiry : skip, &r) : WEIR_ENOMEM;
            weir_expiry_free(skip);
            if (xrc == WEIR_ENOMEM)
                return weir_err_set(err, WEIR_ENOMEM, "out of memory restoring %s", s->q->output->name);
            if (xrc)
                r.bad = true;
        }
        int jrc = s->join && !r.bad ? weir_join_load(s->join, &r)
                  : s->table_join && !r.bad && !join_in_store ? weir_table_join_load(s->table_join, &r)
                  : s->tables_join && !r.bad && !join_in_store ? weir_tables_join_load(s->tables_join, &r)
                  : s->temporal && !r.bad ? weir_temporal_join_load(s->temporal, &r) : WEIR_OK;
        if (jrc == WEIR_ENOMEM)
            return weir_err_set(err, WEIR_ENOMEM, "out of memory restoring %s", s->q->output->name);
    }
    if (e->repart && !r.bad && r.p != r.end)
        repart_load(e->repart, &r);
    if (r.bad || r.p != r.end)
        return weir_err_set(err, WEIR_ECORRUPT, "checkpoint state is damaged or from another pipeline");
    for (int i = 0; i < e->cat->nqueries; i++) {
        query_state *s = &e->qs[i];
        s->next_close = INT64_MIN; /* look for closable sessions at the next advance */
        if (s->q->window.kind == WEIR_WINDOW_SESSION && weir_sessions_rebuild(&s->sessions))
            return weir_err_set(err, WEIR_ENOMEM, "out of memory restoring %s", s->q->output->name);
    }
    return WEIR_OK;
}

