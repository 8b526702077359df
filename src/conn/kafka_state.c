/*
 * kafka_state.c - the task store of a scale-out group (exec/task_store.h)
 * on a Kafka topic "<group>.state": compacted, read and written on its
 * partition 0 only, so that one offset order holds every record.
 *
 * Record keys: "state/<stream>/<p>" holds a task's state (next offset and
 * engine snapshot, as the runner wrote it), "owner/<stream>/<p>" the HTTP
 * address of the process that last claimed it. Headers weir.epoch and
 * weir.writer (the instance). Compaction keeps the latest record per key;
 * the reader keeps, per key, the latest record of the highest epoch, so a
 * stale owner's late write loses to its successor's.
 *
 * The store reads the topic from its beginning once and then follows it,
 * catching up to the end (as the broker reports it) before every answer:
 * a state saved by another process is seen as soon as its save returned.
 * The whole group's latest states are so held in memory here.
 */
#include "conn/kafka_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn/kafka_client.h"

#define TIMEOUT_MS 10000

typedef struct entry {
    char *key;
    uint64_t epoch;
    char writer[64];
    weir_buf value;
} entry;

typedef struct kafka_state {
    weir_task_store store;      /* first: the store's ctx is this */
    char topic[300];
    char instance[64];
    const char *const *config;  /* serve --kafka-config's properties, or NULL */
    char address[256];
    rd_kafka_t *producer, *consumer;
    int failed;                 /* delivery reports with an error since the last write */
    char failure[256];
    int64_t next_offset;        /* of the topic's partition 0, read up to here */
    entry *entries;
    size_t n, cap;
} kafka_state;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    kafka_state *ks = opaque;
    if (m->err && ks->failed++ == 0)
        snprintf(ks->failure, sizeof ks->failure, "%s", rd_kafka_err2str(m->err));
}

static entry *find(kafka_state *ks, const char *key, size_t len)
{
    for (size_t i = 0; i < ks->n; i++)
        if (strlen(ks->entries[i].key) == len && !memcmp(ks->entries[i].key, key, len))
            return &ks->entries[i];
    return NULL;
}

static bool header_text(rd_kafka_headers_t *h, const char *name, char *out, size_t cap)
{
    const void *v;
    size_t len;
    if (!h || rd_kafka_header_get_last(h, name, &v, &len) || len >= cap)
        return false;
    memcpy(out, v, len);
    out[len] = '\0';
    return true;
}

/* Keeps a record read from the topic if it is the latest of its key's highest epoch. */
static int apply(kafka_state *ks, const rd_kafka_message_t *m)
{
    rd_kafka_headers_t *h = NULL;
    char epoch_text[24], writer[64];
    if (!m->key || rd_kafka_message_headers(m, &h) || !header_text(h, "weir.epoch", epoch_text, sizeof epoch_text) ||
        !header_text(h, "weir.writer", writer, sizeof writer))
        return WEIR_OK; /* not one of weir's records */
    uint64_t epoch = strtoull(epoch_text, NULL, 10);
    entry *e = find(ks, m->key, m->key_len);
    if (!e) {
        if (ks->n == ks->cap) {
            entry *grown = weir_array_grow(ks->entries, &ks->cap, sizeof *grown, 64);
            if (!grown)
                return WEIR_ENOMEM;
            ks->entries = grown;
        }
        e = &ks->entries[ks->n];
        *e = (entry){0};
        if (!(e->key = strndup(m->key, m->key_len)))
            return WEIR_ENOMEM;
        ks->n++;
    } else if (epoch < e->epoch) {
        return WEIR_OK;
    }
    e->epoch = epoch;
    snprintf(e->writer, sizeof e->writer, "%s", writer);
    e->value.len = 0;
    return weir_buf_append(&e->value, m->payload, m->len) ? WEIR_ENOMEM : WEIR_OK;
}

