/*
 * store_internal.h - what store.c (the environment, tables, errors, the
 * map's growth), txn.c (the writer's transactions, snapshots) and
 * cursor.c (scans) share. Nothing outside src/state/store*.c, txn.c and
 * cursor.c includes it: LMDB's types stay behind store.h.
 */
#ifndef WEIR_STORE_INTERNAL_H
#define WEIR_STORE_INTERNAL_H

#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "base/buf.h"
#include "state/store.h"

struct weir_store {
    MDB_env *env;                 /* LMDB's environment: DIR/data.mdb and DIR/lock.mdb */
    char file[PATH_MAX];          /* DIR/data.mdb, for messages */
    bool read_only;               /* opened for snapshots only */
    uint64_t map_bytes;           /* the map's size now; changed by the writer under map_lock */
    unsigned grows;               /* times the map grew since open */
    size_t max_key;               /* the longest key: mdb_env_get_maxkeysize */
    unsigned max_tables;          /* named databases at most (mdb_env_set_maxdbs) */
    pthread_rwlock_t map_lock;    /* snapshots hold it shared; resizing the map takes it exclusive */
    pthread_mutex_t tables_lock;  /* every mdb_dbi_open, each in a transaction ended before unlock */
    char **names;                 /* names[dbi]: the table's name, or NULL; set once, freed at close */
    unsigned nnames;              /* entries of names (max_tables + LMDB's two own) */
    pthread_mutex_t writer_lock;  /* held by a write transaction from begin to commit or abort (several runners'
                                     checkpoint threads write): weir_store_release reopens only with none */
    bool checksums;               /* values end with a CRC-32C of their key and bytes (store_value_* below); a store
                                     made before them (no CHECKSUMS_TABLE) has none and goes on without */
    _Atomic unsigned unmap_every; /* the writer unmaps the map's pages every this many writes (0: never); set by
                                     the pipeline thread */
    unsigned writes_unmapped;     /* writes since the last */
    bool compact_at_close;        /* weir_store_compact_at_close: a clean stop's close compacts it */
    uint32_t format;              /* the format its marker names (format.c), 0 if it has none */
    dev_t dev;                    /* data.mdb's device and inode, for store_open_here */
    ino_t ino;
    weir_store *next_open;        /* the process's list of open stores (store.c) */
};

/* Whether this thread holds a store's writer_lock (a write transaction
 * of its own is open): creating a table then needs no other. */
extern _Thread_local bool store_writer_here;

struct weir_store_txn {
    weir_store *s;                /* the store written */
    MDB_txn *txn;                 /* the LMDB transaction now; replaced when the map grows */
    weir_buf redo;                /* every put and del so far, to apply again in a larger map */
    unsigned generation;          /* bumped each time txn is replaced; older cursors are void */
    int failed;                   /* the first error's code; then only abort */
};

struct weir_store_snap {
    weir_store *s;                /* the store read; its map_lock is held shared */
    MDB_txn *txn;                 /* read-only, MDB_NOTLS: not tied to a thread */
};

/* Turns LMDB's rc into err: the store's file, what was being done, why,
 * and what to do. Returns the weir code. */
int store_fail(const weir_store *s, int rc, const char *what, weir_err *err);

/* The name of the table with handle dbi (for messages). */
const char *store_table_name(const weir_store *s, unsigned dbi);

/* Doubles the map (the caller holds no LMDB transaction and no snapshot of
 * this process may be open: it waits for them). */
int store_grow(weir_store *s, weir_err *err);

/* Adopts a size another process grew the map to (after MDB_MAP_RESIZED);
 * the same conditions as store_grow. */
int store_adopt_size(weir_store *s, weir_err *err);

/* Values with checksums: the bytes a put of vlen takes, writing them
 * (val's, then the CRC of key and val) into the reserved room `at`; and a
 * value read checked and cut back to its owner's bytes, or WEIR_ECORRUPT
 * naming the file, the table and what to do. Without checksums both leave
 * the value as it is. */
size_t store_value_size(const weir_store *s, size_t vlen);
void store_value_write(const weir_store *s, const MDB_val *k, const void *val, size_t vlen, void *at);
int store_value_check(const weir_store *s, unsigned dbi, const MDB_val *k, MDB_val *v, weir_err *err);

/* A key's length checked against LMDB's limits, naming the table. */
int store_check_key(const weir_store *s, unsigned dbi, size_t klen, weir_err *err);

/* Unmaps from this process the pages of env's map it mapped so far
 * (weir_store_unmap; the caller keeps the map from moving). */
void store_unmap_env(MDB_env *env);

/* Whether a store this process has open reads or writes the file
 * (DIR/data.mdb): fcntl locks cannot tell a process's own opens apart. */
bool store_open_here(const char *file);

/* compact.c: the share of the file's pages that are free (LMDB's free
 * list) and the file's bytes, in a snapshot of its own; and removing a
 * compacted copy a crash left unfinished (the writer, once open: no
 * compaction runs while a process has the store open). */
int store_free_share(weir_store *s, double *share, uint64_t *file_bytes, weir_err *err);
int store_remove_copy(const char *dir, weir_err *err);

/* format.c: the store's format marker, a plain entry of LMDB's main
 * database beside the tables' names: whether a main-database key is it;
 * its value checked against what this weir reads (s->format set); and put
 * into a write transaction where the store is not marked with
 * WEIR_STORE_FORMAT yet (an LMDB error code; the writer sets s->format
 * once one commits). */
bool store_format_key(const MDB_val *k);
int store_format_check(weir_store *s, const MDB_val *v, weir_err *err);
int store_format_put(weir_store *s, MDB_txn *txn);

/* compact.c: mdb_env_open(env, dir) as weir opens every store (MDB_NOTLS,
 * read-only or not), excluded from a compaction (waiting for one to end);
 * LMDB's answer in *mdb_rc. A weir error only if the exclusion failed. */
int store_env_open(MDB_env *env, const char *dir, bool read_only, int *mdb_rc, weir_err *err);

#endif
