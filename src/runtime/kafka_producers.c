/*
 * kafka_producers.c - idempotent producers (runtime.h, kafka_producers.h):
 * the producer ids given out and, per producer and partition, the epoch
 * and the last five batches (first and last sequence number, offset), as
 * a Kafka broker keeps them, so a retried batch is answered with the
 * offset it got the first time instead of being stored twice.
 *
 * Why a stream: a batch retried across a restart (stored, then weir
 * crashed before the answer left) is only recognised if the state that
 * saw it survived exactly as far as the batch did. So each batch's state
 * is a record of the internal stream __weir_producers, appended in the
 * same commit as the batch (the log keeps a commit whole or not at all,
 * LOG_FORMAT.md rule 8), and read back in order at the first use after a
 * start. Segments roll every 10 minutes and go after an hour: clients
 * retry a batch for minutes (delivery.timeout.ms, message.timeout.ms: 2 and
 * 5 by default), and a producer idle longer than the retention loses its
 * state, which a Kafka broker does too (producer.id.expiration.ms), and
 * is then taken at any sequence number, as Kafka 3.x takes it. Memory
 * forgets it the same way (an entry whose last batch is older than the
 * retention counts as absent, and goes when the table grows), so a
 * producer idle past the hour is treated alike before and after a
 * restart, and the table holds the last hour's producers only.
 *
 * A record's value (big-endian): 'S', producer id i64, epoch i16,
 * partition i32, a count u8, that many (first i32, last i32, offset i64),
 * then the topic's name to the end; or 'I', the next producer id i64.
 *
 * Producer ids are given out in order from the largest seen + 1, or from
 * the wall clock's milliseconds at the start when that is larger (the 'I'
 * records of an hour ago are gone): an id at or past the next one was
 * never given out, and its batches are refused (UNKNOWN_PRODUCER_ID).
 */
#include "runtime/kafka_producers.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"

#define PRODUCERS_STREAM "__weir_producers"
#define KEEP_BATCHES 5                           /* as Kafka's broker keeps */
#define RETENTION_MS (3600LL * 1000)
#define SEGMENT_MS (600LL * 1000)
#define SEGMENT_BYTES (8u << 20)

typedef struct seq_batch {
    int32_t first, last;
    uint64_t offset;
} seq_batch;

typedef struct producer_entry {
    char *topic;                  /* owned; NULL: a free slot */
    int32_t partition;
    int64_t id;
    int16_t epoch;
    int nb;                       /* batches kept, oldest first */
    seq_batch b[KEEP_BATCHES];
    int64_t seen_ms;              /* when its last batch was stored */
} producer_entry;

struct weir_producers {
    bool loaded;                  /* the stream was read since the start (or the last forget) */
    _Atomic bool stale;           /* a commit with our records failed: read the stream again */
    int64_t next_id;              /* the next producer id to give out */
    producer_entry *slots;        /* open addressing, a power of two */
    size_t cap, n;
};

weir_producers *weir_producers_new(void) { return calloc(1, sizeof(weir_producers)); }

static void clear(weir_producers *p)
{
    for (size_t i = 0; i < p->cap; i++)
        free(p->slots[i].topic);
    free(p->slots);
    p->slots = NULL;
    p->cap = p->n = 0;
    p->next_id = 0;
    p->loaded = false;
}

void weir_producers_free(weir_producers *p)
{
    if (!p)
        return;
    clear(p);
    free(p);
}

void producers_forget(weir_producers *p) { atomic_store(&p->stale, true); }

static uint64_t hash_of(const char *topic, int32_t partition, int64_t id)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)id * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uint32_t)partition;
    for (const char *c = topic; *c; c++)
        h = (h ^ (uint8_t)*c) * 1099511628211ull;
    return h;
}

/* The entry's slot, or the free slot where it would go. */
static producer_entry *slot_of(producer_entry *slots, size_t cap, const char *topic, int32_t partition, int64_t id)
{
    for (size_t i = hash_of(topic, partition, id) & (cap - 1);; i = (i + 1) & (cap - 1)) {
        producer_entry *e = &slots[i];
        if (!e->topic || (e->id == id && e->partition == partition && !strcmp(e->topic, topic)))
            return e;
    }
}

