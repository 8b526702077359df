/*
 * pull.h - answering pull queries (SELECT ... FROM t WHERE ... ORDER BY ...
 * LIMIT n) over rows offered one at a time, and the table view that turns
 * a table's changelog into its current rows.
 *
 * Rows offered are filtered and projected at once, their values copied
 * (they may be borrowed from a reader's buffer); sorting and the limit
 * apply at the end. Without ORDER BY, weir_pull_offer says when the limit
 * is reached so a scan can stop early; with ORDER BY and LIMIT n only the
 * n best rows so far are kept (the others are freed as better ones come),
 * so memory follows the answer, not the table.
 *
 * A run can be bounded (weir_pull_set_limits): a deadline, checked while
 * rows are offered and while they are sorted, and the bytes the kept rows
 * may take. A caller that offers rows under a lock gets a pause call every
 * few hundred rows, where it may let other threads take the lock.
 */
#ifndef WEIR_PULL_H
#define WEIR_PULL_H

#include "base/err.h"
#include "log/log.h"
#include "sql/plan.h"

typedef struct weir_pull_run weir_pull_run;

int weir_pull_begin(const weir_pull *p, weir_pull_run **out, weir_err *err);

typedef struct weir_pull_limits {
    uint64_t deadline_ns;      /* weir_mono_ns() time the run must be done by; 0: none */
    size_t max_bytes;          /* the most bytes the kept rows may take; 0: no limit */
    bool (*pause)(void *ctx);  /* called between rows every few hundred rows; false stops the run; NULL: none */
    void *pause_ctx;
} weir_pull_limits;

/* Why a run stopped before its answer was complete. */
typedef enum weir_pull_stop {
    WEIR_PULL_COMPLETE,        /* it did not: the answer is whole */
    WEIR_PULL_TIMEOUT,         /* the deadline passed */
    WEIR_PULL_TOO_BIG,         /* the kept rows passed max_bytes */
    WEIR_PULL_CANCELLED,       /* pause said stop */
} weir_pull_stop;

/* Bounds the run (before the first offer); the limits are copied. */
void weir_pull_set_limits(weir_pull_run *r, const weir_pull_limits *lim);
/* After an offer failed or after weir_pull_finish: whether a limit stopped
 * the run (then the offer's error is WEIR_EBUSY, or finish gave no rows). */
weir_pull_stop weir_pull_stopped(const weir_pull_run *r);
/* Offers a row of p->from's schema. Returns 0, 1 when no more rows are
 * needed (LIMIT reached without ORDER BY), or an error code. */
int weir_pull_offer(weir_pull_run *r, const weir_value *row, weir_err *err);
/* Sorts and limits; then *rows[i] is a row of p->schema (borrowed from r).
 * 0 rows when the deadline passed while sorting (see weir_pull_stopped). */
size_t weir_pull_finish(weir_pull_run *r, const weir_value *const **rows);
void weir_pull_free(weir_pull_run *r);

/* The current rows of a table: the latest row per primary key (the
 * table's GROUP BY keys and window start), fed from its changelog. */
typedef struct weir_table_view weir_table_view;

int weir_view_new(const weir_relation *table, weir_table_view **out, weir_err *err);
int weir_view_upsert(weir_table_view *v, const weir_value *row, weir_err *err);
size_t weir_view_count(const weir_table_view *v);
/* Walks the rows: *pos starts at 0; NULL at the end. */
const weir_value *weir_view_next(const weir_table_view *v, size_t *pos);
void weir_view_free(weir_table_view *v);

/* Feeds every record of rel's stream to fn, decoded by rel's schema
 * (records that do not decode are skipped: they are no rows). fn returns
 * 0, 1 to stop, or an error code. With stable_only, a pipeline output is
 * read only up to what the pipeline's last checkpoint committed. */
int weir_scan_rows(weir_log *log, bool stable_only, const weir_relation *rel, int (*fn)(void *, const weir_value *),
                   void *ctx, weir_err *err);

/* Fills a view from its table's changelog (see weir_scan_rows). */
int weir_view_load(weir_table_view *v, weir_log *log, bool stable_only, weir_err *err);

/* Offers a run every row of a view of its table, or of a scan of its
 * stream, until its limit (without ORDER BY); 0 or an error code. */
int weir_pull_offer_view(weir_pull_run *r, const weir_table_view *v, weir_err *err);
int weir_pull_offer_scan(weir_pull_run *r, weir_log *log, bool stable_only, weir_err *err);

#endif
