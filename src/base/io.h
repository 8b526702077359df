/*
 * io.h - the file operations the log and checkpoints use, behind a vtable.
 *
 * Everything durable in weir goes through a weir_io so that tests can put a
 * faulty layer underneath (fail the N-th write with ENOSPC, fail an fsync,
 * drop unsynced bytes as a power cut would) and check that recovery keeps
 * every acknowledged record. Production uses weir_io_posix.
 *
 * The helpers below add the one durable-file mechanism weir has:
 * write to "<path>.tmp", fsync, rename over <path>, fsync the directory.
 */
#ifndef WEIR_IO_H
#define WEIR_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/err.h"

typedef struct weir_io {
    int (*open)(const char *path, int flags, mode_t mode);
    int (*close)(int fd);
    ssize_t (*write)(int fd, const void *p, size_t n);
    ssize_t (*pread)(int fd, void *p, size_t n, off_t off);
    int (*fdatasync)(int fd);
    int (*fsync)(int fd);
    int (*ftruncate)(int fd, off_t len);
    int (*rename)(const char *from, const char *to);
    int (*unlink)(const char *path);
    /* Optional (NULL: none): starts writing [off, off + len) back to the
     * device and, with wait, waits until it is. Not a durability promise
     * (no metadata, no device flush: fsync still is); it keeps a large
     * file's dirty pages few, so that its final fsync, and every other
     * file's fsync that the filesystem's journal orders behind it, flushes
     * megabytes instead of the whole file. */
    int (*write_behind)(int fd, off_t off, off_t len, bool wait);
    /* fdatasync may run on several threads at once: a commit then syncs
     * its partitions in parallel (log.c), one device flush instead of one
     * per partition. A layer that is not thread-safe leaves it false. */
    bool concurrent_sync;
} weir_io;

extern const weir_io weir_io_posix;

/* How much of a file weir_io_write_file_atomic leaves dirty at most. */
#define WEIR_IO_WRITE_BEHIND ((size_t)8 << 20)

/* Writes all n bytes (retrying short writes and EINTR). */
int weir_io_write_all(const weir_io *io, int fd, const void *p, size_t n,
                      const char *path, weir_err *err);

/* fsyncs a directory so that a create, rename or unlink in it is durable. */
int weir_io_sync_dir(const weir_io *io, const char *dir, weir_err *err);

/* Replaces path with data atomically and durably (tmp + fsync + rename +
 * fsync of the directory). Readers see the old or the new file, never a mix.
 * A large file is written WEIR_IO_WRITE_BEHIND bytes at a time, each chunk
 * sent to the device as the next is written (io->write_behind). */
int weir_io_write_file_atomic(const weir_io *io, const char *path,
                              const void *data, size_t n, weir_err *err);

/* As weir_io_write_file_atomic, with before_rename(ctx, err) called once
 * the new file is durable under its temporary name, before it replaces
 * path: what must be durable before the file (a checkpoint's state store
 * commit), with the least time between the two. A failure there leaves
 * path as it was. */
int weir_io_write_file_atomic_then(const weir_io *io, const char *path, const void *data, size_t n,
                                   int (*before_rename)(void *ctx, weir_err *err), void *ctx, weir_err *err);

/* Reads a whole (small) file into a malloc'd NUL-terminated buffer; caller
 * frees *out. WEIR_ENOENT if it does not exist. */
int weir_io_read_file(const weir_io *io, const char *path, char **out,
                      size_t *len, weir_err *err);

/* rm -rf: removes path and everything under it; a missing path is fine. */
int weir_remove_tree(const char *path, weir_err *err);

/* mkdir -p with mode 0755; an existing directory is fine. */
int weir_mkdirs(const char *path, weir_err *err);

#endif
