/*
 * kafka_read.c - the log as a wire protocol reads it (runtime.h): its
 * streams as topics, a partition's offsets, its records with their keys
 * and headers, and consumer groups' committed offsets.
 *
 * Everything here runs on the caller's thread through readers of its own,
 * as of the partitions' published ends (log.h), as browse.c does: it never
 * waits for the pipeline. A pipeline output is read up to its published
 * end, not its last checkpoint, as `weir consume` reads it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/kafka_topics.h"

void weir_runtime_topics_free(weir_topic *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(t[i].name);
    free(t);
}

/* A source stream of the pipeline, or a plain topic (kafka_topics.c). */
static bool writable(weir_runtime *s, const char *name)
{
    const weir_relation *rel = runtime_relation(s, name, NULL);
    return rel ? rel->is_source : !runtime_of_pipeline(s, name);
}

int weir_runtime_topics(weir_runtime *s, weir_topic **out, size_t *n, weir_err *err)
{
    char **names;
    size_t count;
    *out = NULL;
    *n = 0;
    int rc = weir_log_list_streams(s->log, &names, &count, err);
    if (rc)
        return rc;
    weir_topic *t = calloc(count ? count : 1, sizeof *t);
    if (!t) {
        weir_names_free(names, count);
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    }
    size_t kept = 0;
    for (size_t i = 0; i < count; i++) {
        weir_stream *st;
        if (weir_name_internal(names[i])) /* weir's own (kafka_producers.c), as Kafka hides __transaction_state */
            continue;
        if (weir_stream_open(s->log, names[i], &st, NULL)) /* dropped since it was listed */
            continue;
        t[kept] = (weir_topic){names[i], weir_stream_get_config(st)->partitions, writable(s, names[i])};
        names[i] = NULL;
        kept++;
    }
    weir_names_free(names, count);
    *out = t;
    *n = kept;
    return WEIR_OK;
}

/* The stream of topic with partition in range. */
static int open_partition(weir_runtime *s, const char *topic, int32_t partition, weir_stream **st, weir_err *err)
{
    int rc = weir_stream_open(s->log, topic, st, err);
    if (rc)
        return rc == WEIR_EINVAL ? weir_err_set(err, WEIR_ENOENT, "%s", err->msg) : rc;
    if (partition < 0 || (uint32_t)partition >= weir_stream_get_config(*st)->partitions)
        return weir_err_set(err, WEIR_ENOENT, "stream %s has no partition %d (it has %u)", topic, partition,
                            weir_stream_get_config(*st)->partitions);
    return WEIR_OK;
}

int weir_runtime_partition_offsets(weir_runtime *s, const char *topic, int32_t partition, uint64_t *start,
                                   uint64_t *end, weir_err *err)
{
    weir_stream *st;
    weir_partition_stats ps;
    int rc = open_partition(s, topic, partition, &st, err);
    if (rc == WEIR_OK)
        rc = weir_stream_partition_stats(st, (uint32_t)partition, &ps, err);
    if (rc == WEIR_OK) {
        *start = ps.start_offset;
        *end = ps.end_offset;
    }
    return rc;
}

/* Decodes weir's headers into hs (grown as needed). */
static int decode_headers(const weir_record *rec, weir_wire_header **hs, size_t *cap, size_t *n)
{
    size_t pos = 0;
    weir_header h;
    *n = 0;
    while (weir_headers_next(rec->headers, rec->headers_len, &pos, &h)) {
        if (*n == *cap) {
            weir_wire_header *grown = weir_array_grow(*hs, cap, sizeof *grown, 8);
            if (!grown)
                return WEIR_ENOMEM;
            *hs = grown;
        }
        (*hs)[(*n)++] = (weir_wire_header){h.name, h.name_len, h.value, h.value_len};
    }
    return WEIR_OK;
}

int weir_runtime_read(weir_runtime *s, const char *topic, int32_t partition, uint64_t offset, size_t max_bytes,
                      weir_wire_each each, void *ctx, uint64_t *start, uint64_t *end, weir_err *err)
{
    weir_stream *st;
    weir_reader *r;
    int rc = weir_runtime_partition_offsets(s, topic, partition, start, end, err);
    if (rc || offset >= *end)
        return rc;
    if ((rc = open_partition(s, topic, partition, &st, err)) || (rc = weir_reader_open(st, (uint32_t)partition, offset, &r, err)))
        return rc;
    weir_wire_header *hs = NULL;
    size_t cap = 0, bytes = 0;
    weir_record rec;
    int got;
    while (rc == WEIR_OK && (bytes == 0 || bytes < max_bytes) && (got = weir_reader_next(r, &rec, err)) != 0) {
        if (got < 0) {
            rc = err->code ? err->code : WEIR_ECORRUPT;
            break;
        }
        weir_wire_record w = {rec.key, rec.key_len, rec.value, rec.value_len, rec.ts_ms, NULL, 0, rec.offset};
        if (decode_headers(&rec, &hs, &cap, &w.nheaders)) {
            rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
            break;
        }
        w.headers = hs;
        bytes += rec.key_len + rec.value_len + rec.headers_len + 1;
        if (each(ctx, &w))
            break;
    }
    free(hs);
    weir_reader_close(r);
    return rc;
}

int weir_runtime_group_offsets(weir_runtime *s, const char *group, const char *topic, uint64_t *offsets,
                               uint32_t partitions, weir_err *err)
{
    char **names, want[600];
    size_t n;
    int rc = weir_group_list(s->log, &names, &n, err);
    if (rc)
        return rc;
    snprintf(want, sizeof want, "%s/%s", group, topic);
    bool found = false;
    for (size_t i = 0; i < n && !found; i++)
        found = !strcmp(names[i], want);
    weir_names_free(names, n);
    if (!found)
        return weir_err_set(err, WEIR_ENOENT, "group %s has committed no offsets of %s", group, topic);
    return weir_group_load(s->log, group, topic, offsets, partitions, err);
}

/* One commit at a time: each rewrites the whole (group, stream) file from
 * what it loaded. */
static pthread_mutex_t commit_lock = PTHREAD_MUTEX_INITIALIZER;

int weir_runtime_group_commit(weir_runtime *s, const char *group, const char *topic, int32_t partition,
                              uint64_t offset, weir_err *err)
{
    weir_stream *st;
    int rc = open_partition(s, topic, partition, &st, err);
    if (rc)
        return rc;
    uint32_t n = weir_stream_get_config(st)->partitions;
    uint64_t *offsets = calloc(n, sizeof *offsets);
    if (!offsets)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    pthread_mutex_lock(&commit_lock);
    rc = weir_group_load(s->log, group, topic, offsets, n, err);
    if (rc == WEIR_OK && offsets[partition] != offset) {
        offsets[partition] = offset;
        rc = weir_group_commit(s->log, group, topic, offsets, n, err);
    }
    pthread_mutex_unlock(&commit_lock);
    free(offsets);
    return rc;
}
