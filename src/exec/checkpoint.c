/*
 * checkpoint.c - the runner's checkpoints.
 *
 * Checkpoint file (DIR/pipeline/checkpoint), little-endian:
 *   u32 magic "WCK1", u64 hash of the pipeline's SQL, u64 epoch,
 *   u32 inputs, each: name, u32 partitions, u64 next offset per partition,
 *   u32 outputs, each: name, u32 partitions, u64 end offset per partition,
 *   engine state (snapshot.c) as a length-prefixed block,
 *   with partition-parallel inputs (workers.c) u32 magic "WPE1", u32 inputs,
 *   each: name, u32 partitions, each partition's engine state length-prefixed,
 *   u32 CRC-32C of everything before it.
 * Written with the one atomic-file mechanism (tmp, fsync, rename, fsync
 * dir) after the log commit that made the outputs it names durable, and
 * through the log's weir_io, so that the fault layer of the tests
 * (tests/unit/fault_io.h) cuts checkpoints as it cuts the log.
 *
 * A checkpoint has three parts. begin, on the pipeline's thread: commit,
 * make the outputs durable, note the input offsets and output ends. Then
 * the engine's state is encoded and the file written by a thread of its
 * own, since a large state takes seconds: meanwhile the pipeline's thread
 * goes on committing ingest (acknowledgements do not wait) but takes no
 * step, so the engine stays as the checkpoint sees it. end, on the
 * pipeline's thread again once the file is written: the sources learn
 * their offsets are safe, the sinks may deliver the rows (readers of other
 * processes learn it from DIR/pipeline/stable, which the thread writes
 * after the file), scale-out tasks save their states.
 *
 * With a state store (runner.h), begin seals each table view's dirty rows
 * and the thread, once the file is durable under its temporary name,
 * writes them and the tables' changelog ends (a derived table's output
 * ends, job->ends; a source table's input offsets) to the store in
 * one transaction, the store's only writer, and commits it before the
 * rename: the store is never behind the checkpoint file, and only a crash
 * between the two commits leaves it ahead (table_view.h).
 */
#include "exec/runner_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/codec.h"
#include "base/crc32c.h"
#include "state/offsets.h"

/* The file's head: what the state goes with (the pipeline, its epoch, the
 * input offsets and output ends), the ends also kept in job->ends and as
 * DIR/pipeline/stable's lines, "stream partition end", in job->stable. */
static int put_head(weir_runner *r, checkpoint_job *job, weir_err *err)
{
    weir_buf *b = &job->file;
    size_t nends = 0;
    for (int i = 0; i < r->noutputs; i++)
        nends += weir_stream_get_config(r->outputs[i].stream)->partitions;
    free(job->ends);
    if (!(job->ends = malloc((nends ? nends : 1) * sizeof *job->ends)))
        return weir_err_set(err, WEIR_ENOMEM, "checkpoint: out of memory");
    int rc = weir_put_u32(b, CHECKPOINT_MAGIC) || weir_put_u64(b, r->sql_hash) || weir_put_u64(b, r->epoch) ||
             weir_put_u32(b, (uint32_t)r->ninputs);
    for (int i = 0; i < r->ninputs && !rc; i++) {
        input *in = &r->inputs[i];
        rc = weir_put_bytes(b, in->rel->name, (uint32_t)strlen(in->rel->name)) || weir_put_u32(b, in->nparts);
        for (uint32_t p = 0; p < in->nparts && !rc; p++)
            rc = weir_put_u64(b, in->offset[p]);
    }
    rc = rc || weir_put_u32(b, (uint32_t)r->noutputs);
    size_t at = 0;
    for (int i = 0; i < r->noutputs && !rc; i++) {
        output *o = &r->outputs[i];
        uint32_t n = weir_stream_get_config(o->stream)->partitions;
        rc = weir_put_bytes(b, o->name, (uint32_t)strlen(o->name)) || weir_put_u32(b, n);
        for (uint32_t p = 0; p < n && !rc; p++) {
            weir_partition_stats st;
            /* A dead-letter stream is never cut back (ingest writes to it too): its readers need no bound. */
            rc = weir_stream_partition_stats(o->stream, p, &st, err) || weir_put_u64(b, st.end_offset) ||
                 (o->rel && weir_buf_printf(&job->stable, "%s %u %llu\n", o->name, p, (unsigned long long)st.end_offset));
            job->ends[at++] = st.end_offset;
        }
    }
    return rc ? (err->code ? err->code : weir_err_set(err, WEIR_ENOMEM, "checkpoint: out of memory")) : WEIR_OK;
}

