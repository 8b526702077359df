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
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

int weir_group_committed_ms(weir_log *log, const char *group, const char *stream, int64_t *ms, weir_err *err)
{
    char path[PATH_MAX];
    struct stat st;
    int rc = group_path(log, group, stream, path, sizeof path, false, err);
    if (rc)
        return rc;
    if (stat(path, &st) != 0)
        return weir_err_errno(err, errno, "stat %s", path);
    *ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000; /* each commit replaces the file */
    return WEIR_OK;
}

/* DIR/groups/<group>/<stream>.offsets: "group/stream". */
static int add_offsets(void *ctx, const char *dir, const char *name, weir_err *err)
{
    size_t len = strlen(name);
    if (len <= 8 || strcmp(name + len - 8, ".offsets"))
        return WEIR_OK;
    char entry[600];
    snprintf(entry, sizeof entry, "%s/%.*s", strrchr(dir, '/') + 1, (int)(len - 8), name);
    return weir_log_names_add(ctx, entry, err);
}

static int add_group(void *ctx, const char *dir, const char *name, weir_err *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return weir_log_each_entry(path, add_offsets, ctx, err);
}

int weir_group_list(weir_log *log, char ***names, size_t *n, weir_err *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/groups", log->dir);
    weir_log_names l = {0};
    return weir_log_names_take(&l, weir_log_each_entry(path, add_group, &l, err), names, n);
}
