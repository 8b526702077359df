/*
 * tasks.c - scale-out: the runner's side of sharing input partitions with
 * other processes (runner.h, input.h, task_store.h).
 *
 * Each input partition this process owns is a task with an engine of its
 * own, which keeps its groups apart from its snapshot (exec/engine.h). At
 * each checkpoint the owned tasks' states (a head: next offsets and the
 * engine snapshot; and the groups changed since the last save as pieces)
 * wait until every row emitted before it has been delivered by the sinks,
 * then go to the task store together: a process taking a task over then
 * restores a state whose rows are all at the destination, and redoes the
 * rest from its offset. Rows emitted after that state may so be
 * emitted twice (ksqlDB's at_least_once), with the same values: a table's
 * latest row per key is exact.
 *
 * A join needs partition p of each of its inputs in one engine: the
 * inputs a join connects (transitively) form a group, led by the first of
 * them in the runner's input order (the same in every process, which runs
 * the same SQL). Only the lead's source joins the consumer group; the
 * others follow it: gaining partition p of the lead restores task p of
 * the group (one engine, every input's offset) and has the others read
 * their partition p from its offsets, losing it stops them. Its state is
 * saved under the lead's name.
 *
 * A task taken away keeps its engine: if the group hands it back and the
 * store's latest state is still the one saved here, nobody else saved
 * since and the engine goes on from where it was (eager rebalancing
 * revokes everything on every change, and most partitions come back).
 * Not if a state of it was still waiting to be saved: its pieces are
 * changes the store never got, so the engine is restored from the store.
 *
 * Exactly once (a store with emit: serve --kafka-exactly-once), each
 * record a task emits also goes into the task's open transaction, and at
 * each checkpoint the state of every task that read or emitted anything
 * is saved at once into it, which commits: its rows and its state land
 * together or not at all, so nothing waits for the sinks (the outputs have
 * none then). A takeover restores the last committed state and redoes
 * only what no committed row came of. A task lost with rows in its open
 * transaction has them aborted and its engine dropped (restored if it
 * comes back). A transaction aborted under a task still held (the
 * broker's timeout, a record refused, its producer fenced, reset_task says
 * by whom) takes what it emitted since its last
 * save with it: the task is restored from that save and its inputs read
 * again from there (reset_task), at once when its save failed so, at the
 * next checkpoint when a record did (the engine is busy then). Any other
 * failure to commit stops the pipeline (its tasks' last commits stand, and
 * whoever takes them over goes on from there).
 */
#include "exec/runner_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "base/hash.h"
#include "exec/repartition.h"
#include "state/changes.h"

#define STATE_MAGIC_V1 0x31535457u /* "WTS1": u32 magic, u64 SQL hash, u64 next offset, engine snapshot (one input) */
/* "WTS2": u32 magic, u64 SQL hash, u32 inputs, each input's u64 next offset (group order), engine snapshot */
#define STATE_MAGIC_V2 0x32535457u
/* "WTS3": WTS2's layout, the engine snapshot without the groups kept apart (the pieces) */
#define STATE_MAGIC 0x33535457u
#define SAVE_RETRY_MS 5000
/* Exactly once: a task restored from its last commit this many times in a
 * row, none of its commits between moving its offsets on, stops the pipeline
 * (reset_task): a record the broker refuses every time (too large for the
 * topic, say) would otherwise be redone for ever, as would transactions
 * that always outlive their timeout. Kafka Streams' default production
 * exception handler fails the task at the first refusal; a few tries let a
 * passing abort (one timeout after a stall) go by. */
#define RESETS_MAX 5

struct pending_state {
    input *in;                  /* NULL once saved, or dropped with its task */
    uint32_t partition;
    uint64_t epoch, offset;
    weir_buf state;             /* the head */
    weir_buf pieces;            /* the groups changed since the last save */
};

static void task_name(const input *in, uint32_t p, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%u", in->rel->name, p);
}

bool tasks_groups_by_key(const weir_query *q)
{
    return weir_query_groups_by_key(q);
}

