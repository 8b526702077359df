/*
 * test_json.c - the JSON scanner: a table of accepted and refused texts
 * (with where and why), member lookup, string decoding and quoting
 * (which replaces invalid UTF-8, so weir's output is always JSON).
 */
#include "../tap.h"
#include "json/json.h"

static const char *const accepted[] = {
    "{}", "[]", "0", "-0", "1.5e10", "-12.25E-3", "\"\"", "true", "false", "null",
    " {\"a\" : [1, 2, {\"b\": null}], \"c\": \"x\\u00e9\\n\"} ",
    "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "[[[[[]]]]]", "\"\\ud83d\\ude00\"",
};

static const struct { const char *text; size_t offset; const char *msg; } refused[] = {
    {"", 0, "expected a value"},
    {"{", 1, "expected a member name"},
    {"{\"a\":1,}", 7, "expected a member name"},
    {"[1,]", 3, "expected a value"},
    {"01", 1, "leading zero"},
    {"1.", 2, "digit after '.'"},
    {"1e", 2, "exponent"},
    {"tru", 0, "expected a value"},
    {"\"abc", 4, "unterminated string"},
    {"\"a\tb\"", 2, "control character"},
    {"\"\\x\"", 2, "bad escape"},
    {"\"\\u12g4\"", 1, "bad \\u escape"},
    {"\"\xc3\x28\"", 1, "invalid UTF-8"},
    {"\"\xed\xa0\x80\"", 1, "invalid UTF-8"},      /* an encoded surrogate */
    {"\"\xc0\xaf\"", 1, "invalid UTF-8"},          /* overlong '/' */
    {"{} x", 3, "end of input"},
    {"{\"a\" 1}", 5, "expected ':'"},
    {"[1 2]", 3, "expected ',' or ']'"},
    {"NaN", 0, "expected a value"},
};

