/*
 * record.c - batch encoding, decoding and checking. See record.h and
 * docs/LOG_FORMAT.md. The checker is the one place untrusted bytes from disk
 * are interpreted, so it bounds-checks everything and is fuzzed
 * (fuzz/fuzz_batch.c).
 */
#include "log/record.h"

#include <string.h>

#include "base/crc32c.h"

static inline uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* Batch header layout (offsets in bytes). The CRC covers [12, len), so the
 * commit marker of a WER2 header is checked with the records. */
enum { H_MAGIC = 0, H_LEN = 4, H_CRC = 8, H_COUNT = 12, H_BASE = 16, H_MIN_TS = 24, H_MAX_TS = 32,
       H_COMMIT_ID = 40, H_COMMIT_PARTS = 48, H_COMMIT_FLAGS = 52 };

static bool headers_valid(const uint8_t *h, size_t len)
{
    size_t pos = 0;
    weir_header hd;
    while (pos < len)
        if (!weir_headers_next(h, len, &pos, &hd))
            return false;
    return true;
}

int weir_batch_check(const uint8_t *p, size_t avail, weir_batch_info *info,
                     bool *truncated, weir_err *err)
{
    *truncated = false;
    if (avail < WEIR_BATCH_HEADER_SIZE) {
        *truncated = true;
        return weir_err_set(err, WEIR_ECORRUPT, "batch header cut short (%zu of %d bytes)",
                            avail, WEIR_BATCH_HEADER_SIZE);
    }
    uint32_t magic = rd32(p + H_MAGIC);
    if (magic != WEIR_BATCH_MAGIC && magic != WEIR_BATCH_MAGIC_V1)
        return weir_err_set(err, WEIR_ECORRUPT, "bad batch magic 0x%08x", magic);
    uint32_t hsize = magic == WEIR_BATCH_MAGIC ? WEIR_BATCH_V2_HEADER_SIZE : WEIR_BATCH_HEADER_SIZE;
    uint32_t len = rd32(p + H_LEN);
    if (len < hsize + WEIR_RECORD_OVERHEAD)
        return weir_err_set(err, WEIR_ECORRUPT, "batch length %u too small", len);
    if (len > avail) {
        *truncated = true;
        return weir_err_set(err, WEIR_ECORRUPT, "batch cut short (%zu of %u bytes)", avail, len);
    }
    uint32_t crc = weir_crc32c(0, p + H_COUNT, len - H_COUNT);
    if (crc != rd32(p + H_CRC))
        return weir_err_set(err, WEIR_ECORRUPT, "batch CRC mismatch (stored 0x%08x, computed 0x%08x)",
                            rd32(p + H_CRC), crc);

    info->len = len;
    info->count = rd32(p + H_COUNT);
    info->base_offset = rd64(p + H_BASE);
    info->min_ts = (int64_t)rd64(p + H_MIN_TS);
    info->max_ts = (int64_t)rd64(p + H_MAX_TS);
    info->header_size = hsize;
    info->commit_id = 0;
    info->commit_parts = 0;
    info->commit_flags = 0;
    if (magic == WEIR_BATCH_MAGIC) {
        info->commit_id = rd64(p + H_COMMIT_ID);
        info->commit_parts = rd32(p + H_COMMIT_PARTS);
        info->commit_flags = rd32(p + H_COMMIT_FLAGS);
        if (info->commit_flags & ~(WEIR_COMMIT_FINAL | WEIR_COMMIT_UNCOUNTED))
            return weir_err_set(err, WEIR_ECORRUPT, "unknown commit flags 0x%x", info->commit_flags);
    }

    /* Walk the records: their lengths must tile the batch exactly. */
    const uint8_t *r = p + hsize, *end = p + len;
    uint32_t n = 0;
    while (r < end) {
        if ((size_t)(end - r) < WEIR_RECORD_OVERHEAD)
            return weir_err_set(err, WEIR_ECORRUPT, "record %u header overruns batch", n);
        uint32_t body = rd32(r);
        uint32_t klen = rd32(r + 12), hlen = rd32(r + 16);
        uint64_t kbytes = klen == WEIR_NULL_KEY ? 0 : klen;
        if (body < WEIR_RECORD_OVERHEAD - 4 || (size_t)(end - r) - 4 < body ||
            kbytes + hlen > body - (WEIR_RECORD_OVERHEAD - 4))
            return weir_err_set(err, WEIR_ECORRUPT, "record %u length fields inconsistent", n);
        if (!headers_valid(r + WEIR_RECORD_OVERHEAD + kbytes, hlen))
            return weir_err_set(err, WEIR_ECORRUPT, "record %u headers malformed", n);
        r += 4 + (size_t)body;
        n++;
    }
    if (n != info->count || n == 0)
        return weir_err_set(err, WEIR_ECORRUPT, "batch says %u records, holds %u", info->count, n);
    return WEIR_OK;
}

void weir_batch_iter_init(weir_batch_iter *it, const uint8_t *batch, const weir_batch_info *info)
{
    it->p = batch + info->header_size;
    it->end = batch + info->len;
    it->next_offset = info->base_offset;
}

