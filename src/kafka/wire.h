/*
 * wire.h - the Kafka protocol's primitive types (kafka.apache.org/protocol):
 * big-endian integers, zigzag varints, (compact, nullable) strings and
 * bytes, arrays and tagged fields, read from a request and written into a
 * response.
 *
 * A reader never reads past its end: the first field that does not fit
 * (or a length that is negative where it may not be, or a varint longer
 * than ten bytes) makes the reader bad, with a message naming the field and
 * its byte position, and every later read returns zero values. Callers read
 * a whole request and check weir_kr_ok once, at the end. A writer appends
 * to a weir_buf and remembers a failed allocation the same way.
 */
#ifndef WEIR_KAFKA_WIRE_H
#define WEIR_KAFKA_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

typedef struct weir_kr {
    const uint8_t *start, *p, *end;
    bool bad;                     /* a read failed: err says which */
    char err[200];
} weir_kr;

typedef struct weir_kslice {      /* bytes inside the request; NULL data with len 0: null */
    const uint8_t *data;
    size_t len;
    bool null;
} weir_kslice;

void weir_kr_init(weir_kr *r, const uint8_t *p, size_t len);
bool weir_kr_ok(const weir_kr *r);
size_t weir_kr_left(const weir_kr *r);
/* Makes the reader bad with a message (the first one is kept). */
void weir_kr_fail(weir_kr *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int8_t weir_kr_i8(weir_kr *r, const char *what);
int16_t weir_kr_i16(weir_kr *r, const char *what);
int32_t weir_kr_i32(weir_kr *r, const char *what);
int64_t weir_kr_i64(weir_kr *r, const char *what);
uint64_t weir_kr_uvarint(weir_kr *r, const char *what);
int64_t weir_kr_varint(weir_kr *r, const char *what);     /* zigzag, up to 64 bits */
/* STRING / NULLABLE_STRING (int16 length), or COMPACT_ forms (uvarint length + 1). */
weir_kslice weir_kr_string(weir_kr *r, bool compact, bool nullable, const char *what);
/* BYTES / NULLABLE_BYTES (int32 length), or COMPACT_ forms. */
weir_kslice weir_kr_bytes(weir_kr *r, bool compact, bool nullable, const char *what);
/* A fixed number of raw bytes. */
weir_kslice weir_kr_raw(weir_kr *r, size_t n, const char *what);
/* An array's element count (int32, or compact uvarint - 1); -1 for null
 * where nullable, else a null array makes the reader bad. A count that could not fit in what is left (each element taking at least
 * min_size bytes) makes the reader bad, so callers may allocate by it. */
int32_t weir_kr_array(weir_kr *r, bool compact, bool nullable, size_t min_size, const char *what);
/* Skips a tagged-field section (flexible versions). */
void weir_kr_tags(weir_kr *r, const char *what);
/* Copies a string into dst (cap bytes, NUL-terminated); bad if it does not fit or holds a NUL. */
void weir_kr_cstr(weir_kr *r, weir_kslice s, char *dst, size_t cap, const char *what);

typedef struct weir_kw {
    weir_buf *b;
    bool oom;                     /* an append failed: the response is lost */
} weir_kw;

void weir_kw_i8(weir_kw *w, int8_t v);
void weir_kw_i16(weir_kw *w, int16_t v);
void weir_kw_i32(weir_kw *w, int32_t v);
void weir_kw_i64(weir_kw *w, int64_t v);
void weir_kw_uvarint(weir_kw *w, uint64_t v);
void weir_kw_varint(weir_kw *w, int64_t v);
void weir_kw_raw(weir_kw *w, const void *p, size_t n);
/* A string (NULL: null), in the compact form or not. */
void weir_kw_string(weir_kw *w, bool compact, const char *s);
void weir_kw_stringn(weir_kw *w, bool compact, const char *s, size_t n);
/* An array's count (int32 or compact uvarint + 1). */
void weir_kw_array(weir_kw *w, bool compact, int32_t n);
/* An empty tagged-field section, in flexible versions only. */
void weir_kw_tags(weir_kw *w, bool flexible);
/* Overwrites 4 bytes at pos (an int32 written before, such as a size). */
void weir_kw_patch_i32(weir_kw *w, size_t pos, int32_t v);

#endif
