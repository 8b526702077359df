/*
 * store.c - the state store's environment: opening and closing it, its
 * tables, LMDB's errors turned into weir's, and the map's growth.
 * Transactions and snapshots are in txn.c, scans in cursor.c.
 *
 * Tables are LMDB named databases. LMDB requires that a transaction which
 * opens one ends before another may open one, so every mdb_dbi_open here
 * runs under tables_lock in a transaction of its own: at open, all the
 * tables the file holds; later, a table the writer creates. Looking a
 * table up is then a search of names[] and never touches LMDB, so readers
 * on any thread can do it. (A process that opened read-only sees the
 * tables that existed at its open.)
 */
#include "state/store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>

#include "base/crc32c.h"

/* The empty table whose presence says the store's values carry checksums:
 * made with every new store, absent from those made before them. */
#define CHECKSUMS_TABLE "_checksummed"

/* What to do about an errno from LMDB. */
static const char *errno_advice(int e)
{
    switch (e) {
    case ENOSPC:
    case EDQUOT: return "free disk space; nothing of the failed transaction was kept";
    case EACCES:
    case EPERM:
    case EROFS: return "check that weir may write the directory and its files";
    case ENOMEM: return "the machine is short of memory or address space (ulimit -v)";
    case EAGAIN: return "another process holds the store's lock";
    default: return "check the disk (dmesg); if the store is damaged, `weir serve --reset` rebuilds it from the retained inputs";
    }
}

int store_fail(const weir_store *s, int rc, const char *what, weir_err *err)
{
    const char *f = s->file;
    switch (rc) {
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
    case MDB_INCOMPATIBLE:
        return weir_err_set(err, WEIR_ECORRUPT, "state store %s: %s: %s; it is damaged or not a store: "
                            "`weir serve --reset` rebuilds it from the retained inputs", f, what, mdb_strerror(rc));
    case MDB_PANIC:
        return weir_err_set(err, WEIR_EFATAL, "state store %s: %s: %s; stop and open the store again", f, what,
                            mdb_strerror(rc));
    case MDB_MAP_FULL:
        return weir_err_set(err, WEIR_ENOSPC, "state store %s: %s: the map is full at %llu bytes and cannot grow; "
                            "free memory or address space (ulimit -v)", f, what, (unsigned long long)s->map_bytes);
    case MDB_READERS_FULL:
        return weir_err_set(err, WEIR_EBUSY, "state store %s: %s: every reader slot is taken; end snapshots sooner, "
                            "or stop other processes reading the store", f, what);
    case MDB_DBS_FULL:
        return weir_err_set(err, WEIR_EINVAL, "state store %s: %s: more than %u tables; open the store with a larger "
                            "max_tables", f, what, s->max_tables);
    case MDB_TXN_FULL:
        return weir_err_set(err, WEIR_EIO, "state store %s: %s: one transaction changes too many pages; commit "
                            "smaller ones (checkpoint more often)", f, what);
    case MDB_BAD_VALSIZE:
        return weir_err_set(err, WEIR_EINVAL, "state store %s: %s: a key is empty or longer than %zu bytes", f, what,
                            s->max_key);
    case MDB_KEYEXIST:
    case MDB_NOTFOUND:
    case MDB_TLS_FULL:
    case MDB_CURSOR_FULL:
    case MDB_PAGE_FULL:
    case MDB_MAP_RESIZED:
    case MDB_BAD_RSLOT:
    case MDB_BAD_TXN:
    case MDB_BAD_DBI:
        return weir_err_set(err, WEIR_EIO, "state store %s: %s: %s (a weir bug: please report it)", f, what,
                            mdb_strerror(rc));
    default:
        if (rc > 0) {
            int code = weir_err_errno(err, rc, "state store %s: %s", f, what);
            if (err) {
                size_t n = strlen(err->msg);
                snprintf(err->msg + n, sizeof err->msg - n, "; %s", errno_advice(rc));
            }
            return code;
        }
        return weir_err_set(err, WEIR_EIO, "state store %s: %s: %s", f, what, mdb_strerror(rc));
    }
}

