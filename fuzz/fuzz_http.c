/*
 * fuzz_http.c - the server's own request-path handling on arbitrary
 * paths: route-template matching and the dashboard's file-name check.
 * (libmicrohttpd parses the request itself.) A match must give non-empty
 * parameters without '/', and putting them back into the template must
 * give the path again; a path accepted as a plain file name has no ".."
 * or hidden segment.
 */
#include <stdlib.h>
#include <string.h>

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 512)
        return 0;
    char path[513];
    memcpy(path, data, size);
    path[size] = '\0';
    for (size_t i = 0; i < sizeof templates / sizeof *templates; i++)
        check(templates[i], path);
    if (weir_http_plain_path(path) && (strstr(path, "/.") || strstr(path, "//")))
        abort();
    return 0;
}
