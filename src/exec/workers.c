/*
 * workers.c - partition-parallel execution: the partitions of some inputs
 * run each with an engine of its own, as scale-out's tasks have (tasks.c),
 * on weir_runner_options.threads threads (one: the runner's own).
 *
 * Which queries. A query runs per partition when each partition of its
 * input holds whole its state:
 *   - it filters or projects, or groups by every key column of its input
 *     (tasks.c's rule: a key's records are all in one partition, as
 *     weir's ingest and a Kafka client's partitioner put them);
 *   - it is not a join (which needs partition p of each of its inputs);
 *   - for an EMIT FINAL window, it writes a table partitioned by the
 *     input's key columns over as many partitions, so that each output
 *     partition is fed by one input partition (one engine closes a window
 *     for every partition at once, in window then key order);
 *   - it writes an output no other query writes (INSERT INTO from several:
 *     one engine interleaves their rows record by record);
 *   - its input is a stream of the log: not a table, not read through a
 *     connector, of two partitions or more;
 *   - and the input's layout allows it (layout_allows): its checkpoint's,
 *     or when its state starts, per partition if its records are known to
 *     be in their key's partitions (the stream's key, log.h), else in one
 *     engine, which a stream appended round-robin needs.
 * The thread count does not change which: one thread runs the same engines
 * one after the other, so every output is the same for any N. Time is the
 * partition's own, as a Kafka Streams task's: lateness is decided by the
 * record's own partition's watermark in one engine too (engine.h), so the
 * same records are late; a window closes, and a table's window ages
 * (WITH retention), when its partition's time passes it rather than when
 * every partition's has, which changes when its rows come out, not which
 * (but for the ages the end of the input leaves: an end closes every
 * window and ages none). A SESSION closes by its partition's time too, so
 * a record that comes after its key's session closed that way starts a
 * session of its own where one engine, whose time is the least
 * partition's, would still have merged it: which sessions there are
 * follows the layout on out-of-order input, as between Kafka Streams'
 * tasks and one Flink operator (scale-out's tasks do the same).
 * The other queries run in the runner's engine (weir_engine_options.runs
 * says which engine runs which). An input with queries of both kinds is
 * mixed: its workers copy each step's records, which the runner's engine
 * then takes for its queries as its own step would have, partition after
 * partition, and which writes the dead letters of a record itself (bad
 * JSON, constraints) so that they are written and counted once.
 *
 * Who owns what. Partition p of such an input belongs to worker p mod N
 * (the runner's own thread is worker 0): during a step only that worker
 * reads the partition (its log reader), pushes its records into the
 * partition's engine and writes that partition's slot of the input's
 * offsets. Workers share nothing they write, and take no lock but the
 * pool's, once a step. What an engine emits is not appended by the worker
 * (the log has one writer: the runner's thread; table views are fed
 * there): the worker encodes each output record (value, key, partition)
 * and the row, for the views, into its partition's buffer; after the step
 * the runner's thread appends the buffers in input partition order, as
 * one engine's step appends each partition's rows in turn. So every output
 * partition holds the same records in the same order for any N.
 *
 * Checkpoints stay atomic: the steps stop while a checkpoint's state is
 * encoded (checkpoint.c), which then writes every partition's engine after
 * the runner's engine's state, in the same file, and their groups' changes
 * in the state store's transaction with the runner engine's: each
 * partition's engine has store tables of its own (its groups in
 * "groups:OUTPUT@P"), within --state-memory as the runner engine's are.
 * A restart keeps each input in the layout its checkpoint has (runner.c's
 * layout_as_checkpointed), whatever the thread count; --reset chooses again.
 */
#include "exec/runner_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "exec/engine_internal.h"
#include "json/json.h"

#define PARTS_MAGIC 0x31455057u /* "WPE1": u32 inputs, each: name, u32 partitions, engine state per partition */

enum { OUT_ROW, OUT_REMOVED, OUT_DEAD };
enum { JOB_STEP, JOB_FINISH };

typedef struct wpart {          /* one partition of an input some of whose queries run per partition */
    weir_engine *engine;        /* its state: single_partition, as a scale-out task's */
    input *in;
    uint32_t p;
    weir_buf out;               /* what the step emitted, in order, for the runner's thread (flush) */
    weir_buf json;              /* the record being encoded */
    weir_arena key_scratch;     /* PARTITION BY's computed TEXT */
    const weir_record *cur_rec; /* the record being pushed, NULL when time passing makes rows */
    bool mixed;                 /* other queries read the input too: the runner's engine takes its records after the step */
    bool check_keys;            /* its queries keep state per partition: each record must be in its key's partition */
    bool placed;                /* ... which its stream's key still says of those read so far (key_still_placed) */
    weir_buf key;               /* the record's key text, to check it */
    weir_buf recs;              /* ... which are these (offset, time, value, key, headers), in order */
    uint64_t processed;         /* records the step consumed */
    int rc;                     /* the step's result, err filled */
    weir_err err, cb_err;
} wpart;

