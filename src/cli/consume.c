/*
 * consume.c - `weir consume STREAM`: prints a stream's records, one JSON
 * value per line, following new records until interrupted (or, with
 * --exit, until the end). Opens the log read-only, so it runs beside a
 * writer. With --group it resumes where the group committed and commits
 * what it printed (every second and at exit).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "cli/cli.h"
#include "exec/runner.h"
#include "json/json.h"
#include "log/log.h"

static const cli_option options[] = {
    {"data", 'd', "DIR", "data directory (default ./weir-data or $WEIR_DATA)"},
    {"from-beginning", 0, NULL, "start at the oldest retained record (default: the end, or the group's position); no -b: Kafka's tools use it for brokers"},
    {"group", 'g', "G", "consumer group: resume at its committed offsets (a new group starts at the beginning) and commit"},
    {"partition", 'p', "P", "read only partition P"},
    {"offset", 'o', "N", "with --partition: start at offset N"},
    {"exit", 'e', NULL, "exit at the end of the stream instead of waiting for more"},
    {"max", 'n', "N", "exit after N records"},
    {"meta", 'm', NULL, "print {partition, offset, timestamp, key, value} objects instead of bare values"},
};

static int run_consume(const char **v, int argc, char **argv);

const cli_command cli_consume = {
    .name = "consume",
    .usage = "STREAM",
    .summary = "print a stream's records, one JSON value per line",
    .description = "Partitions are read in turn, in offset order within each. Runs until Ctrl-C\n"
                   "unless --exit or --max is given.",
    .options = options,
    .noptions = sizeof options / sizeof options[0],
    .min_args = 1,
    .max_args = 1,
    .run = run_consume,
};

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) { (void)sig; stop_requested = 1; }

/* Formats ms since the epoch as ISO 8601 UTC with milliseconds. */
static void iso8601(int64_t ms, char *out, size_t cap)
{
    time_t s = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    size_t n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, cap - n, ".%03dZ", (int)(ms - (int64_t)s * 1000));
}

static int print_record(weir_buf *out, uint32_t partition, const weir_record *r, bool meta)
{
    int rc = 0;
    if (meta) {
        char ts[48];
        iso8601(r->ts_ms, ts, sizeof ts);
        rc |= weir_buf_printf(out, "{\"partition\":%u,\"offset\":%llu,\"timestamp\":\"%s\",\"key\":",
                              partition, (unsigned long long)r->offset, ts);
        rc |= r->key ? weir_json_quote(out, (const char *)r->key, r->key_len) : weir_buf_append_str(out, "null");
        rc |= weir_buf_append_str(out, ",\"value\":");
    }
    /* no value (a tombstone) is null, as Kafka's console consumer prints it */
    rc |= r->value_len ? weir_buf_append(out, r->value, r->value_len) : weir_buf_append_str(out, "null");
    rc |= weir_buf_append_str(out, meta ? "}\n" : "\n");
    return rc;
}

static bool flush_out(weir_buf *out)
{
    if (out->len && fwrite(out->data, 1, out->len, stdout) != out->len)
        return false;
    out->len = 0;
    return fflush(stdout) == 0;
}

/* A pipeline's output is read only up to what its last checkpoint
 * committed (DIR/pipeline/stable), so a crash can never take back a row
 * that was shown. Other streams are read to their end. */
static void bound_readers(weir_log *log, const char *stream, weir_reader **readers, uint32_t n)
{
    for (uint32_t p = 0; p < n; p++) {
        uint64_t end;
        if (readers[p] && weir_pipeline_stable_end(weir_log_dir(log), stream, p, &end))
            weir_reader_set_end(readers[p], end);
    }
}

