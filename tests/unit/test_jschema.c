/*
 * test_jschema.c - the JSON Schema subset: each keyword accepts and
 * refuses what it should and names the field and rule; unsupported or
 * duplicated keywords are refused at compile time; the backward
 * compatibility check allows widening and refuses narrowing. Hostile
 * patterns compile and match within the limits of schema.h: the process
 * runs under a 1 GiB address-space limit (not under AddressSanitizer,
 * which reserves terabytes), so a regression (glibc's regcomp took 20 s
 * and 14 GB on one of them) fails here instead of exhausting the machine.
 */
#include <string.h>
#include <sys/resource.h>

#include "base/clock.h"
#include "json/schema.h"
#include "../tap.h"

static weir_jschema *compile(const char *text)
{
    weir_jschema *s = NULL;
    weir_err err = {0};
    if (weir_jschema_compile(text, strlen(text), &s, &err))
        diag("compile: %s", err.msg);
    return s;
}

/* "ok", or "field rule" of the first violation. */
static const char *verdict(const weir_jschema *s, const char *json)
{
    static char out[256];
    weir_jschema_violation v;
    if (weir_jschema_check(s, json, strlen(json), &v))
        return "ok";
    snprintf(out, sizeof out, "%s %s", v.field, v.rule);
    return out;
}

static const char *compile_error(const char *text)
{
    static weir_err err;
    weir_jschema *s = NULL;
    memset(&err, 0, sizeof err);
    if (weir_jschema_compile(text, strlen(text), &s, &err) == 0) {
        weir_jschema_free(s);
        return "compiled";
    }
    return err.msg;
}

static const char *compat(const char *older, const char *newer)
{
    static char why[256];
    weir_jschema *a = compile(older), *b = compile(newer);
    bool ok = a && b && weir_jschema_compatible(a, b, why, sizeof why);
    weir_jschema_free(a);
    weir_jschema_free(b);
    return ok ? "compatible" : why;
}

static double secs_since(uint64_t start_ns) { return (double)(weir_mono_ns() - start_ns) / 1e9; }

/* Bounds the test's memory; false if the limit cannot be set. */
static bool limit_memory(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return true;
#else
    struct rlimit rl = {1ul << 30, 1ul << 30};
    return setrlimit(RLIMIT_AS, &rl) == 0;
#endif
}

