/*
 * test_compact.c - log compaction (src/log/compact.c): a compacted
 * partition keeps the last record per key of its sealed segments below
 * the limit, with offsets unchanged (gaps), across reopen with and without
 * the indexes; tombstones go after delete_retention_ms; readers of the
 * writing process and of a read-only log read across the rewrite; a crash
 * or power cut at any I/O call of a pass leaves every segment old or new.
 * Also the stream settings that drive it (weir_stream_reconfigure) and
 * the retention words (weir_retention_parse).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/duration.h"
#include "fault_io.h"
#include "log_helpers.h"

#define N 3000          /* records written */
#define KEYS 40

/* Record i: key "k<i % KEYS>" (none every 31st), value "<key>=<i>", or
 * empty (a tombstone) every 97th and always for key k7. */
static bool has_key(uint64_t i) { return i % 31 != 0; }
static bool tombstone(uint64_t i) { return has_key(i) && (i % 97 == 0 || i % KEYS == 7); }

static void write_records(weir_log *log, weir_stream *s, uint64_t from, uint64_t to)
{
    weir_err err;
    for (uint64_t i = from; i < to; i++) {
        char key[16], value[48];
        int kn = snprintf(key, sizeof key, "k%llu", (unsigned long long)(i % KEYS));
        int vn = snprintf(value, sizeof value, "%s=%llu", has_key(i) ? key : "none", (unsigned long long)i);
        weir_record r = {.key = has_key(i) ? (const uint8_t *)key : NULL, .key_len = has_key(i) ? (size_t)kn : 0,
                         .value = (const uint8_t *)value, .value_len = tombstone(i) ? 0 : (size_t)vn,
                         .ts_ms = (int64_t)i};
        if (weir_stream_append(s, 0, &r, NULL, NULL, &err) || (i % 20 == 19 && weir_log_commit(log, &err)))
            BAIL("append %llu: %s", (unsigned long long)i, err.msg);
    }
    if (weir_log_commit(log, &err))
        BAIL("commit: %s", err.msg);
}

/* Where a pass below limit stops: the highest segment base at or below
 * it (the segment before it ends there). */
static uint64_t compacted_end(const char *dir, const char *stream, uint64_t limit)
{
    char pdir[4200];
    snprintf(pdir, sizeof pdir, "%s/streams/%s/0", dir, stream);
    DIR *d = opendir(pdir);
    uint64_t best = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        unsigned long long b;
        if (strlen(e->d_name) == 24 && strstr(e->d_name, ".log") && sscanf(e->d_name, "%llu", &b) == 1 &&
            b <= limit && b > best)
            best = b;
    }
    if (d)
        closedir(d);
    return best;
}

/* Which records a pass over [0, end) keeps (tombstones too unless gone). */
static void expected(uint64_t end, bool tombstones_gone, unsigned char *keep)
{
    uint64_t last[KEYS];
    memset(last, 0xff, sizeof last);
    for (uint64_t i = 0; i < end; i++)
        if (has_key(i))
            last[i % KEYS] = i;
    for (uint64_t i = 0; i < N; i++)
        keep[i] = i >= end || !has_key(i) || (last[i % KEYS] == i && !(tombstone(i) && tombstones_gone));
}

/* Reads partition 0 from 0: every record must be one that was written
 * (its value names its key and offset), offsets increasing; marks seen. */
static bool read_back(weir_stream *s, unsigned char *seen)
{
    memset(seen, 0, N);
    weir_reader *r;
    weir_err err;
    if (weir_reader_open(s, 0, 0, &r, &err))
        return diag("reader_open: %s", err.msg), false;
    weir_record rec;
    int got;
    long long prev = -1;
    bool good = true;
    while (good && (got = weir_reader_next(r, &rec, &err)) == 1) {
        uint64_t i = rec.offset;
        char want[48];
        int n = has_key(i) ? snprintf(want, sizeof want, "k%llu=%llu", (unsigned long long)(i % KEYS), (unsigned long long)i)
                           : snprintf(want, sizeof want, "none=%llu", (unsigned long long)i);
        bool ok_value = tombstone(i) ? rec.value_len == 0
                                     : rec.value_len == (size_t)n && !memcmp(rec.value, want, (size_t)n);
        if (i >= N || (long long)i <= prev || !ok_value || (rec.key != NULL) != has_key(i))
            good = false, diag("offset %llu: not what was written there", (unsigned long long)i);
        else
            seen[i] = 1, prev = (long long)i;
    }
    if (got < 0)
        good = false, diag("read: %s", err.msg);
    weir_reader_close(r);
    return good;
}

