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
    bool fenced;               /* the broker knows a newer epoch of the id (fenced_by): nothing more of this one lands */
    bool aborted;              /* the last error aborted the open transaction, the producer still usable */
    char id[300];
    char refused[400];         /* the first record the broker refused in the open transaction: what, where, why */
};

/* A delivery report, which only a record that failed has
 * (delivery.report.only.error; served by rd_kafka_poll and by the commit's
 * flush): the first refusal's words say what the abortable state it leaves
 * the transaction in does not (which topic and partition, and why). The
 * purge of an abort reports every record left: not a refusal. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    weir_kafka_txn *t = opaque;
    if (m->err && m->err != RD_KAFKA_RESP_ERR__PURGE_QUEUE && m->err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT && !t->refused[0])
        snprintf(t->refused, sizeof t->refused, "a record to %s [%d] was refused: %s", rd_kafka_topic_name(m->rkt),
                 (int)m->partition, rd_kafka_err2str(m->err));
}

/* Whether e says the broker knows a newer epoch of the id than this
 * producer's: another producer initialised the id (a new owner of the
 * task fencing this one, PRODUCER_FENCED), or the transaction coordinator
 * aborted a transaction that outlived transaction.timeout.ms and bumped
 * the epoch (KIP-588, INVALID_PRODUCER_EPOCH). librdkafka 2.0.2 raises
 * both as the same fatal error, _FENCED (against Kafka 4.4 a timed-out
 * transaction's next AddPartitionsToTxn reads "Broker: Producer attempted
 * an operation with an old epoch", then "Fatal transaction error: ...
 * fenced by a newer instance"), so they cannot be told apart here. Either
 * way the open transaction is gone and this producer can do nothing more;
 * whether the task is still this process's is for the task store's claims
 * to say (exec/tasks.c, reset_task), not this error. */
static bool fenced_by(rd_kafka_resp_err_t e)
{
    return e == RD_KAFKA_RESP_ERR__FENCED || e == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
           e == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
}

static int fenced_error(weir_kafka_txn *t, weir_err *err)
{
    return weir_err_set(err, WEIR_EIO, "kafka transaction %s: fenced: a newer producer of the id, or the broker's "
                        "transaction timeout, aborted its transaction", t->id);
}

/* Says what e is and frees it: a fencing (weir_kafka_txn_aborted then
 * says the transaction is gone), or a fatal error. */
static int txn_error(weir_kafka_txn *t, rd_kafka_error_t *e, const char *doing, weir_err *err)
{
    t->fenced |= fenced_by(rd_kafka_error_code(e));
    weir_err_set(err, WEIR_EIO, "kafka transaction %s: %s: %s", t->id, doing, rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return WEIR_EIO;
}

/* After an error that leaves the open transaction to be aborted (an
 * "abortable" state, in which librdkafka refuses records): aborts it.
 * Whatever the abort answers (refused when the producer was fenced
 * meanwhile), none of the transaction lands: WEIR_EIO saying what failed
 * (why), weir_kafka_txn_aborted true. */
static int abort_after(weir_kafka_txn *t, const char *doing, const char *why, weir_err *err)
{
    rd_kafka_poll(t->rk, 0); /* a refusal's report, if one came meanwhile, says more than why */
    char refused[sizeof t->refused];
    snprintf(refused, sizeof refused, "%s", t->refused);
    if (*refused)
        why = refused;
    rd_kafka_error_t *a = rd_kafka_abort_transaction(t->rk, WEIR_KAFKA_TXN_TIMEOUT_MS);
    t->open = false;
    if (a) {
        t->fenced |= fenced_by(rd_kafka_error_code(a));
        rd_kafka_error_destroy(a);
    }
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
                                 "partitioner", "murmur2_random", "message.max.bytes", "100000000",
                                 "delivery.report.only.error", "true", NULL};
    if (!(t->rk = weir_kafka_new(RD_KAFKA_PRODUCER, props, user, on_delivery, t, err))) {
        free(t);
        return weir_err_wrap(err, "kafka transaction %s", id);
    }
    rd_kafka_error_t *e = rd_kafka_init_transactions(t->rk, WEIR_KAFKA_TXN_TIMEOUT_MS + 5000);
    if (e) {
        int rc = txn_error(t, e, "initialising", err); /* fenced: another process started it meanwhile */
        weir_kafka_txn_close(t);
        return rc;
    }
    *out = t;
    return WEIR_OK;
}

int weir_kafka_txn_produce(weir_kafka_txn *t, const char *topic, int32_t partition, const void *key, size_t klen,
                           const void *value, size_t vlen, int64_t ts_ms, rd_kafka_headers_t *headers, weir_err *err)
{
    if (t->fenced)
        return fenced_error(t, err);
    rd_kafka_error_t *e;
    t->aborted = false;
    if (!t->open && (e = rd_kafka_begin_transaction(t->rk))) /* fenced, or a fatal error: this producer is done */
        return txn_error(t, e, "beginning", err);
    if (!t->open)
        t->refused[0] = '\0';
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
        snprintf(doing, sizeof doing, "producing to %s", topic);
        t->fenced |= fenced_by(fatal);
        if (fatal)
            return weir_err_set(err, WEIR_EIO, "kafka transaction %s: %s: %s", t->id, doing, why);
        return abort_after(t, doing, rd_kafka_err2str(pe), err); /* _STATE: the transaction must be aborted */
    }
}

bool weir_kafka_txn_aborted(const weir_kafka_txn *t)
{
    return t->aborted || t->fenced;
}

bool weir_kafka_txn_pending(const weir_kafka_txn *t)
{
    return t->open;
}

int weir_kafka_txn_commit(weir_kafka_txn *t, weir_err *err)
{
    if (t->fenced)
        return fenced_error(t, err);
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
