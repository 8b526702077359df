/*
 * api_browse.c - the log's records and consumer groups over HTTP
 * (runtime/browse.h): GET /v1/streams/{s}/records and GET /v1/groups. The
 * dashboard's stream browser is built on these.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/browse.h"
#include "server/api.h"
#include "sql/value.h"

#define DEFAULT_LIMIT 50
#define MAX_LIMIT 1000

/* Parses ?name= as a whole number up to max; answers 400 and returns false if it is not one. */
static bool number_arg(weir_http_req *req, const char *name, uint64_t max, uint64_t *out)
{
    const char *v = weir_http_query(req, name);
    if (!v)
        return true;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (!*v || *end || *v == '-' || n > max) {
        weir_http_reply_error(req, 400, "%s must be a whole number from 0 to %llu, not '%s'", name,
                              (unsigned long long)max, v);
        return false;
    }
    *out = n;
    return true;
}

/* GET /v1/streams/{s}/records[?partition=P[&offset=O]][&time=T][&key=K][&limit=N] */
int api_records(void *ctx, weir_http_req *req)
{
    weir_server *srv = ctx;
    uint64_t limit = DEFAULT_LIMIT;
    weir_browse q = {.partition = UINT64_MAX, .offset = UINT64_MAX, .key = weir_http_query(req, "key")};
    const char *time = weir_http_query(req, "time");
    if (!number_arg(req, "partition", 9999, &q.partition) || !number_arg(req, "offset", UINT64_MAX - 1, &q.offset) ||
        !number_arg(req, "limit", MAX_LIMIT, &limit))
        return 0;
    if (time && !(q.has_time = weir_timestamp_parse(time, strlen(time), &q.time_ms))) {
        weir_http_reply_error(req, 400, "time must be an ISO 8601 time or epoch seconds or milliseconds, not '%s'", time);
        return 0;
    }
    if (q.offset != UINT64_MAX && (q.partition == UINT64_MAX || time)) {
        weir_http_reply_error(req, 400, "offset needs partition= (offsets are per partition), and not time=");
        return 0;
    }
    q.limit = (size_t)limit;
    weir_answer a = {0};
    weir_runtime_records(srv->rt, weir_http_param(req, "s"), &q, &a);
    api_answer(req, &a);
    return 0;
}

/* GET /v1/groups */
int api_groups(void *ctx, weir_http_req *req) { return api_answer_from(ctx, req, weir_runtime_groups); }
