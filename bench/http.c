/*
 * http.c - HTTP benchmark of `weir serve`, in one run:
 *   1. the server's own ceiling: GET /healthz requests/s (wrk, 50 connections);
 *   2. durable ingest: POST /v1/streams/events with NDJSON batches of 1,000
 *      events of about 150 bytes (group commit with fdatasync), events/s;
 *   3. latency of a single-event POST (p50/p99, wrk --latency, one connection);
 *   4. ingest to Server-Sent Event: events posted at 50k/s carry their send
 *      time; a client following the derived stream `echo` measures when each
 *      arrives (p50/p99);
 *   5. 1,000 keep-alive connections held at once (wrk -c1000), and what the
 *      server's /metrics says was open.
 * Usage: http DATA_DIR [WEIR_BINARY]. Needs wrk. Prints a markdown table.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static const char *pipeline =
    "CREATE STREAM events (id TEXT, user TEXT, page TEXT, ms INT, agent TEXT, sent UINT)\n"
    "  WITH (partitions = 4, key = 'user');\n"
    "CREATE STREAM echo AS SELECT id, sent FROM events WHERE sent > 0;\n";

static int port = 18390;

static int connect_server(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (fd < 0)
        return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
        close(fd);
        return -1;
    }
    return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One request on a fresh connection; the answer's body into out (NUL-terminated). */
static int http_get(const char *path, char *out, size_t cap)
{
    int fd = connect_server();
    if (fd < 0)
        return -1;
    char req[256];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    size_t got = 0;
    if (write_all(fd, req, (size_t)n) == 0)
        for (ssize_t r; got + 1 < cap && (r = read(fd, out + got, cap - got - 1)) > 0;)
            got += (size_t)r;
    out[got] = '\0';
    close(fd);
    char *body = strstr(out, "\r\n\r\n");
    if (body)
        memmove(out, body + 4, strlen(body + 4) + 1);
    return got ? 0 : -1;
}

static pid_t start_server(const char *weir, const char *dir)
{
    char sql[4200], cmd[8600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system(cmd))
        return -1;
    snprintf(sql, sizeof sql, "%s/pipeline.sql", dir);
    FILE *f = fopen(sql, "w");
    if (!f || fputs(pipeline, f) < 0 || fclose(f))
        return -1;
    char listen[64], data[4200];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    snprintf(data, sizeof data, "%s/data", dir);
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", 1);
        if (devnull >= 0)
            dup2(devnull, 2);
        /* capacity, not defence: the 1,000-connection run comes from one address */
        execl(weir, weir, "serve", "-f", sql, "-d", data, "--listen", listen, "--max-connections-per-address", "4096",
              (char *)NULL);
        _exit(127);
    }
    char buf[512];
    for (int i = 0; i < 200; i++) {
        if (http_get("/healthz", buf, sizeof buf) == 0 && strstr(buf, "\"ok\""))
            return pid;
        usleep(25000);
    }
    kill(pid, SIGKILL);
    return -1;
}

/* ---- wrk ---- */

typedef struct wrk_result {
    double rps, p50_ms, p99_ms;
    long errors;
} wrk_result;

static double to_ms(double v, const char *unit)
{
    return !strncmp(unit, "us", 2) ? v / 1000 : !strncmp(unit, "ms", 2) ? v : !strncmp(unit, "s", 1) ? v * 1000 : v;
}

static int run_wrk(int conns, int secs, const char *script, const char *path, wrk_result *out)
{
    char cmd[8600];
    snprintf(cmd, sizeof cmd, "wrk -t%d -c%d -d%ds --latency %s%s http://127.0.0.1:%d%s 2>&1", conns < 2 ? conns : 2, conns, secs,
             script ? "-s " : "", script ? script : "", port, path);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    memset(out, 0, sizeof *out);
    char line[512], unit[8];
    double v;
    long a, b, c, d;
    while (fgets(line, sizeof line, p)) {
        if (sscanf(line, "Requests/sec: %lf", &v) == 1)
            out->rps = v;
        else if (sscanf(line, " 50%% %lf%7s", &v, unit) == 2)
            out->p50_ms = to_ms(v, unit);
        else if (sscanf(line, " 99%% %lf%7s", &v, unit) == 2)
            out->p99_ms = to_ms(v, unit);
        else if (sscanf(line, " Socket errors: connect %ld, read %ld, write %ld, timeout %ld", &a, &b, &c, &d) == 4)
            out->errors += a + b + c + d;
        else if (sscanf(line, " Non-2xx or 3xx responses: %ld", &a) == 1)
            out->errors += a;
    }
    return pclose(p) == 0 ? 0 : -1;
}