int tasks_check(const weir_runner *r, weir_err *err)
{
    for (int i = 0; i < r->ninputs; i++)
        if (!r->inputs[i].ops)
            return weir_err_set(err, WEIR_EINVAL, "scale-out: %s %s is read from this process's log; every stream a query "
                                "reads must be a Kafka topic (serve --kafka), so that the group can share its partitions",
                                r->inputs[i].rel->query ? "derived stream" : "stream", r->inputs[i].rel->name);
    for (int i = 0; i < r->ninputs; i++)
        if (r->inputs[i].lead && !r->inputs[i].ops->follow) /* it must read the partitions its lead's group hands over */
            return weir_err_set(err, WEIR_EINVAL, "scale-out: a join reads %s, whose source cannot follow another input's "
                                "partitions: put it on Kafka", r->inputs[i].rel->name);
    for (int q = 0; q < r->cat->nqueries; q++) {
        const weir_query *query = r->cat->queries[q];
        if (!query->grouped || tasks_groups_by_key(query))
            continue;
        const weir_relation *src = query->source;
        if (src->key_col < 0)
            return weir_err_set(err, WEIR_EINVAL, "scale-out: %s aggregates stream %s, which has no key, without GROUP BY: "
                                "group by columns or expressions (they go through a repartition topic), or declare "
                                "WITH (key = 'col') and group by it, so that each group lives in one partition",
                                query->output->name, src->name);
        return weir_err_set(err, WEIR_EINVAL, "scale-out: %s must group by %s, the key stream %s is partitioned by, or by "
                            "other columns or expressions, which go through a repartition topic: a join or a table read "
                            "cannot be regrouped across processes", query->output->name, src->key_fields, src->name);
    }
    return WEIR_OK;
}

/* Exactly once: a task's transaction stays open from its first row after
 * a commit through the checkpoint interval, the checkpoint, and the saves
 * of the tasks before it, which commit one at a time; the broker aborts
 * one open longer than transaction.timeout.ms, and the task is then redone
 * from its last commit. A third of the timeout for the interval leaves two
 * thirds for the rest (Kafka Streams refuses a commit interval above the
 * timeout; it commits every 100 ms under exactly-once, with 10 s). */
static int64_t interval_cap(const weir_runner *r)
{
    return r->opt.tasks->txn_timeout_ms / 3;
}

int tasks_check_interval(const weir_runner *r, weir_err *err)
{
    if (!r->opt.tasks->txn_timeout_ms || r->opt.checkpoint_ms <= interval_cap(r))
        return WEIR_OK;
    return weir_err_set(err, WEIR_EINVAL, "--kafka-exactly-once: --checkpoint-ms %lld is not well below the transactions' "
                        "timeout (transaction.timeout.ms %lld): each checkpoint commits the tasks' transactions, which "
                        "the broker aborts once open longer, and the tasks would redo their work again and again; use "
                        "--checkpoint-ms %lld at most, or give a larger transaction.timeout.ms in --kafka-config (up "
                        "to the brokers' transaction.max.timeout.ms, 15 minutes by default)",
                        (long long)r->opt.checkpoint_ms, (long long)r->opt.tasks->txn_timeout_ms,
                        (long long)interval_cap(r));
}

int64_t tasks_interval(const weir_runner *r, int64_t interval)
{
    return r->opt.tasks && r->opt.tasks->txn_timeout_ms && interval > interval_cap(r) ? interval_cap(r) : interval;
}

static input *lead_of(input *in)
{
    return in->lead ? in->lead : in;
}

