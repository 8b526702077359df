/*
 * kafka_txn.c - one scale-out task's transactional producer (kafka_txn.h),
 * Kafka's exactly-once as Kafka Streams' first version built it: a
 * producer per task, its transactional.id the task's, so that whoever
 * takes the task over fences the previous owner by initialising the same
 * id (the broker aborts, or completes, the transaction it left open, and
 * refuses its later writes), and read_committed readers never see a
 * record of an aborted transaction.
 *
 * The runner's pipeline thread alone uses a task's producer: records go
 * in as the task emits them (librdkafka sends them in the background), a
 * commit at each save makes them visible with the task's state.
 */
#include "conn/kafka_txn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMMIT_TRIES 5         /* a retriable commit error (a coordinator moving, a timeout) is tried again */

struct weir_kafka_txn {
    rd_kafka_t *rk;
    bool open;                 /* begun: records produced since the last commit */
    bool fenced;               /* another producer of the id took over: nothing more of this one lands */
    bool aborted;              /* the last error aborted the open transaction, the producer not fenced */
    char id[300];
};

/* Whether e says a newer producer of the id took over (librdkafka's own
 * code, or the broker's, depending on the request that met it). */
static bool fenced_by(rd_kafka_resp_err_t e)
{
    return e == RD_KAFKA_RESP_ERR__FENCED || e == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
           e == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
}

