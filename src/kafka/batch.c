/*
 * batch.c - Kafka's record batch v2, decoded and encoded (see batch.h).
 */
#include "kafka/batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crc32c.h"
#include "kafka/compress.h"

void weir_kbatches_free(weir_kbatches *b)
{
    for (size_t i = 0; i < b->nplain; i++)
        weir_buf_free(&b->plain[i]);
    free(b->plain);
    free(b->recs);
    free(b->hdrs);
    *b = (weir_kbatches){0};
}

static int push_header(weir_kbatches *out, weir_wire_header h)
{
    if (out->nh == out->caph) {
        weir_wire_header *grown = weir_array_grow(out->hdrs, &out->caph, sizeof *grown, 16);
        if (!grown)
            return -1;
        out->hdrs = grown;
    }
    out->hdrs[out->nh++] = h;
    return 0;
}

/* Bytes with a varint length, -1 for null (a record's key, value, header). */
static weir_kslice varbytes(weir_kr *r, const char *what)
{
    int64_t n = weir_kr_varint(r, what);
    if (n == -1)
        return (weir_kslice){.null = true};
    if (n < 0) {
        weir_kr_fail(r, "%s at byte %zu: length %lld is negative", what, (size_t)(r->p - r->start), (long long)n);
        return (weir_kslice){0};
    }
    return weir_kr_raw(r, (size_t)n, what);
}

/* One record (its length read already: r holds exactly its body). Its
 * headers' first index is kept in rec->offset until the set is complete
 * (the array may move as it grows). */
static int decode_record(weir_kr *r, weir_kbatches *out, int64_t base_ts, bool append_time)
{
    weir_kr_i8(r, "record attributes");
    int64_t ts = base_ts + weir_kr_varint(r, "record timestampDelta");
    weir_kr_varint(r, "record offsetDelta");
    weir_kslice key = varbytes(r, "record key"), value = varbytes(r, "record value");
    int64_t nh = weir_kr_varint(r, "record header count");
    if (nh < 0 || (uint64_t)nh > weir_kr_left(r) / 2) {
        weir_kr_fail(r, "record header count %lld does not fit the record", (long long)nh);
        return -1;
    }
    weir_wire_record rec = {key.null ? NULL : key.data, key.len, value.null ? NULL : value.data, value.len,
                            append_time ? 0 : ts, NULL, (size_t)nh, out->nh};
    for (int64_t i = 0; i < nh && weir_kr_ok(r); i++) {
        weir_kslice hk = varbytes(r, "header key"), hv = varbytes(r, "header value");
        if (weir_kr_ok(r) && hk.null)
            weir_kr_fail(r, "header %lld has a null key", (long long)i);
        if (weir_kr_ok(r) && push_header(out, (weir_wire_header){(const char *)hk.data, hk.len, hv.null ? NULL : hv.data, hv.len}))
            return -2;
    }
    if (weir_kr_ok(r) && weir_kr_left(r))
        weir_kr_fail(r, "%zu bytes left over after the record's headers", weir_kr_left(r));
    if (!weir_kr_ok(r))
        return -1;
    if (out->n == out->cap) {
        weir_wire_record *grown = weir_array_grow(out->recs, &out->cap, sizeof *grown, 16);
        if (!grown)
            return -2;
        out->recs = grown;
    }
    out->recs[out->n++] = rec;
    return 0;
}

/* The records of one batch (plain: its records' bytes). */
static int decode_records(const uint8_t *p, size_t len, int32_t count, int64_t base_ts, bool append_time,
                          weir_kbatches *out, char *err, size_t cap)
{
    weir_kr r;
    weir_kr_init(&r, p, len);
    for (int32_t i = 0; i < count; i++) {
        int64_t n = weir_kr_varint(&r, "record length");
        if (weir_kr_ok(&r) && (n < 0 || (uint64_t)n > weir_kr_left(&r)))
            weir_kr_fail(&r, "record length %lld at byte %zu, %zu bytes left", (long long)n, (size_t)(r.p - r.start),
                         weir_kr_left(&r));
        if (!weir_kr_ok(&r)) {
            snprintf(err, cap, "record %d of %d: %s", i, count, r.err);
            return WEIR_KERR_CORRUPT_MESSAGE;
        }
        weir_kr one;
        weir_kr_init(&one, r.p, (size_t)n);
        r.p += n;
        int rc = decode_record(&one, out, base_ts, append_time);
        if (rc) {
            snprintf(err, cap, "record %d of %d: %s", i, count, rc == -2 ? "out of memory" : one.err);
            return WEIR_KERR_CORRUPT_MESSAGE;
        }
    }
    if (weir_kr_left(&r)) {
        snprintf(err, cap, "%zu bytes left over after the batch's %d records", weir_kr_left(&r), count);
        return WEIR_KERR_CORRUPT_MESSAGE;
    }
    return 0;
}

