/*
 * groups.h - what the runners of a runtime counted (groups.c), for the
 * CLI's summary: the pipeline thread's. (runtime.h stays free of exec/
 * types: the HTTP layer includes it.)
 */
#ifndef WEIR_RUNTIME_GROUPS_H
#define WEIR_RUNTIME_GROUPS_H

#include "exec/engine.h"
#include "runtime/runtime.h"

/* A catalog query's counters, and the dead letters of stream src by
 * reason (added to counts), over every runner. */
void weir_runtime_query_stats(const weir_runtime *s, int query, weir_query_stats *out);
void weir_runtime_dead_counts(const weir_runtime *s, const weir_relation *src, uint64_t counts[WEIR_DEAD_REASONS]);

#endif
