/*
 * api_meta.c - Metadata and FindCoordinator: weir is a cluster of one
 * broker (node 0), the leader and only replica of every partition and the
 * coordinator of every group; its topics are the log's streams.
 */
#include <stdlib.h>
#include <string.h>

#include "kafka/proto.h"

#define NODE_ID 0

static void put_partitions(weir_kw *w, int16_t version, uint32_t n)
{
    weir_kw_array(w, false, (int32_t)n);
    for (uint32_t p = 0; p < n; p++) {
        weir_kw_i16(w, KERR_NONE);
        weir_kw_i32(w, (int32_t)p);
        weir_kw_i32(w, NODE_ID); /* leader */
        if (version >= 7)
            weir_kw_i32(w, 0); /* leader_epoch */
        weir_kw_array(w, false, 1); /* replicas */
        weir_kw_i32(w, NODE_ID);
        weir_kw_array(w, false, 1); /* in-sync replicas */
        weir_kw_i32(w, NODE_ID);
        if (version >= 5)
            weir_kw_array(w, false, 0); /* offline replicas */
    }
}

static void put_topic(weir_kw *w, int16_t version, const char *name, size_t len, int16_t error, uint32_t partitions)
{
    weir_kw_i16(w, error);
    weir_kw_stringn(w, false, name, len);
    if (version >= 1)
        weir_kw_i8(w, 0); /* is_internal */
    put_partitions(w, version, partitions);
    if (version >= 8)
        weir_kw_i32(w, INT32_MIN); /* topic_authorized_operations: not asked for */
}

static const weir_topic *find(const weir_topic *t, size_t n, const uint8_t *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(t[i].name) == len && !memcmp(t[i].name, name, len))
            return &t[i];
    return NULL;
}

weir_kresult weir_kafka_metadata(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait)
{
    (void)wait;
    int16_t v = q->version;
    int32_t asked = weir_kr_array(&q->body, false, v >= 1, 2, "topics");
    if (v == 0 && asked == 0) /* v0: an empty list asks for every topic */
        asked = -1;
    const uint8_t *names = q->body.p; /* the names are read again below, as they are answered */
    for (int32_t i = 0; i < asked; i++)
        weir_kr_string(&q->body, false, false, "topic name");
    if (v >= 4)
        weir_kr_i8(&q->body, "allow_auto_topic_creation"); /* topics are declared in the pipeline, never made here */
    if (v >= 8) {
        weir_kr_i8(&q->body, "include_cluster_authorized_operations");
        weir_kr_i8(&q->body, "include_topic_authorized_operations");
    }
    if (!weir_kr_ok(&q->body))
        return KAFKA_MALFORMED;
    weir_topic *t;
    size_t n;
    weir_err err = {0};
    if (weir_runtime_topics(c->rt, &t, &n, &err)) {
        t = NULL;
        n = 0;
    }
    if (v >= 3)
        weir_kw_i32(w, 0); /* throttle_time_ms */
    weir_kw_array(w, false, 1); /* brokers */
    weir_kw_i32(w, NODE_ID);
    weir_kw_string(w, false, c->host);
    weir_kw_i32(w, c->port);
    if (v >= 1)
        weir_kw_string(w, false, NULL); /* rack */
    if (v >= 2)
        weir_kw_string(w, false, "weir");
    if (v >= 1)
        weir_kw_i32(w, NODE_ID); /* controller */
    if (asked < 0) {
        weir_kw_array(w, false, (int32_t)n);
        for (size_t i = 0; i < n; i++)
            put_topic(w, v, t[i].name, strlen(t[i].name), KERR_NONE, t[i].partitions);
    } else {
        weir_kr r;
        weir_kr_init(&r, names, (size_t)(q->body.end - names));
        weir_kw_array(w, false, asked);
        for (int32_t i = 0; i < asked; i++) {
            weir_kslice name = weir_kr_string(&r, false, false, "topic name");
            const weir_topic *f = find(t, n, name.data, name.len);
            put_topic(w, v, (const char *)name.data, name.len, f ? KERR_NONE : KERR_UNKNOWN_TOPIC_OR_PARTITION,
                      f ? f->partitions : 0);
        }
    }
    if (v >= 8)
        weir_kw_i32(w, INT32_MIN); /* cluster_authorized_operations */
    weir_runtime_topics_free(t, n);
    return KAFKA_ANSWER;
}

weir_kresult weir_kafka_find_coordinator(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait)
{
    (void)wait;
    weir_kr_string(&q->body, false, false, "key");
    int8_t type = q->version >= 1 ? weir_kr_i8(&q->body, "key_type") : 0;
    if (!weir_kr_ok(&q->body))
        return KAFKA_MALFORMED;
    if (q->version >= 1)
        weir_kw_i32(w, 0); /* throttle_time_ms */
    bool group = type == 0; /* 1: a transaction coordinator, which weir is not */
    weir_kw_i16(w, group ? KERR_NONE : KERR_UNSUPPORTED_VERSION);
    if (q->version >= 1)
        weir_kw_string(w, false, group ? NULL : "weir coordinates consumer groups only, not transactions");
    weir_kw_i32(w, group ? NODE_ID : -1);
    weir_kw_string(w, false, group ? c->host : "");
    weir_kw_i32(w, group ? c->port : -1);
    return KAFKA_ANSWER;
}
