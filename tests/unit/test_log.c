/*
 * test_log.c - the embedded log's contract: append/commit/read, offsets
 * across reopen, seeks through the sparse index, segment rolls, retention,
 * consumer groups, names, locking and read-only readers.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "log_helpers.h"

#define N 20000

static weir_log *open_log(const char *dir, bool read_only)
{
    return open_log_with(dir, (weir_log_options){.read_only = read_only});
}

static void test_round_trip(const char *dir)
{
    weir_log *log = open_log(dir, false);
    weir_stream *s;
    weir_err err;
    ok(weir_stream_create(log, "events", NULL, &s, &err) == WEIR_OK, "create stream with defaults");
    is_int(weir_stream_get_config(s)->partitions, 4, "default is 4 partitions");
    int rc = 0;
    for (uint64_t i = 0; i < N && !rc; i++) {
        rc = append_seq(s, i, 1000 + (int64_t)i, &err);
        if (!rc && i % 1000 == 999)
            rc = weir_log_commit(log, &err);
    }
    ok(rc == 0, "append and commit %d records", N);

    /* Uncommitted records are invisible to readers. */
    append_seq(s, N, 0, &err);
    weir_partition_stats st;
    uint64_t total = 0;
    for (uint32_t p = 0; p < 4; p++) {
        weir_stream_partition_stats(s, p, &st, &err);
        total += st.end_offset;
    }
    is_int(total, N, "end offsets count committed records only");
    weir_log_abort(log);
    is_int(weir_log_pending_records(log), 0, "abort drops the uncommitted record");

    static unsigned char seen[N + 1];
    uint64_t count;
    ok(read_all(s, seen, N + 1, &count) && count == N, "read back all %d, intact, right partition, in order", N);
    ok(!seen[N], "the aborted record is not in the log");
    ok(weir_log_close(log, &err) == WEIR_OK, "clean close");

    /* Reopen: offsets continue, nothing is lost. */
    log = open_log(dir, false);
    is_str(weir_log_recovery_report(log), "", "clean reopen needs no recovery");
    ok(weir_stream_open(log, "events", &s, &err) == WEIR_OK, "open stream after reopen");
    weir_stream_partition_stats(s, 1, &st, &err);
    uint64_t end1 = st.end_offset;
    weir_record r = {.value = (const uint8_t *)"{\"x\":1}", .value_len = 7, .ts_ms = 5};
    uint32_t part;
    uint64_t off;
    weir_stream_append(s, 1, &r, &part, &off, &err);
    ok(part == 1 && off == end1, "explicit partition; offset continues at %llu", (unsigned long long)end1);
    weir_log_commit(log, &err);

    /* A reader from the middle starts exactly there (index seek). */
    weir_reader *rd;
    weir_reader_open(s, 2, 1234, &rd, &err);
    weir_record got;
    ok(weir_reader_next(rd, &got, &err) == 1 && got.offset == 1234, "reader from offset 1234 returns offset 1234 first");
    weir_reader_close(rd);
    ok(weir_stream_append(s, 7, &r, NULL, NULL, &err) == WEIR_EINVAL, "appending to a partition that does not exist fails");
    weir_log_close(log, &err);
}

