/*
 * buf.h - a growable byte buffer (the log's write buffer, the CLI's line
 * reader, JSON output). Growth doubles; a failed allocation leaves the
 * buffer as it was and returns WEIR_ENOMEM.
 */
#ifndef WEIR_BUF_H
#define WEIR_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct weir_buf {
    uint8_t *data; /* owned; NULL while cap == 0 */
    size_t len;    /* bytes in use */
    size_t cap;    /* bytes allocated */
} weir_buf;

/* Makes room for `extra` more bytes past len. Returns 0 or WEIR_ENOMEM. */
int weir_buf_reserve(weir_buf *b, size_t extra);
int weir_buf_append(weir_buf *b, const void *p, size_t n);
int weir_buf_append_str(weir_buf *b, const char *s);
int weir_buf_printf(weir_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void weir_buf_free(weir_buf *b);

#endif
