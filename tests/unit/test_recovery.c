/*
 * test_recovery.c - damage and faults: torn and corrupt tails are cut at
 * open and reported, corruption inside a sealed segment is caught by CRC
 * on read, a full disk or a failed fsync loses nothing acknowledged and
 * half-writes nothing, hundreds of simulated power cuts at random
 * moments never lose an acknowledged record, and a commit over several
 * partitions cut by a kill or a power cut is kept whole or not at all
 * (docs/LOG_FORMAT.md rule 8), also when its partitions sync in parallel
 * threads and one of them fails.
 */
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/crc32c.h"

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

/* Appends, as append_seq does, the first record from *seq on whose key
 * goes to partition `part`; *seq moves past it. */
static int append_on(weir_stream *s, uint32_t part, uint64_t *seq, weir_err *err)
{
    uint32_t n = weir_stream_get_config(s)->partitions;
    for (;; (*seq)++) {
        char key[32];
        int kn = snprintf(key, sizeof key, "k%llu", (unsigned long long)*seq);
        if (weir_partition_for_key(key, (size_t)kn, n) == part)
            break;
    }
    int rc = append_seq(s, *seq, (int64_t)*seq, err);
    (*seq)++;
    return rc;
}

/* The parallel commit path (log.c sync_pending: one thread per partition,
 * which fault_io allows as weir_io_posix does): one partition's fdatasync
 * fails in its thread while seven others succeed. The commit fails, keeps
 * nothing in any partition, the failed partition refuses writes while the
 * others take commits, and after a reopen none of the failed commit's
 * records is there and the partition writes again. */
static void test_parallel_fsync_failure(const char *dir)
{
    weir_err err;
    weir_stream_config c = {.partitions = 8};
    static unsigned char seen[2000];
    uint64_t count, seq = 1000;
    fault_reset(5);
    weir_log *log = open_with(dir, &fault_io);
    weir_stream *s = stream_in(log, "wide", &c);
    fill(log, s, 0, 800, 200, &err);
    F.fail_sync_path = "/wide/5/";
    F.nsync_threads = 0;
    int rc = fill(log, s, 800, 1000, 200, &err);
    ok(rc == WEIR_EIO && strstr(err.msg, "fsync") && strstr(err.msg, "wide/5/"),
       "a failed fdatasync of partition 5 fails the commit: %s", err.msg);
    ok(F.nsync_threads >= 2, "the partitions were synced by %d threads (the parallel path)", F.nsync_threads);
    F.fail_sync_path = NULL;
    ok(read_all(s, seen, 2000, &count) && count == 800, "readers see only the 800 records before it");
    rc = append_on(s, 5, &seq, &err);
    ok(rc == WEIR_EFATAL && strstr(err.msg, "reopen"), "partition 5 refuses writes until reopened: %s", err.msg);
    ok(append_on(s, 0, &seq, &err) == WEIR_OK && append_on(s, 7, &seq, &err) == WEIR_OK && weir_log_commit(log, &err) == WEIR_OK,
       "the other partitions take a commit");
    weir_log_close(log, &err);
    log = open_with(dir, NULL);
    s = stream_in(log, "wide", &c);
    memset(seen, 0, sizeof seen);
    bool none = read_all(s, seen, 2000, &count);
    for (int i = 800; i < 1000; i++)
        none = none && !seen[i];
    ok(none && count == 802, "after reopen nothing of the failed commit is there, in any partition (%llu records)",
       (unsigned long long)count);
    ok(append_on(s, 5, &seq, &err) == WEIR_OK && weir_log_commit(log, &err) == WEIR_OK, "and partition 5 writes again");
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
    F.nsync_threads = 0;
    ok(weir_log_sync(log, &err) == WEIR_OK && F.syncs == syncs + 2, "weir_log_sync syncs the two partitions once each");
    ok(F.nsync_threads == 2, "in parallel, one thread each, as a commit does (%d threads)", F.nsync_threads);
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

/* The highest commit id in any batch header of the stream's segment files,
 * read with the batch checker; 0 if there is none. */
static uint64_t max_commit_id(const char *dir, const char *stream, uint32_t parts)
{
    uint64_t max = 0;
    for (uint32_t p = 0; p < parts; p++) {
        char pdir[4200];
        snprintf(pdir, sizeof pdir, "%s/streams/%s/%u", dir, stream, p);
        DIR *d = opendir(pdir);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            size_t nl = strlen(e->d_name);
            char path[8400], *data;
            size_t len;
            weir_err err;
            snprintf(path, sizeof path, "%s/%s", pdir, e->d_name);
            if (nl < 4 || strcmp(e->d_name + nl - 4, ".log") || weir_io_read_file(&weir_io_posix, path, &data, &len, &err))
                continue;
            weir_batch_info info;
            bool truncated;
            for (size_t pos = 0; weir_batch_check((uint8_t *)data + pos, len - pos, &info, &truncated, &err) == WEIR_OK;
                 pos += info.len)
                if (info.commit_id > max)
                    max = info.commit_id;
            free(data);
        }
        if (d)
            closedir(d);
    }
    return max;
}

