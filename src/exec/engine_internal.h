/*
 * engine_internal.h - the engine's state, shared by engine.c (which runs
 * it) and snapshot.c (which saves and restores it for checkpoints).
 */
#ifndef WEIR_ENGINE_INTERNAL_H
#define WEIR_ENGINE_INTERNAL_H

#include "base/arena.h"
#include "base/buf.h"
#include "base/codec.h"
#include "exec/decode.h"
#include "exec/engine.h"
#include "exec/join.h"
#include "exec/session.h"
#include "exec/table_join.h"
#include "exec/tables_join.h"
#include "exec/temporal_join.h"
#include "exec/window_expiry.h"
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
    weir_join_state *join;     /* a stream-stream join's buffered records (its watermarks are its own, per side) */
    weir_table_join *table_join; /* a stream-table join's table rows */
    weir_tables_join *tables_join; /* a table-table join's rows of both tables */
    weir_temporal_join *temporal; /* a temporal join's table versions and waiting records (watermarks per side) */
    weir_expiry *expiry;       /* a windowed table's rows, until its retention has passed their window's end */
    int64_t retention_ms;      /* that retention */
    /* the rows of expiry in the state store (expiry_store.c), when the engine has one. The engine's
     * thread takes rows; the checkpoint's seals (the engine held) and then writes expiry_batch while
     * the engine runs; the pipeline's thread calls written() once that ended. */
    bool expiry_stored;
    weir_store_table expiry_tbl; /* "expiry:" and the output's name; keyed by each row's listing number */
    uint64_t expiry_next;      /* the number the next row sealed gets (1 up) */
    uint64_t expiry_sealed;    /* rows at expiry's front in a sealed batch the store may not hold yet */
    uint64_t expiry_front;     /* the number of the first of those */
    uint64_t expiry_after;     /* every row numbered up to this was taken (0: none) */
    weir_buf expiry_batch;     /* the sealed changes */
    weir_buf expiry_taken;     /* numbers (u64) of the sealed or stored rows taken since the last seal */
    int64_t expiry_store_first; /* the window end of the store's first row past it (INT64_MAX: none) */
    /* its groups in the state store (group_store.c), when stored */
    bool stored;
    weir_store *store;         /* borrowed: the engine's */
    weir_store_table tbl;      /* "groups:" and the output's name */
    uint64_t unloaded;         /* groups the store held at attach not yet loaded (lazily): none left, no more lookups */
    weir_buf batch;            /* the sealed changes (group_store.c lays them out) */
    bool scanning;             /* the keys the store held at attach are being added to the groups' filter */
    weir_buf scan_at;          /* the last key the scan added (empty: none yet) */
    bool lost;                 /* a seal failed half-way: its changes are lost, no more checkpoints */
    bool derived;              /* its groups are read from its table's rows (tbl is "table:" and the output's
                                  name, the view's) and never written: group_store.c, derives_from_rows */
    bool sealed;               /* derived: a seal marked its changed groups stored, their rows' commit pending */
    bool join_stored;          /* its join's table rows are in the state store (join_store.c) */
} query_state;

struct weir_engine {
    const weir_catalog *cat;
    weir_engine_options opt;
    query_state *qs;           /* one per query, in catalog order */
    weir_arena scratch;        /* per pushed record */
    uint32_t part;             /* partition of the record being processed */
    weir_buf json;             /* re-encoded rows for dead letters */
    weir_decode_memo decode;   /* what decoding a record remembers for the next (decode.h) */
    uint64_t (*dead)[WEIR_DEAD_REASONS]; /* dead letters by the catalog's relation, by kind of reason */
    weir_store *store;         /* where the stored queries' groups are (weir_engine_attach_store), or NULL */
    char store_suffix[16];     /* opt.store_suffix, copied */
    bool rows_in_views;        /* weir_engine_rows_in_views: tables' rows are in the store, by their views */
    struct weir_repart *repart; /* scale-out's repartition streams' origins (repartition.c), or NULL: none */
};

/* engine.c, for the operators in files of their own (engine_join.c): */
/* Sends a record of src (raw, or row encoded when raw is NULL) to its
 * dead letters with a reason, counted by kind. */
int engine_dead(weir_engine *e, weir_dead_reason kind, const weir_relation *src, const weir_value *row,
                const char *raw, size_t len, int64_t ts, const weir_emit_target *t, weir_err *err, const char *fmt, ...)
    __attribute__((format(printf, 10, 11)));
