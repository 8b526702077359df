/*
 * test_runner.c - the runner's exactly-once loop (runner.h) without HTTP:
 * a producer appends records to a log opened on the fault layer
 * (fault_io.h), the runner steps and checkpoints, and the process is cut
 * at the N-th write (kill -9), at the N-th fdatasync or fsync (power cut),
 * or sees a failed fdatasync or fsync, during a step, a checkpoint or an
 * append. After each fault the log and a new runner are reopened (a
 * restart), the producer appends what did not reach the log, and the run
 * goes to the end. Its outputs (a derived stream, a table's changelog, an
 * EMIT FINAL windowed table, the dead letters) must equal those of a run
 * that was never interrupted: no row lost, none twice, each key's rows in
 * the same order.
 *
 * At each restart, before and after the new runner restores: what
 * DIR/pipeline/stable shows readers never goes past the checkpoint, the
 * checkpoint never names output rows the cut lost, and after the restore
 * every output ends exactly where the checkpoint says.
 */
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "exec/runner.h"
#include "sql/sql.h"

#include "fault_io.h"
#include "log_helpers.h"

static const char *pipeline =
    "CREATE STREAM src (id UINT, k TEXT, v INT, ts TIMESTAMP) WITH (partitions = 3, key = 'k', timestamp = 'ts');"
    "CREATE STREAM kept AS SELECT id, k, v, ts FROM src WHERE v % 3 <> 0;"
    "CREATE TABLE per_k AS SELECT k, COUNT(*) AS n, SUM(v) AS total FROM kept GROUP BY k;"
    "CREATE TABLE per_min AS SELECT k, window_start, COUNT(*) AS n, MAX(v) AS top "
    "  FROM TUMBLE(src, INTERVAL '1' MINUTE) GROUP BY k EMIT FINAL;";

#define NREC 480      /* input records */
#define CHUNK 40      /* appended per commit, one commit before each step */
#define CKPT_EVERY 3  /* steps between checkpoints */
#define NOUT 4

/* The pipeline's outputs, rows of unfinished epochs included (the dead
 * letters are kept across restarts, see runner.c note_dead_letters). */
static const char *const outputs[NOUT] = {"kept", "per_k", "per_min", "src.dlq"};

static weir_catalog cat;

/* Record i: keyed by one of 16 keys, a second apart; every 29th is not JSON. */
static void record_text(int i, char *key, char *value, size_t cap)
{
    snprintf(key, 16, "k%d", i % 16);
    if (i % 29 == 28)
        snprintf(value, cap, "{\"id\":%d, broken", i);
    else
        snprintf(value, cap, "{\"id\":%d,\"k\":\"k%d\",\"v\":%d,\"ts\":%lld}", i, i % 16, (i * 7) % 100,
                 1700000000000LL + (long long)i * 1000);
}

/* How many of the input records the log holds; -1 unless they are
 * exactly records 0..n-1 (an acknowledged one lost, or one twice). */
static int inputs_present(weir_log *log)
{
    weir_stream *s;
    weir_err err;
    static unsigned char seen[NREC];
    if (weir_stream_open(log, "src", &s, &err) == WEIR_ENOENT)
        return 0;
    memset(seen, 0, sizeof seen);
    int n = 0;
    for (uint32_t p = 0; p < weir_stream_get_config(s)->partitions; p++) {
        weir_reader *rd;
        weir_record rec;
        int got, id;
        if (weir_reader_open(s, p, 0, &rd, &err))
            return -1;
        while ((got = weir_reader_next(rd, &rec, &err)) == 1) {
            if (sscanf((const char *)rec.value, "{\"id\":%d", &id) != 1 || id < 0 || id >= NREC || seen[id]++) {
                weir_reader_close(rd);
                return -1;
            }
            n++;
        }
        weir_reader_close(rd);
        if (got < 0)
            return -1;
    }
    for (int i = 0; i < n; i++)
        if (!seen[i])
            return -1;
    return n;
}

