/*
 * kafka_state.c - the task store of a scale-out group (exec/task_store.h)
 * on a Kafka topic "<group>.state": compacted, read and written on its
 * partition 0 only, so that one offset order holds every record.
 *
 * Record keys: "state/<stream>/<p>" holds a task's head, "piece/<stream>/<p>:"
 * and a piece's key one of its pieces (exec/task_log.h: a save writes the
 * pieces that changed, then the head), "owner/<stream>/<p>" the HTTP
 * address of the process that last claimed it. Headers weir.epoch,
 * weir.writer (the instance), and weir.seq, weir.undo (a piece's value
 * before the save) and weir.epochs (a head's) as task_log.h says.
 * Compaction keeps the latest record per key; task_log.c keeps, per key,
 * the latest record of the highest epoch, so a stale owner's late write
 * loses to its successor's.
 *
 * The store reads the topic from its beginning once and then follows it,
 * catching up to the end (as the broker reports it) before every answer:
 * a state saved by another process is seen as soon as its save returned.
 * The whole group's latest records are so held in memory here.
 *
 * Exactly once (serve --kafka-exactly-once): each task owned has a
 * transactional producer of its own (kafka_txn.c, transactional.id
 * "<group>.<stream>.<p>"), made when the task is gained, before its state
 * is read, so that the previous owner is fenced first. The task's output
 * rows and dead letters go into its open transaction as they are emitted;
 * a save adds the pieces and the head and commits. The topic is read
 * read_committed: up to its last stable offset, past which an open
 * transaction hides everything. A gain so also waits until the topic's
 * stable offset reaches the end it had when the task's producer was
 * initialised: a save committed meanwhile (the previous owner's, completed
 * by the fencing) is then read, and one left open by a process that died
 * is aborted by whoever gains its task, or by the broker after the
 * transactions' timeout (weir_kafka_txn_timeout).
 */
#include "conn/kafka_state.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "conn/kafka_client.h"
#include "conn/kafka_txn.h"
#include "exec/task_log.h"

#define TIMEOUT_MS 10000

typedef struct task_txn {      /* exactly once: an owned task's producer */
    char task[300];
    weir_kafka_txn *txn;
} task_txn;

typedef struct topic_parts {   /* exactly once: an output topic's partition count, asked once */
    char topic[256];
    int partitions;
} topic_parts;

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
    weir_task_log *log;         /* the records read and written */
    weir_buf scratch;           /* a head's vouches, NUL-terminated */
    bool exactly_once;          /* serve --kafka-exactly-once */
    int64_t txn_timeout_ms;     /* exactly once: the transactions' timeout (weir_kafka_txn_timeout) */
    char brokers[1024];
    char group[256];
    rd_kafka_t *uncommitted;    /* exactly once: a read_uncommitted client, for the topic's end past open transactions */
    task_txn *txns;             /* exactly once: the owned tasks' producers */
    size_t ntxns;
    topic_parts *topics;
    size_t ntopics;
    /* The pipeline thread saves and claims; HTTP threads ask owner() for
     * pull queries: one at a time in log, next_offset, scratch and the
     * consumer, since each may read the topic into log (store_save says
     * what it holds the lock for). */
    pthread_mutex_t lock;
} kafka_state;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    kafka_state *ks = opaque;
    if (m->err && ks->failed++ == 0)
        snprintf(ks->failure, sizeof ks->failure, "%s", rd_kafka_err2str(m->err));
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

/* A header's bytes: false if absent. */
static bool header_bytes(rd_kafka_headers_t *h, const char *name, const uint8_t **out, size_t *len)
{
    const void *v;
    if (!h || rd_kafka_header_get_last(h, name, &v, len))
        return false;
    *out = v ? v : (const uint8_t *)"";
    return true;
}

