/*
 * http_post.h - one POST to a weir server with libcurl, for the commands
 * that send records to one (weir gen --post, weir produce through a
 * running serve).
 */
#ifndef WEIR_CLI_HTTP_POST_H
#define WEIR_CLI_HTTP_POST_H

#include <curl/curl.h>

#include "base/buf.h"

typedef struct http_answer {
    long status;               /* the HTTP status; 0 when no answer came */
    long retry_after_s;        /* its Retry-After, or 1 */
    weir_buf body;             /* its body (owned: weir_buf_free) */
} http_answer;

/* POSTs body (len bytes) to url with headers (may be NULL) on curl; fills
 * *answer. An https url's certificate is checked against the system's
 * authorities, or those of ca_file (PEM) when it is not NULL. Returns
 * curl's result: CURLE_OK once an answer came. */
CURLcode http_post(CURL *curl, const char *url, const char *ca_file, const struct curl_slist *headers, const void *body,
                   size_t len, http_answer *answer);

#endif
