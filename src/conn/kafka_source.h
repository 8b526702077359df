/*
 * kafka_source.h - pipeline inputs read from Kafka topics (see
 * kafka_source.c), plugged into the runner as its weir_input_open_fn.
 */
#ifndef WEIR_KAFKA_SOURCE_H
#define WEIR_KAFKA_SOURCE_H

#include "exec/input.h"

typedef struct weir_kafka_input_config {
    const char *brokers;       /* serve --kafka: for streams that name none */
    const char *group;         /* the consumer group (offsets for outside tools); NULL: "weir" */
} weir_kafka_input_config;

/* weir_input_open_fn: ctx is a weir_kafka_input_config (or NULL); streams
 * without a kafka topic are left to the log. */
int weir_kafka_input_open(void *ctx, const weir_relation *rel, const uint64_t *offsets, uint32_t partitions,
                          const weir_input_tasks *tasks, const weir_input_ops **ops, void **state, weir_err *err);

/* Completes a catalog for Kafka: each stream read from a topic gets a sink
 * forwarding what is ingested into its local stream to that topic (the
 * local log buffers while Kafka is down). With everything (serve --kafka)
 * also every source without a connector reads the topic of its name and
 * every table and derived stream that has no Kafka sink of its own is delivered
 * to the topic of its name. */
struct weir_arena;
int weir_kafka_plan(weir_catalog *cat, struct weir_arena *a, bool everything, weir_err *err);

#endif
