/*
 * http.c - the HTTP server on libmicrohttpd (see http.h).
 *
 * libmicrohttpd calls the access handler several times per request: once
 * with the headers, then with pieces of the body, then once with nothing
 * left (where the answer is queued). A deferred request is suspended in
 * that last call and resumed by weir_http_reply from another thread; the
 * handler is then called once more and queues the answer it finds ready.
 *
 * Everything that can refuse a request on its headers alone (framing, the
 * Host and Origin checks, the token, the body's announced size, the
 * route) runs in the first call, before a byte of the body is read; such
 * an answer closes the connection, so the body is never read at all. The
 * raw URI is checked earlier still, in libmicrohttpd's URI callback,
 * because libmicrohttpd 0.9.75 itself hangs on a request whose arguments
 * fill its per-connection memory (about 900 of them).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

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
    pthread_mutex_lock(&h->lock);
    const weir_http_route *routes = h->routes;
    int nroutes = h->nroutes;
    pthread_mutex_unlock(&h->lock);
    for (int i = 0; i < nroutes; i++) {
        const weir_http_route *rt = &routes[i];
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
/* ---- what is refused before the body ---- */

/* Called by libmicrohttpd with the raw request URI (before it decodes the
 * path and splits the arguments, on the connection's thread): makes the
 * request's state. A URI too long or with too many arguments is answered
 * 414 here, written straight to the socket, which is then shut for
 * writing: libmicrohttpd would otherwise go on to split the arguments and,
 * past its memory, hang. Returning NULL makes the access handler close. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    weir_http *h = cls;
    size_t args = 0, len = strlen(uri);
    const char *q = strchr(uri, '?');
    for (const char *c = q; c && *c; c++)
        args += *c == '&' || c == q;
    if (len > WEIR_HTTP_MAX_URI || args > WEIR_HTTP_MAX_ARGS) {
        char msg[512];
        int body = snprintf(msg, sizeof msg, "{\"error\":\"the request URI has %zu bytes and %zu query arguments; weir "
                                             "takes at most %d bytes and %d arguments\"}\n",
                            len, args, WEIR_HTTP_MAX_URI, WEIR_HTTP_MAX_ARGS);
        char answer[768];
        int n = snprintf(answer, sizeof answer, "HTTP/1.1 414 URI Too Long\r\nContent-Type: application/json\r\n"
                                                "Content-Length: %d\r\nConnection: close\r\n\r\n%s", body, msg);
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        /* a fresh request: the previous answer is sent whole, so these bytes are the next on the wire; a
         * socket whose buffer is full gets no answer, only the close */
        if (ci && send(ci->connect_fd, answer, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) == n) {
            pthread_mutex_lock(&h->lock);
            h->stats.by_status[4][14]++;
            pthread_mutex_unlock(&h->lock);
        }
        if (ci) /* the client reads the answer, then the end; this fails only when it is gone, which ends it too */
            (void)shutdown(ci->connect_fd, SHUT_WR);
        return NULL;
    }
    weir_http_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->server = h;
    r->conn = conn;
    /* libmicrohttpd decodes %00 into a NUL that cuts the path or the value short: /index.html%00.png would
     * serve index.html. No path or argument of weir's holds a NUL, so such a URI is refused (as nginx does). */
    for (const char *c = uri; *c && !r->uri_problem; c++)
        if (c[0] == '%' && c[1] == '0' && c[2] == '0')
            r->uri_problem = "the request URI holds %00 (a NUL byte), which no path or argument may contain";
    return r;
}

typedef struct lengths {
    int n;
    const char *first;
    bool differ;
} lengths;

static enum MHD_Result count_length(void *ctx, enum MHD_ValueKind kind, const char *name, const char *value)
{
    (void)kind;
    lengths *l = ctx;
    if (strcasecmp(name, "Content-Length"))
        return MHD_YES;
    if (l->n++ && strcmp(l->first, value ? value : ""))
        l->differ = true;
    if (!l->first)
        l->first = value ? value : "";
    return MHD_YES;
}

/* RFC 9112 6.3: Content-Length values that differ, or one beside
 * Transfer-Encoding, leave the body's end ambiguous (request smuggling
 * behind a proxy): 400, and the connection closes. */
static const char *bad_framing(weir_http_req *r)
{
    lengths l = {0};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_length, &l);
    if (l.differ)
        return "the request has Content-Length headers that differ";
    if (l.n && weir_http_header(r, "Transfer-Encoding"))
        return "the request has both Content-Length and Transfer-Encoding";
    return NULL;
}

static bool is_loopback(const struct in_addr *a) { return (ntohl(a->s_addr) >> 24) == 127; }

