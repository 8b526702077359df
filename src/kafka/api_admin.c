/*
 * api_admin.c - the admin APIs over topics: CreateTopics (v0-v4) makes
 * plain topics (runtime.h's weir_runtime_create_topic: streams outside the
 * pipeline, records stored as produced), DeleteTopics (v0-v3) deletes
 * plain topics (the pipeline thread drops each once no request is inside
 * the runtime, so that no reader has it; a stream the pipeline defines is
 * refused with POLICY_VIOLATION: remove it from the pipeline), and
 * DescribeConfigs (v0-v2) answers a stream's settings in Kafka's names.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/proto.h"

#define RESOURCE_TOPIC 2
#define RESOURCE_BROKER 4
#define SOURCE_TOPIC_CONFIG 1      /* DescribeConfigs v1+'s config_source: DYNAMIC_TOPIC_CONFIG */

/* ---- CreateTopics ---- */

/* A topic's configs (name, value pairs) into t: 0, or an error code with why. */
static int16_t read_configs(weir_kr *r, weir_topic_config *t, char *why, size_t cap)
{
    int16_t error = KERR_NONE;
    int32_t n = weir_kr_array(r, false, false, 4, "configs");
    for (int32_t i = 0; i < n && weir_kr_ok(r); i++) {
        char name[128], value[64] = "";
        weir_kafka_name(r, false, name, sizeof name, "config name");
        weir_kslice v = weir_kr_string(r, false, true, "config value");
        if (!weir_kr_ok(r) || error)
            continue;
        if (v.null || v.len >= sizeof value) {
            snprintf(why, cap, "config %s: %s", name, v.null ? "null value" : "value too long");
            error = KERR_INVALID_CONFIG;
            continue;
        }
        memcpy(value, v.data, v.len);
        value[v.len] = '\0';
        char *end;
        long long num = strtoll(value, &end, 10);
        bool numeric = *value && !*end;
        int64_t *field = !strcmp(name, "retention.ms")      ? &t->retention_ms
                       : !strcmp(name, "retention.bytes")   ? &t->retention_bytes
                       : !strcmp(name, "segment.bytes")     ? &t->segment_bytes
                       : !strcmp(name, "segment.ms")        ? &t->segment_ms
                                                            : NULL;
        if (field && numeric && (num > 0 || (num == -1 && field != &t->segment_bytes && field != &t->segment_ms)))
            *field = num;
        else if (!strcmp(name, "cleanup.policy") && (!strcmp(value, "delete") || !strcmp(value, "compact")))
            t->compact = !strcmp(value, "compact");
        else {
            snprintf(why, cap, "config %s=%s: weir takes retention.ms, retention.bytes (a number, or -1: no limit), "
                     "segment.bytes, segment.ms (a number) and cleanup.policy (delete)", name, value);
            error = KERR_INVALID_CONFIG;
        }
    }
    return error;
}

/* A topic of the request, read and checked before any is made. */
typedef struct new_topic {
    char name[256];
    weir_topic_config t;
    int16_t error;
    char why[400];
} new_topic;

static void read_topic(weir_kr *r, new_topic *o)
{
    weir_kafka_name(r, false, o->name, sizeof o->name, "topic name");
    int32_t partitions = weir_kr_i32(r, "num_partitions");
    int16_t replication = weir_kr_i16(r, "replication_factor");
    int32_t na = weir_kr_array(r, false, false, 8, "assignments");
    for (int32_t i = 0; i < na && weir_kr_ok(r); i++) {
        weir_kr_i32(r, "assignment partition_index");
        int32_t nb = weir_kr_array(r, false, false, 4, "broker_ids");
        for (int32_t b = 0; b < nb && weir_kr_ok(r); b++)
            if (weir_kr_i32(r, "broker id") != 0 && !o->error) {
                snprintf(o->why, sizeof o->why, "weir is one broker, id 0: a replica assignment can name no other");
                o->error = KERR_INVALID_REPLICA_ASSIGNMENT;
            }
    }
    int16_t cfg = read_configs(r, &o->t, o->why, sizeof o->why);
    if (o->error)
        return;
    o->error = cfg;
    o->t.partitions = na > 0 ? (uint32_t)na : partitions == -1 ? 1 : partitions > 0 ? (uint32_t)partitions : 0;
    if (o->error)
        return;
    if (na > 0 && partitions != -1) {
        snprintf(o->why, sizeof o->why, "both num_partitions and a replica assignment");
        o->error = KERR_INVALID_REQUEST;
    } else if (!o->t.partitions) {
        snprintf(o->why, sizeof o->why, "num_partitions %d: at least 1", partitions);
        o->error = KERR_INVALID_PARTITIONS;
    } else if (replication != -1 && replication != 1 && na == 0) {
        snprintf(o->why, sizeof o->why, "replication_factor %d: weir is one broker, so 1 (or -1)", replication);
        o->error = KERR_INVALID_REPLICATION_FACTOR;
    }
}

