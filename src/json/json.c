/*
 * json.c - the validating JSON scanner (see json.h).
 *
 * Recursive descent over the raw bytes with an explicit depth bound; every
 * function takes the scanner, advances s->p, and returns 0 or -1 after
 * recording the first error. Member lookup uses the same scanning
 * functions to skip values, so it is as strict (and as safe on hostile
 * input) as validation. Fuzzed by fuzz/fuzz_json.c.
 */
#include "json/json.h"

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/hash.h"

typedef struct scanner {
    const char *start, *p, *end;
    int depth;
    weir_json_error *e;
    bool escaped;              /* the last value scanned was a string holding escapes */
} scanner;

static int fail(scanner *s, const char *what)
{
    if (s->e) {
        s->e->offset = (size_t)(s->p - s->start);
        if (s->p >= s->end)
            snprintf(s->e->msg, sizeof s->e->msg, "%s, found end of input", what);
        else if ((unsigned char)*s->p >= 0x20 && (unsigned char)*s->p < 0x7f)
            snprintf(s->e->msg, sizeof s->e->msg, "%s, found '%c'", what, *s->p);
        else
            snprintf(s->e->msg, sizeof s->e->msg, "%s, found byte 0x%02x", what, (unsigned char)*s->p);
    }
    return -1;
}

/* Every whitespace byte is at most ' ': one compare passes the rest, and
 * compact records have no whitespace at all. */
static inline void skip_ws(scanner *s)
{
    while (s->p < s->end && (unsigned char)*s->p <= ' ' &&
           (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

/* Length of the UTF-8 sequence starting at p (up to end), or 0 if invalid
 * (overlong forms, surrogates and code points past U+10FFFF included). */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n;
    unsigned min;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) { n = 2; min = 0x80; }
    else if (c >= 0xe0 && c <= 0xef) { n = 3; min = 0x800; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 4; min = 0x10000; }
    else return 0;
    if ((size_t)(end - p) < n)
        return 0;
    unsigned cp = c & (0x3f >> (n - 1));
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

/* s->p is at the opening quote. Sets *escaped if the string has escapes. */
/* How many of the 8 bytes at p come before the first that ends or
 * complicates a string ('"', '\\', a control character, a byte >= 0x80):
 * 8 if none does. SWAR: each test sets a byte's high bit when the byte
 * matches; a borrow can also set it in a later byte, but only after a true
 * match, so the first flagged byte (read little-endian) is exact. */
static inline unsigned plain_run8(const char *p)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t x;
    memcpy(&x, p, 8);
    x = le64toh(x);
    uint64_t quote = x ^ (ones * '"'), backslash = x ^ (ones * '\\');
    uint64_t hits = (((x - ones * 0x20) & ~x) | ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash) | x) & highs;
    return hits ? (unsigned)__builtin_ctzll(hits) / 8 : 8;
}

static int scan_string(scanner *s, bool *escaped)
{
    s->p++;
    *escaped = false;
    for (;;) {
        /* The common case: a run of plain ASCII, 8 bytes at a time, up to
         * the byte that ends it (the closing quote, mostly). */
        unsigned run = 8;
        while (run == 8 && s->end - s->p >= 8) {
            run = plain_run8(s->p);
            s->p += run;
        }
        while (run == 8 && s->p < s->end) {
            unsigned char c = (unsigned char)*s->p;
            if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80)
                break;
            s->p++;
        }
        if (s->p >= s->end)
            return fail(s, "unterminated string: expected '\"'");
        unsigned char c = (unsigned char)*s->p;
        if (c == '"') {
            s->p++;
            return 0;
        }
        if (c < 0x20)
            return fail(s, "control character in string (escape it)");
        if (c == '\\') {
            *escaped = true;
            if (s->end - s->p < 2)
                return fail(s, "unterminated escape");
            char x = s->p[1];
            if (x == 'u') {
                unsigned cp;
                if (s->end - s->p < 6 || hex4(s->p + 2, &cp) != 0)
                    return fail(s, "bad \\u escape: expected 4 hex digits");
                s->p += 6;
            } else if (strchr("\"\\/bfnrt", x) && x) {
                s->p += 2;
            } else {
                s->p++;
                return fail(s, "bad escape: expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u");
            }
            continue;
        }
        size_t n = utf8_len((const unsigned char *)s->p, (const unsigned char *)s->end);
        if (n == 0)
            return fail(s, "invalid UTF-8 in string");
        s->p += n;
    }
}

static inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

