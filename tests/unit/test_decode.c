/*
 * test_decode.c - decoding with a memo (exec/decode.h) gives exactly what
 * decoding without one gives, record after record: the same values and
 * the same refusals, for member names in and out of the schema's order,
 * names one is a prefix of another, escaped names, schemas that change
 * between records (more of them in turn than the memo keeps), and timestamps in the minute the memo holds or next to
 * it (seconds 60 and 61, the last instant of year 9999, fractions of one to
 * four digits, ',' and 'z', offsets, escapes, a changed date or minute).
 */
#include <math.h>

#include "../tap.h"
#include "exec/decode.h"

static weir_column cols_a[] = {{"id", WEIR_TYPE_TEXT},   {"idx", WEIR_TYPE_INT},     {"city", WEIR_TYPE_TEXT},
                               {"ok", WEIR_TYPE_BOOL},   {"ts", WEIR_TYPE_TIMESTAMP}, {"d", WEIR_TYPE_DOUBLE}};
static weir_column cols_b[] = {{"ts", WEIR_TYPE_TIMESTAMP}, {"city", WEIR_TYPE_TEXT}};
/* Names the scanner must not match byte for byte: a quote, a control
 * character, UTF-8 (JSON writes them escaped, or they need checking). */
static weir_column cols_c[] = {{"a\"b", WEIR_TYPE_INT}, {"t\tb", WEIR_TYPE_INT}, {"\xc3\xa9", WEIR_TYPE_TEXT}, {"id", WEIR_TYPE_TEXT}};
static const weir_schema schema_a = {cols_a, 6}, schema_b = {cols_b, 2}, schema_c = {cols_c, 4};

static bool same_value(const weir_value *x, const weir_value *y)
{
    if (x->type != y->type || x->is_null != y->is_null || x->err != y->err)
        return false;
    if (x->is_null)
        return true;
    switch (x->type) {
    case WEIR_TYPE_TEXT:
    case WEIR_TYPE_JSON: return x->len == y->len && !memcmp(x->s, y->s, x->len);
    case WEIR_TYPE_BOOL: return x->b == y->b;
    case WEIR_TYPE_DOUBLE: return x->d == y->d || (isnan(x->d) && isnan(y->d));
    default: return x->i == y->i;
    }
}

/* Decodes record with memo m and without one: whether both agree on the
 * outcome, the reason of a refusal and every value. *refused says which. */
static bool agree(weir_decode_memo *m, const weir_schema *s, const char *record, bool *refused)
{
    weir_arena a = {0};
    weir_value with[8], without[8];
    char why_with[256] = "", why_without[256] = "";
    size_t n = strlen(record);
    int rw = weir_decode_json_memo(m, s, record, n, &a, with, why_with, sizeof why_with);
    int ro = weir_decode_json(s, record, n, &a, without, why_without, sizeof why_without);
    bool same = rw == ro && (rw ? !strcmp(why_with, why_without) : true);
    for (int i = 0; same && !rw && i < s->ncols; i++)
        same = same_value(&with[i], &without[i]);
    if (!same)
        diag("%s: memo %d '%s', without %d '%s'", record, rw, why_with, ro, why_without);
    *refused = rw != 0;
    weir_arena_free(&a);
    return same;
}

/* The timestamp of {"ts": text} through m, or INT64_MIN if refused. */
static int64_t ts_of(weir_decode_memo *m, const char *text)
{
    char rec[200];
    snprintf(rec, sizeof rec, "{\"ts\":\"%s\"}", text);
    weir_arena a = {0};
    weir_value row[2];
    char why[256];
    int rc = weir_decode_json_memo(m, &schema_b, rec, strlen(rec), &a, row, why, sizeof why);
    weir_arena_free(&a);
    return rc || row[0].is_null ? INT64_MIN : row[0].i;
}

