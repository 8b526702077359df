/*
 * kafka_source.c - a pipeline input read from a Kafka topic
 * (CREATE STREAM s (...) WITH (connector = 'kafka'[, topic = 't'][, brokers = ...])),
 * the runner's weir_input_ops over a librdkafka consumer.
 *
 * Topic partition p is the stream's partition p (the counts must match).
 * The consumer is assigned every partition at the offsets the runner's
 * checkpoint names (the beginning without one), so the pipeline's state
 * counts each record once; the consumer group only learns the offsets
 * after each checkpoint, for outside tools. In scale-out mode (the runner
 * passes weir_input_tasks) the consumer subscribes instead and the group
 * shares the partitions among the processes: each partition handed over
 * is first restored by the runner, which names the offset to read from,
 * and each one taken away is dropped with what was queued of it (eager
 * rebalancing: everything is revoked, then reassigned). A join's other
 * inputs do not subscribe: their consumers read the partitions the runner
 * names (follow), those its first input's group handed over, so that
 * partition p of every input of the join is in one process. A scale-out
 * repartition stream's topic is weir's own: made here when missing
 * (repartition_topic). Messages are polled from the
 * one consumer queue into a queue per partition, and a partition whose
 * queue is long is paused until the pipeline catches up.
 */
#include "conn/kafka_source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/clock.h"
#include "conn/kafka_client.h"
#include "conn/sink.h"
#include "conn/source.h"
#include "log/record.h"

#define METADATA_MS 10000      /* a topic's metadata */
#define CREATE_MS 30000        /* a topic weir makes: the broker's answer, then as much for its metadata */
#define PAUSE_AT 20000         /* queued messages of a partition before it is paused */
#define RESUME_AT 5000

typedef struct part_queue {
    rd_kafka_message_t **q;    /* a ring */
    size_t head, len, cap;
    rd_kafka_message_t *current; /* handed to the runner, freed on the next call */
    weir_buf headers;          /* current's Kafka headers, in weir's encoding */
    bool paused;
    bool owned;                /* assigned to this process (always, outside scale-out) */
    /* Exactly once: a topic written in transactions has offsets that hold
     * no record (their markers), so the runner's next offset may stay below
     * the partition's end once everything is read. */
    int64_t next;              /* the offset after the last record handed out, or the one reading began at */
    int64_t eof;               /* where the consumer reached the partition's (stable) end, -1: not there */
} part_queue;

typedef struct kafka_input {
    rd_kafka_t *rk;
    char topic[256];
    uint32_t partitions;
    part_queue *parts;
    weir_input_tasks tasks;    /* scale-out: the runner's callbacks; tasks.gained NULL otherwise */
    weir_err error;            /* a fatal consumer error, reported by next() */
    weir_kafka_watch watch;    /* the consumer's error callback's (credentials, TLS refused); opaque: this */
} kafka_input;

typedef struct kafka_conf {    /* what bind() keeps of a stream's options, completed by weir_kafka_plan */
    const char *topic;         /* the stream's name when none is given */
    const char *brokers;       /* NULL: none given, nor by serve --kafka */
    const char *group;         /* the consumer group (offsets for outside tools); NULL: "weir" */
    const char *const *config; /* serve --kafka-config's properties, or NULL */
    bool exactly_once;         /* serve --kafka-exactly-once: read only committed transactions' records */
} kafka_conf;

extern const weir_source_connector weir_source_kafka;

static int push(part_queue *q, rd_kafka_message_t *m)
{
    if (q->len == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 256;
        rd_kafka_message_t **grown = malloc(cap * sizeof *grown);
        if (!grown)
            return -1;
        for (size_t i = 0; i < q->len; i++)
            grown[i] = q->q[(q->head + i) % q->cap];
        free(q->q);
        q->q = grown;
        q->head = 0;
        q->cap = cap;
    }
    q->q[(q->head + q->len++) % q->cap] = m;
    return 0;
}

static void set_paused(kafka_input *k, uint32_t p, bool pause)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, k->topic, (int32_t)p);
    if (pause)
        rd_kafka_pause_partitions(k->rk, l);
    else
        rd_kafka_resume_partitions(k->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    k->parts[p].paused = pause;
}

