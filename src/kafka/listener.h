/*
 * listener.h - `weir serve --kafka-listen ADDR`: weir speaks the Kafka
 * protocol over its own log, so Kafka clients (librdkafka, kafka-python,
 * kcat) produce to and consume from it with no broker.
 *
 * One thread of its own serves every connection with epoll over
 * non-blocking sockets: it reads size-prefixed requests, answers each
 * through the runtime (runtime.h) and answers a connection's requests in
 * order, one at a time, as Kafka requires. A produce's answer waits for the
 * group commit (the pipeline thread wakes the listener); a fetch waits for
 * records up to its max_wait_ms. docs/KAFKA_PROTOCOL.md says which APIs
 * and versions are served.
 */
#ifndef WEIR_KAFKA_LISTENER_H
#define WEIR_KAFKA_LISTENER_H

#include <stdint.h>

#include "base/err.h"
#include "runtime/runtime.h"

typedef struct weir_kafka_listener weir_kafka_listener;

typedef struct weir_kafka_options {
    const char *listen;           /* HOST:PORT (PORT 0: any free one) */
    const char *token;            /* clients authenticate with SASL PLAIN and this password (serve --token); NULL: none */
    size_t max_request;           /* larger requests close their connection; 0: 100 MiB (Kafka's socket.request.max.bytes) */
    /* What went wrong with a client (a malformed request, a failed
     * accept), one line, from the listener's thread; NULL: not said. */
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
} weir_kafka_options;

/* Binds opt->listen and starts serving; rt is borrowed until
 * weir_kafka_listener_stop. */
int weir_kafka_listener_start(weir_runtime *rt, const weir_kafka_options *opt, weir_kafka_listener **out,
                              weir_err *err);
/* The port actually bound. */
uint16_t weir_kafka_listener_port(const weir_kafka_listener *l);
/* Stops the thread and closes every connection. Call weir_runtime_hang_up
 * before, so no produce still waits for its commit. NULL is a no-op. */
void weir_kafka_listener_stop(weir_kafka_listener *l);

#endif
