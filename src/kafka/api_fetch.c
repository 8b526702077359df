/*
 * api_fetch.c - ListOffsets (v1-v5) and Fetch (v4-v11) over the log.
 *
 * A fetch reads each partition from its offset through the runtime's
 * readers and encodes the records as one uncompressed record batch v2 per
 * partition. When there is less than min_bytes it waits, up to
 * max_wait_ms: the listener polls it again (see FETCH_POLL_MS in
 * listener.c) until the partitions have grown or the time is up, so
 * consumers long-poll as they do against Kafka. Fetch sessions (KIP-227)
 * are not kept: the answer's session id 0 tells clients to send full
 * fetches.
 */
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "kafka/batch.h"
#include "kafka/proto.h"

#define EARLIEST (-2)
#define LATEST (-1)

typedef struct ts_seek {
    int64_t ts;
    int64_t found_ts, found_offset;
} ts_seek;

static int first_at(void *ctx, const weir_wire_record *rec)
{
    ts_seek *k = ctx;
    if (rec->ts_ms < k->ts)
        return 0;
    k->found_ts = rec->ts_ms;
    k->found_offset = (int64_t)rec->offset;
    return 1;
}

/* A partition's answer to ListOffsets: the earliest, the latest, or the
 * first record at or after a time (found by reading, oldest first). */
static void list_offset(const weir_kctx *c, const char *topic, int32_t partition, int64_t ts, int16_t version,
                        weir_kw *w)
{
    uint64_t start, end;
    weir_err err = {0};
    int rc = weir_runtime_partition_offsets(c->rt, topic, partition, &start, &end, &err);
    ts_seek k = {ts, -1, -1};
    if (rc == WEIR_OK && ts == EARLIEST)
        k.found_offset = (int64_t)start;
    else if (rc == WEIR_OK && ts == LATEST)
        k.found_offset = (int64_t)end;
    else if (rc == WEIR_OK)
        rc = weir_runtime_read(c->rt, topic, partition, start, SIZE_MAX, first_at, &k, &start, &end, &err);
    weir_kw_i32(w, partition);
    weir_kw_i16(w, weir_kafka_error_of(rc));
    weir_kw_i64(w, k.found_ts);
    weir_kw_i64(w, rc ? -1 : k.found_offset);
    if (version >= 4)
        weir_kw_i32(w, 0); /* leader_epoch */
}

weir_kresult weir_kafka_list_offsets(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait)
{
    (void)wait;
    weir_kr *r = &q->body;
    weir_kr_i32(r, "replica_id");
    if (q->version >= 2)
        weir_kr_i8(r, "isolation_level");
    if (q->version >= 2)
        weir_kw_i32(w, 0); /* throttle_time_ms */
    int32_t nt = weir_kr_array(r, false, false, 6, "topics");
    weir_kw_array(w, false, nt);
    for (int32_t t = 0; t < nt && weir_kr_ok(r); t++) {
        char topic[256];
        weir_kafka_name(r, false, topic, sizeof topic, "topic name");
        int32_t np = weir_kr_array(r, false, false, 12, "partitions");
        weir_kw_string(w, false, topic);
        weir_kw_array(w, false, np);
        for (int32_t p = 0; p < np && weir_kr_ok(r); p++) {
            int32_t partition = weir_kr_i32(r, "partition_index");
            if (q->version >= 4)
                weir_kr_i32(r, "current_leader_epoch");
            int64_t ts = weir_kr_i64(r, "timestamp");
            if (weir_kr_ok(r))
                list_offset(c, topic, partition, ts, q->version, w);
        }
    }
    return weir_kr_ok(r) ? KAFKA_ANSWER : KAFKA_MALFORMED;
}

typedef struct fetch_part {
    size_t topic;              /* index into names */
    int32_t partition;
    int64_t offset;
    int32_t max_bytes;
} fetch_part;

typedef struct fetch_wait {
    weir_kwait base;
    int16_t version;
    int32_t min_bytes, max_bytes;
    char (*names)[256];
    size_t ntopics;
    fetch_part *parts;
    size_t nparts;
} fetch_wait;

static void fetch_free(weir_kwait *wt)
{
    fetch_wait *f = (fetch_wait *)wt;
    free(f->names);
    free(f->parts);
    free(f);
}

typedef struct batch_out {
    weir_kbatch_builder b;
    weir_kw *w;
} batch_out;

static int add_record(void *ctx, const weir_wire_record *rec)
{
    batch_out *o = ctx;
    weir_kbatch_add(&o->b, o->w, rec);
    return o->w->oom;
}

/* One partition's answer; the bytes of its records in *bytes. */
static void fetch_partition(const weir_kctx *c, const fetch_wait *f, const fetch_part *fp, size_t budget,
                            weir_kw *w, size_t *bytes)
{
    uint64_t start = 0, end = 0;
    weir_err err = {0};
    int rc = weir_runtime_partition_offsets(c->rt, f->names[fp->topic], fp->partition, &start, &end, &err);
    int16_t error = weir_kafka_error_of(rc);
    if (!rc && (fp->offset < (int64_t)start || fp->offset > (int64_t)end))
        error = KERR_OFFSET_OUT_OF_RANGE;
    weir_kw_i32(w, fp->partition);
    weir_kw_i16(w, error);
    weir_kw_i64(w, (int64_t)end); /* high_watermark */
    weir_kw_i64(w, (int64_t)end); /* last_stable_offset: no transactions */
    if (f->version >= 5)
        weir_kw_i64(w, (int64_t)start);
    weir_kw_array(w, false, 0); /* aborted_transactions */
    if (f->version >= 11)
        weir_kw_i32(w, -1); /* preferred_read_replica */
    size_t at = w->b->len;
    weir_kw_i32(w, 0); /* the records' size, below */
    if (!error && fp->offset < (int64_t)end && budget > 0) {
        batch_out o = {.w = w};
        weir_kbatch_begin(&o.b, w);
        size_t limit = (size_t)fp->max_bytes < budget ? (size_t)fp->max_bytes : budget;
        weir_runtime_read(c->rt, f->names[fp->topic], fp->partition, (uint64_t)fp->offset, limit, add_record, &o, &start,
                          &end, &err);
        weir_kbatch_finish(&o.b, w);
    }
    *bytes = w->b->len - at - 4;
    weir_kw_patch_i32(w, at, (int32_t)*bytes);
}

