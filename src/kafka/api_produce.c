/*
 * api_produce.c - Produce (v3-v8): each partition's record batches are
 * decoded (and decompressed) here and admitted by the runtime
 * (weir_runtime_produce), which answers once the group commit made them
 * durable; the response goes when every partition has its answer. With
 * acks=0 nothing is sent back, as Kafka does, but the records take the
 * same path.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/batch.h"
#include "kafka/proto.h"

typedef struct produce_wait produce_wait;

typedef struct part_answer {
    produce_wait *pw;
    size_t topic;              /* index into names */
    int32_t partition;
    int16_t error;
    int64_t base_offset;
    char msg[600];             /* error_message (v8), "" if none */
} part_answer;

struct produce_wait {
    weir_kwait base;
    int16_t version;
    char (*names)[256];        /* the topics, in request order */
    size_t ntopics;
    part_answer *parts;        /* in request order */
    size_t nparts;
    _Atomic size_t remaining;  /* partitions without their answer yet */
    void (*wake)(void *ctx);
    void *wake_ctx;
};

static int16_t error_of_status(int status)
{
    switch (status) {
    case 200: return KERR_NONE;
    case 400:
    case 422: return KERR_INVALID_RECORD;
    case 404: return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    case 409: return KERR_INVALID_TOPIC;
    case 503: return KERR_KAFKA_STORAGE_ERROR; /* retriable: the client tries again */
    case WEIR_PRODUCE_OUT_OF_ORDER: return KERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    case WEIR_PRODUCE_FENCED: return KERR_INVALID_PRODUCER_EPOCH;
    case WEIR_PRODUCE_UNKNOWN_PRODUCER: return KERR_UNKNOWN_PRODUCER_ID;
    default: return KERR_UNKNOWN_SERVER_ERROR;
    }
}

/* The runtime's answer for one partition: on the caller's thread or the pipeline's. */
static void on_answer(void *ctx, int status, const char *msg, uint64_t base_offset)
{
    part_answer *a = ctx;
    a->error = error_of_status(status);
    a->base_offset = status == 200 ? (int64_t)base_offset : -1;
    snprintf(a->msg, sizeof a->msg, "%s", status == 200 ? "" : msg);
    produce_wait *pw = a->pw;
    if (atomic_fetch_sub(&pw->remaining, 1) == 1 && pw->wake)
        pw->wake(pw->wake_ctx);
}

static void produce_free(weir_kwait *wt)
{
    produce_wait *pw = (produce_wait *)wt;
    free(pw->names);
    free(pw->parts);
    free(pw);
}

static int produce_poll(weir_kwait *wt, const weir_kctx *c, weir_kw *w, int64_t now_ms)
{
    (void)c;
    (void)now_ms;
    produce_wait *pw = (produce_wait *)wt;
    if (atomic_load(&pw->remaining))
        return 0;
    weir_kw_array(w, false, (int32_t)pw->ntopics);
    size_t i = 0;
    for (size_t t = 0; t < pw->ntopics; t++) {
        size_t n = 0;
        while (i + n < pw->nparts && pw->parts[i + n].topic == t)
            n++;
        weir_kw_string(w, false, pw->names[t]);
        weir_kw_array(w, false, (int32_t)n);
        for (; n > 0; n--, i++) {
            const part_answer *a = &pw->parts[i];
            weir_kw_i32(w, a->partition);
            weir_kw_i16(w, a->error);
            weir_kw_i64(w, a->base_offset);
            weir_kw_i64(w, -1); /* log_append_time_ms: weir keeps the producer's timestamps */
            if (pw->version >= 5)
                weir_kw_i64(w, -1); /* log_start_offset */
            if (pw->version >= 8) {
                weir_kw_array(w, false, 0); /* record_errors: error_message names the record */
                weir_kw_string(w, false, a->msg[0] ? a->msg : NULL);
            }
        }
    }
    weir_kw_i32(w, 0); /* throttle_time_ms */
    return 1;
}

/* Reads the request's topics and partitions into pw (names and parts),
 * keeping where each partition's records are. */
