/*
 * retention.c - applying the streams' retention and compaction from the
 * pipeline loop (retention.h). The log does the work (weir_log_apply_
 * retention, weir_stream_compact); this file decides, from the catalog,
 * which settings each stream gets and when the work runs, and for a
 * table whose changelog is kept only for its readers (cleanup_policy =
 * 'store') how far back they need it.
 */
#include "runtime/retention.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime_internal.h"
#include "runtime/sinks.h"

#define CLEAN_EVERY_MS 1000   /* retention, and a look for compaction due */
#define STEP_BYTES (8u << 20) /* a turn's compaction reads about this much (tens of milliseconds) */
#define GROUP_OFFSETS_MS (7LL * 24 * 3600 * 1000) /* a consumer group's offsets hold a changelog back this long
                                                     after its last commit (Kafka's offsets.retention.minutes) */

/* Compact by default: a table whose changelog is keyed by its whole
 * primary key (runner.c keys a derived table's rows so). */
static bool compacts(const weir_relation *rel)
{
    return rel->compact >= 0 ? rel->compact == 1 : rel->is_table && rel->query;
}

static int configure(weir_log *log, const char *name, const weir_stream_config *c, weir_err *err)
{
    weir_stream *st;
    int rc = weir_stream_open(log, name, &st, err);
    if (rc == WEIR_ENOENT)
        return WEIR_OK;
    return rc ? rc : weir_stream_reconfigure(st, c, err);
}

int runtime_set_cleanup(weir_runtime *s, weir_err *err)
{
    int64_t dflt = s->opt.retention_ms ? s->opt.retention_ms : WEIR_DEFAULT_RETENTION_MS;
    int rc = WEIR_OK;
    for (int i = 0; i < s->cat->nrels && rc == WEIR_OK; i++) {
        const weir_relation *rel = s->cat->rels[i];
        bool compact = compacts(rel), store = rel->compact == WEIR_CLEANUP_STORE;
        /* A source table's records are its rows' history, which a temporal join reads and a --reset
         * rebuilds from: kept unless it says (not compacted either: a pass would have to wait for the
         * pipeline's reading of them). */
        int64_t ms = rel->retention_ms ? rel->retention_ms : compact || rel->is_table ? -1 : dflt;
        weir_stream_config c = {.retention_ms = ms < 0 ? 0 : ms, .retention_bytes = rel->retention_bytes,
                                .compact = compact,
                                .segment_bytes = compact || store ? WEIR_COMPACT_SEGMENT_BYTES : 0};
        rc = configure(s->log, rel->name, &c, err);
        char dlq[300];
        snprintf(dlq, sizeof dlq, "%s.dlq", rel->name);
        int64_t dlq_ms = rel->retention_ms ? rel->retention_ms : dflt;
        weir_stream_config d = {.retention_ms = dlq_ms < 0 ? 0 : dlq_ms, .retention_bytes = rel->retention_bytes};
        if (rc == WEIR_OK)
            rc = configure(s->log, dlq, &d, err);
    }
    if (rc)
        weir_err_wrap(err, "setting the streams' retention");
    return rc;
}

/* Lowers limit[0..n) to the committed offsets of the consumer groups
 * (weir consume --group, Kafka clients through serve --kafka-listen, a
 * sink no longer declared) that read stream and committed in the last
 * GROUP_OFFSETS_MS. A damaged offsets file holds everything back. */
static int groups_need(weir_runtime *s, const char *stream, int64_t now_ms, uint64_t *limit, uint32_t n,
                       weir_err *err)
{
    char **names;
    size_t count;
    int rc = weir_group_list(s->log, &names, &count, err);
    if (rc)
        return rc;
    uint64_t *offsets = malloc(n * sizeof *offsets);
    if (!offsets)
        rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
    for (size_t i = 0; i < count && rc == WEIR_OK; i++) {
        char *slash = strchr(names[i], '/');
        int64_t ms;
        if (!slash || strcmp(slash + 1, stream))
            continue;
        *slash = '\0';
        int got = weir_group_committed_ms(s->log, names[i], stream, &ms, err);
        if (got == WEIR_ENOENT || (got == WEIR_OK && now_ms - ms > GROUP_OFFSETS_MS))
            continue; /* gone meanwhile, or abandoned */
        if (got == WEIR_OK)
            got = weir_group_load(s->log, names[i], stream, offsets, n, err);
        for (uint32_t p = 0; p < n; p++)
            limit[p] = got ? 0 : offsets[p] < limit[p] ? offsets[p] : limit[p];
    }
    free(offsets);
    weir_names_free(names, count);
    return rc;
}

/* For a table with cleanup_policy 'store': deletes the sealed segments of
 * its changelog below what every reader still needs: the last
 * checkpoint's end (a restart truncates to it, and the store holds the
 * rows up to it), what each sink delivered, where each change feed is,
 * and the offsets consumer groups committed. A reader asking for less
 * starts at the first kept offset (Kafka clients get OFFSET_OUT_OF_RANGE
 * and their reset policy). */
static int trim(weir_runtime *s, const weir_relation *rel, int64_t now_ms, weir_err *err)
{
    weir_stream *st;
    if (weir_stream_open(s->log, rel->name, &st, err) != WEIR_OK)
        return WEIR_OK; /* not created yet */
    uint32_t n = weir_stream_get_config(st)->partitions;
    uint64_t *limit = malloc(n * sizeof *limit);
    if (!limit)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    for (uint32_t p = 0; p < n; p++) {
        if (!runtime_checkpointed_end(s, rel->name, p, &limit[p]))
            limit[p] = 0; /* an output the runner does not write here: its rows are not in this store */
        uint64_t delivered = weir_sinks_delivered(s, rel->name, p), fed = runtime_feeds_position(s, st, p);
        limit[p] = delivered < limit[p] ? delivered : limit[p];
        limit[p] = fed < limit[p] ? fed : limit[p];
    }
    int rc = groups_need(s, rel->name, now_ms, limit, n, err);
    for (uint32_t p = 0; p < n && rc == WEIR_OK; p++)
        rc = limit[p] ? weir_stream_delete_before(st, p, limit[p], NULL, err) : WEIR_OK;
    free(limit);
    return rc;
}

/* Goes on with the log's compaction pass for about STEP_BYTES (all: to
 * its end), starting one where one is due. *under_way: a pass may not be
 * finished; *read_out: bytes read. */
static int compact(weir_runtime *s, int64_t now_ms, bool all, bool *under_way, uint64_t *read_out, weir_err *err)
{
    uint64_t total = 0;
    *under_way = false;
    *read_out = 0;
    for (int i = 0; i < s->cat->nrels; i++) {
        const weir_relation *rel = s->cat->rels[i];
        weir_stream *st;
        if (!compacts(rel) || weir_stream_open(s->log, rel->name, &st, err) != WEIR_OK)
            continue;
        for (uint32_t p = 0; p < weir_stream_get_config(st)->partitions; p++) {
            uint64_t limit = UINT64_MAX, read = 0;
            if (!runtime_checkpointed_end(s, rel->name, p, &limit) && !rel->is_source)
                continue; /* an output the runner does not write here */
            uint64_t delivered = weir_sinks_delivered(s, rel->name, p); /* a sink delivers every change */
            limit = delivered < limit ? delivered : limit;
            int rc = weir_stream_compact(st, p, limit, now_ms, all ? 0 : STEP_BYTES - total, &read, NULL, err);
            if (rc)
                return rc;
            total += read;
            *read_out = total;
            if (!all && total >= STEP_BYTES) {
                *under_way = true; /* or another is due: the next turn looks */
                return WEIR_OK;
            }
        }
    }
    return WEIR_OK;
}

int runtime_clean_log(weir_runtime *s, int64_t now_ms, bool all, weir_err *err)
{
    bool due = all || now_ms - s->cleaned_ms >= CLEAN_EVERY_MS;
    if ((!due && !s->compacting) || runtime_checkpointing(s))
        return WEIR_OK;
    int rc = WEIR_OK;
    if (due) {
        s->cleaned_ms = now_ms;
        rc = weir_log_apply_retention(s->log, now_ms, err);
        for (int i = 0; i < s->cat->nrels && rc == WEIR_OK; i++)
            rc = s->cat->rels[i]->compact == WEIR_CLEANUP_STORE ? trim(s, s->cat->rels[i], now_ms, err) : WEIR_OK;
    }
    uint64_t read = 0;
    if (rc == WEIR_OK)
        do /* all: until no pass is due (one runs at a time, so a round may skip some) */
            rc = compact(s, now_ms, all, &s->compacting, &read, err);
        while (rc == WEIR_OK && all && read > 0);
    return rc == WEIR_ENOSPC ? WEIR_OK : rc; /* the next turn tries again; ingest's checks see the full disk */
}
