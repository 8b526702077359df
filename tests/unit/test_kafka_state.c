/*
 * test_kafka_state.c - the Kafka task store (conn/kafka_state.c) under
 * --kafka-exactly-once, against librdkafka's mock cluster in this process:
 * a save whose commit the transaction coordinator answers slowly (EndTxn
 * held 5 s) does not hold up owner(), which HTTP threads call to redirect
 * pull queries, while it waits.
 */
#include <pthread.h>

#include "kafka_mock.h"
#include "base/clock.h"
#include "conn/kafka_state.h"

#define END_TXN 26        /* the Kafka protocol's EndTxn API key */
#define COMMIT_DELAY_MS 5000

static weir_task_store *store;
static volatile int saved = -1; /* the save's answer once it returned */
static weir_err save_err;

static void *save(void *arg)
{
    (void)arg;
    weir_buf none = {0};
    saved = store->save(store->ctx, "s/0", 1, (const uint8_t *)"head", 4, &none, &save_err);
    return NULL;
}

int main(void)
{
    plan(3);
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc = mock_cluster_start(1, &rk);
    if (rd_kafka_mock_topic_create(mc, "g.state", 1, 1))
        BAIL("the mock cluster did not make g.state");
    weir_err err;
    weir_task_saved loaded = {0};
    if (weir_kafka_state_open(rd_kafka_mock_cluster_bootstraps(mc), "g", "me", NULL, true, &store, &err) ||
        (weir_kafka_state_set_address(store, "http://127.0.0.1:1"), store->begin(store->ctx, "s/0", &err)) ||
        store->load(store->ctx, "s/0", &loaded, &err) || store->claim(store->ctx, "s/0", 1, &err))
        BAIL("%s", err.msg);
    weir_buf_free(&loaded.state);
    weir_buf_free(&loaded.pieces);

    /* The coordinator holds its answer to the commit; owner() is asked over and over meanwhile. */
    rd_kafka_mock_broker_push_request_error_rtts(mc, 1, END_TXN, 1, RD_KAFKA_RESP_ERR_NO_ERROR, COMMIT_DELAY_MS);
    pthread_t saver;
    uint64_t began = weir_mono_ns(), slowest = 0;
    if (pthread_create(&saver, NULL, save, NULL))
        BAIL("pthread_create");
    int asked = 0, owner_rc = 0;
    while (saved < 0 && owner_rc >= 0) {
        char address[256];
        uint64_t t = weir_mono_ns();
        owner_rc = store->owner(store->ctx, "s/0", address, sizeof address, &err);
        uint64_t dt = weir_mono_ns() - t;
        slowest = dt > slowest ? dt : slowest;
        asked++;
    }
    pthread_join(saver, NULL);
    uint64_t took_ms = (weir_mono_ns() - began) / 1000000;
    ok(saved == WEIR_OK && took_ms >= COMMIT_DELAY_MS, "the save commits, the coordinator answering after %d ms (%llu ms: %s)",
       COMMIT_DELAY_MS, (unsigned long long)took_ms, saved ? save_err.msg : "ok");
    ok(owner_rc == 0, "owner() answers meanwhile: the task is this process's (%d asks%s%s)", asked,
       owner_rc < 0 ? ": " : "", owner_rc < 0 ? err.msg : "");
    ok(asked > 1 && slowest < COMMIT_DELAY_MS / 2 * 1000000ull, "no owner() waits for the commit: the slowest of %d took %llu ms", asked,
       (unsigned long long)(slowest / 1000000));

    store->end(store->ctx, "s/0");
    weir_kafka_state_close(store);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return done();
}