const char *store_table_name(const weir_store *s, unsigned dbi)
{
    return dbi < s->nnames && s->names[dbi] ? s->names[dbi] : "?";
}

int store_check_key(const weir_store *s, unsigned dbi, size_t klen, weir_err *err)
{
    if (klen == 0 || klen > s->max_key)
        return weir_err_set(err, WEIR_EINVAL, "state store %s: table %s: a key of %zu bytes (keys are 1 to %zu)",
                            s->file, store_table_name(s, dbi), klen, s->max_key);
    return WEIR_OK;
}

/* Sets the map to bytes (0: the size in the file) with every snapshot of
 * this process ended: the map may move. */
static int set_map(weir_store *s, uint64_t bytes, const char *what, weir_err *err)
{
    int rc = pthread_rwlock_wrlock(&s->map_lock);
    if (rc)
        return weir_err_errno(err, rc, "state store %s: %s: lock", s->file, what);
    rc = mdb_env_set_mapsize(s->env, (size_t)bytes);
    MDB_envinfo info;
    if (rc == 0)
        rc = mdb_env_info(s->env, &info);
    if (rc == 0)
        s->map_bytes = info.me_mapsize;
    pthread_rwlock_unlock(&s->map_lock);
    return rc ? store_fail(s, rc, what, err) : WEIR_OK;
}

int store_grow(weir_store *s, weir_err *err)
{
    if (s->map_bytes > SIZE_MAX / 2)
        return store_fail(s, MDB_MAP_FULL, "growing the map", err);
    int rc = set_map(s, s->map_bytes * 2, "growing the map", err);
    if (rc == WEIR_OK)
        s->grows++;
    return rc;
}

int store_adopt_size(weir_store *s, weir_err *err)
{
    return set_map(s, 0, "taking the map size another process grew it to", err);
}

/* Opens every table the file holds (the main database's keys are their
 * names), in one read transaction whose commit keeps the handles. */
static int open_tables(weir_store *s, weir_err *err)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_dbi main;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return store_fail(s, rc, "reading its tables", err);
    rc = mdb_dbi_open(txn, NULL, 0, &main);
    if (rc == 0)
        rc = mdb_cursor_open(txn, main, &cur);
    if (rc) {
        mdb_txn_abort(txn);
        return store_fail(s, rc, "reading its tables", err);
    }
    MDB_val k, v;
    char name[256];
    int marker = WEIR_OK;
    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
        MDB_dbi dbi;
        if (store_format_key(&k)) {
            if ((marker = store_format_check(s, &v, err)) != WEIR_OK)
                break;
            continue;
        }
        if (k.mv_size == 0 || k.mv_size >= sizeof name || memchr(k.mv_data, 0, k.mv_size)) {
            rc = MDB_INCOMPATIBLE; /* weir names its tables; this is not weir's store */
            break;
        }
        memcpy(name, k.mv_data, k.mv_size);
        name[k.mv_size] = '\0';
        if ((rc = mdb_dbi_open(txn, name, 0, &dbi)) != 0)
            break;
        if (dbi >= s->nnames) {
            rc = MDB_DBS_FULL;
            break;
        }
        if (!(s->names[dbi] = strdup(name))) {
            rc = ENOMEM;
            break;
        }
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND) {
        mdb_txn_abort(txn);
        return marker ? marker : store_fail(s, rc, "reading its tables", err);
    }
    bool any = false;
    s->checksums = false;
    for (unsigned i = 0; i < s->nnames; i++) {
        any |= s->names[i] != NULL;
        s->checksums |= s->names[i] && !strcmp(s->names[i], CHECKSUMS_TABLE);
    }
    s->checksums |= !any; /* a new store: the writer marks it so at open */
    rc = mdb_txn_commit(txn);
    return rc ? store_fail(s, rc, "reading its tables", err) : WEIR_OK;
}

size_t store_value_size(const weir_store *s, size_t vlen) { return vlen + (s->checksums ? 4 : 0); }

static uint32_t value_sum(const MDB_val *k, const void *val, size_t vlen)
{
    return weir_crc32c(weir_crc32c(0, k->mv_data, k->mv_size), val, vlen);
}

