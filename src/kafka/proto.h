/*
 * proto.h - the Kafka protocol's requests, for the files of src/kafka: the
 * request header (v1, or v2 with tagged fields in flexible versions), the
 * table of the APIs weir serves and at which versions, and what a handler
 * is. listener.c reads frames; weir_kafka_dispatch turns one into its
 * response; api_*.c are the handlers.
 */
#ifndef WEIR_KAFKA_PROTO_H
#define WEIR_KAFKA_PROTO_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "kafka/wire.h"
#include "runtime/runtime.h"

enum { /* API keys */
    KAFKA_PRODUCE = 0,
    KAFKA_FETCH = 1,
    KAFKA_LIST_OFFSETS = 2,
    KAFKA_METADATA = 3,
    KAFKA_OFFSET_COMMIT = 8,
    KAFKA_OFFSET_FETCH = 9,
    KAFKA_FIND_COORDINATOR = 10,
    KAFKA_JOIN_GROUP = 11,
    KAFKA_HEARTBEAT = 12,
    KAFKA_LEAVE_GROUP = 13,
    KAFKA_SYNC_GROUP = 14,
    KAFKA_DESCRIBE_GROUPS = 15,
    KAFKA_LIST_GROUPS = 16,
    KAFKA_SASL_HANDSHAKE = 17,
    KAFKA_API_VERSIONS = 18,
    KAFKA_CREATE_TOPICS = 19,
    KAFKA_DELETE_TOPICS = 20,
    KAFKA_INIT_PRODUCER_ID = 22,
    KAFKA_DESCRIBE_CONFIGS = 32,
    KAFKA_SASL_AUTHENTICATE = 36,
};

enum { /* error codes (the protocol guide's table) */
    KERR_NONE = 0,
    KERR_UNKNOWN_SERVER_ERROR = -1,
    KERR_OFFSET_OUT_OF_RANGE = 1,
    KERR_CORRUPT_MESSAGE = 2,
    KERR_UNKNOWN_TOPIC_OR_PARTITION = 3,
    KERR_COORDINATOR_NOT_AVAILABLE = 15,
    KERR_INVALID_TOPIC = 17,
    KERR_ILLEGAL_GENERATION = 22,
    KERR_INCONSISTENT_GROUP_PROTOCOL = 23,
    KERR_UNKNOWN_MEMBER_ID = 25,
    KERR_REBALANCE_IN_PROGRESS = 27,
    KERR_NOT_ENOUGH_REPLICAS = 19,
    KERR_INVALID_REQUIRED_ACKS = 21,
    KERR_TOPIC_AUTHORIZATION_FAILED = 29,
    KERR_UNSUPPORTED_SASL_MECHANISM = 33,
    KERR_ILLEGAL_SASL_STATE = 34,
    KERR_UNSUPPORTED_VERSION = 35,
    KERR_TOPIC_ALREADY_EXISTS = 36,
    KERR_INVALID_PARTITIONS = 37,
    KERR_INVALID_REPLICATION_FACTOR = 38,
    KERR_INVALID_REPLICA_ASSIGNMENT = 39,
    KERR_INVALID_CONFIG = 40,
    KERR_INVALID_REQUEST = 42,
    KERR_POLICY_VIOLATION = 44,
    KERR_OUT_OF_ORDER_SEQUENCE_NUMBER = 45,
    KERR_INVALID_PRODUCER_EPOCH = 47,
    KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53,
    KERR_UNKNOWN_PRODUCER_ID = 59,
    KERR_KAFKA_STORAGE_ERROR = 56,
    KERR_SASL_AUTHENTICATION_FAILED = 58,
    KERR_TOPIC_DELETION_DISABLED = 73,
    KERR_MEMBER_ID_REQUIRED = 79,
    KERR_INVALID_RECORD = 87,
};

/* A request: its header, and a reader at its body. */
typedef struct weir_kreq {
    int16_t key, version;
    int32_t correlation_id;
    weir_kslice client_id;
    bool flexible;                /* header v2 and tagged fields in the body */
    weir_kr body;
} weir_kreq;

/* A connection's SASL state (listener.c keeps one per connection). */
typedef struct weir_ksession {
    bool authenticated;           /* SASL PLAIN succeeded (or no token is asked for) */
    bool raw_token_next;          /* after SaslHandshake v0: the next frame is a bare PLAIN token */
    bool close_after_answer;      /* a failed authentication: answer, then close */
} weir_ksession;

/* What a handler sees of the server and the connection. */
typedef struct weir_kctx {
    weir_runtime *rt;
    const char *token;            /* serve --token: clients authenticate with SASL PLAIN, this password; NULL: none */
    weir_ksession *session;       /* the connection's; NULL only where token is NULL */
    const char *host;             /* this broker's address, as the client reached it */
    const char *peer;             /* the client's address (host:port); NULL: unknown */
    int32_t port;
    void (*wake)(void *ctx);      /* from any thread: a wait may be ready (the listener polls it) */
    void *wake_ctx;
    struct weir_kgroups *groups;  /* the consumer groups' members (groups.c); NULL: JoinGroup and the rest are refused */
    weir_producers *producers;    /* idempotent producers' state (runtime.h); NULL: InitProducerId is refused and
                                   * producer ids in batches are not checked */
} weir_kctx;