/* The store's table of the checkpoints' copies (the file's bytes under the runner's copy_key). */
static int copy_table(weir_store *store, weir_store_table *t, weir_err *err)
{
    return weir_store_table_open(store, "_checkpoint", true, t, err);
}

/* The engine's changed groups, the table views' sealed rows and the
 * changelog ends they reflect, and (the engine's groups being in the
 * store) a copy of the checkpoint file, in one committed store
 * transaction: write_file's hook before the rename. */
static int commit_store(void *arg, weir_err *err)
{
    checkpoint_job *job = arg;
    weir_runner *r = job->runner;
    weir_store_txn *txn = NULL;
    weir_store_table offsets, copy;
    bool groups = weir_engine_has_store(job->engine);
    if (!job->nviews && !groups)
        return WEIR_OK;
    weir_engine *e;
    int rc = weir_offsets_table(r->opt.store, true, &offsets, err); /* this thread is the store's writer */
    if (rc == WEIR_OK && groups)
        rc = copy_table(r->opt.store, &copy, err);
    if (rc == WEIR_OK)
        rc = weir_store_begin(r->opt.store, &txn, err);
    for (size_t i = 0; rc == WEIR_OK && groups && (e = runner_state_engine(r, i)); i++)
        rc = weir_engine_write_groups(e, txn, err);
    if (rc == WEIR_OK && groups)
        rc = weir_store_put(txn, copy, r->copy_key, strlen(r->copy_key), job->file.data, job->file.len, err);
    for (int i = 0; i < job->nviews && rc == WEIR_OK; i++) {
        const sealed_view *v = &job->views[i];
        rc = weir_view_checkpoint(v->view, txn, err);
        for (uint32_t p = 0; p < v->nparts && rc == WEIR_OK; p++)
            rc = weir_offsets_put(txn, offsets, WEIR_OFFSET_OUTPUT, v->name, p, v->ends[p], err);
    }
    if (rc) {
        weir_store_abort(txn);
        return weir_err_wrap(err, "checkpoint: state store");
    }
    rc = weir_store_commit(txn, err);
    return rc ? weir_err_wrap(err, "checkpoint: state store") : WEIR_OK;
}

/* Ends the checkpoint's hold on the engine and the views: steps go on. */
static void release(checkpoint_job *job)
{
    job->held_ms = (int64_t)((weir_mono_ns() - job->began_ns) / 1000000);
    atomic_store(&job->released, true);
}

/* The engine's state and the CRC after the head, and the views' rows
 * sealed; then (the engine free again, unless scale-out's tasks save
 * their states at the end) the store's commit and the file, then stable:
 * on the job's thread (or the caller's). */
