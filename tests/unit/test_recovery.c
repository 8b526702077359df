/*
 * test_recovery.c - damage and faults: torn and corrupt tails are cut at
 * open and reported, corruption inside a sealed segment is caught by CRC
 * on read, a full disk or a failed fsync loses nothing acknowledged and
 * half-writes nothing, and hundreds of simulated power cuts at random
 * moments never lose an acknowledged record.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "fault_io.h"
#include "log_helpers.h"

static weir_log *open_with(const char *dir, const weir_io *io)
{
    return open_log_with(dir, (weir_log_options){.io = io});
}

static weir_stream *stream_in(weir_log *log, const char *name, const weir_stream_config *c)
{
    weir_stream *s;
    weir_err err;
    if (weir_stream_open(log, name, &s, &err) == WEIR_ENOENT && weir_stream_create(log, name, c, &s, &err))
        BAIL("create %s: %s", name, err.msg);
    return s;
}

/* Appends seqs [from, to) in commits of `per` records. */
static int fill(weir_log *log, weir_stream *s, uint64_t from, uint64_t to, uint64_t per, weir_err *err)
{
    for (uint64_t i = from; i < to; i++) {
        int rc = append_seq(s, i, (int64_t)i, err);
        if (!rc && ((i + 1 - from) % per == 0 || i + 1 == to))
            rc = weir_log_commit(log, err);
        if (rc)
            return rc;
    }
    return WEIR_OK;
}