static bool expired(const producer_entry *e, int64_t now_ms) { return now_ms - e->seen_ms > RETENTION_MS; }

/* The entry, unless there is none or it expired. */
static producer_entry *find(weir_producers *p, const char *topic, int32_t partition, int64_t id, int64_t now_ms)
{
    if (!p->cap)
        return NULL;
    producer_entry *e = slot_of(p->slots, p->cap, topic, partition, id);
    return e->topic && !expired(e, now_ms) ? e : NULL;
}

/* Moves the entries into a table of cap slots, leaving out (and freeing)
 * the expired; false without memory. */
static bool rehash(weir_producers *p, size_t cap, int64_t now_ms)
{
    producer_entry *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return false;
    p->n = 0;
    for (size_t i = 0; i < p->cap; i++) {
        producer_entry *e = &p->slots[i];
        if (!e->topic)
            continue;
        if (expired(e, now_ms)) {
            free(e->topic);
            continue;
        }
        *slot_of(slots, cap, e->topic, e->partition, e->id) = *e;
        p->n++;
    }
    free(p->slots);
    p->slots = slots;
    p->cap = cap;
    return true;
}

/* The entry, made (empty) if there is none or it expired; NULL without
 * memory. */
static producer_entry *find_or_add(weir_producers *p, const char *topic, int32_t partition, int64_t id, int64_t now_ms)
{
    if ((p->n + 1) * 2 > p->cap) { /* at most half full: the expired go first, then it grows if need be */
        if (p->cap && !rehash(p, p->cap, now_ms))
            return NULL;
        if ((p->n + 1) * 4 > p->cap && !rehash(p, p->cap ? p->cap * 2 : 64, now_ms))
            return NULL;
    }
    producer_entry *e = slot_of(p->slots, p->cap, topic, partition, id);
    if (!e->topic) {
        if (!(e->topic = strdup(topic)))
            return NULL;
        e->partition = partition;
        e->id = id;
        p->n++;
    } else if (!expired(e, now_ms)) {
        return e;
    }
    e->epoch = -1;
    e->nb = 0;
    e->seen_ms = now_ms;
    return e;
}

static uint64_t get_be(const uint8_t *q, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | q[i];
    return v;
}

static void put_be(uint8_t *q, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        q[i] = (uint8_t)v;
}

bool producers_take(weir_producers *p, const uint8_t *v, size_t len, int64_t ts_ms)
{
    if (len == 9 && v[0] == 'I') {
        int64_t next = (int64_t)get_be(v + 1, 8);
        if (next > p->next_id)
            p->next_id = next;
        return true;
    }
    if (len < 16 || v[0] != 'S' || len < 16 + (size_t)v[15] * 16 + 1 || v[15] > KEEP_BATCHES)
        return false;
    char topic[256];
    size_t tl = len - 16 - (size_t)v[15] * 16;
    if (tl >= sizeof topic)
        return false;
    memcpy(topic, v + 16 + v[15] * 16, tl);
    topic[tl] = '\0';
    int64_t id = (int64_t)get_be(v + 1, 8);
    producer_entry *e = find_or_add(p, topic, (int32_t)get_be(v + 11, 4), id, ts_ms);
    if (!e)
        return false;
    e->seen_ms = ts_ms;
    e->epoch = (int16_t)get_be(v + 9, 2);
    e->nb = v[15];
    for (int i = 0; i < e->nb; i++) {
        const uint8_t *q = v + 16 + i * 16;
        e->b[i] = (seq_batch){(int32_t)get_be(q, 4), (int32_t)get_be(q + 4, 4), get_be(q + 8, 8)};
    }
    if (id >= p->next_id)
        p->next_id = id + 1;
    return true;
}

