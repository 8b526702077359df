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
 *
 * Syncs are counted but not performed: the simulated power cut decides what
 * "reached the disk".
 */
#ifndef WEIR_TEST_FAULT_IO_H
#define WEIR_TEST_FAULT_IO_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/io.h"

static struct fault_state {
    int fail_write_at, fail_sync_at, crash_at_sync, kill_at_write; /* 1-based call numbers; 0 = never */
    int writes, syncs;
    int fail_next_write;
    int crashed;
    uint64_t rng;
    struct { int fd; off_t synced; } files[256];
    int nfiles;
} F;

static void fault_reset(uint64_t seed)
{
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

static int f_open(const char *path, int flags, mode_t mode)
{
    if (F.crashed)
        return errno = EIO, -1;
    int fd = open(path, flags | O_CLOEXEC, mode);
    size_t n = strlen(path);
    if (fd >= 0 && n > 4 && !strcmp(path + n - 4, ".log") && (flags & O_ACCMODE) != O_RDONLY && F.nfiles < 256) {
        struct stat st;
        fstat(fd, &st);
        F.files[F.nfiles].fd = fd;
        F.files[F.nfiles++].synced = st.st_size; /* what was there before counts as durable */
    }
    return fd;
}

static int f_close(int fd)
{
    int i = fault_find(fd);
    if (i >= 0)
        F.files[i] = F.files[--F.nfiles];
    return close(fd);
}

static ssize_t f_write(int fd, const void *p, size_t n)
{
    if (F.crashed)
        return errno = EIO, -1;
    if (F.fail_next_write) {
        F.fail_next_write = 0;
        return errno = ENOSPC, -1;
    }
    if (++F.writes == F.kill_at_write) {
        F.crashed = 1;
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
    F.crashed = 1;
}

static int f_fdatasync(int fd)
{
    if (F.crashed)
        return errno = EIO, -1;
    F.syncs++;
    if (F.syncs == F.fail_sync_at)
        return errno = EIO, -1;
    if (F.syncs == F.crash_at_sync) {
        power_cut();
        return errno = EIO, -1;
    }
    int i = fault_find(fd);
    if (i >= 0) {
        struct stat st;
        fstat(fd, &st);
        F.files[i].synced = st.st_size;
    }
    return 0;
}

static int f_fsync(int fd) { (void)fd; return F.crashed ? (errno = EIO, -1) : 0; }

static int f_ftruncate(int fd, off_t len)
{
    if (F.crashed)
        return errno = EIO, -1;
    int i = fault_find(fd);
    if (i >= 0 && F.files[i].synced > len)
        F.files[i].synced = len;
    return ftruncate(fd, len);
}

static int f_rename(const char *a, const char *b) { return F.crashed ? (errno = EIO, -1) : rename(a, b); }
static int f_unlink(const char *p) { return F.crashed ? (errno = EIO, -1) : unlink(p); }

static const weir_io fault_io = {
    .open = f_open, .close = f_close, .write = f_write, .pread = pread, .fdatasync = f_fdatasync,
    .fsync = f_fsync, .ftruncate = f_ftruncate, .rename = f_rename, .unlink = f_unlink,
};

#endif
