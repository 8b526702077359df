/*
 * lexer.c - splits SQL text into tokens, tracking line and column.
 * Comments (-- to end of line, and C-style) and whitespace are skipped.
 */
#include "sql/lexer.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void weir_lexer_init(weir_lexer *lx, const char *text, size_t len)
{
    lx->p = text;
    lx->end = text + len;
    lx->line = 1;
    lx->line_start = text;
}

static weir_sql_pos here(const weir_lexer *lx)
{
    return (weir_sql_pos){lx->line, (uint32_t)(lx->p - lx->line_start) + 1};
}

static void advance(weir_lexer *lx)
{
    if (*lx->p == '\n') {
        lx->line++;
        lx->line_start = lx->p + 1;
    }
    lx->p++;
}

static int fail(weir_lexer *lx, weir_sql_pos pos, weir_sql_error *e, const char *msg)
{
    (void)lx;
    e->line = pos.line;
    e->col = pos.col;
    snprintf(e->msg, sizeof e->msg, "%s", msg);
    return -1;
}

static int skip_space_and_comments(weir_lexer *lx, weir_sql_error *e)
{
    for (;;) {
        while (lx->p < lx->end && isspace((unsigned char)*lx->p))
            advance(lx);
        if (lx->end - lx->p >= 2 && lx->p[0] == '-' && lx->p[1] == '-') {
            while (lx->p < lx->end && *lx->p != '\n')
                advance(lx);
        } else if (lx->end - lx->p >= 2 && lx->p[0] == '/' && lx->p[1] == '*') {
            weir_sql_pos start = here(lx);
            advance(lx);
            advance(lx);
            while (lx->p < lx->end && !(lx->end - lx->p >= 2 && lx->p[0] == '*' && lx->p[1] == '/'))
                advance(lx);
            if (lx->p >= lx->end)
                return fail(lx, start, e, "unterminated comment: expected '*/'");
            advance(lx);
            advance(lx);
        } else {
            return 0;
        }
    }
}

/* A quoted token ('string' or "identifier"); a doubled quote is a quote. */
static int quoted(weir_lexer *lx, weir_token *t, char q, weir_sql_error *e)
{
    advance(lx);
    for (;;) {
        if (lx->p >= lx->end)
            return fail(lx, t->pos, e, q == '\'' ? "unterminated string: expected a closing '" :
                                                   "unterminated quoted identifier: expected a closing \"");
        if (*lx->p == q) {
            advance(lx);
            if (lx->p < lx->end && *lx->p == q) {
                advance(lx);
                continue;
            }
            return 0;
        }
        advance(lx);
    }
}

int weir_lex(weir_lexer *lx, weir_token *t, weir_sql_error *e)
{
    if (skip_space_and_comments(lx, e))
        return -1;
    t->pos = here(lx);
    t->p = lx->p;
    if (lx->p >= lx->end) {
        t->kind = WEIR_T_EOF;
        t->len = 0;
        return 0;
    }
    char c = *lx->p;
    char n = lx->end - lx->p > 1 ? lx->p[1] : '\0';
    int rc = 0;
    if (isalpha((unsigned char)c) || c == '_') {
        while (lx->p < lx->end && (isalnum((unsigned char)*lx->p) || *lx->p == '_'))
            advance(lx);
        t->kind = WEIR_T_IDENT;
    } else if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)n))) {
        t->kind = WEIR_T_INT;
        while (lx->p < lx->end && isdigit((unsigned char)*lx->p))
            advance(lx);
        if (lx->p < lx->end && *lx->p == '.') {
            t->kind = WEIR_T_FLOAT;
            advance(lx);
            while (lx->p < lx->end && isdigit((unsigned char)*lx->p))
                advance(lx);
        }
        if (lx->p < lx->end && (*lx->p == 'e' || *lx->p == 'E')) {
            const char *save = lx->p;
            advance(lx);
            if (lx->p < lx->end && (*lx->p == '+' || *lx->p == '-'))
                advance(lx);
            if (lx->p < lx->end && isdigit((unsigned char)*lx->p)) {
                t->kind = WEIR_T_FLOAT;
                while (lx->p < lx->end && isdigit((unsigned char)*lx->p))
                    advance(lx);
            } else {
                lx->p = save; /* "1e" is 1 followed by the identifier e */
            }
        }
        if (lx->p < lx->end && (isalpha((unsigned char)*lx->p) || *lx->p == '_'))
            return fail(lx, here(lx), e, "a number must not run into a name: put a space between them");
    } else if (c == '\'' || c == '"') {
        t->kind = c == '\'' ? WEIR_T_STRING : WEIR_T_QIDENT;
        rc = quoted(lx, t, c, e);
    } else {
        static const struct { const char *text; weir_token_kind kind; } ops[] = {
            {"<>", WEIR_T_NE}, {"!=", WEIR_T_NE}, {"<=", WEIR_T_LE}, {">=", WEIR_T_GE}, {"||", WEIR_T_CONCAT},
            {"(", WEIR_T_LPAREN}, {")", WEIR_T_RPAREN}, {",", WEIR_T_COMMA}, {";", WEIR_T_SEMI}, {".", WEIR_T_DOT},
            {"*", WEIR_T_STAR}, {"+", WEIR_T_PLUS}, {"-", WEIR_T_MINUS}, {"/", WEIR_T_SLASH}, {"%", WEIR_T_PERCENT},
            {"=", WEIR_T_EQ}, {"<", WEIR_T_LT}, {">", WEIR_T_GT}, {"{", WEIR_T_LBRACE}, {"}", WEIR_T_RBRACE},
        };
        size_t i;
        for (i = 0; i < sizeof ops / sizeof ops[0]; i++) {
            size_t k = strlen(ops[i].text);
            if ((size_t)(lx->end - lx->p) >= k && memcmp(lx->p, ops[i].text, k) == 0) {
                t->kind = ops[i].kind;
                for (size_t j = 0; j < k; j++)
                    advance(lx);
                break;
            }
        }
        if (i == sizeof ops / sizeof ops[0]) {
            char msg[64];
            if (isprint((unsigned char)c))
                snprintf(msg, sizeof msg, "unexpected character '%c'", c);
            else
                snprintf(msg, sizeof msg, "unexpected byte 0x%02x", (unsigned char)c);
            return fail(lx, t->pos, e, msg);
        }
    }
    t->len = (size_t)(lx->p - t->p);
    return rc;
}

bool weir_token_is(const weir_token *t, const char *kw)
{
    return t->kind == WEIR_T_IDENT && strlen(kw) == t->len && strncasecmp(t->p, kw, t->len) == 0;
}

void weir_token_describe(const weir_token *t, char *out, size_t cap)
{
    if (t->kind == WEIR_T_EOF)
        snprintf(out, cap, "end of input");
    else
        snprintf(out, cap, "'%.*s'", (int)(t->len > 40 ? 40 : t->len), t->p);
}
