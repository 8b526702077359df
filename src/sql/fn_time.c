/*
 * fn_time.c - date_trunc(unit, ts): a TIMESTAMP truncated to the start of
 * its unit, as PostgreSQL's date_trunc does in UTC: 'millisecond',
 * 'second', 'minute', 'hour', 'day', 'week' (Monday), 'month', 'quarter',
 * 'year', 'decade', 'century' (years ..01: 2001 for 2026), 'millennium'.
 * Plurals are accepted too ('minutes'). The unit is a literal, checked when
 * the query is planned.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sql/functions_internal.h"

static const char *const units[] = {
    [TRUNC_MICROSECOND] = "microsecond", [TRUNC_MILLISECOND] = "millisecond", [TRUNC_SECOND] = "second",
    [TRUNC_MINUTE] = "minute",           [TRUNC_HOUR] = "hour",               [TRUNC_DAY] = "day",
    [TRUNC_WEEK] = "week",               [TRUNC_MONTH] = "month",             [TRUNC_QUARTER] = "quarter",
    [TRUNC_YEAR] = "year",               [TRUNC_DECADE] = "decade",           [TRUNC_CENTURY] = "century",
    [TRUNC_MILLENNIUM] = "millennium",
};

int fn_trunc_unit(const char *s, size_t n)
{
    for (int i = 0; i < (int)(sizeof units / sizeof units[0]); i++) {
        size_t k = strlen(units[i]);
        if (n == k && !strncasecmp(s, units[i], k))
            return i;
        if (i == TRUNC_MILLENNIUM && n == 10 && !strncasecmp(s, "millennia", 9))
            return i;
        if (i == TRUNC_CENTURY && n == 9 && !strncasecmp(s, "centuries", 9))
            return i;
        if (n == k + 1 && !strncasecmp(s, units[i], k) && (s[k] == 's' || s[k] == 'S'))
            return i;
    }
    return -1;
}

const char *fn_date_trunc_check(weir_expr **args, weir_type *result)
{
    static _Thread_local char msg[200];
    *result = WEIR_TYPE_TIMESTAMP;
    const weir_expr *u = args[0];
    if (u->kind != WEIR_E_LITERAL || u->lit.type != WEIR_TYPE_TEXT || u->lit.is_null)
        return "the unit must be a literal like 'minute' (millisecond, second, minute, hour, day, week, month, "
               "quarter, year, decade, century, millennium)";
    if (fn_trunc_unit(u->lit.s, u->lit.len) < 0) {
        snprintf(msg, sizeof msg, "unknown unit '%.*s' (millisecond, second, minute, hour, day, week, month, quarter, "
                                  "year, decade, century, millennium)", (int)(u->lit.len > 40 ? 40 : u->lit.len), u->lit.s);
        return msg;
    }
    weir_type t = args[1]->type;
    return t == WEIR_TYPE_TIMESTAMP || t == WEIR_TYPE_NULL ? NULL : "expects a TIMESTAMP as its second argument (CAST(x AS TIMESTAMP))";
}

/* a rounded down to a multiple of m (m > 0), for negative a too. */
static int64_t floor_to(int64_t a, int64_t m)
{
    int64_t r = a % m;
    return r < 0 ? a - r - m : a - r;
}

static int64_t floor_div(int64_t a, int64_t m) { return floor_to(a, m) / m; }

/* The first day of the unit (week or longer) holding day `days`. */
static int64_t trunc_days(int u, int64_t days)
{
    if (u == TRUNC_WEEK) /* 1970-01-01 was a Thursday: Mondays are days = 4 (mod 7) */
        return floor_to(days - 4, 7) + 4;
    int64_t y;
    unsigned m, d;
    weir_civil_from_days(days, &y, &m, &d);
    if (u == TRUNC_MONTH)
        d = 1;
    else if (u == TRUNC_QUARTER)
        m = (m - 1) / 3 * 3 + 1, d = 1;
    else if (u == TRUNC_YEAR)
        m = 1, d = 1;
    else if (u == TRUNC_DECADE)
        y = floor_to(y, 10), m = 1, d = 1;
    else /* century and millennium start at years ..01 (2001), as PostgreSQL's do */
        y = floor_to(y - 1, u == TRUNC_CENTURY ? 100 : 1000) + 1, m = 1, d = 1;
    return weir_days_from_civil(y, m, d);
}

weir_value fn_date_trunc(weir_value unit, weir_value ts)
{
    static const int64_t fixed[] = {[TRUNC_MICROSECOND] = 1, [TRUNC_MILLISECOND] = 1, [TRUNC_SECOND] = 1000,
                                    [TRUNC_MINUTE] = 60000, [TRUNC_HOUR] = 3600000, [TRUNC_DAY] = 86400000};
    int u = fn_trunc_unit(unit.s, unit.len);
    if (u < 0)
        return weir_error(WEIR_TYPE_TIMESTAMP, WEIR_VERR_CAST); /* the planner checked the literal: not reached */
    if (u <= TRUNC_DAY)
        return weir_timestamp(floor_to(ts.i, fixed[u]));
    int64_t ms = trunc_days(u, floor_div(ts.i, 86400000)) * 86400000;
    /* the weeks, centuries and millennia of year 0 start before it, where no timestamp is */
    return ms < WEIR_TIMESTAMP_MIN_MS ? weir_error(WEIR_TYPE_TIMESTAMP, WEIR_VERR_OVERFLOW) : weir_timestamp(ms);
}
