/*
 * serve.c - `weir serve -f pipeline.sql`: runs a pipeline continuously
 * over the embedded log until Ctrl-C (or, with --once, until it has
 * processed everything in the log), checkpointing as it goes and once
 * more on the way out.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/duration.h"
#include "base/io.h"
#include "cli/cli.h"
#include "conn/connectors.h"
#include "conn/kafka_client.h"
#include "conn/kafka_source.h"
#include "conn/kafka_state.h"
#include "conn/sink.h"
#include "exec/runner.h"
#include "kafka/listener.h"
#include "runtime/groups.h"
#include "server/server.h"

static const cli_option options[] = {
    {"file", 'f', "PIPELINE", "the pipeline's SQL (required)"},
    {"data", 'd', "DIR", "data directory (default ./weir-data or $WEIR_DATA)"},
    {"checkpoint-ms", 0, "MS", "checkpoint interval (default 1000)"},
    {"idle-ms", 0, "MS", "a partition quiet this long stops holding windows open (default 5000; 0: never)"},
    {"reset", 0, NULL, "forget the checkpoint: empty the pipeline's outputs and reprocess its inputs from the start"},
    {"once", 0, NULL, "process what the log holds as a bounded input (every window closes), checkpoint, exit"},
    {"stdin", 0, "STREAM", "also append NDJSON records read from standard input to this source stream"},
    {"listen", 0, "ADDR", "HTTP address (default 127.0.0.1:8080; with --once: off); 'off': no HTTP"},
    {"token", 0, "TOKEN", "HTTP requests need 'Authorization: Bearer TOKEN' (default $WEIR_TOKEN; /healthz is open)"},
    {"tls-cert", 0, "FILE", "serve HTTPS with this PEM certificate (or chain), with --tls-key (default: HTTP)"},
    {"tls-key", 0, "FILE", "the PEM file of --tls-cert's private key"},
    {"web", 0, "DIR", "the dashboard's files (default: web/ beside the directory of the weir binary)"},
    {"max-body", 0, "BYTES", "largest HTTP request body (default 67108864)"},
    {"kafka", 0, "BROKERS", "put every stream on Kafka topics of their names (and the brokers of sinks and streams that name none)"},
    {"retention", 0, "DURATION", "streams and dead-letter streams that do not say WITH (retention = ...) keep records "
                                 "this long: '7 days' (default), '12 hours', milliseconds, 'forever'; tables' changelogs "
                                 "are compacted instead"},
    {"disk-quota", 0, "BYTES", "ingest answers 503 while the log's segments hold more than this (default: none)"},
    {"min-free", 0, "BYTES", "ingest answers 503 while the data directory's disk has less free; after the disk filled "
                             "up, the pipeline resumes once this much is free (default 67108864; 0: only a full disk)"},
    {"kafka-config", 0, "FILE", "librdkafka properties (name=value lines, as kcat -F reads) for every Kafka client: "
                                "security.protocol, sasl.*, ssl.*, ..."},
    {"kafka-group", 0, "NAME", "the Kafka consumer group that learns the pipeline's input offsets (default weir)"},
    {"schemas", 0, "DIR", "register each DIR/<subject>.json in the schema registry at start (if not its latest version)"},
    {"clickhouse", 0, "URL", "deliver every stream and table to a ClickHouse table of its name (created if missing)"},
    {"max-bodies", 0, "BYTES", "request bodies held in memory at once, all connections together; beyond, 503 (default 1073741824)"},
    {"threads", 0, "N", "threads running the queries that keep their state per partition (filters, projections, "
                        "GROUP BY the input's key) partition by partition, each partition's state owned by one "
                        "(default and 0: the number of cores)"},
    {"state-memory", 0, "BYTES", "state kept in memory beside the state store (tables' rows, aggregation groups); past it, "
                                 "what the store holds leaves memory after each checkpoint, least recently changed first "
                                 "(default 268435456; 0: no bound)"},
    {"max-inflight", 0, "BYTES", "ingested bytes that may wait for their commit; beyond, 503 (default 268435456)"},
    {"scale-out", 0, NULL, "share the Kafka inputs' partitions with the other processes of --kafka-group, each keeping "
                           "the state of its own (needs --kafka; see README)"},
    {"kafka-exactly-once", 0, NULL, "with --scale-out: each task writes its output rows, dead letters and state in "
                                    "one Kafka transaction per checkpoint (a transactional producer per owned input "
                                    "partition), so a takeover emits nothing twice; needs a real cluster (see "
                                    "docs/SCALE_OUT.md)"},
    {"advertise", 0, "URL", "with --scale-out: where the others send pull queries for this process's keys "
                            "(default http://ADDR of --listen)"},
    {"header-timeout", 0, "S", "a request's headers must arrive within S seconds of the connection or the previous "
                               "answer, else the connection closes (default 10)"},
    {"body-timeout", 0, "S", "a request's body must arrive within S seconds of its headers (default 60)"},
    {"max-connections", 0, "N", "open HTTP connections at once (default 4096)"},
    {"max-connections-per-address", 0, "N", "open HTTP connections from one client address (default 256)"},
    {"cors", 0, "ORIGIN", "let web pages of ORIGIN (e.g. https://app.example) call the API from a browser (default: none)"},
    {"query-timeout", 0, "S", "a pull query (POST /v1/query, GET /v1/tables/T, endpoints) not answered within S "
                              "seconds is answered 503 (default 30)"},
    {"max-result-bytes", 0, "BYTES", "a pull query that would hold or answer more is answered 413 (default 67108864)"},
    {"max-feeds", 0, "N", "change feeds and push queries open at once; beyond, a new one is answered 503 (default 1000)"},
    {"kafka-listen", 0, "ADDR", "also speak the Kafka protocol on ADDR (e.g. 127.0.0.1:9092): Kafka clients produce "
                                "to and consume from the streams, with SASL PLAIN and --token's password if "
                                "set (default: off; see docs/KAFKA_PROTOCOL.md)"},
};

static int run_serve(const char **v, int argc, char **argv);

/* The Kafka listener's word on a client gone wrong. */
static void kafka_log(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "weir serve: %s\n", line);
}

