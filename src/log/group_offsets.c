/*
 * group_offsets.c - consumer-group offsets (not GROUP BY state, which is
 * state/groups.c): where each group has read each partition of a stream
 * to. One small text file per (group, stream), replaced atomically on every
 * commit and closed by a CRC32C line, so a torn or edited file is noticed
 * instead of silently rewinding a consumer.
 *
 *   weir-offsets 1 <partitions>
 *   <partition> <offset>        one line per partition
 *   crc <8 hex digits>          over all the lines above
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crc32c.h"
#include "log/log_internal.h"

static int group_path(weir_log *log, const char *group, const char *stream, char *path,
                      size_t cap, bool make_dir, weir_err *err)
{
    if (!weir_name_valid(group))
        return weir_err_set(err, WEIR_EINVAL, "invalid group name '%s' (use letters, digits, '.', '_', '-')", group);
    if (!weir_name_valid(stream))
        return weir_err_set(err, WEIR_EINVAL, "invalid stream name '%s'", stream);
    snprintf(path, cap, "%s/groups/%s", log->dir, group);
    if (make_dir) {
        int rc = weir_mkdirs(path, err);
        if (rc)
            return rc;
    }
    snprintf(path, cap, "%s/groups/%s/%s.offsets", log->dir, group, stream);
    return WEIR_OK;
}

int weir_group_commit(weir_log *log, const char *group, const char *stream,
                      const uint64_t *offsets, uint32_t partitions, weir_err *err)
{
    char path[PATH_MAX];
    int rc = group_path(log, group, stream, path, sizeof path, true, err);
    if (rc)
        return rc;
    weir_buf b = {0};
    rc = weir_buf_printf(&b, "weir-offsets 1 %u\n", partitions);
    for (uint32_t p = 0; p < partitions && rc == WEIR_OK; p++)
        rc = weir_buf_printf(&b, "%u %" PRIu64 "\n", p, offsets[p]);
    if (rc == WEIR_OK)
        rc = weir_buf_printf(&b, "crc %08x\n", weir_crc32c(0, b.data, b.len));
    if (rc == WEIR_OK)
        rc = weir_io_write_file_atomic(log->io, path, b.data, b.len, err);
    else
        weir_err_set(err, rc, "committing offsets: out of memory");
    weir_buf_free(&b);
    return rc;
}

int weir_group_load(weir_log *log, const char *group, const char *stream,
                    uint64_t *offsets, uint32_t partitions, weir_err *err)
{
    memset(offsets, 0, partitions * sizeof *offsets);
    char path[PATH_MAX], *text;
    size_t len;
    int rc = group_path(log, group, stream, path, sizeof path, false, err);
    if (rc)
        return rc;
    rc = weir_io_read_file(log->io, path, &text, &len, err);
    if (rc == WEIR_ENOENT)
        return WEIR_OK; /* never committed: start at the beginning */
    if (rc)
        return rc;
    char *crc_line = strstr(text, "crc ");
    unsigned stored, n;
    if (!crc_line || (crc_line != text && crc_line[-1] != '\n') || sscanf(crc_line, "crc %8x", &stored) != 1 ||
        stored != weir_crc32c(0, text, (size_t)(crc_line - text)) ||
        sscanf(text, "weir-offsets 1 %u", &n) != 1) {
        free(text);
        return weir_err_set(err, WEIR_ECORRUPT, "%s: damaged offsets file (bad header or CRC)", path);
    }
    const char *line = strchr(text, '\n') + 1;
    for (unsigned i = 0; i < n && line < crc_line; i++) {
        unsigned p;
        uint64_t off;
        if (sscanf(line, "%u %" SCNu64, &p, &off) != 2) {
            free(text);
            return weir_err_set(err, WEIR_ECORRUPT, "%s: bad line %u", path, i + 2);
        }
        if (p < partitions)
            offsets[p] = off;
        line = strchr(line, '\n') + 1;
    }
    free(text);
    return WEIR_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends "group/stream" for every DIR/groups/<group>/<stream>.offsets of one group. */
static int list_group(const char *dir, const char *group, char ***v, size_t *n, size_t *cap, weir_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT || errno == ENOTDIR ? WEIR_OK : weir_err_errno(err, errno, "open directory %s", dir);
    int rc = WEIR_OK;
    struct dirent *e;
    while (rc == WEIR_OK && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len <= 8 || strcmp(e->d_name + len - 8, ".offsets"))
            continue;
        if (*n == *cap) {
            char **grown = weir_array_grow(*v, cap, sizeof *grown, 16);
            if (!grown) {
                rc = weir_err_set(err, WEIR_ENOMEM, "listing consumer groups: out of memory");
                break;
            }
            *v = grown;
        }
        char name[600];
        snprintf(name, sizeof name, "%s/%.*s", group, (int)(len - 8), e->d_name);
        if (!((*v)[*n] = strdup(name)))
            rc = weir_err_set(err, WEIR_ENOMEM, "listing consumer groups: out of memory");
        else
            (*n)++;
    }
    closedir(d);
    return rc;
}

int weir_group_list(weir_log *log, char ***names, size_t *n, weir_err *err)
{
    *names = NULL;
    *n = 0;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/groups", log->dir);
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT ? WEIR_OK : weir_err_errno(err, errno, "open directory %s", path);
    char **v = NULL;
    size_t cap = 0;
    int rc = WEIR_OK;
    struct dirent *e;
    while (rc == WEIR_OK && (e = readdir(d))) {
        char dir[PATH_MAX];
        if (!weir_name_valid(e->d_name))
            continue;
        snprintf(dir, sizeof dir, "%s/%s", path, e->d_name);
        rc = list_group(dir, e->d_name, &v, n, &cap, err);
    }
    closedir(d);
    if (rc) {
        weir_names_free(v, *n);
        *n = 0;
        return rc;
    }
    if (*n > 1)
        qsort(v, *n, sizeof *v, by_name);
    *names = v;
    return WEIR_OK;
}