int tasks_group(weir_runner *r, weir_err *err)
{
    /* Joins merge their inputs' groups: a follower's lead is the group's first input, so merging keeps the lower. */
    for (bool merged = true; merged;) {
        merged = false;
        for (int q = 0; q < r->cat->nqueries; q++) {
            const weir_query *query = r->cat->queries[q];
            input *a = runner_input(r, query->source), *b = query->join ? runner_input(r, query->join->right) : NULL;
            if (!a || !b || lead_of(a) == lead_of(b))
                continue;
            input *keep = lead_of(a) < lead_of(b) ? lead_of(a) : lead_of(b), *gone = keep == lead_of(a) ? lead_of(b) : lead_of(a);
            for (int i = 0; i < r->ninputs; i++)
                if (lead_of(&r->inputs[i]) == gone)
                    r->inputs[i].lead = keep;
            merged = true;
        }
    }
    for (int i = 0; i < r->ninputs; i++) {
        input *in = &r->inputs[i];
        if (in->lead)
            continue;
        if (!(in->group = malloc((size_t)r->ninputs * sizeof *in->group)))
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        in->group[in->ngroup++] = in;
        for (int j = i + 1; j < r->ninputs; j++)
            if (r->inputs[j].lead == in)
                in->group[in->ngroup++] = &r->inputs[j];
    }
    return WEIR_OK;
}

int tasks_init(input *in, weir_err *err)
{
    if (in->lead) { /* co-partitioned (plan_join.c): its lead's partitions are its own */
        in->tasks = in->lead->tasks;
        return WEIR_OK;
    }
    if (!(in->tasks = calloc(in->nparts, sizeof *in->tasks)))
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    return WEIR_OK;
}

/* Partition p of every follower of in read from its offset on (own), or no more. */
static int follow(input *in, uint32_t p, bool own, weir_err *err)
{
    for (int i = 1; i < in->ngroup; i++) {
        input *f = in->group[i];
        int rc = f->ops->follow(f->source, p, own, f->offset[p], err);
        if (rc)
            return rc;
        f->last_data_ms[p] = 0;
    }
    return WEIR_OK;
}

static int restore_task(weir_runner *r, input *in, uint32_t p, const weir_task_saved *saved, weir_err *err)
{
    task *t = &in->tasks[p];
    weir_engine_free(t->engine);
    t->engine = NULL;
    weir_engine_options eo = {.chain = false, .single_partition = true};
    int rc = weir_engine_new(r->cat, &eo, &t->engine, err);
    for (int i = 0; i < in->ngroup; i++)
        in->group[i]->offset[p] = 0;
    if (rc == WEIR_OK) /* its groups are pieces of its state */
        weir_engine_keep_groups_apart(t->engine);
    if (rc || !saved->found)
        return rc;
    weir_reader_buf rd = {saved->state.data, saved->state.data + saved->state.len, false};
    uint32_t magic = weir_get_u32(&rd);
    if (magic != STATE_MAGIC && magic != STATE_MAGIC_V2 && magic != STATE_MAGIC_V1)
        return weir_err_set(err, WEIR_ECORRUPT, "the saved state of partition %u of %s is not a weir task state", p, in->rel->name);
    if (weir_get_u64(&rd) != r->sql_hash)
        return weir_err_set(err, WEIR_EINVAL, "partition %u of %s was saved by %s running another pipeline: every process of "
                            "a group must run the same SQL", p, in->rel->name, saved->writer);
    uint32_t n = magic == STATE_MAGIC_V1 ? 1 : weir_get_u32(&rd);
    if (n != (uint32_t)in->ngroup && !rd.bad) /* the same SQL joins the same inputs */
        return weir_err_set(err, WEIR_ECORRUPT, "the saved state of partition %u of %s names %u inputs, not %d", p,
                            in->rel->name, n, in->ngroup);
    uint64_t offsets[in->ngroup];
    for (uint32_t i = 0; i < n && i < (uint32_t)in->ngroup && !rd.bad; i++)
        offsets[i] = weir_get_u64(&rd);
    uint32_t len;
    const uint8_t *snapshot = weir_get_bytes(&rd, &len);
    if (rd.bad || !snapshot)
        return weir_err_set(err, WEIR_ECORRUPT, "the saved state of partition %u of %s is damaged", p, in->rel->name);
    for (uint32_t i = 0; i < n; i++)
        in->group[i]->offset[p] = offsets[i];
    /* a state from before pieces has its groups in the snapshot: they become pieces at the next save */
    if ((rc = weir_engine_load(t->engine, snapshot, len, err)))
        return rc;
    size_t at = 0, klen, vlen;
    const uint8_t *key, *val;
    while (weir_changes_next(&saved->pieces, &at, &key, &klen, &val, &vlen))
        if ((rc = weir_engine_restore_piece(t->engine, key, klen, val, vlen, err)))
            return weir_err_wrap(err, "the saved state of partition %u of %s", p, in->rel->name);
    return WEIR_OK;
}

