/*
 * test_tasks.c - the scale-out task manager (tasks.c) without HTTP or
 * Kafka: two runners, A and B, read one partitioned source that hands its
 * partitions out as a consumer group would (the test says when), and keep
 * each partition's state in a task store held in memory, as the
 * compacted Kafka topic of conn/kafka_state.c would.
 *
 * - A partition taken over restores its previous owner's state: the
 *   counts come out exact, neither restarted from zero nor counted twice.
 * - A partition handed back restores the newest state (the other
 *   process's), not the engine it kept from before, which is stale.
 * - A state waiting to be saved when its partition is lost is never
 *   saved: the older owner cannot overwrite its successor's state.
 * - A save hands over the groups that changed since the last save.
 */
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "base/hash.h"
#include "exec/runner.h"
#include "exec/task_log.h"
#include "state/changes.h"
#include "sql/sql.h"

static const char *pipeline = "CREATE STREAM ev (k TEXT, v INT) WITH (partitions = 2, key = 'k');"
                              "CREATE TABLE tot AS SELECT k, COUNT(*) AS n, SUM(v) AS s FROM ev GROUP BY k;";

#define NKEYS 8
#define PER_PART 61 /* records per partition */

/* ---- the source: records per partition, and the group's decisions ---- */

static struct {
    char value[2][PER_PART][64], key[2][PER_PART][8];
    int n[2];                  /* records "produced" so far per partition */
} topic;

typedef struct source {
    weir_input_tasks tasks;    /* copied: the runner passes a pointer to its stack */
    bool owned[2], gain[2], lose[2];
    uint64_t pos[2];
} source;

static source *sources[2];     /* A's and B's, as the runners open them */
static int opening;            /* which process the next open is for */

static int src_next(void *state, uint32_t p, weir_record *rec, weir_err *err)
{
    source *s = state;
    for (uint32_t q = 0; q < 2; q++) { /* the group's decisions arrive inside a poll, as in librdkafka */
        if (s->lose[q]) {
            s->lose[q] = s->owned[q] = false;
            s->tasks.lost(s->tasks.ctx, q);
        }
        if (s->gain[q]) {
            s->gain[q] = false;
            int rc = s->tasks.gained(s->tasks.ctx, q, &s->pos[q], err);
            if (rc)
                return -rc;
            s->owned[q] = true;
        }
    }
    if (!s->owned[p] || s->pos[p] >= (uint64_t)topic.n[p])
        return 0;
    uint64_t o = s->pos[p]++;
    *rec = (weir_record){.key = (const uint8_t *)topic.key[p][o], .key_len = strlen(topic.key[p][o]),
                         .value = (const uint8_t *)topic.value[p][o], .value_len = strlen(topic.value[p][o]),
                         .offset = o, .ts_ms = 1000 + (int64_t)o};
    return 1;
}

static bool src_caught_up(void *state, uint32_t p, uint64_t offset)
{
    const source *s = state;
    return !s->owned[p] || offset >= (uint64_t)topic.n[p];
}

static int64_t src_end(void *state, uint32_t p) { (void)state; return topic.n[p]; }
static void src_checkpointed(void *state, const uint64_t *offsets, uint32_t n) { (void)state; (void)offsets; (void)n; }
static void src_close(void *state) { free(state); }

static const weir_input_ops src_ops = {src_next, src_caught_up, src_end, src_checkpointed, src_close, NULL, NULL};

static int open_source(void *ctx, const weir_relation *rel, const uint64_t *offsets, uint32_t partitions,
                       const weir_input_tasks *tasks, const weir_input_ops **ops, void **state, weir_err *err)
{
    (void)ctx, (void)rel, (void)offsets;
    source *s = calloc(1, sizeof *s);
    if (!s || !tasks || partitions != 2) {
        free(s);
        return weir_err_set(err, WEIR_EINVAL, "the test source wants tasks and 2 partitions");
    }
    s->tasks = *tasks;
    sources[opening] = s;
    *ops = &src_ops;
    *state = s;
    return WEIR_OK;
}

/* ---- the task store, in memory: exec/task_log.c over records kept as written ---- */

static struct {
    weir_task_log *log;
    char saves[64][48];        /* "writer task epoch" of every save, in order */
    int pieces[64];            /* the pieces each save changed */
    int nsaves;
} store;

static int st_load(void *ctx, const char *task, weir_task_saved *out, weir_err *err)
{
    (void)ctx;
    return weir_task_log_load(store.log, task, out, err);
}