static void test_keys_headers_limits(const char *dir)
{
    weir_log *log = open_log(dir, false);
    weir_stream *s;
    weir_err err;
    weir_stream_config c = {.partitions = 1};
    weir_stream_create(log, "misc", &c, &s, &err);
    weir_buf h = {0};
    weir_headers_add(&h, "source", "test", 4);
    weir_headers_add(&h, "empty", "", 0);
    weir_record a = {.key = NULL, .value = (const uint8_t *)"{}", .value_len = 2, .headers = h.data, .headers_len = h.len, .ts_ms = -5};
    weir_record b = {.key = (const uint8_t *)"", .key_len = 0, .value = (const uint8_t *)"", .value_len = 0, .ts_ms = 7};
    weir_stream_append(s, -1, &a, NULL, NULL, &err);
    weir_stream_append(s, -1, &b, NULL, NULL, &err);
    static uint8_t big[WEIR_MAX_RECORD_SIZE + 1];
    weir_record c2 = {.value = big, .value_len = sizeof big};
    ok(weir_stream_append(s, -1, &c2, NULL, NULL, &err) == WEIR_EINVAL && strstr(err.msg, "limit"), "a record over 16 MiB is refused");
    c2.value_len = WEIR_MAX_RECORD_SIZE;
    ok(weir_stream_append(s, -1, &c2, NULL, NULL, &err) == WEIR_OK, "a record of exactly 16 MiB is accepted");
    ok(weir_log_commit(log, &err) == WEIR_OK, "commit");
    weir_reader *rd;
    weir_reader_open(s, 0, 0, &rd, &err);
    weir_record r;
    weir_reader_next(rd, &r, &err);
    size_t pos = 0;
    weir_header hd, hd2;
    bool h1 = weir_headers_next(r.headers, r.headers_len, &pos, &hd);
    bool h2 = weir_headers_next(r.headers, r.headers_len, &pos, &hd2);
    ok(!r.key && r.ts_ms == -5 && h1 && hd.name_len == 6 && !memcmp(hd.value, "test", 4) && h2 && hd2.value_len == 0 &&
           !weir_headers_next(r.headers, r.headers_len, &pos, &hd),
       "null key, negative timestamp and headers round-trip");
    weir_reader_next(rd, &r, &err);
    ok(r.key && r.key_len == 0 && r.value_len == 0 && r.ts_ms == 7, "empty key is not a null key; empty value kept");
    ok(weir_reader_next(rd, &r, &err) == 1 && r.value_len == WEIR_MAX_RECORD_SIZE, "16 MiB record read back");
    ok(weir_reader_next(rd, &r, &err) == 0, "then the end");
    weir_reader_close(rd);
    weir_buf_free(&h);
    weir_log_close(log, &err);
}

static int count_files(const char *dir, const char *suffix)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -c '%s$'", dir, suffix);
    FILE *f = popen(cmd, "r");
    int n = 0;
    if (!f || fscanf(f, "%d", &n) != 1)
        n = -1;
    if (f)
        pclose(f);
    return n;
}

