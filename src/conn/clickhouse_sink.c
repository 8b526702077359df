/*
 * clickhouse_sink.c - CREATE SINK s FROM x WITH (connector = 'clickhouse',
 * table = 't' [, url = 'http://127.0.0.1:8123'] [, create = true]): rows into
 * ClickHouse over its HTTP interface (libcurl), exactly once.
 *
 * Each row carries two more columns, _weir_partition UInt32 and
 * _weir_offset UInt64: its place in the source stream. resume() asks the
 * table for max(_weir_offset) per partition, and each delivery is one
 * INSERT ... FORMAT JSONEachRow of at most 50,000 rows, which ClickHouse
 * applies whole or not at all; so after a crash or an outage the next
 * INSERT starts exactly after the last row the table has. With create =
 * true the table is made (MergeTree, ordered by those two columns) with the
 * stream's columns as Nullable ClickHouse types. Works with ClickHouse 18.16.
 *
 * No answer, or an error ClickHouse may get over (too many parts, memory,
 * a timeout), is RETRY; an error that the same request will always get
 * (the table or a column missing, a value that does not parse as its
 * column's type, authentication) is FATAL, with ClickHouse's message.
 */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "conn/sink.h"

typedef struct clickhouse_sink {
    char name[256];
    char url[1024];
    char table[256];
    bool create, created;
    const weir_schema *schema;
    CURL *curl;
    long status;               /* the HTTP status of the last request; 0 when ClickHouse did not answer */
    char why[CURL_ERROR_SIZE]; /* curl's words for the last request's failure (its error buffer) */
    weir_buf body, answer, query;
} clickhouse_sink;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void init_curl(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static size_t collect(char *p, size_t size, size_t n, void *ctx)
{
    return weir_buf_append(ctx, p, size * n) ? 0 : size * n;
}

/* POSTs body to url?query=... (the query URL-encoded); the answer in c->answer. */
static int post(clickhouse_sink *c, const char *query, const char *settings, const void *body, size_t len, weir_err *err)
{
    char *q = curl_easy_escape(c->curl, query, 0);
    c->query.len = 0;
    int rc = q ? weir_buf_printf(&c->query, "%s/?query=%s%s", c->url, q, settings ? settings : "") : WEIR_ENOMEM;
    curl_free(q);
    if (rc || weir_buf_append(&c->query, "", 1))
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    c->answer.len = 0;
    curl_easy_reset(c->curl);
    curl_easy_setopt(c->curl, CURLOPT_URL, (const char *)c->query.data);
    curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &c->answer);
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, 60000L);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    c->why[0] = '\0';
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->why);
    c->status = 0;
    CURLcode cc = curl_easy_perform(c->curl);
    if (cc != CURLE_OK) { /* curl's own words say "couldn't connect"; the system's say why (refused, unreachable) */
        long os = 0;
        curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &os);
        return weir_err_set(err, WEIR_EIO, "sink %s: clickhouse %s: %s%s%s%s", c->name, c->url,
                            c->why[0] ? c->why : curl_easy_strerror(cc), os ? " (" : "", os ? strerror((int)os) : "", os ? ")" : "");
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &c->status);
    if (weir_buf_append(&c->answer, "", 1))
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    if (c->status != 200) /* ClickHouse 18.16 answers errors as 500 with a text body */
        return weir_err_set(err, WEIR_EIO, "sink %s: clickhouse answered %ld: %.300s", c->name, c->status,
                            (const char *)c->answer.data);
    return WEIR_OK;
}

/* ClickHouse's error codes (its ErrorCodes.cpp) that retrying the same
 * request cannot cure: the table does not fit the rows, or weir may not
 * write it. */
static const int fatal_codes[] = {
    6, 26, 27, 38, 41, 53, 72, 117, /* a value does not parse as its column's type */
    8, 10, 16, 47, 60, 81,          /* a column, table or database is missing */
    62, 164,                        /* syntax error (a table name it cannot take), read-only */
    192, 193, 194, 195, 497, 516,   /* unknown user, wrong or missing password, address not allowed, access denied */
};

