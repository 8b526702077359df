/*
 * lexer.h - tokens of weir's SQL, for the parser only.
 */
#ifndef WEIR_SQL_LEXER_H
#define WEIR_SQL_LEXER_H

#include <stdbool.h>
#include <stddef.h>

#include "sql/sql.h"

typedef enum weir_token_kind {
    WEIR_T_EOF, WEIR_T_IDENT, WEIR_T_QIDENT, WEIR_T_STRING, WEIR_T_INT, WEIR_T_FLOAT,
    WEIR_T_LPAREN, WEIR_T_RPAREN, WEIR_T_COMMA, WEIR_T_SEMI, WEIR_T_DOT, WEIR_T_STAR,
    WEIR_T_PLUS, WEIR_T_MINUS, WEIR_T_SLASH, WEIR_T_PERCENT, WEIR_T_CONCAT,
    WEIR_T_EQ, WEIR_T_NE, WEIR_T_LT, WEIR_T_LE, WEIR_T_GT, WEIR_T_GE,
    WEIR_T_LBRACE, WEIR_T_RBRACE,
} weir_token_kind;

typedef struct weir_token {
    weir_token_kind kind;
    const char *p;             /* the token's text (quotes included) */
    size_t len;
    weir_sql_pos pos;
} weir_token;

typedef struct weir_lexer {
    const char *p, *end;
    uint32_t line;
    const char *line_start;
} weir_lexer;

void weir_lexer_init(weir_lexer *lx, const char *text, size_t len);
/* Next token; 0, or -1 with e filled (an unterminated string, a stray
 * character). */
int weir_lex(weir_lexer *lx, weir_token *t, weir_sql_error *e);
/* Whether t is the keyword kw (upper-case ASCII), case-insensitively. */
bool weir_token_is(const weir_token *t, const char *kw);
/* A short printable form of t for messages: 'FROM', end of input, ... */
void weir_token_describe(const weir_token *t, char *out, size_t cap);

#endif