static bool read_request(weir_kr *r, produce_wait *pw, weir_kslice **records, int16_t *acks)
{
    weir_kr_string(r, false, true, "transactional_id");
    *acks = weir_kr_i16(r, "acks");
    weir_kr_i32(r, "timeout_ms");
    int32_t nt = weir_kr_array(r, false, false, 6, "topic_data");
    pw->names = calloc(nt > 0 ? (size_t)nt : 1, sizeof *pw->names);
    if (!pw->names)
        return false;
    for (int32_t t = 0; t < nt && weir_kr_ok(r); t++) {
        weir_kafka_name(r, false, pw->names[t], sizeof pw->names[t], "topic name");
        int32_t np = weir_kr_array(r, false, false, 8, "partition_data");
        part_answer *grown = realloc(pw->parts, (pw->nparts + (size_t)np + 1) * sizeof *grown);
        weir_kslice *more = realloc(*records, (pw->nparts + (size_t)np + 1) * sizeof *more);
        if (grown)
            pw->parts = grown;
        if (more)
            *records = more;
        if (!grown || !more)
            return false;
        for (int32_t p = 0; p < np && weir_kr_ok(r); p++) {
            part_answer *a = &pw->parts[pw->nparts];
            *a = (part_answer){.pw = pw, .topic = (size_t)t, .base_offset = -1};
            a->partition = weir_kr_i32(r, "partition index");
            (*records)[pw->nparts++] = weir_kr_bytes(r, false, true, "records");
        }
        pw->ntopics = (size_t)t + 1;
    }
    return true;
}

/* Decodes one partition's records and hands them to the runtime. */
static void produce_partition(const weir_kctx *c, produce_wait *pw, part_answer *a, weir_kslice records, int16_t acks)
{
    char why[300];
    weir_kbatches b = {0};
    int code = acks != 0 && acks != 1 && acks != -1 ? KERR_INVALID_REQUIRED_ACKS
             : records.null || !records.len     ? KERR_CORRUPT_MESSAGE
                                                 : weir_kbatches_decode(records.data, records.len, &b, why, sizeof why);
    if (!code && b.n == 0) {
        code = KERR_CORRUPT_MESSAGE;
        snprintf(why, sizeof why, "the batches hold no records");
    }
    if (!code && b.transactional) {
        code = KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        snprintf(why, sizeof why, "a transactional batch: this server has no transactions");
    }
    if (!code && b.producer.id >= 0 && b.nbatches > 1) { /* as Kafka: its sequence numbers cover one batch */
        code = KERR_INVALID_RECORD;
        snprintf(why, sizeof why, "an idempotent producer's records come in one batch per partition, not %zu",
                 b.nbatches);
    }
    if (code) {
        a->error = (int16_t)code;
        snprintf(a->msg, sizeof a->msg, "%s", code == KERR_INVALID_REQUIRED_ACKS ? "acks must be 0, 1 or -1"
                                              : records.null || !records.len ? "no records"
                                                                              : why);
        atomic_fetch_sub(&pw->remaining, 1);
    } else {
        weir_runtime_produce(c->rt, pw->names[a->topic], a->partition, b.recs, b.n,
                             b.producer.id >= 0 ? &b.producer : NULL, c->producers, on_answer, a);
    }
    weir_kbatches_free(&b);
}

weir_kresult weir_kafka_produce(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait)
{
    produce_wait *pw = calloc(1, sizeof *pw);
    weir_kslice *records = NULL;
    int16_t acks = 1;
    if (!pw)
        return KAFKA_MALFORMED;
    bool read = read_request(&q->body, pw, &records, &acks);
    if (!read)
        weir_kr_fail(&q->body, "out of memory");
    if (!weir_kr_ok(&q->body)) {
        free(records);
        produce_free(&pw->base);
        return KAFKA_MALFORMED;
    }
    pw->base = (weir_kwait){produce_poll, produce_free, INT64_MAX, acks == 0};
    pw->version = q->version;
    pw->wake = c->wake;
    pw->wake_ctx = c->wake_ctx;
    atomic_store(&pw->remaining, pw->nparts + 1); /* one more until every partition was handed over */
    for (size_t i = 0; i < pw->nparts; i++)
        produce_partition(c, pw, &pw->parts[i], records[i], acks);
    free(records);
    if (atomic_fetch_sub(&pw->remaining, 1) == 1) { /* every answer is in already */
        if (acks != 0)
            produce_poll(&pw->base, c, w, 0);
        produce_free(&pw->base);
        return acks == 0 ? KAFKA_SILENT : KAFKA_ANSWER;
    }
    *wait = &pw->base;
    return KAFKA_WAIT;
}