static void drop_queue(part_queue *q)
{
    if (q->current)
        rd_kafka_message_destroy(q->current);
    for (size_t i = 0; i < q->len; i++)
        rd_kafka_message_destroy(q->q[(q->head + i) % q->cap]);
    q->current = NULL;
    q->head = q->len = 0;
    q->paused = false;
    q->eof = -1;
}

/* Reading the partition begins at offset (0: its beginning). */
static void reading_from(part_queue *q, uint64_t offset)
{
    q->next = (int64_t)offset;
    q->eof = -1;
}

/* Scale-out: the group coordinator hands partitions over (inside a poll,
 * so on the pipeline thread, between records). */
static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t e, rd_kafka_topic_partition_list_t *l, void *opaque)
{
    kafka_input *k = ((weir_kafka_watch *)opaque)->opaque;
    if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < l->cnt; i++) {
            uint32_t p = (uint32_t)l->elems[i].partition;
            uint64_t offset;
            if (p >= k->partitions || k->error.code || k->tasks.gained(k->tasks.ctx, p, &offset, &k->error))
                continue;
            l->elems[i].offset = offset ? (int64_t)offset : RD_KAFKA_OFFSET_BEGINNING;
            k->parts[p].owned = true;
            reading_from(&k->parts[p], offset);
        }
        rd_kafka_assign(rk, l);
        return;
    }
    for (uint32_t p = 0; p < k->partitions; p++) /* revoked (or the group failed): give everything up */
        if (k->parts[p].owned) {
            drop_queue(&k->parts[p]);
            k->parts[p].owned = false;
            k->tasks.lost(k->tasks.ctx, p);
        }
    rd_kafka_assign(rk, NULL);
}

/* Moves what the consumer has into the partitions' queues (no waiting).
 * Transport trouble is retried by librdkafka (a broker host that stops
 * resolving too: DNS may come back); what no retry cures (a fatal error,
 * credentials or TLS refused, the topic not authorised) stops the
 * pipeline with the broker's words. */
static void pump(kafka_input *k)
{
    for (int i = 0; i < 10000 && !k->error.code; i++) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(k->rk, 0); /* serves the error callback too */
        if (k->watch.broken)
            weir_err_set(&k->error, WEIR_EIO, "kafka topic %s: %s", k->topic, k->watch.why);
        if (!m)
            return;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) { /* exactly once's reader: everything stable is read */
            if (m->partition >= 0 && (uint32_t)m->partition < k->partitions && k->parts[m->partition].owned)
                k->parts[m->partition].eof = m->offset;
            rd_kafka_message_destroy(m);
            continue;
        }
        if (m->err) {
            char why[256];
            if (rd_kafka_fatal_error(k->rk, why, sizeof why))
                weir_err_set(&k->error, WEIR_EIO, "kafka topic %s: %s", k->topic, why);
            else if (weir_kafka_refused(m->err))
                weir_err_set(&k->error, WEIR_EIO, "kafka topic %s: %s", k->topic, rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        /* a partition no longer followed may still have had messages fetched */
        if (m->partition < 0 || (uint32_t)m->partition >= k->partitions || !k->parts[m->partition].owned ||
            push(&k->parts[m->partition], m)) {
            rd_kafka_message_destroy(m);
            continue;
        }
        part_queue *q = &k->parts[m->partition];
        if (q->len >= PAUSE_AT && !q->paused)
            set_paused(k, (uint32_t)m->partition, true);
    }
}

