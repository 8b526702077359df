/*
 * produce_remote.c - `weir produce` into a data directory that a running
 * `weir serve` holds: the log has one writer, so the records go through
 * that server's ingest (POST /v1/streams/{s}, durable when answered), found
 * by the address serve records in DATA/serve.url while it runs: its URL,
 * and over HTTPS a line "tls-cert PATH" naming the certificate it serves,
 * which is the one trusted (libcurl takes any certificate of that file as
 * an anchor, a self-signed one or a CA's leaf alike).
 *
 * Batches are NDJSON of at most BATCH_BYTES. A 503 (ingest saturated, a
 * full disk) is retried as its Retry-After says, for RETRY_FOR_S at most;
 * any other refusal stops with the server's own message.
 */
#include "cli/produce_remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/io.h"
#include "cli/http_post.h"

#define RETRY_FOR_S 60

struct produce_remote {
    char url[1024];            /* .../v1/streams/<stream> */
    char server[512];          /* what DATA/serve.url says */
    char ca_file[4200];        /* the certificate it names ("tls-cert PATH"), or "" */
    CURL *curl;
    struct curl_slist *headers;
    weir_buf body;             /* the batch: NDJSON lines */
    http_answer reply;
};

bool serve_url_read(const char *data_dir, char *server, size_t cap, char *ca_file, size_t ca_cap)
{
    char path[4200], *text;
    size_t len;
    snprintf(path, sizeof path, "%s/serve.url", data_dir);
    if (weir_io_read_file(&weir_io_posix, path, &text, &len, NULL) != WEIR_OK)
        return false;
    len = strcspn(text, "\r\n");
    snprintf(server, cap, "%.*s", (int)len, text);
    const char *cert = strstr(text, "\ntls-cert ");
    snprintf(ca_file, ca_cap, "%.*s", cert ? (int)strcspn(cert + 10, "\r\n") : 0, cert ? cert + 10 : "");
    free(text);
    return true;
}

struct curl_slist *serve_headers(const char *content_type)
{
    char line[600];
    const char *token = getenv("WEIR_TOKEN");
    snprintf(line, sizeof line, "Content-Type: %s", content_type);
    struct curl_slist *h = curl_slist_append(NULL, line);
    if (h && token && *token) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", token);
        struct curl_slist *more = curl_slist_append(h, line);
        if (!more)
            curl_slist_free_all(h);
        h = more;
    }
    return h;
}

int produce_remote_open(const char *data_dir, const char *stream, produce_remote **out)
{
    *out = NULL;
    char server[512], ca[4200];
    if (!serve_url_read(data_dir, server, sizeof server, ca, sizeof ca))
        return 0;
    produce_remote *r = calloc(1, sizeof *r);
    if (!r || !(r->curl = curl_easy_init())) {
        free(r);
        return -1;
    }
    snprintf(r->server, sizeof r->server, "%s", server);
    snprintf(r->ca_file, sizeof r->ca_file, "%s", ca);
    snprintf(r->url, sizeof r->url, "%s/v1/streams/%s", r->server, stream);
    r->headers = serve_headers("application/x-ndjson");
    if (!r->headers) {
        produce_remote_free(r);
        return -1;
    }
    *out = r;
    return 1;
}

const char *produce_remote_server(const produce_remote *r) { return r->server; }

int produce_remote_add(produce_remote *r, const char *rec, size_t len)
{
    return weir_buf_append(&r->body, rec, len) || weir_buf_append(&r->body, "\n", 1) ? -1 : 0;
}

size_t produce_remote_bytes(const produce_remote *r) { return r->body.len; }

void produce_remote_drop(produce_remote *r) { r->body.len = 0; }

/* One POST of the batch: the HTTP status, or 0 with why filled (no answer). */
static long post(produce_remote *r, char *why, size_t cap)
{
    CURLcode e = http_post(r->curl, r->url, r->ca_file[0] ? r->ca_file : NULL, r->headers, r->body.data, r->body.len, &r->reply);
    if (e != CURLE_OK) {
        snprintf(why, cap, "POST %s: %s (whether that batch was stored is unknown)", r->url, curl_easy_strerror(e));
        return 0;
    }
    const weir_buf *said = &r->reply.body;
    snprintf(why, cap, "POST %s answered %ld: %.*s", r->url, r->reply.status, (int)(said->len > 400 ? 400 : said->len),
             said->data ? (const char *)said->data : "");
    size_t n = strlen(why);
    while (n && (why[n - 1] == '\n' || why[n - 1] == '\r'))
        why[--n] = '\0';
    return r->reply.status;
}

int produce_remote_send(produce_remote *r, char *why, size_t cap)
{
    if (!r->body.len)
        return 0;
    uint64_t until = weir_mono_ns() + (uint64_t)RETRY_FOR_S * 1000000000u;
    long status;
    while ((status = post(r, why, cap)) == 503 && weir_mono_ns() < until)
        sleep((unsigned)(r->reply.retry_after_s > 0 && r->reply.retry_after_s <= RETRY_FOR_S ? r->reply.retry_after_s : 1));
    if (status < 200 || status > 299)
        return -1;
    r->body.len = 0;
    return 0;
}

void produce_remote_free(produce_remote *r)
{
    if (!r)
        return;
    curl_slist_free_all(r->headers);
    curl_easy_cleanup(r->curl);
    weir_buf_free(&r->body);
    weir_buf_free(&r->reply.body);
    free(r);
}
