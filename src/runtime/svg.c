/*
 * svg.c - line plots as SVG (see svg.h). 640x400 pixels: the plot area
 * inside margins for the tick labels, about five ticks per axis at 1, 2 or
 * 5 times a power of ten, the polyline in the plot's scale.
 */
#include "runtime/svg.h"

#include <math.h>
#include <string.h>

#define W 640.0
#define H 400.0
#define LEFT 90.0
#define RIGHT 20.0
#define TOP 40.0
#define BOTTOM 55.0
#define PW (W - LEFT - RIGHT)
#define PH (H - TOP - BOTTOM)

typedef struct frame { /* the values at the plot area's edges */
    double x0, x1, y0, y1;
} frame;

static double px(const frame *f, double v) { return LEFT + (v - f->x0) / (f->x1 - f->x0) * PW; }
static double py(const frame *f, double v) { return TOP + PH - (v - f->y0) / (f->y1 - f->y0) * PH; }

static int put_text(weir_buf *b, const char *s)
{
    int rc = 0;
    for (; *s && !rc; s++)
        rc = *s == '&' ? weir_buf_append_str(b, "&amp;") : *s == '<' ? weir_buf_append_str(b, "&lt;")
           : *s == '>' ? weir_buf_append_str(b, "&gt;") : *s == '"' ? weir_buf_append_str(b, "&quot;")
                       : weir_buf_append(b, s, 1);
    return rc;
}

/* A round step for about five ticks over span. */
static double tick_step(double span)
{
    double raw = span / 5, unit = pow(10, floor(log10(raw))), f = raw / unit;
    return unit * (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10);
}

static void bounds(const double *v, size_t n, double *lo, double *hi)
{
    *lo = n ? v[0] : 0;
    *hi = n ? v[0] : 1;
    for (size_t i = 1; i < n; i++) {
        *lo = v[i] < *lo ? v[i] : *lo;
        *hi = v[i] > *hi ? v[i] : *hi;
    }
    if (*hi - *lo < 1e-12 * (fabs(*hi) + 1)) { /* one value: give the axis some width */
        *lo -= 1;
        *hi += 1;
    }
}

int weir_svg_line_plot(weir_buf *out, const char *title, const char *xlabel, const char *ylabel, const double *x,
                       const double *y, size_t n)
{
    frame f;
    bounds(x, n, &f.x0, &f.x1);
    bounds(y, n, &f.y0, &f.y1);
    int rc = weir_buf_printf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" viewBox=\"0 0 %g %g\" "
                                  "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
                                  "<text x=\"%g\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">", W, H, W, H, W / 2) ||
             put_text(out, title) || weir_buf_append_str(out, "</text>\n");
    /* axes, ticks and their labels */
    rc = rc || weir_buf_printf(out, "<path d=\"M%g %gV%gH%g\" stroke=\"black\" fill=\"none\"/>\n", LEFT, TOP, TOP + PH, LEFT + PW);
    double step = tick_step(f.x1 - f.x0);
    for (double t = ceil(f.x0 / step) * step; t <= f.x1 + step * 1e-9 && !rc; t += step)
        rc = weir_buf_printf(out, "<path d=\"M%.1f %gv5\" stroke=\"black\"/><text x=\"%.1f\" y=\"%g\" text-anchor=\"middle\">%.6g</text>\n",
                             px(&f, t), TOP + PH, px(&f, t), TOP + PH + 18, fabs(t) < step * 1e-9 ? 0 : t);
    step = tick_step(f.y1 - f.y0);
    for (double t = ceil(f.y0 / step) * step; t <= f.y1 + step * 1e-9 && !rc; t += step)
        rc = weir_buf_printf(out, "<path d=\"M%g %.1fh-5\" stroke=\"black\"/><text x=\"%g\" y=\"%.1f\" text-anchor=\"end\">%.6g</text>\n",
                             LEFT, py(&f, t), LEFT - 8, py(&f, t) + 4, fabs(t) < step * 1e-9 ? 0 : t);
    rc = rc || weir_buf_printf(out, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">", LEFT + PW / 2, H - 12) ||
         put_text(out, xlabel) || weir_buf_append_str(out, "</text>\n") ||
         weir_buf_printf(out, "<text transform=\"translate(18 %g) rotate(-90)\" text-anchor=\"middle\">", TOP + PH / 2) ||
         put_text(out, ylabel) || weir_buf_append_str(out, "</text>\n");
    if (n == 0)
        rc = rc || weir_buf_printf(out, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">no data</text>\n", LEFT + PW / 2, TOP + PH / 2);
    else
        rc = rc || weir_buf_append_str(out, "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"");
    for (size_t i = 0; i < n && !rc; i++)
        rc = weir_buf_printf(out, "%s%.1f,%.1f", i ? " " : "", px(&f, x[i]), py(&f, y[i]));
    if (n)
        rc = rc || weir_buf_append_str(out, "\"/>\n");
    return rc || weir_buf_append_str(out, "</svg>\n");
}