struct workers {
    weir_runner *r;
    uint32_t n;                 /* workers, the runner's thread included */
    pthread_t *threads;         /* n - 1 */
    struct worker_arg {         /* what each of them is told: the pool, its number */
        struct workers *ws;
        uint32_t w;
    } *args;
    uint32_t started;
    pthread_mutex_t lock;
    pthread_cond_t go, done;
    uint64_t round;             /* bumped to start a round of work */
    uint32_t running;           /* threads still in the round */
    bool stop;
    int job;                    /* JOB_STEP or JOB_FINISH */
    uint32_t batch;             /* records per partition in a step */
    int64_t now_ms;
    weir_value *row;            /* flush's decoded rows (ncols of the widest relation) */
};

/* Whether each partition of the query's output is fed by the same
 * partition of its input alone: its partitioning columns are the group
 * keys that are the input's key columns, in order, over as many partitions. */
static bool partitioned_as_input(const weir_query *q)
{
    const weir_relation *out = q->output, *src = q->source;
    if (out->partitions != src->partitions || out->partition_by || out->nkey_cols != src->nkey_cols)
        return false;
    for (int k = 0; k < out->nkey_cols; k++) {
        const weir_expr *e = q->out[out->key_cols[k]];
        if (e->kind != WEIR_E_SLOT || e->slot >= q->nkeys || q->keys[e->slot]->kind != WEIR_E_COLUMN ||
            q->keys[e->slot]->col.index != src->key_cols[k])
            return false;
    }
    return true;
}

/* Whether the query's state is per input partition (see the top). */
static bool query_parallel(const weir_catalog *cat, const weir_query *q)
{
    if (q->join || q->source->is_table || (q->grouped && !tasks_groups_by_key(q)))
        return false;
    if (q->window.kind != WEIR_WINDOW_NONE && q->emit == WEIR_EMIT_FINAL && !partitioned_as_input(q))
        return false;
    for (int k = 0; k < cat->nqueries; k++)
        if (cat->queries[k] != q && cat->queries[k]->output == q->output)
            return false;
    return true;
}

/* Whether the input may run per partition: a stream of the log, of two partitions or more. */
static bool input_eligible(const input *in)
{
    return !in->rel->is_table && !in->rel->connector && in->nparts >= 2;
}

static bool stateful(const weir_query *q)
{
    return q->grouped || q->join || q->window.kind != WEIR_WINDOW_NONE;
}

/* Whether a query of in keeps state that runs per partition with threads
 * and in the one engine without: what a checkpoint's layout is about. */
static bool state_moves(const weir_runner *r, const input *in)
{
    for (int q = 0; q < r->cat->nqueries && input_eligible(in); q++)
        if (r->cat->queries[q]->source == in->rel && query_parallel(r->cat, r->cat->queries[q]) &&
            stateful(r->cat->queries[q]))
            return true;
    return false;
}

/* Whether every record of the input's stream is in its key's partition,
 * as its stream's config says for a source stream (a derived stream weir
 * partitions itself). A state that starts follows it: such a stream's
 * stateful queries run in one engine, rather than stop at the first
 * record appended without --key. */
static bool placed_by_key(const input *in)
{
    return in->rel->query || !in->rel->key_fields || !strcmp(weir_stream_get_config(in->stream)->key, in->rel->key_fields);
}

/* Whether the input runs per partition: one whose queries keep state per
 * partition does so as the checkpoint kept it or, when that state starts
 * (no checkpoint, --reset), if its records were placed by its key and no
 * client picks partitions itself. The whole input goes one way: its
 * stateless queries' engines would make a checkpoint look as if its state
 * were per partition. */
static bool layout_allows(const weir_runner *r, const input *in)
{
    if (!state_moves(r, in))
        return true;
    if (r->checkpointed_parts)
        return r->checkpointed_parts[in - r->inputs];
    return !r->opt.clients_pick_partitions && placed_by_key(in);
}

/* Whether this run keeps state of the input per partition: some stateful query of it runs so. */
static bool state_per_partition(const weir_runner *r, const input *in)
{
    for (int q = 0; q < r->cat->nqueries && r->per_part; q++)
        if (r->per_part[q] && r->cat->queries[q]->source == in->rel && stateful(r->cat->queries[q]))
            return true;
    return false;
}

/* ---- a partition's emit target: into its buffer ---- */

