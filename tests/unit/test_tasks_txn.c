/*
 * test_tasks_txn.c - scale-out tasks under exactly once (tasks.c with a
 * task store that has begin, emit, end and aborted: serve
 * --kafka-exactly-once) without Kafka: one runner reads a 2-partition
 * source that hands its partitions out as a consumer group would and can
 * read one again from an offset (seek); the store keeps each task's
 * emitted rows in an open transaction, which a save commits with the
 * state, and the test makes a save or an emit abort under the task.
 *
 * A checkpoint interval the transactions would not outlast is refused.
 * Then checked, each time on the committed rows (what a read_committed
 * reader sees): every (key, count) update of the table once, none missing:
 * - a save whose transaction is aborted sends the task back to its last
 *   commit and the records after it are read again;
 * - so does an emit aborted under the task, at the next checkpoint;
 * - a partition lost with rows in its open transaction has them aborted
 *   and, handed back, is restored from its last commit;
 * - a row refused every time stops the pipeline after a few resets that
 *   commit nothing new, naming the partition and the refusal.
 */
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "base/hash.h"
#include "exec/runner.h"
#include "exec/task_log.h"
#include "sql/sql.h"

static const char *pipeline = "CREATE STREAM ev (k TEXT, v INT) WITH (partitions = 2, key = 'k');"
                              "CREATE TABLE tot AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k;";

#define NKEYS 6
#define RECORDS 120 /* per partition, at most */
#define ROWS 4096

/* ---- the source ---- */

static struct {
    char value[2][RECORDS][48], key[2][RECORDS][8];
    int n[2];
} topic;

static struct {
    weir_input_tasks tasks;
    bool owned[2], gain[2], lose[2];
    uint64_t pos[2];
    int seeks;
} src;

static int src_next(void *state, uint32_t p, weir_record *rec, weir_err *err)
{
    (void)state;
    for (uint32_t q = 0; q < 2; q++) {
        if (src.lose[q]) {
            src.lose[q] = src.owned[q] = false;
            src.tasks.lost(src.tasks.ctx, q);
        }
        if (src.gain[q]) {
            src.gain[q] = false;
            int rc = src.tasks.gained(src.tasks.ctx, q, &src.pos[q], err);
            if (rc)
                return -rc;
            src.owned[q] = true;
        }
    }
    if (!src.owned[p] || src.pos[p] >= (uint64_t)topic.n[p])
        return 0;
    uint64_t i = src.pos[p]++;
    *rec = (weir_record){.key = (const uint8_t *)topic.key[p][i], .key_len = strlen(topic.key[p][i]),
                         .value = (const uint8_t *)topic.value[p][i], .value_len = strlen(topic.value[p][i]),
                         .ts_ms = 1000, .offset = i};
    return 1;
}

static bool src_caught_up(void *state, uint32_t p, uint64_t offset)
{
    (void)state;
    return !src.owned[p] || offset >= (uint64_t)topic.n[p];
}

static int64_t src_end(void *state, uint32_t p) { (void)state; return topic.n[p]; }
static void src_checkpointed(void *state, const uint64_t *offsets, uint32_t n) { (void)state; (void)offsets; (void)n; }
static void src_close(void *state) { (void)state; }

static int src_seek(void *state, uint32_t p, uint64_t offset, weir_err *err)
{
    (void)state, (void)err;
    src.pos[p] = offset;
    src.seeks++;
    return WEIR_OK;
}

static const weir_input_ops src_ops = {src_next, src_caught_up, src_end, src_checkpointed, src_close, NULL, src_seek};

static int open_source(void *ctx, const weir_relation *rel, const uint64_t *offsets, uint32_t partitions,
                       const weir_input_tasks *tasks, const weir_input_ops **ops, void **state, weir_err *err)
{
    (void)ctx, (void)rel, (void)offsets;
    if (!tasks || partitions != 2)
        return weir_err_set(err, WEIR_EINVAL, "the test source wants tasks and 2 partitions");
    src.tasks = *tasks;
    *ops = &src_ops;
    *state = &src;
    return WEIR_OK;
}