static int st_save(void *ctx, const char *task, uint64_t epoch, const uint8_t *state, size_t len, const weir_buf *pieces,
                   weir_err *err)
{
    const char *writer = ctx;
    size_t at = 0, klen, vlen;
    const uint8_t *k, *v;
    if (store.nsaves < 64) {
        while (weir_changes_next(pieces, &at, &k, &klen, &v, &vlen))
            store.pieces[store.nsaves]++;
        snprintf(store.saves[store.nsaves++], 48, "%s %s %llu", writer, task, (unsigned long long)epoch);
    }
    weir_task_save_plan plan;
    int rc = weir_task_log_plan(store.log, task, epoch, writer, state, len, pieces, &plan, err);
    if (rc == WEIR_EBUSY)
        return WEIR_OK; /* as a compacted topic read by the highest epoch: written, never answered */
    for (size_t i = 0; rc == WEIR_OK && i < plan.n; i++) /* the pieces, then the head that counts them */
        if ((i == plan.n - 1 && weir_task_log_count(store.log, task, &plan)) || weir_task_log_apply(store.log, &plan.records[i]))
            rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
    weir_task_save_plan_free(&plan);
    return rc;
}

static int st_claim(void *ctx, const char *task, uint64_t epoch, weir_err *err) { (void)ctx, (void)task, (void)epoch, (void)err; return WEIR_OK; }
static int st_owner(void *ctx, const char *task, char *address, size_t cap, weir_err *err) { (void)ctx, (void)task, (void)address, (void)cap, (void)err; return 0; }

/* ---- the processes ---- */

typedef struct process {
    const char *name;
    weir_log *log;
    weir_runner *r;
    weir_task_store tasks;
    long long n[NKEYS], s[NKEYS]; /* the table's latest row per key, from on_output */
    int rows[2];                  /* rows emitted, by the partition of their key */
    bool hold;                    /* delivered() says nothing is delivered: states wait */
} process;

static int on_output(void *ctx, const weir_relation *rel, const weir_value *row, bool removed, weir_err *err)
{
    process *pr = ctx;
    (void)err;
    if (strcmp(rel->name, "tot") || removed)
        return WEIR_OK;
    int k = atoi(row[0].s + 1);
    pr->rows[weir_partition_for_key(row[0].s, row[0].len, 2)]++;
    pr->n[k] = row[1].i;
    pr->s[k] = row[2].i;
    return WEIR_OK;
}

static uint64_t delivered(void *ctx, const char *stream, uint32_t p)
{
    (void)stream, (void)p;
    return ((process *)ctx)->hold ? 0 : UINT64_MAX;
}

static weir_catalog cat;

static void start(process *pr, int which, const char *dir)
{
    weir_err err;
    pr->tasks = (weir_task_store){(void *)pr->name, pr->name, st_load, st_save, st_claim, st_owner, NULL, NULL, NULL, NULL, 0};
    weir_runner_options o = {.checkpoint_ms = INT64_MAX / 4, .idle_ms = -1, .batch = 10, .tasks = &pr->tasks,
                             .open_input = open_source, .on_output = on_output, .on_output_ctx = pr,
                             .delivered = delivered, .delivered_ctx = pr};
    opening = which;
    if (weir_log_open(dir, NULL, &pr->log, &err) ||
        weir_runner_open(pr->log, &cat, pipeline, strlen(pipeline), &o, &pr->r, &err))
        BAIL("%s: %s", pr->name, err.msg);
}

/* One step and a checkpoint (saving the owned tasks' states). */
static bool step(process *pr, int64_t now)
{
    weir_err err;
    uint64_t processed;
    if (weir_runner_step(pr->r, now, &processed, &err) || weir_runner_checkpoint(pr->r, &err))
        return diag("%s: %s", pr->name, err.msg), false;
    return true;
}

/* Produces records up to n per partition. */
static void produce(int n)
{
    for (int p = 0; p < 2; p++)
        while (topic.n[p] < n) {
            static int seq;
            int k;
            char key[8];
            do { /* the next key of this partition */
                k = seq++ % NKEYS;
                snprintf(key, sizeof key, "k%d", k);
            } while (weir_partition_for_key(key, strlen(key), 2) != (uint32_t)p);
            strcpy(topic.key[p][topic.n[p]], key);
            snprintf(topic.value[p][topic.n[p]], 64, "{\"k\":\"%s\",\"v\":%d}", key, topic.n[p] + 1);
            topic.n[p]++;
        }
}

/* What the table must say for partition p's keys, from every record produced. */
static bool exact(const process *pr, int p)
{
    long long n[NKEYS] = {0}, s[NKEYS] = {0};
    for (int i = 0; i < topic.n[p]; i++) {
        int k = atoi(topic.key[p][i] + 1);
        n[k]++;
        s[k] += i + 1;
    }
    bool same = true;
    for (int k = 0; k < NKEYS; k++)
        if (n[k] && (pr->n[k] != n[k] || pr->s[k] != s[k])) {
            diag("%s: k%d is (%lld, %lld), want (%lld, %lld)", pr->name, k, pr->n[k], pr->s[k], n[k], s[k]);
            same = false;
        }
    return same;
}