static int input_next(void *state, uint32_t p, weir_record *rec, weir_err *err)
{
    kafka_input *k = state;
    part_queue *q = &k->parts[p];
    if (q->current) {
        rd_kafka_message_destroy(q->current);
        q->current = NULL;
    }
    if (q->len == 0)
        pump(k);
    if (k->error.code)
        return -weir_err_set(err, k->error.code, "%s", k->error.msg);
    if (q->len == 0)
        return 0;
    rd_kafka_message_t *m = q->current = q->q[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
    q->next = m->offset + 1;
    if (q->paused && q->len <= RESUME_AT)
        set_paused(k, p, false);
    int64_t ts = rd_kafka_message_timestamp(m, NULL);
    *rec = (weir_record){.offset = (uint64_t)m->offset, .ts_ms = ts >= 0 ? ts : weir_wall_ms(),
                         .key = m->key, .key_len = m->key ? m->key_len : 0, .value = m->payload, .value_len = m->len};
    /* A null value (a tombstone) stays a record without value: the engine
     * dead-letters it with the reason "null value". Headers go with the
     * record, so that derived streams keep them. */
    rd_kafka_headers_t *h;
    q->headers.len = 0;
    if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char *name;
        const void *value;
        size_t size;
        for (size_t i = 0; rd_kafka_header_get_all(h, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; i++)
            if (weir_headers_add(&q->headers, name, value ? value : "", value ? size : 0))
                return -weir_err_set(err, WEIR_ENOMEM, "out of memory");
        rec->headers = q->headers.data;
        rec->headers_len = q->headers.len;
    }
    return 1;
}

/* Whether everything up to hi (the partition's stable end) was handed
 * out: read to there, nothing queued. */
static bool read_to(const part_queue *q, int64_t hi)
{
    return q->len == 0 && q->eof >= 0 && q->eof >= hi;
}

static bool input_caught_up(void *state, uint32_t p, uint64_t offset)
{
    kafka_input *k = state;
    if (!k->parts[p].owned)
        return true; /* another process reads it */
    if (k->parts[p].len)
        return false;
    int64_t lo, hi;
    if (rd_kafka_get_watermark_offsets(k->rk, k->topic, (int32_t)p, &lo, &hi) || hi < 0) /* not fetched yet: ask */
        if (rd_kafka_query_watermark_offsets(k->rk, k->topic, (int32_t)p, &lo, &hi, 2000))
            return false;
    return (uint64_t)hi <= offset || (read_to(&k->parts[p], hi) && (int64_t)offset >= k->parts[p].next);
}

/* The end, or what the runner will have read once it took what was
 * handed out when the rest up to the end holds no record. */
static int64_t input_end(void *state, uint32_t p)
{
    kafka_input *k = state;
    int64_t lo, hi;
    if (!k->parts[p].owned || rd_kafka_get_watermark_offsets(k->rk, k->topic, (int32_t)p, &lo, &hi) || hi < 0)
        return -1;
    return read_to(&k->parts[p], hi) && k->parts[p].next < hi ? k->parts[p].next : hi;
}

static void input_checkpointed(void *state, const uint64_t *offsets, uint32_t partitions)
{
    kafka_input *k = state;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)partitions);
    for (uint32_t p = 0; p < partitions; p++)
        if (k->parts[p].owned)
            rd_kafka_topic_partition_list_add(l, k->topic, (int32_t)p)->offset = (int64_t)offsets[p];
    if (l->cnt)
        rd_kafka_commit(k->rk, l, 1); /* async: only for tools that read the group's offsets */
    rd_kafka_topic_partition_list_destroy(l);
}

static int input_follow(void *state, uint32_t p, bool own, uint64_t offset, weir_err *err)
{
    kafka_input *k = state;
    if (p >= k->partitions || k->parts[p].owned == own)
        return WEIR_OK;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, k->topic, (int32_t)p)->offset = offset ? (int64_t)offset : RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_error_t *e = own ? rd_kafka_incremental_assign(k->rk, l) : rd_kafka_incremental_unassign(k->rk, l);
    reading_from(&k->parts[p], offset);
    rd_kafka_topic_partition_list_destroy(l);
    if (!own) { /* even when leaving failed: what still comes of it is dropped (pump) */
        drop_queue(&k->parts[p]);
        k->parts[p].owned = false;
    }
    if (e) {
        weir_err_set(err, WEIR_EIO, "kafka topic %s: %s partition %u: %s", k->topic, own ? "reading" : "leaving", p,
                     rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return err->code;
    }
    drop_queue(&k->parts[p]);
    k->parts[p].owned = own;
    return WEIR_OK;
}

