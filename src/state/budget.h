/*
 * budget.h - the memory the state keeps beside its store, bounded
 * (`weir serve --state-memory`; docs/STATE_STORE.md, "Bounded memory").
 *
 * What memory holds that the store holds too (an engine's group or a
 * table view's row unchanged since a committed checkpoint) may be dropped
 * and read from the store again when next used. Each holder counts the
 * bytes it could drop by age, in ticks (a tick is a checkpoint) since the
 * entry was last changed; the least recently changed go first, across
 * every holder: weir_budget_cut finds the age from which to drop.
 */
#ifndef WEIR_BUDGET_H
#define WEIR_BUDGET_H

#include <stdint.h>

/* Ages kept apart: the last counts this many ticks and more. */
#define WEIR_BUDGET_AGES 32

typedef struct weir_budget_ages {
    uint64_t bytes[WEIR_BUDGET_AGES]; /* [a]: bytes of droppable entries last changed a ticks ago */
} weir_budget_ages;

/* What to drop: every droppable entry older than age, and of age `age`
 * a fraction frac of each holder's bytes (at least one byte's worth). */
typedef struct weir_budget_cut {
    unsigned age;
    double frac;
} weir_budget_cut;

/* The cut that frees `excess` bytes of those in all, oldest first (all
 * of them when they are fewer). */
static inline weir_budget_cut weir_budget_find(const weir_budget_ages *all, uint64_t excess)
{
    uint64_t acc = 0;
    for (unsigned a = WEIR_BUDGET_AGES; a-- > 0;) {
        if (all->bytes[a] && acc + all->bytes[a] >= excess)
            return (weir_budget_cut){a, (double)(excess - acc) / (double)all->bytes[a]};
        acc += all->bytes[a];
    }
    return (weir_budget_cut){0, 1.0};
}

/* The age bucket of an entry stamped `then` at tick `now` (16-bit ticks,
 * counted modulo 2^16). */
static inline unsigned weir_budget_age(uint16_t now, uint16_t then)
{
    unsigned age = (uint16_t)(now - then);
    return age < WEIR_BUDGET_AGES ? age : WEIR_BUDGET_AGES - 1;
}

#endif