bool weir_batch_next(weir_batch_iter *it, weir_record *rec)
{
    if (it->p >= it->end)
        return false;
    const uint8_t *r = it->p;
    uint32_t body = rd32(r), klen = rd32(r + 12), hlen = rd32(r + 16);
    size_t kbytes = klen == WEIR_NULL_KEY ? 0 : klen;
    rec->ts_ms = (int64_t)rd64(r + 4);
    rec->key = klen == WEIR_NULL_KEY ? NULL : r + WEIR_RECORD_OVERHEAD;
    rec->key_len = kbytes;
    rec->headers = hlen ? r + WEIR_RECORD_OVERHEAD + kbytes : NULL;
    rec->headers_len = hlen;
    rec->value = r + WEIR_RECORD_OVERHEAD + kbytes + hlen;
    rec->value_len = body - (WEIR_RECORD_OVERHEAD - 4) - kbytes - hlen;
    rec->offset = it->next_offset++;
    it->p = r + 4 + body;
    return true;
}

int weir_batch_begin(weir_batch_builder *b, weir_buf *out, uint64_t base_offset)
{
    if (weir_buf_reserve(out, WEIR_BATCH_V2_HEADER_SIZE))
        return WEIR_ENOMEM;
    b->start = out->len;
    b->count = 0;
    b->base_offset = base_offset;
    b->min_ts = INT64_MAX;
    b->max_ts = INT64_MIN;
    memset(out->data + out->len, 0, WEIR_BATCH_V2_HEADER_SIZE);
    out->len += WEIR_BATCH_V2_HEADER_SIZE;
    return WEIR_OK;
}

int weir_batch_add(weir_batch_builder *b, weir_buf *out, const weir_record *rec)
{
    size_t klen = rec->key ? rec->key_len : 0;
    size_t size = weir_record_encoded_size(rec);
    if (size - WEIR_RECORD_OVERHEAD > WEIR_MAX_RECORD_SIZE)
        return WEIR_EINVAL;
    if (weir_buf_reserve(out, size))
        return WEIR_ENOMEM;
    uint8_t *r = out->data + out->len;
    wr32(r, (uint32_t)(size - 4));
    wr64(r + 4, (uint64_t)rec->ts_ms);
    wr32(r + 12, rec->key ? (uint32_t)klen : WEIR_NULL_KEY);
    wr32(r + 16, (uint32_t)rec->headers_len);
    uint8_t *q = r + WEIR_RECORD_OVERHEAD;
    if (klen)
        memcpy(q, rec->key, klen);
    if (rec->headers_len)
        memcpy(q + klen, rec->headers, rec->headers_len);
    if (rec->value_len)
        memcpy(q + klen + rec->headers_len, rec->value, rec->value_len);
    out->len += size;
    b->count++;
    if (rec->ts_ms < b->min_ts)
        b->min_ts = rec->ts_ms;
    if (rec->ts_ms > b->max_ts)
        b->max_ts = rec->ts_ms;
    return WEIR_OK;
}

void weir_batch_finish(weir_batch_builder *b, weir_buf *out, uint64_t commit_id, uint32_t commit_parts,
                       uint32_t commit_flags)
{
    uint8_t *h = out->data + b->start;
    uint32_t len = (uint32_t)(out->len - b->start);
    wr32(h + H_MAGIC, WEIR_BATCH_MAGIC);
    wr32(h + H_LEN, len);
    wr32(h + H_COUNT, b->count);
    wr64(h + H_BASE, b->base_offset);
    wr64(h + H_MIN_TS, (uint64_t)b->min_ts);
    wr64(h + H_MAX_TS, (uint64_t)b->max_ts);
    wr64(h + H_COMMIT_ID, commit_id);
    wr32(h + H_COMMIT_PARTS, commit_parts);
    wr32(h + H_COMMIT_FLAGS, commit_flags);
    wr32(h + H_CRC, weir_crc32c(0, h + H_COUNT, len - H_COUNT));
}

int weir_headers_add(weir_buf *out, const char *name, const void *value, size_t value_len)
{
    size_t nlen = strlen(name);
    if (nlen > UINT16_MAX || value_len > UINT32_MAX)
        return WEIR_EINVAL;
    uint8_t h[6];
    h[0] = (uint8_t)nlen;
    h[1] = (uint8_t)(nlen >> 8);
    wr32(h + 2, (uint32_t)value_len);
    if (weir_buf_append(out, h, 6) || weir_buf_append(out, name, nlen) ||
        weir_buf_append(out, value, value_len))
        return WEIR_ENOMEM;
    return WEIR_OK;
}

bool weir_headers_next(const uint8_t *h, size_t len, size_t *pos, weir_header *out)
{
    if (*pos >= len || len - *pos < 6)
        return false;
    const uint8_t *p = h + *pos;
    size_t nlen = (size_t)p[0] | (size_t)p[1] << 8;
    size_t vlen = rd32(p + 2);
    if (len - *pos - 6 < nlen || len - *pos - 6 - nlen < vlen)
        return false;
    out->name = (const char *)p + 6;
    out->name_len = nlen;
    out->value = p + 6 + nlen;
    out->value_len = vlen;
    *pos += 6 + nlen + vlen;
    return true;
}