static int on_gained(void *ctx, uint32_t p, uint64_t *offset, weir_err *err)
{
    input *in = ctx;
    weir_runner *r = in->runner;
    const weir_task_store *store = r->opt.tasks;
    task *t = &in->tasks[p];
    char name[300];
    task_name(in, p, name, sizeof name);
    weir_task_saved saved = {0};
    int rc = store->begin ? store->begin(store->ctx, name, err) : WEIR_OK; /* exactly once: the previous owner fenced */
    if (rc == WEIR_OK)
        rc = store->load(store->ctx, name, &saved, err);
    /* still what this process left: nobody saved a state since it last held the task */
    bool kept = rc == WEIR_OK && t->engine &&
                (saved.found ? !strcmp(saved.writer, store->instance) && saved.epoch == t->epoch : true);
    if (rc == WEIR_OK && !kept)
        rc = restore_task(r, in, p, &saved, err);
    if (rc == WEIR_OK) {
        t->epoch = saved.last_epoch + 1; /* above every claim: an owner that claimed and died before its first head too */
        t->saved = false;
        t->resets = 0;
        t->reset_offset = 0;
        rc = store->claim(store->ctx, name, t->epoch, err);
    }
    if (rc == WEIR_OK)
        rc = follow(in, p, true, err);
    weir_buf_free(&saved.state);
    weir_buf_free(&saved.pieces);
    if (rc)
        return weir_err_wrap(err, "taking over partition %u of %s", p, in->rel->name);
    t->owned = true;
    in->last_data_ms[p] = 0; /* quiet from the next step on, not from before */
    *offset = in->offset[p];
    return WEIR_OK;
}

static void on_lost(void *ctx, uint32_t p)
{
    input *in = ctx;
    weir_runner *r = in->runner;
    tasks_save_delivered(r); /* a last chance for its waiting state */
    for (size_t i = 0; i < r->npending; i++)
        if (r->pending[i].in == in && r->pending[i].partition == p) { /* the next owner may have saved a newer one */
            r->pending[i].in = NULL;
            weir_engine_free(in->tasks[p].engine); /* its changes in the pieces are lost: restored if it comes back */
            in->tasks[p].engine = NULL;
        }
    if (r->opt.tasks->end) { /* exactly once: what it emitted since its last save is aborted, */
        char name[300];
        task_name(in, p, name, sizeof name);
        r->opt.tasks->end(r->opt.tasks->ctx, name);
        if (in->tasks[p].txn_records || in->tasks[p].broken) { /* so its engine, past that save, is restored if it comes back */
            weir_engine_free(in->tasks[p].engine);
            in->tasks[p].engine = NULL;
        }
        in->tasks[p].txn_records = 0;
        in->tasks[p].broken = false;
    }
    in->tasks[p].owned = false;
    weir_err ignored; /* a source that fails to leave it still reads nothing more of it (kafka_source.c) */
    (void)follow(in, p, false, &ignored);
}

const weir_input_tasks tasks_callbacks = {NULL, on_gained, on_lost};

static void drop_pending(weir_runner *r)
{
    for (size_t i = 0; i < r->npending; i++) {
        weir_buf_free(&r->pending[i].state);
        weir_buf_free(&r->pending[i].pieces);
    }
    free(r->pending);
    free(r->pending_ends);
    r->pending = NULL;
    r->pending_ends = NULL;
    r->npending = 0;
}

