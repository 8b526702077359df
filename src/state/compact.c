/*
 * compact.c - rewriting a state store's file without its free pages and
 * with full B-tree pages (store.h, weir_store_compact; docs/STATE_STORE.md,
 * "Compaction at a clean stop").
 *
 * Why: LMDB never gives pages back to the file system. A commit writes
 * new copies of the pages it touches and frees the old ones, which the
 * next commit may not reuse (the previous snapshot stays readable); where
 * keys are random (Collatz's value_numbers) a checkpoint touches about
 * every leaf, so the file ends holding the tree and about a copy of what
 * the last large commits touched, free. And random inserts leave the
 * pages about half full. At 3M Collatz steps: 1,242 MB of pages in the
 * trees, 850 MB free (BENCHMARKS.md). mdb_env_copy2(MDB_CP_COMPACT)
 * drops the free pages but copies each page as it is; this copy reads
 * every table in key order and appends its entries (MDB_APPEND), which
 * fills each page before starting the next: about half the trees' pages.
 *
 * Crash safety, one mechanism: the copy is written to DIR/data.mdb.compact
 * (no lock file, no fsync per commit), synced, and renamed over
 * DIR/data.mdb, then the directory is synced. A crash before the rename
 * leaves the store as it was (the leftover copy is removed by the next
 * writer's open or compaction); after it, the copy is whole. The source is
 * only read. Both of the copy's meta pages name a whole copy: the last
 * commit writes the last entry again (the same bytes), so whichever meta
 * a reader picks, it finds every table.
 *
 * Exclusion, two locks. LMDB's own: every process that has the store
 * open holds a shared fcntl lock on byte 0 of DIR/lock.mdb; the
 * compaction takes it exclusive without waiting, so if another process
 * has the store open it does nothing (a later stop will). fcntl locks
 * belong to the process, so stores this process has open on the same file
 * are checked apart (store.c's list of open stores). And weir's: LMDB's
 * byte cannot keep a process from opening while the compaction runs (the
 * opener would wait for it shared, then take the lock file as set up,
 * although its transaction counter is the old file's; LMDB builds that
 * tear the mutexes down at the last close would also do so under it).
 * So every open holds a shared flock on DIR/open.lock (store_env_open)
 * and the compaction an exclusive one, taken first: an opener waits until
 * the new file is in place and then, alone, sets the lock file up for it.
 */
#include "state/store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Entries appended per write transaction of the copy: bounds LMDB's list
 * of dirty pages (a few MB), not the file. */
#define CHUNK 65536

/* The copy's file, beside data.mdb; path holds PATH_MAX bytes. */
static int copy_path(const char *dir, char *path, weir_err *err)
{
    if ((size_t)snprintf(path, PATH_MAX, "%s/data.mdb.compact", dir) >= PATH_MAX)
        return weir_err_set(err, WEIR_EINVAL, "state store: directory name too long: %s", dir);
    return WEIR_OK;
}

int store_remove_copy(const char *dir, weir_err *err)
{
    char path[PATH_MAX];
    int rc = copy_path(dir, path, err);
    if (rc == WEIR_OK && unlink(path) != 0 && errno != ENOENT)
        rc = weir_err_errno(err, errno, "state store: removing the unfinished compacted copy %s", path);
    return rc;
}

/* An environment on one file (no lock file: the caller excludes others). */
static int open_file_env(const char *path, unsigned flags, const weir_store_options *o, size_t map, MDB_env **env)
{
    int rc = mdb_env_create(env);
    if (rc)
        return rc;
    if ((rc = mdb_env_set_maxdbs(*env, o->max_tables + 2)) == 0 && (rc = mdb_env_set_mapsize(*env, map)) == 0 &&
        (rc = mdb_env_open(*env, path, flags | MDB_NOSUBDIR | MDB_NOLOCK, 0644)) == 0)
        return 0;
    mdb_env_close(*env);
    *env = NULL;
    return rc;
}