static int run_consume(const char **v, int argc, char **argv)
{
    (void)argc;
    const cli_command *c = &cli_consume;
    uint64_t only = 0, start_at = 0, max = UINT64_MAX;
    bool one = v[cli_index(c, "partition")] != NULL, meta = v[cli_index(c, "meta")] != NULL;
    bool exit_at_end = v[cli_index(c, "exit")] != NULL;
    const char *group = v[cli_index(c, "group")];
    if (!cli_uint_option(c, v, "partition", 9999, &only) || !cli_uint_option(c, v, "offset", UINT64_MAX, &start_at) ||
        !cli_uint_option(c, v, "max", UINT64_MAX, &max))
        return CLI_USAGE;
    if (v[cli_index(c, "offset")] && !one) {
        cli_error("consume", "--offset needs --partition");
        return CLI_USAGE;
    }

    weir_log_options lo = {.read_only = true};
    weir_log *log = NULL;
    weir_stream *s;
    weir_err err = {0};
    if (weir_log_open(cli_data_dir(v[cli_index(c, "data")]), &lo, &log, &err) != WEIR_OK ||
        weir_stream_open(log, argv[0], &s, &err) != WEIR_OK) {
        cli_error("consume", "%s", err.msg);
        weir_log_close(log, NULL);
        return CLI_FAIL;
    }
    uint32_t n = weir_stream_get_config(s)->partitions;
    if (one && only >= n) {
        cli_error("consume", "stream '%s' has no partition %llu (it has %u)", argv[0], (unsigned long long)only, n);
        weir_log_close(log, NULL);
        return CLI_USAGE;
    }
    uint64_t *pos = calloc(n, sizeof *pos);
    weir_reader **readers = calloc(n, sizeof *readers);
    int rc = pos && readers ? CLI_OK : CLI_FAIL;
    if (rc == CLI_OK && group && weir_group_load(log, group, argv[0], pos, n, &err) != WEIR_OK)
        rc = CLI_FAIL;
    for (uint32_t p = 0; p < n && rc == CLI_OK; p++) {
        if (one && p != only)
            continue;
        weir_partition_stats st;
        if (v[cli_index(c, "offset")])
            pos[p] = start_at;
        else if (v[cli_index(c, "from-beginning")])
            pos[p] = 0;
        else if (!group) {
            if (weir_stream_partition_stats(s, p, &st, &err) != WEIR_OK) {
                rc = CLI_FAIL;
                break;
            }
            pos[p] = st.end_offset;
        }
        if (weir_reader_open(s, p, pos[p], &readers[p], &err) != WEIR_OK)
            rc = CLI_FAIL;
    }
    if (rc != CLI_OK && err.code)
        cli_error("consume", "%s", err.msg);

    bound_readers(log, argv[0], readers, n);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    weir_buf out = {0};
    uint64_t printed = 0, last_commit = weir_mono_ns();
    bool dirty = false;
    while (rc == CLI_OK && !stop_requested && printed < max) {
        uint64_t got_this_round = 0;
        for (uint32_t p = 0; p < n && rc == CLI_OK && printed < max; p++) {
            if (!readers[p])
                continue;
            weir_record r;
            int got = 0;
            for (int k = 0; k < 4096 && printed < max && (got = weir_reader_next(readers[p], &r, &err)) == 1; k++) {
                if (print_record(&out, p, &r, meta)) {
                    cli_error("consume", "out of memory");
                    rc = CLI_FAIL;
                    break;
                }
                printed++;
                got_this_round++;
                pos[p] = r.offset + 1;
                dirty = true;
            }
            if (got < 0) {
                cli_error("consume", "partition %u: %s", p, err.msg);
                rc = CLI_FAIL;
            }
        }
        if (!flush_out(&out)) {
            if (errno != EPIPE)
                cli_error("consume", "write to standard output: %s", strerror(errno));
            rc = errno == EPIPE ? CLI_OK : CLI_FAIL;
            break;
        }
        uint64_t now = weir_mono_ns();
        if (group && dirty && now - last_commit > 1000000000u) {
            if (weir_group_commit(log, group, argv[0], pos, n, &err) != WEIR_OK) {
                cli_error("consume", "%s", err.msg);
                rc = CLI_FAIL;
            }
            last_commit = now;
            dirty = false;
        }
        if (got_this_round == 0) {
            if (exit_at_end)
                break;
            usleep(50000);
            bound_readers(log, argv[0], readers, n); /* a later checkpoint may have committed more */
        }
    }
    if (group && dirty && weir_group_commit(log, group, argv[0], pos, n, &err) != WEIR_OK) {
        cli_error("consume", "%s", err.msg);
        rc = CLI_FAIL;
    }
    for (uint32_t p = 0; readers && p < n; p++)
        weir_reader_close(readers[p]);
    free(readers);
    free(pos);
    weir_buf_free(&out);
    weir_log_close(log, NULL);
    return rc;
}
