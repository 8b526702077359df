/*
 * api_endpoint.c - the pipeline's endpoints (CREATE ENDPOINT 'GET
 * /part/{x}' AS SELECT ... WHERE value = {x}): the path's parameters go
 * into the SELECT as literals (a value that does not fit its parameter is
 * a 400 naming it), the pull query runs as POST /v1/query would, and the
 * rows are answered in the endpoint's format: a JSON array of objects, one
 * object, an array of arrays, CSV or an SVG line plot. It runs on a worker
 * thread, as pull queries do (api_query.c), bounded the same way.
 */
#include <stdlib.h>
#include <string.h>

#include "exec/decode.h"
#include "json/json.h"
#include "server/api.h"
#include "server/svg.h"

/* A value's text for CSV: bare, or quoted when it holds a comma, a quote
 * or a line break (RFC 4180); NULL is empty. */
static int put_csv_value(weir_buf *b, const weir_value *v, weir_buf *tmp)
{
    if (v->is_null)
        return 0;
    tmp->len = 0;
    if (weir_value_to_json(tmp, v))
        return WEIR_ENOMEM;
    const char *s = (const char *)tmp->data;
    size_t n = tmp->len;
    weir_buf text = {0};
    if (n && s[0] == '"') { /* a JSON string: its text */
        if (weir_json_unescape(s + 1, n - 2, &text)) /* the span without its quotes */
            return WEIR_ENOMEM;
        s = text.data ? (const char *)text.data : "";
        n = text.len;
    }
    bool quote = memchr(s, ',', n) || memchr(s, '"', n) || memchr(s, '\n', n) || memchr(s, '\r', n);
    int rc = quote && weir_buf_append_str(b, "\"");
    for (size_t i = 0; i < n && !rc; i++)
        rc = s[i] == '"' ? weir_buf_append_str(b, "\"\"") : weir_buf_append(b, s + i, 1);
    rc = rc || (quote && weir_buf_append_str(b, "\""));
    weir_buf_free(&text);
    return rc;
}

static int put_csv(weir_buf *b, const api_pulled *p)
{
    const weir_schema *sc = &p->pull.schema;
    weir_buf tmp = {0};
    int rc = 0;
    for (int c = 0; c < sc->ncols && !rc; c++)
        rc = (c && weir_buf_append_str(b, ",")) || weir_buf_append_str(b, sc->cols[c].name);
    rc = rc || weir_buf_append_str(b, "\r\n");
    for (size_t i = 0; i < p->n && !rc; i++) {
        for (int c = 0; c < sc->ncols && !rc; c++)
            rc = (c && weir_buf_append_str(b, ",")) || put_csv_value(b, &p->rows[i][c], &tmp);
        rc = rc || weir_buf_append_str(b, "\r\n");
    }
    weir_buf_free(&tmp);
    return rc;
}

static double as_double(const weir_value *v) /* not NULL; INT, UINT, DOUBLE or TIMESTAMP (ms) */
{
    return v->type == WEIR_TYPE_UINT ? (double)v->u : v->type == WEIR_TYPE_DOUBLE ? v->d : (double)v->i;
}

/* The first column along x, the second along y; rows with a NULL in either are left out. */
static int put_svg(weir_buf *b, const api_pulled *p, const char *title)
{
    double *x = malloc((p->n + 1) * sizeof *x), *y = malloc((p->n + 1) * sizeof *y);
    size_t n = 0;
    for (size_t i = 0; x && y && i < p->n; i++)
        if (!p->rows[i][0].is_null && !p->rows[i][1].is_null) {
            x[n] = as_double(&p->rows[i][0]);
            y[n++] = as_double(&p->rows[i][1]);
        }
    const weir_schema *sc = &p->pull.schema;
    int rc = !x || !y ? WEIR_ENOMEM : weir_svg_line_plot(b, title, sc->cols[0].name, sc->cols[1].name, x, y, n);
    free(x);
    free(y);
    return rc;
}