/* What post()'s rc means for retrying (see the top of the file). */
static weir_sink_result verdict(const clickhouse_sink *c, int rc)
{
    if (rc == WEIR_OK)
        return WEIR_SINK_OK;
    if (c->status >= 400 && c->status < 500) /* newer servers say 4xx for a request they will never take */
        return WEIR_SINK_FATAL;
    const char *code = c->status && c->answer.data ? strstr((const char *)c->answer.data, "Code: ") : NULL;
    if (code) {
        long n = strtol(code + 6, NULL, 10);
        for (size_t i = 0; i < sizeof fatal_codes / sizeof *fatal_codes; i++)
            if (n == fatal_codes[i])
                return WEIR_SINK_FATAL;
    }
    return WEIR_SINK_RETRY;
}

static const char *clickhouse_type(int t)
{
    switch (t) {
    case WEIR_TYPE_BOOL: return "UInt8";
    case WEIR_TYPE_INT: return "Int64";
    case WEIR_TYPE_UINT: return "UInt64";
    case WEIR_TYPE_DOUBLE: return "Float64";
    case WEIR_TYPE_TIMESTAMP: return "DateTime";
    default: return "String";
    }
}

static int create_table(clickhouse_sink *c, weir_err *err)
{
    weir_buf sql = {0};
    int rc = weir_buf_printf(&sql, "CREATE TABLE IF NOT EXISTS `%s` (", c->table);
    for (int i = 0; i < c->schema->ncols && !rc; i++)
        rc = weir_buf_printf(&sql, "`%s` Nullable(%s), ", c->schema->cols[i].name, clickhouse_type(c->schema->cols[i].type));
    rc = rc || weir_buf_append_str(&sql, "_weir_partition UInt32, _weir_offset UInt64) ENGINE = MergeTree "
                                         "ORDER BY (_weir_partition, _weir_offset)") ||
         weir_buf_append(&sql, "", 1);
    rc = rc ? weir_err_set(err, WEIR_ENOMEM, "out of memory") : post(c, (const char *)sql.data, NULL, NULL, 0, err);
    weir_buf_free(&sql);
    return rc;
}

static int clickhouse_open(const weir_sink_config *cfg, void **state, weir_err *err)
{
    pthread_once(&curl_once, init_curl);
    clickhouse_sink *c = calloc(1, sizeof *c);
    if (!c || !(c->curl = curl_easy_init())) {
        free(c);
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    }
    snprintf(c->name, sizeof c->name, "%s", cfg->decl->name);
    snprintf(c->url, sizeof c->url, "%s", weir_sink_text(cfg, "url"));
    size_t n = strlen(c->url);
    while (n && c->url[n - 1] == '/')
        c->url[--n] = '\0';
    snprintf(c->table, sizeof c->table, "%s", weir_sink_text(cfg, "table"));
    c->create = weir_sink_bool(cfg, "create");
    c->schema = &cfg->from->schema;
    *state = c;
    return WEIR_OK;
}

static weir_sink_result clickhouse_resume(void *state, uint64_t *next, uint32_t partitions, weir_err *err)
{
    clickhouse_sink *c = state;
    if (c->create && !c->created) {
        int rc = create_table(c, err);
        if (rc)
            return verdict(c, rc);
        c->created = true;
    }
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT _weir_partition, max(_weir_offset) FROM `%s` GROUP BY _weir_partition "
                              "FORMAT TabSeparated", c->table);
    int rc = post(c, sql, NULL, NULL, 0, err);
    const char *answer = (const char *)c->answer.data;
    if (rc == WEIR_EIO && c->status && answer && (strstr(answer, "_weir_partition") || strstr(answer, "_weir_offset"))) {
        weir_err_wrap(err, "table %s needs the columns _weir_partition UInt32 and _weir_offset UInt64", c->table);
        return WEIR_SINK_FATAL;
    }
    if (rc)
        return verdict(c, rc);
    memset(next, 0, partitions * sizeof *next);
    for (char *line = (char *)c->answer.data; line && *line;) {
        char *end;
        unsigned long p = strtoul(line, &end, 10);
        unsigned long long off = strtoull(end, &end, 10);
        if (p < partitions)
            next[p] = off + 1;
        line = strchr(end, '\n');
        line = line ? line + 1 : NULL;
    }
    return WEIR_SINK_OK;
}

