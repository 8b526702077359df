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

typedef void weir_kafka_delivery_fn(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);

/* A client with the properties props (name, value, ..., NULL) and, for a
 * producer, delivery reports to on_delivery with opaque; NULL with err
 * filled if a property or the client is refused. */
rd_kafka_t *weir_kafka_new(rd_kafka_type_t type, const char *const *props, weir_kafka_delivery_fn *on_delivery,
                           void *opaque, weir_err *err);

/* The topic's partition count from the cluster's metadata, or -1 if it
 * cannot be learned within timeout_ms (no broker, no such topic). */
int weir_kafka_topic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms);

#endif
