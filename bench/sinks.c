/*
 * sinks.c (bench) - the sink connectors' delivery rate beside their
 * ceilings, measured in the same run on the same records (500,000 JSON
 * rows of about 150 bytes, 4 partitions, keyed, in batches of 50,000 as the
 * delivery threads send them):
 *   - Kafka: weir's kafka connector (idempotent producer, acks=all, headers,
 *     batches pipelined) into librdkafka's mock cluster, against
 *     a minimal librdkafka producer loop sending the same records to the
 *     same cluster with the same settings and one flush at the end;
 *   - ClickHouse (when WEIR_BENCH_CLICKHOUSE names a server's HTTP URL, as
 *     scripts/bench.sh arranges): weir's clickhouse connector (one INSERT
 *     per 50,000 rows) against one INSERT, through libcurl, of the same rows
 *     as the connector sends them into a table like the one it creates.
 * Usage: sinks [DIR]. Prints a markdown table.
 */
#include <curl/curl.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <string.h>

#include "base/hash.h"
#include "bench.h"
#include "conn/connectors.h"
#include "sql/ast.h"

#define RECORDS 500000
#define PARTS 4
#define BATCH 50000

static weir_sink_record *recs;
static weir_buf data;

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench/sinks: %s: %s\n", what, why);
    exit(1);
}

static void make_records(void)
{
    size_t *at = malloc(RECORDS * sizeof *at);
    recs = calloc(RECORDS, sizeof *recs);
    uint64_t next[PARTS] = {0};
    if (!at || !recs)
        die("memory", "out of memory");
    for (uint32_t i = 0; i < RECORDS; i++) {
        char key[32];
        int klen = snprintf(key, sizeof key, "user-%05u", (i * 7919u) % 50000u);
        uint32_t p = weir_partition_for_key(key, (size_t)klen, PARTS);
        at[i] = data.len;
        if (weir_buf_append(&data, key, (size_t)klen) ||
            weir_buf_printf(&data, "{\"id\":%u,\"user\":\"%s\",\"page\":\"/products/%u\",\"ms\":%u,"
                                   "\"agent\":\"Mozilla/5.0 (X11; Linux x86_64)\",\"ok\":true}", i, key, i % 977, i % 300))
            die("memory", "out of memory");
        recs[i] = (weir_sink_record){p, next[p]++, 1795400000000 + i, NULL, (size_t)klen, NULL, data.len - at[i] - (size_t)klen, NULL, 0};
    }
    for (uint32_t i = 0; i < RECORDS; i++) {
        recs[i].key = data.data + at[i];
        recs[i].value = data.data + at[i] + recs[i].key_len;
    }
    free(at);
}

/* A CREATE SINK statement with the given options, for the connectors. */
static weir_stmt *sink_stmt(weir_with_option *opts, int n)
{
    static weir_stmt st;
    st = (weir_stmt){.kind = WEIR_STMT_CREATE_SINK, .name = "bench", .from = "events", .with = opts, .nwith = n};
    return &st;
}

static double run_connector(const char *name, weir_with_option *opts, int nopts, const weir_relation *rel)
{
    const weir_sink_connector *c = weir_sink_connector_find(name);
    if (!c)
        die(name, "no such connector");
    weir_sink_config cfg = {c, sink_stmt(opts, nopts), rel, PARTS, "/tmp", NULL, NULL, NULL};
    void *state;
    weir_err err = {0};
    uint64_t next[PARTS];
    if (c->open(&cfg, &state, &err) || c->resume(state, next, PARTS, &err))
        die(c->name, err.msg);
    uint64_t t0 = weir_mono_ns();
    for (size_t i = 0; i < RECORDS; i += BATCH) /* as the delivery threads call it: more while a backlog lasts */
        if (c->deliver(state, recs + i, RECORDS - i < BATCH ? RECORDS - i : BATCH, i + BATCH < RECORDS, &err))
            die(c->name, err.msg);
    double secs = bench_secs(t0);
    if (c->resume(state, next, PARTS, &err))
        die(c->name, err.msg);
    uint64_t total = 0;
    for (int p = 0; p < PARTS; p++)
        total += next[p];
    if (total != RECORDS) {
        fprintf(stderr, "bench/sinks: %s: the destination has %llu of %d records\n", c->name, (unsigned long long)total, RECORDS);
        exit(1);
    }
    c->close(state);
    return RECORDS / secs;
}

