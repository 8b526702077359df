/*
 * test_kafka_wire.c - the Kafka protocol codec (src/kafka): varints and
 * the reader's refusals of malformed input, request headers, record
 * batch v2 encoded and decoded again (uncompressed and with each codec,
 * compressed here by the codecs' own libraries), the decoder's errors
 * (CRC, magic, cut short, a decompression bomb), ApiVersions' answers,
 * for served and unserved versions, SASL PLAIN's checks, and a consumer
 * group's joins, sync, heartbeats and leaving.
 */
#include <lz4frame.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "../tap.h"
#include "base/clock.h"
#include "base/crc32c.h"
#include "kafka/batch.h"
#include "kafka/compress.h"
#include "kafka/proto.h"

static void test_varints(void)
{
    static const int64_t values[] = {0, -1, 1, 63, -64, 64, 300, -300, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN};
    weir_buf b = {0};
    weir_kw w = {&b, false};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        weir_kw_varint(&w, values[i]);
    weir_kr r;
    weir_kr_init(&r, b.data, b.len);
    int same = 1;
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        same &= weir_kr_varint(&r, "v") == values[i];
    ok(same && weir_kr_ok(&r) && weir_kr_left(&r) == 0, "zigzag varints round-trip, 64-bit extremes too");
    b.len = 0;
    weir_kw_uvarint(&w, 300);
    ok(b.len == 2 && b.data[0] == 0xAC && b.data[1] == 0x02, "uvarint 300 is AC 02, as protobuf writes it");
    weir_buf_free(&b);

    static const uint8_t eleven[11] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    weir_kr_init(&r, eleven, sizeof eleven);
    weir_kr_uvarint(&r, "record length");
    ok(!weir_kr_ok(&r) && strstr(r.err, "record length") && strstr(r.err, "longer than 10 bytes"),
       "a varint of 11 bytes is refused, naming the field (%s)", r.err);
}

static void test_reader_refusals(void)
{
    static const uint8_t two[2] = {0, 1};
    weir_kr r;
    weir_kr_init(&r, two, sizeof two);
    weir_kr_i32(&r, "timeout_ms");
    ok(!weir_kr_ok(&r) && strstr(r.err, "timeout_ms at byte 0: needs 4 bytes, 2 left"), "a cut-short int32 names its field and place (%s)",
       r.err);
    ok(weir_kr_i16(&r, "later") == 0 && !weir_kr_ok(&r) && strstr(r.err, "timeout_ms"), "and later reads give 0, keeping the first error");

    static const uint8_t neg[2] = {0xff, 0xfe};
    weir_kr_init(&r, neg, sizeof neg);
    weir_kr_string(&r, false, false, "topic name");
    ok(!weir_kr_ok(&r) && strstr(r.err, "length -2 is negative"), "a negative string length is refused (%s)", r.err);
    static const uint8_t null[2] = {0xff, 0xff};
    weir_kr_init(&r, null, sizeof null);
    weir_kslice s = weir_kr_string(&r, false, true, "transactional_id");
    ok(weir_kr_ok(&r) && s.null, "a nullable string of length -1 is null");

    static const uint8_t many[4] = {0x7f, 0xff, 0xff, 0xff};
    weir_kr_init(&r, many, sizeof many);
    weir_kr_array(&r, false, false, 4, "topics");
    ok(!weir_kr_ok(&r) && strstr(r.err, "cannot fit"), "an array count larger than the bytes left is refused before any allocation (%s)",
       r.err);

    static const uint8_t null_array[4] = {0xff, 0xff, 0xff, 0xff};
    weir_kr_init(&r, null_array, sizeof null_array);
    int32_t n = weir_kr_array(&r, false, true, 4, "topics");
    weir_kr_init(&r, null_array, sizeof null_array);
    weir_kr_array(&r, false, false, 8, "partition_data");
    ok(n == -1 && !weir_kr_ok(&r) && strstr(r.err, "null, where the protocol requires an array"),
       "a null array is -1 where nullable, else refused (%s): the fuzzer's double free", r.err);

    static const uint8_t tags[] = {2, 0, 1, 'x', 5, 9, 'y'};
    weir_kr_init(&r, tags, sizeof tags);
    weir_kr_tags(&r, "tagged fields");
    ok(!weir_kr_ok(&r) && strstr(r.err, "a tagged field of 9 bytes"), "a tagged field longer than the request is refused (%s)", r.err);
}