static int put_opt_bytes(weir_buf *b, const void *p, size_t n)
{
    return p ? weir_put_u8(b, 1) || weir_put_bytes(b, p, (uint32_t)n) : weir_put_u8(b, 0);
}

static int part_emit(wpart *pt, const weir_relation *rel, const weir_value *row, int64_t ts, bool removed)
{
    weir_runner *r = pt->in->runner;
    output *o = rel->is_source ? NULL : runner_output(r, rel->name);
    if (!o) /* a source table is never a partition-parallel input */
        return weir_err_set(&pt->cb_err, WEIR_EINVAL, "no output stream for %s on a worker thread", rel->name);
    weir_record rec = {.ts_ms = ts};
    int32_t partno;
    weir_buf *b = &pt->out;
    int rc = runner_encode_output(&pt->json, &pt->key_scratch, pt->p, pt->cur_rec, o, row, removed, &rec, &partno) ||
             weir_put_u8(b, removed ? OUT_REMOVED : OUT_ROW) || weir_put_u32(b, (uint32_t)(o - r->outputs)) ||
             weir_put_u64(b, (uint64_t)ts) || weir_put_u32(b, (uint32_t)partno) ||
             weir_put_bytes(b, rec.value, (uint32_t)rec.value_len) || put_opt_bytes(b, rec.key, rec.key_len) ||
             put_opt_bytes(b, rec.headers, rec.headers_len);
    for (int i = 0; !rc && r->opt.on_output && i < rel->schema.ncols; i++)
        rc = weir_snapshot_put_value(b, &row[i]);
    return rc ? weir_err_set(&pt->cb_err, WEIR_ENOMEM, "out of memory") : WEIR_OK;
}

static int part_row(void *ctx, const weir_relation *rel, const weir_value *row, int64_t ts)
{
    return part_emit(ctx, rel, row, ts, false);
}

static int part_removed(void *ctx, const weir_relation *rel, const weir_value *row, int64_t ts)
{
    return part_emit(ctx, rel, row, ts, true);
}

static int part_dead(void *ctx, const weir_relation *src, weir_dead_reason kind, const char *reason, const char *raw,
                     size_t len, int64_t ts)
{
    wpart *pt = ctx;
    uint64_t pos[2] = {pt->p, pt->cur_rec ? pt->cur_rec->offset : 0};
    if (src != pt->in->rel)
        return weir_err_set(&pt->cb_err, WEIR_EINVAL, "a dead letter of %s from a partition of %s", src->name,
                            pt->in->rel->name);
    int rc = runner_dead_letter(pt->in->runner, pt->in, src, pt->cur_rec ? pos : NULL, kind, reason, raw, len, ts,
                                &pt->json, &pt->cb_err);
    if (rc)
        return rc < 0 ? WEIR_OK : rc;
    weir_buf *b = &pt->out;
    if (weir_put_u8(b, OUT_DEAD) || weir_put_u64(b, (uint64_t)ts) || weir_put_bytes(b, pt->json.data, (uint32_t)pt->json.len))
        return weir_err_set(&pt->cb_err, WEIR_ENOMEM, "out of memory");
    return WEIR_OK;
}

/* The error a failed push or advance leaves: a callback's own, else the engine's. */
static void part_failed(wpart *pt)
{
    pt->rc = pt->cb_err.code ? weir_err_set(&pt->err, pt->cb_err.code, "%s", pt->cb_err.msg) : pt->err.code;
}

/* ---- a round of work on the worker threads ---- */

static int read_part(wpart *pt, weir_record *rec)
{
    return weir_reader_next(pt->in->readers[pt->p], rec, &pt->err);
}

/* Whether rec is in the partition its key puts it in, as per-partition
 * state needs (a record without its key: the empty key's, as ingest puts
 * it); else the step stops, saying what to do. */
static int check_key(wpart *pt, const weir_record *rec)
{
    const weir_relation *rel = pt->in->rel;
    bool found;
    uint32_t home;
    if (weir_json_key_partition((const char *)rec->value, rec->value_len, rel->key_fields, pt->in->nparts, &pt->key,
                                &found, &home))
        return weir_err_set(&pt->err, WEIR_ENOMEM, "out of memory");
    if (home == pt->p)
        return WEIR_OK;
    weir_buf shown = {0}; /* the key as a JSON string: its bytes may be anything */
    if (weir_buf_append_str(&shown, found ? "the key " : "no key") ||
        (found && weir_json_quote(&shown, (const char *)pt->key.data, pt->key.len < 64 ? pt->key.len : 64))) {
        weir_buf_free(&shown);
        return weir_err_set(&pt->err, WEIR_ENOMEM, "out of memory");
    }
    int rc = weir_err_set(&pt->err, WEIR_EINVAL, "stream %s: the record at partition %u, offset %llu has %.*s (%s), "
                        "which belongs in partition %u: its queries that keep their state per partition need "
                        "every record of a key in its partition. Append with `weir produce --key %s` or over HTTP, or "
                        "restart with --reset to rebuild the state in one engine", rel->name, pt->p,
                        (unsigned long long)rec->offset, (int)shown.len, (const char *)shown.data, rel->key_fields, home,
                        rel->key_fields);
    weir_buf_free(&shown);
    return rc;
}