const cli_command cli_serve = {
    .name = "serve",
    .usage = "-f PIPELINE",
    .summary = "run a pipeline continuously over the data directory's streams",
    .description = "Source streams are created if missing. Tables and derived streams are written to\n"
                   "streams of their names, refused records to <stream>.dlq. State is checkpointed\n"
                   "with the read offsets; a restart continues exactly where the checkpoint was.\n"
                   "The HTTP API and the dashboard are served on --listen (see README, HTTP API).",
    .options = options,
    .noptions = sizeof options / sizeof options[0],
    .min_args = 0,
    .max_args = 0,
    .run = run_serve,
};

static volatile sig_atomic_t stopping;
static void on_signal(int sig) { (void)sig; stopping = 1; }

/* This process's id in a scale-out group: DIR/instance, made once (random)
 * and kept, so that a restarted process recognises what it wrote. */
static int instance_id(const char *data_dir, char *out, size_t cap, weir_err *err)
{
    char path[PATH_MAX], *text;
    snprintf(path, sizeof path, "%s/instance", data_dir);
    int rc = weir_io_read_file(&weir_io_posix, path, &text, NULL, err);
    if (rc == WEIR_OK) {
        snprintf(out, cap, "%.*s", (int)strcspn(text, "\n"), text);
        free(text);
        return *out ? WEIR_OK : weir_err_set(err, WEIR_ECORRUPT, "%s is empty: remove it to get a new instance id", path);
    }
    if (rc != WEIR_ENOENT)
        return rc;
    uint8_t bytes[8];
    if (getrandom(bytes, sizeof bytes, 0) != (ssize_t)sizeof bytes)
        return weir_err_set(err, WEIR_EIO, "getrandom: cannot make an instance id");
    snprintf(out, cap, "weir-%02x%02x%02x%02x%02x%02x%02x%02x", bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5],
             bytes[6], bytes[7]);
    weir_err_clear(err);
    return weir_io_write_file_atomic(&weir_io_posix, path, out, strlen(out), err);
}

