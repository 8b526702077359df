/*
 * kafka_sink.c - CREATE SINK s FROM x WITH (connector = 'kafka', topic = 't'
 * [, brokers = 'host:port,...']): records to a Kafka topic with librdkafka's
 * idempotent producer (acks=all), exactly once.
 *
 * Key and partition are kept: when the topic has as many partitions as the
 * stream, source partition p goes to topic partition p (weir's partitioner
 * is Kafka's murmur2, so a keyed record lands where a Kafka producer would
 * have put it); otherwise the producer's murmur2_random partitioner picks by
 * key. Records carry their place in the source as the headers
 * weir.partition and weir.offset: every record when partitions are mixed,
 * and when they map one to one only an anchor record per batch (headers
 * cost librdkafka two thirds of its speed): the records after an anchor in
 * a topic partition are the next source offsets, in order, since Kafka
 * offsets of a partition without transactions are consecutive. resume()
 * reads the last records of each topic partition back and takes, per
 * source partition, the highest offset found: what the topic already has
 * is never produced again, whatever happened between a send and a crash.
 * In scale-out mode (several processes of a group write the topic) every
 * record also names its writer (header weir.writer) and resume() counts
 * only the process's own.
 * Each resume() retires the producer and the next delivery makes a new
 * one: no message of the old one can land after the topic was read back
 * (and a producer made before the read-back consumer ran was measured
 * four times slower on the mock cluster).
 *
 * Any failure (an error report, a flush that timed out, a fatal error of
 * the idempotent producer, a refused produce call) retires the producer at
 * once, and the caller's resume() reads the topic back; so every attempt
 * after an outage starts from a clean producer and from what the topic
 * really holds. Delivery reports count into the producer that made them
 * (its own struct is their opaque): the purge reports of a retired
 * producer, or its late timeouts, can never fail a batch of the next one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn/kafka_client.h"
#include "conn/sink.h"
#include "log/record.h"

#define ANCHOR_EVERY 4096      /* one-to-one partitions: a record with headers at least this often */
#define RESUME_SCAN 10000      /* records read back per topic partition: more than ANCHOR_EVERY */
#define FLUSH_MS 15000

typedef struct producer {     /* one librdkafka producer and what its delivery reports said */
    rd_kafka_t *rk;
    weir_kafka_watch watch;    /* its error callback's: credentials or TLS refused */
    int failed;                /* reports with an error */
    rd_kafka_resp_err_t first; /* the first one's error */
} producer;

typedef struct kafka_sink {
    char name[256];
    char topic[256];
    char brokers[1024];
    char writer[64];           /* scale-out: this process's instance id; "" otherwise */
    weir_kafka_user user;      /* serve --kafka-config's properties and the sink's own */
    uint32_t partitions;       /* of the source stream */
    int topic_partitions;      /* -1 until known */
    producer *producer;        /* NULL until the first delivery after a resume() */
    uint64_t *last;            /* one-to-one partitions: 2 + the last source offset produced, 0 for none */
} kafka_sink;

/* Runs on the sink's thread, inside rd_kafka_poll/flush of p's producer
 * (delivery.report.only.error: only failures are reported). */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    producer *p = opaque;
    if (m->err && p->failed++ == 0)
        p->first = m->err;
}

/* A producer (its reports counted in p) or, without p, a consumer, their
 * errors told to w. */
static rd_kafka_t *client(kafka_sink *k, rd_kafka_type_t type, producer *p, weir_kafka_watch *w, weir_err *err)
{
    const char *const produce[] = {"bootstrap.servers", k->brokers, "log_level", "2", "enable.idempotence", "true",
                                   "acks", "all", "linger.ms", "5", "partitioner", "murmur2_random",
                                   "message.timeout.ms", "10000", "enable.gapless.guarantee", "true",
                                   "delivery.report.only.error", "true", /* only failures need a report */
                                   NULL};
    const char *const consumer[] = {"bootstrap.servers", k->brokers, "log_level", "2", "enable.auto.commit", "false",
                                    "enable.partition.eof", "true",
                                    "group.id", "weir-sink-resume", NULL};
    *w = (weir_kafka_watch){.on_delivery = on_delivery, .opaque = p};
    rd_kafka_t *rk = weir_kafka_new_watched(type, type == RD_KAFKA_PRODUCER ? produce : consumer, &k->user, w, err);
    if (!rk)
        weir_err_wrap(err, "sink %s", k->name);
    return rk;
}

