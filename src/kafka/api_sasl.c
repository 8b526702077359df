/*
 * api_sasl.c - SASL PLAIN (SaslHandshake v0-v1, SaslAuthenticate v0-v1):
 * with `serve --token T`, a Kafka client authenticates with any user name
 * and the password T, as HTTP clients send `Authorization: Bearer T`.
 * After SaslHandshake v1 the token comes in a SaslAuthenticate request
 * (librdkafka); after v0 it comes as a bare size-prefixed frame, which
 * listener.c reads (kafka-python). A failed authentication is answered,
 * then the connection closes, as Kafka does.
 */
#include <string.h>

#include "kafka/proto.h"

bool weir_kafka_plain_ok(const uint8_t *p, size_t len, const char *token)
{
    const uint8_t *user = memchr(p, 0, len);
    const uint8_t *pass = user ? memchr(user + 1, 0, len - (size_t)(user + 1 - p)) : NULL;
    if (!pass)
        return false;
    pass++;
    size_t n = len - (size_t)(pass - p), t = strlen(token);
    unsigned diff = n != t;
    for (size_t i = 0; i < n && i < t; i++) /* the time taken does not say how much matched */
        diff |= pass[i] ^ (uint8_t)token[i];
    return diff == 0;
}

weir_kresult weir_kafka_sasl_handshake(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait)
{
    (void)wait;
    weir_kslice mech = weir_kr_string(&q->body, false, false, "mechanism");
    if (!weir_kr_ok(&q->body))
        return KAFKA_MALFORMED;
    bool plain = mech.len == 5 && !memcmp(mech.data, "PLAIN", 5);
    bool wanted = c->token && !c->session->authenticated;
    weir_kw_i16(w, !wanted ? KERR_ILLEGAL_SASL_STATE : plain ? KERR_NONE : KERR_UNSUPPORTED_SASL_MECHANISM);
    weir_kw_array(w, false, 1);
    weir_kw_string(w, false, "PLAIN");
    if (wanted && plain && q->version == 0)
        c->session->raw_token_next = true;
    return KAFKA_ANSWER;
}

weir_kresult weir_kafka_sasl_authenticate(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait)
{
    (void)wait;
    weir_kslice auth = weir_kr_bytes(&q->body, false, false, "auth_bytes");
    if (!weir_kr_ok(&q->body))
        return KAFKA_MALFORMED;
    bool wanted = c->token && !c->session->authenticated;
    bool good = wanted && weir_kafka_plain_ok(auth.data, auth.len, c->token);
    weir_kw_i16(w, !wanted ? KERR_ILLEGAL_SASL_STATE : good ? KERR_NONE : KERR_SASL_AUTHENTICATION_FAILED);
    weir_kw_string(w, false, !wanted ? "this connection needs no authentication now" : good ? NULL
                                                                                          : "wrong user name or password");
    weir_kw_i32(w, 0); /* auth_bytes: empty */
    if (q->version >= 1)
        weir_kw_i64(w, 0); /* session_lifetime_ms: no re-authentication */
    if (good)
        c->session->authenticated = true;
    else if (wanted)
        c->session->close_after_answer = true;
    return KAFKA_ANSWER;
}