static void *write_file(void *arg)
{
    checkpoint_job *job = arg;
    weir_buf *b = &job->file;
    size_t at = b->len;
    int rc = WEIR_OK;
    for (int i = 0; i < job->nviews && rc == WEIR_OK; i++)
        rc = weir_view_checkpoint_seal(job->views[i].view, &job->err);
    weir_engine *e;
    for (size_t i = 0; rc == WEIR_OK && weir_engine_has_store(job->engine) && (e = runner_state_engine(job->runner, i)); i++)
        rc = weir_engine_seal_groups(e, &job->err);
    if (rc == WEIR_OK && (weir_put_u32(b, 0) || weir_engine_save(job->engine, b)))
        rc = weir_err_set(&job->err, WEIR_ENOMEM, "checkpoint: out of memory");
    if (rc == WEIR_OK) {
        uint32_t state_len = (uint32_t)(b->len - at - 4);
        memcpy(b->data + at, &state_len, 4);
        if (workers_save(job->runner, b) || weir_put_u32(b, weir_crc32c(0, b->data, b->len)))
            rc = weir_err_set(&job->err, WEIR_ENOMEM, "checkpoint: out of memory");
    }
    if (!job->runner->opt.tasks)
        release(job);
    job->rc = rc ? rc : weir_io_write_file_atomic_then(job->io, job->path, b->data, b->len, commit_store, job, &job->err);
    if (job->rc == WEIR_OK)
        job->rc = weir_io_write_file_atomic(job->io, job->stable_path, job->stable.data ? job->stable.data : (uint8_t *)"",
                                            job->stable.len, &job->err);
    if (job->runner->opt.tasks)
        release(job);
    atomic_store(&job->done, true);
    return NULL;
}

/* The ends the checkpoint just written names are what the sinks may deliver. */
static void note_checkpointed(weir_runner *r, const uint64_t *ends)
{
    size_t at = 0;
    for (int i = 0; i < r->noutputs; i++)
        for (uint32_t p = 0; p < weir_stream_get_config(r->outputs[i].stream)->partitions; p++)
            r->outputs[i].checkpointed[p] = ends[at++];
}

/* rel's view in the store, or NULL (none without a store). */
static weir_table_view *view_of(const weir_runner *r, const weir_relation *rel)
{
    int k = rel && rel->is_table && r->opt.store && r->opt.views ? weir_catalog_index(r->cat, rel) : -1;
    return k >= 0 ? r->opt.views[k] : NULL;
}

/* Whether an engine of r reads the groups of rel's query from its rows, and some changed. */
static bool derived_output(weir_runner *r, const weir_relation *rel)
{
    weir_engine *e;
    for (size_t i = 0; (e = runner_state_engine(r, i)); i++)
        if (weir_engine_derived_changes(e, rel))
            return true;
    return false;
}

/* The views the checkpoint beginning writes, their rows sealed: derived
 * tables' (outputs) and source tables' (inputs); on the pipeline's thread. */
static int seal_views(weir_runner *r, checkpoint_job *job, weir_err *err)
{
    free(job->views);
    job->nviews = 0;
    if (!(job->views = malloc((size_t)(r->noutputs + r->ninputs + 1) * sizeof *job->views)))
        return weir_err_set(err, WEIR_ENOMEM, "checkpoint: out of memory");
    size_t at = 0;
    for (int i = 0; i < r->noutputs; i++) {
        output *o = &r->outputs[i];
        uint32_t n = weir_stream_get_config(o->stream)->partitions;
        weir_table_view *v = view_of(r, o->rel);
        if (v)
            job->views[job->nviews++] = (sealed_view){v, o->name, n, job->ends + at};
        else if (derived_output(r, o->rel)) /* its groups would be lost: the store has them only as its rows */
            return weir_err_set(err, WEIR_EINVAL, "checkpoint: table %s has no view in the state store, which keeps "
                                "its groups as its rows (a weir bug: please report it)", o->rel->name);
        at += n;
    }
    size_t nin = 0;
    for (int i = 0; i < r->ninputs; i++)
        nin += r->inputs[i].nparts;
    free(job->input_ends);
    if (!(job->input_ends = malloc((nin ? nin : 1) * sizeof *job->input_ends)))
        return weir_err_set(err, WEIR_ENOMEM, "checkpoint: out of memory");
    at = 0;
    for (int i = 0; i < r->ninputs; i++) { /* as the checkpoint begins: steps go on while the store is written */
        input *in = &r->inputs[i];
        weir_table_view *v = in->rel->is_source ? view_of(r, in->rel) : NULL;
        memcpy(job->input_ends + at, in->offset, in->nparts * sizeof *in->offset);
        if (v)
            job->views[job->nviews++] = (sealed_view){v, in->rel->name, in->nparts, job->input_ends + at};
        at += in->nparts;
    }
    for (int i = 0; i < job->nviews; i++)
        weir_view_checkpoint_begin(job->views[i].view);
    return WEIR_OK;
}