/* One line per query on the way out: what went in and out, and what its state costs. */
static void print_stats(const weir_runtime *rt)
{
    const weir_catalog *cat = weir_runtime_catalog(rt);
    for (int i = 0; i < cat->nqueries; i++) {
        weir_query_stats st;
        weir_runtime_query_stats(rt, i, &st);
        fprintf(stderr, "weir serve: %s: %llu in, %llu out, %llu dead letters (%llu late)", cat->queries[i]->name,
                (unsigned long long)st.rows_in, (unsigned long long)st.rows_out, (unsigned long long)st.dead,
                (unsigned long long)st.late);
        if (st.groups)
            fprintf(stderr, ", %llu groups in %llu KiB (%llu-byte entries)", (unsigned long long)st.groups,
                    (unsigned long long)(st.state_bytes / 1024), (unsigned long long)st.entry_bytes);
        if (st.partition_engines) /* --threads: its input is partition-parallel */
            fprintf(stderr, ", per partition (%u engines)", st.partition_engines);
        else if (st.unplaced)
            fprintf(stderr, ", in one engine: the records of %s are not known to be in their key's partitions "
                    "(appended without its key, or by Kafka clients)", cat->queries[i]->source->name);
        fputc('\n', stderr);
    }
    uint64_t dead[WEIR_DEAD_REASONS] = {0};
    for (int i = 0; i < cat->nrels; i++)
        weir_runtime_dead_counts(rt, cat->rels[i], dead);
    fprintf(stderr, "weir serve: dead letters by reason:");
    for (int k = 0; k < WEIR_DEAD_REASONS; k++)
        fprintf(stderr, "%s %llu %s", k ? "," : "", (unsigned long long)dead[k], weir_dead_reason_name((weir_dead_reason)k));
    fputc('\n', stderr);
}

/* The dashboard's files relative to the directory holding the binary: web/
 * beside it in a source tree (build/weir -> web/), or where make install
 * puts them (PREFIX/bin/weir -> PREFIX/share/weir/web); NULL if neither. */
static const char *default_web_dir(char *out, size_t cap)
{
    static const char *const places[] = {"../web", "../share/weir/web"};
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    for (size_t i = 0; i < sizeof places / sizeof places[0]; i++) {
        snprintf(out, cap, "%s/%s/index.html", exe, places[i]);
        if (access(out, R_OK) == 0) {
            snprintf(out, cap, "%s/%s", exe, places[i]);
            return out;
        }
    }
    return NULL;
}

/* A failed start; a full disk is named as such, with what to do. */
static void start_error(const char *data, const weir_err *err)
{
    if (err->code == WEIR_ENOSPC)
        cli_error("serve", "the disk of %s is full (%s): free some space and start again", data, err->msg);
    else
        cli_error("serve", "%s", err->msg);
}

/* What serve's options add to a pipeline's plan. */
typedef struct plan_options {
    const char *kafka, *group, *clickhouse;
    const char *const *kafka_config;
    bool scale_out;             /* GROUP BY on other columns than the key goes through a repartition topic */
    bool exactly_once;          /* --kafka-exactly-once: the tasks write the outputs' topics in transactions */
} plan_options;

/* The runtime's plan (runtime.h): the pipeline file at start, and it with
 * the statements added at runtime. */
static int plan_pipeline(void *ctx, const char *sql, size_t len, weir_arena *a, weir_catalog *out, weir_sql_error *e)
{
    const plan_options *po = ctx;
    weir_stmt **stmts;
    size_t n;
    weir_err err = {0};
    if (weir_sql_parse(sql, len, a, &stmts, &n, e) || weir_catalog_build(stmts, n, a, out, e) ||
        weir_connectors_check(out, a, e) || (po->scale_out && weir_catalog_repartition(out, a, po->group, e)))
        return WEIR_EINVAL;
    if (weir_kafka_plan(out, a, po->kafka, po->group, po->kafka_config, po->exactly_once, &err) ||
        (po->clickhouse && weir_clickhouse_plan(out, a, po->clickhouse, &err))) {
        *e = (weir_sql_error){0};
        snprintf(e->msg, sizeof e->msg, "%s", err.msg);
        return WEIR_EINVAL;
    }
    return WEIR_OK;
}

