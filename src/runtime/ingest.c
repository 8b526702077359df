/*
 * ingest.c - ingest admission (see ingest.h): a body split into records
 * (NDJSON, a JSON array or one object), or one record a route template
 * made, checked, appended and acknowledged by ticket.
 *
 * The caller's thread splits a batch, checks it against its stream's
 * schema and the quotas, and hands a copy of its records to the pipeline
 * thread (runtime_internal.h's queue), which appends all of it at once at
 * the start of its next step; the answer waits until that step's commit
 * makes it durable. If an append fails the open group is aborted: the log
 * drops everything since the last commit, so every request in the group
 * is answered 503 and nothing is half-written.
 *
 * Source connectors' feeds (a file's lines, --stdin) hand their records to
 * runtime_admit_feed on the pipeline thread: the same schema check and
 * append, the bad records always to the dead letters, since no client
 * waits to be refused.
 */
#include "runtime/ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "conn/connectors.h"
#include "conn/ingest.h"
#include "exec/engine.h"
#include "json/json.h"
#include "json/ndjson.h"
#include "runtime/runtime_internal.h"

/* A parsed ingest batch: the records' text in the request body, or what
 * a source connector's feed read. */
typedef struct record_span {
    const char *p;
    size_t len;
    uint64_t line;             /* in the body; a feed's record: its position (source.h) */
    bool bad;                  /* broke the schema (dead-lettered or the batch refused) */
} record_span;

typedef struct batch {
    record_span *v;
    size_t n, cap;
    bool positions;            /* a feed's: each record keeps its line as its WEIR_FEED_POSITION header */
} batch;

static int ingest_push(batch *b, const char *p, size_t len, uint64_t line)
{
    if (b->n == b->cap) {
        record_span *grown = weir_array_grow(b->v, &b->cap, sizeof *grown, 64);
        if (!grown)
            return WEIR_ENOMEM;
        b->v = grown;
    }
    b->v[b->n++] = (record_span){p, len, line, false};
    return WEIR_OK;
}

static int on_line(void *ctx, const char *text, size_t len, uint64_t line, weir_ndjson_error *e)
{
    (void)e;
    return ingest_push(ctx, text, len, line) ? 1 : 0;
}

typedef struct elements {
    batch *b;
    const char *body;
    const char *bad;           /* the first element that is not an object */
} elements;

static int on_element(void *ctx, const weir_json_span *v)
{
    elements *el = ctx;
    if (v->type != WEIR_JSON_OBJECT) {
        el->bad = v->p;
        return 1;
    }
    unsigned line, col;
    weir_json_position(el->body, (size_t)(v->p - el->body), &line, &col);
    return ingest_push(el->b, v->p, v->len, line) ? 2 : 0;
}

/* Splits a body into records: a JSON array of objects, or NDJSON (one
 * object is one line). false with the 400 answer given. */
static bool parse_body(weir_answer *a, const char *body, size_t len, batch *b)
{
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
        i++;
    if (i == len) {
        answer_error(a, 400, "the body holds no records (send NDJSON, a JSON array of objects or one object)");
        return false;
    }
    if (body[i] == '[') {
        weir_json_error e;
        unsigned line, col;
        if (weir_json_validate(body, len, NULL, &e)) {
            weir_json_position(body, e.offset, &line, &col);
            answer_error(a, 400, "bad JSON at line %u, column %u: %s; nothing was stored", line, col, e.msg);
            return false;
        }
        elements el = {b, body, NULL};
        int rc = weir_json_elements(body + i, len - i, on_element, &el);
        if (el.bad) {
            weir_json_position(body, (size_t)(el.bad - body), &line, &col);
            answer_error(a, 400, "line %u, column %u: record %zu of the array is not a JSON object; nothing was stored",
                         line, col, b->n);
            return false;
        }
        if (rc) {
            answer_error(a, 500, "out of memory");
            return false;
        }
        return true;
    }
    weir_ndjson nd = {0};
    weir_ndjson_error e;
    ssize_t used = weir_ndjson_feed(&nd, body, len, true, on_line, b, &e);
    if (used == -1) {
        answer_error(a, 400, "bad JSON at line %llu, column %u: %s; nothing was stored", (unsigned long long)e.line,
                     e.column, e.msg);
        return false;
    }
    if (used < 0) {
        answer_error(a, 500, "out of memory");
        return false;
    }
    return true;
}

/* Checks every record against the stream's schema; lists the violations
 * in *errors (a JSON array's members). Returns the number of bad records,
 * or -1 with the answer given. */
