/*
 * wire.c - the Kafka protocol's primitive types (see wire.h). Integers
 * are big-endian; varints are protobuf's (7 bits a byte, low first;
 * signed ones zigzag-encoded).
 */
#include "kafka/wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void weir_kr_init(weir_kr *r, const uint8_t *p, size_t len)
{
    *r = (weir_kr){.start = p, .p = p, .end = p + len};
}

bool weir_kr_ok(const weir_kr *r) { return !r->bad; }
size_t weir_kr_left(const weir_kr *r) { return r->bad ? 0 : (size_t)(r->end - r->p); }

void weir_kr_fail(weir_kr *r, const char *fmt, ...)
{
    if (r->bad)
        return;
    r->bad = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
}

/* The next n bytes, or NULL (and the reader bad) if there are fewer. */
static const uint8_t *take(weir_kr *r, size_t n, const char *what)
{
    if (r->bad)
        return NULL;
    if ((size_t)(r->end - r->p) < n) {
        weir_kr_fail(r, "%s at byte %zu: needs %zu bytes, %zu left", what, (size_t)(r->p - r->start), n,
                     (size_t)(r->end - r->p));
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    return p;
}

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

int8_t weir_kr_i8(weir_kr *r, const char *what)
{
    const uint8_t *p = take(r, 1, what);
    return p ? (int8_t)p[0] : 0;
}

int16_t weir_kr_i16(weir_kr *r, const char *what)
{
    const uint8_t *p = take(r, 2, what);
    return p ? (int16_t)be(p, 2) : 0;
}

int32_t weir_kr_i32(weir_kr *r, const char *what)
{
    const uint8_t *p = take(r, 4, what);
    return p ? (int32_t)be(p, 4) : 0;
}

int64_t weir_kr_i64(weir_kr *r, const char *what)
{
    const uint8_t *p = take(r, 8, what);
    return p ? (int64_t)be(p, 8) : 0;
}

uint64_t weir_kr_uvarint(weir_kr *r, const char *what)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        const uint8_t *p = take(r, 1, what);
        if (!p)
            return 0;
        v |= (uint64_t)(*p & 0x7f) << shift;
        if (!(*p & 0x80))
            return v;
    }
    weir_kr_fail(r, "%s at byte %zu: a varint longer than 10 bytes", what, (size_t)(r->p - r->start));
    return 0;
}

