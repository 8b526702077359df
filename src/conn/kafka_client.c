/*
 * kafka_client.c - librdkafka helpers shared by the Kafka connectors: user
 * properties, the properties file, clients, the error callback that
 * tells a client the cluster will never let in (credentials, TLS,
 * authorisation: weir_kafka_watch) from an outage, which librdkafka
 * retries by itself and would otherwise retry for ever, and the topics
 * weir makes for itself (the task store's, scale-out's repartition topics),
 * created through the Admin API as Kafka Streams makes its internal ones.
 */
#include "conn/kafka_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/io.h"
#include "conn/options.h"

int weir_kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, weir_err *err)
{
    char errstr[256];
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) == RD_KAFKA_CONF_OK)
        return WEIR_OK;
    bool secret = weir_conn_secret(name);
    return weir_err_set(err, WEIR_EINVAL, "kafka: %s=%s: %s", name, secret ? "(hidden)" : value,
                        secret && *value && strstr(errstr, value) ? "refused" : errstr);
}

/* A property weir sets itself, or NULL: why, or what to use instead. */
static const char *weirs_own(const char *name)
{
    static const char *const own[][2] = {
        {"bootstrap.servers", "give the brokers option (or serve --kafka)"},
        {"group.id", "give serve --kafka-group"},
        {"enable.auto.commit", "offsets are committed with weir's checkpoints"},
        {"enable.idempotence", "the exactly-once sink stands on it"},
        {"transactional.id", "serve --kafka-exactly-once names one per task"},
        {"isolation.level", "weir reads committed records only: --kafka-exactly-once stands on it"},
    };
    for (size_t i = 0; i < sizeof own / sizeof *own; i++)
        if (!strcmp(name, own[i][0]))
            return own[i][1];
    return NULL;
}

static int set_user(rd_kafka_conf_t *conf, const char *name, const char *value, const char *where, weir_err *err)
{
    const char *instead = weirs_own(name);
    if (instead)
        return weir_err_set(err, WEIR_EINVAL, "%s%s: weir sets %s itself (%s)", where, name, name, instead);
    int rc = weir_kafka_conf_set(conf, name, value, err);
    return rc ? weir_err_wrap(err, "%s%s", where, name) : WEIR_OK;
}

int weir_kafka_conf_user(rd_kafka_conf_t *conf, const weir_kafka_user *user, weir_err *err)
{
    int rc = WEIR_OK;
    for (const char *const *p = user ? user->config : NULL; p && *p && rc == WEIR_OK; p += 2)
        rc = set_user(conf, p[0], p[1], "--kafka-config ", err);
    size_t prefix = strlen(WEIR_KAFKA_PROPERTIES);
    for (int i = 0; user && user->decl && i < user->decl->nwith && rc == WEIR_OK; i++) {
        const weir_with_option *o = &user->decl->with[i];
        if (!strncmp(o->name, WEIR_KAFKA_PROPERTIES, prefix) && o->value.type == WEIR_TYPE_TEXT)
            rc = set_user(conf, o->name + prefix, o->value.s, WEIR_KAFKA_PROPERTIES, err);
    }
    return rc;
}

/* Adds one "name=value" line of a properties file. */
static int config_line(char *line, size_t at, weir_arena *a, const char ***v, size_t *n, size_t *cap, const char *path,
                       weir_err *err)
{
    char *eq = strchr(line, '=');
    char *name = line, *value = eq ? eq + 1 : NULL;
    if (!eq)
        return weir_err_set(err, WEIR_EINVAL, "%s:%zu: expected name=value", path, at);
    *eq = '\0';
    for (char *e = eq; e > name && (e[-1] == ' ' || e[-1] == '\t'); *--e = '\0') {
    }
    while (*value == ' ' || *value == '\t')
        value++;
    if (!*name)
        return weir_err_set(err, WEIR_EINVAL, "%s:%zu: a property without a name", path, at);
    if (*n + 3 > *cap) {
        size_t grown = *cap ? *cap * 2 : 16;
        const char **more = weir_arena_alloc(a, grown * sizeof *more);
        if (!more)
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        if (*n)
            memcpy(more, *v, *n * sizeof *more);
        *v = more;
        *cap = grown;
    }
    (*v)[(*n)++] = weir_arena_strndup(a, name, strlen(name));
    (*v)[(*n)++] = weir_arena_strndup(a, value, strlen(value));
    (*v)[*n] = NULL;
    return (*v)[*n - 2] && (*v)[*n - 1] ? WEIR_OK : weir_err_set(err, WEIR_ENOMEM, "out of memory");
}

