/*
 * statements_file.h - DATA/statements.sql, the statements added to a
 * running server (runtime/statements.c), one group per request:
 *
 *     -- weir: ... (comment lines)
 *     -- next statement s3          (the next group's name: never one given before)
 *     -- statement s1
 *     CREATE TABLE per_page AS SELECT ...;
 *     -- statement s2
 *     ...
 *
 * It is SQL too (the marks are comments): `weir query` reads it after the
 * pipeline file.
 */
#ifndef WEIR_RUNTIME_STATEMENTS_FILE_H
#define WEIR_RUNTIME_STATEMENTS_FILE_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

typedef struct added_group {
    char *name;                   /* "s<N>": its runner's directory */
    char *sql;                    /* its statements, each ending in ';' */
    size_t len;
} added_group;

/* The groups of text (*out, *n; free with weir_statements_free, also on
 * failure) and the number the next group takes (*next: past every sN).
 * WEIR_ECORRUPT with where and why for text that is not such a file. */
int weir_statements_parse(const char *text, size_t len, added_group **out, int *n, unsigned *next, weir_err *err);
/* The file's text for groups g[0..n), the next group to be sN: 0, or -1 out of memory. */
int weir_statements_format(const added_group *g, int n, unsigned next, weir_buf *out);
void weir_statements_free(added_group *g, int n);

#endif
