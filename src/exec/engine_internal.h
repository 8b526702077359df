/*
 * engine_internal.h - the engine's state, shared by engine.c (which runs
 * it) and snapshot.c (which saves and restores it for checkpoints).
 */
#ifndef WEIR_ENGINE_INTERNAL_H
#define WEIR_ENGINE_INTERNAL_H

#include "base/arena.h"
#include "base/buf.h"
#include "base/codec.h"
#include "exec/engine.h"
#include "exec/join.h"
#include "exec/session.h"
#include "state/groups.h"

typedef struct query_state {
    const weir_query *q;
    weir_groups *groups;       /* grouped state (for SESSION: sessions.main) */
    weir_sessions sessions;    /* SESSION windows only */
    int64_t next_close;        /* no window (or session) closes before the watermark reaches this */
    int64_t *part_wm;          /* per source partition: newest event time seen there (INT64_MIN: none) */
    uint32_t nparts;
    int64_t watermark;         /* the least of part_wm: windows close by it */
    int64_t closed_upto;       /* windows starting at or before this have closed */
    weir_acc *window;          /* HOP: the merge of a window's panes, reused window after window */
    weir_acc **panes;          /* HOP: the panes being merged into window (size/slide of them at most) */
    weir_query_stats stats;
    weir_join_state *join;     /* a join's buffered records (its watermarks are its own, per side) */
} query_state;

struct weir_engine {
    const weir_catalog *cat;
    weir_engine_options opt;
    query_state *qs;           /* one per query, in catalog order */
    weir_arena scratch;        /* per pushed record */
    uint32_t part;             /* partition of the record being processed */
    weir_buf json;             /* re-encoded rows for dead letters */
    uint64_t (*dead)[WEIR_DEAD_REASONS]; /* dead letters by the catalog's relation, by kind of reason */
};

/* snapshot.c: a value as checkpoints write it; read back, TEXT points into the checkpoint's bytes. */
int weir_snapshot_put_value(weir_buf *b, const weir_value *v);
weir_value weir_snapshot_get_value(weir_reader_buf *r);

#endif
