/*
 * value.c - comparing, hashing, printing and parsing values.
 */
#include "sql/value.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json/json.h"

const char *weir_type_name(weir_type t)
{
    static const char *const names[] = {"NULL", "BOOL", "INT", "UINT", "DOUBLE", "TEXT", "TIMESTAMP", "JSON"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

const char *weir_value_error_name(weir_value_error e)
{
    switch (e) {
    case WEIR_VERR_OVERFLOW: return "integer overflow";
    case WEIR_VERR_DIV_ZERO: return "division by zero";
    case WEIR_VERR_CAST: return "value cannot be converted";
    default: return "no error";
    }
}

bool weir_type_parse(const char *name, size_t len, weir_type *out)
{
    static const struct { const char *name; weir_type t; } names[] = {
        {"BOOL", WEIR_TYPE_BOOL}, {"BOOLEAN", WEIR_TYPE_BOOL},
        {"INT", WEIR_TYPE_INT}, {"INTEGER", WEIR_TYPE_INT}, {"BIGINT", WEIR_TYPE_INT}, {"INT64", WEIR_TYPE_INT},
        {"UINT", WEIR_TYPE_UINT}, {"UINT64", WEIR_TYPE_UINT},
        {"DOUBLE", WEIR_TYPE_DOUBLE}, {"FLOAT", WEIR_TYPE_DOUBLE}, {"REAL", WEIR_TYPE_DOUBLE},
        {"TEXT", WEIR_TYPE_TEXT}, {"STRING", WEIR_TYPE_TEXT}, {"VARCHAR", WEIR_TYPE_TEXT},
        {"TIMESTAMP", WEIR_TYPE_TIMESTAMP}, {"JSON", WEIR_TYPE_JSON},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i].name) == len && strncasecmp(names[i].name, name, len) == 0) {
            *out = names[i].t;
            return true;
        }
    return false;
}

static bool is_number(const weir_value *v)
{
    return v->type == WEIR_TYPE_INT || v->type == WEIR_TYPE_UINT || v->type == WEIR_TYPE_DOUBLE;
}

/* Compares two non-null numbers of any numeric types exactly. */
static int cmp_numbers(const weir_value *a, const weir_value *b)
{
    if (a->type == WEIR_TYPE_DOUBLE || b->type == WEIR_TYPE_DOUBLE) {
        double x = a->type == WEIR_TYPE_DOUBLE ? a->d : a->type == WEIR_TYPE_INT ? (double)a->i : (double)a->u;
        double y = b->type == WEIR_TYPE_DOUBLE ? b->d : b->type == WEIR_TYPE_INT ? (double)b->i : (double)b->u;
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a->type == WEIR_TYPE_INT && b->type == WEIR_TYPE_INT)
        return a->i < b->i ? -1 : a->i > b->i;
    if (a->type == WEIR_TYPE_UINT && b->type == WEIR_TYPE_UINT)
        return a->u < b->u ? -1 : a->u > b->u;
    if (a->type == WEIR_TYPE_INT) /* INT vs UINT */
        return a->i < 0 ? -1 : (uint64_t)a->i < b->u ? -1 : (uint64_t)a->i > b->u;
    return b->i < 0 ? 1 : a->u < (uint64_t)b->i ? -1 : a->u > (uint64_t)b->i;
}

int weir_value_cmp(const weir_value *a, const weir_value *b)
{
    if (a->type == b->type && !a->is_null && !b->is_null) { /* the common case first: sorting keys */
        if (a->type == WEIR_TYPE_INT || a->type == WEIR_TYPE_TIMESTAMP)
            return (a->i > b->i) - (a->i < b->i);
        if (a->type == WEIR_TYPE_UINT)
            return (a->u > b->u) - (a->u < b->u);
    }
    if (a->is_null || b->is_null)
        return (int)!a->is_null - (int)!b->is_null;
    if (is_number(a) && is_number(b))
        return cmp_numbers(a, b);
    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    switch (a->type) {
    case WEIR_TYPE_BOOL: return (int)a->b - (int)b->b;
    case WEIR_TYPE_TIMESTAMP: return a->i < b->i ? -1 : a->i > b->i;
    case WEIR_TYPE_JSON:
    case WEIR_TYPE_TEXT: {
        int c = memcmp(a->s, b->s, a->len < b->len ? a->len : b->len);
        return c ? (c < 0 ? -1 : 1) : (a->len < b->len ? -1 : a->len > b->len);
    }
    default: return 0;
    }
}

