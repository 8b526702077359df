/*
 * produce.c - `weir produce STREAM [FILE]`: NDJSON records from a file or
 * stdin into a stream of the embedded log.
 *
 * Lines are checked as they are read and appended to the log's buffers;
 * every group window (2 ms by default) or 4 MiB the batch is committed and
 * only then counted as acknowledged (`--acks` prints each acknowledgement).
 * A bad line aborts the batch it is in, so a batch is appended whole or not
 * at all, and the error says exactly which lines made it.
 *
 * When a `weir serve` holds the data directory (the log has one writer),
 * the same batches go through its HTTP ingest instead (produce_remote.c);
 * partitions then follow the stream's declared key, as for any record the
 * server takes.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "conn/ingest.h"
#include "cli/cli.h"
#include "cli/produce_remote.h"
#include "json/json.h"
#include "json/ndjson.h"
#include "log/log.h"

static const cli_option options[] = {
    {"data", 'd', "DIR", "data directory (default ./weir-data or $WEIR_DATA)"},
    {"key", 'k', "FIELD", "partition by this top-level field (Kafka's murmur2), or by several ('a,b': their texts "
                          "joined by '|'); default the stream's own key (its pipeline's, or an earlier --key's when "
                          "it was created), else round-robin"},
    {"partition", 'p', "P", "write every record to partition P"},
    {"partitions", 0, "N", "partitions if the stream is created (default 4)"},
    {"segment-bytes", 0, "BYTES", "if the stream is created: roll segments past this size (default 128 MiB)"},
    {"retention-bytes", 0, "BYTES", "if the stream is created: keep about this much per partition (default: all)"},
    {"retention-ms", 0, "MS", "if the stream is created: delete segments older than this (default: never)"},
    {"fsync", 0, "POLICY", "group (default: one fsync per batch), always (per record) or none"},
    {"group-ms", 0, "MS", "group-commit window in milliseconds (default 2)"},
    {"acks", 0, NULL, "print {\"acked\": N} on stdout after each durable batch (N: records so far)"},
};

static int run_produce(const char **v, int argc, char **argv);

const cli_command cli_produce = {
    .name = "produce",
    .usage = "STREAM [FILE]",
    .summary = "append NDJSON records (one JSON object per line) to a stream",
    .description = "Reads FILE, or standard input when FILE is absent or '-'. The stream is created\n"
                   "if it does not exist. A record is acknowledged once it is on disk; a malformed\n"
                   "line stops the command and nothing of the batch holding it is appended.\n"
                   "While weir serve runs on the data directory, the records go through its HTTP\n"
                   "ingest (to a source stream of its pipeline; $WEIR_TOKEN if it needs a token).",
    .options = options,
    .noptions = sizeof options / sizeof options[0],
    .min_args = 1,
    .max_args = 2,
    .run = run_produce,
};

#define REMOTE_BATCH_BYTES (1u << 20)  /* through a server: a POST per this much NDJSON ... */
#define REMOTE_BATCH_NS 100000000u     /* ... or per this long a quiet input keeps a batch */

typedef struct producer {
    weir_log *log;             /* NULL when a running server takes the records (remote) */
    produce_remote *remote;
    uint64_t first_pending_ns; /* remote: when the batch's first record came */
    weir_stream *stream;
    const char *input_name;
    const char *key_field;     /* --key, else the stream's own key (key_copy), or NULL */
    char key_copy[WEIR_STREAM_KEY_MAX];
    int32_t partition;
    bool print_acks;
    uint64_t acked;           /* records durable */
    uint64_t pending;         /* records appended since the last commit */
    uint64_t batch_first_line;
    weir_buf key;
    weir_err err;             /* why the last append or commit failed */
    uint64_t retention_checked_ns; /* monotonic time retention last ran */
    /* The clocks, read once every CLOCK_EVERY records: two reads per record
     * were 9% of produce's CPU, and 64 records take microseconds, far
     * inside the 2 ms group-commit window. */
    int64_t now_ms;
    uint64_t now_ns;
    unsigned clock_age;
} producer;

