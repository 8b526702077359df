/*
 * kafka_topics.c - topics as a wire protocol's admin requests see them
 * (runtime.h): a stream's settings as a topic's configuration, plain
 * topics made on request, and the consumer groups that keep offsets.
 *
 * A plain topic is a stream outside the pipeline: Kafka's CreateTopics
 * makes one, and weir_runtime_produce stores what is produced to it as
 * the producer sent it (keys, values, headers; no schema, no key taken
 * from fields), as a broker does. A pipeline that later declares a stream
 * of its name reads it as it reads any stream. Only the pipeline's streams
 * are compacted (retention.c), so a plain topic takes cleanup.policy
 * delete only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/kafka_topics.h"
#include "runtime/retention.h"

void weir_runtime_names_free(char **names, size_t n) { weir_names_free(names, n); }

bool runtime_of_pipeline(const weir_runtime *s, const char *name)
{
    if (runtime_relation(s, name, NULL))
        return true;
    size_t n = strlen(name);
    char base[256];
    if (n <= 4 || n - 4 >= sizeof base || strcmp(name + n - 4, ".dlq"))
        return false;
    memcpy(base, name, n - 4);
    base[n - 4] = '\0';
    return runtime_relation(s, base, NULL) != NULL;
}

int weir_runtime_topic_config(weir_runtime *s, const char *topic, weir_topic_config *out, weir_err *err)
{
    weir_stream *st;
    if (weir_name_internal(topic))
        return weir_err_set(err, WEIR_ENOENT, "no stream %s", topic);
    int rc = weir_stream_open(s->log, topic, &st, err);
    if (rc)
        return rc == WEIR_EINVAL ? weir_err_set(err, WEIR_ENOENT, "%s", err->msg) : rc;
    const weir_stream_config *c = weir_stream_get_config(st);
    *out = (weir_topic_config){
        .partitions = c->partitions,
        .retention_ms = c->retention_ms > 0 ? c->retention_ms : -1,
        .retention_bytes = c->retention_bytes > 0 ? c->retention_bytes : -1,
        .segment_bytes = (int64_t)c->segment_bytes,
        .segment_ms = c->segment_ms,
        .compact = c->compact,
        .delete_retention_ms = c->delete_retention_ms,
        .pipeline = runtime_of_pipeline(s, topic),
    };
    return WEIR_OK;
}

typedef struct create_job {
    const char *topic;
    const weir_topic_config *c;
    bool validate_only;
    weir_err *err;
    int rc;
} create_job;

static void create_on_loop(weir_runtime *s, void *ctx)
{
    create_job *j = ctx;
    const weir_topic_config *c = j->c;
    weir_stream *st;
    pthread_mutex_lock(&s->handoff_lock);
    bool closing = s->closing;
    pthread_mutex_unlock(&s->handoff_lock);
    if (closing)
        j->rc = weir_err_set(j->err, WEIR_EIO, "weir is shutting down");
    else if (!weir_name_valid(j->topic) || weir_name_internal(j->topic))
        j->rc = weir_err_set(j->err, WEIR_EINVAL, "'%s' is not a stream name weir takes: 1-200 characters of "
                             "A-Z a-z 0-9 . _ -, not starting with '.' or __ (weir's internal streams)", j->topic);
    else if (weir_stream_open(s->log, j->topic, &st, NULL) == WEIR_OK || runtime_of_pipeline(s, j->topic))
        j->rc = weir_err_set(j->err, WEIR_EEXIST, "stream %s exists%s", j->topic,
                             runtime_of_pipeline(s, j->topic) ? " (the pipeline defines it)" : "");
    else if (c->partitions < 1 || c->partitions > 10000)
        j->rc = weir_err_set(j->err, WEIR_EINVAL, "%u partitions: weir takes 1 to 10000", c->partitions);
    else if (c->compact)
        j->rc = weir_err_set(j->err, WEIR_EINVAL, "cleanup.policy compact: weir compacts only the pipeline's "
                             "streams and tables (declare it there with WITH (cleanup_policy = 'compact'))");
    else if (!j->validate_only) {
        int64_t dflt = s->opt.retention_ms ? s->opt.retention_ms : WEIR_DEFAULT_RETENTION_MS;
        weir_stream_config sc = {.partitions = c->partitions,
                                 .retention_ms = c->retention_ms == -1 ? 0 : c->retention_ms ? c->retention_ms : dflt,
                                 .retention_bytes = c->retention_bytes > 0 ? c->retention_bytes : 0,
                                 .segment_bytes = c->segment_bytes > 0 ? (uint64_t)c->segment_bytes : 0,
                                 .segment_ms = c->segment_ms > 0 ? c->segment_ms : 0};
        j->rc = weir_stream_create(s->log, j->topic, &sc, &st, j->err);
    }
}

int weir_runtime_create_topic(weir_runtime *s, const char *topic, const weir_topic_config *c, bool validate_only,
                              weir_err *err)
{
    create_job j = {topic, c, validate_only, err, WEIR_OK};
    runtime_on_loop(s, create_on_loop, &j);
    return j.rc;
}

/* ---- deleting a plain topic ---- */