/* Exactly once: a task whose transaction was aborted under it, or whose
 * producer was fenced, goes back to its last commit: a fresh producer
 * (fencing whatever the old one still had open), the state of that
 * commit, its inputs read again from its offsets. A fencing may be the
 * broker's transaction timeout (KIP-588) as well as a new owner's
 * producer, which librdkafka reports alike (conn/kafka_txn.c), so the
 * claims decide: when another process claimed the task meanwhile (this one
 * a zombie), it stays broken, dropping what it emits, until its loss,
 * since a fresh producer would fence the new owner. (A new owner fences
 * before it claims: should this process miss its claim and fence it back,
 * that owner, whose claim is the highest, is reset in turn and fences this
 * one for good; every state each restores is a committed one, so nothing
 * lands twice either way.) */
static int reset_task(weir_runner *r, input *in, uint32_t p, weir_err *err)
{
    const weir_task_store *store = r->opt.tasks;
    task *t = &in->tasks[p];
    char name[300];
    task_name(in, p, name, sizeof name);
    weir_task_saved saved = {0};
    int rc = store->load(store->ctx, name, &saved, err);
    weir_buf_free(&saved.state);
    weir_buf_free(&saved.pieces);
    if (rc == WEIR_OK && saved.last_epoch > t->epoch) { /* another process claimed it (its loss follows): a fresh */
        t->epoch = 0;                                   /* producer would fence that one; its records stay dropped */
        return WEIR_OK;
    }
    if (t->resets >= RESETS_MAX) /* no commit moved it since the last RESETS_MAX: it would fail again */
        return weir_err_set(err, WEIR_EIO, "exactly once: partition %u of %s: its transaction was aborted %u times in a "
                            "row, no commit moving it on between, so the pipeline stops (restarting it redoes the "
                            "partition from its last commit); the last time: %s", p, in->rel->name, t->resets + 1,
                            t->why);
    t->resets++;
    saved = (weir_task_saved){0};
    store->end(store->ctx, name);
    if (rc == WEIR_OK)
        rc = store->begin(store->ctx, name, err);
    if (rc == WEIR_OK)
        rc = store->load(store->ctx, name, &saved, err);
    if (rc == WEIR_OK)
        rc = restore_task(r, in, p, &saved, err);
    t->reset_offset = 0;
    for (int g = 0; g < in->ngroup && rc == WEIR_OK; g++) {
        input *m = in->group[g];
        rc = m->ops->seek ? m->ops->seek(m->source, p, m->offset[p], err)
                          : weir_err_set(err, WEIR_EINVAL, "%s cannot be read again", m->rel->name);
        m->last_data_ms[p] = 0;
        t->reset_offset += m->offset[p];
    }
    weir_buf_free(&saved.state);
    weir_buf_free(&saved.pieces);
    t->saved = false;
    t->txn_records = 0;
    t->broken = false;
    return rc ? weir_err_wrap(err, "exactly once: restoring partition %u of %s from its last commit", p, in->rel->name)
              : WEIR_OK;
}

/* Saves the waiting states (one at a time); the first failure is
 * answered and the rest wait. */
static int save_pending(weir_runner *r, weir_err *err)
{
    const weir_task_store *store = r->opt.tasks;
    for (size_t i = 0; i < r->npending; i++) {
        struct pending_state *ps = &r->pending[i];
        char name[300];
        if (!ps->in)
            continue;
        task *t = &ps->in->tasks[ps->partition];
        task_name(ps->in, ps->partition, name, sizeof name);
        int rc = store->save(store->ctx, name, ps->epoch, ps->state.data, ps->state.len, &ps->pieces, err);
        if (rc == WEIR_EBUSY) { /* another process claimed the task (its loss follows): not a failure of the store */
            t->epoch = 0; /* changes never saved: restored, not kept, if it comes back */
            t->txn_records = 0; /* and its transaction's rows are not this process's to commit */
            ps->in = NULL;
            continue;
        }
        if (rc && store->aborted && store->aborted(store->ctx, name)) { /* its rows are gone: redo them */
            input *in = ps->in;
            ps->in = NULL;
            snprintf(t->why, sizeof t->why, "%s", err->msg);
            if ((rc = reset_task(r, in, ps->partition, err)))
                return rc;
            continue;
        }
        if (rc)
            return rc;
        if (t->epoch == ps->epoch) {
            t->saved = true;
            t->saved_offset = ps->offset;
            t->txn_records = 0;
            if (ps->offset > t->reset_offset) /* a commit past where it was restored to: progress */
                t->resets = 0;
        }
        ps->in = NULL;
        r->saves++;
    }
    return WEIR_OK;
}