/* DNS rebinding: a web page whose name an attacker makes resolve to
 * 127.0.0.1 reaches weir with its own name in Host. Without a token,
 * only Host names that no DNS answer can be behind are taken: localhost,
 * a loopback address, the address weir listens on, and (listening on
 * every interface) any IP address. A missing Host (HTTP/1.0) comes from
 * no browser. */
static bool local_host(weir_http *h, const char *host)
{
    if (!host)
        return true;
    char name[256];
    size_t n = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":");
    if (n >= sizeof name)
        return false;
    memcpy(name, host, n);
    name[n] = '\0';
    if (!strcasecmp(name, "localhost") || !strcmp(name, "[::1]"))
        return true;
    struct in_addr a;
    if (inet_pton(AF_INET, name, &a) != 1)
        return false;
    return is_loopback(&a) || a.s_addr == h->addr.sin_addr.s_addr || h->addr.sin_addr.s_addr == htonl(INADDR_ANY);
}

/* Cross-site requests: a page elsewhere can make a browser send a POST
 * (a form, or fetch with text/plain) without asking; it says where it
 * comes from in Origin. A request that may change something (any method
 * but GET, HEAD, OPTIONS) is taken only without an Origin (not a browser)
 * or from weir's own pages or --cors's origin. */
static bool same_origin(weir_http *h, weir_http_req *r, const char *origin)
{
    if (!origin || !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD") || !strcmp(r->method, "OPTIONS"))
        return true;
    if (h->opt.cors_origin && !strcmp(origin, h->opt.cors_origin))
        return true;
    const char *host = weir_http_header(r, "Host");
    const char *scheme = h->tls.cert ? "https://" : "http://"; /* weir's own pages come from where it serves */
    size_t n = strlen(scheme);
    return host && !strncasecmp(origin, scheme, n) && !strcasecmp(origin + n, host);
}

/* Answers a request refused on its headers; its body, if any, is never
 * read: the connection closes after the answer. */
static void refuse(weir_http_req *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void refuse(weir_http_req *r, int status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    weir_http_reply_header(r, "Connection", "close");
    weir_http_reply_error(r, status, "%s", msg);
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

/* The connection's watchdog entry: its deadline moves as the request goes
 * from headers to body to handler to the next request. */
static void set_deadline(weir_http *h, struct MHD_Connection *conn, unsigned seconds)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    http_conn *c = ci ? ci->socket_context : NULL;
    if (c)
        atomic_store(&c->deadline_ns, seconds ? weir_mono_ns() + (uint64_t)seconds * 1000000000u : 0);
    (void)h;
}

/* The first call, with the headers: refuses what the headers alone
 * condemn (true: answered), before a byte of the body is read. */
static bool refused_on_headers(weir_http *h, weir_http_req *r)
{
    bool other_method;
    r->route = find_route(h, r, &other_method);
    const char *origin = weir_http_header(r, "Origin");
    r->cors = h->opt.cors_origin && origin && !strcmp(origin, h->opt.cors_origin);
    const char *framing = bad_framing(r);
    const char *cl = weir_http_header(r, "Content-Length");
    if (r->uri_problem) {
        refuse(r, 400, "%s", r->uri_problem);
    } else if (framing) {
        refuse(r, 400, "%s (RFC 9112, 6.3)", framing);
    } else if (r->cors && !strcmp(r->method, "OPTIONS")) { /* a CORS preflight: what the origin may send */
        weir_http_reply_header(r, "Access-Control-Allow-Methods", "GET, POST, PUT, DELETE");
        weir_http_reply_header(r, "Access-Control-Allow-Headers", "Authorization, Content-Type, Last-Event-ID");
        weir_http_reply_header(r, "Access-Control-Max-Age", "600");
        weir_http_reply(r, 204, NULL, "", 0);
    } else if (!h->opt.token && !local_host(h, weir_http_header(r, "Host"))) {
        refuse(r, 403, "Host %s is not this server's address: without --token, weir answers only requests for "
                       "localhost or an IP address (a defence against DNS rebinding)",
               weir_http_header(r, "Host"));
    } else if (!same_origin(h, r, origin)) {
        refuse(r, 403, "%s from the web page at %s may not change weir: only weir's own pages and --cors's origin may",
               r->method, origin);
    } else if (!authorized(h, r)) {
        weir_http_reply_header(r, "WWW-Authenticate", "Bearer");
        refuse(r, 401, "%s %s needs the header 'Authorization: Bearer TOKEN' (the token weir serve was given)",
               r->method, r->path);
    } else if (cl && strtoull(cl, NULL, 10) > h->opt.max_body) {
        refuse(r, 413, "the request body is larger than the limit of %zu bytes (--max-body)", h->opt.max_body);
    } else if (!r->route) {
        if (other_method)
            refuse(r, 405, "%s is not allowed on %s", r->method, r->path);
        else
            refuse(r, 404, "no route for %s %s", r->method, r->path);
    } else {
        return false;
    }
    return true;
}

/* The last call, with the whole body: public routes (cheap, and needing
 * no lock) are answered here, the others on a handler thread. */
static void dispatch(weir_http *h, weir_http_req *r)
{
    if (r->too_large) {
        weir_http_reply_error(r, 413, "the request body is larger than the limit of %zu bytes (--max-body)",
                              h->opt.max_body);
    } else if (r->overloaded) {
        weir_http_reply_header(r, "Retry-After", "1");
        weir_http_reply_error(r, 503, "weir holds %zu bytes of request bodies already; retry after a second",
                              h->opt.max_bodies);
    } else if (!r->route->public) {
        http_run_handler(r); /* it may wait for the pipeline (metrics) or compute: not on this thread */
    } else { /* public: answered from what the runtime published, outside the gate (a health check never waits) */
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
    if (!r) /* refused by on_uri, or no memory there */
        return MHD_NO;
    if (!r->begun) { /* the headers are in */
        r->begun = true;
        if (!(r->path = strdup(url)) || !(r->scratch = malloc(strlen(url) + 1)))
            return MHD_NO;
        r->method = method;
        r->start_ns = weir_mono_ns();
        if (refused_on_headers(h, r)) {
            set_deadline(h, conn, 0);
            return send_answer(h, r);
        }
        bool body = weir_http_header(r, "Transfer-Encoding") || strtoull(weir_http_header(r, "Content-Length") ?
                                                                         weir_http_header(r, "Content-Length") : "0",
                                                                         NULL, 10);
        set_deadline(h, conn, body ? h->opt.body_timeout_s : 0);
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
    set_deadline(h, conn, 0); /* the body is in: the handler and the answer take what they take */
    dispatch(h, r);
    if (r->deferred) /* the answer may be in already, but it is sent after the resume */
        return MHD_YES;
    return send_answer(h, r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **state, enum MHD_RequestTerminationCode why)
{
    (void)why;
    weir_http *h = cls;
    set_deadline(h, conn, h->opt.header_timeout_s); /* a kept-alive connection waits for its next request */
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

/* Runs on libmicrohttpd's threads as connections open and close; CLOSED
 * comes before libmicrohttpd closes the socket (daemon.c,
 * MHD_cleanup_connections), which is what makes the watchdog's shutdown
 * safe (see http_conn). */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx, enum MHD_ConnectionNotificationCode what)
{
    weir_http *h = cls;
    pthread_mutex_lock(&h->lock);
    if (what == MHD_CONNECTION_NOTIFY_STARTED)
        h->stats.open_connections++;
    else
        h->stats.open_connections--;
    pthread_mutex_unlock(&h->lock);
    pthread_mutex_lock(&h->conns_lock);
    http_conn *c = *socket_ctx;
    if (what == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        c = ci ? calloc(1, sizeof *c) : NULL; /* without one, the connection has only the idle timeout */
        if (c) {
            c->fd = ci->connect_fd;
            atomic_store(&c->deadline_ns, weir_mono_ns() + (uint64_t)h->opt.header_timeout_s * 1000000000u);
            c->next = h->conns;
            if (h->conns)
                h->conns->prev = c;
            h->conns = c;
        }
        *socket_ctx = c;
    } else if (c) {
        if (c->prev)
            c->prev->next = c->next;
        else
            h->conns = c->next;
        if (c->next)
            c->next->prev = c->prev;
        free(c);
        *socket_ctx = NULL;
    }
    pthread_mutex_unlock(&h->conns_lock);
}

/* The watchdog thread: every 100 ms, shuts down the sockets of
 * connections past their header or body deadline (libmicrohttpd then sees
 * the end of the stream and closes them). libmicrohttpd has only an idle
 * timeout, which a client sending a byte every few seconds never
 * triggers (slowloris). */
static void *watchdog(void *arg)
{
    weir_http *h = arg;
    pthread_mutex_lock(&h->conns_lock);
    while (h->watchdog_running) {
        uint64_t now = weir_mono_ns();
        uint64_t cut = 0;
        for (http_conn *c = h->conns; c; c = c->next) {
            uint64_t deadline = atomic_load(&c->deadline_ns);
            if (c->cut || !deadline || now < deadline)
                continue;
            c->cut = true; /* once: a failure (ENOTCONN) means the peer is gone, which closes it as well */
            cut += shutdown(c->fd, SHUT_RDWR) == 0;
        }
        if (cut) {
            pthread_mutex_lock(&h->lock);
            h->stats.deadline_closes += cut;
            pthread_mutex_unlock(&h->lock);
        }
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += 100000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&h->conns_wake, &h->conns_lock, &until); /* a timeout is the usual wake-up */
    }
    pthread_mutex_unlock(&h->conns_lock);
    return NULL;
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
    if (!h->opt.header_timeout_s) h->opt.header_timeout_s = 10;
    if (!h->opt.body_timeout_s) h->opt.body_timeout_s = 60;
    if (!h->opt.max_connections) h->opt.max_connections = 4096;
    if (!h->opt.max_per_address) h->opt.max_per_address = 256;
    if (!h->opt.workers) h->opt.workers = 2;
    if (!h->opt.max_queued) h->opt.max_queued = 64;
    if (!h->opt.query_timeout_s) h->opt.query_timeout_s = 30;
    if (!h->opt.max_result_bytes) h->opt.max_result_bytes = 64u << 20;
    if (h->opt.token && !*h->opt.token)
        h->opt.token = NULL;
    h->routes = routes;
    h->nroutes = nroutes;
    pthread_mutex_init(&h->lock, NULL);
    pthread_mutex_init(&h->conns_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->conns_wake, &ca);
    pthread_condattr_destroy(&ca);
    int rc = http_work_start(h) ? weir_err_set(err, WEIR_ENOMEM, "cannot start the HTTP worker threads")
                                : parse_listen(h->opt.listen, &h->addr, err);
    if (rc == WEIR_OK && (h->opt.tls_cert || h->opt.tls_key))
        rc = http_tls_load(h->opt.tls_cert, h->opt.tls_key, &h->tls, err);
    if (rc == WEIR_OK) {
        h->watchdog_running = true;
        if (pthread_create(&h->watchdog, NULL, watchdog, h)) {
            h->watchdog_running = false;
            rc = weir_err_set(err, WEIR_ENOMEM, "cannot start the HTTP watchdog thread");
        }
    }
    if (rc) {
        weir_http_stop(h);
        return rc;
    }
    struct MHD_OptionItem tls[] = {{MHD_OPTION_HTTPS_MEM_CERT, 0, h->tls.cert},
                                   {MHD_OPTION_HTTPS_MEM_KEY, 0, h->tls.key},
                                   {MHD_OPTION_END, 0, NULL}};
    h->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                                     (h->tls.cert ? MHD_USE_TLS : 0),
                                 0, NULL, NULL, on_access, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&h->addr,
                                 MHD_OPTION_THREAD_POOL_SIZE, h->opt.threads, MHD_OPTION_CONNECTION_TIMEOUT,
                                 h->opt.timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 << 10),
                                 MHD_OPTION_CONNECTION_LIMIT, h->opt.max_connections,
                                 MHD_OPTION_PER_IP_CONNECTION_LIMIT, h->opt.max_per_address,
                                 MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_NOTIFY_CONNECTION,
                                 on_connection, h, MHD_OPTION_ARRAY, h->tls.cert ? tls : tls + 2, MHD_OPTION_END);
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
    if (h->daemon)
        MHD_quiesce_daemon(h->daemon); /* no new connections */
    http_work_stop(h); /* no worker answers anything after this */
    if (h->daemon) {
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
    if (h->watchdog_running) {
        pthread_mutex_lock(&h->conns_lock);
        h->watchdog_running = false;
        pthread_cond_signal(&h->conns_wake);
        pthread_mutex_unlock(&h->conns_lock);
        pthread_join(h->watchdog, NULL);
    }
    while (h->conns) { /* none: libmicrohttpd said every close */
        http_conn *next = h->conns->next;
        free(h->conns);
        h->conns = next;
    }
    pthread_cond_destroy(&h->conns_wake);
    pthread_mutex_destroy(&h->conns_lock);
    pthread_mutex_destroy(&h->lock);
    http_tls_free(&h->tls);
    free(h);
}

void weir_http_set_routes(weir_http *h, const weir_http_route *routes, int nroutes)
{
    pthread_mutex_lock(&h->lock);
    h->routes = routes;
    h->nroutes = nroutes;
    pthread_mutex_unlock(&h->lock);
}

uint16_t weir_http_port(const weir_http *h)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

int weir_http_listen_url(const char *listen, uint16_t port, bool tls, char *out, size_t cap, weir_err *err)
{
    struct sockaddr_in addr;
    char ip[INET_ADDRSTRLEN];
    int rc = parse_listen(listen, &addr, err);
    if (rc == WEIR_OK && !inet_ntop(AF_INET, &addr.sin_addr, ip, sizeof ip))
        rc = weir_err_errno(err, errno, "--listen %s", listen);
    if (rc == WEIR_OK)
        snprintf(out, cap, "%s://%s:%u", tls ? "https" : "http", ip, port);
    return rc;
}

void weir_http_get_stats(const weir_http *h, weir_http_stats *out)
{
    pthread_mutex_lock((pthread_mutex_t *)&h->lock);
    *out = h->stats;
    pthread_mutex_unlock((pthread_mutex_t *)&h->lock);
}
