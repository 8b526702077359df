/*
 * budget.c - the state's memory bounded (weir_runner_options.state_memory;
 * docs/STATE_STORE.md, "Bounded memory").
 *
 * After each checkpoint that committed, every entry the store holds as it
 * is may leave memory: the engine's groups (those of queries without a
 * window: windowed groups leave as their windows close) and the table
 * views' rows. Each holder stamps its entries with the tick of their last
 * change; past the bound, the least recently changed leave first, across
 * holders, until the state is at 3/4 of the bound (so that the next
 * checkpoints need not drop again at once).
 */
#include <malloc.h>

#include "exec/runner_internal.h"

/* Calls fn on every view kept in the store. */
static void each_view(weir_runner *r, void (*fn)(weir_table_view *v, void *ctx), void *ctx)
{
    for (int i = 0; r->opt.store && r->opt.views && i < r->cat->nrels; i++)
        if (r->opt.views[i])
            fn(r->opt.views[i], ctx);
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

static uint64_t state_bytes(weir_runner *r)
{
    uint64_t n = weir_engine_groups_bytes(r->engine);
    each_view(r, add_bytes, &n);
    return n;
}

void budget_trim(weir_runner *r)
{
    if (!r->opt.store || r->opt.tasks)
        return;
    each_view(r, tick, NULL);
    weir_engine_groups_tick(r->engine);
    r->memory.bytes = state_bytes(r);
    if (!r->opt.state_memory || r->memory.bytes <= r->opt.state_memory)
        return;
    weir_budget_ages all = {0};
    each_view(r, add_ages, &all);
    weir_engine_droppable(r->engine, &all);
    drop_call d = {weir_budget_find(&all, r->memory.bytes - r->opt.state_memory / 4 * 3), 0};
    each_view(r, drop, &d);
    d.dropped += weir_engine_drop_groups(r->engine, d.cut);
    r->memory.dropped += d.dropped;
    r->memory.bytes = state_bytes(r);
    malloc_trim(0); /* what was dropped goes back to the system, not only to malloc's free lists */
}

weir_state_memory weir_runner_state_memory(const weir_runner *r)
{
    weir_state_memory m = r->memory;
    m.limit = r->opt.state_memory;
    return m;
}