const weir_endpoint *api_endpoint_decl(const weir_server *srv, const weir_http_route *r)
{
    for (int i = 0; i < srv->cat->nendpoints; i++)
        if (srv->cat->endpoints[i].path == r->path)
            return &srv->cat->endpoints[i];
    return NULL;
}

static int endpoint_now(void *ctx, weir_http_req *req)
{
    weir_server *srv = ctx;
    weir_runtime *s = srv->rt;
    const weir_http_route *hr = weir_http_route_of(req);
    const weir_endpoint *ep = api_endpoint_decl(srv, hr);
    if (!ep) {
        weir_http_reply_error(req, 500, "endpoint %s lost its declaration", hr->path);
        return 0;
    }
    const char *values[32] = {0};
    for (int i = 0; i < ep->nparams && i < 32; i++)
        values[i] = weir_http_param(req, ep->params[i].name);
    weir_buf sql = {0}, b = {0};
    weir_err err = {0};
    if (ep->nparams > 32 || weir_endpoint_sql(ep, values, &sql, &err)) {
        weir_http_reply_error(req, err.code == WEIR_ENOMEM ? 500 : 400, "%s", ep->nparams > 32 ? "too many parameters" : err.msg);
        weir_buf_free(&sql);
        return 0;
    }
    api_pulled p;
    if (api_pull_rows(s, req, (const char *)sql.data, sql.len, &p)) {
        weir_buf_free(&sql);
        return 0;
    }
    int rc = 0;
    switch (ep->format) { /* the rows fit --max-result-bytes (api_pull_rows); each answer is checked once made */
    case WEIR_FORMAT_JSON:
        rc = weir_buf_append_str(&b, "[");
        for (size_t i = 0; i < p.n && !rc; i++)
            rc = (i && weir_buf_append_str(&b, ",")) || weir_encode_json(&p.pull.schema, p.rows[i], &b);
        rc = rc || weir_buf_append_str(&b, "]\n");
        if (!api_answer_over(req, b.len, 0))
            api_reply_json(req, 200, rc, &b);
        break;
    case WEIR_FORMAT_ROWS:
        rc = weir_buf_append_str(&b, "[");
        for (size_t i = 0; i < p.n && !rc; i++) {
            rc = weir_buf_append_str(&b, i ? ",[" : "[");
            for (int c = 0; c < p.pull.schema.ncols && !rc; c++)
                rc = (c && weir_buf_append_str(&b, ",")) || weir_value_to_json(&b, &p.rows[i][c]);
            rc = rc || weir_buf_append_str(&b, "]");
        }
        rc = rc || weir_buf_append_str(&b, "]\n");
        if (!api_answer_over(req, b.len, 0))
            api_reply_json(req, 200, rc, &b);
        break;
    case WEIR_FORMAT_OBJECT:
        if (!p.n) {
            weir_http_reply_error(req, 404, "%s: no row answers it (yet)", weir_http_path(req));
            break;
        }
        rc = weir_encode_json(&p.pull.schema, p.rows[0], &b) || weir_buf_append_str(&b, "\n");
        api_reply_json(req, 200, rc, &b);
        break;
    case WEIR_FORMAT_CSV:
        if (put_csv(&b, &p))
            weir_http_reply_error(req, 500, "out of memory");
        else if (!api_answer_over(req, b.len, 0))
            weir_http_reply(req, 200, "text/csv; charset=utf-8", b.data, b.len);
        break;
    case WEIR_FORMAT_SVG:
        if (put_svg(&b, &p, weir_http_path(req)))
            weir_http_reply_error(req, 500, "out of memory");
        else if (!api_answer_over(req, b.len, 0))
            weir_http_reply(req, 200, "image/svg+xml", b.data, b.len);
        break;
    }
    api_pulled_free(&p);
    weir_buf_free(&sql);
    weir_buf_free(&b);
    return 0;
}

int api_endpoint(void *ctx, weir_http_req *req) { return weir_http_offload(req, endpoint_now, ctx); }
