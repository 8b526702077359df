/*
 * gen_post.c - `weir gen --post URL`: generated records sent to a weir
 * server in NDJSON batches (libcurl), instead of printed. The URL may name
 * record fields in braces, `http://h:8080/v1/streams/{type}`, so one
 * generator feeds several streams: each record goes to the URL its own
 * fields make.
 */
#include "cli/gen_post.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/http_post.h"
#include "json/json.h"

typedef struct batch {
    char *url;
    weir_buf body;
    size_t records;
} batch;

struct gen_poster {
    const char *url;           /* the template */
    CURL *curl;
    batch *batches;
    size_t n, cap;
    http_answer reply;
};

int gen_poster_new(const char *url, gen_poster **out)
{
    gen_poster *p = calloc(1, sizeof *p);
    if (!p || !(p->curl = curl_easy_init())) {
        free(p);
        return -1;
    }
    p->url = url;
    *out = p;
    return 0;
}

/* The record's URL: the template with each {field} replaced by the field's text. */
static int url_of(const char *tmpl, const char *rec, size_t len, weir_buf *out)
{
    out->len = 0;
    for (const char *t = tmpl; *t;) {
        const char *open = strchr(t, '{'), *close = open ? strchr(open, '}') : NULL;
        if (!close)
            return weir_buf_append_str(out, t) || weir_buf_append(out, "", 1);
        weir_json_span v;
        if (weir_buf_append(out, t, (size_t)(open - t)) ||
            weir_json_member(rec, len, open + 1, (size_t)(close - open - 1), &v) != 1 ||
            (v.type == WEIR_JSON_STRING ? weir_json_unescape(v.p, v.len, out) : weir_buf_append(out, v.p, v.len)))
            return -1;
        t = close + 1;
    }
    return weir_buf_append(out, "", 1);
}

int gen_poster_add(gen_poster *p, const char *rec, size_t len)
{
    weir_buf url = {0};
    if (url_of(p->url, rec, len, &url)) {
        cli_error("gen", "--post %s: the record has no such field: %.*s", p->url, (int)len - 1, rec);
        weir_buf_free(&url);
        return 1; /* that record is skipped, the others go on */
    }
    size_t i = 0;
    while (i < p->n && strcmp(p->batches[i].url, (const char *)url.data))
        i++;
    if (i == p->n) {
        batch *grown = p->n == p->cap ? weir_array_grow(p->batches, &p->cap, sizeof *grown, 4) : p->batches;
        if (!grown) {
            weir_buf_free(&url);
            return -1;
        }
        p->batches = grown;
        p->batches[p->n++] = (batch){(char *)url.data, {0}, 0};
    } else {
        weir_buf_free(&url);
    }
    p->batches[i].records++;
    return weir_buf_append(&p->batches[i].body, rec, len);
}

int gen_poster_flush(gen_poster *p)
{
    int rc = 0;
    for (size_t i = 0; i < p->n; i++) {
        batch *b = &p->batches[i];
        if (!b->records)
            continue;
        CURLcode e = http_post(p->curl, b->url, NULL, NULL, b->body.data, b->body.len, &p->reply);
        const weir_buf *said = &p->reply.body;
        if (e != CURLE_OK || p->reply.status < 200 || p->reply.status > 299) { /* reported; the next batches still go */
            cli_error("gen", "POST %s (%zu records): %s%.*s", b->url, b->records,
                      e != CURLE_OK ? curl_easy_strerror(e) : "", e != CURLE_OK ? 0 : (int)(said->len > 300 ? 300 : said->len),
                      (const char *)said->data);
            rc = -1;
        }
        b->body.len = 0;
        b->records = 0;
    }
    return rc;
}

void gen_poster_free(gen_poster *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->batches[i].url);
        weir_buf_free(&p->batches[i].body);
    }
    free(p->batches);
    weir_buf_free(&p->reply.body);
    curl_easy_cleanup(p->curl);
    free(p);
}
