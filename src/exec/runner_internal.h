/*
 * runner_internal.h - the runner's state, shared by runner.c (the loop
 * and its checkpoints) and tasks.c (scale-out: one engine per owned input
 * partition, and their states in the task store).
 */
#ifndef WEIR_RUNNER_INTERNAL_H
#define WEIR_RUNNER_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>

#include "base/codec.h"
#include "exec/runner.h"

#define CHECKPOINT_MAGIC 0x314b4357u /* "WCK1" */

typedef struct task {           /* scale-out: one partition of an input, or of each input of a join group */
    weir_engine *engine;        /* its state; kept while another process owns it (see tasks.c), NULL if never held */
    bool owned;
    uint64_t epoch;             /* of the states this process saves for it */
    bool saved;                 /* a state was saved in this epoch ... */
    uint64_t saved_offset;      /* ... with this next offset (a group's: their sum): no need for another until it moves */
    uint64_t txn_records;       /* exactly once: records emitted into its open transaction since its last save */
    bool broken;                /* exactly once: that transaction was aborted under it: restored at the next checkpoint */
    uint32_t resets;            /* exactly once: restored from its last commit this many times in a row ... */
    uint64_t reset_offset;      /* ... to this next offset (a group's: their sum), no commit past it since */
    char why[400];              /* exactly once: what aborted its transaction last (the store's words) */
} task;

typedef struct input {          /* a stream some query reads */
    const weir_relation *rel;
    weir_stream *stream;
    weir_stream *dlq;           /* <name>.dlq */
    uint64_t *dead_upto;        /* per partition: dead letters of offsets below this are in dlq already */
    uint32_t nparts;
    uint64_t *offset;           /* next offset to read, per partition */
    weir_reader **readers;      /* when read from the log */
    const weir_input_ops *ops;  /* when read from a connector (input.h) */
    void *source;
    int64_t *last_data_ms;      /* wall time each partition last gave a record */
    task *tasks;                /* scale-out, per partition; NULL otherwise; a follower's are its lead's */
    struct input *lead;         /* scale-out: the first input of its join group, whose partitions it follows; NULL: none */
    struct input **group;       /* a lead's: the inputs of its join group, itself first (ngroup 1 when it joins nothing) */
    int ngroup;
    struct wpart *parts;        /* threads, per partition, when the input is partition-parallel (workers.c); NULL otherwise */
    bool *part_runs;            /* ... and per query, whether its partitions' engines run it: it reads this input per partition */
    weir_runner *runner;        /* for the tasks' callbacks */
} input;

typedef struct output {         /* a stream the runner writes */
    const char *name;
    const weir_relation *rel;   /* NULL for dead-letter streams */
    weir_stream *stream;
    uint64_t *checkpointed;     /* per partition: the end the last checkpoint names */
} output;

typedef struct sealed_view {   /* a table view a checkpoint writes to the store */
    weir_table_view *view;
    const char *name;           /* its changelog stream */
    uint32_t nparts;
    const uint64_t *ends;       /* the changelog ends its rows reflect: a derived table's output ends in the job's,
                                   a source table's input offsets as the checkpoint began (the job's input_ends) */
} sealed_view;

typedef struct checkpoint_job { /* a checkpoint under way (checkpoint.c) */
    struct weir_runner *runner; /* its thread reads the outputs (fixed) and the views' sealed rows */
    bool begun;                 /* begun and not ended */
    bool threaded;              /* the file is written by `thread`, to be joined */
    pthread_t thread;
    _Atomic bool released;      /* the engine's state and the views' rows are encoded: steps may go on */
    _Atomic bool done;          /* the file is written (or failed: rc) */
    weir_buf file;              /* the head, then the state and the CRC */
    uint64_t *ends;             /* the output ends the head names, output by output */
    weir_buf stable;            /* DIR/pipeline/stable's lines for those ends, written after the file */
    sealed_view *views;         /* the table views in the state store, sealed as the checkpoint began */
    int nviews;
    uint64_t *input_ends;       /* the inputs' offsets as it began, input by input */
    weir_engine *engine;        /* its changed groups are sealed by the thread */
    const weir_io *io;
    char path[PATH_MAX + 16];
    char stable_path[PATH_MAX + 16];
    int rc;
    weir_err err;
    uint64_t began_ns;
    int64_t held_ms;            /* how long steps waited: from begin to released */
} checkpoint_job;