static void test_names(void)
{
    static const char *const records[] = {
        "{\"id\":\"1\",\"idx\":7,\"city\":\"Oslo\",\"ok\":true,\"ts\":\"2026-11-23T00:00:01Z\",\"d\":1.5}",
        "{\"d\":2,\"ts\":\"2026-11-23T00:00:02Z\",\"ok\":false,\"city\":\"Rome\",\"idx\":8,\"id\":\"2\"}",
        "{\"idx\":9,\"id\":\"3\",\"extra\":{\"id\":\"no\"},\"i\":1,\"idxx\":2,\"cit\":\"x\"}",
        "{\"c\\u0069ty\":\"Lima\",\"\\u0069d\":\"4\",\"id\":\"5\"}",
        "{\"id\":\"6\",\"city\":\"Ba\\u0142ty\",\"ts\":\"2026-11-23T00:00:03Z\"}",
        "{\"ok\":1}",
        "{\"idx\":1.5}",
        "{\"id\":\"7\",\"ts\":\"2026-11-23T00:00:04Z\",\"city\":\"Kyiv\"}",
        "{}",
        "[1]",
        "{\"id\":\"8\"",
    };
    weir_decode_memo m = {0};
    bool all = true, refused;
    int refusals = 0;
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < sizeof records / sizeof *records; i++) {
            /* Schemas alternate: the memo's name lengths must follow. */
            all &= agree(&m, round == 1 && i % 2 ? &schema_b : &schema_a, records[i], &refused);
            refusals += refused;
        }
    /* More schemas than the memo keeps, in turns: each is measured again
     * when it comes back. */
    const weir_schema more[] = {schema_a, schema_b, {cols_a + 1, 5}, {cols_a + 2, 4}, {cols_a, 3}};
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < sizeof records / sizeof *records; i++)
            for (size_t k = 0; k < sizeof more / sizeof *more; k++)
                all &= agree(&m, &more[(k + i) % (sizeof more / sizeof *more)], records[i], &refused);
    ok(all, "member names in any order, unknown, prefixes of others, escaped, and schemas that change: as without a memo");
    ok(refusals > 0, "some of those records are refused, with the same reasons (%d)", refusals);

    static const char *const odd[] = {
        "{\"a\"b\":1,\"id\":\"1\"}",                   /* not JSON: a quote inside a name */
        "{\"a\\\"b\":1,\"t\\tb\":2,\"\xc3\xa9\":\"x\",\"id\":\"2\"}", /* the names, escaped and in UTF-8 */
        "{\"a\\\"b\":1,\"t\tb\":2}",                  /* not JSON: a raw tab inside a name */
        "{\"\xc3\":\"x\",\"id\":\"3\"}",                 /* not JSON: a truncated UTF-8 sequence */
        "{\"\\u00e9\":\"y\",\"a\\u0022b\":4}",
    };
    bool odd_all = true;
    int odd_refusals = 0;
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
            odd_all &= agree(&m, &schema_c, odd[i], &refused);
            odd_refusals += refused;
        }
    ok(odd_all, "column names with a quote, a tab or UTF-8, which the scanner must not match raw: as without a memo");
    is_int(odd_refusals, 2 * 3, "the three records that are not JSON are refused");
    weir_decode_memo_free(&m);
}

