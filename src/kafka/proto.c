/*
 * proto.c - request headers, the table of served APIs and the dispatch
 * (see proto.h), with ApiVersions, which answers from the table.
 *
 * Versions are served up to the last one before each API turned flexible
 * (KIP-482), except ApiVersions v3, the one clients open with: the
 * clients weir is tested with (librdkafka 2.0, kafka-python 2.0) pick the
 * highest version both sides know, and every field the newer versions add
 * is one weir has nothing to say in.
 */
#include "kafka/proto.h"

#include <stdint.h>
#include <string.h>

const weir_kapi weir_kafka_apis[] = {
    {KAFKA_PRODUCE, "Produce", 3, 8, 9, weir_kafka_produce},
    {KAFKA_FETCH, "Fetch", 4, 11, 12, weir_kafka_fetch},
    {KAFKA_LIST_OFFSETS, "ListOffsets", 1, 5, 6, weir_kafka_list_offsets},
    {KAFKA_METADATA, "Metadata", 0, 8, 9, weir_kafka_metadata},
    {KAFKA_OFFSET_COMMIT, "OffsetCommit", 2, 7, 8, weir_kafka_offset_commit},
    {KAFKA_OFFSET_FETCH, "OffsetFetch", 1, 5, 6, weir_kafka_offset_fetch},
    {KAFKA_FIND_COORDINATOR, "FindCoordinator", 0, 2, 3, weir_kafka_find_coordinator},
    {KAFKA_JOIN_GROUP, "JoinGroup", 0, 5, 6, weir_kafka_join_group},
    {KAFKA_HEARTBEAT, "Heartbeat", 0, 3, 4, weir_kafka_heartbeat},
    {KAFKA_LEAVE_GROUP, "LeaveGroup", 0, 2, 4, weir_kafka_leave_group},
    {KAFKA_SYNC_GROUP, "SyncGroup", 0, 3, 4, weir_kafka_sync_group},
    {KAFKA_DESCRIBE_GROUPS, "DescribeGroups", 0, 4, 5, weir_kafka_describe_groups},
    {KAFKA_LIST_GROUPS, "ListGroups", 0, 2, 3, weir_kafka_list_groups},
    {KAFKA_SASL_HANDSHAKE, "SaslHandshake", 0, 1, INT16_MAX, weir_kafka_sasl_handshake},
    {KAFKA_API_VERSIONS, "ApiVersions", 0, 3, 3, weir_kafka_api_versions},
    {KAFKA_CREATE_TOPICS, "CreateTopics", 0, 4, 5, weir_kafka_create_topics},
    {KAFKA_DELETE_TOPICS, "DeleteTopics", 0, 3, 4, weir_kafka_delete_topics},
    {KAFKA_INIT_PRODUCER_ID, "InitProducerId", 0, 1, 2, weir_kafka_init_producer_id},
    {KAFKA_DESCRIBE_CONFIGS, "DescribeConfigs", 0, 2, 4, weir_kafka_describe_configs},
    {KAFKA_SASL_AUTHENTICATE, "SaslAuthenticate", 0, 1, 2, weir_kafka_sasl_authenticate},
};
const int weir_kafka_napis = (int)(sizeof weir_kafka_apis / sizeof weir_kafka_apis[0]);

static const weir_kapi *api_of(int16_t key)
{
    for (int i = 0; i < weir_kafka_napis; i++)
        if (weir_kafka_apis[i].key == key)
            return &weir_kafka_apis[i];
    return NULL;
}

bool weir_kafka_header(const uint8_t *p, size_t len, weir_kreq *q)
{
    *q = (weir_kreq){0};
    weir_kr_init(&q->body, p, len);
    q->key = weir_kr_i16(&q->body, "request_api_key");
    q->version = weir_kr_i16(&q->body, "request_api_version");
    q->correlation_id = weir_kr_i32(&q->body, "correlation_id");
    q->client_id = weir_kr_string(&q->body, false, true, "client_id"); /* never compact, even in header v2 */
    const weir_kapi *api = api_of(q->key);
    q->flexible = api && q->version >= api->flexible_from;
    if (q->flexible)
        weir_kr_tags(&q->body, "request header tagged fields");
    return weir_kr_ok(&q->body);
}

void weir_kafka_response_header(const weir_kreq *q, weir_kw *w)
{
    weir_kw_i32(w, q->correlation_id);
    weir_kw_tags(w, q->flexible && q->key != KAFKA_API_VERSIONS);
}

static void put_api_list(weir_kw *w, bool flexible)
{
    weir_kw_array(w, flexible, weir_kafka_napis);
    for (int i = 0; i < weir_kafka_napis; i++) {
        weir_kw_i16(w, weir_kafka_apis[i].key);
        weir_kw_i16(w, weir_kafka_apis[i].min);
        weir_kw_i16(w, weir_kafka_apis[i].max);
        weir_kw_tags(w, flexible);
    }
}

weir_kresult weir_kafka_api_versions(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait)
{
    (void)c;
    (void)wait;
    if (q->version >= 3) {
        weir_kr_string(&q->body, true, false, "client_software_name");
        weir_kr_string(&q->body, true, false, "client_software_version");
        weir_kr_tags(&q->body, "tagged fields");
    }
    if (!weir_kr_ok(&q->body))
        return KAFKA_MALFORMED;
    weir_kw_i16(w, KERR_NONE);
    put_api_list(w, q->flexible);
    if (q->version >= 1)
        weir_kw_i32(w, 0); /* throttle_time_ms */
    weir_kw_tags(w, q->flexible);
    return KAFKA_ANSWER;
}

weir_kresult weir_kafka_dispatch(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait)
{
    const weir_kapi *api = api_of(q->key);
    *wait = NULL;
    if (c->token && !c->session->authenticated && q->key != KAFKA_API_VERSIONS && q->key != KAFKA_SASL_HANDSHAKE &&
        q->key != KAFKA_SASL_AUTHENTICATE) {
        weir_kr_fail(&q->body, "not authenticated: this server takes SASL PLAIN with the password of serve --token first");
        return KAFKA_MALFORMED;
    }
    if (api && q->version >= api->min && q->version <= api->max)
        return api->handle(c, q, w, wait);
    if (q->key == KAFKA_API_VERSIONS) { /* a newer client than weir: v0's layout, so it can read which weir takes */
        q->flexible = false;
        weir_kw_i16(w, KERR_UNSUPPORTED_VERSION);
        put_api_list(w, false);
        return KAFKA_ANSWER;
    }
    /* An API or version not offered in ApiVersions: its response layout is
     * not known here, so the answer is the error code alone. */
    weir_kw_i16(w, KERR_UNSUPPORTED_VERSION);
    return KAFKA_ANSWER;
}

void weir_kafka_name(weir_kr *r, bool compact, char *dst, size_t cap, const char *what)
{
    weir_kslice s = weir_kr_string(r, compact, false, what);
    weir_kr_cstr(r, s, dst, cap, what);
}

int16_t weir_kafka_error_of(int weir_code)
{
    switch (weir_code) {
    case WEIR_OK: return KERR_NONE;
    case WEIR_ENOENT: return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    case WEIR_ECORRUPT:
    case WEIR_EIO:
    case WEIR_EFATAL:
    case WEIR_ENOSPC: return KERR_KAFKA_STORAGE_ERROR;
    default: return KERR_UNKNOWN_SERVER_ERROR;
    }
}
