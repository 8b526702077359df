/*
 * budget.c - the state's memory bounded (weir_runner_options.state_memory;
 * docs/STATE_STORE.md, "Bounded memory").
 *
 * After each checkpoint that committed, every entry the store holds as it
 * is may leave memory: the engine's groups (those of queries without a
 * window: windowed groups leave as their windows close) and the table
 * views' rows. Each holder stamps its entries with the tick of their last
 * change; past the bound, the least recently changed leave first, across
 * holders, until the state is at half the bound.
 *
 * What changed since the last checkpoint cannot leave memory: a state
 * grown by a quarter of the bound since then, or as many changes waiting
 * as one checkpoint may cover (changes_cap), calls for a checkpoint
 * before its interval is up (budget_due), and twice that, while a
 * checkpoint is being written, holds the steps until it is (budget_full:
 * the store's writes set the pace then). That also caps what one
 * checkpoint writes, and so the memory its batches and LMDB's copies of
 * the pages it dirties take (freed by weir_store_release after it).
 *
 * The store's map pages that reads mapped (RssFile: page cache the kernel
 * may reclaim, but counted in the process's RSS) are unmapped after
 * steps, every 20 ms (budget_step), every 2,048 writes of a checkpoint's
 * transaction, and at each release.
 */
#include <malloc.h>

#include "exec/runner_internal.h"

#include "base/clock.h"

/* Calls fn on every view kept in the store that this runner writes: its
 * outputs' and the source tables it keeps (another runner's views are
 * that runner's, sealed by its checkpoints). */
static void each_view(const weir_runner *r, void (*fn)(weir_table_view *v, void *ctx), void *ctx)
{
    for (int i = 0; r->opt.store && r->opt.views && i < r->noutputs; i++) {
        int k = r->outputs[i].rel ? weir_catalog_index(r->cat, r->outputs[i].rel) : -1;
        if (k >= 0 && r->opt.views[k])
            fn(r->opt.views[k], ctx);
    }
    for (int i = 0; r->opt.store && r->opt.views && i < r->ninputs; i++) {
        const weir_relation *rel = r->inputs[i].rel;
        int k = rel->is_table && rel->is_source && runner_owns(r, rel) ? weir_catalog_index(r->cat, rel) : -1;
        if (k >= 0 && r->opt.views[k])
            fn(r->opt.views[k], ctx);
    }
}

static void tick(weir_table_view *v, void *ctx)
{
    (void)ctx;
    weir_view_tick(v);
}

static void add_bytes(weir_table_view *v, void *ctx) { *(uint64_t *)ctx += weir_view_bytes(v); }

static void add_ages(weir_table_view *v, void *ctx) { weir_view_droppable(v, ctx); }

typedef struct drop_call {
    weir_budget_cut cut;
    uint64_t dropped;
} drop_call;

static void drop(weir_table_view *v, void *ctx)
{
    drop_call *d = ctx;
    weir_budget_ages mine = {0};
    weir_view_droppable(v, &mine);
    d->dropped += weir_view_drop(v, d->cut.age, (uint64_t)(d->cut.frac * (double)mine.bytes[d->cut.age]) + 1);
}

static uint64_t state_bytes(const weir_runner *r)
{
    uint64_t n = 0;
    weir_engine *e;
    for (size_t i = 0; (e = runner_state_engine(r, i)); i++)
        n += weir_engine_groups_bytes(e);
    each_view(r, add_bytes, &n);
    return n;
}

/* Changes (records read and rows written) one checkpoint covers at most
 * under the bound: a 1,024th of it (256 Ki changes at 256 MiB). A
 * checkpoint's own memory is its changes' state, batches and redo copy,
 * and the copies LMDB makes of the pages its puts dirty (4 KiB each,
 * kept until weir_store_release); but where keys are random (Collatz's
 * value_numbers) a commit dirties about every leaf of the table whatever
 * its size, so its cost follows the table, not its changes, and the
 * number of commits sets the store's time: at 3M Collatz steps a commit
 * wrote 450-630 MB with 64 Ki, 128 Ki or 256 Ki changes, and a 4,096th
 * of the bound (79 commits) took the load from 36k steps/s to 20k, a
 * 2,048th (41 commits) 37k, a 1,024th (30) 43k, with peak RssAnon 630,
 * 750 and 850 MiB (BENCHMARKS.md, "Bounded memory: the load rate"). At a
 * 1,024th the state's growth (a quarter of the bound) starts Collatz's
 * checkpoints before the cap does; LMDB holds at most 128 Ki dirty pages
 * a transaction (it writes the rest early), which bounds the pages'
 * part whatever the cap. */