/* Whether the record just read needs no check_key: its stream was placed
 * by the key when the state started and has kept it since (read after the
 * record: weir_stream_keyed). Once it is forgotten, each record is checked. */
static bool key_still_placed(wpart *pt)
{
    return pt->placed && (pt->placed = weir_stream_keyed(pt->in->stream));
}

/* A step of one partition, on its worker: as the runner's step does for an input partition. */
static void part_step(workers *ws, wpart *pt)
{
    input *in = pt->in;
    uint32_t p = pt->p;
    weir_emit_target t = {pt, part_row, part_dead, part_removed};
    weir_record rec;
    int got = 0;
    if (in->last_data_ms[p] == 0)
        in->last_data_ms[p] = ws->now_ms;
    for (uint32_t k = 0; k < ws->batch && (got = read_part(pt, &rec)) == 1; k++) {
        pt->cur_rec = &rec;
        weir_err_clear(&pt->cb_err);
        if (pt->check_keys && !key_still_placed(pt) && (pt->rc = check_key(pt, &rec)))
            break;
        if (weir_engine_push_json(pt->engine, in->rel, 0, (const char *)rec.value, rec.value_len, rec.ts_ms, &t, &pt->err)) {
            part_failed(pt);
            break;
        }
        if (pt->mixed && (weir_put_u64(&pt->recs, rec.offset) || weir_put_u64(&pt->recs, (uint64_t)rec.ts_ms) ||
                          weir_put_bytes(&pt->recs, rec.value, (uint32_t)rec.value_len) ||
                          put_opt_bytes(&pt->recs, rec.key, rec.key_len) ||
                          put_opt_bytes(&pt->recs, rec.headers, rec.headers_len))) {
            pt->rc = weir_err_set(&pt->err, WEIR_ENOMEM, "out of memory");
            break;
        }
        in->offset[p] = rec.offset + 1;
        in->last_data_ms[p] = ws->now_ms;
        pt->processed++;
    }
    pt->cur_rec = NULL;
    if (got < 0)
        pt->rc = pt->err.code;
}

/* The end of the input: every window of the partition closes. */
static void part_finish(wpart *pt)
{
    weir_emit_target t = {pt, part_row, part_dead, part_removed};
    weir_err_clear(&pt->cb_err);
    if (weir_engine_advance(pt->engine, INT64_MAX, &t, &pt->err))
        part_failed(pt);
}

/* Worker w's share of the round: the partitions p of every parallel input with p mod n == w. */
static void run_share(workers *ws, uint32_t w)
{
    weir_runner *r = ws->r;
    for (int i = 0; i < r->ninputs; i++) {
        input *in = &r->inputs[i];
        for (uint32_t p = w; in->parts && p < in->nparts; p += ws->n) {
            wpart *pt = &in->parts[p];
            if (ws->job == JOB_STEP)
                part_step(ws, pt);
            else
                part_finish(pt);
        }
    }
}

static void *worker_main(void *arg)
{
    workers *ws = ((struct worker_arg *)arg)->ws;
    uint32_t w = ((struct worker_arg *)arg)->w;
    uint64_t seen = 0;
    pthread_mutex_lock(&ws->lock);
    for (;;) {
        while (!ws->stop && ws->round == seen)
            pthread_cond_wait(&ws->go, &ws->lock);
        if (ws->stop)
            break;
        seen = ws->round;
        pthread_mutex_unlock(&ws->lock);
        run_share(ws, w);
        pthread_mutex_lock(&ws->lock);
        if (--ws->running == 0)
            pthread_cond_signal(&ws->done);
    }
    pthread_mutex_unlock(&ws->lock);
    return NULL;
}

/* Runs a round: every worker its share, the caller's thread worker 0's; returns once all are done. */
static void run_round(workers *ws, int job)
{
    pthread_mutex_lock(&ws->lock);
    ws->job = job;
    ws->running = ws->started;
    ws->round++;
    pthread_cond_broadcast(&ws->go);
    pthread_mutex_unlock(&ws->lock);
    run_share(ws, 0);
    pthread_mutex_lock(&ws->lock);
    while (ws->running)
        pthread_cond_wait(&ws->done, &ws->lock);
    pthread_mutex_unlock(&ws->lock);
}