/* A fresh producer with no reports counted, or NULL with err filled. */
static producer *producer_new(kafka_sink *k, weir_err *err)
{
    producer *p = calloc(1, sizeof *p);
    if (!p) {
        weir_err_set(err, WEIR_ENOMEM, "out of memory");
        return NULL;
    }
    if (!(p->rk = client(k, RD_KAFKA_PRODUCER, p, &p->watch, err))) {
        free(p);
        return NULL;
    }
    return p;
}

/* Retires the producer: what it still holds is dropped (a retry sends it
 * again after resume() has read the topic back) and its reports with it. */
static void producer_retire(kafka_sink *k)
{
    if (!k->producer)
        return;
    rd_kafka_purge(k->producer->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_destroy(k->producer->rk);
    free(k->producer);
    k->producer = NULL;
}

static int kafka_open(const weir_sink_config *cfg, void **state, weir_err *err)
{
    const char *brokers = weir_sink_text(cfg, "brokers");
    if (!brokers && !(brokers = cfg->kafka_brokers))
        return weir_err_set(err, WEIR_EINVAL, "sink %s: no brokers: WITH (brokers = 'host:port') or weir serve --kafka",
                            cfg->decl->name);
    kafka_sink *k = calloc(1, sizeof *k);
    if (!k)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    snprintf(k->name, sizeof k->name, "%s", cfg->decl->name);
    snprintf(k->topic, sizeof k->topic, "%s", weir_sink_text(cfg, "topic"));
    snprintf(k->brokers, sizeof k->brokers, "%s", brokers);
    snprintf(k->writer, sizeof k->writer, "%s", cfg->writer ? cfg->writer : "");
    k->partitions = cfg->partitions;
    k->topic_partitions = -1;
    k->user = (weir_kafka_user){cfg->kafka_config, cfg->decl};
    /* the producer is made at the first delivery, after resume() (see there): its properties are tried now */
    rd_kafka_conf_t *probe = rd_kafka_conf_new();
    int rc = weir_kafka_conf_user(probe, &k->user, err);
    rd_kafka_conf_destroy(probe);
    if (rc) {
        free(k);
        return weir_err_wrap(err, "sink %s", cfg->decl->name);
    }
    *state = k;
    return WEIR_OK;
}

static bool header_number(rd_kafka_headers_t *h, const char *name, uint64_t *out)
{
    const void *v;
    size_t len;
    char buf[32];
    if (!h || rd_kafka_header_get_last(h, name, &v, &len) != RD_KAFKA_RESP_ERR_NO_ERROR || len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, v, len);
    buf[len] = '\0';
    *out = strtoull(buf, NULL, 10);
    return true;
}

static bool is_writer(rd_kafka_headers_t *h, const char *writer)
{
    const void *v;
    size_t len;
    return h && rd_kafka_header_get_last(h, "weir.writer", &v, &len) == RD_KAFKA_RESP_ERR_NO_ERROR &&
           len == strlen(writer) && !memcmp(v, writer, len);
}

typedef struct anchor {     /* the last record read back with headers, per topic partition */
    bool known;
    uint64_t partition, offset;
    int64_t kafka_offset;
} anchor;

/* The failures here are RETRY (a topic whose metadata does not come may
 * be one whose brokers are down; a topic refused for good shows as FATAL
 * at the first delivery), but for what the consumer's error callback says
 * no retry cures: credentials or a TLS handshake refused, no broker host
 * that resolves. */
static weir_sink_result kafka_resume(void *state, uint64_t *next, uint32_t partitions, weir_err *err)
{
    kafka_sink *k = state;
    memset(next, 0, partitions * sizeof *next);
    producer_retire(k); /* nothing of the old producer may land after the topic is read back: a fresh one follows */
    weir_kafka_watch watch;
    rd_kafka_t *c = client(k, RD_KAFKA_CONSUMER, NULL, &watch, err);
    if (!c)
        return WEIR_SINK_RETRY;
    int rc = WEIR_OK;
    int parts = weir_kafka_topic_partitions(c, k->topic, 5000);
    if (parts < 0)
        rc = weir_err_set(err, WEIR_EIO, "sink %s: kafka topic %s: no metadata from %s", k->name, k->topic, k->brokers);
    rd_kafka_topic_partition_list_t *assign = rd_kafka_topic_partition_list_new(parts > 0 ? parts : 1);
    /* end[p]: the partition's end when asked, 0 once read up to it. A
     * partition is read up to its last offset, not for a count of records:
     * a compacted topic has fewer records than offsets. */
    int64_t *end = calloc(parts > 0 ? (size_t)parts : 1, sizeof *end);
    anchor *anchors = calloc(parts > 0 ? (size_t)parts : 1, sizeof *anchors);
    int64_t remaining = 0; /* partitions not read up to their end yet */
    if (!end || !anchors)
        rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
    for (int p = 0; p < parts && rc == WEIR_OK; p++) {
        int64_t lo, hi;
        if (rd_kafka_query_watermark_offsets(c, k->topic, p, &lo, &hi, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rc = weir_err_set(err, WEIR_EIO, "sink %s: kafka topic %s: no offsets for partition %d", k->name, k->topic, p);
            break;
        }
        int64_t from = hi - lo > RESUME_SCAN ? hi - RESUME_SCAN : lo;
        end[p] = hi > from ? hi : 0;
        remaining += end[p] > 0;
        if (end[p])
            rd_kafka_topic_partition_list_add(assign, k->topic, p)->offset = from;
    }
    if (rc == WEIR_OK && remaining && rd_kafka_assign(c, assign) != RD_KAFKA_RESP_ERR_NO_ERROR)
        rc = weir_err_set(err, WEIR_EIO, "sink %s: kafka: cannot read topic %s back", k->name, k->topic);
    for (int idle = 0; rc == WEIR_OK && remaining > 0 && idle < 50;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 200);
        if (!m) {
            idle++;
            continue;
        }
        bool ours = m->partition >= 0 && m->partition < parts && end[m->partition] > 0;
        if (ours && (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF || (!m->err && m->offset + 1 >= end[m->partition]))) {
            end[m->partition] = 0; /* read up to its end (this record is still looked at below) */
            remaining--;
        }
        if (!m->err && ours) {
            rd_kafka_headers_t *h = NULL;
            uint64_t sp, so;
            anchor *a = &anchors[m->partition];
            bool has_headers = rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR;
            if (k->writer[0] && !is_writer(has_headers ? h : NULL, k->writer)) {
                sp = UINT64_MAX; /* another process's record */
            } else if (has_headers && header_number(h, "weir.partition", &sp) && header_number(h, "weir.offset", &so)) {
                *a = (anchor){true, sp, so, m->offset};
            } else if (a->known) { /* after an anchor: the following source offsets */
                sp = a->partition;
                so = a->offset + (uint64_t)(m->offset - a->kafka_offset);
            } else {
                sp = UINT64_MAX; /* before the first anchor read: counted from an earlier one */
            }
            if (sp < partitions && so + 1 > next[sp])
                next[sp] = so + 1;
        }
        rd_kafka_message_destroy(m);
    }
    if (rc == WEIR_OK && remaining > 0)
        rc = weir_err_set(err, WEIR_EIO, "sink %s: kafka: reading topic %s back timed out", k->name, k->topic);
    if (rc == WEIR_OK)
        k->topic_partitions = parts;
    if (k->last) /* the next record of each partition is an anchor again */
        memset(k->last, 0, k->partitions * sizeof *k->last);
    bool broken = rc && weir_kafka_broken(c, &watch);
    if (broken)
        weir_err_set(err, WEIR_EIO, "sink %s: kafka %s: %s", k->name, k->brokers, watch.why);
    free(end);
    free(anchors);
    rd_kafka_topic_partition_list_destroy(assign);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    return broken ? WEIR_SINK_FATAL : rc ? WEIR_SINK_RETRY : WEIR_SINK_OK;
}

/* Retires the producer after a failure and says why: the idempotent
 * producer's fatal error if it has one (its reports only say "fatal"),
 * else the first failed report, else what librdkafka answered (e).
 * FATAL when the cluster refused the topic or the records for good (not
 * authorised, no such topic, too large) or the client (credentials, TLS:
 * its error callback's watch); anything else (brokers down,
 * timeouts, and the idempotent producer's fatal errors those cause, cured
 * by the fresh producer after resume()) is RETRY. */
static weir_sink_result deliver_failed(kafka_sink *k, rd_kafka_resp_err_t e, weir_err *err)
{
    char why[256];
    /* the first failed report's error decides, even when the idempotent
     * producer then raised its own fatal error (a refused batch breaks its
     * gap-less guarantee: that error says nothing of the cause) */
    rd_kafka_resp_err_t cause = k->producer->failed ? k->producer->first : e;
    bool fatal = k->producer->watch.broken; /* a host that stopped resolving since resume() may come back */
    if (fatal)
        snprintf(why, sizeof why, "%s", k->producer->watch.why);
    else if (rd_kafka_fatal_error(k->producer->rk, why, sizeof why) == RD_KAFKA_RESP_ERR_NO_ERROR)
        snprintf(why, sizeof why, "%s", rd_kafka_err2str(cause));
    switch (cause) {
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED: case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC: case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION: case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE: case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP: /* an event time further ahead than the broker allows: every retry meets it */
        fatal = true;
        break;
    default:
        break;
    }
    producer_retire(k);
    weir_err_set(err, WEIR_EIO, "sink %s: kafka topic %s: %s", k->name, k->topic, why);
    return fatal ? WEIR_SINK_FATAL : WEIR_SINK_RETRY;
}

/* With more, records stay in flight (pipelined: a flush per batch would
 * wait a round trip each time); a failure shows on a later call, and
 * enable.gapless.guarantee makes sure no later record of a partition lands
 * after one that failed, so resume() never skips a hole. */
/* The record's own headers (those of the record a derived stream's row
 * came from, say) but weir's (weir.*: its anchors, a feed's position). */
static int record_headers(rd_kafka_headers_t *h, const weir_sink_record *rec)
{
    weir_header x;
    for (size_t pos = 0; weir_headers_next(rec->headers, rec->headers_len, &pos, &x);)
        if ((x.name_len < 5 || memcmp(x.name, "weir.", 5)) &&
            rd_kafka_header_add(h, x.name, (ssize_t)x.name_len, x.value, (ssize_t)x.value_len))
            return -1;
    return 0;
}

static weir_sink_result kafka_deliver(void *state, const weir_sink_record *recs, size_t n, bool more, weir_err *err)
{
    kafka_sink *k = state;
    if (!k->producer && !(k->producer = producer_new(k, err)))
        return WEIR_SINK_RETRY;
    rd_kafka_t *rk = k->producer->rk;
    bool same = k->topic_partitions == (int)k->partitions;
    if (same && !k->last && !(k->last = calloc(k->partitions, sizeof *k->last))) {
        weir_err_set(err, WEIR_ENOMEM, "out of memory");
        return WEIR_SINK_RETRY;
    }
    for (size_t i = 0; i < n; i++) {
        char part[16], off[24];
        int plen = snprintf(part, sizeof part, "%u", recs[i].partition);
        int olen = snprintf(off, sizeof off, "%llu", (unsigned long long)recs[i].offset);
        /* an anchor: mixed partitions, after a jump (or a resume), or every ANCHOR_EVERY records */
        uint32_t p = recs[i].partition;
        bool is_anchor = !same || k->writer[0] || k->last[p] != recs[i].offset + 1 || recs[i].offset % ANCHOR_EVERY == 0;
        if (same)
            k->last[p] = recs[i].offset + 2; /* stored plus one: 0 means nothing produced yet */
        rd_kafka_headers_t *h = NULL;
        if ((is_anchor || recs[i].headers_len) &&
            (!(h = rd_kafka_headers_new(3)) || record_headers(h, &recs[i]) ||
             (is_anchor && (rd_kafka_header_add(h, "weir.partition", -1, part, plen) ||
                            rd_kafka_header_add(h, "weir.offset", -1, off, olen) ||
                            (k->writer[0] && rd_kafka_header_add(h, "weir.writer", -1, k->writer, -1)))))) {
            if (h)
                rd_kafka_headers_destroy(h);
            weir_err_set(err, WEIR_ENOMEM, "out of memory");
            return WEIR_SINK_RETRY;
        }
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(k->topic),
                                      RD_KAFKA_V_PARTITION(same ? (int32_t)recs[i].partition : RD_KAFKA_PARTITION_UA),
                                      RD_KAFKA_V_KEY(recs[i].key, recs[i].key ? recs[i].key_len : 0),
                                      RD_KAFKA_V_VALUE(recs[i].value_len ? (void *)recs[i].value : NULL, recs[i].value_len),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_TIMESTAMP(recs[i].ts_ms),
                                      RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL &&
               !k->producer->failed)
            rd_kafka_poll(rk, 1); /* the queue is full: let it drain a little (a failure ends the batch) */
        if (e || k->producer->failed) {
            if (e && h) /* not taken over by the message */
                rd_kafka_headers_destroy(h);
            return deliver_failed(k, e, err);
        }
    }
    rd_kafka_resp_err_t e = more ? (rd_kafka_poll(rk, 0), RD_KAFKA_RESP_ERR_NO_ERROR) : rd_kafka_flush(rk, FLUSH_MS);
    char fatal[8];
    if (e || k->producer->failed || rd_kafka_fatal_error(rk, fatal, sizeof fatal) || k->producer->watch.broken)
        return deliver_failed(k, e, err);
    return WEIR_SINK_OK;
}