void store_value_write(const weir_store *s, const MDB_val *k, const void *val, size_t vlen, void *at)
{
    if (vlen)
        memcpy(at, val, vlen);
    if (s->checksums) {
        uint32_t sum = value_sum(k, val, vlen);
        memcpy((uint8_t *)at + vlen, &sum, sizeof sum);
    }
}

int store_value_check(const weir_store *s, unsigned dbi, const MDB_val *k, MDB_val *v, weir_err *err)
{
    if (!s->checksums)
        return WEIR_OK;
    uint32_t stored, sum;
    if (v->mv_size >= sizeof stored) {
        memcpy(&stored, (const uint8_t *)v->mv_data + v->mv_size - sizeof stored, sizeof stored);
        if ((sum = value_sum(k, v->mv_data, v->mv_size - sizeof stored)) == stored) {
            v->mv_size -= sizeof stored;
            return WEIR_OK;
        }
    }
    return weir_err_set(err, WEIR_ECORRUPT, "state store %s: table %s: a value of %zu bytes fails its checksum (the "
                        "file is damaged: a disk or memory fault, or a write from outside weir); stop weir serve and "
                        "run it with --reset, which rebuilds the store from the retained inputs",
                        s->file, store_table_name(s, dbi), v->mv_size);
}

/* The smallest map open_env falls back to when the address space is short. */
#define MAP_FLOOR (UINT64_C(16) << 20)

/* LMDB's part of opening, on a store whose locks and names are made. The
 * map is address space, not memory: where a limit (ulimit -v) refuses it,
 * a map half as large is tried, down to MAP_FLOOR; it grows as the store
 * does, up to what the limit allows. */
static int open_env(weir_store *s, const char *dir, uint64_t map_bytes, weir_err *err)
{
    int rc;
    for (;;) {
        if ((rc = mdb_env_create(&s->env)) != 0)
            return store_fail(s, rc, "open", err);
        if ((rc = mdb_env_set_maxdbs(s->env, s->max_tables)) == 0 &&
            (rc = mdb_env_set_mapsize(s->env, (size_t)map_bytes)) == 0) {
            int locked = store_env_open(s->env, dir, s->read_only, &rc, err);
            if (locked)
                return locked;
        }
        if (rc != ENOMEM || map_bytes / 2 < MAP_FLOOR)
            break;
        mdb_env_close(s->env);
        s->env = NULL;
        map_bytes /= 2;
    }
    if (rc)
        return store_fail(s, rc, "open", err);
    int dead;
    MDB_envinfo info;
    if ((rc = mdb_reader_check(s->env, &dead)) != 0 || (rc = mdb_env_info(s->env, &info)) != 0)
        return store_fail(s, rc, "open", err);
    s->map_bytes = info.me_mapsize;
    s->max_key = (size_t)mdb_env_get_maxkeysize(s->env);
    return open_tables(s, err);
}

/* Opens the tables again in the order of their handles, which LMDB then
 * gives them again (the next free handle each): a handle it gives
 * otherwise is refused. */
static int reopen_tables(weir_store *s, weir_err *err)
{
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    for (unsigned i = 0; i < s->nnames && rc == 0; i++) {
        MDB_dbi dbi;
        if (s->names[i] && (rc = mdb_dbi_open(txn, s->names[i], 0, &dbi)) == 0 && dbi != i)
            rc = MDB_INCOMPATIBLE;
    }
    if (rc == 0)
        return (rc = mdb_txn_commit(txn)) ? store_fail(s, rc, "opening its tables again", err) : WEIR_OK;
    if (txn)
        mdb_txn_abort(txn);
    return store_fail(s, rc, "opening its tables again", err);
}

