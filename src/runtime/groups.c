/*
 * groups.c - the runners of a runtime: one for the pipeline file's
 * queries, and one per group of statements added at runtime
 * (statements.c), each with its own checkpoint, so that a query added
 * later reads its inputs from their start while the others go on from
 * theirs. Every runner sees every relation of the catalog but runs only
 * its group's queries; a stream another runner writes is read only up to
 * that runner's last checkpoint (what a crash cannot roll back). Also
 * what the rest of the runtime asks of "the pipeline", over all of them.
 */
#include "runtime/runtime_internal.h"

#include <stdlib.h>
#include <string.h>

/* Whether some query of group g reads rel, or g keeps its view (a source table it declared). */
static bool group_reads(const runner_group *g, const weir_relation *rel, int index)
{
    if (rel->is_table && rel->is_source && index >= g->rels_begin && index < g->rels_end)
        return true;
    for (int q = 0; q < g->cat.nqueries; q++)
        if (g->cat.queries[q]->source == rel || (g->cat.queries[q]->join && g->cat.queries[q]->join->right == rel))
            return true;
    return false;
}

/* runner readable: another group's output no further than its last checkpoint. */
static uint64_t readable(void *ctx, const char *stream, uint32_t partition)
{
    const runner_group *self = ctx;
    const weir_runtime *s = self->runtime;
    uint64_t end;
    for (int i = 0; i < s->ngroups; i++)
        if (&s->groups[i] != self && s->groups[i].runner &&
            weir_runner_checkpointed_end(s->groups[i].runner, stream, partition, &end))
            return end;
    return UINT64_MAX;
}

/* Which group writes the dead letters of each stream's records that no
 * reader could take: the first that reads it, so that each is written once. */
static int assign_input_letters(weir_runtime *s, weir_err *err)
{
    for (int i = 0; i < s->ngroups; i++)
        if (!(s->groups[i].input_letters = calloc((size_t)s->cat->nrels + 1, sizeof *s->groups[i].input_letters)))
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    for (int k = 0; k < s->cat->nrels; k++)
        for (int i = 0; i < s->ngroups; i++)
            if (group_reads(&s->groups[i], s->cat->rels[k], k)) {
                s->groups[i].input_letters[k] = true;
                break;
            }
    return WEIR_OK;
}

int runtime_groups_open(weir_runtime *s, weir_err *err)
{
    int rc = assign_input_letters(s, err);
    for (int i = 0; i < s->ngroups && rc == WEIR_OK; i++) {
        runner_group *g = &s->groups[i];
        bool needed = i == 0 || g->cat.nqueries > 0; /* or a source table to keep the view of */
        for (int k = g->rels_begin; k < g->rels_end && !needed; k++)
            needed = group_reads(g, s->cat->rels[k], k);
        if (!needed)
            continue;
        weir_runner_options ro = s->runner_opt;
        ro.group = g->name;
        ro.rels_begin = g->rels_begin;
        ro.rels_end = g->rels_end;
        if (s->ngroups > 1) {
            ro.readable = readable;
            ro.readable_ctx = g;
            ro.input_letters = g->input_letters;
        }
        rc = weir_runner_open(s->log, &g->cat, g->sql, g->sql_len, &ro, &g->runner, err);
        if (rc && g->name)
            weir_err_wrap(err, "the statements added at runtime as %s", g->name);
    }
    return rc;
}

void runtime_groups_close(weir_runtime *s)
{
    for (int i = 0; i < s->ngroups; i++) {
        weir_runner_close(s->groups[i].runner);
        s->groups[i].runner = NULL;
        free(s->groups[i].input_letters);
        s->groups[i].input_letters = NULL;
    }
}

int runtime_groups_step(weir_runtime *s, int64_t now_ms, uint64_t *processed, weir_err *err)
{
    int rc = WEIR_OK;
    *processed = 0;
    for (int i = 0; i < s->ngroups && rc == WEIR_OK; i++) {
        uint64_t n = 0;
        if (s->groups[i].runner)
            rc = weir_runner_step(s->groups[i].runner, now_ms, &n, err);
        *processed += n;
    }
    return rc;
}