static long check_schema(weir_runtime *s, weir_answer *a, const weir_relation *rel, batch *b, weir_buf *errors,
                         int *version)
{
    if (!rel->schema_subject)
        return 0;
    const weir_jschema *schema = NULL;
    pthread_mutex_lock(&s->registry_lock); /* versions stay in memory once loaded: the pointer outlives the lock */
    const char *text = weir_registry_get(s->registry, rel->schema_subject, 0, version, &schema);
    pthread_mutex_unlock(&s->registry_lock);
    if (!text) {
        answer_error(a, 409, "stream %s takes records of schema subject '%s', which has no version yet: POST the schema "
                             "to /v1/schemas/%s first", rel->name, rel->schema_subject, rel->schema_subject);
        return -1;
    }
    long bad = 0;
    for (size_t i = 0; i < b->n; i++) {
        weir_jschema_violation v;
        if (weir_jschema_check(schema, b->v[i].p, b->v[i].len, &v))
            continue;
        b->v[i].bad = true;
        if ((bad++ && weir_buf_append_str(errors, ",")) ||
            weir_buf_printf(errors, "{\"index\":%zu,\"line\":%llu,\"field\":", i, (unsigned long long)b->v[i].line) ||
            weir_json_quote(errors, v.field, strlen(v.field)) || weir_buf_append_str(errors, ",\"rule\":") ||
            weir_json_quote(errors, v.rule, strlen(v.rule)) || weir_buf_append_str(errors, ",\"message\":") ||
            weir_json_quote(errors, v.msg, strlen(v.msg)) || weir_buf_append_str(errors, "}")) {
            answer_error(a, 500, "out of memory");
            return -1;
        }
    }
    return bad;
}

/* A checked batch on its way to the log: handed over by the caller's
 * thread, appended by the pipeline thread (runtime_internal.h's queue). */
struct queued_batch {
    int rel_index;
    char *text;                /* a copy of the request's body; the records point into it */
    batch b;
    long bad;                  /* records that broke the schema (they go to <stream>.dlq) */
    int version;               /* of the schema they were checked against */
    weir_buf errors;           /* the violations: a JSON array's members */
    size_t bytes;              /* counted in inflight_bytes */
    weir_ingest_done done;
    void *ctx;
    struct queued_batch *next;
};

static void queued_free(queued_batch *q)
{
    free(q->text);
    free(q->b.v);
    weir_buf_free(&q->errors);
    free(q);
}

/* Answers a batch that will not be stored. */
static void refuse(weir_runtime *s, queued_batch *q, weir_answer *a)
{
    q->done(q->ctx, a);
    atomic_fetch_sub(&s->inflight_bytes, q->bytes);
}

typedef struct partition_count {
    uint64_t count, first, last;
} partition_count;

/* The source stream of rel and, if it keeps them or dead letters are
 * coming, its dead letters (made on the pipeline thread if missing). */
static int open_streams(weir_runtime *s, const weir_relation *rel, bool dead, weir_stream **stream, weir_stream **dlq,
                        weir_err *err)
{
    char dlq_name[300];
    snprintf(dlq_name, sizeof dlq_name, "%s.dlq", rel->name);
    *dlq = NULL;
    weir_stream_config one = {.partitions = 1};
    int rc = weir_stream_open(s->log, rel->name, stream, err);
    return rc == WEIR_OK && (rel->invalid_to_dlq || dead) ? weir_stream_open_or_create(s->log, dlq_name, &one, dlq, err)
                                                          : rc;
}

/* The headers a record of b keeps: a feed's position, or none. */
static int headers_of(const batch *b, size_t i, weir_buf *out)
{
    out->len = 0;
    if (!b->positions || !b->v[i].line)
        return WEIR_OK;
    char at[24];
    int n = snprintf(at, sizeof at, "%llu", (unsigned long long)b->v[i].line);
    return weir_headers_add(out, WEIR_FEED_POSITION, at, (size_t)n);
}

/* Appends the batch's good records to stream (and its bad ones to dlq),
 * counting them per partition in counts (or not: NULL). */
