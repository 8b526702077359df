/*
 * store.h - weir's state store: one LMDB environment in a directory
 * (DATA/state/), one named table (an LMDB database) per table or index,
 * keys made by key.h, values whatever their owner writes.
 * docs/STATE_STORE.md says why LMDB and how state is laid out in it.
 *
 * Writing is one transaction at a time (weir_store_begin .. commit or
 * abort): it sees its own writes, and a commit is durable (written and
 * fsynced, then LMDB's meta page flips) and atomic: all of it survives a
 * crash or none of it. A transaction that is aborted, or is not committed
 * when the process dies, leaves nothing.
 *
 * Reading is a snapshot (weir_store_snap_begin .. end): the store as of
 * the last commit before it began, unchanged by later commits, on any
 * thread (LMDB's MDB_NOTLS), never waiting for the writer nor making it
 * wait. Snapshots keep the pages they see alive, so they must be short.
 *
 * The map (the address space LMDB maps the file into) starts at
 * map_bytes; when a write needs more, the transaction is begun again in a
 * map twice as large and its writes are applied again (the writer keeps
 * them until commit): callers never see a full map. Growing waits for the
 * process's snapshots to end, the one time a reader delays the writer.
 *
 * Threads: one thread is the writer: it alone begins write transactions
 * and creates tables, and it holds no snapshot of its own while it writes
 * (growing the map waits for every snapshot). Any thread may take
 * snapshots and look tables up. Another process may open the same
 * directory read_only for snapshots (weir query beside weir serve).
 */
#ifndef WEIR_STORE_H
#define WEIR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

typedef struct weir_store weir_store;           /* an open store */
typedef struct weir_store_txn weir_store_txn;   /* the writer's transaction */
typedef struct weir_store_snap weir_store_snap; /* a reader's snapshot */
typedef struct weir_store_cursor weir_store_cursor;

/* A table's handle: valid until weir_store_close, on every thread. */
typedef struct weir_store_table {
    unsigned dbi;         /* LMDB's database handle */
} weir_store_table;

#define WEIR_STORE_MAP_DEFAULT (UINT64_C(64) << 30) /* 64 GiB of address space, not of disk */
/* The store's format this weir writes and reads up to (state/format.c): a
 * store marked with a higher one, a newer weir's, is refused at open. */
#define WEIR_STORE_FORMAT 2u

#define WEIR_STORE_TABLES_DEFAULT 4096 /* a table per query, and per partition of serve --threads */

typedef struct weir_store_options {
    uint64_t map_bytes;   /* the map's first size; 0: WEIR_STORE_MAP_DEFAULT; it grows by doubling */
    unsigned max_tables;  /* named tables at most; 0: WEIR_STORE_TABLES_DEFAULT */
    bool read_only;       /* snapshots only; the directory must exist */
} weir_store_options;

/* Opens (creating unless read_only) the store in dir, whose parent must
 * exist, and clears reader slots left by dead processes. opt may be NULL.
 * A store that cannot be opened is an error naming its file and, when it
 * may be damaged, `weir serve --reset`. */
int weir_store_open(const char *dir, const weir_store_options *opt, weir_store **out, weir_err *err);
/* Every transaction, snapshot and cursor must have ended. NULL is a no-op.
 * A store opened for writing and told weir_store_compact_at_close, whose
 * file is a quarter or more free pages (and at least
 * WEIR_STORE_COMPACT_MIN bytes), is compacted after it is closed, as
 * weir_store_compact (a failure leaves it as it was). */
void weir_store_close(weir_store *s);
/* Says that the next close is a clean stop's, which may take the time to
 * compact the file: not a close to reopen at once (statements applied to
 * a running server), nor one after an error. */
void weir_store_compact_at_close(weir_store *s);
#define WEIR_STORE_COMPACT_MIN (UINT64_C(1) << 20)
/* Rewrites the closed store in dir without its free pages and with full
 * pages (docs/STATE_STORE.md, "Compaction at a clean stop"): a copy
 * beside it renamed over it, so a crash at any moment leaves the store as
 * it was or compacted. Nothing is done (*done false, no error) when
 * another process, or another store of this process, has it open, or it
 * holds no entry. opt gives max_tables (NULL: the default). Takes the
 * time of a scan of the store and a write of its entries. */
int weir_store_compact(const char *dir, const weir_store_options *opt, bool *done, weir_err *err);
/* Whether s was opened read_only. */
bool weir_store_read_only(const weir_store *s);
/* Gives back the memory LMDB keeps between write transactions (its
 * malloc'd copies of the pages the largest transaction dirtied, kept for
 * reuse) and the map's pages mapped into the process: the environment is
 * closed and opened again, its tables under the same handles. The writer,
 * with no transaction open; WEIR_EBUSY (nothing done) while a snapshot of
 * this process is open: it never waits for readers. */
