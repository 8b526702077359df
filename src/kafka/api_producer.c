/*
 * api_producer.c - InitProducerId (v0-v1): an idempotent producer's id,
 * given out by the runtime (weir_runtime_init_producer) and answered once
 * durable, so that no id is given out twice, even across a crash. Every
 * id starts at epoch 0; a producer that needs a new epoch (librdkafka
 * after a batch failed for good) asks again and gets a new id, which
 * versions 0-1 allow. A transactional id is refused: weir has no
 * transactions (TRANSACTIONAL_ID_AUTHORIZATION_FAILED, as a broker whose
 * ACLs deny it, which clients report and do not retry).
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "kafka/proto.h"

typedef struct init_wait {
    weir_kwait base;
    _Atomic bool answered;
    int status;
    int64_t id;
    int16_t epoch;
    void (*wake)(void *ctx);
    void *wake_ctx;
} init_wait;

static void put_answer(weir_kw *w, int16_t error, int64_t id, int16_t epoch)
{
    weir_kw_i32(w, 0); /* throttle_time_ms */
    weir_kw_i16(w, error);
    weir_kw_i64(w, id);
    weir_kw_i16(w, epoch);
}

/* On the listener's thread or the pipeline's. */
static void on_id(void *ctx, int status, const char *msg, int64_t id, int16_t epoch)
{
    (void)msg;
    init_wait *iw = ctx;
    iw->status = status;
    iw->id = id;
    iw->epoch = epoch;
    void (*wake)(void *) = iw->wake, *wake_ctx = iw->wake_ctx; /* iw may be gone once answered is seen */
    atomic_store(&iw->answered, true);
    if (wake)
        wake(wake_ctx);
}

static int init_poll(weir_kwait *wt, const weir_kctx *c, weir_kw *w, int64_t now_ms)
{
    (void)c;
    (void)now_ms;
    init_wait *iw = (init_wait *)wt;
    if (!atomic_load(&iw->answered))
        return 0;
    /* weir stopping or a full disk: retriable, as a coordinator that is not ready */
    put_answer(w, iw->status == 200 ? KERR_NONE : KERR_COORDINATOR_NOT_AVAILABLE, iw->id, iw->epoch);
    return 1;
}

static void init_free(weir_kwait *wt) { free(wt); }

weir_kresult weir_kafka_init_producer_id(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait)
{
    weir_kslice txn = weir_kr_string(&q->body, false, true, "transactional_id");
    weir_kr_i32(&q->body, "transaction_timeout_ms");
    if (!weir_kr_ok(&q->body))
        return KAFKA_MALFORMED;
    if (!txn.null || !c->producers) {
        put_answer(w, txn.null ? KERR_COORDINATOR_NOT_AVAILABLE : KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED, -1, -1);
        return KAFKA_ANSWER;
    }
    init_wait *iw = calloc(1, sizeof *iw);
    if (!iw) {
        weir_kr_fail(&q->body, "out of memory");
        return KAFKA_MALFORMED;
    }
    iw->base = (weir_kwait){init_poll, init_free, INT64_MAX, false};
    iw->wake = c->wake;
    iw->wake_ctx = c->wake_ctx;
    weir_runtime_init_producer(c->rt, c->producers, on_id, iw);
    if (init_poll(&iw->base, c, w, 0)) { /* answered already (a refusal) */
        free(iw);
        return KAFKA_ANSWER;
    }
    *wait = &iw->base;
    return KAFKA_WAIT;
}