static int append_batch(const weir_relation *rel, weir_stream *stream, weir_stream *dlq, const batch *b,
                        partition_count *counts, weir_err *err)
{
    weir_buf key = {0}, dead = {0}, headers = {0};
    int64_t now = weir_wall_ms();
    int rc = WEIR_OK;
    for (size_t i = 0; i < b->n && rc == WEIR_OK; i++) {
        if (headers_of(b, i, &headers)) {
            rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
            break;
        }
        if (b->v[i].bad) {
            weir_record rec = {.ts_ms = now, .headers = headers.data, .headers_len = headers.len};
            dead.len = 0;
            if (weir_dead_letter_json(&dead, "schema", b->v[i].p, b->v[i].len, NULL, now)) {
                rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
                break;
            }
            rec.value = dead.data;
            rec.value_len = dead.len;
            rc = weir_stream_append(dlq, 0, &rec, NULL, NULL, err);
            continue;
        }
        uint32_t part;
        uint64_t off;
        rc = weir_ingest_json(stream, -1, rel->key_fields, b->v[i].p, b->v[i].len, now, &headers, &key, &part, &off, err);
        if (rc == WEIR_OK && counts) {
            if (counts[part].count++ == 0)
                counts[part].first = off;
            counts[part].last = off;
        }
    }
    weir_buf_free(&key);
    weir_buf_free(&dead);
    weir_buf_free(&headers);
    return rc;
}

static int put_partitions(weir_buf *out, const partition_count *counts, uint32_t nparts)
{
    int rc = weir_buf_append_str(out, "\"partitions\":{");
    bool first = true;
    for (uint32_t p = 0; p < nparts && !rc; p++)
        if (counts[p].count) {
            rc = weir_buf_printf(out, "%s\"%u\":{\"count\":%llu,\"first_offset\":%llu,\"last_offset\":%llu}",
                                 first ? "" : ",", p, (unsigned long long)counts[p].count,
                                 (unsigned long long)counts[p].first, (unsigned long long)counts[p].last);
            first = false;
        }
    return rc || weir_buf_append_str(out, "}");
}

/* The answer of an appended batch, for when it is durable. */
static void accepted_answer(const weir_relation *rel, const queued_batch *q, const partition_count *counts,
                            pending_ack *ack)
{
    size_t accepted = q->b.n - (size_t)q->bad;
    int rc = weir_buf_printf(&ack->answer, "{\"accepted\":%zu,", accepted) ||
             put_partitions(&ack->answer, counts, rel->partitions);
    if (q->bad)
        rc = rc || weir_buf_printf(&ack->answer, ",\"dead_lettered\":%ld,\"error\":\"%ld of %zu records break "
                                                 "schema %s version %d; they went to %s.dlq\",\"errors\":[",
                                   q->bad, q->bad, q->b.n, rel->schema_subject, q->version, rel->name) ||
             weir_buf_append(&ack->answer, q->errors.data, q->errors.len) || weir_buf_append_str(&ack->answer, "]");
    rc = rc || weir_buf_append_str(&ack->answer, "}\n");
    ack->status = q->bad ? 422 : 200;
    if (rc) { /* the records are in; only the answer's details were lost */
        ack->answer.len = 0;
        ack->status = weir_buf_printf(&ack->answer, "{\"accepted\":%zu}\n", accepted) ? 500 : ack->status;
    }
}

/* Appends one handed-over batch; its answer waits for the step's commit. */
static void append_queued(weir_runtime *s, queued_batch *q)
{
    const weir_relation *rel = s->cat->rels[q->rel_index];
    partition_count *counts = calloc(rel->partitions, sizeof *counts);
    pending_ack *ack = calloc(1, sizeof *ack);
    weir_err err = {0};
    weir_answer a = {0};
    weir_stream *stream, *dlq;
    int rc;
    if (!counts || !ack || open_streams(s, rel, false, &stream, &dlq, &err)) { /* nothing appended: the group stands */
        answer_error(&a, 500, "%s", counts && ack ? err.msg : "out of memory");
        refuse(s, q, &a);
    } else if ((rc = append_batch(rel, stream, dlq, &q->b, counts, &err))) {
        /* the log kept nothing since its last commit: no request of the open group has its records */
        weir_log_abort(s->log);
        runtime_answer_pending(s, rc, err.msg);
        answer_error(&a, 503, "the records were not stored: %s", err.msg);
        a.retry_after_s = 1;
        refuse(s, q, &a);
    } else {
        accepted_answer(rel, q, counts, ack);
        ack->done = q->done;
        ack->ctx = q->ctx;
        ack->ticket = s->committed + 1;
        ack->bytes = q->bytes;
        *s->pending_tail = ack;
        s->pending_tail = &ack->next;
        ack = NULL;
        ingest_counters *ic = &s->ingest[q->rel_index];
        atomic_fetch_add(&ic->records, q->b.n - (size_t)q->bad);
        atomic_fetch_add(&ic->bytes, q->bytes);
        atomic_fetch_add(&ic->requests, 1);
        atomic_fetch_add(&ic->refused_invalid, (uint64_t)q->bad);
        s->ingested = true;
    }
    weir_answer_free(&a);
    free(ack);
    free(counts);
}

