/*
 * kafka_produce.c - records a wire protocol produced, with their keys and
 * headers, through ingest admission (runtime.h's weir_runtime_produce).
 *
 * The caller's thread checks the batch: the stream takes records, every
 * value is a JSON object, the schema holds, the quotas leave room. Then
 * the pipeline thread appends it (runtime_on_loop, so the records are read
 * in place and never copied) and its answer waits, as an HTTP ingest's
 * does, for the commit that makes it durable (runtime_answer_pending).
 *
 * A null value with a key is a tombstone, which a source table reads as
 * the removal of its key's row; a stream takes none.
 *
 * A batch is stored whole or not at all, as a Kafka broker does: when a
 * record breaks the schema of a stream that keeps dead letters, the
 * batch's bad records go to <stream>.dlq and none of it to the stream, so
 * the producer's error covers exactly what the stream did not take.
 *
 * A plain topic (a stream outside the pipeline, kafka_topics.c) stores
 * the records as they came: no schema, no key from fields, a null value
 * as an empty one; only the quotas apply.
 *
 * An idempotent producer's batch is checked against its state
 * (kafka_producers.c) on the pipeline thread, just before the append: a
 * repeat is answered with its first offset once the commit under way is
 * durable, and the state after a new batch is appended beside it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "conn/connectors.h"
#include "conn/ingest.h"
#include "exec/engine.h"
#include "json/json.h"
#include "json/schema.h"
#include "runtime/kafka_producers.h"
#include "runtime/kafka_topics.h"
#include "runtime/runtime_internal.h"

typedef struct produce_job {
    const char *name;          /* the stream's */
    const weir_relation *rel;  /* NULL: a plain topic */
    int rel_index;
    int32_t partition;
    const weir_wire_record *recs;
    size_t n;
    bool *bad;                 /* per record: broke the schema (to the dead letters) */
    size_t nbad;
    size_t bytes;
    const weir_wire_producer *prod;  /* an idempotent producer's batch, or NULL */
    weir_producers *ps;
    weir_produce_done done;
    void *ctx;
    char msg[600];             /* the schema violations, for a 422 */
    bool queued;               /* the pipeline thread appended it: the answer comes after the commit */
    int status;                /* else the refusal */
    char why[600];
} produce_job;

/* What waits for the commit (the pending_ack's ctx). */
typedef struct produce_ack {
    weir_producers *ps;        /* with producer state in the commit: forgotten if it fails */
    weir_produce_done done;
    void *ctx;
    int status;                /* 200, or 422 when the batch went to the dead letters */
    uint64_t base_offset;
    char msg[600];
} produce_ack;

static void on_durable(void *ctx, const weir_answer *a)
{
    produce_ack *k = ctx;
    if (k->ps && a->status != 200)
        producers_forget(k->ps);
    if (k->done)
        k->done(k->ctx, a->status == 200 ? k->status : a->status, a->status == 200 ? k->msg : a->msg,
                k->base_offset);
    free(k);
}

static void refuse(produce_job *j, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void refuse(produce_job *j, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->why, sizeof j->why, fmt, ap);
    va_end(ap);
    j->status = status;
}

/* Every value a JSON object, and the stream's schema: false with the
 * refusal in j (a schema's violations, in j->msg, are not one). */
static bool check_records(weir_runtime *s, produce_job *j)
{
    for (size_t i = 0; i < j->n; i++) {
        weir_json_span span;
        weir_json_error e;
        const char *v = (const char *)j->recs[i].value;
        if (!v && j->rel->is_table && j->recs[i].key) /* a tombstone: appended with its key and no value */
            continue;
        if (!v || weir_json_validate(v, j->recs[i].value_len, &span, &e)) {
            refuse(j, 400, "record %zu: the value is not JSON%s%s; nothing was stored", i,
                   v ? ": " : " (null: a tombstone needs a source table and a key)", v ? e.msg : "");
            return false;
        }
        if (span.type != WEIR_JSON_OBJECT) {
            refuse(j, 400, "record %zu: the value is not a JSON object; nothing was stored", i);
            return false;
        }
    }
    const char *subject = j->rel->schema_subject;
    if (!subject)
        return true;
    const weir_jschema *schema = NULL;
    int version;
    pthread_mutex_lock(&s->registry_lock); /* versions stay in memory once loaded: the pointer outlives the lock */
    const char *text = weir_registry_get(s->registry, subject, 0, &version, &schema);
    pthread_mutex_unlock(&s->registry_lock);
    if (!text) {
        refuse(j, 409, "stream %s takes records of schema subject '%s', which has no version yet", j->rel->name, subject);
        return false;
    }
    for (size_t i = 0; i < j->n; i++) {
        weir_jschema_violation v;
        if (!j->recs[i].value || weir_jschema_check(schema, (const char *)j->recs[i].value, j->recs[i].value_len, &v))
            continue;
        if (!j->nbad++)
            snprintf(j->msg, sizeof j->msg, "record %zu breaks schema %s version %d: %s%s%s (%s)", i, subject,
                     version, v.field, *v.field ? ": " : "", v.msg, v.rule);
        j->bad[i] = true;
    }
    if (j->nbad && !j->rel->invalid_to_dlq) {
        refuse(j, 422, "%s; nothing was stored", j->msg);
        return false;
    }
    if (j->nbad) {
        size_t used = strlen(j->msg);
        snprintf(j->msg + used, sizeof j->msg - used, "; %zu bad record%s went to %s.dlq and none of the batch to %s",
                 j->nbad, j->nbad == 1 ? "" : "s", j->rel->name, j->rel->name);
    }
    return true;
}