int main(void)
{
    size_t na = sizeof accepted / sizeof accepted[0], nr = sizeof refused / sizeof refused[0];
    plan((int)(na + 2 * nr + 23));
    weir_json_error e;
    for (size_t i = 0; i < na; i++)
        ok(weir_json_validate(accepted[i], strlen(accepted[i]), NULL, &e) == 0, "accepts %s", accepted[i]);
    for (size_t i = 0; i < nr; i++) {
        int rc = weir_json_validate(refused[i].text, strlen(refused[i].text), NULL, &e);
        ok(rc != 0 && e.offset == refused[i].offset, "refuses '%s' at byte %zu", refused[i].text, refused[i].offset);
        if (rc == 0)
            diag("accepted");
        else if (e.offset != refused[i].offset)
            diag("at byte %zu: %s", e.offset, e.msg);
        ok(rc != 0 && strstr(e.msg, refused[i].msg), "message for '%s' says '%s'", refused[i].text, refused[i].msg);
        if (rc != 0 && !strstr(e.msg, refused[i].msg))
            diag("message: %s", e.msg);
    }

    /* Deep nesting is refused, not a stack overflow. */
    static char deep[100001];
    memset(deep, '[', sizeof deep - 1);
    ok(weir_json_validate(deep, sizeof deep - 1, NULL, &e) != 0 && strstr(e.msg, "too deep"), "100000 '[' refused as too deep");

    const char *rec = "{\"number\": 27, \"name\": \"a\\\"b\", \"n\\u0061me2\": \"x\", \"nested\": {\"number\": 1}, \"z\": null}";
    weir_json_span v;
    is_int(weir_json_member(rec, strlen(rec), "number", 6, &v), 1, "finds top-level member");
    ok(v.type == WEIR_JSON_NUMBER && v.len == 2 && !memcmp(v.p, "27", 2), "member span is the number's text");
    is_int(weir_json_member(rec, strlen(rec), "missing", 7, &v), 0, "absent member is 0");
    is_int(weir_json_member(rec, strlen(rec), "name2", 5, &v), 1, "escaped member name matches decoded");
    is_int(weir_json_member(rec, strlen(rec), "z", 1, &v), 1, "null member found");
    is_int(v.type, WEIR_JSON_NULL, "null member has type null");
    ok(weir_json_member("[1]", 3, "a", 1, &v) < 0, "member lookup in a non-object fails");
    ok(weir_json_member("{\"a\":1,", 7, "b", 1, &v) < 0, "member lookup in a broken object fails");

    weir_buf b = {0};
    weir_json_member(rec, strlen(rec), "name", 4, &v);
    weir_json_unescape(v.p, v.len, &b);
    ok(b.len == 3 && !memcmp(b.data, "a\"b", 3), "unescape decodes \\\"");
    b.len = 0;
    const char *emoji = "\"\\ud83d\\ude00|\\u00e9|\\ud800\"";
    weir_json_unescape(emoji, strlen(emoji), &b);
    ok(b.len == 4 + 1 + 2 + 1 + 3 && !memcmp(b.data, "\xf0\x9f\x98\x80|\xc3\xa9|\xef\xbf\xbd", b.len),
       "unescape joins surrogate pairs and replaces a lone one with U+FFFD");
    b.len = 0;
    weir_json_quote(&b, "a\"\\\n\x01", 5);
    ok(b.len == 15 && !memcmp(b.data, "\"a\\\"\\\\\\n\\u0001\"", 15), "quote escapes quote, backslash, newline, control");
    weir_json_error qe;
    ok(weir_json_validate((char *)b.data, b.len, NULL, &qe) == 0, "quoted output is valid JSON");
    static const struct { const char *in, *out, *what; } bad_utf8[] = {
        {"a\xc0\xaf" "b", "\"a\xef\xbf\xbd\xef\xbf\xbd" "b\"", "an overlong '/'"},
        {"x\xe2\x82", "\"x\xef\xbf\xbd\xef\xbf\xbd\"", "a sequence cut short by the end"},
        {"\xe2\x82(", "\"\xef\xbf\xbd\xef\xbf\xbd(\"", "a sequence cut short by ASCII"},
        {"\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"", "an encoded surrogate"},
        {"\xff\xfe", "\"\xef\xbf\xbd\xef\xbf\xbd\"", "0xFF and 0xFE"},
        {"\x80", "\"\xef\xbf\xbd\"", "a lone continuation byte"},
        {"\xf4\x90\x80\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"", "past U+10FFFF"},
        {"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "valid UTF-8 is kept"},
    };
    for (size_t i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++) {
        b.len = 0;
        weir_json_quote(&b, bad_utf8[i].in, strlen(bad_utf8[i].in));
        ok(b.len == strlen(bad_utf8[i].out) && !memcmp(b.data, bad_utf8[i].out, b.len) &&
               weir_json_validate((char *)b.data, b.len, NULL, &qe) == 0,
           "quote writes valid JSON for %s (U+FFFD per bad byte)", bad_utf8[i].what);
    }
    /* Plain runs are found 8 bytes at a time: one byte that needs care at
     * every position of strings of 0 to 19 bytes, each appended after what
     * the buffer holds, gives the plain bytes around its escape. */
    static const struct { const char *in, *out; } care[] = {
        {"\"", "\\\""}, {"\\", "\\\\"}, {"\n", "\\n"}, {"\x01", "\\u0001"}, {"\x7f", "\x7f"},
        {"\xc3\xa9", "\xc3\xa9"}, {"\xff", "\xef\xbf\xbd"},
    };
    int runs = 1;
    for (size_t len = 0; len < 20; len++)
        for (size_t at = 0; at <= len; at++)
            for (size_t c = 0; c < sizeof care / sizeof care[0]; c++) {
                char in[40], want[80];
                memset(in, 'a', sizeof in);
                size_t cl = strlen(care[c].in), n = at < len ? len + cl - 1 : len; /* at == len: none */
                if (at < len)
                    memcpy(in + at, care[c].in, cl);
                int w = at < len ? snprintf(want, sizeof want, "<\"%.*s%s%.*s\"", (int)at, in, care[c].out,
                                            (int)(len - at - 1), in + at + cl)
                                 : snprintf(want, sizeof want, "<\"%.*s\"", (int)len, in);
                b.len = 0;
                weir_buf_append(&b, "<", 1);
                runs &= weir_json_quote(&b, in, n) == 0 && b.len == (size_t)w && !memcmp(b.data, want, b.len);
            }
    ok(runs, "quote finds each byte needing care wherever it falls in strings of 0 to 19 bytes");
    weir_buf_free(&b);

    unsigned line, col;
    weir_json_position("ab\ncd\nef", 7, &line, &col);
    ok(line == 3 && col == 2, "position of byte 7 is line 3 column 2");
    return done();
}