#define CLOCK_EVERY 64

/* Advances the producer's clocks, reading them when due. */
static void tick(producer *pr)
{
    if (pr->clock_age++ % CLOCK_EVERY == 0) {
        pr->now_ms = weir_wall_ms();
        pr->now_ns = weir_mono_ns();
    }
}

/* Commits the pending batch; on failure says what was and was not kept. */
static int commit(producer *pr)
{
    if (pr->pending == 0)
        return CLI_OK;
    char why[600];
    if (pr->remote && produce_remote_send(pr->remote, why, sizeof why)) {
        cli_error("produce", "%s; %llu records were acknowledged before this, the %llu of this batch (from line %llu) "
                             "were not", why, (unsigned long long)pr->acked, (unsigned long long)pr->pending,
                  (unsigned long long)pr->batch_first_line);
        return CLI_FAIL;
    }
    if (!pr->remote && weir_log_commit(pr->log, &pr->err) != WEIR_OK) {
        cli_error("produce", "%s; %llu records were acknowledged before this, the %llu of this batch (from line %llu) were not",
                  pr->err.msg, (unsigned long long)pr->acked, (unsigned long long)pr->pending,
                  (unsigned long long)pr->batch_first_line);
        return CLI_FAIL;
    }
    pr->acked += pr->pending;
    pr->pending = 0;
    uint64_t now = weir_mono_ns();
    if (!pr->remote && now - pr->retention_checked_ns >= 1000000000u) {
        pr->retention_checked_ns = now;
        if (weir_log_apply_retention(pr->log, weir_wall_ms(), &pr->err) != WEIR_OK) {
            cli_error("produce", "retention: %s", pr->err.msg);
            return CLI_FAIL;
        }
    }
    if (pr->print_acks) {
        printf("{\"acked\": %llu}\n", (unsigned long long)pr->acked);
        fflush(stdout);
    }
    return CLI_OK;
}

/* The key the records are placed by: --key (which an empty stream takes
 * as its own), else the stream's own key, so that records appended here
 * land where its pipeline's per-partition state expects them. */
static int key_by_stream(producer *pr, weir_err *err)
{
    bool adopted;
    if (pr->key_field && pr->partition < 0)
        return weir_stream_adopt_key(pr->stream, pr->key_field, &adopted, err);
    const char *own = weir_stream_get_config(pr->stream)->key;
    if (!pr->key_field && own[0]) {
        snprintf(pr->key_copy, sizeof pr->key_copy, "%s", own);
        pr->key_field = pr->key_copy;
    }
    return WEIR_OK;
}

/* weir_ndjson_fn: appends one checked record; commits when the group is due. */
static int on_record(void *ctx, const char *text, size_t len, uint64_t line, weir_ndjson_error *e)
{
    producer *pr = ctx;
    if (pr->remote) {
        if (produce_remote_add(pr->remote, text, len)) {
            snprintf(e->msg, sizeof e->msg, "out of memory");
            return 1;
        }
        if (pr->pending++ == 0) {
            pr->batch_first_line = line;
            pr->first_pending_ns = weir_mono_ns();
        }
        return produce_remote_bytes(pr->remote) >= REMOTE_BATCH_BYTES && commit(pr) != CLI_OK ? 2 : 0;
    }
    tick(pr);
    if (weir_ingest_json(pr->stream, pr->partition, pr->key_field, text, len, pr->now_ms, NULL, &pr->key, NULL, NULL, &pr->err)) {
        snprintf(e->msg, sizeof e->msg, "%s", pr->err.msg);
        return 1;
    }
    if (pr->pending++ == 0)
        pr->batch_first_line = line;
    if (weir_log_commit_due(pr->log, pr->now_ns) && commit(pr) != CLI_OK)
        return 2; /* commit() has reported it */
    return 0;
}

