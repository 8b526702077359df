/*
 * api_group.c - OffsetCommit (v2-v7) and OffsetFetch (v1-v5): a consumer
 * group's committed offsets, kept with weir's own (`weir consume
 * --group` reads and moves the same ones). A commit is taken whatever its
 * generation and member (groups.c keeps the membership, not the offsets).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/proto.h"

weir_kresult weir_kafka_offset_commit(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait)
{
    (void)wait;
    weir_kr *r = &q->body;
    int16_t v = q->version;
    char group[256];
    weir_kafka_name(r, false, group, sizeof group, "group_id");
    weir_kr_i32(r, "generation_id");
    weir_kr_string(r, false, false, "member_id");
    if (v >= 7)
        weir_kr_string(r, false, true, "group_instance_id");
    if (v <= 4)
        weir_kr_i64(r, "retention_time_ms");
    if (v >= 3)
        weir_kw_i32(w, 0); /* throttle_time_ms */
    int32_t nt = weir_kr_array(r, false, false, 6, "topics");
    weir_kw_array(w, false, nt);
    for (int32_t t = 0; t < nt && weir_kr_ok(r); t++) {
        char topic[256];
        weir_kafka_name(r, false, topic, sizeof topic, "topic name");
        int32_t np = weir_kr_array(r, false, false, 14, "partitions");
        weir_kw_string(w, false, topic);
        weir_kw_array(w, false, np);
        for (int32_t p = 0; p < np && weir_kr_ok(r); p++) {
            int32_t partition = weir_kr_i32(r, "partition_index");
            int64_t offset = weir_kr_i64(r, "committed_offset");
            if (v >= 6)
                weir_kr_i32(r, "committed_leader_epoch");
            weir_kr_string(r, false, true, "committed_metadata");
            if (!weir_kr_ok(r))
                break;
            weir_err err = {0};
            int rc = offset < 0 ? WEIR_EINVAL : weir_runtime_group_commit(c->rt, group, topic, partition, (uint64_t)offset, &err);
            weir_kw_i32(w, partition);
            weir_kw_i16(w, rc == WEIR_EINVAL ? KERR_OFFSET_OUT_OF_RANGE : weir_kafka_error_of(rc));
        }
    }
    return weir_kr_ok(r) ? KAFKA_ANSWER : KAFKA_MALFORMED;
}

/* One topic's answer: the committed offset of each partition asked for
 * (in r; every partition when r is NULL), -1 where the group has none. */
static void fetch_topic(const weir_kctx *c, weir_kr *r, const char *group, int16_t v, weir_kw *w, const char *all)
{
    char topic[256];
    if (r)
        weir_kafka_name(r, false, topic, sizeof topic, "topic name");
    else
        snprintf(topic, sizeof topic, "%s", all);
    int32_t np = r ? weir_kr_array(r, false, false, 4, "partition_indexes") : 0;
    weir_topic *t;
    size_t n;
    weir_err err = {0};
    uint32_t parts = 0;
    if (weir_runtime_topics(c->rt, &t, &n, &err) == WEIR_OK) {
        for (size_t i = 0; i < n; i++)
            if (!strcmp(t[i].name, topic))
                parts = t[i].partitions;
        weir_runtime_topics_free(t, n);
    }
    if (!r)
        np = (int32_t)parts;
    uint64_t *offsets = calloc(parts ? parts : 1, sizeof *offsets);
    int rc = !offsets ? WEIR_ENOMEM : parts ? weir_runtime_group_offsets(c->rt, group, topic, offsets, parts, &err) : WEIR_ENOENT;
    weir_kw_string(w, false, topic);
    weir_kw_array(w, false, np);
    for (int32_t p = 0; p < np && (!r || weir_kr_ok(r)); p++) {
        int32_t partition = r ? weir_kr_i32(r, "partition_index") : p;
        bool known = parts && partition >= 0 && (uint32_t)partition < parts;
        weir_kw_i32(w, partition);
        weir_kw_i64(w, rc == WEIR_OK && known ? (int64_t)offsets[partition] : -1);
        if (v >= 5)
            weir_kw_i32(w, -1); /* committed_leader_epoch */
        weir_kw_string(w, false, "");
        weir_kw_i16(w, !known ? KERR_UNKNOWN_TOPIC_OR_PARTITION : rc == WEIR_ENOENT ? KERR_NONE : weir_kafka_error_of(rc));
    }
    free(offsets);
}

weir_kresult weir_kafka_offset_fetch(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait)
{
    (void)wait;
    weir_kr *r = &q->body;
    char group[256];
    weir_kafka_name(r, false, group, sizeof group, "group_id");
    if (q->version >= 3)
        weir_kw_i32(w, 0); /* throttle_time_ms */
    int32_t nt = weir_kr_array(r, false, q->version >= 2, 6, "topics");
    if (nt < 0 && weir_kr_ok(r)) { /* null: every topic the group committed offsets of */
        char **names = NULL;
        size_t n = 0;
        weir_err err = {0};
        if (weir_runtime_group_topics(c->rt, group, &names, &n, &err))
            n = 0;
        weir_kw_array(w, false, (int32_t)n);
        for (size_t t = 0; t < n; t++)
            fetch_topic(c, NULL, group, q->version, w, names[t]);
        weir_runtime_names_free(names, n);
    } else {
        weir_kw_array(w, false, nt);
        for (int32_t t = 0; t < nt && weir_kr_ok(r); t++)
            fetch_topic(c, r, group, q->version, w, NULL);
    }
    if (q->version >= 2)
        weir_kw_i16(w, KERR_NONE);
    return weir_kr_ok(r) ? KAFKA_ANSWER : KAFKA_MALFORMED;
}