/* "integer overflow at line 3:18": why ev failed. */
const char *engine_error_reason(const weir_eval *ev, char *buf, size_t cap);
/* Emits s's SELECT list over row (evaluated by ev). A failing column sends
 * the record that caused it (src's, as raw or cause) to the dead letters. */
int engine_project(weir_engine *e, query_state *s, const weir_value *row, int64_t ts, weir_eval *ev,
                   const weir_relation *src, const weir_value *cause, const char *raw, size_t raw_len,
                   const weir_emit_target *t, weir_err *err);
/* The row of s's output table whose primary-key columns key holds (the
 * others NULL) leaves it; t->removed must be set. */
int engine_remove_row(weir_engine *e, query_state *s, const weir_value *key, int64_t ts, const weir_emit_target *t,
                      weir_err *err);

/* engine_join.c: a record of one side of s's join (1: the right), and a
 * side's partition's watermark raised. */
int engine_join_row(weir_engine *e, query_state *s, int side, uint32_t part, const weir_value *row, int64_t ts,
                    const char *raw, size_t raw_len, const weir_emit_target *t, weir_err *err);
int engine_join_advance(weir_engine *e, query_state *s, int side, uint32_t part, int64_t wm, const weir_emit_target *t,
                        weir_err *err);
/* A record of rel for s's stream-table or temporal join: the table's new
 * row (key: a removal's, row NULL), or a stream record meeting its key's
 * row; and a temporal join's side's partition's watermark raised. */
int engine_table_join_row(weir_engine *e, query_state *s, const weir_relation *rel, uint32_t part,
                          const weir_value *row, const weir_value *key, int64_t ts, const char *raw, size_t raw_len,
                          const weir_emit_target *t, weir_err *err);
int engine_temporal_advance(weir_engine *e, query_state *s, int side, uint32_t part, int64_t wm,
                            const weir_emit_target *t, weir_err *err);
/* A table-table join's table of sides (1 the left, 2 the right, 3 both)
 * has row as its key's new row, or with row NULL, the row of key (that
 * table's primary-key columns) left it: the key's joined row goes through
 * WHERE and the SELECT list to the output table, or leaves it. */
int engine_tables_join_row(weir_engine *e, query_state *s, unsigned sides, const weir_value *row, const weir_value *key,
                           int64_t ts, const weir_emit_target *t, weir_err *err);

/* expiry_store.c: a windowed table's expiring rows (window_expiry.h)
 * kept in the state store, so that a checkpoint writes the rows listed
 * and taken since the last one rather than all of them; called by
 * group_store.c's functions of the same moments. take: the rows of the
 * windows ending by upto, the store's first, each leaving the list. */
int engine_expiry_attach(query_state *s, weir_store *store, const char *suffix, weir_err *err);
int engine_expiry_clear(const query_state *s, weir_store *store, const char *suffix, weir_store_txn *txn, weir_err *err);
int engine_expiry_seal(query_state *s, weir_err *err);
int engine_expiry_write(query_state *s, weir_store_txn *txn, weir_err *err);
void engine_expiry_written(query_state *s, bool committed);
int engine_expiry_take(query_state *s, int64_t upto, weir_expiry_fn fn, void *ctx, weir_err *err);
int64_t engine_expiry_first_end(const query_state *s); /* of the rows listed, in memory or the store */
void engine_expiry_free(query_state *s);

/* group_store.c: frees what keeping s's groups in the store holds. */
void engine_store_free(query_state *s);

/* join_store.c: a stream-table or table-table join's rows in the state
 * store (row_map.h), as group_store.c keeps the groups: attach (sets
 * join_stored when s has such a join), empty the tables (a start without
 * a checkpoint), a checkpoint's seal, write and written, and the budget's
 * bytes, tick, droppable bytes and drop. */
int engine_join_attach(query_state *s, weir_store *store, weir_err *err);
int engine_join_clear(const query_state *s, weir_store *store, weir_store_txn *txn, weir_err *err);
int engine_join_seal(query_state *s, weir_err *err);
int engine_join_write(query_state *s, weir_store_txn *txn, weir_err *err);
void engine_join_written(query_state *s, bool committed);
size_t engine_join_bytes(const query_state *s);
void engine_join_tick(query_state *s);
void engine_join_droppable(const query_state *s, weir_budget_ages *ages);
uint64_t engine_join_drop(query_state *s, weir_budget_cut cut);

/* snapshot.c: a value as checkpoints write it; read back, TEXT points into the checkpoint's bytes. */
int weir_snapshot_put_value(weir_buf *b, const weir_value *v);
weir_value weir_snapshot_get_value(weir_reader_buf *r);

#endif