/* A wrk script posting `events` events per request. */
static int write_post_script(const char *path, int events)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/x-ndjson\"\nlocal t = {}\n"
               "for i = 1, %d do\n"
               "  t[#t + 1] = string.format('{\"id\":\"e%%07d\",\"user\":\"user-%%05d\",\"page\":\"/products/%%d\",\"ms\":%%d,"
               "\"agent\":\"Mozilla/5.0 (X11; Linux x86_64)\",\"sent\":0}\\n', i, (i * 7919) %% 50000, i %% 977, i %% 300)\n"
               "end\nwrk.body = table.concat(t)\nwrk.path = \"/v1/streams/events\"\n", events);
    return fclose(f);
}

/* ---- ingest to SSE ---- */

#define SSE_RATE 50000
#define SSE_SECS 5
#define SSE_BATCH 500

typedef struct sse_run {
    uint64_t *lat_ns;
    size_t n, cap;
    volatile int stop;
    int fd;
} sse_run;

static void *follow(void *arg)
{
    sse_run *r = arg;
    char buf[65536], line[4096];
    size_t ll = 0;
    for (ssize_t got; !r->stop && (got = read(r->fd, buf, sizeof buf)) > 0;) {
        uint64_t now = weir_mono_ns();
        for (ssize_t i = 0; i < got; i++) {
            if (buf[i] != '\n') {
                if (ll + 1 < sizeof line)
                    line[ll++] = buf[i];
                continue;
            }
            line[ll] = '\0';
            ll = 0;
            char *s = strstr(line, "\"sent\":");
            if (strncmp(line, "data:", 5) || !s)
                continue;
            uint64_t sent = strtoull(s + 7, NULL, 10);
            if (r->n < r->cap && sent && now > sent)
                r->lat_ns[r->n++] = now - sent;
        }
    }
    return NULL;
}

static int post(int fd, const char *body, size_t len)
{
    char head[256], resp[4096];
    int n = snprintf(head, sizeof head, "POST /v1/streams/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %zu\r\n\r\n", len);
    if (write_all(fd, head, (size_t)n) || write_all(fd, body, len))
        return -1;
    ssize_t got = read(fd, resp, sizeof resp - 1); /* the small answer arrives whole */
    return got > 12 && !strncmp(resp + 9, "200", 3) ? 0 : -1;
}

static int sse_latency(uint64_t *p50, uint64_t *p99, size_t *count)
{
    sse_run r = {.cap = SSE_RATE * SSE_SECS + 1000};
    r.lat_ns = malloc(r.cap * sizeof *r.lat_ns);
    r.fd = connect_server();
    int post_fd = connect_server();
    const char *sub = "GET /v1/streams/echo/changes HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    if (!r.lat_ns || r.fd < 0 || post_fd < 0 || write_all(r.fd, sub, strlen(sub)))
        return -1;
    pthread_t t;
    pthread_create(&t, NULL, follow, &r);
    usleep(200000);
    char *body = malloc(SSE_BATCH * 200);
    uint64_t start = weir_mono_ns(), batches = (uint64_t)SSE_RATE * SSE_SECS / SSE_BATCH;
    int rc = 0;
    for (uint64_t b = 0; b < batches && rc == 0; b++) {
        uint64_t due = start + b * (1000000000ull * SSE_BATCH / SSE_RATE);
        while (weir_mono_ns() < due)
            usleep(200);
        size_t len = 0;
        uint64_t sent = weir_mono_ns();
        for (int i = 0; i < SSE_BATCH; i++)
            len += (size_t)sprintf(body + len, "{\"id\":\"s%llu-%d\",\"user\":\"u%d\",\"page\":\"/p\",\"ms\":1,\"sent\":%llu}\n",
                                   (unsigned long long)b, i, i % 97, (unsigned long long)sent);
        rc = post(post_fd, body, len);
    }
    usleep(500000);
    r.stop = 1;
    shutdown(r.fd, SHUT_RDWR);
    pthread_join(t, NULL);
    close(r.fd);
    close(post_fd);
    free(body);
    *count = r.n;
    *p50 = bench_percentile(r.lat_ns, r.n, 50);
    *p99 = bench_percentile(r.lat_ns, r.n, 99);
    free(r.lat_ns);
    return rc;
}