static void test_header(void)
{
    static const uint8_t v1[] = {0, 3, 0, 5, 0, 0, 0, 42, 0, 4, 'k', 'c', 'a', 't', 0, 0, 0, 0};
    weir_kreq q;
    ok(weir_kafka_header(v1, sizeof v1, &q) && q.key == KAFKA_METADATA && q.version == 5 && q.correlation_id == 42 &&
           q.client_id.len == 4 && !q.flexible && weir_kr_left(&q.body) == 4,
       "request header v1: key, version, correlation id, client id");
    static const uint8_t v2[] = {0, 18, 0, 3, 0, 0, 0, 7, 0xff, 0xff, 0, 3, 'r', 'd', 3, '2', '0', 0};
    ok(weir_kafka_header(v2, sizeof v2, &q) && q.flexible && q.client_id.null && weir_kr_left(&q.body) == 7,
       "request header v2 (ApiVersions v3): a null client id and an empty tagged-field section");
    ok(!weir_kafka_header(v2, 5, &q) && strstr(q.body.err, "correlation_id"), "a header cut short is refused (%s)",
       q.body.err);
}

static const weir_wire_header hdrs[] = {{"trace", 5, (const uint8_t *)"abc", 3}, {"empty", 5, NULL, 0}};

/* Three records: a key and two headers, no key, an empty key. */
static void sample(weir_wire_record *r)
{
    r[0] = (weir_wire_record){(const uint8_t *)"k1", 2, (const uint8_t *)"{\"a\":1}", 7, 1700000000000, hdrs, 2, 10};
    r[1] = (weir_wire_record){NULL, 0, (const uint8_t *)"{\"a\":2}", 7, 1700000000500, NULL, 0, 11};
    r[2] = (weir_wire_record){(const uint8_t *)"", 0, (const uint8_t *)"{}", 2, 1699999999000, NULL, 0, 13};
}

static void encode(weir_buf *b)
{
    weir_wire_record r[3];
    sample(r);
    weir_kw w = {b, false};
    weir_kbatch_builder bb;
    weir_kbatch_begin(&bb, &w);
    for (int i = 0; i < 3; i++)
        weir_kbatch_add(&bb, &w, &r[i]);
    weir_kbatch_finish(&bb, &w);
}

