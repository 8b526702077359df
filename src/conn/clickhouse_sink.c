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
    const char *table = weir_sink_text_option(cfg, "table", NULL, err);
    const char *url = table ? weir_sink_text_option(cfg, "url", "http://127.0.0.1:8123", err) : NULL;
    if (!table || !url)
        return err->code;
    if (strchr(table, '`'))
        return weir_err_set(err, WEIR_EINVAL, "sink %s: table name %s has a backquote", cfg->decl->name, table);
    const weir_with_option *create = weir_stmt_option(cfg->decl, "create");
    if (create && create->value.type != WEIR_TYPE_BOOL)
        return weir_err_set(err, WEIR_EINVAL, "sink %s: create must be true or false", cfg->decl->name);
    pthread_once(&curl_once, init_curl);
    clickhouse_sink *c = calloc(1, sizeof *c);
    if (!c || !(c->curl = curl_easy_init())) {
        free(c);
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    }
    snprintf(c->name, sizeof c->name, "%s", cfg->decl->name);
    snprintf(c->url, sizeof c->url, "%s", url);
    size_t n = strlen(c->url);
    while (n && c->url[n - 1] == '/')
        c->url[--n] = '\0';
    snprintf(c->table, sizeof c->table, "%s", table);
    c->create = create && create->value.b;
    c->schema = &cfg->from->schema;
    *state = c;
    return WEIR_OK;
}

static int clickhouse_resume(void *state, uint64_t *next, uint32_t partitions, weir_err *err)
{
    clickhouse_sink *c = state;
    if (c->create && !c->created) {
        int rc = create_table(c, err);
        if (rc)
            return rc;
        c->created = true;
    }
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT _weir_partition, max(_weir_offset) FROM `%s` GROUP BY _weir_partition "
                              "FORMAT TabSeparated", c->table);
    int rc = post(c, sql, NULL, NULL, 0, err);
    const char *answer = (const char *)c->answer.data;
    if (rc == WEIR_EIO && c->status && answer && (strstr(answer, "_weir_partition") || strstr(answer, "_weir_offset")))
        return weir_err_wrap(err, "table %s needs the columns _weir_partition UInt32 and _weir_offset UInt64", c->table);
    if (rc)
        return rc;
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
    return WEIR_OK;
}

static int clickhouse_deliver(void *state, const weir_sink_record *recs, size_t n, bool more, weir_err *err)
{
    (void)more; /* each INSERT is durable on return */
    clickhouse_sink *c = state;
    c->body.len = 0;
    if (n == 0)
        return WEIR_OK;
    for (size_t i = 0; i < n; i++) { /* {...} -> {..., "_weir_partition": p, "_weir_offset": o} */
        const char *v = (const char *)recs[i].value;
        size_t len = recs[i].value_len;
        while (len && v[len - 1] != '}')
            len--;
        if (!len)
            return weir_err_set(err, WEIR_EINVAL, "sink %s: record %u:%llu is not a JSON object", c->name,
                                recs[i].partition, (unsigned long long)recs[i].offset);
        size_t open = 1;
        while (open < len - 1 && strchr(" \t\r\n", v[open]))
            open++;
        bool empty = open == len - 1;
        if (weir_buf_append(&c->body, v, len - 1) ||
            weir_buf_append_str(&c->body, empty ? "\"_weir_partition\":" : ",\"_weir_partition\":") ||
            weir_buf_append_uint(&c->body, recs[i].partition) || weir_buf_append_str(&c->body, ",\"_weir_offset\":") ||
            weir_buf_append_uint(&c->body, recs[i].offset) || weir_buf_append(&c->body, "}\n", 2))
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    }
    char sql[512];
    snprintf(sql, sizeof sql, "INSERT INTO `%s` FORMAT JSONEachRow", c->table);
    return post(c, sql, "&date_time_input_format=best_effort&input_format_skip_unknown_fields=1", c->body.data,
                c->body.len, err);
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

const weir_sink_connector weir_sink_clickhouse = {"clickhouse", clickhouse_open, clickhouse_resume, clickhouse_deliver,
                                                  clickhouse_close};
