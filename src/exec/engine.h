/*
 * engine.h - runs a pipeline's queries over records.
 *
 * The engine never reads a clock and never does I/O: records come in with
 * their ingest time (weir_engine_push_json), time moves on when the caller
 * says so (weir_engine_advance), and everything produced goes out through a
 * weir_emit_target. `weir replay` drives it from a file on a virtual clock;
 * `weir serve` drives it from the log.
 *
 * Event time: a source's WITH (timestamp = 'col') column, else the ingest
 * time. Each windowed query keeps a watermark per source partition (the
 * newest event time seen there); a record is too late when its windows
 * closed by its own partition's watermark, so lateness does not depend on
 * how partitions interleave. A window [start, end) closes when the least
 * partition watermark reaches end + GRACE; an idle partition holds it back
 * until the driver raises that partition's watermark. EMIT CHANGES emits a row per update; EMIT FINAL one row per key
 * when the window closes, in window then key order. A record for windows
 * that have all closed is too late and goes to the dead-letter stream, as
 * does a record that does not decode, and one whose expressions fail
 * (integer overflow, division by zero, bad CAST).
 *
 * A row leaves a table (weir_emit_target.removed) when an EMIT CHANGES
 * update makes its group fail HAVING. As in ksqlDB, the removal comes
 * whenever the updated group fails, whether or not an earlier update had
 * shown the row: a removal of a row a table lacks changes nothing.
 */
#ifndef WEIR_ENGINE_H
#define WEIR_ENGINE_H

#include "base/err.h"
#include "exec/agg.h"
#include "sql/plan.h"
#include "state/budget.h"
#include "state/store.h"

typedef struct weir_engine weir_engine;

/* Why a record became a dead letter (the reason label of
 * weir_dead_letters_total). */
typedef enum weir_dead_reason {
    WEIR_DEAD_UNDECODABLE,    /* not a JSON object, or a field that does not fit its column */
    WEIR_DEAD_CONSTRAINT,     /* a column's NOT NULL or CHECK */
    WEIR_DEAD_NULL_VALUE,     /* no value at all: a Kafka tombstone read into a stream */
    WEIR_DEAD_NO_TIME,        /* the event-time column is missing or null */
    WEIR_DEAD_EXPRESSION,     /* overflow, division by zero, failed CAST (also in aggregates) */
    WEIR_DEAD_LATE,           /* its windows had closed */
    WEIR_DEAD_REASONS
} weir_dead_reason;

/* Whether such a dead letter comes of the record itself (any query reading it would refuse it), not of one
 * query's expressions or windows. */
static inline bool weir_dead_of_record(weir_dead_reason r) { return r != WEIR_DEAD_EXPRESSION && r != WEIR_DEAD_LATE; }

typedef struct weir_emit_target {
    void *ctx;
    /* A row of relation r (r->schema), with its event time: a query's
     * output, or a source table's record (its key's new row). TEXT values
     * are borrowed for the duration of the call. Non-zero stops the engine. */
    int (*row)(void *ctx, const weir_relation *r, const weir_value *row, int64_t ts_ms);
    /* A record of relation src that could not be processed, for src's
     * dead-letter stream: why, as a kind and in words. raw is the record's JSON. */
    int (*dead)(void *ctx, const weir_relation *src, weir_dead_reason kind, const char *reason, const char *raw,
                size_t len, int64_t ts_ms);
    /* A row left table r: its primary-key columns (r->pk) name it, the
     * others are NULL. NULL: removals are not wanted. */
    int (*removed)(void *ctx, const weir_relation *r, const weir_value *row, int64_t ts_ms);
} weir_emit_target;

typedef struct weir_engine_options {
    bool chain;               /* feed each emitted row to the queries reading its relation, in memory */
    bool single_partition;    /* treat every source as one partition (replay: input order is the order) */
    /* Several engines taking the same records (serve --threads, exec/workers.c): */
    const bool *runs;         /* per query of the catalog, whether this engine runs it (borrowed); NULL: every query */
    bool others_record_letters; /* another engine writes (and counts) the dead letters of a record itself (weir_dead_of_record) */
    /* Appended to the names of its tables in a state store: one engine per
     * partition keeps its groups apart from the others' ("@3": partition
     * 3's); at most 15 bytes; NULL: none. */
    const char *store_suffix;
} weir_engine_options;