/* Random commits over 2-5 partitions, some large enough for early writes,
 * some with a deferred-sync stream in the same commit, cut by a kill -9 at
 * a random write or a power cut at a random fdatasync. After reopening:
 * every acknowledged record is there, the commit in flight is there whole
 * or not at all, and the next commit's id is higher than any before. */
static void test_atomic_commits(const char *base, int rounds)
{
    int failures = 0, whole = 0, none = 0, kills = 0;
    for (int round = 0; round < rounds && failures == 0; round++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/atomic%d", base, round);
        weir_err err;
        weir_stream_config c = {.partitions = 2 + round % 4, .segment_bytes = round % 3 ? 0 : 256 << 10};
        fault_reset((uint64_t)round + 7000);
        bool kill = round % 2 == 0;
        weir_log *log = open_with(dir, &fault_io);
        weir_stream *s = stream_in(log, "src", &c), *out = NULL;
        if (round % 3 == 1) {
            out = stream_in(log, "out", &c);
            weir_stream_defer_sync(out, true);
        }
        if (kill)
            F.kill_at_write = F.writes + 1 + (int)(fault_rand() % 60);
        else
            F.crash_at_sync = F.syncs + 1 + (int)(fault_rand() % 60);
        uint64_t seq = 0, acked = 0, inflight = 0, oseq = 0;
        while (!F.crashed && seq < 1000000) {
            uint64_t n = fault_rand() % 12 == 0 ? 12000 + fault_rand() % 30000 : 1 + fault_rand() % 60;
            int rc = 0;
            acked = seq;
            inflight = 0;
            for (uint64_t i = 0; i < n && !rc; i++) {
                rc = append_seq(s, seq, (int64_t)seq, &err);
                seq++;
                inflight += !rc;
                if (!rc && out && i % 4 == 0)
                    rc = append_seq(out, oseq++, 0, &err);
            }
            if (!rc)
                rc = weir_log_commit(log, &err);
            if (!rc)
                acked = seq;
        }
        weir_log_close(log, &err);
        uint64_t id_before = max_commit_id(dir, "src", c.partitions);
        if (out && max_commit_id(dir, "out", c.partitions) > id_before)
            id_before = max_commit_id(dir, "out", c.partitions);

        log = open_with(dir, NULL);
        s = stream_in(log, "src", &c);
        unsigned char *seen = calloc(seq + 1, 1);
        uint64_t count, missing = 0, kept = 0;
        bool readable = read_all(s, seen, seq + 1, &count);
        for (uint64_t i = 0; i < seq; i++)
            if (i < acked)
                missing += !seen[i];
            else
                kept += seen[i];
        if (out) {
            unsigned char *oseen = calloc(oseq + 1, 1);
            readable = readable && read_all(stream_in(log, "out", &c), oseen, oseq + 1, &count);
            free(oseen);
        }
        bool atomic = kept == 0 || kept == inflight;
        bool writable = fill(log, s, seq, seq + 200, 200, &err) == WEIR_OK;
        weir_log_close(log, &err);
        uint64_t id_after = max_commit_id(dir, "src", c.partitions);
        if (!readable || missing || !atomic || !writable || id_after <= id_before) {
            failures++;
            diag("round %d (%s): readable %d, %llu of %llu acknowledged missing, %llu of the %llu in flight kept, "
                 "writable %d, commit id %llu then %llu (%s)", round, kill ? "kill" : "power cut", readable,
                 (unsigned long long)missing, (unsigned long long)acked, (unsigned long long)kept,
                 (unsigned long long)inflight, writable, (unsigned long long)id_before, (unsigned long long)id_after,
                 err.msg);
        }
        whole += kept > 0 && kept == inflight;
        none += kept == 0;
        kills += kill;
        free(seen);
        tap_rmrf(dir);
    }
    diag("commits in flight: %d kept whole, %d cut or never written", whole, none);
    ok(failures == 0, "%d commits over several partitions cut by a kill (%d) or a power cut: each kept whole or not at "
       "all, acknowledged ones intact, commit ids increasing after reopen", rounds, kills);
}