/* Answers when there are min_bytes or the wait is over. */
static int fetch_poll(weir_kwait *wt, const weir_kctx *c, weir_kw *w, int64_t now_ms)
{
    fetch_wait *f = (fetch_wait *)wt;
    size_t mark = w->b->len, total = 0;
    if (f->version >= 1)
        weir_kw_i32(w, 0); /* throttle_time_ms */
    if (f->version >= 7) {
        weir_kw_i16(w, KERR_NONE);
        weir_kw_i32(w, 0); /* session_id: no session */
    }
    weir_kw_array(w, false, (int32_t)f->ntopics);
    size_t i = 0;
    for (size_t t = 0; t < f->ntopics; t++) {
        size_t n = 0;
        while (i + n < f->nparts && f->parts[i + n].topic == t)
            n++;
        weir_kw_string(w, false, f->names[t]);
        weir_kw_array(w, false, (int32_t)n);
        for (; n > 0; n--, i++) {
            size_t bytes, max = (size_t)(f->max_bytes > 0 ? f->max_bytes : 1);
            fetch_partition(c, f, &f->parts[i], total < max ? max - total : 0, w, &bytes);
            total += bytes;
        }
    }
    if (total >= (size_t)(f->min_bytes > 0 ? f->min_bytes : 1) || now_ms >= f->base.deadline_ms || w->oom)
        return 1;
    w->b->len = mark; /* not enough yet: asked again */
    return 0;
}

static bool read_fetch(weir_kr *r, fetch_wait *f, int32_t *max_wait)
{
    int16_t v = f->version;
    weir_kr_i32(r, "replica_id");
    *max_wait = weir_kr_i32(r, "max_wait_ms");
    f->min_bytes = weir_kr_i32(r, "min_bytes");
    f->max_bytes = weir_kr_i32(r, "max_bytes");
    weir_kr_i8(r, "isolation_level");
    if (v >= 7) {
        weir_kr_i32(r, "session_id");
        weir_kr_i32(r, "session_epoch");
    }
    int32_t nt = weir_kr_array(r, false, false, 6, "topics");
    f->names = calloc(nt > 0 ? (size_t)nt : 1, sizeof *f->names);
    if (!f->names)
        return false;
    for (int32_t t = 0; t < nt && weir_kr_ok(r); t++) {
        weir_kafka_name(r, false, f->names[t], sizeof f->names[t], "topic name");
        int32_t np = weir_kr_array(r, false, false, 16, "partitions");
        fetch_part *grown = realloc(f->parts, (f->nparts + (size_t)np + 1) * sizeof *grown);
        if (!grown)
            return false;
        f->parts = grown;
        for (int32_t p = 0; p < np && weir_kr_ok(r); p++) {
            fetch_part *fp = &f->parts[f->nparts++];
            fp->topic = (size_t)t;
            fp->partition = weir_kr_i32(r, "partition");
            if (v >= 9)
                weir_kr_i32(r, "current_leader_epoch");
            fp->offset = weir_kr_i64(r, "fetch_offset");
            if (v >= 5)
                weir_kr_i64(r, "log_start_offset");
            fp->max_bytes = weir_kr_i32(r, "partition_max_bytes");
        }
        f->ntopics = (size_t)t + 1;
    }
    if (v >= 7) {
        int32_t nf = weir_kr_array(r, false, false, 6, "forgotten_topics_data");
        for (int32_t t = 0; t < nf && weir_kr_ok(r); t++) {
            weir_kr_string(r, false, false, "forgotten topic");
            int32_t np = weir_kr_array(r, false, false, 4, "forgotten partitions");
            for (int32_t p = 0; p < np && weir_kr_ok(r); p++)
                weir_kr_i32(r, "forgotten partition");
        }
    }
    if (v >= 11)
        weir_kr_string(r, false, false, "rack_id");
    return true;
}

weir_kresult weir_kafka_fetch(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait)
{
    fetch_wait *f = calloc(1, sizeof *f);
    if (!f)
        return KAFKA_MALFORMED;
    f->version = q->version;
    int32_t max_wait = 0;
    if (!read_fetch(&q->body, f, &max_wait))
        weir_kr_fail(&q->body, "out of memory");
    if (!weir_kr_ok(&q->body)) {
        fetch_free(&f->base);
        return KAFKA_MALFORMED;
    }
    int64_t now = weir_wall_ms();
    f->base = (weir_kwait){fetch_poll, fetch_free, now + (max_wait > 0 ? max_wait : 0), false};
    if (fetch_poll(&f->base, c, w, now)) {
        fetch_free(&f->base);
        return KAFKA_ANSWER;
    }
    *wait = &f->base;
    return KAFKA_WAIT;
}