static uint64_t changes_cap(const weir_runner *r)
{
    uint64_t n = r->opt.state_memory / 1024;
    return n > 4096 ? n : 4096;
}

/* What memory holds beyond the bound, of what the store holds as it is, leaves it. */
static void drop_over(weir_runner *r)
{
    weir_budget_ages all = {0};
    weir_engine *e;
    each_view(r, add_ages, &all);
    for (size_t i = 0; (e = runner_state_engine(r, i)); i++)
        weir_engine_droppable(e, &all);
    drop_call d = {weir_budget_find(&all, r->memory.bytes - r->opt.state_memory / 2), 0};
    each_view(r, drop, &d);
    for (size_t i = 0; (e = runner_state_engine(r, i)); i++)
        d.dropped += weir_engine_drop_groups(e, d.cut);
    r->memory.dropped += d.dropped;
    r->memory.bytes = state_bytes(r);
    malloc_trim(0); /* what was dropped goes back to the system, not only to malloc's free lists */
}

int budget_trim(weir_runner *r, weir_err *err)
{
    if (!r->opt.store || r->opt.tasks)
        return WEIR_OK;
    each_view(r, tick, NULL);
    weir_engine *e;
    for (size_t i = 0; (e = runner_state_engine(r, i)); i++)
        weir_engine_groups_tick(e);
    r->memory.bytes = state_bytes(r);
    if (!r->opt.state_memory)
        return WEIR_OK;
    weir_store_unmap_every(r->opt.store, 2048); /* the checkpoints' writes too (another runner's beside them is safe) */
    bool over = r->memory.bytes > r->opt.state_memory;
    if (over)
        drop_over(r);
    /* LMDB keeps its copies of the pages the largest transaction dirtied, and the map's pages read stay mapped */
    int rc = over || r->checkpoint_changes >= changes_cap(r) / 4 ? weir_store_release(r->opt.store, err) : WEIR_OK;
    return rc == WEIR_EBUSY ? WEIR_OK : rc; /* a snapshot is open, or another runner writes: after a later checkpoint */
}

/* Whether the state grew by parts/4 of the bound since the last trim, or
 * the changes since the last checkpoint reached parts times the cap. */
static bool grew(const weir_runner *r, uint64_t parts)
{
    if (!r->opt.state_memory || !r->opt.store || r->opt.tasks)
        return false;
    if (r->changes >= changes_cap(r) * parts)
        return true;
    uint64_t now = state_bytes(r);
    return now > r->memory.bytes && now - r->memory.bytes >= r->opt.state_memory / 4 * parts;
}

bool budget_due(const weir_runner *r) { return grew(r, 1); }

bool budget_full(const weir_runner *r) { return grew(r, 2); }

/* After a restart, the store's group keys into the engines' filters
 * (weir_engine_scan_stored), 4 Ki at a time for a quarter of the time
 * since the last call, 200 ms at most: a step under a bound can take
 * seconds, so a count per call would take the scan the whole load. */
static void scan_stored(weir_runner *r, int64_t since_ms)
{
    uint64_t until = weir_mono_ns() + (uint64_t)(since_ms / 4 < 200 ? since_ms / 4 : 200) * 1000000u;
    do { /* a chunk of each engine's (one done scans nothing) */
        weir_engine *e;
        r->scanning = false;
        for (size_t i = 0; (e = runner_state_engine(r, i)); i++)
            r->scanning |= weir_engine_scan_stored(e, 4096);
    } while (r->scanning && weir_mono_ns() < until);
}

void budget_step(weir_runner *r, int64_t now_ms)
{
    int64_t since = now_ms - r->unmapped_ms;
    if (!r->opt.store || r->opt.tasks || since < 20)
        return;
    r->unmapped_ms = now_ms;
    if (r->scanning && (!r->ckpt.begun || atomic_load(&r->ckpt.released))) /* the engine is not the checkpoint's */
        scan_stored(r, since);
    if (r->opt.state_memory)
        weir_store_unmap(r->opt.store);
}

uint32_t budget_batch(const weir_runner *r)
{
    if (!r->opt.state_memory || !r->opt.store || r->opt.tasks)
        return r->opt.batch;
    uint64_t parts = 0;
    for (int i = 0; i < r->ninputs; i++)
        parts += r->inputs[i].nparts;
    /* a record makes a few changes (its rows): a step of all partitions, an eighth of the cap or so */
    uint64_t n = changes_cap(r) / 8 / (parts ? parts : 1);
    return n >= r->opt.batch ? r->opt.batch : n > 64 ? (uint32_t)n : 64;
}

weir_state_memory weir_runner_state_memory(const weir_runner *r)
{
    weir_state_memory m = r->memory;
    m.limit = r->opt.state_memory;
    return m;
}
