/*
 * eval.h - evaluating planned expressions over a row.
 *
 * Operators call weir_eval_expr once per record (or per grouped row); TEXT
 * results that are not slices of the row are allocated in ev->arena, which
 * the caller resets between records. The first error value an expression
 * produces is remembered with its position, so the record can go to the
 * dead-letter stream with a reason like "integer overflow at line 3:18".
 */
#ifndef WEIR_EVAL_H
#define WEIR_EVAL_H

#include "base/arena.h"
#include "sql/plan.h"

typedef struct weir_eval {
    weir_arena *arena;           /* for computed TEXT */
    const weir_value *row;       /* the row column and slot expressions read */
    weir_value_error err;        /* first error produced, WEIR_VERR_NONE if none */
    weir_sql_pos err_pos;        /* where */
} weir_eval;

weir_value weir_eval_expr(weir_eval *ev, const weir_expr *x);

/* WHERE and HAVING: only TRUE passes (FALSE, NULL and errors do not). */
bool weir_eval_predicate(weir_eval *ev, const weir_expr *x);

/* CAST semantics, also used to convert decoded JSON and literals. */
weir_value weir_value_cast(weir_eval *ev, weir_value v, weir_type to);

/* Scalar functions (functions.c). */
typedef enum weir_function_id {
    WEIR_FN_LOWER, WEIR_FN_UPPER, WEIR_FN_LENGTH, WEIR_FN_TRIM, WEIR_FN_CONCAT, WEIR_FN_SUBSTR,
    WEIR_FN_REPLACE, WEIR_FN_SPLIT_PART, WEIR_FN_COALESCE, WEIR_FN_ABS, WEIR_FN_FLOOR, WEIR_FN_CEIL,
    WEIR_FN_ROUND, WEIR_FN_MURMUR2, WEIR_FN_XXHASH64, WEIR_FN_PARTITION_OF, WEIR_FN_EPOCH_MS, WEIR_FN_IP_CLASS,
    WEIR_FN_DATE_TRUNC, WEIR_FN_JSON_VALUE, WEIR_FN_JSON_QUERY, WEIR_FN_JSON_EXISTS,
} weir_function_id;

/* Looks a scalar function up by lower-case name; -1 if unknown. */
int weir_function_find(const char *name);
/* Checks argument count and types; sets *result. Returns NULL or an error message. */
const char *weir_function_check(int fn, weir_expr **args, int nargs, weir_type *result);
weir_value weir_function_call(weir_eval *ev, int fn, const weir_value *args, int nargs, weir_type result);
/* Names of all scalar functions, for messages ("lower, upper, ..."). */
const char *weir_function_names(void);

#endif