/* Removing a partition's last batch must not make the last commit look
 * incomplete to recovery: a drop, a truncate, retention. */
static void test_removals_keep_commits(const char *dir)
{
    weir_err err;
    weir_stream_config two = {.partitions = 2};
    static unsigned char seen[1000];
    uint64_t count, seq = 0;

    /* One commit over a's and b's partitions, then b dropped. */
    weir_log *log = open_with(dir, NULL);
    weir_stream *a = stream_in(log, "a", &two), *b = stream_in(log, "b", &two);
    for (uint32_t p = 0; p < 2; p++)
        if (append_on(a, p, &seq, &err) || append_on(b, p, &seq, &err))
            BAIL("append: %s", err.msg);
    ok(weir_log_commit(log, &err) == WEIR_OK && weir_stream_drop(log, "b", &err) == WEIR_OK, "a commit over two streams, one dropped");
    weir_log_close(log, &err);
    log = open_with(dir, NULL);
    is_str(weir_log_recovery_report(log), "", "reopen cuts nothing");
    a = stream_in(log, "a", &two);
    ok(read_all(a, seen, 1000, &count) && count == 2, "the other stream's records of that commit are there");

    /* Two commits over a's partitions, then partition 1 cut back past the second. */
    uint64_t end1 = 0;
    weir_partition_stats st;
    for (int k = 0; k < 2; k++) {
        for (uint32_t p = 0; p < 2; p++)
            if (append_on(a, p, &seq, &err))
                BAIL("append: %s", err.msg);
        if (weir_log_commit(log, &err))
            BAIL("commit: %s", err.msg);
        if (k == 0 && weir_stream_partition_stats(a, 1, &st, &err) == WEIR_OK)
            end1 = st.end_offset;
    }
    ok(weir_stream_truncate(a, 1, end1, &err) == WEIR_OK, "partition 1 truncated back to the end of the first commit");
    weir_log_close(log, &err);
    log = open_with(dir, NULL);
    is_str(weir_log_recovery_report(log), "", "reopen cuts nothing from partition 0");
    a = stream_in(log, "a", &two);
    memset(seen, 0, sizeof seen);
    bool readable = read_all(a, seen, 1000, &count);
    ok(readable && count == 5, "partition 0 keeps the second commit's record (%llu records)", (unsigned long long)count);
    weir_log_close(log, &err);

    /* A commit over r's two partitions; the next one, on partition 0 only,
     * rolls it to a new segment and fails (that segment stays empty); then
     * retention deletes partition 0's old segment, its last batch. */
    weir_stream_config c = {.partitions = 2, .segment_bytes = 64, .retention_ms = 1000};
    fault_reset(4);
    log = open_with(dir, &fault_io);
    weir_stream *r = stream_in(log, "r", &c);
    seq = 100;
    for (uint32_t p = 0; p < 2; p++)
        if (append_on(r, p, &seq, &err))
            BAIL("append: %s", err.msg);
    if (weir_log_commit(log, &err))
        BAIL("commit: %s", err.msg);
    F.fail_write_at = F.writes + 2; /* the roll writes the old segment's index, then the batch */
    ok(append_on(r, 0, &seq, &err) == WEIR_OK && weir_log_commit(log, &err) == WEIR_ENOSPC, "a commit on partition 0 fails after rolling");
    ok(weir_log_apply_retention(log, weir_wall_ms(), &err) == WEIR_OK &&
       weir_stream_partition_stats(r, 0, &st, &err) == WEIR_OK && st.segments == 1 && st.bytes == 0,
       "retention deletes partition 0's only batch");
    weir_log_close(log, &err);
    log = open_with(dir, NULL);
    is_str(weir_log_recovery_report(log), "", "reopen cuts nothing from partition 1");
    r = stream_in(log, "r", &c);
    memset(seen, 0, sizeof seen);
    ok(read_all(r, seen, 1000, &count) && count == 1, "partition 1 keeps its record of the commit");
    weir_log_close(log, &err);
}

