/*
 * buf.h - a growable byte buffer (the log's write buffer, the CLI's line
 * reader, JSON output), and growing arrays. Growth doubles; a failed
 * allocation leaves the buffer or array as it was.
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
/* v in decimal, without printf (which costs a fifth of writing rows of numbers). */
int weir_buf_append_uint(weir_buf *b, uint64_t v);
int weir_buf_printf(weir_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void weir_buf_free(weir_buf *b);

/* Doubles the capacity of an array of elem-byte elements (to `first` when
 * it has none): the moved array with *cap updated, or NULL with the array
 * and *cap as they were. */
void *weir_array_grow(void *array, size_t *cap, size_t elem, size_t first);

#endif