/* Says what e is and frees it; WEIR_EBUSY when it fenced the producer. */
static int txn_error(weir_kafka_txn *t, rd_kafka_error_t *e, const char *doing, weir_err *err)
{
    bool fenced = fenced_by(rd_kafka_error_code(e));
    int code = fenced ? WEIR_EBUSY : WEIR_EIO;
    t->fenced |= fenced;
    weir_err_set(err, code, "kafka transaction %s: %s: %s", t->id, doing, rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return code;
}

/* After an error that leaves the open transaction to be aborted (an
 * "abortable" state, in which librdkafka refuses records): aborts it.
 * The abort is what tells a fenced producer (a zombie woken after its
 * task was taken over: the broker refuses its EndTxn) from a failure:
 * WEIR_EBUSY then, else WEIR_EIO saying what failed (why). */
static int abort_after(weir_kafka_txn *t, const char *doing, const char *why, weir_err *err)
{
    rd_kafka_error_t *a = rd_kafka_abort_transaction(t->rk, WEIR_KAFKA_TXN_TIMEOUT_MS);
    t->open = false;
    if (a) {
        t->fenced |= fenced_by(rd_kafka_error_code(a));
        rd_kafka_error_destroy(a);
    }
    if (t->fenced)
        return weir_err_set(err, WEIR_EBUSY, "kafka transaction %s: fenced by a newer owner of the task", t->id);
    t->aborted = true;
    return weir_err_set(err, WEIR_EIO, "kafka transaction %s: %s: %s (the transaction was aborted)", t->id, doing, why);
}

int64_t weir_kafka_txn_timeout(const char *const *config, weir_err *err)
{
    const char *given = NULL;
    for (const char *const *p = config; p && *p; p += 2) /* the last one given counts, as librdkafka sets them in order */
        if (!strcmp(p[0], "transaction.timeout.ms"))
            given = p[1];
    if (!given)
        return WEIR_KAFKA_TXN_TIMEOUT_MS;
    char *end;
    errno = 0;
    long long ms = strtoll(given, &end, 10);
    if (errno || end == given || *end || ms < 1000 || ms > 2147483647)
        return weir_err_set(err, WEIR_EINVAL, "--kafka-config transaction.timeout.ms=%s: expected milliseconds from "
                            "1000 to 2147483647", given), -1;
    return ms;
}

int weir_kafka_txn_open(const char *brokers, const char *id, const weir_kafka_user *user, int64_t timeout_ms,
                        weir_kafka_txn **out, weir_err *err)
{
    weir_kafka_txn *t = calloc(1, sizeof *t);
    if (!t)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    snprintf(t->id, sizeof t->id, "%s", id);
    char timeout[24];
    snprintf(timeout, sizeof timeout, "%lld", (long long)timeout_ms);
    /* murmur2_random: a keyed record lands where a Java producer puts it (an output topic of
     * another partition count than its stream) */
    const char *const props[] = {"bootstrap.servers", brokers, "log_level", "2", "transactional.id", id,
                                 "transaction.timeout.ms", timeout, "acks", "all", "linger.ms", "5",
                                 "partitioner", "murmur2_random", "message.max.bytes", "100000000", NULL};
    if (!(t->rk = weir_kafka_new(RD_KAFKA_PRODUCER, props, user, NULL, NULL, err))) {
        free(t);
        return weir_err_wrap(err, "kafka transaction %s", id);
    }
    rd_kafka_error_t *e = rd_kafka_init_transactions(t->rk, WEIR_KAFKA_TXN_TIMEOUT_MS + 5000);
    if (e) {
        int rc = txn_error(t, e, "initialising", err);
        weir_kafka_txn_close(t);
        return rc == WEIR_EBUSY ? WEIR_EIO : rc; /* fenced while starting: another process started it meanwhile */
    }
    *out = t;
    return WEIR_OK;
}

int weir_kafka_txn_produce(weir_kafka_txn *t, const char *topic, int32_t partition, const void *key, size_t klen,
                           const void *value, size_t vlen, int64_t ts_ms, rd_kafka_headers_t *headers, weir_err *err)
{
    if (t->fenced)
        return weir_err_set(err, WEIR_EBUSY, "kafka transaction %s: fenced by a newer owner of the task", t->id);
    rd_kafka_error_t *e;
    t->aborted = false;
    if (!t->open && (e = rd_kafka_begin_transaction(t->rk))) /* fenced, or a fatal error: this producer is done */
        return txn_error(t, e, "beginning", err);
    t->open = true;
    for (;;) {
        rd_kafka_resp_err_t pe = rd_kafka_producev(
            t->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_KEY((void *)key, key ? klen : 0),
            RD_KAFKA_V_VALUE((void *)value, value ? vlen : 0), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_TIMESTAMP(ts_ms), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
        if (pe == RD_KAFKA_RESP_ERR__QUEUE_FULL) { /* more than the producer queues: let it send some */
            rd_kafka_poll(t->rk, 10);
            continue;
        }
        if (pe == RD_KAFKA_RESP_ERR_NO_ERROR)
            return WEIR_OK;
        char why[256], doing[300];
        rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(t->rk, why, sizeof why);
        if (fenced_by(fatal)) {
            t->fenced = true;
            return weir_err_set(err, WEIR_EBUSY, "kafka transaction %s: %s", t->id, why);
        }
        snprintf(doing, sizeof doing, "producing to %s", topic);
        if (fatal)
            return weir_err_set(err, WEIR_EIO, "kafka transaction %s: %s: %s", t->id, doing, why);
        return abort_after(t, doing, rd_kafka_err2str(pe), err); /* _STATE: the transaction must be aborted */
    }
}

bool weir_kafka_txn_aborted(const weir_kafka_txn *t)
{
    return t->aborted;
}

bool weir_kafka_txn_pending(const weir_kafka_txn *t)
{
    return t->open;
}

int weir_kafka_txn_commit(weir_kafka_txn *t, weir_err *err)
{
    if (t->fenced)
        return weir_err_set(err, WEIR_EBUSY, "kafka transaction %s: fenced by a newer owner of the task", t->id);
    t->aborted = false;
    if (!t->open)
        return WEIR_OK;
    rd_kafka_error_t *e = NULL;
    char retried[256] = "";
    for (int i = 0; i < COMMIT_TRIES; i++) {
        if (!(e = rd_kafka_commit_transaction(t->rk, WEIR_KAFKA_TXN_TIMEOUT_MS))) {
            t->open = false;
            return WEIR_OK;
        }
        if (!rd_kafka_error_is_retriable(e))
            break;
        snprintf(retried, sizeof retried, "%s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        e = NULL;
    }
    if (!e) /* still retriable after every try: whether it landed is not known, so it is aborted and the task
             * goes back to what the state topic says was committed (the head it reads, this one or the last) */
        return abort_after(t, "committing", retried, err);
    if (rd_kafka_error_txn_requires_abort(e)) { /* none of it lands: the caller redoes or gives up the task */
        char why[256];
        snprintf(why, sizeof why, "%s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return abort_after(t, "committing", why, err);
    }
    return txn_error(t, e, "committing", err);
}

void weir_kafka_txn_close(weir_kafka_txn *t)
{
    if (!t)
        return;
    if (t->open && !t->fenced) { /* a failed abort is fine: the broker aborts it at its timeout, or a successor does */
        rd_kafka_error_t *e = rd_kafka_abort_transaction(t->rk, 5000);
        if (e)
            rd_kafka_error_destroy(e);
    }
    rd_kafka_purge(t->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_destroy(t->rk);
    free(t);
}
