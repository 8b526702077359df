/*
 * compare.c - the measurement behind weir's choice of embedded state store:
 * RocksDB (librocksdb-dev, C API rocksdb/c.h) against LMDB (liblmdb-dev),
 * side by side in one run, on the state weir's Collatz and tweets examples
 * keep, with a plain in-memory hash map beside them as the machine's own
 * limit (roughly what src/state/groups.c does today).
 *
 * Why it is built this way: every measured run is a forked child, so peak
 * RSS, CPU seconds and /proc/self/io write_bytes belong to one engine and
 * one workload; the parent interleaves engines within each round (the
 * order alternates between rounds) and prints the median of every figure.
 *
 * The write pattern is weir's: a read-modify-write of a small value per
 * update (get, modify, put), the updates of one checkpoint gathered in one
 * atomic batch committed durably (RocksDB: a WriteBatchWithIndex written
 * with sync=true, read through by get_from_batch_and_db; LMDB: one write
 * transaction committed with the default sync). Readers read the last
 * commit on a snapshot (RocksDB: a snapshot per read, an iterator per scan;
 * LMDB: a read transaction renewed per read), never the writer's batch.
 * Each engine also runs behind a bounded write-back hash map ("+ cache"),
 * the shape of the hot cache weir would keep in front of either.
 *
 * Keys are ordered byte strings: one table byte, then the key columns,
 * unsigned integers big-endian so byte order is numeric order, text
 * followed by a 0 byte. Values are native-endian uint64 fields.
 *
 * Usage: compare DATA_DIR TWEETS_NDJSON ROUNDS STEPS... (see statestore.sh)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <lmdb.h>
#include <math.h>
#include <pthread.h>
#include <rocksdb/c.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define COMMIT_EVERY 10000     /* Collatz steps per durable commit (a checkpoint) */
#define VALUE_CAP (1u << 20)   /* largest value read back (a pane's user set as a blob) */
#define READS 20000            /* point reads per measurement */
#define SCANS 2000             /* range scans and top-N reads per measurement */
#define CONC_STEPS 100000      /* Collatz steps written with a reader beside, at most */
#define BIG_STEPS 1000000      /* Collatz sizes above this run one round of the plain pair only */
#define CACHE_BYTES (256u << 20) /* RocksDB block cache: the issue's --state-memory 256 MiB */

/* ---- errors and measurements ---- */

static __thread char errmsg[256]; /* the failing call and its reason, per thread */

static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg, sizeof errmsg, fmt, ap);
    va_end(ap);
    return -1;
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t); /* cannot fail with a valid clock and pointer */
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static double cpu_s(void)
{
    struct rusage u;
    if (getrusage(RUSAGE_SELF, &u) != 0)
        return NAN;
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/* A line of /proc/self/status in MiB (RssAnon, RssFile), NaN if absent. */
static double status_mb(const char *name)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return NAN;
    char line[128];
    size_t n = strlen(name);
    double kb = NAN;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, name, n) == 0 && line[n] == ':' && sscanf(line + n + 1, "%lf", &kb) == 1)
            break;
    if (fclose(f) != 0)
        return NAN;
    return kb / 1024.0;
}

static double peak_rss_mb(void)
{
    struct rusage u;
    return getrusage(RUSAGE_SELF, &u) == 0 ? u.ru_maxrss / 1024.0 : NAN;
}

/* Bytes this process (all its threads, so RocksDB's compactions too) caused
 * to be written to the block device; -1 when /proc/self/io is unreadable. */
static long long io_write_bytes(void)
{
    FILE *f = fopen("/proc/self/io", "r");
    if (!f)
        return -1;
    char line[128];
    long long v = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "write_bytes: %lld", &v) == 1)
            break;
    if (fclose(f) != 0)
        return -1;
    return v;
}

static uint64_t du_bytes;
static int du_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)path, (void)flag, (void)ftw;
    du_bytes += (uint64_t)st->st_blocks * 512u;
    return 0;
}