static int bad_input(producer *pr, const weir_ndjson_error *e)
{
    if (pr->remote)
        produce_remote_drop(pr->remote);
    else
        weir_log_abort(pr->log);
    cli_error("produce", "%s:%llu:%u (byte %llu): %s; nothing from line %llu on was appended, %llu records before it were",
              pr->input_name, (unsigned long long)e->line, e->column, (unsigned long long)e->offset, e->msg,
              (unsigned long long)(pr->pending ? pr->batch_first_line : e->line), (unsigned long long)pr->acked);
    return CLI_FAIL;
}

/* Reads the input in chunks, splitting lines; while the input is quiet, a
 * pending batch is committed when its group window closes. */
static int pump(producer *pr, int fd)
{
    weir_buf in = {0};
    weir_ndjson nd = {0};
    weir_ndjson_error e = {0};
    const size_t chunk = 1u << 20;
    int rc = CLI_OK;
    bool eof = false;
    while (rc == CLI_OK && !eof) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int ready = poll(&pfd, 1, pr->pending ? 1 : -1);
        if (ready < 0 && errno != EINTR) {
            cli_error("produce", "poll %s: %s", pr->input_name, strerror(errno));
            rc = CLI_FAIL;
            break;
        }
        if (ready <= 0) {
            bool due = pr->remote ? weir_mono_ns() - pr->first_pending_ns >= REMOTE_BATCH_NS
                                  : weir_log_commit_due(pr->log, weir_mono_ns());
            if (due)
                rc = commit(pr);
            continue;
        }
        if (weir_buf_reserve(&in, chunk)) {
            cli_error("produce", "out of memory");
            rc = CLI_FAIL;
            break;
        }
        ssize_t n = read(fd, in.data + in.len, chunk);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            cli_error("produce", "read %s: %s", pr->input_name, strerror(errno));
            rc = CLI_FAIL;
            break;
        }
        eof = n == 0;
        in.len += (size_t)n;
        ssize_t used = weir_ndjson_feed(&nd, (char *)in.data, in.len, eof, on_record, pr, &e);
        if (used == -2) /* a commit failed; commit() reported it */
            rc = CLI_FAIL;
        else if (used < 0)
            rc = bad_input(pr, &e);
        else {
            memmove(in.data, in.data + used, in.len - (size_t)used);
            in.len -= (size_t)used;
        }
    }
    if (rc == CLI_OK)
        rc = commit(pr);
    weir_buf_free(&in);
    return rc;
}

static bool parse_fsync(const char *text, weir_fsync_policy *out)
{
    if (!text || !strcmp(text, "group")) *out = WEIR_FSYNC_GROUP;
    else if (!strcmp(text, "always")) *out = WEIR_FSYNC_ALWAYS;
    else if (!strcmp(text, "none")) *out = WEIR_FSYNC_NONE;
    else {
        cli_error("produce", "--fsync: '%s' is not one of group, always, none", text);
        return false;
    }
    return true;
}

/* The data directory is locked by another process: a weir serve that
 * recorded its address takes the records over HTTP (options that only the
 * log's writer could honour are refused), anything else is the lock's error. */
static int through_server(producer *pr, const char **v, const char *stream, const char *data, int fd, const weir_err *locked)
{
    const cli_command *c = &cli_produce;
    int found = produce_remote_open(data, stream, &pr->remote);
    if (found <= 0) {
        cli_error("produce", "%s", found < 0 ? "out of memory" : locked->msg);
        return CLI_FAIL;
    }
    static const char *const writer_only[] = {"key", "partition", "partitions", "segment-bytes", "retention-bytes",
                                              "retention-ms", "fsync"};
    for (size_t i = 0; i < sizeof writer_only / sizeof *writer_only; i++)
        if (v[cli_index(c, writer_only[i])]) {
            cli_error("produce", "%s is served by weir serve at %s, which takes the records through its ingest: the "
                                 "stream's own key and settings apply there, so --%s cannot", data,
                      produce_remote_server(pr->remote), writer_only[i]);
            return CLI_USAGE;
        }
    fprintf(stderr, "weir produce: %s is served by weir serve at %s: the records go through it\n", data,
            produce_remote_server(pr->remote));
    return pump(pr, fd);
}

