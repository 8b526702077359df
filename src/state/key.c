/*
 * key.c - order-preserving keys for the state store; the rule is in key.h.
 *
 * Numbers become 8 big-endian bytes whose unsigned order is the numbers'
 * order, so the store's memcmp sorts them; text is escaped so that a
 * terminator sorts before every continuation. Decode is strict (only what
 * encode writes) because keys are read back from disk: a key that is not
 * canonical is damage, and it is reported, not guessed at.
 */
#include "state/key.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum {
    TAG_NULL = 0x01,
    TAG_VALUE = 0x10,     /* a non-null value's tag is TAG_VALUE + its weir_type */
    TEXT_ESC = 0xFF,      /* 0x00 0xFF: a zero byte inside TEXT */
    TEXT_END = 0x01,      /* 0x00 0x01: the end of a TEXT */
};

#define SIGN_BIT (UINT64_C(1) << 63)
#define CANONICAL_NAN UINT64_C(0x7FF8000000000000)

static bool known_type(int t) { return t >= WEIR_TYPE_BOOL && t <= WEIR_TYPE_JSON; }

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* The ordered image of a double's bits: one NaN, no negative zero. */
static uint64_t double_bits(double d)
{
    uint64_t bits;
    if (isnan(d))
        bits = CANONICAL_NAN;
    else {
        if (d == 0)
            d = 0; /* -0 becomes +0 */
        memcpy(&bits, &d, 8);
    }
    return bits & SIGN_BIT ? ~bits : bits | SIGN_BIT;
}

/* The payload of a non-null number: 8 bytes whose order is the value's. */
static uint64_t number_image(const weir_value *v)
{
    switch (v->type) {
    case WEIR_TYPE_INT:
    case WEIR_TYPE_TIMESTAMP: return (uint64_t)v->i ^ SIGN_BIT;
    case WEIR_TYPE_UINT: return v->u;
    default: return double_bits(v->d);
    }
}

static int encode_text(weir_buf *out, const weir_value *v)
{
    size_t zeros = 0;
    for (uint32_t i = 0; i < v->len; i++)
        zeros += v->s[i] == 0;
    if (weir_buf_reserve(out, v->len + zeros + 2))
        return WEIR_ENOMEM;
    uint8_t *p = out->data + out->len;
    for (uint32_t i = 0; i < v->len; i++) {
        *p++ = (uint8_t)v->s[i];
        if (v->s[i] == 0)
            *p++ = TEXT_ESC;
    }
    *p++ = 0;
    *p++ = TEXT_END;
    out->len = (size_t)(p - out->data);
    return WEIR_OK;
}

static int encode_one(weir_buf *out, const weir_value *v, int col, weir_err *err)
{
    if (v->err)
        return weir_err_set(err, WEIR_EINVAL, "state key: column %d is an error value (%s), not a key",
                            col + 1, weir_value_error_name((weir_value_error)v->err));
    if (v->is_null) {
        uint8_t b[2] = {TAG_NULL, v->type};
        return weir_buf_append(out, b, 2) ? weir_err_set(err, WEIR_ENOMEM, "state key: out of memory") : WEIR_OK;
    }
    if (!known_type(v->type))
        return weir_err_set(err, WEIR_EINVAL, "state key: column %d has no type a key can hold (%d)", col + 1, v->type);
    uint8_t b[9] = {(uint8_t)(TAG_VALUE + v->type)};
    size_t n = 1;
    if (v->type == WEIR_TYPE_BOOL)
        b[n++] = v->b ? 1 : 0;
    else if (!weir_type_has_text(v->type)) {
        put_be64(b + 1, number_image(v));
        n += 8;
    }
    int rc = weir_buf_append(out, b, n);
    if (rc == WEIR_OK && weir_type_has_text(v->type))
        rc = encode_text(out, v);
    return rc ? weir_err_set(err, WEIR_ENOMEM, "state key: out of memory") : WEIR_OK;
}

int weir_key_encode(weir_buf *out, const weir_value *vals, int n, weir_err *err)
{
    size_t was = out->len;
    for (int i = 0; i < n; i++) {
        int rc = encode_one(out, &vals[i], i, err);
        if (rc) {
            out->len = was;
            return rc;
        }
    }
    return WEIR_OK;
}

/* A malformed key: what, where, why. */
static int bad_key(weir_err *err, int col, size_t at, const char *why)
{
    return weir_err_set(err, WEIR_ECORRUPT, "state key: column %d at byte %zu: %s", col + 1, at, why);
}