static int input_seek(void *state, uint32_t p, uint64_t offset, weir_err *err)
{
    kafka_input *k = state;
    if (p >= k->partitions || !k->parts[p].owned)
        return WEIR_OK;
    if (k->parts[p].paused) /* its queue was full: emptied below, so the consumer fetches again */
        set_paused(k, p, false);
    drop_queue(&k->parts[p]);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, k->topic, (int32_t)p)->offset = offset ? (int64_t)offset : RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_error_t *e = rd_kafka_seek_partitions(k->rk, l, 10000);
    rd_kafka_resp_err_t pe = e ? RD_KAFKA_RESP_ERR_NO_ERROR : l->elems[0].err;
    rd_kafka_topic_partition_list_destroy(l);
    reading_from(&k->parts[p], offset);
    if (e || pe) {
        weir_err_set(err, WEIR_EIO, "kafka topic %s: reading partition %u again from %llu: %s", k->topic, p,
                     (unsigned long long)offset, e ? rd_kafka_error_string(e) : rd_kafka_err2str(pe));
        if (e)
            rd_kafka_error_destroy(e);
        return err->code;
    }
    return WEIR_OK;
}

static void input_close(void *state)
{
    kafka_input *k = state;
    if (!k)
        return;
    if (k->rk) /* leaves the group: the rebalance callback may still run */
        rd_kafka_consumer_close(k->rk);
    for (uint32_t p = 0; k->parts && p < k->partitions; p++) {
        drop_queue(&k->parts[p]);
        free(k->parts[p].q);
        weir_buf_free(&k->parts[p].headers);
    }
    free(k->parts);
    if (k->rk)
        rd_kafka_destroy(k->rk);
    free(k);
}

/* Serves the consumer's queued errors before anything is assigned (its
 * main queue is the consumer's: rd_kafka_poll may not serve it) and
 * answers whether one was for good, a bootstrap host that does not
 * resolve included (connecting: not a passing DNS failure). */
static bool served_broken(kafka_input *k)
{
    rd_kafka_message_t *m = rd_kafka_consumer_poll(k->rk, 0);
    if (m)
        rd_kafka_message_destroy(m);
    if (!k->watch.broken && k->watch.unresolved)
        snprintf(k->watch.why, sizeof k->watch.why, "%s", k->watch.unresolved_why);
    return k->watch.broken || k->watch.unresolved;
}

static const weir_input_ops kafka_input_ops = {input_next, input_caught_up, input_end, input_checkpointed, input_close,
                                               input_follow, input_seek};

/* Scale-out's repartition topic, weir's own (rel re-keys
 * rel->repartition_of), of *have partitions (-1: it does not exist): made
 * then, as Kafka Streams makes its internal topics, with as many
 * partitions as the input and the broker's default replication, through
 * k's consumer and so with the user's properties (*have the count made);
 * several processes starting at once all find it made. Under exactly once
 * the tasks' transactions also write its dead letters to the topic of
 * their stream's name (one partition, as the stream), made alike. A topic
 * of another partition count is refused, saying what to run: its records'
 * partitions would not be their keys'. */
static int repartition_topic(kafka_input *k, const weir_relation *rel, const kafka_conf *cfg, uint32_t partitions, int *have,
                             weir_err *err)
{
    const char *input = rel->repartition_of->name;
    char why[sizeof err->msg], dlq[300];
    int dlq_have;
    if (*have < 0 && weir_kafka_create_topic(k->rk, cfg->topic, (int)partitions, NULL, CREATE_MS, have, err)) {
        snprintf(why, sizeof why, "%s", err->msg);
        return weir_err_set(err, err->code, "kafka topic %s (scale-out's repartition topic, re-keying %s) was not found "
                            "and could not be created (%s): create it with %u partitions, as many as %s has "
                            "(kafka-topics.sh --create --topic %s --partitions %u)", cfg->topic, input, why, partitions,
                            input, cfg->topic, partitions);
    }
    if (*have != (int)partitions)
        return weir_err_set(err, WEIR_EINVAL, "kafka topic %s (scale-out's repartition topic, re-keying %s) must exist with "
                            "%u partitions, as many as %s has (it has another count): create it so (kafka-topics.sh "
                            "--create --topic %s --partitions %u)", cfg->topic, input, partitions, input, cfg->topic,
                            partitions);
    snprintf(dlq, sizeof dlq, "%s.dlq", rel->name);
    if (cfg->exactly_once && weir_kafka_topic_partitions(k->rk, dlq, METADATA_MS) < 0 &&
        weir_kafka_create_topic(k->rk, dlq, 1, NULL, CREATE_MS, &dlq_have, err)) {
        snprintf(why, sizeof why, "%s", err->msg);
        return weir_err_set(err, err->code, "kafka topic %s (the dead letters of scale-out's repartition topic %s, which "
                            "--kafka-exactly-once writes) was not found and could not be created (%s): create it "
                            "(kafka-topics.sh --create --topic %s --partitions 1)", dlq, cfg->topic, why, dlq);
    }
    return WEIR_OK;
}