static int encode_headers(const weir_wire_record *r, weir_buf *out)
{
    char name[256];
    out->len = 0;
    for (size_t i = 0; i < r->nheaders; i++) {
        const weir_wire_header *h = &r->headers[i];
        size_t n = h->name_len < sizeof name - 1 ? h->name_len : sizeof name - 1;
        memcpy(name, h->name, n);
        name[n] = '\0';
        if (weir_headers_add(out, name, h->value ? h->value : (const uint8_t *)"", h->value ? h->value_len : 0))
            return WEIR_ENOMEM;
    }
    return WEIR_OK;
}

/* Whether each record of the job is in the partition weir's key (the
 * stream's key fields, read from the value) gives it: false, with the
 * first that is not in *which and its partition in *home. */
static bool placed_by_key(const produce_job *j, uint32_t partitions, weir_buf *scratch, size_t *which, uint32_t *home)
{
    for (size_t i = 0; i < j->n; i++) {
        bool found;
        const weir_wire_record *r = &j->recs[i];
        if (!r->value || weir_json_key_partition((const char *)r->value, r->value_len, j->rel->key_fields, partitions,
                                                 scratch, &found, home))
            continue; /* a tombstone; out of memory: the append says so */
        if (*home != (uint32_t)j->partition) {
            *which = i;
            return false;
        }
    }
    return true;
}

/* A Kafka producer picks its records' partitions: one outside its key's
 * partition is refused where a runner keeps the stream's state per
 * partition (it would stop the pipeline), else makes the stream forget
 * its key (conn/ingest.c does so for the records it appends; those with
 * a Kafka key of their own are appended as they are). False with the
 * refusal in j. On the pipeline thread. */
static bool check_placement(weir_runtime *s, produce_job *j, weir_err *err)
{
    weir_stream *stream;
    if (!j->rel || !j->rel->key_fields || j->nbad || weir_stream_open(s->log, j->name, &stream, err))
        return true; /* the append says what is wrong with the stream */
    bool needed = runtime_needs_placement(s, j->name);
    if (!needed && !weir_stream_get_config(stream)->key[0])
        return true; /* nothing relies on where its records are */
    weir_buf scratch = {0};
    size_t which = 0;
    uint32_t home = 0, partitions = weir_stream_get_config(stream)->partitions;
    bool placed = placed_by_key(j, partitions, &scratch, &which, &home);
    weir_buf_free(&scratch);
    if (placed)
        return true;
    if (needed) {
        refuse(j, 422, "record %zu belongs in partition %u of %s, not %d: weir partitions it by murmur2 of the text of "
               "%s, and keeps its queries' state per partition; produce it there (librdkafka: partitioner "
               "murmur2_random with that text as the key); nothing was stored", which, home, j->name, j->partition,
               j->rel->key_fields);
        return false;
    }
    if (weir_stream_forget_key(stream, err)) {
        refuse(j, 503, "the records were not stored: %s", err->msg);
        return false;
    }
    return true;
}

/* Appends the job's records (or its bad ones, to the dead letters); the
 * first offset in *base. On the pipeline thread. */