/* The output ends a checkpoint file names (format in runner.c), per
 * output of `outputs` and partition; false if there is none. */
static bool checkpoint_ends(const char *dir, uint64_t ends[NOUT][8])
{
    char path[4200], *data;
    size_t len;
    weir_err err;
    snprintf(path, sizeof path, "%s/pipeline/checkpoint", dir);
    if (weir_io_read_file(&weir_io_posix, path, &data, &len, &err))
        return false;
    weir_reader_buf rd = {(const uint8_t *)data, (const uint8_t *)data + len, false};
    weir_get_u32(&rd);
    weir_get_u64(&rd);
    weir_get_u64(&rd);
    for (int pass = 0; pass < 2; pass++) { /* inputs, then outputs */
        uint32_t n = weir_get_u32(&rd);
        for (uint32_t i = 0; i < n && !rd.bad; i++) {
            uint32_t name_len, parts;
            const uint8_t *name = weir_get_bytes(&rd, &name_len);
            parts = weir_get_u32(&rd);
            for (uint32_t p = 0; p < parts && !rd.bad; p++) {
                uint64_t v = weir_get_u64(&rd);
                for (int o = 0; pass == 1 && o < NOUT && p < 8; o++)
                    if (name && strlen(outputs[o]) == name_len && !memcmp(outputs[o], name, name_len))
                        ends[o][p] = v;
            }
        }
    }
    free(data);
    return !rd.bad;
}

typedef struct run_stats {
    int restarts;
    int violations;            /* restart checks that failed (each says why) */
    int in_checkpoint;         /* faults that stopped a checkpoint file's write (DIR/pipeline/...) */
} run_stats;

/* The checks at a restart, between the log's reopen and the runner's. */
static void check_before_restore(const char *dir, weir_log *log, uint64_t ck[NOUT][8], bool *have, run_stats *st)
{
    *have = checkpoint_ends(dir, ck);
    for (int o = 0; o < 3 && *have; o++) { /* the dead letters are never cut back */
        weir_stream *s;
        weir_err err;
        if (weir_stream_open(log, outputs[o], &s, &err))
            continue;
        for (uint32_t p = 0; p < 3; p++) {
            weir_partition_stats ps;
            uint64_t stable;
            if (weir_stream_partition_stats(s, p, &ps, &err) == WEIR_OK && ck[o][p] > ps.end_offset) {
                st->violations++;
                diag("%s/%u: the checkpoint names end %llu, the log kept %llu", outputs[o], p,
                     (unsigned long long)ck[o][p], (unsigned long long)ps.end_offset);
            }
            if (weir_pipeline_stable_end(dir, outputs[o], p, &stable) && stable > ck[o][p]) {
                st->violations++;
                diag("%s/%u: readers were shown end %llu, past the checkpoint's %llu", outputs[o], p,
                     (unsigned long long)stable, (unsigned long long)ck[o][p]);
            }
        }
    }
}

static void check_after_restore(weir_log *log, uint64_t ck[NOUT][8], run_stats *st)
{
    for (int o = 0; o < 3; o++) {
        weir_stream *s;
        weir_err err;
        if (weir_stream_open(log, outputs[o], &s, &err))
            continue;
        for (uint32_t p = 0; p < 3; p++) {
            weir_partition_stats ps;
            if (weir_stream_partition_stats(s, p, &ps, &err) == WEIR_OK && ps.end_offset != ck[o][p]) {
                st->violations++;
                diag("%s/%u: after the restore it ends at %llu, the checkpoint says %llu", outputs[o], p,
                     (unsigned long long)ps.end_offset, (unsigned long long)ck[o][p]);
            }
        }
    }
}

/* Runs the pipeline over the NREC records in dir, on io (the fault layer,
 * already armed, or NULL for the real one): append a chunk, step, every
 * CKPT_EVERY steps a checkpoint, finish. Any error is a process that
 * stops: everything is closed and reopened on the fault layer, disarmed,
 * and the run goes on. Returns false if a restart could not proceed. */
