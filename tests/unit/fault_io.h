/*
 * fault_io.h - a weir_io for tests that fails on cue, in the manner of
 * SQLite's test6.c crash simulation:
 *
 * - fail the N-th write (half of it is written first, then ENOSPC),
 * - fail the N-th fdatasync with EIO,
 * - cut the power at the N-th fdatasync: every segment file loses a random
 *   part of what was written since its last fdatasync (and may get a flipped
 *   byte in what survives of it), and every later call fails, as if the
 *   process had died. The test then reopens with the real weir_io_posix.
 * - kill the process (kill -9) at the N-th write: a random prefix of that
 *   write reaches the file, everything written before stays (it is in the
 *   page cache), and every later call fails.
 * - fail the N-th fsync (of a file or a directory: the checkpoints', the
 *   stream configs', the indexes') with EIO, or cut the power there.
 *
 * A power cut also undoes, each with even odds, the renames whose
 * directory was not fsynced since (their target gets its old content
 * back, or disappears if it had none): a checkpoint is durable only once
 * weir_io_write_file_atomic has synced its directory.
 *
 * - fail every fdatasync of a segment whose path contains a string (one
 *   partition's, say), whichever thread makes it.
 *
 * Syncs are counted but not performed: the simulated power cut decides what
 * "reached the disk". Every call holds one lock, so the log may sync its
 * partitions from several threads (concurrent_sync), as on weir_io_posix;
 * the threads that called fdatasync since the last fault_reset are noted.
 */
#ifndef WEIR_TEST_FAULT_IO_H
#define WEIR_TEST_FAULT_IO_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/io.h"

static struct fault_state {
    int fail_write_at, fail_sync_at, crash_at_sync, kill_at_write; /* 1-based call numbers; 0 = never */
    int fail_fsync_at, crash_at_fsync;                            /* the same, counting fsyncs */
    const char *fail_sync_path;                                   /* fail the fdatasyncs of files whose path contains it */
    int writes, syncs, fsyncs;
    pthread_t sync_threads[16];                                   /* the distinct threads that called fdatasync */
    int nsync_threads;
    int fail_next_write;
    int crashed;
    uint64_t rng;
    struct { int fd; off_t synced; char path[PATH_MAX]; } files[256];
    int nfiles;
    struct { int fd; char path[PATH_MAX]; } dirs[8]; /* open directories, to know which one an fsync settles */
    int ndirs;
    struct { char to[PATH_MAX]; char *old; size_t old_len; bool had_old; } renames[32]; /* not yet durable */
    int nrenames;
} F;

/* Forgets the renames waiting for their directory's fsync (they stay). */
static void fault_settle_renames(const char *dir)
{
    for (int i = 0; i < F.nrenames;) {
        size_t n = dir ? strlen(dir) : 0;
        if (!dir || (!strncmp(F.renames[i].to, dir, n) && F.renames[i].to[n] == '/' && !strchr(F.renames[i].to + n + 1, '/'))) {
            free(F.renames[i].old);
            F.renames[i] = F.renames[--F.nrenames];
        } else {
            i++;
        }
    }
}

static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;

static void fault_reset(uint64_t seed)
{
    fault_settle_renames(NULL);
    memset(&F, 0, sizeof F);
    F.rng = seed * 2654435761u + 1;
}

static uint64_t fault_rand(void)
{
    F.rng ^= F.rng << 13;
    F.rng ^= F.rng >> 7;
    F.rng ^= F.rng << 17;
    return F.rng;
}

static int fault_find(int fd)
{
    for (int i = 0; i < F.nfiles; i++)
        if (F.files[i].fd == fd)
            return i;
    return -1;
}