/* Bytes allocated on disk under dir (sparse files count what they use). */
static double disk_mb(const char *dir)
{
    du_bytes = 0;
    if (nftw(dir, du_one, 16, FTW_PHYS) != 0)
        return NAN;
    return du_bytes / 1048576.0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

static int fresh_dir(const char *dir)
{
    if (nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
        return fail("rm -r %s: %s", dir, strerror(errno));
    if (mkdir(dir, 0755) != 0)
        return fail("mkdir %s: %s", dir, strerror(errno));
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The p-th percentile (0..1) of n latencies in ns, in microseconds; sorts ns. */
static double pct_us(uint64_t *ns, size_t n, double p)
{
    if (n == 0)
        return NAN;
    qsort(ns, n, sizeof *ns, cmp_u64);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return ns[i] / 1000.0;
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* ---- the engines, behind one small table of calls ---- */

typedef struct store store;
/* Called per row of a scan; returning nonzero stops the scan. */
typedef int (*scan_fn)(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl);

typedef struct {
    const char *name;
    bool ordered;   /* has scans (the hash map has none) */
    bool threads;   /* reads may run on another thread beside the writer */
    bool durable;   /* survives close and reopen */
    store *(*open)(const char *dir);                 /* NULL on failure (errmsg says why) */
    int (*close)(store *s);                          /* commits nothing: call commit first */
    /* Writer thread: 1 found (value copied into v of cap bytes, *vl set), 0 missing, -1 error
     * (a longer value too); sees its own batch. */
    int (*get)(store *s, const uint8_t *k, size_t kl, uint8_t *v, size_t cap, size_t *vl);
    int (*put)(store *s, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl);
    int (*del)(store *s, const uint8_t *k, size_t kl);
    int (*commit)(store *s);                         /* the batch, atomically and durably */
    /* Any thread, on a snapshot of the last commit: like get. */
    int (*read)(store *s, const uint8_t *k, size_t kl, uint8_t *v, size_t cap, size_t *vl);
    /* Any thread, on a snapshot: keys in [lo, hi), ascending or descending. */
    int (*scan)(store *s, const uint8_t *lo, size_t ll, const uint8_t *hi, size_t hl, bool reverse, scan_fn fn, void *arg);
    void (*reader_done)(store *s);                   /* a reading thread ends */
} engine;

/* -- RocksDB -- */

struct rocks {
    rocksdb_t *db;
    rocksdb_options_t *opt;
    rocksdb_block_based_table_options_t *table;
    rocksdb_cache_t *cache;
    rocksdb_writeoptions_t *sync;      /* sync=true: the WAL is fsynced before the write returns */
    rocksdb_readoptions_t *ro;         /* the writer's reads */
    rocksdb_writebatch_wi_t *batch;    /* the checkpoint under way, readable by the writer */
};

static __thread rocksdb_readoptions_t *rocks_tro; /* a reading thread's options (its snapshot) */

static store *rocks_open(const char *dir)
{
    struct rocks *r = calloc(1, sizeof *r);
    if (!r) {
        fail("out of memory");
        return NULL;
    }
    r->opt = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(r->opt, 1);
    rocksdb_options_increase_parallelism(r->opt, 2);     /* two cores */
    rocksdb_options_set_max_background_jobs(r->opt, 2);
    rocksdb_options_set_write_buffer_size(r->opt, 16u << 20);
    rocksdb_options_set_max_write_buffer_number(r->opt, 3);
    rocksdb_options_set_max_total_wal_size(r->opt, 64u << 20); /* bounds the log replayed at restart */
    rocksdb_options_set_level_compaction_dynamic_level_bytes(r->opt, 1);
    rocksdb_options_set_compression(r->opt, rocksdb_lz4_compression);
    r->table = rocksdb_block_based_options_create();
    r->cache = rocksdb_cache_create_lru(CACHE_BYTES);
    rocksdb_block_based_options_set_block_cache(r->table, r->cache);
    rocksdb_block_based_options_set_filter_policy(r->table, rocksdb_filterpolicy_create_bloom_full(10));
    rocksdb_block_based_options_set_cache_index_and_filter_blocks(r->table, 1);
    rocksdb_block_based_options_set_pin_l0_filter_and_index_blocks_in_cache(r->table, 1);
    rocksdb_options_set_block_based_table_factory(r->opt, r->table);
    r->sync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(r->sync, 1);
    r->ro = rocksdb_readoptions_create();
    r->batch = rocksdb_writebatch_wi_create(0, 1);
    char *err = NULL;
    r->db = rocksdb_open(r->opt, dir, &err);
    if (err) {
        fail("rocksdb_open %s: %s", dir, err);
        rocksdb_free(err);
        rocksdb_writebatch_wi_destroy(r->batch);
        rocksdb_readoptions_destroy(r->ro);
        rocksdb_writeoptions_destroy(r->sync);
        rocksdb_options_destroy(r->opt);
        rocksdb_block_based_options_destroy(r->table);
        rocksdb_cache_destroy(r->cache);
        free(r);
        return NULL;
    }
    return (store *)r;
}

static int rocks_close(store *s)
{
    struct rocks *r = (struct rocks *)s;
    rocksdb_close(r->db);
    rocksdb_writebatch_wi_destroy(r->batch);
    rocksdb_readoptions_destroy(r->ro);
    rocksdb_writeoptions_destroy(r->sync);
    rocksdb_options_destroy(r->opt);
    rocksdb_block_based_options_destroy(r->table);
    rocksdb_cache_destroy(r->cache);
    free(r);
    return 0;
}

static int rocks_result(char *val, size_t len, char *err, const char *what, uint8_t *v, size_t cap, size_t *vl)
{
    if (err) {
        fail("rocksdb %s: %s", what, err);
        rocksdb_free(err);
        return -1;
    }
    if (!val)
        return 0;
    if (len > cap) {
        rocksdb_free(val);
        return fail("rocksdb %s: value of %zu bytes", what, len);
    }
    memcpy(v, val, len);
    *vl = len;
    rocksdb_free(val);
    return 1;
}

static int rocks_get(store *s, const uint8_t *k, size_t kl, uint8_t *v, size_t cap, size_t *vl)
{
    struct rocks *r = (struct rocks *)s;
    char *err = NULL;
    size_t len = 0;
    char *val = rocksdb_writebatch_wi_get_from_batch_and_db(r->batch, r->db, r->ro, (const char *)k, kl, &len, &err);
    return rocks_result(val, len, err, "get", v, cap, vl);
}

static int rocks_put(store *s, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    rocksdb_writebatch_wi_put(((struct rocks *)s)->batch, (const char *)k, kl, (const char *)v, vl);
    return 0;
}

static int rocks_del(store *s, const uint8_t *k, size_t kl)
{
    rocksdb_writebatch_wi_delete(((struct rocks *)s)->batch, (const char *)k, kl);
    return 0;
}

static int rocks_commit(store *s)
{
    struct rocks *r = (struct rocks *)s;
    char *err = NULL;
    rocksdb_write_writebatch_wi(r->db, r->sync, r->batch, &err);
    if (err) {
        fail("rocksdb write: %s", err);
        rocksdb_free(err);
        return -1;
    }
    rocksdb_writebatch_wi_clear(r->batch);
    return 0;
}

static rocksdb_readoptions_t *rocks_thread_ro(void)
{
    if (!rocks_tro)
        rocks_tro = rocksdb_readoptions_create();
    return rocks_tro;
}

static int rocks_read(store *s, const uint8_t *k, size_t kl, uint8_t *v, size_t cap, size_t *vl)
{
    struct rocks *r = (struct rocks *)s;
    rocksdb_readoptions_t *ro = rocks_thread_ro();
    const rocksdb_snapshot_t *snap = rocksdb_create_snapshot(r->db);
    rocksdb_readoptions_set_snapshot(ro, snap);
    char *err = NULL;
    size_t len = 0;
    char *val = rocksdb_get(r->db, ro, (const char *)k, kl, &len, &err);
    rocksdb_readoptions_set_snapshot(ro, NULL);
    rocksdb_release_snapshot(r->db, snap);
    return rocks_result(val, len, err, "get", v, cap, vl);
}

static int rocks_scan(store *s, const uint8_t *lo, size_t ll, const uint8_t *hi, size_t hl, bool reverse, scan_fn fn, void *arg)
{
    struct rocks *r = (struct rocks *)s;
    rocksdb_readoptions_t *ro = rocks_thread_ro();
    rocksdb_readoptions_set_iterate_lower_bound(ro, (const char *)lo, ll);
    rocksdb_readoptions_set_iterate_upper_bound(ro, (const char *)hi, hl);
    rocksdb_iterator_t *it = rocksdb_create_iterator(r->db, ro); /* an implicit snapshot */
    if (reverse)
        rocksdb_iter_seek_to_last(it);
    else
        rocksdb_iter_seek_to_first(it);
    while (rocksdb_iter_valid(it)) {
        size_t kl, vl;
        const char *k = rocksdb_iter_key(it, &kl), *v = rocksdb_iter_value(it, &vl);
        if (fn(arg, (const uint8_t *)k, kl, (const uint8_t *)v, vl))
            break;
        if (reverse)
            rocksdb_iter_prev(it);
        else
            rocksdb_iter_next(it);
    }
    char *err = NULL;
    rocksdb_iter_get_error(it, &err);
    rocksdb_iter_destroy(it);
    rocksdb_readoptions_set_iterate_lower_bound(ro, NULL, 0);
    rocksdb_readoptions_set_iterate_upper_bound(ro, NULL, 0);
    if (err) {
        fail("rocksdb iterator: %s", err);
        rocksdb_free(err);
        return -1;
    }
    return 0;
}

static void rocks_reader_done(store *s)
{
    (void)s;
    if (rocks_tro)
        rocksdb_readoptions_destroy(rocks_tro);
    rocks_tro = NULL;
}

static const engine rocks_engine = {"RocksDB 7.8", true, true, true, rocks_open, rocks_close, rocks_get, rocks_put,
                                    rocks_del, rocks_commit, rocks_read, rocks_scan, rocks_reader_done};

/* -- LMDB -- */

struct lmdb {
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *w;        /* the checkpoint under way; NULL between commits */
};

static __thread MDB_txn *lmdb_rtxn; /* a reading thread's read transaction, reset between reads */

static store *lmdb_open(const char *dir)
{
    struct lmdb *l = calloc(1, sizeof *l);
    if (!l) {
        fail("out of memory");
        return NULL;
    }
    int rc;
    MDB_txn *t = NULL;
    if ((rc = mdb_env_create(&l->env)) != 0) {
        fail("mdb_env_create: %s", mdb_strerror(rc));
        free(l);
        return NULL;
    }
    /* 64 GiB of address space (the file grows as pages are used); NOTLS:
     * read transactions belong to our handles, not to threads; NORDAHEAD:
     * random reads of a store larger than memory should not pull in
     * neighbouring pages. */
    if ((rc = mdb_env_set_mapsize(l->env, (size_t)64 << 30)) != 0 ||
        (rc = mdb_env_open(l->env, dir, MDB_NOTLS | MDB_NORDAHEAD, 0644)) != 0 ||
        (rc = mdb_txn_begin(l->env, NULL, 0, &t)) != 0 || (rc = mdb_dbi_open(t, NULL, 0, &l->dbi)) != 0 ||
        (rc = mdb_txn_commit(t)) != 0) {
        fail("lmdb open %s: %s", dir, mdb_strerror(rc));
        mdb_env_close(l->env); /* aborts a transaction left open */
        free(l);
        return NULL;
    }
    return (store *)l;
}

static int lmdb_close(store *s)
{
    struct lmdb *l = (struct lmdb *)s;
    if (l->w)
        mdb_txn_abort(l->w);
    if (lmdb_rtxn)
        mdb_txn_abort(lmdb_rtxn);
    lmdb_rtxn = NULL;
    mdb_env_close(l->env);
    free(l);
    return 0;
}

static int lmdb_writer(struct lmdb *l)
{
    int rc = l->w ? 0 : mdb_txn_begin(l->env, NULL, 0, &l->w);
    return rc ? fail("mdb_txn_begin: %s", mdb_strerror(rc)) : 0;
}

static int lmdb_found(int rc, const MDB_val *val, const char *what, uint8_t *v, size_t cap, size_t *vl)
{
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return fail("mdb %s: %s", what, mdb_strerror(rc));
    if (val->mv_size > cap)
        return fail("mdb %s: value of %zu bytes", what, val->mv_size);
    memcpy(v, val->mv_data, val->mv_size);
    *vl = val->mv_size;
    return 1;
}

static int lmdb_get(store *s, const uint8_t *k, size_t kl, uint8_t *v, size_t cap, size_t *vl)
{
    struct lmdb *l = (struct lmdb *)s;
    if (lmdb_writer(l))
        return -1;
    MDB_val key = {kl, (void *)k}, val;
    return lmdb_found(mdb_get(l->w, l->dbi, &key, &val), &val, "get", v, cap, vl);
}

static int lmdb_put(store *s, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    struct lmdb *l = (struct lmdb *)s;
    if (lmdb_writer(l))
        return -1;
    MDB_val key = {kl, (void *)k}, val = {vl, (void *)v};
    int rc = mdb_put(l->w, l->dbi, &key, &val, 0);
    return rc ? fail("mdb_put: %s", mdb_strerror(rc)) : 0;
}

static int lmdb_del(store *s, const uint8_t *k, size_t kl)
{
    struct lmdb *l = (struct lmdb *)s;
    if (lmdb_writer(l))
        return -1;
    MDB_val key = {kl, (void *)k};
    int rc = mdb_del(l->w, l->dbi, &key, NULL);
    return rc && rc != MDB_NOTFOUND ? fail("mdb_del: %s", mdb_strerror(rc)) : 0;
}

static int lmdb_commit(store *s)
{
    struct lmdb *l = (struct lmdb *)s;
    if (!l->w)
        return 0;
    int rc = mdb_txn_commit(l->w); /* flush pages, fsync, meta page, fsync */
    l->w = NULL;
    return rc ? fail("mdb_txn_commit: %s", mdb_strerror(rc)) : 0;
}

static int lmdb_reader(struct lmdb *l)
{
    int rc = lmdb_rtxn ? mdb_txn_renew(lmdb_rtxn) : mdb_txn_begin(l->env, NULL, MDB_RDONLY, &lmdb_rtxn);
    return rc ? fail("lmdb read txn: %s", mdb_strerror(rc)) : 0;
}

static int lmdb_read(store *s, const uint8_t *k, size_t kl, uint8_t *v, size_t cap, size_t *vl)
{
    struct lmdb *l = (struct lmdb *)s;
    if (lmdb_reader(l))
        return -1;
    MDB_val key = {kl, (void *)k}, val;
    int rc = lmdb_found(mdb_get(lmdb_rtxn, l->dbi, &key, &val), &val, "get", v, cap, vl);
    mdb_txn_reset(lmdb_rtxn);
    return rc;
}

static int lmdb_bytes_cmp(const MDB_val *a, const uint8_t *b, size_t bl)
{
    size_t n = a->mv_size < bl ? a->mv_size : bl;
    int c = memcmp(a->mv_data, b, n);
    return c ? c : (a->mv_size > bl) - (a->mv_size < bl);
}

static int lmdb_scan(store *s, const uint8_t *lo, size_t ll, const uint8_t *hi, size_t hl, bool reverse, scan_fn fn, void *arg)
{
    struct lmdb *l = (struct lmdb *)s;
    if (lmdb_reader(l))
        return -1;
    MDB_cursor *c;
    int rc = mdb_cursor_open(lmdb_rtxn, l->dbi, &c);
    if (rc) {
        mdb_txn_reset(lmdb_rtxn);
        return fail("mdb_cursor_open: %s", mdb_strerror(rc));
    }
    MDB_val key = {reverse ? hl : ll, (void *)(reverse ? hi : lo)}, val;
    rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE); /* the first key >= the bound */
    if (reverse && (rc == 0 || rc == MDB_NOTFOUND)) /* the key before hi, or the last when none is >= hi */
        rc = mdb_cursor_get(c, &key, &val, rc ? MDB_LAST : MDB_PREV);
    while (rc == 0) {
        if (reverse ? lmdb_bytes_cmp(&key, lo, ll) < 0 : lmdb_bytes_cmp(&key, hi, hl) >= 0)
            break;
        if (fn(arg, key.mv_data, key.mv_size, val.mv_data, val.mv_size))
            break;
        rc = mdb_cursor_get(c, &key, &val, reverse ? MDB_PREV : MDB_NEXT);
    }
    mdb_cursor_close(c);
    mdb_txn_reset(lmdb_rtxn);
    return rc && rc != MDB_NOTFOUND ? fail("mdb_cursor_get: %s", mdb_strerror(rc)) : 0;
}

static void lmdb_reader_done(store *s)
{
    (void)s;
    if (lmdb_rtxn)
        mdb_txn_abort(lmdb_rtxn);
    lmdb_rtxn = NULL;
}

static const engine lmdb_engine = {"LMDB 0.9.24", true, true, true, lmdb_open, lmdb_close, lmdb_get, lmdb_put,
                                   lmdb_del, lmdb_commit, lmdb_read, lmdb_scan, lmdb_reader_done};

/* -- the in-memory limit: open addressing, keys and values inline -- */

#define HM_KEY 37
#define HM_VAL 16
#define HM_DIRTY 1            /* changed since the last commit (the write-back cache) */
#define HM_GONE 2             /* deleted, or known missing from the store behind */
typedef struct {
    uint64_t hash;            /* 0: free slot */
    uint8_t kl, vl, flags;
    uint8_t k[HM_KEY], v[HM_VAL];
} hm_slot;                    /* 64 bytes, a cache line */

struct hmap {
    hm_slot *slots;
    size_t cap, n;            /* cap a power of two, grown at 3/4 full */
    bool track;               /* keep the dirty list (the cache) */
    size_t *dirty, ndirty, dcap; /* slots with HM_DIRTY, each once */
};

static uint64_t hm_hash(const uint8_t *k, size_t kl)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a, then a final mix */
    for (size_t i = 0; i < kl; i++)
        h = (h ^ k[i]) * 0x100000001b3ull;
    h ^= h >> 29;
    return h ? h : 1;
}

static struct hmap *hm_new(bool track)
{
    struct hmap *m = calloc(1, sizeof *m);
    if (!m || !(m->slots = calloc(m->cap = 1024, sizeof *m->slots))) {
        free(m);
        fail("out of memory");
        return NULL;
    }
    m->track = track;
    return m;
}

static void hm_free(struct hmap *m)
{
    free(m->slots);
    free(m->dirty);
    free(m);
}

static store *hm_open(const char *dir)
{
    (void)dir;
    return (store *)hm_new(false);
}

static int hm_close(store *s)
{
    hm_free((struct hmap *)s);
    return 0;
}

static size_t hm_find(const struct hmap *m, const uint8_t *k, size_t kl, uint64_t h)
{
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        const hm_slot *e = &m->slots[i];
        if (!e->hash || (e->hash == h && e->kl == kl && memcmp(e->k, k, kl) == 0))
            return i;
    }
}

static int hm_mark(struct hmap *m, size_t i)
{
    if (m->ndirty == m->dcap) {
        size_t *d = realloc(m->dirty, (m->dcap = m->dcap ? m->dcap * 2 : 4096) * sizeof *d);
        if (!d)
            return fail("out of memory");
        m->dirty = d;
    }
    m->dirty[m->ndirty++] = i;
    return 0;
}

/* Sets a key's value (v NULL with HM_GONE: a deletion), flags as given. */
static int hm_set(struct hmap *m, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, uint8_t flags)
{
    if (kl > HM_KEY || vl > HM_VAL)
        return fail("hash map: key %zu or value %zu bytes too long", kl, vl);
    if ((m->n + 1) * 4 > m->cap * 3) { /* double, and find the dirty slots' new places */
        struct hmap g = *m;
        if (!(g.slots = calloc(g.cap = m->cap * 2, sizeof *g.slots)))
            return fail("out of memory");
        g.ndirty = 0;
        for (size_t i = 0; i < m->cap; i++) {
            hm_slot *e = &m->slots[i];
            if (!e->hash)
                continue;
            size_t j = hm_find(&g, e->k, e->kl, e->hash);
            g.slots[j] = *e;
            if (m->track && (e->flags & HM_DIRTY))
                g.dirty[g.ndirty++] = j; /* no more than before: the list has room */
        }
        free(m->slots);
        *m = g;
    }
    uint64_t h = hm_hash(k, kl);
    size_t i = hm_find(m, k, kl, h);
    hm_slot *e = &m->slots[i];
    if (!e->hash) {
        e->hash = h;
        e->kl = (uint8_t)kl;
        e->flags = 0;
        memcpy(e->k, k, kl);
        m->n++;
    }
    if (m->track && (flags & HM_DIRTY) && !(e->flags & HM_DIRTY) && hm_mark(m, i))
        return -1;
    e->flags = flags | (e->flags & HM_DIRTY);
    e->vl = (uint8_t)vl;
    if (vl)
        memcpy(e->v, v, vl);
    return 0;
}

/* 1 found, 0 deleted or known missing, 2 not in the map (a cache miss). */
static int hm_lookup(const struct hmap *m, const uint8_t *k, size_t kl, uint8_t *v, size_t cap, size_t *vl)
{
    const hm_slot *e = &m->slots[hm_find(m, k, kl, hm_hash(k, kl))];
    if (!e->hash)
        return 2;
    if (e->flags & HM_GONE)
        return 0;
    if (e->vl > cap)
        return fail("hash map: value of %u bytes", e->vl);
    memcpy(v, e->v, e->vl);
    *vl = e->vl;
    return 1;
}

static int hm_get(store *s, const uint8_t *k, size_t kl, uint8_t *v, size_t cap, size_t *vl)
{
    int rc = hm_lookup((struct hmap *)s, k, kl, v, cap, vl);
    return rc == 2 ? 0 : rc;
}

static int hm_put(store *s, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    return hm_set((struct hmap *)s, k, kl, v, vl, HM_DIRTY);
}

static int hm_del(store *s, const uint8_t *k, size_t kl)
{
    return hm_set((struct hmap *)s, k, kl, NULL, 0, HM_DIRTY | HM_GONE);
}

static int hm_commit(store *s)
{
    (void)s;
    return 0;
}

static void hm_reader_done(store *s) { (void)s; }

static const engine hm_engine = {"in-memory hash map", false, false, false, hm_open, hm_close, hm_get, hm_put,
                                 hm_del, hm_commit, hm_get, NULL, hm_reader_done};

/* -- a store behind a bounded write-back cache, as weir's state would use it --
 * The writer's read-modify-writes hit the hash map; a miss reads the store
 * and remembers the answer (a value, or that the key is missing). A commit
 * writes each key changed since the last one once, as blind puts and
 * deletes in one batch, then commits the store. Past CACHE_BYTES of slots
 * the map is emptied after a commit (every entry is clean then): crude,
 * but it bounds memory and the misses it causes are what is measured.
 * Readers bypass the map and read the store's last commit. */

struct cached {
    struct hmap *m;
    const engine *base;
    store *b;
};

static store *cached_open(const engine *base, const char *dir)
{
    struct cached *c = calloc(1, sizeof *c);
    if (!c || !(c->m = hm_new(true))) {
        free(c);
        fail("out of memory");
        return NULL;
    }
    c->base = base;
    if (!(c->b = base->open(dir))) {
        hm_free(c->m);
        free(c);
        return NULL;
    }
    return (store *)c;
}

static store *cached_rocks_open(const char *dir);
static store *cached_lmdb_open(const char *dir);

static int cached_close(store *s)
{
    struct cached *c = (struct cached *)s;
    int rc = c->base->close(c->b);
    hm_free(c->m);
    free(c);
    return rc;
}

static int cached_get(store *s, const uint8_t *k, size_t kl, uint8_t *v, size_t cap, size_t *vl)
{
    struct cached *c = (struct cached *)s;
    int rc = hm_lookup(c->m, k, kl, v, cap, vl);
    if (rc != 2)
        return rc;
    if ((rc = c->base->get(c->b, k, kl, v, cap, vl)) < 0)
        return -1;
    if (hm_set(c->m, k, kl, v, rc ? *vl : 0, rc ? 0 : HM_GONE))
        return -1;
    return rc;
}

static int cached_put(store *s, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    return hm_put((store *)((struct cached *)s)->m, k, kl, v, vl);
}

static int cached_del(store *s, const uint8_t *k, size_t kl)
{
    return hm_del((store *)((struct cached *)s)->m, k, kl);
}

static int cached_commit(store *s)
{
    struct cached *c = (struct cached *)s;
    struct hmap *m = c->m;
    for (size_t i = 0; i < m->ndirty; i++) {
        hm_slot *e = &m->slots[m->dirty[i]];
        int rc = e->flags & HM_GONE ? c->base->del(c->b, e->k, e->kl) : c->base->put(c->b, e->k, e->kl, e->v, e->vl);
        if (rc)
            return -1;
        e->flags &= (uint8_t)~HM_DIRTY;
    }
    m->ndirty = 0;
    if (c->base->commit(c->b))
        return -1;
    /* At the bound, and the next commit's new keys could double the map:
     * forget it all (all of it is clean now). */
    if (m->cap * sizeof *m->slots >= CACHE_BYTES && m->n + m->cap / 32 > m->cap / 4 * 3) {
        memset(m->slots, 0, m->cap * sizeof *m->slots);
        m->n = 0;
    }
    return 0;
}

static int cached_read(store *s, const uint8_t *k, size_t kl, uint8_t *v, size_t cap, size_t *vl)
{
    struct cached *c = (struct cached *)s;
    return c->base->read(c->b, k, kl, v, cap, vl);
}

static int cached_scan(store *s, const uint8_t *lo, size_t ll, const uint8_t *hi, size_t hl, bool reverse, scan_fn fn, void *arg)
{
    struct cached *c = (struct cached *)s;
    return c->base->scan(c->b, lo, ll, hi, hl, reverse, fn, arg);
}

static void cached_reader_done(store *s)
{
    struct cached *c = (struct cached *)s;
    c->base->reader_done(c->b);
}

static const engine cached_rocks_engine = {"RocksDB 7.8 + cache", true, true, true, cached_rocks_open, cached_close,
                                           cached_get, cached_put, cached_del, cached_commit, cached_read,
                                           cached_scan, cached_reader_done};
static const engine cached_lmdb_engine = {"LMDB 0.9.24 + cache", true, true, true, cached_lmdb_open, cached_close,
                                          cached_get, cached_put, cached_del, cached_commit, cached_read,
                                          cached_scan, cached_reader_done};

static store *cached_rocks_open(const char *dir) { return cached_open(&rocks_engine, dir); }
static store *cached_lmdb_open(const char *dir) { return cached_open(&lmdb_engine, dir); }

/* ---- what one run measures ---- */

typedef struct {
    char err[256];          /* empty when the run succeeded */
    double updates, rate;   /* updates applied in the load; per wall second */
    double wall_s, cpu_s;   /* the load: wall time and CPU time of all threads */
    double logical_mb, wa;  /* key+value bytes put or deleted; disk writes / that */
    double disk_mb, restart_ms, rss_mb;
    double anon_mb, file_mb; /* resident at the end of the load: heap, and mapped file pages (LMDB's map) */
    double point50, point99, range50, range99, top50, top99; /* microseconds */
    double window50, window99;  /* tweets: closing one window (5 panes + users) */
    double conc_rate, conc99;   /* updates/s with a reader beside; the reader's p99 */
} result;

typedef struct {
    const engine *e;
    store *s;
    const char *dir;
    double logical;         /* bytes of keys and values written */
} run;

static int put(run *r, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    r->logical += (double)(kl + vl);
    return r->e->put(r->s, k, kl, v, vl);
}

static int del(run *r, const uint8_t *k, size_t kl)
{
    r->logical += (double)kl;
    return r->e->del(r->s, k, kl);
}

static size_t be64(uint8_t *p, uint64_t x)
{
    for (int i = 7; i >= 0; i--, x >>= 8)
        p[i] = (uint8_t)x;
    return 8;
}

static int count_row(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    (void)k, (void)kl, (void)v, (void)vl;
    ++*(size_t *)arg;
    return 0;
}

static int first_row(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    (void)v, (void)vl;
    (void)k, (void)kl;
    *(size_t *)arg = 1;
    return 1;
}

/* Reopen after close and time it to the first answer: open + one read. */
static int restart(run *r, const uint8_t *k, size_t kl, double *ms)
{
    if (r->e->close(r->s))
        return -1;
    r->s = NULL;
    uint64_t t1 = now_ns();
    if (!(r->s = r->e->open(r->dir)))
        return -1;
    uint8_t *v = malloc(VALUE_CAP);
    size_t vl;
    int rc = v ? r->e->read(r->s, k, kl, v, VALUE_CAP, &vl) : fail("out of memory");
    free(v);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return fail("restart: the first key read is missing");
    *ms = (now_ns() - t1) / 1e6;
    return 0;
}

/* ---- Collatz: the example's three tables and the top-N indexes ---- */

enum { T_CHAINS = 'c', T_VALNUM = 'v', T_STEPS = 's', T_BYPEAK = 'p', T_BYSTEPS = 'l' };

typedef struct {
    uint64_t rng;
    uint64_t *numbers, *lengths; /* the chains walked so far, and their steps */
    size_t n, cap;
} walk;

/* One step of one number into the three tables (and, with index, the
 * (peak, number) and (steps, number) keys that answer ORDER BY ... DESC
 * LIMIT 1 from a reverse scan). Every table is a read-modify-write. */
static int collatz_step(run *r, uint64_t number, uint64_t step, uint64_t value, bool index)
{
    uint8_t k[24], v[64], ik[24];
    uint64_t f[2];
    size_t vl;
    k[0] = T_CHAINS;
    be64(k + 1, number);
    int rc = r->e->get(r->s, k, 9, (uint8_t *)f, sizeof f, &vl);
    if (rc < 0)
        return -1;
    uint64_t old_steps = rc ? f[0] : 0, old_peak = rc ? f[1] : 0;
    if (!rc || step > old_steps || value > old_peak) {
        f[0] = rc && old_steps > step ? old_steps : step;
        f[1] = rc && old_peak > value ? old_peak : value;
        if (put(r, k, 9, (uint8_t *)f, 16))
            return -1;
        if (index) {
            uint8_t t[2] = {T_BYSTEPS, T_BYPEAK};
            uint64_t was[2] = {old_steps, old_peak}, is[2] = {f[0], f[1]};
            for (int i = 0; i < 2; i++) {
                if (rc && was[i] == is[i])
                    continue;
                ik[0] = t[i];
                be64(ik + 9, number);
                if (rc && (be64(ik + 1, was[i]), del(r, ik, 17)))
                    return -1;
                be64(ik + 1, is[i]);
                if (put(r, ik, 17, NULL, 0))
                    return -1;
            }
        }
    }
    k[0] = T_VALNUM;
    be64(k + 1, value);
    be64(k + 9, number);
    if ((rc = r->e->get(r->s, k, 17, v, sizeof v, &vl)) < 0)
        return -1;
    if ((!rc || step < *(uint64_t *)v) && put(r, k, 17, (uint8_t *)&step, 8))
        return -1;
    k[0] = T_STEPS;
    be64(k + 1, number);
    be64(k + 9, step);
    if ((rc = r->e->get(r->s, k, 17, v, sizeof v, &vl)) < 0)
        return -1;
    if ((!rc || value > *(uint64_t *)v) && put(r, k, 17, (uint8_t *)&value, 8))
        return -1;
    return 0;
}

/* Walks chains of random 14-digit numbers until steps have been applied,
 * committing every COMMIT_EVERY steps and at the end. */
static int collatz_load(run *r, walk *w, size_t steps, bool index)
{
    size_t done = 0;
    while (done < steps) {
        if (w->n == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 4096;
            uint64_t *a = realloc(w->numbers, w->cap * sizeof *a), *b = a ? realloc(w->lengths, w->cap * sizeof *b) : NULL;
            if (a)
                w->numbers = a;
            if (!b)
                return fail("out of memory");
            w->lengths = b;
        }
        uint64_t number = 10000000000000ull + splitmix(&w->rng) % 90000000000000ull, value = number, step = 0;
        for (;; step++) {
            if (collatz_step(r, number, step, value, index))
                return -1;
            if (++done % COMMIT_EVERY == 0 && r->e->commit(r->s))
                return -1;
            if (value == 1 || done == steps || (value % 2 && value > (UINT64_MAX - 1) / 3))
                break; /* the end, enough, or 3x + 1 past 64 bits (weir's generator stops there too) */
            value = value % 2 ? 3 * value + 1 : value / 2;
        }
        w->numbers[w->n] = number;
        w->lengths[w->n++] = step + 1;
    }
    return r->e->commit(r->s);
}

static void steps_key(uint8_t k[17], const walk *w, uint64_t *rng, size_t upto)
{
    size_t i = splitmix(rng) % upto;
    k[0] = T_STEPS;
    be64(k + 1, w->numbers[i]);
    be64(k + 9, splitmix(rng) % w->lengths[i]);
}

typedef struct {
    run *r;
    walk w;                 /* a copy of the chains committed before the reader started */
    volatile int stop;
    uint64_t *lat;
    size_t n, cap;
    int rc;
    char err[256];
} reader;

/* The pull-query thread: random point reads of committed keys until stop. */
static void *reader_main(void *arg)
{
    reader *rd = arg;
    uint64_t rng = 7;
    uint8_t k[17], v[64];
    size_t vl;
    while (!__atomic_load_n(&rd->stop, __ATOMIC_ACQUIRE) && rd->n < rd->cap) {
        steps_key(k, &rd->w, &rng, rd->w.n);
        uint64_t t = now_ns();
        int rc = rd->r->e->read(rd->r->s, k, 17, v, sizeof v, &vl);
        rd->lat[rd->n++] = now_ns() - t;
        if (rc != 1) {
            rd->rc = rc < 0 ? -1 : fail("reader: a committed key is missing");
            snprintf(rd->err, sizeof rd->err, "%s", errmsg);
            break;
        }
    }
    rd->r->e->reader_done(rd->r->s);
    return NULL;
}

static int collatz_run(const engine *e, const char *dir, size_t steps, bool index, result *res)
{
    run r = {e, NULL, dir, 0};
    walk w = {1, NULL, NULL, 0, 0};
    uint64_t *lat = malloc(READS * sizeof *lat);
    int rc = -1;
    if (!lat) {
        fail("out of memory");
        goto out;
    }
    if (fresh_dir(dir) || !(r.s = e->open(dir)))
        goto out;
    long long io0 = io_write_bytes();
    double c0 = cpu_s();
    uint64_t t0 = now_ns();
    if (collatz_load(&r, &w, steps, index))
        goto out;
    res->wall_s = (now_ns() - t0) / 1e9;
    res->cpu_s = cpu_s() - c0;
    res->updates = (double)steps;
    res->rate = steps / res->wall_s;
    res->anon_mb = status_mb("RssAnon");
    res->file_mb = status_mb("RssFile");
    uint8_t k[24], v[64];
    size_t vl, rows;
    uint64_t rng = 3;
    steps_key(k, &w, &rng, w.n);
    if (e->durable && restart(&r, k, 17, &res->restart_ms)) /* close (all written) and reopen */
        goto out;
    long long io1 = io_write_bytes();
    res->logical_mb = r.logical / 1048576.0;
    res->wa = e->durable && io0 >= 0 && io1 >= 0 ? (double)(io1 - io0) / r.logical : NAN;
    res->disk_mb = e->ordered ? disk_mb(dir) : NAN;
    for (size_t i = 0; i < READS; i++) {
        steps_key(k, &w, &rng, w.n);
        uint64_t t = now_ns();
        int got = e->read(r.s, k, 17, v, sizeof v, &vl);
        lat[i] = now_ns() - t;
        if (got != 1) {
            if (got == 0)
                fail("point read: a written key is missing");
            goto out;
        }
    }
    res->point50 = pct_us(lat, READS, 0.5);
    res->point99 = pct_us(lat, READS, 0.99);
    if (e->ordered) {
        uint8_t lo[9] = {T_STEPS}, hi[9] = {T_STEPS};
        for (size_t i = 0; i < SCANS; i++) { /* all steps of one number: /plot/{n} */
            size_t j = splitmix(&rng) % w.n;
            be64(lo + 1, w.numbers[j]);
            be64(hi + 1, w.numbers[j] + 1);
            rows = 0;
            uint64_t t = now_ns();
            if (e->scan(r.s, lo, 9, hi, 9, false, count_row, &rows))
                goto out;
            lat[i] = now_ns() - t;
            if (rows != w.lengths[j]) {
                fail("range read: %zu steps of %llu, %llu written", rows, (unsigned long long)w.numbers[j],
                     (unsigned long long)w.lengths[j]);
                goto out;
            }
        }
        res->range50 = pct_us(lat, SCANS, 0.5);
        res->range99 = pct_us(lat, SCANS, 0.99);
        if (index) {
            uint8_t tlo[1] = {T_BYPEAK}, thi[1] = {T_BYPEAK + 1};
            for (size_t i = 0; i < SCANS; i++) { /* ORDER BY peak DESC LIMIT 1: /highest_value */
                rows = 0;
                uint64_t t = now_ns();
                if (e->scan(r.s, tlo, 1, thi, 1, true, first_row, &rows))
                    goto out;
                lat[i] = now_ns() - t;
                if (!rows) {
                    fail("top-1: the index is empty");
                    goto out;
                }
            }
            res->top50 = pct_us(lat, SCANS, 0.5);
            res->top99 = pct_us(lat, SCANS, 0.99);
        }
    }
    if (e->threads) { /* more steps (a quarter, at most CONC_STEPS) with a pull-query thread reading beside */
        size_t more = steps / 4 < CONC_STEPS ? steps / 4 : CONC_STEPS;
        reader rd = {&r, w, 0, malloc(((size_t)4 << 20) * sizeof(uint64_t)), 0, (size_t)4 << 20, 0, ""};
        rd.w.numbers = malloc(w.n * sizeof *w.numbers);
        rd.w.lengths = malloc(w.n * sizeof *w.lengths);
        pthread_t th;
        int perr = rd.lat && rd.w.numbers && rd.w.lengths ? 0 : ENOMEM;
        if (!perr) {
            memcpy(rd.w.numbers, w.numbers, w.n * sizeof *w.numbers);
            memcpy(rd.w.lengths, w.lengths, w.n * sizeof *w.lengths);
            perr = pthread_create(&th, NULL, reader_main, &rd);
        }
        if (perr) {
            free(rd.lat);
            free(rd.w.numbers);
            free(rd.w.lengths);
            fail("pthread_create: %s", strerror(perr));
            goto out;
        }
        t0 = now_ns();
        int lrc = collatz_load(&r, &w, more, index);
        res->conc_rate = more / ((now_ns() - t0) / 1e9);
        __atomic_store_n(&rd.stop, 1, __ATOMIC_RELEASE);
        perr = pthread_join(th, NULL);
        res->conc99 = pct_us(rd.lat, rd.n, 0.99);
        free(rd.lat);
        free(rd.w.numbers);
        free(rd.w.lengths);
        if (lrc)
            goto out;
        if (perr || rd.rc) {
            fail("reader: %s", perr ? strerror(perr) : rd.err);
            goto out;
        }
    }
    rc = 0;
out:
    if (r.s) {
        int crc = e->close(r.s);
        rc = rc ? rc : crc;
    }
    free(lat);
    free(w.numbers);
    free(w.lengths);
    return rc;
}

/* ---- tweets: HOP 5-minute windows every minute by city ---- */

enum { T_PANE = 'w', T_USER = 'u', T_SET = 'b' };

typedef struct {
    char user[16];
    uint16_t city;
    uint8_t retweet;
    int64_t minute;         /* the 1-minute pane: minutes since the epoch */
} tweet;

typedef struct {
    tweet *t;
    size_t n;
    char cities[256][32];
    size_t ncities;
} tweets;

static int field(const char *line, const char *name, char *out, size_t cap)
{
    const char *p = strstr(line, name);
    if (!p)
        return -1;
    p += strlen(name);
    const char *q = *p == '"' ? strchr(++p, '"') : p + strcspn(p, ",}");
    if (!q || (size_t)(q - p) >= cap)
        return -1;
    memcpy(out, p, (size_t)(q - p));
    out[q - p] = 0;
    return 0;
}

/* Reads weir gen tweets' NDJSON: user_id, city, is_retweet, created_at. */
static int tweets_load(const char *path, tweets *tw)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return fail("%s: %s", path, strerror(errno));
    char line[512], city[64], ts[40], rt[8];
    size_t cap = 0, lineno = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        if (tw->n == cap) {
            tweet *t = realloc(tw->t, (cap = cap ? cap * 2 : 65536) * sizeof *t);
            if (!t) {
                rc = fail("out of memory");
                break;
            }
            tw->t = t;
        }
        tweet *t = &tw->t[tw->n];
        struct tm tm = {0};
        if (field(line, "\"user_id\":", t->user, sizeof t->user) || field(line, "\"city\":", city, 32) ||
            field(line, "\"is_retweet\":", rt, sizeof rt) || field(line, "\"created_at\":", ts, sizeof ts) ||
            sscanf(ts, "%d-%d-%dT%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min) != 5) {
            rc = fail("%s:%zu: not a tweet of weir gen tweets", path, lineno);
            break;
        }
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        t->minute = (int64_t)timegm(&tm) / 60;
        t->retweet = rt[0] == 't';
        size_t c = 0;
        while (c < tw->ncities && strcmp(tw->cities[c], city) != 0)
            c++;
        if (c == tw->ncities) {
            if (c == 256) {
                rc = fail("%s:%zu: more than 256 cities", path, lineno);
                break;
            }
            memcpy(tw->cities[tw->ncities++], city, 32);
        }
        t->city = (uint16_t)c;
        tw->n++;
    }
    if (ferror(f) && rc == 0)
        rc = fail("%s: read error", path);
    if (fclose(f) != 0 && rc == 0)
        rc = fail("%s: %s", path, strerror(errno));
    return rc;
}