/* A flipped byte in the last batch of a segment its index vouches for is
 * media damage, not a crash: the log still opens, cuts nothing, says the
 * commit check was skipped, and readers report the damage. */
static void test_damaged_last_batch(const char *dir)
{
    weir_err err;
    weir_stream_config two = {.partitions = 2};
    weir_log *log = open_with(dir, NULL);
    weir_stream *s = stream_in(log, "flip", &two);
    fill(log, s, 0, 200, 50, &err);
    weir_log_close(log, &err);
    char path[4200];
    seg_path(path, sizeof path, dir, "flip", 0, 0, "log");
    FILE *f = fopen(path, "r+");
    fseek(f, -10, SEEK_END);
    int c = fgetc(f);
    fseek(f, -10, SEEK_END);
    fputc(c ^ 0x01, f);
    fclose(f);
    weir_log *again;
    weir_log_options o = {0};
    int rc = weir_log_open(dir, &o, &again, &err);
    ok(rc == WEIR_OK && strstr(weir_log_recovery_report(again), "flip/0: commit check skipped"), "the log opens and reports the damaged last batch: %s",
       rc == WEIR_OK ? weir_log_recovery_report(again) : err.msg);
    if (rc)
        return;
    s = stream_in(again, "flip", &two);
    weir_reader *r;
    weir_record rec;
    int got = -1;
    uint64_t n = 0;
    if (weir_reader_open(s, 1, 0, &r, &err) == WEIR_OK) {
        while ((got = weir_reader_next(r, &rec, &err)) == 1)
            n++;
        weir_reader_close(r);
    }
    ok(got == 0 && n > 0, "partition 1 reads whole (%llu records)", (unsigned long long)n);
    if (weir_reader_open(s, 0, 0, &r, &err) == WEIR_OK) {
        while ((got = weir_reader_next(r, &rec, &err)) == 1)
            ;
        weir_reader_close(r);
    }
    ok(got < 0 && err.code == WEIR_ECORRUPT, "reading partition 0 reports the damage: %s", err.msg);
    if (weir_stream_drop(again, "flip", &err)) /* the later tests want reopens with nothing to report */
        BAIL("drop: %s", err.msg);
    weir_log_close(again, &err);
}