/* ---- the store: task_log.c for the states, a transaction of rows per task ---- */

typedef struct row {
    int key, n;                /* an update of the table: key k<key> counts n */
} row;

typedef struct txn {
    row open[ROWS];            /* emitted since the last commit */
    int nopen;
    bool begun, aborted;
    bool fail_save, fail_emit; /* the test's: the next save or emit is aborted under the task */
    int poison;                /* the test's: every emit of a row counting n = poison is aborted (0: none) */
} txn;

static struct {
    weir_task_log *log;
    txn txns[2];               /* by partition: task ev/<p> */
    row committed[ROWS];       /* what a read_committed reader sees */
    int ncommitted;
} store;

static txn *txn_of(const char *task) { return &store.txns[task[strlen(task) - 1] - '0']; }

static int st_load(void *ctx, const char *task, weir_task_saved *out, weir_err *err)
{
    (void)ctx;
    return weir_task_log_load(store.log, task, out, err);
}

static int st_save(void *ctx, const char *task, uint64_t epoch, const uint8_t *state, size_t len, const weir_buf *pieces,
                   weir_err *err)
{
    txn *t = txn_of(task);
    if (t->fail_save) { /* aborted: its rows are gone */
        t->fail_save = false;
        t->nopen = 0;
        t->aborted = true;
        return weir_err_set(err, WEIR_EIO, "%s: aborted by the test", task);
    }
    weir_task_save_plan plan;
    int rc = weir_task_log_plan(store.log, task, epoch, ctx, state, len, pieces, &plan, err);
    for (size_t i = 0; rc == WEIR_OK && i < plan.n; i++)
        if ((i == plan.n - 1 && weir_task_log_count(store.log, task, &plan)) || weir_task_log_apply(store.log, &plan.records[i]))
            rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
    weir_task_save_plan_free(&plan);
    if (rc == WEIR_OK) { /* the commit: rows and state together */
        memcpy(store.committed + store.ncommitted, t->open, (size_t)t->nopen * sizeof *t->open);
        store.ncommitted += t->nopen;
        t->nopen = 0;
    }
    return rc;
}

static int st_claim(void *ctx, const char *task, uint64_t epoch, weir_err *err) { (void)ctx, (void)task, (void)epoch, (void)err; return WEIR_OK; }
static int st_owner(void *ctx, const char *task, char *address, size_t cap, weir_err *err) { (void)ctx, (void)task, (void)address, (void)cap, (void)err; return 0; }

static int st_begin(void *ctx, const char *task, weir_err *err)
{
    (void)ctx, (void)err;
    txn *t = txn_of(task);
    t->nopen = 0; /* a fresh producer: whatever was open is aborted */
    t->begun = true;
    t->aborted = false;
    return WEIR_OK;
}

static int st_emit(void *ctx, const char *task, const char *stream, uint32_t partition, uint32_t partitions,
                   const weir_record *rec, weir_err *err)
{
    (void)ctx, (void)partition, (void)partitions;
    txn *t = txn_of(task);
    if (!t->begun)
        return weir_err_set(err, WEIR_EINVAL, "%s: a row of %s before its task was gained", task, stream);
    t->aborted = false;
    if (t->fail_emit) {
        t->fail_emit = false;
        t->nopen = 0;
        t->aborted = true;
        return weir_err_set(err, WEIR_EIO, "%s: aborted by the test", task);
    }
    char poison[32];
    snprintf(poison, sizeof poison, "\"n\":%d", t->poison);
    if (t->poison && rec->value_len && memmem(rec->value, rec->value_len, poison, strlen(poison))) {
        t->nopen = 0;
        t->aborted = true;
        return weir_err_set(err, WEIR_EIO, "%s: a record to %s refused by the test", task, stream);
    }
    const char *v = (const char *)rec->value, *n = strstr(v, "\"n\":"), *k = strstr(v, "\"k\":\"k");
    if (!n || !k || t->nopen == ROWS)
        return weir_err_set(err, WEIR_EINVAL, "%s: unexpected row %.*s", task, (int)rec->value_len, v);
    t->open[t->nopen++] = (row){atoi(k + 6), atoi(n + 4)};
    return WEIR_OK;
}

