/*
 * hello_mhd.c - the smallest keep-alive HTTP server on libmicrohttpd: one
 * epoll thread answering "ok" to every request. Measured against
 * hello_h2o.c with wrk to choose weir's HTTP library (BENCHMARKS.md).
 * Usage: hello_mhd PORT [THREADS]
 */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static struct MHD_Response *ok;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_len, void **state)
{
    (void)cls, (void)url, (void)method, (void)version, (void)upload, (void)upload_len;
    if (!*state) { /* the first call only announces the request */
        *state = c;
        return MHD_YES;
    }
    return MHD_queue_response(c, 200, ok);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: hello_mhd PORT [THREADS]\n");
        return 2;
    }
    unsigned threads = argc > 2 ? (unsigned)atoi(argv[2]) : 1;
    ok = MHD_create_response_from_buffer(3, "ok\n", MHD_RESPMEM_PERSISTENT);
    if (!ok)
        return 1;
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, (uint16_t)atoi(argv[1]), NULL,
                                            NULL, on_request, NULL, MHD_OPTION_THREAD_POOL_SIZE, threads,
                                            MHD_OPTION_CONNECTION_LIMIT, 4000u, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "hello_mhd: cannot listen on port %s\n", argv[1]);
        return 1;
    }
    pause(); /* until a signal ends the process */
    MHD_stop_daemon(d);
    return 0;
}