static int scan_number(scanner *s)
{
    if (s->p < s->end && *s->p == '-')
        s->p++;
    if (s->p >= s->end || !is_digit(*s->p))
        return fail(s, "expected a digit");
    if (*s->p == '0') {
        s->p++;
        if (s->p < s->end && is_digit(*s->p))
            return fail(s, "leading zero in number");
    } else {
        while (s->p < s->end && is_digit(*s->p))
            s->p++;
    }
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (s->p >= s->end || !is_digit(*s->p))
            return fail(s, "expected a digit after '.'");
        while (s->p < s->end && is_digit(*s->p))
            s->p++;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (s->p >= s->end || !is_digit(*s->p))
            return fail(s, "expected a digit in exponent");
        while (s->p < s->end && is_digit(*s->p))
            s->p++;
    }
    return 0;
}

static int scan_literal(scanner *s, const char *word, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return fail(s, "expected a value (object, array, string, number, true, false or null)");
    s->p += n;
    return 0;
}

static int scan_value(scanner *s, weir_json_span *out);

/* Calls visit(ctx, element span) for each element (when visit is not
 * NULL); a non-zero return from visit stops the walk and is returned. */
static int scan_array(scanner *s, weir_json_element_fn visit, void *ctx)
{
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == ']') {
        s->p++;
        return 0;
    }
    for (;;) {
        weir_json_span v;
        if (scan_value(s, &v))
            return -1;
        if (visit) {
            int r = visit(ctx, &v);
            if (r)
                return r;
        }
        skip_ws(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            continue;
        }
        if (s->p < s->end && *s->p == ']') {
            s->p++;
            return 0;
        }
        return fail(s, "expected ',' or ']' in array");
    }
}

/* Calls visit(ctx, name span, value span) for each member; a non-zero
 * return from visit stops the walk and is returned. */
typedef weir_json_member_fn member_fn;

/* A walk with names known in advance (weir_json_members_known). */
typedef struct known_walk {
    const weir_json_names *names;
    weir_json_known_fn fn;
    int next;                  /* the name predicted for the next member */
} known_walk;

/* The predicted name of k, if the member name at s->p (its opening quote)
 * is that, byte for byte: its index, s->p past the closing quote; else
 * -1, s->p unmoved. The name is plain (json.h), so the bytes matched are
 * exactly a string scan_string accepts without escapes. */
static inline int known_name(scanner *s, known_walk *k)
{
    int i = k->next;
    if (i >= k->names->n)
        return -1;
    if (!k->names->names[i]) { /* never matched here: predict the one after it for the next member */
        k->next = i + 1 < k->names->n ? i + 1 : 0;
        return -1;
    }
    size_t len = k->names->lens[i];
    if ((size_t)(s->end - s->p) < len + 2 || s->p[len + 1] != '"' || memcmp(s->p + 1, k->names->names[i], len))
        return -1;
    s->p += len + 2;
    k->next = i + 1 < k->names->n ? i + 1 : 0;
    return i;
}

/* visit, or k's fn when k is not NULL. */
static int scan_object(scanner *s, member_fn visit, void *ctx, known_walk *k)
{
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return 0;
    }
    for (;;) {
        skip_ws(s);
        if (s->p >= s->end || *s->p != '"')
            return fail(s, "expected a member name in quotes");
        const char *name = s->p;
        bool escaped = false;
        int which = k ? known_name(s, k) : -1;
        if (which < 0 && scan_string(s, &escaped))
            return -1;
        size_t name_len = (size_t)(s->p - name);
        skip_ws(s);
        if (s->p >= s->end || *s->p != ':')
            return fail(s, "expected ':' after member name");
        s->p++;
        weir_json_span v;
        if (scan_value(s, &v))
            return -1;
        if (k || visit) {
            int r = k ? k->fn(ctx, which, name, name_len, escaped, &v, s->escaped)
                      : visit(ctx, name, name_len, escaped, &v);
            if (r)
                return r;
        }
        skip_ws(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            continue;
        }
        if (s->p < s->end && *s->p == '}') {
            s->p++;
            return 0;
        }
        return fail(s, "expected ',' or '}' in object");
    }
}

static int scan_value(scanner *s, weir_json_span *out)
{
    skip_ws(s);
    if (s->p >= s->end)
        return fail(s, "expected a value");
    const char *begin = s->p;
    weir_json_type t;
    int rc;
    bool escaped = false;
    switch (*s->p) {
    case '{':
    case '[':
        if (++s->depth > WEIR_JSON_MAX_DEPTH)
            return fail(s, "nesting too deep");
        t = *s->p == '{' ? WEIR_JSON_OBJECT : WEIR_JSON_ARRAY;
        rc = t == WEIR_JSON_OBJECT ? scan_object(s, NULL, NULL, NULL) : scan_array(s, NULL, NULL);
        s->depth--;
        break;
    case '"': t = WEIR_JSON_STRING; rc = scan_string(s, &escaped); break;
    case 't': t = WEIR_JSON_TRUE; rc = scan_literal(s, "true", 4); break;
    case 'f': t = WEIR_JSON_FALSE; rc = scan_literal(s, "false", 5); break;
    case 'n': t = WEIR_JSON_NULL; rc = scan_literal(s, "null", 4); break;
    default:
        if (*s->p == '-' || is_digit(*s->p)) {
            t = WEIR_JSON_NUMBER;
            rc = scan_number(s);
        } else {
            return fail(s, "expected a value (object, array, string, number, true, false or null)");
        }
    }
    if (rc == 0 && out)
        *out = (weir_json_span){t, begin, (size_t)(s->p - begin)};
    s->escaped = t == WEIR_JSON_STRING && escaped;
    return rc;
}