/* Takes a record read from the topic into the log. */
static int apply(kafka_state *ks, const rd_kafka_message_t *m)
{
    rd_kafka_headers_t *h = NULL;
    char epoch_text[24], seq_text[24] = "0", writer[64];
    const uint8_t *epochs;
    size_t epochs_len;
    if (!m->key || rd_kafka_message_headers(m, &h) || !header_text(h, "weir.epoch", epoch_text, sizeof epoch_text) ||
        !header_text(h, "weir.writer", writer, sizeof writer))
        return WEIR_OK; /* not one of weir's records */
    (void)header_text(h, "weir.seq", seq_text, sizeof seq_text);
    char pieces_text[24];
    bool counted = header_text(h, "weir.pieces", pieces_text, sizeof pieces_text);
    weir_task_record r = {m->key, m->key_len, m->payload /* NULL: a null value */, m->len, strtoull(epoch_text, NULL, 10),
                          strtoull(seq_text, NULL, 10), writer, NULL, 0, NULL, counted,
                          counted ? strtoull(pieces_text, NULL, 10) : 0};
    (void)header_bytes(h, "weir.undo", &r.undo, &r.undo_len);
    if (header_bytes(h, "weir.epochs", &epochs, &epochs_len)) { /* any length: its text, NUL-terminated */
        ks->scratch.len = 0;
        if (weir_buf_append(&ks->scratch, epochs, epochs_len) || weir_buf_append(&ks->scratch, "", 1))
            return WEIR_ENOMEM;
        r.epochs = (const char *)ks->scratch.data;
    }
    return weir_task_log_apply(ks->log, &r) ? WEIR_ENOMEM : WEIR_OK;
}

/* The topic's partition 0's end as rk reads it (query_watermark_offsets).
 * A topic this process has just created may be known to the cluster
 * before its client's metadata has its partition (_UNKNOWN_PARTITION): that
 * is asked again, for TIMEOUT_MS at most. */
static rd_kafka_resp_err_t end_of(kafka_state *ks, rd_kafka_t *rk, int64_t *hi)
{
    int64_t lo;
    uint64_t deadline = weir_mono_ns() + (uint64_t)TIMEOUT_MS * 1000000;
    rd_kafka_resp_err_t e;
    while ((e = rd_kafka_query_watermark_offsets(rk, ks->topic, 0, &lo, hi, TIMEOUT_MS)) ==
               RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION &&
           weir_mono_ns() < deadline)
        usleep(100000);
    return e;
}

