/*
 * decode.c - JSON records to rows and back (see decode.h).
 */
#include "exec/decode.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"

typedef struct decoder {
    const weir_schema *schema;
    weir_arena *arena;
    weir_value *row;
    char *why;
    size_t cap;
    int next;                  /* the column after the last one matched: where the next member most likely goes */
    weir_decode_memo *memo;    /* or NULL */
    const uint32_t *lens;      /* the columns' name lengths (the memo's), or NULL */
    int escapes;               /* whether the string value at hand holds escapes, as the scanner found; -1: not known */
} decoder;

static bool is_integral(const weir_json_span *v)
{
    for (size_t i = 0; i < v->len; i++)
        if (v->p[i] == '.' || v->p[i] == 'e' || v->p[i] == 'E')
            return false;
    return true;
}

static int mismatch(decoder *d, const weir_column *c, const weir_json_span *v, const char *detail)
{
    snprintf(d->why, d->cap, "column %s: expected %s, found %s%s%.*s%s", c->name, weir_type_name(c->type),
             detail ? detail : weir_json_type_name(v->type), detail ? "" : " ", v->len > 40 ? 40 : (int)v->len, v->p,
             v->len > 40 ? "..." : "");
    return 1;
}

static bool two_digits(const char *p, int *out)
{
    if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
        return false;
    *out = (p[0] - '0') * 10 + (p[1] - '0');
    return true;
}

/* The seconds and milliseconds of s[0..n) when it has the form
 * YYYY-MM-DDTHH:MM:SS[.fff]Z from its 16th byte on (the minute before
 * that not checked), as one number of milliseconds; -1 otherwise. */
static int minute_offset(const char *s, size_t n)
{
    int sec, hi, lo;
    if ((n != 20 && n != 24) || s[16] != ':' || s[n - 1] != 'Z' || !two_digits(s + 17, &sec))
        return -1;
    if (n == 20)
        return sec * 1000;
    if (s[19] != '.' || !two_digits(s + 20, &hi) || s[22] < '0' || s[22] > '9')
        return -1;
    lo = s[22] - '0';
    return sec * 1000 + hi * 10 + lo;
}

/* s[0..n), a timestamp in the memo's minute and of its form: its instant
 * from the seconds alone. Checks what weir_timestamp_parse would of the
 * rest (the seconds at most 60, the instant in range), so that it answers
 * as that would, or false to leave it to that. */
static bool memo_timestamp(const weir_decode_memo *m, const char *s, size_t n, int64_t *ms)
{
    if (!m->minute_set || n < 20 || memcmp(s, m->minute, sizeof m->minute))
        return false;
    int off = minute_offset(s, n);
    if (off < 0 || off >= 61000 || m->minute_ms + off > WEIR_TIMESTAMP_MAX_MS)
        return false;
    *ms = m->minute_ms + off;
    return true;
}

/* After weir_timestamp_parse read s[0..n) as ms: its minute, for the
 * timestamps that follow, when it has the form the memo covers (with Z:
 * no offset, so the minute's start is ms less the seconds). */
static void memo_minute(weir_decode_memo *m, const char *s, size_t n, int64_t ms)
{
    int off = n >= 20 ? minute_offset(s, n) : -1;
    if (off < 0)
        return;
    memcpy(m->minute, s, sizeof m->minute);
    m->minute_ms = ms - off;
    m->minute_set = true;
}

/* Whether the string v holds escapes: as the scanner said, or looked for. */
static bool has_escapes(const decoder *d, const weir_json_span *v)
{
    return d->escapes >= 0 ? d->escapes : memchr(v->p, '\\', v->len) != NULL;
}

/* An ISO 8601 string, parsed where it lies unless escapes make it need
 * decoding first. */
static bool string_timestamp(const decoder *d, const weir_json_span *v, int64_t *ms)
{
    weir_decode_memo *m = d->memo;
    const char *s = v->p + 1;
    size_t n = v->len - 2;
    if (m && memo_timestamp(m, s, n, ms))
        return true;
    if (!has_escapes(d, v)) {
        if (!weir_timestamp_parse(s, n, ms))
            return false;
        if (m)
            memo_minute(m, s, n, *ms);
        return true;
    }
    weir_buf tmp = {0};
    bool okay = !weir_json_unescape(v->p, v->len, &tmp) && weir_timestamp_parse(tmp.data ? (char *)tmp.data : "", tmp.len, ms);
    weir_buf_free(&tmp);
    return okay;
}

