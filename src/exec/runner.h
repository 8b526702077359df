/*
 * runner.h - runs a pipeline continuously over the embedded log: what
 * `weir serve` does.
 *
 * Each step reads the committed records of every stream some query reads,
 * feeds them to the engine by partition, appends what the engine emits to
 * the output streams (a table's rows to its changelog stream, refused
 * records to <stream>.dlq) and commits. Every checkpoint interval it
 * writes a checkpoint: the read offsets, the output streams' end offsets
 * and the engine state, in one atomic file.
 *
 * Exactly once: outputs appended after the last checkpoint belong to an
 * epoch that is not finished. After a crash the runner restores the
 * checkpoint, cuts every output stream back to the offsets it recorded and
 * reads on from the recorded input offsets, so each input record is
 * counted once in the state and each output row appears once. After each
 * checkpoint the outputs' committed ends also go to DIR/pipeline/stable,
 * where weir consume and weir query read them, so readers outside the
 * process never see rows of an unfinished epoch.
 *
 * With a state store, each checkpoint also writes the table views' rows
 * upserted since the last one, and their tables' changelog ends, in one
 * store transaction committed before the checkpoint file replaces the
 * old one (table_view.h): the store is never behind the file, and a store
 * ahead of it (a crash between the two commits) is what weir_view_load
 * finds and rebuilds.
 */
#ifndef WEIR_RUNNER_H
#define WEIR_RUNNER_H

#include "exec/engine.h"
#include "exec/input.h"
#include "exec/table_view.h"
#include "exec/task_store.h"
#include "log/log.h"
#include "state/store.h"

typedef struct weir_runner weir_runner;

typedef struct weir_runner_options {
    int64_t checkpoint_ms;     /* 0: 1000; stretched to 10x the last checkpoint's duration, so that
                                  snapshots of a large state take at most a tenth of the time */
    int64_t idle_ms;           /* a partition quiet this long stops holding windows open; 0: 5000; <0: never */
    uint32_t batch;            /* records per partition per step; 0: 4096 */
    /* Threads running the partitions' engines of partition-parallel inputs
     * (workers.c: inputs whose every query filters, projects or groups by
     * the input's key, with their records in their key's partitions), each
     * partition owned by thread p mod threads, the caller's thread among
     * them; 0 or 1: the caller's thread alone. Which inputs run per
     * partition does not depend on it. Ignored in scale-out (tasks). */
    uint32_t threads;
    /* Clients that pick partitions themselves append to the source streams
     * (serve --kafka-listen: a Kafka producer's partitioner): a default
     * layout does not take a stream's key as where its records are, which
     * the next produce request may end (workers.c's layout_allows). */
    bool clients_pick_partitions;
    bool reset;                /* forget the checkpoint: empty the outputs, read the inputs from the start */
    /* Called with each row appended to a table's or derived stream's
     * output (e.g. to keep a live view), or with removed the key of a row
     * that left a table (its primary-key columns; a tombstone in the
     * output); a non-zero return (an error code, with err filled) stops
     * the step. */
    int (*on_output)(void *ctx, const weir_relation *rel, const weir_value *row, bool removed, weir_err *err);
    void *on_output_ctx;
    /* Inputs read from elsewhere than the log (see input.h), or NULL. */
    weir_input_open_fn open_input;
    void *open_input_ctx;
    /* Scale-out (several processes share the inputs' partitions), or NULL.
     * Every input must then come from a source that shares its partitions
     * (Kafka), and every grouped query must group by its input's key, so
     * that a partition's state is whole in the process that owns it. Each
     * owned partition has an engine of its own, whose windows close on that
     * partition's time; its state goes to the store after each checkpoint
     * once every row it emitted has been delivered (see delivered). */
    const weir_task_store *tasks;
    /* The end of an output's partition that every sink reading it has
     * delivered durably (UINT64_MAX when none reads it). */
    uint64_t (*delivered)(void *ctx, const char *stream, uint32_t partition);
    void *delivered_ctx;
    /* The data directory's state store (opened for writing; its writer is
     * the checkpoint's thread) and the table views kept in it, one per
     * catalog relation (NULL where none; filled in after weir_runner_open
     * is fine: the runner reads them at each checkpoint), or NULL: both
     * borrowed until weir_runner_close. */
    weir_store *store;
    weir_table_view *const *views;
    /* Bytes of state kept in memory beside the store (the engine's groups
     * and the views' rows): past it, after each checkpoint, what the store
     * holds as it is leaves memory, least recently changed first (it is
     * read from the store when next used). 0: no bound. */
    uint64_t state_memory;
    /* A runner of statements added at runtime (runtime/statements.c): the
     * group's name, its checkpoint and SQL in DIR/pipeline/added/<group>
     * (NULL: the pipeline file's, in DIR/pipeline). The catalog it is
     * opened with holds every relation but only the group's queries; it
     * keeps the views of the source tables among cat->rels[rels_begin,
     * rels_end) (rels_end 0: all), the relations the group declared. */
    const char *group;
    int rels_begin, rels_end;
    /* The end up to which a stream another runner writes may be read
     * (that runner's last checkpoint: what cannot be rolled back), or
     * UINT64_MAX; NULL: every stream to its committed end. */
    uint64_t (*readable)(void *ctx, const char *stream, uint32_t partition);
    void *readable_ctx;
    /* Per catalog relation: whether this runner writes the dead letters of
     * its records that no reader could take (undecodable, constraint, null
     * value, no event time), when several runners read it (NULL: all). */
    const bool *input_letters;
} weir_runner_options;