/* ---- on the runner's thread ---- */

/* A record's key and headers as put_opt_bytes wrote them (each absent or there). */
static void get_key_headers(weir_reader_buf *rd, weir_record *rec)
{
    uint32_t n;
    if (weir_get_u8(rd)) {
        rec->key = weir_get_bytes(rd, &n);
        rec->key_len = n;
    }
    if (weir_get_u8(rd)) {
        rec->headers = weir_get_bytes(rd, &n);
        rec->headers_len = n;
    }
}

/* Appends what the partition emitted, in its order: the outputs' records, the rows to on_output, the dead letters. */
static int flush(weir_runner *r, wpart *pt, weir_err *err)
{
    weir_reader_buf rd = {pt->out.data, pt->out.data + pt->out.len, false};
    int rc = WEIR_OK;
    while (rc == WEIR_OK && rd.p < rd.end && !rd.bad) {
        uint8_t kind = weir_get_u8(&rd);
        weir_record rec = {0};
        uint32_t n;
        if (kind == OUT_DEAD) {
            rec.ts_ms = (int64_t)weir_get_u64(&rd);
            rec.value = weir_get_bytes(&rd, &n);
            rec.value_len = n;
            rc = rd.bad ? WEIR_ECORRUPT : weir_stream_append(pt->in->dlq, 0, &rec, NULL, NULL, err);
            continue;
        }
        uint32_t at = weir_get_u32(&rd);
        rec.ts_ms = (int64_t)weir_get_u64(&rd);
        uint32_t partno = weir_get_u32(&rd);
        rec.value = weir_get_bytes(&rd, &n);
        rec.value_len = n;
        get_key_headers(&rd, &rec);
        if (rd.bad || at >= (uint32_t)r->noutputs) {
            rd.bad = true;
            break;
        }
        output *o = &r->outputs[at];
        rc = weir_stream_append(o->stream, (int32_t)partno, &rec, NULL, NULL, err);
        r->changes++;
        if (rc || !r->opt.on_output)
            continue;
        for (int i = 0; i < o->rel->schema.ncols; i++)
            r->workers->row[i] = weir_snapshot_get_value(&rd);
        if (!rd.bad)
            rc = r->opt.on_output(r->opt.on_output_ctx, o->rel, r->workers->row, kind == OUT_REMOVED, err);
    }
    pt->out.len = 0;
    if (rc == WEIR_OK && rd.bad)
        rc = weir_err_set(err, WEIR_ECORRUPT, "a worker's output buffer of %s partition %u is damaged", pt->in->rel->name, pt->p);
    return rc;
}

/* The partition's records of the step into the runner's engine, for the
 * queries it runs, as the runner's step would have pushed them. */
static int push_records(weir_runner *r, wpart *pt, const weir_emit_target *t, weir_err *err)
{
    weir_reader_buf rd = {pt->recs.data, pt->recs.data + pt->recs.len, false};
    while (rd.p < rd.end && !rd.bad) {
        weir_record rec = {0};
        uint32_t n;
        rec.offset = weir_get_u64(&rd); /* one after the other: an initializer list's order is unspecified */
        rec.ts_ms = (int64_t)weir_get_u64(&rd);
        rec.value = weir_get_bytes(&rd, &n);
        rec.value_len = n;
        get_key_headers(&rd, &rec);
        if (rd.bad)
            break;
        r->cur = pt->in;
        r->cur_part = pt->p;
        r->cur_offset = rec.offset;
        r->cur_rec = &rec;
        weir_err_clear(&r->cb_err);
        if (weir_engine_push_json(r->engine, pt->in->rel, pt->p, (const char *)rec.value, rec.value_len, rec.ts_ms, t, err))
            return r->cb_err.code ? weir_err_set(err, r->cb_err.code, "%s", r->cb_err.msg) : err->code;
    }
    r->cur = NULL;
    r->cur_rec = NULL;
    pt->recs.len = 0;
    return rd.bad ? weir_err_set(err, WEIR_ECORRUPT, "a worker's records of %s partition %u are damaged", pt->in->rel->name,
                                 pt->p)
                  : WEIR_OK;
}

/* After a round: each partition's result and what it emitted, in input
 * then partition order; the records the runner's engine takes too. */
static int collect(weir_runner *r, const weir_emit_target *t, uint64_t *processed, weir_err *err)
{
    int rc = WEIR_OK;
    for (int i = 0; i < r->ninputs; i++)
        for (uint32_t p = 0; r->inputs[i].parts && p < r->inputs[i].nparts; p++) {
            wpart *pt = &r->inputs[i].parts[p];
            if (rc == WEIR_OK && pt->rc)
                rc = weir_err_set(err, pt->rc, "%s", pt->err.msg);
            if (rc == WEIR_OK)
                rc = flush(r, pt, err);
            if (rc == WEIR_OK && t)
                rc = push_records(r, pt, t, err);
            pt->recs.len = 0;
            pt->out.len = 0;
            pt->rc = WEIR_OK;
            if (processed)
                *processed += pt->processed;
            pt->processed = 0;
        }
    return rc;
}

