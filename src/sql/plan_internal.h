/*
 * plan_internal.h - the planner's state and the functions its files share
 * (plan.h is the interface; see plan.c for which file holds what).
 *
 * Planning fails by longjmp: fail() fills the caller's weir_sql_error at a
 * position and jumps back to the setjmp in weir_catalog_build or
 * weir_plan_pull, so the code between never checks for errors. Everything
 * planned lives in the arena given there (alloc() fails when it is full).
 */
#ifndef WEIR_PLAN_INTERNAL_H
#define WEIR_PLAN_INTERNAL_H

#include <setjmp.h>
#include <stdarg.h>

#include "sql/plan.h"

/* A stream a query reads, as its columns are named: c.user finds user
 * among the columns [offset, offset + ncols) of the input row. */
typedef struct plan_scope {
    const char *name;          /* the stream */
    const char *alias;         /* FROM name AS alias, or NULL */
    int offset, ncols;
} plan_scope;

typedef struct planner {
    weir_arena *a;
    weir_sql_error *e;
    jmp_buf fail;
    weir_catalog *cat;
    /* while planning one query: */
    const weir_schema *input;
    const char *input_name;
    weir_query *q;
    plan_scope scope[2];       /* the streams a query's columns come from (a join has two) */
    int nscope;                /* 0: no qualified names (pull queries, PARTITION BY) */
    bool endpoint;             /* planning a CREATE ENDPOINT's SELECT: {parameters} allowed */
    const weir_expr *group_window; /* the query's GROUP BY TUMBLE(ts, ...) (Flink's group window), or NULL */
} planner;

static inline _Noreturn void fail(planner *P, weir_sql_pos pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline _Noreturn void fail(planner *P, weir_sql_pos pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    weir_sql_error_vset(P->e, pos, fmt, ap);
    va_end(ap);
    longjmp(P->fail, 1);
}

static inline void *alloc(planner *P, size_t n)
{
    void *p = weir_arena_alloc(P->a, n);
    if (!p)
        fail(P, (weir_sql_pos){0, 0}, "out of memory");
    return p;
}

/* plan_expr.c: names and types */
int plan_column_index(const weir_schema *s, const char *name); /* or -1 */
bool plan_numeric(weir_type t);
/* Resolves x over P->input: columns, functions, operators' types. */
void plan_resolve(planner *P, weir_expr *x);
void plan_resolve_call(planner *P, weir_expr *x);
void plan_need_bool(planner *P, weir_expr *x, const char *where);
/* A condition over the input row (WHERE, CHECK): no aggregates, a BOOL. */
void plan_condition(planner *P, weir_expr *x, const char *clause, const char *hint);
/* The output name of a SELECT item without alias, or NULL. */
const char *plan_derived_name(const weir_select_item *it);

/* plan_agg.c: aggregates and the grouped row */
bool plan_is_aggregate(const char *name);
/* "count, count_if, ...": every aggregate's name, for messages (in the arena). */
const char *plan_aggregate_list(planner *P);
/* The first aggregate call inside x, or NULL. */
const weir_expr *plan_find_aggregate(const weir_expr *x);
/* Rewrites x (a SELECT item or HAVING of grouped query P->q) to read the grouped row. */
weir_expr *plan_grouped(planner *P, weir_expr *x);
/* Gives aggregate and window placeholders their final slot numbers. */
void plan_fix_slots(weir_query *q, weir_expr *x);

/* plan_query.c: a CREATE ... AS SELECT into out */
void plan_query(planner *P, weir_stmt *st, weir_relation *out);

/* plan_window.c: Flink's window TVFs and the window columns in GROUP BY */
/* Checks a TVF's DESCRIPTOR against the stream src; a TVF's query emits FINAL unless it says otherwise. */
void plan_window_source(planner *P, const weir_select *sel, const weir_relation *src, weir_query *q);
/* q->keys: sel's GROUP BY (SELECT DISTINCT's columns) without the window's columns (a TVF's query must name window_start and window_end). */
void plan_window_keys(planner *P, const weir_select *sel, weir_query *q);
/* Flink's group window in GROUP BY (TUMBLE(ts, size), HOP(ts, slide, size), SESSION(ts, gap),
 * CUMULATE(ts, step, size)) into q->window, kept in P->group_window. */
void plan_group_window(planner *P, const weir_select *sel, const weir_relation *src, weir_query *q);
/* TUMBLE_START(...) and the like in a SELECT list: the grouped row's window slot (-1000000 ...), or 0 if x is none. */
int plan_group_window_slot(planner *P, const weir_expr *x);
/* SESSION(TABLE s PARTITION BY cols, ...): the columns are q's keys (resolved). */
void plan_window_partition(planner *P, const weir_select *sel, const weir_query *q);

/* plan_join.c: a query's FROM a JOIN b ON ...: fills q->join, sets the
 * joined row as P->input and both streams as its scope */
void plan_join(planner *P, const weir_stmt *st, const weir_relation *left, weir_query *q);
/* plan_join.c: refuses a query's reading of a table whose changelog is
 * kept only for its readers (cleanup_policy 'store'): it could not read
 * the table from its start. */
void plan_check_readable(planner *P, const weir_relation *rel, weir_sql_pos pos);
/* After INSERT INTO `into` (insert) made it a stream several queries
 * write: refuses it if a join planned before now reads an input no longer
 * known to be partitioned by its join key. */
void plan_joins_recheck(planner *P, const weir_stmt *insert, const weir_relation *into);

/* plan_ddl.c: streams and tables */
/* Refuses a WITH option not among known[0..n) (unless connector_rest and a connector is named). */
void plan_check_options(planner *P, const weir_stmt *st, const char *const *known, size_t n, bool connector_rest);
void plan_declare(planner *P, weir_stmt *st);
/* INSERT INTO s SELECT ...: one more query writing stream s, whose
 * columns it must give in order. */
void plan_insert(planner *P, weir_stmt *st);

/* plan_route.c, plan_endpoint.c */
void plan_declare_route(planner *P, const weir_stmt *st);
void plan_declare_endpoint(planner *P, const weir_stmt *st);

/* plan_pull.c: a pull query's SELECT (an endpoint's too) */
void plan_pull(planner *P, const weir_stmt *st, weir_pull *out);

/* plan_sql.c: planned expressions as SQL text (EXPLAIN), in the arena; q is
 * the grouped query whose slots x reads, or NULL */
const char *plan_expr_sql(planner *P, const weir_expr *x, const weir_query *q);
const char *plan_interval_sql(planner *P, int64_t ms); /* INTERVAL '5' MINUTE */

/* plan_meta.c: SHOW and DESCRIBE; the rows of meta answers */
void plan_meta_columns(planner *P, weir_meta *out, const weir_column *cols, int n);
weir_value *plan_meta_row(planner *P, weir_meta *out);          /* a new row, all NULL */
weir_value plan_meta_text(const char *s);                       /* TEXT, or NULL when s is */
const char *plan_printf(planner *P, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A query's id, as ksqlDB names them: CTAS_<table> or CSAS_<stream>. */
const char *plan_query_id(planner *P, const weir_query *q);
/* The pull relation <name>.dlq (plan_pull.c), or NULL when name is not one. */
const weir_relation *plan_dead_letters(planner *P, const char *name);

/* plan_explain.c: EXPLAIN SELECT ... and EXPLAIN x */
void plan_explain(planner *P, const weir_stmt *st, weir_meta *out);

#endif
