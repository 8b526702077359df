/*
 * kafka_client.c - librdkafka helpers shared by the Kafka connectors.
 */
#include "conn/kafka_client.h"

int weir_kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, weir_err *err)
{
    char errstr[256];
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
        return weir_err_set(err, WEIR_EINVAL, "kafka: %s=%s: %s", name, value, errstr);
    return WEIR_OK;
}

rd_kafka_t *weir_kafka_new(rd_kafka_type_t type, const char *const *props, weir_kafka_delivery_fn *on_delivery,
                           void *opaque, weir_err *err)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    for (; *props; props += 2)
        if (weir_kafka_conf_set(conf, props[0], props[1], err)) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    if (type == RD_KAFKA_PRODUCER && on_delivery) {
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        rd_kafka_conf_set_opaque(conf, opaque);
    }
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof errstr); /* takes conf only when it succeeds */
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        weir_err_set(err, WEIR_EINVAL, "kafka: %s", errstr);
    }
    return rk;
}

int weir_kafka_topic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms)
{
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md;
    int n = -1;
    if (t && rd_kafka_metadata(rk, 0, t, &md, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
            n = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
    }
    if (t)
        rd_kafka_topic_destroy(t);
    return n;
}