static int16_t error_of_create(int rc, const new_topic *o, const char *msg)
{
    switch (rc) {
    case WEIR_OK: return KERR_NONE;
    case WEIR_EEXIST: return KERR_TOPIC_ALREADY_EXISTS;
    case WEIR_EINVAL: return o->t.compact ? KERR_INVALID_CONFIG : strstr(msg, "partitions") ? KERR_INVALID_PARTITIONS
                                                                                           : KERR_INVALID_TOPIC;
    default: return weir_kafka_error_of(rc);
    }
}

weir_kresult weir_kafka_create_topics(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait)
{
    (void)wait;
    weir_kr *r = &q->body;
    int16_t v = q->version;
    int32_t n = weir_kr_array(r, false, false, 16, "topics");
    new_topic *topics = calloc(n > 0 ? (size_t)n : 1, sizeof *topics); /* validate_only comes after them */
    if (!topics) {
        weir_kr_fail(r, "out of memory");
        return KAFKA_MALFORMED;
    }
    for (int32_t i = 0; i < n && weir_kr_ok(r); i++)
        read_topic(r, &topics[i]);
    weir_kr_i32(r, "timeout_ms");
    bool validate_only = v >= 1 && weir_kr_i8(r, "validate_only");
    if (!weir_kr_ok(r)) {
        free(topics);
        return KAFKA_MALFORMED;
    }
    if (v >= 2)
        weir_kw_i32(w, 0); /* throttle_time_ms */
    weir_kw_array(w, false, n);
    for (int32_t i = 0; i < n; i++) {
        new_topic *o = &topics[i];
        weir_err err = {0};
        if (!o->error) {
            o->error = error_of_create(weir_runtime_create_topic(c->rt, o->name, &o->t, validate_only, &err), o,
                                       err.msg);
            snprintf(o->why, sizeof o->why, "%s", err.msg);
        }
        weir_kw_string(w, false, o->name);
        weir_kw_i16(w, o->error);
        if (v >= 1)
            weir_kw_string(w, false, o->error ? o->why : NULL);
    }
    free(topics);
    return KAFKA_ANSWER;
}

/* ---- DeleteTopics ---- */

typedef struct delete_wait {
    weir_kwait base;
    int16_t version;
    int32_t n;
    char (*names)[256];
    int16_t *errors;              /* per topic; -2 while its drop is pending */
    _Atomic int32_t pending;      /* drops the pipeline thread has yet to make */
    void (*wake)(void *ctx);
    void *wake_ctx;
} delete_wait;

typedef struct delete_one {       /* a topic's drop, answered on the pipeline thread */
    delete_wait *wait;
    int32_t i;
} delete_one;

static void deleted(void *ctx, int rc, const char *why)
{
    (void)why;
    delete_one *one = ctx;
    delete_wait *dw = one->wait;
    dw->errors[one->i] = weir_kafka_error_of(rc);
    free(one);
    if (atomic_fetch_sub(&dw->pending, 1) == 1)
        dw->wake(dw->wake_ctx);
}

static int delete_poll(weir_kwait *wt, const weir_kctx *c, weir_kw *w, int64_t now_ms)
{
    (void)c;
    (void)now_ms;
    delete_wait *dw = (delete_wait *)wt;
    if (atomic_load(&dw->pending) > 0)
        return 0;
    if (dw->version >= 1)
        weir_kw_i32(w, 0); /* throttle_time_ms */
    weir_kw_array(w, false, dw->n);
    for (int32_t i = 0; i < dw->n; i++) {
        weir_kw_string(w, false, dw->names[i]);
        weir_kw_i16(w, dw->errors[i]);
    }
    return 1;
}