/* Reads TEXT from key[*pos..len) up to its terminator into *v. */
static int decode_text(const uint8_t *key, size_t len, size_t *pos, weir_value *v, weir_arena *a,
                       int col, weir_err *err)
{
    size_t start = *pos, zeros = 0, i = start;
    for (;; i++) {
        if (i + 1 >= len)
            return bad_key(err, col, start, "TEXT has no terminator (0x00 0x01)");
        if (key[i] != 0)
            continue;
        if (key[i + 1] == TEXT_END)
            break;
        if (key[i + 1] != TEXT_ESC)
            return bad_key(err, col, i, "zero byte in TEXT is neither escaped (0x00 0xFF) nor a terminator (0x00 0x01)");
        zeros++;
        i++;
    }
    size_t n = i - start - zeros; /* i is at the terminator */
    if (n > UINT32_MAX)
        return bad_key(err, col, start, "TEXT longer than 4 GiB");
    v->len = (uint32_t)n;
    if (zeros == 0)
        v->s = (const char *)key + start;
    else {
        char *s = weir_arena_alloc(a, n ? n : 1);
        if (!s)
            return weir_err_set(err, WEIR_ENOMEM, "state key: out of memory");
        for (size_t j = start, k = 0; j < i; j++) {
            s[k++] = (char)key[j];
            j += key[j] == 0; /* skip the escape byte */
        }
        v->s = s;
    }
    *pos = i + 2;
    return WEIR_OK;
}

/* Reads an 8-byte number of type t into *v, rejecting images encode never writes. */
static int decode_number(const uint8_t *p, int t, weir_value *v, int col, size_t at, weir_err *err)
{
    uint64_t x = get_be64(p);
    if (t == WEIR_TYPE_UINT) {
        v->u = x;
        return WEIR_OK;
    }
    if (t != WEIR_TYPE_DOUBLE) {
        v->i = (int64_t)(x ^ SIGN_BIT);
        return WEIR_OK;
    }
    uint64_t bits = x & SIGN_BIT ? x ^ SIGN_BIT : ~x;
    memcpy(&v->d, &bits, 8);
    if (bits == SIGN_BIT)
        return bad_key(err, col, at, "DOUBLE is a negative zero, which keys write as +0");
    if (isnan(v->d) && bits != CANONICAL_NAN)
        return bad_key(err, col, at, "DOUBLE is a NaN other than the one keys write");
    return WEIR_OK;
}

/* Decodes the column at key[*pos..len) into *v. */
static int decode_one(const uint8_t *key, size_t len, size_t *pos, weir_value *v, weir_arena *a,
                      int col, weir_err *err)
{
    size_t at = *pos;
    uint8_t tag = key[at];
    char why[64];
    *v = (weir_value){0};
    if (tag == TAG_NULL) {
        if (len - at < 2)
            return bad_key(err, col, at, "NULL has no type byte");
        if (key[at + 1] != WEIR_TYPE_NULL && !known_type(key[at + 1])) {
            snprintf(why, sizeof why, "NULL of unknown type %u", key[at + 1]);
            return bad_key(err, col, at, why);
        }
        *v = weir_null((weir_type)key[at + 1]);
        *pos = at + 2;
        return WEIR_OK;
    }
    if (tag < TAG_VALUE || !known_type(tag - TAG_VALUE)) {
        snprintf(why, sizeof why, "unknown column tag 0x%02x", tag);
        return bad_key(err, col, at, why);
    }
    v->type = (uint8_t)(tag - TAG_VALUE);
    at++;
    if (weir_type_has_text(v->type)) {
        *pos = at;
        return decode_text(key, len, pos, v, a, col, err);
    }
    size_t need = v->type == WEIR_TYPE_BOOL ? 1 : 8;
    if (len - at < need) {
        snprintf(why, sizeof why, "%s needs %zu bytes, %zu left", weir_type_name((weir_type)v->type), need, len - at);
        return bad_key(err, col, at, why);
    }
    *pos = at + need;
    if (v->type != WEIR_TYPE_BOOL)
        return decode_number(key + at, v->type, v, col, at, err);
    if (key[at] > 1)
        return bad_key(err, col, at, "BOOL is neither 0x00 nor 0x01");
    v->b = key[at] == 1;
    return WEIR_OK;
}

int weir_key_decode(const uint8_t *key, size_t len, weir_value *vals, int max, int *n,
                    weir_arena *a, weir_err *err)
{
    size_t pos = 0;
    int col = 0;
    for (; pos < len; col++) {
        if (col == max)
            return weir_err_set(err, WEIR_ECORRUPT, "state key: more than %d columns (byte %zu of %zu)", max, pos, len);
        int rc = decode_one(key, len, &pos, &vals[col], a, col, err);
        if (rc)
            return rc;
    }
    *n = col;
    return WEIR_OK;
}

int weir_key_prefix_end(const uint8_t *prefix, size_t n, weir_buf *out, bool *bounded, weir_err *err)
{
    while (n > 0 && prefix[n - 1] == 0xFF)
        n--;
    *bounded = n > 0;
    if (!*bounded)
        return WEIR_OK;
    if (weir_buf_append(out, prefix, n))
        return weir_err_set(err, WEIR_ENOMEM, "state key: out of memory");
    out->data[out->len - 1]++;
    return WEIR_OK;
}