static int f_open_locked(const char *path, int flags, mode_t mode)
{
    if (F.crashed)
        return errno = EIO, -1;
    int fd = open(path, flags | O_CLOEXEC, mode);
    size_t n = strlen(path);
    if (fd >= 0 && (flags & O_DIRECTORY) && F.ndirs < 8 && n < PATH_MAX) {
        F.dirs[F.ndirs].fd = fd;
        memcpy(F.dirs[F.ndirs++].path, path, n + 1);
    }
    if (fd >= 0 && n > 4 && !strcmp(path + n - 4, ".log") && (flags & O_ACCMODE) != O_RDONLY && F.nfiles < 256) {
        struct stat st;
        fstat(fd, &st);
        F.files[F.nfiles].fd = fd;
        snprintf(F.files[F.nfiles].path, PATH_MAX, "%s", path);
        F.files[F.nfiles++].synced = st.st_size; /* what was there before counts as durable */
    }
    return fd;
}

static int f_close_locked(int fd)
{
    int i = fault_find(fd);
    if (i >= 0)
        F.files[i] = F.files[--F.nfiles];
    for (int d = 0; d < F.ndirs; d++)
        if (F.dirs[d].fd == fd)
            F.dirs[d--] = F.dirs[--F.ndirs];
    return close(fd);
}

static ssize_t f_write_locked(int fd, const void *p, size_t n)
{
    if (F.crashed)
        return errno = EIO, -1;
    if (F.fail_next_write) {
        F.fail_next_write = 0;
        return errno = ENOSPC, -1;
    }
    if (++F.writes == F.kill_at_write) {
        F.crashed = 1;
        fault_settle_renames(NULL); /* the kernel keeps them: only the process died */
        size_t part = (size_t)(fault_rand() % (n + 1));
        if (part && write(fd, p, part) < 0)
            return -1;
        return errno = EIO, -1;
    }
    if (F.writes == F.fail_write_at) {
        if (n < 2)
            return errno = ENOSPC, -1;
        F.fail_next_write = 1;
        n /= 2;
    }
    return write(fd, p, n);
}

static void power_cut(void)
{
    for (int i = 0; i < F.nfiles; i++) {
        struct stat st;
        fstat(F.files[i].fd, &st);
        off_t synced = F.files[i].synced;
        if (st.st_size <= synced)
            continue;
        off_t keep = synced + (off_t)(fault_rand() % (uint64_t)(st.st_size - synced + 1));
        if (ftruncate(F.files[i].fd, keep) != 0)
            continue;
        if (keep > synced && fault_rand() % 2) {
            off_t at = synced + (off_t)(fault_rand() % (uint64_t)(keep - synced));
            unsigned char c;
            if (pread(F.files[i].fd, &c, 1, at) == 1) {
                c ^= (unsigned char)(1u << (fault_rand() % 8));
                if (pwrite(F.files[i].fd, &c, 1, at) != 1)
                    continue;
            }
        }
    }
    for (int i = 0; i < F.nrenames; i++) {
        if (fault_rand() % 2 == 0)
            continue;
        if (!F.renames[i].had_old) {
            unlink(F.renames[i].to);
            continue;
        }
        int fd = open(F.renames[i].to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0 && write(fd, F.renames[i].old, F.renames[i].old_len) < 0)
            unlink(F.renames[i].to);
        if (fd >= 0)
            close(fd);
    }
    fault_settle_renames(NULL);
    F.crashed = 1;
}

static int f_fdatasync_locked(int fd)
{
    if (F.crashed)
        return errno = EIO, -1;
    F.syncs++;
    bool seen = false;
    for (int t = 0; t < F.nsync_threads; t++)
        seen |= pthread_equal(F.sync_threads[t], pthread_self()) != 0;
    if (!seen && F.nsync_threads < 16)
        F.sync_threads[F.nsync_threads++] = pthread_self();
    int i = fault_find(fd);
    if (F.syncs == F.fail_sync_at || (F.fail_sync_path && i >= 0 && strstr(F.files[i].path, F.fail_sync_path)))
        return errno = EIO, -1;
    if (F.syncs == F.crash_at_sync) {
        power_cut();
        return errno = EIO, -1;
    }
    if (i >= 0) {
        struct stat st;
        fstat(fd, &st);
        F.files[i].synced = st.st_size;
    }
    return 0;
}