bool weir_value_same(const weir_value *a, const weir_value *b)
{
    if (a->is_null || b->is_null)
        return a->is_null && b->is_null;
    return weir_value_cmp(a, b) == 0;
}

/* 64-bit mixing (a splitmix64 finaliser) over the value's canonical bits, so
 * equal values of different numeric types hash alike when they are equal. */
static uint64_t mix(uint64_t h)
{
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    return h ^ (h >> 31);
}

uint64_t weir_value_hash(const weir_value *v, uint64_t seed)
{
    uint64_t h = seed ^ 0x9e3779b97f4a7c15ull;
    if (v->is_null)
        return mix(h ^ 0xabcdef);
    switch (v->type) {
    case WEIR_TYPE_BOOL: return mix(h ^ (uint64_t)v->b ^ 0x100);
    case WEIR_TYPE_INT: return mix(h ^ (uint64_t)v->i);
    case WEIR_TYPE_UINT: return mix(h ^ v->u);
    case WEIR_TYPE_TIMESTAMP: return mix(h ^ (uint64_t)v->i ^ 0x200);
    case WEIR_TYPE_DOUBLE: {
        if (v->d == floor(v->d) && fabs(v->d) < 9.2e18) /* hash like the equal integer */
            return mix(h ^ (uint64_t)(int64_t)v->d);
        uint64_t bits;
        memcpy(&bits, &v->d, 8);
        return mix(h ^ bits);
    }
    case WEIR_TYPE_JSON:
    case WEIR_TYPE_TEXT: {
        for (uint32_t i = 0; i < v->len; i++)
            h = (h ^ (unsigned char)v->s[i]) * 0x100000001b3ull;
        return mix(h ^ v->len);
    }
    default: return mix(h);
    }
}

int weir_format_double(double d, char *out, size_t cap)
{
    if (d == floor(d) && fabs(d) < 1e15)
        return snprintf(out, cap, "%.1f", d);
    int n = 0;
    for (int precision = 15; precision <= 17; precision++) {
        n = snprintf(out, cap, "%.*g", precision, d);
        if (strtod(out, NULL) == d)
            break;
    }
    return n;
}

static int put_int(weir_buf *out, int64_t v)
{
    return v < 0 ? weir_buf_append(out, "-", 1) || weir_buf_append_uint(out, (uint64_t)0 - (uint64_t)v)
                 : weir_buf_append_uint(out, (uint64_t)v);
}

int weir_value_to_json(weir_buf *out, const weir_value *v)
{
    if (v->is_null)
        return weir_buf_append_str(out, "null");
    switch (v->type) {
    case WEIR_TYPE_BOOL: return weir_buf_append_str(out, v->b ? "true" : "false");
    case WEIR_TYPE_INT: return put_int(out, v->i);
    case WEIR_TYPE_UINT: return weir_buf_append_uint(out, v->u);
    case WEIR_TYPE_DOUBLE: {
        if (!isfinite(v->d))
            return weir_buf_append_str(out, "null");
        char num[40];
        int n = weir_format_double(v->d, num, sizeof num);
        return weir_buf_append(out, num, (size_t)n);
    }
    case WEIR_TYPE_TEXT: return weir_json_quote(out, v->s, v->len);
    case WEIR_TYPE_JSON: return weir_buf_append(out, v->s, v->len);
    case WEIR_TYPE_TIMESTAMP: {
        char ts[40];
        int n = weir_timestamp_format(v->i, ts, sizeof ts);
        return weir_buf_append(out, "\"", 1) || weir_buf_append(out, ts, (size_t)n) || weir_buf_append(out, "\"", 1);
    }
    default: return weir_buf_append_str(out, "null");
    }
}