struct weir_runner {
    weir_log *log;
    const weir_catalog *cat;
    weir_runner_options opt;
    weir_engine *engine;
    input *inputs;
    int ninputs;
    output *outputs;
    int noutputs;
    int64_t *quiet_since;       /* per query: when its whole input last gave a record */
    int64_t *quiet_base;        /* per query: its newest watermark at that moment */
    uint64_t sql_hash, epoch;
    char dir[PATH_MAX];
    char copy_key[300];            /* its checkpoint's copy in the store: "file", or "file:<group>" */
    bool new_dir;                  /* a group's directory made by this open: the store's copy is not its */
    int64_t last_checkpoint_ms;    /* the step's clock */
    uint64_t changes;              /* records read and rows written since the last checkpoint: none, no need for one */
    uint64_t checkpoint_changes;   /* those the checkpoint under way (or the last) covers */
    int64_t unmapped_ms;           /* budget_step's last unmapping of the store's pages */
    bool scanning;                 /* the engine's stored group keys go on into its filters (budget_step) */
    int64_t checkpoint_cost_ms;    /* the last checkpoint's cost: what it held the steps, or a fifth of its whole */
    int64_t last_checkpoint_wall_ms;
    checkpoint_job ckpt;
    /* the record being processed, for the emit callbacks */
    const input *cur;
    uint32_t cur_part;
    uint64_t cur_offset;
    const weir_record *cur_rec;    /* NULL when rows come of time passing (windows closing) */
    weir_buf json;
    weir_arena key_scratch;        /* PARTITION BY's computed TEXT */
    weir_err cb_err;
    /* scale-out: the states of the last checkpoint, waiting until the rows
     * they emitted are delivered (tasks.c) */
    struct pending_state *pending;
    size_t npending;
    uint64_t *pending_ends;     /* every output partition's end at that checkpoint, outputs in order */
    int64_t step_ms, last_save_try_ms;
    bool save_failed;           /* the last attempt failed: wait SAVE_RETRY_MS */
    uint64_t saves, save_failures;
    weir_state_memory memory;   /* budget.c (its limit: opt.state_memory) */
    struct workers *workers;    /* threads (workers.c), or NULL: every input on the caller's thread */
    bool *per_part;             /* with workers, per query: run by each partition's engine (else NULL) ... */
    bool *runs_here;            /* ... or by the runner's engine (its weir_engine_options.runs) */
    bool *unplaced;             /* ... per query: it would run per partition, but its stream's records are not known
                                   to be placed by its key (weir_stream_config.key), and no checkpoint chose yet */
    bool *checkpointed_parts;   /* per input, whether the checkpoint keeps its partitions' engines (which its
                                   stateful queries then use); NULL without a checkpoint (layout_as_checkpointed) */
};

/* Whether rel is one the runner's group declared (opt.rels_begin/end):
 * a source table whose view it keeps. */
static inline bool runner_owns(const weir_runner *r, const weir_relation *rel)
{
    int i = weir_catalog_index(r->cat, rel), end = r->opt.rels_end ? r->opt.rels_end : r->cat->nrels;
    return i >= r->opt.rels_begin && i < end;
}

/* The engine that processes an input partition, and the partition it knows it as. */
static inline weir_engine *engine_of(const weir_runner *r, const input *in, uint32_t p, uint32_t *engine_part)
{
    *engine_part = in->tasks ? 0 : p;
    return in->tasks ? in->tasks[p].engine : r->engine;
}