int workers_step(weir_runner *r, const weir_emit_target *t, uint32_t batch, int64_t now_ms, uint64_t *processed,
                 weir_err *err)
{
    workers *ws = r->workers;
    if (!ws)
        return WEIR_OK;
    for (int i = 0; i < r->ninputs; i++) /* readable() is the caller's: asked here, not on the workers */
        for (uint32_t p = 0; r->inputs[i].parts && r->opt.readable && p < r->inputs[i].nparts; p++)
            weir_reader_set_end(r->inputs[i].readers[p], r->opt.readable(r->opt.readable_ctx, r->inputs[i].rel->name, p));
    ws->batch = batch;
    ws->now_ms = now_ms;
    run_round(ws, JOB_STEP);
    return collect(r, t, processed, err);
}

int workers_finish(weir_runner *r, weir_err *err)
{
    if (!r->workers)
        return WEIR_OK;
    run_round(r->workers, JOB_FINISH);
    return collect(r, NULL, NULL, err);
}

bool weir_runner_needs_placement(const weir_runner *r, const char *stream)
{
    for (int i = 0; i < r->ninputs; i++)
        if (r->inputs[i].parts && r->inputs[i].parts[0].check_keys && !strcmp(r->inputs[i].rel->name, stream))
            return true;
    return false;
}

weir_engine *workers_engine(const weir_runner *r, const input *in, uint32_t p, int query, uint32_t *engine_part)
{
    if (!in || !in->parts || !r->per_part[query])
        return NULL;
    *engine_part = 0;
    return in->parts[p].engine;
}

void workers_each_engine(const weir_runner *r, void (*fn)(const weir_engine *e, void *ctx), void *ctx)
{
    for (int i = 0; r->workers && i < r->ninputs; i++)
        for (uint32_t p = 0; r->inputs[i].parts && p < r->inputs[i].nparts; p++)
            fn(r->inputs[i].parts[p].engine, ctx);
}

weir_engine *workers_part_engine(const weir_runner *r, size_t i)
{
    for (int k = 0; r->workers && k < r->ninputs; k++) {
        if (r->inputs[k].parts && i < r->inputs[k].nparts)
            return r->inputs[k].parts[i].engine;
        i -= r->inputs[k].parts ? r->inputs[k].nparts : 0;
    }
    return NULL;
}

/* ---- checkpoints ---- */

int workers_save(const weir_runner *r, weir_buf *b)
{
    uint32_t n = 0;
    for (int i = 0; r->workers && i < r->ninputs; i++)
        n += r->inputs[i].parts != NULL;
    if (!n) /* the file is as without threads */
        return 0;
    int rc = weir_put_u32(b, PARTS_MAGIC) || weir_put_u32(b, n);
    for (int i = 0; !rc && i < r->ninputs; i++) {
        const input *in = &r->inputs[i];
        rc = in->parts && (weir_put_bytes(b, in->rel->name, (uint32_t)strlen(in->rel->name)) || weir_put_u32(b, in->nparts));
        for (uint32_t p = 0; !rc && in->parts && p < in->nparts; p++) {
            size_t at = b->len;
            rc = weir_put_u32(b, 0) || weir_engine_save(in->parts[p].engine, b);
            if (!rc) {
                uint32_t len = (uint32_t)(b->len - at - 4);
                memcpy(b->data + at, &len, 4);
            }
        }
    }
    return rc ? -1 : 0;
}

/* The checkpoint keeps the input's state one way and this run the other
 * (the layout follows the checkpoint: an input that no longer runs per
 * partition, its queries changed). */
static int other_layout(const weir_runner *r, const input *in, bool saved_per_part, weir_err *err)
{
    return weir_err_set(err, WEIR_EINVAL, "%s/checkpoint keeps the state of the queries reading %s %s, and this run "
                        "keeps it %s: restart with --reset to rebuild it from the inputs", r->dir, in->rel->name,
                        saved_per_part ? "per partition" : "in one engine", saved_per_part ? "in one engine" : "per partition");
}