/* open_input: the topic of rel's connector options, at offsets. */
static int open_input(const weir_relation *rel, const uint64_t *offsets, uint32_t partitions,
                      const weir_input_tasks *tasks, const weir_input_ops **ops, void **state, weir_err *err)
{
    const kafka_conf *cfg = rel->source_conf;
    const char *brokers = cfg->brokers;
    if (!brokers)
        return weir_err_set(err, WEIR_EINVAL, "stream %s reads kafka topic %s: no brokers (WITH (brokers = ...) or "
                                              "weir serve --kafka)", rel->name, cfg->topic);
    kafka_input *k = calloc(1, sizeof *k);
    if (!k || !(k->parts = calloc(partitions, sizeof *k->parts))) {
        free(k);
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    }
    snprintf(k->topic, sizeof k->topic, "%s", cfg->topic);
    k->partitions = partitions;
    if (tasks)
        k->tasks = *tasks;
    for (uint32_t p = 0; p < partitions; p++) {
        k->parts[p].owned = !tasks;
        reading_from(&k->parts[p], tasks ? 0 : offsets[p]);
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[512];
    int rc = weir_kafka_conf_set(conf, "bootstrap.servers", brokers, err) ||
             weir_kafka_conf_set(conf, "group.id", cfg->group ? cfg->group : "weir", err) ||
             weir_kafka_conf_set(conf, "enable.auto.commit", "false", err) || weir_kafka_conf_set(conf, "auto.offset.reset", "earliest", err) ||
             weir_kafka_conf_set(conf, "log_level", "2", err) ||
             (cfg->exactly_once && (weir_kafka_conf_set(conf, "isolation.level", "read_committed", err) ||
                                    weir_kafka_conf_set(conf, "enable.partition.eof", "true", err)));
    bool follows = tasks && !tasks->gained; /* assigned by the runner, not the group */
    /* a process that stops answering loses its partitions after the session timeout: 6 s unless the user's
     * properties say otherwise (a longer one rides out a longer stall) */
    if (!rc && tasks && !follows) {
        rc = weir_kafka_conf_set(conf, "session.timeout.ms", "6000", err) ||
             weir_kafka_conf_set(conf, "heartbeat.interval.ms", "500", err);
        rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    }
    rc = rc || weir_kafka_conf_user(conf, &(weir_kafka_user){cfg->config, rel->decl}, err);
    if (rc)
        weir_err_wrap(err, "stream %s", rel->name);
    k->watch.opaque = k;
    weir_kafka_conf_watch(conf, &k->watch);
    if (rc || !(k->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr))) {
        if (!rc)
            weir_err_set(err, WEIR_EINVAL, "kafka: %s", errstr);
        rd_kafka_conf_destroy(conf); /* rd_kafka_new takes it only when it succeeds */
        input_close(k);
        return err->code;
    }
    rd_kafka_poll_set_consumer(k->rk);
    /* the topic must have the stream's partitions: partition p feeds partition p */
    int have = weir_kafka_topic_partitions(k->rk, k->topic, METADATA_MS);
    if (have < 0 && served_broken(k)) { /* the broker's words rather than a timeout's */
        weir_err_set(err, WEIR_EIO, "stream %s: kafka %s: %s", rel->name, brokers, k->watch.why);
        input_close(k);
        return err->code;
    }
    if (rel->repartition_of && repartition_topic(k, rel, cfg, partitions, &have, err)) {
        input_close(k);
        return err->code;
    }
    if (have != (int)partitions) {
        input_close(k);
        return have < 0 ? weir_err_set(err, WEIR_EIO, "stream %s: kafka topic %s: no metadata from %s", rel->name,
                                       cfg->topic, brokers)
                        : weir_err_set(err, WEIR_EINVAL, "stream %s has %u partitions but kafka topic %s has %d",
                                       rel->name, partitions, cfg->topic, have);
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)partitions);
    for (uint32_t p = 0; p < partitions && !tasks; p++)
        rd_kafka_topic_partition_list_add(l, k->topic, (int32_t)p)->offset =
            offsets[p] ? (int64_t)offsets[p] : RD_KAFKA_OFFSET_BEGINNING;
    if (tasks && !follows)
        rd_kafka_topic_partition_list_add(l, k->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = follows ? RD_KAFKA_RESP_ERR_NO_ERROR : tasks ? rd_kafka_subscribe(k->rk, l) : rd_kafka_assign(k->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        input_close(k);
        return weir_err_set(err, WEIR_EIO, "stream %s: kafka topic %s: %s", rel->name, cfg->topic, rd_kafka_err2str(e));
    }
    *ops = &kafka_input_ops;
    *state = k;
    return WEIR_OK;
}