/* The hostile patterns: compile time, match time and their messages. */
static void hostile_patterns(void)
{
    uint64_t t0 = weir_mono_ns();
    const char *msg = compile_error("{\"properties\":{\"name\":{\"pattern\":\"((((a{1,50}){1,50}){1,50}){1,50})\"}}}");
    double took = secs_since(t0);
    ok(strstr(msg, "schema.properties.name: pattern is over weir's limit for patterns"),
       "a pattern that compiles huge is refused, naming its path and the limit");
    diag("%s", msg);
    ok(took < 2.0, "and refused fast (%.3f s; glibc took 20 s and 14 GB)", took);

    char long_pattern[WEIR_JSCHEMA_PATTERN_MAX_LEN + 64];
    int n = snprintf(long_pattern, sizeof long_pattern, "{\"pattern\":\"");
    memset(long_pattern + n, 'a', WEIR_JSCHEMA_PATTERN_MAX_LEN + 1);
    snprintf(long_pattern + n + WEIR_JSCHEMA_PATTERN_MAX_LEN + 1, 4, "\"}");
    ok(strstr(compile_error(long_pattern), "pattern is over weir's limit for patterns (4096 bytes"),
       "a pattern longer than the limit is refused");

    weir_jschema *s = compile("{\"properties\":{\"id\":{\"pattern\":\"(a+)+$\"}}}");
    char rec[200];
    snprintf(rec, sizeof rec, "{\"id\":\"%.*s!\"}", 60, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    weir_jschema_violation v = {0};
    t0 = weir_mono_ns();
    bool accepted = s && weir_jschema_check(s, rec, strlen(rec), &v);
    took = secs_since(t0);
    ok(!accepted && !strcmp(v.rule, "pattern") && strstr(v.msg, "is too costly to check against this value"),
       "a match past its limit refuses the value, saying the pattern was too costly");
    diag("%s", v.msg);
    ok(took < 2.0, "and gives up fast (%.3f s)", took);
    is_str(verdict(s, "{\"id\":\"aaaa\"}"), "ok", "the same pattern still accepts a short match");
    weir_jschema_free(s);
}

/* ECMA-262 behaviour where PCRE2 differs by default (schema.h). */
static void pattern_dialect(void)
{
    weir_jschema *s = compile("{\"properties\":{\"a\":{\"pattern\":\"^a$\"},\"u\":{\"pattern\":\"^\\\\u00e9\\\\d$\"}}}");
    is_str(verdict(s, "{\"a\":\"a\\n\"}"), "a pattern", "$ matches at the very end only, not before a newline");
    is_str(verdict(s, "{\"a\":\"a\\u0000b\"}"), "a pattern", "a NUL inside a value does not end it");
    is_str(verdict(s, "{\"u\":\"\u00e97\"}"), "ok", "\\u00e9 is a code point, matched in UTF-8");
    weir_jschema_free(s);
    ok(strstr(compile_error("{\"pattern\":\"(\"}"), "pattern is not a regular expression weir accepts: missing closing "
                                                      "parenthesis at offset 1"),
       "a bad pattern: PCRE2's reason and where");
}

/* What a saved version that no longer compiles becomes (registry.c). */
static void unusable_schema(void)
{
    weir_jschema *u = weir_jschema_unusable("3.json: pattern is over weir's limit");
    weir_jschema_violation v = {0};
    ok(u && !weir_jschema_check(u, "{}", 2, &v) && !strcmp(v.rule, "schema") && strstr(v.msg, "3.json: pattern is over"),
       "an unusable schema refuses every record, saying why");
    weir_jschema *good = compile("{\"type\":\"object\"}");
    char why[256];
    ok(u && good && weir_jschema_compatible(u, good, why, sizeof why), "any schema may follow an unusable one");
    weir_jschema_free(u);
    weir_jschema_free(good);
}

int main(void)
{
    plan(46);
    ok(limit_memory(), "the test's memory is bounded");
    weir_jschema *s = compile("{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"title\":\"hoverboard\","
                              "\"type\":\"object\",\"required\":[\"id\",\"battery\"],\"additionalProperties\":false,"
                              "\"properties\":{\"id\":{\"type\":\"string\",\"pattern\":\"^hb-[0-9]+$\"},"
                              "\"battery\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":100},"
                              "\"name\":{\"type\":\"string\",\"minLength\":2,\"maxLength\":4},"
                              "\"state\":{\"enum\":[\"idle\",\"riding\",null]},"
                              "\"seen\":{\"type\":\"string\",\"format\":\"date-time\"},"
                              "\"speed\":{\"type\":\"number\",\"exclusiveMaximum\":30},"
                              "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"maxItems\":2}}}");
    ok(s != NULL, "a schema with every supported keyword compiles");
    is_str(verdict(s, "{\"id\":\"hb-1\",\"battery\":50}"), "ok", "a valid record");
    is_str(verdict(s, "{\"id\":\"hb-1\"}"), "battery required", "required");
    is_str(verdict(s, "[1]"), " type", "type of the record itself");
    is_str(verdict(s, "{\"id\":\"hb-1\",\"battery\":\"50\"}"), "battery type", "type of a field");
    is_str(verdict(s, "{\"id\":\"hb-1\",\"battery\":50.5}"), "battery type", "integer refuses a fraction");
    is_str(verdict(s, "{\"id\":\"hb-1\",\"battery\":50.0}"), "ok", "integer takes 50.0");
    is_str(verdict(s, "{\"id\":\"hb-1\",\"battery\":101}"), "battery maximum", "maximum");
    is_str(verdict(s, "{\"id\":\"hb-1\",\"battery\":-1}"), "battery minimum", "minimum");
    is_str(verdict(s, "{\"id\":\"hb-1\",\"battery\":1,\"speed\":30}"), "speed exclusiveMaximum", "exclusiveMaximum");
    is_str(verdict(s, "{\"id\":\"x-1\",\"battery\":1}"), "id pattern", "pattern");
    is_str(verdict(s, "{\"id\":\"hb-1\",\"battery\":1,\"name\":\"\\u00e9\\u00e9\\u00e9\\u00e9\"}"), "ok",
           "maxLength counts code points, not bytes");
    is_str(verdict(s, "{\"id\":\"hb-1\",\"battery\":1,\"name\":\"abcde\"}"), "name maxLength", "maxLength");
    is_str(verdict(s, "{\"id\":\"hb-1\",\"battery\":1,\"name\":\"a\"}"), "name minLength", "minLength");
    is_str(verdict(s, "{\"id\":\"hb-1\",\"battery\":1,\"state\":null}"), "ok", "enum with null");
    is_str(verdict(s, "{\"id\":\"hb-1\",\"battery\":1,\"state\":\"flying\"}"), "state enum", "enum");
    is_str(verdict(s, "{\"id\":\"hb-1\",\"battery\":1,\"seen\":\"2026-11-23T05:00:00.5+01:00\"}"), "ok", "date-time");
    is_str(verdict(s, "{\"id\":\"hb-1\",\"battery\":1,\"seen\":\"2026-02-29T05:00:00Z\"}"), "seen format",
           "date-time: no 29 February in 2026");
    is_str(verdict(s, "{\"id\":\"hb-1\",\"battery\":1,\"seen\":\"2026-11-23 05:00\"}"), "seen format", "date-time: no seconds");
    is_str(verdict(s, "{\"id\":\"hb-1\",\"battery\":1,\"tags\":[\"a\",2]}"), "tags[1] type", "items, with the index");
    is_str(verdict(s, "{\"id\":\"hb-1\",\"battery\":1,\"tags\":[\"a\",\"b\",\"c\"]}"), "tags maxItems", "maxItems");
    is_str(verdict(s, "{\"id\":\"hb-1\",\"battery\":1,\"colour\":\"red\"}"), "colour additionalProperties",
           "additionalProperties: false");
    weir_jschema_free(s);

    ok(strstr(compile_error("{\"oneOf\":[]}"), "oneOf is not supported"), "an unsupported keyword is refused");
    ok(strstr(compile_error("{\"pattern\":\"a\",\"pattern\":\"b\"}"), "pattern appears twice"), "a repeated keyword");
    ok(strstr(compile_error("{\"minimum\":1,\"exclusiveMinimum\":2}"), "appears twice"), "minimum with exclusiveMinimum");
    ok(strstr(compile_error("{\"properties\":{\"a\":{\"type\":\"thing\"}}}"), "schema.properties.a: type names an unknown type"),
       "errors say where in the schema");
    hostile_patterns();
    pattern_dialect();
    unusable_schema();

    const char *base = "{\"type\":\"object\",\"required\":[\"id\"],\"properties\":{\"id\":{\"type\":\"string\"},"
                       "\"n\":{\"type\":\"integer\",\"maximum\":10},\"c\":{\"enum\":[\"a\",\"b\"]}}}";
    is_str(compat(base, "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\"},\"n\":{\"type\":\"number\","
                        "\"maximum\":20},\"c\":{\"enum\":[\"a\",\"b\",\"c\"]},\"extra\":{\"type\":\"string\"}}}"),
           "compatible", "widening a type, a range, an enum, dropping required, adding a field: compatible");
    ok(strstr(compat(base, "{\"required\":[\"id\",\"n\"]}"), "field n becomes required"), "a new required field");
    ok(strstr(compat(base, "{\"properties\":{\"n\":{\"maximum\":5}}}"), "n: the maximum falls to 5"), "a narrower range");
    ok(strstr(compat(base, "{\"properties\":{\"c\":{\"enum\":[\"a\"]}}}"), "c: the enum drops the value b"), "a smaller enum");
    ok(strstr(compat(base, "{\"properties\":{\"id\":{\"type\":\"integer\"}}}"), "id: the type narrows from string to integer"),
       "a different type");
    ok(strstr(compat(base, "{\"additionalProperties\":false}"), "additionalProperties becomes false"), "closing the object");
    ok(strstr(compat(base, "{\"properties\":{\"id\":{\"type\":\"string\",\"pattern\":\"x\"}}}"), "id: the pattern changes"),
       "a new pattern");
    return done();
}