int workers_read_states(weir_reader_buf *rd, workers_state_fn fn, void *ctx, weir_err *err)
{
    if (rd->p == rd->end) /* none: written without partition-parallel inputs */
        return WEIR_OK;
    uint32_t n = weir_get_u32(rd) == PARTS_MAGIC ? weir_get_u32(rd) : (rd->bad = true, 0);
    int rc = WEIR_OK;
    for (uint32_t k = 0; k < n && rc == WEIR_OK && !rd->bad; k++) {
        uint32_t name_len, len;
        const uint8_t *name = weir_get_bytes(rd, &name_len);
        uint32_t parts = weir_get_u32(rd);
        for (uint32_t p = 0; p < parts && rc == WEIR_OK && !rd->bad; p++) {
            const uint8_t *state = weir_get_bytes(rd, &len);
            if (name && state)
                rc = fn(ctx, (const char *)name, name_len, parts, p, state, len, err);
        }
    }
    if (rc == WEIR_OK && (rd->bad || rd->p != rd->end))
        rc = weir_err_set(err, WEIR_ECORRUPT, "the partitions' states after the engine's are damaged");
    return rc;
}

typedef struct load_ctx {
    weir_runner *r;
    bool *loaded;               /* per input: the checkpoint kept its partitions' states */
} load_ctx;

static int load_state(void *ctx, const char *name, uint32_t name_len, uint32_t parts, uint32_t p, const uint8_t *state,
                      uint32_t len, weir_err *err)
{
    load_ctx *lc = ctx;
    weir_runner *r = lc->r;
    input *in = NULL;
    for (int i = 0; i < r->ninputs && !in; i++)
        if (strlen(r->inputs[i].rel->name) == name_len && !memcmp(r->inputs[i].rel->name, name, name_len)) {
            in = &r->inputs[i];
            lc->loaded[i] = true;
        }
    if (!in) /* no query reads it any more */
        return WEIR_OK;
    if (!in->parts)
        return state_moves(r, in) ? other_layout(r, in, true, err) : WEIR_OK;
    if (parts != in->nparts)
        return weir_err_set(err, WEIR_EINVAL, "%s/checkpoint keeps %u partitions of %s, which has %u", r->dir, parts,
                            in->rel->name, in->nparts);
    return weir_engine_load(in->parts[p].engine, state, len, err);
}

int workers_load(weir_runner *r, weir_reader_buf *rd, weir_err *err)
{
    load_ctx lc = {r, calloc((size_t)r->ninputs + 1, sizeof *lc.loaded)};
    if (!lc.loaded)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    int rc = workers_read_states(rd, load_state, &lc, err);
    if (rc == WEIR_ECORRUPT)
        rc = weir_err_wrap(err, "%s/checkpoint", r->dir);
    for (int i = 0; i < r->ninputs && rc == WEIR_OK; i++)
        if (r->inputs[i].parts && !lc.loaded[i] && state_per_partition(r, &r->inputs[i]))
            rc = other_layout(r, &r->inputs[i], false, err);
    free(lc.loaded);
    return rc;
}

/* ---- opening and closing ---- */

static int open_parts(weir_runner *r, input *in, bool mixed, weir_err *err)
{
    if (!(in->parts = calloc(in->nparts, sizeof *in->parts)) ||
        !(in->part_runs = calloc((size_t)r->cat->nqueries + 1, sizeof *in->part_runs)))
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    for (int q = 0; q < r->cat->nqueries; q++) /* its own queries only: another input's have engines (and tables) of their own */
        in->part_runs[q] = r->per_part[q] && r->cat->queries[q]->source == in->rel;
    for (uint32_t p = 0; p < in->nparts; p++) {
        char suffix[16]; /* its groups' store tables: each partition's own */
        snprintf(suffix, sizeof suffix, "@%u", p);
        /* the runner's engine writes the dead letters of a record itself when it takes the records too */
        weir_engine_options eo = {.single_partition = true, .runs = in->part_runs, .others_record_letters = mixed,
                                  .store_suffix = suffix};
        in->parts[p].in = in;
        in->parts[p].p = p;
        in->parts[p].mixed = mixed;
        in->parts[p].check_keys = in->rel->key_fields && !in->rel->query && state_per_partition(r, in); /* weir partitions a derived stream itself */
        in->parts[p].placed = in->parts[p].check_keys && placed_by_key(in);
        int rc = weir_engine_new(r->cat, &eo, &in->parts[p].engine, err);
        if (rc)
            return rc;
    }
    return WEIR_OK;
}

/* Which queries run per partition (r->per_part), and the runner engine's
 * others (r->runs_here): a query of an eligible input that keeps its
 * state per partition. An input with one of them runs per partition; one
 * that also has other readers (joins too) is mixed: the runner's engine
 * takes its records after each step, for those. */