static int convert(decoder *d, const weir_column *c, const weir_json_span *v, weir_value *out)
{
    char num[64];
    if (v->type == WEIR_JSON_NULL) {
        *out = weir_null(c->type);
        return 0;
    }
    switch (c->type) {
    case WEIR_TYPE_BOOL:
        if (v->type != WEIR_JSON_TRUE && v->type != WEIR_JSON_FALSE)
            return mismatch(d, c, v, NULL);
        *out = weir_bool(v->type == WEIR_JSON_TRUE);
        return 0;
    case WEIR_TYPE_INT:
    case WEIR_TYPE_UINT:
        if (v->type != WEIR_JSON_NUMBER || !is_integral(v) || v->len >= sizeof num)
            return mismatch(d, c, v, NULL);
        memcpy(num, v->p, v->len);
        num[v->len] = '\0';
        errno = 0;
        if (c->type == WEIR_TYPE_INT) {
            long long i = strtoll(num, NULL, 10);
            if (errno == ERANGE)
                return mismatch(d, c, v, "out-of-range number ");
            *out = weir_int(i);
        } else {
            if (num[0] == '-')
                return mismatch(d, c, v, "negative number ");
            unsigned long long u = strtoull(num, NULL, 10);
            if (errno == ERANGE)
                return mismatch(d, c, v, "out-of-range number ");
            *out = weir_uint(u);
        }
        return 0;
    case WEIR_TYPE_DOUBLE:
        if (v->type != WEIR_JSON_NUMBER || v->len >= sizeof num)
            return mismatch(d, c, v, NULL);
        memcpy(num, v->p, v->len);
        num[v->len] = '\0';
        *out = weir_double(strtod(num, NULL));
        if (!isfinite(out->d))
            return mismatch(d, c, v, "out-of-range number ");
        return 0;
    case WEIR_TYPE_TIMESTAMP:
        if (v->type == WEIR_JSON_STRING) {
            int64_t ms;
            if (!string_timestamp(d, v, &ms))
                return mismatch(d, c, v, "a string that is not ISO 8601 in the years 0000 to 9999: ");
            *out = weir_timestamp(ms);
            return 0;
        }
        if (v->type != WEIR_JSON_NUMBER || v->len >= sizeof num)
            return mismatch(d, c, v, NULL);
        memcpy(num, v->p, v->len);
        num[v->len] = '\0';
        int64_t ms;
        if (!weir_timestamp_from_epoch(strtod(num, NULL), &ms))
            return mismatch(d, c, v, "a number outside the years 0000 to 9999: ");
        *out = weir_timestamp(ms);
        return 0;
    case WEIR_TYPE_JSON:
        *out = weir_text(v->p, v->len);
        out->type = WEIR_TYPE_JSON;
        return 0;
    case WEIR_TYPE_TEXT:
        if (v->type == WEIR_JSON_STRING) {
            if (has_escapes(d, v)) {
                weir_buf tmp = {0};
                if (weir_json_unescape(v->p, v->len, &tmp)) {
                    weir_buf_free(&tmp);
                    return mismatch(d, c, v, "(out of memory) ");
                }
                char *s = weir_arena_strndup(d->arena, tmp.data ? (char *)tmp.data : "", tmp.len);
                *out = weir_text(s, tmp.len);
                weir_buf_free(&tmp);
                if (!s)
                    return mismatch(d, c, v, "(out of memory) ");
            } else {
                *out = weir_text(v->p + 1, v->len - 2);
            }
        } else {
            *out = weir_text(v->p, v->len); /* numbers, booleans, objects and arrays as JSON text */
        }
        return 0;
    default:
        return mismatch(d, c, v, NULL);
    }
}

/* Whether column name col is n[0..len), a member name that may hold any byte. */
static bool is_name(const char *col, const char *n, size_t len)
{
    size_t i = 0;
    while (i < len && col[i] && col[i] == n[i])
        i++;
    return i == len && !col[i];
}

/* The column named n[0..len), or -1. Members mostly come in the schema's
 * order, so the search starts after the last match: one comparison a
 * member, and no strlen of every column name, for such records. With the
 * names' lengths (a memo's) a column of another length costs one compare. */