int weir_engine_new(const weir_catalog *cat, const weir_engine_options *opt, weir_engine **out, weir_err *err);

/* How long the windowed table q writes keeps a window's rows past its end
 * before they leave it (README, "Window retention"); 0 when they stay. */
int64_t weir_query_window_retention(const weir_query *q);
void weir_engine_free(weir_engine *e);

/* Processes one JSON record of relation src from the given partition (a
 * source, or with chain off a derived stream read back from the log). */
int weir_engine_push_json(weir_engine *e, const weir_relation *src, uint32_t partition, const char *json,
                          size_t len, int64_t ingest_ms, const weir_emit_target *t, weir_err *err);

/* A tombstone of table `table` read as an input: a record with that key
 * and no value. A source table's removes the key's row (a key that does
 * not decode as the table's primary key is a dead letter); a derived
 * table's changelog, read back, tells the joins reading it. */
int weir_engine_push_tombstone(weir_engine *e, const weir_relation *table, uint32_t partition, const char *key,
                               size_t key_len, int64_t ingest_ms, const weir_emit_target *t, weir_err *err);

/* The same for a row already decoded into src's schema (event time ts). */
int weir_engine_push_row(weir_engine *e, const weir_relation *src, uint32_t partition, const weir_value *row,
                         int64_t ts, const weir_emit_target *t, weir_err *err);

/* Raises every partition watermark of every windowed query to at least
 * watermark_ms and closes the windows that ends; INT64_MAX closes them all
 * (end of input). */
int weir_engine_advance(weir_engine *e, int64_t watermark_ms, const weir_emit_target *t, weir_err *err);

/* The watermarks a query keeps: one per partition of its input, or for a
 * join one per partition of its left input, then of its right (partition
 * p of the right is number partitions + p). */
uint32_t weir_engine_query_parts(const weir_engine *e, int query);

/* Raises one partition's watermark of one query (idle advance). */
int weir_engine_raise_watermark(weir_engine *e, int query, uint32_t partition, int64_t watermark_ms,
                                const weir_emit_target *t, weir_err *err);
int64_t weir_engine_watermark(const weir_engine *e, int query, uint32_t partition);

typedef struct weir_query_stats {
    uint64_t rows_in, rows_out, dead, late;
    uint64_t groups;          /* live (key, window) entries; a join's buffered records */
    uint64_t state_bytes;     /* the table holding them (not sketches' own memory) */
    uint64_t entry_bytes;     /* one (key, window) entry */
    uint32_t partition_engines; /* serve --threads: its input's partitions, each on an engine of its own (0: one engine) */
    bool unplaced;            /* ... one engine, for its stream's records are not known to be placed by its key */
} weir_query_stats;

void weir_engine_query_stats(const weir_engine *e, int query, weir_query_stats *out);


/* Appends a dead letter as the JSON its stream holds: {"reason", "record"
 * (the original text, as a string; null for a null value, len 0),
 * "partition" and "offset" (when pos,
 * {partition, offset}, is given), "timestamp"}. */
int weir_dead_letter_json(weir_buf *out, const char *reason, const char *raw, size_t len, const uint64_t *pos, int64_t ts);

/* Adds the dead letters of stream src (a relation of the catalog) to counts. */
void weir_engine_dead_counts(const weir_engine *e, const weir_relation *src, uint64_t counts[WEIR_DEAD_REASONS]);
const char *weir_dead_reason_name(weir_dead_reason r);

/* Checkpoints (snapshot.c): the whole engine state as bytes, and back into
 * a fresh engine built from the same catalog. */
int weir_engine_save(const weir_engine *e, weir_buf *out);
int weir_engine_load(weir_engine *e, const uint8_t *data, size_t len, weir_err *err);