static int decode_batch(weir_kr *r, weir_kbatches *out, char *err, size_t cap)
{
    size_t at = (size_t)(r->p - r->start);
    weir_kr_i64(r, "baseOffset");
    int32_t len = weir_kr_i32(r, "batchLength");
    if (weir_kr_ok(r) && (len < WEIR_KBATCH_HEADER - 12 || (size_t)len > weir_kr_left(r))) {
        snprintf(err, cap, "batch at byte %zu: batchLength %d, %zu bytes left (at least %d needed)", at, len,
                 weir_kr_left(r), WEIR_KBATCH_HEADER - 12);
        return WEIR_KERR_CORRUPT_MESSAGE;
    }
    const uint8_t *crc_from = r->p + 9;
    weir_kr_i32(r, "partitionLeaderEpoch");
    int8_t magic = weir_kr_i8(r, "magic");
    if (weir_kr_ok(r) && magic != 2) {
        snprintf(err, cap, "batch at byte %zu: magic %d (message sets v0 and v1): only record batch v2 is taken", at,
                 magic);
        return WEIR_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT;
    }
    uint32_t crc = (uint32_t)weir_kr_i32(r, "crc");
    if (weir_kr_ok(r) && weir_crc32c(0, crc_from, (size_t)len - 9) != crc) {
        snprintf(err, cap, "batch at byte %zu: the CRC-32C does not match its %d bytes", at, len);
        return WEIR_KERR_CORRUPT_MESSAGE;
    }
    int16_t attr = weir_kr_i16(r, "attributes");
    weir_kr_i32(r, "lastOffsetDelta");
    int64_t base_ts = weir_kr_i64(r, "baseTimestamp");
    weir_kr_i64(r, "maxTimestamp");
    int64_t pid = weir_kr_i64(r, "producerId");
    int16_t epoch = weir_kr_i16(r, "producerEpoch");
    int32_t seq = weir_kr_i32(r, "baseSequence");
    int32_t count = weir_kr_i32(r, "records count");
    /* the last sequence number wraps past INT32_MAX to 0, as Kafka's DefaultRecordBatch.incrementSequence */
    int64_t last = (int64_t)seq + (count > 0 ? count - 1 : 0);
    out->producer = (weir_wire_producer){pid, epoch, seq, (int32_t)(last > INT32_MAX ? last - INT32_MAX - 1 : last)};
    out->nbatches++;
    out->transactional |= (attr & 0x10) != 0;
    if (!weir_kr_ok(r)) {
        snprintf(err, cap, "%s", r->err);
        return WEIR_KERR_CORRUPT_MESSAGE;
    }
    size_t body = (size_t)len - (WEIR_KBATCH_HEADER - 12);
    const uint8_t *p = r->p;
    r->p += body;
    if (attr & 0x20) {
        snprintf(err, cap, "batch at byte %zu: a control batch (transactions are not supported)", at);
        return WEIR_KERR_CORRUPT_MESSAGE;
    }
    if (count < 0 || (size_t)count > (attr & 7 ? WEIR_KAFKA_MAX_PLAIN : body)) {
        snprintf(err, cap, "batch at byte %zu: a count of %d records in %zu bytes", at, count, body);
        return WEIR_KERR_CORRUPT_MESSAGE;
    }
    if (attr & 7) {
        weir_buf *grown = realloc(out->plain, (out->nplain + 1) * sizeof *grown);
        if (!grown) {
            snprintf(err, cap, "out of memory");
            return WEIR_KERR_CORRUPT_MESSAGE;
        }
        out->plain = grown;
        weir_buf *plain = &out->plain[out->nplain++];
        *plain = (weir_buf){0};
        char why[200];
        if ((attr & 7) > WEIR_KCODEC_ZSTD) {
            snprintf(err, cap, "batch at byte %zu: compression type %d is not one Kafka defines", at, attr & 7);
            return WEIR_KERR_UNSUPPORTED_COMPRESSION_TYPE;
        }
        if (weir_kafka_decompress(attr & 7, p, body, plain, why, sizeof why)) {
            snprintf(err, cap, "batch at byte %zu: %s", at, why);
            return WEIR_KERR_CORRUPT_MESSAGE;
        }
        p = plain->data;
        body = plain->len;
    }
    return decode_records(p, body, count, base_ts, attr & 8, out, err, cap);
}