static void st_end(void *ctx, const char *task)
{
    (void)ctx;
    txn *t = txn_of(task);
    t->nopen = 0;
    t->begun = false;
}

static bool st_aborted(void *ctx, const char *task)
{
    (void)ctx;
    return txn_of(task)->aborted;
}

/* ---- the process ---- */

static void produce(int n)
{
    for (int p = 0; p < 2; p++)
        while (topic.n[p] < n) {
            static int seq;
            int k;
            char key[8];
            do {
                k = seq++ % NKEYS;
                snprintf(key, sizeof key, "k%d", k);
            } while (weir_partition_for_key(key, strlen(key), 2) != (uint32_t)p);
            strcpy(topic.key[p][topic.n[p]], key);
            snprintf(topic.value[p][topic.n[p]], 48, "{\"k\":\"%s\",\"v\":1}", key);
            topic.n[p]++;
        }
}

/* Every committed update once, and every record's: key k counts 1, 2, ...
 * up to its records produced. */
static bool exactly_once(void)
{
    int want[NKEYS] = {0}, seen[NKEYS][2 * RECORDS + 1];
    memset(seen, 0, sizeof seen);
    for (int p = 0; p < 2; p++)
        for (int i = 0; i < topic.n[p]; i++)
            want[atoi(topic.key[p][i] + 1)]++;
    bool same = true;
    for (int i = 0; i < store.ncommitted; i++) {
        row r = store.committed[i];
        if (r.key < 0 || r.key >= NKEYS || r.n < 1 || r.n > want[r.key] || seen[r.key][r.n]++) {
            diag("k%d counts %d: %s", r.key, r.n, r.n >= 1 && r.n <= want[r.key] ? "twice" : "never made");
            same = false;
        }
    }
    for (int k = 0; k < NKEYS; k++)
        for (int n = 1; n <= want[k]; n++)
            if (!seen[k][n]) {
                diag("k%d counts %d: missing", k, n);
                same = false;
            }
    return same;
}

static bool run(weir_runner *r, int steps, int64_t *now)
{
    weir_err err;
    uint64_t processed;
    for (int i = 0; i < steps; i++)
        if (weir_runner_step(r, *now += 10, &processed, &err) || weir_runner_checkpoint(r, &err))
            return diag("%s", err.msg), false;
    return true;
}