/* The aggregation groups in the state store (group_store.c,
 * docs/STATE_STORE.md): every grouped query but SESSION windows and joins
 * keeps its groups in store (borrowed until weir_engine_free), before
 * weir_engine_load, on the thread that writes the store, with no
 * transaction open; windowed queries' groups are read at once, the
 * others' when first upserted. Then weir_engine_save leaves their groups
 * out, and a checkpoint writes the changes: seal (the checkpoint's
 * thread, the engine not running) encodes them, write (in the store's
 * write transaction) puts and deletes them, written (the engine's thread)
 * says whether that committed; a batch not committed is written again by
 * the next checkpoint, first. */
int weir_engine_attach_store(weir_engine *e, weir_store *store, weir_err *err);
bool weir_engine_has_store(const weir_engine *e);
/* Before weir_engine_attach_store: every table output's rows are kept by
 * a view in the same store, handed each row as the engine emits it and
 * sealed and committed with the groups (the runner's table views). Then
 * a query whose table row is its group keeps no group in the store but
 * reads it from the row (group_store.c, "Groups read from their rows"). */
void weir_engine_rows_in_views(weir_engine *e, bool yes);
/* Whether the groups of the query producing rel are read from its rows
 * and some changed since the last seal: its view must then be in this
 * checkpoint's transaction. */
bool weir_engine_derived_changes(const weir_engine *e, const weir_relation *rel);
int weir_engine_seal_groups(weir_engine *e, weir_err *err);
int weir_engine_write_groups(weir_engine *e, weir_store_txn *txn, weir_err *err);
void weir_engine_groups_written(weir_engine *e, bool committed);
/* Bounded memory (state/budget.h): the bytes of every query's groups in
 * memory; a tick (a checkpoint committed); the droppable groups' bytes
 * by age added to ages (those of stored queries without a window whose
 * last checkpoint committed); and dropping them by a cut (they are read
 * from the store again on their next upsert): how many were dropped. */
size_t weir_engine_groups_bytes(const weir_engine *e);
void weir_engine_groups_tick(weir_engine *e);
void weir_engine_droppable(const weir_engine *e, weir_budget_ages *ages);
uint64_t weir_engine_drop_groups(weir_engine *e, weir_budget_cut cut);
/* After a restart, the keys of the groups the store held at attach are
 * added to each query's filter of groups memory lacks (state/groups.h),
 * up to `max` keys a call (the pipeline's thread, between steps: the
 * engine not held by a checkpoint); once all are, a key new to memory is
 * looked up in the store only if the filter may hold it. Whether keys
 * are left to add. A key that cannot be read or added ends the scan:
 * every key new to memory is then looked up, as before it. */
bool weir_engine_scan_stored(weir_engine *e, unsigned max);
/* A scale-out task's engine, which has no state store, keeps its groups
 * apart all the same: from now on (before weir_engine_load) its
 * snapshots leave out the groups of the queries whose groups a store
 * would hold, and weir_engine_take_pieces hands over their changes. */
void weir_engine_keep_groups_apart(weir_engine *e);
/* The groups' changes since the last take, appended to out as changes.h
 * encodes them (a delete for a group removed): each a *piece*, keyed by
 * its query's number and its store key. A failure loses the changes
 * walked: the caller starts the engine anew from what it saved. */
int weir_engine_take_pieces(weir_engine *e, weir_buf *out, weir_err *err);
/* Puts the group of a piece weir_engine_take_pieces made into memory (an
 * engine keeping groups apart, after weir_engine_load); WEIR_ECORRUPT for
 * bytes it does not make. */
int weir_engine_restore_piece(weir_engine *e, const void *key, size_t klen, const void *val, size_t vlen, weir_err *err);
/* Whether a state weir_engine_save wrote keeps groups in the store. */
bool weir_engine_state_in_store(const uint8_t *state, size_t len);
/* Empties the store's tables of e's stored queries in txn (a start without a checkpoint). */
int weir_engine_clear_groups(const weir_engine *e, weir_store *store, weir_store_txn *txn, weir_err *err);

#endif
