/*
 * test_key.c - the state store's keys (state/key.h): on many random tuples
 * of mixed column types, with the edge values of each (INT64_MIN, -0, NaN,
 * infinities, TEXT with zero bytes and prefixes of each other), the order
 * of the keys is the order of the values and every key decodes back to its
 * values and encodes again to the same bytes; a prefix of whole columns is
 * a prefix of the key and prefix_end bounds it; malformed keys are refused
 * with what, where and why.
 */
#include <math.h>

#include "../tap.h"
#include "state/key.h"

static const weir_type types[] = {WEIR_TYPE_BOOL, WEIR_TYPE_INT, WEIR_TYPE_UINT, WEIR_TYPE_DOUBLE,
                                  WEIR_TYPE_TEXT, WEIR_TYPE_TIMESTAMP, WEIR_TYPE_JSON};
#define NTYPES (int)(sizeof types / sizeof types[0])

static char text_pool[1 << 16];
static size_t text_used;

static weir_value random_value(weir_type t)
{
    if (tap_rand() % 10 == 0)
        return weir_null(t);
    uint64_t r = tap_rand();
    static const int64_t ints[] = {INT64_MIN, INT64_MIN + 1, -1, 0, 1, INT64_MAX - 1, INT64_MAX};
    static const double doubles[] = {-INFINITY, -1e300, -1.5, -5e-324, -0.0, 0.0, 5e-324, 1e-300, 2.5, 1e300, INFINITY, NAN};
    bool edge = tap_rand() % 3 == 0;
    switch (t) {
    case WEIR_TYPE_BOOL: return weir_bool(r & 1);
    case WEIR_TYPE_INT: return weir_int(edge ? ints[r % 7] : (int64_t)(r % 2001) - 1000);
    case WEIR_TYPE_TIMESTAMP: return weir_timestamp(edge ? ints[r % 7] : (int64_t)r);
    case WEIR_TYPE_UINT: return weir_uint(edge ? (uint64_t)ints[r % 7] : r % 2001);
    case WEIR_TYPE_DOUBLE: {
        if (edge)
            return weir_double(r % 13 == 12 ? -NAN : doubles[r % 12]);
        double d = (double)((int64_t)(r % 4001) - 2000) / 8;
        return weir_double(d);
    }
    default: {
        /* short strings over a small alphabet with a zero byte: many prefixes and ties */
        static const char alphabet[] = {'\0', '\x01', 'a', 'b', '\xff'};
        size_t n = r % 6;
        if (text_used + n > sizeof text_pool)
            text_used = 0;
        char *s = text_pool + text_used;
        for (size_t i = 0; i < n; i++)
            s[i] = alphabet[tap_rand() % 5];
        text_used += n;
        weir_value v = weir_text(s, n);
        v.type = (uint8_t)t;
        return v;
    }
    }
}

/* The order keys must have: weir_value_cmp's, with -0 equal to 0 (as it
 * already is) and NaN equal to NaN and above every other double. */
static int value_order(const weir_value *a, const weir_value *b)
{
    if (!a->is_null && !b->is_null && a->type == WEIR_TYPE_DOUBLE) {
        bool an = isnan(a->d), bn = isnan(b->d);
        if (an || bn)
            return an - bn;
    }
    int c = weir_value_cmp(a, b);
    return (c > 0) - (c < 0);
}

static int tuple_order(const weir_value *a, const weir_value *b, int n)
{
    for (int i = 0; i < n; i++) {
        int c = value_order(&a[i], &b[i]);
        if (c)
            return c;
    }
    return 0;
}

static int bytes_order(const weir_buf *a, const weir_buf *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->data, b->data, n);
    if (c == 0)
        c = (a->len > b->len) - (a->len < b->len);
    return (c > 0) - (c < 0);
}

enum { ROWS = 64, MAXCOLS = 5 };

/* One schema of random column types; rows of it compared pairwise. */
static void one_schema(int *order_bad, int *trip_bad, int *prefix_bad, long *pairs)
{
    int ncols = 1 + (int)(tap_rand() % MAXCOLS);
    weir_type schema[MAXCOLS];
    for (int c = 0; c < ncols; c++)
        schema[c] = types[tap_rand() % NTYPES];
    weir_value rows[ROWS][MAXCOLS];
    weir_buf keys[ROWS] = {{0}};
    weir_arena a = {0};
    weir_err err;
    for (int r = 0; r < ROWS; r++) {
        for (int c = 0; c < ncols; c++)
            rows[r][c] = random_value(schema[c]);
        if (weir_key_encode(&keys[r], rows[r], ncols, &err))
            BAIL("encode: %s", err.msg);
        weir_value back[MAXCOLS];
        int n = 0;
        weir_buf again = {0};
        if (weir_key_decode(keys[r].data, keys[r].len, back, MAXCOLS, &n, &a, &err) || n != ncols ||
            tuple_order(back, rows[r], ncols) != 0 || weir_key_encode(&again, back, n, &err) ||
            bytes_order(&again, &keys[r]) != 0)
            (*trip_bad)++;
        for (int c = 0; c < n; c++)
            *trip_bad += back[c].type != rows[r][c].type || back[c].is_null != rows[r][c].is_null;
        weir_buf_free(&again);
        /* the key of the first k columns is a prefix, and prefix_end is above every key that has it */
        int k = (int)(tap_rand() % (unsigned)ncols) + 1;
        weir_buf prefix = {0}, end = {0};
        bool bounded;
        if (weir_key_encode(&prefix, rows[r], k, &err) || weir_key_prefix_end(prefix.data, prefix.len, &end, &bounded, &err))
            BAIL("prefix: %s", err.msg);
        *prefix_bad += prefix.len > keys[r].len || memcmp(prefix.data, keys[r].data, prefix.len) != 0 ||
                       !bounded || bytes_order(&keys[r], &end) >= 0;
        weir_buf_free(&prefix);
        weir_buf_free(&end);
    }
    for (int i = 0; i < ROWS; i++)
        for (int j = 0; j < ROWS; j++) {
            (*pairs)++;
            if (bytes_order(&keys[i], &keys[j]) != tuple_order(rows[i], rows[j], ncols))
                (*order_bad)++;
        }
    for (int r = 0; r < ROWS; r++)
        weir_buf_free(&keys[r]);
    weir_arena_free(&a);
}

