/*
 * browse.c - looking into the log as Kafka-UI does (see browse.h): a
 * stream's records by partition and offset, from a point in time, or by
 * key, and the consumer groups with their committed offsets and lag. The
 * dashboard's stream browser is built on these.
 *
 * Every answer is bounded: at most the caller's limit of records, a key
 * search reads at most KEY_SCAN records of a partition, a time lookup is
 * a binary search. It reads through readers of its own on the caller's
 * thread, as of the partitions' published ends (log.h): it never waits
 * for the pipeline.
 */
#include "runtime/browse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "json/json.h"
#include "runtime/runtime_internal.h"
#include "sql/value.h"

#define KEY_SCAN 100000    /* records of a partition a key search reads, the newest */

typedef struct found {     /* one record of the answer */
    uint32_t partition;
    uint64_t offset;
    int64_t ts;
    weir_buf json;         /* {"partition", "offset", "timestamp", "key", "value"} */
} found;

typedef struct browse {
    weir_stream *stream;
    const char *key;           /* only records of this key, or NULL */
    bool has_time;
    int64_t time_ms;           /* with has_time */
    size_t limit;
    found *v;
    size_t n, cap;
} browse;

static int put_record(found *f, const weir_record *rec, uint32_t p)
{
    weir_buf *b = &f->json;
    int rc = weir_buf_printf(b, "{\"partition\":%u,\"offset\":%llu,\"timestamp\":", p, (unsigned long long)rec->offset);
    weir_value t = weir_timestamp(rec->ts_ms);
    rc = rc || weir_value_to_json(b, &t) || weir_buf_append_str(b, ",\"key\":");
    rc = rc || (rec->key ? weir_json_quote(b, (const char *)rec->key, rec->key_len) : weir_buf_append_str(b, "null"));
    rc = rc || weir_buf_append_str(b, ",\"value\":");
    weir_json_span span;
    if (!rec->value_len) /* a tombstone */
        rc = rc || weir_buf_append_str(b, "null");
    else if (weir_json_validate((const char *)rec->value, rec->value_len, &span, NULL) == 0) /* weir's records are JSON */
        rc = rc || weir_buf_append(b, rec->value, rec->value_len);
    else
        rc = rc || weir_json_quote(b, (const char *)rec->value, rec->value_len);
    return rc || weir_buf_append_str(b, "}");
}

static int keep(browse *br, const weir_record *rec, uint32_t p)
{
    if (br->n == br->cap) {
        found *grown = weir_array_grow(br->v, &br->cap, sizeof *grown, 64);
        if (!grown)
            return WEIR_ENOMEM;
        br->v = grown;
    }
    found *f = &br->v[br->n];
    *f = (found){p, rec->offset, rec->ts_ms, {0}};
    if (put_record(f, rec, p)) {
        weir_buf_free(&f->json);
        return WEIR_ENOMEM;
    }
    br->n++;
    return WEIR_OK;
}

/* The first offset of partition p whose record is at or after time t,
 * by binary search: as Kafka's offsets-for-times, it takes time to grow
 * along the partition (true of ingest time, nearly so of event time). */
static int offset_for_time(weir_stream *st, uint32_t p, const weir_partition_stats *ps, int64_t t, uint64_t *out,
                           weir_err *err)
{
    uint64_t lo = ps->start_offset, hi = ps->end_offset;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        weir_reader *r;
        weir_record rec;
        int rc = weir_reader_open(st, p, mid, &r, err);
        int got = rc ? -1 : weir_reader_next(r, &rec, err);
        bool before = got == 1 && rec.ts_ms < t;
        weir_reader_close(r);
        if (got < 0)
            return err->code;
        if (before)
            lo = mid + 1;
        else
            hi = mid;
    }
    *out = lo;
    return WEIR_OK;
}

/* Keeps partition p's records from `from` on: up to limit of them, or with
 * a key, the last limit of those with that key. */
