/*
 * ast.h - the parsed form of weir's SQL: statements, SELECTs, expressions.
 *
 * Everything here lives in the arena the parser was given; strings are
 * NUL-terminated copies. The parser fills the syntax; the planner
 * (plan*.c) fills the fields marked "planner" (types, column indexes,
 * aggregate slots) and never changes the syntax.
 */
#ifndef WEIR_SQL_AST_H
#define WEIR_SQL_AST_H

#include <stdbool.h>
#include <stdint.h>

#include "sql/value.h"

typedef struct weir_sql_pos {
    uint32_t line, col;        /* 1-based, in the statement's source text */
} weir_sql_pos;

typedef enum weir_expr_kind {
    WEIR_E_LITERAL,
    WEIR_E_COLUMN,
    WEIR_E_STAR,               /* the * of COUNT(*) */
    WEIR_E_UNARY,
    WEIR_E_BINARY,
    WEIR_E_CALL,               /* functions and aggregates */
    WEIR_E_CASE,
    WEIR_E_CAST,
    WEIR_E_IS_NULL,
    WEIR_E_IN,                 /* a IN (list) */
    WEIR_E_BETWEEN,
    WEIR_E_LIKE,
    WEIR_E_SLOT,               /* planner only: a grouped query's key, aggregate or window bound */
    WEIR_E_PARAM,              /* {name}: a CREATE ENDPOINT's parameter (col.name), replaced by a literal per request */
} weir_expr_kind;

typedef enum weir_op {
    WEIR_OP_NEG, WEIR_OP_NOT,
    WEIR_OP_ADD, WEIR_OP_SUB, WEIR_OP_MUL, WEIR_OP_DIV, WEIR_OP_MOD, WEIR_OP_CONCAT,
    WEIR_OP_EQ, WEIR_OP_NE, WEIR_OP_LT, WEIR_OP_LE, WEIR_OP_GT, WEIR_OP_GE,
    WEIR_OP_AND, WEIR_OP_OR,
} weir_op;

typedef struct weir_expr weir_expr;
struct weir_expr {
    weir_expr_kind kind;
    weir_sql_pos pos;
    weir_type type;            /* planner: the result type */
    bool interval;             /* LITERAL: an INTERVAL, as INT milliseconds (only a join's time bound takes one) */
    union {
        weir_value lit;                                     /* LITERAL */
        struct {
            const char *name;
            int index;                                      /* planner: in the row it is evaluated over */
            const char *qual;                               /* c.user: the stream or alias naming it, or NULL */
        } col;                                              /* COLUMN (and PARAM's name) */
        int slot;                                           /* SLOT: index into the grouped row */
        struct { weir_op op; weir_expr *a, *b; } op;        /* UNARY (a), BINARY */
        struct {
            const char *name;                               /* lower-cased */
            weir_expr **args;
            int nargs;
            bool distinct;                                  /* COUNT(DISTINCT x) */
            weir_type returning;                            /* JSON_VALUE(... RETURNING type), or WEIR_TYPE_NULL */
            int fn;                                         /* planner: function or aggregate id */
            int slot;                                       /* planner: aggregate slot, -1 if none */
        } call;
        struct {
            weir_expr *operand;                             /* CASE x WHEN ...; NULL for CASE WHEN */
            weir_expr **when, **then;
            int n;
            weir_expr *otherwise;                           /* NULL: ELSE NULL */
        } cases;
        struct { weir_expr *a; weir_type to; } cast;
        struct { weir_expr *a; bool negate; } isnull;       /* a IS [NOT] NULL */
        struct { weir_expr *a; weir_expr **list; int n; bool negate; } in;
        struct { weir_expr *a, *lo, *hi; bool negate; } between;
        struct { weir_expr *a, *pattern; bool negate; } like;
    };
};

typedef struct weir_select_item {
    weir_expr *expr;
    const char *alias;         /* NULL: derived from the expression */
    weir_sql_pos pos;
} weir_select_item;

typedef enum weir_window_kind {
    WEIR_WINDOW_NONE, WEIR_WINDOW_TUMBLE, WEIR_WINDOW_HOP, WEIR_WINDOW_SESSION,
} weir_window_kind;

typedef struct weir_window_spec {
    weir_window_kind kind;
    int64_t size_ms;           /* TUMBLE, HOP; CUMULATE: the largest window */
    int64_t slide_ms;          /* HOP (TUMBLE: = size); CUMULATE: the step */
    bool cumulate;             /* HOP's panes as Flink's CUMULATE windows: [start, start + k * slide) for k = 1 ..
                                  size / slide, start a multiple of size (a kind of HOP: what knows the kinds by
                                  name sees a hopping window of the largest size) */
    int64_t gap_ms;            /* SESSION */
    int64_t grace_ms;          /* GRACE; 0 if not given */
} weir_window_spec;

/* Flink's window table-valued function in FROM: TABLE(TUMBLE(TABLE s,
 * DESCRIPTOR(ts), size)) and HOP, CUMULATE, SESSION. Its window goes to
 * weir_select.window as weir's own FROM TUMBLE(s, size) puts it; this
 * keeps what only the TVF says. */
typedef struct weir_window_tvf {
    weir_sql_pos pos;          /* of TABLE( */
    const char *time_col;      /* DESCRIPTOR(col): the time attribute the windows follow */
    weir_sql_pos time_pos;
    weir_expr **partition;     /* SESSION(TABLE s PARTITION BY cols, ...): the columns, or NULL */
    int npartition;
} weir_window_tvf;

typedef struct weir_order_item {
    weir_expr *expr;
    bool desc;
} weir_order_item;

typedef enum weir_emit { WEIR_EMIT_CHANGES, WEIR_EMIT_FINAL } weir_emit;