static int f_fsync_locked(int fd)
{
    if (F.crashed)
        return errno = EIO, -1;
    F.fsyncs++;
    if (F.fsyncs == F.fail_fsync_at)
        return errno = EIO, -1;
    if (F.fsyncs == F.crash_at_fsync) {
        power_cut();
        return errno = EIO, -1;
    }
    for (int d = 0; d < F.ndirs; d++)
        if (F.dirs[d].fd == fd)
            fault_settle_renames(F.dirs[d].path);
    return 0;
}

static int f_ftruncate_locked(int fd, off_t len)
{
    if (F.crashed)
        return errno = EIO, -1;
    int i = fault_find(fd);
    if (i >= 0 && F.files[i].synced > len)
        F.files[i].synced = len;
    return ftruncate(fd, len);
}

/* Keeps b's content from before the first rename over it since its
 * directory's last fsync: a power cut may bring it back. */
static int f_rename_locked(const char *a, const char *b)
{
    if (F.crashed)
        return errno = EIO, -1;
    bool pending = false;
    for (int i = 0; i < F.nrenames; i++)
        pending |= !strcmp(F.renames[i].to, b);
    if (!pending && F.nrenames < 32 && strlen(b) < PATH_MAX) {
        int i = F.nrenames;
        struct stat st;
        int fd = open(b, O_RDONLY | O_CLOEXEC);
        F.renames[i].had_old = fd >= 0 && fstat(fd, &st) == 0;
        F.renames[i].old_len = F.renames[i].had_old ? (size_t)st.st_size : 0;
        F.renames[i].old = F.renames[i].had_old ? malloc(F.renames[i].old_len + 1) : NULL;
        if (F.renames[i].had_old && (!F.renames[i].old ||
                                     pread(fd, F.renames[i].old, F.renames[i].old_len, 0) != (ssize_t)F.renames[i].old_len)) {
            free(F.renames[i].old);
            F.renames[i].old = NULL;
            F.renames[i].had_old = false;
            i = -1; /* could not keep it: treat this rename as durable */
        }
        if (fd >= 0)
            close(fd);
        if (i >= 0) {
            strcpy(F.renames[i].to, b);
            F.nrenames++;
        }
    }
    return rename(a, b);
}
static int f_unlink_locked(const char *p) { return F.crashed ? (errno = EIO, -1) : unlink(p); }

/* Each call under the lock; errno is the call's. */
#define FAULT_LOCKED(type, call)                 \
    do {                                         \
        pthread_mutex_lock(&fault_lock);         \
        type rv_ = call;                         \
        int errno_ = errno;                      \
        pthread_mutex_unlock(&fault_lock);       \
        errno = errno_;                          \
        return rv_;                              \
    } while (0)

static int f_open(const char *path, int flags, mode_t mode) { FAULT_LOCKED(int, f_open_locked(path, flags, mode)); }
static int f_close(int fd) { FAULT_LOCKED(int, f_close_locked(fd)); }
static ssize_t f_write(int fd, const void *p, size_t n) { FAULT_LOCKED(ssize_t, f_write_locked(fd, p, n)); }
static int f_fdatasync(int fd) { FAULT_LOCKED(int, f_fdatasync_locked(fd)); }
static int f_fsync(int fd) { FAULT_LOCKED(int, f_fsync_locked(fd)); }
static int f_ftruncate(int fd, off_t len) { FAULT_LOCKED(int, f_ftruncate_locked(fd, len)); }
static int f_rename(const char *a, const char *b) { FAULT_LOCKED(int, f_rename_locked(a, b)); }
static int f_unlink(const char *p) { FAULT_LOCKED(int, f_unlink_locked(p)); }

static const weir_io fault_io = {
    .open = f_open, .close = f_close, .write = f_write, .pread = pread, .fdatasync = f_fdatasync,
    .fsync = f_fsync, .ftruncate = f_ftruncate, .rename = f_rename, .unlink = f_unlink, .concurrent_sync = true,
};

#endif