int tasks_checkpointed(weir_runner *r, weir_err *err)
{
    if (r->npending) { /* the last checkpoint's states still wait: they go first */
        tasks_save_delivered(r);
        return WEIR_OK;
    }
    size_t owned = 0, ends = 0;
    for (int i = 0; i < r->ninputs; i++)
        for (uint32_t p = 0; r->inputs[i].tasks && !r->inputs[i].lead && p < r->inputs[i].nparts; p++) { /* none before the runner is open */
            task *t = &r->inputs[i].tasks[p];
            int rc = t->owned && t->broken ? reset_task(r, &r->inputs[i], p, err) : WEIR_OK; /* exactly once */
            if (rc)
                return rc;
            owned += t->owned;
        }
    for (int i = 0; i < r->noutputs; i++)
        ends += weir_stream_get_config(r->outputs[i].stream)->partitions;
    if (!owned)
        return WEIR_OK;
    if (!(r->pending = calloc(owned, sizeof *r->pending)) || !(r->pending_ends = malloc(ends * sizeof *r->pending_ends))) {
        drop_pending(r);
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    }
    /* The outputs' ends now, not the checkpoint's: steps went on while its file was written, and the
     * states below include them (a state saved before its rows are delivered would lose them) */
    size_t at = 0;
    for (int i = 0; i < r->noutputs; i++)
        for (uint32_t p = 0; p < weir_stream_get_config(r->outputs[i].stream)->partitions; p++) {
            weir_partition_stats st;
            if (weir_stream_partition_stats(r->outputs[i].stream, p, &st, err)) {
                drop_pending(r);
                return err->code;
            }
            r->pending_ends[at++] = st.end_offset;
        }
    for (int i = 0; i < r->ninputs; i++) {
        input *in = &r->inputs[i];
        for (uint32_t p = 0; in->tasks && !in->lead && p < in->nparts; p++) {
            const task *t = &in->tasks[p];
            uint64_t moved = 0; /* offsets only grow: their sum moves when one does */
            for (int g = 0; g < in->ngroup; g++)
                moved += in->group[g]->offset[p];
            /* windows closed by idle time are redone alike, unless their rows are in a transaction */
            if (!t->owned || (t->saved && t->saved_offset == moved && !t->txn_records))
                continue;
            struct pending_state *ps = &r->pending[r->npending++];
            *ps = (struct pending_state){in, p, t->epoch, moved, {0}, {0}};
            weir_buf *b = &ps->state;
            size_t len_at;
            int rc = weir_put_u32(b, STATE_MAGIC) || weir_put_u64(b, r->sql_hash) || weir_put_u32(b, (uint32_t)in->ngroup);
            for (int g = 0; g < in->ngroup; g++)
                rc = rc || weir_put_u64(b, in->group[g]->offset[p]);
            len_at = b->len;
            if (rc || weir_put_u32(b, 0) || weir_engine_save(in->tasks[p].engine, b)) {
                drop_pending(r);
                return weir_err_set(err, WEIR_ENOMEM, "out of memory saving the state of partition %u of %s", p, in->rel->name);
            }
            uint32_t snapshot_len = (uint32_t)(b->len - len_at - 4);
            memcpy(b->data + len_at, &snapshot_len, 4);
            if (weir_engine_take_pieces(in->tasks[p].engine, &ps->pieces, err)) {
                drop_pending(r); /* out of memory: serve stops, and its restart restores from the store */
                return weir_err_wrap(err, "saving the state of partition %u of %s", p, in->rel->name);
            }
        }
    }
    if (!r->npending) {
        drop_pending(r); /* nothing moved */
        return WEIR_OK;
    }
    if (!r->opt.tasks->emit) {
        tasks_save_delivered(r);
        return WEIR_OK;
    }
    int rc = save_pending(r, err); /* exactly once: now, with the rows emitted up to here */
    drop_pending(r);
    if (rc) {
        r->save_failures++;
        return weir_err_wrap(err, "exactly once: saving a task's state");
    }
    return WEIR_OK;
}