/* Reads the topic up to the end the broker reports now. */
static int catch_up(kafka_state *ks, weir_err *err)
{
    int64_t lo, hi;
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(ks->consumer, ks->topic, 0, &lo, &hi, TIMEOUT_MS);
    if (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
        return WEIR_OK; /* nothing saved yet */
    if (e)
        return weir_err_set(err, WEIR_EIO, "kafka topic %s: %s", ks->topic, rd_kafka_err2str(e));
    for (int idle = 0; ks->next_offset < hi;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(ks->consumer, 200);
        if (!m) {
            if (++idle * 200 >= TIMEOUT_MS)
                return weir_err_set(err, WEIR_EIO, "kafka topic %s: reading it timed out at offset %lld of %lld", ks->topic,
                                    (long long)ks->next_offset, (long long)hi);
            continue;
        }
        int rc = WEIR_OK;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF || (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->offset < ks->next_offset)) {
            /* nothing to apply */
        } else if (m->err) {
            rc = weir_err_set(err, WEIR_EIO, "kafka topic %s: %s", ks->topic, rd_kafka_message_errstr(m));
        } else {
            ks->next_offset = m->offset + 1;
            if (apply(ks, m))
                rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
        }
        rd_kafka_message_destroy(m);
        if (rc)
            return rc;
    }
    return WEIR_OK;
}

