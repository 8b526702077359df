/*
 * gen.c (cli) - `weir gen NAME`: realistic records as NDJSON on standard
 * output, for the examples and for load: pipe them into `weir serve
 * --stdin STREAM`, `weir produce`, or curl; or, with --post URL, sent to a
 * weir server in batches (gen_post.c).
 *
 * With --rate the records are paced by the wall clock and stamped with
 * it; without, they come as fast as they can, stamped by a virtual clock
 * from --start in --step-ms steps (so a seed gives the same file).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "cli/cli.h"
#include "cli/gen_post.h"
#include "cli/gen_records.h"
#include "sql/value.h"

static const cli_option options[] = {
    {"rate", 0, "N", "records per second, stamped with the wall clock (default: as fast as possible)"},
    {"count", 'n', "N", "stop after N records (default 10000, or never with --rate); collatz ends the chain under way"},
    {"seed", 0, "S", "random seed (default 1)"},
    {"start", 0, "TIME", "first timestamp without --rate (default 2026-11-23T00:00:00Z)"},
    {"step-ms", 0, "MS", "virtual time between records without --rate (default 10)"},
    {"numbers", 0, "LO:HI", "collatz: the range numbers are drawn from (default 14 digits)"},
    {"post", 0, "URL", "POST the records there in NDJSON batches (every 200 ms with --rate) instead of printing them; "
                       "{field} in the URL is replaced by each record's field, e.g. .../v1/streams/{type}"},
};

static int run_gen(const char **v, int argc, char **argv);

const cli_command cli_gen = {
    .name = "gen",
    .usage = "NAME",
    .summary = "generate realistic records (collatz, likes, logins, sensors, tweets) as NDJSON",
    .description = "collatz: every step {number, step, value, ts} of each number's chain; likes:\n"
                   "{video_id, user_id, ts}; logins: {user_id, app_version, ip, locale, device_id,\n"
                   "timestamp, device_type}, about 5% malformed; sensors: hoverboard, trip and\n"
                   "customer records tagged \"type\"; tweets: {id, user_id, city, is_retweet, created_at}.",
    .options = options,
    .noptions = sizeof options / sizeof options[0],
    .min_args = 1,
    .max_args = 1,
    .run = run_gen,
};

static int write_all(const void *p, size_t n)
{
    return fwrite(p, 1, n, stdout) == n ? 0 : -1;
}

static int run_gen(const char **v, int argc, char **argv)
{
    (void)argc;
    const cli_command *c = &cli_gen;
    uint64_t rate = 0, count = 0, seed = 1, step_ms = 10;
    if (!cli_uint_option(c, v, "rate", 10000000, &rate) || !cli_uint_option(c, v, "count", UINT64_MAX, &count) ||
        !cli_uint_option(c, v, "seed", UINT64_MAX, &seed) || !cli_uint_option(c, v, "step-ms", 86400000, &step_ms))
        return CLI_USAGE;
    if (!v[cli_index(c, "count")])
        count = rate ? UINT64_MAX : 10000;
    int64_t start = 1795392000000; /* 2026-11-23T00:00:00Z */
    const char *s = v[cli_index(c, "start")];
    if (s && !weir_timestamp_parse(s, strlen(s), &start)) {
        cli_error("gen", "--start %s: expected a timestamp like 2026-11-23T00:00:00Z", s);
        return CLI_USAGE;
    }
    weir_gen_options go = {.seed = seed};
    const char *range = v[cli_index(c, "numbers")];
    if (range) {
        char *colon;
        go.min = strtoull(range, &colon, 10);
        go.max = *colon == ':' ? strtoull(colon + 1, NULL, 10) : 0;
    }
    weir_gen *g;
    weir_err err = {0};
    if (weir_gen_new(argv[0], &go, &g, &err)) {
        cli_error("gen", "%s", err.msg);
        return CLI_USAGE;
    }
    weir_buf line = {0};
    int rc = CLI_OK;
    gen_poster *poster = NULL;
    const char *post = v[cli_index(c, "post")];
    if (post && gen_poster_new(post, &poster)) {
        cli_error("gen", "out of memory");
        rc = CLI_FAIL;
    }
    bool post_failed = false;
    uint64_t began = weir_mono_ns(), flushed = began, queued = 0;
    for (uint64_t i = 0; (i < count || weir_gen_within_group(g)) && rc == CLI_OK; i++) {
        int64_t ts = start + (int64_t)(i * step_ms);
        if (rate) { /* pace: record i is due at i / rate seconds */
            uint64_t due = began + i * 1000000000ull / rate;
            for (uint64_t now = weir_mono_ns(); now < due; now = weir_mono_ns())
                usleep((useconds_t)((due - now) / 1000 > 100000 ? 100000 : (due - now) / 1000));
            ts = weir_wall_ms();
            if (!poster && i % 64 == 0 && fflush(stdout))
                rc = CLI_FAIL;
        }
        if (poster && queued && (queued >= 5000 || (rate && weir_mono_ns() - flushed >= 200000000ull))) {
            post_failed |= gen_poster_flush(poster) != 0;
            flushed = weir_mono_ns();
            queued = 0;
        }
        line.len = 0;
        if (weir_gen_next(g, ts, &line, &err)) { /* reported, and the generator goes on */
            cli_error("gen", "%s", err.msg);
            if (err.code == WEIR_ENOMEM)
                rc = CLI_FAIL;
        }
        int put = !line.len ? 0 : poster ? gen_poster_add(poster, (const char *)line.data, line.len) : write_all(line.data, line.len);
        if (put < 0)
            rc = CLI_FAIL;
        post_failed |= put > 0;
        queued += line.len > 0;
    }
    if (poster && rc == CLI_OK)
        post_failed |= gen_poster_flush(poster) != 0;
    if (post_failed && rc == CLI_OK)
        rc = CLI_FAIL;
    if (fflush(stdout) && errno != EPIPE)
        rc = CLI_FAIL;
    gen_poster_free(poster);
    weir_buf_free(&line);
    weir_gen_free(g);
    return rc;
}
