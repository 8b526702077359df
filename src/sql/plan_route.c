/*
 * plan_route.c - CREATE ROUTE 'METHOD /path/{param}' INTO stream: an HTTP
 * path whose requests become records of a source stream, checked against
 * the stream's columns and weir's own paths.
 */
#include "sql/plan_internal.h"

#include <stdio.h>
#include <string.h>

/* CREATE ROUTE 'METHOD /path/{param}...' INTO stream. */
void plan_declare_route(planner *P, const weir_stmt *st)
{
    const weir_relation *into = weir_catalog_find(P->cat, st->name);
    if (!into || !into->is_source)
        fail(P, st->pos, "route '%s' goes into %s, which is not a source stream declared before it", st->route, st->name);
    const char *sp = strchr(st->route, ' ');
    if (!sp || sp[1] != '/' || strchr(sp + 1, ' ') || strchr(sp + 1, '?'))
        fail(P, st->pos, "a route is 'METHOD /path' with {name} for path parameters, like 'POST /videos/{id}/likes'");
    weir_route *rt = alloc(P, sizeof *rt);
    rt->method = weir_arena_strndup(P->a, st->route, (size_t)(sp - st->route));
    rt->path = sp + 1;
    rt->into = into;
    if (strcmp(rt->method, "POST") && strcmp(rt->method, "PUT"))
        fail(P, st->pos, "a route takes records: its method must be POST or PUT, not %s", rt->method);
    if (!strncmp(rt->path, "/v1/", 4) || !strcmp(rt->path, "/metrics") || !strcmp(rt->path, "/healthz"))
        fail(P, st->pos, "route %s would hide one of weir's own paths (/v1/..., /metrics, /healthz)", rt->path);
    for (const char *p = strchr(rt->path, '{'); p; p = strchr(p + 1, '{')) {
        const char *close = strchr(p, '}');
        if (!close || close == p + 1)
            fail(P, st->pos, "route %s: a path parameter is {name}", rt->path);
        char col[128];
        snprintf(col, sizeof col, "%.*s", (int)(close - p - 1), p + 1);
        if (plan_column_index(&into->schema, col) < 0)
            fail(P, st->pos, "route %s: path parameter {%s} is not a column of %s", rt->path, col, into->name);
    }
    for (int i = 0; i < P->cat->nroutes; i++)
        if (!strcmp(P->cat->routes[i].method, rt->method) && !strcmp(P->cat->routes[i].path, rt->path))
            fail(P, st->pos, "route '%s' is declared twice", st->route);
    weir_route *v = alloc(P, (size_t)(P->cat->nroutes + 1) * sizeof *v);
    if (P->cat->nroutes)
        memcpy(v, P->cat->routes, (size_t)P->cat->nroutes * sizeof *v);
    v[P->cat->nroutes++] = *rt;
    P->cat->routes = v;
}