int weir_store_release(weir_store *s, weir_err *err);
/* Unmaps from this process the map's pages it mapped so far (they stay
 * in the kernel's page cache; a read maps them again): LMDB reads through
 * a read-only shared map, and the kernel maps the pages around each one
 * read (fault-around, 64 KiB), so the pages a random read touches make the
 * process's RssFile grow towards the store's size. Any thread, any time:
 * LMDB never writes through the map (no MDB_WRITEMAP). */
void weir_store_unmap(weir_store *s);
/* The writer unmaps them every n puts and deletes too (0: never; set
 * before writing): a transaction's B-tree walks map pages as reads do. */
void weir_store_unmap_every(weir_store *s, unsigned n);
/* The map's size now, and how many times it grew since open. */
uint64_t weir_store_map_bytes(const weir_store *s);
unsigned weir_store_grows(const weir_store *s);

/* The table called name (up to 255 bytes; names starting with '_' are
 * the store's own, as "_offsets"). create: the writer only, with no
 * transaction open: makes an absent table (empty) in a commit of its own.
 * Without create, an absent table is WEIR_ENOENT. */
int weir_store_table_open(weir_store *s, const char *name, bool create, weir_store_table *t, weir_err *err);

/* A key is 1 to weir_store_max_key() bytes (511 with Debian's LMDB). For
 * s NULL, WEIR_STORE_KEY_MAX: state kept in the store's key layout but
 * elsewhere (a scale-out task's groups, in its Kafka task store) is cut
 * at LMDB's default, the same in every process. */
#define WEIR_STORE_KEY_MAX 511
size_t weir_store_max_key(const weir_store *s);

/* The writer's transaction. A key of a wrong size is refused (WEIR_EINVAL)
 * and the transaction goes on; after any other error, only abort is left. */
int weir_store_begin(weir_store *s, weir_store_txn **out, weir_err *err);
int weir_store_put(weir_store_txn *t, weir_store_table tbl, const void *key, size_t klen,
                   const void *val, size_t vlen, weir_err *err);
/* Removing an absent key is not an error; *existed (may be NULL) says. */
int weir_store_del(weir_store_txn *t, weir_store_table tbl, const void *key, size_t klen, bool *existed,
                   weir_err *err);
/* *found says whether key is there; *val points into the map, valid
 * until the transaction's next put, del or end. */
int weir_store_get(weir_store_txn *t, weir_store_table tbl, const void *key, size_t klen,
                   const void **val, size_t *vlen, bool *found, weir_err *err);
/* Removes every key of tbl (the table stays). */
int weir_store_clear(weir_store_txn *t, weir_store_table tbl, weir_err *err);
/* Makes every write durable, or none (then the error names why). t is
 * freed either way. */
int weir_store_commit(weir_store_txn *t, weir_err *err);
/* Forgets every write; t is freed. NULL is a no-op. */
void weir_store_abort(weir_store_txn *t);

/* A snapshot of the last commit. */
int weir_store_snap_begin(weir_store *s, weir_store_snap **out, weir_err *err);
/* As weir_store_get; *val is valid until the snapshot ends. */
int weir_store_snap_get(weir_store_snap *r, weir_store_table tbl, const void *key, size_t klen,
                        const void **val, size_t *vlen, bool *found, weir_err *err);
/* How many keys tbl holds in the snapshot (LMDB keeps the count: no scan). */
int weir_store_snap_count(weir_store_snap *r, weir_store_table tbl, uint64_t *n, weir_err *err);
/* Ends r (NULL is a no-op); its cursors must be closed first. */
void weir_store_snap_end(weir_store_snap *r);

/* The keys from lo (inclusive; NULL: the first) to hi (exclusive; NULL:
 * past the last), forward or, with reverse, from the last down. The
 * bounds are copied. key.h's weir_key_prefix_end makes hi for a prefix. */
typedef struct weir_store_range {
    const void *lo;       /* first key in range, or NULL */
    size_t lo_len;
    const void *hi;       /* first key past the range, or NULL */
    size_t hi_len;
    bool reverse;         /* largest key first */
} weir_store_range;

/* A cursor over a snapshot's table, or over the writer's (whose cursor
 * is void after the transaction's next put or del). Close it before its
 * transaction or snapshot ends. */
int weir_store_snap_scan(weir_store_snap *r, weir_store_table tbl, const weir_store_range *range,
                         weir_store_cursor **out, weir_err *err);
int weir_store_txn_scan(weir_store_txn *t, weir_store_table tbl, const weir_store_range *range,
                        weir_store_cursor **out, weir_err *err);
/* The next item: *got false at the end of the range. key and val point
 * into the map, valid until the next call. */
int weir_store_next(weir_store_cursor *c, const void **key, size_t *klen, const void **val, size_t *vlen,
                    bool *got, weir_err *err);
void weir_store_cursor_close(weir_store_cursor *c);

#endif