static int append_records(weir_runtime *s, produce_job *j, uint64_t *base, weir_err *err)
{
    weir_stream *stream, *dlq = NULL;
    char dlq_name[300];
    snprintf(dlq_name, sizeof dlq_name, "%s.dlq", j->name);
    weir_stream_config one = {.partitions = 1};
    int rc = j->nbad ? weir_stream_open_or_create(s->log, dlq_name, &one, &dlq, err)
                     : weir_stream_open(s->log, j->name, &stream, err);
    weir_buf headers = {0}, key = {0}, dead = {0};
    int64_t now = weir_wall_ms();
    for (size_t i = 0; i < j->n && rc == WEIR_OK; i++) {
        const weir_wire_record *r = &j->recs[i];
        int64_t ts = r->ts_ms > 0 ? r->ts_ms : now;
        uint64_t off = 0;
        if (encode_headers(r, &headers)) {
            rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
        } else if (j->nbad) {
            if (!j->bad[i])
                continue;
            dead.len = 0;
            if (weir_dead_letter_json(&dead, "schema", (const char *)r->value, r->value_len, NULL, now))
                rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
            weir_record rec = {.value = dead.data, .value_len = dead.len, .ts_ms = now, .headers = headers.data,
                               .headers_len = headers.len};
            rc = rc ? rc : weir_stream_append(dlq, 0, &rec, NULL, &off, err);
        } else if (r->key || !j->rel) {
            weir_record rec = {r->key, r->key_len, r->value, r->value_len, headers.data, headers.len, ts, 0};
            rc = weir_stream_append(stream, j->partition, &rec, NULL, &off, err);
        } else {
            rc = weir_ingest_json(stream, j->partition, j->rel->key_fields, (const char *)r->value, r->value_len, ts,
                                  &headers, &key, NULL, &off, err);
        }
        if (rc == WEIR_OK && *base == UINT64_MAX)
            *base = off;
    }
    weir_buf_free(&headers);
    weir_buf_free(&key);
    weir_buf_free(&dead);
    return rc;
}

/* On the pipeline thread (or the caller's, once the loop is over, when
 * closing refuses it). */
static void append_job(weir_runtime *s, void *ctx)
{
    produce_job *j = ctx;
    pthread_mutex_lock(&s->handoff_lock);
    bool closing = s->closing, paused = s->look.paused; /* the pipeline thread's own view, as published */
    pthread_mutex_unlock(&s->handoff_lock);
    if (closing || paused) {
        refuse(j, 503, "weir is %s; nothing was stored", closing ? "shutting down" : "paused by a full disk");
        return;
    }
    produce_ack *k = calloc(1, sizeof *k);
    pending_ack *ack = calloc(1, sizeof *ack);
    weir_err err = {0};
    uint64_t base = UINT64_MAX;
    int rc = WEIR_OK, seq = PRODUCER_NEW;
    if (!k || !ack) {
        refuse(j, 500, "out of memory");
    } else if (j->prod && (seq = producers_check(s, j->ps, j->name, j->partition, j->prod, &base, j->why,
                                                 sizeof j->why)) > PRODUCER_DUPLICATE) {
        j->status = seq;
    } else if (seq == PRODUCER_NEW && !check_placement(s, j, &err)) {
        if (j->prod)
            producers_forget(j->ps);
    } else if (seq == PRODUCER_NEW && ((rc = append_records(s, j, &base, &err)) ||
                                       (j->prod && !j->nbad &&
                                        (rc = producers_note(s, j->ps, j->name, j->partition, j->prod, base,
                                                             &err))))) {
        if (j->prod)
            producers_forget(j->ps);
        if (rc != WEIR_EINVAL && rc != WEIR_ENOMEM && rc != WEIR_ENOENT) {
            weir_log_abort(s->log); /* the open group lost its records: its requests are answered 503 */
            runtime_answer_pending(s, rc, err.msg);
        } else if (rc != WEIR_ENOENT) { /* one record refused: the ones before it must not stay */
            weir_log_abort(s->log);
            runtime_answer_pending(s, WEIR_EIO, "another request's records were refused in the same commit");
        }
        refuse(j, rc == WEIR_ENOENT ? 404 : 503, "the records were not stored: %s", err.msg);
    } else {
        *k = (produce_ack){j->prod ? j->ps : NULL, j->done, j->ctx, j->nbad ? 422 : 200, base, ""};
        snprintf(k->msg, sizeof k->msg, "%s", j->msg);
        *ack = (pending_ack){.done = on_durable, .ctx = k, .ticket = s->committed + 1, .bytes = j->bytes,
                             .status = 200};
        atomic_fetch_add(&s->inflight_bytes, j->bytes);
        *s->pending_tail = ack;
        s->pending_tail = &ack->next;
        s->ingested = true;
        j->queued = true;
        if (seq == PRODUCER_DUPLICATE || !j->rel) /* (a duplicate: answered once the commit under way, which may
                                                   * hold the first, is durable; a plain topic has no counters) */
            return;
        ingest_counters *ic = &s->ingest[j->rel_index];
        atomic_fetch_add(&ic->records, j->n - j->nbad);
        atomic_fetch_add(&ic->bytes, j->bytes);
        atomic_fetch_add(&ic->requests, 1);
        atomic_fetch_add(&ic->refused_invalid, (uint64_t)j->nbad);
        return;
    }
    free(k);
    free(ack);
}

