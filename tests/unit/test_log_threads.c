/*
 * test_log_threads.c - the log's one-writer, many-readers contract (log.h):
 * readers on other threads follow partitions while the writer commits,
 * rolls segments, applies retention and opens new streams, and see every
 * committed record once, intact, in order, and never an error.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "log_helpers.h"

#define RECORDS 60000
#define NEW_STREAMS 24

typedef struct shared {
    weir_log *log;
    weir_stream *s;
    _Atomic bool writer_done;
    _Atomic int streams_made;   /* the writer created s0..s<streams_made-1> */
} shared;

typedef struct follower {
    shared *sh;
    uint32_t partition;
    bool retention;             /* records may vanish ahead of the reader */
    uint64_t count;
    bool ok;
    char why[200];
} follower;

static void *follow(void *arg)
{
    follower *f = arg;
    weir_reader *r;
    weir_err err;
    f->ok = weir_reader_open(f->sh->s, f->partition, 0, &r, &err) == WEIR_OK;
    if (!f->ok) {
        snprintf(f->why, sizeof f->why, "open: %s", err.msg);
        return NULL;
    }
    uint64_t expect = 0;
    for (;;) {
        bool done = atomic_load(&f->sh->writer_done); /* read before the last look */
        weir_record rec;
        int got = weir_reader_next(r, &rec, &err);
        if (got < 0) {
            snprintf(f->why, sizeof f->why, "read at %llu: %s", (unsigned long long)expect, err.msg);
            f->ok = false;
            break;
        }
        if (got == 0) {
            if (done)
                break;
            sched_yield();
            continue;
        }
        if (value_seq(&rec) < 0 || (f->retention ? rec.offset < expect : rec.offset != expect)) {
            snprintf(f->why, sizeof f->why, "offset %llu: expected %llu or a good value", (unsigned long long)rec.offset,
                     (unsigned long long)expect);
            f->ok = false;
            break;
        }
        expect = rec.offset + 1;
        f->count++;
    }
    weir_partition_stats st;
    if (f->ok && (weir_stream_partition_stats(f->sh->s, f->partition, &st, &err) || st.end_offset != expect)) {
        snprintf(f->why, sizeof f->why, "stopped at %llu, the partition ends at %llu", (unsigned long long)expect,
                 (unsigned long long)st.end_offset);
        f->ok = false;
    }
    weir_reader_close(r);
    return NULL;
}

/* Opens the streams the writer creates, and asks for sizes, meanwhile. */
static void *browse(void *arg)
{
    shared *sh = arg;
    bool ok = true;
    while (ok && !atomic_load(&sh->writer_done)) {
        int made = atomic_load(&sh->streams_made);
        for (int i = 0; i < made && ok; i++) {
            char name[16];
            snprintf(name, sizeof name, "s%d", i);
            weir_stream *st;
            weir_err err;
            ok = weir_stream_open(sh->log, name, &st, &err) == WEIR_OK;
        }
        (void)weir_log_bytes(sh->log);
        sched_yield();
    }
    return ok ? sh : NULL;
}

static void run(const char *dir, bool retention)
{
    weir_log *log = open_log_with(dir, (weir_log_options){.fsync = WEIR_FSYNC_NONE});
    shared sh = {.log = log};
    weir_err err;
    weir_stream_config c = {.partitions = 2, .segment_bytes = 16 << 10, .retention_bytes = retention ? 64 << 10 : 0};
    if (weir_stream_create(log, retention ? "kept" : "events", &c, &sh.s, &err))
        BAIL("create: %s", err.msg);
    follower f[4];
    pthread_t t[4], b;
    for (int i = 0; i < 4; i++) {
        f[i] = (follower){.sh = &sh, .partition = (uint32_t)i % 2, .retention = retention};
        pthread_create(&t[i], NULL, follow, &f[i]);
    }
    pthread_create(&b, NULL, browse, &sh);
    int rc = WEIR_OK;
    for (uint64_t i = 0; i < RECORDS && rc == WEIR_OK; i++) {
        rc = append_seq(sh.s, i, (int64_t)i, &err);
        if (rc == WEIR_OK && i % 97 == 96)
            rc = weir_log_commit(log, &err);
        if (rc == WEIR_OK && retention && i % 1000 == 999)
            rc = weir_log_apply_retention(log, (int64_t)i, &err);
        if (rc == WEIR_OK && !retention && i % (RECORDS / NEW_STREAMS) == 0) {
            char name[16];
            weir_stream *st;
            snprintf(name, sizeof name, "s%d", atomic_load(&sh.streams_made));
            if ((rc = weir_stream_create(log, name, NULL, &st, &err)) == WEIR_OK)
                atomic_fetch_add(&sh.streams_made, 1);
        }
    }
    rc = rc ? rc : weir_log_commit(log, &err);
    ok(rc == WEIR_OK, "%s: the writer commits %d records while others read", retention ? "retention" : "rolls", RECORDS);
    atomic_store(&sh.writer_done, true);
    void *browsed;
    pthread_join(b, &browsed);
    uint64_t seen = 0;
    bool all_ok = true;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        if (!f[i].ok)
            diag("reader %d: %s", i, f[i].why);
        all_ok = all_ok && f[i].ok;
        seen += f[i].count;
    }
    ok(all_ok, "%s: every reader sees each committed record once, in order, to the end", retention ? "retention" : "rolls");
    if (retention)
        ok(seen > 0 && seen <= 2 * RECORDS, "retention: readers skip what retention deleted (%llu records read)",
           (unsigned long long)seen);
    else
        ok(seen == 2 * RECORDS, "rolls: two readers per partition read %llu of %d records", (unsigned long long)seen,
           2 * RECORDS);
    ok(browsed != NULL, "%s: streams opened and sizes asked for on another thread meanwhile", retention ? "retention" : "rolls");
    weir_log_close(log, &err);
}

int main(void)
{
    plan(8);
    char *dir = tap_tmpdir("log_threads");
    run(dir, false);
    run(dir, true);
    tap_rmrf(dir);
    free(dir);
    return done();
}