int weir_store_release(weir_store *s, weir_err *err)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", (int)(strlen(s->file) - strlen("/data.mdb")), s->file);
    if (pthread_mutex_trylock(&s->writer_lock) != 0)
        return weir_err_set(err, WEIR_EBUSY, "state store %s: a transaction writes", s->file);
    int rc = pthread_rwlock_trywrlock(&s->map_lock);
    if (rc) {
        pthread_mutex_unlock(&s->writer_lock);
        return rc == EBUSY ? weir_err_set(err, WEIR_EBUSY, "state store %s: a snapshot is open", s->file)
                           : weir_err_errno(err, rc, "state store %s: releasing memory: lock", s->file);
    }
    mdb_env_close(s->env);
    s->env = NULL;
    int mdb_rc;
    if ((rc = mdb_env_create(&s->env)) != 0 || (rc = mdb_env_set_maxdbs(s->env, s->max_tables)) != 0 ||
        (rc = mdb_env_set_mapsize(s->env, (size_t)s->map_bytes)) != 0)
        rc = store_fail(s, rc, "opening it again to release memory", err);
    else if ((rc = store_env_open(s->env, dir, s->read_only, &mdb_rc, err)) == WEIR_OK)
        rc = mdb_rc ? store_fail(s, mdb_rc, "opening it again to release memory", err) : reopen_tables(s, err);
    pthread_rwlock_unlock(&s->map_lock);
    pthread_mutex_unlock(&s->writer_lock);
    return rc;
}

/* Where the kernel mapped the store's file in this process (LMDB's
 * mdb_env_info gives the map's address only for MDB_FIXEDMAP): the
 * mapping of its device and inode in /proc/self/maps. false if not found. */
static bool find_map(MDB_env *env, uintptr_t *start, uintptr_t *end)
{
    mdb_filehandle_t fd;
    struct stat st;
    if (mdb_env_get_fd(env, &fd) || fstat(fd, &st))
        return false;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return false;
    char line[4400];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned long lo, hi, ino;
        unsigned maj, min;
        found = sscanf(line, "%lx-%lx %*s %*s %x:%x %lu", &lo, &hi, &maj, &min, &ino) == 5 && ino == st.st_ino &&
                maj == major(st.st_dev) && min == minor(st.st_dev);
        if (found) {
            *start = lo;
            *end = hi;
        }
    }
    fclose(f);
    return found;
}

void store_unmap_env(MDB_env *env)
{
    MDB_envinfo info;
    MDB_stat st;
    uintptr_t start, end;
    if (mdb_env_info(env, &info) == 0 && mdb_env_stat(env, &st) == 0 && find_map(env, &start, &end)) {
        size_t used = ((size_t)info.me_last_pgno + 1) * st.ms_psize;
        (void)madvise((void *)start, used < end - start ? used : end - start, MADV_DONTNEED); /* advice: a failure changes nothing */
    }
}

void weir_store_unmap(weir_store *s)
{
    pthread_rwlock_rdlock(&s->map_lock); /* the map does not move meanwhile */
    store_unmap_env(s->env);
    pthread_rwlock_unlock(&s->map_lock);
}

void weir_store_unmap_every(weir_store *s, unsigned n) { s->unmap_every = n; }