/* The checkpoint's views learn whether its store transaction committed. */
static void end_views(checkpoint_job *job, bool committed)
{
    for (int i = 0; i < job->nviews; i++)
        weir_view_checkpoint_end(job->views[i].view, committed);
    job->nviews = 0;
}

int checkpoint_begin(weir_runner *r, weir_err *err)
{
    checkpoint_job *job = &r->ckpt;
    job->began_ns = weir_mono_ns();
    r->checkpoint_changes = r->changes;
    r->changes = 0;
    r->last_checkpoint_wall_ms = weir_wall_ms();
    int rc = weir_log_commit(r->log, err);
    if (rc == WEIR_OK)
        rc = weir_log_sync(r->log, err); /* the outputs the checkpoint names are durable before it is */
    if (rc)
        return rc;
    r->epoch++;
    job->stable.len = 0;
    if ((rc = put_head(r, job, err)))
        return rc;
    job->engine = r->engine;
    job->runner = r;
    job->io = weir_log_io(r->log);
    snprintf(job->path, sizeof job->path, "%s/checkpoint", r->dir);
    snprintf(job->stable_path, sizeof job->stable_path, "%s/stable", r->dir);
    atomic_store(&job->done, false);
    atomic_store(&job->released, false);
    job->rc = WEIR_OK;
    if ((rc = seal_views(r, job, err)))
        return rc;
    job->begun = true;
    job->threaded = pthread_create(&job->thread, NULL, write_file, job) == 0;
    if (!job->threaded) /* no thread to be had: write it here */
        write_file(job);
    return WEIR_OK;
}

int checkpoint_end(weir_runner *r, weir_err *err)
{
    checkpoint_job *job = &r->ckpt;
    if (!job->begun)
        return WEIR_OK;
    if (job->threaded)
        pthread_join(job->thread, NULL);
    job->begun = job->threaded = false;
    end_views(job, job->rc == WEIR_OK); /* a store that committed before a failed rename is written again: harmless */
    weir_engine *e;
    for (size_t i = 0; (e = runner_state_engine(r, i)); i++)
        weir_engine_groups_written(e, job->rc == WEIR_OK);
    weir_buf_free(&job->file); /* a large state's: not kept between checkpoints */
    int rc = job->rc ? weir_err_set(err, job->rc, "%s", job->err.msg) : WEIR_OK;
    for (int i = 0; i < r->ninputs && rc == WEIR_OK; i++)
        if (r->inputs[i].ops)
            r->inputs[i].ops->checkpointed(r->inputs[i].source, r->inputs[i].offset, r->inputs[i].nparts);
    if (rc == WEIR_OK) {
        note_checkpointed(r, job->ends);
        rc = budget_trim(r, err); /* every entry sealed is in the store now */
    }
    if (rc == WEIR_OK && r->opt.tasks)
        rc = tasks_checkpointed(r, err);
    /* The interval is ten times this: ten times the steps' wait, and at least twice the
     * whole checkpoint, so that the store's writes (which grow with what changed) take
     * at most half of the time beside the steps and larger commits share their pages. */
    int64_t total_ms = (int64_t)((weir_mono_ns() - job->began_ns) / 1000000);
    r->checkpoint_cost_ms = job->held_ms > total_ms / 5 ? job->held_ms : total_ms / 5;
    return rc;
}

/* A checkpoint's epoch, whether its engine state keeps groups in the
 * store, and where its partitions' engines' states are, from its head
 * (put_head's layout); damaged, it keeps none (and restoring it says what
 * is wrong). */