int weir_kbatches_decode(const uint8_t *p, size_t len, weir_kbatches *out, char *err, size_t cap)
{
    weir_kr r;
    weir_kr_init(&r, p, len);
    size_t first = out->n;
    while (weir_kr_left(&r)) {
        if (weir_kr_left(&r) < WEIR_KBATCH_HEADER) {
            snprintf(err, cap, "a batch cut short at byte %zu: %zu bytes, a header takes %d", (size_t)(r.p - r.start),
                     weir_kr_left(&r), WEIR_KBATCH_HEADER);
            return WEIR_KERR_CORRUPT_MESSAGE;
        }
        int rc = decode_batch(&r, out, err, cap);
        if (rc)
            return rc;
    }
    for (size_t i = first; i < out->n; i++) { /* the headers' array is complete: point into it */
        out->recs[i].headers = out->hdrs + out->recs[i].offset;
        out->recs[i].offset = 0;
    }
    return 0;
}

static size_t varint_size(int64_t v)
{
    uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 1;
    while (u >= 0x80) {
        u >>= 7;
        n++;
    }
    return n;
}

/* A header value's length on the wire: -1 for null. */
static int64_t header_len(const weir_wire_header *h) { return h->value ? (int64_t)h->value_len : -1; }

void weir_kbatch_begin(weir_kbatch_builder *b, weir_kw *w)
{
    *b = (weir_kbatch_builder){.start = w->b->len};
    static const uint8_t zero[WEIR_KBATCH_HEADER];
    weir_kw_raw(w, zero, sizeof zero); /* filled by finish */
}

void weir_kbatch_add(weir_kbatch_builder *b, weir_kw *w, const weir_wire_record *rec)
{
    if (b->count == 0) {
        b->base_offset = rec->offset;
        b->base_ts = b->max_ts = rec->ts_ms;
    }
    int64_t ts_delta = rec->ts_ms - b->base_ts, off_delta = (int64_t)(rec->offset - b->base_offset);
    int64_t klen = rec->key ? (int64_t)rec->key_len : -1;
    size_t size = 1 + varint_size(ts_delta) + varint_size(off_delta) + varint_size(klen) + (rec->key ? rec->key_len : 0) +
                  varint_size((int64_t)rec->value_len) + rec->value_len + varint_size((int64_t)rec->nheaders);
    for (size_t i = 0; i < rec->nheaders; i++)
        size += varint_size((int64_t)rec->headers[i].name_len) + rec->headers[i].name_len +
                varint_size(header_len(&rec->headers[i])) + rec->headers[i].value_len;
    weir_kw_varint(w, (int64_t)size);
    weir_kw_i8(w, 0);
    weir_kw_varint(w, ts_delta);
    weir_kw_varint(w, off_delta);
    weir_kw_varint(w, klen);
    weir_kw_raw(w, rec->key, rec->key ? rec->key_len : 0);
    weir_kw_varint(w, (int64_t)rec->value_len);
    weir_kw_raw(w, rec->value, rec->value_len);
    weir_kw_varint(w, (int64_t)rec->nheaders);
    for (size_t i = 0; i < rec->nheaders; i++) {
        weir_kw_varint(w, (int64_t)rec->headers[i].name_len);
        weir_kw_raw(w, rec->headers[i].name, rec->headers[i].name_len);
        weir_kw_varint(w, header_len(&rec->headers[i]));
        weir_kw_raw(w, rec->headers[i].value, rec->headers[i].value_len);
    }
    b->last_offset = rec->offset;
    if (rec->ts_ms > b->max_ts)
        b->max_ts = rec->ts_ms;
    b->count++;
}

void weir_kbatch_finish(weir_kbatch_builder *b, weir_kw *w)
{
    if (w->oom)
        return;
    if (b->count == 0) {
        w->b->len = b->start;
        return;
    }
    weir_buf header = {0};
    weir_kw h = {&header, false};
    weir_kw_i64(&h, (int64_t)b->base_offset);
    weir_kw_i32(&h, (int32_t)(w->b->len - b->start - 12));
    weir_kw_i32(&h, 0);                            /* partitionLeaderEpoch */
    weir_kw_i8(&h, 2);                             /* magic */
    weir_kw_i32(&h, 0);                            /* crc, below */
    weir_kw_i16(&h, 0);                            /* attributes: uncompressed, create time */
    weir_kw_i32(&h, (int32_t)(b->last_offset - b->base_offset));
    weir_kw_i64(&h, b->base_ts);
    weir_kw_i64(&h, b->max_ts);
    weir_kw_i64(&h, -1);                           /* producerId */
    weir_kw_i16(&h, -1);                           /* producerEpoch */
    weir_kw_i32(&h, -1);                           /* baseSequence */
    weir_kw_i32(&h, b->count);
    if (h.oom) {
        w->oom = true;
    } else {
        memcpy(w->b->data + b->start, header.data, WEIR_KBATCH_HEADER);
        uint32_t crc = weir_crc32c(0, w->b->data + b->start + 21, w->b->len - b->start - 21);
        weir_kw_patch_i32(w, b->start + 17, (int32_t)crc);
    }
    weir_buf_free(&header);
}
