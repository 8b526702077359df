/*
 * kafka_txn.h - one scale-out task's transactional producer (serve
 * --kafka-exactly-once; kafka_txn.c): the task's output rows, dead
 * letters and state records go to Kafka in one transaction per save.
 */
#ifndef WEIR_KAFKA_TXN_H
#define WEIR_KAFKA_TXN_H

#include "conn/kafka_client.h"

typedef struct weir_kafka_txn weir_kafka_txn;

/* How long a transaction may stay open before the broker aborts it (a
 * producer that died with one open blocks read_committed readers of its
 * partitions until its successor fences it, or until then), unless serve
 * --kafka-config sets transaction.timeout.ms; also how long a call to the
 * transaction coordinator (init, commit, abort) may wait. */
#define WEIR_KAFKA_TXN_TIMEOUT_MS 10000

/* The transactions' timeout under the properties config (serve
 * --kafka-config's: name, value, ..., NULL; or NULL): its
 * transaction.timeout.ms, else WEIR_KAFKA_TXN_TIMEOUT_MS; -1 with err
 * naming the property when it is no whole number of milliseconds in
 * librdkafka's range (1000 to 2147483647). */
int64_t weir_kafka_txn_timeout(const char *const *config, weir_err *err);

/* A producer with transactional.id id on brokers, initialised: the
 * broker fences every earlier producer of that id (a zombie: a process
 * that lost the task without knowing it), aborting or completing its
 * open transaction first. user: serve --kafka-config's properties;
 * timeout_ms: weir_kafka_txn_timeout's. */
int weir_kafka_txn_open(const char *brokers, const char *id, const weir_kafka_user *user, int64_t timeout_ms,
                        weir_kafka_txn **out, weir_err *err);
/* Produces one record in the open transaction, beginning one if none is
 * (partition RD_KAFKA_PARTITION_UA: murmur2 of the key picks). headers:
 * taken over when it returns WEIR_OK, else the caller's. */
int weir_kafka_txn_produce(weir_kafka_txn *t, const char *topic, int32_t partition, const void *key, size_t klen,
                           const void *value, size_t vlen, int64_t ts_ms, rd_kafka_headers_t *headers, weir_err *err);
/* Whether the last error took the open transaction with it: aborted (an
 * abortable error: a record or the commit refused, the commit timed out),
 * or fenced (the broker knows a newer epoch of the id: another producer
 * initialised it, or the broker aborted a transaction open longer than
 * transaction.timeout.ms; librdkafka reports both alike, kafka_txn.c). What
 * it held is gone; the task may still be this process's, and a fresh
 * producer of the id (close, open) goes on. False after a fatal error of
 * another kind: the caller gives up. */
bool weir_kafka_txn_aborted(const weir_kafka_txn *t);
/* Whether a transaction is open (records produced since the last commit). */
bool weir_kafka_txn_pending(const weir_kafka_txn *t);
/* Commits the open transaction (nothing if none): every record produced
 * since the last commit becomes visible to read_committed readers at
 * once, or none does (an error; weir_kafka_txn_aborted says whether the
 * task may go on with a fresh producer). */
int weir_kafka_txn_commit(weir_kafka_txn *t, weir_err *err);
/* Aborts an open transaction (what it produced is never visible) and
 * frees the producer; NULL is fine. */
void weir_kafka_txn_close(weir_kafka_txn *t);

#endif