static int write_record(kafka_state *ks, const char *kind, const char *task, uint64_t epoch, const void *value,
                        size_t len, weir_err *err)
{
    char key[400], epoch_text[24];
    int key_len = snprintf(key, sizeof key, "%s/%s", kind, task);
    int epoch_len = snprintf(epoch_text, sizeof epoch_text, "%llu", (unsigned long long)epoch);
    rd_kafka_headers_t *h = rd_kafka_headers_new(2);
    if (!h || rd_kafka_header_add(h, "weir.epoch", -1, epoch_text, epoch_len) ||
        rd_kafka_header_add(h, "weir.writer", -1, ks->instance, -1)) {
        if (h)
            rd_kafka_headers_destroy(h);
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    }
    ks->failed = 0;
    rd_kafka_resp_err_t e = rd_kafka_producev(ks->producer, RD_KAFKA_V_TOPIC(ks->topic), RD_KAFKA_V_PARTITION(0),
                                              RD_KAFKA_V_KEY(key, (size_t)key_len), RD_KAFKA_V_VALUE((void *)value, len),
                                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
    if (e) {
        rd_kafka_headers_destroy(h);
        return weir_err_set(err, WEIR_EIO, "kafka topic %s: %s", ks->topic, rd_kafka_err2str(e));
    }
    e = rd_kafka_flush(ks->producer, TIMEOUT_MS);
    if (e || ks->failed) {
        rd_kafka_purge(ks->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        return weir_err_set(err, WEIR_EIO, "kafka topic %s: saving %s: %s", ks->topic, key,
                            ks->failed ? ks->failure : rd_kafka_err2str(e));
    }
    return WEIR_OK;
}

static int store_load(void *ctx, const char *task, weir_task_saved *out, weir_err *err)
{
    kafka_state *ks = ctx;
    char key[400];
    int rc = catch_up(ks, err);
    snprintf(key, sizeof key, "state/%s", task);
    entry *e = rc ? NULL : find(ks, key, strlen(key));
    out->found = e != NULL;
    if (!e)
        return rc;
    out->epoch = e->epoch;
    snprintf(out->writer, sizeof out->writer, "%s", e->writer);
    out->state.len = 0;
    return weir_buf_append(&out->state, e->value.data, e->value.len) ? weir_err_set(err, WEIR_ENOMEM, "out of memory") : WEIR_OK;
}

static int store_save(void *ctx, const char *task, uint64_t epoch, const uint8_t *state, size_t len, weir_err *err)
{
    return write_record(ctx, "state", task, epoch, state, len, err);
}

static int store_claim(void *ctx, const char *task, uint64_t epoch, weir_err *err)
{
    kafka_state *ks = ctx;
    return write_record(ks, "owner", task, epoch, ks->address, strlen(ks->address), err);
}

static int store_owner(void *ctx, const char *task, char *address, size_t cap, weir_err *err)
{
    kafka_state *ks = ctx;
    char key[400];
    int rc = catch_up(ks, err);
    snprintf(key, sizeof key, "owner/%s", task);
    entry *e = rc ? NULL : find(ks, key, strlen(key));
    if (rc || !e || !e->value.len || !strcmp(e->writer, ks->instance))
        return rc ? -rc : 0;
    snprintf(address, cap, "%.*s", (int)e->value.len, (const char *)e->value.data);
    return 1;
}

static rd_kafka_t *client(kafka_state *ks, rd_kafka_type_t type, const char *brokers, const char *group, weir_err *err)
{
    char reader[300];
    snprintf(reader, sizeof reader, "%s.state-reader", group);
    const char *const producer[] = {"bootstrap.servers", brokers, "log_level", "2", "enable.idempotence", "true",
                                    "acks", "all", "message.max.bytes", "100000000", NULL};
    const char *const consumer[] = {"bootstrap.servers", brokers, "log_level", "2", "enable.auto.commit", "false",
                                    "group.id", reader, "fetch.message.max.bytes", "100000000", NULL};
    weir_kafka_user user = {ks->config, NULL};
    return weir_kafka_new(type, type == RD_KAFKA_PRODUCER ? producer : consumer, &user, on_delivery, ks, err);
}

/* Creates the topic compacted (one partition) unless it exists. A cluster
 * that refuses or does not answer (librdkafka's mock cluster ignores
 * CreateTopics) is not an error here: producing creates the topic where
 * brokers auto-create topics, and otherwise the first save says what is
 * wrong. */
static void create_topic(kafka_state *ks)
{
    if (weir_kafka_topic_partitions(ks->consumer, ks->topic, 3000) > 0) /* a consumer: asking does not create it */
        return;
    rd_kafka_NewTopic_t *t = rd_kafka_NewTopic_new(ks->topic, 1, -1, NULL, 0);
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(ks->producer, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_queue_t *q = rd_kafka_queue_new(ks->producer);
    if (t && o && q && !rd_kafka_NewTopic_set_config(t, "cleanup.policy", "compact") &&
        !rd_kafka_AdminOptions_set_request_timeout(o, 5000, NULL, 0)) {
        rd_kafka_CreateTopics(ks->producer, &t, 1, o, q);
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 6000);
        if (ev)
            rd_kafka_event_destroy(ev);
    }
    if (q)
        rd_kafka_queue_destroy(q);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    if (t)
        rd_kafka_NewTopic_destroy(t);
}

int weir_kafka_state_open(const char *brokers, const char *group, const char *instance, const char *const *config,
                          weir_task_store **out, weir_err *err)
{
    kafka_state *ks = calloc(1, sizeof *ks);
    if (!ks)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    ks->config = config;
    snprintf(ks->topic, sizeof ks->topic, "%s.state", group);
    snprintf(ks->instance, sizeof ks->instance, "%s", instance);
    ks->store = (weir_task_store){ks, ks->instance, store_load, store_save, store_claim, store_owner};
    int rc = (ks->producer = client(ks, RD_KAFKA_PRODUCER, brokers, group, err)) &&
                     (ks->consumer = client(ks, RD_KAFKA_CONSUMER, brokers, group, err))
                 ? WEIR_OK
                 : err->code;
    if (rc == WEIR_OK) {
        create_topic(ks);
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, ks->topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_resp_err_t e = rd_kafka_assign(ks->consumer, l);
        rd_kafka_topic_partition_list_destroy(l);
        if (e)
            rc = weir_err_set(err, WEIR_EIO, "kafka topic %s: %s", ks->topic, rd_kafka_err2str(e));
    }
    if (rc) {
        weir_kafka_state_close(&ks->store);
        return rc;
    }
    *out = &ks->store;
    return WEIR_OK;
}

void weir_kafka_state_set_address(weir_task_store *store, const char *address)
{
    kafka_state *ks = store->ctx;
    snprintf(ks->address, sizeof ks->address, "%s", address);
}

void weir_kafka_state_close(weir_task_store *store)
{
    if (!store)
        return;
    kafka_state *ks = store->ctx;
    if (ks->consumer) {
        rd_kafka_consumer_close(ks->consumer);
        rd_kafka_destroy(ks->consumer);
    }
    if (ks->producer) {
        rd_kafka_flush(ks->producer, 1000);
        rd_kafka_destroy(ks->producer);
    }
    for (size_t i = 0; i < ks->n; i++) {
        free(ks->entries[i].key);
        weir_buf_free(&ks->entries[i].value);
    }
    free(ks->entries);
    free(ks);
}