static int count_differences(const unsigned char *a, const unsigned char *b)
{
    int d = 0;
    for (int i = 0; i < N; i++)
        d += a[i] != b[i];
    return d;
}

static weir_stream *make_stream(weir_log *log, const char *name)
{
    weir_stream_config c = {.partitions = 1, .segment_bytes = 8 << 10, .compact = true};
    weir_stream *s;
    weir_err err;
    if (weir_stream_create(log, name, &c, &s, &err))
        BAIL("create %s: %s", name, err.msg);
    return s;
}

static void test_compaction(const char *dir)
{
    weir_log *log = open_log_with(dir, (weir_log_options){0});
    weir_stream *s = make_stream(log, "table"), *plain;
    weir_err err;
    weir_stream_config pc = {.partitions = 1, .segment_bytes = 8 << 10};
    weir_stream_create(log, "plain", &pc, &plain, &err);
    write_records(log, s, 0, N);
    write_records(log, plain, 0, N);
    static unsigned char keep[N], seen[N];

    weir_log *ro = open_log_with(dir, (weir_log_options){.read_only = true});
    weir_stream *ros;
    ok(weir_stream_open(ro, "table", &ros, &err) == WEIR_OK, "a read-only log opens the stream before compaction");
    weir_reader *early;
    weir_reader_open(s, 0, 0, &early, &err);
    weir_record rec;
    uint64_t early_read = 0;
    while (early_read < 100 && weir_reader_next(early, &rec, &err) == 1)
        early_read++;

    uint64_t freed = 0, limit = 1500;
    ok(weir_stream_compact(plain, 0, UINT64_MAX, 0, 0, NULL, &freed, &err) == WEIR_OK && freed == 0,
       "a delete-policy stream is not compacted");
    int rc = weir_stream_compact(s, 0, limit, 0, 0, NULL, &freed, &err);
    ok(rc == WEIR_OK && freed > 0, "a pass below offset %llu freed %llu bytes",
       (unsigned long long)limit, (unsigned long long)freed);
    uint64_t end = compacted_end(dir, "table", limit);
    expected(end, false, keep);
    ok(end > 0 && end <= limit && read_back(s, seen) && count_differences(seen, keep) == 0,
       "below %llu only the last record per key is left (keyless ones and tombstones kept); the rest untouched",
       (unsigned long long)end);

    /* The reader that was in the first segment goes on in the old file, then in the new ones. */
    long long prev = (long long)early_read - 1;
    bool ordered = true;
    uint64_t more = 0;
    while (weir_reader_next(early, &rec, &err) == 1)
        ordered &= (long long)rec.offset > prev, prev = (long long)rec.offset, more++;
    ok(ordered && prev == N - 1, "a reader opened before the pass reads on to the end in order (%llu more)",
       (unsigned long long)more);
    weir_reader_close(early);

    static unsigned char ro_seen[N];
    ok(read_back(ros, ro_seen) && count_differences(ro_seen, keep) == 0,
       "a read-only log opened before the pass reads the rewritten segments");
    weir_log_close(ro, &err);

    ok(weir_stream_compact(s, 0, limit, 0, 0, NULL, &freed, &err) == WEIR_OK && freed == 0,
       "nothing new below the limit: no pass");
    /* A pass in steps of about 8 KiB read, readers reading between them. */
    uint64_t read = 0, total = 0;
    int steps = 0;
    bool between = true;
    do {
        rc = weir_stream_compact(s, 0, UINT64_MAX, 0, 8192, &read, &freed, &err);
        total += freed;
        steps++;
        between &= read_back(s, seen);
    } while (rc == WEIR_OK && read > 0 && steps < 1000);
    ok(rc == WEIR_OK && total > 0 && steps > 3 && between,
       "the dirty segments above the old limit outweigh the clean ones: a pass, in %d steps, readers between them "
       "reading what was written", steps);
    end = compacted_end(dir, "table", UINT64_MAX);
    expected(end, false, keep);
    ok(read_back(s, seen) && count_differences(seen, keep) == 0, "every sealed segment compacted (up to %llu)",
       (unsigned long long)end);
    ok(weir_log_close(log, &err) == WEIR_OK, "close");

    log = open_log_with(dir, (weir_log_options){0});
    weir_stream_open(log, "table", &s, &err);
    ok(read_back(s, seen) && count_differences(seen, keep) == 0 && !*weir_log_recovery_report(log),
       "after reopen (the indexes vouch) the same records, nothing cut");
    weir_log_close(log, &err);

    char cmd[4400];
    snprintf(cmd, sizeof cmd, "rm -f %s/streams/table/0/*.idx", dir);
    if (system(cmd) != 0)
        BAIL("rm idx");
    log = open_log_with(dir, (weir_log_options){0});
    weir_stream_open(log, "table", &s, &err);
    ok(read_back(s, seen) && count_differences(seen, keep) == 0 && !*weir_log_recovery_report(log),
       "without the indexes the scan accepts the gaps: the same records, nothing cut (%s)",
       weir_log_recovery_report(log));

    int rc2 = weir_stream_compact(s, 0, UINT64_MAX, 0, 0, NULL, &freed, &err);
    ok(rc2 == WEIR_OK && freed == 0, "the cleaned-<offset> marker outlives the process: no pass over clean segments");
    weir_log_close(log, &err);

    /* Without the marker everything is dirty again; a day and more after
     * the records, their tombstones go too. */
    snprintf(cmd, sizeof cmd, "rm %s/streams/table/0/cleaned-*", dir);
    if (system(cmd) != 0)
        BAIL("rm cleaned");
    log = open_log_with(dir, (weir_log_options){0});
    weir_stream_open(log, "table", &s, &err);
    rc2 = weir_stream_compact(s, 0, UINT64_MAX, 200LL * 86400 * 1000, 0, NULL, &freed, &err);
    ok(rc2 == WEIR_OK && freed > 0, "a pass long after (%s)", rc2 ? err.msg : "");
    expected(end, true, keep);
    ok(read_back(s, seen) && count_differences(seen, keep) == 0, "tombstones past delete_retention_ms are gone");
    weir_partition_stats st;
    weir_stream_partition_stats(s, 0, &st, &err);
    is_int(st.end_offset, N, "the end offset is unchanged");
    weir_log_close(log, &err);
}

