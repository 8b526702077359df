/*
 * api_schemas.c - the schema registry over HTTP:
 *   GET  /v1/schemas                                subjects and their latest versions
 *   GET  /v1/schemas/{subject}                      the latest version
 *   GET  /v1/schemas/{subject}/versions/{version}   one version
 *   POST /v1/schemas/{subject}                      register a new version (201; 200 if unchanged;
 *                                                   409 if not backward compatible; 422 if not a schema)
 */
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "server/api.h"

/* {"subject", "version", "versions", "schema"}: the schema as JSON, not a string. */
static void reply_version(weir_runtime *s, weir_http_req *req, const char *subject, int version, int status)
{
    int v, versions = 0;
    pthread_mutex_lock(&s->lock);
    const char *text = weir_registry_get(s->registry, subject, version, &v, NULL);
    for (int i = 0; i < weir_registry_count(s->registry); i++) {
        int n;
        if (!strcmp(weir_registry_subject(s->registry, i, &n), subject))
            versions = n;
    }
    pthread_mutex_unlock(&s->lock);
    if (!text) {
        if (version)
            weir_http_reply_error(req, 404, "subject %s has no version %d", subject, version);
        else
            weir_http_reply_error(req, 404, "no schema subject %s", subject);
        return;
    }
    weir_buf b = {0};
    int rc = weir_buf_append_str(&b, "{\"subject\":") || weir_json_quote(&b, subject, strlen(subject)) ||
             weir_buf_printf(&b, ",\"version\":%d,\"versions\":%d,\"schema\":%s}\n", v, versions, text);
    api_reply_json(req, status, rc, &b);
    weir_buf_free(&b);
}

int api_schema_list(void *ctx, weir_http_req *req)
{
    weir_runtime *s = ((weir_server *)ctx)->rt;
    weir_buf b = {0};
    int rc = weir_buf_append_str(&b, "{\"subjects\":[");
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < weir_registry_count(s->registry) && !rc; i++) {
        int n;
        const char *name = weir_registry_subject(s->registry, i, &n);
        rc = (i && weir_buf_append_str(&b, ",")) || weir_buf_append_str(&b, "{\"subject\":") ||
             weir_json_quote(&b, name, strlen(name)) || weir_buf_printf(&b, ",\"latest\":%d}", n);
    }
    pthread_mutex_unlock(&s->lock);
    rc = rc || weir_buf_append_str(&b, "]}\n");
    api_reply_json(req, 200, rc, &b);
    weir_buf_free(&b);
    return 0;
}

int api_schema_get(void *ctx, weir_http_req *req)
{
    reply_version(((weir_server *)ctx)->rt, req, weir_http_param(req, "subject"), 0, 200);
    return 0;
}

int api_schema_version(void *ctx, weir_http_req *req)
{
    const char *v = weir_http_param(req, "version");
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < 1 || n > 1000000) {
        weir_http_reply_error(req, 400, "a version is a number from 1, not '%s'", v);
        return 0;
    }
    reply_version(((weir_server *)ctx)->rt, req, weir_http_param(req, "subject"), (int)n, 200);
    return 0;
}

int api_schema_add(void *ctx, weir_http_req *req)
{
    weir_runtime *s = ((weir_server *)ctx)->rt;
    const char *subject = weir_http_param(req, "subject");
    size_t len;
    const char *body = (const char *)weir_http_body(req, &len);
    weir_json_error je;
    if (weir_json_validate(body, len, NULL, &je)) {
        unsigned line, col;
        weir_json_position(body, je.offset, &line, &col);
        weir_http_reply_error(req, 400, "bad JSON at line %u, column %u: %s", line, col, je.msg);
        return 0;
    }
    weir_err err = {0};
    int version;
    bool created;
    pthread_mutex_lock(&s->lock);
    int rc = weir_registry_add(s->registry, subject, body, len, &version, &created, &err);
    pthread_mutex_unlock(&s->lock);
    if (rc == WEIR_EEXIST)
        weir_http_reply_error(req, 409, "%s", err.msg);
    else if (rc == WEIR_EINVAL)
        weir_http_reply_error(req, 422, "%s", err.msg);
    else if (rc)
        weir_http_reply_error(req, 500, "%s", err.msg);
    else
        reply_version(s, req, subject, version, created ? 201 : 200);
    return 0;
}