static void test_segments_and_retention(const char *dir)
{
    weir_log *log = open_log(dir, false);
    weir_stream *s;
    weir_err err;
    weir_stream_config c = {.partitions = 1, .segment_bytes = 64 << 10, .retention_bytes = 256 << 10};
    weir_stream_create(log, "rolled", &c, &s, &err);
    const uint64_t n = 10000;
    for (uint64_t i = 0; i < n; i++) {
        append_seq(s, i, (int64_t)i, &err); /* timestamps 0..n-1 ms */
        if (i % 100 == 99)
            weir_log_commit(log, &err);
    }
    weir_log_commit(log, &err);
    char pdir[4200];
    snprintf(pdir, sizeof pdir, "%s/streams/rolled/0", dir);
    int segs = count_files(pdir, ".log");
    ok(segs > 10, "64 KiB segments rolled (%d segment files)", segs);
    is_int(count_files(pdir, ".idx"), segs - 1, "every sealed segment has an index");

    weir_partition_stats before, after;
    weir_stream_partition_stats(s, 0, &before, &err);
    ok(weir_log_apply_retention(log, 0, &err) == WEIR_OK, "apply byte retention");
    weir_stream_partition_stats(s, 0, &after, &err);
    ok(after.start_offset > 0 && after.bytes >= (uint64_t)c.retention_bytes && after.bytes < before.bytes,
       "old segments deleted, at least retention_bytes kept (start now %llu)", (unsigned long long)after.start_offset);
    is_int(after.end_offset, n, "end offset unchanged");
    is_int(count_files(pdir, ".log"), (int)after.segments, "deleted segments' files are gone");

    /* Whole segments only: reading from 0 starts at the new start and sees
     * every record from there to the end. */
    weir_reader *rd;
    weir_reader_open(s, 0, 0, &rd, &err);
    weir_record r;
    uint64_t expect = after.start_offset, bad = 0;
    while (weir_reader_next(rd, &r, &err) == 1)
        bad += r.offset != expect++ || value_seq(&r) != (long long)r.offset;
    ok(bad == 0 && expect == n, "reader skips to the start offset and reads every later record");
    weir_reader_close(rd);

    /* Time retention: every record is older than 1 ms at time n + 10 000;
     * all sealed segments go, the active one stays. */
    weir_log_close(log, &err);
    log = open_log(dir, false);
    weir_stream_open(log, "rolled", &s, &err);
    weir_stream_partition_stats(s, 0, &before, &err);
    is_int(before.start_offset, after.start_offset, "start offset survives reopen");
    /* the conf holds retention_ms = 0; set time retention in memory through a new stream */
    weir_stream_config t = {.partitions = 1, .segment_bytes = 64 << 10, .retention_ms = 1000};
    weir_stream *ts;
    weir_stream_create(log, "timed", &t, &ts, &err);
    for (uint64_t i = 0; i < 5000; i++) {
        append_seq(ts, i, i < 4000 ? 0 : 100000, &err);
        if (i % 100 == 99)
            weir_log_commit(log, &err);
    }
    weir_log_commit(log, &err);
    weir_log_apply_retention(log, 50000, &err);
    weir_stream_partition_stats(ts, 0, &after, &err);
    ok(after.start_offset > 0 && after.start_offset <= 4000, "segments whose newest record is past retention_ms deleted (start %llu)",
       (unsigned long long)after.start_offset);
    weir_log_apply_retention(log, 1000000, &err);
    weir_stream_partition_stats(ts, 0, &after, &err);
    ok(after.segments == 1 && after.end_offset == 5000, "the active segment is never deleted");
    weir_log_close(log, &err);
}

static void test_groups(const char *dir)
{
    weir_log *log = open_log(dir, true); /* groups work on read-only logs */
    weir_err err;
    uint64_t off[3] = {9, 9, 9};
    ok(weir_group_load(log, "g1", "events", off, 3, &err) == WEIR_OK && off[0] == 0 && off[2] == 0,
       "a group that never committed starts at 0");
    uint64_t set[3] = {5, 0, 123456789012345ull};
    ok(weir_group_commit(log, "g1", "events", set, 3, &err) == WEIR_OK, "commit offsets");
    weir_log_close(log, &err);
    log = open_log(dir, true);
    ok(weir_group_load(log, "g1", "events", off, 3, &err) == WEIR_OK && off[0] == 5 && off[2] == 123456789012345ull,
       "offsets survive reopen");
    char path[4200];
    snprintf(path, sizeof path, "%s/groups/g1/events.offsets", dir);
    FILE *f = fopen(path, "r+");
    fseek(f, 17, SEEK_SET);
    fputc('7', f);
    fclose(f);
    ok(weir_group_load(log, "g1", "events", off, 3, &err) == WEIR_ECORRUPT && strstr(err.msg, "CRC"), "an edited offsets file is detected");
    ok(weir_group_commit(log, "../x", "events", set, 3, &err) == WEIR_EINVAL, "group names cannot escape the directory");
    weir_log_close(log, &err);
}

