/*
 * fuzz_kafka.c - the Kafka protocol's decoder on hostile input: each input
 * is one request's payload (its header and body, the size prefix taken
 * off), answered by weir_kafka_dispatch as the listener would, over a real
 * runtime whose log holds a stream of two partitions with records. The
 * seed corpus (fuzz/corpus/kafka/) is requests of every type kcat,
 * kafka-python and confluent-kafka sent, and requests built by hand from
 * the protocol guide where the point is an edge (an idempotent batch, a
 * transactional id); in a Produce request, every
 * place that looks like a record batch gets its CRC fixed, so mutations
 * reach the record decoder and the codecs behind the checksum.
 *
 * SASL requests are answered as by a server with a token (its checks of the
 * PLAIN token), every other one as by a server without.
 *
 * The runtime has hung up (weir_runtime_hang_up) before the first input:
 * a produce is decoded and checked, then refused at the append (and
 * CreateTopics and InitProducerId likewise), so nothing needs a pipeline
 * thread. Whatever the input, the answer is
 * written or the request refused as malformed, and a waiting fetch
 * answers once its time is up.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/crc32c.h"
#include "conn/connectors.h"
#include "exec/runner.h"
#include "fuzz.h"
#include "kafka/proto.h"
#include "log/log.h"
#include "sql/sql.h"

static weir_runtime *rt;
static weir_kgroups *groups;  /* consumer groups' members: each input's join leaves them, by their timeouts, at its end */
static weir_producers *producers; /* idempotent producers (InitProducerId is refused: the runtime hung up) */
static weir_log *flog;     /* (not "log": a built-in) */
static char dir[] = "/tmp/weir-fuzz-kafka-XXXXXX";

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* The runtime, the log and the data directory go at exit. */
static void cleanup(void)
{
    weir_runtime_close(rt, false);
    weir_kgroups_free(groups);
    weir_producers_free(producers);
    weir_log_close(flog, NULL);
    nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const char sql[] = "CREATE STREAM events (id INT, name TEXT) WITH (partitions = 2);";

/* A data directory with records, and a runtime over it (once per process). */
static void setup(void)
{
    static weir_arena arena;
    static weir_catalog cat;
    weir_stream *st;
    weir_err err;
    weir_stmt **stmts;
    size_t n;
    weir_sql_error e;
    if (!mkdtemp(dir) || weir_log_open(dir, NULL, &flog, &err) ||
        weir_stream_create(flog, "events", &(weir_stream_config){.partitions = 2}, &st, &err))
        abort();
    for (int i = 0; i < 20; i++) {
        char v[40];
        int len = snprintf(v, sizeof v, "{\"id\":%d,\"name\":\"n%d\"}", i, i % 3);
        weir_record rec = {(const uint8_t *)"k", 1, (const uint8_t *)v, (size_t)len, NULL, 0, 1700000000000 + i, 0};
        if (weir_stream_append(st, i % 2, &rec, NULL, NULL, &err))
            abort();
    }
    static weir_runner_options ro = {.idle_ms = -1};
    weir_runtime_options rto = {.runner = &ro};
    if (weir_log_commit(flog, &err) || weir_sql_parse(sql, sizeof sql - 1, &arena, &stmts, &n, &e) ||
        weir_catalog_build(stmts, n, &arena, &cat, &e) || weir_connectors_check(&cat, &arena, &e) ||
        weir_runtime_open(flog, &cat, sql, sizeof sql - 1, &rto, &rt, &err))
        abort();
    weir_runtime_hang_up(rt);
    if (!(groups = weir_kgroups_new()) || !(producers = weir_producers_new()))
        abort();
    atexit(cleanup);
}

/* Fixes the CRC of everything that looks like a record batch v2 (magic 2
 * at +16, a length that fits). */
static void fix_crcs(uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 61 <= n; i++) {
        if (p[i + 16] != 2)
            continue;
        uint32_t len = (uint32_t)p[i + 8] << 24 | (uint32_t)p[i + 9] << 16 | (uint32_t)p[i + 10] << 8 | p[i + 11];
        if (len < 49 || len > n - i - 12)
            continue;
        uint32_t crc = weir_crc32c(0, p + i + 21, len - 9);
        for (int b = 0; b < 4; b++)
            p[i + 17 + b] = (uint8_t)(crc >> (24 - 8 * b));
    }
}

static void answer(const uint8_t *data, size_t size)
{
    weir_kreq q;
    if (!weir_kafka_header(data, size, &q))
        return;
    weir_buf out = {0};
    weir_kw w = {&out, false};
    weir_ksession session = {0};
    weir_kctx c = {.rt = rt, .host = "127.0.0.1", .port = 9092, .groups = groups, .producers = producers};
    if (q.key == KAFKA_SASL_HANDSHAKE || q.key == KAFKA_SASL_AUTHENTICATE) { /* as a server with --token */
        c.token = "s3cret";
        c.session = &session;
    }
    weir_kwait *wait = NULL;
    weir_kresult res = weir_kafka_dispatch(&c, &q, &w, &wait);
    if (res == KAFKA_MALFORMED && !q.body.err[0])
        abort(); /* a refusal always says why */
    if (res == KAFKA_WAIT) {
        weir_kw ww = {&out, false};
        if (!wait->poll(wait, &c, &ww, INT64_MAX)) /* its time is up: it answers */
            abort();
        wait->free(wait);
    }
    weir_kgroups_tick(groups, INT64_MAX); /* every member's session is over */
    weir_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!rt)
        setup();
    answer(data, size);
    if (size >= 2 && data[0] == 0 && data[1] == KAFKA_PRODUCE) {
        uint8_t *fixed = malloc(size);
        if (!fixed)
            return 0;
        memcpy(fixed, data, size);
        fix_crcs(fixed, size);
        answer(fixed, size);
        free(fixed);
    }
    return 0;
}