int weir_kafka_config_parse(char *text, const char *path, weir_arena *a, const char *const **out, weir_err *err)
{
    size_t n = 0, cap = 0, at = 0;
    const char **v = NULL;
    int rc = WEIR_OK;
    for (char *line = text, *next; rc == WEIR_OK && line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        at++;
        line[strcspn(line, "\r")] = '\0';
        while (*line == ' ' || *line == '\t')
            line++;
        if (*line && *line != '#' && *line != '!')
            rc = config_line(line, at, a, &v, &n, &cap, path, err);
    }
    static const char *const none[] = {NULL};
    *out = v ? v : none;
    return rc;
}

int weir_kafka_config_read(const char *path, weir_arena *a, const char *const **out, weir_err *err)
{
    char *text;
    size_t len;
    if (weir_io_read_file(&weir_io_posix, path, &text, &len, err))
        return weir_err_wrap(err, "--kafka-config");
    int rc = strlen(text) == len ? weir_kafka_config_parse(text, path, a, out, err)
                                 : weir_err_set(err, WEIR_EINVAL, "%s: a NUL byte in a properties file", path);
    free(text);
    return rc;
}

bool weir_kafka_refused(rd_kafka_resp_err_t e)
{
    switch (e) {
    case RD_KAFKA_RESP_ERR__AUTHENTICATION: case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE: case RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM:
    case RD_KAFKA_RESP_ERR__SSL: case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED: case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
        return true;
    default:
        return false;
    }
}

/* librdkafka's error callback (see weir_kafka_watch). Everything else it
 * reports (a broker down, a timeout) librdkafka retries by itself. */
static void on_error(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
    weir_kafka_watch *w = opaque;
    rd_kafka_resp_err_t e = (rd_kafka_resp_err_t)code, last = w->last;
    w->last = e;
    char fatal[400];
    if (e == RD_KAFKA_RESP_ERR__RESOLVE && strstr(reason, "/bootstrap")) {
        snprintf(w->unresolved_why, sizeof w->unresolved_why, "%s", reason);
        return;
    }
    if (e == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && last == RD_KAFKA_RESP_ERR__RESOLVE && w->unresolved_why[0])
        w->unresolved = true;
    if (w->broken)
        return;
    if (e == RD_KAFKA_RESP_ERR__FATAL) { /* the cause, and whether it stops this client for good */
        rd_kafka_resp_err_t cause = rd_kafka_fatal_error(rk, fatal, sizeof fatal);
        if (rd_kafka_type(rk) == RD_KAFKA_PRODUCER && !weir_kafka_refused(cause))
            return;
        reason = fatal;
    } else if (!weir_kafka_refused(e)) {
        return;
    }
    snprintf(w->why, sizeof w->why, "%s", reason);
    w->broken = true;
}

/* A producer's delivery report, passed on with the owner's opaque. */
static void on_watched_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    weir_kafka_watch *w = opaque;
    if (w->on_delivery)
        w->on_delivery(rk, m, w->opaque);
}

void weir_kafka_conf_watch(rd_kafka_conf_t *conf, weir_kafka_watch *w)
{
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_opaque(conf, w);
}

bool weir_kafka_broken(rd_kafka_t *rk, weir_kafka_watch *w)
{
    if (!w->broken)
        rd_kafka_poll(rk, 0);
    if (!w->broken && w->unresolved)
        snprintf(w->why, sizeof w->why, "%s", w->unresolved_why);
    return w->broken || w->unresolved;
}