/* Takes what ingest handed over so far. */
static queued_batch *take_queued(weir_runtime *s)
{
    pthread_mutex_lock(&s->handoff_lock);
    queued_batch *q = s->queued;
    s->queued = NULL;
    s->queued_tail = &s->queued;
    pthread_mutex_unlock(&s->handoff_lock);
    return q;
}

void runtime_append_queued(weir_runtime *s)
{
    for (queued_batch *q = take_queued(s), *next; q; q = next) {
        next = q->next;
        append_queued(s, q);
        queued_free(q);
    }
}

void runtime_refuse_queued(weir_runtime *s, const char *why)
{
    for (queued_batch *q = take_queued(s), *next; q; q = next) {
        next = q->next;
        weir_answer a = {0};
        answer_error(&a, 503, "%s; nothing was stored", why);
        a.retry_after_s = 5;
        atomic_fetch_add(&s->ingest[q->rel_index].refused_overload, q->b.n);
        refuse(s, q, &a);
        queued_free(q);
    }
}

/* Whether the pipeline can take bytes more: else the 503 in *a. Under
 * handoff_lock, from the pipeline's last look. */
static bool has_room(weir_runtime *s, weir_answer *a, size_t bytes)
{
    const runtime_look *look = &s->look;
    if (s->closing)
        answer_error(a, 503, "weir is shutting down; nothing was stored");
    else if (look->paused)
        answer_error(a, 503, "the disk is full and the pipeline is paused (%s); nothing was stored: weir resumes by "
                             "itself when space is freed", look->paused_why);
    else if (s->opt.min_free && look->disk_free < s->opt.min_free + bytes)
        answer_error(a, 503, "the disk of %s has %llu bytes free, under --min-free %llu; nothing was stored: retry when "
                             "space is freed", weir_log_dir(s->log), (unsigned long long)look->disk_free,
                     (unsigned long long)s->opt.min_free);
    else if (s->opt.disk_quota && look->log_bytes + bytes > s->opt.disk_quota)
        answer_error(a, 503, "the log holds %llu bytes, at its disk quota of %llu (--disk-quota); nothing was stored: "
                             "retry when sinks or retention have made room", (unsigned long long)look->log_bytes,
                     (unsigned long long)s->opt.disk_quota);
    else if (atomic_load(&s->inflight_bytes) + bytes > s->opt.max_inflight_bytes) {
        answer_error(a, 503, "ingest is saturated (%zu bytes wait for their commit); nothing was stored, retry after a "
                             "second", atomic_load(&s->inflight_bytes));
        a->retry_after_s = 1;
        return false;
    } else
        return true;
    a->retry_after_s = 5;
    return false;
}

/* Hands the checked batch (its records in body) to the pipeline thread,
 * which takes b's records. false with the refusal in *a. */
static bool hand_over(weir_runtime *s, weir_answer *a, weir_ingest_done done, void *ctx, int rel_index, batch *b,
                      long bad, int version, weir_buf *errors, const char *body, size_t body_len)
{
    /* Refused now if there is no room already, before the copy: an overloaded
     * server should not copy a body only to drop it. Asked again when queueing. */
    pthread_mutex_lock(&s->handoff_lock);
    bool room = has_room(s, a, body_len), overload = !room && !s->closing;
    pthread_mutex_unlock(&s->handoff_lock);
    if (!room) {
        if (overload)
            atomic_fetch_add(&s->ingest[rel_index].refused_overload, b->n);
        return false;
    }
    queued_batch *q = calloc(1, sizeof *q);
    char *text = malloc(body_len ? body_len : 1);
    if (!q || !text) {
        free(q);
        free(text);
        answer_error(a, 500, "out of memory");
        return false;
    }
    memcpy(text, body, body_len);
    for (size_t i = 0; i < b->n; i++)
        b->v[i].p = text + (b->v[i].p - body);
    *q = (queued_batch){rel_index, text, *b, bad, version, *errors, body_len, done, ctx, NULL};
    *b = (batch){0};
    *errors = (weir_buf){0};
    pthread_mutex_lock(&s->handoff_lock);
    room = has_room(s, a, body_len);
    overload = !room && !s->closing;
    if (room) {
        atomic_fetch_add(&s->inflight_bytes, body_len);
        *s->queued_tail = q;
        s->queued_tail = &q->next;
        pthread_cond_signal(&s->wake);
    }
    pthread_mutex_unlock(&s->handoff_lock);
    if (!room) {
        if (overload)
            atomic_fetch_add(&s->ingest[rel_index].refused_overload, q->b.n);
        queued_free(q);
    }
    return room;
}

