/*
 * schemas.c - the schema registry (registry.c) as its clients see it (see
 * schemas.h): answers in JSON, under the runtime's registry_lock, since
 * the registry is not thread-safe and ingest reads it.
 */
#include "runtime/schemas.h"

#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "runtime/runtime_internal.h"

/* {"subject", "version", "versions", "schema"}: the schema as JSON, not a string. */
static void answer_version(weir_runtime *s, weir_answer *a, const char *subject, int version, int status)
{
    int v, versions = 0;
    pthread_mutex_lock(&s->registry_lock);
    const char *text = weir_registry_get(s->registry, subject, version, &v, NULL);
    for (int i = 0; i < weir_registry_count(s->registry); i++) {
        int n;
        if (!strcmp(weir_registry_subject(s->registry, i, &n), subject))
            versions = n;
    }
    pthread_mutex_unlock(&s->registry_lock);
    if (!text) {
        if (version)
            answer_error(a, 404, "subject %s has no version %d", subject, version);
        else
            answer_error(a, 404, "no schema subject %s", subject);
        return;
    }
    weir_buf b = {0};
    int rc = weir_buf_append_str(&b, "{\"subject\":") || weir_json_quote(&b, subject, strlen(subject)) ||
             weir_buf_printf(&b, ",\"version\":%d,\"versions\":%d,\"schema\":%s}\n", v, versions, text);
    answer_json(a, status, rc, &b);
}

void weir_runtime_schemas(weir_runtime *s, weir_answer *a)
{
    weir_buf b = {0};
    int rc = weir_buf_append_str(&b, "{\"subjects\":[");
    pthread_mutex_lock(&s->registry_lock);
    for (int i = 0; i < weir_registry_count(s->registry) && !rc; i++) {
        int n;
        const char *name = weir_registry_subject(s->registry, i, &n);
        rc = (i && weir_buf_append_str(&b, ",")) || weir_buf_append_str(&b, "{\"subject\":") ||
             weir_json_quote(&b, name, strlen(name)) || weir_buf_printf(&b, ",\"latest\":%d}", n);
    }
    pthread_mutex_unlock(&s->registry_lock);
    rc = rc || weir_buf_append_str(&b, "]}\n");
    answer_json(a, 200, rc, &b);
}

void weir_runtime_schema(weir_runtime *s, const char *subject, int version, weir_answer *a)
{
    answer_version(s, a, subject, version, 200);
}

void weir_runtime_schema_add(weir_runtime *s, const char *subject, const char *body, size_t len, weir_answer *a)
{
    weir_json_error je;
    if (weir_json_validate(body, len, NULL, &je)) {
        unsigned line, col;
        weir_json_position(body, je.offset, &line, &col);
        answer_error(a, 400, "bad JSON at line %u, column %u: %s", line, col, je.msg);
        return;
    }
    weir_err err = {0};
    int version;
    bool created;
    pthread_mutex_lock(&s->registry_lock);
    int rc = weir_registry_add(s->registry, subject, body, len, &version, &created, &err);
    pthread_mutex_unlock(&s->registry_lock);
    if (rc == WEIR_EEXIST)
        answer_error(a, 409, "%s", err.msg);
    else if (rc == WEIR_EINVAL)
        answer_error(a, 422, "%s", err.msg);
    else if (rc)
        answer_error(a, 500, "%s", err.msg);
    else
        answer_version(s, a, subject, version, created ? 201 : 200);
}
