/*
 * fuzz_json.c - the JSON scanner on arbitrary bytes: validation, member
 * lookup and string decoding must never read out of bounds, and a value
 * the validator accepts must be found again by member lookup when wrapped
 * in an object; quoting any bytes must give valid JSON. A walk with known
 * names must accept exactly what the plain walk accepts, match a name only
 * to its own bytes, and say truly which string values hold escapes.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json/json.h"

static const char *const known_names[] = {"a", "id", NULL, "k", ""};
static const uint32_t known_lens[] = {1, 2, 0, 1, 0};

static int count_member(void *ctx, const char *name, size_t name_len, int escaped, const weir_json_span *v)
{
    (void)name, (void)name_len, (void)escaped, (void)v;
    ++*(int *)ctx;
    return 0;
}

static int check_known(void *ctx, int which, const char *name, size_t name_len, int escaped, const weir_json_span *v,
                       int value_escaped)
{
    if (which >= 0 && (escaped || name_len != known_lens[which] + 2 || memcmp(name + 1, known_names[which], name_len - 2)))
        abort(); /* matched a name that is not the one it said */
    if (value_escaped != (v->type == WEIR_JSON_STRING && memchr(v->p, '\\', v->len) != NULL))
        abort(); /* wrong about a value's escapes */
    ++*(int *)ctx;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    weir_json_error e;
    weir_json_span v;
    int valid = weir_json_validate(p, size, &v, &e) == 0;
    if (!valid && e.offset > size)
        abort();
    weir_json_span m;
    weir_json_member(p, size, "a", 1, &m);
    weir_json_member(p, size, "", 0, &m);
    if (valid) {
        weir_buf b = {0};
        if (v.type == WEIR_JSON_STRING)
            weir_json_unescape(v.p, v.len, &b);
        /* {"k": <value>} must validate and give back the same span length. */
        b.len = 0;
        weir_buf_append_str(&b, "{\"k\":");
        weir_buf_append(&b, v.p, v.len);
        weir_buf_append_str(&b, "}");
        if (weir_json_member((char *)b.data, b.len, "k", 1, &m) != 1 || m.len != v.len || m.type != v.type)
            abort();
        weir_buf_free(&b);
    }
    weir_buf q = {0}; /* quoting any bytes gives valid JSON: invalid UTF-8 becomes U+FFFD */
    if (weir_json_quote(&q, p, size) == 0 && weir_json_validate((char *)q.data, q.len, NULL, NULL))
        abort();
    weir_buf_free(&q);
    int plain = 0, known = 0;
    weir_json_names names = {known_names, known_lens, 5};
    if (weir_json_members(p, size, count_member, &plain) != weir_json_members_known(p, size, &names, check_known, &known) ||
        plain != known)
        abort(); /* the known walk accepted something else, or other members */
    unsigned line, col;
    weir_json_position(p, size, &line, &col);
    return 0;
}
