/*
 * endpoint.c - the pipeline's endpoints (CREATE ENDPOINT 'GET
 * /part/{x}' AS SELECT ... WHERE value = {x}; see query.h): the path's
 * parameters go into the SELECT as literals (a value that does not fit its
 * parameter is a 400 naming it), the pull query runs as any other
 * (query.c), bounded the same way, and the rows are answered in the
 * endpoint's format: a JSON array of objects, one object, an array of
 * arrays, CSV or an SVG line plot.
 */
#include <stdlib.h>
#include <string.h>

#include "exec/decode.h"
#include "json/json.h"
#include "runtime/query.h"
#include "runtime/runtime_internal.h"
#include "runtime/svg.h"

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

static int put_csv(weir_buf *b, const runtime_pulled *p)
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
static int put_svg(weir_buf *b, const runtime_pulled *p, const char *title)
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

void weir_runtime_endpoint(weir_runtime *s, const weir_endpoint *ep, const char *const *values, const char *path,
                           const weir_query_limits *lim, weir_answer *a)
{
    weir_buf sql = {0}, b = {0};
    weir_err err = {0};
    if (weir_endpoint_sql(ep, values, &sql, &err)) {
        answer_error(a, err.code == WEIR_ENOMEM ? 500 : 400, "%s", err.msg);
        weir_buf_free(&sql);
        return;
    }
    runtime_pulled p;
    if (runtime_pull_rows(s, lim, (const char *)sql.data, sql.len, &p, a)) {
        weir_buf_free(&sql);
        return;
    }
    int rc = 0;
    switch (ep->format) { /* the rows fit --max-result-bytes (runtime_pull_rows); each answer is checked once made */
    case WEIR_FORMAT_JSON:
        rc = weir_buf_append_str(&b, "[");
        for (size_t i = 0; i < p.n && !rc; i++)
            rc = (i && weir_buf_append_str(&b, ",")) || weir_encode_json(&p.pull.schema, p.rows[i], &b);
        rc = rc || weir_buf_append_str(&b, "]\n");
        if (!runtime_answer_over(a, lim, b.len, 0))
            answer_json(a, 200, rc, &b);
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
        if (!runtime_answer_over(a, lim, b.len, 0))
            answer_json(a, 200, rc, &b);
        break;
    case WEIR_FORMAT_OBJECT:
        if (!p.n) {
            answer_error(a, 404, "%s: no row answers it (yet)", path);
            break;
        }
        rc = weir_encode_json(&p.pull.schema, p.rows[0], &b) || weir_buf_append_str(&b, "\n");
        answer_json(a, 200, rc, &b);
        break;
    case WEIR_FORMAT_CSV:
        if (put_csv(&b, &p))
            answer_error(a, 500, "out of memory");
        else if (!runtime_answer_over(a, lim, b.len, 0))
            answer_body(a, 200, "text/csv; charset=utf-8", &b);
        break;
    case WEIR_FORMAT_SVG:
        if (put_svg(&b, &p, path))
            answer_error(a, 500, "out of memory");
        else if (!runtime_answer_over(a, lim, b.len, 0))
            answer_body(a, 200, "image/svg+xml", &b);
        break;
    }
    runtime_pulled_free(&p);
    weir_buf_free(&sql);
    weir_buf_free(&b);
}