static rd_kafka_t *client_new(rd_kafka_type_t type, const char *const *props, const weir_kafka_user *user,
                              weir_kafka_delivery_fn *on_delivery, void *opaque, weir_kafka_watch *w, weir_err *err)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    for (; *props; props += 2)
        if (weir_kafka_conf_set(conf, props[0], props[1], err)) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    if (weir_kafka_conf_user(conf, user, err)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    if (w) {
        weir_kafka_conf_watch(conf, w);
        if (type == RD_KAFKA_PRODUCER)
            rd_kafka_conf_set_dr_msg_cb(conf, on_watched_delivery);
    } else if (type == RD_KAFKA_PRODUCER && on_delivery) {
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

rd_kafka_t *weir_kafka_new(rd_kafka_type_t type, const char *const *props, const weir_kafka_user *user,
                           weir_kafka_delivery_fn *on_delivery, void *opaque, weir_err *err)
{
    return client_new(type, props, user, on_delivery, opaque, NULL, err);
}

rd_kafka_t *weir_kafka_new_watched(rd_kafka_type_t type, const char *const *props, const weir_kafka_user *user,
                                   weir_kafka_watch *w, weir_err *err)
{
    return client_new(type, props, user, NULL, NULL, w, err);
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

/* Sends the CreateTopics request and waits for its answer: what it says
 * about topic, TOPIC_ALREADY_EXISTS taken as done. */
static int create_request(rd_kafka_t *rk, rd_kafka_NewTopic_t *t, const char *topic, int timeout_ms, weir_err *err)
{
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    char errstr[256];
    int rc = WEIR_OK;
    if (!o || !q)
        rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
    /* the operation timeout: the broker answers once the topic is made, not when it has only begun */
    else if (rd_kafka_AdminOptions_set_request_timeout(o, timeout_ms, errstr, sizeof errstr) ||
             rd_kafka_AdminOptions_set_operation_timeout(o, timeout_ms, errstr, sizeof errstr))
        rc = weir_err_set(err, WEIR_EINVAL, "kafka topic %s: %s", topic, errstr);
    rd_kafka_event_t *ev = NULL;
    if (rc == WEIR_OK) {
        rd_kafka_CreateTopics(rk, &t, 1, o, q);
        /* the request's own timeout answers first; a margin for librdkafka's queues */
        if (!(ev = rd_kafka_queue_poll(q, timeout_ms + 5000)))
            rc = weir_err_set(err, WEIR_EIO, "kafka topic %s: creating it: no answer within %d ms", topic, timeout_ms);
    }
    if (ev && rd_kafka_event_error(ev)) {
        rc = weir_err_set(err, WEIR_EIO, "kafka topic %s: creating it: %s", topic, rd_kafka_event_error_string(ev));
    } else if (ev) {
        size_t n;
        const rd_kafka_topic_result_t **r = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        rd_kafka_resp_err_t e = n == 1 ? rd_kafka_topic_result_error(r[0]) : RD_KAFKA_RESP_ERR__BAD_MSG;
        const char *why = n == 1 ? rd_kafka_topic_result_error_string(r[0]) : NULL;
        if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            rc = weir_err_set(err, WEIR_EIO, "kafka topic %s: creating it: %s", topic, why && *why ? why : rd_kafka_err2str(e));
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    if (q)
        rd_kafka_queue_destroy(q);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    return rc;
}

int weir_kafka_create_topic(rd_kafka_t *rk, const char *topic, int partitions, const char *const *configs, int timeout_ms,
                            int *have, weir_err *err)
{
    char errstr[256];
    *have = -1;
    rd_kafka_NewTopic_t *t = rd_kafka_NewTopic_new(topic, partitions, -1 /* the broker's default.replication.factor */,
                                                   errstr, sizeof errstr);
    if (!t)
        return weir_err_set(err, WEIR_EINVAL, "kafka topic %s: %s", topic, errstr);
    int rc = WEIR_OK;
    for (const char *const *c = configs; c && *c && rc == WEIR_OK; c += 2) {
        rd_kafka_resp_err_t e = rd_kafka_NewTopic_set_config(t, c[0], c[1]);
        if (e)
            rc = weir_err_set(err, WEIR_EINVAL, "kafka topic %s: %s: %s", topic, c[0], rd_kafka_err2str(e));
    }
    rc = rc ? rc : create_request(rk, t, topic, timeout_ms, err);
    rd_kafka_NewTopic_destroy(t);
    /* made by the controller: the broker rk asks may learn of it a moment later */
    uint64_t deadline = weir_mono_ns() + (uint64_t)timeout_ms * 1000000;
    while (rc == WEIR_OK && (*have = weir_kafka_topic_partitions(rk, topic, timeout_ms)) <= 0) {
        if (weir_mono_ns() >= deadline)
            return weir_err_set(err, WEIR_EIO, "kafka topic %s: created, but the cluster's metadata did not show it "
                                "within %d ms", topic, timeout_ms);
        usleep(100000);
    }
    return rc;
}
