/*
 * plan_endpoint.c - CREATE ENDPOINT 'GET /path/{param}' [WITH (format =
 * ...)] AS SELECT ...: a pull query answered on an HTTP path, each of its
 * {parameters} typed by what the SELECT compares it with (endpoint.c makes
 * the SQL of one request from them).
 */
#include "sql/plan_internal.h"

#include <string.h>

/* The endpoint's parameter of that name, or NULL. */
static weir_endpoint_param *endpoint_param(weir_endpoint *ep, const char *name)
{
    for (int i = 0; i < ep->nparams; i++)
        if (!strcmp(ep->params[i].name, name))
            return &ep->params[i];
    return NULL;
}

/* Checks that every {param} in x is one of the path's, and types each by
 * what it is compared with (other: the operand beside it, or NULL). */
static void endpoint_params(planner *P, weir_endpoint *ep, const weir_expr *x, const weir_expr *other)
{
    if (!x)
        return;
    switch (x->kind) {
    case WEIR_E_PARAM: {
        weir_endpoint_param *p = endpoint_param(ep, x->col.name);
        if (!p)
            fail(P, x->pos, "{%s} is not a parameter of the path %s", x->col.name, ep->path);
        if (other && other->type != WEIR_TYPE_NULL && p->type == WEIR_TYPE_NULL)
            p->type = other->type;
        return;
    }
    case WEIR_E_UNARY: endpoint_params(P, ep, x->op.a, NULL); return;
    case WEIR_E_BINARY:
        endpoint_params(P, ep, x->op.a, x->op.b);
        endpoint_params(P, ep, x->op.b, x->op.a);
        return;
    case WEIR_E_CALL:
        for (int i = 0; i < x->call.nargs; i++)
            endpoint_params(P, ep, x->call.args[i], NULL);
        return;
    case WEIR_E_CASE:
        endpoint_params(P, ep, x->cases.operand, NULL);
        for (int i = 0; i < x->cases.n; i++) {
            endpoint_params(P, ep, x->cases.when[i], x->cases.operand);
            endpoint_params(P, ep, x->cases.then[i], NULL);
        }
        endpoint_params(P, ep, x->cases.otherwise, NULL);
        return;
    case WEIR_E_CAST: endpoint_params(P, ep, x->cast.a, NULL); return;
    case WEIR_E_IS_NULL: endpoint_params(P, ep, x->isnull.a, NULL); return;
    case WEIR_E_IN:
        endpoint_params(P, ep, x->in.a, NULL);
        for (int i = 0; i < x->in.n; i++)
            endpoint_params(P, ep, x->in.list[i], x->in.a);
        return;
    case WEIR_E_BETWEEN:
        endpoint_params(P, ep, x->between.a, NULL);
        endpoint_params(P, ep, x->between.lo, x->between.a);
        endpoint_params(P, ep, x->between.hi, x->between.a);
        return;
    case WEIR_E_LIKE:
        endpoint_params(P, ep, x->like.a, NULL);
        endpoint_params(P, ep, x->like.pattern, x->like.a);
        return;
    default:
        return;
    }
}

static bool plottable(weir_type t)
{
    return t == WEIR_TYPE_INT || t == WEIR_TYPE_UINT || t == WEIR_TYPE_DOUBLE || t == WEIR_TYPE_TIMESTAMP;
}

/* CREATE ENDPOINT 'GET /path/{param}' [WITH (format = ...)] AS SELECT ... */
void plan_declare_endpoint(planner *P, const weir_stmt *st)
{
    static const char *const opts[] = {"format"};
    static const char *const formats[] = {"json", "object", "csv", "svg", "rows"}; /* in weir_endpoint_format's order */
    const int nformats = (int)(sizeof formats / sizeof *formats);
    plan_check_options(P, st, opts, 1, false);
    const char *path = st->route + 4;
    if (strncmp(st->route, "GET /", 5) || strchr(path, ' ') || strchr(path, '?'))
        fail(P, st->pos, "an endpoint is 'GET /path' with {name} for its parameters, like 'GET /part/{x}'");
    if (!strncmp(path, "/v1/", 4) || !strcmp(path, "/metrics") || !strcmp(path, "/healthz") || !strcmp(path, "/"))
        fail(P, st->pos, "endpoint %s would hide one of weir's own paths (/, /v1/..., /metrics, /healthz)", path);
    for (int i = 0; i < P->cat->nendpoints; i++)
        if (!strcmp(P->cat->endpoints[i].path, path))
            fail(P, st->pos, "endpoint %s is declared twice", path);
    weir_endpoint ep = {.path = path, .sql = st->query_text, .format = WEIR_FORMAT_JSON};
    const weir_with_option *f = weir_stmt_option(st, "format");
    if (f) {
        int k = 0;
        while (k < nformats && (f->value.type != WEIR_TYPE_TEXT || strcmp(f->value.s, formats[k])))
            k++;
        if (k == nformats)
            fail(P, f->pos, "format is 'json', 'object', 'csv', 'svg' or 'rows'");
        ep.format = (weir_endpoint_format)k;
    }
    int count = 0;
    for (const char *p = strchr(path, '{'); p; p = strchr(p + 1, '{'))
        count++;
    ep.params = alloc(P, (size_t)(count + 1) * sizeof *ep.params);
    for (const char *p = strchr(path, '{'); p; p = strchr(p + 1, '{')) {
        const char *close = strchr(p, '}');
        if (!close || close == p + 1)
            fail(P, st->pos, "endpoint %s: a path parameter is {name}", path);
        const char *name = weir_arena_strndup(P->a, p + 1, (size_t)(close - p - 1));
        if (!name)
            fail(P, st->pos, "out of memory");
        if (endpoint_param(&ep, name))
            fail(P, st->pos, "endpoint %s names {%s} twice", path, name);
        ep.params[ep.nparams++] = (weir_endpoint_param){name, WEIR_TYPE_NULL};
    }
    weir_stmt select = *st;
    select.kind = WEIR_STMT_SELECT;
    weir_pull pull = {0};
    P->endpoint = true;
    plan_pull(P, &select, &pull);
    P->endpoint = false;
    if (pull.push)
        fail(P, st->pos, "endpoint %s: an endpoint answers with the rows there are; EMIT CHANGES streams rows, "
                         "which POST /v1/query and GET /v1/tables/{t}/changes do", path);
    endpoint_params(P, &ep, pull.where, NULL);
    for (int i = 0; i < pull.schema.ncols; i++)
        endpoint_params(P, &ep, pull.out[i], NULL);
    for (int i = 0; i < ep.nparams; i++)
        if (ep.params[i].type == WEIR_TYPE_NULL)
            ep.params[i].type = WEIR_TYPE_TEXT;
    if (ep.format == WEIR_FORMAT_SVG &&
        (pull.schema.ncols < 2 || !plottable(pull.schema.cols[0].type) || !plottable(pull.schema.cols[1].type)))
        fail(P, st->pos, "an svg endpoint plots its first column along x and its second along y: both must be numbers "
                         "or timestamps");
    weir_endpoint *v = alloc(P, (size_t)(P->cat->nendpoints + 1) * sizeof *v);
    if (P->cat->nendpoints)
        memcpy(v, P->cat->endpoints, (size_t)P->cat->nendpoints * sizeof *v);
    v[P->cat->nendpoints++] = ep;
    P->cat->endpoints = v;
}
