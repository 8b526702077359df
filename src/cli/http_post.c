/*
 * http_post.c - one POST to a weir server with libcurl (see http_post.h).
 */
#include "cli/http_post.h"

#include <stdlib.h>
#include <strings.h>

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    return weir_buf_append(ctx, data, size * n) ? 0 : size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
    http_answer *a = ctx;
    if (size * n > 12 && !strncasecmp(data, "Retry-After:", 12))
        a->retry_after_s = strtol(data + 12, NULL, 10);
    return size * n;
}

CURLcode http_post(CURL *curl, const char *url, const char *ca_file, const struct curl_slist *headers, const void *body,
                   size_t len, http_answer *answer)
{
    answer->status = 0;
    answer->retry_after_s = 1;
    answer->body.len = 0;
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    if (ca_file)
        curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
    if (headers)
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, (const char *)body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer->body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, answer);
    CURLcode e = curl_easy_perform(curl);
    if (e == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer->status);
    return e;
}