static void head_of(const uint8_t *data, size_t len, uint64_t *epoch, bool *in_store, weir_reader_buf *engines)
{
    weir_reader_buf b = {data, data + len, false};
    weir_get_u32(&b);
    weir_get_u64(&b);
    *epoch = weir_get_u64(&b);
    for (int list = 0; list < 2 && !b.bad; list++) { /* inputs, then outputs */
        uint32_t n = weir_get_u32(&b), name_len;
        for (uint32_t i = 0; i < n && !b.bad; i++) {
            weir_get_bytes(&b, &name_len);
            uint32_t parts = weir_get_u32(&b);
            if ((size_t)(b.end - b.p) / 8 < parts)
                b.bad = true;
            else
                b.p += (size_t)parts * 8;
        }
    }
    uint32_t state_len;
    const uint8_t *state = weir_get_bytes(&b, &state_len);
    *in_store = !b.bad && weir_engine_state_in_store(state, state_len);
    if (engines) /* partitions' engines' states (workers.c) before the CRC: none if damaged */
        *engines = b.bad || b.end - b.p < 4 ? (weir_reader_buf){b.p, b.p, false} : (weir_reader_buf){b.p, b.end - 4, false};
}

typedef struct layout_ctx {
    const weir_runner *r;
    bool *per_input;
} layout_ctx;

static int mark_input(void *ctx, const char *name, uint32_t name_len, uint32_t parts, uint32_t p, const uint8_t *state,
                      uint32_t len, weir_err *err)
{
    (void)parts, (void)p, (void)state, (void)len, (void)err;
    layout_ctx *lc = ctx;
    for (int i = 0; i < lc->r->ninputs; i++)
        if (strlen(lc->r->inputs[i].rel->name) == name_len && !memcmp(lc->r->inputs[i].rel->name, name, name_len))
            lc->per_input[i] = true;
    return WEIR_OK;
}

/* The checkpoint copy the store holds, if any (*copy malloc'd, NULL if none). */
static int store_copy(weir_store *store, const char *key, char **copy, size_t *len, weir_err *err)
{
    weir_store_table t;
    weir_store_snap *snap;
    const void *val;
    bool found = false;
    *copy = NULL;
    int rc = copy_table(store, &t, err);
    if (rc == WEIR_OK && (rc = weir_store_snap_begin(store, &snap, err)) == WEIR_OK) {
        rc = weir_store_snap_get(snap, t, key, strlen(key), &val, len, &found, err);
        if (rc == WEIR_OK && found && !(*copy = malloc(*len ? *len : 1)))
            rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
        if (*copy)
            memcpy(*copy, val, *len);
        weir_store_snap_end(snap);
    }
    return rc;
}

void checkpoint_layout(const weir_runner *r, const char *data, size_t len, bool *per_input)
{
    uint64_t epoch;
    bool in_store;
    weir_reader_buf parts;
    weir_err ignored;
    head_of((const uint8_t *)data, len, &epoch, &in_store, &parts);
    layout_ctx lc = {r, per_input};
    (void)workers_read_states(&parts, mark_input, &lc, &ignored); /* damaged, it keeps none: restoring says what is wrong */
}

/* A start without a checkpoint: the store keeps none of its groups, nor its copy. */
static int store_empty(weir_runner *r, weir_err *err)
{
    weir_store_table t;
    weir_store_txn *txn;
    int rc = copy_table(r->opt.store, &t, err);
    if (rc == WEIR_OK)
        rc = weir_store_begin(r->opt.store, &txn, err);
    if (rc)
        return rc;
    weir_engine *e;
    for (size_t i = 0; rc == WEIR_OK && (e = runner_state_engine(r, i)); i++)
        rc = weir_engine_clear_groups(e, r->opt.store, txn, err);
    bool existed;
    if (rc == WEIR_OK)
        rc = weir_store_del(txn, t, r->copy_key, strlen(r->copy_key), &existed, err);
    if (rc) {
        weir_store_abort(txn);
        return rc;
    }
    return weir_store_commit(txn, err);
}

