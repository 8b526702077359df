/*
 * http.c - the HTTP server on libmicrohttpd (see http.h).
 *
 * libmicrohttpd calls the access handler several times per request: once
 * with the headers, then with pieces of the body, then once with nothing
 * left (where the answer is queued). A deferred request is suspended in
 * that last call and resumed by weir_http_reply from another thread; the
 * handler is then called once more and queues the answer it finds ready.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "server/http_internal.h"

const double weir_http_latency_bounds[WEIR_HTTP_LATENCY_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                                    0.05,   0.1,   0.25,   0.5,   1.0,  1e300};

/* ---- path templates ---- */

bool weir_http_match(const char *tmpl, const char *path, char *scratch, size_t scratch_cap, const char **names,
                     size_t *name_lens, const char **values, int *nparams)
{
    size_t plen = strlen(path);
    if (plen + 1 > scratch_cap)
        return false;
    memcpy(scratch, path, plen + 1);
    *nparams = 0;
    const char *t = tmpl;
    char *p = scratch;
    while (*t) {
        if (t[0] == '{' && t[1] == '*' && t[2] == '}' && !t[3]) /* the rest, possibly empty */
            return true;
        if (*t == '{') {
            const char *close = strchr(t, '}');
            size_t seg = strcspn(p, "/");
            if (!close || seg == 0 || *nparams == WEIR_HTTP_MAX_PARAMS)
                return false;
            names[*nparams] = t + 1;
            name_lens[*nparams] = (size_t)(close - t - 1);
            values[(*nparams)++] = p;
            t = close + 1;
            p += seg;
            if (*p == '/' && *t == '/') {
                *p++ = '\0';
                t++;
            } else if (*p != *t) {
                return false;
            }
            continue;
        }
        if (*t != *p)
            return false;
        t++;
        p++;
    }
    return *p == '\0';
}

bool weir_http_plain_path(const char *path)
{
    if (path[0] != '/' || strlen(path) >= 512)
        return false;
    for (const char *c = path; *c; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' ||
                  *c == '-' || (*c == '.' && c[-1] != '/') || (*c == '/' && c[1] != '/');
        if (!ok)
            return false;
    }
    return true;
}

static const weir_http_route *find_route(weir_http *h, weir_http_req *r, bool *other_method)
{
    *other_method = false;
    for (int i = 0; i < h->nroutes; i++) {
        const weir_http_route *rt = &h->routes[i];
        if (!weir_http_match(rt->path, r->path, r->scratch, strlen(r->path) + 1, r->names, r->name_lens, r->values,
                             &r->nparams))
            continue;
        bool rest = strstr(rt->path, "{*}") != NULL;
        if (!strcmp(rt->method, r->method) && !(rest && *other_method)) /* a catch-all does not hide a 405 */
            return rt;
        *other_method |= !rest;
    }
    r->nparams = 0;
    return NULL;
}

/* ---- the request ---- */

const char *weir_http_path(const weir_http_req *r) { return r->path; }
const weir_http_route *weir_http_route_of(const weir_http_req *r) { return r->route; }

const char *weir_http_param(const weir_http_req *r, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < r->nparams; i++)
        if (r->name_lens[i] == n && !memcmp(r->names[i], name, n))
            return r->values[i];
    return NULL;
}

const char *weir_http_query(const weir_http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *weir_http_header(const weir_http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

typedef struct nth_arg {
    int want, at;
    const char *name, *value;
} nth_arg;

static enum MHD_Result take_nth(void *ctx, enum MHD_ValueKind kind, const char *name, const char *value)
{
    (void)kind;
    nth_arg *w = ctx;
    if (w->at++ != w->want)
        return MHD_YES;
    w->name = name;
    w->value = value ? value : "";
    return MHD_NO;
}

bool weir_http_query_next(weir_http_req *r, int *pos, const char **name, const char **value)
{
    nth_arg w = {*pos, 0, NULL, NULL};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, take_nth, &w);
    if (!w.name)
        return false;
    (*pos)++;
    *name = w.name;
    *value = w.value;
    return true;
}

const uint8_t *weir_http_body(const weir_http_req *r, size_t *len)
{
    *len = r->body.len;
    return r->body.data ? r->body.data : (const uint8_t *)"";
}
/* ---- the access handler ---- */

static void count_answer(weir_http *h, weir_http_req *r)
{
    double secs = (double)(weir_mono_ns() - r->start_ns) / 1e9;
    pthread_mutex_lock(&h->lock);
    if (r->status >= 100 && r->status < 600)
        h->stats.by_status[r->status / 100][r->status % 100]++;
    for (int b = 0; b < WEIR_HTTP_LATENCY_BUCKETS; b++)
        if (secs <= weir_http_latency_bounds[b])
            h->stats.latency_le[b]++;
    h->stats.latency_count++;
    h->stats.latency_sum_s += secs;
    pthread_mutex_unlock(&h->lock);
}

static enum MHD_Result send_answer(weir_http *h, weir_http_req *r)
{
    count_answer(h, r);
    if (!r->response)
        return MHD_NO;
    enum MHD_Result ok = MHD_queue_response(r->conn, (unsigned)r->status, r->response);
    MHD_destroy_response(r->response);
    r->response = NULL;
    return ok;
}

static bool same_token(const char *given, const char *token)
{
    size_t n = strlen(token);
    if (!given || strlen(given) != n)
        return false;
    unsigned char diff = 0; /* the same time for every wrong token of the right length */
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(given[i] ^ token[i]);
    return diff == 0;
}

/* The token comes as "Authorization: Bearer T" (programs), as the cookie
 * weir_token (browsers, whose EventSource cannot send headers), or as
 * ?token=T, which also sets that cookie (a dashboard link). */
static bool authorized(weir_http *h, weir_http_req *r)
{
    if (!h->opt.token || (r->route && r->route->public))
        return true;
    const char *auth = weir_http_header(r, "Authorization");
    if (auth && !strncmp(auth, "Bearer ", 7))
        return same_token(auth + 7, h->opt.token);
    if (same_token(MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "weir_token"), h->opt.token))
        return true;
    if (!same_token(weir_http_query(r, "token"), h->opt.token))
        return false;
    char cookie[512];
    snprintf(cookie, sizeof cookie, "weir_token=%s; Path=/; HttpOnly; SameSite=Strict", h->opt.token);
    weir_http_reply_header(r, "Set-Cookie", cookie);
    return true;
}

