/*
 * test_jschema.c - the JSON Schema subset: each keyword accepts and
 * refuses what it should and names the field and rule; unsupported or
 * duplicated keywords are refused at compile time; the backward
 * compatibility check allows widening and refuses narrowing.
 */
#include <string.h>

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

int main(void)
{
    plan(34);
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
    ok(strstr(compile_error("{\"pattern\":\"(\"}"), "not a regular expression"), "a bad pattern");

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