typedef enum weir_join_kind {
    WEIR_JOIN_NONE,            /* one input */
    WEIR_JOIN_INNER, WEIR_JOIN_LEFT, WEIR_JOIN_FULL,
} weir_join_kind;

typedef struct weir_select {
    weir_select_item *items;
    int nitems;
    bool star;                 /* SELECT * */
    bool distinct;             /* SELECT DISTINCT */
    const char *from;
    weir_sql_pos from_pos;
    const char *from_alias;    /* FROM s AS a, or NULL */
    struct weir_select *subquery; /* FROM (SELECT ...) [AS] a: the parser inlines it (inline.h), then NULL */
    weir_join_kind join;       /* FROM a [LEFT|FULL] JOIN b ON on */
    weir_sql_pos join_pos;     /* of the JOIN's first word */
    const char *right;         /* the joined stream */
    weir_sql_pos right_pos;
    const char *right_alias;   /* or NULL */
    weir_expr *right_as_of;    /* FOR SYSTEM_TIME AS OF expr after a joined table (a temporal join), or NULL */
    weir_expr *on;
    weir_sql_pos on_pos;       /* of the condition's first token */
    weir_window_spec window;
    weir_window_tvf *tvf;      /* FROM TABLE(TUMBLE(TABLE s, ...)), or NULL */
    weir_expr *where;
    weir_expr **group_by;
    int ngroup;
    weir_expr *having;
    weir_expr *partition_by;   /* PARTITION BY expr (a derived stream's re-keying), or NULL */
    weir_order_item *order;
    int norder;
    int64_t limit;             /* -1: none */
    weir_emit emit;
    bool emit_given;
} weir_select;

typedef struct weir_column_def {
    const char *name;
    weir_type type;
    weir_sql_pos pos;
    bool not_null;             /* NOT NULL */
    bool primary_key;          /* PRIMARY KEY (a source table's), on the column or as PRIMARY KEY (col) */
    weir_expr *check;          /* CHECK (expr), or NULL */
    const char *check_text;    /* the expression's SQL, as written */
} weir_column_def;

typedef struct weir_with_option {
    const char *name;          /* lower-cased, parts joined by '.'; as written when quoted */
    weir_value value;          /* TEXT, INT or BOOL */
    weir_sql_pos pos;
    weir_sql_pos value_pos;    /* where the value is written, value_len bytes (a secret's, to hide it) */
    size_t value_len;
} weir_with_option;

typedef enum weir_stmt_kind {
    WEIR_STMT_CREATE_STREAM,       /* CREATE STREAM s (cols) WITH (...) */
    WEIR_STMT_CREATE_STREAM_AS,    /* CREATE STREAM s AS SELECT ... */
    WEIR_STMT_CREATE_TABLE_AS,     /* CREATE TABLE t AS SELECT ... */
    WEIR_STMT_CREATE_TABLE,        /* CREATE TABLE t (cols, PRIMARY KEY) WITH (...): a source table */
    WEIR_STMT_CREATE_SINK,         /* CREATE SINK k FROM x WITH (...) */
    WEIR_STMT_CREATE_ROUTE,        /* CREATE ROUTE 'METHOD /path/{param}' INTO s */
    WEIR_STMT_CREATE_ENDPOINT,     /* CREATE ENDPOINT 'GET /path/{param}' [WITH (...)] AS SELECT ... */
    WEIR_STMT_DROP,                /* DROP STREAM|TABLE|SINK [IF EXISTS] x, DROP ROUTE|ENDPOINT [IF EXISTS] '...' */
    WEIR_STMT_INSERT,              /* INSERT INTO s SELECT ...: one more query writing stream s */
    WEIR_STMT_SELECT,              /* a pull query */
    WEIR_STMT_SHOW,                /* SHOW STREAMS|TABLES|QUERIES|SINKS */
    WEIR_STMT_DESCRIBE,            /* DESCRIBE x */
    WEIR_STMT_EXPLAIN,             /* EXPLAIN SELECT ... (select), EXPLAIN CREATE ... (explained) or EXPLAIN x (name) */
} weir_stmt_kind;

typedef enum weir_show_kind { WEIR_SHOW_STREAMS, WEIR_SHOW_TABLES, WEIR_SHOW_QUERIES, WEIR_SHOW_SINKS } weir_show_kind;

typedef enum weir_object_kind { WEIR_OBJ_STREAM, WEIR_OBJ_TABLE, WEIR_OBJ_SINK, WEIR_OBJ_ROUTE, WEIR_OBJ_ENDPOINT } weir_object_kind;

typedef struct weir_stmt {
    weir_stmt_kind kind;
    weir_sql_pos pos;
    const char *name;              /* the object created or dropped */
    weir_column_def *cols;
    int ncols;
    weir_with_option *with;
    int nwith;
    weir_select *select;
    const char *from;              /* CREATE SINK ... FROM */
    const char *route;             /* CREATE ROUTE '...', CREATE ENDPOINT '...' */
    const char *query_text;        /* CREATE ENDPOINT: the SELECT's source, with its {param}s */
    weir_object_kind drop_kind;
    bool if_exists;
    bool or_replace;               /* CREATE OR REPLACE (a script declares each name once; at runtime it replaces) */
    weir_show_kind show;           /* SHOW's */
    weir_sql_pos name_pos;         /* DESCRIBE x, EXPLAIN x: where x is written */
    struct weir_stmt *explained;   /* EXPLAIN CREATE STREAM|TABLE ... AS SELECT: that statement, or NULL */
    const char *text;              /* the statement's source, NUL-terminated */
} weir_stmt;

/* A WITH option by name, or NULL. */
const weir_with_option *weir_stmt_option(const weir_stmt *s, const char *name);

#endif
