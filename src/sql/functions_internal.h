/*
 * functions_internal.h - the scalar functions kept in files of their own
 * (functions.c holds the table and dispatches to them): fn_time.c's
 * date_trunc and fn_json.c's JSON_VALUE, JSON_QUERY and JSON_EXISTS.
 */
#ifndef WEIR_SQL_FUNCTIONS_INTERNAL_H
#define WEIR_SQL_FUNCTIONS_INTERNAL_H

#include "sql/eval.h"

/* date_trunc's units, shortest first. */
enum {
    TRUNC_MICROSECOND, TRUNC_MILLISECOND, TRUNC_SECOND, TRUNC_MINUTE, TRUNC_HOUR, TRUNC_DAY,
    TRUNC_WEEK, TRUNC_MONTH, TRUNC_QUARTER, TRUNC_YEAR, TRUNC_DECADE, TRUNC_CENTURY, TRUNC_MILLENNIUM,
};

/* The unit named s[0..n) (case-insensitive, singular or plural), or -1. */
int fn_trunc_unit(const char *s, size_t n);
/* date_trunc(unit, ts)'s arguments: NULL or why not; sets *result. */
const char *fn_date_trunc_check(weir_expr **args, weir_type *result);
/* ts (a non-null TIMESTAMP) truncated to unit (a non-null TEXT naming one). */
weir_value fn_date_trunc(weir_value unit, weir_value ts);

/* JSON_VALUE, JSON_QUERY or JSON_EXISTS (fn)'s arguments: a JSON or TEXT
 * document and a path literal. NULL or why not; sets *result. */
const char *fn_json_check(int fn, weir_expr **args, int nargs, weir_type *result);
/* fn over a non-null document and path; result is the call's type
 * (JSON_VALUE's RETURNING type). */
weir_value fn_json_call(weir_eval *ev, int fn, weir_value doc, weir_value path, weir_type result);

#endif