int checkpoint_read(const weir_runner *r, char **data, size_t *len, weir_err *err)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/checkpoint", r->dir);
    int got = weir_io_read_file(weir_log_io(r->log), path, data, len, err); /* *data NULL unless read */
    if ((got != WEIR_OK && got != WEIR_ENOENT) || !r->opt.store || r->opt.tasks)
        return got; /* scale-out's engines keep their groups in their task states */
    char *copy;
    size_t copy_len;
    uint64_t file_epoch = 0, copy_epoch = 0;
    bool file_in_store = false, copy_in_store;
    int rc = r->new_dir ? WEIR_OK : store_copy(r->opt.store, r->copy_key, &copy, &copy_len, err);
    if (r->new_dir)
        copy = NULL;
    if (rc) {
        free(*data);
        *data = NULL;
        return weir_err_wrap(err, "opening the state store's checkpoint");
    }
    if (got == WEIR_OK)
        head_of((const uint8_t *)*data, *len, &file_epoch, &file_in_store, NULL);
    if (copy)
        head_of((const uint8_t *)copy, copy_len, &copy_epoch, &copy_in_store, NULL);
    if (copy && (got == WEIR_ENOENT || copy_epoch > file_epoch)) {
        /* The store committed a checkpoint whose file never replaced the old one (a crash between the two): it stands. */
        if (got == WEIR_OK)
            free(*data);
        *data = copy;
        *len = copy_len;
        return WEIR_OK;
    }
    free(copy);
    if (got == WEIR_OK && file_in_store && (!copy || copy_epoch != file_epoch)) {
        free(*data);
        *data = NULL;
        return weir_err_set(err, WEIR_ECORRUPT, "%s/checkpoint (epoch %llu) keeps the aggregation groups in the state "
                            "store, but the store's last checkpoint is %s %llu: it was replaced or lost; `weir serve "
                            "--reset` rebuilds the state from the retained inputs", r->dir,
                            (unsigned long long)file_epoch, copy ? "epoch" : "absent, epoch", (unsigned long long)copy_epoch);
    }
    return got;
}

int checkpoint_attach(weir_runner *r, bool fresh, weir_err *err)
{
    if (!r->opt.store || r->opt.tasks)
        return WEIR_OK;
    int rc = fresh ? store_empty(r, err) : WEIR_OK;
    if (rc)
        return weir_err_wrap(err, "emptying the state store's groups for a start without a checkpoint");
    weir_engine *e;
    for (size_t i = 0; rc == WEIR_OK && (e = runner_state_engine(r, i)); i++) {
        weir_engine_rows_in_views(e, r->opt.views != NULL); /* the runtime's: a view of every table */
        rc = weir_engine_attach_store(e, r->opt.store, err);
    }
    r->scanning = rc == WEIR_OK; /* budget_step adds the store's group keys to the filters, a chunk at a time */
    return rc;
}

int checkpoint_poll(weir_runner *r, bool *held, weir_err *err)
{
    *held = r->ckpt.begun && !atomic_load(&r->ckpt.released);
    if (r->ckpt.begun && !*held && atomic_load(&r->ckpt.done))
        return checkpoint_end(r, err);
    *held = weir_runner_checkpointing(r);
    return WEIR_OK;
}

void checkpoint_free(weir_runner *r)
{
    if (r->ckpt.threaded)
        pthread_join(r->ckpt.thread, NULL);
    if (r->ckpt.begun) /* never ended: its rows go to the next runner's checkpoint */
        end_views(&r->ckpt, false);
    weir_buf_free(&r->ckpt.file);
    weir_buf_free(&r->ckpt.stable);
    free(r->ckpt.ends);
    free(r->ckpt.views);
    free(r->ckpt.input_ends);
}

int weir_runner_checkpoint(weir_runner *r, weir_err *err)
{
    int rc = checkpoint_end(r, err); /* one under way goes first */
    if (rc == WEIR_OK)
        rc = checkpoint_begin(r, err);
    return rc ? rc : checkpoint_end(r, err);
}

bool weir_runner_checkpointing(const weir_runner *r)
{
    /* or the state outgrew its bound while the store is written (budget.c): the steps wait for it */
    return r->ckpt.begun && (!atomic_load(&r->ckpt.released) || budget_full(r));
}