static int run_produce(const char **v, int argc, char **argv)
{
    const cli_command *c = &cli_produce;
    weir_log_options lo = {0};
    uint64_t partitions = 4, partition = 0, group_ms = 2, segment_bytes = 0, retention_bytes = 0, retention_ms = 0;
    if (!parse_fsync(v[cli_index(c, "fsync")], &lo.fsync) ||
        !cli_uint_option(c, v, "partitions", 10000, &partitions) || !cli_uint_option(c, v, "partition", 9999, &partition) ||
        !cli_uint_option(c, v, "group-ms", 60000, &group_ms) || !cli_uint_option(c, v, "segment-bytes", 1ull << 40, &segment_bytes) ||
        !cli_uint_option(c, v, "retention-bytes", INT64_MAX, &retention_bytes) ||
        !cli_uint_option(c, v, "retention-ms", INT64_MAX, &retention_ms))
        return CLI_USAGE;
    lo.group_commit_us = group_ms ? (uint32_t)group_ms * 1000 : 1;

    producer pr = {
        .input_name = argc > 1 && strcmp(argv[1], "-") ? argv[1] : "<stdin>",
        .key_field = v[cli_index(c, "key")],
        .partition = v[cli_index(c, "partition")] ? (int32_t)partition : -1,
        .print_acks = v[cli_index(c, "acks")] != NULL,
    };
    int fd = 0;
    if (argc > 1 && strcmp(argv[1], "-")) {
        fd = open(argv[1], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            cli_error("produce", "cannot open %s: %s", argv[1], strerror(errno));
            return CLI_FAIL;
        }
    }
    weir_err err = {0};
    int rc = CLI_FAIL;
    const char *data = cli_data_dir(v[cli_index(c, "data")]);
    if (weir_log_open(data, &lo, &pr.log, &err) == WEIR_EBUSY) {
        rc = through_server(&pr, v, argv[0], data, fd, &err);
        goto out;
    }
    if (!pr.log) {
        cli_error("produce", "%s", err.msg);
        goto out;
    }
    const char *report = weir_log_recovery_report(pr.log);
    if (*report)
        fprintf(stderr, "weir produce: recovery: %s", report);
    weir_stream_config sc = {.partitions = (uint32_t)partitions, .segment_bytes = segment_bytes,
                             .retention_bytes = (int64_t)retention_bytes, .retention_ms = (int64_t)retention_ms};
    if (pr.key_field && strlen(pr.key_field) < sizeof sc.key) /* a longer one is not said: placed anyhow, as far as it knows */
        snprintf(sc.key, sizeof sc.key, "%s", pr.key_field);
    if (weir_stream_open_or_create(pr.log, argv[0], &sc, &pr.stream, &err) != WEIR_OK || key_by_stream(&pr, &err)) {
        cli_error("produce", "%s", err.msg);
        goto out;
    }
    rc = pump(&pr, fd);
    if (rc == CLI_OK && weir_log_apply_retention(pr.log, weir_wall_ms(), &err) != WEIR_OK) {
        cli_error("produce", "retention: %s", err.msg);
        rc = CLI_FAIL;
    }
out:
    if (pr.log && weir_log_close(pr.log, &err) != WEIR_OK && rc == CLI_OK) {
        cli_error("produce", "%s", err.msg);
        rc = CLI_FAIL;
    }
    weir_buf_free(&pr.key);
    produce_remote_free(pr.remote);
    if (fd > 0)
        close(fd);
    return rc;
}