static void kafka_close(void *state)
{
    kafka_sink *k = state;
    if (!k)
        return;
    if (k->producer) { /* a moment for what is in flight; resume() after a restart sorts out the rest */
        rd_kafka_flush(k->producer->rk, 1000);
        rd_kafka_destroy(k->producer->rk);
        free(k->producer);
    }
    free(k->last);
    free(k);
}

static const char *nonempty(const weir_value *v) { return *v->s ? NULL : "it cannot be empty"; }

static const weir_conn_option options[] = {
    {"topic", WEIR_TYPE_TEXT, NULL, true, "The Kafka topic the records are produced to.", nonempty},
    {"brokers", WEIR_TYPE_TEXT, NULL, false,
     "Bootstrap brokers, host:port[,host:port...]. Without it, weir serve --kafka's; one of the two is needed.",
     nonempty},
    {WEIR_KAFKA_PROPERTIES, WEIR_TYPE_TEXT, NULL, false, WEIR_KAFKA_PROPERTIES_HELP, NULL},
};

const weir_sink_connector weir_sink_kafka = {
    .name = "kafka",
    .help = "Produces the records to a Kafka topic with an idempotent producer (acks=all), exactly once: after a "
            "failure the topic's last records are read back (headers weir.partition, weir.offset) and nothing it "
            "holds is produced again. Keys are kept; partition p goes to topic partition p when the counts match.",
    .options = options,
    .noptions = sizeof options / sizeof *options,
    .caps = WEIR_SINK_EXACTLY_ONCE | WEIR_SINK_SCALE_OUT, /* scale-out: records name their writer (weir.writer) */
    .open = kafka_open,
    .resume = kafka_resume,
    .deliver = kafka_deliver,
    .close = kafka_close,
};