static void delete_free(weir_kwait *wt)
{
    delete_wait *dw = (delete_wait *)wt;
    free(dw->names);
    free(dw->errors);
    free(dw);
}

/* Each topic's drop is handed to the pipeline thread, which makes it once
 * no request is inside the runtime (runtime.h): the answer waits for
 * them all. A stream the pipeline defines is refused (POLICY_VIOLATION). */
weir_kresult weir_kafka_delete_topics(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait)
{
    weir_kr *r = &q->body;
    int32_t n = weir_kr_array(r, false, false, 2, "topic_names");
    delete_wait *dw = calloc(1, sizeof *dw);
    if (dw) {
        dw->names = calloc(n > 0 ? (size_t)n : 1, sizeof *dw->names);
        dw->errors = calloc(n > 0 ? (size_t)n : 1, sizeof *dw->errors);
    }
    if (!dw || !dw->names || !dw->errors) {
        if (dw)
            delete_free(&dw->base);
        weir_kr_fail(r, "out of memory");
        return KAFKA_MALFORMED;
    }
    dw->n = n > 0 ? n : 0;
    for (int32_t i = 0; i < n && weir_kr_ok(r); i++)
        weir_kafka_name(r, false, dw->names[i], sizeof dw->names[i], "topic name");
    weir_kr_i32(r, "timeout_ms");
    if (!weir_kr_ok(r)) {
        delete_free(&dw->base);
        return KAFKA_MALFORMED;
    }
    dw->base = (weir_kwait){.poll = delete_poll, .free = delete_free, .deadline_ms = INT64_MAX};
    dw->version = q->version;
    dw->wake = c->wake;
    dw->wake_ctx = c->wake_ctx;
    atomic_store(&dw->pending, 1); /* held until every drop is handed over */
    for (int32_t i = 0; i < dw->n; i++) {
        weir_err err = {0};
        delete_one *one = malloc(sizeof *one);
        int rc = WEIR_ENOMEM;
        if (one) {
            *one = (delete_one){dw, i};
            atomic_fetch_add(&dw->pending, 1);
            rc = weir_runtime_delete_topic(c->rt, dw->names[i], deleted, one, &err);
            if (rc) {
                atomic_fetch_sub(&dw->pending, 1);
                free(one);
            }
        }
        dw->errors[i] = rc == WEIR_EINVAL ? KERR_POLICY_VIOLATION : weir_kafka_error_of(rc);
    }
    if (atomic_fetch_sub(&dw->pending, 1) == 1) { /* nothing was handed over: the answer is ready */
        delete_poll(&dw->base, c, w, 0);
        delete_free(&dw->base);
        return KAFKA_ANSWER;
    }
    *wait = &dw->base;
    return KAFKA_WAIT;
}

/* ---- DescribeConfigs ---- */

typedef struct kconfig {
    const char *name;
    char value[32];
} kconfig;

static size_t topic_configs(const weir_topic_config *t, kconfig *out)
{
    size_t n = 0;
    out[n] = (kconfig){"cleanup.policy", ""};
    snprintf(out[n++].value, sizeof out->value, "%s", t->compact ? "compact" : "delete");
    out[n] = (kconfig){"retention.ms", ""};
    snprintf(out[n++].value, sizeof out->value, "%" PRId64, t->retention_ms);
    out[n] = (kconfig){"retention.bytes", ""};
    snprintf(out[n++].value, sizeof out->value, "%" PRId64, t->retention_bytes);
    out[n] = (kconfig){"segment.bytes", ""};
    snprintf(out[n++].value, sizeof out->value, "%" PRId64, t->segment_bytes);
    out[n] = (kconfig){"segment.ms", ""};
    snprintf(out[n++].value, sizeof out->value, "%" PRId64, t->segment_ms);
    out[n] = (kconfig){"delete.retention.ms", ""};
    snprintf(out[n++].value, sizeof out->value, "%" PRId64, t->delete_retention_ms);
    return n;
}