static bool saved_by(const char *writer, const char *task, int from)
{
    size_t n = strlen(writer);
    for (int i = from; i < store.nsaves; i++)
        if (!strncmp(store.saves[i], writer, n) && store.saves[i][n] == ' ' && !strncmp(store.saves[i] + n + 1, task, strlen(task)))
            return true;
    return false;
}

int main(void)
{
    plan(7);
    weir_arena a = {0};
    weir_stmt **stmts;
    size_t nstmts;
    weir_sql_error e;
    if (weir_sql_parse(pipeline, strlen(pipeline), &a, &stmts, &nstmts, &e) || weir_catalog_build(stmts, nstmts, &a, &cat, &e))
        BAIL("pipeline: %s", e.msg);
    if (!(store.log = weir_task_log_new()))
        BAIL("out of memory");
    char *base = tap_tmpdir("tasks"), dir_a[4200], dir_b[4200];
    snprintf(dir_a, sizeof dir_a, "%s/a", base);
    snprintf(dir_b, sizeof dir_b, "%s/b", base);
    process A = {.name = "A"}, B = {.name = "B"};
    start(&A, 0, dir_a);
    start(&B, 1, dir_b);
    int64_t now = 1000;

    /* A holds both partitions for the first 20 records of each. */
    produce(20);
    sources[0]->gain[0] = sources[0]->gain[1] = true;
    bool ran = true;
    for (int i = 0; i < 3; i++)
        ran = ran && step(&A, now += 10);
    ok(ran && exact(&A, 0) && exact(&A, 1) && saved_by("A", "ev/1", 0), "A counts both partitions and saves their states");

    /* A reads 10 more of partition 1 and loses it before its next state is
     * saved (nothing delivered yet: the state waits); B takes it over. */
    produce(30);
    A.hold = true;
    ran = step(&A, now += 10);
    int saves_before = store.nsaves;
    sources[0]->lose[1] = true;
    sources[1]->gain[1] = true;
    for (int i = 0; i < 3; i++)
        ran = ran && step(&B, now += 10) && step(&A, now += 10);
    A.hold = false;
    ran = ran && step(&A, now += 10);
    ok(ran && exact(&B, 1) && B.rows[1] == 10, "B restores A's state of partition 1 (offset 20) and goes on: its counts "
       "are exact after reading %d records", B.rows[1]);
    ok(!saved_by("A", "ev/1", saves_before) && saved_by("B", "ev/1", saves_before),
       "A's state of partition 1, still waiting when it lost it, is never saved; B's is");
    ok(exact(&A, 0), "A still counts partition 0 exactly");

    /* Partition 1 comes back to A: the newest state is B's, so A restores
     * it instead of going on with the engine it kept, which would read
     * again (and emit again) the 20 records B has counted since. */
    produce(50);
    for (int i = 0; i < 3; i++)
        ran = ran && step(&B, now += 10);
    sources[1]->lose[1] = true;
    sources[0]->gain[1] = true;
    for (int i = 0; i < 2; i++)
        ran = ran && step(&B, now += 10);
    produce(60);
    int rows_before = A.rows[1];
    for (int i = 0; i < 4; i++)
        ran = ran && step(&A, now += 10);
    ok(ran && exact(&A, 1) && A.rows[1] - rows_before == 60 - 50,
       "partition 1 handed back to A: A restores B's newer state (offset 50), not its own stale engine (offset 30): "
       "%d rows", A.rows[1] - rows_before);
    ok(ran && exact(&A, 0) && weir_runner_owned(A.r, "ev") == 2 && weir_runner_owned(B.r, "ev") == 0,
       "A owns both partitions again, partition 0's counts untouched by the moves");

    /* One more record in each partition: each task's next save hands over the one group it changed. */
    saves_before = store.nsaves;
    produce(PER_PART);
    for (int i = 0; i < 2; i++)
        ran = ran && step(&A, now += 10);
    int changed = 0, saves = store.nsaves - saves_before;
    for (int i = saves_before; i < store.nsaves; i++)
        changed += store.pieces[i];
    ok(ran && exact(&A, 0) && exact(&A, 1) && saves == 2 && changed == 2,
       "a save hands over the groups changed since the last, not the whole state: %d saves, %d pieces", saves, changed);

    for (process *pr = &A; pr; pr = pr == &A ? &B : NULL) {
        weir_err err;
        weir_runner_close(pr->r);
        weir_log_close(pr->log, &err);
    }
    weir_task_log_free(store.log);
    tap_rmrf(base);
    free(base);
    weir_arena_free(&a);
    return done();
}