/* A CREATE SINK name FROM from WITH (connector = 'kafka', topic = topic[,
 * brokers = brokers], and the properties.* options of decl, a Kafka
 * source's statement that the sink writes for: the same cluster). */
static int add_sink(weir_catalog *cat, weir_arena *a, const char *name, const char *from, const char *topic,
                    const char *brokers, const weir_stmt *decl)
{
    int n = decl ? decl->nwith : 0, k = 0;
    weir_with_option *with = weir_arena_alloc(a, (size_t)(3 + n) * sizeof *with);
    if (!with)
        return WEIR_ENOMEM;
    with[k++] = (weir_with_option){.name = "connector", .value = weir_text("kafka", 5)};
    with[k++] = (weir_with_option){.name = "topic", .value = weir_text(topic, strlen(topic))};
    if (brokers)
        with[k++] = (weir_with_option){.name = "brokers", .value = weir_text(brokers, strlen(brokers))};
    for (int i = 0; i < n; i++)
        if (!strncmp(decl->with[i].name, WEIR_KAFKA_PROPERTIES, strlen(WEIR_KAFKA_PROPERTIES)))
            with[k++] = decl->with[i];
    return weir_catalog_add_sink(cat, a, name, from, with, k);
}

/* serve --kafka-exactly-once: the runner's tasks write every derived
 * stream, table and dead-letter stream to its topic in their transactions
 * (exec/tasks.c), so no sink may read one: its deliveries would be
 * outside them, and no state save waits for it. */
static int exactly_once_sinks(const weir_catalog *cat, weir_err *err)
{
    for (int i = 0; i < cat->nsinks; i++) {
        const weir_stmt *sink = cat->sinks[i];
        size_t n = strlen(sink->from);
        const weir_relation *from = weir_catalog_find(cat, sink->from);
        if ((n > 4 && !strcmp(sink->from + n - 4, ".dlq")) || (from && (!from->is_source || from->repartition_of)))
            return weir_err_set(err, WEIR_EINVAL, "sink %s: serve --kafka-exactly-once writes %s to the topic of its "
                                "name in the tasks' transactions, and a sink reading it would deliver outside them: "
                                "read the topic %s instead, or run without --kafka-exactly-once", sink->name,
                                sink->from, sink->from);
    }
    return WEIR_OK;
}