/* The locks, one writer-preferring so that growing the map is not starved by a stream of snapshots. */
static int init_locks(weir_store *s, weir_err *err)
{
    pthread_rwlockattr_t attr;
    int rc = pthread_rwlockattr_init(&attr);
    if (rc == 0)
        rc = pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    if (rc == 0)
        rc = pthread_rwlock_init(&s->map_lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (rc)
        return weir_err_errno(err, rc, "state store %s: open: locks", s->file);
    if ((rc = pthread_mutex_init(&s->tables_lock, NULL)) != 0) {
        pthread_rwlock_destroy(&s->map_lock);
        return weir_err_errno(err, rc, "state store %s: open: locks", s->file);
    }
    if ((rc = pthread_mutex_init(&s->writer_lock, NULL)) != 0) {
        pthread_mutex_destroy(&s->tables_lock);
        pthread_rwlock_destroy(&s->map_lock);
        return weir_err_errno(err, rc, "state store %s: open: locks", s->file);
    }
    return WEIR_OK;
}

/* The stores this process has open (store_open_here). */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static weir_store *open_list;

bool store_open_here(const char *file)
{
    struct stat st;
    if (stat(file, &st) != 0)
        return false;
    bool here = false;
    pthread_mutex_lock(&open_lock);
    for (weir_store *o = open_list; o && !here; o = o->next_open)
        here = o->dev == st.st_dev && o->ino == st.st_ino;
    pthread_mutex_unlock(&open_lock);
    return here;
}

/* Lists s as open (after its environment opened: the file exists). */
static int list_open(weir_store *s, weir_err *err)
{
    struct stat st;
    if (stat(s->file, &st) != 0)
        return weir_err_errno(err, errno, "state store %s: open", s->file);
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    pthread_mutex_lock(&open_lock);
    s->next_open = open_list;
    open_list = s;
    pthread_mutex_unlock(&open_lock);
    return WEIR_OK;
}

static void unlist_open(weir_store *s)
{
    pthread_mutex_lock(&open_lock);
    for (weir_store **p = &open_list; *p; p = &(*p)->next_open)
        if (*p == s) {
            *p = s->next_open;
            break;
        }
    pthread_mutex_unlock(&open_lock);
}

int weir_store_open(const char *dir, const weir_store_options *opt, weir_store **out, weir_err *err)
{
    weir_store_options o = opt ? *opt : (weir_store_options){0};
    if (!o.read_only && mkdir(dir, 0755) != 0 && errno != EEXIST)
        return weir_err_errno(err, errno, "state store: create directory %s", dir);
    struct stat st;
    if (o.read_only && stat(dir, &st) != 0)
        return weir_err_errno(err, errno, "state store: no store in %s", dir);
    weir_store *s = calloc(1, sizeof *s);
    if (!s)
        return weir_err_set(err, WEIR_ENOMEM, "state store %s: out of memory", dir);
    if ((size_t)snprintf(s->file, sizeof s->file, "%s/data.mdb", dir) >= sizeof s->file) {
        free(s);
        return weir_err_set(err, WEIR_EINVAL, "state store: directory name too long: %s", dir);
    }
    s->read_only = o.read_only;
    s->max_tables = o.max_tables ? o.max_tables : WEIR_STORE_TABLES_DEFAULT;
    s->nnames = s->max_tables + 2;
    if (!(s->names = calloc(s->nnames, sizeof *s->names))) {
        free(s);
        return weir_err_set(err, WEIR_ENOMEM, "state store %s: out of memory", dir);
    }
    int rc = init_locks(s, err);
    if (rc) {
        free(s->names);
        free(s);
        return rc;
    }
    weir_store_table mark;
    /* a compaction's copy left by a crash goes once the store is open (none runs while it is) */
    if ((rc = open_env(s, dir, o.map_bytes ? o.map_bytes : WEIR_STORE_MAP_DEFAULT, err)) != 0 ||
        (!s->read_only && (rc = store_remove_copy(dir, err)) != 0) ||
        (s->checksums && !s->read_only && (rc = weir_store_table_open(s, CHECKSUMS_TABLE, true, &mark, err)) != 0) ||
        (rc = list_open(s, err)) != 0) {
        weir_store_close(s);
        return rc;
    }
    *out = s;
    return WEIR_OK;
}

/* Whether the writer's store s (opened whole: listed) is worth compacting at its close. */
static bool worth_compacting(weir_store *s)
{
    double share;
    uint64_t bytes;
    weir_err ignored;
    return s->compact_at_close && !s->read_only && s->env && s->ino &&
           store_free_share(s, &share, &bytes, &ignored) == WEIR_OK && share >= 0.25 && bytes >= WEIR_STORE_COMPACT_MIN;
}

void weir_store_compact_at_close(weir_store *s)
{
    if (s)
        s->compact_at_close = true;
}

void weir_store_close(weir_store *s)
{
    if (!s)
        return;
    unlist_open(s);
    bool compact = worth_compacting(s);
    if (s->env)
        mdb_env_close(s->env);
    if (compact) {
        /* a failure leaves the store as it was (compact.c): usable, only larger; a later stop tries again */
        char dir[PATH_MAX];
        bool done;
        weir_err ignored;
        weir_store_options o = {.max_tables = s->max_tables};
        snprintf(dir, sizeof dir, "%.*s", (int)(strlen(s->file) - strlen("/data.mdb")), s->file);
        (void)weir_store_compact(dir, &o, &done, &ignored);
    }
    for (unsigned i = 0; i < s->nnames; i++)
        free(s->names[i]);
    free(s->names);
    pthread_rwlock_destroy(&s->map_lock);
    pthread_mutex_destroy(&s->tables_lock);
    pthread_mutex_destroy(&s->writer_lock);
    free(s);
}

uint64_t weir_store_map_bytes(const weir_store *s) { return s->map_bytes; }
unsigned weir_store_grows(const weir_store *s) { return s->grows; }
size_t weir_store_max_key(const weir_store *s) { return s ? s->max_key : WEIR_STORE_KEY_MAX; }
bool weir_store_read_only(const weir_store *s) { return s->read_only; }

static bool find_table(weir_store *s, const char *name, weir_store_table *t)
{
    for (unsigned i = 0; i < s->nnames; i++)
        if (s->names[i] && strcmp(s->names[i], name) == 0) {
            t->dbi = i;
            return true;
        }
    return false;
}

/* Creates the table in a commit of its own: MDB_MAP_FULL (its pages did
 * not fit) when the caller should grow the map and try again. Its
 * transaction begins before tables_lock is taken, as every writer's does
 * (a transaction looks tables up under that lock). */
static int create_table(weir_store *s, const char *name, weir_store_table *t, weir_err *err)
{
    MDB_txn *txn;
    MDB_dbi dbi;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc == MDB_MAP_RESIZED)
        return rc;
    if (rc)
        return store_fail(s, rc, "creating a table", err);
    pthread_mutex_lock(&s->tables_lock);
    if (find_table(s, name, t)) { /* made meanwhile */
        pthread_mutex_unlock(&s->tables_lock);
        mdb_txn_abort(txn);
        return WEIR_OK;
    }
    if ((rc = mdb_dbi_open(txn, name, MDB_CREATE, &dbi)) != 0)
        mdb_txn_abort(txn);
    else
        rc = mdb_txn_commit(txn);
    bool named = rc == 0 && dbi < s->nnames && (s->names[dbi] = strdup(name)) != NULL;
    pthread_mutex_unlock(&s->tables_lock);
    if (rc == 0 && !named)
        return weir_err_set(err, WEIR_ENOMEM, "state store %s: creating table %s: out of memory", s->file, name);
    if (rc)
        return rc == MDB_MAP_FULL ? rc : store_fail(s, rc, "creating a table", err);
    t->dbi = dbi;
    return WEIR_OK;
}

