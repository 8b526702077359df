/*
 * kafka_mock.h - librdkafka's mock cluster in the test's own process, for
 * the unit tests of the Kafka connector's parts: its handle owns the
 * cluster. Stops the test when it cannot start.
 */
#ifndef WEIR_TEST_KAFKA_MOCK_H
#define WEIR_TEST_KAFKA_MOCK_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "../tap.h"

/* A cluster of brokers brokers; *owner is the handle to destroy after it. */
static inline rd_kafka_mock_cluster_t *mock_cluster_start(int brokers, rd_kafka_t **owner)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
        BAIL("%s", errstr);
    *owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    rd_kafka_mock_cluster_t *mc = *owner ? rd_kafka_mock_cluster_new(*owner, brokers) : NULL;
    if (!mc)
        BAIL("the mock cluster did not start");
    return mc;
}

#endif
