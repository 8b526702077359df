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
 * true the table is made (clickhouse_schema.c: a MergeTree for a stream, a
 * ReplacingMergeTree for a table's changelog). Timestamps keep their
 * milliseconds (clickhouse_rows.c). user and password go as HTTP basic
 * authentication, database as the database parameter of every request.
 * Works with ClickHouse 18.16.
 *
 * No answer, or an error ClickHouse may get over (too many parts, memory,
 * a timeout), is RETRY; an error that the same request will always get
 * (the table or a column missing, a value that does not parse as its
 * column's type, a wrong user or password) is FATAL, with ClickHouse's
 * message. Messages show the url without any user:password@ in it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn/clickhouse.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void init_curl(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static size_t collect(char *p, size_t size, size_t n, void *ctx)
{
    return weir_buf_append(ctx, p, size * n) ? 0 : size * n;
}

int clickhouse_post(clickhouse_sink *c, const char *query, const char *settings, const void *body, size_t len,
                    weir_err *err)
{
    c->curl_code = CURLE_OK; /* verdict() reads this request's, not an earlier one's */
    c->status = 0;
    char *q = curl_easy_escape(c->curl, query, 0);
    char *db = c->database ? curl_easy_escape(c->curl, c->database, 0) : NULL;
    c->query.len = 0;
    int rc = q && (db || !c->database) ? weir_buf_printf(&c->query, "%s/?query=%s%s%s%s", c->url, q, db ? "&database=" : "",
                                                         db ? db : "", settings ? settings : "")
                                       : WEIR_ENOMEM;
    curl_free(q);
    curl_free(db);
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
    if (c->user || c->password) { /* HTTP basic authentication, which every ClickHouse takes; never in the URL */
        curl_easy_setopt(c->curl, CURLOPT_USERNAME, c->user ? c->user : "default");
        curl_easy_setopt(c->curl, CURLOPT_PASSWORD, c->password ? c->password : "");
    }
    if (c->ca_file)
        curl_easy_setopt(c->curl, CURLOPT_CAINFO, c->ca_file);
    c->why[0] = '\0';
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->why);
    CURLcode cc = c->curl_code = curl_easy_perform(c->curl);
    if (cc != CURLE_OK) { /* curl's own words say "couldn't connect"; the system's say why (refused, unreachable) */
        long os = 0;
        curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &os);
        return weir_err_set(err, WEIR_EIO, "sink %s: clickhouse %s: %s%s%s%s", c->name, c->shown,
                            c->why[0] ? c->why : curl_easy_strerror(cc), os ? " (" : "", os ? strerror((int)os) : "", os ? ")" : "");
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &c->status);
    if (weir_buf_append(&c->answer, "", 1))
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    if (c->status != 200) /* ClickHouse 18.16 answers errors as 500 with a text body (401 for a wrong password) */
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
    /* a certificate that does not check out, a URL curl cannot use: the next try meets them too */
    if (c->curl_code == CURLE_PEER_FAILED_VERIFICATION || c->curl_code == CURLE_SSL_CACERT_BADFILE ||
        c->curl_code == CURLE_UNSUPPORTED_PROTOCOL || c->curl_code == CURLE_URL_MALFORMAT)
        return WEIR_SINK_FATAL;
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

/* The URL without the user:password@ it may hold, for messages. */
static void hide_credentials(const char *url, char *out, size_t cap)
{
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    const char *at = strchr(host, '@'), *slash = strchr(host, '/');
    if (at && (!slash || at < slash))
        snprintf(out, cap, "%.*s%s", (int)(host - url), url, at + 1);
    else
        snprintf(out, cap, "%s", url);
}

static int clickhouse_open(const weir_sink_config *cfg, void **state, weir_err *err)
{
    const char *ca_file = weir_sink_text(cfg, "ca_file");
    FILE *ca = ca_file ? fopen(ca_file, "r") : NULL;
    if (ca_file && !ca) /* said at start, naming the option, rather than as a failed delivery */
        return weir_err_set(err, WEIR_EINVAL, "sink %s: option ca_file: cannot read %s: %s", cfg->decl->name, ca_file,
                            strerror(errno));
    if (ca)
        fclose(ca);
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
    hide_credentials(c->url, c->shown, sizeof c->shown);
    snprintf(c->table, sizeof c->table, "%s", weir_sink_text(cfg, "table"));
    c->user = weir_sink_text(cfg, "user");
    c->password = weir_sink_text(cfg, "password");
    c->database = weir_sink_text(cfg, "database");
    c->ca_file = ca_file;
    c->create = weir_sink_bool(cfg, "create");
    c->from = cfg->from;
    *state = c;
    return WEIR_OK;
}

static weir_sink_result clickhouse_resume(void *state, uint64_t *next, uint32_t partitions, weir_err *err)
{
    clickhouse_sink *c = state;
    int rc = clickhouse_probe(c, err);
    if (rc)
        return verdict(c, rc);
    if (c->create && !c->created) {
        if ((rc = clickhouse_create_table(c, err)))
            return verdict(c, rc);
        c->created = true;
    }
    if (c->from && c->from->is_table && (rc = clickhouse_probe_deletes(c, err)))
        return verdict(c, rc);
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT _weir_partition, max(_weir_offset) FROM `%s` GROUP BY _weir_partition "
                              "FORMAT TabSeparated", c->table);
    rc = clickhouse_post(c, sql, NULL, NULL, 0, err);
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
    for (size_t i = 0; i < n; i++) {
        int rc = clickhouse_row(c, &recs[i], err);
        if (rc)
            return rc == WEIR_EINVAL ? WEIR_SINK_FATAL : WEIR_SINK_RETRY;
    }
    char sql[512];
    snprintf(sql, sizeof sql, "INSERT INTO `%s` FORMAT JSONEachRow", c->table);
    return verdict(c, clickhouse_post(c, sql, "&date_time_input_format=best_effort&input_format_skip_unknown_fields=1",
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
    weir_buf_free(&c->extra);
    weir_buf_free(&c->key);
    free(c);
}

static const char *table_name(const weir_value *v)
{
    return strchr(v->s, '`') ? "a table name cannot hold a backquote" : !*v->s ? "a table name cannot be empty" : NULL;
}

static const char *http_url(const weir_value *v)
{
    return strncmp(v->s, "http://", 7) && strncmp(v->s, "https://", 8) ? "it must start with http:// or https://" : NULL;
}

static const char *nonempty(const weir_value *v) { return *v->s ? NULL : "it cannot be empty"; }

static const weir_conn_option options[] = {
    {"table", WEIR_TYPE_TEXT, NULL, true,
     "The ClickHouse table the rows go to. It needs the stream's columns and two of weir's: _weir_partition UInt32 "
     "and _weir_offset UInt64 (their place in the stream, for exactly once).", table_name},
    {"url", WEIR_TYPE_TEXT, "http://127.0.0.1:8123", false,
     "ClickHouse's HTTP interface, http:// or https:// (its https_port; the system's CAs check the certificate, or "
     "ca_file's).", http_url},
    {"create", WEIR_TYPE_BOOL, "false", false,
     "Creates the table if it is missing, with the stream's columns as Nullable ClickHouse types. A stream's rows go "
     "to a MergeTree ordered by (_weir_partition, _weir_offset); a table's (its changelog) to a ReplacingMergeTree "
     "versioned by _weir_offset and ordered by the table's key (GROUP BY columns, window_start), so SELECT ... FINAL "
     "WHERE NOT _weir_deleted reads the current rows (a row that left the table lands as its key with _weir_deleted "
     "UInt8 = 1). A TIMESTAMP is a DateTime64(3), or where the server lacks it (before 20.1) a DateTime "
     "with a Nullable(UInt64) <column>_ms beside it holding the milliseconds since the epoch.", NULL},
    {"user", WEIR_TYPE_TEXT, NULL, false, "The ClickHouse user (HTTP basic authentication); without it, default.",
     nonempty},
    {"password", WEIR_TYPE_TEXT, NULL, false,
     "The user's password; never shown (/v1/pipeline blanks it). A wrong one stops the sink as a failure that will "
     "not pass, with ClickHouse's message.", NULL},
    {"database", WEIR_TYPE_TEXT, NULL, false,
     "The database of the table (it must exist); without it, the user's default database.", nonempty},
    {"ca_file", WEIR_TYPE_TEXT, NULL, false,
     "A PEM file of the certificate authorities an https url's certificate is checked against (a self-signed "
     "certificate itself), instead of the system's.", nonempty},
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