typedef struct topic_drop {
    char topic[256];
    void (*done)(void *ctx, int rc, const char *why);
    void *ctx;
    struct topic_drop *next;
} topic_drop;

int weir_runtime_delete_topic(weir_runtime *s, const char *topic, void (*done)(void *ctx, int rc, const char *why),
                              void *ctx, weir_err *err)
{
    weir_stream *st;
    topic_drop *d = calloc(1, sizeof *d);
    if (!d)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    int rc = runtime_of_pipeline(s, topic)
                 ? weir_err_set(err, WEIR_EINVAL, "%s is defined by the pipeline: remove it there (or drop what "
                                "weir sql added)", topic)
             : weir_name_internal(topic) ? weir_err_set(err, WEIR_EINVAL, "%s is one of weir's internal streams", topic)
             : strlen(topic) >= sizeof d->topic || weir_stream_open(s->log, topic, &st, NULL)
                 ? weir_err_set(err, WEIR_ENOENT, "no topic %s", topic)
                 : WEIR_OK;
    pthread_mutex_lock(&s->handoff_lock);
    if (rc == WEIR_OK && s->closing)
        rc = weir_err_set(err, WEIR_EIO, "weir is shutting down");
    if (rc == WEIR_OK) {
        snprintf(d->topic, sizeof d->topic, "%s", topic);
        d->done = done;
        d->ctx = ctx;
        d->next = s->drops;
        s->drops = d;
        pthread_cond_signal(&s->wake);
    }
    pthread_mutex_unlock(&s->handoff_lock);
    if (rc)
        free(d);
    return rc;
}

/* The topics handed over so far, taken from s->drops. */
static topic_drop *take_drops(weir_runtime *s)
{
    pthread_mutex_lock(&s->handoff_lock);
    topic_drop *d = s->drops;
    s->drops = NULL;
    pthread_mutex_unlock(&s->handoff_lock);
    return d;
}

void runtime_drop_topics(weir_runtime *s)
{
    for (topic_drop *d = take_drops(s), *next; d; d = next) {
        next = d->next;
        weir_err err = {0};
        weir_stream *st;
        int rc = runtime_of_pipeline(s, d->topic) /* a statement may have declared it since */
                     ? weir_err_set(&err, WEIR_EINVAL, "%s is defined by the pipeline now", d->topic)
                     : weir_stream_open(s->log, d->topic, &st, &err);
        if (rc == WEIR_OK) {
            runtime_end_feeds_of(s, st); /* no one else holds it: requests wait outside the runtime */
            rc = weir_stream_drop(s->log, d->topic, &err);
        }
        d->done(d->ctx, rc, err.msg);
        free(d);
    }
}

void runtime_refuse_drops(weir_runtime *s)
{
    for (topic_drop *d = take_drops(s), *next; d; d = next) {
        next = d->next;
        d->done(d->ctx, WEIR_EIO, "weir is shutting down");
        free(d);
    }
}

int weir_runtime_group_names(weir_runtime *s, char ***names, size_t *n, weir_err *err)
{
    int rc = weir_group_list(s->log, names, n, err); /* "group/stream", sorted: a group's run together */
    if (rc)
        return rc;
    size_t kept = 0;
    for (size_t i = 0; i < *n; i++) {
        char *slash = strchr((*names)[i], '/');
        if (slash)
            *slash = '\0';
        if (kept && !strcmp((*names)[kept - 1], (*names)[i])) {
            free((*names)[i]);
            continue;
        }
        (*names)[kept++] = (*names)[i];
    }
    *n = kept;
    return WEIR_OK;
}

int weir_runtime_group_topics(weir_runtime *s, const char *group, char ***names, size_t *n, weir_err *err)
{
    int rc = weir_group_list(s->log, names, n, err);
    if (rc)
        return rc;
    size_t kept = 0, len = strlen(group);
    for (size_t i = 0; i < *n; i++) {
        char *name = (*names)[i];
        if (strncmp(name, group, len) || name[len] != '/') {
            free(name);
            continue;
        }
        memmove(name, name + len + 1, strlen(name + len + 1) + 1);
        (*names)[kept++] = name;
    }
    *n = kept;
    return WEIR_OK;
}
