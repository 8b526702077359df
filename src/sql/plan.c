/*
 * plan.c - builds the catalog of a pipeline: each CREATE statement in
 * order, handed to the part of the planner that knows it (plan_ddl.c
 * streams and tables, plan_route.c routes, plan_endpoint.c endpoints;
 * sinks are only checked to deliver a declared stream here, their options
 * are their connector's).
 */
#include "sql/plan_internal.h"

#include <string.h>

const weir_relation *weir_catalog_find(const weir_catalog *c, const char *name)
{
    for (int i = 0; i < c->nrels; i++)
        if (!strcmp(c->rels[i]->name, name))
            return c->rels[i];
    return NULL;
}

int weir_catalog_index(const weir_catalog *c, const weir_relation *rel)
{
    for (int i = 0; i < c->nrels; i++)
        if (c->rels[i] == rel)
            return i;
    return -1;
}

int weir_catalog_build(weir_stmt **stmts, size_t n, weir_arena *a, weir_catalog *out, weir_sql_error *e)
{
    memset(out, 0, sizeof *out);
    planner P = {.a = a, .e = e, .cat = out};
    if (setjmp(P.fail)) {
        memset(out, 0, sizeof *out);
        return WEIR_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        weir_stmt *st = stmts[i];
        switch (st->kind) {
        case WEIR_STMT_CREATE_STREAM:
        case WEIR_STMT_CREATE_TABLE:
        case WEIR_STMT_CREATE_STREAM_AS:
        case WEIR_STMT_CREATE_TABLE_AS:
            plan_declare(&P, st);
            break;
        case WEIR_STMT_INSERT:
            plan_insert(&P, st);
            break;
        case WEIR_STMT_CREATE_ROUTE:
            plan_declare_route(&P, st);
            break;
        case WEIR_STMT_CREATE_ENDPOINT:
            plan_declare_endpoint(&P, st);
            break;
        case WEIR_STMT_CREATE_SINK: {
            if (!weir_catalog_find(out, st->from))
                fail(&P, st->pos, "sink %s delivers %s, which is not declared before it", st->name, st->from);
            const weir_stmt **v = alloc(&P, (size_t)(out->nsinks + 1) * sizeof *v);
            if (out->nsinks)
                memcpy(v, out->sinks, (size_t)out->nsinks * sizeof *v);
            v[out->nsinks++] = st;
            out->sinks = v;
            break;
        }
        default: {
            static const char *const what[] = {[WEIR_STMT_SELECT] = "SELECT", [WEIR_STMT_DROP] = "DROP",
                                               [WEIR_STMT_SHOW] = "SHOW", [WEIR_STMT_DESCRIBE] = "DESCRIBE",
                                               [WEIR_STMT_EXPLAIN] = "EXPLAIN"};
            fail(&P, st->pos, "a pipeline declares streams, tables and sinks; %s is a request, run it with weir %s",
                 what[st->kind], st->kind == WEIR_STMT_DROP ? "sql (a running server) or weir query (a stream's records, "
                                                              "weir stopped)" : "query");
        }
        }
    }
    return WEIR_OK;
}
