/*
 * kafka_client.h - what the Kafka sink and the Kafka source both need from
 * librdkafka.
 */
#ifndef WEIR_KAFKA_CLIENT_H
#define WEIR_KAFKA_CLIENT_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>

#include "base/arena.h"
#include "base/err.h"
#include "sql/plan.h"

/* Sets a client property; WEIR_EINVAL naming it and why, if refused (a
 * secret's value never shown: weir_conn_secret). */
int weir_kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, weir_err *err);

/* The librdkafka properties a user gives a Kafka client, on top of weir's
 * own: serve --kafka-config's (name, value, ..., NULL; or NULL), then the
 * connector's WITH (properties.<name> = 'value', ...) of decl (or NULL).
 * So security.protocol, sasl.*, ssl.*, compression.type, acks and the rest
 * reach every client; the few weir sets itself are refused
 * (bootstrap.servers: the brokers option; group.id, enable.auto.commit,
 * enable.idempotence, transactional.id, isolation.level: what exactly-once
 * stands on). */
typedef struct weir_kafka_user {
    const char *const *config;
    const weir_stmt *decl;
} weir_kafka_user;

/* The WITH option family of the Kafka connectors' option tables. */
#define WEIR_KAFKA_PROPERTIES "properties."
#define WEIR_KAFKA_PROPERTIES_HELP                                                                               \
    "Any librdkafka property, after weir's own and serve --kafka-config's: properties.security.protocol = "       \
    "'SASL_SSL', properties.sasl.mechanisms, properties.sasl.username, properties.sasl.password, properties.ssl.*, " \
    "properties.compression.type, properties.acks, ... Secrets (passwords, keys) are never shown. bootstrap.servers, " \
    "group.id, enable.auto.commit, enable.idempotence, transactional.id and isolation.level are weir's."

/* Sets user's properties on conf; errors name the option or the file. */
int weir_kafka_conf_user(rd_kafka_conf_t *conf, const weir_kafka_user *user, weir_err *err);

/* Reads a librdkafka properties file (serve --kafka-config, kcat's -F):
 * name=value lines, blank lines and comments (# or !). *out: name, value,
 * ..., NULL, in a. Errors name the file and the line. */
int weir_kafka_config_read(const char *path, weir_arena *a, const char *const **out, weir_err *err);

/* The same for text (NUL-terminated, changed in place), read from path
 * (named in errors). */
int weir_kafka_config_parse(char *text, const char *path, weir_arena *a, const char *const **out, weir_err *err);

typedef void weir_kafka_delivery_fn(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);

/* A client with the properties props (name, value, ..., NULL), then the
 * user's (may be NULL) and, for a producer, delivery reports to
 * on_delivery with opaque; NULL with err filled if a property or the
 * client is refused. */
rd_kafka_t *weir_kafka_new(rd_kafka_type_t type, const char *const *props, const weir_kafka_user *user,
                           weir_kafka_delivery_fn *on_delivery, void *opaque, weir_err *err);

/* What a client's error callback saw (weir_kafka_new_watched,
 * weir_kafka_conf_watch): the first error that no retry will cure, in the
 * broker's or librdkafka's words: the cluster refused the credentials
 * (SASL) or the client (authorisation), a TLS handshake failed, or the
 * client raised a fatal error (a producer's only when its cause is one of
 * these: the idempotent producer's own are cured by a fresh one). Apart:
 * every broker down after a bootstrap broker's host failed to resolve,
 * which is for good when a client is connecting (a typo in the brokers)
 * but may be a passing DNS failure for one that has run a while. librdkafka calls the callback
 * inside rd_kafka_poll, flush or consumer_poll, so on the thread that polls
 * the client, which alone reads the watch. The caller owns the watch and
 * keeps it until the client is destroyed; it is the client's opaque, and
 * on_delivery and the rebalance callback get theirs from its opaque. */
typedef struct weir_kafka_watch {
    weir_kafka_delivery_fn *on_delivery; /* a producer's delivery reports, or NULL */
    void *opaque;              /* the owner's, for its callbacks */
    bool broken;               /* why[] says why; nothing clears it: a fresh client has a fresh watch */
    bool unresolved;           /* all brokers down after a bootstrap host did not resolve (unresolved_why[]) */
    rd_kafka_resp_err_t last;  /* the error reported before, a resolve failure when all brokers go down */
    char why[512];
    char unresolved_why[512];  /* the last resolve failure's words */
} weir_kafka_watch;

/* weir_kafka_new, its errors told to w (its on_delivery and opaque set by
 * the caller; a producer's reports go to w->on_delivery). */
rd_kafka_t *weir_kafka_new_watched(rd_kafka_type_t type, const char *const *props, const weir_kafka_user *user,
                                   weir_kafka_watch *w, weir_err *err);

/* Makes w conf's error callback and opaque (a client built by hand). */
void weir_kafka_conf_watch(rd_kafka_conf_t *conf, weir_kafka_watch *w);

/* Whether e, an error the cluster answered a request with, will come
 * again at every retry (authentication, authorisation). */
bool weir_kafka_refused(rd_kafka_resp_err_t e);

/* For a client that is connecting: serves rk's queued errors (rd_kafka_poll;
 * for a client whose queue is not redirected to its consumer's) and
 * answers whether w saw one no retry cures, broken or unresolved; if so
 * w->why says why. */
bool weir_kafka_broken(rd_kafka_t *rk, weir_kafka_watch *w);

/* The topic's partition count from the cluster's metadata, or -1 if it
 * cannot be learned within timeout_ms (no broker, no such topic). */
int weir_kafka_topic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms);

/* Creates topic through rk's Admin API (CreateTopics) with partitions
 * partitions, the broker's default replication and the topic configs
 * (name, value, ..., NULL; or NULL), then waits until rk's metadata shows
 * it: *have is its partition count then. A topic that exists already
 * (TOPIC_ALREADY_EXISTS: made by hand, or by another process starting at
 * the same time) is success too, so *have may differ from partitions: the
 * caller checks. rk is a consumer, whose metadata requests never create
 * a topic themselves; it carries the user's properties (--kafka-config,
 * properties.*), so the request goes as its other requests go. Errors
 * (the broker's refusal in its words, no answer within timeout_ms, as
 * much again for the metadata) name the topic. */
int weir_kafka_create_topic(rd_kafka_t *rk, const char *topic, int partitions, const char *const *configs, int timeout_ms,
                            int *have, weir_err *err);

#endif