static double kafka_ceiling(const char *brokers)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *settings[][2] = {{"bootstrap.servers", brokers}, {"enable.idempotence", "true"}, {"acks", "all"},
                                 {"linger.ms", "5"}, {"log_level", "2"}};
    for (size_t i = 0; i < sizeof settings / sizeof *settings; i++)
        if (rd_kafka_conf_set(conf, settings[i][0], settings[i][1], errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
            die("kafka ceiling", errstr);
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!p)
        die("kafka ceiling", errstr);
    uint64_t t0 = weir_mono_ns();
    for (size_t i = 0; i < RECORDS; i++)
        while (rd_kafka_producev(p, RD_KAFKA_V_TOPIC("ceiling"), RD_KAFKA_V_PARTITION((int32_t)recs[i].partition),
                                 RD_KAFKA_V_KEY(recs[i].key, recs[i].key_len),
                                 RD_KAFKA_V_VALUE((void *)recs[i].value, recs[i].value_len),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(p, 10);
    if (rd_kafka_flush(p, 60000))
        die("kafka ceiling", "flush timed out");
    double rate = RECORDS / bench_secs(t0);
    rd_kafka_destroy(p);
    return rate;
}

static size_t ignore(char *p, size_t size, size_t n, void *ctx)
{
    (void)p, (void)ctx;
    return size * n;
}

/* One INSERT of all the rows: as the connector sends them (with its two
 * columns, into a table ordered by them) or plain (the cost of those). */
static double clickhouse_ceiling(const char *url, bool as_connector)
{
    weir_buf body = {0}, q = {0};
    for (size_t i = 0; i < RECORDS; i++)
        if (as_connector ? weir_buf_append(&body, recs[i].value, recs[i].value_len - 1) ||
                               weir_buf_printf(&body, ",\"_weir_partition\":%u,\"_weir_offset\":%llu}\n",
                                               recs[i].partition, (unsigned long long)recs[i].offset)
                         : weir_buf_append(&body, recs[i].value, recs[i].value_len) || weir_buf_append(&body, "\n", 1))
            die("memory", "out of memory");
    CURL *c = curl_easy_init();
    long status = 0;
    const char *queries[] = {"DROP TABLE IF EXISTS ceiling",
                             as_connector
                                 ? "CREATE TABLE ceiling (id Nullable(Int64), user Nullable(String), page Nullable(String), "
                                   "ms Nullable(Int64), agent Nullable(String), ok Nullable(UInt8), _weir_partition UInt32, "
                                   "_weir_offset UInt64) ENGINE = MergeTree ORDER BY (_weir_partition, _weir_offset)"
                                 : "CREATE TABLE ceiling (id Nullable(Int64), user Nullable(String), page Nullable(String), "
                                   "ms Nullable(Int64), agent Nullable(String), ok Nullable(UInt8)) ENGINE = MergeTree "
                                   "ORDER BY tuple()",
                             "INSERT INTO ceiling FORMAT JSONEachRow"};
    double rate = 0;
    for (int k = 0; k < 3; k++) {
        char *e = curl_easy_escape(c, queries[k], 0);
        q.len = 0;
        weir_buf_printf(&q, "%s/?query=%s", url, e);
        weir_buf_append(&q, "", 1);
        curl_free(e);
        curl_easy_reset(c);
        curl_easy_setopt(c, CURLOPT_URL, (const char *)q.data);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, k == 2 ? (const char *)body.data : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(k == 2 ? body.len : 0));
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ignore);
        uint64_t t0 = weir_mono_ns();
        if (curl_easy_perform(c) != CURLE_OK || curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) || status != 200)
            die("clickhouse ceiling", queries[k]);
        rate = RECORDS / bench_secs(t0);
    }
    curl_easy_cleanup(c);
    weir_buf_free(&body);
    weir_buf_free(&q);
    return rate;
}