static bool same_records(const weir_kbatches *d)
{
    weir_wire_record r[3];
    sample(r);
    if (d->n != 3)
        return false;
    for (int i = 0; i < 3; i++) {
        const weir_wire_record *a = &d->recs[i], *e = &r[i];
        if ((a->key == NULL) != (e->key == NULL) || a->key_len != e->key_len || (a->key && memcmp(a->key, e->key, e->key_len)) ||
            a->value_len != e->value_len || memcmp(a->value, e->value, e->value_len) || a->ts_ms != e->ts_ms ||
            a->nheaders != e->nheaders)
            return false;
    }
    const weir_wire_header *h = d->recs[0].headers;
    return h[0].name_len == 5 && !memcmp(h[0].name, "trace", 5) && h[0].value_len == 3 && !memcmp(h[0].value, "abc", 3) &&
           h[1].value == NULL;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* The batch in b rebuilt with its records compressed as codec. */
static bool recompress(weir_buf *b, int codec, bool xerial)
{
    const uint8_t *plain = b->data + WEIR_KBATCH_HEADER;
    size_t n = b->len - WEIR_KBATCH_HEADER, cap = 1024 + n * 2, len = cap;
    uint8_t *z = malloc(cap);
    bool good = z != NULL;
    if (good && codec == WEIR_KCODEC_GZIP) {
        z_stream s = {0};
        good = deflateInit2(&s, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK;
        s.next_in = (Bytef *)plain;
        s.avail_in = (uInt)n;
        s.next_out = z;
        s.avail_out = (uInt)cap;
        good = good && deflate(&s, Z_FINISH) == Z_STREAM_END;
        len = s.total_out;
        deflateEnd(&s);
    } else if (good && codec == WEIR_KCODEC_ZSTD) {
        len = ZSTD_compress(z, cap, plain, n, 3);
        good = !ZSTD_isError(len);
    } else if (good && codec == WEIR_KCODEC_LZ4) {
        len = LZ4F_compressFrame(z, cap, plain, n, NULL);
        good = !LZ4F_isError(len);
    } else if (good && codec == WEIR_KCODEC_SNAPPY) {
        size_t at = xerial ? 20 : 0;
        static const uint8_t head[16] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
        len = cap - at;
        good = snappy_compress((const char *)plain, n, (char *)z + at, &len) == SNAPPY_OK;
        if (xerial) {
            memcpy(z, head, 16);
            put_be32(z + 16, (uint32_t)len);
            len += 20;
        }
    }
    if (good) {
        b->len = WEIR_KBATCH_HEADER;
        good = weir_buf_append(b, z, len) == 0;
        put_be32(b->data + 8, (uint32_t)(b->len - 12));
        b->data[22] = (uint8_t)codec; /* attributes' low byte */
        put_be32(b->data + 17, weir_crc32c(0, b->data + 21, b->len - 21));
    }
    free(z);
    return good;
}

static void test_batches(void)
{
    weir_buf b = {0};
    encode(&b);
    weir_kbatches d = {0};
    char err[300];
    int rc = weir_kbatches_decode(b.data, b.len, &d, err, sizeof err);
    ok(rc == 0 && same_records(&d), "a batch encoded decodes to its records: keys (none, empty), headers (a null value), timestamps");
    ok(b.data[16] == 2 && b.data[57] == 0 && b.data[60] == 3 && b.data[26] == 3,
       "its header says magic 2, 3 records, lastOffsetDelta 3 (offsets 10, 11, 13)");
    weir_kbatches_free(&d);

    static const char *names[] = {"", "gzip", "snappy", "lz4", "zstd"};
    for (int codec = WEIR_KCODEC_GZIP; codec <= WEIR_KCODEC_ZSTD; codec++) {
        b.len = 0;
        encode(&b);
        bool made = recompress(&b, codec, false);
        rc = weir_kbatches_decode(b.data, b.len, &d, err, sizeof err);
        ok(made && rc == 0 && same_records(&d), "a %s batch decodes to its records%s%s", names[codec], rc ? ": " : "",
           rc ? err : "");
        weir_kbatches_free(&d);
    }
    b.len = 0;
    encode(&b);
    bool made = recompress(&b, WEIR_KCODEC_SNAPPY, true);
    rc = weir_kbatches_decode(b.data, b.len, &d, err, sizeof err);
    ok(made && rc == 0 && same_records(&d), "a snappy batch in the Java client's xerial framing decodes too");
    weir_kbatches_free(&d);

    b.len = 0;
    encode(&b);
    b.data[b.len - 1] ^= 1;
    rc = weir_kbatches_decode(b.data, b.len, &d, err, sizeof err);
    ok(rc == WEIR_KERR_CORRUPT_MESSAGE && strstr(err, "CRC-32C does not match"), "a flipped bit fails the CRC (%s)", err);
    weir_kbatches_free(&d);
    b.data[b.len - 1] ^= 1;
    b.data[16] = 1;
    rc = weir_kbatches_decode(b.data, b.len, &d, err, sizeof err);
    ok(rc == WEIR_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT && strstr(err, "magic 1"), "a message set v1 is refused (%s)", err);
    weir_kbatches_free(&d);
    b.data[16] = 2;
    rc = weir_kbatches_decode(b.data, b.len - 5, &d, err, sizeof err);
    ok(rc == WEIR_KERR_CORRUPT_MESSAGE && strstr(err, "batchLength"), "a batch cut short is refused (%s)", err);
    weir_kbatches_free(&d);
    b.len = 0;
    encode(&b);
    b.data[60] = 4; /* four records claimed, three there */
    put_be32(b.data + 17, weir_crc32c(0, b.data + 21, b.len - 21));
    rc = weir_kbatches_decode(b.data, b.len, &d, err, sizeof err);
    ok(rc == WEIR_KERR_CORRUPT_MESSAGE && strstr(err, "record 3 of 4"), "a count the records do not fill is refused (%s)", err);
    weir_kbatches_free(&d);

    size_t big = WEIR_KAFKA_MAX_PLAIN + 4096, zcap = ZSTD_compressBound(big);
    uint8_t *zeros = calloc(1, big), *z = malloc(zcap);
    size_t zlen = zeros && z ? ZSTD_compress(z, zcap, zeros, big, 1) : 0;
    weir_buf out = {0};
    rc = zlen && !ZSTD_isError(zlen) ? weir_kafka_decompress(WEIR_KCODEC_ZSTD, z, zlen, &out, err, sizeof err) : 0;
    ok(rc == -1 && strstr(err, "more than") && out.len <= WEIR_KAFKA_MAX_PLAIN + (64u << 10),
       "a %zu-byte zstd bomb stops at the decompression limit (%s)", zlen, err);
    weir_buf_free(&out);
    free(zeros);
    free(z);
    weir_buf_free(&b);
}

/* Dispatches a request (header + body bytes) and returns the answer's body. */
static weir_kresult call(const uint8_t *req, size_t len, weir_buf *out)
{
    weir_kreq q;
    weir_kwait *wait = NULL;
    weir_kctx c = {.host = "127.0.0.1", .port = 9092};
    weir_kw w = {out, false};
    out->len = 0;
    if (!weir_kafka_header(req, len, &q))
        return KAFKA_MALFORMED;
    return weir_kafka_dispatch(&c, &q, &w, &wait);
}

static void test_api_versions(void)
{
    weir_buf out = {0};
    static const uint8_t v3[] = {0, 18, 0, 3, 0, 0, 0, 1, 0, 2, 'c', 'l', 0, 3, 'r', 'd', 4, '2', '.', '0', 0};
    weir_kresult res = call(v3, sizeof v3, &out);
    ok(res == KAFKA_ANSWER && out.len > 3 && out.data[0] == 0 && out.data[1] == 0 && out.data[2] == weir_kafka_napis + 1,
       "ApiVersions v3 answers no error and a compact array of %d APIs", weir_kafka_napis);
    static const uint8_t v9[] = {0, 18, 0, 9, 0, 0, 0, 1, 0, 0, 0};
    res = call(v9, sizeof v9, &out);
    ok(res == KAFKA_ANSWER && out.len == 6 + (size_t)weir_kafka_napis * 6 && out.data[1] == KERR_UNSUPPORTED_VERSION,
       "ApiVersions v9 answers UNSUPPORTED_VERSION with the v0 list of what is served");
    static const uint8_t create[] = {0, 37, 0, 0, 0, 0, 0, 1, 0, 0};
    res = call(create, sizeof create, &out);
    ok(res == KAFKA_ANSWER && out.len == 2 && out.data[1] == KERR_UNSUPPORTED_VERSION,
       "an API weir does not serve (CreatePartitions) answers UNSUPPORTED_VERSION rather than closing");
    static const uint8_t v3cut[] = {0, 18, 0, 3, 0, 0, 0, 1, 0, 0, 0, 9, 'x'};
    res = call(v3cut, sizeof v3cut, &out);
    ok(res == KAFKA_MALFORMED, "ApiVersions v3 with a client name longer than the request is malformed");
    weir_buf_free(&out);
}

static void test_sasl(void)
{
    ok(weir_kafka_plain_ok((const uint8_t *)"\0user\0s3cret", 12, "s3cret") &&
           weir_kafka_plain_ok((const uint8_t *)"authz\0u\0s3cret", 14, "s3cret"),
       "a PLAIN token with the password passes, with or without an authorization id");
    ok(!weir_kafka_plain_ok((const uint8_t *)"\0user\0s3cre", 11, "s3cret") &&
           !weir_kafka_plain_ok((const uint8_t *)"\0user\0s3cretX", 13, "s3cret") &&
           !weir_kafka_plain_ok((const uint8_t *)"user s3cret", 11, "s3cret") &&
           !weir_kafka_plain_ok((const uint8_t *)"", 0, "s3cret"),
       "a shorter, longer or malformed token does not");
    weir_ksession session = {0};
    weir_kctx c = {.token = "s3cret", .session = &session, .host = "127.0.0.1", .port = 9092};
    weir_buf out = {0};
    weir_kw w = {&out, false};
    weir_kreq q;
    weir_kwait *wait;
    static const uint8_t meta[] = {0, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff};
    bool parsed = weir_kafka_header(meta, sizeof meta, &q);
    weir_kresult res = weir_kafka_dispatch(&c, &q, &w, &wait);
    ok(parsed && res == KAFKA_MALFORMED && strstr(q.body.err, "not authenticated"),
       "with a token, Metadata before SASL is refused (%s)", q.body.err);
    static const uint8_t auth[] = {0, 36, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 11, 0, 'u', 0, 'w', 'r', 'o', 'n', 'g', 'p', 'w', 'd'};
    out.len = 0;
    parsed = weir_kafka_header(auth, sizeof auth, &q);
    res = weir_kafka_dispatch(&c, &q, &w, &wait);
    ok(parsed && res == KAFKA_ANSWER && out.len > 2 && out.data[1] == KERR_SASL_AUTHENTICATION_FAILED &&
           session.close_after_answer && !session.authenticated,
       "a wrong password answers SASL_AUTHENTICATION_FAILED and the connection is to close");
    weir_buf_free(&out);
}

/* A request's frame payload: header (key, version, correlation 1, client id "c") and body. */
static size_t request(uint8_t *out, int16_t key, int16_t version, const uint8_t *body, size_t len)
{
    const uint8_t head[] = {0, (uint8_t)key, 0, (uint8_t)version, 0, 0, 0, 1, 0, 1, 'c'};
    memcpy(out, head, sizeof head);
    memcpy(out + sizeof head, body, len);
    return sizeof head + len;
}

static weir_kresult group_call(weir_kgroups *g, int16_t key, int16_t version, const uint8_t *body, size_t len,
                               weir_buf *out, weir_kwait **wait)
{
    uint8_t frame[256];
    weir_kreq q;
    weir_kctx c = {.host = "127.0.0.1", .port = 9092, .groups = g};
    weir_kw w = {out, false};
    out->len = 0;
    *wait = NULL;
    weir_kafka_header(frame, request(frame, key, version, body, len), &q);
    return weir_kafka_dispatch(&c, &q, &w, wait);
}

static void test_groups(void)
{
    weir_kgroups *g = weir_kgroups_new();
    weir_buf out = {0};
    weir_kwait *wait;
    /* JoinGroup v0: group "g", session 6000, member "a", type "consumer", one protocol "range" with 1 byte. */
    static const uint8_t join_a[] = {0, 1, 'g', 0, 0, 0x17, 0x70, 0, 1, 'a', 0, 8, 'c', 'o', 'n', 's', 'u', 'm', 'e', 'r',
                                     0, 0, 0, 1, 0, 5, 'r', 'a', 'n', 'g', 'e', 0, 0, 0, 1, 'A'};
    weir_kresult res = group_call(g, KAFKA_JOIN_GROUP, 0, join_a, sizeof join_a, &out, &wait);
    /* error 0, generation 1, protocol "range", leader "a", member "a", 1 member */
    ok(res == KAFKA_ANSWER && out.len > 20 && out.data[1] == 0 && out.data[5] == 1 && !memcmp(out.data + 8, "range", 5) &&
           out.data[15] == 'a' && out.data[18] == 'a' && out.data[22] == 1,
       "a lone member's JoinGroup is answered at once: generation 1, it leads, with its own metadata");
    /* SyncGroup v0 by the leader: generation 1, member "a", assignment for "a": "P0". */
    static const uint8_t sync_a[] = {0, 1, 'g', 0, 0, 0, 1, 0, 1, 'a', 0, 0, 0, 1, 0, 1, 'a', 0, 0, 0, 2, 'P', '0'};
    res = group_call(g, KAFKA_SYNC_GROUP, 0, sync_a, sizeof sync_a, &out, &wait);
    ok(res == KAFKA_ANSWER && out.len == 8 && out.data[1] == 0 && !memcmp(out.data + 6, "P0", 2),
       "the leader's SyncGroup hands it its own part of the assignment");
    static const uint8_t join_b[] = {0, 1, 'g', 0, 0, 0x17, 0x70, 0, 1, 'b', 0, 8, 'c', 'o', 'n', 's', 'u', 'm', 'e', 'r',
                                     0, 0, 0, 1, 0, 5, 'r', 'a', 'n', 'g', 'e', 0, 0, 0, 1, 'B'};
    res = group_call(g, KAFKA_JOIN_GROUP, 0, join_b, sizeof join_b, &out, &wait);
    weir_kwait *b_join = wait;
    static const uint8_t beat_a[] = {0, 1, 'g', 0, 0, 0, 1, 0, 1, 'a'};
    weir_kwait *none;
    weir_buf beat = {0};
    weir_kresult hb = group_call(g, KAFKA_HEARTBEAT, 0, beat_a, sizeof beat_a, &beat, &none);
    ok(res == KAFKA_WAIT && hb == KAFKA_ANSWER && beat.len == 2 && beat.data[1] == KERR_REBALANCE_IN_PROGRESS,
       "a second member's JoinGroup waits for the rebalance, and the first learns of it from its Heartbeat");
    res = group_call(g, KAFKA_JOIN_GROUP, 0, join_a, sizeof join_a, &out, &wait);
    weir_buf b_out = {0};
    weir_kw bw = {&b_out, false};
    weir_kctx c = {.groups = g};
    int b_done = b_join ? b_join->poll(b_join, &c, &bw, weir_wall_ms()) : 0;
    ok(res == KAFKA_ANSWER && out.data[5] == 2 && out.data[22] == 2 && b_done && b_out.data[5] == 2 && b_out.data[22] == 0,
       "once both rejoined: generation 2, the leader gets both members' metadata, the follower none");
    if (b_join)
        b_join->free(b_join);
    static const uint8_t leave_a[] = {0, 1, 'g', 0, 1, 'a'};
    res = group_call(g, KAFKA_LEAVE_GROUP, 0, leave_a, sizeof leave_a, &out, &wait);
    weir_kgroups_tick(g, weir_wall_ms() + 60000); /* b's session is over too */
    hb = group_call(g, KAFKA_HEARTBEAT, 0, beat_a, sizeof beat_a, &beat, &none);
    ok(res == KAFKA_ANSWER && out.data[1] == 0 && beat.data[1] == KERR_UNKNOWN_MEMBER_ID,
       "LeaveGroup and session timeouts empty the group: its members are unknown afterwards");
    weir_buf_free(&out);
    weir_buf_free(&b_out);
    weir_buf_free(&beat);
    weir_kgroups_free(g);
}

int main(void)
{
    plan(38);
    test_varints();
    test_reader_refusals();
    test_header();
    test_batches();
    test_api_versions();
    test_sasl();
    test_groups();
    return done();
}