static void test_random(void)
{
    int order_bad = 0, trip_bad = 0, prefix_bad = 0;
    long pairs = 0;
    for (int s = 0; s < 1000; s++)
        one_schema(&order_bad, &trip_bad, &prefix_bad, &pairs);
    ok(order_bad == 0, "key order is value order on %ld pairs of random tuples (1000 schemas of 1-5 mixed types)", pairs);
    if (order_bad)
        diag("%d pairs out of order", order_bad);
    ok(trip_bad == 0, "64,000 keys decode to their values and encode again to the same bytes");
    ok(prefix_bad == 0, "a key's first columns are a prefix of it, and prefix_end is above every key with the prefix");
}

static void test_canonical(void)
{
    weir_buf a = {0}, b = {0};
    weir_err err;
    weir_value neg = weir_double(-0.0), pos = weir_double(0.0), n1 = weir_double(NAN), n2 = weir_double(-NAN);
    weir_key_encode(&a, &neg, 1, &err);
    weir_key_encode(&b, &pos, 1, &err);
    ok(bytes_order(&a, &b) == 0, "-0 and +0 are one key");
    a.len = b.len = 0;
    weir_key_encode(&a, &n1, 1, &err);
    weir_key_encode(&b, &n2, 1, &err);
    weir_value inf = weir_double(INFINITY);
    weir_buf c = {0};
    weir_key_encode(&c, &inf, 1, &err);
    ok(bytes_order(&a, &b) == 0 && bytes_order(&c, &a) < 0, "every NaN is one key, above +infinity");
    weir_value bad = weir_error(WEIR_TYPE_INT, WEIR_VERR_OVERFLOW);
    a.len = 0;
    int rc = weir_key_encode(&a, &bad, 1, &err);
    ok(rc == WEIR_EINVAL && a.len == 0 && strstr(err.msg, "integer overflow"), "an error value is not a key: %s", err.msg);
    weir_buf_free(&a);
    weir_buf_free(&b);
    weir_buf_free(&c);
}

static void expect_corrupt(const char *bytes, size_t len, int max, const char *want, const char *what)
{
    weir_value v[4];
    int n;
    weir_arena a = {0};
    weir_err err = {0};
    int rc = weir_key_decode((const uint8_t *)bytes, len, v, max, &n, &a, &err);
    ok(rc == WEIR_ECORRUPT && strstr(err.msg, want), "%s: %s", what, err.msg);
    weir_arena_free(&a);
}

static void test_malformed(void)
{
    expect_corrupt("\x12\x80\x00", 3, 4, "column 1 at byte 1: INT needs 8 bytes, 2 left", "a truncated INT");
    expect_corrupt("\x11\x01\x42", 3, 4, "column 2 at byte 2: unknown column tag 0x42", "an unknown tag");
    expect_corrupt("\x15" "ab", 3, 4, "TEXT has no terminator", "TEXT without its end");
    expect_corrupt("\x15" "a\x00\x07\x00\x01", 6, 4, "neither escaped", "a bad escape");
    expect_corrupt("\x14\x7f\xff\xff\xff\xff\xff\xff\xff", 9, 4, "negative zero", "a negative zero");
    expect_corrupt("\x14\xff\xf8\x00\x00\x00\x00\x00\x01", 9, 4, "NaN other than", "a NaN with a payload");
    expect_corrupt("\x11\x02", 2, 4, "BOOL is neither", "a BOOL of 2");
    expect_corrupt("\x11\x01\x11\x00", 4, 1, "more than 1 columns", "more columns than asked for");
    expect_corrupt("\x01", 1, 4, "NULL has no type byte", "a NULL without its type");
    expect_corrupt("\x01\x09", 2, 4, "NULL of unknown type 9", "a NULL of no type");
    bool bounded;
    weir_buf end = {0};
    weir_err err;
    weir_key_prefix_end((const uint8_t *)"\xff\xff", 2, &end, &bounded, &err);
    ok(!bounded && end.len == 0, "a prefix of 0xFF bytes has no end: scan to the last key");
    weir_buf_free(&end);
}

int main(void)
{
    plan(17);
    test_random();
    test_canonical();
    test_malformed();
    return done();
}
