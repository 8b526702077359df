/*
 * pull.h - answering pull queries (SELECT ... FROM t WHERE ... ORDER BY ...
 * LIMIT n) over rows offered one at a time: from a table view
 * (table_view.h) or a scan of a relation's stream.
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
/* The query a run answers. */
const weir_pull *weir_pull_plan(const weir_pull_run *r);

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
/* For a push query, which sends each row as it comes: whether row (of
 * p->from's schema) passes the WHERE; then out[i] holds output column i,
 * for the p->schema.ncols columns, valid until the run's next call. */
bool weir_pull_project(weir_pull_run *r, const weir_value *row, weir_value *out);
/* Sorts and limits; then *rows[i] is a row of p->schema (borrowed from r).
 * 0 rows when the deadline passed while sorting (see weir_pull_stopped). */
size_t weir_pull_finish(weir_pull_run *r, const weir_value *const **rows);
void weir_pull_free(weir_pull_run *r);

/* Called with each row of a scan, or with removed the row a table's
 * tombstone removes (its primary-key columns, the rest NULL); returns 0,
 * 1 to stop, or an error code. */
typedef int (*weir_scan_fn)(void *ctx, const weir_value *row, bool removed);

/* Feeds every record of rel's stream to fn, decoded by rel's schema
 * (records that do not decode are skipped: they are no rows). With
 * stable_only, a pipeline output is read only up to what the pipeline's
 * last checkpoint committed. */
int weir_scan_rows(weir_log *log, bool stable_only, const weir_relation *rel, weir_scan_fn fn, void *ctx, weir_err *err);

/* As weir_scan_rows, over partition p's offsets [from[p], to[p]) (from
 * NULL: from the first; to NULL: to the end). */
int weir_scan_rows_range(weir_log *log, const weir_relation *rel, const uint64_t *from, const uint64_t *to,
                         weir_scan_fn fn, void *ctx, weir_err *err);

/* The end of each partition of rel's stream (*n of them, in *ends, which
 * the caller frees): with stable_only, for a pipeline output, what the
 * pipeline's last checkpoint committed. */
int weir_scan_ends(weir_log *log, const weir_relation *rel, bool stable_only, uint64_t **ends, uint32_t *n, weir_err *err);

/* Offers a run every row of a scan of its relation's stream, until its
 * limit (without ORDER BY); 0 or an error code. (Table views offer their
 * rows too: table_view.h.) */
int weir_pull_offer_scan(weir_pull_run *r, weir_log *log, bool stable_only, weir_err *err);

#endif
