/*
 * plan.c - builds the catalog of a pipeline: resolves names, checks types,
 * and turns each CREATE ... AS SELECT into a weir_query.
 */
#include "sql/plan_internal.h"

#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/name.h"
#include "sql/eval.h"

const weir_relation *weir_catalog_find(const weir_catalog *c, const char *name)
{
    for (int i = 0; i < c->nrels; i++)
        if (!strcmp(c->rels[i]->name, name))
            return c->rels[i];
    return NULL;
}

/* A literal as a value of type t when it is one (an integer literal for a
 * UINT or DOUBLE column), for index lookups; false otherwise. */
static bool literal_as(const weir_value *lit, weir_type t, weir_value *out)
{
    if (lit->is_null)
        return false;
    if (lit->type == t)
        return *out = *lit, true;
    if (t == WEIR_TYPE_UINT && lit->type == WEIR_TYPE_INT && lit->i >= 0)
        return *out = weir_uint((uint64_t)lit->i), true;
    if (t == WEIR_TYPE_INT && lit->type == WEIR_TYPE_UINT && lit->u <= INT64_MAX)
        return *out = weir_int((int64_t)lit->u), true;
    return false;
}

/* Looks in x's conjuncts for "first key column = literal" of a table. */
static void find_key(const weir_relation *r, const weir_expr *x, weir_pull *out)
{
    if (!x || x->kind != WEIR_E_BINARY)
        return;
    if (x->op.op == WEIR_OP_AND) {
        find_key(r, x->op.a, out);
        find_key(r, x->op.b, out);
        return;
    }
    const weir_expr *a = x->op.a, *b = x->op.b;
    if (x->op.op != WEIR_OP_EQ || out->has_key)
        return;
    if (a->kind == WEIR_E_LITERAL) {
        const weir_expr *t = a;
        a = b;
        b = t;
    }
    if (a->kind == WEIR_E_COLUMN && b->kind == WEIR_E_LITERAL && a->col.index == r->pk[0])
        out->has_key = literal_as(&b->lit, r->schema.cols[r->pk[0]].type, &out->key);
}

/* <name>.dlq, the dead letters of a relation of the catalog, as a stream
 * with the columns every dead letter has (engine.c weir_dead_letter_json),
 * or NULL when name is no such thing. */
static const weir_relation *dead_letters(planner *P, const char *name)
{
    static const weir_column cols[] = {{"reason", WEIR_TYPE_TEXT}, {"record", WEIR_TYPE_TEXT},
                                       {"partition", WEIR_TYPE_UINT}, {"offset", WEIR_TYPE_UINT},
                                       {"timestamp", WEIR_TYPE_TIMESTAMP}};
    size_t n = strlen(name);
    if (n <= 4 || strcmp(name + n - 4, ".dlq"))
        return NULL;
    char *base = alloc(P, n - 3);
    memcpy(base, name, n - 4);
    base[n - 4] = '\0';
    if (!weir_catalog_find(P->cat, base))
        return NULL;
    weir_relation *r = alloc(P, sizeof *r);
    weir_column *copy = alloc(P, sizeof cols);
    memcpy(copy, cols, sizeof cols);
    *r = (weir_relation){.name = name, .schema = {copy, (int)(sizeof cols / sizeof *cols)}, .partitions = 1,
                         .key_col = -1, .ts_col = 4};
    return r;
}

void plan_pull(planner *P, const weir_stmt *st, weir_pull *out)
{
    const weir_catalog *cat = P->cat;
    const weir_select *sel = st->select;
    const weir_relation *r = weir_catalog_find(cat, sel->from);
    if (!r)
        r = dead_letters(P, sel->from);
    if (!r)
        fail(P, sel->from_pos, "unknown stream or table %s", sel->from);
    if (sel->window.kind != WEIR_WINDOW_NONE || sel->ngroup || sel->having || sel->emit_given)
        fail(P, st->pos, "pull queries filter, sort and limit rows; windows, GROUP BY, HAVING and EMIT belong to "
                          "CREATE TABLE ... AS SELECT");
    P->input = &r->schema;
    P->input_name = r->name;
    out->from = r;
    out->limit = sel->limit;
    if (sel->where) {
        plan_condition(P, sel->where, "WHERE", "");
        out->where = sel->where;
        if (r->is_table && r->npk > 0)
            find_key(r, sel->where, out);
    }
    int n = sel->star ? r->schema.ncols : sel->nitems;
    out->out = alloc(P, (size_t)n * sizeof *out->out);
    out->schema.cols = alloc(P, (size_t)n * sizeof *out->schema.cols);
    out->schema.ncols = n;
    for (int i = 0; i < n; i++) {
        weir_expr *x;
        const char *name;
        if (sel->star) {
            x = alloc(P, sizeof *x);
            x->kind = WEIR_E_COLUMN;
            x->col.name = r->schema.cols[i].name;
            name = x->col.name;
        } else {
            x = sel->items[i].expr;
            const weir_expr *agg = plan_find_aggregate(x);
            if (agg)
                fail(P, agg->pos, "aggregates in pull queries are not supported: aggregate in a CREATE TABLE");
            name = sel->items[i].alias ? sel->items[i].alias : plan_derived_name(&sel->items[i]);
            if (!name)
                fail(P, sel->items[i].pos, "give this expression a name with AS");
        }
        plan_resolve(P, x);
        out->out[i] = x;
        out->schema.cols[i] = (weir_column){name, x->type == WEIR_TYPE_NULL ? WEIR_TYPE_TEXT : x->type};
    }
    out->order = alloc(P, (size_t)(sel->norder + 1) * sizeof *out->order);
    for (int i = 0; i < sel->norder; i++) {
        weir_expr *x = sel->order[i].expr;
        /* ORDER BY may name an output column by its alias */
        if (x->kind == WEIR_E_COLUMN && plan_column_index(&r->schema, x->col.name) < 0)
            for (int k = 0; k < n; k++)
                if (!strcmp(out->schema.cols[k].name, x->col.name))
                    x = out->out[k];
        plan_resolve(P, x);
        out->order[i] = (weir_order_item){x, sel->order[i].desc};
    }
    out->norder = sel->norder;
}

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
        case WEIR_STMT_CREATE_STREAM_AS:
        case WEIR_STMT_CREATE_TABLE_AS:
            plan_declare(&P, st);
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
        default:
            fail(&P, st->pos, "a pipeline declares streams, tables and sinks; %s is a request, run it with weir query",
                 st->kind == WEIR_STMT_SELECT ? "SELECT" : "DROP");
        }
    }
    return WEIR_OK;
}

int weir_plan_pull(const weir_catalog *cat, const weir_stmt *st, weir_arena *a, weir_pull *out, weir_sql_error *e)
{
    memset(out, 0, sizeof *out);
    planner P = {.a = a, .e = e, .cat = (weir_catalog *)cat};
    if (setjmp(P.fail))
        return WEIR_EINVAL;
    if (st->kind != WEIR_STMT_SELECT)
        fail(&P, st->pos, "expected a SELECT");
    plan_pull(&P, st, out);
    return WEIR_OK;
}