int weir_json_validate(const char *p, size_t n, weir_json_span *out, weir_json_error *e)
{
    scanner s = {p, p, p + n, 0, e, false};
    if (scan_value(&s, out))
        return WEIR_EINVAL;
    skip_ws(&s);
    if (s.p != s.end)
        return fail(&s, "expected end of input after the value"), WEIR_EINVAL;
    return 0;
}

struct find_ctx {
    const char *name;
    size_t name_len;
    weir_json_span *out;
    weir_buf tmp;
};

static int match_member(void *ctx, const char *name, size_t name_len, int escaped,
                        const weir_json_span *value)
{
    struct find_ctx *f = ctx;
    bool match;
    if (!escaped) {
        match = name_len - 2 == f->name_len && memcmp(name + 1, f->name, f->name_len) == 0;
    } else {
        f->tmp.len = 0;
        match = weir_json_unescape(name, name_len, &f->tmp) == 0 && f->tmp.len == f->name_len &&
                memcmp(f->tmp.data, f->name, f->name_len) == 0;
    }
    if (match) {
        *f->out = *value;
        return 1;
    }
    return 0;
}

int weir_json_members(const char *p, size_t n, weir_json_member_fn fn, void *ctx)
{
    scanner s = {p, p, p + n, 1, NULL, false};
    skip_ws(&s);
    if (s.p >= s.end || *s.p != '{')
        return -WEIR_EINVAL;
    int rc = scan_object(&s, fn, ctx, NULL);
    return rc < 0 ? -WEIR_EINVAL : rc;
}

int weir_json_members_known(const char *p, size_t n, const weir_json_names *known, weir_json_known_fn fn, void *ctx)
{
    scanner s = {p, p, p + n, 1, NULL, false};
    skip_ws(&s);
    if (s.p >= s.end || *s.p != '{')
        return -WEIR_EINVAL;
    known_walk k = {known, fn, 0};
    int rc = scan_object(&s, NULL, ctx, &k);
    return rc < 0 ? -WEIR_EINVAL : rc;
}

int weir_json_elements(const char *p, size_t n, weir_json_element_fn fn, void *ctx)
{
    scanner s = {p, p, p + n, 1, NULL, false};
    skip_ws(&s);
    if (s.p >= s.end || *s.p != '[')
        return -WEIR_EINVAL;
    int rc = scan_array(&s, fn, ctx);
    return rc < 0 ? -WEIR_EINVAL : rc;
}

int weir_json_member(const char *p, size_t n, const char *name, size_t name_len, weir_json_span *out)
{
    scanner s = {p, p, p + n, 0, NULL, false};
    skip_ws(&s);
    if (s.p >= s.end || *s.p != '{')
        return -WEIR_EINVAL;
    struct find_ctx f = {name, name_len, out, {0}};
    s.depth = 1;
    int rc = scan_object(&s, match_member, &f, NULL);
    weir_buf_free(&f.tmp);
    if (rc < 0)
        return -WEIR_EINVAL;
    return rc; /* 1 if match_member stopped the walk */
}

static int put_utf8(weir_buf *out, unsigned cp)
{
    uint8_t b[4];
    size_t n;
    if (cp < 0x80) { b[0] = (uint8_t)cp; n = 1; }
    else if (cp < 0x800) { b[0] = (uint8_t)(0xc0 | cp >> 6); b[1] = (uint8_t)(0x80 | (cp & 0x3f)); n = 2; }
    else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xe0 | cp >> 12); b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (uint8_t)(0x80 | (cp & 0x3f)); n = 3;
    } else {
        b[0] = (uint8_t)(0xf0 | cp >> 18); b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f)); b[3] = (uint8_t)(0x80 | (cp & 0x3f)); n = 4;
    }
    return weir_buf_append(out, b, n);
}

