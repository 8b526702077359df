/*
 * buf.c - growable byte buffer. See buf.h.
 */
#include "base/buf.h"
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int weir_buf_reserve(weir_buf *b, size_t extra)
{
    if (extra <= b->cap - b->len)
        return 0;
    if (extra > SIZE_MAX / 2 - b->len)
        return WEIR_ENOMEM;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        return WEIR_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

void *weir_array_grow(void *array, size_t *cap, size_t elem, size_t first)
{
    size_t n = *cap ? *cap * 2 : first;
    if (n < *cap || n > SIZE_MAX / elem)
        return NULL;
    void *grown = realloc(array, n * elem);
    if (grown)
        *cap = n;
    return grown;
}

int weir_buf_append(weir_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (weir_buf_reserve(b, n))
        return WEIR_ENOMEM;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int weir_buf_append_str(weir_buf *b, const char *s)
{
    return weir_buf_append(b, s, strlen(s));
}

int weir_buf_append_uint(weir_buf *b, uint64_t v)
{
    char digits[20];
    size_t n = 0;
    do
        digits[sizeof digits - 1 - n++] = (char)('0' + v % 10);
    while ((v /= 10));
    return weir_buf_append(b, digits + sizeof digits - n, n);
}

int weir_buf_printf(weir_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || weir_buf_reserve(b, (size_t)n + 1))
        return WEIR_ENOMEM;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void weir_buf_free(weir_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