static void dispatch(weir_http *h, weir_http_req *r)
{
    bool other_method;
    r->route = find_route(h, r, &other_method);
    if (!authorized(h, r)) {
        weir_http_reply_header(r, "WWW-Authenticate", "Bearer");
        weir_http_reply_error(r, 401, "%s %s needs the header 'Authorization: Bearer TOKEN' (the token weir serve was "
                                      "given)", r->method, r->path);
    } else if (r->too_large) {
        weir_http_reply_error(r, 413, "the request body is larger than the limit of %zu bytes", h->opt.max_body);
    } else if (r->overloaded) {
        weir_http_reply_header(r, "Retry-After", "1");
        weir_http_reply_error(r, 503, "weir holds %zu bytes of request bodies already; retry after a second",
                              h->opt.max_bodies);
    } else if (!r->route && other_method) {
        weir_http_reply_error(r, 405, "%s is not allowed on %s", r->method, r->path);
    } else if (!r->route) {
        weir_http_reply_error(r, 404, "no route for %s %s", r->method, r->path);
    } else {
        r->route->handler(r->route->ctx, r);
        if (r->state == RECEIVING) /* a handler that forgot to answer */
            weir_http_reply_error(r, 500, "%s %s gave no answer", r->method, r->path);
    }
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *version, const char *upload, size_t *upload_len, void **state)
{
    (void)version;
    weir_http *h = cls;
    weir_http_req *r = *state;
    if (!r) { /* the headers are in */
        r = calloc(1, sizeof *r);
        if (!r || !(r->path = strdup(url)) || !(r->scratch = malloc(strlen(url) + 1))) {
            if (r)
                free(r->path);
            free(r);
            return MHD_NO;
        }
        r->server = h;
        r->conn = conn;
        r->method = method;
        r->start_ns = weir_mono_ns();
        *state = r;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > h->opt.max_body) { /* refuse before reading it */
            r->too_large = true;
            dispatch(h, r);
            return send_answer(h, r);
        }
        return MHD_YES;
    }
    if (*upload_len) {
        if (!r->too_large && r->body.len + *upload_len > h->opt.max_body) {
            r->too_large = true;
            atomic_fetch_sub(&h->body_bytes, r->body.len);
            weir_buf_free(&r->body);
        }
        if (!r->too_large && !r->overloaded &&
            atomic_fetch_add(&h->body_bytes, *upload_len) + *upload_len > h->opt.max_bodies) {
            r->overloaded = true; /* memory stays bounded: this body is dropped, the client told to retry */
            atomic_fetch_sub(&h->body_bytes, *upload_len + r->body.len);
            weir_buf_free(&r->body);
        }
        if (!r->too_large && !r->overloaded && weir_buf_append(&r->body, upload, *upload_len)) {
            atomic_fetch_sub(&h->body_bytes, *upload_len);
            return MHD_NO;
        }
        *upload_len = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&h->lock);
    bool answered = r->state == ANSWERED || r->state == STREAMING;
    pthread_mutex_unlock(&h->lock);
    if (answered) /* after a deferral */
        return send_answer(h, r);
    if (r->deferred)
        return MHD_YES; /* still deferred: a spurious call */
    dispatch(h, r);
    if (r->deferred) /* the answer may be in already, but it is sent after the resume */
        return MHD_YES;
    return send_answer(h, r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **state, enum MHD_RequestTerminationCode why)
{
    (void)cls, (void)conn, (void)why;
    weir_http_req *r = *state;
    if (!r)
        return;
    if (r->response)
        MHD_destroy_response(r->response);
    atomic_fetch_sub(&r->server->body_bytes, r->body.len);
    weir_buf_free(&r->body);
    weir_buf_free(&r->headers);
    free(r->path);
    free(r->scratch);
    free(r);
    *state = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx, enum MHD_ConnectionNotificationCode what)
{
    (void)conn, (void)socket_ctx;
    weir_http *h = cls;
    pthread_mutex_lock(&h->lock);
    if (what == MHD_CONNECTION_NOTIFY_STARTED)
        h->stats.open_connections++;
    else
        h->stats.open_connections--;
    pthread_mutex_unlock(&h->lock);
}

