/*
 * sql.h - parsing weir's SQL (see README "SQL reference" and ast.h).
 *
 * A script is statements separated by ';'. Keywords are case-insensitive;
 * identifiers are case-sensitive (they name JSON fields) and may be
 * double-quoted to hold dots or dashes ("conjecture.data"). Errors say
 * line:column, what was expected and what was found.
 */
#ifndef WEIR_SQL_H
#define WEIR_SQL_H

#include <stdarg.h>
#include <stddef.h>

#include "base/arena.h"
#include "sql/ast.h"

typedef struct weir_sql_error {
    uint32_t line, col;        /* where, 1-based */
    char msg[512];             /* "expected )' after the column list, found 'FROM'" */
} weir_sql_error;

/* Parses a script. On success *stmts (an arena array of *n statements)
 * and everything they point to live in arena a. Returns 0 or WEIR_EINVAL
 * with e filled. */
int weir_sql_parse(const char *text, size_t len, weir_arena *a, weir_stmt ***stmts, size_t *n,
                   weir_sql_error *e);

/* Fills e with a position and a formatted message (parser and planner). */
void weir_sql_error_vset(weir_sql_error *e, weir_sql_pos pos, const char *fmt, va_list ap);

#endif