/* Kills and power cuts at each I/O call of a pass: every reopen must find
 * each record written or gone only if superseded, nothing cut. */
static void test_crashes(const char *dir)
{
    static unsigned char keep[N], seen[N], all[N];
    memset(all, 1, N);
    int rounds = 0, bad = 0;
    for (int kind = 0; kind < 3; kind++) {
        for (int k = 1; k < 200; k++) {
            char sub[4200];
            snprintf(sub, sizeof sub, "%s/crash-%d-%d", dir, kind, k);
            fault_reset((uint64_t)(kind * 1000 + k));
            weir_log *log = open_log_with(sub, (weir_log_options){.io = &fault_io});
            weir_stream *s = make_stream(log, "table");
            write_records(log, s, 0, N);
            if (kind == 0)
                F.kill_at_write = F.writes + k;
            else if (kind == 1)
                F.crash_at_sync = F.syncs + k;
            else
                F.crash_at_fsync = F.fsyncs + k;
            weir_err err;
            uint64_t end = compacted_end(sub, "table", UINT64_MAX);
            int rc = weir_stream_compact(s, 0, UINT64_MAX, 0, 0, NULL, NULL, &err);
            bool crashed = F.crashed;
            weir_log_close(log, &err);
            fault_reset(0);
            log = open_log_with(sub, (weir_log_options){0});
            expected(end, false, keep);
            bool good = weir_stream_open(log, "table", &s, &err) == WEIR_OK && read_back(s, seen) &&
                        !*weir_log_recovery_report(log);
            for (int i = 0; good && i < N; i++)
                good = !keep[i] || seen[i];
            if (!good)
                diag("kind %d at call %d: %s", kind, k, weir_log_recovery_report(log)), bad++;
            weir_log_close(log, &err);
            tap_rmrf(sub);
            rounds++;
            if (!crashed && rc == WEIR_OK)
                break; /* the pass finished before the fault */
        }
    }
    ok(bad == 0, "%d crashes during a pass: every key's last record and every record not superseded survive", rounds);
}

/* A changelog whose keys are written once: a pass removes nothing, and
 * the next waits for twice the clean bytes (then a pass runs again). */