static int find_column(decoder *d, const char *n, size_t len)
{
    const weir_schema *s = d->schema;
    for (int k = 0, i = d->next; k < s->ncols; k++, i = i + 1 < s->ncols ? i + 1 : 0)
        if (d->lens ? d->lens[i] == len && !memcmp(s->cols[i].name, n, len) : is_name(s->cols[i].name, n, len)) {
            d->next = i + 1 < s->ncols ? i + 1 : 0;
            return i;
        }
    return -1;
}

static int on_member(void *ctx, const char *name, size_t name_len, int escaped, const weir_json_span *v)
{
    decoder *d = ctx;
    if (!escaped) {
        int i = find_column(d, name + 1, name_len - 2);
        return i < 0 ? 0 : convert(d, &d->schema->cols[i], v, &d->row[i]);
    }
    weir_buf tmp = {0};
    if (weir_json_unescape(name, name_len, &tmp))
        return weir_buf_free(&tmp), 0;
    int i = find_column(d, tmp.data ? (const char *)tmp.data : "", tmp.len);
    weir_buf_free(&tmp);
    return i < 0 ? 0 : convert(d, &d->schema->cols[i], v, &d->row[i]);
}

/* A member whose name the scanner may have matched to column which. */
static int on_known(void *ctx, int which, const char *name, size_t name_len, int escaped, const weir_json_span *v,
                    int value_escaped)
{
    decoder *d = ctx;
    d->escapes = value_escaped;
    if (which < 0)
        return on_member(ctx, name, name_len, escaped, v);
    d->next = which + 1 < d->schema->ncols ? which + 1 : 0;
    return convert(d, &d->schema->cols[which], v, &d->row[which]);
}

/* Whether the scanner may match name byte for byte (json.h). */
static bool plain_name(const char *name, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)name[i] < 0x20 || (unsigned char)name[i] >= 0x80 || name[i] == '"' || name[i] == '\\')
            return false;
    return true;
}

static void names_free(weir_decode_names *e)
{
    free(e->lens);
    free(e->plain);
    *e = (weir_decode_names){0};
}

/* m's names for schema, measured once per schema m keeps (the last
 * WEIR_DECODE_MEMO_SCHEMAS seen); NULL when out of memory (names are then
 * compared byte by byte, as without a memo). */
static const weir_decode_names *memo_names(weir_decode_memo *m, const weir_schema *schema)
{
    for (int i = 0; i < WEIR_DECODE_MEMO_SCHEMAS; i++) {
        const weir_decode_names *e = &m->names[i];
        if (e->schema == schema && e->cols == schema->cols && e->ncols == schema->ncols)
            return e;
    }
    weir_decode_names *e = &m->names[m->replace];
    m->replace = (m->replace + 1) % WEIR_DECODE_MEMO_SCHEMAS;
    names_free(e);
    size_t n = (size_t)(schema->ncols ? schema->ncols : 1);
    e->lens = malloc(n * sizeof *e->lens);
    e->plain = malloc(n * sizeof *e->plain);
    if (!e->lens || !e->plain) {
        names_free(e);
        return NULL;
    }
    for (int i = 0; i < schema->ncols; i++) {
        e->lens[i] = (uint32_t)strlen(schema->cols[i].name);
        e->plain[i] = plain_name(schema->cols[i].name, e->lens[i]) ? schema->cols[i].name : NULL;
    }
    e->schema = schema;
    e->cols = schema->cols;
    e->ncols = schema->ncols;
    return e;
}

void weir_decode_memo_free(weir_decode_memo *m)
{
    for (int i = 0; i < WEIR_DECODE_MEMO_SCHEMAS; i++)
        names_free(&m->names[i]);
    *m = (weir_decode_memo){0};
}

int weir_decode_json(const weir_schema *schema, const char *json, size_t len, weir_arena *arena,
                     weir_value *row, char *why, size_t cap)
{
    return weir_decode_json_memo(NULL, schema, json, len, arena, row, why, cap);
}