static int read_partition(browse *br, uint32_t p, uint64_t from, weir_err *err)
{
    weir_reader *r;
    int rc = weir_reader_open(br->stream, p, from, &r, err);
    if (rc)
        return rc;
    size_t first = br->n, kept = 0;
    size_t klen = br->key ? strlen(br->key) : 0;
    weir_record rec;
    int got;
    for (uint64_t read = 0; (got = weir_reader_next(r, &rec, err)) == 1 && read < KEY_SCAN; read++) {
        if (br->key && !(rec.key && rec.key_len == klen && !memcmp(rec.key, br->key, klen)))
            continue;
        if (br->key && kept == br->limit) { /* only the newest limit matches stay: drop the oldest */
            weir_buf_free(&br->v[first].json);
            memmove(&br->v[first], &br->v[first + 1], (br->n - first - 1) * sizeof *br->v);
            br->n--;
            kept--;
        }
        if ((rc = keep(br, &rec, p)))
            break;
        if (++kept == br->limit && !br->key)
            break;
    }
    weir_reader_close(r);
    if (got < 0)
        return err->code;
    return rc ? weir_err_set(err, rc, "out of memory") : WEIR_OK;
}

static int newest_first(const void *a, const void *b)
{
    const found *x = a, *y = b;
    return x->ts != y->ts ? (x->ts < y->ts ? 1 : -1) : x->partition != y->partition ? (x->partition > y->partition ? 1 : -1)
                                                                                     : (x->offset < y->offset ? 1 : -1);
}

static int oldest_first(const void *a, const void *b) { return newest_first(b, a); }

static void answer(weir_answer *a, browse *br, uint32_t nparts, const weir_partition_stats *stats)
{
    weir_buf b = {0};
    const char *name = weir_stream_name(br->stream);
    int rc = weir_buf_append_str(&b, "{\"stream\":") || weir_json_quote(&b, name, strlen(name)) ||
             weir_buf_append_str(&b, ",\"partitions\":[");
    for (uint32_t p = 0; p < nparts && !rc; p++)
        rc = weir_buf_printf(&b, "%s{\"partition\":%u,\"start_offset\":%llu,\"end_offset\":%llu}", p ? "," : "", p,
                             (unsigned long long)stats[p].start_offset, (unsigned long long)stats[p].end_offset);
    rc = rc || weir_buf_append_str(&b, "],\"records\":[");
    for (size_t i = 0; i < br->n && !rc; i++)
        rc = (i && weir_buf_append_str(&b, ",")) || weir_buf_append(&b, br->v[i].json.data, br->v[i].json.len);
    rc = rc || weir_buf_append_str(&b, "]}\n");
    answer_json(a, 200, rc, &b);
}

void weir_runtime_records(weir_runtime *s, const char *name, const weir_browse *q, weir_answer *a)
{
    uint64_t partition = q->partition, offset = q->offset;
    browse br = {.key = q->key, .has_time = q->has_time, .time_ms = q->time_ms, .limit = q->limit ? q->limit : 1};
    weir_err err = {0};
    weir_partition_stats *stats = NULL;
    int rc = weir_stream_open(s->log, name, &br.stream, &err);
    uint32_t nparts = rc ? 0 : weir_stream_get_config(br.stream)->partitions;
    if (rc) {
        answer_error(a, rc == WEIR_ENOENT ? 404 : 500, "%s", err.msg);
        goto out;
    }
    if (partition != UINT64_MAX && partition >= nparts) {
        answer_error(a, 400, "stream %s has partitions 0 to %u, not %llu", name, nparts - 1, (unsigned long long)partition);
        goto out;
    }
    if (!(stats = calloc(nparts, sizeof *stats))) {
        answer_error(a, 500, "out of memory");
        goto out;
    }
    for (uint32_t p = 0; p < nparts && rc == WEIR_OK; p++)
        rc = weir_stream_partition_stats(br.stream, p, &stats[p], &err);
    /* A key lives in the partition Kafka's partitioner gives it (as at ingest), unless one is named. */
    uint32_t only = partition != UINT64_MAX ? (uint32_t)partition
                  : br.key ? weir_partition_for_key(br.key, strlen(br.key), nparts) : UINT32_MAX;
    for (uint32_t p = 0; p < nparts && rc == WEIR_OK; p++) {
        if (only != UINT32_MAX && p != only)
            continue;
        const weir_partition_stats *ps = &stats[p];
        uint64_t from = offset != UINT64_MAX ? offset
                      : br.key ? (ps->end_offset - ps->start_offset > KEY_SCAN ? ps->end_offset - KEY_SCAN : ps->start_offset)
                      : ps->end_offset - ps->start_offset > br.limit ? ps->end_offset - br.limit : ps->start_offset;
        if (br.has_time)
            rc = offset_for_time(br.stream, p, ps, br.time_ms, &from, &err);
        if (rc == WEIR_OK)
            rc = read_partition(&br, p, from, &err);
    }
    if (rc) {
        answer_error(a, 500, "%s", err.msg);
        goto out;
    }
    if (only == UINT32_MAX) { /* all partitions: the newest limit of them, or from a time the oldest */
        qsort(br.v, br.n, sizeof *br.v, br.has_time ? oldest_first : newest_first);
        while (br.n > br.limit)
            weir_buf_free(&br.v[--br.n].json);
    }
    answer(a, &br, nparts, stats);
out:
    for (size_t i = 0; i < br.n; i++)
        weir_buf_free(&br.v[i].json);
    free(br.v);
    free(stats);
}