static void test_names_and_locking(const char *dir)
{
    weir_log *log = open_log(dir, false);
    weir_stream *s;
    weir_err err;
    ok(!weir_name_valid("") && !weir_name_valid("a/b") && !weir_name_valid("..") &&
           !weir_name_valid(".hidden") && weir_name_valid("conjecture.data") && weir_name_valid("user-login"),
       "stream names: dots and dashes yes, slashes and leading dots no");
    ok(weir_stream_create(log, "a/b", NULL, &s, &err) == WEIR_EINVAL, "create refuses a bad name");
    ok(weir_stream_create(log, "events", NULL, &s, &err) == WEIR_EEXIST, "create refuses an existing stream");
    ok(weir_stream_open(log, "nope", &s, &err) == WEIR_ENOENT && strstr(err.msg, "does not exist"), "open of a missing stream says so");
    weir_log *second;
    weir_log_options o = {0};
    ok(weir_log_open(dir, &o, &second, &err) == WEIR_EBUSY && strstr(err.msg, "in use by another weir process"),
       "a second writer is refused: %s", err.msg);
    weir_log *reader = open_log(dir, true);
    weir_stream *rs, *ws;
    weir_stream_open(reader, "events", &rs, &err);
    weir_stream_open(log, "events", &ws, &err);
    weir_partition_stats st;
    weir_stream_partition_stats(rs, 3, &st, &err);
    uint64_t before = st.end_offset;
    weir_record r = {.value = (const uint8_t *)"{\"late\":1}", .value_len = 10};
    weir_stream_append(ws, 3, &r, NULL, NULL, &err);
    weir_log_commit(log, &err);
    weir_reader *rd;
    weir_reader_open(rs, 3, before, &rd, &err);
    weir_record got;
    ok(weir_reader_next(rd, &got, &err) == 1 && got.value_len == 10, "a read-only reader sees what the writer commits later");
    ok(weir_stream_append(rs, 0, &r, NULL, NULL, &err) == WEIR_EINVAL, "read-only logs refuse appends");
    weir_reader_close(rd);
    weir_log_close(reader, &err);
    weir_log_close(log, &err);
}

static void test_truncate(const char *dir)
{
    weir_log *log = open_log(dir, false);
    weir_stream *s;
    weir_err err;
    weir_stream_config c = {.partitions = 1, .segment_bytes = 8 << 10};
    weir_stream_create(log, "cut", &c, &s, &err);
    for (uint64_t i = 0; i < 1000; i++) {
        append_seq(s, i, (int64_t)i, &err);
        if (i % 50 == 49)
            weir_log_commit(log, &err);
    }
    weir_partition_stats st;
    weir_stream_partition_stats(s, 0, &st, &err);
    uint32_t before = st.segments;
    ok(weir_stream_truncate(s, 0, 325, &err) == WEIR_EINVAL && strstr(err.msg, "inside a batch"),
       "truncating inside a batch is refused");
    ok(weir_stream_truncate(s, 0, 300, &err) == WEIR_OK, "truncate to a commit boundary in an older segment");
    weir_stream_partition_stats(s, 0, &st, &err);
    ok(st.end_offset == 300 && st.segments < before, "end offset 300, later segments gone (%u of %u left)", st.segments, before);
    weir_record r = {.key = (const uint8_t *)"k", .key_len = 1, .value = (const uint8_t *)"{}", .value_len = 2};
    uint64_t off;
    weir_stream_append(s, 0, &r, NULL, &off, &err);
    weir_log_commit(log, &err);
    is_int(off, 300, "appends continue at the cut");
    weir_log_close(log, &err);
    log = open_log(dir, false);
    weir_stream_open(log, "cut", &s, &err);
    weir_reader *rd;
    weir_reader_open(s, 0, 0, &rd, &err);
    weir_record got;
    uint64_t n = 0, bad = 0;
    while (weir_reader_next(rd, &got, &err) == 1) {
        bad += got.offset != n || (n < 300 && value_seq(&got) != (long long)n);
        n++;
    }
    ok(n == 301 && bad == 0 && !*weir_log_recovery_report(log), "after reopen: records 0-299 and the new one, nothing to repair");
    weir_reader_close(rd);
    weir_log_close(log, &err);
}

int main(void)
{
    plan(47);
    char *dir = tap_tmpdir("log");
    test_round_trip(dir);
    test_keys_headers_limits(dir);
    test_segments_and_retention(dir);
    test_groups(dir);
    test_names_and_locking(dir);
    test_truncate(dir);
    tap_rmrf(dir);
    free(dir);
    return done();
}
