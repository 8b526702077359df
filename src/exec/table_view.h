/*
 * table_view.h - the current rows of a table: the latest row per primary
 * key (the table's GROUP BY keys and window start), fed from its
 * changelog, with an index on the first key column for pull queries that
 * ask for one value of it.
 *
 * One thread writes a view (the pipeline's), any number read it. The
 * writer's upserts wait in a queue that weir_view_publish applies at once
 * (after each pipeline step), so a reader sees the table as it was after
 * some step, never half of one; a reader holds the view for its whole
 * scan, and the writer does not wait for it: the queue waits for the next
 * publish instead (up to a bound, past which the writer waits).
 */
#ifndef WEIR_TABLE_VIEW_H
#define WEIR_TABLE_VIEW_H

#include "base/err.h"
#include "exec/pull.h"
#include "log/log.h"
#include "sql/plan.h"

typedef struct weir_table_view weir_table_view;

int weir_view_new(const weir_relation *table, weir_table_view **out, weir_err *err);

/* The writer: the table's new row replaces its key's row at the next
 * publish. The row is copied. */
int weir_view_upsert(weir_table_view *v, const weir_value *row, weir_err *err);

/* The writer: applies the rows upserted since the last publish, unless a
 * reader holds the view and fewer than a bound of rows wait (then they
 * wait for the next publish). */
int weir_view_publish(weir_table_view *v, weir_err *err);

/* Rows in the view as last published. */
size_t weir_view_count(weir_table_view *v);

/* Fills a view from its table's changelog (see weir_scan_rows) and
 * publishes it. */
int weir_view_load(weir_table_view *v, weir_log *log, bool stable_only, weir_err *err);

/* Offers a run every row of the view as last published (only those with
 * its key when the query asks for one value of the first key column),
 * until its limit; 0 or an error code. */
int weir_pull_offer_view(weir_pull_run *r, weir_table_view *v, weir_err *err);

void weir_view_free(weir_table_view *v);

#endif
