/*
 * zpack.c - zero bytes packed away (zpack.h).
 */
#include "state/zpack.h"

int weir_zpack(const uint8_t *in, size_t n, weir_buf *out)
{
    uint8_t len[10];
    size_t nl = 0;
    for (size_t v = n;; v >>= 7) {
        len[nl++] = (uint8_t)(v & 0x7f) | (v >> 7 ? 0x80 : 0);
        if (!(v >> 7))
            break;
    }
    if (weir_buf_append(out, len, nl))
        return -1;
    for (size_t at = 0; at < n; at += 8) {
        uint8_t run[9], bits = 0;
        size_t m = 1;
        for (size_t i = 0; i < 8 && at + i < n; i++)
            if (in[at + i]) {
                bits |= (uint8_t)(1u << i);
                run[m++] = in[at + i];
            }
        run[0] = bits;
        if (weir_buf_append(out, run, m))
            return -1;
    }
    return 0;
}

/* The varint length, at most 2^40 (a store value is far smaller). */
static size_t get_len(weir_reader_buf *r)
{
    size_t v = 0;
    for (unsigned shift = 0; shift <= 35; shift += 7) {
        uint8_t b = weir_get_u8(r);
        v |= (size_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return (b == 0 && shift) ? (r->bad = true, 0) : v; /* a longer form than needed */
    }
    r->bad = true;
    return 0;
}

int weir_zunpack(weir_reader_buf *r, weir_buf *out)
{
    size_t n = get_len(r);
    /* each packed byte stands for 8 at most: a larger length is damage, not a reason to allocate */
    if (r->bad || n / 8 > (size_t)(r->end - r->p))
        return r->bad = true, -1;
    if (weir_buf_reserve(out, n))
        return -1;
    for (size_t at = 0; at < n; at += 8) {
        uint8_t bits = weir_get_u8(r), run[8] = {0};
        size_t m = n - at < 8 ? n - at : 8;
        if (m < 8 && bits >> m)
            r->bad = true; /* a byte past the length */
        for (size_t i = 0; i < m && !r->bad; i++)
            if (bits >> i & 1 && !(run[i] = weir_get_u8(r)))
                r->bad = true; /* a zero byte flagged as not zero */
        if (r->bad)
            return -1;
        weir_buf_append(out, run, m); /* reserved above */
    }
    if (r->p != r->end)
        r->bad = true;
    return r->bad ? -1 : 0;
}
