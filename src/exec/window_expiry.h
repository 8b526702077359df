/*
 * window_expiry.h - the rows a windowed table shows, by the end of their
 * window, until the table's retention has passed that end.
 *
 * A windowed table (its primary key holds window_start) would otherwise
 * keep every window it ever closed, in its view, the state store and its
 * compacted changelog, however old. So when a window closes, the rows it
 * left in the table are listed here (the window's bounds and the group
 * keys, encoded as checkpoints encode values: a few bytes a row, the TEXT
 * held too); once the watermark is past a window's end by the retention,
 * the engine takes its rows and each leaves the table: a removal, a
 * tombstone in the changelog (engine.c). Windows close in order of their
 * end, so the list is a queue: appended at the back, taken from the front.
 * Sessions closing together are listed in order of their start, so their
 * ends may be out of order: a row listed after one that ends later leaves
 * with that one (in memory and in the state store alike).
 *
 * One thread at a time: the engine's, or a checkpoint's (weir_expiry_each,
 * _rows, _save) while the engine is held.
 */
#ifndef WEIR_WINDOW_EXPIRY_H
#define WEIR_WINDOW_EXPIRY_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/codec.h"
#include "sql/value.h"

typedef struct weir_expiry weir_expiry;

/* NULL when out of memory. nkeys: the group keys of a row. */
weir_expiry *weir_expiry_new(int nkeys);
void weir_expiry_free(weir_expiry *x);

/* Lists the row of the window [ws, we) named by keys (copied). -1 when out
 * of memory (nothing listed). */
int weir_expiry_add(weir_expiry *x, const weir_value *keys, int64_t ws, int64_t we);

/* The end of the window of the row at the front; INT64_MAX when none. */
int64_t weir_expiry_first_end(const weir_expiry *x);

/* Calls fn for each row at the front whose window ends at or before upto,
 * in the order they were listed, and forgets it. keys are valid for the
 * call. Stops at fn's first non-zero, which it returns (that row and the
 * rest stay). */
typedef int (*weir_expiry_fn)(void *ctx, const weir_value *keys, int64_t ws, int64_t we);
int weir_expiry_take(weir_expiry *x, int64_t upto, weir_expiry_fn fn, void *ctx);

/* Calls fn for each row past the first skip, in the order listed (as
 * take would; nothing is forgotten). Stops at fn's first non-zero. */
int weir_expiry_each(const weir_expiry *x, uint64_t skip, weir_expiry_fn fn, void *ctx);
/* Forgets the first n rows (all there are, at most) without taking them. */
void weir_expiry_drop(weir_expiry *x, uint64_t n);

/* One row as the list encodes it (i64 end, i64 start, the keys as
 * checkpoints write values): appended to b (-1 when out of memory), or
 * read from r (false when it does not read; TEXT points into r's bytes). */
int weir_expiry_put_row(weir_buf *b, int nkeys, const weir_value *keys, int64_t ws, int64_t we);
bool weir_expiry_get_row(weir_reader_buf *r, int nkeys, weir_value *keys, int64_t *ws, int64_t *we);

uint64_t weir_expiry_rows(const weir_expiry *x);
size_t weir_expiry_bytes(const weir_expiry *x);

/* Checkpoints: u64 row count, then the rows' bytes (u32 length first),
 * per row i64 window end, i64 window start and the keys; WEIR_EINVAL past
 * 4 GiB of them, WEIR_ENOMEM. load replaces what x holds: WEIR_ECORRUPT or
 * WEIR_ENOMEM. */
int weir_expiry_save(const weir_expiry *x, weir_buf *out);
int weir_expiry_load(weir_expiry *x, weir_reader_buf *r);

#endif