/* "HOST:PORT", ":PORT" or "PORT" (IPv4). */
static int parse_listen(const char *listen, struct sockaddr_in *addr, weir_err *err)
{
    char host[64] = "127.0.0.1";
    const char *colon = strrchr(listen, ':');
    const char *port = colon ? colon + 1 : listen;
    if (colon && colon > listen) {
        if ((size_t)(colon - listen) >= sizeof host)
            return weir_err_set(err, WEIR_EINVAL, "--listen %s: the host is too long", listen);
        memcpy(host, listen, (size_t)(colon - listen));
        host[colon - listen] = '\0';
    }
    char *end;
    unsigned long p = strtoul(port, &end, 10);
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_port = htons((uint16_t)p);
    if (!*port || *end || p > 65535)
        return weir_err_set(err, WEIR_EINVAL, "--listen %s: expected HOST:PORT with a port from 0 to 65535", listen);
    if (!strcmp(host, "localhost"))
        strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &addr->sin_addr) != 1)
        return weir_err_set(err, WEIR_EINVAL, "--listen %s: '%s' is not an IPv4 address", listen, host);
    return WEIR_OK;
}

int weir_http_start(const weir_http_options *opt, const weir_http_route *routes, int nroutes, weir_http **out,
                    weir_err *err)
{
    *out = NULL;
    weir_http *h = calloc(1, sizeof *h);
    if (!h)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    if (opt)
        h->opt = *opt;
    if (!h->opt.listen) h->opt.listen = "127.0.0.1:8080";
    if (!h->opt.max_body) h->opt.max_body = 64u << 20;
    if (!h->opt.max_bodies) h->opt.max_bodies = 1024u << 20;
    if (!h->opt.threads) h->opt.threads = 2;
    if (!h->opt.timeout_s) h->opt.timeout_s = 30;
    if (h->opt.token && !*h->opt.token)
        h->opt.token = NULL;
    h->routes = routes;
    h->nroutes = nroutes;
    pthread_mutex_init(&h->lock, NULL);
    struct sockaddr_in addr;
    int rc = parse_listen(h->opt.listen, &addr, err);
    if (rc) {
        weir_http_stop(h);
        return rc;
    }
    h->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, 0, NULL,
                                 NULL, on_access, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                                 MHD_OPTION_THREAD_POOL_SIZE, h->opt.threads, MHD_OPTION_CONNECTION_TIMEOUT,
                                 h->opt.timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 << 10),
                                 MHD_OPTION_CONNECTION_LIMIT, 4096u, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_NOTIFY_CONNECTION,
                                 on_connection, h, MHD_OPTION_END);
    if (!h->daemon) {
        weir_http_stop(h);
        return weir_err_set(err, WEIR_EIO, "cannot listen on %s (is the port in use?)", opt && opt->listen ? opt->listen : "127.0.0.1:8080");
    }
    *out = h;
    return WEIR_OK;
}

void weir_http_stop(weir_http *h)
{
    if (!h)
        return;
    if (h->daemon) {
        MHD_quiesce_daemon(h->daemon); /* no new connections */
        weir_http_req *deferred;
        pthread_mutex_lock(&h->lock);
        deferred = h->suspended;
        h->suspended = NULL;
        for (weir_http_stream *s = h->streams; s; s = s->next) {
            pthread_mutex_lock(&s->lock);
            s->ended = true;
            http_stream_wake(s);
            pthread_mutex_unlock(&s->lock);
        }
        pthread_mutex_unlock(&h->lock);
        while (deferred) { /* answer what waits, so no client hangs */
            weir_http_req *next = deferred->next_suspended;
            deferred->state = ANSWERED; /* off the list already */
            weir_http_reply_header(deferred, "Retry-After", "1");
            struct MHD_Response *resp = MHD_create_response_from_buffer(
                strlen("{\"error\":\"weir is shutting down\"}\n"), "{\"error\":\"weir is shutting down\"}\n",
                MHD_RESPMEM_PERSISTENT);
            if (resp)
                http_add_headers(deferred, resp, "application/json");
            pthread_mutex_lock(&h->lock);
            deferred->response = resp;
            deferred->status = 503;
            MHD_resume_connection(deferred->conn);
            pthread_mutex_unlock(&h->lock);
            deferred = next;
        }
        MHD_stop_daemon(h->daemon);
    }
    pthread_mutex_destroy(&h->lock);
    free(h);
}

uint16_t weir_http_port(const weir_http *h)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

void weir_http_get_stats(const weir_http *h, weir_http_stats *out)
{
    pthread_mutex_lock((pthread_mutex_t *)&h->lock);
    *out = h->stats;
    pthread_mutex_unlock((pthread_mutex_t *)&h->lock);
}