/* Prepares the streams (creating missing ones), saves the pipeline's SQL
 * in DIR/pipeline/ and restores the checkpoint. A checkpoint of a
 * different pipeline, or outputs that exist without a checkpoint, are
 * errors that say to use reset. */
int weir_runner_open(weir_log *log, const weir_catalog *cat, const char *sql, size_t sql_len,
                     const weir_runner_options *opt, weir_runner **out, weir_err *err);

/* One step at wall time now_ms. *processed: input records consumed.
 * Every checkpoint interval a step begins a checkpoint, whose state a
 * thread of its own writes; until it is written, steps only look whether
 * it is (processing nothing), and the step that sees it written finishes
 * it and returns its result. The caller may write to the log meanwhile
 * (ingest), but not to the runner's outputs. */
int weir_runner_step(weir_runner *r, int64_t now_ms, uint64_t *processed, weir_err *err);

/* Whether every input has been read to its committed end; inputs read from
 * a connector count only with ask_sources (which may ask the source over
 * the network: for the end of a bounded run, not for the loop's pacing). */
bool weir_runner_caught_up(weir_runner *r, bool ask_sources);

/* Writes a checkpoint now and waits for it. (Steps start one every
 * checkpoint interval and go on while its state is written: see
 * weir_runner_step.) */
int weir_runner_checkpoint(weir_runner *r, weir_err *err);

/* Whether a checkpoint's state is being written, or its store transaction
 * while the state outgrew state_memory: steps do nothing until it is, so
 * the loop may sleep. */
bool weir_runner_checkpointing(const weir_runner *r);

/* Treats the log's end as the end of the input: closes every window (EMIT
 * FINAL rows come out), commits and checkpoints. */
int weir_runner_finish(weir_runner *r, weir_err *err);
/* A query's counters, and the dead letters of stream src by reason (added
 * to counts), over every engine (scale-out keeps one per owned partition). */
void weir_runner_query_stats(const weir_runner *r, int query, weir_query_stats *out);
void weir_runner_dead_counts(const weir_runner *r, const weir_relation *src, uint64_t counts[WEIR_DEAD_REASONS]);
/* Scale-out: where the rows of a table's key are kept. False when the
 * runner does not share partitions or the table is not grouped by its
 * input's key; else task names the input partition ("stream/p") and
 * *owned says whether this process holds it. */
bool weir_runner_key_task(const weir_runner *r, const weir_relation *table, const char *key, size_t len, char *task,
                          size_t cap, bool *owned);
/* Scale-out: how many of an input's partitions this process holds. */
uint32_t weir_runner_owned(const weir_runner *r, const char *stream);
/* Scale-out: task states saved to the store, and attempts that failed
 * (the store unreachable: retried every few seconds). */
void weir_runner_task_saves(const weir_runner *r, uint64_t *saves, uint64_t *failures);
/* How many records of an input's partition the pipeline has yet to read
 * (against the log's committed end, or the source's last seen end): false
 * if the stream is not an input or the end is not known yet. */
bool weir_runner_input_lag(const weir_runner *r, const char *stream, uint32_t partition, uint64_t *lag);
/* Whether the runner keeps the state of queries reading the stream per
 * partition, so that a record outside its key's partition would stop it
 * (exec/workers.c). Fixed once the runner is open: any thread may ask. */
bool weir_runner_needs_placement(const weir_runner *r, const char *stream);
/* The end of an output's partition that the last checkpoint names (what
 * may leave the process: sinks deliver no further). false if the stream
 * is not one of its outputs. */
bool weir_runner_checkpointed_end(const weir_runner *r, const char *stream, uint32_t partition, uint64_t *end);
/* The state's bytes in memory as the last checkpoint left them (the
 * engine's groups and the views' rows; 0 before one), the bound
 * (state_memory), and the groups and rows dropped from memory so far. */
typedef struct weir_state_memory {
    uint64_t bytes, limit, dropped;
} weir_state_memory;
weir_state_memory weir_runner_state_memory(const weir_runner *r);
/* Wall time of the last checkpoint written (ms since the epoch). */
int64_t weir_runner_checkpoint_ms(const weir_runner *r);
void weir_runner_close(weir_runner *r);

/* Where the pipeline's SQL and checkpoint live in a data directory (the
 * pipeline file's; a group of statements added at runtime has its own
 * below it, in added/<group>). */
void weir_pipeline_dir(const char *data_dir, char *out, size_t cap);

/* The committed end of a pipeline output's partition, from the stable
 * file of the runner writing it (DIR/pipeline/stable, or a group's):
 * true and *end if the stream is an output. */
bool weir_pipeline_stable_end(const char *data_dir, const char *stream, uint32_t partition, uint64_t *end);

#endif
