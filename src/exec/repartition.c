/*
 * repartition.c - the origin of scale-out's repartition records: written
 * into a header by the task that re-keys its input, read back by the task
 * that groups them, to apply each once and judge lateness as one process
 * would (repartition.h says the rules).
 */
#include "exec/repartition.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/engine_internal.h"

typedef struct origins {       /* one repartition stream's origin partitions */
    uint64_t *next;            /* reader: the next origin offset it applies (all below are applied), per origin */
    int64_t *wm;               /* writer: the origin's watermark: newest event time written, INT64_MIN none */
    int64_t *seen_ms;          /* reader: wall time of its last record from the origin (not saved) */
    uint32_t parts;
} origins;

struct weir_repart {
    origins *streams;          /* by the catalog's relation index; parts 0 for other relations */
    int nrels;
    weir_buf header;           /* the last header written */
};

int repart_new(const weir_catalog *cat, weir_repart **out, weir_err *err)
{
    *out = NULL;
    bool any = false;
    for (int i = 0; i < cat->nrels; i++)
        any |= cat->rels[i]->repartition_of != NULL;
    if (!any)
        return WEIR_OK;
    weir_repart *rp = calloc(1, sizeof *rp);
    if (!rp || !(rp->streams = calloc((size_t)cat->nrels, sizeof *rp->streams))) {
        free(rp);
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    }
    rp->nrels = cat->nrels;
    for (int i = 0; i < cat->nrels; i++) {
        origins *o = &rp->streams[i];
        if (!cat->rels[i]->repartition_of)
            continue;
        o->parts = cat->rels[i]->partitions;
        o->next = calloc(o->parts, sizeof *o->next);
        o->wm = malloc(o->parts * sizeof *o->wm);
        o->seen_ms = calloc(o->parts, sizeof *o->seen_ms);
        if (!o->next || !o->wm || !o->seen_ms) {
            repart_free(rp);
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        }
        for (uint32_t p = 0; p < o->parts; p++)
            o->wm[p] = INT64_MIN;
    }
    *out = rp;
    return WEIR_OK;
}

void repart_free(weir_repart *rp)
{
    if (!rp)
        return;
    for (int i = 0; i < rp->nrels; i++) {
        free(rp->streams[i].next);
        free(rp->streams[i].wm);
        free(rp->streams[i].seen_ms);
    }
    free(rp->streams);
    weir_buf_free(&rp->header);
    free(rp);
}

int repart_save(const weir_repart *rp, weir_buf *out)
{
    uint32_t n = 0;
    for (int i = 0; rp && i < rp->nrels; i++)
        n += rp->streams[i].parts > 0;
    int rc = weir_put_u32(out, n);
    for (int i = 0; rp && i < rp->nrels && !rc; i++) {
        const origins *o = &rp->streams[i];
        if (!o->parts)
            continue;
        rc = weir_put_u32(out, o->parts);
        for (uint32_t p = 0; p < o->parts && !rc; p++)
            rc = weir_put_u64(out, o->next[p]) || weir_put_u64(out, (uint64_t)o->wm[p]);
    }
    return rc;
}

void repart_load(weir_repart *rp, weir_reader_buf *rd)
{
    uint32_t n = weir_get_u32(rd);
    for (int i = 0; rp && i < rp->nrels && !rd->bad; i++) {
        origins *o = &rp->streams[i];
        if (!o->parts)
            continue;
        if (n-- == 0 || weir_get_u32(rd) != o->parts) {
            rd->bad = true;
            return;
        }
        for (uint32_t p = 0; p < o->parts; p++) {
            o->next[p] = weir_get_u64(rd);
            o->wm[p] = (int64_t)weir_get_u64(rd);
        }
    }
    if (n) /* more streams than the catalog has */
        rd->bad = true;
}

static origins *of(const weir_engine *e, const weir_relation *stream)
{
    int i = weir_catalog_index(e->cat, stream);
    return e->repart && i >= 0 && i < e->repart->nrels && e->repart->streams[i].parts ? &e->repart->streams[i] : NULL;
}

int repart_header(weir_engine *e, const weir_relation *stream, uint32_t part, uint64_t offset, int64_t ts,
                  const uint8_t **headers, size_t *len)
{
    origins *o = of(e, stream);
    if (!o || part >= o->parts)
        return -1; /* planned with the origin's partition count: a bug */
    char text[80];
    int n = snprintf(text, sizeof text, "%" PRIu32 " %" PRIu64 " %" PRId64, part, offset, o->wm[part]);
    weir_buf *h = &e->repart->header;
    h->len = 0;
    if (weir_headers_add(h, WEIR_REPART_HEADER, text, (size_t)n))
        return -1;
    if (ts > o->wm[part])
        o->wm[part] = ts;
    *headers = h->data;
    *len = h->len;
    return 0;
}

/* Parses "<partition> <offset> <watermark>" of a header value. */
static bool parse_origin(const uint8_t *v, size_t len, uint32_t parts, uint32_t *part, uint64_t *offset, int64_t *wm)
{
    char text[80];
    if (len == 0 || len >= sizeof text)
        return false;
    memcpy(text, v, len);
    text[len] = '\0';
    unsigned long long o;
    long long w;
    unsigned p;
    int used = 0;
    if (sscanf(text, "%u %llu %lld%n", &p, &o, &w, &used) != 3 || (size_t)used != len || p >= parts)
        return false;
    *part = p;
    *offset = o;
    *wm = w;
    return true;
}

int repart_take(weir_engine *e, const weir_relation *stream, const weir_record *rec, int64_t now_ms,
                const weir_emit_target *t, bool *apply, uint32_t *part, weir_err *err)
{
    origins *o = of(e, stream);
    *apply = false;
    weir_header h;
    bool found = false;
    uint64_t offset = 0;
    int64_t wm = INT64_MIN;
    for (size_t pos = 0; o && !found && weir_headers_next(rec->headers, rec->headers_len, &pos, &h);)
        found = h.name_len == strlen(WEIR_REPART_HEADER) && !memcmp(h.name, WEIR_REPART_HEADER, h.name_len) &&
                parse_origin(h.value, h.value_len, o->parts, part, &offset, &wm);
    if (!found) /* not written by weir: there is no telling whether it was applied */
        return engine_dead(e, WEIR_DEAD_UNDECODABLE, stream, NULL, rec->value ? (const char *)rec->value : "",
                           rec->value_len, rec->ts_ms, t, err, "a repartition record without a valid %s header",
                           WEIR_REPART_HEADER);
    if (!o->seen_ms[*part]) /* from now on, an origin that sends nothing is quiet after the idle time */
        for (uint32_t p = 0; p < o->parts; p++)
            if (!o->seen_ms[p])
                o->seen_ms[p] = now_ms;
    o->seen_ms[*part] = now_ms;
    if (offset < o->next[*part])
        return WEIR_OK; /* written again after a takeover: applied already */
    o->next[*part] = offset + 1;
    *apply = true;
    for (int q = 0; q < e->cat->nqueries && wm != INT64_MIN; q++) {
        const weir_query *query = e->cat->queries[q];
        if (query->source != stream || query->window.kind == WEIR_WINDOW_NONE || (e->opt.runs && !e->opt.runs[q]))
            continue;
        int rc = weir_engine_raise_watermark(e, q, *part, wm, t, err);
        if (rc)
            return rc;
    }
    return WEIR_OK;
}

int64_t repart_seen_ms(const weir_engine *e, const weir_relation *stream, uint32_t origin)
{
    const origins *o = of(e, stream);
    return o && origin < o->parts ? o->seen_ms[origin] : 0;
}