static void test_timestamps(void)
{
    weir_decode_memo m = {0};
    /* One minute, then its neighbours: each as the parser alone reads it. */
    static const char *const texts[] = {
        "2026-11-23T00:00:00Z", "2026-11-23T00:00:07Z", "2026-11-23T00:00:07.108Z", "2026-11-23T00:00:59.999Z",
        "2026-11-23T00:00:60Z", "2026-11-23T00:00:60.999Z", "2026-11-23T00:00:61Z", "2026-11-23T00:00:99.000Z",
        "2026-11-23T00:00:5xZ", "2026-11-23T00:00:05.1Z", "2026-11-23T00:00:05.12Z", "2026-11-23T00:00:05.1234Z",
        "2026-11-23T00:00:05,123Z", "2026-11-23T00:00:05.123z", "2026-11-23T00:00:05.12xZ", "2026-11-23T00:00:05.123",
        "2026-11-23T00:00:05+01:00", "2026-11-23T00:00:05.123+01:00", "2026-11-23T00:00Z", "2026-11-23T00:00",
        "2026-11-23T00:00:05.123ZZ", "2026-11-23T00:01:00Z", "2026-11-23T00:00:30Z", "2026-11-24T00:00:30Z",
        "2026-11-23t00:00:30Z", "2026-11-23 00:00:30Z", "2026-11-23 00:00:31.5Z", "9999-12-31T23:59:59.999Z",
        "9999-12-31T23:59:60Z", "9999-12-31T23:59:59Z", "9999-12-31T23:59:60.000Z", "0000-01-01T00:00:00Z",
        "0000-01-01T00:00:01.001Z", "2026-13-01T00:00:00Z", "2026-11-23T24:00:00Z", "2026-11-23T00:60:00Z",
        "2026-11-23T00:00:\\u00305Z", "2026-11-23T00:00:0\\u0035.100Z", "2026-11-23T00:00:05.100Z",
    };
    bool all = true, refused;
    int refusals = 0;
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
            char rec[200];
            snprintf(rec, sizeof rec, "{\"ts\":\"%s\",\"city\":\"x\"}", texts[i]);
            all &= agree(&m, &schema_b, rec, &refused);
            refusals += refused;
        }
    ok(all, "timestamps in, around and beyond the memo's minute: as without a memo");
    /* 61, 99, 5x, .12x, ZZ, 23:59:60 of 9999 twice, month 13, hour 24, minute 60: twice each. */
    is_int(refusals, 2 * 10, "the malformed and out-of-range ones are refused alike");

    /* Exact instants through the memo's shortcut: the minute comes from the
     * first, the others are read from their seconds. */
    weir_decode_memo_free(&m);
    int64_t base = ts_of(&m, "2026-11-23T05:17:00Z");
    is_int(base, 1795411020000LL, "the minute's first timestamp");
    is_int(ts_of(&m, "2026-11-23T05:17:42.250Z"), base + 42250, "a later one in its minute, from its seconds");
    is_int(ts_of(&m, "2026-11-23T05:17:60.999Z"), base + 60999, "a leap second, as the parser allows");
    is_int(ts_of(&m, "2026-11-23T05:17:61Z"), INT64_MIN, "second 61 refused");
    is_int(ts_of(&m, "9999-12-31T23:59:00Z"), WEIR_TIMESTAMP_MAX_MS - 59999, "the last minute of 9999");
    is_int(ts_of(&m, "9999-12-31T23:59:59.999Z"), WEIR_TIMESTAMP_MAX_MS, "its last instant");
    is_int(ts_of(&m, "9999-12-31T23:59:60Z"), INT64_MIN, "a leap second past it refused");

    /* Random walks over minutes and forms, each record's memo result
     * against the parser's. */
    static const char *const tails[] = {"Z", ".000Z", ".5Z", ",250Z", "+00:00", "z", ".1234Z", "-05:30"};
    bool random_all = true;
    int64_t t = 1795411020000LL;
    for (int i = 0; i < 20000; i++) {
        t += (int64_t)(tap_rand() % 40000) - 5000;
        char text[64];
        int len = weir_timestamp_format(t - t % 1000, text, sizeof text);
        int sec = (int)(tap_rand() % 64); /* 60 to 63 are past the minute's last second */
        snprintf(text + len - 3, sizeof text - (size_t)len + 3, "%02d%s", sec, tails[tap_rand() % 8]);
        char rec[128];
        snprintf(rec, sizeof rec, "{\"ts\":\"%s\"}", text);
        random_all &= agree(&m, &schema_b, rec, &refused);
    }
    ok(random_all, "20,000 timestamps of random minutes, seconds and forms: as without a memo");
    weir_decode_memo_free(&m);
}

int main(void)
{
    plan(14);
    test_names();
    test_timestamps();
    return done();
}