int weir_kafka_plan(weir_catalog *cat, weir_arena *a, const char *brokers, const char *group,
                    const char *const *config, bool exactly_once, weir_err *err)
{
    if (exactly_once && exactly_once_sinks(cat, err))
        return err->code;
    for (int i = 0; i < cat->nrels; i++) {
        weir_relation *r = cat->rels[i];
        char name[300];
        const kafka_conf *given = r->source_conf, by_name = {.topic = r->name};
        /* serve --kafka: the topic of its name; scale-out's repartition streams too (the runner writes the
         * stream, its forwarding sink the topic, and the tasks of its partitions read it there) */
        if (brokers && (r->is_source || r->repartition_of) && !r->connector) {
            r->connector = weir_source_kafka.name;
            given = &by_name;
        }
        if (r->connector && !strcmp(r->connector, weir_source_kafka.name)) {
            /* records ingested here go to the topic; the pipeline reads them there */
            kafka_conf *c = weir_arena_alloc(a, sizeof *c);
            snprintf(name, sizeof name, "%s.to_kafka", r->name);
            /* exactly once: the tasks write a repartition stream's topic in their transactions */
            if (!c || (!(exactly_once && r->repartition_of) &&
                       add_sink(cat, a, name, r->name, given->topic, given->brokers, r->decl)))
                return weir_err_set(err, WEIR_ENOMEM, "out of memory");
            *c = (kafka_conf){given->topic, given->brokers ? given->brokers : brokers, group, config, exactly_once};
            r->source_conf = c;
        }
        if (exactly_once) /* the tasks write its outputs and dead letters in their transactions */
            continue;
        if (brokers && r->is_source) { /* its dead letters too, on a topic of their stream's name (its cluster's) */
            bool on_kafka = r->connector && !strcmp(r->connector, weir_source_kafka.name);
            char dlq[300];
            snprintf(dlq, sizeof dlq, "%s.dlq", r->name);
            snprintf(name, sizeof name, "%s.dlq.to_kafka", r->name);
            const char *from = weir_arena_strndup(a, dlq, strlen(dlq));
            if (!from || add_sink(cat, a, name, from, from, on_kafka ? given->brokers : NULL, on_kafka ? r->decl : NULL))
                return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        } else if (brokers && !r->is_source && !weir_catalog_has_sink(cat, r->name, "kafka")) { /* every output on a topic of its name */
            snprintf(name, sizeof name, "%s.to_kafka", r->name);
            if (add_sink(cat, a, name, r->name, r->name, NULL, NULL))
                return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        }
    }
    return WEIR_OK;
}

static const char *nonempty(const weir_value *v) { return *v->s ? NULL : "it cannot be empty"; }

static const weir_conn_option options[] = {
    {"topic", WEIR_TYPE_TEXT, NULL, false,
     "The topic the pipeline reads; its partition p is the stream's partition p (the counts must match). Without "
     "it, the topic of the stream's name.", nonempty},
    {"brokers", WEIR_TYPE_TEXT, NULL, false,
     "Bootstrap brokers, host:port[,host:port...]. Without it, weir serve --kafka's; one of the two is needed.",
     nonempty},
    {WEIR_KAFKA_PROPERTIES, WEIR_TYPE_TEXT, NULL, false, WEIR_KAFKA_PROPERTIES_HELP, NULL},
};

static void bind_stream(const weir_relation *rel, void *conf)
{
    kafka_conf *c = conf;
    const char *topic = weir_conn_text(rel->decl, options, 2, "topic");
    c->topic = topic ? topic : rel->name;
    c->brokers = weir_conn_text(rel->decl, options, 2, "brokers");
}

/* feeds_input: a Kafka sink into the topic the stream reads (the
 * forwarding sink weir_kafka_plan adds, or one declared alike). */
static bool feeds_input(const weir_relation *rel, const weir_stmt *sink)
{
    const kafka_conf *c = rel->source_conf;
    const weir_with_option *conn = weir_stmt_option(sink, "connector"), *topic = weir_stmt_option(sink, "topic");
    return conn && topic && conn->value.type == WEIR_TYPE_TEXT && topic->value.type == WEIR_TYPE_TEXT &&
           !strcmp(conn->value.s, weir_source_kafka.name) && !strcmp(topic->value.s, c->topic);
}

const weir_source_connector weir_source_kafka = {
    .name = "kafka",
    .help = "Reads a Kafka topic as a pipeline input, exactly once: the consumer starts from the offsets of the "
            "pipeline's checkpoint. Records ingested into the stream over HTTP are forwarded to the topic first "
            "(sink STREAM.to_kafka), and the pipeline reads them there; the stream's other sinks (ClickHouse, files, "
            "other topics) read the topic too, each with a consumer of its own, so they get every record. In scale-out "
            "mode the processes of a consumer group share the partitions.",
    .options = options,
    .noptions = sizeof options / sizeof *options,
    .caps = WEIR_SOURCE_INGEST,
    .conf_size = sizeof(kafka_conf),
    .bind = bind_stream,
    .open_input = open_input,
    .feeds_input = feeds_input,
};