static void seg_path(char *out, size_t cap, const char *dir, const char *stream, int part, uint64_t base, const char *ext)
{
    snprintf(out, cap, "%s/streams/%s/%d/%020llu.%s", dir, stream, part, (unsigned long long)base, ext);
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static void test_torn_and_corrupt_tails(const char *dir)
{
    weir_err err;
    weir_stream_config one = {.partitions = 1};
    weir_log *log = open_with(dir, NULL);
    weir_stream *s = stream_in(log, "tails", &one);
    fill(log, s, 0, 1000, 100, &err);
    weir_log_close(log, &err);

    /* A torn write: half a batch of garbage after the last good batch. */
    char path[4200], idx[4200];
    seg_path(path, sizeof path, dir, "tails", 0, 0, "log");
    seg_path(idx, sizeof idx, dir, "tails", 0, 0, "idx");
    off_t good = file_size(path);
    FILE *f = fopen(path, "a");
    fwrite("WER1\x90\x01\x00\x00garbage-garbage-garbage-garbage-garbage", 1, 46, f);
    fclose(f);
    log = open_with(dir, NULL);
    const char *rep = weir_log_recovery_report(log);
    ok(strstr(rep, "cut 46 bytes after offset 1000") && strstr(rep, "torn write"), "torn tail cut and reported");
    diag("recovery: %.*s", (int)strcspn(rep, "\n"), rep);
    is_int(file_size(path), good, "file is back to its last good batch");
    s = stream_in(log, "tails", &one);
    static unsigned char seen[4000];
    uint64_t count;
    ok(read_all(s, seen, 4000, &count) && count == 1000, "all 1000 records intact");
    ok(fill(log, s, 1000, 1100, 50, &err) == WEIR_OK, "appends continue after the cut");
    weir_log_close(log, &err);

    /* A flipped byte inside the (indexed, same-size) segment is caught on read. */
    f = fopen(path, "r+");
    fseek(f, 60000, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 60000, SEEK_SET);
    fputc(c ^ 0x20, f);
    fclose(f);
    log = open_with(dir, NULL);
    s = stream_in(log, "tails", &one);
    weir_reader *rd;
    weir_reader_open(s, 0, 0, &rd, &err);
    weir_record r;
    int got;
    uint64_t before = 0;
    while ((got = weir_reader_next(rd, &r, &err)) == 1)
        before++;
    ok(got < 0 && err.code == WEIR_ECORRUPT && strstr(err.msg, "CRC mismatch") && strstr(err.msg, "00000000000000000000.log at"),
       "reader reports the corrupt batch with file and position: %s", err.msg);
    weir_reader_close(rd);
    weir_log_close(log, &err);

    /* After a crash the active segment has no index that vouches for it: the
     * scan at open finds the flipped byte and cuts from that batch on. */
    unlink(idx);
    log = open_with(dir, NULL);
    rep = weir_log_recovery_report(log);
    ok(strstr(rep, "CRC mismatch") && strstr(rep, "cut"), "open without index detects the corrupt batch");
    diag("recovery: %.*s", (int)strcspn(rep, "\n"), rep);
    s = stream_in(log, "tails", &one);
    memset(seen, 0, sizeof seen);
    bool readable = read_all(s, seen, 4000, &count);
    ok(readable && before > 0 && count == before, "the good prefix (%llu records) is kept", (unsigned long long)before);
    weir_log_close(log, &err);
}

static void test_cut_sealed_segment(const char *dir)
{
    weir_err err;
    weir_stream_config c = {.partitions = 1, .segment_bytes = 16 << 10};
    weir_log *log = open_with(dir, NULL);
    weir_stream *s = stream_in(log, "sealed", &c);
    fill(log, s, 0, 3000, 20, &err);
    weir_log_close(log, &err);
    char path[4200];
    seg_path(path, sizeof path, dir, "sealed", 0, 0, "log");
    off_t size = file_size(path);
    ok(truncate(path, size / 2) == 0, "cut the first sealed segment in half");
    log = open_with(dir, NULL);
    ok(strstr(weir_log_recovery_report(log), "00000000000000000000.log: cut"), "open notices the sealed segment no longer matches its index");
    s = stream_in(log, "sealed", &c);
    static unsigned char seen[3000];
    uint64_t count;
    bool readable = read_all(s, seen, 3000, &count);
    ok(readable && count < 3000 && seen[0] && seen[2999],
       "reading skips the gap: %llu records, first and last present", (unsigned long long)count);
    weir_log_close(log, &err);
}

static void test_enospc(const char *dir)
{
    weir_err err;
    weir_stream_config c = {.partitions = 3};
    fault_reset(1);
    weir_log *log = open_with(dir, &fault_io);
    weir_stream *s = stream_in(log, "full", &c);
    fill(log, s, 0, 300, 100, &err);
    F.fail_write_at = F.writes + 2; /* the second partition's write in the next commit */
    int rc = fill(log, s, 300, 400, 100, &err);
    ok(rc == WEIR_ENOSPC && strstr(err.msg, "No space left"), "a full disk fails the commit clearly: %s", err.msg);
    static unsigned char seen[1000];
    uint64_t count;
    ok(read_all(s, seen, 1000, &count) && count == 300, "readers see only the 300 acknowledged records");
    ok(fill(log, s, 400, 500, 100, &err) == WEIR_OK, "once space is back, commits work again");
    weir_log_close(log, &err);
    log = open_with(dir, NULL);
    is_str(weir_log_recovery_report(log), "", "nothing to repair: the failed batch was rolled back in every partition");
    s = stream_in(log, "full", &c);
    memset(seen, 0, sizeof seen);
    ok(read_all(s, seen, 1000, &count) && count == 400 && !seen[350] && seen[450], "after reopen: 0-299 and 400-499, none of 300-399");
    weir_log_close(log, &err);
}

static void test_fsync_failure(const char *dir)
{
    weir_err err;
    weir_stream_config c = {.partitions = 2};
    fault_reset(2);
    weir_log *log = open_with(dir, &fault_io);
    weir_stream *s = stream_in(log, "nosync", &c);
    fill(log, s, 0, 200, 100, &err);
    F.fail_sync_at = F.syncs + 1;
    ok(fill(log, s, 200, 300, 100, &err) == WEIR_EIO && strstr(err.msg, "fsync"), "a failed fsync fails the commit: %s", err.msg);
    int rc = fill(log, s, 300, 400, 100, &err);
    ok(rc == WEIR_EFATAL && strstr(err.msg, "reopen"), "and the partition refuses writes until reopened: %s", err.msg);
    weir_log_close(log, &err);
    log = open_with(dir, NULL);
    s = stream_in(log, "nosync", &c);
    static unsigned char seen[1000];
    uint64_t count;
    ok(read_all(s, seen, 1000, &count) && count >= 200 && seen[0] && seen[199], "after reopen every acknowledged record is there");
    ok(fill(log, s, 400, 500, 100, &err) == WEIR_OK, "and writes work again");
    weir_log_close(log, &err);
}

/* A stream with deferred sync (a pipeline's outputs): commits publish
 * without fdatasync, weir_log_sync makes them durable, and a power cut
 * keeps everything synced before it. */
static void test_deferred_sync(const char *dir)
{
    weir_err err;
    weir_stream_config c = {.partitions = 2};
    fault_reset(3);
    weir_log *log = open_with(dir, &fault_io);
    weir_stream *s = stream_in(log, "derived", &c);
    weir_stream_defer_sync(s, true);
    int syncs = F.syncs;
    static unsigned char seen[1000];
    uint64_t count;
    ok(fill(log, s, 0, 300, 50, &err) == WEIR_OK && F.syncs == syncs && read_all(s, seen, 1000, &count) && count == 300,
       "deferred: six commits, no fdatasync, and readers see all 300 records");
    ok(weir_log_sync(log, &err) == WEIR_OK && F.syncs == syncs + 2, "weir_log_sync syncs the two partitions once each");
    ok(weir_log_sync(log, &err) == WEIR_OK && F.syncs == syncs + 2, "and nothing when nothing waits");
    fill(log, s, 300, 400, 50, &err);
    F.crash_at_sync = F.syncs + 1;
    weir_log_sync(log, &err); /* the power goes: the last 100 were never synced */
    weir_log_close(log, &err);
    log = open_with(dir, NULL);
    s = stream_in(log, "derived", &c);
    memset(seen, 0, sizeof seen);
    bool all = read_all(s, seen, 1000, &count);
    for (int i = 0; i < 300; i++)
        all = all && seen[i];
    ok(all && count >= 300 && count <= 400, "after the power cut the 300 synced records are there (%llu in all)",
       (unsigned long long)count);
    weir_log_close(log, &err);
}

/* Random workloads cut by a simulated power failure at a random fsync. */
static void test_power_cuts(const char *base, int rounds)
{
    int failures = 0, total_acked = 0;
    for (int round = 0; round < rounds && failures == 0; round++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/cut%d", base, round);
        weir_err err;
        weir_stream_config c = {.partitions = 1 + round % 3, .segment_bytes = 8 << 10};
        fault_reset((uint64_t)round + 100);
        F.crash_at_sync = 1 + (int)(fault_rand() % 60);
        weir_log *log = open_with(dir, &fault_io);
        weir_stream *s = stream_in(log, "cuts", &c);
        uint64_t seq = 0, acked = 0;
        while (!F.crashed && seq < 100000) {
            uint64_t n = 1 + fault_rand() % 40;
            int rc = 0;
            for (uint64_t i = 0; i < n && !rc; i++)
                { rc = append_seq(s, seq, (int64_t)seq, &err); seq++; }
            if (!rc)
                rc = weir_log_commit(log, &err);
            if (!rc)
                acked = seq; /* every record before seq is acknowledged */
        }
        weir_log_close(log, &err);

        log = open_with(dir, NULL);
        s = stream_in(log, "cuts", &c);
        unsigned char *seen = calloc(seq + 1, 1);
        uint64_t count;
        bool readable = read_all(s, seen, seq + 1, &count);
        uint64_t missing = 0;
        for (uint64_t i = 0; i < acked; i++)
            missing += !seen[i];
        bool writable = fill(log, s, seq, seq + 50, 25, &err) == WEIR_OK;
        if (!readable || missing || !writable) {
            failures++;
            diag("round %d: readable %d, %llu of %llu acknowledged missing, writable %d (%s)", round, readable,
                 (unsigned long long)missing, (unsigned long long)acked, writable, err.msg);
        }
        total_acked += (int)acked;
        free(seen);
        weir_log_close(log, &err);
        tap_rmrf(dir);
    }
    ok(failures == 0, "%d simulated power cuts: every acknowledged record (%d in all) survived, logs readable and writable",
       rounds, total_acked);
}

int main(void)
{
    plan(24);
    char *dir = tap_tmpdir("recovery");
    test_torn_and_corrupt_tails(dir);
    test_cut_sealed_segment(dir);
    test_enospc(dir);
    test_fsync_failure(dir);
    test_deferred_sync(dir);
    test_power_cuts(dir, getenv("WEIR_SOAK") ? 5000 : 300);
    tap_rmrf(dir);
    free(dir);
    return done();
}
