/*
 * kafka_source.h - what serve --kafka adds to a pipeline around the Kafka
 * source connector (kafka_source.c; the connector itself, a runner input,
 * is found through the registry, connectors.h).
 */
#ifndef WEIR_KAFKA_SOURCE_H
#define WEIR_KAFKA_SOURCE_H

#include "conn/source.h"

/* Completes a catalog for Kafka: each stream read from a topic gets a sink
 * forwarding what is ingested into its local stream to that topic (the
 * local log buffers while Kafka is down), and reads with group (NULL:
 * "weir") and, when it names none, brokers. With brokers (serve --kafka)
 * also every source without a connector reads the topic of its name and
 * every table and derived stream that has no Kafka sink of its own is
 * delivered to the topic of its name, and every source's dead letters to
 * the topic <stream>.dlq. config: serve --kafka-config's
 * librdkafka properties (name, value, ..., NULL), or NULL. exactly_once
 * (serve --kafka-exactly-once, scale-out): the runner's tasks write the
 * derived streams, tables, repartition streams and dead letters to their
 * topics in Kafka transactions, so they get no sink, a sink declared
 * reading one is refused, and sources read committed records only. */
int weir_kafka_plan(weir_catalog *cat, weir_arena *a, const char *brokers, const char *group,
                    const char *const *config, bool exactly_once, weir_err *err);

#endif
