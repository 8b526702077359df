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
 *
 * A view attached to the data directory's state store (weir_view_attach,
 * docs/STATE_STORE.md) keeps its rows there as of the last checkpoint,
 * with the changelog end they reflect in the store's _offsets, and in
 * memory only the rows upserted since it was loaded. weir_view_load then
 * replays only the changelog after the store's end; readers read the
 * memory rows and, for every other key, the store in a snapshot (LMDB's:
 * it never waits for the writer nor makes it wait). Memory rows are never
 * older than the store's: the checkpoint's thread publishes what waits
 * before its transaction commits (so a reader sees the rows of one step,
 * from memory or from the store), and the rows it writes were encoded
 * before the writer took another step.
 */
#ifndef WEIR_TABLE_VIEW_H
#define WEIR_TABLE_VIEW_H

#include "base/err.h"
#include "exec/pull.h"
#include "log/log.h"
#include "sql/plan.h"
#include "state/budget.h"
#include "state/store.h"

typedef struct weir_table_view weir_table_view;

int weir_view_new(const weir_relation *table, weir_table_view **out, weir_err *err);

/* The writer: the table's new row replaces its key's row at the next
 * publish. The row is copied. */
int weir_view_upsert(weir_table_view *v, const weir_value *row, weir_err *err);

/* The writer: the row with key's primary key (its other columns are not
 * read) leaves the table at the next publish. */
int weir_view_remove(weir_table_view *v, const weir_value *key, weir_err *err);

/* The writer: applies the rows upserted since the last publish, unless a
 * reader holds the view and fewer than a bound of rows wait (then they
 * wait for the next publish). */
int weir_view_publish(weir_table_view *v, weir_err *err);

/* Rows in the view as last published (with a store, those of its
 * snapshot too: each row upserted since the last checkpoint is looked up
 * there). */
size_t weir_view_count(weir_table_view *v);

/* Fills a view from its table's changelog (see weir_scan_rows) and
 * publishes it. Attached to a store, it replays only what follows the
 * store's end (see weir_view_attach); for a source table (whose changelog
 * is its input, read on by the runner from its checkpoint) a writer's
 * replays nothing and a reader's what the log has past the store. */
int weir_view_load(weir_table_view *v, weir_log *log, bool stable_only, weir_err *err);

/* Keeps the view's rows in store (the writer's thread, before
 * weir_view_load; store borrowed until weir_view_free). Opened for
 * writing, the store gets the view's table if it lacks it, and
 * weir_view_load empties it (and replays the whole changelog) when its end
 * is past the changelog's: a store committed ahead of a checkpoint file
 * that never came (a crash between the two), whose changelog the runner
 * then cut back. Opened read_only (weir query beside weir serve),
 * weir_view_load takes the snapshot the view is read in until it is freed
 * (its readers then take turns) and answers WEIR_EBUSY when the store is
 * ahead of the stable changelog (a checkpoint between its two commits:
 * try again, or read a view without a store). */
int weir_view_attach(weir_table_view *v, weir_store *store, weir_err *err);

/* Rows weir_view_load replayed from the changelog (for the metrics). */
uint64_t weir_view_replayed(const weir_table_view *v);

/* A checkpoint, for an attached view of a store opened for writing:
 *
 * begin, the writer's thread, as the checkpoint starts (the writer then
 * takes no step until the seal): weir_view_publish leaves publishing to
 * the seal.
 *
 * weir_view_checkpoint_seal, the checkpoint's thread, first: publishes
 * what waits (waiting for readers, if they hold the view), so that the
 * step which began the checkpoint shows as soon as it would without one,
 * and no reader sees a row in the store before the memory row it
 * replaces; then encodes every row changed since the last seal (the
 * newest of each key) into the checkpoint's batch. From then on the
 * writer may upsert and publish again: those rows are the next
 * checkpoint's.
 *
 * weir_view_checkpoint, the checkpoint's thread (the store's writer),
 * in its write transaction: puts the batch.
 *
 * end, the writer's thread, once the transaction committed (committed)
 * or failed: the batch of a failed one is put again, first, by the next. */
void weir_view_checkpoint_begin(weir_table_view *v);
int weir_view_checkpoint_seal(weir_table_view *v, weir_err *err);
int weir_view_checkpoint(weir_table_view *v, weir_store_txn *txn, weir_err *err);
void weir_view_checkpoint_end(weir_table_view *v, bool committed);

/* Bounded memory (state/budget.h), on the writer's thread between
 * checkpoints: the bytes the view holds in memory; a tick (a checkpoint
 * committed); the bytes of the rows that may leave memory (those the
 * store holds as they are) added to ages by age; and dropping them by a
 * cut (older than age; of that age until at_age bytes, 0: none), which
 * readers then read from the store: how many rows were dropped. */
size_t weir_view_bytes(const weir_table_view *v);
void weir_view_tick(weir_table_view *v);
void weir_view_droppable(const weir_table_view *v, weir_budget_ages *ages);
size_t weir_view_drop(weir_table_view *v, unsigned age, uint64_t at_age);

/* Offers a run every row of the view as last published (only those with
 * its key when the query asks for one value of the first key column),
 * until its limit; 0 or an error code. With a store: the memory rows,
 * then the store's rows of other keys (a range of the first key column's
 * value, or all). */
int weir_pull_offer_view(weir_pull_run *r, weir_table_view *v, weir_err *err);

void weir_view_free(weir_table_view *v);

#endif
