/*
 * test_kafka_topics.c - weir_kafka_create_topic (conn/kafka_client.c), the
 * Admin API helper that makes weir's own topics, where it fails: against
 * librdkafka's mock cluster in this process, which answers no CreateTopics
 * (it has no controller), the request ends at its timeout with an error
 * naming the topic, nothing made; a partition count librdkafka refuses (-5) is
 * refused before any request. Making a topic, and another process having
 * made it first, need a real broker: tests/integration/repartition_scale_out.sh.
 */
#include <string.h>

#include "kafka_mock.h"
#include "base/clock.h"
#include "conn/kafka_client.h"

int main(void)
{
    plan(4);
    rd_kafka_t *mock_rk;
    rd_kafka_mock_cluster_t *mc = mock_cluster_start(1, &mock_rk);
    weir_err err = {0};
    const char *const props[] = {"bootstrap.servers", rd_kafka_mock_cluster_bootstraps(mc), "group.id", "t",
                                 "log_level", "0", NULL};
    rd_kafka_t *rk = weir_kafka_new(RD_KAFKA_CONSUMER, props, NULL, NULL, NULL, &err);
    if (!rk)
        BAIL("%s", err.msg);

    int have = 7;
    int rc = weir_kafka_create_topic(rk, "none", -5, NULL, 1000, &have, &err);
    ok(rc == WEIR_EINVAL && have == -1 && strstr(err.msg, "kafka topic none: "), "-5 partitions are refused before any request: %s", err.msg);

    static const char *const compacted[] = {"cleanup.policy", "compact", NULL};
    uint64_t began = weir_mono_ns();
    rc = weir_kafka_create_topic(rk, "g.q.repartition", 4, compacted, 1000, &have, &err);
    uint64_t took_ms = (weir_mono_ns() - began) / 1000000;
    ok(rc == WEIR_EIO && have == -1, "no answer to CreateTopics is an error, nothing made (%d)", have);
    ok(strstr(err.msg, "kafka topic g.q.repartition: creating it: ") != NULL, "naming the topic and why: %s", err.msg);
    ok(took_ms >= 900 && took_ms < 10000, "at the request's timeout of 1000 ms (%llu ms)", (unsigned long long)took_ms);

    rd_kafka_destroy(rk);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mock_rk);
    return done();
}