/* The copy's progress: its write transaction and the entries in it. */
typedef struct copy {
    MDB_env *src;         /* read through its map: unmapped at each commit, so the process's RssFile stays small */
    MDB_env *dst;
    MDB_txn *w;
    size_t in_txn;        /* entries appended by w */
    size_t total;         /* entries appended in all */
    MDB_dbi last_dbi;     /* where the last entry went, and it (in the source's map) */
    MDB_val last_k, last_v;
} copy;

static int next_txn(copy *c)
{
    store_unmap_env(c->src);
    store_unmap_env(c->dst);
    int rc = mdb_txn_commit(c->w);
    c->w = NULL;
    c->in_txn = 0;
    return rc ? rc : mdb_txn_begin(c->dst, NULL, 0, &c->w);
}

/* Appends every entry of the source's table sdbi to the copy's ddbi. */
static int copy_table(copy *c, MDB_txn *r, MDB_dbi sdbi, MDB_dbi ddbi, unsigned flags)
{
    MDB_cursor *from, *to = NULL;
    MDB_val k, v;
    int rc = mdb_cursor_open(r, sdbi, &from);
    if (rc)
        return rc;
    unsigned append = flags & MDB_DUPSORT ? MDB_APPENDDUP : MDB_APPEND;
    while ((rc = mdb_cursor_get(from, &k, &v, MDB_NEXT)) == 0) {
        if (c->in_txn == CHUNK) {
            mdb_cursor_close(to);
            to = NULL;
            if ((rc = next_txn(c)) != 0)
                break;
        }
        if (!to && (rc = mdb_cursor_open(c->w, ddbi, &to)) != 0)
            break;
        if ((rc = mdb_cursor_put(to, &k, &v, append)) != 0)
            break;
        c->in_txn++;
        c->total++;
        c->last_dbi = ddbi;
        c->last_k = k;
        c->last_v = v;
    }
    if (to)
        mdb_cursor_close(to);
    mdb_cursor_close(from);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Copies every table of the read transaction r (the main database's keys
 * are their names, and the format marker) into c->dst: the tables made
 * first, in one commit, then their entries in key order, then the last
 * entry written again. */
static int copy_all(copy *c, MDB_txn *r, unsigned max_tables)
{
    MDB_dbi main;
    MDB_cursor *names;
    MDB_val k, v;
    int rc = mdb_dbi_open(r, NULL, 0, &main);
    if (rc == 0)
        rc = mdb_cursor_open(r, main, &names);
    if (rc)
        return rc;
    MDB_dbi *src = calloc(max_tables + 2, sizeof *src), *dst = calloc(max_tables + 2, sizeof *dst);
    unsigned *flags = calloc(max_tables + 2, sizeof *flags), n = 0;
    if (!src || !dst || !flags)
        rc = ENOMEM;
    if (rc == 0)
        rc = mdb_txn_begin(c->dst, NULL, 0, &c->w);
    MDB_dbi dst_main;
    if (rc == 0)
        rc = mdb_dbi_open(c->w, NULL, 0, &dst_main);
    char name[256];
    while (rc == 0 && (rc = mdb_cursor_get(names, &k, &v, MDB_NEXT)) == 0) {
        if (store_format_key(&k)) { /* the format marker, beside the tables' names */
            rc = mdb_put(c->w, dst_main, &k, &v, 0);
            continue;
        }
        if (k.mv_size == 0 || k.mv_size >= sizeof name || memchr(k.mv_data, 0, k.mv_size)) {
            rc = MDB_INCOMPATIBLE; /* not a table's name: not weir's store, left alone */
            break;
        }
        if (n == max_tables) {
            rc = MDB_DBS_FULL;
            break;
        }
        memcpy(name, k.mv_data, k.mv_size);
        name[k.mv_size] = '\0';
        if ((rc = mdb_dbi_open(r, name, 0, &src[n])) == 0 && (rc = mdb_dbi_flags(r, src[n], &flags[n])) == 0)
            rc = mdb_dbi_open(c->w, name, flags[n] | MDB_CREATE, &dst[n]);
        n++;
    }
    mdb_cursor_close(names);
    if (rc == MDB_NOTFOUND)
        rc = next_txn(c);
    for (unsigned i = 0; i < n && rc == 0; i++)
        rc = copy_table(c, r, src[i], dst[i], flags[i]);
    if (rc == 0 && c->total == 0)
        rc = MDB_NOTFOUND; /* nothing to gain, and no entry to make the second meta whole with */
    if (rc == 0 && (rc = next_txn(c)) == 0 && (rc = mdb_put(c->w, c->last_dbi, &c->last_k, &c->last_v, 0)) == 0) {
        rc = mdb_txn_commit(c->w);
        c->w = NULL;
    }
    if (c->w)
        mdb_txn_abort(c->w);
    c->w = NULL;
    free(src);
    free(dst);
    free(flags);
    return rc;
}

/* Writes the compacted copy of data (a file of size bytes) to path and
 * syncs it. MDB_NOTFOUND: the store has no entry (nothing is written). */
static int write_copy(const char *data, const char *path, const weir_store_options *o, size_t size)
{
    MDB_env *src;
    MDB_txn *r;
    copy c = {0};
    /* the copy needs at most the source's pages and the chunks' freed branch pages */
    size_t map = size * 2 + ((size_t)64 << 20);
    int rc = open_file_env(data, MDB_RDONLY, o, map, &src);
    if (rc)
        return rc;
    c.src = src;
    if ((rc = mdb_txn_begin(src, NULL, MDB_RDONLY, &r)) == 0) {
        if ((rc = open_file_env(path, MDB_NOSYNC | MDB_NOMETASYNC, o, map, &c.dst)) == 0) {
            rc = copy_all(&c, r, o->max_tables + 2);
            if (rc == 0)
                rc = mdb_env_sync(c.dst, 1);
            mdb_env_close(c.dst);
        }
        mdb_txn_abort(r);
    }
    mdb_env_close(src);
    return rc;
}

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int rc = fsync(fd) ? errno : 0;
    close(fd);
    return rc;
}

