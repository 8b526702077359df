/*
 * test_log_trim.c - weir_stream_delete_before (src/log/partition.c): a
 * partition's sealed segments wholly below a limit go, the first kept
 * segment's base becomes its start, the active segment stays whatever the
 * limit; a reader asking for an offset before the start starts at it, one
 * already inside a deleted segment reads it to its end; the start holds
 * across a reopen (no commit is cut, even with every sealed segment
 * gone) and for a read-only log opened beside the writer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log_helpers.h"

#define N 2000

static void write_seqs(weir_log *log, weir_stream *s, uint64_t from, uint64_t to)
{
    weir_err err;
    for (uint64_t i = from; i < to; i++)
        if (append_seq(s, i, (int64_t)i, &err) || (i % 20 == 19 && weir_log_commit(log, &err)))
            BAIL("append %llu: %s", (unsigned long long)i, err.msg);
    if (weir_log_commit(log, &err))
        BAIL("commit: %s", err.msg);
}

static weir_partition_stats stats_of(weir_stream *s)
{
    weir_partition_stats st;
    weir_err err;
    if (weir_stream_partition_stats(s, 0, &st, &err))
        BAIL("stats: %s", err.msg);
    return st;
}

/* Reads partition 0 from `from`: true if it returns exactly the records
 * first..end-1 in order (each intact, its offset its seq). */
static bool reads_exactly(weir_stream *s, uint64_t from, uint64_t first, uint64_t end)
{
    weir_reader *r;
    weir_err err;
    if (weir_reader_open(s, 0, from, &r, &err))
        return diag("reader_open: %s", err.msg), false;
    weir_record rec;
    int got;
    uint64_t want = first;
    bool good = true;
    while (good && (got = weir_reader_next(r, &rec, &err)) == 1) {
        good = rec.offset == want && value_seq(&rec) == (long long)want;
        if (!good)
            diag("offset %llu (seq %lld) where %llu was due", (unsigned long long)rec.offset, value_seq(&rec),
                 (unsigned long long)want);
        want++;
    }
    weir_reader_close(r);
    if (good && got < 0)
        return diag("read: %s", err.msg), false;
    return good && want == end;
}

int main(void)
{
    plan(12);
    char *dir = tap_tmpdir("log_trim");
    weir_log *log = open_log_with(dir, (weir_log_options){0});
    weir_stream_config c = {.partitions = 1, .segment_bytes = 8 << 10};
    weir_stream *s;
    weir_err err;
    if (weir_stream_create(log, "changelog", &c, &s, &err))
        BAIL("create: %s", err.msg);
    write_seqs(log, s, 0, N);
    weir_partition_stats before = stats_of(s);
    ok(before.segments > 5 && before.start_offset == 0, "%u segments to start with", before.segments);

    /* A reader inside the first segment before the deletion. */
    weir_reader *early;
    weir_record rec;
    if (weir_reader_open(s, 0, 3, &early, &err) || weir_reader_next(early, &rec, &err) != 1)
        BAIL("early reader: %s", err.msg);

    uint64_t limit = N / 2, freed = 0;
    int rc = weir_stream_delete_before(s, 0, limit, &freed, &err);
    weir_partition_stats after = stats_of(s);
    ok(rc == WEIR_OK && after.start_offset > 0 && after.start_offset <= limit && after.end_offset == N,
       "below offset %llu: the partition starts at %llu, still ends at %d", (unsigned long long)limit,
       (unsigned long long)after.start_offset, N);
    ok(freed > 0 && freed == before.bytes - after.bytes && after.segments < before.segments,
       "%llu bytes freed, %u segments left", (unsigned long long)freed, after.segments);
    ok(reads_exactly(s, 0, after.start_offset, N), "a reader asking for offset 0 starts at the first kept offset");
    ok(reads_exactly(s, limit, limit, N), "a reader at the limit reads on from it");

    /* The early reader reads its (deleted) segment to the end, then goes on at the next kept segment. */
    uint64_t expect = 4, gap_at = 0;
    bool early_good = value_seq(&rec) == 3;
    int got;
    while (early_good && (got = weir_reader_next(early, &rec, &err)) == 1) {
        if (rec.offset != expect && !gap_at)
            gap_at = expect;
        early_good = value_seq(&rec) == (long long)rec.offset && (rec.offset == expect || rec.offset == after.start_offset);
        expect = rec.offset + 1;
    }
    weir_reader_close(early);
    ok(early_good && expect == N && (!gap_at || gap_at < after.start_offset),
       "a reader inside a deleted segment reads it to its end, then the kept ones (intact, in order)");

    ok(weir_stream_delete_before(s, 0, limit / 2, &freed, &err) == WEIR_OK && freed == 0 &&
       stats_of(s).start_offset == after.start_offset, "a lower limit deletes nothing");

    /* A read-only log beside the writer sees the new start. */
    weir_log *ro = open_log_with(dir, (weir_log_options){.read_only = true});
    weir_stream *rs;
    ok(weir_stream_open(ro, "changelog", &rs, &err) == WEIR_OK && stats_of(rs).start_offset == after.start_offset &&
       reads_exactly(rs, 0, after.start_offset, N), "a read-only log reads from the same start");
    ok(weir_stream_delete_before(rs, 0, N, &freed, &err) == WEIR_EINVAL, "a read-only log refuses: %s", err.msg);
    weir_log_close(ro, &err);

    /* Everything sealed goes; the active segment stays. Roll first so that the active one is empty. */
    write_seqs(log, s, N, N + 400);
    rc = weir_stream_delete_before(s, 0, UINT64_MAX, &freed, &err);
    weir_partition_stats all = stats_of(s);
    ok(rc == WEIR_OK && all.segments == 1 && all.end_offset == N + 400 && all.start_offset <= N + 400,
       "every sealed segment deleted, the active one kept (starts at %llu)", (unsigned long long)all.start_offset);
    if (weir_log_close(log, &err))
        BAIL("close: %s", err.msg);

    log = open_log_with(dir, (weir_log_options){0});
    ok(weir_stream_open(log, "changelog", &s, &err) == WEIR_OK && !*weir_log_recovery_report(log) &&
       stats_of(s).start_offset == all.start_offset && stats_of(s).end_offset == N + 400,
       "a reopen keeps the start and the end and cuts nothing: '%s'", weir_log_recovery_report(log));
    ok(reads_exactly(s, 0, all.start_offset, N + 400) &&
       weir_stream_delete_before(s, 1, 0, NULL, &err) == WEIR_EINVAL, "reads from the start again; a partition it lacks "
       "is refused: %s", err.msg);
    weir_log_close(log, &err);
    tap_rmrf(dir);
    free(dir);
    return done();
}