/* Reads the stream from its start, once after a start or a forget. */
static int load(weir_runtime *s, weir_producers *p, weir_err *err)
{
    if (atomic_exchange(&p->stale, false))
        clear(p);
    if (p->loaded)
        return WEIR_OK;
    weir_stream *st;
    weir_reader *r = NULL;
    int rc = weir_stream_open(s->log, PRODUCERS_STREAM, &st, err);
    if (rc == WEIR_ENOENT || rc == WEIR_EINVAL) /* none yet */
        rc = WEIR_OK;
    else if (rc == WEIR_OK && (rc = weir_reader_open(st, 0, 0, &r, err)) == WEIR_OK) {
        weir_record rec;
        int got;
        uint64_t at = 0;
        while ((got = weir_reader_next(r, &rec, err)) == 1) {
            at = rec.offset;
            if (!producers_take(p, rec.value, rec.value_len, rec.ts_ms)) {
                rc = weir_err_set(err, WEIR_ECORRUPT, "%s offset %llu is not a producer's state", PRODUCERS_STREAM,
                                  (unsigned long long)at);
                break;
            }
        }
        if (got < 0)
            rc = WEIR_EIO;
        weir_reader_close(r);
    }
    if (rc) {
        clear(p);
        return rc;
    }
    int64_t now = weir_wall_ms();
    if (p->next_id < now)
        p->next_id = now;
    p->loaded = true;
    return WEIR_OK;
}

static int append(weir_runtime *s, const uint8_t *v, size_t len, const char *key, weir_err *err)
{
    weir_stream *st;
    weir_stream_config c = {.partitions = 1, .retention_ms = RETENTION_MS, .segment_ms = SEGMENT_MS,
                            .segment_bytes = SEGMENT_BYTES};
    int rc = weir_stream_open_or_create(s->log, PRODUCERS_STREAM, &c, &st, err);
    weir_record rec = {(const uint8_t *)key, strlen(key), v, len, NULL, 0, weir_wall_ms(), 0};
    return rc ? rc : weir_stream_append(st, 0, &rec, NULL, NULL, err);
}

static bool in_sequence(int32_t last, int32_t next) { return last == INT32_MAX ? next == 0 : next == last + 1; }

int producers_check(weir_runtime *s, weir_producers *p, const char *topic, int32_t partition,
                    const weir_wire_producer *b, uint64_t *dup_offset, char *why, size_t cap)
{
    weir_err err = {0};
    if (load(s, p, &err)) {
        snprintf(why, cap, "the idempotent producers' state cannot be read: %s", err.msg);
        return 503;
    }
    if (b->id < 0 || b->id >= p->next_id || b->epoch < 0) {
        snprintf(why, cap, "producer id %lld (epoch %d) was not given out by this server's InitProducerId",
                 (long long)b->id, b->epoch);
        return WEIR_PRODUCE_UNKNOWN_PRODUCER;
    }
    const producer_entry *e = find(p, topic, partition, b->id, weir_wall_ms());
    if (!e) /* new here, or idle past the retention: any sequence, as Kafka 3.x */
        return PRODUCER_NEW;
    if (b->epoch < e->epoch) {
        snprintf(why, cap, "producer %lld has epoch %d here, the batch %d", (long long)b->id, e->epoch, b->epoch);
        return WEIR_PRODUCE_FENCED;
    }
    if (b->epoch > e->epoch) {
        if (b->first_seq == 0)
            return PRODUCER_NEW;
        snprintf(why, cap, "producer %lld's new epoch %d starts at sequence %d, not 0", (long long)b->id, b->epoch,
                 b->first_seq);
        return WEIR_PRODUCE_OUT_OF_ORDER;
    }
    for (int i = 0; i < e->nb; i++)
        if (e->b[i].first == b->first_seq && e->b[i].last == b->last_seq) {
            *dup_offset = e->b[i].offset;
            return PRODUCER_DUPLICATE;
        }
    int32_t last = e->nb ? e->b[e->nb - 1].last : -1;
    if (e->nb && in_sequence(last, b->first_seq))
        return PRODUCER_NEW;
    snprintf(why, cap, "producer %lld epoch %d sent sequence %d to %s partition %d, whose last stored is %d",
             (long long)b->id, b->epoch, b->first_seq, topic, partition, last);
    return WEIR_PRODUCE_OUT_OF_ORDER;
}