void tasks_save_delivered(weir_runner *r)
{
    if (!r->npending || (r->save_failed && r->step_ms - r->last_save_try_ms < SAVE_RETRY_MS))
        return;
    size_t at = 0;
    for (int i = 0; i < r->noutputs; i++) {
        const char *name = weir_stream_name(r->outputs[i].stream);
        for (uint32_t p = 0; p < weir_stream_get_config(r->outputs[i].stream)->partitions; p++, at++)
            if (r->opt.delivered && r->opt.delivered(r->opt.delivered_ctx, name, p) < r->pending_ends[at])
                return;
    }
    r->last_save_try_ms = r->step_ms;
    weir_err ignored; /* counted; the next attempt says it again if it lasts */
    if (save_pending(r, &ignored)) {
        r->save_failed = true; /* the store is unreachable: the rest waits for the retry */
        r->save_failures++;
        return;
    }
    r->save_failed = false;
    drop_pending(r);
}

int tasks_emit(weir_runner *r, const char *stream, uint32_t partition, uint32_t partitions, const weir_record *rec)
{
    if (!r->cur) /* scale-out steps and idle advances run task by task: a bug */
        return weir_err_set(&r->cb_err, WEIR_EINVAL, "exactly once: a record of %s came of no task", stream);
    input *lead = lead_of((input *)r->cur);
    task *t = &lead->tasks[r->cur_part];
    char name[300];
    task_name(lead, r->cur_part, name, sizeof name);
    const weir_task_store *store = r->opt.tasks;
    if (t->broken) /* its transaction was aborted: it is restored from its last commit at the next checkpoint */
        return WEIR_OK;
    int rc = store->emit(store->ctx, name, stream, partition, partitions, rec, &r->cb_err);
    if (rc && store->aborted(store->ctx, name)) { /* its rows since its last save are gone (fenced too) */
        t->broken = true;
        snprintf(t->why, sizeof t->why, "%s", r->cb_err.msg);
        weir_err_clear(&r->cb_err);
        return WEIR_OK;
    }
    t->txn_records += rc == WEIR_OK;
    return rc;
}

/* Whether partition p of in gave nothing for idle_ms. One gained during
 * this step (last_data_ms 0 until the next) is not: the step's loop had
 * passed it, and its first records may not be fetched yet. */
static bool quiet(const weir_runner *r, const input *in, uint32_t p, int64_t now)
{
    return in->last_data_ms[p] && now - in->last_data_ms[p] >= r->opt.idle_ms;
}

/* Idle advance of one owned task: per query of its group's inputs, as
 * runner.c's idle_advance over one partition: a quiet input's watermark
 * rises to the newest of the query's inputs (a temporal join's stream is
 * not waited on), and when all are quiet time moves on with the wall clock,
 * so the last windows close and the joins' records expire. A query reading
 * a repartition stream has a watermark per origin partition: an origin
 * that sent nothing here for the idle time is the quiet one. */