/* Reads the topic up to the end the broker reports now. */
static int catch_up(kafka_state *ks, weir_err *err)
{
    int64_t hi;
    rd_kafka_resp_err_t e = end_of(ks, ks->consumer, &hi);
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
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) { /* exactly once: its offset is past a transaction's marker */
            if (m->offset > ks->next_offset)
                ks->next_offset = m->offset;
        } else if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->offset < ks->next_offset) {
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

/* r's headers (weir.epoch ...), or NULL when out of memory. */
static rd_kafka_headers_t *record_headers(const weir_task_record *r)
{
    char epoch_text[24], seq_text[24];
    int epoch_len = snprintf(epoch_text, sizeof epoch_text, "%llu", (unsigned long long)r->epoch);
    int seq_len = snprintf(seq_text, sizeof seq_text, "%llu", (unsigned long long)r->seq);
    char pieces_text[24];
    int pieces_len = snprintf(pieces_text, sizeof pieces_text, "%llu", (unsigned long long)r->npieces);
    rd_kafka_headers_t *h = rd_kafka_headers_new(6);
    if (!h || rd_kafka_header_add(h, "weir.epoch", -1, epoch_text, epoch_len) ||
        rd_kafka_header_add(h, "weir.writer", -1, r->writer, -1) ||
        (r->seq && rd_kafka_header_add(h, "weir.seq", -1, seq_text, seq_len)) ||
        (r->undo && rd_kafka_header_add(h, "weir.undo", -1, r->undo, (ssize_t)r->undo_len)) ||
        (r->epochs && rd_kafka_header_add(h, "weir.epochs", -1, r->epochs, -1)) ||
        (r->counted && rd_kafka_header_add(h, "weir.pieces", -1, pieces_text, pieces_len))) {
        if (h)
            rd_kafka_headers_destroy(h);
        return NULL;
    }
    return h;
}

/* Hands r to the producer (not yet sent: flush() waits for it). */
static int produce(kafka_state *ks, const weir_task_record *r, weir_err *err)
{
    rd_kafka_headers_t *h = record_headers(r);
    if (!h)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    for (;;) {
        rd_kafka_resp_err_t e =
            rd_kafka_producev(ks->producer, RD_KAFKA_V_TOPIC(ks->topic), RD_KAFKA_V_PARTITION(0),
                              RD_KAFKA_V_KEY((void *)r->key, r->klen), RD_KAFKA_V_VALUE((void *)r->value, r->value ? r->vlen : 0),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) { /* a save of more pieces than the producer queues: send some first */
            rd_kafka_poll(ks->producer, 100);
            continue;
        }
        if (e) {
            rd_kafka_headers_destroy(h);
            return weir_err_set(err, WEIR_EIO, "kafka topic %s: %s", ks->topic, rd_kafka_err2str(e));
        }
        return WEIR_OK;
    }
}

/* Writes records durably (not yet in the log: keep() them). The pipeline
 * thread alone produces, so this needs no lock: a broker's round trip
 * would hold owner()'s callers up. */
static int send_records(kafka_state *ks, const char *task, const weir_task_record *r, size_t n, weir_err *err)
{
    ks->failed = 0;
    for (size_t i = 0; i < n; i++)
        if (produce(ks, &r[i], err)) {
            rd_kafka_purge(ks->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
            return err->code;
        }
    rd_kafka_resp_err_t e = rd_kafka_flush(ks->producer, TIMEOUT_MS);
    if (e || ks->failed) {
        rd_kafka_purge(ks->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        return weir_err_set(err, WEIR_EIO, "kafka topic %s: saving %s: %s", ks->topic, task,
                            ks->failed ? ks->failure : rd_kafka_err2str(e));
    }
    return WEIR_OK;
}

/* Keeps records in the log as the topic holds them (or will, once their
 * transaction commits). Under ks->lock. A record read meanwhile from the
 * topic (owner() catching up) is applied twice: the same record, kept
 * once. */
static int keep(kafka_state *ks, const weir_task_record *r, size_t n, weir_err *err)
{
    for (size_t i = 0; i < n; i++)
        if (weir_task_log_apply(ks->log, &r[i]))
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    return WEIR_OK;
}

/* Exactly once: the task's producer, or NULL when it has none (not gained). */
static task_txn *txn_of(kafka_state *ks, const char *task)
{
    for (size_t i = 0; i < ks->ntxns; i++)
        if (!strcmp(ks->txns[i].task, task))
            return &ks->txns[i];
    return NULL;
}

/* Exactly once: puts records into the task's open transaction (not yet in
 * the log: keep() them). The pipeline thread alone uses the task's
 * producer: no lock. */
static int send_txn(kafka_state *ks, task_txn *tt, const weir_task_record *r, size_t n, weir_err *err)
{
    for (size_t i = 0; i < n; i++) {
        rd_kafka_headers_t *h = record_headers(&r[i]);
        if (!h)
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        int rc = weir_kafka_txn_produce(tt->txn, ks->topic, 0, r[i].key, r[i].klen, r[i].value, r[i].vlen, 0, h, err);
        if (rc) {
            rd_kafka_headers_destroy(h);
            return rc;
        }
    }
    return WEIR_OK;
}

static int store_load(void *ctx, const char *task, weir_task_saved *out, weir_err *err)
{
    kafka_state *ks = ctx;
    pthread_mutex_lock(&ks->lock);
    int rc = catch_up(ks, err);
    if (rc == WEIR_OK)
        rc = weir_task_log_load(ks->log, task, out, err);
    pthread_mutex_unlock(&ks->lock);
    return rc;
}

/* The pieces first, then the head that makes them count; exactly once,
 * both in the task's transaction, which commits the rows emitted since the
 * last save with them. ks->lock is held while the log is read or changed,
 * not across a broker's round trip (the flushes, the commit: up to the
 * transactions' timeout), so that owner() on HTTP threads does not wait
 * for them. Only this thread writes the task's records, so what the lock
 * lets in meanwhile is the topic's own records read again, and another
 * process's, which can only be of a newer owner: one that fenced this
 * save's transaction or whose epoch makes the log ignore it. */
static int store_save(void *ctx, const char *task, uint64_t epoch, const uint8_t *state, size_t len, const weir_buf *pieces,
                      weir_err *err)
{
    kafka_state *ks = ctx;
    task_txn *tt = ks->exactly_once ? txn_of(ks, task) : NULL;
    if (ks->exactly_once && !tt)
        return weir_err_set(err, WEIR_EINVAL, "saving %s: no transaction: the task was not gained", task);
    weir_task_save_plan plan = {0};
    pthread_mutex_lock(&ks->lock);
    int rc = catch_up(ks, err); /* a newer owner's claim or head refuses the save */
    if (rc == WEIR_OK)
        rc = weir_task_log_plan(ks->log, task, epoch, ks->instance, state, len, pieces, &plan, err);
    pthread_mutex_unlock(&ks->lock);
    if (rc) {
        weir_task_save_plan_free(&plan);
        return rc;
    }
    size_t npieces = plan.n - 1;
    const weir_task_record *head = &plan.records[npieces];
    if (npieces)
        rc = tt ? send_txn(ks, tt, plan.records, npieces, err) : send_records(ks, task, plan.records, npieces, err);
    pthread_mutex_lock(&ks->lock); /* exactly once: kept before the commit; an abort leaves them as a torn save's */
    if (rc == WEIR_OK)
        rc = keep(ks, plan.records, npieces, err);
    if (rc == WEIR_OK && weir_task_log_count(ks->log, task, &plan)) /* the head counts the log's pieces */
        rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
    pthread_mutex_unlock(&ks->lock);
    if (rc == WEIR_OK) /* exactly once: kept only once committed, since a fenced save must not read as made */
        rc = tt ? send_txn(ks, tt, head, 1, err) : send_records(ks, task, head, 1, err);
    if (rc == WEIR_OK && tt)
        rc = weir_kafka_txn_commit(tt->txn, err);
    if (rc == WEIR_OK) {
        pthread_mutex_lock(&ks->lock);
        rc = keep(ks, head, 1, err);
        pthread_mutex_unlock(&ks->lock);
    }
    weir_task_save_plan_free(&plan);
    return rc;
}

static int store_claim(void *ctx, const char *task, uint64_t epoch, weir_err *err)
{
    kafka_state *ks = ctx;
    char key[400];
    int len = snprintf(key, sizeof key, "owner/%s", task);
    weir_task_record r = {(const uint8_t *)key, (size_t)len, (const uint8_t *)ks->address, strlen(ks->address), epoch, 0,
                          ks->instance, NULL, 0, NULL, false, 0};
    int rc = send_records(ks, task, &r, 1, err); /* as a save's: the round trip without the lock */
    if (rc == WEIR_OK) {
        pthread_mutex_lock(&ks->lock);
        rc = keep(ks, &r, 1, err);
        pthread_mutex_unlock(&ks->lock);
    }
    return rc;
}

static int store_owner(void *ctx, const char *task, char *address, size_t cap, weir_err *err)
{
    kafka_state *ks = ctx;
    char key[400];
    int len = snprintf(key, sizeof key, "owner/%s", task), found = 0;
    weir_task_record r;
    pthread_mutex_lock(&ks->lock);
    int rc = catch_up(ks, err);
    if (rc == WEIR_OK && weir_task_log_get(ks->log, key, (size_t)len, &r) && r.vlen && strcmp(r.writer, ks->instance)) {
        snprintf(address, cap, "%.*s", (int)r.vlen, (const char *)r.value);
        found = 1;
    }
    pthread_mutex_unlock(&ks->lock);
    return rc ? -rc : found;
}

/* The topic's end as a read_uncommitted reader sees it (past open
 * transactions), or as ks->consumer does (its last stable offset); 0
 * when the topic does not exist yet. */
static int topic_end(kafka_state *ks, rd_kafka_t *rk, int64_t *end, weir_err *err)
{
    rd_kafka_resp_err_t e = end_of(ks, rk, end);
    if (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        *end = 0;
        return WEIR_OK;
    }
    return e ? weir_err_set(err, WEIR_EIO, "kafka topic %s: %s", ks->topic, rd_kafka_err2str(e)) : WEIR_OK;
}

static int store_begin(void *ctx, const char *task, weir_err *err)
{
    kafka_state *ks = ctx;
    task_txn *tt = txn_of(ks, task);
    if (!tt) {
        task_txn *grown = realloc(ks->txns, (ks->ntxns + 1) * sizeof *grown);
        if (!grown)
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        ks->txns = grown;
        tt = &ks->txns[ks->ntxns];
        *tt = (task_txn){.txn = NULL};
        snprintf(tt->task, sizeof tt->task, "%s", task);
        ks->ntxns++;
    }
    weir_kafka_txn_close(tt->txn); /* a producer of an earlier hold, fenced or not */
    tt->txn = NULL;
    char id[600]; /* "<group>.<stream>.<p>" */
    snprintf(id, sizeof id, "%s.%s", ks->group, task);
    char *slash = strrchr(id, '/');
    if (slash)
        *slash = '.';
    weir_kafka_user user = {ks->config, NULL};
    int rc = weir_kafka_txn_open(ks->brokers, id, &user, ks->txn_timeout_ms, &tt->txn, err);
    /* The previous owner is fenced: its last transaction is complete, below this end. Wait until the
     * stable offset passes it (transactions of other tasks commit within a save; one left open by a
     * process that died ends when its task is gained, or at its timeout). */
    int64_t end = 0, stable = 0;
    if (rc == WEIR_OK)
        rc = topic_end(ks, ks->uncommitted, &end, err);
    int64_t wait_ms = ks->txn_timeout_ms + TIMEOUT_MS;
    uint64_t deadline = weir_mono_ns() + (uint64_t)wait_ms * 1000000;
    while (rc == WEIR_OK && (rc = topic_end(ks, ks->consumer, &stable, err)) == WEIR_OK && stable < end) {
        if (weir_mono_ns() > deadline)
            rc = weir_err_set(err, WEIR_EIO, "kafka topic %s: a transaction stayed open past offset %lld for %lld ms",
                              ks->topic, (long long)stable, (long long)wait_ms);
        else
            usleep(50000);
    }
    return rc ? weir_err_wrap(err, "exactly once: gaining %s", task) : WEIR_OK;
}

/* An output topic's partition count (asked once), or -1: it does not exist. */
static int topic_partitions(kafka_state *ks, const char *topic)
{
    for (size_t i = 0; i < ks->ntopics; i++)
        if (!strcmp(ks->topics[i].topic, topic))
            return ks->topics[i].partitions;
    int n = weir_kafka_topic_partitions(ks->consumer, topic, TIMEOUT_MS);
    topic_parts *grown = n > 0 ? realloc(ks->topics, (ks->ntopics + 1) * sizeof *grown) : NULL;
    if (grown) {
        ks->topics = grown;
        snprintf(grown[ks->ntopics].topic, sizeof grown[ks->ntopics].topic, "%s", topic);
        grown[ks->ntopics++].partitions = n;
    }
    return n;
}

static int store_emit(void *ctx, const char *task, const char *stream, uint32_t partition, uint32_t partitions,
                      const weir_record *rec, weir_err *err)
{
    kafka_state *ks = ctx;
    task_txn *tt = txn_of(ks, task);
    if (!tt || !tt->txn)
        return weir_err_set(err, WEIR_EINVAL, "exactly once: a row of %s came of %s, which this process does not hold",
                            stream, task);
    int n = topic_partitions(ks, stream);
    if (n <= 0)
        return weir_err_set(err, WEIR_EIO, "exactly once: kafka topic %s: no metadata from %s: create it (%u partitions)",
                            stream, ks->brokers, partitions);
    /* as the Kafka sink does: partition p to topic partition p when the counts match, else by key */
    int32_t part = (uint32_t)n == partitions ? (int32_t)partition : RD_KAFKA_PARTITION_UA;
    rd_kafka_headers_t *h = NULL;
    weir_header x;
    for (size_t pos = 0; weir_headers_next(rec->headers, rec->headers_len, &pos, &x);) /* the record's own, not weir.* */
        if ((x.name_len < 5 || memcmp(x.name, "weir.", 5)) &&
            ((!h && !(h = rd_kafka_headers_new(2))) ||
             rd_kafka_header_add(h, x.name, (ssize_t)x.name_len, x.value, (ssize_t)x.value_len))) {
            if (h)
                rd_kafka_headers_destroy(h);
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        }
    int rc = weir_kafka_txn_produce(tt->txn, stream, part, rec->key, rec->key_len, rec->value_len ? rec->value : NULL,
                                    rec->value_len, rec->ts_ms, h, err);
    if (rc && h)
        rd_kafka_headers_destroy(h);
    return rc;
}

static bool store_aborted(void *ctx, const char *task)
{
    task_txn *tt = txn_of(ctx, task);
    return tt && tt->txn && weir_kafka_txn_aborted(tt->txn);
}

static void store_end(void *ctx, const char *task)
{
    kafka_state *ks = ctx;
    task_txn *tt = txn_of(ks, task);
    if (!tt)
        return;
    weir_kafka_txn_close(tt->txn);
    *tt = ks->txns[--ks->ntxns];
}

static rd_kafka_t *client(kafka_state *ks, rd_kafka_type_t type, const char *brokers, const char *group, weir_err *err)
{
    char reader[300];
    snprintf(reader, sizeof reader, "%s.state-reader", group);
    const char *const producer[] = {"bootstrap.servers", brokers, "log_level", "2", "enable.idempotence", "true",
                                    "acks", "all", "message.max.bytes", "100000000", NULL};
    const char *const consumer[] = {"bootstrap.servers", brokers, "log_level", "2", "enable.auto.commit", "false",
                                    "group.id", reader, "fetch.message.max.bytes", "100000000", NULL};
    /* exactly once: saves are transactions; the end of a topic read is then past their markers */
    const char *const committed[] = {"bootstrap.servers", brokers, "log_level", "2", "enable.auto.commit", "false",
                                     "group.id", reader, "fetch.message.max.bytes", "100000000",
                                     "isolation.level", "read_committed", "enable.partition.eof", "true", NULL};
    weir_kafka_user user = {ks->config, NULL};
    return weir_kafka_new(type, type == RD_KAFKA_PRODUCER ? producer : ks->exactly_once ? committed : consumer, &user,
                          on_delivery, ks, err);
}

/* Exactly once: a client that asks the topic's end past open transactions. */
static rd_kafka_t *uncommitted_client(kafka_state *ks, const char *brokers, const char *group, weir_err *err)
{
    char reader[300];
    snprintf(reader, sizeof reader, "%s.state-reader", group);
    const char *const props[] = {"bootstrap.servers", brokers, "log_level", "2", "enable.auto.commit", "false",
                                 "group.id", reader, "isolation.level", "read_uncommitted", NULL};
    weir_kafka_user user = {ks->config, NULL};
    return weir_kafka_new(RD_KAFKA_CONSUMER, props, &user, NULL, NULL, err);
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
    static const char *const compacted[] = {"cleanup.policy", "compact", NULL};
    int have;
    weir_err ignored = {0};
    (void)weir_kafka_create_topic(ks->consumer, ks->topic, 1, compacted, 5000, &have, &ignored);
}

int weir_kafka_state_open(const char *brokers, const char *group, const char *instance, const char *const *config,
                          bool exactly_once, weir_task_store **out, weir_err *err)
{
    kafka_state *ks = calloc(1, sizeof *ks);
    if (!ks)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    ks->config = config;
    ks->exactly_once = exactly_once;
    snprintf(ks->topic, sizeof ks->topic, "%s.state", group);
    snprintf(ks->instance, sizeof ks->instance, "%s", instance);
    snprintf(ks->brokers, sizeof ks->brokers, "%s", brokers);
    snprintf(ks->group, sizeof ks->group, "%s", group);
    ks->store = (weir_task_store){ks, ks->instance, store_load, store_save, store_claim, store_owner, NULL, NULL, NULL, NULL, 0};
    if (exactly_once && (ks->store.txn_timeout_ms = ks->txn_timeout_ms = weir_kafka_txn_timeout(config, err)) < 0) {
        free(ks);
        return err->code;
    }
    if (exactly_once) {
        ks->store.begin = store_begin;
        ks->store.emit = store_emit;
        ks->store.end = store_end;
        ks->store.aborted = store_aborted;
    }
    pthread_mutex_init(&ks->lock, NULL);
    int rc = !(ks->log = weir_task_log_new()) ? weir_err_set(err, WEIR_ENOMEM, "out of memory")
             : (ks->producer = client(ks, RD_KAFKA_PRODUCER, brokers, group, err)) &&
                     (ks->consumer = client(ks, RD_KAFKA_CONSUMER, brokers, group, err)) &&
                     (!exactly_once || (ks->uncommitted = uncommitted_client(ks, brokers, group, err)))
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
    for (size_t i = 0; i < ks->ntxns; i++) /* what they emitted since their last save is aborted */
        weir_kafka_txn_close(ks->txns[i].txn);
    free(ks->txns);
    free(ks->topics);
    if (ks->uncommitted)
        rd_kafka_destroy(ks->uncommitted);
    weir_task_log_free(ks->log);
    weir_buf_free(&ks->scratch);
    pthread_mutex_destroy(&ks->lock);
    free(ks);
}