static int run_serve(const char **v, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const cli_command *c = &cli_serve;
    const char *file = v[cli_index(c, "file")];
    uint64_t checkpoint_ms = 1000, idle_ms = 5000, max_body = 64u << 20, max_inflight = 256u << 20, max_bodies = 1u << 30,
             disk_quota = 0, min_free = 64u << 20, header_timeout = 10, body_timeout = 60, max_conns = 4096,
             max_per_address = 256, query_timeout = 30, max_result = 64u << 20, state_memory = 256u << 20,
             max_feeds = WEIR_DEFAULT_MAX_FEEDS, threads = 0;
    if (!file) {
        cli_error("serve", "-f PIPELINE is needed");
        return CLI_USAGE;
    }
    if (!cli_uint_option(c, v, "checkpoint-ms", 86400000, &checkpoint_ms) || !cli_uint_option(c, v, "idle-ms", INT64_MAX, &idle_ms) ||
        !cli_uint_option(c, v, "max-body", 1u << 30, &max_body) ||
        !cli_uint_option(c, v, "max-inflight", 1ull << 40, &max_inflight) ||
        !cli_uint_option(c, v, "state-memory", 1ull << 50, &state_memory) ||
        !cli_uint_option(c, v, "max-bodies", 1ull << 40, &max_bodies) ||
        !cli_uint_option(c, v, "disk-quota", UINT64_MAX, &disk_quota) ||
        !cli_uint_option(c, v, "min-free", UINT64_MAX, &min_free) ||
        !cli_uint_option(c, v, "header-timeout", 3600, &header_timeout) ||
        !cli_uint_option(c, v, "body-timeout", 86400, &body_timeout) ||
        !cli_uint_option(c, v, "max-connections", 1000000, &max_conns) ||
        !cli_uint_option(c, v, "max-connections-per-address", 1000000, &max_per_address) ||
        !cli_uint_option(c, v, "query-timeout", 86400, &query_timeout) ||
        !cli_uint_option(c, v, "max-result-bytes", 1ull << 40, &max_result) ||
        !cli_uint_option(c, v, "max-feeds", 1000000, &max_feeds) || !cli_uint_option(c, v, "threads", 1024, &threads))
        return CLI_USAGE;
    if (!threads) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores > 0 ? (uint64_t)cores : 1;
    }
    if (!max_feeds) {
        cli_error("serve", "--max-feeds: '0' would refuse every change feed and push query: give 1 or more");
        return CLI_USAGE;
    }
    int64_t retention_ms = 0;
    char bad[256];
    const char *retention = v[cli_index(c, "retention")];
    if (retention && !weir_retention_parse(retention, &retention_ms, bad, sizeof bad)) {
        cli_error("serve", "--retention: %s", bad);
        return CLI_USAGE;
    }
    weir_arena arena = {0};
    weir_catalog cat;
    weir_log *log = NULL;
    weir_runtime *rt = NULL;
    weir_server *srv = NULL;
    weir_kafka_listener *kl = NULL;
    weir_task_store *store = NULL;
    weir_err err = {0};
    char *sql = NULL;
    size_t sql_len;
    char url_file[4300] = ""; /* DATA/serve.url once written: removed on the way out */
    int rc = CLI_FAIL;
    const char *data = cli_data_dir(v[cli_index(c, "data")]);
    if (weir_io_read_file(&weir_io_posix, file, &sql, &sql_len, &err)) {
        cli_error("serve", "%s", err.msg);
        goto out;
    }
    bool once = v[cli_index(c, "once")] != NULL;
    const char *kafka = v[cli_index(c, "kafka")];
    const char *group = v[cli_index(c, "kafka-group")] ? v[cli_index(c, "kafka-group")] : "weir";
    char instance[64];
    const char *const *kafka_config = NULL;
    if (v[cli_index(c, "kafka-config")] && weir_kafka_config_read(v[cli_index(c, "kafka-config")], &arena, &kafka_config, &err)) {
        cli_error("serve", "%s", err.msg);
        goto out;
    }
    bool exactly_once = v[cli_index(c, "kafka-exactly-once")] != NULL;
    if (exactly_once && !v[cli_index(c, "scale-out")]) {
        cli_error("serve", "--kafka-exactly-once needs --scale-out (a single process's outputs are exactly once already)");
        goto out;
    }
    if (exactly_once && v[cli_index(c, "clickhouse")]) { /* its sinks read the local log, which is not transactional */
        cli_error("serve", "--kafka-exactly-once with --clickhouse: the ClickHouse sinks would deliver the local copies of "
                           "the outputs, which aborted transactions' rows reach too; read the topics into ClickHouse "
                           "with read_committed instead");
        goto out;
    }
    plan_options po = {kafka, group, v[cli_index(c, "clickhouse")], kafka_config, v[cli_index(c, "scale-out")] != NULL,
                       exactly_once};
    weir_sql_error se;
    if (plan_pipeline(&po, sql, sql_len, &arena, &cat, &se)) {
        if (se.line)
            cli_error("serve", "%s:%u:%u: %s", file, se.line, se.col, se.msg);
        else
            cli_error("serve", "%s", se.msg);
        goto out;
    }
    if (weir_log_open(data, NULL, &log, &err)) {
        start_error(data, &err);
        goto out;
    }
    const char *report = weir_log_recovery_report(log);
    if (*report)
        fprintf(stderr, "weir serve: recovery: %s", report);
    if (v[cli_index(c, "scale-out")] && (!kafka || once)) {
        cli_error("serve", "--scale-out %s", once ? "runs until stopped: not with --once" : "needs --kafka BROKERS");
        goto out;
    }
    if (v[cli_index(c, "scale-out")] && (instance_id(weir_log_dir(log), instance, sizeof instance, &err) ||
                                         weir_kafka_state_open(kafka, group, instance, kafka_config, exactly_once, &store, &err))) {
        cli_error("serve", "%s", err.msg);
        goto out;
    }
    weir_runner_options ro = {.checkpoint_ms = (int64_t)checkpoint_ms, .idle_ms = idle_ms ? (int64_t)idle_ms : -1,
                              .reset = v[cli_index(c, "reset")] != NULL, .open_input = weir_source_open_input,
                              .tasks = store, .state_memory = state_memory, .threads = (uint32_t)threads,
                              .clients_pick_partitions = v[cli_index(c, "kafka-listen")] != NULL};
    char web[4096];
    const char *listen = v[cli_index(c, "listen")] ? v[cli_index(c, "listen")] : once ? "off" : "127.0.0.1:8080";
    const char *token = v[cli_index(c, "token")] ? v[cli_index(c, "token")] : getenv("WEIR_TOKEN");
    const char *tls_cert = v[cli_index(c, "tls-cert")];
    weir_server_options so = {.http = {.listen = listen, .token = token, .tls_cert = tls_cert,
                                       .tls_key = v[cli_index(c, "tls-key")], .max_body = (size_t)max_body,
                                       .max_bodies = (size_t)max_bodies, .header_timeout_s = (unsigned)header_timeout,
                                       .body_timeout_s = (unsigned)body_timeout, .max_connections = (unsigned)max_conns,
                                       .max_per_address = (unsigned)max_per_address,
                                       .cors_origin = v[cli_index(c, "cors")], .query_timeout_s = (unsigned)query_timeout,
                                       .max_result_bytes = (size_t)max_result},
                              .web_dir = v[cli_index(c, "web")] ? v[cli_index(c, "web")] : default_web_dir(web, sizeof web)};
    weir_runtime_options rto = {.max_inflight_bytes = (size_t)max_inflight, .disk_quota = disk_quota,
                                .min_free = min_free, .runner = &ro, .kafka_brokers = kafka, .kafka_config = kafka_config,
                                .stdin_stream = v[cli_index(c, "stdin")], .schemas_dir = v[cli_index(c, "schemas")],
                                .retention_ms = retention_ms, .max_feeds = (unsigned)max_feeds, .plan = plan_pipeline,
                                .plan_ctx = &po, .pipeline_path = file};
    if (weir_runtime_open(log, &cat, sql, sql_len, &rto, &rt, &err) ||
        (strcmp(listen, "off") && weir_server_start(rt, &so, &srv, &err))) {
        start_error(data, &err);
        goto out;
    }
    weir_kafka_options ko = {.listen = v[cli_index(c, "kafka-listen")], .token = token, .log = kafka_log};
    if (ko.listen && weir_kafka_listener_start(rt, &ko, &kl, &err)) {
        start_error(data, &err);
        goto out;
    }
    if (kl)
        fprintf(stderr, "weir serve: speaking Kafka on %s (port %u)\n", ko.listen, weir_kafka_listener_port(kl));
    uint16_t port = srv ? weir_server_port(srv) : 0;
    for (const char *w = weir_runtime_schema_warnings(rt), *eol; (eol = strchr(w, '\n')); w = eol + 1)
        fprintf(stderr, "weir serve: warning: %.*s\n", (int)(eol - w), w);
    if (store) {
        char address[300];
        if (v[cli_index(c, "advertise")])
            snprintf(address, sizeof address, "%s", v[cli_index(c, "advertise")]);
        else if (weir_http_listen_url(listen, port, tls_cert != NULL, address, sizeof address, &err)) {
            cli_error("serve", "%s", err.msg);
            goto out;
        }
        weir_kafka_state_set_address(store, address);
        fprintf(stderr, "weir serve: scale-out in group %s as %s (%s)\n", group, instance, address);
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    if (!once)
        fprintf(stderr, "weir serve: running %s over %s (Ctrl-C stops)\n", file, weir_log_dir(log));
    char url[64], found[PATH_MAX + 80];
    if (port && weir_http_listen_url(listen, port, tls_cert != NULL, url, sizeof url, &err) == WEIR_OK) {
        fprintf(stderr, "weir serve: listening on %s/%s%s\n", url, strstr(url, "//0.0.0.0:") ? " (every interface)" : "",
                so.web_dir ? " (dashboard at /)" : "");
        /* where weir produce finds this server while it holds the data directory (and, over HTTPS, the
           certificate it trusts: what the data directory names is this process) */
        char cert[PATH_MAX];
        int n = tls_cert && realpath(tls_cert, cert) ? snprintf(found, sizeof found, "%s\ntls-cert %s\n", url, cert)
                                                     : snprintf(found, sizeof found, "%s\n", url);
        snprintf(url_file, sizeof url_file, "%s/serve.url", weir_log_dir(log));
        if (weir_io_write_file_atomic(&weir_io_posix, url_file, found, (size_t)n, &err)) {
            fprintf(stderr, "weir serve: warning: weir produce will not find this server: %s\n", err.msg);
            url_file[0] = '\0';
        }
    }
    rc = CLI_OK;
    bool paused = false;
    while (!stopping) {
        uint64_t processed;
        char why[300];
        if (weir_runtime_step(rt, weir_wall_ms(), &processed, &err)) {
            cli_error("serve", "%s", err.msg);
            rc = CLI_FAIL;
            break;
        }
        if (weir_runtime_paused(rt, why, sizeof why) != paused) {
            paused = !paused;
            if (paused)
                fprintf(stderr, "weir serve: the disk is full (%s): the pipeline pauses and ingest answers 503 until "
                                "space is freed\n", why);
            else
                fprintf(stderr, "weir serve: disk space is back: the pipeline resumes from its last checkpoint\n");
        }
        if (once && paused) { /* a bounded run has nobody to wait for */
            cli_error("serve", "the disk is full (%s); the last checkpoint stands", why);
            rc = CLI_FAIL;
            break;
        }
        if (processed == 0) {
            if (once && weir_runtime_files_at_eof(rt) && weir_runtime_caught_up(rt, true))
                break;
            weir_runtime_wait(rt, 20);
        }
    }
    if (rc == CLI_OK && weir_runtime_checkpoint(rt, once && !stopping, &err)) {
        cli_error("serve", "final checkpoint: %s", err.msg);
        rc = CLI_FAIL;
    }
    if (rc == CLI_OK && once && weir_runtime_catalog(rt)->nsinks && !weir_runtime_sinks_drained(rt, 30000))
        fprintf(stderr, "weir serve: a sink delivered nothing for 30 s and has not delivered everything; the rest "
                        "goes on the next run\n");
    if (rt && !once)
        print_stats(rt);
out:
    if (url_file[0] && unlink(url_file) != 0)
        fprintf(stderr, "weir serve: warning: cannot remove %s: %s\n", url_file, strerror(errno));
    if (rt) /* the server's waiting requests are answered before it stops */
        weir_runtime_hang_up(rt);
    weir_server_stop(srv);
    weir_kafka_listener_stop(kl);
    weir_runtime_close(rt, rc == CLI_OK);
    weir_kafka_state_close(store);
    if (log && weir_log_close(log, &err) && rc == CLI_OK) {
        cli_error("serve", "%s", err.msg);
        rc = CLI_FAIL;
    }
    free(sql);
    weir_arena_free(&arena);
    return rc;
}