static int idle_task(weir_runner *r, input *lead, uint32_t p, int64_t now, int64_t elapsed, const weir_emit_target *t,
                     weir_err *err)
{
    weir_engine *e = lead->tasks[p].engine;
    for (int q = 0; q < r->cat->nqueries; q++) {
        const weir_query *query = r->cat->queries[q];
        input *ins[2] = {runner_input(r, query->source), query->join ? runner_input(r, query->join->right) : NULL};
        bool timed = query->window.kind != WEIR_WINDOW_NONE ||
                     (query->join && !query->join->tables && (!query->join->table || query->join->temporal));
        if (!timed || !ins[0] || lead_of(ins[0]) != lead || (query->join && !ins[1]))
            continue;
        /* one engine partition: one watermark per input, or per origin partition of a repartition stream */
        uint32_t nw = weir_engine_query_parts(e, q);
        bool origins = query->source->repartition_of != NULL;
        int64_t newest = INT64_MIN;
        bool all_quiet = true;
        for (uint32_t w = 0; w < nw; w++) {
            int64_t wm = weir_engine_watermark(e, q, w);
            newest = wm > newest ? wm : newest;
            all_quiet = all_quiet && quiet(r, origins ? ins[0] : ins[w], p, now);
        }
        if (newest == INT64_MIN)
            continue;
        for (uint32_t w = 0; w < nw; w++) {
            input *from = origins ? ins[0] : ins[w]; /* the input whose watermark w is */
            bool waited_on = !(query->join && query->join->temporal && w == 0);
            int64_t seen = origins ? repart_seen_ms(e, query->source, w) : 0; /* 0: not known, the partition's */
            if (!waited_on || (seen ? now - seen < r->opt.idle_ms : !quiet(r, from, p, now)))
                continue;
            r->cur = from;
            int rc = weir_engine_raise_watermark(e, q, w, all_quiet ? newest + elapsed : newest, t, err);
            if (rc)
                return rc;
        }
    }
    return WEIR_OK;
}

int tasks_idle_advance(weir_runner *r, int64_t now, const weir_emit_target *t, weir_err *err)
{
    int64_t elapsed = r->step_ms ? now - r->step_ms : 0;
    for (int i = 0; i < r->ninputs && elapsed > 0; i++) {
        input *in = &r->inputs[i];
        for (uint32_t p = 0; in->tasks && !in->lead && p < in->nparts; p++) {
            if (!in->tasks[p].owned)
                continue;
            r->cur_part = p;
            int rc = idle_task(r, in, p, now, elapsed, t, err);
            if (rc)
                return rc;
        }
    }
    r->cur = NULL;
    return WEIR_OK;
}

void tasks_close(weir_runner *r)
{
    for (int i = 0; i < r->ninputs; i++) {
        input *in = &r->inputs[i];
        for (uint32_t p = 0; in->tasks && !in->lead && p < in->nparts; p++)
            weir_engine_free(in->tasks[p].engine);
        if (!in->lead)
            free(in->tasks);
        free(in->group);
        in->tasks = NULL;
        in->group = NULL;
    }
    drop_pending(r);
}

bool weir_runner_key_task(const weir_runner *r, const weir_relation *table, const char *key, size_t len, char *name,
                          size_t cap, bool *owned)
{
    const weir_query *q = table->query;
    if (!r->opt.tasks || !q || !q->grouped || q->nkeys == 0 || q->keys[0]->kind != WEIR_E_COLUMN ||
        q->source->nkey_cols != 1 || q->keys[0]->col.index != q->source->key_col)
        return false; /* the table's first key is not the partitioning key */
    for (int i = 0; i < r->ninputs; i++) {
        const input *in = &r->inputs[i];
        if (in->rel != q->source || !in->tasks)
            continue;
        uint32_t p = weir_partition_for_key(key, len, in->nparts);
        task_name(in->lead ? in->lead : in, p, name, cap); /* a join group's task is claimed under its lead's name */
        *owned = in->tasks[p].owned;
        return true;
    }
    return false;
}

uint32_t weir_runner_owned(const weir_runner *r, const char *stream)
{
    uint32_t n = 0;
    for (int i = 0; i < r->ninputs; i++)
        for (uint32_t p = 0; r->inputs[i].tasks && p < r->inputs[i].nparts; p++)
            n += !strcmp(r->inputs[i].rel->name, stream) && r->inputs[i].tasks[p].owned;
    return n;
}

void weir_runner_task_saves(const weir_runner *r, uint64_t *saves, uint64_t *failures)
{
    *saves = r->saves;
    *failures = r->save_failures;
}