int main(void)
{
    plan(6);
    weir_arena a = {0};
    weir_stmt **stmts;
    size_t nstmts;
    weir_sql_error e;
    weir_catalog cat;
    if (weir_sql_parse(pipeline, strlen(pipeline), &a, &stmts, &nstmts, &e) || weir_catalog_build(stmts, nstmts, &a, &cat, &e))
        BAIL("pipeline: %s", e.msg);
    if (!(store.log = weir_task_log_new()))
        BAIL("out of memory");
    char *dir = tap_tmpdir("tasks_txn");
    weir_task_store tasks = {"A", "A", st_load, st_save, st_claim, st_owner, st_begin, st_emit, st_end, st_aborted, 0};
    weir_log *log;
    weir_runner *r;
    weir_err err;
    if (weir_log_open(dir, NULL, &log, &err))
        BAIL("%s", err.msg);

    /* Transactions the broker aborts after 3 s: a checkpoint interval above a third of that is refused. */
    tasks.txn_timeout_ms = 3000;
    weir_runner_options o = {.checkpoint_ms = 1001, .idle_ms = -1, .batch = 10, .tasks = &tasks, .open_input = open_source};
    int rc = weir_runner_open(log, &cat, pipeline, strlen(pipeline), &o, &r, &err);
    ok(rc == WEIR_EINVAL && strstr(err.msg, "--checkpoint-ms 1001 is not well below") &&
           strstr(err.msg, "transaction.timeout.ms 3000") && strstr(err.msg, "--checkpoint-ms 1000 at most"),
       "a checkpoint interval above a third of the transactions' timeout is refused, saying what to change (%s)",
       rc ? err.msg : "opened");
    if (rc == WEIR_OK)
        weir_runner_close(r);

    tasks.txn_timeout_ms = 0;
    o.checkpoint_ms = INT64_MAX / 4;
    if (weir_runner_open(log, &cat, pipeline, strlen(pipeline), &o, &r, &err))
        BAIL("%s", err.msg);
    int64_t now = 1000;

    produce(20);
    src.gain[0] = src.gain[1] = true;
    bool ran = run(r, 3, &now);
    ok(ran && exactly_once() && store.ncommitted == 40, "rows are committed with the states that count them (%d)",
       store.ncommitted);

    /* The next save of partition 1 is aborted: its rows are gone, so the
     * task goes back to offset 20 and reads 20..39 again. */
    produce(40);
    store.txns[1].fail_save = true;
    int seeks = src.seeks;
    ran = run(r, 5, &now);
    ok(ran && exactly_once() && src.seeks == seeks + 1 && src.pos[1] == 40,
       "a save aborted under the task restores it from its last commit and reads on from there (%d rows)",
       store.ncommitted);

    /* An emit of partition 0 is aborted: the task drops what it emits until
     * the next checkpoint, which restores it. */
    produce(60);
    store.txns[0].fail_emit = true;
    seeks = src.seeks;
    ran = run(r, 6, &now);
    ok(ran && exactly_once() && src.seeks == seeks + 1 && src.pos[0] == 60,
       "an emit aborted under the task: restored at the next checkpoint, nothing lost or twice (%d rows)",
       store.ncommitted);

    /* Partition 0 is lost with rows in its open transaction (read, not yet
     * saved: no checkpoint), then handed back: restored from its last
     * commit, not the engine kept, which is past the aborted rows. */
    produce(90);
    weir_err step_err;
    uint64_t processed;
    ran = weir_runner_step(r, now += 10, &processed, &step_err) == WEIR_OK;
    src.lose[0] = true;
    ran = ran && weir_runner_step(r, now += 10, &processed, &step_err) == WEIR_OK;
    src.gain[0] = true;
    ran = ran && run(r, 12, &now);
    ok(ran && exactly_once() && src.pos[0] == 90 && src.pos[1] == 90,
       "a partition lost with rows in its open transaction: aborted, and restored from its last commit when it comes "
       "back (%d rows)", store.ncommitted);

    /* Every row of partition 1 counting 35 is refused (a record the broker
     * never takes): the task is restored again and again, gets no further,
     * and after RESETS_MAX tries the pipeline stops saying why. */
    produce(RECORDS);
    store.txns[1].poison = 35;
    bool stopped = false;
    for (int i = 0; i < 40 && !stopped; i++)
        stopped = weir_runner_step(r, now += 10, &processed, &step_err) || weir_runner_checkpoint(r, &step_err);
    ok(stopped && strstr(step_err.msg, "partition 1 of ev: its transaction was aborted 6 times in a row") &&
           strstr(step_err.msg, "ev/1: a record to tot refused by the test"),
       "a row refused every time stops the pipeline after a few tries, saying which partition and why (%s)",
       stopped ? step_err.msg : "still running");

    weir_runner_close(r);
    weir_log_close(log, &err);
    weir_task_log_free(store.log);
    tap_rmrf(dir);
    free(dir);
    weir_arena_free(&a);
    return done();
}