static bool run(const char *dir, const weir_io *io, run_stats *st)
{
    /* Steps begin a checkpoint every other step (written by its own thread
     * while this one appends), and every CKPT_EVERY steps one is asked for. */
    weir_runner_options ro = {.checkpoint_ms = 20, .idle_ms = -1, .batch = 25};
    bool finished = false;
    int64_t now = 1000;
    while (!finished) {
        weir_log *log;
        weir_runner *r = NULL;
        weir_err err;
        uint64_t ck[NOUT][8] = {{0}};
        bool have_ck = false;
        if (weir_log_open(dir, &(weir_log_options){.io = io}, &log, &err))
            return diag("reopen %s: %s", dir, err.msg), false;
        int appended = inputs_present(log);
        if (appended < 0) {
            weir_log_close(log, &err);
            return diag("the input lost an acknowledged record or holds one twice"), false;
        }
        if (st->restarts)
            check_before_restore(dir, log, ck, &have_ck, st);
        weir_stream *src;
        int rc = weir_stream_open_or_create(log, "src", &(weir_stream_config){.partitions = 3}, &src, &err);
        if (rc == WEIR_OK)
            rc = weir_runner_open(log, &cat, pipeline, strlen(pipeline), &ro, &r, &err);
        if (rc == WEIR_OK && have_ck)
            check_after_restore(log, ck, st);
        for (int steps = 0; rc == WEIR_OK && !finished; steps++) {
            for (int i = appended; i < appended + CHUNK && i < NREC && rc == WEIR_OK; i++) {
                char key[16], value[160];
                record_text(i, key, value, sizeof value);
                weir_record rec = {.key = (const uint8_t *)key, .key_len = strlen(key),
                                   .value = (const uint8_t *)value, .value_len = strlen(value)};
                rc = weir_stream_append(src, -1, &rec, NULL, NULL, &err);
            }
            if (rc == WEIR_OK && (rc = weir_log_commit(log, &err)) == WEIR_OK)
                appended = appended + CHUNK < NREC ? appended + CHUNK : NREC;
            uint64_t processed;
            if (rc == WEIR_OK)
                rc = weir_runner_step(r, now += 10, &processed, &err);
            if (rc == WEIR_OK && steps % CKPT_EVERY == CKPT_EVERY - 1)
                rc = weir_runner_checkpoint(r, &err);
            if (rc == WEIR_OK && appended == NREC && weir_runner_caught_up(r, false)) {
                rc = weir_runner_finish(r, &err);
                finished = rc == WEIR_OK;
            }
        }
        if (rc != WEIR_OK && !io)
            BAIL("the run without faults failed: %s", err.msg);
        st->in_checkpoint += rc != WEIR_OK && strstr(err.msg, "/pipeline/");
        weir_err why = err;
        weir_runner_close(r);
        weir_log_close(log, &err);
        if (!finished && st->restarts == 20)
            return diag("20 restarts and still no end; the last error: %s", why.msg), false;
        if (!finished) {
            st->restarts++;
            fault_reset(0); /* the next process: no faults */
        }
    }
    return true;
}

static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Which record of its key in the partition this one is (0, 1, ...):
 * keys[] and counts[] hold the keys seen so far. */
static unsigned key_ordinal(char keys[][64], unsigned *counts, int *nkeys, const weir_record *rec)
{
    char key[64];
    snprintf(key, sizeof key, "%.*s", (int)rec->key_len, (const char *)rec->key);
    for (int i = 0; i < *nkeys; i++)
        if (!strcmp(keys[i], key))
            return counts[i]++;
    if (*nkeys == 512)
        BAIL("more keys than the test expects");
    strcpy(keys[*nkeys], key);
    counts[(*nkeys)++] = 1;
    return 0;
}

/* Every output's records as text, one line per record ("stream/partition
 * key ordinal value"), sorted: the same lines mean the same rows in each
 * partition with each key's rows in the same order, whatever the
 * interleaving of keys (which depends on where steps cut the input).
 * Records without a key (the dead letters of three partitions meet in
 * one) compare as a set. Caller frees. */