int weir_json_unescape(const char *p, size_t len, weir_buf *out)
{
    const char *end = p + len - 1; /* at the closing quote */
    p++;
    while (p < end) {
        const char *run = p;
        while (p < end && *p != '\\')
            p++;
        if (weir_buf_append(out, run, (size_t)(p - run)))
            return WEIR_ENOMEM;
        if (p >= end)
            break;
        char x = p[1];
        int rc = 0;
        if (x == 'u') {
            unsigned cp = 0, lo;
            hex4(p + 2, &cp);
            p += 6;
            if (cp >= 0xd800 && cp <= 0xdbff && end - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
                hex4(p + 2, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                p += 6;
            } else if (cp >= 0xd800 && cp <= 0xdfff) {
                cp = 0xfffd;
            }
            rc = put_utf8(out, cp);
        } else {
            char c = x == 'b' ? '\b' : x == 'f' ? '\f' : x == 'n' ? '\n' : x == 'r' ? '\r' : x == 't' ? '\t' : x;
            rc = weir_buf_append(out, &c, 1);
            p += 2;
        }
        if (rc)
            return WEIR_ENOMEM;
    }
    return 0;
}

/* Copies runs of bytes that need nothing (printable ASCII, valid UTF-8
 * sequences) in one append each; escapes the rest. Invalid UTF-8 becomes
 * U+FFFD, one per bad byte, so what weir writes is always JSON even when
 * it quotes bytes it did not check (error messages that echo input,
 * dead-letter reasons, keys). */
int weir_json_quote(weir_buf *out, const char *s, size_t n)
{
    if (weir_buf_reserve(out, n + 2))
        return WEIR_ENOMEM;
    /* The common case, plain ASCII throughout, found 8 bytes at a time
     * and copied at once. */
    size_t i = 0;
    for (unsigned run = 8; run == 8 && n - i >= 8; i += run)
        run = plain_run8(s + i);
    while (i < n && (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x80 && s[i] != '"' && s[i] != '\\')
        i++;
    if (i == n) {
        uint8_t *d = out->data + out->len;
        d[0] = '"';
        if (n)
            memcpy(d + 1, s, n);
        d[n + 1] = '"';
        out->len += n + 2;
        return 0;
    }
    if (weir_buf_append(out, "\"", 1))
        return WEIR_ENOMEM;
    const unsigned char *u = (const unsigned char *)s;
    size_t run = 0;
    for (; i < n; i++) {
        unsigned char c = u[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\')
            continue;
        size_t seq = c >= 0x80 ? utf8_len(u + i, u + n) : 0;
        if (seq) {
            i += seq - 1;
            continue;
        }
        if (weir_buf_append(out, s + run, i - run))
            return WEIR_ENOMEM;
        char esc[8];
        if (c >= 0x80)
            snprintf(esc, sizeof esc, "\xef\xbf\xbd");
        else if (c == '"' || c == '\\')
            snprintf(esc, sizeof esc, "\\%c", c);
        else if (c == '\n')
            snprintf(esc, sizeof esc, "\\n");
        else if (c == '\t')
            snprintf(esc, sizeof esc, "\\t");
        else if (c == '\r')
            snprintf(esc, sizeof esc, "\\r");
        else
            snprintf(esc, sizeof esc, "\\u%04x", c);
        if (weir_buf_append_str(out, esc))
            return WEIR_ENOMEM;
        run = i + 1;
    }
    if (weir_buf_append(out, s + run, n - run) || weir_buf_append(out, "\"", 1))
        return WEIR_ENOMEM;
    return 0;
}

void weir_json_position(const char *text, size_t offset, unsigned *line, unsigned *column)
{
    unsigned l = 1, c = 1;
    for (size_t i = 0; i < offset; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *column = c;
}

const char *weir_json_type_name(weir_json_type t)
{
    static const char *const names[] = {"null", "false", "true", "number", "string", "array", "object"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

int weir_json_key_text(const char *json, size_t len, const char *fields, weir_buf *out, bool *found)
{
    *found = false;
    out->len = 0;
    for (const char *f = fields; f && *f;) {
        size_t n = strcspn(f, ",");
        weir_json_span k;
        bool here = weir_json_member(json, len, f, n, &k) == 1 && k.type != WEIR_JSON_NULL;
        int rc = f != fields && weir_buf_append(out, "|", 1);
        if (!rc && here)
            rc = k.type == WEIR_JSON_STRING ? weir_json_unescape(k.p, k.len, out) : weir_buf_append(out, k.p, k.len);
        if (rc)
            return WEIR_ENOMEM;
        *found |= here;
        f += n + (f[n] == ',');
    }
    return 0;
}

int weir_json_key_partition(const char *json, size_t len, const char *fields, uint32_t n, weir_buf *key, bool *found,
                            uint32_t *partition)
{
    if (weir_json_key_text(json, len, fields, key, found))
        return WEIR_ENOMEM;
    *partition = *found ? weir_partition_for_key(key->data, key->len, n) : weir_partition_for_no_key(n);
    return 0;
}