int64_t weir_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void weir_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool digits(const char *s, size_t n, size_t at, size_t count, int *out)
{
    if (at + count > n)
        return false;
    int v = 0;
    for (size_t i = 0; i < count; i++) {
        char c = s[at + i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return true;
}

bool weir_timestamp_parse(const char *s, size_t n, int64_t *ms)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (!digits(s, n, 0, 4, &y) || n < 10 || s[4] != '-' || !digits(s, n, 5, 2, &mo) || s[7] != '-' ||
        !digits(s, n, 8, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > 31)
        return false;
    size_t p = 10;
    int64_t frac_ms = 0, offset_min = 0;
    if (p < n && (s[p] == 'T' || s[p] == 't' || s[p] == ' ')) {
        if (!digits(s, n, p + 1, 2, &h) || p + 3 >= n || s[p + 3] != ':' || !digits(s, n, p + 4, 2, &mi))
            return false;
        p += 6;
        if (p < n && s[p] == ':') {
            if (!digits(s, n, p + 1, 2, &sec))
                return false;
            p += 3;
            if (p < n && (s[p] == '.' || s[p] == ',')) {
                p++;
                int scale = 100, count = 0;
                while (p < n && s[p] >= '0' && s[p] <= '9') {
                    frac_ms += (s[p] - '0') * scale;
                    scale /= 10;
                    p++;
                    count++;
                }
                if (count == 0)
                    return false;
            }
        }
        if (h > 23 || mi > 59 || sec > 60)
            return false;
        if (p < n && (s[p] == 'Z' || s[p] == 'z')) {
            p++;
        } else if (p < n && (s[p] == '+' || s[p] == '-')) {
            int oh, om = 0;
            if (!digits(s, n, p + 1, 2, &oh))
                return false;
            size_t q = p + 3;
            if (q < n && s[q] == ':')
                q++;
            if (q < n && !digits(s, n, q, 2, &om))
                return false;
            if (q < n)
                q += 2;
            if (oh > 23 || om > 59)
                return false;
            offset_min = (s[p] == '-' ? -1 : 1) * (oh * 60 + om);
            p = q;
        }
    }
    if (p != n)
        return false;
    int64_t days = weir_days_from_civil(y, (unsigned)mo, (unsigned)d);
    /* Four-digit years and bounded fields keep this far from overflow; an
     * offset can still move the first or last day past the range. */
    int64_t t = ((days * 24 + h) * 60 + mi - offset_min) * 60000 + (int64_t)sec * 1000 + frac_ms;
    if (t < WEIR_TIMESTAMP_MIN_MS || t > WEIR_TIMESTAMP_MAX_MS)
        return false;
    *ms = t;
    return true;
}

bool weir_timestamp_from_epoch(double n, int64_t *ms)
{
    /* Compared as doubles before converting: llround of a value past
     * int64 (1e300) is undefined and gave year -292275055. */
    double t = round(fabs(n) < 1e11 ? n * 1000 : n);
    if (!(t >= (double)WEIR_TIMESTAMP_MIN_MS && t <= (double)WEIR_TIMESTAMP_MAX_MS))
        return false;
    *ms = (int64_t)t;
    return true;
}

int weir_timestamp_format(int64_t ms, char *out, size_t cap)
{
    int64_t days = ms / 86400000, rem = ms % 86400000; /* floored, without negating (INT64_MIN) */
    if (rem < 0) {
        days--;
        rem += 86400000;
    }
    int64_t y;
    unsigned m, d;
    weir_civil_from_days(days, &y, &m, &d);
    int h = (int)(rem / 3600000), mi = (int)(rem / 60000 % 60), s = (int)(rem / 1000 % 60), f = (int)(rem % 1000);
    if (y < 0 || y > 9999 || cap < 25) /* the common case below, digit by digit; the rest by printf */
        return f ? snprintf(out, cap, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", (long long)y, m, d, h, mi, s, f)
                 : snprintf(out, cap, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d, h, mi, s);
    const int fields[] = {(int)y / 100, (int)y % 100, (int)m, (int)d, h, mi, s};
    static const char seps[] = "\0\0--T::"; /* before each field: century, year, month, day, h, m, s */
    int n = 0;
    for (int i = 0; i < 7; i++) {
        if (seps[i])
            out[n++] = seps[i];
        out[n++] = (char)('0' + fields[i] / 10);
        out[n++] = (char)('0' + fields[i] % 10);
    }
    if (f) {
        out[n++] = '.';
        out[n++] = (char)('0' + f / 100);
        out[n++] = (char)('0' + f / 10 % 10);
        out[n++] = (char)('0' + f % 10);
    }
    out[n++] = 'Z';
    out[n] = '\0';
    return n;
}

size_t weir_row_bytes(const weir_value *row, int n)
{
    size_t bytes = (size_t)(n ? n : 1) * sizeof *row;
    for (int i = 0; i < n; i++)
        if (weir_type_has_text(row[i].type) && !row[i].is_null)
            bytes += row[i].len;
    return bytes;
}

weir_value *weir_row_pack(void *block, const weir_value *row, int n)
{
    weir_value *r = block;
    char *text = (char *)(r + (n ? n : 1));
    for (int i = 0; i < n; i++) {
        r[i] = row[i];
        if (weir_type_has_text(row[i].type) && !row[i].is_null) {
            memcpy(text, row[i].s, row[i].len);
            r[i].s = text;
            text += row[i].len;
        }
    }
    return r;
}
