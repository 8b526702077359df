/*
 * listener.c - the Kafka protocol's sockets (see listener.h): accepting,
 * reading frames, answering them in order, writing answers out.
 *
 * Everything here runs on the listener's one thread except wake(), which
 * a produce's answer calls from the pipeline thread. A connection answers
 * one request at a time: while one waits (a produce for its commit, a
 * fetch for records) the next ones stay unread in its buffer, which keeps
 * the answers in request order. A waiting produce outlives a closed
 * connection (the runtime still holds it) as an orphan, freed once
 * answered.
 */
#include "kafka/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "kafka/proto.h"

#define FETCH_POLL_MS 5          /* how often a waiting fetch looks for new records */
#define OUT_HIGH (16u << 20)     /* answers not yet sent past which a connection's requests wait */
#define READ_CHUNK (64u << 10)
#define GROUP_TICK_MS 100        /* how often session timeouts and rebalance deadlines are looked at */

typedef struct kconn {
    int fd;
    weir_buf in;                 /* bytes read; requests from in_used on */
    size_t in_used;
    weir_buf out;                /* answers; sent up to out_sent */
    size_t out_sent;
    weir_kwait *wait;            /* the request being answered later, or NULL */
    weir_kreq pending;           /* its header */
    weir_ksession session;       /* SASL: authenticated yet? */
    char host[INET6_ADDRSTRLEN]; /* the address the client reached */
    int32_t port;
    char peer[INET6_ADDRSTRLEN + 8];
    uint32_t events;             /* registered with epoll */
    struct kconn *next;
} kconn;

typedef struct orphan {
    weir_kwait *wait;
    struct orphan *next;
} orphan;

struct weir_kafka_listener {
    weir_runtime *rt;
    weir_kafka_options opt;
    int lfd, efd, epfd;
    uint16_t port;
    pthread_t thread;
    bool started;
    _Atomic bool stopping;
    kconn *conns;
    orphan *orphans;
    weir_buf scratch;            /* orphans' unsent answers */
    weir_kgroups *groups;        /* consumer groups' members (groups.c) */
    weir_producers *producers;   /* idempotent producers' state (runtime.h): the pipeline thread's while it runs */
    bool groups_live;            /* some group has members: tick every GROUP_TICK_MS */
};