static double median3(double *v)
{
    double a = v[0], b = v[1], c = v[2];
    return a > b ? (b > c ? b : a > c ? c : a) : (a > c ? a : b > c ? c : b);
}

/* Runs weir's connector (or the ceiling) against a new mock cluster. */
static double with_mock_cluster(int round, const weir_relation *rel, bool connector)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
    rd_kafka_t *owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    rd_kafka_mock_cluster_t *mc = owner ? rd_kafka_mock_cluster_new(owner, 3) : NULL;
    if (!mc || rd_kafka_mock_topic_create(mc, "weir", PARTS, 3) || rd_kafka_mock_topic_create(mc, "ceiling", PARTS, 3))
        die("kafka", "cannot start the mock cluster");
    const char *brokers = rd_kafka_mock_cluster_bootstraps(mc);
    (void)round;
    double rate;
    if (connector) {
        weir_with_option kopts[] = {{.name = "connector", .value = weir_text("kafka", 5), .pos = {1, 1}},
                                    {.name = "topic", .value = weir_text("weir", 4), .pos = {1, 1}},
                                    {.name = "brokers", .value = weir_text(brokers, strlen(brokers)), .pos = {1, 1}}};
        rate = run_connector("kafka", kopts, 3, rel);
    } else {
        rate = kafka_ceiling(brokers);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(owner);
    return rate;
}

int main(void)
{
    make_records();
    weir_column cols[] = {{"id", WEIR_TYPE_INT}, {"user", WEIR_TYPE_TEXT}, {"page", WEIR_TYPE_TEXT},
                          {"ms", WEIR_TYPE_INT}, {"agent", WEIR_TYPE_TEXT}, {"ok", WEIR_TYPE_BOOL}};
    weir_relation rel = {.name = "events", .schema = {cols, 6}, .is_source = true, .partitions = PARTS};
    printf("## bench/sinks: %d records of %zu bytes on average, %d partitions, batches of %d\n\n", RECORDS,
           (data.len - (size_t)RECORDS * 10) / RECORDS, PARTS, BATCH);
    printf("| destination | weir's connector | ceiling (same records, same run) | ratio |\n|---|---|---|---|\n");
    double weir_rate[3], ceiling[3];
    for (int round = 0; round < 3; round++) { /* a fresh cluster each time: a loaded mock broker slows down */
        weir_rate[round] = with_mock_cluster(round, &rel, true);
        ceiling[round] = with_mock_cluster(round, &rel, false);
    }
    double rate = median3(weir_rate), top = median3(ceiling);
    printf("| Kafka (librdkafka mock cluster, 3 brokers, median of 3) | %.0f records/s | minimal librdkafka producer %.0f records/s | %.0f%% |\n",
           rate, top, 100 * rate / top);
    const char *ch = getenv("WEIR_BENCH_CLICKHOUSE");
    if (ch && *ch) {
        double direct = clickhouse_ceiling(ch, true), plain = clickhouse_ceiling(ch, false);
        weir_with_option copts[] = {{.name = "connector", .value = weir_text("clickhouse", 10), .pos = {1, 1}},
                                    {.name = "table", .value = weir_text("weir_bench", 10), .pos = {1, 1}},
                                    {.name = "url", .value = weir_text(ch, strlen(ch)), .pos = {1, 1}},
                                    {.name = "create", .value = weir_bool(true), .pos = {1, 1}}};
        rate = run_connector("clickhouse", copts, 4, &rel);
        printf("| ClickHouse 18.16 (HTTP, JSONEachRow) | %.0f rows/s | one INSERT of the same rows into the same table %.0f rows/s | %.0f%% |\n",
               rate, direct, 100 * rate / direct);
        printf("| (exactly once's cost) | | the rows without _weir_partition/_weir_offset, unordered table: %.0f rows/s | %.0f%% |\n",
               plain, 100 * rate / plain);
    } else {
        printf("| ClickHouse | (not measured: set WEIR_BENCH_CLICKHOUSE to a server's HTTP URL; scripts/bench.sh does) | | |\n");
    }
    printf("\npeak memory %ld MiB\n", bench_peak_rss_mb());
    weir_buf_free(&data);
    free(recs);
    return 0;
}