/* The compaction proper, with both locks held. */
static int compact_locked(weir_store *msg, const char *dir, const weir_store_options *o, weir_err *err)
{
    char path[PATH_MAX];
    struct stat st;
    int rc = copy_path(dir, path, err);
    if (rc)
        return rc;
    if (stat(msg->file, &st) != 0)
        return weir_err_errno(err, errno, "state store %s: compacting", msg->file);
    if ((rc = store_remove_copy(dir, err)) != 0)
        return rc;
    rc = write_copy(msg->file, path, o, (size_t)st.st_size);
    if (rc == 0 && rename(path, msg->file) != 0)
        rc = errno;
    if (rc) {
        (void)unlink(path); /* the store is as it was; a copy left here is removed later too */
        return rc == MDB_NOTFOUND ? WEIR_OK : store_fail(msg, rc, "compacting", err);
    }
    if ((rc = sync_dir(dir)) != 0)
        return store_fail(msg, rc, "compacting: after the new file's rename", err);
    return WEIR_OK;
}

/* Opens DIR/open.lock (creating it) into *fd; a reader that may not
 * create it (a read-only directory, where no writer compacts either) goes
 * without: *fd stays -1. */
static int open_lock_file(const char *dir, bool read_only, int *fd, weir_err *err)
{
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/open.lock", dir) >= sizeof path)
        return weir_err_set(err, WEIR_EINVAL, "state store: directory name too long: %s", dir);
    if (read_only && (*fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) /* a flock needs no write access */
        return WEIR_OK;
    if ((*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) >= 0)
        return WEIR_OK;
    if (read_only && (errno == EACCES || errno == EROFS || errno == EPERM))
        return WEIR_OK;
    return weir_err_errno(err, errno, "state store: %s", path);
}

int store_env_open(MDB_env *env, const char *dir, bool read_only, int *mdb_rc, weir_err *err)
{
    int fd = -1;
    int rc = open_lock_file(dir, read_only, &fd, err);
    if (rc)
        return rc;
    while (fd >= 0 && flock(fd, LOCK_SH) != 0)
        if (errno != EINTR) {
            rc = weir_err_errno(err, errno, "state store %s: waiting for a compaction to end", dir);
            close(fd);
            return rc;
        }
    *mdb_rc = mdb_env_open(env, dir, MDB_NOTLS | (read_only ? MDB_RDONLY : 0), 0644);
    if (fd >= 0)
        close(fd); /* once open, LMDB's own lock keeps the compaction off */
    return WEIR_OK;
}

int weir_store_compact(const char *dir, const weir_store_options *opt, bool *done, weir_err *err)
{
    weir_store_options o = opt ? *opt : (weir_store_options){0};
    if (!o.max_tables)
        o.max_tables = WEIR_STORE_TABLES_DEFAULT;
    weir_store msg = {0}; /* for store_fail's messages: the file's name */
    *done = false;
    if ((size_t)snprintf(msg.file, sizeof msg.file, "%s/data.mdb", dir) >= sizeof msg.file)
        return weir_err_set(err, WEIR_EINVAL, "state store: directory name too long: %s", dir);
    if (store_open_here(msg.file))
        return WEIR_OK; /* this process reads or writes it: the lock below would not tell */
    int opening = -1;
    int rc = open_lock_file(dir, false, &opening, err);
    if (rc)
        return rc;
    if (flock(opening, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK)
            rc = weir_err_errno(err, errno, "state store %s: compacting: locking its opens", msg.file);
        close(opening);
        return rc; /* a process is opening it: it will have it open */
    }
    char lock[PATH_MAX + 16];
    snprintf(lock, sizeof lock, "%s/lock.mdb", dir);
    int fd = open(lock, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        rc = weir_err_errno(err, errno, "state store %s: compacting: its lock file", msg.file);
        close(opening);
        return rc;
    }
    struct flock only = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    if (fcntl(fd, F_SETLK, &only) != 0) {
        if (errno != EAGAIN && errno != EACCES)
            rc = weir_err_errno(err, errno, "state store %s: compacting: locking", msg.file);
    } else if (!store_open_here(msg.file)) { /* asked again: a thread of this process may have opened it since */
        rc = compact_locked(&msg, dir, &o, err);
        *done = rc == WEIR_OK;
    }
    close(fd);      /* drops the lock byte */
    close(opening); /* and then lets openers in */
    return rc;
}

int store_free_share(weir_store *s, double *share, uint64_t *file_bytes, weir_err *err)
{
    MDB_txn *r;
    MDB_cursor *c;
    MDB_envinfo info;
    MDB_stat st;
    MDB_val k, v;
    size_t free_pages = 0;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &r);
    if (rc)
        return store_fail(s, rc, "counting its free pages", err);
    if ((rc = mdb_env_info(s->env, &info)) == 0 && (rc = mdb_env_stat(s->env, &st)) == 0 &&
        (rc = mdb_cursor_open(r, 0, &c)) == 0) { /* LMDB's free list: per transaction, a count then page numbers */
        while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
            size_t n;
            memcpy(&n, v.mv_data, sizeof n);
            free_pages += n;
        }
        mdb_cursor_close(c);
    }
    mdb_txn_abort(r);
    if (rc != MDB_NOTFOUND)
        return store_fail(s, rc, "counting its free pages", err);
    size_t pages = info.me_last_pgno + 1;
    *share = (double)free_pages / (double)pages;
    *file_bytes = (uint64_t)pages * st.ms_psize;
    return WEIR_OK;
}