static void say(weir_kafka_listener *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(weir_kafka_listener *l, const char *fmt, ...)
{
    if (!l->opt.log)
        return;
    char line[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    l->opt.log(l->opt.log_ctx, line);
}

/* From any thread: something a wait waits for may have happened. */
static void wake(void *ctx)
{
    weir_kafka_listener *l = ctx;
    uint64_t one = 1;
    ssize_t n = write(l->efd, &one, sizeof one);
    (void)n; /* a full counter (EAGAIN) is a wake-up already pending */
}

static void set_events(weir_kafka_listener *l, kconn *c)
{
    size_t unsent = c->out.len - c->out_sent;
    uint32_t want = (c->wait || unsent >= OUT_HIGH ? 0 : EPOLLIN) | (unsent ? EPOLLOUT : 0);
    if (want == c->events)
        return;
    struct epoll_event ev = {.events = want, .data.ptr = c};
    if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
        c->events = want;
    else
        say(l, "kafka: epoll_ctl for %s: %s", c->peer, strerror(errno));
}

static void adopt(weir_kafka_listener *l, weir_kwait *wt)
{
    orphan *o = malloc(sizeof *o);
    if (!o) { /* cannot be kept: waits for its answers here rather than be freed under them */
        while (!wt->poll(wt, &(weir_kctx){.rt = l->rt, .host = ""}, &(weir_kw){&l->scratch, false}, INT64_MAX))
            usleep(1000);
        l->scratch.len = 0;
        wt->free(wt);
        return;
    }
    *o = (orphan){wt, l->orphans};
    l->orphans = o;
}

static void close_conn(weir_kafka_listener *l, kconn *c)
{
    for (kconn **p = &l->conns; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    if (c->wait)
        adopt(l, c->wait);
    if (close(c->fd) != 0)
        say(l, "kafka: close of %s: %s", c->peer, strerror(errno));
    weir_buf_free(&c->in);
    weir_buf_free(&c->out);
    free(c);
}

static void accept_all(weir_kafka_listener *l)
{
    for (;;) {
        struct sockaddr_storage peer, local;
        socklen_t plen = sizeof peer, llen = sizeof local;
        int fd = accept4(l->lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                say(l, "kafka: accept: %s", strerror(errno));
            return;
        }
        kconn *c = calloc(1, sizeof *c);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (!c || getsockname(fd, (struct sockaddr *)&local, &llen) != 0 ||
            epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            say(l, "kafka: cannot take a connection: %s", c ? strerror(errno) : "out of memory");
            free(c);
            if (close(fd) != 0)
                say(l, "kafka: close: %s", strerror(errno));
            continue;
        }
        c->fd = fd;
        c->events = EPOLLIN;
        c->session.authenticated = !l->opt.token;
        char host[INET6_ADDRSTRLEN] = "?";
        if (local.ss_family == AF_INET6) {
            const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&local, *p = (const struct sockaddr_in6 *)&peer;
            inet_ntop(AF_INET6, &a->sin6_addr, c->host, sizeof c->host);
            c->port = ntohs(a->sin6_port);
            inet_ntop(AF_INET6, &p->sin6_addr, host, sizeof host);
            snprintf(c->peer, sizeof c->peer, "[%s]:%u", host, ntohs(p->sin6_port));
        } else {
            const struct sockaddr_in *a = (const struct sockaddr_in *)&local, *p = (const struct sockaddr_in *)&peer;
            inet_ntop(AF_INET, &a->sin_addr, c->host, sizeof c->host);
            c->port = ntohs(a->sin_port);
            inet_ntop(AF_INET, &p->sin_addr, host, sizeof host);
            snprintf(c->peer, sizeof c->peer, "%s:%u", host, ntohs(p->sin_port));
        }
        c->next = l->conns;
        l->conns = c;
    }
}

static weir_kctx ctx_of(weir_kafka_listener *l, kconn *c)
{
    return (weir_kctx){.rt = l->rt, .token = l->opt.token, .session = &c->session, .host = c->host, .peer = c->peer,
                       .port = c->port, .wake = wake, .wake_ctx = l, .groups = l->groups, .producers = l->producers};
}

/* Writes what is unsent; false when the connection is gone. */
static bool flush(weir_kafka_listener *l, kconn *c)
{
    while (c->out_sent < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_sent, c->out.len - c->out_sent, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (errno != EPIPE && errno != ECONNRESET)
                say(l, "kafka: send to %s: %s", c->peer, strerror(errno));
            return false;
        }
        c->out_sent += (size_t)n;
    }
    if (c->out_sent == c->out.len)
        c->out.len = c->out_sent = 0;
    return true;
}

/* Asks a waiting request again; an answer goes out framed. */
static void poll_wait(weir_kafka_listener *l, kconn *c, int64_t now)
{
    weir_kw w = {&c->out, false};
    size_t mark = c->out.len;
    weir_kw_i32(&w, 0);
    weir_kafka_response_header(&c->pending, &w);
    weir_kctx k = ctx_of(l, c);
    if (!c->wait->poll(c->wait, &k, &w, now)) {
        c->out.len = mark;
        return;
    }
    weir_kw_patch_i32(&w, mark, (int32_t)(c->out.len - mark - 4));
    if (w.oom)
        c->out.len = mark; /* the client times out and retries */
    c->wait->free(c->wait);
    c->wait = NULL;
}

/* The bare PLAIN token that follows SaslHandshake v0, answered by an
 * empty frame; false to close. */
static bool raw_token(weir_kafka_listener *l, kconn *c, const uint8_t *p, size_t len)
{
    c->session.raw_token_next = false;
    if (!weir_kafka_plain_ok(p, len, l->opt.token)) {
        say(l, "kafka: %s failed SASL PLAIN authentication; closing the connection", c->peer);
        return false;
    }
    c->session.authenticated = true;
    weir_kw w = {&c->out, false};
    weir_kw_i32(&w, 0);
    return !w.oom;
}

/* Answers one complete request frame (payload p, len bytes); false to close. */
static bool answer(weir_kafka_listener *l, kconn *c, const uint8_t *p, size_t len)
{
    if (c->session.raw_token_next)
        return raw_token(l, c, p, len);
    weir_kreq q;
    if (!weir_kafka_header(p, len, &q)) {
        say(l, "kafka: %s sent a malformed request header (%s); closing the connection", c->peer, q.body.err);
        return false;
    }
    weir_kw w = {&c->out, false};
    size_t mark = c->out.len;
    weir_kw_i32(&w, 0);
    weir_kafka_response_header(&q, &w);
    weir_kctx k = ctx_of(l, c);
    weir_kwait *wt = NULL;
    weir_kresult res = weir_kafka_dispatch(&k, &q, &w, &wt);
    if (res == KAFKA_ANSWER && !w.oom) {
        weir_kw_patch_i32(&w, mark, (int32_t)(c->out.len - mark - 4));
        return true;
    }
    c->out.len = mark;
    if (res == KAFKA_MALFORMED || w.oom) {
        say(l, "kafka: %s sent a malformed request (API %d version %d, correlation id %d): %s; closing the connection",
            c->peer, q.key, q.version, q.correlation_id, w.oom ? "out of memory" : q.body.err);
        return false;
    }
    if (res == KAFKA_WAIT && wt->silent)
        adopt(l, wt);
    else if (res == KAFKA_WAIT) {
        c->wait = wt;
        c->pending = q;
        c->pending.body = (weir_kr){0}; /* the frame is consumed below: nothing may point into it */
        c->pending.client_id = (weir_kslice){0};
    }
    return true;
}

/* Answers the complete requests in the buffer, until one waits; false to close. */
static bool serve(weir_kafka_listener *l, kconn *c)
{
    while (!c->wait && !c->session.close_after_answer && c->out.len - c->out_sent < OUT_HIGH &&
           c->in.len - c->in_used >= 4) {
        const uint8_t *p = c->in.data + c->in_used;
        uint32_t size = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        if (size < 8 || size > l->opt.max_request) {
            say(l, "kafka: %s sent a request of %u bytes (%s %zu); closing the connection", c->peer, size,
                size < 8 ? "a header takes at least" : "at most", size < 8 ? (size_t)8 : l->opt.max_request);
            return false;
        }
        if (c->in.len - c->in_used - 4 < size)
            break;
        if (!answer(l, c, p + 4, size))
            return false;
        c->in_used += 4 + (size_t)size;
    }
    if (c->in_used == c->in.len)
        c->in.len = c->in_used = 0;
    else if (c->in_used > c->in.len / 2) { /* keep the buffer from creeping */
        memmove(c->in.data, c->in.data + c->in_used, c->in.len - c->in_used);
        c->in.len -= c->in_used;
        c->in_used = 0;
    }
    if (!flush(l, c))
        return false;
    if (c->session.close_after_answer && c->out.len == 0) { /* a failed authentication, answered */
        say(l, "kafka: %s failed SASL PLAIN authentication; closing the connection", c->peer);
        return false;
    }
    return true;
}

/* Reads what arrived; false when the connection is over. */
static bool take_in(weir_kafka_listener *l, kconn *c)
{
    for (;;) {
        if (weir_buf_reserve(&c->in, READ_CHUNK)) {
            say(l, "kafka: out of memory reading from %s", c->peer);
            return false;
        }
        ssize_t n = recv(c->fd, c->in.data + c->in.len, READ_CHUNK, 0);
        if (n > 0) {
            c->in.len += (size_t)n;
            if ((size_t)n < READ_CHUNK)
                return true;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (n < 0 && errno != ECONNRESET)
            say(l, "kafka: recv from %s: %s", c->peer, strerror(errno));
        return false;
    }
}

static void poll_orphans(weir_kafka_listener *l, int64_t now)
{
    weir_kctx k = {.rt = l->rt, .host = "", .wake = wake, .wake_ctx = l, .groups = l->groups, .producers = l->producers};
    for (orphan **o = &l->orphans; *o;) {
        weir_kw w = {&l->scratch, false};
        l->scratch.len = 0;
        if ((*o)->wait->poll((*o)->wait, &k, &w, now)) {
            orphan *done = *o;
            *o = done->next;
            done->wait->free(done->wait);
            free(done);
        } else {
            o = &(*o)->next;
        }
    }
}

/* The epoll timeout: soon when a wait has a deadline (a fetch), else until woken. */
static int timeout_ms(const weir_kafka_listener *l)
{
    for (const kconn *c = l->conns; c; c = c->next)
        if (c->wait && c->wait->deadline_ms != INT64_MAX)
            return FETCH_POLL_MS;
    for (const orphan *o = l->orphans; o; o = o->next)
        if (o->wait->deadline_ms != INT64_MAX)
            return FETCH_POLL_MS;
    return l->groups_live ? GROUP_TICK_MS : -1;
}

static void *run(void *arg)
{
    weir_kafka_listener *l = arg;
    struct epoll_event evs[64];
    while (!atomic_load(&l->stopping)) {
        int n = epoll_wait(l->epfd, evs, 64, timeout_ms(l));
        if (n < 0 && errno != EINTR) {
            say(l, "kafka: epoll_wait: %s; the Kafka listener stops", strerror(errno));
            break;
        }
        weir_runtime_enter(l->rt); /* a statement applied at runtime waits until this turn is over */
        for (int i = 0; i < n; i++) {
            kconn *c = evs[i].data.ptr;
            if (c == (void *)&l->lfd) {
                accept_all(l);
            } else if (c == (void *)&l->efd) {
                uint64_t count;
                if (read(l->efd, &count, sizeof count) < 0 && errno != EAGAIN)
                    say(l, "kafka: read of the wake-up counter: %s", strerror(errno));
            } else if (((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !take_in(l, c)) ||
                       ((evs[i].events & EPOLLOUT) && !flush(l, c))) {
                close_conn(l, c);
            }
        }
        int64_t now = weir_wall_ms();
        l->groups_live = weir_kgroups_tick(l->groups, now);
        poll_orphans(l, now);
        for (kconn *c = l->conns, *next; c; c = next) {
            next = c->next;
            if (c->wait)
                poll_wait(l, c, now);
            if (!serve(l, c))
                close_conn(l, c);
            else
                set_events(l, c);
        }
        weir_runtime_leave(l->rt);
    }
    return NULL;
}

/* Splits HOST:PORT ([V6]:PORT too). */
static int split_address(const char *addr, char *host, size_t cap, char *port, size_t pcap, weir_err *err)
{
    const char *colon = strrchr(addr, ':');
    if (!colon || !colon[1])
        return weir_err_set(err, WEIR_EINVAL, "--kafka-listen %s: expected HOST:PORT (say 127.0.0.1:9092)", addr);
    const char *h = addr;
    size_t hl = (size_t)(colon - addr);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl >= cap || strlen(colon + 1) >= pcap)
        return weir_err_set(err, WEIR_EINVAL, "--kafka-listen %s: the address is too long", addr);
    memcpy(host, h, hl);
    host[hl] = '\0';
    snprintf(port, pcap, "%s", colon + 1);
    return WEIR_OK;
}

static int bind_listener(weir_kafka_listener *l, weir_err *err)
{
    char host[256], port[16];
    int rc = split_address(l->opt.listen, host, sizeof host, port, sizeof port, err);
    if (rc)
        return rc;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (gai)
        return weir_err_set(err, WEIR_EINVAL, "--kafka-listen %s: %s", l->opt.listen, gai_strerror(gai));
    int one = 1, fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 128) != 0) {
        rc = weir_err_errno(err, errno, "--kafka-listen %s", l->opt.listen);
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return rc;
    }
    freeaddrinfo(res);
    struct sockaddr_storage a;
    socklen_t alen = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        rc = weir_err_errno(err, errno, "--kafka-listen %s: getsockname", l->opt.listen);
        close(fd);
        return rc;
    }
    l->port = ntohs(a.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&a)->sin6_port : ((struct sockaddr_in *)&a)->sin_port);
    l->lfd = fd;
    return WEIR_OK;
}