int64_t weir_kr_varint(weir_kr *r, const char *what)
{
    uint64_t u = weir_kr_uvarint(r, what);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* A length: n >= 0 bytes follow, -1 is null (if allowed). */
static weir_kslice sized(weir_kr *r, int64_t n, bool nullable, const char *what)
{
    weir_kslice s = {0};
    if (n == -1 && nullable) {
        s.null = true;
        return s;
    }
    if (n < 0) {
        weir_kr_fail(r, "%s at byte %zu: length %lld is negative", what, (size_t)(r->p - r->start), (long long)n);
        return s;
    }
    s.data = take(r, (size_t)n, what);
    s.len = s.data ? (size_t)n : 0;
    return s;
}

weir_kslice weir_kr_string(weir_kr *r, bool compact, bool nullable, const char *what)
{
    int64_t n = compact ? (int64_t)weir_kr_uvarint(r, what) - 1 : weir_kr_i16(r, what);
    return sized(r, n, nullable, what);
}

weir_kslice weir_kr_bytes(weir_kr *r, bool compact, bool nullable, const char *what)
{
    int64_t n = compact ? (int64_t)weir_kr_uvarint(r, what) - 1 : weir_kr_i32(r, what);
    return sized(r, n, nullable, what);
}

weir_kslice weir_kr_raw(weir_kr *r, size_t n, const char *what) { return sized(r, (int64_t)n, false, what); }

int32_t weir_kr_array(weir_kr *r, bool compact, bool nullable, size_t min_size, const char *what)
{
    int64_t n = compact ? (int64_t)weir_kr_uvarint(r, what) - 1 : weir_kr_i32(r, what);
    if (r->bad)
        return 0;
    if (n == -1 && nullable)
        return -1;
    if (n == -1) {
        weir_kr_fail(r, "%s at byte %zu: null, where the protocol requires an array", what, (size_t)(r->p - r->start));
        return 0;
    }
    if (n < 0 || (uint64_t)n * (min_size ? min_size : 1) > (uint64_t)(r->end - r->p)) {
        weir_kr_fail(r, "%s at byte %zu: %lld elements cannot fit in the %zu bytes left", what,
                     (size_t)(r->p - r->start), (long long)n, (size_t)(r->end - r->p));
        return 0;
    }
    return (int32_t)n;
}

void weir_kr_tags(weir_kr *r, const char *what)
{
    uint64_t n = weir_kr_uvarint(r, what);
    for (uint64_t i = 0; i < n && !r->bad; i++) {
        weir_kr_uvarint(r, what); /* the tag */
        uint64_t size = weir_kr_uvarint(r, what);
        if (size > (uint64_t)(r->end - r->p))
            weir_kr_fail(r, "%s at byte %zu: a tagged field of %llu bytes, %zu left", what,
                         (size_t)(r->p - r->start), (unsigned long long)size, (size_t)(r->end - r->p));
        else
            take(r, (size_t)size, what);
    }
}

void weir_kr_cstr(weir_kr *r, weir_kslice s, char *dst, size_t cap, const char *what)
{
    dst[0] = '\0';
    if (r->bad || s.null)
        return;
    if (s.len >= cap || memchr(s.data, 0, s.len)) {
        weir_kr_fail(r, "%s: a name of %zu bytes%s (at most %zu)", what, s.len,
                     s.len >= cap ? " is too long" : " holds a NUL byte", cap - 1);
        return;
    }
    memcpy(dst, s.data, s.len);
    dst[s.len] = '\0';
}

void weir_kw_raw(weir_kw *w, const void *p, size_t n)
{
    if (!w->oom && n && weir_buf_append(w->b, p, n))
        w->oom = true;
}

static void put_be(weir_kw *w, uint64_t v, int n)
{
    uint8_t b[8];
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        b[i] = (uint8_t)v;
    weir_kw_raw(w, b, (size_t)n);
}

void weir_kw_i8(weir_kw *w, int8_t v) { put_be(w, (uint8_t)v, 1); }
void weir_kw_i16(weir_kw *w, int16_t v) { put_be(w, (uint16_t)v, 2); }
void weir_kw_i32(weir_kw *w, int32_t v) { put_be(w, (uint32_t)v, 4); }
void weir_kw_i64(weir_kw *w, int64_t v) { put_be(w, (uint64_t)v, 8); }

void weir_kw_uvarint(weir_kw *w, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    weir_kw_raw(w, b, n);
}

void weir_kw_varint(weir_kw *w, int64_t v) { weir_kw_uvarint(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63)); }

void weir_kw_stringn(weir_kw *w, bool compact, const char *s, size_t n)
{
    if (!s) {
        if (compact)
            weir_kw_uvarint(w, 0);
        else
            weir_kw_i16(w, -1);
        return;
    }
    if (compact)
        weir_kw_uvarint(w, n + 1);
    else
        weir_kw_i16(w, (int16_t)n);
    weir_kw_raw(w, s, n);
}

void weir_kw_string(weir_kw *w, bool compact, const char *s) { weir_kw_stringn(w, compact, s, s ? strlen(s) : 0); }

void weir_kw_array(weir_kw *w, bool compact, int32_t n)
{
    if (compact)
        weir_kw_uvarint(w, (uint64_t)((int64_t)n + 1));
    else
        weir_kw_i32(w, n);
}

void weir_kw_tags(weir_kw *w, bool flexible)
{
    if (flexible)
        weir_kw_uvarint(w, 0);
}

void weir_kw_patch_i32(weir_kw *w, size_t pos, int32_t v)
{
    if (w->oom || pos + 4 > w->b->len)
        return;
    uint32_t u = (uint32_t)v;
    for (int i = 3; i >= 0; i--, u >>= 8)
        w->b->data[pos + (size_t)i] = (uint8_t)u;
}