int weir_decode_json_memo(weir_decode_memo *m, const weir_schema *schema, const char *json, size_t len,
                          weir_arena *arena, weir_value *row, char *why, size_t cap)
{
    for (int i = 0; i < schema->ncols; i++)
        row[i] = weir_null(schema->cols[i].type);
    const weir_decode_names *names = m ? memo_names(m, schema) : NULL;
    bool named = names != NULL;
    decoder d = {schema, arena, row, why, cap, 0, m, named ? names->lens : NULL, -1};
    weir_json_names known = {named ? names->plain : NULL, d.lens, schema->ncols};
    int rc = named ? weir_json_members_known(json, len, &known, on_known, &d) : weir_json_members(json, len, on_member, &d);
    if (rc < 0) {
        weir_json_error e;
        if (weir_json_validate(json, len, NULL, &e) != 0)
            snprintf(why, cap, "not JSON: %s at byte %zu", e.msg, e.offset);
        else
            snprintf(why, cap, "not a JSON object");
        return -1;
    }
    return rc ? -1 : 0;
}

int weir_decode_table_key(const weir_relation *table, const char *key, size_t len, weir_arena *arena,
                          weir_value *row, char *why, size_t cap)
{
    if (table->npk > 1)
        return weir_decode_json(&table->schema, key, len, arena, row, why, cap);
    if (table->npk == 0 || !key) {
        snprintf(why, cap, "no key names the row");
        return -1;
    }
    /* One column: its text, which as a JSON member value is a string for
     * TEXT and the value itself for the rest. */
    const weir_column *c = &table->schema.cols[table->pk[0]];
    weir_buf obj = {0};
    /* ingest keys a record by a string's text: a TIMESTAMP written as one (not epoch ms) is quoted back */
    size_t digits = 0;
    while (digits < len && (key[digits] == '-' || (key[digits] >= '0' && key[digits] <= '9')))
        digits++;
    bool text = c->type == WEIR_TYPE_TEXT || (c->type == WEIR_TYPE_TIMESTAMP && digits < len);
    int rc = weir_buf_append(&obj, "{", 1) || weir_json_quote(&obj, c->name, strlen(c->name)) ||
             weir_buf_append(&obj, ":", 1) || (text ? weir_json_quote(&obj, key, len) : weir_buf_append(&obj, key, len)) ||
             weir_buf_append(&obj, "}", 1);
    if (rc)
        snprintf(why, cap, "out of memory");
    else if ((rc = weir_decode_json(&table->schema, (const char *)obj.data, obj.len, arena, row, why, cap)) == 0 &&
             row[table->pk[0]].type == WEIR_TYPE_TEXT && !row[table->pk[0]].is_null) {
        /* its text points into obj, which goes: copy it to the arena */
        char *copy = weir_arena_alloc(arena, row[table->pk[0]].len + 1);
        if (!copy) {
            snprintf(why, cap, "out of memory");
            rc = -1;
        } else {
            memcpy(copy, row[table->pk[0]].s, row[table->pk[0]].len);
            row[table->pk[0]].s = copy;
        }
    }
    weir_buf_free(&obj);
    return rc ? -1 : 0;
}

int weir_table_key_json(const weir_relation *table, const char *key, size_t len, weir_buf *out)
{
    weir_arena arena = {0};
    weir_value *row = malloc((size_t)table->schema.ncols * sizeof *row);
    char why[160];
    int rc = row ? 0 : -1;
    if (!rc && weir_decode_table_key(table, key, len, &arena, row, why, sizeof why) == 0)
        rc = weir_encode_json_cols(&table->schema, row, table->pk, table->npk, out);
    else if (!rc)
        rc = key ? weir_json_quote(out, key, len) : weir_buf_append_str(out, "null");
    weir_arena_free(&arena);
    free(row);
    return rc ? -1 : 0;
}

int weir_encode_json_cols(const weir_schema *schema, const weir_value *row, const int *cols, int n, weir_buf *out)
{
    if (weir_buf_append(out, "{", 1))
        return -1;
    for (int k = 0; k < n; k++) {
        const char *name = schema->cols[cols ? cols[k] : k].name;
        size_t len = strlen(name);
        if (weir_buf_reserve(out, 1)) /* the comma in place, */
            return -1;
        if (k)
            out->data[out->len++] = ',';
        /* and the colon: a name that needs escapes grows out as it needs */
        if (weir_json_quote(out, name, len) || weir_buf_reserve(out, 1))
            return -1;
        out->data[out->len++] = ':';
        if (weir_value_to_json(out, &row[cols ? cols[k] : k]))
            return -1;
    }
    return weir_buf_append(out, "}", 1) ? -1 : 0;
}

int weir_encode_json(const weir_schema *schema, const weir_value *row, weir_buf *out)
{
    return weir_encode_json_cols(schema, row, NULL, schema->ncols, out);
}