/* One group's offsets for one stream ("group/stream"), with each
 * partition's end and lag; a comma before it unless *first (then cleared). */
static int put_group(weir_runtime *s, weir_buf *b, const char *entry, bool *first)
{
    const char *slash = strchr(entry, '/');
    char group[300];
    snprintf(group, sizeof group, "%.*s", (int)(slash - entry), entry);
    weir_stream *st;
    weir_err err;
    if (weir_stream_open(s->log, slash + 1, &st, &err))
        return 0; /* offsets kept for a stream dropped since */
    uint32_t n = weir_stream_get_config(st)->partitions;
    uint64_t *committed = calloc(n, sizeof *committed), total = 0;
    int rc = !committed || weir_group_load(s->log, group, slash + 1, committed, n, &err);
    rc = rc || (!*first && weir_buf_append_str(b, ",")) || weir_buf_append_str(b, "{\"group\":") ||
         weir_json_quote(b, group, strlen(group)) || weir_buf_append_str(b, ",\"stream\":") ||
         weir_json_quote(b, slash + 1, strlen(slash + 1)) || weir_buf_append_str(b, ",\"partitions\":[");
    for (uint32_t p = 0; p < n && !rc; p++) {
        weir_partition_stats ps;
        rc = weir_stream_partition_stats(st, p, &ps, &err);
        uint64_t lag = !rc && ps.end_offset > committed[p] ? ps.end_offset - committed[p] : 0;
        total += lag;
        rc = rc || weir_buf_printf(b, "%s{\"partition\":%u,\"committed\":%llu,\"end\":%llu,\"lag\":%llu}", p ? "," : "", p,
                                   (unsigned long long)committed[p], (unsigned long long)ps.end_offset,
                                   (unsigned long long)lag);
    }
    rc = rc || weir_buf_printf(b, "],\"lag\":%llu}", (unsigned long long)total);
    free(committed);
    *first = false;
    return rc;
}

void weir_runtime_groups(weir_runtime *s, weir_answer *a)
{
    char **names = NULL;
    size_t n = 0;
    weir_err err = {0};
    weir_buf b = {0};
    int rc = weir_group_list(s->log, &names, &n, &err);
    if (rc) {
            answer_error(a, 500, "%s", err.msg);
        return;
    }
    bool first = true;
    rc = weir_buf_append_str(&b, "{\"groups\":[");
    for (size_t i = 0; i < n && !rc; i++)
        rc = put_group(s, &b, names[i], &first);
    rc = rc || weir_buf_append_str(&b, "]}\n");
    answer_json(a, 200, rc, &b);
    weir_names_free(names, n);
}