/* Writes a WER1 batch (the format before commit markers) by hand. */
static void write_wer1_batch(FILE *f, uint64_t base, const uint64_t *seqs, uint32_t n)
{
    weir_buf b = {0};
    uint8_t h[40] = "WER1";
    if (weir_buf_append(&b, h, sizeof h))
        BAIL("out of memory");
    for (uint32_t i = 0; i < n; i++) {
        char key[32], value[160];
        uint32_t kn = (uint32_t)snprintf(key, sizeof key, "k%llu", (unsigned long long)seqs[i]);
        uint32_t vn = (uint32_t)snprintf(value, sizeof value, "{\"seq\":%llu,\"pad\":\"%.*s\"}", (unsigned long long)seqs[i],
                                         (int)(seqs[i] % 64), "0123456789012345678901234567890123456789012345678901234567890123");
        uint32_t body = 16 + kn + vn, hl = 0;
        int64_t ts = (int64_t)seqs[i];
        if (weir_buf_append(&b, &body, 4) || weir_buf_append(&b, &ts, 8) || weir_buf_append(&b, &kn, 4) ||
            weir_buf_append(&b, &hl, 4) || weir_buf_append(&b, key, kn) || weir_buf_append(&b, value, vn))
            BAIL("out of memory");
    }
    uint32_t len = (uint32_t)b.len;
    int64_t min_ts = (int64_t)seqs[0], max_ts = (int64_t)seqs[n - 1];
    memcpy(b.data + 4, &len, 4);
    memcpy(b.data + 12, &n, 4);
    memcpy(b.data + 16, &base, 8);
    memcpy(b.data + 24, &min_ts, 8);
    memcpy(b.data + 32, &max_ts, 8);
    uint32_t crc = weir_crc32c(0, b.data + 12, len - 12);
    memcpy(b.data + 8, &crc, 4);
    if (fwrite(b.data, 1, b.len, f) != b.len)
        BAIL("write: %s", strerror(errno));
    weir_buf_free(&b);
}

/* A data directory of the old format (WER1 batches, no index, as a crash
 * leaves it) opens, reads, and takes new commits beside the old batches. */
static void test_old_format(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/streams/old", dir);
    weir_err err;
    if (weir_mkdirs(path, &err))
        BAIL("%s", err.msg);
    static unsigned char seen[1000];
    uint64_t seq = 200, count;
    for (uint32_t p = 0; p < 2; p++) {
        uint64_t seqs[6];
        uint32_t n = 0;
        for (; n < 6; seq++) {
            char key[32];
            int kn = snprintf(key, sizeof key, "k%llu", (unsigned long long)seq);
            if (weir_partition_for_key(key, (size_t)kn, 2) == p)
                seqs[n++] = seq;
        }
        snprintf(path, sizeof path, "%s/streams/old/%u", dir, p);
        if (weir_mkdirs(path, &err))
            BAIL("%s", err.msg);
        seg_path(path, sizeof path, dir, "old", (int)p, 0, "log");
        FILE *f = fopen(path, "wb");
        if (!f)
            BAIL("create %s", path);
        write_wer1_batch(f, 0, seqs, 2);
        write_wer1_batch(f, 2, seqs + 2, 4);
        fclose(f);
    }
    snprintf(path, sizeof path, "%s/streams/old/stream.conf", dir);
    FILE *f = fopen(path, "w");
    fputs("partitions=2\n", f);
    fclose(f);
    weir_log *log = open_with(dir, NULL);
    is_str(weir_log_recovery_report(log), "", "old-format segments open with nothing cut");
    weir_stream_config two = {.partitions = 2};
    weir_stream *s = stream_in(log, "old", &two);
    ok(read_all(s, seen, 1000, &count) && count == 12, "their 12 records read back");
    ok(fill(log, s, 300, 310, 10, &err) == WEIR_OK, "a new commit goes after them");
    weir_log_close(log, &err);
    log = open_with(dir, NULL);
    s = stream_in(log, "old", &two);
    memset(seen, 0, sizeof seen);
    ok(read_all(s, seen, 1000, &count) && count == 22 && max_commit_id(dir, "old", 2) > 0,
       "after reopen old and new batches read back (22 records)");
    weir_log_close(log, &err);
}

int main(void)
{
    plan(50);
    char *dir = tap_tmpdir("recovery");
    test_torn_and_corrupt_tails(dir);
    test_cut_sealed_segment(dir);
    test_enospc(dir);
    test_fsync_failure(dir);
    test_parallel_fsync_failure(dir);
    test_deferred_sync(dir);
    test_power_cuts(dir, getenv("WEIR_SOAK") ? 5000 : 300);
    test_atomic_commits(dir, getenv("WEIR_SOAK") ? 2000 : 120);
    test_removals_keep_commits(dir);
    test_damaged_last_batch(dir);
    test_old_format(dir);
    tap_rmrf(dir);
    free(dir);
    return done();
}