static char *outputs_text(const char *dir)
{
    weir_log *log = open_log_with(dir, (weir_log_options){0});
    weir_buf out = {0};
    size_t cap = 0, n = 0;
    char **lines = NULL;
    static char keys[512][64];
    static unsigned counts[512];
    for (int o = 0; o < NOUT; o++) {
        weir_stream *s;
        weir_err err;
        if (weir_stream_open(log, outputs[o], &s, &err))
            BAIL("open %s: %s", outputs[o], err.msg);
        for (uint32_t p = 0; p < weir_stream_get_config(s)->partitions; p++) {
            weir_reader *rd;
            weir_record rec;
            int got, nkeys = 0;
            if (weir_reader_open(s, p, 0, &rd, &err))
                BAIL("read %s: %s", outputs[o], err.msg);
            while ((got = weir_reader_next(rd, &rec, &err)) == 1) {
                if (n == cap && !(lines = realloc(lines, (cap = cap * 2 + 256) * sizeof *lines)))
                    BAIL("out of memory");
                unsigned ordinal = rec.key ? key_ordinal(keys, counts, &nkeys, &rec) : 0;
                if (asprintf(&lines[n], "%s/%u %.*s %06u %.*s", outputs[o], p, (int)rec.key_len,
                             rec.key ? (const char *)rec.key : "", ordinal, (int)rec.value_len, (const char *)rec.value) < 0)
                    BAIL("out of memory");
                n++;
            }
            weir_reader_close(rd);
            if (got < 0)
                BAIL("read %s: %s", outputs[o], err.msg);
        }
    }
    weir_log_close(log, NULL);
    qsort(lines, n, sizeof *lines, cmp_line);
    for (size_t i = 0; i < n; i++) {
        if (weir_buf_printf(&out, "%s\n", lines[i]))
            BAIL("out of memory");
        free(lines[i]);
    }
    free(lines);
    if (weir_buf_append(&out, "", 1))
        BAIL("out of memory");
    return (char *)out.data;
}

/* The first line where two outputs differ, for the diagnostic. */
static void show_difference(const char *got, const char *want)
{
    size_t at = 0;
    while (got[at] && got[at] == want[at])
        at++;
    while (at && got[at - 1] != '\n')
        at--;
    diag("first difference:\n#   got:  %.*s\n#   want: %.*s", (int)strcspn(got + at, "\n"), got + at,
         (int)strcspn(want + at, "\n"), want + at);
}

typedef enum fault_kind { KILL_AT_WRITE, CUT_AT_FDATASYNC, CUT_AT_FSYNC, FAIL_FDATASYNC, FAIL_FSYNC, FAIL_WRITE, NKINDS } fault_kind;
static const char *const kind_names[NKINDS] = {"kill -9 at write", "power cut at fdatasync", "power cut at fsync",
                                               "failed fdatasync", "failed fsync", "full disk at write"};

/* One run per N (or every step-th N) up to the calls an uninterrupted run
 * makes, each with the fault at the N-th call; every one must end with the
 * reference's outputs. */
