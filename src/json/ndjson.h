/*
 * ndjson.h - splitting newline-delimited JSON into records, checking each.
 *
 * Input arrives in chunks (reads from a file, HTTP request bodies); the
 * splitter keeps the position (line number, byte offset) across chunks so
 * an error can say exactly where it is. Blank lines (spaces, tabs, CR) are
 * skipped; every other line must be one JSON object. A trailing CR is not
 * part of the record.
 */
#ifndef WEIR_NDJSON_H
#define WEIR_NDJSON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "json/json.h"

typedef struct weir_ndjson {
    uint64_t line;      /* lines consumed so far */
    uint64_t offset;    /* bytes consumed so far */
    bool lenient;       /* pass every non-blank line to fn unchecked (its reader dead-letters bad ones) */
} weir_ndjson;

typedef struct weir_ndjson_error {
    uint64_t line;      /* 1-based line of the error */
    unsigned column;    /* 1-based byte column in that line */
    uint64_t offset;    /* byte offset in the whole input */
    char msg[160];
} weir_ndjson_error;

/* Called for each record line; text is the object (surrounding whitespace
 * trimmed), line its 1-based number. A non-zero return stops the feed,
 * which then returns that value; fn may fill *e first. */
typedef int (*weir_ndjson_fn)(void *ctx, const char *text, size_t len, uint64_t line, weir_ndjson_error *e);

/* Processes the complete lines of buf[0..len), and the last partial line
 * too if at_eof. Returns the bytes consumed (the caller keeps the rest for
 * the next call), -1 with *e filled for a malformed line, or the negated
 * non-zero value fn returned. */
ssize_t weir_ndjson_feed(weir_ndjson *r, const char *buf, size_t len, bool at_eof,
                         weir_ndjson_fn fn, void *ctx, weir_ndjson_error *e);

#endif