/* A request answered later: a produce waiting for its commit, a fetch
 * waiting for records. The listener polls it (when woken, and at
 * deadline_ms) on its own thread until it is answered, then frees it. */
typedef struct weir_kwait weir_kwait;
struct weir_kwait {
    /* 1 with the response body written to w: answered; 0: not yet. */
    int (*poll)(weir_kwait *wt, const weir_kctx *c, weir_kw *w, int64_t now_ms);
    /* Frees it; called only once poll answered (a produce's callbacks hold it until then). */
    void (*free)(weir_kwait *wt);
    int64_t deadline_ms;          /* poll at the latest then; INT64_MAX: when woken */
    bool silent;                  /* acks=0: its answer is not sent */
};

typedef enum weir_kresult {
    KAFKA_ANSWER,                 /* the body is written */
    KAFKA_SILENT,                 /* no response (a produce with acks=0 whose records were refused or queued) */
    KAFKA_WAIT,                   /* *wait answers it later (or, silent, just finishes) */
    KAFKA_MALFORMED,              /* q->body.err says what is wrong: the connection is closed, as Kafka does */
} weir_kresult;

typedef weir_kresult (*weir_khandler)(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait);

typedef struct weir_kapi {
    int16_t key;
    const char *name;
    int16_t min, max;             /* the versions served */
    int16_t flexible_from;        /* the first flexible version (INT16_MAX: none) */
    weir_khandler handle;
} weir_kapi;

/* The served APIs, and their count. */
extern const weir_kapi weir_kafka_apis[];
extern const int weir_kafka_napis;

/* Parses a request's header from a frame's payload (its size prefix
 * removed). false with the reason in q->body.err. */
bool weir_kafka_header(const uint8_t *p, size_t len, weir_kreq *q);

/* Writes a response's header (the correlation id; tagged fields after
 * header v1, which ApiVersions never uses). */
void weir_kafka_response_header(const weir_kreq *q, weir_kw *w);

/* Answers one request into w (its body only): an API or version weir
 * does not serve gets UNSUPPORTED_VERSION, never a closed connection.
 * With a token, a connection not yet authenticated may send only
 * ApiVersions and the SASL requests: anything else is refused as
 * malformed (ILLEGAL_SASL_STATE in Kafka's words), which closes it. */
weir_kresult weir_kafka_dispatch(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait);

/* The handlers (api_*.c). */
weir_kresult weir_kafka_api_versions(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait);
weir_kresult weir_kafka_metadata(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait);
weir_kresult weir_kafka_find_coordinator(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait);
weir_kresult weir_kafka_produce(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait);
weir_kresult weir_kafka_list_offsets(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait);
weir_kresult weir_kafka_fetch(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait);
weir_kresult weir_kafka_offset_commit(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait);
weir_kresult weir_kafka_offset_fetch(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait);
weir_kresult weir_kafka_sasl_handshake(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait);
weir_kresult weir_kafka_sasl_authenticate(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait);
weir_kresult weir_kafka_join_group(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait);
weir_kresult weir_kafka_sync_group(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait);
weir_kresult weir_kafka_heartbeat(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait);
weir_kresult weir_kafka_leave_group(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait);
weir_kresult weir_kafka_create_topics(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait);
weir_kresult weir_kafka_delete_topics(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait);
weir_kresult weir_kafka_describe_configs(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait);
weir_kresult weir_kafka_list_groups(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait);
weir_kresult weir_kafka_describe_groups(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait);
weir_kresult weir_kafka_init_producer_id(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait);

/* The consumer groups' membership (groups.c), on the listener's thread only. */
typedef struct weir_kgroups weir_kgroups;
weir_kgroups *weir_kgroups_new(void);
void weir_kgroups_free(weir_kgroups *g);
/* Members silent past their session timeout leave; a rebalance whose time is
 * up goes on without the members that did not rejoin. true while any group
 * has members (the listener then ticks at least every 100 ms). */
bool weir_kgroups_tick(weir_kgroups *g, int64_t now_ms);

/* Whether a SASL PLAIN token ([authzid] NUL user NUL password) carries the password token. */
bool weir_kafka_plain_ok(const uint8_t *p, size_t len, const char *token);

/* Reads a topic or group name into dst; the reader goes bad if it is too long. */
void weir_kafka_name(weir_kr *r, bool compact, char *dst, size_t cap, const char *what);
/* The Kafka error code for a runtime error code (WEIR_ENOENT: unknown topic or partition). */
int16_t weir_kafka_error_of(int weir_code);

#endif
