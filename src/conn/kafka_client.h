/*
 * kafka_client.h - what the Kafka sink and the Kafka source both need from
 * librdkafka.
 */
#ifndef WEIR_KAFKA_CLIENT_H
#define WEIR_KAFKA_CLIENT_H

#include <librdkafka/rdkafka.h>

#include "base/err.h"

/* Sets a client property; WEIR_EINVAL naming it and why, if refused. */
int weir_kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, weir_err *err);

/* The topic's partition count from the cluster's metadata, or -1 if it
 * cannot be learned within timeout_ms (no broker, no such topic). */
int weir_kafka_topic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms);

#endif