static int choose(weir_runner *r, weir_err *err)
{
    int nq = r->cat->nqueries;
    if (!(r->per_part = calloc((size_t)nq * 2 + 1, sizeof *r->per_part)) ||
        !(r->unplaced = calloc((size_t)nq + 1, sizeof *r->unplaced))) /* kept when no input runs per partition */
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    r->runs_here = r->per_part + nq;
    for (int q = 0; q < nq; q++) {
        const weir_query *query = r->cat->queries[q];
        const input *in = runner_input(r, query->source);
        bool could = in && input_eligible(in) && query_parallel(r->cat, query);
        r->per_part[q] = could && layout_allows(r, in);
        r->unplaced[q] = could && !r->per_part[q] && stateful(query) && !r->checkpointed_parts;
        r->runs_here[q] = !r->per_part[q];
    }
    return WEIR_OK;
}

int workers_open(weir_runner *r, weir_err *err)
{
    uint32_t most = 0;
    int widest = 1, rc = WEIR_OK;
    if (r->opt.tasks) /* scale-out's tasks are per partition already */
        return WEIR_OK;
    if ((rc = choose(r, err)))
        return rc;
    for (int i = 0; i < r->ninputs && rc == WEIR_OK; i++) {
        input *in = &r->inputs[i];
        bool some = false, others = false;
        for (int q = 0; q < r->cat->nqueries; q++) {
            const weir_query *query = r->cat->queries[q];
            bool reads = query->source == in->rel || (query->join && query->join->right == in->rel);
            some |= reads && r->per_part[q];
            others |= reads && !r->per_part[q];
        }
        if (!some)
            continue;
        rc = open_parts(r, in, others, err);
        most = in->nparts > most ? in->nparts : most;
    }
    for (int i = 0; i < r->cat->nrels; i++)
        widest = r->cat->rels[i]->schema.ncols > widest ? r->cat->rels[i]->schema.ncols : widest;
    if (rc || !most) { /* no input is partition-parallel: one engine runs all, as without threads */
        free(r->per_part);
        r->per_part = r->runs_here = NULL;
        return rc;
    }
    workers *ws = calloc(1, sizeof *ws);
    if (!ws || !(ws->row = calloc((size_t)widest, sizeof *ws->row)) ||
        !(ws->threads = calloc(r->opt.threads + 1, sizeof *ws->threads)) ||
        !(ws->args = calloc(r->opt.threads + 1, sizeof *ws->args))) {
        if (ws) {
            free(ws->row);
            free(ws->threads);
        }
        free(ws);
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    }
    ws->r = r;
    ws->n = r->opt.threads <= 1 ? 1 : r->opt.threads < most ? r->opt.threads : most; /* 1: all on the runner's thread */
    pthread_mutex_init(&ws->lock, NULL);
    pthread_cond_init(&ws->go, NULL);
    pthread_cond_init(&ws->done, NULL);
    r->workers = ws;
    for (uint32_t w = 1; w < ws->n; w++) {
        ws->args[w - 1] = (struct worker_arg){ws, w};
        if ((rc = pthread_create(&ws->threads[w - 1], NULL, worker_main, &ws->args[w - 1])) != 0)
            return weir_err_set(err, WEIR_EIO, "starting worker thread %u of %u: %s", w, ws->n, strerror(rc));
        ws->started++;
    }
    return WEIR_OK;
}

void workers_close(weir_runner *r)
{
    workers *ws = r->workers;
    if (ws) {
        pthread_mutex_lock(&ws->lock);
        ws->stop = true;
        pthread_cond_broadcast(&ws->go);
        pthread_mutex_unlock(&ws->lock);
        for (uint32_t w = 0; w < ws->started; w++)
            pthread_join(ws->threads[w], NULL);
        pthread_mutex_destroy(&ws->lock);
        pthread_cond_destroy(&ws->go);
        pthread_cond_destroy(&ws->done);
        free(ws->threads);
        free(ws->args);
        free(ws->row);
        free(ws);
        r->workers = NULL;
    }
    for (int i = 0; i < r->ninputs; i++) {
        for (uint32_t p = 0; r->inputs[i].parts && p < r->inputs[i].nparts; p++) {
            wpart *pt = &r->inputs[i].parts[p];
            weir_engine_free(pt->engine);
            weir_buf_free(&pt->out);
            weir_buf_free(&pt->recs);
            weir_buf_free(&pt->json);
            weir_buf_free(&pt->key);
            weir_arena_free(&pt->key_scratch);
        }
        free(r->inputs[i].parts);
        free(r->inputs[i].part_runs);
        r->inputs[i].parts = NULL;
        r->inputs[i].part_runs = NULL;
    }
    free(r->per_part); /* the engines borrowing it are freed (the runner's is not run again) */
    free(r->unplaced);
    free(r->checkpointed_parts);
    r->per_part = r->runs_here = NULL;
    r->unplaced = NULL;
    r->checkpointed_parts = NULL;
}