int weir_kafka_listener_start(weir_runtime *rt, const weir_kafka_options *opt, weir_kafka_listener **out, weir_err *err)
{
    *out = NULL;
    weir_kafka_listener *l = calloc(1, sizeof *l);
    if (!l)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    l->rt = rt;
    l->opt = *opt;
    if (!l->opt.max_request)
        l->opt.max_request = 100u << 20;
    l->lfd = l->efd = l->epfd = -1;
    l->groups = weir_kgroups_new();
    l->producers = weir_producers_new();
    int rc = l->groups && l->producers ? bind_listener(l, err) : weir_err_set(err, WEIR_ENOMEM, "out of memory");
    struct epoll_event le = {.events = EPOLLIN, .data.ptr = &l->lfd}, ee = {.events = EPOLLIN, .data.ptr = &l->efd};
    if (rc == WEIR_OK && ((l->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 || (l->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
                          epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->lfd, &le) != 0 ||
                          epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->efd, &ee) != 0))
        rc = weir_err_errno(err, errno, "--kafka-listen %s: cannot set up epoll", opt->listen);
    if (rc == WEIR_OK && pthread_create(&l->thread, NULL, run, l) != 0)
        rc = weir_err_set(err, WEIR_EIO, "--kafka-listen %s: cannot start the listener's thread", opt->listen);
    if (rc) {
        weir_kafka_listener_stop(l);
        return rc;
    }
    l->started = true;
    *out = l;
    return WEIR_OK;
}

uint16_t weir_kafka_listener_port(const weir_kafka_listener *l) { return l->port; }

void weir_kafka_listener_stop(weir_kafka_listener *l)
{
    if (!l)
        return;
    atomic_store(&l->stopping, true);
    if (l->started) {
        wake(l);
        pthread_join(l->thread, NULL);
    }
    while (l->conns)
        close_conn(l, l->conns);
    poll_orphans(l, INT64_MAX); /* after weir_runtime_hang_up every produce has its answer */
    for (orphan *o = l->orphans, *next; o; o = next) { /* none, unless hang_up was not called */
        next = o->next;
        free(o);
    }
    weir_buf_free(&l->scratch);
    weir_kgroups_free(l->groups);
    weir_producers_free(l->producers); /* after weir_runtime_hang_up: no commit is left to answer */
    int fds[] = {l->lfd, l->efd, l->epfd};
    for (int i = 0; i < 3; i++)
        if (fds[i] >= 0 && close(fds[i]) != 0)
            say(l, "kafka: close: %s", strerror(errno));
    free(l);
}