static long server_peak_rss_mb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb / 1024;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "build/bench-data";
    char weir[4200], here[4200], script1[4300], script1000[4300];
    snprintf(here, sizeof here, "%s/http", dir);
    if (argc > 2)
        snprintf(weir, sizeof weir, "%s", argv[2]);
    else { /* build/bench/http -> build/weir */
        ssize_t n = readlink("/proc/self/exe", weir, sizeof weir - 16);
        weir[n > 0 ? n : 0] = '\0';
        char *slash = strrchr(weir, '/');
        if (slash)
            *slash = '\0';
        strcat(weir, "/../weir");
    }
    if (system("command -v wrk >/dev/null")) {
        fprintf(stderr, "bench/http: wrk is missing (scripts/deps.sh bench installs it)\n");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    pid_t server = start_server(weir, here);
    if (server < 0) {
        fprintf(stderr, "bench/http: weir serve did not start (%s)\n", weir);
        return 1;
    }
    snprintf(script1000, sizeof script1000, "%s/post1000.lua", here);
    snprintf(script1, sizeof script1, "%s/post1.lua", here);
    wrk_result health, ingest, single, held;
    const char *failed = write_post_script(script1000, 1000) || write_post_script(script1, 1) ? "writing wrk scripts"
                         : run_wrk(50, 5, NULL, "/healthz", &health)                          ? "wrk /healthz"
                         : run_wrk(8, 10, script1000, "/v1/streams/events", &ingest)          ? "wrk batched ingest"
                         : run_wrk(1, 5, script1, "/v1/streams/events", &single)              ? "wrk single-event POST"
                                                                                              : NULL;
    uint64_t p50 = 0, p99 = 0;
    size_t seen = 0;
    if (!failed && sse_latency(&p50, &p99, &seen))
        failed = "ingest to SSE";
    /* 1,000 keep-alive connections: wrk holds them while /metrics is read */
    char metrics[65536];
    long open_max = 0;
    pid_t w = fork();
    if (w == 0) {
        wrk_result r;
        _exit(run_wrk(1000, 6, NULL, "/healthz", &r) || r.errors ? 1 : 0);
    }
    for (int i = 0; i < 20; i++) {
        usleep(250000);
        char *m;
        long open;
        if (http_get("/metrics", metrics, sizeof metrics) == 0 && (m = strstr(metrics, "\nweir_http_open_connections ")) &&
            sscanf(m, "\nweir_http_open_connections %ld", &open) == 1 && open > open_max)
            open_max = open;
    }
    int wstatus;
    waitpid(w, &wstatus, 0);
    if (!failed && run_wrk(1000, 5, NULL, "/healthz", &held))
        failed = "wrk with 1,000 connections";
    long rss = server_peak_rss_mb(server);
    kill(server, SIGTERM);
    waitpid(server, NULL, 0);
    if (failed) {
        fprintf(stderr, "bench/http: %s failed\n", failed);
        return 1;
    }
    double ingest_eps = ingest.rps * 1000;
    printf("| measure | result | vs ceiling |\n|---|---|---|\n");
    printf("| ceiling: GET /healthz, 50 connections | %.0f req/s (p99 %.2f ms) | 1.00 |\n", health.rps, health.p99_ms);
    printf("| durable ingest, NDJSON batches of 1,000 x 150 B, 8 connections | **%.2fM events/s** (%.0f req/s, p99 %.1f ms/batch, %ld errors) | %.1fx /healthz req/s in events/s |\n",
           ingest_eps / 1e6, ingest.rps, ingest.p99_ms, ingest.errors, ingest_eps / health.rps);
    printf("| single-event POST, 1 connection | p50 %.2f ms, p99 %.2f ms (%.0f req/s) | |\n", single.p50_ms, single.p99_ms,
           single.rps);
    printf("| ingest -> SSE event at 50k events/s (%zu events) | p50 %.2f ms, **p99 %.2f ms** | |\n", seen, p50 / 1e6, p99 / 1e6);
    printf("| 1,000 keep-alive connections on /healthz | %.0f req/s, %ld errors, %ld open at once (from /metrics) | %.2f |\n",
           held.rps, held.errors + (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0 ? 0 : 1), open_max, held.rps / health.rps);
    printf("| server peak memory | %ld MiB | |\n", rss);
    return 0;
}