/* (table, city, 0, pane) and its length; the user id follows for T_USER. */
static size_t pane_key(uint8_t *k, int table, const char *city, int64_t minute)
{
    size_t n = strlen(city);
    k[0] = (uint8_t)table;
    memcpy(k + 1, city, n + 1);
    return 1 + n + 1 + be64(k + n + 2, (uint64_t)minute ^ (1ull << 63)); /* sign flipped: order of int64 */
}

static uint64_t user_hash(const char *u) { return hm_hash((const uint8_t *)u, strlen(u)); }

/* One tweet: its pane's counts (read-modify-write) and its user in the
 * pane's set: a key of its own (a blind put) or a sorted array of 64-bit
 * user hashes in one value (read-modify-write of the whole set). */
static int tweet_apply(run *r, const tweets *tw, const tweet *t, bool blob, uint8_t *v)
{
    uint8_t k[96];
    size_t kl = pane_key(k, T_PANE, tw->cities[t->city], t->minute), vl;
    uint64_t c[2];
    int rc = r->e->get(r->s, k, kl, (uint8_t *)c, sizeof c, &vl);
    if (rc < 0)
        return -1;
    c[0] = rc ? c[0] + 1 : 1;
    c[1] = (rc ? c[1] : 0) + t->retweet;
    if (put(r, k, kl, (uint8_t *)c, 16))
        return -1;
    if (!blob) {
        kl = pane_key(k, T_USER, tw->cities[t->city], t->minute);
        size_t ul = strlen(t->user);
        memcpy(k + kl, t->user, ul);
        return put(r, k, kl + ul, NULL, 0);
    }
    kl = pane_key(k, T_SET, tw->cities[t->city], t->minute);
    if ((rc = r->e->get(r->s, k, kl, v, VALUE_CAP - 8, &vl)) < 0) /* room for one more */
        return -1;
    uint64_t *set = (uint64_t *)v, u = user_hash(t->user);
    size_t n = rc ? vl / 8 : 0, lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (set[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < n && set[lo] == u)
        return 0;
    memmove(set + lo + 1, set + lo, (n - lo) * 8);
    set[lo] = u;
    return put(r, k, kl, v, (n + 1) * 8);
}

typedef struct {
    uint64_t *h;
    size_t n, cap;
    uint64_t tweets;
} users;

static int add_user(users *u, uint64_t h)
{
    if (u->n == u->cap) {
        uint64_t *p = realloc(u->h, (u->cap = u->cap ? u->cap * 2 : 4096) * sizeof *p);
        if (!p)
            return -1;
        u->h = p;
    }
    u->h[u->n++] = h;
    return 0;
}

static int user_row(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    (void)v, (void)vl;
    size_t off = 1 + strlen((const char *)k + 1) + 1 + 8; /* table, city, 0, pane */
    return add_user(arg, hm_hash(k + off, kl - off)) ? fail("out of memory") : 0;
}

static int set_row(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    (void)k, (void)kl;
    for (size_t i = 0; i + 8 <= vl; i += 8)
        if (add_user(arg, *(const uint64_t *)(v + i)))
            return fail("out of memory");
    return 0;
}

static int pane_row(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    (void)k, (void)kl;
    if (vl == 16)
        ((users *)arg)->tweets += *(const uint64_t *)v;
    return 0;
}

/* EMIT FINAL of the window [end - 5, end) of one city, on the last commit:
 * its five panes' counts and its distinct users (the union of five sets,
 * sorted and counted). Returns the distinct users or -1. */
static long window_close(run *r, const char *city, int64_t end, bool blob, users *u)
{
    uint8_t lo[64], hi[64];
    u->n = 0;
    u->tweets = 0;
    size_t ll = pane_key(lo, T_PANE, city, end - 5), hl = pane_key(hi, T_PANE, city, end);
    if (r->e->scan(r->s, lo, ll, hi, hl, false, pane_row, u))
        return -1;
    int t = blob ? T_SET : T_USER;
    ll = pane_key(lo, t, city, end - 5);
    hl = pane_key(hi, t, city, end);
    if (r->e->scan(r->s, lo, ll, hi, hl, false, blob ? set_row : user_row, u))
        return -1;
    qsort(u->h, u->n, sizeof *u->h, cmp_u64);
    long distinct = 0;
    for (size_t i = 0; i < u->n; i++)
        distinct += i == 0 || u->h[i] != u->h[i - 1];
    return distinct;
}

static int tweets_run(const engine *e, const char *dir, const tweets *tw, bool blob, result *res)
{
    run r = {e, NULL, dir, 0};
    users u = {0};
    size_t wn = 0, wcap = 1 << 16;
    uint64_t *wlat = malloc(wcap * sizeof *wlat), *lat = malloc(READS * sizeof *lat);
    uint8_t *v = malloc(VALUE_CAP);
    int rc = -1;
    if (!wlat || !lat || !v) {
        fail("out of memory");
        goto out;
    }
    if (fresh_dir(dir) || !(r.s = e->open(dir)))
        goto out;
    long long io0 = io_write_bytes();
    double c0 = cpu_s();
    uint64_t t0 = now_ns();
    /* Event time drives it: when a tweet opens a new minute, the minute
     * before is committed (a checkpoint, about 6,000 tweets) and every
     * city's window ending there is closed from the committed panes. */
    int64_t minute = tw->n ? tw->t[0].minute : 0;
    for (size_t i = 0; i < tw->n; i++) {
        const tweet *t = &tw->t[i];
        if (t->minute > minute) {
            if (e->commit(r.s))
                goto out;
            minute = t->minute;
            for (size_t c = 0; c < tw->ncities && e->ordered; c++) {
                uint64_t ts = now_ns();
                if (window_close(&r, tw->cities[c], minute, blob, &u) < 0)
                    goto out;
                if (wn < wcap)
                    wlat[wn++] = now_ns() - ts;
            }
        }
        if (tweet_apply(&r, tw, t, blob, v))
            goto out;
    }
    if (e->commit(r.s))
        goto out;
    res->wall_s = (now_ns() - t0) / 1e9;
    res->cpu_s = cpu_s() - c0;
    res->updates = (double)tw->n;
    res->rate = tw->n / res->wall_s;
    res->anon_mb = status_mb("RssAnon");
    res->file_mb = status_mb("RssFile");
    res->window50 = pct_us(wlat, wn, 0.5);
    res->window99 = pct_us(wlat, wn, 0.99);
    uint8_t k[96];
    uint64_t rng = 5;
    size_t kl, vl;
    const tweet *t = &tw->t[0];
    kl = pane_key(k, T_PANE, tw->cities[t->city], t->minute);
    if (e->durable && restart(&r, k, kl, &res->restart_ms))
        goto out;
    long long io1 = io_write_bytes();
    res->logical_mb = r.logical / 1048576.0;
    res->wa = e->durable && io0 >= 0 && io1 >= 0 ? (double)(io1 - io0) / r.logical : NAN;
    res->disk_mb = e->ordered ? disk_mb(dir) : NAN;
    for (size_t i = 0; i < READS; i++) { /* GET /v1/tables/city_stats?key=...: a pane's counts */
        t = &tw->t[splitmix(&rng) % tw->n];
        kl = pane_key(k, T_PANE, tw->cities[t->city], t->minute);
        uint64_t ts = now_ns();
        int got = e->read(r.s, k, kl, v, VALUE_CAP, &vl);
        lat[i] = now_ns() - ts;
        if (got != 1) {
            if (got == 0)
                fail("point read: a written pane is missing");
            goto out;
        }
    }
    res->point50 = pct_us(lat, READS, 0.5);
    res->point99 = pct_us(lat, READS, 0.99);
    if (e->ordered) {
        for (size_t i = 0; i < SCANS; i++) { /* every pane of one city */
            uint8_t lo[64], hi[64];
            const char *city = tw->cities[tw->t[splitmix(&rng) % tw->n].city];
            size_t ll = pane_key(lo, T_PANE, city, INT64_MIN), hl = pane_key(hi, T_PANE, city, INT64_MAX), rows = 0;
            uint64_t ts = now_ns();
            if (e->scan(r.s, lo, ll, hi, hl, false, count_row, &rows))
                goto out;
            lat[i] = now_ns() - ts;
        }
        res->range50 = pct_us(lat, SCANS, 0.5);
        res->range99 = pct_us(lat, SCANS, 0.99);
    }
    rc = 0;
out:
    if (r.s) {
        int crc = e->close(r.s);
        rc = rc ? rc : crc;
    }
    free(u.h);
    free(wlat);
    free(lat);
    free(v);
    return rc;
}

/* ---- the parent: rounds, interleaving, medians, tables ---- */

typedef struct {
    const engine *e;
    int workload;           /* 0 Collatz, 1 tweets */
    size_t steps;           /* Collatz */
    bool variant;           /* Collatz: without the top-N index; tweets: sets as blobs */
    const char *label;
    int pair;               /* 1: RocksDB, and LMDB comes next; 2: LMDB after RocksDB; 0: alone */
} job;

/* Every figure not measured (an engine without scans, say) stays NaN and
 * prints as "-": all fields after err are doubles. */
static void result_init(result *r)
{
    memset(r, 0, sizeof *r);
    for (double *d = &r->updates; d <= &r->conc99; d++)
        *d = NAN;
}

/* Runs one job in a child process, so its RSS, CPU and I/O are its own. */
static int run_job(const job *j, const char *dir, const tweets *tw, result *out)
{
    int fd[2];
    if (pipe(fd) != 0)
        return fail("pipe: %s", strerror(errno));
    if (fflush(stdout) != 0) /* or the child would print the parent's buffer again */
        return fail("stdout: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        return fail("fork: %s", strerror(errno));
    if (pid == 0) {
        result res;
        result_init(&res);
        int rc = j->workload == 0 ? collatz_run(j->e, dir, j->steps, !j->variant, &res)
                                  : tweets_run(j->e, dir, tw, j->variant, &res);
        res.rss_mb = peak_rss_mb();
        if (rc)
            snprintf(res.err, sizeof res.err, "%s", errmsg[0] ? errmsg : "failed");
        ssize_t w = write(fd[1], &res, sizeof res);
        _exit(w == (ssize_t)sizeof res ? 0 : 1);
    }
    if (close(fd[1]) != 0)
        return fail("close: %s", strerror(errno));
    ssize_t got = 0, n;
    while (got < (ssize_t)sizeof *out && (n = read(fd[0], (char *)out + got, sizeof *out - (size_t)got)) > 0)
        got += n;
    int status;
    if (close(fd[0]) != 0 || waitpid(pid, &status, 0) != pid)
        return fail("waitpid: %s", strerror(errno));
    if (got != (ssize_t)sizeof *out || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return fail("%s: the child died (status %d)", j->label, status);
    if (out->err[0])
        return fail("%s: %s", j->label, out->err);
    return 0;
}

static double median(double *x, int n)
{
    double v[64];
    int m = 0;
    for (int i = 0; i < n && m < 64; i++)
        if (!isnan(x[i]))
            v[m++] = x[i];
    if (m == 0)
        return NAN;
    for (int i = 1; i < m; i++) /* insertion sort: a handful of rounds */
        for (int k = i; k > 0 && v[k] < v[k - 1]; k--) {
            double t = v[k];
            v[k] = v[k - 1];
            v[k - 1] = t;
        }
    return m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
}

static const char *num(char *buf, double x, int decimals)
{
    if (isnan(x))
        return "-";
    if (decimals < 0) { /* thousands separated integer */
        char t[32];
        snprintf(t, sizeof t, "%.0f", x);
        size_t n = strlen(t), o = 0;
        for (size_t i = 0; i < n; i++) {
            buf[o++] = t[i];
            if ((n - i - 1) % 3 == 0 && i + 1 < n)
                buf[o++] = ',';
        }
        buf[o] = 0;
        return buf;
    }
    snprintf(buf, 32, "%.*f", decimals, x);
    return buf;
}

#define MED(field) ({ double xs_[64]; for (int r_ = 0; r_ < rounds; r_++) xs_[r_] = res[j * stride + r_].field; median(xs_, rounds); })

/* res holds stride results per job, of which the first rounds were run. */
static void print_tables(const job *jobs, int from, int to, const result *res, int stride, int rounds, bool tweets_wl)
{
    char a[32], b[32], c[32], d[32], e[32], f[32], g[32], h[32], x[32], y[32];
    printf("| engine | updates/s | wall s | CPU s | disk MB | write amp. | restart ms | peak RSS MB | RSS heap / file MB |%s\n",
           tweets_wl ? "" : " updates/s with a reader |");
    printf("|---|---|---|---|---|---|---|---|---|%s\n", tweets_wl ? "" : "---|");
    for (int j = from; j < to; j++) {
        printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s / %s |", jobs[j].label, num(a, MED(rate), -1), num(b, MED(wall_s), 1),
               num(c, MED(cpu_s), 1), num(d, MED(disk_mb), 0), num(e, MED(wa), 1), num(f, MED(restart_ms), 1),
               num(g, MED(rss_mb), 0), num(x, MED(anon_mb), 0), num(y, MED(file_mb), 0));
        if (!tweets_wl)
            printf(" %s |", num(h, MED(conc_rate), -1));
        printf("\n");
    }
    printf("\n| engine (latency in µs, p50 / p99) | point read | %s | %s |%s\n",
           tweets_wl ? "all panes of a city" : "all steps of a number", tweets_wl ? "window close (5 panes + users)" : "top-1 by peak",
           tweets_wl ? "" : " point read beside the writer (p99) |");
    printf("|---|---|---|---|%s\n", tweets_wl ? "" : "---|");
    for (int j = from; j < to; j++) {
        printf("| %s | %s / %s | %s / %s | %s / %s |", jobs[j].label, num(a, MED(point50), 1), num(b, MED(point99), 1),
               num(c, MED(range50), 1), num(d, MED(range99), 1), num(e, tweets_wl ? MED(window50) : MED(top50), 1),
               num(f, tweets_wl ? MED(window99) : MED(top99), 1));
        if (!tweets_wl)
            printf(" %s |", num(g, MED(conc99), 1));
        printf("\n");
    }
    printf("\n");
}

/* The disk's own commit latency: 4 KiB appended and fdatasync'ed, 200 times. */
static int fsync_limit(const char *dir, double *p50, double *p99)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/fsync-probe", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return fail("%s: %s", path, strerror(errno));
    char page[4096] = {1};
    uint64_t lat[200];
    for (int i = 0; i < 200; i++) {
        uint64_t t = now_ns();
        if (fwrite(page, sizeof page, 1, f) != 1 || fflush(f) != 0 || fdatasync(fileno(f)) != 0) {
            int err = errno;
            if (fclose(f) != 0 || remove(path) != 0)
                return fail("%s: %s", path, strerror(errno));
            return fail("%s: %s", path, strerror(err));
        }
        lat[i] = now_ns() - t;
    }
    if (fclose(f) != 0 || remove(path) != 0)
        return fail("%s: %s", path, strerror(errno));
    *p50 = pct_us(lat, 200, 0.5);
    *p99 = pct_us(lat, 200, 0.99);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s DATA_DIR TWEETS_NDJSON ROUNDS STEPS...\n", argv[0]);
        return 2;
    }
    const char *data = argv[1];
    int rounds = atoi(argv[3]);
    if (rounds < 1 || rounds > 64 || argc - 4 > 8) {
        fprintf(stderr, "compare: 1 to 64 rounds and at most 8 sizes\n");
        return 2;
    }
    tweets tw = {0};
    if (tweets_load(argv[2], &tw)) {
        fprintf(stderr, "compare: %s\n", errmsg);
        return 1;
    }
    /* The jobs, in groups (a workload at a size) whose rounds run together:
     * RocksDB and LMDB in pairs, each group ending with the in-memory limit. */
    static const engine *const plain[] = {&rocks_engine, &lmdb_engine}, *const cached[] = {&cached_rocks_engine, &cached_lmdb_engine};
    static char labels[64][96];
    job jobs[64];
    int nj = 0, group[16], grounds[16], ng = 0;
#define PAIR(engines, wl, steps, variant, fmt)                                                               \
    for (int e_ = 0; e_ < 2; e_++, nj++) {                                                                 \
        snprintf(labels[nj], sizeof labels[nj], fmt, (engines)[e_]->name);                                 \
        jobs[nj] = (job){(engines)[e_], wl, steps, variant, labels[nj], 1 + e_};                          \
    }
    /* Small Collatz sizes first, then tweets, then the big sizes (one round
     * of the plain pair: RocksDB takes most of an hour for three rounds of
     * 3M steps on this machine), so what is quick is printed first. */
    for (int pass = 0; pass < 3; pass++) {
        if (pass == 1) {
            grounds[ng] = rounds;
            group[ng++] = nj;
            PAIR(plain, 1, 0, false, "%s, users as keys")
            PAIR(plain, 1, 0, true, "%s, users as one blob per pane")
            PAIR(cached, 1, 0, false, "%s, users as keys")
            jobs[nj++] = (job){&hm_engine, 1, 0, false, "in-memory hash map (no order, not durable)", 0};
            continue;
        }
        for (int a = 4; a < argc; a++) {
            size_t steps = strtoull(argv[a], NULL, 10);
            bool big = steps > BIG_STEPS;
            if (big != (pass == 2))
                continue;
            grounds[ng] = big ? 1 : rounds;
            group[ng++] = nj;
            PAIR(plain, 0, steps, false, "%s")
            if (!big) {
                PAIR(cached, 0, steps, false, "%s")
                PAIR(plain, 0, steps, true, "%s, no top-N index") /* what the top-N indexes cost */
            }
            jobs[nj++] = (job){&hm_engine, 0, steps, true, "in-memory hash map (no order, not durable)", 0};
        }
    }
    group[ng] = nj;
#undef PAIR

    char dir[4096];
    snprintf(dir, sizeof dir, "%s/store", data);
    double f50 = NAN, f99 = NAN;
    if (fsync_limit(data, &f50, &f99)) {
        fprintf(stderr, "compare: %s\n", errmsg);
        return 1;
    }
    result *res = calloc((size_t)nj * (size_t)rounds, sizeof *res);
    if (!res) {
        fprintf(stderr, "compare: out of memory\n");
        return 1;
    }
    for (int i = 0; i < nj * rounds; i++)
        result_init(&res[i]); /* jobs left out by STATEBENCH_ONLY print "-" */
    const char *only = getenv("STATEBENCH_ONLY"); /* run the jobs whose label has this */
    printf("Machine: 4 KiB append + fdatasync p50 %.0f µs, p99 %.0f µs.\n\n", f50, f99);
    /* Each group runs its rounds in turn, then prints its tables; a round
     * runs every job of the group, and the pairs' order flips each round
     * so neither engine always runs first on a warm or a cold machine. */
    for (int g = 0; g < ng; g++) {
        for (int r = 0; r < grounds[g]; r++) {
            uint64_t t = now_ns();
            for (int i = group[g]; i < group[g + 1]; i++) {
                int j = r % 2 && jobs[i].pair ? (jobs[i].pair == 1 ? i + 1 : i - 1) : i;
                if (only && !strstr(jobs[j].label, only))
                    continue;
                if (run_job(&jobs[j], dir, &tw, &res[j * rounds + r])) {
                    fprintf(stderr, "compare: %s\n", errmsg);
                    return 1;
                }
                fprintf(stderr, "round %d: %s %s: %.0f updates/s\n", r + 1, jobs[j].workload ? "tweets" : "collatz",
                        jobs[j].label, res[j * rounds + r].rate);
            }
            fprintf(stderr, "round %d of group %d took %.0f s\n", r + 1, g + 1, (now_ns() - t) / 1e9);
        }
        bool tweets_wl = jobs[group[g]].workload == 1;
        if (tweets_wl)
            printf("Tweets, %zu tweets of weir gen tweets, %zu cities (commit every event minute; updates = tweets)",
                   tw.n, tw.ncities);
        else
            printf("Collatz, %s steps (commit every %d steps; updates = steps, each touching three tables and two indexes)",
                   num((char[32]){0}, (double)jobs[group[g]].steps, -1), COMMIT_EVERY);
        printf(", %s of %d round%s:\n\n", grounds[g] > 1 ? "medians" : "one run", grounds[g], grounds[g] > 1 ? "s" : "");
        print_tables(jobs, group[g], group[g + 1], res, rounds, grounds[g], tweets_wl);
        if (fflush(stdout) != 0) {
            fprintf(stderr, "compare: stdout: %s\n", strerror(errno));
            return 1;
        }
    }
    if (fresh_dir(dir) || remove(dir) != 0) {
        fprintf(stderr, "compare: %s\n", errmsg);
        return 1;
    }
    free(res);
    free(tw.t);
    return 0;
}