/* Everything after parsing, for both forms: 0 with the refusal in *a, or
 * 1 when the batch waits for its commit (done answers it). */
static int admit(weir_runtime *s, weir_answer *a, weir_ingest_done done, void *ctx, int rel_index, batch *b,
                 const char *body, size_t body_len)
{
    const weir_relation *rel = s->cat->rels[rel_index];
    const weir_source_connector *conn = weir_source_connector_of(rel);
    if (conn && !(conn->caps & WEIR_SOURCE_INGEST)) { /* its connector alone feeds it (a file's lines, say) */
        answer_error(a, 409, "stream %s is fed by its %s connector and takes no other records", rel->name, conn->name);
        return 0;
    }
    weir_buf errors = {0};
    int version = 0;
    long bad = check_schema(s, a, rel, b, &errors, &version);
    if (bad > 0 && !rel->invalid_to_dlq) {
        atomic_fetch_add(&s->ingest[rel_index].refused_invalid, (uint64_t)bad);
        weir_buf *answer = &a->body;
        int rc = weir_buf_printf(answer, "{\"error\":\"%ld of %zu records break schema %s version %d; nothing was "
                                         "stored\",\"accepted\":0,\"errors\":[", bad, b->n, rel->schema_subject, version) ||
                 weir_buf_append(answer, errors.data, errors.len) || weir_buf_append_str(answer, "]}\n");
        a->status = rc ? 500 : 422;
        a->content_type = "application/json";
        if (rc)
            answer->len = 0;
    }
    int waits = bad >= 0 && (!bad || rel->invalid_to_dlq) &&
                hand_over(s, a, done, ctx, rel_index, b, bad, version, &errors, body, body_len);
    weir_buf_free(&errors);
    return waits;
}

void weir_runtime_ingest(weir_runtime *s, const char *stream, weir_ingest_form form, const char *body, size_t len,
                         weir_ingest_done done, void *ctx)
{
    weir_answer a = {0};
    batch b = {0};
    int index;
    const weir_relation *rel = runtime_relation(s, stream, &index);
    int waits = 0;
    if (!rel)
        answer_error(&a, 404, "no stream %s in the pipeline", stream);
    else if (!rel->is_source)
        answer_error(&a, 409, "%s is written by the pipeline (%s AS SELECT); only source streams take records", stream,
                     rel->is_table ? "CREATE TABLE" : "CREATE STREAM");
    else if (form == WEIR_INGEST_RECORD && ingest_push(&b, body, len, 1))
        answer_error(&a, 500, "out of memory");
    else if (form == WEIR_INGEST_RECORD || parse_body(&a, body, len, &b))
        waits = admit(s, &a, done, ctx, index, &b, body, len);
    free(b.v);
    if (!waits)
        done(ctx, &a);
    weir_answer_free(&a);
}

int runtime_admit_feed(void *ctx, const weir_feed_record *recs, size_t n, weir_err *err)
{
    const feed_target *t = ctx;
    weir_runtime *s = t->s;
    const weir_relation *rel = s->cat->rels[t->rel_index];
    batch b = {.positions = true};
    int rc = WEIR_OK;
    for (size_t i = 0; i < n && rc == WEIR_OK; i++)
        if (ingest_push(&b, recs[i].text, recs[i].len, recs[i].position))
            rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
    weir_answer a = {0};
    weir_buf errors = {0};
    int version = 0;
    long bad = rc == WEIR_OK ? check_schema(s, &a, rel, &b, &errors, &version) : 0;
    if (bad < 0)
        rc = weir_err_set(err, WEIR_EINVAL, "%s", a.msg);
    weir_stream *stream, *dlq;
    if (rc == WEIR_OK && (rc = open_streams(s, rel, bad > 0, &stream, &dlq, err)) == WEIR_OK)
        rc = append_batch(rel, stream, dlq, &b, NULL, err);
    if (rc == WEIR_OK)
        s->ingested = true;
    free(b.v);
    weir_buf_free(&errors);
    weir_answer_free(&a);
    return rc;
}
