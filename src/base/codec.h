/*
 * codec.h - little-endian encoding of the integers and byte strings in
 * weir's binary files (checkpoints). Writers append to a weir_buf; readers
 * walk a weir_reader, which turns any read past the end into a sticky
 * "bad" flag instead of an out-of-bounds access, so a damaged file is
 * reported once, at the end, by checking r.bad.
 */
#ifndef WEIR_CODEC_H
#define WEIR_CODEC_H

#include <stdbool.h>
#include <string.h>

#include "base/buf.h"

static inline int weir_put_u8(weir_buf *b, uint8_t v) { return weir_buf_append(b, &v, 1); }
static inline int weir_put_u32(weir_buf *b, uint32_t v) { return weir_buf_append(b, &v, 4); }
static inline int weir_put_u64(weir_buf *b, uint64_t v) { return weir_buf_append(b, &v, 8); }
static inline int weir_put_bytes(weir_buf *b, const void *p, uint32_t n)
{
    return weir_put_u32(b, n) || weir_buf_append(b, p, n);
}

typedef struct weir_reader_buf {
    const uint8_t *p, *end;
    bool bad;                  /* a read went past the end (or a value was invalid) */
} weir_reader_buf;

static inline bool weir_take(weir_reader_buf *r, void *out, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        memset(out, 0, n);
        return false;
    }
    memcpy(out, r->p, n);
    r->p += n;
    return true;
}
static inline uint8_t weir_get_u8(weir_reader_buf *r) { uint8_t v; weir_take(r, &v, 1); return v; }
static inline uint32_t weir_get_u32(weir_reader_buf *r) { uint32_t v; weir_take(r, &v, 4); return v; }
static inline uint64_t weir_get_u64(weir_reader_buf *r) { uint64_t v; weir_take(r, &v, 8); return v; }
/* A length-prefixed byte string, borrowed from the buffer; NULL if bad. */
static inline const uint8_t *weir_get_bytes(weir_reader_buf *r, uint32_t *n)
{
    *n = weir_get_u32(r);
    if (r->bad || (size_t)(r->end - r->p) < *n) {
        r->bad = true;
        *n = 0;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += *n;
    return p;
}

#endif