int producers_note(weir_runtime *s, weir_producers *p, const char *topic, int32_t partition,
                   const weir_wire_producer *b, uint64_t base_offset, weir_err *err)
{
    int64_t now = weir_wall_ms();
    producer_entry *e = find_or_add(p, topic, partition, b->id, now);
    if (!e)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    e->seen_ms = now;
    if (e->epoch != b->epoch)
        e->nb = 0;
    e->epoch = b->epoch;
    if (e->nb == KEEP_BATCHES)
        memmove(e->b, e->b + 1, (KEEP_BATCHES - 1) * sizeof *e->b);
    else
        e->nb++;
    e->b[e->nb - 1] = (seq_batch){b->first_seq, b->last_seq, base_offset};
    uint8_t v[16 + KEEP_BATCHES * 16 + 256];
    size_t tl = strlen(topic);
    if (tl > 255)
        return weir_err_set(err, WEIR_EINVAL, "topic name too long");
    v[0] = 'S';
    put_be(v + 1, (uint64_t)e->id, 8);
    put_be(v + 9, (uint16_t)e->epoch, 2);
    put_be(v + 11, (uint32_t)partition, 4);
    v[15] = (uint8_t)e->nb;
    for (int i = 0; i < e->nb; i++) {
        put_be(v + 16 + i * 16, (uint32_t)e->b[i].first, 4);
        put_be(v + 20 + i * 16, (uint32_t)e->b[i].last, 4);
        put_be(v + 24 + i * 16, e->b[i].offset, 8);
    }
    memcpy(v + 16 + e->nb * 16, topic, tl);
    char key[300];
    snprintf(key, sizeof key, "%s/%d/%lld", topic, partition, (long long)b->id);
    return append(s, v, 16 + (size_t)e->nb * 16 + tl, key, err);
}

/* ---- InitProducerId ---- */

typedef struct init_job {
    weir_producers *p;
    weir_producer_id_done done;
    void *ctx;
    bool queued;                  /* the answer waits for the commit */
    int status;
    char why[300];
    int64_t id;
} init_job;

typedef struct init_ack {
    weir_producers *p;
    weir_producer_id_done done;
    void *ctx;
    int64_t id;
} init_ack;

static void init_durable(void *ctx, const weir_answer *a)
{
    init_ack *k = ctx;
    if (a->status != 200)
        producers_forget(k->p);
    k->done(k->ctx, a->status, a->msg, a->status == 200 ? k->id : -1, a->status == 200 ? 0 : -1);
    free(k);
}

static void init_on_loop(weir_runtime *s, void *ctx)
{
    init_job *j = ctx;
    weir_err err = {0};
    pthread_mutex_lock(&s->handoff_lock);
    bool closing = s->closing || s->look.paused;
    pthread_mutex_unlock(&s->handoff_lock);
    if (closing) {
        j->status = 503;
        snprintf(j->why, sizeof j->why, "weir is shutting down or paused by a full disk");
        return;
    }
    init_ack *k = calloc(1, sizeof *k);
    pending_ack *ack = calloc(1, sizeof *ack);
    uint8_t v[9] = {'I'};
    int rc = !k || !ack ? weir_err_set(&err, WEIR_ENOMEM, "out of memory") : load(s, j->p, &err);
    if (rc == WEIR_OK) {
        j->id = j->p->next_id;
        put_be(v + 1, (uint64_t)j->id + 1, 8);
        rc = append(s, v, sizeof v, "producer-ids", &err);
    }
    if (rc) {
        if (rc != WEIR_ENOMEM && rc != WEIR_ENOENT && rc != WEIR_EINVAL && rc != WEIR_ECORRUPT) {
            weir_log_abort(s->log); /* the open group lost its records: its requests are answered 503 */
            runtime_answer_pending(s, rc, err.msg);
        }
        j->status = 503;
        snprintf(j->why, sizeof j->why, "no producer id: %s", err.msg);
        free(k);
        free(ack);
        return;
    }
    j->p->next_id++;
    *k = (init_ack){j->p, j->done, j->ctx, j->id};
    *ack = (pending_ack){.done = init_durable, .ctx = k, .ticket = s->committed + 1, .status = 200};
    *s->pending_tail = ack;
    s->pending_tail = &ack->next;
    s->ingested = true;
    j->queued = true;
}

void weir_runtime_init_producer(weir_runtime *s, weir_producers *p, weir_producer_id_done done, void *ctx)
{
    init_job j = {.p = p, .done = done, .ctx = ctx};
    runtime_on_loop(s, init_on_loop, &j);
    if (!j.queued)
        done(ctx, j.status, j.why, -1, -1);
}