/* Whether the quotas leave room for bytes more (ingest.c's has_room, from
 * the pipeline's last look): else the refusal in j. */
static bool has_room(weir_runtime *s, produce_job *j)
{
    pthread_mutex_lock(&s->handoff_lock);
    const runtime_look *look = &s->look;
    if (s->closing)
        refuse(j, 503, "weir is shutting down; nothing was stored");
    else if (look->paused)
        refuse(j, 503, "the disk is full and the pipeline is paused (%s); nothing was stored", look->paused_why);
    else if (s->opt.min_free && look->disk_free < s->opt.min_free + j->bytes)
        refuse(j, 503, "the disk has %llu bytes free, under --min-free; nothing was stored",
               (unsigned long long)look->disk_free);
    else if (s->opt.disk_quota && look->log_bytes + j->bytes > s->opt.disk_quota)
        refuse(j, 503, "the log is at its disk quota (--disk-quota); nothing was stored");
    else if (atomic_load(&s->inflight_bytes) + j->bytes > s->opt.max_inflight_bytes)
        refuse(j, 503, "ingest is saturated (%zu bytes wait for their commit); nothing was stored",
               atomic_load(&s->inflight_bytes));
    pthread_mutex_unlock(&s->handoff_lock);
    return j->status == 0;
}

/* The refusal of a batch to a plain topic (runtime_of_pipeline says no), in j: false if none. */
static bool refuse_plain(weir_runtime *s, produce_job *j)
{
    weir_topic_config plain;
    weir_err err = {0};
    if (runtime_of_pipeline(s, j->name))
        refuse(j, 409, "%s is written by the pipeline; only source streams take records", j->name);
    else if (weir_runtime_topic_config(s, j->name, &plain, &err))
        refuse(j, 404, "no stream %s in the pipeline, and no topic of that name (CreateTopics makes one)", j->name);
    else if (j->partition < 0 || (uint32_t)j->partition >= plain.partitions)
        refuse(j, 404, "topic %s has no partition %d (it has %u)", j->name, j->partition, plain.partitions);
    return j->status != 0;
}

void weir_runtime_produce(weir_runtime *s, const char *topic, int32_t partition, const weir_wire_record *recs,
                          size_t n, const weir_wire_producer *prod, weir_producers *ps, weir_produce_done done,
                          void *ctx)
{
    produce_job j = {.name = topic, .partition = partition, .recs = recs, .n = n, .prod = ps ? prod : NULL,
                     .ps = ps, .done = done, .ctx = ctx};
    j.rel = runtime_relation(s, topic, &j.rel_index);
    const weir_source_connector *conn = j.rel ? weir_source_connector_of(j.rel) : NULL;
    for (size_t i = 0; i < n; i++)
        j.bytes += recs[i].key_len + recs[i].value_len + 32;
    if (!j.rel) {
        if (!refuse_plain(s, &j) && has_room(s, &j))
            runtime_on_loop(s, append_job, &j);
    } else if (!j.rel->is_source) {
        refuse(&j, 409, "%s is written by the pipeline; only source streams take records", topic);
    } else if (conn && !(conn->caps & WEIR_SOURCE_INGEST)) {
        refuse(&j, 409, "stream %s is fed by its %s connector and takes no other records", topic, conn->name);
    } else if (partition < 0 || (uint32_t)partition >= j.rel->partitions) {
        refuse(&j, 404, "stream %s has no partition %d (it has %u)", topic, partition, j.rel->partitions);
    } else if (!(j.bad = calloc(n ? n : 1, sizeof *j.bad))) {
        refuse(&j, 500, "out of memory");
    } else if (check_records(s, &j) && has_room(s, &j)) {
        runtime_on_loop(s, append_job, &j);
    }
    free(j.bad);
    if (!j.queued && done)
        done(ctx, j.status, j.why, 0);
}