static weir_sink_result clickhouse_deliver(void *state, const weir_sink_record *recs, size_t n, bool more, weir_err *err)
{
    (void)more; /* each INSERT is durable on return */
    clickhouse_sink *c = state;
    c->body.len = 0;
    if (n == 0)
        return WEIR_SINK_OK;
    for (size_t i = 0; i < n; i++) { /* {...} -> {..., "_weir_partition": p, "_weir_offset": o} */
        const char *v = (const char *)recs[i].value;
        size_t len = recs[i].value_len;
        while (len && v[len - 1] != '}')
            len--;
        if (!len) { /* weir wrote every record of its log as an object: this one will never go */
            weir_err_set(err, WEIR_EINVAL, "sink %s: record %u:%llu is not a JSON object", c->name, recs[i].partition,
                         (unsigned long long)recs[i].offset);
            return WEIR_SINK_FATAL;
        }
        size_t open = 1;
        while (open < len - 1 && strchr(" \t\r\n", v[open]))
            open++;
        bool empty = open == len - 1;
        if (weir_buf_append(&c->body, v, len - 1) ||
            weir_buf_append_str(&c->body, empty ? "\"_weir_partition\":" : ",\"_weir_partition\":") ||
            weir_buf_append_uint(&c->body, recs[i].partition) || weir_buf_append_str(&c->body, ",\"_weir_offset\":") ||
            weir_buf_append_uint(&c->body, recs[i].offset) || weir_buf_append(&c->body, "}\n", 2)) {
            weir_err_set(err, WEIR_ENOMEM, "out of memory");
            return WEIR_SINK_RETRY;
        }
    }
    char sql[512];
    snprintf(sql, sizeof sql, "INSERT INTO `%s` FORMAT JSONEachRow", c->table);
    return verdict(c, post(c, sql, "&date_time_input_format=best_effort&input_format_skip_unknown_fields=1",
                           c->body.data, c->body.len, err));
}

static void clickhouse_close(void *state)
{
    clickhouse_sink *c = state;
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    weir_buf_free(&c->body);
    weir_buf_free(&c->answer);
    weir_buf_free(&c->query);
    free(c);
}

static const char *table_name(const weir_value *v)
{
    return strchr(v->s, '`') ? "a table name cannot hold a backquote" : !*v->s ? "a table name cannot be empty" : NULL;
}

static const weir_conn_option options[] = {
    {"table", WEIR_TYPE_TEXT, NULL, true,
     "The ClickHouse table the rows go to. It needs the stream's columns and two of weir's: _weir_partition UInt32 "
     "and _weir_offset UInt64 (their place in the stream, for exactly once).", table_name},
    {"url", WEIR_TYPE_TEXT, "http://127.0.0.1:8123", false, "ClickHouse's HTTP interface.", NULL},
    {"create", WEIR_TYPE_BOOL, "false", false,
     "Creates the table if it is missing: MergeTree ordered by (_weir_partition, _weir_offset), the stream's columns "
     "as Nullable ClickHouse types.", NULL},
};

const weir_sink_connector weir_sink_clickhouse = {
    .name = "clickhouse",
    .help = "Inserts rows into a ClickHouse table over its HTTP interface, exactly once: each INSERT is applied whole "
            "or not at all, and after a failure the table is asked how far each stream partition got.",
    .options = options,
    .noptions = sizeof options / sizeof *options,
    .caps = WEIR_SINK_EXACTLY_ONCE, /* not scale-out: the group's processes' rows are not told apart yet */
    .open = clickhouse_open,
    .resume = clickhouse_resume,
    .deliver = clickhouse_deliver,
    .close = clickhouse_close,
};
