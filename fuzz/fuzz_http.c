/*
 * fuzz_http.c - the HTTP server on hostile input, two ways.
 *
 * An input that starts with '/' is a path for the server's own
 * request-path code: route-template matching and the dashboard's
 * file-name check. A match must give non-empty parameters without '/',
 * and putting them back into the template must give the path again; a
 * path accepted as a plain file name has no ".." or hidden segment.
 *
 * Any other input is sent, as the raw bytes of a request, to a real
 * server on loopback (one with a token, one without, picked by the
 * input's length), which exercises libmicrohttpd's parsing and weir's
 * checks on headers and framing (the URI callback, Content-Length,
 * Host, Origin, the token, bodies, handler and query threads). The
 * answer must be nothing or a status line with a code from 100 to 599,
 * and the server must still answer /healthz afterwards.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/buf.h"
#include "fuzz.h"
#include "server/http.h"

static const char *const templates[] = {
    "/healthz", "/v1/streams", "/v1/streams/{s}", "/v1/streams/{s}/changes", "/v1/tables/{t}",
    "/v1/schemas/{subject}/versions/{version}", "/videos/{video_id}/likes", "/a/{x}-{y}", "/{*}", "/v1/{*}",
};

static void check(const char *tmpl, const char *path)
{
    char scratch[600];
    const char *names[WEIR_HTTP_MAX_PARAMS], *values[WEIR_HTTP_MAX_PARAMS];
    size_t lens[WEIR_HTTP_MAX_PARAMS];
    int n;
    if (!weir_http_match(tmpl, path, scratch, sizeof scratch, names, lens, values, &n))
        return;
    if (strstr(tmpl, "{*}"))
        return;
    weir_buf b = {0};
    int k = 0;
    for (const char *t = tmpl; *t; t++) {
        if (*t == '{') {
            if (k >= n || !*values[k] || strchr(values[k], '/'))
                abort();
            weir_buf_append_str(&b, values[k++]);
            t = strchr(t, '}');
        } else {
            weir_buf_append(&b, t, 1);
        }
    }
    weir_buf_append(&b, "", 1);
    if (k != n || strcmp((const char *)b.data, path))
        abort();
    weir_buf_free(&b);
}

static void fuzz_path(const uint8_t *data, size_t size)
{
    if (size > 512)
        return;
    char path[513];
    memcpy(path, data, size);
    path[size] = '\0';
    for (size_t i = 0; i < sizeof templates / sizeof *templates; i++)
        check(templates[i], path);
    if (weir_http_plain_path(path) && (strstr(path, "/.") || strstr(path, "//")))
        abort();
}

/* ---- raw requests to a live server ---- */

static int answer_now(void *ctx, weir_http_req *req)
{
    (void)ctx;
    size_t len;
    weir_http_body(req, &len);
    char text[64]; /* the body's size: enough to show it was read whole */
    int n = snprintf(text, sizeof text, "{\"bytes\":%zu}\n", len);
    weir_http_reply(req, 200, "application/json", text, (size_t)n);
    return 0;
}

static int offloaded(void *ctx, weir_http_req *req) { return weir_http_offload(req, answer_now, ctx); }

static const weir_http_route routes[] = {
    {"GET", "/healthz", answer_now, NULL, "health", true, NULL, "application/json"},
    {"POST", "/v1/streams/{s}", answer_now, NULL, "ingest", false, "application/x-ndjson", "application/json"},
    {"GET", "/v1/tables/{t}", offloaded, NULL, "a query thread", false, NULL, "application/json"},
    {"POST", "/v1/query", offloaded, NULL, "a query thread with a body", false, "application/json", "application/json"},
};

static weir_http *servers[2];

static void start_servers(void)
{
    /* the requests left waiting for their deadline pile up from one address: room for them */
    weir_http_options opt[2] = {
        {.listen = "127.0.0.1:0", .header_timeout_s = 1, .body_timeout_s = 1, .max_body = 1 << 16,
         .max_connections = 16000, .max_per_address = 16000},
        {.listen = "127.0.0.1:0", .token = "t0ken", .cors_origin = "http://app.example", .header_timeout_s = 1,
         .body_timeout_s = 1, .max_body = 1 << 16, .max_connections = 16000, .max_per_address = 16000},
    };
    weir_err err;
    for (int i = 0; i < 2; i++)
        if (weir_http_start(&opt[i], routes, sizeof routes / sizeof *routes, &servers[i], &err))
            abort();
}

/* Sends bytes, ends the sending side, reads the answer until the server
 * closes or wait_ms pass. */
static size_t exchange(uint16_t port, const void *req, size_t len, char *out, size_t cap, int wait_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        abort();
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {wait_ms / 1000, wait_ms % 1000 * 1000 + !wait_ms}; /* 0 would mean no timeout */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) ||
        connect(fd, (struct sockaddr *)&a, sizeof a))
        abort(); /* the server must take connections */
    size_t sent = 0, got = 0;
    ssize_t n = 1;
    while (sent < len && (n = send(fd, (const char *)req + sent, len - sent, MSG_NOSIGNAL)) > 0)
        sent += (size_t)n;
    (void)shutdown(fd, SHUT_WR); /* fails only if the server closed first, which reading shows */
    while (got < cap - 1 && (n = recv(fd, out + got, cap - 1 - got, 0)) > 0)
        got += (size_t)n;
    out[got] = '\0';
    if (close(fd))
        abort();
    return got;
}

static void fuzz_request(const uint8_t *data, size_t size)
{
    if (!servers[0])
        start_servers();
    uint16_t port = weir_http_port(servers[size & 1]);
    char out[4096];
    /* a request cut short waits for its deadline, not for the end of the sending side (a client may
     * half-close): without the blank line that ends the headers there is no answer to wait for, and none
     * within 50 ms is as good as any */
    bool ended = memmem(data, size, "\r\n\r\n", 4) || memmem(data, size, "\n\n", 2);
    size_t got = exchange(port, data, size, out, sizeof out, ended ? 50 : 0);
    int code = got >= 12 && !strncmp(out, "HTTP/1.", 7) ? atoi(out + 9) : 0;
    if (got && (code < 100 || code > 599))
        abort();
    static const char probe[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (exchange(port, probe, sizeof probe - 1, out, sizeof out, 5000) < 12 || strncmp(out, "HTTP/1.1 200", 12))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size && data[0] == '/')
        fuzz_path(data, size);
    else if (size)
        fuzz_request(data, size);
    return 0;
}