int runtime_groups_checkpoint(weir_runtime *s, bool finish, weir_err *err)
{
    int rc = WEIR_OK;
    for (int i = 0; i < s->ngroups && rc == WEIR_OK; i++)
        if (s->groups[i].runner)
            rc = finish ? weir_runner_finish(s->groups[i].runner, err) : weir_runner_checkpoint(s->groups[i].runner, err);
    return rc;
}

bool weir_runtime_caught_up(weir_runtime *s, bool ask_sources)
{
    for (int i = 0; i < s->ngroups; i++)
        if (s->groups[i].runner && !weir_runner_caught_up(s->groups[i].runner, ask_sources))
            return false;
    return true;
}

bool runtime_checkpointing(const weir_runtime *s)
{
    for (int i = 0; i < s->ngroups; i++)
        if (s->groups[i].runner && weir_runner_checkpointing(s->groups[i].runner))
            return true;
    return false;
}

int64_t runtime_checkpoint_ms(const weir_runtime *s)
{
    int64_t oldest = INT64_MAX;
    for (int i = 0; i < s->ngroups; i++)
        if (s->groups[i].runner && weir_runner_checkpoint_ms(s->groups[i].runner) < oldest)
            oldest = weir_runner_checkpoint_ms(s->groups[i].runner);
    return oldest == INT64_MAX ? 0 : oldest;
}

const runner_group *runtime_query_group(const weir_runtime *s, int query, int *local)
{
    for (int i = 0; i < s->ngroups; i++) {
        const runner_group *g = &s->groups[i];
        if (query >= g->first_query && query < g->first_query + g->cat.nqueries) {
            *local = query - g->first_query;
            return g;
        }
    }
    return NULL;
}

void weir_runtime_query_stats(const weir_runtime *s, int query, weir_query_stats *out)
{
    int local;
    const runner_group *g = runtime_query_group(s, query, &local);
    *out = (weir_query_stats){0};
    if (g && g->runner)
        weir_runner_query_stats(g->runner, local, out);
}

void weir_runtime_dead_counts(const weir_runtime *s, const weir_relation *src, uint64_t counts[WEIR_DEAD_REASONS])
{
    int k = weir_catalog_index(s->cat, src);
    for (int i = 0; i < s->ngroups; i++) {
        uint64_t mine[WEIR_DEAD_REASONS] = {0};
        if (!s->groups[i].runner)
            continue;
        weir_runner_dead_counts(s->groups[i].runner, src, mine);
        bool letters = k < 0 || !s->groups[i].input_letters || s->groups[i].input_letters[k];
        for (int r = 0; r < WEIR_DEAD_REASONS; r++) /* a record no reader could take counts once */
            counts[r] += letters || !weir_dead_of_record((weir_dead_reason)r) ? mine[r] : 0;
    }
}

bool runtime_input_lag(const weir_runtime *s, const char *stream, uint32_t partition, uint64_t *lag)
{
    bool found = false; /* the runner furthest behind */
    for (int i = 0; i < s->ngroups; i++) {
        uint64_t l;
        if (s->groups[i].runner && weir_runner_input_lag(s->groups[i].runner, stream, partition, &l)) {
            *lag = found && *lag > l ? *lag : l;
            found = true;
        }
    }
    return found;
}

bool runtime_needs_placement(const weir_runtime *s, const char *stream)
{
    for (int i = 0; i < s->ngroups; i++)
        if (s->groups[i].runner && weir_runner_needs_placement(s->groups[i].runner, stream))
            return true;
    return false;
}

bool runtime_checkpointed_end(const weir_runtime *s, const char *stream, uint32_t partition, uint64_t *end)
{
    for (int i = 0; i < s->ngroups; i++)
        if (s->groups[i].runner && weir_runner_checkpointed_end(s->groups[i].runner, stream, partition, end))
            return true;
    return false;
}

weir_state_memory runtime_state_memory(const weir_runtime *s)
{
    weir_state_memory sum = {0};
    for (int i = 0; i < s->ngroups; i++)
        if (s->groups[i].runner) {
            weir_state_memory m = weir_runner_state_memory(s->groups[i].runner);
            sum.bytes += m.bytes;
            sum.limit = m.limit;
            sum.dropped += m.dropped;
        }
    return sum;
}
