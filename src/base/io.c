/*
 * io.c - the POSIX weir_io and the durable-file helpers built on it.
 */
#include "base/io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int posix_open(const char *path, int flags, mode_t mode) { return open(path, flags | O_CLOEXEC, mode); }

static int posix_write_behind(int fd, off_t off, off_t len, bool wait)
{
    unsigned flags = SYNC_FILE_RANGE_WRITE;
    if (wait)
        flags |= SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WAIT_AFTER;
    return sync_file_range(fd, off, len, flags);
}

const weir_io weir_io_posix = {
    .open = posix_open,
    .close = close,
    .write = write,
    .pread = pread,
    .fdatasync = fdatasync,
    .fsync = fsync,
    .ftruncate = ftruncate,
    .rename = rename,
    .unlink = unlink,
    .write_behind = posix_write_behind,
    .concurrent_sync = true,
};

int weir_io_write_all(const weir_io *io, int fd, const void *p, size_t n,
                      const char *path, weir_err *err)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = io->write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return weir_err_errno(err, errno, "write %s", path);
        }
        if (w == 0)
            return weir_err_set(err, WEIR_EIO, "write %s: wrote nothing", path);
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads exactly n bytes at off; a short read (end of file) is WEIR_ECORRUPT. */
static int pread_all(const weir_io *io, int fd, void *p, size_t n, off_t off, const char *path, weir_err *err)
{
    char *c = p;
    while (n > 0) {
        ssize_t r = io->pread(fd, c, n, off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return weir_err_errno(err, errno, "read %s at %lld", path, (long long)off);
        }
        if (r == 0)
            return weir_err_set(err, WEIR_ECORRUPT, "read %s at %lld: unexpected end of file",
                                path, (long long)off);
        c += r;
        off += r;
        n -= (size_t)r;
    }
    return 0;
}

int weir_io_sync_dir(const weir_io *io, const char *dir, weir_err *err)
{
    int fd = io->open(dir, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0)
        return weir_err_errno(err, errno, "open directory %s", dir);
    int rc = 0;
    if (io->fsync(fd) != 0)
        rc = weir_err_errno(err, errno, "fsync directory %s", dir);
    io->close(fd);
    return rc;
}

static void dir_of(const char *path, char *dir, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, cap, ".");
    else if (slash == path)
        snprintf(dir, cap, "/");
    else
        snprintf(dir, cap, "%.*s", (int)(slash - path), path);
}

/* Writes n bytes from the start of a new file a chunk at a time: once a
 * chunk is written it is sent to the device, and the one before it waited
 * for, so that at most two chunks are dirty at once (RocksDB's
 * bytes_per_sync). Without io->write_behind, one write. */
static int write_behind_all(const weir_io *io, int fd, const void *data, size_t n,
                            const char *path, weir_err *err)
{
    if (!io->write_behind)
        return weir_io_write_all(io, fd, data, n, path, err);
    const char *c = data;
    for (size_t off = 0; off < n; off += WEIR_IO_WRITE_BEHIND) {
        size_t len = n - off < WEIR_IO_WRITE_BEHIND ? n - off : WEIR_IO_WRITE_BEHIND;
        int rc = weir_io_write_all(io, fd, c + off, len, path, err);
        if (rc)
            return rc;
        if (io->write_behind(fd, (off_t)off, (off_t)len, false) != 0)
            return weir_err_errno(err, errno, "write back %s", path);
        if (off > 0 && io->write_behind(fd, (off_t)(off - WEIR_IO_WRITE_BEHIND), WEIR_IO_WRITE_BEHIND, true) != 0)
            return weir_err_errno(err, errno, "write back %s", path);
    }
    return 0;
}

int weir_io_write_file_atomic(const weir_io *io, const char *path,
                              const void *data, size_t n, weir_err *err)
{
    return weir_io_write_file_atomic_then(io, path, data, n, NULL, NULL, err);
}

int weir_io_write_file_atomic_then(const weir_io *io, const char *path, const void *data, size_t n,
                                   int (*before_rename)(void *ctx, weir_err *err), void *ctx, weir_err *err)
{
    char tmp[PATH_MAX], dir[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return weir_err_set(err, WEIR_EINVAL, "path too long: %s", path);
    int fd = io->open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return weir_err_errno(err, errno, "create %s", tmp);
    int rc = write_behind_all(io, fd, data, n, tmp, err);
    if (rc == 0 && io->fsync(fd) != 0)
        rc = weir_err_errno(err, errno, "fsync %s", tmp);
    if (io->close(fd) != 0 && rc == 0)
        rc = weir_err_errno(err, errno, "close %s", tmp);
    if (rc == 0 && before_rename)
        rc = before_rename(ctx, err);
    if (rc == 0 && io->rename(tmp, path) != 0)
        rc = weir_err_errno(err, errno, "rename %s to %s", tmp, path);
    if (rc != 0) {
        io->unlink(tmp); /* best effort: the old file is intact either way */
        return rc;
    }
    dir_of(path, dir, sizeof dir);
    return weir_io_sync_dir(io, dir, err);
}

int weir_io_read_file(const weir_io *io, const char *path, char **out,
                      size_t *len, weir_err *err)
{
    *out = NULL;
    int fd = io->open(path, O_RDONLY, 0);
    if (fd < 0)
        return weir_err_errno(err, errno, "open %s", path);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        io->close(fd);
        return weir_err_errno(err, e, "stat %s", path);
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        io->close(fd);
        return weir_err_set(err, WEIR_ENOMEM, "reading %s: out of memory", path);
    }
    int rc = pread_all(io, fd, buf, (size_t)st.st_size, 0, path, err);
    io->close(fd);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[st.st_size] = '\0';
    *out = buf;
    if (len)
        *len = (size_t)st.st_size;
    return 0;
}

int weir_mkdirs(const char *path, weir_err *err)
{
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p)
        return weir_err_set(err, WEIR_EINVAL, "path too long: %s", path);
    for (char *s = p + 1; ; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0755) != 0 && errno != EEXIST)
                return weir_err_errno(err, errno, "mkdir %s", p);
            *s = c;
            if (c == '\0')
                break;
        }
    }
    return 0;
}

int weir_remove_tree(const char *path, weir_err *err)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : weir_err_errno(err, errno, "stat %s", path);
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d)
            return weir_err_errno(err, errno, "open directory %s", path);
        struct dirent *e;
        int rc = 0;
        while (rc == 0 && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char child[PATH_MAX];
            if (snprintf(child, sizeof child, "%s/%s", path, e->d_name) >= (int)sizeof child)
                rc = weir_err_set(err, WEIR_EINVAL, "path too long under %s", path);
            else
                rc = weir_remove_tree(child, err);
        }
        closedir(d);
        if (rc)
            return rc;
        if (rmdir(path) != 0)
            return weir_err_errno(err, errno, "remove directory %s", path);
        return 0;
    }
    if (unlink(path) != 0 && errno != ENOENT)
        return weir_err_errno(err, errno, "delete %s", path);
    return 0;
}