/* runner.c, for workers.c: */
output *runner_output(const weir_runner *r, const char *name);
input *runner_input(const weir_runner *r, const weir_relation *rel);
/* The record of a row (removed: the removal of the row its primary key
 * names) of output o, caused by cause (NULL: by time passing) read from
 * input partition cur_part: its value and key in json (rec points into it),
 * its partition. -1 when out of memory. Any thread, with its own json and
 * key_scratch. */
int runner_encode_output(weir_buf *json, weir_arena *key_scratch, uint32_t cur_part, const weir_record *cause,
                         const output *o, const weir_value *row, bool removed, weir_record *rec, int32_t *part);
/* A dead letter of src (read from in) as in's dead-letter stream holds it,
 * in json; pos ({partition, offset}) when it comes of a record read. -1
 * when this runner does not write it (another runner's, or written before
 * the crash this run recovers from). Any thread, with its own json. */
int runner_dead_letter(const weir_runner *r, const input *in, const weir_relation *src, const uint64_t *pos,
                       weir_dead_reason kind, const char *reason, const char *raw, size_t len, int64_t ts,
                       weir_buf *json, weir_err *err);

/* workers.c: partition-parallel inputs on worker threads (opt.threads). */

typedef struct workers workers;
/* After the inputs are set up, before the checkpoint is restored: which
 * inputs run per partition, their engines, the threads. */
int workers_open(weir_runner *r, weir_err *err);
/* A step of every partition-parallel input (the caller's thread takes a
 * share), then what they emitted appended in input and partition order,
 * and their records pushed into the runner's engine (emitting through t)
 * for the queries it runs of them. */
int workers_step(weir_runner *r, const weir_emit_target *t, uint32_t batch, int64_t now_ms, uint64_t *processed,
                 weir_err *err);
/* The end of the input: their windows all close (in parallel), appended as a step's. */
int workers_finish(weir_runner *r, weir_err *err);
/* The engine of partition p of in when the query runs per partition (and the partition it knows it as), else NULL. */
weir_engine *workers_engine(const weir_runner *r, const input *in, uint32_t p, int query, uint32_t *engine_part);
void workers_each_engine(const weir_runner *r, void (*fn)(const weir_engine *e, void *ctx), void *ctx);
/* The i-th partition's engine of the partition-parallel inputs, in input then partition order; NULL past the last. */
weir_engine *workers_part_engine(const weir_runner *r, size_t i);
/* The engines whose state is in the state store: the runner's (0), then
 * each partition's; NULL past the last. */
static inline weir_engine *runner_state_engine(const weir_runner *r, size_t i)
{
    return i == 0 ? r->engine : workers_part_engine(r, i - 1);
}
/* Checkpoints: the partitions' engines after the runner's engine's state
 * (nothing when there are none: the file is as without threads), and
 * back, refusing a checkpoint of another layout. -1: out of memory. */
int workers_save(const weir_runner *r, weir_buf *b);
int workers_load(weir_runner *r, weir_reader_buf *rd, weir_err *err);
/* The framing of those states (fuzz/fuzz_partition_states.c): fn with each
 * partition's state of each input named, in order; WEIR_ECORRUPT (err
 * filled) when the bytes are not that, fn's error when it fails. */
typedef int (*workers_state_fn)(void *ctx, const char *name, uint32_t name_len, uint32_t parts, uint32_t p,
                                const uint8_t *state, uint32_t len, weir_err *err);
int workers_read_states(weir_reader_buf *rd, workers_state_fn fn, void *ctx, weir_err *err);
void workers_close(weir_runner *r);

/* budget.c: after a checkpoint that committed, what memory holds beyond
 * opt.state_memory leaves it (docs/STATE_STORE.md, "Bounded memory"). */
int budget_trim(weir_runner *r, weir_err *err);
/* Whether the state grew since the last trim by a quarter of the bound
 * (a checkpoint is due before its interval is up), or by half of it (the
 * steps wait for the checkpoint being written). */
bool budget_due(const weir_runner *r);
/* After a step that read records, and in steps while a checkpoint is
 * written: under a bound, at most every 20 ms, the store's map pages
 * that reads (the steps' lazy loads, the checkpoint's writes) mapped are
 * unmapped. */
