/*
 * session.h - the state of a SESSION-windowed query: per key, sessions of
 * activity that grow while records keep coming within the gap and merge
 * when a record bridges two of them.
 *
 * Sessions live in a grouped-state table keyed by (key, session start),
 * each with the query's accumulators plus one hidden one: the session's
 * last event time (so checkpoints carry it like any accumulator). A second
 * table maps each key to the set of its open sessions' starts, so a record
 * finds the sessions it touches without scanning; it is rebuilt from the
 * first after a restore.
 */
#ifndef WEIR_SESSION_H
#define WEIR_SESSION_H

#include "state/groups.h"

typedef struct weir_sessions {
    const weir_query *q;       /* the user's query */
    weir_query main_q;         /* q plus the hidden last-event-time accumulator */
    weir_agg *main_aggs;
    weir_query dir_q;          /* per key: one set of open session starts */
    weir_agg dir_agg;
    weir_groups *main;         /* (key, start) -> accumulators */
    weir_groups *dirs;         /* (key, 0) -> starts */
} weir_sessions;

int weir_sessions_init(weir_sessions *ss, const weir_query *q);
void weir_sessions_free(weir_sessions *ss);

/* The most sessions one record may touch (the rest stay apart). */
#define WEIR_SESSIONS_TOUCH_MAX 64

/* Adds a record at ts (its aggregate arguments in args, seq its place in
 * the query's input: weir_accs_add) to the session of
 * keys it falls in, opening, extending or merging sessions as the gap
 * says. On success *accs, *start and *last describe that session, and
 * merged[0..*nmerged) are the starts of the sessions merged into it
 * (gone; merged has room for WEIR_SESSIONS_TOUCH_MAX). Returns 0, -1 out
 * of memory, or a value error (overflow) naming the aggregate in *which. */
int weir_sessions_add(weir_sessions *ss, const weir_value *keys, int64_t ts, const weir_value *args, uint64_t seq,
                      weir_acc **accs, int64_t *start, int64_t *last, int64_t *merged, int *nmerged, int *which);

/* The last event time of a session's accumulators. */
static inline int64_t weir_session_last(const weir_sessions *ss, const weir_acc *accs)
{
    return accs->s[ss->main_aggs[ss->q->naggs].slot].i;
}

/* Forgets the session (keys, start). */
void weir_sessions_remove(weir_sessions *ss, const weir_value *keys, int64_t start);

/* Rebuilds the key -> starts table from the sessions (after a restore). */
int weir_sessions_rebuild(weir_sessions *ss);

#endif