static void test_futile(const char *dir)
{
    weir_log *log = open_log_with(dir, (weir_log_options){0});
    weir_stream *s = make_stream(log, "unique");
    weir_err err;
    uint64_t seq = 0, read = 0, freed = 0;
    for (; seq < 2000; seq++)
        if (append_seq(s, seq, 0, &err) || (seq % 20 == 19 && weir_log_commit(log, &err)))
            BAIL("append: %s", err.msg);
    weir_log_commit(log, &err);
    int rc = weir_stream_compact(s, 0, UINT64_MAX, 0, 0, &read, &freed, &err);
    ok(rc == WEIR_OK && read > 0 && freed == 0, "a pass over unique keys reads %llu bytes and removes nothing",
       (unsigned long long)read);
    uint64_t first = read;
    for (; seq < 4000; seq++)
        if (append_seq(s, seq, 0, &err) || (seq % 20 == 19 && weir_log_commit(log, &err)))
            BAIL("append: %s", err.msg);
    weir_log_commit(log, &err);
    rc = weir_stream_compact(s, 0, UINT64_MAX, 0, 0, &read, &freed, &err);
    ok(rc == WEIR_OK && read == 0, "as many bytes again: no pass (it waits for twice the clean bytes)");
    for (; seq < 7000; seq++)
        if (append_seq(s, seq, 0, &err) || (seq % 20 == 19 && weir_log_commit(log, &err)))
            BAIL("append: %s", err.msg);
    weir_log_commit(log, &err);
    rc = weir_stream_compact(s, 0, UINT64_MAX, 0, 0, &read, &freed, &err);
    ok(rc == WEIR_OK && read > first, "past twice: a pass (%llu bytes read)", (unsigned long long)read);
    weir_log_close(log, &err);
}

static void test_reconfigure_and_words(const char *dir)
{
    weir_log *log = open_log_with(dir, (weir_log_options){0});
    weir_stream *s;
    weir_err err;
    weir_stream_config c = {.partitions = 2};
    weir_stream_create(log, "cfg", &c, &s, &err);
    weir_stream_config want = {.retention_ms = 3600000, .compact = true, .segment_bytes = 1 << 20};
    ok(weir_stream_reconfigure(s, &want, &err) == WEIR_OK, "reconfigure");
    weir_stream_config wrong = {.partitions = 3};
    ok(weir_stream_reconfigure(s, &wrong, &err) == WEIR_EINVAL && strstr(err.msg, "2 partitions"),
       "a different partition count is refused: %s", err.msg);
    weir_log_close(log, &err);
    log = open_log_with(dir, (weir_log_options){0});
    weir_stream_open(log, "cfg", &s, &err);
    const weir_stream_config *got = weir_stream_get_config(s);
    ok(got->retention_ms == 3600000 && got->compact && got->segment_bytes == 1 << 20 && got->partitions == 2 &&
           got->delete_retention_ms == 86400000,
       "the new settings are in stream.conf (tombstones kept a day by default)");
    weir_log_close(log, &err);

    static const struct { const char *text; int64_t ms; } good[] = {
        {"7 days", 604800000}, {"1 hour", 3600000}, {"30 minutes", 1800000}, {"250", 250},
        {"forever", -1}, {"-1", -1}, {"90 s", 90000}, {"2 weeks", 1209600000}, {"1 DAY", 86400000},
    };
    int right = 0;
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        int64_t ms;
        char why[256];
        right += weir_retention_parse(good[i].text, &ms, why, sizeof why) && ms == good[i].ms;
    }
    is_int(right, (int)(sizeof good / sizeof *good), "retention words are read");
    static const char *const bad[] = {"", "soon", "7 fortnights", "0", "-5", "1.5 hours", "99999999999999 days"};
    int refused = 0;
    char why[256] = "";
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int64_t ms;
        refused += !weir_retention_parse(bad[i], &ms, why, sizeof why);
    }
    is_int(refused, (int)(sizeof bad / sizeof *bad), "bad ones are refused (last: %s)", why);
}

int main(void)
{
    plan(25);
    char *dir = tap_tmpdir("compact");
    test_compaction(dir);
    test_crashes(dir);
    test_futile(dir);
    test_reconfigure_and_words(dir);
    tap_rmrf(dir);
    free(dir);
    return done();
}
