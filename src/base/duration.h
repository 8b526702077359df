/*
 * duration.h - a retention duration as people write it, for the planner's
 * WITH (retention = ...) and serve --retention alike (duration.c).
 */
#ifndef WEIR_DURATION_H
#define WEIR_DURATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How long what does not say is kept: a stream's records under serve, a
 * windowed table's windows past their end. Kafka's log.retention.hours = 168. */
#define WEIR_DEFAULT_RETENTION_MS (7LL * 24 * 3600 * 1000)

/* Parses a retention duration: '7 days', '1 hour', '30 minutes', '10
 * seconds', '250 ms' (singular or plural, 'd', 'h', 'min', 's' too), a
 * bare number of milliseconds, or 'forever' / '-1' (*ms = -1: never).
 * False with a reason in why (cap bytes) otherwise. */
bool weir_retention_parse(const char *text, int64_t *ms, char *why, size_t cap);

#endif