int weir_store_table_open(weir_store *s, const char *name, bool create, weir_store_table *t, weir_err *err)
{
    size_t n = strlen(name);
    if (n == 0 || n > 255)
        return weir_err_set(err, WEIR_EINVAL, "state store %s: a table name of %zu bytes (1 to 255)", s->file, n);
    if (create && s->read_only)
        return weir_err_set(err, WEIR_EINVAL, "state store %s: creating table %s in a store opened read-only",
                            s->file, name);
    /* a table made here takes a write transaction of its own: after the writer lock, as every writer
       (another thread's transaction may look tables up, under tables_lock, while it holds the writer lock) */
    bool writer = create && !store_writer_here;
    for (;;) {
        if (writer)
            pthread_mutex_lock(&s->writer_lock);
        pthread_mutex_lock(&s->tables_lock);
        bool found = find_table(s, name, t);
        pthread_mutex_unlock(&s->tables_lock);
        int rc = found    ? WEIR_OK
               : create ? create_table(s, name, t, err)
                        : weir_err_set(err, WEIR_ENOENT, "state store %s: no table %s", s->file, name);
        if (writer)
            pthread_mutex_unlock(&s->writer_lock);
        /* grown outside tables_lock: a snapshot's thread may be waiting for it */
        if (rc == MDB_MAP_FULL)
            rc = store_grow(s, err);
        else if (rc == MDB_MAP_RESIZED)
            rc = store_adopt_size(s, err);
        else
            return rc;
        if (rc)
            return rc;
    }
}
