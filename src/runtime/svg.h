/*
 * svg.h - line plots as standalone SVG documents, for endpoints declared
 * WITH (format = 'svg').
 */
#ifndef WEIR_SVG_H
#define WEIR_SVG_H

#include <stddef.h>

#include "base/buf.h"

/* Plots (x[i], y[i]) in order as one line, with axes ticked at round
 * values, xlabel and ylabel on the axes and title above; n may be 0 (an
 * empty plot saying so). Returns 0 or WEIR_ENOMEM. */
int weir_svg_line_plot(weir_buf *out, const char *title, const char *xlabel, const char *ylabel, const double *x,
                       const double *y, size_t n);

#endif