static void test_faults(const char *base, fault_kind kind, int calls, int step, const char *want)
{
    int rounds = 0, bad = 0, restarts = 0, in_checkpoint = 0;
    for (int n = 1; n <= calls && bad < 3; n += step) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/%d-%d", base, (int)kind, n);
        fault_reset((uint64_t)n * 31 + (uint64_t)kind);
        switch (kind) {
        case KILL_AT_WRITE: F.kill_at_write = n; break;
        case CUT_AT_FDATASYNC: F.crash_at_sync = n; break;
        case CUT_AT_FSYNC: F.crash_at_fsync = n; break;
        case FAIL_FDATASYNC: F.fail_sync_at = n; break;
        case FAIL_FSYNC: F.fail_fsync_at = n; break;
        default: F.fail_write_at = n; break;
        }
        run_stats st = {0};
        bool ran = run(dir, &fault_io, &st);
        char *got = ran ? outputs_text(dir) : NULL;
        if (!ran || strcmp(got, want) || st.violations) {
            bad++;
            diag("%s %d: %s, %d restart checks failed", kind_names[kind], n, !ran ? "the run could not go on" :
                 strcmp(got, want) ? "outputs differ from the uninterrupted run" : "outputs equal", st.violations);
            if (got && strcmp(got, want))
                show_difference(got, want);
        }
        free(got);
        rounds++;
        restarts += st.restarts;
        in_checkpoint += st.in_checkpoint;
        tap_rmrf(dir);
    }
    bool datasync = kind == CUT_AT_FDATASYNC || kind == FAIL_FDATASYNC; /* the checkpoint files use fsync */
    ok(bad == 0 && restarts > 0 && (datasync || in_checkpoint > 0), "%s N, for %d values of N up to %d: %d restarts (%d in a "
       "checkpoint file), outputs exactly those of the uninterrupted run, stable ends never past the checkpoint, "
       "restores end where it says", kind_names[kind], rounds, calls, restarts, in_checkpoint);
}

int main(void)
{
    plan(2 + NKINDS);
    weir_arena a = {0};
    weir_stmt **stmts;
    size_t nstmts;
    weir_sql_error e;
    if (weir_sql_parse(pipeline, strlen(pipeline), &a, &stmts, &nstmts, &e) || weir_catalog_build(stmts, nstmts, &a, &cat, &e))
        BAIL("pipeline: %s", e.msg);
    char *base = tap_tmpdir("runner");
    char dir[4200];

    /* The reference: no faults, counting what the fault layer would see. */
    snprintf(dir, sizeof dir, "%s/reference", base);
    fault_reset(1);
    run_stats st = {0};
    if (!run(dir, &fault_io, &st))
        BAIL("the reference run failed");
    int writes = F.writes, syncs = F.syncs, fsyncs = F.fsyncs;
    char *want = outputs_text(dir);
    int rows[NOUT] = {0};
    for (const char *l = want; *l; l = strchr(l, '\n') + 1)
        for (int o = 0; o < NOUT; o++)
            rows[o] += !strncmp(l, outputs[o], strlen(outputs[o])) && l[strlen(outputs[o])] == '/';
    ok(st.restarts == 0 && rows[0] > 100 && rows[1] == rows[0] && rows[2] > 16 && rows[3] == NREC / 29,
       "uninterrupted run: %d derived rows, %d changelog rows, %d final windows, %d dead letters; %d writes, %d fdatasyncs, "
       "%d fsyncs", rows[0], rows[1], rows[2], rows[3], writes, syncs, fsyncs);
    tap_rmrf(dir);

    /* The same run on the real file layer gives the same outputs. */
    snprintf(dir, sizeof dir, "%s/posix", base);
    if (!run(dir, NULL, &st))
        BAIL("the run on weir_io_posix failed");
    char *posix = outputs_text(dir);
    ok(!strcmp(posix, want), "the run on weir_io_posix gives the same outputs");
    free(posix);
    tap_rmrf(dir);

    int sample = getenv("WEIR_SOAK") ? 1 : 0;
    test_faults(base, KILL_AT_WRITE, writes, sample ? 1 : 1 + writes / 150, want);
    test_faults(base, CUT_AT_FDATASYNC, syncs, sample ? 1 : 1 + syncs / 100, want);
    test_faults(base, CUT_AT_FSYNC, fsyncs, sample ? 1 : 1 + fsyncs / 100, want);
    test_faults(base, FAIL_FDATASYNC, syncs, sample ? 1 : 1 + syncs / 60, want);
    test_faults(base, FAIL_FSYNC, fsyncs, sample ? 1 : 1 + fsyncs / 60, want);
    test_faults(base, FAIL_WRITE, writes, sample ? 1 : 1 + writes / 60, want);
    free(want);
    tap_rmrf(base);
    free(base);
    weir_arena_free(&a);
    return done();
}