void budget_step(weir_runner *r, int64_t now_ms);
/* Records a step reads per partition: opt.batch, or fewer under a bound,
 * so that a step's changes are a fraction of what a checkpoint may cover. */
uint32_t budget_batch(const weir_runner *r);
bool budget_full(const weir_runner *r);

/* checkpoint.c */
/* Commits, makes the outputs durable and starts writing a checkpoint of
 * them, the input offsets and the engine's state (on a thread of its own:
 * no step until the state is encoded, which weir_runner_checkpointing
 * says; the next checkpoint waits for checkpoint_end). */
int checkpoint_begin(weir_runner *r, weir_err *err);
/* Waits for the checkpoint begun, if any, and finishes it: sources,
 * DIR/pipeline/stable, scale-out states. Its result, or OK if none. */
int checkpoint_end(weir_runner *r, weir_err *err);
/* In a step: *held while the checkpoint under way holds the engine (no
 * step then); one whose file is written is ended. */
int checkpoint_poll(weir_runner *r, bool *held, weir_err *err);
/* At open, the checkpoint to restore into *data, *len (malloc'd), or
 * WEIR_ENOENT: the file's or, with a state store (and no scale-out), when
 * the store committed a newer one whose file never replaced the old (a
 * crash between the two), the store's copy. A store behind a checkpoint
 * whose groups it keeps is an error. Read once, before the engines exist:
 * their layout (checkpoint_layout) and the restore both take it. */
int checkpoint_read(const weir_runner *r, char **data, size_t *len, weir_err *err);
/* Then, the engines made: with a state store (and no scale-out), their
 * groups are kept there (weir_engine_attach_store); a fresh start (no
 * checkpoint) first empties the store's groups and its copy. */
int checkpoint_attach(weir_runner *r, bool fresh, weir_err *err);
/* Which inputs the checkpoint in data keeps per partition (workers.c):
 * per_input[i] set for r->inputs[i]. */
void checkpoint_layout(const weir_runner *r, const char *data, size_t len, bool *per_input);
void checkpoint_free(weir_runner *r);

/* tasks.c */
/* Whether the query groups by every key column of its input (a key's records all in one partition). */
bool tasks_groups_by_key(const weir_query *q);
int tasks_check(const weir_runner *r, weir_err *err);
/* Exactly once: refuses a checkpoint interval (opt.checkpoint_ms) the
 * tasks' transactions would not outlast (opt.tasks->txn_timeout_ms). */
int tasks_check_interval(const weir_runner *r, weir_err *err);
/* The checkpoint interval as stretched by the checkpoints' cost, capped
 * under exactly once so that transactions commit within their timeout. */
int64_t tasks_interval(const weir_runner *r, int64_t interval);
/* Before the inputs open: which inputs a join connects (a group follows its first input's partitions). */
int tasks_group(weir_runner *r, weir_err *err);
/* An input's tasks: its own, or its lead's (tasks_group first, in input order). */
int tasks_init(input *in, weir_err *err);
extern const weir_input_tasks tasks_callbacks; /* ctx: the input; gained NULL for a follower (set by the runner) */
/* After a checkpoint: the owned partitions' states wait for their rows' delivery. */
int tasks_checkpointed(weir_runner *r, weir_err *err);
/* Saves the waiting states if their rows are delivered (a failure is retried later). */
void tasks_save_delivered(weir_runner *r);
int tasks_idle_advance(weir_runner *r, int64_t now, const weir_emit_target *t, weir_err *err);
/* Exactly once (opt.tasks->emit): a record appended to output `stream`
 * (its partition of `partitions`) goes into the transaction of the task
 * that emitted it (r->cur, r->cur_part) too; errors in r->cb_err. */
int tasks_emit(weir_runner *r, const char *stream, uint32_t partition, uint32_t partitions, const weir_record *rec);
void tasks_close(weir_runner *r);   /* after the inputs' sources are closed */

#endif