/* Whether name is among the keys asked (a null list: every one). */
static bool asked(const weir_kslice *keys, int32_t nkeys, const char *name)
{
    if (nkeys < 0)
        return true;
    for (int32_t i = 0; i < nkeys; i++)
        if (keys[i].len == strlen(name) && !memcmp(keys[i].data, name, keys[i].len))
            return true;
    return false;
}

static void describe_one(const weir_kctx *c, int16_t v, int8_t type, const char *name, const weir_kslice *keys,
                         int32_t nkeys, weir_kw *w)
{
    weir_topic_config t;
    weir_err err = {0};
    kconfig configs[8];
    size_t n = 0;
    int16_t error = KERR_NONE;
    char why[300] = "";
    if (type == RESOURCE_TOPIC) {
        int rc = weir_runtime_topic_config(c->rt, name, &t, &err);
        if (rc) {
            error = weir_kafka_error_of(rc);
            snprintf(why, sizeof why, "%s", err.msg);
        } else {
            n = topic_configs(&t, configs);
        }
    } else if (type != RESOURCE_BROKER) { /* a broker's settings are serve's options: none is told here */
        error = KERR_INVALID_REQUEST;
        snprintf(why, sizeof why, "resource type %d: weir describes topics (2) and its broker (4)", type);
    }
    weir_kw_i16(w, error);
    weir_kw_string(w, false, error ? why : NULL);
    weir_kw_i8(w, type);
    weir_kw_string(w, false, name);
    int32_t shown = 0;
    for (size_t i = 0; i < n; i++)
        shown += asked(keys, nkeys, configs[i].name);
    weir_kw_array(w, false, shown);
    for (size_t i = 0; i < n; i++) {
        if (!asked(keys, nkeys, configs[i].name))
            continue;
        weir_kw_string(w, false, configs[i].name);
        weir_kw_string(w, false, configs[i].value);
        weir_kw_i8(w, 1);            /* read_only: the pipeline (or CreateTopics) sets them */
        if (v == 0)
            weir_kw_i8(w, 0);        /* is_default */
        else
            weir_kw_i8(w, SOURCE_TOPIC_CONFIG);
        weir_kw_i8(w, 0);            /* is_sensitive */
        if (v >= 1)
            weir_kw_array(w, false, 0); /* synonyms */
    }
}

weir_kresult weir_kafka_describe_configs(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait)
{
    (void)wait;
    weir_kr *r = &q->body;
    int32_t n = weir_kr_array(r, false, false, 7, "resources");
    weir_kr mark = *r;
    char name[256];
    for (int32_t i = 0; i < n && weir_kr_ok(r); i++) { /* the whole request is checked before any answer */
        weir_kr_i8(r, "resource_type");
        weir_kafka_name(r, false, name, sizeof name, "resource_name");
        for (int32_t k = weir_kr_array(r, false, true, 2, "configuration_keys"); k > 0; k--)
            weir_kr_string(r, false, false, "configuration key");
    }
    if (q->version >= 1)
        weir_kr_i8(r, "include_synonyms");
    if (!weir_kr_ok(r))
        return KAFKA_MALFORMED;
    *r = mark;
    weir_kw_i32(w, 0); /* throttle_time_ms */
    weir_kw_array(w, false, n);
    for (int32_t i = 0; i < n; i++) {
        int8_t type = weir_kr_i8(r, "resource_type");
        weir_kafka_name(r, false, name, sizeof name, "resource_name");
        int32_t nkeys = weir_kr_array(r, false, true, 2, "configuration_keys");
        weir_kslice *keys = calloc(nkeys > 0 ? (size_t)nkeys : 1, sizeof *keys);
        if (!keys) {
            w->oom = true; /* the answer is lost, as any that could not be written */
            return KAFKA_ANSWER;
        }
        for (int32_t k = 0; k < nkeys; k++)
            keys[k] = weir_kr_string(r, false, false, "configuration key");
        describe_one(c, q->version, type, name, keys, nkeys, w);
        free(keys);
    }
    return KAFKA_ANSWER;
}
