/*
 * inline.h - subqueries in FROM and WITH queries (common table
 * expressions), planned by inlining: the parser merges the query a FROM
 * reads into the query reading it (inline.c), so the planner, the engine
 * and pull queries only ever see one SELECT over a stream or table.
 */
#ifndef WEIR_SQL_INLINE_H
#define WEIR_SQL_INLINE_H

#include "base/arena.h"
#include "sql/sql.h"

/* Merges inner, the query outer's FROM reads under the name `name` (its
 * alias, or a WITH query's name), into outer: outer's references to
 * inner's columns become inner's expressions, the filters are joined
 * with AND (outer's WHERE over a grouped inner becomes HAVING), and
 * outer reads what inner read. Inner is copied, never changed, so a WITH
 * query may be read several times. 0, or WEIR_EINVAL with e filled when
 * the two cannot be one query (a subquery's ORDER BY or LIMIT, grouping
 * over grouping, a join with a subquery, an unknown column). */
int weir_select_inline(weir_arena *a, weir_select *outer, const weir_select *inner, const char *name, weir_sql_error *e);

#endif
