/*
 * session.c - session windows (see session.h). A record at ts joins every
 * session [start, last + gap) of its key that it lies within gap of
 * (start - gap <= ts < last + gap); when it joins several they merge into
 * the earliest.
 */
#include "exec/session.h"

#include <stdlib.h>
#include <string.h>

#include "exec/agg.h"
#include "exec/sketch.h"

/* Session starts are kept in a weir_hset, which cannot hold 0: flip the sign bit. */
static uint64_t enc(int64_t start) { return (uint64_t)start ^ 0x8000000000000000ull; }
static int64_t dec(uint64_t h) { return (int64_t)(h ^ 0x8000000000000000ull); }

int weir_sessions_init(weir_sessions *ss, const weir_query *q)
{
    memset(ss, 0, sizeof *ss);
    ss->q = q;
    ss->main_aggs = calloc((size_t)q->naggs + 1, sizeof *ss->main_aggs);
    if (!ss->main_aggs)
        return -1;
    if (q->naggs)
        memcpy(ss->main_aggs, q->aggs, (size_t)q->naggs * sizeof *q->aggs);
    ss->main_aggs[q->naggs] = (weir_agg){.fn = WEIR_AGG_MAX, .type = WEIR_TYPE_TIMESTAMP, .slot = q->nslots};
    ss->main_q = *q;
    ss->main_q.aggs = ss->main_aggs;
    ss->main_q.naggs = q->naggs + 1;
    ss->main_q.nslots = q->nslots + 1;
    ss->dir_agg = (weir_agg){.fn = WEIR_AGG_COUNT_DISTINCT, .type = WEIR_TYPE_INT, .slot = 0};
    ss->dir_q = *q;
    ss->dir_q.aggs = &ss->dir_agg;
    ss->dir_q.naggs = 1;
    ss->dir_q.nslots = 1;
    ss->main = weir_groups_new(&ss->main_q, &weir_agg_acc_ops);
    ss->dirs = weir_groups_new(&ss->dir_q, &weir_agg_acc_ops);
    return ss->main && ss->dirs ? 0 : -1;
}

void weir_sessions_free(weir_sessions *ss)
{
    weir_groups_free(ss->main);
    weir_groups_free(ss->dirs);
    free(ss->main_aggs);
    memset(ss, 0, sizeof *ss);
}

static weir_hset *dir_of(weir_sessions *ss, const weir_value *keys, bool create)
{
    weir_acc *d = create ? weir_groups_upsert(ss->dirs, keys, 0) : weir_groups_find(ss->dirs, keys, 0);
    if (!d)
        return NULL;
    weir_slot *x = &d->s[0];
    if (!x->p && create)
        x->p = calloc(1, sizeof(weir_hset));
    return x->p;
}

/* Takes start out of the key's set (rebuilt without it: sets are small). */
static void dir_drop(weir_sessions *ss, const weir_value *keys, int64_t start)
{
    weir_hset *set = dir_of(ss, keys, false);
    if (!set)
        return;
    weir_hset keep = {0};
    for (size_t i = 0; i < set->cap; i++)
        if (set->slots[i] && set->slots[i] != enc(start))
            weir_hset_add(&keep, set->slots[i]);
    weir_hset_free(set);
    *set = keep;
    if (set->n == 0)
        weir_groups_remove(ss->dirs, keys, 0);
}

void weir_sessions_remove(weir_sessions *ss, const weir_value *keys, int64_t start)
{
    dir_drop(ss, keys, start);
    weir_groups_remove(ss->main, keys, start);
}

int weir_sessions_add(weir_sessions *ss, const weir_value *keys, int64_t ts, const weir_value *args, uint64_t seq,
                      weir_acc **accs, int64_t *start, int64_t *last, int64_t *merged, int *nmerged, int *which)
{
    const weir_query *q = ss->q;
    int64_t gap = q->window.gap_ms;
    weir_hset *set = dir_of(ss, keys, true);
    if (!set)
        return -1;
    /* The sessions this record touches. */
    int64_t touched[WEIR_SESSIONS_TOUCH_MAX];
    int n = 0;
    int64_t first = ts, newest = ts;
    *nmerged = 0;
    for (size_t i = 0; i < set->cap && n < WEIR_SESSIONS_TOUCH_MAX; i++) {
        if (!set->slots[i])
            continue;
        int64_t s = dec(set->slots[i]);
        weir_acc *a = weir_groups_find(ss->main, keys, s);
        int64_t l = a ? weir_session_last(ss, a) : s;
        if (a && s - gap <= ts && ts < l + gap) {
            touched[n++] = s;
            first = s < first ? s : first;
            newest = l > newest ? l : newest;
        }
    }
    /* The session that survives starts at `first`; the others merge into it. */
    bool existed = false;
    for (int i = 0; i < n; i++)
        existed |= touched[i] == first;
    if (!existed) {
        if (!weir_groups_upsert(ss->main, keys, first) || weir_hset_add(dir_of(ss, keys, true), enc(first)))
            return -1;
    }
    for (int i = 0; i < n; i++) {
        if (touched[i] == first)
            continue;
        weir_acc *dst = weir_groups_find(ss->main, keys, first), *src = weir_groups_find(ss->main, keys, touched[i]);
        int rc = weir_accs_merge(q, dst, src, which);
        if (rc)
            return rc;
        weir_sessions_remove(ss, keys, touched[i]);
        merged[(*nmerged)++] = touched[i];
    }
    weir_acc *a = weir_groups_find(ss->main, keys, first);
    int rc = weir_accs_add(q, a, args, seq, which);
    if (rc)
        return rc;
    a->s[ss->main_aggs[q->naggs].slot].i = newest;
    a->seen |= 1ull << q->naggs;
    *accs = a;
    *start = first;
    *last = newest;
    return 0;
}

int weir_sessions_rebuild(weir_sessions *ss)
{
    size_t pos = 0;
    const weir_value *keys;
    int64_t start;
    weir_acc *accs;
    while (weir_groups_next(ss->main, &pos, &keys, &start, &accs)) {
        weir_hset *set = dir_of(ss, keys, true);
        if (!set || weir_hset_add(set, enc(start)))
            return -1;
    }
    return 0;
}
